//! Replicate's API as this product calls it, generic over the HTTP and timer ports so every retry rule is
//! tested natively. Rules (REPLICATE.md):
//! - a create is POSTed once; it is re-POSTed only after a 429 (a throttled create was not made). After a
//!   timeout, reset or 5xx the prediction may exist, so the caller must look for it by its owner mark
//!   ([`Replicate::find_by_mark`]) before creating again: a second create is a second bill;
//! - GETs are retried on 429 (honouring `retry_after` in the body or `Retry-After`), 5xx and network errors,
//!   with exponential backoff and jitter (the official JS client retries back to back);
//! - polling starts at 500 ms, as the official clients do, and slows down to 5 s for long predictions.

use super::{ModelSchema, OwnerMark, Prediction, PredictionList, Problem, WebhookSecret};
use crate::ports::{HttpClient, HttpError, HttpRequest, HttpResponse, Platform, Timer};
use serde_json::Value;

/// Where Replicate is and how to authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicateApi {
    /// `https://api.replicate.com/v1`, or the simulator's.
    pub base: String,
    pub token: String,
}

/// What went wrong talking to Replicate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplicateError {
    /// HTTP 429: nothing was done; try again after this many seconds.
    #[error("Replicate is rate limiting us; retry in {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    /// Worth retrying: network error, timeout, 5xx, an unreadable answer.
    #[error("{0}")]
    Transient(String),
    /// A create whose fate is unknown (timeout, reset, 5xx after sending): look for it before creating again.
    #[error("the create request may or may not have reached Replicate: {0}")]
    CreateUncertain(String),
    /// Retrying cannot help.
    #[error("{message}")]
    Permanent { code: &'static str, message: String },
}

/// Create options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreateOptions<'a> {
    /// `Prefer: wait=N`, 1–60: hold the request open until the prediction finishes or N seconds pass.
    pub wait_secs: u8,
    /// `Cancel-After`: Replicate aborts the prediction if it has not started by then, cancels it if running.
    pub cancel_after_secs: Option<u64>,
    /// The owner mark's URL, sent as `webhook` with `webhook_events_filter: ["completed"]` (one delivery
    /// per prediction rather than one per log line).
    pub webhook: Option<&'a str>,
}

/// How long a create with `Prefer: wait=wait_secs` may take before it counts as timed out.
pub const fn create_timeout_ms(wait_secs: u8) -> u32 {
    let wait = if wait_secs < 1 {
        1
    } else if wait_secs > 60 {
        60
    } else {
        wait_secs
    };
    wait as u32 * 1000 + CREATE_GRACE_MS
}

/// What a search for a lost create saw.
#[derive(Debug, Clone, PartialEq)]
pub enum MarkSearch {
    /// The prediction carrying the mark.
    Found(Box<Prediction>),
    /// Every prediction from the window's start to now was looked at; none carries the mark.
    NotInWindow,
}

/// Pages of `GET /v1/predictions` one search reads at most (100 predictions each); a window holding more
/// cannot be searched to its end, and the search reports itself incomplete rather than guess.
const MAX_SEARCH_PAGES: u32 = 500;

/// Retry and polling settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts of one GET before giving up with a transient error.
    pub get_attempts: u32,
    /// First backoff after a failed GET; doubles each time, ±25 % jitter.
    pub backoff_ms: f64,
    pub backoff_cap_ms: f64,
    /// Longest `retry_after` honoured in place; longer ones are handed to the caller.
    pub max_throttle_wait_secs: u64,
    /// First poll interval and its cap; grows by half each poll.
    pub poll_ms: f64,
    pub poll_cap_ms: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            get_attempts: 5,
            backoff_ms: 500.0,
            backoff_cap_ms: 8_000.0,
            max_throttle_wait_secs: 30,
            poll_ms: 500.0,
            poll_cap_ms: 5_000.0,
        }
    }
}

/// Timeout of API calls other than a waiting create.
const CALL_TIMEOUT_MS: u32 = 15_000;
/// How much longer than `Prefer: wait` a create may take before we call it timed out.
const CREATE_GRACE_MS: u32 = 15_000;
/// Default wait when a 429 carries no usable `retry_after`.
const DEFAULT_RETRY_AFTER_SECS: u64 = 10;

/// A Replicate client over the ports.
pub struct Replicate<'a, H, T, P> {
    pub api: &'a ReplicateApi,
    pub http: &'a H,
    pub timer: &'a T,
    pub platform: &'a P,
    pub policy: RetryPolicy,
}

impl<'a, H: HttpClient, T: Timer, P: Platform> Replicate<'a, H, T, P> {
    pub fn new(api: &'a ReplicateApi, http: &'a H, timer: &'a T, platform: &'a P) -> Self {
        Self {
            api,
            http,
            timer,
            platform,
            policy: RetryPolicy::default(),
        }
    }

    /// Creates a prediction: the official-model endpoint, or `/predictions` with the pinned version for
    /// community models. Retries only after 429s, and only while `deadline_ms` allows.
    pub async fn create(
        &self,
        model: &ModelSchema,
        input: &Value,
        options: CreateOptions<'_>,
        deadline_ms: f64,
    ) -> Result<Prediction, ReplicateError> {
        self.create_version(model, None, input, options, deadline_ms)
            .await
    }

    /// As [`Replicate::create`], at `version` (64 hex) when one is given: `POST /v1/predictions` with
    /// `version: "owner/name:<version>"`. That form names the model as well as the version (REPLICATE.md:
    /// accepted since 2025-08 beside a bare id), so it works for official models too, whose version ids
    /// this product does not track.
    pub async fn create_version(
        &self,
        model: &ModelSchema,
        version: Option<&str>,
        input: &Value,
        options: CreateOptions<'_>,
        deadline_ms: f64,
    ) -> Result<Prediction, ReplicateError> {
        let (url, mut body) = match (version, model.access) {
            (Some(v), _) => (
                format!("{}/predictions", self.api.base),
                serde_json::json!({ "version": format!("{}:{v}", model.id), "input": input }),
            ),
            (None, super::schema::Access::Official) => (
                format!("{}/models/{}/predictions", self.api.base, model.id),
                serde_json::json!({ "input": input }),
            ),
            (None, super::schema::Access::Community { version, .. }) => (
                format!("{}/predictions", self.api.base),
                serde_json::json!({ "version": version, "input": input }),
            ),
        };
        if let Some(webhook) = options.webhook {
            body["webhook"] = webhook.into();
            body["webhook_events_filter"] = serde_json::json!(["completed"]);
        }
        let wait = options.wait_secs.clamp(1, 60);
        let mut headers = self.auth_headers();
        headers.push(("content-type", "application/json".into()));
        headers.push(("prefer", format!("wait={wait}")));
        if let Some(secs) = options.cancel_after_secs {
            headers.push(("cancel-after", format!("{}s", secs.max(1))));
        }
        loop {
            let request = HttpRequest {
                method: "POST",
                url: url.clone(),
                headers: headers.clone(),
                body: Some(body.to_string().into_bytes()),
                timeout_ms: create_timeout_ms(wait),
            };
            let response = match self.http.send(request).await {
                Ok(r) => r,
                Err(e) => return Err(ReplicateError::CreateUncertain(e.to_string())),
            };
            match response.status {
                200..=202 => {
                    return parse_prediction(&response).map_err(|e| {
                        ReplicateError::CreateUncertain(format!("unreadable create answer: {e}"))
                    })
                }
                429 => {
                    let secs = retry_after_secs(&response);
                    if !self.can_wait(secs, deadline_ms) {
                        return Err(ReplicateError::Throttled {
                            retry_after_secs: secs,
                        });
                    }
                    // A throttled create was not made, so sending it again cannot pay twice.
                    self.timer.sleep_ms(secs * 1000).await;
                }
                500.. => return Err(ReplicateError::CreateUncertain(describe(&response))),
                _ => return Err(permanent(&response)),
            }
        }
    }

    /// Reads a prediction, retrying 429s, 5xx and network errors with backoff while `deadline_ms` allows.
    pub async fn get(&self, id: &str, deadline_ms: f64) -> Result<Prediction, ReplicateError> {
        let url = format!("{}/predictions/{}", self.api.base, id);
        let response = self.get_with_retries(&url, deadline_ms).await?;
        parse_prediction(&response)
            .map_err(|e| ReplicateError::Transient(format!("unreadable prediction: {e}")))
    }

    /// The account's webhook signing secret: `GET /v1/webhooks/default/secret` answers
    /// `{"key": "whsec_…"}`.
    pub async fn webhook_secret(&self, deadline_ms: f64) -> Result<WebhookSecret, ReplicateError> {
        let url = format!("{}/webhooks/default/secret", self.api.base);
        let response = self.get_with_retries(&url, deadline_ms).await?;
        #[derive(serde::Deserialize)]
        struct SecretBody {
            key: String,
        }
        serde_json::from_slice::<SecretBody>(&response.body)
            .ok()
            .and_then(|b| WebhookSecret::parse(&b.key).ok())
            .ok_or_else(|| {
                ReplicateError::Transient(
                    "the webhook secret Replicate answered is not a whsec_ key".into(),
                )
            })
    }

    /// Asks Replicate to stop a prediction (best effort: the answer is not needed).
    pub async fn cancel(&self, id: &str) -> Result<(), ReplicateError> {
        let request = HttpRequest {
            method: "POST",
            url: format!("{}/predictions/{}/cancel", self.api.base, id),
            headers: self.auth_headers(),
            body: None,
            timeout_ms: CALL_TIMEOUT_MS,
        };
        match self.http.send(request).await {
            Ok(r) if r.status < 300 => Ok(()),
            Ok(r) => Err(ReplicateError::Transient(describe(&r))),
            Err(e) => Err(ReplicateError::Transient(e.to_string())),
        }
    }

    /// Looks for the prediction carrying `mark` among every prediction created since `window_start_ms`
    /// (the create's intent time minus clock skew): `GET /v1/predictions` newest first, following `next`
    /// until a page reaches entries older than the window. Only the mark decides: a prediction of another
    /// generation is never returned, however alike its input. Whether the list shows `webhook` is not
    /// documented, so an entry without it is read with a GET. To keep those GETs few, entries of another
    /// model, or whose listed input has another `prompt` (a string, so no re-serialisation can change it),
    /// are skipped. Any failure (Replicate unavailable, the deadline, too many pages) is an error: the
    /// caller must not conclude "not created" from a search that did not finish.
    pub async fn find_by_mark(
        &self,
        model: &ModelSchema,
        prompt: &str,
        mark: OwnerMark,
        window_start_ms: f64,
        deadline_ms: f64,
    ) -> Result<MarkSearch, ReplicateError> {
        let list_base = format!("{}/predictions", self.api.base);
        let mut url = list_base.clone();
        for _ in 0..MAX_SEARCH_PAGES {
            if self.platform.now_ms() >= deadline_ms {
                return Err(ReplicateError::Transient(
                    "the search for a lost create ran out of time".into(),
                ));
            }
            let response = self.get_with_retries(&url, deadline_ms).await?;
            let page: PredictionList = serde_json::from_slice(&response.body).map_err(|e| {
                ReplicateError::Transient(format!("unreadable prediction list: {e}"))
            })?;
            let mut reached_window_start = false;
            for entry in page.results {
                // An unreadable created_at counts as inside the window: looked at, never a reason to stop.
                let created = crate::time::parse_rfc3339_ms(&entry.created_at);
                if created.is_some_and(|c| c < window_start_ms) {
                    reached_window_start = true;
                    continue;
                }
                let listed_prompt = entry.input.get("prompt").and_then(Value::as_str);
                if entry.model != model.id || listed_prompt.is_some_and(|p| p != prompt) {
                    continue;
                }
                let full = match &entry.webhook {
                    Some(_) => entry,
                    None => self.get(&entry.id, deadline_ms).await?,
                };
                if full.webhook.as_deref().and_then(OwnerMark::parse) == Some(mark) {
                    return Ok(MarkSearch::Found(Box::new(full)));
                }
            }
            match page.next {
                _ if reached_window_start => return Ok(MarkSearch::NotInWindow),
                None => return Ok(MarkSearch::NotInWindow),
                // The cursor is Replicate's own URL; anything else would carry our token elsewhere.
                Some(next) if next.starts_with(&list_base) => url = next,
                Some(next) => {
                    return Err(ReplicateError::Transient(format!(
                        "the prediction list pointed outside the API: {next}"
                    )))
                }
            }
        }
        Err(ReplicateError::Transient(format!(
            "more than {MAX_SEARCH_PAGES} pages of predictions since the lost create"
        )))
    }

    /// Polls until the prediction is terminal or `until_ms` passes; returns the last state seen.
    pub async fn wait_until_done(
        &self,
        prediction: Prediction,
        until_ms: f64,
    ) -> Result<Prediction, ReplicateError> {
        let never = || async { false };
        self.wait_until_done_or(prediction, until_ms, f64::INFINITY, never)
            .await
            .map(|(p, _)| p)
    }

    /// Like [`Self::wait_until_done`], and every `check_every_ms` asks `stop` whether to give up waiting
    /// (e.g. the user cancelled the generation). Answers the last state seen and whether `stop` said so.
    pub async fn wait_until_done_or<F, Fut>(
        &self,
        mut prediction: Prediction,
        until_ms: f64,
        check_every_ms: f64,
        mut stop: F,
    ) -> Result<(Prediction, bool), ReplicateError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let mut interval = self.policy.poll_ms;
        let mut next_check = self.platform.now_ms() + check_every_ms;
        while !prediction.status.is_terminal() {
            let now = self.platform.now_ms();
            if now >= until_ms {
                break;
            }
            if now >= next_check {
                if stop().await {
                    return Ok((prediction, true));
                }
                next_check = self.platform.now_ms() + check_every_ms;
            }
            self.timer
                .sleep_ms(interval.min(until_ms - now).max(1.0) as u64)
                .await;
            interval = (interval * 1.5).min(self.policy.poll_cap_ms);
            prediction = self.get(&prediction.id, until_ms).await?;
        }
        Ok((prediction, false))
    }

    fn auth_headers(&self) -> Vec<(&'static str, String)> {
        vec![("authorization", format!("Bearer {}", self.api.token))]
    }

    fn can_wait(&self, secs: u64, deadline_ms: f64) -> bool {
        secs <= self.policy.max_throttle_wait_secs
            && self.platform.now_ms() + secs as f64 * 1000.0 < deadline_ms
    }

    async fn get_with_retries(
        &self,
        url: &str,
        deadline_ms: f64,
    ) -> Result<HttpResponse, ReplicateError> {
        let mut backoff = self.policy.backoff_ms;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let request = HttpRequest {
                method: "GET",
                url: url.to_owned(),
                headers: self.auth_headers(),
                body: None,
                timeout_ms: CALL_TIMEOUT_MS,
            };
            let failure = match self.http.send(request).await {
                Ok(r) if r.status < 300 => return Ok(r),
                Ok(r) if r.status == 429 => {
                    let secs = retry_after_secs(&r);
                    if !self.can_wait(secs, deadline_ms) {
                        return Err(ReplicateError::Throttled {
                            retry_after_secs: secs,
                        });
                    }
                    self.timer.sleep_ms(secs * 1000).await;
                    continue;
                }
                Ok(r) if r.status >= 500 => describe(&r),
                Ok(r) => return Err(permanent(&r)),
                Err(HttpError::Timeout) => "Replicate did not answer in time".to_owned(),
                Err(e) => e.to_string(),
            };
            let jittered = backoff * (0.75 + 0.5 * self.platform.random_unit());
            if attempt >= self.policy.get_attempts
                || self.platform.now_ms() + jittered >= deadline_ms
            {
                return Err(ReplicateError::Transient(failure));
            }
            self.timer.sleep_ms(jittered as u64).await;
            backoff = (backoff * 2.0).min(self.policy.backoff_cap_ms);
        }
    }
}

fn parse_prediction(response: &HttpResponse) -> Result<Prediction, serde_json::Error> {
    serde_json::from_slice(&response.body)
}

/// `retry_after` from the 429 body (seen in 2026), else the `Retry-After` header, else a default.
fn retry_after_secs(response: &HttpResponse) -> u64 {
    serde_json::from_slice::<Value>(&response.body)
        .ok()
        .and_then(|b| b.get("retry_after").and_then(|v| v.as_f64()))
        .map(|secs| secs.ceil() as u64)
        .or_else(|| {
            response
                .header("retry-after")
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(DEFAULT_RETRY_AFTER_SECS)
        .max(1)
}

/// "HTTP 503: <detail>" from a problem-details body when there is one.
fn describe(response: &HttpResponse) -> String {
    match serde_json::from_slice::<Problem>(&response.body) {
        Ok(p) => format!(
            "Replicate answered {}: {}",
            response.status,
            p.detail.trim()
        ),
        Err(_) => format!("Replicate answered {}", response.status),
    }
}

/// 4xx other than 429: the request itself is wrong, or our token is.
fn permanent(response: &HttpResponse) -> ReplicateError {
    let detail = serde_json::from_slice::<Problem>(&response.body)
        .ok()
        .map(|p| p.detail.trim().to_owned());
    let (code, message) = match response.status {
        401 | 403 => (
            "replicate_unauthorized",
            "Replicate refused our API token (check REPLICATE_API_TOKEN)".to_owned(),
        ),
        404 => (
            "replicate_not_found",
            format!(
                "Replicate does not know this model or prediction{}",
                suffix(&detail)
            ),
        ),
        422 => (
            "replicate_invalid_input",
            format!("Replicate refused the model input{}", suffix(&detail)),
        ),
        _ => (
            "replicate_rejected",
            format!("Replicate answered {}{}", response.status, suffix(&detail)),
        ),
    };
    ReplicateError::Permanent { code, message }
}

fn suffix(detail: &Option<String>) -> String {
    detail
        .as_deref()
        .filter(|d| !d.is_empty())
        .map(|d| format!(": {d}"))
        .unwrap_or_default()
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
