//! Requests refused while being read, or never finished, are logged and
//! counted as nginx does; a duplicate or invalid `Host` is a 400, and so
//! is a missing one in HTTP/1.1, whatever the form of the target.

mod common;
use common::*;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

fn log_path(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("spindle-http-refused-{}-{tag}.log", std::process::id()))
}

/// stub_status `requests` (this request included).
fn requests(s: &Server) -> u64 {
    let t = get(s, "/nginx_status").text();
    t.lines().nth(2).unwrap().split_whitespace().nth(2).unwrap().parse().unwrap()
}

/// Waits (bounded) until the access log has a line containing each of
/// `want`; returns the log's lines.
fn wait_for_lines(log: &std::path::Path, want: &[&str]) -> Vec<String> {
    let mut lines = Vec::new();
    let ok = wait_until(Duration::from_secs(5), || {
        lines = std::fs::read_to_string(log).unwrap_or_default().lines().map(String::from).collect();
        want.iter().all(|w| lines.iter().any(|l| l.contains(w)))
    });
    assert!(ok, "log lacks some of {want:?}:\n{}", lines.join("\n"));
    lines
}

/// Sends `req` on a fresh connection; returns the status and whether the
/// server then closed the connection.
fn refused(s: &Server, req: &[u8]) -> (u16, bool) {
    let mut c = Reader::new(s.connect());
    c.send(req);
    let r = c.response(false).expect("a response");
    (r.status, c.closed())
}

#[test]
fn refused_requests_are_logged_and_counted() {
    let log = log_path("refused");
    let _ = std::fs::remove_file(&log);
    let path = log.clone();
    let s = Server::start(move |c| {
        c.access_log = Some(path);
        c.status = Some("/nginx_status".into());
        c.limits.request_line = 100;
        c.limits.headers = 1024;
        c.limits.body = 10;
    });
    let before = requests(&s);
    let long = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(300));
    let big_head = format!("GET /big431 HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "b".repeat(2000));
    let cases: [(&[u8], u16); 9] = [
        (long.as_bytes(), 414),
        (big_head.as_bytes(), 431),
        (b"GET /bad400 HTTP/01.1\r\n\r\n", 400),
        (b"GET /v505 HTTP/9.9\r\n\r\n", 505),
        (b"GET /cl413 HTTP/1.1\r\nHost: x\r\nContent-Length: 99999\r\nUser-Agent: ua413\r\n\r\n", 413),
        (b"GET /te501 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        (b"GET /ch400 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        (b"GET /ch413 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nReferer: http://r/\r\n\r\nff\r\n", 413),
        (b"POST /p405 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405),
    ];
    for (req, status) in cases {
        let (got, closed) = refused(&s, req);
        assert_eq!(got, status, "{}", String::from_utf8_lossy(&req[..30]));
        assert!(closed, "{status}: the connection stays open");
    }
    // Each refused request counts, and so does this status request.
    assert_eq!(requests(&s), before + cases.len() as u64 + 1);
    let cut = format!("\"GET /{}\" 414 ", "a".repeat(95));
    let lines = wait_for_lines(
        &log,
        &[
            &cut,
            "\"GET /big431 HTTP/1.1\" 431 ",
            "\"GET /bad400 HTTP/01.1\" 400 ",
            "\"GET /v505 HTTP/9.9\" 505 ",
            "\"GET /cl413 HTTP/1.1\" 413 ",
            "\"GET /te501 HTTP/1.1\" 501 ",
            "\"GET /ch400 HTTP/1.1\" 400 ",
            "\"GET /ch413 HTTP/1.1\" 413 ",
            "\"POST /p405 HTTP/1.1\" 405 ",
        ],
    );
    // What was parsed is logged too: the User-Agent of the 413, the
    // Referer of the chunked one; the error page's length as the bytes.
    let line = |w: &str| lines.iter().find(|l| l.contains(w)).unwrap().clone();
    assert!(line("/cl413").ends_with("\"-\" \"ua413\""), "{}", line("/cl413"));
    assert!(line("/ch413").ends_with("\"http://r/\" \"-\""), "{}", line("/ch413"));
    let bytes: u64 =
        line("/te501").split('"').nth(2).unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(bytes > 100, "{bytes}");
    drop(s);
    let _ = std::fs::remove_file(&log);
}

#[test]
fn unfinished_heads_are_logged_408_or_400_and_idle_ones_not_at_all() {
    let log = log_path("unfinished");
    let _ = std::fs::remove_file(&log);
    let path = log.clone();
    let s = Server::start(move |c| {
        c.access_log = Some(path);
        c.status = Some("/nginx_status".into());
        c.timeouts.header = Duration::from_millis(300);
    });
    let before = requests(&s);
    // Idle: connects and closes, or sends nothing until the timeout.
    drop(s.connect());
    let mut idle = Reader::new(s.connect());
    // Timed out mid-head: 408, no response (as nginx).
    let mut slow = Reader::new(s.connect());
    slow.send(b"GET /slow408 HTTP/1.1\r\nHost: x\r\n");
    let mut partial = Reader::new(s.connect());
    partial.send(b"GET /partial408");
    // Cut off by the client mid-head: 400.
    let mut cut = s.connect();
    cut.write_all(b"GET /cut400 HTTP/1.1\r\nHo").unwrap();
    cut.shutdown(std::net::Shutdown::Write).unwrap();
    for c in [&mut slow, &mut partial, &mut idle] {
        assert!(c.closed(), "closed by the header timeout");
        assert!(c.response(false).is_none(), "without a response");
    }
    let lines = wait_for_lines(
        &log,
        &[
            "\"GET /slow408 HTTP/1.1\" 408 0 ",
            "\"GET /partial408\" 408 0 ",
            "\"GET /cut400 HTTP/1.1\" 400 0 ",
        ],
    );
    // Three requests begun, plus the two status requests; the idle
    // connections are neither counted nor logged.
    assert_eq!(requests(&s), before + 3 + 1);
    assert_eq!(lines.iter().filter(|l| l.contains("] \"-\" ")).count(), 0, "{lines:?}");
    assert_eq!(lines.iter().filter(|l| !l.contains("/nginx_status")).count(), 3, "{lines:?}");
    drop(s);
    let _ = std::fs::remove_file(&log);
}

#[test]
fn duplicate_or_invalid_host_is_a_400() {
    let s = Server::start(|_| {});
    for bad in [
        "Host: a\r\nHost: a",
        "Host: a\r\nhost: b",
        "Host: evil/x",
        "Host: a..b",
        "Host: ",
        "Host: .",
        "Host: :80",
        "Host: a\x01b",
    ] {
        let req = format!("GET /a.txt HTTP/1.1\r\n{bad}\r\n\r\n");
        assert_eq!(refused(&s, req.as_bytes()), (400, true), "{bad:?}");
    }
    // What nginx accepts: a port, a trailing or (as nginx) leading dot, an
    // IPv6 literal; no Host at all in HTTP/1.0.
    for ok in ["Host: a.example:8080", "Host: example.com.", "Host: .example.com", "Host: [::1]:80"] {
        let r = request(&s, &format!("GET /a.txt HTTP/1.1\r\n{ok}\r\n\r\n"));
        assert_eq!(r.status, 200, "{ok:?}");
    }
    assert_eq!(request(&s, "GET /a.txt HTTP/1.0\r\n\r\n").status, 200);
}

#[test]
fn http11_without_host_is_a_400_logged_counted_and_closed() {
    let log = log_path("nohost");
    let _ = std::fs::remove_file(&log);
    let path = log.clone();
    let s = Server::start(move |c| {
        c.access_log = Some(path);
        c.status = Some("/nginx_status".into());
    });
    let before = requests(&s);
    let no_host = b"GET /nohost400 HTTP/1.1\r\nUser-Agent: ua-nohost\r\n\r\n";
    assert_eq!(refused(&s, no_host), (400, true));
    // On a keep-alive connection: the request before it is served, the
    // one after it is never read (the connection closes after the 400).
    let mut c = Reader::new(s.connect());
    c.send(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /second400 HTTP/1.1\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(c.response(false).unwrap().text(), "hello, world\n");
    let r = c.response(false).unwrap();
    assert_eq!((r.status, r.header("connection")), (400, Some("close")));
    assert!(c.closed(), "the connection stays open after the 400");
    // HTTP/1.0 may leave the Host out.
    let r = request(&s, "GET /a.txt HTTP/1.0\r\n\r\n");
    assert_eq!((r.status, r.text().as_str()), (200, "hello, world\n"));
    // An absolute-form target does not stand in for the header: nginx and
    // RFC 9112 section 3.2 refuse any HTTP/1.1 request without Host.
    for target in ["http://example.com/a.txt", "https://h:8443/sub/", "http:///a.txt", "http://a..b/a.txt"] {
        let req = format!("GET {target} HTTP/1.1\r\n\r\n");
        assert_eq!(refused(&s, req.as_bytes()), (400, true), "{target}");
    }
    // Six refused, two served, and this status request.
    assert_eq!(requests(&s), before + 6 + 2 + 1);
    let lines = wait_for_lines(
        &log,
        &[
            "\"GET /nohost400 HTTP/1.1\" 400 ",
            "\"GET /second400 HTTP/1.1\" 400 ",
            "\"GET /a.txt HTTP/1.0\" 200 ",
            "\"GET http://example.com/a.txt HTTP/1.1\" 400 ",
            "\"GET http:///a.txt HTTP/1.1\" 400 ",
        ],
    );
    let line = lines.iter().find(|l| l.contains("/nohost400")).unwrap();
    assert!(line.ends_with("\"-\" \"ua-nohost\""), "{line}");
    assert!(!lines.iter().any(|l| l.contains("GET /a.txt HTTP/1.1\" 400")), "{lines:?}");
    // The server still serves everyone else.
    assert_eq!(get(&s, "/a.txt").status, 200);
    drop(s);
    let _ = std::fs::remove_file(&log);
}
