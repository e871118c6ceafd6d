use super::*;
use crate::ports::{HttpError, HttpRequest, HttpResponse, Platform, Timer};
use crate::replicate::find_model;
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
fn find_recent_matches_model_and_exact_input() {
    let mut mine = prediction("mine", "processing");
    mine["input"] = serde_json::json!({"prompt": "a fox", "seed": 7});
    let mut other = prediction("other", "processing");
    other["input"] = serde_json::json!({"prompt": "a fox", "seed": 8});
    let list = serde_json::json!({"previous": null, "next": null, "results": [other, mine]});
    let clock = Clock::new();
    let api = api();
    let http = Script::default().then(200, list.clone());
    let found = block_on(Replicate::new(&api, &http, &clock, &clock).find_recent(
        schnell(),
        &serde_json::json!({"prompt": "a fox", "seed": 7}),
        FAR,
    ))
    .unwrap();
    assert_eq!(found.map(|p| p.id).as_deref(), Some("mine"));
    let http = Script::default().then(200, list);
    let none = block_on(Replicate::new(&api, &http, &clock, &clock).find_recent(
        schnell(),
        &serde_json::json!({"prompt": "a fox", "seed": 9}),
        FAR,
    ))
    .unwrap();
    assert!(none.is_none());
}
