//! Endpoints, authentication and the prediction object.

use hyper::Method;
use replicate_sim::Config;
use serde_json::json;

use crate::common::{spawn, spawn_with, TOKEN};

const SDXL_VERSION: &str = "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b";

#[tokio::test]
async fn a_token_is_required_and_a_configured_one_must_match() {
    let s = spawn(json!({})).await;
    let r = s.send(Method::GET, "/v1/predictions", &[], None).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json(),
        json!({"title": "Unauthenticated", "detail": "You did not pass an authentication token", "status": 401})
    );
    let r = s
        .send(
            Method::GET,
            "/v1/predictions",
            &[("authorization", "Token anything")],
            None,
        )
        .await;
    assert_eq!(r.status, 200, "the older Token scheme is accepted");

    let config = Config {
        api_token: Some(TOKEN.into()),
        ..Config::default()
    };
    let s = spawn_with(config, json!({})).await;
    let r = s
        .send(
            Method::GET,
            "/v1/predictions",
            &[("authorization", "Bearer r8_wrong")],
            None,
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json()["detail"],
        "You did not pass a valid authentication token"
    );
    assert_eq!(
        s.api(Method::GET, "/v1/predictions", None).await.status,
        200
    );
}

#[tokio::test]
async fn official_model_create_returns_replicates_prediction_object() {
    let s = spawn(json!({"time_scale": 1.0, "queue_ms": 60000})).await;
    let r = s
        .create_with(
            "black-forest-labs/flux-schnell",
            json!({"input": {"prompt": "a cat"}}),
            &[],
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.header("content-type"), "application/json");
    let p = r.json();
    let id = p["id"].as_str().unwrap();
    assert_eq!(id.len(), 26);
    assert_eq!(p["model"], "black-forest-labs/flux-schnell");
    assert_eq!(p["version"], "hidden");
    assert_eq!(p["input"], json!({"prompt": "a cat"}));
    assert_eq!(p["status"], "starting");
    assert_eq!(p["source"], "api");
    assert_eq!(p["data_removed"], false);
    for null in ["output", "error", "started_at", "completed_at"] {
        assert!(p[null].is_null(), "{null}: {}", p[null]);
    }
    assert!(p["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(p["metrics"], json!({}));
    assert_eq!(p["urls"]["get"], s.url(&format!("/v1/predictions/{id}")));
    assert_eq!(
        p["urls"]["cancel"],
        s.url(&format!("/v1/predictions/{id}/cancel"))
    );
    assert_eq!(s.get(id).await["id"], id);
}

#[tokio::test]
async fn versions_are_accepted_in_their_three_forms_and_unknown_ones_refused() {
    let s = spawn(json!({})).await;
    let create = |version: String| {
        let s = &s;
        async move {
            let body = json!({"version": version, "input": {"prompt": "x"}});
            s.api(Method::POST, "/v1/predictions", Some(&body)).await
        }
    };
    let r = create(format!("stability-ai/sdxl:{SDXL_VERSION}")).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.json()["version"], SDXL_VERSION);
    assert_eq!(r.json()["model"], "stability-ai/sdxl");
    let r = create(SDXL_VERSION.into()).await;
    assert_eq!(r.json()["model"], "stability-ai/sdxl");
    let r = create("google/imagen-4".into()).await;
    assert_eq!(
        (r.status, r.json()["version"].clone()),
        (201, json!("hidden"))
    );
    // An official model pinned to a version: its version ids are not tracked, so any well-formed one of
    // that model is run (the worker pins what clients send in `model_version`).
    let pinned = "c63e8a1037b9e90ce614e30bb44c837e1b1e86bb1f0adc6f1bb7f0e3ad088e3f";
    let r = create(format!("black-forest-labs/flux-krea-dev:{pinned}")).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(
        (r.json()["model"].clone(), r.json()["version"].clone()),
        (json!("black-forest-labs/flux-krea-dev"), json!(pinned))
    );
    for bad in [
        "stability-ai/sdxl",
        &format!("google/imagen-4:{SDXL_VERSION}"),
        &"0".repeat(64),
        "nope",
    ] {
        let r = create(bad.into()).await;
        assert_eq!(r.status, 422, "{bad}");
        assert_eq!(r.json()["title"], "Invalid version or not permitted");
    }
    let r = s
        .create_with("stability-ai/sdxl", json!({"input": {}}), &[])
        .await;
    assert_eq!(r.status, 404, "community models have no model endpoint");
    let r = s
        .create_with("nobody/nothing", json!({"input": {}}), &[])
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn list_is_newest_first_and_paginated_by_100() {
    let s = spawn(json!({})).await;
    let mut ids = Vec::new();
    for i in 0..105 {
        let r = s
            .create_with(
                "google/imagen-4-fast",
                json!({"input": {"prompt": format!("p{i}")}}),
                &[],
            )
            .await;
        ids.push(r.json()["id"].as_str().unwrap().to_owned());
    }
    let page = s.api(Method::GET, "/v1/predictions", None).await.json();
    let results = page["results"].as_array().unwrap();
    assert_eq!(results.len(), 100);
    assert_eq!(results[0]["id"], ids[104].as_str());
    assert!(page["previous"].is_null());
    let next = page["next"].as_str().unwrap();
    assert!(next.starts_with(&s.url("/v1/predictions?cursor=")));
    let page2 = s.api(Method::GET, next, None).await.json();
    let ids2: Vec<&str> = page2["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids2,
        ids[..5]
            .iter()
            .rev()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    assert!(page2["next"].is_null());
    assert!(page2["previous"].is_string());
}

#[tokio::test]
async fn secret_unknown_paths_and_methods() {
    let s = spawn(json!({})).await;
    let r = s
        .api(Method::GET, "/v1/webhooks/default/secret", None)
        .await;
    assert_eq!(r.status, 200);
    assert!(r.json()["key"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(
        s.api(Method::GET, "/v1/predictions/doesnotexist", None)
            .await
            .status,
        404
    );
    assert_eq!(s.api(Method::GET, "/v1/nothing", None).await.status, 404);
    assert_eq!(
        s.api(Method::DELETE, "/v1/predictions", None).await.status,
        405
    );
    assert_eq!(
        s.send(Method::GET, "/elsewhere", &[], None).await.status,
        404
    );
}

#[tokio::test]
async fn the_webhook_is_kept_shown_on_get_left_out_of_the_list_and_owner_marks_counted() {
    const SCHNELL: &str = "black-forest-labs/flux-schnell";
    let s = spawn(json!({})).await;
    let gen = "0b0e8a4e-8d5e-4a55-a3b4-2c1f1f7d9c01";
    // Deliveries go nowhere (port 9 refuses): only what the prediction object shows matters here.
    let hook = |n: u32| {
        format!("http://127.0.0.1:9/functions/v1/replicate-webhook?generation_id={gen}&attempt={n}")
    };
    let body = |n: u32| json!({"input": {"prompt": "x"}, "webhook": hook(n), "webhook_events_filter": ["completed"]});
    let id = s.create_with(SCHNELL, body(1), &[]).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let p = s.get(&id).await;
    assert_eq!(p["webhook"], hook(1).as_str());
    assert_eq!(p["webhook_events_filter"], json!(["completed"]));
    let page = s.api(Method::GET, "/v1/predictions", None).await.json();
    let listed = &page["results"][0];
    assert_eq!(listed["id"], id.as_str());
    assert!(
        listed.get("webhook").is_none() && listed.get("webhook_events_filter").is_none(),
        "{listed}"
    );
    s.create_with(SCHNELL, body(2), &[]).await;
    s.create_with(SCHNELL, body(2), &[]).await;
    let stats = s.stats().await;
    assert_eq!(
        (
            stats["owner_recreates"].as_u64(),
            stats["duplicate_owner_creates"].as_u64()
        ),
        (Some(1), Some(1))
    );
}
