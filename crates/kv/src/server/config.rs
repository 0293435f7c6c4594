//! The server's options, under redis-server's names.

use crate::types::EncodingConfig;

/// Every option the server has. `CONFIG GET/SET`, the command line and a
/// redis.conf file all address these by Redis's option names.
#[derive(Clone, Debug)]
pub struct Config {
    /// `bind`: addresses to listen on.
    pub bind: Vec<String>,
    /// `port` (0 picks a free port; the server reports the one it got).
    pub port: u16,
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
    /// `tcp-backlog`.
    pub tcp_backlog: u32,
    /// The list, hash, set and sorted-set encoding thresholds.
    pub encoding: EncodingConfig,
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
    /// `appendfilename`.
    pub appendfilename: String,
    /// `appendfsync`.
    pub appendfsync: AppendFsync,
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
    /// `active-expire-effort` (1..=10).
    pub active_expire_effort: u32,
    /// `loglevel`.
    pub loglevel: String,
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
            requirepass: Vec::new(),
            protected_mode: true,
            databases: 16,
            maxclients: 10000,
            proto_max_bulk_len: 512 << 20,
            client_query_buffer_limit: 1 << 30,
            timeout: 0,
            hz: 10,
            tcp_backlog: 511,
            encoding: EncodingConfig::default(),
            dir: std::path::PathBuf::from("."),
            dbfilename: "dump.rdb".into(),
            save: vec![(3600, 1), (300, 100), (60, 10000)],
            rdbcompression: true,
            appendonly: false,
            appendfilename: "appendonly.aof".into(),
            appendfsync: AppendFsync::EverySec,
            aof_load_truncated: true,
            auto_aof_rewrite_percentage: 100,
            auto_aof_rewrite_min_size: 64 << 20,
            maxmemory: 0,
            maxmemory_policy: EvictionPolicy::NoEviction,
            maxmemory_samples: 5,
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
            active_expire_effort: 1,
            loglevel: "notice".into(),
        }
    }
}

/// A bad option name or value, with Redis's wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

fn parse_yes_no(v: &str) -> Result<bool, ConfigError> {
    match v.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(ConfigError("argument must be 'yes' or 'no'".into())),
    }
}

fn parse_num<T: std::str::FromStr>(v: &str) -> Result<T, ConfigError> {
    v.parse().map_err(|_| ConfigError("argument couldn't be parsed into an integer".into()))
}

impl Config {
    /// Sets option `name` (Redis's name, any case) from its arguments.
    ///
    /// # Errors
    /// An unknown option or a bad value.
    pub fn apply(&mut self, name: &str, values: &[String]) -> Result<(), ConfigError> {
        let name = name.to_ascii_lowercase();
        let one = || -> Result<&str, ConfigError> {
            match values {
                [v] => Ok(v.as_str()),
                _ => Err(ConfigError(format!("wrong number of arguments for '{name}'"))),
            }
        };
        match name.as_str() {
            "bind" => self.bind = values.to_vec(),
            "port" => self.port = parse_num(one()?)?,
            "requirepass" => self.requirepass = one()?.as_bytes().to_vec(),
            "protected-mode" => self.protected_mode = parse_yes_no(one()?)?,
            "databases" => self.databases = parse_num::<usize>(one()?)?.max(1),
            "maxclients" => self.maxclients = parse_num(one()?)?,
            "timeout" => self.timeout = parse_num(one()?)?,
            "hz" => self.hz = parse_num(one()?)?,
            "tcp-backlog" => self.tcp_backlog = parse_num(one()?)?,
            _ => return Err(ConfigError(format!("Bad directive or wrong number of arguments: '{name}'"))),
        }
        Ok(())
    }

    /// Applies a redis.conf text: one directive per line, `#` comments,
    /// arguments split as Redis splits them.
    ///
    /// # Errors
    /// The first bad line, with its number.
    pub fn apply_text(&mut self, text: &str) -> Result<(), ConfigError> {
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut words = line.split_whitespace().map(|w| w.trim_matches('"').to_string());
            let Some(name) = words.next() else { continue };
            let values: Vec<String> = words.collect();
            self.apply(&name, &values)
                .map_err(|e| ConfigError(format!("line {}: '{}': {}", n + 1, line, e.0)))?;
        }
        Ok(())
    }

    /// Builds a config from redis-server style arguments: an optional
    /// config file first, then `--name value...` options (later wins).
    ///
    /// # Errors
    /// An unreadable file, an unknown option or a bad value.
    pub fn from_args(args: &[String]) -> Result<Config, ConfigError> {
        let mut cfg = Config::default();
        let mut rest = args;
        if let Some(first) = args.first() {
            if !first.starts_with("--") {
                let text = std::fs::read_to_string(first)
                    .map_err(|e| ConfigError(format!("cannot open config file '{first}': {e}")))?;
                cfg.apply_text(&text)?;
                rest = &args[1..];
            }
        }
        let mut i = 0;
        while i < rest.len() {
            let Some(name) = rest[i].strip_prefix("--") else {
                return Err(ConfigError(format!("expected an option, got '{}'", rest[i])));
            };
            let mut j = i + 1;
            while j < rest.len() && !rest[j].starts_with("--") {
                j += 1;
            }
            cfg.apply(name, &rest[i + 1..j])?;
            i = j;
        }
        Ok(cfg)
    }
}
