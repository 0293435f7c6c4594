//! # spindle-poll: one readiness poller over epoll, poll and select
//!
//! This is the bottom of Spindle. Everything above it (the callback loop, the
//! async runtimes, the servers) learns that a socket can be read or written
//! from a [`Poller`], which wraps one of three kernel interfaces chosen at run
//! time:
//!
//! | backend | kernel cost per wait | registration | modes |
//! |---|---|---|---|
//! | [`Backend::Epoll`] (default) | O(ready) | kept in the kernel (`epoll_ctl`) | level, edge, oneshot, exclusive |
//! | [`Backend::Poll`] | O(registered) | copied in on every call | level, oneshot |
//! | [`Backend::Select`] | O(highest fd) | three bitmaps copied on every call, fds below `FD_SETSIZE` (1024) only | level, oneshot |
//!
//! `select` and `poll` hand the kernel the whole interest set on every call
//! and get back a set it must scan; that is why a server with 10,000 idle
//! connections and 10 busy ones burns its CPU in `poll` and barely notices
//! in `epoll`, whose ready list is filled by callbacks on the sockets' wait
//! queues as data arrives, so `epoll_wait` only copies out what is ready.
//!
//! On poll and select the interest set lives in user space, in a table the
//! poller keeps and hands the kernel (as a `pollfd` array or as bitmaps) on
//! every wait; select's bitmaps are indexed by descriptor number, so its cost
//! grows with the highest descriptor watched, and descriptors at or above
//! `FD_SETSIZE` do not fit at all. select also cannot tell a hang-up or an
//! error from readiness: it reports such a socket readable (and writable),
//! and the next read or write returns the end-of-stream or the error, so
//! [`Event::READ_CLOSED`], [`Event::WRITE_CLOSED`] and [`Event::ERROR`] come
//! only from epoll and poll (and from select for a closed descriptor, below).
//!
//! ## Readiness, not completion
//!
//! An event says "a read (or write) would probably not block now", nothing
//! more. The caller then does the IO itself with non-blocking calls and must
//! treat `WouldBlock` as normal: events can be spurious (another thread read
//! the data first, a checksum failed after wake-up, a waker fired).
//!
//! ## Modes: level, edge, oneshot, exclusive
//!
//! * [`Mode::Level`]: the event is reported on every wait for as long as the
//!   condition holds. Easy and forgiving; read as much as you like.
//! * [`Mode::Edge`]: the event is reported when the condition *changes*
//!   (new data arrived, buffer space freed). After an edge event the caller
//!   must **drain**: read (or write) until the call returns `WouldBlock`.
//!   Stopping early leaves data in the socket that no further event will
//!   announce, and the connection stalls. Only epoll can see edges; poll and
//!   select refuse this mode with [`std::io::ErrorKind::Unsupported`].
//! * [`Mode::Oneshot`]: one event, then the registration is disarmed until
//!   [`Poller::modify`] re-arms it. This lets several threads wait on one
//!   poller without two of them handling the same socket at once. poll and
//!   select emulate it exactly, by disarming in user space.
//! * [`Mode::Exclusive`]: level-triggered, and when several pollers (in
//!   several threads or processes) watch the *same* listening socket, the
//!   kernel wakes only one of them per connection (`EPOLLEXCLUSIVE`, Linux
//!   4.5). Without it every waiter wakes, one wins `accept`, the rest find
//!   nothing: the *thundering herd*. poll and select cannot ask the kernel
//!   for this and refuse the mode.
//!
//! ## Waking from another thread
//!
//! [`Poller::waker`] hands out a [`Waker`] (an `eventfd` registered on the
//! poller) that any thread may call to make a blocked [`Poller::wait`] return.
//! Wakes coalesce: many calls before the poller wakes cost one write.
//!
//! ## Socket system calls
//!
//! [`socket`] holds thin, safe wrappers over the socket system calls that
//! spindle-loop's streams and spindle-rt's net types share; all their
//! `unsafe` lives here, next to the poller's own.
//!
//! ## Example
//!
//! ```
//! use spindle_poll::{Backend, Events, Interest, Mode, Poller, Token};
//! use std::io::Write;
//! use std::os::fd::AsRawFd;
//! use std::time::Duration;
//!
//! let poller = Poller::new(Backend::Epoll)?;
//! let (a, mut b) = std::os::unix::net::UnixStream::pair()?;
//! a.set_nonblocking(true)?;
//! poller.add(a.as_raw_fd(), Token(7), Interest::READABLE, Mode::Level)?;
//!
//! b.write_all(b"ping")?;
//! let mut events = Events::with_capacity(64);
//! poller.wait(&mut events, Some(Duration::from_secs(1)))?;
//! let ev = events.iter().next().expect("one event");
//! assert_eq!(ev.token(), Token(7));
//! assert!(ev.is_readable());
//! poller.delete(a.as_raw_fd())?;
//! # Ok::<(), std::io::Error>(())
//! ```

#![deny(unsafe_op_in_unsafe_fn)]

mod backend;
pub mod cycles;
mod event;
mod interest;
pub mod limits;
pub mod process;
pub mod socket;
mod sys;
pub mod thread;
mod waker;

pub use backend::Backend;
pub use event::{Event, Events};
pub use interest::{Interest, Mode, Token};
pub use waker::Waker;

use std::io;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::time::Duration;

/// The token the poller keeps for its own [`Waker`]. Registering a descriptor
/// with it is refused.
pub const WAKER_TOKEN: Token = Token(usize::MAX);

/// A readiness poller over one of the [`Backend`]s.
///
/// All methods take `&self`, and a `Poller` is `Send + Sync`: one thread may
/// block in [`wait`](Poller::wait) while others add, modify or delete
/// registrations (on poll and select such a change wakes the waiting thread
/// so that the next system call sees it; on epoll the kernel keeps the set).
///
/// Only one thread should call `wait` at a time on the poll and select
/// backends; epoll allows several (see [`Mode::Oneshot`] and
/// [`Mode::Exclusive`]).
#[derive(Debug)]
pub struct Poller {
    inner: sys::Selector,
    waker: Arc<Waker>,
}

impl Poller {
    /// Opens a poller on `backend`, with its waker registered.
    ///
    /// # Errors
    /// Whatever the kernel says when creating the epoll instance or the
    /// eventfd (typically `EMFILE` when out of descriptors).
    pub fn new(backend: Backend) -> io::Result<Poller> {
        let selector = sys::Selector::new(backend)?;
        let waker = Arc::new(Waker::new()?);
        selector.add(waker.as_raw_fd(), WAKER_TOKEN, Interest::READABLE, Mode::Level)?;
        Ok(Poller { inner: selector, waker })
    }

    /// Opens a poller on the backend named by `SPINDLE_POLLER`, or epoll.
    ///
    /// # Errors
    /// An unknown name in `SPINDLE_POLLER` is `InvalidInput`; otherwise as
    /// [`Poller::new`].
    pub fn from_env() -> io::Result<Poller> {
        Poller::new(Backend::from_env()?)
    }

    /// Which backend this poller runs on.
    pub fn backend(&self) -> Backend {
        self.inner.backend()
    }

    /// Starts watching `fd` for `interest`, reporting events as `token`.
    ///
    /// The caller keeps ownership of `fd` and must [`delete`](Poller::delete)
    /// it before (or right after) closing it. On epoll, closing the last
    /// descriptor of a file drops its registration; on poll and select a
    /// registration whose descriptor was closed is reported once with
    /// [`Event::ERROR`] and then ignored until deleted (and if the number is
    /// reused by a new file before that, the new file is watched under the
    /// old token: delete first).
    ///
    /// # Errors
    /// * `EBADF`-kind error when `fd` is not an open descriptor;
    /// * `AlreadyExists` when `fd` is already registered;
    /// * `InvalidInput` for [`WAKER_TOKEN`] or a descriptor select cannot hold
    ///   (at or above `FD_SETSIZE`), with a message that says so;
    /// * `Unsupported` when the backend cannot honour `mode`.
    pub fn add(&self, fd: RawFd, token: Token, interest: Interest, mode: Mode) -> io::Result<()> {
        check_token(token)?;
        self.inner.add(fd, token, interest, mode)?;
        self.after_change();
        Ok(())
    }

    /// Changes the token, interest or mode of a registered `fd`; also
    /// re-arms a [`Mode::Oneshot`] registration.
    ///
    /// # Errors
    /// `NotFound` when `fd` is not registered; otherwise as [`Poller::add`].
    pub fn modify(&self, fd: RawFd, token: Token, interest: Interest, mode: Mode) -> io::Result<()> {
        check_token(token)?;
        self.inner.modify(fd, token, interest, mode)?;
        self.after_change();
        Ok(())
    }

    /// Stops watching `fd`.
    ///
    /// Deleting a descriptor that was registered and has since been closed
    /// succeeds: the kernel already dropped it from an epoll set when its
    /// last reference closed, and poll and select forget it here.
    ///
    /// # Errors
    /// `NotFound` when `fd` is open but not registered.
    pub fn delete(&self, fd: RawFd) -> io::Result<()> {
        self.inner.delete(fd)?;
        self.after_change();
        Ok(())
    }

    /// Waits until at least one registered descriptor is ready, the waker is
    /// called, a signal interrupts the wait, or `timeout` passes (`None`
    /// waits without limit; a timeout below a millisecond is rounded up, never
    /// down to a busy zero-timeout poll).
    ///
    /// `events` is cleared and then filled with at most its capacity; the
    /// rest stay queued in the kernel for the next call. Returns the number
    /// of events. The waker's own event is consumed here and never reported,
    /// so `Ok(0)` means a timeout, a wake or an interrupting signal (`EINTR`
    /// is not an error: the caller's loop should re-check its timers and
    /// signals and wait again).
    ///
    /// # Errors
    /// Only what the kernel reports for a broken poller; never `EINTR`.
    pub fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<usize> {
        events.clear();
        self.inner.wait(events, timeout)?;
        if events.remove_token(WAKER_TOKEN) {
            self.waker.reset();
        }
        Ok(events.len())
    }

    /// A handle another thread can use to wake [`wait`](Poller::wait).
    pub fn waker(&self) -> Arc<Waker> {
        Arc::clone(&self.waker)
    }

    /// On the user-space backends a registration change must reach a thread
    /// already blocked in `poll`/`select`, which copied the old set; when no
    /// thread is blocked (the usual case: the loop thread changes its own
    /// registrations between waits) nothing is written.
    fn after_change(&self) {
        if self.inner.waiting_elsewhere() {
            self.waker.wake();
        }
    }
}

fn check_token(token: Token) -> io::Result<()> {
    if token == WAKER_TOKEN {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "token usize::MAX is reserved for the poller's waker",
        ));
    }
    Ok(())
}
