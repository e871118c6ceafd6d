//! The domain's ports implemented on the JS host.

use crate::sys::{self, Host};
use imagegen_core::ports::{Platform, Rpc, RpcError, SqlArg};
use js_sys::Reflect;
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
