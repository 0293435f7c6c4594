//! The lag monitor: how late the loop runs, and which callback held it.
//!
//! A single-threaded loop is only as responsive as its slowest callback. The
//! monitor measures two things: how late timers fire (the loop's *lag*, what
//! Node's `monitorEventLoopDelay` reports), and, when a threshold is set, how
//! long each callback holds the loop; a callback over the threshold is
//! reported by the name of its handle ([`Loop::set_name`]). Timing a callback
//! costs two clock reads, so per-callback timing is off until
//! [`Loop::set_lag_monitor`] turns it on.

use crate::{HandleId, Loop};
use std::time::{Duration, Instant};

/// A callback that held the loop longer than the threshold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LagReport {
    /// The handle's name ([`Loop::set_name`]), or its kind and slot.
    pub name: String,
    /// How long the callback ran.
    pub held: Duration,
}

/// What the monitor has seen since the loop started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LagStats {
    /// Loop iterations completed.
    pub iterations: u64,
    /// The most a timer fired after its deadline.
    pub max_timer_lag: Duration,
    /// How late the most recent due timer fired.
    pub last_timer_lag: Duration,
    /// Callbacks reported over the threshold.
    pub slow_callbacks: u64,
}

type Reporter = Box<dyn FnMut(&LagReport)>;

#[derive(Default)]
pub(crate) struct LagMonitor {
    threshold: Option<Duration>,
    reporter: Option<Reporter>,
    stats: LagStats,
}

impl Loop {
    /// Reports every callback that runs longer than `threshold` to `report`
    /// (on the loop thread, right after the callback returns). Also logs a
    /// `tracing` warning.
    pub fn set_lag_monitor(&mut self, threshold: Duration, report: impl FnMut(&LagReport) + 'static) {
        self.lag.threshold = Some(threshold);
        self.lag.reporter = Some(Box::new(report));
    }

    /// Turns per-callback timing off again.
    pub fn clear_lag_monitor(&mut self) {
        self.lag.threshold = None;
        self.lag.reporter = None;
    }

    /// Lag figures so far.
    pub fn lag_stats(&self) -> LagStats {
        self.lag.stats
    }

    /// Runs a handle's callback, timing it when the monitor is on.
    #[inline]
    pub(crate) fn timed(&mut self, id: HandleId, f: impl FnOnce(&mut Loop)) {
        let Some(threshold) = self.lag.threshold else {
            f(self);
            return;
        };
        let start = Instant::now();
        f(self);
        let held = start.elapsed();
        if held > threshold {
            let report = LagReport { name: self.handle_name(id), held };
            tracing::warn!(callback = %report.name, held_ms = held.as_secs_f64() * 1e3, "callback blocked the event loop");
            self.lag.stats.slow_callbacks += 1;
            if let Some(r) = self.lag.reporter.as_mut() {
                r(&report);
            }
        }
    }

    pub(crate) fn lag_note_timer(&mut self, late_ns: u64) {
        let late = Duration::from_nanos(late_ns);
        self.lag.stats.last_timer_lag = late;
        self.lag.stats.max_timer_lag = self.lag.stats.max_timer_lag.max(late);
    }

    pub(crate) fn lag_end_iteration(&mut self) {
        self.lag.stats.iterations += 1;
    }
}
