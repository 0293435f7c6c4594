//! The unbounded channel: sends never wait, and the buffer grows as it
//! must.
//!
//! Reach for it when a sender must not wait (a synchronous callback, a
//! `Drop`, a thread outside the runtime) and the rate of sends is bounded
//! by something else. Otherwise prefer the bounded [`channel`](super::channel):
//! with no backpressure, a consumer that falls behind lets the buffer,
//! and the process, grow without limit.
//!
//! The buffer is a `VecDeque` behind a lock, held for one push or pop and
//! never across a wake-up; the bounded channel is the lock-free one.

use super::{SendError, TryRecvError};
use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::{Arc, Mutex};
use crate::sync::waiters::lock;
use crate::sync::Notify;
use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::task::{Context, Poll, Waker};

/// Creates an unbounded channel: [`UnboundedSender::send`] never waits,
/// and the buffer grows as it must.
///
/// Reach for it when a sender must not wait (a synchronous callback, a
/// `Drop`, a thread outside the runtime) and the rate of sends is bounded
/// by something else. Otherwise prefer the bounded
/// [`channel`](super::channel): with no backpressure, a consumer that
/// falls behind lets the buffer, and the process, grow without limit. The
/// buffer is a `VecDeque` behind a lock held for one push or pop, never
/// across a wake-up; the bounded channel is the lock-free one.
///
/// ```
/// use spindle_rt::sync::mpsc;
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let (tx, mut rx) = mpsc::unbounded_channel();
///     // From a plain thread: `send` never waits, so it needs no runtime.
///     std::thread::spawn(move || {
///         for i in 0..3 {
///             tx.send(i).expect("the receiver is alive");
///         }
///     });
///     let mut got = Vec::new();
///     while let Some(v) = rx.recv().await {
///         got.push(v);
///     }
///     assert_eq!(got, [0, 1, 2]);
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State { queue: VecDeque::new(), receiver: None, closed: false }),
        senders: AtomicUsize::new(1),
        weak_senders: AtomicUsize::new(0),
        closed: Notify::new(),
    });
    (UnboundedSender { shared: Arc::clone(&shared) }, UnboundedReceiver { shared })
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Live senders. Decremented *before* the last one takes the lock to
    /// wake the receiver, so a receiver that looks under the lock either
    /// sees zero or has left its waker for that wake-up.
    senders: AtomicUsize,
    /// Live `WeakUnboundedSender`s (for `weak_count` only).
    weak_senders: AtomicUsize,
    /// Woken (`notify_waiters`) when the receiver closes the channel, for
    /// [`UnboundedSender::closed`].
    closed: Notify,
}

impl<T> Shared<T> {
    /// Marks the channel closed and resolves every `closed()`; returns
    /// the values still queued if `take_queue` (the receiver's drop), to
    /// be dropped outside the lock.
    fn close(&self, take_queue: bool) -> VecDeque<T> {
        let (newly, queued) = {
            let mut state = lock(&self.state);
            let newly = !state.closed;
            state.closed = true;
            let queued = if take_queue { std::mem::take(&mut state.queue) } else { VecDeque::new() };
            (newly, queued)
        };
        if newly {
            self.closed.notify_waiters();
        }
        queued
    }
}

struct State<T> {
    queue: VecDeque<T>,
    receiver: Option<Waker>,
    closed: bool,
}

/// The sending half of [`unbounded_channel`]; clone it for more
/// producers.
pub struct UnboundedSender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving half of [`unbounded_channel`].
pub struct UnboundedReceiver<T> {
    shared: Arc<Shared<T>>,
}

impl<T> UnboundedSender<T> {
    /// Queues `value` at once (never waits) and wakes the receiver.
    ///
    /// # Errors
    /// The receiver closed the channel or was dropped: the value comes
    /// back.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        let waker = {
            let mut state = lock(&self.shared.state);
            if state.closed {
                return Err(SendError(value));
            }
            state.queue.push_back(value);
            state.receiver.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Whether the receiver has closed the channel or is gone.
    pub fn is_closed(&self) -> bool {
        lock(&self.shared.state).closed
    }

    /// Waits until the receiver closes the channel or is dropped: lets a
    /// producer stop making values nobody will read.
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

    /// Whether `other` sends on the same channel as `self`.
    pub fn same_channel(&self, other: &UnboundedSender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// A [`WeakUnboundedSender`] for this channel: it does not keep the
    /// channel open, and becomes a sender again only while another lives.
    pub fn downgrade(&self) -> WeakUnboundedSender<T> {
        self.shared.weak_senders.fetch_add(1, SeqCst);
        WeakUnboundedSender { shared: Arc::clone(&self.shared) }
    }

    /// How many `UnboundedSender`s of this channel are alive.
    pub fn strong_count(&self) -> usize {
        self.shared.senders.load(SeqCst)
    }

    /// How many [`WeakUnboundedSender`]s of this channel are alive.
    pub fn weak_count(&self) -> usize {
        self.shared.weak_senders.load(SeqCst)
    }
}

/// An unbounded sender that does not keep the channel open; from
/// [`UnboundedSender::downgrade`]. As the bounded
/// [`WeakSender`](super::WeakSender): [`upgrade`](WeakUnboundedSender::upgrade)
/// fails for ever once the last `UnboundedSender` is gone.
pub struct WeakUnboundedSender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> WeakUnboundedSender<T> {
    /// An `UnboundedSender` for the channel, if any is still alive.
    pub fn upgrade(&self) -> Option<UnboundedSender<T>> {
        let senders = &self.shared.senders;
        let mut cur = senders.load(SeqCst);
        loop {
            // Never from 0: the receiver may already have seen it.
            if cur == 0 {
                return None;
            }
            match senders.compare_exchange_weak(cur, cur + 1, SeqCst, SeqCst) {
                Ok(_) => return Some(UnboundedSender { shared: Arc::clone(&self.shared) }),
                Err(actual) => cur = actual,
            }
        }
    }

    /// How many `UnboundedSender`s of this channel are alive.
    pub fn strong_count(&self) -> usize {
        self.shared.senders.load(SeqCst)
    }

    /// How many `WeakUnboundedSender`s of this channel are alive (this one
    /// too).
    pub fn weak_count(&self) -> usize {
        self.shared.weak_senders.load(SeqCst)
    }
}

impl<T> Clone for WeakUnboundedSender<T> {
    fn clone(&self) -> Self {
        self.shared.weak_senders.fetch_add(1, SeqCst);
        WeakUnboundedSender { shared: Arc::clone(&self.shared) }
    }
}

impl<T> Drop for WeakUnboundedSender<T> {
    fn drop(&mut self) {
        self.shared.weak_senders.fetch_sub(1, SeqCst);
    }
}

impl<T> fmt::Debug for WeakUnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::WeakUnboundedSender").finish_non_exhaustive()
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> UnboundedSender<T> {
        self.shared.senders.fetch_add(1, SeqCst);
        UnboundedSender { shared: Arc::clone(&self.shared) }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, SeqCst) == 1 {
            // The last sender: a waiting receiver must learn that nothing
            // more will come.
            let waker = lock(&self.shared.state).receiver.take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

impl<T> UnboundedReceiver<T> {
    /// Receives the next value, waiting while none is queued. `None` once
    /// the queue is empty and every sender is gone (or the channel was
    /// closed).
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// [`recv`](UnboundedReceiver::recv) as a poll function.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        // A producer that never stops would otherwise keep this task
        // running for ever (see `crate::coop`).
        crate::coop::poll_budgeted(cx, |cx| self.poll_recv_unbudgeted(cx))
    }

    /// [`poll_recv`](UnboundedReceiver::poll_recv) without the budget.
    fn poll_recv_unbudgeted(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut state = lock(&self.shared.state);
        if let Some(value) = state.queue.pop_front() {
            return Poll::Ready(Some(value));
        }
        if state.closed || self.shared.senders.load(SeqCst) == 0 {
            return Poll::Ready(None);
        }
        match &mut state.receiver {
            Some(w) if w.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Receives up to `limit` queued values into `buffer` (appended),
    /// waiting only while none is queued; returns how many it added. 0
    /// only when `limit` is 0 (at once) or nothing more can come.
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        poll_fn(|cx| self.poll_recv_many(cx, buffer, limit)).await
    }

    /// [`recv_many`](UnboundedReceiver::recv_many) as a poll function.
    pub fn poll_recv_many(&mut self, cx: &mut Context<'_>, buffer: &mut Vec<T>, limit: usize) -> Poll<usize> {
        if limit == 0 {
            return Poll::Ready(0);
        }
        let Some(first) = std::task::ready!(self.poll_recv(cx)) else {
            return Poll::Ready(0);
        };
        buffer.push(first);
        let mut state = lock(&self.shared.state);
        let more = state.queue.len().min(limit - 1);
        buffer.extend(state.queue.drain(..more));
        Poll::Ready(1 + more)
    }

    /// Receives the next value from synchronous code, parking the thread
    /// while none is queued. `None` as [`recv`](UnboundedReceiver::recv).
    ///
    /// # Panics
    /// On a thread that runs a spindle-rt runtime (inside `block_on`, or
    /// in a task): parking it would stop every task it runs. The message
    /// says "cannot block the current thread from within a spindle-rt
    /// runtime".
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        crate::sync::blocking::block_on("mpsc::UnboundedReceiver::blocking_recv", self.recv())
    }

    /// [`recv_many`](UnboundedReceiver::recv_many) from synchronous code.
    ///
    /// # Panics
    /// As [`blocking_recv`](UnboundedReceiver::blocking_recv).
    #[track_caller]
    pub fn blocking_recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        crate::sync::blocking::block_on(
            "mpsc::UnboundedReceiver::blocking_recv_many",
            self.recv_many(buffer, limit),
        )
    }

    /// Takes the next value if one is queued, without waiting.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] if a sender may still send,
    /// [`TryRecvError::Disconnected`] if nothing more will come.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut state = lock(&self.shared.state);
        match state.queue.pop_front() {
            Some(value) => Ok(value),
            None if state.closed || self.shared.senders.load(SeqCst) == 0 => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Closes the channel: every later send fails and hands its value
    /// back, and every [`UnboundedSender::closed`] resolves. Values already
    /// queued can still be received.
    pub fn close(&mut self) {
        self.shared.close(false);
    }

    /// True once the channel is closed or every sender is gone. Values
    /// may still be queued.
    pub fn is_closed(&self) -> bool {
        lock(&self.shared.state).closed || self.shared.senders.load(SeqCst) == 0
    }

    /// How many `UnboundedSender`s of this channel are alive.
    pub fn sender_strong_count(&self) -> usize {
        self.shared.senders.load(SeqCst)
    }

    /// How many `WeakUnboundedSender`s of this channel are alive.
    pub fn sender_weak_count(&self) -> usize {
        self.shared.weak_senders.load(SeqCst)
    }

    /// How many values are queued.
    pub fn len(&self) -> usize {
        lock(&self.shared.state).queue.len()
    }

    /// Whether no value is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for UnboundedReceiver<T> {
    fn drop(&mut self) {
        // Close, then drop the queued values here rather than with the
        // last sender (outside the lock: a value's drop may do anything).
        drop(self.shared.close(true));
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::UnboundedSender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::UnboundedReceiver").field("queued", &self.len()).finish()
    }
}
