//! [`AsyncSeekExt`]: tokio's `seek`, `rewind` and `stream_position` on
//! every `futures-io` seekable stream.

use futures_io::AsyncSeek;
use std::future::Future;
use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Moves the cursor of a seekable stream: tokio's `AsyncSeekExt`, for the
/// ecosystem's [`futures_io::AsyncSeek`] (which [`fs::File`](crate::fs::File)
/// and [`BufReader`](super::BufReader) implement).
///
/// ```
/// use spindle_rt::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, SeekFrom};
///
/// # let path = std::env::temp_dir().join(format!("spindle-seek-doc-{}", std::process::id()));
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let mut file = spindle_rt::fs::OpenOptions::new()
///         .read(true).write(true).create(true).truncate(true)
///         .open(&path).await?;
///     AsyncWriteExt::write_all(&mut file, b"header:body").await?;
///     AsyncSeekExt::seek(&mut file, SeekFrom::Start(7)).await?;
///     let mut body = String::new();
///     file.read_to_string(&mut body).await?;
///     assert_eq!(body, "body");
///     assert_eq!(file.stream_position().await?, 11);
///     file.rewind().await?;
///     assert_eq!(file.read_u8().await?, b'h');
///     Ok::<(), std::io::Error>(())
/// })?;
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait AsyncSeekExt: AsyncSeek {
    /// Moves the cursor and returns its new offset from the start.
    ///
    /// # Errors
    ///
    /// The stream's: `InvalidInput` for a position before the start.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the seek may have happened when the future is
    /// dropped; ask [`stream_position`](Self::stream_position).
    fn seek(&mut self, pos: SeekFrom) -> Seek<'_, Self>
    where
        Self: Unpin,
    {
        Seek { stream: self, pos }
    }

    /// Moves the cursor back to the start.
    ///
    /// # Errors
    ///
    /// As [`seek`](Self::seek).
    fn rewind(&mut self) -> Seek<'_, Self>
    where
        Self: Unpin,
    {
        Seek { stream: self, pos: SeekFrom::Start(0) }
    }

    /// The cursor's offset from the start (a seek by 0 from the current
    /// position). Yields `u64` like [`seek`](Self::seek).
    ///
    /// # Errors
    ///
    /// As [`seek`](Self::seek).
    fn stream_position(&mut self) -> Seek<'_, Self>
    where
        Self: Unpin,
    {
        Seek { stream: self, pos: SeekFrom::Current(0) }
    }
}

impl<S: AsyncSeek + ?Sized> AsyncSeekExt for S {}

/// The future of [`AsyncSeekExt`]'s methods.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Seek<'a, S: ?Sized> {
    stream: &'a mut S,
    pos: SeekFrom,
}

impl<S: AsyncSeek + Unpin + ?Sized> Future for Seek<'_, S> {
    type Output = io::Result<u64>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        Pin::new(&mut *this.stream).poll_seek(cx, this.pos)
    }
}
