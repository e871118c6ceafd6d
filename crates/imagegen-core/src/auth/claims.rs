//! The claims of a verified Supabase token, and the role checks that handlers apply to them.

use serde_json::{Map, Value};
use uuid::Uuid;

use super::error::AuthError;

/// `role` and `aud` of a signed-in user's access token issued by Supabase Auth (GoTrue).
const AUTHENTICATED: &str = "authenticated";
/// `role` of the service key (and of tokens minted with it): bypasses row-level security.
const SERVICE_ROLE: &str = "service_role";

/// Claims of a token whose signature and time claims have been verified by [`super::JwtVerifier`].
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    /// Subject: the user's id (a UUID) in user access tokens; absent in the anon/service keys.
    pub sub: Option<String>,
    /// Postgres role: `authenticated`, `anon` or `service_role`.
    pub role: Option<String>,
    /// Audiences; a string `aud` becomes a one-element list, a missing one an empty list (RFC 7519 §4.1.3).
    pub aud: Vec<String>,
    /// Issuer, e.g. `https://<ref>.supabase.co/auth/v1` or `supabase-demo` for the local keys.
    pub iss: Option<String>,
    /// Expiry, unix seconds (required).
    pub exp: i64,
    /// Not-before, unix seconds.
    pub nbf: Option<i64>,
    /// Issued-at, unix seconds.
    pub iat: Option<i64>,
    /// The user's email (may be empty for phone or anonymous users).
    pub email: Option<String>,
    /// The user's phone (may be empty).
    pub phone: Option<String>,
    /// Authenticator assurance level, `aal1` or `aal2`.
    pub aal: Option<String>,
    /// The Supabase Auth session id.
    pub session_id: Option<String>,
    /// True for users created by anonymous sign-in; they still have role `authenticated`.
    pub is_anonymous: bool,
    /// The whole payload, for claims not mapped above (`app_metadata`, `user_metadata`, custom claims).
    pub raw: Value,
}

impl Claims {
    /// A signed-in user's access token (role and aud `authenticated`, `sub` a UUID): returns the user id.
    ///
    /// Anonymous sign-in users pass (they are real users with an id); check [`Claims::is_anonymous`]
    /// where they must not. The anon and service keys have no `sub` and fail with `NotAUserToken`.
    pub fn require_user(&self) -> Result<Uuid, AuthError> {
        if self.role.as_deref() != Some(AUTHENTICATED) {
            return Err(AuthError::NotAUserToken);
        }
        // RFC 8725 §3.9: check the audience, so a token minted for another audience is not taken as a
        // user session even when it carries role `authenticated`.
        if !self.aud.iter().any(|a| a == AUTHENTICATED) {
            return Err(AuthError::NotAUserToken);
        }
        let sub = self.sub.as_deref().ok_or(AuthError::NotAUserToken)?;
        // Only the canonical hyphenated form (what GoTrue emits); `Uuid::parse_str` would also take the
        // braced, urn and 32-hex forms, which would give one user several spellings.
        if sub.len() != 36 {
            return Err(AuthError::NotAUserToken);
        }
        let id = Uuid::try_parse(sub).map_err(|_| AuthError::NotAUserToken)?;
        if id.is_nil() {
            return Err(AuthError::NotAUserToken);
        }
        Ok(id)
    }

    /// The token's role is `service_role` (the service key, or a token minted with the JWT secret).
    pub fn require_service_role(&self) -> Result<(), AuthError> {
        if self.role.as_deref() == Some(SERVICE_ROLE) {
            Ok(())
        } else {
            Err(AuthError::NotServiceRole)
        }
    }

    /// `app_metadata` (set by the server only, e.g. provider, custom roles), if present.
    pub fn app_metadata(&self) -> Option<&Value> {
        self.raw.get("app_metadata")
    }

    /// `user_metadata` (editable by the user: never base authorization on it), if present.
    pub fn user_metadata(&self) -> Option<&Value> {
        self.raw.get("user_metadata")
    }

    /// Maps a payload to claims. Unknown fields are kept in `raw`; known ones of the wrong type are
    /// refused rather than ignored, so a confused issuer cannot produce a half-read token.
    pub(crate) fn from_payload(raw: Value) -> Result<Claims, AuthError> {
        let obj = raw
            .as_object()
            .ok_or(AuthError::Malformed("payload is not a JSON object"))?;
        let exp = match obj.get("exp") {
            None => return Err(AuthError::MissingExpiry),
            Some(v) => numeric_date(v).ok_or(AuthError::Malformed("exp is not a number"))?,
        };
        let claims = Claims {
            sub: opt_string(obj, "sub", "sub is not a string")?,
            role: opt_string(obj, "role", "role is not a string")?,
            aud: audience(obj)?,
            iss: opt_string(obj, "iss", "iss is not a string")?,
            exp,
            nbf: opt_date(obj, "nbf", "nbf is not a number")?,
            iat: opt_date(obj, "iat", "iat is not a number")?,
            email: opt_string(obj, "email", "email is not a string")?,
            phone: opt_string(obj, "phone", "phone is not a string")?,
            aal: opt_string(obj, "aal", "aal is not a string")?,
            session_id: opt_string(obj, "session_id", "session_id is not a string")?,
            is_anonymous: match obj.get("is_anonymous") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err(AuthError::Malformed("is_anonymous is not a boolean")),
            },
            raw,
        };
        Ok(claims)
    }
}

/// A string claim; absent or `null` is `None`, any other type is malformed.
fn opt_string(
    obj: &Map<String, Value>,
    name: &str,
    err: &'static str,
) -> Result<Option<String>, AuthError> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(AuthError::Malformed(err)),
    }
}

/// An optional NumericDate claim; absent is `None`, present but not a number is malformed.
fn opt_date(
    obj: &Map<String, Value>,
    name: &str,
    err: &'static str,
) -> Result<Option<i64>, AuthError> {
    match obj.get(name) {
        None => Ok(None),
        Some(v) => numeric_date(v).map(Some).ok_or(AuthError::Malformed(err)),
    }
}

/// RFC 7519 §2 NumericDate: seconds, possibly fractional (floored here). Out-of-range values are refused
/// rather than saturated, so `exp: 1e300` cannot become "never expires" by accident.
fn numeric_date(v: &Value) -> Option<i64> {
    let n = v.as_number()?;
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64()?;
    // i64::MAX as f64 rounds up to 2^63, so `<` keeps the cast in range.
    if f.is_finite() && f >= i64::MIN as f64 && f < i64::MAX as f64 {
        Some(f.floor() as i64)
    } else {
        None
    }
}

/// RFC 7519 §4.1.3: `aud` is a string or an array of strings.
fn audience(obj: &Map<String, Value>) -> Result<Vec<String>, AuthError> {
    const ERR: AuthError = AuthError::Malformed("aud is not a string or an array of strings");
    match obj.get("aud") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned).ok_or(ERR))
            .collect(),
        Some(_) => Err(ERR),
    }
}
