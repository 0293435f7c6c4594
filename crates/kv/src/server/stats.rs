//! The counters INFO reports, and the samplers behind its instantaneous
//! rates.
//!
//! Everything here is reset by CONFIG RESETSTAT (`Stats::default()`), as
//! Redis's `resetServerStats` resets the same counters. Each counter is
//! bumped where the thing it counts already happens, with one addition and
//! no clock read. The one check on a command's path is the eviction
//! timer's ([`ExceededTime::update`]), and only with `maxmemory` set, where
//! every command already runs the eviction pass: a predictable branch, as
//! in Redis's `performEvictions`.

use std::time::Instant;

/// Counters INFO reports.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Commands processed.
    pub commands: u64,
    /// Connections accepted.
    pub connections: u64,
    /// Connections refused (maxclients).
    pub rejected: u64,
    /// Bytes read from clients.
    pub net_input: u64,
    /// Bytes written to clients.
    pub net_output: u64,
    /// Reads of a client socket, whatever they returned
    /// (`total_reads_processed`; Redis counts each `readQueryFromClient`).
    pub reads_processed: u64,
    /// Writes to a client socket (`total_writes_processed`; Redis counts
    /// each `writeToClient`).
    pub writes_processed: u64,
    /// Reply buffers the cron made smaller (`reply_buffer_shrinks`).
    pub reply_buffer_shrinks: u64,
    /// Reply buffers the cron made larger (`reply_buffer_expands`).
    pub reply_buffer_expands: u64,
    /// Reads done by the IO threads (`io_threaded_reads_processed`).
    pub io_threaded_reads: u64,
    /// Writes done by the IO threads (`io_threaded_writes_processed`).
    pub io_threaded_writes: u64,
    /// Keys deleted because they expired.
    pub expired_keys: u64,
    /// The active expiry cycle's figures.
    pub expire: ExpireStats,
    /// Keys evicted under maxmemory.
    pub evicted_keys: u64,
    /// Clients evicted under maxmemory-clients (see `client_evict`).
    pub evicted_clients: u64,
    /// How long memory has stayed over `maxmemory`.
    pub eviction_exceeded: ExceededTime,
    /// Lookups that found the key.
    pub keyspace_hits: u64,
    /// Lookups that did not.
    pub keyspace_misses: u64,
    /// Processes forked (BGSAVE, BGREWRITEAOF): `total_forks`.
    pub total_forks: u64,
    /// How long the last `fork` call took, in µs (`latest_fork_usec`).
    pub latest_fork_usec: u64,
    /// The last fork's speed, in GB of `used_memory` per second (Redis's
    /// `stat_fork_rate`, which LATENCY DOCTOR grades).
    pub fork_rate: f64,
    /// Snapshots started: SAVE and BGSAVE (`rdb_saves`).
    pub rdb_saves: u64,
    /// AOF rewrites started (`aof_rewrites`).
    pub aof_rewrites: u64,
    /// AOF rewrites that failed since the last that succeeded
    /// (`aof_rewrites_consecutive_failures`).
    pub aof_rewrite_failures: u64,
    /// Per-command counters and error replies (INFO commandstats,
    /// errorstats).
    pub cmd: super::cmdstats::CommandStats,
}

/// What the active expiry cycle measures of itself (Redis's
/// `activeExpireCycle` statistics).
#[derive(Debug, Default, Clone)]
pub struct ExpireStats {
    /// The share of sampled keys found expired, as a moving average: each
    /// cycle weighs 5% (`expired_stale_perc`, a fraction here).
    pub stale_perc: f64,
    /// Cycles that stopped at their time limit
    /// (`expired_time_cap_reached_count`).
    pub time_cap_reached: u64,
    /// Time spent in the cycle, in µs (`expire_cycle_cpu_milliseconds`
    /// shows it in ms).
    pub cycle_us: u64,
}

impl ExpireStats {
    /// Records a cycle that found `expired` of `sampled` keys expired, took
    /// `us` and did or did not hit its time limit.
    pub fn record(&mut self, sampled: usize, expired: usize, us: u64, capped: bool) {
        let current = if sampled == 0 { 0.0 } else { expired as f64 / sampled as f64 };
        self.stale_perc = current * 0.05 + self.stale_perc * 0.95;
        self.time_cap_reached += u64::from(capped);
        self.cycle_us += us;
    }
}

/// The time memory has spent over `maxmemory` with eviction unable to
/// bring it under (Redis's `stat_total_eviction_exceeded_time` and
/// `stat_last_eviction_exceeded_time`).
#[derive(Debug, Default, Clone)]
pub struct ExceededTime {
    /// Finished spells over the limit, in µs.
    total_us: u64,
    /// When the current spell began, if memory is over the limit now.
    since: Option<Instant>,
}

impl ExceededTime {
    /// Notes the outcome of an eviction pass: `under` is whether memory
    /// ended under the limit. A spell starts at the first pass that leaves
    /// memory over and ends at the first that leaves it under.
    #[inline]
    pub fn update(&mut self, under: bool) {
        match (under, self.since) {
            (true, Some(start)) => {
                self.total_us += start.elapsed().as_micros() as u64;
                self.since = None;
            }
            (false, None) => self.since = Some(Instant::now()),
            _ => {}
        }
    }

    /// The current spell so far, in µs (`current_eviction_exceeded_time`,
    /// shown in ms).
    pub fn current_us(&self) -> u64 {
        self.since.map_or(0, |s| s.elapsed().as_micros() as u64)
    }

    /// Every spell, the current one included, in µs
    /// (`total_eviction_exceeded_time`, shown in ms).
    pub fn total_us(&self) -> u64 {
        self.total_us + self.current_us()
    }
}

/// Samples of one growing counter, for a per-second rate: Redis's
/// `trackInstantaneousMetric` (a sample at most every 100 ms, the rate the
/// average of the last 16).
#[derive(Debug, Default, Clone)]
pub struct RateSampler {
    last_ms: i64,
    last_value: u64,
    samples: [u64; 16],
    next: usize,
}

impl RateSampler {
    /// Records the counter's `value` at `now_ms`.
    pub fn sample(&mut self, now_ms: i64, value: u64) {
        if self.last_ms == 0 {
            self.last_ms = now_ms;
            self.last_value = value;
            return;
        }
        let dt = now_ms - self.last_ms;
        if dt < 100 {
            return;
        }
        self.samples[self.next] = value.saturating_sub(self.last_value) * 1000 / dt as u64;
        self.next = (self.next + 1) % self.samples.len();
        self.last_ms = now_ms;
        self.last_value = value;
    }

    /// The average over the recent samples, per second.
    pub fn per_sec(&self) -> u64 {
        self.samples.iter().sum::<u64>() / self.samples.len() as u64
    }
}

/// The instantaneous rates INFO stats reports: commands, and bytes in and
/// out, sampled together by the cron.
#[derive(Debug, Default, Clone)]
pub struct InstantMetrics {
    /// Commands (`instantaneous_ops_per_sec`).
    pub ops: RateSampler,
    /// Bytes read (`instantaneous_input_kbps`).
    pub net_input: RateSampler,
    /// Bytes written (`instantaneous_output_kbps`).
    pub net_output: RateSampler,
}

impl InstantMetrics {
    /// Samples the counters in `stats` at `now_ms` (from the cron).
    pub fn sample(&mut self, now_ms: i64, stats: &Stats) {
        self.ops.sample(now_ms, stats.commands);
        self.net_input.sample(now_ms, stats.net_input);
        self.net_output.sample(now_ms, stats.net_output);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_is_the_average_of_sixteen_samples() {
        let mut r = RateSampler::default();
        r.sample(1000, 0);
        r.sample(1050, 999); // too soon: ignored
        r.sample(1100, 100); // 100 in 100 ms: 1000/s
        assert_eq!(r.per_sec(), 1000 / 16);
    }

    #[test]
    fn the_stale_share_is_a_moving_average() {
        let mut e = ExpireStats::default();
        e.record(20, 20, 5, false);
        assert!((e.stale_perc - 0.05).abs() < 1e-9);
        e.record(0, 0, 5, true);
        assert!((e.stale_perc - 0.0475).abs() < 1e-9);
        assert_eq!((e.time_cap_reached, e.cycle_us), (1, 10));
    }

    #[test]
    fn a_spell_over_the_limit_is_timed_from_its_first_pass() {
        let mut t = ExceededTime::default();
        t.update(true);
        assert_eq!(t.total_us(), 0);
        t.update(false);
        let first = t.since;
        t.update(false);
        assert_eq!(t.since, first);
        t.update(true);
        assert!(t.since.is_none());
    }
}
