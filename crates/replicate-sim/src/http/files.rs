//! Output files under `/delivery/{prediction}/out-{i}.{ext}` — the simulator's `replicate.delivery`.
//! Public like Replicate's file URLs (no token), gone (404) once the prediction's data is removed.

use std::sync::Arc;

use bytes::Bytes;
use imagegen_core::replicate::PredictionStatus;

use super::reply::{self, Reply};
use super::ResetConnection;
use crate::faults::{RequestFault, Target};
use crate::render::render;
use crate::state::{lock, App};

/// How many rendered files are kept for repeated downloads.
const CACHE_FILES: usize = 16;

pub async fn serve(app: &Arc<App>, id: &str, name: &str) -> Result<Reply, ResetConnection> {
    let (spec, content_type, model) = {
        let store = lock(&app.store);
        let Some(rec) = store.get(id) else {
            return Ok(reply::not_found("Not found."));
        };
        let expiry = app.settings().expiry_secs;
        let index = name
            .strip_prefix("out-")
            .and_then(|n| n.strip_suffix(&format!(".{}", rec.format().extension())))
            .and_then(|n| n.parse::<u32>().ok());
        let ok = rec.status == PredictionStatus::Succeeded
            && !rec.data_removed(app.clock.now_us(), expiry);
        match index {
            Some(i) if ok && i < rec.outputs => {
                let mut spec = rec.render.clone();
                spec.index = i;
                spec.target_bytes = app.settings().output_bytes;
                (spec, rec.format().content_type(), rec.model.id)
            }
            _ => return Ok(reply::not_found("Not found.")),
        }
    };
    let redirect = {
        let mut roll = || app.roll();
        lock(&app.faults).redirect(Some(model), &mut roll)
    };
    if let Some(location) = redirect {
        crate::counters::Counters::bump(&mut app.counters().faults_fired, "redirect");
        let location = location.unwrap_or_else(|| format!("/delivery/{id}/{name}"));
        return Ok(reply::redirect(&location));
    }
    if let Some(fault) = super::api::request_faults(app, Target::File, Some(model), false).await {
        return fault;
    }
    let key = format!("{id}/{name}/{}", spec.target_bytes);
    let cached = lock(&app.file_cache)
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, b)| b.clone());
    let bytes = match cached {
        Some(b) => b,
        None => {
            let bytes = tokio::task::spawn_blocking(move || Bytes::from(render(&spec)))
                .await
                .unwrap_or_default();
            let mut cache = lock(&app.file_cache);
            if cache.len() >= CACHE_FILES {
                cache.remove(0);
            }
            cache.push((key, bytes.clone()));
            bytes
        }
    };
    app.counters().files_served += 1;
    Ok(reply::file(content_type, bytes))
}

/// Convenience for the fault path shared with the API.
pub fn fault_reply(fault: RequestFault) -> Result<Reply, ResetConnection> {
    match fault {
        RequestFault::Throttle(s) => Ok(reply::throttled(s)),
        RequestFault::Status(s) => Ok(reply::server_error(s)),
        RequestFault::Reset => Err(ResetConnection),
    }
}
