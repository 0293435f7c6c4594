//! The command table and the context every command runs in.
//!
//! Each family of commands (strings, lists, ...) is a module exporting a
//! `COMMANDS` table of [`Command`]s: name, arity and key positions as
//! `COMMAND INFO` reports them, flags, and the handler. [`call`] finds the
//! command, checks arity and authentication, and runs the handler with a
//! [`Ctx`]: the server, the calling client, and the arguments as slices of
//! the client's query buffer (no copy of the request).

/// One entry of a family's command table:
/// `command!(group, name, arity, flags, first_key, last_key, step, handler)`.
/// Each family's own `cmd!` shorthand (its group, its key-position rule)
/// expands to this.
macro_rules! command {
    ($group:expr, $name:expr, $arity:expr, $flags:expr, $first:expr, $last:expr, $step:expr, $h:expr) => {
        $crate::cmd::Command {
            name: $name,
            arity: $arity,
            flags: $flags,
            first_key: $first,
            last_key: $last,
            step: $step,
            group: $group,
            handler: $h,
        }
    };
}

pub mod aggscan;
pub mod args;
pub mod bitfield;
pub mod bitmap;
pub mod client;
pub mod cluster;
pub mod command;
pub mod config;
pub mod conn;
pub mod digest;
pub mod docs;
pub mod getkeys;
pub mod hash;
pub mod hll;
mod htstats;
pub mod info;
pub mod keys;
pub mod latency;
pub mod latency_doctor;
pub mod lcs;
pub mod list;
pub mod memory;
pub mod meta;
mod meta_table;
pub mod migrate;
pub mod monitor;
mod mpop;
pub mod persist;
pub mod pubsub;
pub mod registry;
pub mod rename;
pub mod server;
pub mod set;
pub mod slowlog;
pub mod sort;
mod sparkline;
pub mod string;
pub mod tx;
mod typed;
pub mod zset;

pub use args::{Args, OwnedArgs};
pub use registry::{lookup, Called, Slot};

use crate::db::{Db, Value, WRONGTYPE};
use crate::resp::reply::Reply;
use crate::server::client::Client;
use crate::server::Server;

/// The command changes the dataset.
pub const WRITE: u32 = 1 << 0;
/// The command only reads.
pub const READONLY: u32 = 1 << 1;
/// The command may grow memory (refused under maxmemory when nothing can be evicted).
pub const DENYOOM: u32 = 1 << 2;
/// An administrative command.
pub const ADMIN: u32 = 1 << 3;
/// A pub/sub command.
pub const PUBSUB: u32 = 1 << 4;
/// A command that may block the client.
pub const BLOCKING: u32 = 1 << 5;
/// A command that runs in O(1) or O(log n).
pub const FAST: u32 = 1 << 6;
/// Allowed before AUTH.
pub const NO_AUTH: u32 = 1 << 7;
/// Not queued inside MULTI (run at once, or refused).
pub const NO_MULTI: u32 = 1 << 8;
/// Allowed while a RESP2 client is subscribed.
pub const SUBSCRIBED_OK: u32 = 1 << 9;
/// The command does not touch the keyspace (no key arguments).
pub const NO_KEYS: u32 = 1 << 10;
/// Refused unless a config option allows it (DEBUG and
/// `enable-debug-command`), as Redis's CMD_PROTECTED.
pub const PROTECTED: u32 = 1 << 11;

/// One command's entry in the table.
#[derive(Debug)]
pub struct Command {
    /// Lower-case name.
    pub name: &'static str,
    /// Redis's arity: exactly `n` arguments (the name included), or at
    /// least `-n` when negative.
    pub arity: i32,
    /// Flag bits.
    pub flags: u32,
    /// Position of the first key (0: none).
    pub first_key: i32,
    /// Position of the last key (-1: the last argument).
    pub last_key: i32,
    /// Step between keys.
    pub step: i32,
    /// Redis's group for COMMAND DOCS ("string", "list", ...).
    pub group: &'static str,
    /// The handler.
    pub handler: fn(&mut Ctx<'_>),
}

impl Command {
    /// Whether `argc` arguments satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        (a >= 0 && argc == a as usize) || (a < 0 && argc >= (-a) as usize)
    }

    /// Positions of the key arguments in a call with `argc` arguments.
    pub fn key_positions(&self, argc: usize) -> impl Iterator<Item = usize> {
        let first = self.first_key.max(0) as usize;
        let last = if self.last_key < 0 { argc as i64 + self.last_key as i64 } else { self.last_key as i64 };
        let step = self.step.max(1) as usize;
        let end = if first == 0 { 0 } else { (last.max(0) as usize).min(argc.saturating_sub(1)) + 1 };
        (first..end.max(first)).step_by(step)
    }
}

/// Every family's table.
fn families() -> [&'static [Command]; 20] {
    [
        conn::COMMANDS,
        string::COMMANDS,
        bitmap::COMMANDS,
        bitfield::COMMANDS,
        keys::COMMANDS,
        hash::COMMANDS,
        set::COMMANDS,
        zset::COMMANDS,
        list::COMMANDS,
        hll::COMMANDS,
        pubsub::COMMANDS,
        tx::COMMANDS,
        persist::COMMANDS,
        server::COMMANDS,
        server::SCRIPTING,
        monitor::COMMANDS,
        cluster::COMMANDS,
        sort::COMMANDS,
        lcs::COMMANDS,
        migrate::COMMANDS,
    ]
}

/// Every command, for COMMAND and COMMAND COUNT.
pub fn all_commands() -> impl Iterator<Item = &'static Command> {
    families().into_iter().flat_map(|f| f.iter())
}

/// Runs one command for `c` and writes its reply, honouring CLIENT REPLY
/// OFF/SKIP by dropping what the command wrote.
pub fn call(srv: &mut Server, c: &mut Client, args: Args<'_>) {
    let start = c.out.len();
    let was_replica = c.replica;
    c.reply_skip = std::mem::take(&mut c.reply_skip_next);
    let stream_before = srv.repl.master_offset();
    if srv.master.is_none() {
        call_inner(srv, c, args);
    } else {
        let from_master = c.master;
        crate::persist::replica_expiry::run_command(srv, from_master, |srv| call_inner(srv, c, args));
    }
    // Where this client's last write ends in the replication stream: what
    // its WAIT waits for.
    if srv.repl.master_offset() != stream_before {
        c.woff = srv.repl.master_offset();
    }
    if was_replica && c.out.len() > start {
        replica_replied(c, start);
    }
    if c.blocked && c.reply_skip {
        c.skip_blocked_reply = true;
    }
    if c.reply_off || c.reply_skip {
        c.silence_reply(start);
    }
    c.pushes.clear();
    c.reply_skip = false;
    // Clients blocked on keys this command (or EXEC) pushed to are served now.
    if srv.blocking.has_ready() {
        crate::server::blocking::handle_ready(srv, Some(c));
    }
}

fn call_inner(srv: &mut Server, c: &mut Client, args: Args<'_>) {
    let called = match registry::resolve(&args) {
        registry::Resolved::Found(called) => called,
        registry::Resolved::UnknownCommand => {
            c.last_cmd = None;
            // processCommand's "'%.*s' " loop: arguments are added while
            // the list is under 128 bytes, each cut to what is left.
            let mut msg = b"ERR unknown command '".to_vec();
            msg.extend_from_slice(c_str(args.get(0), 128));
            msg.extend_from_slice(b"', with args beginning with: ");
            let start = msg.len();
            for a in args.iter().skip(1) {
                let used = msg.len() - start;
                if used >= 128 {
                    break;
                }
                msg.push(b'\'');
                msg.extend_from_slice(c_str(a, 128 - used));
                msg.extend_from_slice(b"' ");
            }
            return reject_unknown(srv, c, &msg);
        }
        registry::Resolved::UnknownSubcommand(cmd) => {
            c.last_cmd = None;
            let mut msg = b"ERR unknown subcommand '".to_vec();
            msg.extend_from_slice(c_str(args.get(1), 128));
            msg.extend_from_slice(format!("'. Try {} HELP.", cmd.name.to_ascii_uppercase()).as_bytes());
            return reject_unknown(srv, c, &msg);
        }
    };
    let cmd = called.cmd;
    // CLIENT LIST's `cmd=`: what the client called last, run or refused.
    c.last_cmd = Some(called.slot);
    // Arity before authentication, as in Redis 7.0's processCommand.
    if !called.arity_ok(args.len()) {
        let msg = format!("ERR wrong number of arguments for '{}' command", called.slot.name());
        return reject(srv, c, Some(called), &msg);
    }
    if cmd.flags & PROTECTED != 0 && !protected_allowed(srv.config.enable_debug_command, c) {
        let msg = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";
        return reject(srv, c, Some(called), msg);
    }
    if !c.authenticated && cmd.flags & NO_AUTH == 0 && !srv.config.requirepass.is_empty() {
        return reject(srv, c, Some(called), "NOAUTH Authentication required.");
    }
    // SAVE and SHUTDOWN are refused inside MULTI (and the transaction
    // flagged), as Redis's CMD_NO_MULTI; the transaction commands
    // themselves carry the flag so they are never queued.
    if multi_refuses(c, cmd) {
        return reject(srv, c, Some(called), "ERR Command not allowed inside a transaction");
    }
    // A replica's link carries its ACKs, nothing else: a command on the
    // keyspace from it is the replica's bug (its reply would land in its
    // stream, see `replica_replied`).
    if c.replica && cmd.flags & (WRITE | READONLY) != 0 {
        return reject(srv, c, Some(called), "ERR Replica can't interact with the keyspace");
    }
    if srv.config.maxmemory > 0 && !crate::server::evict::perform_evictions(srv) && refused_on_oom(c, cmd) {
        return reject(srv, c, Some(called), crate::server::evict::OOM_ERROR);
    }
    // The disk is failing: the last snapshot could not be written (with
    // save points configured and stop-writes-on-bgsave-error on), or the
    // AOF cannot be, so that a write acknowledged now might not survive a
    // crash. Writes are refused, and PING, so that health checks see it,
    // as Redis's `writeCommandsDeniedByDiskError` does.
    if let Some(msg) = disk_error(srv) {
        if disk_refuses(c, cmd) {
            return reject(srv, c, Some(called), &msg);
        }
    }
    // `min-replicas-to-write`: a write that too few replicas would see
    // soon is refused.
    if srv.repl.min_replicas.0 > 0 && !c.must_obey && srv.repl.too_few_replicas(srv.now_ms) && writes(c, cmd)
    {
        return reject(srv, c, Some(called), "NOREPLICAS Not enough good replicas to write.");
    }
    // A replica's data is its master's: other clients may only read
    // (`replica-read-only yes`; with `no`, their writes stay local).
    if srv.master.is_some() && !srv.repl.replica_writable && !c.must_obey && writes(c, cmd) {
        return reject(srv, c, Some(called), "READONLY You can't write against a read only replica.");
    }
    // `replica-serve-stale-data no`: while the link is down, a replica
    // answers only commands Redis flags `stale` (INFO, REPLICAOF, ...).
    if srv.repl.refuse_stale
        && !c.must_obey
        && srv.master.as_ref().is_some_and(|m| !m.is_up())
        && stale_refuses(c, called)
    {
        return reject(
            srv,
            c,
            Some(called),
            "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
        );
    }
    if subscriber_refuses(c, cmd) {
        let msg = format!(
            "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            called.slot.name()
        );
        return reject(srv, c, Some(called), &msg);
    }
    if c.monitor && monitor::refused_to_monitor(cmd, &args) {
        return reject(srv, c, Some(called), monitor::REPLICA_KEYSPACE);
    }
    // The dataset is loading: only commands Redis flags `loading` run
    // (an EXEC only if every queued command is one). The AOF's own
    // commands, replayed by the loader, are not requests.
    if srv.load_state.is_some() && !c.must_obey && loading_refuses(c, called) {
        return reject(srv, c, Some(called), crate::server::loading::LOADING_ERROR);
    }
    if c.multi.is_some() && cmd.flags & NO_MULTI == 0 && cmd.name != "quit" && cmd.name != "reset" {
        return tx::queue(c, called, args);
    }
    execute(srv, c, called, args);
    srv.enforce_output_limit_of(c);
}

/// Whether `cmd` writes: a write command, or an EXEC queueing one.
fn writes(c: &Client, cmd: &Command) -> bool {
    cmd.flags & WRITE != 0
        || (cmd.name == "exec"
            && c.multi.as_ref().is_some_and(|m| m.queue.iter().any(|(q, _)| q.cmd.flags & WRITE != 0)))
}

/// Whether a command is refused while the dataset loads (Redis's
/// `is_denyloading_command`).
fn loading_refuses(c: &Client, called: Called) -> bool {
    use crate::server::loading::refused_while_loading;
    refused_while_loading(called.slot.name())
        || (called.cmd.name == "exec"
            && c.multi
                .as_ref()
                .is_some_and(|m| m.queue.iter().any(|(q, _)| refused_while_loading(q.slot.name()))))
}

/// Whether a replica whose link is down refuses the command with
/// `replica-serve-stale-data no` (Redis's `is_denystale_command`).
fn stale_refuses(c: &Client, called: Called) -> bool {
    let stale = |name: &str| crate::cmd::meta::lookup(name).is_some_and(|m| m.flags.contains(&"stale"));
    !stale(called.slot.name())
        || (called.cmd.name == "exec"
            && c.multi.as_ref().is_some_and(|m| m.queue.iter().any(|(q, _)| !stale(q.slot.name()))))
}

/// SAVE, SHUTDOWN and the like inside MULTI (Redis's `CMD_NO_MULTI`); the
/// transaction commands carry the flag too, so they are never queued.
fn multi_refuses(c: &Client, cmd: &Command) -> bool {
    c.multi.is_some()
        && cmd.flags & NO_MULTI != 0
        && !matches!(cmd.name, "multi" | "exec" | "discard" | "watch")
}

/// Whether a failing disk refuses `cmd`: writes, an EXEC queueing one,
/// and PING.
fn disk_refuses(c: &Client, cmd: &Command) -> bool {
    (writes(c, cmd) || cmd.name == "ping") && !c.must_obey
}

/// A RESP2 subscriber may only (un)subscribe, PING, QUIT and RESET.
fn subscriber_refuses(c: &Client, cmd: &Command) -> bool {
    c.proto == 2 && cmd.flags & SUBSCRIBED_OK == 0 && c.subs.total() > 0 && cmd.name != "reset"
}

/// Whether `call` refuses this request before running it for a reason
/// Redis's `processCommand` checks before CLIENT PAUSE holds a command
/// (unknown command or subcommand, arity, DEBUG's protection,
/// authentication, a command MULTI refuses, a failing disk, a RESP2
/// subscriber's other commands, loading): such a request is answered at
/// once, pause or not. (Memory over `maxmemory` is left out: telling
/// would evict.)
pub(crate) fn refused_before_pause(srv: &Server, c: &Client, args: &Args<'_>) -> bool {
    let registry::Resolved::Found(called) = registry::resolve(args) else { return true };
    let cmd = called.cmd;
    !called.arity_ok(args.len())
        || (cmd.flags & PROTECTED != 0 && !protected_allowed(srv.config.enable_debug_command, c))
        || (!c.authenticated && cmd.flags & NO_AUTH == 0 && !srv.config.requirepass.is_empty())
        || multi_refuses(c, cmd)
        || (disk_error(srv).is_some() && disk_refuses(c, cmd))
        || subscriber_refuses(c, cmd)
        || (srv.load_state.is_some() && !c.must_obey && loading_refuses(c, called))
}

/// Whether `cmd` is refused while memory is over `maxmemory` (Redis's
/// `processCommand`): a command that may grow memory, an EXEC whose queue
/// holds one, and anything but EXEC/DISCARD/QUIT/RESET inside MULTI, since
/// queueing itself takes memory without bound.
fn refused_on_oom(c: &Client, cmd: &Command) -> bool {
    let Some(multi) = c.multi.as_ref() else { return cmd.flags & DENYOOM != 0 };
    match cmd.name {
        "exec" => multi.queue.iter().any(|(q, _)| q.cmd.flags & DENYOOM != 0),
        "discard" | "quit" | "reset" => false,
        _ => true,
    }
}

/// A replica's command produced a reply: it must not reach the replica,
/// which would read it as part of its master's stream, so it is dropped
/// and the replica disconnected (it resyncs), as Redis does.
fn replica_replied(c: &mut Client, start: usize) {
    let name = c.last_cmd.map_or("<unknown>", |s| s.name());
    if c.out[start..].starts_with(b"-") {
        let line = String::from_utf8_lossy(&c.out[start + 1..]).trim_end().to_string();
        tracing::warn!(
            "== CRITICAL == This master is sending an error to its replica: '{line}' after processing the command '{name}'"
        );
    }
    c.out.truncate(start);
    tracing::warn!(
        "Replica generated a reply to command '{name}', disconnecting it: id={} addr={}",
        c.id,
        c.addr
    );
    c.close_asap = true;
}

/// Replies with a command's rejection and flags an open transaction. A
/// refused EXEC (wrong arity, say) discards the transaction and its
/// watches and says why with EXECABORT, in or out of MULTI, as Redis 7's
/// `rejectCommand` does. `called` is `None` for an unknown command or
/// subcommand, which no command's stats count.
fn reject(srv: &mut Server, c: &mut Client, called: Option<Called>, msg: &str) {
    tx::flag_error(c);
    let slot = called.map(|called| called.slot);
    if called.is_some_and(|called| called.cmd.name == "exec") {
        tx::discard_transaction(srv, c);
        let why = msg.strip_prefix("ERR ").unwrap_or(msg);
        let msg = format!("EXECABORT Transaction discarded because of: {why}");
        srv.stats.cmd.rejected(slot, msg.as_bytes());
        return Reply::new(&mut c.out, c.proto).error(&msg);
    }
    srv.stats.cmd.rejected(slot, msg.as_bytes());
    Reply::new(&mut c.out, c.proto).error(msg);
}

/// Refuses a command that does not exist, with an error naming it in its
/// own bytes (not necessarily UTF-8), as Redis does.
fn reject_unknown(srv: &mut Server, c: &mut Client, msg: &[u8]) {
    tx::flag_error(c);
    srv.stats.cmd.rejected(None, msg);
    Reply::new(&mut c.out, c.proto).error_bytes(msg);
}

/// Runs the command `called` for `c` with no checks (`call` made them, or
/// EXEC replays a queued command), counts it under its command or
/// subcommand, and shows it to the monitors.
pub fn execute(srv: &mut Server, c: &mut Client, called: Called, args: Args<'_>) {
    execute_and_feed(srv, c, called.cmd, args, Some(called.slot));
}

/// Runs the command of a blocked client that can now be served: as
/// [`execute`], but it was counted (`total_commands_processed`, the
/// client's `cmd` count, INFO commandstats) and shown to monitors when it
/// was called, so not again, as Redis 7.0 serves a blocked client without
/// a second call.
pub fn execute_unblocked(srv: &mut Server, c: &mut Client, cmd: &'static Command, args: Args<'_>) {
    execute_and_feed(srv, c, cmd, args, None);
}

/// `first_call`: the slot to count the call under; `None` when a blocked
/// command is served (see [`execute_unblocked`]).
fn execute_and_feed(
    srv: &mut Server,
    c: &mut Client,
    cmd: &'static Command,
    args: Args<'_>,
    first_call: Option<Slot>,
) {
    if first_call.is_some() {
        c.commands += 1;
    }
    let (db, dirty_before, out_before) = (c.db, srv.dirty, c.out.len());
    let timed = srv.config.slowlog_log_slower_than >= 0 || srv.config.latency_monitor_threshold > 0;
    c.rewritten = None;
    c.redacted.clear();
    let outer_events_at = srv.events_at.replace(out_before);
    let mut ctx = Ctx { srv: &mut *srv, c: &mut *c, args, cmd, uncounted_error: false };
    (cmd.handler)(&mut ctx);
    let uncounted_error = ctx.uncounted_error;
    if first_call.is_some() {
        // Counted once run, as Redis's `call`: an INFO is not in its own
        // `total_commands_processed`.
        srv.stats.commands += 1;
    }
    if first_call.is_some() && !srv.monitors.is_empty() && monitor::shown(cmd, &args) {
        // After the command, as Redis 7.0: SELECT shows the database it
        // selected, AUTH its redacted password.
        let body = crate::server::monitor::describe(c, args.iter());
        srv.feed_monitors(c, &body);
    }
    // One clock read per command: it ends this command's time and starts
    // the next one's (the refresh after the event's read started the first).
    let micros = srv.command_timer.lap_micros();
    if let Some(slot) = first_call {
        // An error reply is what INFO counts as a failed call; the same
        // duration goes to the latency histogram.
        let error = c.out.get(out_before..).filter(|reply| !uncounted_error && reply.first() == Some(&b'-'));
        srv.stats.cmd.ran(slot, micros as u64, error, srv.config.latency_tracking);
    }
    if timed {
        if srv.config.slowlog_log_slower_than >= 0 {
            slowlog::record(srv, c, &args, micros);
        }
        let event = if cmd.flags & FAST != 0 { "fast-command" } else { "command" };
        let threshold = srv.config.latency_monitor_threshold;
        srv.latency.record(threshold, event, srv.now_ms / 1000, micros as u64 / 1000);
    }
    // Events logged rather than sent while the command held the data:
    // keys it created (`new`), reads that missed (`keymiss`), and keys it
    // found expired (counted, announced, logged to the AOF as DEL).
    srv.flush_new_keys(Some(c));
    srv.flush_key_misses(Some(c));
    srv.events_at = outer_events_at;
    srv.drain_expired(Some(c));
    crate::persist::propagate::after_command(srv, c, db, args, cmd, dirty_before, out_before);
}

/// Redis's refusal of writes for a failing disk, if the disk is failing
/// (`writeCommandsDeniedByDiskError`): a failed snapshot first, then the
/// AOF.
fn disk_error(srv: &Server) -> Option<String> {
    const RDB_ERROR: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";
    if srv.rdb_last_bgsave_status != "ok"
        && srv.config.stop_writes_on_bgsave_error
        && !srv.config.save.is_empty()
    {
        return Some(RDB_ERROR.into());
    }
    let err = srv.persist.aof.disk_error()?;
    Some(format!("MISCONF Errors writing to the AOF file: {err}"))
}

/// Whether `c` may run a command its option `action` protects: never
/// with `no`, always with `yes` (and for the AOF loader, which obeys
/// anything), from 127.0.0.1 or ::1 with `local`, as Redis's
/// `allowProtectedAction` and `islocalClient` decide.
fn protected_allowed(action: crate::server::config::ProtectedAction, c: &Client) -> bool {
    use crate::server::config::ProtectedAction;
    let local = || {
        let ip = c.addr.rsplit_once(':').map_or("", |(ip, _)| ip);
        ip == "127.0.0.1" || ip == "[::1]"
    };
    match action {
        ProtectedAction::Yes => true,
        ProtectedAction::No => c.must_obey,
        ProtectedAction::Local => c.must_obey || local(),
    }
}

/// An argument as C's `printf("%.*s", max, arg)` prints it: up to its
/// first NUL, at most `max` bytes.
pub fn c_str(b: &[u8], max: usize) -> &[u8] {
    let b = crate::util::until_nul(b);
    &b[..b.len().min(max)]
}

/// An argument shown in an error message as Redis's `%.{max}s` shows it
/// (see [`c_str`]), as lossy UTF-8.
pub fn printable(b: &[u8], max: usize) -> String {
    String::from_utf8_lossy(c_str(b, max)).into_owned()
}

/// What a command runs with: the server, its client and its arguments.
pub struct Ctx<'a> {
    /// The server (databases, config, other clients).
    pub srv: &'a mut Server,
    /// The calling client.
    pub c: &'a mut Client,
    /// The arguments, the command name first.
    pub args: Args<'a>,
    /// The command being run.
    pub cmd: &'static Command,
    /// Set by [`Ctx::raw_error`]: the reply is an error line the error
    /// statistics do not count.
    uncounted_error: bool,
}

/// The error for an argument that should be an integer.
pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
/// The error for an argument that should be a float.
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
/// The error for options that do not parse.
pub const SYNTAX: &str = "ERR syntax error";

impl<'a> Ctx<'a> {
    /// Argument `i` (0 is the command name).
    pub fn arg(&self, i: usize) -> &'a [u8] {
        self.args.get(i)
    }

    /// Number of arguments, the name included.
    pub fn argc(&self) -> usize {
        self.args.len()
    }

    /// A writer for this client's reply.
    pub fn reply(&mut self) -> Reply<'_> {
        Reply::new(&mut self.c.out, self.c.proto)
    }

    /// Replies with an error.
    pub fn error(&mut self, text: &str) {
        self.reply().error(text);
    }

    /// Replies with an error line written as is (`text` must hold no CR
    /// or LF), which, as Redis's `addReplySds` of a `-` string, is not
    /// counted as an error reply: not in INFO errorstats, not in
    /// `total_error_replies`, not as a failed call. DEBUG ERROR's reply.
    pub fn raw_error(&mut self, text: &[u8]) {
        let mut line = Vec::with_capacity(text.len() + 3);
        line.push(b'-');
        line.extend_from_slice(text);
        line.extend_from_slice(b"\r\n");
        self.reply().raw(&line);
        self.uncounted_error = true;
    }

    /// Replies `+OK`.
    pub fn ok(&mut self) {
        self.reply().ok();
    }

    /// The client's selected database.
    pub fn db(&mut self) -> &mut Db {
        &mut self.srv.dbs[self.c.db]
    }

    /// The server's cached time in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.srv.now_ms
    }

    /// Parses argument `i` as an integer, replying with Redis's error if it
    /// is not one.
    pub fn int_arg(&mut self, i: usize) -> Option<i64> {
        let v = crate::util::num::parse_i64(self.arg(i));
        if v.is_none() {
            self.error(NOT_INTEGER);
        }
        v
    }

    /// Parses argument `i` as a float, replying with Redis's error if not.
    pub fn float_arg(&mut self, i: usize) -> Option<f64> {
        let v = crate::util::num::parse_f64(self.arg(i));
        if v.is_none() {
            self.error(NOT_FLOAT);
        }
        v
    }

    /// Records `n` changes to the dataset (for SAVE points and INFO).
    pub fn dirty(&mut self, n: u64) {
        self.srv.dirty += n;
    }

    /// Tells watchers (WATCH) and blocked clients that `key` changed.
    pub fn touched(&mut self, key: &[u8]) {
        self.srv.touched_key(self.c.db, key);
    }

    /// Publishes keyspace event `event` of class `class` (a
    /// `server::notify` constant) for `key` in the selected database.
    pub fn notify(&mut self, class: u32, event: &str, key: &[u8]) {
        let db = self.c.db;
        self.srv.notify(Some(self.c), class, event, key, db);
    }

    /// Like [`Ctx::notify`], for a key in database `db` (MOVE, COPY ... DB).
    pub fn notify_db(&mut self, class: u32, event: &str, key: &[u8], db: usize) {
        self.srv.notify(Some(self.c), class, event, key, db);
    }

    /// Looks up `key` for reading in the selected database.
    pub fn lookup(&mut self, key: &[u8]) -> Option<&mut crate::db::Entry> {
        let now = self.srv.now_ms;
        let lru = self.srv.lru_clock;
        let e = self.srv.dbs[self.c.db].get_mut(key, now)?;
        e.lru = lru;
        Some(e)
    }

    /// Replies WRONGTYPE.
    pub fn wrongtype(&mut self) {
        self.error(WRONGTYPE);
    }
}

/// Whether `v` is of the type a command expects; used with [`Ctx::wrongtype`].
pub fn is_type(v: &Value, name: &str) -> bool {
    v.type_name() == name
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_command_name_is_registered_once() {
        let mut seen = std::collections::HashSet::new();
        for c in super::all_commands() {
            assert!(seen.insert(c.name), "'{}' is in two command tables", c.name);
            assert_eq!(c.name, c.name.to_ascii_lowercase());
        }
    }
}
