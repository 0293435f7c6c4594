//! The glue between one descriptor, the runtime's [`IoDriver`] and its
//! [`ScheduledIo`]: registered once, waited on many times, usable and
//! droppable on any thread.

use crate::coop;
use crate::io::driver::{gone, IoDriver, IoEntry};
use crate::io::{Direction, Interest, ReadyEvent, Waiter};
use crate::runtime::context;
use std::io;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// Who waits, for the `poll_*` methods of a [`Registration`]: `None` for a
/// poll method, which has no future to hold a place (the direction's one
/// poll waker is kept, the most recent, as tokio keeps it); `Some` for a
/// future, which passes the [`Waiter`] it keeps for its whole wait (its own
/// place, freed when the future completes or is dropped).
pub(crate) type Wait<'w, 'a> = Option<&'w mut Waiter<'a>>;

/// A descriptor registered with the current runtime's IO driver (see
/// [`crate::io::driver`] for edge mode and the level fallback).
///
/// `Send + Sync`: the entry and the driver are shared, so a socket may move
/// to another worker thread between polls, or be dropped on any thread.
pub(crate) struct Registration {
    entry: Arc<IoEntry>,
    driver: Arc<IoDriver>,
}

impl Registration {
    /// Registers `fd` (which the caller keeps open until this is dropped)
    /// with the current runtime's IO driver.
    ///
    /// # Panics
    /// Outside a spindle-rt runtime.
    #[track_caller]
    pub(crate) fn new(fd: RawFd) -> io::Result<Registration> {
        let driver = context::io_driver();
        let entry = driver.register(fd)?;
        Ok(Registration { entry, driver })
    }

    /// Registers `fd` for `interest` only (an
    /// [`AsyncFd`](crate::io::unix::AsyncFd) made
    /// [`with_interest`](crate::io::unix::AsyncFd::with_interest)). The
    /// caller never waits in a direction outside `interest`: the poller
    /// would never report it.
    ///
    /// # Panics
    /// Outside a spindle-rt runtime.
    #[track_caller]
    pub(crate) fn with_interest(fd: RawFd, interest: Interest) -> io::Result<Registration> {
        let driver = context::io_driver();
        let entry = driver.register_interest(fd, interest.to_poll())?;
        Ok(Registration { entry, driver })
    }

    /// Registers a listening `fd` shared with other pollers so that one
    /// connection wakes only one of them (`EPOLLEXCLUSIVE`).
    ///
    /// # Panics
    /// Outside a spindle-rt runtime.
    #[track_caller]
    pub(crate) fn new_exclusive(fd: RawFd) -> io::Result<Registration> {
        let driver = context::io_driver();
        let entry = driver.register_exclusive(fd)?;
        Ok(Registration { entry, driver })
    }

    /// A place among this descriptor's waiters for one future's wait; see
    /// [`Wait`]. Keep it in the future (a local of the `async fn`) and pass
    /// it to every poll of that wait.
    pub(crate) fn waiter(&self) -> Waiter<'_> {
        self.entry.io.waiter()
    }

    /// Ready when the latch holds readiness for `direction` (or the
    /// registration is shut down); otherwise stores the waker (as `w`
    /// says) and, in the level fallback, makes sure the poller reports
    /// `direction`.
    ///
    /// Spends one unit of the task's [budget](crate::coop) when ready: a
    /// task that finds its socket ready forever still yields now and then
    /// (and one that finds it not ready spends nothing).
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        w: Wait<'_, '_>,
        direction: Direction,
    ) -> Poll<ReadyEvent> {
        coop::poll_budgeted(cx, |cx| self.park(cx, w, direction))
    }

    /// The latch's readiness for `direction`, or `Pending` with the waker
    /// stored as `w` says and the driver told that someone waits.
    fn park(&self, cx: &mut Context<'_>, w: Wait<'_, '_>, direction: Direction) -> Poll<ReadyEvent> {
        let pending = match w {
            None => self.entry.io.poll_ready(cx, direction),
            Some(w) => w.poll_ready(cx, direction),
        };
        if pending.is_pending() {
            self.driver.want(&self.entry, direction);
        }
        pending
    }

    /// [`poll_ready`](Registration::poll_ready) for an [`Interest`]: one
    /// direction, or either of two. For both it returns one event whose
    /// flags and tick come from a single look at the latch (so a clear by
    /// that event is exact), and parks in both directions' waker slots when
    /// neither is ready. Spends one unit of budget, like `poll_ready`.
    pub(crate) fn poll_ready_interest(
        &self,
        cx: &mut Context<'_>,
        w: Wait<'_, '_>,
        interest: Interest,
    ) -> Poll<ReadyEvent> {
        if let Some(direction) = interest.direction() {
            return self.poll_ready(cx, w, direction);
        }
        coop::poll_budgeted(cx, |cx| self.poll_either(cx, w, interest))
    }

    /// [`poll_ready_interest`](Registration::poll_ready_interest) for
    /// both directions, without the budget.
    fn poll_either(&self, cx: &mut Context<'_>, mut w: Wait<'_, '_>, interest: Interest) -> Poll<ReadyEvent> {
        loop {
            if let Some(ev) = self.entry.io.ready_event(interest.mask()) {
                return Poll::Ready(ev);
            }
            // Park in each direction. Each `park` looks again after
            // storing its waker, so an event landing since the look above
            // is seen here, and then the loop takes one event for both.
            let mut seen = false;
            for direction in [Direction::Read, Direction::Write] {
                if self.park(cx, w.as_deref_mut(), direction).is_ready() {
                    seen = true;
                }
            }
            if !seen {
                return Poll::Pending;
            }
        }
    }

    /// [`poll_ready_interest`](Registration::poll_ready_interest), with a
    /// shut-down registration as the error an IO call would get.
    pub(crate) fn poll_ready_io(
        &self,
        cx: &mut Context<'_>,
        w: Wait<'_, '_>,
        interest: Interest,
    ) -> Poll<io::Result<ReadyEvent>> {
        let ev = ready!(self.poll_ready_interest(cx, w, interest));
        if ev.is_shutdown() {
            return Poll::Ready(Err(gone()));
        }
        Poll::Ready(Ok(ev))
    }

    /// One non-blocking attempt at `op`, for the `try_*` methods: no wait,
    /// no waker stored, no budget spent.
    ///
    /// The system call is made whatever the latch holds: in the level
    /// fallback the latch only fills while a task waits, and a socket is
    /// writable before the driver has reported it, so an empty latch does
    /// not mean "not ready" (tokio answers `WouldBlock` without trying; we
    /// never report a `WouldBlock` the kernel did not). On `WouldBlock` the
    /// readiness latched *before* the call is cleared by its tick, as in
    /// [`poll_io`](Registration::poll_io). Without the clear, edge mode
    /// would keep the stale readiness forever (no new edge comes for a
    /// queue that stays empty), and a `readable().await` / `try_recv` loop
    /// would spin without ever sleeping. Without the tick, an event that
    /// arrived during the call (a datagram queued just after the kernel
    /// looked) would be wiped, and the next wait would sleep through it.
    /// `EINTR` is returned as it is: a non-blocking call is not interrupted
    /// in practice, and `op` may be a caller's one-shot closure.
    pub(crate) fn try_io<R>(&self, interest: Interest, op: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        let seen = self.entry.io.ready_event(interest.mask());
        if seen.is_some_and(|ev| ev.is_shutdown()) {
            return Err(gone());
        }
        match op() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if let Some(ev) = seen {
                    self.entry.io.clear_readiness(ev);
                }
                Err(e)
            }
            result => result,
        }
    }

    /// The readiness loop every async operation is: wait for `direction`,
    /// try `op`; on `WouldBlock` clear the readiness the attempt was based
    /// on (by its tick: an event that arrived meanwhile is kept) and wait
    /// again. `EINTR` is retried.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        mut w: Wait<'_, '_>,
        direction: Direction,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            let ev = ready!(self.poll_ready(cx, w.as_deref_mut(), direction));
            if ev.is_shutdown() {
                return Poll::Ready(Err(gone()));
            }
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.entry.io.clear_readiness(ev);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => return Poll::Ready(result),
            }
        }
    }

    /// [`poll_io`](Registration::poll_io) for a stream read or write of
    /// `len` bytes. A transfer shorter than asked for (but not zero) means
    /// the kernel's buffer ran dry (read) or full (write) just now, so the
    /// readiness it was based on is cleared right away: the next call waits
    /// for the next event instead of making a system call certain to fail
    /// with `EAGAIN`. Safe with edge triggering because an event that
    /// arrived since carries a newer tick and is kept; tokio applies the
    /// same rule. Not for datagrams, where a short read is the normal case.
    pub(crate) fn poll_stream_io(
        &self,
        cx: &mut Context<'_>,
        mut w: Wait<'_, '_>,
        direction: Direction,
        len: usize,
        mut op: impl FnMut() -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        loop {
            let ev = ready!(self.poll_ready(cx, w.as_deref_mut(), direction));
            if ev.is_shutdown() {
                return Poll::Ready(Err(gone()));
            }
            match op() {
                Ok(n) if n > 0 && n < len => {
                    self.entry.io.clear_readiness(ev);
                    return Poll::Ready(Ok(n));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.entry.io.clear_readiness(ev);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => return Poll::Ready(result),
            }
        }
    }

    /// Clears readiness a caller found stale (a spurious wake-up, or an
    /// [`AsyncFd`](crate::io::unix::AsyncFd) guard's `WouldBlock`).
    pub(crate) fn clear_readiness(&self, ev: ReadyEvent) {
        self.entry.io.clear_readiness(ev);
    }
}

/// Polls `write` until all of `buf` is written, moving `buf` past what
/// each write took: the body of the streams' `write_all`, as one poll
/// function rather than an `async` loop over `write` futures (one future's
/// state, one waiter, for the whole message).
///
/// # Errors
/// `write`'s; `WriteZero` if a write took nothing. On error, an unknown
/// prefix of `buf` has been sent.
pub(crate) fn poll_write_all(
    cx: &mut Context<'_>,
    buf: &mut &[u8],
    mut write: impl FnMut(&mut Context<'_>, &[u8]) -> Poll<io::Result<usize>>,
) -> Poll<io::Result<()>> {
    while !buf.is_empty() {
        match ready!(write(cx, buf)) {
            Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
            Ok(n) => *buf = &buf[n..],
            Err(e) => return Poll::Ready(Err(e)),
        }
    }
    Poll::Ready(Ok(()))
}

impl Drop for Registration {
    fn drop(&mut self) {
        // Wakes any waiter (it sees `gone`) and takes the descriptor out of
        // the poller before the owner closes it: a new socket may reuse the
        // number at once.
        self.driver.deregister(&self.entry);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::Registration;
    use crate::io::{Interest, Readiness};
    use std::io;
    use std::os::fd::AsRawFd;

    /// Runs `f` with a registered, empty, non-blocking UDP socket.
    fn with_registration(f: impl FnOnce(&Registration)) {
        let rt = crate::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            socket.set_nonblocking(true).unwrap();
            let reg = Registration::new(socket.as_raw_fd()).unwrap();
            f(&reg);
        });
    }

    #[test]
    fn try_io_clears_the_readiness_it_saw_on_would_block() {
        with_registration(|reg| {
            reg.entry.io.set_readiness(Readiness::READABLE);
            let r: io::Result<()> = reg.try_io(Interest::READABLE, || Err(io::ErrorKind::WouldBlock.into()));
            assert_eq!(r.unwrap_err().kind(), io::ErrorKind::WouldBlock);
            assert!(!reg.entry.io.readiness().is_readable(), "stale readiness cleared");
        });
    }

    #[test]
    fn try_io_keeps_an_event_that_arrives_during_the_call() {
        with_registration(|reg| {
            reg.entry.io.set_readiness(Readiness::READABLE);
            // The kernel said EAGAIN, and a datagram landed (its event was
            // latched) before the attempt could clear: the event stays.
            let r: io::Result<()> = reg.try_io(Interest::READABLE, || {
                reg.entry.io.set_readiness(Readiness::READABLE);
                Err(io::ErrorKind::WouldBlock.into())
            });
            assert_eq!(r.unwrap_err().kind(), io::ErrorKind::WouldBlock);
            assert!(reg.entry.io.readiness().is_readable(), "the newer event survives the clear");
        });
    }

    #[test]
    fn try_io_tries_with_nothing_latched_and_clears_only_on_would_block() {
        with_registration(|reg| {
            // Nothing latched yet: the call is still made.
            let mut called = false;
            let r = reg.try_io(Interest::WRITABLE, || {
                called = true;
                Ok(7)
            });
            assert_eq!((r.unwrap(), called), (7, true));
            reg.entry.io.set_readiness(Readiness::READABLE);
            let r: io::Result<()> = reg.try_io(Interest::READABLE, || Err(io::ErrorKind::Interrupted.into()));
            assert_eq!(r.unwrap_err().kind(), io::ErrorKind::Interrupted);
            assert!(reg.entry.io.readiness().is_readable(), "only WouldBlock clears");
        });
    }
}
