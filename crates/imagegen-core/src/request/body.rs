//! Typed reads of the request body's JSON fields; `null` counts as absent everywhere, as clients send it
//! for "not set".

use crate::error::ApiError;
use serde_json::{Map, Value};

fn type_error(field: &'static str, expected: &str) -> ApiError {
    ApiError::invalid(field, "invalid_type", format!("{field} must be {expected}"))
}

/// A string field.
pub(super) fn string<'a>(
    map: &'a Map<String, Value>,
    field: &'static str,
) -> Result<Option<&'a str>, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(type_error(field, "a string")),
    }
}

/// A string field where a blank value also counts as absent (`"output_format": ""`).
pub(super) fn non_blank<'a>(
    map: &'a Map<String, Value>,
    field: &'static str,
) -> Result<Option<&'a str>, ApiError> {
    Ok(string(map, field)?.filter(|s| !s.trim().is_empty()))
}

/// A number field.
pub(super) fn number(
    map: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<f64>, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .map(Some)
            .ok_or_else(|| type_error(field, "a number")),
        Some(_) => Err(type_error(field, "a number")),
    }
}

/// An integer field (`1024` or `1024.0`).
pub(super) fn integer(
    map: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<i64>, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Ok(Some(i)),
            // `as` saturates, so a huge whole number becomes an out-of-range value, not a type error.
            (None, Some(f)) if f.fract() == 0.0 => Ok(Some(f as i64)),
            _ => Err(type_error(field, "an integer")),
        },
        Some(_) => Err(type_error(field, "an integer")),
    }
}
