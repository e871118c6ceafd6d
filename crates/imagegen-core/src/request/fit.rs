//! Fitting a request's optional parameters to the chosen model, as the original backend did ("model-specific
//! parameter optimization"): a parameter the model has no input for is dropped, a number outside the
//! input's range is clamped into it, a choice it does not offer falls back to its default. Each change is
//! recorded. Every rule is idempotent: a fitted value fits again unchanged, so re-parsing a stored request
//! records nothing.

use super::adjust::Adjustment;
use super::fields::{
    Guidance, NegativePrompt, OutputFormat, Seed, Steps, Strength, Style, MAX_SEED,
};
use crate::catalog::{self, Model};
use crate::replicate::Kind;

/// Collects adjustments while fields are fitted.
pub(super) type Adjusted = Vec<Adjustment>;

pub(super) fn negative_prompt(
    model: &Model,
    value: Option<NegativePrompt>,
    adjusted: &mut Adjusted,
) -> Option<NegativePrompt> {
    let value = value?;
    if model.takes_negative_prompt() {
        return Some(value);
    }
    adjusted.push(Adjustment::dropped(
        "negative_prompt",
        value.as_str(),
        format!(
            "{} does not take a negative prompt; models that do: {}",
            model.display_name,
            catalog::negative_prompt_model_ids().join(", ")
        ),
    ));
    None
}

/// `image_field` is the field that carried the input image, if any.
pub(super) fn strength(
    model: &Model,
    value: Option<Strength>,
    image_field: Option<&'static str>,
    adjusted: &mut Adjusted,
) -> Option<Strength> {
    let value = value?;
    let why = match (image_field, model.image_input) {
        (None, _) => {
            "strength applies only with an input image (image_url or source_image_url)".to_owned()
        }
        (Some(_), Some(input)) if input.strength.is_none() => format!(
            "{} uses the input image as a reference and takes no strength",
            model.display_name
        ),
        _ => return Some(value),
    };
    adjusted.push(Adjustment::dropped("strength", value.get(), why));
    None
}

/// Negative seeds are how many UIs say "random"; seeds past the 32-bit range every model accepts are
/// folded into it, so the same request still gives the same seed.
pub(super) fn seed(model: &Model, raw: Option<i64>, adjusted: &mut Adjusted) -> Option<Seed> {
    let raw = raw?;
    if !model.takes_seed() {
        adjusted.push(Adjustment::dropped(
            "seed",
            raw,
            format!(
                "{} does not take a seed; its results cannot be reproduced",
                model.display_name
            ),
        ));
        return None;
    }
    if raw < 0 {
        adjusted.push(Adjustment::dropped(
            "seed",
            raw,
            "a negative seed means a random one",
        ));
        return None;
    }
    let folded = raw % (MAX_SEED + 1);
    if folded != raw {
        adjusted.push(Adjustment::changed(
            "seed",
            raw,
            folded,
            format!("seeds are 0 to {MAX_SEED}; {raw} was reduced modulo 2^31"),
        ));
    }
    Some(Seed::parse(folded).expect("folded into range"))
}

pub(super) fn steps(model: &Model, raw: Option<i64>, adjusted: &mut Adjusted) -> Option<Steps> {
    let raw = raw?;
    let Some(input) = model.steps_input() else {
        adjusted.push(Adjustment::dropped(
            "num_inference_steps",
            raw,
            format!("{} has no steps setting", model.display_name),
        ));
        return None;
    };
    let (min, max) = match input.kind {
        Kind::Int { min, max } => (min.unwrap_or(i64::MIN), max.unwrap_or(i64::MAX)),
        _ => (i64::MIN, i64::MAX),
    };
    let clamped = raw.clamp(min, max);
    if clamped != raw {
        adjusted.push(Adjustment::changed(
            "num_inference_steps",
            raw,
            clamped,
            format!("{} takes {min} to {max} steps", model.display_name),
        ));
    }
    Some(Steps::planned(clamped))
}

pub(super) fn guidance(
    model: &Model,
    raw: Option<f64>,
    adjusted: &mut Adjusted,
) -> Option<Guidance> {
    let raw = raw?;
    let Some(input) = model.guidance_input() else {
        adjusted.push(Adjustment::dropped(
            "guidance_scale",
            raw,
            format!("{} has no guidance setting", model.display_name),
        ));
        return None;
    };
    let (min, max) = match input.kind {
        Kind::Num { min, max } => (
            min.unwrap_or(f64::NEG_INFINITY),
            max.unwrap_or(f64::INFINITY),
        ),
        _ => (f64::NEG_INFINITY, f64::INFINITY),
    };
    let clamped = raw.clamp(min, max);
    if clamped != raw {
        adjusted.push(Adjustment::changed(
            "guidance_scale",
            raw,
            clamped,
            format!(
                "{} takes a guidance of {min} to {max} (its {} input)",
                model.display_name, input.name
            ),
        ));
    }
    Some(Guidance::planned(clamped))
}

pub(super) fn num_outputs(model: &Model, raw: Option<i64>, adjusted: &mut Adjusted) -> u8 {
    let Some(raw) = raw else { return 1 };
    let max = model.max_outputs();
    let clamped = raw.clamp(1, i64::from(max));
    if clamped != raw {
        let makes = match max {
            1 => "makes 1 image per request".to_owned(),
            max => format!("makes 1 to {max} images per request"),
        };
        adjusted.push(Adjustment::changed(
            "num_outputs",
            raw,
            clamped,
            format!("{} {makes}", model.display_name),
        ));
    }
    clamped as u8
}

pub(super) fn output_format(
    model: &Model,
    raw: Option<&str>,
    adjusted: &mut Adjusted,
) -> Option<OutputFormat> {
    let raw = raw?;
    OutputFormat::parse(
        raw,
        &model.output_formats(),
        model.default_output_format(),
        model.display_name,
    )
    .map_err(|why| adjusted.push(Adjustment::dropped("output_format", raw.trim(), why)))
    .ok()
}

pub(super) fn style(model: &Model, raw: Option<&str>, adjusted: &mut Adjusted) -> Option<Style> {
    let raw = raw?;
    Style::parse(raw, model.styles(), model.display_name)
        .map_err(|why| adjusted.push(Adjustment::dropped("style", raw.trim(), why)))
        .ok()
}
