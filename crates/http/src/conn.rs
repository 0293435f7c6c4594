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
//!
//! Here: the connection's state, its loop and its deadlines. Its parts:
//! `request` (parsing a request and answering it, dropping a chunked
//! body), `input` (reading, idle buffers, lingering close), `send`
//! (writing answers and file or listing bodies) and `gzip` (a body
//! compressed as it goes).

mod gzip;
mod input;
mod request;
mod send;

use crate::chunked::{Discard, Progress};
use crate::head::HeadScan;
use crate::response::{self, Known};
use crate::server::Worker;
use spindle_cluster::Counter;
use spindle_rt::net::TcpStream;
use spindle_rt::time::Sleep;
use std::future::{poll_fn, Future};
use std::io;
use std::net::SocketAddr;
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
}
