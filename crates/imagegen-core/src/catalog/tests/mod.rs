//! Catalog tests. Expected Replicate inputs and capabilities are literal values written from the
//! published schemas, never recomputed by the code under test; every mapped input is also checked with
//! `replicate::validate_input`, the simulator's validator.

mod adjustments;
mod capabilities;
mod grid;
mod inputs_bfl;
mod inputs_others;
mod inputs_sdxl_family;
mod listing;
mod refusals;
mod rows;

use crate::error::ApiError;
use crate::replicate::validate_input;
use crate::request::GenerationRequest;
use serde_json::{json, Value};

const PROMPT: &str = "a cat";
const URL: &str = "https://example.com/cat.png";

/// Parses `{"prompt": "a cat", "model_id": model, ...extra}`.
fn request(model: &str, extra: &Value) -> Result<GenerationRequest, ApiError> {
    let mut body = json!({"prompt": PROMPT, "model_id": model});
    for (k, v) in extra.as_object().expect("extra fields are an object") {
        body[k] = v.clone();
    }
    GenerationRequest::parse(body.to_string().as_bytes())
}

/// `expected` with `"prompt": "a cat"` added (every input has it).
fn with_prompt(mut expected: Value) -> Value {
    expected["prompt"] = PROMPT.into();
    expected
}

/// Each `(extra request fields, expected input without prompt)` maps exactly, and the input validates.
fn assert_inputs(model: &str, cases: &[(Value, Value)]) {
    for (extra, expected) in cases {
        let req = request(model, extra).unwrap_or_else(|e| panic!("{model} {extra}: {e}"));
        let input = req.replicate_input();
        assert_eq!(input, with_prompt(expected.clone()), "{model} {extra}");
        let schema = req.replicate_model();
        assert_eq!(schema.id, model);
        if let Err(errors) = validate_input(schema, &input) {
            panic!("{model} {extra}: {input} is refused: {errors:?}");
        }
    }
}

/// Checks what the worker relies on: the input validates, and `params()` re-parse to the same request with
/// nothing adjusted again (the worker rebuilds the request from the stored row).
fn assert_runs_and_reparses(req: &GenerationRequest) {
    let input = req.replicate_input();
    if let Err(errors) = validate_input(req.replicate_model(), &input) {
        panic!("{}: {input} is refused: {errors:?}", req.model.id);
    }
    let mut stored = req.params();
    stored["prompt"] = req.prompt.as_str().into();
    stored["model_id"] = req.model.id.into();
    let again = GenerationRequest::parse(stored.to_string().as_bytes())
        .unwrap_or_else(|e| panic!("{stored}: {e}"));
    assert_eq!(again.adjusted, [], "{stored} adjusted again");
    let fitted = GenerationRequest {
        adjusted: Vec::new(),
        ..req.clone()
    };
    assert_eq!(again, fitted, "{stored}");
    assert_eq!(again.replicate_input(), input);
    assert_eq!(again.fingerprint(), req.fingerprint());
}

/// Each `(extra request fields, expected adjustments)` is accepted with exactly those adjustments
/// (`[{"field", "requested", "applied", "reason"}]`), runs, and re-parses unchanged.
fn assert_adjusted(model: &str, cases: &[(Value, Value)]) {
    for (extra, expected) in cases {
        let req = request(model, extra).unwrap_or_else(|e| panic!("{model} {extra}: {e}"));
        assert_eq!(req.adjusted_json(), *expected, "{model} {extra}");
        assert_runs_and_reparses(&req);
    }
}

/// Each `(extra request fields, field, code, message)` is refused with exactly that 400.
fn assert_refusals(model: &str, cases: &[(Value, &str, &str, String)]) {
    for (extra, field, code, message) in cases {
        let e = request(model, extra).expect_err(&format!("{model} {extra} must be refused"));
        assert_eq!(
            (e.status, e.field, e.code, e.message.as_str()),
            (400, Some(*field), *code, message.as_str()),
            "{model} {extra}"
        );
    }
}
