//! The crash test: a real server process with `appendfsync always` is
//! killed with SIGKILL after a random number of acknowledged writes (with
//! one more write in flight), restarted on the same directory, and every
//! acknowledged write must be there (the one in flight may or may not be).
//! Also: SIGTERM saves a snapshot when save points are configured.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const TIMEOUT: Duration = Duration::from_secs(20);

fn fresh_dir(tag: &str) -> PathBuf {
    common::named_dir(&format!("crash-{tag}"))
}

/// Starts the server binary; returns it and its port.
fn spawn(dir: &Path, extra: &[&str]) -> (Child, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_spindle-kv-server"))
        .args(["--port", "0", "--dir"])
        .arg(dir)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn spindle-kv-server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("read the port");
    let port = line.trim().strip_prefix("port ").and_then(|p| p.parse().ok()).unwrap_or_else(|| {
        let _ = child.kill();
        panic!("the server did not print its port: {line:?}")
    });
    (child, port)
}

struct Client {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    /// Connects once the server has loaded its data: it prints its port
    /// before it loads, and answers `-LOADING` until it is done.
    fn connect(port: u16) -> Client {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut c = Client { s, buf: Vec::new() };
        let deadline = Instant::now() + TIMEOUT;
        loop {
            c.send(&["PING"]);
            let reply = c.line();
            if reply == "+PONG" {
                return c;
            }
            assert!(reply.starts_with("-LOADING"), "PING: {reply}");
            assert!(Instant::now() < deadline, "the server did not finish loading");
            std::thread::yield_now();
        }
    }

    fn send(&mut self, args: &[&str]) {
        let mut out = format!("*{}\r\n", args.len());
        for a in args {
            out.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        self.s.write_all(out.as_bytes()).expect("send");
    }

    /// One reply line (simple replies, integers, and bulk heads are enough here).
    fn line(&mut self) -> String {
        loop {
            if let Some(p) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let l = String::from_utf8_lossy(&self.buf[..p]).into_owned();
                self.buf.drain(..p + 2);
                return l;
            }
            let mut tmp = [0u8; 4096];
            let n = self.s.read(&mut tmp).expect("read reply");
            assert!(n > 0, "the server closed the connection");
            self.buf.extend_from_slice(&tmp[..n]);
        }
    }

    fn get(&mut self, key: &str) -> Option<String> {
        self.send(&["GET", key]);
        let head = self.line();
        if head == "$-1" {
            return None;
        }
        Some(self.line())
    }
}

fn seed() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
}

#[test]
fn every_acknowledged_write_survives_sigkill() {
    let dir = fresh_dir("kill");
    let args = ["--appendonly", "yes", "--appendfsync", "always", "--save", ""];
    let started = Instant::now();
    let mut rng = seed();
    // The acknowledged state: keys k0..k(acked-1) hold their index, and
    // `counter` was incremented once per acknowledged round.
    let mut acked = 0u64;
    for round in 0..4 {
        let (mut child, port) = spawn(&dir, &args);
        let mut c = Client::connect(port);
        // Everything acknowledged before is there.
        for i in (0..acked).step_by(((acked / 200).max(1)) as usize) {
            assert_eq!(c.get(&format!("k{i}")), Some(i.to_string()), "round {round}: key k{i} lost");
        }
        let counter: u64 = c.get("counter").map_or(0, |v| v.parse().unwrap());
        assert!(counter == acked || counter == acked + 1, "round {round}: counter {counter}, acked {acked}");
        // The in-flight write of the last round may have landed; make the
        // state exact again.
        c.send(&["SET", "counter", &acked.to_string()]);
        assert_eq!(c.line(), "+OK");
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let writes = 200 + rng % 800;
        for _ in 0..writes {
            let i = acked;
            c.send(&["SET", &format!("k{i}"), &i.to_string()]);
            assert_eq!(c.line(), "+OK");
            c.send(&["INCR", "counter"]);
            assert_eq!(c.line(), format!(":{}", i + 1));
            acked += 1;
        }
        // One more write in flight, then SIGKILL.
        c.send(&["INCR", "counter"]);
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        assert!(started.elapsed() < Duration::from_secs(120), "the crash test is taking too long");
    }
    let (mut child, port) = spawn(&dir, &args);
    let mut c = Client::connect(port);
    for i in 0..acked {
        assert_eq!(c.get(&format!("k{i}")), Some(i.to_string()), "key k{i} lost");
    }
    let counter: u64 = c.get("counter").unwrap().parse().unwrap();
    assert!(counter == acked || counter == acked + 1, "counter {counter}, acked {acked}");
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sigterm_saves_a_snapshot_when_save_points_are_set() {
    let dir = fresh_dir("term");
    let (mut child, port) = spawn(&dir, &["--save", "3600 1"]);
    let mut c = Client::connect(port);
    c.send(&["SET", "kept", "yes"]);
    assert_eq!(c.line(), "+OK");
    // std can only SIGKILL; kill(1) sends SIGTERM.
    let st = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(st.success());
    let deadline = Instant::now() + TIMEOUT;
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(dir.join("dump.rdb").exists(), "no snapshot written at shutdown");
    let (mut child, port) = spawn(&dir, &["--save", ""]);
    let mut c = Client::connect(port);
    assert_eq!(c.get("kept").as_deref(), Some("yes"));
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Waits (bounded) for `child` to end and returns how it ended.
fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        assert!(Instant::now() < deadline, "the server did not end");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A fatal signal (DEBUG SEGFAULT, or SIGABRT from outside) and a panic
/// (DEBUG PANIC) leave a crash report with a stack trace in the log file,
/// as Redis's do, and the process still dies of them.
#[test]
fn crashes_leave_a_report_in_the_log() {
    use std::os::unix::process::ExitStatusExt;
    let dir = fresh_dir("report");
    let log = dir.join("kv.log");
    let args = ["--save", "", "--enable-debug-command", "yes", "--logfile", log.to_str().unwrap()];
    let (mut child, port) = spawn(&dir, &args);
    Client::connect(port).send(&["DEBUG", "SEGFAULT"]);
    assert_eq!(wait_exit(&mut child).signal(), Some(libc::SIGSEGV));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("crashed by signal: 11\n------ STACK TRACE ------\n"), "{text}");
    assert!(text.contains("=== SPINDLE KV BUG REPORT END ==="), "{text}");

    std::fs::remove_file(&log).unwrap();
    let (mut child, _) = spawn(&dir, &args);
    let st = Command::new("kill").args(["-ABRT", &child.id().to_string()]).status().unwrap();
    assert!(st.success());
    assert_eq!(wait_exit(&mut child).signal(), Some(libc::SIGABRT));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("crashed by signal: 6\n"), "{text}");

    std::fs::remove_file(&log).unwrap();
    let (mut child, port) = spawn(&dir, &args);
    Client::connect(port).send(&["DEBUG", "PANIC"]);
    assert!(!wait_exit(&mut child).success());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("panicked") && text.contains("DEBUG PANIC called"), "{text}");
    assert!(text.contains("------ STACK TRACE ------"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn signal(child: &Child, sig: &str) {
    let st = Command::new("kill").args([sig, &child.id().to_string()]).status().unwrap();
    assert!(st.success());
}

/// Polls `cond` until it holds, failing after [`TIMEOUT`].
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Redis 7's shutdown on a signal: scheduled for the cron, so SHUTDOWN
/// ABORT can cancel it; a final save that fails keeps the server running
/// (nothing is lost by exiting without it); SHUTDOWN NOSAVE then stops.
#[test]
fn a_signal_shutdown_can_be_aborted_and_a_failed_final_save_keeps_serving() {
    let dir = fresh_dir("abort");
    let log = dir.join("kv.log");
    let args = ["--save", "3600 1", "--enable-debug-command", "yes", "--logfile", log.to_str().unwrap()];
    let (mut child, port) = spawn(&dir, &args);
    let mut c = Client::connect(port);
    c.send(&["SHUTDOWN", "ABORT"]);
    assert_eq!(c.line(), "-ERR No shutdown in progress.");
    c.send(&["DEBUG", "PAUSE-CRON", "1"]);
    assert_eq!(c.line(), "+OK");
    signal(&child, "-TERM");
    wait_for("the signal to be logged", || {
        std::fs::read_to_string(&log).unwrap_or_default().contains("Received SIGTERM scheduling shutdown")
    });
    c.send(&["SHUTDOWN", "ABORT"]);
    assert_eq!(c.line(), "+OK");
    c.send(&["DEBUG", "PAUSE-CRON", "0"]);
    assert_eq!(c.line(), "+OK");
    // A save that cannot succeed: dump.rdb is a folder.
    c.send(&["SET", "k", "v"]);
    assert_eq!(c.line(), "+OK");
    std::fs::create_dir(dir.join("dump.rdb")).unwrap();
    signal(&child, "-TERM");
    wait_for("the refused shutdown to be logged", || {
        std::fs::read_to_string(&log).unwrap_or_default().contains("errors trying to shut down the server")
    });
    assert!(child.try_wait().unwrap().is_none(), "the server exited without its final save");
    c.send(&["PING"]);
    assert_eq!(c.line(), "+PONG");
    c.send(&["SHUTDOWN", "NOSAVE"]);
    assert!(wait_exit(&mut child).success());
    assert!(std::fs::read_to_string(&log).unwrap().contains("ready to exit, bye bye"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A second SIGINT while the final snapshot is being written exits at
/// once, leaving no temporary file (Redis's "you insist").
#[test]
fn a_second_sigint_during_the_final_save_exits_at_once() {
    let dir = fresh_dir("insist");
    let (mut child, port) = spawn(&dir, &["--save", "3600 1"]);
    let mut c = Client::connect(port);
    for i in 0..20 {
        c.send(&["SET", &i.to_string(), "v"]);
        assert_eq!(c.line(), "+OK");
    }
    // 20 keys at 100 ms each: a final save of 2 s.
    c.send(&["CONFIG", "SET", "rdb-key-save-delay", "100000"]);
    assert_eq!(c.line(), "+OK");
    let temp = dir.join(format!("temp-{}.rdb", child.id()));
    signal(&child, "-INT");
    wait_for("the final save to start", || temp.exists());
    signal(&child, "-INT");
    assert_eq!(wait_exit(&mut child).code(), Some(1));
    assert!(!temp.exists(), "the temporary snapshot is left behind");
    assert!(!dir.join("dump.rdb").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
