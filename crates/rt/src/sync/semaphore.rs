//! A counting semaphore with FIFO fairness.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::waiters::{lock, Cancelled, WaitList, WaiterId, WakeList};
use crate::loom::sync::Mutex;

/// A counting semaphore with FIFO fairness.
///
/// A [`Semaphore`] holds a number of permits. [`Semaphore::acquire`] takes
/// one (and [`Semaphore::acquire_many`] several), waiting while too few are
/// available; the returned [`SemaphorePermit`] gives them back when it
/// drops. Use it to bound concurrency: at most N tasks in a section, at
/// most N open connections.
///
/// **Fairness.** Waiters are served strictly in arrival order. A large
/// request at the head of the queue blocks smaller requests behind it even
/// when enough permits for *them* are available: it waits until its own
/// count is free, and nobody overtakes it. This prevents the starvation of
/// large requests by a stream of small ones, at the cost of some idle
/// permits. [`Semaphore::try_acquire`] obeys the same rule: it fails while
/// anyone is queued.
///
/// **Closing.** [`Semaphore::close`] makes every waiting and later acquire
/// fail with [`AcquireError`]; permits already held stay valid.
///
/// ```
/// use futures::executor::block_on;
/// use spindle_rt::sync::Semaphore;
///
/// let sem = Semaphore::new(3);
/// block_on(async {
///     let two = sem.acquire_many(2).await.unwrap();
///     assert_eq!(sem.available_permits(), 1);
///     assert!(sem.try_acquire_many(2).is_err());
///     drop(two);
///     assert_eq!(sem.available_permits(), 3);
/// });
/// ```
pub struct Semaphore {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Permits free to take; those granted to waiters are already
    /// deducted.
    permits: usize,
    closed: bool,
    /// Waiters with the number of permits each wants, oldest first.
    waiters: WaitList<usize>,
}

impl State {
    /// Grants queued requests in order while the head one fits.
    fn grant_waiters(&mut self, wakers: &mut WakeList) {
        while let Some(&wanted) = self.waiters.front() {
            if wanted > self.permits {
                break;
            }
            self.permits -= wanted;
            let granted = self.waiters.grant_front(wakers, |_| {});
            debug_assert!(granted);
        }
    }

    fn release(&mut self, n: usize, wakers: &mut WakeList) {
        self.permits = self
            .permits
            .checked_add(n)
            .filter(|&p| p <= Semaphore::MAX_PERMITS)
            .expect("Semaphore: permit count exceeds Semaphore::MAX_PERMITS");
        if !self.closed {
            self.grant_waiters(wakers);
        }
    }
}

/// The semaphore was closed; no permits can be acquired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcquireError(());

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}

impl std::error::Error for AcquireError {}

/// Why [`Semaphore::try_acquire`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore was closed.
    Closed,
    /// Too few permits are free, or other tasks are queued ahead.
    NoPermits,
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::Closed => f.write_str("semaphore closed"),
            TryAcquireError::NoPermits => f.write_str("no permits available"),
        }
    }
}

impl std::error::Error for TryAcquireError {}

/// A `u32` permit count (tokio's type for `acquire_many`) as the `usize`
/// the semaphore counts in; lossless on every target this crate builds for.
fn permits(n: u32) -> usize {
    usize::try_from(n).expect("a u32 fits in usize")
}

impl Semaphore {
    /// The most permits a semaphore can hold; more panics.
    pub const MAX_PERMITS: usize = usize::MAX >> 3;

    /// Creates a semaphore with `permits` permits.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
    pub fn new(permits: usize) -> Semaphore {
        assert!(
            permits <= Semaphore::MAX_PERMITS,
            "Semaphore::new: more than Semaphore::MAX_PERMITS permits"
        );
        Semaphore { state: Mutex::new(State { permits, closed: false, waiters: WaitList::new() }) }
    }

    /// [`new`](Semaphore::new) as a `const fn`, for a semaphore in a
    /// `static` (tokio's `const_new`). Not under `--cfg loom`, whose locks
    /// cannot be built in a constant.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`] (at compile time in
    /// a `static`).
    #[cfg(not(loom))]
    pub const fn const_new(permits: usize) -> Semaphore {
        assert!(
            permits <= Semaphore::MAX_PERMITS,
            "Semaphore::const_new: more than Semaphore::MAX_PERMITS permits"
        );
        Semaphore { state: Mutex::new(State { permits, closed: false, waiters: WaitList::new() }) }
    }

    /// Permits free right now.
    pub fn available_permits(&self) -> usize {
        lock(&self.state).permits
    }

    /// Adds `n` permits, waking queued acquirers they satisfy.
    ///
    /// # Panics
    ///
    /// If the total would exceed [`Semaphore::MAX_PERMITS`].
    pub fn add_permits(&self, n: usize) {
        let mut wakers = WakeList::new();
        let mut state = lock(&self.state);
        state.release(n, &mut wakers);
        drop(state);
    }

    /// Removes up to `n` of the free permits (not those held or already
    /// granted to a waiter) and returns how many it removed. As tokio's
    /// `forget_permits`.
    pub fn forget_permits(&self, n: usize) -> usize {
        let mut state = lock(&self.state);
        let forgotten = n.min(state.permits);
        state.permits -= forgotten;
        forgotten
    }

    /// Waits for one permit; see [`Semaphore::acquire_many`].
    pub fn acquire(&self) -> Acquire<'_> {
        self.acquire_many(1)
    }

    /// Waits for `n` permits, taken all at once (never some now, the rest
    /// later). Fails if the semaphore is closed before they are granted.
    /// Dropping the future leaves the queue; permits already granted to it
    /// go back and on to the next waiters.
    ///
    /// The count is a `u32`, as tokio's.
    pub fn acquire_many(&self, n: u32) -> Acquire<'_> {
        Acquire { semaphore: self, wanted: permits(n), waiter: None }
    }

    /// Takes one permit if it is available now and nobody is queued.
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are available now and nobody is queued.
    ///
    /// The count is a `u32`, as tokio's.
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        let n = permits(n);
        let mut state = lock(&self.state);
        if state.closed {
            return Err(TryAcquireError::Closed);
        }
        if !state.waiters.is_empty() || state.permits < n {
            return Err(TryAcquireError::NoPermits);
        }
        state.permits -= n;
        Ok(SemaphorePermit { semaphore: self, permits: n })
    }

    /// Waits for one permit, held through the `Arc` instead of a borrow,
    /// so it can move into a spawned task: the usual way for a server to
    /// cap the connections it serves at once.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use spindle_rt::sync::Semaphore;
    /// use std::sync::Arc;
    ///
    /// let rt = spindle_rt::Builder::new_current_thread().build()?;
    /// rt.block_on(async {
    ///     let limit = Arc::new(Semaphore::new(2));
    ///     for job in 0..10 {
    ///         // Waits here while two jobs are running.
    ///         let permit = Arc::clone(&limit).acquire_owned().await.unwrap();
    ///         spindle_rt::spawn(async move {
    ///             let _ = job; // ... serve a connection ...
    ///             drop(permit);
    ///         });
    ///     }
    /// });
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed first.
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many_owned(1).await
    }

    /// Waits for `n` permits, held through the `Arc`; see
    /// [`acquire_many`](Semaphore::acquire_many) and
    /// [`acquire_owned`](Semaphore::acquire_owned).
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed first.
    pub async fn acquire_many_owned(self: Arc<Self>, n: u32) -> Result<OwnedSemaphorePermit, AcquireError> {
        let permits = {
            let permit = self.acquire_many(n).await?;
            let permits = permit.num_permits();
            // The owned permit takes over the release.
            permit.forget();
            permits
        };
        Ok(OwnedSemaphorePermit { semaphore: self, permits })
    }

    /// Takes one permit now, held through the `Arc`.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Semaphore::try_acquire).
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// Takes `n` permits now, held through the `Arc`.
    ///
    /// # Errors
    ///
    /// As [`try_acquire_many`](Semaphore::try_acquire_many).
    pub fn try_acquire_many_owned(self: Arc<Self>, n: u32) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        let permit = self.try_acquire_many(n)?;
        let permits = permit.num_permits();
        permit.forget();
        Ok(OwnedSemaphorePermit { semaphore: self, permits })
    }

    /// Closes the semaphore: every queued acquire and every later one
    /// fails with [`AcquireError`]. Held permits stay valid and are still
    /// returned when they drop.
    pub fn close(&self) {
        let mut wakers = WakeList::new();
        let mut state = lock(&self.state);
        state.closed = true;
        state.waiters.wake_all(&mut wakers);
        drop(state);
    }

    /// True once [`Semaphore::close`] was called.
    pub fn is_closed(&self) -> bool {
        lock(&self.state).closed
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Semaphore")
            .field("permits", &state.permits)
            .field("closed", &state.closed)
            .field("waiters", &state.waiters.len())
            .finish()
    }
}

/// Future returned by [`Semaphore::acquire`] and
/// [`Semaphore::acquire_many`].
#[must_use = "futures do nothing unless polled"]
pub struct Acquire<'a> {
    semaphore: &'a Semaphore,
    wanted: usize,
    waiter: Option<WaiterId>,
}

impl<'a> Acquire<'a> {
    /// Leaves the queue; permits granted to us go back to the semaphore.
    fn cancel(&mut self, state: &mut State, wakers: &mut WakeList) {
        if let Some(id) = self.waiter.take() {
            match state.waiters.cancel(id) {
                Cancelled::Granted(n) => state.release(n, wakers),
                // The head leaving may let smaller requests behind it in.
                Cancelled::Queued(_) if !state.closed => state.grant_waiters(wakers),
                Cancelled::Queued(_) | Cancelled::Gone => {}
            }
        }
    }
}

impl<'a> Future for Acquire<'a> {
    type Output = Result<SemaphorePermit<'a>, AcquireError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        crate::coop::poll_budgeted(cx, |cx| {
            let this = &mut *self;
            let semaphore = this.semaphore;
            let mut wakers = WakeList::new();
            let mut state = lock(&semaphore.state);
            if state.closed {
                this.cancel(&mut state, &mut wakers);
                return Poll::Ready(Err(AcquireError(())));
            }
            let acquired = match this.waiter {
                None if state.waiters.is_empty() && state.permits >= this.wanted => {
                    state.permits -= this.wanted;
                    true
                }
                None => {
                    this.waiter = Some(state.waiters.push(cx.waker(), this.wanted));
                    false
                }
                Some(id) => state.waiters.poll_grant(id, cx.waker()).is_some(),
            };
            drop(state);
            if !acquired {
                return Poll::Pending;
            }
            this.waiter = None;
            Poll::Ready(Ok(SemaphorePermit { semaphore, permits: this.wanted }))
        })
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if self.waiter.is_some() {
            let mut wakers = WakeList::new();
            let mut state = lock(&self.semaphore.state);
            self.cancel(&mut state, &mut wakers);
            drop(state);
        }
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("wanted", &self.wanted)
            .field("waiting", &self.waiter.is_some())
            .finish()
    }
}

/// Permits taken from a [`Semaphore`]; they go back when this drops.
#[must_use = "the permits are released as soon as this is dropped"]
pub struct SemaphorePermit<'a> {
    semaphore: &'a Semaphore,
    permits: usize,
}

impl SemaphorePermit<'_> {
    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// Moves `n` of this grant's permits into a new permit (released on
    /// its own), or `None` if this holds fewer than `n`. As tokio's.
    pub fn split(&mut self, n: usize) -> Option<Self> {
        self.permits = self.permits.checked_sub(n)?;
        Some(SemaphorePermit { semaphore: self.semaphore, permits: n })
    }

    /// Takes over `other`'s permits: they are released with this one's.
    /// As tokio's.
    ///
    /// # Panics
    ///
    /// If `other` came from another semaphore.
    pub fn merge(&mut self, mut other: Self) {
        assert!(std::ptr::eq(self.semaphore, other.semaphore), "merging permits of different semaphores");
        self.permits += std::mem::take(&mut other.permits);
    }

    /// Drops the permits without returning them: the semaphore shrinks.
    pub fn forget(mut self) {
        self.permits = 0;
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        if self.permits > 0 {
            let mut wakers = WakeList::new();
            let mut state = lock(&self.semaphore.state);
            state.release(self.permits, &mut wakers);
            drop(state);
        }
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit").field("permits", &self.permits).finish()
    }
}

/// Permits taken from a [`Semaphore`] through an `Arc`, from
/// [`Semaphore::acquire_owned`] and its kin: `'static`, so they can move
/// into a spawned task. They go back when this drops.
#[must_use = "the permits are released as soon as this is dropped"]
pub struct OwnedSemaphorePermit {
    semaphore: Arc<Semaphore>,
    permits: usize,
}

impl OwnedSemaphorePermit {
    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// The semaphore the permits came from.
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.semaphore
    }

    /// [`SemaphorePermit::split`] for the owned permits.
    pub fn split(&mut self, n: usize) -> Option<Self> {
        self.permits = self.permits.checked_sub(n)?;
        Some(OwnedSemaphorePermit { semaphore: Arc::clone(&self.semaphore), permits: n })
    }

    /// [`SemaphorePermit::merge`] for the owned permits.
    ///
    /// # Panics
    ///
    /// If `other` came from another semaphore.
    pub fn merge(&mut self, mut other: Self) {
        assert!(Arc::ptr_eq(&self.semaphore, &other.semaphore), "merging permits of different semaphores");
        self.permits += std::mem::take(&mut other.permits);
    }

    /// Drops the permits without returning them: the semaphore shrinks.
    pub fn forget(mut self) {
        self.permits = 0;
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        if self.permits > 0 {
            self.semaphore.add_permits(self.permits);
        }
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit").field("permits", &self.permits).finish()
    }
}
