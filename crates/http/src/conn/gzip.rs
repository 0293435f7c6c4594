//! Sending a large file compressed as it goes (see [`crate::compress`]).

use super::{Conn, End};
use crate::cache::Entry;
use crate::compress::Stream;
use crate::sys;
use spindle_rt::io::Interest;
use std::io;
use std::os::fd::AsRawFd;

impl Conn {
    /// Sends `z`, one step (a chunk) at a time, yielding to the worker's
    /// other connections after each, so a large answer holds the worker
    /// for one step's compression at a time; the heads before it went
    /// out with `MSG_MORE`, and so do the chunks but the last; a chunk the
    /// socket does not take at once is sent after [`Stream::wait`], which
    /// keeps the stream's compressor (and its history) while the worker
    /// has compressors to spare and parks the stream, holding none while
    /// it waits, when they are contended. Counts the
    /// bytes that left in `sent`. A file that cannot be read to its
    /// length (it shrank) ends the connection without the last chunk, so
    /// the client sees a cut answer, not a short one that looks whole.
    pub(super) async fn send_gzip(
        &mut self,
        entry: &Entry,
        z: &mut Stream,
        sent: &mut u64,
    ) -> Result<(), End> {
        loop {
            // A fast stop ends the answer here, as a wait would.
            if self.w.stopping.get() {
                return Err(End::Stop);
            }
            let (piece, last) = match z.next(&entry.file) {
                Ok(Some(p)) => p,
                Ok(None) => return Ok(()),
                Err(e) => {
                    tracing::error!(
                        client = %self.peer,
                        "\"{}\" could not be read to its end for gzip ({e}); closing the connection",
                        entry.path().display(),
                    );
                    return Err(End::Closed);
                }
            };
            if !piece.is_empty() {
                // One try without waiting; what the socket does not take
                // at once waits, the stream keeping its compressor or,
                // when they are contended, parked with it given back for
                // others (see `compress`).
                let sock = self.stream.as_raw_fd();
                let more = !last;
                let tried = if more {
                    self.stream.try_io(Interest::WRITABLE, || sys::send_more(sock, piece))
                } else {
                    self.stream.try_write(piece)
                };
                let taken = match tried {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
                    Err(e) => return Err(End::Io(e)),
                };
                *sent += taken as u64;
                if taken < piece.len() {
                    let rest = match z.wait(taken) {
                        Ok(rest) => rest,
                        Err(e) => return Err(End::Io(e)),
                    };
                    // `rest` borrows `z`, not `self`.
                    self.send_bytes(rest, more, sent).await?;
                }
            }
            spindle_rt::yield_now().await;
        }
    }
}
