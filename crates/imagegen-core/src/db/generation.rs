//! Typed calls for running a generation: read it, record and clear its Replicate prediction.

use crate::ports::{Rpc, RpcError, SqlArg, SqlType};
use serde::Deserialize;
use uuid::Uuid;

/// A generation row as the worker needs it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StoredGeneration {
    pub id: Uuid,
    pub user_id: Uuid,
    pub prompt: String,
    pub model_id: String,
    pub params: serde_json::Value,
    pub status: String,
    pub replicate_prediction_id: Option<String>,
    pub created_at: String,
}

/// Reads a generation; `None` when it does not exist.
pub async fn load<R: Rpc>(rpc: &R, id: Uuid) -> Result<Option<StoredGeneration>, RpcError> {
    let row = one(rpc
        .call(
            "get_generation",
            &[SqlArg::new("p_id", SqlType::Uuid, id.to_string())],
        )
        .await?)?;
    if row.is_null() {
        return Ok(None);
    }
    serde_json::from_value(row)
        .map(Some)
        .map_err(|e| RpcError::BadAnswer(format!("get_generation: {e}")))
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
    let row = one(rpc.call("record_prediction", &args).await?)?;
    serde_json::from_value(row).map_err(|e| RpcError::BadAnswer(format!("record_prediction: {e}")))
}

/// Forgets a prediction that failed in a retryable way, so the next attempt creates a new one.
pub async fn clear_prediction<R: Rpc>(
    rpc: &R,
    id: Uuid,
    prediction_id: &str,
) -> Result<(), RpcError> {
    let args = [
        SqlArg::new("p_generation_id", SqlType::Uuid, id.to_string()),
        SqlArg::new("p_prediction_id", SqlType::Text, prediction_id),
    ];
    one(rpc.call("clear_prediction", &args).await?).map(drop)
}

fn one(rows: Vec<serde_json::Value>) -> Result<serde_json::Value, RpcError> {
    match <[serde_json::Value; 1]>::try_from(rows) {
        Ok([row]) => Ok(row),
        Err(rows) => Err(RpcError::BadAnswer(format!(
            "expected one row, got {}",
            rows.len()
        ))),
    }
}
