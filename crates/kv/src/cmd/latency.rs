//! The latency monitor (LATENCY) and its samples.
//!
//! With `latency-monitor-threshold` above 0 ms, every event that takes at
//! least that long is recorded under its class, as Redis names them:
//! `command` (a slow command), `fast-command` (a slow O(1) command, which
//! usually means the machine, not the command, is the problem) and
//! `expire-cycle` (the active expiry cycle). Each class keeps its last
//! 160 samples (one per second at most, the worst of that second) and its
//! all-time maximum.
//!
//! LATENCY HISTOGRAM reports the per-command histograms that every call
//! records into while `latency-tracking` is on (see
//! [`crate::server::latencystats`]).

use super::server::{help, unknown_subcommand};
use super::{registry, Ctx, Slot};
use crate::resp::reply::Reply;
use crate::server::latencystats::LatencyHistogram;
use std::collections::{BTreeMap, VecDeque};

/// Samples kept per event class (Redis's LATENCY_TS_LEN).
const HISTORY: usize = 160;

/// One event class's samples.
#[derive(Debug, Default, Clone)]
pub struct Series {
    /// (Unix seconds, milliseconds), oldest first.
    pub samples: VecDeque<(i64, u64)>,
    /// The largest latency ever recorded.
    pub max: u64,
}

/// Every event class's samples, by name.
#[derive(Debug, Default)]
pub struct LatencyMonitor {
    events: BTreeMap<&'static str, Series>,
}

impl LatencyMonitor {
    /// Records `ms` for `event` at `unix_secs` if it reaches `threshold_ms`
    /// (a threshold of 0 disables the monitor).
    pub fn record(&mut self, threshold_ms: u64, event: &'static str, unix_secs: i64, ms: u64) {
        if threshold_ms == 0 || ms < threshold_ms {
            return;
        }
        let s = self.events.entry(event).or_default();
        s.max = s.max.max(ms);
        match s.samples.back_mut() {
            Some((t, worst)) if *t == unix_secs => *worst = (*worst).max(ms),
            _ => {
                if s.samples.len() == HISTORY {
                    s.samples.pop_front();
                }
                s.samples.push_back((unix_secs, ms));
            }
        }
    }

    /// Every event class with samples, by name.
    pub fn events(&self) -> impl Iterator<Item = (&'static str, &Series)> {
        self.events.iter().map(|(&name, s)| (name, s))
    }

    /// The series of `event`, if it has any samples.
    pub fn series(&self, event: &str) -> Option<&Series> {
        self.events.get(event)
    }
}

/// The help text.
const LATENCY_HELP: &[&str] = &[
    "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
    "    If no commands are specified then all histograms are replied.",
    "HELP",
    "    Prints this help.",
];

/// LATENCY LATEST | HISTORY event | GRAPH event | RESET [event...] | DOCTOR |
/// HISTOGRAM [command...] | HELP.
pub fn latency(ctx: &mut Ctx<'_>) {
    let sub = ctx.arg(1).to_ascii_lowercase();
    match (sub.as_slice(), ctx.argc()) {
        (b"help", 2) => help(ctx, LATENCY_HELP),
        (b"latest", 2) => {
            let rows: Vec<(&'static str, i64, u64, u64)> = ctx
                .srv
                .latency
                .events
                .iter()
                .filter_map(|(name, s)| s.samples.back().map(|&(t, ms)| (*name, t, ms, s.max)))
                .collect();
            let mut r = ctx.reply();
            r.array_len(rows.len());
            for (name, t, ms, max) in rows {
                r.array_len(4);
                r.bulk(name.as_bytes());
                r.int(t);
                r.int(ms as i64);
                r.int(max as i64);
            }
        }
        (b"history", 3) => {
            let name = String::from_utf8_lossy(ctx.arg(2)).into_owned();
            let samples: Vec<(i64, u64)> = ctx
                .srv
                .latency
                .series(&name)
                .map(|s| s.samples.iter().copied().collect())
                .unwrap_or_default();
            let mut r = ctx.reply();
            r.array_len(samples.len());
            for (t, ms) in samples {
                r.array_len(2);
                r.int(t);
                r.int(ms as i64);
            }
        }
        (b"graph", 3) => {
            let name = String::from_utf8_lossy(ctx.arg(2)).into_owned();
            let now = ctx.now_ms() / 1000;
            match ctx.srv.latency.series(&name).filter(|s| !s.samples.is_empty()) {
                Some(series) => {
                    let text = graph(&name, series, now);
                    ctx.reply().verbatim(text.as_bytes())
                }
                None => ctx.error(&format!("ERR No samples available for event '{name}'")),
            }
        }
        (b"reset", _) => {
            let events = &mut ctx.srv.latency.events;
            let n = if ctx.args.len() == 2 {
                let n = events.len();
                events.clear();
                n
            } else {
                let names: Vec<String> =
                    ctx.args.iter().skip(2).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
                names.iter().filter(|n| events.remove(n.as_str()).is_some()).count()
            };
            ctx.reply().int(n as i64);
        }
        (b"histogram", _) => histogram(ctx),
        (b"doctor", 2) => {
            let text = super::latency_doctor::report(ctx.srv);
            ctx.reply().verbatim(text.as_bytes())
        }
        _ => unknown_subcommand(
            ctx,
            "LATENCY",
            &["latest", "history", "graph", "reset", "doctor", "histogram", "help"],
        ),
    }
}

/// Columns of LATENCY GRAPH (Redis's LATENCY_GRAPH_COLS).
const GRAPH_COLUMNS: usize = 80;

/// LATENCY GRAPH's text for `event`: a title line with the series' high,
/// low and all-time high, a rule, and the samples as a sparkline 4 rows
/// high, each labelled with how long ago it was taken (`12s`, `5m`, `3h`,
/// `2d`), as Redis's `latencyCommandGenSparkeline` draws it.
fn graph(event: &str, series: &Series, now_secs: i64) -> String {
    let samples: Vec<(f64, String)> = series
        .samples
        .iter()
        .map(|&(t, ms)| {
            let ago = (now_secs - t).max(0);
            let label = match ago {
                a if a < 60 => format!("{a}s"),
                a if a < 3600 => format!("{}m", a / 60),
                a if a < 86400 => format!("{}h", a / 3600),
                a => format!("{}d", a / 86400),
            };
            (ms as f64, label)
        })
        .collect();
    let high = series.samples.iter().map(|s| s.1).max().unwrap_or(0);
    let low = series.samples.iter().map(|s| s.1).min().unwrap_or(0);
    let mut out = format!("{event} - high {high} ms, low {low} ms (all time high {} ms)\n", series.max);
    out.push_str(&"-".repeat(GRAPH_COLUMNS));
    out.push('\n');
    super::sparkline::render(&mut out, &samples, GRAPH_COLUMNS, 4);
    out
}

/// LATENCY HISTOGRAM [command ...]: a map of command name to its calls and
/// `histogram_usec`, a map of bucket (µs) to the calls up to it. With no
/// names, every command with calls recorded; a name that is a container
/// stands for it and its subcommands, `parent|sub` for one subcommand,
/// and an unknown name for nothing, as in Redis (a name given twice is
/// reported twice).
fn histogram(ctx: &mut Ctx<'_>) {
    let stats = &ctx.srv.stats.cmd;
    let rows: Vec<(Slot, &LatencyHistogram)> = if ctx.argc() == 2 {
        stats.histograms().collect()
    } else {
        let named = ctx.args.iter().skip(2).flat_map(registry::named);
        named.filter_map(|slot| Some((slot, stats.histogram(slot)?))).collect()
    };
    // The reply borrows the client alone: the histograms stay borrowed.
    let mut r = Reply::new(&mut ctx.c.out, ctx.c.proto);
    r.map_len(rows.len());
    for (slot, h) in rows {
        r.bulk(slot.name().as_bytes());
        r.map_len(2);
        r.bulk(b"calls");
        r.int(h.calls() as i64);
        r.bulk(b"histogram_usec");
        let buckets = h.cumulative_usec();
        r.map_len(buckets.len());
        for (usec, count) in buckets {
            r.int(usec as i64);
            r.int(count as i64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_below_the_threshold_or_with_it_off_are_ignored() {
        let mut m = LatencyMonitor::default();
        m.record(0, "command", 1, 500);
        m.record(100, "command", 1, 99);
        assert!(m.series("command").is_none());
        m.record(100, "command", 1, 150);
        m.record(100, "command", 1, 120);
        m.record(100, "command", 2, 300);
        let s = m.series("command").unwrap();
        assert_eq!(s.samples, VecDeque::from([(1, 150), (2, 300)]));
        assert_eq!(s.max, 300);
        for t in 3..400 {
            m.record(100, "command", t, 100);
        }
        assert_eq!(m.series("command").unwrap().samples.len(), HISTORY);
    }
}
