//! `oom-score-adj`: telling Linux's out-of-memory killer which process to
//! sacrifice first (Redis's `setOOMScoreAdj`).
//!
//! When memory runs out, the kernel kills the process with the highest
//! `/proc/PID/oom_score`, a figure from its memory use plus its
//! `oom_score_adj` (-1000..=1000). A server that forks a snapshot or AOF
//! rewrite child has two large processes sharing pages: killing the child
//! costs a retry, killing the parent loses every write since the last
//! snapshot. So Redis, and this server, can raise the child's adjustment
//! above the parent's, from `oom-score-adj-values` (three values: a
//! master, a replica, a background child):
//!
//! - `oom-score-adj no` (the default) leaves the file alone;
//! - `yes` (or `relative`) adds the value to the adjustment the process
//!   had when the option was first turned on (the *base*, kept so that
//!   turning it off restores it);
//! - `absolute` writes the value as is.
//!
//! Results are clamped to -1000..=1000. Lowering the adjustment below its
//! base needs `CAP_SYS_RESOURCE`; without it the write fails, and `CONFIG
//! SET` reports "Failed to set current oom_score_adj" and keeps the old
//! values, as Redis does.

use super::config::Config;
use std::io;

const PROC_FILE: &str = "/proc/self/oom_score_adj";

/// `oom-score-adj`'s values as `CONFIG GET` names them (`relative` reads
/// back as `yes`).
pub const MODES: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("relative", 1), ("absolute", 2)];

/// `oom-score-adj-values`' default.
pub const DEFAULT_VALUES: [i32; 3] = [0, 200, 800];

/// The process whose adjustment is set: an index into
/// `oom-score-adj-values`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// The server itself, a master (the first value).
    Server = 0,
    /// The server itself while it is a replica (the second value).
    Replica = 1,
    /// A forked snapshot or AOF-rewrite child (the third value).
    Child = 2,
}

impl Class {
    /// The server's own class: [`Class::Replica`] while it follows a master.
    pub fn of_server(is_replica: bool) -> Class {
        if is_replica {
            Class::Replica
        } else {
            Class::Server
        }
    }
}

/// What this process has done to its adjustment.
#[derive(Debug, Default)]
pub struct OomScore {
    /// The adjustment before this server first changed it, while it has
    /// changed it (`None`: untouched).
    base: Option<i32>,
}

impl OomScore {
    /// The value `class` should have under `config` now, reading the base
    /// the first time; `None` if the file is to be left alone.
    fn target(&mut self, config: &Config, class: Class) -> io::Result<Option<i32>> {
        if config.oom_score_adj == 0 {
            // Off: put back what was there before, once.
            return Ok(self.base.take());
        }
        let base = match self.base {
            Some(b) => b,
            None => {
                let b = read_current()?;
                self.base = Some(b);
                b
            }
        };
        let mut v = config.oom_score_adj_values[class as usize];
        if config.oom_score_adj == 1 {
            v += base;
        }
        Ok(Some(v.clamp(-1000, 1000)))
    }

    /// Sets this process's adjustment for `class` from `config` (at start,
    /// after `CONFIG SET`, and in a freshly forked child).
    ///
    /// # Errors
    /// The file could not be read or written (logged, as Redis logs it).
    pub fn apply(&mut self, config: &Config, class: Class) -> io::Result<()> {
        let result = self.target(config, class).and_then(|v| match v {
            Some(v) => std::fs::write(PROC_FILE, format!("{v}\n")),
            None => Ok(()),
        });
        if let Err(e) = &result {
            tracing::warn!("Unable to write oom_score_adj: {e}");
        }
        result
    }
}

fn read_current() -> io::Result<i32> {
    let text = std::fs::read_to_string(PROC_FILE)?;
    text.trim().parse().map_err(|_| io::Error::other(format!("unexpected {PROC_FILE}: {text:?}")))
}

/// Parses `oom-score-adj-values`: three integers in -2000..=2000.
pub fn parse_values(v: &[String]) -> Result<[i32; 3], String> {
    let joined = v.join(" ");
    let parts: Vec<&str> = joined.split_ascii_whitespace().collect();
    if parts.len() != 3 {
        return Err("wrong number of arguments".into());
    }
    let mut out = [0; 3];
    for (slot, a) in out.iter_mut().zip(parts) {
        match a.parse::<i32>() {
            Ok(n) if (-2000..=2000).contains(&n) => *slot = n,
            _ => return Err("Invalid oom-score-adj-values, elements must be between -2000 and 2000.".into()),
        }
    }
    Ok(out)
}

/// Formats `oom-score-adj-values` as `CONFIG GET` prints it.
pub fn format_values(v: &[i32; 3]) -> String {
    format!("{} {} {}", v[0], v[1], v[2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_as_redis_does() {
        let s = |x: &[&str]| x.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        assert_eq!(parse_values(&s(&["0 200 800"])).unwrap(), [0, 200, 800]);
        assert_eq!(parse_values(&s(&["1", "-2", "3"])).unwrap(), [1, -2, 3]);
        assert!(parse_values(&s(&["0 200 2001"])).unwrap_err().contains("between -2000 and 2000"));
        assert!(parse_values(&s(&["0 200"])).is_err());
        assert_eq!(format_values(&[9, 9, 9]), "9 9 9");
    }
}
