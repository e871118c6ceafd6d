//! The domain's ports implemented on the JS host.

use crate::sys::{self, Host};
use gloo_net::http::{Method, RequestBuilder};
use imagegen_core::ports::{
    HttpClient, HttpError, HttpRequest, HttpResponse, Platform, Rpc, RpcError, SqlArg, Timer,
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

impl HttpClient for JsHost {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
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
        let mut builder = RequestBuilder::new(&request.url)
            .method(method)
            .abort_signal(Some(&signal));
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let built = match request.body {
            Some(body) => builder.body(js_sys::Uint8Array::from(body.as_slice())),
            None => builder.build(),
        }
        .map_err(network);
        let outcome = match built {
            Ok(req) => match req.send().await {
                Ok(res) => match res.binary().await {
                    Ok(body) => Ok(HttpResponse {
                        status: res.status(),
                        headers: res.headers().entries().collect(),
                        body,
                    }),
                    Err(e) => Err(network(e)),
                },
                Err(e) => Err(network(e)),
            },
            Err(e) => Err(e),
        };
        sys::clear_timeout(&timer);
        // An aborted fetch is our timeout firing, whatever error text the runtime chose.
        outcome.map_err(|e| {
            if signal.aborted() {
                HttpError::Timeout
            } else {
                e
            }
        })
    }
}
