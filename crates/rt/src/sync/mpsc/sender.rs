//! The bounded channel's sending side: [`Sender`], its [`Send`] future,
//! and [`WeakSender`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::error::{SendError, SendTimeoutError, TrySendError};
use super::lockfree::NoPermit;
use super::{Acquire, Shared};
use crate::loom::sync::atomic::Ordering;
use crate::loom::sync::Arc;

/// The sending half of a bounded channel; clone it for more producers.
///
/// The channel stays open while any `Sender` (or [`OwnedPermit`](super::OwnedPermit),
/// which holds one) is alive; a [`WeakSender`] does not count.
pub struct Sender<T> {
    pub(super) shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Wraps a new reference to `shared` that was already counted in
    /// `shared.senders`.
    pub(super) fn new(shared: Arc<Shared<T>>) -> Sender<T> {
        Sender { shared }
    }

    /// Sends `value`, waiting for a free slot while the buffer is full.
    ///
    /// Fails with the value handed back if the receiver closed the channel
    /// (before the send or while it waited). Dropping the future gives up
    /// its place in the queue, and drops the value with it; a slot already
    /// promised to it goes to the next waiting sender. To wait for room
    /// without putting a value at stake, [`reserve`](Sender::reserve).
    pub fn send(&self, value: T) -> Send<'_, T> {
        Send { acquire: Acquire::new(&self.shared), value: Some(value) }
    }

    /// Sends `value` if a slot is free right now, without waiting.
    ///
    /// # Errors
    /// [`TrySendError::Full`] when no slot is free (or the free ones are
    /// promised to senders already waiting), [`TrySendError::Closed`] when
    /// the receiver closed the channel; the value comes back either way.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.shared.permits.try_acquire() {
            Ok(()) => {
                self.shared.push(value);
                Ok(())
            }
            Err(NoPermit::Full) => Err(TrySendError::Full(value)),
            Err(NoPermit::Closed) => Err(TrySendError::Closed(value)),
        }
    }

    /// Sends `value`, waiting at most `timeout` for a free slot.
    ///
    /// It waits as [`reserve`](Sender::reserve) does and sends only once a
    /// slot is held, so the value is never lost to the deadline: it comes
    /// back inside the error. The deadline runs on the runtime's timer
    /// ([`time::timeout`](crate::time::timeout)).
    ///
    /// # Errors
    /// [`SendTimeoutError::Timeout`] when no slot came free in time,
    /// [`SendTimeoutError::Closed`] when the receiver closed the channel.
    ///
    /// # Panics
    /// Outside a spindle-rt runtime, as every timer does.
    pub async fn send_timeout(&self, value: T, timeout: Duration) -> Result<(), SendTimeoutError<T>> {
        match crate::time::timeout(timeout, self.reserve()).await {
            Ok(Ok(permit)) => {
                permit.send(value);
                Ok(())
            }
            Ok(Err(SendError(()))) => Err(SendTimeoutError::Closed(value)),
            Err(_elapsed) => Err(SendTimeoutError::Timeout(value)),
        }
    }

    /// Sends `value` from synchronous code, parking the thread while the
    /// buffer is full: the bridge for a plain thread (or a
    /// [`spawn_blocking`](crate::spawn_blocking) closure) feeding async
    /// tasks.
    ///
    /// # Errors
    /// As [`send`](Sender::send): the receiver closed the channel.
    ///
    /// # Panics
    /// On a thread that runs a spindle-rt runtime (inside `block_on`, or
    /// in a task): parking it would stop every task it runs. The message
    /// says "cannot block the current thread from within a spindle-rt
    /// runtime"; use `send(value).await` there.
    #[track_caller]
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        crate::sync::blocking::block_on("mpsc::Sender::blocking_send", self.send(value))
    }

    /// Waits until the receiver closes the channel or is dropped: lets a
    /// producer stop making values nobody will read (for example in a
    /// `select!` beside its work).
    pub async fn closed(&self) {
        loop {
            // Created before the check, so a close in between is seen.
            let closed = self.shared.closed.notified();
            if self.is_closed() {
                return;
            }
            closed.await;
        }
    }

    /// True once the receiver closed the channel or was dropped.
    pub fn is_closed(&self) -> bool {
        self.shared.permits.is_closed()
    }

    /// How many values could be sent right now without waiting: the
    /// buffer's free slots, less those promised to waiting senders. It
    /// goes down with every send and every reserved [`Permit`](super::Permit),
    /// and up as the receiver takes values (or a permit is dropped unused).
    pub fn capacity(&self) -> usize {
        self.shared.permits.free()
    }

    /// The buffer size given to [`channel`](super::channel).
    pub fn max_capacity(&self) -> usize {
        self.shared.capacity
    }

    /// Whether `other` sends on the same channel as `self`.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// A [`WeakSender`] for this channel: it does not keep the channel
    /// open, and becomes a `Sender` again only while another one lives.
    pub fn downgrade(&self) -> WeakSender<T> {
        self.shared.weak_senders.fetch_add(1, Ordering::Relaxed);
        WeakSender { shared: self.shared.clone() }
    }

    /// How many `Sender`s of this channel are alive (an
    /// [`OwnedPermit`](super::OwnedPermit) holds one).
    pub fn strong_count(&self) -> usize {
        self.shared.senders.load(Ordering::Acquire)
    }

    /// How many [`WeakSender`]s of this channel are alive.
    pub fn weak_count(&self) -> usize {
        self.shared.weak_senders.load(Ordering::Acquire)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.senders.fetch_add(1, Ordering::Relaxed);
        Sender { shared: self.shared.clone() }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        // SeqCst, against the receiver's check of `senders` after it
        // stored its waker (see `Receiver::poll_recv`); every value this
        // sender pushed is published before.
        if self.shared.senders.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.shared.wake_receiver();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Sender").finish_non_exhaustive()
    }
}

/// Future returned by [`Sender::send`].
#[must_use = "futures do nothing unless polled"]
pub struct Send<'a, T> {
    acquire: Acquire<'a, T>,
    /// The value, until it is buffered or handed back.
    value: Option<T>,
}

// No field is structurally pinned: `value` is moved out by value, and
// `Acquire` is polled through `Pin::new` (it holds no self-reference).
impl<T> Unpin for Send<'_, T> {}

impl<T> Future for Send<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        // Checked first: a permit taken for a value that is gone would leak.
        assert!(this.value.is_some(), "Send polled after completion");
        let acquired = std::task::ready!(Pin::new(&mut this.acquire).poll(cx));
        let value = this.value.take().expect("checked above");
        match acquired {
            Ok(()) => {
                this.acquire.shared.push(value);
                Poll::Ready(Ok(()))
            }
            Err(super::Closed) => Poll::Ready(Err(SendError(value))),
        }
    }
}

impl<T> fmt::Debug for Send<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Send").field("waiting", &self.acquire.waiter.is_some()).finish_non_exhaustive()
    }
}

/// A sender that does not keep the channel open; from
/// [`Sender::downgrade`].
///
/// For a task that should send while the channel is in use but must not
/// be the reason it stays open (a background refresher, a registry of
/// producers). [`upgrade`](WeakSender::upgrade) gives a `Sender` while at
/// least one other `Sender` is alive, and `None` for ever after the last
/// one is gone, even if the receiver is still there: the receiver has
/// already been told (or will be) that no value can come.
pub struct WeakSender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> WeakSender<T> {
    /// A `Sender` for the channel, if any `Sender` of it is still alive.
    pub fn upgrade(&self) -> Option<Sender<T>> {
        let senders = &self.shared.senders;
        let mut cur = senders.load(Ordering::Relaxed);
        loop {
            // Never from 0: the receiver may already have seen it.
            if cur == 0 {
                return None;
            }
            match senders.compare_exchange_weak(cur, cur + 1, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return Some(Sender::new(self.shared.clone())),
                Err(actual) => cur = actual,
            }
        }
    }

    /// How many `Sender`s of this channel are alive.
    pub fn strong_count(&self) -> usize {
        self.shared.senders.load(Ordering::Acquire)
    }

    /// How many `WeakSender`s of this channel are alive (this one too).
    pub fn weak_count(&self) -> usize {
        self.shared.weak_senders.load(Ordering::Acquire)
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> Self {
        self.shared.weak_senders.fetch_add(1, Ordering::Relaxed);
        WeakSender { shared: self.shared.clone() }
    }
}

impl<T> Drop for WeakSender<T> {
    fn drop(&mut self) {
        self.shared.weak_senders.fetch_sub(1, Ordering::Relaxed);
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::WeakSender").finish_non_exhaustive()
    }
}
