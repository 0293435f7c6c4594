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
use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::{Arc, Mutex, MutexGuard};

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
    let shared = Arc::new(Shared {
        counters: Counters { taken: AtomicUsize::new(0), waiting: AtomicBool::new(false) },
        chan: Mutex::new(Chan {
            buffer: VecDeque::with_capacity(capacity.min(1024)),
            capacity,
            reserved: 0,
            in_receiver: 0,
            senders: 1,
            closed: false,
            receiver_waker: None,
            send_waiters: WaitList::new(),
        }),
    });
    (Sender { shared: shared.clone() }, Receiver { shared, local: VecDeque::new() })
}

/// The channel: its locked state, and the two counters the receiver and
/// the senders exchange without the lock.
struct Shared<T> {
    chan: Mutex<Chan<T>>,
    counters: Counters,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, Chan<T>> {
        lock(&self.chan)
    }
}

/// Lock-free counters between the receiver's batch and the senders.
///
/// The receiver hands out its batch without the lock, and each value it
/// hands out frees a slot: it adds one to `taken`, and only if a sender
/// waits (`waiting`) does it take the lock to grant the slot. A sender
/// that finds no slot queues itself, sets `waiting`, and then counts the
/// free slots again. Both sides write (`SeqCst`) and then read the other's
/// counter (`SeqCst`), so at least one sees the other: either the receiver
/// sees `waiting` and grants, or the sender sees the new `taken` and takes
/// the slot itself (the store-buffering pattern; the loom model
/// `mpsc_backpressure_delivers_in_order` covers it).
struct Counters {
    /// Values of the receiver's current batch handed out so far; reset
    /// (under the lock) at each refill.
    taken: AtomicUsize,
    /// Whether `send_waiters` is non-empty; written under the lock.
    waiting: AtomicBool,
}

struct Chan<T> {
    buffer: VecDeque<T>,
    capacity: usize,
    /// Slots granted to waiting senders that have not yet polled to fill
    /// them. Invariant: `used() <= capacity`.
    reserved: usize,
    /// Values the receiver took into its own buffer in its last refill;
    /// their slots are released all at once at the next refill (see
    /// [`Receiver`]).
    in_receiver: usize,
    /// Live `Sender` handles.
    senders: usize,
    /// Set by the receiver's close or drop; never cleared.
    closed: bool,
    receiver_waker: Option<Waker>,
    /// Senders waiting for a slot, oldest first.
    send_waiters: WaitList<()>,
}

impl<T> Chan<T> {
    /// Slots in use: buffered here, in the receiver's batch and not yet
    /// handed out, or granted.
    fn used(&self, counters: &Counters) -> usize {
        let taken = counters.taken.load(SeqCst).min(self.in_receiver);
        self.buffer.len() + (self.in_receiver - taken) + self.reserved
    }

    /// Hands free slots to waiting senders, oldest first.
    fn grant_free_slots(&mut self, counters: &Counters, wakers: &mut WakeList) {
        while self.used(counters) < self.capacity && self.send_waiters.grant_front(wakers, |_| {}) {
            self.reserved += 1;
        }
        counters.waiting.store(!self.send_waiters.is_empty(), SeqCst);
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
    fn cancel_waiter(&mut self, id: WaiterId, counters: &Counters, wakers: &mut WakeList) {
        if let Cancelled::Granted(()) = self.send_waiters.cancel(id) {
            self.reserved -= 1;
            if !self.closed {
                self.grant_free_slots(counters, wakers);
            }
        }
        counters.waiting.store(!self.send_waiters.is_empty(), SeqCst);
    }
}

/// The sending half of a bounded channel; clone it for more producers.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving half of a bounded channel.
///
/// It receives in batches: when its own buffer is empty it takes the lock
/// once and moves *every* buffered value into it (swapping the two queues,
/// so no value is copied), and then hands them out without locking. With a
/// producer and the consumer on different worker threads, one lock per
/// batch instead of one per value is what keeps them from fighting over
/// the channel's lock. The batch's slots still count against the capacity
/// until the next refill, which releases them all and wakes waiting
/// senders: the channel never holds more than `capacity` values.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The current batch, owned by the receiver alone.
    local: VecDeque<T>,
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
        let mut chan = self.shared.lock();
        if chan.closed {
            return Err(TrySendError::Closed(value));
        }
        if !chan.send_waiters.is_empty() || chan.used(&self.shared.counters) >= chan.capacity {
            return Err(TrySendError::Full(value));
        }
        chan.push(value, &mut wakers);
        drop(chan);
        Ok(())
    }

    /// True once the receiver closed the channel or was dropped.
    pub fn is_closed(&self) -> bool {
        self.shared.lock().closed
    }

    /// The buffer size given to [`channel`].
    pub fn max_capacity(&self) -> usize {
        self.shared.lock().capacity
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        Sender { shared: self.shared.clone() }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut wakers = WakeList::new();
        let mut chan = self.shared.lock();
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
        let shared = &*this.sender.shared;
        let mut chan = shared.lock();
        let value = this.value.take().expect("Send polled after completion");
        if chan.closed {
            if let Some(id) = this.waiter.take() {
                chan.cancel_waiter(id, &shared.counters, &mut wakers);
            }
            return Poll::Ready(Err(SendError(value)));
        }
        match this.waiter {
            None => {
                if chan.send_waiters.is_empty() && chan.used(&shared.counters) < chan.capacity {
                    chan.push(value, &mut wakers);
                    return Poll::Ready(Ok(()));
                }
                let id = chan.send_waiters.push(cx.waker(), ());
                shared.counters.waiting.store(true, SeqCst);
                // Count again now that `waiting` is set: a slot the
                // receiver freed without seeing `waiting` is found here.
                chan.grant_free_slots(&shared.counters, &mut wakers);
                if chan.send_waiters.poll_grant(id, cx.waker()).is_some() {
                    chan.reserved -= 1;
                    chan.push(value, &mut wakers);
                    return Poll::Ready(Ok(()));
                }
                this.waiter = Some(id);
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
            let shared = &*self.sender.shared;
            let mut chan = shared.lock();
            chan.cancel_waiter(id, &shared.counters, &mut wakers);
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
        if let Some(value) = self.take_local() {
            return Ok(value);
        }
        let disconnected = {
            let mut wakers = WakeList::new();
            let mut chan = self.shared.lock();
            Receiver::refill(&self.shared.counters, &mut chan, &mut self.local, &mut wakers);
            chan.senders == 0 || chan.closed
        };
        match self.take_local() {
            Some(value) => Ok(value),
            None if disconnected => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    /// With the lock held and the batch used up: releases the old batch's
    /// slots, takes every buffered value as the new batch, and grants the
    /// freed slots to waiting senders.
    fn refill(counters: &Counters, chan: &mut Chan<T>, local: &mut VecDeque<T>, wakers: &mut WakeList) {
        debug_assert!(local.is_empty());
        std::mem::swap(&mut chan.buffer, local);
        chan.in_receiver = local.len();
        counters.taken.store(0, SeqCst);
        chan.grant_free_slots(counters, wakers);
    }

    /// Hands out the next value of the batch, freeing its slot; takes the
    /// lock only if a sender waits for one (see [`Counters`]).
    fn take_local(&mut self) -> Option<T> {
        let value = self.local.pop_front()?;
        let counters = &self.shared.counters;
        counters.taken.fetch_add(1, SeqCst);
        if counters.waiting.load(SeqCst) {
            let mut wakers = WakeList::new();
            let mut chan = self.shared.lock();
            chan.grant_free_slots(counters, &mut wakers);
            drop(chan);
        }
        Some(value)
    }

    /// Closes the channel: every pending and future send fails and hands
    /// its value back. Values already buffered can still be received.
    pub fn close(&mut self) {
        let mut wakers = WakeList::new();
        let mut chan = self.shared.lock();
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
        let buffered = std::mem::take(&mut self.shared.lock().buffer);
        drop(buffered);
        self.local.clear();
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
        let receiver = &mut self.get_mut().receiver;
        if let Some(value) = receiver.take_local() {
            return Poll::Ready(Some(value));
        }
        let shared = Arc::clone(&receiver.shared);
        let mut wakers = WakeList::new();
        let mut chan = shared.lock();
        Receiver::refill(&shared.counters, &mut chan, &mut receiver.local, &mut wakers);
        if !receiver.local.is_empty() {
            drop(chan);
            drop(wakers);
            return Poll::Ready(receiver.take_local());
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
