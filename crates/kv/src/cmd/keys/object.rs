//! OBJECT ENCODING | REFCOUNT | IDLETIME | FREQ | HELP.

use super::super::Ctx;
use super::read_entry_with;
use crate::db::{Str, Value};
use crate::server::config::EvictionPolicy;
use crate::server::Server;

/// OBJECT HELP's lines, as Redis 7 prints them.
const HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

/// Redis's `OBJ_SHARED_REFCOUNT` (INT_MAX): the reference count reported
/// for shared objects.
const SHARED_REFCOUNT: i64 = i32::MAX as i64;

/// Redis's `OBJ_SHARED_INTEGERS`: strings holding 0..10000 are shared.
const SHARED_INTEGERS: i64 = 10_000;

/// The error OBJECT FREQ gives without an LFU policy.
const NO_LFU: &str = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

/// The error OBJECT IDLETIME gives under an LFU policy.
const NO_LRU: &str = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

/// The largest value of the 24-bit LRU clock (Redis's `LRU_CLOCK_MAX`).
const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;

/// What a subcommand reports about an entry.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Sub {
    Encoding,
    Refcount,
    Idletime,
    Freq,
}

pub(super) fn object(ctx: &mut Ctx<'_>) {
    let name = ctx.arg(1).to_ascii_lowercase();
    let sub = match name.as_slice() {
        b"help" => None,
        b"encoding" => Some(Sub::Encoding),
        b"refcount" => Some(Sub::Refcount),
        b"idletime" => Some(Sub::Idletime),
        b"freq" => Some(Sub::Freq),
        _ => {
            let msg = format!(
                "ERR unknown subcommand '{}'. Try OBJECT HELP.",
                super::super::printable(ctx.arg(1), 128)
            );
            return ctx.error(&msg);
        }
    };
    let want = if sub.is_none() { 2 } else { 3 };
    if ctx.argc() != want {
        let msg =
            format!("ERR wrong number of arguments for 'object|{}' command", String::from_utf8_lossy(&name));
        return ctx.error(&msg);
    }
    let Some(sub) = sub else {
        let mut r = ctx.reply();
        r.array_len(HELP.len());
        for line in HELP {
            r.simple(line);
        }
        return;
    };
    let can_share = can_share_integers(ctx.srv);
    let clock = ctx.srv.lru_clock;
    let lfu = ctx.srv.config.lfu();
    let db = ctx.c.db;
    // objectCommandLookup: LOOKUP_NOTOUCH | LOOKUP_NONOTIFY.
    let Some(e) = read_entry_with(ctx.srv, db, ctx.args.get(2), true, false) else {
        return ctx.reply().null();
    };
    match sub {
        Sub::Encoding => {
            let enc = e.value.encoding();
            ctx.reply().bulk(enc.as_bytes());
        }
        Sub::Refcount => {
            let shared = can_share && is_small_integer(&e.value);
            ctx.reply().int(if shared { SHARED_REFCOUNT } else { 1 });
        }
        Sub::Idletime if lfu.is_some() => ctx.error(NO_LRU),
        Sub::Idletime => {
            let idle = idle_seconds(e.lru, clock);
            ctx.reply().int(i64::from(idle));
        }
        Sub::Freq => match lfu {
            // Decayed to now, without counting this look as an access.
            Some(p) => {
                let freq = crate::lfu::decayed(e, p.decay_time, crate::lfu::minutes(clock));
                ctx.reply().int(i64::from(freq))
            }
            None => ctx.error(NO_LFU),
        },
    }
}

/// Whether Redis shares its integer objects under this configuration: with
/// `maxmemory` off or a policy other than LRU or LFU (they need a clock or
/// counter per object, so sharing is off).
fn can_share_integers(srv: &Server) -> bool {
    let p = srv.config.maxmemory_policy;
    srv.config.maxmemory == 0
        || !(p.is_lfu() || matches!(p, EvictionPolicy::AllKeysLru | EvictionPolicy::VolatileLru))
}

/// Whether Redis would hold `v` as one of its shared integers: a string
/// in `0..10000`.
fn is_small_integer(v: &Value) -> bool {
    matches!(v, Value::Str(Str::Int(n)) if (0..SHARED_INTEGERS).contains(n))
}

/// Seconds since `lru` on the wrapping 24-bit clock now at `clock`
/// (Redis's `estimateObjectIdleTime`).
fn idle_seconds(lru: u32, clock: u32) -> u32 {
    if clock >= lru {
        clock - lru
    } else {
        clock + (LRU_CLOCK_MAX - lru)
    }
}

#[cfg(test)]
mod tests {
    use super::idle_seconds;

    #[test]
    fn idle_time_handles_the_clock_wrapping() {
        assert_eq!(idle_seconds(100, 130), 30);
        assert_eq!(idle_seconds((1 << 24) - 11, 5), 15);
    }
}
