//! What is still refused: an input image for a model without image input, and values no model could mean.
//! Everything else a model cannot do is adjusted (see `adjustments`).

use super::{assert_refusals, URL};
use crate::catalog::MODELS;
use serde_json::json;

const IMG2IMG_MODELS: &str = "black-forest-labs/flux-dev, black-forest-labs/flux-krea-dev, \
    black-forest-labs/flux-1.1-pro, black-forest-labs/flux-1.1-pro-ultra, black-forest-labs/flux-kontext-pro, \
    stability-ai/sdxl, stability-ai/stable-diffusion-3.5-large, bytedance/seedream-4, qwen/qwen-image, \
    google/nano-banana";

fn no_img2img(name: &str, field: &str) -> String {
    format!(
        "{name} supports text-to-image only, not {field}; image-to-image models: {IMG2IMG_MODELS}"
    )
}

#[test]
fn an_input_image_for_a_text_only_model() {
    let text_only: Vec<_> = MODELS.iter().filter(|m| m.image_input.is_none()).collect();
    assert_eq!(text_only.len(), 11);
    for m in text_only {
        assert_refusals(
            m.id,
            &[
                (
                    json!({"image_url": URL}),
                    "image_url",
                    "unsupported_img2img",
                    no_img2img(m.display_name, "image_url"),
                ),
                // The original's name for the same input, as the mobile remix sends it.
                (
                    json!({"source_image_url": URL, "strength": 0.7}),
                    "source_image_url",
                    "unsupported_img2img",
                    no_img2img(m.display_name, "source_image_url"),
                ),
            ],
        );
    }
}

#[test]
fn values_no_model_could_mean() {
    let size = |field: &str, v: i64| {
        format!("{field} {v} is not a usable size: it must be 64 to 8192 pixels")
    };
    for m in MODELS {
        assert_refusals(
            m.id,
            &[
                (
                    json!({"width": 63}),
                    "width",
                    "size_out_of_range",
                    size("width", 63),
                ),
                (
                    json!({"height": 8193}),
                    "height",
                    "size_out_of_range",
                    size("height", 8193),
                ),
                (
                    json!({"width": 1024.5}),
                    "width",
                    "invalid_type",
                    "width must be an integer".into(),
                ),
                (
                    json!({"aspect_ratio": "wide"}),
                    "aspect_ratio",
                    "invalid_aspect_ratio",
                    "aspect_ratio \"wide\" is not of the form W:H, e.g. 16:9".into(),
                ),
                (
                    json!({"seed": "42"}),
                    "seed",
                    "invalid_type",
                    "seed must be an integer".into(),
                ),
                (
                    json!({"num_inference_steps": 4.5}),
                    "num_inference_steps",
                    "invalid_type",
                    "num_inference_steps must be an integer".into(),
                ),
                (
                    json!({"guidance_scale": "7.5"}),
                    "guidance_scale",
                    "invalid_type",
                    "guidance_scale must be a number".into(),
                ),
                (
                    json!({"strength": 1.5}),
                    "strength",
                    "invalid_strength",
                    "strength must be between 0 and 1".into(),
                ),
            ],
        );
    }
}

#[test]
fn two_different_values_for_one_input() {
    assert_refusals(
        "black-forest-labs/flux-dev",
        &[(
            json!({"image_url": URL, "source_image_url": "https://example.com/other.png"}),
            "source_image_url",
            "conflicting_image_url",
            "image_url and source_image_url are the same input; send one, or the same URL in both"
                .into(),
        )],
    );
}
