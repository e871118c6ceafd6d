use super::*;
use crate::ports::{HttpError, HttpRequest, HttpResponse, RpcError, SqlArg, Timer};
use crate::replicate::client::ReplicateApi;
use crate::testing::block_on;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

const GENERATION: &str = "0b0e8a4e-8d5e-4a55-a3b4-2c1f1f7d9c01";
const NOW: f64 = 1_800_000_000_000.0;

/// Clock, scripted Replicate and a recording database in one host, like the wasm host.
struct Host {
    now: Cell<f64>,
    answers: RefCell<VecDeque<Result<HttpResponse, HttpError>>>,
    requests: RefCell<Vec<HttpRequest>>,
    rpc_calls: RefCell<Vec<(String, Vec<SqlArg>)>>,
    record_answer: RefCell<serde_json::Value>,
}

impl Host {
    fn new() -> Self {
        Self {
            now: Cell::new(NOW),
            answers: RefCell::default(),
            requests: RefCell::default(),
            rpc_calls: RefCell::default(),
            record_answer: RefCell::new(serde_json::json!({"outcome": "recorded"})),
        }
    }
    fn then(self, status: u16, body: serde_json::Value) -> Self {
        self.answers.borrow_mut().push_back(Ok(HttpResponse {
            status,
            headers: vec![],
            body: body.to_string().into_bytes(),
        }));
        self
    }
    fn then_error(self, e: HttpError) -> Self {
        self.answers.borrow_mut().push_back(Err(e));
        self
    }
    fn sent(&self) -> Vec<String> {
        self.requests
            .borrow()
            .iter()
            .map(|r| format!("{} {}", r.method, r.url))
            .collect()
    }
    fn rpc(&self) -> Vec<String> {
        self.rpc_calls
            .borrow()
            .iter()
            .map(|(f, a)| format!("{f}({})", a[1].value.clone().unwrap_or_default()))
            .collect()
    }
    fn created_input(&self) -> serde_json::Value {
        let requests = self.requests.borrow();
        let post = requests
            .iter()
            .find(|r| r.method == "POST" && r.url.ends_with("/predictions"))
            .unwrap();
        serde_json::from_slice::<serde_json::Value>(post.body.as_ref().unwrap()).unwrap()["input"]
            .clone()
    }
}

impl Platform for Host {
    fn now_ms(&self) -> f64 {
        self.now.get()
    }
    fn monotonic_ms(&self) -> f64 {
        self.now.get()
    }
    fn random_id(&self) -> String {
        "r".into()
    }
    fn log(&self, _: &str) {}
    fn random_unit(&self) -> f64 {
        0.5
    }
}

impl Timer for Host {
    async fn sleep_ms(&self, ms: u64) {
        self.now.set(self.now.get() + ms as f64);
    }
}

impl HttpClient for Host {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        self.requests.borrow_mut().push(request);
        self.answers
            .borrow_mut()
            .pop_front()
            .expect("script ran out")
    }
}

impl Rpc for Host {
    async fn call(
        &self,
        function: &'static str,
        args: &[SqlArg],
    ) -> Result<Vec<serde_json::Value>, RpcError> {
        self.rpc_calls
            .borrow_mut()
            .push((function.to_owned(), args.to_vec()));
        Ok(vec![match function {
            "record_prediction" => self.record_answer.borrow().clone(),
            _ => serde_json::json!({"outcome": "cleared"}),
        }])
    }
}

fn generation(prediction: Option<&str>) -> StoredGeneration {
    serde_json::from_value(serde_json::json!({
        "id": GENERATION, "user_id": "6f1c2a52-1d8a-4c52-9f59-0d8e0c3a4b11", "prompt": "a lighthouse at dusk",
        "replicate_model": "black-forest-labs/flux-schnell", "params": {"width": 1024, "height": 1024, "num_outputs": 1},
        "status": "pending", "replicate_prediction_id": prediction, "created_at": "2026-11-28T23:00:00+00:00",
    }))
    .unwrap()
}

fn prediction(id: &str, status: &str, error: Option<&str>) -> serde_json::Value {
    serde_json::json!({
        "id": id, "model": "black-forest-labs/flux-schnell", "version": "hidden", "input": {}, "status": status,
        "output": if status == "succeeded" { serde_json::json!(["https://replicate.delivery/p/out-0.webp"]) } else { serde_json::Value::Null },
        "error": error, "created_at": "2026-11-28T23:00:01Z", "urls": {"get": "g", "cancel": "c"},
    })
}

const DEADLINES: Deadlines = Deadlines {
    budget_ms: NOW + 140_000.0,
    give_up_ms: NOW + 600_000.0,
};

fn run(
    host: &Host,
    generation: &StoredGeneration,
    search_first: bool,
    deadlines: Deadlines,
) -> Result<PredictionDone, RunError> {
    let api = ReplicateApi {
        base: "https://api.replicate.com/v1".into(),
        token: "r8".into(),
    };
    let replicate = Replicate::new(&api, host, host, host);
    block_on(run_prediction(
        host,
        &replicate,
        generation,
        search_first,
        deadlines,
    ))
}

#[test]
fn a_new_generation_creates_records_and_polls() {
    let host = Host::new()
        .then(202, prediction("p1", "starting", None))
        .then(200, prediction("p1", "processing", None))
        .then(200, prediction("p1", "succeeded", None));
    let done = run(&host, &generation(None), false, DEADLINES).unwrap();
    assert_eq!(done.outputs, ["https://replicate.delivery/p/out-0.webp"]);
    assert!(!done.resumed);
    assert_eq!(
        host.sent()[0],
        "POST https://api.replicate.com/v1/models/black-forest-labs/flux-schnell/predictions"
    );
    assert_eq!(
        host.rpc(),
        ["record_prediction(p1)"],
        "the id is stored before polling"
    );
    let input = host.created_input();
    assert_eq!(input["prompt"], "a lighthouse at dusk");
    assert_eq!(
        input["seed"],
        0x0b0e_8a4e_u32 & 0x7fff_ffff,
        "seed derived from the generation id"
    );
    let requests = host.requests.borrow();
    assert!(
        requests[0]
            .headers
            .contains(&("cancel-after", "600s".into())),
        "Cancel-After from the give-up time"
    );
    assert!(
        requests[0].headers.contains(&("prefer", "wait=5".into())),
        "a short hold: the id is recorded soon"
    );
}

#[test]
fn a_recorded_prediction_is_resumed_never_created_again() {
    let host = Host::new().then(200, prediction("p1", "succeeded", None));
    let done = run(&host, &generation(Some("p1")), true, DEADLINES).unwrap();
    assert!(done.resumed);
    assert_eq!(
        host.sent(),
        ["GET https://api.replicate.com/v1/predictions/p1"]
    );
    assert!(host.rpc().is_empty());
}

#[test]
fn after_a_lost_create_the_prediction_is_found_by_its_input() {
    // Work out the exact input the first attempt sent, then answer the search with it.
    let probe = Host::new().then(201, prediction("p1", "succeeded", None));
    run(&probe, &generation(None), false, DEADLINES).unwrap();
    let mut found = prediction("p1", "processing", None);
    found["input"] = probe.created_input();
    let host = Host::new()
        .then(
            200,
            serde_json::json!({"previous": null, "next": null, "results": [found]}),
        )
        .then(200, prediction("p1", "succeeded", None));
    let done = run(&host, &generation(None), true, DEADLINES).unwrap();
    assert!(done.resumed);
    assert_eq!(
        host.sent(),
        [
            "GET https://api.replicate.com/v1/predictions",
            "GET https://api.replicate.com/v1/predictions/p1"
        ]
    );
    assert_eq!(host.rpc(), ["record_prediction(p1)"]);
}

#[test]
fn nothing_found_means_one_create() {
    let host = Host::new()
        .then(
            200,
            serde_json::json!({"previous": null, "next": null, "results": []}),
        )
        .then(201, prediction("p2", "succeeded", None));
    run(&host, &generation(None), true, DEADLINES).unwrap();
    assert_eq!(
        host.sent().iter().filter(|s| s.starts_with("POST")).count(),
        1
    );
}

#[test]
fn an_uncertain_create_is_a_retry_without_a_second_post() {
    let host = Host::new().then_error(HttpError::Timeout);
    let e = run(&host, &generation(None), false, DEADLINES).unwrap_err();
    assert!(matches!(e, RunError::Retry { .. }), "{e:?}");
    assert_eq!(host.sent().len(), 1);
    assert!(host.rpc().is_empty());
}

#[test]
fn a_retryable_model_failure_forgets_the_prediction() {
    let host = Host::new().then(
        201,
        prediction("p1", "failed", Some("E6716: Timed out starting model")),
    );
    let e = run(&host, &generation(None), false, DEADLINES).unwrap_err();
    assert!(matches!(e, RunError::Retry { .. }));
    assert_eq!(
        host.rpc(),
        ["record_prediction(p1)", "clear_prediction(p1)"]
    );
}

#[test]
fn nsfw_is_final_with_a_readable_message() {
    let host = Host::new().then(
        201,
        prediction("p1", "failed", Some(crate::replicate::schema::NSFW_FLUX)),
    );
    match run(&host, &generation(None), false, DEADLINES) {
        Err(RunError::Fail {
            code: "nsfw",
            message,
        }) => assert!(message.contains("safety filter")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn throttling_is_a_retry_at_replicates_time() {
    let host = Host::new().then(
        429,
        serde_json::json!({"detail": "throttled", "status": 429, "retry_after": 90}),
    );
    assert_eq!(
        run(&host, &generation(None), false, DEADLINES).unwrap_err(),
        RunError::Retry {
            message: "Replicate is busy (rate limited); retrying in 90 s".into(),
            retry_in_secs: Some(90)
        }
    );
}

#[test]
fn out_of_budget_hands_back_a_running_prediction() {
    let mut host = Host::new().then(202, prediction("p1", "starting", None));
    for _ in 0..200 {
        host = host.then(200, prediction("p1", "processing", None));
    }
    let deadlines = Deadlines {
        budget_ms: NOW + 20_000.0,
        give_up_ms: NOW + 600_000.0,
    };
    let e = run(&host, &generation(None), false, deadlines).unwrap_err();
    assert!(
        matches!(e, RunError::StillRunning { .. }),
        "not a failure: {e:?}"
    );
    assert!(
        !host.sent().iter().any(|s| s.ends_with("/cancel")),
        "not canceled: the next attempt resumes it"
    );
}

#[test]
fn past_the_give_up_time_the_prediction_is_canceled() {
    let mut host = Host::new().then(202, prediction("p1", "starting", None));
    for _ in 0..200 {
        host = host.then(200, prediction("p1", "starting", None));
    }
    host = host.then(200, prediction("p1", "canceled", None));
    let deadlines = Deadlines {
        budget_ms: NOW + 140_000.0,
        give_up_ms: NOW + 30_000.0,
    };
    match run(&host, &generation(None), false, deadlines) {
        Err(RunError::Fail {
            code: "prediction_timed_out",
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    assert!(host
        .sent()
        .iter()
        .any(|s| s == "POST https://api.replicate.com/v1/predictions/p1/cancel"));
}

#[test]
fn a_concurrent_runner_cancels_its_own_duplicate() {
    let host = Host::new()
        .then(201, prediction("p9", "starting", None))
        .then(200, serde_json::json!({}));
    *host.record_answer.borrow_mut() =
        serde_json::json!({"outcome": "conflict", "replicate_prediction_id": "p1"});
    let e = run(&host, &generation(None), false, DEADLINES).unwrap_err();
    assert!(matches!(
        e,
        RunError::Retry {
            retry_in_secs: Some(0),
            ..
        }
    ));
    assert!(host
        .sent()
        .contains(&"POST https://api.replicate.com/v1/predictions/p9/cancel".to_owned()));
}

#[test]
fn a_pinned_version_is_created_by_version() {
    const V: &str = "c63e8a1037b9e90ce614e30bb44c837e1b1e86bb1f0adc6f1bb7f0e3ad088e3f";
    let host = Host::new().then(201, prediction("p1", "succeeded", None));
    let mut g = generation(None);
    g.params["model_version"] = V.into();
    run(&host, &g, false, DEADLINES).unwrap();
    assert_eq!(
        host.sent()[0],
        "POST https://api.replicate.com/v1/predictions"
    );
    let requests = host.requests.borrow();
    let body: serde_json::Value =
        serde_json::from_slice(requests[0].body.as_ref().unwrap()).unwrap();
    assert_eq!(
        body["version"],
        format!("black-forest-labs/flux-schnell:{V}")
    );
}

#[test]
fn settings_the_catalog_no_longer_accepts_fail_clearly() {
    let mut g = generation(None);
    g.replicate_model = Some("acme/retired-model".into());
    match run(&Host::new(), &g, false, DEADLINES) {
        Err(RunError::Fail {
            code: "unsupported_settings",
            message,
        }) => assert!(message.contains("no longer supported")),
        other => panic!("{other:?}"),
    }
}
