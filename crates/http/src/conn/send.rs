//! Writing: the gathered answers, then a body from a file (by
//! `sendfile`, one range or several) or from memory (a listing).

use super::{timed, Conn, End};
use crate::cache::Entry;
use crate::response::FileBody;
use crate::sys;
use spindle_rt::io::Direction;
use spindle_rt::time::Instant;
use std::os::fd::{AsRawFd, RawFd};

impl Conn {
    /// Writes out the gathered responses.
    pub(super) async fn flush(&mut self) -> Result<(), End> {
        let mut sent = 0;
        while sent < self.out.len() {
            let deadline = Instant::now() + self.w.cfg.timeouts.send;
            let Conn { w, idx, timer, stream, out, .. } = self;
            let n = timed(w, *idx, timer, |_| deadline, stream.write(&out[sent..])).await?;
            if n == 0 {
                return Err(End::Closed);
            }
            sent += n;
        }
        self.out.clear();
        Ok(())
    }

    /// Sends the gathered heads (held back with `MSG_MORE`), then the
    /// body: one range by `sendfile`, or for several, each part's head
    /// (`MSG_MORE` again) and its range by `sendfile`, then the closing
    /// delimiter with a plain write, which pushes out what was held back;
    /// or a gzip stream, by [`Conn::send_gzip`]. Counts the body bytes
    /// that left in `sent`, whatever the outcome.
    pub(super) async fn send_file(&mut self, b: &mut FileBody, sent: &mut u64) -> Result<(), End> {
        self.send_heads().await?;
        if let Some(z) = &mut b.gzip {
            return self.send_gzip(&b.entry, z, sent).await;
        }
        let Some(m) = &b.multi else {
            return self.send_range(&b.entry, b.off, b.len, sent).await;
        };
        for p in &m.parts {
            self.send_bytes(&p.head, true, sent).await?;
            self.send_range(&b.entry, p.start, p.len, sent).await?;
        }
        self.send_bytes(&m.tail, false, sent).await
    }

    /// Sends the gathered heads, then a directory listing's `body` as the
    /// client takes it, yielding to the other connections after each
    /// `sendfile_chunk` as a file does. Counts the body bytes that left
    /// in `sent`.
    pub(super) async fn send_listing(&mut self, body: &[u8], sent: &mut u64) -> Result<(), End> {
        self.send_heads().await?;
        for piece in body.chunks(self.w.cfg.cache.sendfile_chunk.max(1)) {
            self.send_bytes(piece, false, sent).await?;
            spindle_rt::yield_now().await;
        }
        Ok(())
    }

    /// Sends the gathered heads, held back with `MSG_MORE` for the body
    /// that follows them.
    pub(super) async fn send_heads(&mut self) -> Result<(), End> {
        let sock = self.stream.as_raw_fd();
        let mut done = 0;
        while done < self.out.len() {
            let deadline = Instant::now() + self.w.cfg.timeouts.send;
            let Conn { w, idx, timer, stream, out, .. } = self;
            let rest = &out[done..];
            let n = timed(
                w,
                *idx,
                timer,
                |_| deadline,
                stream.async_io(Direction::Write, || sys::send_more(sock, rest)),
            )
            .await?;
            done += n;
        }
        self.out.clear();
        Ok(())
    }

    /// Sends `buf`, held back for more with `MSG_MORE` if `more`.
    pub(super) async fn send_bytes(&mut self, buf: &[u8], more: bool, sent: &mut u64) -> Result<(), End> {
        let sock = self.stream.as_raw_fd();
        let mut done = 0;
        while done < buf.len() {
            let deadline = Instant::now() + self.w.cfg.timeouts.send;
            let Conn { w, idx, timer, stream, .. } = self;
            let rest = &buf[done..];
            let n = if more {
                let op = || sys::send_more(sock, rest);
                timed(w, *idx, timer, |_| deadline, stream.async_io(Direction::Write, op)).await?
            } else {
                timed(w, *idx, timer, |_| deadline, stream.write(rest)).await?
            };
            if n == 0 {
                return Err(End::Closed);
            }
            done += n;
            *sent += n as u64;
        }
        Ok(())
    }

    /// Sends `len` bytes of `entry`'s file from `off` by `sendfile`, at
    /// most one chunk per call, yielding to the other connections between
    /// chunks.
    pub(super) async fn send_range(
        &mut self,
        entry: &Entry,
        mut off: u64,
        len: u64,
        sent: &mut u64,
    ) -> Result<(), End> {
        let file: RawFd = entry.file.as_raw_fd();
        let sock = self.stream.as_raw_fd();
        let chunk_max = self.w.cfg.cache.sendfile_chunk as u64;
        let stop = off + len;
        while off < stop {
            let chunk = (stop - off).min(chunk_max);
            let deadline = Instant::now() + self.w.cfg.timeouts.send;
            let Conn { w, idx, timer, stream, .. } = self;
            let n = timed(
                w,
                *idx,
                timer,
                |_| deadline,
                stream.async_io(Direction::Write, || sys::sendfile(sock, file, &mut off, chunk as usize)),
            )
            .await?;
            if n == 0 {
                // The file shrank under us: the promised length cannot be
                // sent, so the connection must end. The client sees only a
                // short body, so the operator is told, as nginx's
                // `[alert] sendfile() reported that ... was truncated`.
                tracing::error!(
                    client = %self.peer,
                    "\"{}\" was truncated: its end came at byte {off} of the {} to send; closing the connection",
                    entry.path().display(),
                    stop
                );
                return Err(End::Closed);
            }
            *sent += n as u64;
            if n as u64 == chunk_max {
                spindle_rt::yield_now().await;
            }
        }
        Ok(())
    }
}
