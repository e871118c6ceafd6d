//! Replicate's request validation: the create body and a model's `input`, reported as Replicate does.
//!
//! Replicate checks requests against JSON Schema and reports each failure with the rule's name and message
//! (gojsonschema's wording), e.g. `{"type":"enum","field":"input.output_format","description":"output_format
//! must be one of the following: \"jpg\", \"png\""}`, `{"type":"required","field":"input","description":
//! "prompt is required"}`, `{"type":"additional_property_not_allowed","field":"","description":"Additional
//! property model is not allowed"}` (shapes as returned by api.replicate.com, quoted in public bug reports).

use serde_json::{Map, Value};

use super::problem::InvalidField;
use super::schema::{Field, Kind, ModelSchema};
use super::webhook::WebhookEvent;

/// Which create endpoint a body was sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateEndpoint {
    /// `POST /v1/models/{owner}/{name}/predictions`: `{input, webhook?, webhook_events_filter?}`.
    Model,
    /// `POST /v1/predictions`: the same plus a required `version`.
    Version,
}

/// Keys a create body may carry besides `version` (REPLICATE.md: "no other keys allowed"; `stream` is the
/// deprecated streaming switch that official clients still send).
const BODY_KEYS: &[&str] = &["input", "webhook", "webhook_events_filter", "stream"];

/// Checks the create body around `input` (not `input`'s fields: see [`validate_input`]).
pub fn validate_create_body(
    endpoint: CreateEndpoint,
    body: &Value,
) -> Result<(), Vec<InvalidField>> {
    let Some(obj) = body.as_object() else {
        return Err(vec![type_error("", "object", body)]);
    };
    let mut errors = Vec::new();
    if endpoint == CreateEndpoint::Version {
        match obj.get("version") {
            None => errors.push(InvalidField::new("required", "", "version is required")),
            Some(v) if !v.is_string() => errors.push(type_error("version", "string", v)),
            Some(_) => {}
        }
    }
    match obj.get("input") {
        None => errors.push(InvalidField::new("required", "", "input is required")),
        Some(v) if !v.is_object() => errors.push(type_error("input", "object", v)),
        Some(_) => {}
    }
    if let Some(w) = obj.get("webhook") {
        check_kind(&mut errors, "webhook", Kind::Uri, w);
    }
    if let Some(filter) = obj.get("webhook_events_filter") {
        match filter.as_array() {
            None => errors.push(type_error("webhook_events_filter", "array", filter)),
            Some(items) => {
                let names: Vec<&str> = WebhookEvent::ALL.iter().map(|e| e.as_str()).collect();
                for (i, item) in items.iter().enumerate() {
                    let field = format!("webhook_events_filter.{i}");
                    check_enum(&mut errors, &field, &field, &names, item);
                }
            }
        }
    }
    for key in obj.keys() {
        let allowed = BODY_KEYS.contains(&key.as_str())
            || (endpoint == CreateEndpoint::Version && key == "version");
        if !allowed {
            errors.push(InvalidField::new(
                "additional_property_not_allowed",
                "",
                format!("Additional property {key} is not allowed"),
            ));
        }
    }
    finish(errors)
}

/// Checks a model's `input` against its schema: required fields, unknown fields, types, enums and bounds.
pub fn validate_input(model: &ModelSchema, input: &Value) -> Result<(), Vec<InvalidField>> {
    let Some(obj) = input.as_object() else {
        return Err(vec![type_error("input", "object", input)]);
    };
    let mut errors = Vec::new();
    for field in model.fields.iter().filter(|f| f.required) {
        if !obj.contains_key(field.name) {
            errors.push(InvalidField::new(
                "required",
                "input",
                format!("{} is required", field.name),
            ));
        }
    }
    check_unknown(&mut errors, model, obj);
    for (name, value) in obj {
        if let Some(field) = model.field(name) {
            check_field(&mut errors, field, value);
        }
    }
    finish(errors)
}

fn finish(errors: Vec<InvalidField>) -> Result<(), Vec<InvalidField>> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn check_unknown(errors: &mut Vec<InvalidField>, model: &ModelSchema, obj: &Map<String, Value>) {
    for key in obj.keys().filter(|k| model.field(k).is_none()) {
        errors.push(InvalidField::new(
            "additional_property_not_allowed",
            "input",
            format!("Additional property {key} is not allowed"),
        ));
    }
}

fn check_field(errors: &mut Vec<InvalidField>, field: &Field, value: &Value) {
    let path = format!("input.{}", field.name);
    match field.kind {
        Kind::Enum(options) => check_enum(errors, &path, field.name, options, value),
        kind => check_kind(errors, &path, kind, value),
    }
}

fn check_enum(
    errors: &mut Vec<InvalidField>,
    path: &str,
    name: &str,
    options: &[&str],
    value: &Value,
) {
    if value.as_str().is_some_and(|s| options.contains(&s)) {
        return;
    }
    let allowed: Vec<String> = options
        .iter()
        .map(|o| Value::from(*o).to_string())
        .collect();
    errors.push(InvalidField::new(
        "enum",
        path,
        format!(
            "{name} must be one of the following: {}",
            allowed.join(", ")
        ),
    ));
}

fn check_kind(errors: &mut Vec<InvalidField>, path: &str, kind: Kind, value: &Value) {
    match kind {
        Kind::Str => {
            if !value.is_string() {
                errors.push(type_error(path, "string", value));
            }
        }
        Kind::Uri => match value.as_str() {
            None => errors.push(type_error(path, "string", value)),
            Some(s) if !is_uri(s) => {
                errors.push(InvalidField::new(
                    "format",
                    path,
                    "Does not match format 'uri'",
                ));
            }
            Some(_) => {}
        },
        Kind::Bool => {
            if !value.is_boolean() {
                errors.push(type_error(path, "boolean", value));
            }
        }
        Kind::Int { min, max } => {
            if json_type(value) != "integer" {
                errors.push(type_error(path, "integer", value));
            } else if let Some(n) = value.as_f64() {
                check_bounds(
                    errors,
                    path,
                    n,
                    min.map(|m| m as f64),
                    max.map(|m| m as f64),
                );
            }
        }
        Kind::Num { min, max } => match value.as_f64() {
            None => errors.push(type_error(path, "number", value)),
            Some(n) => check_bounds(errors, path, n, min, max),
        },
        Kind::UriArray { max_items } => match value.as_array() {
            None => errors.push(type_error(path, "array", value)),
            Some(items) => {
                if let Some(max) = max_items.filter(|&m| items.len() > m) {
                    errors.push(InvalidField::new(
                        "array_max_items",
                        path,
                        format!("Array must have at most {max} items"),
                    ));
                }
                for (i, item) in items.iter().enumerate() {
                    check_kind(errors, &format!("{path}.{i}"), Kind::Uri, item);
                }
            }
        },
        Kind::Enum(_) => unreachable!("enums are checked by check_enum"),
    }
}

fn check_bounds(
    errors: &mut Vec<InvalidField>,
    path: &str,
    n: f64,
    min: Option<f64>,
    max: Option<f64>,
) {
    if let Some(min) = min.filter(|&m| n < m) {
        errors.push(InvalidField::new(
            "number_gte",
            path,
            format!("Must be greater than or equal to {min}"),
        ));
    }
    if let Some(max) = max.filter(|&m| n > m) {
        errors.push(InvalidField::new(
            "number_lte",
            path,
            format!("Must be less than or equal to {max}"),
        ));
    }
}

fn type_error(path: &str, expected: &str, value: &Value) -> InvalidField {
    InvalidField::new(
        "invalid_type",
        path,
        format!(
            "Invalid type. Expected: {expected}, given: {}",
            json_type(value)
        ),
    )
}

/// JSON Schema's name for a value's type; a number with no fractional part is an `integer`.
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n)
            if n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0) =>
        {
            "integer"
        }
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// An absolute URI: a scheme, a colon, then no whitespace (`format: uri`; `data:` URIs pass too).
fn is_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && !rest.is_empty()
        && !s.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::super::schema::find_model;
    use super::*;
    use serde_json::json;

    fn errors(model: &str, input: Value) -> Vec<(String, String, String)> {
        let m = find_model(model).unwrap();
        validate_input(m, &input)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.kind, e.field, e.description))
            .collect()
    }

    fn one(kind: &str, field: &str, description: &str) -> Vec<(String, String, String)> {
        vec![(kind.into(), field.into(), description.into())]
    }

    const SCHNELL: &str = "black-forest-labs/flux-schnell";

    #[test]
    fn a_full_valid_input_passes() {
        let input = json!({"prompt": "a cat", "aspect_ratio": "16:9", "num_outputs": 4, "seed": 7,
            "output_format": "png", "output_quality": 100, "go_fast": false, "megapixels": "0.25"});
        assert_eq!(errors(SCHNELL, input), vec![]);
        assert_eq!(
            errors("bytedance/sdxl-lightning-4step", json!({})),
            vec![],
            "prompt has a default there"
        );
    }

    #[test]
    fn a_missing_prompt_is_required() {
        assert_eq!(
            errors(SCHNELL, json!({})),
            one("required", "input", "prompt is required")
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert_eq!(
            errors(SCHNELL, json!({"prompt": "x", "width": 512})),
            one(
                "additional_property_not_allowed",
                "input",
                "Additional property width is not allowed"
            )
        );
    }

    #[test]
    fn enums_list_their_options() {
        assert_eq!(
            errors(
                "black-forest-labs/flux-kontext-pro",
                json!({"prompt": "x", "output_format": "webp"})
            ),
            one(
                "enum",
                "input.output_format",
                "output_format must be one of the following: \"jpg\", \"png\""
            )
        );
    }

    #[test]
    fn bounds_and_types_are_checked() {
        assert_eq!(
            errors(SCHNELL, json!({"prompt": "x", "num_outputs": 5})),
            one(
                "number_lte",
                "input.num_outputs",
                "Must be less than or equal to 4"
            )
        );
        assert_eq!(
            errors(SCHNELL, json!({"prompt": "x", "num_outputs": 0})),
            one(
                "number_gte",
                "input.num_outputs",
                "Must be greater than or equal to 1"
            )
        );
        assert_eq!(
            errors(SCHNELL, json!({"prompt": "x", "num_outputs": "2"})),
            one(
                "invalid_type",
                "input.num_outputs",
                "Invalid type. Expected: integer, given: string"
            )
        );
        assert_eq!(
            errors(SCHNELL, json!({"prompt": "x", "num_outputs": 1.5})),
            one(
                "invalid_type",
                "input.num_outputs",
                "Invalid type. Expected: integer, given: number"
            )
        );
        assert_eq!(
            errors(SCHNELL, json!({"prompt": "x", "num_outputs": 2.0})),
            vec![]
        );
        assert_eq!(
            errors(
                "black-forest-labs/flux-dev",
                json!({"prompt": "x", "prompt_strength": 1.5})
            ),
            one(
                "number_lte",
                "input.prompt_strength",
                "Must be less than or equal to 1"
            )
        );
        assert_eq!(
            errors(SCHNELL, json!({"prompt": 3})),
            one(
                "invalid_type",
                "input.prompt",
                "Invalid type. Expected: string, given: integer"
            )
        );
        assert_eq!(
            errors(SCHNELL, json!({"prompt": "x", "go_fast": "yes"})),
            one(
                "invalid_type",
                "input.go_fast",
                "Invalid type. Expected: boolean, given: string"
            )
        );
    }

    #[test]
    fn uris_and_uri_arrays_are_checked() {
        assert_eq!(
            errors(
                "black-forest-labs/flux-dev",
                json!({"prompt": "x", "image": "https://a/b.png"})
            ),
            vec![]
        );
        assert_eq!(
            errors(
                "black-forest-labs/flux-dev",
                json!({"prompt": "x", "image": "not a url"})
            ),
            one("format", "input.image", "Does not match format 'uri'")
        );
        let eleven: Vec<String> = (0..11).map(|i| format!("https://a/{i}.png")).collect();
        assert_eq!(
            errors(
                "bytedance/seedream-4",
                json!({"prompt": "x", "image_input": eleven})
            ),
            one(
                "array_max_items",
                "input.image_input",
                "Array must have at most 10 items"
            )
        );
        assert_eq!(
            errors(
                "google/nano-banana",
                json!({"prompt": "x", "image_input": ["https://a", 3]})
            ),
            one(
                "invalid_type",
                "input.image_input.1",
                "Invalid type. Expected: string, given: integer"
            )
        );
    }

    #[test]
    fn input_must_be_an_object() {
        let m = find_model(SCHNELL).unwrap();
        let errs = validate_input(m, &json!("a cat")).unwrap_err();
        assert_eq!(
            errs[0].description,
            "Invalid type. Expected: object, given: string"
        );
    }

    #[test]
    fn create_bodies_are_checked_like_replicate() {
        let body = json!({"input": {}, "webhook": "http://127.0.0.1/hook", "webhook_events_filter": ["start", "completed"]});
        assert_eq!(validate_create_body(CreateEndpoint::Model, &body), Ok(()));
        let errs = validate_create_body(
            CreateEndpoint::Version,
            &json!({"model": "a/b", "input": {}}),
        )
        .unwrap_err();
        let descriptions: Vec<&str> = errs.iter().map(|e| e.description.as_str()).collect();
        assert_eq!(
            descriptions,
            [
                "version is required",
                "Additional property model is not allowed"
            ]
        );
        assert!(errs.iter().all(|e| e.field.is_empty()));
        let errs =
            validate_create_body(CreateEndpoint::Model, &json!({"version": "x", "input": {}}))
                .unwrap_err();
        assert_eq!(
            errs[0].description,
            "Additional property version is not allowed"
        );
        let errs = validate_create_body(CreateEndpoint::Model, &json!({})).unwrap_err();
        assert_eq!(errs[0].description, "input is required");
        let errs = validate_create_body(
            CreateEndpoint::Model,
            &json!({"input": {}, "webhook_events_filter": ["done"]}),
        )
        .unwrap_err();
        assert_eq!(errs[0].field, "webhook_events_filter.0");
        assert_eq!(errs[0].kind, "enum");
        let errs = validate_create_body(
            CreateEndpoint::Model,
            &json!({"input": {}, "webhook": "nope"}),
        )
        .unwrap_err();
        assert_eq!(errs[0].kind, "format");
    }
}
