//! Answers compressed as they are sent, as nginx's `ngx_http_gzip_module`
//! (`gzip on`) compresses them.
//!
//! A 200 answer to a GET or HEAD for a file whose type is in
//! `gzip_types` (`text/html` always) and whose size is at least
//! `gzip_min_length` is sent gzip-compressed to a client that takes gzip
//! (as [`crate::gzip`] decides for `gzip_static`: HTTP/1.1 or, with
//! `gzip_http_version = "1.0"`, 1.0; no `Via`, nginx's `gzip_proxied
//! off`; `Accept-Encoding` naming `gzip` with a q-value above 0). As
//! nginx's filter does, the answer says `Content-Encoding: gzip`, its
//! `ETag` is made weak (`W/"..."`: the bytes differ from the file's, the
//! content does not), it has no `Accept-Ranges`, and a `Range` (and
//! `If-Range`) is ignored: the whole compressed body comes with a 200.
//! With `gzip_vary`, every answer for such a file says `Vary:
//! Accept-Encoding`, whether this client gets gzip or not, as in nginx. A
//! `gzip_static` twin, when on and present, is served instead, as
//! nginx's gzip_static handler answers before the filter could compress.
//!
//! How the body goes: the choice is by the size of the file.
//!
//! * A file small enough for the cache to hold its body
//!   (`cache.small_file`, 64 KiB by default: HTML, CSS, scripts of
//!   ordinary sites), up to [`WHOLE_MAX`], is compressed whole, once
//!   (which holds the worker 74 µs for 64 KiB at level 1, 2.2 ms at
//!   level 9; the limit keeps a `cache.small_file` raised to megabytes
//!   from holding it for a second): the gzip is kept beside
//!   the body in the cache entry ([`Entry::gzipped`]) and sent with a
//!   `Content-Length`, in the same single `write` as its head, as any
//!   small file is. nginx compresses on every request and streams the
//!   result with chunked transfer coding; here a hot file costs its
//!   compression once per change, a client learns the length (a
//!   progress bar, and a connection that stays reusable on HTTP/1.0
//!   too), and no chunk framing is sent. A HEAD gets the length as well.
//!   The gzip goes with its entry: a file changed on disk is a new entry
//!   (see [`crate::cache`]), compressed afresh.
//! * A larger file is compressed for each answer as it is sent, as nginx
//!   does: [`STEP_IN`] bytes read with `pread` and compressed per step,
//!   each step's output sent as one chunk (HTTP/1.1 chunked transfer
//!   coding; an HTTP/1.0 answer, with `gzip_http_version = "1.0"`, ends
//!   by closing the connection, as nginx's does), the connection yielding
//!   to the worker's others between steps, so one large download holds
//!   the worker for one step's compression at a time: 63 µs at level 1,
//!   0.6 ms at 6, 1.2 ms at 9 (HTML, release build, this project's
//!   2-core machine). A HEAD gets neither length nor chunking, as from
//!   nginx.
//!
//! Why the two: compressing a 64 KiB page costs 74 µs at level 1 and
//! 2.2 ms at level 9, on every request in nginx's way, and nothing on a
//! hit here, where the small files a site serves most are. A large file
//! cannot be kept compressed within the cache's bound, and compressing
//! it whole before the first byte would delay the answer and hold its
//! whole gzip in memory; streamed, it costs a step's buffers.
//!
//! Memory stays bounded: a cached gzip is at most its body's size plus a
//! few bytes per 16 KiB, so the cache at most doubles; a compressor's
//! state is 319 KB (deflate's 32 KiB window, its hash chains and
//! buffers), a stream's adds its 32 KiB read buffer and its output
//! buffer (64 KiB at most, measured on random bytes; 16 to 32 KiB on
//! text): at most [`MAX_STREAMS`] compressors are lent to streams at
//! once per worker (32 x 415 KB, 13 MB at most): beyond that, a new large
//! answer goes as it is, by `sendfile` (still a correct answer: a client
//! that takes gzip takes the identity too), and at most [`IDLE_MAX`]
//! compressors are kept between answers for reuse (a reset costs 2 µs, a
//! new one an allocation of 319 KB).
//!
//! A stream whose socket does not take a step's output at once waits
//! for the client to take more, and while it waits it keeps its
//! compressor (and its read buffer) as long as the worker has
//! compressors to spare: at most [`KEEP_MAX`] (half of [`MAX_STREAMS`])
//! lent to streams when it starts to wait. Its next step then goes on
//! with the same deflate stream, its 32 KiB of history and all, as if
//! the socket had never been full: on a real network nearly every step
//! that makes output meets a full socket buffer, and a stream that gave
//! its compressor up at each of them sent a body 6.5% larger at level 6
//! (4 MiB of prose; measured against the file gzipped in one go, which
//! the kept stream matches to the byte) and 0.1 to 0.2% at level 1,
//! whose matches reach back less.
//! When more than [`KEEP_MAX`] compressors are lent, the stream is
//! parked instead ([`Stream::park`]): deflate's pending bits are flushed
//! onto a byte boundary (a sync flush), the compressor goes back to the
//! pool, reset, and the read buffer is freed, so a parked stream holds
//! only its unsent output. Otherwise 32 clients that read slowly held a
//! worker's compressors for the send timeout, and every other large
//! answer went uncompressed meanwhile. The choice is made at each wait
//! ([`Stream::wait`]), and a stream already waiting with its compressor
//! is not made to give it up when others come: at worst [`KEEP_MAX`]
//! compressors (16 x 415 KB, 6.6 MB) are held by streams whose clients
//! take nothing for the send timeout, and the other [`MAX_STREAMS`] -
//! [`KEEP_MAX`] are left for answers that move. When a parked stream's
//! client takes more, the stream borrows any compressor and goes on: raw
//! deflate blocks after a flush need nothing of the window before them,
//! so the body stays one gzip member; only the next step's compression
//! starts without the 32 KiB of history (paid only while the worker's
//! compressors are contended). A stream resumed when all compressors
//! are lent sends that step as stored (uncompressed) deflate blocks and
//! tries again at its next step.
//!
//! Where spindle differs from nginx: a 304 to a gzip client repeats the
//! weak `ETag` and `Vary` a 200 would have had (RFC 9110 §15.4.5; nginx
//! sends the strong tag and no `Vary`); error pages (nginx compresses its
//! 403 and 404 pages, which are `text/html`) and directory listings are
//! not compressed; there is no `gzip_proxied` other than off, no
//! `gzip_disable`, and no `gzip_buffers` (the step sizes are fixed).

use crate::cache::Entry;
use crate::gzip::takes_gzip;
use crate::response::{self, content_length, finish, start, FileBody, Heads, Outcome, Precondition, Req};
use crate::server::Worker;
use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use std::cell::{Cell, RefCell};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::rc::Rc;

/// Most large answers a worker compresses at once.
pub const MAX_STREAMS: usize = 32;

/// Most compressors lent to streams for a stream waiting on a full
/// socket to keep its own (see [`Stream::wait`]); with more lent, it is
/// parked. Half of [`MAX_STREAMS`]: streams whose clients read slowly
/// (every client on a real network, now and then) keep their history
/// while the worker has compressors to spare, and however many clients
/// stop reading, at most this many compressors wait on them, so the
/// other half stays for answers that move.
pub const KEEP_MAX: usize = MAX_STREAMS / 2;

/// Most compressors a worker keeps, reset, between answers.
pub const IDLE_MAX: usize = 8;

/// The largest cached body compressed whole and kept; a larger one (with
/// `cache.small_file` raised) is streamed as a large file is.
pub const WHOLE_MAX: usize = 128 << 10;

/// Bytes of the file read and compressed per step of a large answer.
pub const STEP_IN: usize = 32 << 10;

/// Room kept before a step's output for its chunk-size line.
const PREFIX: usize = 10;

/// A worker's compressors, at its configured level.
pub(crate) struct Pool {
    level: u32,
    idle: RefCell<Vec<Compress>>,
    streams: Cell<usize>,
}

/// A compressor lent out; back to the pool, reset, when dropped.
struct Lease {
    pool: Rc<Pool>,
    c: Option<Compress>,
    stream: bool,
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(mut c) = self.c.take() {
            let mut idle = self.pool.idle.borrow_mut();
            if idle.len() < IDLE_MAX {
                c.reset();
                idle.push(c);
            }
        }
        if self.stream {
            self.pool.streams.set(self.pool.streams.get() - 1);
        }
    }
}

impl Pool {
    /// An empty pool of compressors at `level` (1 to 9).
    pub fn new(level: u32) -> Rc<Pool> {
        Rc::new(Pool { level, idle: RefCell::new(Vec::new()), streams: Cell::new(0) })
    }

    fn lease(self: &Rc<Self>, stream: bool) -> Option<Lease> {
        if stream {
            if self.streams.get() >= MAX_STREAMS {
                return None;
            }
            self.streams.set(self.streams.get() + 1);
        }
        let c = self
            .idle
            .borrow_mut()
            .pop()
            .unwrap_or_else(|| Compress::new(Compression::new(self.level), false));
        Some(Lease { pool: self.clone(), c: Some(c), stream })
    }

    /// `body` gzipped whole.
    pub fn whole(self: &Rc<Self>, body: &[u8]) -> io::Result<Box<[u8]>> {
        let mut lease = self.lease(false).ok_or_else(|| io::Error::other("no compressor"))?;
        let c = lease.c.as_mut().ok_or_else(|| io::Error::other("no compressor"))?;
        let mut out = Vec::with_capacity(body.len() / 2 + 64);
        out.extend_from_slice(&header(self.level));
        deflate(c, body, &mut out, FlushCompress::Finish)?;
        let mut crc = Crc::new();
        crc.update(body);
        trailer(&mut out, &crc);
        Ok(out.into_boxed_slice())
    }

    /// A large answer of the first `len` bytes of a file, chunked or not;
    /// `None` if [`MAX_STREAMS`] are under way.
    fn stream(self: &Rc<Self>, len: u64, chunked: bool) -> Option<Stream> {
        let lease = self.lease(true)?;
        Some(Stream {
            lease: Some(lease),
            pool: self.clone(),
            level: self.level,
            crc: Crc::new(),
            pos: 0,
            end: len,
            chunked,
            started: false,
            done: false,
            input: Vec::new(),
            out: Vec::new(),
            from: 0,
        })
    }
}

/// The gzip header nginx's zlib writes: no name, no time, the level's
/// extra flag (4: fastest, 2: smallest), and Unix.
fn header(level: u32) -> [u8; 10] {
    let xfl = match level {
        1 => 4,
        9 => 2,
        _ => 0,
    };
    [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 3]
}

/// The gzip trailer: CRC-32 and length (modulo 2^32), little-endian.
fn trailer(out: &mut Vec<u8>, crc: &Crc) {
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&crc.amount().to_le_bytes());
}

/// Compresses all of `input` onto `out` (growing it as needed); with
/// [`FlushCompress::Finish`], ends the deflate stream too.
fn deflate(c: &mut Compress, mut input: &[u8], out: &mut Vec<u8>, flush: FlushCompress) -> io::Result<()> {
    loop {
        if out.capacity() - out.len() < 1024 {
            out.reserve((input.len() / 2).max(8192));
        }
        let before = c.total_in();
        let status = c.compress_vec(input, out, flush).map_err(io::Error::other)?;
        input = &input[(c.total_in() - before) as usize..];
        let full = out.len() == out.capacity();
        match flush {
            FlushCompress::Finish if status == Status::StreamEnd => return Ok(()),
            FlushCompress::Finish => {}
            _ if input.is_empty() && !full => return Ok(()),
            _ => {}
        }
    }
}

/// Appends `data` as stored (uncompressed) deflate blocks, not final:
/// the stream must be on a byte boundary (after a flush).
fn stored(out: &mut Vec<u8>, data: &[u8]) {
    for block in data.chunks(usize::from(u16::MAX)) {
        let n = block.len() as u16;
        out.push(0);
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&(!n).to_le_bytes());
        out.extend_from_slice(block);
    }
}

/// The empty final stored block: ends a deflate stream on a byte boundary.
const STORED_END: [u8; 5] = [1, 0, 0, 0xff, 0xff];

/// A large file's answer being compressed as it is sent.
pub(crate) struct Stream {
    /// The compressor, while the stream has one (see [`Stream::wait`]).
    lease: Option<Lease>,
    pool: Rc<Pool>,
    level: u32,
    crc: Crc,
    /// The next byte of the file to read, and where to stop.
    pos: u64,
    end: u64,
    /// HTTP/1.1 chunked transfer coding (else HTTP/1.0: the close ends it).
    chunked: bool,
    started: bool,
    done: bool,
    input: Vec<u8>,
    out: Vec<u8>,
    /// Where in `out` the bytes still to send start.
    from: usize,
}

impl Stream {
    /// The next bytes to send, and whether they are the last: one step's
    /// compressed output, framed as a chunk, the last with the gzip
    /// trailer and the closing chunk. Empty when the compressor kept all
    /// of the step's input to itself (send nothing, yield, and ask
    /// again); `None` once everything is out.
    ///
    /// # Errors
    /// The file could not be read, or ended early (it shrank).
    pub fn next(&mut self, file: &File) -> io::Result<Option<(&[u8], bool)>> {
        if self.done {
            return Ok(None);
        }
        if self.lease.is_none() {
            self.lease = self.pool.lease(true);
        }
        let mut c = self.lease.as_mut().and_then(|l| l.c.as_mut());
        self.out.clear();
        self.out.resize(PREFIX, 0);
        if !self.started {
            self.started = true;
            self.out.extend_from_slice(&header(self.level));
        }
        if self.pos < self.end {
            let n = (self.end - self.pos).min(STEP_IN as u64) as usize;
            self.input.resize(n, 0);
            file.read_exact_at(&mut self.input, self.pos)?;
            self.pos += n as u64;
            self.crc.update(&self.input);
            match c.as_mut() {
                Some(c) => deflate(c, &self.input, &mut self.out, FlushCompress::None)?,
                None => stored(&mut self.out, &self.input),
            }
        } else {
            match c.as_mut() {
                Some(c) => deflate(c, &[], &mut self.out, FlushCompress::Finish)?,
                None => self.out.extend_from_slice(&STORED_END),
            }
            trailer(&mut self.out, &self.crc);
            self.done = true;
            // The compressor is no longer needed.
            self.lease = None;
        }
        self.from = self.frame(PREFIX);
        Ok(Some((&self.out[self.from..], self.done)))
    }

    /// Frames `out[start..]` (with [`PREFIX`] bytes of room before
    /// `start`) as a chunk, the last one followed by the closing chunk;
    /// returns where the bytes to send begin. Unchunked, as it is. An
    /// empty step (the compressor kept its input) sends nothing.
    fn frame(&mut self, start: usize) -> usize {
        let len = self.out.len() - start;
        if !self.chunked {
            return start;
        }
        if len == 0 {
            return self.out.len();
        }
        // The chunk-size line, written backwards into the room before.
        self.out[start - 2..start].copy_from_slice(b"\r\n");
        let (mut from, mut n) = (start - 2, len);
        loop {
            from -= 1;
            self.out[from] = b"0123456789abcdef"[n % 16];
            n /= 16;
            if n == 0 {
                break;
            }
        }
        self.out.extend_from_slice(b"\r\n");
        if self.done {
            self.out.extend_from_slice(b"0\r\n\r\n");
        }
        from
    }

    /// The client took only `taken` bytes of what [`Stream::next`] gave,
    /// and the rest waits for the socket: returns what is still to send,
    /// all of it to go before the next step. If at most [`KEEP_MAX`]
    /// compressors are lent to streams (this one's counted), the stream
    /// keeps its own and its next step continues the same deflate stream
    /// with its history; else it is parked ([`Stream::park`]).
    ///
    /// # Errors
    /// The compressor failed to flush (when parking).
    pub fn wait(&mut self, taken: usize) -> io::Result<&[u8]> {
        if self.lease.is_some() && self.pool.streams.get() <= KEEP_MAX {
            self.from += taken;
            return Ok(&self.out[self.from..]);
        }
        self.park(taken)
    }

    /// The client took only `taken` bytes of what [`Stream::next`] gave:
    /// gives the compressor back to the pool (after flushing what deflate
    /// held back, as a chunk of its own) and frees the read buffer, so
    /// that a stream waiting on a slow client holds no compressor; returns
    /// what is still to send. The next step borrows a compressor again.
    ///
    /// # Errors
    /// The compressor failed to flush.
    pub fn park(&mut self, taken: usize) -> io::Result<&[u8]> {
        self.from += taken;
        if let Some(mut lease) = self.lease.take() {
            if let Some(c) = lease.c.as_mut() {
                // Compacted first, so the flush's chunk has its room.
                self.out.drain(..self.from);
                self.from = 0;
                let start = self.out.len() + PREFIX;
                self.out.resize(start, 0);
                deflate(c, &[], &mut self.out, FlushCompress::Sync)?;
                let at = self.frame(start);
                // The room left unused before the chunk-size line.
                self.out.drain(start - PREFIX..at);
            }
        }
        self.input = Vec::new();
        Ok(&self.out[self.from..])
    }
}

/// Answers `r` for `e` compressed, if `gzip` is on, the file is one it
/// compresses ([`Entry::gzip`], checked by the caller) and the client
/// takes gzip: writes the head (and a whole body) into `out`, or sets
/// `o.file` to a [`Stream`]. `None`: answer as usual (the identity, a
/// 412, or, with [`MAX_STREAMS`] under way, a large file uncompressed).
pub(crate) fn serve(
    w: &Worker,
    out: &mut Vec<u8>,
    h: &Heads<'_>,
    r: &Req<'_>,
    e: &Rc<Entry>,
    head_only: bool,
    o: &mut Outcome,
) -> Option<(u16, u64)> {
    let pool = w.gzip.as_ref()?;
    if r.minor < w.cfg.gzip_http_version || r.via || !r.accept_encoding.is_some_and(takes_gzip) {
        return None;
    }
    match response::preconditions(r, e) {
        Precondition::Failed => return None,
        Precondition::NotModified => {
            start(out, 304, h.date);
            out.extend_from_slice(b"Last-Modified: ");
            out.extend_from_slice(e.last_modified.as_bytes());
            weak_etag_and_vary(out, e);
            out.extend_from_slice(h.expires);
            finish(out, o.close);
            return Some((304, 0));
        }
        Precondition::Pass => {}
    }
    let whole: Option<&[u8]> = match &e.body {
        Some(body) if body.len() <= WHOLE_MAX => {
            if e.gzipped.get().is_none() {
                let _ = e.gzipped.set(pool.whole(body).ok()?);
            }
            Some(e.gzipped.get()?)
        }
        _ => None,
    };
    let stream = match whole {
        None if !head_only => Some(pool.stream(e.size, r.minor >= 1)?),
        _ => None,
    };
    if stream.is_some() && r.minor == 0 {
        // HTTP/1.0 has no chunks: the close ends the body.
        o.close = true;
    }
    start(out, 200, h.date);
    out.extend_from_slice(b"Content-Type: ");
    out.extend_from_slice(e.content_type.as_bytes());
    out.extend_from_slice(b"\r\nLast-Modified: ");
    out.extend_from_slice(e.last_modified.as_bytes());
    weak_etag_and_vary(out, e);
    out.extend_from_slice(b"Content-Encoding: gzip\r\n");
    out.extend_from_slice(h.expires);
    match whole {
        Some(z) => content_length(out, z.len() as u64),
        None if stream.is_some() && r.minor >= 1 => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
        None => {}
    }
    finish(out, o.close);
    if head_only {
        return Some((200, 0));
    }
    if let Some(z) = whole {
        out.extend_from_slice(z);
        return Some((200, z.len() as u64));
    }
    o.file = Some(FileBody {
        entry: e.clone(),
        off: 0,
        len: e.size,
        multi: None,
        gzip: stream.map(Box::new),
        log: None,
    });
    Some((200, 0))
}

/// `ETag: W/"..."` (from `\r\n`, ending the line before) and, if the
/// entry's head has it, `Vary`.
fn weak_etag_and_vary(out: &mut Vec<u8>, e: &Entry) {
    out.extend_from_slice(b"\r\nETag: W/");
    out.extend_from_slice(e.etag.as_bytes());
    out.extend_from_slice(b"\r\n");
    if e.vary {
        out.extend_from_slice(b"Vary: Accept-Encoding\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(z: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        flate2::read::GzDecoder::new(z).read_to_end(&mut v).unwrap();
        v
    }

    #[test]
    fn whole_bodies_round_trip_at_every_level() {
        let text: Vec<u8> =
            (0..50_000u32).flat_map(|i| format!("<p>{}</p>\n", i % 97).into_bytes()).collect();
        for level in 1..=9 {
            let pool = Pool::new(level);
            for body in [&b""[..], b"x", &text] {
                let z = pool.whole(body).unwrap();
                assert_eq!(&z[..2], b"\x1f\x8b");
                assert_eq!(gunzip(&z), body, "level {level}");
            }
        }
        // The compressor went back, reset, and is reused.
        let pool = Pool::new(1);
        pool.whole(&text).unwrap();
        pool.whole(&text).unwrap();
        assert_eq!(pool.idle.borrow().len(), 1);
    }

    /// A file of `n` small numbers (text that compresses) in a new
    /// directory tagged `tag`: the directory (for the caller to remove),
    /// the bytes and the open file.
    fn numbers_file(tag: &str, n: u32) -> (std::path::PathBuf, Vec<u8>, File) {
        let dir = std::env::temp_dir().join(format!("spindle-compress-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let data: Vec<u8> = (0..n).flat_map(|i| format!("{} ", i % 1013).into_bytes()).collect();
        std::fs::write(dir.join("f"), &data).unwrap();
        let file = File::open(dir.join("f")).unwrap();
        (dir, data, file)
    }

    #[test]
    fn streams_are_chunked_round_trip_and_are_bounded() {
        let (dir, data, file) = numbers_file("stream", 300_000);
        let pool = Pool::new(6);
        let mut s = pool.stream(data.len() as u64, true).unwrap();
        let mut wire = Vec::new();
        while let Some((piece, _)) = s.next(&file).unwrap() {
            wire.extend_from_slice(piece);
        }
        assert!(s.done);
        let body = unchunk(&wire);
        assert_eq!(gunzip(&body), data);
        drop(s);
        // Unchunked (HTTP/1.0): the gzip itself.
        let mut s = pool.stream(data.len() as u64, false).unwrap();
        let mut plain = Vec::new();
        while let Some((piece, _)) = s.next(&file).unwrap() {
            plain.extend_from_slice(piece);
        }
        assert_eq!(plain, body);
        drop(s);
        // A file shorter than promised is an error, not a short gzip.
        let mut s = pool.stream(data.len() as u64 + 1, true).unwrap();
        let err = loop {
            match s.next(&file) {
                Ok(Some(_)) => {}
                Ok(None) => panic!("a short file must not end cleanly"),
                Err(e) => break e,
            }
        };
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        drop(s);
        // At most MAX_STREAMS at once; one ended makes room.
        let mut held: Vec<Stream> = (0..MAX_STREAMS).map(|_| pool.stream(1, true).unwrap()).collect();
        assert!(pool.stream(1, true).is_none());
        held.pop();
        assert!(pool.stream(1, true).is_some());
        drop(held);
        assert_eq!(pool.streams.get(), 0);
        assert_eq!(pool.idle.borrow().len(), IDLE_MAX);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The body of a chunked answer.
    fn unchunk(mut rest: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        loop {
            let eol = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let n = usize::from_str_radix(std::str::from_utf8(&rest[..eol]).unwrap(), 16).unwrap();
            rest = &rest[eol + 2..];
            if n == 0 {
                assert_eq!(rest, b"\r\n");
                return body;
            }
            body.extend_from_slice(&rest[..n]);
            assert_eq!(&rest[n..n + 2], b"\r\n");
            rest = &rest[n + 2..];
        }
    }

    /// A stream parked after steps (the client took part of a step, or
    /// none) holds no compressor, and goes on with another, or with
    /// stored blocks when all are lent: the answer is still one gzip of
    /// the file, chunked or not.
    #[test]
    fn parked_streams_give_their_compressor_back_and_stay_one_gzip() {
        let (dir, data, file) = numbers_file("park", 400_000);
        for chunked in [true, false] {
            let pool = Pool::new(6);
            let mut s = pool.stream(data.len() as u64, chunked).unwrap();
            let mut wire = Vec::new();
            let mut step = 0;
            let mut others: Vec<Stream> = Vec::new();
            while let Some((piece, last)) = s.next(&file).unwrap() {
                let piece = piece.to_vec();
                step += 1;
                // Stored blocks while every compressor is lent.
                assert_eq!(s.lease.is_none(), (4..=7).contains(&step) || last, "step {step}");
                // Every other step the client takes a part only.
                if step % 2 == 1 && !last {
                    let taken = piece.len() / 3;
                    wire.extend_from_slice(&piece[..taken]);
                    let rest = s.park(taken).unwrap().to_vec();
                    assert_eq!(pool.streams.get(), others.len());
                    wire.extend_from_slice(&rest);
                } else {
                    wire.extend_from_slice(&piece);
                }
                // From step 4 to 7, every compressor is lent elsewhere.
                if step == 3 {
                    s.park(0).unwrap();
                    others = (0..MAX_STREAMS).map(|_| pool.stream(1, true).unwrap()).collect();
                }
                if step == 7 {
                    others.clear();
                }
            }
            let body = if chunked { unchunk(&wire) } else { wire };
            assert_eq!(gunzip(&body), data, "chunked: {chunked}");
            assert_eq!(pool.streams.get(), 0);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A stream waiting on a full socket keeps its compressor while at
    /// most [`KEEP_MAX`] are lent (itself counted), so its body is the
    /// same as if it had never waited: one deflate stream, no flushes,
    /// all of its history.
    #[test]
    fn waiting_streams_keep_their_compressor_while_few_are_lent() {
        let (dir, data, file) = numbers_file("keep", 400_000);
        let pool = Pool::new(1);
        let mut s = pool.stream(data.len() as u64, true).unwrap();
        let mut straight = Vec::new();
        while let Some((piece, _)) = s.next(&file).unwrap() {
            straight.extend_from_slice(piece);
        }
        drop(s);
        let others: Vec<Stream> = (0..KEEP_MAX - 1).map(|_| pool.stream(1, true).unwrap()).collect();
        let mut s = pool.stream(data.len() as u64, true).unwrap();
        let mut wire = Vec::new();
        while let Some((piece, last)) = s.next(&file).unwrap() {
            let piece = piece.to_vec();
            // The client takes a part, or none; the rest waits.
            let taken = piece.len() / 3;
            wire.extend_from_slice(&piece[..taken]);
            wire.extend_from_slice(s.wait(taken).unwrap());
            assert_eq!(s.lease.is_some(), !last);
            assert_eq!(pool.streams.get(), others.len() + usize::from(!last));
        }
        assert_eq!(wire, straight);
        assert_eq!(gunzip(&unchunk(&wire)), data);
        drop((s, others));
        assert_eq!(pool.streams.get(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// With more than [`KEEP_MAX`] lent, a waiting stream parks; one that
    /// kept its compressor at a wait can park at the next, resume with
    /// another compressor, go on in stored blocks while all are lent and
    /// keep its compressor again when they are not: still one gzip of the
    /// file, and the count of lent streams right at every step.
    #[test]
    fn waiting_streams_park_when_contended() {
        let (dir, data, file) = numbers_file("contended", 400_000);
        let pool = Pool::new(6);
        let mut s = pool.stream(data.len() as u64, true).unwrap();
        let mut others: Vec<Stream> = Vec::new();
        let mut wire = Vec::new();
        let mut step = 0;
        while let Some((piece, last)) = s.next(&file).unwrap() {
            let piece = piece.to_vec();
            step += 1;
            // Stored blocks while every compressor is lent.
            assert_eq!(s.lease.is_none(), (6..=7).contains(&step) || last, "step {step}");
            let taken = piece.len() / 2;
            wire.extend_from_slice(&piece[..taken]);
            wire.extend_from_slice(s.wait(taken).unwrap());
            let lent = pool.streams.get();
            if (step <= 2 || step >= 8) && !last {
                // Few lent: kept.
                assert!(s.lease.is_some() && lent <= KEEP_MAX, "step {step}");
            } else {
                // More than KEEP_MAX lent with this one (or the end): parked.
                assert!(s.lease.is_none() && lent == others.len(), "step {step}");
            }
            match step {
                2 => others = (0..KEEP_MAX).map(|_| pool.stream(1, true).unwrap()).collect(),
                5 => others.extend((KEEP_MAX..MAX_STREAMS).map(|_| pool.stream(1, true).unwrap())),
                7 => others.clear(),
                _ => {}
            }
        }
        assert!(step > 9, "{step} steps");
        assert_eq!(gunzip(&unchunk(&wire)), data);
        drop(s);
        assert_eq!(pool.streams.get(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
