//! Set commands (Redis 7's `t_set.c`): membership, SPOP and SRANDMEMBER,
//! SMOVE and SSCAN; the algebra (SINTER, SUNION, SDIFF and their forms)
//! lives in the `ops` submodule.
//!
//! A set whose last member is removed is deleted with it: Redis never
//! keeps an empty aggregate. Keyspace events fire where Redis fires them.

use super::aggscan;
use super::typed::split;
use super::{Command, Ctx, DENYOOM, FAST, NOT_INTEGER, READONLY, SYNTAX, WRITE};
use crate::db::{Value, WRONGTYPE};
use crate::resp::reply::Reply;
use crate::server::Server;
use crate::types::set::SetValue;
use crate::types::EncodingConfig;

/// The set at `key` for reading: `Ok(None)` if missing, `Err(())` if
/// the key holds another type (see [`super::typed::read`]).
pub(crate) fn read<'s>(srv: &'s mut Server, db: usize, key: &[u8]) -> Result<Option<&'s SetValue>, ()> {
    super::typed::read(srv, db, key)
}

/// The set at `key` for writing; when missing and `create` is given (the
/// first member and a size hint, as `setTypeCreate` takes them), a new
/// one. `Err(())` if the key holds another type. Returns the encoding
/// thresholds alongside.
fn write<'s>(
    srv: &'s mut Server,
    db: usize,
    key: &[u8],
    create: Option<(&[u8], usize)>,
) -> Result<Option<(&'s mut SetValue, &'s EncodingConfig)>, ()> {
    let make = create.map(|(first, hint)| {
        move |cfg: &EncodingConfig| Value::Set(Box::new(SetValue::with_capacity_for(first, hint, cfg)))
    });
    super::typed::write(srv, db, key, make)
}

mod ops;
#[cfg(test)]
mod tests;

macro_rules! cmd {
    ($name:expr, $arity:expr, $flags:expr, $first:expr, $last:expr, $step:expr, $h:expr) => {
        command!("set", $name, $arity, $flags, $first, $last, $step, $h)
    };
}

/// The set commands.
pub static COMMANDS: &[Command] = &[
    cmd!("sadd", -3, WRITE | DENYOOM | FAST, 1, 1, 1, sadd),
    cmd!("srem", -3, WRITE | FAST, 1, 1, 1, srem),
    cmd!("sismember", 3, READONLY | FAST, 1, 1, 1, sismember),
    cmd!("smismember", -3, READONLY | FAST, 1, 1, 1, smismember),
    cmd!("smembers", 2, READONLY, 1, 1, 1, smembers),
    cmd!("scard", 2, READONLY | FAST, 1, 1, 1, scard),
    cmd!("spop", -2, WRITE | FAST, 1, 1, 1, spop),
    cmd!("srandmember", -2, READONLY, 1, 1, 1, srandmember),
    cmd!("smove", 4, WRITE | FAST, 1, 2, 1, smove),
    cmd!("sscan", -3, READONLY, 1, 1, 1, sscan),
    cmd!("sinter", -2, READONLY, 1, -1, 1, ops::sinter),
    cmd!("sintercard", -3, READONLY, 0, 0, 0, ops::sintercard),
    cmd!("sinterstore", -3, WRITE | DENYOOM, 1, -1, 1, ops::sinterstore),
    cmd!("sunion", -2, READONLY, 1, -1, 1, ops::sunion),
    cmd!("sunionstore", -3, WRITE | DENYOOM, 1, -1, 1, ops::sunionstore),
    cmd!("sdiff", -2, READONLY, 1, -1, 1, ops::sdiff),
    cmd!("sdiffstore", -3, WRITE | DENYOOM, 1, -1, 1, ops::sdiffstore),
];

/// A pseudo-random generator seeded from the server's.
fn rng(ctx: &mut Ctx<'_>) -> impl FnMut() -> u64 {
    let mut state = ctx.srv.random() | 1;
    move || crate::server::next_random(&mut state)
}

fn sadd(ctx: &mut Ctx<'_>) {
    let (key, args) = (ctx.arg(1), ctx.args);
    let (srv, db, mut r) = split(ctx);
    let Ok(Some((s, cfg))) = write(srv, db, key, Some((args.get(2), args.len() - 2))) else {
        return r.error(WRONGTYPE);
    };
    let added = args.iter().skip(2).filter(|m| s.add(m, cfg)).count();
    // The event, then the reply, as Redis's saddCommand.
    if added > 0 {
        ctx.touched(key);
        ctx.notify(crate::server::notify::SET, "sadd", key);
        ctx.dirty(added as u64);
    }
    ctx.reply().int(added as i64);
}

fn srem(ctx: &mut Ctx<'_>) {
    let (key, args) = (ctx.arg(1), ctx.args);
    let (srv, db, mut r) = split(ctx);
    let s = match write(srv, db, key, None) {
        Err(()) => return r.error(WRONGTYPE),
        Ok(None) => return r.int(0),
        Ok(Some((s, _))) => s,
    };
    let mut removed = 0;
    for m in args.iter().skip(2) {
        if s.remove(m) {
            removed += 1;
            if s.is_empty() {
                break;
            }
        }
    }
    let emptied = s.is_empty();
    r.int(removed);
    if removed > 0 {
        ctx.notify(crate::server::notify::SET, "srem", key);
        if emptied {
            ctx.db().remove(key);
            ctx.notify(crate::server::notify::GENERIC, "del", key);
        }
        ctx.touched(key);
        ctx.dirty(removed as u64);
    }
}

/// Replies with `f` of the set at argument 1, `missing` if there is none.
fn with_set(
    ctx: &mut Ctx<'_>,
    missing: impl FnOnce(&mut Reply<'_>),
    f: impl FnOnce(&SetValue, &mut Reply<'_>),
) {
    let key = ctx.arg(1);
    let (srv, db, mut r) = split(ctx);
    match read(srv, db, key) {
        Err(()) => r.error(WRONGTYPE),
        Ok(None) => missing(&mut r),
        Ok(Some(s)) => f(s, &mut r),
    }
}

fn sismember(ctx: &mut Ctx<'_>) {
    let m = ctx.arg(2);
    with_set(ctx, |r| r.int(0), |s, r| r.int(i64::from(s.contains(m))));
}

fn smismember(ctx: &mut Ctx<'_>) {
    let args = ctx.args;
    let reply_all = move |s: Option<&SetValue>, r: &mut Reply<'_>| {
        r.array_len(args.len() - 2);
        for m in args.iter().skip(2) {
            r.int(i64::from(s.is_some_and(|s| s.contains(m))));
        }
    };
    with_set(ctx, |r| reply_all(None, r), |s, r| reply_all(Some(s), r));
}

fn smembers(ctx: &mut Ctx<'_>) {
    with_set(
        ctx,
        |r| r.set_len(0),
        |s, r| {
            r.set_len(s.len());
            s.iter().for_each(|m| r.bulk(&m));
        },
    );
}

fn scard(ctx: &mut Ctx<'_>) {
    with_set(ctx, |r| r.int(0), |s, r| r.int(s.len() as i64));
}

fn spop(ctx: &mut Ctx<'_>) {
    match ctx.argc() {
        2 => spop_one(ctx),
        3 => spop_count(ctx),
        _ => ctx.error(SYNTAX),
    }
}

fn spop_one(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let mut rng = rng(ctx);
    let (srv, db, mut r) = split(ctx);
    let s = match write(srv, db, key, None) {
        Err(()) => return r.error(WRONGTYPE),
        Ok(None) => return r.null(),
        Ok(Some((s, _))) => s,
    };
    let m = s.pop_random(&mut rng).expect("sets in the keyspace are never empty");
    let emptied = s.is_empty();
    r.bulk(&m);
    ctx.notify(crate::server::notify::SET, "spop", key);
    if emptied {
        ctx.db().remove(key);
        ctx.notify(crate::server::notify::GENERIC, "del", key);
    }
    ctx.touched(key);
    ctx.dirty(1);
}

fn spop_count(ctx: &mut Ctx<'_>) {
    let count = match crate::util::num::parse_i64(ctx.arg(2)) {
        Some(n) if n >= 0 => n as u64,
        _ => return ctx.error("ERR value is out of range, must be positive"),
    };
    let key = ctx.arg(1);
    let mut rng = rng(ctx);
    let (srv, db, mut r) = split(ctx);
    let s = match write(srv, db, key, None) {
        Err(()) => return r.error(WRONGTYPE),
        Ok(None) => return r.set_len(0),
        Ok(Some((s, _))) => s,
    };
    if count == 0 {
        return r.set_len(0);
    }
    let size = s.len() as u64;
    if count >= size {
        // The whole set: reply it and delete the key.
        r.set_len(s.len());
        s.iter().for_each(|m| r.bulk(&m));
        ctx.db().remove(key);
        ctx.notify(crate::server::notify::SET, "spop", key);
        ctx.notify(crate::server::notify::GENERIC, "del", key);
        ctx.touched(key);
        ctx.dirty(size);
        return;
    }
    r.set_len(count as usize);
    for _ in 0..count {
        let m = s.pop_random(&mut rng).expect("count < size");
        r.bulk(&m);
    }
    ctx.notify(crate::server::notify::SET, "spop", key);
    ctx.touched(key);
    ctx.dirty(count);
}

/// Random picks generated per batch for a negative count, so a huge count
/// streams into the reply instead of building one huge vector first.
const RANDOM_BATCH: i64 = 1024;

fn srandmember(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let mut rng = rng(ctx);
    if ctx.argc() == 2 {
        let (srv, db, mut r) = split(ctx);
        return match read(srv, db, key) {
            Err(()) => r.error(WRONGTYPE),
            Ok(s) => match s.and_then(|s| s.random_member(&mut rng)) {
                Some(m) => r.bulk(&m),
                None => r.null(),
            },
        };
    }
    if ctx.argc() > 3 {
        return ctx.error(SYNTAX);
    }
    let count =
        match crate::util::num::parse_i64(ctx.arg(2)) {
            None => return ctx.error(NOT_INTEGER),
            Some(i64::MIN) => return ctx.error(
                "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            ),
            Some(n) => n,
        };
    let (srv, db, mut r) = split(ctx);
    let s = match read(srv, db, key) {
        Err(()) => return r.error(WRONGTYPE),
        Ok(None) => return r.array_len(0),
        Ok(Some(s)) => s,
    };
    if count >= 0 {
        let picks = s.random_members(count, &mut rng);
        r.array_len(picks.len());
        picks.iter().for_each(|m| r.bulk(m));
        return;
    }
    let mut left = -count;
    r.array_len(left as usize);
    while left > 0 {
        let batch = left.min(RANDOM_BATCH);
        s.random_members(-batch, &mut rng).iter().for_each(|m| r.bulk(m));
        left -= batch;
    }
}

fn smove(ctx: &mut Ctx<'_>) {
    let (src, dst, m) = (ctx.arg(1), ctx.arg(2), ctx.arg(3));
    let (srv, db, mut r) = split(ctx);
    let now = srv.now_ms;
    // Type checks first, as Redis: a missing source replies 0 whatever the
    // destination holds.
    let src_type = srv.dbs[db].get(src, now).map(|e| matches!(e.value, Value::Set(_)));
    let dst_type = srv.dbs[db].get(dst, now).map(|e| matches!(e.value, Value::Set(_)));
    match (src_type, dst_type) {
        (None, _) => return r.int(0),
        (Some(false), _) | (_, Some(false)) => return r.error(WRONGTYPE),
        _ => {}
    }
    if src == dst {
        let Ok(Some(s)) = read(srv, db, src) else { unreachable!("checked above") };
        return r.int(i64::from(s.contains(m)));
    }
    let Ok(Some((s, _))) = write(srv, db, src, None) else { unreachable!("checked above") };
    if !s.remove(m) {
        return r.int(0);
    }
    let src_emptied = s.is_empty();
    if src_emptied {
        srv.dbs[db].remove(src);
    }
    let Ok(Some((d, cfg))) = write(srv, db, dst, Some((m, 1))) else { unreachable!("checked above") };
    let added = d.add(m, cfg);
    r.int(1);
    ctx.notify(crate::server::notify::SET, "srem", src);
    if src_emptied {
        ctx.notify(crate::server::notify::GENERIC, "del", src);
    }
    ctx.touched(src);
    ctx.dirty(1);
    if added {
        ctx.touched(dst);
        ctx.notify(crate::server::notify::SET, "sadd", dst);
        ctx.dirty(1);
    }
}

fn sscan(ctx: &mut Ctx<'_>) {
    let Some(cursor) = aggscan::parse_cursor(ctx.arg(2)) else {
        return ctx.error(aggscan::INVALID_CURSOR);
    };
    let key = ctx.arg(1);
    let db = ctx.c.db;
    match read(ctx.srv, db, key) {
        Err(()) => return ctx.wrongtype(),
        Ok(None) => return aggscan::reply_empty(&mut ctx.reply()),
        Ok(Some(_)) => {}
    }
    let Some(opts) = aggscan::parse_opts(ctx, 3) else { return };
    let (srv, db, mut r) = split(ctx);
    let Ok(Some(s)) = read(srv, db, key) else { unreachable!("looked up above") };
    let mut items: Vec<Vec<u8>> = Vec::new();
    let mut seen = 0usize;
    let mut cursor = cursor;
    // As Redis: COUNT bounds the members collected before MATCH filters
    // them, and at most ten times COUNT steps are taken looking for them.
    let mut steps = opts.count.saturating_mul(10);
    loop {
        cursor = s.scan(cursor, |m| {
            seen += 1;
            if opts.matches(m) {
                items.push(m.to_vec());
            }
        });
        steps -= 1;
        if cursor == 0 || steps == 0 || seen >= opts.count {
            break;
        }
    }
    aggscan::reply_scan(&mut r, cursor, &items);
}
