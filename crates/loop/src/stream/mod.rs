//! Streams: TCP and Unix-domain sockets and pipes, libuv's `uv_stream_t`.
//!
//! A stream wraps one non-blocking descriptor. You [listen](Loop::tcp_listen)
//! and [accept](Loop::accept), or [connect](Loop::tcp_connect), or
//! [wrap a descriptor](Loop::pipe_open) you already have; then
//! [read](Loop::read_start) with a callback, [write](Loop::write) with an
//! optional completion callback, [shut down](Loop::shutdown) the writing
//! side, and [close](Loop::close).
//!
//! ```
//! use spindle_loop::{Loop, ReadResult, RunMode};
//!
//! let mut lp = Loop::new()?;
//! // An echo server...
//! let listener = lp.tcp_listen("127.0.0.1:0".parse().unwrap(), 128, |lp, listener, result| {
//!     result.expect("accepting");
//!     let conn = lp.accept(listener).expect("accepting");
//!     lp.close(listener.handle(), None); // one client is enough here
//!     lp.read_start(conn, Vec::with_capacity(4096), |lp, conn, r| match r {
//!         ReadResult::Data(data) => lp.write(conn, data, None).unwrap(),
//!         ReadResult::Eof | ReadResult::Error(_) => lp.close(conn.handle(), None),
//!     })
//!     .unwrap();
//! })?;
//! // ...and a client on the same loop.
//! let addr = lp.local_addr(listener)?;
//! let client = lp.tcp_connect(addr, |lp, client, result| {
//!     result.expect("connecting");
//!     lp.write(client, b"ping", None).unwrap();
//! })?;
//! lp.read_start(client, Vec::new(), |lp, client, r| {
//!     if let ReadResult::Data(data) = r {
//!         assert_eq!(data, b"ping");
//!         lp.close(client.handle(), None); // the server reads end of stream
//!     }
//! })?;
//! lp.run(RunMode::Default)?; // returns once every handle is closed
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! ## Readiness needs non-blocking descriptors
//!
//! The poller reports *readiness*: "a read would probably not block now".
//! The loop then does the read itself. With a blocking socket, one
//! misjudged read (a spurious wake-up, another reader that was faster)
//! would put the whole loop, every other connection included, to sleep
//! inside `read`. So every stream's descriptor is `O_NONBLOCK`, and
//! `EAGAIN`/`WouldBlock` is a normal answer that just means "wait for the
//! next event".
//!
//! ## Accepting: one callback per connection, and running out of descriptors
//!
//! A readable listener means connections wait in the kernel's accept queue.
//! The loop accepts them (`accept4` with `SOCK_NONBLOCK | SOCK_CLOEXEC`, so
//! the new socket needs no further system call) and calls `on_connection`
//! once per connection, as libuv does; the callback takes it with
//! [`Loop::accept`], or leaves it, and it is closed. At most
//! [`ACCEPTS_PER_EVENT`] per event, so a storm of connections cannot starve
//! the established ones.
//!
//! Out of descriptors (`EMFILE`), `accept` fails but the connection stays
//! queued and the listener stays readable: a level-triggered loop would
//! wake, fail and wake again at 100% CPU while the client hangs. Each
//! listener holds one spare descriptor for this (libuv's trick): it closes
//! the spare, which frees exactly one slot, accepts and at once closes every
//! waiting connection (those clients see the connection end instead of
//! hanging), opens the spare again and reports `EMFILE` to `on_connection`
//! once. With no spare to use, it stops watching for [`ACCEPT_PAUSE`]
//! instead. Either way the loop sleeps.
//!
//! ## Reading: until a short read, at most 32 times
//!
//! The poller runs level-triggered: a socket with unread data is reported on
//! every wait. On a readable event the loop reads once into the stream's
//! buffer. A read that *filled* the buffer may have left more behind, so
//! the loop reads again, up to [`READS_PER_EVENT`] times (libuv's `uv__read`
//! uses 32), then leaves the rest for the next iteration so one busy
//! connection cannot starve the others. A *short* read means the socket is
//! drained: the loop stops there instead of making one more `read` only to
//! hear `EAGAIN`. That saves a system call per message on a
//! request/response connection. End of stream (a zero-byte read) and errors
//! stop reading: level-triggered, a hung-up socket would otherwise be
//! reported, and read, forever.
//!
//! The buffer is yours: [`read_start`](Loop::read_start) takes a `Vec<u8>`
//! (libuv's `alloc_cb`, turned around) and the stream reads into all of its
//! capacity. To hand the callback a slice of that buffer *and* `&mut Loop`,
//! the loop moves the buffer and the callback out of the stream for the
//! call and back afterwards, so steady-state reading allocates nothing.
//!
//! ## Writing: try now, queue the rest, watch writability only meanwhile
//!
//! [`write`](Loop::write) first tries the system call right away (libuv's
//! `uv_try_write` inside `uv_write`): on an idle connection the kernel's
//! send buffer has room and the data is gone before `write` returns. Only
//! what the kernel did not take is copied into the stream's write queue,
//! and only then does the stream ask for *writable* events.
//!
//! Writable interest is registered **only while data is queued**. A
//! connected socket is writable nearly all the time, and level-triggered
//! readiness reports it on every single wait: a stream that kept writable
//! interest with nothing to write would make the loop spin at 100% CPU,
//! waking for events it has no use for. Interest changes are batched: the
//! loop reconciles every changed descriptor with the kernel once, right
//! before it sleeps, so a write that queues and drains within one iteration
//! costs no `epoll_ctl` at all.
//!
//! When the queue drains, a pending [`shutdown`](Loop::shutdown) runs
//! (`shutdown(SHUT_WR)`: the peer reads end of stream after the last queued
//! byte). Sockets are written with `send(MSG_NOSIGNAL)`, so writing to a
//! peer that closed is an `EPIPE` error, never a `SIGPIPE` that kills the
//! process; pipes are written with `write`, and Rust programs ignore
//! `SIGPIPE` from startup.
//!
//! ## Completions run later, in order
//!
//! A write's callback **never runs inside `write`**: even when the data went
//! out at once, the callback is deferred to the next iteration's pending
//! phase (as libuv's are). A callback that ran inside `write` would re-enter
//! the caller's code in the middle of whatever it was doing (say, while it
//! holds half-updated state, or in a loop that writes a list of buffers),
//! and a callback that writes again could recurse without bound. Deferred,
//! every callback starts from a clean stack, and callbacks of one stream run
//! in the order the writes were made. A write without a callback costs no
//! allocation and no bookkeeping.
//!
//! If the connection fails, every queued write completes with that error
//! (`EPIPE`, `ECONNRESET`, ...). If the stream is [closed](Loop::close), its
//! descriptor is closed at once and every request still waiting (queued
//! writes, a pending shutdown or connect) completes with `ECANCELED`
//! ([`is_canceled`] says so), in the next pending phase: after the close
//! callback, which runs in the close phase of the same iteration. (libuv
//! runs them just before the close callback; here every request callback
//! comes from the pending phase, so there is one rule.)
//!
//! Outstanding requests (queued writes, pending callbacks, a connect or a
//! shutdown) keep the loop alive, as libuv's `active_reqs` do; a stream
//! handle itself is active while it listens or reads.

mod connect;
mod listen;
mod read;
mod sys;
mod tcp;
mod unix;
mod write;
mod write_queue;

pub use listen::{ConnectionCb, ACCEPTS_PER_EVENT, ACCEPT_PAUSE};
pub use read::{ReadCb, ReadResult, READS_PER_EVENT};
pub use tcp::ListenOptions;

use crate::handle::{Handle, HandleId, Kind};
use crate::io_watch::{Bits, Watch, READ, WRITE};
use crate::Loop;
use spindle_poll::Event;
use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use write_queue::WriteQueue;

/// The completion callback of a write, a shutdown or a connect: the loop,
/// the stream, and how the request ended.
pub type WriteCb = Box<dyn FnOnce(&mut Loop, StreamId, io::Result<()>)>;

/// Names a stream; see the [module docs](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StreamId(pub(crate) HandleId);

impl StreamId {
    /// The untyped handle, for [`Loop::close`] and friends.
    pub fn handle(self) -> HandleId {
        self.0
    }
}

/// Whether `err` is the error a request gets when its stream was closed
/// before the request finished (`ECANCELED`, as libuv's `UV_ECANCELED`).
pub fn is_canceled(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::ECANCELED)
}

fn canceled() -> io::Error {
    io::Error::from_raw_os_error(libc::ECANCELED)
}

/// A copy of `e` for the next of several requests failing with it.
pub(crate) fn clone_error(e: &io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::new(e.kind(), e.to_string()),
    }
}

/// What kind of descriptor a stream holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    Tcp,
    Unix,
    /// A pipe, a character device, or a socket of another family.
    Other,
}

/// Where a stream is in its life.
pub(crate) enum Conn {
    Listening(Box<listen::Listener>),
    /// Waiting for a non-blocking connect; holds its callback.
    Connecting(Option<WriteCb>),
    Open,
    /// Closed: the descriptor is gone.
    Closed,
}

/// The writing side.
enum Shutdown {
    /// Writes accepted.
    Open,
    /// `shutdown` was called; runs once the queue drains.
    Pending(Option<WriteCb>),
    /// Shut down (or failed to): writes are refused.
    Done,
}

pub(crate) struct StreamState {
    watch: Watch,
    /// `None` once closed.
    fd: Option<OwnedFd>,
    /// Written with `send(MSG_NOSIGNAL)` (a socket) or `write` (a pipe).
    socket: bool,
    family: Family,
    conn: Conn,
    /// The user wants data: between `read_start` and `read_stop`, end of
    /// stream or a read error. The reader may be out of its slot while its
    /// callback runs.
    reading: bool,
    /// Reading paused by the buffered layer's high watermark; the reader
    /// stays.
    read_paused: bool,
    reader: Option<read::Reader>,
    queue: WriteQueue,
    shutdown: Shutdown,
    /// Finished requests whose callbacks wait for the pending phase.
    done: VecDeque<(WriteCb, io::Result<()>)>,
    /// A pending-phase flush of `done` is queued.
    flush_scheduled: bool,
    /// How many requests this stream counts in `Loop::active_reqs`.
    reqs_held: usize,
    /// The buffered-connection layer, when one sits on this stream.
    pub(crate) buffered: Option<Box<crate::buffered::BufState>>,
}

impl StreamState {
    fn new(fd: OwnedFd, socket: bool, family: Family, conn: Conn) -> StreamState {
        StreamState {
            watch: Watch::new(fd.as_raw_fd()),
            fd: Some(fd),
            socket,
            family,
            conn,
            reading: false,
            read_paused: false,
            reader: None,
            queue: WriteQueue::default(),
            shutdown: Shutdown::Open,
            done: VecDeque::new(),
            flush_scheduled: false,
            reqs_held: 0,
            buffered: None,
        }
    }

    pub(crate) fn watch_mut(&mut self) -> &mut Watch {
        &mut self.watch
    }

    fn raw_fd(&self) -> Option<RawFd> {
        self.fd.as_ref().map(AsRawFd::as_raw_fd)
    }

    /// The readiness this stream needs from the poller now.
    fn wanted_bits(&self) -> Bits {
        match &self.conn {
            Conn::Listening(l) if !l.paused => READ,
            Conn::Listening(_) | Conn::Closed => 0,
            Conn::Connecting(_) => WRITE,
            Conn::Open => {
                let read = if self.reading && !self.read_paused { READ } else { 0 };
                let write = if self.queue.is_empty() { 0 } else { WRITE };
                read | write
            }
        }
    }

    /// Whether the handle is active (keeps the loop alive by itself).
    fn is_active(&self) -> bool {
        matches!(self.conn, Conn::Listening(_)) || self.reading
    }

    /// Requests this stream has outstanding.
    fn count_reqs(&self) -> usize {
        usize::from(matches!(self.conn, Conn::Connecting(Some(_))))
            + usize::from(self.queue.unsent() != 0)
            + self.queue.callbacks()
            + self.done.len()
            + usize::from(matches!(self.shutdown, Shutdown::Pending(_)))
    }

    /// One write system call of `data`.
    fn send(&self, data: &[u8]) -> io::Result<usize> {
        let Some(fd) = self.raw_fd() else { return Err(canceled()) };
        if self.socket {
            sys::send(fd, data)
        } else {
            sys::write(fd, data)
        }
    }
}

impl Loop {
    /// The state of a live, not closing, stream.
    pub(crate) fn stream_state(&mut self, id: HandleId) -> Option<&mut StreamState> {
        match self.handles.get_mut(id) {
            Some(Handle { kind: Kind::Stream(s), closing: false, .. }) => Some(s),
            _ => None,
        }
    }

    /// A live, not closing, stream, read-only.
    pub(crate) fn stream_ref(&self, id: HandleId) -> Option<&StreamState> {
        match self.handles.get(id) {
            Some(Handle { kind: Kind::Stream(s), closing: false, .. }) => Some(s),
            _ => None,
        }
    }

    /// [`stream_state`](Loop::stream_state), or the error a public call
    /// returns for a dead, closing or non-stream id.
    pub(crate) fn stream_checked(&mut self, id: HandleId) -> io::Result<&mut StreamState> {
        match self.handles.get_mut(id) {
            Some(Handle { kind: Kind::Stream(s), closing: false, .. }) => Ok(s),
            Some(Handle { kind: Kind::Stream(_), .. }) => {
                Err(io::Error::new(io::ErrorKind::NotConnected, format!("stream {id:?} is closing")))
            }
            _ => Err(crate::io_watch::stale(id)),
        }
    }

    fn stream_insert(&mut self, fd: OwnedFd, socket: bool, family: Family, conn: Conn) -> StreamId {
        StreamId(self.handles.insert(Kind::Stream(StreamState::new(fd, socket, family, conn))))
    }

    /// Registers a new stream's interest with the poller now, so that a
    /// descriptor the backend cannot watch is an error at the call; on
    /// error the handle is removed again (dropping closes the descriptor).
    fn stream_register(&mut self, id: HandleId) -> io::Result<()> {
        if let Some(s) = self.stream_state(id) {
            s.watch.wanted = s.wanted_bits();
        }
        if let Err(e) = self.watch_register(id) {
            self.handles.remove(id);
            return Err(e);
        }
        self.stream_settle(id);
        Ok(())
    }

    /// Brings the loop's view of a stream up to date after any change:
    /// wanted interest (reconciled with the kernel before the loop sleeps),
    /// the active flag, and the count of outstanding requests.
    pub(crate) fn stream_settle(&mut self, id: HandleId) {
        let Some(h) = self.handles.get_mut(id) else { return };
        if h.closing {
            return;
        }
        let Kind::Stream(s) = &mut h.kind else { return };
        let bits = s.wanted_bits();
        let active = s.is_active();
        let reqs = s.count_reqs();
        let held = std::mem::replace(&mut s.reqs_held, reqs);
        let bits_changed = s.watch.wanted != bits;
        let active_changed = h.active != active;
        self.active_reqs = self.active_reqs + reqs - held;
        if bits_changed {
            let _ = self.watch_set(id, bits);
        }
        if active_changed {
            self.handles.set_active(id, active);
        }
    }

    /// Queues `cb` to run with `result` in the next pending phase, after
    /// every earlier completion of this stream.
    pub(crate) fn stream_complete(&mut self, id: HandleId, cb: WriteCb, result: io::Result<()>) {
        let Some(s) = self.stream_state(id) else { return };
        s.done.push_back((cb, result));
        self.stream_schedule_flush(id);
    }

    fn stream_schedule_flush(&mut self, id: HandleId) {
        let Some(s) = self.stream_state(id) else { return };
        if !s.flush_scheduled && !s.done.is_empty() {
            s.flush_scheduled = true;
            self.defer(Box::new(move |lp| lp.stream_flush_done(id)));
        }
    }

    /// The pending phase's part: run the completions that were queued when
    /// the flush was scheduled. Ones queued meanwhile wait for the next
    /// pending phase, so a callback that writes again cannot keep this
    /// phase busy forever.
    fn stream_flush_done(&mut self, id: HandleId) {
        let n = match self.stream_state(id) {
            Some(s) => {
                s.flush_scheduled = false;
                s.done.len()
            }
            // Closed: `stream_on_close` took the completions.
            None => return,
        };
        for _ in 0..n {
            let Some((cb, result)) = self.stream_state(id).and_then(|s| s.done.pop_front()) else { break };
            self.timed(id, |lp| cb(lp, StreamId(id), result));
        }
        self.stream_schedule_flush(id);
        self.stream_settle(id);
    }

    /// Routes a readiness event (already masked by wanted interest).
    pub(crate) fn stream_ready(&mut self, id: HandleId, ev: Event) {
        let Some(s) = self.stream_state(id) else { return };
        match s.conn {
            Conn::Listening(_) => self.stream_accept_ready(id),
            Conn::Connecting(_) => self.stream_connect_ready(id),
            Conn::Open => {
                // Reading first, as libuv: it also finds end-of-stream and
                // errors (a hang-up is reported readable).
                if ev.is_readable() {
                    self.stream_read_ready(id);
                }
                let write_flags = Event::WRITABLE | Event::WRITE_CLOSED | Event::ERROR;
                if ev.flags() & write_flags != 0 {
                    self.stream_write_ready(id);
                }
                self.stream_settle(id);
            }
            Conn::Closed => {}
        }
    }

    /// `Loop::close` on a stream: stop watching, close the descriptor now,
    /// and cancel every waiting request (callbacks in the next pending
    /// phase, after completions that had already finished).
    pub(crate) fn stream_on_close(&mut self, id: HandleId) {
        self.watch_unregister(id);
        let Some(s) = self.stream_state(id) else { return };
        let mut calls: Vec<(WriteCb, io::Result<()>)> = s.done.drain(..).collect();
        if let Conn::Connecting(Some(cb)) = std::mem::replace(&mut s.conn, Conn::Closed) {
            calls.push((cb, Err(canceled())));
        }
        s.queue.clear(|cb| calls.push((cb, Err(canceled()))));
        if let Shutdown::Pending(Some(cb)) = std::mem::replace(&mut s.shutdown, Shutdown::Done) {
            calls.push((cb, Err(canceled())));
        }
        s.reading = false;
        s.reader = None;
        drop(s.fd.take());
        let held = std::mem::take(&mut s.reqs_held);
        if calls.is_empty() {
            self.active_reqs -= held;
            return;
        }
        self.defer(Box::new(move |lp| {
            for (cb, result) in calls {
                lp.timed(id, |lp| cb(lp, StreamId(id), result));
            }
            lp.active_reqs -= held;
        }));
    }

    /// Wraps an open descriptor (a pipe, a socket, a terminal) as a stream
    /// and makes it non-blocking. For a child process's stdio, or a
    /// connection made elsewhere. A connected TCP or Unix socket becomes a
    /// full TCP or Unix stream ([`local_addr`](Loop::local_addr) works);
    /// a listening socket must go through [`listen_open`](Loop::listen_open).
    ///
    /// Note that `O_NONBLOCK` belongs to the open file description: a
    /// process sharing it (a parent's inherited stdout) sees it too.
    ///
    /// # Errors
    /// `InvalidInput` for a listening socket, and the kernel's error for a
    /// descriptor whose flags cannot be read or set.
    pub fn pipe_open(&mut self, fd: OwnedFd) -> io::Result<StreamId> {
        let raw = fd.as_raw_fd();
        sys::set_nonblocking(raw)?;
        let socket = sys::is_socket(raw)?;
        let family = if socket {
            if sys::is_listening(&fd)? {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "pipe_open on a listening socket: use listen_open",
                ));
            }
            family_of(raw)
        } else {
            Family::Other
        };
        let id = self.stream_insert(fd, socket, family, Conn::Open);
        self.stream_register(id.0)?;
        Ok(id)
    }

    /// The stream's descriptor, e.g. to set a socket option the loop does
    /// not wrap. The stream keeps owning it; do not close it.
    ///
    /// # Errors
    /// `NotFound` for a dead id, `NotConnected` for a closing stream.
    pub fn stream_fd(&mut self, id: StreamId) -> io::Result<RawFd> {
        let s = self.stream_checked(id.0)?;
        s.raw_fd().ok_or_else(canceled)
    }
}

/// The family of a socket, by its own address.
fn family_of(fd: RawFd) -> Family {
    match sys::local(fd).map(|a| a.family()) {
        Ok(libc::AF_INET | libc::AF_INET6) => Family::Tcp,
        Ok(libc::AF_UNIX) => Family::Unix,
        _ => Family::Other,
    }
}
