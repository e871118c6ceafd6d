//! A start-generation (and generate-image) request body, parsed into domain types. The wire format is the
//! original Picture app's (`prompt`, `model_id`, `model_version`, `width`, `height`,
//! `num_inference_steps`, `guidance_scale`, `seed`, `negative_prompt`, `source_image_url`, `strength`,
//! `style`) plus this project's (`aspect_ratio`, `num_outputs`, `output_format`, `image_url`). Unknown keys
//! are ignored so clients that send extra fields keep working; every known key is type-checked, then
//! fitted to the chosen model (see [`RawRequest`] for what is refused and what is adjusted).

mod adjust;
mod body;
mod capabilities;
mod fields;
mod fit;
mod model_ref;
mod raw;

pub use adjust::Adjustment;
pub use fields::*;
pub use model_ref::ResolvedModel;
pub use raw::RawRequest;

use crate::catalog::{self, Model};
use crate::error::ApiError;
use crate::replicate::ModelSchema;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Side used when the client sends no `width`/`height` (the seed's clients send 1024).
pub const DEFAULT_SIDE: u32 = 1024;

/// A validated generation request, fitted to its model: every value in it is one the model takes, as it
/// will be sent (the "applied" values); what was changed to get there is in `adjusted`.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationRequest {
    pub prompt: Prompt,
    pub model: &'static Model,
    /// A pinned Replicate version; `None` runs the catalog's (official models: the current one).
    pub model_version: Option<ModelVersion>,
    /// The requested size as the model takes it: exact pixels for free- and fixed-size models, the
    /// requested size (which picks the shape) for models sized by named ratios.
    pub width: Side,
    pub height: Side,
    /// A ratio the model names, sent as its `aspect_ratio` (asked for, or nearest to width:height).
    pub aspect_ratio: Option<AspectRatio>,
    pub negative_prompt: Option<NegativePrompt>,
    /// The input image (`image_url` or `source_image_url`).
    pub image_url: Option<ImageUrl>,
    pub strength: Option<Strength>,
    pub seed: Option<Seed>,
    /// `num_inference_steps`, as sent to the model's steps input.
    pub steps: Option<Steps>,
    /// `guidance_scale`, as sent to the model's guidance input.
    pub guidance_scale: Option<Guidance>,
    pub num_outputs: u8,
    pub output_format: Option<OutputFormat>,
    pub style: Option<Style>,
    /// What parsing changed to fit the model, in field order.
    pub adjusted: Vec<Adjustment>,
}

impl GenerationRequest {
    /// Parses a raw body whose `model_id` is not a `models.id` uuid (a uuid is an `unknown_model` here:
    /// use [`RawRequest`] to resolve it). Errors name the offending field.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        RawRequest::parse(body)?.validate(None)
    }

    /// The Replicate model (schema, how it is called, what it returns) this request runs on.
    pub fn replicate_model(&self) -> &'static ModelSchema {
        self.model.schema()
    }

    /// The exact `input` of the Replicate prediction for this request (rules in `catalog`'s `sizing`
    /// and `input` modules); it always passes `replicate::validate_input` for [`Self::replicate_model`].
    pub fn replicate_input(&self) -> Value {
        catalog::replicate_input(self)
    }

    /// The pinned Replicate version, if any: the worker then creates the prediction by version.
    pub fn replicate_version(&self) -> Option<&str> {
        self.model_version.as_ref().map(ModelVersion::as_str)
    }

    /// The `params` stored on the generation row: everything but prompt and model, absent fields omitted,
    /// in the request's own field names. Parsing them again (with the prompt and the catalog id) gives
    /// this request back with nothing adjusted.
    pub fn params(&self) -> Value {
        let mut p = Map::new();
        p.insert("width".into(), self.width.get().into());
        p.insert("height".into(), self.height.get().into());
        p.insert("num_outputs".into(), self.num_outputs.into());
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                p.insert(k.into(), v);
            }
        };
        put("model_version", self.replicate_version().map(Value::from));
        put(
            "aspect_ratio",
            self.aspect_ratio.as_ref().map(|a| a.as_str().into()),
        );
        put(
            "negative_prompt",
            self.negative_prompt.as_ref().map(|n| n.as_str().into()),
        );
        put(
            "image_url",
            self.image_url.as_ref().map(|u| u.as_str().into()),
        );
        put("strength", self.strength.map(|s| s.get().into()));
        put("seed", self.seed.map(|s| s.get().into()));
        put("num_inference_steps", self.steps.map(|s| s.get().into()));
        put(
            "guidance_scale",
            self.guidance_scale.map(|g| g.get().into()),
        );
        put(
            "output_format",
            self.output_format.map(|f| f.as_str().into()),
        );
        put("style", self.style.map(|s| s.as_str().into()));
        Value::Object(p)
    }

    /// The adjustments as JSON: `[{"field", "requested", "applied" (null = dropped), "reason"}]`.
    pub fn adjusted_json(&self) -> Value {
        Value::Array(self.adjusted.iter().map(Adjustment::to_json).collect())
    }

    /// A digest of everything that defines the generation, to tell an idempotent retry (same key, same
    /// request) from a key reused for a different request. serde_json's map is ordered, so this is canonical.
    /// Built from the applied values: two requests fitted to the same generation share it.
    pub fn fingerprint(&self) -> String {
        let canonical = serde_json::json!({
            "prompt": self.prompt.as_str(),
            "model_id": self.model.id,
            "params": self.params(),
        });
        let digest = Sha256::digest(canonical.to_string().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The error for a body over [`MAX_BODY_BYTES`]; also used by the shell when it stops reading early.
pub fn body_too_large() -> ApiError {
    ApiError::invalid(
        "body",
        "body_too_large",
        format!("request body is larger than {} KiB", MAX_BODY_BYTES / 1024),
    )
}

#[cfg(test)]
mod tests;
