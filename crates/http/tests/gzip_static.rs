//! `gzip_static`: `a.css.gz` served for `a.css` to clients that take
//! gzip, as nginx's gzip_static module does, checked against nginx too.

mod common;
use common::nginx::Nginx;
use common::*;
use spindle_http::config::GzipStatic;
use std::process::Command;

fn gzip(mode: GzipStatic) -> impl FnOnce(&mut spindle_http::HttpConfig) {
    move |c| {
        c.gzip_static = mode;
        // Files written by the test are cached at once, so that the
        // checks below see a cached entry go stale.
        c.cache.racy_window = std::time::Duration::ZERO;
    }
}

/// Not real gzip: the server sends the bytes as they are, and the test
/// checks that it sent these.
const GZ: &[u8] = b"\x1f\x8b pretend-gzip of body{}";

fn with_twin(s: &Server) {
    std::fs::write(s.root.join("a.css"), "body{}\n").unwrap();
    std::fs::write(s.root.join("a.css.gz"), GZ).unwrap();
}

fn req(s: &Server, path: &str, extra: &str) -> Response {
    request(s, &format!("GET {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n"))
}

/// A gzip client gets the twin: its bytes, its tag and length, the
/// original's type, `Content-Encoding` and `Vary`; the others get the
/// plain file, with `Vary` too.
#[test]
fn gzip_clients_get_the_twin_and_others_the_file() {
    let s = Server::start(gzip(GzipStatic::On));
    with_twin(&s);
    let plain = req(&s, "/a.css", "");
    assert_eq!(plain.text(), "body{}\n");
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.header("vary"), Some("Accept-Encoding"));
    for ae in ["gzip", "GZIP", "deflate, gzip;q=0.5", "br,gzip", "gzip;q=0.001"] {
        let a = req(&s, "/a.css", &format!("Accept-Encoding: {ae}\r\n"));
        assert_eq!(a.body, GZ, "{ae}");
        assert_eq!(a.header("content-encoding"), Some("gzip"), "{ae}");
        assert_eq!(a.header("content-type"), Some("text/css"), "{ae}");
        assert_eq!(a.header("vary"), Some("Accept-Encoding"), "{ae}");
        assert_eq!(a.header("content-length"), Some(GZ.len().to_string().as_str()));
        assert_ne!(a.header("etag"), plain.header("etag"), "{ae}");
    }
    for ae in ["gzip;q=0", "gzip;q=0.000", "*", "x-gzip", "identity"] {
        let a = req(&s, "/a.css", &format!("Accept-Encoding: {ae}\r\n"));
        assert_eq!((a.text().as_str(), a.header("content-encoding")), ("body{}\n", None), "{ae}");
    }
    // nginx's gzip_http_version 1.1 and gzip_proxied off.
    let a = request(&s, "GET /a.css HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n");
    assert_eq!(a.text(), "body{}\n");
    let a = req(&s, "/a.css", "Accept-Encoding: gzip\r\nVia: 1.1 proxy\r\n");
    assert_eq!(a.text(), "body{}\n");
    // HEAD: the twin's head.
    let h = request(&s, "HEAD /a.css HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n");
    assert_eq!(h.header("content-length"), Some(GZ.len().to_string().as_str()));
    assert_eq!(h.header("content-encoding"), Some("gzip"));
    // Off, the default: the plain file and no Vary.
    let off = Server::start(|_| {});
    with_twin(&off);
    let a = req(&off, "/a.css", "Accept-Encoding: gzip\r\n");
    assert_eq!((a.text().as_str(), a.header("vary")), ("body{}\n", None));
}

/// Ranges and conditionals apply to the gzip bytes; a 304 repeats `Vary`.
#[test]
fn ranges_and_conditionals_apply_to_the_twin() {
    let s = Server::start(gzip(GzipStatic::On));
    with_twin(&s);
    let a = req(&s, "/a.css", "Accept-Encoding: gzip\r\n");
    let etag = a.header("etag").unwrap().to_string();
    let n = req(&s, "/a.css", &format!("Accept-Encoding: gzip\r\nIf-None-Match: {etag}\r\n"));
    assert_eq!((n.status, n.header("vary")), (304, Some("Accept-Encoding")));
    // The tag is the twin's: a plain client with it gets the file.
    assert_eq!(req(&s, "/a.css", &format!("If-None-Match: {etag}\r\n")).status, 200);
    let r = req(&s, "/a.css", "Accept-Encoding: gzip\r\nRange: bytes=0-3\r\n");
    assert_eq!(r.status, 206);
    assert_eq!(r.body, &GZ[..4]);
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(r.header("content-range"), Some(format!("bytes 0-3/{}", GZ.len()).as_str()));
}

/// Only the twin: gzip clients get it, others 404; `always` sends it to
/// everyone. A directory's index has its twin served too.
#[test]
fn only_the_twin_always_and_directories() {
    let s = Server::start(gzip(GzipStatic::On));
    std::fs::write(s.root.join("only.css.gz"), GZ).unwrap();
    let a = req(&s, "/only.css", "Accept-Encoding: gzip\r\n");
    assert_eq!((a.status, a.header("content-type")), (200, Some("text/css")));
    assert_eq!(req(&s, "/only.css", "").status, 404);
    // `/only.css.gz` by name is itself, not encoded.
    let g = req(&s, "/only.css.gz", "Accept-Encoding: gzip\r\n");
    assert_eq!((g.status, g.header("content-encoding")), (200, None));
    std::fs::write(s.root.join("sub/index.html.gz"), GZ).unwrap();
    let d = req(&s, "/sub/", "Accept-Encoding: gzip\r\n");
    assert_eq!((d.body.as_slice(), d.header("content-type")), (GZ, Some("text/html")));
    assert_eq!(req(&s, "/sub/", "").text(), "sub index\n");

    let always = Server::start(gzip(GzipStatic::Always));
    std::fs::write(always.root.join("only.css.gz"), GZ).unwrap();
    let a = req(&always, "/only.css", "");
    assert_eq!((a.status, a.header("content-encoding")), (200, Some("gzip")));
    assert_eq!(req(&always, "/a.txt", "").text(), "hello, world\n");
}

/// A twin added, rewritten or removed is seen on the next request, on a
/// keep-alive connection whose entries are cached; a large twin goes by
/// sendfile whole.
#[test]
fn changes_to_the_twin_show_at_once() {
    let s = Server::start(|c| {
        gzip(GzipStatic::On)(c);
        c.cache.small_file = 16;
    });
    std::fs::write(s.root.join("a.css"), "body{}\n").unwrap();
    let mut r = Reader::new(s.connect());
    let get = |r: &mut Reader| {
        r.send(b"GET /a.css HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n");
        r.response(false).unwrap()
    };
    assert_eq!(get(&mut r).text(), "body{}\n");
    std::fs::write(s.root.join("a.css.gz"), GZ).unwrap();
    assert_eq!(get(&mut r).body, GZ);
    assert_eq!(get(&mut r).body, GZ);
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(s.root.join("a.css.gz.new"), &big).unwrap();
    std::fs::rename(s.root.join("a.css.gz.new"), s.root.join("a.css.gz")).unwrap();
    assert_eq!(get(&mut r).body, big);
    std::fs::remove_file(s.root.join("a.css.gz")).unwrap();
    assert_eq!(get(&mut r).text(), "body{}\n");
}

/// The head lines a client acts on and the body, against nginx with
/// `gzip_static on; gzip_vary on;`, for clients that take gzip and
/// clients that do not (`Vary` aside: see below).
#[test]
fn answers_match_nginx() {
    let s = Server::start(gzip(GzipStatic::On));
    with_twin(&s);
    std::fs::write(s.root.join("only.css.gz"), GZ).unwrap();
    std::fs::write(s.root.join("sub/index.html.gz"), GZ).unwrap();
    let nginx = Nginx::start(&s.root, &s.dir.join("nginx"), "gzip_static on;\ngzip_vary on;");
    let sock = nginx.sock.to_str().unwrap().to_string();
    let fetch = |args: &[&str], url: &str, ae: &str, path: &str| {
        let out = Command::new("curl")
            .args(["-s", "--max-time", "10", "-D", "-", "-H", &format!("Accept-Encoding: {ae}")])
            .args(args)
            .arg(format!("{url}{path}"))
            .output()
            .expect("curl runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut keep: Vec<String> = head
            .lines()
            .filter(|l| {
                let n = l.split(':').next().unwrap_or_default().to_ascii_lowercase();
                l.starts_with("HTTP/")
                    || ["content-type", "content-length", "content-encoding", "vary", "etag", "last-modified"]
                        .contains(&n.as_str())
            })
            .map(str::to_string)
            .collect();
        keep.sort();
        (keep, body.to_string())
    };
    let ours = format!("http://{}", s.addr);
    for path in ["/a.css", "/only.css", "/sub/", "/a.txt", "/nope.css"] {
        for ae in ["gzip", "", "gzip;q=0", "*", "x-gzip", "br, gzip;q=0.1"] {
            let n = fetch(&["--unix-socket", &sock], "http://localhost", ae, path);
            let mut o = fetch(&[], &ours, ae, path);
            // nginx says `Vary` only where the twin exists (it looks for
            // it on every request); spindle on every answer for a name.
            assert!(o.0.iter().any(|l| l.starts_with("Vary")), "{path} {ae}: {o:?}");
            if !n.0.iter().any(|l| l.starts_with("Vary")) {
                o.0.retain(|l| !l.starts_with("Vary"));
            }
            if n.0.iter().any(|l| l.contains(" 404 ")) {
                // Error pages' bodies and lengths differ (nginx's names itself).
                let no_length = |v: &[String]| -> Vec<String> {
                    v.iter().filter(|l| !l.starts_with("Content-Length")).cloned().collect()
                };
                assert_eq!(no_length(&o.0), no_length(&n.0), "{path} with Accept-Encoding: {ae}");
            } else {
                assert_eq!(o, n, "{path} with Accept-Encoding: {ae}");
            }
        }
    }
}
