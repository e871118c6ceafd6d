use super::*;
use crate::ports::{HttpError, HttpRequest, HttpResponse, Platform, Timer};
use crate::replicate::{find_model, OwnerMark};
use crate::testing::block_on;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

/// A clock that only moves when someone sleeps, and records the sleeps.
struct Clock {
    now: Cell<f64>,
    sleeps: RefCell<Vec<u64>>,
}

impl Clock {
    fn new() -> Self {
        Self {
            now: Cell::new(1_000_000.0),
            sleeps: RefCell::default(),
        }
    }
}

impl Platform for Clock {
    fn now_ms(&self) -> f64 {
        self.now.get()
    }
    fn monotonic_ms(&self) -> f64 {
        self.now.get()
    }
    fn random_id(&self) -> String {
        "id".into()
    }
    fn log(&self, _: &str) {}
    fn random_unit(&self) -> f64 {
        0.5
    }
}

impl Timer for Clock {
    async fn sleep_ms(&self, ms: u64) {
        self.sleeps.borrow_mut().push(ms);
        self.now.set(self.now.get() + ms as f64);
    }
}

/// Answers requests from a script, in order, and records them.
#[derive(Default)]
struct Script {
    answers: RefCell<VecDeque<Result<HttpResponse, HttpError>>>,
    requests: RefCell<Vec<HttpRequest>>,
}

impl Script {
    fn then(self, status: u16, body: serde_json::Value) -> Self {
        self.answers.borrow_mut().push_back(Ok(HttpResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }));
        self
    }
    fn then_header(self, status: u16, header: (&str, &str)) -> Self {
        self.answers.borrow_mut().push_back(Ok(HttpResponse {
            status,
            headers: vec![(header.0.into(), header.1.into())],
            body: Vec::new(),
        }));
        self
    }
    fn then_error(self, e: HttpError) -> Self {
        self.answers.borrow_mut().push_back(Err(e));
        self
    }
    fn methods(&self) -> Vec<&'static str> {
        self.requests.borrow().iter().map(|r| r.method).collect()
    }
}

impl HttpClient for Script {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        self.requests.borrow_mut().push(request);
        self.answers
            .borrow_mut()
            .pop_front()
            .expect("the script ran out of answers")
    }
}

fn api() -> ReplicateApi {
    ReplicateApi {
        base: "https://api.replicate.com/v1".into(),
        token: "r8_test".into(),
    }
}

fn prediction(id: &str, status: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id, "model": "black-forest-labs/flux-schnell", "version": "hidden",
        "input": {"prompt": "a fox"}, "status": status,
        "output": if status == "succeeded" { serde_json::json!(["https://replicate.delivery/x/out-0.webp"]) } else { serde_json::Value::Null },
        "created_at": "2026-11-28T00:00:00.000Z",
        "urls": {"get": format!("https://api.replicate.com/v1/predictions/{id}"), "cancel": "c"},
    })
}

const FAR: f64 = 1e12;
const OPTIONS: CreateOptions = CreateOptions {
    wait_secs: 60,
    cancel_after_secs: Some(600),
    webhook: None,
};

fn schnell() -> &'static ModelSchema {
    find_model("black-forest-labs/flux-schnell").unwrap()
}

#[test]
fn create_official_model_sends_the_documented_request() {
    let http = Script::default().then(201, prediction("p1", "succeeded"));
    let clock = Clock::new();
    let api = api();
    let client = Replicate::new(&api, &http, &clock, &clock);
    let p = block_on(client.create(
        schnell(),
        &serde_json::json!({"prompt": "a fox"}),
        OPTIONS,
        FAR,
    ))
    .unwrap();
    assert_eq!(p.id, "p1");
    let requests = http.requests.borrow();
    let r = &requests[0];
    assert_eq!(
        (r.method, r.url.as_str()),
        (
            "POST",
            "https://api.replicate.com/v1/models/black-forest-labs/flux-schnell/predictions"
        )
    );
    assert!(r
        .headers
        .contains(&("authorization", "Bearer r8_test".into())));
    assert!(r.headers.contains(&("prefer", "wait=60".into())));
    assert!(r.headers.contains(&("cancel-after", "600s".into())));
    let body: serde_json::Value = serde_json::from_slice(r.body.as_ref().unwrap()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"input": {"prompt": "a fox"}}),
        "official endpoints take only input"
    );
    assert!(r.timeout_ms > 60_000, "the timeout covers the wait");
}

#[test]
fn create_community_model_pins_its_version() {
    let model = find_model("bytedance/sdxl-lightning-4step").unwrap();
    let http = Script::default().then(202, prediction("p2", "starting"));
    let clock = Clock::new();
    let api = api();
    block_on(Replicate::new(&api, &http, &clock, &clock).create(
        model,
        &serde_json::json!({"prompt": "x"}),
        OPTIONS,
        FAR,
    ))
    .unwrap();
    let requests = http.requests.borrow();
    assert_eq!(requests[0].url, "https://api.replicate.com/v1/predictions");
    let body: serde_json::Value =
        serde_json::from_slice(requests[0].body.as_ref().unwrap()).unwrap();
    assert_eq!(body["version"].as_str().map(str::len), Some(64));
}

#[test]
fn a_pinned_version_is_created_by_version_for_official_and_community_models() {
    const V: &str = "c63e8a1037b9e90ce614e30bb44c837e1b1e86bb1f0adc6f1bb7f0e3ad088e3f";
    for id in ["black-forest-labs/flux-schnell", "stability-ai/sdxl"] {
        let http = Script::default().then(201, prediction("p3", "succeeded"));
        let clock = Clock::new();
        let api = api();
        block_on(Replicate::new(&api, &http, &clock, &clock).create_version(
            find_model(id).unwrap(),
            Some(V),
            &serde_json::json!({"prompt": "x"}),
            OPTIONS,
            FAR,
        ))
        .unwrap();
        let requests = http.requests.borrow();
        assert_eq!(requests[0].url, "https://api.replicate.com/v1/predictions");
        let body: serde_json::Value =
            serde_json::from_slice(requests[0].body.as_ref().unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"version": format!("{id}:{V}"), "input": {"prompt": "x"}})
        );
    }
}

#[test]
fn a_throttled_create_is_sent_again_after_retry_after() {
    let http = Script::default()
        .then(429, serde_json::json!({"detail": "Request was throttled.", "status": 429, "retry_after": 3}))
        .then(201, prediction("p1", "succeeded"));
    let clock = Clock::new();
    let api = api();
    let p = block_on(Replicate::new(&api, &http, &clock, &clock).create(
        schnell(),
        &serde_json::json!({}),
        OPTIONS,
        FAR,
    ));
    assert_eq!(p.unwrap().id, "p1");
    assert_eq!(http.methods(), ["POST", "POST"]);
    assert_eq!(*clock.sleeps.borrow(), [3000]);
}

#[test]
fn a_long_throttle_or_a_close_deadline_is_handed_back() {
    let http = Script::default().then(
        429,
        serde_json::json!({"detail": "slow down", "status": 429, "retry_after": 120}),
    );
    let clock = Clock::new();
    let api = api();
    let e = block_on(Replicate::new(&api, &http, &clock, &clock).create(
        schnell(),
        &serde_json::json!({}),
        OPTIONS,
        FAR,
    ));
    assert_eq!(
        e.unwrap_err(),
        ReplicateError::Throttled {
            retry_after_secs: 120
        }
    );
    let http = Script::default().then_header(429, ("retry-after", "5"));
    let near = clock.now_ms() + 2000.0;
    let e = block_on(Replicate::new(&api, &http, &clock, &clock).create(
        schnell(),
        &serde_json::json!({}),
        OPTIONS,
        near,
    ));
    assert_eq!(
        e.unwrap_err(),
        ReplicateError::Throttled {
            retry_after_secs: 5
        },
        "Retry-After header honoured"
    );
    assert!(clock.sleeps.borrow().is_empty());
}

#[test]
fn an_uncertain_create_is_never_sent_twice() {
    let api = api();
    for http in [
        Script::default().then(503, serde_json::json!({"title": "Service Unavailable", "status": 503, "detail": "overloaded"})),
        Script::default().then_error(HttpError::Network("connection reset".into())),
        Script::default().then_error(HttpError::Timeout),
    ] {
        let clock = Clock::new();
        let e = block_on(Replicate::new(&api, &http, &clock, &clock).create(schnell(), &serde_json::json!({}), OPTIONS, FAR));
        assert!(matches!(e, Err(ReplicateError::CreateUncertain(_))), "{e:?}");
        assert_eq!(http.methods(), ["POST"]);
    }
}

#[test]
fn invalid_input_and_bad_tokens_are_permanent() {
    let api = api();
    let clock = Clock::new();
    let http = Script::default().then(
        422,
        serde_json::json!({"title": "Input validation failed", "status": 422, "detail": "- input: prompt is required\n",
            "invalid_fields": [{"type": "required", "field": "input", "description": "prompt is required"}]}),
    );
    match block_on(Replicate::new(&api, &http, &clock, &clock).create(
        schnell(),
        &serde_json::json!({}),
        OPTIONS,
        FAR,
    )) {
        Err(ReplicateError::Permanent {
            code: "replicate_invalid_input",
            message,
        }) => {
            assert!(message.contains("prompt is required"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let http = Script::default().then(
        401,
        serde_json::json!({"detail": "Invalid token.", "status": 401}),
    );
    let e = block_on(Replicate::new(&api, &http, &clock, &clock).get("p1", FAR));
    assert!(matches!(
        e,
        Err(ReplicateError::Permanent {
            code: "replicate_unauthorized",
            ..
        })
    ));
}

#[test]
fn gets_retry_5xx_and_network_errors_with_growing_backoff() {
    let http = Script::default()
        .then(500, serde_json::json!({}))
        .then_error(HttpError::Network("reset".into()))
        .then(502, serde_json::json!({}))
        .then(200, prediction("p1", "processing"));
    let clock = Clock::new();
    let api = api();
    let p = block_on(Replicate::new(&api, &http, &clock, &clock).get("p1", FAR)).unwrap();
    assert_eq!(p.id, "p1");
    assert_eq!(
        *clock.sleeps.borrow(),
        [500, 1000, 2000],
        "doubling backoff (jitter centred by the fake)"
    );
    assert_eq!(
        http.requests.borrow()[0].url,
        "https://api.replicate.com/v1/predictions/p1"
    );
}

#[test]
fn gets_honour_retry_after_and_give_up_eventually() {
    let http = Script::default()
        .then(
            429,
            serde_json::json!({"detail": "throttled", "status": 429, "retry_after": 2}),
        )
        .then(200, prediction("p1", "processing"));
    let clock = Clock::new();
    let api = api();
    block_on(Replicate::new(&api, &http, &clock, &clock).get("p1", FAR)).unwrap();
    assert_eq!(*clock.sleeps.borrow(), [2000]);

    let mut http = Script::default();
    for _ in 0..5 {
        http = http.then(503, serde_json::json!({}));
    }
    let e = block_on(Replicate::new(&api, &http, &clock, &clock).get("p1", FAR));
    assert!(matches!(e, Err(ReplicateError::Transient(_))));
    assert_eq!(http.requests.borrow().len(), 5);

    let http = Script::default().then(
        404,
        serde_json::json!({"detail": "Not found.", "status": 404}),
    );
    assert!(matches!(
        block_on(Replicate::new(&api, &http, &clock, &clock).get("gone", FAR)),
        Err(ReplicateError::Permanent {
            code: "replicate_not_found",
            ..
        })
    ));
}

#[test]
fn polling_starts_at_500ms_and_slows_down() {
    let http = Script::default()
        .then(200, prediction("p1", "processing"))
        .then(200, prediction("p1", "processing"))
        .then(200, prediction("p1", "succeeded"));
    let clock = Clock::new();
    let api = api();
    let start: Prediction = serde_json::from_value(prediction("p1", "starting")).unwrap();
    let done =
        block_on(Replicate::new(&api, &http, &clock, &clock).wait_until_done(start, FAR)).unwrap();
    assert_eq!(done.status, crate::replicate::PredictionStatus::Succeeded);
    assert_eq!(*clock.sleeps.borrow(), [500, 750, 1125]);
}

#[test]
fn polling_stops_at_the_deadline_with_the_last_state() {
    let mut http = Script::default();
    for _ in 0..20 {
        http = http.then(200, prediction("p1", "starting"));
    }
    let clock = Clock::new();
    let api = api();
    let start: Prediction = serde_json::from_value(prediction("p1", "starting")).unwrap();
    let until = clock.now_ms() + 4000.0;
    let last = block_on(Replicate::new(&api, &http, &clock, &clock).wait_until_done(start, until))
        .unwrap();
    assert!(!last.status.is_terminal());
    assert!(
        clock.now_ms() <= until + 1.0,
        "never sleeps past the deadline"
    );
}

#[test]
fn a_marked_create_sends_its_webhook_for_the_completed_event_only() {
    let http = Script::default().then(201, prediction("p1", "succeeded"));
    let clock = Clock::new();
    let api = api();
    let options = CreateOptions {
        webhook: Some("https://x/functions/v1/replicate-webhook?generation_id=g&attempt=1"),
        ..OPTIONS
    };
    block_on(Replicate::new(&api, &http, &clock, &clock).create(
        schnell(),
        &serde_json::json!({"prompt": "a fox"}),
        options,
        FAR,
    ))
    .unwrap();
    let requests = http.requests.borrow();
    let body: serde_json::Value =
        serde_json::from_slice(requests[0].body.as_ref().unwrap()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"input": {"prompt": "a fox"},
            "webhook": "https://x/functions/v1/replicate-webhook?generation_id=g&attempt=1",
            "webhook_events_filter": ["completed"]})
    );
}

const GEN: &str = "0b0e8a4e-8d5e-4a55-a3b4-2c1f1f7d9c01";

fn mark(n: u32) -> OwnerMark {
    OwnerMark {
        generation_id: GEN.parse().unwrap(),
        create_number: n,
    }
}

/// A list entry created at `created_at`, with `webhook` shown when given.
fn entry(id: &str, created_at: &str, webhook: Option<String>) -> serde_json::Value {
    let mut p = prediction(id, "processing");
    p["created_at"] = created_at.into();
    if let Some(w) = webhook {
        p["webhook"] = w.into();
    }
    p
}

fn hook(n: u32) -> String {
    format!("https://x/functions/v1/replicate-webhook?generation_id={GEN}&attempt={n}")
}

/// 2026-11-28T00:00:00Z minus a minute: the window of the entries above.
const WINDOW_START: f64 = 1_795_823_940_000.0;

#[test]
fn find_by_mark_reads_listed_marks_and_fetches_unlisted_ones() {
    let next = "https://api.replicate.com/v1/predictions?cursor=Mg";
    let http = Script::default()
        .then(
            200,
            serde_json::json!({"previous": null, "next": next, "results": [
                entry("listed-other", "2026-11-28T00:00:09Z", Some(hook(2))),
                entry("unlisted", "2026-11-28T00:00:08Z", None),
            ]}),
        )
        .then(
            200,
            entry("unlisted", "2026-11-28T00:00:08Z", Some(hook(3))),
        )
        .then(
            200,
            serde_json::json!({"previous": null, "next": null, "results": [
                entry("mine", "2026-11-28T00:00:01Z", Some(hook(1))),
            ]}),
        );
    let clock = Clock::new();
    let api = api();
    let found = block_on(Replicate::new(&api, &http, &clock, &clock).find_by_mark(
        schnell(),
        "a fox",
        mark(1),
        WINDOW_START,
        FAR,
    ))
    .unwrap();
    assert!(matches!(found, MarkSearch::Found(p) if p.id == "mine"));
    let urls: Vec<String> = http
        .requests
        .borrow()
        .iter()
        .map(|r| r.url.clone())
        .collect();
    assert_eq!(
        urls,
        [
            "https://api.replicate.com/v1/predictions",
            "https://api.replicate.com/v1/predictions/unlisted",
            next,
        ]
    );
}

#[test]
fn find_by_mark_stops_at_the_window_start_and_skips_other_prompts() {
    let mut other_prompt = entry("other-prompt", "2026-11-28T00:00:05Z", None);
    other_prompt["input"]["prompt"] = "a hen".into();
    let http = Script::default().then(
        200,
        serde_json::json!({"previous": null, "next": "https://api.replicate.com/v1/predictions?cursor=Mg",
            "results": [other_prompt, entry("before", "2026-11-27T23:58:00Z", Some(hook(1)))]}),
    );
    let clock = Clock::new();
    let api = api();
    let found = block_on(Replicate::new(&api, &http, &clock, &clock).find_by_mark(
        schnell(),
        "a fox",
        mark(1),
        WINDOW_START,
        FAR,
    ))
    .unwrap();
    assert_eq!(
        found,
        MarkSearch::NotInWindow,
        "older than the window: not this create's"
    );
    assert_eq!(http.requests.borrow().len(), 1, "no GET, no second page");
}

#[test]
fn find_by_mark_past_its_deadline_is_unfinished() {
    let http = Script::default();
    let clock = Clock::new();
    let api = api();
    let e = block_on(Replicate::new(&api, &http, &clock, &clock).find_by_mark(
        schnell(),
        "a fox",
        mark(1),
        WINDOW_START,
        clock.now_ms(),
    ));
    assert!(matches!(e, Err(ReplicateError::Transient(_))), "{e:?}");
}
