//! `FAILOVER`: a master hands its role to one of its replicas without
//! losing a write (Redis 6.2's coordinated failover).
//!
//! 1. The master pauses writes (its clients wait, as with `CLIENT PAUSE
//!    WRITE`) and stops its periodic PINGs, so that its replication
//!    offset stands still: state `waiting-for-sync`.
//! 2. Each cron it looks for the target (or, without `TO`, any replica)
//!    whose acknowledged offset equals its own: that replica has every
//!    write. With `TIMEOUT`, it gives up when the time is over, or with
//!    `FORCE` goes ahead anyway.
//! 3. State `failover-in-progress`: the master becomes a replica of the
//!    target and asks it `PSYNC <replid> <offset + 1> FAILOVER`. The
//!    target, seeing its own master's history, promotes itself first
//!    (`REPLICAOF NO ONE`), then answers `+CONTINUE`: nothing is copied.
//! 4. The pause ends once the target answered; if it refused the PSYNC
//!    (or the link broke after it was sent), the old master becomes a
//!    master again. A target that cannot be reached, or that fails the
//!    handshake before the PSYNC, is tried again every second, writes
//!    still paused, as Redis does, until it answers or `FAILOVER ABORT`.
//!
//! `FAILOVER ABORT` stops it at any step before the end; `REPLICAOF` is
//! refused meanwhile.

use crate::server::pause::Purpose;
use crate::server::Server;

/// Where a failover is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Writes are paused; waiting for a replica to catch up.
    WaitForSync,
    /// This server is becoming a replica of the target.
    InProgress,
}

/// A failover under way.
#[derive(Debug, Clone)]
pub struct Failover {
    /// Its step.
    pub state: State,
    /// The replica named with `TO`, or the one found caught up.
    pub target: Option<(String, u16)>,
    /// When `TIMEOUT` runs out (Unix ms).
    pub end_ms: Option<i64>,
    /// `FORCE`: fail over at the timeout even if the target lags.
    pub force: bool,
}

/// INFO's `master_failover_state`.
pub fn state_name(srv: &Server) -> &'static str {
    match srv.repl.failover.as_ref().map(|f| f.state) {
        None => "no-failover",
        Some(State::WaitForSync) => "waiting-for-sync",
        Some(State::InProgress) => "failover-in-progress",
    }
}

/// Starts a failover after the command checked its arguments; the error
/// text if it cannot (Redis's, in its order).
pub fn start(
    srv: &mut Server,
    target: Option<(String, u16)>,
    timeout_ms: i64,
    force: bool,
) -> Result<(), &'static str> {
    if srv.repl.failover.is_some() {
        return Err("ERR FAILOVER already in progress.");
    }
    if srv.master.is_some() {
        return Err("ERR FAILOVER is not valid when server is a replica.");
    }
    if srv.repl.replica_count() == 0 {
        return Err("ERR FAILOVER requires connected replicas.");
    }
    if force && (timeout_ms == 0 || target.is_none()) {
        return Err("ERR FAILOVER with force option requires both a timeout and target HOST and IP.");
    }
    if let Some((host, port)) = &target {
        match srv.repl.find_replica(srv, host, *port) {
            None => return Err("ERR FAILOVER target HOST and PORT is not a replica."),
            Some(false) => return Err("ERR FAILOVER target replica is not online."),
            Some(true) => tracing::info!("FAILOVER requested to {host}:{port}."),
        }
    } else {
        tracing::info!("FAILOVER requested to any replica.");
    }
    let end_ms = (timeout_ms > 0).then(|| srv.now_ms.saturating_add(timeout_ms));
    srv.repl.failover = Some(Failover { state: State::WaitForSync, target, end_ms, force });
    crate::server::pause::pause(srv, Purpose::Failover, i64::MAX, true);
    Ok(())
}

/// `FAILOVER ABORT`, or a failover that could not finish: this server is
/// a master again and writes resume.
pub fn abort(srv: &mut Server, why: &str) {
    let Some(f) = srv.repl.failover.take() else { return };
    match &f.target {
        Some((host, port)) => tracing::info!("FAILOVER to {host}:{port} aborted: {why}"),
        None => tracing::info!("FAILOVER to any replica aborted: {why}"),
    }
    if f.state == State::InProgress {
        super::replica::unfollow(srv);
    }
    crate::server::pause::unpause(srv, Purpose::Failover);
}

/// The target answered the PSYNC: the failover is done; writes resume
/// (they are refused now, this server being a replica).
pub fn finished(srv: &mut Server) {
    if srv.repl.failover.take().is_some() {
        crate::server::pause::unpause(srv, Purpose::Failover);
    }
}

/// Whether this server is becoming a replica in a failover (its PSYNC
/// carries `FAILOVER`).
pub fn in_progress(srv: &Server) -> bool {
    srv.repl.failover.as_ref().is_some_and(|f| f.state == State::InProgress)
}

/// From the cron: the timeout, and the check for a caught-up replica.
pub fn cron(srv: &mut Server) {
    let Some(f) = srv.repl.failover.clone() else { return };
    if f.state != State::WaitForSync {
        return;
    }
    if f.end_ms.is_some_and(|end| end <= srv.now_ms) {
        if !f.force {
            return abort(srv, "Replica never caught up before timeout");
        }
        if let Some((host, port)) = &f.target {
            tracing::info!("FAILOVER to {host}:{port} time out exceeded, failing over.");
            return fail_over_to(srv, host.clone(), *port);
        }
    }
    let offset = srv.repl.master_offset();
    let target = match &f.target {
        Some((host, port)) => {
            srv.repl.acked_at(srv, offset).into_iter().find(|(h, p)| h == host && p == port)
        }
        None => srv.repl.acked_at(srv, offset).into_iter().next(),
    };
    if let Some((host, port)) = target {
        tracing::info!("Failover target {host}:{port} is synced, failing over.");
        fail_over_to(srv, host, port);
    }
}

fn fail_over_to(srv: &mut Server, host: String, port: u16) {
    if let Some(f) = srv.repl.failover.as_mut() {
        f.state = State::InProgress;
        f.target = Some((host.clone(), port));
    }
    super::replica::follow(srv, &host, port);
    super::repl::disconnect_all(srv);
}
