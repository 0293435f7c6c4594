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
