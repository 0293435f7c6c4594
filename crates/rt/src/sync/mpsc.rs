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
//! # Slots first, values second: permits
//!
//! Every send is two steps: take a *permit* (one free slot), then put the
//! value in it. [`Sender::send`] does both; [`Sender::reserve`] does only
//! the first and hands you the slot as a [`Permit`], whose
//! [`send`](Permit::send) does the second without waiting and without
//! failing. A permit takes part in the same first-come queue as `send` (a
//! slot freed while senders wait goes to the oldest of them, permit or
//! not), counts against [`Sender::capacity`], and gives its slot back (to
//! the next waiting sender, if any) when it is dropped unused.
//!
//! That split is what lets backpressure compose with select-style code.
//! `send(value)` owns the value while it waits: a `select!` that drops it
//! for another branch drops the value too. Waiting in `reserve()` instead
//! holds no value, so losing the race costs nothing; and once the permit
//! is in hand there is room, so the value is moved into the channel only
//! when it surely fits. The same holds for a value that is expensive to
//! make: make it after the permit, not before. [`Sender::reserve_owned`]
//! is the same, holding the sender by value ([`OwnedPermit`]) so the
//! permit can move into a spawned task.
//!
//! # Closing
//!
//! The receiver's [`Receiver::close`] (or its drop) makes every later send
//! and reserve fail with the value handed back, and resolves every
//! [`Sender::closed`]. Values already buffered can still be received, and
//! so can those of permits reserved before the close: [`Receiver::recv`]
//! returns `None` only once the buffer is empty and either every sender is
//! gone or the channel is closed with every permit given back.
//!
//! A [`WeakSender`] ([`Sender::downgrade`]) does not count as a sender: it
//! does not keep the channel open, and [`WeakSender::upgrade`] fails once
//! the last `Sender` is gone.
//!
//! # Outside the runtime
//!
//! [`Sender::blocking_send`] and [`Receiver::blocking_recv`] park the
//! calling thread instead of returning a future, for synchronous code on a
//! thread of its own (or in `spawn_blocking`). They panic on a thread that
//! runs a runtime, where parking would stop every task on it.
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

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::waiters::{lock, Cancelled, WaitList, WaiterId, WakeList};
use super::Notify;
use crate::loom::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
use crate::loom::sync::{Arc, Mutex};

pub mod error;
mod lockfree;
mod permit;
mod receiver;
mod sender;
mod unbounded;

pub use self::error::{SendError, SendTimeoutError, TryRecvError, TrySendError};
pub use self::permit::{OwnedPermit, Permit};
pub use self::receiver::{Receiver, Recv};
pub use self::sender::{Send, Sender, WeakSender};
pub use self::unbounded::{unbounded_channel, UnboundedReceiver, UnboundedSender, WeakUnboundedSender};

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
        weak_senders: AtomicUsize::new(0),
        capacity,
        slow: Mutex::new(Slow { receiver_waker: None, send_waiters: WaitList::new() }),
        closed: Notify::new(),
    });
    (Sender::new(shared.clone()), Receiver::new(shared))
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
///
/// The receiver's other wake-up, "nothing more will come", has two
/// sources: the last `Sender` leaving, and (once the channel is closed)
/// the last outstanding permit coming home unused. Each changes its
/// counter and *then* takes the lock to take the receiver's waker, while
/// the receiver stores its waker under the lock and *then* reads the
/// counters; the lock orders the two, so one of them sees the other.
struct Shared<T> {
    ring: Ring<T>,
    permits: Permits,
    /// Set by a receiver about to wait; cleared by whoever takes its waker.
    rx_waiting: AtomicBool,
    /// Live `Sender` handles (an `OwnedPermit` holds one).
    senders: AtomicUsize,
    /// Live `WeakSender` handles (for `weak_count` only).
    weak_senders: AtomicUsize,
    capacity: usize,
    slow: Mutex<Slow>,
    /// Woken (`notify_waiters`) when the receiver closes the channel, for
    /// [`Sender::closed`].
    closed: Notify,
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

    /// Gives back a permit a sender took and did not use (a dropped
    /// [`Permit`]): as [`release_permit`](Self::release_permit), and if
    /// that was the last one out of a closed channel, the receiver learns
    /// that nothing more will come.
    fn release_unused(&self) {
        self.release_permit();
        self.wake_receiver_if_drained();
    }

    /// Wakes the receiver if the channel is closed and every permit is
    /// home (see the struct docs for why this cannot miss a receiver that
    /// is about to wait).
    fn wake_receiver_if_drained(&self) {
        if self.permits.is_closed_and_idle(self.capacity) {
            self.wake_receiver();
        }
    }

    /// With the lock held: hands one permit to the oldest waiting sender,
    /// or back to the free count if none waits (or the channel is closed:
    /// the waiters are leaving).
    fn release_locked(&self, slow: &mut Slow, wakers: &mut WakeList) {
        if self.permits.is_closed() {
            self.permits.release_closed();
        } else if slow.send_waiters.grant_front(wakers, |_| {}) {
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

    /// Closes the channel (the receiver's side): every waiting and later
    /// acquire fails, and every [`Sender::closed`] resolves.
    fn close(&self) {
        let mut wakers = WakeList::new();
        let slow = lock(&self.slow);
        let newly = !self.permits.is_closed();
        if newly {
            self.permits.close();
            slow.send_waiters.wake_all(&mut wakers);
        }
        drop(slow);
        if newly {
            self.closed.notify_waiters();
        }
    }
}

/// Takes one permit for a sender: the lock-free attempt first, then a
/// place in the first-come queue of waiting senders. Both `send` and
/// `reserve` wait through it, so they share one queue and one fairness
/// rule. Cancel-safe: dropped while queued it leaves the queue; dropped
/// after a slot was granted to it, it passes the slot on.
struct Acquire<'a, T> {
    shared: &'a Shared<T>,
    /// Our place in the send queue, once we had to wait.
    waiter: Option<WaiterId>,
}

/// The receiver closed the channel before a permit was taken.
struct Closed;

impl<'a, T> Acquire<'a, T> {
    fn new(shared: &'a Shared<T>) -> Acquire<'a, T> {
        Acquire { shared, waiter: None }
    }
}

impl<T> Future for Acquire<'_, T> {
    /// `Ok(())`: the caller now holds one permit.
    type Output = Result<(), Closed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        crate::coop::poll_budgeted(cx, |cx| {
            let this = &mut *self;
            let shared = this.shared;
            match this.waiter {
                None => {
                    match shared.permits.try_acquire() {
                        Ok(()) => return Poll::Ready(Ok(())),
                        Err(NoPermit::Closed) => return Poll::Ready(Err(Closed)),
                        Err(NoPermit::Full) => {}
                    }
                    let mut slow = lock(&shared.slow);
                    match shared.permits.acquire_or_wait() {
                        Locked::Acquired => return Poll::Ready(Ok(())),
                        Locked::Closed => return Poll::Ready(Err(Closed)),
                        Locked::MustWait => this.waiter = Some(slow.send_waiters.push(cx.waker(), ())),
                    }
                }
                Some(id) => {
                    let mut wakers = WakeList::new();
                    let mut slow = lock(&shared.slow);
                    if shared.permits.is_closed() {
                        this.waiter = None;
                        shared.cancel_waiter(&mut slow, id, &mut wakers);
                        drop(slow);
                        shared.wake_receiver_if_drained();
                        return Poll::Ready(Err(Closed));
                    }
                    if slow.send_waiters.poll_grant(id, cx.waker()).is_some() {
                        this.waiter = None;
                        return Poll::Ready(Ok(()));
                    }
                }
            }
            Poll::Pending
        })
    }
}

impl<T> Drop for Acquire<'_, T> {
    fn drop(&mut self) {
        if let Some(id) = self.waiter.take() {
            let mut wakers = WakeList::new();
            let shared = self.shared;
            let mut slow = lock(&shared.slow);
            shared.cancel_waiter(&mut slow, id, &mut wakers);
            drop(slow);
            shared.wake_receiver_if_drained();
        }
    }
}
