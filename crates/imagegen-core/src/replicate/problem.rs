//! Error bodies. Replicate answers errors as RFC 7807 problem details; a 422 on input adds
//! `invalid_fields` (REPLICATE.md "Errors and limits"; the exact shape is the one Replicate returns, e.g.
//! `{"detail":"- input: prompt is required\n","status":422,"title":"Input validation failed",
//! "invalid_fields":[{"type":"required","field":"input","description":"prompt is required"}]}`).

use serde::{Deserialize, Serialize};

/// One failed check of a create request. `field` is `input`, `input.<name>` or `""` for the body itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvalidField {
    /// The JSON Schema rule that failed: `required`, `enum`, `invalid_type`, `number_gte`, `number_lte`,
    /// `additional_property_not_allowed`, `format`, `array_max_items`, ...
    #[serde(rename = "type")]
    pub kind: String,
    pub field: String,
    pub description: String,
}

impl InvalidField {
    /// A new entry.
    pub fn new(kind: &str, field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            kind: kind.to_owned(),
            field: field.into(),
            description: description.into(),
        }
    }
}

/// A problem-details error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub status: u16,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid_fields: Option<Vec<InvalidField>>,
}

impl Problem {
    /// A plain problem with a title.
    pub fn new(status: u16, title: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: None,
            title: Some(title.to_owned()),
            status,
            detail: detail.into(),
            instance: None,
            invalid_fields: None,
        }
    }

    /// The 422 Replicate sends for a request that fails its schema. `detail` lists each failure as
    /// `- <field>: <description>` lines (an empty field prints as just the description).
    pub fn validation(fields: Vec<InvalidField>) -> Self {
        let mut detail = String::new();
        for f in &fields {
            if f.field.is_empty() {
                detail.push_str(&format!("- {}\n", f.description));
            } else {
                detail.push_str(&format!("- {}: {}\n", f.field, f.description));
            }
        }
        Self {
            invalid_fields: Some(fields),
            ..Self::new(422, "Input validation failed", detail)
        }
    }
}

/// The 429 body: `{"detail": "Request was throttled. Your rate limit resets in ~30s.", "status": 429,
/// "retry_after": 30}`. `retry_after` (seconds) was seen in 2026; a `Retry-After` header is not confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThrottleBody {
    pub detail: String,
    pub status: u16,
    pub retry_after: u64,
}

impl ThrottleBody {
    /// Replicate's wording for a throttle that clears in `retry_after` seconds.
    pub fn new(retry_after: u64) -> Self {
        Self {
            detail: format!("Request was throttled. Your rate limit resets in ~{retry_after}s."),
            status: 429,
            retry_after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_problem_matches_replicates_shape() {
        let p = Problem::validation(vec![InvalidField::new(
            "required",
            "input",
            "prompt is required",
        )]);
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "title": "Input validation failed", "status": 422,
                "detail": "- input: prompt is required\n",
                "invalid_fields": [{"type": "required", "field": "input", "description": "prompt is required"}]
            })
        );
    }

    #[test]
    fn throttle_body_names_the_wait() {
        let v = serde_json::to_value(ThrottleBody::new(30)).unwrap();
        assert_eq!(v["retry_after"], 30);
        assert_eq!(
            v["detail"],
            "Request was throttled. Your rate limit resets in ~30s."
        );
    }
}
