//! `oom-score-adj` and `oom-score-adj-values` (Redis's unit/oom-score-adj):
//! the server process, and the children it forks, write their
//! `/proc/PID/oom_score_adj`. A real server process, so that the file
//! written is its own and not the test runner's.

mod common;

use common::process::ServerProcess;
use std::process::Command;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(20);

struct Server {
    process: ServerProcess,
    conn: redis::Connection,
}

impl Server {
    fn start(tag: &str) -> Server {
        let dir = common::named_dir(&format!("oom-{tag}"));
        let process = ServerProcess::start(&["--port", "0", "--save", "", "--dir", dir.to_str().unwrap()]);
        let client = redis::Client::open(format!("redis://127.0.0.1:{}", process.port)).unwrap();
        let conn = client.get_connection_with_timeout(TIMEOUT).expect("connect");
        conn.set_read_timeout(Some(TIMEOUT)).unwrap();
        Server { process, conn }
    }

    fn config_set(&mut self, pairs: &[&str]) -> redis::RedisResult<()> {
        let mut cmd = redis::cmd("CONFIG");
        cmd.arg("SET").arg(pairs);
        cmd.query(&mut self.conn)
    }

    fn pid(&self) -> u32 {
        self.process.pid()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A BGSAVE child first: it would outlive its parent by a second.
        // (The process itself is killed when `process` drops.)
        let pid = self.pid();
        let kids = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        for kid in kids.split_whitespace() {
            let _ = Command::new("kill").args(["-9", kid]).status();
        }
    }
}

fn score(pid: u32) -> i32 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/oom_score_adj")).expect("read oom_score_adj");
    text.trim().parse().expect("a number")
}

fn set_score(pid: u32, v: i32) {
    std::fs::write(format!("/proc/{pid}/oom_score_adj"), format!("{v}\n")).expect("write oom_score_adj");
}

/// Lowering an adjustment needs CAP_SYS_RESOURCE: the parts of these tests
/// that lower one run as root only (CI runs as root).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

#[test]
fn the_server_sets_and_restores_its_score() {
    let mut srv = Server::start("main");
    let pid = srv.pid();
    let base = score(pid);
    // Off by default: values alone do not touch the file.
    srv.config_set(&["oom-score-adj-values", "10 20 30"]).unwrap();
    assert_eq!(score(pid), base);
    srv.config_set(&["oom-score-adj", "yes"]).unwrap();
    assert_eq!(score(pid), base + 10);
    srv.config_set(&["oom-score-adj-values", "15 20 30"]).unwrap();
    assert_eq!(score(pid), base + 15);
    let got: Vec<String> =
        redis::cmd("CONFIG").arg("GET").arg("oom-score-adj*").query(&mut srv.conn).unwrap();
    assert_eq!(got, ["oom-score-adj", "yes", "oom-score-adj-values", "15 20 30"]);
    if !is_root() {
        return;
    }
    // Turning it off puts back what the process had before.
    srv.config_set(&["oom-score-adj", "no"]).unwrap();
    assert_eq!(score(pid), base);
    // The base is read when it is turned on: someone else set 22 meanwhile.
    set_score(pid, 22);
    srv.config_set(&["oom-score-adj-values", "9 9 9", "oom-score-adj", "yes"]).unwrap();
    assert_eq!(score(pid), 31);
    srv.config_set(&["oom-score-adj", "absolute"]).unwrap();
    assert_eq!(score(pid), 9);
    srv.config_set(&["oom-score-adj", "relative"]).unwrap();
    assert_eq!(score(pid), 31);
    srv.config_set(&["oom-score-adj", "no"]).unwrap();
    assert_eq!(score(pid), 22);
    // Out of range: Redis's words, nothing changed.
    let err = srv.config_set(&["oom-score-adj-values", "-2001 0 0"]).unwrap_err();
    assert!(err.to_string().contains("must be between -2000 and 2000"), "{err}");
    assert_eq!(score(pid), 22);
}

#[test]
fn a_background_child_takes_the_third_value() {
    let mut srv = Server::start("child");
    let pid = srv.pid();
    let base = score(pid);
    srv.config_set(&["oom-score-adj-values", "15 20 30", "oom-score-adj", "yes"]).unwrap();
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut srv.conn).unwrap();
    // The child sleeps a second per key written, so it is there to look at.
    srv.config_set(&["rdb-key-save-delay", "1000000"]).unwrap();
    let _: String = redis::cmd("BGSAVE").query(&mut srv.conn).unwrap();
    let children = format!("/proc/{pid}/task/{pid}/children");
    let start = Instant::now();
    let child_score = loop {
        let kids = std::fs::read_to_string(&children).unwrap_or_default();
        let scores: Vec<i32> = kids
            .split_whitespace()
            .filter_map(|c| std::fs::read_to_string(format!("/proc/{c}/oom_score_adj")).ok())
            .filter_map(|s| s.trim().parse().ok())
            .collect();
        if scores.contains(&(base + 30)) {
            break base + 30;
        }
        assert!(start.elapsed() < TIMEOUT, "no child with score {}: {kids:?} {scores:?}", base + 30);
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(child_score, base + 30);
    // The server itself keeps its own.
    assert_eq!(score(pid), base + 15);
}
