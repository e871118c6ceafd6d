//! One wait per legacy generate-image generation in an isolate. A replayed call (same
//! `Idempotency-Key`, or the mobile app sending its `generation_id` again) that finds a call of this
//! isolate already waiting for the generation follows that wait instead of starting its own polling loop:
//! the first call leads, later ones get a clone of its end. Single-threaded (Wasm; native tests run on
//! one thread), so `Rc`/`RefCell` suffice.

use crate::db::generation::StoredGeneration;
use crate::error::ApiError;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use uuid::Uuid;

/// How a wait ended: the generation as last read (finished or not), or the error the leader answered.
pub type WaitEnd = Result<StoredGeneration, ApiError>;

/// The waits in flight in this isolate, by generation.
#[derive(Default)]
pub struct LegacyWaits {
    waits: RefCell<HashMap<Uuid, Rc<Slot>>>,
}

#[derive(Default)]
struct Slot {
    end: RefCell<Option<WaitEnd>>,
    /// The leader went away without an end (its request future was dropped).
    abandoned: Cell<bool>,
    followers: RefCell<Vec<Waker>>,
}

impl Slot {
    fn wake_all(&self) {
        for waker in self.followers.borrow_mut().drain(..) {
            waker.wake();
        }
    }
}

/// What a call does for a generation: lead the wait, or follow the one already running.
pub enum Role<'a> {
    Lead(Lead<'a>),
    Follow(Follow),
}

impl LegacyWaits {
    /// Leads the wait for `generation` when no call of this isolate does, else follows the one that does.
    pub fn join(&self, generation: Uuid) -> Role<'_> {
        let mut waits = self.waits.borrow_mut();
        if let Some(slot) = waits.get(&generation) {
            return Role::Follow(Follow { slot: slot.clone() });
        }
        let slot = Rc::new(Slot::default());
        waits.insert(generation, slot.clone());
        Role::Lead(Lead {
            waits: self,
            generation,
            slot,
            finished: false,
        })
    }

    /// The call that runs the generation's jobs leads its wait, always: a replay that raced ahead of it
    /// and leads an observing wait keeps its own followers, later replays follow this one.
    pub fn lead(&self, generation: Uuid) -> Lead<'_> {
        let slot = Rc::new(Slot::default());
        self.waits.borrow_mut().insert(generation, slot.clone());
        Lead {
            waits: self,
            generation,
            slot,
            finished: false,
        }
    }

    /// How many generations a call of this isolate is waiting for.
    pub fn in_flight(&self) -> usize {
        self.waits.borrow().len()
    }
}

/// The call that polls; hands its end to every follower.
pub struct Lead<'a> {
    waits: &'a LegacyWaits,
    generation: Uuid,
    slot: Rc<Slot>,
    finished: bool,
}

impl Lead<'_> {
    /// Publishes the end to the followers; a call arriving later leads a new wait (it will find the
    /// generation finished, or its stored deadline passed, at once).
    pub fn finish(mut self, end: WaitEnd) {
        *self.slot.end.borrow_mut() = Some(end);
        self.finished = true;
        self.release();
    }

    fn release(&self) {
        let mut waits = self.waits.waits.borrow_mut();
        if waits
            .get(&self.generation)
            .is_some_and(|slot| Rc::ptr_eq(slot, &self.slot))
        {
            waits.remove(&self.generation);
        }
        drop(waits);
        self.slot.wake_all();
    }
}

impl Drop for Lead<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.slot.abandoned.set(true);
            self.release();
        }
    }
}

/// A replay following the leader's wait: resolves to its end, or `None` when the leader went away
/// without one (the follower then observes the generation itself).
pub struct Follow {
    slot: Rc<Slot>,
}

impl Future for Follow {
    type Output = Option<WaitEnd>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(end) = self.slot.end.borrow().as_ref() {
            return Poll::Ready(Some(end.clone()));
        }
        if self.slot.abandoned.get() {
            return Poll::Ready(None);
        }
        self.slot.followers.borrow_mut().push(cx.waker().clone());
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::block_on;

    const GENERATION: Uuid = Uuid::from_u128(0x0b0e8a4e_8d5e_4a55_a3b4_2c1f1f7d9c01);

    fn generation(status: &str) -> StoredGeneration {
        serde_json::from_value(serde_json::json!({
            "id": GENERATION, "user_id": GENERATION, "prompt": "p", "params": {}, "status": status,
            "replicate_prediction_id": null, "created_at": "2026-11-28T23:00:00Z",
        }))
        .unwrap()
    }

    #[test]
    fn the_first_call_leads_and_replays_follow_its_end() {
        let waits = LegacyWaits::default();
        let Role::Lead(lead) = waits.join(GENERATION) else {
            panic!("the first call leads")
        };
        let followers: Vec<Follow> = (0..3)
            .map(|_| match waits.join(GENERATION) {
                Role::Follow(f) => f,
                Role::Lead(_) => panic!("a replay follows"),
            })
            .collect();
        assert_eq!(waits.in_flight(), 1);
        lead.finish(Ok(generation("completed")));
        assert_eq!(waits.in_flight(), 0);
        for follower in followers {
            assert_eq!(block_on(follower), Some(Ok(generation("completed"))));
        }
        // The wait is over: the next call leads a new one.
        assert!(matches!(waits.join(GENERATION), Role::Lead(_)));
    }

    #[test]
    fn the_call_running_the_jobs_leads_even_after_a_replay_raced_ahead() {
        let waits = LegacyWaits::default();
        let Role::Lead(observer) = waits.join(GENERATION) else {
            panic!("the replay that came first leads")
        };
        let Role::Follow(early) = waits.join(GENERATION) else {
            panic!("a replay follows")
        };
        let driver = waits.lead(GENERATION);
        let Role::Follow(late) = waits.join(GENERATION) else {
            panic!("a replay follows")
        };
        observer.finish(Ok(generation("processing")));
        assert_eq!(waits.in_flight(), 1, "the driver's wait is still there");
        driver.finish(Ok(generation("completed")));
        assert_eq!(block_on(early), Some(Ok(generation("processing"))));
        assert_eq!(block_on(late), Some(Ok(generation("completed"))));
        assert_eq!(waits.in_flight(), 0);
    }

    #[test]
    fn a_leader_gone_without_an_end_releases_its_followers() {
        let waits = LegacyWaits::default();
        let lead = waits.join(GENERATION);
        let Role::Follow(follower) = waits.join(GENERATION) else {
            panic!("a replay follows")
        };
        drop(lead);
        assert_eq!(block_on(follower), None);
        assert_eq!(waits.in_flight(), 0);
    }
}
