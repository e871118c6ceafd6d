//! The ports through which the domain reaches the outside world. The wasm shell implements them with
//! the JS host (postgres.js, Deno's clock and crypto, console); native tests implement them in memory.
//! Futures here are not `Send`: in wasm everything runs on one thread.

use serde::Serialize;

/// Clock, randomness and logging.
pub trait Platform {
    /// Wall-clock milliseconds since the Unix epoch.
    fn now_ms(&self) -> f64;
    /// A monotonic, sub-millisecond clock for measuring durations (`performance.now()`).
    fn monotonic_ms(&self) -> f64;
    /// A fresh random identifier (a UUID v4 in production).
    fn random_id(&self) -> String;
    /// Writes one structured log line.
    fn log(&self, line: &str);
    /// A uniform random number in [0, 1), for jitter.
    fn random_unit(&self) -> f64;
}

/// Postgres type of an RPC argument; the host casts the text value to it (`$1::uuid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SqlType {
    Uuid,
    Text,
    /// `integer` (int4): counts and seconds, never ids.
    Int,
    /// `bigint`: job ids (a bigint identity; past 2^31 an int4 cast would fail every call).
    Bigint,
    Jsonb,
    Bool,
}

/// One named argument of an RPC call, as text (or SQL NULL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SqlArg {
    pub name: &'static str,
    #[serde(rename = "type")]
    pub sql_type: SqlType,
    pub value: Option<String>,
}

impl SqlArg {
    pub fn new(name: &'static str, sql_type: SqlType, value: impl Into<String>) -> Self {
        Self {
            name,
            sql_type,
            value: Some(value.into()),
        }
    }

    pub fn optional(
        name: &'static str,
        sql_type: SqlType,
        value: Option<impl Into<String>>,
    ) -> Self {
        Self {
            name,
            sql_type,
            value: value.map(Into::into),
        }
    }
}

/// Why an RPC call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RpcError {
    /// The database could not be reached (connection refused, reset, timeout): worth retrying.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database answered with an error.
    #[error("database error {sqlstate}: {message}")]
    Query { sqlstate: String, message: String },
    /// The answer was not what the function's contract says.
    #[error("unexpected database answer: {0}")]
    BadAnswer(String),
}

/// The database capability: call an allow-listed SQL function with named arguments and get its rows
/// back as JSON (one value per row; a function returning `jsonb` yields one row holding that value).
#[allow(async_fn_in_trait)]
pub trait Rpc {
    async fn call(
        &self,
        function: &'static str,
        args: &[SqlArg],
    ) -> Result<Vec<serde_json::Value>, RpcError>;
}

/// An outgoing HTTP request (to Replicate, Storage, other functions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
    /// Give up (and report [`HttpError::Timeout`]) after this long, headers and body included.
    pub timeout_ms: u32,
}

/// An HTTP response, body read whole (API answers are small; image downloads stream elsewhere).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::http::find_header(&self.headers, name)
    }
}

/// Why an HTTP exchange produced no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("timed out")]
    Timeout,
    /// Connection refused or reset, DNS, TLS: the request may or may not have reached the server.
    #[error("network error: {0}")]
    Network(String),
}

/// The HTTP capability (`fetch` in wasm). Redirects are not followed: a 3xx comes back as it is, and
/// callers that follow one check the next URL first (`crate::redirect`).
#[allow(async_fn_in_trait)]
pub trait HttpClient {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError>;
}

/// Waiting without blocking (`setTimeout` in wasm).
#[allow(async_fn_in_trait)]
pub trait Timer {
    async fn sleep_ms(&self, ms: u64);
}

/// Status and headers of a response whose body has not been read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    pub status: u16,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
}

impl ResponseHead {
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::http::find_header(&self.headers, name)
    }
}

/// Why a streamed copy failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CopyError {
    /// The source sent more than the limit; the upload was aborted.
    #[error("larger than {0} bytes")]
    TooLarge(u64),
    /// The download or the upload failed on the way.
    #[error("{0}")]
    Failed(String),
}

/// Streams a download into an upload so image bytes never pass through Wasm memory (the edge isolate
/// has 256 MB; images can be tens of MB): open the source, decide from its head, then pipe its body.
#[allow(async_fn_in_trait)]
pub trait StreamCopy {
    /// An opened download whose body is still unread.
    type Source;
    /// Opens `request` without following redirects (as [`HttpClient::send`]).
    async fn open(&self, request: HttpRequest) -> Result<(ResponseHead, Self::Source), HttpError>;
    /// Sends `upload` with the source's body as its body; fails with [`CopyError::TooLarge`] past
    /// `max_bytes`. Answers the upload's response and the number of bytes copied.
    async fn pipe(
        &self,
        source: Self::Source,
        upload: HttpRequest,
        max_bytes: u64,
    ) -> Result<(HttpResponse, u64), CopyError>;
    /// Releases a source that will not be piped.
    fn discard(&self, source: Self::Source);
}

/// Why a request body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// More than the limit arrived; reading stopped there.
    TooLarge,
    /// The stream failed.
    Read(String),
}

/// A request body that is read at most once, stopping at `limit` bytes.
#[allow(async_fn_in_trait)]
pub trait RequestBody {
    async fn read_limited(self, limit: usize) -> Result<Vec<u8>, BodyError>;
}

impl RequestBody for Vec<u8> {
    async fn read_limited(self, limit: usize) -> Result<Vec<u8>, BodyError> {
        if self.len() > limit {
            Err(BodyError::TooLarge)
        } else {
            Ok(self)
        }
    }
}

impl RpcError {
    /// Classifies a host error by its `code`: SQLSTATE class 08 (connection exception), 57P01–57P03
    /// (server shutting down or starting) and 53300 (too many connections), and the driver's own codes
    /// (`ECONNREFUSED`, `CONNECT_TIMEOUT`, `CONNECTION_CLOSED`, ...) mean the database is unreachable and a
    /// retry may succeed; any other SQLSTATE is a query error.
    pub fn from_host(code: Option<&str>, message: String) -> Self {
        match code {
            Some(c) if is_sqlstate(c) => {
                if c.starts_with("08") || matches!(c, "57P01" | "57P02" | "57P03" | "53300") {
                    Self::Unavailable(format!("{c}: {message}"))
                } else {
                    Self::Query {
                        sqlstate: c.to_owned(),
                        message,
                    }
                }
            }
            Some("misconfigured") | None => Self::Query {
                sqlstate: code.unwrap_or("").to_owned(),
                message,
            },
            Some(c) => Self::Unavailable(format!("{c}: {message}")),
        }
    }
}

/// Five characters of upper-case letters and digits, as Postgres error codes are.
fn is_sqlstate(code: &str) -> bool {
    code.len() == 5
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_errors_are_classified() {
        let unavailable = |c: Option<&str>| {
            matches!(RpcError::from_host(c, "m".into()), RpcError::Unavailable(_))
        };
        assert!(unavailable(Some("08006")));
        assert!(unavailable(Some("57P01")));
        assert!(unavailable(Some("53300")));
        assert!(unavailable(Some("ECONNREFUSED")));
        assert!(unavailable(Some("CONNECT_TIMEOUT")));
        assert!(!unavailable(Some("42883")));
        assert!(!unavailable(Some("23505")));
        assert!(!unavailable(None));
        assert!(!unavailable(Some("misconfigured")));
    }
}
