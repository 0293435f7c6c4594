//! The socket system calls streams make.
//!
//! The wrappers themselves (and every `unsafe` block they need) live in
//! [`spindle_poll::socket`], shared with spindle-rt's net types; this module
//! re-exports them and adds the little that only streams use.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

pub(crate) use spindle_poll::socket::{
    bind, connect, get_opt, is_socket, listen, local, local_inet, peer_inet, read, recv_stream, reserve_fd,
    send, set_nonblocking, set_opt, shutdown_write, socket, write, SockAddr,
};

/// Accepts one connection, non-blocking and close-on-exec (`accept4`); a
/// stream does not keep the peer's address, so it is dropped here.
#[inline]
pub(crate) fn accept(fd: RawFd) -> io::Result<OwnedFd> {
    spindle_poll::socket::accept(fd).map(|(conn, _peer)| conn)
}

/// Whether `fd` is an open listening socket (`SO_ACCEPTCONN`).
pub(crate) fn is_listening(fd: &OwnedFd) -> io::Result<bool> {
    get_opt(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_ACCEPTCONN).map(|v| v != 0)
}
