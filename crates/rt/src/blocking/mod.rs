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
//! [`spawn_blocking`] returns a [`BlockingHandle`], a future of the
//! closure's result. The closure starts whether or not the handle is ever
//! polled, and dropping the handle detaches it: the closure still runs to
//! the end (a thread cannot be interrupted), and its result is dropped. A
//! panic in the closure is caught on the pool thread and comes back as a
//! [`JoinError`] whose payload [`JoinError::into_panic`] returns; the pool
//! thread carries on.
//!
//! The handle needs nothing from a runtime: the pool thread sends the
//! result through a [`oneshot`] channel and wakes the
//! waker of whoever polled last. So it works on spindle-rt's runtimes and
//! under any other executor (`futures::executor::block_on`, another
//! crate's runtime) alike.
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

use crate::sync::oneshot;
use crate::task::{JoinError, TaskId};
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread;

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
/// polled; dropping the handle does not stop it. The future resolves to
/// `Ok(value)`, or to a [`JoinError`] if `f` panicked
/// ([`is_panic`](JoinError::is_panic), payload by
/// [`into_panic`](JoinError::into_panic)) or never ran because no thread
/// could be started ([`is_cancelled`](JoinError::is_cancelled)).
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
pub fn spawn_blocking<F, R>(f: F) -> BlockingHandle<R>
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
    pub fn spawn<F, R>(&self, f: F) -> BlockingHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.spawn_then(f, ())
    }

    /// [`spawn`](Self::spawn), dropping `after` once the outcome has been
    /// handed to the handle (its waker woken), or with the job if it never
    /// runs.
    pub(crate) fn spawn_then<F, R, A>(&self, f: F, after: A) -> BlockingHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
        A: Send + 'static,
    {
        let id = TaskId::next();
        let (tx, rx) = oneshot::channel();
        let job = Box::new(move || {
            let outcome = panic::catch_unwind(AssertUnwindSafe(f));
            // The handle may be gone (detached); the outcome is then
            // dropped here, on the pool thread.
            let _ = tx.send(outcome);
            drop(after);
        });
        if let Err(job) = self.submit(job) {
            // Dropping the unrun job drops its sender: the handle resolves
            // to "cancelled".
            drop(job);
        }
        BlockingHandle { id, rx }
    }
}

/// A future of a blocking closure's result, from [`spawn_blocking`] or
/// [`BlockingPool::spawn`].
///
/// Dropping it detaches the closure, which still runs. The error carries an
/// id from the same counter as task ids, to tell jobs apart in messages.
#[must_use = "a dropped BlockingHandle detaches the closure, which still runs"]
pub struct BlockingHandle<R> {
    id: TaskId,
    rx: oneshot::Receiver<thread::Result<R>>,
}

impl<R> BlockingHandle<R> {
    /// The id reported in this job's [`JoinError`].
    pub fn id(&self) -> TaskId {
        self.id
    }
}

impl<R> Future for BlockingHandle<R> {
    type Output = Result<R, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let id = self.id;
        Pin::new(&mut self.rx).poll(cx).map(|received| match received {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(payload)) => Err(JoinError::panic(id, payload)),
            // The sender went without sending: the job was dropped unrun.
            Err(oneshot::RecvError) => Err(JoinError::cancelled(id)),
        })
    }
}

impl<R> fmt::Debug for BlockingHandle<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingHandle").field("id", &self.id).finish_non_exhaustive()
    }
}
