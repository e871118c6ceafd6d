//! A start-generation request body, parsed into domain types. The wire format is the seed's JSON body
//! (`prompt`, `model_id`, `width`, `height`, optional `aspect_ratio`, `negative_prompt`, `image_url`,
//! `strength`, `seed`, `num_outputs`, `output_format`, `style`). Unknown keys are ignored so existing clients
//! that send extra fields keep working; every known key is type- and range-checked against the chosen model.

mod fields;

pub use fields::*;

use crate::catalog::{self, Model};
use crate::error::ApiError;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Side used when the client sends no `width`/`height` (the seed's clients send 1024).
pub const DEFAULT_SIDE: u32 = 1024;

/// A fully validated generation request.
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
    pub style: Option<String>,
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
        let model = catalog::find(model_id).ok_or_else(|| {
            let known: Vec<&str> = catalog::MODELS.iter().map(|m| m.id).collect();
            ApiError::invalid(
                "model_id",
                "unknown_model",
                format!(
                    "model_id {model_id:?} is not supported; supported models: {}",
                    known.join(", ")
                ),
            )
        })?;

        let side = |field| -> Result<Side, ApiError> {
            let raw = integer(map, field)?.unwrap_or(i64::from(DEFAULT_SIDE));
            Side::parse(field, raw, model.side_bounds, model.name)
        };
        let (width, height) = (side("width")?, side("height")?);

        let aspect_ratio = string(map, "aspect_ratio")?
            .map(AspectRatio::parse)
            .transpose()?;
        if let Some(ratio) = &aspect_ratio {
            if !model.accepts_aspect_ratio(ratio.as_str()) {
                return Err(ApiError::invalid(
                    "aspect_ratio",
                    "unsupported_aspect_ratio",
                    format!(
                        "{} does not support aspect_ratio {}; it supports {}",
                        model.name,
                        ratio.as_str(),
                        ratio_list(model)
                    ),
                ));
            }
        }

        let negative_prompt = string(map, "negative_prompt")?
            .map(NegativePrompt::parse)
            .transpose()?
            .flatten();
        if negative_prompt.is_some() && !model.negative_prompt {
            return Err(ApiError::invalid(
                "negative_prompt",
                "unsupported_negative_prompt",
                format!("{} does not take a negative_prompt", model.name),
            ));
        }

        let image_url = string(map, "image_url")?
            .filter(|s| !s.trim().is_empty())
            .map(ImageUrl::parse)
            .transpose()?;
        let strength = number(map, "strength")?.map(Strength::parse).transpose()?;
        match (&image_url, model.image_input) {
            (Some(_), None) => {
                return Err(ApiError::invalid(
                    "image_url",
                    "unsupported_img2img",
                    format!(
                        "{} does not support image-to-image (image_url); {}",
                        model.name,
                        img2img_models()
                    ),
                ))
            }
            (None, _) if strength.is_some() => {
                return Err(ApiError::invalid(
                    "strength",
                    "strength_without_image",
                    "strength applies only with image_url",
                ))
            }
            (Some(_), Some(input)) if strength.is_some() && input.strength_field.is_none() => {
                return Err(ApiError::invalid(
                    "strength",
                    "unsupported_strength",
                    format!(
                        "{} uses image_url as a reference and takes no strength",
                        model.name
                    ),
                ))
            }
            _ => {}
        }

        let seed = integer(map, "seed")?.map(Seed::parse).transpose()?;

        let num_outputs = match integer(map, "num_outputs")? {
            None => 1,
            Some(n) if n >= 1 && n <= i64::from(model.max_outputs) => n as u8,
            Some(n) => {
                return Err(ApiError::invalid(
                    "num_outputs",
                    "unsupported_num_outputs",
                    format!(
                        "{} can make 1 to {} images per request, not {n}",
                        model.name, model.max_outputs
                    ),
                ))
            }
        };

        let output_format = string(map, "output_format")?
            .filter(|s| !s.trim().is_empty())
            .map(|f| OutputFormat::parse(f, model.output_formats, model.name))
            .transpose()?;

        let style = match string(map, "style")?
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(s) if model.styles.contains(&s) => Some(s.to_owned()),
            Some(s) if model.styles.is_empty() => {
                return Err(ApiError::invalid(
                    "style",
                    "unsupported_style",
                    format!("{} does not take a style (got {s:?})", model.name),
                ))
            }
            Some(s) => {
                return Err(ApiError::invalid(
                    "style",
                    "unsupported_style",
                    format!(
                        "{} supports style {}, not {s:?}",
                        model.name,
                        model.styles.join(", ")
                    ),
                ))
            }
        };

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
            self.output_format.as_ref().map(|f| f.as_str().into()),
        );
        put("style", self.style.as_deref().map(Into::into));
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

fn ratio_list(model: &Model) -> String {
    match model.sizing {
        catalog::Sizing::AspectRatios(list) => list.join(", "),
        _ => "any ratio".into(),
    }
}

fn img2img_models() -> String {
    let ids: Vec<&str> = catalog::MODELS
        .iter()
        .filter(|m| m.image_input.is_some())
        .map(|m| m.id)
        .collect();
    format!("models that do: {}", ids.join(", "))
}

fn type_error(field: &'static str, expected: &str) -> ApiError {
    ApiError::invalid(field, "invalid_type", format!("{field} must be {expected}"))
}

/// A string field; `null` counts as absent.
fn string<'a>(
    map: &'a Map<String, Value>,
    field: &'static str,
) -> Result<Option<&'a str>, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(type_error(field, "a string")),
    }
}

/// A number field; `null` counts as absent.
fn number(map: &Map<String, Value>, field: &'static str) -> Result<Option<f64>, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .map(Some)
            .ok_or_else(|| type_error(field, "a number")),
        Some(_) => Err(type_error(field, "a number")),
    }
}

/// An integer field (`1024` or `1024.0`); `null` counts as absent.
fn integer(map: &Map<String, Value>, field: &'static str) -> Result<Option<i64>, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Ok(Some(i)),
            // `as` saturates, so a huge whole number becomes an out-of-range value, not a type error.
            (None, Some(f)) if f.fract() == 0.0 => Ok(Some(f as i64)),
            _ => Err(type_error(field, "an integer")),
        },
        Some(_) => Err(type_error(field, "an integer")),
    }
}

#[cfg(test)]
mod tests;
