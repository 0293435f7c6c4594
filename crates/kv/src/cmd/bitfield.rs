//! BITFIELD and BITFIELD_RO: integers of 1 to 64 bits at any bit offset of
//! a string, as Redis 7.0's `bitops.c` has them.
//!
//! A field is read and written most significant bit first, in the same bit
//! order as SETBIT (bit 0 is the top bit of the first byte). Types are
//! `i1`..`i64` and `u1`..`u63` (a `u64` could not be replied as a RESP
//! integer); an offset `#n` means `n` times the type's width.
//!
//! All the operations are parsed before any runs, so a bad argument
//! anywhere leaves the string alone. SET and INCRBY handle overflow by the
//! mode the last OVERFLOW before them chose: WRAP (the default: modular
//! arithmetic, signed fields wrapping to the most negative value), SAT
//! (clamped to the type's range) or FAIL (nothing written, a nil reply).
//!
//! As in Redis 7.0, a command with a SET or INCRBY creates or zero-pads the
//! string to hold its farthest field even if every write then fails, but
//! only writes that change a field (or a string that was created or grown)
//! count as changes: one `setbit` event and one dirty count per such write.

use super::bitmap::{bit_offset, bits_for_write, c_str, is_option, read_str};
use super::{Command, Ctx, DENYOOM, FAST, READONLY, SYNTAX, WRITE};
use crate::server::notify::STRING;
use crate::util::num::parse_i64;

macro_rules! cmd {
    ($name:expr, $arity:expr, $flags:expr, $first:expr, $last:expr, $step:expr, $h:expr) => {
        command!("bitmap", $name, $arity, $flags, $first, $last, $step, $h)
    };
}

/// BITFIELD and its read-only twin.
pub static COMMANDS: &[Command] = &[
    cmd!("bitfield", -2, WRITE | DENYOOM, 1, 1, 1, bitfield),
    cmd!("bitfield_ro", -2, READONLY | FAST, 1, 1, 1, bitfield_ro),
];

/// The error for a type that is not `i1`..`i64` or `u1`..`u63`.
pub const TYPE_ERR: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
/// The error for an OVERFLOW mode other than WRAP, SAT or FAIL.
pub const OVERFLOW_ERR: &str = "ERR Invalid OVERFLOW type specified";
/// BITFIELD_RO's error for a SET or INCRBY.
pub const RO_ERR: &str = "ERR BITFIELD_RO only supports the GET subcommand";

/// What SET and INCRBY do when the result does not fit the field.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Overflow {
    /// Keep the low bits (two's complement for signed fields).
    Wrap,
    /// Clamp to the field's minimum or maximum.
    Sat,
    /// Write nothing and reply nil.
    Fail,
}

/// What one operation does.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Get,
    Set,
    Incrby,
}

/// One parsed operation.
#[derive(Clone, Copy, Debug)]
struct Op {
    kind: Kind,
    /// Bit offset of the field's most significant bit.
    offset: u64,
    /// Width, 1 to 64.
    bits: u32,
    signed: bool,
    /// SET's value or INCRBY's increment.
    value: i64,
    overflow: Overflow,
}

/// Parses a field type (`i8`, `u16`, ...): the letter is case-sensitive
/// and the width is read as C reads it, up to a NUL.
fn field_type(arg: &[u8]) -> Option<(bool, u32)> {
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return None,
    };
    match parse_i64(c_str(&arg[1..]))? {
        n @ 1..=63 => Some((signed, n as u32)),
        64 if signed => Some((signed, 64)),
        _ => None,
    }
}

/// Parses the operations from argument 2 on, replying with the first
/// error (each operation is checked in order: its name and argument count,
/// type, offset, then SET's or INCRBY's number).
fn parse(ctx: &mut Ctx<'_>) -> Option<Vec<Op>> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < ctx.argc() {
        let left = ctx.argc() - j - 1;
        let name = ctx.arg(j);
        let kind = if is_option(name, "get") && left >= 2 {
            Kind::Get
        } else if is_option(name, "set") && left >= 3 {
            Kind::Set
        } else if is_option(name, "incrby") && left >= 3 {
            Kind::Incrby
        } else if is_option(name, "overflow") && left >= 1 {
            let mode = ctx.arg(j + 1);
            overflow = if is_option(mode, "wrap") {
                Overflow::Wrap
            } else if is_option(mode, "sat") {
                Overflow::Sat
            } else if is_option(mode, "fail") {
                Overflow::Fail
            } else {
                ctx.error(OVERFLOW_ERR);
                return None;
            };
            j += 2;
            continue;
        } else {
            ctx.error(SYNTAX);
            return None;
        };
        let Some((signed, bits)) = field_type(ctx.arg(j + 1)) else {
            ctx.error(TYPE_ERR);
            return None;
        };
        let offset = bit_offset(ctx, j + 2, bits)?;
        let mut value = 0;
        if kind != Kind::Get {
            value = ctx.int_arg(j + 3)?;
        }
        ops.push(Op { kind, offset, bits, signed, value, overflow });
        j += if kind == Kind::Get { 3 } else { 4 };
    }
    Some(ops)
}

/// The `bits`-bit unsigned field at `offset`; bits past the end of `p`
/// read as zeros.
fn get_unsigned(p: &[u8], offset: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for i in offset..offset + u64::from(bits) {
        let bit = p.get((i >> 3) as usize).is_some_and(|b| b & (0x80 >> (i & 7)) != 0);
        v = (v << 1) | u64::from(bit);
    }
    v
}

/// The `bits`-bit signed field at `offset`, sign-extended.
fn get_signed(p: &[u8], offset: u64, bits: u32) -> i64 {
    let v = get_unsigned(p, offset, bits);
    if bits < 64 && v & (1 << (bits - 1)) != 0 {
        (v | (u64::MAX << bits)) as i64
    } else {
        v as i64
    }
}

/// Writes the low `bits` bits of `value` at `offset` (`p` holds them).
fn set_bits(p: &mut [u8], offset: u64, bits: u32, value: u64) {
    for j in 0..u64::from(bits) {
        let on = value & (1 << (u64::from(bits) - 1 - j)) != 0;
        let i = offset + j;
        let (byte, mask) = ((i >> 3) as usize, 0x80u8 >> (i & 7));
        if on {
            p[byte] |= mask;
        } else {
            p[byte] &= !mask;
        }
    }
}

/// Whether `value + incr` fits a `bits`-bit unsigned field (Redis's
/// `checkUnsignedBitfieldOverflow`, `value` being read as unsigned even
/// when a SET gave a negative number): `None` if it fits, otherwise the
/// value WRAP or SAT stores instead (meaningless under FAIL).
fn unsigned_overflow(value: u64, incr: i64, bits: u32, mode: Overflow) -> Option<u64> {
    let max = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = value.wrapping_neg() as i64;
    let wrapped = value.wrapping_add(incr as u64) & !u64::MAX.checked_shl(bits).unwrap_or(0);
    let (over, sat) = if value > max || (incr > 0 && incr > max_incr) {
        (true, max)
    } else if incr < 0 && incr < min_incr {
        (true, 0)
    } else {
        (false, 0)
    };
    match (over, mode) {
        (false, _) => None,
        (true, Overflow::Sat) => Some(sat),
        (true, _) => Some(wrapped),
    }
}

/// The signed counterpart (Redis's `checkSignedBitfieldOverflow`, with its
/// exact conditions for 64-bit fields).
fn signed_overflow(value: i64, incr: i64, bits: u32, mode: Overflow) -> Option<i64> {
    let max = if bits == 64 { i64::MAX } else { (1i64 << (bits - 1)) - 1 };
    let min = -max - 1;
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let sat = if value > max || (bits != 64 && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr)
    {
        max
    } else if value < min || (bits != 64 && incr < min_incr) || (value < 0 && incr < 0 && incr < min_incr) {
        min
    } else {
        return None;
    };
    if mode == Overflow::Sat {
        return Some(sat);
    }
    let mut c = (value as u64).wrapping_add(incr as u64);
    if bits < 64 {
        let mask = u64::MAX << bits;
        if c & (1 << (bits - 1)) != 0 {
            c |= mask;
        } else {
            c &= !mask;
        }
    }
    Some(c as i64)
}

/// Runs a SET or INCRBY on `p`: the reply (`None` for a FAIL overflow) and
/// whether the field changed.
fn write(p: &mut [u8], op: &Op) -> (Option<i64>, bool) {
    let (old, new, reply, fail) = if op.signed {
        let old = get_signed(p, op.offset, op.bits);
        let (new, over) = match op.kind {
            Kind::Incrby => match signed_overflow(old, op.value, op.bits, op.overflow) {
                Some(v) => (v, true),
                None => (old.wrapping_add(op.value), false),
            },
            _ => match signed_overflow(op.value, 0, op.bits, op.overflow) {
                Some(v) => (v, true),
                None => (op.value, false),
            },
        };
        let reply = if op.kind == Kind::Incrby { new } else { old };
        (old as u64, new as u64, reply, over && op.overflow == Overflow::Fail)
    } else {
        let old = get_unsigned(p, op.offset, op.bits);
        let (new, over) = match op.kind {
            Kind::Incrby => match unsigned_overflow(old, op.value, op.bits, op.overflow) {
                Some(v) => (v, true),
                None => (old.wrapping_add(op.value as u64), false),
            },
            _ => match unsigned_overflow(op.value as u64, 0, op.bits, op.overflow) {
                Some(v) => (v, true),
                None => (op.value as u64, false),
            },
        };
        let reply = if op.kind == Kind::Incrby { new } else { old };
        (old, new, reply as i64, over && op.overflow == Overflow::Fail)
    };
    if fail {
        return (None, false);
    }
    set_bits(p, op.offset, op.bits, new);
    (Some(reply), old != new)
}

/// Runs a GET on `p`.
fn read(p: &[u8], op: &Op) -> i64 {
    if op.signed {
        get_signed(p, op.offset, op.bits)
    } else {
        get_unsigned(p, op.offset, op.bits) as i64
    }
}

fn bitfield(ctx: &mut Ctx<'_>) {
    generic(ctx, false)
}

fn bitfield_ro(ctx: &mut Ctx<'_>) {
    generic(ctx, true)
}

fn generic(ctx: &mut Ctx<'_>, read_only: bool) {
    let Some(ops) = parse(ctx) else { return };
    let (key, db) = (ctx.arg(1), ctx.c.db);
    let mut replies: Vec<Option<i64>> = Vec::with_capacity(ops.len());
    let highest =
        ops.iter().filter(|op| op.kind != Kind::Get).map(|op| op.offset + u64::from(op.bits) - 1).max();
    let Some(highest) = highest else {
        // GETs only: a plain read, missing key or not.
        let mut buf = [0; 20];
        match read_str(ctx.srv, db, key) {
            Err(()) => return ctx.wrongtype(),
            Ok(s) => {
                let p = s.map_or(&[][..], |s| s.bytes(&mut buf));
                replies.extend(ops.iter().map(|op| Some(read(p, op))));
            }
        }
        return reply(ctx, &replies);
    };
    if read_only {
        return ctx.error(RO_ERR);
    }
    let Ok((p, grown)) = bits_for_write(ctx.srv, db, key, highest) else { return ctx.wrongtype() };
    let mut changes = 0;
    for op in &ops {
        if op.kind == Kind::Get {
            replies.push(Some(read(p, op)));
            continue;
        }
        let (r, changed) = write(p, op);
        if r.is_some() && (grown || changed) {
            changes += 1;
        }
        replies.push(r);
    }
    if changes > 0 {
        ctx.touched(key);
        ctx.notify(STRING, "setbit", key);
        ctx.dirty(changes);
    }
    reply(ctx, &replies);
}

fn reply(ctx: &mut Ctx<'_>, replies: &[Option<i64>]) {
    let mut r = ctx.reply();
    r.array_len(replies.len());
    for v in replies {
        match v {
            Some(n) => r.int(*n),
            None => r.null(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(kind: Kind, t: &str, offset: u64, value: i64, overflow: Overflow) -> Op {
        let (signed, bits) = field_type(t.as_bytes()).expect("a valid type");
        Op { kind, offset, bits, signed, value, overflow }
    }

    #[test]
    fn types_are_i1_to_i64_and_u1_to_u63() {
        assert_eq!(field_type(b"i64"), Some((true, 64)));
        assert_eq!(field_type(b"u63"), Some((false, 63)));
        assert_eq!(field_type(b"u1"), Some((false, 1)));
        for bad in [&b"u64"[..], b"i65", b"i0", b"I8", b"i", b"", b"i08", b"i+8", b"8"] {
            assert_eq!(field_type(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(field_type(b"i8\0junk"), Some((true, 8)));
    }

    #[test]
    fn fields_are_most_significant_bit_first() {
        // Redis's example: u5 = 23 at offset 7 is 00000001 01110000.
        let mut p = [0u8; 2];
        set_bits(&mut p, 7, 5, 23);
        assert_eq!(p, [0b0000_0001, 0b0111_0000]);
        assert_eq!(get_unsigned(&p, 7, 5), 23);
        assert_eq!(get_signed(&p, 7, 5), 23 - 32);
        assert_eq!(get_unsigned(&p, 12, 64), 0, "past the end reads zeros");
    }

    #[test]
    fn overflow_modes_match_redis() {
        let mut p = [0u8; 8];
        let w = |p: &mut [u8], o: Op| write(p, &o).0;
        assert_eq!(w(&mut p, op(Kind::Set, "u8", 0, 255, Overflow::Wrap)), Some(0));
        assert_eq!(w(&mut p, op(Kind::Incrby, "u8", 0, 10, Overflow::Wrap)), Some(9));
        assert_eq!(w(&mut p, op(Kind::Incrby, "u8", 0, 300, Overflow::Sat)), Some(255));
        assert_eq!(w(&mut p, op(Kind::Incrby, "u8", 0, 1, Overflow::Fail)), None);
        assert_eq!(w(&mut p, op(Kind::Incrby, "u8", 0, -300, Overflow::Sat)), Some(0));
        assert_eq!(w(&mut p, op(Kind::Incrby, "i8", 0, 128, Overflow::Wrap)), Some(-128));
        assert_eq!(w(&mut p, op(Kind::Incrby, "i8", 0, -1, Overflow::Sat)), Some(-128));
        assert_eq!(w(&mut p, op(Kind::Set, "i8", 0, 200, Overflow::Wrap)), Some(-128));
        assert_eq!(read(&p, &op(Kind::Get, "i8", 0, 0, Overflow::Wrap)), -56);
        // A negative SET on an unsigned field is a huge number to Redis.
        assert_eq!(w(&mut p, op(Kind::Set, "u8", 0, -1, Overflow::Sat)), Some(200));
        assert_eq!(read(&p, &op(Kind::Get, "u8", 0, 0, Overflow::Wrap)), 255);
        assert_eq!(w(&mut p, op(Kind::Set, "i64", 0, i64::MAX, Overflow::Wrap)), Some(-1 << 56));
        assert_eq!(w(&mut p, op(Kind::Incrby, "i64", 0, 1, Overflow::Wrap)), Some(i64::MIN));
        assert_eq!(w(&mut p, op(Kind::Incrby, "i64", 0, -1, Overflow::Fail)), None);
        assert_eq!(w(&mut p, op(Kind::Incrby, "i64", 0, -1, Overflow::Sat)), Some(i64::MIN));
        assert_eq!(w(&mut p, op(Kind::Set, "u63", 0, i64::MAX, Overflow::Wrap)), Some(1 << 62));
        assert_eq!(w(&mut p, op(Kind::Incrby, "u63", 0, 1, Overflow::Wrap)), Some(0));
    }
}
