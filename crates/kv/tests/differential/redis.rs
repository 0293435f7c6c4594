//! A redis-server child on a unix socket in a private temp dir, killed and
//! reaped (and its dir removed) on drop.

use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::resp::{Client, Frame};

const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
/// Every read and write on a test connection is bounded by this.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// The running reference server.
pub struct Redis {
    child: Child,
    dir: PathBuf,
    sock: PathBuf,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Redis {
    /// Starts redis-server (no persistence) and waits, bounded, for PING.
    /// Fails if redis-server is not installed: CI installs it.
    pub fn start() -> Redis {
        let dir = crate::common::fresh_dir();
        let sock = dir.join("redis.sock");
        let child = Command::new("redis-server")
            .args(["--port", "0", "--unixsocket"])
            .arg(&sock)
            .arg("--dir")
            .arg(&dir)
            .args(["--appendonly", "no", "--save", "", "--logfile", ""])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run redis-server ({e}); this test needs it: apt-get install redis-server")
            });
        let mut redis = Redis { child, dir, sock };
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Some(status) = redis.child.try_wait().expect("try_wait") {
                panic!("redis-server exited early ({status})");
            }
            if let Ok(mut c) = redis.try_connect() {
                if c.call(&[b"PING".to_vec()]) == Frame::Line(b'+', b"PONG".to_vec()) {
                    return redis;
                }
            }
            assert!(Instant::now() < deadline, "redis-server did not start in time");
            // Polling interval while the socket appears; not synchronisation.
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn try_connect(&self) -> std::io::Result<Client> {
        let s = UnixStream::connect(&self.sock)?;
        s.set_read_timeout(Some(IO_TIMEOUT))?;
        s.set_write_timeout(Some(IO_TIMEOUT))?;
        Ok(Client::new(Box::new(s)))
    }

    /// A new connection.
    pub fn client(&self) -> Client {
        self.try_connect().expect("connect to redis-server")
    }
}
