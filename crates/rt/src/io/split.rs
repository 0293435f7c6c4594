//! [`split`]: tokio's `io::split`, a read half and a write half of any
//! stream, for the streams that have no `into_split` of their own.

use futures_io::{AsyncRead, AsyncWrite};
use std::fmt;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use crate::lock;

/// Splits any stream into a read half and a write half that can go to two
/// tasks: tokio's `io::split`. The halves share the stream behind a lock
/// taken for the length of one `poll_read` or `poll_write` call (a system
/// call, never across an `await`), so a reader waiting for data does not
/// hold up the writer.
///
/// For spindle-rt's sockets, prefer their own `split`/`into_split`: those
/// halves need no lock at all. This one is for what has no such method: a
/// [`duplex`](super::duplex) stream, a [`BufStream`](super::BufStream), a
/// TLS stream from another crate. The stream must keep separate wakers for
/// its reads and its writes (spindle-rt's types do); one that keeps a
/// single waker would lose a wake-up when both halves wait at once.
///
/// [`ReadHalf::unsplit`] puts the stream back together.
///
/// ```
/// use spindle_rt::io::{AsyncReadExt, AsyncWriteExt};
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let (a, mut b) = spindle_rt::io::duplex(64);
///     let (mut rd, mut wr) = spindle_rt::io::split(a);
///     let echo = spindle_rt::spawn_local(async move {
///         let mut buf = [0; 5];
///         rd.read_exact(&mut buf).await?;
///         Ok::<_, std::io::Error>((rd, buf))
///     });
///     b.write_all(b"hello").await?;
///     wr.write_all(b"world").await?;
///     let (rd, buf) = echo.await.expect("the task ran")?;
///     assert_eq!(&buf, b"hello");
///     let mut back = [0; 5];
///     b.read_exact(&mut back).await?;
///     assert_eq!(&back, b"world");
///     let _whole = rd.unsplit(wr);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn split<T: AsyncRead + AsyncWrite>(stream: T) -> (ReadHalf<T>, WriteHalf<T>) {
    let inner = Arc::new(Mutex::new(stream));
    (ReadHalf { inner: inner.clone() }, WriteHalf { inner })
}

/// The read half of a stream split by [`split`]: [`AsyncRead`].
pub struct ReadHalf<T> {
    inner: Arc<Mutex<T>>,
}

/// The write half of a stream split by [`split`]: [`AsyncWrite`]; its
/// `shutdown` shuts down the stream's writing side.
pub struct WriteHalf<T> {
    inner: Arc<Mutex<T>>,
}

impl<T> ReadHalf<T> {
    /// Whether `other` is the write half of the same stream.
    pub fn is_pair_of(&self, other: &WriteHalf<T>) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Joins the two halves back into the stream.
    ///
    /// # Panics
    ///
    /// If `write` is not this half's partner ([`is_pair_of`](Self::is_pair_of)).
    pub fn unsplit(self, write: WriteHalf<T>) -> T {
        assert!(self.is_pair_of(&write), "unsplit: the halves are not from the same stream");
        drop(write);
        match Arc::try_unwrap(self.inner) {
            Ok(m) => m.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner),
            Err(_) => unreachable!("both halves were given, so no other reference is left"),
        }
    }
}

impl<T> WriteHalf<T> {
    /// Whether `other` is the read half of the same stream.
    pub fn is_pair_of(&self, other: &ReadHalf<T>) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ReadHalf<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut *lock(&self.inner)).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteHalf<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut *lock(&self.inner)).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *lock(&self.inner)).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *lock(&self.inner)).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *lock(&self.inner)).poll_close(cx)
    }
}

impl<T> fmt::Debug for ReadHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReadHalf(..)")
    }
}

impl<T> fmt::Debug for WriteHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WriteHalf(..)")
    }
}
