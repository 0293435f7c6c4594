//! CLIENT PAUSE: holding clients' commands for a while.
//!
//! An operator pauses clients to let a replica catch up or to fail over
//! without losing writes. While the pause lasts, a client whose next
//! command is held (every command with `ALL`, write commands with
//! `WRITE`) stops where it is: the command is set aside, the rest of its
//! input stays in its buffer, and the client is *postponed* (Redis's
//! `BLOCKED_POSTPONE`, counted in `blocked_clients`). When the pause ends, by its deadline or by
//! CLIENT UNPAUSE, the postponed clients resume in the order they stopped.
//! A request refused before it could run (unknown, wrong arity, a RESP2
//! subscriber's GET, ...) is answered at once, as Redis checks those
//! first. An ALL pause holds CLIENT commands too, CLIENT UNPAUSE
//! included, as in Redis 7.0: it ends by its deadline. The deadline is checked before the loop sleeps and in the
//! cron, so a pause ends at most one cron period (1/hz s) late.

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

/// Starts a pause until `until` (Unix ms), of writes only or of all
/// commands. A pause in force is extended to the later deadline and the
/// stricter mode (ALL), as in Redis. While it lasts, keys do not expire
/// (see [`crate::db::Db::expire_paused`]).
pub fn pause(srv: &mut Server, until: i64, write_only: bool) {
    let (until, write_only) = match srv.pause {
        Some((u, w)) => (u.max(until), w && write_only),
        None => (until, write_only),
    };
    srv.pause = Some((until, write_only));
    set_expire_paused(srv, true);
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

/// Ends the pause and lets every postponed client run its input again.
pub fn unpause(srv: &mut Server) {
    srv.pause = None;
    set_expire_paused(srv, false);
    for (slot, id) in std::mem::take(&mut srv.postponed) {
        if let Some(c) = srv.clients.get_mut(slot).and_then(|c| c.as_mut()) {
            if c.id == id {
                c.postponed = false;
                srv.blocking.resume(slot, id);
            }
        }
    }
}

/// Ends the pause if its deadline has passed.
pub(crate) fn check_deadline(srv: &mut Server) {
    if let Some((until, _)) = srv.pause {
        if srv.now_ms >= until {
            unpause(srv);
        }
    }
}
