//! The one error shape every endpoint answers with: `{"error": "<message>", "code": "<code>"}`, plus
//! `"field"` when the client's input is at fault. The status separates "your request is wrong" (4xx)
//! from "we failed" (5xx); `code` is stable so clients can branch on it.

use serde::Serialize;

/// An error answer: HTTP status, stable code, human message and, for validation errors, the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: u16,
    #[serde(rename = "error")]
    pub message: String,
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
}

impl ApiError {
    /// A 400 naming the offending input field.
    pub fn invalid(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: 400,
            message: message.into(),
            code,
            field: Some(field),
        }
    }

    /// Any other error status.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            code,
            field: None,
        }
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
            r#"{"error":"prompt is required","code":"prompt_missing","field":"prompt"}"#
        );
        let e = ApiError::new(503, "database_unavailable", "try again");
        assert_eq!(
            e.to_json(),
            r#"{"error":"try again","code":"database_unavailable"}"#
        );
    }
}
