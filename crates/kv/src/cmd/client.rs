//! CLIENT ID | SETNAME | GETNAME | LIST | INFO | KILL | REPLY | NO-EVICT |
//! NO-TOUCH | PAUSE | UNPAUSE | UNBLOCK | GETREDIR | SETINFO | HELP.

use super::Ctx;
use crate::server::client::Client;
use crate::server::pubsub::Kind;
use crate::server::Server;
use std::fmt::Write as _;

/// The error for a CLIENT SETNAME name with spaces or control bytes.
pub const BAD_NAME: &str = "ERR Client names cannot contain spaces, newlines or special characters.";

/// Whether `name` is a valid client name: printable ASCII without spaces.
pub fn valid_name(name: &[u8]) -> bool {
    name.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

const HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "    * ID <client-id>",
    "      Kill connections by client id.",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "NO-TOUCH (ON|OFF)",
    "    Will not touch LRU/LFU stats when this mode is on.",
    "HELP",
    "    Prints this help.",
];

/// Fixed per-client overhead counted in `tot-mem` (Redis's `client` struct
/// and its static reply buffer).
pub const CLIENT_OVERHEAD: usize = 16 * 1024 + 1024;

/// What `c`'s queued transaction holds (Redis's `multi-mem` counts the
/// queued arguments and the queue's slots).
fn multi_memory(c: &Client) -> usize {
    c.multi.as_ref().map_or(0, |m| {
        let slot = std::mem::size_of::<(super::Called, super::OwnedArgs)>();
        m.queue.iter().map(|(_, a)| a.heap_size()).sum::<usize>() + m.queue.capacity() * slot
    })
}

/// The memory `c` takes (CLIENT LIST `tot-mem`, and its share of MEMORY
/// STATS `clients.normal`), as Redis 7.0's `getClientMemoryUsage` adds it
/// up: its query buffer and argument list, its reply buffer, its queued
/// transaction, its watched keys and its pub/sub subscriptions (see
/// [`WatchedKeys`](super::tx::WatchedKeys) and
/// [`ClientSubs`](crate::server::pubsub::ClientSubs) for what each costs),
/// and the fixed overhead. Every part but the queued transaction is read
/// from a size kept current, so this is cheap enough to run after every
/// command while `maxmemory-clients` is on.
pub fn client_memory(c: &Client) -> usize {
    c.query_size()
        + c.parser.heap_size()
        + c.out.capacity()
        + multi_memory(c)
        + c.watched.memory()
        + c.subs.memory()
        + CLIENT_OVERHEAD
}

/// One CLIENT LIST line (without the newline), as Redis 7.0 prints it.
///
/// The reply buffer fields. Redis keeps a reply in a fixed buffer of up
/// to 16 KiB (`rbs` its size, `obl` the bytes in it) and what does not
/// fit in a list of blocks (`oll` the blocks, `omem` their memory, which
/// is what `client-output-buffer-limit` is checked against). Here every
/// reply goes to one growable buffer, which is both: `rbs` is its size
/// (between replies, the size the cron keeps, see
/// [`crate::server::reply_buffer`]), `rbp` the most it held lately,
/// `obl` its bytes not yet written, and `omem` those same bytes, which
/// are what the output-buffer limit is checked against here; `oll` is 1
/// while they are not 0 (the one buffer holds them), else 0. So a client
/// that keeps up shows `obl=0 oll=0 omem=0`, as with Redis, and one that
/// does not read shows the backlog in `omem`, growing towards the limit.
///
/// `running` is the command `c` is running, when `c` is the caller: as in
/// Redis, its arguments count in `argv-mem` and `tot-mem` (Redis's
/// `argv_len_sum`, plus a pointer per argument), which a client between
/// commands does not hold.
pub fn client_line(srv: &Server, c: &Client, running: Option<&super::args::Args<'_>>) -> String {
    use std::os::fd::AsRawFd;
    let mut flags = String::new();
    // Redis 7.0's letters, in its order.
    if c.replica {
        flags.push('S');
    }
    if c.master {
        flags.push('M');
    }
    if c.monitor {
        flags.push('O');
    }
    if c.subs.total() > 0 {
        flags.push('P');
    }
    if c.multi.is_some() {
        flags.push('x');
    }
    if c.blocked {
        flags.push('b');
    }
    if srv.watches.is_dirty(c.id) {
        flags.push('d');
    }
    if c.close_after_reply {
        flags.push('c');
    }
    if c.close_asap {
        flags.push('A');
    }
    if c.unix {
        flags.push('U');
    }
    if c.no_evict {
        flags.push('e');
    }
    if c.no_touch {
        flags.push('T');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let now = srv.now_ms;
    let qbuf = c.query_in_buffer();
    let qfree = c.query_size().saturating_sub(c.qlen);
    let obl = c.buffered_output();
    let multi_mem = multi_memory(c);
    let (argv_len, argc) =
        running.map_or((0, 0), |a| ((0..a.len()).map(|i| a.get(i).len()).sum::<usize>(), a.len()));
    let mut s = String::with_capacity(320);
    let _ = write!(
        s,
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} \
         qbuf={} qbuf-free={} argv-mem={} multi-mem={} rbs={} rbp={} obl={} oll={} omem={} tot-mem={} \
         events={} cmd={} user=default redir=-1 resp={}",
        c.id,
        c.addr,
        c.laddr,
        c.fd.as_raw_fd(),
        String::from_utf8_lossy(c.name.as_deref().unwrap_or_default()),
        (now / 1000).saturating_sub(c.created as i64).max(0),
        ((now - c.last_interaction) / 1000).max(0),
        flags,
        c.db,
        c.subs.len(Kind::Channel),
        c.subs.len(Kind::Pattern),
        c.subs.len(Kind::Shard),
        c.multi.as_ref().map_or(-1, |m| m.queue.len() as i64),
        qbuf,
        qfree,
        // The arguments of a command still arriving, or of the one running.
        c.parser.partial_args_len() + argv_len,
        multi_mem,
        c.out.capacity(),
        c.out_peak.max(c.out.len()),
        obl,
        usize::from(obl > 0),
        obl,
        client_memory(c) + argv_len + argc * std::mem::size_of::<usize>(),
        // Waiting for the socket to take more of the reply, as Redis's
        // writable handler shows.
        if c.wants_write { "rw" } else { "r" },
        c.last_cmd.map_or("NULL", |slot| slot.name()),
        c.proto,
    );
    s
}

/// Redis's client type for CLIENT LIST TYPE and CLIENT KILL TYPE: this
/// server's master connection is `master`, an attached replica `replica`,
/// a client with subscriptions `pubsub`, every other one `normal` (a
/// monitor too, as in Redis).
fn client_type(c: &Client) -> &'static str {
    if c.master {
        "master"
    } else if c.replica {
        "replica"
    } else if c.subs.total() > 0 {
        "pubsub"
    } else {
        "normal"
    }
}

/// The client type a TYPE argument names (`slave` is `replica`), or
/// `None` for an unknown one.
fn parse_type(arg: &[u8]) -> Option<&'static str> {
    match arg.to_ascii_lowercase().as_slice() {
        b"normal" => Some("normal"),
        b"pubsub" => Some("pubsub"),
        b"replica" | b"slave" => Some("replica"),
        b"master" => Some("master"),
        _ => None,
    }
}

/// Every client, the caller (not in the slab while its command runs)
/// included, in id order.
fn all_clients<'a>(srv: &'a Server, me: &'a Client) -> Vec<&'a Client> {
    let mut v: Vec<&Client> = srv.clients.iter().flatten().map(|b| &**b).collect();
    v.push(me);
    v.sort_by_key(|c| c.id);
    v
}

/// The blocking module's hook for CLIENT UNBLOCK: unblocks client `id`
/// (with a timeout reply, or `-UNBLOCKED` when `error`), returning whether
/// it was blocked.
pub fn unblock_client(srv: &mut Server, id: u64, error: bool) -> bool {
    crate::server::blocking::unblock_client(srv, id, error)
}

/// CLIENT.
pub fn client(ctx: &mut Ctx<'_>) {
    let sub = ctx.arg(1).to_ascii_lowercase();
    let argc = ctx.argc();
    match (sub.as_slice(), argc) {
        (b"help", 2) => super::server::help(ctx, HELP),
        (b"id", 2) => {
            let id = ctx.c.id as i64;
            ctx.reply().int(id)
        }
        (b"getname", 2) => match ctx.c.name.clone() {
            Some(n) => ctx.reply().bulk(&n),
            None => ctx.reply().null(),
        },
        (b"setname", 3) => {
            let n = ctx.arg(2);
            if !valid_name(n) {
                return ctx.error(BAD_NAME);
            }
            ctx.c.name = (!n.is_empty()).then(|| n.to_vec());
            ctx.ok()
        }
        (b"info", 2) => {
            let mut line = client_line(ctx.srv, ctx.c, Some(&ctx.args));
            line.push('\n');
            ctx.reply().verbatim(line.as_bytes())
        }
        (b"list", _) => list(ctx),
        (b"kill", 3..) => kill(ctx),
        (b"reply", 3) => match ctx.arg(2).to_ascii_lowercase().as_slice() {
            b"on" => {
                // Clears a SKIP too, so this very reply is sent, as in Redis.
                ctx.c.reply_off = false;
                ctx.c.reply_skip = false;
                ctx.ok()
            }
            b"off" => ctx.c.reply_off = true,
            b"skip" => {
                if !ctx.c.reply_off {
                    ctx.c.reply_skip_next = true;
                }
            }
            _ => ctx.error(super::SYNTAX),
        },
        (b"no-evict" | b"no-touch", 3) => {
            let on = match ctx.arg(2).to_ascii_lowercase().as_slice() {
                b"on" => true,
                b"off" => false,
                _ => return ctx.error(super::SYNTAX),
            };
            if sub == b"no-evict" {
                ctx.c.no_evict = on;
            } else {
                ctx.c.no_touch = on;
            }
            ctx.ok()
        }
        (b"pause", 3 | 4) => {
            // The mode is checked before the timeout, as in Redis.
            let write_only = match argc {
                4 if ctx.arg(3).eq_ignore_ascii_case(b"write") => true,
                4 if ctx.arg(3).eq_ignore_ascii_case(b"all") => false,
                4 => return ctx.error("ERR CLIENT PAUSE mode must be WRITE or ALL"),
                _ => false,
            };
            let Some(ms) = crate::util::num::parse_i64(ctx.arg(2)) else {
                return ctx.error("ERR timeout is not an integer or out of range");
            };
            if ms < 0 {
                return ctx.error("ERR timeout is negative");
            }
            let until = ctx.srv.now_ms.saturating_add(ms);
            crate::server::pause::pause(ctx.srv, crate::server::pause::Purpose::Client, until, write_only);
            ctx.ok()
        }
        (b"unpause", 2) => {
            crate::server::pause::unpause(ctx.srv, crate::server::pause::Purpose::Client);
            ctx.ok()
        }
        (b"unblock", 3 | 4) => {
            // The reason is checked before the id, as in Redis.
            let error = match argc {
                4 if ctx.arg(3).eq_ignore_ascii_case(b"error") => true,
                4 if ctx.arg(3).eq_ignore_ascii_case(b"timeout") => false,
                4 => return ctx.error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"),
                _ => false,
            };
            let Some(id) = crate::util::num::parse_i64(ctx.arg(2)) else {
                return ctx.error(super::NOT_INTEGER);
            };
            let done = id > 0 && unblock_client(ctx.srv, id as u64, error);
            ctx.reply().int(done as i64)
        }
        (b"getredir", 2) => ctx.reply().int(-1),
        (b"setinfo", 4) => {
            let attr = ctx.arg(2);
            if !(attr.eq_ignore_ascii_case(b"lib-name") || attr.eq_ignore_ascii_case(b"lib-ver")) {
                let msg = format!("ERR Unrecognized option '{}'", super::printable(attr, 128));
                return ctx.error(&msg);
            }
            ctx.ok()
        }
        _ => super::server::unknown_subcommand(
            ctx,
            "CLIENT",
            &[
                "help", "id", "getname", "setname", "info", "kill", "reply", "no-evict", "no-touch", "pause",
                "unpause", "unblock", "getredir", "setinfo",
            ],
        ),
    }
}

fn list(ctx: &mut Ctx<'_>) {
    let argc = ctx.argc();
    let mut ids: Option<Vec<u64>> = None;
    let mut only_type = None;
    if argc == 4 && ctx.arg(2).eq_ignore_ascii_case(b"type") {
        match parse_type(ctx.arg(3)) {
            Some(t) => only_type = Some(t),
            None => {
                let msg = format!("ERR Unknown client type '{}'", super::printable(ctx.arg(3), 128));
                return ctx.error(&msg);
            }
        }
    } else if argc > 3 && ctx.arg(2).eq_ignore_ascii_case(b"id") {
        let mut v = Vec::new();
        for i in 3..argc {
            match crate::util::num::parse_i64(ctx.arg(i)) {
                Some(n) if n > 0 => v.push(n as u64),
                _ => return ctx.error("ERR Invalid client ID"),
            }
        }
        ids = Some(v);
    } else if argc != 2 {
        return ctx.error(super::SYNTAX);
    }
    let mut text = String::new();
    for c in all_clients(ctx.srv, ctx.c) {
        if only_type.is_some_and(|t| t != client_type(c)) || ids.as_ref().is_some_and(|v| !v.contains(&c.id))
        {
            continue;
        }
        let running = (c.id == ctx.c.id).then_some(&ctx.args);
        text.push_str(&client_line(ctx.srv, c, running));
        text.push('\n');
    }
    ctx.reply().verbatim(text.as_bytes());
}

/// What CLIENT KILL's filters select.
#[derive(Default)]
struct KillFilter {
    addr: Option<Vec<u8>>,
    laddr: Option<Vec<u8>>,
    id: Option<u64>,
    /// TYPE: only clients of this type (see `client_type`).
    only_type: Option<&'static str>,
    user: Option<Vec<u8>>,
    skipme: bool,
}

impl KillFilter {
    fn matches(&self, c: &Client) -> bool {
        self.addr.as_ref().is_none_or(|a| a.as_slice() == c.addr.as_bytes())
            && self.laddr.as_ref().is_none_or(|a| a.as_slice() == c.laddr.as_bytes())
            && self.id.is_none_or(|id| id == c.id)
            && self.only_type.is_none_or(|t| t == client_type(c))
            && self.user.as_ref().is_none_or(|u| u.as_slice() == b"default")
    }
}

fn kill(ctx: &mut Ctx<'_>) {
    let argc = ctx.argc();
    let old_style = argc == 3;
    let mut f = KillFilter { skipme: true, ..KillFilter::default() };
    if old_style {
        f.addr = Some(ctx.arg(2).to_vec());
        f.skipme = false;
    } else if argc % 2 == 1 {
        return ctx.error(super::SYNTAX);
    } else {
        for i in (2..argc).step_by(2) {
            let (opt, val) = (ctx.arg(i).to_ascii_lowercase(), ctx.arg(i + 1));
            match opt.as_slice() {
                b"id" => match crate::util::num::parse_i64(val) {
                    Some(n) if n > 0 => f.id = Some(n as u64),
                    _ => return ctx.error("ERR client-id should be greater than 0"),
                },
                b"type" => match parse_type(val) {
                    Some(t) => f.only_type = Some(t),
                    None => {
                        let msg = format!("ERR Unknown client type '{}'", super::printable(val, 128));
                        return ctx.error(&msg);
                    }
                },
                b"addr" => f.addr = Some(val.to_vec()),
                b"laddr" => f.laddr = Some(val.to_vec()),
                // `default` is the only user (no ACL users here), so any
                // other name is Redis's unknown-user error.
                b"user" if val == b"default" => f.user = Some(val.to_vec()),
                b"user" => {
                    let msg = format!("ERR No such user '{}'", super::printable(val, 128));
                    return ctx.error(&msg);
                }
                b"skipme" => match val.to_ascii_lowercase().as_slice() {
                    b"yes" => f.skipme = true,
                    b"no" => f.skipme = false,
                    _ => return ctx.error(super::SYNTAX),
                },
                _ => return ctx.error(super::SYNTAX),
            }
        }
    }
    let mut killed = 0;
    for c in ctx.srv.clients.iter_mut().flatten() {
        if f.matches(c) && !c.close_asap {
            c.close_asap = true;
            killed += 1;
        }
    }
    if killed > 0 {
        ctx.srv.kill_pending = true;
    }
    let kill_me = !f.skipme && f.matches(ctx.c);
    if kill_me {
        killed += 1;
    }
    if old_style {
        if killed == 0 {
            return ctx.error("ERR No such client");
        }
        ctx.ok();
    } else {
        ctx.reply().int(killed);
    }
    if kill_me {
        ctx.c.close_after_reply = true;
    }
}
