//! The slow log: commands that took longer than `slowlog-log-slower-than`
//! microseconds, newest first, at most `slowlog-max-len` of them.

use super::{Args, Ctx};
use crate::server::client::Client;
use crate::server::Server;
use std::collections::VecDeque;

/// Arguments kept per entry; the rest are summarised.
const MAX_ARGC: usize = 32;
/// Bytes kept per argument; the rest are summarised.
const MAX_STRING: usize = 128;

/// One slow command.
#[derive(Debug, Clone)]
pub struct SlowEntry {
    /// Increasing id.
    pub id: u64,
    /// Unix time (seconds) the command ran.
    pub time: i64,
    /// How long it ran, in microseconds.
    pub micros: i64,
    /// Its arguments, shortened as Redis shortens them.
    pub args: Vec<Vec<u8>>,
    /// The client's address.
    pub addr: String,
    /// The client's name.
    pub name: Vec<u8>,
}

/// The log, newest entry first.
#[derive(Debug, Default)]
pub struct SlowLog {
    /// The entries, newest first.
    pub entries: VecDeque<SlowEntry>,
    /// The next entry's id.
    pub next_id: u64,
}

/// Records the command in `args` if it ran for `micros` or longer than the
/// threshold. The arguments the command redacted (AUTH's, HELLO's,
/// MIGRATE's and CONFIG SET's passwords) show as `(redacted)`, as in
/// MONITOR.
pub fn record(srv: &mut Server, c: &Client, args: &Args<'_>, micros: i64) {
    let threshold = srv.config.slowlog_log_slower_than;
    if threshold < 0 || micros < threshold {
        return;
    }
    let mut kept = Vec::with_capacity(args.len().min(MAX_ARGC));
    for (i, a) in args.iter().enumerate() {
        if i == MAX_ARGC - 1 && args.len() > MAX_ARGC {
            kept.push(format!("... ({} more arguments)", args.len() - i).into_bytes());
            break;
        }
        if c.redacted.contains(&i) {
            kept.push(b"(redacted)".to_vec());
        } else if a.len() > MAX_STRING {
            let mut s = a[..MAX_STRING].to_vec();
            s.extend_from_slice(format!("... ({} more bytes)", a.len() - MAX_STRING).as_bytes());
            kept.push(s);
        } else {
            kept.push(a.to_vec());
        }
    }
    let log = &mut srv.slowlog;
    log.entries.push_front(SlowEntry {
        id: log.next_id,
        time: srv.now_ms / 1000,
        micros,
        args: kept,
        addr: c.addr.clone(),
        name: c.name.clone().unwrap_or_default(),
    });
    log.next_id += 1;
    log.entries.truncate(srv.config.slowlog_max_len);
}

const HELP: &[&str] = &[
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
];

/// `SLOWLOG GET [n] | LEN | RESET | HELP`.
pub fn slowlog(ctx: &mut Ctx<'_>) {
    let sub = ctx.arg(1).to_ascii_lowercase();
    match (sub.as_slice(), ctx.argc()) {
        (b"help", 2) => super::server::help(ctx, HELP),
        (b"len", 2) => {
            let n = ctx.srv.slowlog.entries.len();
            ctx.reply().int(n as i64)
        }
        (b"reset", 2) => {
            ctx.srv.slowlog.entries.clear();
            ctx.ok()
        }
        (b"get", 2 | 3) => {
            let mut count = 10usize;
            if ctx.argc() == 3 {
                match crate::util::num::parse_i64(ctx.arg(2)) {
                    Some(-1) => count = usize::MAX,
                    Some(n) if n >= 0 => count = n as usize,
                    _ => return ctx.error("ERR count should be greater than or equal to -1"),
                }
            }
            let entries: Vec<SlowEntry> = ctx.srv.slowlog.entries.iter().take(count).cloned().collect();
            let mut r = ctx.reply();
            r.array_len(entries.len());
            for e in entries {
                r.array_len(6);
                r.int(e.id as i64);
                r.int(e.time);
                r.int(e.micros);
                r.array_len(e.args.len());
                for a in &e.args {
                    r.bulk(a);
                }
                r.bulk(e.addr.as_bytes());
                r.bulk(&e.name);
            }
        }
        _ => super::server::unknown_subcommand(ctx, "SLOWLOG", &["get", "len", "reset", "help"]),
    }
}
