//! Out of descriptors: a worker whose `accept` fails with `EMFILE` reports
//! it, pauses instead of spinning, and serves the queued connections once
//! descriptors are free again.
//!
//! The workers run as root (`--user`): the tests lower a worker's limit
//! with `prlimit`, which a root without `CAP_SYS_RESOURCE` (a container's)
//! may only do to a process of its own uid, not to the default `nobody`.

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
    let s = Server::start("", &["--workers", "1", "--user", "root"]);
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

/// CPU ticks (user + system) a process has used.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap().split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// Lowers `pid`'s descriptor limit to the descriptors it has open: every
/// `accept` fails with `EMFILE`.
fn no_more_fds(pid: u32) {
    // The lowest free number: the limit bounds descriptor numbers.
    let used: std::collections::HashSet<usize> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    let limit = (0..).find(|n| !used.contains(n)).unwrap();
    let st = Command::new("prlimit")
        .arg(format!("--pid={pid}"))
        .arg(format!("--nofile={limit}:{limit}"))
        .status()
        .unwrap();
    assert!(st.success());
}

/// An `EPOLLEXCLUSIVE` listener is level-triggered: left in the poller
/// during the EMFILE pause with connections queued, it made every wait
/// return at once, and the worker spun (2.5 s of CPU in 5 s for two
/// workers) for as long as it was out of descriptors.
#[test]
fn an_exclusive_worker_out_of_descriptors_does_not_spin() {
    if Command::new("prlimit").arg("--version").output().is_err() {
        eprintln!("prlimit not installed; skipping");
        return;
    }
    let s = Server::start("", &["--workers", "1", "--accept", "exclusive", "--user", "root"]);
    let worker = s.wait_workers(1, 1)[0];
    no_more_fds(worker);
    let _queued: Vec<TcpStream> =
        (0..3).map(|_| TcpStream::connect(("127.0.0.1", s.port)).unwrap()).collect();
    let emfile = || s.stderr().iter().any(|l| l.contains("Too many open files"));
    assert!(wait_until(WAIT, emfile), "{:?}", s.stderr());
    let before = cpu_ticks(worker);
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks(worker) - before;
    assert!(used < 10, "the worker used {used} ticks of CPU in 1 s while out of descriptors");
}

/// nginx gives the accept mutex up on EMFILE. A worker that kept it went
/// on failing to accept, pausing and failing again while it held the
/// mutex, so the connections waited although the other worker had
/// descriptors to spare.
#[test]
fn a_mutex_worker_out_of_descriptors_lets_the_other_accept() {
    if Command::new("prlimit").arg("--version").output().is_err() {
        eprintln!("prlimit not installed; skipping");
        return;
    }
    let s = Server::start(
        "accept_mutex_delay_ms=20\n",
        &["--workers", "2", "--accept", "mutex", "--user", "root"],
    );
    let workers = s.wait_workers(1, 2);
    no_more_fds(workers[0]);
    for i in 0..20 {
        let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        c.write_all(b"hi\n").unwrap();
        let mut r = String::new();
        let got = c.read_to_string(&mut r);
        assert!(got.is_ok() && r.starts_with("pid="), "request {i} not served: {got:?} {r:?}");
        assert_eq!(common::reply_pid(&r), Some(workers[1]));
    }
}

/// With the `master` strategy the master accepts and passes each
/// connection; a worker out of descriptors receives it without one, and
/// logged a warning for each: a line per connection, flooding the error
/// log just when the worker is swamped. Now once a second, with a count.
#[test]
fn a_master_strategy_worker_out_of_descriptors_does_not_flood_the_log() {
    if Command::new("prlimit").arg("--version").output().is_err() {
        eprintln!("prlimit not installed; skipping");
        return;
    }
    let s = Server::start("", &["--workers", "1", "--accept", "master", "--user", "root"]);
    let worker = s.wait_workers(1, 1)[0];
    no_more_fds(worker);
    let lost = || {
        s.stderr()
            .iter()
            .filter(|l| l.contains("without their descriptor") || l.contains("without its descriptor"))
            .count()
    };
    for _ in 0..30 {
        // Each is dropped: the connection ends unanswered.
        let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
        c.set_read_timeout(Some(WAIT)).unwrap();
        let _ = c.write_all(b"hi\n");
        let mut r = String::new();
        let _ = c.read_to_string(&mut r);
    }
    assert!(wait_until(WAIT, || lost() >= 1), "{:?}", s.stderr());
    let n = lost();
    assert!(n <= 3, "{n} warnings for 30 lost connections");
}
