//! tokio's readiness API on the split halves: `ready`, `readable` and
//! `try_read` (and `try_read_vectored`) on the read halves, `ready`,
//! `writable` and `try_write` (and `try_write_vectored`) on the write
//! halves, the two addresses on all four, and `peek` / `poll_peek` on the
//! TCP read halves.
//!
//! Nothing here waits or tries on its own: every method goes to the one
//! stream the halves share, so the halves keep the stream's single
//! registration with the runtime's driver (no second `epoll_ctl`, no second
//! latch) and its rules: a `try_*` call always makes the system call and,
//! on `WouldBlock`, clears the readiness latched before it by the latch's
//! tick; a wait returns at once while the latch holds readiness for it. The
//! latch ([`ScheduledIo`](crate::io::ScheduledIo)) keeps its waiters per
//! direction, so a task parked in the read half's `readable` and another
//! parked in the write half's `writable` sit in different slots: a read
//! event wakes the first, a write event the second, and neither wake-up
//! can be taken by the other task.

use super::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, SplitStream, WriteHalf};
use crate::io::{Interest, Ready};
use crate::net::{TcpStream, UnixStream};
use std::future::poll_fn;
use std::io::{self, IoSlice, IoSliceMut};
use std::task::{Context, Poll};

/// `ready`, shared by all four halves.
macro_rules! ready_method {
    ($usual:literal) => {
        /// Waits until the stream is ready for some of `interest` and
        /// returns the flags that are (readable, writable, read-closed,
        /// write-closed, error), as the whole stream's `ready` does: the
        /// wait is on the stream's one registration, parked in the waker
        /// slot of each direction `interest` names, so it neither takes nor
        /// loses a wake-up meant for a task waiting through the other half.
        /// Returns at once while the latch holds such readiness.
        #[doc = concat!("Usually paired with ", $usual, "; any interest may be asked, as with tokio.")]
        ///
        /// Readiness can be stale: loop on `WouldBlock`. Cancel safe: a
        /// dropped wait consumes nothing.
        ///
        /// # Errors
        /// An error if the runtime shut the stream down.
        pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
            let inner = &*self.inner;
            let mut w = inner.waiter_shared();
            poll_fn(|cx| inner.poll_ready_shared(cx, Some(&mut w), interest)).await
        }
    };
}

/// The readiness methods of a read half.
macro_rules! read_ready_methods {
    () => {
        ready_method!("[`try_read`](Self::try_read)");

        /// Waits until the stream is readable (or read-closed, or in
        /// error): [`ready`](Self::ready) for [`Interest::READABLE`],
        /// ignoring the flags. Parks in the read direction's slot only, so
        /// the write half's waiters are never disturbed.
        ///
        /// # Errors
        /// As [`ready`](Self::ready).
        pub async fn readable(&self) -> io::Result<()> {
            self.ready(Interest::READABLE).await.map(drop)
        }

        /// Reads what has arrived into `buf`, without waiting; `Ok(0)`
        /// means the peer closed its side (or `buf` is empty). One attempt:
        /// the system call is always made, and a `WouldBlock` clears the
        /// read readiness latched before it (by its tick), so the next
        /// [`readable`](Self::readable) sleeps until new data.
        ///
        /// # Errors
        /// `WouldBlock` when nothing is there; the system's error
        /// (`ConnectionReset`, ...); an error if the runtime shut the stream
        /// down.
        pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
            self.inner.try_read_shared(buf)
        }

        /// Reads what has arrived into `bufs`, in order (`readv`), without
        /// waiting; as [`try_read`](Self::try_read).
        ///
        /// # Errors
        /// As [`try_read`](Self::try_read).
        pub fn try_read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
            self.inner.try_read_vectored_shared(bufs)
        }
    };
}

/// The readiness methods of a write half.
macro_rules! write_ready_methods {
    () => {
        ready_method!("[`try_write`](Self::try_write)");

        /// Waits until the stream is writable (or write-closed, or in
        /// error): [`ready`](Self::ready) for [`Interest::WRITABLE`],
        /// ignoring the flags. Parks in the write direction's slot only.
        ///
        /// # Errors
        /// As [`ready`](Self::ready).
        pub async fn writable(&self) -> io::Result<()> {
            self.ready(Interest::WRITABLE).await.map(drop)
        }

        /// Writes what the socket takes of `buf` now, without waiting;
        /// returns how many bytes. Sent with `MSG_NOSIGNAL` (a closed peer
        /// is `BrokenPipe`, never `SIGPIPE`). One attempt: a `WouldBlock`
        /// clears the write readiness latched before it (by its tick), so
        /// the next [`writable`](Self::writable) sleeps until the peer
        /// reads.
        ///
        /// # Errors
        /// `WouldBlock` when the send buffer is full; the system's error
        /// (`BrokenPipe`, ...); an error if the runtime shut the stream
        /// down.
        pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
            self.inner.try_write_shared(buf)
        }

        /// Writes what the socket takes of `bufs`, in order, as one
        /// gathered write (`sendmsg` with `MSG_NOSIGNAL`), without waiting;
        /// as [`try_write`](Self::try_write).
        ///
        /// # Errors
        /// As [`try_write`](Self::try_write).
        pub fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            self.inner.try_write_vectored_shared(bufs)
        }
    };
}

impl<S: SplitStream> ReadHalf<'_, S> {
    read_ready_methods!();
}

impl<S: SplitStream> OwnedReadHalf<S> {
    read_ready_methods!();
}

impl<S: SplitStream> WriteHalf<'_, S> {
    write_ready_methods!();
}

impl<S: SplitStream> OwnedWriteHalf<S> {
    write_ready_methods!();
}

/// `peer_addr` and `local_addr` of a half, for a stream whose addresses
/// are `$addr`.
macro_rules! addr_methods {
    ($addr:ty) => {
        /// The peer's address: the stream's own `peer_addr` (a
        /// `getpeername` on the shared socket).
        ///
        /// # Errors
        /// The system's `getpeername` error (`NotConnected`, ...).
        pub fn peer_addr(&self) -> io::Result<$addr> {
            self.inner.peer_addr()
        }

        /// This end's address: the stream's own `local_addr` (a
        /// `getsockname` on the shared socket).
        ///
        /// # Errors
        /// The system's `getsockname` error.
        pub fn local_addr(&self) -> io::Result<$addr> {
            self.inner.local_addr()
        }
    };
}

/// `peek` and `poll_peek` of a TCP read half.
macro_rules! peek_methods {
    () => {
        /// Reads into `buf` without taking the bytes out of the socket
        /// (`MSG_PEEK`): the next read or peek returns them again. Waits
        /// in the read direction until at least one byte is there; `Ok(0)`
        /// means the peer closed its side. See [`TcpStream::peek`].
        ///
        /// # Errors
        /// As [`TcpStream::peek`].
        pub async fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.inner.peek(buf).await
        }

        /// Polls a peek into `buf`: `Ready` with how many bytes were copied
        /// (still queued), or `Pending` with `cx`'s waker parked among the
        /// stream's readers; see [`TcpStream::poll_peek`].
        ///
        /// # Errors
        /// As [`TcpStream::peek`].
        pub fn poll_peek(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
            self.inner.poll_peek(cx, buf)
        }
    };
}

impl ReadHalf<'_, TcpStream> {
    peek_methods!();
    addr_methods!(std::net::SocketAddr);
}

impl OwnedReadHalf<TcpStream> {
    peek_methods!();
    addr_methods!(std::net::SocketAddr);
}

impl WriteHalf<'_, TcpStream> {
    addr_methods!(std::net::SocketAddr);
}

impl OwnedWriteHalf<TcpStream> {
    addr_methods!(std::net::SocketAddr);
}

impl ReadHalf<'_, UnixStream> {
    addr_methods!(std::os::unix::net::SocketAddr);
}

impl OwnedReadHalf<UnixStream> {
    addr_methods!(std::os::unix::net::SocketAddr);
}

impl WriteHalf<'_, UnixStream> {
    addr_methods!(std::os::unix::net::SocketAddr);
}

impl OwnedWriteHalf<UnixStream> {
    addr_methods!(std::os::unix::net::SocketAddr);
}
