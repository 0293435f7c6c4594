//! Sorted set algebra (`zunionInterDiffGenericCommand`): ZUNION, ZINTER,
//! ZDIFF, their STORE forms, and ZINTERCARD.
//!
//! Inputs may be sorted sets or plain sets (every member of a set scores
//! 1); a missing key is empty; any other type is WRONGTYPE, checked for
//! every key before the options are parsed. WEIGHTS multiply each input's
//! scores (a NaN product, `0 * inf`, counts as 0) and AGGREGATE combines
//! the scores of a member found in several inputs (a NaN sum, `inf +
//! -inf`, counts as 0).

use super::{reply_pairs, split};
use crate::cmd::{Ctx, NOT_INTEGER, SYNTAX};
use crate::db::{Value, WRONGTYPE};
use crate::server::Server;
use crate::types::set::SetValue;
use crate::types::zset::ZSetValue;
use crate::util::num::{parse_f64, parse_i64};
use std::borrow::Cow;
use std::collections::HashMap;

/// Which operation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

/// AGGREGATE.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// `zunionInterAggregate`.
    fn apply(self, target: &mut f64, val: f64) {
        match self {
            Aggregate::Sum => {
                *target += val;
                // inf + -inf: Redis's convention is 0.
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min => {
                if val < *target {
                    *target = val;
                }
            }
            Aggregate::Max => {
                if val > *target {
                    *target = val;
                }
            }
        }
    }
}

/// One input: a sorted set or a set.
#[derive(Clone, Copy)]
enum Src<'a> {
    Z(&'a ZSetValue),
    S(&'a SetValue),
}

impl<'a> Src<'a> {
    fn len(src: Option<Src<'_>>) -> usize {
        match src {
            None => 0,
            Some(Src::Z(z)) => z.len(),
            Some(Src::S(s)) => s.len(),
        }
    }

    /// The member's score in this input (1 for a set member).
    fn find(self, m: &[u8]) -> Option<f64> {
        match self {
            Src::Z(z) => z.score(m),
            Src::S(s) => s.contains(m).then_some(1.0),
        }
    }

    /// Calls `f` on every `(member, score)`.
    fn for_each(self, mut f: impl FnMut(Cow<'a, [u8]>, f64)) {
        match self {
            Src::Z(z) => z.iter().for_each(|(m, s)| f(Cow::Borrowed(m), s)),
            Src::S(s) => s.iter().for_each(|m| f(m, 1.0)),
        }
    }
}

/// The parsed command.
struct Parsed<'a> {
    keys: Vec<&'a [u8]>,
    weights: Vec<f64>,
    aggregate: Aggregate,
    withscores: bool,
    limit: usize,
}

/// Parses from `numkeys_idx` on, after checking every key's type; replies
/// with the error and returns `None` when something is wrong.
fn parse<'a>(ctx: &mut Ctx<'a>, numkeys_idx: usize, store: bool, op: Op, card: bool) -> Option<Parsed<'a>> {
    let Some(setnum) = parse_i64(ctx.arg(numkeys_idx)) else {
        ctx.error(NOT_INTEGER);
        return None;
    };
    if setnum < 1 {
        let msg = format!("ERR at least 1 input key is needed for '{}' command", ctx.cmd.name);
        ctx.error(&msg);
        return None;
    }
    if setnum > (ctx.argc() - (numkeys_idx + 1)) as i64 {
        ctx.error(SYNTAX);
        return None;
    }
    let setnum = setnum as usize;
    let keys: Vec<&[u8]> = (0..setnum).map(|i| ctx.arg(numkeys_idx + 1 + i)).collect();
    let db = ctx.c.db;
    for k in &keys {
        let v = if store {
            let now = ctx.srv.now_ms;
            ctx.srv.dbs[db].get_mut(k, now).map(|e| &e.value)
        } else {
            super::lookup_value(ctx.srv, db, k).map(|v| &*v)
        };
        if matches!(v, Some(v) if !matches!(v, Value::ZSet(_) | Value::Set(_))) {
            ctx.error(WRONGTYPE);
            return None;
        }
    }
    let mut p =
        Parsed { keys, weights: vec![1.0; setnum], aggregate: Aggregate::Sum, withscores: false, limit: 0 };
    let mut j = numkeys_idx + 1 + setnum;
    while j < ctx.argc() {
        let remaining = ctx.argc() - j;
        let a = ctx.arg(j);
        if op != Op::Diff && !card && remaining > setnum && a.eq_ignore_ascii_case(b"weights") {
            for i in 0..setnum {
                j += 1;
                match parse_f64(ctx.arg(j)) {
                    Some(w) => p.weights[i] = w,
                    None => {
                        ctx.error("ERR weight value is not a float");
                        return None;
                    }
                }
            }
        } else if op != Op::Diff && !card && remaining >= 2 && a.eq_ignore_ascii_case(b"aggregate") {
            j += 1;
            p.aggregate = match ctx.arg(j) {
                x if x.eq_ignore_ascii_case(b"sum") => Aggregate::Sum,
                x if x.eq_ignore_ascii_case(b"min") => Aggregate::Min,
                x if x.eq_ignore_ascii_case(b"max") => Aggregate::Max,
                _ => {
                    ctx.error(SYNTAX);
                    return None;
                }
            };
        } else if !store && !card && a.eq_ignore_ascii_case(b"withscores") {
            p.withscores = true;
        } else if card && remaining >= 2 && a.eq_ignore_ascii_case(b"limit") {
            j += 1;
            match parse_i64(ctx.arg(j)) {
                Some(n) if n >= 0 => p.limit = usize::try_from(n).unwrap_or(usize::MAX),
                _ => {
                    ctx.error("ERR LIMIT can't be negative");
                    return None;
                }
            }
        } else {
            ctx.error(SYNTAX);
            return None;
        }
        j += 1;
    }
    Some(p)
}

/// The inputs at `keys`, type-checked by [`parse`].
fn sources<'s>(srv: &'s Server, db: usize, keys: &[&[u8]]) -> Vec<Option<Src<'s>>> {
    let d = &srv.dbs[db];
    keys.iter()
        .map(|k| {
            d.keys.get(*k).map(|e| match &e.value {
                Value::ZSet(z) => Src::Z(z),
                Value::Set(s) => Src::S(s),
                _ => unreachable!("type checked by parse"),
            })
        })
        .collect()
}

/// Computes the operation: `(member, score)` sorted as a sorted set
/// orders them, or only the count (for ZINTERCARD, stopping at `limit`
/// when it is not 0).
fn compute(srcs: &[Option<Src<'_>>], p: &Parsed<'_>, op: Op, card: bool) -> (Vec<(Vec<u8>, f64)>, usize) {
    let mut out: Vec<(Vec<u8>, f64)> = Vec::new();
    let mut count = 0usize;
    match op {
        Op::Inter => {
            // Smallest input first: it bounds the work.
            let mut order: Vec<usize> = (0..srcs.len()).collect();
            order.sort_by_key(|&i| Src::len(srcs[i]));
            let (Some(&first), true) = (order.first(), order.iter().all(|&i| srcs[i].is_some())) else {
                return (out, 0);
            };
            let Some(src0) = srcs[first] else { return (out, 0) };
            let mut stop = false;
            src0.for_each(|m, s| {
                if stop {
                    return;
                }
                let mut score = p.weights[first] * s;
                if score.is_nan() {
                    score = 0.0;
                }
                for &i in &order[1..] {
                    let src = srcs[i].expect("checked above");
                    match src.find(&m) {
                        Some(v) => p.aggregate.apply(&mut score, v * p.weights[i]),
                        None => return,
                    }
                }
                count += 1;
                if card {
                    stop = p.limit != 0 && count == p.limit;
                } else {
                    out.push((m.into_owned(), score));
                }
            });
        }
        Op::Union => {
            let mut order: Vec<usize> = (0..srcs.len()).collect();
            order.sort_by_key(|&i| Src::len(srcs[i]));
            let mut acc: HashMap<Cow<'_, [u8]>, f64> = HashMap::new();
            for i in order {
                let Some(src) = srcs[i] else { continue };
                src.for_each(|m, s| {
                    let mut score = p.weights[i] * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match acc.get_mut(&m) {
                        Some(cur) => p.aggregate.apply(cur, score),
                        None => {
                            acc.insert(m, score);
                        }
                    }
                });
            }
            out = acc.into_iter().map(|(m, s)| (m.into_owned(), s)).collect();
        }
        Op::Diff => {
            if let Some(Some(src0)) = srcs.first() {
                src0.for_each(|m, s| {
                    if !srcs[1..].iter().flatten().any(|o| o.find(&m).is_some()) {
                        out.push((m.into_owned(), s));
                    }
                });
            }
        }
    }
    count = count.max(out.len());
    out.sort_by(|a, b| a.1.partial_cmp(&b.1).expect("scores are never NaN").then_with(|| a.0.cmp(&b.0)));
    (out, count)
}

/// The common body: `dst` for the STORE forms, `numkeys` at `numkeys_idx`.
fn generic(ctx: &mut Ctx<'_>, dst: Option<&[u8]>, numkeys_idx: usize, op: Op, card: bool) {
    let Some(p) = parse(ctx, numkeys_idx, dst.is_some(), op, card) else { return };
    let cfg = ctx.srv.config.encoding.clone();
    let (srv, db, mut r) = split(ctx);
    let srcs = sources(srv, db, &p.keys);
    let (result, count) = compute(&srcs, &p, op, card);
    drop(srcs);
    if card {
        return r.int(count as i64);
    }
    let Some(dst) = dst else {
        return reply_pairs(&mut r, result.iter().map(|(m, s)| (&m[..], *s)), p.withscores);
    };
    let z = ZSetValue::from_pairs(result, &cfg);
    let event = match op {
        Op::Union => "zunionstore",
        Op::Inter => "zinterstore",
        Op::Diff => "zdiffstore",
    };
    super::range::store(ctx, dst, z, event);
}

pub(super) fn zunionstore(ctx: &mut Ctx<'_>) {
    let dst = ctx.arg(1);
    generic(ctx, Some(dst), 2, Op::Union, false);
}

pub(super) fn zinterstore(ctx: &mut Ctx<'_>) {
    let dst = ctx.arg(1);
    generic(ctx, Some(dst), 2, Op::Inter, false);
}

pub(super) fn zdiffstore(ctx: &mut Ctx<'_>) {
    let dst = ctx.arg(1);
    generic(ctx, Some(dst), 2, Op::Diff, false);
}

pub(super) fn zunion(ctx: &mut Ctx<'_>) {
    generic(ctx, None, 1, Op::Union, false);
}

pub(super) fn zinter(ctx: &mut Ctx<'_>) {
    generic(ctx, None, 1, Op::Inter, false);
}

pub(super) fn zdiff(ctx: &mut Ctx<'_>) {
    generic(ctx, None, 1, Op::Diff, false);
}

pub(super) fn zintercard(ctx: &mut Ctx<'_>) {
    generic(ctx, None, 1, Op::Inter, true);
}
