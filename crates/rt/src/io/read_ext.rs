//! [`AsyncReadExt`]: tokio's read methods (`read`, `read_exact`,
//! `read_to_end`, `read_u32`, ...) on every `futures-io` reader.
//!
//! Each method returns a small named future that borrows the reader and
//! the caller's buffer and keeps its progress in a few fields: nothing is
//! boxed, and every future here is `Unpin`, so it can be polled by hand,
//! kept in a struct or raced in `select!` without pinning.

use futures_io::AsyncRead;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::take_chain::{Chain, Take};

/// Defines the number-reading methods: each reads `size_of::<T>()` bytes
/// with a [`ReadInt`] and decodes them with `T::$decode`.
macro_rules! read_int_methods {
    ($($(#[$doc:meta])* $name:ident, $ty:ty, $decode:ident;)*) => {$(
        $(#[$doc])*
        ///
        /// # Errors
        ///
        /// As [`read_exact`](Self::read_exact): `UnexpectedEof` if the
        /// stream ends inside the number.
        ///
        /// Unbuffered, each call is at least one system call on a socket:
        /// wrap the reader in a [`BufReader`](super::BufReader) to parse a
        /// binary protocol field by field.
        ///
        /// # Cancel safety
        ///
        /// `read_u8` and `read_i8` are cancel safe (their one read either
        /// took the byte or did not). The wider ones are not: dropped half
        /// way, the future has taken some of the number's bytes from the
        /// stream and they are lost.
        fn $name(&mut self) -> ReadInt<'_, Self, $ty>
        where
            Self: Unpin,
        {
            fn decode(b: &[u8]) -> $ty {
                let mut a = [0; std::mem::size_of::<$ty>()];
                a.copy_from_slice(b);
                <$ty>::$decode(a)
            }
            ReadInt { reader: self, buf: [0; 16], len: std::mem::size_of::<$ty>(), filled: 0, decode }
        }
    )*};
}

/// Reads bytes from a source: tokio's `AsyncReadExt`, for the ecosystem's
/// [`futures_io::AsyncRead`] (which every spindle-rt socket, pipe and file
/// implements).
///
/// Implemented for every `AsyncRead`; the methods that borrow the reader
/// need it `Unpin` (all of spindle-rt's IO types are; pin anything else
/// with `Box::pin`). A type's own inherent method of the same name is
/// called first: `TcpStream::read` is the stream's, which waits in the
/// stream's own place in the readiness queue rather than in its one poll
/// slot, and behaves the same.
///
/// Porting from tokio: `use tokio::io::AsyncReadExt;` stays as it is.
///
/// ```
/// use spindle_rt::io::{AsyncReadExt, AsyncWriteExt};
/// use spindle_rt::net::UnixStream;
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let (mut a, mut b) = UnixStream::pair()?;
///     a.write_u32(0xCAFE_F00D).await?;
///     a.write_u16_le(7).await?;
///     drop(a);
///     assert_eq!(b.read_u32().await?, 0xCAFE_F00D);
///     assert_eq!(b.read_u16_le().await?, 7);
///     let mut rest = Vec::new();
///     assert_eq!(b.read_to_end(&mut rest).await?, 0, "the writer closed");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait AsyncReadExt: AsyncRead {
    /// Reads some bytes into `buf` and returns how many; `Ok(0)` is the end
    /// of the stream (or an empty `buf`).
    ///
    /// One underlying read: it may return fewer bytes than `buf` holds
    /// even when more are on their way. Use [`read_exact`](Self::read_exact)
    /// for a fixed-size header.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a `Read` dropped before it completes has read nothing.
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> Read<'a, Self>
    where
        Self: Unpin,
    {
        Read { reader: self, buf }
    }

    /// Reads exactly `buf.len()` bytes and returns that length (as tokio's
    /// does).
    ///
    /// # Errors
    ///
    /// `UnexpectedEof` if the stream ends first; the bytes read until then
    /// are in `buf`, how many is not told. Reads that fail with
    /// `Interrupted` are retried.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: a `ReadExact` dropped half way has taken bytes out
    /// of the stream that only `buf` now holds, with no count. Race a
    /// `read`, or a [`BufReader`](super::BufReader)'s methods, in `select!`
    /// instead.
    fn read_exact<'a>(&'a mut self, buf: &'a mut [u8]) -> ReadExact<'a, Self>
    where
        Self: Unpin,
    {
        ReadExact { reader: self, buf, filled: 0 }
    }

    /// Reads until the end of the stream, appending to `buf`, and returns
    /// how many bytes were appended. The vector grows by doubling, so a
    /// large body costs few reallocations.
    ///
    /// # Errors
    ///
    /// The first read error other than `Interrupted`; the bytes read until
    /// then stay in `buf`.
    ///
    /// # Cancel safety
    ///
    /// Nothing is lost on cancel: the bytes read so far are already in
    /// `buf` (only the count is not returned).
    fn read_to_end<'a>(&'a mut self, buf: &'a mut Vec<u8>) -> ReadToEnd<'a, Self>
    where
        Self: Unpin,
    {
        let start = buf.len();
        ReadToEnd { reader: self, buf, start }
    }

    /// Reads until the end of the stream and appends it to `buf` as text;
    /// returns how many bytes were appended.
    ///
    /// # Errors
    ///
    /// As [`read_to_end`](Self::read_to_end), and `InvalidData` if the
    /// bytes are not UTF-8. On any error `buf` is left as it was (a
    /// `String` cannot hold half-checked bytes).
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the bytes are gathered apart and appended at the
    /// end, so a dropped `ReadToString` loses what it read.
    fn read_to_string<'a>(&'a mut self, buf: &'a mut String) -> ReadToString<'a, Self>
    where
        Self: Unpin,
    {
        ReadToString { reader: self, out: buf, bytes: Vec::new() }
    }

    /// A reader that yields at most `limit` bytes of this one and then
    /// reports the end of the stream: the body of a length-prefixed frame,
    /// handed to code that reads to the end.
    fn take(self, limit: u64) -> Take<Self>
    where
        Self: Sized,
    {
        Take::new(self, limit)
    }

    /// A reader that yields this one to its end, then `next` to its end.
    fn chain<R: AsyncRead>(self, next: R) -> Chain<Self, R>
    where
        Self: Sized,
    {
        Chain::new(self, next)
    }

    read_int_methods! {
        /// Reads one byte.
        read_u8, u8, from_be_bytes;
        /// Reads one byte as a signed integer.
        read_i8, i8, from_be_bytes;
        /// Reads a big-endian (network order) `u16`.
        read_u16, u16, from_be_bytes;
        /// Reads a big-endian `i16`.
        read_i16, i16, from_be_bytes;
        /// Reads a big-endian `u32`.
        read_u32, u32, from_be_bytes;
        /// Reads a big-endian `i32`.
        read_i32, i32, from_be_bytes;
        /// Reads a big-endian `u64`.
        read_u64, u64, from_be_bytes;
        /// Reads a big-endian `i64`.
        read_i64, i64, from_be_bytes;
        /// Reads a big-endian `u128`.
        read_u128, u128, from_be_bytes;
        /// Reads a big-endian `i128`.
        read_i128, i128, from_be_bytes;
        /// Reads a big-endian IEEE 754 `f32`.
        read_f32, f32, from_be_bytes;
        /// Reads a big-endian IEEE 754 `f64`.
        read_f64, f64, from_be_bytes;
        /// Reads a little-endian `u16`.
        read_u16_le, u16, from_le_bytes;
        /// Reads a little-endian `i16`.
        read_i16_le, i16, from_le_bytes;
        /// Reads a little-endian `u32`.
        read_u32_le, u32, from_le_bytes;
        /// Reads a little-endian `i32`.
        read_i32_le, i32, from_le_bytes;
        /// Reads a little-endian `u64`.
        read_u64_le, u64, from_le_bytes;
        /// Reads a little-endian `i64`.
        read_i64_le, i64, from_le_bytes;
        /// Reads a little-endian `u128`.
        read_u128_le, u128, from_le_bytes;
        /// Reads a little-endian `i128`.
        read_i128_le, i128, from_le_bytes;
        /// Reads a little-endian IEEE 754 `f32`.
        read_f32_le, f32, from_le_bytes;
        /// Reads a little-endian IEEE 754 `f64`.
        read_f64_le, f64, from_le_bytes;
    }
}

impl<R: AsyncRead + ?Sized> AsyncReadExt for R {}

/// The future of [`AsyncReadExt::read`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Read<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut [u8],
}

impl<R: AsyncRead + Unpin + ?Sized> Future for Read<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        Pin::new(&mut *this.reader).poll_read(cx, this.buf)
    }
}

/// Reads into `buf[*filled..]` until it is full: the loop under
/// [`ReadExact`] and [`ReadInt`].
fn poll_fill<R: AsyncRead + Unpin + ?Sized>(
    reader: &mut R,
    cx: &mut Context<'_>,
    buf: &mut [u8],
    filled: &mut usize,
) -> Poll<io::Result<()>> {
    while *filled < buf.len() {
        match Pin::new(&mut *reader).poll_read(cx, &mut buf[*filled..]) {
            Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into())),
            Poll::Ready(Ok(n)) => *filled += n,
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
    }
    Poll::Ready(Ok(()))
}

/// The future of [`AsyncReadExt::read_exact`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct ReadExact<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut [u8],
    filled: usize,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadExact<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        std::task::ready!(poll_fill(this.reader, cx, this.buf, &mut this.filled))?;
        Poll::Ready(Ok(this.buf.len()))
    }
}

/// The future of the number-reading methods of [`AsyncReadExt`]
/// (`read_u8` ... `read_f64_le`): up to 16 bytes gathered in place, then
/// decoded.
#[must_use = "futures do nothing unless polled"]
pub struct ReadInt<'a, R: ?Sized, T> {
    reader: &'a mut R,
    buf: [u8; 16],
    len: usize,
    filled: usize,
    decode: fn(&[u8]) -> T,
}

impl<R: ?Sized, T> std::fmt::Debug for ReadInt<'_, R, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadInt").field("len", &self.len).field("filled", &self.filled).finish()
    }
}

impl<R: AsyncRead + Unpin + ?Sized, T> Future for ReadInt<'_, R, T> {
    type Output = io::Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let this = self.get_mut();
        let buf = &mut this.buf[..this.len];
        std::task::ready!(poll_fill(this.reader, cx, buf, &mut this.filled))?;
        Poll::Ready(Ok((this.decode)(buf)))
    }
}

/// The most [`poll_to_end`] offers one read: the spare room it zeroes per
/// poll, so a vector with a large spare capacity is not zeroed whole on
/// every `Pending` poll.
const MAX_PROBE: usize = 64 * 1024;

/// Appends to `buf` from `reader` until the end of the stream: the loop
/// under [`ReadToEnd`] and [`ReadToString`]. Up to [`MAX_PROBE`] bytes of
/// the spare room are zeroed before each read (a reader gets initialised
/// memory, as `AsyncRead` requires; no `unsafe`), and the capacity
/// doubles when it runs short.
fn poll_to_end<R: AsyncRead + Unpin + ?Sized>(
    reader: &mut R,
    cx: &mut Context<'_>,
    buf: &mut Vec<u8>,
) -> Poll<io::Result<()>> {
    loop {
        if buf.capacity() - buf.len() < 32 {
            buf.reserve(buf.len().max(32));
        }
        let old = buf.len();
        buf.resize(old + (buf.capacity() - old).min(MAX_PROBE), 0);
        let res = Pin::new(&mut *reader).poll_read(cx, &mut buf[old..]);
        let n = match &res {
            Poll::Ready(Ok(n)) => *n,
            _ => 0,
        };
        buf.truncate(old + n);
        match res {
            Poll::Ready(Ok(0)) => return Poll::Ready(Ok(())),
            Poll::Ready(Ok(_)) => {}
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
    }
}

/// The future of [`AsyncReadExt::read_to_end`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct ReadToEnd<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut Vec<u8>,
    start: usize,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadToEnd<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        std::task::ready!(poll_to_end(this.reader, cx, this.buf))?;
        Poll::Ready(Ok(this.buf.len() - this.start))
    }
}

/// The future of [`AsyncReadExt::read_to_string`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct ReadToString<'a, R: ?Sized> {
    reader: &'a mut R,
    out: &'a mut String,
    bytes: Vec<u8>,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadToString<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        std::task::ready!(poll_to_end(this.reader, cx, &mut this.bytes))?;
        let bytes = std::mem::take(&mut this.bytes);
        Poll::Ready(append_utf8(this.out, bytes))
    }
}

/// Appends `bytes` to `out` if they are UTF-8 (moving them in when `out`
/// is empty), and returns their length; `InvalidData` (and `out`
/// unchanged) if not.
pub(super) fn append_utf8(out: &mut String, bytes: Vec<u8>) -> io::Result<usize> {
    let n = bytes.len();
    if out.is_empty() {
        *out = String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    } else {
        out.push_str(std::str::from_utf8(&bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?);
    }
    Ok(n)
}
