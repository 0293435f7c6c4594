//! Connection commands: PING, ECHO, QUIT, SELECT, AUTH, HELLO, CLIENT, COMMAND.

use super::{Command, Ctx, FAST, NO_AUTH, NO_KEYS, SUBSCRIBED_OK};

macro_rules! cmd {
    ($name:expr, $arity:expr, $flags:expr, $h:expr) => {
        Command {
            name: $name,
            arity: $arity,
            flags: $flags | NO_KEYS,
            first_key: 0,
            last_key: 0,
            step: 0,
            group: "connection",
            handler: $h,
        }
    };
}

/// The connection commands.
pub static COMMANDS: &[Command] = &[
    cmd!("ping", -1, FAST | SUBSCRIBED_OK, ping),
    cmd!("echo", 2, FAST, echo),
    cmd!("quit", -1, FAST | NO_AUTH | SUBSCRIBED_OK, quit),
    cmd!("select", 2, FAST, select),
    cmd!("auth", -2, FAST | NO_AUTH, auth),
];

fn ping(ctx: &mut Ctx<'_>) {
    if ctx.c.proto == 2 && ctx.c.subs.total() > 0 && ctx.argc() <= 2 {
        // A subscribed RESP2 client gets PING's answer as a message.
        let m = if ctx.argc() == 2 { ctx.arg(1) } else { b"" };
        let mut r = ctx.reply();
        r.array_len(2);
        r.bulk(b"pong");
        return r.bulk(m);
    }
    match ctx.argc() {
        1 => ctx.reply().simple("PONG"),
        2 => {
            let m = ctx.arg(1);
            ctx.reply().bulk(m)
        }
        _ => ctx.error("ERR wrong number of arguments for 'ping' command"),
    }
}

fn echo(ctx: &mut Ctx<'_>) {
    let m = ctx.arg(1);
    ctx.reply().bulk(m);
}

fn quit(ctx: &mut Ctx<'_>) {
    ctx.ok();
    ctx.c.close_after_reply = true;
}

fn select(ctx: &mut Ctx<'_>) {
    let Some(n) = crate::util::num::parse_i64(ctx.arg(1)) else {
        return ctx.error("ERR value is not an integer or out of range");
    };
    if n < 0 || n as usize >= ctx.srv.dbs.len() {
        return ctx.error("ERR DB index is out of range");
    }
    ctx.c.db = n as usize;
    ctx.ok();
}

fn auth(ctx: &mut Ctx<'_>) {
    if ctx.argc() > 3 {
        return ctx.error("ERR syntax error");
    }
    let pass = ctx.arg(ctx.argc() - 1);
    let user_ok = ctx.argc() == 2 || ctx.arg(1) == b"default";
    if ctx.srv.config.requirepass.is_empty() && ctx.argc() == 2 {
        return ctx.error(
            "ERR AUTH <password> called without any password configured for the default user. \
             Are you sure your configuration is correct?",
        );
    }
    if user_ok && (pass == ctx.srv.config.requirepass.as_slice() || ctx.srv.config.requirepass.is_empty()) {
        ctx.c.authenticated = true;
        ctx.ok();
    } else {
        ctx.error("WRONGPASS invalid username-password pair or user is disabled.");
    }
}
