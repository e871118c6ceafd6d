//! Typed calls to the queue's SQL functions (supabase/migrations/*_queue_functions.sql).

use super::one;
use crate::ports::{Rpc, RpcError, SqlArg, SqlType};
use serde::Deserialize;
use serde_json::Value;

/// A claimed job.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Job {
    pub id: i64,
    pub job_type: String,
    pub payload: Value,
    pub attempt_number: u32,
    pub max_attempts: u32,
}

/// Claims up to `batch` jobs for `worker` with a lease of `lease_secs`.
pub async fn claim<R: Rpc>(
    rpc: &R,
    worker: &str,
    batch: u32,
    lease_secs: u32,
) -> Result<Vec<Job>, RpcError> {
    let args = [
        SqlArg::new("worker_id", SqlType::Text, worker),
        SqlArg::new("batch", SqlType::Int, batch.to_string()),
        SqlArg::new("lease_seconds", SqlType::Int, lease_secs.to_string()),
    ];
    rpc.call("claim_next_job", &args)
        .await?
        .into_iter()
        .map(|row| {
            serde_json::from_value(row)
                .map_err(|e| RpcError::BadAnswer(format!("claim_next_job: {e}")))
        })
        .collect()
}

/// Claims the due jobs of one generation (the legacy synchronous path).
pub async fn claim_for_generation<R: Rpc>(
    rpc: &R,
    generation: uuid::Uuid,
    worker: &str,
    lease_secs: u32,
) -> Result<Vec<Job>, RpcError> {
    let args = [
        SqlArg::new("p_generation_id", SqlType::Uuid, generation.to_string()),
        SqlArg::new("worker_id", SqlType::Text, worker),
        SqlArg::new("lease_seconds", SqlType::Int, lease_secs.to_string()),
    ];
    rpc.call("claim_generation_jobs", &args)
        .await?
        .into_iter()
        .map(|row| {
            serde_json::from_value(row)
                .map_err(|e| RpcError::BadAnswer(format!("claim_generation_jobs: {e}")))
        })
        .collect()
}

/// How a job ended, for `complete_job`.
#[derive(Debug, Clone, PartialEq)]
pub enum Completion {
    Succeeded {
        result: Value,
    },
    Failed {
        /// What the user reads (also the generation's `error_message` when the job fails).
        error: String,
        /// `job_queue.error_details`: what operators read.
        details: Value,
        retryable: bool,
        retry_in_secs: Option<u64>,
    },
}

/// What `complete_job` did.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CompleteOutcome {
    Completed,
    Retrying,
    Deferred,
    /// Parked while its prediction runs (`park_job`); due again at its recheck or when the webhook comes.
    Parked,
    Failed,
    /// Another worker holds the job now (our lease expired and it was taken over): nothing changed.
    LeaseLost,
    NotFound,
}

/// Longest delay passed to SQL (a day): Replicate's `retry_after` or a defer comes from outside, and
/// an int4 argument must never overflow on it.
pub const MAX_DELAY_SECS: u64 = 86_400;

pub async fn complete<R: Rpc>(
    rpc: &R,
    job_id: i64,
    worker: &str,
    how: &Completion,
) -> Result<CompleteOutcome, RpcError> {
    let mut args = vec![
        SqlArg::new("job_id", SqlType::Bigint, job_id.to_string()),
        SqlArg::new("worker_id", SqlType::Text, worker),
    ];
    match how {
        Completion::Succeeded { result } => {
            args.push(SqlArg::new("success", SqlType::Bool, "true"));
            args.push(SqlArg::new("result", SqlType::Jsonb, result.to_string()));
        }
        Completion::Failed {
            error,
            details,
            retryable,
            retry_in_secs,
        } => {
            args.push(SqlArg::new("success", SqlType::Bool, "false"));
            args.push(SqlArg::new("error", SqlType::Text, error.as_str()));
            args.push(SqlArg::new(
                "error_details",
                SqlType::Jsonb,
                details.to_string(),
            ));
            args.push(SqlArg::new(
                "retryable",
                SqlType::Bool,
                retryable.to_string(),
            ));
            args.push(SqlArg::optional(
                "retry_delay_seconds",
                SqlType::Int,
                retry_in_secs.map(|s| s.min(MAX_DELAY_SECS).to_string()),
            ));
        }
    }
    let row = one(rpc.call("complete_job", &args).await?, "complete_job")?;
    serde_json::from_value(row).map_err(|e| RpcError::BadAnswer(format!("complete_job: {e}")))
}

/// Puts a job whose work still runs elsewhere back in the queue without spending an attempt.
pub async fn defer<R: Rpc>(
    rpc: &R,
    job_id: i64,
    worker: &str,
    delay_secs: u64,
) -> Result<CompleteOutcome, RpcError> {
    requeue(rpc, "defer_job", job_id, worker, delay_secs).await
}

/// Parks a generate-image job while its prediction runs at Replicate (webhook mode): pending again without
/// spending an attempt, due after `recheck_secs`, or at once when the prediction's webhook was recorded
/// meanwhile.
pub async fn park<R: Rpc>(
    rpc: &R,
    job_id: i64,
    worker: &str,
    recheck_secs: u64,
) -> Result<CompleteOutcome, RpcError> {
    requeue(rpc, "park_job", job_id, worker, recheck_secs).await
}

/// `defer_job` / `park_job`: the job back to pending after `delay_secs`, its attempt given back.
async fn requeue<R: Rpc>(
    rpc: &R,
    function: &'static str,
    job_id: i64,
    worker: &str,
    delay_secs: u64,
) -> Result<CompleteOutcome, RpcError> {
    let args = [
        SqlArg::new("job_id", SqlType::Bigint, job_id.to_string()),
        SqlArg::new("worker_id", SqlType::Text, worker),
        SqlArg::new(
            "delay_seconds",
            SqlType::Int,
            delay_secs.min(MAX_DELAY_SECS).to_string(),
        ),
    ];
    let row = one(rpc.call(function, &args).await?, function)?;
    serde_json::from_value(row).map_err(|e| RpcError::BadAnswer(format!("{function}: {e}")))
}

/// Extends the lease; `false` when the job is no longer ours.
pub async fn extend_lease<R: Rpc>(
    rpc: &R,
    job_id: i64,
    worker: &str,
    secs: u32,
) -> Result<bool, RpcError> {
    let args = [
        SqlArg::new("job_id", SqlType::Bigint, job_id.to_string()),
        SqlArg::new("worker_id", SqlType::Text, worker),
        SqlArg::new("seconds", SqlType::Int, secs.to_string()),
    ];
    let row = one(rpc.call("extend_lease", &args).await?, "extend_lease")?;
    Ok(row.get("outcome").and_then(Value::as_str) == Some("extended"))
}

/// Enqueues a job (or finds the unfinished one holding `dedupe_key`); returns its id.
pub async fn enqueue<R: Rpc>(
    rpc: &R,
    job_type: &str,
    payload: &Value,
    dedupe_key: &str,
) -> Result<i64, RpcError> {
    let args = [
        SqlArg::new("job_type", SqlType::Text, job_type),
        SqlArg::new("payload", SqlType::Jsonb, payload.to_string()),
        SqlArg::new("dedupe_key", SqlType::Text, dedupe_key),
    ];
    let row = one(rpc.call("enqueue_job", &args).await?, "enqueue_job")?;
    row.as_i64()
        .ok_or_else(|| RpcError::BadAnswer(format!("enqueue_job returned {row}")))
}

/// Asks for a worker wake-up on behalf of a caller that may do nothing more (the seed's anon-key manual
/// trigger). Answers whether this call woke the worker; wakes within `min_interval_secs` of the last one
/// are coalesced into it.
pub async fn request_wake<R: Rpc>(rpc: &R, min_interval_secs: u32) -> Result<bool, RpcError> {
    let args = [SqlArg::new(
        "p_min_interval_secs",
        SqlType::Int,
        min_interval_secs.to_string(),
    )];
    let row = super::one(
        rpc.call("request_worker_wake", &args).await?,
        "request_worker_wake",
    )?;
    Ok(row.get("woken").and_then(|w| w.as_bool()).unwrap_or(false))
}

/// Jobs finished (completed or failed) in the last `window_secs`, and the failed ones among them: the
/// original process-jobs answer's `processed` and `errors` (`recent_job_outcomes`).
pub async fn recent_outcomes<R: Rpc>(rpc: &R, window_secs: u32) -> Result<(u64, u64), RpcError> {
    let args = [SqlArg::new(
        "window_seconds",
        SqlType::Int,
        window_secs.to_string(),
    )];
    let row = one(
        rpc.call("recent_job_outcomes", &args).await?,
        "recent_job_outcomes",
    )?;
    let count = |k: &str| row.get(k).and_then(Value::as_u64);
    match (count("processed"), count("errors")) {
        (Some(processed), Some(errors)) => Ok((processed, errors)),
        _ => Err(RpcError::BadAnswer(format!(
            "recent_job_outcomes returned {row}"
        ))),
    }
}
