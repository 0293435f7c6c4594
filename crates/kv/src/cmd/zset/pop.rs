//! ZPOPMIN, ZPOPMAX and ZMPOP (`genericZpopCommand`), with the pop itself
//! exposed for the blocking forms (BZPOPMIN, BZPOPMAX, BZMPOP):
//! [`pop_reply`] pops and replies. ZMPOP's arguments are parsed by the
//! parser the list MPOP commands share (`cmd::mpop`).

use super::{split, write};
use crate::cmd::{Ctx, SYNTAX};
use crate::db::{Value, WRONGTYPE};
use crate::server::notify::{GENERIC, ZSET};

/// Which end a pop takes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Where {
    /// The lowest scores first (ZPOPMIN).
    Min,
    /// The highest scores first (ZPOPMAX).
    Max,
}

/// The reply shapes of the pop commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PopShape {
    /// `[member, score, ...]` flat (ZPOPMIN without COUNT, and any count in
    /// RESP2).
    Flat,
    /// `[[member, score], ...]` (ZPOPMIN with COUNT in RESP3).
    Nested,
    /// `[key, member, score, ...]` (BZPOPMIN/BZPOPMAX).
    KeyFlat,
    /// `[key, [[member, score], ...]]` (ZMPOP, BZMPOP).
    KeyNested,
}

/// Pops up to `count` (at least 1) members from the end `at` of the
/// sorted set at `key`, which must hold a non-empty sorted set, and writes
/// the reply in `shape`; then signals the key, fires `zpopmin`/`zpopmax`
/// (and `del` when the set is emptied, which deletes it) and counts the
/// changes. Returns how many members were popped.
pub fn pop_reply(ctx: &mut Ctx<'_>, key: &[u8], at: Where, count: usize, shape: PopShape) -> usize {
    let (srv, db, mut r) = split(ctx);
    let Ok(Some((z, _))) = write(srv, db, key, None) else {
        unreachable!("pop_reply is called on a sorted set");
    };
    let popped = match at {
        Where::Min => z.pop_min(count.max(1)),
        Where::Max => z.pop_max(count.max(1)),
    };
    let emptied = z.is_empty();
    let n = popped.len();
    let nested = matches!(shape, PopShape::Nested | PopShape::KeyNested);
    match shape {
        PopShape::Flat => r.array_len(2 * n),
        PopShape::Nested => r.array_len(n),
        PopShape::KeyFlat => {
            r.array_len(2 * n + 1);
            r.bulk(key);
        }
        PopShape::KeyNested => {
            r.array_len(2);
            r.bulk(key);
            r.array_len(n);
        }
    }
    for (m, s) in &popped {
        if nested {
            r.array_len(2);
        }
        r.bulk(m);
        r.double(*s);
    }
    ctx.dirty(n as u64);
    ctx.touched(key);
    ctx.notify(ZSET, if at == Where::Min { "zpopmin" } else { "zpopmax" }, key);
    if emptied {
        ctx.db().remove(key);
        ctx.notify(GENERIC, "del", key);
    }
    n
}

/// The first of `keys` that holds a sorted set (missing keys are skipped);
/// `Err(())` when the first existing one holds another type. A lookup for
/// writing, as `lookupKeyWrite`: no keyspace hit or miss is counted.
pub(crate) fn first_zset<'a>(
    ctx: &mut Ctx<'_>,
    keys: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Option<&'a [u8]>, ()> {
    let (db, now) = (ctx.c.db, ctx.srv.now_ms);
    for k in keys {
        match ctx.srv.dbs[db].get_mut(k, now).map(|e| &e.value) {
            None => continue,
            Some(Value::ZSet(_)) => return Ok(Some(k)),
            Some(_) => return Err(()),
        }
    }
    Ok(None)
}

pub(super) fn zpopmin(ctx: &mut Ctx<'_>) {
    zpop(ctx, Where::Min);
}

pub(super) fn zpopmax(ctx: &mut Ctx<'_>) {
    zpop(ctx, Where::Max);
}

/// ZPOPMIN and ZPOPMAX: `key [count]`.
fn zpop(ctx: &mut Ctx<'_>, at: Where) {
    if ctx.argc() > 3 {
        return ctx.error(SYNTAX);
    }
    let count = if ctx.argc() == 3 {
        match crate::util::num::parse_i64(ctx.arg(2)) {
            Some(n) if n >= 0 => Some(n as u64),
            _ => return ctx.error("ERR value is out of range, must be positive"),
        }
    } else {
        None
    };
    let key = ctx.arg(1);
    match first_zset(ctx, [key]) {
        Err(()) => ctx.error(WRONGTYPE),
        Ok(None) => ctx.reply().array_len(0),
        Ok(Some(_)) if count == Some(0) => ctx.reply().array_len(0),
        Ok(Some(key)) => {
            let shape = if count.is_some() && ctx.c.proto >= 3 { PopShape::Nested } else { PopShape::Flat };
            let n = usize::try_from(count.unwrap_or(1)).unwrap_or(usize::MAX);
            pop_reply(ctx, key, at, n, shape);
        }
    }
}

pub(super) fn zmpop(ctx: &mut Ctx<'_>) {
    let Some(a) = crate::cmd::mpop::parse_mpop(ctx, 1, (b"min", b"max")) else { return };
    let at = if a.first { Where::Min } else { Where::Max };
    let args = ctx.args;
    let keys = a.keys.map(|i| args.get(i));
    match first_zset(ctx, keys) {
        Err(()) => ctx.error(WRONGTYPE),
        Ok(None) => ctx.reply().null_array(),
        Ok(Some(key)) => {
            pop_reply(ctx, key, at, a.count, PopShape::KeyNested);
        }
    }
}
