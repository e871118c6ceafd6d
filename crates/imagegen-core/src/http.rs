//! Host-independent HTTP request heads and responses, and the headers every endpoint sends.

use crate::error::ApiError;

/// Method and headers of an incoming request; header names are lower-case.
#[derive(Debug, Clone, Default)]
pub struct RequestHead {
    pub method: String,
    pub headers: Vec<(String, String)>,
}

impl RequestHead {
    pub fn new(method: &str, headers: impl IntoIterator<Item = (String, String)>) -> Self {
        let headers = headers
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        Self {
            method: method.to_ascii_uppercase(),
            headers,
        }
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A response to hand back to the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

/// Browsers call these functions from web apps (supabase-js sends `authorization`, `apikey`,
/// `x-client-info`); Supabase leaves CORS to the function.
const CORS: [(&str, &str); 3] = [
    ("access-control-allow-origin", "*"),
    (
        "access-control-allow-headers",
        "authorization, x-client-info, apikey, content-type, idempotency-key, x-request-id",
    ),
    ("access-control-allow-methods", "GET, POST, OPTIONS"),
];

impl Response {
    /// A JSON response with the standard headers.
    pub fn json(status: u16, body: String) -> Self {
        let mut headers: Vec<(&'static str, String)> =
            CORS.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        headers.push(("content-type", "application/json".into()));
        Self {
            status,
            headers,
            body,
        }
    }

    /// The answer to a CORS preflight.
    pub fn preflight() -> Self {
        let mut r = Self::json(204, String::new());
        r.headers.retain(|(k, _)| *k != "content-type");
        r.headers.push(("access-control-max-age", "86400".into()));
        r
    }

    /// An error answer; 401s carry `WWW-Authenticate` as RFC 6750 asks.
    pub fn error(e: &ApiError) -> Self {
        let mut r = Self::json(e.status, e.to_json());
        if e.status == 401 {
            r.headers.push((
                "www-authenticate",
                format!(
                    "Bearer error=\"invalid_token\", error_description=\"{}\"",
                    e.code
                ),
            ));
        }
        r
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}
