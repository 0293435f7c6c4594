//! The readiness API of [`TcpStream`] and [`UnixStream`] (tokio's): wait
//! with [`ready`](TcpStream::ready), [`readable`](TcpStream::readable) or
//! [`writable`](TcpStream::writable), then make non-blocking attempts with
//! [`try_read`](TcpStream::try_read), [`try_write`](TcpStream::try_write),
//! their vectored forms, or [`try_io`](TcpStream::try_io) for a call of your
//! own. All take `&self`, so one task can wait for reads and writes at once
//! (`ready(Interest::READABLE | Interest::WRITABLE)`) without splitting the
//! stream.
//!
//! A `try_*` call is one attempt: it always makes the system call (the
//! poll and select backends only fill the readiness latch while a task
//! waits, and a new socket is writable before the driver has said so, so an
//! empty latch is no proof of "not ready"; tokio answers `WouldBlock`
//! without trying, we never report a `WouldBlock` the kernel did not). On
//! `WouldBlock` it clears the readiness latched before the call, named by
//! the latch's tick, so the next wait sleeps until a new event, and an event
//! that arrived during the attempt (a newer tick) is kept rather than lost.
//! A wait can therefore end without the call then succeeding (another task
//! drained the socket, or the event was stale): loop on `WouldBlock`.

use super::registration::{Registration, Wait};
use super::sys;
use super::{TcpStream, UnixStream};
use crate::io::{Interest, Ready};
use std::future::poll_fn;
use std::io::{self, IoSlice, IoSliceMut, Read};
use std::os::fd::AsRawFd;
use std::task::{ready, Context, Poll};

/// Waits on `reg` for `interest`; the ready flags.
async fn wait(reg: &Registration, interest: Interest) -> io::Result<Ready> {
    let mut w = reg.waiter();
    poll_fn(|cx| poll_ready(reg, cx, Some(&mut w), interest)).await
}

/// Polls `reg` for `interest`: the ready flags, or `Pending` with `cx`'s
/// waker parked (as `w` says) in each direction `interest` names. Shared with the split
/// halves, which wait on their stream's one registration through it.
pub(super) fn poll_ready(
    reg: &Registration,
    cx: &mut Context<'_>,
    w: Wait<'_, '_>,
    interest: Interest,
) -> Poll<io::Result<Ready>> {
    let event = ready!(reg.poll_ready_io(cx, w, interest))?;
    Poll::Ready(Ok(event.ready()))
}

/// Polls `reg` for `interest`, dropping the event.
fn poll_wait(reg: &Registration, cx: &mut Context<'_>, interest: Interest) -> Poll<io::Result<()>> {
    ready!(reg.poll_ready_io(cx, None, interest))?;
    Poll::Ready(Ok(()))
}

impl TcpStream {
    /// Waits until the stream is ready for some of `interest` and returns
    /// the flags that are: readable, writable, read-closed (the peer shut
    /// down its side), write-closed, error. Returns at once while the latch
    /// holds such readiness.
    ///
    /// Readiness can be stale: a `try_read` after a `readable` answer may
    /// still say `WouldBlock` (and clears the readiness, so the next wait
    /// sleeps). Several tasks may wait at once; an event wakes them all.
    ///
    /// # Errors
    /// An error if the runtime shut the stream down.
    ///
    /// ```
    /// use spindle_rt::io::Interest;
    /// use spindle_rt::net::{TcpListener, TcpStream};
    /// use std::io;
    /// use std::net::Shutdown;
    ///
    /// let rt = spindle_rt::Builder::new_current_thread().build()?;
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (conn, _) = listener.accept().await?;
    ///
    ///     // Write once the socket can take it.
    ///     loop {
    ///         client.writable().await?;
    ///         match client.try_write(b"ping") {
    ///             Ok(n) => break assert_eq!(n, 4),
    ///             Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
    ///             Err(e) => return Err(e),
    ///         }
    ///     }
    ///     client.shutdown_std(Shutdown::Write)?;
    ///
    ///     // Read to the end of stream, waiting whenever nothing is there.
    ///     let mut got = Vec::new();
    ///     let mut buf = [0; 16];
    ///     loop {
    ///         let ready = conn.ready(Interest::READABLE).await?;
    ///         assert!(ready.is_readable() || ready.is_read_closed());
    ///         match conn.try_read(&mut buf) {
    ///             Ok(0) => break,
    ///             Ok(n) => got.extend_from_slice(&buf[..n]),
    ///             Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
    ///             Err(e) => return Err(e),
    ///         }
    ///     }
    ///     assert_eq!(got, b"ping");
    ///     Ok(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        wait(&self.reg, interest).await
    }

    /// Waits until the stream is readable (or read-closed, or in error):
    /// [`ready`](Self::ready) for [`Interest::READABLE`], ignoring the flags.
    ///
    /// # Errors
    /// As [`ready`](Self::ready).
    pub async fn readable(&self) -> io::Result<()> {
        wait(&self.reg, Interest::READABLE).await.map(drop)
    }

    /// Waits until the stream is writable (or write-closed, or in error).
    ///
    /// # Errors
    /// As [`ready`](Self::ready).
    pub async fn writable(&self) -> io::Result<()> {
        wait(&self.reg, Interest::WRITABLE).await.map(drop)
    }

    /// Polls for read readiness: `Ready(Ok(()))` while the latch holds it;
    /// otherwise stores `cx`'s waker (only the most recent poll's waker for
    /// reads is kept, shared with [`poll_read`](Self::poll_read)) and
    /// returns `Pending`.
    ///
    /// # Errors
    /// An error if the runtime shut the stream down.
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_wait(&self.reg, cx, Interest::READABLE)
    }

    /// Polls for write readiness, as [`poll_read_ready`](Self::poll_read_ready)
    /// does for reads.
    ///
    /// # Errors
    /// An error if the runtime shut the stream down.
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_wait(&self.reg, cx, Interest::WRITABLE)
    }

    /// Reads what has arrived into `buf`, without waiting. `Ok(0)` means
    /// the peer closed its side (or `buf` is empty).
    ///
    /// # Errors
    /// `WouldBlock` when nothing is there (see the [`ready`](Self::ready)
    /// loop); the system's error (`ConnectionReset`, ...); an error if the
    /// runtime shut the stream down.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let fd = self.socket.as_raw_fd();
        self.reg.try_io(Interest::READABLE, || sys::recv_stream(fd, buf))
    }

    /// Reads what has arrived into `bufs`, in order (`readv`), without
    /// waiting.
    ///
    /// # Errors
    /// As [`try_read`](Self::try_read).
    pub fn try_read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        let socket = &self.socket;
        self.reg.try_io(Interest::READABLE, || (&mut &*socket).read_vectored(bufs))
    }

    /// Writes what the socket takes of `buf` now, without waiting; returns
    /// how many bytes. Sent with `MSG_NOSIGNAL`: a closed peer is
    /// `BrokenPipe`, never `SIGPIPE`.
    ///
    /// # Errors
    /// `WouldBlock` when the send buffer is full; the system's error
    /// (`BrokenPipe`, ...); an error if the runtime shut the stream down.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        let fd = self.socket.as_raw_fd();
        self.reg.try_io(Interest::WRITABLE, || sys::send(fd, buf))
    }

    /// Writes what the socket takes of `bufs`, in order, as one gathered
    /// write (`sendmsg` with `MSG_NOSIGNAL`), without waiting.
    ///
    /// # Errors
    /// As [`try_write`](Self::try_write).
    pub fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let fd = self.socket.as_raw_fd();
        self.reg.try_io(Interest::WRITABLE, || sys::send_vectored(fd, bufs))
    }

    /// Runs `f`, a non-blocking call of your own on this stream's
    /// descriptor (a `recv` with flags, `sendfile(2)`), as one attempt: calls
    /// `f` and, on `WouldBlock`, clears the readiness latched for `interest`
    /// before the call by its tick. Unlike tokio's, it calls `f` even with
    /// nothing latched, so it never answers a `WouldBlock` the kernel did
    /// not give (see the [`ready`](Self::ready) docs). `f` must not block and
    /// must report `WouldBlock` when the kernel would have made it wait, or
    /// the next wait may sleep on a descriptor that is ready.
    ///
    /// # Errors
    /// What `f` returns; an error if the runtime
    /// shut the stream down.
    pub fn try_io<R>(&self, interest: Interest, f: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        self.reg.try_io(interest, f)
    }
}

impl UnixStream {
    /// Waits until the stream is ready for some of `interest`; as
    /// [`TcpStream::ready`].
    ///
    /// # Errors
    /// An error if the runtime shut the stream down.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        wait(&self.reg, interest).await
    }

    /// Waits until the stream is readable; as [`TcpStream::readable`].
    ///
    /// # Errors
    /// As [`ready`](Self::ready).
    pub async fn readable(&self) -> io::Result<()> {
        wait(&self.reg, Interest::READABLE).await.map(drop)
    }

    /// Waits until the stream is writable; as [`TcpStream::writable`].
    ///
    /// # Errors
    /// As [`ready`](Self::ready).
    pub async fn writable(&self) -> io::Result<()> {
        wait(&self.reg, Interest::WRITABLE).await.map(drop)
    }

    /// Polls for read readiness; as [`TcpStream::poll_read_ready`].
    ///
    /// # Errors
    /// An error if the runtime shut the stream down.
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_wait(&self.reg, cx, Interest::READABLE)
    }

    /// Polls for write readiness; as [`TcpStream::poll_write_ready`].
    ///
    /// # Errors
    /// An error if the runtime shut the stream down.
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_wait(&self.reg, cx, Interest::WRITABLE)
    }

    /// Reads what has arrived, without waiting; as [`TcpStream::try_read`].
    ///
    /// # Errors
    /// As [`TcpStream::try_read`].
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let fd = self.socket.as_raw_fd();
        self.reg.try_io(Interest::READABLE, || sys::recv_stream(fd, buf))
    }

    /// Reads what has arrived into `bufs` (`readv`), without waiting; as
    /// [`TcpStream::try_read_vectored`].
    ///
    /// # Errors
    /// As [`TcpStream::try_read`].
    pub fn try_read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        let socket = &self.socket;
        self.reg.try_io(Interest::READABLE, || (&mut &*socket).read_vectored(bufs))
    }

    /// Writes what the socket takes now (`send` with `MSG_NOSIGNAL`),
    /// without waiting; as [`TcpStream::try_write`].
    ///
    /// # Errors
    /// As [`TcpStream::try_write`].
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        let fd = self.socket.as_raw_fd();
        self.reg.try_io(Interest::WRITABLE, || sys::send(fd, buf))
    }

    /// One gathered write (`sendmsg` with `MSG_NOSIGNAL`), without
    /// waiting; as [`TcpStream::try_write_vectored`].
    ///
    /// # Errors
    /// As [`TcpStream::try_write`].
    pub fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let fd = self.socket.as_raw_fd();
        self.reg.try_io(Interest::WRITABLE, || sys::send_vectored(fd, bufs))
    }

    /// Runs `f`, a non-blocking call of your own on this socket's
    /// descriptor (`recvmsg(2)` with `SCM_RIGHTS`, say), as one attempt;
    /// as [`TcpStream::try_io`].
    ///
    /// # Errors
    /// As [`TcpStream::try_io`].
    pub fn try_io<R>(&self, interest: Interest, f: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        self.reg.try_io(interest, f)
    }
}
