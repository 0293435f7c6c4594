//! Shutting down without losing what the replicas have not yet received
//! (Redis 7's `prepareForShutdown`, `shutdown-timeout`).
//!
//! A master's replicas get its writes asynchronously, so at any moment the
//! last few may exist only in the master's memory and in output buffers on
//! their way. Stopping then would lose them for every replica that is
//! promoted later. So a master with replicas does not stop at once on
//! SHUTDOWN or a stop signal:
//!
//! 1. If some replica's acknowledged offset is behind the master's, the
//!    master pauses writes (so its offset stands still), asks every
//!    replica for its offset (`REPLCONF GETACK *`) and waits, at most
//!    `shutdown-timeout` seconds (default 10). The SHUTDOWN client waits
//!    too, blocked; INFO shows `shutdown_in_milliseconds`.
//! 2. Each cron it checks again. Once every replica has acknowledged the
//!    whole stream, or the time is up, it logs the replicas still lagging
//!    and "N of M replicas are in sync when shutting down." and finishes
//!    as it would have at once: final save, AOF fsync, exit.
//! 3. If finishing fails (a save that cannot be written, without FORCE),
//!    the shutdown is cancelled: the SHUTDOWN clients get "Errors trying to
//!    SHUTDOWN. Check logs." and writes resume. `SHUTDOWN ABORT` cancels
//!    a waiting shutdown the same way.
//!
//! `SHUTDOWN NOW`, `shutdown-timeout 0` and a server without replicas skip
//! the wait. A second SIGINT while waiting exits at once (see
//! `stop_signal`).

use super::pause::{self, Purpose};
use super::{Loop, Server, Shared};
use crate::persist::ShutdownSave;

/// A shutdown waiting for replicas (Redis's `shutdown_mstime` and
/// `shutdown_flags`).
#[derive(Debug, Clone, Copy)]
pub struct Waiting {
    /// When to stop waiting (Unix ms).
    pub deadline_ms: i64,
    mode: ShutdownSave,
    force: bool,
}

/// What [`begin`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The server is ready to exit: stop the loop.
    Stop,
    /// The final save failed: the server keeps running (why is logged).
    Refused,
    /// Waiting for lagging replicas; the cron finishes it.
    Waiting,
}

/// Starts a shutdown (Redis's `prepareForShutdown`): at once when `now`,
/// when `shutdown-timeout` is 0 or when every replica has the whole
/// stream, otherwise by pausing writes and waiting for the replicas. A
/// shutdown already waiting is left as it is ([`Outcome::Waiting`]).
pub fn begin(srv: &mut Server, mode: ShutdownSave, force: bool, now: bool) -> Outcome {
    if srv.shutdown_wait.is_some() {
        return Outcome::Waiting;
    }
    let timeout_s =
        srv.config.inert.get("shutdown-timeout").and_then(|v| v.parse::<i64>().ok()).unwrap_or(10);
    if !now && timeout_s > 0 && !replicas_caught_up(srv) {
        let deadline_ms = srv.now_ms.saturating_add(timeout_s.saturating_mul(1000));
        srv.shutdown_wait = Some(Waiting { deadline_ms, mode, force });
        if srv.pause.is_none() {
            srv.repl.want_acks = true;
        }
        pause::pause(srv, Purpose::Shutdown, i64::MAX, true);
        tracing::info!("Waiting for replicas before shutting down.");
        return Outcome::Waiting;
    }
    finish(srv, mode, force)
}

/// Whether every replica acknowledged the stream up to the master's
/// offset (Redis's `isReadyToShutdown`); true without replicas.
fn replicas_caught_up(srv: &Server) -> bool {
    srv.repl.all_acked(srv.repl.master_offset())
}

/// Logs the replicas that are behind, then stops a child, flushes the AOF
/// and saves as `mode` says (Redis's `finishShutdown`). A failure cancels
/// the shutdown.
fn finish(srv: &mut Server, mode: ShutdownSave, force: bool) -> Outcome {
    let offset = srv.repl.master_offset();
    let lagging = srv.repl.lagging(srv, offset);
    for l in &lagging {
        tracing::warn!(
            "Lagging replica {} reported offset {} behind master, lag={}, state={}.",
            l.name,
            l.behind,
            l.lag_s,
            l.state
        );
    }
    let total = srv.repl.replica_count();
    if total > 0 {
        tracing::info!("{} of {} replicas are in sync when shutting down.", total - lagging.len(), total);
    }
    if crate::persist::finish_shutdown(srv, mode, force).is_ok() {
        srv.persist.shutdown_save = ShutdownSave::NoSave;
        srv.shutdown = true;
        srv.listening.stop_all();
        return Outcome::Stop;
    }
    tracing::warn!("Errors trying to shut down the server. Check the logs for more information.");
    cancel(srv);
    Outcome::Refused
}

/// Ends a shutdown that will not happen (Redis's `cancelShutdown`): the
/// SHUTDOWN clients get an error and writes resume.
fn cancel(srv: &mut Server) {
    srv.shutdown_wait = None;
    srv.shutdown_asap = None;
    super::blocking::fail_shutdown_waiters(srv);
    pause::unpause(srv, Purpose::Shutdown);
}

/// `SHUTDOWN ABORT`: cancels a shutdown that waits for replicas, or a
/// stop signal's not yet carried out. False if there was neither.
pub fn abort(srv: &mut Server) -> bool {
    if srv.shutdown_wait.is_some() {
        cancel(srv);
    } else if srv.shutdown_asap.take().is_none() {
        return false;
    }
    tracing::info!("Shutdown manually aborted.");
    true
}

/// From the cron, first: carries out a stop signal's shutdown, with the
/// flags `shutdown-on-sigint` or `shutdown-on-sigterm` give it, and
/// finishes a waiting shutdown once its replicas caught up or its time
/// ran out. True if the loop is stopping.
pub(super) fn cron(lp: &mut Loop, srv: &mut Server) -> bool {
    let outcome = if let Some(w) = srv.shutdown_wait {
        if srv.now_ms < w.deadline_ms && !replicas_caught_up(srv) {
            return false;
        }
        srv.shutdown_wait = None;
        finish(srv, w.mode, w.force)
    } else if let Some(signum) = srv.shutdown_asap {
        let flags = if signum == libc::SIGINT {
            &srv.config.shutdown_on_sigint
        } else {
            &srv.config.shutdown_on_sigterm
        };
        let now = flags.split_whitespace().any(|w| w.eq_ignore_ascii_case("now"));
        let (mode, force) = ShutdownSave::from_flags(flags);
        let outcome = begin(srv, mode, force, now);
        if outcome == Outcome::Refused {
            tracing::warn!(
                "SIGTERM received but errors trying to shut down the server, check the logs for more information"
            );
        }
        outcome
    } else {
        return false;
    };
    if outcome == Outcome::Stop {
        lp.stop();
        return true;
    }
    false
}

/// SIGINT or SIGTERM: as Redis's `sigShutdownHandler`, the shutdown is
/// only scheduled here, for the cron, which can refuse it (a final save
/// that fails keeps the server running) and which SHUTDOWN ABORT can
/// cancel. A second SIGINT before it ran, or while it waits for replicas,
/// means "now": the process exits at once (as it does during the final
/// save; see `persist::snapshot`).
pub(super) fn stop_signal(shared: &Shared, signum: i32) {
    let mut srv = shared.borrow_mut();
    if srv.shutdown_asap.is_some() && signum == libc::SIGINT {
        tracing::warn!("You insist... exiting now.");
        let _ = std::fs::remove_file(crate::persist::snapshot::temp_rdb_path(&srv, std::process::id()));
        std::process::exit(1);
    }
    let msg = match signum {
        _ if srv.load_state.is_some() => "Received shutdown signal during loading, scheduling shutdown.",
        libc::SIGINT => "Received SIGINT scheduling shutdown...",
        libc::SIGTERM => "Received SIGTERM scheduling shutdown...",
        _ => "Received shutdown signal, scheduling shutdown...",
    };
    tracing::warn!("{msg}");
    srv.shutdown_asap = Some(signum);
}
