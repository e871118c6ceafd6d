//! A parsed request mapped to the exact `input` of its model's Replicate prediction. Parsing already
//! fitted the request to the model (refusing, dropping or clamping what it cannot take), so every value
//! here fits the schema; only fields the schema has are written, and everything the request leaves open
//! is left to Replicate's defaults (except safety, see [`super::safety`]).

use super::sizing::{write_size_inputs, SizeRequest};
use super::{safety, StrengthScale};
use crate::replicate::schema::Kind;
use crate::request::GenerationRequest;
use serde_json::{Map, Value};

/// The `input` object for `req`'s model.
pub(crate) fn replicate_input(req: &GenerationRequest) -> Value {
    let model = req.model;
    let schema = model.schema();
    let mut input = Map::new();
    input.insert("prompt".into(), req.prompt.as_str().into());

    write_size_inputs(
        model,
        SizeRequest {
            width: req.width.get(),
            height: req.height.get(),
            aspect_ratio: req.aspect_ratio.as_ref().map(|r| r.as_str()),
            with_image: req.image_url.is_some(),
        },
        &mut input,
    );

    if let (Some(url), Some(image)) = (&req.image_url, model.image_input) {
        let url = Value::from(url.as_str());
        let value = match schema.field(image.field).map(|f| f.kind) {
            Some(Kind::UriArray { .. }) => Value::Array(vec![url]),
            _ => url,
        };
        input.insert(image.field.into(), value);
        if let (Some(strength), Some(to)) = (req.strength, image.strength) {
            let s = match to.scale {
                StrengthScale::Same => strength.get(),
                // Rounded so 1 - 0.7 is sent as 0.3, not 0.30000000000000004.
                StrengthScale::Inverted => ((1.0 - strength.get()) * 1e6).round() / 1e6,
            };
            input.insert(to.field.into(), s.into());
        }
    }

    if let Some(negative) = &req.negative_prompt {
        input.insert("negative_prompt".into(), negative.as_str().into());
    }
    if let Some(seed) = req.seed {
        input.insert("seed".into(), seed.get().into());
    }
    if let (Some(steps), Some(field)) = (req.steps, model.steps_input()) {
        input.insert(field.name.into(), steps.get().into());
    }
    if let (Some(guidance), Some(field)) = (req.guidance_scale, model.guidance_input()) {
        input.insert(field.name.into(), guidance.get().into());
    }
    if schema.field("num_outputs").is_some() {
        input.insert("num_outputs".into(), req.num_outputs.into());
    }
    if let Some(value) = req
        .output_format
        .and_then(|f| model.output_format_value(f.get()))
    {
        input.insert("output_format".into(), value.into());
    }
    if let (Some(style), Some(field)) = (req.style, model.style_field) {
        input.insert(field.into(), style.as_str().into());
    }
    safety::write_safety_inputs(model, &mut input);
    Value::Object(input)
}
