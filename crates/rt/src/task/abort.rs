//! [`AbortHandle`]: the right to cancel a task, without its output.

use super::raw::RawTask;
use super::TaskId;
use std::fmt;

/// A cloneable handle that cancels a task: [`JoinHandle::abort`] without
/// the output, so it can be shared (it is `Clone + Send + Sync`) by
/// whoever may need to stop the task, while one owner keeps the
/// [`JoinHandle`] to await the result.
///
/// Made by [`JoinHandle::abort_handle`] or [`JoinSet::spawn`]. An abort
/// through it is exactly [`JoinHandle::abort`]: the task is marked
/// cancelled and scheduled, its future is dropped by the scheduler's runner
/// (at once if the task is idle, or when its current poll returns), and the
/// `JoinHandle` then yields a [`JoinError`] with
/// [`is_cancelled`](super::JoinError::is_cancelled), unless the task completed
/// first, in which case the output wins. Dropping an `AbortHandle` does
/// nothing to the task.
///
/// The handle holds one counted reference to the task's cell (as a waker
/// does), not the output: the cell outlives every handle, so aborting a
/// task that finished long ago is safe and does nothing.
///
/// ```
/// let rt = spindle_rt::Builder::new_multi_thread().worker_threads(2).build()?;
/// rt.block_on(async {
///     let task = spindle_rt::spawn(std::future::pending::<()>());
///     let abort = task.abort_handle();
///     // Another task cancels it; this one keeps the JoinHandle.
///     spindle_rt::spawn(async move { abort.abort() }).await.unwrap();
///     let err = task.await.unwrap_err();
///     assert!(err.is_cancelled());
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// [`JoinHandle`]: super::JoinHandle
/// [`JoinHandle::abort`]: super::JoinHandle::abort
/// [`JoinHandle::abort_handle`]: super::JoinHandle::abort_handle
/// [`JoinSet::spawn`]: super::JoinSet::spawn
/// [`JoinError`]: super::JoinError
pub struct AbortHandle {
    /// Invariant: owns one counted reference (the invariant on `RawTask`).
    raw: RawTask,
}

// SAFETY: an AbortHandle never touches the future or the output: `abort`
// is a state transition plus `Schedule::schedule`, which `new_task`
// requires to be `Send + Sync` (and `new_local_task`'s caller vouches for,
// as for every handle); `is_finished` and `id` read atomics and the
// immutable header. Its drop gives up a reference; if it is the last one the
// cell is freed there, and by then the stage is `Consumed` (the task was
// completed or shut down, and the output dropped by the runner or the
// JoinHandle), so only the `Send + Sync` scheduler is dropped with it.
unsafe impl Send for AbortHandle {}
// SAFETY: `&AbortHandle` offers only `abort`, `is_finished` and `id`, as
// above.
unsafe impl Sync for AbortHandle {}

impl AbortHandle {
    /// Takes a new reference to the task behind `raw`.
    pub(super) fn new(raw: RawTask) -> AbortHandle {
        raw.ref_inc();
        AbortHandle { raw }
    }

    /// Asks for the task to be cancelled, exactly as
    /// [`JoinHandle::abort`](super::JoinHandle::abort) does. Aborting a
    /// finished task does nothing.
    pub fn abort(&self) {
        self.raw.remote_abort();
    }

    /// Whether the task has completed (with an output, cancelled or
    /// panicked).
    pub fn is_finished(&self) -> bool {
        self.raw.state().load().is_complete()
    }

    /// The task's id (the same as its `JoinHandle`'s).
    pub fn id(&self) -> TaskId {
        self.raw.header().id
    }
}

impl Clone for AbortHandle {
    fn clone(&self) -> AbortHandle {
        AbortHandle::new(self.raw)
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        // SAFETY: the reference this handle owns (the invariant on `raw`).
        unsafe { self.raw.drop_reference() }
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.id())
            .field("state", &self.raw.state().load())
            .finish()
    }
}
