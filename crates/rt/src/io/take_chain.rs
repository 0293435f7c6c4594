//! Reader adapters: [`Take`] (at most n bytes of a reader) and [`Chain`]
//! (one reader after another), as made by
//! [`AsyncReadExt::take`](super::AsyncReadExt::take) and
//! [`chain`](super::AsyncReadExt::chain).

use futures_io::{AsyncBufRead, AsyncRead};
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// A reader that yields at most `limit` bytes of its inner reader, then
/// reports the end of the stream. Made by
/// [`AsyncReadExt::take`](super::AsyncReadExt::take).
///
/// The usual use is a length-prefixed frame: read the length, then hand
/// `(&mut stream).take(len)` to code that reads to the end, and the
/// stream is left at the next frame. If the inner reader is buffered
/// ([`AsyncBufRead`]), so is the `Take`, and `lines()` stay inside the
/// frame.
///
/// ```
/// use spindle_rt::io::AsyncReadExt;
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let mut input: &[u8] = b"\x05helloworld";
///     let len = input.read_u8().await?;
///     let mut body = String::new();
///     (&mut input).take(u64::from(len)).read_to_string(&mut body).await?;
///     assert_eq!((body.as_str(), input), ("hello", &b"world"[..]));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Take<R> {
    inner: R,
    limit: u64,
}

impl<R> Take<R> {
    pub(super) fn new(inner: R, limit: u64) -> Take<R> {
        Take { inner, limit }
    }

    /// How many bytes may still be read before this reports the end.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Sets how many more bytes may be read (counting from now).
    pub fn set_limit(&mut self, limit: u64) {
        self.limit = limit;
    }

    /// The inner reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The inner reader, mutably; reading from it directly does not count
    /// against the limit.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Gives back the inner reader.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

/// `n` capped at `limit`.
fn cap(n: usize, limit: u64) -> usize {
    usize::try_from(limit).map_or(n, |l| n.min(l))
}

impl<R: AsyncRead + Unpin> AsyncRead for Take<R> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.limit == 0 {
            return Poll::Ready(Ok(0));
        }
        let max = cap(buf.len(), this.limit);
        let n = ready!(Pin::new(&mut this.inner).poll_read(cx, &mut buf[..max]))?;
        this.limit -= n as u64;
        Poll::Ready(Ok(n))
    }
}

impl<R: AsyncBufRead + Unpin> AsyncBufRead for Take<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        if this.limit == 0 {
            return Poll::Ready(Ok(&[]));
        }
        let buf = ready!(Pin::new(&mut this.inner).poll_fill_buf(cx))?;
        Poll::Ready(Ok(&buf[..cap(buf.len(), this.limit)]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.get_mut();
        let amt = cap(amt, this.limit);
        this.limit -= amt as u64;
        Pin::new(&mut this.inner).consume(amt);
    }
}

/// A reader that yields its first reader to the end, then its second.
/// Made by [`AsyncReadExt::chain`](super::AsyncReadExt::chain): a header
/// kept in memory in front of a body still in a socket, read as one
/// stream.
#[derive(Debug)]
pub struct Chain<A, B> {
    first: A,
    second: B,
    first_done: bool,
}

impl<A, B> Chain<A, B> {
    pub(super) fn new(first: A, second: B) -> Chain<A, B> {
        Chain { first, second, first_done: false }
    }

    /// The two readers.
    pub fn get_ref(&self) -> (&A, &B) {
        (&self.first, &self.second)
    }

    /// The two readers, mutably.
    pub fn get_mut(&mut self) -> (&mut A, &mut B) {
        (&mut self.first, &mut self.second)
    }

    /// Gives back the two readers.
    pub fn into_inner(self) -> (A, B) {
        (self.first, self.second)
    }
}

impl<A: AsyncRead + Unpin, B: AsyncRead + Unpin> AsyncRead for Chain<A, B> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if !this.first_done {
            match ready!(Pin::new(&mut this.first).poll_read(cx, buf))? {
                0 if !buf.is_empty() => this.first_done = true,
                n => return Poll::Ready(Ok(n)),
            }
        }
        Pin::new(&mut this.second).poll_read(cx, buf)
    }
}

impl<A: AsyncBufRead + Unpin, B: AsyncBufRead + Unpin> AsyncBufRead for Chain<A, B> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        if !this.first_done {
            match ready!(Pin::new(&mut this.first).poll_fill_buf(cx))? {
                [] => this.first_done = true,
                // Polled again to return it with `this`'s whole lifetime;
                // the buffer is there, so this is `Ready` at once.
                _ => return Pin::new(&mut this.first).poll_fill_buf(cx),
            }
        }
        Pin::new(&mut this.second).poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.get_mut();
        if this.first_done {
            Pin::new(&mut this.second).consume(amt);
        } else {
            Pin::new(&mut this.first).consume(amt);
        }
    }
}
