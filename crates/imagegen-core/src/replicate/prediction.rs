//! The prediction object and the bodies around it, with Replicate's exact field names
//! (OpenAPI `schemas_prediction_response`; REPLICATE.md "Predictions").

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::webhook::WebhookEvent;

/// A prediction's lifecycle state. `starting` lasts long on a cold boot; `aborted` means a `Cancel-After`
/// deadline passed before it started (not billed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PredictionStatus {
    Starting,
    Processing,
    Succeeded,
    Failed,
    Canceled,
    Aborted,
}

impl PredictionStatus {
    /// Whether the prediction will not change any more (and its `completed` webhook is due).
    pub fn is_terminal(self) -> bool {
        !matches!(self, Self::Starting | Self::Processing)
    }

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Processing => "processing",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
            Self::Aborted => "aborted",
        }
    }
}

/// Where a prediction was created from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Web,
    Api,
}

/// `metrics`: seconds spent running and in total. Empty (`{}`) until the prediction has run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predict_time: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_time: Option<f64>,
}

/// `urls`: API links for this prediction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PredictionUrls {
    pub get: String,
    pub cancel: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web: Option<String>,
}

/// The prediction object, as returned by create/get/cancel/list and posted to webhooks.
///
/// `output` is model-specific (a URI string or an array of URIs) and so stays a JSON value; after the
/// retention period Replicate removes inputs and outputs: `output` is null and `data_removed` true.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub id: String,
    /// `owner/name`.
    pub model: String,
    /// A 64-hex version id, or `"hidden"` for official models.
    pub version: String,
    pub input: Value,
    #[serde(default)]
    pub logs: Option<String>,
    #[serde(default)]
    pub output: Option<Value>,
    #[serde(default)]
    pub error: Option<String>,
    pub status: PredictionStatus,
    pub created_at: String,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub completed_at: Option<String>,
    #[serde(default)]
    pub data_removed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    #[serde(default)]
    pub metrics: Metrics,
    pub urls: PredictionUrls,
    /// Set when the request carried `Cancel-After`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_events_filter: Option<Vec<WebhookEvent>>,
}

impl Prediction {
    /// Whether the model started running: it has a start time or a predict time. Replicate bills the
    /// running time, so a prediction that never ran (failed while starting, or `aborted`) was not billed.
    pub fn ran(&self) -> bool {
        self.started_at.is_some() || self.metrics.predict_time.is_some()
    }

    /// The output as a list of URIs, whether the model returns one string or an array.
    pub fn output_urls(&self) -> Vec<&str> {
        match &self.output {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }
}

/// A page of `GET /v1/predictions` (newest first, 100 per page; `next`/`previous` are full URLs or null).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionList {
    pub previous: Option<String>,
    pub next: Option<String>,
    pub results: Vec<Prediction>,
}

/// The body of a create request. Official models (`POST /v1/models/{owner}/{name}/predictions`) take
/// no `version`; `POST /v1/predictions` requires it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatePrediction {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub input: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_events_filter: Option<Vec<WebhookEvent>>,
}

/// What the `version` of `POST /v1/predictions` names. Since 2025-08 it may be `owner/name` (an official
/// model), `owner/name:<64hex>` or a bare 64-hex version id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionRef<'a> {
    /// `owner/name`.
    Model(&'a str),
    /// `owner/name:<64hex>`.
    ModelVersion { model: &'a str, version: &'a str },
    /// A bare version id.
    Version(&'a str),
}

impl<'a> VersionRef<'a> {
    /// Parses the `version` field; `None` when it has none of the three shapes.
    pub fn parse(s: &'a str) -> Option<Self> {
        fn is_model(m: &str) -> bool {
            let mut parts = m.split('/');
            let ok = |p: Option<&str>| {
                p.is_some_and(|p| {
                    !p.is_empty()
                        && p.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
                })
            };
            ok(parts.next()) && ok(parts.next()) && parts.next().is_none()
        }
        fn is_version(v: &str) -> bool {
            v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())
        }
        if let Some((model, version)) = s.split_once(':') {
            return (is_model(model) && is_version(version))
                .then_some(Self::ModelVersion { model, version });
        }
        if is_version(s) {
            Some(Self::Version(s))
        } else if is_model(s) {
            Some(Self::Model(s))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: &str = "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b";

    #[test]
    fn version_refs_parse_in_their_three_shapes() {
        assert_eq!(VersionRef::parse("a/b"), Some(VersionRef::Model("a/b")));
        assert_eq!(VersionRef::parse(V), Some(VersionRef::Version(V)));
        let full = format!("stability-ai/sdxl:{V}");
        assert_eq!(
            VersionRef::parse(&full),
            Some(VersionRef::ModelVersion {
                model: "stability-ai/sdxl",
                version: V
            })
        );
        for bad in ["", "a", "a/b/c", "a/b:123", "/b", "a/ b"] {
            assert_eq!(VersionRef::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn statuses_serialize_lowercase_and_know_when_they_are_final() {
        assert_eq!(
            serde_json::to_string(&PredictionStatus::Aborted).unwrap(),
            "\"aborted\""
        );
        assert!(!PredictionStatus::Starting.is_terminal());
        assert!(PredictionStatus::Canceled.is_terminal());
    }

    #[test]
    fn output_urls_reads_both_output_shapes() {
        let mut p: Prediction = serde_json::from_value(serde_json::json!({
            "id": "x", "model": "a/b", "version": "hidden", "input": {}, "status": "succeeded",
            "created_at": "2026-01-01T00:00:00.000Z", "output": "https://x/1.png",
            "urls": {"get": "g", "cancel": "c"}
        }))
        .unwrap();
        assert_eq!(p.output_urls(), vec!["https://x/1.png"]);
        p.output = Some(serde_json::json!(["https://x/1.png", "https://x/2.png"]));
        assert_eq!(p.output_urls().len(), 2);
    }
}
