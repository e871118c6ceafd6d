//! How an isolate connects to Postgres: which URL, how many connections, prepared statements or not,
//! TLS or not. Decided here from the environment; `supabase/functions/_shared/host.ts` hands the
//! answer to postgres.js.

use crate::config::{positive_setting, ConfigError};

/// Connections one isolate may hold (`DB_POOL_MAX`). Supabase's smallest computes (Nano, the free
/// plan, and Micro) allow 60 direct connections, and its own services (Auth, Storage, PostgREST,
/// Realtime, pg_cron, the pooler) hold part of them. Five functions, each run by one or more isolates
/// at a time (more during bursts), must stay well inside the rest: 3 each stays within 30 even at two
/// isolates per function. Three is also what one isolate can use: a request makes one SQL call at a
/// time, and process-jobs runs `WORKER_CONCURRENCY` (3) jobs at once, each one call at a time; with
/// fewer connections than callers, postgres.js queues the call rather than failing it.
pub const DEFAULT_POOL_MAX: u32 = 3;

/// The transaction pooler's port (Supavisor): it cannot keep prepared statements across transactions.
const TRANSACTION_POOLER_PORT: &str = "6543";

/// Options for postgres.js (`postgres(url, { max, prepare, ssl })`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    pub url: String,
    pub max: u32,
    pub prepare: bool,
    pub tls: Tls,
}

/// TLS as the URL's `sslmode` asks for it, in postgres.js's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// No `sslmode`, or `disable`: plain TCP (the injected direct connection, as before).
    Off,
    /// `allow`, `prefer`: TLS when the server offers it, else plain. postgres.js has no "plain first,
    /// then TLS" (libpq's `allow`), so both try TLS first.
    Prefer,
    /// `require`: encrypted, the server's certificate not checked (libpq's meaning too).
    Require,
    /// `verify-ca`, `verify-full`, or `sslrootcert=system`: encrypted and the certificate checked
    /// against the system's CAs, host name included (postgres.js cannot check the CA alone, so
    /// `verify-ca` gets the stricter check).
    VerifyFull,
}

impl Tls {
    /// postgres.js's `ssl` option.
    fn option(self) -> serde_json::Value {
        match self {
            Tls::Off => false.into(),
            Tls::Prefer => "prefer".into(),
            Tls::Require => "require".into(),
            Tls::VerifyFull => "verify-full".into(),
        }
    }
}

impl ConnectOptions {
    /// Reads `DATABASE_URL` (e.g. the transaction pooler), else the injected `SUPABASE_DB_URL`, and
    /// `DB_POOL_MAX`. An unusable value is an error naming the variable, never quoting the URL (it holds
    /// the database password).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let non_empty = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let (name, url) = match non_empty("DATABASE_URL") {
            Some(url) => ("DATABASE_URL", url),
            None => (
                "SUPABASE_DB_URL",
                non_empty("SUPABASE_DB_URL").ok_or_else(|| ConfigError {
                    name: "SUPABASE_DB_URL",
                    problem: "is not set (nor is DATABASE_URL)".into(),
                })?,
            ),
        };
        let url = url.trim().to_owned();
        let parts = UrlParts::parse(&url).map_err(|problem| ConfigError { name, problem })?;
        let max = positive_setting("DB_POOL_MAX", non_empty("DB_POOL_MAX"), DEFAULT_POOL_MAX)?;
        Ok(Self {
            prepare: parts.port != Some(TRANSACTION_POOLER_PORT),
            tls: parts
                .tls()
                .map_err(|problem| ConfigError { name, problem })?,
            max,
            url,
        })
    }

    /// The JSON host.ts reads: `{url, max, prepare, ssl}`.
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "url": self.url,
            "max": self.max,
            "prepare": self.prepare,
            "ssl": self.tls.option(),
        })
        .to_string()
    }
}

/// What is read from a `postgres://` URL: its port and its query parameters.
struct UrlParts<'a> {
    port: Option<&'a str>,
    query: Vec<(&'a str, &'a str)>,
}

impl<'a> UrlParts<'a> {
    fn parse(url: &'a str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
            .ok_or("is not a postgres:// or postgresql:// URL")?;
        let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
        let authority = before_query.split('/').next().unwrap_or_default();
        // The password may hold ':' (percent-encoding is not always used), so the host starts after the
        // last '@'; a bracketed IPv6 host holds ':' too.
        let host_port = authority.rsplit('@').next().unwrap_or_default();
        let port = match host_port.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(':') && !port.contains(']') => Some(port),
            _ => None,
        };
        let query = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').unwrap_or((p, "")))
            .collect();
        Ok(Self { port, query })
    }

    fn param(&self, name: &str) -> Option<&'a str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
    }

    /// libpq's `sslmode` (https://www.postgresql.org/docs/15/libpq-ssl.html), and
    /// `sslrootcert=system` (which implies verify-full in libpq 16 and postgres.js).
    fn tls(&self) -> Result<Tls, String> {
        if self.param("sslrootcert") == Some("system") {
            return Ok(Tls::VerifyFull);
        }
        match self.param("sslmode") {
            None | Some("disable") => Ok(Tls::Off),
            Some("allow" | "prefer") => Ok(Tls::Prefer),
            Some("require") => Ok(Tls::Require),
            Some("verify-ca" | "verify-full") => Ok(Tls::VerifyFull),
            Some(_) => Err(
                "has an sslmode that is not one of disable, allow, prefer, require, verify-ca, verify-full"
                    .into(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIRECT: &str = "postgresql://postgres:p%40ss@db.abc.supabase.co:5432/postgres";

    fn options(pairs: &[(&str, &str)]) -> Result<ConnectOptions, ConfigError> {
        ConnectOptions::from_env(|k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    fn tls_of(url: &str) -> Tls {
        options(&[("SUPABASE_DB_URL", url)]).unwrap().tls
    }

    #[test]
    fn the_injected_direct_connection_with_the_default_pool() {
        let o = options(&[("SUPABASE_DB_URL", DIRECT)]).unwrap();
        assert_eq!(
            o,
            ConnectOptions {
                url: DIRECT.into(),
                max: DEFAULT_POOL_MAX,
                prepare: true,
                tls: Tls::Off
            }
        );
        assert_eq!(DEFAULT_POOL_MAX, 3);
        assert_eq!(
            o.to_json(),
            format!(r#"{{"max":3,"prepare":true,"ssl":false,"url":"{DIRECT}"}}"#)
        );
    }

    #[test]
    fn database_url_overrides_and_the_transaction_pooler_gets_no_prepared_statements() {
        let pooler =
            "postgres://postgres.abc:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres";
        let o = options(&[("SUPABASE_DB_URL", DIRECT), ("DATABASE_URL", pooler)]).unwrap();
        assert_eq!((o.url.as_str(), o.prepare), (pooler, false));
        // Session mode on the pooler (5432) keeps them.
        let session =
            "postgres://postgres.abc:pw@aws-0-eu-central-1.pooler.supabase.com:5432/postgres";
        assert!(options(&[("DATABASE_URL", session)]).unwrap().prepare);
        // A password holding ':' and '@' is not taken for the port.
        let odd = "postgres://u:pa:ss@w0rd@db.example:6543/postgres";
        assert!(!options(&[("DATABASE_URL", odd)]).unwrap().prepare);
        assert!(
            options(&[("DATABASE_URL", "postgres://u@[::1]/postgres")])
                .unwrap()
                .prepare
        );
    }

    #[test]
    fn the_pool_size_can_be_set() {
        let o = options(&[("SUPABASE_DB_URL", DIRECT), ("DB_POOL_MAX", " 8 ")]).unwrap();
        assert_eq!(o.max, 8);
        for bad in ["0", "-1", "ten"] {
            let e = options(&[("SUPABASE_DB_URL", DIRECT), ("DB_POOL_MAX", bad)])
                .err()
                .unwrap();
            assert_eq!(e.name, "DB_POOL_MAX");
        }
    }

    #[test]
    fn tls_follows_the_sslmode_the_url_asks_for() {
        let with = |query: &str| tls_of(&format!("{DIRECT}?{query}"));
        assert_eq!(tls_of(DIRECT), Tls::Off);
        assert_eq!(with("sslmode=disable"), Tls::Off);
        assert_eq!(with("sslmode=allow"), Tls::Prefer);
        assert_eq!(with("sslmode=prefer"), Tls::Prefer);
        assert_eq!(with("sslmode=require"), Tls::Require);
        assert_eq!(
            with("application_name=x&sslmode=verify-ca"),
            Tls::VerifyFull
        );
        assert_eq!(with("sslmode=verify-full"), Tls::VerifyFull);
        assert_eq!(with("sslrootcert=system"), Tls::VerifyFull);
        let o = options(&[("DATABASE_URL", &format!("{DIRECT}?sslmode=require"))]).unwrap();
        assert!(
            o.to_json().contains(r#""ssl":"require""#),
            "{}",
            o.to_json()
        );
        let o = options(&[("DATABASE_URL", &format!("{DIRECT}?sslmode=verify-full"))]).unwrap();
        assert!(
            o.to_json().contains(r#""ssl":"verify-full""#),
            "{}",
            o.to_json()
        );
    }

    #[test]
    fn unusable_urls_name_the_variable_never_the_password() {
        let e = options(&[]).err().unwrap();
        assert_eq!(e.name, "SUPABASE_DB_URL");
        let e = options(&[("DATABASE_URL", "mysql://u:LEAKME@h/db")])
            .err()
            .unwrap();
        assert_eq!(e.name, "DATABASE_URL");
        assert!(!e.to_string().contains("LEAKME"), "{e}");
        let e = options(&[("SUPABASE_DB_URL", "postgres://u:LEAKME@h/db?sslmode=requir")])
            .err()
            .unwrap();
        assert_eq!(e.name, "SUPABASE_DB_URL");
        assert!(
            e.problem.contains("sslmode") && !e.to_string().contains("LEAKME"),
            "{e}"
        );
    }
}
