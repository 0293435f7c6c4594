//! Links that lead out of the root, planted where the newer modules look
//! (a `gzip_static` twin, a `try_files` candidate, a listed directory),
//! or swapped in for a file or directory that was served and cached a
//! moment before: none of them leads out, and no cached decision
//! outlives the change.

mod common;
use common::*;
use spindle_http::config::{Autoindex, GzipStatic};
use std::os::unix::fs::symlink;

const GZ: &str = "Accept-Encoding: gzip\r\n";

fn gz(s: &Server, path: &str) -> Response {
    request(s, &format!("GET {path} HTTP/1.1\r\nHost: x\r\n{GZ}\r\n"))
}

#[test]
fn swapped_links_never_lead_out() {
    let s = Server::start(|c| {
        c.try_files = Some("$uri $uri/ =404".parse().unwrap());
        c.gzip_static = GzipStatic::On;
        c.autoindex = Some(Autoindex::default());
        c.cache.racy_window = std::time::Duration::ZERO;
    });
    let out = s.dir.join("out");
    std::fs::create_dir(&out).unwrap();
    for (name, body) in [("index.html", "OUT"), ("x.txt", "OUT"), ("a.css.gz", "OUT"), ("b.css.gz", "OUT")] {
        std::fs::write(out.join(name), body).unwrap();
    }
    std::fs::write(s.root.join("x.txt"), "x").unwrap();
    std::fs::write(s.root.join("a.css"), "a").unwrap();
    std::fs::write(s.root.join("a.css.gz"), "a-gz").unwrap();
    std::fs::write(s.root.join("b.css"), "b").unwrap();
    symlink(out.join("b.css.gz"), s.root.join("b.css.gz")).unwrap();
    std::fs::create_dir(s.root.join("lst")).unwrap();
    std::fs::write(s.root.join("lst/f"), "f").unwrap();
    // A twin that leads out is passed over for the file itself.
    let b = gz(&s, "/b.css");
    assert_eq!((b.text().as_str(), b.header("content-encoding")), ("b", None));
    // Served, and cached, before the swap.
    assert_eq!(gz(&s, "/x.txt").text(), "x");
    assert_eq!(gz(&s, "/a.css").text(), "a-gz");
    assert_eq!(gz(&s, "/sub/").text(), "sub index\n");
    assert!(gz(&s, "/lst/").text().contains("Index of /lst/"));
    // Each replaced by a link out of the root.
    std::fs::remove_file(s.root.join("x.txt")).unwrap();
    symlink(out.join("x.txt"), s.root.join("x.txt")).unwrap();
    std::fs::remove_file(s.root.join("a.css.gz")).unwrap();
    symlink(out.join("a.css.gz"), s.root.join("a.css.gz")).unwrap();
    for d in ["sub", "lst"] {
        std::fs::rename(s.root.join(d), s.root.join(format!("{d}.old"))).unwrap();
        symlink(&out, s.root.join(d)).unwrap();
    }
    for p in ["/x.txt", "/sub/", "/lst/", "/sub/x.txt", "/lst/index.html"] {
        let r = gz(&s, p);
        assert!(!r.text().contains("OUT"), "{p}: {r:?}");
        assert_eq!(r.status, 404, "{p}");
    }
    let a = gz(&s, "/a.css");
    assert_eq!((a.text().as_str(), a.header("content-encoding")), ("a", None));
}
