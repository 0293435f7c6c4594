//! A real redis-server (Debian's 7.0.x; CI installs it) as a child process,
//! for the tests that hold spindle's behaviour against Redis's own.
//!
//! It listens on a unix socket in a directory of the test's, with no
//! persistence unless the test asks for it, and is killed and reaped when
//! dropped, so a failed assertion cannot leave it running (it would hold
//! the test binary's output pipe open and hang `cargo test`).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long redis-server may take to start (and load a snapshot).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// A running redis-server child.
pub struct RedisServer {
    child: Child,
    /// Its unix socket.
    pub sock: PathBuf,
    /// Its working directory (`--dir`), where it reads and writes snapshots.
    pub dir: PathBuf,
    log: PathBuf,
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RedisServer {
    /// Starts redis-server in a fresh directory with `extra` options.
    pub fn start(extra: &[&str]) -> RedisServer {
        RedisServer::start_in(&super::fresh_dir(), extra)
    }

    /// Starts redis-server in `dir` (loading `dir/dump.rdb`, or the
    /// `--dbfilename` in `extra`, if it exists) with `extra` options after
    /// the defaults (`--port 0 --save "" --appendonly no`), and waits,
    /// bounded, until it answers PING. Panics if redis-server is missing.
    pub fn start_in(dir: &Path, extra: &[&str]) -> RedisServer {
        let sock = dir.join("redis.sock");
        let log = dir.join("redis.log");
        let child = Command::new("redis-server")
            .args(["--port", "0", "--save", "", "--appendonly", "no", "--unixsocket"])
            .arg(&sock)
            .arg("--dir")
            .arg(dir)
            .arg("--logfile")
            .arg(&log)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run redis-server ({e}); this test needs it (CI installs it: .ci/run runs \
                     `apt-get install redis-server`)"
                )
            });
        let mut redis = RedisServer { child, sock, dir: dir.to_path_buf(), log };
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Some(status) = redis.child.try_wait().expect("try_wait") {
                panic!("redis-server exited early ({status}); log:\n{}", redis.log_text());
            }
            match redis.ping() {
                Some(reply) if reply.starts_with(b"+PONG") => return redis,
                // Still loading its snapshot, or not listening yet.
                Some(reply) if reply.starts_with(b"-LOADING") => {}
                None => {}
                Some(other) => panic!("unexpected PING reply {:?}", String::from_utf8_lossy(&other)),
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not start in time; log:\n{}",
                redis.log_text()
            );
            // Polling interval while the socket is not there yet.
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// One PING's reply line, or None if the socket does not accept yet.
    fn ping(&self) -> Option<Vec<u8>> {
        let mut s = UnixStream::connect(&self.sock).ok()?;
        s.set_read_timeout(Some(super::TIMEOUT)).ok()?;
        s.write_all(b"*1\r\n$4\r\nPING\r\n").ok()?;
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while !line.ends_with(b"\r\n") {
            match s.read(&mut byte) {
                Ok(1) => line.push(byte[0]),
                _ => return None,
            }
        }
        Some(line)
    }

    /// What redis-server has logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A `redis` crate connection over the unix socket.
    pub fn conn(&self) -> redis::Connection {
        let client = redis::Client::open(format!("redis+unix://{}", self.sock.display())).expect("client");
        client.get_connection_with_timeout(super::TIMEOUT).expect("connect to redis-server")
    }
}
