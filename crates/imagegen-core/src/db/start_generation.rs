//! Accepting a generation in SQL (see migration `..._generation_flow.sql`):
//! - `start_generation(...)`: inserts the generation row (status queued) and its `generate-image` job in one
//!   transaction, applying idempotency and the per-user pending limit;
//! - `attach_generation(...)`: the mobile app's flow, where the client inserted its own pending row and
//!   generate-image brings the request for it;
//! - `resolve_model(uuid)`: the models row a `models.id` names.

use crate::ports::{Rpc, RpcError, SqlArg, SqlType};
use crate::request::{GenerationRequest, IdempotencyKey};
use serde::Deserialize;
use uuid::Uuid;

/// Name of the SQL function; the host's allow-list must contain it.
pub const FUNCTION: &str = "start_generation";

/// A queue job id: bigint in SQL, a string in the answers (the original's were uuids, so clients hold
/// them as strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub i64);

/// What `start_generation` or `attach_generation` did.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum StartOutcome {
    /// A new generation and its job were written.
    Created {
        generation_id: Uuid,
        job_id: JobId,
        status: String,
    },
    /// A client-inserted row got its request and job.
    Attached {
        generation_id: Uuid,
        job_id: JobId,
        status: String,
    },
    /// Seen before (same Idempotency-Key and request, or a row already attached): nothing was written.
    Existing {
        generation_id: Uuid,
        job_id: Option<JobId>,
        status: String,
    },
    /// The idempotency key was used before for a different request: nothing was written.
    IdempotencyConflict { generation_id: Uuid },
    /// The user already has `pending` unfinished generations, at or over `limit`.
    PendingLimit { pending: i64, limit: i64 },
    /// The token's user is not in `auth.users` (deleted after the token was issued).
    UnknownUser,
    /// attach: no such row, or not the caller's (the same answer, so ids are no oracle).
    NotFound,
    /// attach: the row was cancelled or failed before it was attached.
    NotPending {
        status: String,
        #[serde(default)]
        error_message: Option<String>,
    },
}

/// The arguments both functions share: the validated request as the row stores it (SQL fills the
/// original columns from `p_params`). Arguments at their SQL default are left out: fewer bytes per call,
/// and the host prepares one statement per argument set.
fn request_args(
    request: &GenerationRequest,
    model_row: Option<Uuid>,
    max_pending: u32,
) -> Vec<SqlArg> {
    let mut args = vec![
        SqlArg::new("p_prompt", SqlType::Text, request.prompt.as_str()),
        SqlArg::new("p_replicate_model", SqlType::Text, request.model.id),
        SqlArg::new("p_params", SqlType::Jsonb, request.params().to_string()),
        SqlArg::new("p_max_pending", SqlType::Int, max_pending.to_string()),
    ];
    if !request.adjusted.is_empty() {
        let adjusted = request.adjusted_json().to_string();
        args.push(SqlArg::new("p_adjusted", SqlType::Jsonb, adjusted));
    }
    if let Some(id) = model_row {
        args.push(SqlArg::new("p_model_id", SqlType::Uuid, id.to_string()));
    }
    args
}

/// Calls `start_generation` for `user` (one database round trip). `model_row` is the `models.id` the
/// client named, when it named the model that way.
pub async fn call<R: Rpc>(
    rpc: &R,
    user: Uuid,
    request: &GenerationRequest,
    model_row: Option<Uuid>,
    idempotency_key: Option<&IdempotencyKey>,
    max_pending: u32,
) -> Result<StartOutcome, RpcError> {
    let mut args = request_args(request, model_row, max_pending);
    args.push(SqlArg::new("p_user_id", SqlType::Uuid, user.to_string()));
    if let Some(key) = idempotency_key {
        args.push(SqlArg::new(
            "p_idempotency_key",
            SqlType::Text,
            key.as_str(),
        ));
        let fingerprint = request.fingerprint();
        args.push(SqlArg::new(
            "p_request_fingerprint",
            SqlType::Text,
            fingerprint,
        ));
    }
    outcome(rpc, FUNCTION, &args).await
}

/// Calls `attach_generation`: the request for the client-inserted row `generation_id` of `user`.
pub async fn attach<R: Rpc>(
    rpc: &R,
    user: Uuid,
    generation_id: Uuid,
    request: &GenerationRequest,
    model_row: Option<Uuid>,
    max_pending: u32,
) -> Result<StartOutcome, RpcError> {
    let mut args = request_args(request, model_row, max_pending);
    args.extend([
        SqlArg::new("p_user_id", SqlType::Uuid, user.to_string()),
        SqlArg::new("p_generation_id", SqlType::Uuid, generation_id.to_string()),
    ]);
    outcome(rpc, "attach_generation", &args).await
}

async fn outcome<R: Rpc>(
    rpc: &R,
    function: &'static str,
    args: &[SqlArg],
) -> Result<StartOutcome, RpcError> {
    let row = super::one(rpc.call(function, args).await?, function)?;
    serde_json::from_value(row.clone())
        .map_err(|e| RpcError::BadAnswer(format!("{function}: {e}: {row}")))
}

/// A `models` row as `resolve_model` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ModelRow {
    pub id: Uuid,
    pub name: String,
    pub replicate_id: String,
    pub version: Option<String>,
    #[serde(default)]
    pub is_active: Option<bool>,
}

/// The models row with this id, if any (one round trip; only for requests that name a model by uuid).
pub async fn resolve_model<R: Rpc>(rpc: &R, id: Uuid) -> Result<Option<ModelRow>, RpcError> {
    let args = [SqlArg::new("p_id", SqlType::Uuid, id.to_string())];
    let row = super::one(rpc.call("resolve_model", &args).await?, "resolve_model")?;
    if row.is_null() {
        return Ok(None);
    }
    serde_json::from_value(row)
        .map(Some)
        .map_err(|e| RpcError::BadAnswer(format!("resolve_model: {e}")))
}
