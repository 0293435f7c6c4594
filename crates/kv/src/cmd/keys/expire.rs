//! EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (with NX, XX, GT, LT), TTL, PTTL,
//! EXPIRETIME, PEXPIRETIME and PERSIST.

use super::super::Ctx;
use super::{free_value, read_entry};
use crate::db::NO_EXPIRE;

/// EXPIRE's condition flags.
#[derive(Clone, Copy, Default, Debug)]
struct Cond {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl Cond {
    /// Whether the condition lets a key whose deadline is `current`
    /// ([`NO_EXPIRE`] for none, an infinite TTL) take the deadline `when`.
    fn allows(self, current: i64, when: i64) -> bool {
        let has_ttl = current != NO_EXPIRE;
        !(self.nx && has_ttl
            || self.xx && !has_ttl
            || self.gt && (!has_ttl || when <= current)
            || self.lt && has_ttl && when >= current)
    }
}

/// Parses the options after the time (Redis's
/// `parseExtendedExpireArgumentsOrReply`), replying with its errors.
fn parse_cond(ctx: &mut Ctx<'_>) -> Option<Cond> {
    let mut c = Cond::default();
    for i in 3..ctx.argc() {
        let opt = ctx.arg(i);
        if opt.eq_ignore_ascii_case(b"nx") {
            c.nx = true;
        } else if opt.eq_ignore_ascii_case(b"xx") {
            c.xx = true;
        } else if opt.eq_ignore_ascii_case(b"gt") {
            c.gt = true;
        } else if opt.eq_ignore_ascii_case(b"lt") {
            c.lt = true;
        } else {
            let msg = format!("ERR Unsupported option {}", String::from_utf8_lossy(opt));
            ctx.error(&msg);
            return None;
        }
    }
    if c.nx && (c.xx || c.gt || c.lt) {
        ctx.error("ERR NX and XX, GT or LT options at the same time are not compatible");
        return None;
    }
    if c.gt && c.lt {
        ctx.error("ERR GT and LT options at the same time are not compatible");
        return None;
    }
    Some(c)
}

pub(super) fn expire(ctx: &mut Ctx<'_>) {
    let now = ctx.now_ms();
    expire_generic(ctx, now, true);
}

pub(super) fn pexpire(ctx: &mut Ctx<'_>) {
    let now = ctx.now_ms();
    expire_generic(ctx, now, false);
}

pub(super) fn expireat(ctx: &mut Ctx<'_>) {
    expire_generic(ctx, 0, true);
}

pub(super) fn pexpireat(ctx: &mut Ctx<'_>) {
    expire_generic(ctx, 0, false);
}

/// Redis's `expireGenericCommand`: the time is relative to `base_ms` (now,
/// or 0 for the AT forms), in seconds when `seconds`. Negative times are
/// allowed; overflow is an error. A deadline already past deletes the key
/// (replying 1, as a successful EXPIRE).
fn expire_generic(ctx: &mut Ctx<'_>, base_ms: i64, seconds: bool) {
    let Some(cond) = parse_cond(ctx) else { return };
    let Some(t) = ctx.int_arg(2) else { return };
    let when = if seconds { t.checked_mul(1000) } else { Some(t) };
    let Some(when) = when.and_then(|w| w.checked_add(base_ms)) else {
        let msg = format!("ERR invalid expire time in '{}' command", ctx.cmd.name);
        return ctx.error(&msg);
    };
    let key = ctx.arg(1);
    let now = ctx.now_ms();
    if ctx.db().get(key, now).is_none() {
        return ctx.reply().int(0);
    }
    if !cond.allows(ctx.db().expire_at(key), when) {
        return ctx.reply().int(0);
    }
    if ctx.srv.already_expired(when) {
        // Redis replicates this as a DEL (or UNLINK with
        // lazyfree-lazy-expire) and publishes a `del` event.
        let v = ctx.db().remove(key).expect("looked up above");
        let lazy = ctx.srv.config.lazyfree_lazy_expire;
        free_value(ctx.srv, v, lazy);
        ctx.touched(key);
        ctx.notify(crate::server::notify::GENERIC, "del", key);
        ctx.reply().int(1);
    } else {
        // The reply before the `expire` event, as Redis orders them (a
        // RESP3 client subscribed to its own events sees it).
        ctx.db().set_expire(key, when);
        ctx.reply().int(1);
        ctx.touched(key);
        ctx.notify(crate::server::notify::GENERIC, "expire", key);
    }
    ctx.dirty(1);
}

/// Redis's `ttlGenericCommand`: -2 for a missing key, -1 without a
/// deadline; else the time left (or the deadline when `absolute`), in ms
/// or rounded to the nearest second.
fn ttl_generic(ctx: &mut Ctx<'_>, ms: bool, absolute: bool) {
    let db = ctx.c.db;
    let now = ctx.now_ms();
    let key = ctx.args.get(1);
    let found = read_entry(ctx.srv, db, key, true).is_some();
    let at = ctx.srv.dbs[db].expire_at(key);
    let reply = match found {
        false => -2,
        true if at == NO_EXPIRE => -1,
        true => {
            let t = if absolute { at } else { at - now }.max(0);
            if ms {
                t
            } else {
                // (t + 500) / 1000 without overflowing near i64::MAX
                // (PEXPIREAT key 9223372036854775807): Redis's reply is
                // the rounded value.
                t / 1000 + (t % 1000 + 500) / 1000
            }
        }
    };
    ctx.reply().int(reply);
}

pub(super) fn ttl(ctx: &mut Ctx<'_>) {
    ttl_generic(ctx, false, false);
}

pub(super) fn pttl(ctx: &mut Ctx<'_>) {
    ttl_generic(ctx, true, false);
}

pub(super) fn expiretime(ctx: &mut Ctx<'_>) {
    ttl_generic(ctx, false, true);
}

pub(super) fn pexpiretime(ctx: &mut Ctx<'_>) {
    ttl_generic(ctx, true, true);
}

/// PERSIST key: 1 if a deadline was removed.
pub(super) fn persist(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let now = ctx.now_ms();
    let had = ctx.db().get(key, now).is_some_and(|e| e.has_ttl());
    if had {
        ctx.db().set_expire(key, NO_EXPIRE);
        ctx.touched(key);
        ctx.notify(crate::server::notify::GENERIC, "persist", key);
        ctx.dirty(1);
    }
    ctx.reply().int(had as i64);
}

#[cfg(test)]
mod tests {
    use super::{Cond, NO_EXPIRE};

    fn c(nx: bool, xx: bool, gt: bool, lt: bool) -> Cond {
        Cond { nx, xx, gt, lt }
    }

    #[test]
    fn conditions_follow_redis_with_no_ttl_as_infinite() {
        let none = c(false, false, false, false);
        assert!(none.allows(NO_EXPIRE, 5) && none.allows(10, 5));
        let nx = c(true, false, false, false);
        assert!(nx.allows(NO_EXPIRE, 5) && !nx.allows(10, 5));
        let xx = c(false, true, false, false);
        assert!(!xx.allows(NO_EXPIRE, 5) && xx.allows(10, 5));
        let gt = c(false, false, true, false);
        assert!(!gt.allows(NO_EXPIRE, 5) && !gt.allows(10, 10) && gt.allows(10, 11));
        let lt = c(false, false, false, true);
        assert!(lt.allows(NO_EXPIRE, 5) && !lt.allows(10, 10) && lt.allows(10, 9));
        let xx_gt = c(false, true, true, false);
        assert!(!xx_gt.allows(NO_EXPIRE, 5) && xx_gt.allows(10, 11) && !xx_gt.allows(10, 9));
        let xx_lt = c(false, true, false, true);
        assert!(!xx_lt.allows(NO_EXPIRE, 5) && xx_lt.allows(10, 9));
    }
}
