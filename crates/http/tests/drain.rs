//! Graceful drain, fast stop, the access log and its reopening.

mod common;
use common::*;
use std::time::{Duration, Instant};

#[test]
fn drain_finishes_in_flight_and_closes_idle() {
    let mut s = Server::start(|_| {});
    let mut idle = Reader::new(s.connect());
    idle.send(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(idle.response(false).unwrap().header("connection"), Some("keep-alive"));
    let mut next = Reader::new(s.connect());
    next.send(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    next.response(false).unwrap();
    let mut in_flight = Reader::new(s.connect());
    in_flight.send(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n");
    // Make sure the partial request has reached the server's task.
    let mut probe = Reader::new(s.connect());
    probe.send(b"GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    probe.response(false).unwrap();

    s.control.drain();
    let drained = Instant::now();
    // The request in flight completes, with Connection: close.
    in_flight.send(b"\r\n");
    let r = in_flight.response(false).unwrap();
    assert_eq!((r.status, r.header("connection")), (200, Some("close")));
    assert!(in_flight.closed());
    // A keep-alive connection's next request is answered, then closed.
    next.send(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    let r = next.response(false).unwrap();
    assert_eq!((r.status, r.header("connection")), (200, Some("close")));
    assert!(next.closed());
    // An idle one is closed after the grace, not at once.
    assert!(idle.closed());
    let took = drained.elapsed();
    assert!(took >= Duration::from_millis(500) && took < Duration::from_secs(3), "{took:?}");
    assert!(s.join_within(Duration::from_secs(5)), "the worker future returned");
}

#[test]
fn stop_drops_everything_at_once() {
    let mut s = Server::start(|_| {});
    let mut idle = Reader::new(s.connect());
    idle.send(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    idle.response(false).unwrap();
    let mut partial = Reader::new(s.connect());
    partial.send(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n");
    let t = Instant::now();
    s.control.stop();
    assert!(idle.closed() && partial.closed());
    assert!(t.elapsed() < Duration::from_millis(500), "{:?}", t.elapsed());
    assert!(s.join_within(Duration::from_secs(2)));
}

#[test]
fn access_log_lines_and_reopen() {
    let log_path = std::env::temp_dir().join(format!("spindle-http-access-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log_path);
    let lp = log_path.clone();
    let s = Server::start(move |c| c.access_log = Some(lp));
    request(
        &s,
        "GET /a.txt?q=1 HTTP/1.1\r\nHost: x\r\nReferer: http://ref/\r\nUser-Agent: tester/1.0\r\n\r\n",
    );
    request(&s, "GET /missing HTTP/1.1\r\nHost: x\r\n\r\n");
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap_or_default();
    assert!(
        wait_until(Duration::from_secs(3), || read(&log_path).lines().count() == 2),
        "flushed within the second"
    );
    let text = read(&log_path);
    let lines: Vec<&str> = text.lines().collect();
    let first = lines[0];
    assert!(first.starts_with("127.0.0.1 - - ["), "{first}");
    assert!(
        first.ends_with("] \"GET /a.txt?q=1 HTTP/1.1\" 200 13 \"http://ref/\" \"tester/1.0\""),
        "{first}"
    );
    let time = &first[first.find('[').unwrap() + 1..first.find(']').unwrap()];
    assert_eq!(time.len(), 26, "{time}");
    assert!(lines[1].ends_with("\"GET /missing HTTP/1.1\" 404 148 \"-\" \"-\""), "{}", lines[1]);

    let rotated = log_path.with_extension("log.1");
    std::fs::rename(&log_path, &rotated).unwrap();
    s.control.reopen();
    assert!(wait_until(Duration::from_secs(3), || log_path.exists()), "reopened by name");
    request(&s, "GET /sub/ HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(wait_until(Duration::from_secs(3), || read(&log_path).contains("GET /sub/")));
    assert_eq!(read(&rotated).lines().count(), 2);
    drop(s);
    let _ = std::fs::remove_file(&log_path);
    let _ = std::fs::remove_file(&rotated);
}

/// `$remote_user` is the user name of the Basic credentials a client
/// sent, as nginx logs it even where nothing asked for them (browsers
/// send them for `http://user:pw@host/` links, curl for `-u`): log
/// analysers count visitors by it. It was always `-`. Logged the same on
/// a body sent by `sendfile` (whose line waits for the bytes sent) and on
/// a refused request; other schemes and bad credentials are `-`.
#[test]
fn the_basic_user_name_is_logged_as_remote_user() {
    let log_path = std::env::temp_dir().join(format!("spindle-http-user-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log_path);
    let lp = log_path.clone();
    let s = Server::start(move |c| {
        c.access_log = Some(lp);
        c.cache.small_file = 10;
    });
    // bob:pw, "al ice":x (a quote is escaped as nginx escapes it), then
    // a bearer token and a name-less pair.
    let sent = [
        ("GET /a.txt", "Basic Ym9iOnB3"),
        ("GET /1k.bin", "Basic ImFsIGljZSI6eA=="),
        ("GET /index.html", "Bearer Ym9iOnB3"),
        ("GET /sub/", "Basic OnB3"),
    ];
    for (line, auth) in sent {
        let r = request(&s, &format!("{line} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\r\n"));
        assert_eq!(r.status, 200, "{line}");
    }
    let r = request(
        &s,
        "GET /a.txt HTTP/1.1\r\nHost: x\r\nAuthorization: Basic Ym9iOnB3\r\nContent-Length: 9999999\r\n\r\n",
    );
    assert_eq!(r.status, 413);
    let read = || std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(wait_until(Duration::from_secs(3), || read().lines().count() == 5), "{}", read());
    let text = read();
    let user_of = |req: &str| {
        let l = text.lines().find(|l| l.contains(req)).unwrap_or_else(|| panic!("{req}: {text}"));
        l.split(' ').nth(2).unwrap().to_string()
    };
    assert_eq!(user_of("GET /a.txt HTTP/1.1\" 200"), "bob");
    assert_eq!(user_of("GET /1k.bin"), "\\x22al");
    assert!(text.contains("127.0.0.1 - \\x22al ice\\x22 ["), "{text}");
    assert_eq!(user_of("GET /index.html"), "-");
    assert_eq!(user_of("GET /sub/"), "-");
    assert_eq!(user_of("GET /a.txt HTTP/1.1\" 413"), "bob");
    drop(s);
    let _ = std::fs::remove_file(&log_path);
}
