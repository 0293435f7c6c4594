//! Set algebra: SINTER, SINTERCARD, SUNION, SDIFF and the STORE forms, as
//! `sinterGenericCommand` and `sunionDiffGenericCommand`.
//!
//! A missing key is an empty set; any other type is WRONGTYPE, checked for
//! every key before any work. An intersection walks the smallest set and
//! probes the others, smallest first.

use super::{read, split};
use crate::cmd::Ctx;
use crate::db::{Value, WRONGTYPE};
use crate::server::Server;
use crate::types::set::SetValue;
use crate::types::EncodingConfig;
use std::borrow::Cow;

/// The sets at `keys` (`None` for a missing key), or `Err(())` if one
/// holds another type; with the encoding thresholds.
fn load<'s>(srv: &'s mut Server, db: usize, keys: &[&[u8]]) -> Result<Loaded<'s>, ()> {
    for k in keys {
        read(srv, db, k)?;
    }
    let d = &srv.dbs[db];
    let sets = keys
        .iter()
        .map(|k| {
            d.keys.get(*k).map(|e| match &e.value {
                Value::Set(s) => &**s,
                _ => unreachable!("type checked above"),
            })
        })
        .collect();
    Ok((sets, &srv.config.encoding))
}

/// What [`load`] returns.
type Loaded<'s> = (Vec<Option<&'s SetValue>>, &'s EncodingConfig);

/// Calls `f` on the members of the intersection, at most `limit` of them
/// (0: all); returns how many.
fn inter<'a>(sets: &[Option<&'a SetValue>], limit: usize, mut f: impl FnMut(Cow<'a, [u8]>)) -> usize {
    let Some(mut sets) = sets.iter().copied().collect::<Option<Vec<&SetValue>>>() else {
        return 0;
    };
    sets.sort_by_key(|s| s.len());
    let Some((first, rest)) = sets.split_first() else { return 0 };
    let mut n = 0;
    for m in first.iter() {
        if rest.iter().all(|s| s.contains(&m)) {
            f(m);
            n += 1;
            if n == limit {
                break;
            }
        }
    }
    n
}

/// Which of union and difference.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Diff,
}

/// The union or difference of `sets`, built as a new set.
fn union_diff(sets: &[Option<&SetValue>], op: Op, cfg: &EncodingConfig) -> SetValue {
    let mut out = SetValue::new();
    match op {
        Op::Union => {
            for s in sets.iter().flatten() {
                s.iter().for_each(|m| {
                    out.add(&m, cfg);
                });
            }
        }
        Op::Diff => {
            let Some(Some(first)) = sets.first() else { return out };
            for m in first.iter() {
                if !sets[1..].iter().flatten().any(|s| s.contains(&m)) {
                    out.add(&m, cfg);
                }
            }
        }
    }
    out
}

/// The key arguments from `from` to the end.
fn keys<'a>(ctx: &Ctx<'a>, from: usize) -> Vec<&'a [u8]> {
    (from..ctx.argc()).map(|i| ctx.arg(i)).collect()
}

/// Stores `result` at `dst` (deleting `dst` if it is empty) and replies
/// the cardinality.
fn store(ctx: &mut Ctx<'_>, dst: &[u8], result: SetValue) {
    let n = result.len();
    let now = ctx.now_ms();
    let lru = ctx.srv.lru_clock;
    if n > 0 {
        ctx.db().set(dst, Value::Set(Box::new(result)), lru);
        let event = ctx.cmd.name;
        ctx.notify(crate::server::notify::SET, event, dst);
    } else {
        let db = ctx.db();
        let existed = db.contains(dst, now) && db.remove(dst).is_some();
        if !existed {
            return ctx.reply().int(0);
        }
        ctx.notify(crate::server::notify::GENERIC, "del", dst);
    }
    ctx.touched(dst);
    ctx.dirty(1);
    ctx.reply().int(n as i64);
}

pub(super) fn sinter(ctx: &mut Ctx<'_>) {
    let keys = keys(ctx, 1);
    let (srv, db, mut r) = split(ctx);
    let Ok((sets, _)) = load(srv, db, &keys) else { return r.error(WRONGTYPE) };
    let mut members = Vec::new();
    inter(&sets, 0, |m| members.push(m));
    r.set_len(members.len());
    members.iter().for_each(|m| r.bulk(m));
}

pub(super) fn sinterstore(ctx: &mut Ctx<'_>) {
    let (dst, keys) = (ctx.arg(1), keys(ctx, 2));
    let (srv, db, mut r) = split(ctx);
    let Ok((sets, cfg)) = load(srv, db, &keys) else { return r.error(WRONGTYPE) };
    let mut result = SetValue::new();
    inter(&sets, 0, |m| {
        result.add(&m, cfg);
    });
    store(ctx, dst, result);
}

pub(super) fn sintercard(ctx: &mut Ctx<'_>) {
    let numkeys = match crate::util::num::parse_i64(ctx.arg(1)) {
        Some(n) if n > 0 => n as u64,
        _ => return ctx.error("ERR numkeys should be greater than 0"),
    };
    if numkeys > (ctx.argc() - 2) as u64 {
        return ctx.error("ERR Number of keys can't be greater than number of args");
    }
    let first_opt = 2 + numkeys as usize;
    let mut limit = 0usize;
    let mut i = first_opt;
    while i < ctx.argc() {
        if i + 1 < ctx.argc() && ctx.arg(i).eq_ignore_ascii_case(b"limit") {
            match crate::util::num::parse_i64(ctx.arg(i + 1)) {
                Some(n) if n >= 0 => limit = usize::try_from(n).unwrap_or(usize::MAX),
                _ => return ctx.error("ERR LIMIT can't be negative"),
            }
            i += 2;
        } else {
            return ctx.error(crate::cmd::SYNTAX);
        }
    }
    let keys: Vec<&[u8]> = (2..first_opt).map(|i| ctx.arg(i)).collect();
    let (srv, db, mut r) = split(ctx);
    let Ok((sets, _)) = load(srv, db, &keys) else { return r.error(WRONGTYPE) };
    r.int(inter(&sets, limit, drop) as i64);
}

/// SUNION and SDIFF.
fn union_diff_reply(ctx: &mut Ctx<'_>, op: Op) {
    let keys = keys(ctx, 1);
    let (srv, db, mut r) = split(ctx);
    let Ok((sets, cfg)) = load(srv, db, &keys) else { return r.error(WRONGTYPE) };
    let result = union_diff(&sets, op, cfg);
    r.set_len(result.len());
    result.iter().for_each(|m| r.bulk(&m));
}

/// SUNIONSTORE and SDIFFSTORE.
fn union_diff_store(ctx: &mut Ctx<'_>, op: Op) {
    let (dst, keys) = (ctx.arg(1), keys(ctx, 2));
    let (srv, db, mut r) = split(ctx);
    let Ok((sets, cfg)) = load(srv, db, &keys) else { return r.error(WRONGTYPE) };
    let result = union_diff(&sets, op, cfg);
    store(ctx, dst, result);
}

pub(super) fn sunion(ctx: &mut Ctx<'_>) {
    union_diff_reply(ctx, Op::Union);
}

pub(super) fn sunionstore(ctx: &mut Ctx<'_>) {
    union_diff_store(ctx, Op::Union);
}

pub(super) fn sdiff(ctx: &mut Ctx<'_>) {
    union_diff_reply(ctx, Op::Diff);
}

pub(super) fn sdiffstore(ctx: &mut Ctx<'_>) {
    union_diff_store(ctx, Op::Diff);
}
