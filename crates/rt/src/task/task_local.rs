//! Task-local storage: [`task_local!`](crate::task_local) and [`LocalKey`].
//!
//! # Why not a thread-local
//!
//! A thread-local belongs to a thread, and a task does not: on the
//! multi-thread runtime a task that returns `Pending` may be polled next
//! time by another worker (its waker pushes it onto whichever queue, and
//! idle workers steal), and between two polls of one task the same worker
//! runs many others. A value stored once in a thread-local would be seen by
//! every other task polled on that thread, and lost by this one when it
//! moves.
//!
//! So the value lives *inside the future* that [`LocalKey::scope`] returns,
//! and is lent to the thread only for the duration of each poll: the scope
//! future moves the value into the key's thread-local slot, polls the
//! wrapped future, and moves it back out (also if the poll panics), putting
//! back whatever the slot held before. Wherever and whenever the task is
//! polled, the value is there during its polls and nowhere else; an inner
//! `scope` of the same key shadows the outer value for its own polls and
//! restores it after each, so scopes nest; and two tasks on one thread never
//! see each other's values. The thread-local slot is an implementation
//! detail: it is only the place the value is lent to while the code that
//! owns it runs.

use std::cell::RefCell;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::task::{Context, Poll};

/// Declares task-local keys: values that belong to a task (more exactly,
/// to a future wrapped by [`LocalKey::scope`]) rather than to a thread.
///
/// Each `static NAME: T;` declares a [`LocalKey<T>`](LocalKey) named
/// `NAME`. A key has no value by default: [`LocalKey::scope`] (async) or
/// [`LocalKey::sync_scope`] gives it one for the duration of a future or a
/// closure, and [`LocalKey::with`], [`LocalKey::try_with`] and
/// [`LocalKey::get`] read it from code running inside. See
/// [`LocalKey`](crate::task::LocalKey#how-it-works) for how the value
/// follows the task across worker threads.
///
/// ```
/// spindle_rt::task_local! {
///     /// The id of the request being served.
///     static REQUEST_ID: u64;
///     pub static USER: String;
/// }
///
/// async fn log(msg: &str) -> String {
///     format!("[{}] {}: {msg}", REQUEST_ID.get(), USER.with(|u| u.clone()))
/// }
///
/// let rt = spindle_rt::Builder::new_multi_thread().worker_threads(2).build()?;
/// let lines = rt.block_on(async {
///     let a = spindle_rt::spawn(REQUEST_ID.scope(1, USER.scope("ann".into(), async {
///         spindle_rt::yield_now().await; // may resume on another worker
///         log("hello").await
///     })));
///     let b = spindle_rt::spawn(REQUEST_ID.scope(2, USER.scope("bob".into(), log("hi"))));
///     (a.await.unwrap(), b.await.unwrap())
/// });
/// assert_eq!(lines, ("[1] ann: hello".to_string(), "[2] bob: hi".to_string()));
/// // Outside every scope the key has no value.
/// assert!(REQUEST_ID.try_with(|_| ()).is_err());
/// # Ok::<(), std::io::Error>(())
/// ```
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty; $($rest:tt)*) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
        $crate::task_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
    };
}

/// One key of [`task_local!`]: a thread-local slot wrapped in a
/// [`LocalKey`]. Not public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __task_local_inner {
    ($(#[$attr:meta])* $vis:vis $name:ident, $t:ty) => {
        $(#[$attr])*
        $vis static $name: $crate::task::LocalKey<$t> = {
            ::std::thread_local! {
                static __SPINDLE_TASK_LOCAL: ::std::cell::RefCell<::std::option::Option<$t>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }
            $crate::task::LocalKey::__new(__SPINDLE_TASK_LOCAL)
        };
    };
}

/// A key for task-local storage, declared with
/// [`task_local!`](crate::task_local).
///
/// # How it works
///
/// The value belongs to the future that [`scope`](LocalKey::scope) returns
/// and is lent to the polling thread only during each of its polls: moved
/// into a thread-local slot before the inner future is polled, moved back
/// out after (also on a panic). A task on the multi-thread runtime may be
/// polled by a different worker each time, and a worker polls many tasks in
/// turn, so a value set once in a thread-local would leak into other tasks
/// and stay behind when this one moves; set around every poll, it is always
/// exactly the value of the scope being polled. Nested scopes of one key
/// shadow the outer value and restore it when their poll ends.
///
/// A value is visible only inside its scope: a task spawned from inside a
/// scope does not inherit it (wrap the spawned future in its own `scope`).
///
/// # Panics
///
/// [`with`](LocalKey::with) and [`get`](LocalKey::get) panic outside a scope
/// (use [`try_with`](LocalKey::try_with)); a `scope` or `sync_scope` of a
/// key panics if entered from inside a [`with`](LocalKey::with) closure of
/// the same key, which holds the value borrowed.
pub struct LocalKey<T: 'static> {
    inner: std::thread::LocalKey<RefCell<Option<T>>>,
}

/// The error of [`LocalKey::try_with`]: no scope of the key is being
/// polled (or run) on this thread.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AccessError {
    _private: (),
}

impl fmt::Debug for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessError").finish()
    }
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task-local value not set: not inside a `scope` or `sync_scope` of this key")
    }
}

impl std::error::Error for AccessError {}

/// Why a scope could not lend its value to the thread.
enum ScopeError {
    /// The slot is borrowed by a `with` of the same key.
    Borrowed,
    /// The thread is exiting and its thread-locals are gone.
    Destroyed,
}

impl ScopeError {
    fn panic(self) -> ! {
        match self {
            ScopeError::Borrowed => panic!(
                "cannot enter a task-local scope while the same key's value is borrowed \
                 (inside `LocalKey::with` of that key)"
            ),
            ScopeError::Destroyed => panic!(
                "cannot enter a task-local scope: this thread's thread-local storage has been \
                 destroyed (the thread is exiting)"
            ),
        }
    }
}

impl<T: 'static> LocalKey<T> {
    /// Used by [`task_local!`](crate::task_local). Not public API.
    #[doc(hidden)]
    pub const fn __new(inner: std::thread::LocalKey<RefCell<Option<T>>>) -> LocalKey<T> {
        LocalKey { inner }
    }

    /// Wraps `future` so that, whenever it is polled, this key's value is
    /// `value` (and is dropped with the wrapping future). If the scope
    /// future is dropped after it was first polled and before the wrapped
    /// one completed (a cancelled task, say), the wrapped future is dropped
    /// with the value set, so its destructors see it.
    ///
    /// The returned future is `Send` if `T` and `F` are: on the
    /// multi-thread runtime it may be polled by a different worker each
    /// time, and the value goes with it.
    ///
    /// # Panics
    /// When polled inside a [`with`](LocalKey::with) of the same key.
    pub async fn scope<F: Future>(&'static self, value: T, future: F) -> F::Output {
        let future = pin!(Some(future));
        let mut scope = Scope { key: self, value: Some(value), future };
        poll_fn(|cx| scope.poll(cx)).await
    }

    /// Runs `f` with this key's value set to `value`, restoring the
    /// previous value (if any) when `f` returns or panics. For synchronous
    /// code; across an `.await`, use [`scope`](LocalKey::scope).
    ///
    /// # Panics
    /// If `f` panics, or if called inside a [`with`](LocalKey::with) of the
    /// same key.
    pub fn sync_scope<F: FnOnce() -> R, R>(&'static self, value: T, f: F) -> R {
        let mut slot = Some(value);
        self.lend(&mut slot, f).unwrap_or_else(|e| e.panic())
    }

    /// Calls `f` with a reference to the value of the innermost scope of
    /// this key being polled (or run) on this thread.
    ///
    /// # Panics
    /// Outside every scope of the key ("task-local value not set").
    #[track_caller]
    pub fn with<F: FnOnce(&T) -> R, R>(&'static self, f: F) -> R {
        match self.try_with(f) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        }
    }

    /// As [`with`](LocalKey::with), but returns an [`AccessError`] instead
    /// of panicking outside every scope of the key.
    pub fn try_with<F: FnOnce(&T) -> R, R>(&'static self, f: F) -> Result<R, AccessError> {
        let mut f = Some(f);
        let out = self.inner.try_with(|slot| {
            let slot = slot.borrow();
            slot.as_ref().map(|value| (f.take().expect("called once"))(value))
        });
        match out {
            Ok(Some(r)) => Ok(r),
            _ => Err(AccessError { _private: () }),
        }
    }

    /// Moves `slot`'s value into the thread-local slot for the duration of
    /// `f`, then moves it back (also if `f` panics), restoring the value
    /// that was there before.
    fn lend<R>(&'static self, slot: &mut Option<T>, f: impl FnOnce() -> R) -> Result<R, ScopeError> {
        /// Swaps the values back on drop, so a panic in `f` restores too.
        struct Restore<'a, T: 'static> {
            key: &'static LocalKey<T>,
            slot: &'a mut Option<T>,
        }
        impl<T: 'static> Drop for Restore<'_, T> {
            fn drop(&mut self) {
                // The swap in `lend` succeeded, so the slot is not borrowed
                // now (every `with` borrow ended with its closure) and the
                // thread-local is still alive (we are running on it).
                let _ = self.key.inner.try_with(|cell| {
                    if let Ok(mut cell) = cell.try_borrow_mut() {
                        std::mem::swap(self.slot, &mut *cell);
                    }
                });
            }
        }

        self.inner
            .try_with(|cell| match cell.try_borrow_mut() {
                Ok(mut cell) => {
                    std::mem::swap(slot, &mut *cell);
                    Ok(())
                }
                Err(_) => Err(ScopeError::Borrowed),
            })
            .map_err(|_| ScopeError::Destroyed)??;
        let _restore = Restore { key: self, slot };
        Ok(f())
    }
}

impl<T: Copy + 'static> LocalKey<T> {
    /// A copy of the value of the innermost scope of this key.
    ///
    /// # Panics
    /// Outside every scope of the key ("task-local value not set").
    #[track_caller]
    pub fn get(&'static self) -> T {
        self.with(|v| *v)
    }

    /// As [`get`](LocalKey::get), but an [`AccessError`] outside every
    /// scope of the key.
    pub fn try_get(&'static self) -> Result<T, AccessError> {
        self.try_with(|v| *v)
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("LocalKey { .. }")
    }
}

/// The state of one [`LocalKey::scope`] future: the value while it is not
/// lent out, and the wrapped future (pinned inside the async block that
/// owns this; `None` once it completed or was dropped).
struct Scope<'a, T: 'static, F> {
    key: &'static LocalKey<T>,
    value: Option<T>,
    future: Pin<&'a mut Option<F>>,
}

impl<T: 'static, F: Future> Scope<'_, T, F> {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<F::Output> {
        let Scope { key, value, future } = self;
        let polled = key.lend(value, || {
            let Some(inner) = future.as_mut().as_pin_mut() else {
                panic!("a task-local scope future was polled after it completed");
            };
            let poll = inner.poll(cx);
            if poll.is_ready() {
                // Dropped inside the scope, as on cancellation.
                future.set(None);
            }
            poll
        });
        polled.unwrap_or_else(|e| e.panic())
    }
}

impl<T: 'static, F> Drop for Scope<'_, T, F> {
    fn drop(&mut self) {
        if self.future.is_none() {
            return;
        }
        let Scope { key, value, future } = self;
        // Drop the unfinished future with the value set, so its destructors
        // (a guard logging the request id, say) still see it. If the value
        // cannot be lent (inside a `with` of this key, or the thread is
        // exiting), drop it without.
        if key.lend(value, || future.set(None)).is_err() {
            future.set(None);
        }
    }
}
