//! Requests and responses: methods, keep-alive, pipelining, directories,
//! types, validators, ranges, cache invalidation, stub_status, curl.

mod common;
use common::*;
use std::time::Duration;

#[test]
fn get_head_and_405() {
    let s = Server::start(|_| {});
    let r = get(&s, "/a.txt");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"hello, world\n");
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert_eq!(r.header("content-length"), Some("13"));
    assert_eq!(r.header("server"), Some("spindle"));
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    assert!(r.header("date").unwrap().ends_with("GMT"));
    assert!(r.header("last-modified").unwrap().ends_with("GMT"));
    let h = request(&s, "HEAD /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!((h.status, h.header("content-length")), (200, Some("13")));
    assert!(h.body.is_empty());
    for m in ["POST", "PUT", "DELETE", "OPTIONS", "BREW"] {
        let r = request(&s, &format!("{m} /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
        assert_eq!(r.status, 405, "{m}");
        assert_eq!(r.header("allow"), Some("GET, HEAD"));
    }
    assert_eq!(get(&s, "/missing").status, 404);
}

#[test]
fn keep_alive_and_pipelining() {
    let s = Server::start(|_| {});
    let mut c = Reader::new(s.connect());
    for _ in 0..3 {
        c.send(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
        let r = c.response(false).unwrap();
        assert_eq!((r.status, r.header("connection")), (200, Some("keep-alive")));
    }
    // Five requests in one write: five responses, in order.
    c.send(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nHEAD /1k.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /missing HTTP/1.1\r\nHost: x\r\n\r\nGET /sub/ HTTP/1.1\r\nHost: x\r\n\r\nGET /1k.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9\r\n\r\n");
    let a = c.response(false).unwrap();
    assert_eq!(a.body, b"hello, world\n");
    let b = c.response(true).unwrap();
    assert_eq!((b.status, b.header("content-length")), (200, Some("1024")));
    assert_eq!(c.response(false).unwrap().status, 404);
    assert_eq!(c.response(false).unwrap().body, b"sub index\n");
    let e = c.response(false).unwrap();
    assert_eq!((e.status, e.body.len()), (206, 10));
    // Connection: close is honoured after the response.
    c.send(b"GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(c.response(false).unwrap().header("connection"), Some("close"));
    assert!(c.closed());
    // HTTP/1.0: closed unless keep-alive is asked for.
    let mut c = Reader::new(s.connect());
    c.send(b"GET /a.txt HTTP/1.0\r\n\r\n");
    assert_eq!(c.response(false).unwrap().header("connection"), Some("close"));
    assert!(c.closed());
    let mut c = Reader::new(s.connect());
    c.send(b"GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(c.response(false).unwrap().header("connection"), Some("keep-alive"));
    c.send(b"GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(c.response(false).unwrap().status, 200);
}

#[test]
fn keepalive_requests_limit() {
    let s = Server::start(|c| c.limits.keepalive_requests = 3);
    let mut c = Reader::new(s.connect());
    c.send(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(c.response(false).unwrap().header("connection"), Some("keep-alive"));
    assert_eq!(c.response(false).unwrap().header("connection"), Some("keep-alive"));
    assert_eq!(c.response(false).unwrap().header("connection"), Some("close"));
    assert!(c.response(false).is_none());
}

#[test]
fn index_and_directory_redirect() {
    let s = Server::start(|_| {});
    let r = get(&s, "/");
    assert_eq!((r.status, r.text().as_str()), (200, "<h1>home</h1>\n"));
    assert_eq!(r.header("content-type"), Some("text/html"));
    let port = s.addr.port();
    let r = get(&s, "/sub");
    assert_eq!((r.status, r.header("location")), (301, Some(format!("http://x:{port}/sub/").as_str())));
    let r = get(&s, "/sub?x=1");
    assert_eq!(r.header("location"), Some(format!("http://x:{port}/sub/?x=1").as_str()));
    assert_eq!(get(&s, "/sub/").text(), "sub index\n");
    assert_eq!(get(&s, "/empty/").status, 403);
    assert_eq!(get(&s, "/a.txt/").status, 404);
}

/// `index` may name several files, tried in order, as nginx's `index
/// index.html index.htm index.nginx-debian.html` (Debian's default site)
/// tries them; spindle took the whole list for one file name, so a site
/// whose directories hold `index.htm` got 403 everywhere.
#[test]
fn an_index_list_is_tried_in_order() {
    let s = Server::start(|c| c.index = "index.html index.htm default.txt".into());
    for (dir, files) in
        [("htm", &["index.htm"][..]), ("both", &["index.htm", "default.txt"]), ("txt", &["default.txt"])]
    {
        std::fs::create_dir(s.root.join(dir)).unwrap();
        for f in files {
            std::fs::write(s.root.join(dir).join(f), format!("{dir}/{f}\n")).unwrap();
        }
    }
    let page = |p: &str| {
        let r = get(&s, p);
        (r.status, r.header("content-type").unwrap_or("").to_string(), r.text())
    };
    assert_eq!(page("/"), (200, "text/html".into(), "<h1>home</h1>\n".into()));
    assert_eq!(page("/htm/"), (200, "text/html".into(), "htm/index.htm\n".into()));
    assert_eq!(page("/both/"), (200, "text/html".into(), "both/index.htm\n".into()));
    assert_eq!(page("/txt/"), (200, "text/plain".into(), "txt/default.txt\n".into()));
    assert_eq!(get(&s, "/empty/").status, 403);
    assert_eq!(get(&s, "/nope/").status, 404);
    // An earlier name that appears is served from then on.
    std::fs::write(s.root.join("both/index.html"), "both/index.html\n").unwrap();
    assert_eq!(get(&s, "/both/").text(), "both/index.html\n");
    std::fs::remove_file(s.root.join("both/index.html")).unwrap();
    assert_eq!(get(&s, "/both/").text(), "both/index.htm\n");
}

#[test]
fn mime_types() {
    let s = Server::start(|_| {});
    for (name, ty) in [
        ("x.css", "text/css"),
        ("x.js", "text/javascript"),
        ("x.md", "text/markdown"),
        ("x.JPG", "image/jpeg"),
        ("x.png", "image/png"),
        ("x.json", "application/json"),
        ("x.svg", "image/svg+xml"),
        ("x.unknownext", "application/octet-stream"),
    ] {
        std::fs::write(s.root.join(name), "x").unwrap();
        assert_eq!(get(&s, &format!("/{name}")).header("content-type"), Some(ty), "{name}");
    }
}

#[test]
fn validators_and_304() {
    let s = Server::start(|_| {});
    let meta = std::fs::metadata(s.root.join("a.txt")).unwrap();
    use std::os::unix::fs::MetadataExt;
    let r = get(&s, "/a.txt");
    let etag = r.header("etag").unwrap().to_string();
    assert_eq!(etag, format!("\"{:x}-{:x}\"", meta.mtime(), meta.size()));
    let lm = r.header("last-modified").unwrap().to_string();
    let inm =
        request(&s, &format!("GET /a.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"zz\", {etag}\r\n\r\n"));
    assert_eq!(inm.status, 304);
    assert_eq!(inm.header("etag"), Some(etag.as_str()));
    assert!(inm.header("content-length").is_none());
    assert_eq!(request(&s, "GET /a.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"other\"\r\n\r\n").status, 200);
    assert_eq!(
        request(&s, &format!("GET /a.txt HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: {lm}\r\n\r\n")).status,
        304
    );
    let old = "GET /a.txt HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: Thu, 01 Jan 1970 00:00:01 GMT\r\n\r\n";
    assert_eq!(request(&s, old).status, 200);
    // If-None-Match wins over If-Modified-Since.
    let both =
        format!("GET /a.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"x\"\r\nIf-Modified-Since: {lm}\r\n\r\n");
    assert_eq!(request(&s, &both).status, 200);
}

#[test]
fn ranges_206_and_416() {
    let s = Server::start(|c| c.cache.small_file = 100);
    let body: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(s.root.join("big.bin"), &body).unwrap();
    for (file, data) in [("a.txt", b"hello, world\n".to_vec()), ("big.bin", body.clone())] {
        let n = data.len();
        for (spec, lo, hi) in [("0-4", 0, 4), ("3-", 3, n - 1), ("-5", n - 5, n - 1), ("2-100000", 2, n - 1)]
        {
            let r = request(&s, &format!("GET /{file} HTTP/1.1\r\nHost: x\r\nRange: bytes={spec}\r\n\r\n"));
            assert_eq!(r.status, 206, "{file} {spec}");
            assert_eq!(r.header("content-range"), Some(format!("bytes {lo}-{hi}/{n}").as_str()));
            assert_eq!(r.body, &data[lo..=hi]);
        }
        let r = request(&s, &format!("GET /{file} HTTP/1.1\r\nHost: x\r\nRange: bytes={n}-\r\n\r\n"));
        assert_eq!((r.status, r.header("content-range")), (416, Some(format!("bytes */{n}").as_str())));
        // Several ranges: a multipart 206 (see protocol_more.rs); several
        // adding up past the file: the whole file.
        let r = request(&s, &format!("GET /{file} HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1,3-4\r\n\r\n"));
        assert_eq!(r.status, 206);
        assert!(r.header("content-type").unwrap().starts_with("multipart/byteranges; boundary="));
        let r = request(&s, &format!("GET /{file} HTTP/1.1\r\nHost: x\r\nRange: bytes=0-,1-\r\n\r\n"));
        assert_eq!((r.status, r.body.len()), (200, n));
        let r = request(
            &s,
            &format!("GET /{file} HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1\r\nIf-Range: \"stale\"\r\n\r\n"),
        );
        assert_eq!(r.status, 200);
    }
    let r = get(&s, "/big.bin");
    assert_eq!(r.body, body);
}

#[test]
fn change_on_disk_is_served_at_once() {
    let s = Server::start(|c| c.cache.small_file = 8);
    for name in ["small.txt", "large.txt"] {
        let p = s.root.join(name);
        std::fs::write(&p, "version one\n").unwrap();
        let mut c = Reader::new(s.connect());
        c.send(format!("GET /{name} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        assert_eq!(c.response(false).unwrap().text(), "version one\n");
        // Same size, rewritten in place.
        std::fs::write(&p, "version two\n").unwrap();
        c.send(format!("GET /{name} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        assert_eq!(c.response(false).unwrap().text(), "version two\n");
        // Replaced by rename.
        let tmp = s.root.join("tmp.new");
        std::fs::write(&tmp, "version three, longer\n").unwrap();
        std::fs::rename(&tmp, &p).unwrap();
        c.send(format!("GET /{name} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        assert_eq!(c.response(false).unwrap().text(), "version three, longer\n");
        std::fs::remove_file(&p).unwrap();
        c.send(format!("GET /{name} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        assert_eq!(c.response(false).unwrap().status, 404);
    }
    // A symbolic link pointed outside the root after being cached.
    std::fs::write(s.root.join("target.txt"), "inside\n").unwrap();
    std::os::unix::fs::symlink(s.root.join("target.txt"), s.root.join("link")).unwrap();
    assert_eq!(get(&s, "/link").text(), "inside\n");
    std::fs::remove_file(s.root.join("link")).unwrap();
    std::os::unix::fs::symlink(s.dir.join("secret.txt"), s.root.join("link")).unwrap();
    assert_eq!(get(&s, "/link").status, 403);
}

#[test]
fn stub_status() {
    let s = Server::start(|c| c.status = Some("/nginx_status".into()));
    let mut idle = Reader::new(s.connect());
    idle.send(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    idle.response(false).unwrap();
    let r = get(&s, "/nginx_status");
    assert_eq!(r.header("content-type"), Some("text/plain"));
    let text = r.text();
    let lines: Vec<&str> = text.split('\n').collect();
    assert_eq!(lines[0], "Active connections: 2 ", "{text}");
    assert_eq!(lines[1], "server accepts handled requests");
    assert_eq!(lines[2], " 2 2 2 ", "{text}");
    assert_eq!(lines[3], "Reading: 0 Writing: 1 Waiting: 1 ", "{text}");
    assert_eq!(lines[4], "");
    // Off by default.
    let plain = Server::start(|_| {});
    assert_eq!(get(&plain, "/nginx_status").status, 404);
}

#[test]
fn curl_smoke() {
    let s = Server::start(|c| c.cache.small_file = 10);
    let body: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(s.root.join("data.bin"), &body).unwrap();
    let curl = |args: &[&str]| {
        let out = std::process::Command::new("curl")
            .args(["-sS", "--max-time", "5"])
            .args(args)
            .output()
            .expect("curl runs");
        assert!(out.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let base = format!("http://{}", s.addr);
    assert_eq!(curl(&[&format!("{base}/a.txt")]), b"hello, world\n");
    assert_eq!(curl(&[&format!("{base}/data.bin")]), body);
    assert_eq!(curl(&["-r", "10-19", &format!("{base}/data.bin")]), &body[10..20]);
    assert_eq!(curl(&["-r", "-7", &format!("{base}/a.txt")]), b" world\n");
    let code = curl(&["-o", "/dev/null", "-w", "%{http_code}", &format!("{base}/sub")]);
    assert_eq!(code, b"301");
    assert_eq!(curl(&["-L", &format!("{base}/sub")]), b"sub index\n");
    let head = String::from_utf8(curl(&["-I", &format!("{base}/data.bin")])).unwrap();
    assert!(head.contains("Content-Length: 100000"), "{head}");
    let _ = Duration::ZERO;
}
