//! `POST /functions/v1/start-generation`: verify the user's token, parse the body, make one SQL call,
//! answer `{success, generation_id, job_id, status: "queued", message, adjusted}`.

use super::{auth_error, database_error, request_id, usage, verify_token};
use crate::config::AppContext;
use crate::db::start_generation::{self as db, JobId, StartOutcome};
use crate::error::ApiError;
use crate::http::{RequestHead, Response};
use crate::image_input;
use crate::log::RequestLog;
use crate::ports::{BodyError, Platform, RequestBody, Rpc};
use crate::request::{
    body_too_large, GenerationRequest, IdempotencyKey, RawRequest, ResolvedModel, MAX_BODY_BYTES,
};

/// Function name, as deployed and as logged.
pub const NAME: &str = "start-generation";

/// Handles one request; never fails: every error becomes a JSON answer and a log line.
pub async fn handle<P: Platform, R: Rpc, B: RequestBody>(
    ctx: &AppContext,
    platform: &P,
    rpc: &R,
    head: &RequestHead,
    body: B,
) -> Response {
    let started = platform.monotonic_ms();
    let id = request_id(head, platform);
    let mut log = RequestLog::new(NAME, id.clone(), &head.method);
    let response = match head.method.as_str() {
        "OPTIONS" => Ok(Response::preflight()),
        "POST" => run(ctx, rpc, head, body, platform.now_ms(), &mut log).await,
        "GET" => status(ctx, rpc, head, platform.now_ms(), &mut log).await,
        _ => Err(ApiError::new(
            405,
            "method_not_allowed",
            "use POST to start a generation, GET ?id= to read one",
        )),
    };
    let response = match response {
        Ok(r) => r,
        Err(e) => {
            log.code = Some(e.code);
            let r = Response::error(&e);
            if e.status == 405 {
                r.with_header("allow", "GET, POST, OPTIONS")
            } else {
                r
            }
        }
    };
    platform.log(&log.finish(response.status, platform.monotonic_ms() - started));
    response.with_header("x-request-id", id)
}

async fn run<R: Rpc, B: RequestBody>(
    ctx: &AppContext,
    rpc: &R,
    head: &RequestHead,
    body: B,
    now_ms: f64,
    log: &mut RequestLog,
) -> Result<Response, ApiError> {
    let a = accept(ctx, rpc, head, body, now_ms, log, Attach::Never).await?;
    let response = Response::json(200, a.answer().to_string());
    Ok(if a.replayed {
        response.with_header("idempotent-replayed", "true")
    } else {
        response
    })
}

/// A request accepted by `start_generation` (or `attach_generation`): new, or a replay of an earlier one.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Accepted {
    pub generation_id: uuid::Uuid,
    pub job_id: Option<JobId>,
    pub status: String,
    pub replayed: bool,
    /// What was changed to fit the model (empty for replays: the first answer said it).
    pub adjusted: serde_json::Value,
}

impl Accepted {
    /// The answer: the original start-generation's fields (`success`, `generation_id`, `job_id` as a
    /// string, `status`, `message`), then this project's (`adjusted`).
    pub fn answer(&self) -> serde_json::Value {
        let message = if self.replayed {
            "This generation was already started; status is its current state."
        } else {
            "Generation queued. Follow its row in image_generations for progress."
        };
        serde_json::json!({
            "success": true,
            "generation_id": self.generation_id,
            "job_id": self.job_id.map(|j| j.0.to_string()),
            "status": self.status,
            "message": message,
            "adjusted": self.adjusted,
        })
    }
}

/// Whether a body's `generation_id` (the mobile app's own pending row) is honoured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attach {
    /// start-generation: always a new row; a `generation_id` in the body is ignored.
    Never,
    /// generate-image: a `generation_id` names the caller's row, which the request is attached to.
    IfNamed,
}

/// Everything start-generation does before answering: token, body, the one SQL call (two when the
/// model is named by its `models.id`). Shared with the legacy generate-image function, so both accept and
/// refuse exactly the same requests.
pub(crate) async fn accept<R: Rpc, B: RequestBody>(
    ctx: &AppContext,
    rpc: &R,
    head: &RequestHead,
    body: B,
    now_ms: f64,
    log: &mut RequestLog,
    attach: Attach,
) -> Result<Accepted, ApiError> {
    // Authenticate before reading the body: anonymous callers learn nothing about validation.
    let claims = verify_token(head, &ctx.verifier, now_ms)?;
    let user = claims.require_user().map_err(auth_error)?;
    log.user_id = Some(user);

    let idempotency_key = head
        .header("idempotency-key")
        .map(IdempotencyKey::parse)
        .transpose()?;
    let bytes = body
        .read_limited(MAX_BODY_BYTES)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge => body_too_large(),
            BodyError::Read(why) => ApiError::invalid(
                "body",
                "body_unreadable",
                format!("request body could not be read: {why}"),
            ),
        })?;
    let raw = RawRequest::parse(&bytes)?;
    let row = match attach {
        Attach::Never => None,
        Attach::IfNamed => raw.generation_id()?,
    };
    let (request, model_row) = validate(rpc, &raw, log).await?;
    check_image_url(ctx, &raw, &request)?;

    let limits = db::CallerLimits {
        max_pending: ctx.config.max_pending,
        anonymous: claims.is_anonymous,
    };
    let outcome = match row {
        None => {
            let key = idempotency_key.as_ref();
            db::call(rpc, user, &request, model_row, key, limits).await
        }
        Some(row) => db::attach(rpc, user, row, &request, model_row, limits).await,
    }
    .map_err(|e| {
        log.detail = Some(e.to_string());
        database_error(&e)
    })?;
    let accepted = |generation_id, job_id, status, replayed, adjusted| {
        Ok(Accepted {
            generation_id,
            job_id,
            status,
            replayed,
            adjusted,
        })
    };
    match outcome {
        StartOutcome::Created {
            generation_id,
            job_id,
            status,
        }
        | StartOutcome::Attached {
            generation_id,
            job_id,
            status,
        } => {
            log.generation_id = Some(generation_id);
            accepted(generation_id, Some(job_id), status, false, request.adjusted_json())
        }
        StartOutcome::Existing {
            generation_id,
            job_id,
            status,
        } => {
            log.generation_id = Some(generation_id);
            log.replayed = true;
            accepted(generation_id, job_id, status, true, serde_json::json!([]))
        }
        StartOutcome::IdempotencyConflict { generation_id } => {
            log.generation_id = Some(generation_id);
            Err(ApiError {
                status: 422,
                code: "idempotency_key_reused",
                message: "this Idempotency-Key was already used for a different request".into(),
                field: Some("Idempotency-Key"),
                retry_after_secs: None,
            })
        }
        StartOutcome::PendingLimit { pending, limit, images } => Err(ApiError::new(
            429,
            "too_many_pending",
            format!(
                "you have {pending} images in progress and this request adds {images}; the limit is {limit}, so wait for one to finish"
            ),
        )
        .retry_after(usage::PENDING_RETRY_SECS)),
        StartOutcome::UsageLimit(refusal) => Err(usage::limit_error(&refusal)),
        StartOutcome::UsageRequestTooLarge(refusal) => Err(usage::too_large_error(&refusal)),
        StartOutcome::UnknownUser => Err(ApiError::new(401, "user_not_found", "the user of this token no longer exists")),
        StartOutcome::NotFound => Err(ApiError {
            status: 404,
            code: "generation_not_found",
            message: "generation_id does not name a generation of yours".into(),
            field: Some("generation_id"),
            retry_after_secs: None,
        }),
        StartOutcome::NotPending { status, error_message } => {
            // The row's reason may be older than this backend (the original wrote raw errors there):
            // the log keeps it, the answer says only the status.
            log.detail = error_message;
            Err(ApiError {
                status: 409,
                code: "generation_not_pending",
                message: format!("this generation is already {status}"),
                field: Some("generation_id"),
                retry_after_secs: None,
            })
        }
    }
}

/// The request validated against its model. A `model_id` that is a `models.id` uuid (what the web app
/// sends) is looked up first; an unknown or inactive row is an unknown model.
pub(crate) async fn validate<R: Rpc>(
    rpc: &R,
    raw: &RawRequest,
    log: &mut RequestLog,
) -> Result<(GenerationRequest, Option<uuid::Uuid>), ApiError> {
    let Some(id) = raw.model_uuid() else {
        return Ok((raw.validate(None)?, None));
    };
    let row = db::resolve_model(rpc, id).await.map_err(|e| {
        log.detail = Some(e.to_string());
        database_error(&e)
    })?;
    match row {
        Some(m) if m.is_active != Some(false) => {
            let resolved = ResolvedModel {
                replicate_id: &m.replicate_id,
                version: m.version.as_deref(),
            };
            Ok((raw.validate(Some(resolved))?, Some(m.id)))
        }
        _ => Err(ApiError::invalid(
            "model_id",
            "unknown_model",
            format!("model_id {id} is not an available model; GET /functions/v1/models lists them"),
        )),
    }
}

/// An input image must come from this project's Storage or an allowed host (`image_input`): 422
/// `invalid_image_url` naming the client's field otherwise, before anything is written.
pub(crate) fn check_image_url(
    ctx: &AppContext,
    raw: &RawRequest,
    request: &GenerationRequest,
) -> Result<(), ApiError> {
    match &request.image_url {
        Some(url) => ctx
            .config
            .image_inputs
            .check(url.as_str())
            .map_err(|why| image_input::refused_url(raw.image_field(), &why)),
        None => Ok(()),
    }
}

/// `GET ?id=<generation id>`: the generation, to its owner only (others get 404, as if it did not exist).
async fn status<R: Rpc>(
    ctx: &AppContext,
    rpc: &R,
    head: &RequestHead,
    now_ms: f64,
    log: &mut RequestLog,
) -> Result<Response, ApiError> {
    let claims = verify_token(head, &ctx.verifier, now_ms)?;
    let user = claims.require_user().map_err(auth_error)?;
    log.user_id = Some(user);
    let raw = head.query_param("id").ok_or_else(|| {
        ApiError::invalid(
            "id",
            "id_missing",
            "add ?id=<generation_id> to read a generation",
        )
    })?;
    let id = uuid::Uuid::parse_str(raw.trim())
        .map_err(|_| ApiError::invalid("id", "invalid_id", "id must be a generation UUID"))?;
    log.generation_id = Some(id);
    let generation = crate::db::generation::load(rpc, id).await.map_err(|e| {
        log.detail = Some(e.to_string());
        database_error(&e)
    })?;
    match generation {
        Some(g) if g.user_id == user => Ok(Response::json(200, generation_json(&g).to_string())),
        _ => Err(ApiError::new(
            404,
            "generation_not_found",
            "no such generation",
        )),
    }
}

/// What clients see of a generation (the row's client-facing columns).
pub(crate) fn generation_json(g: &crate::db::generation::StoredGeneration) -> serde_json::Value {
    serde_json::json!({
        "generation_id": g.id,
        "id": g.id,
        "status": g.status,
        "prompt": g.prompt,
        "model": g.model,
        "model_id": g.model_id,
        "replicate_model": g.replicate_model,
        "params": g.params,
        "adjusted": g.adjusted,
        "image_url": g.image_url,
        "storage_path": g.storage_path,
        "outputs": g.outputs,
        "error_message": g.error_message,
        "created_at": g.created_at,
        "updated_at": g.updated_at,
        "started_at": g.started_at,
        "completed_at": g.completed_at,
        "generation_time_seconds": g.generation_time_seconds,
    })
}

/// The background call that wakes process-jobs after a new generation was accepted (not after replays
/// or errors), so its job starts within milliseconds instead of at the next pg_cron minute.
pub fn kick_after(ctx: &AppContext, response: &Response) -> Option<crate::ports::HttpRequest> {
    let replay = response
        .headers
        .iter()
        .any(|(k, _)| *k == "idempotent-replayed");
    if response.status != 200 || replay {
        return None;
    }
    worker_kick(ctx)
}

/// `POST <SUPABASE_URL>/functions/v1/process-jobs` with the service key (in `apikey` and
/// `Authorization`), when kicking is on.
pub(crate) fn worker_kick(ctx: &AppContext) -> Option<crate::ports::HttpRequest> {
    if !ctx.config.worker.kick {
        return None;
    }
    wake_request(ctx, "start-generation")
}

/// The call that wakes process-jobs, whatever `WORKER_KICK` says (`None` without a URL or service key).
/// How long the kick waits for process-jobs' answer.
const KICK_TIMEOUT_MS: u32 = 10_000;

pub(crate) fn wake_request(ctx: &AppContext, source: &str) -> Option<crate::ports::HttpRequest> {
    let config = &ctx.config;
    let (base, key) = (
        config.supabase_url.as_deref()?,
        config.service_key.as_deref()?,
    );
    Some(crate::ports::HttpRequest {
        method: "POST",
        url: format!("{base}/functions/v1/process-jobs"),
        headers: crate::api_keys::service_headers(key)
            .into_iter()
            .chain([("content-type", "application/json".into())])
            .collect(),
        body: Some(
            serde_json::json!({ "source": source })
                .to_string()
                .into_bytes(),
        ),
        // process-jobs answers as soon as it has claimed (it drains in the background), so a short
        // timeout covers a cold start; a longer one would keep this isolate alive for nothing.
        timeout_ms: KICK_TIMEOUT_MS,
    })
}

#[cfg(test)]
#[path = "start_generation_tests.rs"]
mod tests;
