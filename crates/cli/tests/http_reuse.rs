//! A worker whose `worker_connections` are all taken, most by idle
//! keep-alive connections, still serves a new client: it closes the
//! longest-idle keep-alive connections to make room, as nginx does
//! ("worker_connections are not enough, reusing connections"), instead of
//! leaving the new client queued until a keep-alive timeout (75 s by
//! default) frees a place. Every wait is bounded; the server is killed
//! when the test ends.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(10);

struct Running {
    child: Child,
    dir: PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        for t in fs::read_dir(format!("/proc/{}/task", self.child.id())).into_iter().flatten().flatten() {
            for pid in fs::read_to_string(t.path().join("children")).unwrap_or_default().split_whitespace() {
                if let Ok(pid) = pid.parse::<i32>() {
                    // SAFETY: kill(2) with a pid of our own server's worker.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// `spindle http` with one worker of `conns` worker connections, in a
/// scratch folder named after `tag`; its address, read from the
/// `listening on` line, and its later log lines.
fn start(tag: &str, conns: usize) -> (Running, SocketAddr, mpsc::Receiver<String>) {
    let dir = std::env::temp_dir().join(format!("spindle-http-reuse-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("root")).unwrap();
    fs::write(dir.join("root/index.html"), "<h1>reuse</h1>\n").unwrap();
    for d in [&dir, &dir.join("root")] {
        fs::set_permissions(d, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(["http", "--listen", "127.0.0.1:0", "--workers", "1", "--worker-connections"])
        .arg(conns.to_string())
        .arg("--root")
        .arg(dir.join("root"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let run = Running { child, dir };
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + LIMIT;
    loop {
        let line =
            rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("a listening line");
        if let Some(addr) = line.split("listening on ").nth(1).and_then(|a| a.trim().parse().ok()) {
            return (run, addr, rx);
        }
    }
}

/// Sends one keep-alive request on `s` and reads its whole response.
fn request(s: &mut TcpStream) -> String {
    s.write_all(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.ends_with(b"<h1>reuse</h1>\n") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn a_full_worker_closes_idle_keepalive_connections_for_a_new_client() {
    let conns = 4;
    let (_run, addr, log) = start("full", conns);
    // Every worker connection taken by an idle keep-alive connection.
    let mut idle: Vec<TcpStream> = (0..conns)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(LIMIT)).unwrap();
            assert!(request(&mut s).starts_with("HTTP/1.1 200"));
            s
        })
        .collect();

    // A new client is served at once, not after the keep-alive timeout.
    let started = Instant::now();
    let mut fresh = TcpStream::connect(addr).unwrap();
    fresh.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert!(request(&mut fresh).starts_with("HTTP/1.1 200"));
    assert!(started.elapsed() < Duration::from_secs(3), "served after {:?}", started.elapsed());

    // Room was made by closing idle ones (cleanly: end of stream), the
    // longest idle first; the others still serve.
    let mut seen = Vec::new();
    for s in &mut idle {
        s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        let mut b = [0u8; 1];
        seen.push(s.read(&mut b).map_err(|e| e.kind()));
    }
    let closed = seen.iter().filter(|r| **r == Ok(0)).count();
    assert!((1..conns).contains(&closed), "{closed} of {conns} idle connections closed: {seen:?}");
    let mut b = [0u8; 1];
    idle[0].set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    assert!(matches!(idle[0].read(&mut b), Ok(0)), "the longest idle is closed first");
    let last = idle.last_mut().unwrap();
    last.set_read_timeout(Some(LIMIT)).unwrap();
    assert!(request(last).starts_with("HTTP/1.1 200"), "the most recent idle one still serves");

    // Said in the error log, in nginx's words.
    let deadline = Instant::now() + LIMIT;
    let said =
        std::iter::from_fn(|| log.recv_timeout(deadline.saturating_duration_since(Instant::now())).ok())
            .any(|l| l.contains("worker_connections are not enough, reusing connections"));
    assert!(said);
}

/// A connection that has not sent its first request yet is never the one
/// closed to make room: its client may be sending it right now, and would
/// lose a request it never saw answered. Only keep-alive ones go.
#[test]
fn a_connection_before_its_first_request_is_never_reclaimed() {
    let conns = 3;
    let (_run, addr, _log) = start("silent", conns);
    let mut kept: Vec<TcpStream> = (0..conns - 1)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(LIMIT)).unwrap();
            assert!(request(&mut s).starts_with("HTTP/1.1 200"));
            s
        })
        .collect();
    // Fills the worker without a request: the worker makes room by
    // closing a keep-alive one, not this.
    let mut silent = TcpStream::connect(addr).unwrap();
    silent.set_read_timeout(Some(LIMIT)).unwrap();
    let mut fresh = TcpStream::connect(addr).unwrap();
    fresh.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert!(request(&mut fresh).starts_with("HTTP/1.1 200"));
    assert!(request(&mut silent).starts_with("HTTP/1.1 200"), "the silent connection was kept");
    kept.clear();
}
