//! Safety inputs. We never disable a safety checker and keep Replicate's default strictness, but send it
//! explicitly: a default changed upstream must not loosen our filtering silently, and the stored input
//! shows what applied. Values are read from the schema's defaults (REPLICATE.md: `disable_safety_checker`
//! false; `safety_tolerance` 2, which FLUX Kontext also caps at 2 with input images; Imagen's
//! `safety_filter_level` `block_only_high`).

use super::Model;
use serde_json::{Map, Value};

/// Inputs that set how strictly a model filters content.
pub(super) const SAFETY_FIELDS: &[&str] = &[
    "disable_safety_checker",
    "safety_tolerance",
    "safety_filter_level",
];

/// Writes the model's safety inputs, each at its schema default.
pub(super) fn write_safety_inputs(model: &Model, input: &mut Map<String, Value>) {
    let schema = model.schema();
    for name in SAFETY_FIELDS {
        if let Some(value) = schema.field(name).and_then(|f| f.default.to_json()) {
            input.insert((*name).into(), value);
        }
    }
}
