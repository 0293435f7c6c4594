//! Clients that ask for a huge directory listing and do not read it hold
//! one shared copy between them, not one each. (Its own file: the test
//! measures the process's resident memory, which tests running beside it
//! would change.)

mod common;
use common::*;
use spindle_http::config::Autoindex;
use std::io::Read;

/// Resident memory of this process, in KiB.
fn rss_kib() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A listing of about 11 MB (30,000 names of 250 bytes) asked for by 16
/// clients that read its head and nothing more. Each connection used to
/// build the page in its own output buffer and hold it until the send
/// timeout: 16 copies, some 180 MB (a QA run: four clients on 100,000
/// names held 448 MB). Now the page is built for each request (so it is
/// never stale) but the connections sending the same bytes share one
/// buffer, and the others are dropped at once; each client still gets
/// the whole page.
#[test]
fn clients_that_do_not_read_a_huge_listing_share_one_copy() {
    let s = Server::start(|c| c.autoindex = Some(Autoindex::default()));
    let d = s.root.join("big");
    std::fs::create_dir(&d).unwrap();
    for i in 0..30_000 {
        std::fs::File::create(d.join(format!("{i:05}-{}", "n".repeat(244)))).unwrap();
    }
    // One whole, to warm the allocator and to compare with.
    let whole = get(&s, "/big/");
    assert_eq!(whole.status, 200);
    assert!(whole.body.len() > 10_000_000, "{}", whole.body.len());
    let before = rss_kib();
    let mut holders = Vec::new();
    for _ in 0..16 {
        let mut c = s.connect();
        std::io::Write::write_all(&mut c, b"GET /big/ HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let got = read_head(&mut c);
        holders.push((c, got));
    }
    let grown = rss_kib().saturating_sub(before);
    eprintln!("16 clients not reading an {} byte listing: {grown} KiB", whole.body.len());
    assert!(grown < 48 << 10, "16 clients not reading grew the process by {grown} KiB");
    // Each gets the whole page, the same bytes.
    for (c, got) in holders {
        let mut r = Reader::new(c);
        r.send(b"");
        let head_end = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let mut body = got[head_end..].to_vec();
        let len: usize = String::from_utf8_lossy(&got[..head_end])
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: ").map(|v| v.trim().parse().unwrap()))
            .unwrap();
        let mut chunk = vec![0u8; 1 << 16];
        while body.len() < len {
            let n = r.stream.read(&mut chunk).unwrap();
            assert!(n > 0, "closed inside the body");
            body.extend_from_slice(&chunk[..n]);
        }
        assert!(body == whole.body, "a shared listing differs");
    }
}
