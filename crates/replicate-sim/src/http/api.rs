//! Replicate's API under `/v1`: create (by model or by version), get, cancel, list, and the webhook
//! signing secret. Order of checks per request, as a client sees Replicate: token (401), rate limit
//! (429), injected faults, then the request itself (404/422), then the work.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hyper::Method;
use imagegen_core::replicate::{
    find_model, find_version, validate_create_body, validate_input, CreateEndpoint, ModelSchema,
    PredictionList, PredictionStatus, Problem, VersionRef, WebhookEvent,
};
use serde_json::Value;

use super::files::fault_reply;
use super::headers;
use super::reply::{self, Reply};
use super::router::Req;
use super::ResetConnection;
use crate::faults::{RequestFault, Target};
use crate::lifecycle::{self, Plan};
use crate::render::{dimensions, output_count, RenderSpec};
use crate::state::{lock, App};
use crate::store::Record;

/// Page size of `GET /v1/predictions` (Replicate: 100).
const PAGE: usize = 100;

/// The counter name of a `/v1` request.
pub fn endpoint_name(method: &Method, rest: &[&str]) -> &'static str {
    match (method, rest) {
        (&Method::POST, ["predictions"]) | (&Method::POST, ["models", _, _, "predictions"]) => {
            "create"
        }
        (&Method::GET, ["predictions"]) => "list",
        (&Method::GET, ["predictions", _]) => "get",
        (&Method::POST, ["predictions", _, "cancel"]) => "cancel",
        (&Method::GET, ["webhooks", "default", "secret"]) => "secret",
        _ => "other",
    }
}

pub async fn handle(app: &Arc<App>, req: &Req, rest: &[&str]) -> Result<Reply, ResetConnection> {
    let Some(token) = headers::token(req.header("authorization")) else {
        return Ok(reply::problem(&Problem::new(
            401,
            "Unauthenticated",
            "You did not pass an authentication token",
        )));
    };
    if app.api_token.as_deref().is_some_and(|t| t != token) {
        return Ok(reply::problem(&Problem::new(
            401,
            "Unauthenticated",
            "You did not pass a valid authentication token",
        )));
    }
    let endpoint = endpoint_name(&req.method, rest);
    if let Err(retry_after) = take_rate_limit(app, endpoint == "create") {
        app.counters().rate_limited += 1;
        return Ok(reply::throttled(retry_after));
    }
    match (&req.method, rest) {
        (&Method::POST, ["models", owner, name, "predictions"]) => {
            create(
                app,
                req,
                CreateEndpoint::Model,
                Some(format!("{owner}/{name}")),
            )
            .await
        }
        (&Method::POST, ["predictions"]) => create(app, req, CreateEndpoint::Version, None).await,
        (&Method::GET, ["predictions"]) => {
            if let Some(answer) = request_faults(app, Target::List, None, false).await {
                return answer;
            }
            Ok(list(app, req))
        }
        (&Method::GET, ["predictions", id]) => {
            let model = model_of(app, id);
            if let Some(answer) = request_faults(app, Target::Get, model, false).await {
                return answer;
            }
            Ok(get(app, id))
        }
        (&Method::POST, ["predictions", id, "cancel"]) => {
            let model = model_of(app, id);
            if let Some(answer) = request_faults(app, Target::Cancel, model, false).await {
                return answer;
            }
            Ok(cancel(app, id))
        }
        (&Method::GET, ["webhooks", "default", "secret"]) => {
            if let Some(answer) = request_faults(app, Target::Secret, None, false).await {
                return answer;
            }
            Ok(reply::json(
                200,
                &serde_json::json!({"key": app.secret.to_whsec()}),
            ))
        }
        (_, ["predictions"] | ["predictions", ..] | ["models", ..] | ["webhooks", ..]) => {
            Ok(reply::problem(&Problem::new(
                405,
                "Method not allowed",
                format!("Method \"{}\" not allowed.", req.method),
            )))
        }
        _ => Ok(reply::not_found("Not found.")),
    }
}

fn take_rate_limit(app: &App, create: bool) -> Result<(), u64> {
    let s = app.settings();
    let now = std::time::Instant::now();
    if create {
        lock(&app.create_bucket).take(now, s.create_limit_per_min, s.create_burst)
    } else {
        lock(&app.other_bucket).take(now, s.other_limit_per_min, s.other_burst)
    }
}

fn model_of(app: &App, id: &str) -> Option<&'static str> {
    lock(&app.store).get(id).map(|r| r.model.id)
}

/// Applies `slow` and then any answer-replacing fault for this request.
pub async fn request_faults(
    app: &App,
    target: Target,
    model: Option<&str>,
    after: bool,
) -> Option<Result<Reply, ResetConnection>> {
    let (slow, fault) = {
        let mut book = lock(&app.faults);
        let mut roll = || app.roll();
        let slow = book.slow(target, model, after, &mut roll);
        (slow, book.request(target, model, after, &mut roll))
    };
    if let Some(ms) = slow {
        crate::counters::Counters::bump(&mut app.counters().faults_fired, "slow");
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let fault = fault?;
    let name = match fault {
        RequestFault::Throttle(_) => "throttle",
        RequestFault::Status(_) => "status",
        RequestFault::Reset => "reset",
    };
    crate::counters::Counters::bump(&mut app.counters().faults_fired, name);
    Some(fault_reply(fault))
}

fn problem_422(fields: Vec<imagegen_core::replicate::InvalidField>) -> Reply {
    reply::problem(&Problem::validation(fields))
}

fn invalid_version() -> Problem {
    Problem::new(
        422,
        "Invalid version or not permitted",
        "The specified version does not exist (or perhaps you don't have permission to use it?)",
    )
}

/// Resolves the model a create targets, and the `version` its predictions show.
///
/// By version (`POST /v1/predictions`): a community model's published version, bare or as
/// `owner/name:<hex>`; an official model as `owner/name`, or as `owner/name:<hex>` with any well-formed
/// version id. Official models' version ids are not in the schema table (Replicate runs their current
/// version and shows `"hidden"`), so the simulator trusts the named model (unless the id is another catalog
/// model's known version) and runs the schema it knows; it shows the pinned id as the prediction's
/// `version`. A bare id of an official model is not resolvable here and is refused like an unknown version.
fn resolve(
    endpoint: CreateEndpoint,
    path_model: Option<&str>,
    body: &Value,
) -> Result<(&'static ModelSchema, String), Box<Problem>> {
    match endpoint {
        CreateEndpoint::Model => {
            let id = path_model.unwrap_or_default();
            match find_model(id) {
                Some(m) if m.is_official() => Ok((m, m.version_label().to_owned())),
                // Community models are run by version; their model endpoint is not available.
                Some(_) => Err(Box::new(Problem::new(
                    404,
                    "Not found",
                    "This model is not an official model; create predictions with POST /v1/predictions and a version.",
                ))),
                None => Err(Box::new(Problem::new(404, "Not found", "The requested model could not be found."))),
            }
        }
        CreateEndpoint::Version => {
            let v = body
                .get("version")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let resolved = match VersionRef::parse(v) {
                Some(VersionRef::Model(id)) => find_model(id)
                    .filter(|m| m.is_official())
                    .map(|m| (m, m.version_label().to_owned())),
                Some(VersionRef::ModelVersion { model, version }) => find_model(model)
                    .filter(|m| {
                        m.has_version(version)
                            || (m.is_official() && find_version(version).is_none())
                    })
                    .map(|m| (m, version.to_owned())),
                Some(VersionRef::Version(version)) => {
                    find_version(version).map(|m| (m, version.to_owned()))
                }
                None => None,
            };
            resolved.ok_or_else(|| Box::new(invalid_version()))
        }
    }
}

async fn create(
    app: &Arc<App>,
    req: &Req,
    endpoint: CreateEndpoint,
    path_model: Option<String>,
) -> Result<Reply, ResetConnection> {
    let body: Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(e) => {
            return Ok(reply::problem(&Problem::new(
                400,
                "Invalid JSON",
                format!("JSON parse error - {e}"),
            )))
        }
    };
    if let Err(fields) = validate_create_body(endpoint, &body) {
        app.counters().validation_failures += 1;
        return Ok(problem_422(fields));
    }
    let (model, version) = match resolve(endpoint, path_model.as_deref(), &body) {
        Ok(m) => m,
        Err(p) => return Ok(reply::problem(&p)),
    };
    if let Some(answer) = request_faults(app, Target::Create, Some(model.id), false).await {
        return answer;
    }
    let input = body.get("input").cloned().unwrap_or_default();
    if let Err(fields) = validate_input(model, &input) {
        app.counters().validation_failures += 1;
        return Ok(problem_422(fields));
    }
    let wait = headers::prefer_wait(req.header("prefer"));
    let deadline = match req.header("cancel-after") {
        None => None,
        Some(v) => match headers::cancel_after(v) {
            Some(d) => Some(d),
            None => {
                return Ok(reply::problem(&Problem::new(
                    400,
                    "Invalid Cancel-After header",
                    format!("Cancel-After must be a duration such as 30s, 5m or 1h (got {v:?})"),
                )))
            }
        },
    };
    let webhook = body
        .get("webhook")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let filter: Option<Vec<WebhookEvent>> = body
        .get("webhook_events_filter")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|e| e.as_str().and_then(WebhookEvent::parse))
                .collect()
        });

    let id = app.ids.prediction_id();
    let settings = app.settings().clone();
    let fault = lock(&app.faults).prediction(model.id, &mut || app.roll());
    let outputs = output_count(model, &input);
    let outcome = App::outcome_for(&fault, model.safety, outputs);
    if fault != crate::faults::PredictionFault::None {
        let name = format!("{fault:?}").to_lowercase();
        let name = name.split('(').next().unwrap_or("fail").to_owned();
        crate::counters::Counters::bump(&mut app.counters().faults_fired, &name);
    }
    let scale = |ms: f64| Duration::from_secs_f64((ms * settings.time_scale / 1000.0).max(0.0));
    let cold = app.take_cold_start(model.id, model.is_official(), &settings);
    let queue_ms = settings.queue_ms as f64
        + if cold {
            settings.cold_start_ms as f64
        } else {
            0.0
        };
    let latency = settings.latency_of(model.id);
    let run_ms = lifecycle::sample_ms(latency.median_ms, latency.spread, app.roll(), app.roll());
    let plan = Plan {
        start_after: (fault != crate::faults::PredictionFault::Stuck).then(|| scale(queue_ms)),
        run_for: scale(run_ms),
        deadline,
        outcome,
    };
    let seed = input
        .get("seed")
        .and_then(Value::as_i64)
        .map_or_else(|| app.ids.next_u64() >> 32, |s| s as u64);
    let (width, height) = dimensions(model, &input);
    let quality = input
        .get("output_quality")
        .and_then(Value::as_u64)
        .unwrap_or(80)
        .clamp(1, 100) as u8;
    let render = RenderSpec {
        prompt: model
            .value_or_default(&input, "prompt")
            .and_then(|p| p.as_str().map(str::to_owned))
            .unwrap_or_default(),
        seed,
        index: 0,
        width,
        height,
        format: model.output_format(&input),
        quality,
        target_bytes: 0,
    };
    let now = app.clock.now_us();
    let (status_tx, mut status_rx) = tokio::sync::watch::channel(PredictionStatus::Starting);
    let hooks = webhook
        .clone()
        .map(|url| crate::webhooks::spawn_queue(app.clone(), url, model.id));
    app.counters()
        .record_create(model.id, &input, webhook.as_deref());
    app.insert(Record {
        id: id.clone(),
        model,
        version,
        input,
        status: PredictionStatus::Starting,
        created_us: now,
        started_us: None,
        completed_us: None,
        logs: String::new(),
        outputs: 0,
        error: None,
        webhook,
        webhook_events_filter: filter,
        deadline_us: deadline.map(|d| now + d.as_micros() as i64),
        render,
        status_tx,
        hooks,
    });
    lifecycle::spawn(app.clone(), id.clone(), plan);

    if let Some(answer) = request_faults(app, Target::Create, Some(model.id), true).await {
        return answer;
    }
    if let Some(wait) = wait {
        let _ = tokio::time::timeout(wait, status_rx.wait_for(|s| s.is_terminal())).await;
    }
    let (view, done) = {
        let store = lock(&app.store);
        let Some(rec) = store.get(&id) else {
            return Ok(reply::not_found("Not found."));
        };
        (
            rec.view(&app.base_url, app.clock.now_us(), settings.expiry_secs),
            rec.status.is_terminal(),
        )
    };
    // 201 Created, or 202 Accepted when `Prefer: wait` ran out before the prediction finished.
    let status = if wait.is_some() && !done { 202 } else { 201 };
    Ok(reply::json(status, &view))
}

fn get(app: &App, id: &str) -> Reply {
    let expiry = app.settings().expiry_secs;
    match lock(&app.store).get(id) {
        Some(rec) => reply::json(200, &rec.view(&app.base_url, app.clock.now_us(), expiry)),
        None => reply::not_found("Not found."),
    }
}

fn cancel(app: &App, id: &str) -> Reply {
    if app.stop(id, false) {
        app.counters().cancels += 1;
    }
    get(app, id)
}

fn list(app: &App, req: &Req) -> Reply {
    let offset: usize = req
        .query_param("cursor")
        .and_then(|c| URL_SAFE_NO_PAD.decode(c).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let expiry = app.settings().expiry_secs;
    let now = app.clock.now_us();
    let store = lock(&app.store);
    // Whether Replicate's list shows `webhook` is not documented: the list here leaves it out (the worst
    // case for a client looking for its prediction by owner mark, which must then GET the candidates).
    let results: Vec<_> = store
        .newest_first(offset, PAGE)
        .map(|r| {
            let mut view = r.view(&app.base_url, now, expiry);
            view.webhook = None;
            view.webhook_events_filter = None;
            view
        })
        .collect();
    let link = |off: usize| {
        format!(
            "{}/v1/predictions?cursor={}",
            app.base_url,
            URL_SAFE_NO_PAD.encode(off.to_string())
        )
    };
    let page = PredictionList {
        previous: (offset > 0).then(|| link(offset.saturating_sub(PAGE))),
        next: (offset + PAGE < store.len()).then(|| link(offset + PAGE)),
        results,
    };
    reply::json(200, &page)
}
