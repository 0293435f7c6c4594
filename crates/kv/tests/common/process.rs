//! The server binary (`spindle-kv-server`) as a child process, for tests
//! that need a process of its own: signals, exit codes, resource limits,
//! its /proc files. It prints `port N` first (before it loads its data);
//! [`ServerProcess::spawn`] waits for that line, bounded, and the process
//! is killed and reaped when dropped, so a failed assertion cannot leave
//! it running.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// A running server process and the port it listens on.
pub struct ServerProcess {
    pub child: Child,
    pub port: u16,
}

impl ServerProcess {
    /// The binary's path, for a `Command` that wraps it (`sh -c`).
    pub const BIN: &'static str = env!("CARGO_BIN_EXE_spindle-kv-server");

    /// Runs the binary with `args`.
    pub fn start(args: &[&str]) -> ServerProcess {
        let mut cmd = Command::new(Self::BIN);
        cmd.args(args);
        ServerProcess::spawn(cmd)
    }

    /// Runs `cmd` (the binary, or a shell that execs it), with standard
    /// output piped and standard error discarded, and waits for its port.
    pub fn spawn(mut cmd: Command) -> ServerProcess {
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("spawn the server");
        let out = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(out).read_line(&mut line);
            let _ = tx.send(line);
        });
        let mut srv = ServerProcess { child, port: 0 };
        let line = rx.recv_timeout(super::TIMEOUT).expect("the port line");
        srv.port = line.trim().strip_prefix("port ").and_then(|p| p.parse().ok()).expect("the port line");
        srv
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits, bounded, for the process to exit; its exit code.
    pub fn exit_code(&mut self) -> Option<i32> {
        let deadline = Instant::now() + super::TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::yield_now();
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
