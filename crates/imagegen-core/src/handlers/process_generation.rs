//! `POST /functions/v1/process-generation` `{"generation_id": "<uuid>"}` (service role only): runs the
//! generation's Replicate prediction — the same code the worker's generate-image job runs — and answers
//! the outputs and timings. It does not store the images; the worker's download-image job does.

use super::{request_id, verify_service};
use crate::config::AppContext;
use crate::db::generation as db;
use crate::error::ApiError;
use crate::generation::{run_prediction, Deadlines, RunError};
use crate::handlers::start_generation::database_error;
use crate::http::{RequestHead, Response};
use crate::log::RequestLog;
use crate::ports::{BodyError, HttpClient, Platform, RequestBody, Rpc, Timer};
use crate::replicate::client::Replicate;
use uuid::Uuid;

/// Function name, as deployed and as logged.
pub const NAME: &str = "process-generation";

/// Handles one request; every error becomes a JSON answer and a log line.
pub async fn handle<S: Platform + Rpc + HttpClient + Timer, B: RequestBody>(
    ctx: &AppContext,
    host: &S,
    head: &RequestHead,
    body: B,
) -> Response {
    let started = host.monotonic_ms();
    let id = request_id(head, host);
    let mut log = RequestLog::new(NAME, id.clone(), &head.method);
    let response = match head.method.as_str() {
        "OPTIONS" => Ok(Response::preflight()),
        "POST" => run(ctx, host, head, body, &mut log).await,
        _ => Err(ApiError::new(
            405,
            "method_not_allowed",
            "use POST with {\"generation_id\": ...}",
        )),
    };
    let response = response.unwrap_or_else(|e| {
        log.code = Some(e.code);
        let r = Response::error(&e);
        match e.status {
            503 => r.with_header("retry-after", "5"),
            _ => r,
        }
    });
    host.log(&log.finish(response.status, host.monotonic_ms() - started));
    response.with_header("x-request-id", id)
}

async fn run<S: Platform + Rpc + HttpClient + Timer, B: RequestBody>(
    ctx: &AppContext,
    host: &S,
    head: &RequestHead,
    body: B,
    log: &mut RequestLog,
) -> Result<Response, ApiError> {
    let now = host.now_ms();
    verify_service(head, ctx, now)?;
    let api = ctx.config.replicate.as_ref().ok_or_else(|| {
        ApiError::new(
            500,
            "misconfigured",
            "REPLICATE_API_TOKEN is not set for this function",
        )
    })?;
    let bytes = body.read_limited(16 * 1024).await.map_err(|e| match e {
        BodyError::TooLarge => {
            ApiError::invalid("body", "body_too_large", "the body is larger than 16 KiB")
        }
        BodyError::Read(why) => ApiError::invalid("body", "body_unreadable", why),
    })?;
    let generation_id = parse_generation_id(&bytes)?;
    log.generation_id = Some(generation_id);

    let generation = db::load(host, generation_id)
        .await
        .map_err(|e| {
            log.detail = Some(e.to_string());
            database_error(&e)
        })?
        .ok_or_else(|| {
            ApiError::new(
                404,
                "generation_not_found",
                format!("no generation {generation_id}"),
            )
        })?;
    log.user_id = Some(generation.user_id);
    if matches!(generation.status.as_str(), "completed" | "failed") {
        return Err(ApiError::new(
            409,
            "generation_finished",
            format!("the generation is already {}", generation.status),
        ));
    }

    let created_ms = parse_rfc3339_ms(&generation.created_at).unwrap_or(now);
    let deadlines = Deadlines {
        budget_ms: now + f64::from(ctx.config.function_budget_secs) * 1000.0,
        give_up_ms: created_ms + f64::from(ctx.config.generation_timeout_secs) * 1000.0,
    };
    let replicate = Replicate::new(api, host, host, host);
    // A generation marked processing may have had a create whose answer was lost: look for it first.
    let search_first = generation.status == "processing";
    match run_prediction(host, &replicate, &generation, search_first, deadlines).await {
        Ok(done) => {
            let p = &done.prediction;
            let body = serde_json::json!({
                "generation_id": generation_id,
                "prediction_id": done.prediction_id,
                "status": "succeeded",
                "model_id": generation.model_id,
                "outputs": done.outputs,
                "resumed": done.resumed,
                "timings": {
                    "created_at": p.created_at,
                    "started_at": p.started_at,
                    "completed_at": p.completed_at,
                    "predict_time": p.metrics.predict_time,
                    "total_time": p.metrics.total_time,
                },
            });
            Ok(Response::json(200, body.to_string()))
        }
        Err(RunError::StillRunning { message }) => {
            log.detail = Some(message.clone());
            let e = ApiError::new(503, "still_running", message);
            log.code = Some(e.code);
            Ok(Response::error(&e).with_header("retry-after", "1"))
        }
        Err(RunError::Retry {
            message,
            retry_in_secs,
        }) => {
            log.detail = Some(message.clone());
            let e = ApiError::new(503, "retry_later", message);
            let r = Response::error(&e)
                .with_header("retry-after", retry_in_secs.unwrap_or(5).to_string());
            log.code = Some(e.code);
            Ok(r)
        }
        Err(RunError::Fail { code, message }) => Err(ApiError::new(422, code, message)),
    }
}

fn parse_generation_id(bytes: &[u8]) -> Result<Uuid, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::invalid(
            "body",
            "invalid_json",
            format!("request body is not valid JSON: {e}"),
        )
    })?;
    let raw = value
        .get("generation_id")
        .and_then(|v| v.as_str())
        .ok_or_else(|| {
            ApiError::invalid(
                "generation_id",
                "generation_id_missing",
                "generation_id (a UUID string) is required",
            )
        })?;
    Uuid::parse_str(raw).map_err(|_| {
        ApiError::invalid(
            "generation_id",
            "invalid_generation_id",
            "generation_id must be a UUID",
        )
    })
}

/// Milliseconds since the epoch of a Postgres/RFC 3339 timestamp (`2026-11-28T23:02:37.427876+00:00`).
pub(crate) fn parse_rfc3339_ms(s: &str) -> Option<f64> {
    let (date, rest) = s.split_once('T').or_else(|| s.split_once(' '))?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (time, offset_secs) = split_offset(rest)?;
    let mut t = time.split(':');
    let (h, min) = (
        t.next()?.parse::<i64>().ok()?,
        t.next()?.parse::<i64>().ok()?,
    );
    let sec: f64 = t.next()?.parse().ok()?;
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y2, m2) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * m2 + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + min * 60 - offset_secs;
    Some((secs as f64 + sec) * 1000.0)
}

fn split_offset(rest: &str) -> Option<(&str, i64)> {
    if let Some(t) = rest.strip_suffix('Z') {
        return Some((t, 0));
    }
    let idx = rest.rfind(['+', '-'])?;
    let (time, off) = rest.split_at(idx);
    let sign = if off.starts_with('-') { -1 } else { 1 };
    let mut parts = off[1..].split(':');
    let hours: i64 = parts.next()?.parse().ok()?;
    let minutes: i64 = parts.next().map(|m| m.parse().ok()).unwrap_or(Some(0))?;
    Some((time, sign * (hours * 3600 + minutes * 60)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(
            parse_rfc3339_ms("2026-11-28T23:02:37.5+00:00"),
            Some(1_795_906_957_500.0)
        );
        assert_eq!(
            parse_rfc3339_ms("2026-11-29T01:02:37.5+02:00"),
            Some(1_795_906_957_500.0)
        );
        assert_eq!(parse_rfc3339_ms("nonsense"), None);
    }

    #[test]
    fn bodies_parse() {
        assert!(parse_generation_id(
            br#"{"generation_id":"0b0e8a4e-8d5e-4a55-a3b4-2c1f1f7d9c01"}"#
        )
        .is_ok());
        assert_eq!(
            parse_generation_id(b"{}").unwrap_err().code,
            "generation_id_missing"
        );
        assert_eq!(
            parse_generation_id(br#"{"generation_id":"x"}"#)
                .unwrap_err()
                .code,
            "invalid_generation_id"
        );
        assert_eq!(parse_generation_id(b"no").unwrap_err().code, "invalid_json");
    }
}
