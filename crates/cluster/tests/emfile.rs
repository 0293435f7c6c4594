//! Out of descriptors: a worker whose `accept` fails with `EMFILE` reports
//! it, pauses instead of spinning, and serves the queued connections once
//! descriptors are free again.

mod common;

use common::{wait_until, Server, WAIT};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0)
}

#[test]
fn emfile_pauses_accepting_and_recovers() {
    if Command::new("prlimit").arg("--version").output().is_err() {
        eprintln!("prlimit not installed; skipping");
        return;
    }
    let s = Server::start("", &["--workers", "1"]);
    let worker = s.wait_workers(1, 1)[0];
    // Room for exactly three more connections.
    let limit = open_fds(worker) + 3;
    let st = Command::new("prlimit")
        .arg(format!("--pid={worker}"))
        .arg(format!("--nofile={limit}:{limit}"))
        .status()
        .unwrap();
    assert!(st.success());
    let held: Vec<TcpStream> = (0..3)
        .map(|_| {
            let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
            c.write_all(b"slow\n").unwrap();
            c
        })
        .collect();
    assert!(wait_until(WAIT, || open_fds(worker) >= limit));
    // These wait in the backlog: accept says EMFILE.
    let queued: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
            c.set_read_timeout(Some(WAIT)).unwrap();
            c.write_all(b"hi\n").unwrap();
            c
        })
        .collect();
    let emfile =
        || s.stderr().iter().filter(|l| l.contains("accept") && l.contains("Too many open files")).count();
    assert!(wait_until(WAIT, || emfile() >= 1), "{:?}", s.stderr());
    // Paused, not spinning: about one report per 100 ms pause.
    let first = emfile();
    assert!(
        !wait_until(Duration::from_millis(300), || emfile() > first + 6),
        "accept loop spins: {}",
        emfile()
    );
    // Free the descriptors: the queued connections are served.
    for mut c in held {
        c.write_all(b"done\n").unwrap();
        let mut r = String::new();
        c.set_read_timeout(Some(WAIT)).unwrap();
        c.read_to_string(&mut r).unwrap();
        assert!(r.starts_with("pid="), "{r:?}");
    }
    for mut c in queued {
        let mut r = String::new();
        c.read_to_string(&mut r).unwrap();
        assert!(r.starts_with("pid="), "{r:?}");
    }
}
