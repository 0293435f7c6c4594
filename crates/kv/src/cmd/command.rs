//! COMMAND [COUNT | INFO | DOCS | LIST | GETKEYS | HELP]: the command table
//! as Redis 7 describes it, so redis-cli and client libraries can use it.

use super::{
    docs, getkeys, meta, Command, Ctx, ADMIN, BLOCKING, DENYOOM, FAST, NO_AUTH, NO_MULTI, PUBSUB, READONLY,
    WRITE,
};
use crate::resp::reply::Reply;

/// Subcommands of the container commands: (parent, name, arity). The
/// dispatcher ([`super::registry`]) refuses any other subcommand of a
/// container, so the scripting containers list Redis's every subcommand
/// (their handlers answer that scripting is not supported).
pub(super) const SUBCOMMANDS: &[(&str, &str, i32)] = &[
    ("client", "getname", 2),
    ("client", "getredir", 2),
    ("client", "help", 2),
    ("client", "id", 2),
    ("client", "info", 2),
    ("client", "kill", -3),
    ("client", "list", -2),
    ("client", "no-evict", 3),
    ("client", "no-touch", 3),
    ("client", "pause", -3),
    ("client", "reply", 3),
    ("client", "setinfo", 4),
    ("client", "setname", 3),
    ("client", "unblock", -3),
    ("client", "unpause", 2),
    ("command", "count", 2),
    ("command", "docs", -2),
    ("command", "getkeys", -4),
    ("command", "getkeysandflags", -4),
    ("command", "help", 2),
    ("command", "info", -2),
    ("command", "list", -2),
    ("cluster", "addslots", -3),
    ("cluster", "addslotsrange", -4),
    ("cluster", "bumpepoch", 2),
    ("cluster", "count-failure-reports", 3),
    ("cluster", "countkeysinslot", 3),
    ("cluster", "delslots", -3),
    ("cluster", "delslotsrange", -4),
    ("cluster", "failover", -2),
    ("cluster", "flushslots", 2),
    ("cluster", "forget", 3),
    ("cluster", "getkeysinslot", 4),
    ("cluster", "help", 2),
    ("cluster", "info", 2),
    ("cluster", "keyslot", 3),
    ("cluster", "links", 2),
    ("cluster", "meet", -4),
    ("cluster", "myid", 2),
    ("cluster", "nodes", 2),
    ("cluster", "replicas", 3),
    ("cluster", "replicate", 3),
    ("cluster", "reset", -2),
    ("cluster", "saveconfig", 2),
    ("cluster", "set-config-epoch", 3),
    ("cluster", "setslot", -4),
    ("cluster", "shards", 2),
    ("cluster", "slaves", 3),
    ("cluster", "slots", 2),
    ("config", "get", -3),
    ("config", "help", 2),
    ("config", "resetstat", 2),
    ("config", "rewrite", 2),
    ("config", "set", -4),
    ("function", "delete", 3),
    ("function", "dump", 2),
    ("function", "flush", -2),
    ("function", "help", 2),
    ("function", "kill", 2),
    ("function", "list", -2),
    ("function", "load", -3),
    ("function", "restore", -3),
    ("function", "stats", 2),
    ("latency", "doctor", 2),
    ("latency", "graph", 3),
    ("latency", "help", 2),
    ("latency", "histogram", -2),
    ("latency", "history", 3),
    ("latency", "latest", 2),
    ("latency", "reset", -2),
    ("memory", "doctor", 2),
    ("memory", "help", 2),
    ("memory", "malloc-stats", 2),
    ("memory", "purge", 2),
    ("memory", "stats", 2),
    ("memory", "usage", -3),
    ("object", "encoding", 3),
    ("object", "freq", 3),
    ("object", "help", 2),
    ("object", "idletime", 3),
    ("object", "refcount", 3),
    ("pubsub", "channels", -2),
    ("pubsub", "help", 2),
    ("pubsub", "numpat", 2),
    ("pubsub", "numsub", -2),
    ("pubsub", "shardchannels", -2),
    ("pubsub", "shardnumsub", -2),
    ("script", "debug", 3),
    ("script", "exists", -3),
    ("script", "flush", -2),
    ("script", "help", 2),
    ("script", "kill", 2),
    ("script", "load", 3),
    ("slowlog", "get", -2),
    ("slowlog", "help", 2),
    ("slowlog", "len", 2),
    ("slowlog", "reset", 2),
];

/// The flag names COMMAND reports, for our flag bits.
pub(super) const FLAG_NAMES: &[(u32, &str)] = &[
    (WRITE, "write"),
    (READONLY, "readonly"),
    (DENYOOM, "denyoom"),
    (ADMIN, "admin"),
    (PUBSUB, "pubsub"),
    (BLOCKING, "blocking"),
    (FAST, "fast"),
    (NO_AUTH, "no_auth"),
    (NO_MULTI, "no_multi"),
];

/// Redis's ACL category order.
const CATEGORY_ORDER: &[&str] = &[
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// The ACL categories (without `@`) of a command with `flags` in `group`.
pub fn categories(flags: u32, group: &str) -> Vec<&'static str> {
    let mut have: Vec<&str> = Vec::new();
    let flag_cats =
        [(WRITE, "write"), (READONLY, "read"), (ADMIN, "admin"), (PUBSUB, "pubsub"), (BLOCKING, "blocking")];
    for (bit, cat) in flag_cats {
        if flags & bit != 0 {
            have.push(cat);
        }
    }
    if flags & ADMIN != 0 {
        have.push("dangerous");
    }
    have.push(if flags & FAST != 0 { "fast" } else { "slow" });
    have.push(match group {
        "generic" => "keyspace",
        "sorted_set" | "sorted-set" | "zset" => "sortedset",
        "transactions" => "transaction",
        other => other,
    });
    CATEGORY_ORDER.iter().copied().filter(|c| have.contains(c)).collect()
}

/// Key positions as COMMAND INFO shows them: (first, last, step).
type KeyRange = (i32, i32, i32);

fn write_info(r: &mut Reply<'_>, name: &str, arity: i32, cmd: &Command, keys: KeyRange, subs: bool) {
    let meta = meta::lookup(name);
    r.array_len(10);
    r.bulk(name.as_bytes());
    r.int(arity as i64);
    match meta {
        Some(meta) => meta.write_flags(r),
        None => {
            let mut flags: Vec<&str> =
                FLAG_NAMES.iter().filter(|(b, _)| cmd.flags & b != 0).map(|(_, n)| *n).collect();
            // Redis lists `movablekeys` after the other flags we report.
            if subs && getkeys::key_num(cmd.name).is_some() {
                flags.push("movablekeys");
            }
            r.set_len(flags.len());
            for f in flags {
                r.simple(f);
            }
        }
    }
    r.int(keys.0 as i64);
    r.int(keys.1 as i64);
    r.int(keys.2 as i64);
    match meta {
        Some(meta) => meta.write_acl_tips_specs(r),
        None => {
            let cats = categories(cmd.flags, cmd.group);
            r.set_len(cats.len());
            for c in cats {
                r.simple(&format!("@{c}"));
            }
            r.set_len(0);
            r.set_len(0);
        }
    }
    let mine: Vec<_> = SUBCOMMANDS.iter().filter(|s| subs && s.0 == cmd.name).collect();
    if mine.is_empty() {
        // Redis writes "no subcommands" as an empty set, a list as an array.
        r.set_len(0);
    } else {
        r.array_len(mine.len());
        for (parent, sub, arity) in mine {
            let first = getkeys::subcommand_first_key(parent, sub);
            let keys = if first > 0 { (first, first, 1) } else { (0, 0, 0) };
            write_info(r, &format!("{parent}|{sub}"), *arity, cmd, keys, false);
        }
    }
}

/// A top-level command's key range for COMMAND INFO: Redis reports
/// `0 0 0` for a command without keys of its own (a container such as
/// OBJECT, or one whose keys follow a count, such as LMPOP).
fn key_range(cmd: &Command) -> KeyRange {
    if cmd.first_key <= 0 || SUBCOMMANDS.iter().any(|s| s.0 == cmd.name) {
        (0, 0, 0)
    } else {
        (cmd.first_key, cmd.last_key, cmd.step)
    }
}

/// COMMAND DOCS for one command: Redis's own entry where we have it (see
/// [`docs`]), otherwise a minimal one.
fn write_docs(r: &mut Reply<'_>, cmd: &Command) {
    r.bulk(cmd.name.as_bytes());
    if docs::write(r, cmd.name) {
        return;
    }
    let mine: Vec<_> = SUBCOMMANDS.iter().filter(|s| s.0 == cmd.name).collect();
    r.map_len(if mine.is_empty() { 3 } else { 4 });
    r.bulk(b"summary");
    r.bulk(format!("The {} command", cmd.name.to_ascii_uppercase()).as_bytes());
    r.bulk(b"since");
    r.bulk(b"1.0.0");
    r.bulk(b"group");
    r.bulk(cmd.group.as_bytes());
    if !mine.is_empty() {
        r.bulk(b"subcommands");
        r.map_len(mine.len());
        for (parent, sub, _) in mine {
            r.bulk(format!("{parent}|{sub}").as_bytes());
            r.map_len(3);
            r.bulk(b"summary");
            r.bulk(
                format!("The {} {} subcommand", parent.to_ascii_uppercase(), sub.to_ascii_uppercase())
                    .as_bytes(),
            );
            r.bulk(b"since");
            r.bulk(b"1.0.0");
            r.bulk(b"group");
            r.bulk(cmd.group.as_bytes());
        }
    }
}

const HELP: &[&str] = &[
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
    "HELP",
    "    Prints this help.",
];

/// Every command in this server's table: all of them, less those
/// `rename-command` removed.
fn listed_commands() -> impl Iterator<Item = &'static Command> {
    super::all_commands().filter(|c| super::rename::listed(c.name))
}

/// COMMAND.
pub fn command(ctx: &mut Ctx<'_>) {
    let argc = ctx.argc();
    if argc == 1 {
        let all: Vec<&Command> = listed_commands().collect();
        let mut r = ctx.reply();
        r.array_len(all.len());
        for c in all {
            write_info(&mut r, c.name, c.arity, c, key_range(c), true);
        }
        return;
    }
    let sub = ctx.arg(1).to_ascii_lowercase();
    match (sub.as_slice(), argc) {
        (b"help", 2) => super::server::help(ctx, HELP),
        (b"count", 2) => {
            let n = listed_commands().count();
            ctx.reply().int(n as i64)
        }
        (b"info", _) => {
            let found: Vec<Option<&Command>> = if argc == 2 {
                listed_commands().map(Some).collect()
            } else {
                (2..argc).map(|i| super::lookup(ctx.arg(i))).collect()
            };
            let mut r = ctx.reply();
            r.array_len(found.len());
            for c in found {
                match c {
                    Some(c) => write_info(&mut r, c.name, c.arity, c, key_range(c), true),
                    None => r.null(),
                }
            }
        }
        (b"docs", _) => {
            let found: Vec<&Command> = if argc == 2 {
                listed_commands().collect()
            } else {
                (2..argc).filter_map(|i| super::lookup(ctx.arg(i))).collect()
            };
            let mut r = ctx.reply();
            r.map_len(found.len());
            for c in found {
                write_docs(&mut r, c);
            }
        }
        (b"list", _) => list(ctx),
        (b"getkeys", 4..) => getkeys::getkeys(ctx, false),
        (b"getkeysandflags", 4..) => getkeys::getkeys(ctx, true),
        _ => super::server::unknown_subcommand(
            ctx,
            "COMMAND",
            &["count", "info", "docs", "list", "getkeys", "getkeysandflags", "help"],
        ),
    }
}

/// The ACL categories (without `@`) COMMAND reports for `name`, a command
/// or `parent|sub` of the container `cmd`.
fn acl_categories(name: &str, cmd: &Command) -> Vec<&'static str> {
    match meta::lookup(name) {
        Some(m) => m.acl.iter().map(|c| c.trim_start_matches('@')).collect(),
        None => categories(cmd.flags, cmd.group),
    }
}

/// Whether COMMAND LIST names a command or subcommand (full name, and the
/// command or container it belongs to).
type ListFilter = dyn Fn(&str, &Command) -> bool;

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT cat | PATTERN glob]:
/// every command and subcommand (as `parent|sub`) that passes the filter.
fn list(ctx: &mut Ctx<'_>) {
    let mut filter: Box<ListFilter> = Box::new(|_, _| true);
    // Anything but no option or one FILTERBY is a syntax error, as in Redis.
    if ctx.argc() != 2 && ctx.argc() != 5 {
        return ctx.error(super::SYNTAX);
    }
    if ctx.argc() == 5 {
        if !ctx.arg(2).eq_ignore_ascii_case(b"filterby") {
            return ctx.error(super::SYNTAX);
        }
        let val = ctx.arg(4).to_vec();
        match ctx.arg(3).to_ascii_lowercase().as_slice() {
            b"module" => filter = Box::new(|_, _| false),
            b"aclcat" => {
                let cat = String::from_utf8_lossy(&val).to_ascii_lowercase();
                filter = Box::new(move |name, c| acl_categories(name, c).contains(&cat.as_str()))
            }
            b"pattern" => {
                filter = Box::new(move |name, _| crate::util::glob::glob_match(&val, name.as_bytes(), true))
            }
            _ => return ctx.error(super::SYNTAX),
        }
    }
    let mut names: Vec<String> = Vec::new();
    for c in listed_commands() {
        if filter(c.name, c) {
            names.push(c.name.to_string());
        }
        for (parent, sub, _) in SUBCOMMANDS.iter().filter(|s| s.0 == c.name) {
            let full = format!("{parent}|{sub}");
            if filter(&full, c) {
                names.push(full);
            }
        }
    }
    let mut r = ctx.reply();
    r.array_len(names.len());
    for n in names {
        r.bulk(n.as_bytes());
    }
}
