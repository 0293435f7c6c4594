//! [`AsyncWriteExt`]: tokio's write methods (`write_all`, `write_u32`,
//! `flush`, `shutdown`, ...) on every `futures-io` writer.
//!
//! As on the read side, each method returns a small `Unpin` future that
//! borrows the writer and keeps its progress in place; the numbers are
//! encoded into a 16-byte array inside the future, so writing one
//! allocates nothing.

use futures_io::AsyncWrite;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Defines the number-writing methods: each encodes `n` with `$encode`
/// into a [`WriteInt`].
macro_rules! write_int_methods {
    ($($(#[$doc:meta])* $name:ident, $ty:ty, $encode:ident;)*) => {$(
        $(#[$doc])*
        ///
        /// # Errors
        ///
        /// As [`write_all`](Self::write_all).
        ///
        /// Unbuffered, each call is at least one system call on a socket
        /// (and, with Nagle's algorithm off, maybe one packet): wrap the
        /// writer in a [`BufWriter`](super::BufWriter) to build a message
        /// field by field, then `flush` it once.
        ///
        /// # Cancel safety
        ///
        /// `write_u8` and `write_i8` are cancel safe (one write, of one
        /// byte). The wider ones are not: dropped half way, some of the
        /// number's bytes may have been written.
        fn $name(&mut self, n: $ty) -> WriteInt<'_, Self>
        where
            Self: Unpin,
        {
            let bytes = n.$encode();
            let mut buf = [0; 16];
            buf[..bytes.len()].copy_from_slice(&bytes);
            WriteInt { writer: self, buf, len: bytes.len(), written: 0 }
        }
    )*};
}

/// Writes bytes to a sink: tokio's `AsyncWriteExt`, for the ecosystem's
/// [`futures_io::AsyncWrite`] (which every spindle-rt socket, pipe and
/// file implements).
///
/// Implemented for every `AsyncWrite`; the methods need the writer
/// `Unpin`. A type's own inherent method of the same name is called first
/// (`TcpStream::write_all` is the stream's, and does the same).
///
/// [`shutdown`](Self::shutdown) is `AsyncWrite::poll_close`: on a socket
/// it shuts down the write side (the peer reads end of stream) and the
/// descriptor stays open for reading; on a [`BufWriter`](super::BufWriter)
/// it first writes out what is buffered.
///
/// ```
/// use spindle_rt::io::{AsyncReadExt, AsyncWriteExt};
/// use spindle_rt::net::UnixStream;
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let (mut a, mut b) = UnixStream::pair()?;
///     a.write_i64_le(-2).await?;
///     a.write_f64(1.5).await?;
///     AsyncWriteExt::shutdown(&mut a).await?;
///     assert_eq!(b.read_i64_le().await?, -2);
///     assert_eq!(b.read_f64().await?, 1.5);
///     assert_eq!(b.read(&mut [0; 1]).await?, 0, "end of stream after shutdown");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait AsyncWriteExt: AsyncWrite {
    /// Writes some of `buf` and returns how many bytes were taken; `Ok(0)`
    /// from a non-empty `buf` means the writer takes no more.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a `Write` dropped before it completes wrote nothing.
    fn write<'a>(&'a mut self, buf: &'a [u8]) -> Write<'a, Self>
    where
        Self: Unpin,
    {
        Write { writer: self, buf }
    }

    /// Writes some of `bufs`, in order, as one gathered write where the
    /// writer supports it (`sendmsg` on a socket); returns how many bytes
    /// were taken. A header and a body go out together without first
    /// being copied into one buffer.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`write`](Self::write).
    fn write_vectored<'a, 'b>(&'a mut self, bufs: &'a [IoSlice<'b>]) -> WriteVectored<'a, 'b, Self>
    where
        Self: Unpin,
    {
        WriteVectored { writer: self, bufs }
    }

    /// Writes all of `buf`, waiting as the writer drains.
    ///
    /// # Errors
    ///
    /// The first write error other than `Interrupted`; `WriteZero` if the
    /// writer takes nothing. An unknown prefix of `buf` has been written.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: a `WriteAll` dropped half way has written a prefix
    /// of `buf` and does not say how long. In `select!`, keep the
    /// remaining slice yourself and race [`write`](Self::write).
    fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> WriteAll<'a, Self>
    where
        Self: Unpin,
    {
        WriteAll { writer: self, buf }
    }

    /// Pushes buffered bytes on to their destination: a
    /// [`BufWriter`](super::BufWriter)'s buffer to its inner writer, a
    /// file's write-behind to the kernel. On a socket it is done at once
    /// (a socket's writes are in the kernel when they return).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: flushing again finishes the job.
    fn flush(&mut self) -> Flush<'_, Self>
    where
        Self: Unpin,
    {
        Flush { writer: self }
    }

    /// Flushes and closes the writer (`AsyncWrite::poll_close`): on a
    /// socket, `shutdown(SHUT_WR)`, so the peer's reads see the end of the
    /// stream while this side can still read the reply. This is what a
    /// client that sends one request and reads to the end needs.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: shutting down again finishes the job.
    fn shutdown(&mut self) -> Shutdown<'_, Self>
    where
        Self: Unpin,
    {
        Shutdown { writer: self }
    }

    write_int_methods! {
        /// Writes one byte.
        write_u8, u8, to_be_bytes;
        /// Writes one signed byte.
        write_i8, i8, to_be_bytes;
        /// Writes a big-endian (network order) `u16`.
        write_u16, u16, to_be_bytes;
        /// Writes a big-endian `i16`.
        write_i16, i16, to_be_bytes;
        /// Writes a big-endian `u32`.
        write_u32, u32, to_be_bytes;
        /// Writes a big-endian `i32`.
        write_i32, i32, to_be_bytes;
        /// Writes a big-endian `u64`.
        write_u64, u64, to_be_bytes;
        /// Writes a big-endian `i64`.
        write_i64, i64, to_be_bytes;
        /// Writes a big-endian `u128`.
        write_u128, u128, to_be_bytes;
        /// Writes a big-endian `i128`.
        write_i128, i128, to_be_bytes;
        /// Writes a big-endian IEEE 754 `f32`.
        write_f32, f32, to_be_bytes;
        /// Writes a big-endian IEEE 754 `f64`.
        write_f64, f64, to_be_bytes;
        /// Writes a little-endian `u16`.
        write_u16_le, u16, to_le_bytes;
        /// Writes a little-endian `i16`.
        write_i16_le, i16, to_le_bytes;
        /// Writes a little-endian `u32`.
        write_u32_le, u32, to_le_bytes;
        /// Writes a little-endian `i32`.
        write_i32_le, i32, to_le_bytes;
        /// Writes a little-endian `u64`.
        write_u64_le, u64, to_le_bytes;
        /// Writes a little-endian `i64`.
        write_i64_le, i64, to_le_bytes;
        /// Writes a little-endian `u128`.
        write_u128_le, u128, to_le_bytes;
        /// Writes a little-endian `i128`.
        write_i128_le, i128, to_le_bytes;
        /// Writes a little-endian IEEE 754 `f32`.
        write_f32_le, f32, to_le_bytes;
        /// Writes a little-endian IEEE 754 `f64`.
        write_f64_le, f64, to_le_bytes;
    }
}

impl<W: AsyncWrite + ?Sized> AsyncWriteExt for W {}

/// The future of [`AsyncWriteExt::write`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Write<'a, W: ?Sized> {
    writer: &'a mut W,
    buf: &'a [u8],
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Write<'_, W> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        Pin::new(&mut *this.writer).poll_write(cx, this.buf)
    }
}

/// The future of [`AsyncWriteExt::write_vectored`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct WriteVectored<'a, 'b, W: ?Sized> {
    writer: &'a mut W,
    bufs: &'a [IoSlice<'b>],
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for WriteVectored<'_, '_, W> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        Pin::new(&mut *this.writer).poll_write_vectored(cx, this.bufs)
    }
}

/// Writes `*buf` out, shortening it as bytes are taken: the loop under
/// [`WriteAll`] and [`WriteInt`].
fn poll_write_all<W: AsyncWrite + Unpin + ?Sized>(
    writer: &mut W,
    cx: &mut Context<'_>,
    buf: &mut &[u8],
) -> Poll<io::Result<()>> {
    while !buf.is_empty() {
        match Pin::new(&mut *writer).poll_write(cx, buf) {
            Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
            Poll::Ready(Ok(n)) => *buf = &buf[n..],
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
    }
    Poll::Ready(Ok(()))
}

/// The future of [`AsyncWriteExt::write_all`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct WriteAll<'a, W: ?Sized> {
    writer: &'a mut W,
    buf: &'a [u8],
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for WriteAll<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        poll_write_all(this.writer, cx, &mut this.buf)
    }
}

/// The future of the number-writing methods of [`AsyncWriteExt`]
/// (`write_u8` ... `write_f64_le`): the encoded bytes, and how many of
/// them are written.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct WriteInt<'a, W: ?Sized> {
    writer: &'a mut W,
    buf: [u8; 16],
    len: usize,
    written: usize,
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for WriteInt<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let mut rest = &this.buf[this.written..this.len];
        let res = poll_write_all(this.writer, cx, &mut rest);
        this.written = this.len - rest.len();
        res
    }
}

/// The future of [`AsyncWriteExt::flush`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Flush<'a, W: ?Sized> {
    writer: &'a mut W,
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Flush<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().writer).poll_flush(cx)
    }
}

/// The future of [`AsyncWriteExt::shutdown`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Shutdown<'a, W: ?Sized> {
    writer: &'a mut W,
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Shutdown<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().writer).poll_close(cx)
    }
}
