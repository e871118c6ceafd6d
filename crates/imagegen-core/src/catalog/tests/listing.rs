//! The client listing: every model, every key, literal values for representative models.

use crate::catalog::{listing_json, MODELS};
use serde_json::json;

const KEYS: &[&str] = &[
    "default_output_format",
    "id",
    "img2img",
    "max_outputs",
    "name",
    "negative_prompt",
    "output",
    "output_formats",
    "seed",
    "size",
    "speed",
    "styles",
];

#[test]
fn lists_every_model_with_every_key() {
    let listing = listing_json();
    assert_eq!(listing["version"], 1);
    assert_eq!(listing["default_model"], "black-forest-labs/flux-schnell");
    let models = listing["models"].as_array().unwrap();
    assert_eq!(models.len(), MODELS.len());
    for (entry, m) in models.iter().zip(MODELS) {
        assert_eq!(entry["id"], m.id);
        let keys: Vec<&str> = entry
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, KEYS, "{}", m.id);
        let size: Vec<&str> = entry["size"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            size,
            [
                "any_aspect_ratio",
                "aspect_ratios",
                "fixed_sizes",
                "max",
                "min",
                "mode",
                "multiple"
            ]
        );
    }
}

fn entry(id: &str) -> serde_json::Value {
    listing_json()["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .cloned()
        .unwrap()
}

#[test]
fn a_ratio_model_a_custom_model_and_a_fixed_size_model() {
    assert_eq!(
        entry("black-forest-labs/flux-schnell"),
        json!({
            "id": "black-forest-labs/flux-schnell", "name": "FLUX Schnell", "speed": "fast", "output": "image",
            "output_formats": ["webp", "jpg", "png"], "default_output_format": "webp", "max_outputs": 4,
            "negative_prompt": false, "seed": true, "styles": [], "img2img": null,
            "size": {"mode": "aspect_ratio", "min": 256, "max": 2048, "multiple": null,
                     "aspect_ratios": ["1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21"],
                     "any_aspect_ratio": false, "fixed_sizes": []}
        })
    );
    assert_eq!(
        entry("black-forest-labs/flux-1.1-pro"),
        json!({
            "id": "black-forest-labs/flux-1.1-pro", "name": "FLUX 1.1 Pro", "speed": "standard",
            "output": "image", "output_formats": ["webp", "jpg", "png"], "default_output_format": "webp",
            "max_outputs": 1, "negative_prompt": false, "seed": true, "styles": [],
            "img2img": {"strength": false},
            "size": {"mode": "custom", "min": 256, "max": 1440, "multiple": 32,
                     "aspect_ratios": ["1:1", "16:9", "3:2", "2:3", "4:5", "5:4", "9:16", "3:4", "4:3"],
                     "any_aspect_ratio": true, "fixed_sizes": []}
        })
    );
    assert_eq!(
        entry("recraft-ai/recraft-v3-svg"),
        json!({
            "id": "recraft-ai/recraft-v3-svg", "name": "Recraft V3 SVG", "speed": "standard", "output": "svg",
            "output_formats": ["svg"], "default_output_format": "svg", "max_outputs": 1,
            "negative_prompt": false, "seed": false,
            "styles": ["any", "engraving", "line_art", "line_circuit", "linocut"], "img2img": null,
            "size": {"mode": "fixed", "min": 1024, "max": 2048, "multiple": null,
                     "aspect_ratios": ["1:1", "4:3", "3:4", "3:2", "2:3", "16:9", "9:16", "1:2", "2:1", "7:5",
                                       "5:7", "4:5", "5:4", "3:5", "5:3"],
                     "any_aspect_ratio": false,
                     "fixed_sizes": ["1024x1024", "1365x1024", "1024x1365", "1536x1024", "1024x1536",
                                     "1820x1024", "1024x1820", "1024x2048", "2048x1024", "1434x1024",
                                     "1024x1434", "1024x1280", "1280x1024", "1024x1707", "1707x1024"]}
        })
    );
    assert_eq!(
        entry("qwen/qwen-image")["img2img"],
        json!({"strength": true})
    );
    assert_eq!(entry("stability-ai/sdxl")["size"]["mode"], "pixels");
}
