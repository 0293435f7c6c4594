//! Reserved slots: [`Permit`] and [`OwnedPermit`], and the
//! [`Sender`] methods that take them.

use std::fmt;

use super::error::{SendError, TrySendError};
use super::lockfree::NoPermit;
use super::{Acquire, Closed, Sender};

impl<T> Sender<T> {
    /// Waits for a free slot and reserves it, without a value yet.
    ///
    /// The wait is the same as [`send`](Sender::send)'s, in the same
    /// first-come queue of waiting senders; what comes out is a
    /// [`Permit`], whose [`send`](Permit::send) then fills the slot at once
    /// and cannot fail. Nothing is at stake while it waits: dropping the
    /// future (a `select!` that took another branch, a timeout) loses no
    /// value, because none was moved into it, and a slot already granted to
    /// it goes on to the next waiting sender. See the
    /// [module docs](super#slots-first-values-second-permits).
    ///
    /// # Errors
    /// The receiver closed the channel (before or while it waited).
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        match Acquire::new(&self.shared).await {
            Ok(()) => Ok(Permit { sender: self }),
            Err(Closed) => Err(SendError(())),
        }
    }

    /// [`reserve`](Sender::reserve), holding the sender by value: the
    /// [`OwnedPermit`] is `'static` and can move into a spawned task, and
    /// gives the `Sender` back when it sends.
    ///
    /// # Errors
    /// The receiver closed the channel; the sender is dropped.
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<()>> {
        match Acquire::new(&self.shared).await {
            Ok(()) => Ok(OwnedPermit { sender: Some(self) }),
            Err(Closed) => Err(SendError(())),
        }
    }

    /// Reserves a slot if one is free right now (and not promised to a
    /// waiting sender), without waiting.
    ///
    /// # Errors
    /// [`TrySendError::Full`] or [`TrySendError::Closed`], with `()` in
    /// place of a value.
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        match self.shared.permits.try_acquire() {
            Ok(()) => Ok(Permit { sender: self }),
            Err(NoPermit::Full) => Err(TrySendError::Full(())),
            Err(NoPermit::Closed) => Err(TrySendError::Closed(())),
        }
    }

    /// [`try_reserve`](Sender::try_reserve), holding the sender by value.
    ///
    /// # Errors
    /// As `try_reserve`, with the sender handed back inside.
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T>, TrySendError<Sender<T>>> {
        match self.shared.permits.try_acquire() {
            Ok(()) => Ok(OwnedPermit { sender: Some(self) }),
            Err(NoPermit::Full) => Err(TrySendError::Full(self)),
            Err(NoPermit::Closed) => Err(TrySendError::Closed(self)),
        }
    }
}

/// One reserved slot of a bounded channel, from [`Sender::reserve`] or
/// [`Sender::try_reserve`].
///
/// While it lives, the slot is taken: it counts against
/// [`Sender::capacity`], and a `try_send` that needs it fails with
/// [`TrySendError::Full`]. [`send`](Permit::send) fills it without
/// waiting; dropping the permit unused gives the slot back, to the oldest
/// waiting sender if one waits (so a reserve-then-drop cannot let a
/// newcomer barge ahead of the queue).
///
/// A permit reserved before the receiver closed the channel can still
/// send, and the receiver still gets that value: its `recv` returns `None`
/// only once every such permit is used or dropped.
///
/// ```
/// use spindle_rt::sync::mpsc;
/// use spindle_rt::time::timeout;
/// use std::time::Duration;
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let (tx, mut rx) = mpsc::channel::<String>(1);
///     tx.send("first".to_string()).await.expect("the receiver is alive");
///
///     // The channel is full. Waiting for room in `reserve` and giving up
///     // (here on a timeout; in a `select!` when another branch wins)
///     // loses nothing: the value has not been made, let alone moved in.
///     assert!(timeout(Duration::from_millis(10), tx.reserve()).await.is_err());
///
///     assert_eq!(rx.recv().await.as_deref(), Some("first"));
///     let permit = tx.reserve().await.expect("the receiver is alive");
///     // The slot is held: nobody else can take it ...
///     assert_eq!(tx.capacity(), 0);
///     assert!(tx.try_send("barging in".to_string()).is_err());
///     // ... so the value, made only now, goes in at once and surely.
///     permit.send(format!("second, made after the slot was {}", "held"));
///     assert_eq!(rx.recv().await.as_deref(), Some("second, made after the slot was held"));
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[must_use = "the reserved slot is given back as soon as the permit is dropped"]
pub struct Permit<'a, T> {
    sender: &'a Sender<T>,
}

impl<T> Permit<'_, T> {
    /// Puts `value` in the reserved slot and wakes the receiver: never
    /// waits, never fails. (If the receiver is already gone the value is
    /// dropped with the channel.)
    pub fn send(self, value: T) {
        self.sender.shared.push(value);
        // The slot now holds the value: the receiver's pop gives it back.
        std::mem::forget(self);
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        self.sender.shared.release_unused();
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Permit").finish_non_exhaustive()
    }
}

/// One reserved slot of a bounded channel, holding its [`Sender`] by
/// value: from [`Sender::reserve_owned`] or
/// [`Sender::try_reserve_owned`]. It behaves as a [`Permit`], and keeps
/// the channel open while it lives (it holds a sender).
#[must_use = "the reserved slot is given back as soon as the permit is dropped"]
pub struct OwnedPermit<T> {
    /// `None` only after `send` or `release` took it.
    sender: Option<Sender<T>>,
}

impl<T> OwnedPermit<T> {
    /// Puts `value` in the reserved slot (never waits, never fails) and
    /// gives the sender back.
    pub fn send(mut self, value: T) -> Sender<T> {
        let sender = self.sender.take().expect("an OwnedPermit holds its sender until used");
        sender.shared.push(value);
        sender
    }

    /// Gives the slot back unused (to the oldest waiting sender, if one
    /// waits) and the sender with it.
    pub fn release(mut self) -> Sender<T> {
        let sender = self.sender.take().expect("an OwnedPermit holds its sender until used");
        sender.shared.release_unused();
        sender
    }
}

impl<T> Drop for OwnedPermit<T> {
    fn drop(&mut self) {
        if let Some(sender) = self.sender.take() {
            sender.shared.release_unused();
        }
    }
}

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::OwnedPermit").finish_non_exhaustive()
    }
}
