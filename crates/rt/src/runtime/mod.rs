//! The runtime: [`Runtime`], its [`Builder`] and [`Handle`], and the free
//! functions [`spawn`], [`spawn_local`], [`yield_now`] and
//! [`block_in_place`].
//!
//! Two schedulers sit behind one API. [`Builder::new_current_thread`] runs
//! every task on the thread that calls `block_on` (described below);
//! [`Builder::new_multi_thread`] runs them on a pool of worker threads with
//! Go's G-M-P scheduler (see [`Builder::new_multi_thread`] and the
//! [`sched`](crate::sched) module for the lock-free core). Sockets, timers,
//! sync primitives and `spawn_blocking` work the same on both, and a
//! socket is `Send + Sync` on both.
//!
//! # The current-thread model: one thread, one loop
//!
//! The current-thread runtime is the Node, Redis and asyncio model. One
//! thread runs one spindle-loop [`Loop`](spindle_loop::Loop), and every
//! task of the runtime is polled on that thread, by
//! [`Runtime::block_on`]. While `block_on` runs, each *tick*:
//!
//! 1. polls the main future, if its waker was woken;
//! 2. takes the remote queue (tasks woken on other threads) onto the local
//!    run queue, and runs up to 61 ready tasks from it, oldest first (a
//!    task woken by itself, `yield_now`, goes to the back);
//! 3. gives the loop one turn: `RunMode::NoWait` if work is still ready,
//!    else `RunMode::Once`, which sleeps in `epoll_wait` until a timer, an
//!    IO event or a wake from another thread.
//!
//! Nothing runs in parallel with a task, so a task may hold `Rc`s and
//! `RefCell`s across `.await`: that is what [`spawn_local`] is for. Its
//! future never leaves the thread: it is polled, and dropped, only here.
//! [`spawn`] takes `Send` futures, which is what other threads (through a
//! [`Handle`]) can hand in.
//!
//! # How a wake finds the thread
//!
//! A task's waker, when woken on the runtime's own thread (by another task,
//! or by a loop callback such as the time driver's timer), pushes the task
//! onto the local queue: no lock, no syscall. Woken on any other thread, it
//! pushes the task onto a mutex-guarded remote queue and sends the loop's
//! [`AsyncHandle`](spindle_loop::AsyncHandle): one eventfd write that makes
//! `epoll_wait` return, coalesced with every other send until the loop has
//! run (so a burst of a thousand remote wakes costs one syscall). The main
//! future's waker works the same way, with a flag instead of a queue. This
//! is the only way into the loop from outside, the loop's own rule.
//!
//! A loop callback that wakes something *before* the loop would sleep (the
//! time driver's timer runs first in each iteration) must not let it sleep:
//! the driver's timer stops the iteration, and a prepare handle stops it
//! whenever the local queue is not empty.
//!
//! # Time
//!
//! Each runtime owns a time driver: a [`TimerWheel`](crate::time::TimerWheel)
//! of sleeping tasks' wakers plus one loop timer, armed for the wheel's
//! next expiration before the loop sleeps. See [`crate::time`]. A
//! current-thread runtime's clock can be paused
//! ([`Builder::start_paused`], [`time::pause`](crate::time::pause)): step 3
//! then never sleeps while a timer is pending, but takes a non-blocking
//! turn and, if nothing woke, moves the clock to the earliest deadline
//! (see [Paused time](crate::time#paused-time)).
//!
//! # Fairness and blocking
//!
//! A task that never returns `Pending` holds the thread: no other task, no
//! timer and no IO runs until it does (the "don't block the event loop"
//! rule). Long computations belong on another thread.
//!
//! # Example
//!
//! ```
//! use spindle_rt::runtime::Builder;
//! use std::rc::Rc;
//! use std::cell::RefCell;
//!
//! let rt = Builder::new_current_thread().build()?;
//! let total = rt.block_on(async {
//!     let log = Rc::new(RefCell::new(Vec::new()));
//!     let l = log.clone();
//!     // `Rc` is not `Send`: fine on a one-thread runtime.
//!     spindle_rt::spawn_local(async move { l.borrow_mut().push(1) }).await.unwrap();
//!     let two = spindle_rt::spawn(async { 2 }).await.unwrap();
//!     log.borrow_mut().push(two);
//!     let sum = log.borrow().iter().sum::<i32>();
//!     sum
//! });
//! assert_eq!(total, 3);
//! # Ok::<(), std::io::Error>(())
//! ```

mod builder;
pub(crate) mod context;
pub(crate) mod current_thread;
pub(crate) mod multi_thread;
pub(crate) mod owned;
pub(crate) mod threads;

pub use builder::{Builder, WORKER_THREADS_ENV};
pub use multi_thread::sysmon::{BlockedTask, DEFAULT_BLOCKED_THRESHOLD};
/// The poller backends a runtime's loop can run on (see [`Builder::backend`]).
pub use spindle_loop::Backend;

use crate::blocking::BlockingPool;
use crate::task::JoinHandle;
use crate::time::driver::TimeDriver;
use current_thread::Core;
use multi_thread::MultiThread;
use std::fmt;
use std::future::{poll_fn, Future};
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

/// A runtime's scheduler, as [`Handle::runtime_flavor`] tells it
/// (tokio's `RuntimeFlavor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RuntimeFlavor {
    /// [`Builder::new_current_thread`]: every task on one thread.
    CurrentThread,
    /// [`Builder::new_multi_thread`]: the work-stealing workers.
    MultiThread,
}

/// A runtime's shared state, whichever the scheduler.
#[derive(Clone)]
pub(crate) enum Scheduler {
    CurrentThread(Arc<current_thread::Shared>),
    MultiThread(Arc<multi_thread::Shared>),
}

impl Scheduler {
    #[track_caller]
    fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Scheduler::CurrentThread(s) => s.spawn(future),
            Scheduler::MultiThread(s) => s.spawn(future),
        }
    }

    pub(crate) fn time(&self) -> &Arc<TimeDriver> {
        match self {
            Scheduler::CurrentThread(s) => &s.time,
            Scheduler::MultiThread(s) => &s.time,
        }
    }

    /// Runs `f` on the runtime's blocking pool with the runtime entered
    /// around it (as [`Handle::enter`] does), so the closure can
    /// `Handle::current()`, `spawn`, make sockets or `Handle::block_on`.
    ///
    /// On the current-thread runtime the closure also holds the clock's
    /// auto-advance (see "Paused time" in [`crate::time`]) from now until
    /// its result has been handed to its handle (and its waker woken), as
    /// tokio's does: a paused test's `fs` call must not see its timeout
    /// fire because the runtime looked idle while a pool thread worked.
    #[track_caller]
    pub(crate) fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let runtime = self.clone();
        let hold = match self {
            Scheduler::CurrentThread(s) => Some(HoldClock::new(Arc::clone(&s.time))),
            Scheduler::MultiThread(_) => None,
        };
        self.blocking().spawn_then(
            move || {
                let _enter = context::enter(context::Current::Entered(runtime));
                f()
            },
            hold,
        )
    }

    /// The runtime's IO driver.
    pub(crate) fn io(&self) -> &Arc<crate::io::driver::IoDriver> {
        match self {
            Scheduler::CurrentThread(s) => &s.io,
            Scheduler::MultiThread(s) => &s.io,
        }
    }

    /// The runtime's blocking pool.
    pub(crate) fn blocking(&self) -> &Arc<BlockingPool> {
        match self {
            Scheduler::CurrentThread(s) => &s.blocking,
            Scheduler::MultiThread(s) => &s.blocking,
        }
    }

    fn live_tasks(&self) -> usize {
        match self {
            Scheduler::CurrentThread(s) => s.live_tasks(),
            Scheduler::MultiThread(s) => s.live_tasks(),
        }
    }

    fn ptr(&self) -> *const () {
        match self {
            Scheduler::CurrentThread(s) => Arc::as_ptr(s).cast(),
            Scheduler::MultiThread(s) => Arc::as_ptr(s).cast(),
        }
    }
}

/// Holds a paused clock's auto-advance while it lives: one per blocking
/// closure of a current-thread runtime.
struct HoldClock(Arc<TimeDriver>);

impl HoldClock {
    fn new(time: Arc<TimeDriver>) -> HoldClock {
        time.clock().inhibit_auto_advance();
        HoldClock(time)
    }
}

impl Drop for HoldClock {
    fn drop(&mut self) {
        self.0.allow_auto_advance();
    }
}

enum Kind {
    /// `Rc`: keeps `Runtime` `!Send`, which `spawn_local`'s soundness needs.
    CurrentThread(Rc<Core>),
    MultiThread(MultiThread),
}

/// A runtime: the current-thread scheduler on a spindle-loop `Loop`, or
/// the multi-thread G-M-P scheduler on a pool of workers. Made by
/// [`Builder`].
///
/// `Runtime` is not `Send` (a current-thread runtime's loop and `!Send`
/// tasks belong to the thread that built it). Use a [`Handle`] to spawn
/// from other threads.
///
/// # Dropping
///
/// Dropping the runtime cancels every task that has not completed: their
/// futures are dropped, in spawn order, on the dropping thread, inside the
/// runtime's context (so a destructor may `spawn`, as with tokio; the new
/// task is cancelled at once), after a multi-thread runtime's workers have
/// stopped (a worker finishes the poll it is in, so dropping waits for a
/// task stuck in a blocking call); their `JoinHandle`s yield a cancelled
/// [`JoinError`](crate::task::JoinError). Then the queues, the timer wheel
/// and the IO driver are dropped: a socket still alive reports an error on
/// its next use, and a `Sleep` panics if polled again (one still waited on
/// outside the runtime, by `Handle::block_on` on another thread say, is
/// woken for that poll). A task spawned after that (through a `Handle`) is
/// cancelled at once.
///
/// Last, the runtime's blocking pool shuts down: closures queued and not
/// yet started are dropped (their handles yield a cancelled `JoinError`),
/// and the drop **waits for the closures already running** to return (a
/// thread cannot be interrupted), as tokio's does. A closure that may never
/// return (a read of stdin, a wait on a channel nobody will send to) would
/// hold the drop for ever: use [`shutdown_timeout`](Runtime::shutdown_timeout)
/// or [`shutdown_background`](Runtime::shutdown_background) to bound that
/// wait; the threads still running then are left to finish on their own.
///
/// ```
/// use spindle_rt::runtime::Builder;
/// use std::time::Duration;
///
/// for mut builder in [Builder::new_current_thread(), Builder::new_multi_thread()] {
///     let rt = builder.build()?;
///     let handle = rt.handle();
///     let out = rt.block_on(async {
///         let slow = spindle_rt::spawn(spindle_rt::time::sleep(Duration::from_secs(3600)));
///         let task = spindle_rt::spawn(async { "done" });
///         let out = task.await.unwrap();
///         drop(slow); // detached: still pending when the runtime goes
///         out
///     });
///     assert_eq!(out, "done");
///     drop(rt); // drops the sleeping task's future; does not wait an hour
///     let late = handle.spawn(async { 1 });
///     assert!(futures::executor::block_on(late).unwrap_err().is_cancelled());
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// ```compile_fail
/// fn assert_send<T: Send>() {}
/// assert_send::<spindle_rt::runtime::Runtime>();
/// ```
pub struct Runtime {
    kind: Kind,
    handle: Handle,
    /// How long the drop waits for blocking-pool threads (`Duration::MAX`:
    /// for ever; set by `shutdown_timeout`).
    blocking_wait: Duration,
}

impl Runtime {
    fn from_core(core: Rc<Core>) -> Runtime {
        let handle = Handle { inner: Scheduler::CurrentThread(Arc::clone(core.shared())) };
        Runtime { kind: Kind::CurrentThread(core), handle, blocking_wait: Duration::MAX }
    }

    fn from_multi_thread(mt: MultiThread) -> Runtime {
        let handle = Handle { inner: Scheduler::MultiThread(Arc::clone(mt.shared())) };
        Runtime { kind: Kind::MultiThread(mt), handle, blocking_wait: Duration::MAX }
    }

    /// A multi-thread runtime with the default configuration (one worker
    /// per CPU, or `SPINDLE_WORKER_THREADS`): tokio's `Runtime::new`,
    /// short for `Builder::new_multi_thread().build()`.
    ///
    /// ```
    /// let rt = spindle_rt::Runtime::new()?;
    /// assert_eq!(rt.block_on(async { spindle_rt::spawn(async { 6 * 7 }).await.unwrap() }), 42);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Builder::build`].
    pub fn new() -> std::io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }

    /// Makes this runtime current on this thread until the guard drops, so
    /// that `spawn` and the IO types' constructors work outside
    /// `block_on`; see [`Handle::enter`].
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// Runs `future` to completion on this thread and returns its output.
    ///
    /// On the current-thread runtime this thread also runs every task,
    /// timer and socket of the runtime while it waits; tasks still pending
    /// when it returns stay in the runtime and run again during the next
    /// `block_on`. On the multi-thread runtime the workers run the tasks
    /// all along, and this thread only polls `future`, sleeping between
    /// polls.
    ///
    /// # Panics
    ///
    /// * If called from within a spindle-rt runtime (inside `block_on`, or
    ///   from a task), this one or another: blocking the thread would stop
    ///   every task on it. The message starts with "cannot call `block_on`
    ///   from within a spindle-rt runtime".
    /// * If `future` panics (the panic propagates; tasks stay intact).
    /// * If the poller fails (a kernel error, never expected).
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        match &self.kind {
            Kind::CurrentThread(core) => {
                let _enter = context::enter(context::Current::Thread(Rc::clone(core)));
                core.block_on(future)
            }
            Kind::MultiThread(mt) => mt.block_on(future),
        }
    }

    /// Spawns a `Send` task; see [`Handle::spawn`].
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs `f` on the runtime's blocking pool; see
    /// [`Handle::spawn_blocking`].
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// A handle to this runtime, for other threads.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Drops the runtime (see [Dropping](Runtime#dropping)), waiting at
    /// most `timeout` for blocking-pool threads that are still running
    /// closures. Those still running after it are left to finish on their
    /// own, detached (their on-stop hook runs when they do).
    ///
    /// The timeout bounds only the waits on such user code: the tasks are
    /// cancelled first, and on the multi-thread runtime a worker finishes
    /// the poll it is in before it stops, so a task blocking inside a poll
    /// (rather than in `spawn_blocking`) still holds the shutdown up. A
    /// task inside [`block_in_place`] does not: its thread gave its worker
    /// role away, and it is waited for under the same timeout as the
    /// pool's threads (and left to finish detached past it), as in tokio.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let rt = spindle_rt::Builder::new_current_thread().build()?;
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let (started_tx, started_rx) = std::sync::mpsc::channel();
    /// // A closure stuck until someone sends: dropping would wait for it.
    /// let _stuck = rt.spawn_blocking(move || {
    ///     started_tx.send(()).unwrap();
    ///     rx.recv_timeout(Duration::from_secs(60))
    /// });
    /// started_rx.recv().unwrap();
    /// let start = Instant::now();
    /// rt.shutdown_timeout(Duration::from_millis(10));
    /// assert!(start.elapsed() < Duration::from_secs(30));
    /// drop(tx); // lets the detached closure return
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.blocking_wait = timeout;
    }

    /// Drops the runtime without waiting for blocking-pool threads at all:
    /// [`shutdown_timeout`](Runtime::shutdown_timeout) with a zero timeout.
    /// Useful when the runtime is dropped from a context that must not
    /// block on user closures.
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // Task futures (and queued blocking closures) are dropped inside
        // this runtime's context, as tokio drops them: a destructor that
        // calls `spawn` (a cleanup task; cancelled at once, the runtime
        // being closed) or `Handle::current` works instead of panicking
        // halfway through. Whatever role this thread had comes back after.
        let _context = context::set_aside(context::Current::Entered(self.handle.inner.clone()));
        // One deadline for every wait on user code: threads in
        // `block_in_place`, then the blocking pool. `None`: no timeout.
        let deadline = std::time::Instant::now().checked_add(self.blocking_wait);
        match &mut self.kind {
            Kind::CurrentThread(core) => core.shutdown(),
            Kind::MultiThread(mt) => mt.shutdown(deadline),
        }
        // After the tasks: a task's destructor may still hand work to the
        // pool. A timed-out wait leaves the rest of the threads detached.
        let left = deadline.map_or(Duration::MAX, |d| d.saturating_duration_since(std::time::Instant::now()));
        let _all_exited = self.handle.inner.blocking().shutdown(left);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime").field("handle", &self.handle).finish()
    }
}

/// [`Handle::try_current`]'s error: this thread runs no spindle-rt
/// runtime.
#[derive(Debug)]
pub struct TryCurrentError(());

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(context::NO_RUNTIME)
    }
}

impl std::error::Error for TryCurrentError {}

/// The guard of [`Handle::enter`]: while it lives, the runtime is this
/// thread's current one. Not `Send`: drop it on the thread that entered.
#[must_use = "the runtime is current only while the guard lives"]
pub struct EnterGuard<'a> {
    _guard: context::EnterGuard,
    _handle: std::marker::PhantomData<&'a Handle>,
}

impl std::fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

/// A cloneable, `Send + Sync` handle to a [`Runtime`]: spawns tasks onto it
/// from any thread.
///
/// ```
/// use spindle_rt::runtime::Builder;
///
/// let rt = Builder::new_current_thread().build()?;
/// let handle = rt.handle();
/// let join = std::thread::spawn(move || handle.spawn(async { 40 + 2 })).join().unwrap();
/// assert_eq!(rt.block_on(join).unwrap(), 42);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Handle {
    inner: Scheduler,
}

impl Handle {
    /// The handle of the runtime this thread is running.
    ///
    /// # Panics
    /// Outside a spindle-rt runtime ("must be called from within a
    /// spindle-rt runtime").
    #[track_caller]
    pub fn current() -> Handle {
        Handle { inner: context::expect_scheduler() }
    }

    /// The handle of the runtime this thread is running, or an error
    /// outside one: [`current`](Handle::current) without the panic, for a
    /// library that works with or without a runtime. As tokio's.
    ///
    /// # Errors
    /// [`TryCurrentError`] outside a spindle-rt runtime.
    ///
    /// ```
    /// use spindle_rt::runtime::{Builder, Handle};
    ///
    /// assert!(Handle::try_current().is_err());
    /// let rt = Builder::new_current_thread().build()?;
    /// rt.block_on(async { assert!(Handle::try_current().is_ok()) });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        context::scheduler().map(|inner| Handle { inner }).ok_or(TryCurrentError(()))
    }

    /// Spawns a `Send` task onto the runtime and returns its
    /// [`JoinHandle`]. Callable from any thread.
    ///
    /// On the current-thread runtime, from the runtime's own thread the
    /// task goes onto the local run queue; from another, onto the remote
    /// queue, and the loop is woken; it runs while the runtime's `block_on`
    /// runs. On the multi-thread runtime, from a worker the task goes into
    /// that worker's LIFO slot (it runs next, unless stolen); from any other
    /// thread, onto the global queue, waking a sleeping worker if no worker
    /// is already looking for work. After the runtime was dropped the task
    /// is cancelled at once.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.spawn(future)
    }

    /// Runs `f` on this runtime's blocking pool (sized and named by the
    /// [`Builder`]) and returns its [`JoinHandle`], as
    /// [`spawn_blocking`](crate::spawn_blocking) does from inside the
    /// runtime. Callable from any thread. After the runtime was dropped,
    /// `f` is dropped unrun and the handle yields a cancelled
    /// [`JoinError`](crate::task::JoinError).
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.inner.spawn_blocking(f)
    }

    /// Makes this runtime the thread's current one until the guard drops,
    /// without running it: [`spawn`], `Handle::current`,
    /// socket constructors and timers then work from plain synchronous code
    /// (a thread of your own, a library callback) and reach this runtime.
    ///
    /// # Panics
    /// If this thread is running a runtime (inside `block_on`, or a task):
    /// there the runtime is already current.
    ///
    /// ```
    /// let rt = spindle_rt::Builder::new_multi_thread().worker_threads(1).build()?;
    /// let handle = rt.handle();
    /// let joined = std::thread::spawn(move || {
    ///     let _guard = handle.enter();
    ///     spindle_rt::spawn(async { 6 * 7 })
    /// })
    /// .join()
    /// .unwrap();
    /// assert_eq!(rt.block_on(joined).unwrap(), 42);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        let guard = context::enter(context::Current::Entered(self.inner.clone()));
        EnterGuard { _guard: guard, _handle: std::marker::PhantomData }
    }

    /// Runs `future` to completion on this thread, inside this runtime's
    /// context, and returns its output: what a closure on the blocking pool
    /// (or any thread that is not running a runtime) uses to wait for async
    /// code.
    ///
    /// On the multi-thread runtime the workers drive IO and timers, so the
    /// future makes progress however the runtime is used. On the
    /// current-thread runtime only the thread in
    /// [`Runtime::block_on`](Runtime::block_on) drives them: the future's
    /// IO and timers advance only while that thread runs it, as with tokio.
    ///
    /// # Panics
    /// If this thread is running a runtime (inside `block_on` or a task):
    /// blocking it would stop every task it runs.
    ///
    /// ```
    /// let rt = spindle_rt::Builder::new_multi_thread().worker_threads(1).build()?;
    /// let answer = rt.block_on(async {
    ///     spindle_rt::spawn_blocking(|| {
    ///         // A blocking closure may wait for async work.
    ///         spindle_rt::Handle::current().block_on(async { spindle_rt::spawn(async { 42 }).await.unwrap() })
    ///     })
    ///     .await
    /// });
    /// assert_eq!(answer.unwrap(), 42);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let role = match &self.inner {
            Scheduler::MultiThread(shared) => context::Current::BlockOn(Arc::clone(shared)),
            Scheduler::CurrentThread(_) => context::Current::Entered(self.inner.clone()),
        };
        let _enter = context::enter(role);
        multi_thread::block_on_thread(future)
    }

    /// Which scheduler the runtime runs: tokio's `Handle::runtime_flavor`,
    /// for a library that must not call
    /// [`block_in_place`] on the current-thread one.
    ///
    /// ```
    /// use spindle_rt::runtime::{Handle, RuntimeFlavor};
    ///
    /// let rt = spindle_rt::Builder::new_current_thread().build()?;
    /// let flavor = rt.block_on(async { Handle::current().runtime_flavor() });
    /// assert_eq!(flavor, RuntimeFlavor::CurrentThread);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn runtime_flavor(&self) -> RuntimeFlavor {
        match self.inner {
            Scheduler::CurrentThread(_) => RuntimeFlavor::CurrentThread,
            Scheduler::MultiThread(_) => RuntimeFlavor::MultiThread,
        }
    }

    /// How many timers (pending sleeps, timeouts, intervals) the runtime's
    /// wheel holds. A diagnostic: a dropped `Sleep` leaves none behind.
    pub fn pending_timers(&self) -> usize {
        self.inner.time().len()
    }

    /// How many spawned tasks have not completed yet. A diagnostic: on the
    /// multi-thread runtime a task leaves the count just *after* its
    /// output reaches its [`JoinHandle`], so a count
    /// read right after the last join may still include tasks finishing on
    /// other workers.
    pub fn live_tasks(&self) -> usize {
        self.inner.live_tasks()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").field("shared", &self.inner.ptr()).finish()
    }
}

/// Spawns a `Send` task onto the current runtime; see [`Handle::spawn`].
///
/// # Panics
/// Outside a spindle-rt runtime ("must be called from within a spindle-rt
/// runtime").
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    context::expect_scheduler().spawn(future)
}

/// Spawns a task whose future need not be `Send` (it may hold `Rc`s and
/// `RefCell` borrows across `.await`): onto the
/// [`LocalSet`](crate::task::LocalSet) this code runs in, or else onto the
/// current-thread runtime this thread runs. It is polled and dropped only
/// on this thread.
///
/// # Panics
/// * Outside a `LocalSet` and outside a spindle-rt runtime ("must be
///   called from within a spindle-rt runtime").
/// * On a multi-thread runtime outside a `LocalSet` (the message says so):
///   its tasks move between workers, so `!Send` futures need a `LocalSet`
///   (or the current-thread runtime).
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let future = match crate::task::local_set::spawn_on_current(future) {
        Ok(join) => return join,
        Err(future) => future,
    };
    match context::current_core() {
        Some(core) => core.spawn_local(future),
        None if context::scheduler().is_some() => panic!(
            "`spawn_local` outside a `LocalSet` needs the current-thread runtime: a multi-thread \
             runtime moves tasks between worker threads, so it only runs `Send` futures (use \
             `spawn`, or run the `!Send` ones in a `task::LocalSet`)"
        ),
        None => panic!("{}", context::NO_RUNTIME),
    }
}

/// Runs `f`, which may block, on this thread without stalling the other
/// tasks of a multi-thread runtime.
///
/// Go, when a goroutine enters a blocking system call, detaches the P from
/// the blocked M and hands it to another M, so the P's other goroutines
/// keep running. `block_in_place` does that explicitly: called from a task
/// on a worker, it gives the worker's P (its run queue) to a new worker
/// thread, runs `f` here, and returns its result; the task then continues
/// on this thread until it next yields, after which the thread exits.
/// Unlike [`spawn_blocking`](crate::spawn_blocking), `f` may borrow from
/// the task, and needs no `'static` or `Send`.
///
/// Called outside any runtime, or on a multi-thread runtime's `block_on`
/// thread, it simply runs `f`.
///
/// # Panics
/// On the current-thread runtime, where there is no other worker to take
/// over: every task would stop while `f` runs (the message says so).
///
/// ```
/// use spindle_rt::runtime::{block_in_place, Builder};
///
/// let rt = Builder::new_multi_thread().worker_threads(2).build()?;
/// let sum = rt.block_on(rt.spawn(async {
///     let data = vec![1u64, 2, 3];
///     // Borrows `data`; the worker's other tasks move to another thread.
///     block_in_place(|| data.iter().sum::<u64>())
/// }));
/// assert_eq!(sum.unwrap(), 6);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn block_in_place<F, R>(f: F) -> R
where
    F: FnOnce() -> R,
{
    if context::on_current_thread_runtime() {
        panic!(
            "`block_in_place` needs the multi-thread runtime: on the current-thread runtime \
             there is no other thread to run the remaining tasks (use `spawn_blocking`)"
        );
    }
    multi_thread::block_in_place(f)
}

/// Yields to the scheduler once: the task is queued behind every task that
/// is ready now, and resumes after they have run. Works on any executor.
///
/// ```
/// use spindle_rt::runtime::Builder;
///
/// let rt = Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let other = spindle_rt::spawn(async { "ran" });
///     spindle_rt::yield_now().await; // lets `other` run first
///     assert!(other.is_finished());
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn yield_now() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}
