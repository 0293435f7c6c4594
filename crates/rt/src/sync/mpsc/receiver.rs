//! The bounded channel's receiving side: [`Receiver`] and its [`Recv`]
//! future.

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::error::TryRecvError;
use super::Shared;
use crate::loom::sync::atomic::{fence, Ordering};
use crate::loom::sync::Arc;
use crate::sync::waiters::lock;

/// The receiving half of a bounded channel.
///
/// Each value it receives frees its slot at once (a waiting sender, if
/// any, gets it); receiving takes no lock unless the channel is empty (to
/// wait) or a sender waits for the freed slot.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Receiver<T> {
    pub(super) fn new(shared: Arc<Shared<T>>) -> Receiver<T> {
        Receiver { shared }
    }

    /// Receives the next value, waiting while the buffer is empty.
    /// Returns `None` once the buffer is empty and no value can come: all
    /// senders are gone, or the channel was closed and every permit
    /// reserved before the close was used or dropped.
    pub fn recv(&mut self) -> Recv<'_, T> {
        Recv { receiver: self }
    }

    /// [`recv`](Receiver::recv) as a poll function, for hand-written
    /// futures and streams: `Ready(Some(value))`, `Ready(None)` at the end,
    /// or `Pending` with `cx`'s waker stored to be woken by the next value
    /// (only the latest waker is kept).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        // A channel some producer keeps full would otherwise let the
        // receiving task run for ever (see `crate::coop`).
        crate::coop::poll_budgeted(cx, |cx| self.poll_recv_unbudgeted(cx))
    }

    /// [`poll_recv`](Receiver::poll_recv) without the budget.
    fn poll_recv_unbudgeted(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        if let Some(value) = self.pop() {
            return Poll::Ready(Some(value));
        }
        let shared = &*self.shared;
        {
            let mut slow = lock(&shared.slow);
            match &mut slow.receiver_waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            }
            shared.rx_waiting.store(true, Ordering::Relaxed);
        }
        // Look again now that `rx_waiting` is set (see `Shared`).
        fence(Ordering::SeqCst);
        if shared.ring.head_ready() {
            shared.rx_waiting.store(false, Ordering::Relaxed);
            return Poll::Ready(self.pop());
        }
        if self.is_disconnected() {
            return Poll::Ready(self.pop());
        }
        Poll::Pending
    }

    /// Receives up to `limit` values into `buffer` (appended), waiting
    /// only while none is buffered; returns how many it added.
    ///
    /// It takes what is there, up to `limit`, and does not wait for more:
    /// one wake-up, many values, for a consumer that works in batches.
    /// Returns 0 only when `limit` is 0 (at once, without waiting) or when
    /// nothing more can come (as [`recv`](Receiver::recv)'s `None`).
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        poll_fn(|cx| self.poll_recv_many(cx, buffer, limit)).await
    }

    /// [`recv_many`](Receiver::recv_many) as a poll function.
    pub fn poll_recv_many(&mut self, cx: &mut Context<'_>, buffer: &mut Vec<T>, limit: usize) -> Poll<usize> {
        if limit == 0 {
            return Poll::Ready(0);
        }
        let Some(first) = std::task::ready!(self.poll_recv(cx)) else {
            return Poll::Ready(0);
        };
        buffer.reserve(limit.min(self.shared.ring.len() + 1));
        buffer.push(first);
        let mut added = 1;
        while added < limit {
            match self.pop() {
                Some(value) => buffer.push(value),
                None => break,
            }
            added += 1;
        }
        Poll::Ready(added)
    }

    /// Takes the next value if one is buffered, without waiting.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] if a value may still come,
    /// [`TryRecvError::Disconnected`] if none can (as `recv`'s `None`).
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        if let Some(value) = self.pop() {
            return Ok(value);
        }
        let disconnected = self.is_disconnected();
        // Looks again: a value the last sender sent before it left is
        // published by now.
        match self.pop() {
            Some(value) => Ok(value),
            None if disconnected => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Receives the next value from synchronous code, parking the thread
    /// while the buffer is empty: the bridge for a plain thread (or a
    /// [`spawn_blocking`](crate::spawn_blocking) closure) consuming what
    /// async tasks send. `None` as [`recv`](Receiver::recv).
    ///
    /// # Panics
    /// On a thread that runs a spindle-rt runtime (inside `block_on`, or
    /// in a task): parking it would stop every task it runs. The message
    /// says "cannot block the current thread from within a spindle-rt
    /// runtime"; use `recv().await` there.
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        crate::sync::blocking::block_on("mpsc::Receiver::blocking_recv", self.recv())
    }

    /// [`recv_many`](Receiver::recv_many) from synchronous code, parking
    /// the thread while the buffer is empty.
    ///
    /// # Panics
    /// As [`blocking_recv`](Receiver::blocking_recv).
    #[track_caller]
    pub fn blocking_recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        crate::sync::blocking::block_on("mpsc::Receiver::blocking_recv_many", self.recv_many(buffer, limit))
    }

    /// True when no more values can come: every sender is gone, or the
    /// channel is closed and every permit is home.
    fn is_disconnected(&self) -> bool {
        self.shared.senders.load(Ordering::SeqCst) == 0
            || self.shared.permits.is_closed_and_idle(self.shared.capacity)
    }

    /// Takes the value at the head of the ring and frees its slot.
    fn pop(&mut self) -> Option<T> {
        // SAFETY: the ring's one consumer is this receiver (there is one
        // per channel, and `&mut self` keeps its calls apart); the ring's
        // own drop runs only once the receiver is gone.
        let value = unsafe { self.shared.ring.pop() }?;
        self.shared.release_permit();
        Some(value)
    }

    /// Closes the channel: every pending and future send (and reserve)
    /// fails and hands its value back, and every [`Sender::closed`](super::Sender::closed)
    /// resolves. Values already buffered can still be received, and so
    /// can those of [`Permit`](super::Permit)s reserved before the close.
    pub fn close(&mut self) {
        self.shared.close();
    }

    /// True once the channel is closed ([`close`](Receiver::close)) or
    /// every sender is gone. Values may still be buffered.
    pub fn is_closed(&self) -> bool {
        self.shared.permits.is_closed() || self.shared.senders.load(Ordering::SeqCst) == 0
    }

    /// How many values are buffered (counting one a sender is writing
    /// right now).
    pub fn len(&self) -> usize {
        self.shared.ring.len()
    }

    /// Whether no value is buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many values could be sent right now without waiting; see
    /// [`Sender::capacity`](super::Sender::capacity).
    pub fn capacity(&self) -> usize {
        self.shared.permits.free()
    }

    /// The buffer size given to [`channel`](super::channel).
    pub fn max_capacity(&self) -> usize {
        self.shared.capacity
    }

    /// How many `Sender`s of this channel are alive.
    pub fn sender_strong_count(&self) -> usize {
        self.shared.senders.load(Ordering::Acquire)
    }

    /// How many `WeakSender`s of this channel are alive.
    pub fn sender_weak_count(&self) -> usize {
        self.shared.weak_senders.load(Ordering::Acquire)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.close();
        // Drop buffered values now rather than when the last sender goes.
        while self.pop().is_some() {}
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Receiver").finish_non_exhaustive()
    }
}

/// Future returned by [`Receiver::recv`].
#[must_use = "futures do nothing unless polled"]
pub struct Recv<'a, T> {
    receiver: &'a mut Receiver<T>,
}

impl<T> Future for Recv<'_, T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().receiver.poll_recv(cx)
    }
}

impl<T> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Recv").finish_non_exhaustive()
    }
}
