//! The bridge behind every `blocking_*` method of the channels: run one
//! of their futures to completion on a thread that runs no runtime.

use std::future::Future;

/// Polls `future` on this thread, parking it between wake-ups, and returns
/// its output. `what` names the public method, for the panic message.
///
/// # Panics
/// On a thread that runs a spindle-rt runtime (inside `block_on`, or a
/// worker running tasks): parking it would stop every task it runs,
/// quite possibly the one that would wake it. A thread that only entered
/// a runtime ([`Handle::enter`](crate::Handle::enter), a
/// [`spawn_blocking`](crate::spawn_blocking) closure) may block.
#[track_caller]
pub(crate) fn block_on<F: Future>(what: &str, future: F) -> F::Output {
    if crate::runtime::context::runs_a_runtime() {
        panic!(
            "`{what}` cannot block the current thread from within a spindle-rt runtime: \
             this thread runs one (inside `block_on` or a task), and parking it would stop \
             every task it runs; `.await` the async form instead, or call this from \
             `spawn_blocking` or a thread of your own"
        );
    }
    crate::runtime::multi_thread::block_on_thread(future)
}
