//! Typed calls for running a generation: read it, record and clear its Replicate prediction.

use super::one;
use crate::ports::{Rpc, RpcError, SqlArg, SqlType};
use serde::Deserialize;
use uuid::Uuid;

/// A generation row as the worker needs it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StoredGeneration {
    pub id: Uuid,
    pub user_id: Uuid,
    pub prompt: String,
    /// The catalog model run (null on a client-inserted row until generate-image attaches a request).
    #[serde(default)]
    pub replicate_model: Option<String>,
    /// The original columns: the display name and the `models.id`.
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub model_id: Option<Uuid>,
    pub params: serde_json::Value,
    pub status: String,
    pub replicate_prediction_id: Option<String>,
    /// When the current create was first sent (`begin_prediction_create`): with no prediction id beside
    /// it, that create's answer was lost (or is still on its way).
    #[serde(default)]
    pub prediction_create_sent_at: Option<String>,
    /// Creates sent for this generation, the current one included (each is a distinct owner mark).
    #[serde(default)]
    pub prediction_creates: u32,
    pub created_at: String,
    #[serde(default)]
    pub image_url: Option<String>,
    #[serde(default)]
    pub storage_path: Option<String>,
    #[serde(default)]
    pub outputs: serde_json::Value,
    #[serde(default)]
    pub error_message: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub completed_at: Option<String>,
    #[serde(default)]
    pub generation_time_seconds: Option<f64>,
    #[serde(default)]
    pub adjusted: serde_json::Value,
    /// Its `images` rows (get_generation adds them).
    #[serde(default)]
    pub images: Vec<serde_json::Value>,
}

/// Reads a generation; `None` when it does not exist.
pub async fn load<R: Rpc>(rpc: &R, id: Uuid) -> Result<Option<StoredGeneration>, RpcError> {
    let args = [SqlArg::new("p_id", SqlType::Uuid, id.to_string())];
    let row = one(rpc.call("get_generation", &args).await?, "get_generation")?;
    if row.is_null() {
        return Ok(None);
    }
    serde_json::from_value(row)
        .map(Some)
        .map_err(|e| RpcError::BadAnswer(format!("get_generation: {e}")))
}

/// The deadline (ms since the epoch) of the legacy synchronous wait for a generation: set by the first
/// call to now + `wait_secs`, the stored one for every later call. `None` when the generation does not
/// exist.
pub async fn begin_legacy_wait<R: Rpc>(
    rpc: &R,
    id: Uuid,
    wait_secs: u32,
) -> Result<Option<f64>, RpcError> {
    let args = [
        SqlArg::new("p_generation_id", SqlType::Uuid, id.to_string()),
        SqlArg::new("p_wait_seconds", SqlType::Int, wait_secs.to_string()),
    ];
    let row = one(
        rpc.call("begin_legacy_wait", &args).await?,
        "begin_legacy_wait",
    )?;
    if row.is_null() {
        return Ok(None);
    }
    row.as_str()
        .and_then(crate::time::parse_rfc3339_ms)
        .map(Some)
        .ok_or_else(|| RpcError::BadAnswer(format!("begin_legacy_wait returned {row}")))
}

/// What `record_prediction` did.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RecordOutcome {
    Recorded,
    /// Another prediction is held by the generation.
    Conflict {
        replicate_prediction_id: String,
    },
    /// Another generation already holds this prediction (a search matched someone else's input).
    Taken,
    /// The generation finished meanwhile (a user cancelled it): the prediction is not wanted.
    Finished {
        status: String,
    },
    NotFound,
}

/// Stores the prediction id on the generation (and marks it processing).
pub async fn record_prediction<R: Rpc>(
    rpc: &R,
    id: Uuid,
    prediction_id: &str,
) -> Result<RecordOutcome, RpcError> {
    let args = [
        SqlArg::new("p_generation_id", SqlType::Uuid, id.to_string()),
        SqlArg::new("p_prediction_id", SqlType::Text, prediction_id),
    ];
    let row = one(
        rpc.call("record_prediction", &args).await?,
        "record_prediction",
    )?;
    serde_json::from_value(row).map_err(|e| RpcError::BadAnswer(format!("record_prediction: {e}")))
}

/// What `begin_prediction_create` decided.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CreateIntent {
    /// The intent is recorded: send the create carrying owner mark `create_number`.
    Create {
        create_number: u32,
    },
    /// Create `create_number` was sent `age_secs` ago (database clock) at `sent_at` and its prediction was
    /// never recorded: look for it before anything else.
    Uncertain {
        create_number: u32,
        sent_at: String,
        age_secs: f64,
    },
    /// A prediction is recorded already (another runner got there first): resume it.
    Held {
        replicate_prediction_id: String,
    },
    /// The generation has had its `creates` creates: no more.
    CapReached {
        creates: u32,
    },
    /// The generation finished meanwhile (a user cancelled it).
    Finished {
        status: String,
    },
    NotFound,
}

/// Records, before a create is sent, that it is about to be: a new create (counted, at most
/// `max_creates` per generation), or — `resend` = the open create's number, after a search of its window
/// found nothing — the same create again.
pub async fn begin_prediction_create<R: Rpc>(
    rpc: &R,
    id: Uuid,
    max_creates: u32,
    resend: Option<u32>,
) -> Result<CreateIntent, RpcError> {
    let args = [
        SqlArg::new("p_generation_id", SqlType::Uuid, id.to_string()),
        SqlArg::new("p_max_creates", SqlType::Int, max_creates.to_string()),
        SqlArg::optional(
            "p_resend_create",
            SqlType::Int,
            resend.map(|n| n.to_string()),
        ),
    ];
    let row = one(
        rpc.call("begin_prediction_create", &args).await?,
        "begin_prediction_create",
    )?;
    serde_json::from_value(row)
        .map_err(|e| RpcError::BadAnswer(format!("begin_prediction_create: {e}")))
}

/// Forgets a prediction that can no longer deliver (and the intent of its create), so the next attempt
/// creates a new one (a counted re-create).
pub async fn clear_prediction<R: Rpc>(
    rpc: &R,
    id: Uuid,
    prediction_id: &str,
) -> Result<(), RpcError> {
    let args = [
        SqlArg::new("p_generation_id", SqlType::Uuid, id.to_string()),
        SqlArg::new("p_prediction_id", SqlType::Text, prediction_id),
    ];
    one(
        rpc.call("clear_prediction", &args).await?,
        "clear_prediction",
    )
    .map(drop)
}

/// Marks the generation processing (from pending/queued) and reads it; `None` when it does not exist.
pub async fn start_processing<R: Rpc>(
    rpc: &R,
    id: Uuid,
) -> Result<Option<StoredGeneration>, RpcError> {
    advance(rpc, "start_generation_processing", id).await
}

/// Marks the generation downloading (from pending/queued/processing) and reads it; `None` when it does
/// not exist. A finished (e.g. cancelled) generation is returned as it is.
pub async fn start_download<R: Rpc>(
    rpc: &R,
    id: Uuid,
) -> Result<Option<StoredGeneration>, RpcError> {
    advance(rpc, "start_generation_download", id).await
}

/// Calls a step function that moves the generation on and answers its row (null when missing).
async fn advance<R: Rpc>(
    rpc: &R,
    function: &'static str,
    id: Uuid,
) -> Result<Option<StoredGeneration>, RpcError> {
    let args = [SqlArg::new(
        "p_generation_id",
        SqlType::Uuid,
        id.to_string(),
    )];
    let row = one(rpc.call(function, &args).await?, function)?;
    if row.is_null() {
        return Ok(None);
    }
    serde_json::from_value(row)
        .map(Some)
        .map_err(|e| RpcError::BadAnswer(format!("{function}: {e}")))
}

/// One stored image of a generation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredOutput {
    pub storage_path: String,
    pub url: String,
    /// webp, png, jpeg or svg (the `images.format` column).
    pub format: &'static str,
    /// Bytes stored, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_size: Option<u64>,
}

/// Completes the generation with its stored images; returns the outcome word (`completed`, or the status
/// it already had, or `not_found`).
pub async fn complete<R: Rpc>(
    rpc: &R,
    id: Uuid,
    outputs: &[StoredOutput],
) -> Result<String, RpcError> {
    let args = [
        SqlArg::new("p_generation_id", SqlType::Uuid, id.to_string()),
        SqlArg::new(
            "p_outputs",
            SqlType::Jsonb,
            serde_json::to_string(outputs).unwrap_or_default(),
        ),
    ];
    let row = one(
        rpc.call("complete_generation", &args).await?,
        "complete_generation",
    )?;
    Ok(row
        .get("outcome")
        .and_then(|v| v.as_str())
        .unwrap_or("unknown")
        .to_owned())
}
