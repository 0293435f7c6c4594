//! A bounded multi-producer, single-consumer channel (and, for senders
//! that must never wait, [`unbounded_channel`]).
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

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::waiters::{lock, Cancelled, WaitList, WaiterId, WakeList};
use crate::loom::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
use crate::loom::sync::{Arc, Mutex};

mod lockfree;
mod unbounded;

pub use self::unbounded::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use self::lockfree::{Locked, NoPermit, Permits, Ring};

/// Creates a bounded channel holding at most `capacity` values.
///
/// The buffer (`capacity` rounded up to a power of two slots) is
/// allocated at once.
///
/// # Panics
///
/// If `capacity` is 0: a rendezvous channel (a send completes only when a
/// receive takes it) is not offered; use a capacity of 1 for the nearest
/// behaviour. Also if `capacity` is too large to allocate.
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "mpsc::channel: capacity must be at least 1 (rendezvous channels are not supported)"
    );
    let shared = Arc::new(Shared {
        ring: Ring::new(capacity),
        permits: Permits::new(capacity),
        rx_waiting: AtomicBool::new(false),
        senders: AtomicUsize::new(1),
        capacity,
        slow: Mutex::new(Slow { receiver_waker: None, send_waiters: WaitList::new() }),
    });
    (Sender { shared: shared.clone() }, Receiver { shared })
}

/// The channel.
///
/// The fast paths take no lock: a send takes a permit (a free slot) from
/// [`Permits`] and pushes into the [`Ring`]; a receive pops from the ring
/// and gives the permit back (see the `lockfree` module). The lock guards only
/// the slow paths: senders waiting for a slot (the channel is full) and
/// the receiver's waker (the channel is empty).
///
/// The receiver's wake-up: a receiver that finds the ring empty stores its
/// waker (under the lock), sets `rx_waiting` and looks at the ring again;
/// a sender publishes its value and then reads `rx_waiting`, and only if
/// it is set takes the lock to wake the receiver. Both sides write, issue
/// a `SeqCst` fence, and then read the other's location, so at least one
/// sees the other (the store-buffering pattern): either the receiver finds
/// the value on its second look, or the sender finds the flag and wakes
/// it. (Fences rather than `SeqCst` accesses: loom models those exactly.)
struct Shared<T> {
    ring: Ring<T>,
    permits: Permits,
    /// Set by a receiver about to wait; cleared by whoever takes its waker.
    rx_waiting: AtomicBool,
    /// Live `Sender` handles.
    senders: AtomicUsize,
    capacity: usize,
    slow: Mutex<Slow>,
}

/// The locked part: what waits.
struct Slow {
    receiver_waker: Option<Waker>,
    /// Senders waiting for a slot, oldest first. Non-empty exactly while
    /// the permit word's waiters flag is set (both change under the lock).
    send_waiters: WaitList<()>,
}

impl<T> Shared<T> {
    /// Pushes a value a permit was taken for, and wakes a waiting receiver.
    fn push(&self, value: T) {
        self.ring.push(value);
        fence(Ordering::SeqCst);
        if self.rx_waiting.load(Ordering::Relaxed) {
            self.wake_receiver();
        }
    }

    fn wake_receiver(&self) {
        let waker = {
            let mut slow = lock(&self.slow);
            self.rx_waiting.store(false, Ordering::Relaxed);
            slow.receiver_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Gives back the permit of a received value: to the free count, or
    /// (senders wait) to the oldest waiting sender.
    fn release_permit(&self) {
        if self.permits.try_release() {
            return;
        }
        let mut wakers = WakeList::new();
        let mut slow = lock(&self.slow);
        self.release_locked(&mut slow, &mut wakers);
        drop(slow);
    }

    /// With the lock held: hands one permit to the oldest waiting sender,
    /// or back to the free count if none waits.
    fn release_locked(&self, slow: &mut Slow, wakers: &mut WakeList) {
        if slow.send_waiters.grant_front(wakers, |_| {}) {
            if slow.send_waiters.is_empty() {
                self.permits.no_more_waiters(0);
            }
        } else {
            self.permits.no_more_waiters(1);
        }
    }

    /// A sender waiter gives up (dropped, or the channel closed): a permit
    /// it was granted goes to the next waiter.
    fn cancel_waiter(&self, slow: &mut Slow, id: WaiterId, wakers: &mut WakeList) {
        match slow.send_waiters.cancel(id) {
            Cancelled::Granted(()) => self.release_locked(slow, wakers),
            Cancelled::Queued(()) if slow.send_waiters.is_empty() => self.permits.no_more_waiters(0),
            Cancelled::Queued(()) | Cancelled::Gone => {}
        }
    }
}

/// The sending half of a bounded channel; clone it for more producers.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving half of a bounded channel.
///
/// Each value it receives frees its slot at once (a waiting sender, if
/// any, gets it); receiving takes no lock unless the channel is empty (to
/// wait) or a sender waits for the freed slot.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

send_error! {
    /// The channel is closed; the value that could not be sent is inside.
    "channel closed"
}

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
        match self.shared.permits.try_acquire() {
            Ok(()) => {
                self.shared.push(value);
                Ok(())
            }
            Err(NoPermit::Full) => Err(TrySendError::Full(value)),
            Err(NoPermit::Closed) => Err(TrySendError::Closed(value)),
        }
    }

    /// True once the receiver closed the channel or was dropped.
    pub fn is_closed(&self) -> bool {
        self.shared.permits.is_closed()
    }

    /// The buffer size given to [`channel`].
    pub fn max_capacity(&self) -> usize {
        self.shared.capacity
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
        // stored its waker (see `Recv::poll`); every value this sender
        // pushed is published before.
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
        let shared = &*this.sender.shared;
        let value = this.value.take().expect("Send polled after completion");
        match this.waiter {
            None => {
                match shared.permits.try_acquire() {
                    Ok(()) => {
                        shared.push(value);
                        return Poll::Ready(Ok(()));
                    }
                    Err(NoPermit::Closed) => return Poll::Ready(Err(SendError(value))),
                    Err(NoPermit::Full) => {}
                }
                let mut slow = lock(&shared.slow);
                match shared.permits.acquire_or_wait() {
                    Locked::Acquired => {
                        drop(slow);
                        shared.push(value);
                        return Poll::Ready(Ok(()));
                    }
                    Locked::Closed => return Poll::Ready(Err(SendError(value))),
                    Locked::MustWait => this.waiter = Some(slow.send_waiters.push(cx.waker(), ())),
                }
            }
            Some(id) => {
                let mut wakers = WakeList::new();
                let mut slow = lock(&shared.slow);
                if shared.permits.is_closed() {
                    this.waiter = None;
                    shared.cancel_waiter(&mut slow, id, &mut wakers);
                    return Poll::Ready(Err(SendError(value)));
                }
                if slow.send_waiters.poll_grant(id, cx.waker()).is_some() {
                    this.waiter = None;
                    drop(slow);
                    shared.push(value);
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
            let mut slow = lock(&shared.slow);
            shared.cancel_waiter(&mut slow, id, &mut wakers);
            drop(slow);
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

    /// True when no more values can come: every sender is gone, or the
    /// channel is closed.
    fn is_disconnected(&self) -> bool {
        self.shared.senders.load(Ordering::SeqCst) == 0 || self.shared.permits.is_closed()
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

    /// Closes the channel: every pending and future send fails and hands
    /// its value back. Values already buffered can still be received.
    pub fn close(&mut self) {
        let mut wakers = WakeList::new();
        let slow = lock(&self.shared.slow);
        if !self.shared.permits.is_closed() {
            self.shared.permits.close();
            slow.send_waiters.wake_all(&mut wakers);
        }
        drop(slow);
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
        // A channel some producer keeps full would otherwise let the
        // receiving task run for ever (see `crate::coop`).
        std::task::ready!(crate::coop::poll_proceed(cx));
        let receiver = &mut *self.get_mut().receiver;
        if let Some(value) = receiver.pop() {
            return Poll::Ready(Some(value));
        }
        let shared = Arc::clone(&receiver.shared);
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
            return Poll::Ready(receiver.pop());
        }
        if receiver.is_disconnected() {
            return Poll::Ready(receiver.pop());
        }
        Poll::Pending
    }
}

impl<T> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Recv").finish_non_exhaustive()
    }
}
