//! A differential test against Debian's nginx: the same document root is
//! served by nginx (over a unix socket, with the configuration a user
//! moving to spindle would have) and by spindle (in process, on 127.0.0.1
//! port 0); about 150 raw requests go to both, one connection per case
//! (several requests on it for the pipelining and keep-alive cases), and
//! the answers must agree on the status, the headers a client acts on
//! (`Content-Type`, `Content-Length`, `Content-Range`, `Accept-Ranges`,
//! `Allow`, the path and query of `Location`, `Transfer-Encoding`,
//! `Connection`, `ETag`, `Last-Modified`, `Cache-Control`, `Expires` as an
//! offset from `Date`), the body of a 200 or 206
//! (multipart boundaries replaced), and whether the connection stays open
//! afterwards (a probe request is sent on it). `Date`, `Server` and the
//! bodies of error pages are not compared, except in a second run with
//! `error_page 404`/`403` and `expires 1h` set on both sides, where the
//! 403 and 404 bodies (the configured pages) must agree too.
//!
//! Where spindle differs on purpose, the difference is listed, with its
//! reason, in [`cases::EXPECTED`]; any other difference fails the test,
//! and so does a listed one that no longer occurs.
//!
//! nginx must be installed (`apt-get install nginx`; `.ci/run` does it):
//! without it the test fails and says so.

#[path = "nginx_diff/cases.rs"]
mod cases;
mod common;

use common::nginx::{nginx_program, Nginx};

use std::fmt::Write as _;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// How long one read may wait; no case needs a server to think this long.
const READ_TIMEOUT: Duration = Duration::from_secs(3);

/// Either server's socket.
trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

/// Why reading stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Closed,
    Timeout,
}

/// One response as received.
#[derive(Debug, Clone)]
struct Resp {
    /// The status line (`HTTP/0.9` for a response without one).
    line: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

struct Client {
    s: Box<dyn Stream>,
    buf: Vec<u8>,
}

impl Client {
    fn more(&mut self) -> Result<(), Stop> {
        let mut chunk = [0u8; 65536];
        match self.s.read(&mut chunk) {
            Ok(0) => Err(Stop::Closed),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(())
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Err(Stop::Timeout),
            Err(_) => Err(Stop::Closed),
        }
    }

    fn take(&mut self, n: usize) -> Result<Vec<u8>, Stop> {
        while self.buf.len() < n {
            self.more()?;
        }
        Ok(self.buf.drain(..n).collect())
    }

    fn line(&mut self) -> Result<Vec<u8>, Stop> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let l = self.take(i + 2)?;
                return Ok(l[..i].to_vec());
            }
            self.more()?;
        }
    }

    /// The next response; `head` if it answers a HEAD.
    fn response(&mut self, head: bool) -> Result<Resp, Stop> {
        while self.buf.len() < 5 {
            if let Err(e) = self.more() {
                if self.buf.is_empty() {
                    return Err(e);
                }
                break;
            }
        }
        if !self.buf.starts_with(b"HTTP/") {
            // HTTP/0.9: the body alone, up to the close.
            while self.more().is_ok() {}
            let body = std::mem::take(&mut self.buf);
            return Ok(Resp { line: "HTTP/0.9".into(), status: 0, headers: Vec::new(), body });
        }
        let end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            self.more()?;
        };
        let head_bytes = self.take(end)?;
        let text = String::from_utf8_lossy(&head_bytes).into_owned();
        let mut lines = text.split("\r\n");
        let line = lines.next().unwrap_or_default().to_string();
        let status = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let headers = lines
            .filter(|l| !l.is_empty())
            .map(|l| match l.split_once(':') {
                Some((n, v)) => (n.to_string(), v.trim().to_string()),
                None => (l.to_string(), String::new()),
            })
            .collect();
        let mut r = Resp { line, status, headers, body: Vec::new() };
        if head || status < 200 || status == 204 || status == 304 {
            return Ok(r);
        }
        if r.header("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
            loop {
                let size = String::from_utf8_lossy(&self.line()?).into_owned();
                let size = size.split(';').next().unwrap_or_default().trim().to_string();
                let n = usize::from_str_radix(&size, 16).map_err(|_| Stop::Closed)?;
                if n == 0 {
                    while !self.line()?.is_empty() {}
                    return Ok(r);
                }
                r.body.extend(self.take(n)?);
                self.take(2)?;
            }
        }
        match r.header("content-length").and_then(|v| v.parse().ok()) {
            Some(n) => r.body = self.take(n)?,
            None => {
                while self.more().is_ok() {}
                r.body = std::mem::take(&mut self.buf);
            }
        }
        Ok(r)
    }
}

/// What one server did with one case.
#[derive(Debug)]
struct Outcome {
    responses: Vec<Resp>,
    /// After the last response: `open` (a probe request was answered),
    /// `closed`, `timeout`, or `extra` (more bytes than expected).
    end: String,
}

const PROBE: &[u8] = b"GET /a.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

fn run(stream: Box<dyn Stream>, case: &cases::Case) -> Outcome {
    let mut c = Client { s: stream, buf: Vec::new() };
    // The server may answer and close before taking everything (a 414):
    // what it answered is still read below.
    let _ = c.s.write_all(&case.bytes);
    let mut responses = Vec::new();
    for &head in &case.heads {
        loop {
            match c.response(head) {
                Ok(r) => {
                    let interim = (100..200).contains(&r.status);
                    responses.push(r);
                    if !interim {
                        break;
                    }
                }
                Err(e) => {
                    let end = if e == Stop::Timeout { "timeout" } else { "closed" };
                    return Outcome { responses, end: end.into() };
                }
            }
        }
    }
    if !c.buf.is_empty() {
        return Outcome { responses, end: "extra".into() };
    }
    let end = if c.s.write_all(PROBE).is_err() {
        "closed".to_string()
    } else {
        match c.response(false) {
            Ok(r) if r.status == 200 => "open".into(),
            Ok(r) => format!("open (probe got {})", r.status),
            Err(Stop::Closed) => "closed".into(),
            Err(Stop::Timeout) => "timeout".into(),
        }
    };
    Outcome { responses, end }
}

/// The media type and parameters, with a multipart boundary made neutral.
fn content_type(v: &str) -> String {
    match v.split_once("boundary=") {
        Some((a, _)) => format!("{a}boundary=B"),
        None => v.to_string(),
    }
}

/// The body, with the multipart boundary (if any) replaced.
fn body(r: &Resp) -> Vec<u8> {
    let Some(b) = r.header("content-type").and_then(|t| t.split_once("boundary=")).map(|(_, b)| b) else {
        return r.body.clone();
    };
    let text = String::from_utf8_lossy(&r.body).into_owned();
    text.replace(b, "B").into_bytes()
}

/// The path and query of a `Location`.
fn location(v: &str) -> String {
    match v.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("".into(), |i| rest[i..].to_string()),
        None => v.to_string(),
    }
}

fn describe_body(b: &[u8]) -> String {
    let shown: String = String::from_utf8_lossy(&b[..b.len().min(60)]).escape_debug().collect();
    format!("{} bytes: \"{shown}\"{}", b.len(), if b.len() > 60 { "..." } else { "" })
}

/// Every difference between nginx's (`n`) and spindle's (`s`) outcome,
/// as (field, nginx's value, spindle's value).
/// `error_bodies` compares the bodies of 403 and 404 answers too (for
/// error pages served from files).
fn differences(
    case: &cases::Case,
    n: &Outcome,
    s: &Outcome,
    error_bodies: bool,
) -> Vec<(String, String, String)> {
    let mut d = Vec::new();
    let statuses =
        |o: &Outcome| o.responses.iter().map(|r| r.status.to_string()).collect::<Vec<_>>().join(" ");
    let (ns, ss) = (statuses(n), statuses(s));
    if ns != ss {
        d.push(("status".into(), ns, ss));
    } else {
        let many = n.responses.len() > 1;
        let mut heads = case.heads.iter();
        for (i, (a, b)) in n.responses.iter().zip(&s.responses).enumerate() {
            let head = if (100..200).contains(&a.status) { false } else { *heads.next().unwrap_or(&false) };
            let p = if many { format!("#{} ", i + 1) } else { String::new() };
            let mut cmp = |field: &str, x: Option<String>, y: Option<String>| {
                if x != y {
                    let show = |v: Option<String>| v.unwrap_or_else(|| "(none)".into());
                    d.push((format!("{p}{field}"), show(x), show(y)));
                }
            };
            let version = |r: &Resp| r.line.split(' ').next().map(String::from);
            cmp("version", version(a), version(b));
            let h = |r: &Resp, name: &str| r.header(name).map(String::from);
            let ok = a.status == 200 || a.status == 206;
            cmp(
                "content-type",
                h(a, "content-type").map(|v| content_type(&v)),
                h(b, "content-type").map(|v| content_type(&v)),
            );
            if ok {
                cmp("content-length", h(a, "content-length"), h(b, "content-length"));
            }
            for name in
                ["content-range", "accept-ranges", "allow", "transfer-encoding", "etag", "last-modified"]
            {
                cmp(name, h(a, name), h(b, name));
            }
            cmp("cache-control", h(a, "cache-control"), h(b, "cache-control"));
            cmp("expires", expires(a), expires(b));
            let conn = |r: &Resp| h(r, "connection").map(|v| v.to_ascii_lowercase());
            cmp("connection", conn(a), conn(b));
            cmp("location", h(a, "location").map(|v| location(&v)), h(b, "location").map(|v| location(&v)));
            let page = error_bodies && (a.status == 403 || a.status == 404);
            if (ok || a.status == 0 || page) && !head {
                let (x, y) = (body(a), body(b));
                if x != y {
                    cmp("body", Some(describe_body(&x)), Some(describe_body(&y)));
                }
            }
        }
    }
    if n.end != s.end {
        d.push(("end".into(), n.end.clone(), s.end.clone()));
    }
    d
}

/// `Expires` as seconds after `Date` (the dates themselves differ).
fn expires(r: &Resp) -> Option<String> {
    let e = httpdate::parse_http_date(r.header("expires")?);
    let d = r.header("date").map(httpdate::parse_http_date);
    Some(match (e, d) {
        (Ok(e), Some(Ok(d))) => match e.duration_since(d) {
            Ok(t) => format!("Date + {}s", t.as_secs()),
            Err(t) => format!("Date - {}s", t.duration().as_secs()),
        },
        _ => r.header("expires")?.to_string(),
    })
}

fn show_request(b: &[u8]) -> String {
    let s: String = String::from_utf8_lossy(&b[..b.len().min(300)]).escape_debug().collect();
    if b.len() > 300 {
        format!("{s}... ({} bytes)", b.len())
    } else {
        s
    }
}

#[test]
fn spindle_answers_as_nginx_does() {
    let server = common::Server::start(|_| {});
    cases::populate(&server.root, &server.dir);
    let nginx = Nginx::start(&server.root, &server.dir.join("nginx"), "");
    compare(&server, &nginx, true, false);
}

/// The same cases with `error_page 404 /404.html; error_page 403
/// /403.html; expires 1h;` on both sides: the error pages' bodies are
/// compared too, and `Cache-Control` and `Expires` (as an offset from
/// `Date`) always are. Differences listed in `EXPECTED` may not all occur
/// here.
#[test]
fn spindle_answers_as_nginx_does_with_error_pages_and_expires() {
    let server = common::Server::start(|c| {
        c.error_pages.not_found = Some("/404.html".into());
        c.error_pages.forbidden = Some("/403.html".into());
        c.expires = spindle_http::expires::Expires::After(3600);
    });
    cases::populate(&server.root, &server.dir);
    std::fs::write(server.root.join("404.html"), "<h1>not here</h1>\n").unwrap();
    std::fs::write(server.root.join("403.html"), "<h1>not for you</h1>\n").unwrap();
    let extra = "error_page 404 /404.html;\nerror_page 403 /403.html;\nexpires 1h;";
    let nginx = Nginx::start(&server.root, &server.dir.join("nginx"), extra);
    compare(&server, &nginx, false, true);
}

/// Runs every case on both servers and fails on a difference not in
/// `EXPECTED` (and, with `check_stale`, on an expected one not seen).
fn compare(server: &common::Server, nginx: &Nginx, check_stale: bool, error_bodies: bool) {
    let program = nginx_program();
    let connect_n = || -> Box<dyn Stream> {
        let s = UnixStream::connect(&nginx.sock).unwrap();
        s.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        Box::new(s)
    };
    let connect_s = || -> Box<dyn Stream> {
        let s = TcpStream::connect(server.addr).unwrap();
        s.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        s.set_nodelay(true).unwrap();
        Box::new(s)
    };
    let all = cases::cases();
    let mut expected: Vec<(&cases::Expected, bool)> = cases::EXPECTED.iter().map(|e| (e, false)).collect();
    let mut report = String::new();
    let mut unexpected = 0;
    for case in &all {
        let n = run(connect_n(), case);
        let s = run(connect_s(), case);
        if std::env::var_os("NGINX_DIFF_VERBOSE").is_some() {
            for (who, o) in [("nginx", &n), ("spindle", &s)] {
                let heads: Vec<_> = o.responses.iter().map(|r| (&r.line, &r.headers)).collect();
                eprintln!("{:?} {who}: {heads:?} [{}]", case.name, o.end);
            }
        }
        let mut lines = Vec::new();
        for (field, nv, sv) in differences(case, &n, &s, error_bodies) {
            // A `*` entry holds for any case and any response on it.
            let bare = field.split_once(' ').map_or(field.as_str(), |(_, f)| f);
            let known = expected.iter_mut().find(|(e, _)| {
                let (c, f) = if e.case == "*" { (true, bare) } else { (e.case == case.name, field.as_str()) };
                c && e.field == f && e.nginx == nv && e.spindle == sv
            });
            match known {
                Some((_, seen)) => *seen = true,
                None => lines.push(format!("    {field}: nginx {nv:?}, spindle {sv:?}")),
            }
        }
        if !lines.is_empty() {
            unexpected += 1;
            let status_lines =
                |o: &Outcome| o.responses.iter().map(|r| r.line.clone()).collect::<Vec<_>>().join(" | ");
            let _ = writeln!(
                report,
                "case {:?}\n  request: {}\n  nginx:   {} [{}]\n  spindle: {} [{}]\n{}",
                case.name,
                show_request(&case.bytes),
                status_lines(&n),
                n.end,
                status_lines(&s),
                s.end,
                lines.join("\n")
            );
        }
    }
    let stale: Vec<_> = expected.iter().filter(|(_, seen)| check_stale && !seen).map(|(e, _)| e).collect();
    for e in &stale {
        let _ = writeln!(
            report,
            "expected difference no longer seen (remove it from EXPECTED): case {:?} {}: nginx {:?}, \
             spindle {:?} (kept because: {})",
            e.case, e.field, e.nginx, e.spindle, e.why
        );
    }
    assert!(
        unexpected == 0 && stale.is_empty(),
        "{unexpected} of {} cases differ from {} unexpectedly:\n{report}\nnginx's error log:\n{}",
        all.len(),
        program.display(),
        nginx.error_log().lines().rev().take(40).collect::<Vec<_>>().join("\n")
    );
}
