//! List commands (Redis 7's `t_list.c`): pushes and pops at both ends,
//! ranges, LSET, LREM, LTRIM, LINSERT and LPOS; LMOVE, RPOPLPUSH and LMPOP
//! live in the `moves` submodule, the blocking forms (BLPOP and friends,
//! and BZPOPMIN/BZPOPMAX/BZMPOP) in `bpop`.
//!
//! A list whose last element is removed is deleted with it: Redis never
//! keeps an empty aggregate. Keyspace events fire where `t_list.c` fires
//! them, after the reply is written.

use super::typed::split;
use super::{Command, Ctx, BLOCKING, DENYOOM, FAST, NOT_INTEGER, READONLY, SYNTAX, WRITE};
use crate::db::{Value, WRONGTYPE};
use crate::server::notify::{GENERIC, LIST};
use crate::server::Server;
use crate::types::list::ListValue;
use crate::types::EncodingConfig;
use crate::util::num::parse_i64;

/// The list at `key` for reading: `Ok(None)` if missing, `Err(())` if
/// the key holds another type (see [`super::typed::read`]).
pub(crate) fn read<'s>(srv: &'s mut Server, db: usize, key: &[u8]) -> Result<Option<&'s ListValue>, ()> {
    super::typed::read(srv, db, key)
}

mod bpop;
mod moves;

macro_rules! cmd {
    ($name:expr, $arity:expr, $flags:expr, $first:expr, $last:expr, $h:expr) => {
        cmd!($name, $arity, $flags, $first, $last, "list", $h)
    };
    ($name:expr, $arity:expr, $flags:expr, $first:expr, $last:expr, $group:expr, $h:expr) => {
        command!($group, $name, $arity, $flags, $first, $last, 1, $h)
    };
}

/// The list commands, and the blocking sorted-set pops.
pub static COMMANDS: &[Command] = &[
    cmd!("lpush", -3, WRITE | DENYOOM | FAST, 1, 1, lpush),
    cmd!("rpush", -3, WRITE | DENYOOM | FAST, 1, 1, rpush),
    cmd!("lpushx", -3, WRITE | DENYOOM | FAST, 1, 1, lpushx),
    cmd!("rpushx", -3, WRITE | DENYOOM | FAST, 1, 1, rpushx),
    cmd!("lpop", -2, WRITE | FAST, 1, 1, lpop),
    cmd!("rpop", -2, WRITE | FAST, 1, 1, rpop),
    cmd!("llen", 2, READONLY | FAST, 1, 1, llen),
    cmd!("lrange", 4, READONLY, 1, 1, lrange),
    cmd!("lindex", 3, READONLY, 1, 1, lindex),
    cmd!("lset", 4, WRITE | DENYOOM, 1, 1, lset),
    cmd!("lrem", 4, WRITE, 1, 1, lrem),
    cmd!("ltrim", 4, WRITE, 1, 1, ltrim),
    cmd!("linsert", 5, WRITE | DENYOOM, 1, 1, linsert),
    cmd!("lpos", -3, READONLY, 1, 1, lpos),
    cmd!("lmove", 5, WRITE | DENYOOM, 1, 2, moves::lmove),
    cmd!("rpoplpush", 3, WRITE | DENYOOM, 1, 2, moves::rpoplpush),
    cmd!("lmpop", -4, WRITE, 0, 0, moves::lmpop),
    cmd!("blpop", -3, WRITE | BLOCKING, 1, -2, bpop::blpop),
    cmd!("brpop", -3, WRITE | BLOCKING, 1, -2, bpop::brpop),
    cmd!("blmove", 6, WRITE | DENYOOM | BLOCKING, 1, 2, bpop::blmove),
    cmd!("brpoplpush", 4, WRITE | DENYOOM | BLOCKING, 1, 2, bpop::brpoplpush),
    cmd!("blmpop", -5, WRITE | BLOCKING, 0, 0, bpop::blmpop),
    cmd!("bzpopmin", -3, WRITE | FAST | BLOCKING, 1, -2, "sorted-set", bpop::bzpopmin),
    cmd!("bzpopmax", -3, WRITE | FAST | BLOCKING, 1, -2, "sorted-set", bpop::bzpopmax),
    cmd!("bzmpop", -5, WRITE | BLOCKING, 0, 0, "sorted-set", bpop::bzmpop),
];

/// What a key holds, for a list command.
pub(crate) enum Found<'s> {
    /// No such key.
    Missing,
    /// A value of another type.
    WrongType,
    /// A list, with the encoding thresholds.
    List(&'s mut ListValue, &'s EncodingConfig),
}

/// The list at `key` in `db` for writing (`lookupKeyWrite`: no stats).
pub(crate) fn lookup_write<'s>(srv: &'s mut Server, db: usize, key: &[u8]) -> Found<'s> {
    let (now, lru) = (srv.now_ms, srv.lru_clock);
    let Server { dbs, config, .. } = srv;
    match dbs[db].get_mut(key, now) {
        None => Found::Missing,
        Some(e) => {
            e.lru = lru;
            match &mut e.value {
                Value::List(l) => Found::List(l, &config.encoding),
                _ => Found::WrongType,
            }
        }
    }
}

/// The event name of a pop from the head (`lpop`) or the tail (`rpop`).
fn pop_event(left: bool) -> &'static str {
    if left {
        "lpop"
    } else {
        "rpop"
    }
}

/// The event name of a push to the head or the tail.
fn push_event(left: bool) -> &'static str {
    if left {
        "lpush"
    } else {
        "rpush"
    }
}

/// Removes up to `count` elements from one end of the non-empty list at
/// `key`, head first for the head and tail first for the tail.
pub(crate) fn take(ctx: &mut Ctx<'_>, key: &[u8], left: bool, count: usize) -> Vec<Vec<u8>> {
    let db = ctx.c.db;
    let Found::List(l, _) = lookup_write(ctx.srv, db, key) else { return Vec::new() };
    let n = count.min(l.len());
    (0..n).filter_map(|_| if left { l.pop_front() } else { l.pop_back() }).collect()
}

/// After elements were popped from `key` (`listElementsRemoved`): the pop
/// event, the deletion of an emptied list, WATCH and the dirty counter.
pub(crate) fn elements_removed(ctx: &mut Ctx<'_>, key: &[u8], left: bool, n: usize) {
    ctx.notify(LIST, pop_event(left), key);
    delete_if_empty(ctx, key);
    ctx.touched(key);
    ctx.dirty(n as u64);
}

/// Deletes the list at `key` if it has no elements left, with its `del`
/// event.
fn delete_if_empty(ctx: &mut Ctx<'_>, key: &[u8]) {
    let db = ctx.c.db;
    if let Found::List(l, _) = lookup_write(ctx.srv, db, key) {
        if l.is_empty() {
            ctx.db().remove(key);
            ctx.notify(GENERIC, "del", key);
        }
    }
}

/// Pushes `values` onto the list at `key`, creating it unless `only_existing`
/// (LPUSHX/RPUSHX); replies with the new length.
fn push(ctx: &mut Ctx<'_>, left: bool, only_existing: bool) {
    let (key, args) = (ctx.arg(1), ctx.args);
    let (srv, db, mut r) = split(ctx);
    let lru = srv.lru_clock;
    // One lookup for a list that exists; a new one is looked up again.
    let found = match lookup_write(srv, db, key) {
        Found::WrongType => return r.error(WRONGTYPE),
        Found::Missing if only_existing => return r.int(0),
        Found::Missing => None,
        Found::List(l, cfg) => Some((l, cfg)),
    };
    let (l, cfg) = match found {
        Some(list) => list,
        None => {
            srv.dbs[db].insert_new(key, Value::List(Box::default()), lru);
            let Found::List(l, cfg) = lookup_write(srv, db, key) else { unreachable!("created above") };
            (l, cfg)
        }
    };
    for v in args.iter().skip(2) {
        if left {
            l.push_front(v, cfg);
        } else {
            l.push_back(v, cfg);
        }
    }
    r.int(l.len() as i64);
    ctx.touched(key);
    ctx.notify(LIST, push_event(left), key);
    ctx.dirty(args.len() as u64 - 2);
}

fn lpush(ctx: &mut Ctx<'_>) {
    push(ctx, true, false);
}

fn rpush(ctx: &mut Ctx<'_>) {
    push(ctx, false, false);
}

fn lpushx(ctx: &mut Ctx<'_>) {
    push(ctx, true, true);
}

fn rpushx(ctx: &mut Ctx<'_>) {
    push(ctx, false, true);
}

/// Parses a count that must be positive (`getPositiveLongFromObjectOrReply`),
/// replying `msg` (after `ERR `) when it is not.
fn positive_arg(ctx: &mut Ctx<'_>, i: usize, msg: &str) -> Option<i64> {
    match parse_i64(ctx.arg(i)) {
        Some(n) if n >= 0 => Some(n),
        _ => {
            ctx.error(&format!("ERR {msg}"));
            None
        }
    }
}

/// LPOP and RPOP, with the optional count.
fn pop(ctx: &mut Ctx<'_>, left: bool) {
    if ctx.argc() > 3 {
        let msg = format!("ERR wrong number of arguments for '{}' command", ctx.cmd.name);
        return ctx.error(&msg);
    }
    let count = if ctx.argc() == 3 {
        let Some(n) = positive_arg(ctx, 2, "value is out of range, must be positive") else { return };
        Some(n as usize)
    } else {
        None
    };
    let key = ctx.arg(1);
    let (srv, db, mut r) = split(ctx);
    match lookup_write(srv, db, key) {
        Found::WrongType => return r.error(WRONGTYPE),
        Found::Missing if count.is_some() => return r.null_array(),
        Found::Missing => return r.null(),
        Found::List(..) if count == Some(0) => return r.array_len(0),
        Found::List(..) => {}
    }
    let values = take(ctx, key, left, count.unwrap_or(1));
    let mut r = ctx.reply();
    if count.is_some() {
        r.array_len(values.len());
    }
    for v in &values {
        r.bulk(v);
    }
    elements_removed(ctx, key, left, values.len());
}

fn lpop(ctx: &mut Ctx<'_>) {
    pop(ctx, true);
}

fn rpop(ctx: &mut Ctx<'_>) {
    pop(ctx, false);
}

fn llen(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let (srv, db, mut r) = split(ctx);
    match read(srv, db, key) {
        Err(()) => r.error(WRONGTYPE),
        Ok(l) => r.int(l.map_or(0, |l| l.len() as i64)),
    }
}

fn lrange(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let Some(start) = ctx.int_arg(2) else { return };
    let Some(stop) = ctx.int_arg(3) else { return };
    let (srv, db, mut r) = split(ctx);
    match read(srv, db, key) {
        Err(()) => r.error(WRONGTYPE),
        Ok(None) => r.array_len(0),
        Ok(Some(l)) => {
            let at = r.defer();
            let mut n = 0;
            for v in l.range(start, stop) {
                r.bulk(v);
                n += 1;
            }
            r.end_array(at, n);
        }
    }
}

fn lindex(ctx: &mut Ctx<'_>) {
    let (key, index) = (ctx.arg(1), ctx.arg(2));
    let (srv, db, mut r) = split(ctx);
    match read(srv, db, key) {
        Err(()) => r.error(WRONGTYPE),
        Ok(None) => r.null(),
        Ok(Some(l)) => match parse_i64(index) {
            None => r.error(NOT_INTEGER),
            Some(i) => match l.index(i) {
                Some(v) => r.bulk(v),
                None => r.null(),
            },
        },
    }
}

fn lset(ctx: &mut Ctx<'_>) {
    let (key, index, value) = (ctx.arg(1), ctx.arg(2), ctx.arg(3));
    let (srv, db, mut r) = split(ctx);
    let (l, cfg) = match lookup_write(srv, db, key) {
        Found::Missing => return r.error("ERR no such key"),
        Found::WrongType => return r.error(WRONGTYPE),
        Found::List(l, cfg) => (l, cfg),
    };
    let Some(i) = parse_i64(index) else { return r.error(NOT_INTEGER) };
    if !l.set(i, value, cfg) {
        return r.error("ERR index out of range");
    }
    r.ok();
    ctx.touched(key);
    ctx.notify(LIST, "lset", key);
    ctx.dirty(1);
}

fn lrem(ctx: &mut Ctx<'_>) {
    let Some(count) = ctx.int_arg(2) else { return };
    let (key, value) = (ctx.arg(1), ctx.arg(3));
    let (srv, db, mut r) = split(ctx);
    let removed = match lookup_write(srv, db, key) {
        Found::Missing => return r.int(0),
        Found::WrongType => return r.error(WRONGTYPE),
        Found::List(l, _) => l.remove(count, value),
    };
    r.int(removed as i64);
    if removed > 0 {
        ctx.notify(LIST, "lrem", key);
        delete_if_empty(ctx, key);
        ctx.touched(key);
        ctx.dirty(removed as u64);
    }
}

fn ltrim(ctx: &mut Ctx<'_>) {
    let Some(start) = ctx.int_arg(2) else { return };
    let Some(stop) = ctx.int_arg(3) else { return };
    let key = ctx.arg(1);
    let (srv, db, mut r) = split(ctx);
    let removed = match lookup_write(srv, db, key) {
        Found::Missing => return r.ok(),
        Found::WrongType => return r.error(WRONGTYPE),
        Found::List(l, _) => {
            let before = l.len();
            l.trim(start, stop);
            before - l.len()
        }
    };
    ctx.notify(LIST, "ltrim", key);
    delete_if_empty(ctx, key);
    ctx.touched(key);
    ctx.dirty(removed as u64);
    ctx.ok();
}

fn linsert(ctx: &mut Ctx<'_>) {
    let before = match ctx.arg(2) {
        w if w.eq_ignore_ascii_case(b"before") => true,
        w if w.eq_ignore_ascii_case(b"after") => false,
        _ => return ctx.error(SYNTAX),
    };
    let (key, pivot, value) = (ctx.arg(1), ctx.arg(3), ctx.arg(4));
    let (srv, db, mut r) = split(ctx);
    let inserted = match lookup_write(srv, db, key) {
        Found::Missing => return r.int(0),
        Found::WrongType => return r.error(WRONGTYPE),
        Found::List(l, cfg) => l.insert(before, pivot, value, cfg),
    };
    match inserted {
        None => r.int(-1),
        Some(len) => {
            r.int(len as i64);
            ctx.touched(key);
            ctx.notify(LIST, "linsert", key);
            ctx.dirty(1);
        }
    }
}

fn lpos(ctx: &mut Ctx<'_>) {
    let (mut rank, mut count, mut maxlen) = (1i64, None, 0usize);
    let mut j = 3;
    while j < ctx.argc() {
        let opt = ctx.arg(j);
        let more = j + 1 < ctx.argc();
        if opt.eq_ignore_ascii_case(b"rank") && more {
            j += 1;
            let Some(r) = ctx.int_arg(j) else { return };
            if r == 0 {
                return ctx.error(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... \
                     or use negative to start from the end of the list",
                );
            }
            rank = r;
        } else if opt.eq_ignore_ascii_case(b"count") && more {
            j += 1;
            let Some(n) = positive_arg(ctx, j, "COUNT can't be negative") else { return };
            count = Some(n as usize);
        } else if opt.eq_ignore_ascii_case(b"maxlen") && more {
            j += 1;
            let Some(n) = positive_arg(ctx, j, "MAXLEN can't be negative") else { return };
            maxlen = n as usize;
        } else {
            return ctx.error(SYNTAX);
        }
        j += 1;
    }
    let (key, element) = (ctx.arg(1), ctx.arg(2));
    let (srv, db, mut r) = split(ctx);
    let l = match read(srv, db, key) {
        Err(()) => return r.error(WRONGTYPE),
        Ok(None) if count.is_some() => return r.array_len(0),
        Ok(None) => return r.null(),
        Ok(Some(l)) => l,
    };
    match count {
        Some(n) => {
            let hits = l.position(element, rank, n, maxlen);
            r.array_len(hits.len());
            for i in hits {
                r.int(i as i64);
            }
        }
        None => match l.position(element, rank, 1, maxlen).first() {
            Some(&i) => r.int(i as i64),
            None => r.null(),
        },
    }
}

/// Logs the command to the AOF as `argv` instead of as it came
/// (Redis's `rewriteClientCommandVector`): BLPOP as LPOP, LMPOP as LPOP
/// with a count, and so on.
pub(crate) fn rewrite(ctx: &mut Ctx<'_>, argv: &[&[u8]]) {
    ctx.c.rewritten = Some(super::OwnedArgs::from_slices(argv.iter().copied()));
}
