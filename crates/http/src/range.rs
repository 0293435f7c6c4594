//! `Range: bytes=...` (RFC 9110 §14).
//!
//! One range gets a 206 with `Content-Range`; a range that starts past
//! the end gets a 416 with `Content-Range: bytes */size`. The grammar is
//! nginx's (`ngx_http_range_parse`), which RFC 9110 leaves room for: a
//! value not starting with `bytes=` (in any case) is ignored (200, the
//! whole file), but after `bytes=` anything malformed (`bytes=a-b`,
//! `bytes=5-2`, `bytes=0-1,`) is a 416, and any range of an empty file is
//! ignored.
//!
//! Several ranges ([`parse_set`]) get a `multipart/byteranges` 206 with one
//! part per satisfiable range, in the order asked (see `multirange.rs`).
//! Unsatisfiable ranges among them are dropped (416 only when none is
//! left; one left is a plain 206). Many small or overlapping ranges are
//! the Apache "Range of death" (CVE-2011-3192): a few hundred bytes of
//! header make the server build and send the file many times over, in
//! many parts. As nginx does, a set whose ranges add up to more than the
//! file is answered with the whole file (200), and so is a set of more
//! satisfiable ranges than `limits.max_ranges` (default [`MAX_RANGES`]);
//! as in nginx, `max_ranges = 0` turns ranges off altogether (the server
//! then neither reads `Range` nor sends `Accept-Ranges`).

/// The default of `limits.max_ranges`: most satisfiable ranges one
/// request may ask for before it is answered with the whole file
/// (nginx's `max_ranges`, which nginx leaves unlimited by default).
///
/// Why 64: real clients ask for a handful (PDF viewers fetch a few
/// objects, download managers a few segments); each part costs a part
/// head (~100 bytes), a `sendfile` call and a system call for the head, so
/// the cap bounds that work per request at a small constant while the sum
/// rule above bounds the bytes.
pub const MAX_RANGES: usize = 64;

/// What a `Range` header asks of a file of a given size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeSpec {
    /// The whole file (no usable range).
    Full,
    /// Bytes `start..=end` (inclusive, as in `Content-Range`).
    Part {
        /// First byte.
        start: u64,
        /// Last byte (inclusive).
        end: u64,
    },
    /// No byte of the file is in the range (416).
    Unsatisfiable,
}

/// One step of nginx's `Range` grammar: the byte at `i`, or 0 past the end
/// (nginx reads a NUL-terminated header value).
fn at(s: &[u8], i: usize) -> u8 {
    s.get(i).copied().unwrap_or(0)
}

fn spaces(s: &[u8], i: &mut usize) {
    while at(s, *i) == b' ' {
        *i += 1;
    }
}

/// Digits at `i` (at least one), or `None` if there are none or they
/// overflow.
fn digits(s: &[u8], i: &mut usize) -> Option<u64> {
    if !at(s, *i).is_ascii_digit() {
        return None;
    }
    let mut n: u64 = 0;
    while at(s, *i).is_ascii_digit() {
        n = n.checked_mul(10)?.checked_add(u64::from(at(s, *i) - b'0'))?;
        if n > i64::MAX as u64 {
            return None;
        }
        *i += 1;
    }
    Some(n)
}

/// The ranges after `bytes=` as nginx's range filter reads them
/// (`ngx_http_range_parse`), for a file of `size` bytes: `Err(true)` for a
/// malformed set (nginx answers 416), `Err(false)` for one to ignore (the
/// whole file: a range from 0 that is empty, which is what any range of an
/// empty file is), else the satisfiable ranges, half-open, in order (none:
/// unsatisfiable). Stops at `max + 1` ranges.
fn nginx_ranges(s: &[u8], size: u64, max: usize) -> Result<Vec<(u64, u64)>, bool> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        spaces(s, &mut i);
        let (start, end);
        if at(s, i) == b'-' {
            i += 1;
            let n = digits(s, &mut i).ok_or(true)?;
            spaces(s, &mut i);
            if !matches!(at(s, i), b',' | 0) {
                return Err(true);
            }
            start = size.saturating_sub(n);
            end = size;
        } else {
            start = digits(s, &mut i).ok_or(true)?;
            spaces(s, &mut i);
            if at(s, i) != b'-' {
                return Err(true);
            }
            i += 1;
            spaces(s, &mut i);
            if matches!(at(s, i), b',' | 0) {
                end = size;
            } else {
                let last = digits(s, &mut i).ok_or(true)?;
                spaces(s, &mut i);
                if !matches!(at(s, i), b',' | 0) {
                    return Err(true);
                }
                end = if last >= size { size } else { last + 1 };
            }
        }
        if start < end {
            out.push((start, end));
            if out.len() > max {
                return Ok(out);
            }
        } else if start == 0 {
            return Err(false);
        }
        if at(s, i) != b',' {
            return Ok(out);
        }
        i += 1;
    }
}

/// The value after a case-insensitive `bytes=`, if that is how it starts
/// and something follows (nginx wants at least 7 bytes).
fn specs(value: &[u8]) -> Option<&[u8]> {
    if value.len() < 7 || !value[..6].eq_ignore_ascii_case(b"bytes=") {
        return None;
    }
    Some(&value[6..])
}

/// Parses a `Range` header value for a file of `size` bytes, taking one
/// range only (a set of several is the whole file).
///
/// ```
/// use spindle_http::range::{parse, RangeSpec};
/// assert_eq!(parse(b"bytes=0-99", 1000), RangeSpec::Part { start: 0, end: 99 });
/// assert_eq!(parse(b"bytes=-100", 1000), RangeSpec::Part { start: 900, end: 999 });
/// assert_eq!(parse(b"bytes=2000-", 1000), RangeSpec::Unsatisfiable);
/// assert_eq!(parse(b"items=0-1", 1000), RangeSpec::Full);
/// ```
pub fn parse(value: &[u8], size: u64) -> RangeSpec {
    match parse_set(value, size, 1) {
        RangeSet::Full | RangeSet::Many(_) => RangeSpec::Full,
        RangeSet::One { start, end } => RangeSpec::Part { start, end },
        RangeSet::Unsatisfiable => RangeSpec::Unsatisfiable,
    }
}

/// What a `Range` header asks of a file, ranges allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RangeSet {
    /// The whole file (no `bytes=` range, an empty file, too many
    /// ranges, or ranges adding up to more than the file).
    Full,
    /// Exactly one satisfiable range: a plain 206.
    One {
        /// First byte.
        start: u64,
        /// Last byte (inclusive).
        end: u64,
    },
    /// Several satisfiable ranges `(start, end)` (inclusive), in the order
    /// asked: a multipart 206.
    Many(Vec<(u64, u64)>),
    /// None satisfiable, or the set is malformed: 416.
    Unsatisfiable,
}

/// Parses a `Range` header value for a file of `size` bytes, allowing up
/// to `max_ranges` satisfiable ranges (0: ranges off, always
/// [`RangeSet::Full`]). Follows nginx: a value not starting with `bytes=`
/// (any case) is ignored; after it, anything malformed (a missing number,
/// a stray character, an empty element, an overflow) is a 416, and so is
/// a set of which no range is satisfiable; a range of an empty file, more
/// than `max_ranges` ranges, or ranges adding up to more than the file
/// give the whole file.
///
/// ```
/// use spindle_http::range::{parse_set, RangeSet};
/// assert_eq!(parse_set(b"bytes=0-1,5-6", 10, 64), RangeSet::Many(vec![(0, 1), (5, 6)]));
/// assert_eq!(parse_set(b"bytes=0-1,x", 10, 64), RangeSet::Unsatisfiable);
/// assert_eq!(parse_set(b"bytes=0-0", 0, 64), RangeSet::Full);
/// ```
pub fn parse_set(value: &[u8], size: u64, max_ranges: usize) -> RangeSet {
    if max_ranges == 0 {
        return RangeSet::Full;
    }
    let Some(spec) = specs(value) else { return RangeSet::Full };
    let ranges = match nginx_ranges(spec, size, max_ranges) {
        Ok(r) => r,
        Err(true) => return RangeSet::Unsatisfiable,
        Err(false) => return RangeSet::Full,
    };
    let total = ranges.iter().fold(0u64, |t, (a, b)| t.saturating_add(b - a));
    if ranges.len() > max_ranges || total > size {
        return RangeSet::Full;
    }
    match ranges.as_slice() {
        [] => RangeSet::Unsatisfiable,
        [(a, b)] => RangeSet::One { start: *a, end: b - 1 },
        _ => RangeSet::Many(ranges.iter().map(|&(a, b)| (a, b - 1)).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RangeSpec::*;

    #[test]
    fn ranges() {
        assert_eq!(parse(b"bytes=0-0", 10), Part { start: 0, end: 0 });
        assert_eq!(parse(b"bytes=2-", 10), Part { start: 2, end: 9 });
        assert_eq!(parse(b"bytes=2-100", 10), Part { start: 2, end: 9 });
        assert_eq!(parse(b"bytes=-3", 10), Part { start: 7, end: 9 });
        assert_eq!(parse(b"bytes=-30", 10), Part { start: 0, end: 9 });
        assert_eq!(parse(b"bytes= 1 - 2 ", 10), Part { start: 1, end: 2 });
        assert_eq!(parse(b"BYTES=1-2", 10), Part { start: 1, end: 2 });
        assert_eq!(parse(b"bytes=10-", 10), Unsatisfiable);
        assert_eq!(parse(b"bytes=10-20", 10), Unsatisfiable);
        assert_eq!(parse(b"bytes=-0", 10), Unsatisfiable);
        assert_eq!(parse(b"bytes=5-2", 10), Unsatisfiable);
        // nginx: anything malformed after `bytes=` is a 416.
        for bad in [&b"bytes=-"[..], b"bytes=a-b", b"bytes=0-1,", b"bytes=99999999999999999999-", b"bytes=1"]
        {
            assert_eq!(parse(bad, 10), Unsatisfiable, "{:?}", String::from_utf8_lossy(bad));
        }
        // Not a byte range at all, or a range of an empty file: ignored.
        for full in [&b"bytes="[..], b"items=0-1", b"bytes 0-1", b"bytes=0-1,3-4"] {
            assert_eq!(parse(full, 10), Full, "{:?}", String::from_utf8_lossy(full));
        }
        assert_eq!(parse(b"bytes=0-", 0), Full);
        assert_eq!(parse(b"bytes=-5", 0), Full);
        assert_eq!(parse(b"bytes=3-5", 0), Unsatisfiable);
    }

    #[test]
    fn sets() {
        use RangeSet as S;
        let r = |v: &str| parse_set(v.as_bytes(), 100, MAX_RANGES);
        assert_eq!(r("bytes=0-9,20-29"), S::Many(vec![(0, 9), (20, 29)]));
        assert_eq!(r("bytes= 0-9 , 20-29 ,-5"), S::Many(vec![(0, 9), (20, 29), (95, 99)]));
        assert_eq!(r("bytes=50-59,0-9"), S::Many(vec![(50, 59), (0, 9)]));
        assert_eq!(r("bytes=0-9"), S::One { start: 0, end: 9 });
        assert_eq!(r("bytes=0-9,100-"), S::One { start: 0, end: 9 });
        assert_eq!(r("bytes=100-,200-300"), S::Unsatisfiable);
        assert_eq!(r("bytes=100-"), S::Unsatisfiable);
        assert_eq!(r("bytes=0-59,50-99"), S::Full);
        assert_eq!(r("bytes=0-49,40-89"), S::Many(vec![(0, 49), (40, 89)]));
        assert_eq!(r("bytes=0-,-1"), S::Full);
        for bad in ["bytes=0-9,x", "bytes=0-9,-", "bytes=,", "bytes=0-9,1-2-3", "bytes=0-9,,20-29"] {
            assert_eq!(r(bad), S::Unsatisfiable, "{bad}");
        }
        assert_eq!(r("items=0-1,2-3"), S::Full);
        let list = |n: usize| (0..n).map(|i| format!("{i}-{i}")).collect::<Vec<_>>().join(",");
        assert!(matches!(r(&format!("bytes={}", list(MAX_RANGES))), S::Many(v) if v.len() == MAX_RANGES));
        assert_eq!(r(&format!("bytes={}", list(MAX_RANGES + 1))), S::Full);
        assert_eq!(parse_set(b"bytes=0-1,200-,3-4", 100, 2), S::Many(vec![(0, 1), (3, 4)]));
        assert_eq!(parse_set(b"bytes=0-1,200-", 100, 1), S::One { start: 0, end: 1 });
        assert_eq!(parse_set(b"bytes=0-1,3-4", 100, 1), S::Full);
        assert_eq!(parse_set(b"bytes=500-", 100, 0), S::Full);
        assert_eq!(parse_set(b"bytes=0-1,2-3", 0, MAX_RANGES), S::Full);
        assert_eq!(parse_set(b"bytes=1-1,2-3", 0, MAX_RANGES), S::Unsatisfiable);
    }
}
