//! The scheduler's handles: [`Task`] (membership in the owned-task list)
//! and [`Notified`] (one pending run).

use super::raw::RawTask;
use super::{Schedule, TaskId};
use std::fmt;
use std::marker::PhantomData;
use std::panic::Location;

/// A counted reference to a task, held by its scheduler's list of owned
/// tasks so that the runtime can shut every task down when it is dropped.
///
/// Handing it back from [`Schedule::release`] when the task completes lets
/// the cell be freed as soon as nothing else refers to it.
pub struct Task<S: 'static> {
    /// Invariant: owns one counted reference (the invariant on `RawTask`),
    /// to a cell whose scheduler type is `S`.
    pub(super) raw: RawTask,
    _scheduler: PhantomData<S>,
}

/// A task that has been scheduled and must be run once, by [`run`]: the
/// unit a run queue holds.
///
/// The state machine guarantees at most one `Notified` per task exists at a
/// time (wakes while one exists, or while the task runs, only set a flag),
/// so a run queue never holds a task twice. Dropping a `Notified` without
/// running it (a run queue dropped at shutdown) just drops its reference;
/// the task is then cancelled by [`Task::shutdown`].
///
/// [`run`]: Notified::run
pub struct Notified<S: 'static>(pub(super) Task<S>);

// SAFETY: a `Task` only reads atomics and ids through `&self`, and by value
// it can shut the task down, which drops the future and runs `S::release`;
// with `S: Send + Sync` the scheduler may be used and dropped anywhere. The
// future's own thread-safety is not expressed here: `new_task` requires
// `F: Send`, and `new_local_task`'s caller promises to call `shutdown` only
// on the owning thread.
unsafe impl<S: Send + Sync> Send for Task<S> {}
// SAFETY: as above; `&Task` exposes only atomic reads.
unsafe impl<S: Send + Sync> Sync for Task<S> {}

impl<S: 'static> Task<S> {
    /// # Safety
    ///
    /// `raw` comes with one counted reference, to a cell for scheduler `S`.
    pub(super) unsafe fn from_raw(raw: RawTask) -> Task<S> {
        Task { raw, _scheduler: PhantomData }
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.raw.header().id
    }

    /// Where the task was spawned.
    pub fn spawned_at(&self) -> &'static Location<'static> {
        self.raw.header().spawned_at
    }

    /// Whether the task has completed (with an output, cancelled or
    /// panicked).
    pub fn is_finished(&self) -> bool {
        self.raw.state().load().is_complete()
    }

    /// The slot an owned-task list keeps this task in (`usize::MAX`:
    /// none yet).
    pub(crate) fn owned_slot(&self) -> usize {
        self.raw.header().owned_slot.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn set_owned_slot(&self, slot: usize) {
        self.raw.header().owned_slot.store(slot, std::sync::atomic::Ordering::Relaxed);
    }
}

impl<S: Schedule> Task<S> {
    /// Cancels the task for runtime shutdown: if it is idle, drops its
    /// future now, on this thread, and completes it with
    /// [`JoinError`](super::JoinError) "cancelled" (calling
    /// [`Schedule::release`]); if it is running on another thread, marks it
    /// cancelled so that the runner drops the future when its poll returns;
    /// if it is complete, does nothing. Consumes this reference either way.
    pub fn shutdown(self) {
        let raw = self.raw;
        std::mem::forget(self);
        // SAFETY: we give up the Task's reference (forgotten above). The
        // thread is allowed to drop the future: any thread for a `Send`
        // future, the owning thread by `new_local_task`'s contract.
        unsafe { raw.shutdown() }
    }
}

impl<S: 'static> Drop for Task<S> {
    fn drop(&mut self) {
        // SAFETY: the reference this handle owns (the invariant on `raw`).
        unsafe { self.raw.drop_reference() }
    }
}

impl<S: 'static> fmt::Debug for Task<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task").field("id", &self.id()).field("state", &self.raw.state().load()).finish()
    }
}

impl<S: Schedule> Notified<S> {
    /// Polls the task once (or, if it was cancelled meanwhile, drops its
    /// future), then: if it completed, stores the output for the
    /// [`JoinHandle`](super::JoinHandle) and calls [`Schedule::release`];
    /// if it was woken during the poll, hands a new `Notified` to
    /// [`Schedule::yield_now`]. A panic in the future is caught and becomes
    /// the task's [`JoinError`](super::JoinError); `run` returns normally.
    ///
    /// Must be called on a thread allowed to poll the future (any thread
    /// for tasks made by [`new_task`](super::new_task)).
    pub fn run(self) {
        let raw = self.0.raw;
        std::mem::forget(self);
        // SAFETY: we give up the Notified's reference (forgotten above), on
        // an allowed thread (see above and `new_local_task`'s contract).
        unsafe { raw.poll() }
    }
}

impl<S: 'static> Notified<S> {
    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.0.id()
    }

    /// Where the task was spawned.
    pub fn spawned_at(&self) -> &'static Location<'static> {
        self.0.spawned_at()
    }
}

impl<S: 'static> fmt::Debug for Notified<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Notified").field(&self.0).finish()
    }
}
