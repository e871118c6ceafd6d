//! `POST /functions/v1/process-generation` `{"generation_id": "<uuid>"}` (service role only): runs the
//! generation's Replicate prediction — the same code the worker's generate-image job runs — and answers
//! the outputs and timings. It does not store the images; the worker's download-image job does.

use super::{request_id, verify_service};
use crate::config::AppContext;
use crate::db::generation as db;
use crate::error::ApiError;
use crate::generation::{run_prediction, Deadlines, RunError};
use crate::handlers::database_error;
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

    let budget_ms = now + f64::from(ctx.config.function_budget_secs) * 1000.0;
    let deadlines = Deadlines::for_generation(&ctx.config, &generation.created_at, now, budget_ms);
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

#[cfg(test)]
mod tests {
    use super::*;

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
