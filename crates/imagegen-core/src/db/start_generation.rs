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
    /// The user has `pending` images in progress and `images` more would pass `limit`.
    PendingLimit {
        pending: i64,
        limit: i64,
        #[serde(default = "one_image")]
        images: i64,
    },
    /// A usage limit refuses the charge (nothing was written).
    #[serde(rename = "usage_limit")]
    UsageLimit(UsageRefusal),
    /// The request alone costs more than a usage limit allows.
    #[serde(rename = "usage_request_too_large")]
    UsageRequestTooLarge(UsageRefusal),
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

fn one_image() -> i64 {
    1
}

/// Which usage limit refused a generation (`admit_generation` in `..._usage_limits.sql`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UsageRefusal {
    /// `user_hour`, `user_day`, `anonymous_hour`, `anonymous_day` or `project_hour`.
    pub scope: String,
    pub limit: i64,
    /// Units used in the window (absent when the request alone is too large).
    #[serde(default)]
    pub used: Option<i64>,
    /// Units this request would cost.
    pub units: i64,
    /// When the same request fits again (absent when it never will).
    #[serde(default)]
    pub retry_after_seconds: Option<u64>,
}

/// The caller's limits that the SQL cannot know: the pending limit set for the functions
/// (`MAX_PENDING_GENERATIONS`) and whether the token is an anonymous sign-in's (their own limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallerLimits {
    pub max_pending: u32,
    pub anonymous: bool,
}

/// The arguments both functions share: the validated request as the row stores it (SQL fills the
/// original columns from `p_params`). Arguments at their SQL default are left out: fewer bytes per call,
/// and the host prepares one statement per argument set.
fn request_args(
    request: &GenerationRequest,
    model_row: Option<Uuid>,
    limits: CallerLimits,
) -> Vec<SqlArg> {
    let mut args = vec![
        SqlArg::new("p_prompt", SqlType::Text, request.prompt.as_str()),
        SqlArg::new("p_replicate_model", SqlType::Text, request.model.id),
        SqlArg::new("p_params", SqlType::Jsonb, request.params().to_string()),
        SqlArg::new(
            "p_max_pending",
            SqlType::Int,
            limits.max_pending.to_string(),
        ),
    ];
    if limits.anonymous {
        args.push(SqlArg::new("p_anonymous", SqlType::Bool, "true"));
    }
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
    limits: CallerLimits,
) -> Result<StartOutcome, RpcError> {
    let mut args = request_args(request, model_row, limits);
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
    limits: CallerLimits,
) -> Result<StartOutcome, RpcError> {
    let mut args = request_args(request, model_row, limits);
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
