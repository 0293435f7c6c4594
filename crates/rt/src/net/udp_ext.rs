//! The rest of [`UdpSocket`]'s API, in tokio's shapes: peeking, readiness
//! waits and non-blocking `try_*` attempts, IP and multicast options, and
//! moving a socket in from and out to `std`. (A file of its own so that
//! `udp.rs` keeps the core: binding, connecting and the waiting IO.)

use super::registration::{Registration, Wait};
use super::sys;
use super::UdpSocket;
use crate::io::{Direction, Interest};
use std::future::poll_fn;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::task::{Context, Poll};

impl UdpSocket {
    /// Receives a copy of the next datagram into `buf`, waiting for one,
    /// and leaves it queued: the next receive returns the same datagram.
    /// Returns its length, cut to `buf.len()` as a receive would (see
    /// [Truncation](UdpSocket#truncation); the datagram itself stays
    /// whole), and the sender's address.
    ///
    /// # Errors
    /// The system's `recvfrom` error (`ConnectionRefused` on a connected
    /// socket after an ICMP "port unreachable").
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let mut w = self.reg.waiter();
        poll_fn(|cx| self.poll_peek_from_by(cx, Some(&mut w), buf)).await
    }

    /// Polls peeking at the next datagram and its sender's address.
    ///
    /// # Errors
    /// As [`peek_from`](Self::peek_from).
    pub fn poll_peek_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.poll_peek_from_by(cx, None, buf)
    }

    /// [`poll_peek_from`](Self::poll_peek_from), waiting as `w` says.
    fn poll_peek_from_by(
        &self,
        cx: &mut Context<'_>,
        w: Wait<'_, '_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        let fd = self.socket.as_raw_fd();
        let (n, addr) = std::task::ready!(self
            .reg
            .poll_io(cx, w, Direction::Read, || { sys::recv_from(fd, buf, libc::MSG_PEEK) }))?;
        Poll::Ready(Ok((n, addr.to_inet()?)))
    }

    /// Waits until the socket may have a datagram to receive: the wait of a
    /// [`try_recv`](Self::try_recv) or [`try_recv_from`](Self::try_recv_from)
    /// loop.
    ///
    /// ```
    /// use spindle_rt::net::UdpSocket;
    /// use std::io;
    ///
    /// let rt = spindle_rt::Builder::new_current_thread().build()?;
    /// rt.block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.send_to(b"tick", b.local_addr()?).await?;
    ///     let mut buf = [0; 64];
    ///     let (n, from) = loop {
    ///         b.readable().await?;
    ///         match b.try_recv_from(&mut buf) {
    ///             Ok(got) => break got,
    ///             Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
    ///             Err(e) => return Err(e),
    ///         }
    ///     };
    ///     assert_eq!((&buf[..n], from), (&b"tick"[..], a.local_addr()?));
    ///     Ok::<(), io::Error>(())
    /// })?;
    /// # Ok::<(), io::Error>(())
    /// ```
    ///
    /// # Why `try_*` clears readiness, by tick
    ///
    /// The readiness may be stale, and such a loop sleeps only because a
    /// `WouldBlock` from the `try_*` call **clears** it. With
    /// edge-triggered epoll the kernel announces readiness once, when the
    /// queue goes from empty to non-empty, so the runtime latches it until
    /// a system call proves it stale; were `WouldBlock` to leave it
    /// latched, `readable` would return at once forever and the loop would
    /// spin. The clear is made **by tick** (the latch's count of events):
    /// it removes only the readiness seen before the call, so a datagram
    /// whose event arrived while the call was under way keeps its
    /// readiness, and the next `readable` returns for it instead of
    /// sleeping through it.
    ///
    /// # Errors
    /// An error if the runtime shut the socket down.
    pub async fn readable(&self) -> io::Result<()> {
        let mut w = self.reg.waiter();
        poll_fn(|cx| self.poll_recv_ready_by(cx, Some(&mut w))).await
    }

    /// Waits until the socket may take a datagram, for a
    /// [`try_send`](Self::try_send) or [`try_send_to`](Self::try_send_to)
    /// loop; as [`readable`](Self::readable), the readiness may be stale.
    ///
    /// # Errors
    /// An error if the runtime shut the socket down.
    pub async fn writable(&self) -> io::Result<()> {
        let mut w = self.reg.waiter();
        poll_fn(|cx| self.poll_send_ready_by(cx, Some(&mut w))).await
    }

    /// Polls [`readable`](Self::readable).
    ///
    /// # Errors
    /// As [`readable`](Self::readable).
    pub fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_recv_ready_by(cx, None)
    }

    /// [`poll_recv_ready`](Self::poll_recv_ready), waiting as `w` says.
    fn poll_recv_ready_by(&self, cx: &mut Context<'_>, w: Wait<'_, '_>) -> Poll<io::Result<()>> {
        self.reg.poll_ready_io(cx, w, Interest::READABLE).map_ok(drop)
    }

    /// Polls [`writable`](Self::writable).
    ///
    /// # Errors
    /// As [`writable`](Self::writable).
    pub fn poll_send_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_send_ready_by(cx, None)
    }

    /// [`poll_send_ready`](Self::poll_send_ready), waiting as `w` says.
    fn poll_send_ready_by(&self, cx: &mut Context<'_>, w: Wait<'_, '_>) -> Poll<io::Result<()>> {
        self.reg.poll_ready_io(cx, w, Interest::WRITABLE).map_ok(drop)
    }

    /// Tries to send `buf` as one datagram to the connected peer, without
    /// waiting.
    ///
    /// # Errors
    /// `WouldBlock` if the send buffer is full (the readiness the runtime
    /// held is then cleared by its tick: [`readable`](Self::readable) says
    /// why); otherwise as
    /// [`send`](Self::send).
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        let fd = self.socket.as_raw_fd();
        self.reg.try_io(Interest::WRITABLE, || sys::send(fd, buf))
    }

    /// Tries to send `buf` as one datagram to `target`, without waiting.
    ///
    /// # Errors
    /// `WouldBlock` if the send buffer is full (readiness cleared by tick,
    /// as for [`try_send`](Self::try_send)); otherwise as
    /// [`send_to`](Self::send_to).
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        let fd = self.socket.as_raw_fd();
        let addr = sys::SockAddr::inet(target);
        self.reg.try_io(Interest::WRITABLE, || sys::send_to(fd, buf, &addr))
    }

    /// Tries to receive one datagram from the connected peer into `buf`,
    /// without waiting; returns its length, cut to `buf.len()`.
    ///
    /// # Errors
    /// `WouldBlock` if no datagram is queued (the readiness the runtime
    /// held is then cleared by its tick: [`readable`](Self::readable) says
    /// why); otherwise as
    /// [`recv`](Self::recv).
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        let fd = self.socket.as_raw_fd();
        self.reg.try_io(Interest::READABLE, || sys::recv(fd, buf, 0))
    }

    /// Tries to receive one datagram into `buf`, without waiting; returns
    /// its length, cut to `buf.len()`, and the sender's address.
    ///
    /// # Errors
    /// `WouldBlock` if no datagram is queued (readiness cleared by tick, as
    /// for [`try_recv`](Self::try_recv)); otherwise as
    /// [`recv_from`](Self::recv_from).
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let fd = self.socket.as_raw_fd();
        let (n, addr) = self.reg.try_io(Interest::READABLE, || sys::recv_from(fd, buf, 0))?;
        Ok((n, addr.to_inet()?))
    }

    /// Sets `IP_TTL`: the hop limit of unicast datagrams sent from an IPv4
    /// socket (default 64 on Linux).
    ///
    /// # Errors
    /// The system's `setsockopt` error (`InvalidInput` for 0 or above 255).
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.socket.set_ttl(ttl)
    }

    /// `IP_TTL`, as [`set_ttl`](Self::set_ttl) sets it.
    ///
    /// # Errors
    /// The system's `getsockopt` error.
    pub fn ttl(&self) -> io::Result<u32> {
        self.socket.ttl()
    }

    /// Sets `IP_MULTICAST_LOOP`: whether IPv4 multicast datagrams this
    /// socket sends are also delivered to members on this host (default
    /// on).
    ///
    /// # Errors
    /// The system's `setsockopt` error (an IPv6 socket refuses it).
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.socket.set_multicast_loop_v4(on)
    }

    /// Whether `IP_MULTICAST_LOOP` is set.
    ///
    /// # Errors
    /// The system's `getsockopt` error.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.socket.multicast_loop_v4()
    }

    /// Sets `IP_MULTICAST_TTL`: the hop limit of IPv4 multicast datagrams
    /// (default 1, which keeps them on the local network).
    ///
    /// # Errors
    /// The system's `setsockopt` error.
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.socket.set_multicast_ttl_v4(ttl)
    }

    /// `IP_MULTICAST_TTL`, as [`set_multicast_ttl_v4`](Self::set_multicast_ttl_v4)
    /// sets it.
    ///
    /// # Errors
    /// The system's `getsockopt` error.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.socket.multicast_ttl_v4()
    }

    /// Sets `IPV6_MULTICAST_LOOP`: whether IPv6 multicast datagrams this
    /// socket sends are also delivered to members on this host (default
    /// on).
    ///
    /// # Errors
    /// The system's `setsockopt` error (an IPv4 socket refuses it).
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.socket.set_multicast_loop_v6(on)
    }

    /// Whether `IPV6_MULTICAST_LOOP` is set.
    ///
    /// # Errors
    /// The system's `getsockopt` error.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.socket.multicast_loop_v6()
    }

    /// Joins the IPv4 multicast group `multiaddr` on the interface whose
    /// address is `interface` (`0.0.0.0`: the one the routing table picks),
    /// so that datagrams sent to the group and this socket's port arrive
    /// here (`IP_ADD_MEMBERSHIP`).
    ///
    /// # Errors
    /// The system's `setsockopt` error, passed on as it is: `InvalidInput`
    /// for an address that is not multicast, `ENODEV` (no interface has
    /// that address, or no route to pick one), `EADDRINUSE` when already a
    /// member, `ENOBUFS` past the per-socket limit.
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.socket.join_multicast_v4(&multiaddr, &interface)
    }

    /// Leaves a group joined with [`join_multicast_v4`](Self::join_multicast_v4)
    /// (`IP_DROP_MEMBERSHIP`).
    ///
    /// # Errors
    /// The system's `setsockopt` error (`EADDRNOTAVAIL` when not a member).
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.socket.leave_multicast_v4(&multiaddr, &interface)
    }

    /// Joins the IPv6 multicast group `multiaddr` on the interface with
    /// index `interface` (0: the one the routing table picks;
    /// `if_nametoindex` gives an index), `IPV6_ADD_MEMBERSHIP`.
    ///
    /// # Errors
    /// The system's `setsockopt` error, passed on as it is (`InvalidInput`
    /// for a non-multicast address, `ENODEV` for no such interface, an
    /// error on an IPv4 socket, ...).
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.socket.join_multicast_v6(multiaddr, interface)
    }

    /// Leaves a group joined with [`join_multicast_v6`](Self::join_multicast_v6)
    /// (`IPV6_DROP_MEMBERSHIP`).
    ///
    /// # Errors
    /// The system's `setsockopt` error (`EADDRNOTAVAIL` when not a member).
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.socket.leave_multicast_v6(multiaddr, interface)
    }

    /// Takes the socket's pending error (`SO_ERROR`), clearing it: on a
    /// connected socket, an ICMP error such as "port unreachable" waits
    /// here until a call reports it, and this takes it without a receive.
    ///
    /// # Errors
    /// The system's `getsockopt` error (not the pending one, which is the
    /// `Ok(Some(_))` value).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.socket.take_error()
    }

    /// Adopts a UDP socket made elsewhere (with options `std` or the
    /// system set before binding, inherited from a parent process, ...):
    /// sets it non-blocking and registers it with the current runtime.
    ///
    /// # Errors
    /// The system's `fcntl` error, or the poller's.
    ///
    /// # Panics
    /// Outside a spindle-rt runtime (`block_on` or one of its tasks).
    #[track_caller]
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        let reg = Registration::new(socket.as_raw_fd())?;
        Ok(UdpSocket { reg, socket })
    }

    /// Takes the socket out of the runtime's poller and returns it, still
    /// bound (and connected, if it was) and still **non-blocking**: call
    /// `set_nonblocking(false)` before blocking calls on it. Datagrams that
    /// arrive meanwhile wait in the kernel's queue.
    ///
    /// # Errors
    /// None: the `Result` is tokio's signature, kept so that ported code
    /// compiles.
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        let UdpSocket { reg, socket } = self;
        drop(reg);
        Ok(socket)
    }
}
