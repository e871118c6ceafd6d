use super::*;
use crate::ports::{HttpError, HttpResponse, RpcError, SqlArg};
use crate::testing::{block_on, FakePlatform, TEST_SECRET};
use std::cell::RefCell;
use std::collections::VecDeque;

const NOW_MS: f64 = 1_800_000_000_000.0;
const NOW_SECS: i64 = 1_800_000_000;
const GENERATION: &str = "0b0e8a4e-8d5e-4a55-a3b4-2c1f1f7d9c01";
/// The Standard Webhooks specification's test secret.
const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Clock, a scripted Replicate (for the secret) and a database answering record_replicate_webhook.
struct Host {
    platform: FakePlatform,
    db_answer: Result<Value, RpcError>,
    rpc_calls: RefCell<Vec<(String, Vec<SqlArg>)>>,
    replicate: RefCell<VecDeque<HttpResponse>>,
    sent: RefCell<Vec<String>>,
}

impl Host {
    fn new() -> Self {
        Self {
            platform: FakePlatform::at(NOW_MS),
            db_answer: Ok(serde_json::json!({"outcome": "recorded", "woken": true})),
            rpc_calls: RefCell::default(),
            replicate: RefCell::default(),
            sent: RefCell::default(),
        }
    }
    fn serving_secret(self, whsec: &str) -> Self {
        self.replicate.borrow_mut().push_back(HttpResponse {
            status: 200,
            headers: vec![],
            body: serde_json::json!({ "key": whsec }).to_string().into_bytes(),
        });
        self
    }
    fn recorded(&self) -> Vec<(String, Vec<Option<String>>)> {
        self.rpc_calls
            .borrow()
            .iter()
            .map(|(f, args)| (f.clone(), args.iter().map(|a| a.value.clone()).collect()))
            .collect()
    }
}

impl Platform for Host {
    fn now_ms(&self) -> f64 {
        self.platform.now_ms()
    }
    fn monotonic_ms(&self) -> f64 {
        self.platform.monotonic_ms()
    }
    fn random_id(&self) -> String {
        self.platform.random_id()
    }
    fn log(&self, line: &str) {
        self.platform.log(line)
    }
    fn random_unit(&self) -> f64 {
        0.5
    }
}

/// Lets other futures of a `join` run, as a real wait would.
async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}

impl Timer for Host {
    async fn sleep_ms(&self, _: u64) {
        yield_once().await
    }
}

impl HttpClient for Host {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        yield_once().await;
        self.sent
            .borrow_mut()
            .push(format!("{} {}", request.method, request.url));
        self.replicate
            .borrow_mut()
            .pop_front()
            .ok_or(HttpError::Network("unreachable".into()))
    }
}

impl Rpc for Host {
    async fn call(&self, function: &'static str, args: &[SqlArg]) -> Result<Vec<Value>, RpcError> {
        self.rpc_calls
            .borrow_mut()
            .push((function.to_owned(), args.to_vec()));
        self.db_answer.clone().map(|v| vec![v])
    }
}

fn ctx(extra: &[(&str, &str)]) -> AppContext {
    let mut env = vec![
        ("JWT_SECRET", TEST_SECRET),
        ("SUPABASE_URL", "https://abc.supabase.co"),
        ("SUPABASE_SECRET_KEYS", r#"{"default":"sb_secret_k"}"#),
        ("REPLICATE_API_TOKEN", "r8_token"),
    ];
    env.extend_from_slice(extra);
    AppContext::from_env(|k| {
        env.iter()
            .find(|(name, _)| *name == k)
            .map(|(_, v)| v.to_string())
    })
    .unwrap()
}

fn with_secret() -> AppContext {
    ctx(&[("REPLICATE_WEBHOOK_SECRET", WHSEC)])
}

fn prediction(status: &str) -> Value {
    serde_json::json!({
        "id": "p1", "model": "black-forest-labs/flux-schnell", "version": "hidden", "input": {"prompt": "x"},
        "status": status, "output": ["https://replicate.delivery/p/out-0.webp"], "error": null,
        "created_at": "2027-01-15T08:00:00Z", "urls": {"get": "g", "cancel": "c"},
    })
}

/// A delivery signed with `whsec` at `timestamp`, to the owner mark's URL.
fn delivery(whsec: &str, timestamp: i64, body: &[u8]) -> RequestHead {
    let secret = WebhookSecret::parse(whsec).unwrap();
    RequestHead::new(
        "POST",
        [
            ("webhook-id".to_owned(), "msg_1".to_owned()),
            ("webhook-timestamp".to_owned(), timestamp.to_string()),
            (
                "webhook-signature".to_owned(),
                secret.sign("msg_1", timestamp, body),
            ),
        ],
    )
    .with_url(&format!(
        "https://abc.supabase.co/functions/v1/replicate-webhook?generation_id={GENERATION}&attempt=2"
    ))
}

fn send(
    ctx: &AppContext,
    host: &Host,
    secrets: &SecretCache,
    head: &RequestHead,
    body: &[u8],
) -> (Response, Option<HttpRequest>) {
    block_on(handle(ctx, host, secrets, head, body.to_vec()))
}

/// A delivery of `prediction(status)`, signed with the configured secret, sent now.
fn send_signed(host: &Host, status: &str) -> (Response, Option<HttpRequest>) {
    let body = prediction(status).to_string();
    send(
        &with_secret(),
        host,
        &SecretCache::default(),
        &delivery(WHSEC, NOW_SECS, body.as_bytes()),
        body.as_bytes(),
    )
}

fn code(r: &Response) -> String {
    serde_json::from_str::<Value>(&r.body).unwrap()["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn a_signed_delivery_is_recorded_for_the_marked_generation_and_wakes_the_worker() {
    let host = Host::new();
    let body = prediction("succeeded").to_string();
    let (r, wake) = send(
        &with_secret(),
        &host,
        &SecretCache::default(),
        &delivery(WHSEC, NOW_SECS - 10, body.as_bytes()),
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(r#""outcome":"recorded""#), "{}", r.body);
    let calls = host.recorded();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].0, "record_replicate_webhook");
    assert_eq!(
        calls[0].1[..3],
        [
            Some("msg_1".into()),
            Some(GENERATION.into()),
            Some("2".into())
        ]
    );
    let stored: Value = serde_json::from_str(calls[0].1[3].as_deref().unwrap()).unwrap();
    assert_eq!(stored, prediction("succeeded"), "stored as delivered");
    let wake = wake.expect("a woken job wakes the worker");
    assert_eq!(
        wake.url,
        "https://abc.supabase.co/functions/v1/process-jobs"
    );
    assert!(
        host.sent.borrow().is_empty(),
        "no API call with a configured secret"
    );
}

#[test]
fn duplicates_and_non_final_events_are_acknowledged_without_a_wake() {
    for answer in [
        serde_json::json!({"outcome": "duplicate", "woken": false}),
        serde_json::json!({"outcome": "not_final", "woken": false}),
        serde_json::json!({"outcome": "recorded", "woken": false}),
    ] {
        let host = Host {
            db_answer: Ok(answer.clone()),
            ..Host::new()
        };
        let (r, wake) = send_signed(&host, "processing");
        assert_eq!(r.status, 200);
        assert!(r.body.contains(answer["outcome"].as_str().unwrap()));
        assert!(wake.is_none(), "{answer}");
    }
}

#[test]
fn forged_tampered_stale_and_unsigned_deliveries_change_nothing() {
    let body = prediction("succeeded").to_string();
    let other = "whsec_".to_owned() + "b3RoZXIgc2VjcmV0IG9mIHNvbWVvbmUgZWxzZQ==";
    let tampered = body.replace("out-0", "evil-0");
    let cases: Vec<(RequestHead, &str, &str)> = vec![
        (
            delivery(&other, NOW_SECS, body.as_bytes()),
            body.as_str(),
            "webhook_signature_invalid",
        ),
        (
            delivery(WHSEC, NOW_SECS, body.as_bytes()),
            tampered.as_str(),
            "webhook_signature_invalid",
        ),
        (
            delivery(WHSEC, NOW_SECS - 301, body.as_bytes()),
            body.as_str(),
            "webhook_stale",
        ),
        (
            delivery(WHSEC, NOW_SECS + 301, body.as_bytes()),
            body.as_str(),
            "webhook_stale",
        ),
        (
            RequestHead::new("POST", [])
                .with_url("https://x/functions/v1/replicate-webhook?generation_id=x&attempt=1"),
            body.as_str(),
            "webhook_unsigned",
        ),
    ];
    for (head, sent_body, expected) in cases {
        let host = Host::new();
        let (r, wake) = send(
            &with_secret(),
            &host,
            &SecretCache::default(),
            &head,
            sent_body.as_bytes(),
        );
        assert_eq!((r.status, code(&r).as_str()), (401, expected));
        assert!(
            host.recorded().is_empty(),
            "nothing recorded for {expected}"
        );
        assert!(wake.is_none());
    }
}

#[test]
fn without_a_configured_secret_it_is_read_from_replicate_once() {
    let host = Host::new().serving_secret(WHSEC);
    let ctx = ctx(&[]);
    let secrets = SecretCache::default();
    let body = prediction("succeeded").to_string();
    for _ in 0..2 {
        let (r, _) = send(
            &ctx,
            &host,
            &secrets,
            &delivery(WHSEC, NOW_SECS, body.as_bytes()),
            body.as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    assert_eq!(
        *host.sent.borrow(),
        ["GET https://api.replicate.com/v1/webhooks/default/secret"],
        "fetched once for the isolate"
    );
}

#[test]
fn forged_deliveries_cannot_make_it_fetch_the_secret_again_and_again() {
    let host = Host::new().serving_secret(WHSEC).serving_secret(WHSEC);
    let ctx = ctx(&[]);
    let secrets = SecretCache::default();
    let forged = prediction("succeeded").to_string();
    let other = "whsec_".to_owned() + "b3RoZXIgc2VjcmV0IG9mIHNvbWVvbmUgZWxzZQ==";
    for _ in 0..5 {
        let (r, _) = send(
            &ctx,
            &host,
            &secrets,
            &delivery(&other, NOW_SECS, forged.as_bytes()),
            forged.as_bytes(),
        );
        assert_eq!(r.status, 401);
    }
    assert_eq!(
        host.sent.borrow().len(),
        1,
        "one fetch, however many forgeries"
    );
    // A rotated secret is picked up once the last fetch is five minutes old.
    host.platform.now_set(NOW_MS + 301_000.0);
    let (r, _) = send(
        &ctx,
        &host,
        &secrets,
        &delivery(&other, NOW_SECS + 301, forged.as_bytes()),
        forged.as_bytes(),
    );
    assert_eq!(r.status, 401);
    assert_eq!(host.sent.borrow().len(), 2);
    assert!(host.recorded().is_empty());
}

#[test]
fn no_secret_anywhere_is_a_503_so_replicate_retries() {
    let host = Host::new(); // the secret endpoint is unreachable
    let body = prediction("succeeded").to_string();
    let (r, _) = send(
        &ctx(&[]),
        &host,
        &SecretCache::default(),
        &delivery(WHSEC, NOW_SECS, body.as_bytes()),
        body.as_bytes(),
    );
    assert_eq!(
        (r.status, code(&r).as_str()),
        (503, "webhook_secret_unavailable")
    );
    assert!(host.recorded().is_empty());
}

#[test]
fn a_signed_delivery_without_the_mark_is_acknowledged_and_ignored() {
    let host = Host::new();
    let body = prediction("succeeded").to_string();
    let mut head = delivery(WHSEC, NOW_SECS, body.as_bytes());
    head.query = "generation_id=not-a-uuid&attempt=1".into();
    let (r, wake) = send(
        &with_secret(),
        &host,
        &SecretCache::default(),
        &head,
        body.as_bytes(),
    );
    assert_eq!(r.status, 200);
    assert!(r.body.contains("ignored"));
    assert!(host.recorded().is_empty() && wake.is_none());
}

#[test]
fn a_signed_body_that_is_no_prediction_is_a_400() {
    for body in [
        "not json".to_owned(),
        serde_json::json!({"status": "succeeded"}).to_string(),
        serde_json::json!({"id": "p1", "status": "done"}).to_string(),
    ] {
        let host = Host::new();
        let (r, _) = send(
            &with_secret(),
            &host,
            &SecretCache::default(),
            &delivery(WHSEC, NOW_SECS, body.as_bytes()),
            body.as_bytes(),
        );
        assert_eq!(
            (r.status, code(&r).as_str()),
            (400, "invalid_prediction"),
            "{body}"
        );
        assert!(host.recorded().is_empty());
    }
}

#[test]
fn a_database_failure_is_a_5xx_so_replicate_retries() {
    let host = Host {
        db_answer: Err(RpcError::Unavailable("connection refused".into())),
        ..Host::new()
    };
    let (r, wake) = send_signed(&host, "succeeded");
    assert_eq!(r.status, 503);
    assert!(wake.is_none());
}

#[test]
fn only_post_is_accepted_and_oversized_deliveries_are_refused_unread() {
    let host = Host::new();
    let (r, _) = send(
        &with_secret(),
        &host,
        &SecretCache::default(),
        &RequestHead::new("GET", []),
        b"",
    );
    assert_eq!(r.status, 405);
    let big = vec![b' '; MAX_DELIVERY_BYTES + 1];
    let (r, _) = send(
        &with_secret(),
        &host,
        &SecretCache::default(),
        &delivery(WHSEC, NOW_SECS, &big),
        &big,
    );
    assert_eq!(r.status, 413);
    assert!(host.recorded().is_empty());
}

#[test]
fn unsigned_and_stale_deliveries_are_refused_before_any_secret_is_read() {
    let body = prediction("succeeded").to_string();
    for head in [
        RequestHead::new("POST", []),
        delivery(WHSEC, NOW_SECS - 400, body.as_bytes()),
    ] {
        let host = Host::new().serving_secret(WHSEC);
        let (r, _) = send(
            &ctx(&[]),
            &host,
            &SecretCache::default(),
            &head,
            body.as_bytes(),
        );
        assert_eq!(r.status, 401);
        assert!(host.sent.borrow().is_empty(), "no secret fetched");
    }
}

#[test]
fn deliveries_arriving_together_share_one_read_of_the_secret() {
    let host = Host::new().serving_secret(WHSEC);
    let (ctx, secrets) = (ctx(&[]), SecretCache::default());
    let body = prediction("succeeded").to_string();
    let head = delivery(WHSEC, NOW_SECS, body.as_bytes());
    let ((first, _), (second, _)) = block_on(futures_util::future::join(
        handle(&ctx, &host, &secrets, &head, body.clone().into_bytes()),
        handle(&ctx, &host, &secrets, &head, body.clone().into_bytes()),
    ));
    assert_eq!((first.status, second.status), (200, 200));
    assert_eq!(host.sent.borrow().len(), 1, "one read for both");
}
