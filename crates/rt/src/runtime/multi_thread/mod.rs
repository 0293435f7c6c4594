//! The multi-thread scheduler: Go's G-M-P model on the lock-free core in
//! [`crate::sched`].
//!
//! * **G**: a task.
//! * **P**: a [`Core`]: a fixed lock-free run queue plus a LIFO slot, one
//!   per worker (default: one per core). Its queue can be stolen from
//!   through [`Remote::steal`], and its worker woken through
//!   [`Remote::parker`].
//! * **M**: a worker thread, running [`worker::run`] with one P. A thread
//!   that enters [`block_in_place`](crate::runtime::block_in_place) hands
//!   its P to a new thread (Go's hand-off of a P whose M is stuck in a
//!   system call) and finishes its current task without one.
//!
//! Idle workers steal ([`worker`]), then sleep ([`park`]); one of them at
//! a time sleeps in the netpoller, the [`IoDriver`]'s poller, with a
//! timeout for the next timer. A monitor thread ([`sysmon`]) reports a task
//! that holds a worker too long.
//!
//! [`IoDriver`]: crate::io::driver::IoDriver

mod idle;
#[cfg(all(test, loom))]
mod loom_tests;
mod park;
pub(crate) mod sysmon;
#[cfg(all(test, not(loom)))]
mod tests;
pub(crate) mod worker;

use crate::blocking::BlockingPool;
use crate::io::driver::IoDriver;
use crate::lock;
use crate::runtime::context::{self, Current};
use crate::runtime::owned::OwnedTasks;
use crate::runtime::threads::ThreadSpec;
use crate::sched::{local, Inject, Steal};
use crate::task::{new_task, JoinHandle, Notified, Schedule, Task as OwnedTask, TaskId};
use crate::time::driver::{TimeDriver, Unpark};
use crate::CachePadded;
use idle::Idle;
use park::Parker;
use spindle_poll::{Backend, Events, Poller};
use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, JoinHandle as ThreadHandle};
use std::time::{Duration, Instant};
use sysmon::{BlockedTaskCb, Monitor};
use worker::Core;

/// A task as the run queues hold it.
pub(crate) type Task = Notified<Sched>;

/// The most events one netpoller turn takes.
const EVENTS_PER_TURN: usize = 1024;

/// The fewest events a turn takes, even for a worker whose run queue is
/// full: IO must progress on a worker that only runs tasks that yield.
const MIN_EVENTS_PER_TURN: usize = 16;

/// What the builder decided.
pub(crate) struct Config {
    pub(crate) workers: usize,
    pub(crate) backend: Option<Backend>,
    pub(crate) blocked_threshold: Duration,
    pub(crate) on_blocked: Option<BlockedTaskCb>,
    /// How worker threads are named and started.
    pub(crate) threads: ThreadSpec,
    pub(crate) blocking: Arc<BlockingPool>,
}

/// The part of a P other threads reach.
pub(crate) struct Remote {
    pub(crate) steal: Steal<Task>,
    /// On cache lines of its own: the P's parkers are allocated one after
    /// another, and the state word each worker swaps at every park and
    /// unpark would otherwise share a line with its neighbour's.
    pub(crate) parker: Arc<CachePadded<Parker>>,
}

/// Everything the workers share.
pub(crate) struct Shared {
    pub(crate) remotes: Box<[Remote]>,
    /// The global run queue.
    pub(crate) inject: Inject<Task>,
    pub(crate) idle: Idle,
    /// Every live task, for shutdown and for sysmon's reports. Lock rule:
    /// never held while a task is shut down or a future dropped.
    owned: OwnedTasks<Sched>,
    /// The netpoller's event buffer; whoever holds the lock is the one
    /// worker that may sleep in the poller.
    driver: Mutex<Events>,
    pub(crate) io: Arc<IoDriver>,
    pub(crate) time: Arc<TimeDriver>,
    shutdown: AtomicBool,
    /// P's given back by exiting workers (at shutdown). Boxed because a P
    /// moves between threads by pointer, never by copying its queue.
    #[allow(clippy::vec_box)]
    cores: Mutex<Vec<Box<Core>>>,
    /// Worker threads (including those started by `block_in_place`).
    threads: Mutex<Vec<ThreadHandle<()>>>,
    /// Former workers that gave their P away in `block_in_place` and are
    /// still in the task that did: a shutdown waits for them only until its
    /// deadline, as it waits for the blocking pool's threads.
    placed: Mutex<Placed>,
    /// Signalled when a placed thread is done with its task.
    placed_done: Condvar,
    /// How worker threads are named and started (the builder's knobs).
    thread_spec: ThreadSpec,
    pub(crate) monitor: Monitor,
    /// The runtime's blocking pool (shut down by `Runtime`'s drop).
    pub(crate) blocking: Arc<BlockingPool>,
}

/// See [`Shared::placed`].
#[derive(Default)]
struct Placed {
    threads: Vec<ThreadHandle<()>>,
    /// How many placed threads have not yet finished their task.
    running: usize,
}

impl Shared {
    /// The calling worker gave its P away (`block_in_place`): from now on
    /// it is a placed thread, not a worker a shutdown must join.
    fn place_current_thread(&self) {
        let me = thread::current().id();
        let handle = {
            let mut threads = lock(&self.threads);
            threads.iter().position(|t| t.thread().id() == me).map(|i| threads.swap_remove(i))
        };
        let mut placed = lock(&self.placed);
        // Forget the ones that have exited, as `start_worker` does for
        // workers: a service calling `block_in_place` all day would
        // otherwise pile up a handle per call.
        placed.threads.retain(|t| !t.is_finished());
        placed.threads.extend(handle);
        placed.running += 1;
    }

    /// A placed thread finished the task that placed it and exits.
    pub(crate) fn placed_thread_done(&self) {
        lock(&self.placed).running -= 1;
        self.placed_done.notify_all();
    }

    /// Waits until every placed thread is done (then joins them), or until
    /// `deadline` (then leaves them to finish detached). `None`: no deadline.
    fn wait_placed(&self, deadline: Option<Instant>) {
        let mut placed = lock(&self.placed);
        while placed.running > 0 {
            let Some(deadline) = deadline else {
                placed = self.placed_done.wait(placed).unwrap_or_else(PoisonError::into_inner);
                continue;
            };
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                // Dropping a handle detaches its thread.
                placed.threads.clear();
                return;
            }
            placed = self.placed_done.wait_timeout(placed, left).unwrap_or_else(PoisonError::into_inner).0;
        }
        let done = std::mem::take(&mut placed.threads);
        drop(placed);
        for t in done {
            // Past `placed_thread_done`, which is the thread's last step.
            let _ = t.join();
        }
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    /// Whether any queue holds a task (a parking worker's last look).
    pub(crate) fn work_pending(&self) -> bool {
        !self.inject.is_empty() || self.remotes.iter().any(|r| !r.steal.is_empty())
    }

    /// A task was queued somewhere: wake a sleeping worker if nobody is
    /// searching.
    pub(crate) fn notify_parked(&self) {
        if let Some(index) = self.idle.worker_to_notify() {
            self.remotes[index].parker.unpark();
        }
    }

    /// Parks the calling worker on `parker`: in the netpoller if it is
    /// free, else on the condvar. Returns whether it was the netpoller
    /// (the caller then fires due timers). `room` is how many tasks the
    /// worker's run queue can take (see [`Shared::turn`]).
    pub(crate) fn park_worker(&self, parker: &Parker, room: usize) -> bool {
        match self.driver.try_lock() {
            Ok(mut events) => {
                let mut drive = || {
                    let timeout = self.time.park_timeout();
                    self.turn(&mut events, timeout, room);
                    // Before the poller is free for another worker, whose
                    // own park would then be forgotten.
                    self.time.unarm();
                };
                parker.park(Some(&mut drive));
                true
            }
            Err(_) => {
                parker.park(None);
                false
            }
        }
    }

    /// A netpoller turn without sleeping longer than `timeout`, if no other
    /// worker holds the netpoller. `room` as for [`Shared::park_worker`].
    pub(crate) fn poll_driver(&self, timeout: Option<Duration>, room: usize) {
        if let Ok(mut events) = self.driver.try_lock() {
            self.turn(&mut events, timeout, room);
        }
    }

    /// One turn of the netpoller; the caller holds the driver lock.
    ///
    /// The turn takes at most `room` events (the free slots in the calling
    /// worker's run queue, where the tasks they wake go), within
    /// [`MIN_EVENTS_PER_TURN`] and [`EVENTS_PER_TURN`]. The kernel's ready
    /// list is a FIFO: the sockets that became ready first are reported
    /// first, and those not taken wait there, in order, for the next turn.
    /// Taking more than the queue holds would overflow it: the older half
    /// of the queue would move to the back of the global queue, behind
    /// every task already there (hundreds, at a thousand busy
    /// connections), and wait out a worker's check of it every
    /// [`GLOBAL_QUEUE_INTERVAL`] ticks, while newer requests ran first.
    /// That reordering, not the work, made the multi-thread scheduler's
    /// tail at 1000 connections (see bench/RESULTS.md, 2026-11-29).
    ///
    /// Fairness has a price when the server is the bottleneck: served in
    /// arrival order, a task runs a queue's length after its event, with
    /// its state gone cold, where the unfair order ran the newest tasks
    /// while warm. Measured at 1000 connections: p99.9 about a quarter,
    /// throughput 0-9% lower.
    ///
    /// [`GLOBAL_QUEUE_INTERVAL`]: crate::sched::GLOBAL_QUEUE_INTERVAL
    fn turn(&self, events: &mut Events, timeout: Option<Duration>, room: usize) {
        self.io.release_deferred();
        events.set_capacity(room.clamp(MIN_EVENTS_PER_TURN, EVENTS_PER_TURN));
        let n = match self.io.poller().wait(events, timeout) {
            Ok(n) => n,
            Err(e) => panic!("spindle-rt: the netpoller failed: {e}"),
        };
        for i in 0..n {
            let ev = events.get(i).expect("index below len");
            // SAFETY: `dispatch`'s contract: the caller holds the driver
            // lock, so this thread is the driver's owner, and
            // `release_deferred` (called only under the same lock, at the
            // start of a turn) ran before this `wait` began and cannot run
            // again before this loop ends.
            unsafe { self.io.dispatch(&ev) };
        }
    }

    /// An exiting worker gives its P back (shutdown).
    pub(crate) fn retire_core(&self, core: Box<Core>) {
        lock(&self.cores).push(core);
    }

    /// Starts a worker thread running P `core`.
    pub(crate) fn start_worker(self: &Arc<Self>, core: Box<Core>) -> io::Result<()> {
        let shared = Arc::clone(self);
        let index = core.index;
        let handle = self
            .thread_spec
            .spawn(|| format!("spindle-rt-worker-{index}"), move || worker::run(shared, core))?;
        let mut threads = lock(&self.threads);
        threads.retain(|t| !t.is_finished());
        threads.push(handle);
        Ok(())
    }

    /// Spawns a `Send` future; see [`Handle::spawn`](crate::Handle::spawn).
    #[track_caller]
    pub(crate) fn spawn<F>(self: &Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let id = TaskId::next();
        let (task, notified, join) = new_task(future, Sched(Arc::clone(self)), id);
        match self.owned.bind(task) {
            Err(task) => {
                task.shutdown();
                drop(notified);
            }
            Ok(()) => self.schedule(notified, false),
        }
        join
    }

    /// Queues a woken task: on this worker's P if this thread is a worker
    /// of this runtime holding one, else on the global queue.
    fn schedule(self: &Arc<Self>, task: Task, is_yield: bool) {
        let mut task = Some(task);
        context::with_worker_of(self, |cx| {
            let Some(cx) = cx else { return };
            // Borrowed only between task polls and while parked, never
            // across a poll: a wake during a poll finds it free.
            let Ok(mut slot) = cx.core.try_borrow_mut() else { return };
            if let Some(core) = slot.as_mut() {
                let parked = cx.parked.get();
                worker::schedule_local(self, core, task.take().expect("present"), is_yield, parked);
            }
        });
        let Some(task) = task else { return };
        match self.inject.push(task) {
            Ok(()) => self.notify_parked(),
            // Shut down: every task is complete, so this is only a reference.
            Err(task) => drop(task),
        }
    }

    /// The spawn location of a live task (sysmon's reports).
    pub(crate) fn spawned_at(&self, id: TaskId) -> Option<&'static std::panic::Location<'static>> {
        self.owned.spawned_at(id)
    }

    /// The number of tasks not yet completed (diagnostics).
    pub(crate) fn live_tasks(&self) -> usize {
        self.owned.len()
    }
}

/// The scheduler value each task cell holds.
#[derive(Clone)]
pub(crate) struct Sched(Arc<Shared>);

impl Schedule for Sched {
    fn schedule(&self, task: Notified<Self>) {
        self.0.schedule(task, false);
    }

    fn yield_now(&self, task: Notified<Self>) {
        self.0.schedule(task, true);
    }

    fn release(&self, task: &OwnedTask<Self>) -> Option<OwnedTask<Self>> {
        self.0.owned.remove(task)
    }
}

/// A running multi-thread runtime: the shared state, and the join handle of
/// the monitor thread.
pub(crate) struct MultiThread {
    shared: Arc<Shared>,
    sysmon: Option<ThreadHandle<()>>,
    /// `shutdown` has run (from `Runtime`'s drop, before this one's).
    stopped: bool,
}

impl MultiThread {
    /// Starts the workers and the monitor.
    pub(crate) fn start(config: Config) -> io::Result<MultiThread> {
        let workers = config.workers.max(1);
        let poller = Arc::new(match config.backend {
            Some(b) => Poller::new(b)?,
            None => Poller::from_env()?,
        });
        let waker = poller.waker();
        let mut remotes = Vec::with_capacity(workers);
        let mut cores = Vec::with_capacity(workers);
        for index in 0..workers {
            let (steal, run_queue) = local();
            remotes.push(Remote { steal, parker: Arc::new(CachePadded(Parker::new(Arc::clone(&waker)))) });
            cores.push(Core::new(index, run_queue));
        }
        let shared = Arc::new(Shared {
            remotes: remotes.into_boxed_slice(),
            inject: Inject::new(),
            idle: Idle::new(workers),
            owned: OwnedTasks::new(workers * 4),
            driver: Mutex::new(Events::with_capacity(EVENTS_PER_TURN)),
            io: Arc::new(IoDriver::new(poller, 0)),
            time: Arc::new(TimeDriver::new(Unpark::Poller(waker), false, false)),
            shutdown: AtomicBool::new(false),
            cores: Mutex::new(Vec::new()),
            threads: Mutex::new(Vec::new()),
            placed: Mutex::new(Placed::default()),
            placed_done: Condvar::new(),
            thread_spec: config.threads,
            monitor: Monitor::new(workers, config.blocked_threshold, config.on_blocked),
            blocking: config.blocking,
        });
        let mut rt = MultiThread { shared: Arc::clone(&shared), sysmon: None, stopped: false };
        for core in cores {
            // On failure `rt` is dropped, which shuts down the started ones.
            shared.start_worker(core)?;
        }
        rt.sysmon = Some(sysmon::start(Arc::clone(&shared))?);
        Ok(rt)
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Runs `future` on the calling thread, which sleeps between polls;
    /// the tasks run on the workers.
    #[track_caller]
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _enter = context::enter(Current::BlockOn(Arc::clone(&self.shared)));
        block_on_thread(future)
    }

    /// Stops the workers and cancels every task; see
    /// [`Runtime`](crate::Runtime)'s drop. A thread still inside
    /// `block_in_place` is waited for until `deadline` (`None`: for as long
    /// as it takes), then left to finish detached. Runs once; later calls
    /// do nothing.
    pub(crate) fn shutdown(&mut self, deadline: Option<Instant>) {
        if std::mem::replace(&mut self.stopped, true) {
            return;
        }
        let shared = &self.shared;
        shared.shutdown.store(true, Ordering::Release);
        shared.inject.close();
        for remote in shared.remotes.iter() {
            remote.parker.unpark();
        }
        shared.io.poller().waker().wake();
        shared.monitor.stop();
        if let Some(t) = self.sysmon.take() {
            let _ = t.join();
        }
        loop {
            let threads = std::mem::take(&mut *lock(&shared.threads));
            if threads.is_empty() {
                break;
            }
            for t in threads {
                if t.thread().id() != thread::current().id() {
                    let _ = t.join();
                }
            }
        }
        shared.wait_placed(deadline);
        for task in shared.owned.close_and_take() {
            task.shutdown();
        }
        let mut cores = std::mem::take(&mut *lock(&shared.cores));
        for core in &mut cores {
            core.drain();
        }
        while shared.inject.pop().is_some() {}
        drop(cores);
        shared.time.shutdown();
        shared.io.shutdown();
        shared.io.release_deferred();
    }
}

impl Drop for MultiThread {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

/// Wakes a thread blocked in [`block_on_thread`].
struct ThreadWaker {
    thread: thread::Thread,
    woken: AtomicBool,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.woken.swap(true, Ordering::Release) {
            self.thread.unpark();
        }
    }
}

/// Polls `future` on this thread, sleeping (`thread::park`) until its
/// waker is woken between polls.
pub(crate) fn block_on_thread<F: Future>(future: F) -> F::Output {
    let parker = Arc::new(ThreadWaker { thread: thread::current(), woken: AtomicBool::new(false) });
    let waker = Waker::from(Arc::clone(&parker));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        while !parker.woken.swap(false, Ordering::Acquire) {
            thread::park();
        }
    }
}

/// Hands this worker's P to a new thread, then runs `f`; see
/// [`block_in_place`](crate::runtime::block_in_place).
pub(crate) fn block_in_place<R>(f: impl FnOnce() -> R) -> R {
    let Some(cx) = context::worker() else { return f() };
    let core = cx.core.borrow_mut().take();
    if let Some(core) = core {
        if let Err(e) = cx.shared().start_worker(core) {
            panic!("spindle-rt: block_in_place could not start a worker thread: {e}");
        }
        cx.shared().place_current_thread();
    }
    // Without its P this thread no longer runs the runtime, it only belongs
    // to it: `f` may `Handle::block_on` or `blocking_recv`. The worker role
    // comes back for the rest of the task's poll.
    let runtime = crate::runtime::Scheduler::MultiThread(Arc::clone(cx.shared()));
    let _entered = context::set_aside(Current::Entered(runtime));
    f()
}
