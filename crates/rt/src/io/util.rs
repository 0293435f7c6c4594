//! tokio's trivial streams: [`empty`], [`sink`] and [`repeat`], for tests
//! and for plugging a slot that wants a reader or a writer.

use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

/// A reader at its end and a writer that takes everything: see [`empty`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Empty {
    _priv: (),
}

/// A reader that is always at the end of its stream (every read returns
/// `Ok(0)`), which also takes and drops every write: tokio's `io::empty`.
/// The stand-in for a request body that is not there.
///
/// ```
/// use spindle_rt::io::AsyncReadExt;
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let mut buf = Vec::new();
///     assert_eq!(spindle_rt::io::empty().read_to_end(&mut buf).await?, 0);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn empty() -> Empty {
    Empty { _priv: () }
}

impl AsyncRead for Empty {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, _: &mut [u8]) -> Poll<io::Result<usize>> {
        // Always ready, so it spends budget, as tokio's: a loop reading it
        // still yields.
        crate::coop::poll_budgeted(cx, |_| Poll::Ready(Ok(0)))
    }
}

impl AsyncBufRead for Empty {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        crate::coop::poll_budgeted(cx, |_| Poll::Ready(Ok(&[][..])))
    }

    fn consume(self: Pin<&mut Self>, _: usize) {}
}

impl AsyncWrite for Empty {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        // Always ready, so it spends budget, as tokio's.
        crate::coop::poll_budgeted(cx, |_| Poll::Ready(Ok(buf.len())))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A writer that takes and drops everything: see [`sink`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Sink {
    _priv: (),
}

/// A writer that takes every byte and drops it at once: tokio's
/// `io::sink`, `/dev/null` as a writer. `io::copy(&mut reader, &mut
/// sink())` counts a stream's bytes.
pub fn sink() -> Sink {
    Sink { _priv: () }
}

impl AsyncWrite for Sink {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        // Always ready, so it spends budget, as tokio's.
        crate::coop::poll_budgeted(cx, |_| Poll::Ready(Ok(buf.len())))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        crate::coop::poll_budgeted(cx, |_| Poll::Ready(Ok(bufs.iter().map(|b| b.len()).sum())))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A reader of one byte for ever: see [`repeat`].
#[derive(Debug, Clone, Copy)]
pub struct Repeat {
    byte: u8,
}

/// A reader that fills every buffer with `byte` and never ends: tokio's
/// `io::repeat`. With [`take`](super::AsyncReadExt::take) it makes a
/// payload of any size without allocating it.
///
/// ```
/// use spindle_rt::io::AsyncReadExt;
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let mut zeros = spindle_rt::io::repeat(0).take(1 << 20);
///     let n = spindle_rt::io::copy(&mut zeros, &mut spindle_rt::io::sink()).await?;
///     assert_eq!(n, 1 << 20);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn repeat(byte: u8) -> Repeat {
    Repeat { byte }
}

impl AsyncRead for Repeat {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        // Always ready, so it spends budget, as tokio's.
        crate::coop::poll_budgeted(cx, |_| {
            buf.fill(self.byte);
            Poll::Ready(Ok(buf.len()))
        })
    }
}
