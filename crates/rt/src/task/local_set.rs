//! [`LocalSet`]: `!Send` tasks on either runtime, run by whoever awaits
//! the set.
//!
//! A `LocalSet` is a small single-threaded executor that lives inside
//! another future: [`run_until`](LocalSet::run_until) (or awaiting the set
//! itself) polls its tasks, on the thread that polls that future, between
//! polls of the future it was given. Its tasks never leave that thread, so
//! they may hold `Rc`s and `RefCell` borrows across `.await`; their IO and
//! timers are the surrounding runtime's.
//!
//! # How a wake reaches the set
//!
//! A local task's waker may fire on any thread: a multi-thread runtime's
//! worker delivers its socket's readiness and its timers, and a channel
//! may be sent to from anywhere. So the set's run queue is a mutex-guarded
//! queue (of `Notified`s, which are `Send`: they only *name* the task), and
//! a wake pushes the task there and wakes the task that drives the set, the
//! waker saved by the set's last poll. That task's next poll runs the queue.
//! The `!Send` futures themselves are only polled, and dropped, by the set,
//! which is `!Send` and `!Sync` and so never leaves its thread.
//!
//! # Fairness
//!
//! One poll of the driving future runs at most 61 local tasks (as one tick
//! of the current-thread scheduler does); if more are ready it wakes itself
//! and returns `Pending`, so the runtime's other tasks, timers and IO get
//! their turn.

use super::{new_local_task, JoinHandle, Notified, Schedule, Task, TaskId};
use crate::coop;
use crate::lock;
use crate::runtime::current_thread::TASKS_PER_TICK;
use crate::runtime::owned::OwnedTasks;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::marker::PhantomData;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// A set of `!Send` tasks run together on one thread: tokio's `LocalSet`,
/// on either runtime flavor.
///
/// [`spawn_local`](LocalSet::spawn_local) adds a task (from anywhere the
/// set is reachable, before or while it runs), and so does the free
/// [`task::spawn_local`](crate::task::spawn_local) from code running inside
/// the set (its tasks, and the future given to
/// [`run_until`](LocalSet::run_until)). The tasks run only while the set is
/// driven:
///
/// * [`run_until(future)`](LocalSet::run_until) runs them until `future`
///   completes, and returns its output;
/// * [`block_on(&rt, future)`](LocalSet::block_on) is
///   `rt.block_on(set.run_until(future))`;
/// * awaiting the set itself (`set.await`) runs them until every task has
///   finished.
///
/// On a multi-thread runtime this is how `!Send` futures run: the set's
/// tasks run on the thread that drives it (the `block_on` thread), while
/// the workers deliver their IO and timers. On the current-thread runtime
/// [`spawn_local`](crate::spawn_local) works without a set, but a set
/// behaves the same there.
///
/// **Dropping the set drops its tasks**, on this thread: those not
/// finished are cancelled, and their `JoinHandle`s yield
/// [`JoinError::is_cancelled`](super::JoinError::is_cancelled).
///
/// ```
/// use spindle_rt::task::{self, LocalSet};
/// use std::cell::RefCell;
/// use std::rc::Rc;
///
/// let rt = spindle_rt::Runtime::new()?; // multi-thread
/// let local = LocalSet::new();
/// let log = Rc::new(RefCell::new(Vec::new())); // `!Send`
/// let l = Rc::clone(&log);
/// local.spawn_local(async move { l.borrow_mut().push("spawned before") });
/// let n = local.block_on(&rt, async {
///     let l = Rc::clone(&log);
///     task::spawn_local(async move {
///         spindle_rt::time::sleep(std::time::Duration::from_millis(1)).await;
///         l.borrow_mut().push("slept");
///     })
///     .await
///     .unwrap();
///     log.borrow().len()
/// });
/// assert_eq!(n, 2);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// The set stays on its thread:
///
/// ```compile_fail
/// fn assert_send<T: Send>() {}
/// assert_send::<spindle_rt::task::LocalSet>();
/// ```
pub struct LocalSet {
    shared: Arc<Shared>,
    /// `!Send` and `!Sync`: the set, and so every poll and drop of its
    /// futures, stays on the thread that made it.
    _not_send: PhantomData<Rc<()>>,
}

/// What a local task's scheduler (and so its waker, on any thread) reaches.
struct Shared {
    /// Lock rule: never held while a task runs, a `Notified` is dropped or
    /// a waker is woken.
    queue: Mutex<Queue>,
    /// Every task not yet completed, for the set's drop.
    owned: OwnedTasks<LocalSched>,
}

struct Queue {
    tasks: VecDeque<Notified<LocalSched>>,
    /// The task driving the set, saved by its last poll; taken by a wake.
    waker: Option<Waker>,
    /// Set by the set's drop: wakes after it drop the `Notified`.
    closed: bool,
}

/// The scheduler value each local task's cell holds.
struct LocalSched(Arc<Shared>);

impl Schedule for LocalSched {
    fn schedule(&self, task: Notified<Self>) {
        let (rejected, waker) = {
            let mut queue = lock(&self.0.queue);
            if queue.closed {
                (Some(task), None)
            } else {
                queue.tasks.push_back(task);
                (None, queue.waker.take())
            }
        };
        // After the set's drop every task is complete: only a reference.
        drop(rejected);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.0.owned.remove(task)
    }
}

thread_local! {
    /// The set this thread is running (or has entered), for
    /// `task::spawn_local`. Only ever holds a set of this thread.
    static CURRENT: RefCell<Option<Arc<Shared>>> = const { RefCell::new(None) };
}

/// Restores the thread's previous current set when dropped.
struct Enter {
    prev: Option<Arc<Shared>>,
}

impl Drop for Enter {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let old = CURRENT.try_with(|c| std::mem::replace(&mut *c.borrow_mut(), prev)).ok().flatten();
        drop(old);
    }
}

/// The guard of [`LocalSet::enter`]: while it lives,
/// [`task::spawn_local`](crate::task::spawn_local) on this thread spawns
/// onto the set. Not `Send`.
#[must_use = "the set is current only while the guard lives"]
pub struct LocalEnterGuard<'a> {
    _enter: Enter,
    _set: PhantomData<&'a LocalSet>,
}

impl fmt::Debug for LocalEnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalEnterGuard").finish_non_exhaustive()
    }
}

/// Spawns `future` onto the set this thread is running, or gives it back
/// if there is none.
#[track_caller]
pub(crate) fn spawn_on_current<F>(future: F) -> Result<JoinHandle<F::Output>, F>
where
    F: Future + 'static,
    F::Output: 'static,
{
    match CURRENT.try_with(|c| c.borrow().clone()).ok().flatten() {
        // SAFETY: CURRENT holds only sets of this thread (set by
        // `LocalSet::enter_context`, which takes `&LocalSet`, a `!Sync`
        // type, so it runs on the set's own thread).
        Some(shared) => Ok(unsafe { spawn(&shared, future) }),
        None => Err(future),
    }
}

/// Spawns a `!Send` task onto the set `shared`.
///
/// # Safety
///
/// Called on the thread that owns the set (the one its `LocalSet` lives
/// on).
#[track_caller]
unsafe fn spawn<F>(shared: &Arc<Shared>, future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    // SAFETY: `new_local_task`'s contract, for a `!Send` future and the
    // `Send + Sync` scheduler `LocalSched`:
    // * every `Notified` is run only by `LocalSet::tick`, through a
    //   `&LocalSet`, which is `!Send + !Sync`: on the set's thread, this
    //   one (the caller's contract). Wakes on other threads only queue it.
    // * the `Task` sits in the owned list until `release` (at completion,
    //   on the set's thread) or the set's drop, which shuts every task down
    //   on the set's thread and closes the list; a closed list rejects new
    //   tasks, which are shut down here, on this thread, at once. So the
    //   list is empty by the time `Shared` can be freed, wherever that is.
    let (task, notified, join) =
        unsafe { new_local_task(future, LocalSched(Arc::clone(shared)), TaskId::next()) };
    match shared.owned.bind(task) {
        Ok(()) => LocalSched(Arc::clone(shared)).schedule(notified),
        Err(task) => {
            task.shutdown();
            drop(notified);
        }
    }
    join
}

impl LocalSet {
    /// An empty set.
    pub fn new() -> LocalSet {
        LocalSet {
            shared: Arc::new(Shared {
                queue: Mutex::new(Queue { tasks: VecDeque::new(), waker: None, closed: false }),
                owned: OwnedTasks::new(1),
            }),
            _not_send: PhantomData,
        }
    }

    /// Spawns a `!Send` task onto the set. It runs when the set is driven
    /// ([`run_until`](LocalSet::run_until), [`block_on`](LocalSet::block_on)
    /// or awaiting the set), not before; callable whether or not the set
    /// runs, inside a runtime or not.
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        // SAFETY: `&self` is `&LocalSet`, `!Sync`: this is the set's thread.
        unsafe { spawn(&self.shared, future) }
    }

    /// Runs `future` to completion, running the set's tasks meanwhile, on
    /// this thread, and returns its output. Inside it
    /// [`task::spawn_local`](crate::task::spawn_local) spawns onto this set.
    /// Tasks still pending when `future` completes stay in the set and run
    /// again the next time it is driven.
    pub async fn run_until<F: Future>(&self, future: F) -> F::Output {
        let mut future = pin!(future);
        poll_fn(|cx| {
            self.register(cx.waker());
            let polled = {
                let _enter = self.enter_context();
                coop::budget(|| future.as_mut().poll(cx))
            };
            if let Poll::Ready(out) = polled {
                return Poll::Ready(out);
            }
            if self.tick() {
                cx.waker().wake_by_ref();
            }
            Poll::Pending
        })
        .await
    }

    /// Runs `future` on `rt` with this set's tasks alongside, as
    /// `rt.block_on(self.run_until(future))`: the usual entry point for a
    /// program whose tasks are `!Send`.
    ///
    /// # Panics
    /// As [`Runtime::block_on`](crate::Runtime::block_on): inside a
    /// runtime.
    #[track_caller]
    pub fn block_on<F: Future>(&self, rt: &crate::Runtime, future: F) -> F::Output {
        rt.block_on(self.run_until(future))
    }

    /// Makes this set current on this thread until the guard drops:
    /// [`task::spawn_local`](crate::task::spawn_local) then spawns onto it
    /// (the tasks run once the set is driven).
    pub fn enter(&self) -> LocalEnterGuard<'_> {
        LocalEnterGuard { _enter: self.enter_context(), _set: PhantomData }
    }

    fn enter_context(&self) -> Enter {
        // `try_with`: a set kept in a `thread_local!` may be dropped after
        // CURRENT is gone, at thread exit; it then runs outside a context.
        let prev = CURRENT.try_with(|c| c.borrow_mut().replace(Arc::clone(&self.shared))).ok().flatten();
        Enter { prev }
    }

    /// Saves the waker of the task driving the set, for wakes to come.
    fn register(&self, waker: &Waker) {
        let old = {
            let mut queue = lock(&self.shared.queue);
            match &mut queue.waker {
                Some(w) if w.will_wake(waker) => None,
                slot => slot.replace(waker.clone()),
            }
        };
        // Outside the lock: dropping a task's waker may free its cell.
        drop(old);
    }

    /// Runs up to [`TASKS_PER_TICK`] ready tasks; returns whether more are
    /// ready.
    fn tick(&self) -> bool {
        let _enter = self.enter_context();
        for _ in 0..TASKS_PER_TICK {
            // Pop first, then run: never run a task while holding the queue.
            let next = lock(&self.shared.queue).tasks.pop_front();
            let Some(task) = next else { return false };
            coop::budget(|| task.run());
        }
        !lock(&self.shared.queue).tasks.is_empty()
    }
}

/// Awaiting a set runs its tasks until every one has finished (tasks they
/// spawn included).
impl Future for LocalSet {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.register(cx.waker());
        if self.tick() {
            cx.waker().wake_by_ref();
            Poll::Pending
        } else if self.shared.owned.len() == 0 {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Default for LocalSet {
    fn default() -> LocalSet {
        LocalSet::new()
    }
}

impl Drop for LocalSet {
    fn drop(&mut self) {
        // Inside the set, as tokio does: a destructor that spawns a local
        // task finds the list closed, and the task is cancelled at once.
        let _enter = self.enter_context();
        for task in self.shared.owned.close_and_take() {
            task.shutdown();
        }
        let (queued, waker) = {
            let mut queue = lock(&self.shared.queue);
            queue.closed = true;
            (std::mem::take(&mut queue.tasks), queue.waker.take())
        };
        drop(queued);
        drop(waker);
    }
}

impl fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSet").field("tasks", &self.shared.owned.len()).finish()
    }
}
