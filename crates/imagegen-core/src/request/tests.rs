use super::*;

fn parse(json: &str) -> Result<GenerationRequest, ApiError> {
    GenerationRequest::parse(json.as_bytes())
}

fn err(json: &str) -> ApiError {
    parse(json).expect_err(json)
}

#[test]
fn the_seed_clients_request_parses() {
    let r = parse(r#"{"prompt":"test","model_id":"black-forest-labs/flux-schnell","width":1024,"height":1024}"#).unwrap();
    assert_eq!(r.prompt.as_str(), "test");
    assert_eq!(r.model.id, "black-forest-labs/flux-schnell");
    assert_eq!(
        (r.width.get(), r.height.get(), r.num_outputs),
        (1024, 1024, 1)
    );
    assert_eq!(
        r.params(),
        serde_json::json!({"width":1024,"height":1024,"num_outputs":1})
    );
}

#[test]
fn defaults_and_unknown_keys() {
    let r = parse(r#"{"prompt":"a fox","client_version":"3.2","user_id":"ignored"}"#).unwrap();
    assert_eq!(r.model.id, catalog::DEFAULT_MODEL_ID);
    assert_eq!(
        (r.width.get(), r.height.get()),
        (DEFAULT_SIDE, DEFAULT_SIDE)
    );
}

#[test]
fn all_optional_fields_typed_and_stored() {
    let r = parse(
        r#"{"prompt":" castle ","model_id":"stability-ai/sdxl","width":768,"height":1024.0,"aspect_ratio":"3:4",
            "negative_prompt":"blurry","image_url":"https://example.com/src.png","strength":0.6,"seed":42,
            "num_outputs":2,"style":null,"output_format":""}"#,
    )
    .unwrap();
    assert_eq!(
        r.params(),
        serde_json::json!({"width":768,"height":1024,"aspect_ratio":"3:4","negative_prompt":"blurry",
            "image_url":"https://example.com/src.png","strength":0.6,"seed":42,"num_outputs":2})
    );
}

#[test]
fn body_errors() {
    assert_eq!(err("not json").code, "invalid_json");
    assert_eq!(err("[1,2]").code, "invalid_json");
    assert_eq!(err("").field, Some("body"));
    let big = format!(r#"{{"prompt":"{}"}}"#, "a".repeat(MAX_BODY_BYTES));
    assert_eq!(err(&big).code, "body_too_large");
    assert_eq!(
        GenerationRequest::parse(&[0xff, 0xfe]).unwrap_err().code,
        "invalid_json"
    );
}

#[test]
fn each_field_error_names_its_field() {
    let cases = [
        (r#"{}"#, "prompt", "prompt_missing"),
        (r#"{"prompt":null}"#, "prompt", "prompt_missing"),
        (r#"{"prompt":42}"#, "prompt", "invalid_type"),
        (r#"{"prompt":"  "}"#, "prompt", "prompt_empty"),
        (
            r#"{"prompt":"x","model_id":"acme/nope"}"#,
            "model_id",
            "unknown_model",
        ),
        (r#"{"prompt":"x","model_id":7}"#, "model_id", "invalid_type"),
        (r#"{"prompt":"x","width":"1024"}"#, "width", "invalid_type"),
        (r#"{"prompt":"x","width":1024.5}"#, "width", "invalid_type"),
        (
            r#"{"prompt":"x","width":100}"#,
            "width",
            "size_out_of_range",
        ),
        (
            r#"{"prompt":"x","height":-1}"#,
            "height",
            "size_out_of_range",
        ),
        (
            r#"{"prompt":"x","height":99999999999999999999}"#,
            "height",
            "size_out_of_range",
        ),
        (
            r#"{"prompt":"x","aspect_ratio":"7:3"}"#,
            "aspect_ratio",
            "unsupported_aspect_ratio",
        ),
        (
            r#"{"prompt":"x","aspect_ratio":"wide"}"#,
            "aspect_ratio",
            "invalid_aspect_ratio",
        ),
        (
            r#"{"prompt":"x","negative_prompt":"ugly"}"#,
            "negative_prompt",
            "unsupported_negative_prompt",
        ),
        (
            r#"{"prompt":"x","image_url":"https://e.com/a.png"}"#,
            "image_url",
            "unsupported_img2img",
        ),
        (
            r#"{"prompt":"x","model_id":"black-forest-labs/flux-dev","image_url":"file:///etc/passwd"}"#,
            "image_url",
            "invalid_image_url",
        ),
        (
            r#"{"prompt":"x","strength":0.5}"#,
            "strength",
            "strength_without_image",
        ),
        (
            r#"{"prompt":"x","model_id":"black-forest-labs/flux-dev","image_url":"https://e.com/a","strength":2}"#,
            "strength",
            "invalid_strength",
        ),
        (
            r#"{"prompt":"x","model_id":"black-forest-labs/flux-1.1-pro","image_url":"https://e.com/a","strength":0.5}"#,
            "strength",
            "unsupported_strength",
        ),
        (r#"{"prompt":"x","seed":-5}"#, "seed", "invalid_seed"),
        (r#"{"prompt":"x","seed":"5"}"#, "seed", "invalid_type"),
        (
            r#"{"prompt":"x","num_outputs":5}"#,
            "num_outputs",
            "unsupported_num_outputs",
        ),
        (
            r#"{"prompt":"x","num_outputs":0}"#,
            "num_outputs",
            "unsupported_num_outputs",
        ),
        (
            r#"{"prompt":"x","model_id":"black-forest-labs/flux-1.1-pro","num_outputs":2}"#,
            "num_outputs",
            "unsupported_num_outputs",
        ),
        (
            r#"{"prompt":"x","output_format":"gif"}"#,
            "output_format",
            "unsupported_output_format",
        ),
        (
            r#"{"prompt":"x","style":"realistic_image"}"#,
            "style",
            "unsupported_style",
        ),
        (
            r#"{"prompt":"x","model_id":"recraft-ai/recraft-v3-svg","style":"oil"}"#,
            "style",
            "unsupported_style",
        ),
        (
            r#"{"prompt":"x","model_id":"google/imagen-4","seed":1}"#,
            "seed",
            "unsupported_seed",
        ),
        (
            r#"{"prompt":"x","model_id":"stability-ai/sdxl","output_format":"webp"}"#,
            "output_format",
            "unsupported_output_format",
        ),
        (
            r#"{"prompt":"x","model_id":"black-forest-labs/flux-1.1-pro","aspect_ratio":"100:1"}"#,
            "aspect_ratio",
            "unsupported_aspect_ratio",
        ),
    ];
    for (body, field, code) in cases {
        let e = err(body);
        assert_eq!(
            (e.field, e.code),
            (Some(field), code),
            "{body}: {}",
            e.message
        );
        assert_eq!(e.status, 400);
    }
}

#[test]
fn model_bounds_differ() {
    assert!(parse(
        r#"{"prompt":"x","model_id":"black-forest-labs/flux-1.1-pro","width":1440,"height":256}"#
    )
    .is_ok());
    let e = err(r#"{"prompt":"x","model_id":"black-forest-labs/flux-1.1-pro","width":1536}"#);
    assert!(
        e.message.contains("FLUX 1.1 Pro") && e.message.contains("256 to 1440"),
        "{}",
        e.message
    );
    assert!(parse(r#"{"prompt":"x","width":2048,"height":2048}"#).is_ok());
}

#[test]
fn img2img_message_lists_capable_models() {
    let e = err(r#"{"prompt":"x","image_url":"https://e.com/a.png"}"#);
    assert!(
        e.message.contains("black-forest-labs/flux-dev"),
        "{}",
        e.message
    );
}

#[test]
fn fingerprint_tracks_content_not_formatting() {
    let a = parse(r#"{"prompt":"cat","width":512,"height":512}"#).unwrap();
    let b = parse(r#"{ "height": 512, "width": 512, "prompt": "  cat" }"#).unwrap();
    let c = parse(r#"{"prompt":"cat","width":512,"height":768}"#).unwrap();
    assert_eq!(a.fingerprint(), b.fingerprint());
    assert_ne!(a.fingerprint(), c.fingerprint());
    assert_eq!(a.fingerprint().len(), 64);
}

#[test]
fn style_and_format_are_stored_in_one_spelling() {
    let a =
        parse(r#"{"prompt":"x","model_id":"ideogram-ai/ideogram-v3-turbo","style":" realistic "}"#)
            .unwrap();
    let b =
        parse(r#"{"prompt":"x","model_id":"ideogram-ai/ideogram-v3-turbo","style":"Realistic"}"#)
            .unwrap();
    assert_eq!(a.params()["style"], "Realistic");
    assert_eq!(a.fingerprint(), b.fingerprint());
    let f = parse(r#"{"prompt":"x","output_format":"JPEG"}"#).unwrap();
    assert_eq!(f.params()["output_format"], "jpg");
    // The one format a model always makes is accepted and stored.
    let svg =
        parse(r#"{"prompt":"x","model_id":"recraft-ai/recraft-v3-svg","output_format":"svg"}"#)
            .unwrap();
    assert_eq!(svg.params()["output_format"], "svg");
}

#[test]
fn the_replicate_model_says_how_to_call_it() {
    use crate::replicate::schema::{Access, SDXL_VERSION};
    let r = parse(r#"{"prompt":"x","model_id":"stability-ai/sdxl"}"#).unwrap();
    assert_eq!(
        r.replicate_model().access,
        Access::Community {
            version: SDXL_VERSION,
            older: &["7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"]
        }
    );
    let r = parse(r#"{"prompt":"x"}"#).unwrap();
    assert!(r.replicate_model().is_official());
    assert_eq!(
        r.replicate_input(),
        serde_json::json!({"prompt":"x","aspect_ratio":"1:1","megapixels":"1","num_outputs":1,
            "disable_safety_checker":false})
    );
}
