//! A start-generation request body, parsed into domain types. The wire format is the seed's JSON body
//! (`prompt`, `model_id`, `width`, `height`, optional `aspect_ratio`, `negative_prompt`, `image_url`,
//! `strength`, `seed`, `num_outputs`, `output_format`, `style`). Unknown keys are ignored so existing clients
//! that send extra fields keep working; every known key is type- and range-checked against the chosen model.

mod body;
mod capabilities;
mod fields;

pub use fields::*;

use crate::catalog::{self, Model};
use crate::error::ApiError;
use crate::replicate::ModelSchema;
use body::{integer, non_blank, number, string};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Side used when the client sends no `width`/`height` (the seed's clients send 1024).
pub const DEFAULT_SIDE: u32 = 1024;

/// A fully validated generation request: everything in it is something its model can do.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationRequest {
    pub prompt: Prompt,
    pub model: &'static Model,
    pub width: Side,
    pub height: Side,
    pub aspect_ratio: Option<AspectRatio>,
    pub negative_prompt: Option<NegativePrompt>,
    pub image_url: Option<ImageUrl>,
    pub strength: Option<Strength>,
    pub seed: Option<Seed>,
    pub num_outputs: u8,
    pub output_format: Option<OutputFormat>,
    pub style: Option<Style>,
}

impl GenerationRequest {
    /// Parses a raw body. Errors name the offending field.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(body_too_large());
        }
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            ApiError::invalid(
                "body",
                "invalid_json",
                format!("request body is not valid JSON: {e}"),
            )
        })?;
        let Value::Object(map) = value else {
            return Err(ApiError::invalid(
                "body",
                "invalid_json",
                "request body must be a JSON object",
            ));
        };
        Self::from_map(&map)
    }

    fn from_map(map: &Map<String, Value>) -> Result<Self, ApiError> {
        let prompt = match string(map, "prompt")? {
            Some(p) => Prompt::parse(p)?,
            None => {
                return Err(ApiError::invalid(
                    "prompt",
                    "prompt_missing",
                    "prompt is required",
                ))
            }
        };
        let model_id = string(map, "model_id")?.unwrap_or(catalog::DEFAULT_MODEL_ID);
        let model = catalog::find(model_id).ok_or_else(|| capabilities::unknown_model(model_id))?;

        let side = |field| -> Result<Side, ApiError> {
            let raw = integer(map, field)?.unwrap_or(i64::from(DEFAULT_SIDE));
            Side::parse(field, raw, model.side_bounds(), model.name)
        };
        let (width, height) = (side("width")?, side("height")?);

        let aspect_ratio = string(map, "aspect_ratio")?
            .map(AspectRatio::parse)
            .transpose()?;
        if let Some(ratio) = &aspect_ratio {
            if !model.accepts_aspect_ratio(ratio.as_str()) {
                return Err(capabilities::unsupported_aspect_ratio(
                    model,
                    ratio.as_str(),
                ));
            }
        }

        let negative_prompt = string(map, "negative_prompt")?
            .map(NegativePrompt::parse)
            .transpose()?
            .flatten();
        if negative_prompt.is_some() && !model.takes_negative_prompt() {
            return Err(capabilities::unsupported_negative_prompt(model));
        }

        let image_url = non_blank(map, "image_url")?
            .map(ImageUrl::parse)
            .transpose()?;
        let strength = number(map, "strength")?.map(Strength::parse).transpose()?;
        match (&image_url, model.image_input) {
            (Some(_), None) => return Err(capabilities::unsupported_img2img(model)),
            (None, _) if strength.is_some() => return Err(capabilities::strength_without_image()),
            (Some(_), Some(input)) if strength.is_some() && input.strength.is_none() => {
                return Err(capabilities::unsupported_strength(model))
            }
            _ => {}
        }

        let seed = integer(map, "seed")?.map(Seed::parse).transpose()?;
        if seed.is_some() && !model.takes_seed() {
            return Err(capabilities::unsupported_seed(model));
        }

        let num_outputs = match integer(map, "num_outputs")? {
            None => 1,
            Some(n) if n >= 1 && n <= i64::from(model.max_outputs()) => n as u8,
            Some(n) => return Err(capabilities::unsupported_num_outputs(model, n)),
        };

        let output_format = non_blank(map, "output_format")?
            .map(|f| OutputFormat::parse(f, &model.output_formats(), model.name))
            .transpose()?;

        let style = non_blank(map, "style")?
            .map(|s| Style::parse(s, model.styles(), model.name))
            .transpose()?;

        Ok(Self {
            prompt,
            model,
            width,
            height,
            aspect_ratio,
            negative_prompt,
            image_url,
            strength,
            seed,
            num_outputs,
            output_format,
            style,
        })
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

    /// The `params` stored on the generation row: everything but prompt and model, absent fields omitted.
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
        put(
            "output_format",
            self.output_format.map(|f| f.as_str().into()),
        );
        put("style", self.style.map(|s| s.as_str().into()));
        Value::Object(p)
    }

    /// A digest of everything that defines the generation, to tell an idempotent retry (same key, same
    /// request) from a key reused for a different request. serde_json's map is ordered, so this is canonical.
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
