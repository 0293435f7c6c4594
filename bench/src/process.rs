//! Child processes for the benchmark driver and tests: started optionally
//! pinned to a CPU, read line by line from stdout, and stopped, with every
//! wait bounded.
//!
//! A [`ChildProcess`] owns its child from spawn to reap. Dropping one that
//! is still running kills (SIGKILL) and reaps it, so an error anywhere in
//! the driver never leaves a server behind. Stdout is read on a helper
//! thread into a channel, which is what makes "wait for a line, but at most
//! ten seconds" possible without blocking on the pipe; stderr is inherited
//! so a child's complaints reach the terminal as they happen.

use std::io::{self, BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use crate::parse_listening_addr;
use crate::sys::send_signal;

/// How long a killed child gets to be reaped before we give up on it.
const REAP_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether `taskset` (util-linux) can be run.
pub fn taskset_available() -> bool {
    let child = Command::new("taskset")
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match child {
        Ok(mut child) => match wait_timeout(&mut child, Duration::from_secs(5)) {
            Ok(Some(status)) => status.success(),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                false
            }
        },
        Err(_) => false,
    }
}

/// Whether the server and the load client can be pinned to CPUs of their
/// own with `taskset`: `Ok(())`, or why not (`--no-pin` asked for, a single
/// CPU, no taskset), in words for a note in the run's header.
pub fn pinning(no_pin: bool) -> Result<(), String> {
    let cpus = thread::available_parallelism().map_or(1, |n| n.get());
    if no_pin {
        Err("--no-pin: unpinned".to_owned())
    } else if cpus < 2 {
        Err(format!("only {cpus} CPU available: unpinned"))
    } else if !taskset_available() {
        Err("taskset not found: unpinned (install util-linux)".to_owned())
    } else {
        Ok(())
    }
}

/// The path of program `name` in this binary's own directory (where cargo
/// puts every binary of the workspace: `target/release`).
pub fn beside_this_binary(name: &str) -> io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().ok_or_else(|| io::Error::other("this binary has no directory"))?;
    Ok(dir.join(name))
}

/// A command that runs `program` pinned to `cpu` through `taskset -c`, or
/// unpinned for `None`. `taskset` execs the program, so the child's pid is
/// the program's pid and `/proc/PID/stat` measures the program.
pub fn command_on_cpu(program: &Path, cpu: Option<usize>) -> Command {
    match cpu {
        Some(cpu) => {
            let mut cmd = Command::new("taskset");
            cmd.arg("-c").arg(cpu.to_string()).arg(program);
            cmd
        }
        None => Command::new(program),
    }
}

/// Waits up to `timeout` for `child` to exit; `Ok(None)` if it is still
/// running then. Polls with a short, growing sleep (at most 10 ms), which
/// is precise enough for process lifetimes measured in seconds.
pub fn wait_timeout(child: &mut Child, timeout: Duration) -> io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    let mut nap = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        thread::sleep(nap.min(deadline - now));
        nap = (nap * 2).min(Duration::from_millis(10));
    }
}

/// A running child whose stdout is read line by line.
#[derive(Debug)]
pub struct ChildProcess {
    name: String,
    child: Child,
    lines: Receiver<String>,
    reaped: Option<ExitStatus>,
}

impl ChildProcess {
    /// Spawns `cmd` with stdout piped (stdin null, stderr inherited).
    /// `name` labels error messages.
    pub fn spawn(name: &str, mut cmd: Command) -> io::Result<Self> {
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = cmd
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("{name}: cannot start {cmd:?}: {e}")))?;
        let stdout = child.stdout.take().expect("stdout was piped");
        let (tx, lines) = mpsc::channel();
        thread::Builder::new().name(format!("{name}-stdout")).spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match reader.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        let line = String::from_utf8_lossy(&buf).trim_end().to_owned();
                        if tx.send(line).is_err() {
                            return;
                        }
                    }
                }
            }
        })?;
        Ok(Self { name: name.to_owned(), child, lines, reaped: None })
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Reads stdout lines until `pick` accepts one, for at most `timeout`.
    ///
    /// Lines `pick` rejects are echoed to our stdout, prefixed with the
    /// child's name, so nothing a child says is lost. Fails with `TimedOut`
    /// at the deadline and `UnexpectedEof` if the child closes stdout
    /// (usually: it exited) first.
    pub fn wait_line<T>(
        &mut self,
        timeout: Duration,
        mut pick: impl FnMut(&str) -> Option<T>,
    ) -> io::Result<T> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => match pick(&line) {
                    Some(found) => return Ok(found),
                    None => println!("  [{}] {line}", self.name),
                },
                Err(RecvTimeoutError::Timeout) => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("{}: no expected output within {timeout:?}", self.name),
                    ))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = match wait_timeout(&mut self.child, Duration::from_secs(1)) {
                        Ok(Some(status)) => {
                            self.reaped = Some(status);
                            format!("exited with {status}")
                        }
                        _ => "closed stdout".to_owned(),
                    };
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("{}: {status} before printing the expected line", self.name),
                    ));
                }
            }
        }
    }

    /// Waits for the child's `listening on HOST:PORT` line (see
    /// [`parse_listening_addr`]) for at most `timeout`.
    pub fn wait_listening(&mut self, timeout: Duration) -> io::Result<SocketAddr> {
        self.wait_line(timeout, parse_listening_addr)
    }

    /// Waits up to `timeout` for the child to exit by itself, then kills and
    /// reaps it if it has not. Returns its exit status, or `TimedOut` if it
    /// had to be killed.
    pub fn wait_exit(&mut self, timeout: Duration) -> io::Result<ExitStatus> {
        if let Some(status) = wait_timeout(&mut self.child, timeout)? {
            self.reaped = Some(status);
            return Ok(status);
        }
        self.kill_and_reap()?;
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("{}: still running after {timeout:?}, killed", self.name),
        ))
    }

    /// Stops the child: SIGTERM, up to `grace` to exit, then SIGKILL; and
    /// reaps it. Returns the exit status.
    pub fn stop(&mut self, grace: Duration) -> io::Result<ExitStatus> {
        if let Some(status) = self.reaped {
            return Ok(status);
        }
        if self.child.try_wait()?.is_none() {
            // `pid` is our own unreaped child, so it cannot have been
            // recycled for another process.
            send_signal(self.pid(), libc::SIGTERM)?;
            if let Some(status) = wait_timeout(&mut self.child, grace)? {
                self.reaped = Some(status);
                return Ok(status);
            }
        }
        self.kill_and_reap()
    }

    fn kill_and_reap(&mut self) -> io::Result<ExitStatus> {
        // kill() on an already-exited (unreaped) child is harmless.
        let _ = self.child.kill();
        match wait_timeout(&mut self.child, REAP_TIMEOUT)? {
            Some(status) => {
                self.reaped = Some(status);
                Ok(status)
            }
            None => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("{}: not reaped {REAP_TIMEOUT:?} after SIGKILL", self.name),
            )),
        }
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        if self.reaped.is_none() {
            let _ = self.kill_and_reap();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(script);
        cmd
    }

    #[test]
    fn finds_the_listening_line_among_others() {
        let mut child = ChildProcess::spawn(
            "fake",
            sh("echo starting; echo 'x listening on 127.0.0.1:5555 (y)'; exec sleep 30"),
        )
        .unwrap();
        let addr = child.wait_listening(Duration::from_secs(10)).unwrap();
        assert_eq!(addr, "127.0.0.1:5555".parse().unwrap());
        let status = child.stop(Duration::from_secs(5)).unwrap();
        assert!(!status.success(), "stopped by SIGTERM");
    }

    #[test]
    fn silent_child_times_out() {
        let mut child = ChildProcess::spawn("silent", sh("exec sleep 30")).unwrap();
        let err = child.wait_listening(Duration::from_millis(100)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        // Dropping kills and reaps it.
    }

    #[test]
    fn exiting_child_is_eof_not_a_hang() {
        let mut child = ChildProcess::spawn("quitter", sh("echo bye; exit 3")).unwrap();
        let err = child.wait_listening(Duration::from_secs(10)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert_eq!(child.wait_exit(Duration::from_secs(5)).unwrap().code(), Some(3));
    }

    #[test]
    fn term_ignoring_child_is_killed() {
        let mut child =
            ChildProcess::spawn("stubborn", sh("trap '' TERM; echo ready; while :; do sleep 1; done"))
                .unwrap();
        child.wait_line(Duration::from_secs(10), |l| (l == "ready").then_some(())).unwrap();
        let status = child.stop(Duration::from_millis(200)).unwrap();
        assert!(!status.success());
    }
}
