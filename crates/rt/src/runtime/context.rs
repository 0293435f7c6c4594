//! The thread-local "current runtime": which runtime's [`Core`] this thread
//! is running, if any.
//!
//! [`Runtime::block_on`](super::Runtime::block_on) sets it for as long as it
//! runs (through an [`EnterGuard`], which also resets it if the main future
//! panics), and the free functions ([`spawn`](super::spawn),
//! [`spawn_local`](super::spawn_local), [`time::sleep`](crate::time::sleep))
//! read it. The scheduler reads it too: a wake on a thread whose current
//! runtime is the task's own goes to the local run queue, any other wake to
//! the remote queue.

use super::current_thread::{Core, Shared};
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

thread_local! {
    /// Set only by `enter`, cleared only by `EnterGuard::drop`; never
    /// borrowed mutably while user code runs.
    static CURRENT: RefCell<Option<Rc<Core>>> = const { RefCell::new(None) };
}

/// Resets the current runtime when dropped (also on unwind).
pub(crate) struct EnterGuard(());

/// Makes `core` this thread's current runtime.
///
/// # Panics
/// With [`NESTED_BLOCK_ON`] if the thread already has one.
pub(crate) fn enter(core: Rc<Core>) -> EnterGuard {
    CURRENT.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_some() {
            drop(c);
            panic!("{NESTED_BLOCK_ON}");
        }
        *c = Some(core);
    });
    EnterGuard(())
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        // Take it out first, drop it after the borrow ends.
        let old = CURRENT.try_with(|c| c.borrow_mut().take()).ok().flatten();
        drop(old);
    }
}

/// The current runtime's core, if any (`None` also while the thread-local
/// is being destroyed).
pub(crate) fn current() -> Option<Rc<Core>> {
    CURRENT.try_with(|c| c.borrow().clone()).ok().flatten()
}

/// The current runtime's core.
///
/// # Panics
/// With [`NO_RUNTIME`] outside a runtime.
#[track_caller]
pub(crate) fn expect_current() -> Rc<Core> {
    match current() {
        Some(core) => core,
        None => panic!("{NO_RUNTIME}"),
    }
}

/// Calls `f` with the current core if it belongs to the runtime `shared`.
pub(crate) fn with_core_of<R>(shared: &Arc<Shared>, f: impl FnOnce(Option<&Core>) -> R) -> R {
    let mut f = Some(f);
    let r = CURRENT.try_with(|c| {
        let c = c.borrow();
        let core = c.as_deref().filter(|core| Arc::ptr_eq(core.shared(), shared));
        (f.take().expect("called once"))(core)
    });
    match r {
        Ok(r) => r,
        // The thread-local is gone (thread exit): certainly not inside.
        Err(_) => (f.take().expect("not called"))(None),
    }
}

/// Whether this thread is currently running the runtime `shared`.
pub(crate) fn is_current(shared: &Arc<Shared>) -> bool {
    with_core_of(shared, |core| core.is_some())
}
