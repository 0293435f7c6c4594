//! [`UnixDatagram`]: datagram sockets in the Unix domain, for messages
//! between processes on one machine.

use super::registration::{Registration, Wait};
use super::sys;
use crate::io::{Direction, Interest};
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

/// A Unix-domain datagram socket (`SOCK_DGRAM`), registered with the
/// current runtime's loop: UDP's API, with paths for addresses.
///
/// # Datagrams, not a stream
///
/// Each send is one message and each receive takes exactly one: two sends
/// of 3 and 5 bytes are two receives of 3 and 5 bytes, never one of 8 and
/// never a part of one. Unlike UDP the transport is reliable and ordered
/// (the kernel copies the message into the receiver's queue or fails the
/// send), so a full queue makes the sender wait rather than drop.
///
/// A message longer than the receive buffer is **cut**, as with
/// [`UdpSocket`](super::UdpSocket#truncation): the buffer is filled, the
/// call returns `buf.len()` and the rest is discarded. Receive into a buffer
/// as large as the largest message expected.
///
/// # Making one
///
/// [`bind`](UnixDatagram::bind) gives the socket a path that others send
/// to (the socket file stays after the socket drops: remove it yourself);
/// [`unbound`](UnixDatagram::unbound) makes one without an address, which
/// can send but not be answered unless it [`connect`](UnixDatagram::connect)s
/// or its peer is connected to it; [`pair`](UnixDatagram::pair) makes two
/// connected to each other. A path starting with a NUL byte names Linux's
/// abstract namespace: no file, gone when the socket closes.
///
/// ```
/// use spindle_rt::net::UnixDatagram;
///
/// let dir = std::env::temp_dir().join(format!("spindle-doc-dgram-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let server_path = dir.join("server.sock");
/// let client_path = dir.join("client.sock");
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let server = UnixDatagram::bind(&server_path)?;
///     let client = UnixDatagram::bind(&client_path)?;
///     // Two sends are two messages: the boundaries are kept.
///     client.send_to(b"one", &server_path).await?;
///     client.send_to(b"three", &server_path).await?;
///     let mut buf = [0; 64];
///     let (n, from) = server.recv_from(&mut buf).await?;
///     assert_eq!(&buf[..n], b"one");
///     assert_eq!(from.as_pathname(), Some(client_path.as_path()));
///     let (n, _) = server.recv_from(&mut buf).await?;
///     assert_eq!(&buf[..n], b"three");
///     // The sender bound a path, so it can be answered.
///     server.send_to(b"ack", from.as_pathname().unwrap()).await?;
///     let n = client.recv(&mut buf).await?;
///     assert_eq!(&buf[..n], b"ack");
///
///     // A connected pair needs no paths.
///     let (a, b) = UnixDatagram::pair()?;
///     a.send(b"ping").await?;
///     let n = b.recv(&mut buf).await?;
///     assert_eq!(&buf[..n], b"ping");
///     Ok::<(), std::io::Error>(())
/// })?;
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Non-blocking attempts
///
/// [`try_send`](UnixDatagram::try_send), [`try_recv`](UnixDatagram::try_recv)
/// and their `_to`/`_from` forms make their system call at once and return
/// `WouldBlock` instead of waiting; pair them with
/// [`readable`](UnixDatagram::readable) and [`writable`](UnixDatagram::writable).
/// A `WouldBlock` clears the readiness the runtime held for that
/// direction, by its tick, for the reasons
/// [`UdpSocket::readable`](super::UdpSocket::readable) gives: without the
/// clear, edge-triggered epoll would leave stale readiness latched and a
/// `readable` / `try_recv` loop would spin; without the tick, an event that
/// arrived during the call would be lost and the loop would sleep through
/// its message.
///
/// # Tasks
///
/// Operations take `&self`, and any number of tasks may share the socket
/// (through an `Arc`) and wait to receive or send at once: an event wakes
/// every waiter in its direction, one of them gets the datagram, and the
/// others find `WouldBlock` and wait again.
pub struct UnixDatagram {
    /// Dropped before `socket`: the watcher leaves the poller before the
    /// descriptor closes.
    reg: Registration,
    /// Owns the descriptor; receives with an address go through std's
    /// `recv_from` (which decodes the Unix address), sends through the
    /// `MSG_NOSIGNAL` wrappers.
    socket: std::os::unix::net::UnixDatagram,
    /// Set by [`shutdown`](UnixDatagram::shutdown) of the read side; see
    /// [`end_of_input`](UnixDatagram::end_of_input).
    read_shut: AtomicBool,
}

impl UnixDatagram {
    /// Registers `fd`, a non-blocking Unix datagram socket.
    #[track_caller]
    fn from_fd(fd: OwnedFd) -> io::Result<UnixDatagram> {
        let reg = Registration::new(fd.as_raw_fd())?;
        let socket = std::os::unix::net::UnixDatagram::from(fd);
        Ok(UnixDatagram { reg, socket, read_shut: AtomicBool::new(false) })
    }

    /// Makes a non-blocking, close-on-exec Unix datagram socket bound to
    /// `path` (creating the socket file), registered with the current
    /// runtime.
    ///
    /// # Errors
    /// `AddrInUse` if `path` exists (a socket file left by an earlier
    /// process included); `InvalidInput` for a path longer than
    /// `sun_path` (107 bytes) or holding a NUL byte; `NotFound`,
    /// `PermissionDenied`, ... from the directory.
    ///
    /// # Panics
    /// Outside a spindle-rt runtime (`block_on` or one of its tasks).
    #[track_caller]
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        let addr = sys::SockAddr::unix(path.as_ref())?;
        let fd = sys::datagram_socket(libc::AF_UNIX)?;
        sys::bind(fd.as_raw_fd(), &addr)?;
        UnixDatagram::from_fd(fd)
    }

    /// Makes a non-blocking, close-on-exec Unix datagram socket with no
    /// address, registered with the current runtime: it can
    /// [`send_to`](Self::send_to) any bound socket, or
    /// [`connect`](Self::connect) to one, but its messages arrive from an
    /// unnamed address that cannot be answered with `send_to`.
    ///
    /// # Errors
    /// The system's `socket` error (`EMFILE`, ...).
    ///
    /// # Panics
    /// Outside a spindle-rt runtime (`block_on` or one of its tasks).
    #[track_caller]
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_fd(sys::datagram_socket(libc::AF_UNIX)?)
    }

    /// Two unnamed sockets connected to each other (`socketpair`), both
    /// registered with the current runtime: a message channel between two
    /// tasks, or to a child process, that keeps message boundaries.
    ///
    /// # Errors
    /// The system's `socketpair` or `fcntl` error (`EMFILE`, ...).
    ///
    /// # Panics
    /// Outside a spindle-rt runtime (`block_on` or one of its tasks).
    #[track_caller]
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = std::os::unix::net::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_std(a)?, UnixDatagram::from_std(b)?))
    }

    /// Sets the default peer, the socket bound at `path`:
    /// [`send`](Self::send) goes to it and [`recv`](Self::recv) takes
    /// messages from it only. Does not wait (there is no handshake).
    ///
    /// # Errors
    /// `NotFound` when nothing is at `path`, `ConnectionRefused` when the
    /// file there is not a bound socket, the system's `EPROTOTYPE` when it
    /// is a stream socket's, `InvalidInput` for a bad path.
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let addr = sys::SockAddr::unix(path.as_ref())?;
        // A datagram connect only records the peer, at once: nothing is
        // ever in progress, so the wrapper's `Ok(false)` can only be an
        // EINTR, and connecting again records the same peer.
        while !sys::connect(self.socket.as_raw_fd(), &addr)? {}
        Ok(())
    }

    /// Sends `buf` as one message to the connected peer, waiting while the
    /// peer's queue is full.
    ///
    /// # Errors
    /// `NotConnected` before [`connect`](Self::connect) (the system says
    /// `ENOTCONN`); `ConnectionRefused` once the peer has closed;
    /// `BrokenPipe` after [`shutdown`](Self::shutdown) of the write side;
    /// the system's `send` error (`EMSGSIZE` for a message larger than the
    /// socket's send buffer, ...).
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        let mut w = self.reg.waiter();
        poll_fn(|cx| self.poll_send_by(cx, Some(&mut w), buf)).await
    }

    /// Polls sending `buf` as one message to the connected peer.
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

    /// Tries to send `buf` as one message to the connected peer, without
    /// waiting.
    ///
    /// # Errors
    /// `WouldBlock` if the peer's queue is full (the runtime's readiness is
    /// then cleared by its tick, see
    /// [Non-blocking attempts](UnixDatagram#non-blocking-attempts));
    /// otherwise as [`send`](Self::send).
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        let fd = self.socket.as_raw_fd();
        self.reg.try_io(Interest::WRITABLE, || sys::send(fd, buf))
    }

    /// Sends `buf` as one message to the socket bound at `target`.
    ///
    /// If that socket's queue is full, the send waits for room. The kernel
    /// wakes a waiting sender that is [connected](Self::connect) to the
    /// receiver when the receiver takes a message; an unconnected sender is
    /// woken only when a message *it* sent is taken, so to send many
    /// messages to one busy receiver, connect to it.
    ///
    /// # Errors
    /// `NotFound` when nothing is at `target`, `ConnectionRefused` when
    /// nothing is bound there, `InvalidInput` for a bad path, `BrokenPipe`
    /// when the receiver shut its read side; the system's `sendto` error
    /// (`EPROTOTYPE` for a stream socket's path, `EMSGSIZE`, ...).
    pub async fn send_to(&self, buf: &[u8], target: impl AsRef<Path>) -> io::Result<usize> {
        let addr = sys::SockAddr::unix(target.as_ref())?;
        let mut w = self.reg.waiter();
        poll_fn(|cx| self.poll_send_to_addr(cx, Some(&mut w), buf, &addr)).await
    }

    /// Polls sending `buf` as one message to the socket bound at `target`.
    ///
    /// # Errors
    /// As [`send_to`](Self::send_to).
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: impl AsRef<Path>,
    ) -> Poll<io::Result<usize>> {
        match sys::SockAddr::unix(target.as_ref()) {
            Ok(addr) => self.poll_send_to_addr(cx, None, buf, &addr),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_send_to_addr(
        &self,
        cx: &mut Context<'_>,
        w: Wait<'_, '_>,
        buf: &[u8],
        addr: &sys::SockAddr,
    ) -> Poll<io::Result<usize>> {
        let fd = self.socket.as_raw_fd();
        self.reg.poll_io(cx, w, Direction::Write, || sys::send_to(fd, buf, addr))
    }

    /// Tries to send `buf` as one message to the socket bound at `target`,
    /// without waiting.
    ///
    /// # Errors
    /// `WouldBlock` if that socket's queue is full (readiness cleared by
    /// tick, as for [`try_send`](Self::try_send)); otherwise as
    /// [`send_to`](Self::send_to).
    pub fn try_send_to(&self, buf: &[u8], target: impl AsRef<Path>) -> io::Result<usize> {
        let fd = self.socket.as_raw_fd();
        let addr = sys::SockAddr::unix(target.as_ref())?;
        self.reg.try_io(Interest::WRITABLE, || sys::send_to(fd, buf, &addr))
    }

    /// Receives one message into `buf`, waiting for one; returns its
    /// length, **cut to `buf.len()`** (see
    /// [Datagrams, not a stream](UnixDatagram#datagrams-not-a-stream)).
    /// On a connected socket only the peer's messages arrive.
    ///
    /// # Errors
    /// The system's `recv` error, or an error if the runtime shut the
    /// socket down. After [`shutdown`](Self::shutdown) of the read side it
    /// returns `Ok(0)` once the queue is empty, as it does for an empty
    /// message.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut w = self.reg.waiter();
        poll_fn(|cx| self.poll_recv_by(cx, Some(&mut w), buf)).await
    }

    /// Polls receiving one message.
    ///
    /// # Errors
    /// As [`recv`](Self::recv).
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_recv_by(cx, None, buf)
    }

    /// [`poll_recv`](Self::poll_recv), waiting as `w` says.
    fn poll_recv_by(&self, cx: &mut Context<'_>, w: Wait<'_, '_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let fd = self.socket.as_raw_fd();
        self.reg.poll_io(cx, w, Direction::Read, || self.end_of_input(sys::recv(fd, buf, 0), || 0))
    }

    /// Tries to receive one message into `buf`, without waiting; returns
    /// its length, cut to `buf.len()`.
    ///
    /// # Errors
    /// `WouldBlock` if no message is queued (the runtime's readiness is
    /// then cleared by its tick, see
    /// [Non-blocking attempts](UnixDatagram#non-blocking-attempts));
    /// otherwise as [`recv`](Self::recv).
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        let fd = self.socket.as_raw_fd();
        self.reg.try_io(Interest::READABLE, || self.end_of_input(sys::recv(fd, buf, 0), || 0))
    }

    /// Receives one message into `buf`, waiting for one; returns its
    /// length, **cut to `buf.len()`**, and the sender's address: its path
    /// if it was [bound](Self::bind), unnamed otherwise.
    ///
    /// # Errors
    /// As [`recv`](Self::recv).
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let mut w = self.reg.waiter();
        poll_fn(|cx| self.poll_recv_from_by(cx, Some(&mut w), buf)).await
    }

    /// Polls receiving one message and its sender's address.
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
        self.reg.poll_io(cx, w, Direction::Read, || self.end_of_input(self.socket.recv_from(buf), unnamed))
    }

    /// Tries to receive one message and its sender's address, without
    /// waiting.
    ///
    /// # Errors
    /// `WouldBlock` if no message is queued (readiness cleared by tick, as
    /// for [`try_recv`](Self::try_recv)); otherwise as
    /// [`recv_from`](Self::recv_from).
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.reg.try_io(Interest::READABLE, || self.end_of_input(self.socket.recv_from(buf), unnamed))
    }

    /// Waits until the socket may have a message to receive, for a
    /// [`try_recv`](Self::try_recv) loop. The readiness may be stale: the
    /// `try_*` call can still say `WouldBlock`, and then clears it (see
    /// [Non-blocking attempts](UnixDatagram#non-blocking-attempts)).
    ///
    /// # Errors
    /// An error if the runtime shut the socket down.
    pub async fn readable(&self) -> io::Result<()> {
        let mut w = self.reg.waiter();
        poll_fn(|cx| self.poll_recv_ready_by(cx, Some(&mut w))).await
    }

    /// Waits until the socket may take a message, for a
    /// [`try_send`](Self::try_send) loop; as [`readable`](Self::readable),
    /// the readiness may be stale.
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

    /// The address the socket is bound to (unnamed for
    /// [`unbound`](Self::unbound) and [`pair`](Self::pair) sockets).
    ///
    /// # Errors
    /// The system's `getsockname` error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    /// `NotConnected` before [`connect`](Self::connect).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.socket.peer_addr()
    }

    /// Takes the socket's pending error (`SO_ERROR`), clearing it.
    ///
    /// # Errors
    /// The system's `getsockopt` error (not the pending one, which is the
    /// `Ok(Some(_))` value).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.socket.take_error()
    }

    /// Shuts down the read side, the write side or both; see
    /// `shutdown(2)`.
    ///
    /// After the read side: receives take the messages already queued,
    /// then return `Ok(0)` at once (from an unnamed address), a waiting
    /// receive included; sends *to* this socket fail with `BrokenPipe`.
    /// After the write side: sends fail with `BrokenPipe`. Unlike a
    /// stream's, a datagram socket's shutdown sends the peer no
    /// end-of-file: its receives keep waiting.
    ///
    /// # Errors
    /// The system's `shutdown` error.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        let read = matches!(how, Shutdown::Read | Shutdown::Both);
        // Set before the call: the kernel's wake-up for the shutdown may
        // reach a waiting receive at once, and it must see the flag.
        if read {
            self.read_shut.store(true, Ordering::Release);
        }
        let r = self.socket.shutdown(how);
        if r.is_err() && read {
            self.read_shut.store(false, Ordering::Release);
        }
        r
    }

    /// A receive's result, with a kernel quirk smoothed over. After
    /// `shutdown(SHUT_RD)`, a non-blocking receive on an empty Unix
    /// datagram socket says `EAGAIN` (a blocking one returns 0), while
    /// poll reports the socket readable and read-closed for good: a
    /// receive that waited and retried on `WouldBlock` would spin forever.
    /// Once [`shutdown`](Self::shutdown) closed the read side, an empty
    /// queue is the end of input instead, `eof()`, as a blocking receive
    /// has it.
    fn end_of_input<R>(&self, r: io::Result<R>, eof: impl FnOnce() -> R) -> io::Result<R> {
        match r {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && self.read_shut.load(Ordering::Acquire) => {
                Ok(eof())
            }
            r => r,
        }
    }

    /// Adopts a Unix datagram socket made elsewhere (one end of a
    /// `socketpair` made before `fork`, one received over a Unix socket,
    /// ...): sets it non-blocking and registers it with the current
    /// runtime.
    ///
    /// # Errors
    /// The system's `fcntl` error, or the poller's.
    ///
    /// # Panics
    /// Outside a spindle-rt runtime (`block_on` or one of its tasks).
    #[track_caller]
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        let reg = Registration::new(socket.as_raw_fd())?;
        Ok(UnixDatagram { reg, socket, read_shut: AtomicBool::new(false) })
    }

    /// Takes the socket out of the runtime's poller and returns it, still
    /// bound and connected as it was and still **non-blocking**: call
    /// `set_nonblocking(false)` before blocking calls on it. Messages that
    /// arrive meanwhile wait in the kernel's queue.
    ///
    /// # Errors
    /// None: the `Result` is tokio's signature, kept so that ported code
    /// compiles.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        let UnixDatagram { reg, socket, .. } = self;
        drop(reg);
        Ok(socket)
    }
}

/// The end of input of [`UnixDatagram::recv_from`] after the read side was
/// shut down: no bytes, from an unnamed address (what a blocking
/// `recvfrom` reports then).
fn unnamed() -> (usize, SocketAddr) {
    // An empty pathname makes the unnamed address (no byte of `sun_path`
    // in use); `from_pathname` fails only for a path too long or holding a
    // NUL byte.
    let addr = SocketAddr::from_pathname("").expect("the empty pathname is the unnamed address");
    (0, addr)
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

impl AsFd for UnixDatagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram").field("fd", &self.socket.as_raw_fd()).finish_non_exhaustive()
    }
}
