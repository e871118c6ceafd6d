//! `EdgeApp`: the object each function's wrapper creates once per isolate and calls per request.

use crate::host::JsHost;
use crate::http::{head, to_web, WebBody};
use crate::sys::Host;
use imagegen_core::config::{AppContext, ConfigError};
use imagegen_core::handlers;
use imagegen_core::handlers::legacy_wait::LegacyWaits;
use imagegen_core::handlers::process_jobs::{self, Background};
use imagegen_core::handlers::replicate_webhook::{self, SecretCache};
use imagegen_core::http::Response;
use imagegen_core::ports::Platform;
use imagegen_core::worker::{HeldJobs, Lifetime};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

struct Inner {
    host: JsHost,
    /// A configuration error is kept, not thrown: every request then answers 503 "not configured"
    /// (callers may not be signed in, so the answer names nothing) and the log line names the variable,
    /// instead of the function failing to boot with a stack trace.
    context: Result<AppContext, ConfigError>,
    /// generate-image's waits in flight in this isolate, which replayed calls join.
    legacy_waits: LegacyWaits,
    /// This isolate's wall clock, counted from the module's start (the first request loads it).
    lifetime: Lifetime,
    /// Jobs process-jobs' drains hold here, handed back on `beforeunload`.
    held: HeldJobs,
    /// replicate-webhook's signing secret when read from Replicate.
    webhook_secrets: SecretCache,
}

/// The application as exported to JS.
#[wasm_bindgen]
pub struct EdgeApp {
    inner: Rc<Inner>,
}

#[wasm_bindgen]
impl EdgeApp {
    /// Reads configuration through `host.env` once.
    #[wasm_bindgen(constructor)]
    pub fn new(host: Host) -> EdgeApp {
        let context = AppContext::from_env(|name| host.env(name));
        let host = JsHost(host);
        let wall_clock_secs = context
            .as_ref()
            .map_or(imagegen_core::config::DEFAULT_EDGE_WALL_CLOCK_SECS, |ctx| {
                ctx.config.edge_wall_clock_secs
            });
        let inner = Inner {
            lifetime: Lifetime::new(host.now_ms(), wall_clock_secs),
            host,
            context,
            legacy_waits: LegacyWaits::default(),
            held: HeldJobs::default(),
            webhook_secrets: SecretCache::default(),
        };
        if let Err(e) = &inner.context {
            inner.host.log(&serde_json::json!({"level": "error", "msg": "misconfigured", "variable": e.name, "detail": e.to_string()}).to_string());
        }
        EdgeApp {
            inner: Rc::new(inner),
        }
    }

    /// `start-generation`: resolves to a `Response`; never rejects for request errors.
    #[wasm_bindgen(js_name = startGeneration)]
    pub fn start_generation(&self, request: web_sys::Request) -> js_sys::Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let head = head(&request);
            let response = match &inner.context {
                Ok(ctx) => {
                    let response = handlers::start_generation::handle(
                        ctx,
                        &inner.host,
                        &inner.host,
                        &head,
                        WebBody(request),
                    )
                    .await;
                    if let Some(kick) = handlers::start_generation::kick_after(ctx, &response) {
                        wake_worker(&inner, kick);
                    }
                    response
                }
                Err(e) => misconfigured(&inner, e),
            };
            to_web(&response).map(JsValue::from)
        })
    }

    /// `process-generation` (service role): runs a generation's prediction and answers its outputs.
    #[wasm_bindgen(js_name = processGeneration)]
    pub fn process_generation(&self, request: web_sys::Request) -> js_sys::Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let head = head(&request);
            let response = match &inner.context {
                Ok(ctx) => {
                    handlers::process_generation::handle(
                        ctx,
                        &inner.host,
                        &inner.lifetime,
                        &head,
                        WebBody(request),
                    )
                    .await
                }
                Err(e) => misconfigured(&inner, e),
            };
            to_web(&response).map(JsValue::from)
        })
    }

    /// `process-jobs` (service role): the worker; answers at once what it claimed and runs the jobs in the
    /// background. Other valid tokens get a coalesced wake-up of the worker.
    #[wasm_bindgen(js_name = processJobs)]
    pub fn process_jobs(&self, request: web_sys::Request) -> js_sys::Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let head = head(&request);
            let response = match &inner.context {
                Ok(ctx) => {
                    let (response, background) =
                        process_jobs::handle(ctx, &inner.host, &inner.lifetime, &inner.held, &head)
                            .await;
                    match background {
                        Background::None => {}
                        Background::Wake(wake) => wake_worker(&inner, wake),
                        Background::Drain(claimed) => drain(&inner, claimed),
                    }
                    response
                }
                Err(e) => misconfigured(&inner, e),
            };
            to_web(&response).map(JsValue::from)
        })
    }

    /// `replicate-webhook`: Replicate's signed `completed` delivery; records the prediction's end and
    /// wakes the worker when a parked job became due.
    #[wasm_bindgen(js_name = replicateWebhook)]
    pub fn replicate_webhook(&self, request: web_sys::Request) -> js_sys::Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let head = head(&request);
            let response = match &inner.context {
                Ok(ctx) => {
                    let (response, wake) = replicate_webhook::handle(
                        ctx,
                        &inner.host,
                        &inner.webhook_secrets,
                        &head,
                        WebBody(request),
                    )
                    .await;
                    if let Some(wake) = wake {
                        wake_worker(&inner, wake);
                    }
                    response
                }
                Err(e) => misconfigured(&inner, e),
            };
            to_web(&response).map(JsValue::from)
        })
    }

    /// The runtime's `beforeunload`: hands every job this isolate holds back to the queue without
    /// spending an attempt; resolves to how many went back.
    #[wasm_bindgen(js_name = handBack)]
    pub fn hand_back(&self) -> js_sys::Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let held = inner.held.ids();
            let handed = inner.held.hand_back(&inner.host).await;
            if !held.is_empty() {
                inner.host.log(&serde_json::json!({"level": "warn", "msg": "isolate unloading: jobs handed back", "held": held, "handed_back": handed}).to_string());
            }
            Ok(JsValue::from(handed as u32))
        })
    }

    /// `generate-image` (legacy, synchronous): answers the finished generation, or 202 past its limit.
    #[wasm_bindgen(js_name = generateImage)]
    pub fn generate_image(&self, request: web_sys::Request) -> js_sys::Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let head = head(&request);
            let response = match &inner.context {
                Ok(ctx) => {
                    let (response, kick) = handlers::generate_image::handle(
                        ctx,
                        &inner.host,
                        &inner.legacy_waits,
                        &head,
                        WebBody(request),
                    )
                    .await;
                    if let Some(kick) = kick {
                        wake_worker(&inner, kick);
                    }
                    response
                }
                Err(e) => misconfigured(&inner, e),
            };
            to_web(&response).map(JsValue::from)
        })
    }

    /// The `public.models` rows the catalog defines, as JSON (what the generated migration writes); tests
    /// compare the database with it.
    #[wasm_bindgen(js_name = modelsRows)]
    pub fn models_rows() -> String {
        imagegen_core::catalog::models_rows_json().to_string()
    }

    /// `models`: the catalog for clients (no configuration needed).
    pub fn models(&self, request: web_sys::Request) -> Result<web_sys::Response, JsValue> {
        to_web(&handlers::models::handle(&head(&request)))
    }

    /// The check Supabase's gateway makes when `verify_jwt` is on: a valid project JWT of any role.
    /// Returns `undefined` when the request may pass, or the reason it may not.
    #[wasm_bindgen(js_name = gatewayRejection)]
    pub fn gateway_rejection(&self, authorization: Option<String>) -> Option<String> {
        // Supabase's gateway checks tokens with the project's keys, whatever this function's settings:
        // with ours broken, let the request through to the function, which answers "not configured".
        let Ok(ctx) = &self.inner.context else {
            return None;
        };
        handlers::gateway_check(
            &ctx.verifier,
            authorization.as_deref(),
            self.inner.host.now_ms(),
        )
        .err()
    }
}

/// Sends the kick in the background, kept alive by the host (`EdgeRuntime.waitUntil` on Supabase).
fn wake_worker(inner: &Rc<Inner>, kick: imagegen_core::ports::HttpRequest) {
    let background = inner.clone();
    let promise = future_to_promise(async move {
        if let Err(e) = imagegen_core::ports::HttpClient::send(&background.host, kick).await {
            background.host.log(&serde_json::json!({"level": "warn", "msg": "worker kick failed", "detail": e.to_string()}).to_string());
        }
        Ok(JsValue::UNDEFINED)
    });
    inner.host.0.defer(&promise);
}

/// Runs process-jobs' drain after its answer, kept alive by the host (`EdgeRuntime.waitUntil`).
fn drain(inner: &Rc<Inner>, claimed: process_jobs::Claimed) {
    let background = inner.clone();
    let promise = future_to_promise(async move {
        if let Ok(ctx) = &background.context {
            let (host, lifetime, held) = (&background.host, &background.lifetime, &background.held);
            process_jobs::drain(ctx, host, lifetime, held, claimed).await;
        }
        Ok(JsValue::UNDEFINED)
    });
    inner.host.0.defer(&promise);
}

/// Every request of a misconfigured function: the generic answer (ConfigError::answer), and again the
/// log line naming the variable, so it is found beside the request's own lines.
fn misconfigured(inner: &Inner, e: &ConfigError) -> Response {
    inner.host.log(&serde_json::json!({"level": "error", "msg": "misconfigured", "variable": e.name, "detail": e.to_string()}).to_string());
    Response::error(&e.answer()).with_header("retry-after", "60")
}
