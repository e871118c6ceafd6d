//! Predictions in memory, and how each is shown on the wire at a given moment (expired data removed).

use std::collections::HashMap;

use imagegen_core::replicate::{
    Metrics, ModelSchema, OutputFormat, OutputShape, Prediction, PredictionStatus, PredictionUrls,
    Source, WebhookEvent,
};
use serde_json::Value;
use tokio::sync::{mpsc, watch};

use crate::clock::rfc3339;
use crate::render::RenderSpec;
use crate::webhooks::WebhookJob;

/// One prediction.
#[derive(Debug)]
pub struct Record {
    pub id: String,
    pub model: &'static ModelSchema,
    /// What `version` shows: `"hidden"` or the 64-hex id.
    pub version: String,
    pub input: Value,
    pub status: PredictionStatus,
    pub created_us: i64,
    pub started_us: Option<i64>,
    pub completed_us: Option<i64>,
    pub logs: String,
    /// Files produced (when succeeded).
    pub outputs: u32,
    pub error: Option<String>,
    pub webhook: Option<String>,
    pub webhook_events_filter: Option<Vec<WebhookEvent>>,
    pub deadline_us: Option<i64>,
    /// Everything but the output index that determines the files.
    pub render: RenderSpec,
    /// Tells `Prefer: wait` callers about status changes.
    pub status_tx: watch::Sender<PredictionStatus>,
    /// This prediction's webhook queue, when it has a webhook.
    pub hooks: Option<mpsc::UnboundedSender<WebhookJob>>,
}

impl Record {
    /// Whether the retention period has passed (inputs, outputs and files removed).
    pub fn data_removed(&self, now_us: i64, expiry_secs: u64) -> bool {
        self.completed_us
            .is_some_and(|c| now_us >= c + expiry_secs as i64 * 1_000_000)
    }

    /// The delivery URL of output `index`. Replicate serves files from `replicate.delivery`; the simulator
    /// serves them itself under `/delivery/`.
    pub fn output_url(&self, base: &str, index: u32) -> String {
        format!(
            "{base}/delivery/{}/out-{index}.{}",
            self.id,
            self.render.format.extension()
        )
    }

    /// The format of this prediction's files.
    pub fn format(&self) -> OutputFormat {
        self.render.format
    }

    /// The wire object at `now_us`.
    pub fn view(&self, base: &str, now_us: i64, expiry_secs: u64) -> Prediction {
        let removed = self.data_removed(now_us, expiry_secs);
        let output = (self.status == PredictionStatus::Succeeded && !removed).then(|| {
            let urls: Vec<Value> = (0..self.outputs)
                .map(|i| Value::String(self.output_url(base, i)))
                .collect();
            match self.model.output_shape {
                OutputShape::Single => urls.into_iter().next().unwrap_or(Value::Null),
                OutputShape::List => Value::Array(urls),
            }
        });
        let secs = |a: i64, b: i64| ((b - a) as f64 / 1e6 * 1e6).round() / 1e6;
        let metrics = Metrics {
            predict_time: self
                .started_us
                .zip(self.completed_us)
                .map(|(s, c)| secs(s, c)),
            total_time: self.completed_us.map(|c| secs(self.created_us, c)),
        };
        Prediction {
            id: self.id.clone(),
            model: self.model.id.to_owned(),
            version: self.version.clone(),
            input: if removed {
                Value::Object(Default::default())
            } else {
                self.input.clone()
            },
            logs: Some(self.logs.clone()),
            output,
            error: self.error.clone(),
            status: self.status,
            created_at: rfc3339(self.created_us),
            started_at: self.started_us.map(rfc3339),
            completed_at: self.completed_us.map(rfc3339),
            data_removed: removed,
            source: Some(Source::Api),
            metrics,
            urls: PredictionUrls {
                get: format!("{base}/v1/predictions/{}", self.id),
                cancel: format!("{base}/v1/predictions/{}/cancel", self.id),
                stream: None,
                web: Some(format!("https://replicate.com/p/{}", self.id)),
            },
            deadline: self.deadline_us.map(rfc3339),
            webhook: self.webhook.clone(),
            webhook_events_filter: self.webhook.as_ref().map(|_| {
                self.webhook_events_filter
                    .clone()
                    .unwrap_or_else(|| WebhookEvent::DEFAULT_FILTER.to_vec())
            }),
        }
    }
}

/// All predictions, in creation order.
#[derive(Debug, Default)]
pub struct Store {
    map: HashMap<String, Record>,
    order: Vec<String>,
}

impl Store {
    pub fn insert(&mut self, rec: Record) {
        self.order.push(rec.id.clone());
        self.map.insert(rec.id.clone(), rec);
    }

    pub fn get(&self, id: &str) -> Option<&Record> {
        self.map.get(id)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Record> {
        self.map.get_mut(id)
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Records newest first, skipping `offset`, at most `limit`.
    pub fn newest_first(&self, offset: usize, limit: usize) -> impl Iterator<Item = &Record> {
        self.order
            .iter()
            .rev()
            .skip(offset)
            .take(limit)
            .filter_map(|id| self.map.get(id))
    }

    /// Counts by status.
    pub fn status_counts(&self) -> std::collections::BTreeMap<&'static str, u64> {
        let mut out = std::collections::BTreeMap::new();
        for r in self.map.values() {
            *out.entry(r.status.as_str()).or_default() += 1;
        }
        out
    }

    pub fn clear(&mut self) {
        self.map.clear();
        self.order.clear();
    }
}
