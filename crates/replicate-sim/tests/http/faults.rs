//! Faults armed through `/admin/faults` (and at start through the config).

use std::time::{Duration, Instant};

use hyper::Method;
use replicate_sim::Config;
use serde_json::json;

use crate::common::{spawn, spawn_with, TOKEN};

const SCHNELL: &str = "black-forest-labs/flux-schnell";

#[tokio::test]
async fn throttle_answers_replicates_429_body() {
    let s = spawn(json!({})).await;
    s.fault(json!({"kind": "throttle", "on": "create", "times": 1, "retry_after": 7}))
        .await;
    let r = s
        .create_with(SCHNELL, json!({"input": {"prompt": "x"}}), &[])
        .await;
    assert_eq!(r.status, 429);
    assert_eq!(
        r.json(),
        json!({"detail": "Request was throttled. Your rate limit resets in ~7s.", "status": 429, "retry_after": 7})
    );
    assert_eq!(
        s.create_with(SCHNELL, json!({"input": {"prompt": "x"}}), &[])
            .await
            .status,
        201,
        "fired once"
    );
    assert_eq!(s.stats().await["creates_total"], 1);
}

#[tokio::test]
async fn server_errors_hit_only_their_target_and_model() {
    let s = spawn(json!({})).await;
    s.fault(json!({"kind": "status", "on": "get", "status": 502, "times": 2, "model": "google/imagen-4"})).await;
    let id = s.run("google/imagen-4", json!({"prompt": "x"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = s.run(SCHNELL, json!({"prompt": "x"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        s.api(Method::GET, &format!("/v1/predictions/{other}"), None)
            .await
            .status,
        200
    );
    let r = s
        .api(Method::GET, &format!("/v1/predictions/{id}"), None)
        .await;
    assert_eq!(r.status, 502);
    assert_eq!(r.json()["status"], 502);
    assert_eq!(
        s.api(Method::GET, &format!("/v1/predictions/{id}"), None)
            .await
            .status,
        502
    );
    assert_eq!(
        s.api(Method::GET, &format!("/v1/predictions/{id}"), None)
            .await
            .status,
        200
    );
    assert_eq!(s.stats().await["faults_fired"]["status"], 2);
}

#[tokio::test]
async fn reset_drops_the_connection_without_an_answer() {
    let s = spawn(json!({})).await;
    s.fault(json!({"kind": "reset", "on": "list", "times": 1}))
        .await;
    let url = s.url("/v1/predictions");
    let auth = format!("Bearer {TOKEN}");
    let r = s
        .try_send(Method::GET, &url, &[("authorization", &auth)], None)
        .await;
    assert!(r.is_err(), "expected a connection error, got {r:?}");
    assert_eq!(
        s.api(Method::GET, "/v1/predictions", None).await.status,
        200
    );
}

#[tokio::test]
async fn a_lost_create_answer_still_created_the_prediction() {
    // The case that tempts a client to create again: the prediction exists, the answer never came.
    let s = spawn(json!({})).await;
    s.fault(json!({"kind": "reset", "on": "create", "after": true, "times": 1}))
        .await;
    s.fault(json!({"kind": "status", "on": "create", "after": true, "status": 500, "times": 1}))
        .await;
    let auth = format!("Bearer {TOKEN}");
    let url = s.url(&format!("/v1/models/{SCHNELL}/predictions"));
    let body = json!({"input": {"prompt": "same"}});
    let r = s
        .try_send(Method::POST, &url, &[("authorization", &auth)], Some(&body))
        .await;
    assert!(r.is_err(), "{r:?}");
    let r = s.create_with(SCHNELL, body.clone(), &[]).await;
    assert_eq!(r.status, 500);
    let stats = s.stats().await;
    assert_eq!(stats["creates_total"], 2, "both were created (and paid)");
    assert_eq!(stats["duplicate_creates"], 1);
    assert_eq!(stats["duplicates"][0]["input"], json!({"prompt": "same"}));
    let listed = s.api(Method::GET, "/v1/predictions", None).await.json();
    assert_eq!(listed["results"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn slow_delays_the_answer() {
    let s = spawn(json!({})).await;
    s.fault(json!({"kind": "slow", "on": "secret", "delay_ms": 400, "times": 1}))
        .await;
    let t = Instant::now();
    assert_eq!(
        s.api(Method::GET, "/v1/webhooks/default/secret", None)
            .await
            .status,
        200
    );
    assert!(
        t.elapsed() >= Duration::from_millis(400),
        "a lower bound only: {:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn nsfw_failures_use_each_models_exact_text() {
    let s = spawn(json!({})).await;
    s.fault(json!({"kind": "nsfw", "on": "create"})).await;
    let flux = s.run(SCHNELL, json!({"prompt": "x"})).await;
    assert_eq!(flux["status"], "failed");
    assert_eq!(flux["error"], "All generated images contained NSFW content. Try running it again with a different prompt.");
    assert!(flux["output"].is_null());
    let body = json!({"version": "stability-ai/sdxl:39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b", "input": {"prompt": "x"}});
    let sdxl = s
        .api(Method::POST, "/v1/predictions", Some(&body))
        .await
        .json();
    let sdxl = s.wait_done(sdxl["id"].as_str().unwrap()).await;
    assert_eq!(
        sdxl["error"],
        "NSFW content detected. Try running it again, or try a different prompt."
    );
    let imagen = s.run("google/imagen-4", json!({"prompt": "x"})).await;
    assert!(imagen["error"]
        .as_str()
        .unwrap()
        .contains("flagged as sensitive"));
}

#[tokio::test]
async fn flux_drops_flagged_images_silently() {
    let s = spawn(json!({})).await;
    s.fault(json!({"kind": "nsfw_partial", "on": "create", "times": 1}))
        .await;
    let p = s
        .run(SCHNELL, json!({"prompt": "x", "num_outputs": 3}))
        .await;
    assert_eq!(p["status"], "succeeded");
    assert_eq!(p["output"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_custom_failure_and_a_stuck_prediction() {
    let s = spawn(json!({})).await;
    s.fault(
        json!({"kind": "fail", "on": "create", "times": 1, "error": "E6716: timeout starting"}),
    )
    .await;
    let p = s.run(SCHNELL, json!({"prompt": "x"})).await;
    assert_eq!(
        (p["status"].as_str(), p["error"].as_str()),
        (Some("failed"), Some("E6716: timeout starting"))
    );

    s.fault(json!({"kind": "stuck", "on": "create", "times": 1}))
        .await;
    let r = s
        .create_with(
            SCHNELL,
            json!({"input": {"prompt": "x"}}),
            &[("prefer", "wait=1")],
        )
        .await;
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (202, json!("starting"))
    );
    let id = r.json()["id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.get(&id).await["status"], "starting", "still stuck");
    s.fault(json!({"kind": "stuck", "on": "create", "times": 1}))
        .await;
    let r = s
        .create_with(
            SCHNELL,
            json!({"input": {"prompt": "x"}}),
            &[("cancel-after", "200ms")],
        )
        .await;
    assert_eq!(
        s.wait_done(r.json()["id"].as_str().unwrap()).await["status"],
        "aborted"
    );
}

#[tokio::test]
async fn faults_can_be_armed_at_start_listed_and_cleared() {
    let config = Config {
        faults: replicate_sim::faults::parse_rules(
            &json!([{"kind": "status", "on": "create", "status": 503}]),
        )
        .unwrap(),
        ..Config::default()
    };
    let s = spawn_with(config, json!({})).await;
    assert_eq!(
        s.create_with(SCHNELL, json!({"input": {"prompt": "x"}}), &[])
            .await
            .status,
        503
    );
    let listed = s.admin(Method::GET, "faults", None).await.json();
    assert_eq!(listed["faults"][0]["kind"], "status");
    assert_eq!(s.admin(Method::DELETE, "faults", None).await.status, 200);
    assert_eq!(
        s.create_with(SCHNELL, json!({"input": {"prompt": "x"}}), &[])
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn bad_admin_input_gets_a_clear_400() {
    let s = spawn(json!({})).await;
    let cases = [
        ("faults", json!({"kind": "explode"})),
        ("faults", json!({"kind": "status", "status": 200})),
        ("config", json!({"time_scale": -1})),
        ("config", json!({"expiry": 5})),
        ("config", json!({"create_limit_per_min": "many"})),
        ("clock", json!({"advance_secs": -5})),
    ];
    for (path, body) in cases {
        let r = s.admin(Method::POST, path, Some(&body)).await;
        assert_eq!(r.status, 400, "{path} {body}");
        assert!(!r.json()["error"].as_str().unwrap().is_empty());
    }
    let r = s.send(Method::POST, "/admin/faults", &[], None).await;
    assert_eq!(r.status, 400);
    assert!(r.json()["error"].as_str().unwrap().contains("not JSON"));
    assert_eq!(s.admin(Method::GET, "nope", None).await.status, 404);
}

#[tokio::test]
async fn redirect_faults_send_file_downloads_elsewhere() {
    let s = spawn(json!({})).await;
    let p = s.run("google/imagen-4", json!({"prompt": "x"})).await;
    let url = p["output"].as_str().unwrap().to_owned();
    let path = url.trim_start_matches(&s.url(""));
    s.fault(json!({"kind": "redirect", "on": "file", "times": 1,
        "location": "http://169.254.169.254/latest/meta-data/"}))
        .await;
    s.fault(json!({"kind": "redirect", "on": "file", "times": 1}))
        .await;
    let off = s.download(&url).await;
    assert_eq!(off.status, 302);
    assert_eq!(
        off.headers["location"],
        "http://169.254.169.254/latest/meta-data/"
    );
    let again = s.download(&url).await;
    assert_eq!(
        (again.status, again.headers["location"].to_str().unwrap()),
        (302, path),
        "without a location: the same file again"
    );
    let served = s.download(&url).await;
    assert_eq!(served.status, 200, "each fired once");
    assert_eq!(s.stats().await["faults_fired"]["redirect"], 2);
    let r = s
        .admin(
            Method::POST,
            "faults",
            Some(&json!({"kind": "redirect", "on": "create"})),
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn a_start_failure_never_runs() {
    let s = spawn(json!({})).await;
    s.fault(json!({"kind": "start_fail", "on": "create", "times": 1}))
        .await;
    let p = s.run(SCHNELL, json!({"prompt": "x"})).await;
    assert_eq!(
        (p["status"].as_str(), p["error"].as_str()),
        (Some("failed"), Some("E6716: Timed out starting model"))
    );
    assert!(p["started_at"].is_null(), "never started: {p}");
    assert!(
        p["metrics"]["predict_time"].is_null(),
        "nothing billed: {p}"
    );
    // A `fail` fault runs first: it has a start and a predict time.
    s.fault(json!({"kind": "fail", "on": "create", "times": 1}))
        .await;
    let p = s.run(SCHNELL, json!({"prompt": "x"})).await;
    assert!(p["started_at"].is_string() && p["metrics"]["predict_time"].is_number());
}
