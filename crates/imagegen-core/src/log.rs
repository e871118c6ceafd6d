//! One structured JSON line per request. Never holds tokens, prompts or request bodies: only what an
//! operator needs to follow a request (ids, outcome, timing).

use serde::Serialize;
use uuid::Uuid;

/// The fields of a request's log line; handlers fill what they learn as they go.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RequestLog {
    pub level: &'static str,
    #[serde(rename = "fn")]
    pub function: &'static str,
    pub request_id: String,
    pub method: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generation_id: Option<Uuid>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub replayed: bool,
    /// The lease owner this invocation claimed jobs as (`job_queue.locked_by`), to find its log line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker_id: Option<String>,
    /// Internal detail of a server-side failure (a SQL error, an unreachable database).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub duration_ms: f64,
}

impl RequestLog {
    pub fn new(function: &'static str, request_id: String, method: &str) -> Self {
        Self {
            level: "info",
            function,
            request_id,
            method: method.to_owned(),
            ..Self::default()
        }
    }

    /// The JSON line; the level follows the status.
    pub fn finish(mut self, status: u16, duration_ms: f64) -> String {
        self.status = status;
        self.level = match status {
            500.. => "error",
            400.. => "warn",
            _ => "info",
        };
        // Whole microseconds are precise enough and keep lines short.
        self.duration_ms = (duration_ms * 1000.0).round() / 1000.0;
        serde_json::to_string(&self).expect("log line serialises")
    }
}
