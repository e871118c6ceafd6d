//! Typed calls to the webhook SQL functions (supabase/migrations/*_replicate_webhooks.sql).

use super::one;
use crate::ports::{Rpc, RpcError, SqlArg, SqlType};
use crate::replicate::{OwnerMark, Prediction};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

/// What recording one verified delivery did (`record_replicate_webhook`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum WebhookRecord {
    /// This `webhook-id` was recorded before: nothing changed.
    Duplicate,
    /// The generation it names does not exist (any more).
    UnknownGeneration,
    /// Not the prediction the generation holds (an earlier create's, or another generation's).
    NotCurrent,
    /// A non-terminal event: nothing to store.
    NotFinal,
    /// An earlier delivery recorded this prediction's end already.
    AlreadyRecorded,
    /// Stored; `woken` when a parked job was made due now (the caller wakes the worker).
    Recorded { woken: bool },
}

impl WebhookRecord {
    /// The outcome word, for the answer and the log.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Duplicate => "duplicate",
            Self::UnknownGeneration => "unknown_generation",
            Self::NotCurrent => "not_current",
            Self::NotFinal => "not_final",
            Self::AlreadyRecorded => "already_recorded",
            Self::Recorded { .. } => "recorded",
        }
    }
}

/// Records a verified delivery: `webhook_id` once, the prediction's end on its generation (the one the
/// delivery's owner mark names), and wakes the parked job.
pub async fn record<R: Rpc>(
    rpc: &R,
    webhook_id: &str,
    mark: OwnerMark,
    prediction: &Value,
) -> Result<WebhookRecord, RpcError> {
    let args = [
        SqlArg::new("p_webhook_id", SqlType::Text, webhook_id),
        SqlArg::new(
            "p_generation_id",
            SqlType::Uuid,
            mark.generation_id.to_string(),
        ),
        SqlArg::new(
            "p_create_number",
            SqlType::Int,
            mark.create_number.to_string(),
        ),
        SqlArg::new("p_prediction", SqlType::Jsonb, prediction.to_string()),
    ];
    let row = one(
        rpc.call("record_replicate_webhook", &args).await?,
        "record_replicate_webhook",
    )?;
    serde_json::from_value(row)
        .map_err(|e| RpcError::BadAnswer(format!("record_replicate_webhook: {e}")))
}

/// The end of the generation's current prediction as a webhook reported it, if one did.
pub async fn recorded_outcome<R: Rpc>(
    rpc: &R,
    generation: Uuid,
) -> Result<Option<Prediction>, RpcError> {
    let args = [SqlArg::new(
        "p_generation_id",
        SqlType::Uuid,
        generation.to_string(),
    )];
    let row = one(
        rpc.call("recorded_prediction_outcome", &args).await?,
        "recorded_prediction_outcome",
    )?;
    if row.is_null() {
        return Ok(None);
    }
    serde_json::from_value(row)
        .map(Some)
        .map_err(|e| RpcError::BadAnswer(format!("recorded_prediction_outcome: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_of_the_sql_function_parses() {
        let parse = |v: Value| serde_json::from_value::<WebhookRecord>(v).unwrap();
        assert_eq!(
            parse(serde_json::json!({"outcome": "recorded", "woken": true})),
            WebhookRecord::Recorded { woken: true }
        );
        for word in [
            "duplicate",
            "unknown_generation",
            "not_current",
            "not_final",
            "already_recorded",
        ] {
            assert_eq!(
                parse(serde_json::json!({"outcome": word, "woken": false})).as_str(),
                word
            );
        }
    }
}
