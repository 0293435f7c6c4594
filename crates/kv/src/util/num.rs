//! Redis's rules for reading and writing numbers.
//!
//! Redis is strict when it reads an integer (`string2ll`): a value is an
//! integer only if printing it back gives the very same bytes, which is what
//! lets a string like `"10"` be stored as an integer and be printed back
//! unchanged. Doubles follow C's `strtod`, minus a few cases Redis refuses
//! (spaces, NaN, overflow). Doubles are written the way Redis 7.2 writes them
//! in RESP2 replies: the shortest digits that read back to the same double,
//! laid out plainly for moderate exponents and in scientific notation
//! otherwise (`fpconv_dtoa`).

/// The longest text `string2ll` accepts (`LONG_STR_SIZE - 1`).
const MAX_I64_CHARS: usize = 20;

/// C's `atoi`/`atoll`: optional leading blanks and a sign, then the
/// leading digits; 0 if there are none, and no error for what follows
/// (Redis reads some settings this way). Saturates instead of
/// overflowing.
pub fn atoi(b: &[u8]) -> i64 {
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let b = &b[start..];
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    let n = digits
        .iter()
        .take_while(|d| d.is_ascii_digit())
        .fold(0i64, |n, d| n.saturating_mul(10).saturating_add(i64::from(d - b'0')));
    if neg {
        -n
    } else {
        n
    }
}

/// Parses a signed 64-bit integer the way Redis's `string2ll` does.
///
/// Only the canonical spelling is accepted: an optional `-`, then no leading
/// zeros (except `"0"` itself), no `+`, no spaces, no `"-0"`, at most 20
/// characters, and no overflow.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > MAX_I64_CHARS {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    // The first digit must be 1-9: this rejects "", "-", "-0", "01", "+1".
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    if negative {
        // -(i64::MIN) is one past i64::MAX, so compare in u64.
        if v > i64::MIN.unsigned_abs() {
            None
        } else {
            Some(0i64.wrapping_sub_unsigned(v))
        }
    } else {
        i64::try_from(v).ok()
    }
}

/// A hexadecimal float as glibc's `strtod` reads it (`0x1.8p3`): the hex
/// digits' values with leading zeros dropped, and the power of two the
/// integer they spell is scaled by.
pub(crate) struct HexFloat {
    /// The significant hex digits (values 0 to 15), most significant first.
    pub digits: Vec<u8>,
    /// The binary exponent applied to the integer the digits spell.
    pub exp2: i64,
}

/// Reads the body (after any sign) of a hexadecimal float, `0x` then hex
/// digits with an optional point (at least one digit) and an optional
/// binary exponent `p[+-]digits`; `None` unless all of `body` is that.
pub(crate) fn parse_hex_float(body: &[u8]) -> Option<HexFloat> {
    if body.len() < 3 || body[0] != b'0' || !matches!(body[1], b'x' | b'X') {
        return None;
    }
    let (mut digits, mut exp2, mut seen, mut point) = (Vec::new(), 0i64, false, false);
    let mut i = 2;
    while i < body.len() {
        let c = body[i];
        match c {
            b'.' if !point => point = true,
            _ if c.is_ascii_hexdigit() => {
                seen = true;
                let v = (c as char).to_digit(16)? as u8;
                if v != 0 || !digits.is_empty() {
                    digits.push(v);
                }
                if point {
                    exp2 -= 4;
                }
            }
            _ => break,
        }
        i += 1;
    }
    if !seen {
        return None;
    }
    if i < body.len() {
        if !matches!(body[i], b'p' | b'P') {
            return None;
        }
        exp2 += parse_exponent(&body[i + 1..])?;
    }
    Some(HexFloat { digits, exp2 })
}

/// The exponent after a float's `e` or `p`: an optional sign and at least
/// one digit, nothing else; its size is capped at a million, far past any
/// finite result, so that a long run of digits cannot overflow.
pub(crate) fn parse_exponent(rest: &[u8]) -> Option<i64> {
    let (neg, num) = match rest.first() {
        Some(b'-') => (true, &rest[1..]),
        Some(b'+') => (false, &rest[1..]),
        _ => (false, rest),
    };
    if num.is_empty() || !num.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let e = num.iter().fold(0i64, |e, &d| (e * 10 + i64::from(d - b'0')).min(1_000_000));
    Some(if neg { -e } else { e })
}

/// A hexadecimal float as a double, and whether C would set `ERANGE` for
/// it (overflow to infinity, or a non-zero value underflowing to zero). The
/// first 64 bits of the digits are kept and the rest folded into a sticky
/// bit, so normal results round correctly.
fn hex_to_f64(neg: bool, h: &HexFloat) -> (f64, bool) {
    if h.digits.is_empty() {
        return (if neg { -0.0 } else { 0.0 }, false);
    }
    let kept = h.digits.len().min(16);
    let mut m = h.digits[..kept].iter().fold(0u64, |m, &d| (m << 4) | u64::from(d));
    if h.digits[kept..].iter().any(|&d| d != 0) {
        m |= 1;
    }
    let mut e = h.exp2 + 4 * (h.digits.len() - kept) as i64;
    let mut v = m as f64;
    while e > 1000 && v.is_finite() {
        v *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 && v != 0.0 {
        v *= 2f64.powi(-1000);
        e += 1000;
    }
    v *= 2f64.powi(e.clamp(-1100, 1100) as i32);
    let erange = v.is_infinite() || v == 0.0;
    (if neg { -v } else { v }, erange)
}

/// Parses a double the way Redis reads a score or a float argument
/// (`getDoubleFromObject`, which calls `strtod`).
///
/// Accepts decimal input as `strtod` does, including `inf`, `+inf`, `-inf`,
/// `infinity`, `1e3`, `.5` and `5.`, and hexadecimal floats (`0x10`,
/// `0x1.8p3`) as glibc's `strtod` does. Rejects the empty string, any
/// leading or trailing space, anything `strtod` would leave unread, NaN, a
/// finite literal that overflows to infinity and a non-zero literal that
/// underflows to zero (both `ERANGE` in C).
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    let (neg, body) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if let Some(h) = parse_hex_float(body) {
        let (v, erange) = hex_to_f64(neg, &h);
        return (!erange).then_some(v);
    }
    let text = std::str::from_utf8(s).ok()?;
    // Rust's parser accepts exactly the decimal grammar of strtod (sign,
    // digits with an optional point, an optional exponent, inf, infinity,
    // nan) and refuses spaces; only the range checks need adding.
    let v: f64 = text.parse().ok()?;
    if v.is_nan() {
        return None;
    }
    let body = text.trim_start_matches(['+', '-']);
    let is_inf_literal = body.starts_with(['i', 'I']);
    if v.is_infinite() && !is_inf_literal {
        return None; // overflow: strtod returns HUGE_VAL with ERANGE
    }
    if v == 0.0 && mantissa_has_nonzero_digit(body) {
        return None; // underflow to zero: ERANGE
    }
    Some(v)
}

/// Parses a score-range bound the way `zslParseRange` does: C's `strtod`
/// on the text up to its first NUL, accepted when nothing is left unread
/// and the result is not NaN. Unlike [`parse_f64`] there is no other check,
/// so leading white space is skipped, overflow reads as an infinity,
/// underflow as zero, and text with nothing to convert (`""`, or the `""`
/// after the `(` of an exclusive bound) reads as 0 because `strtod` then
/// leaves the end pointer on the terminating NUL.
pub fn parse_f64_unchecked(s: &[u8]) -> Option<f64> {
    let s = super::until_nul(s);
    if s.is_empty() {
        return Some(0.0);
    }
    // White space only: no conversion, the end pointer stays on the space.
    let start = s.iter().position(|b| !matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))?;
    let s = &s[start..];
    let (neg, body) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let v = match parse_hex_float(body) {
        Some(h) => hex_to_f64(neg, &h).0,
        // Rust's parser reads strtod's decimal grammar; out of range it
        // gives an infinity or zero, as strtod does.
        None => std::str::from_utf8(s).ok()?.parse().ok()?,
    };
    (!v.is_nan()).then_some(v)
}

/// Whether the digits before the exponent of a decimal literal include a
/// non-zero one (so a zero result means the value underflowed).
fn mantissa_has_nonzero_digit(body: &str) -> bool {
    body.bytes().take_while(|b| !matches!(b, b'e' | b'E')).any(|b| matches!(b, b'1'..=b'9'))
}

/// Formats a double as Redis 7.2 does in RESP2 replies (`fpconv_dtoa`).
///
/// The digits are the shortest that read back to the same value. With `K`
/// the power of ten of the last digit and `exp` the absolute power of ten of
/// the first digit, the layout is:
/// an integer padded with zeros when `K >= 0` and `exp < ndigits + 7`
/// (`100`, `10000000`); a plain decimal when `K < 0` and (`K > -7` or
/// `exp < 4`) (`1.5`, `0.000001`); otherwise scientific notation with a signed
/// exponent of at least one digit (`1e+21`, `1e-7`, `1.5e+300`). Infinity is
/// `inf` / `-inf`, zero is `0` (and `-0` for negative zero), NaN is `nan`.
pub fn format_double(v: f64) -> String {
    let mut out = String::with_capacity(24);
    if v.is_sign_negative() && !v.is_nan() {
        out.push('-');
    }
    if v == 0.0 {
        out.push('0');
        return out;
    }
    if v.is_nan() {
        out.push_str("nan");
        return out;
    }
    if v.is_infinite() {
        out.push_str("inf");
        return out;
    }
    // `{:e}` prints the shortest round-trip digits as d.ddde[-]X.
    let sci = format!("{:e}", v.abs());
    let (mantissa, exp10) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp10: i32 = exp10.parse().unwrap_or(0);
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    let nd = digits.len() as i32;
    let k = exp10 - (nd - 1);
    let exp = (k + nd - 1).abs();
    let push_digits = |out: &mut String, d: &[u8]| out.extend(d.iter().map(|&b| char::from(b)));

    if k >= 0 && exp < nd + 7 {
        push_digits(&mut out, &digits);
        out.extend(std::iter::repeat_n('0', k as usize));
    } else if k < 0 && (k > -7 || exp < 4) {
        let offset = nd + k;
        if offset <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-offset) as usize));
            push_digits(&mut out, &digits);
        } else {
            let (int_part, frac) = digits.split_at(offset as usize);
            push_digits(&mut out, int_part);
            out.push('.');
            push_digits(&mut out, frac);
        }
    } else {
        out.push(char::from(digits[0]));
        if digits.len() > 1 {
            out.push('.');
            push_digits(&mut out, &digits[1..]);
        }
        out.push('e');
        out.push(if k + nd - 1 < 0 { '-' } else { '+' });
        out.push_str(&exp.to_string());
    }
    out
}

/// A formatted `i64` on the stack: the bytes of the decimal text.
#[derive(Clone, Copy)]
pub struct I64Buf {
    buf: [u8; MAX_I64_CHARS],
    start: u8,
}

impl I64Buf {
    /// The decimal text as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[usize::from(self.start)..]
    }

    /// The decimal text.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and '-' are ever written.
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

/// Formats an `i64` without allocating (two digits per step from a table,
/// as `ll2string` does).
pub fn format_i64(v: i64) -> I64Buf {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";
    let mut buf = [0u8; MAX_I64_CHARS];
    let mut i = MAX_I64_CHARS;
    let mut n = v.unsigned_abs();
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        let pair = n as usize * 2;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + n as u8;
    }
    if v < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    I64Buf { buf, start: i as u8 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_reads_leading_digits_as_c_does() {
        assert_eq!(atoi(b"  42abc"), 42);
        assert_eq!(atoi(b"-7"), -7);
        assert_eq!(atoi(b"+3"), 3);
        assert_eq!(atoi(b"x1"), 0);
        assert_eq!(atoi(b""), 0);
        assert_eq!(atoi(b"99999999999999999999999"), i64::MAX);
    }
    use proptest::prelude::*;

    #[test]
    fn parse_i64_accepts_canonical() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"1"), Some(1));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
    }

    #[test]
    fn parse_i64_rejects_non_canonical() {
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"+1",
            b"01",
            b"00",
            b" 1",
            b"1 ",
            b"1a",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"18446744073709551616",
            b"99999999999999999999",
            b"1.0",
            b"--1",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn parse_f64_cases() {
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
        assert_eq!(parse_f64(b".5"), Some(0.5));
        assert_eq!(parse_f64(b"5."), Some(5.0));
        assert_eq!(parse_f64(b"-1.5"), Some(-1.5));
        assert_eq!(parse_f64(b"+2"), Some(2.0));
        assert_eq!(parse_f64(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"0e-400"), Some(0.0));
        assert_eq!(parse_f64(b"4.9e-324"), Some(5e-324));
        assert_eq!(parse_f64(b"0x10"), Some(16.0));
        assert_eq!(parse_f64(b"-0X1.8p1"), Some(-3.0));
        assert_eq!(parse_f64(b"0x.8"), Some(0.5));
        assert_eq!(parse_f64(b"0x1p-2"), Some(0.25));
        assert_eq!(parse_f64(b"0x1fffffffffffff"), Some(9007199254740991.0));
        for bad in [
            &b""[..],
            b" 1",
            b"1 ",
            b"nan",
            b"NaN",
            b"1e",
            b".",
            b"abc",
            b"1e400",
            b"-1e400",
            b"1e-400",
            b"1,5",
            b"\xff",
            b"0x",
            b"0x.",
            b"0x1p",
            b"0x1g",
            b"0x1p99999",
            b"0x1p-99999",
        ] {
            assert_eq!(parse_f64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn format_double_layout() {
        let cases: &[(f64, &str)] = &[
            (100.0, "100"),
            (1.0, "1"),
            (0.0, "0"),
            (-0.0, "-0"),
            (1.5, "1.5"),
            (-1.5, "-1.5"),
            (0.1, "0.1"),
            (3.0e-3, "0.003"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (1e7, "10000000"),
            (1e8, "1e+8"),
            (123e6, "123000000"),
            (1e21, "1e+21"),
            (1.5e300, "1.5e+300"),
            (1e100, "1e+100"),
            (5e-324, "5e-324"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (1234.5678, "1234.5678"),
            (0.30000000000000004, "0.30000000000000004"),
            (123456789.123, "123456789.123"),
        ];
        for &(v, want) in cases {
            assert_eq!(format_double(v), want, "{v:e}");
        }
    }

    #[test]
    fn format_i64_edges() {
        for v in [0, 1, -1, 9, 10, 99, 100, -100, i64::MAX, i64::MIN] {
            assert_eq!(format_i64(v).as_str(), v.to_string());
        }
    }

    proptest! {
        #[test]
        fn format_i64_matches_std(v in any::<i64>()) {
            let f = format_i64(v);
            prop_assert_eq!(f.as_str(), v.to_string());
            prop_assert_eq!(parse_i64(f.as_bytes()), Some(v));
        }

        #[test]
        fn format_double_round_trips(bits in any::<u64>()) {
            let v = f64::from_bits(bits);
            prop_assume!(v.is_finite());
            let s = format_double(v);
            prop_assert_eq!(s.parse::<f64>().unwrap().to_bits(), v.to_bits());
        }
    }
}
