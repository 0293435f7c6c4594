//! [`AsyncBufReadExt`]: tokio's buffer, line and delimiter methods (`fill_buf`, `consume`, `read_line`,
//! `read_until`, `lines`, `split`) on every buffered `futures-io` reader.

use futures_io::AsyncBufRead;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::read_ext::append_utf8;

/// Reads lines and delimited records from a buffered reader: tokio's
/// `AsyncBufReadExt`, for the ecosystem's [`futures_io::AsyncBufRead`].
///
/// A socket is not buffered: to find the end of a line, something has to
/// read past it, and the bytes after the newline must wait somewhere for
/// the next call. Wrap the socket in a [`BufReader`](super::BufReader)
/// (or split it, and wrap the read half), which reads big chunks and
/// hands them out line by line; one system call then serves many short
/// lines, where reading a byte at a time would cost one each.
///
/// ```
/// use spindle_rt::io::{AsyncBufReadExt, BufReader};
/// use spindle_rt::net::UnixStream;
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let (mut a, b) = UnixStream::pair()?;
///     a.write_all(b"GET /\r\nHost: x\r\n\r\n").await?;
///     let mut lines = BufReader::new(b).lines();
///     assert_eq!(lines.next_line().await?.as_deref(), Some("GET /"));
///     assert_eq!(lines.next_line().await?.as_deref(), Some("Host: x"));
///     assert_eq!(lines.next_line().await?.as_deref(), Some(""));
///     drop(a);
///     assert_eq!(lines.next_line().await?, None);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait AsyncBufReadExt: AsyncBufRead {
    /// Reads up to and including the next `byte` (or to the end of the
    /// stream), appending to `buf`; returns how many bytes were appended,
    /// `0` at the end of the stream.
    ///
    /// # Errors
    ///
    /// The first read error other than `Interrupted`; the bytes read until
    /// then are in `buf`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: bytes are appended to `buf` as they are taken from the
    /// reader, so after a cancel the next call goes on where this one left
    /// off and nothing is lost.
    fn read_until<'a>(&'a mut self, byte: u8, buf: &'a mut Vec<u8>) -> ReadUntil<'a, Self>
    where
        Self: Unpin,
    {
        ReadUntil { reader: self, delim: byte, buf, read: 0 }
    }

    /// Reads up to and including the next `\n` (or to the end of the
    /// stream), appending the text to `buf`; returns how many bytes were
    /// appended, `0` at the end of the stream. The newline (and any `\r`
    /// before it) stays in `buf`; [`lines`](Self::lines) strips them.
    ///
    /// # Errors
    ///
    /// As [`read_until`](Self::read_until), and `InvalidData` if the line
    /// is not UTF-8. On any error `buf` is left as it was.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the line is gathered apart and appended when it is
    /// whole (a `String` cannot hold half a character), so a dropped
    /// `ReadLine` loses what it read. [`Lines::next_line`] keeps its
    /// partial line in the `Lines` and is cancel safe.
    fn read_line<'a>(&'a mut self, buf: &'a mut String) -> ReadLine<'a, Self>
    where
        Self: Unpin,
    {
        ReadLine { reader: self, out: buf, bytes: Vec::new(), read: 0 }
    }

    /// The bytes buffered now, reading more first if none are (an empty
    /// slice at the end of the stream). They stay buffered until
    /// [`consume`](Self::consume)d: the next call sees them again. As
    /// tokio's `fill_buf`.
    ///
    /// # Errors
    ///
    /// The reader's read error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is consumed until [`consume`](Self::consume).
    fn fill_buf(&mut self) -> FillBuf<'_, Self>
    where
        Self: Unpin,
    {
        FillBuf { reader: Some(self) }
    }

    /// Marks `amt` bytes of the buffer returned by
    /// [`fill_buf`](Self::fill_buf) as read: they are not returned again.
    /// `amt` must not exceed that buffer's length. As tokio's `consume`.
    fn consume(&mut self, amt: usize)
    where
        Self: Unpin,
    {
        Pin::new(self).consume(amt);
    }

    /// The lines of this reader, without their `\n` or `\r\n`, one per
    /// [`Lines::next_line`] call.
    fn lines(self) -> Lines<Self>
    where
        Self: Sized,
    {
        Lines { reader: self, buf: Vec::new(), read: 0 }
    }

    /// The records of this reader separated by `byte` (not included), one
    /// per [`Split::next_segment`] call.
    fn split(self, byte: u8) -> Split<Self>
    where
        Self: Sized,
    {
        Split { reader: self, delim: byte, buf: Vec::new(), read: 0 }
    }
}

impl<R: AsyncBufRead + ?Sized> AsyncBufReadExt for R {}

/// Moves bytes from `reader`'s buffer to `buf` up to and including
/// `delim`, counting them in `*read`; `Ready(Ok(total))` when the
/// delimiter or the end of the stream is reached (and `*read` is reset).
/// Each byte is consumed from the reader as it is appended, so the state
/// lives in `buf` and `*read` alone and survives a dropped future.
fn poll_read_until<R: AsyncBufRead + Unpin + ?Sized>(
    reader: &mut R,
    cx: &mut Context<'_>,
    delim: u8,
    buf: &mut Vec<u8>,
    read: &mut usize,
) -> Poll<io::Result<usize>> {
    loop {
        let (done, used) = {
            let available = match ready!(Pin::new(&mut *reader).poll_fill_buf(cx)) {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Poll::Ready(Err(e)),
            };
            match available.iter().position(|&b| b == delim) {
                Some(i) => {
                    buf.extend_from_slice(&available[..=i]);
                    (true, i + 1)
                }
                None => {
                    buf.extend_from_slice(available);
                    (available.is_empty(), available.len())
                }
            }
        };
        Pin::new(&mut *reader).consume(used);
        *read += used;
        if done {
            return Poll::Ready(Ok(std::mem::take(read)));
        }
    }
}

/// The future of [`AsyncBufReadExt::read_until`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct ReadUntil<'a, R: ?Sized> {
    reader: &'a mut R,
    delim: u8,
    buf: &'a mut Vec<u8>,
    read: usize,
}

impl<R: AsyncBufRead + Unpin + ?Sized> Future for ReadUntil<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        poll_read_until(this.reader, cx, this.delim, this.buf, &mut this.read)
    }
}

/// The future of [`AsyncBufReadExt::fill_buf`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct FillBuf<'a, R: ?Sized> {
    /// Taken when the buffer is returned: the slice borrows it for `'a`.
    reader: Option<&'a mut R>,
}

impl<'a, R: AsyncBufRead + Unpin + ?Sized> Future for FillBuf<'a, R> {
    type Output = io::Result<&'a [u8]>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&'a [u8]>> {
        let this = self.get_mut();
        let reader = this.reader.take().expect("FillBuf polled after it completed");
        // First through a reborrow, so a `Pending` can put the reader back
        // (returning a slice of a reborrow would tie it to this call).
        match Pin::new(&mut *reader).poll_fill_buf(cx) {
            Poll::Pending => {
                this.reader = Some(reader);
                return Poll::Pending;
            }
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Ready(Ok([])) => return Poll::Ready(Ok(&[])),
            Poll::Ready(Ok(_)) => {}
        }
        // Bytes are buffered now, so asking again returns them at once,
        // borrowed for `'a`.
        match Pin::new(reader).poll_fill_buf(cx) {
            Poll::Ready(res) => Poll::Ready(res),
            Poll::Pending => Poll::Ready(Err(io::Error::other(
                "poll_fill_buf returned Pending right after returning buffered bytes",
            ))),
        }
    }
}

/// The future of [`AsyncBufReadExt::read_line`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct ReadLine<'a, R: ?Sized> {
    reader: &'a mut R,
    out: &'a mut String,
    bytes: Vec<u8>,
    read: usize,
}

impl<R: AsyncBufRead + Unpin + ?Sized> Future for ReadLine<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(poll_read_until(this.reader, cx, b'\n', &mut this.bytes, &mut this.read))?;
        Poll::Ready(append_utf8(this.out, std::mem::take(&mut this.bytes)))
    }
}

/// The lines of a buffered reader, made by
/// [`AsyncBufReadExt::lines`]: the usual way to read a line protocol
/// (SMTP, Redis' inline commands, a chat server) from a socket.
///
/// The partial line is kept here, not in the future, so
/// [`next_line`](Lines::next_line) is cancel safe: race it in `select!`
/// against a channel or a timer, and a line that was half read when the
/// other branch won is finished by the next call.
///
/// ```
/// use spindle_rt::io::{AsyncBufReadExt, BufReader};
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let mut lines = BufReader::new(&b"one\r\ntwo\nthree"[..]).lines();
///     let mut got = Vec::new();
///     while let Some(line) = lines.next_line().await? {
///         got.push(line);
///     }
///     assert_eq!(got, ["one", "two", "three"]);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Lines<R> {
    reader: R,
    buf: Vec<u8>,
    read: usize,
}

impl<R> Lines<R> {
    /// The reader.
    pub fn get_ref(&self) -> &R {
        &self.reader
    }

    /// The reader, mutably. Reading from it directly skips over any
    /// partial line held here.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.reader
    }

    /// Gives back the reader (a partial line held here is dropped).
    pub fn into_inner(self) -> R {
        self.reader
    }
}

impl<R: AsyncBufRead + Unpin> Lines<R> {
    /// The next line, without its `\n` or `\r\n`; `None` at the end of the
    /// stream. A last line without a newline is still a line.
    ///
    /// # Errors
    ///
    /// A read error; `InvalidData` if the line is not UTF-8 (the line is
    /// dropped and the next call reads the one after it).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: see [`Lines`].
    pub fn next_line(&mut self) -> NextLine<'_, R> {
        NextLine { lines: self }
    }

    /// Polls for the next line: the building block of
    /// [`next_line`](Lines::next_line), for hand-written futures and
    /// streams.
    ///
    /// # Errors
    ///
    /// As [`next_line`](Lines::next_line).
    pub fn poll_next_line(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<Option<String>>> {
        let this = self.get_mut();
        let n = ready!(poll_read_until(&mut this.reader, cx, b'\n', &mut this.buf, &mut this.read))?;
        if n == 0 && this.buf.is_empty() {
            return Poll::Ready(Ok(None));
        }
        let mut bytes = std::mem::take(&mut this.buf);
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        let line = String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        Poll::Ready(Ok(Some(line)))
    }
}

/// The future of [`Lines::next_line`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct NextLine<'a, R> {
    lines: &'a mut Lines<R>,
}

impl<R: AsyncBufRead + Unpin> Future for NextLine<'_, R> {
    type Output = io::Result<Option<String>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.get_mut().lines).poll_next_line(cx)
    }
}

/// The records of a buffered reader separated by one byte, made by
/// [`AsyncBufReadExt::split`]: NUL-separated paths (`find -print0`),
/// or any framing with a one-byte terminator. Like [`Lines`], it keeps the
/// partial record itself, so [`next_segment`](Split::next_segment) is
/// cancel safe.
///
/// ```
/// use spindle_rt::io::{AsyncBufReadExt, BufReader};
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let mut parts = BufReader::new(&b"a\0bc\0"[..]).split(0);
///     assert_eq!(parts.next_segment().await?, Some(b"a".to_vec()));
///     assert_eq!(parts.next_segment().await?, Some(b"bc".to_vec()));
///     assert_eq!(parts.next_segment().await?, None);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Split<R> {
    reader: R,
    delim: u8,
    buf: Vec<u8>,
    read: usize,
}

impl<R> Split<R> {
    /// The reader.
    pub fn get_ref(&self) -> &R {
        &self.reader
    }

    /// The reader, mutably.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.reader
    }

    /// Gives back the reader (a partial record held here is dropped).
    pub fn into_inner(self) -> R {
        self.reader
    }
}

impl<R: AsyncBufRead + Unpin> Split<R> {
    /// The next record, without its delimiter; `None` at the end of the
    /// stream. A last record without a delimiter is still a record.
    ///
    /// # Errors
    ///
    /// A read error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: see [`Split`].
    pub fn next_segment(&mut self) -> NextSegment<'_, R> {
        NextSegment { split: self }
    }

    /// Polls for the next record: the building block of
    /// [`next_segment`](Split::next_segment).
    ///
    /// # Errors
    ///
    /// As [`next_segment`](Split::next_segment).
    pub fn poll_next_segment(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<Vec<u8>>>> {
        let this = self.get_mut();
        let n = ready!(poll_read_until(&mut this.reader, cx, this.delim, &mut this.buf, &mut this.read))?;
        if n == 0 && this.buf.is_empty() {
            return Poll::Ready(Ok(None));
        }
        let mut seg = std::mem::take(&mut this.buf);
        if seg.last() == Some(&this.delim) {
            seg.pop();
        }
        Poll::Ready(Ok(Some(seg)))
    }
}

/// The future of [`Split::next_segment`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct NextSegment<'a, R> {
    split: &'a mut Split<R>,
}

impl<R: AsyncBufRead + Unpin> Future for NextSegment<'_, R> {
    type Output = io::Result<Option<Vec<u8>>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.get_mut().split).poll_next_segment(cx)
    }
}
