//! Task ids.

use std::cell::Cell;
use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

/// A task's id: a `u64` from one process-wide counter, never zero, unique
/// among ids made by [`TaskId::next`] (a `u64` does not wrap in practice).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct TaskId(NonZeroU64);

impl TaskId {
    /// The next id from the process-wide counter.
    pub fn next() -> TaskId {
        // A plain std atomic even under loom: ids order nothing, so there is
        // no interleaving worth exploring, and loom atomics cannot be static.
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        TaskId(NonZeroU64::new(id).expect("task id counter wrapped"))
    }

    /// The id back from [`as_u64`](TaskId::as_u64); crate-internal, since
    /// an arbitrary number names no task.
    pub(crate) fn from_u64(id: u64) -> TaskId {
        TaskId(NonZeroU64::new(id).expect("task ids are never zero"))
    }

    /// The id as a number.
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

thread_local! {
    /// The id of the task whose future this thread is polling or
    /// dropping, if any.
    static CURRENT: Cell<Option<TaskId>> = const { Cell::new(None) };
}

/// Makes `id` the current task's id until dropped, then puts back the one
/// before: a task's poll may run others inside it (a
/// [`LocalSet`](super::LocalSet) driven from a task).
pub(crate) struct CurrentGuard(Option<TaskId>);

impl CurrentGuard {
    pub(crate) fn enter(id: TaskId) -> CurrentGuard {
        CurrentGuard(CURRENT.try_with(|c| c.replace(Some(id))).ok().flatten())
    }
}

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.set(self.0));
    }
}

/// The id of the task this code runs in: tokio's `task::id`.
///
/// Inside a task's future (spawned by [`spawn`](crate::spawn),
/// [`spawn_local`](crate::spawn_local), a [`JoinSet`](super::JoinSet) or a
/// [`LocalSet`](super::LocalSet)),
/// in the future's destructor, and inside a
/// [`spawn_blocking`](crate::spawn_blocking) closure, it is the id its
/// [`JoinHandle::id`](super::JoinHandle::id) and
/// [`AbortHandle::id`](super::AbortHandle::id) report. `block_on`'s own
/// future is not a task.
///
/// # Panics
/// Outside a task: use [`try_id`] where that can happen.
///
/// ```
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// let handle = rt.spawn(async { spindle_rt::task::id() });
/// let expected = handle.id();
/// assert_eq!(rt.block_on(handle).unwrap(), expected);
/// # Ok::<(), std::io::Error>(())
/// ```
#[track_caller]
pub fn id() -> TaskId {
    try_id().expect("`task::id()` called outside a task (use `task::try_id()`)")
}

/// The id of the task this code runs in, or `None` outside a task (on a
/// plain thread, in `block_on`'s own future): tokio's `task::try_id`.
///
/// ```
/// assert_eq!(spindle_rt::task::try_id(), None);
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// assert_eq!(rt.block_on(async { spindle_rt::task::try_id() }), None);
/// let handle = rt.spawn(async { spindle_rt::task::try_id() });
/// let expected = handle.id();
/// assert_eq!(rt.block_on(handle).unwrap(), Some(expected));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn try_id() -> Option<TaskId> {
    CURRENT.try_with(Cell::get).ok().flatten()
}
