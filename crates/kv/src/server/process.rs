//! Running the server as a process, as redis-server runs: the log
//! (`logfile`, `loglevel`), `daemonize`, and the `pidfile`.
//!
//! With `daemonize yes` the process forks before anything starts a thread
//! (the lazy-free thread, IO threads), the child leaves the terminal's
//! session (`setsid`) with its standard streams on `/dev/null`, and the
//! parent waits until the child listens and has written its pid file,
//! then exits 0 — or, if the child could not start, prints its error and
//! exits 1 (redis-server's parent exits at once; waiting tells the caller
//! whether the server came up). Without a `pidfile`, a daemon writes
//! `/var/run/redis.pid`, as Redis does.
//!
//! Under systemd (`supervised systemd`, or `auto` with `NOTIFY_SOCKET` in
//! the environment, as Debian's `redis-server.service` runs it with
//! `Type=notify`), the server sends `READY=1` once it listens and
//! `STOPPING=1` when it stops.

use super::{bind, logging, Config};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

/// The pid file a daemon writes when `pidfile` is not set.
pub const DEFAULT_PIDFILE: &str = "/var/run/redis.pid";

/// Why the server could not start, already written to its log (the
/// inner error of the `io::Error` [`serve`] returns then). A caller whose
/// log is standard error need not print it again.
#[derive(Debug)]
pub struct Logged(pub io::Error);

impl std::fmt::Display for Logged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Logged {}

/// Runs the server until SHUTDOWN or a stop signal: sets up the log,
/// daemonizes if asked, binds, writes the pid file, calls `announce` with
/// the listening addresses, loads the dataset (answering clients with
/// `-LOADING` meanwhile, as Redis does: `announce` comes before it),
/// serves, and removes the pid file at the end. Must be called before the
/// process starts any thread.
///
/// # Errors
/// A log file that cannot be opened, a failed fork, a bind failure, a
/// dataset that cannot be loaded, or the event loop's error.
pub fn serve(mut config: Config, announce: impl FnOnce(&[SocketAddr])) -> io::Result<()> {
    logging::init(&config.logfile, &config.loglevel)?;
    super::crash::install();
    let detached = if config.daemonize {
        config.pidfile.get_or_insert_with(|| PathBuf::from(DEFAULT_PIDFILE));
        Some(daemonize()?)
    } else {
        None
    };
    let pidfile = config.pidfile.clone();
    let systemd = match config.supervised.as_str() {
        "systemd" => std::env::var_os("NOTIFY_SOCKET"),
        "auto" if std::env::var_os("UPSTART_JOB").is_none() => std::env::var_os("NOTIFY_SOCKET"),
        _ => None,
    };
    let fail = |e: io::Error, detached: Option<Detached>| {
        tracing::error!(error = %e, "cannot start the server");
        if let Some(d) = detached {
            d.report(e.to_string().as_bytes());
        }
        io::Error::new(e.kind(), Logged(e))
    };
    let mut prepared = match bind(config) {
        Ok(p) => p,
        Err(e) => return Err(fail(e, detached)),
    };
    if let Some(p) = &pidfile {
        // As Redis: a pid file that cannot be written is logged, not fatal.
        if let Err(e) = std::fs::write(p, format!("{}\n", std::process::id())) {
            tracing::warn!(path = %p.display(), error = %e, "failed to write the PID file");
        }
    }
    // Before the dataset loads: clients can connect while it does.
    announce(&prepared.local_addrs());
    let loaded = match prepared.load() {
        Ok(loaded) => loaded,
        Err(e) => {
            // Closed before the error is logged, so that it is the log's
            // last line (Redis's test suite reads it with `tail -1`).
            drop(prepared);
            if let Some(p) = &pidfile {
                let _ = std::fs::remove_file(p);
            }
            return Err(fail(e, detached));
        }
    };
    if !loaded {
        // Stopped while loading: no "Ready" (the loop will not run).
        let result = prepared.run();
        if let Some(p) = &pidfile {
            let _ = std::fs::remove_file(p);
        }
        return result;
    }
    // Redis's words: scripts and container health checks wait for this
    // line in the log before they connect.
    tracing::info!("Ready to accept connections");
    if let Some(d) = detached {
        d.report(b"ok");
    }
    if let Some(sock) = &systemd {
        notify_systemd(sock, "STATUS=Ready to accept connections\nREADY=1\n");
    }
    let result = prepared.run();
    if let Some(sock) = &systemd {
        notify_systemd(sock, "STOPPING=1\n");
    }
    if let Some(p) = &pidfile {
        let _ = std::fs::remove_file(p);
    }
    result
}

/// Logs, once the listeners are bound, the line Redis logs there: with
/// `always-show-logo yes` its logo's facts (version, mode, port and
/// `PID: N`, which Redis's own test harness waits for before it
/// connects), otherwise `Running mode=standalone, port=N.`.
pub(crate) fn log_start_banner(addrs: &[SocketAddr], show_logo: bool) {
    let port = addrs.first().map_or(0, SocketAddr::port);
    if show_logo {
        tracing::info!(
            "spindle kv {} (Redis {} compatible) 64 bit, running in standalone mode. Port: {port} PID: {}",
            env!("CARGO_PKG_VERSION"),
            crate::cmd::info::REDIS_VERSION,
            std::process::id()
        );
    } else {
        tracing::info!("Running mode=standalone, port={port}.");
    }
}

/// `sd_notify`: one datagram to systemd's socket (`@name` is in the
/// abstract namespace). A failure is logged, as Redis logs it.
fn notify_systemd(socket: &std::ffi::OsStr, msg: &str) {
    use std::os::unix::net::UnixDatagram;
    let sent = (|| -> io::Result<()> {
        let s = UnixDatagram::unbound()?;
        let path = socket.as_encoded_bytes();
        if let Some(name) = path.strip_prefix(b"@") {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            s.send_to_addr(msg.as_bytes(), &addr)?;
        } else {
            s.send_to(msg.as_bytes(), socket)?;
        }
        Ok(())
    })();
    if let Err(e) = sent {
        tracing::warn!(error = %e, "systemd supervision error: cannot notify NOTIFY_SOCKET");
    }
}

/// The daemon's side of the channel to the waiting parent.
struct Detached(UnixStream);

impl Detached {
    /// Tells the parent how start-up went (`ok`, or the error) and lets it
    /// exit.
    fn report(mut self, msg: &[u8]) {
        let _ = self.0.write_all(msg);
    }
}

/// Forks; returns in the child (the daemon) only. The parent waits for the
/// child's report and exits.
fn daemonize() -> io::Result<Detached> {
    let threads = std::fs::read_dir("/proc/self/task").map(|d| d.count()).unwrap_or(1);
    if threads > 1 {
        return Err(io::Error::other(format!(
            "cannot daemonize: the process already runs {threads} threads"
        )));
    }
    let (parent_end, child_end) = UnixStream::pair()?;
    let devnull = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null")?;
    if detach(devnull.as_raw_fd())? {
        drop(parent_end);
        Ok(Detached(child_end))
    } else {
        drop(child_end);
        wait_for_child(parent_end)
    }
}

/// `fork`; in the child, `setsid` and the standard streams onto `devnull`.
/// Returns whether this is the child.
fn detach(devnull: RawFd) -> io::Result<bool> {
    // SAFETY: the process has a single thread (daemonize checks it), so the
    // child is a complete copy with no lock held by a vanished thread.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid > 0 {
        return Ok(false);
    }
    // SAFETY: plain syscalls on integers; `devnull` is a descriptor the
    // caller keeps open across this call.
    unsafe {
        libc::setsid();
        for fd in 0..3 {
            libc::dup2(devnull, fd);
        }
    }
    Ok(true)
}

/// The parent: waits for the daemon's report, then exits 0 if it is
/// serving, 1 (with its error on standard error) if not.
fn wait_for_child(mut from_child: UnixStream) -> ! {
    let mut msg = Vec::new();
    let _ = from_child.read_to_end(&mut msg);
    if msg == b"ok" {
        std::process::exit(0);
    }
    if msg.is_empty() {
        eprintln!("the server exited during start-up");
    } else {
        eprintln!("{}", String::from_utf8_lossy(&msg));
    }
    std::process::exit(1)
}
