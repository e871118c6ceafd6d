//! Black Forest Labs models: request → exact Replicate input.

use super::{assert_inputs, URL};
use serde_json::json;

#[test]
fn flux_schnell() {
    assert_inputs(
        "black-forest-labs/flux-schnell",
        &[
            (
                json!({}),
                json!({"aspect_ratio": "1:1", "megapixels": "1", "num_outputs": 1,
                       "disable_safety_checker": false}),
            ),
            (
                json!({"width": 1920, "height": 1080, "num_outputs": 4, "seed": 42, "output_format": "jpeg"}),
                json!({"aspect_ratio": "16:9", "megapixels": "1", "num_outputs": 4, "seed": 42,
                       "output_format": "jpg", "disable_safety_checker": false}),
            ),
            // 512² is exactly 0.25 MP.
            (
                json!({"width": 512, "height": 512}),
                json!({"aspect_ratio": "1:1", "megapixels": "0.25", "num_outputs": 1,
                       "disable_safety_checker": false}),
            ),
            (
                json!({"width": 768, "height": 1024}),
                json!({"aspect_ratio": "3:4", "megapixels": "1", "num_outputs": 1,
                       "disable_safety_checker": false}),
            ),
            // Narrower than any ratio: the most portrait one.
            (
                json!({"width": 300, "height": 2000}),
                json!({"aspect_ratio": "9:21", "megapixels": "1", "num_outputs": 1,
                       "disable_safety_checker": false}),
            ),
            // 1.1 is nearer 1:1 than 5:4.
            (
                json!({"width": 1100, "height": 1000}),
                json!({"aspect_ratio": "1:1", "megapixels": "1", "num_outputs": 1,
                       "disable_safety_checker": false}),
            ),
            // An explicit ratio wins over width/height; the area still picks megapixels.
            (
                json!({"aspect_ratio": "21:9", "width": 512, "height": 512}),
                json!({"aspect_ratio": "21:9", "megapixels": "0.25", "num_outputs": 1,
                       "disable_safety_checker": false}),
            ),
        ],
    );
}

#[test]
fn flux_dev() {
    assert_inputs(
        "black-forest-labs/flux-dev",
        &[
            (
                json!({}),
                json!({"aspect_ratio": "1:1", "megapixels": "1", "num_outputs": 1,
                       "disable_safety_checker": false}),
            ),
            (
                json!({"image_url": URL, "strength": 0.6, "width": 1024, "height": 576,
                       "output_format": "png", "num_outputs": 2}),
                json!({"aspect_ratio": "16:9", "megapixels": "1", "image": URL, "prompt_strength": 0.6,
                       "num_outputs": 2, "output_format": "png", "disable_safety_checker": false}),
            ),
            // Without a strength the model's default (0.8) applies.
            (
                json!({"image_url": URL}),
                json!({"aspect_ratio": "1:1", "megapixels": "1", "image": URL, "num_outputs": 1,
                       "disable_safety_checker": false}),
            ),
        ],
    );
}

#[test]
fn flux_1_1_pro() {
    assert_inputs(
        "black-forest-labs/flux-1.1-pro",
        &[
            (
                json!({}),
                json!({"aspect_ratio": "custom", "width": 1024, "height": 1024, "safety_tolerance": 2}),
            ),
            // Multiples of 32: 1000 → 992 (31.25), 1008 → 1024 (31.5, halves up).
            (
                json!({"width": 1000, "height": 1008}),
                json!({"aspect_ratio": "custom", "width": 992, "height": 1024, "safety_tolerance": 2}),
            ),
            (
                json!({"width": 1440, "height": 256, "image_url": URL, "seed": 7, "output_format": "webp"}),
                json!({"aspect_ratio": "custom", "width": 1440, "height": 256, "image_prompt": URL,
                       "seed": 7, "output_format": "webp", "safety_tolerance": 2}),
            ),
            // A named ratio is sent as is.
            (
                json!({"aspect_ratio": "16:9"}),
                json!({"aspect_ratio": "16:9", "safety_tolerance": 2}),
            ),
            // 21:9 is not named here: the requested area at 21:9 (1564×670) scaled into 1440.
            (
                json!({"aspect_ratio": "21:9"}),
                json!({"aspect_ratio": "custom", "width": 1440, "height": 608, "safety_tolerance": 2}),
            ),
        ],
    );
}

#[test]
fn flux_1_1_pro_ultra() {
    assert_inputs(
        "black-forest-labs/flux-1.1-pro-ultra",
        &[
            (
                json!({}),
                json!({"aspect_ratio": "1:1", "safety_tolerance": 2}),
            ),
            (
                json!({"width": 2048, "height": 1536, "output_format": "png", "seed": 1}),
                json!({"aspect_ratio": "4:3", "output_format": "png", "seed": 1, "safety_tolerance": 2}),
            ),
            // image_prompt_strength weighs the image: strength 0.7 (depart a lot) → 0.3.
            (
                json!({"image_url": URL, "strength": 0.7}),
                json!({"aspect_ratio": "1:1", "image_prompt": URL, "image_prompt_strength": 0.3,
                       "safety_tolerance": 2}),
            ),
        ],
    );
}

#[test]
fn flux_kontext_pro() {
    assert_inputs(
        "black-forest-labs/flux-kontext-pro",
        &[
            (
                json!({}),
                json!({"aspect_ratio": "1:1", "safety_tolerance": 2}),
            ),
            (
                json!({"width": 1024, "height": 512}),
                json!({"aspect_ratio": "2:1", "safety_tolerance": 2}),
            ),
            // Editing keeps the source's shape unless a ratio is asked for.
            (
                json!({"image_url": URL}),
                json!({"aspect_ratio": "match_input_image", "input_image": URL, "safety_tolerance": 2}),
            ),
            (
                json!({"image_url": URL, "aspect_ratio": "2:1", "output_format": "jpg", "seed": 5}),
                json!({"aspect_ratio": "2:1", "input_image": URL, "output_format": "jpg", "seed": 5,
                       "safety_tolerance": 2}),
            ),
        ],
    );
}
