//! Unix-domain stream sockets: listen on and connect to a path.
//!
//! A path that starts with a NUL byte names Linux's abstract namespace: no
//! file is made, and the name disappears with the last socket. A filesystem
//! path is not removed by the loop, neither before binding (an old socket
//! file makes `bind` fail with `AddrInUse`) nor after closing.

use super::{sys, Family, StreamId};
use crate::Loop;
use std::io;
use std::path::Path;

impl Loop {
    /// Listens for Unix-domain connections on `path`; `on_connection` runs
    /// once per connection (see [`Loop::accept`]).
    ///
    /// # Errors
    /// `InvalidInput` for a path too long for `sockaddr_un` (107 bytes) or
    /// holding a NUL; the kernel's error from `socket`, `bind` or `listen`;
    /// the poller's.
    pub fn unix_listen(
        &mut self,
        path: impl AsRef<Path>,
        backlog: u32,
        on_connection: impl FnMut(&mut Loop, StreamId, io::Result<()>) + 'static,
    ) -> io::Result<StreamId> {
        let addr = sys::SockAddr::unix(path.as_ref())?;
        let fd = sys::socket(libc::AF_UNIX)?;
        sys::bind(std::os::fd::AsRawFd::as_raw_fd(&fd), &addr)?;
        sys::listen(std::os::fd::AsRawFd::as_raw_fd(&fd), backlog)?;
        self.stream_listen(fd, Family::Unix, Box::new(on_connection))
    }

    /// Connects to the Unix-domain socket at `path`; `cb` runs when the
    /// connection is up or has failed. Unix connects usually finish at once
    /// (`cb` still runs later, in the pending phase); a full accept queue is
    /// reported as `WouldBlock` (`EAGAIN`) to `cb`, a missing listener as
    /// `ConnectionRefused` or `NotFound`.
    ///
    /// # Errors
    /// An invalid path, a failure to make the socket, or the poller's.
    pub fn unix_connect(
        &mut self,
        path: impl AsRef<Path>,
        cb: impl FnOnce(&mut Loop, StreamId, io::Result<()>) + 'static,
    ) -> io::Result<StreamId> {
        let addr = sys::SockAddr::unix(path.as_ref())?;
        let fd = sys::socket(libc::AF_UNIX)?;
        self.stream_connect(fd, Family::Unix, &addr, Box::new(cb))
    }
}
