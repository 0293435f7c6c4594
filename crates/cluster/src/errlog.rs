//! The error log (nginx's `error_log`): where the master's and the
//! workers' `tracing` output goes, standard error by default.
//!
//! The file is process-wide state, because a `tracing` subscriber is:
//! install [`ErrorLog`] as the subscriber's writer once, at the top of
//! `main`, and the cluster points it at the configured path when it
//! loads the configuration ([`crate::run`], and on every `SIGHUP`). Each
//! event is written with a single `write(2)` on a descriptor opened with
//! `O_APPEND`, unbuffered: lines from the master and every worker, all
//! appending to the same file, land whole and in order, and nothing is
//! lost in a buffer when a worker crashes. Terminal colour codes are
//! stripped from what goes to a file.
//!
//! Workers inherit the master's descriptor across `fork` (the cluster
//! keeps it open when it closes the master's other descriptors in the
//! worker), so they write to it even after giving up root.
//!
//! # Reopening (`SIGUSR1`) after a privilege drop
//!
//! A log rotator renames the file and sends `USR1`; every process must
//! then open the path again. A worker that runs as an unprivileged user
//! ([`WorkerUser`](crate::WorkerUser)) may not be allowed to create a file
//! in a root-owned log directory, nor even to enter it. nginx solves the
//! first in the master, and so does Spindle: on `USR1` (and at start and
//! on reload) the master, still root, opens every log file (this error
//! log and the application's
//! [`ClusterConfig::log_files`](crate::ClusterConfig::log_files), creating
//! the missing ones), gives each to the worker user (`fchown`, and owner
//! read/write added to its mode), and reopens its own error log. Then,
//! unlike nginx, whose workers reopen by name and fail in a folder they
//! cannot enter (writing on to the rotated file), it hands the open files
//! to each worker of the current generation over its channel
//! (`SCM_RIGHTS`) before telling it to reopen: the worker adopts them,
//! and opens by name (files that exist and that it owns) only what it was
//! not given. Workers forked later inherit the files the master holds.

use crate::user::WorkerUser;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

struct Target {
    path: Option<PathBuf>,
    file: Option<Arc<File>>,
}

/// The current target. A plain mutex: the master is single-threaded
/// (which also means it is never held across `fork`), and a worker's
/// runtime is current-thread.
static TARGET: Mutex<Target> = Mutex::new(Target { path: None, file: None });

fn target() -> std::sync::MutexGuard<'static, Target> {
    TARGET.lock().unwrap_or_else(|p| p.into_inner())
}

fn open(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// The process's error log: a `tracing_subscriber` writer that goes to
/// the configured file, or to standard error when none is.
///
/// ```
/// use spindle_cluster::ErrorLog;
///
/// let _subscriber = tracing_subscriber::fmt().with_writer(ErrorLog).finish();
/// // Standard error until a path is set.
/// assert_eq!(ErrorLog::path(), None);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct ErrorLog;

impl ErrorLog {
    /// Sends the log to `path` (opened now, created if missing, appended
    /// to), or back to standard error with `None`. Nothing changes when
    /// `path` is the current one.
    ///
    /// # Errors
    /// The `open` error; the log keeps its previous target.
    pub fn set(path: Option<&Path>) -> io::Result<()> {
        let mut t = target();
        if t.path.as_deref() == path {
            return Ok(());
        }
        let file = path.map(open).transpose()?;
        t.path = path.map(Path::to_path_buf);
        t.file = file.map(Arc::new);
        Ok(())
    }

    /// Opens the current path again (after a rotation renamed it).
    ///
    /// # Errors
    /// The `open` error; the log keeps writing to the file it had.
    pub fn reopen() -> io::Result<()> {
        let mut t = target();
        let Some(path) = t.path.clone() else { return Ok(()) };
        t.file = Some(Arc::new(open(&path)?));
        Ok(())
    }

    /// Goes on in `file`, the current path opened by someone else (the
    /// master, for a worker that may not open it itself).
    pub(crate) fn adopt(file: File) {
        let mut t = target();
        if t.path.is_some() {
            t.file = Some(Arc::new(file));
        }
    }

    /// The open file, shared; `None` for standard error.
    pub(crate) fn file() -> Option<Arc<File>> {
        target().file.clone()
    }

    /// The file the log goes to; `None` for standard error.
    pub fn path() -> Option<PathBuf> {
        target().path.clone()
    }

    /// The open file's descriptor, which a worker keeps across `fork`.
    pub(crate) fn raw_fd() -> Option<RawFd> {
        target().file.as_ref().map(|f| f.as_raw_fd())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for ErrorLog {
    type Writer = ErrorLogWriter;

    fn make_writer(&'a self) -> ErrorLogWriter {
        ErrorLogWriter { file: target().file.clone() }
    }
}

/// Writes one event to the error log (see [`ErrorLog`]).
#[derive(Debug)]
pub struct ErrorLogWriter {
    file: Option<Arc<File>>,
}

impl Write for ErrorLogWriter {
    /// Writes `buf`, or drops it if it cannot be written, and says it was
    /// written either way. The error log is where failures are reported;
    /// one writing it has nowhere to go. Reporting it to tracing-subscriber
    /// made it print a complaint with `eprintln!`, which panics when
    /// standard error is a broken pipe (its reader gone: a `| tee` that
    /// died, a restarted journald): a master died at its next log line,
    /// and a worker in the middle of obeying a drain or a stop.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let _ = self.write_or_fail(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl ErrorLogWriter {
    fn write_or_fail(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &self.file {
            None => io::stderr().write(buf),
            Some(f) => {
                if !buf.contains(&0x1b) {
                    return (&**f).write(buf);
                }
                // Reports the whole buffer written: the stripped bytes
                // were consumed.
                (&**f).write_all(&strip_ansi(buf))?;
                Ok(buf.len())
            }
        }
    }
}

/// `buf` without its `ESC [ ... letter` colour sequences.
fn strip_ansi(buf: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(buf.len());
    let mut i = 0;
    while i < buf.len() {
        if buf[i] == 0x1b && buf.get(i + 1) == Some(&b'[') {
            i += 2;
            while i < buf.len() && !buf[i].is_ascii_alphabetic() {
                i += 1;
            }
            i += 1;
        } else {
            out.push(buf[i]);
            i += 1;
        }
    }
    out
}

/// In the master, before workers (re)open them: opens each of `paths`
/// (creating the missing ones) and, with `user`, makes it the user's and
/// owner-writable (nginx's `ngx_reopen_files`). Returns the files it
/// opened, for workers forked later to inherit. Failures are logged; a
/// worker that then cannot open a file logs its own error.
pub(crate) fn prepare(paths: &[&Path], user: Option<&WorkerUser>) -> Vec<(PathBuf, File)> {
    let mut out = Vec::new();
    for p in paths {
        match prepare_one(p, user) {
            Ok(f) => out.push((p.to_path_buf(), f)),
            Err(e) => {
                tracing::error!(path = %p.display(), error = %e, "cannot prepare a log file for the workers")
            }
        }
    }
    out
}

fn prepare_one(path: &Path, user: Option<&WorkerUser>) -> io::Result<File> {
    let f = open(path)?;
    let Some(u) = user else { return Ok(f) };
    let meta = f.metadata()?;
    if meta.uid() != u.uid {
        std::os::unix::fs::fchown(&f, Some(u.uid), None)?;
    }
    let mode = meta.permissions().mode();
    if mode & 0o600 != 0o600 {
        f.set_permissions(std::fs::Permissions::from_mode(mode | 0o600))?;
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_codes_are_stripped() {
        assert_eq!(strip_ansi(b"\x1b[2m2026\x1b[0m \x1b[32m INFO\x1b[0m x\n"), b"2026  INFO x\n");
        assert_eq!(strip_ansi(b"plain"), b"plain");
    }
}
