//! Child processes: spawn, talk to them through pipes, await their exit.
//!
//! # Learning that a child exited
//!
//! A parent learns of a child's exit from `waitpid`, which blocks, or from
//! `SIGCHLD`, a process-wide signal that coalesces (one delivery may stand
//! for several exits) and that every library in the process competes for.
//! Linux 5.3 added a better way, the *pidfd* (`pidfd_open`): a descriptor
//! naming one process, which becomes readable when that process exits. So
//! [`Command::spawn`] opens a pidfd for the child at once (the child cannot
//! be reaped in between, so its pid cannot be reused) and registers it with
//! the runtime's netpoller like a socket; [`Child::wait`] parks until it is
//! readable, then reaps the child with a non-blocking `waitpid`. This is
//! what spindle-loop's process handles do too (see its `process` module).
//!
//! Where `pidfd_open` fails (before Linux 5.3, or under a seccomp filter),
//! or `SPINDLE_NO_PIDFD=1` is set, the child is watched through
//! [`signal`](crate::signal) instead: each `SIGCHLD` makes the waiter try a
//! non-blocking `waitpid`, and one try comes first, so an exit before the
//! listener existed is not missed.
//!
//! # Pipes
//!
//! With [`Stdio::piped`], the child's standard streams become
//! [`ChildStdin`], [`ChildStdout`] and [`ChildStderr`]: the parent's pipe
//! ends, non-blocking and on the netpoller, with the `futures-io` traits.
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! use spindle_rt::process::Command;
//!
//! let rt = spindle_rt::Builder::new_current_thread().build()?;
//! let output = rt.block_on(Command::new("sh").arg("-c").arg("echo hello; exit 3").output())?;
//! assert_eq!(output.stdout, b"hello\n");
//! assert_eq!(output.status.code(), Some(3));
//! # Ok(())
//! # }
//! ```
//!
//! # Dropping a child
//!
//! As with `std`, dropping a [`Child`] neither kills nor reaps it: the
//! process runs on, and stays a zombie after it exits until this process
//! ends. [`Command::kill_on_drop`] asks for `SIGKILL` on drop; the killed
//! child is then reaped on the blocking pool.

mod pipe;

pub use pipe::{ChildStderr, ChildStdin, ChildStdout};
pub use std::process::{ExitStatus, Output, Stdio};

use crate::blocking::spawn_blocking;
use crate::io::Direction;
use crate::net::registration::Registration;
use crate::signal::{Signal, SignalKind};
use std::ffi::OsStr;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::task::{ready, Context, Poll};

/// A builder for a child process: the asynchronous face of
/// [`std::process::Command`], with the same builder methods.
#[derive(Debug)]
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
}

impl Command {
    /// A command that runs `program` (looked up in `PATH` if it has no
    /// slash), with no arguments, the parent's environment and directory,
    /// and inherited stdio.
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command { std: std::process::Command::new(program), kill_on_drop: false }
    }

    /// Adds one argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds several arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets one environment variable for the child.
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, value);
        self
    }

    /// Removes one environment variable from the child's environment.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (plus what `env` adds).
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// The child's working directory.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// What the child's standard input is: inherited (the default),
    /// [`Stdio::null`], or [`Stdio::piped`] for a [`ChildStdin`].
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self
    }

    /// What the child's standard output is; [`Stdio::piped`] gives a
    /// [`ChildStdout`].
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self
    }

    /// What the child's standard error is; [`Stdio::piped`] gives a
    /// [`ChildStderr`].
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self
    }

    /// Whether dropping the [`Child`] before it was reaped sends it
    /// `SIGKILL` (default: no, as `std`).
    pub fn kill_on_drop(&mut self, kill: bool) -> &mut Command {
        self.kill_on_drop = kill;
        self
    }

    /// The `std` command, for settings this type does not wrap (`uid`,
    /// `process_group`, `pre_exec`, ...).
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// Starts the child (`fork` and `exec`, synchronously, as `std`'s
    /// `spawn`) and starts watching for its exit.
    ///
    /// # Errors
    ///
    /// Those of [`std::process::Command::spawn`] (`NotFound` for a missing
    /// program, ...), and a failure to register the pipes or the pidfd
    /// with the runtime; the child is then killed and reaped.
    ///
    /// # Panics
    ///
    /// Outside a spindle-rt runtime.
    #[track_caller]
    pub fn spawn(&mut self) -> io::Result<Child> {
        let std = self.std.spawn()?;
        Child::watch(std, self.kill_on_drop)
    }

    /// Runs the child to its exit, its stdio as configured (inherited by
    /// default), and returns its status.
    ///
    /// # Errors
    ///
    /// Those of [`spawn`](Command::spawn) and [`Child::wait`].
    ///
    /// # Panics
    ///
    /// Outside a spindle-rt runtime.
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn()?.wait().await
    }

    /// Runs the child to its exit with its standard output and error
    /// captured (stdin stays as configured), and returns both with the
    /// status.
    ///
    /// # Errors
    ///
    /// Those of [`spawn`](Command::spawn) and
    /// [`Child::wait_with_output`].
    ///
    /// # Panics
    ///
    /// Outside a spindle-rt runtime.
    pub async fn output(&mut self) -> io::Result<Output> {
        self.std.stdout(Stdio::piped()).stderr(Stdio::piped());
        self.spawn()?.wait_with_output().await
    }
}

/// A running (or exited, not yet awaited) child process, from
/// [`Command::spawn`].
#[derive(Debug)]
pub struct Child {
    /// The child's stdin, if it was [`Stdio::piped`].
    pub stdin: Option<ChildStdin>,
    /// The child's stdout, if it was [`Stdio::piped`].
    pub stdout: Option<ChildStdout>,
    /// The child's stderr, if it was [`Stdio::piped`].
    pub stderr: Option<ChildStderr>,
    /// `None` only while being dropped.
    std: Option<std::process::Child>,
    exit: Exit,
    kill_on_drop: bool,
}

/// How the exit is learned, or what it was.
enum Exit {
    /// A pidfd on the netpoller (field order is drop order: off the
    /// poller, then closed).
    Pidfd { reg: Registration, _fd: OwnedFd },
    /// The `SIGCHLD` fallback.
    Sigchld(Signal),
    /// Reaped.
    Done(ExitStatus),
}

impl Exit {
    /// Starts watching process `pid`: a pidfd on the netpoller, else (or
    /// with `SPINDLE_NO_PIDFD=1`) a `SIGCHLD` listener, created before the
    /// first `try_wait` so that no SIGCHLD after it goes unheard.
    #[track_caller]
    fn watch(pid: u32) -> io::Result<Exit> {
        let no_pidfd = std::env::var_os("SPINDLE_NO_PIDFD").is_some_and(|v| v != "0");
        let pidfd = if no_pidfd {
            Err(io::Error::from(io::ErrorKind::Unsupported))
        } else {
            spindle_poll::process::pidfd_open(pid)
        };
        Ok(match pidfd {
            Ok(fd) => Exit::Pidfd { reg: Registration::new(fd.as_raw_fd())?, _fd: fd },
            Err(_) => Exit::Sigchld(Signal::new(SignalKind::child())?),
        })
    }
}

impl std::fmt::Debug for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Pidfd { _fd, .. } => write!(f, "Pidfd({})", _fd.as_raw_fd()),
            Exit::Sigchld(_) => f.write_str("Sigchld"),
            Exit::Done(status) => write!(f, "Done({status})"),
        }
    }
}

impl Child {
    /// Takes the pipes and opens the exit watch for a just-spawned child;
    /// on failure kills and reaps it.
    #[track_caller]
    fn watch(mut std: std::process::Child, kill_on_drop: bool) -> io::Result<Child> {
        let (stdin, stdout, stderr) = (std.stdin.take(), std.stdout.take(), std.stderr.take());
        let pid = std.id();
        let wired = (|| {
            Ok(Child {
                stdin: stdin.map(ChildStdin::new).transpose()?,
                stdout: stdout.map(ChildStdout::new).transpose()?,
                stderr: stderr.map(ChildStderr::new).transpose()?,
                std: None,
                exit: Exit::watch(pid)?,
                kill_on_drop,
            })
        })();
        match wired {
            Ok(mut child) => {
                child.std = Some(std);
                Ok(child)
            }
            Err(e) => {
                let _ = std.kill();
                let _ = std.wait();
                Err(e)
            }
        }
    }

    fn std(&mut self) -> &mut std::process::Child {
        self.std.as_mut().expect("present until drop")
    }

    /// The child's process id, or `None` once it has been reaped (the
    /// number may then belong to another process).
    pub fn id(&self) -> Option<u32> {
        match self.exit {
            Exit::Done(_) => None,
            _ => self.std.as_ref().map(std::process::Child::id),
        }
    }

    /// Waits for the child to exit and reaps it; later calls return the
    /// same status. Closes the child's stdin first (if piped and still
    /// here), so a child reading to end of file can finish.
    ///
    /// # Errors
    ///
    /// A `waitpid` error (`ECHILD` if something else in this process
    /// reaped the child), or `Other` if the runtime it was spawned on has
    /// shut down.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        poll_fn(|cx| self.poll_wait(cx)).await
    }

    /// The polling form of [`wait`](Child::wait) (without closing stdin),
    /// for hand-written futures.
    ///
    /// # Errors
    ///
    /// As [`wait`](Child::wait).
    pub fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        loop {
            if let Some(status) = self.try_wait()? {
                return Poll::Ready(Ok(status));
            }
            match &mut self.exit {
                Exit::Pidfd { reg, .. } => {
                    let ev = ready!(reg.poll_ready(cx, None, Direction::Read));
                    if ev.is_shutdown() {
                        return Poll::Ready(Err(crate::io::driver::gone()));
                    }
                    // Readable means exited, and the `try_wait` above will
                    // see it; if it does not, the event was stale, and with
                    // it cleared the next poll waits for a new one.
                    reg.clear_readiness(ev);
                }
                Exit::Sigchld(signal) => {
                    if ready!(signal.poll_recv(cx)).is_none() {
                        return Poll::Ready(Err(crate::io::driver::gone()));
                    }
                }
                Exit::Done(_) => unreachable!("try_wait returned it"),
            }
        }
    }

    /// Reaps the child if it has exited, without waiting.
    ///
    /// # Errors
    ///
    /// A `waitpid` error.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Exit::Done(status) = self.exit {
            return Ok(Some(status));
        }
        let status = self.std().try_wait()?;
        if let Some(status) = status {
            self.exit = Exit::Done(status);
        }
        Ok(status)
    }

    /// Sends the child `SIGKILL` without waiting; a child already reaped
    /// is left alone (its pid may be another process's by now).
    ///
    /// # Errors
    ///
    /// A `kill` error.
    pub fn start_kill(&mut self) -> io::Result<()> {
        if let Exit::Done(_) = self.exit {
            return Ok(());
        }
        self.std().kill()
    }

    /// Sends the child `SIGKILL` and waits for it to exit.
    ///
    /// # Errors
    ///
    /// Those of [`start_kill`](Child::start_kill) and
    /// [`wait`](Child::wait).
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await.map(drop)
    }

    /// Closes stdin, reads stdout and stderr (those that are piped) to
    /// their ends, both at once so that a child filling one pipe cannot
    /// stall on it, then waits for the exit.
    ///
    /// # Errors
    ///
    /// A read error on a pipe, and those of [`wait`](Child::wait).
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.stdin.take());
        let (mut stdout, mut stderr) = (self.stdout.take(), self.stderr.take());
        let (mut out, mut err) = (Vec::new(), Vec::new());
        poll_fn(|cx| {
            pipe::drain(&mut stdout, &mut out, cx)?;
            pipe::drain(&mut stderr, &mut err, cx)?;
            if stdout.is_none() && stderr.is_none() {
                Poll::Ready(Ok::<_, io::Error>(()))
            } else {
                Poll::Pending
            }
        })
        .await?;
        let status = self.wait().await?;
        Ok(Output { status, stdout: out, stderr: err })
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if !self.kill_on_drop || matches!(self.exit, Exit::Done(_)) {
            return;
        }
        if let Some(mut std) = self.std.take() {
            if std.kill().is_ok() {
                // SIGKILL cannot be caught: this wait is short.
                drop(spawn_blocking(move || std.wait()));
            }
        }
    }
}
