//! Timestamps as Postgres and Replicate write them, in the milliseconds the clock port speaks.

/// Milliseconds since the epoch of a Postgres/RFC 3339 timestamp (`2026-11-28T23:02:37.427876+00:00`).
pub fn parse_rfc3339_ms(s: &str) -> Option<f64> {
    let (date, rest) = s.split_once('T').or_else(|| s.split_once(' '))?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (time, offset_secs) = split_offset(rest)?;
    let mut t = time.split(':');
    let (h, min) = (
        t.next()?.parse::<i64>().ok()?,
        t.next()?.parse::<i64>().ok()?,
    );
    let sec: f64 = t.next()?.parse().ok()?;
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y2, m2) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * m2 + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + min * 60 - offset_secs;
    Some((secs as f64 + sec) * 1000.0)
}

fn split_offset(rest: &str) -> Option<(&str, i64)> {
    if let Some(t) = rest.strip_suffix('Z') {
        return Some((t, 0));
    }
    let idx = rest.rfind(['+', '-'])?;
    let (time, off) = rest.split_at(idx);
    let sign = if off.starts_with('-') { -1 } else { 1 };
    let mut parts = off[1..].split(':');
    let hours: i64 = parts.next()?.parse().ok()?;
    let minutes: i64 = parts.next().map(|m| m.parse().ok()).unwrap_or(Some(0))?;
    Some((time, sign * (hours * 3600 + minutes * 60)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(
            parse_rfc3339_ms("2026-11-28T23:02:37.5+00:00"),
            Some(1_795_906_957_500.0)
        );
        assert_eq!(
            parse_rfc3339_ms("2026-11-29T01:02:37.5+02:00"),
            Some(1_795_906_957_500.0)
        );
        assert_eq!(parse_rfc3339_ms("nonsense"), None);
    }
}
