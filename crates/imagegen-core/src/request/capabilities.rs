//! Refusals: what a request cannot mean, whatever the model. Everything else a model cannot take is
//! fitted to it (see `fit`). Each refusal is a 400 naming the field, with a message that says what would
//! work, so a client can correct the request.

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

/// A `models.id` uuid that the caller could not resolve (or did not try to).
pub(super) fn unknown_model_row(id: &str) -> ApiError {
    ApiError::invalid(
        "model_id",
        "unknown_model",
        format!("model_id {id:?} is not the id of an available model"),
    )
}

/// A `models` row whose `replicate_id` the catalog no longer serves.
pub(super) fn retired_model(id: &str, replicate_id: &str) -> ApiError {
    ApiError::invalid(
        "model_id",
        "unknown_model",
        format!("model_id {id:?} names {replicate_id:?}, which is no longer offered"),
    )
}

pub(super) fn unsupported_img2img(field: &'static str, model: &Model) -> ApiError {
    ApiError::invalid(
        field,
        "unsupported_img2img",
        format!(
            "{} supports text-to-image only, not {field}; image-to-image models: {}",
            model.display_name,
            catalog::img2img_model_ids().join(", ")
        ),
    )
}

/// `image_url` and `source_image_url` name the same input; two different values cannot both be meant.
pub(super) fn conflicting_image_urls() -> ApiError {
    ApiError::invalid(
        "source_image_url",
        "conflicting_image_url",
        "image_url and source_image_url are the same input; send one, or the same URL in both",
    )
}

/// Two different versions pinned (the `model_id` suffix and `model_version`, or two model ids).
pub(super) fn conflicting_version(why: String) -> ApiError {
    ApiError::invalid("model_version", "model_version_conflict", why)
}
