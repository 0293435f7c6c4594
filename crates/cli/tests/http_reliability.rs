//! `spindle http` under load, as an operator uses it: reloads (`HUP`), a
//! worker killed with `SIGKILL`, and a binary upgrade (`USR2`, then `QUIT`
//! to the old master), each while wrk (Debian's `wrk`, installed by
//! `.ci/run`) or a client loop keeps requesting. wrk runs are short and
//! bounded; every wait polls a condition under a deadline; every process
//! started is killed when the test ends, pass or fail.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(20);

/// A temporary site: `1k.bin` and `index.html`, removed on drop.
struct Site {
    dir: PathBuf,
}

impl Site {
    fn new(tag: &str) -> Site {
        let dir = std::env::temp_dir().join(format!("spindle-http-rel-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("root")).unwrap();
        fs::write(dir.join("root/1k.bin"), vec![b'x'; 1024]).unwrap();
        fs::write(dir.join("root/index.html"), "<h1>spindle</h1>\n").unwrap();
        Site { dir }
    }

    fn root(&self) -> PathBuf {
        self.dir.join("root")
    }

    fn pid_file(&self) -> PathBuf {
        self.dir.join("spindle.pid")
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Processes to kill when the test ends: the master we started, and any
/// master a binary upgrade started (not our child, found by pid file).
struct Reaper {
    child: Option<Child>,
    pids: Vec<i32>,
}

impl Drop for Reaper {
    fn drop(&mut self) {
        for &pid in &self.pids {
            signal(pid, libc::SIGKILL);
        }
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn signal(pid: i32, sig: i32) -> bool {
    // SAFETY: kill(2) with a pid we started (or read from our own pid
    // file) and a valid signal number; it touches no memory of ours.
    unsafe { libc::kill(pid, sig) == 0 }
}

fn alive(pid: i32) -> bool {
    // Zombies count as gone: a master's exit is what the tests wait for.
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(20));
    }
}

/// The worker processes of `master` (its children).
fn workers(master: i32) -> Vec<i32> {
    let mut out = Vec::new();
    if let Ok(tasks) = fs::read_dir(format!("/proc/{master}/task")) {
        for t in tasks.flatten() {
            if let Ok(s) = fs::read_to_string(t.path().join("children")) {
                out.extend(s.split_whitespace().filter_map(|p| p.parse::<i32>().ok()));
            }
        }
    }
    out.sort_unstable();
    out
}

/// Starts `spindle http` on port 0 with `workers` workers and returns the
/// master, the address it printed, and a channel of its later log lines.
fn start(site: &Site, workers: usize, extra: &[&str]) -> (Reaper, SocketAddr, mpsc::Receiver<String>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_spindle"));
    cmd.arg("http")
        .arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--root")
        .arg(site.root())
        .arg("--workers")
        .arg(workers.to_string())
        .arg("--pid-file")
        .arg(site.pid_file())
        .args(extra)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn spindle http");
    let stderr = child.stderr.take().unwrap();
    let reaper = Reaper { child: Some(child), pids: Vec::new() };
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("[spindle] {line}");
            if tx.send(line).is_err() {
                // Keep draining so the server never blocks on a full pipe.
                continue;
            }
        }
    });
    let addr = loop {
        let line = rx.recv_timeout(LIMIT).expect("the master prints its address");
        if let Some(addr) = listening_addr(&line) {
            break addr;
        }
    };
    (reaper, addr, rx)
}

/// The address in a line like `... listening on 127.0.0.1:PORT ...`.
fn listening_addr(line: &str) -> Option<SocketAddr> {
    let rest = &line[line.find("listening on ")? + "listening on ".len()..];
    rest.split(|c: char| c.is_whitespace() || c == ',').next()?.parse().ok()
}

/// One request on a fresh connection; true for a 200 with the whole body.
fn get_ok(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(5)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(b"GET /1k.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").is_err() {
        return false;
    }
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp);
    resp.starts_with(b"HTTP/1.1 200") && resp.len() > 1024
}

/// What wrk said about a run.
#[derive(Debug)]
struct WrkReport {
    requests: u64,
    socket_errors: Option<String>,
    non_2xx: u64,
}

/// Runs wrk (keep-alive, 1 thread, `conns` connections) for `secs`
/// seconds in the background.
fn wrk(addr: SocketAddr, conns: usize, secs: u32) -> thread::JoinHandle<WrkReport> {
    let url = format!("http://{addr}/1k.bin");
    thread::spawn(move || {
        let out = Command::new("wrk")
            .args(["-t1", &format!("-c{conns}"), &format!("-d{secs}s"), "--timeout", "5s", &url])
            .output()
            .expect("wrk is installed (.ci/run installs it)");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        eprintln!("[wrk] {text}");
        let requests = text
            .lines()
            .find(|l| l.contains("requests in"))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let socket_errors = text.lines().find(|l| l.contains("Socket errors")).map(str::to_string);
        let non_2xx = text
            .lines()
            .find(|l| l.contains("Non-2xx"))
            .and_then(|l| l.split(':').nth(1))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
        WrkReport { requests, socket_errors, non_2xx }
    })
}

/// Established TCP connections whose local port is `port` (the server's
/// side of each client connection), from `/proc/net/tcp`.
fn established(port: u16) -> usize {
    let table = fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    let local = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 3 && f[1].ends_with(&local) && f[3] == "01"
        })
        .count()
}

fn master_pid(r: &Reaper) -> i32 {
    r.child.as_ref().unwrap().id() as i32
}

fn read_pid(path: &Path) -> Option<i32> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Ten reloads while wrk runs: no socket error, no non-2xx response.
#[test]
fn ten_reloads_under_load_lose_nothing() {
    let site = Site::new("hup");
    let (reaper, addr, _log) = start(&site, 2, &[]);
    let master = master_pid(&reaper);
    wait_until("two workers", || workers(master).len() == 2);
    assert!(get_ok(addr));
    let load = wrk(addr, 50, 6);
    // Let wrk connect, then reload ten times, each once the previous one's
    // new generation is up (its two workers replaced the old ones).
    wait_until("wrk to connect", || established(addr.port()) >= 50);
    for _ in 0..10 {
        let before = workers(master);
        assert!(signal(master, libc::SIGHUP));
        wait_until("a new generation", || {
            let now = workers(master);
            now.iter().filter(|p| !before.contains(p)).count() >= 2
        });
    }
    let report = load.join().unwrap();
    assert!(report.requests > 1000, "{report:?}");
    assert_eq!(report.socket_errors, None, "{report:?}");
    assert_eq!(report.non_2xx, 0, "{report:?}");
    assert!(get_ok(addr));
}

/// A worker killed with SIGKILL is replaced, and fresh connections keep
/// being served meanwhile and afterwards.
#[test]
fn killed_worker_is_replaced_while_others_serve() {
    let site = Site::new("kill");
    let (reaper, addr, _log) = start(&site, 2, &[]);
    let master = master_pid(&reaper);
    wait_until("two workers", || workers(master).len() == 2);
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let client = thread::spawn(move || {
        let (mut ok, mut failed) = (0u32, 0u32);
        while stop_rx.try_recv().is_err() {
            if get_ok(addr) {
                ok += 1;
            } else {
                failed += 1;
            }
        }
        (ok, failed)
    });
    let victim = workers(master)[0];
    assert!(signal(victim, libc::SIGKILL));
    wait_until("a replacement worker", || {
        let w = workers(master);
        w.len() == 2 && !w.contains(&victim)
    });
    for _ in 0..50 {
        assert!(get_ok(addr), "a fresh connection failed after the respawn");
    }
    stop_tx.send(()).unwrap();
    let (ok, failed) = client.join().unwrap();
    assert!(ok > 0);
    // Only a connection the victim held at the instant it died may fail.
    assert!(failed <= 1, "{failed} requests failed on fresh connections");
}

/// USR2 starts a new binary on the inherited listeners; QUIT to the old
/// master then leaves the new one serving. wrk sees no failure throughout.
#[test]
fn binary_upgrade_under_load_loses_nothing() {
    let site = Site::new("usr2");
    let (mut reaper, addr, _log) = start(&site, 2, &[]);
    let old = master_pid(&reaper);
    wait_until("pid file", || read_pid(&site.pid_file()) == Some(old));
    wait_until("two workers", || workers(old).len() == 2);
    let load = wrk(addr, 50, 5);
    assert!(signal(old, libc::SIGUSR2));
    let oldbin = PathBuf::from(format!("{}.oldbin", site.pid_file().display()));
    wait_until("the new master's pid file", || {
        read_pid(&oldbin) == Some(old) && read_pid(&site.pid_file()).is_some_and(|p| p != old)
    });
    let new = read_pid(&site.pid_file()).unwrap();
    reaper.pids.push(new);
    wait_until("the new master's workers", || workers(new).len() == 2);
    assert!(signal(old, libc::SIGQUIT));
    wait_until("the old master to exit", || reaper.child.as_mut().unwrap().try_wait().unwrap().is_some());
    let report = load.join().unwrap();
    assert!(report.requests > 1000, "{report:?}");
    assert_eq!(report.socket_errors, None, "{report:?}");
    assert_eq!(report.non_2xx, 0, "{report:?}");
    assert!(alive(new));
    assert!(get_ok(addr), "the new master serves");
    assert!(signal(new, libc::SIGQUIT));
    wait_until("the new master to exit", || !alive(new));
}

/// A master whose standard error goes nowhere any more (the reader of its
/// pipe died: a `| tee` killed, a journald restarted) panicked at its next
/// log line: tracing-subscriber reports a failed write with `eprintln!`,
/// which panics on the broken pipe. A HUP killed the master that way, and
/// orphaned workers panicked while obeying the drain and lived on, holding
/// the port, for good. Lines that cannot be written are dropped now.
#[test]
fn a_closed_standard_error_kills_neither_the_master_nor_its_workers() {
    let site = Site::new("stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(["http", "--listen", "127.0.0.1:0", "--workers", "2", "--root"])
        .arg(site.root())
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn spindle http");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut addr = None;
    while addr.is_none() {
        let line = lines.next().expect("the master prints its address").unwrap();
        addr = listening_addr(&line);
    }
    let addr = addr.unwrap();
    let master = child.id() as i32;
    let mut reaper = Reaper { child: Some(child), pids: Vec::new() };
    wait_until("two workers", || workers(master).len() == 2);
    let first = workers(master);
    reaper.pids.extend(&first);
    // Nobody reads the master's standard error any more.
    drop(lines);
    assert!(signal(master, libc::SIGHUP));
    wait_until("a new generation", || {
        let now = workers(master);
        now.len() == 2 && now.iter().all(|p| !first.contains(p))
    });
    assert!(alive(master), "the master died logging the reload");
    assert!(get_ok(addr));
    let orphans = workers(master);
    reaper.pids.extend(&orphans);
    assert!(signal(master, libc::SIGKILL));
    wait_until("the orphaned workers to drain and exit", || orphans.iter().all(|&p| !alive(p)));
}
