//! Writing: `write`, `try_write`, `shutdown`, and what the loop does when a
//! stream with queued data is writable (see the [module docs](super)).

use super::{clone_error, sys, Conn, Shutdown, StreamId, StreamState, WriteCb};
use crate::handle::HandleId;
use crate::Loop;
use std::io;

/// Why a stream refuses writes, if it does.
fn check_writable(s: &StreamState) -> io::Result<()> {
    match (&s.conn, &s.shutdown) {
        (Conn::Listening(_), _) => {
            Err(io::Error::new(io::ErrorKind::InvalidInput, "a listening stream cannot be written"))
        }
        (_, Shutdown::Pending(_) | Shutdown::Done) => {
            Err(io::Error::new(io::ErrorKind::BrokenPipe, "the stream's writing side is shut down"))
        }
        _ => Ok(()),
    }
}

/// How much of `data` an immediate attempt writes: `Ok(n)` (0 when the
/// kernel has no room, the stream is connecting, or data is queued ahead).
fn write_now(s: &StreamState, data: &[u8]) -> io::Result<usize> {
    if !s.queue.is_empty() || !matches!(s.conn, Conn::Open) || data.is_empty() {
        return Ok(0);
    }
    match s.send(data) {
        Ok(n) => Ok(n),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
        Err(e) => Err(e),
    }
}

impl Loop {
    /// Writes `data` to the stream; `cb`, if any, runs once all of it has
    /// been handed to the kernel, or the connection failed (with the error),
    /// or the stream was closed first (with [`ECANCELED`](super::is_canceled)).
    ///
    /// When nothing is queued the write system call is tried at once; only
    /// the part the kernel did not take is copied into the write queue (and
    /// the stream then watches for writability until it drains). `cb` never
    /// runs inside `write`: it runs in a later pending phase, after the
    /// callbacks of earlier writes. Without a callback a write allocates
    /// nothing unless it has to queue.
    ///
    /// Writing to a connecting stream queues the data until it connects.
    ///
    /// # Errors
    /// Only misuse, reported at once: a dead or closing stream, a listening
    /// one, or one whose writing side is shut down (`BrokenPipe`).
    /// Connection errors go to `cb`.
    pub fn write(&mut self, id: StreamId, data: &[u8], cb: Option<WriteCb>) -> io::Result<()> {
        let s = self.stream_checked(id.0)?;
        check_writable(s)?;
        match write_now(s, data) {
            Ok(n) if n == data.len() && s.queue.is_empty() => {
                if let Some(cb) = cb {
                    self.stream_complete(id.0, cb, Ok(()));
                    self.stream_settle(id.0);
                }
            }
            Ok(n) => {
                s.queue.push(&data[n..], cb);
                self.stream_settle(id.0);
            }
            Err(e) => self.stream_write_failed_now(id.0, e, cb),
        }
        Ok(())
    }

    /// [`write`](Loop::write) of an owned vector: when the data has to be
    /// queued behind nothing, the vector itself becomes the queue, so a large
    /// write is never copied.
    ///
    /// # Errors
    /// As [`write`](Loop::write).
    pub fn write_vec(&mut self, id: StreamId, data: Vec<u8>, cb: Option<WriteCb>) -> io::Result<()> {
        let s = self.stream_checked(id.0)?;
        check_writable(s)?;
        match write_now(s, &data) {
            Ok(n) if n == data.len() && s.queue.is_empty() => {
                if let Some(cb) = cb {
                    self.stream_complete(id.0, cb, Ok(()));
                    self.stream_settle(id.0);
                }
            }
            Ok(n) => {
                s.queue.push_vec(data, n, cb);
                self.stream_settle(id.0);
            }
            Err(e) => self.stream_write_failed_now(id.0, e, cb),
        }
        Ok(())
    }

    /// A write whose immediate attempt failed: its callback gets the error
    /// (later, as always); a buffered connection hears of it too.
    fn stream_write_failed_now(&mut self, id: HandleId, e: io::Error, cb: Option<WriteCb>) {
        if self.stream_state(id).is_some_and(|s| s.buffered.is_some()) {
            let copy = clone_error(&e);
            self.defer(Box::new(move |lp| lp.buffered_stream_error(id, copy)));
        }
        if let Some(cb) = cb {
            self.stream_complete(id, cb, Err(e));
        }
        self.stream_settle(id);
    }

    /// Writes as much of `data` as the kernel takes now, without queueing
    /// (`uv_try_write`). Returns how many bytes were written.
    ///
    /// # Errors
    /// `WouldBlock` when data is queued already (writing now would reorder
    /// it), the stream is connecting, or the kernel has no room; otherwise
    /// as [`write`](Loop::write), plus the system call's own error.
    pub fn try_write(&mut self, id: StreamId, data: &[u8]) -> io::Result<usize> {
        let s = self.stream_checked(id.0)?;
        check_writable(s)?;
        if !s.queue.is_empty() || !matches!(s.conn, Conn::Open) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        s.send(data)
    }

    /// Bytes queued and not yet taken by the kernel (`write_queue_size`);
    /// 0 for a dead or closing stream.
    pub fn write_queue_size(&self, id: StreamId) -> usize {
        self.stream_ref(id.0).map_or(0, |s| s.queue.unsent())
    }

    /// Shuts down the writing side once every queued write is out
    /// (`shutdown(SHUT_WR)`): the peer reads end of stream after the last
    /// byte. `cb` runs afterwards (later, in a pending phase) with the
    /// result. Reading continues. Later writes fail with `BrokenPipe`.
    ///
    /// For a pipe (not a socket) the system call fails with `ENOTSOCK`:
    /// close the stream instead.
    ///
    /// # Errors
    /// As [`write`](Loop::write): a dead, closing or listening stream, or
    /// one shut down already.
    pub fn shutdown(&mut self, id: StreamId, cb: Option<WriteCb>) -> io::Result<()> {
        let s = self.stream_checked(id.0)?;
        check_writable(s)?;
        s.shutdown = Shutdown::Pending(cb);
        self.stream_try_shutdown(id.0);
        self.stream_settle(id.0);
        Ok(())
    }

    /// Runs a pending shutdown if the queue has drained.
    pub(crate) fn stream_try_shutdown(&mut self, id: HandleId) {
        let Some(s) = self.stream_state(id) else { return };
        if !matches!(s.shutdown, Shutdown::Pending(_)) || !s.queue.is_empty() || !matches!(s.conn, Conn::Open)
        {
            return;
        }
        let Shutdown::Pending(cb) = std::mem::replace(&mut s.shutdown, Shutdown::Done) else { return };
        let result = match s.raw_fd() {
            Some(fd) => sys::shutdown_write(fd),
            None => Err(super::canceled()),
        };
        if let Some(cb) = cb {
            self.stream_complete(id, cb, result);
        }
    }

    /// A writable (or hung-up, or failed) event on an open stream: send the
    /// queue once. A partial send means the kernel's buffer is full again,
    /// so there is no point in a second call before the next event.
    pub(crate) fn stream_write_ready(&mut self, id: HandleId) {
        let Some(s) = self.stream_state(id) else { return };
        if s.queue.unsent() != 0 {
            match s.send(s.queue.pending()) {
                Ok(n) => {
                    let done = &mut s.done;
                    s.queue.consume(n, |cb| done.push_back((cb, Ok(()))));
                    self.stream_schedule_flush(id);
                    if self.stream_state(id).is_some_and(|s| s.buffered.is_some()) {
                        self.buffered_after_write(id);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => {
                    self.stream_fail_writes(id, e);
                    return;
                }
            }
        }
        self.stream_try_shutdown(id);
    }

    /// The connection failed: every queued write and a pending shutdown
    /// complete with `e`.
    pub(crate) fn stream_fail_writes(&mut self, id: HandleId, e: io::Error) {
        let Some(s) = self.stream_state(id) else { return };
        let done = &mut s.done;
        s.queue.clear(|cb| done.push_back((cb, Err(clone_error(&e)))));
        if let Shutdown::Pending(Some(cb)) = std::mem::replace(&mut s.shutdown, Shutdown::Done) {
            s.done.push_back((cb, Err(clone_error(&e))));
        }
        let buffered = s.buffered.is_some();
        self.stream_schedule_flush(id);
        if buffered {
            self.buffered_stream_error(id, e);
        }
    }
}
