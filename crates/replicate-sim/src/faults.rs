//! Injected faults: what can go wrong with Replicate, armed from flags/env or `/admin/faults`.
//!
//! A rule fires on matching requests (`on`, optionally one `model`), `times` times (default: until
//! cleared), each with `probability` (default 1). Request faults replace the answer: `throttle` (429 with
//! Replicate's body), `status` (a 5xx), `reset` (the TCP connection is reset, no answer), `slow` (the answer
//! is delayed, then normal). With `after: true`, `status`/`reset` on a create hit *after* the prediction was
//! created — the lost-response case that tempts a client into paying twice — and `slow` holds the answer
//! of a prediction already made (its webhook can then arrive first). Prediction faults shape the
//! prediction a create starts: `nsfw` (fails with the model's NSFW text), `nsfw_partial` (FLUX-style: one
//! output silently dropped), `fail` (runs, then fails with `error`: billed), `start_fail` (fails while
//! starting, never runs: not billed; E6716 by default), `stuck` (never leaves `starting`). A file fault,
//! `redirect`, answers an output download with `302 Location: <location>` (default: the same file again),
//! as a CDN in front of the files might: a client must check where it is sent before following.
//!
//! Webhook faults (`on: "webhook"`; a rule `on: "any"` never touches webhooks) act on one prediction's
//! delivery of one event — `completed` unless the rule names another `event` — decided once, so they
//! cover that delivery's retries too: `drop` (never sent, nor retried: the lost webhook; the prediction
//! still completes and a GET shows it), `duplicate` (sent once more after it was delivered or given up,
//! under the same `webhook-id` with a fresh timestamp and signature, as Replicate retrying after a lost
//! 2xx would), `slow` (held `delay_ms` before it is sent; the prediction's later events wait behind it,
//! as deliveries stay in order). A dropped delivery does not use up a `slow` rule.

use imagegen_core::replicate::WebhookEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    Throttle,
    Status,
    Reset,
    Slow,
    Nsfw,
    NsfwPartial,
    Fail,
    StartFail,
    Stuck,
    Redirect,
    Drop,
    Duplicate,
}

impl FaultKind {
    /// Whether the rule shapes a created prediction rather than an HTTP answer.
    pub fn is_prediction_fault(self) -> bool {
        matches!(
            self,
            Self::Nsfw | Self::NsfwPartial | Self::Fail | Self::StartFail | Self::Stuck
        )
    }

    /// Whether the rule can act on a webhook delivery (`on: "webhook"`).
    pub fn applies_to_webhooks(self) -> bool {
        matches!(self, Self::Drop | Self::Duplicate | Self::Slow)
    }

    /// The wire spelling, as counted in `faults_fired`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Throttle => "throttle",
            Self::Status => "status",
            Self::Reset => "reset",
            Self::Slow => "slow",
            Self::Nsfw => "nsfw",
            Self::NsfwPartial => "nsfw_partial",
            Self::Fail => "fail",
            Self::StartFail => "start_fail",
            Self::Stuck => "stuck",
            Self::Redirect => "redirect",
            Self::Drop => "drop",
            Self::Duplicate => "duplicate",
        }
    }
}

/// Which requests a rule watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Every API request and file download.
    #[default]
    Any,
    /// `POST .../predictions`.
    Create,
    /// `GET /v1/predictions/{id}`.
    Get,
    /// `POST /v1/predictions/{id}/cancel`.
    Cancel,
    /// `GET /v1/predictions`.
    List,
    /// `GET /v1/webhooks/default/secret`.
    Secret,
    /// Output file downloads.
    File,
    /// Webhook deliveries the simulator sends (not matched by `any`).
    Webhook,
}

/// One armed fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    pub kind: FaultKind,
    #[serde(default)]
    pub on: Target,
    /// Only requests for this `owner/name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// How many more times it fires; absent = until cleared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// Chance of firing on each matching request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// `status`: the HTTP status (500–599, default 503).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `throttle`: the `retry_after` seconds (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// `slow`: delay before answering, in ms (default 2000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// `fail` / `start_fail`: the prediction's `error` (default an out-of-memory failure / E6716).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `status`/`reset` on `create`: strike after the prediction was created.
    #[serde(default)]
    pub after: bool,
    /// `redirect`: the `Location` sent (absolute or relative); absent = the requested file again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// `on: "webhook"`: the event whose delivery is hit; absent = `completed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<WebhookEvent>,
}

impl FaultRule {
    fn check(&self) -> Result<(), String> {
        if let Some(p) = self.probability {
            if !(0.0..=1.0).contains(&p) {
                return Err("probability must be from 0 to 1".into());
            }
        }
        if self.kind.is_prediction_fault() && !matches!(self.on, Target::Create | Target::Any) {
            return Err(format!(
                "{:?} faults apply to creates only (on: \"create\")",
                self.kind
            )
            .to_lowercase());
        }
        if let Some(s) = self.status {
            if self.kind != FaultKind::Status || !(500..=599).contains(&s) {
                return Err("status is for kind \"status\" and must be 500–599".into());
            }
        }
        if matches!(self.kind, FaultKind::Drop | FaultKind::Duplicate) && self.on != Target::Webhook
        {
            return Err(format!(
                "{} faults apply to webhook deliveries (on: \"webhook\")",
                self.kind.as_str()
            ));
        }
        if self.on == Target::Webhook && !self.kind.applies_to_webhooks() {
            return Err(format!(
                "{} faults do not apply to webhook deliveries; use drop, duplicate or slow",
                self.kind.as_str()
            ));
        }
        if self.event.is_some() && self.on != Target::Webhook {
            return Err("event is for faults on webhook deliveries (on: \"webhook\")".into());
        }
        if self.kind == FaultKind::Redirect && self.on != Target::File {
            return Err("redirect faults apply to file downloads (on: \"file\")".into());
        }
        if self.location.is_some() && self.kind != FaultKind::Redirect {
            return Err("location is for kind \"redirect\"".into());
        }
        if self
            .location
            .as_deref()
            .is_some_and(|l| l.is_empty() || l.chars().any(|c| c.is_control() || c == ' '))
        {
            return Err("location must be a URL or a path".into());
        }
        if self.after
            && !(matches!(
                self.kind,
                FaultKind::Status | FaultKind::Reset | FaultKind::Slow
            ) && self.on == Target::Create)
        {
            return Err("after: true is for status/reset/slow faults on create".into());
        }
        if let Some(m) = &self.model {
            if imagegen_core::replicate::find_model(m).is_none() {
                return Err(format!("unknown model `{m}`"));
            }
        }
        Ok(())
    }
}

/// Parses one rule or an array of rules, checking each.
pub fn parse_rules(v: &Value) -> Result<Vec<FaultRule>, String> {
    let items = match v {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let rule: FaultRule =
                serde_json::from_value(item).map_err(|e| format!("fault {i}: {e}"))?;
            rule.check().map_err(|e| format!("fault {i}: {e}"))?;
            Ok(rule)
        })
        .collect()
}

/// What a fired request fault does to the answer.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestFault {
    Throttle(u64),
    Status(u16),
    Reset,
}

/// What a fired prediction fault does to the prediction.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum PredictionFault {
    #[default]
    None,
    Nsfw,
    NsfwPartial,
    Fail(String),
    /// Fails while starting: no `started_at`, no predict time (Replicate bills none).
    StartFail(String),
    Stuck,
}

/// What fired webhook faults do to one delivery (one event of one prediction, retries included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFault {
    /// Never sent, nor retried.
    Drop,
    /// Held `hold_ms` (when a `slow` rule fired) before the first attempt; with `duplicate`, sent once
    /// more afterwards.
    Send {
        hold_ms: Option<u64>,
        duplicate: bool,
    },
}

impl WebhookFault {
    /// A delivery no rule touched.
    pub const NONE: Self = Self::Send {
        hold_ms: None,
        duplicate: false,
    };
}

/// The armed rules.
#[derive(Debug, Default)]
pub struct FaultBook {
    rules: Vec<FaultRule>,
}

impl FaultBook {
    /// All armed rules.
    pub fn rules(&self) -> &[FaultRule] {
        &self.rules
    }

    /// Arms more rules.
    pub fn add(&mut self, rules: Vec<FaultRule>) {
        self.rules.extend(rules);
    }

    /// Disarms everything.
    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// Fires the first rule of a kind selected by `want` that matches; `roll` gives a uniform [0, 1).
    fn fire(
        &mut self,
        target: Target,
        model: Option<&str>,
        mut want: impl FnMut(&FaultRule) -> bool,
        roll: &mut dyn FnMut() -> f64,
    ) -> Option<FaultRule> {
        // `any` means the requests the simulator serves; webhooks are sent, not served, and an existing
        // `slow` rule on `any` must not start holding them.
        let i = self.rules.iter().position(|r| {
            want(r)
                && (r.on == target || (r.on == Target::Any && target != Target::Webhook))
                && r.model.as_deref().is_none_or(|m| Some(m) == model)
                && r.times != Some(0)
                && r.probability.is_none_or(|p| roll() < p)
        })?;
        let rule = self.rules[i].clone();
        if let Some(t) = self.rules[i].times.as_mut() {
            *t -= 1;
            if *t == 0 {
                self.rules.remove(i);
            }
        }
        Some(rule)
    }

    /// A `slow` delay for this request, if one fires. `after` selects the rules that hold a create's
    /// answer after its prediction was made (so its webhook can arrive before the answer).
    pub fn slow(
        &mut self,
        target: Target,
        model: Option<&str>,
        after: bool,
        roll: &mut dyn FnMut() -> f64,
    ) -> Option<u64> {
        self.fire(
            target,
            model,
            |r| r.kind == FaultKind::Slow && r.after == after,
            roll,
        )
        .map(|r| r.delay_ms.unwrap_or(2000))
    }

    /// A `redirect` for this file download, if one fires: the rule's `location`, if it has one.
    pub fn redirect(
        &mut self,
        model: Option<&str>,
        roll: &mut dyn FnMut() -> f64,
    ) -> Option<Option<String>> {
        self.fire(Target::File, model, |r| r.kind == FaultKind::Redirect, roll)
            .map(|r| r.location)
    }

    /// A fault replacing the answer, if one fires. `after` selects the after-create rules.
    pub fn request(
        &mut self,
        target: Target,
        model: Option<&str>,
        after: bool,
        roll: &mut dyn FnMut() -> f64,
    ) -> Option<RequestFault> {
        let rule = self.fire(
            target,
            model,
            |r| {
                matches!(
                    r.kind,
                    FaultKind::Throttle | FaultKind::Status | FaultKind::Reset
                ) && r.after == after
            },
            roll,
        )?;
        Some(match rule.kind {
            FaultKind::Throttle => RequestFault::Throttle(rule.retry_after.unwrap_or(30)),
            FaultKind::Status => RequestFault::Status(rule.status.unwrap_or(503)),
            _ => RequestFault::Reset,
        })
    }

    /// What webhook faults do to the delivery of `event` for a prediction of `model`. A `drop` or
    /// `duplicate` rule is looked for first, so a dropped delivery leaves `slow` rules armed.
    pub fn webhook(
        &mut self,
        event: WebhookEvent,
        model: &str,
        roll: &mut dyn FnMut() -> f64,
    ) -> WebhookFault {
        let for_event = |r: &FaultRule| r.event.unwrap_or(WebhookEvent::Completed) == event;
        let fate = self.fire(
            Target::Webhook,
            Some(model),
            |r| matches!(r.kind, FaultKind::Drop | FaultKind::Duplicate) && for_event(r),
            roll,
        );
        if fate.as_ref().is_some_and(|r| r.kind == FaultKind::Drop) {
            return WebhookFault::Drop;
        }
        let slow = self.fire(
            Target::Webhook,
            Some(model),
            |r| r.kind == FaultKind::Slow && for_event(r),
            roll,
        );
        WebhookFault::Send {
            hold_ms: slow.map(|r| r.delay_ms.unwrap_or(2000)),
            duplicate: fate.is_some(),
        }
    }

    /// The prediction fault for a create of `model`, if one fires.
    pub fn prediction(&mut self, model: &str, roll: &mut dyn FnMut() -> f64) -> PredictionFault {
        match self.fire(
            Target::Create,
            Some(model),
            |r| r.kind.is_prediction_fault(),
            roll,
        ) {
            None => PredictionFault::None,
            Some(r) => match r.kind {
                FaultKind::Nsfw => PredictionFault::Nsfw,
                FaultKind::NsfwPartial => PredictionFault::NsfwPartial,
                FaultKind::Stuck => PredictionFault::Stuck,
                FaultKind::StartFail => PredictionFault::StartFail(
                    r.error
                        .unwrap_or_else(|| "E6716: Timed out starting model".to_owned()),
                ),
                _ => PredictionFault::Fail(r.error.unwrap_or_else(|| {
                    "CUDA out of memory. Tried to allocate 2.00 GiB (E1001)".to_owned()
                })),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn always() -> f64 {
        0.0
    }

    #[test]
    fn rules_fire_their_number_of_times_on_their_target_and_model() {
        let mut book = FaultBook::default();
        book.add(
            parse_rules(
                &json!([{"kind": "status", "on": "create", "times": 2, "status": 500,
            "model": "google/imagen-4"}]),
            )
            .unwrap(),
        );
        let mut roll = always;
        assert_eq!(
            book.request(Target::Get, Some("google/imagen-4"), false, &mut roll),
            None
        );
        assert_eq!(
            book.request(Target::Create, Some("google/nano-banana"), false, &mut roll),
            None
        );
        assert_eq!(
            book.request(Target::Create, Some("google/imagen-4"), false, &mut roll),
            Some(RequestFault::Status(500))
        );
        assert_eq!(
            book.request(Target::Create, Some("google/imagen-4"), false, &mut roll),
            Some(RequestFault::Status(500))
        );
        assert_eq!(
            book.request(Target::Create, Some("google/imagen-4"), false, &mut roll),
            None
        );
        assert!(book.rules().is_empty());
    }

    #[test]
    fn a_slow_rule_after_the_create_holds_only_the_answer_of_a_made_prediction() {
        let mut book = FaultBook::default();
        book.add(
            parse_rules(&json!({"kind": "slow", "on": "create", "after": true, "delay_ms": 900}))
                .unwrap(),
        );
        let mut roll = always;
        assert_eq!(book.slow(Target::Create, None, false, &mut roll), None);
        assert_eq!(book.slow(Target::Create, None, true, &mut roll), Some(900));
        assert!(
            parse_rules(&json!({"kind": "slow", "on": "get", "after": true})).is_err(),
            "after is for creates"
        );
    }

    #[test]
    fn probability_gates_each_request() {
        let mut book = FaultBook::default();
        book.add(
            parse_rules(&json!({"kind": "throttle", "probability": 0.5, "retry_after": 3}))
                .unwrap(),
        );
        assert_eq!(book.request(Target::Get, None, false, &mut || 0.7), None);
        assert_eq!(
            book.request(Target::Get, None, false, &mut || 0.2),
            Some(RequestFault::Throttle(3))
        );
    }

    #[test]
    fn redirects_fire_on_file_downloads_only() {
        let mut book = FaultBook::default();
        book.add(
            parse_rules(&json!([
                {"kind": "redirect", "on": "file", "times": 1, "location": "http://169.254.169.254/x"},
                {"kind": "redirect", "on": "file", "times": 1}
            ]))
            .unwrap(),
        );
        assert_eq!(book.request(Target::File, None, false, &mut always), None);
        assert_eq!(
            book.redirect(None, &mut always),
            Some(Some("http://169.254.169.254/x".to_owned()))
        );
        assert_eq!(book.redirect(None, &mut always), Some(None));
        assert_eq!(book.redirect(None, &mut always), None);
    }

    #[test]
    fn prediction_faults_and_bad_rules() {
        let mut book = FaultBook::default();
        book.add(parse_rules(&json!({"kind": "nsfw", "on": "create", "times": 1})).unwrap());
        assert_eq!(
            book.prediction("google/imagen-4", &mut always),
            PredictionFault::Nsfw
        );
        assert_eq!(
            book.prediction("google/imagen-4", &mut always),
            PredictionFault::None
        );
        book.add(parse_rules(&json!({"kind": "start_fail", "times": 1})).unwrap());
        assert_eq!(
            book.prediction("google/imagen-4", &mut always),
            PredictionFault::StartFail("E6716: Timed out starting model".into())
        );
        for bad in [
            json!({"kind": "explode"}),
            json!({"kind": "status", "status": 404}),
            json!({"kind": "stuck", "on": "get"}),
            json!({"kind": "throttle", "probability": 2}),
            json!({"kind": "reset", "after": true}),
            json!({"kind": "reset", "model": "nobody/nothing"}),
            json!({"kind": "reset", "colour": "red"}),
            json!({"kind": "redirect"}),
            json!({"kind": "redirect", "on": "get"}),
            json!({"kind": "status", "on": "file", "location": "/x"}),
            json!({"kind": "redirect", "on": "file", "location": ""}),
            json!({"kind": "redirect", "on": "file", "location": "http://a b/"}),
        ] {
            assert!(parse_rules(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn webhook_faults_hit_their_event_only_and_never_through_any() {
        use WebhookEvent::{Completed, Output, Start};
        let imagen = "google/imagen-4";
        let mut book = FaultBook::default();
        book.add(parse_rules(&json!({"kind": "slow", "delay_ms": 5})).unwrap());
        assert_eq!(
            book.webhook(Completed, imagen, &mut always),
            WebhookFault::NONE,
            "a rule on any is for requests, not webhooks"
        );
        book.clear();
        book.add(
            parse_rules(&json!([
                {"kind": "drop", "on": "webhook", "times": 1, "model": "google/nano-banana"},
                {"kind": "drop", "on": "webhook", "times": 1},
                {"kind": "slow", "on": "webhook", "times": 1, "delay_ms": 70},
                {"kind": "duplicate", "on": "webhook", "times": 1, "event": "start"}
            ]))
            .unwrap(),
        );
        assert_eq!(
            book.webhook(Output, imagen, &mut always),
            WebhookFault::NONE,
            "completed by default"
        );
        assert_eq!(
            book.webhook(Completed, imagen, &mut always),
            WebhookFault::Drop
        );
        assert_eq!(
            book.webhook(Completed, imagen, &mut always),
            WebhookFault::Send {
                hold_ms: Some(70),
                duplicate: false
            },
            "the drop fired once and left the slow rule armed"
        );
        assert_eq!(
            book.webhook(Start, imagen, &mut always),
            WebhookFault::Send {
                hold_ms: None,
                duplicate: true
            }
        );
        assert_eq!(
            book.webhook(Completed, "google/nano-banana", &mut always),
            WebhookFault::Drop
        );
        assert!(book.rules().is_empty());
    }

    #[test]
    fn nonsense_webhook_rules_are_refused_with_a_reason() {
        for (bad, reason) in [
            (json!({"kind": "drop"}), "on: \"webhook\""),
            (json!({"kind": "drop", "on": "create"}), "on: \"webhook\""),
            (json!({"kind": "duplicate", "on": "get"}), "on: \"webhook\""),
            (
                json!({"kind": "throttle", "on": "webhook"}),
                "drop, duplicate or slow",
            ),
            (
                json!({"kind": "status", "on": "webhook"}),
                "drop, duplicate or slow",
            ),
            (
                json!({"kind": "reset", "on": "webhook"}),
                "drop, duplicate or slow",
            ),
            (
                json!({"kind": "redirect", "on": "webhook"}),
                "drop, duplicate or slow",
            ),
            (json!({"kind": "stuck", "on": "webhook"}), "creates only"),
            (json!({"kind": "slow", "event": "start"}), "event is for"),
            (
                json!({"kind": "status", "on": "create", "event": "completed"}),
                "event is for",
            ),
            (
                json!({"kind": "drop", "on": "webhook", "event": "done"}),
                "unknown variant",
            ),
            (
                json!({"kind": "drop", "on": "webhook", "after": true}),
                "after: true",
            ),
        ] {
            let err = parse_rules(&bad).expect_err(&bad.to_string());
            assert!(err.contains(reason), "{bad}: {err}");
        }
        for good in [
            json!({"kind": "drop", "on": "webhook", "event": "output", "probability": 0.5}),
            json!({"kind": "duplicate", "on": "webhook", "model": "google/imagen-4"}),
            json!({"kind": "slow", "on": "webhook", "delay_ms": 10, "event": "logs"}),
        ] {
            assert!(parse_rules(&good).is_ok(), "{good}");
        }
    }
}
