//! Extraction of the token from an `Authorization` header (RFC 6750 §2.1).

use super::error::AuthError;

/// The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive (RFC 7235
/// §2.1) and surrounding whitespace is trimmed. Missing header, other scheme or no token: `MissingToken`.
pub fn bearer_token(authorization_header: Option<&str>) -> Result<&str, AuthError> {
    let value = authorization_header.ok_or(AuthError::MissingToken)?.trim();
    let (scheme, rest) = value
        .split_once(|c: char| c.is_ascii_whitespace())
        .ok_or(AuthError::MissingToken)?;
    if !scheme.eq_ignore_ascii_case("Bearer") {
        return Err(AuthError::MissingToken);
    }
    let token = rest.trim();
    if token.is_empty() {
        return Err(AuthError::MissingToken);
    }
    // RFC 6750 b64token has no whitespace: "Bearer a b" is not one token.
    if token.contains(|c: char| c.is_whitespace()) {
        return Err(AuthError::Malformed(
            "authorization header has more than one token",
        ));
    }
    Ok(token)
}
