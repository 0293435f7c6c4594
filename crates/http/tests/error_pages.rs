//! `error_pages`: nginx's `error_page 404 /404.html` for a static site.

mod common;
use common::*;

fn with_pages(c: &mut spindle_http::HttpConfig) {
    c.error_pages.not_found = Some("/404.html".into());
    c.error_pages.forbidden = Some("/403.html".into());
}

/// A missing file is answered 404 with the page's body and its type,
/// length and tag, without `Last-Modified` or `Accept-Ranges` (as nginx),
/// and the connection stays open.
#[test]
fn a_missing_file_gets_the_configured_page_with_status_404() {
    let s = Server::start(with_pages);
    std::fs::write(s.root.join("404.html"), "<h1>gone</h1>\n").unwrap();
    let mut r = Reader::new(s.connect());
    r.send(b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    let a = r.response(false).unwrap();
    assert_eq!(a.status, 404);
    assert_eq!(a.text(), "<h1>gone</h1>\n");
    assert_eq!(a.header("content-type"), Some("text/html"));
    assert_eq!(a.header("content-length"), Some("14"));
    assert!(a.header("etag").is_some());
    assert_eq!(a.header("last-modified"), None);
    assert_eq!(a.header("accept-ranges"), None);
    assert_eq!(a.header("connection"), Some("keep-alive"));
    // HEAD: the same head, no body (the next response reads cleanly).
    r.send(b"HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    let h = r.response(true).unwrap();
    assert_eq!(h.status, 404);
    assert_eq!(h.header("content-length"), Some("14"));
    let next = r.response(false).unwrap();
    assert_eq!((next.status, next.text().as_str()), (200, "hello, world\n"));
}

/// The request's `Range` and conditional headers are not applied to the
/// page: it is sent whole with its 404, as nginx does.
#[test]
fn range_and_conditionals_do_not_apply_to_the_page() {
    let s = Server::start(with_pages);
    std::fs::write(s.root.join("404.html"), "<h1>gone</h1>\n").unwrap();
    let etag = get(&s, "/nope").header("etag").unwrap().to_string();
    for extra in ["Range: bytes=0-2".to_string(), format!("If-None-Match: {etag}"), "If-Match: \"x\"".into()]
    {
        let a = request(&s, &format!("GET /nope HTTP/1.1\r\nHost: x\r\n{extra}\r\n\r\n"));
        assert_eq!(a.status, 404, "{extra}");
        assert_eq!(a.text(), "<h1>gone</h1>\n", "{extra}");
        assert_eq!(a.header("content-range"), None);
    }
}

/// A page larger than the in-memory limit goes by `sendfile`, whole.
#[test]
fn a_large_page_is_sent_whole() {
    let s = Server::start(|c| {
        with_pages(c);
        c.cache.small_file = 16;
    });
    let body: Vec<u8> = (0..300_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    std::fs::write(s.root.join("404.html"), &body).unwrap();
    let a = get(&s, "/missing/deep/file.css");
    assert_eq!(a.status, 404);
    assert_eq!(a.body, body);
}

/// A configured page that does not exist falls back to the built-in one;
/// 403 (a directory without an index) gets its own page.
#[test]
fn a_missing_page_falls_back_and_403_has_its_own() {
    let s = Server::start(with_pages);
    let a = get(&s, "/nope");
    assert_eq!(a.status, 404);
    assert!(a.text().contains("<h1>404 Not Found</h1>"), "{}", a.text());
    assert_eq!(get(&s, "/empty/").status, 403);
    assert!(get(&s, "/empty/").text().contains("403 Forbidden"));
    std::fs::write(s.root.join("403.html"), "no entry\n").unwrap();
    let f = get(&s, "/empty/");
    assert_eq!((f.status, f.text().as_str()), (403, "no entry\n"));
    // Unset, nothing changes.
    let plain = Server::start(|_| {});
    std::fs::write(plain.root.join("404.html"), "<h1>gone</h1>\n").unwrap();
    assert!(get(&plain, "/nope").text().contains("404 Not Found"));
}
