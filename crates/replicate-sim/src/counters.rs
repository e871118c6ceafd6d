//! What the simulator has seen, for tests and benchmarks (`GET /admin/stats`). Two duplicate counters
//! answer "was any paid prediction created twice?":
//! - `duplicate_creates`: two accepted creates of one model with the same input (canonical JSON, keys
//!   sorted) — by input, so it also counts two generations that asked for the same thing;
//! - `duplicate_owner_creates`: accepted creates whose owner mark (the worker's `webhook` URL naming a
//!   generation and a create number, `imagegen_core::replicate::OwnerMark`) an earlier accepted create
//!   already carried. A counted re-create carries the next create number, so it is not one of these: it
//!   is counted in `owner_recreates` instead. Any `duplicate_owner_creates` is an unintended second bill.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};

use imagegen_core::replicate::OwnerMark;
use serde::Serialize;
use serde_json::Value;

/// Counters since start or the last reset.
#[derive(Debug, Default, Serialize)]
pub struct Counters {
    /// Accepted creates (predictions started, i.e. paid on Replicate).
    pub creates_total: u64,
    pub creates_by_model: BTreeMap<String, u64>,
    /// Accepted creates whose model and input had been created before.
    pub duplicate_creates: u64,
    /// Up to 20 of those, with how often each was created.
    pub duplicates: Vec<DuplicateEntry>,
    /// Accepted creates carrying an owner mark (generation id and create number) seen on an earlier one.
    pub duplicate_owner_creates: u64,
    /// Accepted creates of a marked generation seen before under another create number (allowed
    /// re-creates, each counted on the generation's row).
    pub owner_recreates: u64,
    /// Requests by endpoint (`create`, `get`, `cancel`, `list`, `secret`, `file`, `other`).
    pub requests: BTreeMap<String, u64>,
    /// Answers by HTTP status.
    pub responses_by_status: BTreeMap<u16, u64>,
    /// 429s from the rate limiter (not from faults).
    pub rate_limited: u64,
    /// Faults fired, by kind.
    pub faults_fired: BTreeMap<String, u64>,
    /// Creates refused with 422.
    pub validation_failures: u64,
    pub cancels: u64,
    pub webhook_attempts: u64,
    pub webhook_delivered: u64,
    pub webhook_failed_attempts: u64,
    /// `completed` webhooks given up on after every retry.
    pub webhook_gave_up: u64,
    /// Deliveries never sent (nor retried) because a `drop` fault fired.
    pub webhook_dropped: u64,
    /// Deliveries sent a second time under the same `webhook-id` because a `duplicate` fault fired.
    pub webhook_duplicated: u64,
    pub files_served: u64,
    #[serde(skip)]
    seen: HashMap<u64, u32>,
    /// Create numbers seen per marked generation.
    #[serde(skip)]
    owners: HashMap<u128, Vec<u32>>,
}

/// One duplicated create.
#[derive(Debug, Clone, Serialize)]
pub struct DuplicateEntry {
    pub model: String,
    pub input: Value,
    pub count: u32,
}

impl Counters {
    /// Records an accepted create and its `webhook`.
    pub fn record_create(&mut self, model: &str, input: &Value, webhook: Option<&str>) {
        if let Some(mark) = webhook.and_then(OwnerMark::parse) {
            let numbers = self.owners.entry(mark.generation_id.as_u128()).or_default();
            if numbers.contains(&mark.create_number) {
                self.duplicate_owner_creates += 1;
            } else {
                if !numbers.is_empty() {
                    self.owner_recreates += 1;
                }
                numbers.push(mark.create_number);
            }
        }
        self.creates_total += 1;
        *self.creates_by_model.entry(model.to_owned()).or_default() += 1;
        let mut h = DefaultHasher::new();
        model.hash(&mut h);
        canonical(input).hash(&mut h);
        let count = self.seen.entry(h.finish()).or_default();
        *count += 1;
        if *count > 1 {
            self.duplicate_creates += 1;
            let count = *count;
            if let Some(e) = self
                .duplicates
                .iter_mut()
                .find(|e| e.model == model && e.input == *input)
            {
                e.count = count;
            } else if self.duplicates.len() < 20 {
                self.duplicates.push(DuplicateEntry {
                    model: model.to_owned(),
                    input: input.clone(),
                    count,
                });
            }
        }
    }

    /// Counts one of `name`.
    pub fn bump(map: &mut BTreeMap<String, u64>, name: &str) {
        *map.entry(name.to_owned()).or_default() += 1;
    }
}

/// JSON with object keys sorted at every level, so `{"a":1,"b":2}` and `{"b":2,"a":1}` are one input.
fn canonical(v: &Value) -> String {
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::from(k.as_str()).to_string());
                    out.push(':');
                    write(&m[*k], out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(v, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn same_input_in_another_key_order_is_a_duplicate() {
        let mut c = Counters::default();
        c.record_create("a/b", &json!({"prompt": "x", "seed": 1}), None);
        c.record_create("a/b", &json!({"seed": 1, "prompt": "x"}), None);
        c.record_create("a/c", &json!({"prompt": "x", "seed": 1}), None);
        c.record_create("a/b", &json!({"prompt": "x", "seed": 2}), None);
        assert_eq!(c.creates_total, 4);
        assert_eq!(c.duplicate_creates, 1);
        assert_eq!(c.duplicates[0].count, 2);
        assert_eq!(c.creates_by_model["a/b"], 3);
    }

    #[test]
    fn a_reused_owner_mark_is_a_duplicate_and_a_new_create_number_a_recreate() {
        let hook = |g: &str, n: u32| {
            format!("http://127.0.0.1:54321/functions/v1/replicate-webhook?generation_id={g}&attempt={n}")
        };
        let (a, b) = (
            "0b0e8a4e-8d5e-4a55-a3b4-2c1f1f7d9c01",
            "7c9d2b1a-0000-4000-8000-000000000777",
        );
        let mut c = Counters::default();
        let input = json!({"prompt": "x"});
        c.record_create("a/b", &input, Some(&hook(a, 1)));
        c.record_create("a/b", &input, Some(&hook(b, 1)));
        assert_eq!(
            (
                c.duplicate_owner_creates,
                c.owner_recreates,
                c.duplicate_creates
            ),
            (0, 0, 1),
            "two generations asking the same: a duplicate input, not a duplicate owner"
        );
        c.record_create("a/b", &input, Some(&hook(a, 2)));
        assert_eq!((c.duplicate_owner_creates, c.owner_recreates), (0, 1));
        c.record_create("a/b", &input, Some(&hook(a, 2)));
        c.record_create("a/b", &input, Some("https://example.com/hook"));
        c.record_create("a/b", &input, None);
        assert_eq!((c.duplicate_owner_creates, c.owner_recreates), (1, 1));
    }
}
