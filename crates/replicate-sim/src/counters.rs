//! What the simulator has seen, for tests and benchmarks (`GET /admin/stats`). The duplicate counter
//! answers "was any paid prediction created twice?": two accepted creates of one model with the same
//! input (canonical JSON, keys sorted) count as a duplicate.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};

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
    pub files_served: u64,
    #[serde(skip)]
    seen: HashMap<u64, u32>,
}

/// One duplicated create.
#[derive(Debug, Clone, Serialize)]
pub struct DuplicateEntry {
    pub model: String,
    pub input: Value,
    pub count: u32,
}

impl Counters {
    /// Records an accepted create.
    pub fn record_create(&mut self, model: &str, input: &Value) {
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
        c.record_create("a/b", &json!({"prompt": "x", "seed": 1}));
        c.record_create("a/b", &json!({"seed": 1, "prompt": "x"}));
        c.record_create("a/c", &json!({"prompt": "x", "seed": 1}));
        c.record_create("a/b", &json!({"prompt": "x", "seed": 2}));
        assert_eq!(c.creates_total, 4);
        assert_eq!(c.duplicate_creates, 1);
        assert_eq!(c.duplicates[0].count, 2);
        assert_eq!(c.creates_by_model["a/b"], 3);
    }
}
