//! `POST /functions/v1/process-jobs` (service role only): claims up to `WORKER_CONCURRENCY` jobs and
//! answers at once what it claimed; the host then runs [`drain`] under `EdgeRuntime.waitUntil`, bounded
//! by the isolate's own wall clock ([`Lifetime`]). Woken right after start-generation answers, and every
//! minute by pg_cron as a sweeper.
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
use crate::worker::{prediction_wait, run_job, HeldJobs, JobResult, Lifetime};
use futures_util::future::{select, Either, LocalBoxFuture};
use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;
use serde::Serialize;

/// Function name, as deployed and as logged.
pub const NAME: &str = "process-jobs";

/// Wake-ups asked for by non-service callers within this many seconds count as one.
pub const WAKE_MIN_INTERVAL_SECS: u32 = 10;

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

/// Handles one invocation; answers at once what it claimed (the claimed jobs are returned, for
/// [`drain`] to run in the background) or, for a wake-up that won its slot, the call that wakes the
/// worker (to be sent in the background).
pub async fn handle<S: Platform + Rpc>(
    ctx: &AppContext,
    host: &S,
    lifetime: &Lifetime,
    held: &HeldJobs,
    head: &RequestHead,
) -> (Response, Background) {
    let started = host.monotonic_ms();
    let id = request_id(head, host);
    let mut log = RequestLog::new(NAME, id.clone(), &head.method);
    let mut wake_call = None;
    let mut claimed = None;
    let response = match head.method.as_str() {
        "OPTIONS" => Ok(Response::preflight()),
        "POST" | "GET" => match verify_service(head, ctx, host.now_ms()) {
            Ok(()) => work(ctx, host, lifetime, held, &mut log)
                .await
                .map(|(response, jobs)| {
                    claimed = jobs;
                    response
                }),
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
    let background = match (claimed, wake_call) {
        (Some(claimed), _) => Background::Drain(claimed),
        (None, Some(wake)) => Background::Wake(wake),
        (None, None) => Background::None,
    };
    (response.with_header("x-request-id", id), background)
}

/// What the host runs after the answer, under `EdgeRuntime.waitUntil`.
pub enum Background {
    None,
    /// Send this call (the worker's own wake-up).
    Wake(HttpRequest),
    /// Run [`drain`] over these jobs.
    Drain(Claimed),
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

/// What a service call claimed, to run after the answer under `EdgeRuntime.waitUntil`.
pub struct Claimed {
    worker: String,
    jobs: Vec<Job>,
}

/// The window of the original answer's `processed` and `errors` (pg_cron calls once a minute).
const RECENT_WINDOW_SECS: u32 = 60;

/// Claims the first jobs and answers what it claimed at once: the runtime's wall clock is per isolate,
/// and a request unanswered for 150 s gets a 504, so no work is held inside the request (the caller, a
/// kick or pg_cron, only needs to know the worker runs).
async fn work<S: Platform + Rpc>(
    ctx: &AppContext,
    host: &S,
    lifetime: &Lifetime,
    held: &HeldJobs,
    log: &mut RequestLog,
) -> Result<(Response, Option<Claimed>), ApiError> {
    let worker = super::worker_id(NAME, host);
    log.worker_id = Some(worker.clone());
    let jobs = if may_claim(host, lifetime, held) {
        let config = &ctx.config;
        let batch = config.worker.concurrency;
        queue::claim(host, &worker, batch, config.worker.lease_secs)
            .await
            .map_err(|e| {
                log.detail = Some(e.to_string());
                database_error(&e)
            })?
    } else {
        Vec::new()
    };
    for job in &jobs {
        held.hold(job.id, &worker);
    }
    let claimed: Vec<_> = jobs
        .iter()
        .map(|j| serde_json::json!({"id": j.id, "job_type": j.job_type, "attempt": j.attempt_number}))
        .collect();
    // The original's fields: it ran its jobs inside the request and counted them; this call answers at
    // once, so they count the jobs finished (and failed) in the last minute, whoever ran them. The jobs
    // this call took on are `claimed`; their outcomes are in job_queue and the drain's log line.
    let (processed, errors) = queue::recent_outcomes(host, RECENT_WINDOW_SECS)
        .await
        .map_err(|e| {
            log.detail = Some(e.to_string());
            database_error(&e)
        })?;
    let body = serde_json::json!({
        "success": true,
        "processed": processed,
        "errors": errors,
        "message": format!("Processed {processed} job(s) with {errors} error(s)"),
        "worker_id": worker,
        "claimed": jobs.len(),
        "background": true,
        "jobs": claimed,
    });
    Ok((
        Response::json(200, body.to_string()),
        Some(Claimed { worker, jobs }),
    ))
}

fn may_claim<S: Platform>(host: &S, lifetime: &Lifetime, held: &HeldJobs) -> bool {
    !held.is_closing() && host.now_ms() < lifetime.claim_cutoff_ms()
}

/// Runs the claimed jobs concurrently and claims more as slots free up until the isolate's claim cutoff
/// (so one invocation drains a backlog), extends the leases of running jobs, ends every job with
/// `complete_job` (or `defer_job`), and logs a summary. Jobs end by the isolate's deadline; any still
/// held when the runtime unloads the isolate are handed back by [`HeldJobs::hand_back`].
pub async fn drain<S: Platform + Rpc + HttpClient + Timer + StreamCopy>(
    ctx: &AppContext,
    host: &S,
    lifetime: &Lifetime,
    held: &HeldJobs,
    claimed: Claimed,
) {
    let config = &ctx.config;
    let Claimed { worker, jobs } = claimed;
    let started = host.monotonic_ms();
    let budget_ms = lifetime.deadline_ms();
    let concurrency = config.worker.concurrency as usize;
    let lease = config.worker.lease_secs;

    let mut running: FuturesUnordered<LocalBoxFuture<'_, (Job, JobResult, f64)>> =
        FuturesUnordered::new();
    let start = |job: Job| {
        async move {
            let t0 = host.monotonic_ms();
            let result = run_job(host, config, &job, budget_ms, prediction_wait(config)).await;
            (job, result, host.monotonic_ms() - t0)
        }
        .boxed_local()
    };
    let mut queue_empty = jobs.len() < concurrency;
    for job in jobs {
        running.push(start(job));
    }
    let mut reports = Vec::new();
    let mut claim_error = None;
    let mut next_beat = host.monotonic_ms() + heartbeat_ms(lease) as f64;
    loop {
        // Fill free slots while there is time and, as far as we know, work.
        if !queue_empty && running.len() < concurrency && may_claim(host, lifetime, held) {
            match queue::claim(host, &worker, (concurrency - running.len()) as u32, lease).await {
                Ok(jobs) => {
                    queue_empty = jobs.is_empty();
                    for job in jobs {
                        held.hold(job.id, &worker);
                        running.push(start(job));
                    }
                }
                // Jobs already running still end; the next invocation claims again.
                Err(e) => {
                    claim_error = Some(e.to_string());
                    queue_empty = true;
                }
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
                let outcome = finish(host, &worker, &job, &result).await;
                held.release(job.id);
                // The operator's detail, as in job_queue.error_details.
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
                for id in held.ids() {
                    // A lost lease means another worker took over: its completion will win, ours is refused.
                    let _ = queue::extend_lease(host, id, &worker, lease).await;
                }
            }
        }
    }
    let count = |o: &str| reports.iter().filter(|r| r.outcome == o).count();
    // Jobs that ended in an error (retried or failed); a deferred or parked job's prediction still runs.
    let errors = count("retrying") + count("failed");
    let summary = serde_json::json!({
        "level": if claim_error.is_some() { "warn" } else { "info" },
        "msg": "drain finished",
        "fn": NAME,
        "worker_id": worker,
        "processed": reports.len(),
        "errors": errors,
        "completed": count("completed"),
        "retrying": count("retrying"),
        "deferred": count("deferred"),
        "parked": count("parked"),
        "failed": count("failed"),
        "lease_lost": count("lease_lost"),
        "claim_error": claim_error,
        "duration_ms": (host.monotonic_ms() - started).round(),
        "jobs": reports,
    });
    host.log(&summary.to_string());
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
        JobResult::Park { recheck_secs, .. } => {
            queue::park(host, job.id, worker, *recheck_secs).await
        }
        _ => queue::complete(host, job.id, worker, &result.completion()).await,
    };
    match recorded {
        Ok(CompleteOutcome::Completed) => "completed",
        Ok(CompleteOutcome::Retrying) => "retrying",
        Ok(CompleteOutcome::Deferred) => "deferred",
        Ok(CompleteOutcome::Parked) => "parked",
        Ok(CompleteOutcome::Failed) => "failed",
        Ok(CompleteOutcome::LeaseLost) => "lease_lost",
        Ok(CompleteOutcome::NotFound) => "not_found",
        // The lease will expire and the job be claimed again: nothing is lost.
        Err(_) => "unrecorded",
    }
}
