//! [`duplex`]: an in-memory, bounded, two-way byte pipe, tokio's
//! `io::duplex`.

use futures_io::{AsyncRead, AsyncWrite};
use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::lock;

/// Two connected in-memory streams: what one writes, the other reads, each
/// way holding at most `max_buf_size` bytes. tokio's `io::duplex`.
///
/// A stand-in for a socket pair in tests of code generic over
/// `AsyncRead + AsyncWrite` (a codec, a protocol handler): no descriptors,
/// no driver, on any executor. The bound gives back-pressure as a socket
/// does: a writer that gets `max_buf_size` bytes ahead waits for the
/// reader.
///
/// Closing one side (`shutdown`) lets the other read what is buffered,
/// then the end of the stream. Dropping one side does that too, and
/// makes the other side's writes fail with `BrokenPipe`, as writing to a
/// closed socket does.
///
/// ```
/// use spindle_rt::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let (mut client, server) = spindle_rt::io::duplex(64);
///     client.write_all(b"HELO there\n").await?;
///     client.shutdown().await?;
///     let mut lines = BufReader::new(server).lines();
///     assert_eq!(lines.next_line().await?.as_deref(), Some("HELO there"));
///     assert_eq!(lines.next_line().await?, None);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Panics
///
/// If `max_buf_size` is 0 (no byte could ever pass).
pub fn duplex(max_buf_size: usize) -> (DuplexStream, DuplexStream) {
    assert!(max_buf_size > 0, "duplex: max_buf_size must be at least 1");
    let one = Arc::new(Mutex::new(Pipe::new(max_buf_size)));
    let two = Arc::new(Mutex::new(Pipe::new(max_buf_size)));
    (DuplexStream { read: one.clone(), write: two.clone() }, DuplexStream { read: two, write: one })
}

/// One end of a [`duplex`] pipe: [`AsyncRead`] from the other end's
/// writes, [`AsyncWrite`] to the other end's reads. `Send + Sync`, so the
/// two ends may live in tasks on different threads.
#[derive(Debug)]
pub struct DuplexStream {
    read: Arc<Mutex<Pipe>>,
    write: Arc<Mutex<Pipe>>,
}

/// One direction: the bytes in flight and who waits on them.
#[derive(Debug)]
struct Pipe {
    buf: VecDeque<u8>,
    max: usize,
    /// The writing end closed (or dropped): reads end once `buf` drains.
    write_closed: bool,
    /// The reading end dropped: writes fail.
    read_closed: bool,
    read_waker: Option<Waker>,
    write_waker: Option<Waker>,
}

impl Pipe {
    fn new(max: usize) -> Pipe {
        Pipe {
            buf: VecDeque::new(),
            max,
            write_closed: false,
            read_closed: false,
            read_waker: None,
            write_waker: None,
        }
    }

    fn close_write(&mut self) -> Option<Waker> {
        self.write_closed = true;
        self.read_waker.take()
    }

    fn close_read(&mut self) -> Option<Waker> {
        self.read_closed = true;
        self.write_waker.take()
    }
}

/// Wakes `w`, if any, after the lock that produced it is released.
fn wake(w: Option<Waker>) {
    if let Some(w) = w {
        w.wake();
    }
}

/// Stores `cx`'s waker in `slot` unless the same task is already there.
fn park(slot: &mut Option<Waker>, cx: &Context<'_>) {
    match slot {
        Some(w) if w.will_wake(cx.waker()) => {}
        _ => *slot = Some(cx.waker().clone()),
    }
}

impl AsyncRead for DuplexStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        crate::coop::poll_budgeted(cx, |cx| {
            let (res, waker) = {
                let mut p = lock(&self.read);
                if buf.is_empty() {
                    return Poll::Ready(Ok(0));
                }
                if p.buf.is_empty() {
                    if p.write_closed {
                        return Poll::Ready(Ok(0));
                    }
                    park(&mut p.read_waker, cx);
                    return Poll::Pending;
                }
                let n = buf.len().min(p.buf.len());
                for (dst, src) in buf.iter_mut().zip(p.buf.drain(..n)) {
                    *dst = src;
                }
                (Poll::Ready(Ok(n)), p.write_waker.take())
            };
            wake(waker);
            res
        })
    }
}

impl AsyncWrite for DuplexStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        crate::coop::poll_budgeted(cx, |cx| {
            let (res, waker) = {
                let mut p = lock(&self.write);
                if p.read_closed || p.write_closed {
                    return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
                }
                if buf.is_empty() {
                    return Poll::Ready(Ok(0));
                }
                let room = p.max - p.buf.len();
                if room == 0 {
                    park(&mut p.write_waker, cx);
                    return Poll::Pending;
                }
                let n = room.min(buf.len());
                p.buf.extend(&buf[..n]);
                (Poll::Ready(Ok(n)), p.read_waker.take())
            };
            wake(waker);
            res
        })
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Closes this end's writing side: the other end reads what is
    /// buffered, then the end of the stream; this end can still read.
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        let waker = lock(&self.write).close_write();
        wake(waker);
        Poll::Ready(Ok(()))
    }
}

impl Drop for DuplexStream {
    fn drop(&mut self) {
        let reader = lock(&self.write).close_write();
        let writer = lock(&self.read).close_read();
        wake(reader);
        wake(writer);
    }
}
