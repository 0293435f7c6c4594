//! Bitmap commands on string values: SETBIT, GETBIT, BITCOUNT, BITPOS and
//! BITOP, as Redis 7.0's `bitops.c` has them.
//!
//! A string is read as a row of bits, bit 0 being the most significant bit
//! of the first byte. Reads past the end see zeros; writes grow the string
//! with zero bytes (and make it `raw`). A bit offset is at most
//! `proto-max-bulk-len` × 8 − 1 (2³² − 1 by default), so a string grown by
//! bits never passes the length cap.
//!
//! The writes follow Redis 7.0's accounting: SETBIT that neither creates
//! nor grows the string nor changes the bit is not a change (no `setbit`
//! event, no dirty count, nothing for the AOF, no WATCH abort), although it
//! still converts the value to `raw`.

use super::{typed, Command, Ctx, DENYOOM, FAST, NOT_INTEGER, READONLY, SYNTAX, WRITE};
use crate::db::{Str, Value, WRONGTYPE};
use crate::resp::reply::Reply;
use crate::server::notify::{GENERIC, STRING};
use crate::server::Server;
use crate::util::num::parse_i64;
pub(super) use crate::util::until_nul as c_str;
use std::borrow::Cow;

macro_rules! cmd {
    ($name:expr, $arity:expr, $flags:expr, $first:expr, $last:expr, $step:expr, $h:expr) => {
        command!("bitmap", $name, $arity, $flags, $first, $last, $step, $h)
    };
}

/// The bitmap commands (BITFIELD is in [`super::bitfield`]).
pub static COMMANDS: &[Command] = &[
    cmd!("setbit", 4, WRITE | DENYOOM, 1, 1, 1, setbit),
    cmd!("getbit", 3, READONLY | FAST, 1, 1, 1, getbit),
    cmd!("bitcount", -2, READONLY, 1, 1, 1, bitcount),
    cmd!("bitpos", -3, READONLY, 1, 1, 1, bitpos),
    cmd!("bitop", -4, WRITE | DENYOOM, 2, -1, 1, bitop),
];

/// The error for a bit offset that does not parse, is negative or is past
/// the length cap.
pub const BIT_OFFSET_ERR: &str = "ERR bit offset is not an integer or out of range";
/// SETBIT's error for a value other than 0 or 1.
pub const BIT_VALUE_ERR: &str = "ERR bit is not an integer or out of range";
/// BITPOS's error for a bit other than 0 or 1.
pub const BIT_ARG_ERR: &str = "ERR The bit argument must be 1 or 0.";
/// BITOP NOT's error for more than one source.
pub const BITOP_NOT_ERR: &str = "ERR BITOP NOT must be called with a single source key.";

/// Whether `arg` names option `name` (in any case), as `strcasecmp` says.
pub(super) fn is_option(arg: &[u8], name: &str) -> bool {
    c_str(arg).eq_ignore_ascii_case(name.as_bytes())
}

/// Parses argument `i` as a bit offset (Redis's `getBitOffsetFromArgument`),
/// replying with the error if it is not one. With `hash_bits` > 0 a `#n`
/// offset counts in fields of that width (BITFIELD): it is `n × hash_bits`,
/// multiplied with wrap-around as Redis's C does.
pub(super) fn bit_offset(ctx: &mut Ctx<'_>, i: usize, hash_bits: u32) -> Option<u64> {
    let arg = ctx.arg(i);
    let max_bytes = if ctx.c.must_obey { i64::MAX } else { ctx.srv.config.proto_max_bulk_len };
    let offset = match arg.strip_prefix(b"#") {
        Some(n) if hash_bits > 0 => parse_i64(n).map(|n| n.wrapping_mul(i64::from(hash_bits))),
        _ => parse_i64(arg),
    };
    match offset {
        Some(n) if n >= 0 && (n >> 3) < max_bytes => Some(n as u64),
        _ => {
            ctx.error(BIT_OFFSET_ERR);
            None
        }
    }
}

/// The string at `key` for reading (Redis's `lookupKeyRead` and
/// `checkType`): counts a hit or a miss; `Err` when it holds another type.
pub(super) fn read_str<'s>(srv: &'s mut Server, db: usize, key: &[u8]) -> Result<Option<&'s Str>, ()> {
    match typed::lookup_value(srv, db, key) {
        None => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s)),
        Some(_) => Err(()),
    }
}

/// The bytes of the string at `key` for a bit write reaching bit `maxbit`
/// (Redis's `lookupStringForBitCommand`): created as zero bytes if missing,
/// made `raw` and zero-padded to hold that bit otherwise. The flag tells
/// whether it was created or grown, which counts as a change even when no
/// bit flips. `Err` when the key holds another type.
pub(super) fn bits_for_write<'s>(
    srv: &'s mut Server,
    db: usize,
    key: &[u8],
    maxbit: u64,
) -> Result<(&'s mut Vec<u8>, bool), ()> {
    let (now, lru) = (srv.now_ms, srv.lru_clock);
    let db = &mut srv.dbs[db];
    let len = (maxbit >> 3) as usize + 1;
    let created = match db.get_mut(key, now).map(|e| matches!(e.value, Value::Str(_))) {
        Some(false) => return Err(()),
        Some(true) => false,
        None => {
            db.insert_new(key, Value::Str(Str::Raw(Box::new(vec![0; len]))), lru);
            true
        }
    };
    let e = db.keys.get_mut(key).expect("looked up or inserted above");
    e.lru = lru;
    let Value::Str(s) = &mut e.value else { unreachable!("type checked above") };
    let v = s.make_raw();
    let grew = v.len() < len;
    if grew {
        v.resize(len, 0);
    }
    Ok((v, created || grew))
}

/// The mask of bit `offset` within its byte.
fn bit_mask(offset: u64) -> u8 {
    0x80 >> (offset & 7)
}

fn setbit(ctx: &mut Ctx<'_>) {
    let Some(offset) = bit_offset(ctx, 2, 0) else { return };
    let on = match parse_i64(ctx.arg(3)) {
        Some(v @ (0 | 1)) => v == 1,
        _ => return ctx.error(BIT_VALUE_ERR),
    };
    let key = ctx.arg(1);
    let db = ctx.c.db;
    let Ok((bytes, grown)) = bits_for_write(ctx.srv, db, key, offset) else { return ctx.wrongtype() };
    let (byte, mask) = ((offset >> 3) as usize, bit_mask(offset));
    let old = bytes[byte] & mask != 0;
    if on {
        bytes[byte] |= mask;
    } else {
        bytes[byte] &= !mask;
    }
    if grown || old != on {
        ctx.touched(key);
        ctx.notify(STRING, "setbit", key);
        ctx.dirty(1);
    }
    ctx.reply().int(i64::from(old));
}

fn getbit(ctx: &mut Ctx<'_>) {
    let Some(offset) = bit_offset(ctx, 2, 0) else { return };
    let (key, db) = (ctx.arg(1), ctx.c.db);
    let mut buf = [0; 20];
    let bit = match read_str(ctx.srv, db, key) {
        Err(()) => return ctx.wrongtype(),
        Ok(None) => false,
        Ok(Some(s)) => {
            let bytes = s.bytes(&mut buf);
            bytes.get((offset >> 3) as usize).is_some_and(|b| b & bit_mask(offset) != 0)
        }
    };
    ctx.reply().int(i64::from(bit));
}

/// Runs a read-only command on the string at argument 1: WRONGTYPE for
/// another type, `missing` for no key, otherwise `f` of its bytes (an
/// integer as its decimal digits), replying with the number or the error
/// `f` returns.
fn read_reply(ctx: &mut Ctx<'_>, missing: i64, f: impl FnOnce(&[u8]) -> Result<i64, &'static str>) {
    let (key, db, proto) = (ctx.arg(1), ctx.c.db, ctx.c.proto);
    let mut r = Reply::new(&mut ctx.c.out, proto);
    let mut buf = [0; 20];
    match read_str(ctx.srv, db, key) {
        Err(()) => r.error(WRONGTYPE),
        Ok(None) => r.int(missing),
        Ok(Some(s)) => match f(s.bytes(&mut buf)) {
            Ok(n) => r.int(n),
            Err(e) => r.error(e),
        },
    }
}

fn bitcount(ctx: &mut Ctx<'_>) {
    // As in Redis 7.0 the key is looked up first: a missing key counts 0
    // whatever the other arguments say.
    let opts: Vec<&[u8]> = ctx.args.iter().skip(2).collect();
    read_reply(ctx, 0, |bytes| count(bytes, &opts));
}

fn bitpos(ctx: &mut Ctx<'_>) {
    let Some(bit) = ctx.int_arg(2) else { return };
    if bit != 0 && bit != 1 {
        return ctx.error(BIT_ARG_ERR);
    }
    // A missing key is an endless row of zeros.
    let opts: Vec<&[u8]> = ctx.args.iter().skip(3).collect();
    read_reply(ctx, if bit == 1 { -1 } else { 0 }, |bytes| position(bytes, bit == 1, &opts));
}

/// The unit of a BITCOUNT or BITPOS range: true for BIT, false for BYTE.
fn unit(arg: &[u8]) -> Result<bool, &'static str> {
    if is_option(arg, "bit") {
        Ok(true)
    } else if is_option(arg, "byte") {
        Ok(false)
    } else {
        Err(SYNTAX)
    }
}

fn int(arg: &[u8]) -> Result<i64, &'static str> {
    parse_i64(arg).ok_or(NOT_INTEGER)
}

/// A range of whole bytes, with the bits outside a BIT range masked off at
/// either end (set bits in `first_mask` / `last_mask` are outside it).
#[derive(Debug, PartialEq)]
struct Span {
    start: i64,
    end: i64,
    first_mask: u8,
    last_mask: u8,
}

/// Resolves `start..=end` (negative from the end) over `total` units of a
/// string, clamped to it; a BIT range becomes bytes and edge masks.
fn span(start: i64, end: i64, total: i64, is_bit: bool) -> Span {
    let mut start = if start < 0 { total + start } else { start }.max(0);
    let mut end = if end < 0 { total + end } else { end }.max(0);
    if end >= total {
        end = total - 1;
    }
    let (mut first_mask, mut last_mask) = (0, 0);
    if is_bit && start <= end {
        first_mask = !((1u32 << (8 - (start & 7))) - 1) as u8;
        last_mask = ((1u32 << (7 - (end & 7))) - 1) as u8;
        start >>= 3;
        end >>= 3;
    }
    Span { start, end, first_mask, last_mask }
}

/// Set bits in `bytes`.
fn popcount(bytes: &[u8]) -> i64 {
    let mut words = bytes.chunks_exact(8);
    let mut n: u64 = words
        .by_ref()
        .map(|w| u64::from(u64::from_ne_bytes(w.try_into().expect("8 bytes")).count_ones()))
        .sum();
    n += words.remainder().iter().map(|b| u64::from(b.count_ones())).sum::<u64>();
    n as i64
}

/// BITCOUNT over `bytes` with its options (`[start end [BYTE|BIT]]`).
fn count(bytes: &[u8], opts: &[&[u8]]) -> Result<i64, &'static str> {
    let len = bytes.len() as i64;
    let s = match opts.len() {
        0 => Span { start: 0, end: len - 1, first_mask: 0, last_mask: 0 },
        2 | 3 => {
            let start = int(opts[0])?;
            let end = int(opts[1])?;
            // Redis answers this before it reads the unit.
            if start < 0 && end < 0 && start > end {
                return Ok(0);
            }
            let is_bit = match opts.get(2) {
                Some(u) => unit(u)?,
                None => false,
            };
            span(start, end, if is_bit { len << 3 } else { len }, is_bit)
        }
        _ => return Err(SYNTAX),
    };
    if s.start > s.end {
        return Ok(0);
    }
    let (start, end) = (s.start as usize, s.end as usize);
    let mut n = popcount(&bytes[start..=end]);
    n -= popcount(&[bytes[start] & s.first_mask, bytes[end] & s.last_mask]);
    Ok(n)
}

/// Redis's `redisBitpos`: the position of the first `bit` in `bytes`; for a
/// 1 not found, -1; for a 0 not found, the bit just past the end (the
/// string is taken as zero-padded).
fn first_bit(bytes: &[u8], bit: bool) -> i64 {
    for (i, &b) in bytes.iter().enumerate() {
        let b = if bit { b } else { !b };
        if b != 0 {
            return (i as i64) * 8 + i64::from(b.leading_zeros());
        }
    }
    if bit {
        -1
    } else {
        bytes.len() as i64 * 8
    }
}

/// BITPOS over `bytes` with its options (`[start [end [BYTE|BIT]]]`),
/// following Redis 7.0's steps: the masked first byte, the whole bytes,
/// then the masked last byte.
fn position(bytes: &[u8], bit: bool, opts: &[&[u8]]) -> Result<i64, &'static str> {
    let len = bytes.len() as i64;
    let mut end_given = false;
    let s = match opts.len() {
        0 => Span { start: 0, end: len - 1, first_mask: 0, last_mask: 0 },
        1..=3 => {
            let start = int(opts[0])?;
            // Redis reads the unit before the end.
            let is_bit = match opts.get(2) {
                Some(u) => unit(u)?,
                None => false,
            };
            let end = match opts.get(1) {
                Some(e) => {
                    end_given = true;
                    int(e)?
                }
                None if is_bit => (len << 3) + 7,
                None => len - 1,
            };
            span(start, end, if is_bit { len << 3 } else { len }, is_bit)
        }
        _ => return Err(SYNTAX),
    };
    // An empty range holds neither a 0 nor a 1.
    if s.start > s.end {
        return Ok(-1);
    }
    let (mut start, end) = (s.start as usize, s.end as usize);
    let mut left = end - start + 1;
    let (fm, lm) = (s.first_mask, s.last_mask);
    let masked = |b: u8, m: u8| if bit { b & !m } else { b | m };
    let pos = 'found: {
        if fm != 0 {
            let mut b = masked(bytes[start], fm);
            if lm != 0 && left == 1 {
                b = masked(b, lm);
            }
            let p = first_bit(&[b], bit);
            if left == 1 || (p != -1 && p != 8) {
                break 'found p;
            }
            start += 1;
            left -= 1;
        }
        let whole = left - usize::from(lm != 0);
        if whole > 0 {
            let p = first_bit(&bytes[start..start + whole], bit);
            if left == whole || (p != -1 && p != (whole as i64) << 3) {
                break 'found p;
            }
            start += whole;
            left -= whole;
        }
        first_bit(&[masked(bytes[end], lm)], bit)
    };
    // Looking for a 0 in an explicit range, the bit past it does not count.
    if end_given && !bit && pos == (left as i64) << 3 {
        return Ok(-1);
    }
    Ok(if pos == -1 { -1 } else { pos + ((start as i64) << 3) })
}

/// A BITOP operation.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Op {
    And,
    Or,
    Xor,
    Not,
}

/// The result of `op` over `srcs`, as long as the longest (shorter ones
/// count as zero-padded).
fn combine(op: Op, srcs: &[Cow<'_, [u8]>]) -> Vec<u8> {
    let maxlen = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut res = vec![0u8; maxlen];
    let Some((first, rest)) = srcs.split_first() else { return res };
    res[..first.len()].copy_from_slice(first);
    match op {
        Op::Not => res.iter_mut().for_each(|b| *b = !*b),
        Op::And => {
            for s in rest {
                res[s.len()..].fill(0);
                res.iter_mut().zip(s.iter()).for_each(|(r, b)| *r &= b);
            }
        }
        Op::Or => rest.iter().for_each(|s| res.iter_mut().zip(s.iter()).for_each(|(r, b)| *r |= b)),
        Op::Xor => rest.iter().for_each(|s| res.iter_mut().zip(s.iter()).for_each(|(r, b)| *r ^= b)),
    }
    res
}

fn bitop(ctx: &mut Ctx<'_>) {
    let name = ctx.arg(1);
    let op = match [("and", Op::And), ("or", Op::Or), ("xor", Op::Xor), ("not", Op::Not)]
        .into_iter()
        .find(|(n, _)| is_option(name, n))
    {
        Some((_, op)) => op,
        None => return ctx.error(SYNTAX),
    };
    if op == Op::Not && ctx.argc() != 4 {
        return ctx.error(BITOP_NOT_ERR);
    }
    let (args, db, dest) = (ctx.args, ctx.c.db, ctx.arg(2));
    // Every source is looked up in order (hits, misses, expiry), and the
    // first that is not a string stops the command.
    for key in args.iter().skip(3) {
        if read_str(ctx.srv, db, key).is_err() {
            return ctx.wrongtype();
        }
    }
    let res = {
        let keys = &ctx.srv.dbs[db].keys;
        let srcs: Vec<Cow<'_, [u8]>> = args
            .iter()
            .skip(3)
            .map(|key| match keys.get(key).map(|e| &e.value) {
                Some(Value::Str(s)) => match s.as_bytes() {
                    Some(b) => Cow::Borrowed(b),
                    None => Cow::Owned(s.to_vec()),
                },
                _ => Cow::Borrowed(&[][..]),
            })
            .collect();
        combine(op, &srcs)
    };
    let len = res.len() as i64;
    if !res.is_empty() {
        let (now, lru) = (ctx.srv.now_ms, ctx.srv.lru_clock);
        let d = ctx.db();
        // Like SET: an expired destination is deleted first, the deadline
        // of a live one is cleared. The result is always `raw`.
        d.get(dest, now);
        d.set(dest, Value::Str(Str::Raw(Box::new(res))), lru);
        ctx.touched(dest);
        ctx.notify(STRING, "set", dest);
        ctx.dirty(1);
    } else if ctx.db().remove(dest).is_some() {
        ctx.touched(dest);
        ctx.notify(GENERIC, "del", dest);
        ctx.dirty(1);
    }
    ctx.reply().int(len);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts<'a>(xs: &[&'a str]) -> Vec<&'a [u8]> {
        xs.iter().map(|s| s.as_bytes()).collect()
    }

    #[test]
    fn count_follows_redis_examples() {
        let s = b"foobar";
        assert_eq!(count(s, &[]), Ok(26));
        assert_eq!(count(s, &opts(&["0", "0"])), Ok(4));
        assert_eq!(count(s, &opts(&["1", "1"])), Ok(6));
        assert_eq!(count(s, &opts(&["1", "1", "BYTE"])), Ok(6));
        assert_eq!(count(s, &opts(&["5", "30", "BIT"])), Ok(17));
        assert_eq!(count(s, &opts(&["-2", "-1"])), Ok(7));
        assert_eq!(count(s, &opts(&["-1", "-2", "nonsense"])), Ok(0));
        assert_eq!(count(s, &opts(&["1", "2", "nonsense"])), Err(SYNTAX));
        assert_eq!(count(s, &opts(&["1"])), Err(SYNTAX));
        assert_eq!(count(s, &opts(&["x", "1"])), Err(NOT_INTEGER));
        assert_eq!(count(b"", &opts(&["0", "-1", "bit"])), Ok(0));
    }

    #[test]
    fn position_follows_redis_examples() {
        let s = b"\xff\xf0\x00";
        assert_eq!(position(s, false, &[]), Ok(12));
        assert_eq!(position(b"\x00\xff\xf0", true, &opts(&["0"])), Ok(8));
        assert_eq!(position(b"\x00\xff\xf0", true, &opts(&["2", "-1", "BYTE"])), Ok(16));
        assert_eq!(position(b"\x00\xff\xf0", true, &opts(&["7", "15", "bit"])), Ok(8));
        assert_eq!(position(b"\x00\x00\x00", true, &[]), Ok(-1));
        // All ones: without an end the string counts as zero-padded.
        assert_eq!(position(b"\xff\xff\xff", false, &[]), Ok(24));
        assert_eq!(position(b"\xff\xff\xff", false, &opts(&["0"])), Ok(24));
        assert_eq!(position(b"\xff\xff\xff", false, &opts(&["0", "-1"])), Ok(-1));
        assert_eq!(position(b"\xff\xff\xff", false, &opts(&["1", "5", "bit"])), Ok(-1));
        assert_eq!(position(b"", false, &[]), Ok(-1));
        assert_eq!(position(b"a", true, &opts(&["0", "1", "x"])), Err(SYNTAX));
    }

    #[test]
    fn span_masks_the_bits_outside_a_bit_range() {
        let s = span(5, 30, 48, true);
        assert_eq!(s, Span { start: 0, end: 3, first_mask: 0xf8, last_mask: 0x01 });
        assert_eq!(span(8, 15, 48, true), Span { start: 1, end: 1, first_mask: 0, last_mask: 0 });
        assert_eq!(span(-100, 100, 6, false), Span { start: 0, end: 5, first_mask: 0, last_mask: 0 });
    }

    #[test]
    fn combine_pads_shorter_sources_with_zeros() {
        let srcs = [Cow::Borrowed(&b"\xff\x0f"[..]), Cow::Borrowed(&b"\xf0"[..])];
        assert_eq!(combine(Op::And, &srcs), b"\xf0\x00");
        assert_eq!(combine(Op::Or, &srcs), b"\xff\x0f");
        assert_eq!(combine(Op::Xor, &srcs), b"\x0f\x0f");
        assert_eq!(combine(Op::Not, &srcs[..1]), b"\x00\xf0");
        assert!(combine(Op::Or, &[Cow::Borrowed(&b""[..])]).is_empty());
    }

    #[test]
    fn first_bit_pads_with_zeros() {
        assert_eq!(first_bit(b"\x00\x10", true), 11);
        assert_eq!(first_bit(b"\xff\xfe", false), 15);
        assert_eq!(first_bit(b"\xff", false), 8);
        assert_eq!(first_bit(b"", false), 0);
        assert_eq!(first_bit(b"\x00", true), -1);
    }
}
