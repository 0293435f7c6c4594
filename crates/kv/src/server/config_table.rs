//! The option table: every [`Config`] field under its Redis name, with its
//! parser, its formatter and whether `CONFIG SET` may change it.
//!
//! The parsers take the option's arguments already split (a redis.conf line
//! after `sdssplitargs`, or a `CONFIG SET` value split the same way) and
//! return Redis's error text on a bad value: the caller adds the context
//! (`CONFIG SET failed (possibly related to argument '...')`, or the line of
//! the file).

use super::config::{split_args, AppendFsync, Config, EvictionPolicy, OutputLimit, ProtectedAction};
use super::latencystats;

/// `CONFIG SET` refuses the option: it is fixed once the server runs.
pub const IMMUTABLE: u8 = 1;
/// `CONFIG SET` refuses the option as a protected config (Redis 7's
/// `enable-protected-configs no`: `dir`, `dbfilename`).
pub const PROTECTED: u8 = 2;
/// The option takes several arguments (`save`, `bind`,
/// `client-output-buffer-limit`).
pub const MULTI_ARG: u8 = 4;
/// `CONFIG SET` rebinds the listening sockets for it (`bind`, `port`; see
/// [`Config::set_at_runtime`](super::config::Config::set_at_runtime)).
pub const LISTENER: u8 = 8;
/// Accepted, validated, stored and reported, with no effect: the option
/// belongs to a Redis feature this server does not have (see
/// [`super::config_inert`]).
pub const INERT: u8 = 16;
/// Left out of `CONFIG GET` with a pattern (Redis's `HIDDEN_CONFIG`): only
/// its exact name lists it.
pub const HIDDEN: u8 = 32;
/// `CONFIG SET` refuses the option with `-LOADING` while the dataset loads
/// (Redis's `DENY_LOADING_CONFIG`: `appendonly`, `dir`,
/// `repl-diskless-load`).
pub const DENY_LOADING: u8 = 64;
/// `CONFIG SET` hides the value from the slow log and MONITOR (Redis's
/// `SENSITIVE_CONFIG`: `requirepass`, `masterauth`, `masteruser`).
pub const SENSITIVE: u8 = 128;

/// One option.
pub struct ConfigOption {
    /// Redis's name.
    pub name: &'static str,
    /// The old name Redis still accepts (`hash-max-ziplist-entries`).
    pub alias: Option<&'static str>,
    /// [`IMMUTABLE`], [`PROTECTED`], [`MULTI_ARG`], [`LISTENER`], [`INERT`],
    /// [`HIDDEN`], [`DENY_LOADING`], [`SENSITIVE`].
    pub flags: u8,
    /// The value as `CONFIG GET` prints it.
    pub get: fn(&Config) -> String,
    /// Parses the arguments into the config, or Redis's error text.
    pub set: fn(&mut Config, &[String]) -> Result<(), String>,
}

impl ConfigOption {
    /// Whether `name` (lower case) is this option's name or alias.
    pub fn is_named(&self, name: &str) -> bool {
        self.name == name || self.alias == Some(name)
    }
}

/// Finds an option by name or alias, in any case.
pub fn find(name: &str) -> Option<&'static ConfigOption> {
    let low = name.to_ascii_lowercase();
    all().find(|o| o.is_named(&low))
}

/// Every option: those with an effect ([`OPTIONS`]), then those accepted
/// with none ([`super::config_inert::OPTIONS`]).
pub fn all() -> impl Iterator<Item = &'static ConfigOption> {
    OPTIONS.iter().chain(super::config_inert::OPTIONS)
}

pub(super) fn one(v: &[String]) -> Result<&str, String> {
    match v {
        [a] => Ok(a.as_str()),
        _ => Err("wrong number of arguments".into()),
    }
}

pub(super) fn yes_no(v: &[String]) -> Result<bool, String> {
    match one(v)?.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

pub(super) fn fmt_bool(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

pub(super) fn int(v: &[String], min: i64, max: i64) -> Result<i64, String> {
    let n = crate::util::num::parse_i64(one(v)?.as_bytes())
        .ok_or_else(|| "argument couldn't be parsed into an integer".to_string())?;
    if n < min || n > max {
        return Err(format!("argument must be between {min} and {max} inclusive"));
    }
    Ok(n)
}

/// Redis's `memtoull`: an integer with an optional unit (b, k, kb, m, mb,
/// g, gb; case-insensitive; k = 1000, kb = 1024).
pub fn memtoull(s: &str) -> Option<u64> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    if num.is_empty() {
        return None;
    }
    let mul: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    num.parse::<u64>().ok()?.checked_mul(mul)
}

pub(super) fn mem(v: &[String], min: u64, max: u64) -> Result<u64, String> {
    let n = memtoull(one(v)?).ok_or_else(|| "argument must be a memory value".to_string())?;
    if n < min || n > max {
        return Err(format!("argument must be between {min} and {max} inclusive"));
    }
    Ok(n)
}

/// `maxmemory-clients`: a memory value, or `N%` of `maxmemory`, stored
/// as Redis stores it (N% as `-N`), with Redis's errors.
fn mem_or_percent(v: &[String]) -> Result<i64, String> {
    let s = one(v)?;
    if let Some(num) = s.strip_suffix('%') {
        if let Ok(n) = num.parse::<i64>() {
            if n >= 0 {
                if n > 100 {
                    // Redis stores N% as -N, so its check is the lower
                    // bound's, worded for percentages.
                    return Err("percentage argument must be less or equal to 100".to_string());
                }
                return Ok(-n);
            }
        }
    }
    let n = memtoull(s).ok_or_else(|| "argument must be a memory or percent value".to_string())?;
    if n > i64::MAX as u64 {
        return Err(format!("argument must be between -100 and {} inclusive", i64::MAX));
    }
    Ok(n as i64)
}

/// `maxmemory-clients` as CONFIG GET prints it: bytes, or `N%`.
fn get_mem_or_percent(v: i64) -> String {
    if v < 0 {
        format!("{}%", -v)
    } else {
        v.to_string()
    }
}

pub(super) fn pick<T: Copy>(v: &[String], names: &[(&str, T)]) -> Result<T, String> {
    let s = one(v)?.to_ascii_lowercase();
    names.iter().find(|(n, _)| *n == s).map(|&(_, t)| t).ok_or_else(|| not_one_of(names))
}

/// Redis's error for a value outside an enum's `names`.
pub(super) fn not_one_of<T>(names: &[(&str, T)]) -> String {
    let all: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
    format!("argument(s) must be one of the following: {}", all.join(", "))
}

const FSYNC: &[(&str, AppendFsync)] =
    &[("everysec", AppendFsync::EverySec), ("always", AppendFsync::Always), ("no", AppendFsync::No)];

const PROTECTED_ACTIONS: &[(&str, ProtectedAction)] =
    &[("no", ProtectedAction::No), ("yes", ProtectedAction::Yes), ("local", ProtectedAction::Local)];

const POLICIES: &[(&str, EvictionPolicy)] = &[
    ("volatile-lru", EvictionPolicy::VolatileLru),
    ("volatile-lfu", EvictionPolicy::VolatileLfu),
    ("volatile-random", EvictionPolicy::VolatileRandom),
    ("volatile-ttl", EvictionPolicy::VolatileTtl),
    ("allkeys-lru", EvictionPolicy::AllKeysLru),
    ("allkeys-lfu", EvictionPolicy::AllKeysLfu),
    ("allkeys-random", EvictionPolicy::AllKeysRandom),
    ("noeviction", EvictionPolicy::NoEviction),
];

const LOGLEVELS: &[(&str, &str)] =
    &[("debug", "debug"), ("verbose", "verbose"), ("notice", "notice"), ("warning", "warning")];

pub(super) fn name_of<T: PartialEq + Copy>(names: &[(&'static str, T)], t: T) -> String {
    names.iter().find(|(_, x)| *x == t).map_or("", |(n, _)| n).to_string()
}

/// Multi-argument options accept their arguments as one string too
/// (`CONFIG SET save "3600 1 300 100"`, `--save "3600 1"`).
pub(super) fn resplit(v: &[String]) -> Result<Vec<String>, String> {
    match v {
        [one] if one.contains(char::is_whitespace) => split_args(one),
        _ => Ok(v.to_vec()),
    }
}

fn set_save(c: &mut Config, v: &[String]) -> Result<(), String> {
    let v = resplit(v)?;
    if v.is_empty() || (v.len() == 1 && v[0].is_empty()) {
        c.save.clear();
        return Ok(());
    }
    if v.len() % 2 != 0 {
        return Err("Invalid save parameters".into());
    }
    let mut out = Vec::new();
    for p in v.chunks(2) {
        let secs = p[0].parse::<u64>().map_err(|_| "Invalid save parameters".to_string())?;
        let changes = p[1].parse::<u64>().map_err(|_| "Invalid save parameters".to_string())?;
        out.push((secs, changes));
    }
    c.save = out;
    Ok(())
}

fn get_save(c: &Config) -> String {
    c.save.iter().map(|(s, n)| format!("{s} {n}")).collect::<Vec<_>>().join(" ")
}

/// `bind`: at most 16 addresses (Redis's `CONFIG_BINDADDR_MAX`); none,
/// or a single empty one, means no TCP listener, as in Redis.
fn set_bind(c: &mut Config, v: &[String]) -> Result<(), String> {
    let mut v = resplit(v)?;
    if v.len() > 16 {
        return Err("Too many bind addresses specified.".into());
    }
    if v.len() == 1 && v[0].is_empty() {
        v.clear();
    }
    c.bind = v;
    Ok(())
}

const OBL_CLASSES: [&str; 3] = ["normal", "slave", "pubsub"];

fn set_obl(c: &mut Config, v: &[String]) -> Result<(), String> {
    let v = resplit(v)?;
    if v.is_empty() || v.len() % 4 != 0 {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut limits = c.client_output_buffer_limit;
    for g in v.chunks(4) {
        let class = match g[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "slave" | "replica" => 1,
            "pubsub" => 2,
            _ => return Err("Invalid client class specified in buffer limit configuration.".into()),
        };
        let bad = || "Error in hard, soft or soft_seconds setting in buffer limit configuration.".to_string();
        let hard = memtoull(&g[1]).ok_or_else(bad)?;
        let soft = memtoull(&g[2]).ok_or_else(bad)?;
        let soft_secs = g[3].parse::<u64>().map_err(|_| bad())?;
        limits[class] = OutputLimit { hard, soft, soft_secs };
    }
    c.client_output_buffer_limit = limits;
    Ok(())
}

fn get_obl(c: &Config) -> String {
    OBL_CLASSES
        .iter()
        .zip(&c.client_output_buffer_limit)
        .map(|(n, l)| format!("{n} {} {} {}", l.hard, l.soft, l.soft_secs))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The event classes of `notify-keyspace-events`, in Redis's print order;
/// `A` stands for all of them.
const EVENT_TYPES: &str = "g$lshzxetd";

/// Parses a `notify-keyspace-events` string into Redis's canonical form.
pub fn canonical_events(s: &str) -> Option<String> {
    let mut have = std::collections::HashSet::new();
    for ch in s.chars() {
        match ch {
            'A' => have.extend(EVENT_TYPES.chars()),
            'K' | 'E' | 'm' | 'n' => {
                have.insert(ch);
            }
            c if EVENT_TYPES.contains(c) => {
                have.insert(c);
            }
            _ => return None,
        }
    }
    let mut out = String::new();
    if EVENT_TYPES.chars().all(|c| have.contains(&c)) {
        out.push('A');
    } else {
        out.extend(EVENT_TYPES.chars().filter(|c| have.contains(c)));
    }
    out.extend("KEmn".chars().filter(|c| have.contains(c)));
    Some(out)
}

fn set_events(c: &mut Config, v: &[String]) -> Result<(), String> {
    let s = one(v)?;
    c.notify_keyspace_events = canonical_events(s)
        .ok_or_else(|| "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".to_string())?;
    Ok(())
}

pub(super) const I32: i64 = i32::MAX as i64;

macro_rules! opt {
    ($name:expr, $alias:expr, $flags:expr, |$c:ident| $get:expr, |$cm:ident, $v:ident| $set:expr) => {
        ConfigOption {
            name: $name,
            alias: $alias,
            flags: $flags,
            get: |$c: &Config| -> String { $get },
            set: |$cm: &mut Config, $v: &[String]| -> Result<(), String> {
                $set;
                Ok(())
            },
        }
    };
}

macro_rules! boolean {
    ($name:expr, $($field:ident).+) => {
        opt!($name, None, 0, |c| fmt_bool(c.$($field).+), |c, v| c.$($field).+ = yes_no(v)?)
    };
}

macro_rules! integer {
    ($name:expr, $alias:expr, $flags:expr, $min:expr, $max:expr, $($field:ident).+) => {
        opt!($name, $alias, $flags, |c| c.$($field).+.to_string(), |c, v| c.$($field).+ = int(v, $min, $max)? as _)
    };
}

macro_rules! memory {
    ($name:expr, $min:expr, $max:expr, $($field:ident).+) => {
        opt!($name, None, 0, |c| c.$($field).+.to_string(), |c, v| c.$($field).+ = mem(v, $min, $max)? as _)
    };
}

/// Every option, in the order `CONFIG GET *` lists them.
pub static OPTIONS: &[ConfigOption] = &[
    opt!("bind", None, LISTENER | MULTI_ARG, |c| c.bind.join(" "), |c, v| set_bind(c, v)?),
    integer!("port", None, LISTENER, 0, 65535, port),
    opt!("shutdown-on-sigint", None, MULTI_ARG, |c| c.shutdown_on_sigint.clone(), |c, v| c
        .shutdown_on_sigint =
        shutdown_flags(v)?),
    opt!("shutdown-on-sigterm", None, MULTI_ARG, |c| c.shutdown_on_sigterm.clone(), |c, v| c
        .shutdown_on_sigterm =
        shutdown_flags(v)?),
    opt!("unixsocket", None, IMMUTABLE, |c| c.unixsocket.clone(), |c, v| c.unixsocket = one(v)?.to_string()),
    opt!("unixsocketperm", None, IMMUTABLE, |c| format!("{:o}", c.unixsocketperm), |c, v| c.unixsocketperm =
        octal(v)?),
    opt!("requirepass", None, SENSITIVE, |c| String::from_utf8_lossy(&c.requirepass).into_owned(), |c, v| {
        c.requirepass = one(v)?.as_bytes().to_vec()
    }),
    boolean!("protected-mode", protected_mode),
    integer!("databases", None, IMMUTABLE, 1, I32, databases),
    integer!("maxclients", None, 0, 1, u32::MAX as i64, maxclients),
    memory!("proto-max-bulk-len", 1 << 20, i64::MAX as u64, proto_max_bulk_len),
    memory!("client-query-buffer-limit", 1 << 20, i64::MAX as u64, client_query_buffer_limit),
    integer!("timeout", None, 0, 0, I32, timeout),
    integer!("hz", None, 0, 0, I32, hz),
    integer!("tcp-backlog", None, IMMUTABLE, 0, I32, tcp_backlog),
    integer!(
        "list-max-listpack-size",
        Some("list-max-ziplist-size"),
        0,
        i32::MIN as i64,
        I32,
        encoding.list_max_listpack_size
    ),
    integer!(
        "hash-max-listpack-entries",
        Some("hash-max-ziplist-entries"),
        0,
        0,
        i64::MAX,
        encoding.hash_max_listpack_entries
    ),
    integer!(
        "hash-max-listpack-value",
        Some("hash-max-ziplist-value"),
        0,
        0,
        i64::MAX,
        encoding.hash_max_listpack_value
    ),
    integer!("set-max-intset-entries", None, 0, 0, i64::MAX, encoding.set_max_intset_entries),
    integer!("set-max-listpack-entries", None, 0, 0, i64::MAX, encoding.set_max_listpack_entries),
    integer!("set-max-listpack-value", None, 0, 0, i64::MAX, encoding.set_max_listpack_value),
    integer!(
        "zset-max-listpack-entries",
        Some("zset-max-ziplist-entries"),
        0,
        0,
        i64::MAX,
        encoding.zset_max_listpack_entries
    ),
    integer!(
        "zset-max-listpack-value",
        Some("zset-max-ziplist-value"),
        0,
        0,
        i64::MAX,
        encoding.zset_max_listpack_value
    ),
    memory!("hll-sparse-max-bytes", 0, i64::MAX as u64, hll_sparse_max_bytes),
    opt!("dir", None, PROTECTED | DENY_LOADING, |c| display_dir(&c.dir), |c, v| c.dir = one(v)?.into()),
    opt!("dbfilename", None, PROTECTED, |c| c.dbfilename.clone(), |c, v| c.dbfilename = one(v)?.into()),
    opt!("save", None, MULTI_ARG, |c| get_save(c), |c, v| set_save(c, v)?),
    boolean!("rdbcompression", rdbcompression),
    opt!("appendonly", None, DENY_LOADING, |c| fmt_bool(c.appendonly), |c, v| c.appendonly = yes_no(v)?),
    opt!("oom-score-adj", None, 0, |c| name_of(super::oom::MODES, c.oom_score_adj), |c, v| c.oom_score_adj =
        pick(v, super::oom::MODES)?),
    opt!(
        "oom-score-adj-values",
        None,
        MULTI_ARG,
        |c| super::oom::format_values(&c.oom_score_adj_values),
        |c, v| c.oom_score_adj_values = super::oom::parse_values(v)?
    ),
    boolean!("stop-writes-on-bgsave-error", stop_writes_on_bgsave_error),
    opt!("appendfilename", None, IMMUTABLE, |c| c.appendfilename.clone(), |c, v| c.appendfilename =
        base_name(v, "appendfilename", "filename")?),
    opt!("appenddirname", None, IMMUTABLE, |c| c.appenddirname.clone(), |c, v| c.appenddirname =
        base_name(v, "appenddirname", "dirname")?),
    boolean!("aof-use-rdb-preamble", aof_use_rdb_preamble),
    boolean!("aof-disable-auto-gc", aof_disable_auto_gc),
    boolean!("aof-timestamp-enabled", aof_timestamp_enabled),
    integer!("rdb-key-save-delay", None, HIDDEN, i32::MIN as i64, I32, rdb_key_save_delay),
    integer!("key-load-delay", None, HIDDEN, i32::MIN as i64, I32, key_load_delay),
    integer!(
        "loading-process-events-interval-bytes",
        None,
        HIDDEN,
        1024,
        I32,
        loading_process_events_interval_bytes
    ),
    opt!("appendfsync", None, 0, |c| name_of(FSYNC, c.appendfsync), |c, v| c.appendfsync = pick(v, FSYNC)?),
    opt!(
        "enable-debug-command",
        None,
        IMMUTABLE,
        |c| name_of(PROTECTED_ACTIONS, c.enable_debug_command),
        |c, v| c.enable_debug_command = pick(v, PROTECTED_ACTIONS)?
    ),
    boolean!("aof-load-truncated", aof_load_truncated),
    integer!("auto-aof-rewrite-percentage", None, 0, 0, I32, auto_aof_rewrite_percentage),
    memory!("auto-aof-rewrite-min-size", 0, i64::MAX as u64, auto_aof_rewrite_min_size),
    memory!("maxmemory", 0, u64::MAX, maxmemory),
    opt!("maxmemory-policy", None, 0, |c| name_of(POLICIES, c.maxmemory_policy), |c, v| c.maxmemory_policy =
        pick(v, POLICIES)?),
    integer!("maxmemory-samples", None, 0, 1, I32, maxmemory_samples),
    opt!("maxmemory-clients", None, 0, |c| get_mem_or_percent(c.maxmemory_clients), |c, v| c
        .maxmemory_clients =
        mem_or_percent(v)?),
    integer!("lfu-log-factor", None, 0, 0, I32, lfu_log_factor),
    integer!("lfu-decay-time", None, 0, 0, I32, lfu_decay_time),
    boolean!("lazyfree-lazy-eviction", lazyfree_lazy_eviction),
    boolean!("lazyfree-lazy-expire", lazyfree_lazy_expire),
    boolean!("lazyfree-lazy-server-del", lazyfree_lazy_server_del),
    boolean!("lazyfree-lazy-user-del", lazyfree_lazy_user_del),
    boolean!("lazyfree-lazy-user-flush", lazyfree_lazy_user_flush),
    integer!("io-threads", None, IMMUTABLE, 1, 128, io_threads),
    integer!("io-coalesce-us", None, 0, 0, 1000, io_coalesce_us),
    integer!("io-coalesce-min-clients", None, 0, 1, I32, io_coalesce_min_clients),
    opt!("notify-keyspace-events", None, 0, |c| c.notify_keyspace_events.clone(), |c, v| set_events(c, v)?),
    opt!("client-output-buffer-limit", None, MULTI_ARG, |c| get_obl(c), |c, v| set_obl(c, v)?),
    integer!("slowlog-log-slower-than", None, 0, -1, i64::MAX, slowlog_log_slower_than),
    integer!("slowlog-max-len", None, 0, 0, i64::MAX, slowlog_max_len),
    integer!("latency-monitor-threshold", None, 0, 0, i64::MAX, latency_monitor_threshold),
    boolean!("latency-tracking", latency_tracking),
    opt!(
        "latency-tracking-info-percentiles",
        None,
        MULTI_ARG,
        |c| latencystats::format_percentiles(&c.latency_tracking_info_percentiles),
        |c, v| c.latency_tracking_info_percentiles = latencystats::parse_percentiles(&resplit(v)?)?
    ),
    integer!("active-expire-effort", None, 0, 1, 10, active_expire_effort),
    opt!("loglevel", None, 0, |c| c.loglevel.clone(), |c, v| c.loglevel = pick(v, LOGLEVELS)?.into()),
    integer!("tcp-keepalive", None, 0, 0, I32, tcp_keepalive),
    opt!("daemonize", None, IMMUTABLE, |c| fmt_bool(c.daemonize), |c, v| c.daemonize = yes_no(v)?),
    opt!(
        "pidfile",
        None,
        IMMUTABLE,
        |c| c.pidfile.as_ref().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default(),
        |c, v| {
            let p = one(v)?;
            c.pidfile = (!p.is_empty()).then(|| p.into());
        }
    ),
    opt!("logfile", None, IMMUTABLE, |c| c.logfile.clone(), |c, v| c.logfile = one(v)?.into()),
    opt!("supervised", None, IMMUTABLE, |c| c.supervised.clone(), |c, v| c.supervised =
        pick(v, SUPERVISED)?.into()),
];

const SUPERVISED: &[(&str, &str)] =
    &[("upstart", "upstart"), ("systemd", "systemd"), ("auto", "auto"), ("no", "no")];

/// `dir` as CONFIG GET shows it: the absolute path, as Redis reports its
/// working directory.
fn display_dir(p: &std::path::Path) -> String {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()).to_string_lossy().into_owned()
}

/// `appendfilename` and `appenddirname`: a name inside `dir`, never a
/// path (Redis's `isValidAOFfilename` and `isValidAOFdirname`).
fn base_name(v: &[String], option: &str, what: &str) -> Result<String, String> {
    let s = one(v)?;
    if s.is_empty() {
        return Err(format!("{option} can't be empty"));
    }
    if s.contains('/') || s == "." || s == ".." {
        return Err(format!("{option} can't be a path, just a {what}"));
    }
    Ok(s.to_string())
}

/// `unixsocketperm`: octal, 0..=0777 (Redis's bounds and words).
fn octal(v: &[String]) -> Result<u32, String> {
    let n = i64::from_str_radix(one(v)?, 8)
        .map_err(|_| "argument couldn't be parsed as an octal number".to_string())?;
    if !(0..=0o777).contains(&n) {
        return Err("argument must be between 0 and 511 inclusive".into());
    }
    Ok(n as u32)
}

/// A multi-argument enum of bit flags (`shutdown-on-sigint save now`),
/// printed as Redis's `configEnumGetName` prints it.
pub(super) fn shutdown_flags(v: &[String]) -> Result<String, String> {
    let v = resplit(v)?;
    if v.is_empty() {
        return Err(not_one_of(SHUTDOWN));
    }
    let mut bits = 0;
    for a in &v {
        let a = a.to_ascii_lowercase();
        bits |=
            SHUTDOWN.iter().find(|(n, _)| *n == a).map(|&(_, x)| x).ok_or_else(|| not_one_of(SHUTDOWN))?;
    }
    if bits & 1 != 0 && bits & 2 != 0 {
        return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
    }
    if let Some((n, _)) = SHUTDOWN.iter().find(|(_, x)| *x == bits) {
        return Ok(n.to_string());
    }
    Ok(SHUTDOWN
        .iter()
        .filter(|&&(_, x)| x != 0 && bits & x == x)
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(" "))
}

const SHUTDOWN: &[(&str, u32)] = &[("default", 0), ("save", 1), ("nosave", 2), ("now", 4), ("force", 8)];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maxmemory_clients_takes_bytes_or_percent() {
        let v = |s: &str| vec![s.to_string()];
        assert_eq!(mem_or_percent(&v("10%")), Ok(-10));
        assert_eq!(get_mem_or_percent(-10), "10%");
        assert_eq!(
            mem_or_percent(&v("200%")).unwrap_err(),
            "percentage argument must be less or equal to 100"
        );
        assert_eq!(mem_or_percent(&v("1kb")), Ok(1024));
        assert_eq!(get_mem_or_percent(1024), "1024");
    }

    #[test]
    fn memory_units_follow_memtoull() {
        assert_eq!(memtoull("1gb"), Some(1 << 30));
        assert_eq!(memtoull("100mb"), Some(100 << 20));
        assert_eq!(memtoull("10k"), Some(10_000));
        assert_eq!(memtoull("10KB"), Some(10_240));
        assert_eq!(memtoull("7"), Some(7));
        assert_eq!(memtoull("1.5gb"), None);
        assert_eq!(memtoull("-1"), None);
        assert_eq!(memtoull("gb"), None);
    }

    #[test]
    fn event_flags_print_canonically() {
        assert_eq!(canonical_events("KEA").as_deref(), Some("AKE"));
        assert_eq!(canonical_events("Ex$").as_deref(), Some("$xE"));
        assert_eq!(canonical_events("").as_deref(), Some(""));
        assert_eq!(canonical_events("Q"), None);
    }

    #[test]
    fn names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for o in all() {
            assert!(seen.insert(o.name), "{}", o.name);
            if let Some(a) = o.alias {
                assert!(seen.insert(a), "{a}");
            }
        }
    }
}
