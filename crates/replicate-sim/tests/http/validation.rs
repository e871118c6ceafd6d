//! Input validation answers 422 problem+json with `invalid_fields`, as Replicate does.

use hyper::Method;
use serde_json::json;

use crate::common::spawn;

#[tokio::test]
async fn invalid_inputs_get_422_with_each_field_named() {
    let s = spawn(json!({})).await;
    let cases = [
        (json!({}), "required", "input", "prompt is required"),
        (
            json!({"prompt": "x", "width": 512}),
            "additional_property_not_allowed",
            "input",
            "Additional property width is not allowed",
        ),
        (
            json!({"prompt": "x", "num_outputs": 5}),
            "number_lte",
            "input.num_outputs",
            "Must be less than or equal to 4",
        ),
        (
            json!({"prompt": "x", "num_outputs": "2"}),
            "invalid_type",
            "input.num_outputs",
            "Invalid type. Expected: integer, given: string",
        ),
        (
            json!({"prompt": "x", "output_format": "gif"}),
            "enum",
            "input.output_format",
            "output_format must be one of the following: \"webp\", \"jpg\", \"png\"",
        ),
    ];
    for (input, kind, field, description) in cases {
        let r = s
            .create_with(
                "black-forest-labs/flux-schnell",
                json!({"input": input}),
                &[],
            )
            .await;
        assert_eq!(r.status, 422, "{input}");
        assert_eq!(r.header("content-type"), "application/problem+json");
        let body = r.json();
        assert_eq!(body["title"], "Input validation failed");
        assert_eq!(body["status"], 422);
        assert_eq!(
            body["invalid_fields"],
            json!([{"type": kind, "field": field, "description": description}])
        );
        assert_eq!(body["detail"], format!("- {field}: {description}\n"));
    }
    assert_eq!(
        s.stats().await["creates_total"],
        0,
        "nothing invalid was created"
    );
    assert_eq!(s.stats().await["validation_failures"], 5);
}

#[tokio::test]
async fn create_bodies_are_checked_too() {
    let s = spawn(json!({})).await;
    let r = s
        .api(
            Method::POST,
            "/v1/predictions",
            Some(&json!({"model": "a/b", "input": {}})),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.json()["invalid_fields"],
        json!([{"type": "required", "field": "", "description": "version is required"},
               {"type": "additional_property_not_allowed", "field": "", "description": "Additional property model is not allowed"}])
    );
    let r = s
        .create_with(
            "google/imagen-4",
            json!({"input": {"prompt": "x"}, "webhook_events_filter": ["done"]}),
            &[],
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.json()["invalid_fields"][0]["field"],
        "webhook_events_filter.0"
    );
    let r = s
        .api(Method::POST, "/v1/models/google/imagen-4/predictions", None)
        .await;
    assert_eq!(r.status, 400, "an empty body is not JSON");
}

#[tokio::test]
async fn each_models_own_schema_applies() {
    let s = spawn(json!({})).await;
    // flux-kontext-pro takes jpg|png only; seedream-4 at most 10 input images; imagen-4 has no seed.
    let r = s
        .create_with(
            "black-forest-labs/flux-kontext-pro",
            json!({"input": {"prompt": "x", "output_format": "webp"}}),
            &[],
        )
        .await;
    assert_eq!(
        r.json()["invalid_fields"][0]["description"],
        "output_format must be one of the following: \"jpg\", \"png\""
    );
    let images: Vec<String> = (0..11)
        .map(|i| format!("https://example.com/{i}.png"))
        .collect();
    let r = s
        .create_with(
            "bytedance/seedream-4",
            json!({"input": {"prompt": "x", "image_input": images}}),
            &[],
        )
        .await;
    assert_eq!(r.json()["invalid_fields"][0]["type"], "array_max_items");
    let r = s
        .create_with(
            "google/imagen-4",
            json!({"input": {"prompt": "x", "seed": 1}}),
            &[],
        )
        .await;
    assert_eq!(r.status, 422);
    let r = s
        .create_with(
            "ideogram-ai/ideogram-v3-turbo",
            json!({"input": {"prompt": "x", "seed": 1, "aspect_ratio": "16:10"}}),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}
