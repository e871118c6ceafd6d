//! `POST /functions/v1/replicate-webhook?generation_id=<uuid>&attempt=<n>`: Replicate's `completed`
//! webhook for a prediction this backend created (the URL is the create's owner mark, `replicate/mark.rs`).
//! The signature is the authentication (Standard Webhooks, `replicate/webhook.rs`): a delivery that is not
//! signed with the account's secret, or whose timestamp is more than five minutes off, is refused with 401
//! and changes nothing. A verified delivery is recorded once per `webhook-id`
//! (`record_replicate_webhook`): the prediction's end is stored for its generation and the parked job made
//! due, and the worker is woken to store the image. Deploy with `verify_jwt = false`: Replicate sends no
//! Supabase token.

use super::request_id;
use crate::config::AppContext;
use crate::db::webhook::{self as db, WebhookRecord};
use crate::error::ApiError;
use crate::handlers::database_error;
use crate::http::{RequestHead, Response};
use crate::log::RequestLog;
use crate::ports::{BodyError, HttpClient, HttpRequest, Platform, RequestBody, Rpc, Timer};
use crate::replicate::client::Replicate;
use crate::replicate::{check_headers, OwnerMark, PredictionStatus, WebhookError, WebhookSecret};
use serde_json::Value;
use std::cell::{Cell, RefCell};

/// Function name, as deployed and as logged.
pub const NAME: &str = "replicate-webhook";

/// Largest delivery read: a prediction object (input, output URLs, logs) is a few kilobytes; a model that
/// answers `data:` URIs or long logs stays far below this.
pub const MAX_DELIVERY_BYTES: usize = 4 * 1024 * 1024;

/// A fetched secret is fetched again on a signature that does not match (the secret may have been
/// rotated) at most this often, so forged deliveries cannot turn into a stream of API calls.
const REFETCH_MIN_INTERVAL_MS: f64 = 5.0 * 60_000.0;

/// How long fetching the secret may take.
const SECRET_FETCH_MS: f64 = 10_000.0;

/// The secret read from `GET /v1/webhooks/default/secret`, kept for the isolate's life. One read at a time:
/// deliveries that arrive while it is under way wait for it rather than each asking Replicate.
#[derive(Debug, Default)]
pub struct SecretCache {
    fetched: RefCell<Option<(WebhookSecret, f64)>>,
    fetching: Cell<bool>,
}

/// How often a delivery waiting for another's secret read looks again.
const SECRET_WAIT_STEP_MS: u64 = 20;

/// Handles one delivery; answers the response and, when a parked job was woken, the call that wakes the
/// worker (to be sent in the background).
pub async fn handle<S: Platform + Rpc + HttpClient + Timer, B: RequestBody>(
    ctx: &AppContext,
    host: &S,
    secrets: &SecretCache,
    head: &RequestHead,
    body: B,
) -> (Response, Option<HttpRequest>) {
    let started = host.monotonic_ms();
    let id = request_id(head, host);
    let mut log = RequestLog::new(NAME, id.clone(), &head.method);
    let mut wake = None;
    let response = match head.method.as_str() {
        "POST" => {
            receive(ctx, host, secrets, head, body, &mut log)
                .await
                .map(|(response, woken)| {
                    if woken {
                        wake = super::start_generation::wake_request(ctx, NAME);
                    }
                    response
                })
        }
        _ => Err(ApiError::new(405, "method_not_allowed", "use POST")),
    };
    let response = response.unwrap_or_else(|e| {
        log.code = Some(e.code);
        Response::error(&e)
    });
    host.log(&log.finish(response.status, host.monotonic_ms() - started));
    (response.with_header("x-request-id", id), wake)
}

async fn receive<S: Platform + Rpc + HttpClient + Timer, B: RequestBody>(
    ctx: &AppContext,
    host: &S,
    secrets: &SecretCache,
    head: &RequestHead,
    body: B,
    log: &mut RequestLog,
) -> Result<(Response, bool), ApiError> {
    let body = body
        .read_limited(MAX_DELIVERY_BYTES)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge => ApiError::new(
                413,
                "payload_too_large",
                format!("a delivery may hold at most {MAX_DELIVERY_BYTES} bytes"),
            ),
            BodyError::Read(why) => ApiError::new(
                400,
                "body_unreadable",
                format!("the delivery could not be read: {why}"),
            ),
        })?;
    verify(ctx, host, secrets, head, &body).await?;

    // Signed by Replicate, but not for a prediction this backend marked (another integration of the same
    // account pointed here): acknowledged, so Replicate stops retrying, and otherwise ignored.
    let Some(mark) = OwnerMark::from_query(&head.query) else {
        log.detail = Some("delivery without this backend's owner mark".into());
        return Ok((outcome_response("ignored"), false));
    };
    log.generation_id = Some(mark.generation_id);
    let prediction = prediction_of(&body)?;
    let webhook_id = head.header("webhook-id").unwrap_or_default();
    let recorded = db::record(host, webhook_id, mark, &prediction)
        .await
        .map_err(|e| {
            // 5xx: Replicate retries the delivery (same webhook-id) for about a minute.
            log.detail = Some(e.to_string());
            database_error(&e)
        })?;
    log.detail = Some(format!("webhook {webhook_id}: {}", recorded.as_str()));
    let woken = matches!(recorded, WebhookRecord::Recorded { woken: true });
    Ok((outcome_response(recorded.as_str()), woken))
}

fn outcome_response(outcome: &str) -> Response {
    Response::json(
        200,
        serde_json::json!({"received": true, "outcome": outcome}).to_string(),
    )
}

/// Checks the delivery's signature with the configured secret, or the one Replicate serves (fetched once
/// per isolate, and again when a signature does not match and the last fetch is old enough).
async fn verify<S: Platform + HttpClient + Timer>(
    ctx: &AppContext,
    host: &S,
    secrets: &SecretCache,
    head: &RequestHead,
    body: &[u8],
) -> Result<(), ApiError> {
    let now_ms = host.now_ms();
    let now_secs = (now_ms / 1000.0).floor() as i64;
    let (id, timestamp, signature) = (
        head.header("webhook-id"),
        head.header("webhook-timestamp"),
        head.header("webhook-signature"),
    );
    // Unsigned or stale: refused before any secret is looked up.
    check_headers(id, timestamp, signature, now_secs).map_err(refused)?;
    let check = |secret: &WebhookSecret| secret.verify(id, timestamp, signature, body, now_secs);
    if let Some(secret) = &ctx.config.webhooks.secret {
        return check(secret).map_err(refused);
    }
    let cached = secrets.fetched.borrow().clone();
    let secret = match cached {
        Some((secret, fetched_at)) => match check(&secret) {
            Err(WebhookError::NoMatchingSignature)
                if now_ms - fetched_at >= REFETCH_MIN_INTERVAL_MS =>
            {
                fetch_secret(ctx, host, secrets).await?
            }
            result => return result.map_err(refused),
        },
        None => fetch_secret(ctx, host, secrets).await?,
    };
    check(&secret).map_err(refused)
}

async fn fetch_secret<S: Platform + HttpClient + Timer>(
    ctx: &AppContext,
    host: &S,
    secrets: &SecretCache,
) -> Result<WebhookSecret, ApiError> {
    let unavailable = |detail: String| {
        ApiError::new(
            503,
            "webhook_secret_unavailable",
            format!("the webhook signing secret could not be read: {detail}"),
        )
    };
    let Some(api) = ctx.config.replicate.as_ref() else {
        return Err(unavailable(
            "set REPLICATE_WEBHOOK_SECRET, or REPLICATE_API_TOKEN to read it from Replicate".into(),
        ));
    };
    let now = host.now_ms();
    if secrets.fetching.get() {
        // Another delivery is reading it: use what that read brings.
        while secrets.fetching.get() && host.now_ms() < now + SECRET_FETCH_MS {
            host.sleep_ms(SECRET_WAIT_STEP_MS).await;
        }
        return match secrets.fetched.borrow().as_ref() {
            Some((secret, _)) => Ok(secret.clone()),
            None => Err(unavailable("the read under way did not bring it".into())),
        };
    }
    secrets.fetching.set(true);
    let read = Replicate::new(api, host, host, host)
        .webhook_secret(now + SECRET_FETCH_MS)
        .await;
    secrets.fetching.set(false);
    let secret = read.map_err(|e| unavailable(e.to_string()))?;
    *secrets.fetched.borrow_mut() = Some((secret.clone(), now));
    Ok(secret)
}

/// 401 for every refused delivery; the code says why.
fn refused(e: WebhookError) -> ApiError {
    let code = match e {
        WebhookError::StaleTimestamp => "webhook_stale",
        WebhookError::MissingHeader(_) | WebhookError::BadTimestamp => "webhook_unsigned",
        WebhookError::NoMatchingSignature | WebhookError::BadSecret => "webhook_signature_invalid",
    };
    ApiError::new(401, code, e.to_string())
}

/// The delivered prediction: a JSON object with an `id` and a known `status` (the rest is stored as sent;
/// the worker reads it as a prediction, and reads Replicate instead if it cannot).
fn prediction_of(body: &[u8]) -> Result<Value, ApiError> {
    let invalid = |why: &str| {
        ApiError::new(
            400,
            "invalid_prediction",
            format!("the delivery is not a prediction: {why}"),
        )
    };
    let value: Value = serde_json::from_slice(body).map_err(|_| invalid("not JSON"))?;
    let id = value.get("id").and_then(Value::as_str).unwrap_or_default();
    if id.is_empty() || id.len() > 200 {
        return Err(invalid("no id"));
    }
    serde_json::from_value::<PredictionStatus>(value.get("status").cloned().unwrap_or_default())
        .map_err(|_| invalid("no known status"))?;
    Ok(value)
}

#[cfg(test)]
#[path = "replicate_webhook_tests.rs"]
mod tests;
