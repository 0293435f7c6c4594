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
//! every runtime resource spends one unit when it is ready: socket and
//! pipe readiness, `io::copy`, `duplex`, `repeat`, `sink` and `empty`,
//! mpsc, broadcast, watch and oneshot receives, `Mutex`, `RwLock` and
//! `Semaphore` waits, sleeps and joins (tokio's list). With the budget
//! spent, a resource answers `Pending` even though it is ready, after
//! waking the task: the task goes to the back of the run queue, and
//! everything queued before it, IO and timers included, gets its turn. A
//! resource that is not ready spends nothing (the unit is lent and given
//! back), so a task waiting on hundreds of idle resources in one poll does
//! not run out and spin.
//!
//! `block_on`'s main future is budgeted as a task is on the current-thread
//! runtime, where it shares the thread with the tasks (as in tokio).
//! Outside a runtime's polls (under another executor, or in the
//! multi-thread runtime's `block_on`, whose thread runs no task) the budget
//! is unlimited.
//!
//! Two tools adjust the rationing from user code, as in tokio:
//! [`consume_budget`] lets a CPU-heavy loop that touches no runtime
//! resource take part (it spends a unit, and yields once the budget is
//! gone), and [`unconstrained`] opts a future out (its polls spend
//! nothing and are never told to yield), for code that must not be
//! interrupted between two ready operations and accepts starving its
//! worker's other tasks meanwhile.

use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::pin::pin;
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
    with_budget(Some(BUDGET), f)
}

/// Runs `f` with the budget `left` (`None`: unlimited), restoring the
/// previous one after, also if `f` panics.
fn with_budget<R>(left: Option<u8>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<u8>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = LEFT.try_with(|l| l.set(self.0));
        }
    }
    let _restore = Restore(LEFT.with(|l| l.replace(left)));
    f()
}

/// Spends one unit of the current task's budget; with none left, wakes the
/// task and returns `Pending`.
///
/// The unit is lent, as in tokio: unless the caller reports
/// [`made_progress`](Spent::made_progress) (its resource was ready), it
/// comes back when the returned guard drops. Only ready operations count,
/// so a task that polls many idle resources in one poll (a hand-written
/// "wait for all of these") does not run out, get woken by the empty
/// budget, and spin.
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<Spent> {
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
        Ok(Some(_)) => Poll::Ready(Spent { lent: Cell::new(true) }),
        _ => Poll::Ready(Spent { lent: Cell::new(false) }),
    }
}

/// A unit of budget taken by [`poll_proceed`]: given back on drop unless
/// the operation it paid for [made progress](Spent::made_progress).
#[must_use]
pub(crate) struct Spent {
    /// Whether a unit was taken and is still to give back.
    lent: Cell<bool>,
}

impl Spent {
    /// The operation completed: the unit stays spent.
    pub(crate) fn made_progress(&self) {
        self.lent.set(false);
    }
}

impl Drop for Spent {
    fn drop(&mut self) {
        if self.lent.get() {
            let _ = LEFT.try_with(|l| {
                if let Some(n) = l.get() {
                    l.set(Some(n.saturating_add(1).min(BUDGET)));
                }
            });
        }
    }
}

/// Polls `poll` as one budgeted operation: `Pending` without calling it
/// when the budget is spent; a unit spent only if it is ready.
pub(crate) fn poll_budgeted<T>(
    cx: &mut Context<'_>,
    poll: impl FnOnce(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    let spent = std::task::ready!(poll_proceed(cx));
    let out = poll(cx);
    if out.is_ready() {
        spent.made_progress();
    }
    out
}

/// `future` as one budgeted operation per poll (tokio's `cooperative`):
/// for the runtime's async waits (a broadcast or watch receive, a lock, a
/// permit) that would otherwise let a task that always finds them ready
/// run for ever.
pub(crate) async fn cooperative<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    poll_fn(|cx| poll_budgeted(cx, |cx| future.as_mut().poll(cx))).await
}

/// Runs `f` with an unlimited budget (then restores the task's): for a
/// timer that must be able to fire after the future beside it spent the
/// whole budget (`time::Timeout`).
pub(crate) fn with_unconstrained<R>(f: impl FnOnce() -> R) -> R {
    with_budget(None, f)
}

/// Whether the current task has budget left (diagnostics and tests).
pub fn has_budget_remaining() -> bool {
    LEFT.try_with(|l| l.get() != Some(0)).unwrap_or(true)
}

/// Wraps `future` so that its polls run with an unlimited budget: the
/// runtime's resources it uses (channels, sockets, joins,
/// [`consume_budget`]) never answer `Pending` just because the task has had
/// its share, so it runs until something it waits on is really not ready.
///
/// The budget of the enclosing task is left as it was: what the wrapped
/// future does is not charged to it. This gives up the fairness the budget
/// exists for: while the wrapped future keeps finding its resources ready,
/// no other task, timer or IO event runs on its worker (on the
/// current-thread runtime, on the whole runtime).
///
/// ```
/// use spindle_rt::coop::{has_budget_remaining, unconstrained, BUDGET};
/// use spindle_rt::sync::mpsc;
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// let task = rt.spawn(unconstrained(async {
///     let (tx, mut rx) = mpsc::channel(1);
///     // Far more ready operations than one budget allows, without a yield.
///     for i in 0..10 * BUDGET as u32 {
///         tx.send(i).await.unwrap();
///         assert_eq!(rx.recv().await, Some(i));
///     }
///     has_budget_remaining()
/// }));
/// assert!(rt.block_on(task).unwrap());
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn unconstrained<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    poll_fn(|cx| with_budget(None, || future.as_mut().poll(cx))).await
}

/// Spends one unit of the current task's budget, yielding to the scheduler
/// first if none is left: a fairness point for a loop that is busy without
/// touching any runtime resource (which would spend the budget for it).
///
/// Cheap when budget remains (no yield, one thread-local update); after
/// [`BUDGET`] calls within one poll of the task, the task goes to the back
/// of the run queue and resumes with a fresh budget. Outside a runtime's
/// task, or inside [`unconstrained`], it never yields.
///
/// ```
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// let sum = rt.block_on(rt.spawn(async {
///     let mut sum = 0u64;
///     for n in 0..100_000u64 {
///         sum += n;
///         // Lets other tasks, timers and IO in every BUDGET rounds.
///         spindle_rt::coop::consume_budget().await;
///     }
///     sum
/// }));
/// assert_eq!(sum.unwrap(), 4_999_950_000);
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn consume_budget() {
    let mut done = false;
    poll_fn(move |cx| {
        if done {
            return Poll::Ready(());
        }
        let polled = poll_proceed(cx).map(|spent| spent.made_progress());
        done = polled.is_ready();
        polled
    })
    .await
}
