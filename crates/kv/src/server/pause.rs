//! CLIENT PAUSE: holding clients' commands for a while.
//!
//! An operator pauses clients to let a replica catch up or to fail over
//! without losing writes. While the pause lasts, a client whose next
//! command is held (every command with `ALL`, write commands with
//! `WRITE`) stops where it is: the command is set aside, the rest of its
//! input stays in its buffer, and the client is *postponed* (Redis's
//! `BLOCKED_POSTPONE`, counted in `blocked_clients`). When the pause
//! ends, by its deadline or by CLIENT UNPAUSE, the postponed clients
//! resume in the order they stopped. A request refused before it could
//! run (unknown, wrong arity, a RESP2 subscriber's GET, ...) is answered
//! at once, as Redis checks those first. An ALL pause holds CLIENT
//! commands too, CLIENT UNPAUSE included, as in Redis 7.0: it ends by its
//! deadline. The deadline is checked before the loop sleeps and in the
//! cron, so a pause ends at most one cron period (1/hz s) late.
//!
//! FAILOVER and a shutdown waiting for its replicas pause writes too, each
//! under its own [`Purpose`], so that CLIENT UNPAUSE cannot end theirs.

use super::client::Client;
use super::Server;
use crate::cmd::{self, Args};

/// Whether the pause in force holds this command of client `c`. As in
/// Redis's `processCommand`, a call refused before running (wrong number
/// of arguments, say) is not held (its error comes at once), and a write pause holds what may
/// replicate: write commands, PUBLISH, SPUBLISH and PFCOUNT (which may
/// rewrite its key), and an EXEC whose transaction holds one of those.
pub(crate) fn postpones(srv: &Server, c: &Client, args: &Args<'_>) -> bool {
    let Some((until, writes_only)) = srv.pause else { return false };
    if srv.now_ms >= until {
        return false;
    }
    if cmd::refused_before_pause(srv, c, args) {
        return false;
    }
    let Some(cmd) = cmd::lookup(args.get(0)) else { return false };
    if !writes_only || may_replicate(cmd) {
        return true;
    }
    cmd.name == "exec" && c.multi.as_ref().is_some_and(|m| m.queue.iter().any(|(q, _)| may_replicate(q.cmd)))
}

/// Redis's `CMD_WRITE | CMD_MAY_REPLICATE`.
fn may_replicate(c: &cmd::Command) -> bool {
    c.flags & cmd::WRITE != 0 || matches!(c.name, "publish" | "spublish" | "pfcount")
}

/// Why clients are paused. Each purpose keeps its own pause, as in Redis
/// 7: the one in force is the strictest of them (ALL over WRITE), until
/// the latest deadline among those of that strictness, and CLIENT UNPAUSE
/// ends only the pause CLIENT PAUSE started, not a failover's or a
/// shutdown's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// CLIENT PAUSE.
    Client = 0,
    /// A shutdown waiting for replicas to catch up.
    Shutdown = 1,
    /// FAILOVER waiting for its target.
    Failover = 2,
}

/// The pause of each [`Purpose`]: (until, Unix ms; writes only).
pub type Pauses = [Option<(i64, bool)>; 3];

/// Starts a pause for `purpose` until `until` (Unix ms), of writes only or
/// of all commands. A pause of the same purpose in force is extended to
/// the later deadline and the stricter mode (ALL), as in Redis. While any
/// pause lasts, keys do not expire (see [`crate::db::Db::expire_paused`]).
pub fn pause(srv: &mut Server, purpose: Purpose, until: i64, write_only: bool) {
    let slot = &mut srv.pauses[purpose as usize];
    *slot = Some(match *slot {
        Some((u, w)) => (u.max(until), w && write_only),
        None => (until, write_only),
    });
    update(srv);
}

/// Ends the pause of `purpose` (Redis's `unpauseClients`); clients run on
/// if no other purpose still holds them.
pub fn unpause(srv: &mut Server, purpose: Purpose) {
    if srv.pauses[purpose as usize].take().is_some() {
        update(srv);
    }
}

/// Recomputes the pause in force from the purposes' (dropping those whose
/// deadline passed). When it becomes less strict, every postponed client
/// runs its input again, to be held again if the remaining pause holds
/// its command (Redis's `updateClientPauseTypeAndEndTime`).
fn update(srv: &mut Server) {
    let now = srv.now_ms;
    for p in srv.pauses.iter_mut() {
        if p.is_some_and(|(until, _)| now >= until) {
            *p = None;
        }
    }
    let strictness = |p: &(i64, bool)| if p.1 { 1 } else { 2 };
    let old = srv.pause.as_ref().map_or(0, strictness);
    let strictest = srv.pauses.iter().flatten().map(strictness).max().unwrap_or(0);
    srv.pause = srv
        .pauses
        .iter()
        .flatten()
        .filter(|p| strictness(p) == strictest)
        .map(|p| p.0)
        .max()
        .map(|until| (until, strictest == 1));
    set_expire_paused(srv, srv.pause.is_some());
    if strictest < old {
        for (slot, id) in std::mem::take(&mut srv.postponed) {
            if let Some(c) = srv.clients.get_mut(slot).and_then(|c| c.as_mut()) {
                if c.id == id {
                    c.postponed = false;
                    srv.blocking.resume(slot, id);
                }
            }
        }
    }
}

fn set_expire_paused(srv: &Server, on: bool) {
    if let Some(db) = srv.dbs.first() {
        // A replica keeps expired keys until its master deletes them.
        db.expire_paused.set(on || srv.master.is_some());
    }
}

/// Sets the expiry mode for the server's role: a replica's expired keys
/// read as missing but stay (see [`crate::db::Db::expire_paused`]), as
/// during a pause.
pub fn role_changed(srv: &Server) {
    set_expire_paused(srv, srv.pause.is_some());
}

/// Ends the pause if its deadline has passed.
pub(crate) fn check_deadline(srv: &mut Server) {
    if srv.pause.is_some_and(|(until, _)| srv.now_ms >= until) {
        update(srv);
    }
}
