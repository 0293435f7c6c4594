//! The glue between one descriptor, the runtime's loop and a
//! [`ScheduledIo`]: registered once, waited on many times.

use crate::io::{Direction, Readiness, ReadyEvent, ScheduledIo};
use crate::runtime::context;
use crate::runtime::current_thread::Core;
use spindle_loop::{Interest, IoId, Loop};
use spindle_poll::Mode;
use std::cell::Cell;
use std::io;
use std::os::fd::RawFd;
use std::rc::{Rc, Weak};
use std::task::{ready, Context, Poll};

/// Directions a level-triggered (fallback) registration asks the poller
/// for: a union of [`READ`] and [`WRITE`], possibly none.
type Wanted = u8;
const READ: Wanted = 1;
const WRITE: Wanted = 2;

fn bit(direction: Direction) -> Wanted {
    match direction {
        Direction::Read => READ,
        Direction::Write => WRITE,
    }
}

/// Tells the loop what a level-triggered watcher wants now. None at all
/// stops the watcher (its descriptor leaves the poller); a later
/// `io_set_interest` adds it back at the next flush.
fn apply(lp: &mut Loop, id: IoId, wanted: Wanted) {
    let interest = match wanted {
        READ => Interest::READABLE,
        WRITE => Interest::WRITABLE,
        0 => {
            let _ = lp.io_stop(id);
            return;
        }
        _ => Interest::BOTH,
    };
    // Only fails for a closed watcher, which nobody waits on any more.
    let _ = lp.io_set_interest(id, interest);
}

/// A descriptor watched by the current runtime's loop, and the readiness
/// latch its events feed.
///
/// * **Edge mode** (epoll): the descriptor is registered once, for both
///   directions, edge-triggered; the loop callback only sets readiness. A
///   wait costs no system call and no loop access.
/// * **Level fallback** (poll, select: they refuse edge mode): the watcher
///   asks only for the directions a task is waiting for. The callback sets
///   readiness and drops the fired directions from the interest; a wait
///   that finds the latch empty adds its direction back. Without this, a
///   writable socket (always, mostly) would make every loop turn return at
///   once and the runtime would spin.
///
/// `!Send` (the latch is in an `Rc`, shared with the loop's callback): a
/// registration belongs to the runtime thread that made it.
pub(crate) struct Registration {
    io: Rc<ScheduledIo>,
    id: IoId,
    /// Weak: a task's future holds IO objects, the runtime holds the tasks.
    core: Weak<Core>,
    /// `Some` in the level fallback: the directions the watcher wants now,
    /// shared with its callback.
    level: Option<Rc<Cell<Wanted>>>,
}

impl Registration {
    /// Registers `fd` (which the caller keeps open until this is dropped)
    /// with the current runtime's loop.
    ///
    /// # Panics
    /// Outside a spindle-rt runtime.
    #[track_caller]
    pub(crate) fn new(fd: RawFd) -> io::Result<Registration> {
        let core = context::expect_current();
        let io = Rc::new(ScheduledIo::new());
        let edge = {
            let io = Rc::clone(&io);
            core.with_loop(|lp| {
                lp.io_start_with(fd, Interest::BOTH, Mode::Edge, move |_, _, ev| {
                    io.set_readiness(Readiness::from_event(&ev));
                })
            })
        };
        let (id, level) = match edge {
            Ok(id) => (id, None),
            Err(e) if e.kind() == io::ErrorKind::Unsupported => {
                // Start wanting reads: the first wait of a listener or an
                // accepted stream is almost always a read.
                let wanted = Rc::new(Cell::new(READ));
                let (io, w) = (Rc::clone(&io), Rc::clone(&wanted));
                let id = core.with_loop(|lp| {
                    lp.io_start(fd, Interest::READABLE, move |lp, id, ev| {
                        let ready = Readiness::from_event(&ev);
                        io.set_readiness(ready);
                        let mut left = w.get();
                        if ready.intersects(Direction::Read.mask()) {
                            left &= !READ;
                        }
                        if ready.intersects(Direction::Write.mask()) {
                            left &= !WRITE;
                        }
                        if left != w.get() {
                            w.set(left);
                            apply(lp, id, left);
                        }
                    })
                })?;
                (id, Some(wanted))
            }
            Err(e) => return Err(e),
        };
        Ok(Registration { io, id, core: Rc::downgrade(&core), level })
    }

    /// Ready when the latch holds readiness for `direction` (or the
    /// registration is shut down); otherwise stores the waker and, in the
    /// level fallback, makes sure the watcher asks for `direction`.
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, direction: Direction) -> Poll<ReadyEvent> {
        let pending = self.io.poll_ready(cx, direction);
        if pending.is_pending() {
            if let Some(wanted) = &self.level {
                let w = wanted.get();
                if w & bit(direction) == 0 {
                    wanted.set(w | bit(direction));
                    if let Some(core) = self.core.upgrade() {
                        core.with_loop(|lp| apply(lp, self.id, w | bit(direction)));
                    }
                }
            }
        }
        pending
    }

    /// The readiness loop every async operation is: wait for `direction`,
    /// try `op`; on `WouldBlock` clear the readiness the attempt was based
    /// on (by its tick: an event that arrived meanwhile is kept) and wait
    /// again. `EINTR` is retried.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            let ev = ready!(self.poll_ready(cx, direction));
            if ev.is_shutdown() {
                return Poll::Ready(Err(gone()));
            }
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.io.clear_readiness(ev);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => return Poll::Ready(result),
            }
        }
    }

    /// Clears readiness a caller found stale (a spurious wake-up).
    pub(crate) fn clear_readiness(&self, ev: ReadyEvent) {
        self.io.clear_readiness(ev);
    }
}

/// The error of an operation on a registration whose runtime shut it down.
fn gone() -> io::Error {
    io::Error::other("the spindle-rt runtime driving this socket has shut down")
}

impl Drop for Registration {
    fn drop(&mut self) {
        // Wake any waiter (it sees `gone`), then take the descriptor out of
        // the poller before the owner closes it: a new socket may reuse the
        // number at once. Never called from a loop callback (those only set
        // readiness), so the loop is free here; if the runtime is gone, so
        // is its loop and its poller.
        self.io.shutdown();
        if let Some(core) = self.core.upgrade() {
            core.with_loop(|lp| lp.close(self.id.handle(), None));
        }
    }
}
