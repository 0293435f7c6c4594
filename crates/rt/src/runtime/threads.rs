//! How a runtime starts its threads: the [`Builder`](super::Builder)'s
//! thread knobs (name, stack size, start and stop hooks), applied alike to
//! the multi-thread runtime's workers and to every runtime's blocking-pool
//! threads.

use std::fmt;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

/// A hook called on a runtime thread.
pub(crate) type Hook = Arc<dyn Fn() + Send + Sync + 'static>;

/// Makes a thread's name.
pub(crate) type NameFn = Arc<dyn Fn() -> String + Send + Sync + 'static>;

/// The thread knobs, shared by every thread a runtime starts.
#[derive(Clone, Default)]
pub(crate) struct ThreadSpec {
    /// `None`: each kind of thread keeps its default name.
    pub(crate) name: Option<NameFn>,
    /// `None`: std's default (2 MiB, or `RUST_MIN_STACK`).
    pub(crate) stack_size: Option<usize>,
    pub(crate) on_start: Option<Hook>,
    pub(crate) on_stop: Option<Hook>,
}

impl ThreadSpec {
    /// Starts a thread running `body`, named by the spec or else
    /// `default_name()`, with the spec's stack size. The start hook runs on
    /// the new thread before `body`, the stop hook after it (also if `body`
    /// unwinds). A panic in a hook is caught (the panic hook still reports
    /// it), so that the thread still does its part in the runtime's
    /// bookkeeping: a pool thread that died in a hook would never be
    /// counted out, and shutdown would wait for it for ever.
    pub(crate) fn spawn(
        &self,
        default_name: impl FnOnce() -> String,
        body: impl FnOnce() + Send + 'static,
    ) -> io::Result<JoinHandle<()>> {
        let name = match &self.name {
            Some(name) => name(),
            None => default_name(),
        };
        let mut builder = thread::Builder::new().name(name);
        if let Some(size) = self.stack_size {
            builder = builder.stack_size(size);
        }
        let (on_start, on_stop) = (self.on_start.clone(), self.on_stop.clone());
        builder.spawn(move || {
            /// Runs the stop hook when the body returns or unwinds.
            struct Stop(Option<Hook>);
            impl Drop for Stop {
                fn drop(&mut self) {
                    run_hook(self.0.as_ref());
                }
            }
            run_hook(on_start.as_ref());
            let _stop = Stop(on_stop);
            body();
        })
    }
}

fn run_hook(hook: Option<&Hook>) {
    if let Some(hook) = hook {
        let _ = catch_unwind(AssertUnwindSafe(|| hook()));
    }
}

impl fmt::Debug for ThreadSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadSpec")
            .field("name", &self.name.is_some())
            .field("stack_size", &self.stack_size)
            .field("on_start", &self.on_start.is_some())
            .field("on_stop", &self.on_stop.is_some())
            .finish()
    }
}
