//! Replicate's rate limits: 600 creates per minute and 3000 other requests per minute per account, with
//! short bursts allowed (REPLICATE.md "Errors and limits"). A token bucket per class; the limits are read
//! at each request so `/admin/config` changes apply at once.

use std::time::Instant;

/// A token bucket.
#[derive(Debug)]
pub struct Bucket {
    tokens: f64,
    last: Option<Instant>,
}

impl Default for Bucket {
    fn default() -> Self {
        Self {
            tokens: f64::INFINITY,
            last: None,
        }
    }
}

impl Bucket {
    /// Takes one token at `now` under `per_min` (0 = unlimited) and `burst`; on refusal, the whole seconds
    /// until a token is back (at least 1).
    pub fn take(&mut self, now: Instant, per_min: u32, burst: u32) -> Result<(), u64> {
        if per_min == 0 {
            return Ok(());
        }
        let capacity = f64::from(burst.max(1));
        let rate = f64::from(per_min) / 60.0;
        let elapsed = self
            .last
            .map_or(0.0, |l| now.saturating_duration_since(l).as_secs_f64());
        self.tokens = (self.tokens + elapsed * rate).min(capacity);
        self.last = Some(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - self.tokens) / rate).ceil().max(1.0) as u64)
        }
    }

    /// Full again.
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_rate() {
        let mut b = Bucket::default();
        let t0 = Instant::now();
        for _ in 0..5 {
            assert_eq!(b.take(t0, 60, 5), Ok(()));
        }
        assert_eq!(b.take(t0, 60, 5), Err(1));
        assert_eq!(b.take(t0 + Duration::from_millis(1000), 60, 5), Ok(()));
        assert_eq!(b.take(t0 + Duration::from_millis(1000), 60, 5), Err(1));
        assert_eq!(
            b.take(t0, 6, 1),
            Err(10),
            "a slow account waits ten seconds per request"
        );
        assert!((0..10_000).all(|_| b.take(t0, 0, 1).is_ok()));
    }
}
