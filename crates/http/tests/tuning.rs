//! Settings nginx has and spindle-http mirrors: `limits.max_ranges`,
//! `timeouts.lingering` and `timeouts.lingering_time`.

mod common;
use common::*;
use std::io::Write;
use std::time::Duration;

fn ranged(s: &Server, spec: &str) -> Response {
    request(s, &format!("GET /a.txt HTTP/1.1\r\nHost: x\r\nRange: bytes={spec}\r\n\r\n"))
}

#[test]
fn max_ranges_zero_turns_ranges_off() {
    let s = Server::start(|c| c.limits.max_ranges = 0);
    let whole = std::fs::read(s.root.join("a.txt")).unwrap();
    for spec in ["0-1", "0-1,3-4", "500-"] {
        let r = ranged(&s, spec);
        assert_eq!((r.status, &r.body), (200, &whole), "{spec}");
        assert_eq!(r.header("content-range"), None);
    }
    // As nginx with max_ranges 0: no Accept-Ranges either.
    assert_eq!(get(&s, "/a.txt").header("accept-ranges"), None);
}

#[test]
fn max_ranges_two_allows_two() {
    let s = Server::start(|c| c.limits.max_ranges = 2);
    let whole = std::fs::read(s.root.join("a.txt")).unwrap();
    assert_eq!(get(&s, "/a.txt").header("accept-ranges"), Some("bytes"));
    let r = ranged(&s, "0-1,3-4");
    assert_eq!(r.status, 206);
    assert!(r.header("content-type").unwrap().starts_with("multipart/byteranges"));
    let r = ranged(&s, "0-1,3-4,6-7");
    assert_eq!((r.status, &r.body), (200, &whole));
    // Unsatisfiable ones do not count (as in nginx).
    assert_eq!(ranged(&s, "0-1,500-,3-4").status, 206);
    assert_eq!(ranged(&s, "2-3").status, 206);
}

/// stub_status `Active connections` (this request's included).
fn active(s: &Server) -> i64 {
    let t = get(s, "/nginx_status").text();
    t.split_whitespace().nth(2).unwrap().parse().unwrap()
}

/// Sends a head announcing a body over the limit and a little of the body,
/// and reads the 413; the connection is then lingering.
fn start_lingering(s: &Server) -> Reader {
    let mut c = Reader::new(s.connect());
    c.send(b"GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nsome of the body");
    assert_eq!(c.response(false).unwrap().status, 413);
    assert!(c.closed(), "the server half-closes");
    c
}

#[test]
fn a_short_lingering_timeout_closes_a_quiet_client_sooner() {
    let s = Server::start(|c| {
        c.status = Some("/nginx_status".into());
        c.limits.body = 10;
        c.timeouts.lingering = Duration::from_millis(200);
    });
    // The client stays connected and quiet: the server lingers for 200 ms
    // of quiet, not the default 5 s, then closes.
    let _quiet = start_lingering(&s);
    assert!(wait_until(Duration::from_secs(3), || active(&s) == 1), "still lingering");
}

#[test]
fn lingering_time_bounds_a_client_that_keeps_sending() {
    let s = Server::start(|c| {
        c.status = Some("/nginx_status".into());
        c.limits.body = 10;
        c.timeouts.lingering = Duration::from_secs(10);
        c.timeouts.lingering_time = Duration::from_millis(300);
    });
    let c = start_lingering(&s);
    let mut writer = c.stream.try_clone().unwrap();
    // Never quiet for long: a byte every 20 ms, until writes fail.
    let trickler = std::thread::spawn(move || {
        let end = std::time::Instant::now() + Duration::from_secs(5);
        while std::time::Instant::now() < end {
            if writer.write_all(b"x").is_err() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    });
    assert!(wait_until(Duration::from_secs(3), || active(&s) == 1), "still lingering");
    assert!(trickler.join().unwrap(), "writes fail once the server closed");
}
