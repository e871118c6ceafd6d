//! The one error shape every endpoint answers with: `{"success": false, "error": "<message>", "code":
//! "<code>"}`, plus `"field"` when the client's input is at fault. `success` and `error` are the original
//! Picture functions' fields (its clients test `data.success` and show `error`). The status separates "your request is wrong" (4xx)
//! from "we failed" (5xx); `code` is stable so clients can branch on it.

use serde::ser::{Serialize, SerializeMap, Serializer};

/// An error answer: HTTP status, stable code, human message and, for validation errors, the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
    pub code: &'static str,
    pub field: Option<&'static str>,
    /// Seconds after which the same request may succeed: the `Retry-After` header and `retry_after`.
    pub retry_after_secs: Option<u64>,
}

impl Serialize for ApiError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("success", &false)?;
        map.serialize_entry("error", &self.message)?;
        map.serialize_entry("code", self.code)?;
        if let Some(field) = self.field {
            map.serialize_entry("field", field)?;
        }
        if let Some(secs) = self.retry_after_secs {
            map.serialize_entry("retry_after", &secs)?;
        }
        map.end()
    }
}

impl ApiError {
    /// A 400 naming the offending input field.
    pub fn invalid(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: 400,
            message: message.into(),
            code,
            field: Some(field),
            retry_after_secs: None,
        }
    }

    /// Any other error status.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            code,
            field: None,
            retry_after_secs: None,
        }
    }

    /// The same error, saying when to try again.
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }

    /// The JSON body.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("ApiError always serialises")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape() {
        let e = ApiError::invalid("prompt", "prompt_missing", "prompt is required");
        assert_eq!(
            e.to_json(),
            r#"{"success":false,"error":"prompt is required","code":"prompt_missing","field":"prompt"}"#
        );
        let e = ApiError::new(503, "database_unavailable", "try again");
        assert_eq!(
            e.to_json(),
            r#"{"success":false,"error":"try again","code":"database_unavailable"}"#
        );
    }
}
