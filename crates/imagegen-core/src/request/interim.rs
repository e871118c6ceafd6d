//! INTERIM (removed when the lenient parser lands): the row columns and adjustments of a request.

use super::GenerationRequest;
use serde_json::{json, Value};

impl GenerationRequest {
    /// The original row columns this request fills.
    pub fn columns(&self) -> Value {
        json!({
            "negative_prompt": self.negative_prompt.as_ref().map(|n| n.as_str()),
            "style": self.style.map(|s| s.as_str()),
            "width": self.width.get(),
            "height": self.height.get(),
            "seed": self.seed.map(|s| s.get()),
            "source_image_url": self.image_url.as_ref().map(|u| u.as_str()),
            "generation_strength": self.strength.map(|s| s.get()),
        })
    }

    /// What was changed to fit the model.
    pub fn adjusted_json(&self) -> Value {
        json!([])
    }
}

/// A JSON object body, before its model is known (INTERIM: same API as the lenient parser's).
pub struct RawRequest {
    map: serde_json::Map<String, Value>,
}

/// The models row a uuid `model_id` named.
pub struct ResolvedModel<'a> {
    pub replicate_id: &'a str,
    pub version: Option<&'a str>,
}

impl RawRequest {
    pub fn parse(body: &[u8]) -> Result<Self, crate::error::ApiError> {
        use crate::error::ApiError;
        if body.len() > super::MAX_BODY_BYTES {
            return Err(super::body_too_large());
        }
        match serde_json::from_slice(body) {
            Ok(Value::Object(map)) => Ok(Self { map }),
            Ok(_) => Err(ApiError::invalid(
                "body",
                "invalid_json",
                "request body must be a JSON object",
            )),
            Err(e) => Err(ApiError::invalid(
                "body",
                "invalid_json",
                format!("request body is not valid JSON: {e}"),
            )),
        }
    }

    pub fn model_uuid(&self) -> Option<uuid::Uuid> {
        self.map
            .get("model_id")
            .and_then(Value::as_str)
            .and_then(|s| uuid::Uuid::parse_str(s.trim()).ok())
    }

    pub fn generation_id(&self) -> Result<Option<uuid::Uuid>, crate::error::ApiError> {
        match self.map.get("generation_id") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => uuid::Uuid::parse_str(s.trim()).map(Some).map_err(|_| {
                crate::error::ApiError::invalid(
                    "generation_id",
                    "invalid_generation_id",
                    "generation_id must be a UUID",
                )
            }),
            Some(_) => Err(crate::error::ApiError::invalid(
                "generation_id",
                "invalid_generation_id",
                "generation_id must be a UUID string",
            )),
        }
    }

    pub fn validate(
        &self,
        resolved: Option<ResolvedModel<'_>>,
    ) -> Result<GenerationRequest, crate::error::ApiError> {
        let mut map = self.map.clone();
        if let Some(r) = resolved {
            map.insert("model_id".into(), r.replicate_id.into());
        }
        GenerationRequest::parse(Value::Object(map).to_string().as_bytes())
    }
}
