//! [`UdpSocket`]: datagrams over IP.

use super::registration::{Registration, Wait};
use super::sys;
use super::tcp_stream::each_addr;
use crate::io::Direction;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll};

/// A UDP socket, registered with the current runtime's loop.
///
/// Each [`send`](UdpSocket::send) or [`send_to`](UdpSocket::send_to) is one
/// datagram, each [`recv`](UdpSocket::recv) or
/// [`recv_from`](UdpSocket::recv_from) takes one. Datagrams may be lost,
/// duplicated or reordered; none is ever merged with or split across
/// another.
///
/// # Truncation
///
/// A datagram longer than the buffer it is received into is **cut**: the
/// buffer is filled, the call returns `buf.len()`, and the rest of the
/// datagram is discarded, with no error and no way to tell (beyond the
/// length being exactly `buf.len()`). Receive into a buffer as large as
/// the largest datagram expected: 65,507 bytes holds any IPv4 datagram.
///
/// # Tasks
///
/// Operations take `&self`, and any number of tasks may share the socket
/// (through an `Arc`) and wait to receive or send at once: an event wakes
/// every waiter in its direction, one of them gets the datagram, and the
/// others find `WouldBlock` and wait again.
///
/// ```
/// use spindle_rt::net::UdpSocket;
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await?;
///     let b = UdpSocket::bind("127.0.0.1:0").await?;
///     a.send_to(b"hello", b.local_addr()?).await?;
///     let mut buf = [0; 1500];
///     let (n, from) = b.recv_from(&mut buf).await?;
///     assert_eq!((&buf[..n], from), (&b"hello"[..], a.local_addr()?));
///     // Connected: send and recv talk to that one peer only.
///     b.connect(from).await?;
///     b.send(b"back").await?;
///     let n = a.recv(&mut buf).await?;
///     assert_eq!(&buf[..n], b"back");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UdpSocket {
    /// Dropped before `socket`: the watcher leaves the poller before the
    /// descriptor closes.
    pub(super) reg: Registration,
    /// Owns the descriptor; used for its option and address getters.
    pub(super) socket: std::net::UdpSocket,
}

impl UdpSocket {
    /// Makes a non-blocking, close-on-exec UDP socket bound to the first of
    /// `addr`'s addresses that works (port 0: the system picks one), and
    /// registers it with the current runtime.
    ///
    /// Async, as tokio's is: a literal address is used at once, a host
    /// name is first resolved on the blocking pool (see
    /// [`lookup_host`](super::lookup_host)). Outside a runtime, bind a
    /// [`std::net::UdpSocket`] and adopt it inside with
    /// [`from_std`](Self::from_std).
    ///
    /// # Errors
    /// The system's error for the last address tried (`AddrInUse`, ...),
    /// the resolver's error, or `InvalidInput` if `addr` resolves to no
    /// address.
    ///
    /// # Panics
    /// When polled outside a spindle-rt runtime (`block_on` or one of its
    /// tasks).
    pub async fn bind(addr: impl super::ToSocketAddrs) -> io::Result<UdpSocket> {
        let fd = each_addr(super::addr::resolve(addr).await?, |a| {
            let fd = sys::udp_socket_for(&a)?;
            sys::bind(fd.as_raw_fd(), &sys::SockAddr::inet(a))?;
            Ok(fd)
        })?;
        let reg = Registration::new(fd.as_raw_fd())?;
        Ok(UdpSocket { reg, socket: std::net::UdpSocket::from(fd) })
    }

    /// Sets the default peer: [`send`](Self::send) goes to it,
    /// [`recv`](Self::recv) takes datagrams from it only, and an ICMP "port
    /// unreachable" from it shows up as `ConnectionRefused` on a later
    /// call. UDP has no handshake, so this waits only for a host name's
    /// lookup (on the blocking pool, as in [`bind`](Self::bind)); the
    /// first of `addr`'s addresses that the system accepts is used.
    ///
    /// # Errors
    /// The system's `connect` error for the last address tried, the
    /// resolver's error, or `InvalidInput` if `addr` resolves to no
    /// address.
    pub async fn connect(&self, addr: impl super::ToSocketAddrs) -> io::Result<()> {
        each_addr(super::addr::resolve(addr).await?, |a| self.socket.connect(a))
    }

    /// Sends `buf` as one datagram to the connected peer.
    ///
    /// # Errors
    /// `NotConnected` before [`connect`](Self::connect); `ConnectionRefused`
    /// after the peer's port answered unreachable; the system's `send`
    /// error (`EMSGSIZE` for a datagram too large, ...).
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        let mut w = self.reg.waiter();
        poll_fn(|cx| self.poll_send_by(cx, Some(&mut w), buf)).await
    }

    /// Polls sending `buf` as one datagram to the connected peer.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_send_by(cx, None, buf)
    }

    /// [`poll_send`](Self::poll_send), waiting as `w` says.
    fn poll_send_by(&self, cx: &mut Context<'_>, w: Wait<'_, '_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let fd = self.socket.as_raw_fd();
        self.reg.poll_io(cx, w, Direction::Write, || sys::send(fd, buf))
    }

    /// Sends `buf` as one datagram to `target`: a `SocketAddr`, or any
    /// other [`ToSocketAddrs`](super::ToSocketAddrs) form, as in tokio; a
    /// host name is resolved on the blocking pool and its first address
    /// used.
    ///
    /// # Errors
    /// The system's `sendto` error (`EMSGSIZE`, `PermissionDenied` for a
    /// broadcast address without [`set_broadcast`](Self::set_broadcast),
    /// an address of the other IP family, ...), the resolver's, or
    /// `InvalidInput` if `target` resolves to no address.
    pub async fn send_to(&self, buf: &[u8], target: impl super::ToSocketAddrs) -> io::Result<usize> {
        let target = super::addr::resolve_first(target).await?;
        let mut w = self.reg.waiter();
        poll_fn(|cx| self.poll_send_to_by(cx, Some(&mut w), buf, target)).await
    }

    /// Polls sending `buf` as one datagram to `target`.
    ///
    /// # Errors
    /// As [`send_to`](Self::send_to).
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.poll_send_to_by(cx, None, buf, target)
    }

    /// [`poll_send_to`](Self::poll_send_to), waiting as `w` says.
    fn poll_send_to_by(
        &self,
        cx: &mut Context<'_>,
        w: Wait<'_, '_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        let fd = self.socket.as_raw_fd();
        let addr = sys::SockAddr::inet(target);
        self.reg.poll_io(cx, w, Direction::Write, || sys::send_to(fd, buf, &addr))
    }

    /// Receives one datagram from the connected peer into `buf`, waiting
    /// for one; returns its length, **cut to `buf.len()`** (see
    /// [Truncation](UdpSocket#truncation)).
    ///
    /// # Errors
    /// `ConnectionRefused` after the peer's port answered unreachable; the
    /// system's `recv` error.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut w = self.reg.waiter();
        poll_fn(|cx| self.poll_recv_by(cx, Some(&mut w), buf)).await
    }

    /// Polls receiving one datagram from the connected peer.
    ///
    /// # Errors
    /// As [`recv`](Self::recv).
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_recv_by(cx, None, buf)
    }

    /// [`poll_recv`](Self::poll_recv), waiting as `w` says.
    fn poll_recv_by(&self, cx: &mut Context<'_>, w: Wait<'_, '_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let fd = self.socket.as_raw_fd();
        self.reg.poll_io(cx, w, Direction::Read, || sys::recv(fd, buf, 0))
    }

    /// Receives one datagram into `buf`, waiting for one; returns its
    /// length, **cut to `buf.len()`** (see [Truncation](UdpSocket#truncation)),
    /// and the sender's address.
    ///
    /// # Errors
    /// The system's `recvfrom` error.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let mut w = self.reg.waiter();
        poll_fn(|cx| self.poll_recv_from_by(cx, Some(&mut w), buf)).await
    }

    /// Polls receiving one datagram and its sender's address.
    ///
    /// # Errors
    /// As [`recv_from`](Self::recv_from).
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.poll_recv_from_by(cx, None, buf)
    }

    /// [`poll_recv_from`](Self::poll_recv_from), waiting as `w` says.
    fn poll_recv_from_by(
        &self,
        cx: &mut Context<'_>,
        w: Wait<'_, '_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        let fd = self.socket.as_raw_fd();
        let (n, addr) =
            std::task::ready!(self.reg.poll_io(cx, w, Direction::Read, || sys::recv_from(fd, buf, 0)))?;
        Poll::Ready(Ok((n, addr.to_inet()?)))
    }

    /// Sets `SO_BROADCAST`: whether datagrams may go to a broadcast
    /// address.
    ///
    /// # Errors
    /// The system's `setsockopt` error.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.socket.set_broadcast(on)
    }

    /// Whether `SO_BROADCAST` is set.
    ///
    /// # Errors
    /// The system's `getsockopt` error.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.socket.broadcast()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    /// `NotConnected` before [`connect`](Self::connect).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.socket.peer_addr()
    }

    /// The address the socket is bound to (with the port the system chose,
    /// for port 0).
    ///
    /// # Errors
    /// The system's `getsockname` error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket").field("fd", &self.socket.as_raw_fd()).finish_non_exhaustive()
    }
}
