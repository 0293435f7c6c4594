//! [`BufWriter`]: a write buffer in front of any `futures-io` writer; and
//! [`BufStream`], both buffers around one stream.

use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::buf_reader::{BufReader, DEFAULT_BUF_SIZE};

/// Adds a write buffer to a writer: tokio's `BufWriter`, over the
/// `futures-io` traits (it is itself an [`AsyncWrite`]).
///
/// Small writes are gathered in the buffer and go to the inner writer
/// together when the buffer is full, on
/// [`flush`](super::AsyncWriteExt::flush), and on
/// [`shutdown`](super::AsyncWriteExt::shutdown) (which then closes the
/// inner writer). A response built field by field
/// (`write_u32`, `write_all`, ...) thus leaves in one system call, and
/// one TCP segment, rather than one per field. A write at least as large
/// as the buffer skips it (after what is buffered has gone out).
///
/// **Flush before you wait for an answer or drop it.** Bytes in the
/// buffer are not on the wire: a client that writes a request into a
/// `BufWriter` and then reads the reply without flushing waits for ever,
/// and bytes still buffered when the `BufWriter` is dropped are lost
/// (there is no async drop to write them).
///
/// It passes reads through to the inner stream, so a `BufWriter` around a
/// socket still reads from it. The inner writer must be `Unpin`.
///
/// ```
/// use spindle_rt::io::{AsyncWriteExt, BufWriter};
/// use spindle_rt::net::UnixStream;
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let (a, mut b) = UnixStream::pair()?;
///     let mut w = BufWriter::new(a);
///     w.write_u8(b'+').await?;
///     w.write_all(b"OK\r\n").await?;
///     assert_eq!(w.buffer(), b"+OK\r\n", "nothing sent yet");
///     w.flush().await?;
///     let mut reply = [0; 5];
///     b.read_exact(&mut reply).await?;
///     assert_eq!(&reply, b"+OK\r\n");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct BufWriter<W> {
    inner: W,
    buf: Vec<u8>,
    /// `buf[written..]` is not yet taken by `inner`.
    written: usize,
}

impl<W> BufWriter<W> {
    /// A `BufWriter` with an 8 KiB buffer.
    pub fn new(inner: W) -> BufWriter<W> {
        BufWriter::with_capacity(DEFAULT_BUF_SIZE, inner)
    }

    /// A `BufWriter` with a buffer of `capacity` bytes.
    pub fn with_capacity(capacity: usize, inner: W) -> BufWriter<W> {
        BufWriter { inner, buf: Vec::with_capacity(capacity), written: 0 }
    }

    /// The inner writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The inner writer, mutably. Writing to it directly puts the bytes
    /// ahead of those still buffered.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// Gives back the inner writer; bytes still buffered are dropped
    /// (flush first).
    pub fn into_inner(self) -> W {
        self.inner
    }

    /// The bytes written into the buffer and not yet passed on.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.written..]
    }

    /// The buffer's size.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }
}

impl<W: AsyncWrite + Unpin> BufWriter<W> {
    /// Writes the whole buffer to the inner writer (without flushing it).
    fn poll_flush_buf(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.buf.len() {
            match ready!(Pin::new(&mut self.inner).poll_write(cx, &self.buf[self.written..])) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        self.buf.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for BufWriter<W> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.buf.len() + buf.len() > this.buf.capacity() {
            ready!(this.poll_flush_buf(cx))?;
        }
        if buf.len() >= this.buf.capacity() {
            Pin::new(&mut this.inner).poll_write(cx, buf)
        } else {
            this.buf.extend_from_slice(buf);
            Poll::Ready(Ok(buf.len()))
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let total = bufs.iter().fold(0usize, |n, b| n.saturating_add(b.len()));
        if this.buf.len() + total > this.buf.capacity() {
            ready!(this.poll_flush_buf(cx))?;
        }
        if total >= this.buf.capacity() {
            Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
        } else {
            for b in bufs {
                this.buf.extend_from_slice(b);
            }
            Poll::Ready(Ok(total))
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_flush_buf(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_flush_buf(cx))?;
        Pin::new(&mut this.inner).poll_close(cx)
    }
}

impl<W: AsyncRead + Unpin> AsyncRead for BufWriter<W> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<W: AsyncBufRead + Unpin> AsyncBufRead for BufWriter<W> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        Pin::new(&mut self.get_mut().inner).poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        Pin::new(&mut self.get_mut().inner).consume(amt);
    }
}

/// A stream with both a read and a write buffer: tokio's `BufStream`, a
/// [`BufReader`] around a [`BufWriter`] around the stream. For a
/// request-response protocol on one socket without splitting it: read
/// lines, write the answer in pieces, flush.
///
/// ```
/// use spindle_rt::io::{AsyncBufReadExt, AsyncWriteExt, BufStream};
/// use spindle_rt::net::UnixStream;
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let (a, b) = UnixStream::pair()?;
///     let (mut a, mut b) = (BufStream::new(a), BufStream::new(b));
///     a.write_all(b"PING\n").await?;
///     a.flush().await?;
///     let mut line = String::new();
///     b.read_line(&mut line).await?;
///     b.write_all(b"PONG\n").await?;
///     b.flush().await?;
///     line.clear();
///     a.read_line(&mut line).await?;
///     assert_eq!(line, "PONG\n");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct BufStream<S> {
    inner: BufReader<BufWriter<S>>,
}

impl<S> BufStream<S> {
    /// A `BufStream` with 8 KiB buffers each way.
    pub fn new(stream: S) -> BufStream<S> {
        BufStream { inner: BufReader::new(BufWriter::new(stream)) }
    }

    /// A `BufStream` with read and write buffers of the sizes given.
    pub fn with_capacity(reader_capacity: usize, writer_capacity: usize, stream: S) -> BufStream<S> {
        BufStream {
            inner: BufReader::with_capacity(
                reader_capacity,
                BufWriter::with_capacity(writer_capacity, stream),
            ),
        }
    }

    /// The stream.
    pub fn get_ref(&self) -> &S {
        self.inner.get_ref().get_ref()
    }

    /// The stream, mutably (bypassing both buffers).
    pub fn get_mut(&mut self) -> &mut S {
        self.inner.get_mut().get_mut()
    }

    /// Gives back the stream; buffered bytes both ways are dropped.
    pub fn into_inner(self) -> S {
        self.inner.into_inner().into_inner()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for BufStream<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncBufRead for BufStream<S> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        Pin::new(&mut self.get_mut().inner).poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        Pin::new(&mut self.get_mut().inner).consume(amt);
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for BufStream<S> {
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
