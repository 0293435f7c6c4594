//! Operations: workers that give up root (`user`), the error log and its
//! reopening after the drop, `worker_connections` with the accept mutex
//! and with the `master` strategy, and the wake-ups of the `master`
//! strategy's workers.

mod common;

use common::{ask, field, wait_until, Server, DEMO, WAIT};
use spindle_cluster::WorkerUser;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::MetadataExt;
use std::time::Duration;

fn is_root() -> bool {
    // SAFETY: geteuid cannot fail and touches no memory.
    unsafe { libc::geteuid() == 0 }
}

/// The `Uid:` or `Gid:` line of `/proc/PID/status`: real, effective,
/// saved, file-system ids.
fn ids(pid: u32, key: &str) -> Vec<u32> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = s.lines().find_map(|l| l.strip_prefix(key)).unwrap();
    line.split_whitespace().map(|v| v.parse().unwrap()).collect()
}

/// Per-slot counters from the demo's `stats` reply.
fn slots(server: &Server) -> HashMap<usize, HashMap<String, i64>> {
    let text = server.ask("stats").unwrap();
    let mut out = HashMap::new();
    for line in text.lines().filter(|l| l.starts_with("slot=")) {
        let kv: HashMap<String, i64> = line
            .split_whitespace()
            .filter_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                Some((k.to_string(), v.parse().ok()?))
            })
            .collect();
        out.insert(kv["slot"] as usize, kv);
    }
    out
}

#[test]
fn workers_run_as_the_configured_user_and_reopen_logs_after_the_drop() {
    if !is_root() {
        eprintln!("skipped: dropping privileges needs the tests to run as root");
        return;
    }
    let nobody = WorkerUser::lookup("nobody").unwrap();
    let dir = common::Dir::new("user");
    let log = dir.0.join("error.log");
    let log_arg = log.to_str().unwrap().to_string();
    let server = Server::start("", &["--workers", "2", "--user", "nobody", "--error-log", &log_arg]);
    let pids = server.wait_workers(1, 2);
    for &pid in &pids {
        assert_eq!(ids(pid, "Uid:"), vec![nobody.uid; 4], "worker {pid}");
        assert_eq!(ids(pid, "Gid:"), vec![nobody.gid; 4], "worker {pid}");
    }
    assert_eq!(ids(server.pid(), "Uid:")[1], 0, "the master stays root");
    let reply = server.ask("hi").unwrap();
    assert!(pids.contains(&common::reply_pid(&reply).unwrap()), "{reply}");
    assert!(std::fs::read_to_string(&log).unwrap().contains("master started"));

    // Rotate: rename, USR1. The master recreates the file as root and
    // gives it to nobody; the workers, as nobody, reopen it and write.
    std::fs::rename(&log, dir.0.join("error.log.1")).unwrap();
    server.signal("USR1");
    let reopened = wait_until(WAIT, || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.matches("worker reopened its logs").count() == 2)
    });
    assert!(reopened, "new log: {:?}", std::fs::read_to_string(&log));
    assert_eq!(std::fs::metadata(&log).unwrap().uid(), nobody.uid);
    let old = std::fs::read_to_string(dir.0.join("error.log.1")).unwrap();
    assert!(!old.contains("worker reopened"), "{old}");
    let reply = server.ask("hi").unwrap();
    assert_eq!(field(&reply, "reopens"), Some("1"), "{reply}");
}

#[test]
fn an_unknown_user_is_refused_at_start_and_on_reload() {
    let out = std::process::Command::new(DEMO)
        .args(["--listen", "127.0.0.1:0", "--user", "no-such-user-here"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown user 'no-such-user-here'"), "{err}");

    let server = Server::start("workers=1\n", &[]);
    let first = server.wait_workers(1, 1);
    server.set_config("workers=1\nuser=no-such-user-here:nogroup\n");
    server.signal("HUP");
    let refused = wait_until(WAIT, || server.stderr().iter().any(|l| l.contains("reload refused")));
    assert!(refused, "{:?}", server.stderr());
    assert!(server.stderr().iter().any(|l| l.contains("unknown user")), "{:?}", server.stderr());
    let reply = server.ask("hi").unwrap();
    assert_eq!(common::reply_pid(&reply), Some(first[0]), "the old worker keeps serving");
}

/// A connection the demo holds open (`slow`) until [`Held::finish`].
struct Held(TcpStream);

impl Held {
    fn open(port: u16) -> Held {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(WAIT)).unwrap();
        s.write_all(b"slow\n").unwrap();
        Held(s)
    }

    fn finish(mut self) -> String {
        self.0.write_all(b"done\n").unwrap();
        let mut out = String::new();
        self.0.read_to_string(&mut out).unwrap();
        out
    }
}

#[test]
fn a_full_worker_stops_taking_connections_and_the_other_gets_them() {
    // Short mutex turns so the test is quick; 16 connections per worker:
    // a worker above 14 sits its turns out, at 16 it stops accepting.
    let server = Server::start(
        "accept_mutex_delay_ms=20\n",
        &["--workers", "2", "--accept", "mutex", "--worker-connections", "16"],
    );
    server.wait_workers(1, 2);
    let mut held: Vec<Held> = (0..24).map(|_| Held::open(server.port)).collect();
    // Every held connection is being served (plus the stats request).
    let mut per = HashMap::new();
    let all_in = wait_until(WAIT, || {
        per = slots(&server);
        per.values().map(|s| s["active"]).sum::<i64>() == 25
    });
    assert!(all_in, "not all 24 held connections were taken: {per:?}");
    let active: Vec<i64> = per.values().map(|s| s["active"]).filter(|&a| a > 0).collect();
    assert_eq!(active.len(), 2, "both workers serve: {per:?}");
    assert!(active.iter().all(|&a| a <= 16), "no worker above worker_connections: {per:?}");

    // Fill both workers: a further connection waits in the backlog...
    held.extend((0..8).map(|_| Held::open(server.port)));
    // ... until one connection closes.
    let extra = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    let last = held.len() - 1;
    waits_until_one_finishes(extra, held, last);
}

/// Asks on `extra`, which must wait while every worker is full, then
/// finishes `held[first]` and checks that `extra` is served; then
/// finishes the rest.
fn waits_until_one_finishes(mut extra: TcpStream, mut held: Vec<Held>, first: usize) {
    extra.write_all(b"hi\n").unwrap();
    extra.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let mut buf = [0u8; 64];
    assert!(extra.read(&mut buf).is_err(), "served although every worker is full");
    let done = held.remove(first).finish();
    assert!(done.starts_with("pid="), "{done}");
    extra.set_read_timeout(Some(WAIT)).unwrap();
    let mut reply = String::new();
    extra.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("pid="), "{reply}");
    for h in held {
        assert!(h.finish().starts_with("pid="));
    }
}

#[test]
fn master_strategy_hands_a_full_worker_nothing_more() {
    // 16 connections per worker: 32 held ones fill both. They arrive in
    // a burst, so the master hands many of them out in one batch, before
    // any worker has counted them as active: it must count what it has
    // handed, not read the gauge, or a worker gets more than 16 and the
    // surplus waits in its queue while the other worker has room.
    let server = Server::start("", &["--workers", "2", "--accept", "master", "--worker-connections", "16"]);
    server.wait_workers(1, 2);
    let mut streams: Vec<TcpStream> =
        (0..33).map(|_| TcpStream::connect(("127.0.0.1", server.port)).unwrap()).collect();
    let extra = streams.pop().unwrap();
    let held: Vec<Held> = streams
        .into_iter()
        .map(|mut s| {
            s.set_read_timeout(Some(WAIT)).unwrap();
            s.write_all(b"slow\n").unwrap();
            Held(s)
        })
        .collect();
    // The 33rd waits in the backlog: both workers are full. Whichever
    // worker the first finished connection frees, the waiting one goes
    // there: it was never queued at the full one.
    waits_until_one_finishes(extra, held, 0);
}

#[test]
fn master_strategy_counts_the_workers_channel_wakeups() {
    let server = Server::start("", &["--workers", "2", "--accept", "master"]);
    server.wait_workers(1, 2);
    let before = slots(&server);
    for _ in 0..20 {
        assert!(ask(server.port, "hi").unwrap().starts_with("pid="));
    }
    let after = slots(&server);
    let master = spindle_cluster::master::MASTER_SLOT;
    let delta = |k: &str, worker: bool| -> i64 {
        after
            .iter()
            .filter(|(slot, _)| (**slot != master) == worker)
            .map(|(slot, s)| s[k] - before.get(slot).map_or(0, |b| b[k]))
            .sum()
    };
    // One connection at a time: each one wakes the master, then a worker.
    // Not always exactly one wake-up each: a master descheduled between
    // handing a connection over and the `accept` that would say `EAGAIN`
    // can find the next connection already queued and take both in one
    // wake-up (seen on a loaded machine). So: most, not all.
    let accepts = delta("accepts", true);
    assert!(accepts >= 20, "{after:?}");
    assert!(delta("wakeups", false) >= 10, "master: {after:?}");
    assert!(delta("wakeups", true) >= 10, "workers' channel reads count: {after:?}");
}

/// Every listener has SO_REUSEPORT, which lets a socket of the same user
/// bind beside a listening one: a second master started on a running
/// one's port came up and took a share of its connections. Like nginx
/// ("Address already in use") it must refuse to start instead.
#[test]
fn a_second_master_on_a_port_in_use_refuses_to_start() {
    let s = Server::start("reply=first\n", &["--workers", "1"]);
    s.wait_workers(1, 1);
    let mut second = std::process::Command::new(DEMO)
        .args(["--listen", &format!("127.0.0.1:{}", s.port), "--workers", "1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut status = None;
    wait_until(WAIT, || {
        status = second.try_wait().unwrap();
        status.is_some()
    });
    if status.is_none() {
        let _ = second.kill();
        let _ = second.wait();
    }
    let mut err = String::new();
    second.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(status.is_some_and(|st| !st.success()), "the second master started: {err}");
    assert!(err.contains("Address already in use"), "{err}");
    for _ in 0..20 {
        assert_eq!(field(&ask(s.port, "hi").unwrap(), "reply"), Some("first"));
    }
}
