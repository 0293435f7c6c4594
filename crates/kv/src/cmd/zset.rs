//! Sorted set commands (Redis 7's `t_zset.c`): ZADD and ZINCRBY, ZREM,
//! the point queries (ZSCORE, ZMSCORE, ZCARD, ZCOUNT, ZLEXCOUNT, ZRANK),
//! the ZREMRANGEBY* deletions, ZSCAN and ZRANDMEMBER. The ZRANGE family
//! lives in `range`, the pops in `pop`, and the algebra (ZUNION, ZINTER,
//! ZDIFF and their STORE forms, ZINTERCARD) in `store`.
//!
//! A sorted set whose last member is removed is deleted with it: Redis
//! never keeps an empty aggregate. Keyspace events fire where `t_zset.c`
//! fires them (class `z`, then `g`'s `del` when a key is emptied).

use super::aggscan;
use super::typed::{lookup_value, split};
use super::{Command, Ctx, DENYOOM, FAST, NOT_INTEGER, READONLY, SYNTAX, WRITE};
use crate::db::{Value, WRONGTYPE};
use crate::resp::reply::Reply;
use crate::server::notify::{GENERIC, ZSET};
use crate::server::Server;
use crate::types::zset::{AddFlags, AddResult, LexRange, ScoreRange, ZSetValue};
use crate::types::EncodingConfig;
use crate::util::num::{format_double, parse_f64, parse_i64};

/// The sorted set at `key` for reading: `Ok(None)` if missing, `Err(())` if
/// the key holds another type (see [`super::typed::read`]).
pub(crate) fn read<'s>(srv: &'s mut Server, db: usize, key: &[u8]) -> Result<Option<&'s ZSetValue>, ()> {
    super::typed::read(srv, db, key)
}

/// The sorted set at `key` for writing; when missing and `create` is given
/// (`zsetTypeCreate`'s size and member-length hints), a new one.
/// `Err(())` if the key holds another type. Returns the encoding
/// thresholds alongside.
pub(crate) fn write<'s>(
    srv: &'s mut Server,
    db: usize,
    key: &[u8],
    create: Option<(usize, usize)>,
) -> Result<Option<(&'s mut ZSetValue, &'s EncodingConfig)>, ()> {
    let make = create.map(|(hint, len)| {
        move |cfg: &EncodingConfig| Value::ZSet(Box::new(ZSetValue::with_hint(hint, len, cfg)))
    });
    super::typed::write(srv, db, key, make)
}

pub mod pop;
mod range;
mod store;
#[cfg(test)]
mod tests;

macro_rules! cmd {
    ($name:expr, $arity:expr, $flags:expr, $first:expr, $last:expr, $step:expr, $h:expr) => {
        command!("sorted-set", $name, $arity, $flags, $first, $last, $step, $h)
    };
}

/// The sorted set commands (the blocking pops live with the blocking
/// machinery).
pub static COMMANDS: &[Command] = &[
    cmd!("zadd", -4, WRITE | DENYOOM | FAST, 1, 1, 1, zadd),
    cmd!("zincrby", 4, WRITE | DENYOOM | FAST, 1, 1, 1, zincrby),
    cmd!("zrem", -3, WRITE | FAST, 1, 1, 1, zrem),
    cmd!("zscore", 3, READONLY | FAST, 1, 1, 1, zscore),
    cmd!("zmscore", -3, READONLY | FAST, 1, 1, 1, zmscore),
    cmd!("zcard", 2, READONLY | FAST, 1, 1, 1, zcard),
    cmd!("zcount", 4, READONLY | FAST, 1, 1, 1, zcount),
    cmd!("zlexcount", 4, READONLY | FAST, 1, 1, 1, zlexcount),
    cmd!("zrank", -3, READONLY | FAST, 1, 1, 1, zrank),
    cmd!("zrevrank", -3, READONLY | FAST, 1, 1, 1, zrevrank),
    cmd!("zremrangebyrank", 4, WRITE, 1, 1, 1, zremrangebyrank),
    cmd!("zremrangebyscore", 4, WRITE, 1, 1, 1, zremrangebyscore),
    cmd!("zremrangebylex", 4, WRITE, 1, 1, 1, zremrangebylex),
    cmd!("zscan", -3, READONLY, 1, 1, 1, zscan),
    cmd!("zrandmember", -2, READONLY, 1, 1, 1, zrandmember),
    cmd!("zrange", -4, READONLY, 1, 1, 1, range::zrange),
    cmd!("zrangestore", -5, WRITE | DENYOOM, 1, 2, 1, range::zrangestore),
    cmd!("zrevrange", -4, READONLY, 1, 1, 1, range::zrevrange),
    cmd!("zrangebyscore", -4, READONLY, 1, 1, 1, range::zrangebyscore),
    cmd!("zrevrangebyscore", -4, READONLY, 1, 1, 1, range::zrevrangebyscore),
    cmd!("zrangebylex", -4, READONLY, 1, 1, 1, range::zrangebylex),
    cmd!("zrevrangebylex", -4, READONLY, 1, 1, 1, range::zrevrangebylex),
    cmd!("zpopmin", -2, WRITE | FAST, 1, 1, 1, pop::zpopmin),
    cmd!("zpopmax", -2, WRITE | FAST, 1, 1, 1, pop::zpopmax),
    cmd!("zmpop", -4, WRITE, 0, 0, 0, pop::zmpop),
    cmd!("zunionstore", -4, WRITE | DENYOOM, 1, 1, 1, store::zunionstore),
    cmd!("zinterstore", -4, WRITE | DENYOOM, 1, 1, 1, store::zinterstore),
    cmd!("zdiffstore", -4, WRITE | DENYOOM, 1, 1, 1, store::zdiffstore),
    cmd!("zunion", -3, READONLY, 0, 0, 0, store::zunion),
    cmd!("zinter", -3, READONLY, 0, 0, 0, store::zinter),
    cmd!("zdiff", -3, READONLY, 0, 0, 0, store::zdiff),
    cmd!("zintercard", -3, READONLY, 0, 0, 0, store::zintercard),
];

/// Writes `(member, score)` pairs as the ZRANGE family does: members only;
/// with scores, one flat array in RESP2 and an array of `[member, score]`
/// pairs in RESP3 (order matters, so never a map).
pub(crate) fn reply_pairs<'p, I>(r: &mut Reply<'_>, pairs: I, withscores: bool)
where
    I: IntoIterator<Item = (&'p [u8], f64)>,
    I::IntoIter: ExactSizeIterator,
{
    let pairs = pairs.into_iter();
    let nested = withscores && r.is_resp3();
    let n = pairs.len();
    r.array_len(if withscores && !nested { 2 * n } else { n });
    for (m, s) in pairs {
        if nested {
            r.array_len(2);
        }
        r.bulk(m);
        if withscores {
            r.double(s);
        }
    }
}

/// Deletes `key` if its sorted set became empty, announcing it; true if it
/// did.
fn delete_if_empty(ctx: &mut Ctx<'_>, key: &[u8]) -> bool {
    let db = ctx.c.db;
    let empty =
        matches!(ctx.srv.dbs[db].keys.get(key).map(|e| &e.value), Some(Value::ZSet(z)) if z.is_empty());
    if empty {
        ctx.db().remove(key);
        ctx.notify(GENERIC, "del", key);
    }
    empty
}

/// ZADD's and ZINCRBY's options.
struct AddOpts {
    flags: AddFlags,
    ch: bool,
}

fn zadd(ctx: &mut Ctx<'_>) {
    let opts = AddOpts { flags: AddFlags::default(), ch: false };
    zadd_with_flags(ctx, opts);
}

/// ZINCRBY is `zaddGenericCommand` with INCR set, flag parsing included:
/// `ZINCRBY key XX member` takes XX as a flag and is a syntax error.
fn zincrby(ctx: &mut Ctx<'_>) {
    let flags = AddFlags { incr: true, ..AddFlags::default() };
    zadd_with_flags(ctx, AddOpts { flags, ch: false });
}

/// Reads the NX/XX/GT/LT/INCR/CH words from argument 2 on, then adds.
fn zadd_with_flags(ctx: &mut Ctx<'_>, mut opts: AddOpts) {
    let mut i = 2;
    while i < ctx.argc() {
        let a = ctx.arg(i);
        let f = &mut opts.flags;
        match () {
            _ if a.eq_ignore_ascii_case(b"nx") => f.nx = true,
            _ if a.eq_ignore_ascii_case(b"xx") => f.xx = true,
            _ if a.eq_ignore_ascii_case(b"gt") => f.gt = true,
            _ if a.eq_ignore_ascii_case(b"lt") => f.lt = true,
            _ if a.eq_ignore_ascii_case(b"incr") => f.incr = true,
            _ if a.eq_ignore_ascii_case(b"ch") => opts.ch = true,
            _ => break,
        }
        i += 1;
    }
    zadd_generic(ctx, i, opts);
}

/// `zaddGenericCommand`: score-member pairs from argument `from` on.
fn zadd_generic(ctx: &mut Ctx<'_>, from: usize, opts: AddOpts) {
    let elements = ctx.argc() - from;
    if elements % 2 != 0 || elements == 0 {
        return ctx.error(SYNTAX);
    }
    let elements = elements / 2;
    let AddOpts { flags, ch } = opts;
    if flags.nx && flags.xx {
        return ctx.error("ERR XX and NX options at the same time are not compatible");
    }
    if (flags.nx && (flags.gt || flags.lt)) || (flags.gt && flags.lt) {
        return ctx.error("ERR GT, LT, and/or NX options at the same time are not compatible");
    }
    if flags.incr && elements > 1 {
        return ctx.error("ERR INCR option supports a single increment-element pair");
    }
    // Every score parses before anything changes: all or nothing.
    let mut scores = Vec::with_capacity(elements);
    for j in 0..elements {
        match parse_f64(ctx.arg(from + 2 * j)) {
            Some(s) => scores.push(s),
            None => return ctx.error(super::NOT_FLOAT),
        }
    }
    let (key, args) = (ctx.arg(1), ctx.args);
    let (srv, db, mut r) = split(ctx);
    // Redis 7.0 sizes a new set by its first member only.
    let create = (!flags.xx).then(|| (1, args.get(from + 1).len()));
    let (z, cfg) = match write(srv, db, key, create) {
        Err(()) => return r.error(WRONGTYPE),
        Ok(Some(found)) => found,
        Ok(None) => {
            // No key and XX: nothing to do.
            return if flags.incr { r.null() } else { r.int(0) };
        }
    };
    let (mut added, mut updated, mut processed) = (0u64, 0u64, 0u64);
    let mut last = 0.0;
    let mut failed = None;
    for (j, score) in scores.into_iter().enumerate() {
        match z.add(args.get(from + 2 * j + 1), score, flags, cfg) {
            Err(e) => {
                failed = Some(e);
                break;
            }
            Ok(out) => {
                last = out.score;
                match out.result {
                    AddResult::Added => added += 1,
                    AddResult::Updated => updated += 1,
                    AddResult::Unchanged | AddResult::Skipped => {}
                }
                if out.result != AddResult::Skipped {
                    processed += 1;
                }
            }
        }
    }
    match failed {
        Some(e) => r.error(&e.to_string()),
        None if flags.incr && processed > 0 => r.double(last),
        None if flags.incr => r.null(),
        None => r.int((if ch { added + updated } else { added }) as i64),
    }
    if added + updated > 0 {
        ctx.touched(key);
        ctx.notify(ZSET, if flags.incr { "zincr" } else { "zadd" }, key);
        ctx.dirty(added + updated);
    }
    // A new key whose only addition failed is not left behind empty.
    if delete_if_empty(ctx, key) {
        ctx.touched(key);
    }
}

fn zrem(ctx: &mut Ctx<'_>) {
    let (key, args) = (ctx.arg(1), ctx.args);
    let (srv, db, mut r) = split(ctx);
    let z = match write(srv, db, key, None) {
        Err(()) => return r.error(WRONGTYPE),
        Ok(None) => return r.int(0),
        Ok(Some((z, _))) => z,
    };
    let mut removed = 0;
    for m in args.iter().skip(2) {
        if z.remove(m) {
            removed += 1;
            if z.is_empty() {
                break;
            }
        }
    }
    r.int(removed);
    if removed > 0 {
        ctx.notify(ZSET, "zrem", key);
        delete_if_empty(ctx, key);
        ctx.touched(key);
        ctx.dirty(removed as u64);
    }
}

/// Replies with `f` of the sorted set at argument 1, `missing` if there
/// is none.
fn with_zset(
    ctx: &mut Ctx<'_>,
    missing: impl FnOnce(&mut Reply<'_>),
    f: impl FnOnce(&ZSetValue, &mut Reply<'_>),
) {
    let key = ctx.arg(1);
    let (srv, db, mut r) = split(ctx);
    match read(srv, db, key) {
        Err(()) => r.error(WRONGTYPE),
        Ok(None) => missing(&mut r),
        Ok(Some(z)) => f(z, &mut r),
    }
}

fn zscore(ctx: &mut Ctx<'_>) {
    let m = ctx.arg(2);
    with_zset(
        ctx,
        |r| r.null(),
        |z, r| match z.score(m) {
            Some(s) => r.double(s),
            None => r.null(),
        },
    );
}

fn zmscore(ctx: &mut Ctx<'_>) {
    let args = ctx.args;
    let reply_all = move |z: Option<&ZSetValue>, r: &mut Reply<'_>| {
        r.array_len(args.len() - 2);
        for m in args.iter().skip(2) {
            match z.and_then(|z| z.score(m)) {
                Some(s) => r.double(s),
                None => r.null(),
            }
        }
    };
    with_zset(ctx, |r| reply_all(None, r), |z, r| reply_all(Some(z), r));
}

fn zcard(ctx: &mut Ctx<'_>) {
    with_zset(ctx, |r| r.int(0), |z, r| r.int(z.len() as i64));
}

fn zcount(ctx: &mut Ctx<'_>) {
    let range = match ScoreRange::parse(ctx.arg(2), ctx.arg(3)) {
        Ok(range) => range,
        Err(e) => return ctx.error(&e.to_string()),
    };
    with_zset(ctx, |r| r.int(0), |z, r| r.int(z.count_in_score_range(&range) as i64));
}

fn zlexcount(ctx: &mut Ctx<'_>) {
    let range = match LexRange::parse(ctx.arg(2), ctx.arg(3)) {
        Ok(range) => range,
        Err(e) => return ctx.error(&e.to_string()),
    };
    with_zset(ctx, |r| r.int(0), |z, r| r.int(z.count_in_lex_range(&range) as i64));
}

fn zrank(ctx: &mut Ctx<'_>) {
    zrank_generic(ctx, false);
}

fn zrevrank(ctx: &mut Ctx<'_>) {
    zrank_generic(ctx, true);
}

/// ZRANK and ZREVRANK, with Redis 7.2's WITHSCORE.
fn zrank_generic(ctx: &mut Ctx<'_>, reverse: bool) {
    if ctx.argc() > 4 {
        let msg = format!("ERR wrong number of arguments for '{}' command", ctx.cmd.name);
        return ctx.error(&msg);
    }
    let withscore = ctx.argc() == 4;
    if withscore && !ctx.arg(3).eq_ignore_ascii_case(b"withscore") {
        return ctx.error(SYNTAX);
    }
    let m = ctx.arg(2);
    let none = move |r: &mut Reply<'_>| if withscore { r.null_array() } else { r.null() };
    with_zset(ctx, none, |z, r| match z.rank(m, reverse) {
        None => none(r),
        Some((rank, score)) => {
            if withscore {
                r.array_len(2);
            }
            r.int(rank as i64);
            if withscore {
                r.double(score);
            }
        }
    });
}

/// What a ZREMRANGEBY* command removes.
enum RemRange {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

fn zremrangebyrank(ctx: &mut Ctx<'_>) {
    let Some(start) = ctx.int_arg(2) else { return };
    let Some(stop) = ctx.int_arg(3) else { return };
    zremrange(ctx, RemRange::Rank(start, stop), "zremrangebyrank");
}

fn zremrangebyscore(ctx: &mut Ctx<'_>) {
    match ScoreRange::parse(ctx.arg(2), ctx.arg(3)) {
        Ok(range) => zremrange(ctx, RemRange::Score(range), "zremrangebyscore"),
        Err(e) => ctx.error(&e.to_string()),
    }
}

fn zremrangebylex(ctx: &mut Ctx<'_>) {
    match LexRange::parse(ctx.arg(2), ctx.arg(3)) {
        Ok(range) => zremrange(ctx, RemRange::Lex(range), "zremrangebylex"),
        Err(e) => ctx.error(&e.to_string()),
    }
}

/// `zremrangeGenericCommand`, once the range parsed.
fn zremrange(ctx: &mut Ctx<'_>, range: RemRange, event: &str) {
    let key = ctx.arg(1);
    let (srv, db, mut r) = split(ctx);
    let z = match write(srv, db, key, None) {
        Err(()) => return r.error(WRONGTYPE),
        Ok(None) => return r.int(0),
        Ok(Some((z, _))) => z,
    };
    let removed = match &range {
        RemRange::Rank(start, stop) => z.remove_range_by_rank(*start, *stop),
        RemRange::Score(range) => z.remove_range_by_score(range),
        RemRange::Lex(range) => z.remove_range_by_lex(range),
    };
    r.int(removed as i64);
    if removed > 0 {
        ctx.touched(key);
        ctx.notify(ZSET, event, key);
        delete_if_empty(ctx, key);
        ctx.dirty(removed as u64);
    }
}

fn zscan(ctx: &mut Ctx<'_>) {
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
    let Ok(Some(z)) = read(srv, db, key) else { unreachable!("looked up above") };
    let mut items: Vec<Vec<u8>> = Vec::new();
    let mut seen = 0usize;
    let mut cursor = cursor;
    // As Redis: COUNT bounds the members visited before MATCH filters
    // them, and at most ten times COUNT steps are taken looking for them.
    let mut steps = opts.count.saturating_mul(10);
    loop {
        cursor = z.scan(cursor, |m, s| {
            seen += 1;
            if opts.matches(m) {
                items.push(m.to_vec());
                items.push(format_double(s).into_bytes());
            }
        });
        steps -= 1;
        if cursor == 0 || steps == 0 || seen >= opts.count {
            break;
        }
    }
    aggscan::reply_scan(&mut r, cursor, &items);
}

/// Random picks generated per batch for a negative count, so a huge count
/// streams into the reply instead of building one huge vector first.
const RANDOM_BATCH: i64 = 1024;

fn zrandmember(ctx: &mut Ctx<'_>) {
    let mut state = ctx.srv.random() | 1;
    let mut rng = move || crate::server::next_random(&mut state);
    if ctx.argc() == 2 {
        return with_zset(
            ctx,
            |r| r.null(),
            |z, r| match z.random_members(-1, &mut rng).first() {
                Some((m, _)) => r.bulk(m),
                None => r.null(),
            },
        );
    }
    let count =
        match parse_i64(ctx.arg(2)) {
            None => return ctx.error(NOT_INTEGER),
            Some(i64::MIN) => return ctx.error(
                "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            ),
            Some(n) => n,
        };
    if ctx.argc() > 4 || (ctx.argc() == 4 && !ctx.arg(3).eq_ignore_ascii_case(b"withscores")) {
        return ctx.error(SYNTAX);
    }
    let withscores = ctx.argc() == 4;
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return ctx.error("ERR value is out of range");
    }
    with_zset(
        ctx,
        |r| r.array_len(0),
        |z, r| {
            if count >= 0 {
                let picks = z.random_members(count, &mut rng);
                return reply_pairs(r, picks, withscores);
            }
            // Repeats allowed: `-count` picks, streamed in batches.
            let mut left = -count;
            let nested = withscores && r.is_resp3();
            let n = left as usize;
            r.array_len(if withscores && !nested { 2 * n } else { n });
            while left > 0 {
                let batch = left.min(RANDOM_BATCH);
                for (m, s) in z.random_members(-batch, &mut rng) {
                    if nested {
                        r.array_len(2);
                    }
                    r.bulk(m);
                    if withscores {
                        r.double(s);
                    }
                }
                left -= batch;
            }
        },
    );
}
