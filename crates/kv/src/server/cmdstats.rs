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
//! The counters are kept by [`Slot`]: the index of the command or
//! subcommand that [`crate::cmd::registry`] resolved when the request was
//! dispatched, so counting a call is an array index, and a container's
//! calls count under the subcommand that ran (`cmdstat_config|get`), as
//! in Redis. Each slot also has its latency histogram (INFO latencystats,
//! LATENCY HISTOGRAM), made at its first recorded call as Redis makes it.

use super::latencystats::LatencyHistogram;
use crate::cmd::registry::{self, Slot};
use std::collections::HashMap;
use std::fmt::Write as _;

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

/// The counters INFO commandstats, errorstats and latencystats print;
/// cleared by CONFIG RESETSTAT.
#[derive(Debug, Clone)]
pub struct CommandStats {
    by_slot: Box<[CmdStat]>,
    latency: Box<[Option<Box<LatencyHistogram>>]>,
    errors: HashMap<Box<str>, u64>,
    /// Error replies of any kind (`total_error_replies` in INFO stats).
    pub total_error_replies: u64,
}

impl Default for CommandStats {
    fn default() -> CommandStats {
        let n = registry::slot_count();
        CommandStats {
            by_slot: vec![CmdStat::default(); n].into(),
            latency: vec![None; n].into(),
            errors: HashMap::new(),
            total_error_replies: 0,
        }
    }
}

impl CommandStats {
    /// The command or subcommand in `slot` ran for `usec` microseconds;
    /// `error` is the error reply it gave, if it gave one. With
    /// `track_latency` (`latency-tracking yes`) the duration also goes to
    /// its latency histogram.
    #[inline]
    pub fn ran(&mut self, slot: Slot, usec: u64, error: Option<&[u8]>, track_latency: bool) {
        let s = &mut self.by_slot[slot.index()];
        s.calls += 1;
        s.usec += usec;
        if let Some(reply) = error {
            s.failed += 1;
            self.error_reply(reply);
        }
        if track_latency {
            self.latency[slot.index()].get_or_insert_with(Box::default).record_usec(usec);
        }
    }

    /// The command in `slot` (or an unknown command or subcommand, `None`)
    /// was refused with `reply`.
    pub fn rejected(&mut self, slot: Option<Slot>, reply: &[u8]) {
        if let Some(slot) = slot {
            self.by_slot[slot.index()].rejected += 1;
        }
        self.error_reply(reply);
    }

    /// The blocked command in `slot`, counted as called when it blocked,
    /// ended with the error `reply` (CLIENT UNBLOCK ... ERROR): a failed
    /// call, and the error under its prefix, as Redis's
    /// `updateStatsOnUnblock` counts it.
    pub fn failed_after_block(&mut self, slot: Slot, reply: &[u8]) {
        self.by_slot[slot.index()].failed += 1;
        self.error_reply(reply);
    }

    /// The counters of `slot`.
    pub fn get(&self, slot: Slot) -> CmdStat {
        self.by_slot[slot.index()]
    }

    /// The latency histogram of `slot`, once it has a call recorded.
    pub fn histogram(&self, slot: Slot) -> Option<&LatencyHistogram> {
        self.latency[slot.index()].as_deref()
    }

    /// The slots with a latency histogram, by name.
    pub fn histograms(&self) -> impl Iterator<Item = (Slot, &LatencyHistogram)> {
        registry::sorted_slots().iter().filter_map(|&slot| Some((slot, self.histogram(slot)?)))
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

    /// The commandstats lines, sorted by name, for every command or
    /// subcommand that was called or refused.
    pub fn command_lines(&self) -> Vec<String> {
        registry::sorted_slots()
            .iter()
            .filter_map(|&slot| {
                let s = self.get(slot);
                if s.calls == 0 && s.rejected == 0 && s.failed == 0 {
                    return None;
                }
                let per_call = if s.calls == 0 { 0.0 } else { s.usec as f64 / s.calls as f64 };
                let mut line = String::new();
                let _ = write!(
                    line,
                    "cmdstat_{}:calls={},usec={},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}",
                    slot.name(),
                    s.calls,
                    s.usec,
                    s.rejected,
                    s.failed
                );
                Some(line)
            })
            .collect()
    }

    /// The latencystats lines, sorted by name: `percentiles` of every
    /// command or subcommand with calls recorded.
    pub fn latency_lines(&self, percentiles: &[f64]) -> Vec<String> {
        self.histograms()
            .map(|(slot, h)| super::latencystats::info_line(slot.name(), h, percentiles))
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

    fn slot(name: &str) -> Slot {
        registry::named(name.as_bytes())[0]
    }

    #[test]
    fn counts_calls_failures_rejections_and_error_prefixes() {
        let mut s = CommandStats::default();
        let (get, set, config_get) = (slot("get"), slot("set"), slot("config|get"));
        s.ran(get, 3, None, true);
        s.ran(get, 5, Some(b"-WRONGTYPE Operation against a key\r\n"), true);
        s.rejected(Some(get), b"-ERR wrong number of arguments for 'get' command");
        s.rejected(None, b"-ERR unknown command 'x'");
        s.ran(set, 1, None, false);
        s.rejected(Some(config_get), b"-ERR wrong number of arguments for 'config|get' command");
        assert_eq!(
            s.command_lines(),
            [
                "cmdstat_config|get:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0",
                "cmdstat_get:calls=2,usec=8,usec_per_call=4.00,rejected_calls=1,failed_calls=1",
                "cmdstat_set:calls=1,usec=1,usec_per_call=1.00,rejected_calls=0,failed_calls=0",
            ]
        );
        assert_eq!(s.error_lines(), ["errorstat_ERR:count=3", "errorstat_WRONGTYPE:count=1"]);
        assert_eq!(s.total_error_replies, 4);
        // Only calls recorded with tracking on have a histogram.
        assert_eq!(s.latency_lines(&[50.0]), ["latency_percentiles_usec_get:p50=3.007"]);
        assert_eq!(s.histogram(get).map(|h| h.calls()), Some(2));
        assert!(s.histogram(set).is_none() && s.histogram(config_get).is_none());
    }
}
