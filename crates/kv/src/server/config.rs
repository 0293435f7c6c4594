//! The server's options, under redis-server's names.

use super::config_syntax::quote;
pub use super::config_syntax::split_args;
use super::config_table as table;
use crate::types::EncodingConfig;

/// Every option the server has. `CONFIG GET/SET`, the command line and a
/// redis.conf file all address these by Redis's option names.
#[derive(Clone, Debug)]
pub struct Config {
    /// `bind`: addresses to listen on.
    pub bind: Vec<String>,
    /// `port` (0 picks a free port; the server reports the one it got),
    /// except with a `unixsocket`, where 0 means no TCP listener at all,
    /// as in Redis.
    pub port: u16,
    /// `unixsocket`: the path of a Unix-domain socket to listen on as
    /// well (empty: none). A stale file there is removed first, and the
    /// socket file is removed at exit.
    pub unixsocket: String,
    /// `unixsocketperm`: the socket file's permission bits (0: as the
    /// umask leaves them).
    pub unixsocketperm: u32,
    /// `shutdown-on-sigint`: how SIGINT shuts down (`default`, or flags
    /// among `save`/`nosave`, `now`, `force`, as SHUTDOWN takes them).
    pub shutdown_on_sigint: String,
    /// `shutdown-on-sigterm`: the same for SIGTERM.
    pub shutdown_on_sigterm: String,
    /// `requirepass`: the default user's password; empty means none.
    pub requirepass: Vec<u8>,
    /// `protected-mode`: refuse non-loopback clients when no password is set.
    pub protected_mode: bool,
    /// `databases`.
    pub databases: usize,
    /// `maxclients`.
    pub maxclients: usize,
    /// `proto-max-bulk-len`.
    pub proto_max_bulk_len: i64,
    /// `client-query-buffer-limit`.
    pub client_query_buffer_limit: usize,
    /// `timeout`: close clients idle this many seconds (0: never).
    pub timeout: u64,
    /// `hz`: how often the server's cron runs per second.
    pub hz: u32,
    /// `io-coalesce-us` (spindle's own): while at least
    /// `io-coalesce-min-clients` clients are active per millisecond, the
    /// event loop sleeps this many microseconds before each poll, so that
    /// it serves clients in batches (see spindle-loop's `Coalesce`); 0
    /// turns it off.
    pub io_coalesce_us: u32,
    /// `io-coalesce-min-clients` (spindle's own): see `io_coalesce_us`.
    pub io_coalesce_min_clients: u32,
    /// `tcp-backlog`.
    pub tcp_backlog: u32,
    /// The list, hash, set and sorted-set encoding thresholds.
    pub encoding: EncodingConfig,
    /// `hll-sparse-max-bytes`: the longest a sparse HyperLogLog may grow
    /// (header included) before it is promoted to dense.
    pub hll_sparse_max_bytes: usize,
    /// `dir`: where snapshots and the AOF live (fixed at start-up).
    pub dir: std::path::PathBuf,
    /// `dbfilename` (fixed at start-up).
    pub dbfilename: String,
    /// `save`: snapshot after `secs` seconds if at least `changes` changes.
    pub save: Vec<(u64, u64)>,
    /// `rdbcompression`: LZF-compress long strings in snapshots.
    pub rdbcompression: bool,
    /// `appendonly`.
    pub appendonly: bool,
    /// `stop-writes-on-bgsave-error`: with save points configured, refuse
    /// writes while the last snapshot failed (Redis's default, so that a
    /// failing disk is noticed by RDB-only users).
    pub stop_writes_on_bgsave_error: bool,
    /// `appendfilename`: the prefix of the AOF's file names.
    pub appendfilename: String,
    /// `appenddirname`: the AOF folder, inside `dir`.
    pub appenddirname: String,
    /// `aof-use-rdb-preamble`: a rewrite writes its base file as RDB
    /// (smaller, faster to load) rather than as commands.
    pub aof_use_rdb_preamble: bool,
    /// `aof-disable-auto-gc`: keep the files a rewrite replaced.
    pub aof_disable_auto_gc: bool,
    /// `aof-timestamp-enabled`: annotate the AOF with `#TS:<unix time>`
    /// lines (at most one a second, and at the top of a command-format
    /// base), which `redis-check-aof --truncate-to-timestamp` cuts at.
    pub aof_timestamp_enabled: bool,
    /// `rdb-key-save-delay` (hidden, a test hook as in Redis): microseconds
    /// a BGSAVE or rewrite child sleeps after each key.
    pub rdb_key_save_delay: i64,
    /// `key-load-delay` (hidden, a test hook as in Redis): microseconds
    /// the loader sleeps after each key at start-up; `-n` sleeps 1 µs for
    /// one key in `n`.
    pub key_load_delay: i64,
    /// `loading-process-events-interval-bytes` (hidden): while the dataset
    /// loads, clients are served after each this many bytes of an RDB
    /// file (see `server::loading`).
    pub loading_process_events_interval_bytes: i64,
    /// `appendfsync`.
    pub appendfsync: AppendFsync,
    /// `enable-debug-command`: who may run DEBUG. Off by default, as in
    /// Redis 7: DEBUG SLEEP stops the server, DEBUG RELOAD and POPULATE
    /// rewrite or grow the dataset.
    pub enable_debug_command: ProtectedAction,
    /// `aof-load-truncated`: load an AOF whose last command is cut short.
    pub aof_load_truncated: bool,
    /// `auto-aof-rewrite-percentage`.
    pub auto_aof_rewrite_percentage: u64,
    /// `auto-aof-rewrite-min-size`.
    pub auto_aof_rewrite_min_size: u64,
    /// `maxmemory` in bytes (0: no limit).
    pub maxmemory: u64,
    /// `maxmemory-policy`.
    pub maxmemory_policy: EvictionPolicy,
    /// `maxmemory-samples`.
    pub maxmemory_samples: usize,
    /// `maxmemory-clients`, stored as Redis stores it: 0 is off, a
    /// positive value is bytes, and `-N` is N% of `maxmemory` (see
    /// [`super::client_evict::limit`] for the limit it gives).
    pub maxmemory_clients: i64,
    /// `lfu-log-factor`: how slowly LFU counters grow (see [`crate::lfu`]).
    pub lfu_log_factor: u32,
    /// `lfu-decay-time`: minutes per decrement of an idle LFU counter.
    pub lfu_decay_time: u32,
    /// `lazyfree-lazy-eviction`.
    pub lazyfree_lazy_eviction: bool,
    /// `lazyfree-lazy-expire`.
    pub lazyfree_lazy_expire: bool,
    /// `lazyfree-lazy-server-del` (DEL, RENAME overwrites, SET over a big value).
    pub lazyfree_lazy_server_del: bool,
    /// `lazyfree-lazy-user-del`: DEL behaves as UNLINK.
    pub lazyfree_lazy_user_del: bool,
    /// `lazyfree-lazy-user-flush`: FLUSHDB/FLUSHALL default to ASYNC.
    pub lazyfree_lazy_user_flush: bool,
    /// `io-threads` (1: the main thread does all IO).
    pub io_threads: usize,
    /// `notify-keyspace-events`, as the flag string Redis prints.
    pub notify_keyspace_events: String,
    /// `client-output-buffer-limit` for normal, replica and pubsub clients.
    pub client_output_buffer_limit: [OutputLimit; 3],
    /// `slowlog-log-slower-than` in microseconds (negative: off).
    pub slowlog_log_slower_than: i64,
    /// `slowlog-max-len`.
    pub slowlog_max_len: usize,
    /// `latency-monitor-threshold` in ms (0: off).
    pub latency_monitor_threshold: u64,
    /// `latency-tracking`: record every command's latency in its histogram
    /// (INFO latencystats, LATENCY HISTOGRAM).
    pub latency_tracking: bool,
    /// `latency-tracking-info-percentiles`: the percentiles INFO
    /// latencystats prints.
    pub latency_tracking_info_percentiles: Vec<f64>,
    /// `active-expire-effort` (1..=10).
    pub active_expire_effort: u32,
    /// `loglevel`.
    pub loglevel: String,
    /// `tcp-keepalive`: seconds of idleness before the kernel probes a
    /// client's connection (SO_KEEPALIVE with TCP_KEEPIDLE, and probes every
    /// third of that, 3 of them, as Redis's `anetKeepAlive`); 0: off.
    pub tcp_keepalive: u32,
    /// `daemonize`: fork into the background at start (see
    /// [`super::process::serve`]).
    pub daemonize: bool,
    /// `pidfile`: written with the process id at start, removed at a clean
    /// shutdown. With `daemonize yes` and none given, `/var/run/redis.pid`.
    pub pidfile: Option<std::path::PathBuf>,
    /// `logfile`: the log's file, appended to; empty for standard error.
    pub logfile: String,
    /// `supervised`: `systemd` (or `auto` with `NOTIFY_SOCKET` set) tells
    /// systemd when the server is ready and when it stops (`sd_notify`'s
    /// READY=1 and STOPPING=1); `upstart` and `no` do nothing.
    pub supervised: String,
    /// `oom-score-adj`: 0 no, 1 yes (relative), 2 absolute (see
    /// [`super::oom`]).
    pub oom_score_adj: u32,
    /// `oom-score-adj-values`: the server's, a replica's and a background
    /// child's adjustment.
    pub oom_score_adj_values: [i32; 3],
    /// The options accepted with no effect ([`super::config_inert`]) that
    /// were set, by name, with their canonical values; the rest read as
    /// their Redis default.
    pub inert: std::collections::BTreeMap<&'static str, String>,
    /// The config file the server was started with (CONFIG REWRITE writes
    /// it back; INFO's `config_file`).
    pub config_file: Option<std::path::PathBuf>,
    /// `rename-command` lines, in order: (name, new name; empty removes
    /// the command). A config-file directive, not a CONFIG option; see
    /// [`crate::cmd::rename`].
    pub renames: Vec<(String, String)>,
}

/// `enable-debug-command` (and Redis's other protected actions): who may
/// run the command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtectedAction {
    /// Nobody (Redis 7's default).
    No,
    /// Every client.
    Yes,
    /// Clients connected from 127.0.0.1 or ::1.
    Local,
}

/// `appendfsync`: when the AOF is fsync'd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendFsync {
    /// After every write, before the reply is sent.
    Always,
    /// Once a second, on a background thread.
    EverySec,
    /// Left to the kernel.
    No,
}

/// `maxmemory-policy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvictionPolicy {
    /// Refuse writes that need memory.
    NoEviction,
    /// Evict any key, least recently used first (sampled).
    AllKeysLru,
    /// Evict keys with a TTL, least recently used first.
    VolatileLru,
    /// Evict any key at random.
    AllKeysRandom,
    /// Evict keys with a TTL at random.
    VolatileRandom,
    /// Evict keys with a TTL, nearest deadline first.
    VolatileTtl,
    /// Evict any key, least frequently used first (sampled; see
    /// [`crate::lfu`]).
    AllKeysLfu,
    /// Evict keys with a TTL, least frequently used first.
    VolatileLfu,
}

impl EvictionPolicy {
    /// Whether the policy counts accesses (LFU) rather than timing them.
    pub fn is_lfu(self) -> bool {
        matches!(self, EvictionPolicy::AllKeysLfu | EvictionPolicy::VolatileLfu)
    }

    /// Whether the policy evicts by LRU idle time, and snapshots therefore
    /// save each key's idle time (Redis's `MAXMEMORY_FLAG_LRU`).
    pub fn is_lru(self) -> bool {
        matches!(self, EvictionPolicy::AllKeysLru | EvictionPolicy::VolatileLru)
    }
}

impl Config {
    /// The options this config set that have no effect in this server
    /// ([`super::config_inert`]), by name, for the start-up log.
    pub fn inert_in_use(&self) -> Vec<&'static str> {
        self.inert
            .keys()
            .copied()
            .filter(|name| !super::config_inert::READ_BY_REPLICATION.contains(name))
            .collect()
    }

    /// The LFU parameters if an LFU policy is in force.
    pub fn lfu(&self) -> Option<crate::lfu::LfuParams> {
        self.maxmemory_policy.is_lfu().then_some(crate::lfu::LfuParams {
            log_factor: self.lfu_log_factor,
            decay_time: self.lfu_decay_time,
        })
    }
}

/// One class's `client-output-buffer-limit`: a client is closed when its
/// pending output passes `hard`, or stays above `soft` for `soft_secs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputLimit {
    /// Bytes; 0 means no limit.
    pub hard: u64,
    /// Bytes; 0 means no limit.
    pub soft: u64,
    /// Seconds above `soft` before the client is closed.
    pub soft_secs: u64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            bind: vec!["127.0.0.1".into()],
            port: 6379,
            unixsocket: String::new(),
            unixsocketperm: 0,
            shutdown_on_sigint: "default".into(),
            shutdown_on_sigterm: "default".into(),
            requirepass: Vec::new(),
            protected_mode: true,
            databases: 16,
            maxclients: 10000,
            proto_max_bulk_len: 512 << 20,
            client_query_buffer_limit: 1 << 30,
            timeout: 0,
            hz: 10,
            io_coalesce_us: 40,
            io_coalesce_min_clients: 16,
            tcp_backlog: 511,
            encoding: EncodingConfig::default(),
            hll_sparse_max_bytes: crate::types::hll::DEFAULT_SPARSE_MAX_BYTES,
            dir: std::path::PathBuf::from("."),
            dbfilename: "dump.rdb".into(),
            save: vec![(3600, 1), (300, 100), (60, 10000)],
            rdbcompression: true,
            appendonly: false,
            oom_score_adj: 0,
            oom_score_adj_values: super::oom::DEFAULT_VALUES,
            stop_writes_on_bgsave_error: true,
            appendfilename: "appendonly.aof".into(),
            appenddirname: "appendonlydir".into(),
            aof_use_rdb_preamble: true,
            aof_disable_auto_gc: false,
            aof_timestamp_enabled: false,
            rdb_key_save_delay: 0,
            key_load_delay: 0,
            loading_process_events_interval_bytes: 2 * 1024 * 1024,
            appendfsync: AppendFsync::EverySec,
            enable_debug_command: ProtectedAction::No,
            aof_load_truncated: true,
            auto_aof_rewrite_percentage: 100,
            auto_aof_rewrite_min_size: 64 << 20,
            maxmemory: 0,
            maxmemory_policy: EvictionPolicy::NoEviction,
            maxmemory_samples: 5,
            maxmemory_clients: 0,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            lazyfree_lazy_eviction: false,
            lazyfree_lazy_expire: false,
            lazyfree_lazy_server_del: false,
            lazyfree_lazy_user_del: false,
            lazyfree_lazy_user_flush: false,
            io_threads: 1,
            notify_keyspace_events: String::new(),
            client_output_buffer_limit: [
                OutputLimit { hard: 0, soft: 0, soft_secs: 0 },
                OutputLimit { hard: 256 << 20, soft: 64 << 20, soft_secs: 60 },
                OutputLimit { hard: 32 << 20, soft: 8 << 20, soft_secs: 60 },
            ],
            slowlog_log_slower_than: 10000,
            slowlog_max_len: 128,
            latency_monitor_threshold: 0,
            latency_tracking: true,
            latency_tracking_info_percentiles: vec![50.0, 99.0, 99.9],
            active_expire_effort: 1,
            loglevel: "notice".into(),
            tcp_keepalive: 300,
            daemonize: false,
            pidfile: None,
            logfile: String::new(),
            supervised: "no".into(),
            inert: std::collections::BTreeMap::new(),
            config_file: None,
            renames: Vec::new(),
        }
    }
}

/// A bad option name or value, with Redis's wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Redis's `sdssplitlen(value, " ")`: the parts between single spaces;
/// none for an empty value.
fn split_on_spaces(value: &str) -> Vec<String> {
    if value.is_empty() {
        return Vec::new();
    }
    value.split(' ').map(str::to_owned).collect()
}

/// Old directives Redis 7.0 accepts, with one argument, and ignores.
const DEPRECATED: &[&str] = &["list-max-ziplist-entries", "list-max-ziplist-value", "lua-replicate-commands"];

/// How deep `include` directives may nest.
pub const MAX_INCLUDE_DEPTH: usize = 16;

/// The error redis-server gives for an option it does not know.
pub const BAD_DIRECTIVE: &str = "Bad directive or wrong number of arguments";

impl Config {
    /// Sets option `name` (Redis's name or alias, any case) from its
    /// arguments, as a redis.conf line or a command-line option would.
    /// Protected and immutable options are accepted here: they are only
    /// refused at run time (see [`Config::set_at_runtime`]).
    ///
    /// # Errors
    /// An unknown option or a bad value, in Redis's words.
    pub fn apply(&mut self, name: &str, values: &[String]) -> Result<(), ConfigError> {
        self.apply_at(name, values, 0)
    }

    /// [`apply`](Self::apply) at `depth` includes deep: also takes the
    /// directives Redis reads only from a config (or the command line,
    /// which Redis appends to it): `include` and `rename-command`.
    fn apply_at(&mut self, name: &str, values: &[String], depth: usize) -> Result<(), ConfigError> {
        if name.eq_ignore_ascii_case("include") && values.len() == 1 {
            return self.include(&values[0], depth + 1, &mut false);
        }
        if name.eq_ignore_ascii_case("rename-command") && values.len() == 2 {
            self.renames.push((values[0].clone(), values[1].clone()));
            if let Err(e) = crate::cmd::rename::Renames::build(&self.renames) {
                self.renames.pop();
                return Err(ConfigError(e));
            }
            return Ok(());
        }
        let Some(opt) = table::find(name) else {
            // Directives Redis 7.0 still reads, and ignores, in a file.
            if values.len() == 1 && DEPRECATED.iter().any(|d| d.eq_ignore_ascii_case(name)) {
                return Ok(());
            }
            return Err(ConfigError(BAD_DIRECTIVE.into()));
        };
        if opt.flags & table::MULTI_ARG == 0 && values.len() != 1 {
            return Err(ConfigError("wrong number of arguments".into()));
        }
        (opt.set)(self, values).map_err(ConfigError)
    }

    /// `CONFIG SET name value [name value ...]`: every pair or none. A
    /// multi-argument option's value is split at each space, with no
    /// quoting, as Redis 7.0 splits it (`sdssplitlen(value, " ")`): two
    /// spaces in a row make an empty argument, which the option refuses.
    ///
    /// When `port` changes, or `bind` is set (even to the value in force,
    /// as Redis applies it), `rebind` is called with the new config to
    /// listen on the new addresses. It is called last, once every other
    /// value and check has passed, so that its failure leaves nothing to
    /// undo and its success nothing that can still fail: it must either
    /// switch to the new sockets or leave the old ones as they were.
    ///
    /// # Errors
    /// Redis's reply text (without the `-`) for the first bad pair; for a
    /// failed rebind, Redis's text for the first of `port` and `bind` that
    /// caused it.
    pub fn set_at_runtime(
        &mut self,
        pairs: &[(String, String)],
        rebind: impl FnOnce(&Config) -> std::io::Result<()>,
    ) -> Result<(), ConfigError> {
        let fail = |name: &str, why: &str| {
            ConfigError(format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"))
        };
        let mut next = self.clone();
        let mut seen: Vec<&str> = Vec::new();
        let mut listener_change = None;
        for (name, value) in pairs {
            let Some(opt) = table::find(name) else {
                return Err(ConfigError(format!(
                    "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
                )));
            };
            if opt.flags & table::IMMUTABLE != 0 {
                return Err(fail(name, "can't set immutable config"));
            }
            if opt.flags & table::PROTECTED != 0 {
                return Err(fail(name, "can't set protected config"));
            }
            if seen.contains(&opt.name) {
                return Err(fail(name, "duplicate parameter"));
            }
            seen.push(opt.name);
            let args =
                if opt.flags & table::MULTI_ARG != 0 { split_on_spaces(value) } else { vec![value.clone()] };
            (opt.set)(&mut next, &args).map_err(|e| fail(name, &e))?;
            // Redis's apply functions: `updatePort` when the port changed,
            // `applyBind` whenever `bind` is set.
            let applies = opt.name == "bind" || (opt.get)(&next) != (opt.get)(self);
            if opt.flags & table::LISTENER != 0 && applies && listener_change.is_none() {
                listener_change = Some(opt.name);
            }
        }
        if next.maxclients > self.maxclients {
            super::fdlimit::room_for(next.maxclients).map_err(|e| fail("maxclients", &e))?;
        }
        if let Some(name) = listener_change {
            rebind(&next).map_err(|_| fail(name, rebind_error(name)))?;
        }
        *self = next;
        Ok(())
    }

    /// `CONFIG GET`: every option (and alias) whose name matches one of
    /// `patterns` (globs, case-insensitive), with its value, in table order.
    pub fn get_matching(&self, patterns: &[&[u8]]) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for opt in table::all() {
            for name in std::iter::once(opt.name).chain(opt.alias) {
                // A hidden option answers only to its exact name.
                let matches = |p: &&[u8]| {
                    if opt.flags & table::HIDDEN != 0 {
                        p.eq_ignore_ascii_case(name.as_bytes())
                    } else {
                        crate::util::glob::glob_match(p, name.as_bytes(), true)
                    }
                };
                if patterns.iter().any(matches) {
                    out.push((name, (opt.get)(self)));
                }
            }
        }
        out
    }

    /// Applies a redis.conf text: one directive per line, `#` comments,
    /// arguments split as Redis's `sdssplitargs` splits them. The first
    /// `save` line replaces the default save points; later ones add to it.
    ///
    /// # Errors
    /// The first bad line, in redis-server's words:
    /// `Reading the configuration file, at line N` / `>>> 'line'` / the reason.
    pub fn apply_text(&mut self, text: &str) -> Result<(), ConfigError> {
        self.apply_text_at(text, 0, &mut false)
    }

    /// A `save` directive while loading (a config line or a `--save`
    /// argument, which Redis appends to the file's text): the first one
    /// replaces the default save points, later ones add to them, and
    /// `save ""` empties them.
    fn apply_save_directive(&mut self, values: &[String], seen: &mut bool) -> Result<(), ConfigError> {
        let before = if *seen { std::mem::take(&mut self.save) } else { Vec::new() };
        *seen = true;
        self.apply("save", values)?;
        let reset = values.iter().all(|v| v.trim().is_empty());
        if !reset {
            let mut all = before;
            all.append(&mut self.save);
            self.save = all;
        }
        Ok(())
    }

    /// `include PATH`: applies another config file where the line stands,
    /// as Redis does; with `*`, `?` or `[` in the path, every file the
    /// pattern matches, in name order, and none is no error (an empty
    /// `conf.d`). Includes nest at most [`MAX_INCLUDE_DEPTH`] deep, so a
    /// file that includes itself is an error rather than a stack overflow.
    fn include(&mut self, path: &str, depth: usize, saves_seen: &mut bool) -> Result<(), ConfigError> {
        if depth > MAX_INCLUDE_DEPTH {
            return Err(ConfigError(format!(
                "'include' nested more than {MAX_INCLUDE_DEPTH} deep at '{path}'"
            )));
        }
        let files = if path.contains(['*', '?', '[']) {
            super::config_include::expand(path)
        } else {
            vec![std::path::PathBuf::from(path)]
        };
        for file in files {
            let text = std::fs::read_to_string(&file).map_err(|e| {
                ConfigError(format!("Fatal error, can't open config file '{}': {e}", file.display()))
            })?;
            self.apply_text_at(&text, depth, saves_seen)?;
        }
        Ok(())
    }

    fn apply_text_at(&mut self, text: &str, depth: usize, saves_seen: &mut bool) -> Result<(), ConfigError> {
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |why: &str| {
                ConfigError(format!(
                    "Reading the configuration file, at line {}\n>>> '{}'\n{}",
                    n + 1,
                    line,
                    why
                ))
            };
            let words = split_args(line).map_err(|e| err(&e))?;
            let Some((name, values)) = words.split_first() else { continue };
            if name.eq_ignore_ascii_case("include") && values.len() == 1 {
                // Errors inside the included file name that file's line.
                self.include(&values[0], depth + 1, saves_seen)?;
                continue;
            }
            if name.eq_ignore_ascii_case("save") {
                self.apply_save_directive(values, saves_seen).map_err(|e| err(&e.0))?;
                continue;
            }
            self.apply_at(name, values, depth).map_err(|e| err(&e.0))?;
        }
        Ok(())
    }

    /// Builds a config from redis-server style arguments: an optional
    /// config file first, then `--name value...` options, which become
    /// config lines after the file's, as Redis's `main` makes them (see
    /// [`command_line_text`](super::config_args::command_line_text)): later
    /// lines win, `save` lines add up.
    ///
    /// # Errors
    /// An unreadable file, an unknown option or a bad value, in Redis's
    /// words (`Reading the configuration file, at line N` / `>>> 'line'`).
    pub fn from_args(args: &[String]) -> Result<Config, ConfigError> {
        let mut cfg = Config::default();
        let mut rest = args;
        let mut text = String::new();
        if let Some(first) = args.first() {
            if !first.starts_with("--") {
                text = std::fs::read_to_string(first).map_err(|e| {
                    ConfigError(format!("Fatal error, can't open config file '{first}': {e}"))
                })?;
                let path = std::path::PathBuf::from(first);
                cfg.config_file = Some(std::fs::canonicalize(&path).unwrap_or(path));
                rest = &args[1..];
            }
        }
        let options = super::config_args::command_line_text(rest);
        if !options.is_empty() {
            text.push('\n');
            text.push_str(&options);
        }
        cfg.apply_text_at(&text, 0, &mut false)?;
        Ok(cfg)
    }

    /// CONFIG REWRITE: writes the options back into the config file the
    /// server started with. Lines of known options get the current value
    /// (a repeated option is written once, where it first appeared);
    /// comments and everything else stay as they were; options that differ
    /// from the default and were not in the file are appended.
    ///
    /// # Errors
    /// No config file ("The server is running without a config file"), or
    /// a failure to read or write it.
    pub fn rewrite(&self) -> Result<(), ConfigError> {
        self.rewrite_with(false)
    }

    /// [`rewrite`](Self::rewrite), and with `force_all` every option is
    /// written, defaults too (DEBUG CONFIG-REWRITE-FORCE-ALL, with which
    /// Redis's suite checks that a full file reads back the same).
    ///
    /// # Errors
    /// As [`rewrite`](Self::rewrite).
    pub fn rewrite_with(&self, force_all: bool) -> Result<(), ConfigError> {
        let Some(path) = &self.config_file else {
            return Err(ConfigError("ERR The server is running without a config file".into()));
        };
        let io = |e: std::io::Error| ConfigError(format!("ERR Rewriting config file: {e}"));
        let old = std::fs::read_to_string(path).map_err(io)?;
        let line_of = |opt: &table::ConfigOption| {
            let v = (opt.get)(self);
            if opt.flags & table::MULTI_ARG != 0 && !v.is_empty() {
                format!("{} {}", opt.name, v)
            } else {
                format!("{} {}", opt.name, quote(&v))
            }
        };
        let mut written = std::collections::HashSet::new();
        let mut out = String::new();
        for raw in old.lines() {
            let known = split_args(raw.trim()).ok().and_then(|w| w.first().and_then(|n| table::find(n)));
            match known {
                Some(opt) if !raw.trim_start().starts_with('#') => {
                    if written.insert(opt.name) {
                        out.push_str(&line_of(opt));
                        out.push('\n');
                    }
                }
                _ => {
                    out.push_str(raw);
                    out.push('\n');
                }
            }
        }
        let defaults = Config::default();
        let mut header = false;
        for opt in table::all() {
            if written.contains(opt.name) || (!force_all && (opt.get)(self) == (opt.get)(&defaults)) {
                continue;
            }
            if !header {
                out.push_str("# Generated by CONFIG REWRITE\n");
                header = true;
            }
            out.push_str(&line_of(opt));
            out.push('\n');
        }
        let tmp = path.with_extension("rewrite.tmp");
        std::fs::write(&tmp, out).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }
}

/// Redis's reply when listening on the new addresses fails, by the option
/// whose apply function failed (`updatePort`, `applyBind`); the reason is
/// only logged.
fn rebind_error(name: &str) -> &'static str {
    if name == "port" {
        "Unable to listen on this port. Check server logs."
    } else {
        "Failed to bind to specified addresses."
    }
}
