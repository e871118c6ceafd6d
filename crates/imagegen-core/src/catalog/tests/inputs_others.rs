//! Ideogram, Imagen, Recraft, Seedream, Qwen and Nano Banana: request → exact Replicate input.

use super::{assert_inputs, URL};
use serde_json::json;

#[test]
fn ideogram_v3_all_tiers() {
    for id in [
        "ideogram-ai/ideogram-v3-turbo",
        "ideogram-ai/ideogram-v3-balanced",
        "ideogram-ai/ideogram-v3-quality",
    ] {
        assert_inputs(
            id,
            &[
                (json!({}), json!({"aspect_ratio": "1:1"})),
                // `style` goes to style_type, in Ideogram's spelling.
                (
                    json!({"width": 1600, "height": 1000, "style": "realistic", "seed": 2147483647}),
                    json!({"aspect_ratio": "16:10", "style_type": "Realistic", "seed": 2147483647}),
                ),
                (
                    json!({"width": 256, "height": 768, "output_format": "png"}),
                    json!({"aspect_ratio": "1:3"}),
                ),
            ],
        );
    }
}

#[test]
fn imagen_4_all_tiers() {
    for id in [
        "google/imagen-4",
        "google/imagen-4-fast",
        "google/imagen-4-ultra",
    ] {
        assert_inputs(
            id,
            &[
                (
                    json!({}),
                    json!({"aspect_ratio": "1:1", "safety_filter_level": "block_only_high"}),
                ),
                // 1.5 is nearer 4:3 than 16:9 (there is no 3:2).
                (
                    json!({"width": 1536, "height": 1024, "output_format": "png"}),
                    json!({"aspect_ratio": "4:3", "output_format": "png",
                           "safety_filter_level": "block_only_high"}),
                ),
                (
                    json!({"width": 720, "height": 1280}),
                    json!({"aspect_ratio": "9:16", "safety_filter_level": "block_only_high"}),
                ),
            ],
        );
    }
}

#[test]
fn recraft_v3() {
    assert_inputs(
        "recraft-ai/recraft-v3",
        &[
            (json!({}), json!({"size": "1024x1024"})),
            (
                json!({"width": 1920, "height": 1080, "style": "digital_illustration/pixel_art"}),
                json!({"size": "1820x1024", "style": "digital_illustration/pixel_art"}),
            ),
            (json!({"aspect_ratio": "7:5"}), json!({"size": "1434x1024"})),
            (
                json!({"width": 1024, "height": 2048, "output_format": "webp"}),
                json!({"size": "1024x2048"}),
            ),
            (
                json!({"width": 1100, "height": 1024}),
                json!({"size": "1024x1024"}),
            ),
        ],
    );
}

#[test]
fn recraft_v3_svg() {
    assert_inputs(
        "recraft-ai/recraft-v3-svg",
        &[
            (json!({}), json!({"size": "1024x1024"})),
            (
                json!({"style": "line_art", "output_format": "svg", "width": 1024, "height": 1280}),
                json!({"size": "1024x1280", "style": "line_art"}),
            ),
            (json!({"aspect_ratio": "3:5"}), json!({"size": "1024x1707"})),
        ],
    );
}

#[test]
fn seedream_3() {
    assert_inputs(
        "bytedance/seedream-3",
        &[
            (
                json!({}),
                json!({"aspect_ratio": "custom", "width": 1024, "height": 1024}),
            ),
            // No published multiple: sides are sent as asked.
            (
                json!({"width": 517, "height": 2048, "seed": 5, "output_format": "jpg"}),
                json!({"aspect_ratio": "custom", "width": 517, "height": 2048, "seed": 5}),
            ),
            (
                json!({"aspect_ratio": "21:9"}),
                json!({"aspect_ratio": "21:9"}),
            ),
            // 5:4 is not named: the requested 1 MP at 5:4 (1144.9×915.9).
            (
                json!({"aspect_ratio": "5:4"}),
                json!({"aspect_ratio": "custom", "width": 1145, "height": 916}),
            ),
        ],
    );
}

#[test]
fn seedream_4() {
    assert_inputs(
        "bytedance/seedream-4",
        &[
            (
                json!({}),
                json!({"size": "custom", "width": 1024, "height": 1024}),
            ),
            (
                json!({"width": 4096, "height": 2304}),
                json!({"size": "custom", "width": 4096, "height": 2304}),
            ),
            // A named ratio takes a size tier: the one nearest the longer side.
            (
                json!({"aspect_ratio": "16:9", "width": 2048, "height": 2048}),
                json!({"size": "2K", "aspect_ratio": "16:9"}),
            ),
            (
                json!({"image_url": URL}),
                json!({"size": "1K", "aspect_ratio": "match_input_image", "image_input": [URL]}),
            ),
            // 3000 is nearer 4096 than 2048 on a log scale.
            (
                json!({"image_url": URL, "width": 3000, "height": 3000}),
                json!({"size": "4K", "aspect_ratio": "match_input_image", "image_input": [URL]}),
            ),
            // 4:5 is not named: 1 MP at 4:5 is 916 wide, scaled up to the 1024 minimum.
            (
                json!({"aspect_ratio": "4:5"}),
                json!({"size": "custom", "width": 1024, "height": 1280}),
            ),
        ],
    );
}

#[test]
fn qwen_image() {
    assert_inputs(
        "qwen/qwen-image",
        &[
            (
                json!({}),
                json!({"aspect_ratio": "1:1", "disable_safety_checker": false}),
            ),
            (
                json!({"width": 1024, "height": 576, "negative_prompt": "watermark", "seed": 11,
                       "output_format": "webp"}),
                json!({"aspect_ratio": "16:9", "negative_prompt": "watermark", "seed": 11,
                       "output_format": "webp", "disable_safety_checker": false}),
            ),
            (
                json!({"image_url": URL, "strength": 0.25}),
                json!({"aspect_ratio": "1:1", "image": URL, "strength": 0.25,
                       "disable_safety_checker": false}),
            ),
        ],
    );
}

#[test]
fn nano_banana() {
    assert_inputs(
        "google/nano-banana",
        &[
            (json!({}), json!({"aspect_ratio": "1:1"})),
            (
                json!({"width": 2048, "height": 878}),
                json!({"aspect_ratio": "21:9"}),
            ),
            (
                json!({"image_url": URL, "output_format": "png"}),
                json!({"aspect_ratio": "match_input_image", "image_input": [URL], "output_format": "png"}),
            ),
            (
                json!({"image_url": URL, "aspect_ratio": "4:5"}),
                json!({"aspect_ratio": "4:5", "image_input": [URL]}),
            ),
        ],
    );
}
