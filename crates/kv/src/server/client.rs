//! A connected client: its socket, query buffer, parser and reply buffer.
//!
//! The life of a request, as in Redis's `networking.c`:
//!
//! 1. the socket is readable: [`read_from_client`] reads what is there into
//!    the query buffer (16 KiB at a time, or the rest of a big bulk);
//! 2. every complete command in the buffer is parsed and run, in order; each
//!    appends its reply to the client's reply buffer;
//! 3. the client goes on the server's pending-writes list, and before the
//!    loop sleeps (`beforeSleep`) the reply is written straight to the
//!    socket. Only if the kernel does not take it all does the client ask
//!    for writable events, and it drops that interest once the buffer is
//!    empty, so a client that keeps up costs no `epoll_ctl` at all.

use crate::resp::parse::RequestParser;
use spindle_loop::IoId;
use std::os::fd::OwnedFd;

/// Read size for an ordinary read (Redis's PROTO_IOBUF_LEN).
pub const IOBUF_LEN: usize = 16 * 1024;

/// A query buffer above this size shrinks once reads stop needing it
/// (Redis's PROTO_RESIZE_THRESHOLD).
const RESIZE_THRESHOLD: usize = 32 * 1024;

/// A bulk this long or longer gets room for all of its bytes as soon as its
/// length is read (Redis's PROTO_MBULK_BIG_ARG).
const BIG_ARG: usize = 32 * 1024;

/// The cron frees a parser's argument list grown past this many entries.
const KEEP_ARGS: usize = 1024;

/// A client idle longer than this gives its query buffer back entirely.
const IDLE_RELEASE_MS: i64 = 2000;

/// One connected client.
pub struct Client {
    /// CLIENT ID: unique, increasing.
    pub id: u64,
    /// The socket.
    pub fd: OwnedFd,
    /// The loop's watcher of `fd`.
    pub io: Option<IoId>,
    /// Peer address as `ip:port`.
    pub addr: String,
    /// Local address as `ip:port`.
    pub laddr: String,
    /// CLIENT SETNAME.
    pub name: Option<Vec<u8>>,
    /// The selected database.
    pub db: usize,
    /// RESP version: 2, or 3 after `HELLO 3`.
    pub proto: u8,
    /// Whether AUTH succeeded (or no password is required).
    pub authenticated: bool,
    /// The AOF replay client (Redis's `mustObeyClient`): its commands were
    /// accepted once already, so size limits that a `CONFIG SET` may have
    /// lowered since (`proto-max-bulk-len`) do not refuse them now.
    pub must_obey: bool,
    /// Received bytes; `query[qpos..qlen]` is not parsed yet. Its length
    /// is always `qlen`, and reads go into its spare capacity.
    pub query: Vec<u8>,
    /// Start of the unparsed bytes.
    pub qpos: usize,
    /// End of the received bytes.
    pub qlen: usize,
    /// The allocated size of `query` while `process_input` has lent it to
    /// the parser (the running command's CLIENT LIST line reports it); 0
    /// otherwise.
    pub query_lent: usize,
    /// The largest buffer a read wanted since the cron last looked (Redis's
    /// `querybuf_peak`): the cron shrinks a buffer far above it.
    pub query_peak: usize,
    /// The request parser, which keeps its progress between reads.
    pub parser: RequestParser,
    /// Reply bytes not yet written; `out[sent..]` is still to go.
    pub out: Vec<u8>,
    /// Bytes of `out` already written.
    pub sent: usize,
    /// The capacity `out` keeps between replies (Redis's reply buffer
    /// size, CLIENT LIST's `rbs`); see [`super::reply_buffer`].
    pub out_keep: usize,
    /// The most reply bytes `out` held at once since the peak was last
    /// forgotten (Redis's `buf_peak`, CLIENT LIST's `rbp`).
    pub out_peak: usize,
    /// When the cron last forgot `out_peak` (Unix ms).
    pub out_peak_reset_at: i64,
    /// A file streamed to the socket once `out` is written (SYNC's
    /// snapshot), sent from the page cache with `sendfile` rather than
    /// copied into `out`.
    pub tail: Option<FileTail>,
    /// Bytes to send once `tail` is sent (a replica's stream after its
    /// snapshot).
    pub after_tail: Vec<u8>,
    /// An attached replica (CLIENT LIST's `S`; the `slave` output-buffer
    /// limits; never closed for idleness).
    pub replica: bool,
    /// The connection to this server's master (CLIENT LIST's `M`): its
    /// commands replicate the master's writes, and their replies are
    /// dropped.
    pub master: bool,
    /// On the server's pending-writes list.
    pub pending_write: bool,
    /// Waiting for writable events.
    pub wants_write: bool,
    /// Close once the reply has been written (QUIT, protocol errors).
    pub close_after_reply: bool,
    /// Close at the next chance without writing more (CLIENT KILL).
    pub close_asap: bool,
    /// Unix time (seconds) the client connected.
    pub created: u64,
    /// Connected through the `unixsocket` (CLIENT LIST's `U` flag).
    pub unix: bool,
    /// Unix time (ms) of the last command.
    pub last_interaction: i64,
    /// The command or subcommand the client called last, run or refused
    /// (CLIENT LIST's `cmd=`); `None` before its first command or after
    /// an unknown one, which Redis prints as `NULL`.
    pub last_cmd: Option<crate::cmd::Slot>,
    /// Commands run.
    pub commands: u64,
    /// The first command, parsed by an IO thread (see `iothreads`).
    pub preparsed: Option<Result<Option<usize>, crate::resp::parse::ProtocolError>>,
    /// Waiting for an IO thread to read it.
    pub pending_read: bool,
    /// On the read-again list: its last read filled the buffer, and an
    /// edge-triggered socket will not be reported again for those bytes.
    pub read_again: bool,
    /// The peer has shut down its sending side: a poller event carried
    /// `EPOLLRDHUP` (or `EPOLLHUP`). Its end of stream is queued behind
    /// whatever bytes are still unread, and edge-triggered epoll will not
    /// report it again (see `edge`).
    pub peer_closed: bool,
    /// Held by CLIENT PAUSE (see `server::pause`).
    pub postponed: bool,
    /// The command the pause held, run first when it ends.
    pub held: Option<crate::cmd::OwnedArgs>,
    /// Index in the server's client slab (pub/sub delivery finds it there).
    pub slot: usize,
    /// Pub/sub subscriptions.
    pub subs: crate::server::pubsub::ClientSubs,
    /// The open transaction (MULTI), if any.
    pub multi: Option<Box<crate::cmd::tx::MultiState>>,
    /// WATCHed keys.
    pub watched: crate::cmd::tx::WatchedKeys,
    /// Unix ms when pending output first passed the soft limit; 0 if below.
    pub obuf_soft_since: i64,
    /// CLIENT REPLY OFF: replies are discarded.
    pub reply_off: bool,
    /// The reply of the command now running is discarded (CLIENT REPLY SKIP
    /// was the previous command).
    pub reply_skip: bool,
    /// CLIENT REPLY SKIP just ran: skip the next command's reply.
    pub reply_skip_next: bool,
    /// The blocked command's reply, when it comes, is discarded: CLIENT
    /// REPLY SKIP preceded it (Redis keeps the skip flag while a client is
    /// blocked).
    pub skip_blocked_reply: bool,
    /// Spans of `out` written by the running command that are pub/sub
    /// pushes, which CLIENT REPLY OFF/SKIP does not silence (Redis's
    /// `CLIENT_PUSHING`); recorded only while replies are silenced.
    pub pushes: Vec<(usize, usize)>,
    /// CLIENT NO-EVICT ON: never chosen by client eviction.
    pub no_evict: bool,
    /// The memory this client last added to the server's running total
    /// for `maxmemory-clients` (see `server::client_evict`).
    pub tracked_mem: usize,
    /// CLIENT NO-TOUCH ON: reads do not update the keys' LRU clock.
    pub no_touch: bool,
    /// Blocked in BLPOP and friends: its input waits (see `server::blocking`).
    pub blocked: bool,
    /// Blocking commands reply at once instead of blocking (inside EXEC).
    pub deny_blocking: bool,
    /// The replication stream's offset just after this client's last
    /// write (what its WAIT waits for replicas to acknowledge).
    pub woff: u64,
    /// How the running command is logged to the AOF instead of as it came
    /// (Redis's `rewriteClientCommandVector`: BLPOP as LPOP).
    pub rewritten: Option<crate::cmd::OwnedArgs>,
    /// In MONITOR mode: sees every command the server runs (see
    /// `server::monitor`).
    pub monitor: bool,
    /// Positions of the running command's arguments that MONITOR shows as
    /// `(redacted)` (AUTH's and HELLO's credentials).
    pub redacted: Vec<usize>,
}

impl Client {
    /// A client for an accepted socket.
    pub fn new(id: u64, fd: OwnedFd, addr: String, laddr: String, now_ms: i64) -> Client {
        Client {
            id,
            fd,
            io: None,
            addr,
            laddr,
            name: None,
            db: 0,
            proto: 2,
            authenticated: false,
            must_obey: false,
            query: Vec::new(),
            qpos: 0,
            qlen: 0,
            query_lent: 0,
            query_peak: 0,
            parser: RequestParser::default(),
            out: Vec::new(),
            sent: 0,
            out_keep: super::reply_buffer::CHUNK_BYTES,
            out_peak: 0,
            out_peak_reset_at: now_ms,
            tail: None,
            after_tail: Vec::new(),
            replica: false,
            master: false,
            pending_write: false,
            wants_write: false,
            close_after_reply: false,
            close_asap: false,
            created: (now_ms / 1000) as u64,
            unix: false,
            last_interaction: now_ms,
            last_cmd: None,
            commands: 0,
            preparsed: None,
            pending_read: false,
            read_again: false,
            peer_closed: false,
            postponed: false,
            held: None,
            slot: 0,
            subs: Default::default(),
            multi: None,
            watched: Default::default(),
            obuf_soft_since: 0,
            reply_off: false,
            reply_skip: false,
            reply_skip_next: false,
            skip_blocked_reply: false,
            pushes: Vec::new(),
            no_evict: false,
            tracked_mem: 0,
            no_touch: false,
            blocked: false,
            deny_blocking: false,
            woff: 0,
            rewritten: None,
            monitor: false,
            redacted: Vec::new(),
        }
    }

    /// Bytes waiting to be written, a streamed file's rest included.
    pub fn pending_output(&self) -> usize {
        self.buffered_output() + self.tail.as_ref().map_or(0, FileTail::left)
    }

    /// Reply bytes waiting in `out` (what CLIENT LIST's `obl` and the
    /// output-buffer limits count; a streamed file is not in memory).
    pub fn buffered_output(&self) -> usize {
        self.out.len() - self.sent + self.after_tail.len()
    }

    /// Queues `bytes` to go out after everything already queued, a
    /// streamed file included.
    pub fn queue_after_file(&mut self, bytes: &[u8]) {
        if self.tail.is_some() {
            self.after_tail.extend_from_slice(bytes);
        } else {
            self.out.extend_from_slice(bytes);
        }
    }

    /// Marks `out[from..]`, just written, as a pub/sub push that reaches
    /// the client even with its replies silenced (see [`Client::pushes`]).
    pub fn mark_push(&mut self, from: usize) {
        if (self.reply_off || self.reply_skip) && from < self.out.len() {
            self.pushes.push((from, self.out.len()));
        }
    }

    /// Drops what the running command wrote from `start` on, except the
    /// pub/sub pushes among it (CLIENT REPLY OFF/SKIP).
    pub fn silence_reply(&mut self, start: usize) {
        let from = start.max(self.sent);
        let mut end = from;
        for (a, b) in std::mem::take(&mut self.pushes) {
            if a >= from && b <= self.out.len() {
                self.out.copy_within(a..b, end);
                end += b - a;
            }
        }
        if self.out.len() >= end {
            self.out.truncate(end);
        }
    }

    /// The query buffer's allocated size, lent out or not.
    pub fn query_size(&self) -> usize {
        self.query.capacity().max(self.query_lent)
    }

    /// Bytes received but not yet parsed.
    pub fn pending_query(&self) -> usize {
        self.qlen - self.qpos
    }

    /// What Redis 7.0 would have in this client's query buffer (CLIENT LIST
    /// `qbuf`). Between reads Redis keeps only the line or bulk being read:
    /// it has moved the parsed arguments out (`argv-mem`) and dropped the
    /// parsed length lines, and a big bulk (32 KiB or more) has the buffer
    /// to itself, so `qbuf` is exactly the bulk's bytes received so far.
    /// While the client's own command runs, Redis has not trimmed yet, and
    /// the command's bytes count.
    pub fn query_in_buffer(&self) -> usize {
        if self.query_lent != 0 {
            return self.qlen;
        }
        self.pending_query().saturating_sub(self.parser.element_start())
    }
}

/// Called when the received bytes end inside a command (`query` is the
/// client's buffer, lent to `parser`): closes a client whose unparsed input
/// is over `limit` (`client-query-buffer-limit`), and makes room at once
/// for the whole of a big bulk being read, as Redis's
/// `processMultibulkBuffer` does on reading its length. The client's
/// memory then counts the bulk from its first bytes on, as Redis's does,
/// so client eviction sees it before it has all arrived; reads still take
/// it at most 1 MiB at a time.
pub fn await_rest(c: &mut Client, query: &mut Vec<u8>, parser: &RequestParser, limit: usize) {
    if c.pending_query() > limit {
        tracing::warn!(client = c.id, "closing client that exceeded the query buffer limit");
        c.close_asap = true;
        return;
    }
    if let Some(rest) = big_bulk_rest(parser, c.pending_query()) {
        make_room(query, c.qlen + rest);
    }
}

/// Grows `query`'s capacity to `total` bytes exactly, if it is smaller
/// (letting `Vec` grow it could double it).
fn make_room(query: &mut Vec<u8>, total: usize) {
    if query.capacity() < total {
        query.reserve_exact(total - query.len());
    }
}

/// The bytes still to come of the big bulk (at least [`BIG_ARG`]) that
/// `parser` is reading, if it is reading one; `unparsed` is how much of the
/// command has arrived.
fn big_bulk_rest(parser: &RequestParser, unparsed: usize) -> Option<usize> {
    let rest = parser.pending_bulk()?;
    let bulk = unparsed.saturating_sub(parser.element_start()) + rest;
    (bulk >= BIG_ARG + 2).then_some(rest)
}

/// What a read from a client's socket found.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// `n` bytes arrived; `filled` when they filled all the space offered,
    /// so more may be waiting (see `server::edge`).
    Data {
        /// Bytes read.
        n: usize,
        /// The read filled the buffer space it was given.
        filled: bool,
    },
    /// Nothing to read now.
    WouldBlock,
    /// The peer closed the connection, or the socket failed.
    Closed,
}

/// Reads what the socket has into the client's query buffer.
///
/// The buffer's length is always `qlen` (the bytes received); the read
/// goes into its spare capacity, which is never zero-filled (see
/// [`spindle_poll::socket::recv_into_spare`]): a client's 16 KiB buffer
/// holds resident only the pages its requests have reached.
pub fn read_from_client(c: &mut Client) -> ReadOutcome {
    debug_assert_eq!(c.query.len(), c.qlen);
    // Shift unparsed bytes to the front once the parsed prefix is large, so
    // the buffer does not grow with the length of a pipeline.
    if c.qpos > 0 && (c.qpos == c.qlen || c.qpos >= c.query.capacity() / 2) {
        c.query.copy_within(c.qpos..c.qlen, 0);
        c.qlen -= c.qpos;
        c.query.truncate(c.qlen);
        // The parser's positions are relative to the command's start,
        // which is `qpos`, so moving the bytes keeps them valid.
        c.qpos = 0;
    }
    let (want, exact) = match big_bulk_rest(&c.parser, c.pending_query()) {
        // The rest of a big bulk and no more, as Redis reads it, into the
        // room `await_rest` made for it (made again if the cron took it
        // back from an idle client), so the buffer never grows past it.
        Some(rest) if rest > 0 => {
            make_room(&mut c.query, c.qlen + rest);
            (rest.min(1 << 20), true)
        }
        _ => (c.parser.pending_bulk().map_or(IOBUF_LEN, |n| n.clamp(IOBUF_LEN, 1 << 20)), false),
    };
    c.query_peak = c.query_peak.max(c.qlen + want);
    // Growing reserves; nothing is written until the kernel's copy.
    c.query.reserve(want);
    let space = if exact { want } else { c.query.capacity() - c.qlen };
    match spindle_poll::socket::recv_into_spare(raw(c), &mut c.query, space) {
        Ok(0) => ReadOutcome::Closed,
        Ok(n) => {
            c.qlen += n;
            ReadOutcome::Data { n, filled: n == space }
        }
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => ReadOutcome::WouldBlock,
        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => ReadOutcome::WouldBlock,
        Err(_) => ReadOutcome::Closed,
    }
}

fn raw(c: &Client) -> std::os::fd::RawFd {
    use std::os::fd::AsRawFd;
    c.fd.as_raw_fd()
}

/// A byte range of a file to send after a client's reply bytes.
///
/// Redis sends a replica's snapshot from the RDB file in 16 KiB reads as
/// the socket drains; reading the whole file into the reply buffer instead
/// would cost memory the size of the dataset and stall the loop for the
/// read. Here the kernel copies it (`sendfile`), a socket buffer at a time.
/// The open descriptor keeps the file's contents even if a later BGSAVE
/// renames a new snapshot over its name.
#[derive(Debug)]
pub struct FileTail {
    /// The open file.
    pub file: std::fs::File,
    /// The next byte to send.
    pub offset: u64,
    /// One past the last byte to send.
    pub end: u64,
}

impl FileTail {
    /// Bytes still to send.
    pub fn left(&self) -> usize {
        usize::try_from(self.end.saturating_sub(self.offset)).unwrap_or(usize::MAX)
    }
}

/// What writing a client's reply found.
#[derive(Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Everything was written.
    Done,
    /// The kernel's buffer is full; the rest waits for writable.
    Partial,
    /// The socket failed (the peer went away).
    Failed,
}

/// Writes as much of the reply as the socket takes.
pub fn write_to_client(c: &mut Client) -> WriteOutcome {
    super::reply_buffer::note_peak(c);
    while c.sent < c.out.len() {
        match spindle_poll::socket::send(raw(c), &c.out[c.sent..]) {
            Ok(n) => c.sent += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return WriteOutcome::Partial,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return WriteOutcome::Failed,
        }
    }
    c.out.clear();
    c.sent = 0;
    super::reply_buffer::trim_after_write(c);
    if c.tail.is_some() {
        return send_tail(c);
    }
    WriteOutcome::Done
}

/// Sends the client's file tail with `sendfile` until the socket is full
/// or the range is sent.
fn send_tail(c: &mut Client) -> WriteOutcome {
    use std::os::fd::AsRawFd;
    let sock = raw(c);
    let Some(t) = c.tail.as_mut() else { return WriteOutcome::Done };
    while t.offset < t.end {
        let want = (t.end - t.offset).min(1 << 20) as usize;
        match crate::persist::sys::sendfile(sock, t.file.as_raw_fd(), &mut t.offset, want) {
            // The file is shorter than when it was measured: the peer
            // would wait for bytes that never come.
            Ok(0) => return WriteOutcome::Failed,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return WriteOutcome::Partial,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return WriteOutcome::Failed,
        }
    }
    c.tail = None;
    if c.after_tail.is_empty() {
        return WriteOutcome::Done;
    }
    c.out = std::mem::take(&mut c.after_tail);
    c.sent = 0;
    write_to_client(c)
}

/// The cron's look at one client's query buffer (Redis's
/// `clientsCronResizeQueryBuffer`): a buffer with more than 4 KiB unused is
/// released entirely once the client has been idle for 2 s, or cut down to
/// what recent reads needed if it is over 32 KiB and more than twice that.
/// Unparsed bytes are always kept; the next read grows the buffer again.
/// An argument list grown by a command with many arguments is freed too.
pub fn resize_query_buffer(c: &mut Client, now_ms: i64) {
    let size = c.query.capacity();
    if size.saturating_sub(c.qlen) > 4 * 1024 {
        let keep = if now_ms - c.last_interaction > IDLE_RELEASE_MS {
            Some(c.qlen)
        } else if size > RESIZE_THRESHOLD && size / 2 > c.query_peak && c.parser.pending_bulk().is_none() {
            Some(c.qlen.max(c.query_peak))
        } else {
            None
        };
        if let Some(keep) = keep {
            // The length is `qlen`, never above `keep`: this frees the
            // capacity past it.
            c.query.shrink_to(keep);
        }
    }
    c.query_peak = c.qlen;
    // A command an IO thread parsed but that has not run yet still needs
    // its argument list.
    if c.preparsed.is_none() {
        c.parser.release_args(KEEP_ARGS);
    }
}
