//! Test harness: a simulator on 127.0.0.1:0 in the test's runtime, an HTTP client, and a webhook receiver.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, Response};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo};
use replicate_sim::{Config, Simulator};
use serde_json::{json, Value};

pub const TOKEN: &str = "r8_test_token";

/// An answer.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// A running simulator and a client for it.
pub struct Sim {
    pub sim: Simulator,
    pub client: Client<HttpConnector, Full<Bytes>>,
}

/// A simulator with instant predictions and no rate limits unless `settings` says otherwise.
pub async fn spawn(settings: Value) -> Sim {
    spawn_with(Config::default(), settings).await
}

pub async fn spawn_with(mut config: Config, settings: Value) -> Sim {
    config.port = 0;
    let mut base = json!({"time_scale": 0.0, "create_limit_per_min": 0, "other_limit_per_min": 0,
        "webhook_retry_base_ms": 20});
    for (k, v) in settings.as_object().cloned().unwrap_or_default() {
        base[k] = v;
    }
    config
        .settings
        .patch(&base)
        .expect("test settings are valid");
    let sim = Simulator::start(config)
        .await
        .expect("the simulator starts");
    let client = Client::builder(TokioExecutor::new()).build_http();
    Sim { sim, client }
}

impl Sim {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    /// Sends a request; `Err` when the connection failed (reset faults).
    pub async fn try_send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Resp, String> {
        let mut b = Request::builder().method(method).uri(url);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let body = body.map(|v| Bytes::from(v.to_string())).unwrap_or_default();
        let req = b.body(Full::new(body)).unwrap();
        let resp = tokio::time::timeout(Duration::from_secs(30), self.client.request(req))
            .await
            .map_err(|_| "timed out".to_string())?
            .map_err(|e| format!("{e:?}"))?;
        let (parts, body) = resp.into_parts();
        let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok(Resp {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        })
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Resp {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            self.url(path)
        };
        self.try_send(method, &url, headers, body)
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// An authorised API call.
    pub async fn api(&self, method: Method, path: &str, body: Option<&Value>) -> Resp {
        self.send(
            method,
            path,
            &[("authorization", &format!("Bearer {TOKEN}"))],
            body,
        )
        .await
    }

    /// Creates on an official model's endpoint with extra headers.
    pub async fn create_with(&self, model: &str, body: Value, headers: &[(&str, &str)]) -> Resp {
        let auth = format!("Bearer {TOKEN}");
        let mut all = vec![("authorization", auth.as_str())];
        all.extend_from_slice(headers);
        self.send(
            Method::POST,
            &format!("/v1/models/{model}/predictions"),
            &all,
            Some(&body),
        )
        .await
    }

    /// `Prefer: wait` create of `input` on an official model.
    pub async fn run(&self, model: &str, input: Value) -> Value {
        let r = self
            .create_with(model, json!({"input": input}), &[("prefer", "wait=30")])
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        r.json()
    }

    pub async fn get(&self, id: &str) -> Value {
        let r = self
            .api(Method::GET, &format!("/v1/predictions/{id}"), None)
            .await;
        assert_eq!(r.status, 200);
        r.json()
    }

    /// Polls until the prediction is terminal (every 20 ms, up to 20 s).
    pub async fn wait_done(&self, id: &str) -> Value {
        for _ in 0..1000 {
            let p = self.get(id).await;
            if !matches!(p["status"].as_str(), Some("starting" | "processing")) {
                return p;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{id} never finished")
    }

    pub async fn admin(&self, method: Method, path: &str, body: Option<&Value>) -> Resp {
        self.send(method, &format!("/admin/{path}"), &[], body)
            .await
    }

    pub async fn stats(&self) -> Value {
        self.admin(Method::GET, "stats", None).await.json()
    }

    /// Polls `/admin/stats` until `pred` holds for them (every 20 ms, up to 20 s).
    pub async fn wait_stats(&self, pred: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..1000 {
            let stats = self.stats().await;
            if pred(&stats) {
                return stats;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("stats never matched: {:#}", self.stats().await)
    }

    pub async fn fault(&self, rule: Value) {
        let r = self.admin(Method::POST, "faults", Some(&rule)).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }

    /// Downloads a URL (no token: delivery URLs are public).
    pub async fn download(&self, url: &str) -> Resp {
        self.send(Method::GET, url, &[], None).await
    }
}

/// One webhook request as received.
#[derive(Debug, Clone)]
pub struct Hook {
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
    /// When the receiver had read it (for ordering against other events, never for durations' upper
    /// bounds).
    pub received_at: std::time::Instant,
}

impl Hook {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// A webhook receiver on 127.0.0.1:0. It answers each request with the next status of `script`, then 200.
pub struct Receiver {
    pub addr: SocketAddr,
    pub hooks: Arc<Mutex<Vec<Hook>>>,
}

impl Receiver {
    pub async fn start(script: Vec<u16>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hooks = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script));
        let (h, s) = (hooks.clone(), script.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (h, s) = (h.clone(), s.clone());
                tokio::spawn(async move {
                    let svc =
                        hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                            let (h, s) = (h.clone(), s.clone());
                            async move {
                                let (parts, body) = req.into_parts();
                                let body = body.collect().await?.to_bytes();
                                h.lock().unwrap().push(Hook {
                                    headers: parts.headers,
                                    body,
                                    received_at: std::time::Instant::now(),
                                });
                                let status = {
                                    let mut s = s.lock().unwrap();
                                    if s.is_empty() {
                                        200
                                    } else {
                                        s.remove(0)
                                    }
                                };
                                let mut r = Response::new(Full::new(Bytes::new()));
                                *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                                Ok::<_, hyper::Error>(r)
                            }
                        });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Self { addr, hooks }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn received(&self) -> Vec<Hook> {
        self.hooks.lock().unwrap().clone()
    }

    /// Waits until `pred` holds for what was received (up to 20 s).
    pub async fn wait_for(&self, pred: impl Fn(&[Hook]) -> bool) -> Vec<Hook> {
        for _ in 0..1000 {
            let got = self.received();
            if pred(&got) {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("webhooks never arrived as expected: {:#?}", self.received())
    }
}
