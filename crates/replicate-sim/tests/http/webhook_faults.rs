//! Faults on webhook deliveries (`on: "webhook"`): a lost webhook, a duplicated one, a late one, and the
//! rules that make no sense refused. Order is checked through the counters and the receiver, which are
//! updated before anything that follows them, so no test waits a fixed time.

use std::time::{Duration, Instant};

use hyper::Method;
use imagegen_core::replicate::WebhookSecret;
use replicate_sim::config::DEFAULT_WEBHOOK_SECRET;
use serde_json::{json, Value};

use crate::common::{spawn, Hook, Receiver};
use crate::webhooks::reference_signature;

const IMAGEN: &str = "google/imagen-4";

/// A create body sending `events` of the prediction to `hook`.
fn with_webhook(hook: &Receiver, events: &[&str]) -> Value {
    json!({"input": {"prompt": "x"}, "webhook": hook.url(), "webhook_events_filter": events})
}

/// What arrived for `prediction`.
fn of<'a>(hooks: &'a [Hook], prediction: &Value) -> Vec<&'a Hook> {
    hooks
        .iter()
        .filter(|h| h.json()["id"] == prediction["id"])
        .collect()
}

/// The prediction statuses the deliveries for `prediction` carried, in arrival order.
fn statuses(hooks: &[Hook], prediction: &Value) -> Vec<String> {
    of(hooks, prediction)
        .iter()
        .map(|h| h.json()["status"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_dropped_webhook_is_never_sent_yet_the_prediction_completes() {
    let s = spawn(json!({"webhook_retry_base_ms": 10})).await;
    let hook = Receiver::start(vec![]).await;
    s.fault(json!({"kind": "drop", "on": "webhook", "times": 1}))
        .await;
    let wait = [("prefer", "wait=30")];
    let lost = s
        .create_with(IMAGEN, with_webhook(&hook, &["start", "completed"]), &wait)
        .await
        .json();
    // The queue delivers `start` before it reaches `completed`, whose drop is counted when it fires.
    let stats = s.wait_stats(|st| st["webhook_dropped"] == 1).await;
    assert_eq!(
        s.get(lost["id"].as_str().unwrap()).await["status"],
        "succeeded"
    );
    let got = hook.received();
    assert_eq!(got.len(), 1);
    assert_eq!(
        statuses(&got, &lost),
        ["starting"],
        "only start (the rule is for completed)"
    );
    assert_eq!(
        (
            stats["webhook_attempts"].as_u64(),
            stats["webhook_gave_up"].as_u64(),
            stats["faults_fired"]["drop"].as_u64()
        ),
        (Some(1), Some(0), Some(1)),
        "no attempt for the dropped completed, so nothing to give up on"
    );

    // `times: 1` is used up: the next prediction's completed arrives. A rule for `start` drops its start.
    s.fault(json!({"kind": "drop", "on": "webhook", "event": "start", "times": 1}))
        .await;
    let next = s
        .create_with(IMAGEN, with_webhook(&hook, &["start", "completed"]), &[])
        .await
        .json();
    let got = hook
        .wait_for(|h| {
            of(h, &next)
                .iter()
                .any(|x| x.json()["status"] == "succeeded")
        })
        .await;
    assert_eq!(
        statuses(&got, &next),
        ["succeeded"],
        "its start was dropped"
    );
    assert_eq!(
        statuses(&got, &lost),
        ["starting"],
        "still only the first one's start"
    );
    let stats = s.stats().await;
    assert_eq!(stats["webhook_dropped"], 2);
    assert_eq!(stats["webhook_attempts"], 2);
}

#[tokio::test]
async fn a_duplicated_webhook_arrives_twice_under_one_id_each_validly_signed() {
    let s = spawn(json!({})).await;
    let hook = Receiver::start(vec![]).await;
    s.fault(json!({"kind": "duplicate", "on": "webhook", "times": 1}))
        .await;
    let first = s
        .create_with(IMAGEN, with_webhook(&hook, &["completed"]), &[])
        .await
        .json();
    let got = hook.wait_for(|h| h.len() >= 2).await;
    let (a, b) = (&got[0], &got[1]);
    assert_eq!(a.json()["id"], first["id"]);
    assert_eq!(a.header("webhook-id"), b.header("webhook-id"));
    assert_eq!(a.body, b.body, "the same prediction object");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let verifier = WebhookSecret::parse(DEFAULT_WEBHOOK_SECRET).unwrap();
    for h in [a, b] {
        let (id, ts, sig) = (
            h.header("webhook-id"),
            h.header("webhook-timestamp"),
            h.header("webhook-signature"),
        );
        assert_eq!(
            sig,
            reference_signature(DEFAULT_WEBHOOK_SECRET, id, ts, &h.body)
        );
        verifier
            .verify(Some(id), Some(ts), Some(sig), &h.body, now)
            .expect("each copy verifies");
    }
    let stats = s.stats().await;
    assert_eq!(
        (
            stats["webhook_duplicated"].as_u64(),
            stats["faults_fired"]["duplicate"].as_u64()
        ),
        (Some(1), Some(1))
    );

    // Used up: the next prediction's webhook comes once (the count is taken when the fault fires, before
    // the first copy goes out).
    let next = s
        .create_with(IMAGEN, with_webhook(&hook, &["completed"]), &[])
        .await
        .json();
    let got = hook.wait_for(|h| !of(h, &next).is_empty()).await;
    assert_ne!(
        of(&got, &next)[0].header("webhook-id"),
        a.header("webhook-id")
    );
    assert_eq!(s.stats().await["webhook_duplicated"], 1);
}

#[tokio::test]
async fn a_slow_webhook_arrives_after_the_prediction_reads_succeeded() {
    let s = spawn(json!({})).await;
    let hook = Receiver::start(vec![]).await;
    // Long enough that a create and a GET on an idle or loaded machine both fit in it.
    let hold = Duration::from_millis(1500);
    s.fault(
        json!({"kind": "slow", "on": "webhook", "delay_ms": hold.as_millis() as u64, "times": 1}),
    )
    .await;
    let created_at = Instant::now();
    let p = s
        .create_with(
            IMAGEN,
            with_webhook(&hook, &["completed"]),
            &[("prefer", "wait=30")],
        )
        .await
        .json();
    let read = s.get(p["id"].as_str().unwrap()).await;
    let read_at = Instant::now();
    assert_eq!(read["status"], "succeeded");
    assert!(hook.received().is_empty(), "the webhook is still held");
    let got = hook.wait_for(|h| !h.is_empty()).await;
    assert!(got[0].received_at > read_at, "arrived after the GET");
    assert!(
        got[0].received_at - created_at >= hold,
        "a lower bound only: {:?}",
        got[0].received_at - created_at
    );
    assert_eq!(got[0].json()["status"], "succeeded");
    assert_eq!(s.stats().await["faults_fired"]["slow"], 1);
}

#[tokio::test]
async fn nonsense_webhook_rules_get_a_clear_400_and_arm_nothing() {
    let s = spawn(json!({})).await;
    let cases = [
        (
            json!({"kind": "drop", "on": "create"}),
            "drop faults apply to webhook deliveries (on: \"webhook\")",
        ),
        (
            json!({"kind": "duplicate"}),
            "duplicate faults apply to webhook deliveries",
        ),
        (
            json!({"kind": "status", "on": "webhook"}),
            "status faults do not apply to webhook deliveries; use drop, duplicate or slow",
        ),
        (
            json!({"kind": "slow", "on": "get", "event": "start"}),
            "event is for faults on webhook deliveries",
        ),
        (
            json!({"kind": "drop", "on": "webhook", "event": "finished"}),
            "unknown variant `finished`",
        ),
        // One bad rule in an array refuses the whole array.
        (
            json!([{"kind": "slow", "on": "webhook"}, {"kind": "reset", "on": "webhook"}]),
            "fault 1: reset faults do not apply to webhook deliveries",
        ),
    ];
    for (body, message) in cases {
        let r = s.admin(Method::POST, "faults", Some(&body)).await;
        assert_eq!(r.status, 400, "{body}");
        let error = r.json()["error"].as_str().unwrap().to_owned();
        assert!(error.contains(message), "{body}: {error}");
    }
    let armed = s.admin(Method::GET, "faults", None).await.json();
    assert_eq!(armed["faults"], json!([]));
}
