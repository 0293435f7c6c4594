//! `copy_bidirectional`: the heart of a TCP proxy.

use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Bytes each direction buffers between a read and its write.
const BUF_SIZE: usize = 8 * 1024;

/// Copies bytes both ways between `a` and `b` at once until both sides
/// have finished, and returns how many went each way: `(a to b, b to a)`.
///
/// When one side reaches end of stream, the other side's write half is
/// closed (`poll_close`: `shutdown(SHUT_WR)` for the net types), so the
/// half-close travels through, as a proxy must pass it on: an HTTP/1.0
/// client that closes its sending side after the request still gets the
/// whole response. Each direction flushes before it waits for more input,
/// so nothing sits in a buffered writer while the other side waits.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use spindle_rt::io::AsyncReadExt; // read_to_end; the rest are the streams' own
/// use spindle_rt::net::{TcpListener, TcpStream};
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     // An upstream that answers "pong" and closes, and a proxy in front.
///     let upstream = TcpListener::bind("127.0.0.1:0").await?;
///     let up_addr = upstream.local_addr()?;
///     spindle_rt::spawn_local(async move {
///         let (mut s, _) = upstream.accept().await.unwrap();
///         let mut ping = [0; 4];
///         s.read_exact(&mut ping).await.unwrap();
///         s.write_all(b"pong").await.unwrap();
///     });
///     let proxy = TcpListener::bind("127.0.0.1:0").await?;
///     let proxy_addr = proxy.local_addr()?;
///     spindle_rt::spawn_local(async move {
///         let (mut client, _) = proxy.accept().await.unwrap();
///         let mut server = TcpStream::connect(up_addr).await.unwrap();
///         spindle_rt::io::copy_bidirectional(&mut client, &mut server).await.unwrap();
///     });
///     let mut c = TcpStream::connect(proxy_addr).await?;
///     c.write_all(b"ping").await?;
///     let mut reply = Vec::new();
///     c.read_to_end(&mut reply).await?;
///     assert_eq!(reply, b"pong");
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
///
/// The first read, write, flush or close error on either side, which ends
/// both directions; `WriteZero` if a writer accepts no bytes.
pub async fn copy_bidirectional<A, B>(a: &mut A, b: &mut B) -> io::Result<(u64, u64)>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    copy_bidirectional_with_sizes(a, b, BUF_SIZE, BUF_SIZE).await
}

/// [`copy_bidirectional`] with a buffer of `a_to_b_buf_size` bytes for the
/// copy from `a` to `b` and `b_to_a_buf_size` for the other way (tokio's
/// name and signature); `copy_bidirectional` uses 8 KiB each. Larger
/// buffers mean fewer system calls per byte for a bulk-transfer proxy.
///
/// # Errors
/// As [`copy_bidirectional`].
///
/// # Panics
/// If a size is 0 (such a buffer would read nothing, which looks like the
/// end of the stream).
pub async fn copy_bidirectional_with_sizes<A, B>(
    a: &mut A,
    b: &mut B,
    a_to_b_buf_size: usize,
    b_to_a_buf_size: usize,
) -> io::Result<(u64, u64)>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    assert!(a_to_b_buf_size > 0 && b_to_a_buf_size > 0, "copy buffers need at least one byte");
    let mut a_to_b = Direction::Copying(CopyBuffer::with_size(a_to_b_buf_size));
    let mut b_to_a = Direction::Copying(CopyBuffer::with_size(b_to_a_buf_size));
    poll_fn(|cx| {
        let ab = a_to_b.poll(cx, &mut *a, &mut *b)?;
        let ba = b_to_a.poll(cx, &mut *b, &mut *a)?;
        match (ab, ba) {
            (Poll::Ready(ab), Poll::Ready(ba)) => Poll::Ready(Ok((ab, ba))),
            _ => Poll::Pending,
        }
    })
    .await
}

/// Copies everything `reader` gives until its end of stream into `writer`,
/// then flushes `writer`, and returns how many bytes were copied: tokio's
/// `io::copy`, over the futures-io traits. The writer is not closed (a
/// socket's write side stays open; close it, or use
/// [`copy_bidirectional`], to pass the end of stream on).
///
/// ```
/// use spindle_rt::net::UnixStream;
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let (mut from, mut a) = UnixStream::pair()?;
///     let (mut b, mut to) = UnixStream::pair()?;
///     from.write_all(b"hello").await?;
///     drop(from);
///     assert_eq!(spindle_rt::io::copy(&mut a, &mut b).await?, 5);
///     let mut buf = [0; 5];
///     to.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"hello");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
///
/// The first read, write or flush error; `WriteZero` if the writer
/// accepts no bytes.
pub async fn copy<R, W>(reader: &mut R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut buf = CopyBuffer::with_size(BUF_SIZE);
    poll_fn(|cx| buf.poll_copy(cx, &mut *reader, &mut *writer)).await
}

/// Copies everything a buffered `reader` gives until its end of stream
/// into `writer`, straight from the reader's own buffer (no second
/// buffer), then flushes `writer`; returns how many bytes were copied:
/// tokio's `io::copy_buf`. As with [`copy`], the writer is not closed.
///
/// ```
/// use spindle_rt::io::BufReader;
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let mut reader = BufReader::new(&b"hello, world"[..]);
///     let mut out = Vec::new();
///     assert_eq!(spindle_rt::io::copy_buf(&mut reader, &mut out).await?, 12);
///     assert_eq!(out, b"hello, world");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// The first read, write or flush error; `WriteZero` if the writer
/// accepts no bytes.
pub async fn copy_buf<R, W>(reader: &mut R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncBufRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut amount = 0u64;
    poll_fn(|cx| {
        // One unit of budget per poll, as `copy`.
        let spent = ready!(crate::coop::poll_proceed(cx));
        let before = amount;
        let polled = poll_copy_buf(cx, &mut *reader, &mut *writer, &mut amount);
        if polled.is_ready() || amount != before {
            spent.made_progress();
        }
        polled
    })
    .await
}

/// [`copy_buf`]'s loop: fill, write, consume, until the end; then flush.
fn poll_copy_buf<R, W>(
    cx: &mut Context<'_>,
    reader: &mut R,
    writer: &mut W,
    amount: &mut u64,
) -> Poll<io::Result<u64>>
where
    R: AsyncBufRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    loop {
        let buf = match Pin::new(&mut *reader).poll_fill_buf(cx) {
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
            Poll::Ready(buf) => buf?,
            Poll::Pending => {
                // Nothing to pass on for now: flush what was.
                ready!(Pin::new(&mut *writer).poll_flush(cx))?;
                return Poll::Pending;
            }
        };
        if buf.is_empty() {
            ready!(Pin::new(&mut *writer).poll_flush(cx))?;
            return Poll::Ready(Ok(*amount));
        }
        let n = ready!(Pin::new(&mut *writer).poll_write(cx, buf))?;
        if n == 0 {
            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
        }
        Pin::new(&mut *reader).consume(n);
        *amount += n as u64;
    }
}

/// One direction: copying, then closing the writer, then done.
enum Direction {
    Copying(CopyBuffer),
    Closing(u64),
    Done(u64),
}

impl Direction {
    fn poll<R, W>(&mut self, cx: &mut Context<'_>, reader: &mut R, writer: &mut W) -> Poll<io::Result<u64>>
    where
        R: AsyncRead + Unpin + ?Sized,
        W: AsyncWrite + Unpin + ?Sized,
    {
        loop {
            match self {
                Direction::Copying(buf) => {
                    let amount = ready!(buf.poll_copy(cx, reader, writer))?;
                    *self = Direction::Closing(amount);
                }
                Direction::Closing(amount) => {
                    let amount = *amount;
                    ready!(Pin::new(&mut *writer).poll_close(cx))?;
                    *self = Direction::Done(amount);
                }
                Direction::Done(amount) => return Poll::Ready(Ok(*amount)),
            }
        }
    }
}

/// A buffer between one reader and one writer.
struct CopyBuffer {
    buf: Box<[u8]>,
    /// `buf[pos..cap]` is read and not yet written.
    pos: usize,
    cap: usize,
    read_done: bool,
    need_flush: bool,
    amount: u64,
}

impl CopyBuffer {
    fn with_size(size: usize) -> CopyBuffer {
        CopyBuffer {
            buf: vec![0; size].into_boxed_slice(),
            pos: 0,
            cap: 0,
            read_done: false,
            need_flush: false,
            amount: 0,
        }
    }

    /// Copies until the reader ends and all is written and flushed.
    fn poll_copy<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        reader: &mut R,
        writer: &mut W,
    ) -> Poll<io::Result<u64>>
    where
        R: AsyncRead + Unpin + ?Sized,
        W: AsyncWrite + Unpin + ?Sized,
    {
        // One unit of budget per poll, spent if it gets anywhere (as
        // tokio's): copies between readers and writers that know nothing
        // of the budget (slices, `Vec`s) still yield.
        let spent = ready!(crate::coop::poll_proceed(cx));
        let before = (self.amount, self.read_done);
        let polled = self.poll_copy_unbudgeted(cx, reader, writer);
        if polled.is_ready() || (self.amount, self.read_done) != before {
            spent.made_progress();
        }
        polled
    }

    /// [`poll_copy`](CopyBuffer::poll_copy) without the budget.
    fn poll_copy_unbudgeted<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        reader: &mut R,
        writer: &mut W,
    ) -> Poll<io::Result<u64>>
    where
        R: AsyncRead + Unpin + ?Sized,
        W: AsyncWrite + Unpin + ?Sized,
    {
        loop {
            if self.pos == self.cap && !self.read_done {
                match Pin::new(&mut *reader).poll_read(cx, &mut self.buf) {
                    Poll::Pending => {
                        // Nothing to pass on for now: flush what was, so
                        // it is not held back while we wait.
                        if self.need_flush {
                            ready!(Pin::new(&mut *writer).poll_flush(cx))?;
                            self.need_flush = false;
                        }
                        return Poll::Pending;
                    }
                    Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Ready(Ok(0)) => self.read_done = true,
                    Poll::Ready(Ok(n)) => {
                        self.pos = 0;
                        self.cap = n;
                    }
                }
            }
            while self.pos < self.cap {
                let n = ready!(Pin::new(&mut *writer).poll_write(cx, &self.buf[self.pos..self.cap]))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                self.pos += n;
                self.amount += n as u64;
                self.need_flush = true;
            }
            if self.pos == self.cap && self.read_done {
                ready!(Pin::new(&mut *writer).poll_flush(cx))?;
                return Poll::Ready(Ok(self.amount));
            }
        }
    }
}
