//! `/admin`: the simulator's own control surface (not part of Replicate; no token). Bad input answers
//! 400 `{"error": "..."}` naming what was wrong.
//!
//! - `GET  /admin/health` → `{"ok": true}`
//! - `GET  /admin/stats` → counters (creates per model, duplicate creates, faults fired, webhooks, ...)
//! - `GET  /admin/config`, `PATCH|POST /admin/config` with a partial settings object → the settings
//! - `GET  /admin/faults`, `POST /admin/faults` (one rule or an array; adds), `DELETE /admin/faults`
//! - `POST /admin/clock` `{"advance_secs": N}` → moves the simulated clock forward (expiry tests)
//! - `POST /admin/reset` → forgets predictions, counters, faults, rate-limit state and the clock offset

use hyper::Method;
use serde_json::{json, Value};

use super::reply::{self, Reply};
use super::router::Req;
use crate::faults::parse_rules;
use crate::state::{lock, App};

pub fn handle(app: &App, req: &Req, rest: &[&str]) -> Reply {
    match (&req.method, rest) {
        (&Method::GET, ["health"]) => reply::json(200, &json!({"ok": true})),
        (&Method::GET, ["stats"]) => stats(app),
        (&Method::GET, ["config"]) => reply::json(200, &*app.settings()),
        (&Method::PATCH | &Method::POST, ["config"]) => {
            with_json(req, |patch| match app.patch_settings(&patch) {
                Ok(settings) => reply::json(200, &settings),
                Err(e) => reply::admin_error(400, e),
            })
        }
        (&Method::GET, ["faults"]) => {
            reply::json(200, &json!({"faults": lock(&app.faults).rules()}))
        }
        (&Method::POST, ["faults"]) => with_json(req, |v| match parse_rules(&v) {
            Ok(rules) => {
                let mut book = lock(&app.faults);
                book.add(rules);
                reply::json(200, &json!({"faults": book.rules()}))
            }
            Err(e) => reply::admin_error(400, e),
        }),
        (&Method::DELETE, ["faults"]) => {
            lock(&app.faults).clear();
            reply::json(200, &json!({"faults": []}))
        }
        (&Method::POST, ["clock"]) => with_json(req, |v| {
            match v
                .get("advance_secs")
                .and_then(Value::as_f64)
                .filter(|s| s.is_finite() && *s >= 0.0)
            {
                Some(secs) if v.as_object().is_some_and(|o| o.len() == 1) => {
                    let offset = app.clock.advance(secs);
                    reply::json(
                        200,
                        &json!({"offset_secs": offset, "now": crate::clock::rfc3339(app.clock.now_us())}),
                    )
                }
                _ => reply::admin_error(400, "expected {\"advance_secs\": N} with N a number >= 0"),
            }
        }),
        (&Method::POST, ["reset"]) => {
            app.reset();
            reply::json(200, &json!({"ok": true}))
        }
        (_, ["health" | "stats" | "config" | "faults" | "clock" | "reset"]) => {
            reply::admin_error(405, format!("method {} not allowed here", req.method))
        }
        _ => reply::admin_error(
            404,
            "unknown admin endpoint; see health, stats, config, faults, clock, reset",
        ),
    }
}

fn with_json(req: &Req, f: impl FnOnce(Value) -> Reply) -> Reply {
    match serde_json::from_slice::<Value>(&req.body) {
        Ok(v) => f(v),
        Err(e) => reply::admin_error(400, format!("the body is not JSON: {e}")),
    }
}

fn stats(app: &App) -> Reply {
    let statuses = lock(&app.store).status_counts();
    let mut v = serde_json::to_value(&*app.counters()).unwrap_or_default();
    v["predictions_by_status"] = json!(statuses);
    v["faults_armed"] = json!(lock(&app.faults).rules().len());
    reply::json(200, &v)
}
