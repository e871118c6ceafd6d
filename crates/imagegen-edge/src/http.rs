//! Conversion between web `Request`/`Response` objects and the domain's host-independent types.

use imagegen_core::http::{RequestHead, Response};
use imagegen_core::ports::{BodyError, RequestBody};
use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Method and headers of a web `Request`.
pub fn head(request: &web_sys::Request) -> RequestHead {
    let mut headers = Vec::new();
    if let Ok(Some(iter)) = js_sys::try_iter(&request.headers()) {
        for entry in iter.flatten() {
            let pair: js_sys::Array = entry.unchecked_into();
            if let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                headers.push((k, v));
            }
        }
    }
    RequestHead::new(&request.method(), headers).with_url(&request.url())
}

/// A request body read chunk by chunk from its stream, so an oversized body is refused after `limit`
/// bytes instead of being buffered whole.
pub struct StreamBody(pub Option<web_sys::ReadableStream>);

impl RequestBody for StreamBody {
    async fn read_limited(self, limit: usize) -> Result<Vec<u8>, BodyError> {
        let Some(stream) = self.0 else {
            return Ok(Vec::new());
        };
        let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
        let failed =
            |e: JsValue| BodyError::Read(e.as_string().unwrap_or_else(|| format!("{e:?}")));
        let mut out = Vec::new();
        loop {
            let step = JsFuture::from(reader.read()).await.map_err(failed)?;
            let done = Reflect::get(&step, &"done".into())
                .map_err(failed)?
                .as_bool()
                .unwrap_or(true);
            if done {
                return Ok(out);
            }
            let chunk: Uint8Array = Reflect::get(&step, &"value".into())
                .map_err(failed)?
                .unchecked_into();
            let len = chunk.length() as usize;
            if out.len() + len > limit {
                // Stop the upload; the answer does not depend on the rest.
                let _ = reader.cancel();
                return Err(BodyError::TooLarge);
            }
            let start = out.len();
            out.resize(start + len, 0);
            chunk.copy_to(&mut out[start..]);
        }
    }
}

/// A web `Response` from the domain's.
pub fn to_web(response: &Response) -> Result<web_sys::Response, JsValue> {
    let headers = web_sys::Headers::new()?;
    for (name, value) in &response.headers {
        headers.append(name, value)?;
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(response.status);
    init.set_headers(&headers);
    // 204 and 304 must have a null body, not an empty string.
    let body = (!matches!(response.status, 204 | 304)).then_some(response.body.as_str());
    web_sys::Response::new_with_opt_str_and_init(body, &init)
}
