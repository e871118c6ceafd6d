//! Webhooks: events and filters, Standard Webhooks signatures (checked against the published test vector
//! and an independent implementation of the documented algorithm), retries of the terminal event.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use hyper::Method;
use imagegen_core::replicate::WebhookSecret;
use serde_json::json;
use sha2::Sha256;

use crate::common::{spawn, Receiver};

/// The documented algorithm, written out independently of the crate: base64(HMAC-SHA256(key, "id.ts.body"))
/// keyed by the base64-decoded part after `whsec_`.
pub fn reference_signature(secret: &str, id: &str, ts: &str, body: &[u8]) -> String {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[test]
fn the_reference_algorithm_reproduces_the_standard_webhooks_vector() {
    // Published with the Standard Webhooks specification (and svix's libraries).
    let (secret, id, ts, body) = (
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "1614265330",
        br#"{"test": 2432232314}"#,
    );
    let expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    assert_eq!(reference_signature(secret, id, ts, body), expected);
    let s = WebhookSecret::parse(secret).unwrap();
    assert_eq!(s.sign(id, 1_614_265_330, body), expected);
    assert!(s
        .verify(Some(id), Some(ts), Some(expected), body, 1_614_265_330)
        .is_ok());
}

#[tokio::test]
async fn all_events_arrive_in_order_signed_with_the_served_secret() {
    let s = spawn(json!({})).await;
    let hook = Receiver::start(vec![]).await;
    let secret = s
        .api(Method::GET, "/v1/webhooks/default/secret", None)
        .await
        .json()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({"input": {"prompt": "x"}, "webhook": hook.url(),
        "webhook_events_filter": ["start", "output", "logs", "completed"]});
    let created = s
        .create_with("black-forest-labs/flux-schnell", body, &[])
        .await
        .json();
    let got = hook
        .wait_for(|h| {
            h.iter().any(|x| {
                x.json()["status"] == "succeeded"
                    && x.json()["completed_at"].is_string()
                    && x.json()["output"].is_array()
                    && h.len() >= 5
            })
        })
        .await;
    let statuses: Vec<String> = got
        .iter()
        .map(|h| h.json()["status"].as_str().unwrap().to_owned())
        .collect();
    // start (starting), logs (processing: seed), logs + output (succeeded), completed.
    assert_eq!(
        statuses,
        [
            "starting",
            "processing",
            "succeeded",
            "succeeded",
            "succeeded"
        ]
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let verifier = WebhookSecret::parse(&secret).unwrap();
    let mut ids = std::collections::HashSet::new();
    for h in &got {
        assert_eq!(h.header("content-type"), "application/json");
        assert_eq!(h.json()["id"], created["id"]);
        let (id, ts, sig) = (
            h.header("webhook-id"),
            h.header("webhook-timestamp"),
            h.header("webhook-signature"),
        );
        assert!(id.starts_with("msg_"));
        assert!(
            ids.insert(id.to_owned()),
            "each event has its own webhook-id"
        );
        assert_eq!(sig, reference_signature(&secret, id, ts, &h.body));
        verifier
            .verify(Some(id), Some(ts), Some(sig), &h.body, now)
            .expect("verifies");
    }
    assert_eq!(
        got[4].json()["webhook_events_filter"],
        json!(["start", "output", "logs", "completed"])
    );
}

#[tokio::test]
async fn without_a_filter_only_output_and_completed_are_sent() {
    let s = spawn(json!({})).await;
    let hook = Receiver::start(vec![]).await;
    s.create_with(
        "google/imagen-4",
        json!({"input": {"prompt": "x"}, "webhook": hook.url()}),
        &[],
    )
    .await;
    let got = hook.wait_for(|h| h.len() >= 2).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(hook.received().len(), 2, "nothing else follows");
    assert!(got
        .iter()
        .all(|h| h.json()["status"] == "succeeded" && h.json()["output"].is_string()));
    assert_eq!(
        got[0].json()["webhook_events_filter"],
        json!(["output", "completed"])
    );
}

#[tokio::test]
async fn the_terminal_webhook_is_retried_with_the_same_id_until_accepted() {
    let s = spawn(json!({"webhook_retry_base_ms": 50})).await;
    let hook = Receiver::start(vec![500, 503]).await;
    let body = json!({"input": {"prompt": "x"}, "webhook": hook.url(), "webhook_events_filter": ["completed"]});
    s.create_with("google/imagen-4", body, &[]).await;
    let got = hook.wait_for(|h| h.len() >= 3).await;
    assert!(got
        .iter()
        .all(|h| h.header("webhook-id") == got[0].header("webhook-id")));
    assert!(
        got.iter().all(|h| h.body == got[0].body),
        "the same prediction each time"
    );
    // Each delivery is re-signed over its own timestamp.
    let key = replicate_sim::config::DEFAULT_WEBHOOK_SECRET;
    for h in &got {
        assert_eq!(
            h.header("webhook-signature"),
            reference_signature(
                key,
                h.header("webhook-id"),
                h.header("webhook-timestamp"),
                &h.body
            )
        );
    }
    let stats = s.stats().await;
    assert_eq!(
        (
            stats["webhook_attempts"].as_u64(),
            stats["webhook_failed_attempts"].as_u64(),
            stats["webhook_delivered"].as_u64()
        ),
        (Some(3), Some(2), Some(1))
    );
}

#[tokio::test]
async fn other_events_are_not_retried_and_retries_end() {
    let s = spawn(json!({"webhook_retry_base_ms": 10, "webhook_retries": 2})).await;
    let hook = Receiver::start(vec![500, 500, 500, 500]).await;
    let body = json!({"input": {"prompt": "x"}, "webhook": hook.url(), "webhook_events_filter": ["start", "completed"]});
    s.create_with("google/imagen-4", body, &[]).await;
    let got = hook.wait_for(|h| h.len() >= 4).await;
    assert_eq!(got[0].json()["status"], "starting");
    assert!(
        got[1..].iter().all(|h| h.json()["status"] == "succeeded"),
        "start was sent once"
    );
    for _ in 0..100 {
        if s.stats().await["webhook_gave_up"] == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(s.stats().await["webhook_gave_up"], 1);
    assert_eq!(
        hook.received().len(),
        4,
        "1 start + 1 completed + 2 retries"
    );
}
