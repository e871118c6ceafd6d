//! Conversion between web `Request`/`Response` objects and the domain's host-independent types.

use crate::sys;
use imagegen_core::http::{RequestHead, Response};
use imagegen_core::ports::{BodyError, RequestBody};
use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Method and headers of a web `Request`.
pub fn head(request: &web_sys::Request) -> RequestHead {
    let headers = sys::parse_header_lines(&sys::header_lines(&request.headers()));
    RequestHead::new(&request.method(), headers).with_url(&request.url())
}

/// A web `Request`'s body, read up to a limit: a body whose declared `Content-Length` fits is
/// read in one host call (the HTTP server ends the body at that length), one that cannot fit is refused
/// unread, and a body of unknown length (chunked) is read chunk by chunk from its stream, so an oversized
/// one is refused after `limit` bytes instead of being buffered whole.
pub struct WebBody(pub web_sys::Request);

impl RequestBody for WebBody {
    async fn read_limited(self, limit: usize) -> Result<Vec<u8>, BodyError> {
        let failed =
            |e: JsValue| BodyError::Read(e.as_string().unwrap_or_else(|| format!("{e:?}")));
        let declared = self
            .0
            .headers()
            .get("content-length")
            .ok()
            .flatten()
            .and_then(|v| v.trim().parse::<usize>().ok());
        if let Some(length) = declared {
            if length > limit {
                return Err(BodyError::TooLarge);
            }
            let buffer = JsFuture::from(self.0.array_buffer().map_err(failed)?)
                .await
                .map_err(failed)?;
            let bytes = Uint8Array::new(&buffer).to_vec();
            // A request built in JS is not held to its header; one from the network is.
            return if bytes.len() > limit {
                Err(BodyError::TooLarge)
            } else {
                Ok(bytes)
            };
        }
        let Some(stream) = self.0.body() else {
            return Ok(Vec::new());
        };
        let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
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
    // 204 and 304 must have a null body, not an empty string.
    let body = (!matches!(response.status, 204 | 304)).then_some(response.body.as_str());
    sys::new_response(
        body,
        response.status,
        &sys::header_lines_of(&response.headers),
    )
}
