//! Refusals for what the chosen model cannot do. Each is a 400 naming the field, with a message that says
//! what the model supports (or which models support it), so a client can correct the request.

use crate::catalog::{self, Model};
use crate::error::ApiError;

pub(super) fn unknown_model(model_id: &str) -> ApiError {
    let known: Vec<&str> = catalog::MODELS.iter().map(|m| m.id).collect();
    ApiError::invalid(
        "model_id",
        "unknown_model",
        format!(
            "model_id {model_id:?} is not supported; supported models: {}",
            known.join(", ")
        ),
    )
}

pub(super) fn unsupported_aspect_ratio(model: &Model, ratio: &str) -> ApiError {
    let named = model.aspect_ratios().join(", ");
    let supports = if model.takes_any_ratio() {
        let (min, max) = model.side_bounds();
        let between = format!("any ratio from {min}:{max} to {max}:{min}");
        if named.is_empty() {
            between
        } else {
            format!("{named}, or {between}")
        }
    } else {
        named
    };
    ApiError::invalid(
        "aspect_ratio",
        "unsupported_aspect_ratio",
        format!(
            "{} does not support aspect_ratio {ratio}; it supports {supports}",
            model.name
        ),
    )
}

pub(super) fn unsupported_negative_prompt(model: &Model) -> ApiError {
    ApiError::invalid(
        "negative_prompt",
        "unsupported_negative_prompt",
        format!(
            "{} does not take a negative_prompt; models that do: {}",
            model.name,
            catalog::negative_prompt_model_ids().join(", ")
        ),
    )
}

pub(super) fn unsupported_img2img(model: &Model) -> ApiError {
    ApiError::invalid(
        "image_url",
        "unsupported_img2img",
        format!(
            "{} supports text-to-image only, not image_url; image-to-image models: {}",
            model.name,
            catalog::img2img_model_ids().join(", ")
        ),
    )
}

pub(super) fn strength_without_image() -> ApiError {
    ApiError::invalid(
        "strength",
        "strength_without_image",
        "strength applies only with image_url",
    )
}

pub(super) fn unsupported_strength(model: &Model) -> ApiError {
    ApiError::invalid(
        "strength",
        "unsupported_strength",
        format!(
            "{} uses image_url as a reference and takes no strength",
            model.name
        ),
    )
}

pub(super) fn unsupported_seed(model: &Model) -> ApiError {
    ApiError::invalid(
        "seed",
        "unsupported_seed",
        format!(
            "{} does not take a seed; its results cannot be reproduced",
            model.name
        ),
    )
}

pub(super) fn unsupported_num_outputs(model: &Model, n: i64) -> ApiError {
    let supports = match model.max_outputs() {
        1 => "makes 1 image per request".to_owned(),
        max => format!("makes 1 to {max} images per request"),
    };
    ApiError::invalid(
        "num_outputs",
        "unsupported_num_outputs",
        format!("{} {supports}, not {n}", model.name),
    )
}
