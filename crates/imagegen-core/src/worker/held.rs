//! The jobs this isolate holds a lease on, so that `beforeunload` can hand them back. A worker killed
//! at its wall-clock limit would otherwise leave each lease to expire: the job waits out the lease, the
//! next claim counts another attempt, and three such kills fail the generation although nothing failed.

use crate::db::queue;
use crate::ports::Rpc;
use std::cell::{Cell, RefCell};

/// Held jobs by id, with the worker id each was claimed under; shared by the drains of one isolate.
#[derive(Debug, Default)]
pub struct HeldJobs {
    jobs: RefCell<Vec<(i64, String)>>,
    /// Set by [`HeldJobs::hand_back`]: the isolate is going away, so no drain claims anything more.
    closing: Cell<bool>,
}

impl HeldJobs {
    pub fn hold(&self, job_id: i64, worker: &str) {
        self.jobs.borrow_mut().push((job_id, worker.to_owned()));
    }

    pub fn release(&self, job_id: i64) {
        self.jobs.borrow_mut().retain(|(id, _)| *id != job_id);
    }

    pub fn is_closing(&self) -> bool {
        self.closing.get()
    }

    /// Ids of the jobs held now.
    pub fn ids(&self) -> Vec<i64> {
        self.jobs.borrow().iter().map(|(id, _)| *id).collect()
    }

    /// Gives every held job back to the queue with `defer_job`, which returns the attempt its claim
    /// counted (the job did not fail; the isolate ended), so the next claim resumes it at once with the
    /// same attempt number. Answers how many went back. The drains' own completions, if any still come,
    /// are then refused as lease_lost.
    pub async fn hand_back<R: Rpc>(&self, rpc: &R) -> usize {
        self.closing.set(true);
        let jobs = std::mem::take(&mut *self.jobs.borrow_mut());
        let mut handed = 0;
        for (id, worker) in jobs {
            if matches!(
                queue::defer(rpc, id, &worker, 0).await,
                Ok(queue::CompleteOutcome::Deferred)
            ) {
                handed += 1;
            }
        }
        handed
    }
}
