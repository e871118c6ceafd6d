//! The worker behind process-jobs: runs claimed jobs and says how each ended. The queue's SQL decides
//! what a failure means (retry with backoff, or failed with the reason on the generation).

mod download;
mod generate;
mod held;
pub mod hosts;
mod lifetime;

pub use download::DownloadPayload;
pub use held::HeldJobs;
pub use lifetime::Lifetime;

/// How the worker waits for running predictions with these settings: parked in webhook mode, else polled.
pub fn prediction_wait(config: &Config) -> PredictionWait {
    if config.webhooks.park {
        PredictionWait::Park {
            recheck_secs: config.webhooks.recheck_secs,
        }
    } else {
        PredictionWait::Poll
    }
}

use crate::config::Config;
use crate::db::queue::{Completion, Job};
use crate::failure::{self, Failure};
use crate::generation::PredictionWait;
use crate::ports::{HttpClient, Platform, Rpc, StreamCopy, Timer};
use futures_util::future::{select, Either};
use futures_util::FutureExt;
use serde_json::Value;
use uuid::Uuid;

/// How a job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum JobResult {
    Done(Value),
    Retry {
        failure: Failure,
        retry_in_secs: Option<u64>,
    },
    /// Not a failure: the work runs on elsewhere (a long prediction); come back without spending an attempt.
    Defer {
        message: String,
        delay_secs: u64,
    },
    /// Webhook mode: the prediction runs on at Replicate; its webhook brings the job back, or the recheck
    /// after `recheck_secs` does (`park_job`, no attempt spent).
    Park {
        message: String,
        recheck_secs: u64,
    },
    /// Final; the failure's user message goes on the job and the generation, its detail on the job.
    Fail(Failure),
}

impl JobResult {
    pub fn done(result: Value) -> Self {
        Self::Done(result)
    }
    pub fn retry(
        code: &'static str,
        detail: impl Into<String>,
        retry_in_secs: Option<u64>,
    ) -> Self {
        Self::Retry {
            failure: Failure::new(code, detail),
            retry_in_secs,
        }
    }
    pub fn fail(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Fail(Failure::new(code, detail))
    }

    /// The failure's detail (or the deferral's reason), for the worker's own answer and logs.
    pub fn detail(&self) -> Option<String> {
        match self {
            Self::Done(_) => None,
            Self::Retry { failure, .. } | Self::Fail(failure) => Some(failure.to_string()),
            Self::Defer { message, .. } | Self::Park { message, .. } => Some(message.clone()),
        }
    }

    /// The `complete_job` arguments for this result: the user's sentence as the error, the detail
    /// beside it.
    pub fn completion(&self) -> Completion {
        let failed = |failure: &Failure, retryable, retry_in_secs| Completion::Failed {
            error: failure.user_message().to_owned(),
            details: failure.details(),
            retryable,
            retry_in_secs,
        };
        match self {
            Self::Done(result) => Completion::Succeeded {
                result: result.clone(),
            },
            Self::Retry {
                failure,
                retry_in_secs,
            } => failed(failure, true, *retry_in_secs),
            Self::Fail(failure) => failed(failure, false, None),
            // Sent with defer_job / park_job by process-jobs; as a completion it is a plain retry.
            Self::Defer {
                message,
                delay_secs,
            }
            | Self::Park {
                message,
                recheck_secs: delay_secs,
            } => failed(
                &Failure::new(failure::SERVICE_BUSY, message.clone()),
                true,
                Some(*delay_secs),
            ),
        }
    }
}

/// Runs one claimed job until it ends or `budget_ms` passes; a running prediction is waited for as `wait`
/// says.
pub async fn run_job<S: Platform + Rpc + HttpClient + Timer + StreamCopy>(
    host: &S,
    config: &Config,
    job: &Job,
    budget_ms: f64,
    wait: PredictionWait,
) -> JobResult {
    match job.job_type.as_str() {
        "generate-image" => match generation_id(&job.payload) {
            Some(id) => generate::run(host, config, id, budget_ms, wait).await,
            None => JobResult::fail(
                failure::JOB_FAILED,
                "generate-image job without a valid generation_id",
            ),
        },
        "download-image" => match serde_json::from_value::<DownloadPayload>(job.payload.clone()) {
            Ok(payload) => download_within(host, config, &payload, budget_ms).await,
            Err(e) => JobResult::fail(
                failure::JOB_FAILED,
                format!("download-image job with a malformed payload: {e}"),
            ),
        },
        other => JobResult::fail(failure::JOB_FAILED, format!("unknown job type {other:?}")),
    }
}

/// A download cut off at `budget_ms` (the isolate's end comes next) counts as a failed attempt: it was
/// claimed with at least a tenth of the wall clock left, and one that never finishes must not cycle
/// through workers for ever. An upload cut off midway is harmless: the retry writes the same object.
async fn download_within<S: Platform + Rpc + HttpClient + Timer + StreamCopy>(
    host: &S,
    config: &Config,
    payload: &DownloadPayload,
    budget_ms: f64,
) -> JobResult {
    let left_ms = (budget_ms - host.now_ms()).max(0.0) as u64;
    let download = download::run(host, config, payload).boxed_local();
    match select(download, host.sleep_ms(left_ms).boxed_local()).await {
        Either::Left((result, _)) => result,
        Either::Right(((), _)) => JobResult::retry(
            failure::STORAGE_ERROR,
            format!("the download did not finish within this worker's lifetime ({left_ms} ms left at its start)"),
            None,
        ),
    }
}

fn generation_id(payload: &Value) -> Option<Uuid> {
    payload
        .get("generation_id")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// complete_job gets the user's sentence as `error` and the detail in `error_details`, for every
    /// failure class: nothing internal reaches the generation row.
    #[test]
    fn completions_carry_the_sentence_and_keep_the_detail_apart() {
        let traceback = "Traceback (most recent call last):\n  File \"/src/predict.py\", line 9\nRuntimeError: boom";
        let cases = [
            (
                JobResult::retry(
                    failure::DATABASE_ERROR,
                    "database: 42P01 relation missing",
                    None,
                ),
                "A server error interrupted this generation; please try again.",
            ),
            (
                JobResult::retry(
                    failure::STORAGE_ERROR,
                    "Storage answered 503: http://127.0.0.1:54321 too many connections",
                    None,
                ),
                "Saving the image failed; please try again.",
            ),
            (
                JobResult::retry(
                    failure::SERVICE_BUSY,
                    "the create request may or may not have reached Replicate: connection reset",
                    None,
                ),
                "The image service is busy; please try again in a few minutes.",
            ),
            (
                JobResult::fail("model_failed", format!("The model failed: {traceback}")),
                "The model could not make this image; please try again or change the prompt.",
            ),
            (
                JobResult::retry(
                    failure::MISCONFIGURED,
                    "REPLICATE_API_TOKEN is not set for process-jobs",
                    Some(60),
                ),
                "The image service is not available right now; please try again later.",
            ),
        ];
        for (result, sentence) in cases {
            let Completion::Failed { error, details, .. } = result.completion() else {
                panic!("{result:?} is a failure")
            };
            assert_eq!(error, sentence);
            let Some(detail) = result.detail() else {
                panic!("{result:?} has a detail")
            };
            assert!(
                detail.ends_with(details["detail"].as_str().unwrap()),
                "{detail} / {details}"
            );
        }
    }
}
