//! `expires`: nginx's `Expires` and `Cache-Control` on the answers for
//! files.

mod common;
use common::*;
use spindle_http::expires::Expires;
use std::time::{Duration, SystemTime};

fn hour(c: &mut spindle_http::HttpConfig) {
    c.expires = Expires::After(3600);
}

/// `Expires` is the answer's `Date` plus the time.
fn check_hour(a: &Response) {
    assert_eq!(a.header("cache-control"), Some("max-age=3600"), "{a:?}");
    let date = httpdate::parse_http_date(a.header("date").unwrap()).unwrap();
    let exp = httpdate::parse_http_date(a.header("expires").unwrap()).unwrap();
    assert_eq!(exp.duration_since(date).unwrap(), Duration::from_secs(3600));
}

/// 200, 206 (one range or several), 304, a 416 and a directory's 301 get
/// the headers, as in nginx; 404 and 412 do not.
#[test]
fn file_answers_get_expires_and_errors_do_not() {
    let s = Server::start(hour);
    let a = get(&s, "/a.txt");
    assert_eq!(a.status, 200);
    check_hour(&a);
    assert_eq!(a.header("accept-ranges"), Some("bytes"));
    let etag = a.header("etag").unwrap().to_string();
    for (extra, status) in [
        ("Range: bytes=0-1".to_string(), 206),
        ("Range: bytes=0-1,3-4".into(), 206),
        (format!("If-None-Match: {etag}"), 304),
        ("Range: bytes=99-".into(), 416),
    ] {
        let a = request(&s, &format!("GET /a.txt HTTP/1.1\r\nHost: x\r\n{extra}\r\n\r\n"));
        assert_eq!(a.status, status, "{extra}");
        check_hour(&a);
    }
    // Another file, and HEAD.
    check_hour(&get(&s, "/1k.bin"));
    check_hour(&request(&s, "HEAD /a.txt HTTP/1.1\r\nHost: x\r\n\r\n"));
    let d = get(&s, "/sub");
    assert_eq!(d.status, 301);
    check_hour(&d);
    for a in [get(&s, "/nope"), request(&s, "GET /a.txt HTTP/1.1\r\nHost: x\r\nIf-Match: \"zz\"\r\n\r\n")] {
        assert!(a.status == 404 || a.status == 412);
        assert_eq!(a.header("expires"), None);
        assert_eq!(a.header("cache-control"), None);
    }
}

/// `epoch`, `max` and a negative time write nginx's values; off (the
/// default) writes nothing.
#[test]
fn epoch_max_negative_and_off() {
    let s = Server::start(|c| c.expires = Expires::Epoch);
    let a = get(&s, "/a.txt");
    assert_eq!(a.header("expires"), Some("Thu, 01 Jan 1970 00:00:01 GMT"));
    assert_eq!(a.header("cache-control"), Some("no-cache"));
    let s = Server::start(|c| c.expires = Expires::Max);
    let a = get(&s, "/a.txt");
    assert_eq!(a.header("expires"), Some("Thu, 31 Dec 2037 23:55:55 GMT"));
    assert_eq!(a.header("cache-control"), Some("max-age=315360000"));
    let s = Server::start(|c| c.expires = Expires::After(-60));
    let a = get(&s, "/a.txt");
    assert_eq!(a.header("cache-control"), Some("no-cache"));
    let exp = httpdate::parse_http_date(a.header("expires").unwrap()).unwrap();
    assert!(exp < SystemTime::now());
    let s = Server::start(|_| {});
    let a = get(&s, "/a.txt");
    assert_eq!((a.header("expires"), a.header("cache-control")), (None, None));
}
