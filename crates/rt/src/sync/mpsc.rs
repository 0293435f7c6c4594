//! A bounded multi-producer, single-consumer channel.
//!
//! [`channel`]`(capacity)` returns a cloneable [`Sender`] and a
//! [`Receiver`]. The buffer holds at most `capacity` values; a sender that
//! finds it full waits in [`Sender::send`] until the receiver takes one
//! (backpressure), and waiting senders are served in the order they
//! started waiting. A freed slot is *reserved* for the first waiting
//! sender, so [`Sender::try_send`] cannot take it from under them.
//!
//! Closing: the receiver's [`Receiver::close`] (or its drop) makes every
//! send fail with the value handed back; values already buffered can still
//! be received. [`Receiver::recv`] returns `None` once every sender is
//! gone (or the channel is closed) and the buffer is empty.
//!
//! ```
//! use futures::executor::block_on;
//! use spindle_rt::sync::mpsc;
//!
//! let (tx, mut rx) = mpsc::channel(2);
//! let producer = std::thread::spawn(move || {
//!     block_on(async {
//!         for i in 0..5 {
//!             tx.send(i).await.unwrap(); // waits while 2 are buffered
//!         }
//!     })
//! });
//! let mut got = Vec::new();
//! block_on(async {
//!     while let Some(v) = rx.recv().await {
//!         got.push(v);
//!     }
//! });
//! producer.join().unwrap();
//! assert_eq!(got, [0, 1, 2, 3, 4]);
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::waiters::{lock, Cancelled, WaitList, WaiterId, WakeList};
use crate::loom::sync::{Arc, Mutex};

/// Creates a bounded channel holding at most `capacity` values.
///
/// # Panics
///
/// If `capacity` is 0: a rendezvous channel (a send completes only when a
/// receive takes it) is not offered; use a capacity of 1 for the nearest
/// behaviour.
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "mpsc::channel: capacity must be at least 1 (rendezvous channels are not supported)"
    );
    let shared = Arc::new(Mutex::new(Chan {
        buffer: VecDeque::with_capacity(capacity.min(1024)),
        capacity,
        reserved: 0,
        senders: 1,
        closed: false,
        receiver_waker: None,
        send_waiters: WaitList::new(),
    }));
    (Sender { shared: shared.clone() }, Receiver { shared })
}

struct Chan<T> {
    buffer: VecDeque<T>,
    capacity: usize,
    /// Slots granted to waiting senders that have not yet polled to fill
    /// them. Invariant: `buffer.len() + reserved <= capacity`.
    reserved: usize,
    /// Live `Sender` handles.
    senders: usize,
    /// Set by the receiver's close or drop; never cleared.
    closed: bool,
    receiver_waker: Option<Waker>,
    /// Senders waiting for a slot, oldest first.
    send_waiters: WaitList<()>,
}

impl<T> Chan<T> {
    /// Hands free slots to waiting senders, oldest first.
    fn grant_free_slots(&mut self, wakers: &mut WakeList) {
        while self.buffer.len() + self.reserved < self.capacity
            && self.send_waiters.grant_front(wakers, |_| {})
        {
            self.reserved += 1;
        }
    }

    /// Buffers `value` and queues the receiver's wake-up.
    fn push(&mut self, value: T, wakers: &mut WakeList) {
        self.buffer.push_back(value);
        if let Some(waker) = self.receiver_waker.take() {
            wakers.push(waker);
        }
    }

    /// A sender waiter gives up (dropped, or the channel closed): a slot it
    /// was granted goes to the next waiter.
    fn cancel_waiter(&mut self, id: WaiterId, wakers: &mut WakeList) {
        if let Cancelled::Granted(()) = self.send_waiters.cancel(id) {
            self.reserved -= 1;
            if !self.closed {
                self.grant_free_slots(wakers);
            }
        }
    }
}

/// The sending half of a bounded channel; clone it for more producers.
pub struct Sender<T> {
    shared: Arc<Mutex<Chan<T>>>,
}

/// The receiving half of a bounded channel.
pub struct Receiver<T> {
    shared: Arc<Mutex<Chan<T>>>,
}

/// The channel is closed; the value that could not be sent is inside.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

/// Why [`Sender::try_send`] failed; the value is handed back either way.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// The buffer is full (or its free slots are promised to senders that
    /// were already waiting).
    Full(T),
    /// The receiver closed the channel or was dropped.
    Closed(T),
}

/// Why [`Receiver::try_recv`] returned no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing buffered, but a sender may still send.
    Empty,
    /// Nothing buffered and nothing more will come.
    Disconnected,
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("channel closed")
    }
}

impl<T> std::error::Error for SendError<T> {}

impl<T> TrySendError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(v) | TrySendError::Closed(v) => v,
        }
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("channel full"),
            TrySendError::Closed(_) => f.write_str("channel closed"),
        }
    }
}

impl<T> std::error::Error for TrySendError<T> {}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("channel empty"),
            TryRecvError::Disconnected => f.write_str("channel disconnected"),
        }
    }
}

impl std::error::Error for TryRecvError {}

impl<T> Sender<T> {
    /// Sends `value`, waiting for a free slot while the buffer is full.
    ///
    /// Fails with the value handed back if the receiver closed the channel
    /// (before the send or while it waited). Dropping the future gives up
    /// its place in the queue; a slot already promised to it goes to the
    /// next waiting sender.
    pub fn send(&self, value: T) -> Send<'_, T> {
        Send { sender: self, value: Some(value), waiter: None }
    }

    /// Sends `value` if a slot is free right now, without waiting.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let mut wakers = WakeList::new();
        let mut chan = lock(&self.shared);
        if chan.closed {
            return Err(TrySendError::Closed(value));
        }
        if !chan.send_waiters.is_empty() || chan.buffer.len() + chan.reserved >= chan.capacity {
            return Err(TrySendError::Full(value));
        }
        chan.push(value, &mut wakers);
        drop(chan);
        Ok(())
    }

    /// True once the receiver closed the channel or was dropped.
    pub fn is_closed(&self) -> bool {
        lock(&self.shared).closed
    }

    /// The buffer size given to [`channel`].
    pub fn max_capacity(&self) -> usize {
        lock(&self.shared).capacity
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        lock(&self.shared).senders += 1;
        Sender { shared: self.shared.clone() }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut wakers = WakeList::new();
        let mut chan = lock(&self.shared);
        chan.senders -= 1;
        if chan.senders == 0 {
            if let Some(waker) = chan.receiver_waker.take() {
                wakers.push(waker);
            }
        }
        drop(chan);
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
    sender: &'a Sender<T>,
    /// The value, until it is buffered or handed back.
    value: Option<T>,
    /// Our place in the send queue, once we had to wait.
    waiter: Option<WaiterId>,
}

// No field is structurally pinned: `value` is moved out by value.
impl<T> Unpin for Send<'_, T> {}

impl<T> Future for Send<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut wakers = WakeList::new();
        let mut chan = lock(&this.sender.shared);
        let value = this.value.take().expect("Send polled after completion");
        if chan.closed {
            if let Some(id) = this.waiter.take() {
                chan.cancel_waiter(id, &mut wakers);
            }
            return Poll::Ready(Err(SendError(value)));
        }
        match this.waiter {
            None => {
                if chan.send_waiters.is_empty() && chan.buffer.len() + chan.reserved < chan.capacity {
                    chan.push(value, &mut wakers);
                    return Poll::Ready(Ok(()));
                }
                this.waiter = Some(chan.send_waiters.push(cx.waker(), ()));
            }
            Some(id) => {
                if chan.send_waiters.poll_grant(id, cx.waker()).is_some() {
                    this.waiter = None;
                    chan.reserved -= 1;
                    chan.push(value, &mut wakers);
                    return Poll::Ready(Ok(()));
                }
            }
        }
        this.value = Some(value);
        Poll::Pending
    }
}

impl<T> Drop for Send<'_, T> {
    fn drop(&mut self) {
        if let Some(id) = self.waiter.take() {
            let mut wakers = WakeList::new();
            let mut chan = lock(&self.sender.shared);
            chan.cancel_waiter(id, &mut wakers);
            drop(chan);
        }
    }
}

impl<T> fmt::Debug for Send<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Send").field("waiting", &self.waiter.is_some()).finish_non_exhaustive()
    }
}

impl<T> Receiver<T> {
    /// Receives the next value, waiting while the buffer is empty.
    /// Returns `None` once the buffer is empty and no value can come: all
    /// senders are gone, or the channel was closed.
    pub fn recv(&mut self) -> Recv<'_, T> {
        Recv { receiver: self }
    }

    /// Takes the next value if one is buffered, without waiting.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut wakers = WakeList::new();
        let mut chan = lock(&self.shared);
        match chan.buffer.pop_front() {
            Some(value) => {
                chan.grant_free_slots(&mut wakers);
                drop(chan);
                Ok(value)
            }
            None if chan.senders == 0 || chan.closed => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Closes the channel: every pending and future send fails and hands
    /// its value back. Values already buffered can still be received.
    pub fn close(&mut self) {
        let mut wakers = WakeList::new();
        let mut chan = lock(&self.shared);
        if !chan.closed {
            chan.closed = true;
            chan.send_waiters.wake_all(&mut wakers);
        }
        drop(chan);
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.close();
        // Drop buffered values now rather than when the last sender goes.
        let buffered = std::mem::take(&mut lock(&self.shared).buffer);
        drop(buffered);
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
        // A channel some producer keeps full would otherwise let the
        // receiving task run for ever (see `crate::coop`).
        std::task::ready!(crate::coop::poll_proceed(cx));
        let mut wakers = WakeList::new();
        let mut chan = lock(&self.receiver.shared);
        if let Some(value) = chan.buffer.pop_front() {
            chan.grant_free_slots(&mut wakers);
            return Poll::Ready(Some(value));
        }
        if chan.senders == 0 || chan.closed {
            return Poll::Ready(None);
        }
        match &mut chan.receiver_waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Recv").finish_non_exhaustive()
    }
}
