//! Child processes (`uv_process_t`): spawn, stdio pipes as streams, exit
//! notification, kill.
//!
//! ## Learning that a child exited: pidfd, not SIGCHLD
//!
//! The classic way is `SIGCHLD`: the kernel signals the parent when a child
//! changes state, and the parent calls `waitpid`. It is full of traps for a
//! library. A signal disposition is process-wide, so a loop that installs a
//! `SIGCHLD` handler fights every other library that does; standard signals
//! coalesce, so one signal may stand for several exits and the parent must
//! poll every child; a `SIGCHLD` that arrives before the handler is set is
//! lost; and with a `signalfd` the signal may be taken by another thread
//! that does not block it (see [`Loop::signal_start`]). Worst, `kill(pid)`
//! after the child was reaped may hit an unrelated process that got the same
//! pid.
//!
//! Linux 5.3 added `pidfd_open`: a descriptor that names *this* process, not
//! a reusable number. It becomes readable when the process exits, so the loop
//! watches it like a socket, and `pidfd_send_signal` can never reach a
//! recycled pid. Nothing is process-wide, no signal can be lost, and an exit
//! that happened before the watch started still leaves the descriptor
//! readable. So Spindle opens a pidfd for every child right after spawning it
//! (the unreaped child is a zombie at worst, so its pid cannot be reused in
//! between), reaps it with `waitpid` when the pidfd is readable, and uses
//! `pidfd_send_signal` for [`Loop::process_kill`].
//!
//! ## The fallback
//!
//! When `pidfd_open` fails (`ENOSYS` before Linux 5.3, or a seccomp filter),
//! or `SPINDLE_NO_PIDFD=1` is set, the loop falls back to `SIGCHLD` through
//! an internal, unreferenced signal handle: on each `SIGCHLD` it tries
//! `waitpid(pid, WNOHANG)` for every such child (a signal may stand for
//! several exits), and it tries once right after spawning, so an exit before
//! the handle blocked the signal is not missed. This path inherits the
//! signalfd caveat: every thread of the process must block `SIGCHLD`, or the
//! kernel may hand the signal to one that does not, where it is discarded and
//! the exit goes unnoticed until the next `SIGCHLD`.
//!
//! ## Handles and reaping
//!
//! A process handle is active, and keeps the loop alive, until its exit has
//! been reported; then it stays as a handle until [closed](Loop::close) (as
//! libuv's). Closing it before the child exits stops watching: the child is
//! neither killed nor reaped, and remains a zombie after it exits until this
//! process ends. Kill it first if that matters. The child's stdio pipes are
//! ordinary streams, independent of the process handle.

use crate::handle::{HandleId, Kind};
use crate::io_watch::{Watch, READ};
use crate::{Loop, StreamId};
use spindle_poll::process as sys;
use std::ffi::OsString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::process::{Command, ExitStatus};

/// What a child's standard stream is connected to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Stdio {
    /// The parent's own descriptor.
    #[default]
    Inherit,
    /// `/dev/null`.
    Null,
    /// A new pipe; the parent's end comes back as a stream in [`Pipes`].
    Pipe,
}

/// What [`Loop::spawn`] runs, and how.
#[derive(Clone, Debug, Default)]
pub struct ProcessOptions {
    /// The program: a path, or a name looked up in `PATH`.
    pub program: OsString,
    /// Arguments after the program name.
    pub args: Vec<OsString>,
    /// The child's whole environment; `None` inherits the parent's.
    pub env: Option<Vec<(OsString, OsString)>>,
    /// The child's working directory; `None` keeps the parent's.
    pub cwd: Option<PathBuf>,
    /// The child's standard input.
    pub stdin: Stdio,
    /// The child's standard output.
    pub stdout: Stdio,
    /// The child's standard error.
    pub stderr: Stdio,
}

impl ProcessOptions {
    /// Options to run `program` with no arguments and inherited stdio.
    pub fn new(program: impl Into<OsString>) -> ProcessOptions {
        ProcessOptions { program: program.into(), ..ProcessOptions::default() }
    }

    /// Appends arguments.
    #[must_use]
    pub fn args<I, S>(mut self, args: I) -> ProcessOptions
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets all three standard streams.
    #[must_use]
    pub fn stdio(mut self, stdin: Stdio, stdout: Stdio, stderr: Stdio) -> ProcessOptions {
        self.stdin = stdin;
        self.stdout = stdout;
        self.stderr = stderr;
        self
    }
}

/// The parent's ends of a child's [`Stdio::Pipe`] streams. Each is an
/// ordinary stream: read the child's output with [`Loop::read_start`],
/// write its input with [`Loop::write`], and [close](Loop::close) each when
/// done (closing `stdin` is how the child sees end of input).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pipes {
    /// Write end of the child's standard input.
    pub stdin: Option<StreamId>,
    /// Read end of the child's standard output.
    pub stdout: Option<StreamId>,
    /// Read end of the child's standard error.
    pub stderr: Option<StreamId>,
}

/// Names a child process handle; see [`Loop::spawn`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProcessId(pub(crate) HandleId);

impl ProcessId {
    /// The untyped handle, for [`Loop::close`] and friends.
    pub fn handle(self) -> HandleId {
        self.0
    }
}

/// The callback of [`Loop::spawn`], run once when the child has exited and
/// been reaped.
pub type ExitCb = Box<dyn FnOnce(&mut Loop, ProcessId, ExitStatus)>;

/// A process handle's state.
pub(crate) struct ProcessState {
    pid: u32,
    /// The pidfd, when `pidfd_open` worked; `None` on the SIGCHLD path and
    /// once the child is reaped or the handle closed.
    pidfd: Option<OwnedFd>,
    /// The pidfd's watch, `Some` exactly while `pidfd` is.
    watch: Option<Watch>,
    on_exit: Option<ExitCb>,
    /// Reaped: the pid may belong to another process now, never signal it.
    exited: bool,
}

impl ProcessState {
    pub(crate) fn watch_mut(&mut self) -> Option<&mut Watch> {
        self.watch.as_mut()
    }
}

fn process_state(lp: &mut Loop, id: HandleId) -> Option<&mut ProcessState> {
    match lp.handles.get_mut(id).map(|h| &mut h.kind) {
        Some(Kind::Process(p)) => Some(p),
        _ => None,
    }
}

impl Loop {
    /// Starts `opts.program` as a child process. Returns its handle and the
    /// parent's ends of any [`Stdio::Pipe`] streams (non-blocking, wrapped
    /// with [`Loop::pipe_open`]). `on_exit` runs on the loop thread once the
    /// child has exited and been reaped; the handle keeps the loop alive
    /// until then. Close the handle afterwards (see the module notes on
    /// closing a running child).
    ///
    /// The exit is learned from a *pidfd* (Linux 5.3+): a descriptor naming
    /// this very process, readable once it exits, watched like a socket. No
    /// process-wide `SIGCHLD` handler is installed, an exit before the watch
    /// started is still seen, and [`process_kill`](Loop::process_kill) can
    /// never hit a recycled pid. Where `pidfd_open` fails (before Linux 5.3,
    /// or under a seccomp filter; or with `SPINDLE_NO_PIDFD=1`) the loop
    /// falls back to `SIGCHLD` through an internal signal handle, which
    /// needs `SIGCHLD` blocked in every thread to be reliable (see
    /// [`Loop::signal_start`]).
    ///
    /// ```
    /// use spindle_loop::{Loop, ProcessOptions, RunMode};
    /// let mut lp = Loop::new()?;
    /// let (child, _pipes) = lp.spawn(ProcessOptions::new("true"), |lp, id, status| {
    ///     assert!(status.success());
    ///     lp.close(id.handle(), None);
    /// })?;
    /// assert!(lp.pid(child).is_some());
    /// lp.run(RunMode::Default)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// If something else in the process reaps the child first (a
    /// `waitpid(-1)`, or `SIGCHLD` set to `SIG_IGN`), its status is lost:
    /// the handle goes inactive with a logged warning and `on_exit` does not
    /// run.
    ///
    /// # Errors
    /// When the program cannot be started (not found, not executable, a bad
    /// working directory), the error's kind is the `exec` failure's and its
    /// text names the program. Also the kernel's error for pipes or
    /// registering them.
    pub fn spawn(
        &mut self,
        opts: ProcessOptions,
        on_exit: impl FnOnce(&mut Loop, ProcessId, ExitStatus) + 'static,
    ) -> io::Result<(ProcessId, Pipes)> {
        let mut cmd = Command::new(&opts.program);
        cmd.args(&opts.args);
        if let Some(env) = &opts.env {
            cmd.env_clear().envs(env.iter().map(|(k, v)| (k, v)));
        }
        if let Some(cwd) = &opts.cwd {
            cmd.current_dir(cwd);
        }
        cmd.stdin(std_stdio(opts.stdin)).stdout(std_stdio(opts.stdout)).stderr(std_stdio(opts.stderr));
        // std reports an exec failure from the child through a close-on-exec
        // pipe, so a missing program is an error here, not an exit status.
        let mut child = cmd.spawn().map_err(|e| {
            io::Error::new(e.kind(), format!("cannot spawn {:?}: {e}", opts.program.to_string_lossy()))
        })?;
        let pid = child.id();
        let ends = [
            child.stdin.take().map(OwnedFd::from),
            child.stdout.take().map(OwnedFd::from),
            child.stderr.take().map(OwnedFd::from),
        ];
        // `child` is dropped: std neither waits for nor kills a dropped
        // child; this loop reaps it.
        drop(child);

        let id = self.handles.insert(Kind::Process(ProcessState {
            pid,
            pidfd: None,
            watch: None,
            on_exit: Some(Box::new(on_exit)),
            exited: false,
        }));
        self.handles.set_active(id, true);
        if let Err(e) = self.process_watch_exit(id, pid) {
            self.process_abandon(id, pid, Vec::new());
            return Err(e);
        }
        let mut streams = Vec::new();
        for end in ends {
            match end.map(|fd| self.pipe_open(fd)).transpose() {
                Ok(s) => streams.push(s),
                Err(e) => {
                    self.process_abandon(id, pid, streams.into_iter().flatten().collect());
                    return Err(e);
                }
            }
        }
        let pipes = Pipes { stdin: streams[0], stdout: streams[1], stderr: streams[2] };
        Ok((ProcessId(id), pipes))
    }

    /// Sends `signum` to the child (0 only checks that it can be signalled).
    ///
    /// # Errors
    /// `InvalidInput` for a signal number outside `0..=64`; `ESRCH` once
    /// the child has exited and been reaped; `NotFound` for a closed handle.
    pub fn process_kill(&mut self, id: ProcessId, signum: i32) -> io::Result<()> {
        if !(0..=64).contains(&signum) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("signal number {signum} is out of range: Linux signals are 1..=64 (0 to probe)"),
            ));
        }
        let p = process_state(self, id.0).ok_or_else(|| crate::io_watch::stale(id.0))?;
        if p.exited {
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
        match &p.pidfd {
            Some(fd) => sys::pidfd_send_signal(fd.as_raw_fd(), signum),
            None => sys::kill(p.pid, signum),
        }
    }

    /// The child's process id, while its handle is open. After the exit was
    /// reported the number may already belong to another process.
    pub fn pid(&self, id: ProcessId) -> Option<u32> {
        match self.handles.get(id.0).map(|h| &h.kind) {
            Some(Kind::Process(p)) => Some(p.pid),
            _ => None,
        }
    }

    /// Arranges to learn of the exit: a watched pidfd, or the SIGCHLD path.
    fn process_watch_exit(&mut self, id: HandleId, pid: u32) -> io::Result<()> {
        let pidfd = if std::env::var_os("SPINDLE_NO_PIDFD").is_some_and(|v| v != "0") {
            Err(io::Error::from_raw_os_error(libc::ENOSYS))
        } else {
            sys::pidfd_open(pid)
        };
        match pidfd {
            Ok(fd) => {
                let mut watch = Watch::new(fd.as_raw_fd());
                watch.wanted = READ;
                if let Some(p) = process_state(self, id) {
                    p.pidfd = Some(fd);
                    p.watch = Some(watch);
                }
                self.watch_register(id)
            }
            Err(e) => {
                tracing::debug!(error = %e, "pidfd_open unavailable; reaping children on SIGCHLD");
                if self.signals.sigchld.is_none() {
                    let h = self.signal_start(libc::SIGCHLD, |lp, _, _| lp.process_reap_children())?;
                    self.unref(h.handle());
                    self.signals.sigchld = Some(h);
                }
                self.signals.sigchld_children.push(id);
                // An exit before SIGCHLD was blocked sent its signal to the
                // old disposition; look once, from a clean stack.
                self.defer(Box::new(|lp| lp.process_reap_children()));
                Ok(())
            }
        }
    }

    /// Undoes a spawn that failed after the child started: kill it, reap it
    /// (it dies at once), drop its handle and streams.
    fn process_abandon(&mut self, id: HandleId, pid: u32, streams: Vec<StreamId>) {
        let _ = sys::kill(pid, libc::SIGKILL);
        let _ = sys::waitpid(pid, false);
        for s in streams {
            self.close(s.handle(), None);
        }
        self.process_on_close(id);
        self.handles.remove(id);
    }

    /// The pidfd is readable: the child has exited.
    pub(crate) fn process_ready(&mut self, id: HandleId) {
        self.process_try_reap(id);
    }

    /// On SIGCHLD (fallback path): reap every fallback child that exited (a
    /// standard signal may stand for several exits).
    fn process_reap_children(&mut self) {
        for id in self.signals.sigchld_children.clone() {
            self.process_try_reap(id);
        }
    }

    /// Reaps the child if it has exited, and reports the exit.
    fn process_try_reap(&mut self, id: HandleId) {
        let Some(pid) = process_state(self, id).map(|p| p.pid) else { return };
        match sys::waitpid(pid, true) {
            Ok(Some(status)) => self.process_exited(id, Some(status)),
            Ok(None) => {} // still running: a spurious wake-up, or another child's SIGCHLD
            Err(e) => {
                // ECHILD: someone else reaped it (a `waitpid(-1)` elsewhere,
                // or SIGCHLD set to SIG_IGN); the status is lost.
                tracing::warn!(pid, error = %e, "a child was reaped behind the loop's back; no exit status");
                self.process_exited(id, None);
            }
        }
    }

    /// The child is reaped: stop watching, go inactive, report.
    fn process_exited(&mut self, id: HandleId, status: Option<ExitStatus>) {
        self.process_stop_watching(id);
        let Some(p) = process_state(self, id) else { return };
        p.exited = true;
        let on_exit = p.on_exit.take();
        self.handles.set_active(id, false);
        if let (Some(cb), Some(status)) = (on_exit, status) {
            self.timed(id, |lp| cb(lp, ProcessId(id), status));
        }
    }

    /// Forgets the pidfd (off the poller first) or the SIGCHLD registration.
    fn process_stop_watching(&mut self, id: HandleId) {
        self.watch_unregister(id);
        if let Some(p) = process_state(self, id) {
            p.watch = None;
            p.pidfd = None;
        }
        let children = &mut self.signals.sigchld_children;
        if let Some(at) = children.iter().position(|x| *x == id) {
            children.swap_remove(at);
            if children.is_empty() {
                if let Some(h) = self.signals.sigchld.take() {
                    self.close(h.handle(), None);
                }
            }
        }
    }

    pub(crate) fn process_on_close(&mut self, id: HandleId) {
        self.process_stop_watching(id);
    }
}

fn std_stdio(s: Stdio) -> std::process::Stdio {
    match s {
        Stdio::Inherit => std::process::Stdio::inherit(),
        Stdio::Null => std::process::Stdio::null(),
        Stdio::Pipe => std::process::Stdio::piped(),
    }
}
