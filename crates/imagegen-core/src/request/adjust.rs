//! Adjustments: what parsing changed so the chosen model can run a request. The original backend silently
//! dropped what a model could not take and turned sizes into the model's aspect ratio; clients depend on
//! that leniency, so it is kept, but every change is reported (start-generation's `adjusted`, the row's
//! `adjusted` column) instead of being silent.

use serde_json::{json, Value};

/// One change made to a request: a size snapped, a value clamped, a parameter dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct Adjustment {
    /// The request field, as the client named it (`width`, `num_inference_steps`, `source_image_url`).
    pub field: &'static str,
    /// What the client sent (for a shape taken from width and height: `"W:H"`).
    pub requested: Value,
    /// What is used instead; `Value::Null` when the field was dropped.
    pub applied: Value,
    /// Why, in a sentence naming the model.
    pub reason: String,
}

impl Adjustment {
    /// `field` is used with the value `applied` instead of `requested`.
    pub fn changed(
        field: &'static str,
        requested: impl Into<Value>,
        applied: impl Into<Value>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            field,
            requested: requested.into(),
            applied: applied.into(),
            reason: reason.into(),
        }
    }

    /// `field` is not used at all.
    pub fn dropped(
        field: &'static str,
        requested: impl Into<Value>,
        reason: impl Into<String>,
    ) -> Self {
        Self::changed(field, requested, Value::Null, reason)
    }

    /// `{"field", "requested", "applied", "reason"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "field": self.field,
            "requested": self.requested,
            "applied": self.applied,
            "reason": self.reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_with_null_for_dropped() {
        let a = Adjustment::dropped("seed", 5, "Imagen 4 takes no seed");
        assert_eq!(
            a.to_json(),
            json!({"field": "seed", "requested": 5, "applied": null, "reason": "Imagen 4 takes no seed"})
        );
        let a = Adjustment::changed("num_outputs", 9, 4, "at most 4");
        assert_eq!(a.to_json()["applied"], 4);
    }
}
