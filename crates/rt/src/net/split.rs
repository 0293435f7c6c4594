//! Splitting a stream into a read half and a write half, borrowed
//! ([`ReadHalf`], [`WriteHalf`]) or owned ([`OwnedReadHalf`],
//! [`OwnedWriteHalf`]), for [`TcpStream`] and [`UnixStream`].
//!
//! A stream's reads and writes take `&mut self`, so one task cannot read
//! while another writes through the same value. The socket itself allows
//! it: the readiness latch keeps its waiters per direction, so a task
//! waiting to read and a task waiting to write never wake each other. The halves expose exactly that: the read half can only
//! read, the write half can only write, and each waits in its own
//! direction.
//!
//! * [`split`](TcpStream::split) borrows the stream: no allocation, but
//!   both halves live in the scope that borrowed it (two futures joined in
//!   one task, say).
//! * [`into_split`](TcpStream::into_split) moves the stream into an
//!   [`Arc`] shared by the two owned halves, so each can move into a task
//!   of its own. An `Arc`, not an `Rc`: once the stream is `Send` (as on a
//!   multi-thread scheduler) the halves are too, and may run on different
//!   threads. The stream closes when the last half drops;
//!   [`reunite`](OwnedReadHalf::reunite) gives it back whole.
//!
//! Dropping an [`OwnedWriteHalf`] shuts down the write side (the peer reads
//! end of stream) as tokio's does, since the reader alone would otherwise
//! keep the connection half open for ever; [`forget`](OwnedWriteHalf::forget)
//! drops it without that.
//!
//! The halves also carry tokio's readiness API for their direction
//! (`ready`, `readable` or `writable`, `try_read` or `try_write` and their
//! vectored forms), the addresses, and on TCP read halves `peek`; see the
//! `ready` submodule's docs for how they share the stream's registration.

use std::error::Error;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice, IoSliceMut};
use std::net::Shutdown;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::registration::{poll_write_all, Wait};
use super::{ready_api, TcpStream, UnixStream};
use crate::io::{Interest, Ready};

mod ready;

/// The operations a split needs, through a shared reference. Internal:
/// [`SplitStream`] is sealed by it.
mod sealed {
    use crate::io::{Interest, Ready, Waiter};
    use crate::net::registration::Wait;
    use std::io::{self, IoSlice, IoSliceMut};
    use std::net::Shutdown;
    use std::task::{Context, Poll};

    /// A stream whose read and write directions can be driven through
    /// `&self`, one reader and one writer at a time.
    pub trait Sealed {
        /// A place among the stream's waiters for one future's wait.
        fn waiter_shared(&self) -> Waiter<'_>;
        /// Polls a read (the read direction's waker slot).
        fn poll_read_shared(
            &self,
            cx: &mut Context<'_>,
            w: Wait<'_, '_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>>;
        /// Polls a write (the write direction's waker slot).
        fn poll_write_shared(
            &self,
            cx: &mut Context<'_>,
            w: Wait<'_, '_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>>;
        /// Polls a gathered write.
        fn poll_write_vectored_shared(
            &self,
            cx: &mut Context<'_>,
            w: Wait<'_, '_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>>;
        /// `shutdown(2)`.
        fn shutdown_shared(&self, how: Shutdown) -> io::Result<()>;
        /// Polls the stream's one registration for `interest`, parking in
        /// the slot of each direction it names.
        fn poll_ready_shared(
            &self,
            cx: &mut Context<'_>,
            w: Wait<'_, '_>,
            interest: Interest,
        ) -> Poll<io::Result<Ready>>;
        /// The stream's `try_read`.
        fn try_read_shared(&self, buf: &mut [u8]) -> io::Result<usize>;
        /// The stream's `try_read_vectored`.
        fn try_read_vectored_shared(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize>;
        /// The stream's `try_write`.
        fn try_write_shared(&self, buf: &[u8]) -> io::Result<usize>;
        /// The stream's `try_write_vectored`.
        fn try_write_vectored_shared(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
    }
}

/// A stream that can be split into halves: [`TcpStream`] and
/// [`UnixStream`]. Sealed; it only names the streams the halves work for.
pub trait SplitStream: sealed::Sealed {}

/// Implements [`sealed::Sealed`], [`SplitStream`], `split` and
/// `into_split` for a stream type with the `*_shared` inherent methods.
macro_rules! splittable {
    ($ty:ident) => {
        impl sealed::Sealed for $ty {
            fn waiter_shared(&self) -> crate::io::Waiter<'_> {
                self.reg.waiter()
            }
            fn poll_read_shared(
                &self,
                cx: &mut Context<'_>,
                w: Wait<'_, '_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                $ty::poll_read_shared(self, cx, w, buf)
            }
            fn poll_write_shared(
                &self,
                cx: &mut Context<'_>,
                w: Wait<'_, '_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                $ty::poll_write_shared(self, cx, w, buf)
            }
            fn poll_write_vectored_shared(
                &self,
                cx: &mut Context<'_>,
                w: Wait<'_, '_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                $ty::poll_write_vectored_shared(self, cx, w, bufs)
            }
            fn shutdown_shared(&self, how: Shutdown) -> io::Result<()> {
                $ty::shutdown_std(self, how)
            }
            fn poll_ready_shared(
                &self,
                cx: &mut Context<'_>,
                w: Wait<'_, '_>,
                interest: Interest,
            ) -> Poll<io::Result<Ready>> {
                ready_api::poll_ready(&self.reg, cx, w, interest)
            }
            fn try_read_shared(&self, buf: &mut [u8]) -> io::Result<usize> {
                $ty::try_read(self, buf)
            }
            fn try_read_vectored_shared(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
                $ty::try_read_vectored(self, bufs)
            }
            fn try_write_shared(&self, buf: &[u8]) -> io::Result<usize> {
                $ty::try_write(self, buf)
            }
            fn try_write_vectored_shared(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
                $ty::try_write_vectored(self, bufs)
            }
        }

        impl SplitStream for $ty {}

        impl $ty {
            /// Borrows the stream as a read half and a write half that can
            /// wait at the same time (in two futures joined in one task,
            /// say). No allocation; see [`ReadHalf`] and, to read and write
            /// in different tasks, [`into_split`](Self::into_split).
            ///
            /// With `futures::AsyncReadExt` in scope, `stream.split()` picks
            /// that trait's by-value `split` (method lookup tries `self`
            /// before `&mut self`); call this one as
            #[doc = concat!("`", stringify!($ty), "::split(&mut stream)`.")]
            pub fn split(&mut self) -> (ReadHalf<'_, $ty>, WriteHalf<'_, $ty>) {
                (ReadHalf { inner: self }, WriteHalf { inner: self })
            }

            /// Moves the stream into two owned halves sharing it through an
            /// `Arc`, so reading and writing can happen in different tasks.
            /// The stream closes when both are dropped; dropping the write
            /// half first shuts down the write side.
            /// [`reunite`](OwnedReadHalf::reunite) undoes the split.
            pub fn into_split(self) -> (OwnedReadHalf<$ty>, OwnedWriteHalf<$ty>) {
                let inner = Arc::new(self);
                (
                    OwnedReadHalf { inner: Arc::clone(&inner) },
                    OwnedWriteHalf { inner, shutdown_on_drop: true },
                )
            }
        }
    };
}

splittable!(TcpStream);
splittable!(UnixStream);

/// The read half of a stream borrowed by [`TcpStream::split`] (or
/// [`UnixStream::split`]).
///
/// ```
/// use spindle_rt::net::{TcpListener, TcpStream};
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
///     let (mut conn, _) = listener.accept().await?;
///     // Echo through the two halves of one connection.
///     let (mut rd, mut wr) = conn.split();
///     client.write_all(b"hey").await?;
///     let mut buf = [0; 3];
///     let n = rd.read(&mut buf).await?;
///     wr.write_all(&buf[..n]).await?;
///     let mut back = [0; 3];
///     let mut got = 0;
///     while got < n {
///         got += client.read(&mut back[got..]).await?;
///     }
///     assert_eq!(&back[..n], &buf[..n]);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct ReadHalf<'a, S: SplitStream = TcpStream> {
    inner: &'a S,
}

/// The write half of a stream borrowed by [`TcpStream::split`] (or
/// [`UnixStream::split`]). Dropping it does nothing to the stream.
#[derive(Debug)]
pub struct WriteHalf<'a, S: SplitStream = TcpStream> {
    inner: &'a S,
}

/// The read half of a stream moved into [`TcpStream::into_split`] (or
/// [`UnixStream::into_split`]).
///
/// ```
/// use spindle_rt::net::{TcpListener, TcpStream};
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let client = TcpStream::connect(listener.local_addr()?).await?;
///     let (mut conn, _) = listener.accept().await?;
///     let (mut rd, mut wr) = client.into_split();
///     // The writer runs in a task of its own; dropping it at the end
///     // shuts down the write side, so the peer sees end of stream.
///     let writer = spindle_rt::spawn_local(async move { wr.write_all(b"bye").await });
///     let mut got = Vec::new();
///     let mut buf = [0; 8];
///     loop {
///         match conn.read(&mut buf).await? {
///             0 => break,
///             n => got.extend_from_slice(&buf[..n]),
///         }
///     }
///     assert_eq!(got, b"bye");
///     writer.await.unwrap()?;
///     conn.write_all(b"ok").await?;
///     let mut buf = [0; 2];
///     let mut n = 0;
///     while n < 2 {
///         n += rd.read(&mut buf[n..]).await?;
///     }
///     assert_eq!(&buf, b"ok");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct OwnedReadHalf<S: SplitStream = TcpStream> {
    inner: Arc<S>,
}

/// The write half of a stream moved into [`TcpStream::into_split`] (or
/// [`UnixStream::into_split`]). Dropping it shuts down the write side,
/// unless it is dropped by [`forget`](OwnedWriteHalf::forget) or
/// [`reunite`](OwnedWriteHalf::reunite).
///
/// Both owned halves have the readiness API, so a reader task and a writer
/// task can each wait and try on their own: the two waits sit in the
/// stream's per-direction waker slots and each is woken by its own events.
///
/// ```
/// use spindle_rt::net::UnixStream;
/// use std::io;
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let (ours, mut theirs) = UnixStream::pair()?;
///     let (rd, wr) = ours.into_split();
///     let writer = spindle_rt::spawn_local(async move {
///         loop {
///             wr.writable().await?;
///             match wr.try_write(b"ping") {
///                 Ok(n) => return Ok::<usize, io::Error>(n),
///                 Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
///                 Err(e) => return Err(e),
///             }
///         }
///     });
///     let reader = spindle_rt::spawn_local(async move {
///         let mut buf = [0; 4];
///         loop {
///             rd.readable().await?;
///             match rd.try_read(&mut buf) {
///                 Ok(n) => return Ok::<Vec<u8>, io::Error>(buf[..n].to_vec()),
///                 Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
///                 Err(e) => return Err(e),
///             }
///         }
///     });
///     assert_eq!(writer.await.unwrap()?, 4);
///     let mut got = [0; 4];
///     let mut n = 0;
///     while n < 4 {
///         n += theirs.read(&mut got[n..]).await?;
///     }
///     assert_eq!(&got, b"ping");
///     theirs.write_all(b"pong").await?;
///     assert!(b"pong".starts_with(&reader.await.unwrap()?));
///     Ok::<(), io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct OwnedWriteHalf<S: SplitStream = TcpStream> {
    inner: Arc<S>,
    shutdown_on_drop: bool,
}

/// [`OwnedReadHalf::reunite`] was given halves of two different streams;
/// both come back unchanged.
pub struct ReuniteError<S: SplitStream = TcpStream>(pub OwnedReadHalf<S>, pub OwnedWriteHalf<S>);

impl<S: SplitStream> fmt::Debug for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReuniteError(..)")
    }
}

impl<S: SplitStream> fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same stream")
    }
}

impl<S: SplitStream> Error for ReuniteError<S> {}

/// Read methods shared by both read halves.
macro_rules! read_methods {
    () => {
        /// Reads into `buf`, waiting until something is there; `Ok(0)`
        /// means the peer closed its side (or `buf` is empty).
        ///
        /// # Errors
        /// As the stream's `read`.
        pub fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
            let inner = &*self.inner;
            let mut w = inner.waiter_shared();
            poll_fn(move |cx| inner.poll_read_shared(cx, Some(&mut w), &mut *buf))
        }

        /// Reads exactly `buf.len()` bytes, waiting as they arrive, and returns
        /// that length (as tokio's `read_exact` does).
        ///
        /// # Errors
        /// As the stream's `read`; `UnexpectedEof` if the peer closes first.
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

        /// Polls a read into `buf`, waiting in the read direction only.
        ///
        /// # Errors
        /// As the stream's `read`.
        pub fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
            self.inner.poll_read_shared(cx, None, buf)
        }
    };
}

/// Write methods shared by both write halves.
macro_rules! write_methods {
    () => {
        /// Writes some of `buf`, waiting until the socket takes at least
        /// one byte; returns how many it took.
        ///
        /// # Errors
        /// As the stream's `write`.
        pub fn write<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
            let inner = &*self.inner;
            let mut w = inner.waiter_shared();
            poll_fn(move |cx| inner.poll_write_shared(cx, Some(&mut w), buf))
        }

        /// Writes all of `buf`, waiting as the socket's buffer drains.
        ///
        /// # Errors
        /// As the stream's `write_all`.
        pub fn write_all<'a>(&'a mut self, mut buf: &'a [u8]) -> impl Future<Output = io::Result<()>> + 'a {
            let inner = &*self.inner;
            let mut w = inner.waiter_shared();
            poll_fn(move |cx| {
                poll_write_all(cx, &mut buf, |cx, b| inner.poll_write_shared(cx, Some(&mut w), b))
            })
        }

        /// Writes some of `bufs` as one gathered write (`sendmsg`); see
        /// [`TcpStream::write_vectored`].
        ///
        /// # Errors
        /// As the stream's `write`.
        pub async fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            let inner = &*self.inner;
            let mut w = inner.waiter_shared();
            poll_fn(|cx| inner.poll_write_vectored_shared(cx, Some(&mut w), bufs)).await
        }

        /// Polls a write of `buf`, waiting in the write direction only.
        ///
        /// # Errors
        /// As the stream's `write`.
        pub fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
            self.inner.poll_write_shared(cx, None, buf)
        }

        /// Polls a gathered write of `bufs`.
        ///
        /// # Errors
        /// As the stream's `write`.
        pub fn poll_write_vectored(
            &mut self,
            cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            self.inner.poll_write_vectored_shared(cx, None, bufs)
        }

        /// Shuts down the write side: the peer reads end of stream; the
        /// stream's reads (through the other half) go on. Async, as
        /// tokio's `AsyncWriteExt::shutdown`, so `wr.shutdown().await`
        /// ports unchanged; it completes at once (`shutdown(2)` does not
        /// block).
        ///
        /// # Errors
        /// The system's `shutdown` error (`NotConnected`, ...).
        pub async fn shutdown(&mut self) -> io::Result<()> {
            self.shutdown_write()
        }

        /// `shutdown(SHUT_WR)` now: the body of [`shutdown`](Self::shutdown)
        /// and of `poll_close`.
        pub(crate) fn shutdown_write(&self) -> io::Result<()> {
            self.inner.shutdown_shared(Shutdown::Write)
        }
    };
}

impl<S: SplitStream> ReadHalf<'_, S> {
    read_methods!();
}

impl<S: SplitStream> WriteHalf<'_, S> {
    write_methods!();
}

impl<S: SplitStream> OwnedReadHalf<S> {
    read_methods!();

    /// Puts the stream back together from its two halves.
    ///
    /// # Errors
    /// [`ReuniteError`], holding both halves, if they come from different
    /// streams.
    pub fn reunite(self, other: OwnedWriteHalf<S>) -> Result<S, ReuniteError<S>> {
        if !Arc::ptr_eq(&self.inner, &other.inner) {
            return Err(ReuniteError(self, other));
        }
        other.forget();
        // The two halves held the only references, and the write half's
        // is gone.
        Ok(Arc::try_unwrap(self.inner).unwrap_or_else(|_| unreachable!("a third owner of a split stream")))
    }
}

impl<S: SplitStream> OwnedWriteHalf<S> {
    write_methods!();

    /// Puts the stream back together from its two halves:
    /// [`OwnedReadHalf::reunite`] from this side (tokio has both). The
    /// write side is not shut down.
    ///
    /// # Errors
    /// [`ReuniteError`], holding both halves (read half first), if they
    /// come from different streams.
    pub fn reunite(self, other: OwnedReadHalf<S>) -> Result<S, ReuniteError<S>> {
        other.reunite(self)
    }

    /// Drops the half without shutting down the write side: the stream
    /// stays fully open until the read half drops too.
    pub fn forget(mut self) {
        self.shutdown_on_drop = false;
    }
}

impl<S: SplitStream> Drop for OwnedWriteHalf<S> {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // The peer may be gone already (NotConnected); nothing to do.
            let _ = self.inner.shutdown_shared(Shutdown::Write);
        }
    }
}

impl<S: SplitStream> AsRef<S> for ReadHalf<'_, S> {
    fn as_ref(&self) -> &S {
        self.inner
    }
}

impl<S: SplitStream> AsRef<S> for WriteHalf<'_, S> {
    fn as_ref(&self) -> &S {
        self.inner
    }
}

impl<S: SplitStream> AsRef<S> for OwnedReadHalf<S> {
    fn as_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: SplitStream> AsRef<S> for OwnedWriteHalf<S> {
    fn as_ref(&self) -> &S {
        &self.inner
    }
}
