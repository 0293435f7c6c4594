//! The thread-local "current runtime": which runtime this thread is
//! running, if any, and in what role.
//!
//! [`Runtime::block_on`](super::Runtime::block_on) sets it for as long as it
//! runs (through an [`EnterGuard`], which also resets it if the main future
//! panics), and so does each worker thread of a multi-thread runtime for its
//! whole life. The free functions ([`spawn`](super::spawn),
//! [`spawn_local`](super::spawn_local), [`time::sleep`](crate::time::sleep),
//! socket constructors) read it. The schedulers read it too: a wake on a
//! thread that runs the task's own runtime goes to that thread's local run
//! queue, any other wake to the runtime's shared queue.

use super::current_thread::{self, Core};
use super::multi_thread::{self, worker::WorkerContext};
use super::Scheduler;
use crate::io::driver::IoDriver;
use crate::time::driver::TimeDriver;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

/// The message of every panic for "no runtime here".
pub(crate) const NO_RUNTIME: &str = "must be called from within a spindle-rt runtime \
     (inside `Runtime::block_on` or a task it runs)";

/// The message of the panic for a `block_on` inside a runtime.
pub(crate) const NESTED_BLOCK_ON: &str = "cannot call `block_on` from within a spindle-rt runtime: \
     this thread is already running one (inside `block_on` or a task), and blocking it \
     would stop every task it runs; `.await` the future, or `spawn` it, instead";

/// What this thread is to a runtime.
#[derive(Clone)]
pub(crate) enum Current {
    /// The thread of a current-thread runtime, inside `block_on`.
    Thread(Rc<Core>),
    /// A worker thread of a multi-thread runtime.
    Worker(Rc<WorkerContext>),
    /// A thread inside a multi-thread runtime's `block_on` (not a worker:
    /// it polls only the main future).
    BlockOn(Arc<multi_thread::Shared>),
    /// A thread that only *entered* a runtime without running it: through
    /// [`Handle::enter`](super::Handle::enter), in
    /// [`Handle::block_on`](super::Handle::block_on) of a current-thread
    /// runtime from another thread, or running a closure of the runtime's
    /// blocking pool. Spawns, sockets and timers go to that runtime; a
    /// `block_on` may still run here (it replaces this role until it
    /// returns).
    Entered(Scheduler),
}

impl Current {
    fn time(&self) -> &Arc<TimeDriver> {
        match self {
            Current::Thread(core) => &core.shared().time,
            Current::Worker(cx) => &cx.shared().time,
            Current::BlockOn(shared) => &shared.time,
            Current::Entered(s) => s.time(),
        }
    }

    fn io(&self) -> &Arc<IoDriver> {
        match self {
            Current::Thread(core) => &core.shared().io,
            Current::Worker(cx) => &cx.shared().io,
            Current::BlockOn(shared) => &shared.io,
            Current::Entered(s) => s.io(),
        }
    }

    fn scheduler(&self) -> Scheduler {
        match self {
            Current::Thread(core) => Scheduler::CurrentThread(Arc::clone(core.shared())),
            Current::Worker(cx) => Scheduler::MultiThread(Arc::clone(cx.shared())),
            Current::BlockOn(shared) => Scheduler::MultiThread(Arc::clone(shared)),
            Current::Entered(s) => s.clone(),
        }
    }
}

thread_local! {
    /// Set only by `enter`, cleared only by `EnterGuard::drop`; never
    /// borrowed mutably while user code runs.
    static CURRENT: RefCell<Option<Current>> = const { RefCell::new(None) };
}

/// Puts back the role the thread had before (none, or an
/// [`Entered`](Current::Entered) one) when dropped, also on unwind.
pub(crate) struct EnterGuard {
    prev: Option<Current>,
}

/// Makes `current` this thread's runtime role.
///
/// # Panics
/// With [`NESTED_BLOCK_ON`] if the thread is already running a runtime (a
/// role other than [`Entered`](Current::Entered), which is set aside until
/// the guard drops).
pub(crate) fn enter(current: Current) -> EnterGuard {
    let prev = CURRENT.with(|c| {
        let mut c = c.borrow_mut();
        if matches!(*c, Some(ref running) if !matches!(running, Current::Entered(_))) {
            drop(c);
            panic!("{NESTED_BLOCK_ON}");
        }
        c.replace(current)
    });
    EnterGuard { prev }
}

/// Makes `current` this thread's role whatever it was, restoring the old
/// one when the guard drops: for a worker in `block_in_place`, which has
/// handed its P away and, until `f` returns, only *entered* its runtime (so
/// `Handle::block_on` and the `blocking_*` methods may park it, as tokio
/// allows).
///
/// At thread exit, once the thread-local is gone (a `Runtime` kept in a
/// `thread_local!` and dropped after it), the role is not set: the guard
/// does nothing, and code under it runs outside a runtime.
pub(crate) fn set_aside(current: Current) -> EnterGuard {
    let prev = CURRENT.try_with(|c| c.borrow_mut().replace(current)).ok().flatten();
    EnterGuard { prev }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        // Swap it in first, drop the old role after the borrow ends.
        let old = CURRENT.try_with(|c| std::mem::replace(&mut *c.borrow_mut(), prev)).ok().flatten();
        drop(old);
    }
}

fn with_current<R>(f: impl FnOnce(Option<&Current>) -> R) -> R {
    let mut f = Some(f);
    match CURRENT.try_with(|c| (f.take().expect("called once"))(c.borrow().as_ref())) {
        Ok(r) => r,
        // The thread-local is gone (thread exit): certainly not inside.
        Err(_) => (f.take().expect("not called"))(None),
    }
}

/// The current runtime's scheduler handle, if any.
pub(crate) fn scheduler() -> Option<Scheduler> {
    with_current(|c| c.map(Current::scheduler))
}

/// The current runtime's scheduler handle.
///
/// # Panics
/// With [`NO_RUNTIME`] outside a runtime.
#[track_caller]
pub(crate) fn expect_scheduler() -> Scheduler {
    match scheduler() {
        Some(s) => s,
        None => panic!("{NO_RUNTIME}"),
    }
}

/// The current-thread runtime's core, if this thread runs one.
pub(crate) fn current_core() -> Option<Rc<Core>> {
    with_current(|c| match c {
        Some(Current::Thread(core)) => Some(Rc::clone(core)),
        _ => None,
    })
}

/// The current runtime's IO driver.
///
/// # Panics
/// With [`NO_RUNTIME`] outside a runtime.
#[track_caller]
pub(crate) fn io_driver() -> Arc<IoDriver> {
    match with_current(|c| c.map(|c| Arc::clone(c.io()))) {
        Some(io) => io,
        None => panic!("{NO_RUNTIME}"),
    }
}

/// The current runtime's time driver, if any. (Read through the borrowed
/// context: every `sleep` calls this, and it clones only the driver.)
pub(crate) fn time_driver() -> Option<Arc<TimeDriver>> {
    with_current(|c| c.map(|c| Arc::clone(c.time())))
}

/// Calls `f` with the current runtime's time driver, if any, without
/// cloning it (`Instant::now` reads the clock through this).
pub(crate) fn with_time_driver<R>(f: impl FnOnce(Option<&TimeDriver>) -> R) -> R {
    with_current(|c| f(c.map(|c| &**c.time())))
}

/// Whether this thread, running its loop, arms the loop timer of `driver`
/// itself before sleeping (so a new timer needs no wake-up call). True only
/// on a current-thread runtime's own thread.
pub(crate) fn arms_timer_of(driver: &Arc<TimeDriver>) -> bool {
    with_current(|c| match c {
        Some(Current::Thread(core)) => Arc::ptr_eq(&core.shared().time, driver),
        _ => false,
    })
}

/// Calls `f` with the current core if it belongs to the current-thread
/// runtime `shared`.
pub(crate) fn with_core_of<R>(shared: &Arc<current_thread::Shared>, f: impl FnOnce(Option<&Core>) -> R) -> R {
    with_current(|c| match c {
        Some(Current::Thread(core)) if Arc::ptr_eq(core.shared(), shared) => f(Some(core)),
        _ => f(None),
    })
}

/// Whether this thread is currently running the current-thread runtime
/// `shared`.
pub(crate) fn is_current(shared: &Arc<current_thread::Shared>) -> bool {
    with_core_of(shared, |core| core.is_some())
}

/// Calls `f` with this thread's worker context if it is a worker of the
/// multi-thread runtime `shared`.
pub(crate) fn with_worker_of<R>(
    shared: &Arc<multi_thread::Shared>,
    f: impl FnOnce(Option<&WorkerContext>) -> R,
) -> R {
    with_current(|c| match c {
        Some(Current::Worker(cx)) if Arc::ptr_eq(cx.shared(), shared) => f(Some(cx)),
        _ => f(None),
    })
}

/// This thread's worker context, if it is a multi-thread worker.
pub(crate) fn worker() -> Option<Rc<WorkerContext>> {
    with_current(|c| match c {
        Some(Current::Worker(cx)) => Some(Rc::clone(cx)),
        _ => None,
    })
}

/// Whether this thread runs a current-thread runtime.
pub(crate) fn on_current_thread_runtime() -> bool {
    with_current(|c| matches!(c, Some(Current::Thread(_))))
}

/// Whether this thread runs a runtime: inside `block_on`, or a worker (any
/// role but [`Entered`](Current::Entered)). Parking such a thread stops
/// every task it runs, so the sync primitives' `blocking_*` methods refuse
/// to, exactly where a nested `block_on` would.
pub(crate) fn runs_a_runtime() -> bool {
    with_current(|c| matches!(c, Some(role) if !matches!(role, Current::Entered(_))))
}
