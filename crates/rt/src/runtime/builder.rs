//! [`Builder`]: configures and builds a [`Runtime`].

use super::current_thread::Core;
use super::multi_thread::sysmon::{BlockedTask, BlockedTaskCb, DEFAULT_BLOCKED_THRESHOLD};
use super::multi_thread::{Config, MultiThread};
use super::Runtime;
use spindle_loop::{Backend, Loop};
use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// The environment variable that sets a multi-thread runtime's default
/// worker count (as `TOKIO_WORKER_THREADS` does for tokio, or `GOMAXPROCS`
/// for Go).
pub const WORKER_THREADS_ENV: &str = "SPINDLE_WORKER_THREADS";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavor {
    CurrentThread,
    MultiThread,
}

/// Configures a [`Runtime`].
///
/// ```
/// use spindle_rt::runtime::Builder;
///
/// let rt = Builder::new_current_thread().build()?;
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
///
/// let rt = Builder::new_multi_thread().worker_threads(2).build()?;
/// let answer = rt.block_on(rt.spawn(async { 6 * 7 }));
/// assert_eq!(answer.unwrap(), 42);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Builder {
    flavor: Flavor,
    backend: Option<Backend>,
    workers: Option<usize>,
    blocked_threshold: Duration,
    on_blocked: Option<BlockedTaskCb>,
}

impl Builder {
    fn new(flavor: Flavor) -> Builder {
        Builder {
            flavor,
            backend: None,
            workers: None,
            blocked_threshold: DEFAULT_BLOCKED_THRESHOLD,
            on_blocked: None,
        }
    }

    /// A builder for the current-thread runtime: every task runs on the
    /// thread that builds it and calls [`Runtime::block_on`].
    pub fn new_current_thread() -> Builder {
        Builder::new(Flavor::CurrentThread)
    }

    /// A builder for the multi-thread runtime: Go's G-M-P scheduler. Each
    /// worker thread (M) runs one P: a lock-free local run queue of 256
    /// tasks plus a LIFO slot for the task the running one just woke. Idle
    /// workers take from the global queue, steal half of a random victim's
    /// queue, and then sleep, one of them in the netpoller. A task that
    /// holds its worker past [`blocked_threshold`](Builder::blocked_threshold)
    /// is reported by a monitor thread (Go's sysmon).
    pub fn new_multi_thread() -> Builder {
        Builder::new(Flavor::MultiThread)
    }

    /// The poller backend (default: the one named by `SPINDLE_POLLER`,
    /// epoll if unset; see [`Loop::new`]).
    pub fn backend(&mut self, backend: Backend) -> &mut Builder {
        self.backend = Some(backend);
        self
    }

    /// Multi-thread runtime: the number of workers (P's). Default: the
    /// value of [`WORKER_THREADS_ENV`] if set, else the number of CPUs this
    /// process may run on. Zero is taken as one. Ignored by the
    /// current-thread runtime.
    pub fn worker_threads(&mut self, n: usize) -> &mut Builder {
        self.workers = Some(n.max(1));
        self
    }

    /// Multi-thread runtime: how long one poll of a task may hold a worker
    /// before the monitor reports it (default
    /// [`DEFAULT_BLOCKED_THRESHOLD`], 100 ms).
    pub fn blocked_threshold(&mut self, threshold: Duration) -> &mut Builder {
        self.blocked_threshold = threshold;
        self
    }

    /// Multi-thread runtime: receives the monitor's reports instead of
    /// stderr. Called on the monitor thread; keep it short.
    pub fn on_blocked_task(&mut self, f: impl Fn(&BlockedTask) + Send + Sync + 'static) -> &mut Builder {
        self.on_blocked = Some(Arc::new(f));
        self
    }

    fn default_workers() -> usize {
        if let Some(n) = std::env::var(WORKER_THREADS_ENV).ok().and_then(|v| v.trim().parse::<usize>().ok()) {
            return n.max(1);
        }
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }

    /// Builds the runtime: a new spindle-loop `Loop` for the current-thread
    /// runtime; the workers, their poller and the monitor thread for the
    /// multi-thread one.
    ///
    /// # Errors
    /// The kernel refusing a poller or a thread, or an unknown
    /// `SPINDLE_POLLER`.
    pub fn build(&mut self) -> io::Result<Runtime> {
        match self.flavor {
            Flavor::CurrentThread => {
                let lp = match self.backend {
                    Some(b) => Loop::with_backend(b)?,
                    None => Loop::new()?,
                };
                Ok(Runtime::from_core(Core::new(lp)?))
            }
            Flavor::MultiThread => {
                let config = Config {
                    workers: self.workers.unwrap_or_else(Builder::default_workers),
                    backend: self.backend,
                    blocked_threshold: self.blocked_threshold,
                    on_blocked: self.on_blocked.clone(),
                };
                Ok(Runtime::from_multi_thread(MultiThread::start(config)?))
            }
        }
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("flavor", &self.flavor)
            .field("backend", &self.backend)
            .field("workers", &self.workers)
            .field("blocked_threshold", &self.blocked_threshold)
            .field("on_blocked", &self.on_blocked.is_some())
            .finish()
    }
}
