//! One task per prediction drives `starting → processing → succeeded | failed`, honouring a
//! `Cancel-After` deadline (not started by then → `aborted`; running → `canceled`) and cancels that
//! happen meanwhile (each step re-checks the status under the lock).

use std::sync::Arc;
use std::time::Duration;

use tokio::time::{sleep_until, Instant};

use crate::state::{App, Outcome};

/// When things happen to one prediction, decided at creation.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Time in `starting` (queue plus cold boot); `None` = stuck there.
    pub start_after: Option<Duration>,
    /// Time in `processing`.
    pub run_for: Duration,
    /// `Cancel-After`, from creation.
    pub deadline: Option<Duration>,
    pub outcome: Outcome,
}

/// Spawns the task.
pub fn spawn(app: Arc<App>, id: String, plan: Plan) {
    tokio::spawn(run(app, id, plan));
}

async fn run(app: Arc<App>, id: String, plan: Plan) {
    let created = Instant::now();
    let deadline = plan.deadline.map(|d| created + d);
    let Some(start_after) = plan.start_after else {
        if let Some(d) = deadline {
            sleep_until(d).await;
            app.stop(&id, true);
        }
        return;
    };
    let start_at = created + start_after;
    if let Some(d) = deadline.filter(|d| *d <= start_at) {
        sleep_until(d).await;
        app.stop(&id, true);
        return;
    }
    sleep_until(start_at).await;
    if let Outcome::FailToStart(error) = &plan.outcome {
        app.fail_to_start(&id, error);
        return;
    }
    if !app.start_processing(&id) {
        return;
    }
    let end_at = Instant::now() + plan.run_for;
    if let Some(d) = deadline.filter(|d| *d < end_at) {
        sleep_until(d).await;
        app.stop(&id, false);
        return;
    }
    sleep_until(end_at).await;
    app.finish(&id, &plan.outcome);
}

/// A log-normal sample around `median_ms` with shape `spread`, from two uniforms (Box–Muller).
pub fn sample_ms(median_ms: u64, spread: f64, u1: f64, u2: f64) -> f64 {
    if spread == 0.0 {
        return median_ms as f64;
    }
    let z = (-2.0 * (1.0 - u1).ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    median_ms as f64 * (spread * z).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_centre_on_the_median() {
        assert_eq!(sample_ms(1000, 0.0, 0.3, 0.9), 1000.0);
        let g = crate::ids::IdGen::seeded(7);
        let mut v: Vec<f64> = (0..2001)
            .map(|_| sample_ms(1000, 0.3, g.next_f64(), g.next_f64()))
            .collect();
        v.sort_by(f64::total_cmp);
        assert!((900.0..1100.0).contains(&v[1000]), "median {}", v[1000]);
        assert!(v[0] > 0.0);
    }
}
