//! Endpoint logic, generic over the ports so it runs natively in tests and in wasm in production.

pub mod generate_image;
pub mod legacy_wait;
pub mod models;
pub mod process_generation;
pub mod process_jobs;
pub mod replicate_webhook;
pub mod start_generation;
mod usage;

use crate::auth::{bearer_token, AuthError, Claims, JwtVerifier};
use crate::error::ApiError;
use crate::http::RequestHead;
use crate::ports::{Platform, RpcError};

/// Request id: the caller's `x-request-id` when it is short and printable, else a fresh one.
pub(crate) fn request_id(head: &RequestHead, platform: &impl Platform) -> String {
    match head.header("x-request-id") {
        Some(id) if (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic()) => {
            id.to_owned()
        }
        _ => platform.random_id(),
    }
}

/// The lease owner (`worker_id` of claim_next_job, complete_job, extend_lease) of one invocation: made
/// here, random and fresh each time, never taken from the request (an `x-request-id` a caller chose
/// would let it name, and so guess or collide with, another invocation's leases).
pub(crate) fn worker_id(function: &str, platform: &impl Platform) -> String {
    format!("{function}:{}", platform.random_id())
}

/// Verifies the bearer token of a request (even behind the gateway: functions may be deployed with
/// `verify_jwt = false`, and the gateway does not check the role).
pub(crate) fn verify_token(
    head: &RequestHead,
    verifier: &JwtVerifier,
    now_ms: f64,
) -> Result<Claims, ApiError> {
    let token = bearer_token(head.header("authorization")).map_err(auth_error)?;
    verifier_check(verifier, token, now_ms)
}

/// 401 for a bad token, 403 for a good token of the wrong kind.
pub(crate) fn auth_error(e: AuthError) -> ApiError {
    let status = match e {
        // A valid anon key is "not signed in" (401); a user token on a service endpoint is forbidden.
        AuthError::NotServiceRole => 403,
        _ => 401,
    };
    ApiError::new(status, e.code(), e.to_string())
}

/// What Supabase's gateway checks with `verify_jwt` on: a bearer token that is a valid JWT of this
/// project, whatever its role. `Err` holds the reason to answer 401 with.
pub fn gateway_check(
    verifier: &JwtVerifier,
    authorization: Option<&str>,
    now_ms: f64,
) -> Result<(), String> {
    let head = RequestHead::new(
        "GET",
        authorization.map(|a| ("authorization".to_owned(), a.to_owned())),
    );
    verify_token(&head, verifier, now_ms)
        .map(drop)
        .map_err(|e| e.message)
}

/// Backend-only functions accept the service_role JWT (legacy key; verified, or exactly the injected
/// `SUPABASE_SERVICE_ROLE_KEY`) or one of the secret API keys (`sb_secret_…`, not JWTs), in
/// `Authorization: Bearer` or in `apikey`. User and anon tokens get 403.
pub(crate) fn verify_service(
    head: &RequestHead,
    ctx: &crate::config::AppContext,
    now_ms: f64,
) -> Result<(), ApiError> {
    let presented = bearer_token(head.header("authorization"))
        .ok()
        .or_else(|| head.header("apikey").map(str::trim));
    let Some(key) = presented.filter(|k| !k.is_empty()) else {
        return Err(auth_error(AuthError::MissingToken));
    };
    let config = &ctx.config;
    if config
        .secret_keys
        .iter()
        .chain(&config.legacy_service_key)
        .any(|k| constant_time_eq(k.as_bytes(), key.as_bytes()))
    {
        return Ok(());
    }
    let claims = verifier_check(&ctx.verifier, key, now_ms)?;
    claims.require_service_role().map_err(auth_error)
}

/// Whether the request presents one of the project's publishable keys (`sb_publishable_…`, the new form of
/// the anon key), as `Authorization: Bearer` or `apikey`.
pub(crate) fn presents_publishable_key(
    head: &RequestHead,
    ctx: &crate::config::AppContext,
) -> bool {
    let presented = bearer_token(head.header("authorization"))
        .ok()
        .or_else(|| head.header("apikey").map(str::trim));
    presented.is_some_and(|key| {
        ctx.config
            .publishable_keys
            .iter()
            .any(|k| constant_time_eq(k.as_bytes(), key.as_bytes()))
    })
}

fn verifier_check(verifier: &JwtVerifier, token: &str, now_ms: f64) -> Result<Claims, ApiError> {
    verifier
        .verify(token, (now_ms / 1000.0).floor() as i64)
        .map_err(auth_error)
}

/// Compares secrets without leaking, through timing, how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// 503 when the database is unreachable (the client may retry), 500 otherwise; details stay in the log.
pub(crate) fn database_error(e: &RpcError) -> ApiError {
    match e {
        RpcError::Unavailable(_) => ApiError::new(
            503,
            "database_unavailable",
            "the database is unavailable; try again shortly",
        ),
        RpcError::Query { .. } | RpcError::BadAnswer(_) => ApiError::new(
            500,
            "internal_error",
            "the request failed because of a server error",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AppContext;

    const SECRET: &str = "s3cret-s3cret-s3cret-s3cret-s3cret";
    const NOW_MS: f64 = 1_700_000_000_000.0;

    /// A project checked with signing keys only would not verify the HS256 legacy key, so its exact
    /// injected value is what lets it through.
    fn ctx() -> AppContext {
        AppContext::from_env(|k| match k {
            "JWT_SECRET" => Some(SECRET.into()),
            "SUPABASE_SERVICE_ROLE_KEY" => Some("eyJ.injected.legacy".into()),
            "SUPABASE_SECRET_KEYS" => Some(r#"{"default":"sb_secret_k"}"#.into()),
            _ => None,
        })
        .unwrap()
    }

    fn check(header: (&str, &str)) -> Result<(), u16> {
        let head = RequestHead::new("POST", [(header.0.to_owned(), header.1.to_owned())]);
        verify_service(&head, &ctx(), NOW_MS).map_err(|e| e.status)
    }

    #[test]
    fn the_service_key_in_any_of_its_forms_is_accepted() {
        assert_eq!(check(("apikey", "sb_secret_k")), Ok(()));
        assert_eq!(check(("authorization", "Bearer sb_secret_k")), Ok(()));
        assert_eq!(
            check(("authorization", "Bearer eyJ.injected.legacy")),
            Ok(())
        );
        let signed = crate::testing::sign_hs256(
            &serde_json::json!({"role": "service_role", "exp": NOW_MS as i64 / 1000 + 60}),
            SECRET,
        );
        assert_eq!(
            check(("authorization", &format!("Bearer {signed}"))),
            Ok(())
        );
    }

    #[test]
    fn other_keys_and_tokens_are_refused() {
        assert_eq!(check(("apikey", "sb_secret_other")), Err(401));
        assert_eq!(
            check(("authorization", "Bearer eyJ.injected.legacyX")),
            Err(401)
        );
        let user = crate::testing::sign_hs256(
            &serde_json::json!({"sub": "u", "role": "authenticated", "aud": "authenticated",
                                "exp": NOW_MS as i64 / 1000 + 60}),
            SECRET,
        );
        assert_eq!(
            check(("authorization", &format!("Bearer {user}"))),
            Err(403)
        );
    }
}
