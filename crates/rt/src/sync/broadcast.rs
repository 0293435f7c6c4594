//! A multi-producer, multi-consumer broadcast channel: every receiver sees
//! every value sent after it subscribed, unless it falls too far behind.
//!
//! The channel keeps at most `capacity` values in a ring, each only until
//! every receiver that was subscribed when it was sent has received it
//! (that is what [`Sender::len`] counts). Each receiver
//! has its own position in the stream; a send that finds the ring full
//! overwrites the oldest value, and a receiver that had not read it yet
//! learns that on its next [`recv`](Receiver::recv):
//! [`RecvError::Lagged`] says how many it missed, and it goes on from the
//! oldest value still kept. So a slow receiver costs memory bounded by the
//! capacity and never slows the senders down; it loses messages instead.
//! (That is the trade of a chat room or a cache-invalidation feed. For
//! only the latest value use [`watch`](super::watch); for every value to
//! one consumer with backpressure, [`mpsc`](super::mpsc).)
//!
//! ```
//! use spindle_rt::sync::broadcast;
//!
//! let rt = spindle_rt::Builder::new_current_thread().build()?;
//! rt.block_on(async {
//!     let (tx, mut a) = broadcast::channel(16);
//!     let mut b = tx.subscribe();
//!     tx.send("hello").expect("receivers are alive");
//!     assert_eq!(a.recv().await, Ok("hello"));
//!     assert_eq!(b.recv().await, Ok("hello"));
//! });
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Wake-ups use [`Notify::notify_waiters`] with the same order as
//! [`watch`](super::watch): a receiver creates its `Notified` future, then
//! looks at the ring, then waits, so a send in between is not missed.

use super::Notify;
use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::{Arc, Mutex, MutexGuard};
use std::cmp::max;
use std::collections::VecDeque;
use std::fmt;

/// The channel's errors under tokio's path
/// (`tokio::sync::broadcast::error::RecvError`), for code written
/// against it; the same types as [`RecvError`], [`TryRecvError`] and
/// [`SendError`].
pub mod error {
    pub use super::{RecvError, SendError, TryRecvError};
}

/// A channel keeping the last `capacity` values.
///
/// # Panics
/// If `capacity` is 0.
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "a broadcast channel needs a capacity of at least 1");
    let shared = Arc::new(Shared {
        ring: Mutex::new(Ring {
            values: VecDeque::with_capacity(capacity),
            first_seq: 0,
            closed: false,
            receivers: 1,
        }),
        capacity,
        sent: Notify::new(),
        receivers_gone: Notify::new(),
        senders: AtomicUsize::new(1),
    });
    let rx = Receiver { shared: Arc::clone(&shared), next: 0 };
    (Sender { shared }, rx)
}

struct Shared<T> {
    ring: Mutex<Ring<T>>,
    capacity: usize,
    /// Woken (`notify_waiters`) by every send and by the last sender's
    /// drop.
    sent: Notify,
    /// Woken (`notify_waiters`) when the last receiver drops, for
    /// [`Sender::closed`].
    receivers_gone: Notify,
    senders: AtomicUsize,
}

/// The kept values.
///
/// Each value carries `rem`, how many receivers have yet to receive it:
/// the receivers alive when it was sent, less those that received it or
/// were dropped since. A receiver owes every value
/// from its position on, so the values still owed form a suffix of the
/// ring; the others are popped as soon as their count reaches 0 (only the
/// front one can, on a receive; several at once when a receiver drops).
/// So every value in `values` has `rem > 0`, and its length is
/// [`Sender::len`].
struct Ring<T> {
    values: VecDeque<Slot<T>>,
    /// The sequence number of `values[0]`.
    first_seq: u64,
    /// Every sender is gone.
    closed: bool,
    /// Live receivers.
    receivers: usize,
}

struct Slot<T> {
    value: T,
    /// Receivers that have yet to receive it; always > 0 in the ring.
    rem: usize,
}

impl<T> Ring<T> {
    fn end_seq(&self) -> u64 {
        self.first_seq + self.values.len() as u64
    }

    /// The index in `values` of a receiver's next value, and of every one
    /// after it (a lagged receiver's values start at the front).
    fn owed_from(&self, next: u64) -> usize {
        (max(next, self.first_seq) - self.first_seq) as usize
    }

    /// Pops the values nobody is owed any more off the front, to be
    /// dropped outside the lock.
    fn pop_received(&mut self) -> Vec<T> {
        let mut popped = Vec::new();
        while self.values.front().is_some_and(|slot| slot.rem == 0) {
            if let Some(slot) = self.values.pop_front() {
                self.first_seq += 1;
                popped.push(slot.value);
            }
        }
        popped
    }
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, Ring<T>> {
        // Nothing user-supplied runs under the lock but `T::clone`; a
        // panic there leaves the ring consistent.
        super::waiters::lock(&self.ring)
    }
}

/// The sending half; clone it for more producers, [`subscribe`](Sender::subscribe)
/// for more receivers.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// A receiving half: its own position in the stream.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The sequence number of the next value to receive.
    next: u64,
}

send_error! {
    /// [`Sender::send`] found no receiver; the value comes back.
    "no receiver of the broadcast channel is alive"
}

/// Why [`Receiver::recv`] returned no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvError {
    /// Every sender is gone and this receiver has read everything kept.
    Closed,
    /// This receiver fell behind: that many values were overwritten before
    /// it read them. The next `recv` returns the oldest value still kept.
    Lagged(u64),
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Closed => f.write_str("the broadcast channel is closed"),
            RecvError::Lagged(n) => write!(f, "the receiver lagged behind by {n} values"),
        }
    }
}

impl std::error::Error for RecvError {}

/// Why [`Receiver::try_recv`] returned no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing new yet.
    Empty,
    /// As [`RecvError::Closed`].
    Closed,
    /// As [`RecvError::Lagged`].
    Lagged(u64),
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("the broadcast channel has no new value"),
            TryRecvError::Closed => f.write_str("the broadcast channel is closed"),
            TryRecvError::Lagged(n) => write!(f, "the receiver lagged behind by {n} values"),
        }
    }
}

impl std::error::Error for TryRecvError {}

impl<T: Clone> Sender<T> {
    /// A sender of a new channel keeping the last `capacity` values, with
    /// no receiver yet (tokio's `broadcast::Sender::new`): receivers come
    /// from [`subscribe`](Sender::subscribe), and until there is one a
    /// [`send`](Sender::send) fails.
    ///
    /// ```
    /// use spindle_rt::sync::broadcast;
    ///
    /// let tx = broadcast::Sender::new(16);
    /// assert!(tx.send("nobody listens").is_err());
    /// let mut rx = tx.subscribe();
    /// tx.send("hello").expect("a receiver");
    /// assert_eq!(rx.try_recv(), Ok("hello"));
    /// ```
    ///
    /// # Panics
    /// If `capacity` is 0.
    pub fn new(capacity: usize) -> Sender<T> {
        channel(capacity).0
    }
}

impl<T> Sender<T> {
    /// Sends `value` to every receiver alive now, and returns how many
    /// that is. Never waits: when the ring is full the oldest value is
    /// dropped (receivers that had not read it will see
    /// [`RecvError::Lagged`]).
    ///
    /// # Errors
    /// No receiver is alive: the value comes back.
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let (receivers, overwritten) = {
            let mut ring = self.shared.lock();
            let receivers = ring.receivers;
            if receivers == 0 {
                return Err(SendError(value));
            }
            ring.values.push_back(Slot { value, rem: receivers });
            let overwritten = if ring.values.len() > self.shared.capacity {
                ring.first_seq += 1;
                ring.values.pop_front()
            } else {
                None
            };
            (receivers, overwritten)
        };
        // Outside the lock: a value's drop may do anything.
        drop(overwritten);
        self.shared.sent.notify_waiters();
        Ok(receivers)
    }

    /// A new receiver that will see the values sent from now on.
    pub fn subscribe(&self) -> Receiver<T> {
        let next = {
            let mut ring = self.shared.lock();
            ring.receivers += 1;
            ring.end_seq()
        };
        Receiver { shared: Arc::clone(&self.shared), next }
    }

    /// How many receivers are alive.
    pub fn receiver_count(&self) -> usize {
        self.shared.lock().receivers
    }

    /// Waits until every receiver is gone (returns at once if none is
    /// alive now): lets a producer stop making values nobody will read. A
    /// later [`subscribe`](Sender::subscribe) opens the channel again. As
    /// tokio's `closed`.
    pub async fn closed(&self) {
        loop {
            // Created before the check, so a drop in between is seen.
            let gone = self.shared.receivers_gone.notified();
            if self.receiver_count() == 0 {
                return;
            }
            gone.await;
        }
    }

    /// Whether `other` sends on the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// How many values are kept for receivers that have yet to receive
    /// them: a value counts from its send until every receiver that was
    /// subscribed then has received it (or was dropped), or until a send
    /// overwrites it. At most the channel's capacity.
    pub fn len(&self) -> usize {
        self.shared.lock().values.len()
    }

    /// Whether no value is waiting for any receiver; see
    /// [`len`](Sender::len).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.shared.senders.fetch_add(1, SeqCst);
        Sender { shared: Arc::clone(&self.shared) }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, SeqCst) == 1 {
            self.shared.lock().closed = true;
            self.shared.sent.notify_waiters();
        }
    }
}

impl<T: Clone> Receiver<T> {
    /// The next value for this receiver, waiting until one is sent.
    ///
    /// # Errors
    /// [`RecvError::Lagged`] once after falling behind (then the values
    /// go on from the oldest kept), [`RecvError::Closed`] when every
    /// sender is gone and nothing is left to read.
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        // One unit of budget per value (as tokio's): a receiver that never
        // catches up with its senders still yields.
        crate::coop::cooperative(self.recv_unbudgeted()).await
    }

    /// [`recv`](Receiver::recv) without the budget.
    async fn recv_unbudgeted(&mut self) -> Result<T, RecvError> {
        let shared = Arc::clone(&self.shared);
        loop {
            // Created before the look: see the module docs.
            let sent = shared.sent.notified();
            match self.try_recv() {
                Ok(value) => return Ok(value),
                Err(TryRecvError::Lagged(n)) => return Err(RecvError::Lagged(n)),
                Err(TryRecvError::Closed) => return Err(RecvError::Closed),
                Err(TryRecvError::Empty) => sent.await,
            }
        }
    }

    /// The next value if one is there, without waiting.
    ///
    /// # Errors
    /// As [`recv`](Receiver::recv), and [`TryRecvError::Empty`] when
    /// nothing new has been sent.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut ring = self.shared.lock();
        if self.next < ring.first_seq {
            let missed = ring.first_seq - self.next;
            self.next = ring.first_seq;
            return Err(TryRecvError::Lagged(missed));
        }
        let index = (self.next - ring.first_seq) as usize;
        let Some(slot) = ring.values.get_mut(index) else {
            return Err(if ring.closed { TryRecvError::Closed } else { TryRecvError::Empty });
        };
        self.next += 1;
        slot.rem -= 1;
        if slot.rem > 0 {
            return Ok(slot.value.clone());
        }
        // The last receiver it was kept for: only the front value can be
        // (see `Ring`), and it moves out instead of being cloned.
        debug_assert_eq!(index, 0, "only the oldest value can be received last");
        ring.first_seq += 1;
        let slot = ring.values.pop_front().expect("the value just received");
        Ok(slot.value)
    }

    /// Receives the next value from synchronous code, parking the thread
    /// until one is sent: the bridge for a plain thread (or a
    /// [`spawn_blocking`](crate::spawn_blocking) closure) following what
    /// async tasks broadcast.
    ///
    /// # Errors
    /// As [`recv`](Receiver::recv).
    ///
    /// # Panics
    /// On a thread that runs a spindle-rt runtime (inside `block_on`, or
    /// in a task): parking it would stop every task it runs. The message
    /// says "cannot block the current thread from within a spindle-rt
    /// runtime"; use `recv().await` there.
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Result<T, RecvError> {
        crate::sync::blocking::block_on("broadcast::Receiver::blocking_recv", self.recv())
    }

    /// Whether `other` receives from the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// A new receiver starting at the channel's tail, as tokio's: it gets
    /// the values sent from now on, not those this one has yet to receive
    /// (like [`Sender::subscribe`], for code that holds only a receiver).
    pub fn resubscribe(&self) -> Receiver<T> {
        let next = {
            let mut ring = self.shared.lock();
            ring.receivers += 1;
            ring.end_seq()
        };
        Receiver { shared: Arc::clone(&self.shared), next }
    }
}

impl<T> Receiver<T> {
    /// How many values were sent that this receiver has yet to receive,
    /// counting those it lagged behind on (overwritten: its next `recv`
    /// reports them as [`RecvError::Lagged`]).
    pub fn len(&self) -> usize {
        let end = self.shared.lock().end_seq();
        end.saturating_sub(self.next) as usize
    }

    /// Whether this receiver has received every value sent so far.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let (received, last) = {
            let mut ring = self.shared.lock();
            ring.receivers -= 1;
            // It will not receive what it owes: count it as received.
            let from = ring.owed_from(self.next);
            ring.values.range_mut(from..).for_each(|slot| slot.rem -= 1);
            (ring.pop_received(), ring.receivers == 0)
        };
        // Outside the lock: a value's drop may do anything.
        drop(received);
        if last {
            self.shared.receivers_gone.notify_waiters();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Sender").field("receivers", &self.receiver_count()).finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Receiver").field("next", &self.next).finish()
    }
}
