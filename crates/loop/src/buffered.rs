//! Buffered connections: libevent's `bufferevent`, on top of a [stream].
//!
//! A raw stream hands you each chunk as the kernel delivers it and takes
//! each write as you make it. Most protocols want something else: "call me
//! when a whole header could be there", "stop reading from a client that
//! sends faster than I process", "tell me when my output has drained so I
//! can produce more". A [`BufferedConn`] adds an **input buffer** and
//! **watermarks** for exactly that:
//!
//! * **read low watermark**: the read callback runs only when at least
//!   `read_low` bytes are buffered (0 or 1: on any data).
//! * **read high watermark**: once the input holds `read_high` bytes or
//!   more, the connection stops reading from the socket (the kernel's
//!   receive buffer fills, TCP's window closes, and the peer is slowed
//!   down: back-pressure instead of unbounded memory). It resumes as soon as
//!   you consume below the mark. 0 means no limit. One read may overshoot
//!   the mark by up to its buffer (16 KiB).
//! * **write low watermark**: after a write, the write callback runs once
//!   the output (the stream's write queue) has drained to `write_low` bytes
//!   or fewer: the moment to produce more output.
//!
//! An **event callback** hears of the connection completing
//! ([`BufferedEvent::Connected`]), end of stream ([`BufferedEvent::Eof`])
//! and errors, reading or writing ([`BufferedEvent::Error`]).
//!
//! The output buffer *is* the stream's write queue: [`Loop::buffered_write`]
//! is a [`Loop::write`] without a callback, so it tries the socket at once
//! and queues only the rest. Close a buffered connection like any handle,
//! with [`Loop::close`] on [`BufferedConn::handle`].
//!
//! [stream]: crate::StreamId

use crate::handle::HandleId;
use crate::stream::{ReadResult, StreamId};
use crate::Loop;
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;

/// The size of each read into the input buffer.
const READ_CHUNK: usize = 16 * 1024;

/// Names a buffered connection; it lives on (and is closed with) its
/// stream.
///
/// A server that answers whole lines, with a client on the same loop: the
/// read callback waits for a full line (the read low watermark does the
/// counting), then consumes it.
///
/// ```
/// use spindle_loop::{BufferedEvent, Loop, RunMode, Watermarks};
///
/// let mut lp = Loop::new()?;
/// let listener = lp.tcp_listen("127.0.0.1:0".parse().unwrap(), 128, |lp, l, result| {
///     result.expect("accepting");
///     let conn = lp.accept(l).expect("accepting");
///     lp.close(l.handle(), None);
///     let b = lp.buffered_new(conn).unwrap();
///     // "PING\n" is 5 bytes: don't call back before that many are in.
///     let marks = Watermarks { read_low: 5, ..Watermarks::default() };
///     lp.buffered_set_watermarks(b, marks).unwrap();
///     let on_read = Box::new(|lp: &mut Loop, b| {
///         let line: Vec<u8> = lp.buffered_input(b).unwrap().iter().copied().collect();
///         assert_eq!(line, b"PING\n");
///         lp.buffered_consume(b, line.len());
///         lp.buffered_write(b, b"PONG\n").unwrap();
///     });
///     let on_event = Box::new(|lp: &mut Loop, b: spindle_loop::BufferedConn, _ev: BufferedEvent| {
///         lp.close(b.handle(), None); // end of stream or an error
///     });
///     lp.buffered_set_callbacks(b, Some(on_read), None, Some(on_event)).unwrap();
/// })?;
/// let addr = lp.local_addr(listener)?;
/// let client = lp.buffered_connect(addr)?;
/// lp.buffered_write(client, b"PING\n")?;
/// let on_reply = Box::new(|lp: &mut Loop, b: spindle_loop::BufferedConn| {
///     if lp.buffered_input(b).unwrap().len() >= 5 {
///         lp.close(b.handle(), None);
///     }
/// });
/// lp.buffered_set_callbacks(client, Some(on_reply), None, None)?;
/// lp.run(RunMode::Default)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BufferedConn(StreamId);

impl BufferedConn {
    /// The stream underneath, e.g. for [`Loop::set_nodelay`].
    pub fn stream(self) -> StreamId {
        self.0
    }

    /// The untyped handle, for [`Loop::close`] and friends.
    pub fn handle(self) -> HandleId {
        self.0.handle()
    }
}

/// What the event callback hears.
#[derive(Debug)]
pub enum BufferedEvent {
    /// A connection made with [`Loop::buffered_connect`] is up. (A stream
    /// connected with [`Loop::tcp_connect`] and buffered while connecting
    /// reports to that call's callback instead.)
    Connected,
    /// The peer finished sending. Buffered input is still there to read.
    Eof,
    /// Connecting, reading or writing failed. Reading has stopped; close the
    /// connection.
    Error(io::Error),
}

/// A buffered connection's watermarks; see the [module docs](self).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Watermarks {
    /// The read callback waits for at least this many buffered bytes.
    pub read_low: usize,
    /// Reading pauses while this many bytes or more are buffered; 0: never.
    pub read_high: usize,
    /// The write callback runs when the output has drained to this many
    /// bytes or fewer.
    pub write_low: usize,
}

/// A buffered connection's read or write callback.
pub type BufferedCb = Box<dyn FnMut(&mut Loop, BufferedConn)>;

/// A buffered connection's event callback.
pub type BufferedEventCb = Box<dyn FnMut(&mut Loop, BufferedConn, BufferedEvent)>;

/// The layer's state, kept in its stream's slot.
#[derive(Default)]
pub(crate) struct BufState {
    input: VecDeque<u8>,
    marks: Watermarks,
    on_read: Option<BufferedCb>,
    on_write: Option<BufferedCb>,
    on_event: Option<BufferedEventCb>,
    /// Reading is paused by the high watermark.
    paused: bool,
    /// Data was written since the write callback last ran.
    write_armed: bool,
    /// A pending-phase write-watermark check is queued.
    write_check_queued: bool,
}

/// Which callback to run.
#[derive(Clone, Copy)]
enum Which {
    Read,
    Write,
}

impl Loop {
    fn buf(&mut self, id: HandleId) -> Option<&mut BufState> {
        self.stream_state(id).and_then(|s| s.buffered.as_deref_mut())
    }

    fn buf_checked(&mut self, id: BufferedConn) -> io::Result<&mut BufState> {
        self.stream_checked(id.0.handle())?
            .buffered
            .as_deref_mut()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a buffered connection"))
    }

    /// Puts a buffered connection on `stream` and starts reading into its
    /// input buffer. It takes over reading: a reader the stream had is
    /// replaced. Set callbacks with
    /// [`buffered_set_callbacks`](Loop::buffered_set_callbacks) before the
    /// loop runs again.
    ///
    /// # Errors
    /// As [`Loop::read_start`]; `AlreadyExists` when the stream is buffered
    /// already.
    pub fn buffered_new(&mut self, stream: StreamId) -> io::Result<BufferedConn> {
        let s = self.stream_checked(stream.handle())?;
        if s.buffered.is_some() {
            return Err(io::Error::new(io::ErrorKind::AlreadyExists, "the stream is buffered already"));
        }
        s.buffered = Some(Box::default());
        let reader =
            Box::new(|lp: &mut Loop, id: StreamId, r: ReadResult<'_>| lp.buffered_on_read(id.handle(), r));
        if let Err(e) = self.read_start_boxed(stream.handle(), Vec::with_capacity(READ_CHUNK), reader) {
            if let Some(s) = self.stream_state(stream.handle()) {
                s.buffered = None;
            }
            return Err(e);
        }
        Ok(BufferedConn(stream))
    }

    /// Connects to `addr` over TCP and buffers the connection; the event
    /// callback hears [`BufferedEvent::Connected`] or the error.
    ///
    /// # Errors
    /// As [`Loop::tcp_connect`].
    pub fn buffered_connect(&mut self, addr: SocketAddr) -> io::Result<BufferedConn> {
        let stream =
            self.tcp_connect(addr, |lp, id, result| lp.buffered_connected(id.handle(), result.err()))?;
        self.buffered_new(stream)
    }

    /// Sets (or, with `None`, clears) the read, write and event callbacks.
    ///
    /// # Errors
    /// `InvalidInput` when `id` is not buffered; as [`Loop::read_start`]
    /// for a dead or closing stream.
    pub fn buffered_set_callbacks(
        &mut self,
        id: BufferedConn,
        on_read: Option<BufferedCb>,
        on_write: Option<BufferedCb>,
        on_event: Option<BufferedEventCb>,
    ) -> io::Result<()> {
        let b = self.buf_checked(id)?;
        b.on_read = on_read;
        b.on_write = on_write;
        b.on_event = on_event;
        Ok(())
    }

    /// Sets the watermarks; reading pauses or resumes at once to match.
    ///
    /// # Errors
    /// As [`buffered_set_callbacks`](Loop::buffered_set_callbacks).
    pub fn buffered_set_watermarks(&mut self, id: BufferedConn, marks: Watermarks) -> io::Result<()> {
        self.buf_checked(id)?.marks = marks;
        self.buffered_apply_high(id.handle());
        Ok(())
    }

    /// The input buffer, to inspect (e.g. search for a delimiter); consume
    /// with [`buffered_read`](Loop::buffered_read) or
    /// [`buffered_consume`](Loop::buffered_consume). `None` when `id` is not
    /// a live buffered connection.
    pub fn buffered_input(&self, id: BufferedConn) -> Option<&VecDeque<u8>> {
        self.stream_ref(id.handle()).and_then(|s| s.buffered.as_ref()).map(|b| &b.input)
    }

    /// Moves up to `out.len()` bytes from the input buffer into `out`;
    /// returns how many. Reading resumes if this took the input below the
    /// high watermark.
    pub fn buffered_read(&mut self, id: BufferedConn, out: &mut [u8]) -> usize {
        let Some(b) = self.buf(id.handle()) else { return 0 };
        let n = out.len().min(b.input.len());
        for (o, i) in out.iter_mut().zip(b.input.drain(..n)) {
            *o = i;
        }
        self.buffered_apply_high(id.handle());
        n
    }

    /// Drops `n` bytes (or all there are) from the front of the input
    /// buffer; reading resumes below the high watermark.
    pub fn buffered_consume(&mut self, id: BufferedConn, n: usize) {
        let Some(b) = self.buf(id.handle()) else { return };
        let n = n.min(b.input.len());
        b.input.drain(..n);
        self.buffered_apply_high(id.handle());
    }

    /// Appends `data` to the output: written to the socket at once if
    /// possible, queued otherwise. The write callback runs when the output
    /// has drained to the write low watermark.
    ///
    /// # Errors
    /// As [`Loop::write`]. Connection errors go to the event callback.
    pub fn buffered_write(&mut self, id: BufferedConn, data: &[u8]) -> io::Result<()> {
        self.buf_checked(id)?;
        self.write(id.0, data, None)?;
        let queued = self.write_queue_size(id.0);
        let Some(b) = self.buf(id.handle()) else { return Ok(()) };
        b.write_armed = true;
        if queued <= b.marks.write_low && !b.write_check_queued {
            // Drained already; still call back later, never inside the write.
            b.write_check_queued = true;
            let h = id.handle();
            self.defer(Box::new(move |lp| {
                if let Some(b) = lp.buf(h) {
                    b.write_check_queued = false;
                }
                lp.buffered_after_write(h);
            }));
        }
        Ok(())
    }

    /// Bytes in the output not yet taken by the kernel.
    pub fn buffered_output_len(&self, id: BufferedConn) -> usize {
        self.write_queue_size(id.0)
    }

    /// Pauses reading at or above the high watermark, resumes below it.
    fn buffered_apply_high(&mut self, id: HandleId) {
        let Some(b) = self.buf(id) else { return };
        let high = b.marks.read_high;
        let want_pause = high > 0 && b.input.len() >= high;
        if want_pause != b.paused {
            b.paused = want_pause;
            self.stream_pause_reading(id, want_pause);
        }
    }

    /// The stream's reader.
    fn buffered_on_read(&mut self, id: HandleId, r: ReadResult<'_>) {
        match r {
            ReadResult::Data(d) => {
                let Some(b) = self.buf(id) else { return };
                b.input.extend(d);
                let ready = b.input.len() >= b.marks.read_low.max(1);
                self.buffered_apply_high(id);
                if ready {
                    self.buffered_call(id, Which::Read);
                    self.buffered_apply_high(id);
                }
            }
            ReadResult::Eof => self.buffered_event(id, BufferedEvent::Eof),
            ReadResult::Error(e) => self.buffered_event(id, BufferedEvent::Error(e)),
        }
    }

    /// The stream sent queued output (or a write just finished at once).
    pub(crate) fn buffered_after_write(&mut self, id: HandleId) {
        let queued = self.write_queue_size(StreamId(id));
        let Some(b) = self.buf(id) else { return };
        if b.write_armed && queued <= b.marks.write_low {
            b.write_armed = false;
            self.buffered_call(id, Which::Write);
        }
    }

    /// A write failed (queued or at once).
    pub(crate) fn buffered_stream_error(&mut self, id: HandleId, e: io::Error) {
        self.buffered_event(id, BufferedEvent::Error(e));
    }

    /// A connect finished: `None` for success.
    fn buffered_connected(&mut self, id: HandleId, failure: Option<io::Error>) {
        let ev = match failure {
            None => BufferedEvent::Connected,
            Some(e) => BufferedEvent::Error(e),
        };
        self.buffered_event(id, ev);
    }

    fn buffered_call(&mut self, id: HandleId, which: Which) {
        let Some(b) = self.buf(id) else { return };
        let slot = match which {
            Which::Read => &mut b.on_read,
            Which::Write => &mut b.on_write,
        };
        let Some(mut cb) = slot.take() else { return };
        self.timed(id, |lp| cb(lp, BufferedConn(StreamId(id))));
        if let Some(b) = self.buf(id) {
            match which {
                Which::Read => b.on_read.get_or_insert(cb),
                Which::Write => b.on_write.get_or_insert(cb),
            };
        }
    }

    fn buffered_event(&mut self, id: HandleId, ev: BufferedEvent) {
        let Some(mut cb) = self.buf(id).and_then(|b| b.on_event.take()) else { return };
        self.timed(id, |lp| cb(lp, BufferedConn(StreamId(id)), ev));
        if let Some(b) = self.buf(id) {
            b.on_event.get_or_insert(cb);
        }
    }
}
