//! `Range: bytes=...` (RFC 9110 §14).
//!
//! One range gets a 206 with `Content-Range`; a range that starts past
//! the end gets a 416 with `Content-Range: bytes */size`; a header that
//! does not parse is ignored (200, the whole file), which the RFC allows.
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

fn num(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(s.len());
    let end = s.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(start, |e| e + 1);
    &s[start..end]
}

/// One `first-last`, `first-` or `-suffix` spec: `None` if it does not
/// parse, `Some(None)` if no byte of the file is in it.
fn one(spec: &[u8], size: u64) -> Option<Option<(u64, u64)>> {
    let dash = spec.iter().position(|&c| c == b'-')?;
    let (a, b) = (trim(&spec[..dash]), trim(&spec[dash + 1..]));
    match (a.is_empty(), b.is_empty()) {
        // bytes=-n: the last n bytes.
        (true, false) => match num(b)? {
            0 => Some(None),
            _ if size == 0 => Some(None),
            n => Some(Some((size.saturating_sub(n), size - 1))),
        },
        // bytes=a-: from a to the end.
        (false, true) => match num(a)? {
            s if s >= size => Some(None),
            s => Some(Some((s, size - 1))),
        },
        (false, false) => match (num(a)?, num(b)?) {
            (s, e) if s > e => None,
            (s, _) if s >= size => Some(None),
            (s, e) => Some(Some((s, e.min(size - 1)))),
        },
        (true, true) => None,
    }
}

/// The specs after `bytes=`, or `None` for another unit.
fn specs(value: &[u8]) -> Option<&[u8]> {
    trim(value).strip_prefix(b"bytes=").map(trim)
}

/// Interprets the value of a `Range` header for a file of `size` bytes,
/// as a single range: a header listing several is [`RangeSpec::Full`]
/// here (see [`parse_set`] for those).
///
/// ```
/// use spindle_http::range::{parse, RangeSpec};
/// assert_eq!(parse(b"bytes=0-9", 100), RangeSpec::Part { start: 0, end: 9 });
/// assert_eq!(parse(b"bytes=-10", 100), RangeSpec::Part { start: 90, end: 99 });
/// assert_eq!(parse(b"bytes=100-", 100), RangeSpec::Unsatisfiable);
/// assert_eq!(parse(b"bytes=0-1,5-6", 100), RangeSpec::Full);
/// ```
pub fn parse(value: &[u8], size: u64) -> RangeSpec {
    let Some(spec) = specs(value) else { return RangeSpec::Full };
    if spec.contains(&b',') {
        return RangeSpec::Full;
    }
    match one(spec, size) {
        None => RangeSpec::Full,
        Some(None) => RangeSpec::Unsatisfiable,
        Some(Some((start, end))) => RangeSpec::Part { start, end },
    }
}

/// What a `Range` header with any number of ranges asks of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RangeSet {
    /// The whole file: no `Range`, one that does not parse, ranges adding
    /// up to more than the file, or more satisfiable ranges than allowed.
    Full,
    /// One satisfiable range, `start..=end` (a plain 206).
    One {
        /// First byte.
        start: u64,
        /// Last byte (inclusive).
        end: u64,
    },
    /// Two or more satisfiable ranges, inclusive, in the order asked (a
    /// multipart 206).
    Many(Vec<(u64, u64)>),
    /// No range has a byte of the file (416).
    Unsatisfiable,
}

/// Interprets a `Range` header that may list several ranges, for a file
/// of `size` bytes, allowing at most `max_ranges` satisfiable ones (as
/// nginx counts them: unsatisfiable ones are dropped, not counted; the
/// header's own length bounds the parsing work). `max_ranges = 0` means
/// ranges are off: always [`RangeSet::Full`].
///
/// ```
/// use spindle_http::range::{parse_set, RangeSet};
/// assert_eq!(parse_set(b"bytes=0-9,-5", 100, 64), RangeSet::Many(vec![(0, 9), (95, 99)]));
/// // The unsatisfiable one is dropped; one left is a plain range.
/// assert_eq!(parse_set(b"bytes=0-9,200-", 100, 64), RangeSet::One { start: 0, end: 9 });
/// assert_eq!(parse_set(b"bytes=200-,300-", 100, 64), RangeSet::Unsatisfiable);
/// // Overlapping ranges adding up past the file: the whole file.
/// assert_eq!(parse_set(b"bytes=0-,0-", 100, 64), RangeSet::Full);
/// // Over the limit, or ranges off: the whole file.
/// assert_eq!(parse_set(b"bytes=0-1,3-4,6-7", 100, 2), RangeSet::Full);
/// assert_eq!(parse_set(b"bytes=0-9", 100, 0), RangeSet::Full);
/// ```
pub fn parse_set(value: &[u8], size: u64, max_ranges: usize) -> RangeSet {
    if max_ranges == 0 {
        return RangeSet::Full;
    }
    let Some(spec) = specs(value) else { return RangeSet::Full };
    if !spec.contains(&b',') {
        return match one(spec, size) {
            None => RangeSet::Full,
            Some(None) => RangeSet::Unsatisfiable,
            Some(Some((start, end))) => RangeSet::One { start, end },
        };
    }
    let mut ranges = Vec::new();
    let mut listed = 0;
    let mut total = 0u64;
    // Empty list elements (`0-1, ,2-3`) are allowed by the list syntax.
    for s in spec.split(|&c| c == b',').map(trim).filter(|s| !s.is_empty()) {
        listed += 1;
        match one(s, size) {
            None => return RangeSet::Full,
            Some(None) => {}
            Some(Some((a, b))) => {
                if ranges.len() == max_ranges {
                    return RangeSet::Full;
                }
                total = total.saturating_add(b - a + 1);
                ranges.push((a, b));
            }
        }
    }
    if total > size {
        return RangeSet::Full;
    }
    match ranges.len() {
        0 if listed == 0 => RangeSet::Full,
        0 => RangeSet::Unsatisfiable,
        1 => RangeSet::One { start: ranges[0].0, end: ranges[0].1 },
        _ => RangeSet::Many(ranges),
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
        assert_eq!(parse(b" bytes= 1 - 2 ", 10), Part { start: 1, end: 2 });
        assert_eq!(parse(b"bytes=10-", 10), Unsatisfiable);
        assert_eq!(parse(b"bytes=10-20", 10), Unsatisfiable);
        assert_eq!(parse(b"bytes=-0", 10), Unsatisfiable);
        assert_eq!(parse(b"bytes=0-", 0), Unsatisfiable);
        assert_eq!(parse(b"bytes=-5", 0), Unsatisfiable);
        for bad in [
            &b"bytes=5-2"[..],
            b"bytes=",
            b"bytes=-",
            b"bytes=a-b",
            b"items=0-1",
            b"bytes=0-1,3-4",
            b"bytes=99999999999999999999-",
        ] {
            assert_eq!(parse(bad, 10), Full, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn sets() {
        use RangeSet as S;
        let r = |v: &str| parse_set(v.as_bytes(), 100, MAX_RANGES);
        assert_eq!(r("bytes=0-9,20-29"), S::Many(vec![(0, 9), (20, 29)]));
        assert_eq!(r("bytes= 0-9 , 20-29 ,-5"), S::Many(vec![(0, 9), (20, 29), (95, 99)]));
        // Order is kept, not sorted.
        assert_eq!(r("bytes=50-59,0-9"), S::Many(vec![(50, 59), (0, 9)]));
        assert_eq!(r("bytes=0-9,,20-29,"), S::Many(vec![(0, 9), (20, 29)]));
        assert_eq!(r("bytes=0-9"), S::One { start: 0, end: 9 });
        assert_eq!(r("bytes=0-9,100-"), S::One { start: 0, end: 9 });
        assert_eq!(r("bytes=100-,-0,200-300"), S::Unsatisfiable);
        assert_eq!(r("bytes=100-"), S::Unsatisfiable);
        // Overlap adding up past the file: whole file; within it: kept.
        assert_eq!(r("bytes=0-59,50-99"), S::Full);
        assert_eq!(r("bytes=0-49,40-89"), S::Many(vec![(0, 49), (40, 89)]));
        assert_eq!(r("bytes=0-,-1"), S::Full);
        // Any spec that does not parse, another unit, nothing listed.
        for bad in
            ["bytes=0-9,x", "bytes=0-9,5-2", "bytes=0-9,-", "items=0-1,2-3", "bytes=,", "bytes=0-9,1-2-3"]
        {
            assert_eq!(r(bad), S::Full, "{bad}");
        }
        // The cap on the number of ranges.
        let list = |n: usize| (0..n).map(|i| format!("{i}-{i}")).collect::<Vec<_>>().join(",");
        assert!(matches!(r(&format!("bytes={}", list(MAX_RANGES))), S::Many(v) if v.len() == MAX_RANGES));
        assert_eq!(r(&format!("bytes={}", list(MAX_RANGES + 1))), S::Full);
        // Unsatisfiable ones do not count against it (as in nginx).
        assert_eq!(parse_set(b"bytes=0-1,200-,3-4", 100, 2), S::Many(vec![(0, 1), (3, 4)]));
        assert_eq!(parse_set(b"bytes=0-1,200-", 100, 1), S::One { start: 0, end: 1 });
        assert_eq!(parse_set(b"bytes=0-1,3-4", 100, 1), S::Full);
        // Ranges off: even an unsatisfiable one is ignored.
        assert_eq!(parse_set(b"bytes=500-", 100, 0), S::Full);
        // An empty file has no satisfiable range.
        assert_eq!(parse_set(b"bytes=0-1,2-3", 0, MAX_RANGES), S::Unsatisfiable);
    }
}
