//! The ZRANGE family (`zrangeGenericCommand`): Redis 7's unified ZRANGE
//! with BYSCORE/BYLEX/REV/LIMIT/WITHSCORES, the older ZREVRANGE,
//! Z[REV]RANGEBYSCORE and Z[REV]RANGEBYLEX (each a fixed mode of it), and
//! ZRANGESTORE, which stores the range instead of replying with it.

use super::{read, reply_pairs, split};
use crate::cmd::{Ctx, SYNTAX};
use crate::db::{Value, WRONGTYPE};
use crate::server::notify::{GENERIC, ZSET};
use crate::types::zset::{LexRange, ScoreRange, ZSetValue};
use crate::util::num::parse_i64;

/// What the range is over.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// ZRANGE without BYSCORE/BYLEX yet: becomes `Rank`.
    Auto,
    Rank,
    Score,
    Lex,
}

/// Which way the range runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    /// ZRANGE without REV yet: becomes `Forward`.
    Auto,
    Forward,
    Reverse,
}

/// A parsed range.
enum Spec {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

pub(super) fn zrange(ctx: &mut Ctx<'_>) {
    generic(ctx, 1, None, Kind::Auto, Dir::Auto);
}

pub(super) fn zrangestore(ctx: &mut Ctx<'_>) {
    let dst = ctx.arg(1);
    generic(ctx, 2, Some(dst), Kind::Auto, Dir::Auto);
}

pub(super) fn zrevrange(ctx: &mut Ctx<'_>) {
    generic(ctx, 1, None, Kind::Rank, Dir::Reverse);
}

pub(super) fn zrangebyscore(ctx: &mut Ctx<'_>) {
    generic(ctx, 1, None, Kind::Score, Dir::Forward);
}

pub(super) fn zrevrangebyscore(ctx: &mut Ctx<'_>) {
    generic(ctx, 1, None, Kind::Score, Dir::Reverse);
}

pub(super) fn zrangebylex(ctx: &mut Ctx<'_>) {
    generic(ctx, 1, None, Kind::Lex, Dir::Forward);
}

pub(super) fn zrevrangebylex(ctx: &mut Ctx<'_>) {
    generic(ctx, 1, None, Kind::Lex, Dir::Reverse);
}

/// `zrangeGenericCommand`: the source key at `src_idx`, then min, max and
/// the options; `dst` for ZRANGESTORE.
fn generic(ctx: &mut Ctx<'_>, src_idx: usize, dst: Option<&[u8]>, mut kind: Kind, mut dir: Dir) {
    let mut withscores = false;
    let (mut offset, mut limit) = (0i64, -1i64);
    let mut j = src_idx + 3;
    while j < ctx.argc() {
        let a = ctx.arg(j);
        let left = ctx.argc() - j - 1;
        if dst.is_none() && a.eq_ignore_ascii_case(b"withscores") {
            withscores = true;
        } else if a.eq_ignore_ascii_case(b"limit") && left >= 2 {
            let Some(o) = ctx.int_arg(j + 1) else { return };
            let Some(l) = ctx.int_arg(j + 2) else { return };
            (offset, limit) = (o, l);
            j += 2;
        } else if dir == Dir::Auto && a.eq_ignore_ascii_case(b"rev") {
            dir = Dir::Reverse;
        } else if kind == Kind::Auto && a.eq_ignore_ascii_case(b"bylex") {
            kind = Kind::Lex;
        } else if kind == Kind::Auto && a.eq_ignore_ascii_case(b"byscore") {
            kind = Kind::Score;
        } else {
            return ctx.error(SYNTAX);
        }
        j += 1;
    }
    let reverse = dir == Dir::Reverse;
    if kind == Kind::Auto {
        kind = Kind::Rank;
    }
    if limit != -1 && kind == Kind::Rank {
        return ctx
            .error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
    }
    if withscores && kind == Kind::Lex {
        return ctx.error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    }
    let (mut min_idx, mut max_idx) = (src_idx + 1, src_idx + 2);
    if reverse && kind != Kind::Rank {
        // The range is given as max, min.
        std::mem::swap(&mut min_idx, &mut max_idx);
    }
    let spec = match kind {
        Kind::Score => match ScoreRange::parse(ctx.arg(min_idx), ctx.arg(max_idx)) {
            Ok(r) => Spec::Score(r),
            Err(e) => return ctx.error(&e.to_string()),
        },
        Kind::Lex => match LexRange::parse(ctx.arg(min_idx), ctx.arg(max_idx)) {
            Ok(r) => Spec::Lex(r),
            Err(e) => return ctx.error(&e.to_string()),
        },
        _ => {
            let (Some(start), Some(stop)) = (parse_i64(ctx.arg(min_idx)), parse_i64(ctx.arg(max_idx))) else {
                return ctx.error(crate::cmd::NOT_INTEGER);
            };
            Spec::Rank(start, stop)
        }
    };
    // A negative offset skips everything, a negative limit means no limit
    // (Redis's `while (offset--)` and `while (limit--)` loops).
    let page = if offset < 0 { None } else { Some((offset as usize, usize::try_from(limit).ok())) };
    let src = ctx.arg(src_idx);
    let cfg = ctx.srv.config.encoding.clone();
    let (srv, db, mut r) = split(ctx);
    let z = match read(srv, db, src) {
        Err(()) => return r.error(WRONGTYPE),
        Ok(None) => None,
        Ok(Some(z)) => Some(z),
    };
    // A by-rank range ignores LIMIT -1 (the only one it accepts) whatever
    // the offset, as Redis 7.0 does.
    let pairs = match (z, page, &spec) {
        (None, _, _) => Vec::new(),
        (Some(z), _, Spec::Rank(start, stop)) => z.range_by_rank(*start, *stop, reverse),
        (_, None, _) => Vec::new(),
        (Some(z), Some((offset, limit)), Spec::Score(range)) => {
            z.range_by_score(range, reverse, offset, limit)
        }
        (Some(z), Some((offset, limit)), Spec::Lex(range)) => z.range_by_lex(range, reverse, offset, limit),
    };
    let Some(dst) = dst else {
        return reply_pairs(&mut r, pairs, withscores);
    };
    // Redis 7.0 picks the encoding by the count alone and converts once a
    // long member arrives, so a -0 met before that is stored as 0.
    let mut result = ZSetValue::with_hint(pairs.len(), 0, &cfg);
    for (m, s) in &pairs {
        let _ = result.add(m, *s, Default::default(), &cfg);
    }
    drop(pairs);
    store(ctx, dst, result, "zrangestore");
}

/// Stores `result` at `dst` for a STORE command (replacing any value and
/// TTL, or deleting `dst` when the result is empty) and replies with its
/// cardinality, firing `event` (or `del`).
pub(super) fn store(ctx: &mut Ctx<'_>, dst: &[u8], result: ZSetValue, event: &str) {
    let n = result.len();
    let (now, lru) = (ctx.now_ms(), ctx.srv.lru_clock);
    if n > 0 {
        ctx.db().set(dst, Value::ZSet(Box::new(result)), lru);
        ctx.reply().int(n as i64);
        ctx.touched(dst);
        ctx.notify(ZSET, event, dst);
        ctx.dirty(1);
        return;
    }
    ctx.reply().int(0);
    let db = ctx.db();
    if db.contains(dst, now) && db.remove(dst).is_some() {
        ctx.touched(dst);
        ctx.notify(GENERIC, "del", dst);
        ctx.dirty(1);
    }
}
