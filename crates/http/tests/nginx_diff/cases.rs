//! The document root, the requests, and the differences from nginx that
//! are kept on purpose.

use std::path::Path;
use std::time::{Duration, SystemTime};

/// Every file's mtime: Tue, 14 Nov 2023 22:13:20 GMT (0x6553f100).
const MTIME: u64 = 1_700_000_000;
const LM: &str = "Tue, 14 Nov 2023 22:13:20 GMT";
const OLDER: &str = "Mon, 13 Nov 2023 22:13:20 GMT";
const NEWER: &str = "Wed, 15 Nov 2023 22:13:20 GMT";
/// `mid.txt`'s ETag: mtime and size (100) in hex, as both servers make it.
const ETAG: &str = "\"6553f100-64\"";

/// Adds the test's files to the root the common server made (which has
/// `index.html`, `a.txt`, `sub/index.html`, `1k.bin`, `empty/`, and
/// `secret.txt` beside the root), and sets every file's mtime.
pub fn populate(root: &Path, dir: &Path) {
    let mid: Vec<u8> = (0..100u8).map(|i| b'A' + i % 26).collect();
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let files: &[(&str, &[u8])] = &[
        ("mid.txt", &mid),
        ("big.bin", &big),
        ("zero.txt", b""),
        ("style.css", b"body { color: red }\n"),
        ("app.js", b"console.log(1);\n"),
        ("data.json", b"{\"a\": 1}\n"),
        ("pic.png", b"\x89PNG\r\n\x1a\n0000"),
        ("pic.svg", b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n"),
        ("doc.pdf", b"%PDF-1.4\n"),
        ("page.htm", b"<p>htm</p>\n"),
        ("font.woff2", b"wOF2"),
        ("font.woff", b"wOFF"),
        ("live.m3u8", b"#EXTM3U\n"),
        ("seg.ts", b"G"),
        ("notes.md", b"# notes\n"),
        ("pack.tar.gz", b"\x1f\x8b"),
        ("movie.mp4", b"mp4"),
        ("noext", b"no extension\n"),
        ("a b.txt", b"space\n"),
        ("\u{fc}n\u{ef}.txt", b"unicode\n"),
        ("per%cent.txt", b"percent\n"),
        ("plus+sign.txt", b"plus\n"),
        (".hidden", b"hidden\n"),
        ("noindex/f.txt", b"f\n"),
        ("deep/er/x.txt", b"deep\n"),
        ("sp ace/index.html", b"spaced\n"),
        ("\u{e9}t\u{e9}/index.html", b"accented\n"),
    ];
    for (name, data) in files {
        let p = root.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, data).unwrap();
    }
    std::os::unix::fs::symlink(dir.join("secret.txt"), root.join("out")).unwrap();
    std::os::unix::fs::symlink(root.join("a.txt"), root.join("in")).unwrap();
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(MTIME);
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                stack.push(e.path());
            } else if ft.is_file() {
                std::fs::File::options().write(true).open(e.path()).unwrap().set_modified(t).unwrap();
            }
        }
    }
}

/// One case: bytes sent on a fresh connection, and for each response
/// expected, whether it answers a HEAD.
pub struct Case {
    pub name: String,
    pub bytes: Vec<u8>,
    pub heads: Vec<bool>,
}

/// A difference from nginx kept on purpose: in `case`, `field` is
/// `nginx` from nginx and `spindle` from spindle, because `why`.
pub struct Expected {
    pub case: &'static str,
    pub field: &'static str,
    pub nginx: &'static str,
    pub spindle: &'static str,
    pub why: &'static str,
}

const fn keep(
    case: &'static str,
    field: &'static str,
    nginx: &'static str,
    spindle: &'static str,
    why: &'static str,
) -> Expected {
    Expected { case, field, nginx, spindle, why }
}

const MIME: &str = "types come from the mime_guess crate (src/mime.rs), which follows current \
    registrations (RFC 9239's text/javascript) and knows more extensions than nginx 1.22's mime.types";
const CLOSE_412: &str = "spindle says `Connection: close` on the 412 it closes after; nginx \
    says keep-alive and closes anyway";
const HEAD_431: &str = "spindle answers an oversized head (or header line) with 431, the RFC 6585 \
    status; nginx says 400 (\"Request Header Or Cookie Too Large\")";

/// The differences kept on purpose. `case` `*` is any case.
pub const EXPECTED: &[Expected] = &[
    keep("*", "allow", "(none)", "GET, HEAD", "RFC 9110 §15.5.6: a 405 MUST list the allowed methods; nginx sends none"),
    keep("POST missing file", "status", "404", "405",
        "spindle refuses every method but GET and HEAD alike; nginx lets POST look the file up first"),
    keep("HTTP/0.9 line", "status", "0", "400",
        "HTTP/0.9 (a body without status line or headers) is not served: no client needs it, and a \
        headerless answer is a known cross-protocol hazard"),
    keep("GET /out", "status", "200", "403",
        "a symbolic link that leads out of the root is refused (path.rs); nginx follows it by default"),
    keep("GET /mid.txt [If-Match: \"x\"]", "connection", "keep-alive", "close", CLOSE_412),
    keep("GET /mid.txt [If-Match: W/\"6553f100-64\"]", "connection", "keep-alive", "close", CLOSE_412),
    keep("GET /mid.txt [If-Unmodified-Since: Mon, 13 Nov 2023 22:13:20 GMT]", "connection", "keep-alive",
        "close", CLOSE_412),
    keep("GET /mid.txt [If-Unmodified-Since: garbage]", "connection", "keep-alive", "close", CLOSE_412),
    keep("HEAD with If-Match failing", "connection", "keep-alive", "close", CLOSE_412),
    keep("INM matches, IMS older", "status", "200", "304",
        "RFC 9110 §13.1.3: If-Modified-Since MUST be ignored when If-None-Match is sent; nginx wants both to hold"),
    keep("INM on two lines", "status", "400", "304",
        "If-None-Match is a list: on several lines it is one list (RFC 9110 §5.3), which spindle \
        reads as such; nginx takes it for a single-value header and refuses the repeat"),
    keep("INM on two lines", "end", "closed", "open", "follows from the 400 above"),
    keep("header too long", "status", "400", "431", HEAD_431),
    keep("head over 32k", "status", "400", "431", HEAD_431),
    keep("no colon", "status", "200", "400",
        "a header line without a colon is malformed (RFC 9112 §5): refused rather than skipped, as a \
        request smuggling defence"),
    keep("no colon", "end", "open", "closed", "follows from the 400 above"),
    keep("CL over limit", "end", "timeout", "closed",
        "after a 413 spindle closes (lingering); nginx reads and drops the announced body and keeps the \
        connection, so the probe is swallowed as body"),
    keep("GET /app.js", "content-type", "application/javascript", "text/javascript", MIME),
    keep("GET /notes.md", "content-type", "application/octet-stream", "text/markdown", MIME),
    keep("GET /pack.tar.gz", "content-type", "application/octet-stream", "application/gzip", MIME),
];

fn raw(name: &str, bytes: impl Into<Vec<u8>>) -> Case {
    let bytes = bytes.into();
    let heads = vec![bytes.starts_with(b"HEAD ")];
    Case { name: name.into(), bytes, heads }
}

fn pipe(name: &str, bytes: impl Into<Vec<u8>>, heads: &[bool]) -> Case {
    Case { name: name.into(), bytes: bytes.into(), heads: heads.to_vec() }
}

/// `METHOD target HTTP/1.1` with Host and `extra` header lines.
fn req(method: &str, target: &str, extra: &str) -> String {
    format!("{method} {target} HTTP/1.1\r\nHost: localhost\r\n{extra}\r\n")
}

fn get(target: &str) -> Case {
    raw(&format!("GET {target}"), req("GET", target, ""))
}

/// GET `target` with one more header line (`Name: value`).
fn with(target: &str, header: &str) -> Case {
    raw(&format!("GET {target} [{header}]"), req("GET", target, &format!("{header}\r\n")))
}

/// Every case, in order.
pub fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    // Methods.
    for m in ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "get", "FOO", "M-SEARCH"] {
        v.push(raw(&format!("method {m}"), req(m, "/a.txt", "")));
    }
    v.push(raw("POST with a body", req("POST", "/a.txt", "Content-Length: 5\r\n") + "hello"));
    v.push(raw("POST missing file", req("POST", "/nope", "")));
    v.push(raw("PUT missing file", req("PUT", "/nope", "Content-Length: 0\r\n")));
    v.push(raw("POST directory slash", req("POST", "/sub/", "")));
    v.push(raw("OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    v.push(raw("CONNECT authority", "CONNECT localhost:80 HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    v.push(raw("HEAD big file", req("HEAD", "/big.bin", "")));
    v.push(raw("HEAD directory", req("HEAD", "/sub", "")));
    v.push(raw("HEAD missing", req("HEAD", "/nope", "")));
    // Versions.
    v.push(raw("HTTP/1.0", "GET /a.txt HTTP/1.0\r\n\r\n"));
    v.push(raw("HTTP/1.0 keep-alive", "GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    v.push(raw("HTTP/1.0 with Host", "GET /a.txt HTTP/1.0\r\nHost: localhost\r\n\r\n"));
    v.push(raw("HTTP/1.1 close", req("GET", "/a.txt", "Connection: close\r\n")));
    v.push(raw("HTTP/1.1 Connection list", req("GET", "/a.txt", "Connection: keep-alive, Upgrade\r\n")));
    v.push(raw("HTTP/0.9 line", "GET /a.txt\r\n"));
    for ver in
        ["HTTP/2.0", "HTTP/1.2", "HTTP/1.10", "HTTP/3", "http/1.1", "HTTX/1.1", "HTTP/1.1 x", "HTTP/01.1"]
            .into_iter()
            .chain(["HTTP/1.1 ", "HTTP/1.0   ", "HTTP/1.2 ", "HTTP/2.0 ", "HTTP/1.1\t"])
    {
        v.push(raw(&format!("version {ver}"), format!("GET /a.txt {ver}\r\nHost: localhost\r\n\r\n")));
    }
    v.push(raw("garbage line", "\x01\x02\x03 garbage\r\n\r\n"));
    v.push(raw("empty lines first", "\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    v.push(raw("bare LF", "GET /a.txt HTTP/1.1\nHost: localhost\n\n"));
    v.push(raw("two spaces", "GET  /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    v.push(raw("tab separator", "GET\t/a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    // Targets.
    for t in [
        "/",
        "/a.txt",
        "/nope",
        "http://localhost/a.txt",
        "http://localhost:8080/a.txt",
        "http://localhost",
        "http://other.example/sub",
        "http://user@localhost/a.txt",
        "http://user:pw@localhost/a.txt",
        "http://a_b/a.txt",
        "http://local~host/a.txt",
        "http://localhost:8x/a.txt",
        "http://localhost:/a.txt",
        "http://[::1]:80/a.txt",
        "http://[::1]x/a.txt",
        "http://localhost#x",
        "HTTP://localhost/a.txt",
        "https://localhost/a.txt",
        "*",
        "a.txt",
        "//a.txt",
        "/sub//index.html",
        "//sub",
        "/./a.txt",
        "/sub/../a.txt",
        "/sub/./../mid.txt",
        "/../a.txt",
        "/sub/../../a.txt",
        "/%2e%2e/a.txt",
        "/sub/%2e%2e/a.txt",
        "/sub%2f..%2fa.txt",
        "/%2Fa.txt",
        "/sub%2Findex.html",
        "/a.txt%00",
        "/a%zz",
        "/a%",
        "/%c0%ae%c0%ae/a.txt",
        "/%61.txt",
        "/a.txt?x=1",
        "/a.txt?",
        "/a.txt?a=%zz&b=/../..",
        "/a.txt#frag",
        "/a.txt.",
        "/a.txt%20",
        "/a.txt/",
        "/a%20b.txt",
        "/%C3%BCn%C3%AF.txt",
        "/\u{fc}n\u{ef}.txt",
        "/per%25cent.txt",
        "/plus+sign.txt",
        "/plus%2Bsign.txt",
        "/.hidden",
        "/in",
        "/out",
        "/deep/er/x.txt",
        "/a\\b",
        "/a.txt;x",
    ] {
        v.push(get(t));
    }
    v.push(raw("space in target", "GET /a b.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    v.push(raw("control byte in target", "GET /a\x01.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    v.push(raw("DEL in target", "GET /a\x7f.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    v.push(get(&format!("/{}", "a".repeat(7000))));
    v.push(raw("URI over 8k", req("GET", &format!("/{}", "a".repeat(9000)), "")));
    // Types.
    for f in [
        "/index.html",
        "/style.css",
        "/app.js",
        "/data.json",
        "/pic.png",
        "/pic.svg",
        "/doc.pdf",
        "/page.htm",
        "/font.woff2",
        "/font.woff",
        "/live.m3u8",
        "/seg.ts",
        "/notes.md",
        "/pack.tar.gz",
        "/movie.mp4",
        "/noext",
        "/1k.bin",
        "/zero.txt",
        "/big.bin",
    ] {
        v.push(get(f));
    }
    // Host.
    v.push(raw("1.1 no Host", "GET /a.txt HTTP/1.1\r\n\r\n"));
    v.push(raw("1.1 absolute, no Host", "GET http://localhost/a.txt HTTP/1.1\r\n\r\n"));
    v.push(raw("absolute, bad host, good Host", "GET http://a..b/a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    v.push(raw("absolute, empty host, good Host", "GET http:///a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    v.push(raw(
        "absolute, other host, good Host",
        "GET http://other.example/a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
    ));
    for h in ["localhost:8080", "[::1]:80", "EXAMPLE.com.", "", "a/b", "a..b", "a b", ".x", "a\x01b", "x:y:z"]
    {
        v.push(raw(&format!("Host {h:?}"), format!("GET /a.txt HTTP/1.1\r\nHost: {h}\r\n\r\n")));
    }
    v.push(raw("two Hosts", "GET /a.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"));
    // Directories.
    for t in [
        "/sub",
        "/sub/",
        "/sub?x=1&y",
        "/empty",
        "/empty/",
        "/noindex/",
        "/noindex",
        "/deep",
        "/deep/er",
        "/sub/../sub",
        "/%73ub",
        "/sp%20ace",
        "/sp%20ace/",
        "/%C3%A9t%C3%A9",
        "/deep//er",
        "/deep/./er?q=%20",
        "/sub%3Fx",
        "//sub?x=1",
    ] {
        v.push(get(t));
    }
    // Conditionals on mid.txt.
    for h in [
        format!("If-None-Match: {ETAG}"),
        "If-None-Match: *".into(),
        format!("If-None-Match: W/{ETAG}"),
        format!("If-None-Match: \"x\", {ETAG}"),
        "If-None-Match: \"x\"".into(),
        format!("If-Modified-Since: {LM}"),
        format!("If-Modified-Since: {OLDER}"),
        format!("If-Modified-Since: {NEWER}"),
        "If-Modified-Since: yesterday".into(),
        format!("If-Match: {ETAG}"),
        "If-Match: \"x\"".into(),
        "If-Match: *".into(),
        format!("If-Unmodified-Since: {LM}"),
        format!("If-Unmodified-Since: {OLDER}"),
        format!("If-Unmodified-Since: {NEWER}"),
        "If-Unmodified-Since: garbage".into(),
        format!("If-Match: W/{ETAG}"),
        format!("If-Match: \"x\", {ETAG}"),
    ] {
        v.push(with("/mid.txt", &h));
    }
    v.push(raw(
        "INM matches, IMS older",
        req("GET", "/mid.txt", &format!("If-None-Match: {ETAG}\r\nIf-Modified-Since: {OLDER}\r\n")),
    ));
    v.push(raw(
        "INM differs, IMS equal",
        req("GET", "/mid.txt", &format!("If-None-Match: \"x\"\r\nIf-Modified-Since: {LM}\r\n")),
    ));
    v.push(raw("HEAD with INM", req("HEAD", "/mid.txt", &format!("If-None-Match: {ETAG}\r\n"))));
    v.push(raw("INM on 404", req("GET", "/nope", "If-None-Match: *\r\n")));
    v.push(raw(
        "INM on two lines",
        req("GET", "/mid.txt", &format!("If-None-Match: \"x\"\r\nIf-None-Match: {ETAG}\r\n")),
    ));
    v.push(raw("HEAD with If-Match failing", req("HEAD", "/mid.txt", "If-Match: \"x\"\r\n")));
    v.push(raw(
        "If-Match and range",
        req("GET", "/mid.txt", &format!("If-Match: {ETAG}\r\nRange: bytes=0-1,3-4\r\n")),
    ));
    for ir in [ETAG.to_string(), "\"x\"".into(), format!("W/{ETAG}"), LM.into(), OLDER.into()] {
        v.push(raw(
            &format!("If-Range {ir}"),
            req("GET", "/mid.txt", &format!("Range: bytes=0-4\r\nIf-Range: {ir}\r\n")),
        ));
    }
    v.push(raw(
        "range and INM match",
        req("GET", "/mid.txt", &format!("Range: bytes=0-4\r\nIf-None-Match: {ETAG}\r\n")),
    ));
    // Ranges.
    for r in [
        "bytes=0-0",
        "bytes=-1",
        "bytes=5-",
        "bytes=0-",
        "bytes=-200",
        "bytes=200-",
        "bytes=100-",
        "bytes=99-",
        "bytes=1-0",
        "bytes=0-1,5-6",
        "bytes=0-5,3-8",
        "bytes=0-1,-2",
        "bytes=0-1,200-",
        "bytes=200-,300-",
        "bytes=0-1, 5-6",
        "bytes= 0-1",
        "bytes = 0-1",
        "items=0-1",
        "bytes=a-b",
        "bytes=",
        "bytes=-",
        "bytes=-0",
        "bytes=0-99999999999999999999",
        "BYTES=0-1",
        "bytes=0-1,",
        "bytes=0-0,0-0",
        "bytes=50-59,0-9",
        "bytes=0-49,50-99,0-9",
    ] {
        v.push(with("/mid.txt", &format!("Range: {r}")));
    }
    for r in ["bytes=0-0", "bytes=-5", "bytes=0-"] {
        v.push(with("/zero.txt", &format!("Range: {r}")));
    }
    for r in ["bytes=0-9", "bytes=100000-100009,250000-", "bytes=-70000"] {
        v.push(with("/big.bin", &format!("Range: {r}")));
    }
    v.push(raw("HEAD with range", req("HEAD", "/mid.txt", "Range: bytes=0-9\r\n")));
    v.push(raw("range on 404", req("GET", "/nope", "Range: bytes=0-9\r\n")));
    // Header syntax and limits.
    v.push(raw("header too long", req("GET", "/a.txt", &format!("X-Long: {}\r\n", "v".repeat(9000)))));
    let many: String = (0..100).map(|i| format!("X-H{i}: {i}\r\n")).collect();
    v.push(raw("100 headers", req("GET", "/a.txt", &many)));
    let huge: String = (0..40).map(|i| format!("X-H{i}: {}\r\n", "v".repeat(1000))).collect();
    v.push(raw("head over 32k", req("GET", "/a.txt", &huge)));
    v.push(raw("obs-fold", req("GET", "/a.txt", "X-A: 1\r\n  folded\r\n")));
    v.push(raw("no colon", req("GET", "/a.txt", "NoColon\r\n")));
    v.push(raw("empty name", req("GET", "/a.txt", ": v\r\n")));
    v.push(raw("underscore name", req("GET", "/a.txt", "X_Under: 1\r\n")));
    v.push(raw("space before colon", req("GET", "/a.txt", "X-A : 1\r\n")));
    v.push(raw("high bytes in value", req("GET", "/a.txt", "X-A: \u{e9}t\u{e9}\r\n")));
    v.push(raw("NUL in value", req("GET", "/a.txt", "X-A: a\0b\r\n")));
    // Bodies on GET.
    v.push(raw("GET with Content-Length body", req("GET", "/a.txt", "Content-Length: 5\r\n") + "hello"));
    v.push(raw(
        "GET chunked body",
        req("GET", "/a.txt", "Transfer-Encoding: chunked\r\n") + "5\r\nhello\r\n0\r\n\r\n",
    ));
    v.push(raw(
        "CL and TE",
        req("GET", "/a.txt", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n") + "0\r\n\r\n",
    ));
    v.push(raw("TE gzip", req("GET", "/a.txt", "Transfer-Encoding: gzip\r\n")));
    v.push(raw("TE in HTTP/1.0", "GET /a.txt HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
    v.push(raw("bad chunk size", req("GET", "/a.txt", "Transfer-Encoding: chunked\r\n") + "zz\r\n\r\n"));
    v.push(raw("CL not a number", req("GET", "/a.txt", "Content-Length: abc\r\n")));
    v.push(raw("CL negative", req("GET", "/a.txt", "Content-Length: -1\r\n")));
    v.push(raw("CL plus sign", req("GET", "/a.txt", "Content-Length: +1\r\n") + "x"));
    v.push(raw("two equal CL", req("GET", "/a.txt", "Content-Length: 1\r\nContent-Length: 1\r\n") + "x"));
    v.push(raw("CL over limit", req("GET", "/a.txt", "Content-Length: 2000000\r\n")));
    v.push(raw(
        "Expect 100-continue with body",
        req("GET", "/a.txt", "Expect: 100-continue\r\nContent-Length: 5\r\n") + "hello",
    ));
    v.push(raw("Expect 100-continue no body", req("GET", "/a.txt", "Expect: 100-continue\r\n")));
    v.push(raw(
        "Expect 100-continue chunked",
        req("GET", "/a.txt", "Expect: 100-continue\r\nTransfer-Encoding: chunked\r\n")
            + "3\r\nabc\r\n0\r\n\r\n",
    ));
    v.push(raw("Expect unknown", req("GET", "/a.txt", "Expect: teapot\r\n")));
    for (name, method, target, extra) in [
        ("Expect on a 404", "GET", "/nope", ""),
        ("Expect on a 405", "POST", "/a.txt", ""),
        ("Expect on a 301", "GET", "/sub", ""),
        ("Expect on a HEAD", "HEAD", "/mid.txt", ""),
        ("Expect on a 206", "GET", "/mid.txt", "Range: bytes=0-4\r\n"),
        ("Expect on a 416", "GET", "/mid.txt", "Range: bytes=500-\r\n"),
        ("Expect on a 304", "GET", "/mid.txt", "If-None-Match: *\r\n"),
        ("Expect on a directory index", "GET", "/sub/", ""),
    ] {
        let head = format!("Expect: 100-continue\r\nContent-Length: 3\r\n{extra}");
        v.push(raw(name, req(method, target, &head) + "abc"));
    }
    v.push(raw("Expect in HTTP/1.0", "GET /a.txt HTTP/1.0\r\nExpect: 100-continue\r\n\r\n"));
    // Pipelining and keep-alive.
    let g = req("GET", "/a.txt", "");
    v.push(pipe("three pipelined", g.repeat(3), &[false; 3]));
    v.push(pipe(
        "spaces after the version, pipelined",
        "GET /a.txt HTTP/1.1  \r\nHost: localhost\r\n\r\nHEAD /mid.txt HTTP/1.1 \nHost: localhost\n\n",
        &[false, true],
    ));
    let mixed = req("GET", "/mid.txt", "")
        + &req("HEAD", "/big.bin", "")
        + &req("GET", "/mid.txt", "Range: bytes=1-2\r\n")
        + &req("GET", "/nope", "")
        + &req("PUT", "/a.txt", "")
        + &req("GET", "/sub", "")
        + &req("GET", "/big.bin", "Range: bytes=0-1,5-6\r\n")
        + &g;
    v.push(pipe("eight mixed pipelined", mixed, &[false, true, false, false, false, false, false, false]));
    v.push(pipe(
        "close in the middle",
        g.clone() + &req("GET", "/a.txt", "Connection: close\r\n") + &g,
        &[false, false],
    ));
    v.push(pipe(
        "1.0 keep-alive pipelined",
        "GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".repeat(2),
        &[false, false],
    ));
    v.push(pipe(
        "400 in the middle",
        g.clone() + "GET /a%zz HTTP/1.1\r\nHost: localhost\r\n\r\n" + &g,
        &[false, false],
    ));
    v.push(pipe(
        "body then request",
        req("GET", "/a.txt", "Content-Length: 3\r\n") + "abc" + &g,
        &[false, false],
    ));
    v.push(pipe(
        "chunked then request",
        req("GET", "/a.txt", "Transfer-Encoding: chunked\r\n") + "3\r\nabc\r\n0\r\n\r\n" + &g,
        &[false, false],
    ));
    v.push(pipe("big then small", req("GET", "/big.bin", "") + &g, &[false, false]));
    v.push(pipe("HEAD big then GET", req("HEAD", "/big.bin", "") + &g, &[true, false]));
    v
}
