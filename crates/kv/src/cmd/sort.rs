//! SORT and SORT_RO (Redis 7.0's `sort.c`).
//!
//! `SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC]
//! [ALPHA] [STORE destination]` sorts the elements of a list, set or sorted
//! set. A pattern's `*` is replaced by an element to name another key (a
//! string), or with `key->field` a hash field; `GET #` is the element
//! itself. Without ALPHA the sort is numeric (C's `strtod` reads each
//! value, and one that is not a number fails the whole command with "One
//! or more scores can't be converted into double"; a missing value counts
//! as 0 and equal scores fall back to comparing the elements); with ALPHA
//! it compares bytes (`strcoll` in the C locale, binary with STORE). A BY
//! pattern without `*` (`nosort`) keeps the value's own order: a list's,
//! or a sorted set's by score, with LIMIT and DESC applied to that order.
//! A set has no order of its own, so `BY nosort STORE` sorts it by ALPHA
//! instead, as Redis does, to keep the stored list deterministic.
//!
//! STORE writes the result (the GET values, `""` for missing ones) as a
//! list, replacing the destination and its TTL, fires `sortstore` and
//! replies with its length; an empty result deletes the destination
//! instead (`del`). SORT_RO is SORT without STORE. As Redis 7.0 does, both
//! convert a sorted set they read to the skiplist encoding.

use super::typed::lookup_value;
use super::{Command, Ctx, DENYOOM, NOT_INTEGER, READONLY, SYNTAX, WRITE};
use crate::db::Value;
use crate::server::notify::{GENERIC, LIST};
use crate::server::Server;
use crate::types::list::ListValue;
use crate::util::until_nul as c_str;
use std::cmp::Ordering;

/// SORT and SORT_RO.
pub static COMMANDS: &[Command] = &[
    command!("generic", "sort", -2, WRITE | DENYOOM, 1, 1, 1, sort),
    command!("generic", "sort_ro", -2, READONLY, 1, 1, 1, sort_ro),
];

/// The error when a value does not read as a number.
pub const NOT_DOUBLE: &str = "ERR One or more scores can't be converted into double";

/// The parsed options.
struct Opts<'a> {
    desc: bool,
    alpha: bool,
    limit_start: i64,
    limit_count: i64,
    by: Option<&'a [u8]>,
    dontsort: bool,
    store: Option<&'a [u8]>,
    gets: Vec<&'a [u8]>,
}

/// One element being sorted: its bytes, its numeric score and, for ALPHA
/// with BY, the value it sorts by.
struct Item {
    elem: Vec<u8>,
    score: f64,
    cmp: Option<Vec<u8>>,
}

fn sort(ctx: &mut Ctx<'_>) {
    sort_generic(ctx, false);
}

fn sort_ro(ctx: &mut Ctx<'_>) {
    sort_generic(ctx, true);
}

/// Parses the options as `sortCommandGeneric` does, replying with its
/// error (and returning `None`) at the first bad one.
fn parse<'a>(ctx: &mut Ctx<'a>, readonly: bool) -> Option<Opts<'a>> {
    let mut o = Opts {
        desc: false,
        alpha: false,
        limit_start: 0,
        limit_count: -1,
        by: None,
        dontsort: false,
        store: None,
        gets: Vec::new(),
    };
    let argc = ctx.argc();
    let mut j = 2;
    while j < argc {
        let left = argc - j - 1;
        let a = ctx.arg(j);
        if a.eq_ignore_ascii_case(b"asc") {
            o.desc = false;
        } else if a.eq_ignore_ascii_case(b"desc") {
            o.desc = true;
        } else if a.eq_ignore_ascii_case(b"alpha") {
            o.alpha = true;
        } else if a.eq_ignore_ascii_case(b"limit") && left >= 2 {
            let start = crate::util::num::parse_i64(ctx.arg(j + 1));
            let count = crate::util::num::parse_i64(ctx.arg(j + 2));
            match (start, count) {
                (Some(s), Some(c)) => (o.limit_start, o.limit_count) = (s, c),
                _ => {
                    ctx.error(NOT_INTEGER);
                    return None;
                }
            }
            j += 2;
        } else if !readonly && a.eq_ignore_ascii_case(b"store") && left >= 1 {
            o.store = Some(ctx.arg(j + 1));
            j += 1;
        } else if a.eq_ignore_ascii_case(b"by") && left >= 1 {
            let by = ctx.arg(j + 1);
            o.by = Some(by);
            // A pattern without '*' names no key: nothing to sort by (and,
            // as in Redis, a later BY with a '*' does not undo that).
            if !c_str(by).contains(&b'*') {
                o.dontsort = true;
            }
            j += 1;
        } else if a.eq_ignore_ascii_case(b"get") && left >= 1 {
            o.gets.push(ctx.arg(j + 1));
            j += 1;
        } else {
            ctx.error(SYNTAX);
            return None;
        }
        j += 1;
    }
    Some(o)
}

/// The value a pattern names for `elem` (Redis's `lookupKeyByPattern`):
/// `#` is the element; otherwise the first `*` is replaced by it to name a
/// string key, or, with `->field` after the `*`, a field of a hash. A
/// pattern without `*` names nothing. Lookups count as keyspace hits or
/// misses, as Redis's do.
fn lookup_by_pattern(srv: &mut Server, db: usize, pattern: &[u8], elem: &[u8]) -> Option<Vec<u8>> {
    let cpat = c_str(pattern);
    if cpat == b"#" {
        return Some(elem.to_vec());
    }
    let star = cpat.iter().position(|&b| b == b'*')?;
    let after = &cpat[star + 1..];
    let arrow = after.windows(2).position(|w| w == b"->").filter(|&f| f + 2 < after.len());
    let (postfix, field) = match arrow {
        Some(f) => (&pattern[star + 1..star + 1 + f], Some(&pattern[star + 1 + f + 2..])),
        None => (&pattern[star + 1..], None),
    };
    let mut key = Vec::with_capacity(star + elem.len() + postfix.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(postfix);
    match (lookup_value(srv, db, &key)?, field) {
        (Value::Hash(h), Some(field)) => h.get(field).map(<[u8]>::to_vec),
        (Value::Str(s), None) => Some(s.to_vec()),
        _ => None,
    }
}

/// Reads a sort weight as Redis does: C's `strtod` up to the first NUL,
/// which skips leading white space and must consume everything; no
/// conversion at all (an empty string) reads as 0; NaN, overflow and
/// underflow (`ERANGE`, subnormals included) are errors.
pub fn sort_score(b: &[u8]) -> Option<f64> {
    let s = c_str(b);
    if s.is_empty() {
        return Some(0.0);
    }
    let body = &s[s.iter().position(|b| !matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))?..];
    let v = crate::util::num::parse_f64(body)?;
    (v == 0.0 || v.abs() >= f64::MIN_POSITIVE).then_some(v)
}

/// The elements of the value at `key`, loaded as `sortCommandGeneric`
/// loads them, and the inclusive output range `(start, end)` within them
/// (empty when `end < start`). With `BY nosort` on a list or sorted set
/// only the LIMIT range is loaded, in DESC order if asked, and the range
/// then covers all of it. `Err(())` for a value that cannot be sorted.
fn load(srv: &mut Server, db: usize, key: &[u8], o: &Opts<'_>) -> Result<(Vec<Vec<u8>>, i64, i64), ()> {
    let v = lookup_value(srv, db, key);
    let (len, ordered) = match v.as_deref() {
        None => (0, true),
        Some(Value::List(l)) => (l.len(), true),
        Some(Value::Set(s)) => (s.len(), false),
        Some(Value::ZSet(z)) => (z.len(), true),
        Some(_) => return Err(()),
    };
    let len = len as i64;
    let mut start = o.limit_start.max(0).min(len);
    let count = o.limit_count.max(-1).min(len);
    let mut end = if count < 0 { len - 1 } else { start + count - 1 };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }
    // Where the value's own order is kept, only the range is loaded.
    let ranged = o.dontsort && ordered;
    let (skip, take) =
        if ranged { (start.max(0) as usize, (end - start + 1).max(0) as usize) } else { (0, usize::MAX) };
    let items: Vec<Vec<u8>> = match v {
        None => Vec::new(),
        Some(Value::List(l)) if ranged && o.desc => {
            l.iter().rev().skip(skip).take(take).map(<[u8]>::to_vec).collect()
        }
        Some(Value::List(l)) => l.iter().skip(skip).take(take).map(<[u8]>::to_vec).collect(),
        Some(Value::Set(s)) => s.iter().map(|m| m.into_owned()).collect(),
        Some(Value::ZSet(z)) => {
            z.convert_to_skiplist();
            if ranged && o.desc {
                z.iter().rev().skip(skip).take(take).map(|(m, _)| m.to_vec()).collect()
            } else {
                z.iter().skip(skip).take(take).map(|(m, _)| m.to_vec()).collect()
            }
        }
        Some(_) => return Err(()),
    };
    if ranged && end >= start {
        (end, start) = (end - start, 0);
    }
    Ok((items, start, end))
}

/// Whether the value at `key` is a set (without touching stats or LRU).
fn is_set(srv: &Server, db: usize, key: &[u8]) -> bool {
    srv.dbs[db].keys.get(key).is_some_and(|e| matches!(e.value, Value::Set(_)))
}

/// Compares two items as Redis's `sortCompare`.
fn compare(a: &Item, b: &Item, o: &Opts<'_>, by_pattern: bool) -> Ordering {
    let coll = |x: &[u8], y: &[u8]| if o.store.is_some() { x.cmp(y) } else { c_str(x).cmp(c_str(y)) };
    let ord = if !o.alpha {
        match a.score.partial_cmp(&b.score) {
            Some(Ordering::Equal) | None => a.elem.cmp(&b.elem),
            Some(ord) => ord,
        }
    } else if by_pattern {
        match (&a.cmp, &b.cmp) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => coll(x, y),
        }
    } else {
        coll(&a.elem, &b.elem)
    };
    if o.desc {
        ord.reverse()
    } else {
        ord
    }
}

fn sort_generic(ctx: &mut Ctx<'_>, readonly: bool) {
    let Some(mut o) = parse(ctx, readonly) else { return };
    let (db, key) = (ctx.c.db, ctx.arg(1));
    if o.dontsort && o.store.is_some() && is_set(ctx.srv, db, key) {
        // A set has no order to keep: sort it so the stored list (and a
        // replica's or the AOF's copy of it) is deterministic.
        o.dontsort = false;
        o.alpha = true;
        o.by = None;
    }
    let Ok((elems, start, end)) = load(ctx.srv, db, key, &o) else {
        return ctx.wrongtype();
    };
    let mut items: Vec<Item> = elems.into_iter().map(|elem| Item { elem, score: 0.0, cmp: None }).collect();
    let mut bad_number = false;
    if !o.dontsort {
        for it in &mut items {
            let by_value = match o.by {
                Some(by) => match lookup_by_pattern(ctx.srv, db, by, &it.elem) {
                    Some(v) => Some(v),
                    None => continue,
                },
                None => None,
            };
            if o.alpha {
                it.cmp = by_value;
            } else {
                match sort_score(by_value.as_deref().unwrap_or(&it.elem)) {
                    Some(s) => it.score = s,
                    None => bad_number = true,
                }
            }
        }
        if !bad_number {
            let by_pattern = o.by.is_some();
            items.sort_by(|a, b| compare(a, b, &o, by_pattern));
        }
    }
    if bad_number {
        return ctx.error(NOT_DOUBLE);
    }
    let range = if end >= start { &items[start as usize..=end as usize] } else { &items[..0] };
    let per = o.gets.len().max(1);
    let outputlen = range.len() * per;
    let Some(dst) = o.store else {
        ctx.reply().array_len(outputlen);
        for it in range {
            if o.gets.is_empty() {
                ctx.reply().bulk(&it.elem);
            }
            for &pat in &o.gets {
                match lookup_by_pattern(ctx.srv, db, pat, &it.elem) {
                    Some(v) => ctx.reply().bulk(&v),
                    None => ctx.reply().null(),
                }
            }
        }
        return;
    };
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(outputlen);
    for it in range {
        if o.gets.is_empty() {
            out.push(it.elem.clone());
        }
        for &pat in &o.gets {
            out.push(lookup_by_pattern(ctx.srv, db, pat, &it.elem).unwrap_or_default());
        }
    }
    store(ctx, dst, out);
}

/// Writes the result list to `dst` (or deletes `dst` when it is empty)
/// and replies with its length.
fn store(ctx: &mut Ctx<'_>, dst: &[u8], out: Vec<Vec<u8>>) {
    let n = out.len();
    let (now, lru) = (ctx.now_ms(), ctx.srv.lru_clock);
    if n > 0 {
        let list = ListValue::from_items(&out, &ctx.srv.config.encoding);
        ctx.db().set(dst, Value::List(Box::new(list)), lru);
        ctx.touched(dst);
        ctx.notify(LIST, "sortstore", dst);
        ctx.dirty(n as u64);
    } else {
        let db = ctx.db();
        if db.contains(dst, now) && db.remove(dst).is_some() {
            ctx.touched(dst);
            ctx.notify(GENERIC, "del", dst);
            ctx.dirty(1);
        }
    }
    ctx.reply().int(n as i64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_read_as_strtod_reads_them() {
        assert_eq!(sort_score(b""), Some(0.0));
        assert_eq!(sort_score(b" 4"), Some(4.0));
        assert_eq!(sort_score(b"0x10"), Some(16.0));
        assert_eq!(sort_score(b"1e3"), Some(1000.0));
        assert_eq!(sort_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(sort_score(b"3\0junk"), Some(3.0));
        assert_eq!(sort_score(b"4 "), None);
        assert_eq!(sort_score(b" "), None);
        assert_eq!(sort_score(b"nan"), None);
        assert_eq!(sort_score(b"1e400"), None);
        assert_eq!(sort_score(b"1e-310"), None);
        assert_eq!(sort_score(b"a"), None);
    }
}
