//! The master–worker channel: one end of a `socketpair(AF_UNIX,
//! SOCK_STREAM)` made before the fork on each side.
//!
//! Every message is one byte; a connection handed over by the master
//! ([`AcceptStrategy::Master`](crate::AcceptStrategy::Master)) travels as
//! the byte [`CONN`] with its descriptor attached (`SCM_RIGHTS`, which
//! makes the kernel install a duplicate of the descriptor in the
//! receiving process). End of stream means the master is gone: the
//! worker drains, and stops once `shutdown_timeout` has passed, as the
//! master would have stopped it (nobody else will).
//!
//! The worker counts its wake-ups for the channel as it does for a
//! listener (each ends in one `recvmsg` that says `EAGAIN`; one that
//! brought no connection is futile), so that the herd table charges the
//! `master` strategy for both the master's wake-up and the worker's.

use crate::accept::FdQueue;
use crate::errlog::ErrorLog;
use crate::stats::{Counter, Stats};
use crate::sys;
use crate::worker::ControlHandle;
use spindle_rt::io::Direction;
use spindle_rt::net::UnixStream;
use std::io;
use std::os::fd::AsRawFd;
use std::sync::Arc;

/// Order: stop accepting, finish what is in flight, exit.
pub(crate) const DRAIN: u8 = b'D';
/// Order: drop everything and exit now.
pub(crate) const STOP: u8 = b'S';
/// Order: reopen log files.
pub(crate) const REOPEN: u8 = b'R';
/// A connection, with its descriptor attached.
pub(crate) const CONN: u8 = b'C';
/// Before a [`REOPEN`]: the error log the master has just opened, its
/// descriptor attached.
pub(crate) const ERROR_LOG: u8 = b'E';
/// Before a [`REOPEN`]: `LOG_FILE + i`, the application's log file `i`
/// ([`ClusterConfig::log_files`](crate::ClusterConfig::log_files)) the
/// master has just opened, its descriptor attached.
pub(crate) const LOG_FILE: u8 = 0x80;
/// How many application log files can be handed over (the rest are
/// reopened by name).
pub(crate) const MAX_LOG_FILES: usize = 0x40;

/// Sends one order without blocking; a full or closed channel is an
/// error the master logs (the worker's exit is reported by `SIGCHLD`).
pub(crate) fn send(chan: &impl AsRawFd, order: u8) -> io::Result<()> {
    sys::send_msg(chan.as_raw_fd(), order, None)
}

/// Sends `order` with a duplicate of descriptor `fd` attached.
pub(crate) fn send_fd(chan: &impl AsRawFd, order: u8, fd: &impl AsRawFd) -> io::Result<()> {
    sys::send_msg(chan.as_raw_fd(), order, Some(fd.as_raw_fd()))
}

/// The worker's side: obeys orders until the channel closes, which counts
/// as an order to drain, followed by one to stop after `shutdown_timeout`
/// (the master enforces that limit on a drain it orders; with the master
/// gone, a slow client could otherwise keep the orphaned worker alive for
/// as long as it likes).
pub(crate) async fn obey(
    chan: UnixStream,
    handle: ControlHandle,
    queue: Arc<FdQueue>,
    stats: Stats,
    shutdown_timeout: std::time::Duration,
    log_paths: Vec<std::path::PathBuf>,
) {
    let fd = chan.as_raw_fd();
    // The error log the master handed over for the next reopen.
    let mut error_log: Option<std::fs::File> = None;
    // Connections received since the last `EAGAIN`.
    let mut got = 0u64;
    // Connections that came without their descriptor since the last
    // report of them, and when that was.
    let mut lost = 0u64;
    let mut last_lost_log: Option<std::time::Instant> = None;
    loop {
        let next = chan.async_io(Direction::Read, || match sys::recv_msg(fd) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                stats.add(Counter::Wakeups, 1);
                if got == 0 {
                    stats.add(Counter::FutileWakeups, 1);
                }
                got = 0;
                Err(e)
            }
            other => other,
        });
        match next.await {
            Ok(Some((order, fds))) => match order {
                DRAIN => handle.drain(),
                STOP => handle.stop(),
                ERROR_LOG if fds.len() == 1 => error_log = fds.into_iter().next().map(std::fs::File::from),
                o if o >= LOG_FILE && fds.len() == 1 => {
                    if let (Some(path), Some(f)) =
                        (log_paths.get(usize::from(o - LOG_FILE)), fds.into_iter().next())
                    {
                        handle.give_log_file(path.clone(), f.into());
                    }
                }
                REOPEN => {
                    // The master has opened the files and handed them over
                    // just before (see `errlog`); by name otherwise (the
                    // master has made them ours first).
                    let reopened = match error_log.take() {
                        Some(f) => {
                            ErrorLog::adopt(f);
                            Ok(())
                        }
                        None => ErrorLog::reopen(),
                    };
                    match reopened {
                        Ok(()) => tracing::info!(pid = sys::getpid(), "worker reopened its logs"),
                        Err(e) => tracing::error!(error = %e, "worker cannot reopen the error log"),
                    }
                    handle.reopen();
                }
                CONN if fds.is_empty() => {
                    // The kernel could not give us the descriptor (out of
                    // descriptors: MSG_CTRUNC): the connection is gone.
                    // Logged at most once a second with the count, as the
                    // other strategies log EMFILE: the master goes on
                    // handing connections over, and a line for each would
                    // flood the error log just when the worker is swamped.
                    lost += 1;
                    let now = std::time::Instant::now();
                    if last_lost_log.is_none_or(|t| now - t >= std::time::Duration::from_secs(1)) {
                        tracing::warn!(
                            lost,
                            "connections from the master arrived without their descriptor (out of descriptors)"
                        );
                        last_lost_log = Some(now);
                        lost = 0;
                    }
                    stats.add(Counter::Closed, 1);
                }
                CONN => {
                    got += fds.len() as u64;
                    fds.into_iter().for_each(|f| queue.push(f));
                }
                other => tracing::warn!(order = other, "unknown order from the master"),
            },
            Ok(None) | Err(_) => {
                // The order first, the log line after: nothing the logging
                // does may keep the worker from obeying.
                handle.drain();
                tracing::warn!(
                    pid = sys::getpid(),
                    "the master is gone; draining, then stopping after shutdown_timeout"
                );
                spindle_rt::time::sleep(shutdown_timeout).await;
                handle.stop();
                tracing::warn!(pid = sys::getpid(), "still draining after shutdown_timeout; stopping");
                return;
            }
        }
    }
}
