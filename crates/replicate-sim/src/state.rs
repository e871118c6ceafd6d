//! The simulator's shared state and the prediction state transitions (each emits its webhook events).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard};
use std::time::Instant;

use bytes::Bytes;
use imagegen_core::replicate::schema::{SafetyChecker, NSFW_FLUX, NSFW_PROVIDER, NSFW_SDXL};
use imagegen_core::replicate::{PredictionStatus, WebhookEvent, WebhookSecret};

use crate::clock::Clock;
use crate::config::{Config, Settings};
use crate::counters::Counters;
use crate::faults::{FaultBook, PredictionFault};
use crate::ids::IdGen;
use crate::rate_limit::Bucket;
use crate::store::{Record, Store};
use crate::webhooks::{self, WebhookJob};

/// How a prediction ends, decided when it is created.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Succeed {
        outputs: u32,
    },
    /// Runs, then fails (billed).
    Fail(String),
    /// Fails when it would have started: never runs (not billed).
    FailToStart(String),
}

/// Shared by every request and prediction task.
pub struct App {
    pub base_url: String,
    pub api_token: Option<String>,
    pub secret: WebhookSecret,
    pub clock: Clock,
    pub ids: IdGen,
    pub http: webhooks::Client,
    settings: RwLock<Settings>,
    pub faults: Mutex<FaultBook>,
    pub store: Mutex<Store>,
    counters: Mutex<Counters>,
    pub create_bucket: Mutex<Bucket>,
    pub other_bucket: Mutex<Bucket>,
    /// Until when each community model stays warm.
    warm_until: Mutex<HashMap<&'static str, Instant>>,
    /// Recently rendered files, newest last.
    pub file_cache: Mutex<Vec<(String, Bytes)>>,
}

/// Locks a mutex even if a panicking thread poisoned it (state stays usable; the panic is reported).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl App {
    pub fn new(config: Config, base_url: String) -> Self {
        let mut faults = FaultBook::default();
        faults.add(config.faults);
        Self {
            base_url,
            api_token: config.api_token,
            // Checked when the config was read; a bad secret here falls back to the default one.
            secret: WebhookSecret::parse(&config.webhook_secret).unwrap_or_else(|_| {
                WebhookSecret::parse(crate::config::DEFAULT_WEBHOOK_SECRET)
                    .expect("the default secret is valid")
            }),
            clock: Clock::default(),
            ids: IdGen::new(),
            http: webhooks::client(),
            settings: RwLock::new(config.settings),
            faults: Mutex::new(faults),
            store: Mutex::new(Store::default()),
            counters: Mutex::new(Counters::default()),
            create_bucket: Mutex::new(Bucket::default()),
            other_bucket: Mutex::new(Bucket::default()),
            warm_until: Mutex::new(HashMap::new()),
            file_cache: Mutex::new(Vec::new()),
        }
    }

    /// Current settings (read lock; keep it short).
    pub fn settings(&self) -> RwLockReadGuard<'_, Settings> {
        self.settings.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies an `/admin/config` patch.
    pub fn patch_settings(&self, patch: &serde_json::Value) -> Result<Settings, String> {
        let mut s = self.settings.write().unwrap_or_else(|e| e.into_inner());
        s.patch(patch)?;
        Ok(s.clone())
    }

    pub fn counters(&self) -> MutexGuard<'_, Counters> {
        lock(&self.counters)
    }

    /// Forgets predictions, counters, faults, rate-limit state, warm models and the clock offset.
    pub fn reset(&self) {
        lock(&self.store).clear();
        *lock(&self.counters) = Counters::default();
        lock(&self.faults).clear();
        lock(&self.create_bucket).reset();
        lock(&self.other_bucket).reset();
        lock(&self.warm_until).clear();
        lock(&self.file_cache).clear();
        self.clock.reset();
    }

    /// A uniform [0, 1) for fault probabilities.
    pub fn roll(&self) -> f64 {
        self.ids.next_f64()
    }

    /// Whether a community model boots cold for a prediction now, and keeps it warm for a while.
    pub fn take_cold_start(
        &self,
        model: &'static str,
        official: bool,
        settings: &Settings,
    ) -> bool {
        if official {
            return false; // "Official models have no cold boots" (REPLICATE.md)
        }
        let now = Instant::now();
        let mut warm = lock(&self.warm_until);
        let cold = warm.get(model).is_none_or(|until| *until <= now);
        warm.insert(
            model,
            now + std::time::Duration::from_secs(settings.cold_after_secs),
        );
        cold
    }

    /// Queues webhook `event` for `rec` if its filter wants it.
    fn emit(&self, rec: &Record, event: WebhookEvent) {
        let Some(hooks) = &rec.hooks else { return };
        let wanted = rec
            .webhook_events_filter
            .as_deref()
            .unwrap_or(&WebhookEvent::DEFAULT_FILTER);
        if !wanted.contains(&event) {
            return;
        }
        let expiry = self.settings().expiry_secs;
        let view = rec.view(&self.base_url, self.clock.now_us(), expiry);
        let body = serde_json::to_vec(&view).unwrap_or_default();
        let _ = hooks.send(WebhookJob {
            event,
            body: Bytes::from(body),
        });
    }

    /// Stores a new prediction and sends its `start` event.
    pub fn insert(&self, rec: Record) {
        self.emit(&rec, WebhookEvent::Start);
        lock(&self.store).insert(rec);
    }

    /// `starting → processing`; false if the prediction is no longer starting (canceled).
    pub fn start_processing(&self, id: &str) -> bool {
        let mut store = lock(&self.store);
        let Some(rec) = store.get_mut(id) else {
            return false;
        };
        if rec.status != PredictionStatus::Starting {
            return false;
        }
        rec.status = PredictionStatus::Processing;
        rec.started_us = Some(self.clock.now_us());
        rec.logs
            .push_str(&format!("Using seed: {}\n", rec.render.seed));
        let _ = rec.status_tx.send(rec.status);
        self.emit(rec, WebhookEvent::Logs);
        true
    }

    /// `processing → succeeded | failed` with the outcome decided at creation.
    pub fn finish(&self, id: &str, outcome: &Outcome) {
        let mut store = lock(&self.store);
        let Some(rec) = store.get_mut(id) else { return };
        if rec.status != PredictionStatus::Processing {
            return;
        }
        let now = self.clock.now_us();
        rec.completed_us = Some(now);
        match outcome {
            Outcome::Succeed { outputs } => {
                rec.status = PredictionStatus::Succeeded;
                rec.outputs = *outputs;
                let secs = (now - rec.started_us.unwrap_or(now)) as f64 / 1e6;
                rec.logs
                    .push_str(&format!("Generated {outputs} image(s) in {secs:.2}s\n"));
                let _ = rec.status_tx.send(rec.status);
                self.emit(rec, WebhookEvent::Logs);
                self.emit(rec, WebhookEvent::Output);
            }
            Outcome::Fail(error) | Outcome::FailToStart(error) => {
                rec.status = PredictionStatus::Failed;
                rec.error = Some(error.clone());
                let _ = rec.status_tx.send(rec.status);
            }
        }
        self.emit(rec, WebhookEvent::Completed);
    }

    /// `starting → failed` without ever running (no `started_at`, so no predict time).
    pub fn fail_to_start(&self, id: &str, error: &str) {
        let mut store = lock(&self.store);
        let Some(rec) = store.get_mut(id) else { return };
        if rec.status != PredictionStatus::Starting {
            return;
        }
        rec.status = PredictionStatus::Failed;
        rec.completed_us = Some(self.clock.now_us());
        rec.error = Some(error.to_owned());
        let _ = rec.status_tx.send(rec.status);
        self.emit(rec, WebhookEvent::Completed);
    }

    /// Ends an unfinished prediction: `aborted` if it never started, else `canceled`. Returns whether it
    /// changed. `only_if_starting` limits it to the not-yet-started case (a `Cancel-After` deadline).
    pub fn stop(&self, id: &str, only_if_starting: bool) -> bool {
        let mut store = lock(&self.store);
        let Some(rec) = store.get_mut(id) else {
            return false;
        };
        let next = match rec.status {
            PredictionStatus::Starting if only_if_starting => PredictionStatus::Aborted,
            // An explicit cancel of a queued prediction is `canceled`, as Replicate reports it.
            PredictionStatus::Starting => PredictionStatus::Canceled,
            PredictionStatus::Processing if !only_if_starting => PredictionStatus::Canceled,
            _ => return false,
        };
        rec.status = next;
        rec.completed_us = Some(self.clock.now_us());
        let _ = rec.status_tx.send(next);
        self.emit(rec, WebhookEvent::Completed);
        true
    }

    /// The outcome a prediction fault gives on `model`.
    pub fn outcome_for(fault: &PredictionFault, safety: SafetyChecker, outputs: u32) -> Outcome {
        let nsfw = || match safety {
            SafetyChecker::Sdxl => NSFW_SDXL.to_owned(),
            SafetyChecker::Flux => NSFW_FLUX.to_owned(),
            SafetyChecker::Provider => NSFW_PROVIDER.to_owned(),
        };
        match fault {
            PredictionFault::Nsfw => Outcome::Fail(nsfw()),
            // FLUX drops flagged images silently: fewer outputs than asked for, unless none are left.
            PredictionFault::NsfwPartial if outputs > 1 => Outcome::Succeed {
                outputs: outputs - 1,
            },
            PredictionFault::NsfwPartial => Outcome::Fail(nsfw()),
            PredictionFault::Fail(e) => Outcome::Fail(e.clone()),
            PredictionFault::StartFail(e) => Outcome::FailToStart(e.clone()),
            PredictionFault::None | PredictionFault::Stuck => Outcome::Succeed { outputs },
        }
    }
}
