//! The model list served to clients: what each model can do, in the request's own terms (not Replicate's
//! input names). The shape is stable: keys are only ever added; every model has every key.
//!
//! ```json
//! {
//!   "version": 1,
//!   "default_model": "black-forest-labs/flux-schnell",
//!   "models": [{
//!     "id": "black-forest-labs/flux-1.1-pro",      // the request's model_id
//!     "name": "FLUX 1.1 Pro",
//!     "speed": "standard",                          // fast (< 5 s) | standard (5–30 s) | slow (30–60 s)
//!     "output": "image",                            // image | svg
//!     "output_formats": ["webp", "jpg", "png"],     // output_format values it makes (others are dropped)
//!     "default_output_format": "webp",
//!     "max_outputs": 1,                             // num_outputs from 1 to this
//!     "negative_prompt": false,
//!     "seed": true,
//!     "styles": [],                                 // style values it offers (others are dropped)
//!     "img2img": {"strength": false},               // null: image_url is refused
//!     "size": {
//!       "mode": "custom",                           // aspect_ratio | custom | pixels | fixed
//!       "min": 256, "max": 1440,                    // width/height made as asked (others are snapped)
//!       "multiple": 32,                             // free sides are rounded to this; null if not free
//!       "aspect_ratios": ["1:1", "16:9", ...],      // named ratios; custom/pixels also take any W:H
//!       "any_aspect_ratio": true,                   // ... within min:max to max:min
//!       "fixed_sizes": []                           // "WxH" sizes for mode fixed
//!     }
//!   }]
//! }
//! ```

use super::{Model, Sizing, DEFAULT_MODEL_ID, MODELS};
use serde_json::{json, Value};

/// Bumped only if a key changes meaning or is removed.
const LISTING_VERSION: u32 = 1;

/// The catalog as served to clients (see the module docs for the shape).
pub fn listing_json() -> Value {
    json!({
        "version": LISTING_VERSION,
        "default_model": DEFAULT_MODEL_ID,
        "models": MODELS.iter().map(model_json).collect::<Vec<_>>(),
    })
}

fn model_json(m: &Model) -> Value {
    let (min, max) = m.side_bounds();
    let mode = match m.sizing {
        Sizing::AspectRatio => "aspect_ratio",
        Sizing::CustomAspectRatio { .. } | Sizing::CustomSize { .. } => "custom",
        Sizing::Pixels { .. } => "pixels",
        Sizing::FixedSize => "fixed",
    };
    let formats: Vec<&str> = m.output_formats().iter().map(|f| f.extension()).collect();
    json!({
        "id": m.id,
        "name": m.display_name,
        "speed": m.speed.as_str(),
        "output": m.output_kind().as_str(),
        "output_formats": formats,
        "default_output_format": m.default_output_format().extension(),
        "max_outputs": m.max_outputs(),
        "negative_prompt": m.takes_negative_prompt(),
        "seed": m.takes_seed(),
        "styles": m.styles(),
        "img2img": m.image_input.map(|i| json!({"strength": i.strength.is_some()})),
        "size": {
            "mode": mode,
            "min": min,
            "max": max,
            "multiple": m.size_multiple(),
            "aspect_ratios": m.aspect_ratios(),
            "any_aspect_ratio": m.takes_any_ratio(),
            "fixed_sizes": m.fixed_sizes(),
        },
    })
}
