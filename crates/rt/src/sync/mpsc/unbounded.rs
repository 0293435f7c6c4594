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
    });
    (UnboundedSender { shared: Arc::clone(&shared) }, UnboundedReceiver { shared })
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Live senders. Decremented *before* the last one takes the lock to
    /// wake the receiver, so a receiver that looks under the lock either
    /// sees zero or has left its waker for that wake-up.
    senders: AtomicUsize,
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
        std::task::ready!(crate::coop::poll_proceed(cx));
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
    /// back. Values already queued can still be received.
    pub fn close(&mut self) {
        lock(&self.shared.state).closed = true;
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
        let queued = {
            let mut state = lock(&self.shared.state);
            state.closed = true;
            std::mem::take(&mut state.queue)
        };
        drop(queued);
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
