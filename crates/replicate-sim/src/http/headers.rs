//! Request headers with meaning to Replicate: `Authorization`, `Prefer: wait`, `Cancel-After`.

use std::time::Duration;

/// The token of `Authorization: Bearer <t>` (or the older `Token <t>` scheme, still accepted).
pub fn token(header: Option<&str>) -> Option<&str> {
    let h = header?.trim();
    let (scheme, token) = h.split_once(' ')?;
    let token = token.trim();
    ((scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token"))
        && !token.is_empty())
    .then_some(token)
}

/// How long `Prefer: wait` / `Prefer: wait=N` asks to hold the create (N in 1..=60, default 60; values
/// outside are clamped). `None` without a `wait` preference.
pub fn prefer_wait(header: Option<&str>) -> Option<Duration> {
    header?.split([',', ';']).map(str::trim).find_map(|pref| {
        if pref.eq_ignore_ascii_case("wait") {
            return Some(Duration::from_secs(60));
        }
        let (k, v) = pref.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("wait") {
            return None;
        }
        let n: u64 = v.trim().trim_matches('"').parse().ok()?;
        Some(Duration::from_secs(n.clamp(1, 60)))
    })
}

/// Parses `Cancel-After`: a Go-style duration (`30s`, `1m`, `1h30m`, `500ms`) or bare seconds.
pub fn cancel_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs > 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let mut total = 0f64;
    let mut rest = v;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let n: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        total += n * match &rest[..unit] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit..];
    }
    (total > 0.0).then(|| Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert_eq!(token(Some("Bearer r8_abc")), Some("r8_abc"));
        assert_eq!(token(Some("Token r8_abc")), Some("r8_abc"));
        assert_eq!(token(Some("Bearer ")), None);
        assert_eq!(token(Some("Basic x")), None);
        assert_eq!(token(None), None);
    }

    #[test]
    fn prefer() {
        assert_eq!(prefer_wait(Some("wait")), Some(Duration::from_secs(60)));
        assert_eq!(prefer_wait(Some("wait=5")), Some(Duration::from_secs(5)));
        assert_eq!(
            prefer_wait(Some("respond-async, wait=90")),
            Some(Duration::from_secs(60))
        );
        assert_eq!(prefer_wait(Some("wait=0")), Some(Duration::from_secs(1)));
        assert_eq!(prefer_wait(Some("respond-async")), None);
        assert_eq!(prefer_wait(None), None);
    }

    #[test]
    fn durations() {
        assert_eq!(cancel_after("1m"), Some(Duration::from_secs(60)));
        assert_eq!(cancel_after("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(cancel_after("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(cancel_after("5"), Some(Duration::from_secs(5)));
        assert_eq!(cancel_after("soon"), None);
        assert_eq!(cancel_after("5x"), None);
        assert_eq!(cancel_after("0s"), None);
    }
}
