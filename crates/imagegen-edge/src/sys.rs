//! Raw bindings to what the JS side provides. Every call that can throw is marked `catch`.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const HOST_TS: &'static str = r#"
/** What the module needs from its host; built by supabase/functions/_shared/host.ts. */
export interface Host {
  /** Calls an allow-listed SQL function; `args` is a JSON array of {name, type, value}; resolves to a JSON array of rows. */
  rpc(fn: string, args: string): Promise<string>;
  env(name: string): string | undefined;
  log(line: string): void;
  /** Streams `source`'s body into the upload described by `upload` (JSON), at most `maxBytes`. */
  pipe(source: Response, upload: string, maxBytes: number): Promise<string>;
  /** Keeps the isolate alive until `promise` settles. */
  defer(promise: Promise<unknown>): void;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// The host object built by `supabase/functions/_shared/host.ts`.
    #[wasm_bindgen(typescript_type = "Host")]
    pub type Host;

    /// Calls an allow-listed SQL function: `args` is a JSON array of `{name, type, value}`; resolves to a
    /// JSON array of rows. Rejects with an `Error` whose `code` is a SQLSTATE or a connection error code.
    #[wasm_bindgen(method, catch)]
    pub fn rpc(this: &Host, function: &str, args: &str) -> Result<js_sys::Promise, JsValue>;

    /// Reads an environment variable.
    #[wasm_bindgen(method)]
    pub fn env(this: &Host, name: &str) -> Option<String>;

    /// Sends `upload` (JSON `{method, url, headers, timeout_ms}`) with `source`'s body streamed as its body,
    /// erroring with code `too_large` past `max_bytes`; resolves to JSON `{status, headers, body, bytes}`.
    #[wasm_bindgen(method, catch)]
    pub fn pipe(
        this: &Host,
        source: &web_sys::Response,
        upload: &str,
        max_bytes: f64,
    ) -> Result<js_sys::Promise, JsValue>;

    /// Keeps the isolate alive until `promise` settles (`EdgeRuntime.waitUntil` on Supabase).
    #[wasm_bindgen(method)]
    pub fn defer(this: &Host, promise: &js_sys::Promise);

    /// Writes one log line.
    #[wasm_bindgen(method)]
    pub fn log(this: &Host, line: &str);

    /// The global `setTimeout` (bound directly: no `window` in edge runtimes).
    #[wasm_bindgen(js_name = setTimeout)]
    pub fn set_timeout(callback: &js_sys::Function, ms: f64) -> JsValue;

    /// The global `clearTimeout`.
    #[wasm_bindgen(js_name = clearTimeout)]
    pub fn clear_timeout(id: &JsValue);

    /// The global `performance.now()`: monotonic, sub-millisecond.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    pub fn performance_now() -> f64;

    /// The global `crypto.randomUUID()` (bound directly: edge runtimes have no `window`).
    #[wasm_bindgen(js_namespace = crypto, js_name = randomUUID)]
    pub fn random_uuid() -> String;
}
