//! The socket system calls the net types make.
//!
//! The wrappers themselves (and every `unsafe` block they need) live in
//! [`spindle_poll::socket`], shared with spindle-loop's streams; this module
//! re-exports them and adds what only `net` uses. Reads and writes go
//! through `std::net::TcpStream` (which sends with `MSG_NOSIGNAL`).

use std::io;
use std::net::SocketAddr;
use std::os::fd::{OwnedFd, RawFd};

pub(crate) use spindle_poll::socket::{bind, connect, listen, set_opt, SockAddr};

/// The listen backlog of [`TcpListener::bind`](super::TcpListener::bind):
/// nginx's and Redis's default (`tcp-backlog 511` rounds up to the same
/// order); the kernel caps it at `net.core.somaxconn`.
pub(crate) const BACKLOG: u32 = 1024;

/// A non-blocking, close-on-exec TCP socket for `addr`'s family.
pub(crate) fn socket_for(addr: &SocketAddr) -> io::Result<OwnedFd> {
    let family = if addr.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
    spindle_poll::socket::socket(family)
}

/// Accepts one connection, non-blocking and close-on-exec (`accept4`), and
/// the peer's address.
#[inline]
pub(crate) fn accept(fd: RawFd) -> io::Result<(OwnedFd, SocketAddr)> {
    let (fd, addr) = spindle_poll::socket::accept(fd)?;
    Ok((fd, addr.to_inet()?))
}
