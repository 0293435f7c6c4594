//! [`stdin`], [`stdout`] and [`stderr`]: the process's standard streams
//! as `AsyncRead` / `AsyncWrite`, tokio's `tokio::io::stdin()` and
//! friends.
//!
//! The standard streams may be a terminal, a pipe or a file, shared with
//! other processes, so they are not switched to non-blocking mode (that
//! would change them for every process sharing them). Each read or write
//! runs as a blocking call on the runtime's blocking pool instead, as in
//! tokio:
//!
//! * a read hands a buffer to the pool and copies out what came back;
//! * a write is *write-behind*: `poll_write` copies the bytes, sends them
//!   to the pool and returns at once; the next operation waits for that
//!   write first and reports its error, so `flush` (or `shutdown`) before
//!   exiting to learn the fate of the last write and to be sure it is out.
//!
//! One operation is in flight per handle; two handles to the same stream
//! write in whatever order the pool runs them, so keep one handle (or a
//! task) per stream where the order of the output matters.
//!
//! A read of stdin cannot be interrupted: a runtime shut down while one is
//! in progress leaves it on its pool thread until a line (or the end of
//! the input) arrives, as in tokio.

use std::fmt;
use std::future::Future;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::blocking::spawn_blocking;
use crate::fs::joined;
use crate::task::JoinHandle;

/// The most one pool call moves (2 MiB, as tokio and [`fs::File`]): a
/// bigger buffer is served in several calls.
///
/// [`fs::File`]: crate::fs::File
const MAX_BUF: usize = 2 * 1024 * 1024;

/// The process's standard input; see [`stdin`].
pub struct Stdin {
    reader: Reader<io::Stdin>,
}

/// The process's standard output; see [`stdout`].
pub struct Stdout {
    writer: Writer<io::Stdout>,
}

/// The process's standard error; see [`stderr`].
pub struct Stderr {
    writer: Writer<io::Stderr>,
}

/// A handle to the process's standard input, read on the blocking pool
/// (see the module docs). Wrap it in a [`BufReader`](super::BufReader) to
/// read lines:
///
/// ```no_run
/// use spindle_rt::io::{self, AsyncBufReadExt, BufReader};
///
/// # async fn demo() -> std::io::Result<()> {
/// let mut lines = BufReader::new(io::stdin()).lines();
/// while let Some(line) = lines.next_line().await? {
///     println!("got {line}");
/// }
/// # Ok(())
/// # }
/// ```
///
/// # Panics
///
/// Its reads panic outside a runtime (they need the blocking pool).
pub fn stdin() -> Stdin {
    Stdin { reader: Reader::new(io::stdin()) }
}

/// A handle to the process's standard output, written on the blocking
/// pool (see the module docs): `flush` before exiting.
///
/// ```no_run
/// use spindle_rt::io::{self, AsyncWriteExt};
///
/// # async fn demo() -> std::io::Result<()> {
/// let mut out = io::stdout();
/// out.write_all(b"hello\n").await?;
/// out.flush().await?;
/// # Ok(())
/// # }
/// ```
///
/// # Panics
///
/// Its writes panic outside a runtime (they need the blocking pool).
pub fn stdout() -> Stdout {
    Stdout { writer: Writer::new(io::stdout()) }
}

/// A handle to the process's standard error, as [`stdout`].
pub fn stderr() -> Stderr {
    Stderr { writer: Writer::new(io::stderr()) }
}

/// What a pool call hands back: the stream, the buffer and the result.
struct Done<T> {
    inner: T,
    buf: Vec<u8>,
    res: io::Result<usize>,
}

/// Reads `T` on the pool into an owned buffer.
enum Reader<T> {
    /// Not reading; `buf[pos..]` was read and not yet handed out.
    Idle {
        inner: T,
        buf: Vec<u8>,
        pos: usize,
    },
    Busy(JoinHandle<Done<T>>),
    /// A pool call panicked (the panic went to the caller).
    Poisoned,
}

impl<T: Read + Send + 'static> Reader<T> {
    fn new(inner: T) -> Reader<T> {
        Reader::Idle { inner, buf: Vec::new(), pos: 0 }
    }

    fn poll_read(&mut self, cx: &mut Context<'_>, dst: &mut [u8]) -> Poll<io::Result<usize>> {
        loop {
            match self {
                Reader::Idle { buf, pos, .. } if *pos < buf.len() => {
                    let n = dst.len().min(buf.len() - *pos);
                    dst[..n].copy_from_slice(&buf[*pos..*pos + n]);
                    *pos += n;
                    return Poll::Ready(Ok(n));
                }
                Reader::Idle { .. } if dst.is_empty() => return Poll::Ready(Ok(0)),
                Reader::Idle { .. } => {
                    let Reader::Idle { mut inner, mut buf, .. } = std::mem::replace(self, Reader::Poisoned)
                    else {
                        unreachable!("matched Idle above");
                    };
                    buf.clear();
                    buf.resize(dst.len().min(MAX_BUF), 0);
                    *self = Reader::Busy(spawn_blocking(move || {
                        let res = loop {
                            match inner.read(&mut buf) {
                                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                                res => break res,
                            }
                        };
                        buf.truncate(*res.as_ref().unwrap_or(&0));
                        Done { inner, buf, res }
                    }));
                }
                Reader::Busy(handle) => {
                    let result = ready!(Pin::new(handle).poll(cx));
                    *self = Reader::Poisoned;
                    let Done { inner, buf, res } = joined(result)?;
                    *self = Reader::Idle { inner, buf, pos: 0 };
                    // An error, or the end of the input (nothing read);
                    // else the loop hands out what was read.
                    if res? == 0 {
                        return Poll::Ready(Ok(0));
                    }
                }
                Reader::Poisoned => return Poll::Ready(Err(poisoned())),
            }
        }
    }
}

/// What the pool call in flight does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Write,
    Flush,
}

/// Writes `T` on the pool, write-behind.
enum Writer<T> {
    Idle {
        inner: T,
        buf: Vec<u8>,
    },
    Busy(JoinHandle<Done<T>>, Op),
    /// A pool call panicked (the panic went to the caller).
    Poisoned,
}

impl<T: Write + Send + 'static> Writer<T> {
    fn new(inner: T) -> Writer<T> {
        Writer::Idle { inner, buf: Vec::new() }
    }

    /// Waits for the call in flight, if any; `Ok(Some(op))` names the call
    /// that just finished.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<Op>>> {
        match self {
            Writer::Idle { .. } => Poll::Ready(Ok(None)),
            Writer::Busy(handle, op) => {
                let op = *op;
                let result = ready!(Pin::new(handle).poll(cx));
                *self = Writer::Poisoned;
                let Done { inner, buf, res } = joined(result)?;
                *self = Writer::Idle { inner, buf };
                Poll::Ready(res.map(|_| Some(op)))
            }
            Writer::Poisoned => Poll::Ready(Err(poisoned())),
        }
    }

    /// Sends `op` (with `src` for a write) to the pool.
    fn start(&mut self, op: Op, src: &[u8]) {
        let Writer::Idle { mut inner, mut buf } = std::mem::replace(self, Writer::Poisoned) else {
            unreachable!("start is called only when idle");
        };
        buf.clear();
        buf.extend_from_slice(src);
        let handle = spawn_blocking(move || {
            let res = match op {
                Op::Write => inner.write_all(&buf).map(|()| buf.len()),
                Op::Flush => inner.flush().map(|()| 0),
            };
            buf.clear();
            Done { inner, buf, res }
        });
        *self = Writer::Busy(handle, op);
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, src: &[u8]) -> Poll<io::Result<usize>> {
        // The previous write's error is this call's.
        ready!(self.poll_idle(cx))?;
        if src.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let n = src.len().min(MAX_BUF);
        self.start(Op::Write, &src[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            match ready!(self.poll_idle(cx))? {
                Some(Op::Flush) => return Poll::Ready(Ok(())),
                // Idle, or a write just finished: flush after it.
                None | Some(Op::Write) => self.start(Op::Flush, &[]),
            }
        }
    }
}

fn poisoned() -> io::Error {
    io::Error::other("a previous operation on this standard stream panicked")
}

impl futures_io::AsyncRead for Stdin {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.get_mut().reader.poll_read(cx, buf)
    }
}

/// `AsyncWrite` for the two output handles.
macro_rules! std_writer {
    ($($ty:ty),*) => {$(
        impl futures_io::AsyncWrite for $ty {
            fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
                self.get_mut().writer.poll_write(cx, buf)
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.get_mut().writer.poll_flush(cx)
            }

            /// Flushes: the standard streams are not closed.
            fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.get_mut().writer.poll_flush(cx)
            }
        }
    )*};
}

std_writer!(Stdout, Stderr);

/// The descriptors (0, 1, 2), as tokio's handles give them, and `Debug`.
macro_rules! std_fd {
    ($($ty:ty => $std:path),*) => {$(
        impl AsRawFd for $ty {
            fn as_raw_fd(&self) -> RawFd {
                $std().as_raw_fd()
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty)).field("fd", &self.as_raw_fd()).finish_non_exhaustive()
            }
        }
    )*};
}

std_fd!(Stdin => io::stdin, Stdout => io::stdout, Stderr => io::stderr);
