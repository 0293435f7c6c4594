//! A multi-producer, multi-consumer broadcast channel: every receiver sees
//! every value sent after it subscribed, unless it falls too far behind.
//!
//! The channel keeps the last `capacity` values in a ring. Each receiver
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
use std::collections::VecDeque;
use std::fmt;

/// A channel keeping the last `capacity` values.
///
/// # Panics
/// If `capacity` is 0.
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "a broadcast channel needs a capacity of at least 1");
    let shared = Arc::new(Shared {
        ring: Mutex::new(Ring { values: VecDeque::with_capacity(capacity), first_seq: 0, closed: false }),
        capacity,
        sent: Notify::new(),
        senders: AtomicUsize::new(1),
        receivers: AtomicUsize::new(1),
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
    senders: AtomicUsize,
    receivers: AtomicUsize,
}

struct Ring<T> {
    values: VecDeque<T>,
    /// The sequence number of `values[0]`.
    first_seq: u64,
    /// Every sender is gone.
    closed: bool,
}

impl<T> Ring<T> {
    fn end_seq(&self) -> u64 {
        self.first_seq + self.values.len() as u64
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

impl<T> Sender<T> {
    /// Sends `value` to every receiver alive now, and returns how many
    /// that is. Never waits: when the ring is full the oldest value is
    /// dropped (receivers that had not read it will see
    /// [`RecvError::Lagged`]).
    ///
    /// # Errors
    /// No receiver is alive: the value comes back.
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let receivers = self.shared.receivers.load(SeqCst);
        if receivers == 0 {
            return Err(SendError(value));
        }
        let overwritten = {
            let mut ring = self.shared.lock();
            ring.values.push_back(value);
            if ring.values.len() > self.shared.capacity {
                ring.first_seq += 1;
                ring.values.pop_front()
            } else {
                None
            }
        };
        // Outside the lock: a value's drop may do anything.
        drop(overwritten);
        self.shared.sent.notify_waiters();
        Ok(receivers)
    }

    /// A new receiver that will see the values sent from now on.
    pub fn subscribe(&self) -> Receiver<T> {
        self.shared.receivers.fetch_add(1, SeqCst);
        let next = self.shared.lock().end_seq();
        Receiver { shared: Arc::clone(&self.shared), next }
    }

    /// How many receivers are alive.
    pub fn receiver_count(&self) -> usize {
        self.shared.receivers.load(SeqCst)
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
        let ring = self.shared.lock();
        if self.next < ring.first_seq {
            let missed = ring.first_seq - self.next;
            self.next = ring.first_seq;
            return Err(TryRecvError::Lagged(missed));
        }
        let index = (self.next - ring.first_seq) as usize;
        match ring.values.get(index) {
            Some(value) => {
                let value = value.clone();
                self.next += 1;
                Ok(value)
            }
            None if ring.closed => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }

    /// A new receiver at the same position as this one.
    pub fn resubscribe(&self) -> Receiver<T> {
        self.shared.receivers.fetch_add(1, SeqCst);
        Receiver { shared: Arc::clone(&self.shared), next: self.next }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.shared.receivers.fetch_sub(1, SeqCst);
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
