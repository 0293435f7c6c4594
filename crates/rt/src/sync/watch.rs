//! A single-value broadcast channel: senders (it is usually one; the
//! sender is `Clone`) publish the latest value, any number of receivers see
//! it and wait for changes.
//!
//! The usual uses in a server: a configuration that a reload replaces
//! while connection tasks keep reading the current one, and a shutdown
//! flag every task watches. A receiver does not see every value, only the
//! latest: two sends before it looks are one change to it. (For every
//! message to reach one consumer, use [`mpsc`](super::mpsc).)
//!
//! ```
//! use spindle_rt::sync::watch;
//!
//! let rt = spindle_rt::Builder::new_current_thread().build()?;
//! rt.block_on(async {
//!     let (tx, mut rx) = watch::channel("v1");
//!     let reader = spindle_rt::spawn(async move {
//!         rx.changed().await.expect("the sender is alive");
//!         *rx.borrow_and_update()
//!     });
//!     tx.send("v2").expect("a receiver is alive");
//!     assert_eq!(reader.await.expect("the task ran"), "v2");
//! });
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! ## How a change is never missed
//!
//! The value sits behind a lock with a version number beside it. A send
//! replaces the value, bumps the version, and then calls
//! [`Notify::notify_waiters`]. A receiver remembers the version it last
//! saw. [`Receiver::changed`] first creates its [`Notified`](super::Notified)
//! future, *then* compares versions, then waits: a send between the
//! comparison and the wait bumps the `Notify`'s generation after the
//! future was created, which the future sees, so the wake-up cannot fall
//! into the gap.

use super::Notify;
use crate::loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::{Arc, Mutex, MutexGuard};
use std::fmt;
use std::ops::Deref;

/// The channel's errors under tokio's path
/// (`tokio::sync::watch::error::RecvError`); the same types as
/// [`RecvError`] and [`SendError`].
pub mod error {
    pub use super::{RecvError, SendError};
}

/// A channel holding `init`; see the [module docs](self).
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: Mutex::new(init),
        version: AtomicU64::new(0),
        changed: Notify::new(),
        sender_gone: AtomicBool::new(false),
        senders: AtomicUsize::new(1),
        receivers: AtomicUsize::new(1),
        receivers_gone: Notify::new(),
    });
    let rx = Receiver { shared: shared.clone(), seen: 0 };
    (Sender { shared }, rx)
}

struct Shared<T> {
    value: Mutex<T>,
    /// Bumped (after the value is replaced) by every send.
    version: AtomicU64,
    /// Woken (`notify_waiters`) after every send and when the last sender
    /// goes.
    changed: Notify,
    /// Set when the last sender is dropped.
    sender_gone: AtomicBool,
    /// Senders alive (they are `Clone`, as tokio's).
    senders: AtomicUsize,
    receivers: AtomicUsize,
    /// Woken (`notify_waiters`) when the receiver count drops to 0, for
    /// [`Sender::closed`].
    receivers_gone: Notify,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, T> {
        // A panic in a `send_modify` closure leaves a value the closure
        // chose to leave; readers still get it.
        super::waiters::lock(&self.value)
    }
}

/// The sending half: publishes new values. Clones publish to the same
/// channel; dropping the last one closes it: receivers'
/// [`changed`](Receiver::changed) then fails, while
/// [`borrow`](Receiver::borrow) keeps returning the last value.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// A receiving half: reads the latest value and waits for the next.
/// Cloning one gives a receiver that has seen what the original has seen.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The version this receiver has seen.
    seen: u64,
}

/// A read view of the channel's value, holding its lock: keep it for a
/// moment, never across an `.await` (a sender would wait for it, blocking
/// its thread).
pub struct Ref<'a, T> {
    guard: MutexGuard<'a, T>,
    has_changed: bool,
}

impl<T> Ref<'_, T> {
    /// Whether the value was new to the receiver that borrowed it: for
    /// [`Receiver::borrow`], not yet seen; for
    /// [`borrow_and_update`](Receiver::borrow_and_update) and
    /// [`wait_for`](Receiver::wait_for), not seen before the call (which
    /// marked it seen). Always false from [`Sender::borrow`].
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

send_error! {
    /// [`Sender::send`] found no receiver; the value comes back.
    "every receiver of the watch channel is gone"
}

/// [`Receiver::changed`] found every sender gone: no change will come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError(());

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the watch channel's sender is gone")
    }
}

impl std::error::Error for RecvError {}

impl<T> Sender<T> {
    /// A channel holding `init` with no receiver yet (so
    /// [`send`](Sender::send) fails until a
    /// [`subscribe`](Sender::subscribe); [`send_replace`](Sender::send_replace)
    /// works). As tokio's `Sender::new`.
    pub fn new(init: T) -> Sender<T> {
        channel(init).0
    }

    /// How many senders of this channel are alive.
    pub fn sender_count(&self) -> usize {
        self.shared.senders.load(SeqCst)
    }

    /// Whether `other` sends on the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Publishes `value` and wakes every receiver waiting in
    /// [`changed`](Receiver::changed).
    ///
    /// # Errors
    /// No receiver is left: the value is not stored and comes back.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.shared.receivers.load(SeqCst) == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Publishes `value` whether or not anyone receives (a later
    /// [`subscribe`](Sender::subscribe) sees it), and returns the value it
    /// replaced.
    pub fn send_replace(&self, value: T) -> T {
        let old = std::mem::replace(&mut *self.shared.lock(), value);
        self.publish();
        old
    }

    /// Changes the value in place with `modify` and publishes it as a
    /// change.
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        modify(&mut self.shared.lock());
        self.publish();
    }

    /// Lets `modify` change the value in place, and publishes a change
    /// only if it returns true (it says whether it changed anything):
    /// receivers are neither woken nor shown a change for an update that
    /// was a no-op. Returns what `modify` returned. Like
    /// [`send_modify`](Sender::send_modify), works with no receiver.
    ///
    /// `modify` runs with the value locked: it must not touch this
    /// channel. If it panics, nothing is published (what it changed
    /// before panicking stays).
    pub fn send_if_modified(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        let modified = modify(&mut self.shared.lock());
        if modified {
            self.publish();
        }
        modified
    }

    fn publish(&self) {
        // After the value's lock is released: a woken receiver may read
        // the value at once.
        self.shared.version.fetch_add(1, SeqCst);
        self.shared.changed.notify_waiters();
    }

    /// The current value.
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref { guard: self.shared.lock(), has_changed: false }
    }

    /// True when every receiver is gone, so a [`send`](Sender::send)
    /// would fail (until a [`subscribe`](Sender::subscribe)).
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Waits until every receiver is gone: lets a producer stop making
    /// values nobody will read. Returns at once if none is alive now.
    pub async fn closed(&self) {
        loop {
            // Created before the check, so a drop in between is seen.
            let gone = self.shared.receivers_gone.notified();
            if self.is_closed() {
                return;
            }
            gone.await;
        }
    }

    /// A new receiver that has seen the current value.
    pub fn subscribe(&self) -> Receiver<T> {
        self.shared.receivers.fetch_add(1, SeqCst);
        Receiver { shared: self.shared.clone(), seen: self.shared.version.load(SeqCst) }
    }

    /// How many receivers are alive.
    pub fn receiver_count(&self) -> usize {
        self.shared.receivers.load(SeqCst)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.shared.senders.fetch_add(1, SeqCst);
        Sender { shared: self.shared.clone() }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, SeqCst) == 1 {
            self.shared.sender_gone.store(true, SeqCst);
            self.shared.changed.notify_waiters();
        }
    }
}

impl<T> Receiver<T> {
    /// The current value, without marking it seen.
    pub fn borrow(&self) -> Ref<'_, T> {
        let guard = self.shared.lock();
        Ref { guard, has_changed: self.unseen().is_some() }
    }

    /// The current value, marked seen: the next
    /// [`changed`](Receiver::changed) waits for a newer one.
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        // The version is read under the value's lock, and a send bumps it
        // after releasing the lock: what is marked seen is never newer
        // than the value returned.
        let guard = self.shared.lock();
        let now = self.shared.version.load(SeqCst);
        let has_changed = now != self.seen;
        self.seen = now;
        Ref { guard, has_changed }
    }

    /// Marks the current value unseen: [`has_changed`](Receiver::has_changed)
    /// then says true and [`changed`](Receiver::changed) returns at once,
    /// whether or not anything was sent.
    pub fn mark_changed(&mut self) {
        // Any version other than the current one reads as unseen.
        self.seen = self.shared.version.load(SeqCst).wrapping_sub(1);
    }

    /// Marks the current value seen, without borrowing it: the next
    /// [`changed`](Receiver::changed) waits for a newer one.
    pub fn mark_unchanged(&mut self) {
        self.seen = self.shared.version.load(SeqCst);
    }

    /// Whether a value newer than the last one seen is there.
    ///
    /// # Errors
    /// The sender is gone, whether or not its last value was seen (as
    /// tokio's `has_changed`): a last unseen value is still there for
    /// [`changed`](Receiver::changed), which returns `Ok` for it first, and
    /// for [`borrow`](Receiver::borrow).
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        if self.shared.sender_gone.load(SeqCst) {
            return Err(RecvError(()));
        }
        Ok(self.unseen().is_some())
    }

    /// Whether `other` receives from the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// The current version, if this receiver has not seen it.
    fn unseen(&self) -> Option<u64> {
        let now = self.shared.version.load(SeqCst);
        (now != self.seen).then_some(now)
    }

    /// Waits for a value newer than the last one seen, and marks it seen
    /// (read it with [`borrow`](Receiver::borrow)). Returns at once if one
    /// is already there. Cancel-safe: dropping the future loses nothing.
    ///
    /// # Errors
    /// The sender was dropped and no unseen value is left.
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        // Budgeted as tokio's: a loop on a value that keeps changing yields.
        crate::coop::cooperative(changed(&self.shared, &mut self.seen)).await
    }

    /// Waits until the value satisfies `predicate`, and returns it
    /// (borrowed, and marked seen).
    ///
    /// The current value is tested first: if it already satisfies the
    /// predicate this returns at once, changed or not. Otherwise it waits
    /// for each change and tests the new value, so a value that satisfies
    /// the predicate only between two looks can be missed (as any value a
    /// watch receiver does not look at in time). Cancel-safe.
    ///
    /// `predicate` runs with the value locked: it must not touch this
    /// channel.
    ///
    /// ```
    /// use spindle_rt::sync::watch;
    ///
    /// let rt = spindle_rt::Builder::new_current_thread().build()?;
    /// rt.block_on(async {
    ///     let (tx, mut rx) = watch::channel(0u32);
    ///     let waiter = spindle_rt::spawn(async move {
    ///         *rx.wait_for(|n| *n >= 3).await.expect("the sender is alive")
    ///     });
    ///     for n in 1..=5 {
    ///         // (`send_replace`: the waiter may be gone once it saw 3.)
    ///         tx.send_replace(n);
    ///         spindle_rt::yield_now().await;
    ///     }
    ///     assert!(waiter.await.expect("the task ran") >= 3);
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Errors
    /// The sender is gone and the last value (tested once more if it was
    /// new) does not satisfy the predicate.
    pub async fn wait_for(&mut self, mut predicate: impl FnMut(&T) -> bool) -> Result<Ref<'_, T>, RecvError> {
        // Split the borrow: the returned `Ref` borrows `shared` while the
        // loop keeps updating `seen`.
        let Receiver { shared, seen } = self;
        let shared: &Shared<T> = shared;
        let seen_before = *seen;
        let mut closed = false;
        loop {
            {
                let guard = shared.lock();
                // Read under the value's lock: see `borrow_and_update`.
                let now = shared.version.load(SeqCst);
                let fresh = now != *seen;
                *seen = now;
                if (!closed || fresh) && predicate(&guard) {
                    return Ok(Ref { guard, has_changed: now != seen_before });
                }
            }
            if closed {
                return Err(RecvError(()));
            }
            closed = crate::coop::cooperative(changed(shared, seen)).await.is_err();
        }
    }
}

/// [`Receiver::changed`] on the split borrow that
/// [`Receiver::wait_for`] needs.
async fn changed<T>(shared: &Shared<T>, seen: &mut u64) -> Result<(), RecvError> {
    let unseen = |seen: u64| {
        let now = shared.version.load(SeqCst);
        (now != seen).then_some(now)
    };
    loop {
        // Created before the check: see the module docs.
        let notified = shared.changed.notified();
        if let Some(now) = unseen(*seen) {
            *seen = now;
            return Ok(());
        }
        if shared.sender_gone.load(SeqCst) {
            // The sender bumps the version before it marks itself
            // gone, so a value sent just before it went shows now.
            if let Some(now) = unseen(*seen) {
                *seen = now;
                return Ok(());
            }
            return Err(RecvError(()));
        }
        notified.await;
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Receiver<T> {
        self.shared.receivers.fetch_add(1, SeqCst);
        Receiver { shared: self.shared.clone(), seen: self.seen }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if self.shared.receivers.fetch_sub(1, SeqCst) == 1 {
            self.shared.receivers_gone.notify_waiters();
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Sender").field("value", &*self.borrow()).finish()
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Receiver").field("value", &*self.borrow()).field("seen", &self.seen).finish()
    }
}
