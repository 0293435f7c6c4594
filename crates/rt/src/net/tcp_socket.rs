//! [`TcpSocket`]: a TCP socket configured before it listens or connects.

use super::sys;
use super::{TcpListener, TcpStream};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

/// A TCP socket not yet listening or connected: set options that must come
/// before [`bind`](TcpSocket::bind), [`listen`](TcpSocket::listen) or
/// [`connect`](TcpSocket::connect), then turn it into a [`TcpListener`] or
/// a [`TcpStream`].
///
/// [`TcpListener::bind`] is this with `SO_REUSEADDR` on and a backlog of
/// 1024. Use `TcpSocket` for another backlog, for `SO_REUSEPORT` (several
/// listeners, in one process or several, sharing a port; the kernel
/// spreads connections across them), or to bind a client to a local
/// address before connecting.
///
/// Making and configuring it needs no runtime; `listen` and `connect` do.
///
/// ```
/// use spindle_rt::net::{TcpSocket, TcpStream};
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let socket = TcpSocket::new_v4()?;
///     socket.set_reuseaddr(true)?;
///     socket.set_reuseport(true)?;
///     socket.bind("127.0.0.1:0".parse().unwrap())?;
///     let listener = socket.listen(128)?;
///     let client = TcpSocket::new_v4()?;
///     client.set_nodelay(true)?;
///     let stream = client.connect(listener.local_addr()?).await?;
///     assert!(stream.nodelay()?);
///     let (_conn, peer) = listener.accept().await?;
///     assert_eq!(peer, stream.local_addr()?);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TcpSocket {
    fd: OwnedFd,
}

impl TcpSocket {
    /// A non-blocking, close-on-exec IPv4 TCP socket.
    ///
    /// # Errors
    /// The system's `socket` error (`EMFILE`, ...).
    pub fn new_v4() -> io::Result<TcpSocket> {
        spindle_poll::socket::socket(libc::AF_INET).map(|fd| TcpSocket { fd })
    }

    /// A non-blocking, close-on-exec IPv6 TCP socket.
    ///
    /// # Errors
    /// The system's `socket` error (`EAFNOSUPPORT` without IPv6, ...).
    pub fn new_v6() -> io::Result<TcpSocket> {
        spindle_poll::socket::socket(libc::AF_INET6).map(|fd| TcpSocket { fd })
    }

    fn set_bool(&self, level: libc::c_int, name: libc::c_int, on: bool) -> io::Result<()> {
        sys::set_opt(self.fd.as_raw_fd(), level, name, libc::c_int::from(on))
    }

    fn get_bool(&self, level: libc::c_int, name: libc::c_int) -> io::Result<bool> {
        sys::get_opt(self.fd.as_raw_fd(), level, name).map(|v| v != 0)
    }

    /// Sets `SO_REUSEADDR`: a listener may bind a port that connections in
    /// `TIME_WAIT` still hold (so a restarted server does not wait minutes
    /// for its port). Set it before [`bind`](Self::bind).
    ///
    /// # Errors
    /// The system's `setsockopt` error.
    pub fn set_reuseaddr(&self, on: bool) -> io::Result<()> {
        self.set_bool(libc::SOL_SOCKET, libc::SO_REUSEADDR, on)
    }

    /// Whether `SO_REUSEADDR` is set.
    ///
    /// # Errors
    /// The system's `getsockopt` error.
    pub fn reuseaddr(&self) -> io::Result<bool> {
        self.get_bool(libc::SOL_SOCKET, libc::SO_REUSEADDR)
    }

    /// Sets `SO_REUSEPORT`: several sockets of the same user, each with it
    /// set before [`bind`](Self::bind), may bind the same address and
    /// port; the kernel spreads incoming connections across their
    /// listeners (one accept queue each, no thundering herd).
    ///
    /// # Errors
    /// The system's `setsockopt` error.
    pub fn set_reuseport(&self, on: bool) -> io::Result<()> {
        self.set_bool(libc::SOL_SOCKET, libc::SO_REUSEPORT, on)
    }

    /// Whether `SO_REUSEPORT` is set.
    ///
    /// # Errors
    /// The system's `getsockopt` error.
    pub fn reuseport(&self) -> io::Result<bool> {
        self.get_bool(libc::SOL_SOCKET, libc::SO_REUSEPORT)
    }

    /// Sets `TCP_NODELAY` (no Nagle delay for small writes); a stream made
    /// by [`connect`](Self::connect) keeps it.
    ///
    /// # Errors
    /// The system's `setsockopt` error.
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.set_bool(libc::IPPROTO_TCP, libc::TCP_NODELAY, on)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    /// The system's `getsockopt` error.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.get_bool(libc::IPPROTO_TCP, libc::TCP_NODELAY)
    }

    /// Sets `SO_KEEPALIVE`: the kernel probes an idle connection and
    /// fails it when the peer is gone. A stream made by
    /// [`connect`](Self::connect), or accepted from a listener made by
    /// [`listen`](Self::listen), keeps it.
    ///
    /// # Errors
    /// The system's `setsockopt` error.
    pub fn set_keepalive(&self, on: bool) -> io::Result<()> {
        self.set_bool(libc::SOL_SOCKET, libc::SO_KEEPALIVE, on)
    }

    /// Whether `SO_KEEPALIVE` is set.
    ///
    /// # Errors
    /// The system's `getsockopt` error.
    pub fn keepalive(&self) -> io::Result<bool> {
        self.get_bool(libc::SOL_SOCKET, libc::SO_KEEPALIVE)
    }

    fn set_size(&self, name: libc::c_int, size: u32) -> io::Result<()> {
        let size = libc::c_int::try_from(size).unwrap_or(libc::c_int::MAX);
        sys::set_opt(self.fd.as_raw_fd(), libc::SOL_SOCKET, name, size)
    }

    fn get_size(&self, name: libc::c_int) -> io::Result<u32> {
        sys::get_opt(self.fd.as_raw_fd(), libc::SOL_SOCKET, name).map(|v| u32::try_from(v).unwrap_or(0))
    }

    /// Sets `SO_SNDBUF`, the kernel's send buffer for the socket (and the
    /// streams it makes); set it before [`listen`](Self::listen) or
    /// [`connect`](Self::connect). Linux doubles the value (its
    /// bookkeeping share) and caps it at `net.core.wmem_max`.
    ///
    /// # Errors
    /// The system's `setsockopt` error.
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.set_size(libc::SO_SNDBUF, size)
    }

    /// `SO_SNDBUF`, as the kernel reports it.
    ///
    /// # Errors
    /// The system's `getsockopt` error.
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        self.get_size(libc::SO_SNDBUF)
    }

    /// Sets `SO_RCVBUF`, the kernel's receive buffer (it bounds the TCP
    /// window); as [`set_send_buffer_size`](Self::set_send_buffer_size),
    /// capped at `net.core.rmem_max`.
    ///
    /// # Errors
    /// The system's `setsockopt` error.
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.set_size(libc::SO_RCVBUF, size)
    }

    /// `SO_RCVBUF`, as the kernel reports it.
    ///
    /// # Errors
    /// The system's `getsockopt` error.
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        self.get_size(libc::SO_RCVBUF)
    }

    /// Binds the socket to `addr` (port 0: the system picks one).
    ///
    /// # Errors
    /// The system's `bind` error (`AddrInUse`, `AddrNotAvailable`, an
    /// address of the other family, ...).
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        sys::bind(self.fd.as_raw_fd(), &sys::SockAddr::inet(addr))
    }

    /// The address the socket is bound to.
    ///
    /// # Errors
    /// The system's `getsockname` error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        spindle_poll::socket::local_inet(self.fd.as_raw_fd())
    }

    /// Starts listening, with room for `backlog` connections that finished
    /// their handshake but were not accepted yet (the kernel caps it at
    /// `net.core.somaxconn`; past it, new handshakes wait), and registers
    /// the listener with the current runtime. Binds to an ephemeral port
    /// first if [`bind`](Self::bind) was not called.
    ///
    /// # Errors
    /// The system's `listen` error (`AddrInUse` for an unbound socket when
    /// no port is free, ...).
    ///
    /// # Panics
    /// Outside a spindle-rt runtime (`block_on` or one of its tasks).
    #[track_caller]
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        sys::listen(self.fd.as_raw_fd(), backlog)?;
        TcpListener::from_listening(self.fd)
    }

    /// Connects to `addr`, keeping the options set and the address bound,
    /// and registers the stream with the current runtime.
    ///
    /// # Errors
    /// As [`TcpStream::connect`]: `ConnectionRefused`, `TimedOut`, ...
    ///
    /// # Panics
    /// Outside a spindle-rt runtime (`block_on` or one of its tasks).
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::connect_fd(self.fd, addr).await
    }
}

impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl AsFd for TcpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl fmt::Debug for TcpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpSocket").field("fd", &self.fd.as_raw_fd()).finish()
    }
}
