//! The current-thread scheduler: its shared state ([`Shared`], reachable
//! from any thread), its thread-bound state ([`Core`], which owns the
//! spindle-loop `Loop`), and the `block_on` loop.
//!
//! # Shutdown order
//!
//! [`Core::shutdown`] (run by `Runtime`'s `Drop`, on the runtime's thread):
//!
//! 1. close the owned-task list (a later spawn, from any thread, is
//!    cancelled at once) and take every task out of it;
//! 2. shut the tasks down in spawn order: each idle task's future is dropped
//!    right there, on this thread, and its `JoinHandle` yields a cancelled
//!    `JoinError`. A future whose destructor wakes another task only queues
//!    it; a destructor that panics is caught by the task core;
//! 3. close and drain the remote queue, then drain the local queue,
//!    dropping the `Notified`s (plain references by now);
//! 4. shut the time driver down: its wheel, and the wakers in it, are
//!    dropped; a `Sleep` polled afterwards panics;
//! 5. drop the loop with its handles (the async handle, the driver's timer
//!    and the prepare handle).
//!
//! Steps 1 to 4 also break the reference cycles a runtime has by design
//! (task cell → scheduler → queues, list and wheel → task cell), so nothing
//! leaks.

use super::owned::OwnedTasks;
use crate::blocking::BlockingPool;
use crate::coop;
use crate::io::driver::IoDriver;
use crate::lock;
use crate::task::{new_local_task, new_task, JoinHandle, Notified, Schedule, Task, TaskId};
use crate::time::driver::{TimeDriver, Unpark};
use spindle_loop::{AsyncHandle, Loop, PhaseId, RunMode, TimerId};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use super::context;

/// How many ready tasks one tick runs before the scheduler polls the main
/// future again, takes the remote queue and gives the loop a turn (timers,
/// IO). 61 is Go's and tokio's choice for the same fairness check: prime,
/// so a pattern of periodic tasks does not line up with it, and small
/// enough that IO waits at most a few dozen task polls.
pub(crate) const TASKS_PER_TICK: usize = 61;

/// What every thread may reach: the remote queue, the owned-task list, the
/// main future's wake flag, the loop's async handle, the time driver.
pub(crate) struct Shared {
    /// Tasks woken on other threads (or outside `block_on`). Drained by the
    /// runtime thread every tick. Lock rule: never held while a task runs
    /// or a `Notified` is dropped.
    remote: Mutex<RemoteQueue>,
    /// Every live task (for shutdown). Lock rule: never held while a task is
    /// shut down or a future dropped.
    owned: OwnedTasks<Sched>,
    /// Set by the main future's waker; cleared by `block_on` before it
    /// polls the main future.
    main_woken: AtomicBool,
    /// Set (under the remote lock) when a task is queued remotely, so the
    /// runtime thread takes the lock only when there is something to take:
    /// twice per tick otherwise.
    remote_pending: AtomicBool,
    /// Wakes the loop out of `epoll_wait`; coalesced.
    unpark: AsyncHandle,
    /// The timer wheel.
    pub(crate) time: Arc<TimeDriver>,
    /// Sockets, registered on the loop's own poller.
    pub(crate) io: Arc<IoDriver>,
    /// The runtime's blocking pool (shut down by `Runtime`'s drop).
    pub(crate) blocking: Arc<BlockingPool>,
}

struct RemoteQueue {
    queue: VecDeque<Notified<Sched>>,
    closed: bool,
}

impl Shared {
    /// Adds a new task to the owned list and schedules it, or, if the
    /// runtime has shut down, cancels it at once.
    fn bind(self: &Arc<Self>, task: Task<Sched>, notified: Notified<Sched>) {
        match self.owned.bind(task) {
            Err(task) => {
                task.shutdown();
                drop(notified);
            }
            Ok(()) => self.schedule(notified),
        }
    }

    /// Spawns a `Send` future; see [`Handle::spawn`](super::Handle::spawn).
    #[track_caller]
    pub(crate) fn spawn<F>(self: &Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (task, notified, join) = new_task(future, Sched(Arc::clone(self)), TaskId::next());
        self.bind(task, notified);
        join
    }

    /// Queues a woken task: on the local queue if this thread is running
    /// this runtime, else on the remote queue, waking the loop.
    fn schedule(self: &Arc<Self>, task: Notified<Sched>) {
        let mut task = Some(task);
        context::with_core_of(self, |core| {
            if let Some(core) = core {
                core.local.borrow_mut().push_back(task.take().expect("present"));
            }
        });
        let Some(task) = task else { return };
        let rejected = {
            let mut remote = lock(&self.remote);
            if remote.closed {
                Some(task)
            } else {
                remote.queue.push_back(task);
                self.remote_pending.store(true, Ordering::Release);
                None
            }
        };
        match rejected {
            // Shut down: every task is complete, so this is only a reference.
            Some(task) => drop(task),
            None => self.unpark.send(),
        }
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
        self.0.schedule(task);
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.0.owned.remove(task)
    }
}

/// The main future's waker.
struct MainWaker(Arc<Shared>);

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.main_woken.store(true, Ordering::Release);
        // On the runtime's own thread `block_on` looks at the flag before it
        // sleeps (and the prepare handle stops a sleep that is about to
        // start), so only other threads need to knock.
        if !context::is_current(&self.0) {
            self.0.unpark.send();
        }
    }
}

/// The state only the runtime's thread touches.
pub(crate) struct Core {
    shared: Arc<Shared>,
    /// Tasks woken on this thread while it runs the runtime. `Rc` because
    /// the prepare callback, which lives in the loop, looks at it too.
    local: Rc<RefCell<VecDeque<Notified<Sched>>>>,
    /// Borrowed by `park` for the loop's turn, and by IO code between
    /// polls; never across a task's poll.
    lp: RefCell<Loop>,
    /// The loop timer armed for the wheel's next expiration.
    timer: TimerId,
}

impl Core {
    /// A core on a new loop; its clock paused from the start if
    /// `start_paused`.
    pub(crate) fn new(lp: Loop, blocking: Arc<BlockingPool>, start_paused: bool) -> io::Result<Rc<Core>> {
        let mut lp = lp;
        // The callback does nothing: the wake-up itself is the point; the
        // scheduler takes the remote queue when `run` returns.
        let unpark = lp.async_new(|_, _| {})?;
        let timer = lp.timer_new();
        lp.unref(timer.handle());
        let io = Arc::new(IoDriver::new(Arc::clone(lp.poller()), spindle_loop::FOREIGN_TOKEN_BIT));
        {
            let io = Arc::clone(&io);
            lp.set_foreign_events(move |ev| {
                // SAFETY: `dispatch`'s contract: this runs on the loop's
                // thread, the driver's owner, for an event of the `wait` of
                // this poll phase; `release_deferred` runs only in `park`,
                // on the same thread, before the loop's next turn, so never
                // between that `wait` and this call.
                unsafe { io.dispatch(ev) }
            });
        }
        let shared = Arc::new(Shared {
            remote: Mutex::new(RemoteQueue { queue: VecDeque::new(), closed: false }),
            owned: OwnedTasks::new(1),
            main_woken: AtomicBool::new(false),
            remote_pending: AtomicBool::new(false),
            time: Arc::new(TimeDriver::new(Unpark::Loop(unpark.clone()), true, start_paused)),
            io,
            unpark,
            blocking,
        });
        let local: Rc<RefCell<VecDeque<Notified<Sched>>>> = Rc::default();
        let prepare: PhaseId = lp.prepare_new();
        {
            // Just before the loop sleeps: if a callback of this iteration
            // (a timer, a deferred write) woke a task or the main future,
            // do not sleep.
            let local = Rc::clone(&local);
            let shared = Arc::clone(&shared);
            lp.phase_start(prepare, move |lp, _| {
                if !local.borrow().is_empty() || shared.main_woken.load(Ordering::Acquire) {
                    lp.stop();
                }
            })?;
        }
        lp.unref(prepare.handle());
        Ok(Rc::new(Core { shared, local, lp: RefCell::new(lp), timer }))
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Spawns a `!Send` future on this runtime.
    #[track_caller]
    pub(crate) fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        // SAFETY: `new_local_task`'s contract, for a `!Send` future with the
        // `Send + Sync` scheduler `Sched`:
        // * every `Notified` of the task is run only by `block_on`, which
        //   runs on this thread: a `Core` lives in a `Runtime`, which is
        //   `!Send`, and is only reached through it or this thread's
        //   context. Wakes on other threads only *queue* the `Notified` on
        //   the remote queue, which this thread drains.
        // * the `Task` sits in the owned list until `release` (on the
        //   completing thread, this one) or `Core::shutdown`, which runs in
        //   `Runtime::drop`, on this thread, before the list can be dropped;
        //   a closed list rejects new tasks, so it is empty when `Shared`
        //   is finally freed, wherever that happens.
        let (task, notified, join) =
            unsafe { new_local_task(future, Sched(Arc::clone(&self.shared)), TaskId::next()) };
        self.shared.bind(task, notified);
        join
    }

    /// Moves the remote queue onto the local one.
    fn take_remote(&self) {
        // A push after this swap leaves the flag set for the next tick (or
        // is taken now, if it lands before the lock below): never missed.
        if !self.shared.remote_pending.swap(false, Ordering::Acquire) {
            return;
        }
        let taken = std::mem::take(&mut lock(&self.shared.remote).queue);
        if !taken.is_empty() {
            self.local.borrow_mut().extend(taken);
        }
    }

    fn pop_local(&self) -> Option<Notified<Sched>> {
        self.local.borrow_mut().pop_front()
    }

    /// Gives the loop one turn: `Once` (may sleep in `epoll_wait` until a
    /// timer, an IO event or an async wake) when nothing is runnable,
    /// `NoWait` otherwise. Arms the loop timer for the wheel first.
    fn park(&self, may_sleep: bool) {
        if self.shared.time.is_paused() {
            return self.park_paused(may_sleep);
        }
        let mut lp = self.lp.borrow_mut();
        // Every event of the last turn has been dispatched: entries
        // deregistered since can be freed.
        self.shared.io.release_deferred();
        self.shared.time.sync_loop_timer(&mut lp, self.timer);
        let mode = if may_sleep { RunMode::Once } else { RunMode::NoWait };
        run(&mut lp, mode);
    }

    /// [`park`](Self::park) with the clock paused (see "Paused time" in
    /// [`crate::time`]): no loop timer (virtual deadlines never come in
    /// real time). One non-blocking loop turn takes whatever IO and
    /// wake-ups are already there, then timers due at the frozen time
    /// fire; if the runtime is then still idle, the clock auto-advances to
    /// the earliest timer and fires it. Only when there is no timer to
    /// advance to (or a blocking closure holds the clock) does the loop
    /// sleep, until IO or a wake-up.
    fn park_paused(&self, may_sleep: bool) {
        let time = &self.shared.time;
        let mut lp = self.lp.borrow_mut();
        self.shared.io.release_deferred();
        // Stops the loop timer if it was armed before the pause.
        time.sync_loop_timer(&mut lp, self.timer);
        run(&mut lp, RunMode::NoWait);
        let mut expired = Vec::new();
        time.fire_due(&mut expired);
        if !may_sleep || !self.idle() {
            return;
        }
        if time.auto_advance(&mut expired) {
            return;
        }
        // Nothing the clock can jump to: wait for the world. (A blocking
        // closure that ends, or a timer registered from another thread,
        // wakes the loop.) Between two turns, as at the top.
        self.shared.io.release_deferred();
        run(&mut lp, RunMode::Once);
    }

    /// Whether nothing is runnable: no local task, no remote one, and the
    /// main future not woken.
    fn idle(&self) -> bool {
        self.local.borrow().is_empty()
            && !self.shared.main_woken.load(Ordering::Acquire)
            && !self.shared.remote_pending.load(Ordering::Acquire)
    }

    /// Runs `future` to completion on this thread, running tasks meanwhile.
    /// The caller has made this core the thread's current one.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        let shared = &self.shared;
        let waker = Waker::from(Arc::new(MainWaker(Arc::clone(shared))));
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        shared.main_woken.store(true, Ordering::Release);
        loop {
            if shared.main_woken.swap(false, Ordering::AcqRel) {
                // Budgeted like a task (as tokio's `block_on` is): a main
                // future looping on an always-ready resource (a UDP send, a
                // channel it feeds itself) yields now and then, and the
                // tasks it waits for get to run. Unlimited, it starved them
                // for ever.
                if let Poll::Ready(out) = coop::budget(|| future.as_mut().poll(&mut cx)) {
                    return out;
                }
            }
            self.take_remote();
            for _ in 0..TASKS_PER_TICK {
                let Some(task) = self.pop_local() else { break };
                coop::budget(|| task.run());
            }
            self.take_remote();
            let idle = self.local.borrow().is_empty() && !shared.main_woken.load(Ordering::Acquire);
            self.park(idle);
        }
    }

    /// Shuts the runtime down; see the module docs for the order.
    pub(crate) fn shutdown(&self) {
        let shared = &self.shared;
        for task in shared.owned.close_and_take() {
            task.shutdown();
        }
        let remote = {
            let mut remote = lock(&shared.remote);
            remote.closed = true;
            std::mem::take(&mut remote.queue)
        };
        drop(remote);
        loop {
            let local = std::mem::take(&mut *self.local.borrow_mut());
            if local.is_empty() {
                break;
            }
            drop(local);
        }
        shared.time.shutdown();
        shared.io.shutdown();
    }
}

/// One turn of the loop.
fn run(lp: &mut Loop, mode: RunMode) {
    if let Err(e) = lp.run(mode) {
        panic!("spindle-rt: the event loop failed: {e}");
    }
}
