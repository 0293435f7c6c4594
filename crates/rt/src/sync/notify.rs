//! Wake one waiting task, or all of them, without passing data.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::waiters::{lock, Cancelled, WaitList, WaiterId, WakeList};
use crate::loom::sync::atomic::{
    AtomicBool, AtomicU64, Ordering::Relaxed, Ordering::Release, Ordering::SeqCst,
};
use crate::loom::sync::Mutex;

/// Wake one waiting task, or all of them, without passing data.
///
/// [`Notify`] is the bare wake-up under most higher-level primitives:
///
/// * [`Notify::notify_one`] wakes the oldest waiter. If nobody waits, it
///   stores a single *permit* (calling it again does not store a second),
///   and the next [`Notify::notified`] completes at once by consuming it.
///   So a notification sent just before the waiter arrives is not lost.
/// * [`Notify::notify_waiters`] wakes every current waiter and stores no
///   permit. "Current" includes every [`Notified`] future *created* before
///   the call, even one not yet polled: create the future, check your
///   condition, then await it, and a `notify_waiters` in between is seen.
///
/// A [`Notified`] that is dropped after `notify_one` picked it, but before
/// it was polled to completion, passes that notification on (to the next
/// waiter, or back into the permit), so no wake-up is lost to a cancelled
/// waiter. A `notify_waiters` wake-up is not passed on: every other waiter
/// got one too.
///
/// ```
/// use futures::executor::block_on;
/// use spindle_rt::sync::Notify;
/// use std::sync::Arc;
///
/// let notify = Arc::new(Notify::new());
/// let n2 = notify.clone();
/// let waiter = std::thread::spawn(move || block_on(n2.notified()));
/// notify.notify_one(); // before or after the wait starts: either works
/// waiter.join().unwrap();
/// ```
pub struct Notify {
    state: Mutex<State>,
    /// One stored `notify_one` that found nobody waiting. Set and taken
    /// only under the lock (so `Relaxed`); an atomic so that `Debug` can
    /// read it without.
    permit: AtomicBool,
    /// Incremented (under the lock) by every `notify_waiters`; a `Notified`
    /// created in an earlier generation completes on its first poll. Read
    /// without the lock when a `Notified` is created.
    generation: AtomicU64,
    /// The fast grant: the id (as [`WaiterId::nonzero`]) of one waiter that
    /// `notify_one` picked, or 0. Set only under the lock, and only when 0;
    /// cleared only by that waiter (completing, or passing the grant on
    /// when cancelled), with a compare-and-swap of its own id. The common
    /// hand-off (one waiter, one notifier) so completes without the lock;
    /// a grant made while the slot is taken goes to the locked list.
    fast: AtomicU64,
}

#[derive(Debug)]
struct State {
    /// Waiters, tagged on grant with how they were woken.
    waiters: WaitList<Wake>,
}

/// How a waiter was granted its notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wake {
    /// Still waiting (the tag of a queued entry).
    None,
    /// Picked by `notify_one`: passed on if the waiter is cancelled.
    One,
    /// Woken by `notify_waiters`: never passed on.
    All,
}

impl State {
    /// Grants the oldest waiter, or stores the permit. Called with the lock
    /// held (`self` is the locked state). The grant goes to the `fast` slot
    /// when it is free, else to the locked list.
    ///
    /// Orderings: the permit is only read and written under the lock, which
    /// orders it (`Relaxed`). The fast slot is set under the lock and taken
    /// by its waiter's compare-and-swap with or without the lock; a
    /// `Release` store is enough, since a waiter that misses it outside the
    /// lock looks again under the lock. (Both were `SeqCst`: on x86 every
    /// `SeqCst` store is an `xchg`, a full barrier, on the path of every
    /// notification.)
    fn notify_one(&mut self, permit: &AtomicBool, fast: &AtomicU64, wakers: &mut WakeList) {
        if fast.load(SeqCst) == 0 {
            match self.waiters.take_front(wakers) {
                Some(id) => fast.store(id.nonzero(), Release),
                None => permit.store(true, Relaxed),
            }
        } else if !self.waiters.grant_front(wakers, |w| *w = Wake::One) {
            permit.store(true, Relaxed);
        }
    }
}

impl Notify {
    /// Creates a `Notify` with no stored permit.
    pub fn new() -> Notify {
        Notify {
            state: Mutex::new(State { waiters: WaitList::new() }),
            permit: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            fast: AtomicU64::new(0),
        }
    }

    /// [`new`](Notify::new) as a `const fn`, for a `Notify` in a `static`
    /// (tokio's `const_new`). Not under `--cfg loom`, whose atomics and
    /// locks cannot be built in a constant.
    #[cfg(not(loom))]
    pub const fn const_new() -> Notify {
        Notify {
            state: Mutex::new(State { waiters: WaitList::new() }),
            permit: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            fast: AtomicU64::new(0),
        }
    }

    /// Returns a future that completes when this `Notify` is notified:
    /// by a stored permit, a `notify_one`, or a `notify_waiters` made after
    /// this call.
    pub fn notified(&self) -> Notified<'_> {
        let generation = self.generation.load(SeqCst);
        Notified { notify: self, generation, waiter: None, done: false }
    }

    /// Wakes the oldest waiter, or stores one permit if nobody waits.
    pub fn notify_one(&self) {
        let mut wakers = WakeList::new();
        let mut state = lock(&self.state);
        state.notify_one(&self.permit, &self.fast, &mut wakers);
        drop(state);
    }

    /// Wakes every current waiter (every `Notified` created before this
    /// call); stores no permit.
    pub fn notify_waiters(&self) {
        let mut wakers = WakeList::new();
        let mut state = lock(&self.state);
        self.generation.fetch_add(1, SeqCst);
        state.waiters.grant_all(&mut wakers, |w| *w = Wake::All);
        drop(state);
    }
}

impl Default for Notify {
    fn default() -> Self {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Notify")
            .field("permit", &self.permit.load(SeqCst))
            .field("waiters", &state.waiters.len())
            .finish()
    }
}

/// Future returned by [`Notify::notified`].
#[must_use = "futures do nothing unless polled"]
pub struct Notified<'a> {
    notify: &'a Notify,
    /// `state.generation` when this future was created.
    generation: u64,
    waiter: Option<WaiterId>,
    /// Completed: later polls return `Ready` again without waiting.
    done: bool,
}

impl Notified<'_> {
    /// Joins the queue of waiters without waiting yet: from here on a
    /// [`notify_one`](Notify::notify_one) may pick this future, as if it
    /// had been polled. Returns true if it is already notified (a
    /// `notify_waiters` since its creation, a stored permit, which this
    /// consumes, or a `notify_one` that picked it); awaiting it then
    /// completes at once.
    ///
    /// For code that must be in line for a `notify_one` before it checks
    /// its condition, without a waker to give yet: create the future,
    /// `enable` it, check, then await. (`notify_waiters` needs none of
    /// this: it reaches every `Notified` created before it, enabled or
    /// not.) No waker is stored: one given by an earlier poll is kept,
    /// and a `notify_one` that picks an enabled future before its first
    /// poll wakes nobody, but the pick is kept for that poll.
    ///
    /// ```
    /// use spindle_rt::sync::Notify;
    /// use std::pin::pin;
    ///
    /// let notify = Notify::new();
    /// let mut first = pin!(notify.notified());
    /// let mut second = pin!(notify.notified());
    /// assert!(!second.as_mut().enable()); // in line before `first`
    /// assert!(!first.as_mut().enable());
    /// notify.notify_one();
    /// assert!(second.as_mut().enable(), "the oldest waiter was picked");
    /// assert!(!first.as_mut().enable());
    /// ```
    pub fn enable(self: Pin<&mut Self>) -> bool {
        self.get_mut().poll_with(None)
    }

    /// The poll: true when notified. `waker` (`None` from `enable`) is
    /// stored to be woken, replacing the one of an earlier poll.
    fn poll_with(&mut self, waker: Option<&Waker>) -> bool {
        if self.done {
            return true;
        }
        let notify = self.notify;
        // Fast path, no lock: a `notify_waiters` since creation. (Taking a
        // stored permit here too, outside the lock, failed the loom model
        // `notify_cancel_racing_a_notify_one_loses_nothing`; the permit is
        // only taken under the lock.)
        if self.waiter.is_none() && notify.generation.load(SeqCst) != self.generation {
            self.done = true;
            return true;
        }
        // Fast path, no lock: `notify_one` picked us through the fast slot.
        if let Some(id) = self.waiter {
            if notify.fast.compare_exchange(id.nonzero(), 0, SeqCst, SeqCst).is_ok() {
                self.waiter = None;
                self.done = true;
                return true;
            }
        }
        let mut state = lock(&notify.state);
        let ready = match self.waiter {
            None if notify.generation.load(SeqCst) != self.generation => true,
            // Under the lock, which orders the permit: a plain load in the
            // common case of no permit, instead of an `xchg`.
            None if notify.permit.load(Relaxed) => {
                notify.permit.store(false, Relaxed);
                true
            }
            None => {
                self.waiter = Some(state.waiters.push(waker.unwrap_or(Waker::noop()), Wake::None));
                false
            }
            // Under the lock the slot is stable: a grant to us made before
            // we took the lock is there or in the list.
            Some(id) => {
                notify.fast.compare_exchange(id.nonzero(), 0, SeqCst, SeqCst).is_ok()
                    || match waker {
                        Some(waker) => state.waiters.poll_grant(id, waker).is_some(),
                        None => state.waiters.take_grant(id).is_some(),
                    }
            }
        };
        drop(state);
        if ready {
            self.waiter = None;
            self.done = true;
        }
        ready
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.get_mut().poll_with(Some(cx.waker())) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.waiter.take() {
            let mut wakers = WakeList::new();
            let notify = self.notify;
            let mut state = lock(&notify.state);
            // Picked through the fast slot: pass the grant on, and free the
            // slot first so the next grant may use it.
            let fast = notify.fast.compare_exchange(id.nonzero(), 0, SeqCst, SeqCst).is_ok();
            if fast || matches!(state.waiters.cancel(id), Cancelled::Granted(Wake::One)) {
                state.notify_one(&notify.permit, &notify.fast, &mut wakers);
            }
            drop(state);
        }
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified").field("waiting", &self.waiter.is_some()).field("done", &self.done).finish()
    }
}
