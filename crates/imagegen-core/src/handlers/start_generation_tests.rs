use super::*;
use crate::ports::{RpcError, SqlArg, SqlType};
use crate::testing::{sign_hs256, FakePlatform, TEST_SECRET};
use std::cell::RefCell;
use uuid::Uuid;

const USER: &str = "6f1c2a52-1d8a-4c52-9f59-0d8e0c3a4b11";
const NOW_MS: f64 = 1_800_000_000_000.0;

struct FakeDb {
    answer: Result<serde_json::Value, RpcError>,
    /// Answers of other functions than the main one, by name.
    others: Vec<(&'static str, serde_json::Value)>,
    calls: RefCell<Vec<(String, Vec<SqlArg>)>>,
}

impl FakeDb {
    fn answering(v: serde_json::Value) -> Self {
        Self {
            answer: Ok(v),
            others: Vec::new(),
            calls: RefCell::default(),
        }
    }
    fn failing(e: RpcError) -> Self {
        Self {
            answer: Err(e),
            others: Vec::new(),
            calls: RefCell::default(),
        }
    }
    fn with(mut self, function: &'static str, answer: serde_json::Value) -> Self {
        self.others.push((function, answer));
        self
    }
    fn arg(&self, name: &str) -> Option<String> {
        self.arg_of(0, name)
    }
    fn arg_of(&self, call: usize, name: &str) -> Option<String> {
        let calls = self.calls.borrow();
        calls[call]
            .1
            .iter()
            .find(|a| a.name == name)
            .and_then(|a| a.value.clone())
    }
    fn functions(&self) -> Vec<String> {
        self.calls.borrow().iter().map(|(f, _)| f.clone()).collect()
    }
}

impl Rpc for FakeDb {
    async fn call(
        &self,
        function: &'static str,
        args: &[SqlArg],
    ) -> Result<Vec<serde_json::Value>, RpcError> {
        self.calls
            .borrow_mut()
            .push((function.to_owned(), args.to_vec()));
        if let Some((_, v)) = self.others.iter().find(|(f, _)| *f == function) {
            return Ok(vec![v.clone()]);
        }
        self.answer.clone().map(|v| vec![v])
    }
}

fn ctx() -> AppContext {
    AppContext::from_env(|k| (k == "JWT_SECRET").then(|| TEST_SECRET.to_owned())).unwrap()
}

fn user_token() -> String {
    let exp = (NOW_MS / 1000.0) as i64 + 3600;
    sign_hs256(
        &serde_json::json!({"sub": USER, "role": "authenticated", "aud": "authenticated", "exp": exp}),
        TEST_SECRET,
    )
}

fn head(method: &str, token: Option<&str>, extra: &[(&str, &str)]) -> RequestHead {
    let mut h: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    if let Some(t) = token {
        h.push(("Authorization".into(), format!("Bearer {t}")));
    }
    RequestHead::new(method, h)
}

fn created() -> serde_json::Value {
    serde_json::json!({"outcome": "created", "generation_id": "0b0e8a4e-8d5e-4a55-a3b4-2c1f1f7d9c01", "job_id": 7, "status": "queued"})
}

fn run(db: &FakeDb, head: RequestHead, body: &str) -> (Response, FakePlatform) {
    let platform = FakePlatform::at(NOW_MS);
    let r = futures_lite_block_on(handle(
        &ctx(),
        &platform,
        db,
        &head,
        body.as_bytes().to_vec(),
    ));
    (r, platform)
}

/// A tiny executor: these futures never wait on anything but the fakes.
fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
    crate::testing::block_on(f)
}

fn json(r: &Response) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap()
}

const BODY: &str =
    r#"{"prompt":"test","model_id":"black-forest-labs/flux-schnell","width":1024,"height":1024}"#;

#[test]
fn success_makes_one_call_with_typed_args() {
    let db = FakeDb::answering(created());
    let (r, platform) = run(&db, head("POST", Some(&user_token()), &[]), BODY);
    assert_eq!(r.status, 200, "{}", r.body);
    // The original start-generation's fields, exactly; then this project's.
    let answer = json(&r);
    assert_eq!(answer["success"], true);
    assert_eq!(
        answer["generation_id"],
        "0b0e8a4e-8d5e-4a55-a3b4-2c1f1f7d9c01"
    );
    assert_eq!(answer["job_id"], "7");
    assert_eq!(answer["status"], "queued");
    assert!(answer["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(answer["adjusted"].is_array());
    assert_eq!(db.calls.borrow().len(), 1);
    assert_eq!(db.calls.borrow()[0].0, "start_generation");
    assert_eq!(db.arg("p_user_id").as_deref(), Some(USER));
    assert_eq!(db.arg("p_prompt").as_deref(), Some("test"));
    assert_eq!(db.arg("p_max_pending").as_deref(), Some("10"));
    assert_eq!(
        db.arg("p_replicate_model").as_deref(),
        Some("black-forest-labs/flux-schnell")
    );
    assert_eq!(db.arg("p_model_id"), None);
    let params: serde_json::Value = serde_json::from_str(&db.arg("p_params").unwrap()).unwrap();
    assert_eq!(params["width"], 1024);
    // Arguments at their SQL default are not sent.
    assert_eq!(
        (db.arg("p_adjusted"), db.arg("p_idempotency_key")),
        (None, None)
    );
    let user_arg = db.calls.borrow()[0]
        .1
        .iter()
        .find(|a| a.name == "p_user_id")
        .map(|a| a.sql_type);
    assert_eq!(user_arg, Some(SqlType::Uuid));

    let lines = platform.lines();
    assert_eq!(lines.len(), 1);
    let line: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(line["status"], 200);
    assert_eq!(line["user_id"], USER);
    assert_eq!(
        line["generation_id"],
        "0b0e8a4e-8d5e-4a55-a3b4-2c1f1f7d9c01"
    );
    assert!(
        !lines[0].contains(&user_token()) && !lines[0].contains("test\""),
        "log holds no token or prompt"
    );
    assert!(r.headers.iter().any(|(k, _)| *k == "x-request-id"));
}

#[test]
fn guests_are_marked_for_their_own_limits() {
    let db = FakeDb::answering(created());
    let (r, _) = run(&db, head("POST", Some(&user_token()), &[]), BODY);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(db.arg("p_anonymous"), None, "signed-in users: the default");

    let exp = (NOW_MS / 1000.0) as i64 + 3600;
    let guest = sign_hs256(
        &serde_json::json!({"sub": USER, "role": "authenticated", "aud": "authenticated", "exp": exp,
            "is_anonymous": true}),
        TEST_SECRET,
    );
    let db = FakeDb::answering(created());
    let (r, _) = run(&db, head("POST", Some(&guest), &[]), BODY);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(db.arg("p_anonymous").as_deref(), Some("true"));
}

#[test]
fn usage_refusals_are_429_with_retry_after() {
    let db = FakeDb::answering(
        serde_json::json!({"outcome": "usage_limit", "scope": "user_day",
        "limit": 5000, "used": 4990, "units": 25, "retry_after_seconds": 7200}),
    );
    let (r, _) = run(&db, head("POST", Some(&user_token()), &[]), BODY);
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(json(&r)["code"], "usage_limit_exceeded");
    assert_eq!(json(&r)["retry_after"], 7200);
    assert!(r.headers.contains(&("retry-after", "7200".into())));

    let db = FakeDb::answering(serde_json::json!({"outcome": "usage_request_too_large",
        "scope": "anonymous_hour", "limit": 100, "units": 240}));
    let (r, _) = run(&db, head("POST", Some(&user_token()), &[]), BODY);
    assert_eq!(
        (r.status, json(&r)["code"].as_str()),
        (429, Some("usage_request_too_large"))
    );
    assert!(!r.headers.iter().any(|(k, _)| *k == "retry-after"));
}

#[test]
fn token_problems_are_401_and_touch_nothing() {
    let anon = sign_hs256(
        &serde_json::json!({"role": "anon", "iss": "supabase-demo", "exp": 1983812996}),
        TEST_SECRET,
    );
    let expired = sign_hs256(
        &serde_json::json!({"sub": USER, "role": "authenticated", "aud": "authenticated", "exp": 1_700_000_000}),
        TEST_SECRET,
    );
    let forged = sign_hs256(
        &serde_json::json!({"sub": USER, "role": "authenticated", "aud": "authenticated", "exp": 1983812996}),
        "another-secret-another-secret-another-secret",
    );
    for token in [
        None,
        Some("garbage"),
        Some(anon.as_str()),
        Some(expired.as_str()),
        Some(forged.as_str()),
    ] {
        let db = FakeDb::answering(created());
        let (r, _) = run(&db, head("POST", token, &[]), BODY);
        assert_eq!(r.status, 401, "{token:?}: {}", r.body);
        assert!(json(&r)["code"].is_string());
        assert!(r.headers.iter().any(|(k, _)| *k == "www-authenticate"));
        assert!(db.calls.borrow().is_empty());
    }
}

#[test]
fn validation_errors_are_400_with_field_and_touch_nothing() {
    for (body, field) in [
        ("{", "body"),
        (r#"{"model_id":"black-forest-labs/flux-schnell"}"#, "prompt"),
        (r#"{"prompt":"x","model_id":"nope/nope"}"#, "model_id"),
        (r#"{"prompt":"x","width":9000}"#, "width"),
    ] {
        let db = FakeDb::answering(created());
        let (r, _) = run(&db, head("POST", Some(&user_token()), &[]), body);
        assert_eq!(
            (r.status, json(&r)["field"].as_str()),
            (400, Some(field)),
            "{body}"
        );
        assert!(db.calls.borrow().is_empty());
    }
    let db = FakeDb::answering(created());
    let big = format!(r#"{{"prompt":"{}"}}"#, "a".repeat(70_000));
    let (r, _) = run(&db, head("POST", Some(&user_token()), &[]), &big);
    assert_eq!(
        (r.status, json(&r)["code"].as_str()),
        (400, Some("body_too_large"))
    );
    let (r, _) = run(
        &db,
        head(
            "POST",
            Some(&user_token()),
            &[("Idempotency-Key", "has space")],
        ),
        BODY,
    );
    assert_eq!(
        (r.status, json(&r)["field"].as_str()),
        (400, Some("Idempotency-Key"))
    );
    assert!(db.calls.borrow().is_empty());
}

#[test]
fn idempotency_key_and_fingerprint_are_passed() {
    let db = FakeDb::answering(created());
    let (r, _) = run(
        &db,
        head("POST", Some(&user_token()), &[("Idempotency-Key", "k-1")]),
        BODY,
    );
    assert_eq!(r.status, 200);
    assert_eq!(db.arg("p_idempotency_key").as_deref(), Some("k-1"));
    assert_eq!(db.arg("p_request_fingerprint").map(|f| f.len()), Some(64));
}

#[test]
fn outcomes_map_to_statuses() {
    let id = "0b0e8a4e-8d5e-4a55-a3b4-2c1f1f7d9c01";
    let cases = [
        (
            serde_json::json!({"outcome":"existing","generation_id":id,"status":"completed"}),
            200,
            None,
        ),
        (
            serde_json::json!({"outcome":"idempotency_conflict","generation_id":id}),
            422,
            Some("idempotency_key_reused"),
        ),
        (
            serde_json::json!({"outcome":"pending_limit","pending":10,"limit":10}),
            429,
            Some("too_many_pending"),
        ),
        (
            serde_json::json!({"outcome":"unknown_user"}),
            401,
            Some("user_not_found"),
        ),
        (
            serde_json::json!({"outcome":"surprise"}),
            500,
            Some("internal_error"),
        ),
    ];
    for (answer, status, code) in cases.clone() {
        let db = FakeDb::answering(answer.clone());
        let (r, _) = run(&db, head("POST", Some(&user_token()), &[]), BODY);
        assert_eq!(r.status, status, "{answer}: {}", r.body);
        assert_eq!(json(&r)["code"].as_str(), code, "{answer}");
    }
    let db = FakeDb::answering(cases[0].0.clone());
    let (r, _) = run(&db, head("POST", Some(&user_token()), &[]), BODY);
    assert_eq!(json(&r)["status"], "completed");
    assert!(r.headers.contains(&("idempotent-replayed", "true".into())));
}

#[test]
fn database_failures_are_5xx_with_detail_only_in_the_log() {
    let db = FakeDb::failing(RpcError::Unavailable("connection refused".into()));
    let (r, _) = run(&db, head("POST", Some(&user_token()), &[]), BODY);
    assert_eq!(
        (r.status, json(&r)["code"].as_str()),
        (503, Some("database_unavailable"))
    );
    let db = FakeDb::failing(RpcError::Query {
        sqlstate: "42883".into(),
        message: "function does not exist".into(),
    });
    let (r, platform) = run(&db, head("POST", Some(&user_token()), &[]), BODY);
    assert_eq!(
        (r.status, json(&r)["code"].as_str()),
        (500, Some("internal_error"))
    );
    assert!(!r.body.contains("42883"));
    assert!(
        platform.lines()[0].contains("42883")
            && platform.lines()[0].contains("\"level\":\"error\"")
    );
}

#[test]
fn methods() {
    let db = FakeDb::answering(created());
    let (r, _) = run(&db, head("OPTIONS", None, &[]), "");
    assert_eq!((r.status, r.body.as_str()), (200, "ok"));
    assert!(r
        .headers
        .iter()
        .any(|(k, v)| *k == "access-control-allow-headers" && v.contains("authorization")));
    assert!(r
        .headers
        .contains(&("access-control-allow-methods", "GET, POST, OPTIONS".into())));
    let (r, _) = run(&db, head("PUT", Some(&user_token()), &[]), "");
    assert_eq!(r.status, 405);
    // Every answer, not only the preflight's, lets a browser page read it.
    assert!(r
        .headers
        .contains(&("access-control-allow-origin", "*".into())));
    assert!(r.headers.contains(&("allow", "GET, POST, OPTIONS".into())));
    let (r, _) = run(&db, head("GET", Some(&user_token()), &[]), "");
    assert_eq!(
        (r.status, json(&r)["field"].as_str()),
        (400, Some("id")),
        "GET needs ?id="
    );
    assert!(db.calls.borrow().is_empty());
}

#[test]
fn request_id_is_echoed_or_made() {
    let db = FakeDb::answering(created());
    let (r, _) = run(
        &db,
        head("POST", Some(&user_token()), &[("x-request-id", "abc-123")]),
        BODY,
    );
    assert!(r.headers.contains(&("x-request-id", "abc-123".into())));
    let (r, _) = run(
        &db,
        head(
            "POST",
            Some(&user_token()),
            &[("x-request-id", "bad id with spaces")],
        ),
        BODY,
    );
    let id = &r
        .headers
        .iter()
        .find(|(k, _)| *k == "x-request-id")
        .unwrap()
        .1;
    assert!(Uuid::parse_str(id).is_ok(), "{id}");
}

const MODEL_ROW: &str = "5d3c9a3e-6f0b-4b8e-9a57-3a0c2f4e1d22";

#[test]
fn a_models_uuid_is_resolved_then_passed_along() {
    let db = FakeDb::answering(created()).with(
        "resolve_model",
        serde_json::json!({"id": MODEL_ROW, "name": "FLUX Schnell", "replicate_id": "black-forest-labs/flux-schnell",
                           "version": null, "is_active": true}),
    );
    let body =
        format!(r#"{{"prompt":"test","model_id":"{MODEL_ROW}","width":1024,"height":1024}}"#);
    let (r, _) = run(&db, head("POST", Some(&user_token()), &[]), &body);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(db.functions(), ["resolve_model", "start_generation"]);
    assert_eq!(db.arg_of(0, "p_id").as_deref(), Some(MODEL_ROW));
    assert_eq!(db.arg_of(1, "p_model_id").as_deref(), Some(MODEL_ROW));
    assert_eq!(
        db.arg_of(1, "p_replicate_model").as_deref(),
        Some("black-forest-labs/flux-schnell")
    );
}

#[test]
fn an_unknown_or_inactive_models_uuid_is_an_unknown_model() {
    for row in [
        serde_json::Value::Null,
        serde_json::json!({"id": MODEL_ROW, "name": "Old", "replicate_id": "black-forest-labs/flux-schnell",
                           "version": null, "is_active": false}),
    ] {
        let db = FakeDb::answering(created()).with("resolve_model", row);
        let body = format!(r#"{{"prompt":"test","model_id":"{MODEL_ROW}"}}"#);
        let (r, _) = run(&db, head("POST", Some(&user_token()), &[]), &body);
        let answer = json(&r);
        assert_eq!(
            (r.status, answer["code"].as_str()),
            (400, Some("unknown_model"))
        );
        assert_eq!(answer["success"], false);
        assert_eq!(db.functions(), ["resolve_model"], "nothing written");
    }
}

#[test]
fn start_generation_ignores_a_generation_id_in_the_body() {
    let db = FakeDb::answering(created());
    let body = r#"{"prompt":"test","generation_id":"0b0e8a4e-8d5e-4a55-a3b4-2c1f1f7d9c01"}"#;
    let (r, _) = run(&db, head("POST", Some(&user_token()), &[]), body);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(db.functions(), ["start_generation"]);
}

/// generate-image naming a row that failed before it was sent: the answer says the status only; the
/// row's reason (perhaps raw text the original backend wrote) goes to the log line.
#[test]
fn not_pending_does_not_echo_the_rows_reason() {
    let raw = "psycopg2.OperationalError: could not connect to server at 10.0.0.5";
    let db = FakeDb::answering(serde_json::json!({
        "outcome": "not_pending", "status": "failed", "error_message": raw,
    }));
    let platform = FakePlatform::at(NOW_MS);
    let mut log = RequestLog::new("generate-image", "r".into(), "POST");
    let body = r#"{"prompt":"test","generation_id":"0b0e8a4e-8d5e-4a55-a3b4-2c1f1f7d9c01"}"#;
    let e = futures_lite_block_on(accept(
        &ctx(),
        &db,
        &head("POST", Some(&user_token()), &[]),
        body.as_bytes().to_vec(),
        platform.now_ms(),
        &mut log,
        Attach::IfNamed,
    ))
    .unwrap_err();
    assert_eq!((e.status, e.code), (409, "generation_not_pending"));
    assert_eq!(e.message, "this generation is already failed");
    assert_eq!(log.detail.as_deref(), Some(raw));
}

/// A project at the local stack's address that allows one outside image host.
fn ctx_with_image_hosts() -> AppContext {
    AppContext::from_env(|k| match k {
        "JWT_SECRET" => Some(TEST_SECRET.to_owned()),
        "SUPABASE_URL" => Some("http://127.0.0.1:54321".to_owned()),
        "IMAGE_INPUT_HOSTS" => Some("images.example.com".to_owned()),
        _ => None,
    })
    .unwrap()
}

fn img2img(field: &str, url: &str) -> String {
    serde_json::json!({"prompt": "as a painting", "model_id": "black-forest-labs/flux-dev", field: url})
        .to_string()
}

#[test]
fn an_input_image_from_a_refused_address_is_a_422_and_writes_nothing() {
    let cases = [
        (
            "image_url",
            "http://images.example.com/a.png",
            "must use https",
        ),
        (
            "image_url",
            "https://169.254.169.254/latest/meta-data/",
            "not an IP address",
        ),
        (
            "source_image_url",
            "https://[::1]/a.png",
            "not an IP address",
        ),
        ("image_url", "https://2852039166/", "not an IP address"),
        (
            "image_url",
            "https://u:p@images.example.com/a.png",
            "user name or password",
        ),
        ("image_url", "https://images.example.com:8443/a.png", "port"),
        (
            "source_image_url",
            "https://localhost/a.png",
            "internal host",
        ),
        (
            "image_url",
            "https://metadata.google.internal/",
            "internal host",
        ),
        (
            "image_url",
            "https://elsewhere.example.net/a.png",
            "elsewhere.example.net is not",
        ),
        (
            "image_url",
            "https://images%2eexample.com/a.png",
            "percent-encode",
        ),
        (
            "image_url",
            "http://127.0.0.1:54321/rest/v1/images",
            "not a Storage object URL",
        ),
    ];
    for (field, url, rule) in cases {
        let platform = FakePlatform::at(NOW_MS);
        let db = FakeDb::answering(created());
        let r = crate::testing::block_on(handle(
            &ctx_with_image_hosts(),
            &platform,
            &db,
            &head("POST", Some(&user_token()), &[]),
            img2img(field, url).into_bytes(),
        ));
        let answer = json(&r);
        assert_eq!(
            (r.status, answer["code"].as_str(), answer["field"].as_str()),
            (422, Some("invalid_image_url"), Some(field)),
            "{url}: {}",
            r.body
        );
        let message = answer["error"].as_str().unwrap();
        assert!(
            message.starts_with(field) && message.contains(rule),
            "{url}: {message}"
        );
        assert!(db.functions().is_empty(), "{url}: nothing written");
    }
}

#[test]
fn an_input_image_in_the_projects_storage_or_on_an_allowed_host_is_accepted() {
    for (field, url) in [
        (
            "source_image_url",
            "http://127.0.0.1:54321/storage/v1/object/public/generated-images/u/earlier.webp",
        ),
        (
            "image_url",
            "http://127.0.0.1:54321/storage/v1/object/sign/generated-images/u/x.png?token=t",
        ),
        ("image_url", "https://images.example.com/a.png"),
    ] {
        let platform = FakePlatform::at(NOW_MS);
        let db = FakeDb::answering(created());
        let r = crate::testing::block_on(handle(
            &ctx_with_image_hosts(),
            &platform,
            &db,
            &head("POST", Some(&user_token()), &[]),
            img2img(field, url).into_bytes(),
        ));
        assert_eq!(r.status, 200, "{url}: {}", r.body);
        assert_eq!(db.functions(), ["start_generation"]);
        let params: serde_json::Value = serde_json::from_str(&db.arg("p_params").unwrap()).unwrap();
        assert_eq!(params["image_url"], url);
    }
}

/// The kick is a call on the project like any other: the secret API key, in `apikey` (where the
/// gateway takes secret keys from) and `Authorization`, even when a legacy key is injected too.
#[test]
fn the_worker_kick_carries_the_secret_key_in_apikey() {
    let ctx = AppContext::from_env(|k| match k {
        "JWT_SECRET" => Some(TEST_SECRET.to_owned()),
        "SUPABASE_URL" => Some("https://abc.supabase.co".to_owned()),
        "SUPABASE_SERVICE_ROLE_KEY" => Some("eyJ.legacy.disabled".to_owned()),
        "SUPABASE_SECRET_KEYS" => Some(r#"{"default":"sb_secret_k"}"#.to_owned()),
        _ => None,
    })
    .unwrap();
    let kick = super::wake_request(&ctx, "start-generation").unwrap();
    assert_eq!(
        kick.url,
        "https://abc.supabase.co/functions/v1/process-jobs"
    );
    let header = |name: &str| {
        kick.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("apikey"), Some("sb_secret_k"));
    assert_eq!(header("authorization"), Some("Bearer sb_secret_k"));
}
