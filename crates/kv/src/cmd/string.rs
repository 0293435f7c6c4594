//! String commands: GET, SET and its options, counters, ranges.

use super::{Command, Ctx, DENYOOM, FAST, NOT_INTEGER, READONLY, SYNTAX, WRITE};
use crate::db::{Str, Value, NO_EXPIRE, WRONGTYPE};
use crate::server::notify::{GENERIC, STRING};

/// Redis's `checkStringLength`: the longest string APPEND and SETRANGE may
/// make is `proto-max-bulk-len`, except when replaying the AOF.
fn max_string(ctx: &Ctx<'_>) -> i64 {
    if ctx.c.must_obey {
        i64::MAX
    } else {
        ctx.srv.config.proto_max_bulk_len
    }
}

macro_rules! cmd {
    ($name:expr, $arity:expr, $flags:expr, $first:expr, $last:expr, $step:expr, $h:expr) => {
        command!("string", $name, $arity, $flags, $first, $last, $step, $h)
    };
}

/// The string commands.
pub static COMMANDS: &[Command] = &[
    cmd!("get", 2, READONLY | FAST, 1, 1, 1, get),
    cmd!("set", -3, WRITE | DENYOOM, 1, 1, 1, set),
    cmd!("setnx", 3, WRITE | DENYOOM | FAST, 1, 1, 1, setnx),
    cmd!("setex", 4, WRITE | DENYOOM, 1, 1, 1, setex),
    cmd!("psetex", 4, WRITE | DENYOOM, 1, 1, 1, psetex),
    cmd!("getset", 3, WRITE | DENYOOM | FAST, 1, 1, 1, getset),
    cmd!("getdel", 2, WRITE | FAST, 1, 1, 1, getdel),
    cmd!("getex", -2, WRITE | FAST, 1, 1, 1, getex),
    cmd!("mget", -2, READONLY | FAST, 1, -1, 1, mget),
    cmd!("mset", -3, WRITE | DENYOOM, 1, -1, 2, mset),
    cmd!("msetnx", -3, WRITE | DENYOOM, 1, -1, 2, msetnx),
    cmd!("incr", 2, WRITE | DENYOOM | FAST, 1, 1, 1, incr),
    cmd!("decr", 2, WRITE | DENYOOM | FAST, 1, 1, 1, decr),
    cmd!("incrby", 3, WRITE | DENYOOM | FAST, 1, 1, 1, incrby),
    cmd!("decrby", 3, WRITE | DENYOOM | FAST, 1, 1, 1, decrby),
    cmd!("incrbyfloat", 3, WRITE | DENYOOM | FAST, 1, 1, 1, incrbyfloat),
    cmd!("append", 3, WRITE | DENYOOM | FAST, 1, 1, 1, append),
    cmd!("strlen", 2, READONLY | FAST, 1, 1, 1, strlen),
    cmd!("getrange", 4, READONLY, 1, 1, 1, getrange),
    cmd!("substr", 4, READONLY, 1, 1, 1, getrange),
    cmd!("setrange", 4, WRITE | DENYOOM, 1, 1, 1, setrange),
];

/// What a key holds, seen from a string command.
enum Lookup {
    Missing,
    WrongType,
    Found,
}

/// Looks up `key` as a string and, if found, calls `f` with it.
fn with_str<R>(ctx: &mut Ctx<'_>, key: &[u8], f: impl FnOnce(&Str) -> R) -> (Lookup, Option<R>) {
    match ctx.lookup(key) {
        None => {
            let db = ctx.c.db;
            crate::server::notify::log_miss(&mut ctx.srv.stats, &mut ctx.srv.miss_log, db, key);
            (Lookup::Missing, None)
        }
        Some(e) => match &e.value {
            Value::Str(s) => {
                let r = f(s);
                ctx.srv.stats.keyspace_hits += 1;
                (Lookup::Found, Some(r))
            }
            _ => {
                // Redis counts the lookup as a hit before checking the type.
                ctx.srv.stats.keyspace_hits += 1;
                (Lookup::WrongType, None)
            }
        },
    }
}

/// Replies with the string at `key`, nil, or WRONGTYPE; true unless WRONGTYPE.
fn reply_value(ctx: &mut Ctx<'_>, key: &[u8]) -> bool {
    let now = ctx.srv.now_ms;
    let lru = ctx.srv.lru_clock;
    let proto = ctx.c.proto;
    let out = &mut ctx.c.out;
    let mut r = crate::resp::reply::Reply::new(out, proto);
    match ctx.srv.dbs[ctx.c.db].get_mut(key, now) {
        None => {
            let db = ctx.c.db;
            crate::server::notify::log_miss(&mut ctx.srv.stats, &mut ctx.srv.miss_log, db, key);
            r.null();
            true
        }
        Some(e) => {
            e.lru = lru;
            // Redis counts the lookup as a hit before checking the type.
            ctx.srv.stats.keyspace_hits += 1;
            match &e.value {
                Value::Str(Str::Int(n)) => r.bulk_i64(*n),
                Value::Str(s) => r.bulk(s.as_bytes().expect("not an int")),
                _ => {
                    r.error(WRONGTYPE);
                    return false;
                }
            }
            true
        }
    }
}

fn get(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    reply_value(ctx, key);
}

/// How SET (or GETEX) sets the deadline.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Ttl {
    /// Clear any deadline (plain SET).
    Clear,
    /// Keep the current one (KEEPTTL; GETEX without options).
    Keep,
    /// Absolute Unix ms.
    At(i64),
    /// PERSIST (GETEX).
    Persist,
}

/// Parses an expire option's value: `unit_ms` is 1000 for seconds, 1 for
/// ms; `absolute` for EXAT/PXAT. Errors as Redis: "invalid expire time in
/// 'set' command" for non-positive or overflowing values.
fn expire_at(ctx: &mut Ctx<'_>, i: usize, unit_ms: i64, absolute: bool) -> Option<i64> {
    let v = ctx.int_arg(i)?;
    let at = if v <= 0 {
        None
    } else {
        v.checked_mul(unit_ms).and_then(|ms| if absolute { Some(ms) } else { ms.checked_add(ctx.srv.now_ms) })
    };
    if at.is_none() {
        let msg = format!("ERR invalid expire time in '{}' command", ctx.cmd.name);
        ctx.error(&msg);
    }
    at
}

fn set(ctx: &mut Ctx<'_>) {
    let (mut nx, mut xx, mut get_old) = (false, false, false);
    let mut ttl = Ttl::Clear;
    // As in Redis 7.0 the options are all checked for syntax before the
    // EX/PX/EXAT/PXAT value is read. A TTL option may be repeated (the last
    // value wins) but not mixed with another.
    let mut expire: Option<(usize, i64, bool)> = None;
    let mut ttl_opt: Option<Vec<u8>> = None;
    let mut i = 3;
    while i < ctx.argc() {
        let opt = ctx.arg(i).to_ascii_uppercase();
        let has_next = i + 1 < ctx.argc();
        let ttl_ok = ttl_opt.as_ref().is_none_or(|o| *o == opt);
        match opt.as_slice() {
            b"NX" if !xx => nx = true,
            b"XX" if !nx => xx = true,
            b"GET" => get_old = true,
            b"KEEPTTL" if ttl_ok => {
                ttl = Ttl::Keep;
                ttl_opt = Some(opt);
            }
            b"EX" | b"PX" | b"EXAT" | b"PXAT" if ttl_ok && has_next => {
                let unit = if opt[0] == b'E' { 1000 } else { 1 };
                expire = Some((i + 1, unit, opt.len() == 4));
                ttl_opt = Some(opt);
                i += 1;
            }
            _ => return ctx.error(SYNTAX),
        }
        i += 1;
    }
    if let Some((at_arg, unit, absolute)) = expire {
        let Some(at) = expire_at(ctx, at_arg, unit, absolute) else { return };
        ttl = Ttl::At(at);
    }
    let key = ctx.arg(1);
    let value = ctx.arg(2);
    set_generic(ctx, key, value, nx, xx, get_old, ttl);
}

#[allow(clippy::too_many_arguments)]
fn set_generic(ctx: &mut Ctx<'_>, key: &[u8], value: &[u8], nx: bool, xx: bool, get_old: bool, ttl: Ttl) {
    let now = ctx.srv.now_ms;
    let lru = ctx.srv.lru_clock;
    let db_index = ctx.c.db;
    // GET's lookupKeyRead counts a hit or miss and announces a miss; the
    // plain SET's lookupKeyWrite does neither.
    let old = if get_old {
        super::typed::lookup_value(ctx.srv, db_index, key).map(|v| &*v)
    } else if !nx && !xx && ctx.srv.dbs[db_index].prepare_overwrite(key, now) {
        // A plain SET does not care what was there: one probe, in `set`.
        None
    } else {
        ctx.srv.dbs[db_index].get(key, now).map(|e| &e.value)
    };
    let exists = old.is_some();
    let old_value = match old {
        Some(Value::Str(s)) if get_old => Some(s.to_vec()),
        Some(_) if get_old => return ctx.error(WRONGTYPE),
        _ => None,
    };
    if get_old {
        // GET's reply comes first, as Redis runs GET before it sets: a
        // RESP3 client subscribed to its own events gets the `keymiss`,
        // the reply, then `new` and `set`.
        ctx.srv.flush_key_misses(Some(&mut *ctx.c));
        let mut r = ctx.reply();
        match &old_value {
            Some(v) => r.bulk(v),
            None => r.null(),
        }
        ctx.srv.events_at = Some(ctx.c.out.len());
    }
    if (nx && exists) || (xx && !exists) {
        if !get_old {
            ctx.reply().null();
        }
        return;
    }
    let v = Value::Str(Str::from_bytes(value));
    let db = &mut ctx.srv.dbs[ctx.c.db];
    match ttl {
        Ttl::Keep => {
            db.set_keep_ttl(key, v, lru);
        }
        _ => {
            db.set(key, v, lru);
        }
    }
    if let Ttl::At(at) = ttl {
        db.set_expire(key, at);
    }
    ctx.touched(key);
    ctx.dirty(1);
    ctx.notify(STRING, "set", key);
    if let Ttl::At(_) = ttl {
        ctx.notify(GENERIC, "expire", key);
    }
    if !get_old {
        ctx.reply().ok();
    }
}

fn setnx(ctx: &mut Ctx<'_>) {
    let (key, value) = (ctx.arg(1), ctx.arg(2));
    let now = ctx.srv.now_ms;
    if ctx.srv.dbs[ctx.c.db].contains(key, now) {
        return ctx.reply().int(0);
    }
    let lru = ctx.srv.lru_clock;
    ctx.db().set(key, Value::Str(Str::from_bytes(value)), lru);
    ctx.touched(key);
    ctx.dirty(1);
    ctx.notify(STRING, "set", key);
    ctx.reply().int(1);
}

fn setex(ctx: &mut Ctx<'_>) {
    let Some(at) = expire_at(ctx, 2, 1000, false) else { return };
    let (key, value) = (ctx.arg(1), ctx.arg(3));
    set_generic(ctx, key, value, false, false, false, Ttl::At(at));
}

fn psetex(ctx: &mut Ctx<'_>) {
    let Some(at) = expire_at(ctx, 2, 1, false) else { return };
    let (key, value) = (ctx.arg(1), ctx.arg(3));
    set_generic(ctx, key, value, false, false, false, Ttl::At(at));
}

fn getset(ctx: &mut Ctx<'_>) {
    let (key, value) = (ctx.arg(1), ctx.arg(2));
    set_generic(ctx, key, value, false, false, true, Ttl::Clear);
}

fn getdel(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    if !reply_value(ctx, key) {
        return;
    }
    if ctx.db().remove(key).is_some() {
        ctx.touched(key);
        ctx.dirty(1);
        ctx.notify(GENERIC, "del", key);
    }
}

fn getex(ctx: &mut Ctx<'_>) {
    let mut ttl = Ttl::Keep;
    // Where the EX/PX/EXAT/PXAT value is, its unit and whether absolute:
    // as in Redis 7.0 it is read only once the key is known to be a string.
    let mut expire: Option<(usize, i64, bool)> = None;
    // An option may be repeated (the last value wins) but not mixed.
    let mut seen: Option<Vec<u8>> = None;
    let mut i = 2;
    while i < ctx.argc() {
        let opt = ctx.arg(i).to_ascii_uppercase();
        let has_next = i + 1 < ctx.argc();
        let ok = seen.as_ref().is_none_or(|o| *o == opt);
        match opt.as_slice() {
            b"PERSIST" if ok => {
                ttl = Ttl::Persist;
                seen = Some(opt);
            }
            b"EX" | b"PX" | b"EXAT" | b"PXAT" if ok && has_next => {
                let unit = if opt[0] == b'E' { 1000 } else { 1 };
                expire = Some((i + 1, unit, opt.len() == 4));
                seen = Some(opt);
                i += 1;
            }
            _ => return ctx.error(SYNTAX),
        }
        i += 1;
    }
    let key = ctx.arg(1);
    let now = ctx.srv.now_ms;
    let is_str = ctx.srv.dbs[ctx.c.db].get(key, now).map(|e| matches!(e.value, Value::Str(_)));
    if let (Some(true), Some((at_arg, unit, absolute))) = (is_str, expire) {
        let Some(at) = expire_at(ctx, at_arg, unit, absolute) else { return };
        ttl = Ttl::At(at);
    }
    if !reply_value(ctx, key) || is_str != Some(true) {
        return;
    }
    let event = match ttl {
        Ttl::At(at) if ctx.srv.already_expired(at) => {
            ctx.db().remove(key);
            "del"
        }
        Ttl::At(at) => {
            ctx.db().set_expire(key, at);
            "expire"
        }
        Ttl::Persist => {
            let had_ttl = ctx.db().keys.get(key).is_some_and(|e| e.has_ttl());
            ctx.db().set_expire(key, NO_EXPIRE);
            if !had_ttl {
                return;
            }
            "persist"
        }
        _ => return,
    };
    ctx.touched(key);
    ctx.dirty(1);
    ctx.notify(GENERIC, event, key);
}

fn mget(ctx: &mut Ctx<'_>) {
    let n = ctx.argc() - 1;
    ctx.reply().array_len(n);
    for i in 1..=n {
        let key = ctx.arg(i);
        let proto = ctx.c.proto;
        let mut r = crate::resp::reply::Reply::new(&mut ctx.c.out, proto);
        // lookupKeyRead for each key: hits and misses counted, misses
        // announced (`keymiss`).
        match super::typed::lookup_value(ctx.srv, ctx.c.db, key).map(|v| &*v) {
            Some(Value::Str(Str::Int(n))) => r.bulk_i64(*n),
            Some(Value::Str(s)) => r.bulk(s.as_bytes().expect("not an int")),
            _ => r.null(),
        }
    }
}

fn mset_pairs_ok(ctx: &mut Ctx<'_>) -> bool {
    if ctx.argc() % 2 == 0 {
        let msg = format!("ERR wrong number of arguments for '{}' command", ctx.cmd.name);
        ctx.error(&msg);
        return false;
    }
    true
}

fn mset_all(ctx: &mut Ctx<'_>) {
    let lru = ctx.srv.lru_clock;
    for i in (1..ctx.argc()).step_by(2) {
        let (k, v) = (ctx.arg(i), ctx.arg(i + 1));
        ctx.db().set(k, Value::Str(Str::from_bytes(v)), lru);
        ctx.touched(k);
        ctx.notify(STRING, "set", k);
    }
    ctx.dirty(((ctx.argc() - 1) / 2) as u64);
}

fn mset(ctx: &mut Ctx<'_>) {
    if mset_pairs_ok(ctx) {
        mset_all(ctx);
        ctx.ok();
    }
}

fn msetnx(ctx: &mut Ctx<'_>) {
    if !mset_pairs_ok(ctx) {
        return;
    }
    let now = ctx.srv.now_ms;
    for i in (1..ctx.argc()).step_by(2) {
        let k = ctx.arg(i);
        if ctx.srv.dbs[ctx.c.db].contains(k, now) {
            return ctx.reply().int(0);
        }
    }
    mset_all(ctx);
    ctx.reply().int(1);
}

/// INCR, DECR, INCRBY, DECRBY: adds `by` to the integer at `key`.
fn incr_generic(ctx: &mut Ctx<'_>, by: i64) {
    let key = ctx.arg(1);
    let now = ctx.srv.now_ms;
    let lru = ctx.srv.lru_clock;
    const OVERFLOW: &str = "ERR increment or decrement would overflow";
    let db = &mut ctx.srv.dbs[ctx.c.db];
    // One lookup: an existing value is replaced where it lies.
    let stored = match db.get_mut(key, now) {
        None => Ok(None),
        Some(e) => {
            let current = match &e.value {
                Value::Str(Str::Int(n)) => Ok(*n),
                Value::Str(s) => {
                    let mut buf = [0; 20];
                    crate::util::num::parse_i64(s.bytes(&mut buf)).ok_or(NOT_INTEGER)
                }
                _ => Err(WRONGTYPE),
            };
            current.and_then(|n| n.checked_add(by).ok_or(OVERFLOW)).map(|new| {
                e.value = Value::Str(Str::Int(new));
                e.lru = lru;
                Some(new)
            })
        }
    };
    let new = match stored {
        Ok(Some(new)) => new,
        Ok(None) => {
            // Absent: 0 + by, which cannot overflow.
            db.insert_new(key, Value::Str(Str::Int(by)), lru);
            by
        }
        Err(msg) => return ctx.error(msg),
    };
    ctx.touched(key);
    ctx.dirty(1);
    ctx.notify(STRING, "incrby", key);
    ctx.reply().int(new);
}

fn incr(ctx: &mut Ctx<'_>) {
    incr_generic(ctx, 1)
}

fn decr(ctx: &mut Ctx<'_>) {
    incr_generic(ctx, -1)
}

fn incrby(ctx: &mut Ctx<'_>) {
    if let Some(by) = ctx.int_arg(2) {
        incr_generic(ctx, by)
    }
}

fn decrby(ctx: &mut Ctx<'_>) {
    let Some(by) = ctx.int_arg(2) else { return };
    match by.checked_neg() {
        Some(n) => incr_generic(ctx, n),
        None => ctx.error("ERR decrement would overflow"),
    }
}

fn incrbyfloat(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let incr = ctx.arg(2);
    // lookupKeyWrite: no hit or miss counted, no `keymiss` event.
    let cur = match ctx.lookup(key).map(|e| &e.value) {
        None => b"0".to_vec(),
        Some(Value::Str(s)) => s.to_vec(),
        Some(_) => return ctx.wrongtype(),
    };
    let new = match crate::util::longdouble::incr_by_float(&cur, incr) {
        Ok(v) => v,
        Err(e) => return ctx.error(&format!("ERR {e}")),
    };
    let lru = ctx.srv.lru_clock;
    // Redis stores the sum as a plain string (`embstr`, or `raw` past 44
    // bytes), never as an `int`, even when it reads "3".
    let stored = Str::plain(&new);
    ctx.db().set_keep_ttl(key, Value::Str(stored), lru);
    ctx.touched(key);
    ctx.dirty(1);
    ctx.notify(STRING, "incrbyfloat", key);
    ctx.reply().bulk(&new);
}

fn append(ctx: &mut Ctx<'_>) {
    let (key, tail) = (ctx.arg(1), ctx.arg(2));
    let max = max_string(ctx);
    let now = ctx.srv.now_ms;
    let lru = ctx.srv.lru_clock;
    let db = &mut ctx.srv.dbs[ctx.c.db];
    let len = match db.get_mut(key, now) {
        None => {
            db.insert_new(key, Value::Str(Str::from_bytes(tail)), lru);
            tail.len()
        }
        Some(e) => match &mut e.value {
            Value::Str(s) => {
                if (s.len() + tail.len()) as i64 > max {
                    return ctx.error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
                }
                let v = s.make_raw();
                v.extend_from_slice(tail);
                e.lru = lru;
                v.len()
            }
            _ => return ctx.error(WRONGTYPE),
        },
    };
    ctx.touched(key);
    ctx.dirty(1);
    ctx.notify(STRING, "append", key);
    ctx.reply().int(len as i64);
}

fn strlen(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    match with_str(ctx, key, |s| s.len()) {
        (Lookup::WrongType, _) => ctx.wrongtype(),
        (_, n) => ctx.reply().int(n.unwrap_or(0) as i64),
    }
}

fn getrange(ctx: &mut Ctx<'_>) {
    // One error reply at most: the second is parsed only if the first is good.
    let Some(start) = ctx.int_arg(2) else { return };
    let Some(end) = ctx.int_arg(3) else { return };
    let key = ctx.arg(1);
    let (found, v) = with_str(ctx, key, |s| s.to_vec());
    let v = match found {
        Lookup::WrongType => return ctx.wrongtype(),
        _ => v.unwrap_or_default(),
    };
    let len = v.len() as i64;
    if start < 0 && end < 0 && start > end {
        return ctx.reply().bulk(b"");
    }
    let s = if start < 0 { (len + start).max(0) } else { start };
    let mut e = if end < 0 { (len + end).max(0) } else { end };
    if e >= len {
        e = len - 1;
    }
    if s > e || len == 0 {
        return ctx.reply().bulk(b"");
    }
    ctx.reply().bulk(&v[s as usize..=e as usize]);
}

fn setrange(ctx: &mut Ctx<'_>) {
    let Some(offset) = ctx.int_arg(2) else { return };
    let (key, value) = (ctx.arg(1), ctx.arg(3));
    if offset < 0 {
        return ctx.error("ERR offset is out of range");
    }
    let now = ctx.srv.now_ms;
    let lru = ctx.srv.lru_clock;
    let exists = match ctx.srv.dbs[ctx.c.db].get(key, now).map(|e| &e.value) {
        None => false,
        Some(Value::Str(_)) => true,
        Some(_) => return ctx.wrongtype(),
    };
    if value.is_empty() {
        let n = if exists { with_str(ctx, key, |s| s.len()).1.unwrap_or(0) } else { 0 };
        return ctx.reply().int(n as i64);
    }
    if offset.saturating_add(value.len() as i64) > max_string(ctx) {
        return ctx.error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    }
    let db = &mut ctx.srv.dbs[ctx.c.db];
    if !exists {
        db.insert_new(key, Value::Str(Str::Raw(Box::default())), lru);
    }
    let Some(e) = db.get_mut(key, now) else { return };
    let Value::Str(s) = &mut e.value else { return };
    let v = s.make_raw();
    let end = offset as usize + value.len();
    if v.len() < end {
        v.resize(end, 0);
    }
    v[offset as usize..end].copy_from_slice(value);
    let n = v.len();
    ctx.touched(key);
    ctx.dirty(1);
    ctx.notify(STRING, "setrange", key);
    ctx.reply().int(n as i64);
}
