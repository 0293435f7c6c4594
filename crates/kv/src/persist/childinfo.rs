//! Forking a persistence child, and what the child tells the parent.
//!
//! Redis's `redisFork` times the fork and counts it, and its children send
//! their copy-on-write size back through a pipe (`childinfo.c`): the
//! memory the child had to copy because the parent kept writing to pages
//! they shared, which is what a fork really costs. So do these.
//!
//! The protocol: before forking, the parent opens a pipe (non-blocking, and
//! closed on exec, so no other process keeps it). The child keeps the write
//! end and reports through a [`Reporter`]: every 1024 keys it writes (at
//! most every 100 ms) how many keys it has written and its copy-on-write
//! size, measured at most once a second, and a last report as it ends.
//! The size is `Private_Dirty` summed over its mappings (Redis's
//! `zmalloc_get_private_dirty`: right after the fork every page is shared,
//! so what is private and dirty is what was copied). Each report is one
//! write of 25 bytes, under `PIPE_BUF`, so it arrives whole or not
//! at all. The parent drops its copy of the write end at once, reads the
//! reports in the cron ([`receive`]), and the last ones when it reaps the
//! child ([`finish`]): the child's largest copy-on-write size becomes
//! `rdb_last_cow_size` or `aof_last_cow_size`, as Redis's `updateChildInfo`
//! makes its peak. A child that died before reporting leaves 0.

use super::sys::{self, Forked};
use crate::server::Server;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::time::{Duration, Instant};

/// One report: a flag (1 for the last), the keys written, the
/// copy-on-write size, and its age in ms; integers little-endian.
const MSG_LEN: usize = 25;

/// The parent's view of the running child (Redis's `stat_current_*`),
/// reset when it is reaped.
#[derive(Debug, Default)]
pub struct Progress {
    /// The read end of the child's report pipe.
    pipe: Option<File>,
    /// Keys in the databases when it forked (`current_save_keys_total`).
    pub keys_total: usize,
    /// Keys it has written so far (`current_save_keys_processed`).
    pub keys_processed: u64,
    /// Its latest copy-on-write size (`current_cow_size`).
    pub cow_size: u64,
    /// Its largest (`current_cow_peak`).
    pub cow_peak: u64,
    /// When `cow_size` was measured (`current_cow_size_age`).
    pub cow_measured: Option<Instant>,
}

impl Progress {
    /// `current_fork_perc`: the share of the keys written, in percent.
    pub fn percent(&self) -> f64 {
        if self.keys_total == 0 {
            0.0
        } else {
            self.keys_processed as f64 * 100.0 / self.keys_total as f64
        }
    }

    /// Reads every report that has arrived; returns whether the last one
    /// was among them.
    fn read_reports(&mut self) -> bool {
        let Some(pipe) = self.pipe.as_mut() else { return false };
        let mut msg = [0u8; MSG_LEN];
        let mut last = false;
        while pipe.read_exact(&mut msg).is_ok() {
            let word = |i: usize| u64::from_le_bytes(msg[1 + 8 * i..9 + 8 * i].try_into().expect("8 bytes"));
            let (keys, cow, age_ms) = (word(0), word(1), word(2));
            self.keys_processed = keys;
            self.cow_size = cow;
            self.cow_peak = self.cow_peak.max(cow);
            self.cow_measured = Instant::now().checked_sub(Duration::from_millis(age_ms));
            last |= msg[0] == 1;
        }
        last
    }
}

/// The child's side of the pipe: counts the keys it writes and reports.
#[derive(Debug)]
pub struct Reporter {
    pipe: Option<File>,
    /// `rdb-key-save-delay`: microseconds to sleep after each key (a test
    /// hook that makes a child slow; negative: sleep 1 µs once in that
    /// many keys, on average).
    key_delay: i64,
    keys: u64,
    sent: Instant,
    cow: u64,
    measured: Option<Instant>,
}

impl Reporter {
    /// A reporter writing to `pipe` (none: it counts and reports nothing).
    fn new(pipe: Option<File>, key_delay: i64) -> Reporter {
        Reporter { pipe, key_delay, keys: 0, sent: Instant::now(), cow: 0, measured: None }
    }

    /// One more key written: every 1024, a report if 100 ms have passed
    /// since the last (Redis's child reports every 1024 keys; the pause
    /// keeps a fast child from filling the pipe before the cron drains it).
    #[inline]
    pub fn key(&mut self) {
        self.keys += 1;
        // Redis's debugDelay.
        let delay = match self.key_delay {
            0 => 0,
            d if d < 0 => u64::from(self.keys % d.unsigned_abs() == 0),
            d => d as u64,
        };
        if delay > 0 {
            std::thread::sleep(Duration::from_micros(delay));
        }
        if self.keys % 1024 == 0 && self.sent.elapsed() >= Duration::from_millis(100) {
            self.send(false);
        }
    }

    /// The last report, just before the child exits. Errors are ignored
    /// (the parent then keeps what it had).
    pub fn finish(mut self) {
        self.send(true);
    }

    fn send(&mut self, last: bool) {
        let Some(pipe) = self.pipe.as_mut() else { return };
        // Reading smaps walks every mapping: once a second at most, as
        // Redis's `sendChildInfoGeneric`, and always for the last report.
        if last || self.measured.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
            self.cow = private_dirty() as u64;
            self.measured = Some(Instant::now());
        }
        let age_ms = self.measured.map_or(0, |t| t.elapsed().as_millis() as u64);
        let mut msg = [0u8; MSG_LEN];
        msg[0] = u8::from(last);
        for (i, v) in [self.keys, self.cow, age_ms].into_iter().enumerate() {
            msg[1 + 8 * i..9 + 8 * i].copy_from_slice(&v.to_le_bytes());
        }
        let _ = pipe.write_all(&msg);
        self.sent = Instant::now();
    }
}

/// What [`fork`] returned in this process.
pub enum Forking {
    /// We are the child; it reports through this.
    Child(Reporter),
    /// We are the parent; the child has this pid.
    Parent(i32),
}

/// Forks a persistence child (Redis's `redisFork`): times the call
/// (`latest_fork_usec`, the `fork` latency event), counts it
/// (`total_forks`), and starts the parent's [`Progress`] for it, with the
/// keys the child will write. Without a pipe (out of descriptors) the
/// child still runs and reports nothing.
///
/// # Errors
/// The fork failed.
pub fn fork(srv: &mut Server) -> io::Result<Forking> {
    let pipe = sys::pipe().map_err(|e| tracing::warn!(error = %e, "no pipe for the child's report")).ok();
    let start = Instant::now();
    match sys::fork()? {
        Forked::Child => {
            // The child goes first if memory runs out (see `server::oom`).
            let _ = srv.oom.apply(&srv.config, crate::server::oom::Class::Child);
            Ok(Forking::Child(Reporter::new(pipe.map(|(_, w)| w), srv.config.rdb_key_save_delay)))
        }
        Forked::Parent(pid) => {
            let us = start.elapsed().as_micros() as u64;
            srv.stats.latest_fork_usec = us;
            srv.stats.fork_rate =
                crate::alloc::used_memory() as f64 * 1e6 / us.max(1) as f64 / (1024.0 * 1024.0 * 1024.0);
            srv.stats.total_forks += 1;
            let threshold = srv.config.latency_monitor_threshold;
            srv.latency.record(threshold, "fork", srv.now_ms / 1000, us / 1000);
            // The write end is the child's alone from here on.
            srv.persist.progress = Progress {
                pipe: pipe.map(|(r, _)| r),
                keys_total: srv.dbs.iter().map(|db| db.len()).sum(),
                ..Progress::default()
            };
            Ok(Forking::Parent(pid))
        }
    }
}

/// In the parent's cron: takes in the running child's reports.
pub fn receive(srv: &mut Server) {
    srv.persist.progress.read_reports();
}

/// In the parent, once the child has exited: takes in its last reports,
/// clears the progress, and returns the largest copy-on-write size it
/// reported (0 if none).
pub fn finish(srv: &mut Server) -> usize {
    let mut p = std::mem::take(&mut srv.persist.progress);
    p.read_reports();
    p.cow_peak as usize
}

/// This process's private dirty memory in bytes: the `Private_Dirty` lines
/// of /proc/self/smaps_rollup (one summary) or, on kernels without it,
/// /proc/self/smaps (one per mapping), summed.
fn private_dirty() -> usize {
    let file = File::open("/proc/self/smaps_rollup").or_else(|_| File::open("/proc/self/smaps"));
    let Ok(file) = file else { return 0 };
    BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| {
            let kb = line.strip_prefix("Private_Dirty:")?.trim().strip_suffix("kB")?.trim().parse::<usize>();
            kb.ok()
        })
        .sum::<usize>()
        * 1024
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_reach_the_parent_and_the_last_one_is_flagged() {
        let (r, w) = sys::pipe().unwrap();
        let mut p = Progress { pipe: Some(r), keys_total: 4096, ..Progress::default() };
        let mut child = Reporter::new(Some(w), 0);
        child.sent -= Duration::from_secs(1);
        for _ in 0..2048 {
            child.key();
        }
        assert!(!p.read_reports());
        assert_eq!(p.keys_processed, 1024, "one report, at the 1024th key");
        assert!(p.cow_size > 0 && p.cow_peak == p.cow_size);
        assert_eq!(p.percent(), 25.0);
        child.finish();
        assert!(p.read_reports());
        assert_eq!(p.keys_processed, 2048);
        assert!(p.cow_measured.is_some());
    }

    #[test]
    fn this_process_has_private_dirty_memory() {
        let v = vec![1u8; 4 << 20];
        assert!(private_dirty() >= 4 << 20);
        drop(v);
    }
}
