//! Async synchronisation primitives: [`oneshot`], bounded [`mpsc`],
//! [`watch`] (the latest value, to every receiver), [`broadcast`] (every
//! value, to every receiver), [`Mutex`], [`RwLock`],
//! [`Notify`], [`Semaphore`], [`OnceCell`] (set once by an async
//! initializer) and [`Barrier`].
//!
//! They use nothing but [`Waker`](std::task::Waker)s, so they work on any
//! executor (this crate's schedulers, `futures::executor`, another
//! runtime) and across threads.
//!
//! # Why not `std::sync`?
//!
//! An executor runs many tasks on few threads: one thread in the
//! current-thread scheduler, one per core in the multi-thread one. A task
//! that blocks its thread (on `std::sync::Mutex::lock`, a blocking channel
//! receive, a `Condvar`) does not just wait itself: it stops *every* task
//! queued on that worker, including, quite possibly, the very task that
//! would release what it waits for. On a one-thread executor that is a
//! deadlock; on a multi-thread one it is a stall as long as the wait.
//!
//! The primitives here never block the thread. When one cannot proceed,
//! its future stores the task's waker in the primitive's waiter queue and
//! returns `Pending`; the worker moves on to other tasks. Whoever releases
//! the resource wakes the waiter, and the executor polls it again. (Each
//! primitive does take a short internal `std` lock around its own
//! bookkeeping; it is never held across user code or a wake-up, so it
//! never blocks for long.) A `std::sync::Mutex` is still the right tool for
//! data touched briefly and never held across an `.await`.
//!
//! # Fairness
//!
//! Every primitive with a waiter queue serves it first in, first out, and
//! hands a released resource *directly* to the oldest waiter: the lock
//! (or permit, or buffer slot) is reserved for that waiter before it even
//! runs, so a newcomer, or a `try_*` call, cannot barge ahead of it. The
//! price is that a newcomer sometimes waits where an unfair lock would have
//! let it through; the gain is that no waiter starves. Details per type:
//! [`Semaphore`] (a big request at the head blocks small ones behind it),
//! [`RwLock`] (writer-preferring), [`mpsc`] (senders waiting for space,
//! and [`mpsc::Permit`]s reserved ahead of a value, in one queue).
//!
//! # Cancellation
//!
//! Dropping a future is how async code cancels (a `select!` that picked
//! another branch, a timeout, an aborted task), so every waiting future
//! here is cancel-safe in this sense:
//!
//! * dropped while still queued, it removes itself from the queue;
//! * dropped after the resource was handed to it but before it was polled
//!   to collect it, it passes the resource on to the next waiter (or back
//!   to the primitive), so the wake-up is not lost with it;
//! * polled again with a different waker (the task moved, or is polled
//!   from a combinator), it replaces its stored waker, so the right task
//!   is woken.
//!
//! Wakers are always called after the primitive's internal lock is
//! released, so a waker that polls synchronously cannot deadlock.
//!
//! # From synchronous code
//!
//! The channels' `blocking_*` methods ([`mpsc::Sender::blocking_send`],
//! [`mpsc::Receiver::blocking_recv`], [`oneshot::Receiver::blocking_recv`],
//! [`broadcast::Receiver::blocking_recv`], ...) run the async form on the
//! calling thread and park it between wake-ups: the bridge between a plain
//! thread (or a `spawn_blocking` closure) and tasks. On a thread that runs
//! a runtime they panic instead of parking it, for the reason above; a
//! thread that only entered one ([`Handle::enter`](crate::Handle::enter))
//! may block.

use std::fmt;

/// Defines a channel's `SendError<T>`: the value that could not be sent,
/// handed back, with `message` as its `Display`. (`Debug` leaves the value
/// out, so `T` need not be `Debug`.) One definition for every channel.
macro_rules! send_error {
    ($(#[$doc:meta])* $message:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq)]
        pub struct SendError<T>(pub T);

        impl<T> ::std::fmt::Debug for SendError<T> {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str("SendError(..)")
            }
        }

        impl<T> ::std::fmt::Display for SendError<T> {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str($message)
            }
        }

        impl<T> ::std::error::Error for SendError<T> {}
    };
}

mod barrier;
mod blocking;
pub mod broadcast;
pub mod mpsc;
mod mutex;
mod notify;
mod once_cell;
pub mod oneshot;
mod rwlock;
mod semaphore;
mod waiters;
pub mod watch;

pub use barrier::{Barrier, BarrierWaitResult};
pub use mutex::{Lock, MappedMutexGuard, Mutex, MutexGuard, OwnedMutexGuard};
pub use notify::{Notified, Notify};
pub use once_cell::{OnceCell, SetError};
pub use rwlock::{
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, Read, RwLock, RwLockReadGuard, RwLockWriteGuard, Write,
};
pub use semaphore::{
    Acquire, AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};

/// A `try_lock`, `try_read` or `try_write` found the lock held, or other
/// tasks queued for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryLockError(());

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("lock is busy")
    }
}

impl std::error::Error for TryLockError {}
