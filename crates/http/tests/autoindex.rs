//! `autoindex`: nginx's directory listings, checked on their own and
//! byte for byte against Debian's nginx serving the same directory.

mod common;
use common::nginx::Nginx;
use common::*;
use spindle_http::config::{Autoindex, AutoindexFormat};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn on(format: AutoindexFormat, exact_size: bool) -> impl FnOnce(&mut spindle_http::HttpConfig) {
    move |c| c.autoindex = Some(Autoindex { exact_size, format, ..Autoindex::default() })
}

/// A directory of awkward names: to escape in links and in text, longer
/// than the column, hidden, of every size class, and directories.
fn populate(dir: &Path) {
    std::fs::create_dir_all(dir.join("zdir")).unwrap();
    std::fs::create_dir_all(dir.join("d".repeat(50))).unwrap();
    std::fs::create_dir_all(dir.join("e".repeat(49))).unwrap();
    for (name, size) in [
        ("a.txt", 3usize),
        ("b.bin", 12_345),
        ("c.bin", 2_000_000),
        (".hidden", 1),
        ("B upper & <tag> \"q\".txt", 2),
        ("x!$'()*+,-.:;=@[]^_`{|}~#%?\\.txt", 2),
        ("é.txt", 2),
        ("tab\there\u{1}.txt", 2),
    ] {
        std::fs::write(dir.join(name), vec![b'x'; size]).unwrap();
    }
    for name in ["n".repeat(50), "m".repeat(51), format!("<{}", "q".repeat(50)), "ü".repeat(30)] {
        std::fs::write(dir.join(name), "x\n").unwrap();
    }
}

/// A body fetched with curl (which undoes nginx's chunking), over TCP or
/// nginx's unix socket; bounded by `--max-time`.
fn curl(args: &[&str], url: &str) -> Vec<u8> {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "10", "--path-as-is"])
        .args(args)
        .arg(url)
        .output()
        .expect("curl runs");
    assert!(out.status.success(), "curl {url}: {:?}", out.status);
    out.stdout
}

/// `hay` with each `from` replaced by `to`, byte for byte (names cut
/// inside a character are not UTF-8).
fn replace(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The HTML page, JSON and XML, sizes exact and rounded: the same bytes
/// as nginx 1.22 for the same directory.
#[test]
fn listings_match_nginx_byte_for_byte() {
    let formats = [
        ("/", AutoindexFormat::Html, true, ""),
        ("/k/", AutoindexFormat::Html, false, "autoindex_exact_size off;"),
        ("/j/", AutoindexFormat::Json, true, "autoindex_format json;"),
        ("/x/", AutoindexFormat::Xml, true, "autoindex_format xml;"),
    ];
    let base = Server::start(|_| {});
    let list = base.dir.join("list");
    populate(&list);
    let mut extra = format!("autoindex on;\nlocation /list/ {{ root {}; }}\n", base.dir.display());
    for (loc, _, _, directive) in &formats[1..] {
        extra += &format!("location {loc} {{ alias {}/; {directive} }}\n", list.display());
    }
    let nginx = Nginx::start(&base.root, &base.dir.join("nginx"), &extra);
    let sock = nginx.sock.to_str().unwrap().to_string();
    for (loc, format, exact, _) in formats {
        let s = Server::start(|c| {
            c.root = list.clone();
            on(format, exact)(c);
        });
        let ours = curl(&[], &format!("http://{}/", s.addr));
        let (nginx_path, theirs) = if loc == "/" {
            ("/list/", curl(&["--unix-socket", &sock], "http://localhost/list/"))
        } else {
            (loc, curl(&["--unix-socket", &sock], &format!("http://localhost{loc}")))
        };
        // The title names the path; nginx's is under /list/.
        let theirs = replace(&theirs, format!("Index of {nginx_path}").as_bytes(), b"Index of /");
        assert!(
            ours.len() > 500 && (format != AutoindexFormat::Html || ours.windows(6).any(|w| w == b"..&gt;")),
            "{}",
            show(&ours)
        );
        assert!(ours == theirs, "{format:?} exact={exact}:\n{}\n{}", show(&ours), show(&theirs));
    }
}

/// Without an index a directory is listed, with one its index is served;
/// off (the default) it is 403; without the slash, 301 first.
#[test]
fn a_directory_without_index_is_listed_only_with_autoindex() {
    let s = Server::start(on(AutoindexFormat::Html, true));
    std::fs::write(s.root.join("empty/f.txt"), "f").unwrap();
    let a = get(&s, "/empty/");
    assert_eq!(a.status, 200);
    assert_eq!(a.header("content-type"), Some("text/html"));
    assert!(a.text().starts_with("<html>\r\n<head><title>Index of /empty/</title></head>"), "{}", a.text());
    assert!(a.text().contains("<a href=\"f.txt\">f.txt</a>"), "{}", a.text());
    assert_eq!(a.header("content-length").unwrap(), a.body.len().to_string());
    assert_eq!(get(&s, "/sub/").text(), "sub index\n");
    let r = get(&s, "/empty");
    assert_eq!(r.status, 301);
    assert!(r.header("location").unwrap().ends_with("/empty/"));
    let off = Server::start(|_| {});
    assert_eq!(get(&off, "/empty/").status, 403);
}

/// HEAD: the head alone (as nginx, without a length), and the next
/// pipelined request is answered cleanly; a change on disk shows at once.
#[test]
fn head_works_and_changes_show_at_once() {
    let s = Server::start(on(AutoindexFormat::Json, true));
    let mut r = Reader::new(s.connect());
    r.send(b"HEAD /empty/ HTTP/1.1\r\nHost: x\r\n\r\nGET /empty/ HTTP/1.1\r\nHost: x\r\n\r\n");
    let h = r.response(true).unwrap();
    assert_eq!((h.status, h.header("content-type")), (200, Some("application/json")));
    let g = r.response(false).unwrap();
    assert_eq!(g.text(), "[\r\n]");
    std::fs::write(s.root.join("empty/new.txt"), "12345").unwrap();
    r.send(b"GET /empty/ HTTP/1.1\r\nHost: x\r\n\r\n");
    let g = r.response(false).unwrap();
    assert!(g.text().contains("\"name\":\"new.txt\", \"type\":\"file\""), "{}", g.text());
    assert!(g.text().contains("\"size\":5 }"), "{}", g.text());
}

/// Symbolic links that leave the root are neither listed nor followed; a
/// directory reached through one is not listed (403); links inside the
/// root are listed as what they lead to.
#[test]
fn links_out_of_the_root_are_not_listed() {
    let s = Server::start(on(AutoindexFormat::Html, true));
    let d = s.root.join("empty");
    std::os::unix::fs::symlink(s.dir.join("secret.txt"), d.join("out.txt")).unwrap();
    std::os::unix::fs::symlink("/nonexistent", d.join("dangling")).unwrap();
    std::os::unix::fs::symlink(s.root.join("a.txt"), d.join("in.txt")).unwrap();
    std::os::unix::fs::symlink(s.root.join("sub"), d.join("insub")).unwrap();
    std::os::unix::fs::symlink(&s.dir, s.root.join("outdir")).unwrap();
    let a = get(&s, "/empty/").text();
    assert!(!a.contains("out.txt") && !a.contains("dangling"), "{a}");
    assert!(a.contains("<a href=\"in.txt\">in.txt</a>"), "{a}");
    assert!(a.contains("<a href=\"insub/\">insub/</a>"), "{a}");
    assert_eq!(get(&s, "/outdir/").status, 403);
    assert!(!get(&s, "/").text().contains("outdir"));
}

/// 10,000 entries: listed whole, and the worker goes on serving.
#[test]
fn a_directory_of_ten_thousand_entries() {
    let s = Server::start(on(AutoindexFormat::Html, true));
    let d = s.root.join("big");
    std::fs::create_dir(&d).unwrap();
    for i in 0..10_000 {
        std::fs::File::create(d.join(format!("file-{i:05}.txt"))).unwrap();
    }
    let t = Instant::now();
    let a = get(&s, "/big/");
    let took = t.elapsed();
    assert_eq!(a.status, 200);
    let text = a.text();
    assert_eq!(text.matches("<a href=\"file-").count(), 10_000);
    assert!(text.find("file-00000.txt").unwrap() < text.find("file-09999.txt").unwrap());
    eprintln!("10,000 entries: {} bytes in {took:?}", a.body.len());
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(get(&s, "/a.txt").text(), "hello, world\n");
}

/// `n` empty files of long names in a new directory `name` under `root`:
/// a listing too large for the socket buffers of a client that does not
/// read (some 11 MB for 30,000).
fn big_dir(root: &Path, name: &str, n: usize) {
    let d = root.join(name);
    std::fs::create_dir(&d).unwrap();
    for i in 0..n {
        std::fs::File::create(d.join(format!("{i:05}-{}", "n".repeat(244)))).unwrap();
    }
}

/// Sends a request on a new connection and reads until its head has
/// come, then reads no more: the rest stays with the server.
fn hold(s: &Server, path: &str) -> (std::net::TcpStream, String) {
    use std::io::Write;
    let mut c = s.connect();
    c.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).unwrap();
    let got = read_head(&mut c);
    (c, show(&got))
}

/// The listings held by clients that do not read stay within
/// `autoindex_max_memory`: a second large one is refused with a 503
/// while the first is held, a request for the held one shares it, and
/// once it is sent the other can be listed.
#[test]
fn listings_held_stay_within_the_budget() {
    let s = Server::start(|c| c.autoindex = Some(Autoindex { max_memory: 1 << 20, ..Autoindex::default() }));
    big_dir(&s.root, "one", 30_000);
    big_dir(&s.root, "two", 30_000);
    std::fs::write(s.root.join("empty/f.txt"), "f").unwrap();
    let (held, head) = hold(&s, "/one/");
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    let refused = get(&s, "/two/");
    assert_eq!(refused.status, 503);
    // The held listing itself is shared, and a small one fits beside it
    // only within the budget: it does not.
    let again = get(&s, "/one/");
    assert_eq!(again.status, 200);
    assert!(again.body.len() > 10_000_000);
    assert_eq!(get(&s, "/empty/").status, 503);
    assert_eq!(get(&s, "/a.txt").text(), "hello, world\n");
    // The client goes away: its listing is given back.
    drop(held);
    assert!(wait_until(Duration::from_secs(5), || get(&s, "/empty/").status == 200));
    assert_eq!(get(&s, "/two/").status, 200);
}

/// While a listing is held by a client that does not read, a change in
/// the directory shows at once to the next request: a new file, and a
/// file's new size (which does not change the directory's own times).
#[test]
fn a_change_shows_at_once_while_the_listing_is_held() {
    let s = Server::start(on(AutoindexFormat::Json, true));
    big_dir(&s.root, "big", 30_000);
    let f = s.root.join("big/00000-".to_string() + &"n".repeat(244));
    let (_held, head) = hold(&s, "/big/");
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    std::fs::write(&f, "12345").unwrap();
    let a = get(&s, "/big/").text();
    assert!(a.contains(&format!("{}\", \"type\":\"file\"", "n".repeat(244))), "{}", &a[..300]);
    assert!(a.starts_with("[\r\n{ \"name\":\"00000-"), "{}", &a[..300]);
    assert!(a[..600].contains("\"size\":5 }"), "{}", &a[..600]);
    std::fs::write(s.root.join("big/0-new"), "").unwrap();
    let b = get(&s, "/big/").text();
    assert!(b.starts_with("[\r\n{ \"name\":\"0-new\""), "{}", &b[..300]);
}
