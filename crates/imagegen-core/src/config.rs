//! Settings read from the function's environment, parsed once per isolate.

use crate::api_keys::{self, KeyMap};
use crate::auth::{JwtVerifier, KeyConfigError};
use crate::image_input::{ImageInputPolicy, Origin};
use crate::replicate::client::ReplicateApi;
use crate::replicate::{WebhookBase, WebhookSecret};

/// Default cap on a user's unfinished (pending or processing) generations.
pub const DEFAULT_MAX_PENDING: u32 = 10;

/// Default time a generation may take on Replicate before it is canceled and failed.
pub const DEFAULT_GENERATION_TIMEOUT_SECS: u32 = 600;
/// Default wall clock of one isolate: Supabase's free-plan limit (paid plans: 400 s). Assuming less than
/// the plan's limit is safe; more is not (the runtime kills the isolate mid-job).
pub const DEFAULT_EDGE_WALL_CLOCK_SECS: u32 = 150;

/// Parsed settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `MAX_PENDING_GENERATIONS`: a user with this many unfinished generations gets 429.
    pub max_pending: u32,
    /// `REPLICATE_API_BASE` and `REPLICATE_API_TOKEN` (or `REPLICATE_API_KEY`, the name the original
    /// production project set); `None` when neither is set (only functions that call Replicate need it,
    /// and they answer "misconfigured").
    pub replicate: Option<ReplicateApi>,
    /// `GENERATION_TIMEOUT_SECS`: from the generation's creation to giving up on it.
    pub generation_timeout_secs: u32,
    /// `EDGE_WALL_CLOCK_SECS`: the plan's wall-clock limit per isolate, which bounds all work
    /// (`worker::Lifetime`); the runtime does not expose the time left.
    pub edge_wall_clock_secs: u32,
    /// Values of `SUPABASE_SECRET_KEYS` (`{"default":"sb_secret_..."}`): the new non-JWT secret API keys,
    /// accepted like the service_role JWT on backend-only functions.
    pub secret_keys: Vec<String>,
    /// Values of `SUPABASE_PUBLISHABLE_KEYS` (`{"default":"sb_publishable_..."}`): the new public API keys,
    /// which stand where the anon key did (process-jobs answers them with a wake-up only).
    pub publishable_keys: Vec<String>,
    /// `SUPABASE_URL`: the project URL (functions, Storage). Injected by Supabase.
    pub supabase_url: Option<String>,
    /// Where the owner mark of every prediction points (its `webhook`, see `replicate/mark.rs`):
    /// `REPLICATE_WEBHOOK_BASE_URL`, else `SUPABASE_URL`. `None` when neither is set: no prediction can
    /// then be created, since one without a mark could not be found again.
    pub webhook_base: Option<WebhookBase>,
    /// Replicate webhooks: whether the worker parks running predictions, and how deliveries are checked.
    pub webhooks: WebhookConfig,
    /// The key the backend sends on its own calls (Storage, the worker kick): the `default` of
    /// `SUPABASE_SECRET_KEYS` (else its first), else `SUPABASE_SERVICE_ROLE_KEY` (see `api_keys`).
    pub service_key: Option<String>,
    /// `SUPABASE_SERVICE_ROLE_KEY` as injected: accepted on backend-only functions when presented exactly
    /// (a Vault `service_key` may hold it on a project whose tokens are checked with signing keys only,
    /// where this HS256 JWT could not be verified).
    pub legacy_service_key: Option<String>,
    /// Where input images may come from: this project's Storage (the origin of `SUPABASE_URL`) and the
    /// hosts of `IMAGE_INPUT_HOSTS` (comma-separated `host` or `*.suffix`; empty by default).
    pub image_inputs: ImageInputPolicy,
    /// Worker and storage settings.
    pub worker: WorkerConfig,
}

/// Settings of process-jobs and its jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerConfig {
    /// `WORKER_CONCURRENCY` (3): jobs one invocation runs at once.
    pub concurrency: u32,
    /// `JOB_LEASE_SECS` (300): lease per claim; extended while a job runs.
    pub lease_secs: u32,
    /// `WORKER_KICK` (true): start-generation wakes process-jobs right after answering.
    pub kick: bool,
    /// `STORAGE_BUCKET` (`generated-images`).
    pub bucket: String,
    /// `STORAGE_PUBLIC` (true): public URLs; false: signed URLs valid `SIGNED_URL_EXPIRES_SECS` (7 days).
    pub public_bucket: bool,
    pub signed_url_secs: u32,
    /// Hosts images may be downloaded from besides `replicate.delivery` and `*.replicate.delivery`:
    /// `DOWNLOAD_ALLOWED_HOSTS`, comma-separated `host` or `host:port` (the local stack adds the simulator).
    pub extra_download_hosts: Vec<String>,
    /// `MAX_IMAGE_BYTES` (20 MB): larger downloads are refused.
    pub max_image_bytes: u64,
    /// `LEGACY_WAIT_SECS` (120): how long the synchronous generate-image waits before answering 202
    /// (under Supabase's 150 s wall clock).
    pub legacy_wait_secs: u32,
}

/// Settings of webhook mode (docs/DEPLOYMENT_GUIDE.md "Replicate webhooks").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    /// `REPLICATE_WEBHOOKS` (false): the worker parks a running prediction's job (freeing its slot) and
    /// waits for the `completed` webhook, instead of polling the prediction while holding the slot.
    /// Needs the replicate-webhook function reachable at the webhook base URL.
    pub park: bool,
    /// `WEBHOOK_RECHECK_SECS` (60): a parked job is due again after this long even without its webhook
    /// (the worker then reads the prediction itself), so a lost webhook delays an image by about this
    /// much, never loses it. Each recheck of a still-running prediction costs one API read.
    pub recheck_secs: u32,
    /// `REPLICATE_WEBHOOK_SECRET` (`whsec_…`): the signing secret. Unset: read once per isolate from
    /// `GET /v1/webhooks/default/secret` with the API token.
    pub secret: Option<WebhookSecret>,
}

/// A setting that is missing or unusable: names the variable and what is wrong with it, never its
/// value (the text reaches logs, and a value may be a secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {name} {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    /// What is wrong, as the rest of a sentence starting with the variable's name.
    pub problem: String,
}

/// A setting that is a positive integer: `default` when unset or blank, else its value or an error
/// naming it (never quoting the value).
pub(crate) fn positive_setting(
    name: &'static str,
    value: Option<String>,
    default: u32,
) -> Result<u32, ConfigError> {
    match value.filter(|v| !v.trim().is_empty()) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| ConfigError {
                name,
                problem: "is not a positive integer".into(),
            }),
    }
}

impl ConfigError {
    /// What every caller is told (it may not be signed in: a broken key setting means no token can be
    /// checked): that the service is not configured, with no name and no value. The log line names the
    /// variable.
    pub fn answer(&self) -> crate::error::ApiError {
        crate::error::ApiError::new(503, "misconfigured", "The service is not configured")
    }
}

/// A key setting's problem without the key material or ids from it (`KeyConfigError`'s text quotes
/// a JWK's `kid` and the JSON parser's message may quote the value).
fn key_problem(e: &KeyConfigError) -> String {
    match e {
        KeyConfigError::WeakHs256Secret { len } => {
            format!("is {len} bytes long; at least 32 are required")
        }
        KeyConfigError::InvalidJwksJson(_) => "is not valid JSON".into(),
        KeyConfigError::InvalidJwksShape => {
            "must be an object with a \"keys\" array, or an array of JWK objects".into()
        }
        KeyConfigError::InvalidKey { index, reason, .. } => {
            format!("key #{index} is invalid: {reason}")
        }
        KeyConfigError::WeakRsaKey { index, bits, .. } => {
            format!("key #{index} is an RSA key of {bits} bits; at least 2048 are required")
        }
        KeyConfigError::NoKeys => "holds no usable verification key".into(),
    }
}

/// Everything a handler needs that lives as long as the isolate.
pub struct AppContext {
    pub config: Config,
    pub verifier: JwtVerifier,
}

impl AppContext {
    /// Reads settings through `get` (the host's env lookup).
    ///
    /// Tokens are checked with `JWT_SECRET` (HS256; Supabase does not inject the secret, so it is set as a
    /// function secret, falling back to a legacy `SUPABASE_JWT_SECRET`) and the injected `SUPABASE_JWKS`
    /// (ES256/RS256 signing keys). At least one must be set.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let non_empty = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let positive =
            |name: &'static str, default: u32| positive_setting(name, get(name), default);
        let max_pending = positive("MAX_PENDING_GENERATIONS", DEFAULT_MAX_PENDING)?;
        let generation_timeout_secs =
            positive("GENERATION_TIMEOUT_SECS", DEFAULT_GENERATION_TIMEOUT_SECS)?;
        let edge_wall_clock_secs = positive("EDGE_WALL_CLOCK_SECS", DEFAULT_EDGE_WALL_CLOCK_SECS)?;
        let token = non_empty("REPLICATE_API_TOKEN").or_else(|| non_empty("REPLICATE_API_KEY"));
        let replicate = token.map(|token| ReplicateApi {
            base: non_empty("REPLICATE_API_BASE")
                .unwrap_or_else(|| "https://api.replicate.com/v1".into())
                .trim_end_matches('/')
                .to_owned(),
            token: token.trim().to_owned(),
        });
        let key_map = |name: &'static str| -> Result<KeyMap, ConfigError> {
            match non_empty(name) {
                None => Ok(KeyMap::default()),
                Some(json) => KeyMap::parse(&json).map_err(|problem| ConfigError { name, problem }),
            }
        };
        let secret_key_map = key_map("SUPABASE_SECRET_KEYS")?;
        let secret_keys = secret_key_map.keys();
        let publishable_keys = key_map("SUPABASE_PUBLISHABLE_KEYS")?.keys();
        let flag = |name: &'static str, default: bool| -> Result<bool, ConfigError> {
            match non_empty(name).map(|v| v.trim().to_ascii_lowercase()) {
                None => Ok(default),
                Some(v) if matches!(v.as_str(), "1" | "true" | "yes" | "on") => Ok(true),
                Some(v) if matches!(v.as_str(), "0" | "false" | "no" | "off") => Ok(false),
                Some(_) => Err(ConfigError {
                    name,
                    problem: "is not true or false".into(),
                }),
            }
        };
        let worker = WorkerConfig {
            concurrency: positive("WORKER_CONCURRENCY", 3)?,
            lease_secs: positive("JOB_LEASE_SECS", 300)?,
            kick: flag("WORKER_KICK", true)?,
            bucket: non_empty("STORAGE_BUCKET").unwrap_or_else(|| "generated-images".into()),
            public_bucket: flag("STORAGE_PUBLIC", true)?,
            signed_url_secs: positive("SIGNED_URL_EXPIRES_SECS", 7 * 24 * 3600)?,
            extra_download_hosts: non_empty("DOWNLOAD_ALLOWED_HOSTS")
                .map(|v| {
                    v.split(',')
                        .map(|h| h.trim().to_ascii_lowercase())
                        .filter(|h| !h.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            max_image_bytes: u64::from(positive("MAX_IMAGE_BYTES", 20 * 1024 * 1024)?),
            legacy_wait_secs: positive("LEGACY_WAIT_SECS", 120)?,
        };
        let supabase_url =
            non_empty("SUPABASE_URL").map(|u| u.trim().trim_end_matches('/').to_owned());
        let image_inputs = ImageInputPolicy::new(
            supabase_url.as_deref().and_then(Origin::of),
            ImageInputPolicy::parse_hosts(&non_empty("IMAGE_INPUT_HOSTS").unwrap_or_default())
                .map_err(|problem| ConfigError {
                    name: "IMAGE_INPUT_HOSTS",
                    problem,
                })?,
        );
        let webhook_base = match non_empty("REPLICATE_WEBHOOK_BASE_URL") {
            Some(v) => Some(WebhookBase::parse(&v).map_err(|problem| ConfigError {
                name: "REPLICATE_WEBHOOK_BASE_URL",
                problem,
            })?),
            // The injected project URL; a value that is no URL leaves the backend without a mark base
            // rather than failing every function (Storage and the kick read it as they always did).
            None => supabase_url
                .as_deref()
                .and_then(|u| WebhookBase::parse(u).ok()),
        };
        let webhooks = WebhookConfig {
            park: flag("REPLICATE_WEBHOOKS", false)?,
            recheck_secs: positive("WEBHOOK_RECHECK_SECS", 60)?,
            secret: non_empty("REPLICATE_WEBHOOK_SECRET")
                .map(|v| WebhookSecret::parse(v.trim()))
                .transpose()
                .map_err(|e| ConfigError {
                    name: "REPLICATE_WEBHOOK_SECRET",
                    problem: format!("is unusable: {e}"),
                })?,
        };
        let legacy_service_key =
            non_empty("SUPABASE_SERVICE_ROLE_KEY").map(|k| k.trim().to_owned());
        let service_key = api_keys::service_key(&secret_key_map, legacy_service_key.as_deref());
        let secret = non_empty("JWT_SECRET").or_else(|| non_empty("SUPABASE_JWT_SECRET"));
        let jwks = non_empty("SUPABASE_JWKS");
        if secret.is_none() && jwks.is_none() {
            return Err(ConfigError {
                name: "JWT_SECRET",
                problem: "is not set, nor is SUPABASE_JWKS, so no token can be verified".into(),
            });
        }
        let verifier = JwtVerifier::new(secret.as_deref(), jwks.as_deref()).map_err(|e| {
            let name = match e {
                KeyConfigError::WeakHs256Secret { .. } => "JWT_SECRET",
                _ => "SUPABASE_JWKS",
            };
            ConfigError {
                name,
                problem: key_problem(&e),
            }
        })?;
        let config = Config {
            max_pending,
            replicate,
            generation_timeout_secs,
            edge_wall_clock_secs,
            secret_keys,
            publishable_keys,
            supabase_url,
            webhook_base,
            webhooks,
            service_key,
            legacy_service_key,
            image_inputs,
            worker,
        };
        Ok(Self { config, verifier })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cret-s3cret-s3cret-s3cret-s3cret";

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn defaults_and_overrides() {
        let c = AppContext::from_env(env(&[("JWT_SECRET", "s3cret-s3cret-s3cret-s3cret-s3cret")]))
            .unwrap();
        assert_eq!(c.config.max_pending, DEFAULT_MAX_PENDING);
        let c = AppContext::from_env(env(&[
            ("JWT_SECRET", SECRET),
            ("MAX_PENDING_GENERATIONS", " 3 "),
        ]))
        .unwrap();
        assert_eq!(c.config.max_pending, 3);
    }

    #[test]
    fn replicate_token_under_either_name() {
        let token = |pairs: &[(&str, &str)]| {
            let mut all = vec![("JWT_SECRET", SECRET)];
            all.extend_from_slice(pairs);
            AppContext::from_env(env(&all))
                .unwrap()
                .config
                .replicate
                .map(|r| r.token)
        };
        assert_eq!(token(&[]), None);
        assert_eq!(
            token(&[("REPLICATE_API_KEY", "r8_key")]).as_deref(),
            Some("r8_key")
        );
        assert_eq!(
            token(&[("REPLICATE_API_TOKEN", "r8_tok")]).as_deref(),
            Some("r8_tok")
        );
        // Both set: the documented name wins.
        assert_eq!(
            token(&[
                ("REPLICATE_API_KEY", "r8_key"),
                ("REPLICATE_API_TOKEN", "r8_tok")
            ])
            .as_deref(),
            Some("r8_tok")
        );
    }

    /// Every kind of bad value: the error names the variable and never holds the value.
    #[test]
    fn config_errors_never_hold_the_value() {
        const VALUE: &str = "sb_secret_LEAKME_0123456789abcdefghijklmnop";
        let cases: &[&[(&str, &str)]] = &[
            &[("JWT_SECRET", SECRET), ("MAX_PENDING_GENERATIONS", VALUE)],
            &[("JWT_SECRET", SECRET), ("GENERATION_TIMEOUT_SECS", VALUE)],
            &[("JWT_SECRET", SECRET), ("WORKER_KICK", VALUE)],
            &[("JWT_SECRET", SECRET), ("REPLICATE_WEBHOOKS", VALUE)],
            &[
                ("JWT_SECRET", SECRET),
                ("REPLICATE_WEBHOOK_SECRET", "whsec_LEAKME!!"),
            ],
            &[("JWT_SECRET", SECRET), ("SUPABASE_SECRET_KEYS", VALUE)],
            &[
                ("JWT_SECRET", SECRET),
                (
                    "SUPABASE_SECRET_KEYS",
                    r#"{"default": ["sb_secret_LEAKME_0123456789abcdefghijklmnop"]}"#,
                ),
            ],
            &[("JWT_SECRET", "sb_secret_LEAKME")],
            &[("SUPABASE_JWKS", VALUE)],
            &[(
                "SUPABASE_JWKS",
                r#"{"keys":[{"kty":"EC","kid":"sb_secret_LEAKME_0123456789abcdefghijklmnop","crv":"P-256"}]}"#,
            )],
        ];
        for env_pairs in cases {
            let e = AppContext::from_env(env(env_pairs)).err().unwrap();
            let text = e.to_string();
            assert!(!text.contains("LEAKME"), "{text}");
            assert!(text.contains(e.name), "{text}");
            let answer = e.answer().to_json();
            assert!(
                !answer.contains("LEAKME") && !answer.contains(e.name),
                "{answer}"
            );
            assert_eq!(
                answer,
                r#"{"success":false,"error":"The service is not configured","code":"misconfigured"}"#
            );
        }
    }

    #[test]
    fn image_inputs_come_from_the_project_and_the_listed_hosts() {
        let c = AppContext::from_env(env(&[
            ("JWT_SECRET", SECRET),
            ("SUPABASE_URL", "http://127.0.0.1:54321/"),
            ("IMAGE_INPUT_HOSTS", "images.example.com, *.cdn.example.org"),
        ]))
        .unwrap();
        let policy = &c.config.image_inputs;
        assert!(policy
            .check("http://127.0.0.1:54321/storage/v1/object/public/b/x.png")
            .is_ok());
        assert!(policy.check("https://images.example.com/x.png").is_ok());
        assert!(policy.check("https://eu.cdn.example.org/x.png").is_ok());
        assert!(policy.check("https://example.com/x.png").is_err());
        let none = AppContext::from_env(env(&[("JWT_SECRET", SECRET)])).unwrap();
        assert!(none
            .config
            .image_inputs
            .check("https://images.example.com/x.png")
            .is_err());
    }

    #[test]
    fn the_webhook_base_is_the_project_url_unless_overridden() {
        let base = |pairs: &[(&str, &str)]| {
            let mut all = vec![("JWT_SECRET", SECRET)];
            all.extend_from_slice(pairs);
            AppContext::from_env(env(&all))
                .map(|c| c.config.webhook_base.map(|b| b.as_str().to_owned()))
        };
        assert_eq!(base(&[]), Ok(None));
        assert_eq!(
            base(&[("SUPABASE_URL", "https://abc.supabase.co/")]),
            Ok(Some("https://abc.supabase.co".into()))
        );
        assert_eq!(
            base(&[
                ("SUPABASE_URL", "http://kong:8000"),
                ("REPLICATE_WEBHOOK_BASE_URL", "https://abc.supabase.co")
            ]),
            Ok(Some("https://abc.supabase.co".into()))
        );
        let e = base(&[("REPLICATE_WEBHOOK_BASE_URL", "abc.supabase.co")])
            .err()
            .unwrap();
        assert_eq!(e.name, "REPLICATE_WEBHOOK_BASE_URL");
    }

    #[test]
    fn webhook_mode_is_off_unless_asked_and_its_secret_must_parse() {
        let c = keys_of(&[]);
        assert_eq!(
            (c.webhooks.park, c.webhooks.recheck_secs, c.webhooks.secret),
            (false, 60, None)
        );
        let c = keys_of(&[
            ("REPLICATE_WEBHOOKS", "on"),
            ("WEBHOOK_RECHECK_SECS", "5"),
            (
                "REPLICATE_WEBHOOK_SECRET",
                " whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw ",
            ),
        ]);
        assert!(c.webhooks.park);
        assert_eq!(c.webhooks.recheck_secs, 5);
        assert_eq!(
            c.webhooks.secret.map(|s| s.to_whsec()).as_deref(),
            Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        );
        let e = AppContext::from_env(env(&[
            ("JWT_SECRET", SECRET),
            ("REPLICATE_WEBHOOK_SECRET", "whsec_"),
        ]))
        .err()
        .unwrap();
        assert_eq!(e.name, "REPLICATE_WEBHOOK_SECRET");
    }

    fn keys_of(pairs: &[(&str, &str)]) -> Config {
        let mut all = vec![("JWT_SECRET", SECRET)];
        all.extend_from_slice(pairs);
        AppContext::from_env(env(&all)).unwrap().config
    }

    /// New keys only, with the disabled legacy key still injected: the secret key is the one sent.
    #[test]
    fn the_service_key_is_the_default_secret_key_before_the_legacy_key() {
        let c = keys_of(&[
            ("SUPABASE_SERVICE_ROLE_KEY", "eyJ.legacy.key"),
            (
                "SUPABASE_SECRET_KEYS",
                r#"{"backend":"sb_secret_a","default":"sb_secret_d"}"#,
            ),
        ]);
        assert_eq!(c.service_key.as_deref(), Some("sb_secret_d"));
        assert_eq!(c.secret_keys, ["sb_secret_a", "sb_secret_d"]);
        assert_eq!(c.legacy_service_key.as_deref(), Some("eyJ.legacy.key"));
    }

    #[test]
    fn the_legacy_key_is_the_service_key_of_a_project_without_secret_keys() {
        let c = keys_of(&[("SUPABASE_SERVICE_ROLE_KEY", " eyJ.legacy.key ")]);
        assert_eq!(c.service_key.as_deref(), Some("eyJ.legacy.key"));
        let c = keys_of(&[
            ("SUPABASE_SERVICE_ROLE_KEY", "eyJ.legacy.key"),
            ("SUPABASE_SECRET_KEYS", "{}"),
        ]);
        assert_eq!(c.service_key.as_deref(), Some("eyJ.legacy.key"));
        let c = keys_of(&[]);
        assert_eq!((c.service_key, c.legacy_service_key), (None, None));
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = AppContext::from_env(env(&[
            ("JWT_SECRET", SECRET),
            ("MAX_PENDING_GENERATIONS", "ten"),
        ]))
        .err()
        .unwrap();
        assert_eq!(e.name, "MAX_PENDING_GENERATIONS");
        let e = AppContext::from_env(env(&[
            ("JWT_SECRET", SECRET),
            ("MAX_PENDING_GENERATIONS", "0"),
        ]))
        .err()
        .unwrap();
        assert_eq!(e.name, "MAX_PENDING_GENERATIONS");
        let e = AppContext::from_env(env(&[])).err().unwrap();
        assert_eq!(e.name, "JWT_SECRET");
        let e = AppContext::from_env(env(&[
            ("JWT_SECRET", SECRET),
            ("IMAGE_INPUT_HOSTS", "images.example.com,169.254.169.254"),
        ]))
        .err()
        .unwrap();
        assert_eq!(e.name, "IMAGE_INPUT_HOSTS");
        assert!(e.problem.contains("\"169.254.169.254\""), "{}", e.problem);
        let e = AppContext::from_env(env(&[("SUPABASE_JWKS", "not json")]))
            .err()
            .unwrap();
        assert_eq!(e.name, "SUPABASE_JWKS");
        let e = AppContext::from_env(env(&[("JWT_SECRET", "short")]))
            .err()
            .unwrap();
        assert_eq!(e.name, "JWT_SECRET");
    }
}
