//! The task's state word: six flag bits and a reference count, in one
//! `AtomicUsize`.
//!
//! Everything that must change together lives in this one word so that each
//! transition is a single atomic read-modify-write: "set `NOTIFIED` unless the
//! task is running, and if so take a reference for the new `Notified`" cannot
//! be split into two steps without a window in which a second waker pushes
//! the task twice or the last reference frees the cell under a runner.
//!
//! # The bits
//!
//! **`RUNNING`**: a thread has claimed the task's stage, to poll it (after
//! `transition_to_running`) or to cancel it (after `transition_to_shutdown`).
//! Never coexists with `COMPLETE`: the holder clears it in the same operation
//! that sets `COMPLETE`, or when it goes idle. While it is set nobody but the
//! holder touches the stage, and a wake only records `NOTIFIED`.
//!
//! **`COMPLETE`**: the stage holds the output (or the `JoinError`) and the
//! future is gone. Once set it is never cleared, and `RUNNING` is never set
//! again. After it is set the runtime touches the stage only when
//! `JOIN_INTEREST` was already clear; otherwise the stage belongs to the
//! `JoinHandle`.
//!
//! **`NOTIFIED`**: a `Notified` for this task exists (queued in a scheduler
//! or about to be), or, while `RUNNING`, the task was woken during its poll
//! and the runner must push it again when the poll returns. While it is set
//! and the task is idle a wake does nothing: this is what makes many wakes
//! coalesce into one schedule. It may coexist with `COMPLETE` (a wake during
//! the final poll): then it means nothing.
//!
//! **`CANCELLED`**: someone asked for the task to be cancelled (an abort, or
//! runtime shutdown). The next thread that holds `RUNNING` at a transition
//! point drops the future instead of polling it (again). Never cleared.
//!
//! **`JOIN_INTEREST`**: the `JoinHandle` is alive. Set at creation, cleared
//! only by the `JoinHandle`'s drop, never set again. When it is clear at
//! completion the runner drops the output itself.
//!
//! **`JOIN_WAKER`**: the join-waker slot holds a waker the runtime must wake
//! on completion. The access rules for the slot (the only place they live):
//!
//! 1. `JOIN_INTEREST` set, `JOIN_WAKER` clear: only the `JoinHandle` may touch
//!    the slot (write or drop the waker).
//! 2. `JOIN_WAKER` set, `COMPLETE` clear: the slot is read-only for everyone.
//! 3. `JOIN_WAKER` and `COMPLETE` set: the runtime owns the slot; it wakes the
//!    waker and then clears `JOIN_WAKER` (giving the slot back to the
//!    `JoinHandle`, or dropping the waker itself if `JOIN_INTEREST` is clear).
//!
//! Never set without `JOIN_INTEREST`: the `JoinHandle`'s drop clears both
//! unless `COMPLETE` is set (then rule 3 applies).
//!
//! **Reference count** (the bits from `REF_ONE` up): one for each `Task`,
//! `Notified`, `JoinHandle` and `Waker`, and one held by a runner across a
//! poll (the consumed `Notified`'s). Whoever brings it to zero frees the cell.

use crate::loom::sync::atomic::AtomicUsize;
use crate::loom::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};
use std::fmt;

const RUNNING: usize = 1 << 0;
const COMPLETE: usize = 1 << 1;
const NOTIFIED: usize = 1 << 2;
const CANCELLED: usize = 1 << 3;
const JOIN_INTEREST: usize = 1 << 4;
const JOIN_WAKER: usize = 1 << 5;
/// One reference; everything from this bit up is the reference count.
const REF_ONE: usize = 1 << 6;

/// A new task: three references (its `Task`, its first `Notified` and its
/// `JoinHandle`), already notified, with a join handle.
const INITIAL: usize = (3 * REF_ONE) | JOIN_INTEREST | NOTIFIED;

/// The atomic state word of one task.
pub(crate) struct State {
    val: AtomicUsize,
}

/// A copy of the state word, to inspect and to build the next value in.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

/// What `transition_to_running` found.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToRunning {
    /// `RUNNING` is ours: poll the future.
    Success,
    /// `RUNNING` is ours but `CANCELLED` is set: drop the future, complete.
    Cancelled,
    /// The task is running elsewhere or complete; the `Notified`'s reference
    /// has been dropped and others remain.
    Failed,
    /// As `Failed`, and that was the last reference: free the cell.
    Dealloc,
}

/// What `transition_to_idle` did after a `Pending` poll.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToIdle {
    /// Idle; the runner's reference was dropped and others remain.
    Ok,
    /// Idle, but woken during the poll: the runner's reference now belongs
    /// to a new `Notified` that must be pushed (`yield_now`), and one more
    /// reference was taken to keep the cell alive across that push.
    OkNotified,
    /// Idle, and the runner's reference was the last one: free the cell.
    OkDealloc,
    /// `CANCELLED` was set during the poll: still `RUNNING`; drop the future
    /// and complete.
    Cancelled,
}

/// What a wake that consumes its waker's reference must do.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToNotifiedByVal {
    /// Nothing: already notified, running (the runner will push it) or
    /// complete. The waker's reference was dropped.
    DoNothing,
    /// Push a new `Notified` (a reference was taken for it), then drop the
    /// waker's reference.
    Submit,
    /// Nothing to schedule, and the waker's reference was the last: free.
    Dealloc,
}

/// What a wake through a borrowed waker must do.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToNotifiedByRef {
    /// Nothing: already notified, running or complete.
    DoNothing,
    /// Push a new `Notified`; a reference was taken for it.
    Submit,
}

/// What an abort through the `JoinHandle` must do.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToNotifiedAndCancel {
    /// Nothing more: already cancelled or complete, or a runner or a queued
    /// `Notified` will see `CANCELLED`.
    DoNothing,
    /// Push a new `Notified` (a reference was taken for it) so that a runner
    /// drops the future on the scheduler's thread.
    Submit,
}

/// What `transition_to_shutdown` found.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToShutdown {
    /// The task was idle; `RUNNING` is now ours: drop the future, complete.
    Cancel,
    /// Running elsewhere (the runner will see `CANCELLED`) or complete.
    NotIdle,
}

/// Whether a dropped reference was the last.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RefDec {
    /// Others remain.
    Alive,
    /// That was the last reference: free the cell.
    Dealloc,
}

/// What the `JoinHandle`'s drop must clean up itself.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TransitionToJoinHandleDrop {
    /// The task is complete: the output is the `JoinHandle`'s to drop.
    pub(crate) drop_output: bool,
    /// The join-waker slot is the `JoinHandle`'s (rule 1): drop its waker.
    pub(crate) drop_waker: bool,
}

impl State {
    /// The state of a new task (see `INITIAL`).
    pub(crate) fn new() -> State {
        State { val: AtomicUsize::new(INITIAL) }
    }

    /// The current state.
    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.val.load(Acquire))
    }

    /// The one compare-and-swap loop: `f` maps the current state to a result
    /// and, if the word should change, its next value.
    fn fetch_update_action<T>(&self, mut f: impl FnMut(Snapshot) -> (T, Option<Snapshot>)) -> T {
        let mut curr = self.load();
        loop {
            let (output, next) = f(curr);
            let Some(next) = next else { return output };
            match self.val.compare_exchange(curr.0, next.0, AcqRel, Acquire) {
                Ok(_) => return output,
                Err(actual) => curr = Snapshot(actual),
            }
        }
    }

    /// A scheduler runs a `Notified`: claim `RUNNING` and clear `NOTIFIED`
    /// (wakes during the poll set it again), or, if the task is running
    /// elsewhere or complete, drop the `Notified`'s reference.
    pub(crate) fn transition_to_running(&self) -> TransitionToRunning {
        self.fetch_update_action(|mut s| {
            if !s.is_idle() {
                s.ref_dec();
                let action = if s.ref_count() == 0 {
                    TransitionToRunning::Dealloc
                } else {
                    TransitionToRunning::Failed
                };
                return (action, Some(s));
            }
            s.0 = (s.0 | RUNNING) & !NOTIFIED;
            let action =
                if s.is_cancelled() { TransitionToRunning::Cancelled } else { TransitionToRunning::Success };
            (action, Some(s))
        })
    }

    /// The poll returned `Pending`: release `RUNNING` unless cancelled.
    pub(crate) fn transition_to_idle(&self) -> TransitionToIdle {
        self.fetch_update_action(|mut s| {
            debug_assert!(s.is_running());
            if s.is_cancelled() {
                return (TransitionToIdle::Cancelled, None);
            }
            s.0 &= !RUNNING;
            let action = if s.is_notified() {
                s.ref_inc();
                TransitionToIdle::OkNotified
            } else {
                s.ref_dec();
                if s.ref_count() == 0 {
                    TransitionToIdle::OkDealloc
                } else {
                    TransitionToIdle::Ok
                }
            };
            (action, Some(s))
        })
    }

    /// The holder of `RUNNING` has stored the output: set `COMPLETE` and
    /// clear `RUNNING` at once. Returns the new state.
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        let prev = Snapshot(self.val.fetch_xor(RUNNING | COMPLETE, AcqRel));
        debug_assert!(prev.is_running() && !prev.is_complete());
        Snapshot(prev.0 ^ (RUNNING | COMPLETE))
    }

    /// After completion, drop `count` references at once (the runner's, and
    /// the scheduler's `Task` if `release` returned it).
    pub(crate) fn transition_to_terminal(&self, count: usize) -> RefDec {
        let prev = Snapshot(self.val.fetch_sub(count * REF_ONE, AcqRel));
        debug_assert!(prev.ref_count() >= count, "task reference count underflow");
        if prev.ref_count() == count {
            RefDec::Dealloc
        } else {
            RefDec::Alive
        }
    }

    /// A wake that consumes the waker's reference.
    pub(crate) fn transition_to_notified_by_val(&self) -> TransitionToNotifiedByVal {
        self.fetch_update_action(|mut s| {
            let action = if s.is_running() {
                // The runner holds a reference, so this cannot be the last.
                s.0 |= NOTIFIED;
                s.ref_dec();
                debug_assert!(s.ref_count() > 0);
                TransitionToNotifiedByVal::DoNothing
            } else if s.is_complete() || s.is_notified() {
                s.ref_dec();
                if s.ref_count() == 0 {
                    TransitionToNotifiedByVal::Dealloc
                } else {
                    TransitionToNotifiedByVal::DoNothing
                }
            } else {
                s.0 |= NOTIFIED;
                s.ref_inc();
                TransitionToNotifiedByVal::Submit
            };
            (action, Some(s))
        })
    }

    /// A wake through a borrowed waker.
    pub(crate) fn transition_to_notified_by_ref(&self) -> TransitionToNotifiedByRef {
        self.fetch_update_action(|mut s| {
            if s.is_complete() || s.is_notified() {
                (TransitionToNotifiedByRef::DoNothing, None)
            } else if s.is_running() {
                s.0 |= NOTIFIED;
                (TransitionToNotifiedByRef::DoNothing, Some(s))
            } else {
                s.0 |= NOTIFIED;
                s.ref_inc();
                (TransitionToNotifiedByRef::Submit, Some(s))
            }
        })
    }

    /// `JoinHandle::abort`: set `CANCELLED`, and make sure some runner will
    /// see it.
    pub(crate) fn transition_to_notified_and_cancel(&self) -> TransitionToNotifiedAndCancel {
        self.fetch_update_action(|mut s| {
            if s.is_cancelled() || s.is_complete() {
                (TransitionToNotifiedAndCancel::DoNothing, None)
            } else if s.is_running() || s.is_notified() {
                // The runner's transition_to_idle, or the queued Notified's
                // transition_to_running, will see the bit.
                s.0 |= CANCELLED | NOTIFIED;
                (TransitionToNotifiedAndCancel::DoNothing, Some(s))
            } else {
                s.0 |= CANCELLED | NOTIFIED;
                s.ref_inc();
                (TransitionToNotifiedAndCancel::Submit, Some(s))
            }
        })
    }

    /// Runtime shutdown: set `CANCELLED`, and claim `RUNNING` if idle.
    pub(crate) fn transition_to_shutdown(&self) -> TransitionToShutdown {
        self.fetch_update_action(|mut s| {
            let action = if s.is_idle() {
                s.0 |= RUNNING;
                TransitionToShutdown::Cancel
            } else {
                TransitionToShutdown::NotIdle
            };
            s.0 |= CANCELLED;
            (action, Some(s))
        })
    }

    /// The `JoinHandle` is dropped: clear `JOIN_INTEREST`, and `JOIN_WAKER`
    /// too unless complete (see the slot rules in the module docs).
    pub(crate) fn transition_to_join_handle_dropped(&self) -> TransitionToJoinHandleDrop {
        self.fetch_update_action(|mut s| {
            debug_assert!(s.is_join_interested());
            s.0 &= !JOIN_INTEREST;
            let drop_output = s.is_complete();
            if !drop_output {
                s.0 &= !JOIN_WAKER;
            }
            let drop_waker = !s.is_join_waker_set();
            (TransitionToJoinHandleDrop { drop_output, drop_waker }, Some(s))
        })
    }

    /// The `JoinHandle` has written a waker into the slot: publish it.
    /// `Err` (with the current state) if the task completed first; then the
    /// slot is still the `JoinHandle`'s.
    pub(crate) fn set_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update_action(|mut s| {
            debug_assert!(s.is_join_interested() && !s.is_join_waker_set());
            if s.is_complete() {
                return (Err(s), None);
            }
            s.0 |= JOIN_WAKER;
            (Ok(s), Some(s))
        })
    }

    /// The `JoinHandle` wants to replace its waker: take the slot back.
    /// `Err` if the task completed first (the runtime owns the slot).
    pub(crate) fn unset_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update_action(|mut s| {
            debug_assert!(s.is_join_interested() && s.is_join_waker_set());
            if s.is_complete() {
                return (Err(s), None);
            }
            s.0 &= !JOIN_WAKER;
            (Ok(s), Some(s))
        })
    }

    /// The runtime has woken the join waker after completion: give the slot
    /// back (rule 3). Returns the new state; if `JOIN_INTEREST` is clear in
    /// it, the runtime must drop the waker.
    pub(crate) fn unset_waker_after_complete(&self) -> Snapshot {
        let prev = Snapshot(self.val.fetch_and(!JOIN_WAKER, AcqRel));
        debug_assert!(prev.is_complete() && prev.is_join_waker_set());
        Snapshot(prev.0 & !JOIN_WAKER)
    }

    /// Take one more reference (a waker clone).
    pub(crate) fn ref_inc(&self) {
        // Relaxed suffices: a new reference is made from an existing one,
        // which already keeps the cell alive (as `Arc::clone`).
        let prev = self.val.fetch_add(REF_ONE, Relaxed);
        if prev > isize::MAX as usize {
            // Millions of leaked wakers; better to stop than to wrap.
            std::process::abort();
        }
    }

    /// Drop one reference.
    pub(crate) fn ref_dec(&self) -> RefDec {
        let prev = Snapshot(self.val.fetch_sub(REF_ONE, AcqRel));
        debug_assert!(prev.ref_count() >= 1, "task reference count underflow");
        if prev.ref_count() == 1 {
            RefDec::Dealloc
        } else {
            RefDec::Alive
        }
    }
}

impl Snapshot {
    /// Neither running nor complete.
    pub(crate) fn is_idle(self) -> bool {
        self.0 & (RUNNING | COMPLETE) == 0
    }
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    pub(crate) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    pub(crate) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
    pub(crate) fn ref_count(self) -> usize {
        self.0 / REF_ONE
    }
    fn ref_inc(&mut self) {
        self.0 += REF_ONE;
    }
    fn ref_dec(&mut self) {
        debug_assert!(self.ref_count() > 0);
        self.0 -= REF_ONE;
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flags = [
            (RUNNING, "RUNNING"),
            (COMPLETE, "COMPLETE"),
            (NOTIFIED, "NOTIFIED"),
            (CANCELLED, "CANCELLED"),
            (JOIN_INTEREST, "JOIN_INTEREST"),
            (JOIN_WAKER, "JOIN_WAKER"),
        ];
        let set: Vec<&str> = flags.iter().filter(|(bit, _)| self.0 & bit != 0).map(|(_, n)| *n).collect();
        write!(f, "Snapshot({} refs: {})", self.ref_count(), set.join("|"))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn initial_state() {
        let s = State::new().load();
        assert_eq!(s.ref_count(), 3);
        assert!(s.is_idle() && s.is_notified() && s.is_join_interested());
        assert!(!s.is_cancelled() && !s.is_join_waker_set());
    }

    #[test]
    fn wakes_coalesce_while_notified() {
        let st = State::new();
        assert_eq!(st.transition_to_notified_by_ref(), TransitionToNotifiedByRef::DoNothing);
        assert_eq!(st.transition_to_running(), TransitionToRunning::Success);
        // Woken twice during the poll: one NOTIFIED, no new references.
        assert_eq!(st.transition_to_notified_by_ref(), TransitionToNotifiedByRef::DoNothing);
        assert_eq!(st.transition_to_notified_by_ref(), TransitionToNotifiedByRef::DoNothing);
        assert_eq!(st.load().ref_count(), 3);
        assert_eq!(st.transition_to_idle(), TransitionToIdle::OkNotified);
        assert_eq!(st.load().ref_count(), 4);
        assert!(st.load().is_notified() && st.load().is_idle());
    }

    #[test]
    fn idle_wake_submits_once() {
        let st = State::new();
        assert_eq!(st.transition_to_running(), TransitionToRunning::Success);
        assert_eq!(st.transition_to_idle(), TransitionToIdle::Ok);
        assert_eq!(st.load().ref_count(), 2);
        assert_eq!(st.transition_to_notified_by_ref(), TransitionToNotifiedByRef::Submit);
        assert_eq!(st.transition_to_notified_by_ref(), TransitionToNotifiedByRef::DoNothing);
        assert_eq!(st.load().ref_count(), 3);
    }

    #[test]
    fn running_fails_when_complete() {
        let st = State::new();
        assert_eq!(st.transition_to_running(), TransitionToRunning::Success);
        let s = st.transition_to_complete();
        assert!(s.is_complete() && !s.is_running());
        // A stale Notified.
        assert_eq!(st.transition_to_running(), TransitionToRunning::Failed);
        assert_eq!(st.transition_to_terminal(1), RefDec::Alive);
        assert_eq!(st.ref_dec(), RefDec::Dealloc);
    }

    #[test]
    fn cancel_while_running_is_seen_at_idle() {
        let st = State::new();
        assert_eq!(st.transition_to_running(), TransitionToRunning::Success);
        assert_eq!(st.transition_to_notified_and_cancel(), TransitionToNotifiedAndCancel::DoNothing);
        assert_eq!(st.transition_to_idle(), TransitionToIdle::Cancelled);
        assert!(st.load().is_running());
    }

    #[test]
    fn join_handle_drop_takes_output_when_complete() {
        let st = State::new();
        assert_eq!(st.transition_to_running(), TransitionToRunning::Success);
        let _ = st.transition_to_complete();
        assert_eq!(
            st.transition_to_join_handle_dropped(),
            TransitionToJoinHandleDrop { drop_output: true, drop_waker: true }
        );
    }
}
