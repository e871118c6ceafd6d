//! Routes a request to its surface and keeps the request/status counters.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request};

use super::reply::{self, Reply};
use super::{admin, api, files, ResetConnection};
use crate::counters::Counters;
use crate::state::App;

/// Largest request body read (inputs may carry `data:` URIs).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// A request with its body read.
pub struct Req {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A query parameter's raw value.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.as_deref()?.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k == name).then_some(v)
        })
    }
}

/// Handles one request; `Err` resets the connection.
pub async fn handle(app: &Arc<App>, req: Request<Incoming>) -> Result<Reply, ResetConnection> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Ok(reply::problem(&imagegen_core::replicate::Problem::new(
                413,
                "Request body too large",
                "The request body is larger than 16 MiB.",
            )))
        }
    };
    let req = Req {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
    };
    let segments: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    let (endpoint, result) = match segments.as_slice() {
        ["admin", rest @ ..] => ("admin", Ok(admin::handle(app, &req, rest))),
        ["delivery", id, name] if req.method == Method::GET => {
            ("file", files::serve(app, id, name).await)
        }
        ["v1", rest @ ..] => {
            let endpoint = api::endpoint_name(&req.method, rest);
            (endpoint, api::handle(app, &req, rest).await)
        }
        _ => ("other", Ok(reply::not_found("Not found."))),
    };
    if endpoint != "admin" {
        let mut c = app.counters();
        Counters::bump(&mut c.requests, endpoint);
        if let Ok(r) = &result {
            *c.responses_by_status
                .entry(r.status().as_u16())
                .or_default() += 1;
        }
    }
    result
}
