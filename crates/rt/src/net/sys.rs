//! The socket system calls the net types make.
//!
//! The wrappers themselves (and every `unsafe` block they need) live in
//! [`spindle_poll::socket`], shared with spindle-loop's streams; this module
//! re-exports them and adds what only `net` uses. Reads and writes go
//! through `std::net::TcpStream` (which sends with `MSG_NOSIGNAL`), or, for
//! Unix streams, UDP and gathered writes, through the wrappers here
//! (`send`, `send_to` and `sendmsg`, all with `MSG_NOSIGNAL`).

use std::io;
use std::net::SocketAddr;
use std::os::fd::{OwnedFd, RawFd};

pub(crate) use spindle_poll::socket::{
    accept as accept_any, bind, connect, datagram_socket, get_opt, listen, recv, recv_from, recv_stream,
    send, send_to, send_vectored, set_opt, socketpair, SockAddr,
};

/// The listen backlog of [`TcpListener::bind`](super::TcpListener::bind)
/// and [`UnixListener::bind`](super::UnixListener::bind):
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

/// A non-blocking, close-on-exec UDP socket for `addr`'s family.
pub(crate) fn udp_socket_for(addr: &SocketAddr) -> io::Result<OwnedFd> {
    let family = if addr.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
    datagram_socket(family)
}
