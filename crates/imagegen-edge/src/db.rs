//! The database connection settings, chosen in Rust for host.ts's postgres.js pool.

use crate::sys::Host;
use imagegen_core::db::connect::ConnectOptions;
use wasm_bindgen::prelude::*;

/// `{url, max, prepare, ssl}` read from the host's environment; throws an `Error` with `code:
/// "misconfigured"` whose message names the variable (never its value: the URL holds the password).
#[wasm_bindgen(js_name = dbConnectOptions)]
pub fn db_connect_options(host: &Host) -> Result<String, JsValue> {
    ConnectOptions::from_env(|name| host.env(name))
        .map(|options| options.to_json())
        .map_err(|e| {
            let error = js_sys::Error::new(&e.to_string());
            // A JS property set on the Error itself, as host.ts's other misconfiguration errors carry.
            let _ = js_sys::Reflect::set(&error, &"code".into(), &"misconfigured".into());
            error.into()
        })
}
