//! `POST /functions/v1/process-generation` (service role only), two forms:
//! - `{"generation_id": "<uuid>"}`: runs the generation's Replicate prediction — the same code the worker's
//!   generate-image job runs — and answers the outputs and timings. It does not store the images; the
//!   worker's download-image job does.
//! - the original standalone call, a generation request without a row (`{prompt, model_id, width, ...}`):
//!   runs one prediction for it.
//!
//! Both answer the original's fields `{success, output_url, format, width, height, error,
//! generation_time_seconds}` beside this project's; a failed generation is a 400 with `success: false`.

use super::{request_id, verify_service};
use crate::config::AppContext;
use crate::db::generation as db;
use crate::error::ApiError;
use crate::failure;
use crate::generation::{
    run_prediction, run_standalone, Deadlines, PredictionDone, PredictionWait, RunError,
};
use crate::handlers::database_error;
use crate::http::{RequestHead, Response};
use crate::image_input::{self, check_input_image, ProbeError};
use crate::log::RequestLog;
use crate::ports::{BodyError, HttpClient, Platform, RequestBody, Rpc, Timer};
use crate::replicate::client::Replicate;
use crate::request::RawRequest;
use crate::worker::Lifetime;
use uuid::Uuid;

/// The platform answers 504 to a request unanswered for 150 s; this leaves time to record the outcome.
const REQUEST_BUDGET_MS: f64 = 140_000.0;

/// Function name, as deployed and as logged.
pub const NAME: &str = "process-generation";

/// Handles one request; every error becomes a JSON answer and a log line.
pub async fn handle<S: Platform + Rpc + HttpClient + Timer, B: RequestBody>(
    ctx: &AppContext,
    host: &S,
    lifetime: &Lifetime,
    head: &RequestHead,
    body: B,
) -> Response {
    let started = host.monotonic_ms();
    let id = request_id(head, host);
    let mut log = RequestLog::new(NAME, id.clone(), &head.method);
    let response = match head.method.as_str() {
        "OPTIONS" => Ok(Response::preflight()),
        "POST" => run(ctx, host, lifetime, head, body, &mut log).await,
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
    lifetime: &Lifetime,
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
    let started = host.monotonic_ms();
    // Answered before the platform's 150 s request limit (a 504 after), and before the isolate ends.
    let budget_ms = (now + REQUEST_BUDGET_MS).min(lifetime.deadline_ms());
    let replicate = Replicate::new(api, host, host, host);
    let Some(generation_id) = generation_id_of(&bytes)? else {
        // The original standalone form: a request, no row.
        let raw = RawRequest::parse(&bytes)?;
        let (request, _) = super::start_generation::validate(host, &raw, log).await?;
        super::start_generation::check_image_url(ctx, &raw, &request)?;
        if let Some(url) = &request.image_url {
            check_input_image(host, &ctx.config.image_inputs, url.as_str())
                .await
                .map_err(|e| input_image_error(e, log))?;
        }
        let deadlines = Deadlines {
            budget_ms,
            give_up_ms: now + f64::from(ctx.config.generation_timeout_secs) * 1000.0,
        };
        return match run_standalone(&replicate, &request, deadlines).await {
            Ok(done) => {
                let size = (Some(request.width.get()), Some(request.height.get()));
                let mut body = original_answer(&done, size, started, host.monotonic_ms());
                body["model_id"] = request.model.id.into();
                body["adjusted"] = request.adjusted_json();
                Ok(Response::json(200, body.to_string()))
            }
            Err(e) => Err(failed(e, log)),
        };
    };
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

    let webhook_base = ctx.config.webhook_base.as_ref().ok_or_else(|| {
        ApiError::new(
            500,
            "misconfigured",
            "SUPABASE_URL (or REPLICATE_WEBHOOK_BASE_URL) is not set for this function",
        )
    })?;
    image_input::check_before_create(host, &ctx.config.image_inputs, &generation)
        .await
        .map_err(|e| input_image_error(e, log))?;
    let deadlines = Deadlines::for_generation(&ctx.config, &generation.created_at, now, budget_ms);
    // The caller waits for the answer: poll, whatever the worker's mode.
    let wait = PredictionWait::Poll;
    match run_prediction(host, &replicate, &generation, webhook_base, deadlines, wait).await {
        Ok(done) => {
            let p = &done.prediction;
            let size = (
                generation.params.get("width").and_then(|w| w.as_u64()),
                generation.params.get("height").and_then(|h| h.as_u64()),
            );
            let mut body = original_answer(&done, size, started, host.monotonic_ms());
            let own = serde_json::json!({
                "generation_id": generation_id,
                "prediction_id": done.prediction_id,
                "status": "succeeded",
                "model_id": generation.replicate_model,
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
            if let (Some(body), serde_json::Value::Object(own)) = (body.as_object_mut(), own) {
                body.extend(own);
            }
            Ok(Response::json(200, body.to_string()))
        }
        Err(RunError::StillRunning { message, .. }) => {
            log.detail = Some(message);
            let e = ApiError::new(
                503,
                "still_running",
                "The image is still being made; ask again shortly.",
            );
            log.code = Some(e.code);
            Ok(Response::error(&e).with_header("retry-after", "1"))
        }
        Err(e @ (RunError::Retry { .. } | RunError::Database(_))) => {
            let (class, retry_in_secs) = match &e {
                RunError::Retry { retry_in_secs, .. } => (failure::SERVICE_BUSY, *retry_in_secs),
                _ => (failure::DATABASE_ERROR, None),
            };
            log.detail = Some(e.to_string());
            let e = ApiError::new(503, "retry_later", failure::user_message(class));
            let r = Response::error(&e)
                .with_header("retry-after", retry_in_secs.unwrap_or(5).to_string());
            log.code = Some(e.code);
            Ok(r)
        }
        Err(e) => Err(failed(e, log)),
    }
}

/// The original's success fields: the first output as `output_url`, its format, the size asked for and
/// the wall time this call took.
fn original_answer(
    done: &PredictionDone,
    (width, height): (Option<impl Into<u64>>, Option<impl Into<u64>>),
    started_ms: f64,
    now_ms: f64,
) -> serde_json::Value {
    let url = done.outputs.first().map(String::as_str).unwrap_or_default();
    serde_json::json!({
        "success": true,
        "output_url": url,
        "format": output_format(url),
        "width": width.map(Into::into),
        "height": height.map(Into::into),
        "error": null,
        "generation_time_seconds": ((now_ms - started_ms) / 10.0).round() / 100.0,
        "prediction_id": done.prediction_id,
        "outputs": done.outputs,
    })
}

/// webp, png, jpeg or svg, from an output URL's extension or a data URI's type.
fn output_format(url: &str) -> Option<&'static str> {
    let ext = match url.strip_prefix("data:image/") {
        Some(rest) => rest.split([';', ',']).next().unwrap_or(""),
        None => url
            .split(['?', '#'])
            .next()
            .unwrap_or("")
            .rsplit('.')
            .next()
            .unwrap_or(""),
    };
    match ext.to_ascii_lowercase().as_str() {
        "webp" => Some("webp"),
        "png" => Some("png"),
        "jpg" | "jpeg" => Some("jpeg"),
        "svg" | "svg+xml" => Some("svg"),
        _ => None,
    }
}

/// An input image that failed its check: 400 `input_image_unusable` like a failed generation (no
/// prediction was created), or 503 to try again when its host could not answer.
fn input_image_error(e: ProbeError, log: &mut RequestLog) -> ApiError {
    match e {
        ProbeError::Unusable(message) => ApiError::new(400, "input_image_unusable", message),
        ProbeError::Unavailable(message) => {
            log.detail = Some(message);
            ApiError::new(
                503,
                "input_image_unavailable",
                "the input image's host could not be reached; try again shortly",
            )
        }
    }
}

/// A generation that failed (or could not run): the original answered 400 with its error, here the
/// user's sentence for its code; the detail goes to the log line.
fn failed(e: RunError, log: &mut RequestLog) -> ApiError {
    log.detail = Some(e.to_string());
    match e {
        RunError::Fail { code, .. } => ApiError::new(400, code, failure::user_message(code)),
        _ => ApiError::new(
            400,
            "generation_failed",
            failure::user_message(failure::SERVICE_BUSY),
        ),
    }
}

/// `generation_id` when the body names one (this project's form); `None` for the original standalone
/// request (a body with a `prompt` and no `generation_id`).
fn generation_id_of(bytes: &[u8]) -> Result<Option<Uuid>, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::invalid(
            "body",
            "invalid_json",
            format!("request body is not valid JSON: {e}"),
        )
    })?;
    let raw = match value.get("generation_id") {
        None | Some(serde_json::Value::Null) if value.get("prompt").is_some() => return Ok(None),
        id => id.and_then(|v| v.as_str()).ok_or_else(|| {
            ApiError::invalid(
                "generation_id",
                "generation_id_missing",
                "generation_id (a UUID string) or a generation request is required",
            )
        })?,
    };
    Uuid::parse_str(raw).map(Some).map_err(|_| {
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
        assert!(
            generation_id_of(br#"{"generation_id":"0b0e8a4e-8d5e-4a55-a3b4-2c1f1f7d9c01"}"#)
                .unwrap()
                .is_some()
        );
        // The original standalone request names no generation.
        assert_eq!(
            generation_id_of(br#"{"prompt":"a fox","generation_id":null}"#).unwrap(),
            None
        );
        assert_eq!(
            generation_id_of(b"{}").unwrap_err().code,
            "generation_id_missing"
        );
        assert_eq!(
            generation_id_of(br#"{"generation_id":"x"}"#)
                .unwrap_err()
                .code,
            "invalid_generation_id"
        );
        assert_eq!(generation_id_of(b"no").unwrap_err().code, "invalid_json");
    }
}
