//! HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, and the debugging
//! PFDEBUG and PFSELFTEST.
//!
//! An HLL is a string value (see [`crate::types::hll`] for its bytes), so
//! these commands read and write [`Str`] values like the string commands
//! do, after checking that the string is an HLL. Writes count as Redis
//! counts them: PFADD dirties the dataset once per register it raised (plus
//! one for creating the key), PFMERGE once. PFCOUNT of one key is flagged
//! read-only but stores the cardinality it computed back in the value's
//! header, as Redis does: that changes the bytes GET returns, touches the
//! key for WATCH and dirties the dataset, so the AOF gets the PFCOUNT too.
//! PFMERGE publishes the `pfadd` keyspace event, as Redis does.

use super::{Command, Ctx, ADMIN, DENYOOM, FAST, NO_KEYS, READONLY, WRITE};
use crate::db::{Db, Str, Value, WRONGTYPE};
use crate::server::notify::STRING;
use crate::types::hll;

macro_rules! cmd {
    ($name:expr, $arity:expr, $flags:expr, $first:expr, $last:expr, $step:expr, $h:expr) => {
        command!("hyperloglog", $name, $arity, $flags, $first, $last, $step, $h)
    };
}

/// The HyperLogLog commands.
pub static COMMANDS: &[Command] = &[
    cmd!("pfadd", -2, WRITE | DENYOOM | FAST, 1, 1, 1, pfadd),
    cmd!("pfcount", -2, READONLY, 1, -1, 1, pfcount),
    cmd!("pfmerge", -2, WRITE | DENYOOM, 1, -1, 1, pfmerge),
    cmd!("pfdebug", 3, WRITE | DENYOOM | ADMIN, 2, 2, 1, pfdebug),
    cmd!("pfselftest", 1, ADMIN | NO_KEYS, 0, 0, 0, pfselftest),
];

/// The reply to a string that is not an HLL (Redis sends it as a
/// WRONGTYPE error even though the key is a string).
pub const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
/// The reply to an HLL whose registers cannot be read.
pub const CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";

/// Why a value cannot be used as an HLL.
#[derive(Clone, Copy)]
enum Bad {
    /// Not a string at all.
    WrongType,
    /// A string that is not an HLL.
    NotHll,
}

impl Bad {
    fn text(self) -> &'static str {
        match self {
            Bad::WrongType => WRONGTYPE,
            Bad::NotHll => NOT_HLL,
        }
    }
}

/// Redis's `isHLLObjectOrReply`: an integer-encoded string is never an HLL.
fn check(v: &Value) -> Result<&[u8], Bad> {
    match v {
        Value::Str(s) => match s.as_bytes() {
            Some(b) if hll::is_valid(b) => Ok(b),
            _ => Err(Bad::NotHll),
        },
        _ => Err(Bad::WrongType),
    }
}

/// The HLL at `key` for writing: checked, then made `raw` as Redis's
/// `dbUnshareStringValue` does (OBJECT ENCODING shows it). `Ok(None)` if
/// the key does not exist. No hit or miss is counted (a write lookup).
fn hll_for_write<'a>(db: &'a mut Db, key: &[u8], now: i64, lru: u32) -> Result<Option<&'a mut Vec<u8>>, Bad> {
    let Some(e) = db.get_mut(key, now) else { return Ok(None) };
    e.lru = lru;
    check(&e.value)?;
    match &mut e.value {
        Value::Str(s) => Ok(Some(s.make_raw())),
        _ => unreachable!("checked above"),
    }
}

/// Looks `key` up for reading (counting a hit or a miss, as Redis's
/// `lookupKeyRead` does) and checks it is an HLL; `Ok(None)` if missing.
fn lookup_read<'a>(ctx: &'a mut Ctx<'_>, key: &[u8]) -> Result<Option<&'a Value>, Bad> {
    if ctx.lookup(key).is_none() {
        let db = ctx.c.db;
        crate::server::notify::log_miss(&mut ctx.srv.stats, &mut ctx.srv.miss_log, db, key);
        return Ok(None);
    }
    ctx.srv.stats.keyspace_hits += 1;
    let v = &ctx.srv.dbs[ctx.c.db].keys.get(key).expect("found above").value;
    check(v)?;
    Ok(Some(v))
}

/// PFADD key [element ...]
fn pfadd(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let (now, lru) = (ctx.srv.now_ms, ctx.srv.lru_clock);
    let max = ctx.srv.config.hll_sparse_max_bytes;
    let args = ctx.args;
    let db = &mut ctx.srv.dbs[ctx.c.db];
    let mut updated = 0u64;
    let h = match hll_for_write(db, key, now, lru) {
        Err(bad) => return ctx.error(bad.text()),
        Ok(Some(h)) => h,
        Ok(None) => {
            updated += 1;
            let e = db.insert_new(key, Value::Str(Str::Raw(Box::new(hll::new_sparse()))), lru);
            match &mut e.value {
                Value::Str(s) => s.make_raw(),
                _ => unreachable!("just inserted"),
            }
        }
    };
    for ele in args.iter().skip(2) {
        match hll::add(h, ele, max) {
            Ok(true) => updated += 1,
            Ok(false) => {}
            // What was added before stays, unannounced, as in Redis.
            Err(hll::Corrupt) => return ctx.error(CORRUPT),
        }
    }
    if updated > 0 {
        hll::invalidate(h);
        ctx.touched(key);
        ctx.notify(STRING, "pfadd", key);
        ctx.dirty(updated);
    }
    ctx.reply().int(i64::from(updated > 0));
}

/// PFCOUNT key [key ...]
fn pfcount(ctx: &mut Ctx<'_>) {
    if ctx.argc() > 2 {
        return pfcount_union(ctx);
    }
    let key = ctx.arg(1);
    match lookup_read(ctx, key) {
        Err(bad) => return ctx.error(bad.text()),
        Ok(None) => return ctx.reply().int(0),
        Ok(Some(_)) => {}
    }
    let (now, lru) = (ctx.srv.now_ms, ctx.srv.lru_clock);
    let db = &mut ctx.srv.dbs[ctx.c.db];
    let Ok(Some(h)) = hll_for_write(db, key, now, lru) else { unreachable!("checked by lookup_read") };
    if let Some(card) = hll::cached(h) {
        return ctx.reply().int(card as i64);
    }
    let Ok(card) = hll::count(h) else { return ctx.error(CORRUPT) };
    hll::set_cached(h, card);
    ctx.touched(key);
    ctx.dirty(1);
    ctx.reply().int(card as i64);
}

/// PFCOUNT of several keys: the cardinality of their union, computed in a
/// temporary; no key changes.
fn pfcount_union(ctx: &mut Ctx<'_>) {
    match union_of_keys(ctx) {
        Ok((max, _)) => {
            let card = hll::count_registers(&max);
            ctx.reply().int(card as i64);
        }
        Err(text) => ctx.error(text),
    }
}

/// The register-wise maximum of the HLLs named by every argument after
/// the command (a missing key counts as empty), and whether any of them
/// is dense; `Err` with the error to reply if one is not an HLL or is
/// corrupt. Shared by PFCOUNT of several keys and PFMERGE.
fn union_of_keys(ctx: &mut Ctx<'_>) -> Result<(Vec<u8>, bool), &'static str> {
    let mut max = vec![0u8; hll::REGISTERS];
    let mut any_dense = false;
    for i in 1..ctx.argc() {
        let key = ctx.arg(i);
        match lookup_read(ctx, key) {
            Err(bad) => return Err(bad.text()),
            Ok(None) => {}
            Ok(Some(Value::Str(s))) => {
                let mut buf = [0; 20];
                let h = s.bytes(&mut buf);
                any_dense |= hll::encoding(h) == hll::DENSE;
                if hll::merge_into(&mut max, h).is_err() {
                    return Err(CORRUPT);
                }
            }
            Ok(Some(_)) => unreachable!("checked as a string"),
        }
    }
    Ok((max, any_dense))
}

/// PFMERGE destkey [sourcekey ...]: the destination (which is also read)
/// gets every register's maximum. It stays sparse unless a source is
/// dense or the merged registers outgrow the sparse limit.
fn pfmerge(ctx: &mut Ctx<'_>) {
    let (max, use_dense) = match union_of_keys(ctx) {
        Ok(union) => union,
        Err(text) => return ctx.error(text),
    };
    let key = ctx.arg(1);
    let (now, lru) = (ctx.srv.now_ms, ctx.srv.lru_clock);
    let sparse_max = ctx.srv.config.hll_sparse_max_bytes;
    let db = &mut ctx.srv.dbs[ctx.c.db];
    let h = match hll_for_write(db, key, now, lru) {
        Ok(Some(h)) => h,
        Ok(None) => {
            let e = db.insert_new(key, Value::Str(Str::Raw(Box::new(hll::new_sparse()))), lru);
            match &mut e.value {
                Value::Str(s) => s.make_raw(),
                _ => unreachable!("just inserted"),
            }
        }
        Err(bad) => return ctx.error(bad.text()),
    };
    if use_dense && hll::sparse_to_dense(h).is_err() {
        return ctx.error(CORRUPT);
    }
    for (i, &m) in max.iter().enumerate() {
        if m != 0 {
            // The destination was validated while merging, so this cannot
            // fail; Redis ignores the result too.
            let _ = hll::set_register(h, i, m, sparse_max);
        }
    }
    hll::invalidate(h);
    ctx.touched(key);
    ctx.notify(STRING, "pfadd", key);
    ctx.dirty(1);
    ctx.ok();
}

/// PFDEBUG GETREG | DECODE | ENCODING | TODENSE key
fn pfdebug(ctx: &mut Ctx<'_>) {
    let (sub, key) = (ctx.arg(1), ctx.arg(2));
    let (now, lru) = (ctx.srv.now_ms, ctx.srv.lru_clock);
    let db = &mut ctx.srv.dbs[ctx.c.db];
    let h = match hll_for_write(db, key, now, lru) {
        Err(bad) => return ctx.error(bad.text()),
        Ok(None) => return ctx.error("ERR The specified key does not exist"),
        Ok(Some(h)) => h,
    };
    let sparse = hll::encoding(h) == hll::SPARSE;
    match sub.to_ascii_lowercase().as_slice() {
        b"getreg" => {
            if hll::sparse_to_dense(h).is_err() {
                return ctx.error(CORRUPT);
            }
            let regs: Vec<u8> = (0..hll::REGISTERS).map(|i| hll::dense_get(&h[hll::HDR_SIZE..], i)).collect();
            if sparse {
                // The conversion is propagated, as in Redis.
                ctx.dirty(1);
            }
            let mut r = ctx.reply();
            r.array_len(regs.len());
            for v in regs {
                r.int(v.into());
            }
        }
        b"decode" if !sparse => ctx.error("ERR HLL encoding is not sparse"),
        b"decode" => {
            let text = hll::decode_sparse(h);
            ctx.reply().bulk(text.as_bytes());
        }
        b"encoding" => ctx.reply().simple(if sparse { "sparse" } else { "dense" }),
        b"todense" => {
            if hll::sparse_to_dense(h).is_err() {
                return ctx.error(CORRUPT);
            }
            if sparse {
                ctx.dirty(1);
            }
            ctx.reply().int(i64::from(sparse));
        }
        _ => {
            let msg = format!("ERR Unknown PFDEBUG subcommand '{}'", super::printable(sub, usize::MAX));
            ctx.error(&msg);
        }
    }
}

/// PFSELFTEST: checks the register packing and the estimator's error.
fn pfselftest(ctx: &mut Ctx<'_>) {
    let mut state = ctx.srv.random() | 1;
    let mut rng = || crate::server::next_random(&mut state);
    match hll::self_test(ctx.srv.config.hll_sparse_max_bytes, &mut rng) {
        Ok(()) => ctx.ok(),
        Err(e) => ctx.error(&e),
    }
}
