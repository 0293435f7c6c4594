//! The blocking-work pool (libuv's threadpool, `uv_queue_work`).
//!
//! ## Why a pool
//!
//! The loop learns what it can do without blocking from the poller, but
//! readiness only means something for sockets, pipes and terminals. A regular
//! file is *always* "ready" to epoll (epoll even refuses to register one, and
//! poll and select report it readable at once), yet reading it can still wait
//! tens of milliseconds for the disk. Name resolution (`getaddrinfo`) has no
//! descriptor at all, and hashing a password is just slow. Such work goes to
//! a small set of threads: [`Loop::queue_work`] runs `work` on a pool thread
//! and `after` back on the loop thread, where it may touch loop state. Node's
//! `fs` and `dns.lookup` work this way, which is why four slow file reads
//! at once can delay a fifth in Node: the pool has four threads by default.
//!
//! ## How a request travels
//!
//! ```text
//!   loop thread                         pool thread
//!   queue_work: after -> table[id],
//!               active_reqs += 1,
//!               (id, work) -> queue  --> pops (id, work), runs work
//!                                        (a panic is caught)
//!   run_remote <-- Remote::post((id, result)) + wake the poller
//!   pool_complete: table[id] -> after(result), active_reqs -= 1
//! ```
//!
//! `after` is not `Send` (it may hold `Rc`s of the loop thread), so it never
//! leaves the loop thread: it waits in a table keyed by the request id, and
//! only `work` and its type-erased result cross threads. Each request counts
//! in the loop's `active_reqs` until its `after` has run, so
//! [`RunMode::Default`](crate::RunMode::Default) waits for outstanding work
//! just as it waits for active handles.
//!
//! ## Threads, size, signals
//!
//! Each loop has its own pool (no hidden process-wide threads: a program that
//! forks can see them), started on first use with `SPINDLE_THREADPOOL_SIZE`
//! threads (default 4; clamped to 1..=1024 as libuv clamps
//! `UV_THREADPOOL_SIZE`). Pool threads are created with every asynchronous
//! signal blocked, so a process-directed signal meant for a signal handle's
//! signalfd can never be taken by a pool thread.
//!
//! ## Shutdown
//!
//! Dropping the loop tells the workers to exit and joins them. Work still in
//! the queue is dropped without running (and its `after` never runs); work
//! already running is waited for, so a `work` that blocks forever makes the
//! drop block forever too. Running work cannot be interrupted safely in Rust,
//! and detaching the thread would let it outlive the data it borrows from
//! the process.

use crate::Loop;
use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// The default pool size, libuv's.
pub const DEFAULT_THREADPOOL_SIZE: usize = 4;
/// The largest pool size honoured, libuv's `MAX_THREADPOOL_SIZE`.
pub const MAX_THREADPOOL_SIZE: usize = 1024;

/// Names one request queued with [`Loop::queue_work`], for
/// [`Loop::cancel_work`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WorkId(u64);

/// A type-erased result of `work`.
type Output = Box<dyn Any + Send>;
type Work = Box<dyn FnOnce() -> Output + Send>;
type After = Box<dyn FnOnce(&mut Loop, io::Result<Output>)>;

/// A finished piece of pool work, posted back to the loop.
pub(crate) struct Completion {
    id: u64,
    result: io::Result<Output>,
}

struct Job {
    id: u64,
    work: Work,
}

/// What the queue lock guards.
struct Queue {
    jobs: VecDeque<Job>,
    /// Set once, by `pool_shutdown`: workers exit instead of waiting.
    shutdown: bool,
}

/// What the loop and its workers share.
struct Shared {
    /// Lock rule: held only to push, pop or remove jobs and to read or set
    /// `shutdown`; never while running `work`, never while posting a
    /// completion (which takes the loop's `posted` lock). So no thread ever
    /// holds two locks at once and there is no lock order to get wrong.
    queue: Mutex<Queue>,
    /// Signalled on every push (one waiter) and on shutdown (all).
    ready: Condvar,
    remote: Arc<crate::async_handle::Remote>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // Never poisoned in practice (no user code runs under the lock), and
        // the queue stays consistent if it were.
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The loop-side state of the pool.
#[derive(Default)]
pub(crate) struct PoolState {
    /// `after` of every request whose `after` has not run yet; its length is
    /// the pool's share of `Loop::active_reqs`.
    afters: HashMap<u64, After>,
    next_id: u64,
    /// `Some` once the workers are started.
    shared: Option<Arc<Shared>>,
    threads: Vec<JoinHandle<()>>,
}

/// The pool size `SPINDLE_THREADPOOL_SIZE` asks for: unset means the
/// default, numbers are clamped to `1..=1024`, anything else logs a warning
/// and means the default.
pub(crate) fn size_from(value: Option<&std::ffi::OsStr>) -> usize {
    let Some(value) = value else { return DEFAULT_THREADPOOL_SIZE };
    match value.to_str().map(|s| s.trim().parse::<u64>()) {
        Some(Ok(n)) => usize::try_from(n).unwrap_or(MAX_THREADPOOL_SIZE).clamp(1, MAX_THREADPOOL_SIZE),
        Some(Err(e)) if *e.kind() == std::num::IntErrorKind::PosOverflow => MAX_THREADPOOL_SIZE,
        _ => {
            tracing::warn!(
                value = ?value,
                default = DEFAULT_THREADPOOL_SIZE,
                "SPINDLE_THREADPOOL_SIZE is not a non-negative integer; using the default"
            );
            DEFAULT_THREADPOOL_SIZE
        }
    }
}

impl Loop {
    /// Runs `work` on a pool thread, then `after` with its result on the loop
    /// thread (`uv_queue_work`). The request keeps the loop alive until
    /// `after` has run.
    ///
    /// This is for work the poller cannot help with: a regular file is
    /// always "ready" to epoll, yet reading it may wait on the disk; name
    /// resolution has no descriptor at all; CPU-heavy work just takes long.
    /// Any of these on the loop thread would stall every other handle. The
    /// pool has `SPINDLE_THREADPOOL_SIZE` threads (default 4, clamped to
    /// 1..=1024, an unreadable value logs a warning and means 4), started on
    /// first use with every asynchronous signal blocked. `after` stays on the
    /// loop thread (it need not be `Send`); only `work` and its result cross.
    ///
    /// Dropping the loop drops queued work unrun (its `after` never runs)
    /// and waits for running work to finish.
    ///
    /// `after` receives `Err` when `work` panicked (kind `Other`, the panic
    /// message in the text; the pool thread survives), when the request was
    /// [cancelled](Loop::cancel_work) (kind `Interrupted`), or when no pool
    /// thread could be started (the spawn error).
    ///
    /// ```
    /// use spindle_loop::{Loop, RunMode};
    /// let mut lp = Loop::new()?;
    /// lp.queue_work(|| (1..=10u64).product::<u64>(), |_lp, r| {
    ///     assert_eq!(r.unwrap(), 3_628_800);
    /// });
    /// lp.run(RunMode::Default)?; // returns once `after` ran
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn queue_work<T: Send + 'static>(
        &mut self,
        work: impl FnOnce() -> T + Send + 'static,
        after: impl FnOnce(&mut Loop, io::Result<T>) + 'static,
    ) -> WorkId {
        self.pool.next_id += 1;
        let id = self.pool.next_id;
        let after: After = Box::new(move |lp, result| {
            after(
                lp,
                result.map(|out| match out.downcast::<T>() {
                    Ok(t) => *t,
                    Err(_) => unreachable!("a pool result has the type its work returns"),
                }),
            )
        });
        self.pool.afters.insert(id, after);
        self.active_reqs += 1;
        let work: Work = Box::new(move || Box::new(work()) as Output);
        match self.pool_start() {
            Ok(shared) => {
                shared.lock().jobs.push_back(Job { id, work });
                shared.ready.notify_one();
            }
            Err(e) => self.defer(Box::new(move |lp| lp.pool_finish(id, Err(e)))),
        }
        WorkId(id)
    }

    /// Cancels a request whose `work` has not started (`uv_cancel`). Its
    /// `after` then runs in the next pending phase with an `Interrupted`
    /// error, as libuv's runs with `UV_ECANCELED`.
    ///
    /// # Errors
    /// `EBUSY` (kind `ResourceBusy`) when `work` is already running or done,
    /// or the request was already cancelled; `NotFound` when its `after` has
    /// already run.
    pub fn cancel_work(&mut self, id: WorkId) -> io::Result<()> {
        if !self.pool.afters.contains_key(&id.0) {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{id:?} is finished: its after callback already ran"),
            ));
        }
        let job = self.pool.shared.as_ref().and_then(|shared| {
            let mut q = shared.lock();
            let at = q.jobs.iter().position(|j| j.id == id.0)?;
            q.jobs.remove(at)
        });
        match job {
            Some(job) => {
                drop(job);
                self.defer(Box::new(move |lp| lp.pool_finish(id.0, Err(cancelled()))));
                Ok(())
            }
            None => Err(io::Error::from_raw_os_error(libc::EBUSY)),
        }
    }

    /// How many threads the pool has, or will start with on first use.
    pub fn threadpool_size(&self) -> usize {
        if self.pool.shared.is_some() {
            self.pool.threads.len()
        } else {
            size_from(std::env::var_os("SPINDLE_THREADPOOL_SIZE").as_deref())
        }
    }

    /// The workers, started on first use.
    fn pool_start(&mut self) -> io::Result<Arc<Shared>> {
        if let Some(shared) = &self.pool.shared {
            return Ok(Arc::clone(shared));
        }
        let size = self.threadpool_size();
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue { jobs: VecDeque::new(), shutdown: false }),
            ready: Condvar::new(),
            remote: Arc::clone(&self.remote),
        });
        let mut last_error = None;
        crate::signal::sys::with_async_signals_blocked(|| {
            for n in 0..size {
                let s = Arc::clone(&shared);
                match std::thread::Builder::new().name(format!("spindle-pool-{n}")).spawn(move || worker(&s))
                {
                    Ok(t) => self.pool.threads.push(t),
                    Err(e) => last_error = Some(e),
                }
            }
        });
        if let Some(e) = last_error {
            if self.pool.threads.is_empty() {
                return Err(e);
            }
            let started = self.pool.threads.len();
            tracing::warn!(wanted = size, started, error = %e, "started fewer pool threads than asked for");
        }
        self.pool.shared = Some(Arc::clone(&shared));
        Ok(shared)
    }

    /// Runs the `after` of request `id`, if it has not run.
    fn pool_finish(&mut self, id: u64, result: io::Result<Output>) {
        if let Some(after) = self.pool.afters.remove(&id) {
            self.active_reqs -= 1;
            after(self, result);
        }
    }

    /// A completion posted by a worker, on the loop thread.
    pub(crate) fn pool_complete(&mut self, c: Completion) {
        self.pool_finish(c.id, c.result);
    }

    /// At loop drop: drop queued work, let running work finish, join.
    pub(crate) fn pool_shutdown(&mut self) {
        let Some(shared) = self.pool.shared.take() else { return };
        let queued = {
            let mut q = shared.lock();
            q.shutdown = true;
            std::mem::take(&mut q.jobs)
        };
        shared.ready.notify_all();
        drop(queued);
        for t in self.pool.threads.drain(..) {
            // A worker only ends by returning: work panics are caught.
            let _ = t.join();
        }
    }
}

/// A pool thread. Lock rule (the only one): the queue lock is held just to
/// take a job or see `shutdown`, and released before the job runs and before
/// its completion is posted, so a worker never holds two locks.
fn worker(shared: &Shared) {
    loop {
        let job = {
            let mut q = shared.lock();
            loop {
                if q.shutdown {
                    return;
                }
                if let Some(job) = q.jobs.pop_front() {
                    break job;
                }
                q = shared.ready.wait(q).unwrap_or_else(|p| p.into_inner());
            }
        };
        let result = catch_unwind(AssertUnwindSafe(job.work)).map_err(|payload| panicked(&*payload));
        shared.remote.post(Completion { id: job.id, result });
    }
}

/// The error `after` gets for a cancelled request.
fn cancelled() -> io::Error {
    io::Error::new(io::ErrorKind::Interrupted, "work cancelled before it started")
}

/// The error `after` gets when `work` panicked.
fn panicked(payload: &(dyn Any + Send)) -> io::Error {
    let msg = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a non-string payload");
    io::Error::other(format!("work panicked: {msg}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn size_parsing_follows_libuv() {
        assert_eq!(size_from(None), 4);
        assert_eq!(size_from(Some(OsStr::new("2"))), 2);
        assert_eq!(size_from(Some(OsStr::new(" 8 "))), 8);
        assert_eq!(size_from(Some(OsStr::new("0"))), 1);
        assert_eq!(size_from(Some(OsStr::new("5000"))), 1024);
        assert_eq!(size_from(Some(OsStr::new("99999999999999999999999"))), 1024);
        assert_eq!(size_from(Some(OsStr::new("-3"))), 4);
        assert_eq!(size_from(Some(OsStr::new("many"))), 4);
    }

    #[test]
    fn panic_message_is_reported() {
        let e = panicked(&"boom");
        assert!(e.to_string().contains("boom"), "{e}");
        let e = panicked(&String::from("bang"));
        assert!(e.to_string().contains("bang"), "{e}");
    }
}
