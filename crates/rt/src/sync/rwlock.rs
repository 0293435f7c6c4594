//! An async reader-writer lock, fair and writer-preferring.

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::waiters::{lock, Cancelled, WaitList, WaiterId, WakeList};
use super::TryLockError;
use crate::loom::sync::Mutex;

/// An async reader-writer lock, fair and writer-preferring.
///
/// Any number of [`RwLockReadGuard`]s may exist at once, or one
/// [`RwLockWriteGuard`], never both.
///
/// **Fairness.** Waiters form one FIFO queue. A new reader is admitted at
/// once only if no writer holds the lock *and nobody is queued*: a waiting
/// writer therefore stops readers that arrive after it (writer
/// preference), so a steady stream of readers cannot starve writers. When
/// the lock is released, the queue is served in order: a run of readers at
/// the head is admitted together; a writer at the head waits for the last
/// reader to leave and then goes alone. Readers queued behind a writer wait
/// for it. [`RwLock::try_read`] and [`RwLock::try_write`] obey the same
/// rules and fail while anyone is queued.
///
/// ```
/// use futures::executor::block_on;
/// use spindle_rt::sync::RwLock;
///
/// let lock = RwLock::new(vec![1, 2]);
/// block_on(async {
///     let a = lock.read().await;
///     let b = lock.read().await; // readers share
///     assert_eq!(a.len() + b.len(), 4);
///     assert!(lock.try_write().is_err());
///     drop((a, b));
///     lock.write().await.push(3);
/// });
/// assert_eq!(lock.into_inner(), [1, 2, 3]);
/// ```
pub struct RwLock<T: ?Sized> {
    state: Mutex<State>,
    /// Read through read guards (shared) or a write guard (exclusive);
    /// `state` counts them so the two kinds never coexist. (`std`'s cell,
    /// as in [`Mutex`](super::Mutex).)
    data: UnsafeCell<T>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
}

#[derive(Debug)]
struct State {
    /// Read guards alive or granted. Never nonzero while `writer` is set.
    readers: usize,
    /// A write guard is alive or granted.
    writer: bool,
    waiters: WaitList<Access>,
}

impl State {
    /// Admits waiters from the head of the queue while they fit.
    fn grant_waiters(&mut self, wakers: &mut WakeList) {
        while let Some(&access) = self.waiters.front() {
            match access {
                Access::Read if !self.writer => self.readers += 1,
                Access::Write if !self.writer && self.readers == 0 => self.writer = true,
                _ => return,
            }
            self.waiters.grant_front(wakers, |_| {});
        }
    }

    /// Turns the write access into one read access and admits the readers
    /// now at the head of the queue.
    fn downgrade(&mut self, wakers: &mut WakeList) {
        debug_assert!(self.writer && self.readers == 0);
        self.writer = false;
        self.readers = 1;
        self.grant_waiters(wakers);
    }

    fn release(&mut self, access: Access, wakers: &mut WakeList) {
        match access {
            Access::Read => self.readers -= 1,
            Access::Write => self.writer = false,
        }
        self.grant_waiters(wakers);
    }

    /// Takes the lock without queueing if the fairness rules allow it.
    fn try_acquire(&mut self, access: Access) -> bool {
        if self.writer || !self.waiters.is_empty() {
            return false;
        }
        match access {
            Access::Read => self.readers += 1,
            Access::Write if self.readers == 0 => self.writer = true,
            Access::Write => return false,
        }
        true
    }
}

// SAFETY: moving the lock moves the `T` (needs `T: Send`); sharing it
// gives `&T` to many threads at once through read guards (needs
// `T: Sync`) and `&mut T` to one thread at a time (needs `T: Send`).
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

impl<T> RwLock<T> {
    /// Creates an unlocked `RwLock` holding `value`.
    pub fn new(value: T) -> RwLock<T> {
        RwLock {
            state: Mutex::new(State { readers: 0, writer: false, waiters: WaitList::new() }),
            data: UnsafeCell::new(value),
        }
    }

    /// [`new`](RwLock::new) as a `const fn`, for a lock in a `static`
    /// (tokio's `const_new`). Not under `--cfg loom`, whose locks cannot
    /// be built in a constant.
    #[cfg(not(loom))]
    pub const fn const_new(value: T) -> RwLock<T> {
        RwLock {
            state: Mutex::new(State { readers: 0, writer: false, waiters: WaitList::new() }),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock and returns the value.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits for shared access.
    pub fn read(&self) -> Read<'_, T> {
        Read(Waiting { lock: self, access: Access::Read, waiter: None })
    }

    /// Waits for exclusive access.
    pub fn write(&self) -> Write<'_, T> {
        Write(Waiting { lock: self, access: Access::Write, waiter: None })
    }

    /// Takes shared access from synchronous code, parking the thread
    /// until it is granted. As tokio's `blocking_read`.
    ///
    /// # Panics
    /// On a thread that runs a spindle-rt runtime, as
    /// [`Mutex::blocking_lock`](super::Mutex::blocking_lock).
    #[track_caller]
    pub fn blocking_read(&self) -> RwLockReadGuard<'_, T> {
        crate::sync::blocking::block_on("RwLock::blocking_read", self.read())
    }

    /// Takes exclusive access from synchronous code, parking the thread
    /// until it is granted. As tokio's `blocking_write`.
    ///
    /// # Panics
    /// On a thread that runs a spindle-rt runtime, as
    /// [`Mutex::blocking_lock`](super::Mutex::blocking_lock).
    #[track_caller]
    pub fn blocking_write(&self) -> RwLockWriteGuard<'_, T> {
        crate::sync::blocking::block_on("RwLock::blocking_write", self.write())
    }

    /// Takes shared access if it is available now without overtaking a
    /// queued waiter.
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        if lock(&self.state).try_acquire(Access::Read) {
            Ok(RwLockReadGuard { lock: self })
        } else {
            Err(TryLockError(()))
        }
    }

    /// Takes exclusive access if the lock is free and nobody is queued.
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        if lock(&self.state).try_acquire(Access::Write) {
            Ok(RwLockWriteGuard { lock: self })
        } else {
            Err(TryLockError(()))
        }
    }

    /// A mutable reference to the value: `&mut self` proves no guard
    /// exists.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    fn release(&self, access: Access) {
        let mut wakers = WakeList::new();
        let mut state = lock(&self.state);
        state.release(access, &mut wakers);
        drop(state);
    }

    /// The write guard's access becomes a read guard's.
    fn downgrade(&self) {
        let mut wakers = WakeList::new();
        let mut state = lock(&self.state);
        state.downgrade(&mut wakers);
        drop(state);
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("RwLock")
            .field("readers", &state.readers)
            .field("writer", &state.writer)
            .field("waiters", &state.waiters.len())
            .finish_non_exhaustive()
    }
}

/// The waiting logic shared by [`Read`] and [`Write`].
struct Waiting<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    access: Access,
    waiter: Option<WaiterId>,
}

impl<T: ?Sized> Waiting<'_, T> {
    /// Ready once the lock is held for `self.access`.
    fn poll_acquire(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = lock(&self.lock.state);
        let acquired = match self.waiter {
            None if state.try_acquire(self.access) => true,
            None => {
                self.waiter = Some(state.waiters.push(cx.waker(), self.access));
                false
            }
            Some(id) => state.waiters.poll_grant(id, cx.waker()).is_some(),
        };
        drop(state);
        if acquired {
            self.waiter = None;
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl<T: ?Sized> Drop for Waiting<'_, T> {
    fn drop(&mut self) {
        if let Some(id) = self.waiter.take() {
            let mut wakers = WakeList::new();
            let mut state = lock(&self.lock.state);
            match state.waiters.cancel(id) {
                Cancelled::Granted(access) => state.release(access, &mut wakers),
                // A writer leaving the head may let readers behind it in.
                Cancelled::Queued(_) => state.grant_waiters(&mut wakers),
                Cancelled::Gone => {}
            }
            drop(state);
        }
    }
}

/// Future returned by [`RwLock::read`]. Dropping it while it waits leaves
/// the queue (passing on access already granted to it).
#[must_use = "futures do nothing unless polled"]
pub struct Read<'a, T: ?Sized>(Waiting<'a, T>);

/// Future returned by [`RwLock::write`]. Dropping it while it waits leaves
/// the queue (passing on access already granted to it).
#[must_use = "futures do nothing unless polled"]
pub struct Write<'a, T: ?Sized>(Waiting<'a, T>);

impl<'a, T: ?Sized> Future for Read<'a, T> {
    type Output = RwLockReadGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        crate::coop::poll_budgeted(cx, |cx| {
            let lock = self.0.lock;
            self.0.poll_acquire(cx).map(|()| RwLockReadGuard { lock })
        })
    }
}

impl<'a, T: ?Sized> Future for Write<'a, T> {
    type Output = RwLockWriteGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        crate::coop::poll_budgeted(cx, |cx| {
            let lock = self.0.lock;
            self.0.poll_acquire(cx).map(|()| RwLockWriteGuard { lock })
        })
    }
}

impl<T: ?Sized> fmt::Debug for Read<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Read").field("waiting", &self.0.waiter.is_some()).finish_non_exhaustive()
    }
}

impl<T: ?Sized> fmt::Debug for Write<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Write").field("waiting", &self.0.waiter.is_some()).finish_non_exhaustive()
    }
}

/// Shared access to an [`RwLock`]'s value; released when dropped.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    /// Invariant: `lock.state.readers` counts this guard.
    lock: &'a RwLock<T>,
}

/// Exclusive access to an [`RwLock`]'s value; released when dropped.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    /// Invariant: `lock.state.writer` is set on this guard's behalf.
    lock: &'a RwLock<T>,
}

// SAFETY: a read guard only gives `&T`, so sending it or sharing it needs
// `T: Sync` (other read guards may be reading on other threads).
unsafe impl<T: ?Sized + Sync> Send for RwLockReadGuard<'_, T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}
// SAFETY: sharing a write guard gives `&T` to other threads (`T: Sync`).
// Its auto `Send` (from `&RwLock<T>`) already requires `T: Send + Sync`.
unsafe impl<T: ?Sized + Sync> Sync for RwLockWriteGuard<'_, T> {}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: `readers` counts this guard, so `writer` is false and no
        // `&mut T` exists until this guard drops; shared `&T`s may coexist.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.release(Access::Read);
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: `writer` is set for this guard alone, so no other guard
        // exists; the borrow is tied to `&self`, excluding `deref_mut`.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes the borrow exclusive.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Turns the write guard into a read guard without releasing the lock:
    /// no writer can get in between, and readers queued at the head of the
    /// queue come in too. As tokio's `downgrade` (an associated function,
    /// so it does not shadow a method of `T`).
    pub fn downgrade(this: Self) -> RwLockReadGuard<'a, T> {
        let lock = this.lock;
        // The read guard takes over the (downgraded) release.
        std::mem::forget(this);
        lock.downgrade();
        RwLockReadGuard { lock }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.release(Access::Write);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits for shared access, held through the `Arc` instead of a
    /// borrow, so the guard can move into a spawned task.
    pub async fn read_owned(self: Arc<Self>) -> OwnedRwLockReadGuard<T> {
        // The owned guard takes over the release.
        std::mem::forget(self.read().await);
        OwnedRwLockReadGuard { lock: self }
    }

    /// Waits for exclusive access, held through the `Arc`.
    pub async fn write_owned(self: Arc<Self>) -> OwnedRwLockWriteGuard<T> {
        std::mem::forget(self.write().await);
        OwnedRwLockWriteGuard { lock: self }
    }

    /// Takes shared access now, held through the `Arc`.
    ///
    /// # Errors
    ///
    /// As [`try_read`](RwLock::try_read).
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, TryLockError> {
        std::mem::forget(self.try_read()?);
        Ok(OwnedRwLockReadGuard { lock: self })
    }

    /// Takes exclusive access now, held through the `Arc`.
    ///
    /// # Errors
    ///
    /// As [`try_write`](RwLock::try_write).
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T>, TryLockError> {
        std::mem::forget(self.try_write()?);
        Ok(OwnedRwLockWriteGuard { lock: self })
    }
}

/// Shared access to an [`RwLock`]'s value through an `Arc`, from
/// [`RwLock::read_owned`]: `'static`, so it can move into a spawned task.
/// `Send` and `Sync` (through `Arc<RwLock<T>>`) only for `T: Send + Sync`.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockReadGuard<T: ?Sized> {
    /// Invariant: `lock.state.readers` counts this guard.
    lock: Arc<RwLock<T>>,
}

/// Exclusive access to an [`RwLock`]'s value through an `Arc`, from
/// [`RwLock::write_owned`]. `Send` and `Sync` only for `T: Send + Sync`.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    /// Invariant: `lock.state.writer` is set on this guard's behalf.
    lock: Arc<RwLock<T>>,
}

impl<T: ?Sized> Deref for OwnedRwLockReadGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: as `RwLockReadGuard::deref`: `readers` counts this guard,
        // so no `&mut T` exists until it drops.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for OwnedRwLockReadGuard<T> {
    fn drop(&mut self) {
        self.lock.release(Access::Read);
    }
}

impl<T: ?Sized> Deref for OwnedRwLockWriteGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: as `RwLockWriteGuard::deref`: `writer` is set for this
        // guard alone, and the borrow is tied to `&self`.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedRwLockWriteGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes the borrow exclusive.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    /// [`RwLockWriteGuard::downgrade`] for the owned guards.
    pub fn downgrade(this: Self) -> OwnedRwLockReadGuard<T> {
        // The write guard must not run its release: the read guard takes
        // over the (downgraded) access and the `Arc`.
        let this = std::mem::ManuallyDrop::new(this);
        // SAFETY: `this` is never used or dropped again (`ManuallyDrop`,
        // shadowing the guard), so the `Arc` is moved out exactly once and
        // its count stays right.
        let lock = unsafe { std::ptr::read(&this.lock) };
        lock.downgrade();
        OwnedRwLockReadGuard { lock }
    }
}

impl<T: ?Sized> Drop for OwnedRwLockWriteGuard<T> {
    fn drop(&mut self) {
        self.lock.release(Access::Write);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockReadGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockWriteGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
