//! [`UnixListener`] and [`UnixStream`]: stream sockets in the Unix domain,
//! for processes on one machine.

use super::registration::{poll_write_all, Registration, Wait};
use super::sys;
use crate::io::Direction;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::task::{ready, Context, Poll};

/// A Unix-domain socket listening for connections at a path, registered
/// with the current runtime's loop.
///
/// [`bind`](UnixListener::bind) makes the socket file; it stays after the
/// listener drops (remove it yourself), and binding to a path that exists
/// fails with `AddrInUse`, whether or not anything listens there.
///
/// ```
/// use spindle_rt::net::{UnixListener, UnixStream};
///
/// let dir = std::env::temp_dir().join(format!("spindle-doc-unix-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("sock");
/// let _ = std::fs::remove_file(&path);
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let listener = UnixListener::bind(&path)?;
///     let mut client = UnixStream::connect(&path).await?;
///     let (mut conn, _peer) = listener.accept().await?;
///     client.write_all(b"local").await?;
///     let mut buf = [0; 5];
///     let mut got = 0;
///     while got < 5 {
///         got += conn.read(&mut buf[got..]).await?;
///     }
///     assert_eq!(&buf, b"local");
///     Ok::<(), std::io::Error>(())
/// })?;
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixListener {
    /// Dropped before `socket`: the watcher leaves the poller before the
    /// descriptor closes.
    pub(super) reg: Registration,
    socket: std::os::unix::net::UnixListener,
}

impl UnixListener {
    /// Makes a non-blocking, close-on-exec Unix stream socket, binds it to
    /// `path` (creating the socket file) and listens with a backlog of
    /// 1024. A path starting with a NUL byte names Linux's abstract
    /// namespace: no file, gone when the socket closes.
    ///
    /// # Errors
    /// `AddrInUse` if `path` exists; `InvalidInput` for a path longer than
    /// `sun_path` (107 bytes) or holding a NUL byte; `NotFound`,
    /// `PermissionDenied`, ... from the directory.
    ///
    /// # Panics
    /// Outside a spindle-rt runtime (`block_on` or one of its tasks).
    #[track_caller]
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let addr = sys::SockAddr::unix(path.as_ref())?;
        let fd = spindle_poll::socket::socket(libc::AF_UNIX)?;
        sys::bind(fd.as_raw_fd(), &addr)?;
        sys::listen(fd.as_raw_fd(), sys::BACKLOG)?;
        let reg = Registration::new(fd.as_raw_fd())?;
        Ok(UnixListener { reg, socket: std::os::unix::net::UnixListener::from(fd) })
    }

    /// Waits for a connection and returns it, registered with the runtime,
    /// with the peer's address (unnamed, unless the client bound one).
    ///
    /// # Errors
    /// The system's `accept4` error (`EMFILE`, ...), or an error if the
    /// runtime shut the listener down.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let mut w = self.reg.waiter();
        poll_fn(|cx| self.poll_accept_by(cx, Some(&mut w))).await
    }

    /// Polls for a connection: `Ready` with it (registered with the
    /// runtime) and the peer's address, or `Pending` with `cx`'s waker
    /// stored (only the most recent poll's waker is kept). The building
    /// block of [`accept`](Self::accept).
    ///
    /// # Errors
    /// As [`accept`](Self::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        self.poll_accept_by(cx, None)
    }

    /// [`poll_accept`](Self::poll_accept), waiting as `w` says.
    fn poll_accept_by(
        &self,
        cx: &mut Context<'_>,
        w: Wait<'_, '_>,
    ) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let fd = self.socket.as_raw_fd();
        let (conn, _) = ready!(self.reg.poll_io(cx, w, Direction::Read, || sys::accept_any(fd)))?;
        let stream = UnixStream::from_connected(conn)?;
        let peer = stream.peer_addr()?;
        Poll::Ready(Ok((stream, peer)))
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    /// The system's `getsockname` error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }
}

/// A Unix-domain stream connection, registered with the current runtime's
/// loop: the same API as [`TcpStream`](super::TcpStream) (reads, writes,
/// gathered writes, [`split`](UnixStream::split), the futures-io traits).
/// Writes use `send` with `MSG_NOSIGNAL`, so a closed peer is `BrokenPipe`,
/// never `SIGPIPE`.
///
/// ```
/// use spindle_rt::net::UnixStream;
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let (mut a, mut b) = UnixStream::pair()?;
///     a.write_all(b"ping").await?;
///     a.shutdown().await?;
///     let mut got = Vec::new();
///     let mut buf = [0; 8];
///     loop {
///         match b.read(&mut buf).await? {
///             0 => break,
///             n => got.extend_from_slice(&buf[..n]),
///         }
///     }
///     assert_eq!(got, b"ping");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixStream {
    /// Dropped before `socket`: the watcher leaves the poller before the
    /// descriptor closes.
    pub(super) reg: Registration,
    /// Owns the descriptor; reads are `read`, writes `send` with
    /// `MSG_NOSIGNAL` (std's `UnixStream` writes with plain `write`).
    pub(super) socket: std::os::unix::net::UnixStream,
}

impl UnixStream {
    fn from_connected(fd: OwnedFd) -> io::Result<UnixStream> {
        let reg = Registration::new(fd.as_raw_fd())?;
        Ok(UnixStream { reg, socket: std::os::unix::net::UnixStream::from(fd) })
    }

    /// Connects to the listener at `path`, waiting if the connect does not
    /// finish at once.
    ///
    /// # Errors
    /// `NotFound` when nothing is at `path`, `ConnectionRefused` when the
    /// socket file has no listener, `WouldBlock` when the listener's
    /// backlog is full (a Unix connect does not wait for room),
    /// `InvalidInput` for a bad path.
    ///
    /// # Panics
    /// Outside a spindle-rt runtime (`block_on` or one of its tasks).
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let addr = sys::SockAddr::unix(path.as_ref())?;
        let fd = spindle_poll::socket::socket(libc::AF_UNIX)?;
        let connected = sys::connect(fd.as_raw_fd(), &addr)?;
        let stream = UnixStream::from_connected(fd)?;
        if !connected {
            let mut w = stream.reg.waiter();
            poll_fn(|cx| stream.reg.poll_ready(cx, Some(&mut w), Direction::Write)).await;
            if let Some(e) = stream.socket.take_error()? {
                return Err(e);
            }
        }
        Ok(stream)
    }

    /// A connected pair of streams (`socketpair`), both registered with
    /// the current runtime: a channel of bytes between two tasks, or to a
    /// child process.
    ///
    /// # Errors
    /// The system's `socketpair` error (`EMFILE`, ...).
    ///
    /// # Panics
    /// Outside a spindle-rt runtime (`block_on` or one of its tasks).
    #[track_caller]
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = sys::socketpair()?;
        Ok((UnixStream::from_connected(a)?, UnixStream::from_connected(b)?))
    }

    /// Reads into `buf`, waiting until something is there; `Ok(0)` means
    /// the peer closed its side (or `buf` is empty).
    ///
    /// # Errors
    /// The system's error (`ConnectionReset`, ...), or an error if the
    /// runtime shut the stream down.
    pub fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
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

    /// Writes some of `buf`, waiting until the socket takes at least one
    /// byte; returns how many it took.
    ///
    /// # Errors
    /// The system's error (`BrokenPipe` after the peer closed, ...), or an
    /// error if the runtime shut the stream down.
    pub fn write<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        let this = &*self;
        let mut w = this.reg.waiter();
        poll_fn(move |cx| this.poll_write_shared(cx, Some(&mut w), buf))
    }

    /// Writes all of `buf`, waiting as the socket's buffer drains.
    ///
    /// # Errors
    /// As [`write`](Self::write); `WriteZero` if a write took nothing.
    pub fn write_all<'a>(&'a mut self, mut buf: &'a [u8]) -> impl Future<Output = io::Result<()>> + 'a {
        let this = &*self;
        let mut w = this.reg.waiter();
        poll_fn(move |cx| poll_write_all(cx, &mut buf, |cx, b| this.poll_write_shared(cx, Some(&mut w), b)))
    }

    /// Writes some of `bufs` as one gathered write (`sendmsg` with
    /// `MSG_NOSIGNAL`); see [`TcpStream::write_vectored`](super::TcpStream::write_vectored).
    ///
    /// # Errors
    /// As [`write`](Self::write).
    pub async fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let this = &*self;
        let mut w = this.reg.waiter();
        poll_fn(|cx| this.poll_write_vectored_shared(cx, Some(&mut w), bufs)).await
    }

    /// Polls a read into `buf`.
    ///
    /// # Errors
    /// As [`read`](Self::read).
    pub fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_read_shared(cx, None, buf)
    }

    /// Polls a write of `buf`.
    ///
    /// # Errors
    /// As [`write`](Self::write).
    pub fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_write_shared(cx, None, buf)
    }

    /// Polls a gathered write of `bufs`.
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

    pub(crate) fn poll_read_shared(
        &self,
        cx: &mut Context<'_>,
        w: Wait<'_, '_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let fd = self.socket.as_raw_fd();
        self.reg.poll_stream_io(cx, w, Direction::Read, buf.len(), || sys::recv_stream(fd, buf))
    }

    pub(crate) fn poll_write_shared(
        &self,
        cx: &mut Context<'_>,
        w: Wait<'_, '_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let fd = self.socket.as_raw_fd();
        self.reg.poll_stream_io(cx, w, Direction::Write, buf.len(), || sys::send(fd, buf))
    }

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

    /// The peer's address (unnamed for a client that did not bind, and for
    /// either end of a [`pair`](Self::pair)).
    ///
    /// # Errors
    /// The system's `getpeername` error.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.socket.peer_addr()
    }

    /// This end's address (unnamed for a client).
    ///
    /// # Errors
    /// The system's `getsockname` error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener").field("fd", &self.socket.as_raw_fd()).finish_non_exhaustive()
    }
}

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream").field("fd", &self.socket.as_raw_fd()).finish_non_exhaustive()
    }
}
