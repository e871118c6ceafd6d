//! `public.start_generation(...)`: inserts the generation row and its `generate-image` job in one
//! transaction, applying idempotency and the per-user pending limit (see the migration for the SQL).

use crate::ports::{Rpc, RpcError, SqlArg, SqlType};
use crate::request::{GenerationRequest, IdempotencyKey};
use serde::Deserialize;
use uuid::Uuid;

/// Name of the SQL function; the host's allow-list must contain it.
pub const FUNCTION: &str = "start_generation";

/// What `start_generation` did.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum StartOutcome {
    /// A new generation and its job were written.
    Created { generation_id: Uuid, status: String },
    /// The idempotency key was seen before with the same request: nothing was written.
    Existing { generation_id: Uuid, status: String },
    /// The idempotency key was used before for a different request: nothing was written.
    IdempotencyConflict { generation_id: Uuid },
    /// The user already has `pending` unfinished generations, at or over `limit`.
    PendingLimit { pending: i64, limit: i64 },
    /// The token's user is not in `auth.users` (deleted after the token was issued).
    UnknownUser,
}

/// Calls `start_generation` for `user` (one database round trip).
pub async fn call<R: Rpc>(
    rpc: &R,
    user: Uuid,
    request: &GenerationRequest,
    idempotency_key: Option<&IdempotencyKey>,
    max_pending: u32,
) -> Result<StartOutcome, RpcError> {
    let args = [
        SqlArg::new("p_user_id", SqlType::Uuid, user.to_string()),
        SqlArg::new("p_prompt", SqlType::Text, request.prompt.as_str()),
        SqlArg::new("p_model_id", SqlType::Text, request.model.id),
        SqlArg::new("p_params", SqlType::Jsonb, request.params().to_string()),
        SqlArg::optional(
            "p_idempotency_key",
            SqlType::Text,
            idempotency_key.map(|k| k.as_str()),
        ),
        SqlArg::optional(
            "p_request_fingerprint",
            SqlType::Text,
            idempotency_key.map(|_| request.fingerprint()),
        ),
        SqlArg::new("p_max_pending", SqlType::Int, max_pending.to_string()),
    ];
    let rows = rpc.call(FUNCTION, &args).await?;
    let row = super::one(rows, FUNCTION)?;
    serde_json::from_value(row.clone())
        .map_err(|e| RpcError::BadAnswer(format!("{FUNCTION}: {e}: {row}")))
}
