//! A server under test as a process tree: the master the driver started
//! and the workers it forks. Started, checked, measured and stopped with
//! every wait bounded; dropping one kills the whole tree.
//!
//! Neither server announces anything on stdout the driver could rely on,
//! so readiness is polled: connect to the port until it accepts (at most
//! [`STARTUP_TIMEOUT`], failing early if the master exits), then fetch the
//! file about to be loaded and compare it byte for byte.
//!
//! Why the tree needs its own kill: nginx's workers do not exit when their
//! master is SIGKILLed (they just lose the channel to it), and a spindle
//! master killed that way may leave its workers too. So every stop and
//! every drop first lists the tree (see [`process_tree`]), then signals
//! the master, then SIGKILLs whatever of the list is still alive. If the
//! driver itself is killed, the master gets SIGTERM from the kernel
//! (`PR_SET_PDEATHSIG`); Ctrl-C reaches every process of the terminal's
//! foreground group, servers included. Only the temporary site may then
//! stay behind in `/tmp`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use spindle_bench::process::ChildProcess;
use spindle_bench::procstat::{process_tree, TreeTicks};
use spindle_bench::redis::proc_alive;
use spindle_bench::sys::{send_signal, signal_on_parent_death};

/// Bound on a server accepting connections after it is started.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound on each socket operation of the readiness and content checks.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long leftover workers get to disappear after SIGKILL.
const KILL_TIMEOUT: Duration = Duration::from_secs(5);

/// A running server: its master process and, through `/proc`, its workers.
#[derive(Debug)]
pub struct ServerTree {
    name: String,
    /// `None` once stopped.
    master: Option<ChildProcess>,
    addr: SocketAddr,
    /// A log to quote when the server fails to start (nginx's error log).
    error_log: Option<PathBuf>,
}

impl ServerTree {
    /// Spawns `cmd` (the master) and waits until `addr` accepts
    /// connections.
    /// The master gets SIGTERM if the driver dies without cleaning up
    /// (see [`signal_on_parent_death`]); both servers stop their workers
    /// on it.
    pub fn start(name: &str, mut cmd: Command, addr: SocketAddr, error_log: Option<PathBuf>) -> Result<Self> {
        signal_on_parent_death(&mut cmd, libc::SIGTERM);
        let master = ChildProcess::spawn(name, cmd)?;
        let mut server = Self { name: name.to_owned(), master: Some(master), addr, error_log };
        server.wait_ready()?;
        Ok(server)
    }

    /// The master's pid.
    pub fn pid(&self) -> u32 {
        self.master.as_ref().map_or(0, ChildProcess::pid)
    }

    /// The address it serves.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The CPU ticks of the master and all its workers now.
    pub fn ticks(&self) -> std::io::Result<TreeTicks> {
        TreeTicks::read(self.pid())
    }

    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if !proc_alive(self.pid()) {
                bail!(
                    "{} exited before accepting connections on {}{}",
                    self.name,
                    self.addr,
                    self.log_tail()
                );
            }
            if Instant::now() >= deadline {
                bail!(
                    "{} not accepting on {} after {STARTUP_TIMEOUT:?}{}",
                    self.name,
                    self.addr,
                    self.log_tail()
                );
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn log_tail(&self) -> String {
        let Some(path) = &self.error_log else { return String::new() };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(5)..].join("\n");
        if tail.is_empty() {
            String::new()
        } else {
            format!("; {} says:\n{tail}", path.display())
        }
    }

    /// Fetches `/NAME` with one HTTP/1.1 request and checks the answer is
    /// `200` with exactly `expected` as the body.
    pub fn check_file(&self, name: &str, expected: &[u8]) -> Result<()> {
        let (status, body) = get(self.addr, name).with_context(|| format!("{}: GET /{name}", self.name))?;
        ensure!(status == 200, "{}: GET /{name} answered {status}", self.name);
        ensure!(
            body == expected,
            "{}: GET /{name} sent {} bytes that differ from the file's {}",
            self.name,
            body.len(),
            expected.len()
        );
        Ok(())
    }

    /// Stops the server: SIGTERM to the master (both nginx and spindle
    /// stop fast on it, taking their workers with them), up to `grace` for
    /// it to exit, then SIGKILL; then SIGKILL for any worker still there.
    pub fn stop(&mut self, grace: Duration) -> Result<()> {
        let Some(mut master) = self.master.take() else { return Ok(()) };
        let tree = process_tree(master.pid()).unwrap_or_default();
        let status = master.stop(grace);
        let left = kill_all(tree.get(1..).unwrap_or_default());
        status.with_context(|| format!("stopping {}", self.name))?;
        ensure!(left.is_empty(), "{}: workers {left:?} survive SIGKILL", self.name);
        Ok(())
    }
}

impl Drop for ServerTree {
    fn drop(&mut self) {
        if let Some(master) = self.master.take() {
            let tree = process_tree(master.pid()).unwrap_or_default();
            drop(master); // SIGKILL and reap, before it can fork replacements
            let _ = kill_all(tree.get(1..).unwrap_or_default());
        }
    }
}

/// SIGKILLs every live process of `pids` and waits (bounded) until none is
/// alive; returns those that still are.
fn kill_all(pids: &[u32]) -> Vec<u32> {
    for &pid in pids {
        if proc_alive(pid) {
            let _ = send_signal(pid, libc::SIGKILL);
        }
    }
    let deadline = Instant::now() + KILL_TIMEOUT;
    loop {
        let alive: Vec<u32> = pids.iter().copied().filter(|&p| proc_alive(p)).collect();
        if alive.is_empty() || Instant::now() >= deadline {
            return alive;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// One `GET /NAME HTTP/1.1` with `Connection: close`; returns the status
/// and the body, read up to `Content-Length` (both servers send one for a
/// static file).
fn get(addr: SocketAddr, name: &str) -> Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    // One write: `write!` on an unbuffered stream sends each formatted
    // piece as its own segment, and a server that answers on the first
    // piece and closes would turn the next piece's send into EPIPE.
    let request = format!("GET /{name} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    let deadline = Instant::now() + IO_TIMEOUT;
    let mut data = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    let mut want: Option<usize> = None;
    loop {
        if let Some(want) = want {
            if data.len() >= want {
                break;
            }
        } else if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).into_owned();
            let length = head
                .lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.trim().parse::<usize>().ok())
                .with_context(|| format!("no Content-Length in:\n{head}"))?;
            want = Some(end + 4 + length);
            continue;
        }
        ensure!(Instant::now() < deadline, "response not complete after {IO_TIMEOUT:?}");
        let n = stream.read(&mut buf)?;
        ensure!(n > 0, "connection closed after {} bytes", data.len());
        data.extend_from_slice(&buf[..n]);
    }
    let end = data.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0);
    let status_line = String::from_utf8_lossy(&data[..end]).lines().next().unwrap_or_default().to_owned();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("bad status line {status_line:?}"))?;
    let body = data[end + 4..want.unwrap_or(data.len())].to_vec();
    Ok((status, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A one-shot server thread answering every connection with `response`.
    fn fake_server(response: &'static [u8]) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            if let Ok((mut conn, _)) = listener.accept() {
                conn.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
                // Read the whole request head before answering, as a
                // real server does.
                let mut head = Vec::new();
                let mut buf = [0; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf) {
                        Ok(n) if n > 0 => head.extend_from_slice(&buf[..n]),
                        _ => return,
                    }
                }
                let _ = conn.write_all(response);
            }
        });
        addr
    }

    #[test]
    fn get_reads_status_and_body() {
        let addr = fake_server(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello");
        assert_eq!(get(addr, "1k.bin").unwrap(), (200, b"hello".to_vec()));
        let addr = fake_server(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
        assert_eq!(get(addr, "x").unwrap(), (404, Vec::new()));
        let addr = fake_server(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort");
        assert!(get(addr, "x").is_err(), "a truncated body is an error");
    }

    #[test]
    fn a_master_that_exits_fails_fast_and_its_tree_is_killed() {
        let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "exit 3"]);
        let started = Instant::now();
        let err = ServerTree::start("quitter", cmd, addr, None).unwrap_err();
        assert!(format!("{err:#}").contains("exited before accepting"), "{err:#}");
        assert!(started.elapsed() < STARTUP_TIMEOUT);

        // A "master" with a worker that ignores its parent's death.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sleep 60 & wait"]);
        let server = ServerTree::start("fake", cmd, addr, None).unwrap();
        let deadline = Instant::now() + IO_TIMEOUT;
        let tree = loop {
            let tree = process_tree(server.pid()).unwrap();
            if tree.len() == 2 || Instant::now() > deadline {
                break tree;
            }
            thread::sleep(Duration::from_millis(5));
        };
        assert_eq!(tree.len(), 2, "{tree:?}");
        drop(server);
        assert!(!proc_alive(tree[1]), "the worker is killed with its master");
    }
}
