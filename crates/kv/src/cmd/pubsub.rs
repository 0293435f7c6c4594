//! Pub/sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH,
//! PUBSUB. The registry and delivery are in `server::pubsub`.

use super::{Command, Ctx, FAST, NO_KEYS, PUBSUB, SUBSCRIBED_OK};
use crate::server::client::Client;
use crate::server::pubsub::Kind;
use crate::server::Server;

macro_rules! cmd {
    ($name:expr, $arity:expr, $flags:expr, $first:expr, $last:expr, $h:expr) => {
        command!("pubsub", $name, $arity, $flags | PUBSUB, $first, $last, ($first != 0) as i32, $h)
    };
}

/// The pub/sub commands. Shard channels count as keys, as in Redis's
/// command table.
pub static COMMANDS: &[Command] = &[
    cmd!("subscribe", -2, SUBSCRIBED_OK | NO_KEYS, 0, 0, subscribe),
    cmd!("psubscribe", -2, SUBSCRIBED_OK | NO_KEYS, 0, 0, psubscribe),
    cmd!("ssubscribe", -2, SUBSCRIBED_OK, 1, -1, ssubscribe),
    cmd!("unsubscribe", -1, SUBSCRIBED_OK | NO_KEYS, 0, 0, unsubscribe),
    cmd!("punsubscribe", -1, SUBSCRIBED_OK | NO_KEYS, 0, 0, punsubscribe),
    cmd!("sunsubscribe", -1, SUBSCRIBED_OK, 1, -1, sunsubscribe),
    cmd!("publish", 3, FAST | NO_KEYS, 0, 0, publish),
    cmd!("spublish", 3, FAST, 1, 1, spublish),
    cmd!("pubsub", -2, NO_KEYS, 0, 0, pubsub),
];

fn kind_name(kind: Kind, sub: bool) -> &'static [u8] {
    match (kind, sub) {
        (Kind::Channel, true) => b"subscribe",
        (Kind::Pattern, true) => b"psubscribe",
        (Kind::Shard, true) => b"ssubscribe",
        (Kind::Channel, false) => b"unsubscribe",
        (Kind::Pattern, false) => b"punsubscribe",
        (Kind::Shard, false) => b"sunsubscribe",
    }
}

/// Writes a (un)subscription confirmation: `[kind, name, count]`.
fn confirm(c: &mut Client, kind: Kind, sub: bool, name: Option<&[u8]>) {
    let n = c.subs.count_for(kind);
    let from = c.out.len();
    let mut r = crate::resp::reply::Reply::new(&mut c.out, c.proto);
    r.push_len(3);
    r.bulk(kind_name(kind, sub));
    match name {
        Some(n) => r.bulk(n),
        None => r.null(),
    }
    r.int(n as i64);
    c.mark_push(from);
}

fn subscribe_generic(ctx: &mut Ctx<'_>, kind: Kind) {
    for i in 1..ctx.argc() {
        let name = ctx.arg(i);
        ctx.srv.pubsub.subscribe(ctx.c, kind, name);
        confirm(ctx.c, kind, true, Some(name));
    }
}

fn unsubscribe_generic(ctx: &mut Ctx<'_>, kind: Kind) {
    if ctx.argc() > 1 {
        for i in 1..ctx.argc() {
            let name = ctx.arg(i);
            ctx.srv.pubsub.unsubscribe(ctx.c, kind, name);
            confirm(ctx.c, kind, false, Some(name));
        }
    } else {
        unsubscribe_all(ctx.srv, ctx.c, kind, true);
    }
}

/// Unsubscribes `c` from every subscription of `kind`, confirming each
/// when `notify` (and with `[kind, nil, count]` if there were none).
pub fn unsubscribe_all(srv: &mut Server, c: &mut Client, kind: Kind, notify: bool) {
    let names = c.subs.names(kind);
    for name in &names {
        srv.pubsub.unsubscribe(c, kind, name);
        if notify {
            confirm(c, kind, false, Some(name));
        }
    }
    if notify && names.is_empty() {
        confirm(c, kind, false, None);
    }
}

/// Leaves every channel and pattern without replying (RESET).
pub fn reset_subscriptions(srv: &mut Server, c: &mut Client) {
    srv.pubsub.remove_client(c);
}

fn subscribe(ctx: &mut Ctx<'_>) {
    subscribe_generic(ctx, Kind::Channel);
}

fn psubscribe(ctx: &mut Ctx<'_>) {
    subscribe_generic(ctx, Kind::Pattern);
}

fn ssubscribe(ctx: &mut Ctx<'_>) {
    subscribe_generic(ctx, Kind::Shard);
}

fn unsubscribe(ctx: &mut Ctx<'_>) {
    unsubscribe_generic(ctx, Kind::Channel);
}

fn punsubscribe(ctx: &mut Ctx<'_>) {
    unsubscribe_generic(ctx, Kind::Pattern);
}

fn sunsubscribe(ctx: &mut Ctx<'_>) {
    unsubscribe_generic(ctx, Kind::Shard);
}

fn publish(ctx: &mut Ctx<'_>) {
    let (ch, msg) = (ctx.arg(1), ctx.arg(2));
    let n = ctx.srv.publish(Some(ctx.c), Kind::Channel, ch, msg);
    ctx.reply().int(n as i64);
}

fn spublish(ctx: &mut Ctx<'_>) {
    let (ch, msg) = (ctx.arg(1), ctx.arg(2));
    let n = ctx.srv.publish(Some(ctx.c), Kind::Shard, ch, msg);
    ctx.reply().int(n as i64);
}

const HELP: &[&str] = &[
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
];

fn pubsub(ctx: &mut Ctx<'_>) {
    let sub = ctx.arg(1).to_ascii_lowercase();
    // Subcommand arities as in Redis's table: exactly 2 or at least 2.
    let arity: i32 = match sub.as_slice() {
        b"help" | b"numpat" => 2,
        b"channels" | b"numsub" | b"shardchannels" | b"shardnumsub" => -2,
        _ => {
            let msg =
                format!("ERR unknown subcommand '{}'. Try PUBSUB HELP.", super::printable(ctx.arg(1), 128));
            return ctx.error(&msg);
        }
    };
    let argc = ctx.argc();
    if (arity >= 0 && argc != arity as usize) || argc < 2 {
        let msg =
            format!("ERR wrong number of arguments for 'pubsub|{}' command", String::from_utf8_lossy(&sub));
        return ctx.error(&msg);
    }
    match sub.as_slice() {
        b"help" => {
            ctx.reply().array_len(HELP.len());
            for l in HELP {
                ctx.reply().simple(l);
            }
        }
        b"numpat" => {
            let n = ctx.srv.pubsub.pattern_count();
            ctx.reply().int(n as i64);
        }
        b"channels" | b"shardchannels" => {
            if argc > 3 {
                let msg = format!(
                    "ERR unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
                    super::printable(ctx.arg(1), 128)
                );
                return ctx.error(&msg);
            }
            let kind = if sub.starts_with(b"shard") { Kind::Shard } else { Kind::Channel };
            let pat = (argc == 3).then(|| ctx.arg(2));
            let proto = ctx.c.proto;
            let list = ctx.srv.pubsub.active(kind, pat);
            let mut r = crate::resp::reply::Reply::new(&mut ctx.c.out, proto);
            r.array_len(list.len());
            for ch in list {
                r.bulk(ch);
            }
        }
        _ => {
            let kind = if sub.starts_with(b"shard") { Kind::Shard } else { Kind::Channel };
            ctx.reply().array_len((argc - 2) * 2);
            for i in 2..argc {
                let ch = ctx.arg(i);
                let n = ctx.srv.pubsub.subscribers(kind, ch);
                let mut r = ctx.reply();
                r.bulk(ch);
                r.int(n as i64);
            }
        }
    }
}
