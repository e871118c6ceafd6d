//! One attempt at a generation's prediction: resume the recorded prediction (its end as a webhook recorded
//! it, else read from Replicate), or find the one an uncertain create may have made, or create one and
//! record its id at once; then poll it to the end or the deadline, or, in webhook mode, park it.
//! Paid once (ARCHITECTURE.md "Cost safety"): every create carries the owner mark (generation id and create
//! number) and is recorded as an intent before it is sent; a create whose prediction was never recorded is
//! looked for by its mark in the window since its intent, never created again blindly; a failure earns a
//! new create only when the prediction never ran (so was not billed), at most [`MAX_PREDICTION_CREATES`].

use crate::db::generation::{self as db, CreateIntent, RecordOutcome, StoredGeneration};
use crate::db::webhook::recorded_outcome;
use crate::ports::{HttpClient, Platform, Rpc, Timer};
use crate::replicate::client::{
    create_timeout_ms, CreateOptions, MarkSearch, Replicate, ReplicateError,
};
use crate::replicate::outcome::{classify, PredictionOutcome};
use crate::replicate::{ModelSchema, OwnerMark, Prediction, WebhookBase};
use crate::request::GenerationRequest;
use serde_json::Value;

/// Longest `Prefer: wait` on a create.
pub const CREATE_WAIT_SECS: u8 = 5;

/// Creates one generation may send in all: the first, and one re-create after a prediction that failed
/// to start (never ran, so was not billed). Counted on the row (`prediction_creates`).
pub const MAX_PREDICTION_CREATES: u32 = 2;

/// How long a create may be on its way after its intent was recorded: the POST's timeout, and the in-place
/// re-sends after a short 429, are held inside it. Past it no answer of that create can still come, so a
/// search of its window sees every prediction it could have made; before it, nobody searches or re-sends.
pub const CREATE_SETTLE_SECS: u32 = 30;
const _: () = assert!(CREATE_SETTLE_SECS * 1000 > create_timeout_ms(CREATE_WAIT_SECS));

/// How far the database's clock (intent times) and Replicate's (`created_at`) may disagree: the search
/// window starts this much before the intent.
pub const CLOCK_SKEW_SECS: u32 = 60;

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

/// What an attempt does with a prediction still running after its create (or its resume).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PredictionWait {
    /// Read it every few seconds until it ends or the budget passes, holding the caller meanwhile (the
    /// synchronous paths, and the worker without webhooks).
    Poll,
    /// Return at once ([`RunError::StillRunning`] with this recheck): the prediction's `completed` webhook
    /// brings the job back, or the recheck does when the webhook is lost.
    Park { recheck_secs: u32 },
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
    /// The prediction is still running (past this attempt's budget, or parked): resume it after
    /// `recheck_in_secs` (not a failure).
    #[error("{message}")]
    StillRunning {
        message: String,
        recheck_in_secs: u64,
    },
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

/// Runs one attempt. Creates carry the owner mark built on `webhook_base`.
pub async fn run_prediction<R: Rpc, H: HttpClient, T: Timer, P: Platform>(
    rpc: &R,
    replicate: &Replicate<'_, H, T, P>,
    generation: &StoredGeneration,
    webhook_base: &WebhookBase,
    deadlines: Deadlines,
    wait: PredictionWait,
) -> Result<PredictionDone, RunError> {
    let (model, version, input) = replicate_request(generation)?;
    let until = deadlines.budget_ms.min(deadlines.give_up_ms);

    let (prediction, resumed, creates) = match &generation.replicate_prediction_id {
        Some(id) => match resume(rpc, replicate, generation.id, id, until).await {
            Ok(p) => (p, true, generation.prediction_creates),
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
            let request = CreateRequest {
                model,
                version: version.as_deref(),
                input: &input,
                webhook_base,
                deadlines,
            };
            new_or_lost_prediction(rpc, replicate, generation, &request).await?
        }
    };

    // A user may cancel while the prediction runs (their row becomes failed): look every few seconds and
    // stop the prediction then, so it is neither paid for longer nor stored.
    let cancelled = || async {
        matches!(db::load(rpc, generation.id).await, Ok(Some(g)) if g.status == "failed")
    };
    let (prediction, stopped) = match wait {
        PredictionWait::Poll => {
            replicate
                .wait_until_done_or(prediction, until, CANCEL_CHECK_MS, cancelled)
                .await?
        }
        // A cancel while parked makes the job due (the cancel trigger), and it is stopped then.
        PredictionWait::Park { .. } => (prediction, false),
    };
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
        // Only after the failed prediction is terminal (classify answers nothing before), and only while
        // the cap allows: the next attempt's create is counted on the row.
        Some(PredictionOutcome::Retry { .. }) if creates >= MAX_PREDICTION_CREATES => {
            Err(did_not_start())
        }
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
        None => {
            let recheck_in_secs = match wait {
                PredictionWait::Poll => 1,
                // Never past the give-up time, when the prediction is stopped.
                PredictionWait::Park { recheck_secs } => {
                    let to_give_up = (deadlines.give_up_ms - replicate.platform.now_ms()) / 1000.0;
                    u64::from(recheck_secs).min(to_give_up.ceil().max(1.0) as u64)
                }
            };
            Err(RunError::StillRunning {
                message: format!(
                    "prediction {} is still {}; it will be resumed",
                    prediction.id,
                    prediction.status.as_str()
                ),
                recheck_in_secs,
            })
        }
    }
}

/// The recorded prediction: its end as its webhook reported it (no API call), else as Replicate reads now.
async fn resume<R: Rpc, H: HttpClient, T: Timer, P: Platform>(
    rpc: &R,
    replicate: &Replicate<'_, H, T, P>,
    generation: uuid::Uuid,
    prediction_id: &str,
    until: f64,
) -> Result<Prediction, ReplicateError> {
    // A database hiccup here only costs the API read the recorded outcome would have saved.
    if let Ok(Some(p)) = recorded_outcome(rpc, generation).await {
        if p.id == prediction_id && p.status.is_terminal() {
            return Ok(p);
        }
    }
    replicate.get(prediction_id, until).await
}

/// What a create of this generation sends.
struct CreateRequest<'a> {
    model: &'static ModelSchema,
    version: Option<&'a str>,
    input: &'a Value,
    webhook_base: &'a WebhookBase,
    deadlines: Deadlines,
}

/// No prediction is recorded: record the intent and create one, or, when an earlier create's prediction
/// was never recorded, look for it by its mark first. Answers the prediction, whether it was found rather
/// than created, and the generation's create count.
async fn new_or_lost_prediction<R: Rpc, H: HttpClient, T: Timer, P: Platform>(
    rpc: &R,
    replicate: &Replicate<'_, H, T, P>,
    generation: &StoredGeneration,
    request: &CreateRequest<'_>,
) -> Result<(Prediction, bool, u32), RunError> {
    let until = request
        .deadlines
        .budget_ms
        .min(request.deadlines.give_up_ms);
    // Past its deadline with no create in flight (none sent, or the last one settled and cleared): the
    // generation fails without paying for a prediction that would be cancelled at once. A create whose
    // answer was lost is still looked for below, so a running prediction is found (and stopped).
    if generation.prediction_create_sent_at.is_none()
        && replicate.platform.now_ms() >= request.deadlines.give_up_ms
    {
        return Err(deadline_passed());
    }
    let mut resend = None;
    loop {
        let intent =
            db::begin_prediction_create(rpc, generation.id, MAX_PREDICTION_CREATES, resend)
                .await
                .map_err(db_retry)?;
        let (create_number, sent_at) = match intent {
            CreateIntent::Create { create_number } => {
                let p = send_create(replicate, generation, request, create_number).await?;
                record(rpc, replicate, generation, &p).await?;
                return Ok((p, false, create_number));
            }
            CreateIntent::Uncertain { .. } if resend.is_some() => {
                // Someone else moved the intent on between our search and this call.
                return Err(RunError::Retry {
                    message: "the generation's create changed while it was looked for".into(),
                    retry_in_secs: Some(0),
                });
            }
            CreateIntent::Uncertain { age_secs, .. } if age_secs < f64::from(CREATE_SETTLE_SECS) => {
                // Its sender may still be waiting for the answer: neither search nor send yet.
                return Err(RunError::Retry {
                    message: format!(
                        "a create sent {age_secs:.0} s ago may still be on its way; looking for it later"
                    ),
                    retry_in_secs: Some((f64::from(CREATE_SETTLE_SECS) - age_secs).ceil() as u64),
                });
            }
            CreateIntent::Uncertain {
                create_number,
                sent_at,
                ..
            } => (create_number, sent_at),
            CreateIntent::Held {
                replicate_prediction_id,
            } => {
                return Err(RunError::Retry {
                    message: format!("generation already runs prediction {replicate_prediction_id}; resuming that one"),
                    retry_in_secs: Some(0),
                })
            }
            CreateIntent::CapReached { .. } => return Err(did_not_start()),
            CreateIntent::Finished { .. } => return Err(cancelled_error()),
            CreateIntent::NotFound => return Err(deleted_error()),
        };
        let Some(sent_ms) = crate::time::parse_rfc3339_ms(&sent_at) else {
            return Err(RunError::Retry {
                message: format!("unreadable create time {sent_at:?}"),
                retry_in_secs: None,
            });
        };
        let mark = OwnerMark {
            generation_id: generation.id,
            create_number,
        };
        let prompt = request
            .input
            .get("prompt")
            .and_then(Value::as_str)
            .unwrap_or(&generation.prompt);
        let window_start = sent_ms - f64::from(CLOCK_SKEW_SECS) * 1000.0;
        match replicate
            .find_by_mark(request.model, prompt, mark, window_start, until)
            .await
        {
            Ok(MarkSearch::Found(p)) => {
                record(rpc, replicate, generation, &p).await?;
                return Ok((*p, true, create_number));
            }
            // The whole window was seen: that create made no prediction, so sending it now pays once.
            Ok(MarkSearch::NotInWindow) => resend = Some(create_number),
            // Never create on an unfinished search: the lost create may exist beyond what was seen.
            Err(e) => {
                return Err(match RunError::from(e) {
                    RunError::Retry {
                        message,
                        retry_in_secs,
                    } => RunError::Retry {
                        message: format!("could not finish looking for a lost create: {message}"),
                        retry_in_secs,
                    },
                    other => other,
                })
            }
        }
    }
}

/// Sends create `create_number` of the generation, marked with it.
async fn send_create<H: HttpClient, T: Timer, P: Platform>(
    replicate: &Replicate<'_, H, T, P>,
    generation: &StoredGeneration,
    request: &CreateRequest<'_>,
    create_number: u32,
) -> Result<Prediction, RunError> {
    let deadlines = request.deadlines;
    let now = replicate.platform.now_ms();
    let until = deadlines.budget_ms.min(deadlines.give_up_ms);
    let webhook = OwnerMark {
        generation_id: generation.id,
        create_number,
    }
    .webhook_url(request.webhook_base);
    // Hold the create only briefly: fast models still finish inside it, and the prediction id is recorded
    // within seconds, so a crash leaves a prediction to resume rather than one to search for. Leave time
    // after the held request to record the id and answer.
    let wait_secs = ((until - now) / 1000.0 - 10.0).clamp(1.0, f64::from(CREATE_WAIT_SECS)) as u8;
    let options = CreateOptions {
        wait_secs,
        cancel_after_secs: Some(((deadlines.give_up_ms - now) / 1000.0).max(1.0) as u64),
        webhook: Some(&webhook),
    };
    // 429s are waited out in place only while the last send still ends inside CREATE_SETTLE_SECS.
    let settle_by = now + f64::from(CREATE_SETTLE_SECS * 1000 - create_timeout_ms(wait_secs));
    replicate
        .create_version(
            request.model,
            request.version,
            request.input,
            options,
            until.min(settle_by),
        )
        .await
        .map_err(|e| match e {
            // Look for it only once no answer of it can still come.
            ReplicateError::CreateUncertain(message) => RunError::Retry {
                message: format!("the create's answer was lost ({message}); looking for it later"),
                retry_in_secs: Some(u64::from(CREATE_SETTLE_SECS)),
            },
            other => other.into(),
        })
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

/// Without a client seed, models that take one get a seed derived from the generation id, so a
/// generation's results are reproducible (a lost create is found by its owner mark, not by its input).
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
        // Another generation holds this prediction: it is theirs, so it is neither cancelled nor resumed
        // here (creates and searches only ever bring this generation's own marked predictions, so this
        // means the rows disagree with Replicate: stop rather than pay or take anything).
        RecordOutcome::Taken => Err(RunError::Fail {
            code: "prediction_taken",
            message: "This generation's prediction could not be recorded.".into(),
        }),
        RecordOutcome::Finished { .. } => {
            // The generation was cancelled (or failed) while the prediction was being created.
            let _ = replicate.cancel(&prediction.id).await;
            Err(cancelled_error())
        }
        RecordOutcome::NotFound => Err(deleted_error()),
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
        // No row, so no generation to mark: this create is never searched for.
        webhook: None,
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

/// The generation's creates are spent on predictions that never started.
fn did_not_start() -> RunError {
    RunError::Fail {
        code: "model_did_not_start",
        message: "The model did not start in time; try again later.".into(),
    }
}

/// The generation waited past `GENERATION_TIMEOUT_SECS` before any create (a backlog, an outage).
fn deadline_passed() -> RunError {
    RunError::Fail {
        code: "deadline_passed",
        message: "The generation waited too long to start; please try again.".into(),
    }
}

fn deleted_error() -> RunError {
    RunError::Fail {
        code: "generation_not_found",
        message: "The generation was deleted while it was running.".into(),
    }
}

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
