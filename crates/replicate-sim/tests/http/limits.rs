//! Rate limits and the counters that prove no paid prediction was created twice.

use hyper::Method;
use serde_json::json;

use crate::common::spawn;

#[tokio::test]
async fn creates_are_limited_per_minute_with_a_burst() {
    let s = spawn(json!({"create_limit_per_min": 60, "create_burst": 3})).await;
    for i in 0..3 {
        let r = s
            .create_with(
                "google/imagen-4",
                json!({"input": {"prompt": format!("{i}")}}),
                &[],
            )
            .await;
        assert_eq!(r.status, 201);
    }
    let r = s
        .create_with("google/imagen-4", json!({"input": {"prompt": "x"}}), &[])
        .await;
    assert_eq!(r.status, 429);
    let body = r.json();
    assert!(body["retry_after"].as_u64().unwrap() >= 1);
    assert_eq!(body["status"], 429);
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .starts_with("Request was throttled."));
    // Other endpoints have their own budget.
    assert_eq!(
        s.api(Method::GET, "/v1/predictions", None).await.status,
        200
    );
    let stats = s.stats().await;
    assert_eq!(
        (
            stats["rate_limited"].as_u64(),
            stats["creates_total"].as_u64()
        ),
        (Some(1), Some(3))
    );
    // Raising the limit at run time applies at once.
    s.admin(
        Method::PATCH,
        "config",
        Some(&json!({"create_limit_per_min": 0})),
    )
    .await;
    assert_eq!(
        s.create_with("google/imagen-4", json!({"input": {"prompt": "y"}}), &[])
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn the_default_limits_are_replicates() {
    let defaults = replicate_sim::Settings::default();
    assert_eq!(
        (defaults.create_limit_per_min, defaults.other_limit_per_min),
        (600, 3000)
    );
    let s = spawn(json!({"other_limit_per_min": 3000, "other_burst": 2})).await;
    assert_eq!(
        s.api(Method::GET, "/v1/predictions", None).await.status,
        200
    );
    assert_eq!(
        s.api(Method::GET, "/v1/predictions", None).await.status,
        200
    );
    assert_eq!(
        s.api(Method::GET, "/v1/predictions", None).await.status,
        429
    );
}

#[tokio::test]
async fn counters_report_creates_per_model_and_duplicates() {
    let s = spawn(json!({})).await;
    let input = json!({"prompt": "a", "seed": 1});
    s.create_with("google/imagen-4", json!({"input": {"prompt": "a"}}), &[])
        .await;
    s.create_with(
        "black-forest-labs/flux-schnell",
        json!({"input": input}),
        &[],
    )
    .await;
    s.create_with(
        "black-forest-labs/flux-schnell",
        json!({"input": {"seed": 1, "prompt": "a"}}),
        &[],
    )
    .await;
    s.create_with(
        "black-forest-labs/flux-schnell",
        json!({"input": {"prompt": "b"}}),
        &[],
    )
    .await;
    let stats = s.stats().await;
    assert_eq!(stats["creates_total"], 4);
    assert_eq!(
        stats["creates_by_model"],
        json!({"black-forest-labs/flux-schnell": 3, "google/imagen-4": 1})
    );
    assert_eq!(stats["duplicate_creates"], 1);
    assert_eq!(
        stats["duplicates"],
        json!([{"model": "black-forest-labs/flux-schnell", "input": input, "count": 2}])
    );
    assert_eq!(stats["requests"]["create"], 4);
    assert_eq!(
        s.admin(Method::POST, "reset", Some(&json!({})))
            .await
            .status,
        200
    );
    assert_eq!(s.stats().await["creates_total"], 0);
}
