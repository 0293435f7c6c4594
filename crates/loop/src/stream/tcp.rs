//! TCP streams: listen, connect, addresses and `TCP_NODELAY`.

use super::{sys, Family, StreamId};
use crate::Loop;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;

/// How [`Loop::tcp_listen_with`] sets up its socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenOptions {
    /// The accept queue's length (`listen`'s backlog; the kernel caps it at
    /// `net.core.somaxconn`). Default 511, nginx's and Node's.
    pub backlog: u32,
    /// `SO_REUSEADDR`: bind even while old connections on the port linger in
    /// `TIME_WAIT` (on by default, as in libuv and std).
    pub reuse_addr: bool,
    /// `SO_REUSEPORT`: let several sockets, in several processes or loops,
    /// bind the same address; the kernel spreads connections among them.
    pub reuse_port: bool,
}

impl Default for ListenOptions {
    fn default() -> ListenOptions {
        ListenOptions { backlog: 511, reuse_addr: true, reuse_port: false }
    }
}

fn family_for(addr: &SocketAddr) -> libc::c_int {
    match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    }
}

impl Loop {
    /// Listens for TCP connections on `addr` (port 0 picks a free port; read
    /// it back with [`local_addr`](Loop::local_addr)), with `SO_REUSEADDR`.
    /// `on_connection` runs once per connection; see [`Loop::accept`].
    ///
    /// # Errors
    /// The kernel's error from `socket`, `bind` (`AddrInUse`, ...) or
    /// `listen`, or the poller's.
    pub fn tcp_listen(
        &mut self,
        addr: SocketAddr,
        backlog: u32,
        on_connection: impl FnMut(&mut Loop, StreamId, io::Result<()>) + 'static,
    ) -> io::Result<StreamId> {
        let opts = ListenOptions { backlog, ..ListenOptions::default() };
        self.tcp_listen_with(addr, &opts, on_connection)
    }

    /// [`tcp_listen`](Loop::tcp_listen) with [`ListenOptions`] (e.g.
    /// `SO_REUSEPORT`).
    ///
    /// # Errors
    /// As [`tcp_listen`](Loop::tcp_listen).
    pub fn tcp_listen_with(
        &mut self,
        addr: SocketAddr,
        opts: &ListenOptions,
        on_connection: impl FnMut(&mut Loop, StreamId, io::Result<()>) + 'static,
    ) -> io::Result<StreamId> {
        let fd = sys::socket(family_for(&addr))?;
        let raw = fd.as_raw_fd();
        if opts.reuse_addr {
            sys::set_opt(raw, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
        }
        if opts.reuse_port {
            sys::set_opt(raw, libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)?;
        }
        sys::bind(raw, &sys::SockAddr::inet(addr))?;
        sys::listen(raw, opts.backlog)?;
        self.stream_listen(fd, Family::Tcp, Box::new(on_connection))
    }

    /// Connects to `addr` without blocking; `cb` runs when the connection is
    /// up or has failed (`ConnectionRefused`, ...). The stream can be
    /// written (the data waits) and read from before then.
    ///
    /// # Errors
    /// Only a failure to make the socket (`EMFILE`, ...) or the poller's;
    /// connection errors go to `cb`.
    pub fn tcp_connect(
        &mut self,
        addr: SocketAddr,
        cb: impl FnOnce(&mut Loop, StreamId, io::Result<()>) + 'static,
    ) -> io::Result<StreamId> {
        let fd = sys::socket(family_for(&addr))?;
        self.stream_connect(fd, Family::Tcp, &sys::SockAddr::inet(addr), Box::new(cb))
    }

    /// The address a TCP stream (or listener) is bound to.
    ///
    /// # Errors
    /// `InvalidInput` for a stream that is not TCP; `NotFound` or
    /// `NotConnected` for a dead or closing one.
    pub fn local_addr(&mut self, id: StreamId) -> io::Result<SocketAddr> {
        sys::local_inet(self.tcp_fd(id)?)
    }

    /// The address of a TCP stream's peer.
    ///
    /// # Errors
    /// `NotConnected` while connecting; otherwise as
    /// [`local_addr`](Loop::local_addr).
    pub fn peer_addr(&mut self, id: StreamId) -> io::Result<SocketAddr> {
        sys::peer_inet(self.tcp_fd(id)?)
    }

    /// Sets `TCP_NODELAY`: send small writes at once instead of waiting to
    /// coalesce them (Nagle's algorithm). Request/response protocols want it.
    ///
    /// # Errors
    /// As [`local_addr`](Loop::local_addr).
    pub fn set_nodelay(&mut self, id: StreamId, nodelay: bool) -> io::Result<()> {
        sys::set_opt(self.tcp_fd(id)?, libc::IPPROTO_TCP, libc::TCP_NODELAY, libc::c_int::from(nodelay))
    }

    fn tcp_fd(&mut self, id: StreamId) -> io::Result<std::os::fd::RawFd> {
        let s = self.stream_checked(id.0)?;
        if s.family != Family::Tcp {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a TCP stream"));
        }
        s.raw_fd().ok_or_else(super::canceled)
    }
}
