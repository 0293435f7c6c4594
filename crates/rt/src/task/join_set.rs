//! [`JoinSet`]: a set of spawned tasks, joined in the order they finish.

use super::{AbortHandle, JoinError, JoinHandle, TaskId};
use crate::lock;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// A set of tasks on the current runtime whose outputs are taken as each
/// finishes: the usual owner of a server's connection tasks, or of a batch
/// of requests fanned out at once.
///
/// [`join_next`](JoinSet::join_next) costs O(1) per finished task, however
/// many are still running: each task tells the set when it finishes (a
/// guard inside the spawned future, dropped however the future ends:
/// output, panic or abort), so the set never polls the ones still running.
///
/// **Dropping the set aborts every task still in it**, so a set owned by a
/// connection or a request scope takes its tasks with it. Detach a task by
/// spawning it with [`spawn`](crate::spawn) instead.
///
/// ```
/// use spindle_rt::task::JoinSet;
///
/// let rt = spindle_rt::Builder::new_multi_thread().worker_threads(2).build()?;
/// let total = rt.block_on(async {
///     let mut set = JoinSet::new();
///     for n in 1..=100u64 {
///         set.spawn(async move { n * n });
///     }
///     let mut total = 0;
///     while let Some(done) = set.join_next().await {
///         total += done.expect("no task panicked");
///     }
///     total
/// });
/// assert_eq!(total, 338_350);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct JoinSet<T> {
    /// The tasks still owned by the set, by key; `None` marks a free key.
    tasks: Vec<Option<JoinHandle<T>>>,
    free: Vec<usize>,
    len: usize,
    /// Keys of tasks known to have finished (or to be finishing), whose
    /// handles are polled by `poll_join_next`.
    ready: Vec<usize>,
    done: Arc<Done>,
}

/// What finished tasks report to the set.
struct Done {
    inner: Mutex<DoneInner>,
}

struct DoneInner {
    keys: Vec<usize>,
    waker: Option<Waker>,
}

/// Lives inside each spawned future; its drop (when the future completes,
/// panics or is dropped unfinished) tells the set the task is done.
struct DoneGuard {
    done: Arc<Done>,
    key: usize,
}

impl Drop for DoneGuard {
    fn drop(&mut self) {
        let waker = {
            let mut inner = lock(&self.done.inner);
            inner.keys.push(self.key);
            inner.waker.take()
        };
        // Outside the lock: waking may run the set's task right here.
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Done {
    fn new() -> Arc<Done> {
        Arc::new(Done { inner: Mutex::new(DoneInner { keys: Vec::new(), waker: None }) })
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet { tasks: Vec::new(), free: Vec::new(), len: 0, ready: Vec::new(), done: Done::new() }
    }

    /// How many tasks the set owns (running, or finished and not yet
    /// joined).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set owns no task.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A free key and the guard for it.
    fn guard(&mut self) -> DoneGuard {
        let key = self.free.pop().unwrap_or_else(|| {
            self.tasks.push(None);
            self.tasks.len() - 1
        });
        DoneGuard { done: self.done.clone(), key }
    }

    /// Stores the task's handle under `key` and returns an abort handle.
    fn insert(&mut self, key: usize, handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        self.tasks[key] = Some(handle);
        self.len += 1;
        abort
    }

    /// Waits for the next task to finish and returns its output (or why it
    /// has none: [`JoinError::is_panic`], [`JoinError::is_cancelled`]).
    /// `None` when the set is empty.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// [`join_next`](JoinSet::join_next), with the finished task's id
    /// beside its output (a [`JoinError`] carries it already:
    /// [`JoinError::id`]). As tokio's `join_next_with_id`.
    pub async fn join_next_with_id(&mut self) -> Option<Result<(TaskId, T), JoinError>> {
        poll_fn(|cx| self.poll_join_next_with_id(cx)).await
    }

    /// [`try_join_next`](JoinSet::try_join_next), with the finished task's
    /// id beside its output. As tokio's `try_join_next_with_id`.
    pub fn try_join_next_with_id(&mut self) -> Option<Result<(TaskId, T), JoinError>> {
        match self.poll_join_next_with_id(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(out) => out,
            Poll::Pending => None,
        }
    }

    /// The output of a task that has finished, without waiting: `None` when
    /// none has (or the set is empty). As tokio's `try_join_next`.
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        match self.poll_join_next(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(out) => out,
            Poll::Pending => None,
        }
    }

    /// Waits for every task and returns their outputs, in the order they
    /// finished. As tokio's `join_all`.
    ///
    /// # Panics
    /// If a task panicked, with its payload (the other tasks are aborted
    /// when the set is dropped during the unwind); if a task was aborted,
    /// with a message saying so.
    pub async fn join_all(mut self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len);
        while let Some(res) = self.join_next().await {
            match res {
                Ok(value) => out.push(value),
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => panic!("a task of a JoinSet given to join_all was aborted: {e}"),
            }
        }
        out
    }

    /// Lets every task go: they run on, detached (as a dropped
    /// [`JoinHandle`] does), and the set is empty. As tokio's
    /// `detach_all`.
    pub fn detach_all(&mut self) {
        self.tasks.clear();
        self.free.clear();
        self.ready.clear();
        self.len = 0;
        // The detached tasks' guards report to the old record, so their
        // keys can never be mistaken for those of tasks spawned after this.
        self.done = Done::new();
    }

    /// [`join_next`](JoinSet::join_next) as a poll function.
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.poll_join_next_with_id(cx).map(|out| out.map(|res| res.map(|(_, value)| value)))
    }

    /// [`poll_join_next`](JoinSet::poll_join_next), with the finished
    /// task's id beside its output.
    pub fn poll_join_next_with_id(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<(TaskId, T), JoinError>>> {
        if self.len == 0 {
            return Poll::Ready(None);
        }
        {
            // The waker is stored under the same lock the guards push
            // under: a task finishing after this sees it and wakes us.
            let mut inner = lock(&self.done.inner);
            self.ready.append(&mut inner.keys);
            match &mut inner.waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            }
        }
        let mut i = 0;
        while i < self.ready.len() {
            let key = self.ready[i];
            let Some(handle) = self.tasks[key].as_mut() else {
                // A `spawn` that panicked (outside a runtime) dropped its
                // guard, which reported a key that never got a task: free
                // it. (A real task reports once, before its handle is
                // ready, and its key is freed only when it is joined.)
                self.ready.swap_remove(i);
                self.free.push(key);
                continue;
            };
            // The guard drops just before the task's output is stored, so
            // the handle may still be pending for a moment; polling it left
            // our waker with it, and the store wakes us.
            let id = handle.id();
            match Pin::new(handle).poll(cx) {
                Poll::Ready(out) => {
                    self.ready.swap_remove(i);
                    self.tasks[key] = None;
                    self.free.push(key);
                    self.len -= 1;
                    return Poll::Ready(Some(out.map(|value| (id, value))));
                }
                Poll::Pending => i += 1,
            }
        }
        Poll::Pending
    }

    /// Aborts every task in the set. They stay in it until joined: each
    /// then yields its output, if it finished first, or a cancelled
    /// [`JoinError`].
    pub fn abort_all(&self) {
        for handle in self.tasks.iter().flatten() {
            handle.abort();
        }
    }

    /// Aborts every task and waits until all have stopped, dropping their
    /// outputs; the set is empty afterwards.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }
}

/// Spawns each future into a new set, as tokio's `collect::<JoinSet<_>>()`.
///
/// # Panics
/// Outside a spindle-rt runtime.
impl<T: Send + 'static, F> FromIterator<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
{
    fn from_iter<I: IntoIterator<Item = F>>(iter: I) -> JoinSet<T> {
        let mut set = JoinSet::new();
        set.extend(iter);
        set
    }
}

/// Spawns each future into the set, as tokio's.
///
/// # Panics
/// Outside a spindle-rt runtime.
impl<T: Send + 'static, F> Extend<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
{
    fn extend<I: IntoIterator<Item = F>>(&mut self, iter: I) {
        for future in iter {
            self.spawn(future);
        }
    }
}

impl<T: Send + 'static> JoinSet<T> {
    /// Spawns `future` as a new task (as [`spawn`](crate::spawn) does) and
    /// adds it to the set. The returned [`AbortHandle`] cancels this one
    /// task (it stays in the set, and joins as cancelled); dropping it does
    /// nothing.
    ///
    /// # Panics
    /// Outside a spindle-rt runtime.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        let guard = self.guard();
        let key = guard.key;
        let handle = crate::spawn(async move {
            let _guard = guard;
            future.await
        });
        self.insert(key, handle)
    }

    /// Runs `f` on the blocking pool (as
    /// [`spawn_blocking`](crate::spawn_blocking) does) and adds its result
    /// to the set, as tokio's `JoinSet::spawn_blocking`: a panic in `f`
    /// joins as a panic. Aborting stops only a closure that has not started
    /// yet; one that runs finishes, and its result is dropped.
    ///
    /// ```
    /// let rt = spindle_rt::Builder::new_multi_thread().worker_threads(1).build()?;
    /// let sum = rt.block_on(async {
    ///     let mut set = spindle_rt::task::JoinSet::new();
    ///     for n in 1..=3u64 {
    ///         set.spawn_blocking(move || n * 10);
    ///     }
    ///     set.join_all().await.into_iter().sum::<u64>()
    /// });
    /// assert_eq!(sum, 60);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Panics
    /// Outside a spindle-rt runtime.
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, f: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
    {
        let guard = self.guard();
        let key = guard.key;
        // The guard goes with the closure: dropped when it returns or
        // panics, or unrun if the job is aborted before it starts.
        let handle = crate::spawn_blocking(move || {
            let _guard = guard;
            f()
        });
        self.insert(key, handle)
    }
}

impl<T: Send + 'static> JoinSet<T> {
    /// Spawns `future` onto the runtime of `handle` (as
    /// [`Handle::spawn`](crate::Handle::spawn) does, from any thread) and
    /// adds it to the set, as tokio's `spawn_on`.
    ///
    /// ```
    /// let rt = spindle_rt::Builder::new_multi_thread().worker_threads(1).build()?;
    /// let handle = rt.handle();
    /// let mut set = spindle_rt::task::JoinSet::new();
    /// // From a plain thread: no runtime is current here.
    /// set.spawn_on(async { 20 }, &handle);
    /// set.spawn_blocking_on(|| 22, &handle);
    /// let sum: i32 = rt.block_on(set.join_all()).into_iter().sum();
    /// assert_eq!(sum, 42);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn spawn_on<F>(&mut self, future: F, handle: &crate::Handle) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        let guard = self.guard();
        let key = guard.key;
        let join = handle.spawn(async move {
            let _guard = guard;
            future.await
        });
        self.insert(key, join)
    }

    /// Runs `f` on the blocking pool of `handle`'s runtime (as
    /// [`Handle::spawn_blocking`](crate::Handle::spawn_blocking) does) and
    /// adds its result to the set, as tokio's `spawn_blocking_on`; see
    /// [`spawn_blocking`](JoinSet::spawn_blocking).
    #[track_caller]
    pub fn spawn_blocking_on<F>(&mut self, f: F, handle: &crate::Handle) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
    {
        let guard = self.guard();
        let key = guard.key;
        let join = handle.spawn_blocking(move || {
            let _guard = guard;
            f()
        });
        self.insert(key, join)
    }
}

impl<T: 'static> JoinSet<T> {
    /// Spawns a `!Send` `future` (as [`spawn_local`](crate::spawn_local)
    /// does: onto the [`LocalSet`](super::LocalSet) this code runs in, or
    /// else the current-thread runtime) and adds it to the set, returning
    /// an [`AbortHandle`] for it, as [`spawn`](JoinSet::spawn) does.
    ///
    /// # Panics
    /// Outside a `LocalSet` and outside a current-thread runtime's thread.
    #[track_caller]
    pub fn spawn_local<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        let guard = self.guard();
        let key = guard.key;
        let handle = crate::spawn_local(async move {
            let _guard = guard;
            future.await
        });
        self.insert(key, handle)
    }

    /// Spawns a `!Send` `future` onto `local_set` (it runs when the set is
    /// driven) and adds it to this set, as tokio's `spawn_local_on`.
    ///
    /// ```
    /// use spindle_rt::task::{JoinSet, LocalSet};
    /// use std::rc::Rc;
    ///
    /// let rt = spindle_rt::Runtime::new()?;
    /// let local = LocalSet::new();
    /// let mut set = JoinSet::new();
    /// let shared = Rc::new(21);
    /// let s = Rc::clone(&shared);
    /// set.spawn_local_on(async move { *s * 2 }, &local);
    /// let out = local.block_on(&rt, async { set.join_next().await.unwrap().unwrap() });
    /// assert_eq!(out, 42);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn spawn_local_on<F>(&mut self, future: F, local_set: &super::LocalSet) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        let guard = self.guard();
        let key = guard.key;
        let handle = local_set.spawn_local(async move {
            let _guard = guard;
            future.await
        });
        self.insert(key, handle)
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> JoinSet<T> {
        JoinSet::new()
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.abort_all();
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len).finish()
    }
}
