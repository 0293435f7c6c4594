//! [`Builder`]: configures and builds a [`Runtime`].

use super::current_thread::Core;
use super::multi_thread::sysmon::{BlockedTask, BlockedTaskCb, DEFAULT_BLOCKED_THRESHOLD};
use super::multi_thread::{Config, MultiThread};
use super::threads::ThreadSpec;
use super::Runtime;
use crate::blocking::{BlockingPool, DEFAULT_KEEP_ALIVE, DEFAULT_MAX_THREADS};
use crate::time::clock::NEEDS_CURRENT_THREAD;
use spindle_loop::{Backend, Coalesce, Loop};
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
/// # Threads
///
/// A runtime starts two kinds of thread, and the thread knobs
/// ([`thread_name`](Builder::thread_name),
/// [`thread_name_fn`](Builder::thread_name_fn),
/// [`thread_stack_size`](Builder::thread_stack_size),
/// [`on_thread_start`](Builder::on_thread_start),
/// [`on_thread_stop`](Builder::on_thread_stop)) apply to both, as tokio's
/// do:
///
/// * the multi-thread runtime's workers (including the replacement a
///   [`block_in_place`](crate::block_in_place) starts). The current-thread
///   runtime has none: its tasks run on the thread that calls
///   [`Runtime::block_on`], which is the caller's, so no knob touches it;
/// * the runtime's own blocking pool, which runs
///   [`spawn_blocking`](crate::spawn_blocking) closures (and the
///   [`fs`](crate::fs) and DNS work built on it) called from the runtime's
///   tasks and `block_on`, sized by
///   [`max_blocking_threads`](Builder::max_blocking_threads) and
///   [`thread_keep_alive`](Builder::thread_keep_alive). Both flavors
///   have one.
///
/// The multi-thread runtime's monitor thread (`spindle-rt-sysmon`, which
/// runs no user code) is internal and keeps its own name and defaults.
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
    threads: ThreadSpec,
    max_blocking_threads: usize,
    keep_alive: Duration,
    start_paused: bool,
    coalesce: Option<Coalesce>,
}

impl Builder {
    fn new(flavor: Flavor) -> Builder {
        Builder {
            flavor,
            backend: None,
            workers: None,
            blocked_threshold: DEFAULT_BLOCKED_THRESHOLD,
            on_blocked: None,
            threads: ThreadSpec::default(),
            max_blocking_threads: DEFAULT_MAX_THREADS,
            keep_alive: DEFAULT_KEEP_ALIVE,
            start_paused: false,
            coalesce: None,
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

    /// Names every thread the runtime starts `name` (see
    /// [Threads](Builder#threads)). Default: `spindle-rt-worker-N` for
    /// workers, `spindle-blocking-N` for blocking-pool threads. Replaces an
    /// earlier [`thread_name_fn`](Builder::thread_name_fn).
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Builder {
        let name = name.into();
        self.threads.name = Some(Arc::new(move || name.clone()));
        self
    }

    /// Names each thread the runtime starts by calling `f` (see
    /// [Threads](Builder#threads)), on the thread that starts it, just
    /// before. Replaces an earlier [`thread_name`](Builder::thread_name).
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// let rt = spindle_rt::Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .thread_name_fn(|| {
    ///         static N: AtomicUsize = AtomicUsize::new(0);
    ///         format!("app-{}", N.fetch_add(1, Ordering::Relaxed))
    ///     })
    ///     .build()?;
    /// let name = rt.block_on(rt.spawn(async { std::thread::current().name().map(String::from) }));
    /// assert!(name.unwrap().unwrap().starts_with("app-"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn thread_name_fn(&mut self, f: impl Fn() -> String + Send + Sync + 'static) -> &mut Builder {
        self.threads.name = Some(Arc::new(f));
        self
    }

    /// The stack size, in bytes, of every thread the runtime starts (see
    /// [Threads](Builder#threads)). Default: std's (2 MiB unless
    /// `RUST_MIN_STACK` says otherwise). The platform may round it up.
    pub fn thread_stack_size(&mut self, bytes: usize) -> &mut Builder {
        self.threads.stack_size = Some(bytes);
        self
    }

    /// Calls `f` on each thread the runtime starts (see
    /// [Threads](Builder#threads)), first thing, before it runs any task or
    /// closure: to set up thread-locals, pin a CPU, register with a
    /// profiler. A panic in `f` is reported by the panic hook and otherwise
    /// ignored: the thread goes on with its work.
    pub fn on_thread_start(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Builder {
        self.threads.on_start = Some(Arc::new(f));
        self
    }

    /// Calls `f` on each thread the runtime started, last thing before it
    /// exits: a worker at shutdown (or after handing its work on in
    /// [`block_in_place`](crate::block_in_place)), a blocking-pool thread
    /// when its keep-alive expires or at shutdown. Once the runtime is
    /// dropped (without a timeout cutting the wait short), every start has
    /// had its stop. Panics are treated as in
    /// [`on_thread_start`](Builder::on_thread_start).
    pub fn on_thread_stop(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Builder {
        self.threads.on_stop = Some(Arc::new(f));
        self
    }

    /// The most threads the runtime's blocking pool runs at once (default
    /// [`DEFAULT_MAX_THREADS`], 512): beyond it, `spawn_blocking` closures
    /// wait in a queue for a thread to come free. Does not count the
    /// multi-thread runtime's workers.
    ///
    /// # Panics
    /// If `n` is zero: such a pool could never run anything.
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Builder {
        assert!(n > 0, "max_blocking_threads must be at least 1");
        self.max_blocking_threads = n;
        self
    }

    /// How long an idle blocking-pool thread waits for another closure
    /// before it exits (default [`DEFAULT_KEEP_ALIVE`], 10 s).
    pub fn thread_keep_alive(&mut self, keep_alive: Duration) -> &mut Builder {
        self.keep_alive = keep_alive;
        self
    }

    /// Current-thread runtime: whether its clock starts paused (default
    /// `false`), as if [`time::pause`](crate::time::pause) were the first
    /// thing it ran, except that the clock stands exactly on the timer
    /// wheel's first millisecond. Sleeps, timeouts and intervals then
    /// complete without real waiting, in deadline order, whenever the
    /// runtime has nothing else to do (see
    /// [Paused time](crate::time#paused-time)). For tests; tokio's
    /// `Builder::start_paused`.
    ///
    /// # Panics
    /// [`build`](Builder::build) panics if this is `true` for a
    /// multi-thread runtime, whose clock cannot be paused.
    ///
    /// ```
    /// use spindle_rt::time::{sleep, Instant};
    /// use std::time::Duration;
    ///
    /// let rt = spindle_rt::Builder::new_current_thread().start_paused(true).build()?;
    /// let elapsed = rt.block_on(async {
    ///     let start = Instant::now();
    ///     sleep(Duration::from_secs(24 * 3600)).await; // no real waiting
    ///     start.elapsed()
    /// });
    /// assert_eq!(elapsed, Duration::from_secs(24 * 3600));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start_paused(&mut self, start_paused: bool) -> &mut Builder {
        self.start_paused = start_paused;
        self
    }

    /// Batches the IO polls of a busy current-thread runtime: while at
    /// least `min_active` distinct sockets were ready within the last
    /// millisecond, the runtime's loop sleeps `wait` before each poll that
    /// follows one which found events, so that one `epoll_wait` takes many
    /// sockets at once. A zero `wait` turns it off, which is the default.
    ///
    /// This is interrupt moderation, as network cards do it (and as
    /// `spindle kv` does by default): a server that goes back to sleep in
    /// the poller after every ready socket must be woken by its clients on
    /// nearly every write, which costs them a wake-up (on a virtual
    /// machine, an inter-processor interrupt) and costs the server a
    /// context switch. With tens to hundreds of busy connections and CPU
    /// to spare, the wait raises throughput and lowers CPU per request
    /// (measured against tokio on the hello benchmark at 100 connections:
    /// 1.04x the requests/s at 0.98x the CPU and 0.90x the p99). On a
    /// server near saturation events wait at every poll anyway, and the
    /// sleep only adds context switches: at 1000 connections CPU per
    /// request rose 3-8%, which is why it is off by default. Each request
    /// may wait up to `wait` longer, and a few clients in lock-step would
    /// just wait, hence `min_active`. See spindle-loop's
    /// `Loop::set_coalesce` for the rule and `bench/RESULTS.md` for the
    /// figures.
    ///
    /// The multi-thread runtime ignores it: its idle workers take turns
    /// on the netpoller, and a sleeping poller would delay the wake-ups of
    /// every worker.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = spindle_rt::Builder::new_current_thread()
    ///     .io_coalesce(Duration::from_micros(40), 32)
    ///     .build()?;
    /// assert_eq!(rt.block_on(async { 6 * 7 }), 42);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn io_coalesce(&mut self, wait: Duration, min_active: usize) -> &mut Builder {
        self.coalesce = (!wait.is_zero()).then_some(Coalesce { wait, min_active });
        self
    }

    /// Does nothing: IO and time are always on. For code written for
    /// tokio, whose builders start with both off (tokio's
    /// `Builder::enable_all`); what a port would otherwise have to delete.
    ///
    /// ```
    /// let rt = spindle_rt::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    /// let waited = rt.block_on(spindle_rt::time::timeout(
    ///     std::time::Duration::from_millis(1),
    ///     std::future::pending::<()>(),
    /// ));
    /// assert!(waited.is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn enable_all(&mut self) -> &mut Builder {
        self
    }

    /// Does nothing: the IO driver is always on (tokio's
    /// `Builder::enable_io`).
    pub fn enable_io(&mut self) -> &mut Builder {
        self
    }

    /// Does nothing: timers are always on (tokio's `Builder::enable_time`).
    pub fn enable_time(&mut self) -> &mut Builder {
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
    ///
    /// # Panics
    /// If [`start_paused`](Builder::start_paused) was set for a
    /// multi-thread runtime (as tokio's does).
    pub fn build(&mut self) -> io::Result<Runtime> {
        if self.start_paused && self.flavor == Flavor::MultiThread {
            panic!("{NEEDS_CURRENT_THREAD}");
        }
        let blocking = Arc::new(BlockingPool::with_spec(
            self.max_blocking_threads,
            self.keep_alive,
            self.threads.clone(),
        ));
        match self.flavor {
            Flavor::CurrentThread => {
                let mut lp = match self.backend {
                    Some(b) => Loop::with_backend(b)?,
                    None => Loop::new()?,
                };
                lp.set_coalesce(self.coalesce);
                Ok(Runtime::from_core(Core::new(lp, blocking, self.start_paused)?))
            }
            Flavor::MultiThread => {
                let config = Config {
                    workers: self.workers.unwrap_or_else(Builder::default_workers),
                    backend: self.backend,
                    blocked_threshold: self.blocked_threshold,
                    on_blocked: self.on_blocked.clone(),
                    threads: self.threads.clone(),
                    blocking,
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
            .field("threads", &self.threads)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("thread_keep_alive", &self.keep_alive)
            .field("start_paused", &self.start_paused)
            .field("io_coalesce", &self.coalesce)
            .finish()
    }
}
