//! Error types of token verification and key configuration.
//!
//! `AuthError` messages go into HTTP response bodies, so they are fixed strings: nothing from the token
//! is echoed except an algorithm name that has been reduced to a short, safe identifier.

use thiserror::Error;

/// Why a request's bearer token was not accepted. Map to HTTP with [`AuthError::http_status`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Authorization: Bearer <token>` header, another scheme, or an empty token.
    #[error("missing bearer token")]
    MissingToken,
    /// The token is not a well-formed compact JWS/JWT; the text says which part, never its content.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The header's `alg` is not one of HS256, ES256, RS256 (`none` included). Holds a sanitized name.
    #[error("unsupported token algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// No configured key can verify this token: unknown `kid`, or no key for the header's algorithm.
    #[error("token signed with an unknown key")]
    UnknownKey,
    /// The header's `kid` names a key of another type or algorithm than the header's `alg`.
    #[error("token algorithm does not match its signing key")]
    KeyMismatch,
    /// The signature did not verify.
    #[error("invalid token signature")]
    BadSignature,
    /// `exp` has passed (beyond [`super::LEEWAY`]).
    #[error("token has expired")]
    Expired,
    /// `nbf` is in the future (beyond [`super::LEEWAY`]).
    #[error("token is not valid yet")]
    NotYetValid,
    /// The token has no `exp` claim; tokens that never expire are refused.
    #[error("token has no expiry")]
    MissingExpiry,
    /// A valid token, but not a signed-in user's access token (e.g. the anon or service key).
    #[error("a signed-in user's access token is required")]
    NotAUserToken,
    /// A valid token, but its role is not `service_role`.
    #[error("the service role is required")]
    NotServiceRole,
}

impl AuthError {
    /// Stable snake_case code for API error bodies; several variants share one code on purpose so that
    /// clients cannot probe which check failed (RFC 6750 §3.1 uses the same coarse codes).
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::MissingToken => "missing_token",
            AuthError::Malformed(_)
            | AuthError::UnsupportedAlgorithm(_)
            | AuthError::UnknownKey
            | AuthError::KeyMismatch
            | AuthError::BadSignature
            | AuthError::MissingExpiry => "invalid_token",
            AuthError::Expired => "token_expired",
            AuthError::NotYetValid => "token_not_yet_valid",
            AuthError::NotAUserToken | AuthError::NotServiceRole => "forbidden_role",
        }
    }

    /// HTTP status for this error: 403 when the token is valid but its role is insufficient, else 401.
    pub fn http_status(&self) -> u16 {
        match self {
            AuthError::NotAUserToken | AuthError::NotServiceRole => 403,
            _ => 401,
        }
    }
}

/// Why the verifier could not be built from the configured secret / JWKS (a deployment error).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KeyConfigError {
    /// The HS256 secret is shorter than 32 bytes (RFC 7518 §3.2: the key must be at least 256 bits).
    #[error("HS256 secret is {len} bytes; at least 32 are required")]
    WeakHs256Secret {
        /// Length of the secret in bytes.
        len: usize,
    },
    /// `SUPABASE_JWKS` is not JSON.
    #[error("JWKS is not valid JSON: {0}")]
    InvalidJwksJson(String),
    /// `SUPABASE_JWKS` is JSON but neither `{"keys": [...]}` nor a bare array of JWK objects.
    #[error("JWKS must be an object with a \"keys\" array, or an array of JWK objects")]
    InvalidJwksShape,
    /// A key of a supported type has missing or invalid fields.
    #[error("JWKS key #{index} (kid {kid:?}) is invalid: {reason}")]
    InvalidKey {
        /// Position of the key in the JWKS.
        index: usize,
        /// The key's `kid`, if any.
        kid: Option<String>,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An RSA key with a modulus under 2048 bits (RFC 7518 §3.3 requires at least 2048).
    #[error(
        "JWKS key #{index} (kid {kid:?}) is an RSA key of {bits} bits; at least 2048 are required"
    )]
    WeakRsaKey {
        /// Position of the key in the JWKS.
        index: usize,
        /// The key's `kid`, if any.
        kid: Option<String>,
        /// Modulus size in bits.
        bits: usize,
    },
    /// Neither an HS256 secret nor any usable JWKS key is configured: every token would be refused.
    #[error("no verification key configured (set the JWT secret or SUPABASE_JWKS)")]
    NoKeys,
}
