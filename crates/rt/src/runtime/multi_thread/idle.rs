//! Which workers sleep, which search, and whom to wake: the bookkeeping
//! that lets a multi-thread runtime use every core under load and no CPU
//! when idle, without a thundering herd.
//!
//! Two counters share one atomic word: *searching* workers (awake, out of
//! local work, stealing: Go's spinning M's) and *unparked* workers (not
//! asleep). A new task wakes a sleeper only if nobody is searching already
//! (a searcher will find the task) and someone sleeps. The woken worker
//! starts as a searcher, so a burst of spawns wakes one worker, not all;
//! when a searcher finds work it stops searching and, if it was the last,
//! wakes another: the chain keeps exactly one worker looking while there is
//! work to spread (Go's rule: "if there is an idle P and no spinning M,
//! wake one").
//!
//! The lost-wake-up race (a task is queued just as the last awake worker
//! decides to sleep) is closed Dekker-style: the producer publishes the
//! task, then (after a `SeqCst` fence) reads the counters; the worker
//! updates the counters (`SeqCst`), then (after a fence) looks at every
//! queue once more before it sleeps. At least one of the two sees the
//! other's write.

use crate::loom::sync::atomic::{fence, AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::{Mutex, MutexGuard};
use std::sync::PoisonError;

const SEARCH_MASK: usize = (1 << 16) - 1;
const UNPARK_ONE: usize = 1 << 16;

fn searching(state: usize) -> usize {
    state & SEARCH_MASK
}

fn unparked(state: usize) -> usize {
    state >> 16
}

/// The idle bookkeeping of one runtime.
pub(crate) struct Idle {
    state: AtomicUsize,
    /// Indices of the P's whose workers sleep. Lock rule: held only for
    /// the counter update that goes with a change of the list.
    sleepers: Mutex<Vec<usize>>,
    num_workers: usize,
}

impl Idle {
    pub(crate) fn new(num_workers: usize) -> Idle {
        Idle {
            state: AtomicUsize::new(num_workers * UNPARK_ONE),
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            num_workers,
        }
    }

    fn sleepers(&self) -> MutexGuard<'_, Vec<usize>> {
        self.sleepers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn should_wake(&self) -> bool {
        let s = self.state.load(SeqCst);
        searching(s) == 0 && unparked(s) < self.num_workers
    }

    /// A task was queued: the P whose worker should be woken to take it,
    /// if any (counted as unparked and searching already).
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        // Orders the caller's queue write before the counter read.
        fence(SeqCst);
        if !self.should_wake() {
            return None;
        }
        let mut sleepers = self.sleepers();
        if !self.should_wake() {
            return None;
        }
        let index = sleepers.pop()?;
        self.state.fetch_add(1 | UNPARK_ONE, SeqCst);
        Some(index)
    }

    /// The worker of P `index` goes to sleep. Returns whether it was the
    /// last searcher.
    pub(crate) fn transition_worker_to_parked(&self, index: usize, is_searching: bool) -> bool {
        let mut sleepers = self.sleepers();
        let prev = self.state.fetch_sub(UNPARK_ONE + usize::from(is_searching), SeqCst);
        sleepers.push(index);
        drop(sleepers);
        // Orders the counter write before the caller's last look at the
        // queues.
        fence(SeqCst);
        is_searching && searching(prev) == 1
    }

    /// A worker out of local work may search (steal) only while fewer than
    /// half the workers do: more thieves than victims only fight.
    pub(crate) fn transition_worker_to_searching(&self) -> bool {
        let s = self.state.load(SeqCst);
        if 2 * searching(s) >= self.num_workers {
            return false;
        }
        self.state.fetch_add(1, SeqCst);
        true
    }

    /// A searcher found work. Returns whether it was the last searcher (it
    /// should then wake another, to keep one looking).
    pub(crate) fn transition_worker_from_searching(&self) -> bool {
        searching(self.state.fetch_sub(1, SeqCst)) == 1
    }

    /// Takes P `index` off the sleepers (its worker woke on its own: IO or
    /// a timer gave it work, or it found work on its last look). Returns
    /// whether it was there; if not, a notifier took it off and counted it
    /// as a searcher.
    pub(crate) fn unpark_worker_by_id(&self, index: usize) -> bool {
        let mut sleepers = self.sleepers();
        let Some(pos) = sleepers.iter().position(|&i| i == index) else { return false };
        sleepers.swap_remove(pos);
        self.state.fetch_add(UNPARK_ONE, SeqCst);
        true
    }

    /// Whether P `index` is on the sleepers list.
    pub(crate) fn is_parked(&self, index: usize) -> bool {
        self.sleepers().contains(&index)
    }

    /// (searching, unparked), for tests and diagnostics.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn counts(&self) -> (usize, usize) {
        let s = self.state.load(SeqCst);
        (searching(s), unparked(s))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::Idle;

    #[test]
    fn notify_wakes_one_sleeper_only_when_nobody_searches() {
        let idle = Idle::new(2);
        assert_eq!(idle.worker_to_notify(), None, "everyone is awake");
        assert!(!idle.transition_worker_to_parked(0, false));
        assert!(!idle.transition_worker_to_parked(1, false));
        assert_eq!(idle.counts(), (0, 0));
        let woken = idle.worker_to_notify().expect("a sleeper");
        assert_eq!(idle.counts(), (1, 1));
        assert!(!idle.is_parked(woken));
        // One is searching now: the next task is left to it.
        assert_eq!(idle.worker_to_notify(), None);
        assert!(idle.transition_worker_from_searching());
        assert_eq!(idle.counts(), (0, 1));
        assert!(idle.worker_to_notify().is_some());
        assert_eq!(idle.counts(), (1, 2));
    }

    #[test]
    fn at_most_half_search() {
        let idle = Idle::new(4);
        assert!(idle.transition_worker_to_searching());
        assert!(idle.transition_worker_to_searching());
        assert!(!idle.transition_worker_to_searching());
        assert!(!idle.transition_worker_from_searching());
        assert!(idle.transition_worker_from_searching());
    }

    #[test]
    fn self_unpark_restores_the_count() {
        let idle = Idle::new(2);
        assert!(idle.transition_worker_to_searching());
        assert!(idle.transition_worker_to_parked(1, true), "the last searcher");
        assert!(idle.is_parked(1));
        assert!(idle.unpark_worker_by_id(1));
        assert!(!idle.unpark_worker_by_id(1));
        assert_eq!(idle.counts(), (0, 2));
    }
}
