//! `starting → processing → succeeded | failed | canceled | aborted`, `Prefer: wait`, `Cancel-After`,
//! latency and cold starts.

use std::time::Duration;

use hyper::Method;
use serde_json::json;

use crate::common::{spawn, Sim};

const SCHNELL: &str = "black-forest-labs/flux-schnell";

/// Real-time settings with a fixed queue time and run time.
fn timed(queue_ms: u64, run_ms: u64) -> serde_json::Value {
    json!({"time_scale": 1.0, "queue_ms": queue_ms, "cold_start_ms": 0,
        "latency": {"*": {"median_ms": run_ms, "spread": 0.0}}})
}

async fn wait_status(s: &Sim, id: &str, status: &str) -> serde_json::Value {
    for _ in 0..1000 {
        let p = s.get(id).await;
        if p["status"] == status {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{id} never reached {status}")
}

#[tokio::test]
async fn a_prediction_runs_to_success_with_timestamps_metrics_and_logs() {
    let s = spawn(timed(50, 300)).await;
    let r = s
        .create_with(
            SCHNELL,
            json!({"input": {"prompt": "a cat", "seed": 42}}),
            &[],
        )
        .await;
    assert_eq!(r.json()["status"], "starting");
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let p = s.wait_done(&id).await;
    assert_eq!(p["status"], "succeeded");
    let (created, started, completed) = (
        p["created_at"].as_str().unwrap(),
        p["started_at"].as_str().unwrap(),
        p["completed_at"].as_str().unwrap(),
    );
    assert!(
        created <= started && started <= completed,
        "{created} {started} {completed}"
    );
    // Sleeps never end early, so the run took at least its latency (an upper bound would flake).
    assert!(
        p["metrics"]["predict_time"].as_f64().unwrap() >= 0.29,
        "{}",
        p["metrics"]
    );
    assert!(
        p["metrics"]["total_time"].as_f64().unwrap()
            >= p["metrics"]["predict_time"].as_f64().unwrap()
    );
    assert!(p["logs"].as_str().unwrap().starts_with("Using seed: 42\n"));
    assert_eq!(p["output"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn prefer_wait_returns_201_when_done_and_202_when_not() {
    let s = spawn(json!({})).await;
    let r = s
        .create_with(
            SCHNELL,
            json!({"input": {"prompt": "x"}}),
            &[("prefer", "wait")],
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["status"], "succeeded");
    assert!(r.json()["output"][0]
        .as_str()
        .unwrap()
        .contains("/delivery/"));

    s.admin(Method::PATCH, "config", Some(&timed(0, 60_000)))
        .await;
    let r = s
        .create_with(
            SCHNELL,
            json!({"input": {"prompt": "x"}}),
            &[("prefer", "wait=1")],
        )
        .await;
    assert_eq!(r.status, 202);
    assert!(matches!(
        r.json()["status"].as_str(),
        Some("starting" | "processing")
    ));
    assert!(r.json()["output"].is_null());
}

#[tokio::test]
async fn cancel_stops_a_running_prediction() {
    let s = spawn(timed(0, 60_000)).await;
    let id = s
        .create_with(SCHNELL, json!({"input": {"prompt": "x"}}), &[])
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_status(&s, &id, "processing").await;
    let r = s
        .api(Method::POST, &format!("/v1/predictions/{id}/cancel"), None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "canceled");
    assert!(r.json()["completed_at"].is_string());
    // Canceling again changes nothing.
    let again = s
        .api(Method::POST, &format!("/v1/predictions/{id}/cancel"), None)
        .await
        .json();
    assert_eq!(again["completed_at"], r.json()["completed_at"]);
    assert_eq!(s.stats().await["cancels"], 1);
}

#[tokio::test]
async fn cancel_after_aborts_what_has_not_started_and_cancels_what_runs() {
    let s = spawn(timed(60_000, 0)).await;
    let r = s
        .create_with(
            SCHNELL,
            json!({"input": {"prompt": "x"}}),
            &[("cancel-after", "300ms")],
        )
        .await;
    assert!(r.json()["deadline"].is_string());
    let p = s.wait_done(r.json()["id"].as_str().unwrap()).await;
    assert_eq!(p["status"], "aborted");
    assert!(p["started_at"].is_null());

    s.admin(Method::PATCH, "config", Some(&timed(0, 60_000)))
        .await;
    let r = s
        .create_with(
            SCHNELL,
            json!({"input": {"prompt": "x"}}),
            &[("cancel-after", "0.5")],
        )
        .await;
    let p = s.wait_done(r.json()["id"].as_str().unwrap()).await;
    assert_eq!(p["status"], "canceled");
    assert!(p["started_at"].is_string());

    let r = s
        .create_with(
            SCHNELL,
            json!({"input": {"prompt": "x"}}),
            &[("cancel-after", "soon")],
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn community_models_boot_cold_once_and_official_models_never() {
    let s = spawn(
        json!({"time_scale": 1.0, "queue_ms": 0, "cold_start_ms": 60000,
        "latency": {"*": {"median_ms": 0}}}),
    )
    .await;
    let body = json!({"version": "bytedance/sdxl-lightning-4step:6f7a773af6fc3e8de9d5a3c00be77c17308914bf67772726aff83496ba1e3bbe",
        "input": {"prompt": "x"}});
    let auth = format!("Bearer {}", crate::common::TOKEN);
    let headers = [("authorization", auth.as_str()), ("prefer", "wait=1")];
    let cold = s
        .send(Method::POST, "/v1/predictions", &headers, Some(&body))
        .await;
    assert_eq!(
        (cold.status, cold.json()["status"].clone()),
        (202, json!("starting")),
        "first run boots cold"
    );
    let warm = s
        .send(Method::POST, "/v1/predictions", &headers, Some(&body))
        .await;
    assert_eq!(
        (warm.status, warm.json()["status"].clone()),
        (201, json!("succeeded")),
        "then it is warm"
    );
    let official = s
        .create_with(
            SCHNELL,
            json!({"input": {"prompt": "x"}}),
            &[("prefer", "wait=1")],
        )
        .await;
    assert_eq!(official.status, 201);
}

#[tokio::test]
async fn each_model_gets_its_own_latency() {
    let s = spawn(json!({"time_scale": 1.0, "queue_ms": 0,
        "latency": {"*": {"median_ms": 0}, "google/imagen-4-ultra": {"median_ms": 60000}}}))
    .await;
    let slow = s
        .create_with(
            "google/imagen-4-ultra",
            json!({"input": {"prompt": "x"}}),
            &[("prefer", "wait=1")],
        )
        .await;
    assert_eq!(slow.status, 202);
    let fast = s
        .create_with(
            "google/imagen-4-fast",
            json!({"input": {"prompt": "x"}}),
            &[("prefer", "wait=1")],
        )
        .await;
    assert_eq!(fast.status, 201);
}
