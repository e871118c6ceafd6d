//! The domain's ports implemented on the JS host.

use crate::sys::{self, Host};
use gloo_net::http::{Method, RequestBuilder};
use imagegen_core::ports::{
    CopyError, HttpClient, HttpError, HttpRequest, HttpResponse, Platform, ResponseHead, Rpc,
    RpcError, SqlArg, StreamCopy, Timer,
};
use js_sys::Reflect;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The host seen through the domain's ports.
pub struct JsHost(pub Host);

impl Platform for JsHost {
    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }

    fn monotonic_ms(&self) -> f64 {
        sys::performance_now()
    }

    fn random_id(&self) -> String {
        sys::random_uuid()
    }

    fn random_unit(&self) -> f64 {
        js_sys::Math::random()
    }

    fn log(&self, line: &str) {
        self.0.log(line);
    }
}

impl Rpc for JsHost {
    async fn call(
        &self,
        function: &'static str,
        args: &[SqlArg],
    ) -> Result<Vec<serde_json::Value>, RpcError> {
        let args = serde_json::to_string(args).map_err(|e| RpcError::BadAnswer(e.to_string()))?;
        let promise = self.0.rpc(function, &args).map_err(rpc_error)?;
        let answer = JsFuture::from(promise).await.map_err(rpc_error)?;
        let text = answer
            .as_string()
            .ok_or_else(|| RpcError::BadAnswer("host rpc did not answer a string".into()))?;
        serde_json::from_str(&text)
            .map_err(|e| RpcError::BadAnswer(format!("host rpc answer is not JSON: {e}")))
    }
}

/// Keeps the JS error's `code` and `message` and lets the domain classify it.
fn rpc_error(e: JsValue) -> RpcError {
    let field = |name: &str| {
        Reflect::get(&e, &JsValue::from_str(name))
            .ok()
            .and_then(|v| v.as_string())
    };
    let message = field("message")
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|err| String::from(err.to_string()))
        })
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "unknown host error".into());
    RpcError::from_host(field("code").as_deref(), message)
}

impl Timer for JsHost {
    async fn sleep_ms(&self, ms: u64) {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            sys::set_timeout(&resolve, ms as f64);
        });
        let _ = JsFuture::from(promise).await;
    }
}

impl JsHost {
    /// `fetch` with a timeout; the response body is left unread.
    async fn fetch_raw(&self, request: HttpRequest) -> Result<web_sys::Response, HttpError> {
        let network = |e: gloo_net::Error| HttpError::Network(e.to_string());
        let controller =
            web_sys::AbortController::new().map_err(|e| HttpError::Network(format!("{e:?}")))?;
        let abort = controller.clone();
        let timer = sys::set_timeout(
            Closure::once_into_js(move || abort.abort()).unchecked_ref(),
            f64::from(request.timeout_ms),
        );
        let method = match request.method {
            "GET" => Method::GET,
            "PUT" => Method::PUT,
            "DELETE" => Method::DELETE,
            "HEAD" => Method::HEAD,
            _ => Method::POST,
        };
        let signal = controller.signal();
        // Redirects come back as they are (Deno hands over the 3xx with its Location): the domain
        // follows them itself, checking each hop against its allow-list (imagegen_core::redirect).
        let mut builder = RequestBuilder::new(&request.url)
            .method(method)
            .redirect(web_sys::RequestRedirect::Manual)
            .abort_signal(Some(&signal));
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let built = match request.body {
            Some(body) => builder.body(js_sys::Uint8Array::from(body.as_slice())),
            None => builder.build(),
        };
        let outcome = match built {
            Ok(req) => req.send().await.map_err(network),
            Err(e) => Err(network(e)),
        };
        // Headers are in; a slow body is bounded by the caller (pipe's own timeout, or read below).
        sys::clear_timeout(&timer);
        // An aborted fetch is our timeout firing, whatever error text the runtime chose.
        let response = outcome.map_err(|e| {
            if signal.aborted() {
                HttpError::Timeout
            } else {
                e
            }
        })?;
        Ok(web_sys::Response::from(response))
    }
}

fn headers_of(response: &web_sys::Response) -> Vec<(String, String)> {
    sys::parse_header_lines(&sys::header_lines(&response.headers()))
}

impl HttpClient for JsHost {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let timeout = request.timeout_ms;
        let response = self.fetch_raw(request).await?;
        let headers = headers_of(&response);
        let status = response.status();
        let body_promise = response
            .array_buffer()
            .map_err(|e| HttpError::Network(format!("{e:?}")))?;
        // The body gets the same time again at most.
        let sleep = Timer::sleep_ms(self, u64::from(timeout));
        let read = JsFuture::from(body_promise);
        futures_util::pin_mut!(sleep, read);
        match futures_util::future::select(read, sleep).await {
            futures_util::future::Either::Left((Ok(buffer), _)) => Ok(HttpResponse {
                status,
                headers,
                body: js_sys::Uint8Array::new(&buffer).to_vec(),
            }),
            futures_util::future::Either::Left((Err(e), _)) => {
                Err(HttpError::Network(format!("{e:?}")))
            }
            futures_util::future::Either::Right(_) => Err(HttpError::Timeout),
        }
    }
}

impl StreamCopy for JsHost {
    type Source = web_sys::Response;

    async fn open(&self, request: HttpRequest) -> Result<(ResponseHead, Self::Source), HttpError> {
        let response = self.fetch_raw(request).await?;
        Ok((
            ResponseHead {
                status: response.status(),
                headers: headers_of(&response),
            },
            response,
        ))
    }

    async fn pipe(
        &self,
        source: Self::Source,
        upload: HttpRequest,
        max_bytes: u64,
    ) -> Result<(HttpResponse, u64), CopyError> {
        let spec = serde_json::json!({
            "method": upload.method,
            "url": upload.url,
            "headers": upload.headers.iter().map(|(k, v)| (k.to_string(), v.clone())).collect::<std::collections::BTreeMap<_, _>>(),
            "timeout_ms": upload.timeout_ms,
        });
        let failed = |e: JsValue| {
            let code = Reflect::get(&e, &JsValue::from_str("code"))
                .ok()
                .and_then(|v| v.as_string());
            if code.as_deref() == Some("too_large") {
                CopyError::TooLarge(max_bytes)
            } else {
                let message = Reflect::get(&e, &JsValue::from_str("message"))
                    .ok()
                    .and_then(|v| v.as_string());
                CopyError::Failed(message.unwrap_or_else(|| format!("{e:?}")))
            }
        };
        let promise = self
            .0
            .pipe(&source, &spec.to_string(), max_bytes as f64)
            .map_err(failed)?;
        let answer = JsFuture::from(promise).await.map_err(failed)?;
        #[derive(serde::Deserialize)]
        struct Piped {
            status: u16,
            headers: Vec<(String, String)>,
            body: String,
            bytes: u64,
        }
        let piped: Piped = answer
            .as_string()
            .and_then(|s| serde_json::from_str(&s).ok())
            .ok_or_else(|| CopyError::Failed("host pipe answered something unreadable".into()))?;
        Ok((
            HttpResponse {
                status: piped.status,
                headers: piped.headers,
                body: piped.body.into_bytes(),
            },
            piped.bytes,
        ))
    }

    fn discard(&self, source: Self::Source) {
        if let Some(body) = source.body() {
            let _ = body.cancel();
        }
    }
}
