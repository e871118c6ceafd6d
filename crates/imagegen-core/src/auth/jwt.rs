//! Compact JWS parsing and verification of Supabase access tokens (RFC 7515, 7518, 7519, 8725).

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::claims::Claims;
use super::error::{AuthError, KeyConfigError};
use super::jwks::{parse_jwks, Jwk};
use super::{LEEWAY, MAX_TOKEN_LEN};

/// RFC 7518 §3.2: an HS256 key must be at least as long as the hash output (256 bits).
const MIN_HS256_SECRET_LEN: usize = 32;

/// The algorithms we verify. Anything else, `none` first of all, is refused (RFC 8725 §3.1, §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Alg {
    /// HMAC-SHA256 with the project JWT secret (legacy Supabase projects, local `supabase start`).
    Hs256,
    /// ECDSA P-256 with SHA-256 (Supabase asymmetric signing keys).
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
}

/// Verifies Supabase JWTs against the project's HS256 secret and/or its published JWKS.
#[derive(Clone)]
pub struct JwtVerifier {
    /// HMAC keyed once with the secret; cloned per token.
    hs256: Option<Hmac<Sha256>>,
    /// Usable asymmetric keys, each bound to one algorithm. Shared by clones.
    keys: std::sync::Arc<[Jwk]>,
}

impl fmt::Debug for JwtVerifier {
    // Never print the secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("hs256", &self.hs256.is_some())
            .field(
                "keys",
                &self.keys.iter().map(Jwk::describe).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The protected header fields we act on.
struct Header {
    alg: Alg,
    kid: Option<String>,
}

impl JwtVerifier {
    /// Builds a verifier from the project JWT secret (None/empty/whitespace: HS256 refused) and the
    /// `SUPABASE_JWKS` content (None/empty: no asymmetric keys; `{"keys":[...]}` or a bare array).
    ///
    /// The secret is used as its UTF-8 bytes, as Supabase Auth does, after trimming surrounding
    /// whitespace (a trailing newline in an env file would otherwise break every token). Errors:
    /// unparseable JWKS, broken or weak supported keys, a secret under 32 bytes, or no key at all.
    pub fn new(
        hs256_secret: Option<&str>,
        jwks_json: Option<&str>,
    ) -> Result<Self, KeyConfigError> {
        let hs256 = match hs256_secret.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(secret) if secret.len() < MIN_HS256_SECRET_LEN => {
                return Err(KeyConfigError::WeakHs256Secret { len: secret.len() });
            }
            Some(secret) => Some(
                // HMAC accepts keys of any length; the error arm is unreachable but not unwrapped.
                Hmac::<Sha256>::new_from_slice(secret.as_bytes())
                    .map_err(|_| KeyConfigError::WeakHs256Secret { len: secret.len() })?,
            ),
        };
        let keys = match jwks_json.map(str::trim).filter(|s| !s.is_empty()) {
            None => Vec::new(),
            Some(json) => parse_jwks(json)?,
        };
        if hs256.is_none() && keys.is_empty() {
            return Err(KeyConfigError::NoKeys);
        }
        Ok(JwtVerifier {
            hs256,
            keys: keys.into(),
        })
    }

    /// Verifies the signature, then `exp` (required) and `nbf` against `now` (unix seconds) with
    /// [`LEEWAY`]. Audience and role are the caller's: see [`Claims::require_user`].
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, AuthError> {
        // Bound the work done on attacker input before decoding anything.
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::Malformed("token is too long"));
        }
        // RFC 7515 §7.1: compact serialization is exactly three dot-separated base64url parts.
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::Malformed(
                "token must have three dot-separated parts",
            ));
        };
        // An empty payload would be a detached-content JWS (RFC 7515 Appendix F), never a JWT.
        if header_b64.is_empty() || payload_b64.is_empty() {
            return Err(AuthError::Malformed("token has an empty header or payload"));
        }
        let header_bytes = b64url(header_b64, "header is not base64url")?;
        let header_json: Value = serde_json::from_slice(&header_bytes)
            .map_err(|_| AuthError::Malformed("header is not JSON"))?;
        let header = parse_header(&header_json)?;
        let payload_bytes = b64url(payload_b64, "payload is not base64url")?;
        let signature = b64url(signature_b64, "signature is not base64url")?;

        // RFC 7515 §5.2: the signature covers the ASCII of the encoded header '.' encoded payload.
        let signing_input = &token.as_bytes()[..header_b64.len() + 1 + payload_b64.len()];
        self.verify_signature(&header, signing_input, &signature)?;

        // Claims are read only once the signature holds (RFC 8725 §3.3: validate all crypto first).
        let payload: Value = serde_json::from_slice(&payload_bytes)
            .map_err(|_| AuthError::Malformed("payload is not JSON"))?;
        let claims = Claims::from_payload(payload)?;
        check_time(&claims, now)?;
        Ok(claims)
    }

    /// Picks the key(s) bound to the header's algorithm and checks the signature.
    fn verify_signature(
        &self,
        header: &Header,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<(), AuthError> {
        if header.alg == Alg::Hs256 {
            // Key confusion (RFC 8725 §2.1, §3.1): HS256 is only ever keyed with the configured
            // secret, never with public key material. A kid naming one of the asymmetric keys is an
            // attempt at exactly that, so it is refused outright.
            if let Some(kid) = &header.kid {
                if self.keys.iter().any(|k| k.kid() == Some(kid.as_str())) {
                    return Err(AuthError::KeyMismatch);
                }
            }
            let mut mac = self.hs256.clone().ok_or(AuthError::UnknownKey)?;
            mac.update(signing_input);
            // `verify_slice` compares in constant time (and refuses a tag of the wrong length).
            return mac
                .verify_slice(signature)
                .map_err(|_| AuthError::BadSignature);
        }
        if header.alg == Alg::Es256 && signature.len() != 64 {
            // RFC 7518 §3.4: r||s, 64 bytes. DER (as produced by many ECDSA libraries) is refused.
            return Err(AuthError::Malformed(
                "ES256 signature must be 64 bytes (r||s)",
            ));
        }
        let candidates: Vec<&Jwk> = match &header.kid {
            Some(kid) => {
                let named: Vec<&Jwk> = self
                    .keys
                    .iter()
                    .filter(|k| k.kid() == Some(kid.as_str()))
                    .collect();
                if named.is_empty() {
                    return Err(AuthError::UnknownKey);
                }
                let usable: Vec<&Jwk> = named
                    .into_iter()
                    .filter(|k| k.alg() == header.alg)
                    .collect();
                if usable.is_empty() {
                    return Err(AuthError::KeyMismatch);
                }
                usable
            }
            None => {
                let usable: Vec<&Jwk> =
                    self.keys.iter().filter(|k| k.alg() == header.alg).collect();
                if usable.is_empty() {
                    return Err(AuthError::UnknownKey);
                }
                usable
            }
        };
        if candidates
            .iter()
            .any(|k| k.verify(signing_input, signature))
        {
            Ok(())
        } else {
            Err(AuthError::BadSignature)
        }
    }
}

/// Strict base64url: RFC 7515 §2 forbids padding, and non-canonical trailing bits are refused, so each
/// token has one spelling.
fn b64url(part: &str, err: &'static str) -> Result<Vec<u8>, AuthError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| AuthError::Malformed(err))
}

/// Reads the JOSE header: `alg` (allow-listed), `typ` (JWT if present), `kid`; refuses `crit`.
fn parse_header(json: &Value) -> Result<Header, AuthError> {
    let obj = json
        .as_object()
        .ok_or(AuthError::Malformed("header is not a JSON object"))?;
    let alg_name = obj
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(AuthError::Malformed("header has no alg"))?;
    // RFC 7518 alg names are case-sensitive, so only the exact spellings match; `none` in any case is
    // called out by name (RFC 8725 §3.1: never accept unsecured JWTs).
    let alg = match alg_name {
        "HS256" => Alg::Hs256,
        "ES256" => Alg::Es256,
        "RS256" => Alg::Rs256,
        other if other.eq_ignore_ascii_case("none") => {
            return Err(AuthError::UnsupportedAlgorithm("none".to_owned()));
        }
        other => return Err(AuthError::UnsupportedAlgorithm(sanitize_alg(other))),
    };
    // RFC 7519 §5.1 / RFC 8725 §3.11: when typ is present it must say this is a JWT.
    match obj.get("typ") {
        None => {}
        Some(Value::String(t)) if t.eq_ignore_ascii_case("JWT") => {}
        Some(_) => return Err(AuthError::Malformed("header typ is not JWT")),
    }
    // RFC 7515 §4.1.11: we understand no extensions, so any critical one makes the token invalid.
    if obj.contains_key("crit") {
        return Err(AuthError::Malformed(
            "header has unsupported crit extensions",
        ));
    }
    // `jwk`, `jku`, `x5u`, `x5c` are ignored on purpose: keys never come from the token itself
    // (RFC 8725 §3.10: do not trust received claims to locate keys).
    let kid = match obj.get("kid") {
        None | Some(Value::Null) => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => return Err(AuthError::Malformed("header kid is not a string")),
    };
    Ok(Header { alg, kid })
}

/// Keeps an attacker-chosen alg name fit for a response body: short and `[A-Za-z0-9+_-]` only.
fn sanitize_alg(alg: &str) -> String {
    let safe = !alg.is_empty()
        && alg.len() <= 16
        && alg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+'));
    if safe {
        alg.to_owned()
    } else {
        "unrecognized".to_owned()
    }
}

/// RFC 7519 §4.1.4/§4.1.5 with [`LEEWAY`] for clock skew between Supabase Auth and the edge runtime.
fn check_time(claims: &Claims, now: i64) -> Result<(), AuthError> {
    if now >= claims.exp.saturating_add(LEEWAY) {
        return Err(AuthError::Expired);
    }
    if let Some(nbf) = claims.nbf {
        if nbf > now.saturating_add(LEEWAY) {
            return Err(AuthError::NotYetValid);
        }
    }
    Ok(())
}
