//! MONITOR and ROLE, and Redis 7.0's rules for what a monitor sees and
//! what a monitoring client may still run. The feed itself is in
//! `server::monitor`.
//!
//! What is shown: every command that ran (inside EXEC too, between the
//! MULTI and EXEC lines, as Redis 7.0 shows them), except administrative
//! ones (`admin` in COMMAND INFO, judged per subcommand: CLIENT ID is
//! shown, CLIENT LIST is not) and commands refused before they ran
//! (unknown command or subcommand, wrong arity, NOAUTH, ...). A blocked
//! command is shown once, when it is called, not again when it is served.
//!
//! What a monitor may run: Redis marks a monitor as a replica, and a
//! replica may not touch the keyspace: a read, a write or a command that
//! may replicate (PUBLISH, ...) gets `ERR Replica can't interact with the
//! keyspace`. PING, ECHO, CLIENT, HELLO, SUBSCRIBE, RESET and QUIT run.

use super::command::SUBCOMMANDS;
use super::{meta, Args, Command, Ctx, ADMIN, NO_KEYS, READONLY, WRITE};

macro_rules! cmd {
    ($name:expr, $arity:expr, $flags:expr, $h:expr) => {
        command!("server", $name, $arity, $flags | NO_KEYS, 0, 0, 0, $h)
    };
}

/// MONITOR and ROLE.
pub static COMMANDS: &[Command] = &[cmd!("monitor", 1, ADMIN, monitor), cmd!("role", 1, super::FAST, role)];

/// The error for a monitor's command that touches the keyspace.
pub const REPLICA_KEYSPACE: &str = "ERR Replica can't interact with the keyspace";

/// Commands Redis 7.0 flags `may_replicate` (not reported by its COMMAND
/// INFO), by their full names.
const MAY_REPLICATE: &[&str] = &[
    "publish",
    "spublish",
    "eval",
    "evalsha",
    "fcall",
    "pfcount",
    "script|flush",
    "script|load",
    "function|delete",
    "function|flush",
    "function|load",
    "function|restore",
];

/// The name Redis's command table knows a call by: `parent|sub` for a
/// container's known subcommand with the right arity, the command's own
/// name for any other command, or `None` when Redis would have refused the
/// call before running it (unknown subcommand, wrong subcommand arity).
fn full_name(cmd: &Command, args: &Args<'_>) -> Option<String> {
    let mut subs = SUBCOMMANDS.iter().filter(|s| s.0 == cmd.name).peekable();
    if subs.peek().is_none() {
        return Some(cmd.name.to_string());
    }
    let sub = args.get(1);
    let (parent, name, arity) = subs.find(|s| s.1.as_bytes().eq_ignore_ascii_case(sub))?;
    let argc = args.len();
    let ok =
        (*arity >= 0 && argc == *arity as usize) || (*arity < 0 && argc >= arity.unsigned_abs() as usize);
    ok.then(|| format!("{parent}|{name}"))
}

/// Whether Redis 7.0 shows this call to monitors.
pub fn shown(cmd: &Command, args: &Args<'_>) -> bool {
    let Some(name) = full_name(cmd, args) else { return false };
    match meta::lookup(&name) {
        Some(m) => !m.flags.contains(&"admin"),
        None => cmd.flags & ADMIN == 0,
    }
}

/// Whether a monitoring client is refused this call: it reads, writes or
/// may replicate.
pub fn refused_to_monitor(cmd: &Command, args: &Args<'_>) -> bool {
    let name = full_name(cmd, args).unwrap_or_else(|| cmd.name.to_string());
    let flags = match meta::lookup(&name) {
        Some(m) => m.flags.iter().any(|f| *f == "write" || *f == "readonly"),
        None => cmd.flags & (WRITE | READONLY) != 0,
    };
    flags || MAY_REPLICATE.contains(&name.as_str())
}

/// MONITOR: the client sees every command from now on. Refused inside
/// EXEC (a client that expects one reply per command); ignored, without a
/// reply, from a client that already monitors.
fn monitor(ctx: &mut Ctx<'_>) {
    if ctx.c.deny_blocking {
        return ctx.error("ERR MONITOR isn't allowed for DENY BLOCKING client");
    }
    if ctx.srv.monitors.add(ctx.c) {
        ctx.ok();
    }
}

/// ROLE: a master says `master`, its replication offset and its online
/// replicas (ip, listening port, acknowledged offset, the last two as
/// strings, as Redis sends them); a replica says `slave`, its master's
/// host and port, the link's state and its offset (-1 while down).
fn role(ctx: &mut Ctx<'_>) {
    if let Some(m) = ctx.srv.master.as_ref() {
        let (host, port, state) = (m.host.clone(), m.port, m.role_state());
        let offset = if m.is_up() { m.offset as i64 } else { -1 };
        let mut r = ctx.reply();
        r.array_len(5);
        r.bulk(b"slave");
        r.bulk(host.as_bytes());
        r.int(i64::from(port));
        r.bulk(state.as_bytes());
        r.int(offset);
        return;
    }
    let offset = ctx.srv.repl.master_offset();
    let replicas = ctx.srv.repl.role_entries(ctx.srv);
    let mut r = ctx.reply();
    r.array_len(3);
    r.bulk(b"master");
    r.int(offset as i64);
    r.array_len(replicas.len());
    for (ip, port, ack) in replicas {
        r.array_len(3);
        r.bulk(ip.as_bytes());
        r.bulk(port.to_string().as_bytes());
        r.bulk(ack.to_string().as_bytes());
    }
}

/// The positions HELLO redacts: Redis 7.0 checks the version first (an
/// unparsable or unsupported one redacts nothing), then hides each AUTH
/// option's username and password up to the first bad option.
pub fn hello_redactions(args: &Args<'_>) -> Vec<usize> {
    let mut out = Vec::new();
    if args.len() >= 2 && !crate::util::num::parse_i64(args.get(1)).is_some_and(|v| (2..=3).contains(&v)) {
        return out;
    }
    let mut j = 2;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = args.get(j);
        if opt.eq_ignore_ascii_case(b"auth") && more >= 2 {
            out.extend([j + 1, j + 2]);
            j += 3;
        } else if opt.eq_ignore_ascii_case(b"setname") && more >= 1 {
            j += 2;
        } else {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_args(line: &str, f: impl FnOnce(&Command, &Args<'_>)) {
        let owned = crate::cmd::OwnedArgs::from_slices(line.split(' ').map(str::as_bytes));
        let args = owned.as_args();
        let cmd = crate::cmd::lookup(args.get(0)).expect("known command");
        f(cmd, &args);
    }

    #[test]
    fn admin_commands_and_refused_subcommands_are_not_shown() {
        for (line, want) in [
            ("set k v", true),
            ("client id", true),
            ("client list", false),
            ("client kill 1.2.3.4:5", false),
            ("client id x", false),
            ("client nosuch", false),
            ("config get maxmemory", false),
            ("debug sleep 0", false),
            ("monitor", false),
            ("object encoding k", true),
            ("eval x 0", true),
        ] {
            with_args(line, |cmd, args| assert_eq!(shown(cmd, args), want, "{line}"));
        }
    }

    #[test]
    fn a_monitor_may_not_touch_the_keyspace() {
        for (line, want) in [
            ("get k", true),
            ("set k v", true),
            ("dbsize", true),
            ("publish c m", true),
            ("ping", false),
            ("client id", false),
            ("subscribe c", false),
            ("object help", false),
            ("object encoding k", true),
        ] {
            with_args(line, |cmd, args| assert_eq!(refused_to_monitor(cmd, args), want, "{line}"));
        }
    }

    #[test]
    fn hello_redacts_credentials_only_after_a_good_version() {
        let red = |line: &str| {
            let owned = crate::cmd::OwnedArgs::from_slices(line.split(' ').map(str::as_bytes));
            hello_redactions(&owned.as_args())
        };
        assert_eq!(red("HELLO 3 AUTH u p"), vec![3, 4]);
        assert_eq!(red("HELLO 2 SETNAME n AUTH u p"), vec![5, 6]);
        assert_eq!(red("HELLO 4 AUTH u p"), Vec::<usize>::new());
        assert_eq!(red("HELLO 3 FOO AUTH u p"), Vec::<usize>::new());
        assert_eq!(red("HELLO 3 AUTH u"), Vec::<usize>::new());
    }
}
