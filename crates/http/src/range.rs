//! `Range: bytes=...` for one range (RFC 9110 §14).
//!
//! One range gets a 206 with `Content-Range`; a range that starts past
//! the end gets a 416 with `Content-Range: bytes */size`. A header with
//! several ranges is answered with the whole file (200), which the RFC
//! allows (a server may ignore Range), as is a header that does not parse.

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

/// Interprets the value of a `Range` header for a file of `size` bytes.
///
/// ```
/// use spindle_http::range::{parse, RangeSpec};
/// assert_eq!(parse(b"bytes=0-9", 100), RangeSpec::Part { start: 0, end: 9 });
/// assert_eq!(parse(b"bytes=-10", 100), RangeSpec::Part { start: 90, end: 99 });
/// assert_eq!(parse(b"bytes=100-", 100), RangeSpec::Unsatisfiable);
/// assert_eq!(parse(b"bytes=0-1,5-6", 100), RangeSpec::Full);
/// ```
pub fn parse(value: &[u8], size: u64) -> RangeSpec {
    let v = trim(value);
    let Some(spec) = v.strip_prefix(b"bytes=") else { return RangeSpec::Full };
    let spec = trim(spec);
    if spec.contains(&b',') {
        return RangeSpec::Full;
    }
    let Some(dash) = spec.iter().position(|&c| c == b'-') else { return RangeSpec::Full };
    let (a, b) = (trim(&spec[..dash]), trim(&spec[dash + 1..]));
    match (a.is_empty(), b.is_empty()) {
        // bytes=-n: the last n bytes.
        (true, false) => match num(b) {
            Some(0) => RangeSpec::Unsatisfiable,
            Some(_) if size == 0 => RangeSpec::Unsatisfiable,
            Some(n) => RangeSpec::Part { start: size.saturating_sub(n), end: size - 1 },
            None => RangeSpec::Full,
        },
        // bytes=a-: from a to the end.
        (false, true) => match num(a) {
            Some(s) if s >= size => RangeSpec::Unsatisfiable,
            Some(s) => RangeSpec::Part { start: s, end: size - 1 },
            None => RangeSpec::Full,
        },
        (false, false) => match (num(a), num(b)) {
            (Some(s), Some(e)) if s > e => RangeSpec::Full,
            (Some(s), Some(_)) if s >= size => RangeSpec::Unsatisfiable,
            (Some(s), Some(e)) => RangeSpec::Part { start: s, end: e.min(size - 1) },
            _ => RangeSpec::Full,
        },
        (true, true) => RangeSpec::Full,
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
}
