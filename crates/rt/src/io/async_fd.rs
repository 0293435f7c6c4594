//! [`AsyncFd`]: any non-blocking descriptor (an eventfd, a timerfd, an
//! inotify descriptor, a pipe, a pty, a socket made by another library) on
//! the runtime's IO driver, with tokio's `AsyncFd` API.

use super::{Interest, Ready, ReadyEvent};
use crate::net::registration::{Registration, Wait};
use std::error::Error;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{ready, Context, Poll};

mod try_new_error;

pub use try_new_error::AsyncFdTryNewError;

/// A non-blocking descriptor, owned through `T`, registered with the
/// current runtime's IO driver so that tasks can wait until it is readable
/// or writable.
///
/// The runtime only says *when* to try; the IO itself is yours: wait with
/// [`readable`](AsyncFd::readable) or [`writable`](AsyncFd::writable), which
/// return a guard, and make the non-blocking call through the guard's
/// [`try_io`](AsyncFdReadyGuard::try_io).
///
/// # Why the guard must clear readiness on `WouldBlock`
///
/// The descriptor is registered once, edge-triggered (epoll's `EPOLLET`):
/// the kernel reports a change (new data, freed buffer space) once and then
/// stays silent however long the condition lasts. So the runtime *latches*
/// what was reported, and `readable()` returns as soon as the latch says
/// readable: at once if it already did. Only your code, whose call returned
/// `WouldBlock`, learns that the condition is over, so the guard is where
/// the latch is cleared:
///
/// * **Never cleared**, the latch says readable for ever: every
///   `readable()` returns at once, the call fails with `WouldBlock`, and
///   the task spins at full CPU instead of sleeping.
/// * **Cleared unconditionally**, an edge that arrived between the failed
///   call and the clear would be erased with it. The kernel will not
///   report that data again (it was an edge), so the task would sleep on
///   unread data, perhaps for ever.
///
/// Hence each guard carries the latch's *tick*, a counter every reported
/// event advances, as it was when the guard was made, and
/// [`clear_ready`](AsyncFdReadyGuard::clear_ready) clears only if the tick
/// has not moved. If an event came in meanwhile the readiness stays set,
/// the next `readable()` returns at once, and the next call finds the new
/// data. [`try_io`](AsyncFdReadyGuard::try_io) does all of this: it runs
/// the call, and on `WouldBlock` clears the guard's readiness and returns
/// `Err(TryIoError)`, meaning "wait again". Clear by hand only when a call
/// proved the descriptor drained; to stop early with data left, drop the
/// guard (or call [`retain_ready`](AsyncFdReadyGuard::retain_ready)), which
/// keeps the readiness so the next wait returns at once.
///
/// On the poll and select backends, which cannot report edges, the same
/// latch is fed by level-triggered interest in the directions a task waits
/// for; the API and the rules above are the same.
///
/// # Requirements
///
/// * The descriptor must be non-blocking (`O_NONBLOCK`); a blocking call in
///   `try_io` would stall the runtime's thread.
/// * The descriptor number is read once, at registration: replacing the
///   descriptor through [`get_mut`](AsyncFd::get_mut) leaves the old number
///   registered.
/// * The descriptor stays open until the `AsyncFd` is dropped or
///   [`into_inner`](AsyncFd::into_inner) returns it. The poller names a
///   descriptor by its number, so deregistration deletes *that number*:
///   if `T` closed it early and the number went to a new descriptor that
///   some other IO object registered, this drop would take the new one out
///   of the poller and its tasks would wait for ever. (tokio's `AsyncFd`
///   has the same rule, for the same reason.)
/// * One `AsyncFd` per descriptor: registering the same one twice with a
///   runtime fails with `AlreadyExists`.
/// * A wait in a direction the registration's [`Interest`] lacks fails with
///   `InvalidInput` (it would never end: the poller is not asked for it).
/// * Any number of tasks may wait in each direction (through `&self`, with
///   the async [`ready`](AsyncFd::ready), [`readable`](AsyncFd::readable),
///   [`writable`](AsyncFd::writable)): an event wakes them all, and those
///   that find nothing to do get `WouldBlock`, clear the readiness and wait
///   again. A wait dropped before its event leaves no waker behind. The
///   `poll_*_ready` methods keep only the most recent poll's waker per
///   direction, as tokio's do.
///
/// # Dropping
///
/// Dropping the `AsyncFd` takes the descriptor out of the poller (a task
/// still waiting on it wakes with an error) and only then drops `T`, which
/// closes it: the number may be reused by the next `open` at once, and
/// must not be in the poller then. [`into_inner`](AsyncFd::into_inner)
/// deregisters and gives `T` back, still open.
///
/// `Send` and `Sync` when `T` is, so it may move between tasks and threads
/// and be dropped on any of them.
///
/// # Example
///
/// ```
/// use spindle_rt::io::unix::AsyncFd;
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let (ours, mut theirs) = UnixStream::pair()?;
///     ours.set_nonblocking(true)?;
///     let fd = AsyncFd::new(ours)?;
///     let writer = std::thread::spawn(move || theirs.write_all(b"hello"));
///
///     let mut buf = [0; 16];
///     let n = loop {
///         let mut guard = fd.readable().await?;
///         match guard.try_io(|inner| inner.get_ref().read(&mut buf)) {
///             Ok(result) => break result?,
///             // WouldBlock: the guard cleared the readiness; wait again.
///             Err(_would_block) => continue,
///         }
///     };
///     writer.join().expect("writer thread")?;
///     assert_eq!(&buf[..n], b"hello");
///
///     let ours = fd.into_inner(); // off the poller, still open
///     assert!(ours.peer_addr().is_ok());
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct AsyncFd<T: AsRawFd> {
    /// Declared first, so dropped first: the descriptor leaves the poller
    /// while `inner` still holds it open.
    reg: Registration,
    interest: Interest,
    inner: T,
}

impl<T: AsRawFd> AsyncFd<T> {
    /// Registers `inner`'s descriptor with the current runtime for reads
    /// and writes. It must be non-blocking.
    ///
    /// # Errors
    /// The poller's: `AlreadyExists` if the descriptor is registered
    /// already; on epoll, `PermissionDenied` for a descriptor it cannot
    /// watch (a regular file, a directory); the system's `EBADF` for one
    /// that is not open; or an error if the runtime has shut down. `inner`
    /// is dropped (closing the descriptor, if it owns it); use
    /// [`try_new`](AsyncFd::try_new) to get it back instead.
    ///
    /// # Panics
    /// Outside a spindle-rt runtime (`block_on` or one of its tasks).
    #[track_caller]
    pub fn new(inner: T) -> io::Result<AsyncFd<T>> {
        AsyncFd::with_interest(inner, Interest::READABLE | Interest::WRITABLE)
    }

    /// Registers `inner`'s descriptor for `interest` only, so the poller
    /// reports nothing else (an eventfd only read here need not wake the
    /// driver each time a read frees its counter). Waiting in another
    /// direction is an error.
    ///
    /// # Errors
    /// As [`new`](AsyncFd::new).
    ///
    /// # Panics
    /// Outside a spindle-rt runtime.
    #[track_caller]
    pub fn with_interest(inner: T, interest: Interest) -> io::Result<AsyncFd<T>> {
        AsyncFd::try_with_interest(inner, interest).map_err(io::Error::from)
    }

    /// [`new`](AsyncFd::new), but a failed registration gives `inner` back
    /// instead of dropping it: the error holds the object, still open, and
    /// the poller's error ([`AsyncFdTryNewError::into_parts`]). For a
    /// caller that can go on without the runtime (a regular file, which
    /// epoll refuses, read on the blocking pool instead) or that must not
    /// lose what `inner` holds (tokio's `try_new`, since 1.37).
    ///
    /// # Errors
    /// As [`new`](AsyncFd::new), with `inner` inside.
    ///
    /// # Panics
    /// Outside a spindle-rt runtime.
    ///
    /// ```
    /// use spindle_rt::io::unix::AsyncFd;
    /// use std::fs::File;
    /// use std::io::ErrorKind;
    ///
    /// let rt = spindle_rt::Builder::new_current_thread().build()?;
    /// rt.block_on(async {
    ///     // epoll cannot watch a regular file: the file comes back open.
    ///     let file = File::open(std::env::current_exe()?)?;
    ///     match AsyncFd::try_new(file) {
    ///         Ok(_registered) => {} // a backend that takes any descriptor
    ///         Err(e) => {
    ///             let (file, cause) = e.into_parts();
    ///             assert_eq!(cause.kind(), ErrorKind::PermissionDenied);
    ///             assert!(file.metadata().is_ok(), "still open");
    ///         }
    ///     }
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn try_new(inner: T) -> Result<AsyncFd<T>, AsyncFdTryNewError<T>> {
        AsyncFd::try_with_interest(inner, Interest::READABLE | Interest::WRITABLE)
    }

    /// [`with_interest`](AsyncFd::with_interest), but a failed registration
    /// gives `inner` back; see [`try_new`](AsyncFd::try_new).
    ///
    /// # Errors
    /// As [`new`](AsyncFd::new), with `inner` inside.
    ///
    /// # Panics
    /// Outside a spindle-rt runtime.
    #[track_caller]
    pub fn try_with_interest(inner: T, interest: Interest) -> Result<AsyncFd<T>, AsyncFdTryNewError<T>> {
        match Registration::with_interest(inner.as_raw_fd(), interest) {
            Ok(reg) => Ok(AsyncFd { reg, interest, inner }),
            Err(cause) => Err(AsyncFdTryNewError::new(inner, cause)),
        }
    }

    /// The wrapped object.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped object, mutably. Do not replace its descriptor: the one
    /// registered is the one it had when the `AsyncFd` was made.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Takes the descriptor out of the runtime's poller and returns the
    /// wrapped object, still open.
    pub fn into_inner(self) -> T {
        let AsyncFd { reg, inner, .. } = self;
        drop(reg);
        inner
    }

    /// The interest the descriptor was registered with.
    pub fn interest(&self) -> Interest {
        self.interest
    }

    /// Polls for read readiness: `Ready` with a guard once the descriptor
    /// is readable (or read-closed, or in error); otherwise stores `cx`'s
    /// waker as the readers' poll waker (only the most recent poll's is
    /// kept; the async [`readable`](AsyncFd::readable) lets any number
    /// wait) and returns `Pending`.
    ///
    /// # Errors
    /// `InvalidInput` if registered without [`Interest::READABLE`]; an
    /// error if the runtime shut the registration down.
    pub fn poll_read_ready<'a>(&'a self, cx: &mut Context<'_>) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let event = ready!(self.poll_event(cx, None, Interest::READABLE))?;
        Poll::Ready(Ok(AsyncFdReadyGuard { fd: self, event: Some(event) }))
    }

    /// [`poll_read_ready`](AsyncFd::poll_read_ready) with a guard that
    /// gives `&mut` access to the object.
    ///
    /// # Errors
    /// As [`poll_read_ready`](AsyncFd::poll_read_ready).
    pub fn poll_read_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let event = ready!(self.poll_event(cx, None, Interest::READABLE))?;
        Poll::Ready(Ok(AsyncFdReadyMutGuard { fd: self, event: Some(event) }))
    }

    /// Polls for write readiness, as [`poll_read_ready`](AsyncFd::poll_read_ready)
    /// does for reads.
    ///
    /// # Errors
    /// `InvalidInput` if registered without [`Interest::WRITABLE`]; an
    /// error if the runtime shut the registration down.
    pub fn poll_write_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let event = ready!(self.poll_event(cx, None, Interest::WRITABLE))?;
        Poll::Ready(Ok(AsyncFdReadyGuard { fd: self, event: Some(event) }))
    }

    /// [`poll_write_ready`](AsyncFd::poll_write_ready) with a `&mut` guard.
    ///
    /// # Errors
    /// As [`poll_write_ready`](AsyncFd::poll_write_ready).
    pub fn poll_write_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let event = ready!(self.poll_event(cx, None, Interest::WRITABLE))?;
        Poll::Ready(Ok(AsyncFdReadyMutGuard { fd: self, event: Some(event) }))
    }

    /// Waits until the descriptor is ready for some of `interest` (either
    /// direction, for both) and returns a guard with what is ready.
    ///
    /// # Errors
    /// `InvalidInput` if `interest` is not within the registration's; an
    /// error if the runtime shut the registration down.
    pub async fn ready(&self, interest: Interest) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        let event = self.wait_event(interest).await?;
        Ok(AsyncFdReadyGuard { fd: self, event: Some(event) })
    }

    /// [`ready`](AsyncFd::ready) with a `&mut` guard.
    ///
    /// # Errors
    /// As [`ready`](AsyncFd::ready).
    pub async fn ready_mut(&mut self, interest: Interest) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        let event = self.wait_event(interest).await?;
        Ok(AsyncFdReadyMutGuard { fd: self, event: Some(event) })
    }

    /// Waits until the descriptor is readable (or read-closed, or in
    /// error). Returns at once while the latch holds read readiness that no
    /// guard has cleared.
    ///
    /// # Errors
    /// As [`poll_read_ready`](AsyncFd::poll_read_ready).
    pub async fn readable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::READABLE).await
    }

    /// [`readable`](AsyncFd::readable) with a `&mut` guard.
    ///
    /// # Errors
    /// As [`poll_read_ready`](AsyncFd::poll_read_ready).
    pub async fn readable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        self.ready_mut(Interest::READABLE).await
    }

    /// Waits until the descriptor is writable (or write-closed, or in
    /// error).
    ///
    /// # Errors
    /// As [`poll_write_ready`](AsyncFd::poll_write_ready).
    pub async fn writable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::WRITABLE).await
    }

    /// [`writable`](AsyncFd::writable) with a `&mut` guard.
    ///
    /// # Errors
    /// As [`poll_write_ready`](AsyncFd::poll_write_ready).
    pub async fn writable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        self.ready_mut(Interest::WRITABLE).await
    }

    /// The whole readiness loop around `f`, a non-blocking call on the
    /// object: wait for `interest`, call `f`, and on `WouldBlock` clear the
    /// readiness (by the guard's tick) and wait again.
    ///
    /// # Errors
    /// What `f` returns other than `WouldBlock`; the errors of
    /// [`ready`](AsyncFd::ready).
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            let mut guard = self.ready(interest).await?;
            if let Ok(result) = guard.try_io(|fd| f(fd.get_ref())) {
                return result;
            }
        }
    }

    /// [`async_io`](AsyncFd::async_io) with `&mut` access to the object.
    ///
    /// # Errors
    /// As [`async_io`](AsyncFd::async_io).
    pub async fn async_io_mut<R>(
        &mut self,
        interest: Interest,
        mut f: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            let mut guard = self.ready_mut(interest).await?;
            if let Ok(result) = guard.try_io(|fd| f(fd.get_mut())) {
                return result;
            }
        }
    }

    /// One non-blocking attempt at `f`, a call of your own on the object,
    /// without waiting and without a guard (tokio 1.42's `try_io`): calls
    /// `f` and, if it returns `WouldBlock`, clears the readiness for
    /// `interest` that the latch held before the call, named by its tick,
    /// so the next wait sleeps until a new event while an event that
    /// arrived during the call is kept. Any other result passes through
    /// and the readiness is kept.
    ///
    /// Unlike tokio's, `f` is called even when nothing is latched: the poll
    /// and select backends only fill the latch while a task waits, so an
    /// empty latch is no proof that the descriptor would block, and this
    /// never reports a `WouldBlock` the kernel did not. Give one direction:
    /// with both, a `WouldBlock` clears both (as a guard from
    /// [`ready`](AsyncFd::ready) for both does). `f` must report
    /// `WouldBlock` when the kernel would have made it wait, and only then.
    ///
    /// # Errors
    /// What `f` returns; an error, without calling `f`, if the runtime shut
    /// the registration down.
    pub fn try_io<R>(&self, interest: Interest, f: impl FnOnce(&T) -> io::Result<R>) -> io::Result<R> {
        self.reg.try_io(interest, || f(&self.inner))
    }

    /// [`try_io`](AsyncFd::try_io) with `&mut` access to the object.
    ///
    /// # Errors
    /// As [`try_io`](AsyncFd::try_io).
    pub fn try_io_mut<R>(
        &mut self,
        interest: Interest,
        f: impl FnOnce(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        let AsyncFd { reg, inner, .. } = self;
        reg.try_io(interest, || f(inner))
    }

    /// Waits for the latch's event for `interest` with a place of its own
    /// among the waiters, given back if the wait is dropped.
    async fn wait_event(&self, interest: Interest) -> io::Result<ReadyEvent> {
        let mut w = self.reg.waiter();
        poll_fn(|cx| self.poll_event(cx, Some(&mut w), interest)).await
    }

    /// The latch's event for `interest`, after checking that the
    /// registration covers it; waits as `w` says.
    fn poll_event(
        &self,
        cx: &mut Context<'_>,
        w: Wait<'_, '_>,
        interest: Interest,
    ) -> Poll<io::Result<ReadyEvent>> {
        if !self.interest.contains(interest) {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("waiting for {interest:?} on an AsyncFd registered for {:?} only", self.interest),
            )));
        }
        self.reg.poll_ready_io(cx, w, interest)
    }
}

impl<T: AsRawFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl<T: AsRawFd + AsFd> AsFd for AsyncFd<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFd").field("inner", &self.inner).field("interest", &self.interest).finish()
    }
}

/// Clears the flags of `event` that are in `matching`, by `event`'s tick,
/// and keeps the rest as the guard's readiness.
fn clear(reg: &Registration, event: &mut Option<ReadyEvent>, matching: Ready) {
    let Some(mut ev) = event.take() else { return };
    reg.clear_readiness(ReadyEvent { ready: ev.ready.intersection(matching), ..ev });
    ev.ready = ev.ready.difference(matching);
    if !ev.ready.is_empty() {
        *event = Some(ev);
    }
}

/// What a guard's `try_io` returns for `result`: on `WouldBlock` it clears
/// the guard's readiness (the whole of it, as tokio does) and reports
/// [`TryIoError`]; anything else passes through, readiness kept.
fn settle<R>(
    reg: &Registration,
    event: &mut Option<ReadyEvent>,
    result: io::Result<R>,
) -> Result<io::Result<R>, TryIoError> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
            clear(reg, event, Ready::ALL);
            Err(TryIoError(()))
        }
        result => Ok(result),
    }
}

/// Readiness of an [`AsyncFd`], returned by [`readable`](AsyncFd::readable),
/// [`writable`](AsyncFd::writable), [`ready`](AsyncFd::ready) and the
/// `poll_*_ready` methods.
///
/// It remembers the readiness it was made from and the latch's tick then;
/// see [`AsyncFd`] for why that matters. Dropping it keeps the readiness.
#[must_use = "say whether the readiness is spent: try_io, clear_ready after WouldBlock, or retain_ready"]
pub struct AsyncFdReadyGuard<'a, T: AsRawFd> {
    fd: &'a AsyncFd<T>,
    event: Option<ReadyEvent>,
}

impl<'a, T: AsRawFd> AsyncFdReadyGuard<'a, T> {
    /// Tells the runtime the descriptor is no longer ready (a call returned
    /// `WouldBlock`): the next wait sleeps until the kernel reports a new
    /// event. If one arrived since this guard was made, nothing is cleared
    /// and the next wait returns at once.
    pub fn clear_ready(&mut self) {
        clear(&self.fd.reg, &mut self.event, Ready::ALL);
    }

    /// [`clear_ready`](Self::clear_ready) for the flags in `ready` only (as
    /// [`ready`](Self::ready) reports them); the others stay set, in the
    /// latch and in this guard.
    pub fn clear_ready_matching(&mut self, ready: Ready) {
        clear(&self.fd.reg, &mut self.event, ready);
    }

    /// Keeps the readiness set: the next wait returns at once. The same as
    /// dropping the guard; it says so in the code.
    pub fn retain_ready(&mut self) {}

    /// The readiness the guard was made with (empty once cleared).
    pub fn ready(&self) -> Ready {
        self.event.map_or(Ready::EMPTY, |ev| ev.ready)
    }

    /// Runs `f`, a non-blocking call on the descriptor. On `WouldBlock`
    /// clears this guard's readiness (see [`clear_ready`](Self::clear_ready))
    /// and returns `Err(TryIoError)`: wait again. Any other result, error
    /// or not, is `Ok(result)`, and the readiness is kept.
    ///
    /// # Errors
    /// [`TryIoError`] when `f` returned `WouldBlock`.
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&'a AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        let result = f(self.fd);
        settle(&self.fd.reg, &mut self.event, result)
    }

    /// The `AsyncFd` this guard is for.
    pub fn get_ref(&self) -> &'a AsyncFd<T> {
        self.fd
    }

    /// The object inside the `AsyncFd`.
    pub fn get_inner(&self) -> &'a T {
        self.fd.get_ref()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFdReadyGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyGuard").field("fd", self.fd).field("ready", &self.ready()).finish()
    }
}

/// [`AsyncFdReadyGuard`] with `&mut` access to the [`AsyncFd`], returned by
/// [`readable_mut`](AsyncFd::readable_mut), [`writable_mut`](AsyncFd::writable_mut),
/// [`ready_mut`](AsyncFd::ready_mut) and the `poll_*_ready_mut` methods.
#[must_use = "say whether the readiness is spent: try_io, clear_ready after WouldBlock, or retain_ready"]
pub struct AsyncFdReadyMutGuard<'a, T: AsRawFd> {
    fd: &'a mut AsyncFd<T>,
    event: Option<ReadyEvent>,
}

impl<T: AsRawFd> AsyncFdReadyMutGuard<'_, T> {
    /// As [`AsyncFdReadyGuard::clear_ready`].
    pub fn clear_ready(&mut self) {
        clear(&self.fd.reg, &mut self.event, Ready::ALL);
    }

    /// As [`AsyncFdReadyGuard::clear_ready_matching`].
    pub fn clear_ready_matching(&mut self, ready: Ready) {
        clear(&self.fd.reg, &mut self.event, ready);
    }

    /// As [`AsyncFdReadyGuard::retain_ready`].
    pub fn retain_ready(&mut self) {}

    /// As [`AsyncFdReadyGuard::ready`].
    pub fn ready(&self) -> Ready {
        self.event.map_or(Ready::EMPTY, |ev| ev.ready)
    }

    /// As [`AsyncFdReadyGuard::try_io`], with `&mut` access to the
    /// `AsyncFd`.
    ///
    /// # Errors
    /// [`TryIoError`] when `f` returned `WouldBlock`.
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&mut AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        let result = f(self.fd);
        settle(&self.fd.reg, &mut self.event, result)
    }

    /// The `AsyncFd` this guard is for.
    pub fn get_ref(&self) -> &AsyncFd<T> {
        self.fd
    }

    /// The `AsyncFd` this guard is for, mutably.
    pub fn get_mut(&mut self) -> &mut AsyncFd<T> {
        self.fd
    }

    /// The object inside the `AsyncFd`.
    pub fn get_inner(&self) -> &T {
        self.fd.get_ref()
    }

    /// The object inside the `AsyncFd`, mutably.
    pub fn get_inner_mut(&mut self) -> &mut T {
        self.fd.get_mut()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFdReadyMutGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyMutGuard").field("fd", &self.fd).field("ready", &self.ready()).finish()
    }
}

/// The call in a guard's `try_io` returned `WouldBlock`: the guard has
/// cleared its readiness, and the caller should wait again.
#[derive(Debug)]
pub struct TryIoError(());

impl fmt::Display for TryIoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the operation would block; readiness cleared, wait again")
    }
}

impl Error for TryIoError {}
