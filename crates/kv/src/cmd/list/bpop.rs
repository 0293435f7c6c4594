//! The blocking pops: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP and the
//! sorted-set ones, BZPOPMIN, BZPOPMAX and BZMPOP.
//!
//! Each first behaves as its non-blocking form when a key can serve it,
//! and is then logged to the AOF as that form (BLPOP as LPOP, BLMOVE as
//! LMOVE, BZPOPMIN as ZPOPMIN). When no key can, the client blocks
//! (`server::blocking`) until a write makes one of its keys ready, at
//! which point the command runs again for it; inside MULTI (and while the
//! AOF loads) it replies as a timeout at once instead.

use super::moves::{self, first_list, pop_range_with_key, side, Offer};
use super::{rewrite, take};
use crate::cmd::mpop::parse_mpop;
use crate::cmd::Ctx;
use crate::db::{Value, WRONGTYPE};
use crate::server::blocking::{self, Want};
use crate::server::notify::{GENERIC, ZSET};
use crate::types::zset::ZSetValue;

/// Parses the timeout at argument `i` (seconds, a float) into an absolute
/// deadline in Unix ms, `None` for 0 (forever); replies Redis's error when
/// it is not valid (`getTimeoutFromObjectOrReply`). The seconds are read
/// as a `long double` and rounded up to whole ms, so a timeout of 0.0001
/// waits 1 ms rather than forever.
fn timeout(ctx: &mut Ctx<'_>, i: usize) -> Option<Option<i64>> {
    let Some(secs) = crate::util::longdouble::parse_as_f64(ctx.arg(i)) else {
        ctx.error("ERR timeout is not a float or out of range");
        return None;
    };
    let ms = (secs * 1000.0).ceil();
    // C's conversion of an out-of-range value gives LLONG_MIN on x86.
    let ms = if ms.is_finite() && ms.abs() < 9.2e18 { ms as i64 } else { i64::MIN };
    if ms < 0 {
        ctx.error("ERR timeout is negative");
        return None;
    }
    if ms == 0 {
        return Some(None);
    }
    let now = ctx.now_ms();
    if ms > i64::MAX - now {
        ctx.error("ERR timeout is out of range");
        return None;
    }
    Some(Some(now + ms))
}

/// Whether this client may block now (not inside EXEC, not loading the AOF).
fn may_block(ctx: &Ctx<'_>) -> bool {
    !ctx.c.deny_blocking && !ctx.srv.persist.loading
}

/// BLPOP and BRPOP: `key... timeout`.
fn bpop(ctx: &mut Ctx<'_>, left: bool) {
    let last = ctx.argc() - 1;
    let Some(deadline) = timeout(ctx, last) else { return };
    match first_list(ctx, 1..last) {
        Offer::At(i) => {
            let key = ctx.arg(i);
            let values = take(ctx, key, left, 1);
            let mut r = ctx.reply();
            r.array_len(2);
            r.bulk(key);
            r.bulk(&values[0]);
            super::elements_removed(ctx, key, left, 1);
            rewrite(ctx, &[if left { b"LPOP" } else { b"RPOP" }, key]);
        }
        Offer::WrongType => {}
        Offer::Nothing if !may_block(ctx) => ctx.reply().null_array(),
        Offer::Nothing => blocking::block(ctx, 1..last, deadline, Want::List),
    }
}

pub(super) fn blpop(ctx: &mut Ctx<'_>) {
    bpop(ctx, true);
}

pub(super) fn brpop(ctx: &mut Ctx<'_>) {
    bpop(ctx, false);
}

/// BLMOVE and BRPOPLPUSH once their arguments are parsed.
fn bmove(ctx: &mut Ctx<'_>, from_left: bool, to_left: bool, deadline: Option<i64>, rpoplpush: bool) {
    let before = ctx.srv.dirty;
    if moves::move_element(ctx, from_left, to_left) {
        if ctx.srv.dirty != before {
            moves::rewrite_move(ctx, from_left, to_left, rpoplpush);
        }
    } else if !may_block(ctx) {
        ctx.reply().null();
    } else {
        blocking::block(ctx, 1..2, deadline, Want::List);
    }
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout.
pub(super) fn blmove(ctx: &mut Ctx<'_>) {
    let Some(from) = side(ctx, 3) else { return };
    let Some(to) = side(ctx, 4) else { return };
    let Some(deadline) = timeout(ctx, 5) else { return };
    bmove(ctx, from, to, deadline, false);
}

/// BRPOPLPUSH source destination timeout.
pub(super) fn brpoplpush(ctx: &mut Ctx<'_>) {
    let Some(deadline) = timeout(ctx, 3) else { return };
    bmove(ctx, false, true, deadline, true);
}

/// BLMPOP timeout numkeys key... LEFT|RIGHT [COUNT n].
pub(super) fn blmpop(ctx: &mut Ctx<'_>) {
    // As lmpopGenericCommand: the other arguments, then the timeout.
    let Some(p) = parse_mpop(ctx, 2, (b"left", b"right")) else { return };
    let Some(deadline) = timeout(ctx, 1) else { return };
    match first_list(ctx, p.keys.clone()) {
        Offer::At(i) => pop_range_with_key(ctx, i, p.first, p.count),
        Offer::WrongType => {}
        Offer::Nothing if !may_block(ctx) => ctx.reply().null_array(),
        Offer::Nothing => blocking::block(ctx, p.keys, deadline, Want::List),
    }
}

/// The sorted set at `key` for writing: `Err(())` for another type.
fn zset_mut<'s>(ctx: &'s mut Ctx<'_>, key: &[u8]) -> Result<Option<&'s mut ZSetValue>, ()> {
    let now = ctx.now_ms();
    let db = ctx.c.db;
    match ctx.srv.dbs[db].get_mut(key, now) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::ZSet(z) => Ok(Some(&mut **z)),
            _ => Err(()),
        },
    }
}

/// The first key in `keys` holding a non-empty sorted set.
fn first_zset(ctx: &mut Ctx<'_>, keys: std::ops::Range<usize>) -> Offer {
    for i in keys {
        match zset_mut(ctx, ctx.args.get(i)) {
            Err(()) => {
                ctx.error(WRONGTYPE);
                return Offer::WrongType;
            }
            Ok(Some(z)) if !z.is_empty() => return Offer::At(i),
            Ok(_) => {}
        }
    }
    Offer::Nothing
}

/// Pops up to `count` members from the sorted set at argument `i`
/// (`genericZpopCommand`): `[key, member, score]` when `nested` is false,
/// `[key, [[member, score]...]]` when true; logged as
/// `ZPOPMIN|ZPOPMAX key [count]`.
fn zpop_at(ctx: &mut Ctx<'_>, i: usize, min: bool, count: usize, nested: bool) {
    let key = ctx.arg(i);
    let Ok(Some(z)) = zset_mut(ctx, key) else { return };
    let popped = if min { z.pop_min(count) } else { z.pop_max(count) };
    let emptied = z.is_empty();
    let mut r = ctx.reply();
    if nested {
        r.array_len(2);
        r.bulk(key);
        r.array_len(popped.len());
        for (m, s) in &popped {
            r.array_len(2);
            r.bulk(m);
            r.double(*s);
        }
    } else {
        r.array_len(3);
        r.bulk(key);
        r.bulk(&popped[0].0);
        r.double(popped[0].1);
    }
    let event = if min { "zpopmin" } else { "zpopmax" };
    ctx.notify(ZSET, event, key);
    if emptied {
        ctx.db().remove(key);
        ctx.notify(GENERIC, "del", key);
    }
    ctx.touched(key);
    ctx.dirty(popped.len() as u64);
    let name: &[u8] = if min { b"ZPOPMIN" } else { b"ZPOPMAX" };
    if nested {
        rewrite(ctx, &[name, key, count.to_string().as_bytes()]);
    } else {
        rewrite(ctx, &[name, key]);
    }
}

/// BZPOPMIN and BZPOPMAX: `key... timeout`.
fn bzpop(ctx: &mut Ctx<'_>, min: bool) {
    let last = ctx.argc() - 1;
    let Some(deadline) = timeout(ctx, last) else { return };
    match first_zset(ctx, 1..last) {
        Offer::At(i) => zpop_at(ctx, i, min, 1, false),
        Offer::WrongType => {}
        Offer::Nothing if !may_block(ctx) => ctx.reply().null_array(),
        Offer::Nothing => blocking::block(ctx, 1..last, deadline, Want::ZSet),
    }
}

pub(super) fn bzpopmin(ctx: &mut Ctx<'_>) {
    bzpop(ctx, true);
}

pub(super) fn bzpopmax(ctx: &mut Ctx<'_>) {
    bzpop(ctx, false);
}

/// BZMPOP timeout numkeys key... MIN|MAX [COUNT n].
pub(super) fn bzmpop(ctx: &mut Ctx<'_>) {
    // As zmpopGenericCommand: the other arguments, then the timeout.
    let Some(p) = parse_mpop(ctx, 2, (b"min", b"max")) else { return };
    let Some(deadline) = timeout(ctx, 1) else { return };
    match first_zset(ctx, p.keys.clone()) {
        Offer::At(i) => zpop_at(ctx, i, p.first, p.count, true),
        Offer::WrongType => {}
        Offer::Nothing if !may_block(ctx) => ctx.reply().null_array(),
        Offer::Nothing => blocking::block(ctx, p.keys, deadline, Want::ZSet),
    }
}
