//! A channel that carries exactly one value from one task to another.
//!
//! [`channel`] returns a [`Sender`] and a [`Receiver`]. [`Sender::send`]
//! consumes the sender, so at most one value is ever sent; the receiver is
//! itself a future that resolves to that value, or to [`RecvError`] if the
//! sender was dropped without sending.
//!
//! ```
//! use spindle_rt::sync::oneshot;
//!
//! let (tx, rx) = oneshot::channel();
//! std::thread::spawn(move || {
//!     let _ = tx.send(6 * 7);
//! });
//! assert_eq!(futures::executor::block_on(rx), Ok(42));
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::waiters::lock;
use crate::loom::sync::{Arc, Mutex};

/// The channel's errors under tokio's path
/// (`tokio::sync::oneshot::error::RecvError`); the same types as
/// [`RecvError`] and [`TryRecvError`].
pub mod error {
    pub use super::{RecvError, TryRecvError};
}

/// Creates a oneshot channel: one [`Sender`], one [`Receiver`].
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Mutex::new(State {
        value: None,
        sender_gone: false,
        receiver_gone: false,
        receiver_waker: None,
        sender_waker: None,
    }));
    (Sender { shared: shared.clone() }, Receiver { shared })
}

struct State<T> {
    /// The sent value, until the receiver takes it.
    value: Option<T>,
    /// Set when the sender has sent or was dropped: no value can come
    /// after this unless it is already in `value`.
    sender_gone: bool,
    /// Set when the receiver was dropped or closed: sends fail from here on.
    receiver_gone: bool,
    /// The receiver's task, woken on send and on sender drop.
    receiver_waker: Option<Waker>,
    /// The task waiting in [`Sender::closed`], woken on receiver drop.
    sender_waker: Option<Waker>,
}

impl<T> State<T> {
    /// With `value` empty: true when it will stay empty, because the
    /// sender is gone or the receiver closed the channel (after which every
    /// send fails), as tokio's receiver reports it.
    fn no_value_can_come(&self) -> bool {
        self.sender_gone || self.receiver_gone
    }
}

/// The sending half; see [`channel`].
pub struct Sender<T> {
    shared: Arc<Mutex<State<T>>>,
}

/// The receiving half, a future of the sent value; see [`channel`].
///
/// Once it has produced its value (or an error), polling it again returns
/// `Err(RecvError)`.
pub struct Receiver<T> {
    shared: Arc<Mutex<State<T>>>,
}

/// No value will come: the sender was dropped without sending one, or the
/// receiver was closed before one was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("oneshot sender dropped without sending")
    }
}

impl std::error::Error for RecvError {}

/// Why [`Receiver::try_recv`] returned no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// No value yet, but the sender is still alive and may send one.
    Empty,
    /// No value, and none will come: the sender was dropped (or the value
    /// was already received).
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("oneshot channel empty"),
            TryRecvError::Closed => f.write_str("oneshot channel closed"),
        }
    }
}

impl std::error::Error for TryRecvError {}

impl<T> Sender<T> {
    /// Sends `value` and consumes the sender. Returns `Err(value)` if the
    /// receiver was already dropped or closed; the value then comes back
    /// unchanged.
    pub fn send(self, value: T) -> Result<(), T> {
        let waker;
        {
            let mut state = lock(&self.shared);
            if state.receiver_gone {
                return Err(value);
            }
            state.value = Some(value);
            state.sender_gone = true;
            waker = state.receiver_waker.take();
        }
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// True when the receiver was dropped or closed, so a send would fail.
    pub fn is_closed(&self) -> bool {
        lock(&self.shared).receiver_gone
    }

    /// Waits until the receiver is dropped or closed: lets a producer stop
    /// computing a value nobody will read.
    pub fn closed(&mut self) -> Closed<'_, T> {
        Closed { sender: self }
    }

    /// [`closed`](Sender::closed) as a poll function: `Ready` once the
    /// receiver is gone, else `Pending` with `cx`'s waker stored (only the
    /// latest is kept).
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = lock(&self.shared);
        if state.receiver_gone {
            return Poll::Ready(());
        }
        match &mut state.sender_waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut state = lock(&self.shared);
            state.sender_gone = true;
            state.receiver_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Sender").field("closed", &self.is_closed()).finish()
    }
}

/// Future returned by [`Sender::closed`]; resolves once the receiver is
/// gone.
#[must_use = "futures do nothing unless polled"]
pub struct Closed<'a, T> {
    sender: &'a mut Sender<T>,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().sender.poll_closed(cx)
    }
}

impl<T> fmt::Debug for Closed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Closed").finish_non_exhaustive()
    }
}

impl<T> Receiver<T> {
    /// Takes the value if it has been sent, without waiting.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] while no value was sent and one still may
    /// be; [`TryRecvError::Closed`] when none ever will: the sender was
    /// dropped, the value was already taken, or [`close`](Receiver::close)
    /// was called before a value arrived.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut state = lock(&self.shared);
        match state.value.take() {
            Some(value) => Ok(value),
            None if state.no_value_can_come() => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Waits for the value from synchronous code, parking the thread
    /// until it is sent or the sender is dropped: the bridge for a plain
    /// thread (or a [`spawn_blocking`](crate::spawn_blocking) closure)
    /// waiting on async work.
    ///
    /// # Errors
    /// [`RecvError`] as the `.await` of the receiver.
    ///
    /// # Panics
    /// On a thread that runs a spindle-rt runtime (inside `block_on`, or
    /// in a task): parking it would stop every task it runs. The message
    /// says "cannot block the current thread from within a spindle-rt
    /// runtime"; `.await` the receiver there.
    #[track_caller]
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        crate::sync::blocking::block_on("oneshot::Receiver::blocking_recv", self)
    }

    /// Closes the channel from the receiving side: a later `send` fails
    /// and the sender's [`Sender::closed`] resolves. A value sent before
    /// the close can still be received; if none was, `try_recv` says
    /// [`TryRecvError::Closed`] and awaiting the receiver fails at once,
    /// even while the sender is alive.
    pub fn close(&mut self) {
        let waker = {
            let mut state = lock(&self.shared);
            state.receiver_gone = true;
            state.sender_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        crate::coop::poll_budgeted(cx, |cx| {
            let mut state = lock(&self.shared);
            if let Some(value) = state.value.take() {
                return Poll::Ready(Ok(value));
            }
            if state.no_value_can_come() {
                return Poll::Ready(Err(RecvError));
            }
            match &mut state.receiver_waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.close();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Receiver").finish_non_exhaustive()
    }
}
