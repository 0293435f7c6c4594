//! Server commands: CONFIG, INFO, TIME, LOLWUT, DEBUG, SLOWLOG, LATENCY, MEMORY,
//! FUNCTION, SHUTDOWN, LASTSAVE, and the scripting commands this server
//! refuses.

use super::{Command, Ctx, ADMIN, FAST, NO_AUTH, NO_KEYS, NO_MULTI, PROTECTED, READONLY, WRITE};
use crate::persist::ShutdownSave;
use crate::resp::reply::Reply;
use crate::server::shutdown::Outcome;

macro_rules! cmd {
    ($name:expr, $arity:expr, $flags:expr, $group:expr, $h:expr) => {
        command!($group, $name, $arity, $flags | NO_KEYS, 0, 0, 0, $h)
    };
}

/// The server and connection-management commands.
pub static COMMANDS: &[Command] = &[
    cmd!("hello", -1, FAST | NO_AUTH, "connection", super::conn::hello),
    cmd!("reset", 1, FAST | NO_AUTH, "connection", super::conn::reset),
    cmd!("client", -2, 0, "connection", super::client::client),
    cmd!("command", -1, 0, "server", super::command::command),
    cmd!("config", -2, 0, "server", super::config::config),
    cmd!("info", -1, 0, "server", super::info::info),
    cmd!("time", 1, FAST, "server", time),
    cmd!("lolwut", -1, READONLY | FAST, "server", lolwut),
    cmd!("debug", -2, ADMIN | PROTECTED, "server", debug),
    cmd!("slowlog", -2, ADMIN, "server", super::slowlog::slowlog),
    cmd!("latency", -2, ADMIN, "server", super::latency::latency),
    cmd!("memory", -2, 0, "server", super::memory::memory),
    cmd!("shutdown", -1, ADMIN | NO_MULTI, "server", shutdown),
];

/// The scripting commands, present so clients get a clear error.
pub static SCRIPTING: &[Command] = &[
    cmd!("eval", -3, 0, "scripting", no_scripting),
    cmd!("evalsha", -3, 0, "scripting", no_scripting),
    cmd!("eval_ro", -3, READONLY, "scripting", no_scripting),
    cmd!("evalsha_ro", -3, READONLY, "scripting", no_scripting),
    cmd!("fcall", -3, 0, "scripting", no_scripting),
    cmd!("fcall_ro", -3, READONLY, "scripting", no_scripting),
    cmd!("script", -2, 0, "scripting", script),
    cmd!("function", -2, WRITE, "scripting", function),
];

/// The error every scripting command gives.
pub const NO_SCRIPTING: &str = "ERR scripting is not supported by this server";

/// Replies with a HELP text (an array of status lines, as Redis's
/// `addReplyHelp`).
pub fn help(ctx: &mut Ctx<'_>, lines: &[&str]) {
    let mut r = ctx.reply();
    r.array_len(lines.len());
    for l in lines {
        r.simple(l);
    }
}

/// The error for a container command's bad subcommand. A known one that
/// passed the table's arity but not the command's own argument count gets
/// `addReplySubcommandSyntaxError`'s reply (naming it as the client typed
/// it); an unknown one Redis's "unknown subcommand".
pub fn unknown_subcommand(ctx: &mut Ctx<'_>, cmd: &str, known: &[&str]) {
    let sub = super::printable(ctx.arg(1), 128);
    let msg = if known.contains(&sub.to_ascii_lowercase().as_str()) {
        format!("ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {cmd} HELP.")
    } else {
        format!("ERR unknown subcommand '{sub}'. Try {cmd} HELP.")
    };
    ctx.error(&msg);
}

fn time(ctx: &mut Ctx<'_>) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let mut r = ctx.reply();
    r.array_len(2);
    r.bulk(now.as_secs().to_string().as_bytes());
    r.bulk(now.subsec_micros().to_string().as_bytes());
}

/// LOLWUT [VERSION <version>] [...]: Redis 7.0's own LOLWUT is the line
/// "Redis ver. 7.0.15" as a verbatim string, whatever the other arguments.
/// Redis draws computer art for VERSION 5 and 6 (Schotter, skyscrapers);
/// here those print the same line.
fn lolwut(ctx: &mut Ctx<'_>) {
    if ctx.argc() >= 3 && ctx.arg(1).eq_ignore_ascii_case(b"version") {
        let Some(_) = ctx.int_arg(2) else { return };
    }
    let text = format!("Redis ver. {}\n", super::info::REDIS_VERSION);
    ctx.reply().verbatim(text.as_bytes());
}

const DEBUG_HELP: &[&str] = &[
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "AOF-FLUSH-SLEEP <microsec>",
    "    Server will sleep before flushing the AOF, this is used for testing.",
    "CONFIG-REWRITE-FORCE-ALL",
    "    Like CONFIG REWRITE but writes all configuration options, including",
    "    keywords not listed in original configuration file or default values.",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "HTSTATS <dbid> [full]",
    "    Return hash table statistics of the specified Redis database.",
    "HTSTATS-KEY <key> [full]",
    "    Like HTSTATS but for the hash table stored at <key>'s value.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "MALLCTL <key> [<val>]",
    "    Get or set a malloc tuning integer.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "RELOAD",
    "    Save the RDB on disk and reload it back to memory.",
    "PANIC",
    "    Crash the server simulating a panic.",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>",
    "    Enable or disable the reply buffer resize cron job",
    "SEGFAULT",
    "    Crash the server with sigsegv.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "HELP",
    "    Prints this help.",
];

fn debug(ctx: &mut Ctx<'_>) {
    let sub = ctx.arg(1).to_ascii_lowercase();
    match (sub.as_slice(), ctx.argc()) {
        (b"help", 2) => help(ctx, DEBUG_HELP),
        (b"sleep", 3) => {
            let Some(secs) = crate::util::num::parse_f64(ctx.arg(2)).filter(|s| s.is_finite()) else {
                return ctx.error(super::NOT_FLOAT);
            };
            // Blocking the server thread is the point of DEBUG SLEEP.
            std::thread::sleep(std::time::Duration::from_secs_f64(secs.max(0.0)));
            ctx.ok()
        }
        (b"log", 3) => {
            // At warning level, as Redis logs it: tests mark the log with it.
            tracing::warn!("DEBUG LOG: {}", String::from_utf8_lossy(ctx.arg(2)));
            ctx.ok()
        }
        (b"set-active-expire", 3) => {
            let Some(v) = ctx.int_arg(2) else { return };
            ctx.srv.active_expire_enabled = v != 0;
            ctx.ok()
        }
        (b"object", 3) => debug_object(ctx),
        (b"populate", 3..=5) => debug_populate(ctx),
        (b"error", 3) => debug_error(ctx),
        (b"reload", 2) => super::persist::debug_reload(ctx),
        (b"loadaof", 2) => super::persist::debug_loadaof(ctx),
        (b"config-rewrite-force-all", 2) => match ctx.srv.config.rewrite_with(true) {
            Ok(()) => ctx.ok(),
            Err(e) => {
                let why = e.0.trim_start_matches("ERR ").to_string();
                ctx.error(&format!("ERR CONFIG-REWRITE-FORCE-ALL failed: {why}"))
            }
        },
        (b"pause-cron", 3) => {
            let Some(v) = ctx.int_arg(2) else { return };
            ctx.srv.pause_cron = v != 0;
            ctx.ok()
        }
        (b"segfault", 2) => crate::server::crash::segfault(),
        (b"panic", 2) => panic!("DEBUG PANIC called at Unix time {}", ctx.srv.now_ms / 1000),
        (b"aof-flush-sleep", 3) => {
            let Some(us) = ctx.int_arg(2) else { return };
            ctx.srv.persist.aof.flush_sleep_us = us.max(0) as u64;
            ctx.ok()
        }
        (b"protocol", 3) => debug_protocol(ctx),
        (b"quicklist-packed-threshold", 3) => {
            let text = String::from_utf8_lossy(ctx.arg(2)).into_owned();
            match crate::server::config_table::memtoull(&text) {
                Some(n) if crate::types::list::quicklist::set_packed_threshold(n) => ctx.ok(),
                _ => ctx.error("ERR argument must be a memory value bigger than 1 and smaller than 4gb"),
            }
        }
        (b"mallctl", 3 | 4) => debug_mallctl(ctx),
        (b"set-skip-checksum-validation", 3) => {
            let Some(v) = ctx.int_arg(2) else { return };
            ctx.srv.skip_checksum_validation = v != 0;
            ctx.ok()
        }
        (b"digest", 2) => super::digest::digest(ctx),
        (b"replybuffer", 4) => debug_replybuffer(ctx),
        (b"htstats", 3 | 4) => super::htstats::htstats(ctx),
        (b"htstats-key", 3 | 4) => super::htstats::htstats_key(ctx),
        (b"digest-value", _) => super::digest::digest_value(ctx),
        // DEBUG is no container in Redis: whatever its handler does not
        // take gets addReplySubcommandSyntaxError, a known subcommand
        // with the wrong arguments and an unknown one alike.
        _ => {
            let s = String::from_utf8_lossy(ctx.arg(1)).into_owned();
            ctx.error(&format!(
                "ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
                super::printable(s.as_bytes(), 128)
            ))
        }
    }
}

/// DEBUG MALLCTL name [value]: reads (or sets) a jemalloc control as an
/// integer, as Redis's; the error is the errno's text.
fn debug_mallctl(ctx: &mut Ctx<'_>) {
    let new = if ctx.argc() == 4 {
        let Some(v) = ctx.int_arg(3) else { return };
        Some(v)
    } else {
        None
    };
    let name = String::from_utf8_lossy(ctx.arg(2)).into_owned();
    match crate::alloc::mallctl_int(&name, new) {
        Ok(Some(old)) => ctx.reply().int(old),
        Ok(None) => ctx.ok(),
        Err(errno) => {
            let text = std::io::Error::from_raw_os_error(errno).to_string();
            let text = text.split(" (os error").next().unwrap_or(&text).to_string();
            ctx.error(&format!("ERR {text}"))
        }
    }
}

/// DEBUG REPLYBUFFER PEAK-RESET-TIME never|reset|ms, or RESIZING 0|1:
/// Redis's test hooks for the cron's reply buffer sizing (see
/// [`crate::server::reply_buffer`]).
fn debug_replybuffer(ctx: &mut Ctx<'_>) {
    use crate::server::reply_buffer::DEFAULT_PEAK_RESET_MS;
    let what = ctx.arg(2).to_ascii_lowercase();
    match what.as_slice() {
        b"peak-reset-time" => {
            let v = ctx.arg(3);
            ctx.srv.reply_buffer.peak_reset_ms = if v.eq_ignore_ascii_case(b"never") {
                -1
            } else if v.eq_ignore_ascii_case(b"reset") {
                DEFAULT_PEAK_RESET_MS
            } else {
                let Some(ms) = ctx.int_arg(3) else { return };
                ms
            };
        }
        // Redis reads the flag with atoi: leading digits, else 0.
        b"resizing" => ctx.srv.reply_buffer.resizing = crate::util::num::atoi(ctx.arg(3)) != 0,
        _ => {
            let s = String::from_utf8_lossy(ctx.arg(1)).into_owned();
            return ctx.error(&format!(
                "ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
                super::printable(s.as_bytes(), 128)
            ));
        }
    }
    ctx.ok()
}

/// DEBUG PROTOCOL type: one fixed reply of each RESP3 type (RESP2's
/// nearest in RESP2), as Redis sends them; client libraries' test suites
/// use it to check their parsers.
fn debug_protocol(ctx: &mut Ctx<'_>) {
    let name = ctx.arg(2).to_ascii_lowercase();
    let mut r = ctx.reply();
    let resp3 = r.is_resp3();
    match name.as_slice() {
        b"string" => r.bulk(b"Hello World"),
        b"integer" => r.int(12345),
        // Redis's fixed test value, not an approximation of pi.
        #[allow(clippy::approx_constant)]
        b"double" => r.double(3.141),
        b"bignum" => {
            const BIG: &[u8] = b"1234567999999999999999999999999999999";
            if resp3 {
                r.raw(b"(");
                r.raw(BIG);
                r.raw(b"\r\n");
            } else {
                r.bulk(BIG);
            }
        }
        b"null" => r.null(),
        b"array" | b"set" => {
            if name == b"set" {
                r.set_len(3);
            } else {
                r.array_len(3);
            }
            (0..3).for_each(|j| r.int(j));
        }
        b"map" => {
            r.map_len(3);
            for j in 0..3 {
                r.int(j);
                r.boolean(j == 1);
            }
        }
        b"attrib" => {
            // An attribute is not a reply: a real one follows it.
            if resp3 {
                r.raw(b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n");
            }
            r.bulk(b"Some real reply following the attribute");
        }
        b"push" => {
            if !resp3 {
                return ctx.error("ERR RESP2 is not supported by this command");
            }
            r.push_len(2);
            r.bulk(b"server-cpu-usage");
            r.int(42);
            // Clients that drop push messages still get their reply.
            r.bulk(b"Some real reply following the push reply");
        }
        b"true" => r.boolean(true),
        b"false" => r.boolean(false),
        b"verbatim" => r.verbatim(b"This is a verbatim\nstring"),
        _ => ctx.error(
            "ERR Wrong protocol type name. Please use one of the following: \
                 string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
        ),
    }
}

/// DEBUG ERROR: `string` itself as an error reply, CR and LF made spaces;
/// client libraries' test suites use it to fake LOADING, READONLY or OOM
/// errors. As in Redis, the text is sent as is, with no `ERR` prefix, and
/// the error statistics do not count it (see [`Ctx::raw_error`]).
fn debug_error(ctx: &mut Ctx<'_>) {
    let text: Vec<u8> = ctx.arg(2).iter().map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }).collect();
    ctx.raw_error(&text);
}

/// DEBUG POPULATE count [prefix] [size]: `count` string keys
/// `prefix:0`, `prefix:1`, ... (`key:` by default) holding `value:N`, or,
/// with `size`, `value:N` cut or padded with zero bytes to `size` bytes;
/// keys that exist are left alone. As in Redis, a quick way to fill a
/// database for a test or a benchmark: watchers of the keys see them
/// change, but nothing is logged to the AOF, no event is published, and
/// the keys do not count as changes for the `save` points.
fn debug_populate(ctx: &mut Ctx<'_>) {
    // Redis's one error for a negative and for a non-numeric argument.
    const POSITIVE: &str = "ERR value is out of range, must be positive";
    let positive = |b: &[u8]| crate::util::num::parse_i64(b).and_then(|n| usize::try_from(n).ok());
    let Some(count) = positive(ctx.arg(2)) else { return ctx.error(POSITIVE) };
    let size = match ctx.argc() {
        5 => match positive(ctx.arg(4)) {
            Some(n) => n,
            None => return ctx.error(POSITIVE),
        },
        _ => 0,
    };
    let prefix = if ctx.argc() >= 4 { ctx.arg(3).to_vec() } else { b"key".to_vec() };
    let (db, now, lru) = (ctx.c.db, ctx.srv.now_ms, ctx.srv.lru_clock);
    let mut key = prefix.clone();
    for j in 0..count {
        key.truncate(prefix.len());
        key.extend_from_slice(format!(":{j}").as_bytes());
        if ctx.srv.dbs[db].contains(&key, now) {
            continue;
        }
        let mut value = format!("value:{j}").into_bytes();
        if size > 0 {
            value.resize(size, 0);
        }
        ctx.srv.dbs[db].insert_new(&key, crate::db::Value::Str(crate::db::Str::from_bytes(&value)), lru);
        ctx.srv.touched_key(db, &key);
    }
    ctx.ok()
}

/// The length Redis's RDB writer would give a string.
fn rdb_string_len(s: &crate::db::Str) -> usize {
    match s {
        crate::db::Str::Int(n) if i32::try_from(*n).is_ok() => match *n {
            -128..=127 => 2,
            -32768..=32767 => 3,
            _ => 5,
        },
        other => {
            let n = other.len();
            n + if n < 64 {
                1
            } else if n < 16384 {
                2
            } else {
                5
            }
        }
    }
}

fn debug_object(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(2);
    let lru_now = ctx.srv.lru_clock;
    let Some(e) = ctx.srv.dbs[ctx.c.db].peek_mut(key, ctx.srv.now_ms) else {
        return ctx.error("ERR no such key");
    };
    let ser = match &e.value {
        crate::db::Value::Str(s) => rdb_string_len(s),
        v => v.memory_usage(),
    };
    let idle = lru_now.wrapping_sub(e.lru) & ((1 << 24) - 1);
    let line = format!(
        "Value at:{:p} refcount:1 encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
        e as *const _,
        e.value.encoding(),
        ser,
        e.lru,
        idle
    );
    ctx.reply().simple(&line);
}

fn shutdown(ctx: &mut Ctx<'_>) {
    let (mut save, mut nosave, mut now, mut force, mut abort) = (false, false, false, false, false);
    for i in 1..ctx.argc() {
        let a = ctx.arg(i).to_ascii_lowercase();
        match a.as_slice() {
            b"nosave" => nosave = true,
            b"save" => save = true,
            b"now" => now = true,
            b"force" => force = true,
            b"abort" => abort = true,
            _ => return ctx.error(super::SYNTAX),
        }
    }
    if (abort && (save || nosave || now || force)) || (save && nosave) {
        return ctx.error(super::SYNTAX);
    }
    if abort {
        if !crate::server::shutdown::abort(ctx.srv) {
            return ctx.error("ERR No shutdown in progress.");
        }
        return ctx.ok();
    }
    if !now && ctx.c.deny_blocking {
        return ctx.error("ERR SHUTDOWN without NOW or ABORT isn't allowed for DENY BLOCKING client");
    }
    tracing::info!(client = ctx.c.id, "SHUTDOWN requested");
    let mode = if save {
        ShutdownSave::Save
    } else if nosave {
        ShutdownSave::NoSave
    } else {
        ShutdownSave::Default
    };
    // Save now, while the client can still be told it failed (Redis then
    // refuses to stop unless FORCE was given); with lagging replicas, wait
    // for them first (the cron finishes the shutdown).
    match crate::server::shutdown::begin(ctx.srv, mode, force, now) {
        // Redis replies nothing: the connection simply closes.
        Outcome::Stop => ctx.c.close_asap = true,
        Outcome::Refused => ctx.error("ERR Errors trying to SHUTDOWN. Check logs."),
        Outcome::Waiting => crate::server::blocking::block_for_shutdown(ctx),
    }
}

fn no_scripting(ctx: &mut Ctx<'_>) {
    ctx.error(NO_SCRIPTING);
}

fn script(ctx: &mut Ctx<'_>) {
    let sub = ctx.arg(1).to_ascii_lowercase();
    match sub.as_slice() {
        b"flush" => ctx.ok(),
        b"exists" if ctx.argc() > 2 => {
            let n = ctx.argc() - 2;
            let mut r = ctx.reply();
            r.array_len(n);
            for _ in 0..n {
                r.int(0);
            }
        }
        _ => ctx.error(NO_SCRIPTING),
    }
}

fn function(ctx: &mut Ctx<'_>) {
    let sub = ctx.arg(1).to_ascii_lowercase();
    match sub.as_slice() {
        b"list" => ctx.reply().array_len(0),
        b"flush" => ctx.ok(),
        b"stats" => {
            let mut r = ctx.reply();
            r.map_len(2);
            r.bulk(b"running_script");
            r.null();
            r.bulk(b"engines");
            r.map_len(0);
        }
        _ => ctx.error(NO_SCRIPTING),
    }
}

/// Writes `text` as INFO does: verbatim in RESP3, a bulk string in RESP2.
pub fn reply_text(r: &mut Reply<'_>, text: &str) {
    r.verbatim(text.as_bytes());
}
