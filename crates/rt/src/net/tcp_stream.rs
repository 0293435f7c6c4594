//! [`TcpListener`] and [`TcpStream`].

use super::registration::{poll_write_all, Registration, Wait};
use super::sys;
use crate::io::Direction;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::task::{ready, Context, Poll};

/// Tries `f` on each of `addrs` in turn, returning the first success or
/// the last error (`InvalidInput` if there is no address), as tokio does.
pub(super) fn each_addr<T>(
    addrs: Vec<SocketAddr>,
    mut f: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last = None;
    for a in addrs {
        match f(a) {
            Ok(t) => return Ok(t),
            Err(e) => last = Some(e),
        }
    }
    Err(last
        .unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "could not resolve to any address")))
}

/// A TCP socket listening for connections, registered with the current
/// runtime's loop.
///
/// Made by [`bind`](TcpListener::bind); connections come from
/// [`accept`](TcpListener::accept). Dropping it stops its watcher and closes
/// the socket. `Send + Sync`: it may move between tasks and threads.
///
/// ```
/// use spindle_rt::net::{TcpListener, TcpStream};
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let client = spindle_rt::spawn_local(async move {
///         let mut s = TcpStream::connect(addr).await?;
///         s.write_all(b"hi").await
///     });
///     let (mut conn, _peer) = listener.accept().await?;
///     let mut buf = [0; 2];
///     let mut got = 0;
///     while got < 2 {
///         got += conn.read(&mut buf[got..]).await?;
///     }
///     assert_eq!(&buf, b"hi");
///     client.await.unwrap()
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TcpListener {
    /// Dropped before `socket`: the watcher leaves the poller before the
    /// descriptor closes.
    pub(super) reg: Registration,
    pub(super) socket: std::net::TcpListener,
}

impl TcpListener {
    /// Binds a non-blocking, close-on-exec listening socket with
    /// `SO_REUSEADDR` and a backlog of 1024 to the first of `addr`'s
    /// addresses that works, and registers it with the current runtime.
    ///
    /// Async, as tokio's is: a literal address (`"127.0.0.1:0"`, a
    /// `SocketAddr`) is used at once, a host name (`"localhost:8080"`) is
    /// first resolved on the blocking pool, as in
    /// [`TcpStream::connect`]. Outside a runtime, bind a
    /// [`std::net::TcpListener`] and adopt it inside with
    /// [`from_std`](Self::from_std).
    ///
    /// # Errors
    /// The system's error for the last address tried (`AddrInUse`,
    /// `PermissionDenied`, ...), the resolver's error, or `InvalidInput`
    /// if `addr` resolves to no address.
    ///
    /// # Panics
    /// When polled outside a spindle-rt runtime (`block_on` or one of its
    /// tasks).
    pub async fn bind(addr: impl super::ToSocketAddrs) -> io::Result<TcpListener> {
        let socket = each_addr(super::addr::resolve(addr).await?, |a| {
            let fd = sys::socket_for(&a)?;
            sys::set_opt(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
            sys::bind(fd.as_raw_fd(), &sys::SockAddr::inet(a))?;
            sys::listen(fd.as_raw_fd(), sys::BACKLOG)?;
            Ok(fd)
        })?;
        TcpListener::from_listening(socket)
    }

    /// Registers a socket that is already listening (from
    /// [`TcpSocket::listen`](super::TcpSocket::listen)).
    pub(crate) fn from_listening(fd: OwnedFd) -> io::Result<TcpListener> {
        let reg = Registration::new(fd.as_raw_fd())?;
        Ok(TcpListener { reg, socket: std::net::TcpListener::from(fd) })
    }

    /// Waits for a connection and returns it, registered with the runtime,
    /// with the peer's address.
    ///
    /// # Errors
    /// The system's `accept4` error (`EMFILE` when out of descriptors, ...),
    /// or an error if the runtime shut the listener down.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let mut w = self.reg.waiter();
        poll_fn(|cx| self.poll_accept_by(cx, Some(&mut w))).await
    }

    /// Polls for a connection: `Ready` with it (registered with the
    /// runtime) and the peer's address, or `Pending` with `cx`'s waker
    /// stored (only the most recent poll's waker is kept). The building
    /// block of [`accept`](Self::accept), for a hand-written future or a
    /// `Stream` of connections.
    ///
    /// # Errors
    /// As [`accept`](Self::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        self.poll_accept_by(cx, None)
    }

    /// [`poll_accept`](Self::poll_accept), waiting as `w` says.
    fn poll_accept_by(
        &self,
        cx: &mut Context<'_>,
        w: Wait<'_, '_>,
    ) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let fd = self.socket.as_raw_fd();
        let (conn, peer) = ready!(self.reg.poll_io(cx, w, Direction::Read, || sys::accept(fd)))?;
        Poll::Ready(TcpStream::from_connected(conn).map(|stream| (stream, peer)))
    }

    /// Sets `IP_TTL`, the time-to-live of the packets the listener's
    /// socket sends (accepted connections inherit it).
    ///
    /// # Errors
    /// The system's `setsockopt` error.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.socket.set_ttl(ttl)
    }

    /// The listener's `IP_TTL`.
    ///
    /// # Errors
    /// The system's `getsockopt` error.
    pub fn ttl(&self) -> io::Result<u32> {
        self.socket.ttl()
    }

    /// The address the listener is bound to (with the port the system
    /// chose, for port 0).
    ///
    /// # Errors
    /// The system's `getsockname` error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener").field("fd", &self.socket.as_raw_fd()).finish_non_exhaustive()
    }
}

/// A TCP connection, registered with the current runtime's loop.
///
/// Made by [`connect`](TcpStream::connect) or
/// [`TcpListener::accept`]. Reads and writes take `&mut self`: one reader
/// and one writer at a time (split the stream to read and write from
/// different tasks). Dropping it stops its watcher and closes the socket; a task
/// waiting on it can only be the one that owns it, so "dropped while
/// waiting" means the waiting task was cancelled (aborted, or its runtime
/// dropped). `Send + Sync`: it may move between tasks and threads.
///
/// ```
/// use spindle_rt::net::{TcpListener, TcpStream};
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     spindle_rt::spawn_local(async move {
///         // An echo server for one connection.
///         let (mut conn, _) = listener.accept().await?;
///         let mut buf = [0; 1024];
///         loop {
///             let n = conn.read(&mut buf).await?;
///             if n == 0 {
///                 return Ok::<(), std::io::Error>(());
///             }
///             conn.write_all(&buf[..n]).await?;
///         }
///     });
///     let mut s = TcpStream::connect(addr).await?;
///     s.set_nodelay(true)?;
///     s.write_all(b"ping").await?;
///     s.shutdown().await?;
///     let mut echoed = Vec::new();
///     let mut buf = [0; 16];
///     loop {
///         match s.read(&mut buf).await? {
///             0 => break,
///             n => echoed.extend_from_slice(&buf[..n]),
///         }
///     }
///     assert_eq!(echoed, b"ping");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TcpStream {
    /// Dropped before `socket`: the watcher leaves the poller before the
    /// descriptor closes.
    pub(super) reg: Registration,
    /// Owns the descriptor; reads and writes go through it (`recv`, and
    /// `send` with `MSG_NOSIGNAL`: a write to a reset peer is `EPIPE`, not
    /// a `SIGPIPE`).
    pub(super) socket: std::net::TcpStream,
}

impl TcpStream {
    fn from_connected(fd: OwnedFd) -> io::Result<TcpStream> {
        let reg = Registration::new(fd.as_raw_fd())?;
        Ok(TcpStream { reg, socket: std::net::TcpStream::from(fd) })
    }

    /// Connects to the first of `addr`'s addresses that accepts: starts a
    /// non-blocking connect, waits for writability, and checks `SO_ERROR`.
    ///
    /// A literal address is used as is; a host name (`"localhost:6379"`) is
    /// first resolved on the blocking pool, so that no runtime thread waits
    /// for DNS (see [`lookup_host`](super::lookup_host)).
    ///
    /// # Errors
    /// The last address's error: `ConnectionRefused` when nothing listens,
    /// `TimedOut`, `NetworkUnreachable`, ... Bound the wait with
    /// [`time::timeout`](crate::time::timeout).
    ///
    /// # Panics
    /// Outside a spindle-rt runtime (`block_on` or one of its tasks).
    pub async fn connect(addr: impl super::ToSocketAddrs) -> io::Result<TcpStream> {
        let addrs = super::addr::resolve(addr).await?;
        let mut last = None;
        for a in addrs {
            match TcpStream::connect_one(a).await {
                Ok(s) => return Ok(s),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to")))
    }

    async fn connect_one(addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::connect_fd(sys::socket_for(&addr)?, addr).await
    }

    /// Connects `fd`, a fresh non-blocking TCP socket of `addr`'s family
    /// (perhaps bound and with options set, by
    /// [`TcpSocket`](super::TcpSocket)), to `addr`.
    pub(crate) async fn connect_fd(fd: OwnedFd, addr: SocketAddr) -> io::Result<TcpStream> {
        let connected = sys::connect(fd.as_raw_fd(), &sys::SockAddr::inet(addr))?;
        let stream = TcpStream::from_connected(fd)?;
        if !connected {
            let mut w = stream.reg.waiter();
            poll_fn(|cx| stream.poll_connected(cx, &mut w)).await?;
        }
        Ok(stream)
    }

    /// Ready when the connect started on this socket has finished.
    fn poll_connected(&self, cx: &mut Context<'_>, w: &mut crate::io::Waiter<'_>) -> Poll<io::Result<()>> {
        loop {
            let ev = ready!(self.reg.poll_ready(cx, Some(&mut *w), Direction::Write));
            if let Some(e) = self.socket.take_error()? {
                return Poll::Ready(Err(e));
            }
            match self.socket.peer_addr() {
                Ok(_) => return Poll::Ready(Ok(())),
                // Not connected yet and no error: a spurious event.
                Err(e) if e.kind() == io::ErrorKind::NotConnected && !ev.is_shutdown() => {
                    self.reg.clear_readiness(ev);
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// Reads into `buf`, waiting until something is there; `Ok(0)` means
    /// the peer closed its side (or `buf` is empty).
    ///
    /// # Errors
    /// The system's error (`ConnectionReset`, ...), or an error if the
    /// runtime shut the stream down.
    pub fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        // A poll function rather than an `async fn` (here and in `write`
        // and `write_all`): the compiler inlines its poll into the caller's
        // own state machine, where an `async fn`'s would be one more call,
        // with its own state to enter and leave, on every poll.
        let this = &*self;
        let mut w = this.reg.waiter();
        poll_fn(move |cx| this.poll_read_shared(cx, Some(&mut w), &mut *buf))
    }

    /// Reads exactly `buf.len()` bytes, waiting as they arrive, and returns
    /// that length (as tokio's `read_exact` does).
    ///
    /// # Errors
    /// As [`read`](Self::read); `UnexpectedEof` if the peer closes first
    /// (the bytes read until then are in `buf`, how many is not told).
    pub async fn read_exact(&mut self, mut buf: &mut [u8]) -> io::Result<usize> {
        let len = buf.len();
        while !buf.is_empty() {
            match self.read(buf).await? {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                n => buf = &mut buf[n..],
            }
        }
        Ok(len)
    }

    /// Reads into `buf` without taking the bytes out of the socket
    /// (`MSG_PEEK`): the next read returns them again. Waits until at
    /// least one byte is there; `Ok(0)` means the peer closed its side.
    /// For sniffing a protocol before handing the stream on.
    ///
    /// Unlike a read, a peek that returns less than `buf.len()` leaves the
    /// socket's readiness set: the bytes are still there, and the kernel
    /// will not report them again. Takes `&self`, as tokio's does: a peek
    /// consumes nothing, so it may run beside a read half's or another
    /// task's wait.
    ///
    /// # Errors
    /// As [`read`](Self::read).
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut w = self.reg.waiter();
        poll_fn(|cx| self.poll_peek_by(cx, Some(&mut w), buf)).await
    }

    /// Polls a peek into `buf`: `Ready` with how many bytes were copied
    /// (the bytes stay queued), or `Pending` with `cx`'s waker parked among
    /// the readers' until the socket is readable. A `WouldBlock` from the
    /// kernel clears the read readiness it was based on (by its tick) and
    /// waits again; a short peek clears nothing, for the bytes are still
    /// there. The building block of [`peek`](Self::peek).
    ///
    /// # Errors
    /// As [`read`](Self::read).
    pub fn poll_peek(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_peek_by(cx, None, buf)
    }

    /// [`poll_peek`](Self::poll_peek), waiting as `w` says.
    fn poll_peek_by(&self, cx: &mut Context<'_>, w: Wait<'_, '_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let socket = &self.socket;
        self.reg.poll_io(cx, w, Direction::Read, || socket.peek(buf))
    }

    /// Writes some of `buf`, waiting until the socket takes at least one
    /// byte; returns how many it took.
    ///
    /// # Errors
    /// The system's error (`BrokenPipe` after the peer reset, ...), or an
    /// error if the runtime shut the stream down.
    pub fn write<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        let this = &*self;
        let mut w = this.reg.waiter();
        poll_fn(move |cx| this.poll_write_shared(cx, Some(&mut w), buf))
    }

    /// Writes all of `buf`, waiting as the socket's buffer drains.
    ///
    /// # Errors
    /// As [`write`](Self::write); `WriteZero` if a write took nothing. On
    /// error, an unknown prefix of `buf` has been sent.
    pub fn write_all<'a>(&'a mut self, mut buf: &'a [u8]) -> impl Future<Output = io::Result<()>> + 'a {
        let this = &*self;
        let mut w = this.reg.waiter();
        poll_fn(move |cx| poll_write_all(cx, &mut buf, |cx, b| this.poll_write_shared(cx, Some(&mut w), b)))
    }

    /// Polls a read into `buf`: the building block of [`read`](Self::read)
    /// and of IO trait impls. On `Pending` the task is woken when the
    /// socket becomes readable; no system call besides the `recv` itself.
    ///
    /// # Errors
    /// As [`read`](Self::read).
    pub fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_read_shared(cx, None, buf)
    }

    /// [`poll_read`](Self::poll_read) through a shared reference, for the
    /// split halves: the read direction has its own waker slot, so one
    /// reader may wait while one writer waits.
    ///
    /// The read is `sys::recv_stream` (`recvfrom` through `syscall(2)`):
    /// not `read(2)`, whose VFS layer costs more per call, and not `std`'s,
    /// whose libc `recv` brackets every call with glibc's
    /// thread-cancellation bookkeeping (see [`spindle_poll::socket::recv_stream`]).
    pub(crate) fn poll_read_shared(
        &self,
        cx: &mut Context<'_>,
        w: Wait<'_, '_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let fd = self.socket.as_raw_fd();
        self.reg.poll_stream_io(cx, w, Direction::Read, buf.len(), || sys::recv_stream(fd, buf))
    }

    /// Polls a write of `buf`: the building block of
    /// [`write`](Self::write) and of IO trait impls.
    ///
    /// # Errors
    /// As [`write`](Self::write).
    pub fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_write_shared(cx, None, buf)
    }

    /// [`poll_write`](Self::poll_write) through a shared reference, for
    /// the split halves.
    /// The write is `sys::send` (`MSG_NOSIGNAL`, through `syscall(2)`), for
    /// the reason `poll_read_shared` gives.
    pub(crate) fn poll_write_shared(
        &self,
        cx: &mut Context<'_>,
        w: Wait<'_, '_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let fd = self.socket.as_raw_fd();
        self.reg.poll_stream_io(cx, w, Direction::Write, buf.len(), || sys::send(fd, buf))
    }

    /// Writes some of `bufs`, in order, as one gathered write, waiting
    /// until the socket takes at least one byte; returns how many bytes it
    /// took (which may end inside any buffer).
    ///
    /// Why: a message whose header and body live in different buffers goes
    /// out in one system call (`sendmsg`, the socket form of `writev`)
    /// without first copying them into one buffer, and with `TCP_NODELAY`
    /// in one segment rather than two. The call passes `MSG_NOSIGNAL`, so a
    /// write to a closed peer is `BrokenPipe`, never a `SIGPIPE` that kills
    /// a process which did not ignore it. At most 1024 buffers go per call.
    ///
    /// # Errors
    /// As [`write`](Self::write).
    ///
    /// ```
    /// use spindle_rt::net::{TcpListener, TcpStream};
    /// use std::io::IoSlice;
    ///
    /// let rt = spindle_rt::Builder::new_current_thread().build()?;
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut conn, _) = listener.accept().await?;
    ///     let n = client.write_vectored(&[IoSlice::new(b"head "), IoSlice::new(b"body")]).await?;
    ///     let mut buf = [0; 9];
    ///     let mut got = 0;
    ///     while got < n {
    ///         got += conn.read(&mut buf[got..]).await?;
    ///     }
    ///     assert_eq!(&buf[..n], &b"head body"[..n]);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let this = &*self;
        let mut w = this.reg.waiter();
        poll_fn(|cx| this.poll_write_vectored_shared(cx, Some(&mut w), bufs)).await
    }

    /// Polls a gathered write of `bufs`: the building block of
    /// [`write_vectored`](Self::write_vectored) and of IO trait impls.
    ///
    /// # Errors
    /// As [`write`](Self::write).
    pub fn poll_write_vectored(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored_shared(cx, None, bufs)
    }

    /// [`poll_write_vectored`](Self::poll_write_vectored) through a shared
    /// reference, for the split halves.
    pub(crate) fn poll_write_vectored_shared(
        &self,
        cx: &mut Context<'_>,
        w: Wait<'_, '_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let fd = self.socket.as_raw_fd();
        self.reg.poll_io(cx, w, Direction::Write, || sys::send_vectored(fd, bufs))
    }

    /// Shuts down the write side: the peer reads end of stream, while this
    /// stream can still read. tokio's `AsyncWriteExt::shutdown`, so
    /// `stream.shutdown().await` ports unchanged (tokio's streams have no
    /// `shutdown(how)` to shadow it); it completes at once (`shutdown(2)`
    /// does not block). [`shutdown_std`](Self::shutdown_std) takes a
    /// direction.
    ///
    /// # Errors
    /// The system's error (`NotConnected`, ...).
    pub async fn shutdown(&mut self) -> io::Result<()> {
        self.shutdown_std(Shutdown::Write)
    }

    /// Shuts down the read side, the write side (the peer reads end of
    /// stream), or both, at once; see `shutdown(2)`. (std's
    /// `shutdown(how)`; tokio reaches it through the std socket.)
    ///
    /// # Errors
    /// The system's error (`NotConnected`, ...).
    pub fn shutdown_std(&self, how: Shutdown) -> io::Result<()> {
        self.socket.shutdown(how)
    }

    /// Sets `IP_TTL`, the time-to-live of the packets the stream sends.
    ///
    /// # Errors
    /// The system's `setsockopt` error.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.socket.set_ttl(ttl)
    }

    /// The `IP_TTL` of the packets the stream sends.
    ///
    /// # Errors
    /// The system's `getsockopt` error.
    pub fn ttl(&self) -> io::Result<u32> {
        self.socket.ttl()
    }

    /// Sets `TCP_NODELAY` (no Nagle delay for small writes).
    ///
    /// # Errors
    /// The system's `setsockopt` error.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.socket.set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    /// The system's `getsockopt` error.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.socket.nodelay()
    }

    /// Sets `SO_LINGER`. `Some(Duration::ZERO)` makes closing the stream
    /// (dropping it) *abort* the connection: unsent data is dropped and
    /// the peer gets a reset (`ConnectionReset` on its next read) instead
    /// of end of stream. Other values matter only for blocking sockets;
    /// `None` is the default (close at once, finish sending in the
    /// background). Whole seconds.
    ///
    /// # Errors
    /// The system's `setsockopt` error.
    pub fn set_linger(&self, linger: Option<std::time::Duration>) -> io::Result<()> {
        spindle_poll::socket::set_linger(self.socket.as_raw_fd(), linger)
    }

    /// `SO_LINGER`, as [`set_linger`](Self::set_linger) takes it.
    ///
    /// # Errors
    /// The system's `getsockopt` error.
    pub fn linger(&self) -> io::Result<Option<std::time::Duration>> {
        spindle_poll::socket::linger(self.socket.as_raw_fd())
    }

    /// The peer's address.
    ///
    /// # Errors
    /// `NotConnected`, or the system's `getpeername` error.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.socket.peer_addr()
    }

    /// This end's address.
    ///
    /// # Errors
    /// The system's `getsockname` error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }
}

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream").field("fd", &self.socket.as_raw_fd()).finish_non_exhaustive()
    }
}
