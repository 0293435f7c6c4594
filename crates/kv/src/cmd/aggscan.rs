//! What HSCAN and SSCAN (and ZSCAN) share: the cursor, the MATCH and COUNT
//! options, and the reply, as Redis's `scanGenericCommand` has them.

use super::{Ctx, SYNTAX};
use crate::resp::reply::Reply;

/// The error for a cursor that does not parse.
pub const INVALID_CURSOR: &str = "ERR invalid cursor";

/// Parses a cursor as Redis's `parseScanCursorOrReply`: C's `strtoul` in
/// base 10 over the whole argument. A leading space, trailing bytes or
/// overflow are refused; a sign is accepted (`-1` wraps to `u64::MAX`), and
/// the empty string is cursor 0, as `strtoul` reads them.
pub fn parse_cursor(arg: &[u8]) -> Option<u64> {
    // C strings stop at a NUL.
    let s = arg.split(|&b| b == 0).next().unwrap_or_default();
    if s.is_empty() {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// The options of a SCAN-family command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScanOpts<'a> {
    /// COUNT: how much work one call does (10 unless given).
    pub count: usize,
    /// MATCH: a glob over the element (the field, for HSCAN); `None` for
    /// none or `*`.
    pub pattern: Option<&'a [u8]>,
}

impl ScanOpts<'_> {
    /// Whether `elem` passes MATCH.
    pub fn matches(&self, elem: &[u8]) -> bool {
        self.pattern.is_none_or(|p| crate::util::glob::glob_match(p, elem, false))
    }
}

/// Parses `[MATCH pattern] [COUNT n]` from argument `from` on, replying
/// with Redis's error (and returning `None`) if they do not parse.
pub fn parse_opts<'a>(ctx: &mut Ctx<'a>, from: usize) -> Option<ScanOpts<'a>> {
    let mut opts = ScanOpts { count: 10, pattern: None };
    let mut i = from;
    while i < ctx.argc() {
        let more = i + 1 < ctx.argc();
        let opt = ctx.arg(i);
        if more && opt.eq_ignore_ascii_case(b"count") {
            let n = ctx.int_arg(i + 1)?;
            if n < 1 {
                ctx.error(SYNTAX);
                return None;
            }
            opts.count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if more && opt.eq_ignore_ascii_case(b"match") {
            let p = ctx.arg(i + 1);
            opts.pattern = if p == b"*" { None } else { Some(p) };
        } else {
            ctx.error(SYNTAX);
            return None;
        }
        i += 2;
    }
    Some(opts)
}

/// Redis's `emptyscan`: cursor 0 and no elements (a missing key).
pub fn reply_empty(r: &mut Reply<'_>) {
    r.array_len(2);
    r.bulk(b"0");
    r.array_len(0);
}

/// Writes `[cursor, [items...]]`.
pub fn reply_scan<T: AsRef<[u8]>>(r: &mut Reply<'_>, cursor: u64, items: &[T]) {
    r.array_len(2);
    r.bulk(cursor.to_string().as_bytes());
    r.array_len(items.len());
    for it in items {
        r.bulk(it.as_ref());
    }
}

#[cfg(test)]
mod tests {
    use super::parse_cursor;

    #[test]
    fn cursors_parse_as_strtoul() {
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"+7"), Some(7));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551616"), None);
        assert_eq!(parse_cursor(b" 0"), None);
        assert_eq!(parse_cursor(b"1x"), None);
        assert_eq!(parse_cursor(b"+"), None);
        assert_eq!(parse_cursor(b"x"), None);
        assert_eq!(parse_cursor(b"5\0junk"), Some(5));
    }
}
