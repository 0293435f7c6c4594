//! The pool's threads: one queue, one lock, threads made on demand and
//! retired when idle.
//!
//! # Lock rule
//!
//! The pool has one lock, [`Inner::state`], and it is a *leaf*: nothing
//! else is ever locked while it is held, and no user code runs under it.
//! Jobs are run, and dropped, only after it is released; a job wakes its
//! handle's waker (through the oneshot's own lock) on the pool thread with
//! the pool lock released. The one slow thing done under it is starting a
//! thread, so that registering the thread's join handle and counting it in
//! `live` is one step no worker can observe half-done.
//!
//! # Counting threads
//!
//! `live` counts threads started and not yet exited. `idle` counts threads
//! waiting for work that no submitter has claimed yet: a submitter that
//! finds `idle > 0` takes one off `idle`, adds one to `notified` and
//! signals the condition variable; whichever waiting thread wakes first and
//! finds `notified > 0` consumes it and goes to the queue. A thread that
//! wakes and finds no notification (a spurious wake, its keep-alive
//! expiring, or shutdown) was never claimed, so it takes itself off `idle`.
//! This is tokio's scheme: it keeps `idle` exact under spurious wake-ups,
//! so a burst of submissions never mistakes one sleeping thread for many.
//!
//! # Shutdown
//!
//! [`BlockingPool::shutdown`] sets the flag, drops the jobs still queued
//! (their handles resolve to a cancelled error) and wakes every waiting
//! thread. A thread finishes the job it is running, sees the flag and
//! exits. Each exiting thread, as its last locked step, moves its own join
//! handle into `last_exited` and joins the one it found there once it has
//! unlocked: that thread was already past its last lock, so the join is
//! prompt, and at any moment at most one exited thread is unjoined (tokio's
//! trick). Shutdown waits on `all_exited` until `live` is zero, then joins
//! the last one.

use crate::runtime::threads::ThreadSpec;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io;
use std::mem::MaybeUninit;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A unit of work for a pool thread. Built by `spawn` around the user's
/// closure: it catches the closure's panic and sends the outcome to the
/// handle, so running a job never unwinds in practice.
pub(crate) type Job = Box<dyn FnOnce() + Send + 'static>;

/// The default bound on threads of the global pool: tokio's default
/// `max_blocking_threads`. Go has no comparable small bound (an M is made
/// for every goroutine blocked in a syscall, up to `SetMaxThreads`, 10 000);
/// libuv has a fixed 4. Blocking work is mostly waiting, so the bound is
/// about memory (a thread's stack) rather than cores.
pub const DEFAULT_MAX_THREADS: usize = 512;

/// How long an idle thread of the global pool waits for work before it
/// exits: tokio's default `thread_keep_alive`. Long enough that a steady
/// trickle of file reads reuses threads, short enough that a burst leaves
/// no crowd of threads behind.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// An elastic pool of threads for blocking work: the thread behind
/// [`spawn_blocking`](super::spawn_blocking).
///
/// A submitted job goes to an idle thread if there is one; else, below
/// [`max_threads`](BlockingPool::max_threads), a new thread is started for
/// it; else it waits in a FIFO queue for the first thread to come free. A
/// thread that finds no work for [`keep_alive`](BlockingPool::keep_alive)
/// exits. So the pool costs no threads when unused and grows with demand,
/// as Go makes a new M when a goroutine blocks in a syscall.
///
/// Pool threads block every asynchronous signal (SIGINT, SIGTERM, SIGCHLD,
/// ...), so a signal meant for an event loop's signalfd is never taken by
/// a pool thread; fault signals (SIGSEGV, ...) stay deliverable.
///
/// Most code uses a pool through [`spawn_blocking`](super::spawn_blocking):
/// each runtime has its own (configured by its
/// [`Builder`](crate::Builder), shut down when it is dropped), and code
/// outside any runtime uses the [global](BlockingPool::global) one. A pool
/// of one's own, from [`BlockingPool::new`], has its own bound and can be
/// [shut down](BlockingPool::shutdown) and joined.
///
/// Dropping a `BlockingPool` shuts it down without waiting: queued jobs are
/// dropped, and running ones finish on their detached threads.
pub struct BlockingPool {
    inner: Arc<Inner>,
}

struct Inner {
    /// Everything that changes. A leaf lock; see the module docs.
    state: Mutex<State>,
    /// Idle threads wait here for a job, shutdown, or their keep-alive to
    /// expire.
    work_ready: Condvar,
    /// [`BlockingPool::shutdown`] waits here for `live` to reach zero.
    all_exited: Condvar,
    max_threads: usize,
    keep_alive: Duration,
    /// How threads are named and started (a runtime's builder knobs).
    spec: ThreadSpec,
}

struct State {
    /// Jobs not yet taken by a thread, oldest first.
    queue: VecDeque<Job>,
    /// Threads started and not past their last lock. Never above
    /// `max_threads`.
    live: usize,
    /// Waiting threads not yet claimed by a submitter. `idle <= live`.
    idle: usize,
    /// Wake-ups signalled and not yet consumed by a waking thread.
    notified: usize,
    /// Set once by shutdown (or drop); no job is queued after it.
    shutdown: bool,
    /// Join handles of live threads, by thread number. A thread's entry is
    /// present whenever that thread holds the lock (it is inserted in the
    /// same locked step that starts the thread).
    workers: HashMap<usize, JoinHandle<()>>,
    /// The join handle of the most recently exited thread, not yet joined.
    last_exited: Option<JoinHandle<()>>,
    /// Number for the next thread (its name, and its key in `workers`).
    next_worker: usize,
}

impl BlockingPool {
    /// A pool of at most `max_threads` threads, each exiting after
    /// `keep_alive` without work. No thread starts until the first job.
    ///
    /// # Panics
    ///
    /// If `max_threads` is zero: such a pool could never run anything.
    pub fn new(max_threads: usize, keep_alive: Duration) -> BlockingPool {
        BlockingPool::with_spec(max_threads, keep_alive, ThreadSpec::default())
    }

    /// As [`new`](BlockingPool::new), with a runtime's thread knobs (name,
    /// stack size, start and stop hooks).
    pub(crate) fn with_spec(max_threads: usize, keep_alive: Duration, spec: ThreadSpec) -> BlockingPool {
        assert!(max_threads > 0, "a blocking pool needs at least one thread");
        BlockingPool {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    live: 0,
                    idle: 0,
                    notified: 0,
                    shutdown: false,
                    workers: HashMap::new(),
                    last_exited: None,
                    next_worker: 0,
                }),
                work_ready: Condvar::new(),
                all_exited: Condvar::new(),
                max_threads,
                keep_alive,
                spec,
            }),
        }
    }

    /// The process-wide pool behind [`spawn_blocking`](super::spawn_blocking)
    /// outside a runtime: [`DEFAULT_MAX_THREADS`] threads at most,
    /// [`DEFAULT_KEEP_ALIVE`].
    ///
    /// Created on first use and never shut down. It holds no thread until a
    /// job arrives and none again `DEFAULT_KEEP_ALIVE` after the last one;
    /// a process that forks should do so while it has none (the child
    /// inherits only the forking thread, and a job queued in the parent's
    /// pool would never run in the child).
    pub fn global() -> &'static BlockingPool {
        static GLOBAL: OnceLock<BlockingPool> = OnceLock::new();
        GLOBAL.get_or_init(|| BlockingPool::new(DEFAULT_MAX_THREADS, DEFAULT_KEEP_ALIVE))
    }

    /// The bound on threads this pool runs at once.
    pub fn max_threads(&self) -> usize {
        self.inner.max_threads
    }

    /// How long a thread waits for work before it exits.
    pub fn keep_alive(&self) -> Duration {
        self.inner.keep_alive
    }

    /// Threads started and not yet exited (busy or idle).
    pub fn live_threads(&self) -> usize {
        self.inner.lock().live
    }

    /// Threads waiting for work.
    pub fn idle_threads(&self) -> usize {
        self.inner.lock().idle
    }

    /// Jobs waiting for a thread.
    pub fn queued_jobs(&self) -> usize {
        self.inner.lock().queue.len()
    }

    /// Queues `job`. Gives it back if the pool is shut down, or if no
    /// thread could be started and none is running to take it later.
    pub(crate) fn submit(&self, job: Job) -> Result<(), Job> {
        let mut state = self.inner.lock();
        if state.shutdown {
            return Err(job);
        }
        state.queue.push_back(job);
        if state.idle > 0 {
            state.idle -= 1;
            state.notified += 1;
            self.inner.work_ready.notify_one();
        } else if state.live < self.inner.max_threads {
            let number = state.next_worker;
            state.next_worker += 1;
            let inner = Arc::clone(&self.inner);
            match start_thread(&self.inner.spec, number, move || run_worker(inner, number)) {
                Ok(handle) => {
                    state.live += 1;
                    state.workers.insert(number, handle);
                }
                // Out of threads (EAGAIN) with others running: they will
                // take the job when they come free.
                Err(_) if state.live > 0 => {}
                Err(_) => {
                    // No thread will ever look at the queue; and since a
                    // thread exits only with the queue empty, the job just
                    // pushed is the only one in it.
                    let job = state.queue.pop_back().expect("the job just pushed");
                    return Err(job);
                }
            }
        }
        // Else every thread is busy and the pool is at its bound: the job
        // waits for the first thread to finish.
        Ok(())
    }

    /// Shuts the pool down and waits up to `timeout` for its threads to
    /// exit. Returns whether they all did (and were joined).
    ///
    /// Jobs still queued are dropped, and their handles resolve to a
    /// cancelled [`JoinError`](crate::task::JoinError); jobs already running
    /// finish first (a thread cannot be interrupted), which is what the
    /// timeout bounds. Jobs submitted afterwards are cancelled at once.
    /// Calling it again waits again. Called from one of this pool's own
    /// jobs it can only time out, since that job's thread is still live.
    pub fn shutdown(&self, timeout: Duration) -> bool {
        // `None`: a timeout too long to represent, i.e. no timeout.
        let deadline = Instant::now().checked_add(timeout);
        let dropped = self.begin_shutdown();
        drop(dropped); // outside the lock: dropping a job wakes its handle

        let mut state = self.inner.lock();
        while state.live > 0 {
            state = match deadline {
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return false;
                    }
                    self.inner.all_exited.wait_timeout(state, left).unwrap_or_else(PoisonError::into_inner).0
                }
                None => self.inner.all_exited.wait(state).unwrap_or_else(PoisonError::into_inner),
            };
        }
        // Every thread is past its last lock: the joins below are prompt.
        let last = state.last_exited.take();
        let rest: Vec<_> = state.workers.drain().map(|(_, h)| h).collect();
        drop(state);
        for handle in last.into_iter().chain(rest) {
            // A thread's job panics are caught inside it; nothing to report.
            let _ = handle.join();
        }
        true
    }

    /// Sets the shutdown flag and wakes every waiting thread. Returns the
    /// queued jobs, to be dropped by the caller after the lock is released.
    fn begin_shutdown(&self) -> VecDeque<Job> {
        let mut state = self.inner.lock();
        state.shutdown = true;
        self.inner.work_ready.notify_all();
        std::mem::take(&mut state.queue)
    }
}

impl Drop for BlockingPool {
    fn drop(&mut self) {
        let dropped = self.begin_shutdown();
        drop(dropped);
    }
}

impl fmt::Debug for BlockingPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.lock();
        f.debug_struct("BlockingPool")
            .field("max_threads", &self.inner.max_threads)
            .field("keep_alive", &self.inner.keep_alive)
            .field("live", &state.live)
            .field("idle", &state.idle)
            .field("queued", &state.queue.len())
            .field("shutdown", &state.shutdown)
            .finish()
    }
}

impl Inner {
    /// Locks the state. A poisoned lock is taken anyway: no code that can
    /// panic runs under it, so poison would mean a bug in this file, and
    /// the counters are still the best information there is.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The body of pool thread `number`: run jobs until the queue is empty,
/// wait up to `keep_alive` for more, exit on timeout or shutdown.
fn run_worker(inner: Arc<Inner>, number: usize) {
    let mut state = inner.lock();
    'work: loop {
        while let Some(job) = state.queue.pop_front() {
            drop(state);
            // The job catches its closure's panic itself; this catch only
            // keeps a panicking destructor (of an unsent output) from
            // killing the thread behind the counters' back.
            let _ = panic::catch_unwind(AssertUnwindSafe(job));
            state = inner.lock();
        }
        if state.shutdown {
            break;
        }
        state.idle += 1;
        // `None`: a keep-alive too long to represent, i.e. forever.
        let deadline = Instant::now().checked_add(inner.keep_alive);
        loop {
            state = match deadline {
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    inner.work_ready.wait_timeout(state, left).unwrap_or_else(PoisonError::into_inner).0
                }
                None => inner.work_ready.wait(state).unwrap_or_else(PoisonError::into_inner),
            };
            if state.notified > 0 {
                // Claimed: the submitter already took us off `idle`.
                state.notified -= 1;
                continue 'work;
            }
            if state.shutdown || deadline.is_some_and(|d| Instant::now() >= d) {
                state.idle -= 1;
                break 'work;
            }
            // A spurious wake-up: still idle, keep waiting.
        }
    }
    // Exit: the last locked step. After it, this thread touches no pool
    // state except to join the previously exited thread.
    state.live -= 1;
    let me = state.workers.remove(&number);
    let previous = std::mem::replace(&mut state.last_exited, me);
    if state.live == 0 {
        inner.all_exited.notify_all();
    }
    drop(state);
    if let Some(previous) = previous {
        let _ = previous.join();
    }
}

/// Starts pool thread `number` with every asynchronous signal blocked, so
/// that a process-directed signal (SIGINT, SIGCHLD, ...) is never delivered
/// to it: the kernel picks any thread that does not block a signal, and a
/// pool thread would neither handle it nor let an event loop's signalfd see
/// it. The mask is set on the calling thread around the spawn, since a new
/// thread inherits its creator's mask: blocking it from inside the new
/// thread would leave a window before its first instruction.
fn start_thread(
    spec: &ThreadSpec,
    number: usize,
    body: impl FnOnce() + Send + 'static,
) -> io::Result<JoinHandle<()>> {
    let mut blocked = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: `blocked` is valid for writes of a sigset_t; sigfillset
    // initialises all of it (it cannot fail for a valid pointer).
    unsafe { libc::sigfillset(blocked.as_mut_ptr()) };
    for fault in [libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL, libc::SIGTRAP, libc::SIGSYS] {
        // SAFETY: `blocked` was initialised above and `fault` is a valid
        // signal number.
        unsafe { libc::sigdelset(blocked.as_mut_ptr(), fault) };
    }
    let mut old = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: `blocked` is initialised; `old` is valid for writes and is
    // filled in when the call succeeds. SIG_BLOCK only adds to the mask.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, blocked.as_ptr(), old.as_mut_ptr()) };
    let spawned = spec.spawn(|| format!("spindle-blocking-{number}"), body);
    if rc == 0 {
        // SAFETY: rc == 0, so pthread_sigmask filled in `old` with the
        // caller's previous mask; restoring it undoes the block above.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, old.as_ptr(), std::ptr::null_mut()) };
    }
    spawned
}
