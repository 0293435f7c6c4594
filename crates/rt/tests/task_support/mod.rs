//! A tiny test scheduler and counting futures for the task tests, shared by
//! the `task_*.rs` files. Counters are statics (allocation-free) so that
//! counting never itself allocates or leaks; each test declares its own.

#![allow(dead_code)]

use spindle_rt::task::{new_task, JoinHandle, Notified, Schedule, Task, TaskId};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// Exact counts for one test.
#[derive(Debug)]
pub struct Counters {
    pub polls: AtomicUsize,
    pub future_drops: AtomicUsize,
    pub output_drops: AtomicUsize,
}

impl Counters {
    pub const fn new() -> Counters {
        Counters {
            polls: AtomicUsize::new(0),
            future_drops: AtomicUsize::new(0),
            output_drops: AtomicUsize::new(0),
        }
    }
    pub fn polls(&self) -> usize {
        self.polls.load(SeqCst)
    }
    pub fn future_drops(&self) -> usize {
        self.future_drops.load(SeqCst)
    }
    pub fn output_drops(&self) -> usize {
        self.output_drops.load(SeqCst)
    }
}

/// An output that counts its drops.
#[derive(Debug)]
pub struct Output {
    pub value: u32,
    counters: &'static Counters,
}

impl Drop for Output {
    fn drop(&mut self) {
        self.counters.output_drops.fetch_add(1, SeqCst);
    }
}

/// A future driven by a closure, counting polls and its drop.
pub struct Probe<F> {
    counters: &'static Counters,
    f: F,
}

/// A future whose `poll` is `f` (given the poll number, from 1), yielding
/// an [`Output`] with the value `f` returns.
pub fn probe<F>(counters: &'static Counters, f: F) -> Probe<F>
where
    F: FnMut(usize, &mut Context<'_>) -> Poll<u32>,
{
    Probe { counters, f }
}

impl<F> Future for Probe<F>
where
    F: FnMut(usize, &mut Context<'_>) -> Poll<u32> + Unpin,
{
    type Output = Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Output> {
        let n = self.counters.polls.fetch_add(1, SeqCst) + 1;
        let counters = self.counters;
        (self.f)(n, cx).map(|value| Output { value, counters })
    }
}

impl<F> Drop for Probe<F> {
    fn drop(&mut self) {
        self.counters.future_drops.fetch_add(1, SeqCst);
    }
}

/// A FIFO test scheduler counting `schedule`, `yield_now` and `release`.
/// With `keep_tasks`, it holds every spawned `Task` in an owned list and
/// hands it back in `release`.
#[derive(Clone)]
pub struct Sched(pub Arc<Inner>);

pub struct Inner {
    pub queue: Mutex<VecDeque<Notified<Sched>>>,
    pub owned: Mutex<Vec<Task<Sched>>>,
    pub keep_tasks: bool,
    pub schedules: AtomicUsize,
    pub yields: AtomicUsize,
    pub releases: AtomicUsize,
}

impl Sched {
    pub fn new() -> Sched {
        Sched::with_owned(false)
    }

    pub fn with_owned(keep_tasks: bool) -> Sched {
        Sched(Arc::new(Inner {
            queue: Mutex::new(VecDeque::new()),
            owned: Mutex::new(Vec::new()),
            keep_tasks,
            schedules: AtomicUsize::new(0),
            yields: AtomicUsize::new(0),
            releases: AtomicUsize::new(0),
        }))
    }

    /// Spawns: keeps the `Task` if `keep_tasks`, queues the `Notified`.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (task, notified, join) = new_task(future, self.clone(), TaskId::next());
        if self.0.keep_tasks {
            self.0.owned.lock().unwrap().push(task);
        }
        self.0.queue.lock().unwrap().push_back(notified);
        join
    }

    /// Runs queued tasks until the queue is empty; returns how many ran.
    pub fn run_all(&self) -> usize {
        let mut ran = 0;
        loop {
            let next = self.0.queue.lock().unwrap().pop_front();
            match next {
                Some(task) => {
                    task.run();
                    ran += 1;
                }
                None => return ran,
            }
        }
    }

    /// Shuts down every owned task (the runtime's drop), then drops the
    /// queue.
    pub fn shutdown(&self) {
        let owned: Vec<_> = std::mem::take(&mut *self.0.owned.lock().unwrap());
        for task in owned {
            task.shutdown();
        }
        self.0.queue.lock().unwrap().clear();
    }

    pub fn queued(&self) -> usize {
        self.0.queue.lock().unwrap().len()
    }
    pub fn schedules(&self) -> usize {
        self.0.schedules.load(SeqCst)
    }
    pub fn yields(&self) -> usize {
        self.0.yields.load(SeqCst)
    }
    pub fn releases(&self) -> usize {
        self.0.releases.load(SeqCst)
    }
    /// How many task cells still hold a clone of this scheduler: zero once
    /// every cell is freed (for a handle that was not spawned into).
    pub fn live_cells(&self) -> usize {
        Arc::strong_count(&self.0) - 1
    }
}

impl Schedule for Sched {
    fn schedule(&self, task: Notified<Self>) {
        self.0.schedules.fetch_add(1, SeqCst);
        self.0.queue.lock().unwrap().push_back(task);
    }

    fn yield_now(&self, task: Notified<Self>) {
        self.0.yields.fetch_add(1, SeqCst);
        self.0.queue.lock().unwrap().push_back(task);
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.0.releases.fetch_add(1, SeqCst);
        let mut owned = self.0.owned.lock().unwrap();
        let pos = owned.iter().position(|t| t.id() == task.id())?;
        Some(owned.swap_remove(pos))
    }
}

/// A waker that counts its wakes.
#[derive(Default)]
pub struct CountWaker(pub AtomicUsize);

impl Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

impl CountWaker {
    pub fn new() -> (Arc<CountWaker>, Waker) {
        let c = Arc::new(CountWaker::default());
        (c.clone(), Waker::from(c))
    }
    pub fn wakes(&self) -> usize {
        self.0.load(SeqCst)
    }
}

/// Polls a future once with `waker`.
pub fn poll_once<F: Future + Unpin>(f: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(f).poll(&mut Context::from_waker(waker))
}

/// A place for a future to leave its waker, for the test to wake later.
pub type WakerSlot = Arc<Mutex<Option<Waker>>>;
