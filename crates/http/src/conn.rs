//! One connection: read a batch, answer every complete request in it (in
//! order, into one buffer), write the answers with one `write`, repeat.
//!
//! Pipelining falls out of this shape: a client that sends several
//! requests in one segment gets their responses gathered into one write,
//! in order. A body too large for memory goes by `sendfile` between the
//! heads before and after it (a multipart one as part heads and
//! `sendfile`s in turn), and its log line waits until it is sent, so it
//! records the bytes that actually left.
//!
//! A request body is read and dropped, so the connection stays usable, as
//! nginx's `ngx_http_discard_request_body` does: a `Content-Length` body
//! is skipped as it arrives, after the response; a chunked one is decoded
//! ([`crate::chunked`]) before the response, keeping the request's head in
//! the buffer and removing the body's bytes as they are decoded, so that
//! an oversized body gets a 413 and broken framing a 400 (then the
//! connection closes) instead of an answer followed by garbage. Since
//! that answer waits for the body, a chunked request that says
//! `Expect: 100-continue` is sent `100 Continue` first, as nginx does.
//! A response that closes the connection while the client may still be
//! sending ends with nginx's lingering close (`Conn::linger`), never a
//! reset.
//!
//! Every wait has a deadline, kept in one timer per connection that is
//! armed lazily: moving a deadline later does not touch the timer wheel;
//! when the timer fires early, the wait re-arms it for the real deadline.
//! So a busy keep-alive connection costs no timer operation per request.
//! * header timeout: from the accept (for the first request) or the first
//!   byte of a later one, to the end of its head; bytes trickling in do
//!   not extend it, so a slowloris client is closed when it expires;
//! * keep-alive timeout: idle between requests;
//! * send timeout: the longest the client may leave us unable to write.
//!
//! Every request that began arriving is counted in stub_status `requests`
//! and logged, as nginx does, including those refused while being read
//! (400, 413, 414, 431, 501, 505: an error page, then close; 400 includes an
//! HTTP/1.1 request without a `Host` header, even with an absolute-form
//! target, as RFC 9112 §3.2 and nginx have it, while HTTP/1.0 may omit
//! it) and those that
//! never finished: a head still incomplete when the header timeout
//! expires is logged as 408, one the client cut off (or reset) as 400,
//! and neither gets a response (nginx closes those without one too). A
//! connection that times out or closes idle, with no request begun, is
//! neither counted nor logged.

mod gzip;

use crate::cache::Entry;
use crate::chunked::{Discard, Progress};
use crate::head::{self, valid_host, valid_target_host, version, HeadScan, Scanned, Version};
use crate::response::{self, FileBody, Known, Req};
use crate::server::Worker;
use crate::sys;
use spindle_cluster::Counter;
use spindle_rt::io::Direction;
use spindle_rt::net::TcpStream;
use spindle_rt::time::Sleep;
use std::future::{poll_fn, Future};
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::Poll;
// The runtime's clock, which timer deadlines are measured on.
use spindle_rt::time::Instant;
use std::time::Duration;

/// Why a connection ends.
#[derive(Debug)]
enum End {
    /// Closed by the peer, or by us after a `Connection: close` response.
    Closed,
    Timeout,
    Stop,
    #[allow(dead_code)]
    Io(io::Error),
}

/// Which stub_status gauge the connection counts in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Gauge {
    None,
    Reading,
    Writing,
    Waiting,
}

const READ_CHUNK: usize = 4096;
/// Flush gathered responses once this much is buffered.
const OUT_HIGH: usize = 64 << 10;
/// The output buffer's starting capacity.
const OUT_START: usize = 1024;
/// The most output buffer an idle connection keeps (see
/// `Conn::shrink_buffers`): an answer with a cached body up to about
/// 15 KiB fits, so a keep-alive client fetching such files allocates
/// nothing per request; larger ones cost an allocation each.
const OUT_KEEP: usize = 16 << 10;

struct Conn {
    w: Rc<Worker>,
    stream: TcpStream,
    peer: SocketAddr,
    idx: usize,
    timer: Sleep,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    out: Vec<u8>,
    gauge: Gauge,
    served: u64,
    head_deadline: Option<Instant>,
    /// How much of the head at `start` has arrived (reset as each request
    /// is consumed).
    scan: HeadScan,
    /// Body bytes of the last request still to be read and dropped.
    skip: u64,
    /// The chunked body being dropped, of the request whose head is the
    /// first `chunk_head` bytes at `start`.
    chunked: Option<Discard>,
    chunk_head: usize,
    /// The chunked body of the request at `start` is gone: answer it.
    chunk_done: bool,
    /// A request was refused with its body unread: linger on close
    /// (closing after any other response lingers when
    /// [`Conn::client_may_be_sending`]).
    linger: bool,
}

/// What one parse step produced.
enum Step {
    /// Need more bytes.
    Partial,
    /// A response is in `out`; maybe a file body to send after it.
    Done(response::Outcome),
    /// A head of this many bytes announced a chunked body: drop it first.
    Chunked(usize),
}

/// Serves one connection to the end.
pub(crate) async fn serve(w: Rc<Worker>, stream: TcpStream, peer: SocketAddr) {
    let idx = w.enter();
    w.stats.add(Counter::Active, 1);
    let now = Instant::now();
    let far = now + Duration::from_secs(86_400);
    // The first request's head is due a header timeout after the accept,
    // however late its first byte comes (see `fill`).
    let head_deadline = Some(now + w.cfg.timeouts.header);
    let mut c = Conn {
        w,
        stream,
        peer,
        idx,
        timer: spindle_rt::time::sleep_until(far),
        buf: vec![0; READ_CHUNK],
        start: 0,
        end: 0,
        out: Vec::with_capacity(OUT_START),
        gauge: Gauge::None,
        served: 0,
        head_deadline,
        scan: HeadScan::default(),
        skip: 0,
        chunked: None,
        chunk_head: 0,
        chunk_done: false,
        linger: false,
    };
    let _ = c.run().await;
}

/// The connection's share of the worker's books is given back however it
/// ends: returned, panicked (the runtime catches a task's panic), or
/// dropped with the runtime. A leak here would count against
/// `worker_connections` for good and keep a draining worker waiting for
/// a connection that no longer exists.
impl Drop for Conn {
    fn drop(&mut self) {
        self.set_gauge(Gauge::None);
        self.w.stats.add(Counter::Active, -1);
        self.w.leave(self.idx);
    }
}

/// Waits for `fut` with a deadline, and for a stop.
async fn timed<T>(
    w: &Worker,
    idx: usize,
    timer: &mut Sleep,
    deadline: impl Fn(&Worker) -> Instant,
    fut: impl Future<Output = io::Result<T>>,
) -> Result<T, End> {
    let mut fut = pin!(fut);
    poll_fn(|cx| {
        if w.stopping.get() {
            return Poll::Ready(Err(End::Stop));
        }
        if let Poll::Ready(r) = fut.as_mut().poll(cx) {
            return Poll::Ready(r.map_err(End::Io));
        }
        w.set_waker(idx, cx.waker());
        let d = deadline(w);
        loop {
            if timer.deadline() > d || timer.is_elapsed() {
                timer.reset(d);
            }
            match Pin::new(&mut *timer).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(()) if Instant::now() >= d => return Poll::Ready(Err(End::Timeout)),
                // Fired for an earlier deadline that has since moved.
                Poll::Ready(()) => timer.reset(d),
            }
        }
    })
    .await
}

impl Conn {
    fn set_gauge(&mut self, g: Gauge) {
        if g == self.gauge {
            return;
        }
        let counter = |g| match g {
            Gauge::Reading => Some(Counter::Reading),
            Gauge::Writing => Some(Counter::Writing),
            Gauge::Waiting => Some(Counter::Waiting),
            Gauge::None => None,
        };
        if let Some(c) = counter(self.gauge) {
            self.w.stats.add(c, -1);
        }
        if let Some(c) = counter(g) {
            self.w.stats.add(c, 1);
        }
        self.gauge = g;
    }

    async fn run(&mut self) -> Result<(), End> {
        loop {
            self.w.clock.borrow_mut().refresh();
            loop {
                if self.skip > 0 {
                    let n = self.skip.min((self.end - self.start) as u64);
                    self.start += n as usize;
                    self.skip -= n;
                    if self.skip > 0 {
                        break;
                    }
                }
                if self.start == self.end {
                    break;
                }
                self.set_gauge(Gauge::Writing);
                let step = match self.chunked {
                    Some(_) => Step::Chunked(self.chunk_head),
                    None => self.step(),
                };
                let outcome = match step {
                    Step::Partial => break,
                    Step::Chunked(head) => match self.discard_chunked(head) {
                        Progress::Done => continue,
                        Progress::More => break,
                        failed => {
                            let status = if failed == Progress::TooLarge { 413 } else { 400 };
                            let head = &self.buf[self.start..self.start + head];
                            let known = Known::from_head(head, self.w.cfg.limits.request_line);
                            response::refuse(&self.w, Some(&mut self.out), self.peer, status, &known);
                            self.flush().await?;
                            self.linger().await;
                            return Err(End::Closed);
                        }
                    },
                    Step::Done(o) => o,
                };
                self.served += 1;
                if let Some(mut body) = outcome.file {
                    let mut sent = 0;
                    let r = self.send_file(&mut body, &mut sent).await;
                    if let Some(line) = &body.log {
                        line.record(&self.w, sent);
                    }
                    r?;
                }
                if let Some(body) = outcome.listing {
                    let mut sent = 0;
                    let r = self.send_listing(body.bytes.bytes(), &mut sent).await;
                    if let Some(line) = &body.log {
                        line.record(&self.w, sent);
                    }
                    r?;
                }
                if outcome.close {
                    self.flush().await?;
                    if self.linger || self.client_may_be_sending() {
                        self.linger().await;
                    }
                    return Err(End::Closed);
                }
                if self.out.len() >= OUT_HIGH {
                    self.flush().await?;
                }
            }
            if !self.out.is_empty() {
                self.flush().await?;
            }
            if let Err(e) = self.fill().await {
                self.abandoned(&e);
                return Err(e);
            }
        }
    }

    /// Logs the request whose head (or chunked body) was still arriving
    /// when the connection ended with `e`: 408 for a timeout, 400 for a
    /// client that closed or failed, as nginx logs them. Nothing for an
    /// idle connection, a body being skipped after its response, or a
    /// stop.
    fn abandoned(&self, e: &End) {
        let status = match e {
            End::Timeout => 408,
            End::Closed | End::Io(_) => 400,
            End::Stop => return,
        };
        let pending = &self.buf[self.start..self.end];
        if self.skip > 0 || pending.iter().all(|&c| c == b'\r' || c == b'\n') {
            return;
        }
        let head = if self.chunked.is_some() { &pending[..self.chunk_head] } else { pending };
        let known = Known::from_head(head, self.w.cfg.limits.request_line);
        response::refuse(&self.w, None, self.peer, status, &known);
    }

    /// Parses one request at the front of the buffer and builds its
    /// response.
    fn step(&mut self) -> Step {
        let w = &*self.w;
        let peer = self.peer;
        let limits = &w.cfg.limits;
        let data = &self.buf[self.start..self.end];
        // Refused: counted, logged with what is known, answered, closed.
        let fail = |out: &mut Vec<u8>, status, k: &Known<'_>| {
            response::refuse(w, Some(out), peer, status, k);
            Step::Done(response::Outcome { close: true, file: None, listing: None })
        };
        let so_far = || Known::from_head(data, limits.request_line);
        // Parsed only when its request line or the whole head has come
        // (see `HeadScan`); in between, the limits.
        if self.scan.feed(data) == Scanned::Wait {
            let lead = self.scan.lead();
            return match self.scan.line_len() {
                None if data.len() - lead > limits.request_line => fail(&mut self.out, 414, &so_far()),
                _ if data.len() >= limits.headers => fail(&mut self.out, 431, &so_far()),
                _ => Step::Partial,
            };
        }
        // Empty lines before a request line are skipped (RFC 9112 §2.2).
        let lead = match data.first() {
            Some(b'\r' | b'\n') => data.iter().position(|&c| c != b'\r' && c != b'\n').unwrap_or(data.len()),
            _ => 0,
        };
        let line_len = data[lead..].iter().position(|&c| c == b'\n');
        // A version httparse does not take: HTTP/2 and up get nginx's 505,
        // a later HTTP/1 minor is parsed (from a copy) as HTTP/1.1, and a
        // version followed by spaces as itself.
        let full_line = line_len.map(|l| &data[lead..lead + l]);
        let patched: Vec<u8>;
        let (src, shift) = match full_line.map(version) {
            Some(Version::Unsupported) => return fail(&mut self.out, 505, &so_far()),
            Some(Version::Rewrite(at, old_len, new)) => {
                let at = lead + at;
                patched = [&data[..at], new, &data[at + old_len..]].concat();
                (&patched[..], old_len as isize - new.len() as isize)
            }
            _ => (data, 0),
        };
        let mut config = httparse::ParserConfig::default();
        // nginx takes several spaces between the parts of a request line.
        config.allow_multiple_spaces_in_request_line_delimiters(true);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut more_headers;
        let mut req = httparse::Request::new(&mut headers);
        let mut parsed = config.parse_request(&mut req, src);
        if let Err(httparse::Error::TooManyHeaders) = parsed {
            // nginx limits the head's size, not its count of headers:
            // as many as fit in `limits.headers` (at least 4 bytes each).
            more_headers = vec![httparse::EMPTY_HEADER; limits.headers / 4 + 1];
            req = httparse::Request::new(&mut more_headers);
            parsed = config.parse_request(&mut req, src);
        }
        let len = match parsed {
            Ok(httparse::Status::Complete(len)) => (len as isize + shift) as usize,
            Ok(httparse::Status::Partial) => {
                return match line_len {
                    None if data.len() - lead > limits.request_line => fail(&mut self.out, 414, &so_far()),
                    Some(l) if l > limits.request_line => fail(&mut self.out, 414, &so_far()),
                    _ if data.len() >= limits.headers => fail(&mut self.out, 431, &so_far()),
                    _ => Step::Partial,
                };
            }
            Err(httparse::Error::TooManyHeaders) => return fail(&mut self.out, 431, &so_far()),
            Err(_) => return fail(&mut self.out, 400, &so_far()),
        };
        let line_len = line_len.unwrap_or(len - lead);
        // Each header line must fit where the request line must (nginx's
        // `large_client_header_buffers` size); 431 as for a large head.
        let long_field = req.headers.iter().any(|h| h.name.len() + 2 + h.value.len() > limits.request_line);
        if line_len > limits.request_line {
            return fail(&mut self.out, 414, &so_far());
        }
        if len > limits.headers || long_field {
            return fail(&mut self.out, 431, &so_far());
        }
        let line = &data[lead..lead + line_len];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let mut r = Req {
            method: req.method.unwrap_or(""),
            target: req.path.unwrap_or("").as_bytes(),
            minor: req.version.unwrap_or(1),
            line,
            ..Req::default()
        };
        // nginx's methods are upper-case letters, `_` and `-`.
        if !r.method.bytes().all(|c| c.is_ascii_uppercase() || c == b'_' || c == b'-') {
            return fail(&mut self.out, 400, &so_far());
        }
        let mut content_length: Option<u64> = None;
        let mut chunked = false;
        let mut te_other = false;
        let mut te_count = 0;
        let mut bad = false;
        let mut bad_host = false;
        let mut expect_continue = false;
        // `gzip` and `gzip_static` off: these two headers are not compared.
        let gzip = w.reads_encoding;
        for h in req.headers.iter() {
            let n = h.name.as_bytes();
            let v = h.value;
            match n.len() {
                4 if n.eq_ignore_ascii_case(b"host") => {
                    // nginx: "client sent duplicate host header" or
                    // "client sent invalid host header", 400 either way.
                    bad_host |= r.host.is_some() || !valid_host(v);
                    r.host = Some(v);
                }
                // A field that takes one value, sent twice: the first
                // counts, as in nginx (`ngx_http_process_header_line`), so
                // that a cache in front keying on the first `Range` gets
                // the bytes it asked for.
                5 if n.eq_ignore_ascii_case(b"range") => r.range = r.range.or(Some(v)),
                6 if n.eq_ignore_ascii_case(b"expect") => {
                    expect_continue = v.trim_ascii().eq_ignore_ascii_case(b"100-continue");
                }
                7 if n.eq_ignore_ascii_case(b"referer") => r.referer = r.referer.or(Some(v)),
                15 if gzip && n.eq_ignore_ascii_case(b"accept-encoding") => {
                    r.accept_encoding = r.accept_encoding.or(Some(v))
                }
                3 if gzip && n.eq_ignore_ascii_case(b"via") => r.via = true,
                8 if n.eq_ignore_ascii_case(b"if-range") => r.if_range = r.if_range.or(Some(v)),
                10 if n.eq_ignore_ascii_case(b"connection") => {
                    for t in v.split(|&c| c == b',') {
                        let t = t.trim_ascii();
                        r.conn_close |= t.eq_ignore_ascii_case(b"close");
                        r.conn_keep_alive |= t.eq_ignore_ascii_case(b"keep-alive");
                    }
                }
                10 if n.eq_ignore_ascii_case(b"user-agent") => r.user_agent = r.user_agent.or(Some(v)),
                13 if n.eq_ignore_ascii_case(b"if-none-match") => head::join_list(&mut r.if_none_match, v),
                13 if n.eq_ignore_ascii_case(b"authorization") => {
                    r.authorization = r.authorization.or(Some(v))
                }
                14 if n.eq_ignore_ascii_case(b"content-length") => {
                    // A second one is refused even if equal, as in nginx
                    // ("client sent duplicate header line").
                    match (head::content_length(v), content_length) {
                        (Some(x), None) => content_length = Some(x),
                        _ => bad = true,
                    }
                }
                8 if n.eq_ignore_ascii_case(b"if-match") => head::join_list(&mut r.if_match, v),
                19 if n.eq_ignore_ascii_case(b"if-unmodified-since") => {
                    r.if_unmodified_since = r.if_unmodified_since.or(Some(v))
                }
                17 if n.eq_ignore_ascii_case(b"if-modified-since") => {
                    r.if_modified_since = r.if_modified_since.or(Some(v))
                }
                17 if n.eq_ignore_ascii_case(b"transfer-encoding") => {
                    te_count += 1;
                    // Only `chunked` alone is understood (as in nginx):
                    // `gzip, chunked` and the like get 501.
                    if v.trim_ascii().eq_ignore_ascii_case(b"chunked") {
                        chunked = true;
                    } else {
                        te_other = true;
                    }
                }
                _ => {}
            }
        }
        let known =
            Known { line, referer: r.referer, user_agent: r.user_agent, authorization: r.authorization };
        // nginx's checks, in its order: a duplicate or invalid Host (found
        // as the header is read), then once the head is complete an
        // HTTP/1.1 request naming no host (RFC 9112 §3.2: "client sent
        // HTTP/1.1 request without Host header"), then a body framed two
        // ways, a repeated Transfer-Encoding, or one in HTTP/1.0 is a 400
        // (a smuggling attempt or a broken client); an unknown coding is
        // a 501.
        let no_host = r.minor >= 1 && r.host.is_none();
        // nginx checks the target's host when the request line is read,
        // before any header ("client sent invalid host in request line").
        let bad_host = bad_host || !valid_target_host(r.target);
        if bad_host
            || no_host
            || bad
            || te_count > 1
            || (te_count > 0 && (content_length.is_some() || r.minor == 0))
        {
            return fail(&mut self.out, 400, &known);
        }
        if te_other {
            return fail(&mut self.out, 501, &known);
        }
        if content_length.is_some_and(|n| n > limits.body) {
            self.linger = true;
            return fail(&mut self.out, 413, &known);
        }
        if chunked {
            if !self.chunk_done {
                // Leave the head where it is, drop the body, come back.
                // The answer waits for the body, and a client that asked
                // for `100 Continue` waits for that before sending it: so
                // it gets one now (after the answers before it in `out`),
                // as nginx's `ngx_http_test_expect` sends it when it starts
                // to drop a body. With a Content-Length body the answer
                // goes at once, its `100` just before it (in `response`).
                if expect_continue && r.minor >= 1 {
                    self.out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                }
                self.chunked = Some(Discard::new(limits.body));
                self.chunk_head = len;
                // The body gets its own header-timeout window, as a
                // Content-Length body does.
                self.head_deadline = None;
                return Step::Chunked(len);
            }
            self.chunk_done = false;
        }
        // nginx answers TRACE with a 405 and closes.
        let keep = if r.minor >= 1 { !r.conn_close } else { r.conn_keep_alive && !r.conn_close };
        let keep = keep && r.method != "TRACE";
        let close =
            !keep || self.served + 1 >= limits.keepalive_requests || self.w.drain_started.get().is_some();
        // A chunked body's `100 Continue` went out above.
        r.expect_continue = expect_continue && r.minor >= 1 && !chunked;
        let stream = &self.stream;
        let local = || stream.local_addr().ok();
        let outcome = response::respond(w, &mut self.out, &r, peer, &local, close);
        self.start += len;
        self.scan = HeadScan::default();
        self.skip = content_length.unwrap_or(0);
        self.head_deadline = None;
        Step::Done(outcome)
    }

    /// Feeds the bytes after the head of `head` bytes to the chunked
    /// decoder and removes those it consumed from the buffer, so the head
    /// stays in place and whatever follows the body moves up to it.
    fn discard_chunked(&mut self, head: usize) -> Progress {
        let Some(d) = &mut self.chunked else { return Progress::Done };
        let from = self.start + head;
        let (n, p) = d.feed(&self.buf[from..self.end]);
        self.buf.copy_within(from + n..self.end, from);
        self.end -= n;
        if p != Progress::More {
            self.chunked = None;
        }
        self.chunk_done = p == Progress::Done;
        p
    }

    /// Whether the client may still be sending as we close after a
    /// response: its request's body is not all read, it pipelined more
    /// requests (in the buffer), or bytes wait unread in the socket.
    /// Closing then would make the kernel reset the connection, dropping
    /// what of the response has not left yet and failing the client's
    /// writes, so the close lingers instead, on the conditions nginx's
    /// `ngx_http_finalize_connection` lingers on (a body being discarded,
    /// `header_in` not empty, the read event ready). A refused request's
    /// own bytes are still in the buffer, so a refusal always lingers,
    /// as in nginx.
    fn client_may_be_sending(&self) -> bool {
        self.skip > 0 || self.start < self.end || sys::unread_bytes(self.stream.as_raw_fd()).unwrap_or(0) > 0
    }

    /// nginx's lingering close (see [`crate::config::Timeouts`]):
    /// half-closes, then reads and drops until the client is done, quiet
    /// for `timeouts.lingering`, or `timeouts.lingering_time` is up
    /// (sooner when draining).
    async fn linger(&mut self) {
        let _ = self.stream.shutdown_std(std::net::Shutdown::Write);
        let t = &self.w.cfg.timeouts;
        let (quiet_for, until) = (t.lingering, Instant::now() + t.lingering_time);
        let grace = self.w.drain_grace();
        loop {
            let quiet = (Instant::now() + quiet_for).min(until);
            let when = |w: &Worker| match w.drain_started.get() {
                Some(t) => quiet.min(t + grace),
                None => quiet,
            };
            let Conn { w, idx, timer, stream, buf, .. } = self;
            match timed(w, *idx, timer, when, stream.read(&mut buf[..])).await {
                Ok(n) if n > 0 => {}
                _ => return,
            }
        }
    }

    /// Reads more of the next request (or of a body being skipped).
    async fn fill(&mut self) -> Result<(), End> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else {
                let cap = (self.buf.len() * 2).min(self.w.cfg.limits.headers + READ_CHUNK);
                self.buf.resize(cap.max(self.buf.len() + 1), 0);
            }
        }
        let idle = self.start == self.end && self.skip == 0;
        let deadline = if idle {
            self.set_gauge(Gauge::Waiting);
            self.shrink_buffers();
            // A fresh connection gets the header timeout for its first
            // request, counted from the accept and not restarted by its
            // first byte (as nginx does: otherwise a slowloris that waits
            // almost a header timeout before starting gets two); a served
            // one gets the keep-alive timeout.
            let t = &self.w.cfg.timeouts;
            match self.head_deadline {
                Some(d) if self.served == 0 => d,
                _ => Instant::now() + if self.served == 0 { t.header } else { t.keepalive },
            }
        } else {
            self.set_gauge(Gauge::Reading);
            *self.head_deadline.get_or_insert_with(|| Instant::now() + self.w.cfg.timeouts.header)
        };
        let grace = self.w.drain_grace();
        // Between requests, a connection a full worker may reclaim.
        let keepalive = idle && self.served > 0;
        if keepalive {
            self.w.set_idle(self.idx, true);
        }
        let Conn { w, idx, timer, stream, buf, end, .. } = self;
        let slot = *idx;
        let when = move |w: &Worker| match w.drain_started.get() {
            _ if keepalive && w.is_reclaimed(slot) => Instant::now(),
            Some(t) if idle => deadline.min(t + grace),
            _ => deadline,
        };
        let got = timed(w, slot, timer, when, stream.read(&mut buf[*end..])).await;
        if keepalive {
            self.w.set_idle(self.idx, false);
        }
        let n = got?;
        if n == 0 {
            return Err(End::Closed);
        }
        self.end += n;
        Ok(())
    }

    /// Gives back what a large head (the input buffer grows up to
    /// `limits.headers`) or a large batch of pipelined answers (the output
    /// buffer, past [`OUT_HIGH`]) made the buffers grow to, once the
    /// connection is idle: otherwise every idle keep-alive connection
    /// would hold its peak, about 100 KiB after a burst (1 GB for 10,240
    /// connections), where nginx frees its header buffers between
    /// requests. Both are empty here; the input buffer goes back to
    /// [`READ_CHUNK`] (a head larger than that is rare), the output buffer
    /// only past [`OUT_KEEP`], so a plain keep-alive connection pays
    /// nothing.
    fn shrink_buffers(&mut self) {
        if self.buf.len() > READ_CHUNK {
            self.buf = vec![0; READ_CHUNK];
        }
        if self.out.capacity() > OUT_KEEP {
            self.out = Vec::with_capacity(OUT_START);
        }
    }

    /// Writes out the gathered responses.
    async fn flush(&mut self) -> Result<(), End> {
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
    async fn send_file(&mut self, b: &mut FileBody, sent: &mut u64) -> Result<(), End> {
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
    async fn send_listing(&mut self, body: &[u8], sent: &mut u64) -> Result<(), End> {
        self.send_heads().await?;
        for piece in body.chunks(self.w.cfg.cache.sendfile_chunk.max(1)) {
            self.send_bytes(piece, false, sent).await?;
            spindle_rt::yield_now().await;
        }
        Ok(())
    }

    /// Sends the gathered heads, held back with `MSG_MORE` for the body
    /// that follows them.
    async fn send_heads(&mut self) -> Result<(), End> {
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
    async fn send_bytes(&mut self, buf: &[u8], more: bool, sent: &mut u64) -> Result<(), End> {
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
    async fn send_range(&mut self, entry: &Entry, mut off: u64, len: u64, sent: &mut u64) -> Result<(), End> {
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
