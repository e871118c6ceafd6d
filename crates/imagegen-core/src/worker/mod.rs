//! The worker behind process-jobs: runs claimed jobs and says how each ended. The queue's SQL decides
//! what a failure means (retry with backoff, or failed with the reason on the generation).

mod download;
mod generate;
pub mod hosts;

pub use download::DownloadPayload;

use crate::config::Config;
use crate::db::queue::{Completion, Job};
use crate::ports::{HttpClient, Platform, Rpc, StreamCopy, Timer};
use serde_json::Value;
use uuid::Uuid;

/// How a job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum JobResult {
    Done(Value),
    Retry {
        message: String,
        retry_in_secs: Option<u64>,
    },
    /// Not a failure: the work runs on elsewhere (a long prediction); come back without spending an attempt.
    Defer {
        message: String,
        delay_secs: u64,
    },
    /// Final; the message goes on the job and on the generation.
    Fail(String),
}

impl JobResult {
    pub fn done(result: Value) -> Self {
        Self::Done(result)
    }
    pub fn retry(message: impl Into<String>, retry_in_secs: Option<u64>) -> Self {
        Self::Retry {
            message: message.into(),
            retry_in_secs,
        }
    }
    pub fn fail(message: impl Into<String>) -> Self {
        Self::Fail(message.into())
    }

    /// The `complete_job` arguments for this result.
    pub fn completion(&self) -> Completion {
        match self {
            Self::Done(result) => Completion::Succeeded {
                result: result.clone(),
            },
            Self::Retry {
                message,
                retry_in_secs,
            } => Completion::Failed {
                error: message.clone(),
                retryable: true,
                retry_in_secs: *retry_in_secs,
            },
            Self::Fail(message) => Completion::Failed {
                error: message.clone(),
                retryable: false,
                retry_in_secs: None,
            },
            // Sent with defer_job by process-jobs; as a completion it is a plain retry.
            Self::Defer {
                message,
                delay_secs,
            } => Completion::Failed {
                error: message.clone(),
                retryable: true,
                retry_in_secs: Some(*delay_secs),
            },
        }
    }
}

/// Runs one claimed job until it ends or `budget_ms` passes.
pub async fn run_job<S: Platform + Rpc + HttpClient + Timer + StreamCopy>(
    host: &S,
    config: &Config,
    job: &Job,
    budget_ms: f64,
) -> JobResult {
    match job.job_type.as_str() {
        "generate-image" => match generation_id(&job.payload) {
            Some(id) => generate::run(host, config, id, budget_ms).await,
            None => JobResult::fail("generate-image job without a valid generation_id"),
        },
        "download-image" => match serde_json::from_value::<DownloadPayload>(job.payload.clone()) {
            Ok(payload) => download::run(host, config, &payload).await,
            Err(e) => JobResult::fail(format!("download-image job with a malformed payload: {e}")),
        },
        other => JobResult::fail(format!("unknown job type {other:?}")),
    }
}

fn generation_id(payload: &Value) -> Option<Uuid> {
    payload
        .get("generation_id")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
}
