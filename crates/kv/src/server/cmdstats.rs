//! INFO `commandstats` and `errorstats`: per-command calls, time and
//! failures, and error replies counted by their prefix, as Redis 7.0 keeps
//! them (`cmdstat_get:calls=..,usec=..,usec_per_call=..,rejected_calls=..,
//! failed_calls=..`, `errorstat_WRONGTYPE:count=..`).
//!
//! A command is *rejected* when it is refused before it runs (wrong arity,
//! NOAUTH, OOM, a subscribed or monitoring client's disallowed command)
//! and *failed* when it ran and replied with an error. Monitoring tools
//! (redis_exporter, for one) chart all three counts.
//!
//! The counters are found by the address of the command's name, a static
//! string: one multiply to hash, no string hashing on the command path.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::{BuildHasherDefault, Hasher};

/// One command's counters.
#[derive(Debug, Default, Clone, Copy)]
pub struct CmdStat {
    /// Times it ran.
    pub calls: u64,
    /// Microseconds it ran, in total.
    pub usec: u64,
    /// Times it was refused before running.
    pub rejected: u64,
    /// Times it ran and replied with an error.
    pub failed: u64,
}

/// Hashes a pointer-sized key with one multiply (Fibonacci hashing).
#[derive(Default, Clone)]
pub struct PtrHasher(u64);

impl Hasher for PtrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// The counters INFO commandstats and errorstats print; cleared by
/// CONFIG RESETSTAT.
#[derive(Debug, Default, Clone)]
pub struct CommandStats {
    by_cmd: HashMap<usize, (&'static str, CmdStat), BuildHasherDefault<PtrHasher>>,
    errors: HashMap<Box<str>, u64>,
    /// Error replies of any kind (`total_error_replies` in INFO stats).
    pub total_error_replies: u64,
}

impl CommandStats {
    fn entry(&mut self, name: &'static str) -> &mut CmdStat {
        &mut self.by_cmd.entry(name.as_ptr() as usize).or_insert((name, CmdStat::default())).1
    }

    /// `name` ran for `usec` microseconds; `error` is the error reply it
    /// gave, if it gave one.
    pub fn ran(&mut self, name: &'static str, usec: u64, error: Option<&[u8]>) {
        let s = self.entry(name);
        s.calls += 1;
        s.usec += usec;
        if let Some(reply) = error {
            s.failed += 1;
            self.error_reply(reply);
        }
    }

    /// `name` (or an unknown command, `None`) was refused with `reply`.
    pub fn rejected(&mut self, name: Option<&'static str>, reply: &[u8]) {
        if let Some(name) = name {
            self.entry(name).rejected += 1;
        }
        self.error_reply(reply);
    }

    /// Counts an error reply under its prefix: the first word of the
    /// message (`ERR`, `WRONGTYPE`, `NOAUTH`, ...).
    fn error_reply(&mut self, reply: &[u8]) {
        self.total_error_replies += 1;
        let text = reply.strip_prefix(b"-").unwrap_or(reply);
        let end = text.iter().position(|&b| b == b' ' || b == b'\r').unwrap_or(text.len());
        let prefix = String::from_utf8_lossy(&text[..end]);
        match self.errors.get_mut(prefix.as_ref()) {
            Some(n) => *n += 1,
            None => {
                self.errors.insert(prefix.into(), 1);
            }
        }
    }

    /// The commandstats lines, sorted by command name.
    pub fn command_lines(&self) -> Vec<String> {
        let mut rows: Vec<&(&str, CmdStat)> = self.by_cmd.values().collect();
        rows.sort_by_key(|(name, _)| *name);
        rows.iter()
            .map(|(name, s)| {
                let per_call = if s.calls == 0 { 0.0 } else { s.usec as f64 / s.calls as f64 };
                let mut line = String::new();
                let _ = write!(
                    line,
                    "cmdstat_{name}:calls={},usec={},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}",
                    s.calls, s.usec, s.rejected, s.failed
                );
                line
            })
            .collect()
    }

    /// The errorstats lines, sorted by prefix.
    pub fn error_lines(&self) -> Vec<String> {
        let mut rows: Vec<(&Box<str>, &u64)> = self.errors.iter().collect();
        rows.sort();
        rows.iter().map(|(prefix, n)| format!("errorstat_{prefix}:count={n}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_calls_failures_rejections_and_error_prefixes() {
        let mut s = CommandStats::default();
        s.ran("get", 3, None);
        s.ran("get", 5, Some(b"-WRONGTYPE Operation against a key\r\n"));
        s.rejected(Some("get"), b"-ERR wrong number of arguments for 'get' command");
        s.rejected(None, b"-ERR unknown command 'x'");
        s.ran("set", 1, None);
        assert_eq!(
            s.command_lines(),
            [
                "cmdstat_get:calls=2,usec=8,usec_per_call=4.00,rejected_calls=1,failed_calls=1",
                "cmdstat_set:calls=1,usec=1,usec_per_call=1.00,rejected_calls=0,failed_calls=0",
            ]
        );
        assert_eq!(s.error_lines(), ["errorstat_ERR:count=2", "errorstat_WRONGTYPE:count=1"]);
        assert_eq!(s.total_error_replies, 3);
    }
}
