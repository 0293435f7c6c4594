//! [`BufReader`]: a read buffer in front of any `futures-io` reader.

use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
use std::io::{self, IoSlice, SeekFrom};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// The buffer size of [`BufReader::new`] and [`BufWriter::new`](super::BufWriter::new)
/// (8 KiB, as tokio's and std's).
pub(super) const DEFAULT_BUF_SIZE: usize = 8 * 1024;

/// Adds a read buffer to a reader: tokio's `BufReader`, over the
/// `futures-io` traits, so it is itself an [`AsyncRead`] and an
/// [`AsyncBufRead`] and composes with anything written against them.
///
/// Two things need it:
///
/// * **Line and delimiter protocols.** Finding the end of a line means
///   reading past it; the buffer keeps what came after the newline for
///   the next call. [`AsyncBufReadExt`](super::AsyncBufReadExt)'s
///   `lines`, `read_line` and `read_until` work on buffered readers only.
/// * **Many small reads.** Each read of a socket is a system call; a
///   parser that reads a 4-byte length, then a 1-byte tag, then a short
///   body makes three. Behind a `BufReader` one read of up to 8 KiB serves
///   them all.
///
/// A read at least as large as the buffer, made while the buffer is
/// empty, goes straight to the inner reader (no copy through the buffer).
/// Bytes still in the buffer when the `BufReader` is dropped (or
/// [`into_inner`](BufReader::into_inner) is called) are lost to the inner
/// reader; read [`buffer`](BufReader::buffer) first if they matter, as
/// when a protocol switches from lines to raw bytes.
///
/// It also passes writes through to the inner stream untouched, so a
/// `BufReader<TcpStream>` can answer on the same socket it reads lines
/// from. The inner reader must be `Unpin` (every spindle-rt IO type is).
///
/// ```
/// use spindle_rt::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
/// use spindle_rt::net::UnixStream;
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let (mut a, b) = UnixStream::pair()?;
///     // A header line, then 3 raw bytes, sent in one write.
///     a.write_all(b"LEN 3\nabc").await?;
///     let mut reader = BufReader::new(b);
///     let mut header = String::new();
///     reader.read_line(&mut header).await?;
///     assert_eq!(header, "LEN 3\n");
///     // The body was read with the header; it waits in the buffer.
///     assert_eq!(reader.buffer(), b"abc");
///     let mut body = [0; 3];
///     reader.read_exact(&mut body).await?;
///     assert_eq!(&body, b"abc");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct BufReader<R> {
    inner: R,
    buf: Box<[u8]>,
    /// `buf[pos..cap]` is read from `inner` and not yet handed out.
    pos: usize,
    cap: usize,
}

impl<R> BufReader<R> {
    /// A `BufReader` with an 8 KiB buffer.
    pub fn new(inner: R) -> BufReader<R> {
        BufReader::with_capacity(DEFAULT_BUF_SIZE, inner)
    }

    /// A `BufReader` with a buffer of `capacity` bytes: larger for bulk
    /// transfers, smaller for many idle connections.
    pub fn with_capacity(capacity: usize, inner: R) -> BufReader<R> {
        BufReader { inner, buf: vec![0; capacity].into_boxed_slice(), pos: 0, cap: 0 }
    }

    /// The inner reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The inner reader, mutably. Reading from it directly skips the bytes
    /// in the buffer.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Gives back the inner reader; bytes still in the buffer are dropped.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The bytes read from the inner reader and not yet handed out.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.pos..self.cap]
    }

    /// The buffer's size.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    fn discard_buffer(&mut self) {
        self.pos = 0;
        self.cap = 0;
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for BufReader<R> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.pos == this.cap && buf.len() >= this.buf.len() {
            let res = ready!(Pin::new(&mut this.inner).poll_read(cx, buf));
            this.discard_buffer();
            return Poll::Ready(res);
        }
        let available = ready!(Pin::new(&mut *this).poll_fill_buf(cx))?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        Pin::new(this).consume(n);
        Poll::Ready(Ok(n))
    }
}

impl<R: AsyncRead + Unpin> AsyncBufRead for BufReader<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        if this.pos >= this.cap {
            this.cap = ready!(Pin::new(&mut this.inner).poll_read(cx, &mut this.buf))?;
            this.pos = 0;
        }
        Poll::Ready(Ok(&this.buf[this.pos..this.cap]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.get_mut();
        this.pos = (this.pos + amt).min(this.cap);
    }
}

impl<R: AsyncSeek + Unpin> AsyncSeek for BufReader<R> {
    /// Seeks the inner reader and empties the buffer. `SeekFrom::Current`
    /// counts from the position the caller has read to, not the inner
    /// reader's (which is ahead by the buffered bytes).
    fn poll_seek(self: Pin<&mut Self>, cx: &mut Context<'_>, pos: SeekFrom) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        let pos =
            match pos {
                SeekFrom::Current(off) => {
                    let ahead = i64::try_from(this.cap - this.pos).unwrap_or(i64::MAX);
                    SeekFrom::Current(off.checked_sub(ahead).ok_or_else(|| {
                        io::Error::new(io::ErrorKind::InvalidInput, "seek offset out of range")
                    })?)
                }
                other => other,
            };
        let res = ready!(Pin::new(&mut this.inner).poll_seek(cx, pos));
        this.discard_buffer();
        Poll::Ready(res)
    }
}

impl<R: AsyncWrite + Unpin> AsyncWrite for BufReader<R> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}
