//! A worker: an M (OS thread) running a P ([`Core`]): its scheduling loop,
//! where it finds the next task, how it steals, and how it parks.
//!
//! # The loop (Go's `schedule` / `findRunnable`)
//!
//! 1. every [`GLOBAL_QUEUE_INTERVAL`] ticks, take from the global queue
//!    first, so two tasks waking each other cannot starve it. The worker
//!    takes its share (as in step 3), not one task as Go and tokio do: an
//!    overflowing local queue puts 129 tasks there at once, and at one per
//!    check the last of them would wait some 4,000 ticks (tens of
//!    milliseconds) behind tasks that were queued after it;
//! 2. the LIFO slot, then the local queue;
//! 3. a batch from the global queue;
//! 4. steal half of a random victim's queue ([`STEAL_TRIES`] rounds), if
//!    not too many others are already stealing;
//! 5. park: on the netpoller if nobody else sleeps there, else on the P's
//!    condvar.
//!
//! Every [`EVENT_INTERVAL`] ticks a busy worker also polls the netpoller
//! without blocking and fires due timers, so IO and time progress even
//! while every worker has tasks. It takes only as many events as its run
//! queue has room for and leaves the rest, in arrival order, in the
//! kernel's ready list (see `Shared::turn`): overflowing the queue would
//! send its oldest tasks to the back of the global queue.
//!
//! # The LIFO slot
//!
//! A task woken by the running task goes into the slot, not the queue, and
//! runs next: in a request/response exchange the receiver runs while the
//! message is still in cache. The previous occupant moves to the queue
//! (where thieves can take it). Two tasks could keep swapping through the
//! slot and hold the worker, so at most [`MAX_LIFO_POLLS`] slot tasks run
//! in a row before the worker goes back to its queue.
//!
//! [`GLOBAL_QUEUE_INTERVAL`]: crate::sched::GLOBAL_QUEUE_INTERVAL
//! [`STEAL_TRIES`]: crate::sched::STEAL_TRIES

use super::{Shared, Task};
use crate::coop;
use crate::runtime::context::{self, Current};
use crate::sched::{Local, GLOBAL_QUEUE_INTERVAL, LOCAL_QUEUE_CAPACITY, STEAL_TRIES};
use crate::time::TimerKey;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

/// Ticks between non-blocking turns of the netpoller on a busy worker (61,
/// as tokio's `event_interval`).
pub(crate) const EVENT_INTERVAL: u32 = 61;

/// Expired timers a worker wakes per check even with a full run queue.
pub(crate) const MIN_TIMER_WAKES: usize = 16;

/// LIFO-slot tasks run in a row at most (tokio's figure).
pub(crate) const MAX_LIFO_POLLS: u32 = 3;

/// A P: what a worker needs to run tasks. Owned by exactly one thread at a
/// time; handed to another thread by `block_in_place`.
pub(crate) struct Core {
    pub(crate) index: usize,
    tick: u32,
    lifo: Option<Task>,
    pub(crate) run_queue: Local<Task>,
    is_searching: bool,
    rand: u32,
    /// Expired timers, reused between turns.
    expired: Vec<(TimerKey, Waker)>,
}

impl Core {
    pub(crate) fn new(index: usize, run_queue: Local<Task>) -> Box<Core> {
        Box::new(Core {
            index,
            tick: 0,
            lifo: None,
            run_queue,
            is_searching: false,
            rand: 0x9E37_79B9 ^ (index as u32 + 1).wrapping_mul(0x85EB_CA6B),
            expired: Vec::new(),
        })
    }

    fn has_tasks(&self) -> bool {
        self.lifo.is_some() || !self.run_queue.is_empty()
    }

    /// xorshift32: a victim picker, not cryptography.
    fn next_rand(&mut self) -> u32 {
        let mut x = self.rand;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rand = x;
        x
    }

    /// Drops every queued task reference (at shutdown, after every task was
    /// shut down: they are plain references by then).
    pub(crate) fn drain(&mut self) {
        drop(self.lifo.take());
        while self.run_queue.pop().is_some() {}
    }
}

/// This thread's view of the worker it is: set as the thread's context for
/// the worker's whole life. The P sits in `core` while a task runs (so that
/// a wake on this thread reaches the local queue) and while the worker is
/// parked (so that the netpoller's wakes do).
pub(crate) struct WorkerContext {
    shared: Arc<Shared>,
    pub(crate) core: RefCell<Option<Box<Core>>>,
    /// Set while the worker sleeps (in the netpoller, whose wakes then reach
    /// `core`): it notifies other workers itself once up.
    pub(crate) parked: Cell<bool>,
}

impl WorkerContext {
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

/// The body of a worker thread: runs P `core` until shutdown, or until a
/// task on this thread gives the P away (`block_in_place`).
pub(crate) fn run(shared: Arc<Shared>, core: Box<Core>) {
    let cx = Rc::new(WorkerContext {
        shared: Arc::clone(&shared),
        core: RefCell::new(None),
        parked: Cell::new(false),
    });
    let _enter = context::enter(Current::Worker(Rc::clone(&cx)));
    let mut core = core;
    loop {
        if shared.is_shutdown() {
            shared.retire_core(core);
            return;
        }
        core.tick = core.tick.wrapping_add(1);
        if core.tick % EVENT_INTERVAL == 0 {
            core = maintenance(&cx, core);
        }
        let task = next_task(&shared, &mut core).or_else(|| steal_work(&shared, &mut core));
        core = match task {
            Some(task) => match run_task(&cx, core, task) {
                Some(core) => core,
                // The P went to another thread: this one's work is done.
                None => {
                    shared.placed_thread_done();
                    return;
                }
            },
            None => park(&cx, core),
        };
    }
}

fn next_task(shared: &Shared, core: &mut Core) -> Option<Task> {
    if core.tick % GLOBAL_QUEUE_INTERVAL == 0 {
        // Its share, not one task: see the module docs, step 1.
        if let Some(task) = shared.inject.pop_into(&mut core.run_queue, shared.remotes.len()) {
            return Some(task);
        }
    }
    if let Some(task) = core.lifo.take().or_else(|| core.run_queue.pop()) {
        return Some(task);
    }
    shared.inject.pop_into(&mut core.run_queue, shared.remotes.len())
}

fn steal_work(shared: &Shared, core: &mut Core) -> Option<Task> {
    let n = shared.remotes.len();
    if n == 1 {
        return None;
    }
    if !core.is_searching {
        if !shared.idle.transition_worker_to_searching() {
            return None;
        }
        core.is_searching = true;
    }
    for _ in 0..STEAL_TRIES {
        let start = core.next_rand() as usize % n;
        for i in 0..n {
            let victim = (start + i) % n;
            if victim == core.index {
                continue;
            }
            if let Some(task) = shared.remotes[victim].steal.steal_into(&mut core.run_queue) {
                return Some(task);
            }
        }
    }
    shared.inject.pop_into(&mut core.run_queue, n)
}

/// Runs `task`, then up to [`MAX_LIFO_POLLS`] tasks from the LIFO slot.
/// Returns the P, or `None` if a task gave it away (`block_in_place`).
fn run_task(cx: &WorkerContext, mut core: Box<Core>, task: Task) -> Option<Box<Core>> {
    let shared = &cx.shared;
    if core.is_searching {
        core.is_searching = false;
        if shared.idle.transition_worker_from_searching() {
            // The last searcher found work: there may be more, so keep one
            // worker looking (Go's "spinning M" rule).
            shared.notify_parked();
        }
    }
    let mut task = task;
    let mut lifo_polls = 0;
    loop {
        let index = core.index;
        *cx.core.borrow_mut() = Some(core);
        shared.monitor.running(index, task.id());
        coop::budget(|| task.run());
        // After a `block_in_place` the P (and its monitor slot) belongs to
        // another thread: leave both alone.
        core = cx.core.borrow_mut().take()?;
        shared.monitor.idle(index);
        if lifo_polls >= MAX_LIFO_POLLS {
            // Move the slot's task to the back of the queue, where it waits
            // its turn like the others. No other worker is woken for it:
            // this one runs it shortly, and waking a sleeper for a single
            // task that bounces between two others (a ping-pong) only buys
            // a futile steal and a context switch per round.
            if let Some(t) = core.lifo.take() {
                core.run_queue.push_back(t, &shared.inject);
            }
            return Some(core);
        }
        match core.lifo.take() {
            Some(next) => {
                task = next;
                lifo_polls += 1;
            }
            None => return Some(core),
        }
    }
}

/// Queues a task woken on this worker while it holds its P.
pub(crate) fn schedule_local(shared: &Shared, core: &mut Core, task: Task, is_yield: bool, parked: bool) {
    let should_notify = if is_yield {
        core.run_queue.push_back(task, &shared.inject);
        true
    } else {
        match core.lifo.replace(task) {
            Some(prev) => {
                core.run_queue.push_back(prev, &shared.inject);
                true
            }
            None => false,
        }
    };
    // A parked worker (its netpoller turn woke the task) notifies others
    // itself once it is up, if it has more than it can run.
    if should_notify && !parked {
        shared.notify_parked();
    }
}

/// The periodic check of a busy worker: a non-blocking netpoller turn (if
/// no other worker sleeps in it) and due timers.
fn maintenance(cx: &WorkerContext, mut core: Box<Core>) -> Box<Core> {
    let shared = &cx.shared;
    let mut expired = std::mem::take(&mut core.expired);
    let room = core.run_queue.remaining_slots();
    *cx.core.borrow_mut() = Some(core);
    shared.poll_driver(Some(Duration::ZERO), room);
    let budget = timer_budget(cx);
    shared.time.process(&mut expired, budget);
    let mut core = cx.core.borrow_mut().take().expect("the P stays on this thread while no task runs");
    core.expired = expired;
    core
}

/// How many expired timers this worker may wake now: as many as its run
/// queue has room for (see `TimeDriver::process`), and never fewer than
/// [`MIN_TIMER_WAKES`], so that timers progress even on a worker whose
/// queue stays full.
fn timer_budget(cx: &WorkerContext) -> usize {
    let room = cx.core.borrow().as_ref().map_or(0, |core| core.run_queue.remaining_slots());
    room.max(MIN_TIMER_WAKES)
}

/// Parks the worker until it has work or the runtime shuts down.
fn park(cx: &WorkerContext, mut core: Box<Core>) -> Box<Core> {
    let shared = &cx.shared;
    let index = core.index;
    let was_searching = std::mem::replace(&mut core.is_searching, false);
    let last_searcher = shared.idle.transition_worker_to_parked(index, was_searching);
    // The last look (see `idle`): a task queued just before the counters
    // changed must not sleep with us. The last searcher looks on behalf of
    // everyone; any other worker looks too, which is cheap.
    if shared.work_pending() || shared.is_shutdown() {
        if shared.idle.unpark_worker_by_id(index) {
            return core;
        }
        // A notifier took us off the list and counted us as searching.
        core.is_searching = true;
        return core;
    }
    let _ = last_searcher;
    loop {
        let parker = Arc::clone(&shared.remotes[index].parker);
        let mut expired = std::mem::take(&mut core.expired);
        *cx.core.borrow_mut() = Some(core);
        cx.parked.set(true);
        // The queue is empty here: its slots and the LIFO slot.
        let room = LOCAL_QUEUE_CAPACITY + 1;
        if shared.park_worker(&parker, room) {
            let budget = timer_budget(cx);
            shared.time.process(&mut expired, budget);
        }
        cx.parked.set(false);
        core = cx.core.borrow_mut().take().expect("the P stays on this thread while parked");
        core.expired = expired;
        if shared.is_shutdown() {
            shared.idle.unpark_worker_by_id(index);
            return core;
        }
        if core.has_tasks() {
            // The netpoller or a timer woke tasks into our queue.
            if !shared.idle.unpark_worker_by_id(index) {
                // ...and a notifier counted us as a searcher meanwhile.
                if shared.idle.transition_worker_from_searching() {
                    shared.notify_parked();
                }
            }
            if core.run_queue.len() + usize::from(core.lifo.is_some()) > 1 {
                shared.notify_parked();
            }
            return core;
        }
        if !shared.idle.is_parked(index) {
            // Notified: the notifier counted us as searching.
            core.is_searching = true;
            return core;
        }
        // A spurious wake-up, or a netpoller turn that woke nothing here.
    }
}
