//! One attempt at a generation's prediction: resume the recorded prediction, or find the one an uncertain
//! create may have made, or create one and record its id at once; then poll it to the end or the deadline.
//! A retried attempt never creates a second prediction while an earlier one can still deliver.

use crate::db::generation::{self as db, RecordOutcome, StoredGeneration};
use crate::ports::{HttpClient, Platform, Rpc, Timer};
use crate::replicate::client::{CreateOptions, Replicate, ReplicateError};
use crate::replicate::outcome::{classify, PredictionOutcome};
use crate::replicate::{ModelSchema, Prediction};
use crate::request::GenerationRequest;
use serde_json::Value;

/// Longest `Prefer: wait` on a create.
pub const CREATE_WAIT_SECS: u8 = 5;

/// When this attempt must hand back control, and when the generation is given up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Deadlines {
    /// Return by then (the function's wall-clock budget); a prediction still running is resumed later.
    pub budget_ms: f64,
    /// After this the prediction is canceled and the generation fails (also sent as `Cancel-After`).
    pub give_up_ms: f64,
}

impl Deadlines {
    /// Return by `budget_ms`; give up `GENERATION_TIMEOUT_SECS` after the generation was created
    /// (`created_at` as the row has it; `now_ms` when it cannot be read).
    pub fn for_generation(
        config: &crate::config::Config,
        created_at: &str,
        now_ms: f64,
        budget_ms: f64,
    ) -> Self {
        let created = crate::time::parse_rfc3339_ms(created_at).unwrap_or(now_ms);
        Self {
            budget_ms,
            give_up_ms: created + f64::from(config.generation_timeout_secs) * 1000.0,
        }
    }
}

/// A finished prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictionDone {
    pub prediction_id: String,
    /// Output file URIs (`https:` or `data:`), at least one.
    pub outputs: Vec<String>,
    /// Whether an existing prediction was picked up rather than created by this attempt.
    pub resumed: bool,
    pub prediction: Prediction,
}

/// Why the attempt did not produce outputs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// Try again later; `retry_in_secs` when Replicate said when.
    #[error("{message}")]
    Retry {
        message: String,
        retry_in_secs: Option<u64>,
    },
    /// The prediction is still running past this attempt's budget: resume it later (not a failure).
    #[error("{message}")]
    StillRunning { message: String },
    /// A database call failed; try again later.
    #[error("database: {0}")]
    Database(String),
    /// Final. The user reads `failure::user_message(code)`; the message is the detail for operators.
    #[error("{message}")]
    Fail { code: &'static str, message: String },
}

impl From<ReplicateError> for RunError {
    fn from(e: ReplicateError) -> Self {
        match e {
            ReplicateError::Throttled { retry_after_secs } => RunError::Retry {
                message: format!(
                    "Replicate is busy (rate limited); retrying in {retry_after_secs} s"
                ),
                retry_in_secs: Some(retry_after_secs),
            },
            ReplicateError::Transient(m) | ReplicateError::CreateUncertain(m) => RunError::Retry {
                message: m,
                retry_in_secs: None,
            },
            ReplicateError::Permanent { code, message } => RunError::Fail { code, message },
        }
    }
}

fn db_retry(e: crate::ports::RpcError) -> RunError {
    RunError::Database(e.to_string())
}

/// Runs one attempt. `search_first`: an earlier attempt may have sent a create whose answer was lost
/// (the worker passes `attempt > 1`), so look for that prediction before creating one.
pub async fn run_prediction<R: Rpc, H: HttpClient, T: Timer, P: Platform>(
    rpc: &R,
    replicate: &Replicate<'_, H, T, P>,
    generation: &StoredGeneration,
    search_first: bool,
    deadlines: Deadlines,
) -> Result<PredictionDone, RunError> {
    let (model, version, input) = replicate_request(generation)?;
    let now = replicate.platform.now_ms();
    let until = deadlines.budget_ms.min(deadlines.give_up_ms);

    let (prediction, resumed) = match &generation.replicate_prediction_id {
        Some(id) => match replicate.get(id, until).await {
            Ok(p) => (p, true),
            Err(ReplicateError::Permanent {
                code: "replicate_not_found",
                ..
            }) => {
                // The recorded prediction is gone; only a new one can deliver.
                db::clear_prediction(rpc, generation.id, id)
                    .await
                    .map_err(db_retry)?;
                return Err(RunError::Retry {
                    message: format!("prediction {id} no longer exists"),
                    retry_in_secs: Some(0),
                });
            }
            Err(e) => return Err(e.into()),
        },
        None => {
            let found = if search_first {
                replicate.find_recent(model, &input, until).await?
            } else {
                None
            };
            match found {
                Some(p) => {
                    record(rpc, replicate, generation, &p).await?;
                    (p, true)
                }
                None => {
                    let options = CreateOptions {
                        // Hold the create only briefly: fast models still finish inside it, and the prediction
                        // id is recorded within seconds, so a crash leaves a prediction to resume rather than
                        // one to search for. Leave time after the held request to record the id and answer.
                        wait_secs: ((until - now) / 1000.0 - 10.0)
                            .clamp(1.0, f64::from(CREATE_WAIT_SECS))
                            as u8,
                        cancel_after_secs: Some(
                            ((deadlines.give_up_ms - now) / 1000.0).max(1.0) as u64
                        ),
                    };
                    let p = replicate
                        .create_version(model, version.as_deref(), &input, options, until)
                        .await?;
                    record(rpc, replicate, generation, &p).await?;
                    (p, false)
                }
            }
        }
    };

    // A user may cancel while the prediction runs (their row becomes failed): look every few seconds and
    // stop the prediction then, so it is neither paid for longer nor stored.
    let cancelled = || async {
        matches!(db::load(rpc, generation.id).await, Ok(Some(g)) if g.status == "failed")
    };
    let (prediction, stopped) = replicate
        .wait_until_done_or(prediction, until, CANCEL_CHECK_MS, cancelled)
        .await?;
    if stopped {
        let _ = replicate.cancel(&prediction.id).await;
        return Err(cancelled_error());
    }
    match classify(&prediction) {
        Some(PredictionOutcome::Succeeded { outputs }) => Ok(PredictionDone {
            prediction_id: prediction.id.clone(),
            outputs,
            resumed,
            prediction,
        }),
        Some(PredictionOutcome::Retry { message }) => {
            db::clear_prediction(rpc, generation.id, &prediction.id)
                .await
                .map_err(db_retry)?;
            Err(RunError::Retry {
                message,
                retry_in_secs: None,
            })
        }
        Some(PredictionOutcome::Fail { code, message }) => Err(RunError::Fail { code, message }),
        None if replicate.platform.now_ms() >= deadlines.give_up_ms => {
            // Best effort: an unfinished prediction past its deadline keeps billing until stopped.
            let _ = replicate.cancel(&prediction.id).await;
            Err(RunError::Fail {
                code: "prediction_timed_out",
                message: "The model did not finish in time; the generation was canceled.".into(),
            })
        }
        None => Err(RunError::StillRunning {
            message: format!(
                "prediction {} is still {}; it will be resumed",
                prediction.id,
                prediction.status.as_str()
            ),
        }),
    }
}

/// The model, pinned version and exact input for a stored generation: its prompt, model and params
/// re-parsed by the same rules as start-generation, then mapped to the model's schema.
fn replicate_request(
    generation: &StoredGeneration,
) -> Result<(&'static ModelSchema, Option<String>, Value), RunError> {
    let mut body = match &generation.params {
        Value::Object(map) => map.clone(),
        _ => serde_json::Map::new(),
    };
    body.insert("prompt".into(), generation.prompt.clone().into());
    let Some(model) = &generation.replicate_model else {
        return Err(RunError::Fail {
            code: "no_request",
            message: "This generation has no request to run (start it with generate-image or start-generation).".into(),
        });
    };
    body.insert("model_id".into(), model.clone().into());
    let request =
        GenerationRequest::parse(Value::Object(body).to_string().as_bytes()).map_err(|e| {
            RunError::Fail {
                code: "unsupported_settings",
                message: format!(
                    "This generation's settings are no longer supported: {}",
                    e.message
                ),
            }
        })?;
    let model = request.replicate_model();
    let mut input = request.replicate_input();
    with_generation_seed(model, &mut input, generation.id);
    Ok((model, request.replicate_version().map(str::to_owned), input))
}

/// Without a client seed, models that take one get a seed derived from the generation id: results become
/// reproducible, and the input identifies this generation, so a lost create can be found by its input.
fn with_generation_seed(model: &ModelSchema, input: &mut Value, generation: uuid::Uuid) {
    if let (Some(map), Some(_)) = (input.as_object_mut(), model.field("seed")) {
        if !map.contains_key("seed") {
            let b = generation.as_bytes();
            let seed = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) & 0x7fff_ffff;
            map.insert("seed".into(), seed.into());
        }
    }
}

async fn record<R: Rpc, H: HttpClient, T: Timer, P: Platform>(
    rpc: &R,
    replicate: &Replicate<'_, H, T, P>,
    generation: &StoredGeneration,
    prediction: &Prediction,
) -> Result<(), RunError> {
    match db::record_prediction(rpc, generation.id, &prediction.id)
        .await
        .map_err(db_retry)?
    {
        RecordOutcome::Recorded => Ok(()),
        RecordOutcome::Taken => {
            let _ = replicate.cancel(&prediction.id).await;
            Err(RunError::Retry {
                message: format!("prediction {} belongs to another generation", prediction.id),
                retry_in_secs: Some(0),
            })
        }
        RecordOutcome::Finished { .. } => {
            // The generation was cancelled (or failed) while the prediction was being created.
            let _ = replicate.cancel(&prediction.id).await;
            Err(cancelled_error())
        }
        RecordOutcome::NotFound => Err(RunError::Fail {
            code: "generation_not_found",
            message: "The generation was deleted while it was running.".into(),
        }),
        RecordOutcome::Conflict {
            replicate_prediction_id,
        } => {
            // Someone else runs this generation (e.g. process-generation called beside the worker): stop
            // ours so only one prediction is paid for, and resume theirs.
            let _ = replicate.cancel(&prediction.id).await;
            Err(RunError::Retry {
                message: format!("generation already runs prediction {replicate_prediction_id}; resuming that one"),
                retry_in_secs: Some(0),
            })
        }
    }
}

/// The original process-generation's standalone call: a request with no generation row behind it. One
/// create (never retried: with no row to record the id in, a second create could pay twice), then polled
/// to the end or the deadline; a prediction still running at the deadline is cancelled.
pub async fn run_standalone<H: HttpClient, T: Timer, P: Platform>(
    replicate: &Replicate<'_, H, T, P>,
    request: &GenerationRequest,
    deadlines: Deadlines,
) -> Result<PredictionDone, RunError> {
    let model = request.replicate_model();
    let input = request.replicate_input();
    let now = replicate.platform.now_ms();
    let until = deadlines.budget_ms.min(deadlines.give_up_ms);
    let options = CreateOptions {
        wait_secs: ((until - now) / 1000.0 - 1.0).clamp(1.0, f64::from(CREATE_WAIT_SECS)) as u8,
        cancel_after_secs: Some(((deadlines.give_up_ms - now) / 1000.0).max(1.0) as u64),
    };
    let prediction = replicate.create(model, &input, options, until).await?;
    let prediction = replicate.wait_until_done(prediction, until).await?;
    match classify(&prediction) {
        Some(PredictionOutcome::Succeeded { outputs }) => Ok(PredictionDone {
            prediction_id: prediction.id.clone(),
            outputs,
            resumed: false,
            prediction,
        }),
        Some(PredictionOutcome::Retry { message }) => Err(RunError::Fail {
            code: "prediction_failed",
            message,
        }),
        Some(PredictionOutcome::Fail { code, message }) => Err(RunError::Fail { code, message }),
        None => {
            let _ = replicate.cancel(&prediction.id).await;
            Err(RunError::Fail {
                code: "prediction_timed_out",
                message: "The model did not finish in time; the prediction was canceled.".into(),
            })
        }
    }
}

/// How often a running prediction's generation is checked for a cancel.
const CANCEL_CHECK_MS: f64 = 3_000.0;

/// The generation was cancelled (its row is failed already; this reason goes to the job only).
fn cancelled_error() -> RunError {
    RunError::Fail {
        code: "cancelled",
        message: "The generation was cancelled; its prediction was stopped.".into(),
    }
}

#[cfg(test)]
#[path = "run_tests.rs"]
mod tests;
