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

// Header lists cross the boundary as one string each way, "name\nvalue\n" per header (HTTP forbids line
// breaks in names and values), instead of several calls per header: on a start-generation request the
// per-header calls cost more than the handler's own work.
#[wasm_bindgen(inline_js = r#"
export function headerLines(headers) {
  let lines = "";
  for (const [name, value] of headers) lines += name + "\n" + value + "\n";
  return lines;
}
export function newResponse(body, status, lines) {
  const headers = new Headers();
  const parts = lines.split("\n");
  for (let i = 0; i + 1 < parts.length; i += 2) headers.append(parts[i], parts[i + 1]);
  return new Response(body, { status, headers });
}
"#)]
extern "C" {
    /// A `Headers` object's entries as `name\nvalue\n...` (names lower case, as `Headers` keeps them).
    #[wasm_bindgen(js_name = headerLines)]
    pub fn header_lines(headers: &web_sys::Headers) -> String;

    /// `new Response(body, { status, headers })` with the headers given as `name\nvalue\n...`.
    #[wasm_bindgen(js_name = newResponse, catch)]
    pub fn new_response(
        body: Option<&str>,
        status: u16,
        lines: &str,
    ) -> Result<web_sys::Response, JsValue>;
}

/// Splits `name\nvalue\n...` into pairs.
pub fn parse_header_lines(lines: &str) -> Vec<(String, String)> {
    let mut parts = lines.split('\n');
    let mut out = Vec::new();
    while let (Some(name), Some(value)) = (parts.next(), parts.next()) {
        out.push((name.to_owned(), value.to_owned()));
    }
    out
}

/// Joins pairs as `name\nvalue\n...`, leaving out any that carry a line break (no HTTP header can).
pub fn header_lines_of<N: AsRef<str>, V: AsRef<str>>(headers: &[(N, V)]) -> String {
    let mut lines = String::new();
    for (name, value) in headers {
        let (name, value) = (name.as_ref(), value.as_ref());
        if name.contains(['\n', '\r']) || value.contains(['\n', '\r']) {
            continue;
        }
        lines.push_str(name);
        lines.push('\n');
        lines.push_str(value);
        lines.push('\n');
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lines_round_trip_and_drop_line_breaks() {
        let headers = vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            ("x-empty".to_owned(), String::new()),
            ("x-bad".to_owned(), "a\nb".to_owned()),
        ];
        let lines = header_lines_of(&headers);
        assert_eq!(lines, "content-type\napplication/json\nx-empty\n\n");
        assert_eq!(parse_header_lines(&lines), headers[..2].to_vec());
        assert!(parse_header_lines("").is_empty());
    }
}
