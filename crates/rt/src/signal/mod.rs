//! Unix signals as futures: [`ctrl_c`] for the usual graceful shutdown,
//! and [`Signal`] for any other signal (`SIGTERM` from a service manager,
//! `SIGHUP` to reload a configuration, `SIGUSR1` to reopen logs).
//!
//! ```no_run
//! use spindle_rt::signal::{signal, SignalKind};
//!
//! let rt = spindle_rt::Builder::new_current_thread().build()?;
//! rt.block_on(async {
//!     let mut hangup = signal(SignalKind::hangup())?;
//!     while hangup.recv().await.is_some() {
//!         println!("SIGHUP: reloading the configuration");
//!     }
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! ## Why a handler may do almost nothing
//!
//! A signal handler interrupts a thread wherever it is: inside `malloc`,
//! holding a lock, halfway through updating a run queue. So it may only do
//! *async-signal-safe* work; it cannot wake a task, which would take the
//! scheduler's locks. The classic answer (libuv's, tokio's, and the one
//! this module takes) is the **self-pipe**: the handler adds one to the
//! signal's delivery counter (an atomic) and writes one byte to a pipe.
//! The pipe's read end is an ordinary descriptor on the runtime's
//! netpoller, so a waiting [`Signal`] wakes like a socket with data, reads
//! the counter, and reports the signal from ordinary task context.
//!
//! ## Why not `signalfd`
//!
//! spindle-loop's signal handles use `signalfd`, which needs the signal
//! *blocked* in the thread, and a process-directed signal goes to any one
//! thread that does not block it. A loop owns its one thread and can block
//! the signal there. A multi-thread runtime has many threads, some started
//! before the runtime or by other libraries, and any of them could take the
//! signal, which the signalfd would then never see. A handler works
//! whichever thread the kernel picks.
//!
//! ## What to expect
//!
//! * **Every listener hears every delivery.** Each [`Signal`] keeps its own
//!   count of what it has reported, so two listeners for `SIGHUP`, on the
//!   same runtime or on two, both wake for one `kill -HUP`.
//! * **Deliveries coalesce.** Several signals that arrive before a listener
//!   looks are reported once, as the kernel itself reports a pending
//!   standard signal once. A listener never misses the fact that at least
//!   one came.
//! * **Only signals after the listener exists count.** A signal delivered
//!   before [`Signal::new`] is not reported to it.
//! * **The handler stays.** Once a signal has had a listener, the process's
//!   handler for it is this module's for the rest of the process's life:
//!   after the first [`ctrl_c`] listener, `Ctrl-C` no longer terminates the
//!   process, even when no listener is left (tokio behaves the same).
//!   Restoring the old disposition when the last listener drops would race
//!   with a signal in flight.
//! * `SIGKILL` and `SIGSTOP` cannot be caught, and `SIGSEGV`, `SIGBUS` and
//!   `SIGILL` report a fault in the thread that caused it; listening for
//!   them is refused with [`io::ErrorKind::InvalidInput`].

mod registry;
mod sys;

use crate::io::Direction;
use crate::net::registration::Registration;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::task::{ready, Context, Poll};

/// The Unix signal API under tokio's path (`tokio::signal::unix::signal`,
/// `SignalKind`, `Signal`), for code written against it: the same items
/// as in this module.
pub mod unix {
    pub use super::{signal, Signal, SignalKind};
}

/// Which signal a [`Signal`] listens for: a signal number, with
/// constructors for the usual ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SignalKind(libc::c_int);

impl SignalKind {
    /// Any signal number, including the real-time ones
    /// (`libc::SIGRTMIN()` to `libc::SIGRTMAX()`). Whether it may be
    /// listened for is checked by [`Signal::new`].
    pub const fn from_raw(signum: libc::c_int) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal number.
    pub const fn as_raw(self) -> libc::c_int {
        self.0
    }

    /// The signal number, under tokio's name.
    pub const fn as_raw_value(&self) -> libc::c_int {
        self.0
    }

    /// `SIGINT`: a terminal's `Ctrl-C`.
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// `SIGTERM`: the polite request to stop that `kill` and service
    /// managers send.
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// `SIGHUP`: the terminal went away; daemons take it as "reload".
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// `SIGQUIT`: a terminal's `Ctrl-\`; nginx takes it as "stop
    /// gracefully".
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// `SIGUSR1`, free for the application (nginx: reopen the logs).
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// `SIGUSR2`, free for the application (nginx: upgrade the binary).
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// `SIGCHLD`: a child process stopped or exited.
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// `SIGWINCH`: the terminal's window changed size.
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }

    /// `SIGPIPE`: a write to a pipe or socket with no reader. The runtime's
    /// sockets send with `MSG_NOSIGNAL` and never raise it.
    pub const fn pipe() -> SignalKind {
        SignalKind(libc::SIGPIPE)
    }

    /// `SIGALRM`: a timer set with `alarm` or `setitimer` expired.
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }
}

/// A listener for one signal, registered with the current runtime (see
/// the [module docs](self) for how delivery works).
///
/// ```no_run
/// use spindle_rt::signal::{Signal, SignalKind};
///
/// let rt = spindle_rt::Builder::new_multi_thread().build()?;
/// rt.block_on(async {
///     let mut term = Signal::new(SignalKind::terminate())?;
///     let mut int = Signal::new(SignalKind::interrupt())?;
///     // ... start serving on other tasks, then wait for either:
///     std::future::poll_fn(|cx| {
///         if term.poll_recv(cx).is_ready() || int.poll_recv(cx).is_ready() {
///             std::task::Poll::Ready(())
///         } else {
///             std::task::Poll::Pending
///         }
///     })
///     .await;
///     println!("stopping");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Signal {
    // Declared before `fd`, so it is dropped first: the descriptor leaves
    // the poller before it is closed and its number can be reused.
    registration: Registration,
    fd: OwnedFd,
    kind: SignalKind,
    slot: usize,
    /// The delivery count this listener has reported up to.
    seen: usize,
}

impl Signal {
    /// Starts listening for `kind`: installs the process's handler for it
    /// if this is its first listener, and registers a read end of the
    /// self-pipe with the current runtime.
    ///
    /// # Errors
    /// [`io::ErrorKind::InvalidInput`] for a number that is not a signal,
    /// or a signal that may not be taken over (`SIGKILL`, `SIGSTOP`,
    /// `SIGSEGV`, `SIGBUS`, `SIGILL`); the system's error if the pipe
    /// cannot be created (out of descriptors) or `sigaction` refuses the
    /// signal (glibc keeps two real-time signals for itself).
    ///
    /// # Panics
    /// Outside a spindle-rt runtime.
    #[track_caller]
    pub fn new(kind: SignalKind) -> io::Result<Signal> {
        let slot = registry::slot_of(kind.0)?;
        // Panic outside a runtime *before* the handler goes in: a caught
        // panic must not leave, say, SIGINT taken over with no listener.
        drop(crate::runtime::context::io_driver());
        let (fd, seen) = registry::listen(kind.0)?;
        let registration = Registration::new(fd.as_raw_fd())?;
        Ok(Signal { registration, fd, kind, slot, seen })
    }

    /// The signal this listens for.
    pub fn kind(&self) -> SignalKind {
        self.kind
    }

    /// Waits for the next delivery of the signal: `Some(())` once at least
    /// one has arrived since the last `recv` (or since the listener was
    /// created), `None` if the runtime it was registered with has shut
    /// down.
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// [`recv`](Signal::recv) as a poll function, for hand-written futures
    /// and `select`-style combinators.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        loop {
            if self.take() {
                return Poll::Ready(Some(()));
            }
            let ev = ready!(self.registration.poll_ready(cx, None, Direction::Read));
            if ev.is_shutdown() {
                return Poll::Ready(None);
            }
            // Empty the pipe so that the next byte written is a new edge,
            // then look at the counter again: a signal that arrived before
            // the drain may have left its byte to another listener.
            sys::drain(self.fd.as_raw_fd());
            if self.take() {
                return Poll::Ready(Some(()));
            }
            // A delivery after this point writes a byte after the drain,
            // which is a new event with a newer tick: the clear below does
            // not erase it.
            self.registration.clear_readiness(ev);
        }
    }

    /// Reports (and consumes) deliveries this listener has not reported.
    fn take(&mut self) -> bool {
        let now = registry::delivered(self.slot);
        if now == self.seen {
            return false;
        }
        self.seen = now;
        true
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal").field("kind", &self.kind).field("fd", &self.fd.as_raw_fd()).finish()
    }
}

/// Starts listening for `kind`; the same as [`Signal::new`].
///
/// # Errors
/// As [`Signal::new`].
///
/// # Panics
/// Outside a spindle-rt runtime.
#[track_caller]
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    Signal::new(kind)
}

/// Completes at the next `Ctrl-C` (`SIGINT`) after this future is first
/// polled: the usual way to stop a server gracefully.
///
/// The listener is created on the first poll, so a `Ctrl-C` before that
/// still terminates the process; poll it (or spawn a task awaiting it)
/// before starting the work it should interrupt. From then on `SIGINT`
/// no longer terminates the process (see the [module docs](self)).
///
/// ```no_run
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let stop = spindle_rt::spawn(spindle_rt::signal::ctrl_c());
///     // ... serve on other tasks ...
///     stop.await.expect("the task ran")?;
///     println!("Ctrl-C: shutting down");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// As [`Signal::new`], and an error if the runtime shuts down first.
pub async fn ctrl_c() -> io::Result<()> {
    let mut interrupt = Signal::new(SignalKind::interrupt())?;
    match interrupt.recv().await {
        Some(()) => Ok(()),
        None => Err(io::Error::other(
            "the spindle-rt runtime the Ctrl-C listener was registered with has shut down",
        )),
    }
}
