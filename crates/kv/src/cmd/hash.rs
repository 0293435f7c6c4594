//! Hash commands (Redis 7's `t_hash.c`): HSET and friends, the counters,
//! HSCAN and HRANDFIELD.
//!
//! A hash whose last field is deleted is deleted with it: Redis never keeps
//! an empty aggregate. Keyspace events fire where Redis fires them.

use super::aggscan;
use super::typed::split;
use super::{Command, Ctx, DENYOOM, FAST, NOT_FLOAT, NOT_INTEGER, READONLY, SYNTAX, WRITE};
use crate::db::{Value, WRONGTYPE};
use crate::resp::reply::Reply;
use crate::server::Server;
use crate::types::hash::HashValue;
use crate::types::EncodingConfig;
use crate::util::longdouble::{incr_by_float, IncrFloatError};

/// The hash at `key` for reading: `Ok(None)` if missing, `Err(())` if
/// the key holds another type (see [`super::typed::read`]).
pub(crate) fn read<'s>(srv: &'s mut Server, db: usize, key: &[u8]) -> Result<Option<&'s HashValue>, ()> {
    super::typed::read(srv, db, key)
}

/// The hash at `key` for writing, created empty when missing if `create`
/// (`hashTypeLookupWriteOrCreate`); `Err(())` if the key holds another
/// type. Returns the encoding thresholds alongside.
fn write<'s>(
    srv: &'s mut Server,
    db: usize,
    key: &[u8],
    create: bool,
) -> Result<Option<(&'s mut HashValue, &'s EncodingConfig)>, ()> {
    super::typed::write(srv, db, key, create.then_some(|_: &EncodingConfig| Value::Hash(Box::default())))
}

macro_rules! cmd {
    ($name:expr, $arity:expr, $flags:expr, $h:expr) => {
        command!("hash", $name, $arity, $flags, 1, 1, 1, $h)
    };
}

/// The hash commands.
pub static COMMANDS: &[Command] = &[
    cmd!("hset", -4, WRITE | DENYOOM | FAST, hset),
    cmd!("hmset", -4, WRITE | DENYOOM | FAST, hmset),
    cmd!("hsetnx", 4, WRITE | DENYOOM | FAST, hsetnx),
    cmd!("hget", 3, READONLY | FAST, hget),
    cmd!("hmget", -3, READONLY | FAST, hmget),
    cmd!("hdel", -3, WRITE | FAST, hdel),
    cmd!("hexists", 3, READONLY | FAST, hexists),
    cmd!("hlen", 2, READONLY | FAST, hlen),
    cmd!("hstrlen", 3, READONLY | FAST, hstrlen),
    cmd!("hkeys", 2, READONLY, hkeys),
    cmd!("hvals", 2, READONLY, hvals),
    cmd!("hgetall", 2, READONLY, hgetall),
    cmd!("hincrby", 4, WRITE | DENYOOM | FAST, hincrby),
    cmd!("hincrbyfloat", 4, WRITE | DENYOOM | FAST, hincrbyfloat),
    cmd!("hrandfield", -2, READONLY, hrandfield),
    cmd!("hscan", -3, READONLY, hscan),
];

/// HSET and HMSET: sets every pair; returns the number of new fields, or
/// `None` after replying an error.
fn set_pairs(ctx: &mut Ctx<'_>) -> Option<i64> {
    if ctx.argc() % 2 == 1 {
        let msg = format!("ERR wrong number of arguments for '{}' command", ctx.cmd.name);
        ctx.error(&msg);
        return None;
    }
    let key = ctx.arg(1);
    let args = ctx.args;
    let (srv, db, mut r) = split(ctx);
    let Ok(Some((h, cfg))) = write(srv, db, key, true) else {
        r.error(WRONGTYPE);
        return None;
    };
    let mut added = 0;
    for i in (2..args.len()).step_by(2) {
        added += i64::from(h.set(args.get(i), args.get(i + 1), cfg));
    }
    ctx.touched(key);
    ctx.dirty(((ctx.argc() - 2) / 2) as u64);
    Some(added)
}

/// HSET and HMSET reply, then publish `hset` (Redis's order, which a
/// RESP3 client subscribed to its own events sees).
fn hset(ctx: &mut Ctx<'_>) {
    if let Some(n) = set_pairs(ctx) {
        ctx.reply().int(n);
        ctx.notify(crate::server::notify::HASH, "hset", ctx.arg(1));
    }
}

fn hmset(ctx: &mut Ctx<'_>) {
    if set_pairs(ctx).is_some() {
        ctx.ok();
        ctx.notify(crate::server::notify::HASH, "hset", ctx.arg(1));
    }
}

fn hsetnx(ctx: &mut Ctx<'_>) {
    let (key, field, value) = (ctx.arg(1), ctx.arg(2), ctx.arg(3));
    let (srv, db, mut r) = split(ctx);
    let Ok(Some((h, cfg))) = write(srv, db, key, true) else {
        return r.error(WRONGTYPE);
    };
    let set = h.set_nx(field, value, cfg);
    r.int(i64::from(set));
    if set {
        ctx.touched(key);
        ctx.notify(crate::server::notify::HASH, "hset", key);
        ctx.dirty(1);
    }
}

fn hget(ctx: &mut Ctx<'_>) {
    let (key, field) = (ctx.arg(1), ctx.arg(2));
    let (srv, db, mut r) = split(ctx);
    match read(srv, db, key) {
        Err(()) => r.error(WRONGTYPE),
        Ok(h) => match h.and_then(|h| h.get(field)) {
            Some(v) => r.bulk(v),
            None => r.null(),
        },
    }
}

fn hmget(ctx: &mut Ctx<'_>) {
    let (key, args) = (ctx.arg(1), ctx.args);
    let (srv, db, mut r) = split(ctx);
    let Ok(h) = read(srv, db, key) else { return r.error(WRONGTYPE) };
    r.array_len(args.len() - 2);
    for field in args.iter().skip(2) {
        match h.and_then(|h| h.get(field)) {
            Some(v) => r.bulk(v),
            None => r.null(),
        }
    }
}

fn hdel(ctx: &mut Ctx<'_>) {
    let (key, args) = (ctx.arg(1), ctx.args);
    let (srv, db, mut r) = split(ctx);
    let h = match write(srv, db, key, false) {
        Err(()) => return r.error(WRONGTYPE),
        Ok(None) => return r.int(0),
        Ok(Some((h, _))) => h,
    };
    let mut deleted = 0;
    for field in args.iter().skip(2) {
        if h.remove(field) {
            deleted += 1;
            if h.is_empty() {
                break;
            }
        }
    }
    let emptied = h.is_empty();
    // The events, then the reply, as Redis's hdelCommand.
    if deleted > 0 {
        ctx.notify(crate::server::notify::HASH, "hdel", key);
        if emptied {
            ctx.db().remove(key);
            ctx.notify(crate::server::notify::GENERIC, "del", key);
        }
        ctx.touched(key);
        ctx.dirty(deleted as u64);
    }
    ctx.reply().int(deleted);
}

/// Replies with `f` of the hash at argument 1, `missing` if there is none.
fn with_hash(
    ctx: &mut Ctx<'_>,
    missing: impl FnOnce(&mut Reply<'_>),
    f: impl FnOnce(&HashValue, &mut Reply<'_>),
) {
    let key = ctx.arg(1);
    let (srv, db, mut r) = split(ctx);
    match read(srv, db, key) {
        Err(()) => r.error(WRONGTYPE),
        Ok(None) => missing(&mut r),
        Ok(Some(h)) => f(h, &mut r),
    }
}

fn hexists(ctx: &mut Ctx<'_>) {
    let field = ctx.arg(2);
    with_hash(ctx, |r| r.int(0), |h, r| r.int(i64::from(h.contains(field))));
}

fn hlen(ctx: &mut Ctx<'_>) {
    with_hash(ctx, |r| r.int(0), |h, r| r.int(h.len() as i64));
}

fn hstrlen(ctx: &mut Ctx<'_>) {
    let field = ctx.arg(2);
    with_hash(ctx, |r| r.int(0), |h, r| r.int(h.strlen(field) as i64));
}

fn hkeys(ctx: &mut Ctx<'_>) {
    with_hash(
        ctx,
        |r| r.array_len(0),
        |h, r| {
            r.array_len(h.len());
            h.iter().for_each(|(f, _)| r.bulk(f));
        },
    );
}

fn hvals(ctx: &mut Ctx<'_>) {
    with_hash(
        ctx,
        |r| r.array_len(0),
        |h, r| {
            r.array_len(h.len());
            h.iter().for_each(|(_, v)| r.bulk(v));
        },
    );
}

fn hgetall(ctx: &mut Ctx<'_>) {
    with_hash(
        ctx,
        |r| r.map_len(0),
        |h, r| {
            r.map_len(h.len());
            for (f, v) in h.iter() {
                r.bulk(f);
                r.bulk(v);
            }
        },
    );
}

fn hincrby(ctx: &mut Ctx<'_>) {
    let Some(incr) = ctx.int_arg(3) else { return };
    let (key, field) = (ctx.arg(1), ctx.arg(2));
    let (srv, db, mut r) = split(ctx);
    let Ok(Some((h, cfg))) = write(srv, db, key, true) else {
        return r.error(WRONGTYPE);
    };
    let current = match h.get(field) {
        None => 0,
        Some(v) => match crate::util::num::parse_i64(v) {
            Some(n) => n,
            None => return r.error("ERR hash value is not an integer"),
        },
    };
    let Some(sum) = current.checked_add(incr) else {
        return r.error("ERR increment or decrement would overflow");
    };
    h.set(field, crate::util::num::format_i64(sum).as_bytes(), cfg);
    r.int(sum);
    ctx.touched(key);
    ctx.notify(crate::server::notify::HASH, "hincrby", key);
    ctx.dirty(1);
}

fn hincrbyfloat(ctx: &mut Ctx<'_>) {
    let incr = ctx.arg(3);
    match incr_by_float(b"0", incr) {
        Err(IncrFloatError::NotAFloat) => return ctx.error(NOT_FLOAT),
        Err(IncrFloatError::NanOrInfinity) => return ctx.error("ERR value is NaN or Infinity"),
        Ok(_) => {}
    }
    let (key, field) = (ctx.arg(1), ctx.arg(2));
    let (srv, db, mut r) = split(ctx);
    let Ok(Some((h, cfg))) = write(srv, db, key, true) else {
        return r.error(WRONGTYPE);
    };
    let current = h.get(field).unwrap_or(b"0");
    if incr_by_float(current, b"0") == Err(IncrFloatError::NotAFloat) {
        return r.error("ERR hash value is not a float");
    }
    let sum = match incr_by_float(current, incr) {
        Ok(s) => s,
        Err(e) => return r.error(&format!("ERR {e}")),
    };
    h.set(field, &sum, cfg);
    r.bulk(&sum);
    ctx.touched(key);
    ctx.notify(crate::server::notify::HASH, "hincrbyfloat", key);
    ctx.dirty(1);
}

/// The largest |count| HRANDFIELD takes with WITHVALUES (`LONG_MAX / 2`).
const MAX_WITHVALUES_COUNT: i64 = i64::MAX / 2;

/// Random picks generated per batch for a negative count, so a huge count
/// streams into the reply instead of building one huge vector first.
const RANDOM_BATCH: i64 = 1024;

fn hrandfield(ctx: &mut Ctx<'_>) {
    if ctx.argc() == 2 {
        let key = ctx.arg(1);
        let mut state = ctx.srv.random() | 1;
        let mut rng = || crate::server::next_random(&mut state);
        let (srv, db, mut r) = split(ctx);
        return match read(srv, db, key) {
            Err(()) => r.error(WRONGTYPE),
            Ok(h) => match h.and_then(|h| h.random_field(&mut rng)) {
                Some((f, _)) => r.bulk(f),
                None => r.null(),
            },
        };
    }
    let count =
        match crate::util::num::parse_i64(ctx.arg(2)) {
            None => return ctx.error(NOT_INTEGER),
            Some(i64::MIN) => return ctx.error(
                "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            ),
            Some(n) => n,
        };
    let with_values = match ctx.argc() {
        3 => false,
        4 if ctx.arg(3).eq_ignore_ascii_case(b"withvalues") => true,
        _ => return ctx.error(SYNTAX),
    };
    if with_values && !(-MAX_WITHVALUES_COUNT..=MAX_WITHVALUES_COUNT).contains(&count) {
        return ctx.error("ERR value is out of range");
    }
    let key = ctx.arg(1);
    let mut state = ctx.srv.random() | 1;
    let mut rng = || crate::server::next_random(&mut state);
    let (srv, db, mut r) = split(ctx);
    let h = match read(srv, db, key) {
        Err(()) => return r.error(WRONGTYPE),
        Ok(None) => return r.array_len(0),
        Ok(Some(h)) => h,
    };
    let resp3 = r.is_resp3();
    let n = if count >= 0 { count.min(h.len() as i64) } else { -count };
    r.array_len(if with_values && !resp3 { 2 * n as usize } else { n as usize });
    let emit = |picks: Vec<crate::types::hash::FieldPick<'_>>, r: &mut Reply<'_>| {
        for (f, v) in picks {
            if let Some(v) = v {
                if resp3 {
                    r.array_len(2);
                }
                r.bulk(f);
                r.bulk(v);
            } else {
                r.bulk(f);
            }
        }
    };
    if count >= 0 {
        emit(h.random_fields(count, with_values, &mut rng), &mut r);
    } else {
        let mut left = n;
        while left > 0 {
            let batch = left.min(RANDOM_BATCH);
            emit(h.random_fields(-batch, with_values, &mut rng), &mut r);
            left -= batch;
        }
    }
}

fn hscan(ctx: &mut Ctx<'_>) {
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
    let Ok(Some(h)) = read(srv, db, key) else { unreachable!("looked up above") };
    let mut items: Vec<Vec<u8>> = Vec::new();
    let mut seen = 0usize;
    let mut cursor = cursor;
    // As Redis: COUNT bounds the items collected before MATCH filters them
    // (fields and values both count), and at most ten times COUNT steps
    // are taken looking for them.
    let mut steps = opts.count.saturating_mul(10);
    loop {
        cursor = h.scan(cursor, |f, v| {
            seen += 2;
            if opts.matches(f) {
                items.push(f.to_vec());
                items.push(v.to_vec());
            }
        });
        steps -= 1;
        if cursor == 0 || steps == 0 || seen >= opts.count {
            break;
        }
    }
    aggscan::reply_scan(&mut r, cursor, &items);
}
