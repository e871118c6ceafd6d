//! `POST /functions/v1/generate-image` — the legacy synchronous API, kept so existing clients work
//! while they move to start-generation. Same request, same validation and errors (the same `accept`),
//! the same queue rows; then the request runs its own generation's jobs in-process with the worker's
//! code (claimed with a lease, completed with `complete_job`, so retries and idempotency are the worker's)
//! and answers the finished generation. Past `LEGACY_WAIT_SECS` it answers 202 with the generation id
//! and wakes the worker to carry on.
//!
//! A replayed call (same `Idempotency-Key`, or the same `generation_id` already attached) starts no
//! work and no second full wait: in the same isolate it follows the first call's wait
//! ([`LegacyWaits`]); elsewhere it reads the row until the first call's deadline (stored with the
//! generation by `begin_legacy_wait`), then answers what the first call would.
//!
//! The original's answers (what the shipping mobile app reads): `{success, image: <images row>,
//! generation_time}` for a request naming its own pending row by `generation_id` (the app inserted it),
//! `{success, url, format, generation_time}` without one; both shapes carry all of these fields here.

use super::legacy_wait::{LegacyWaits, Role, WaitEnd};
use super::process_jobs::finish;
use super::start_generation::{accept, generation_json, worker_kick, Attach};
use crate::config::AppContext;
use crate::db::generation as db;
use crate::db::queue;
use crate::error::ApiError;
use crate::generation::PredictionWait;
use crate::http::{RequestHead, Response};
use crate::log::RequestLog;
use crate::ports::{HttpClient, HttpRequest, Platform, RequestBody, Rpc, StreamCopy, Timer};
use crate::worker::run_job;

/// Function name, as deployed and as logged.
pub const NAME: &str = "generate-image";

/// How often the request looks again when another worker holds its job or a retry is waiting.
const POLL_MS: u64 = 250;
/// How often a replay that follows no call of its isolate reads the row.
const OBSERVE_POLL_MS: u64 = 500;

/// Handles one request. Answers the response and, when the generation is left unfinished, the call that
/// wakes process-jobs (to be sent in the background). `waits`: the isolate's waits in flight, which a
/// replayed call joins.
pub async fn handle<S: Platform + Rpc + HttpClient + Timer + StreamCopy, B: RequestBody>(
    ctx: &AppContext,
    host: &S,
    waits: &LegacyWaits,
    head: &RequestHead,
    body: B,
) -> (Response, Option<HttpRequest>) {
    let started = host.monotonic_ms();
    let id = super::request_id(head, host);
    let mut log = RequestLog::new(NAME, id.clone(), &head.method);
    let outcome = match head.method.as_str() {
        "OPTIONS" => Ok((Response::preflight(), false)),
        "POST" => run(ctx, host, waits, head, body, &mut log).await,
        _ => Err(ApiError::new(
            405,
            "method_not_allowed",
            "use POST to generate an image",
        )),
    };
    let (response, unfinished) = outcome.unwrap_or_else(|e| {
        log.code = Some(e.code);
        (Response::error(&e), false)
    });
    host.log(&log.finish(response.status, host.monotonic_ms() - started));
    let kick = if unfinished { worker_kick(ctx) } else { None };
    let response = response
        .with_header("x-request-id", id)
        // RFC 9745 / 8288: tell clients this endpoint is deprecated and where its successor is.
        .with_header("deprecation", "true")
        .with_header(
            "link",
            "</functions/v1/start-generation>; rel=\"successor-version\"",
        );
    (response, kick)
}

async fn run<S: Platform + Rpc + HttpClient + Timer + StreamCopy, B: RequestBody>(
    ctx: &AppContext,
    host: &S,
    waits: &LegacyWaits,
    head: &RequestHead,
    body: B,
    log: &mut RequestLog,
) -> Result<(Response, bool), ApiError> {
    let now = host.now_ms();
    let accepted = accept(ctx, host, head, body, now, log, Attach::IfNamed).await?;
    let wait_secs = ctx.config.worker.legacy_wait_secs;
    // The first call's deadline is stored with the generation: a replay, here or in another isolate,
    // waits no longer than the first call does.
    let stored = db::begin_legacy_wait(host, accepted.generation_id, wait_secs)
        .await
        .map_err(|e| database(log, e))?;
    let own = now + f64::from(wait_secs) * 1000.0;
    let deadline = stored.map_or(own, |first| first.min(own));

    let role = if accepted.replayed {
        waits.join(accepted.generation_id)
    } else {
        Role::Lead(waits.lead(accepted.generation_id))
    };
    let (end, leads) = match role {
        Role::Lead(lead) => {
            let end = if accepted.replayed {
                // A replay only observes: its generation's work was started (and counted against the
                // pending limit) by the first call; the first call or the worker runs it.
                observe(host, accepted.generation_id, deadline, log).await
            } else {
                drive(ctx, host, accepted.generation_id, deadline, log).await
            };
            lead.finish(end.clone());
            (end, true)
        }
        // A call of this isolate already waits for it: one polling loop, its end shared.
        Role::Follow(follow) => match follow.await {
            Some(end) => (end, false),
            None => (
                observe(host, accepted.generation_id, deadline, log).await,
                false,
            ),
        },
    };
    let generation = end?;
    match generation.status.as_str() {
        "completed" => Ok((
            Response::json(200, completed(&generation).to_string()),
            false,
        )),
        "failed" => {
            // The row's error_message is the user's sentence (failure.rs); the detail is on the job.
            let message = generation
                .error_message
                .unwrap_or_else(|| "The image could not be generated; please try again.".into());
            let body = serde_json::json!({
                "success": false,
                "error": message,
                "code": "generation_failed",
                "generation_id": generation.id,
                "status": "failed",
            });
            Ok((Response::json(502, body.to_string()), false))
        }
        _ => {
            // Still 2xx with success: a non-2xx would make the mobile app mark its row failed, which
            // cancels a generation that is about to finish. It has no `image` yet.
            let body = serde_json::json!({
                "success": true,
                "image": null,
                "generation_id": generation.id,
                "status": generation.status,
                "message": "still running: follow it with GET /functions/v1/start-generation?id=<generation_id>",
            });
            // The leader wakes the worker to carry on; its followers need not wake it again.
            Ok((
                Response::json(202, body.to_string()).with_header("retry-after", "5"),
                leads,
            ))
        }
    }
}

/// The first call: runs its generation's jobs in-process with the worker's code (claimed with a lease
/// owned by a worker id made for this call) until the generation finishes or `deadline` passes.
async fn drive<S: Platform + Rpc + HttpClient + Timer + StreamCopy>(
    ctx: &AppContext,
    host: &S,
    generation_id: uuid::Uuid,
    deadline: f64,
    log: &mut RequestLog,
) -> WaitEnd {
    let config = &ctx.config;
    let worker = super::worker_id(NAME, host);
    log.worker_id = Some(worker.clone());
    loop {
        let jobs =
            queue::claim_for_generation(host, generation_id, &worker, config.worker.lease_secs)
                .await
                .map_err(|e| database(log, e))?;
        let claimed = !jobs.is_empty();
        for job in jobs {
            // The caller waits for the image: its prediction is polled, whatever the worker's mode.
            let result = run_job(host, config, &job, deadline, PredictionWait::Poll).await;
            finish(host, &worker, &job, &result).await;
        }
        let generation = load(host, generation_id, log).await?;
        if finished(&generation) || host.now_ms() + POLL_MS as f64 >= deadline {
            return Ok(generation);
        }
        if !claimed {
            // Another worker holds it, or a retry waits for its backoff.
            host.sleep_ms(POLL_MS).await;
        }
    }
}

/// A replay with no call of this isolate to follow: reads the generation (never runs its jobs) until it
/// finishes or `deadline` passes.
async fn observe<S: Platform + Rpc + Timer>(
    host: &S,
    generation_id: uuid::Uuid,
    deadline: f64,
    log: &mut RequestLog,
) -> WaitEnd {
    loop {
        let generation = load(host, generation_id, log).await?;
        if finished(&generation) || host.now_ms() + OBSERVE_POLL_MS as f64 >= deadline {
            return Ok(generation);
        }
        host.sleep_ms(OBSERVE_POLL_MS).await;
    }
}

async fn load<R: Rpc>(
    rpc: &R,
    generation_id: uuid::Uuid,
    log: &mut RequestLog,
) -> Result<db::StoredGeneration, ApiError> {
    db::load(rpc, generation_id)
        .await
        .map_err(|e| database(log, e))?
        .ok_or_else(|| ApiError::new(404, "generation_not_found", "the generation was deleted"))
}

fn finished(generation: &db::StoredGeneration) -> bool {
    matches!(generation.status.as_str(), "completed" | "failed")
}

/// A database failure: the detail to the log line, a generic answer to the caller.
fn database(log: &mut RequestLog, e: crate::ports::RpcError) -> ApiError {
    log.detail = Some(e.to_string());
    super::database_error(&e)
}

/// The answer for a completed generation: the original's fields, then the generation as start-generation's
/// GET shows it.
fn completed(generation: &db::StoredGeneration) -> serde_json::Value {
    let image = generation.images.first().cloned();
    let field = |name: &str| image.as_ref().and_then(|i| i.get(name)).cloned();
    serde_json::json!({
        "success": true,
        "image": image,
        "url": field("public_url").or_else(|| generation.image_url.clone().map(Into::into)),
        "format": field("format"),
        "generation_time": generation.generation_time_seconds,
        "generation_id": generation.id,
        "status": generation.status,
        "generation": generation_json(generation),
    })
}
