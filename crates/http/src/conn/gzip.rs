//! Sending a large file compressed as it goes (see [`crate::compress`]).

use super::{Conn, End};
use crate::cache::Entry;
use crate::compress::Stream;

impl Conn {
    /// Sends `z`, one step (a chunk) at a time, yielding to the worker's
    /// other connections after each, so a large answer holds the worker
    /// for one step's compression at a time; the heads before it went
    /// out with `MSG_MORE`, and so do the chunks but the last. Counts the
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
                // `piece` borrows `z`, not `self`.
                self.send_bytes(piece, !last, sent).await?;
            }
            spindle_rt::yield_now().await;
        }
    }
}
