//! `POST /functions/v1/process-jobs` (service role only): claims up to `WORKER_CONCURRENCY` jobs, runs
//! them concurrently, claims more as slots free up while the wall-clock budget lasts (so one invocation
//! drains a backlog), extends the leases of running jobs, ends every job with `complete_job`, and answers
//! a summary. Woken right after start-generation answers, and every minute by pg_cron as a sweeper.
//!
//! Any other valid project token (the seed's manual trigger sends the anon key) gets a 202 and a wake-up
//! of the worker, nothing more: `request_worker_wake` coalesces any number of them into one per
//! [`WAKE_MIN_INTERVAL_SECS`].

use super::{presents_publishable_key, request_id, verify_service};
use crate::auth::AuthError;
use crate::config::AppContext;
use crate::db::queue::{self, CompleteOutcome, Job};
use crate::error::ApiError;
use crate::handlers::database_error;
use crate::http::{RequestHead, Response};
use crate::log::RequestLog;
use crate::ports::{HttpClient, HttpRequest, Platform, Rpc, StreamCopy, Timer};
use crate::worker::{run_job, JobResult};
use futures_util::future::{select, Either, LocalBoxFuture};
use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;
use serde::Serialize;

/// Function name, as deployed and as logged.
pub const NAME: &str = "process-jobs";

/// Wake-ups asked for by non-service callers within this many seconds count as one.
pub const WAKE_MIN_INTERVAL_SECS: u32 = 10;

/// A new job is not claimed with less than this left: a generate-image job may hold a create for a while.
const MIN_BUDGET_FOR_NEW_JOB_MS: f64 = 15_000.0;
/// Leases of running jobs are extended every third of a lease, at most every minute.
fn heartbeat_ms(lease_secs: u32) -> u64 {
    (u64::from(lease_secs) * 1000 / 3).clamp(500, 60_000)
}

/// One job in the summary.
#[derive(Debug, Clone, Serialize)]
struct JobReport {
    id: i64,
    job_type: String,
    attempt: u32,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    ms: f64,
}

/// Handles one invocation; answers a JSON summary of what it did and, for a wake-up that won its slot,
/// the call that wakes the worker (to be sent in the background).
pub async fn handle<S: Platform + Rpc + HttpClient + Timer + StreamCopy>(
    ctx: &AppContext,
    host: &S,
    head: &RequestHead,
) -> (Response, Option<HttpRequest>) {
    let started = host.monotonic_ms();
    let id = request_id(head, host);
    let mut log = RequestLog::new(NAME, id.clone(), &head.method);
    let mut wake_call = None;
    let response = match head.method.as_str() {
        "OPTIONS" => Ok(Response::preflight()),
        "POST" | "GET" => match verify_service(head, ctx, host.now_ms()) {
            Ok(()) => work(ctx, host, &mut log).await,
            // A valid token of another role, or a publishable key: a wake-up only.
            Err(e)
                if e.code == AuthError::NotServiceRole.code()
                    || presents_publishable_key(head, ctx) =>
            {
                wake(ctx, host, &mut log, &mut wake_call).await
            }
            Err(e) => Err(e),
        },
        _ => Err(ApiError::new(405, "method_not_allowed", "use POST")),
    };
    let response = response.unwrap_or_else(|e| {
        log.code = Some(e.code);
        Response::error(&e)
    });
    host.log(&log.finish(response.status, host.monotonic_ms() - started));
    (response.with_header("x-request-id", id), wake_call)
}

async fn wake<S: Rpc>(
    ctx: &AppContext,
    host: &S,
    log: &mut RequestLog,
    wake_call: &mut Option<HttpRequest>,
) -> Result<Response, ApiError> {
    let woken = queue::request_wake(host, WAKE_MIN_INTERVAL_SECS)
        .await
        .map_err(|e| {
            log.detail = Some(e.to_string());
            database_error(&e)
        })?;
    if woken {
        // The wake-up is the worker's own call, with the service key: this caller's token never runs jobs.
        *wake_call = super::start_generation::wake_request(ctx, "wake");
    }
    let message = if woken {
        "Worker woken: queued jobs are processed in the background"
    } else {
        "Worker was woken moments ago: queued jobs are processed in the background"
    };
    let body = serde_json::json!({
        "success": true,
        "processed": 0,
        "errors": 0,
        "message": message,
        "woken": woken,
    });
    Ok(Response::json(202, body.to_string()))
}

async fn work<S: Platform + Rpc + HttpClient + Timer + StreamCopy>(
    ctx: &AppContext,
    host: &S,
    log: &mut RequestLog,
) -> Result<Response, ApiError> {
    let config = &ctx.config;
    let worker = super::worker_id(NAME, host);
    log.worker_id = Some(worker.clone());
    let started = host.now_ms();
    let budget_ms = started + f64::from(config.function_budget_secs) * 1000.0;
    let concurrency = config.worker.concurrency as usize;
    let lease = config.worker.lease_secs;

    let mut running: FuturesUnordered<LocalBoxFuture<'_, (Job, JobResult, f64)>> =
        FuturesUnordered::new();
    let mut held: Vec<i64> = Vec::new();
    let mut reports = Vec::new();
    let mut queue_empty = false;
    let mut next_beat = host.monotonic_ms() + heartbeat_ms(lease) as f64;
    loop {
        // Fill free slots while there is time and, as far as we know, work.
        if !queue_empty
            && running.len() < concurrency
            && host.now_ms() + MIN_BUDGET_FOR_NEW_JOB_MS < budget_ms
        {
            let jobs = queue::claim(host, &worker, (concurrency - running.len()) as u32, lease)
                .await
                .map_err(|e| {
                    log.detail = Some(e.to_string());
                    database_error(&e)
                })?;
            queue_empty = jobs.is_empty();
            for job in jobs {
                held.push(job.id);
                running.push(
                    async move {
                        let t0 = host.monotonic_ms();
                        let result = run_job(host, config, &job, budget_ms).await;
                        (job, result, host.monotonic_ms() - t0)
                    }
                    .boxed_local(),
                );
            }
        }
        if running.is_empty() {
            break;
        }
        // Wait for a job to end, extending the leases of those still running every minute.
        // The beat keeps its own schedule: completions of other jobs must not postpone it.
        let until_beat = (next_beat - host.monotonic_ms()).max(1.0) as u64;
        let heartbeat = host.sleep_ms(until_beat).boxed_local();
        match select(running.next(), heartbeat).await {
            Either::Left((Some((job, result, ms)), _)) => {
                held.retain(|id| *id != job.id);
                let outcome = finish(host, &worker, &job, &result).await;
                // The service role's answer: the operator's detail, as in job_queue.error_details.
                let error = result.detail();
                reports.push(JobReport {
                    id: job.id,
                    job_type: job.job_type,
                    attempt: job.attempt_number,
                    outcome,
                    error,
                    ms,
                });
                // A finished generate-image job enqueues its download: look again.
                queue_empty = false;
            }
            Either::Left((None, _)) => break,
            Either::Right(((), _)) => {
                next_beat = host.monotonic_ms() + heartbeat_ms(lease) as f64;
                for id in &held {
                    // A lost lease means another worker took over: its completion will win, ours is refused.
                    let _ = queue::extend_lease(host, *id, &worker, lease).await;
                }
            }
        }
    }
    let count = |o: &str| reports.iter().filter(|r| r.outcome == o).count();
    // The original's summary: jobs run, and those that ended in an error (retried or failed; a deferred
    // job is still running at Replicate, not an error).
    let errors = count("retrying") + count("failed");
    let body = serde_json::json!({
        "success": true,
        "processed": reports.len(),
        "errors": errors,
        "message": format!("Processed {} job(s) with {errors} error(s)", reports.len()),
        "worker_id": worker,
        "claimed": reports.len(),
        "completed": count("completed"),
        "retrying": count("retrying"),
        "deferred": count("deferred"),
        "failed": count("failed"),
        "lease_lost": count("lease_lost"),
        "duration_ms": (host.now_ms() - started).round(),
        "jobs": reports,
    });
    Ok(Response::json(200, body.to_string()))
}

/// Ends the job with complete_job; answers the outcome word for the summary.
pub(crate) async fn finish<S: Rpc>(
    host: &S,
    worker: &str,
    job: &Job,
    result: &JobResult,
) -> &'static str {
    let recorded = match result {
        JobResult::Defer { delay_secs, .. } => {
            queue::defer(host, job.id, worker, *delay_secs).await
        }
        _ => queue::complete(host, job.id, worker, &result.completion()).await,
    };
    match recorded {
        Ok(CompleteOutcome::Completed) => "completed",
        Ok(CompleteOutcome::Retrying) => "retrying",
        Ok(CompleteOutcome::Deferred) => "deferred",
        Ok(CompleteOutcome::Failed) => "failed",
        Ok(CompleteOutcome::LeaseLost) => "lease_lost",
        Ok(CompleteOutcome::NotFound) => "not_found",
        // The lease will expire and the job be claimed again: nothing is lost.
        Err(_) => "unrecorded",
    }
}
