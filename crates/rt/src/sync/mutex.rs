//! An async mutual-exclusion lock with FIFO hand-off.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::waiters::{lock, Cancelled, WaitList, WaiterId, WakeList};
use super::TryLockError;
use std::cell::UnsafeCell;

use crate::loom::sync::Mutex as StateMutex;

/// An async mutual-exclusion lock with FIFO hand-off.
///
/// [`Mutex::lock`] returns a future; while the lock is held, the caller's
/// task is parked rather than its thread. When a guard drops and tasks are
/// waiting, the lock is *handed* to the oldest waiter directly: it never
/// becomes free in between, so a task arriving later (or calling
/// [`Mutex::try_lock`]) cannot barge ahead of the queue.
///
/// ```
/// use futures::executor::block_on;
/// use spindle_rt::sync::Mutex;
///
/// let counter = Mutex::new(0);
/// block_on(async {
///     *counter.lock().await += 1;
///     let mut guard = counter.lock().await;
///     *guard += 1;
///     assert!(counter.try_lock().is_err()); // held by `guard`
/// });
/// assert_eq!(counter.into_inner(), 2);
/// ```
pub struct Mutex<T: ?Sized> {
    state: StateMutex<State>,
    /// Accessed only through a [`MutexGuard`], and a guard exists only
    /// while `state.locked` is true on its behalf. (`std`'s cell, not the
    /// loom shim's: it must hold `?Sized` values and hand out references
    /// that outlive a closure; loom still models the `state` lock that
    /// orders every access.)
    data: UnsafeCell<T>,
}

#[derive(Debug)]
struct State {
    /// True while a guard exists or the lock has been handed to a waiter
    /// that has not collected it yet.
    locked: bool,
    waiters: WaitList<()>,
}

impl State {
    /// Releases the lock: hands it to the oldest waiter if there is one
    /// (`locked` stays true on its behalf), else frees it.
    fn unlock(&mut self, wakers: &mut WakeList) {
        if !self.waiters.grant_front(wakers, |_| {}) {
            self.locked = false;
        }
    }
}

// SAFETY: the mutex hands out at most one guard at a time (`locked`), so
// sharing it across threads only ever gives one thread access to `T`, and
// moving it moves the `T`: both need `T: Send`, not `T: Sync`.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: as above: `&Mutex<T>` only gives exclusive access to `T`, one
// guard at a time.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    /// Creates an unlocked mutex holding `value`.
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            state: StateMutex::new(State { locked: false, waiters: WaitList::new() }),
            data: UnsafeCell::new(value),
        }
    }

    /// [`new`](Mutex::new) as a `const fn`, for a mutex in a `static`
    /// (tokio's `const_new`). Not under `--cfg loom`, whose locks cannot
    /// be built in a constant.
    #[cfg(not(loom))]
    pub const fn const_new(value: T) -> Mutex<T> {
        Mutex {
            state: StateMutex::new(State { locked: false, waiters: WaitList::new() }),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the mutex and returns the value.
    pub fn into_inner(self) -> T {
        let Mutex { data, .. } = self;
        data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits for the lock. Waiters get it in the order they first polled
    /// this future. Dropping the future while it waits leaves the queue;
    /// if the lock had already been handed to it, it goes to the next
    /// waiter.
    pub fn lock(&self) -> Lock<'_, T> {
        Lock { mutex: self, waiter: None }
    }

    /// Takes the lock from synchronous code, parking the thread until it
    /// is free: for a plain thread or a
    /// [`spawn_blocking`](crate::spawn_blocking) closure that shares state
    /// with tasks. As tokio's `blocking_lock`.
    ///
    /// # Panics
    /// On a thread that runs a spindle-rt runtime (inside `block_on`, or
    /// in a task): parking it would stop every task it runs, perhaps the
    /// holder's. The message says "cannot block the current thread from
    /// within a spindle-rt runtime"; use `lock().await` there.
    #[track_caller]
    pub fn blocking_lock(&self) -> MutexGuard<'_, T> {
        crate::sync::blocking::block_on("Mutex::blocking_lock", self.lock())
    }

    /// Takes the lock if it is free right now, without waiting.
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        let mut state = lock(&self.state);
        if state.locked {
            return Err(TryLockError(()));
        }
        state.locked = true;
        Ok(MutexGuard { mutex: self })
    }

    /// Waits for the lock, held through the `Arc` instead of a borrow, so
    /// the guard can move into a spawned task or be kept in a struct.
    pub async fn lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        // The owned guard takes over the unlock.
        std::mem::forget(self.lock().await);
        OwnedMutexGuard { mutex: self }
    }

    /// Takes the lock now if it is free, held through the `Arc`.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if the lock is held (or handed to a waiter).
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        std::mem::forget(self.try_lock()?);
        Ok(OwnedMutexGuard { mutex: self })
    }

    /// A mutable reference to the value: `&mut self` proves nobody else
    /// can hold the lock.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

impl<T: ?Sized> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Mutex")
            .field("locked", &state.locked)
            .field("waiters", &state.waiters.len())
            .finish_non_exhaustive()
    }
}

/// Future returned by [`Mutex::lock`].
#[must_use = "futures do nothing unless polled"]
pub struct Lock<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    waiter: Option<WaiterId>,
}

impl<'a, T: ?Sized> Future for Lock<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        crate::coop::poll_budgeted(cx, |cx| {
            let mutex = self.mutex;
            let mut state = lock(&mutex.state);
            match self.waiter {
                None => {
                    if !state.locked {
                        state.locked = true;
                        return Poll::Ready(MutexGuard { mutex });
                    }
                    self.waiter = Some(state.waiters.push(cx.waker(), ()));
                }
                Some(id) => {
                    if state.waiters.poll_grant(id, cx.waker()).is_some() {
                        self.waiter = None;
                        return Poll::Ready(MutexGuard { mutex });
                    }
                }
            }
            Poll::Pending
        })
    }
}

impl<T: ?Sized> Drop for Lock<'_, T> {
    fn drop(&mut self) {
        if let Some(id) = self.waiter.take() {
            let mut wakers = WakeList::new();
            let mut state = lock(&self.mutex.state);
            if let Cancelled::Granted(()) = state.waiters.cancel(id) {
                state.unlock(&mut wakers);
            }
            drop(state);
        }
    }
}

impl<T: ?Sized> fmt::Debug for Lock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock").field("waiting", &self.waiter.is_some()).finish_non_exhaustive()
    }
}

/// Exclusive access to a [`Mutex`]'s value; the lock is released (or
/// handed to the next waiter) when the guard drops.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    /// Invariant: `mutex.state.locked` is true on this guard's behalf.
    mutex: &'a Mutex<T>,
}

// SAFETY: a guard gives `&T` to whichever thread holds `&MutexGuard`.
unsafe impl<T: ?Sized + Sync> Sync for MutexGuard<'_, T> {}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard is the only one (the lock is held on its
        // behalf), and the returned borrow is tied to `&self`, so no `&mut`
        // to the data can coexist with it.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes the borrow exclusive.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The mutex this guard locks. (An associated function, as tokio's,
    /// so it does not shadow a method of `T`.)
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.mutex
    }

    /// Narrows the guard to a part of the value that `f` picks (a field,
    /// an element): the lock stays held until the [`MappedMutexGuard`]
    /// drops. As tokio's `MutexGuard::map`. If `f` panics, the lock is
    /// released.
    pub fn map<U: ?Sized, F: FnOnce(&mut T) -> &mut U>(mut this: Self, f: F) -> MappedMutexGuard<'a, U> {
        let data: *mut U = f(&mut *this);
        MappedMutexGuard::hand_over(this, data)
    }

    /// [`map`](MutexGuard::map) for a part that may not be there: `f`'s
    /// `None` hands the guard back unchanged. As tokio's.
    ///
    /// # Errors
    ///
    /// The guard itself, when `f` returns `None`.
    pub fn try_map<U: ?Sized, F: FnOnce(&mut T) -> Option<&mut U>>(
        mut this: Self,
        f: F,
    ) -> Result<MappedMutexGuard<'a, U>, Self> {
        let data: *mut U = match f(&mut *this) {
            Some(data) => data,
            None => return Err(this),
        };
        Ok(MappedMutexGuard::hand_over(this, data))
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        let mut wakers = WakeList::new();
        let mut state = lock(&self.mutex.state);
        state.unlock(&mut wakers);
        drop(state);
    }
}

/// A [`MutexGuard`] narrowed to part of the value by [`MutexGuard::map`]:
/// exclusive access to that part, and the lock held until it drops.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct MappedMutexGuard<'a, T: ?Sized> {
    /// The mutex's lock state. Invariant: `locked` is true on this guard's
    /// behalf (taken over from the guard it was mapped from).
    state: &'a StateMutex<State>,
    /// Points into the locked value, which outlives `'a`.
    data: *mut T,
    _borrows: PhantomData<&'a mut T>,
}

// SAFETY: the guard is a `&mut T` into the locked value: moving it to
// another thread moves that exclusive access (`T: Send`), sharing it
// shares `&T` (`T: Sync`); the lock state it releases is `Sync`.
unsafe impl<T: ?Sized + Send> Send for MappedMutexGuard<'_, T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Sync> Sync for MappedMutexGuard<'_, T> {}

impl<'a, T: ?Sized> MappedMutexGuard<'a, T> {
    /// Takes over `guard`'s lock, giving access to `data` (which points
    /// into its value) instead.
    fn hand_over<V: ?Sized>(guard: MutexGuard<'a, V>, data: *mut T) -> MappedMutexGuard<'a, T> {
        let mutex: &'a Mutex<V> = guard.mutex;
        // The mapped guard releases the lock instead.
        std::mem::forget(guard);
        MappedMutexGuard { state: &mutex.state, data, _borrows: PhantomData }
    }

    /// Points the guard at `data` (inside its value), keeping the lock.
    fn narrow<U: ?Sized>(this: Self, data: *mut U) -> MappedMutexGuard<'a, U> {
        let state = this.state;
        // The narrowed guard releases the lock instead.
        std::mem::forget(this);
        MappedMutexGuard { state, data, _borrows: PhantomData }
    }

    /// Narrows the guard further; see [`MutexGuard::map`].
    pub fn map<U: ?Sized, F: FnOnce(&mut T) -> &mut U>(mut this: Self, f: F) -> MappedMutexGuard<'a, U> {
        let data: *mut U = f(&mut *this);
        Self::narrow(this, data)
    }

    /// Narrows the guard further if `f` finds the part; see
    /// [`MutexGuard::try_map`].
    ///
    /// # Errors
    ///
    /// The guard itself, when `f` returns `None`.
    pub fn try_map<U: ?Sized, F: FnOnce(&mut T) -> Option<&mut U>>(
        mut this: Self,
        f: F,
    ) -> Result<MappedMutexGuard<'a, U>, Self> {
        let data: *mut U = match f(&mut *this) {
            Some(data) => data,
            None => return Err(this),
        };
        Ok(Self::narrow(this, data))
    }
}

impl<T: ?Sized> Deref for MappedMutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: `data` came from a `&mut` into the locked value, the lock
        // is held on this guard's behalf (so nothing else reaches the
        // value), and the value outlives `'a`; the borrow is tied to
        // `&self`, excluding `deref_mut`.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> DerefMut for MappedMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes the borrow exclusive.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized> Drop for MappedMutexGuard<'_, T> {
    fn drop(&mut self) {
        let mut wakers = WakeList::new();
        let mut state = lock(self.state);
        state.unlock(&mut wakers);
        drop(state);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MappedMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Exclusive access to a [`Mutex`]'s value through an `Arc`, from
/// [`Mutex::lock_owned`]: `'static`, so it can move into a spawned task.
/// The lock is released (or handed to the next waiter) when it drops.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedMutexGuard<T: ?Sized> {
    /// Invariant: `mutex.state.locked` is true on this guard's behalf.
    mutex: Arc<Mutex<T>>,
}

// SAFETY: a guard gives `&T` to whichever thread holds `&OwnedMutexGuard`,
// so sharing it needs `T: Sync` (this impl replaces the automatic one,
// which would ask only `T: Send`). Sending it needs `T: Send`, which the
// automatic `Send` (through `Arc<Mutex<T>>`) already asks.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedMutexGuard<T> {}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// The mutex this guard locks.
    pub fn mutex(&self) -> &Arc<Mutex<T>> {
        &self.mutex
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: as `MutexGuard::deref`: this guard is the only one, and
        // the borrow is tied to `&self`.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes the borrow exclusive.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        let mut wakers = WakeList::new();
        let mut state = lock(&self.mutex.state);
        state.unlock(&mut wakers);
        drop(state);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
