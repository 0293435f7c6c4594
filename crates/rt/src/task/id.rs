//! Task ids.

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
