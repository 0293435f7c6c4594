//! [`JoinHandle`]: awaiting a task's output, aborting it, detaching it.

use super::error::JoinError;
use super::raw::RawTask;
use super::{AbortHandle, TaskId};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

/// An owned permission to join a task: a future of its output.
///
/// Awaiting it yields `Ok(output)`, or a [`JoinError`] if the task was
/// cancelled or panicked. Dropping it detaches the task: the task keeps
/// running and its output is dropped when it completes (by the runner, on
/// the scheduler's thread), or now, by this drop, if it already completed.
///
/// Polling it again after it returned `Ready` panics.
pub struct JoinHandle<T> {
    /// Invariant: owns one counted reference (the invariant on `RawTask`),
    /// to a cell whose future's output is `T`.
    raw: RawTask,
    _output: PhantomData<T>,
}

// SAFETY: through a JoinHandle the output `T` is taken (or dropped) on the
// handle's thread, so `T: Send` is needed and enough for the output. Its
// other operations touch only atomics, the join waker (a `Waker` is `Send +
// Sync`) and `Schedule::schedule` (abort), which `new_task` requires to be
// `Send + Sync` and `new_local_task`'s caller vouches for. The future itself
// is never touched: an abort only marks the task and schedules it, and the
// scheduler's runner drops the future.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` offers only `abort`, `is_finished` and `id`, which
// are atomic operations plus `schedule` as above.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// # Safety
    ///
    /// `raw` comes with one counted reference to a cell whose output is `T`.
    pub(super) unsafe fn from_raw(raw: RawTask) -> JoinHandle<T> {
        JoinHandle { raw, _output: PhantomData }
    }

    /// Asks for the task to be cancelled. Its future is dropped by the
    /// scheduler's runner, not here: at once if it is idle (it is scheduled
    /// for that), or when its current poll returns. If the task completes in
    /// that poll anyway, the output wins. Aborting a finished task does
    /// nothing. Awaiting the handle then yields
    /// [`JoinError::is_cancelled`].
    ///
    /// A [`spawn_blocking`](crate::spawn_blocking) job is a task whose one
    /// poll runs the closure: aborted before a pool thread takes it, the
    /// closure is dropped unrun; once it runs, the abort has no effect (a
    /// thread cannot be interrupted) and the output wins, as in tokio.
    pub fn abort(&self) {
        self.raw.remote_abort();
    }

    /// A cloneable, `Send + Sync` handle that can abort the task (as
    /// [`abort`](JoinHandle::abort) does) but not join it: for code that
    /// must be able to cancel the task while another owns the output.
    pub fn abort_handle(&self) -> AbortHandle {
        AbortHandle::new(self.raw)
    }

    /// Whether the task has completed (with an output, cancelled or
    /// panicked); if so, awaiting the handle will not wait.
    pub fn is_finished(&self) -> bool {
        self.raw.state().load().is_complete()
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.raw.header().id
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        crate::coop::poll_budgeted(cx, |cx| {
            let mut ret: Poll<Self::Output> = Poll::Pending;
            // SAFETY: we are the JoinHandle, with a reference, and `ret` has
            // the type the cell's output has (the invariant on `raw`).
            unsafe { self.raw.try_read_output((&mut ret as *mut Poll<Self::Output>).cast(), cx.waker()) };
            ret
        })
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        // SAFETY: we are the JoinHandle, giving up our reference.
        unsafe { self.raw.drop_join_handle() }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").field("id", &self.id()).field("state", &self.raw.state().load()).finish()
    }
}
