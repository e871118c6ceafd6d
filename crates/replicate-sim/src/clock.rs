//! The simulator's wall clock. Timestamps and data expiry read it; `/admin/clock` moves it forward, so
//! tests can pass Replicate's one-hour retention without waiting an hour. Delays (latency, retries) run
//! on real time, scaled by `time_scale` instead.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Real time plus an adjustable offset, in microseconds since the Unix epoch.
#[derive(Debug, Default)]
pub struct Clock {
    offset_us: AtomicI64,
}

impl Clock {
    /// Now, on the simulated clock.
    pub fn now_us(&self) -> i64 {
        real_now_us() + self.offset_us.load(Ordering::Relaxed)
    }

    /// Moves the clock forward by `secs`; returns the total offset in seconds.
    pub fn advance(&self, secs: f64) -> f64 {
        let add = (secs * 1e6) as i64;
        (self.offset_us.fetch_add(add, Ordering::Relaxed) + add) as f64 / 1e6
    }

    /// Back to real time.
    pub fn reset(&self) {
        self.offset_us.store(0, Ordering::Relaxed);
    }
}

/// Real time in microseconds since the epoch.
pub fn real_now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// RFC 3339 in UTC with microseconds, as Replicate writes timestamps (`2024-03-19T19:26:17.286887Z`).
pub fn rfc3339(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let micros = us.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_replicate() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            rfc3339(1_710_876_377_286_887),
            "2024-03-19T19:26:17.286887Z"
        );
        assert_eq!(rfc3339(951_782_400_000_000), "2000-02-29T00:00:00.000000Z");
    }

    #[test]
    fn advancing_moves_now() {
        let c = Clock::default();
        let before = c.now_us();
        assert_eq!(c.advance(3600.0), 3600.0);
        assert!(c.now_us() - before >= 3_600_000_000);
        c.reset();
        assert!(c.now_us() - before < 3_600_000_000);
    }
}
