//! Host-independent HTTP request heads and responses, and the headers every endpoint sends.

use crate::error::ApiError;

/// Method and headers of an incoming request; header names are lower-case.
#[derive(Debug, Clone, Default)]
pub struct RequestHead {
    pub method: String,
    pub headers: Vec<(String, String)>,
    /// The query string, without `?` (empty when there is none).
    pub query: String,
}

impl RequestHead {
    pub fn new(method: &str, headers: impl IntoIterator<Item = (String, String)>) -> Self {
        let headers = headers
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        Self {
            query: String::new(),
            method: method.to_ascii_uppercase(),
            headers,
        }
    }

    /// Adds the query string of `url`.
    pub fn with_url(mut self, url: &str) -> Self {
        let without_fragment = url.split('#').next().unwrap_or("");
        self.query = without_fragment
            .split_once('?')
            .map(|(_, q)| q.to_owned())
            .unwrap_or_default();
        self
    }

    /// The first value of a query parameter, percent-decoded (`+` as space).
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query
            .split('&')
            .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
            .find_map(|(k, v)| (percent_decode(k) == name).then(|| percent_decode(v)))
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
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
/// `x-client-info`); Supabase leaves CORS to the function. Every answer names the allowed origin; what may
/// be sent is told once, in the preflight's answer, where browsers look for it (and cache it for a day),
/// which keeps the headers every answer builds to the two it needs.
const ALLOW_ORIGIN: (&str, &str) = ("access-control-allow-origin", "*");
const PREFLIGHT: [(&str, &str); 3] = [
    (
        "access-control-allow-headers",
        "authorization, x-client-info, apikey, content-type, idempotency-key, x-request-id",
    ),
    ("access-control-allow-methods", "GET, POST, OPTIONS"),
    ("access-control-max-age", "86400"),
];

impl Response {
    /// A JSON response with the standard headers.
    pub fn json(status: u16, body: String) -> Self {
        Self {
            status,
            headers: vec![
                (ALLOW_ORIGIN.0, ALLOW_ORIGIN.1.to_owned()),
                ("content-type", "application/json".into()),
            ],
            body,
        }
    }

    /// The answer to a CORS preflight: 200 `ok`, as the original functions answered (clients and proxies
    /// written against them may expect exactly that).
    pub fn preflight() -> Self {
        let mut headers = vec![(ALLOW_ORIGIN.0, ALLOW_ORIGIN.1.to_owned())];
        headers.extend(PREFLIGHT.iter().map(|(k, v)| (*k, (*v).to_owned())));
        headers.push(("content-type", "text/plain".into()));
        Self {
            status: 200,
            headers,
            body: "ok".into(),
        }
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
        if let Some(secs) = e.retry_after_secs {
            r.headers.push(("retry-after", secs.to_string()));
        }
        r
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// The first value of a header in a list of (name, value) pairs, by case-insensitive name.
pub fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params_are_decoded() {
        let head = RequestHead::new("GET", []).with_url("http://x/f?id=a%2Db&x=1+2&flag#frag");
        assert_eq!(head.query_param("id").as_deref(), Some("a-b"));
        assert_eq!(head.query_param("x").as_deref(), Some("1 2"));
        assert_eq!(head.query_param("flag").as_deref(), Some(""));
        assert_eq!(head.query_param("nope"), None);
        assert_eq!(
            RequestHead::new("GET", [])
                .with_url("http://x/f?bad=%zz%")
                .query_param("bad")
                .as_deref(),
            Some("%zz%")
        );
    }
}
