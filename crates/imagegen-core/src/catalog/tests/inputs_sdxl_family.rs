//! Stable Diffusion models (SDXL Lightning, SDXL, SD 3.5 Large): request → exact Replicate input.

use super::{assert_inputs, URL};
use serde_json::json;

#[test]
fn sdxl_lightning_4step() {
    assert_inputs(
        "bytedance/sdxl-lightning-4step",
        &[
            (
                json!({}),
                json!({"width": 1024, "height": 1024, "num_outputs": 1, "disable_safety_checker": false}),
            ),
            // Multiples of 8: 1001 → 1000, 1004 → 1008 (125.5, halves up). png is its only format.
            (
                json!({"width": 1001, "height": 1004, "negative_prompt": "blurry", "num_outputs": 4,
                       "seed": 3, "output_format": "png"}),
                json!({"width": 1000, "height": 1008, "negative_prompt": "blurry", "num_outputs": 4,
                       "seed": 3, "disable_safety_checker": false}),
            ),
            (
                json!({"width": 1280, "height": 256}),
                json!({"width": 1280, "height": 256, "num_outputs": 1, "disable_safety_checker": false}),
            ),
            // 16:9 at the requested 1 MP is 1365×768: scaled to the 1280 bound.
            (
                json!({"aspect_ratio": "16:9"}),
                json!({"width": 1280, "height": 720, "num_outputs": 1, "disable_safety_checker": false}),
            ),
        ],
    );
}

#[test]
fn sdxl() {
    assert_inputs(
        "stability-ai/sdxl",
        &[
            (
                json!({}),
                json!({"width": 1024, "height": 1024, "num_outputs": 1, "disable_safety_checker": false}),
            ),
            (
                json!({"width": 768, "height": 1024, "aspect_ratio": "3:4", "negative_prompt": "blurry",
                       "image_url": URL, "strength": 0.6, "seed": 42, "num_outputs": 2}),
                json!({"width": 768, "height": 1024, "negative_prompt": "blurry", "image": URL,
                       "prompt_strength": 0.6, "seed": 42, "num_outputs": 2,
                       "disable_safety_checker": false}),
            ),
            (
                json!({"width": 1536, "height": 1536}),
                json!({"width": 1536, "height": 1536, "num_outputs": 1, "disable_safety_checker": false}),
            ),
        ],
    );
}

#[test]
fn stable_diffusion_3_5_large() {
    assert_inputs(
        "stability-ai/stable-diffusion-3.5-large",
        &[
            (json!({}), json!({"aspect_ratio": "1:1"})),
            // It has no 4:3: 1.33 is nearer 5:4 than 3:2.
            (
                json!({"width": 1024, "height": 768}),
                json!({"aspect_ratio": "5:4"}),
            ),
            (
                json!({"image_url": URL, "strength": 0.5, "negative_prompt": "text", "output_format": "jpg",
                       "seed": 9, "aspect_ratio": "9:21"}),
                json!({"aspect_ratio": "9:21", "image": URL, "prompt_strength": 0.5,
                       "negative_prompt": "text", "seed": 9, "output_format": "jpg"}),
            ),
        ],
    );
}
