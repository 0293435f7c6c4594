//! Connection commands: PING, ECHO, QUIT, SELECT, AUTH, HELLO, RESET.
//! (CLIENT is in `client.rs`; HELLO and RESET are registered in `server.rs`.)

use super::{Command, Ctx, FAST, NO_AUTH, NO_KEYS, SUBSCRIBED_OK};

macro_rules! cmd {
    ($name:expr, $arity:expr, $flags:expr, $h:expr) => {
        command!("connection", $name, $arity, $flags | NO_KEYS, 0, 0, 0, $h)
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
    // MONITOR shows the credentials as "(redacted)".
    ctx.c.redacted.extend(1..ctx.argc());
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

/// The error for a HELLO from a client that has not authenticated.
const HELLO_NOAUTH: &str = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time";

/// HELLO [protover [AUTH user pass] [SETNAME name]].
pub fn hello(ctx: &mut Ctx<'_>) {
    ctx.c.redacted = super::monitor::hello_redactions(&ctx.args);
    let mut ver = ctx.c.proto as i64;
    if ctx.argc() >= 2 {
        match crate::util::num::parse_i64(ctx.arg(1)) {
            Some(v) => ver = v,
            None => return ctx.error("ERR Protocol version is not an integer or out of range"),
        }
        // Redis checks the version before the options.
        if !(2..=3).contains(&ver) {
            return ctx.error("NOPROTO unsupported protocol version");
        }
    }
    let mut auth: Option<(&[u8], &[u8])> = None;
    let mut name: Option<&[u8]> = None;
    let mut j = 2;
    while j < ctx.argc() {
        let more = ctx.argc() - j - 1;
        let opt = ctx.arg(j);
        if opt.eq_ignore_ascii_case(b"auth") && more >= 2 {
            auth = Some((ctx.arg(j + 1), ctx.arg(j + 2)));
            j += 3;
        } else if opt.eq_ignore_ascii_case(b"setname") && more >= 1 {
            name = Some(ctx.arg(j + 1));
            j += 2;
        } else {
            let msg = format!("ERR Syntax error in HELLO option '{}'", super::printable(opt, 128));
            return ctx.error(&msg);
        }
    }
    if let Some((user, pass)) = auth {
        let want = &ctx.srv.config.requirepass;
        if user != b"default" || !(want.is_empty() || pass == want.as_slice()) {
            return ctx.error("WRONGPASS invalid username-password pair or user is disabled.");
        }
        ctx.c.authenticated = true;
    }
    if !ctx.c.authenticated && !ctx.srv.config.requirepass.is_empty() {
        return ctx.error(HELLO_NOAUTH);
    }
    if let Some(n) = name {
        if !super::client::valid_name(n) {
            return ctx.error(super::client::BAD_NAME);
        }
        ctx.c.name = (!n.is_empty()).then(|| n.to_vec());
    }
    ctx.c.proto = ver as u8;
    let id = ctx.c.id as i64;
    let mut r = ctx.reply();
    r.map_len(7);
    r.bulk(b"server");
    r.bulk(b"redis");
    r.bulk(b"version");
    r.bulk(super::info::REDIS_VERSION.as_bytes());
    r.bulk(b"proto");
    r.int(ver);
    r.bulk(b"id");
    r.int(id);
    r.bulk(b"mode");
    r.bulk(b"standalone");
    r.bulk(b"role");
    r.bulk(b"master");
    r.bulk(b"modules");
    r.array_len(0);
}

/// RESET: the connection back to its state after connecting: database 0,
/// RESP2, no name, replies on, and (when a password is set) not
/// authenticated. MULTI, WATCH and subscriptions are reset by their own
/// modules' hooks.
pub fn reset(ctx: &mut Ctx<'_>) {
    let c = &mut *ctx.c;
    c.db = 0;
    c.proto = 2;
    c.name = None;
    c.reply_off = false;
    c.reply_skip_next = false;
    c.no_evict = false;
    c.no_touch = false;
    c.authenticated = ctx.srv.config.requirepass.is_empty();
    ctx.srv.monitors.remove(c);
    // Redis's clearClientConnectionState: out of MULTI (and its watches)
    // and out of every channel and pattern, without a reply for either.
    super::tx::discard_transaction(ctx.srv, c);
    super::pubsub::reset_subscriptions(ctx.srv, c);
    ctx.reply().simple("RESET");
}
