//! Cooperative scheduling: a per-poll budget, so a task that is always
//! ready still yields.
//!
//! A future only returns `Pending` when something it waits on is not ready.
//! A task reading a socket that a fast peer keeps full, or receiving from a
//! channel that another task keeps filled, may never see "not ready": its
//! poll loops for ever, and on its worker no other task, no timer and no IO
//! event runs. Go preempts such a goroutine (sysmon sets a flag, the next
//! function prologue or a signal stops it); a future cannot be interrupted,
//! so the runtime rations instead, as tokio's `coop` does: each time the
//! scheduler polls a task it grants a budget of [`BUDGET`] operations, and
//! every runtime resource (socket readiness, channel receive, join) spends
//! one unit when it is ready. With the budget spent, a resource answers
//! `Pending` even though it is ready, after waking the task: the task goes
//! to the back of the run queue, and everything queued before it, IO and
//! timers included, gets its turn.
//!
//! Outside a runtime's task poll (under another executor, or in
//! `block_on`'s main future) the budget is unlimited.

use std::cell::Cell;
use std::task::{Context, Poll};

/// Operations a task may complete in one poll before it must yield: 128,
/// tokio's figure; enough that a busy task is barely slowed, small enough
/// that others wait at most a few hundred operations.
pub const BUDGET: u8 = 128;

thread_local! {
    /// `None`: unconstrained.
    static LEFT: Cell<Option<u8>> = const { Cell::new(None) };
}

/// Runs `f` (one task poll) with a fresh budget, restoring the previous one
/// after (task polls do not nest, but `block_on` inside `spawn_blocking`
/// may run inside a poll's thread-local scope).
pub(crate) fn budget<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(Option<u8>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = LEFT.try_with(|l| l.set(self.0));
        }
    }
    let _restore = Restore(LEFT.with(|l| l.replace(Some(BUDGET))));
    f()
}

/// Spends one unit of the current task's budget; with none left, wakes the
/// task and returns `Pending`.
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    let left = LEFT.try_with(|l| {
        let left = l.get();
        if let Some(n) = left {
            l.set(Some(n.saturating_sub(1)));
        }
        left
    });
    match left {
        Ok(Some(0)) => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        _ => Poll::Ready(()),
    }
}

/// Whether the current task has budget left (diagnostics and tests).
pub fn has_budget_remaining() -> bool {
    LEFT.try_with(|l| l.get() != Some(0)).unwrap_or(true)
}
