//! The CPU's time-stamp counter, as a clock for short intervals.
//!
//! A server that times every command (Redis's commandstats, slowlog and
//! latency monitor) reads a clock twice per command, or once if each
//! reading ends one command and starts the next. `clock_gettime` through
//! the vDSO costs 20-25 ns in a KVM guest, a tenth of what a pipelined GET
//! costs spindle kv in user space; `rdtsc` costs about 9. The kernel
//! itself reads the same counter for `CLOCK_MONOTONIC` when its clock
//! source is `tsc`, which it only chooses after checking that the counter
//! ticks at a constant rate, does not stop in idle states and agrees across
//! CPUs. So [`trusted`] asks the kernel which clock source it uses, and a
//! caller converts cycles to time with a ratio it measures against
//! `Instant` over a long interval (see [`CycleRate`]).
//!
//! On other architectures, or when the kernel does not trust the counter,
//! [`read`] returns `None` and the caller keeps using `Instant`.

use std::time::{Duration, Instant};

/// Whether the kernel's clock source is the time-stamp counter, read from
/// `/sys/devices/system/clocksource/clocksource0/current_clocksource` (a
/// few microseconds: callers ask now and then, not per reading). `false`
/// on architectures without one.
pub fn trusted() -> bool {
    cfg!(target_arch = "x86_64")
        && std::fs::read("/sys/devices/system/clocksource/clocksource0/current_clocksource")
            .is_ok_and(|s| s.trim_ascii() == b"tsc")
}

/// The time-stamp counter now, or `None` where there is none.
#[inline]
pub fn read() -> Option<u64> {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `rdtsc` has no preconditions and is present on every
        // x86_64 CPU; it reads a counter and touches no memory.
        Some(unsafe { core::arch::x86_64::_rdtsc() })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        None
    }
}

/// Cycles to nanoseconds, as measured between two (instant, counter)
/// readings at least [`CycleRate::WINDOW`] apart; re-measured each window
/// so that it follows the counter's real rate.
///
/// # Example
///
/// ```
/// use spindle_poll::cycles::{self, CycleRate};
/// use std::time::Instant;
///
/// let mut rate = CycleRate::default();
/// let start = Instant::now();
/// rate.observe(start, cycles::read());
/// // ... later, after at least `CycleRate::WINDOW`, another pair:
/// rate.observe(start + CycleRate::WINDOW, cycles::read().map(|c| c + 1_000_000));
/// if let Some(ns) = rate.nanos(250_000) {
///     assert!(ns > 0);
/// }
/// ```
#[derive(Debug, Default, Clone)]
pub struct CycleRate {
    /// Nanoseconds per cycle, in 32.32 fixed point; 0 until measured.
    ns_per_cycle_q32: u64,
    /// The reading the current window started at.
    anchor: Option<(Instant, u64)>,
}

impl CycleRate {
    /// The interval over which the rate is measured: long enough that the
    /// jitter of the two readings (tens of nanoseconds) is a part in a
    /// million.
    pub const WINDOW: Duration = Duration::from_millis(100);

    /// Records a reading of `Instant` and the counter taken together. Once
    /// a window has passed since the last anchor, the rate becomes the
    /// window's, and the window restarts. A counter of `None` (none here,
    /// or no longer trusted) forgets the rate.
    pub fn observe(&mut self, now: Instant, counter: Option<u64>) {
        let Some(counter) = counter else {
            *self = CycleRate::default();
            return;
        };
        match self.anchor {
            Some((at, c)) if now.saturating_duration_since(at) >= Self::WINDOW => {
                let cycles = counter.saturating_sub(c);
                let nanos = now.saturating_duration_since(at).as_nanos();
                self.ns_per_cycle_q32 = if cycles == 0 {
                    0
                } else {
                    u64::try_from((nanos << 32) / u128::from(cycles)).unwrap_or(0)
                };
                self.anchor = Some((now, counter));
            }
            Some(_) => {}
            None => self.anchor = Some((now, counter)),
        }
    }

    /// `cycles` in nanoseconds, once a rate has been measured.
    #[inline]
    pub fn nanos(&self, cycles: u64) -> Option<u64> {
        if self.ns_per_cycle_q32 == 0 {
            return None;
        }
        u64::try_from((u128::from(cycles) * u128::from(self.ns_per_cycle_q32)) >> 32).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_needs_a_whole_window_and_converts_with_it() {
        let t0 = Instant::now();
        let mut rate = CycleRate::default();
        rate.observe(t0, Some(1_000));
        assert_eq!(rate.nanos(10), None, "no rate before a window");
        rate.observe(t0 + Duration::from_millis(50), Some(2_000));
        assert_eq!(rate.nanos(10), None, "half a window is not enough");
        // 100 ms over 300,000,000 cycles: 3 GHz, a third of a ns each.
        rate.observe(t0 + CycleRate::WINDOW, Some(300_001_000));
        let ns = rate.nanos(3_000_000).expect("measured");
        assert!((999_999..=1_000_000).contains(&ns), "{ns}");
        // No counter any more: back to no rate.
        rate.observe(t0 + 2 * CycleRate::WINDOW, None);
        assert_eq!(rate.nanos(10), None);
    }

    #[test]
    fn the_counter_agrees_with_instant_where_the_kernel_trusts_it() {
        if !trusted() {
            return; // nothing to compare on this machine
        }
        let (t0, c0) = (Instant::now(), read().expect("x86_64"));
        let mut rate = CycleRate::default();
        rate.observe(t0, Some(c0));
        // A busy wait, not a sleep: the window must pass in real time.
        while t0.elapsed() < CycleRate::WINDOW {
            std::hint::spin_loop();
        }
        rate.observe(Instant::now(), read());
        let (t1, c1) = (Instant::now(), read().expect("x86_64"));
        while t1.elapsed() < Duration::from_millis(20) {
            std::hint::spin_loop();
        }
        let (elapsed, c2) = (t1.elapsed(), read().expect("x86_64"));
        let ns = rate.nanos(c2 - c1).expect("measured") as i128;
        let want = elapsed.as_nanos() as i128;
        assert!((ns - want).abs() < want / 50 + 50_000, "{ns} ns by the counter, {want} by Instant");
    }
}
