//! Verification of Supabase access tokens (JWTs) for the Edge Functions.
//!
//! Supabase signs access tokens with the project JWT secret (HS256, legacy projects and local
//! `supabase start`) or with asymmetric signing keys published as a JWKS (ES256, RS256). [`JwtVerifier`]
//! accepts exactly those three algorithms, each bound to its own kind of key, checks `exp`/`nbf`, and
//! hands back [`Claims`]; handlers then require a user ([`Claims::require_user`]) or the service role.
//!
//! There is no clock and no network here: the caller passes `now` and the JWKS content, so everything
//! is deterministic and runs the same natively and in wasm.
//!
//! ```
//! use imagegen_core::auth::{bearer_token, JwtVerifier};
//! let verifier = JwtVerifier::new(Some("super-secret-jwt-token-with-at-least-32-characters-long"), None)?;
//! let anon = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0";
//! let header = format!("Bearer {anon}");
//! let claims = verifier.verify(bearer_token(Some(&header))?, 1_700_000_000)?;
//! assert_eq!(claims.role.as_deref(), Some("anon"));
//! assert!(claims.require_user().is_err()); // the anon key is not a signed-in user
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod bearer;
mod claims;
mod error;
mod jwks;
mod jwt;

pub use bearer::bearer_token;
pub use claims::Claims;
pub use error::{AuthError, KeyConfigError};
pub use jwt::JwtVerifier;

/// Clock skew tolerated on `exp` and `nbf`, in seconds (RFC 7519 §4.1.4 allows "a small leeway").
pub const LEEWAY: i64 = 30;

/// Longest token accepted, in bytes; longer input is refused before any decoding. Supabase access
/// tokens are well under 2 KiB even with metadata.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;
