//! Reading: `read_start`, `read_stop`, and what the loop does when a
//! stream is readable (see the [module docs](super) for the strategy).

use super::{sys, Conn, StreamId};
use crate::handle::HandleId;
use crate::Loop;
use std::io;

/// The most reads one readable event makes on one stream before the loop
/// moves on to other events (libuv's `uv__read` uses the same 32). Each read
/// after the first happens only because the previous one filled the buffer.
pub const READS_PER_EVENT: usize = 32;

/// The buffer size used when `read_start` is given a vector with no
/// capacity (libuv suggests 64 KiB to its `alloc_cb`).
const DEFAULT_READ_BUFFER: usize = 64 * 1024;

/// What a read produced.
#[derive(Debug)]
pub enum ReadResult<'a> {
    /// Bytes read, borrowed from the stream's buffer for the callback's
    /// duration. Never empty.
    Data(&'a [u8]),
    /// The peer shut down its writing side (a zero-byte read). Reading has
    /// stopped; writing may continue.
    Eof,
    /// The read failed (`ECONNRESET`, ...). Reading has stopped.
    Error(io::Error),
}

/// The callback of [`Loop::read_start`].
pub type ReadCb = Box<dyn FnMut(&mut Loop, StreamId, ReadResult<'_>)>;

/// A reading stream's buffer and callback.
pub(crate) struct Reader {
    /// Always as long as its capacity: reads fill `buf[..]`.
    buf: Vec<u8>,
    cb: ReadCb,
}

impl Loop {
    /// Starts reading: `on_read` is called with data as it arrives, then
    /// once with [`ReadResult::Eof`] or [`ReadResult::Error`], after which
    /// reading has stopped. Restarting replaces the buffer and callback.
    ///
    /// The stream reads into all of `buf`'s capacity (a vector without
    /// capacity gets 64 KiB) and keeps it for every read, so reading
    /// allocates nothing per message. Reads on a connecting stream begin
    /// once it connects.
    ///
    /// # Errors
    /// `InvalidInput` for a listening stream; `NotFound` or `NotConnected`
    /// for a dead or closing one; the poller's error if it cannot watch the
    /// descriptor.
    pub fn read_start(
        &mut self,
        id: StreamId,
        buf: Vec<u8>,
        on_read: impl FnMut(&mut Loop, StreamId, ReadResult<'_>) + 'static,
    ) -> io::Result<()> {
        self.read_start_boxed(id.0, buf, Box::new(on_read))
    }

    pub(crate) fn read_start_boxed(&mut self, id: HandleId, mut buf: Vec<u8>, cb: ReadCb) -> io::Result<()> {
        let s = self.stream_checked(id)?;
        if matches!(s.conn, Conn::Listening(_)) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a listening stream accepts; it cannot read",
            ));
        }
        if buf.capacity() == 0 {
            buf = Vec::with_capacity(DEFAULT_READ_BUFFER);
        }
        // Zeroing once here lets every read take a plain `&mut [u8]`.
        buf.resize(buf.capacity(), 0);
        s.reader = Some(Reader { buf, cb });
        s.reading = true;
        let first = s.watch.registered == 0 && !s.watch.dirty;
        if first {
            // First interest: register now, so an unwatchable descriptor is
            // an error at the call rather than a warning later.
            s.watch.wanted = s.wanted_bits();
            if let Err(e) = self.watch_register(id) {
                if let Some(s) = self.stream_state(id) {
                    s.reading = false;
                    s.reader = None;
                    s.watch.wanted = 0;
                }
                return Err(e);
            }
        }
        self.stream_settle(id);
        Ok(())
    }

    /// Stops reading; `on_read` is not called again until the next
    /// `read_start`, even for data already announced in this iteration.
    /// Stopping a stream that is not reading does nothing.
    ///
    /// # Errors
    /// `NotFound` or `NotConnected` for a dead or closing stream.
    pub fn read_stop(&mut self, id: StreamId) -> io::Result<()> {
        let s = self.stream_checked(id.0)?;
        s.reading = false;
        s.reader = None;
        self.stream_settle(id.0);
        Ok(())
    }

    /// Whether the stream is reading (started and not stopped, at end of
    /// stream or failed).
    pub fn is_reading(&self, id: StreamId) -> bool {
        self.stream_ref(id.0).is_some_and(|s| s.reading)
    }

    /// Pauses or resumes reading without dropping the reader (the buffered
    /// layer's high watermark).
    pub(crate) fn stream_pause_reading(&mut self, id: HandleId, paused: bool) {
        if let Some(s) = self.stream_state(id) {
            s.read_paused = paused;
            self.stream_settle(id);
        }
    }

    /// A readable event on an open stream.
    pub(crate) fn stream_read_ready(&mut self, id: HandleId) {
        for _ in 0..READS_PER_EVENT {
            let Some(s) = self.stream_state(id) else { return };
            if !s.reading || s.read_paused {
                return;
            }
            let (Some(fd), Some(mut reader)) = (s.raw_fd(), s.reader.take()) else { return };
            // A socket skips read(2)'s VFS layer (see recv_stream).
            let result =
                if s.socket { sys::recv_stream(fd, &mut reader.buf) } else { sys::read(fd, &mut reader.buf) };
            let full = match result {
                Ok(0) => {
                    s.reading = false;
                    self.timed(id, |lp| (reader.cb)(lp, StreamId(id), ReadResult::Eof));
                    return;
                }
                Ok(n) => {
                    self.timed(id, |lp| (reader.cb)(lp, StreamId(id), ReadResult::Data(&reader.buf[..n])));
                    n == reader.buf.len()
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => false,
                Err(e) => {
                    s.reading = false;
                    self.timed(id, |lp| (reader.cb)(lp, StreamId(id), ReadResult::Error(e)));
                    return;
                }
            };
            // Back into its slot, unless the callback stopped reading,
            // restarted with a new reader, or closed the stream.
            match self.stream_state(id) {
                Some(s) if s.reading && s.reader.is_none() => s.reader = Some(reader),
                _ => return,
            }
            if !full {
                return;
            }
        }
    }
}
