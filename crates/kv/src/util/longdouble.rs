//! INCRBYFLOAT's arithmetic: x87 80-bit extended precision, in software.
//!
//! Redis computes INCRBYFLOAT and HINCRBYFLOAT in C's `long double` (on
//! x86-64 a 64-bit significand) and prints the sum with `"%.17Lf"`, then
//! trims trailing zeros. The 11 extra significand bits absorb the error of
//! reading decimal fractions, so `10.5 + 0.1` prints `10.6` and `0.1 + 0.2`
//! prints `0.3` where `f64` would print `0.30000000000000004`. To give the
//! same answers, this module reads the decimal text into a correctly rounded
//! 64-bit significand (as `strtold` does), adds exactly and rounds once (as
//! the FPU does), and prints the exact binary value rounded to 17 decimals
//! (as glibc's `printf` does), all with a small unsigned big integer.
//! Hexadecimal float input (`0x1.8p3`) is read as glibc's `strtold` does.

use std::cmp::Ordering;

use self::big::Big;

/// Significand bits of the x87 extended format.
const PRECISION: i64 = 64;
/// Exponent of the least significant bit of the smallest subnormal.
const MIN_LSB: i64 = -16445;
/// Values at or above 2^MAX_EXP overflow to infinity.
const MAX_EXP: i64 = 16384;
/// `MAX_LONG_DOUBLE_CHARS`: the longest text `string2ld` reads.
const MAX_CHARS: usize = 5 * 1024;

/// Why INCRBYFLOAT failed; `Display` is Redis's error text (after `ERR `).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IncrFloatError {
    /// The current value or the increment is not a float.
    #[error("value is not a valid float")]
    NotAFloat,
    /// The sum is NaN or infinite.
    #[error("increment would produce NaN or Infinity")]
    NanOrInfinity,
}

/// A finite extended value `(-1)^neg * m * 2^e`, or an infinity.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Ext {
    Finite { neg: bool, m: u64, e: i64 },
    Inf { neg: bool },
}

/// INCRBYFLOAT: adds `incr` to `current` in extended precision and returns
/// the text Redis stores (`"%.17Lf"` with trailing zeros and a trailing `.`
/// removed). A missing key is `current = b"0"`.
pub fn incr_by_float(current: &[u8], incr: &[u8]) -> Result<Vec<u8>, IncrFloatError> {
    let a = parse(current).ok_or(IncrFloatError::NotAFloat)?;
    let b = parse(incr).ok_or(IncrFloatError::NotAFloat)?;
    match add(a, b) {
        Ext::Finite { neg, m, e } => Ok(format_17(neg, m, e)),
        Ext::Inf { .. } => Err(IncrFloatError::NanOrInfinity),
    }
}

/// Reads a float argument as Redis reads it into a `long double`
/// (`getLongDoubleFromObject`, as INCRBYFLOAT reads its arguments) and gives the nearest double:
/// what is past `f64`'s range (but inside the extended one, as `1e400`)
/// becomes an infinity, and a non-zero value too small for a double
/// becomes the smallest one, so that it stays non-zero (a timeout of
/// `1e-400` seconds is 1 ms, not forever). For the blocking commands'
/// timeout.
pub fn parse_as_f64(s: &[u8]) -> Option<f64> {
    Some(match parse(s)? {
        Ext::Inf { neg } => {
            if neg {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }
        }
        Ext::Finite { neg, m, mut e } => {
            let mut v = m as f64;
            // Scaling by powers of two is exact until it overflows or
            // underflows.
            while e > 0 && v.is_finite() {
                let step = e.min(1000);
                v *= 2f64.powi(step as i32);
                e -= step;
            }
            while e < 0 && v != 0.0 {
                let step = (-e).min(1000);
                v /= 2f64.powi(step as i32);
                e += step;
            }
            if v == 0.0 && m != 0 {
                v = f64::from_bits(1);
            }
            if neg {
                -v
            } else {
                v
            }
        }
    })
}

/// `string2ld`: `strtold` on the whole text, refusing the empty string,
/// text of 5 KiB or more, a leading space, trailing bytes, NaN, and
/// overflow or underflow to zero (`ERANGE`). As in Redis 7.0.15, all of the
/// text must be read: a NUL byte is trailing garbage, not an end.
fn parse(s: &[u8]) -> Option<Ext> {
    if s.is_empty() || s.len() >= MAX_CHARS {
        return None;
    }
    let (neg, body) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if let Some(h) = crate::util::num::parse_hex_float(body) {
        if h.digits.is_empty() {
            return Some(Ext::Finite { neg, m: 0, e: 0 });
        }
        if h.exp2 > 2 * MAX_EXP || h.exp2 < 2 * MIN_LSB - 4 * h.digits.len() as i64 {
            return None; // far outside the range: ERANGE
        }
        let mut n = Big::zero();
        for &d in &h.digits {
            n.mul_add_small(16, u32::from(d));
        }
        return match round(neg, n, h.exp2, false) {
            Ext::Finite { m: 0, .. } | Ext::Inf { .. } => None,
            finite => Some(finite),
        };
    }
    let lower = body.to_ascii_lowercase();
    if lower == b"inf" || lower == b"infinity" {
        return Some(Ext::Inf { neg });
    }
    // digits [. digits] [e [+-] digits], at least one mantissa digit.
    let mut digits = Big::zero();
    let mut nonzero = false;
    let mut exp10: i64 = 0;
    let mut seen_digit = false;
    let mut i = 0;
    let mut after_point = false;
    while i < body.len() {
        match body[i] {
            d @ b'0'..=b'9' => {
                seen_digit = true;
                if d != b'0' || nonzero {
                    nonzero = true;
                    digits.mul_add_small(10, u32::from(d - b'0'));
                }
                if after_point {
                    exp10 -= 1;
                }
            }
            b'.' if !after_point => after_point = true,
            _ => break,
        }
        i += 1;
    }
    if !seen_digit {
        return None;
    }
    if i < body.len() {
        if !matches!(body[i], b'e' | b'E') {
            return None;
        }
        exp10 += crate::util::num::parse_exponent(&body[i + 1..])?;
    }
    if !nonzero {
        return Some(Ext::Finite { neg, m: 0, e: 0 });
    }
    // Far outside the range: overflow or underflow, both ERANGE.
    if exp10 > 6000 || exp10 < -(6000 + MAX_CHARS as i64) {
        return None;
    }
    let rounded = if exp10 >= 0 {
        digits.mul_pow10(exp10 as u32);
        round(neg, digits, 0, false)
    } else {
        let mut den = Big::from_u64(1);
        den.mul_pow10((-exp10) as u32);
        // Enough quotient bits for a 64-bit significand, a rounding bit
        // and more.
        let shift = (PRECISION + 2 + den.bits() as i64 - digits.bits() as i64).max(0);
        digits.shl(shift as u32);
        let (q, rem_nonzero) = digits.div_rem(&den);
        round(neg, q, -shift, rem_nonzero)
    };
    match rounded {
        Ext::Finite { m: 0, .. } | Ext::Inf { .. } => None, // ERANGE
        finite => Some(finite),
    }
}

/// Rounds `n * 2^e2` (plus a non-zero remainder below it when `sticky`) to
/// the extended format, to nearest with ties to even, with subnormals.
fn round(neg: bool, mut n: Big, e2: i64, sticky: bool) -> Ext {
    let len = n.bits() as i64;
    if len == 0 {
        return Ext::Finite { neg, m: 0, e: 0 };
    }
    let mut lsb = (e2 + len - PRECISION).max(MIN_LSB);
    let drop = lsb - e2;
    if drop <= 0 {
        n.shl((-drop) as u32);
        return finish(neg, n.low_u64(), lsb);
    }
    let (half, below) = n.shr_round_info(drop as u32);
    let mut m = n.low_u64();
    if half && (below || sticky || m & 1 == 1) {
        m = m.wrapping_add(1);
        if m == 0 {
            m = 1 << 63;
            lsb += 1;
        }
    }
    finish(neg, m, lsb)
}

/// Checks the rounded value for overflow.
fn finish(neg: bool, m: u64, e: i64) -> Ext {
    let bits = 64 - i64::from(m.leading_zeros());
    if m != 0 && e + bits > MAX_EXP {
        Ext::Inf { neg }
    } else {
        Ext::Finite { neg, m, e }
    }
}

/// The extended sum, rounded once.
fn add(a: Ext, b: Ext) -> Ext {
    let (Ext::Finite { neg: an, m: am, e: ae }, Ext::Finite { neg: bn, m: bm, e: be }) = (a, b) else {
        // inf + x, x + inf, inf - inf (NaN): all refused the same way.
        return Ext::Inf { neg: false };
    };
    let emin = if am == 0 {
        be
    } else if bm == 0 {
        ae
    } else {
        ae.min(be)
    };
    let mut x = Big::from_u64(am);
    let mut y = Big::from_u64(bm);
    if am != 0 {
        x.shl((ae - emin) as u32);
    }
    if bm != 0 {
        y.shl((be - emin) as u32);
    }
    if an == bn {
        x.add(&y);
        round(an, x, emin, false)
    } else {
        match x.cmp(&y) {
            Ordering::Equal => Ext::Finite { neg: false, m: 0, e: 0 },
            Ordering::Greater => {
                x.sub(&y);
                round(an, x, emin, false)
            }
            Ordering::Less => {
                y.sub(&x);
                round(bn, y, emin, false)
            }
        }
    }
}

/// `"%.17Lf"` of `m * 2^e`, then Redis's trimming (`ld2string` with
/// `LD_STR_HUMAN`): trailing zeros and a trailing point go, `-0` becomes `0`.
fn format_17(neg: bool, m: u64, e: i64) -> Vec<u8> {
    let mut n = Big::from_u64(m);
    n.mul_pow10(17);
    if e >= 0 {
        n.shl(e as u32);
    } else {
        let (half, below) = n.shr_round_info((-e) as u32);
        if half && (below || n.low_u64() & 1 == 1) {
            n.add(&Big::from_u64(1));
        }
    }
    let mut digits = n.to_decimal();
    if digits.len() < 18 {
        let mut padded = vec![b'0'; 18 - digits.len()];
        padded.extend_from_slice(&digits);
        digits = padded;
    }
    let point = digits.len() - 17;
    let mut out = Vec::with_capacity(digits.len() + 2);
    if neg {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[..point]);
    out.push(b'.');
    out.extend_from_slice(&digits[point..]);
    while out.last() == Some(&b'0') {
        out.pop();
    }
    if out.last() == Some(&b'.') {
        out.pop();
    }
    if out == b"-0" {
        out = b"0".to_vec();
    }
    out
}

/// Just enough of an unsigned big integer (32-bit limbs, least significant
/// first, no high zero limbs) for exact decimal <-> binary conversion.
mod big {
    use std::cmp::Ordering;

    /// An unsigned big integer.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub(super) struct Big(Vec<u32>);

    impl Big {
        pub(super) fn zero() -> Big {
            Big(Vec::new())
        }

        pub(super) fn from_u64(v: u64) -> Big {
            let mut b = Big(vec![v as u32, (v >> 32) as u32]);
            b.trim();
            b
        }

        fn trim(&mut self) {
            while self.0.last() == Some(&0) {
                self.0.pop();
            }
        }

        /// Number of significant bits.
        pub(super) fn bits(&self) -> u64 {
            match self.0.last() {
                None => 0,
                Some(&top) => self.0.len() as u64 * 32 - u64::from(top.leading_zeros()),
            }
        }

        fn bit(&self, i: u64) -> bool {
            let limb = (i / 32) as usize;
            limb < self.0.len() && (self.0[limb] >> (i % 32)) & 1 == 1
        }

        /// The low 64 bits.
        pub(super) fn low_u64(&self) -> u64 {
            let lo = self.0.first().copied().unwrap_or(0);
            let hi = self.0.get(1).copied().unwrap_or(0);
            u64::from(lo) | (u64::from(hi) << 32)
        }

        /// self = self * mul + add.
        pub(super) fn mul_add_small(&mut self, mul: u32, add: u32) {
            let mut carry = u64::from(add);
            for limb in &mut self.0 {
                let v = u64::from(*limb) * u64::from(mul) + carry;
                *limb = v as u32;
                carry = v >> 32;
            }
            if carry != 0 {
                self.0.push(carry as u32);
            }
            self.trim();
        }

        /// self *= 10^k.
        pub(super) fn mul_pow10(&mut self, mut k: u32) {
            while k >= 9 {
                self.mul_add_small(1_000_000_000, 0);
                k -= 9;
            }
            self.mul_add_small(10u32.pow(k), 0);
        }

        /// self <<= k.
        pub(super) fn shl(&mut self, k: u32) {
            if self.0.is_empty() {
                return;
            }
            let (limbs, bits) = ((k / 32) as usize, k % 32);
            if bits != 0 {
                let mut carry = 0u32;
                for limb in &mut self.0 {
                    let v = *limb;
                    *limb = (v << bits) | carry;
                    carry = v >> (32 - bits);
                }
                if carry != 0 {
                    self.0.push(carry);
                }
            }
            self.0.splice(0..0, std::iter::repeat_n(0, limbs));
        }

        /// self >>= k; returns the highest dropped bit and whether any
        /// lower dropped bit was set (for rounding).
        pub(super) fn shr_round_info(&mut self, k: u32) -> (bool, bool) {
            if k == 0 {
                return (false, false);
            }
            let k64 = u64::from(k);
            let half = self.bit(k64 - 1);
            let limbs = ((k - 1) / 32) as usize;
            let below = self.0.iter().take(limbs.min(self.0.len())).any(|&l| l != 0)
                || (k64 - 1) % 32 != 0
                    && self.0.get(limbs).is_some_and(|&l| l & ((1u32 << ((k - 1) % 32)) - 1) != 0);
            let (drop_limbs, bits) = ((k / 32) as usize, k % 32);
            if drop_limbs >= self.0.len() {
                self.0.clear();
                return (half, below);
            }
            self.0.drain(..drop_limbs);
            if bits != 0 {
                for i in 0..self.0.len() {
                    let hi = self.0.get(i + 1).copied().unwrap_or(0);
                    self.0[i] = (self.0[i] >> bits) | (hi << (32 - bits));
                }
            }
            self.trim();
            (half, below)
        }

        /// self += other.
        pub(super) fn add(&mut self, other: &Big) {
            if self.0.len() < other.0.len() {
                self.0.resize(other.0.len(), 0);
            }
            let mut carry = 0u64;
            for (i, limb) in self.0.iter_mut().enumerate() {
                let v = u64::from(*limb) + u64::from(other.0.get(i).copied().unwrap_or(0)) + carry;
                *limb = v as u32;
                carry = v >> 32;
            }
            if carry != 0 {
                self.0.push(carry as u32);
            }
        }

        /// self -= other; requires self >= other.
        pub(super) fn sub(&mut self, other: &Big) {
            let mut borrow = 0i64;
            for (i, limb) in self.0.iter_mut().enumerate() {
                let v = i64::from(*limb) - i64::from(other.0.get(i).copied().unwrap_or(0)) - borrow;
                borrow = i64::from(v < 0);
                *limb = v.rem_euclid(1 << 32) as u32;
            }
            self.trim();
        }

        /// (self / den, whether the remainder is non-zero), by shifting and
        /// subtracting: the quotients needed here have about 66 bits.
        pub(super) fn div_rem(&self, den: &Big) -> (Big, bool) {
            let mut rem = self.clone();
            let mut q = Big::zero();
            let (nb, db) = (self.bits(), den.bits());
            if nb >= db {
                for i in (0..=(nb - db)).rev() {
                    let mut t = den.clone();
                    t.shl(i as u32);
                    if rem >= t {
                        rem.sub(&t);
                        let limb = (i / 32) as usize;
                        if q.0.len() <= limb {
                            q.0.resize(limb + 1, 0);
                        }
                        q.0[limb] |= 1 << (i % 32);
                    }
                }
            }
            (q, !rem.0.is_empty())
        }

        /// Decimal digits (at least one).
        pub(super) fn to_decimal(&self) -> Vec<u8> {
            let mut n = self.0.clone();
            let mut chunks = Vec::new();
            while !n.is_empty() {
                let mut rem = 0u64;
                for limb in n.iter_mut().rev() {
                    let v = (rem << 32) | u64::from(*limb);
                    *limb = (v / 1_000_000_000) as u32;
                    rem = v % 1_000_000_000;
                }
                while n.last() == Some(&0) {
                    n.pop();
                }
                chunks.push(rem as u32);
            }
            let mut out = match chunks.pop() {
                Some(top) => top.to_string().into_bytes(),
                None => return b"0".to_vec(),
            };
            for c in chunks.iter().rev() {
                out.extend_from_slice(format!("{c:09}").as_bytes());
            }
            out
        }
    }

    impl PartialOrd for Big {
        fn partial_cmp(&self, other: &Big) -> Option<Ordering> {
            Some(self.cmp(other))
        }
    }

    impl Ord for Big {
        fn cmp(&self, other: &Big) -> Ordering {
            self.0.len().cmp(&other.0.len()).then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incr(a: &str, b: &str) -> Result<String, IncrFloatError> {
        incr_by_float(a.as_bytes(), b.as_bytes()).map(|v| String::from_utf8(v).unwrap())
    }

    /// Hex floats and NUL bytes, checked against redis-server 7.0.15.
    #[test]
    fn hex_input_and_nul_bytes_as_redis_7_0() {
        assert_eq!(incr("0x10", "1"), Ok("17".into()));
        assert_eq!(incr("17", "0x1p3"), Ok("25".into()));
        assert_eq!(incr("-0X.8", "0"), Ok("-0.5".into()));
        assert_eq!(incr("1", "0x1p99999"), Err(IncrFloatError::NotAFloat));
        for bad in ["4\0", "\0", "\x004", "4\0\0x", "0x", "0x1p", "0xg"] {
            assert_eq!(incr(bad, "1"), Err(IncrFloatError::NotAFloat), "{bad:?}");
        }
    }

    /// Verified against redis-server 7.0 (x86-64) with
    /// `SET k <a>` then `INCRBYFLOAT k <b>`.
    #[test]
    fn matches_redis() {
        let cases: &[(&str, &str, &str)] = &[
            ("10.5", "0.1", "10.6"),
            ("0.1", "0.2", "0.3"),
            ("0", "0.1", "0.1"),
            ("1", "1", "2"),
            ("3.0e3", "200", "3200"),
            ("5.0e3", "2.0e2", "5200"),
            ("1", "-1", "0"),
            ("-1", "0.5", "-0.5"),
            ("1.1", "-2.2", "-1.1"),
            ("0.3", "-0.1", "0.2"),
            ("1e-20", "0", "0"),
            ("-1e-20", "0", "0"),
            ("123456789012345678", "1", "123456789012345679"),
            ("1e17", "0.5", "100000000000000000.5"),
            ("1.5", "1e-17", "1.50000000000000001"),
            ("1", "1e-17", "1.00000000000000001"),
            ("3.14159265358979323846", "0", "3.14159265358979324"),
            ("0.000000000000000005", "0", "0"),
            ("0.000000000000000015", "0", "0.00000000000000002"),
            ("0.000000000000000025", "0", "0.00000000000000002"),
            ("99999999999999999999", "1", "100000000000000000000"),
            (".5", ".5", "1"),
            ("5.", "1", "6"),
            ("+1", "+1", "2"),
            ("-0", "0", "0"),
            ("1", "1e-4950", "1"),
            ("2.5", "0", "2.5"),
            ("-2.5", "0", "-2.5"),
            ("100", "0.000001", "100.000001"),
            ("1.0000000000000001", "0", "1.0000000000000001"),
            ("17.5", "0.1", "17.6"),
            ("10", "10.123456789", "20.123456789"),
            ("1e-4940", "1e-4940", "0"),
            ("3", "-3.0000000000000000001", "0"),
            ("0.1", "0.7", "0.8"),
            ("1.23456789012345678", "9.87654321098765432", "11.1111111011111111"),
            ("1e20", "0.5", "100000000000000000000"),
            ("1e308", "1e308", "199999999999999999993371759311691291321120199694831134415594095989843469737676123744200253843777078640893494450108026446304269499187921167194841628860392837535918200039206381557326219209014213335878306791577877829121087126122536729803237260434173178506889763247582601711514636284849020905456510092687857156096"),
            ("1.7976931348623157e308", "1e308", "279769313486231570002352240441350078789299929179619934003987695617693370918830364684014944221042050987341155710361544171686148029276505307138777262321877129888036065002204239033812550598509174132739480498569620043582760541189365866551522561741435317031294527744011878159793174665688773926186886103199182225408"),
        ];
        for &(a, b, want) in cases {
            assert_eq!(incr(a, b).as_deref(), Ok(want), "{a} + {b}");
        }
    }

    #[test]
    fn huge_values_match_redis() {
        let big = incr("1e4000", "0").unwrap();
        assert_eq!(big.len(), 4000);
        assert!(big.starts_with("99999999999999999999654638730996237849324925835069576313"));
        assert!(big.ends_with("272729951206648276349901340672"));
        // Just below LDBL_MAX prints 4933 digits; just above it overflows.
        assert_eq!(incr("1.189731495357231765e4932", "0").unwrap().len(), 4933);
        assert_eq!(incr("1.18973149535723177e4932", "0"), Err(IncrFloatError::NotAFloat));
        assert_eq!(incr("1.189731495357231765e4932", "1e4920"), Err(IncrFloatError::NanOrInfinity));
    }

    #[test]
    fn errors_match_redis() {
        use IncrFloatError::*;
        for (a, b) in [
            ("1e4933", "0"),
            ("1e-5000", "0"),
            ("abc", "1"),
            ("1", "abc"),
            (" 1", "1"),
            ("1 ", "1"),
            ("nan", "1"),
            ("1e", "1"),
            ("", "1"),
            ("5", ""),
        ] {
            assert_eq!(incr(a, b), Err(NotAFloat), "{a:?} + {b:?}");
        }
        assert_eq!(incr("inf", "1"), Err(NanOrInfinity));
        assert_eq!(incr("1", "-inf"), Err(NanOrInfinity));
        assert_eq!(incr("inf", "-inf"), Err(NanOrInfinity));
        assert_eq!(NotAFloat.to_string(), "value is not a valid float");
        assert_eq!(NanOrInfinity.to_string(), "increment would produce NaN or Infinity");
    }

    /// redis-server 7.0.15 refuses this (`string2ld` must read every byte).
    #[test]
    fn a_nul_is_trailing_garbage() {
        assert_eq!(incr_by_float(b"1.5\0junk", b"1"), Err(IncrFloatError::NotAFloat));
    }
}
