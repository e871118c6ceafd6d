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
    // SDXL names no ratios: 3:4 is made by the sides, which already have that shape.
    assert_eq!(
        r.params(),
        serde_json::json!({"width":768,"height":1024,"negative_prompt":"blurry",
            "image_url":"https://example.com/src.png","strength":0.6,"seed":42,"num_outputs":2})
    );
    assert_eq!(r.adjusted, []);
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
    const V: &str = "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b";
    let cases = [
        (r#"{}"#.to_owned(), "prompt", "prompt_missing"),
        (r#"{"prompt":null}"#.to_owned(), "prompt", "prompt_missing"),
        (r#"{"prompt":42}"#.to_owned(), "prompt", "invalid_type"),
        (r#"{"prompt":"  "}"#.to_owned(), "prompt", "prompt_empty"),
        (
            r#"{"prompt":"x","model_id":"acme/nope"}"#.to_owned(),
            "model_id",
            "unknown_model",
        ),
        (
            r#"{"prompt":"x","model_id":7}"#.to_owned(),
            "model_id",
            "invalid_type",
        ),
        (
            r#"{"prompt":"x","model_id":"3f0c2a3e-8a5c-4a59-9d3b-2a8f0e6d1c11"}"#.to_owned(),
            "model_id",
            "unknown_model",
        ),
        (
            r#"{"prompt":"x","model_id":"stability-ai/sdxl:abc"}"#.to_owned(),
            "model_id",
            "invalid_model_version",
        ),
        (
            r#"{"prompt":"x","model_version":"latest"}"#.to_owned(),
            "model_version",
            "invalid_model_version",
        ),
        (
            r#"{"prompt":"x","model_version":5}"#.to_owned(),
            "model_version",
            "invalid_type",
        ),
        (
            format!(
                r#"{{"prompt":"x","model_id":"stability-ai/sdxl:{V}","model_version":"{}"}}"#,
                "a".repeat(64)
            ),
            "model_version",
            "model_version_conflict",
        ),
        (
            format!(
                r#"{{"prompt":"x","model_id":"stability-ai/sdxl","model_version":"google/imagen-4:{V}"}}"#
            ),
            "model_version",
            "model_version_conflict",
        ),
        (
            r#"{"prompt":"x","width":"1024"}"#.to_owned(),
            "width",
            "invalid_type",
        ),
        (
            r#"{"prompt":"x","width":1024.5}"#.to_owned(),
            "width",
            "invalid_type",
        ),
        (
            r#"{"prompt":"x","width":63}"#.to_owned(),
            "width",
            "size_out_of_range",
        ),
        (
            r#"{"prompt":"x","height":-1}"#.to_owned(),
            "height",
            "size_out_of_range",
        ),
        (
            r#"{"prompt":"x","height":99999999999999999999}"#.to_owned(),
            "height",
            "size_out_of_range",
        ),
        (
            r#"{"prompt":"x","aspect_ratio":"wide"}"#.to_owned(),
            "aspect_ratio",
            "invalid_aspect_ratio",
        ),
        (
            r#"{"prompt":"x","negative_prompt":7}"#.to_owned(),
            "negative_prompt",
            "invalid_type",
        ),
        (
            r#"{"prompt":"x","image_url":"https://e.com/a.png"}"#.to_owned(),
            "image_url",
            "unsupported_img2img",
        ),
        (
            r#"{"prompt":"x","source_image_url":"https://e.com/a.png"}"#.to_owned(),
            "source_image_url",
            "unsupported_img2img",
        ),
        (
            r#"{"prompt":"x","model_id":"black-forest-labs/flux-dev","image_url":"file:///etc/passwd"}"#
                .to_owned(),
            "image_url",
            "invalid_image_url",
        ),
        (
            r#"{"prompt":"x","model_id":"black-forest-labs/flux-dev","source_image_url":"nope"}"#
                .to_owned(),
            "source_image_url",
            "invalid_image_url",
        ),
        (
            r#"{"prompt":"x","model_id":"black-forest-labs/flux-dev","image_url":"https://e.com/a","source_image_url":"https://e.com/b"}"#
                .to_owned(),
            "source_image_url",
            "conflicting_image_url",
        ),
        (
            r#"{"prompt":"x","model_id":"black-forest-labs/flux-dev","image_url":"https://e.com/a","strength":2}"#
                .to_owned(),
            "strength",
            "invalid_strength",
        ),
        (
            r#"{"prompt":"x","seed":"5"}"#.to_owned(),
            "seed",
            "invalid_type",
        ),
        (
            r#"{"prompt":"x","num_outputs":1.5}"#.to_owned(),
            "num_outputs",
            "invalid_type",
        ),
        (
            r#"{"prompt":"x","num_inference_steps":"4"}"#.to_owned(),
            "num_inference_steps",
            "invalid_type",
        ),
        (
            r#"{"prompt":"x","guidance_scale":true}"#.to_owned(),
            "guidance_scale",
            "invalid_type",
        ),
        (
            r#"{"prompt":"x","output_format":1}"#.to_owned(),
            "output_format",
            "invalid_type",
        ),
        (
            r#"{"prompt":"x","style":[]}"#.to_owned(),
            "style",
            "invalid_type",
        ),
    ];
    for (body, field, code) in cases {
        let e = err(&body);
        assert_eq!(
            (e.field, e.code),
            (Some(field), code),
            "{body}: {}",
            e.message
        );
        // A URL that cannot be used is 422 whether its shape or its address is wrong (image_input).
        let status = if code == "invalid_image_url" {
            422
        } else {
            400
        };
        assert_eq!(e.status, status, "{body}");
    }
}

#[test]
fn null_means_absent_for_every_field() {
    let fields = [
        "model_id",
        "model_version",
        "width",
        "height",
        "num_inference_steps",
        "guidance_scale",
        "seed",
        "negative_prompt",
        "source_image_url",
        "strength",
        "style",
        "aspect_ratio",
        "num_outputs",
        "output_format",
        "image_url",
        "generation_id",
    ];
    let mut body = serde_json::json!({"prompt": "a fox"});
    for f in fields {
        body[f] = serde_json::Value::Null;
    }
    let raw = RawRequest::parse(body.to_string().as_bytes()).unwrap();
    assert_eq!(raw.generation_id().unwrap(), None);
    assert_eq!(
        raw.validate(None).unwrap(),
        parse(r#"{"prompt":"a fox"}"#).unwrap()
    );
    // Blank strings too, for the string fields a client fills from an empty form field.
    let blank = r#"{"prompt":"a fox","model_id":"","model_version":" ","negative_prompt":"","source_image_url":"",
        "image_url":"","style":"","aspect_ratio":"","output_format":""}"#;
    assert_eq!(
        parse(blank).unwrap(),
        parse(r#"{"prompt":"a fox"}"#).unwrap()
    );
}

#[test]
fn sizes_are_snapped_per_model_and_reported() {
    // FLUX 1.1 Pro makes up to 1440: 1536×1024 keeps its shape at 1440×960.
    let r = parse(
        r#"{"prompt":"x","model_id":"black-forest-labs/flux-1.1-pro","width":1536,"height":1024}"#,
    )
    .unwrap();
    assert_eq!((r.width.get(), r.height.get()), (1440, 960));
    let fields: Vec<_> = r
        .adjusted
        .iter()
        .map(|a| (a.field, a.applied.clone()))
        .collect();
    assert_eq!(
        fields,
        [
            ("width", serde_json::json!(1440)),
            ("height", serde_json::json!(960))
        ]
    );
    // Models sized by named ratios keep the sides (they choose the shape) and snap the shape.
    let r = parse(r#"{"prompt":"x","width":1216,"height":832}"#).unwrap();
    assert_eq!((r.width.get(), r.height.get()), (1216, 832));
    assert_eq!(
        r.aspect_ratio.as_ref().map(AspectRatio::as_str),
        Some("3:2")
    );
    assert_eq!(r.adjusted_json()[0]["requested"], "1216:832");
    assert!(parse(r#"{"prompt":"x","width":8192,"height":64}"#).is_ok());
}

#[test]
fn model_ids_in_every_form_the_clients_send() {
    const V: &str = "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b";
    let model = |body: &str| {
        let r = parse(body).unwrap();
        (r.model.id, r.replicate_version().map(str::to_owned))
    };
    assert_eq!(
        model(r#"{"prompt":"x","model_id":"google-deepmind/imagen-4-fast"}"#),
        ("google/imagen-4-fast", None)
    );
    assert_eq!(
        model(r#"{"prompt":"x","model_id":"fofr/recraft-v3-svg"}"#),
        ("recraft-ai/recraft-v3-svg", None)
    );
    assert_eq!(
        model(&format!(
            r#"{{"prompt":"x","model_id":" stability-ai/sdxl:{V} "}}"#
        )),
        ("stability-ai/sdxl", Some(V.to_owned()))
    );
    // The mobile app: `model_version` from its models row, in upper or lower case, or `owner/name:<hex>`.
    let upper = V.to_ascii_uppercase();
    assert_eq!(
        model(&format!(
            r#"{{"prompt":"x","model_id":"stability-ai/sdxl","model_version":"{upper}"}}"#
        )),
        ("stability-ai/sdxl", Some(V.to_owned()))
    );
    assert_eq!(
        model(&format!(
            r#"{{"prompt":"x","model_id":"black-forest-labs/flux-krea-dev","model_version":"black-forest-labs/flux-krea-dev:{V}"}}"#
        )),
        ("black-forest-labs/flux-krea-dev", Some(V.to_owned()))
    );
    // The same version twice is not a conflict.
    assert_eq!(
        model(&format!(
            r#"{{"prompt":"x","model_id":"stability-ai/sdxl:{V}","model_version":"{V}"}}"#
        )),
        ("stability-ai/sdxl", Some(V.to_owned()))
    );
    // The pin is kept in params, and so survives the worker's re-parse.
    let r = parse(&format!(
        r#"{{"prompt":"x","model_id":"qwen/qwen-image","model_version":"{V}"}}"#
    ))
    .unwrap();
    assert_eq!(r.params()["model_version"], V);
    let mut stored = r.params();
    stored["prompt"] = "x".into();
    stored["model_id"] = "qwen/qwen-image".into();
    assert_eq!(
        GenerationRequest::parse(stored.to_string().as_bytes()).unwrap(),
        r
    );
}

#[test]
fn a_models_row_uuid_is_resolved_by_the_caller() {
    const V: &str = "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b";
    let id = "3f0c2a3e-8a5c-4a59-9d3b-2a8f0e6d1c11";
    let raw =
        RawRequest::parse(format!(r#"{{"prompt":"x","model_id":"{id}"}}"#).as_bytes()).unwrap();
    assert_eq!(raw.model_uuid(), Some(uuid::Uuid::parse_str(id).unwrap()));
    let row = |replicate_id, version| ResolvedModel {
        replicate_id,
        version,
    };
    let r = raw
        .validate(Some(row("stability-ai/sdxl", Some(V))))
        .unwrap();
    assert_eq!(
        (r.model.id, r.replicate_version()),
        ("stability-ai/sdxl", Some(V))
    );
    // An alias stored in an old row resolves too.
    let r = raw
        .validate(Some(row("google-deepmind/imagen-4-fast", None)))
        .unwrap();
    assert_eq!(
        (r.model.id, r.replicate_version()),
        ("google/imagen-4-fast", None)
    );
    // A row's malformed version is reported, not refused: the client did not send it.
    let r = raw
        .validate(Some(row("black-forest-labs/flux-schnell", Some("latest"))))
        .unwrap();
    assert_eq!(r.replicate_version(), None);
    assert_eq!(
        r.adjusted_json(),
        serde_json::json!([{"field": "model_version", "requested": "latest", "applied": null,
            "reason": "the stored version of FLUX Schnell is not a Replicate version id; its current version runs"}])
    );
    // A row the catalog no longer serves, and no row at all.
    let e = raw
        .validate(Some(row("lucataco/old-model", None)))
        .unwrap_err();
    assert_eq!((e.field, e.code), (Some("model_id"), "unknown_model"));
    assert!(e.message.contains("no longer offered"), "{}", e.message);
    assert_eq!(raw.validate(None).unwrap_err().code, "unknown_model");
    // A request's own model_version wins over the row's.
    let other = "a".repeat(64);
    let raw = RawRequest::parse(
        format!(r#"{{"prompt":"x","model_id":"{id}","model_version":"{other}"}}"#).as_bytes(),
    )
    .unwrap();
    let r = raw
        .validate(Some(row("stability-ai/sdxl", Some(V))))
        .unwrap();
    assert_eq!(r.replicate_version(), Some(other.as_str()));
    // `resolved` is ignored when model_id is not a uuid.
    let raw = RawRequest::parse(br#"{"prompt":"x","model_id":"qwen/qwen-image"}"#).unwrap();
    assert_eq!(raw.model_uuid(), None);
    let r = raw.validate(Some(row("stability-ai/sdxl", None))).unwrap();
    assert_eq!(r.model.id, "qwen/qwen-image");
}

#[test]
fn generation_id_is_a_uuid_or_absent() {
    let raw = |b: &str| RawRequest::parse(b.as_bytes()).unwrap();
    let id = "3f0c2a3e-8a5c-4a59-9d3b-2a8f0e6d1c11";
    assert_eq!(
        raw(&format!(r#"{{"generation_id":"{id}"}}"#))
            .generation_id()
            .unwrap(),
        Some(uuid::Uuid::parse_str(id).unwrap())
    );
    assert_eq!(
        raw(r#"{"generation_id":""}"#).generation_id().unwrap(),
        None
    );
    let e = raw(r#"{"generation_id":"row-1"}"#)
        .generation_id()
        .unwrap_err();
    assert_eq!(
        (e.field, e.code),
        (Some("generation_id"), "invalid_generation_id")
    );
    let e = raw(r#"{"generation_id":12}"#).generation_id().unwrap_err();
    assert_eq!(e.code, "invalid_type");
}

/// The bodies the original clients send, verbatim in shape (mobile `imageGeneration.ts` and
/// `RemixBottomSheet.tsx`, web `generate.ts`), with a models row's values.
#[test]
fn the_original_clients_bodies_are_accepted() {
    let mobile = r#"{"prompt":"a lighthouse","model_id":"black-forest-labs/flux-schnell","model_version":null,
        "width":1344,"height":768,"num_inference_steps":4,"guidance_scale":null,
        "generation_id":"3f0c2a3e-8a5c-4a59-9d3b-2a8f0e6d1c11"}"#;
    let r = parse(mobile).unwrap();
    assert_eq!(r.params()["width"], 1344);
    assert_eq!(r.adjusted_json()[0]["applied"], "16:9");
    let remix = r#"{"prompt":"as a painting","model_id":"black-forest-labs/flux-dev","model_version":null,
        "width":1024,"height":1024,"num_inference_steps":28,"guidance_scale":3,
        "generation_id":"3f0c2a3e-8a5c-4a59-9d3b-2a8f0e6d1c11",
        "source_image_url":"https://x.supabase.co/storage/v1/object/public/generated-images/u/g.webp","strength":0.75}"#;
    let r = parse(remix).unwrap();
    assert_eq!(r.adjusted, []);
    // The row's original columns are filled from these (start_generation / attach_generation in SQL).
    assert_eq!(
        r.params(),
        serde_json::json!({"width": 1024, "height": 1024, "num_outputs": 1, "num_inference_steps": 28,
            "guidance_scale": 3.0,
            "image_url": "https://x.supabase.co/storage/v1/object/public/generated-images/u/g.webp",
            "strength": 0.75})
    );
    let input = r.replicate_input();
    assert_eq!(
        (
            &input["num_inference_steps"],
            &input["guidance"],
            &input["prompt_strength"]
        ),
        (
            &serde_json::json!(28),
            &serde_json::json!(3.0),
            &serde_json::json!(0.75)
        )
    );
    // The web app's older synchronous path: a negative prompt, and the defaults of the row.
    let web = r#"{"prompt":"a fox","negative_prompt":"blurry","model_id":"stability-ai/sdxl",
        "model_version":"39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b",
        "width":1024,"height":1024,"num_inference_steps":50,"guidance_scale":7.5,"generation_id":null}"#;
    let r = parse(web).unwrap();
    assert_eq!(r.adjusted, []);
    assert_eq!(r.params()["negative_prompt"], "blurry");
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
