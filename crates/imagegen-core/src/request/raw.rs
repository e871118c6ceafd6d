//! A request body in two phases: [`RawRequest::parse`] checks it is a JSON object of acceptable size;
//! [`RawRequest::validate`] turns it into a [`GenerationRequest`] once the caller has resolved a `models.id`
//! uuid in `model_id` (the web app sends those) to its `models` row.
//!
//! Leniency follows the original backend (contract §2): any field may be `null` (absent); sizes are
//! snapped to what the model makes; parameters the model cannot take are dropped or clamped; each change
//! is an [`Adjustment`]. Refused, with a stable `code` and the `field`: a missing or blank prompt, an
//! unknown model, a wrong JSON type, an input image for a model without image input, a size that cannot
//! be meant (outside [`SIDE_BOUNDS`](super::SIDE_BOUNDS)), a malformed value (version, URL, ratio,
//! strength outside 0–1), and contradictions (two different image URLs or versions).

use super::adjust::Adjustment;
use super::body::{integer, non_blank, number, string};
use super::capabilities::{conflicting_image_urls, unsupported_img2img};
use super::fields::{AspectRatio, ImageUrl, NegativePrompt, Prompt, Side, Strength};
use super::model_ref::{self, ResolvedModel};
use super::{body_too_large, fit, GenerationRequest, DEFAULT_SIDE, MAX_BODY_BYTES};
use crate::catalog::{self, SizeAsk};
use crate::error::ApiError;
use serde_json::{Map, Value};
use uuid::Uuid;

/// A request body that is a JSON object within [`MAX_BODY_BYTES`], not yet validated.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRequest {
    map: Map<String, Value>,
}

impl RawRequest {
    /// Checks size and shape: a JSON object.
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
        match value {
            Value::Object(map) => Ok(Self { map }),
            _ => Err(ApiError::invalid(
                "body",
                "invalid_json",
                "request body must be a JSON object",
            )),
        }
    }

    /// The `models.id` in `model_id`, when it is a uuid: the caller looks the row up and passes it to
    /// [`RawRequest::validate`].
    pub fn model_uuid(&self) -> Option<Uuid> {
        model_ref::model_uuid(&self.map)
    }

    /// `generation_id` (generate-image's legacy field: a row the client inserted itself), if present.
    pub fn generation_id(&self) -> Result<Option<Uuid>, ApiError> {
        non_blank(&self.map, "generation_id")?
            .map(|raw| {
                Uuid::parse_str(raw.trim()).map_err(|_| {
                    ApiError::invalid(
                        "generation_id",
                        "invalid_generation_id",
                        format!("generation_id {raw:?} is not a uuid"),
                    )
                })
            })
            .transpose()
    }

    /// The field the input image is read from: `image_url` when sent (`source_image_url` must then agree
    /// with it), else `source_image_url`. For errors about the image that name the client's field.
    pub fn image_field(&self) -> &'static str {
        match non_blank(&self.map, "image_url") {
            Ok(Some(_)) => "image_url",
            _ => "source_image_url",
        }
    }

    /// Validates the request against its model. `resolved`: the `models` row when [`Self::model_uuid`]
    /// was `Some` (ignored otherwise); without it a uuid `model_id` is an `unknown_model`.
    pub fn validate(
        &self,
        resolved: Option<ResolvedModel<'_>>,
    ) -> Result<GenerationRequest, ApiError> {
        let map = &self.map;
        let mut adjusted: Vec<Adjustment> = Vec::new();

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
        let resolved = resolved.filter(|_| self.model_uuid().is_some());
        let choice = model_ref::choose(map, resolved, &mut adjusted)?;
        let model = choice.model;

        // Types and shapes first, so a malformed field is refused whatever the model.
        let width = integer(map, "width")?
            .map(|w| Side::parse("width", w))
            .transpose()?;
        let height = integer(map, "height")?
            .map(|h| Side::parse("height", h))
            .transpose()?;
        let aspect_ratio = non_blank(map, "aspect_ratio")?
            .map(|r| AspectRatio::parse(r.trim()))
            .transpose()?;
        let image = image_url(map)?;
        let negative_prompt = string(map, "negative_prompt")?
            .map(NegativePrompt::parse)
            .transpose()?
            .flatten();
        let strength = number(map, "strength")?.map(Strength::parse).transpose()?;
        let seed = integer(map, "seed")?;
        let steps = integer(map, "num_inference_steps")?;
        let guidance = number(map, "guidance_scale")?;
        let num_outputs = integer(map, "num_outputs")?;
        let output_format = non_blank(map, "output_format")?;
        let style = non_blank(map, "style")?;

        if let (Some((field, _)), None) = (&image, model.image_input) {
            return Err(unsupported_img2img(field, model));
        }

        let plan = catalog::plan_size(
            model,
            SizeAsk {
                width: width.map_or(DEFAULT_SIDE, Side::get),
                height: height.map_or(DEFAULT_SIDE, Side::get),
                width_sent: width.is_some(),
                height_sent: height.is_some(),
                aspect_ratio: aspect_ratio.as_ref().map(AspectRatio::as_str),
                with_image: image.is_some(),
            },
        );
        adjusted.extend(plan.adjustments);
        let image_field = image.as_ref().map(|(field, _)| *field);

        Ok(GenerationRequest {
            prompt,
            model,
            model_version: choice.version,
            width: Side::planned(plan.width),
            height: Side::planned(plan.height),
            aspect_ratio: plan
                .aspect_ratio
                .map(|r| AspectRatio::parse(r).expect("named ratios are W:H")),
            negative_prompt: fit::negative_prompt(model, negative_prompt, &mut adjusted),
            strength: fit::strength(model, strength, image_field, &mut adjusted),
            image_url: image.map(|(_, url)| url),
            seed: fit::seed(model, seed, &mut adjusted),
            steps: fit::steps(model, steps, &mut adjusted),
            guidance_scale: fit::guidance(model, guidance, &mut adjusted),
            num_outputs: fit::num_outputs(model, num_outputs, &mut adjusted),
            output_format: fit::output_format(model, output_format, &mut adjusted),
            style: fit::style(model, style, &mut adjusted),
            adjusted,
        })
    }
}

/// The input image: `image_url` (this project's name) or `source_image_url` (the original's), with the
/// field it came from. Both may be sent when they agree.
fn image_url(map: &Map<String, Value>) -> Result<Option<(&'static str, ImageUrl)>, ApiError> {
    let ours = non_blank(map, "image_url")?
        .map(|u| ImageUrl::parse_field("image_url", u))
        .transpose()?;
    let original = non_blank(map, "source_image_url")?
        .map(|u| ImageUrl::parse_field("source_image_url", u))
        .transpose()?;
    match (ours, original) {
        (Some(a), Some(b)) if a != b => Err(conflicting_image_urls()),
        (Some(a), _) => Ok(Some(("image_url", a))),
        (None, Some(b)) => Ok(Some(("source_image_url", b))),
        (None, None) => Ok(None),
    }
}
