//! Building answers: JSON, Replicate's problem details, and the admin API's `{"error": ...}`.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use imagegen_core::replicate::{Problem, ThrottleBody};
use serde::Serialize;

pub type Reply = Response<Full<Bytes>>;

fn with_body(status: u16, content_type: &str, body: Vec<u8>) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

/// `status` with a JSON body.
pub fn json(status: u16, body: &impl Serialize) -> Reply {
    with_body(
        status,
        "application/json",
        serde_json::to_vec(body).unwrap_or_default(),
    )
}

/// A problem-details error, as Replicate sends them.
pub fn problem(p: &Problem) -> Reply {
    with_body(
        p.status,
        "application/problem+json",
        serde_json::to_vec(p).unwrap_or_default(),
    )
}

/// Replicate's 429.
pub fn throttled(retry_after: u64) -> Reply {
    with_body(
        429,
        "application/problem+json",
        serde_json::to_vec(&ThrottleBody::new(retry_after)).unwrap_or_default(),
    )
}

/// An injected 5xx, worded like Replicate's upstream errors.
pub fn server_error(status: u16) -> Reply {
    let (title, detail) = match status {
        502 => (
            "Bad Gateway",
            "The server received an invalid response from an upstream server.",
        ),
        503 => (
            "Service Unavailable",
            "The service is temporarily unavailable. Please try again later.",
        ),
        504 => (
            "Gateway Timeout",
            "The server did not receive a timely response from an upstream server.",
        ),
        _ => (
            "Internal Server Error",
            "An unexpected error occurred. Please try again later.",
        ),
    };
    problem(&Problem::new(status, title, detail))
}

/// 404 in Replicate's wording.
pub fn not_found(detail: &str) -> Reply {
    problem(&Problem::new(404, "Not found", detail))
}

/// An admin error: `{"error": "..."}`.
pub fn admin_error(status: u16, message: impl Into<String>) -> Reply {
    json(status, &serde_json::json!({"error": message.into()}))
}

/// A file.
pub fn file(content_type: &str, body: Bytes) -> Reply {
    let mut r = Response::new(Full::new(body));
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

/// A `302 Found` to `location`.
pub fn redirect(location: &str) -> Reply {
    let mut r = with_body(302, "text/plain", Vec::new());
    if let Ok(v) = location.parse() {
        r.headers_mut().insert(hyper::header::LOCATION, v);
    }
    r
}
