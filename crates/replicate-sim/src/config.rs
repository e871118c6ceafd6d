//! Start-up configuration and the run-time settings that `/admin/config` can change.
//!
//! Every setting has a flag and an environment variable: `--time-scale 0.01` or
//! `REPLICATE_SIM_TIME_SCALE=0.01` (flags win). Both go through the same JSON patch as `/admin/config`, so
//! a bad value is refused with the same message everywhere.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::faults::FaultRule;

/// Default port, next to the local Supabase stack's 5432x ports.
pub const DEFAULT_PORT: u16 = 54340;
/// The secret `GET /v1/webhooks/default/secret` returns unless configured (base64 of a fixed 24-byte key,
/// so local runs verify without setup).
pub const DEFAULT_WEBHOOK_SECRET: &str = "whsec_cmVwbGljYXRlLXNpbS1sb2NhbC1zZWNyZXQh";

/// A model's run time: log-normal around `median_ms` with shape `spread` (0 = always the median).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Latency {
    pub median_ms: u64,
    #[serde(default)]
    pub spread: f64,
}

/// Settings that can change while the simulator runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Multiplies every simulated delay (queue, cold start, run time); 0 makes predictions instant.
    pub time_scale: f64,
    /// Time in `starting` before a warm model runs, in ms.
    pub queue_ms: u64,
    /// Extra time in `starting` when a community model is cold, in ms (official models never cold-boot).
    pub cold_start_ms: u64,
    /// A community model idle this long is cold again, in seconds.
    pub cold_after_secs: u64,
    /// Run time per model `owner/name`; `*` applies to models not listed. Merged over the defaults.
    pub latency: BTreeMap<String, Latency>,
    /// How long inputs, outputs and files are kept after completion (Replicate: one hour for API
    /// predictions).
    pub expiry_secs: u64,
    /// Create requests per minute (Replicate: 600); 0 = unlimited.
    pub create_limit_per_min: u32,
    /// Creates allowed at once before the per-minute rate applies.
    pub create_burst: u32,
    /// Other API requests per minute (Replicate: 3000); 0 = unlimited.
    pub other_limit_per_min: u32,
    /// Other requests allowed at once.
    pub other_burst: u32,
    /// When > 0, PNG outputs are rendered noisy (and padded) to about this many bytes.
    pub output_bytes: u64,
    /// First delay before re-sending a failed `completed` webhook, doubled each time, in ms.
    pub webhook_retry_base_ms: u64,
    /// How many times a failed `completed` webhook is re-sent (6 × doubling from 1 s ≈ last retry a minute
    /// after completion, as Replicate documents).
    pub webhook_retries: u32,
    /// Time allowed for one webhook delivery, in ms.
    pub webhook_timeout_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            time_scale: 1.0,
            queue_ms: 150,
            cold_start_ms: 20_000,
            cold_after_secs: 300,
            latency: BTreeMap::new(),
            expiry_secs: 3600,
            create_limit_per_min: 600,
            // Replicate allows "short bursts" without publishing a size; ten seconds' worth is assumed.
            create_burst: 100,
            other_limit_per_min: 3000,
            other_burst: 500,
            output_bytes: 0,
            webhook_retry_base_ms: 1000,
            webhook_retries: 6,
            webhook_timeout_ms: 10_000,
        }
    }
}

/// Typical run times (REPLICATE.md "Typical times": qwen-image ~3.5 s, nano-banana ~10.5 s, seedream-4
/// ~14 s; FLUX Schnell / SDXL Lightning < 5 s; quality models 30–60 s). Others are estimates in between.
const DEFAULT_LATENCY_MS: &[(&str, u64)] = &[
    ("black-forest-labs/flux-schnell", 1_500),
    ("black-forest-labs/flux-dev", 6_000),
    ("black-forest-labs/flux-krea-dev", 6_000),
    ("black-forest-labs/flux-1.1-pro", 5_000),
    ("black-forest-labs/flux-1.1-pro-ultra", 12_000),
    ("black-forest-labs/flux-kontext-pro", 7_000),
    ("bytedance/sdxl-lightning-4step", 1_800),
    ("stability-ai/sdxl", 9_000),
    ("ideogram-ai/ideogram-v3-turbo", 6_000),
    ("ideogram-ai/ideogram-v3-balanced", 12_000),
    ("ideogram-ai/ideogram-v3-quality", 30_000),
    ("google/imagen-4", 9_000),
    ("google/imagen-4-fast", 4_000),
    ("google/imagen-4-ultra", 14_000),
    ("stability-ai/stable-diffusion-3.5-large", 12_000),
    ("recraft-ai/recraft-v3", 9_000),
    ("recraft-ai/recraft-v3-svg", 12_000),
    ("bytedance/seedream-3", 7_000),
    ("bytedance/seedream-4", 14_000),
    ("qwen/qwen-image", 3_500),
    ("google/nano-banana", 10_500),
];

impl Settings {
    /// The run time of `model`: the configured one, else `*`, else the built-in default.
    pub fn latency_of(&self, model: &str) -> Latency {
        self.latency
            .get(model)
            .or_else(|| self.latency.get("*"))
            .copied()
            .unwrap_or_else(|| Latency {
                median_ms: DEFAULT_LATENCY_MS
                    .iter()
                    .find(|(m, _)| *m == model)
                    .map_or(5_000, |(_, ms)| *ms),
                spread: 0.25,
            })
    }

    /// Applies a JSON object of changes (the `/admin/config` body). Unknown keys and bad values are
    /// refused with a message naming the key; nothing changes on error.
    pub fn patch(&mut self, patch: &Value) -> Result<(), String> {
        let Some(obj) = patch.as_object() else {
            return Err("the body must be a JSON object of settings".into());
        };
        let current = serde_json::to_value(&*self).map_err(|e| e.to_string())?;
        let mut merged = current.clone();
        for (key, value) in obj {
            if current.get(key).is_none() {
                return Err(format!(
                    "unknown setting `{key}`; known: {}",
                    Self::keys().join(", ")
                ));
            }
            let value = if key == "latency" {
                merge_latency(&current[key], value)?
            } else {
                value.clone()
            };
            // Checked one key at a time so the message names the culprit.
            let mut alone = current.clone();
            alone[key] = value.clone();
            if let Err(e) = serde_json::from_value::<Settings>(alone) {
                return Err(format!("bad value for `{key}`: {e}"));
            }
            merged[key] = value;
        }
        let next: Settings =
            serde_json::from_value(merged).map_err(|e| format!("bad settings: {e}"))?;
        next.check()?;
        *self = next;
        Ok(())
    }

    fn keys() -> Vec<String> {
        match serde_json::to_value(Settings::default()) {
            Ok(Value::Object(m)) => m.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    fn check(&self) -> Result<(), String> {
        if !(self.time_scale.is_finite() && self.time_scale >= 0.0 && self.time_scale <= 1000.0) {
            return Err("time_scale must be a number from 0 to 1000".into());
        }
        for (model, l) in &self.latency {
            if model != "*" && imagegen_core::replicate::find_model(model).is_none() {
                return Err(format!(
                    "latency: unknown model `{model}` (use owner/name or *)"
                ));
            }
            if !(l.spread.is_finite() && (0.0..=3.0).contains(&l.spread)) {
                return Err(format!("latency.{model}.spread must be from 0 to 3"));
            }
        }
        if self.webhook_retries > 20 {
            return Err("webhook_retries must be at most 20".into());
        }
        if self.webhook_timeout_ms == 0 {
            return Err("webhook_timeout_ms must be positive".into());
        }
        if self.output_bytes > 256 * 1024 * 1024 {
            return Err("output_bytes must be at most 268435456 (256 MiB)".into());
        }
        Ok(())
    }
}

/// `latency` patches merge per model; `null` for a model removes its override.
fn merge_latency(current: &Value, patch: &Value) -> Result<Value, String> {
    let Some(obj) = patch.as_object() else {
        return Err(
            "latency must be an object of {\"owner/name\": {\"median_ms\": N, \"spread\": S}}"
                .into(),
        );
    };
    let mut merged = current.as_object().cloned().unwrap_or_default();
    for (model, l) in obj {
        if l.is_null() {
            merged.remove(model);
        } else {
            merged.insert(model.clone(), l.clone());
        }
    }
    Ok(Value::Object(merged))
}

/// Parses the flag/env form of `latency`: `owner/name=MEDIAN_MS[:SPREAD],*=MEDIAN_MS`.
pub fn parse_latency_list(s: &str) -> Result<Value, String> {
    let mut out = serde_json::Map::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (model, spec) = item
            .split_once('=')
            .ok_or_else(|| format!("latency `{item}`: expected owner/name=MEDIAN_MS[:SPREAD]"))?;
        let (ms, spread) = spec.split_once(':').unwrap_or((spec, "0"));
        let median_ms: u64 = ms
            .parse()
            .map_err(|_| format!("latency `{item}`: bad milliseconds `{ms}`"))?;
        let spread: f64 = spread
            .parse()
            .map_err(|_| format!("latency `{item}`: bad spread `{spread}`"))?;
        out.insert(
            model.to_owned(),
            serde_json::json!({"median_ms": median_ms, "spread": spread}),
        );
    }
    Ok(Value::Object(out))
}

/// Everything the simulator starts with.
#[derive(Debug, Clone)]
pub struct Config {
    pub host: IpAddr,
    pub port: u16,
    /// The URL clients reach the simulator at (used in `urls` and output links); default `http://host:port`.
    pub public_url: Option<String>,
    /// When set, requests must carry exactly this token; otherwise any non-empty token is accepted.
    pub api_token: Option<String>,
    /// `whsec_...` signing secret for webhooks.
    pub webhook_secret: String,
    pub settings: Settings,
    /// Faults armed from the start.
    pub faults: Vec<FaultRule>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: DEFAULT_PORT,
            public_url: None,
            api_token: None,
            webhook_secret: DEFAULT_WEBHOOK_SECRET.to_owned(),
            settings: Settings::default(),
            faults: Vec::new(),
        }
    }
}

/// The flags/env names, with what each holds (printed by `--help`).
pub const OPTIONS: &[(&str, &str)] = &[
    ("host", "address to bind (127.0.0.1)"),
    ("port", "port to bind (54340; 0 = any free port)"),
    (
        "public-url",
        "base URL clients use to reach the simulator (http://HOST:PORT)",
    ),
    (
        "api-token",
        "the only bearer token accepted (default: any non-empty token)",
    ),
    ("webhook-secret", "whsec_ secret that signs webhooks"),
    (
        "faults",
        "JSON array of fault rules armed at start (see README)",
    ),
    (
        "latency",
        "per-model run time: owner/name=MEDIAN_MS[:SPREAD],*=MEDIAN_MS",
    ),
    (
        "time-scale",
        "multiplies every simulated delay (1; 0 = instant)",
    ),
    ("queue-ms", "time in `starting` for a warm model (150)"),
    (
        "cold-start-ms",
        "extra `starting` time for a cold community model (20000)",
    ),
    (
        "cold-after-secs",
        "idle time after which a community model is cold (300)",
    ),
    (
        "expiry-secs",
        "retention of inputs/outputs/files after completion (3600)",
    ),
    (
        "create-limit-per-min",
        "create requests per minute (600; 0 = unlimited)",
    ),
    ("create-burst", "creates allowed at once (100)"),
    (
        "other-limit-per-min",
        "other API requests per minute (3000; 0 = unlimited)",
    ),
    ("other-burst", "other requests allowed at once (500)"),
    (
        "output-bytes",
        "render PNG outputs noisy to about this size (0 = natural)",
    ),
    (
        "webhook-retry-base-ms",
        "first retry delay of a failed completed webhook (1000)",
    ),
    (
        "webhook-retries",
        "retries of a failed completed webhook (6)",
    ),
    (
        "webhook-timeout-ms",
        "time allowed per webhook delivery (10000)",
    ),
];

impl Config {
    /// This config on another port.
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Reads `REPLICATE_SIM_*` variables, then `--flag value` / `--flag=value` arguments over them.
    pub fn from_env_and_args(
        env: impl IntoIterator<Item = (String, String)>,
        args: impl IntoIterator<Item = String>,
    ) -> Result<Self, String> {
        let mut values: Vec<(String, String)> = Vec::new();
        for (k, v) in env {
            if let Some(name) = k.strip_prefix("REPLICATE_SIM_") {
                let flag = name.to_ascii_lowercase().replace('_', "-");
                if OPTIONS.iter().any(|(o, _)| *o == flag) {
                    values.push((flag, v));
                }
            }
        }
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let Some(flag) = arg.strip_prefix("--") else {
                return Err(format!("unexpected argument `{arg}`"));
            };
            let (flag, value) = match flag.split_once('=') {
                Some((f, v)) => (f.to_owned(), v.to_owned()),
                None => {
                    let v = args
                        .next()
                        .ok_or_else(|| format!("--{flag} needs a value"))?;
                    (flag.to_owned(), v)
                }
            };
            if !OPTIONS.iter().any(|(o, _)| *o == flag) {
                return Err(format!("unknown option --{flag} (see --help)"));
            }
            values.push((flag, value));
        }
        let mut config = Config::default();
        let mut patch = serde_json::Map::new();
        for (flag, value) in values {
            match flag.as_str() {
                "host" => {
                    config.host = value
                        .parse()
                        .map_err(|_| format!("--host: bad address `{value}`"))?
                }
                "port" => {
                    config.port = value
                        .parse()
                        .map_err(|_| format!("--port: bad port `{value}`"))?
                }
                "public-url" => config.public_url = Some(value),
                "api-token" => config.api_token = Some(value).filter(|t| !t.is_empty()),
                "webhook-secret" => {
                    imagegen_core::replicate::WebhookSecret::parse(&value)
                        .map_err(|e| format!("--webhook-secret: {e}"))?;
                    config.webhook_secret = value;
                }
                "faults" => {
                    config.faults = crate::faults::parse_rules(
                        &serde_json::from_str(&value)
                            .map_err(|e| format!("--faults: not JSON: {e}"))?,
                    )
                    .map_err(|e| format!("--faults: {e}"))?;
                }
                "latency" => {
                    patch.insert("latency".into(), parse_latency_list(&value)?);
                }
                other => {
                    let key = other.replace('-', "_");
                    let v: Value = serde_json::from_str(&value).unwrap_or(Value::String(value));
                    patch.insert(key, v);
                }
            }
        }
        config.settings.patch(&Value::Object(patch))?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flags_override_env_and_reach_settings() {
        let env = vec![
            ("REPLICATE_SIM_PORT".to_string(), "1234".to_string()),
            ("REPLICATE_SIM_TIME_SCALE".to_string(), "0.5".to_string()),
            ("OTHER".to_string(), "x".to_string()),
        ];
        let c = Config::from_env_and_args(
            env,
            strings(&[
                "--time-scale",
                "0",
                "--latency",
                "black-forest-labs/flux-schnell=10:0.1,*=20",
                "--expiry-secs=5",
            ]),
        )
        .unwrap();
        assert_eq!(c.port, 1234);
        assert_eq!(c.settings.time_scale, 0.0);
        assert_eq!(c.settings.expiry_secs, 5);
        assert_eq!(
            c.settings.latency_of("black-forest-labs/flux-schnell"),
            Latency {
                median_ms: 10,
                spread: 0.1
            }
        );
        assert_eq!(c.settings.latency_of("google/imagen-4").median_ms, 20);
    }

    #[test]
    fn bad_values_are_named() {
        let err =
            Config::from_env_and_args(Vec::new(), strings(&["--time-scale", "fast"])).unwrap_err();
        assert!(err.contains("time_scale"), "{err}");
        let err = Config::from_env_and_args(Vec::new(), strings(&["--nope", "1"])).unwrap_err();
        assert!(err.contains("--nope"), "{err}");
        let mut s = Settings::default();
        let err = s.patch(&serde_json::json!({"expiry": 1})).unwrap_err();
        assert!(err.contains("unknown setting `expiry`"), "{err}");
        let err = s
            .patch(&serde_json::json!({"latency": {"a/b": {"median_ms": 1}}}))
            .unwrap_err();
        assert!(err.contains("unknown model"), "{err}");
        assert_eq!(s, Settings::default());
    }

    #[test]
    fn latency_patches_merge_and_null_removes() {
        let mut s = Settings::default();
        s.patch(&serde_json::json!({"latency": {"*": {"median_ms": 5}}}))
            .unwrap();
        s.patch(&serde_json::json!({"latency": {"google/imagen-4": {"median_ms": 7}}}))
            .unwrap();
        assert_eq!(s.latency.len(), 2);
        s.patch(&serde_json::json!({"latency": {"*": null}}))
            .unwrap();
        assert_eq!(s.latency.len(), 1);
        assert_eq!(s.latency_of("google/imagen-4-fast").median_ms, 4_000);
    }

    #[test]
    fn webhook_faults_arm_from_env_and_flags_and_bad_ones_are_named() {
        let env = vec![(
            "REPLICATE_SIM_FAULTS".to_string(),
            r#"[{"kind": "drop", "on": "webhook", "times": 1}]"#.to_string(),
        )];
        let c = Config::from_env_and_args(env, Vec::new()).unwrap();
        assert_eq!(
            (c.faults.len(), c.faults[0].kind, c.faults[0].on),
            (1, crate::FaultKind::Drop, crate::Target::Webhook)
        );
        let c = Config::from_env_and_args(
            Vec::new(),
            strings(&[r#"--faults=[{"kind": "duplicate", "on": "webhook", "event": "start"}]"#]),
        )
        .unwrap();
        assert_eq!(
            c.faults[0].event,
            Some(imagegen_core::replicate::WebhookEvent::Start)
        );
        let err = Config::from_env_and_args(
            Vec::new(),
            strings(&["--faults", r#"[{"kind": "drop", "on": "create"}]"#]),
        )
        .unwrap_err();
        assert!(
            err.starts_with("--faults: fault 0: drop faults apply to webhook deliveries"),
            "{err}"
        );
    }
}
