//! The project's API keys as Supabase injects them, and which one the backend sends on its own calls.
//!
//! Supabase injects the legacy JWT keys (`SUPABASE_SERVICE_ROLE_KEY`, `SUPABASE_ANON_KEY`) and the new
//! API keys (`SUPABASE_SECRET_KEYS`, `SUPABASE_PUBLISHABLE_KEYS`: JSON maps like
//! `{"default":"sb_secret_..."}`). A project that disabled its legacy keys may still get the legacy
//! service_role JWT injected, and Storage then answers it with 401; so the new secret key, when there is
//! one, is the key the backend sends.

use std::collections::BTreeMap;

/// The name Supabase gives the key it creates with the project (`{"default": "sb_secret_..."}`).
const DEFAULT_KEY_NAME: &str = "default";

/// A key map (`SUPABASE_SECRET_KEYS`, `SUPABASE_PUBLISHABLE_KEYS`): key name → key, empty keys dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyMap(BTreeMap<String, String>);

impl KeyMap {
    /// Parses a JSON object of strings. `Err` says where it broke, never quoting the value (a secret).
    pub fn parse(json: &str) -> Result<Self, String> {
        let map = serde_json::from_str::<BTreeMap<String, String>>(json).map_err(|e| {
            format!(
                "is not a JSON object of strings (line {}, column {})",
                e.line(),
                e.column()
            )
        })?;
        Ok(Self(
            map.into_iter()
                .filter(|(_, key)| !key.trim().is_empty())
                .map(|(name, key)| (name, key.trim().to_owned()))
                .collect(),
        ))
    }

    /// Every key, for checking what a caller presents.
    pub fn keys(&self) -> Vec<String> {
        self.0.values().cloned().collect()
    }

    /// The key to send: the one named `default`, else the first by name.
    fn preferred(&self) -> Option<&str> {
        self.0
            .get(DEFAULT_KEY_NAME)
            .or_else(|| self.0.values().next())
            .map(String::as_str)
    }
}

/// The key the backend sends on its own calls to the project (Storage, the worker kick): a secret API
/// key when the project has one, else the legacy service_role JWT. Never the legacy key first: it may be
/// injected although disabled, and every Storage call would then be refused.
pub fn service_key(secret_keys: &KeyMap, legacy_service_role_key: Option<&str>) -> Option<String> {
    secret_keys
        .preferred()
        .or(legacy_service_role_key)
        .map(str::to_owned)
}

/// Headers that carry the service key on a call to the project. Secret API keys are not JWTs: the API
/// gateway takes them only from `apikey` (and then sends Storage a service_role JWT of its own);
/// `Authorization` carries the same key, as supabase-js sends it, for the legacy JWT.
pub fn service_headers(key: &str) -> [(&'static str, String); 2] {
    [
        ("apikey", key.to_owned()),
        ("authorization", format!("Bearer {key}")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEGACY: &str = "eyJhbGciOiJIUzI1NiJ9.legacy.service_role";

    fn keys(json: &str) -> KeyMap {
        KeyMap::parse(json).unwrap()
    }

    #[test]
    fn the_default_secret_key_wins_over_the_legacy_key() {
        let map = keys(r#"{"other":"sb_secret_a","default":"sb_secret_b"}"#);
        assert_eq!(
            service_key(&map, Some(LEGACY)).as_deref(),
            Some("sb_secret_b")
        );
    }

    #[test]
    fn without_a_default_the_first_secret_key_by_name_is_sent() {
        let map = keys(r#"{"zeta":"sb_secret_z","alpha":"sb_secret_a"}"#);
        assert_eq!(
            service_key(&map, Some(LEGACY)).as_deref(),
            Some("sb_secret_a")
        );
    }

    #[test]
    fn the_legacy_key_is_sent_only_without_secret_keys() {
        assert_eq!(
            service_key(&KeyMap::default(), Some(LEGACY)).as_deref(),
            Some(LEGACY)
        );
        assert_eq!(
            service_key(&keys(r#"{"default":"  "}"#), Some(LEGACY)).as_deref(),
            Some(LEGACY)
        );
        assert_eq!(service_key(&KeyMap::default(), None), None);
    }

    #[test]
    fn a_map_that_is_not_an_object_of_strings_is_refused_without_the_value() {
        for bad in [
            "sb_secret_LEAKME",
            r#"["sb_secret_LEAKME"]"#,
            r#"{"default":["sb_secret_LEAKME"]}"#,
        ] {
            let problem = KeyMap::parse(bad).err().unwrap();
            assert!(!problem.contains("LEAKME"), "{problem}");
        }
    }

    #[test]
    fn service_calls_carry_the_key_in_apikey_and_authorization() {
        assert_eq!(
            service_headers("sb_secret_x"),
            [
                ("apikey", "sb_secret_x".to_owned()),
                ("authorization", "Bearer sb_secret_x".to_owned())
            ]
        );
    }
}
