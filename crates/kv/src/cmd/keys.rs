//! Keyspace commands (Redis's `generic` group and the database-wide ones
//! of the `server` group): DEL, UNLINK, EXISTS, TYPE, TOUCH, DBSIZE,
//! FLUSHDB, FLUSHALL, SWAPDB and WAIT here; KEYS, SCAN and RANDOMKEY in
//! `scan`; RENAME, RENAMENX, MOVE and COPY in `rename`; the EXPIRE
//! family, TTL and PERSIST in `expire`; OBJECT in `object`.

mod expire;
mod object;
mod rename;
mod scan;
#[cfg(test)]
mod tests;

use super::{Command, Ctx, DENYOOM, FAST, NOT_INTEGER, NO_KEYS, READONLY, SYNTAX, WRITE};
use crate::db::{Entry, Value};
use crate::server::Server;

macro_rules! cmd {
    ($name:expr, $arity:expr, $flags:expr, $first:expr, $last:expr, $group:expr, $h:expr) => {
        command!($group, $name, $arity, $flags, $first, $last, ($first != 0) as i32, $h)
    };
}

const G: &str = "generic";
const S: &str = "server";

/// The keyspace commands.
pub static COMMANDS: &[Command] = &[
    cmd!("del", -2, WRITE, 1, -1, G, del),
    cmd!("unlink", -2, WRITE | FAST, 1, -1, G, unlink),
    cmd!("exists", -2, READONLY | FAST, 1, -1, G, exists),
    cmd!("type", 2, READONLY | FAST, 1, 1, G, type_),
    cmd!("touch", -2, READONLY | FAST, 1, -1, G, touch),
    cmd!("keys", 2, READONLY | NO_KEYS, 0, 0, G, scan::keys),
    cmd!("scan", -2, READONLY | NO_KEYS, 0, 0, G, scan::scan),
    cmd!("randomkey", 1, READONLY | NO_KEYS, 0, 0, G, scan::randomkey),
    cmd!("rename", 3, WRITE, 1, 2, G, rename::rename),
    cmd!("renamenx", 3, WRITE | FAST, 1, 2, G, rename::renamenx),
    cmd!("move", 3, WRITE | FAST, 1, 1, G, rename::move_),
    cmd!("copy", -3, WRITE | DENYOOM, 1, 2, G, rename::copy),
    cmd!("expire", -3, WRITE | FAST, 1, 1, G, expire::expire),
    cmd!("pexpire", -3, WRITE | FAST, 1, 1, G, expire::pexpire),
    cmd!("expireat", -3, WRITE | FAST, 1, 1, G, expire::expireat),
    cmd!("pexpireat", -3, WRITE | FAST, 1, 1, G, expire::pexpireat),
    cmd!("ttl", 2, READONLY | FAST, 1, 1, G, expire::ttl),
    cmd!("pttl", 2, READONLY | FAST, 1, 1, G, expire::pttl),
    cmd!("expiretime", 2, READONLY | FAST, 1, 1, G, expire::expiretime),
    cmd!("pexpiretime", 2, READONLY | FAST, 1, 1, G, expire::pexpiretime),
    cmd!("persist", 2, WRITE | FAST, 1, 1, G, expire::persist),
    cmd!("object", -2, READONLY, 2, 2, G, object::object),
    cmd!("wait", 3, NO_KEYS, 0, 0, G, wait),
    cmd!("dbsize", 1, READONLY | FAST | NO_KEYS, 0, 0, S, dbsize),
    cmd!("flushdb", -1, WRITE | NO_KEYS, 0, 0, S, flushdb),
    cmd!("flushall", -1, WRITE | NO_KEYS, 0, 0, S, flushall),
    cmd!("swapdb", 3, WRITE | FAST | NO_KEYS, 0, 0, S, swapdb),
];

/// Redis's `LAZYFREE_THRESHOLD`: a value with more elements than this is
/// freed on the lazy-free thread when the deletion is lazy.
const LAZYFREE_THRESHOLD: usize = 64;

/// Frees a deleted value: on the lazy-free thread when `lazy` and the value
/// is big enough to be worth it (Redis's `dbAsyncDelete`), inline otherwise.
pub(crate) fn free_value(srv: &mut Server, v: Value, lazy: bool) {
    if lazy && v.free_effort() > LAZYFREE_THRESHOLD {
        srv.lazy_free(v);
    }
}

/// Looks `key` up for reading in database `db` (Redis's
/// `lookupKeyReadWithFlags`): deletes it if expired, counts a keyspace hit
/// or miss, and refreshes the access clock unless `notouch`.
fn read_entry<'s>(srv: &'s mut Server, db: usize, key: &[u8], notouch: bool) -> Option<&'s mut Entry> {
    read_entry_with(srv, db, key, notouch, true)
}

/// [`read_entry`], with the `keymiss` event only if `notify` (Redis's
/// `LOOKUP_NONOTIFY` when not: OBJECT counts the miss but is silent).
fn read_entry_with<'s>(
    srv: &'s mut Server,
    db: usize,
    key: &[u8],
    notouch: bool,
    notify: bool,
) -> Option<&'s mut Entry> {
    let (now, lru) = (srv.now_ms, srv.lru_clock);
    let found = if notouch { srv.dbs[db].peek_mut(key, now) } else { srv.dbs[db].get_mut(key, now) };
    match found {
        Some(e) => {
            srv.stats.keyspace_hits += 1;
            if !notouch {
                e.lru = lru;
            }
            Some(e)
        }
        None => {
            let log = if notify { &mut srv.miss_log } else { &mut None };
            crate::server::notify::log_miss(&mut srv.stats, log, db, key);
            None
        }
    }
}

/// Parses argument `i` as a C `int` (Redis's `getIntFromObjectOrReply`):
/// `msg` replaces both errors when given, as Redis does.
fn int32_arg(ctx: &mut Ctx<'_>, i: usize, msg: Option<&str>) -> Option<i32> {
    let Some(v) = crate::util::num::parse_i64(ctx.arg(i)) else {
        ctx.error(msg.unwrap_or(NOT_INTEGER));
        return None;
    };
    match i32::try_from(v) {
        Ok(v) => Some(v),
        Err(_) => {
            ctx.error(
                msg.unwrap_or("ERR value is out of range, value must between -2147483648 and 2147483647"),
            );
            None
        }
    }
}

/// The database index `id` if it names one of the server's databases.
fn db_index(srv: &Server, id: i32) -> Option<usize> {
    usize::try_from(id).ok().filter(|&i| i < srv.dbs.len())
}

/// The error for a database index outside `0..databases`.
const DB_OUT_OF_RANGE: &str = "ERR DB index is out of range";

fn del_generic(ctx: &mut Ctx<'_>, lazy: bool) {
    let now = ctx.now_ms();
    let mut n = 0;
    for i in 1..ctx.argc() {
        let k = ctx.arg(i);
        let db = ctx.db();
        if !db.contains(k, now) {
            continue;
        }
        if let Some(v) = db.remove(k) {
            free_value(ctx.srv, v, lazy);
            n += 1;
            ctx.touched(k);
            ctx.notify(crate::server::notify::GENERIC, "del", k);
        }
    }
    ctx.dirty(n);
    ctx.reply().int(n as i64);
}

fn del(ctx: &mut Ctx<'_>) {
    let lazy = ctx.srv.config.lazyfree_lazy_user_del;
    del_generic(ctx, lazy);
}

fn unlink(ctx: &mut Ctx<'_>) {
    del_generic(ctx, true);
}

/// EXISTS counts a key once per time it is named.
fn exists(ctx: &mut Ctx<'_>) {
    let db = ctx.c.db;
    let n = (1..ctx.argc()).filter(|&i| read_entry(ctx.srv, db, ctx.args.get(i), true).is_some()).count();
    ctx.reply().int(n as i64);
}

fn touch(ctx: &mut Ctx<'_>) {
    let db = ctx.c.db;
    let n = (1..ctx.argc()).filter(|&i| read_entry(ctx.srv, db, ctx.args.get(i), false).is_some()).count();
    ctx.reply().int(n as i64);
}

fn type_(ctx: &mut Ctx<'_>) {
    let db = ctx.c.db;
    let t = read_entry(ctx.srv, db, ctx.args.get(1), true).map_or("none", |e| e.value.type_name());
    ctx.reply().simple(t);
}

fn dbsize(ctx: &mut Ctx<'_>) {
    let n = ctx.db().len();
    ctx.reply().int(n as i64);
}

/// FLUSHDB's and FLUSHALL's `[ASYNC|SYNC]`: whether to free lazily, or
/// `None` after replying with a syntax error.
fn flush_async(ctx: &mut Ctx<'_>) -> Option<bool> {
    match ctx.argc() {
        1 => Some(ctx.srv.config.lazyfree_lazy_user_flush),
        2 if ctx.arg(1).eq_ignore_ascii_case(b"sync") => Some(false),
        2 if ctx.arg(1).eq_ignore_ascii_case(b"async") => Some(true),
        _ => {
            ctx.error(SYNTAX);
            None
        }
    }
}

/// Empties database `db`, returning how many keys it had.
fn empty_db(srv: &mut Server, db: usize, lazy: bool) -> usize {
    srv.touched_db(db);
    let n = srv.dbs[db].len();
    let dicts = srv.dbs[db].take_all();
    if lazy {
        srv.lazy_free(dicts);
    } else {
        drop(dicts);
    }
    n
}

fn flushdb(ctx: &mut Ctx<'_>) {
    let Some(lazy) = flush_async(ctx) else { return };
    let n = empty_db(ctx.srv, ctx.c.db, lazy);
    ctx.dirty(n as u64);
    force_log(ctx.srv);
    ctx.ok();
}

/// FLUSHDB and FLUSHALL go to the AOF even when there was nothing to
/// remove, as Redis's `forceCommandPropagation` has them: the log then
/// shows every flush a client asked for.
fn force_log(srv: &mut crate::server::Server) {
    srv.persist.force_log = srv.persist.aof.is_on() || srv.repl.wants_writes();
}

fn flushall(ctx: &mut Ctx<'_>) {
    let Some(lazy) = flush_async(ctx) else { return };
    let mut n = 0;
    for db in 0..ctx.srv.dbs.len() {
        n += empty_db(ctx.srv, db, lazy);
    }
    // The keys removed are the changes (Redis 7.0 adds none of its own),
    // and with save points the now empty dataset is saved at once, which
    // leaves no change unsaved.
    ctx.dirty(n as u64);
    crate::persist::after_flushall(ctx.srv);
    force_log(ctx.srv);
    ctx.ok();
}

fn swapdb(ctx: &mut Ctx<'_>) {
    let Some(a) = int32_arg(ctx, 1, Some("ERR invalid first DB index")) else { return };
    let Some(b) = int32_arg(ctx, 2, Some("ERR invalid second DB index")) else { return };
    let (Some(a), Some(b)) = (db_index(ctx.srv, a), db_index(ctx.srv, b)) else {
        return ctx.error(DB_OUT_OF_RANGE);
    };
    if a != b {
        ctx.srv.touched_swapdb(a, b);
        let (lo, hi) = (a.min(b), a.max(b));
        let (left, right) = ctx.srv.dbs.split_at_mut(hi);
        let (x, y) = (&mut left[lo], &mut right[0]);
        std::mem::swap(&mut x.keys, &mut y.keys);
        std::mem::swap(&mut x.volatile, &mut y.volatile);
        std::mem::swap(&mut x.avg_ttl, &mut y.avg_ttl);
    }
    ctx.dirty(1);
    ctx.ok();
}

/// WAIT numreplicas timeout: blocks until `numreplicas` replicas have
/// acknowledged every write this client made, or for `timeout` ms (0:
/// forever), and replies how many did. Inside a transaction it does not
/// block. See `persist::repl` for how the acknowledgements are asked for.
fn wait(ctx: &mut Ctx<'_>) {
    if ctx.srv.master.is_some() {
        return ctx.error("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.");
    }
    let Some(num) = ctx.int_arg(1) else { return };
    let timeout = match crate::util::num::parse_i64(ctx.arg(2)) {
        None => return ctx.error("ERR timeout is not an integer or out of range"),
        Some(t) if t < 0 => return ctx.error("ERR timeout is negative"),
        Some(t) => t,
    };
    let offset = ctx.c.woff;
    let acked = ctx.srv.repl.acked(offset);
    if acked as i64 >= num || ctx.c.deny_blocking {
        return ctx.reply().int(acked as i64);
    }
    let deadline = (timeout > 0).then(|| ctx.now_ms().saturating_add(timeout));
    crate::server::blocking::block_for_acks(ctx, offset, num, deadline);
}
