//! Running blocking code off the event loop: [`spawn_blocking`] and the
//! elastic [`BlockingPool`] behind it.
//!
//! # Why a pool
//!
//! A task that blocks (a `read` of a regular file, `getaddrinfo`, a
//! compression loop, a call into a C library) stops its whole worker: on
//! the current-thread runtime, every other task, timer and socket waits
//! with it. The cure is the one every runtime reaches for: hand the call to
//! another thread and await its result. Node hands file IO and DNS to
//! libuv's pool of four threads; Go, when a goroutine enters a blocking
//! syscall, detaches its P and lets another M (a new thread, if none is
//! idle) run the other goroutines; tokio keeps a separate, elastic pool for
//! `spawn_blocking`. Spindle does what tokio does: threads are started on
//! demand, up to a bound, and retire after sitting idle.
//!
//! # The handle
//!
//! [`spawn_blocking`] returns a [`JoinHandle`], the same type
//! [`spawn`](crate::spawn) returns (as in tokio), so handles of both kinds
//! go in one `Vec<JoinHandle<T>>`. A blocking job is a task of its own: a
//! task cell whose future calls the closure in its one poll, run by a pool
//! thread. The closure starts whether or not the handle is ever polled,
//! and dropping the handle detaches it: the closure still runs to the end
//! (a thread cannot be interrupted), and its result is dropped. Aborting
//! the handle before a thread has taken the job drops the closure unrun
//! and the handle yields a cancelled [`JoinError`]; once the closure runs,
//! an abort has no effect. A panic in the closure is caught on the pool
//! thread and comes back as a [`JoinError`] whose payload
//! [`JoinError::into_panic`] returns; the pool thread carries on. Inside
//! the closure [`task::id`](crate::task::id) is the job's id, the one
//! [`JoinHandle::id`] reports.
//!
//! The handle needs nothing from a runtime: the pool thread stores the
//! result in the task cell and wakes the waker of whoever polled last. So
//! it works on spindle-rt's runtimes and under any other executor
//! (`futures::executor::block_on`, another crate's runtime) alike.
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! let rt = spindle_rt::Builder::new_current_thread().build()?;
//! let len = rt.block_on(async {
//!     // Runs on a pool thread; the runtime's thread keeps serving tasks.
//!     let text = spindle_rt::spawn_blocking(|| "a blocking computation".repeat(3));
//!     text.await.expect("the closure did not panic").len()
//! });
//! assert_eq!(len, 66);
//! # Ok(())
//! # }
//! ```

mod pool;

pub use pool::{BlockingPool, DEFAULT_KEEP_ALIVE, DEFAULT_MAX_THREADS};

#[cfg(doc)]
use crate::task::JoinError;
use crate::task::{new_task, JoinHandle, Notified, Schedule, Task, TaskId};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The old name of a blocking job's handle: [`spawn_blocking`] returned a
/// `BlockingHandle<R>` before it returned tokio's [`JoinHandle<R>`], which
/// this now is.
#[deprecated(note = "`spawn_blocking` returns a `task::JoinHandle`, as in tokio; name that type")]
pub type BlockingHandle<R> = JoinHandle<R>;

/// Runs `f` on a thread of the current runtime's blocking pool (or, outside
/// a runtime, of the global [`BlockingPool`]) and returns a future of its
/// result.
///
/// Inside a runtime (in a task, in `block_on`'s future, in one of its
/// blocking closures, or under [`Handle::enter`](crate::Handle::enter)) the
/// closure goes to that runtime's own pool, sized, named and hooked by its
/// [`Builder`](crate::Builder) (`max_blocking_threads`,
/// `thread_keep_alive`, `thread_name`, ...), and dropping the runtime waits
/// for it (see [`Runtime`](crate::Runtime#dropping)). It runs with the
/// runtime entered: [`Handle::current`](crate::Handle::current),
/// [`spawn`](crate::spawn), sockets and timers work in it, and
/// [`Handle::block_on`](crate::Handle::block_on) waits for async work.
/// Anywhere else (a plain thread, another executor) it goes to the
/// process-wide [`BlockingPool::global`].
///
/// `f` starts as soon as a thread is free, whether or not the handle is
/// polled; dropping the handle does not stop it. The handle is a
/// [`JoinHandle`], as [`spawn`](crate::spawn)'s is, and resolves to
/// `Ok(value)`, or to a [`JoinError`] if `f` panicked
/// ([`is_panic`](JoinError::is_panic), payload by
/// [`into_panic`](JoinError::into_panic)), or if it never ran
/// ([`is_cancelled`](JoinError::is_cancelled)): the handle was
/// [aborted](JoinHandle::abort) before a thread took the job, or the pool
/// shut down or could start no thread. An abort once `f` runs has no
/// effect, as in tokio.
///
/// Callable from anywhere: inside a spindle-rt task, on a plain thread, or
/// under another executor; the handle only needs the waker it is polled
/// with.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use std::thread;
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// let here = thread::current().id();
/// let there = rt.block_on(spindle_rt::spawn_blocking(|| thread::current().id()));
/// assert_ne!(there.expect("no panic"), here);
///
/// // A panic comes back as an error carrying its payload.
/// let err = rt.block_on(spindle_rt::spawn_blocking(|| panic!("disk on fire"))).unwrap_err();
/// assert!(err.is_panic());
/// assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "disk on fire");
/// # Ok(())
/// # }
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    match crate::runtime::context::scheduler() {
        Some(runtime) => runtime.spawn_blocking(f),
        None => BlockingPool::global().spawn(f),
    }
}

impl BlockingPool {
    /// Runs `f` on one of this pool's threads; see [`spawn_blocking`]. On a
    /// pool that is shut down, `f` is dropped unrun and the handle resolves
    /// to a cancelled [`JoinError`].
    #[track_caller]
    pub fn spawn<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.spawn_then(f, ())
    }

    /// [`spawn`](Self::spawn), dropping `after` once the outcome has been
    /// handed to the handle (its waker woken), or with the job if it never
    /// runs.
    #[track_caller]
    pub(crate) fn spawn_then<F, R, A>(&self, f: F, after: A) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
        A: Send + 'static,
    {
        let (task, notified, join) = new_task(BlockingTask(Some(f)), BlockingSchedule, TaskId::next());
        let job = BlockingJob { notified: Some(notified), task: Some(task), after: Some(after) };
        if let Err(job) = self.submit(Box::new(move || job.run())) {
            // Dropping the unrun job shuts its task down: the handle
            // resolves to "cancelled".
            drop(job);
        }
        join
    }
}

/// The future of a blocking task: calls the closure in its first poll.
struct BlockingTask<F>(Option<F>);

// The closure is never pinned: it is taken out by value and called.
impl<F> Unpin for BlockingTask<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingTask<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self.0.take().expect("a blocking task is polled once");
        Poll::Ready(f())
    }
}

/// The scheduler of a blocking task: none. The task is notified from its
/// birth (its one `Notified` is the pool job) until a pool thread runs it,
/// and its one poll always completes it, so it is never idle and never
/// scheduled again: a wake or an abort finds it notified, running or
/// complete, which only sets a flag (an abort before the run makes that run
/// drop the closure unrun). It keeps no list of owned tasks: the pool job
/// holds the `Task` and shuts it down if the job is dropped unrun.
struct BlockingSchedule;

impl Schedule for BlockingSchedule {
    fn schedule(&self, _task: Notified<Self>) {
        unreachable!("a blocking task is only ever scheduled by its spawn");
    }
}

/// A pool job: the task's one `Notified`, its `Task`, and what to drop
/// once it has run.
struct BlockingJob<A> {
    notified: Option<Notified<BlockingSchedule>>,
    task: Option<Task<BlockingSchedule>>,
    after: Option<A>,
}

impl<A> BlockingJob<A> {
    /// Runs the task (the closure, or, if the task was aborted, nothing),
    /// which stores the outcome and wakes the handle; then drops `after`.
    fn run(mut self) {
        if let Some(notified) = self.notified.take() {
            notified.run();
        }
        // A plain reference now: the task is complete.
        drop(self.task.take());
        drop(self.after.take());
    }
}

impl<A> Drop for BlockingJob<A> {
    fn drop(&mut self) {
        // Dropped unrun (a pool that shut down): cancel the task, which
        // drops the closure here and wakes the handle with "cancelled".
        if let Some(task) = self.task.take() {
            task.shutdown();
        }
        drop(self.notified.take());
        drop(self.after.take());
    }
}
