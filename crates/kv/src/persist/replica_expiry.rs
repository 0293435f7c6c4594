//! Expiry on a replica, as Redis 7 does it.
//!
//! A replica's keys are its master's, and so are their deadlines: the
//! master deletes a key when it expires and streams the DEL. If the
//! replica deleted keys on its own clock as well, the two could disagree
//! for a moment in the other direction too: a command the master ran just
//! before a deadline (`PERSIST`, `APPEND`) reaches the replica just after
//! it, finds the key gone, and the copies differ for good. So:
//!
//! - for its clients, an expired key reads as missing but stays (the
//!   databases' pause mode, [`crate::db::Db::expire_paused`]); DBSIZE
//!   still counts it, and a write to it replaces it;
//! - the master's commands see every key as live
//!   ([`crate::db::Db::expire_off`] while they run), as on the master;
//! - the active expire cycle does not run. The exception is a writable
//!   replica (`replica-read-only no`): keys its own clients gave a
//!   deadline are unknown to the master, so the replica notes them
//!   ([`run_command`]) and expires them itself ([`expire_own_keys`],
//!   Redis's `expireSlaveKeys`).

use crate::db::{Key, NO_EXPIRE};
use crate::server::Server;

/// Runs `f`, one command on a replica: with every key live if it comes
/// from the master (`from_master`), and with the deadlines it sets noted
/// if it comes from a client of a writable replica.
pub fn run_command<T>(srv: &mut Server, from_master: bool, f: impl FnOnce(&mut Server) -> T) -> T {
    let Some(db) = srv.dbs.first() else { return f(srv) };
    if from_master {
        let flag = db.expire_off.clone();
        let before = flag.replace(true);
        let out = f(srv);
        flag.set(before);
        return out;
    }
    if !srv.repl.replica_writable {
        return f(srv);
    }
    db.track_ttl.set(true);
    let out = f(srv);
    note_own_ttls(srv);
    out
}

/// After a command of a writable replica's client: the keys it gave a
/// deadline join the replica's own keys with a deadline.
fn note_own_ttls(srv: &mut Server) {
    if let Some(db) = srv.dbs.first() {
        db.track_ttl.set(false);
    }
    for (i, db) in srv.dbs.iter_mut().enumerate() {
        for key in db.ttl_log.drain(..) {
            srv.replica_own_ttls.insert((i, key));
        }
    }
}

/// From the cron of a replica: deletes its own keys whose deadline has
/// passed, and forgets those that no longer have one (or are gone).
pub fn expire_own_keys(srv: &mut Server) {
    if srv.replica_own_ttls.is_empty() {
        return;
    }
    let now = srv.now_ms;
    let mut expired: Vec<(usize, Key)> = Vec::new();
    srv.replica_own_ttls.retain(|(db, key)| {
        let Some(d) = srv.dbs.get(*db) else { return false };
        match d.expire_at(key) {
            NO_EXPIRE => false,
            at if at <= now => {
                expired.push((*db, key.clone()));
                false
            }
            _ => true,
        }
    });
    for (db, key) in expired {
        if srv.dbs[db].remove(&key).is_some() {
            // To the AOF only: a replica's stream is its master's.
            super::propagate::log_deletion(srv, db, &key);
            srv.stats.expired_keys += 1;
        }
    }
}
