//! Deciding the response to one parsed request and writing its head (and
//! a small body) into the connection's output buffer.
//!
//! Nothing here allocates on the hot path: the head is built into the
//! connection's reused buffer from pieces prepared earlier (the date, once
//! a second; the file's type, validators and `Accept-Ranges`, once per
//! cache entry), and a small body is copied right after it, so head and
//! body leave in one `write`.

use crate::cache::{Entry, Lookup};
use crate::config::GzipStatic;
use crate::errorpage;
use crate::log::{remote_user, Clock, LogLine};
use crate::multirange::Multipart;
use crate::path::{self, CleanPath};
use crate::range::{self, RangeSet};
use crate::server::Worker;
use crate::tryfiles::Tried;
use spindle_cluster::Counter;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

/// The parts of a request the server looks at, borrowed from the input
/// buffer.
#[derive(Debug, Default)]
pub(crate) struct Req<'a> {
    pub method: &'a str,
    pub target: &'a [u8],
    /// HTTP/1.x minor version.
    pub minor: u8,
    /// The request line as received (for the log).
    pub line: &'a [u8],
    /// The `Host` header.
    pub host: Option<&'a [u8]>,
    pub conn_close: bool,
    pub conn_keep_alive: bool,
    /// `If-None-Match`, its lines joined with commas when repeated (a
    /// list: RFC 9110 §5.3).
    pub if_none_match: Option<std::borrow::Cow<'a, [u8]>>,
    pub if_modified_since: Option<&'a [u8]>,
    pub if_range: Option<&'a [u8]>,
    /// `If-Match`, joined as `if_none_match` is.
    pub if_match: Option<std::borrow::Cow<'a, [u8]>>,
    pub if_unmodified_since: Option<&'a [u8]>,
    pub range: Option<&'a [u8]>,
    pub referer: Option<&'a [u8]>,
    pub user_agent: Option<&'a [u8]>,
    /// `Authorization`, for the log's `$remote_user`.
    pub authorization: Option<&'a [u8]>,
    /// An HTTP/1.1 `Expect: 100-continue` still owed its `100 Continue`.
    pub expect_continue: bool,
    /// `Accept-Encoding` (read only with `gzip_static` on).
    pub accept_encoding: Option<&'a [u8]>,
    /// A `Via` header came (read only with `gzip_static` on).
    pub via: bool,
}

/// What the connection must do after the head (and maybe body) is in the
/// buffer.
pub(crate) struct Outcome {
    /// Close the connection after this response.
    pub close: bool,
    /// A body to send from the file, after the buffered heads.
    pub file: Option<FileBody>,
    /// A directory listing to send after the buffered heads.
    pub listing: Option<ListingBody>,
}

/// A directory listing's body, sent from memory (see
/// [`crate::autoindex`]).
pub(crate) struct ListingBody {
    pub bytes: Rc<crate::autoindex::Listing>,
    /// The access log line, as [`FileBody::log`].
    pub log: Option<Box<PendingLog>>,
}

/// What is known of a request that was refused, or abandoned, before it
/// could be answered normally: the log records what there is.
#[derive(Debug, Default)]
pub(crate) struct Known<'a> {
    /// The request line, or as much of it as arrived.
    pub line: &'a [u8],
    pub referer: Option<&'a [u8]>,
    pub user_agent: Option<&'a [u8]>,
    pub authorization: Option<&'a [u8]>,
}

impl<'a> Known<'a> {
    /// What a request's bytes so far say: the (partial) request line,
    /// after any empty lines before it, cut at `max` bytes; and if the
    /// head is complete, its `Referer` and `User-Agent`.
    pub fn from_head(data: &'a [u8], max: usize) -> Known<'a> {
        let lead = data.iter().position(|&c| c != b'\r' && c != b'\n').unwrap_or(data.len());
        let rest = &data[lead..];
        let end = rest.iter().position(|&c| c == b'\r' || c == b'\n').unwrap_or(rest.len());
        let mut k = Known { line: &rest[..end.min(max)], ..Known::default() };
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        if let Ok(httparse::Status::Complete(_)) = req.parse(data) {
            for h in req.headers.iter() {
                if h.name.eq_ignore_ascii_case("referer") {
                    k.referer = Some(h.value);
                } else if h.name.eq_ignore_ascii_case("user-agent") {
                    k.user_agent = Some(h.value);
                } else if h.name.eq_ignore_ascii_case("authorization") {
                    k.authorization = k.authorization.or(Some(h.value));
                }
            }
        }
        k
    }
}

/// Refuses a request the server will not serve: with `out`, writes
/// nginx's error page for `status` (closing the connection); without, the
/// connection just ends (a head cut off or timed out: nginx sends nothing
/// then either). Either way the request counts in stub_status `requests`
/// and gets its access log line, as nginx's `ngx_http_finalize_request`
/// and `ngx_http_close_request` log every request they end, including
/// those that never parsed: `$request` is then what arrived of the line
/// (`-` if nothing did).
pub(crate) fn refuse(w: &Worker, out: Option<&mut Vec<u8>>, peer: SocketAddr, status: u16, k: &Known<'_>) {
    w.stats.add(Counter::Requests, 1);
    let mut clock = w.clock.borrow_mut();
    clock.refresh();
    let bytes = match out {
        Some(out) => error(out, &clock.http, status, false, true, b""),
        None => 0,
    };
    if let Some(log) = &mut *w.log.borrow_mut() {
        let user = k.authorization.and_then(remote_user);
        let line = LogLine {
            peer,
            request: k.line,
            status,
            bytes,
            referer: k.referer,
            user_agent: k.user_agent,
            user: user.as_deref(),
        };
        log.record(&clock.local, &line);
    }
}

/// A response body that goes by `sendfile`.
pub(crate) struct FileBody {
    pub entry: Rc<Entry>,
    /// One range: offset and length.
    pub off: u64,
    pub len: u64,
    /// Several ranges: the part heads and ranges (`off` and `len` unused).
    pub multi: Option<Box<Multipart>>,
    /// The file compressed as it is sent (`gzip`; `off` and `len` say
    /// the whole file).
    pub gzip: Option<Box<crate::compress::Stream>>,
    /// The access log line, written once the body is sent or cut short,
    /// with the bytes that actually left (nginx's `$body_bytes_sent`).
    pub log: Option<Box<PendingLog>>,
}

/// An access log line waiting for its byte count, owning what it quotes
/// (the request's bytes in the input buffer do not outlive the step).
pub(crate) struct PendingLog {
    peer: SocketAddr,
    status: u16,
    request: Box<[u8]>,
    referer: Option<Box<[u8]>>,
    user_agent: Option<Box<[u8]>>,
    user: Option<Box<[u8]>>,
}

impl PendingLog {
    /// Writes the line, with `bytes` of body sent.
    pub fn record(&self, w: &Worker, bytes: u64) {
        if let Some(log) = &mut *w.log.borrow_mut() {
            let mut clock = w.clock.borrow_mut();
            clock.refresh();
            let line = LogLine {
                peer: self.peer,
                request: &self.request,
                status: self.status,
                bytes,
                referer: self.referer.as_deref(),
                user_agent: self.user_agent.as_deref(),
                user: self.user.as_deref(),
            };
            log.record(&clock.local, &line);
        }
    }
}

fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        301 => "Moved Permanently",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Not Allowed",
        412 => "Precondition Failed",
        408 => "Request Time-out",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Large",
        416 => "Requested Range Not Satisfiable",
        431 => "Request Header Fields Too Large",
        401 => "Unauthorized",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Temporarily Unavailable",
        504 => "Gateway Time-out",
        501 => "Not Implemented",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// Status line, `Server` and `Date`.
pub(crate) fn start(out: &mut Vec<u8>, status: u16, date: &str) {
    out.extend_from_slice(b"HTTP/1.1 ");
    push_u64(out, u64::from(status));
    out.push(b' ');
    out.extend_from_slice(reason(status).as_bytes());
    out.extend_from_slice(b"\r\nServer: spindle\r\nDate: ");
    out.extend_from_slice(date.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// `Connection` and the blank line.
pub(crate) fn finish(out: &mut Vec<u8>, close: bool) {
    out.extend_from_slice(if close {
        b"Connection: close\r\n\r\n"
    } else {
        b"Connection: keep-alive\r\n\r\n"
    });
}

/// A `Content-Length` line.
pub(crate) fn content_length(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(b"Content-Length: ");
    push_u64(out, n);
    out.extend_from_slice(b"\r\n");
}

/// An error page as nginx writes them, with `extra` header lines.
/// Returns the body length.
pub(crate) fn error(
    out: &mut Vec<u8>,
    date: &str,
    status: u16,
    head_only: bool,
    close: bool,
    extra: &[u8],
) -> u64 {
    let title = format!("{status} {}", reason(status));
    let body = format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>spindle</center>\r\n</body>\r\n</html>\r\n"
    );
    start(out, status, date);
    out.extend_from_slice(b"Content-Type: text/html\r\n");
    content_length(out, body.len() as u64);
    out.extend_from_slice(extra);
    finish(out, close);
    if head_only {
        return 0;
    }
    out.extend_from_slice(body.as_bytes());
    body.len() as u64
}

/// Whether `If-None-Match` lists `etag` (weak comparison, `*` matches).
fn etag_matches(header: &[u8], etag: &str) -> bool {
    header.split(|&c| c == b',').any(|t| {
        let t = t.trim_ascii();
        let t = t.strip_prefix(b"W/").unwrap_or(t);
        t == b"*" || t == etag.as_bytes()
    })
}

/// Whether `If-Match` lists `etag` (strong comparison: a weak tag never
/// matches), or is `*`.
fn etag_matches_strong(header: &[u8], etag: &str) -> bool {
    header.trim_ascii() == b"*" || header.split(|&c| c == b',').any(|t| t.trim_ascii() == etag.as_bytes())
}

/// An HTTP date in seconds since the epoch. What follows a `;` is not
/// part of it: old browsers sent `If-Modified-Since: <date>; length=<n>`,
/// whose date nginx reads.
fn http_secs(header: &[u8]) -> Option<u64> {
    let date = header.split(|&c| c == b';').next()?;
    let t = httpdate::parse_http_date(std::str::from_utf8(date).ok()?.trim()).ok()?;
    Some(t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs())
}

fn mtime_secs(e: &Entry) -> u64 {
    e.mtime.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs()
}

/// What the conditional headers make of a request for `e`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Precondition {
    /// Serve it.
    Pass,
    /// 304.
    NotModified,
    /// 412.
    Failed,
}

/// nginx's not-modified filter: `If-Unmodified-Since` (a date before the
/// file's, or no date at all, fails) and `If-Match` (strong) first, then
/// 304 for an `If-None-Match` that lists the file's tag (weak comparison,
/// `*` matches) or, without one, an `If-Modified-Since` equal to the
/// file's time (nginx's default `if_modified_since exact`: a later date
/// is not enough). Unlike nginx, `If-None-Match` alone decides when both
/// are sent, as RFC 9110 §13.1.3 requires.
pub(crate) fn preconditions(r: &Req<'_>, e: &Entry) -> Precondition {
    if let Some(ius) = r.if_unmodified_since {
        if http_secs(ius).is_none_or(|t| t < mtime_secs(e)) {
            return Precondition::Failed;
        }
    }
    if r.if_match.as_deref().is_some_and(|im| !etag_matches_strong(im, &e.etag)) {
        return Precondition::Failed;
    }
    let not_modified = match (r.if_none_match.as_deref(), r.if_modified_since) {
        (Some(inm), _) => etag_matches(inm, &e.etag),
        (None, Some(ims)) => ims == e.last_modified.as_bytes() || http_secs(ims) == Some(mtime_secs(e)),
        (None, None) => false,
    };
    if not_modified {
        Precondition::NotModified
    } else {
        Precondition::Pass
    }
}

/// Whether `If-Range` lets a range through, as nginx reads it: a value
/// ending in `"` is an entity tag that must equal the file's exactly
/// (a weak one never does); anything else is a date that must be the
/// file's time.
fn if_range_holds(ir: &[u8], e: &Entry) -> bool {
    let ir = ir.trim_ascii();
    if ir.len() >= 2 && ir.ends_with(b"\"") {
        return ir == e.etag.as_bytes();
    }
    ir == e.last_modified.as_bytes() || http_secs(ir) == Some(mtime_secs(e))
}

/// Builds the response to `r` into `out`, logs it (or, for a body still
/// to be sent, prepares its log line), and says what remains. `local`
/// gives the connection's own address, asked only for a redirect.
pub(crate) fn respond(
    w: &Worker,
    out: &mut Vec<u8>,
    r: &Req<'_>,
    peer: SocketAddr,
    local: &dyn Fn() -> Option<SocketAddr>,
    close: bool,
) -> Outcome {
    w.stats.add(Counter::Requests, 1);
    let clock = w.clock.borrow();
    let date = clock.http.as_str();
    let head_only = r.method == "HEAD";
    let mut outcome = Outcome { close, file: None, listing: None };
    // `expires`: off, one test of an `Option`.
    let mut exp_lines = w.expires.as_ref().map(|e| e.borrow_mut());
    let exp: &[u8] = match &mut exp_lines {
        Some(l) => l.at(clock.secs()),
        None => b"",
    };
    let (status, bytes) = 'resp: {
        // A target nginx's parser refuses is a 400 whatever the method.
        let clean = match path::clean(r.target) {
            Ok(c) => c,
            Err(_) => {
                outcome.close = true;
                break 'resp (400, error(out, date, 400, head_only, true, b""));
            }
        };
        if r.method != "GET" && !head_only {
            break 'resp (405, error(out, date, 405, false, close, b"Allow: GET, HEAD\r\n"));
        }
        if let Some(s) = &w.cfg.status {
            if clean.path == s.as_bytes() {
                continue_first(out, r);
                break 'resp (200, status_page(w, out, date, head_only, close));
            }
        }
        let now = clock.secs();
        // `gzip_static`: off, one test of an enum.
        let find = |c: &CleanPath| match w.cfg.gzip_static {
            GzipStatic::Off => w.cache.borrow_mut().lookup(&w.cfg.root, c, &w.cfg.index, now),
            mode => crate::gzip::lookup(w, r, c, mode, now),
        };
        // `try_files`: off, one test of an `Option`.
        let mut clean = clean;
        let found = match &w.cfg.try_files {
            None => find(&clean),
            Some(tf) => {
                let candidate = |c: &CleanPath| match w.cfg.gzip_static {
                    GzipStatic::Off => w.cache.borrow_mut().lookup(&w.cfg.root, c, &w.cfg.index, now),
                    mode => crate::gzip::lookup_candidate(w, r, c, mode, now),
                };
                match crate::tryfiles::find(tf, &w.cfg.root, &clean, find, candidate) {
                    Tried::Found(found, c) => {
                        clean = c;
                        found
                    }
                    Tried::Code(404) => Lookup::NotFound,
                    Tried::Code(403) => break 'resp forbidden(w, out, &clock, head_only, &mut outcome),
                    Tried::Code(code) => break 'resp (code, error(out, date, code, head_only, close, b"")),
                }
            }
        };
        match found {
            Lookup::File(e) => {
                continue_first(out, r);
                let h = Heads { date, expires: exp };
                // `gzip`: off, one test of a `bool`.
                if e.gzip {
                    if let Some(answer) = crate::compress::serve(w, out, &h, r, &e, head_only, &mut outcome) {
                        break 'resp answer;
                    }
                }
                serve_file(out, &h, r, e, head_only, w.cfg.limits.max_ranges, &mut outcome)
            }
            Lookup::Redirect => {
                let mut loc = crate::redirect::location(r.target, &clean.path, r.host, local());
                loc.extend_from_slice(exp);
                (301, error(out, date, 301, head_only, close, &loc))
            }
            Lookup::NotFound => {
                if let Some(page) = &w.cfg.error_pages.not_found {
                    if let Some(n) = errorpage::serve(w, out, &clock, page, 404, head_only, &mut outcome) {
                        break 'resp (404, n);
                    }
                }
                // As nginx with `gzip_vary on`: whether a name is found
                // may depend on `Accept-Encoding` (only its twin there).
                let gzip = w.cfg.gzip_static != GzipStatic::Off && !clean.is_dir();
                let vary: &[u8] = if gzip { b"Vary: Accept-Encoding\r\n" } else { b"" };
                (404, error(out, date, 404, head_only, close, vary))
            }
            Lookup::Forbidden => {
                // `autoindex`: off, one test of an `Option`.
                if let (Some(ai), Some(listings), true) = (&w.cfg.autoindex, &w.listings, clean.is_dir()) {
                    let pre: &[u8] = if r.expect_continue { CONTINUE } else { b"" };
                    let (root, index) = (&w.cfg.root, w.cfg.index.as_str());
                    let mut body = None;
                    let listed = crate::autoindex::serve(
                        out, &mut body, ai, listings, root, index, &clean, date, pre, exp, head_only, close,
                    );
                    if let Some(answer) = listed {
                        outcome.listing = body.map(|bytes| ListingBody { bytes, log: None });
                        break 'resp answer;
                    }
                }
                forbidden(w, out, &clock, head_only, &mut outcome)
            }
            Lookup::Denied(path, e) => {
                // As nginx: `[error] open() "..." failed (13: Permission
                // denied)`: the 403 alone does not say which file's
                // permissions to fix (the workers run as `nobody` unless
                // `user` says otherwise).
                tracing::error!(client = %peer, "open() \"{}\" failed: {e}", path.display());
                forbidden(w, out, &clock, head_only, &mut outcome)
            }
            Lookup::Failed(path, e) => {
                // As nginx: `[crit] open() "..." failed (24: Too many open
                // files)`, a 500, and the connection closed (which, out of
                // descriptors, gives one back).
                tracing::error!(client = %peer, "open() \"{}\" failed: {e}", path.display());
                outcome.close = true;
                (500, error(out, date, 500, head_only, true, b""))
            }
        }
    };
    if let Some(log) = &mut *w.log.borrow_mut() {
        let user = r.authorization.and_then(remote_user);
        let pending = match (&mut outcome.file, &mut outcome.listing) {
            (Some(body), _) => Some(&mut body.log),
            (None, Some(body)) => Some(&mut body.log),
            (None, None) => None,
        };
        match pending {
            Some(slot) => {
                *slot = Some(Box::new(PendingLog {
                    peer,
                    status,
                    request: r.line.into(),
                    referer: r.referer.map(Into::into),
                    user_agent: r.user_agent.map(Into::into),
                    user: user.map(Into::into),
                }))
            }
            None => log.record(
                &clock.local,
                &LogLine {
                    peer,
                    request: r.line,
                    status,
                    bytes,
                    referer: r.referer,
                    user_agent: r.user_agent,
                    user: user.as_deref(),
                },
            ),
        }
    }
    outcome
}

/// A 403: the configured page, or the built-in one.
fn forbidden(w: &Worker, out: &mut Vec<u8>, clock: &Clock, head_only: bool, o: &mut Outcome) -> (u16, u64) {
    if let Some(page) = &w.cfg.error_pages.forbidden {
        if let Some(n) = errorpage::serve(w, out, clock, page, 403, head_only, o) {
            return (403, n);
        }
    }
    (403, error(out, &clock.http, 403, head_only, o.close, b""))
}

/// Sends the `100 Continue` an `Expect: 100-continue` asks for, before a
/// response that nginx gives after starting to drop the request body (a
/// file's, whatever the conditionals make of it, and the status page's),
/// as its `ngx_http_test_expect` does then. The body is read and dropped
/// after the response either way; but a client waiting for the `100`
/// that gets a final 2xx instead may take it that the body is not wanted
/// (curl does: it sends no body and reuses the connection), and its next
/// request is then swallowed as that body until the header timeout.
/// Error responses get none, as in nginx.
fn continue_first(out: &mut Vec<u8>, r: &Req<'_>) {
    if r.expect_continue {
        out.extend_from_slice(CONTINUE);
    }
}

/// The interim answer to `Expect: 100-continue`.
const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// The prepared header lines a file's answer starts with.
pub(crate) struct Heads<'a> {
    /// The `Date` value.
    pub date: &'a str,
    /// `Expires` and `Cache-Control` lines (empty: `expires` off).
    pub expires: &'a [u8],
}

fn serve_file(
    out: &mut Vec<u8>,
    h: &Heads<'_>,
    r: &Req<'_>,
    e: Rc<Entry>,
    head_only: bool,
    max_ranges: usize,
    o: &mut Outcome,
) -> (u16, u64) {
    let (close, date) = (o.close, h.date);
    let pre = preconditions(r, &e);
    if pre == Precondition::Failed {
        // nginx closes the connection after a 412.
        o.close = true;
        return (412, error(out, date, 412, head_only, true, b""));
    }
    if pre == Precondition::NotModified {
        start(out, 304, date);
        out.extend_from_slice(b"Last-Modified: ");
        out.extend_from_slice(e.last_modified.as_bytes());
        out.extend_from_slice(b"\r\nETag: ");
        out.extend_from_slice(e.etag.as_bytes());
        out.extend_from_slice(b"\r\n");
        if e.vary {
            out.extend_from_slice(b"Vary: Accept-Encoding\r\n");
        }
        out.extend_from_slice(h.expires);
        finish(out, close);
        return (304, 0);
    }
    let size = e.size;
    let mut spec = match r.range {
        Some(v) => range::parse_set(v, size, max_ranges),
        None => RangeSet::Full,
    };
    if r.if_range.is_some_and(|ir| !if_range_holds(ir, &e)) {
        spec = RangeSet::Full;
    }
    let (status, from, len) = match spec {
        RangeSet::Full => (200, 0, size),
        RangeSet::One { start, end } => (206, start, end - start + 1),
        RangeSet::Many(ranges) => return multipart(out, h, e, &ranges, head_only, o),
        RangeSet::Unsatisfiable => {
            let mut extra = b"Content-Range: bytes */".to_vec();
            push_u64(&mut extra, size);
            extra.extend_from_slice(b"\r\n");
            // As nginx, whose range filter turns a 200 that has them into
            // the 416.
            extra.extend_from_slice(h.expires);
            return (416, error(out, date, 416, head_only, close, &extra));
        }
    };
    start(out, status, date);
    // nginx sends `Accept-Ranges` with a whole file only.
    if h.expires.is_empty() {
        out.extend_from_slice(if status == 206 { e.head_without_ranges() } else { &e.head });
    } else {
        // nginx's order: `Expires` and `Cache-Control` before `Accept-Ranges`.
        let without = e.head_without_ranges();
        out.extend_from_slice(without);
        out.extend_from_slice(h.expires);
        if status != 206 {
            out.extend_from_slice(&e.head[without.len()..]);
        }
    }
    content_length(out, len);
    if status == 206 {
        out.extend_from_slice(b"Content-Range: bytes ");
        push_u64(out, from);
        out.push(b'-');
        push_u64(out, from + len - 1);
        out.push(b'/');
        push_u64(out, size);
        out.extend_from_slice(b"\r\n");
    }
    finish(out, close);
    if head_only || len == 0 {
        return (status, 0);
    }
    match &e.body {
        Some(body) => out.extend_from_slice(&body[from as usize..(from + len) as usize]),
        None => {
            o.file = Some(FileBody { entry: e.clone(), off: from, len, multi: None, gzip: None, log: None })
        }
    }
    (status, len)
}

/// A 206 with one part per range (see [`crate::multirange`]).
fn multipart(
    out: &mut Vec<u8>,
    h: &Heads<'_>,
    e: Rc<Entry>,
    ranges: &[(u64, u64)],
    head_only: bool,
    o: &mut Outcome,
) -> (u16, u64) {
    let m = Multipart::new(e.content_type, e.size, ranges);
    let len = m.len();
    start(out, 206, h.date);
    m.content_type_line(out);
    out.extend_from_slice(e.head_without_type_or_ranges());
    out.extend_from_slice(h.expires);
    content_length(out, len);
    finish(out, o.close);
    if head_only {
        return (206, 0);
    }
    match &e.body {
        Some(body) => m.write(out, body),
        None => {
            o.file = Some(FileBody {
                entry: e.clone(),
                off: 0,
                len,
                multi: Some(Box::new(m)),
                gzip: None,
                log: None,
            })
        }
    }
    (206, len)
}

/// nginx's stub_status page, summed over every worker.
fn status_page(w: &Worker, out: &mut Vec<u8>, date: &str, head_only: bool, close: bool) -> u64 {
    let t = w.stats.totals();
    let body = format!(
        "Active connections: {} \nserver accepts handled requests\n {} {} {} \nReading: {} Writing: {} Waiting: {} \n",
        t.get(Counter::Active),
        t.get(Counter::Accepts),
        t.get(Counter::Handled),
        t.get(Counter::Requests),
        t.get(Counter::Reading),
        t.get(Counter::Writing),
        t.get(Counter::Waiting),
    );
    start(out, 200, date);
    out.extend_from_slice(b"Content-Type: text/plain\r\nCache-Control: no-cache\r\n");
    content_length(out, body.len() as u64);
    finish(out, close);
    if head_only {
        return 0;
    }
    out.extend_from_slice(body.as_bytes());
    body.len() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_error_pages() {
        let mut v = Vec::new();
        for n in [0u64, 7, 10, 1234567890, u64::MAX] {
            v.clear();
            push_u64(&mut v, n);
            assert_eq!(v, n.to_string().as_bytes());
        }
        for s in [301, 400, 403, 404, 405, 413, 414, 416, 431] {
            let mut out = Vec::new();
            let n = error(&mut out, "d", s, false, false, b"");
            let text = String::from_utf8(out).unwrap();
            let (head, body) = text.split_once("\r\n\r\n").unwrap();
            assert_eq!(body.len() as u64, n);
            assert!(head.contains(&format!("Content-Length: {n}")));
        }
        assert!(etag_matches(b"\"a\", W/\"b\"", "\"b\""));
        assert!(!etag_matches(b"\"a\"", "\"b\""));
    }
}
