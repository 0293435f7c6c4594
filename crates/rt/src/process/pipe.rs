//! A child's stdio pipes as async streams on the netpoller.
//!
//! A pipe, unlike a regular file, has real readiness: `epoll` reports its
//! read end readable when the child has written and its write end writable
//! when the child has read. So the parent's ends are made `O_NONBLOCK` and
//! registered like sockets, and a read or write that would block parks the
//! task until the event.

use crate::io::Direction;
use crate::net::registration::Registration;
use spindle_poll::socket as sys;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::pin::Pin;
use std::task::{Context, Poll};

/// The parent's end of one pipe. Field order is drop order: off the
/// poller first, then closed.
struct PipeEnd {
    reg: Registration,
    fd: OwnedFd,
}

impl std::fmt::Debug for PipeEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipeEnd").field("fd", &self.fd.as_raw_fd()).finish()
    }
}

impl PipeEnd {
    fn new(fd: OwnedFd) -> io::Result<PipeEnd> {
        sys::set_nonblocking(fd.as_raw_fd())?;
        let reg = Registration::new(fd.as_raw_fd())?;
        Ok(PipeEnd { reg, fd })
    }

    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let fd = self.fd.as_raw_fd();
        let len = buf.len();
        self.reg.poll_stream_io(cx, None, Direction::Read, len, || sys::read(fd, buf))
    }

    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let fd = self.fd.as_raw_fd();
        self.reg.poll_stream_io(cx, None, Direction::Write, buf.len(), || sys::write(fd, buf))
    }
}

/// The child's standard input, written by the parent: `futures-io`
/// `AsyncWrite`. Dropping it (or `close`) closes the pipe, and the child
/// reads end of file.
#[derive(Debug)]
pub struct ChildStdin {
    /// `None` once closed.
    end: Option<PipeEnd>,
}

/// The child's standard output, read by the parent: `futures-io`
/// `AsyncRead`; a read of 0 bytes means the child closed it (usually by
/// exiting).
#[derive(Debug)]
pub struct ChildStdout {
    end: PipeEnd,
}

/// The child's standard error, read by the parent: `futures-io`
/// `AsyncRead`, as [`ChildStdout`].
#[derive(Debug)]
pub struct ChildStderr {
    end: PipeEnd,
}

impl ChildStdin {
    pub(super) fn new(std: std::process::ChildStdin) -> io::Result<ChildStdin> {
        Ok(ChildStdin { end: Some(PipeEnd::new(OwnedFd::from(std))?) })
    }
}

impl ChildStdout {
    pub(super) fn new(std: std::process::ChildStdout) -> io::Result<ChildStdout> {
        Ok(ChildStdout { end: PipeEnd::new(OwnedFd::from(std))? })
    }
}

impl ChildStderr {
    pub(super) fn new(std: std::process::ChildStderr) -> io::Result<ChildStderr> {
        Ok(ChildStderr { end: PipeEnd::new(OwnedFd::from(std))? })
    }
}

impl futures_io::AsyncWrite for ChildStdin {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match &self.end {
            Some(end) => end.poll_write(cx, buf),
            None => {
                Poll::Ready(Err(io::Error::new(io::ErrorKind::BrokenPipe, "the child's stdin was closed")))
            }
        }
    }

    /// A pipe has no buffer of ours to flush.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Closes the pipe: the child reads end of file.
    fn poll_close(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.end = None;
        Poll::Ready(Ok(()))
    }
}

impl futures_io::AsyncRead for ChildStdout {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.end.poll_read(cx, buf)
    }
}

impl futures_io::AsyncRead for ChildStderr {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.end.poll_read(cx, buf)
    }
}

/// Reads `pipe` into `out` until it would block or ends; at the end it
/// becomes `None`.
pub(super) fn drain<R: futures_io::AsyncRead + Unpin>(
    pipe: &mut Option<R>,
    out: &mut Vec<u8>,
    cx: &mut Context<'_>,
) -> io::Result<()> {
    let mut chunk = [0u8; 8192];
    while let Some(reader) = pipe {
        match Pin::new(reader).poll_read(cx, &mut chunk) {
            Poll::Ready(Ok(0)) => *pipe = None,
            Poll::Ready(Ok(n)) => out.extend_from_slice(&chunk[..n]),
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
            Poll::Ready(Err(e)) => return Err(e),
            Poll::Pending => break,
        }
    }
    Ok(())
}
