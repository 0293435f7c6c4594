//! The task core both schedulers run: one heap cell per task, a one-word
//! state machine, and the handles around it.
//!
//! # The cell
//!
//! A task is one allocation ([`new_task`]): a header (the state word, a
//! vtable pointer, the [`TaskId`] and where it was spawned), the scheduler
//! `S` and the *stage* (the future, then its output), and the join-waker
//! slot. Five kinds of handle point at it, each owning one count of a
//! reference count kept in the state word:
//!
//! * [`Task`]: the scheduler's list of owned tasks holds one, so that it can
//!   [`Task::shutdown`] every task when the runtime is dropped;
//! * [`Notified`]: a task that is scheduled, sitting in a run queue, to be
//!   [`run`](Notified::run) once;
//! * [`JoinHandle`]: the spawner's future of the output (and
//!   [`JoinSet`], a set of them joined in the order their tasks finish);
//! * [`AbortHandle`]: a cloneable right to cancel the task, without the
//!   output;
//! * [`Waker`](std::task::Waker)s: given to the future in its `Context` and
//!   cloned into whatever it waits on.
//!
//! The reference count is what keeps the cell alive across wakers: a waker
//! stored in a socket may fire long after the task completed and every
//! other handle was dropped; it still owns a reference, finds `COMPLETE`,
//! and frees the cell if it was the last. Nobody frees the cell while a
//! handle can still reach it, and whoever drops the last reference frees it.
//!
//! # Why one word
//!
//! Every decision about a task depends on several facts at once: "is it
//! running, is it already queued, has it completed, may I take another
//! reference". With the flags and the count in one `AtomicUsize`, each
//! decision is one compare-and-swap on a consistent snapshot (see
//! `state.rs`, where each transition is a named method returning a
//! `#[must_use]` enum). With separate atomics there would be windows: a
//! wake could see "not running" just before the runner sets it, and push a
//! task that is about to be polled.
//!
//! # Waking exactly once
//!
//! A run queue must never hold a task twice: two workers would poll one
//! future at once. So a wake pushes a [`Notified`] only when it flips the
//! task from idle-and-not-notified to notified; every other wake sets a bit
//! or does nothing:
//!
//! * idle, not notified: set `NOTIFIED`, take a reference, push;
//! * already notified (queued): nothing, so many wakes coalesce into one
//!   schedule;
//! * running: set `NOTIFIED` only. The future may be woken during its own
//!   poll (a `yield_now`, or a channel that is ready again), and pushing it
//!   then would let another worker poll it concurrently. Instead the runner,
//!   when the poll returns `Pending`, sees `NOTIFIED` and pushes it itself,
//!   through [`Schedule::yield_now`];
//! * complete: nothing.
//!
//! # Who drops what, where
//!
//! The future is dropped by whoever completes or cancels it, and only while
//! holding `RUNNING`: the runner when it returns `Ready` or panics, the
//! runner that finds `CANCELLED` (set by [`JoinHandle::abort`]; an abort
//! never drops the future itself, it schedules the task), or
//! [`Task::shutdown`] on an idle task. Those all run on the scheduler's
//! thread, which is what lets a `!Send` future live in a task (see
//! [`new_local_task`]). The output is dropped by the [`JoinHandle`] that
//! takes it, by the `JoinHandle`'s drop if the task completed first, or by
//! the runner at completion if the `JoinHandle` is already gone. A panicking
//! future is caught (`catch_unwind`), its payload becomes the task's
//! [`JoinError`], and the scheduler keeps running.
//!
//! # A scheduler in a dozen lines
//!
//! ```
//! use spindle_rt::task::{new_task, Notified, Schedule, TaskId};
//! use std::collections::VecDeque;
//! use std::sync::{Arc, Mutex};
//!
//! #[derive(Clone, Default)]
//! struct Fifo(Arc<Mutex<VecDeque<Notified<Fifo>>>>);
//!
//! impl Schedule for Fifo {
//!     fn schedule(&self, task: Notified<Self>) {
//!         self.0.lock().unwrap().push_back(task);
//!     }
//! }
//!
//! let fifo = Fifo::default();
//! let (task, notified, join) = new_task(async { 6 * 7 }, fifo.clone(), TaskId::next());
//! fifo.schedule(notified);
//! loop {
//!     // Pop first, then run: never run a task while holding the queue.
//!     let next = fifo.0.lock().unwrap().pop_front();
//!     let Some(next) = next else { break };
//!     next.run();
//! }
//! drop(task); // this scheduler keeps no list of owned tasks
//! assert_eq!(futures::executor::block_on(join).unwrap(), 42);
//! ```

mod abort;
mod error;
mod handle;
mod harness;
mod id;
mod join;
mod join_set;
pub(crate) mod local_set;
mod raw;
mod state;
mod task_local;
mod waker;

#[cfg(all(test, loom))]
mod loom_tests;

/// The task functions under tokio's paths (`tokio::task::spawn`,
/// `tokio::task::spawn_blocking`, `tokio::task::yield_now`, ...), for code
/// written against them: the same functions as at the crate root.
pub use crate::blocking::spawn_blocking;
/// The cooperative-scheduling helpers under tokio's `tokio::task` paths;
/// the same functions as in [`crate::coop`].
pub use crate::coop::{consume_budget, unconstrained};
pub use crate::runtime::{block_in_place, spawn, spawn_local, yield_now};
pub use abort::AbortHandle;
pub use error::JoinError;
pub use handle::{Notified, Task};
pub use id::{id, try_id, TaskId};

/// The cooperative-scheduling helpers under tokio's `tokio::task::coop`
/// path; the same functions as in [`crate::coop`].
pub mod coop {
    pub use crate::coop::{consume_budget, has_budget_remaining, unconstrained};
}

/// tokio's name for [`TaskId`] (`tokio::task::Id`).
pub type Id = TaskId;
pub use join::JoinHandle;
pub use join_set::JoinSet;
pub use local_set::{LocalEnterGuard, LocalSet};
pub use task_local::{AccessError, LocalKey};

use raw::RawTask;
use std::future::Future;
use std::panic::Location;

/// What a task needs from its scheduler.
///
/// The scheduler value lives in the task's cell (each task has its own,
/// typically a cheap handle such as an `Arc` to the scheduler's shared
/// state), and is dropped with the cell by whoever drops the last
/// reference.
pub trait Schedule: Sized + 'static {
    /// Queues a task that was woken (or aborted) to be run. Called from
    /// whatever thread woke it, possibly from inside another task's poll, so
    /// it must not run the task inline.
    fn schedule(&self, task: Notified<Self>);

    /// Queues a task that was woken during its own poll, from the thread
    /// that just ran it. A scheduler may put it behind other ready tasks (as
    /// a yield should). Defaults to [`schedule`](Schedule::schedule).
    fn yield_now(&self, task: Notified<Self>) {
        self.schedule(task)
    }

    /// The task has completed: remove it from the scheduler's list of owned
    /// tasks, returning the list's [`Task`] (for this very task) so that its
    /// reference is dropped with the runner's, or `None` if the list no
    /// longer holds it (or does not hold tasks). Called on the thread that
    /// completed the task.
    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        let _ = task;
        None
    }
}

/// Creates a task for a `Send` future: the handle for the owned-task list,
/// the first [`Notified`] (to push onto a run queue) and the
/// [`JoinHandle`].
///
/// The location recorded as [`Task::spawned_at`] is the caller's, or its
/// caller's if the caller is `#[track_caller]` too (as a `spawn` function
/// should be).
#[track_caller]
pub fn new_task<F, S>(future: F, scheduler: S, id: TaskId) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule + Send + Sync,
{
    // SAFETY: the future, its output and the scheduler are all `Send` (and
    // the scheduler `Sync`), so every handle may be used on any thread.
    unsafe { new_local_task(future, scheduler, id) }
}

/// Creates a task whose future, output or scheduler need not be `Send`
/// (for `spawn_local` on the current-thread scheduler).
///
/// The handles' `Send` impls are by the scheduler and output types only,
/// so the type system cannot keep a `!Send` future on its thread; the
/// caller does, by the contract below. The core cooperates: it drops the
/// future only in [`Notified::run`] and [`Task::shutdown`] (never in an
/// abort, a wake or a `JoinHandle` drop), and drops the output only in
/// those and in the [`JoinHandle`], which is `Send` only if the output is.
///
/// # Safety
///
/// * If `F` is not `Send`: every [`Notified`] of this task is run, and the
///   [`Task`] is shut down, only on the thread calling this function; and
///   the [`Task`] is kept until the task is released (see
///   [`Schedule::release`]) or shut down, so that the cell is never freed,
///   and the future dropped with it, elsewhere.
/// * If `S` is not `Send + Sync`: no handle of this task, wakers included,
///   is used or dropped on another thread (a waker is `Send + Sync` by
///   type, so the scheduler must vouch for where its futures send them).
#[track_caller]
pub unsafe fn new_local_task<F, S>(
    future: F,
    scheduler: S,
    id: TaskId,
) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + 'static,
    S: Schedule,
{
    let raw = RawTask::new::<F, S>(future, scheduler, id, Location::caller());
    // SAFETY: a new cell holds three references (`State::new`), one for each
    // handle; its scheduler is `S` and its output `F::Output`.
    unsafe { (Task::from_raw(raw), Notified(Task::from_raw(raw)), JoinHandle::from_raw(raw)) }
}
