use super::*;
use crate::ports::{HttpError, HttpRequest, HttpResponse, RpcError, SqlArg, Timer};
use crate::replicate::client::ReplicateApi;
use crate::replicate::WebhookBase;
use crate::testing::block_on;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

const GENERATION: &str = "0b0e8a4e-8d5e-4a55-a3b4-2c1f1f7d9c01";
const OTHER_GENERATION: &str = "7c9d2b1a-0000-4000-8000-000000000777";
/// 2027-01-15T08:00:00Z, the clock of every test.
const NOW: f64 = 1_800_000_000_000.0;
/// When the lost create was sent: 40 s before NOW.
const SENT_AT: &str = "2027-01-15T07:59:20+00:00";
const BASE: &str = "https://abc.supabase.co";

/// Clock, scripted Replicate and a recording database in one host, like the wasm host.
struct Host {
    now: Cell<f64>,
    answers: RefCell<VecDeque<Result<HttpResponse, HttpError>>>,
    requests: RefCell<Vec<HttpRequest>>,
    rpc_calls: RefCell<Vec<(String, Vec<SqlArg>)>>,
    record_answer: RefCell<serde_json::Value>,
    /// Answers of begin_prediction_create in turn; when none are left, "create 1".
    intents: RefCell<VecDeque<serde_json::Value>>,
    /// What recorded_prediction_outcome answers (a webhook's prediction, or null).
    webhook_outcome: RefCell<serde_json::Value>,
}

impl Host {
    fn new() -> Self {
        Self {
            now: Cell::new(NOW),
            answers: RefCell::default(),
            requests: RefCell::default(),
            rpc_calls: RefCell::default(),
            record_answer: RefCell::new(serde_json::json!({"outcome": "recorded"})),
            intents: RefCell::default(),
            webhook_outcome: RefCell::new(serde_json::Value::Null),
        }
    }
    fn intent(self, answer: serde_json::Value) -> Self {
        self.intents.borrow_mut().push_back(answer);
        self
    }
    /// Create 1 was sent `age_secs` ago at SENT_AT and never recorded.
    fn lost_create(self, age_secs: f64) -> Self {
        self.intent(serde_json::json!({"outcome": "uncertain", "create_number": 1, "sent_at": SENT_AT, "age_secs": age_secs}))
    }
    fn posts(&self) -> Vec<serde_json::Value> {
        self.requests
            .borrow()
            .iter()
            .filter(|r| r.method == "POST" && r.url.ends_with("/predictions"))
            .map(|r| serde_json::from_slice(r.body.as_ref().unwrap()).unwrap())
            .collect()
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
    /// The database calls that change something (reading a webhook's outcome is left out).
    fn rpc(&self) -> Vec<String> {
        self.rpc_calls
            .borrow()
            .iter()
            .filter(|(f, _)| f != "recorded_prediction_outcome")
            .map(|(f, a)| {
                let values: Vec<String> = a[1..]
                    .iter()
                    .map(|a| a.value.clone().unwrap_or_else(|| "null".into()))
                    .collect();
                format!("{f}({})", values.join(","))
            })
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
            "recorded_prediction_outcome" => self.webhook_outcome.borrow().clone(),
            "begin_prediction_create" => self
                .intents
                .borrow_mut()
                .pop_front()
                .unwrap_or_else(|| serde_json::json!({"outcome": "create", "create_number": 1})),
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
    deadlines: Deadlines,
) -> Result<PredictionDone, RunError> {
    run_waiting(host, generation, deadlines, PredictionWait::Poll)
}

fn run_waiting(
    host: &Host,
    generation: &StoredGeneration,
    deadlines: Deadlines,
    wait: PredictionWait,
) -> Result<PredictionDone, RunError> {
    let api = ReplicateApi {
        base: "https://api.replicate.com/v1".into(),
        token: "r8".into(),
    };
    let replicate = Replicate::new(&api, host, host, host);
    let base = WebhookBase::parse(BASE).unwrap();
    block_on(run_prediction(
        host, &replicate, generation, &base, deadlines, wait,
    ))
}

#[test]
fn a_new_generation_creates_records_and_polls() {
    let host = Host::new()
        .then(202, prediction("p1", "starting", None))
        .then(200, prediction("p1", "processing", None))
        .then(200, prediction("p1", "succeeded", None));
    let done = run(&host, &generation(None), DEADLINES).unwrap();
    assert_eq!(done.outputs, ["https://replicate.delivery/p/out-0.webp"]);
    assert!(!done.resumed);
    assert_eq!(
        host.sent()[0],
        "POST https://api.replicate.com/v1/models/black-forest-labs/flux-schnell/predictions"
    );
    assert_eq!(
        host.rpc(),
        ["begin_prediction_create(2,null)", "record_prediction(p1)"],
        "the intent is recorded before the create, the id before polling"
    );
    let body = &host.posts()[0];
    assert_eq!(body["webhook"], mark_url(GENERATION, 1), "the owner mark");
    assert_eq!(
        body["webhook_events_filter"],
        serde_json::json!(["completed"])
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
fn past_its_deadline_a_generation_fails_without_a_create() {
    let host = Host::new();
    let late = Deadlines {
        budget_ms: NOW + 140_000.0,
        give_up_ms: NOW - 1.0,
    };
    match run(&host, &generation(None), late) {
        Err(RunError::Fail { code, .. }) => assert_eq!(code, "deadline_passed"),
        other => panic!("expected deadline_passed, got {other:?}"),
    }
    assert!(host.sent().is_empty(), "nothing sent to Replicate");
    assert!(
        host.rpc().is_empty(),
        "no create intent recorded (so the charge is refunded)"
    );

    // A create whose answer was lost is still looked for, whatever the time: it may be running.
    let mut lost = generation(None);
    lost.prediction_create_sent_at = Some(SENT_AT.into());
    let host = Host::new().lost_create(40.0).then(200, page(vec![], None));
    let _ = run(&host, &lost, late);
    assert_eq!(host.rpc()[0], "begin_prediction_create(2,null)");
}

#[test]
fn a_recorded_prediction_is_resumed_never_created_again() {
    let host = Host::new().then(200, prediction("p1", "succeeded", None));
    let done = run(&host, &generation(Some("p1")), DEADLINES).unwrap();
    assert!(done.resumed);
    assert_eq!(
        host.sent(),
        ["GET https://api.replicate.com/v1/predictions/p1"]
    );
    assert!(host.rpc().is_empty());
}

/// The owner mark's URL for create `n` of `generation`.
fn mark_url(generation: &str, n: u32) -> String {
    format!("{BASE}/functions/v1/replicate-webhook?generation_id={generation}&attempt={n}")
}

/// A list entry created `secs_after_sent` after SENT_AT (negative: before), with the generation's prompt
/// and no `webhook` shown (whether the list shows it is not documented).
fn listed(id: &str, secs_after_sent: i64) -> serde_json::Value {
    let mut p = prediction(id, "processing", None);
    let sent = crate::time::parse_rfc3339_ms(SENT_AT).unwrap() / 1000.0;
    p["created_at"] = rfc3339(sent as i64 + secs_after_sent).into();
    p["input"] = serde_json::json!({"prompt": "a lighthouse at dusk"});
    p
}

fn rfc3339(epoch_secs: i64) -> String {
    // Minutes and seconds around SENT_AT's hour are all these tests need.
    let base = 1_800_000_000 - 3600; // 07:00:00
    let offset = epoch_secs - base;
    assert!((0..7200).contains(&offset), "{offset}");
    format!(
        "2027-01-15T{:02}:{:02}:{:02}Z",
        7 + offset / 3600,
        offset % 3600 / 60,
        offset % 60
    )
}

fn page(results: Vec<serde_json::Value>, next: Option<&str>) -> serde_json::Value {
    serde_json::json!({"previous": null, "next": next, "results": results})
}

fn with_mark(mut p: serde_json::Value, generation: &str, n: u32) -> serde_json::Value {
    p["webhook"] = mark_url(generation, n).into();
    p
}

const NEXT: &str = "https://api.replicate.com/v1/predictions?cursor=cD0yMDI3";

#[test]
fn a_lost_create_is_found_by_its_mark_beyond_a_hundred_newer_predictions() {
    // A busy account: 100 newer predictions of the same model (other prompts) fill the first page.
    let mut newer: Vec<serde_json::Value> = (0..100)
        .map(|i| {
            let mut p = listed(&format!("n{i}"), 30);
            p["input"]["prompt"] = format!("someone else's prompt {i}").into();
            p
        })
        .collect();
    newer[0]["model"] = "stability-ai/sdxl".into();
    let host = Host::new()
        .lost_create(40.0)
        .then(200, page(newer, Some(NEXT)))
        .then(
            200,
            page(vec![listed("mine", 1), listed("old", -120)], None),
        )
        .then(
            200,
            with_mark(prediction("mine", "processing", None), GENERATION, 1),
        )
        .then(200, prediction("mine", "succeeded", None));
    let done = run(&host, &generation(None), DEADLINES).unwrap();
    assert!(done.resumed);
    assert_eq!(done.prediction_id, "mine");
    assert_eq!(
        host.sent(),
        [
            "GET https://api.replicate.com/v1/predictions",
            &format!("GET {NEXT}"),
            "GET https://api.replicate.com/v1/predictions/mine",
            "GET https://api.replicate.com/v1/predictions/mine",
        ],
        "the second page is read; only the candidate is fetched; nothing is created"
    );
    assert_eq!(
        host.rpc(),
        ["begin_prediction_create(2,null)", "record_prediction(mine)"]
    );
}

#[test]
fn another_generations_identical_prediction_is_neither_adopted_nor_cancelled() {
    // Same model, same input (a client seed makes two generations' inputs equal), inside the window, but
    // its mark names another generation (and one of ours names another create).
    let probe = Host::new().then(201, prediction("p1", "succeeded", None));
    run(&probe, &generation(None), DEADLINES).unwrap();
    let mut theirs = listed("theirs", 2);
    theirs["input"] = probe.created_input();
    let mut earlier_create = listed("earlier", 3);
    earlier_create["input"] = probe.created_input();
    let host = Host::new()
        .lost_create(40.0)
        .then(
            200,
            page(
                vec![earlier_create, theirs.clone(), listed("old", -61)],
                Some(NEXT),
            ),
        )
        .then(
            200,
            with_mark(prediction("earlier", "failed", None), GENERATION, 2),
        )
        .then(200, with_mark(theirs, OTHER_GENERATION, 1))
        .then(202, prediction("p2", "starting", None))
        .then(200, prediction("p2", "succeeded", None));
    let done = run(&host, &generation(None), DEADLINES).unwrap();
    assert_eq!(done.prediction_id, "p2");
    assert!(!done.resumed);
    let sent = host.sent();
    assert!(
        !sent.iter().any(|s| s.contains("/cancel")),
        "nothing is cancelled: {sent:?}"
    );
    assert!(
        !sent.contains(&format!("GET {NEXT}")),
        "an entry older than the window ends the search"
    );
    assert_eq!(
        host.rpc(),
        [
            "begin_prediction_create(2,null)",
            "begin_prediction_create(2,1)",
            "record_prediction(p2)"
        ],
        "theirs is never recorded; the window held none of ours, so create 1 is sent again"
    );
    assert_eq!(host.posts().len(), 1);
    assert_eq!(host.posts()[0]["webhook"], mark_url(GENERATION, 1));
}

#[test]
fn an_unfinished_search_is_a_retry_and_never_a_create() {
    let mut host = Host::new()
        .lost_create(40.0)
        .then(200, page(vec![listed("n1", 30)], Some(NEXT)))
        .then(
            200,
            with_mark(prediction("n1", "processing", None), OTHER_GENERATION, 1),
        );
    for _ in 0..5 {
        host = host.then(
            503,
            serde_json::json!({"detail": "unavailable", "status": 503}),
        );
    }
    let e = run(&host, &generation(None), DEADLINES).unwrap_err();
    assert!(
        matches!(&e, RunError::Retry { message, .. } if message.contains("lost create")),
        "{e:?}"
    );
    assert!(host.posts().is_empty(), "no create on an unfinished search");
    assert_eq!(host.rpc(), ["begin_prediction_create(2,null)"]);
}

#[test]
fn a_list_cursor_outside_the_api_ends_the_search_unfinished() {
    let host = Host::new().lost_create(40.0).then(
        200,
        page(vec![], Some("https://evil.example/v1/predictions?cursor=x")),
    );
    let e = run(&host, &generation(None), DEADLINES).unwrap_err();
    assert!(matches!(e, RunError::Retry { .. }), "{e:?}");
    assert_eq!(host.sent().len(), 1, "the token is not sent elsewhere");
    assert!(host.posts().is_empty());
}

#[test]
fn a_window_searched_to_its_end_with_nothing_means_exactly_one_create() {
    let host = Host::new()
        .lost_create(40.0)
        .then(200, page(vec![listed("old", -61)], Some(NEXT)))
        .then(201, prediction("p2", "succeeded", None));
    run(&host, &generation(None), DEADLINES).unwrap();
    assert_eq!(host.posts().len(), 1);
    assert_eq!(host.posts()[0]["webhook"], mark_url(GENERATION, 1));
    assert_eq!(
        host.rpc(),
        [
            "begin_prediction_create(2,null)",
            "begin_prediction_create(2,1)",
            "record_prediction(p2)"
        ]
    );
    // And an account with no more predictions at all (no next page) is searched to its end too.
    let host = Host::new()
        .lost_create(40.0)
        .then(200, page(vec![listed("n1", 5)], None))
        .then(200, prediction("n1", "processing", None))
        .then(201, prediction("p2", "succeeded", None));
    run(&host, &generation(None), DEADLINES).unwrap();
    assert_eq!(host.posts().len(), 1, "an entry without a mark is not ours");
}

#[test]
fn a_create_that_may_still_be_on_its_way_is_neither_searched_nor_sent() {
    let host = Host::new().lost_create(12.0);
    let e = run(&host, &generation(None), DEADLINES).unwrap_err();
    assert_eq!(
        e,
        RunError::Retry {
            message: "a create sent 12 s ago may still be on its way; looking for it later".into(),
            retry_in_secs: Some(18)
        }
    );
    assert!(host.sent().is_empty());
}

#[test]
fn a_prediction_held_by_another_generation_is_not_cancelled() {
    let host = Host::new().lost_create(40.0).then(
        200,
        page(vec![with_mark(listed("mine", 1), GENERATION, 1)], None),
    );
    *host.record_answer.borrow_mut() = serde_json::json!({"outcome": "taken"});
    match run(&host, &generation(None), DEADLINES) {
        Err(RunError::Fail {
            code: "prediction_taken",
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    assert!(!host.sent().iter().any(|s| s.contains("/cancel")));
    assert!(host.posts().is_empty());
}

#[test]
fn an_uncertain_create_is_a_retry_without_a_second_post() {
    let host = Host::new().then_error(HttpError::Timeout);
    let e = run(&host, &generation(None), DEADLINES).unwrap_err();
    assert!(
        matches!(
            e,
            RunError::Retry {
                retry_in_secs: Some(30),
                ..
            }
        ),
        "looked for once no answer can still come: {e:?}"
    );
    assert_eq!(host.sent().len(), 1);
    assert_eq!(host.rpc(), ["begin_prediction_create(2,null)"]);
}

#[test]
fn an_unbilled_start_timeout_is_created_once_more_and_counted() {
    let host = Host::new().then(
        201,
        prediction("p1", "failed", Some("E6716: Timed out starting model")),
    );
    let e = run(&host, &generation(None), DEADLINES).unwrap_err();
    assert!(matches!(e, RunError::Retry { .. }));
    assert_eq!(
        host.rpc(),
        [
            "begin_prediction_create(2,null)",
            "record_prediction(p1)",
            "clear_prediction(p1)"
        ],
        "never ran, so not billed: forgotten, for a new create"
    );
    // The next attempt: the row counts one create; the re-create carries create number 2.
    let mut g = generation(None);
    g.prediction_creates = 1;
    let host = Host::new()
        .intent(serde_json::json!({"outcome": "create", "create_number": 2}))
        .then(201, prediction("p2", "succeeded", None));
    run(&host, &g, DEADLINES).unwrap();
    assert_eq!(host.posts()[0]["webhook"], mark_url(GENERATION, 2));
}

#[test]
fn a_billed_timeout_is_final() {
    let mut ran = prediction("p1", "failed", Some("Prediction timed out"));
    ran["started_at"] = "2026-11-28T23:00:02Z".into();
    ran["metrics"] = serde_json::json!({"predict_time": 598.2});
    let host = Host::new().then(201, ran);
    match run(&host, &generation(None), DEADLINES) {
        Err(RunError::Fail {
            code: "model_timed_out",
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(
        host.rpc(),
        ["begin_prediction_create(2,null)", "record_prediction(p1)"],
        "not forgotten: no second create"
    );
}

#[test]
fn once_the_creates_are_spent_a_start_timeout_is_final() {
    // The re-create failed to start too: final, and it is not forgotten.
    let mut g = generation(Some("p2"));
    g.prediction_creates = MAX_PREDICTION_CREATES;
    let host = Host::new().then(
        200,
        prediction("p2", "failed", Some("E6716: Timed out starting model")),
    );
    match run(&host, &g, DEADLINES) {
        Err(RunError::Fail {
            code: "model_did_not_start",
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    assert!(host.rpc().is_empty());
    // And the database refuses a further create whatever the row read said.
    let host = Host::new().intent(serde_json::json!({"outcome": "cap_reached", "creates": 2}));
    match run(&host, &generation(None), DEADLINES) {
        Err(RunError::Fail {
            code: "model_did_not_start",
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    assert!(host.sent().is_empty());
}

#[test]
fn nsfw_is_final_with_a_readable_message() {
    let host = Host::new().then(
        201,
        prediction("p1", "failed", Some(crate::replicate::schema::NSFW_FLUX)),
    );
    match run(&host, &generation(None), DEADLINES) {
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
        run(&host, &generation(None), DEADLINES).unwrap_err(),
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
    let e = run(&host, &generation(None), deadlines).unwrap_err();
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
    match run(&host, &generation(None), deadlines) {
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
    let e = run(&host, &generation(None), DEADLINES).unwrap_err();
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
    run(&host, &g, DEADLINES).unwrap();
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
    match run(&Host::new(), &g, DEADLINES) {
        Err(RunError::Fail {
            code: "unsupported_settings",
            message,
        }) => assert!(message.contains("no longer supported")),
        other => panic!("{other:?}"),
    }
}

const PARK: PredictionWait = PredictionWait::Park { recheck_secs: 60 };

#[test]
fn in_webhook_mode_a_running_prediction_is_parked_after_its_create_not_polled() {
    let host = Host::new().then(201, prediction("p1", "processing", None));
    match run_waiting(&host, &generation(None), DEADLINES, PARK) {
        Err(RunError::StillRunning {
            recheck_in_secs, ..
        }) => assert_eq!(recheck_in_secs, 60),
        other => panic!("expected a park, got {other:?}"),
    }
    assert_eq!(
        host.sent(),
        ["POST https://api.replicate.com/v1/models/black-forest-labs/flux-schnell/predictions"],
        "one create, no polling"
    );
    assert_eq!(
        host.rpc(),
        ["begin_prediction_create(2,null)", "record_prediction(p1)"],
        "the id is recorded before the job parks"
    );
}

#[test]
fn a_prediction_done_within_the_create_is_not_parked() {
    let host = Host::new().then(201, prediction("p1", "succeeded", None));
    let done = run_waiting(&host, &generation(None), DEADLINES, PARK).unwrap();
    assert_eq!(done.outputs, ["https://replicate.delivery/p/out-0.webp"]);
}

#[test]
fn the_outcome_a_webhook_recorded_is_used_without_reading_replicate() {
    let host = Host::new();
    *host.webhook_outcome.borrow_mut() = prediction("p1", "succeeded", None);
    let done = run_waiting(&host, &generation(Some("p1")), DEADLINES, PARK).unwrap();
    assert!(done.resumed);
    assert_eq!(done.outputs, ["https://replicate.delivery/p/out-0.webp"]);
    assert!(host.sent().is_empty(), "no API call: {:?}", host.sent());

    // A recorded outcome of another prediction (an earlier create's) is not this one's.
    let host = Host::new().then(200, prediction("p2", "processing", None));
    *host.webhook_outcome.borrow_mut() = prediction("p1", "succeeded", None);
    let e = run_waiting(&host, &generation(Some("p2")), DEADLINES, PARK).unwrap_err();
    assert!(matches!(e, RunError::StillRunning { .. }), "{e:?}");
    assert_eq!(
        host.sent(),
        ["GET https://api.replicate.com/v1/predictions/p2"]
    );
}

#[test]
fn a_parked_prediction_whose_webhook_never_came_is_read_at_its_recheck() {
    // The recheck: no outcome recorded, so Replicate is read once; finished, so the job goes on.
    let host = Host::new().then(200, prediction("p1", "succeeded", None));
    let done = run_waiting(&host, &generation(Some("p1")), DEADLINES, PARK).unwrap();
    assert!(done.resumed);
    assert_eq!(
        host.sent(),
        ["GET https://api.replicate.com/v1/predictions/p1"]
    );
}

#[test]
fn a_park_never_outlasts_the_give_up_time() {
    let host = Host::new().then(200, prediction("p1", "processing", None));
    let soon = Deadlines {
        budget_ms: NOW + 140_000.0,
        give_up_ms: NOW + 12_500.0,
    };
    match run_waiting(&host, &generation(Some("p1")), soon, PARK) {
        Err(RunError::StillRunning {
            recheck_in_secs, ..
        }) => assert_eq!(recheck_in_secs, 13),
        other => panic!("{other:?}"),
    }
    // Past it, the recheck cancels the prediction and fails the generation.
    let host = Host::new()
        .then(200, prediction("p1", "processing", None))
        .then(200, prediction("p1", "canceled", None));
    let late = Deadlines {
        budget_ms: NOW + 140_000.0,
        give_up_ms: NOW - 1.0,
    };
    match run_waiting(&host, &generation(Some("p1")), late, PARK) {
        Err(RunError::Fail {
            code: "prediction_timed_out",
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    assert!(host
        .sent()
        .contains(&"POST https://api.replicate.com/v1/predictions/p1/cancel".to_owned()));
}
