//! Every model over a grid of sizes and options: every size a client may send is accepted, maps to an input
//! the simulator's validator (Replicate's rules) accepts, and the stored params map to the same request
//! and input again, with nothing adjusted the second time.

use super::{assert_runs_and_reparses, request, URL};
use crate::catalog::MODELS;
use crate::request::SIDE_BOUNDS;
use serde_json::{json, Value};

/// The Picture clients' size presets (mobile `useImageGeneration.ts`, web `AdvancedSettingsModal.svelte`):
/// every one must be accepted on every model.
const PRESETS: &[(u32, u32)] = &[
    (1024, 1024),
    (1344, 768),
    (768, 1344),
    (1152, 896),
    (896, 1152),
    (1216, 832),
    (832, 1216),
    (1536, 640),
    (640, 1536),
];

/// Sides to try: the absolute bounds, the model's bounds and just outside them, common and awkward sizes.
fn sides((min, max): (u32, u32)) -> Vec<u32> {
    let (lo, hi) = SIDE_BOUNDS;
    let mut v = vec![
        lo,
        hi,
        min - 1,
        min,
        min + 1,
        max - 1,
        max,
        max + 1,
        (min + max) / 2,
        1000,
        1024,
        1337,
        3001,
    ];
    v.retain(|s| (lo..=hi).contains(s));
    v.sort_unstable();
    v.dedup();
    v
}

fn check(model: &str, extra: &Value) {
    let req = request(model, extra).unwrap_or_else(|e| panic!("{model} {extra}: {e}"));
    assert_runs_and_reparses(&req);
}

#[test]
fn every_preset_is_accepted_on_every_model() {
    for m in MODELS {
        for (w, h) in PRESETS {
            let req = request(m.id, &json!({"width": w, "height": h}))
                .unwrap_or_else(|e| panic!("{} {w}x{h}: {e}", m.id));
            assert_runs_and_reparses(&req);
            // The mobile app's body: its models row's defaults come along.
            let mobile = json!({"width": w, "height": h, "num_inference_steps": 30, "guidance_scale": 7.5,
                                "model_version": null, "negative_prompt": null});
            check(m.id, &mobile);
        }
    }
}

#[test]
fn every_size_and_ratio_is_accepted_and_maps_to_a_valid_input() {
    let mut checked = 0;
    for m in MODELS {
        let sides = sides(m.side_bounds());
        let mut ratios: Vec<Option<&str>> = vec![None];
        ratios.extend(m.aspect_ratios().into_iter().map(Some));
        // Unnamed, very wide and very tall ratios: snapped or narrowed on every model.
        ratios.extend(["7:3", "1:4", "11:10", "100:1", "1:100"].map(Some));
        for w in &sides {
            for h in &sides {
                for ratio in &ratios {
                    check(
                        m.id,
                        &json!({"width": w, "height": h, "aspect_ratio": ratio}),
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 20_000, "{checked}");
}

#[test]
fn every_option_a_model_offers_maps_to_a_valid_input() {
    for m in MODELS {
        let mut extras = vec![json!({})];
        for n in 1..=m.max_outputs() {
            extras.push(json!({"num_outputs": n}));
        }
        for f in m.output_formats() {
            extras.push(json!({"output_format": f.extension()}));
        }
        for s in m.styles() {
            extras.push(json!({"style": s}));
        }
        if m.takes_negative_prompt() {
            extras.push(json!({"negative_prompt": "blurry, text"}));
        }
        if m.takes_seed() {
            extras.push(json!({"seed": 0}));
            extras.push(json!({"seed": 2147483647}));
        }
        for steps in [-5, 0, 1, 4, 28, 50, 1000] {
            extras.push(json!({"num_inference_steps": steps}));
        }
        for guidance in [-1.0, 0.0, 3.5, 7.5, 100.0] {
            extras.push(json!({"guidance_scale": guidance}));
        }
        if let Some(image) = m.image_input {
            extras.push(json!({"image_url": URL}));
            extras.push(json!({"source_image_url": URL, "image_url": URL}));
            extras.push(json!({"image_url": URL, "aspect_ratio": m.aspect_ratios().first()}));
            if image.strength.is_some() {
                for s in [0.0, 0.35, 1.0] {
                    extras.push(json!({"source_image_url": URL, "strength": s}));
                }
            }
        }
        // Everything at once, and everything a model might not take.
        let mut all = json!({"num_outputs": 9, "width": 1024, "height": 1024, "seed": 42,
                             "negative_prompt": "blurry", "output_format": "gif", "style": "vivid",
                             "num_inference_steps": 30, "guidance_scale": 7.5, "strength": 0.5});
        if m.image_input.is_some() {
            all["image_url"] = URL.into();
        }
        extras.push(all);
        for extra in &extras {
            check(m.id, extra);
        }
    }
}
