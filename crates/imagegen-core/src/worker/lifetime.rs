//! The wall clock of the isolate this module runs in. Supabase's Edge Runtime limits each worker
//! (isolate), not each request: 150 s on the free plan, 400 s on paid plans, background tasks included
//! (docs: guides/functions/limits). It stops routing new requests to a worker at half its limit and kills
//! it at the limit, in-flight work included, after dispatching `beforeunload`. The runtime does not tell
//! a function how much time it has left, so the module counts from its own start (the first request in
//! the isolate loads it) and assumes the plan's limit from `EDGE_WALL_CLOCK_SECS`.

/// Work is bounded by the isolate's end, with margins for recording outcomes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lifetime {
    started_ms: f64,
    wall_clock_ms: f64,
}

impl Lifetime {
    /// An isolate that started at `started_ms` (epoch ms) and is killed `wall_clock_secs` later.
    pub fn new(started_ms: f64, wall_clock_secs: u32) -> Self {
        Lifetime {
            started_ms,
            wall_clock_ms: f64::from(wall_clock_secs) * 1000.0,
        }
    }

    /// Jobs stop (a prediction still running is deferred) by then: the last tenth of the wall clock is
    /// left for `complete_job`/`defer_job` and for `beforeunload` to hand back whatever is still held.
    pub fn deadline_ms(&self) -> f64 {
        self.started_ms + self.wall_clock_ms * 0.9
    }

    /// No job is claimed after this, so every job claimed gets at least a tenth of the wall clock (a
    /// generate-image job may hold a create for a while, a download needs its time).
    pub fn claim_cutoff_ms(&self) -> f64 {
        self.started_ms + self.wall_clock_ms * 0.8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_stop_before_work_stops_and_both_before_the_kill() {
        let life = Lifetime::new(1_000.0, 150);
        assert_eq!(life.claim_cutoff_ms(), 121_000.0);
        assert_eq!(life.deadline_ms(), 136_000.0);
        assert!(life.deadline_ms() < 1_000.0 + 150_000.0);
    }

    #[test]
    fn the_paid_plan_limit_moves_both() {
        let life = Lifetime::new(0.0, 400);
        assert_eq!(
            (life.claim_cutoff_ms(), life.deadline_ms()),
            (320_000.0, 360_000.0)
        );
    }
}
