//! Every model over a grid of sizes and options: whatever start-generation accepts maps to an input the
//! simulator's validator (Replicate's rules) accepts, and the stored params map to the same input again.

use super::{request, URL};
use crate::catalog::MODELS;
use crate::replicate::validate_input;
use crate::request::GenerationRequest;
use serde_json::{json, Value};

/// Sides to try: the bounds, just inside them, common sizes and awkward ones.
fn sides((min, max): (u32, u32)) -> Vec<u32> {
    let mut v = vec![
        min,
        min + 1,
        max - 1,
        max,
        (min + max) / 2,
        1000,
        1024,
        1080,
        1337,
        2047,
        2048,
        3001,
        4096,
    ];
    v.retain(|s| (min..=max).contains(s));
    v.sort_unstable();
    v.dedup();
    v
}

/// Checks one accepted request: valid input, and its params re-parse to the same input (the worker
/// rebuilds the request from the stored row).
fn check(model: &str, extra: &Value) {
    let req = request(model, extra).unwrap_or_else(|e| panic!("{model} {extra}: {e}"));
    let input = req.replicate_input();
    if let Err(errors) = validate_input(req.replicate_model(), &input) {
        panic!("{model} {extra}: {input} is refused: {errors:?}");
    }
    let mut stored = req.params();
    stored["prompt"] = req.prompt.as_str().into();
    stored["model_id"] = model.into();
    let again = GenerationRequest::parse(stored.to_string().as_bytes()).unwrap();
    assert_eq!(again, req, "{model} {extra}");
    assert_eq!(again.replicate_input(), input);
}

#[test]
fn every_accepted_size_maps_to_a_valid_input() {
    let mut checked = 0;
    for m in MODELS {
        let sides = sides(m.side_bounds());
        let mut ratios: Vec<Option<String>> = vec![None];
        ratios.extend(m.aspect_ratios().into_iter().map(|r| Some(r.to_owned())));
        if m.takes_any_ratio() {
            ratios.extend(["7:3", "1:4", "11:10"].map(|r| Some(r.to_owned())));
        }
        for w in &sides {
            for h in &sides {
                for ratio in &ratios {
                    let extra = json!({"width": w, "height": h, "aspect_ratio": ratio});
                    match request(m.id, &extra) {
                        Ok(_) => check(m.id, &extra),
                        // Only a ratio the bounds cannot make may be refused.
                        Err(e) => {
                            assert_eq!(e.code, "unsupported_aspect_ratio", "{} {extra}", m.id)
                        }
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 10_000, "{checked}");
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
        if let Some(image) = m.image_input {
            extras.push(json!({"image_url": URL}));
            extras.push(json!({"image_url": URL, "aspect_ratio": m.aspect_ratios().first()}));
            if image.strength.is_some() {
                for s in [0.0, 0.35, 1.0] {
                    extras.push(json!({"image_url": URL, "strength": s}));
                }
            }
        }
        // Everything at once.
        let mut all = json!({"num_outputs": m.max_outputs(), "width": 1024, "height": 1024});
        if let Some(f) = m.output_formats().last() {
            all["output_format"] = f.extension().into();
        }
        if let Some(s) = m.styles().last() {
            all["style"] = (*s).into();
        }
        if m.takes_negative_prompt() {
            all["negative_prompt"] = "blurry".into();
        }
        if m.takes_seed() {
            all["seed"] = 42.into();
        }
        if let Some(image) = m.image_input {
            all["image_url"] = URL.into();
            if image.strength.is_some() {
                all["strength"] = 0.5.into();
            }
        }
        extras.push(all);
        for extra in &extras {
            check(m.id, extra);
        }
    }
}
