//! KEYS, SCAN and RANDOMKEY: walking the keyspace.

use super::super::{Ctx, NOT_INTEGER, SYNTAX};
use crate::db::Key;
use crate::resp::reply::Reply;
use crate::util::glob::glob_match;

/// KEYS pattern: every live key matching the glob (expired keys are
/// skipped, not deleted, as Redis's `keysCommand`).
pub(super) fn keys(ctx: &mut Ctx<'_>) {
    let pattern = ctx.arg(1);
    let all = pattern == b"*";
    let now = ctx.srv.now_ms;
    let db = &ctx.srv.dbs[ctx.c.db];
    let mut r = Reply::new(&mut ctx.c.out, ctx.c.proto);
    let at = r.defer();
    let mut n = 0;
    for (k, _) in db.keys.iter() {
        if (all || glob_match(pattern, k, false)) && !db.is_expired(k, now) {
            r.bulk(k);
            n += 1;
        }
    }
    r.end_array(at, n);
}

/// Parses a SCAN cursor as C's `strtoul` with Redis's checks: no leading
/// space, nothing after the digits, no overflow; a leading `-` negates
/// modulo 2^64 and an empty string is 0, as in Redis.
pub(crate) fn parse_cursor(s: &[u8]) -> Option<u64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return s.is_empty().then_some(0);
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type].
pub(super) fn scan(ctx: &mut Ctx<'_>) {
    let Some(mut cursor) = parse_cursor(ctx.arg(1)) else {
        return ctx.error("ERR invalid cursor");
    };
    let mut count: i64 = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut type_name: Option<&[u8]> = None;
    let mut i = 2;
    while i < ctx.argc() {
        let opt = ctx.arg(i);
        let has_value = ctx.argc() - i >= 2;
        if opt.eq_ignore_ascii_case(b"count") && has_value {
            let Some(n) = crate::util::num::parse_i64(ctx.arg(i + 1)) else {
                return ctx.error(NOT_INTEGER);
            };
            if n < 1 {
                return ctx.error(SYNTAX);
            }
            count = n;
        } else if opt.eq_ignore_ascii_case(b"match") && has_value {
            let p = ctx.arg(i + 1);
            pattern = (p != b"*").then_some(p);
        } else if opt.eq_ignore_ascii_case(b"type") && has_value {
            type_name = Some(ctx.arg(i + 1));
        } else {
            return ctx.error(SYNTAX);
        }
        i += 2;
    }

    // Collect: step through buckets until `count` keys were gathered, the
    // scan completed, or 10 * count buckets were visited (Redis's bound on
    // the work of one call over a sparse table).
    let mut found: Vec<Key> = Vec::new();
    let db = &ctx.srv.dbs[ctx.c.db];
    let count = count as usize;
    let mut budget = count.saturating_mul(10);
    loop {
        cursor = db.keys.scan(cursor, |k, _| found.push(k.clone()));
        if cursor == 0 || budget == 0 || found.len() >= count {
            break;
        }
        budget -= 1;
    }

    // Filter: by pattern, then drop expired keys (deleting them, as a
    // lookup does) and keys of another type.
    let now = ctx.srv.now_ms;
    let db = &mut ctx.srv.dbs[ctx.c.db];
    found.retain(|k| {
        if let Some(p) = pattern {
            if !glob_match(p, k, false) {
                return false;
            }
        }
        match db.peek_mut(k, now) {
            None => false,
            Some(e) => type_name.is_none_or(|t| t.eq_ignore_ascii_case(e.value.type_name().as_bytes())),
        }
    });

    let mut r = Reply::new(&mut ctx.c.out, ctx.c.proto);
    r.array_len(2);
    r.bulk(cursor.to_string().as_bytes());
    r.array_len(found.len());
    for k in &found {
        r.bulk(k);
    }
}

/// RANDOMKEY: a fair random live key (expired ones met on the way are
/// deleted), or nil.
pub(super) fn randomkey(ctx: &mut Ctx<'_>) {
    // A private generator seeded from the server's, so the dict can be
    // borrowed while it runs.
    let mut state = ctx.srv.random() | 1;
    let mut rng = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let now = ctx.srv.now_ms;
    let db = &mut ctx.srv.dbs[ctx.c.db];
    // While clients are paused expired keys stay; after 100 of them in a
    // row one is returned rather than loop for ever (as Redis on a replica).
    let mut tries = 100;
    let key = loop {
        let Some((k, _)) = db.keys.random_entry(&mut rng) else { break None };
        if !db.is_expired(k, now) {
            break Some(k.clone());
        }
        tries -= 1;
        if tries == 0 && db.expire_paused.get() {
            break Some(k.clone());
        }
        let k = k.clone();
        db.peek_mut(&k, now);
    };
    let mut r = Reply::new(&mut ctx.c.out, ctx.c.proto);
    match key {
        Some(k) => r.bulk(&k),
        None => r.null(),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_cursor;

    #[test]
    fn cursors_parse_as_strtoul_with_redis_checks() {
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"+5"), Some(5));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551616"), None);
        for bad in [&b"-"[..], b" 1", b"1a", b"abc", b"+", b" "] {
            assert_eq!(parse_cursor(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
