//! Listening and accepting, and what to do when descriptors run out.
//!
//! ## One callback per connection
//!
//! When a listening socket is readable the loop accepts (`accept4`, with
//! `SOCK_NONBLOCK | SOCK_CLOEXEC` so the new socket needs no further system
//! call) and calls `on_connection` once per accepted socket, as libuv does;
//! the callback takes the socket with [`Loop::accept`]. A socket the
//! callback does not accept is closed: the connection is refused. The loop
//! accepts until the backlog is empty (`EAGAIN`) or [`ACCEPTS_PER_EVENT`]
//! connections, so a connection storm cannot starve established clients.
//!
//! ## Out of descriptors (`EMFILE`, `ENFILE`)
//!
//! When the process is out of descriptors `accept` fails, but the pending
//! connection stays in the backlog and the listener stays readable: a
//! level-triggered loop would wake, fail and wake again at 100% CPU, while
//! clients hang. Each listener therefore holds one **reserve descriptor**
//! (libuv's trick): on `EMFILE` it closes the reserve, which frees exactly
//! one slot, then accepts and immediately closes every pending connection
//! (clients see a reset or an end of stream instead of hanging), then opens
//! the reserve again. The backlog is empty, so the listener is quiet until a
//! new client arrives. `on_connection` hears `Err(EMFILE)` once per episode.
//!
//! If the reserve cannot be reopened (another thread took the slot), the
//! listener stops watching for [`ACCEPT_PAUSE`] instead, so the loop never
//! spins either way.

use super::{sys, Conn, Family, StreamId};
use crate::handle::HandleId;
use crate::Loop;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

/// The callback of a listening stream: the loop, the listener, and `Ok` for
/// a connection to [`accept`](Loop::accept) or the error that stopped
/// accepting (`EMFILE`, ...).
pub type ConnectionCb = Box<dyn FnMut(&mut Loop, StreamId, io::Result<()>)>;

/// The most connections one readable event accepts before the loop moves on
/// (nginx accepts a batch per event too, `multi_accept`); the rest are taken
/// on the next iteration.
pub const ACCEPTS_PER_EVENT: usize = 128;

/// How long a listener stops accepting when it is out of descriptors and has
/// no reserve to fall back on. Long enough not to spin, short enough that
/// clients barely notice once descriptors are freed.
pub const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// A listening stream's state.
pub(crate) struct Listener {
    cb: Option<ConnectionCb>,
    /// The connection accepted for the running `on_connection`.
    accepted: Option<OwnedFd>,
    /// Closed to make room when out of descriptors; see the module docs.
    reserve: Option<OwnedFd>,
    /// Stopped watching after `EMFILE` without a reserve.
    pub(crate) paused: bool,
    /// The family of accepted sockets.
    family: Family,
}

impl Loop {
    /// Makes a listening stream of a bound, listening socket.
    pub(crate) fn stream_listen(
        &mut self,
        fd: OwnedFd,
        family: Family,
        cb: ConnectionCb,
    ) -> io::Result<StreamId> {
        let listener =
            Listener { cb: Some(cb), accepted: None, reserve: sys::reserve_fd().ok(), paused: false, family };
        let id = self.stream_insert(fd, true, family, Conn::Listening(Box::new(listener)));
        self.stream_register(id.0)?;
        Ok(id)
    }

    /// Listens on a socket that is already bound and listening: one
    /// inherited from a parent, passed over a Unix socket, or made with
    /// options the loop does not offer. It is made non-blocking.
    ///
    /// # Errors
    /// `InvalidInput` when `fd` is not a listening socket; the poller's error
    /// if it cannot watch it.
    pub fn listen_open(
        &mut self,
        fd: OwnedFd,
        on_connection: impl FnMut(&mut Loop, StreamId, io::Result<()>) + 'static,
    ) -> io::Result<StreamId> {
        if !sys::is_listening(&fd)? {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "listen_open needs a listening socket"));
        }
        sys::set_nonblocking(fd.as_raw_fd())?;
        let family = super::family_of(fd.as_raw_fd());
        self.stream_listen(fd, family, Box::new(on_connection))
    }

    /// Takes the connection `on_connection` was called for (`uv_accept`),
    /// as a new open stream. Call it from `on_connection`; a connection not
    /// taken by the time the callback returns is closed.
    ///
    /// # Errors
    /// `WouldBlock` when there is no connection to take (outside
    /// `on_connection`, or taken already); `InvalidInput` when `listener`
    /// is not listening; the poller's error if it cannot watch the socket.
    pub fn accept(&mut self, listener: StreamId) -> io::Result<StreamId> {
        let s = self.stream_checked(listener.0)?;
        let Conn::Listening(l) = &mut s.conn else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "accept on a stream that is not listening",
            ));
        };
        let Some(fd) = l.accepted.take() else {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "no connection to accept: call accept from on_connection",
            ));
        };
        let family = l.family;
        let id = self.stream_insert(fd, true, family, Conn::Open);
        self.stream_settle(id.0);
        Ok(id)
    }

    /// A readable listener: accept and announce connections.
    pub(crate) fn stream_accept_ready(&mut self, id: HandleId) {
        for _ in 0..ACCEPTS_PER_EVENT {
            let Some(s) = self.stream_state(id) else { return };
            let Some(fd) = s.raw_fd() else { return };
            let Conn::Listening(l) = &mut s.conn else { return };
            if l.paused {
                return;
            }
            match sys::accept(fd) {
                Ok(conn) => {
                    l.accepted = Some(conn);
                    self.listener_call(id, Ok(()));
                    // Not taken: refused (dropping closes it).
                    if let Some(Conn::Listening(l)) = self.stream_state(id).map(|s| &mut s.conn) {
                        l.accepted = None;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                // The client gave up while in the backlog: the next one.
                Err(e) if e.raw_os_error() == Some(libc::ECONNABORTED) => {}
                Err(e) if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) => {
                    self.accept_out_of_fds(id, fd, e);
                    return;
                }
                Err(e) => {
                    // ENOBUFS, ENOMEM, EPERM (a firewall): report, retry on
                    // the next event.
                    self.listener_call(id, Err(e));
                    return;
                }
            }
        }
    }

    /// Calls `on_connection`, moving it out of the slot for the call.
    fn listener_call(&mut self, id: HandleId, result: io::Result<()>) {
        let Some(Conn::Listening(l)) = self.stream_state(id).map(|s| &mut s.conn) else { return };
        let Some(mut cb) = l.cb.take() else { return };
        self.timed(id, |lp| cb(lp, StreamId(id), result));
        if let Some(Conn::Listening(l)) = self.stream_state(id).map(|s| &mut s.conn) {
            l.cb.get_or_insert(cb);
        }
    }

    /// `EMFILE`/`ENFILE` on accept; see the module docs.
    fn accept_out_of_fds(&mut self, id: HandleId, fd: std::os::fd::RawFd, e: io::Error) {
        let Some(Conn::Listening(l)) = self.stream_state(id).map(|s| &mut s.conn) else { return };
        let mut quiet = false;
        if let Some(reserve) = l.reserve.take() {
            drop(reserve);
            // Bounded: clients arriving as fast as we refuse them must not
            // hold the loop.
            for _ in 0..ACCEPTS_PER_EVENT {
                match sys::accept(fd) {
                    Ok(conn) => drop(conn),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        quiet = true;
                        break;
                    }
                    Err(_) => break,
                }
            }
            l.reserve = sys::reserve_fd().ok();
            quiet &= l.reserve.is_some();
        }
        if !quiet {
            l.paused = true;
            self.stream_settle(id);
            match self.timer_once(ACCEPT_PAUSE, move |lp, t| {
                lp.close(t.handle(), None);
                if let Some(Conn::Listening(l)) = lp.stream_state(id).map(|s| &mut s.conn) {
                    l.paused = false;
                    lp.stream_settle(id);
                }
            }) {
                Ok(t) => self.unref(t.handle()),
                Err(err) => tracing::warn!(error = %err, "could not arm the accept pause timer"),
            }
        }
        self.listener_call(id, Err(e));
    }
}
