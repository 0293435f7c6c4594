//! `try_files`: nginx's candidates-then-fallback, for a single-page
//! application and for `=404`, checked on its own and against nginx.

mod common;
use common::nginx::Nginx;
use common::*;
use spindle_http::config::TryFiles;
use std::process::Command;

fn try_files(list: &str) -> impl FnOnce(&mut spindle_http::HttpConfig) {
    let tf: TryFiles = list.parse().unwrap();
    move |c| c.try_files = Some(tf)
}

/// The single-page application: files and directories as they are, any
/// other path the application's `/index.html`, with its own type.
#[test]
fn a_single_page_application_falls_back_to_its_index() {
    let s = Server::start(try_files("$uri $uri/ /index.html"));
    assert_eq!(get(&s, "/a.txt").text(), "hello, world\n");
    for p in ["/nope", "/deep/route/42", "/nope?x=1", "/a.txt/", "/%3Cx%3E"] {
        let a = get(&s, p);
        assert_eq!((a.status, a.text().as_str()), (200, "<h1>home</h1>\n"), "{p}");
        assert_eq!(a.header("content-type"), Some("text/html"), "{p}");
    }
    // A directory: its index, after the 301 for a missing slash (as nginx).
    let r = get(&s, "/sub");
    assert_eq!(r.status, 301);
    assert!(r.header("location").unwrap().ends_with("/sub/"));
    assert_eq!(get(&s, "/sub/").text(), "sub index\n");
    // One without an index is 403, as without try_files.
    assert_eq!(get(&s, "/empty/").status, 403);
    // HEAD and pipelining.
    let mut r = Reader::new(s.connect());
    r.send(b"HEAD /route HTTP/1.1\r\nHost: x\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    let h = r.response(true).unwrap();
    assert_eq!((h.status, h.header("content-length")), (200, Some("14")));
    assert_eq!(r.response(false).unwrap().text(), "hello, world\n");
}

/// `=404`: the status (with the configured page), and `$uri.html`.
#[test]
fn a_code_and_a_suffix() {
    let s = Server::start(|c| {
        try_files("$uri $uri.html $uri/ =404")(c);
        c.error_pages.not_found = Some("/404.html".into());
    });
    std::fs::write(s.root.join("about.html"), "about\n").unwrap();
    std::fs::write(s.root.join("404.html"), "gone\n").unwrap();
    assert_eq!(get(&s, "/about").text(), "about\n");
    let a = get(&s, "/nope");
    assert_eq!((a.status, a.text().as_str()), (404, "gone\n"));
    let g = Server::start(try_files("$uri =410"));
    assert_eq!(get(&g, "/nope").status, 410);
    assert_eq!(get(&g, "/a.txt").status, 200);
}

/// Candidates go through the path checks: no climbing out, no link out
/// of the root, a missing fallback is a plain 404; a change on disk shows
/// at once.
#[test]
fn candidates_are_checked_like_requests() {
    let s = Server::start(try_files("$uri /fallback/$uri /index.html"));
    std::os::unix::fs::symlink(s.dir.join("secret.txt"), s.root.join("out.txt")).unwrap();
    let a = get(&s, "/out.txt");
    assert_eq!((a.status, a.text().as_str()), (200, "<h1>home</h1>\n"));
    assert_eq!(get(&s, "/../secret.txt").status, 400);
    std::fs::create_dir(s.root.join("fallback")).unwrap();
    std::fs::write(s.root.join("fallback/x.txt"), "fb\n").unwrap();
    assert_eq!(get(&s, "/x.txt").text(), "fb\n");
    std::fs::write(s.root.join("x.txt"), "real\n").unwrap();
    assert_eq!(get(&s, "/x.txt").text(), "real\n");
    std::fs::remove_file(s.root.join("index.html")).unwrap();
    assert_eq!(get(&s, "/nope").status, 404);
}

fn fetch(args: &[&str], url: &str) -> (String, String, String) {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "10", "--path-as-is", "-D", "-"])
        .args(args)
        .arg(url)
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.lines().next().unwrap_or_default().to_string();
    let ctype = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("content-type:"))
        .unwrap_or_default()
        .to_string();
    let body = if status.contains(" 200 ") { body.to_string() } else { String::new() };
    (status, ctype, body)
}

/// Status, type and body (error pages aside) against nginx with the same
/// `try_files`, for the two common forms.
#[test]
fn answers_match_nginx() {
    for list in ["$uri $uri/ /index.html", "$uri $uri/ =404"] {
        let s = Server::start(try_files(list));
        let nginx = Nginx::start(&s.root, &s.dir.join("nginx"), &format!("try_files {list};"));
        let sock = nginx.sock.to_str().unwrap().to_string();
        for p in [
            "/",
            "/a.txt",
            "/nope",
            "/sub",
            "/sub/",
            "/empty",
            "/empty/",
            "/deep/x/y",
            "/a.txt/",
            "/1k.bin",
            "/nope?q=1",
            "/sub/index.html",
            "/sub/nope",
        ] {
            let n = fetch(&["--unix-socket", &sock], &format!("http://localhost{p}"));
            let o = fetch(&[], &format!("http://{}{p}", s.addr));
            assert_eq!(o, n, "try_files {list}; GET {p}");
        }
    }
}

/// With `gzip_static`, a file candidate is taken only if its own file is
/// there (then a gzip client gets its twin), as nginx's `try_files`
/// tests the file: a directory `/d` beside `d.gz`, or a name that has
/// only its `.gz`, went to gzip clients as the twin while every other
/// client, and nginx, went on to the next candidate.
#[test]
fn a_gzip_twin_alone_does_not_make_a_candidate() {
    let list = "$uri $uri.html =404";
    let s = Server::start(|c| {
        try_files(list)(c);
        c.gzip_static = spindle_http::config::GzipStatic::On;
    });
    std::fs::create_dir(s.root.join("d")).unwrap();
    std::fs::write(s.root.join("d.gz"), "gz of d").unwrap();
    std::fs::write(s.root.join("only.js.gz"), "gz of only").unwrap();
    std::fs::write(s.root.join("a.css"), "css").unwrap();
    std::fs::write(s.root.join("a.css.gz"), "gz of css").unwrap();
    std::fs::write(s.root.join("page.html"), "page").unwrap();
    std::fs::write(s.root.join("page.gz"), "gz of page").unwrap();
    let nginx = Nginx::start(&s.root, &s.dir.join("nginx"), &format!("try_files {list}; gzip_static on;"));
    let sock = nginx.sock.to_str().unwrap().to_string();
    let gz = ["-H", "Accept-Encoding: gzip"];
    for (p, status, body) in
        [("/d", 404, ""), ("/only.js", 404, ""), ("/a.css", 200, "gz of css"), ("/page", 200, "page")]
    {
        let o = fetch(&gz, &format!("http://{}{p}", s.addr));
        assert!(o.0.contains(&format!(" {status} ")) && o.2 == body, "{p}: {o:?}");
        let n = fetch(&[&["--unix-socket", &sock][..], &gz].concat(), &format!("http://localhost{p}"));
        assert_eq!((o.0, o.2), (n.0, n.2), "{p} against nginx");
    }
}
