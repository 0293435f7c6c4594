//! The options accepted with no effect: every other directive Redis 7.0
//! knows (src/config.c's `standardConfig` table), for features this server
//! does not have — cluster, TLS, ACL files, modules' and
//! scripting's limits, active defragmentation, syslog, OOM score and CPU
//! affinity tuning, the process title.
//!
//! Each is **accepted, validated, stored and reported by `CONFIG GET`, with
//! no effect**: a redis.conf written for redis-server (Debian's stock one
//! sets dozens of these) loads unchanged, a bad value is refused with
//! Redis's words, `CONFIG SET` follows Redis's mutability, and `CONFIG
//! REWRITE` keeps them. Their values live in [`Config::inert`] (an option
//! never set reads as Redis's default), and the server logs, at start-up,
//! the ones the configuration set, so nobody takes them for working
//! features.
//!
//! The options, by the feature they belong to (each accepted with no
//! effect):
//!
//! - replication tuning (the options in [`READ_BY_REPLICATION`] are read
//!   by replication; the rest have no effect): `repl-*`,
//!   `replica-*` (and their `slave-*` aliases), `min-replicas-*`,
//!   `rdb-del-sync-files`, `propagation-error-behavior`;
//! - cluster: `cluster-*`;
//! - TLS: `tls-*`;
//! - ACL and modules: `aclfile`, `acllog-max-len`, `acl-pubsub-default`,
//!   `enable-protected-configs` (`dir` and `dbfilename` are never
//!   changed at run time here), `enable-module-command`;
//! - scripting and tracking: `busy-reply-threshold` (`lua-time-limit`),
//!   `tracking-table-max-keys`; streams: `stream-node-max-*`; lists:
//!   `list-compress-depth` (quicklist nodes are never compressed);
//! - persistence tuning: `rdbchecksum` (the checksum is always written and
//!   checked), `aof-rewrite-incremental-fsync`,
//!   `rdb-save-incremental-fsync`, `no-appendfsync-on-rewrite`,
//!   `sanitize-dump-payload`;
//! - memory and CPU tuning: `active-defrag-*` (`activedefrag yes` is
//!   refused, as by a Redis built without defragmentation),
//!   `jemalloc-bg-thread`, `disable-thp`, `maxmemory-eviction-tenacity`,
//!   `activerehashing` (rehashing always runs), `dynamic-hz`,
//!   `io-threads-do-reads` (IO threads always read),
//!   `server_cpulist`, `bio_cpulist`, `aof_rewrite_cpulist`,
//!   `bgsave_cpulist`;
//! - the process and its surroundings: `bind-source-addr`, `socket-mark-id`,
//!   `always-show-logo`, `set-proc-title`, `proc-title-template`,
//!   `syslog-enabled`, `syslog-ident`, `syslog-facility`, `crash-log-enabled`,
//!   `crash-memcheck-enabled`, `ignore-warnings`;
//! - Redis's own debugging hooks (hidden from `CONFIG GET *`):
//!   `use-exit-on-panic`, `watchdog-period`.
//!
//! `replicaof` (`slaveof`) is not inert: a master address given at start
//! is followed (see `persist::replica`), as REPLICAOF does at run time.

use super::config::Config;
use super::config_table::{
    fmt_bool, int, mem, name_of, one, pick, resplit, yes_no, ConfigOption, DENY_LOADING, HIDDEN, I32,
    IMMUTABLE, INERT, MULTI_ARG, SENSITIVE,
};

/// Redis's refusal of `activedefrag yes` when built without defrag support.
const NO_DEFRAG: &str = "Active defragmentation cannot be enabled: it requires a Redis server compiled with a \
                         modified Jemalloc like the one shipped by default with the Redis source distribution";

/// The value of inert option `name`, or `default` if it was never set.
fn get(c: &Config, name: &'static str, default: &str) -> String {
    c.inert.get(name).cloned().unwrap_or_else(|| default.to_string())
}

/// One of `names` (any case); the canonical spelling is the first name
/// with the same value, as Redis prints it (`oom-score-adj relative` reads
/// back as `yes`).
fn enumv(v: &[String], names: &[(&'static str, u32)]) -> Result<String, String> {
    Ok(name_of(names, pick(v, names)?))
}

/// The options kept in this table's store (they belong to no field of
/// [`Config`]) that replication reads, so they are not "with no effect":
/// `replicaof` is followed, and the rest shape the link (see
/// `persist::replica` and `persist::repl`), or how long a shutdown waits
/// for the replicas (`shutdown-timeout`, see `server::shutdown`).
pub const READ_BY_REPLICATION: &[&str] = &[
    "shutdown-timeout",
    "replicaof",
    "masterauth",
    "masteruser",
    "repl-timeout",
    "repl-ping-replica-period",
    "repl-backlog-size",
    "repl-backlog-ttl",
    "replica-read-only",
    "replica-serve-stale-data",
    "min-replicas-to-write",
    "min-replicas-max-lag",
];

const PROTECTED_ACTION: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("local", 2)];

/// `replicaof host port` (kept as `host port`, followed at start; see
/// `persist::replica`) or `replicaof no one` / an empty value, as CONFIG
/// REWRITE writes "no master".
fn replicaof(v: &[String]) -> Result<String, String> {
    let v = resplit(v)?;
    if v.len() == 1 && v[0].is_empty() {
        return Ok(String::new());
    }
    if v.len() != 2 {
        return Err("wrong number of arguments".into());
    }
    if v[0].eq_ignore_ascii_case("no") && v[1].eq_ignore_ascii_case("one") {
        return Ok(String::new());
    }
    match v[1].parse::<i64>() {
        Ok(p) if (0..=65535).contains(&p) => Ok(format!("{} {p}", v[0])),
        _ => Err("Invalid master port".into()),
    }
}

/// `proc-title-template`: `{name}` variables Redis knows, `{{`/`}}` for
/// literal braces, and something left once expanded with an empty title.
fn proc_title(v: &[String]) -> Result<String, String> {
    const BAD: &str = "template format is invalid or contains unknown variables";
    const VARS: &[&str] =
        &["title", "listen-addr", "server-mode", "config-file", "port", "tls-port", "unixsocket"];
    let s = one(v)?;
    let (mut rest, mut visible) = (s, false);
    while let Some(i) = rest.find(['{', '}']) {
        visible |= !rest[..i].trim().is_empty();
        let r = &rest[i..];
        if r.starts_with("{{") || r.starts_with("}}") {
            visible = true;
            rest = &r[2..];
        } else if let (Some(name), true) =
            (r[1..].split('}').next(), r.starts_with('{') && r[1..].contains('}'))
        {
            if !VARS.contains(&name) {
                return Err(BAD.into());
            }
            visible |= matches!(name, "listen-addr" | "config-file" | "port" | "tls-port");
            rest = &r[name.len() + 2..];
        } else {
            return Err(BAD.into());
        }
    }
    if !visible && rest.trim().is_empty() {
        return Err(BAD.into());
    }
    Ok(s.to_string())
}

/// One inert option: `$parse` turns the arguments `$v` into the canonical
/// value, or Redis's error text.
macro_rules! inert {
    ($name:literal, $alias:expr, $flags:expr, $default:expr, |$v:ident| $parse:expr) => {
        ConfigOption {
            name: $name,
            alias: $alias,
            flags: $flags | INERT,
            get: |c: &Config| -> String { get(c, $name, $default) },
            set: |c: &mut Config, $v: &[String]| -> Result<(), String> {
                let value: String = $parse;
                c.inert.insert($name, value);
                Ok(())
            },
        }
    };
}

macro_rules! b {
    ($name:literal, $alias:expr, $flags:expr, $default:literal) => {
        inert!($name, $alias, $flags, $default, |v| fmt_bool(yes_no(v)?))
    };
}

macro_rules! i {
    ($name:literal, $alias:expr, $flags:expr, $min:expr, $max:expr, $default:literal) => {
        inert!($name, $alias, $flags, $default, |v| int(v, $min, $max)?.to_string())
    };
}

macro_rules! m {
    ($name:literal, $min:expr, $max:expr, $default:literal) => {
        inert!($name, None, 0, $default, |v| mem(v, $min, $max)?.to_string())
    };
}

macro_rules! s {
    ($name:literal, $alias:expr, $flags:expr, $default:literal) => {
        inert!($name, $alias, $flags, $default, |v| one(v)?.to_string())
    };
}

macro_rules! e {
    ($name:literal, $flags:expr, $names:expr, $default:literal) => {
        inert!($name, None, $flags, $default, |v| enumv(v, $names)?)
    };
}

const L: i64 = i64::MAX;

/// Every option accepted with no effect, in Redis's table order (see the
/// module documentation).
pub static OPTIONS: &[ConfigOption] = &[
    // Booleans.
    b!("rdbchecksum", None, IMMUTABLE, "yes"),
    b!("io-threads-do-reads", None, IMMUTABLE, "no"),
    b!("always-show-logo", None, IMMUTABLE, "no"),
    b!("rdb-del-sync-files", None, 0, "no"),
    b!("activerehashing", None, 0, "yes"),
    b!("set-proc-title", None, IMMUTABLE, "yes"),
    b!("dynamic-hz", None, 0, "yes"),
    b!("repl-disable-tcp-nodelay", None, 0, "no"),
    b!("repl-diskless-sync", None, 0, "yes"),
    b!("aof-rewrite-incremental-fsync", None, 0, "yes"),
    b!("no-appendfsync-on-rewrite", None, 0, "no"),
    b!("cluster-require-full-coverage", None, 0, "yes"),
    b!("rdb-save-incremental-fsync", None, 0, "yes"),
    b!("cluster-replica-no-failover", Some("cluster-slave-no-failover"), 0, "no"),
    b!("replica-lazy-flush", Some("slave-lazy-flush"), 0, "no"),
    b!("replica-serve-stale-data", Some("slave-serve-stale-data"), 0, "yes"),
    b!("replica-read-only", Some("slave-read-only"), 0, "yes"),
    b!("replica-ignore-maxmemory", Some("slave-ignore-maxmemory"), 0, "yes"),
    b!("jemalloc-bg-thread", None, 0, "yes"),
    // No active defragmentation here: refused as by a Redis built without
    // it (`isValidActiveDefrag`), rather than accepted and ignored.
    inert!("activedefrag", None, 0, "no", |v| {
        if yes_no(v)? {
            return Err(NO_DEFRAG.into());
        }
        fmt_bool(false)
    }),
    b!("syslog-enabled", None, IMMUTABLE, "no"),
    b!("cluster-enabled", None, IMMUTABLE, "no"),
    b!("cluster-allow-reads-when-down", None, 0, "no"),
    b!("cluster-allow-pubsubshard-when-down", None, 0, "yes"),
    b!("crash-log-enabled", None, 0, "yes"),
    b!("crash-memcheck-enabled", None, 0, "yes"),
    b!("use-exit-on-panic", None, HIDDEN, "no"),
    b!("disable-thp", None, IMMUTABLE, "yes"),
    b!("cluster-allow-replica-migration", None, 0, "yes"),
    b!("replica-announced", None, 0, "yes"),
    b!("replica-ignore-disk-write-errors", None, 0, "no"),
    // Strings.
    s!("aclfile", None, IMMUTABLE, ""),
    s!("replica-announce-ip", Some("slave-announce-ip"), 0, ""),
    s!("masteruser", None, SENSITIVE, ""),
    s!("cluster-announce-ip", None, 0, ""),
    s!("cluster-config-file", None, IMMUTABLE, "nodes.conf"),
    s!("cluster-announce-hostname", None, 0, ""),
    s!("syslog-ident", None, IMMUTABLE, "redis"),
    s!("server_cpulist", None, IMMUTABLE, ""),
    s!("bio_cpulist", None, IMMUTABLE, ""),
    s!("aof_rewrite_cpulist", None, IMMUTABLE, ""),
    s!("bgsave_cpulist", None, IMMUTABLE, ""),
    s!("ignore-warnings", None, 0, ""),
    inert!("proc-title-template", None, 0, "{title} {listen-addr} {server-mode}", |v| proc_title(v)?),
    s!("bind-source-addr", None, 0, ""),
    s!("masterauth", None, SENSITIVE, ""),
    // Enums.
    e!(
        "syslog-facility",
        IMMUTABLE,
        &[
            ("user", 0),
            ("local0", 1),
            ("local1", 2),
            ("local2", 3),
            ("local3", 4),
            ("local4", 5),
            ("local5", 6),
            ("local6", 7),
            ("local7", 8)
        ],
        "local0"
    ),
    e!("repl-diskless-load", DENY_LOADING, &[("disabled", 0), ("on-empty-db", 1), ("swapdb", 2)], "disabled"),
    e!("acl-pubsub-default", 0, &[("allchannels", 1), ("resetchannels", 0)], "resetchannels"),
    e!("sanitize-dump-payload", 0, &[("no", 0), ("yes", 1), ("clients", 2)], "no"),
    e!("enable-protected-configs", IMMUTABLE, PROTECTED_ACTION, "no"),
    e!("enable-module-command", IMMUTABLE, PROTECTED_ACTION, "no"),
    e!("cluster-preferred-endpoint-type", 0, &[("ip", 0), ("hostname", 1), ("unknown-endpoint", 2)], "ip"),
    e!("propagation-error-behavior", 0, &[("ignore", 0), ("panic", 1), ("panic-on-replicas", 2)], "ignore"),
    // Numbers.
    i!("cluster-replica-validity-factor", Some("cluster-slave-validity-factor"), 0, 0, I32, "10"),
    i!("cluster-migration-barrier", None, 0, 0, I32, "1"),
    i!("active-defrag-cycle-min", None, 0, 1, 99, "1"),
    i!("active-defrag-cycle-max", None, 0, 1, 99, "25"),
    i!("active-defrag-threshold-lower", None, 0, 0, 1000, "10"),
    i!("active-defrag-threshold-upper", None, 0, 0, 1000, "100"),
    i!("replica-priority", Some("slave-priority"), 0, 0, I32, "100"),
    i!("repl-diskless-sync-delay", None, 0, 0, I32, "5"),
    i!("maxmemory-eviction-tenacity", None, 0, 0, 100, "10"),
    i!("replica-announce-port", Some("slave-announce-port"), 0, 0, 65535, "0"),
    i!("cluster-port", None, IMMUTABLE, 0, 65535, "0"),
    i!("cluster-announce-bus-port", None, 0, 0, 65535, "0"),
    i!("cluster-announce-port", None, 0, 0, 65535, "0"),
    i!("cluster-announce-tls-port", None, 0, 0, 65535, "0"),
    i!("repl-timeout", None, 0, 1, I32, "60"),
    i!("repl-ping-replica-period", Some("repl-ping-slave-period"), 0, 1, I32, "10"),
    i!("list-compress-depth", None, 0, 0, I32, "0"),
    i!("min-replicas-to-write", Some("min-slaves-to-write"), 0, 0, I32, "0"),
    i!("min-replicas-max-lag", Some("min-slaves-max-lag"), 0, 0, I32, "10"),
    i!("watchdog-period", None, HIDDEN, 0, I32, "0"),
    i!("shutdown-timeout", None, 0, 0, I32, "10"),
    i!("repl-diskless-sync-max-replicas", None, 0, 0, I32, "0"),
    i!("socket-mark-id", None, IMMUTABLE, 0, u32::MAX as i64, "0"),
    i!("active-defrag-max-scan-fields", None, 0, 1, L, "1000"),
    i!("acllog-max-len", None, 0, 0, L, "128"),
    i!("busy-reply-threshold", Some("lua-time-limit"), 0, 0, L, "5000"),
    i!("cluster-node-timeout", None, 0, 0, L, "15000"),
    i!("stream-node-max-entries", None, 0, 0, L, "100"),
    m!("repl-backlog-size", 1, L as u64, "1048576"),
    m!("cluster-link-sendbuf-limit", 0, u64::MAX, "0"),
    m!("active-defrag-ignore-bytes", 1, L as u64, "104857600"),
    m!("stream-node-max-bytes", 0, L as u64, "4096"),
    i!("tracking-table-max-keys", None, 0, 0, L, "1000000"),
    i!("repl-backlog-ttl", None, 0, 0, L, "3600"),
    // TLS (Redis built with TLS, as Debian's is).
    i!("tls-port", None, 0, 0, 65535, "0"),
    i!("tls-session-cache-size", None, 0, 0, I32, "20480"),
    i!("tls-session-cache-timeout", None, 0, 0, I32, "300"),
    b!("tls-cluster", None, 0, "no"),
    b!("tls-replication", None, 0, "no"),
    e!("tls-auth-clients", 0, &[("no", 0), ("yes", 1), ("optional", 2)], "yes"),
    b!("tls-prefer-server-ciphers", None, 0, "no"),
    b!("tls-session-caching", None, 0, "yes"),
    s!("tls-cert-file", None, 0, ""),
    s!("tls-key-file", None, 0, ""),
    s!("tls-key-file-pass", None, 0, ""),
    s!("tls-client-cert-file", None, 0, ""),
    s!("tls-client-key-file", None, 0, ""),
    s!("tls-client-key-file-pass", None, 0, ""),
    s!("tls-dh-params-file", None, 0, ""),
    s!("tls-ca-cert-file", None, 0, ""),
    s!("tls-ca-cert-dir", None, 0, ""),
    s!("tls-protocols", None, 0, ""),
    s!("tls-ciphers", None, 0, ""),
    s!("tls-ciphersuites", None, 0, ""),
    // Special.
    inert!("replicaof", Some("slaveof"), IMMUTABLE | MULTI_ARG, "", |v| replicaof(v)?),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn special_values_follow_redis() {
        use super::super::config_table::shutdown_flags;
        assert_eq!(shutdown_flags(&v(&["now", "SAVE"])).unwrap(), "save now");
        assert_eq!(shutdown_flags(&v(&["default"])).unwrap(), "default");
        assert!(shutdown_flags(&v(&["save", "nosave"])).unwrap_err().contains("simultaneously"));
        assert_eq!(enumv(&v(&["relative"]), &[("no", 0), ("yes", 1), ("relative", 1)]).unwrap(), "yes");
        assert_eq!(replicaof(&v(&["no", "one"])).unwrap(), "");
        assert_eq!(replicaof(&v(&[""])).unwrap(), "");
        assert_eq!(replicaof(&v(&["10.0.0.1", "6379"])).unwrap(), "10.0.0.1 6379");
        assert!(proc_title(&v(&["{title} {listen-addr} {server-mode}"])).is_ok());
        assert!(proc_title(&v(&["{title}"])).is_err());
        assert!(proc_title(&v(&["{nosuch}"])).is_err());
        assert!(proc_title(&v(&["x {title"])).is_err());
    }
}
