//! The server's clocks and randomness: the cached Unix time and LRU
//! clock every command reads (one clock read per command, as Redis's
//! `updateCachedTime`), a fast generator for sampling, and random IDs.

use std::time::{SystemTime, UNIX_EPOCH};

use super::Server;

/// Steps a xorshift64* state: fast pseudo-random numbers for sampling.
pub(crate) fn next_random(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    x.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

/// Unix time in milliseconds.
pub fn unix_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Unix time in microseconds.
pub(super) fn unix_us() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

/// The LRU clock for `ms`: seconds, 24 bits.
pub fn lru_clock_of(ms: i64) -> u32 {
    ((ms / 1000) as u32) & ((1 << 24) - 1)
}

/// Times commands for INFO commandstats, the latency histograms, the
/// slowlog and the latency monitor: one reading per command, which ends
/// its time and starts the next one's. The reading is the CPU's cycle
/// counter where the kernel trusts it as its own clock source (a third of
/// `clock_gettime`'s cost in a VM; see [`spindle_poll::cycles`]),
/// converted at a rate measured against `Instant` between events, and
/// `Instant` until that rate is known or where there is no such counter.
#[derive(Debug)]
pub(crate) struct CommandTimer {
    /// When the running command started, by `Instant`.
    started: std::time::Instant,
    /// ... and by the cycle counter (when `trusted`).
    started_cycles: u64,
    /// Whether the kernel's clock source is the cycle counter (checked at
    /// start and in the cron).
    trusted: bool,
    rate: spindle_poll::cycles::CycleRate,
}

impl CommandTimer {
    pub(crate) fn new(now: std::time::Instant) -> CommandTimer {
        let mut timer = CommandTimer {
            started: now,
            started_cycles: 0,
            trusted: spindle_poll::cycles::trusted(),
            rate: Default::default(),
        };
        timer.start(now);
        timer
    }

    /// Starts the next command's time at `now`, a fresh `Instant` reading
    /// (the event that read it), and measures the cycle rate against it.
    pub(crate) fn start(&mut self, now: std::time::Instant) {
        self.started = now;
        let cycles = if self.trusted { spindle_poll::cycles::read() } else { None };
        if let Some(c) = cycles {
            self.started_cycles = c;
        }
        self.rate.observe(now, cycles);
    }

    /// Ends the running command's time, in whole microseconds, and starts
    /// the next one's.
    pub(crate) fn lap_micros(&mut self) -> i64 {
        let cycles = if self.trusted { spindle_poll::cycles::read() } else { None };
        if let Some(c) = cycles {
            if let Some(ns) = self.rate.nanos(c.saturating_sub(self.started_cycles)) {
                self.started_cycles = c;
                return (ns / 1000) as i64;
            }
            self.started_cycles = c;
        }
        let now = std::time::Instant::now();
        let micros = now.saturating_duration_since(self.started).as_micros() as i64;
        self.started = now;
        micros
    }

    /// Asks the kernel again whether it trusts the cycle counter (it stops
    /// if its watchdog finds the counter unstable).
    pub(crate) fn recheck(&mut self) {
        self.trusted = spindle_poll::cycles::trusted();
        if !self.trusted {
            self.rate.observe(self.started, None);
        }
    }
}

impl Server {
    /// Refreshes the cached time from one monotonic clock read (Unix
    /// time is derived from it and re-based in the cron), and starts the
    /// next command's timing there. The event loop calls it for each
    /// event that reads commands (and benches/command_path.rs per
    /// pipeline, as the loop would).
    pub fn refresh_clock(&mut self) {
        let now = std::time::Instant::now();
        self.set_now(now);
        self.command_timer.start(now);
    }

    /// The cached Unix time and LRU clock at monotonic instant `now`.
    pub(super) fn set_now(&mut self, now: std::time::Instant) {
        let since = now.saturating_duration_since(self.clock_base.1).as_micros() as i64;
        self.now_ms = (self.clock_base.0 + since).div_euclid(1000);
        self.lru_clock = lru_clock_of(self.now_ms);
    }

    /// Refreshes the cached time only, leaving the running command's
    /// timing alone: serving blocked clients after a command looks keys up
    /// at the time it serves them (Redis's `updateCachedTime` in
    /// `handleClientsBlockedOnKeys`), so a key whose TTL ran out during a
    /// slow EXEC is expired, not popped.
    pub(crate) fn refresh_now(&mut self) {
        self.set_now(std::time::Instant::now());
    }

    /// Re-reads the wall clock (from the cron), so the cached Unix time
    /// follows changes to the system time.
    pub(super) fn rebase_clock(&mut self) {
        self.clock_base = (unix_us(), std::time::Instant::now());
        self.command_timer.recheck();
        self.refresh_clock();
    }
}

/// 40 random hex digits (Redis's `getRandomHexChars`): from
/// `/dev/urandom`, or, if it cannot be read, from the std library's
/// randomly keyed hasher mixed with the time and pid. Replication IDs
/// are made of these.
pub(crate) fn random_hex40() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 20];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        use std::hash::{BuildHasher, Hasher};
        for (i, chunk) in bytes.chunks_mut(8).enumerate() {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u128(unix_ms() as u128 ^ ((std::process::id() as u128) << 64) ^ i as u128);
            chunk.copy_from_slice(&h.finish().to_le_bytes()[..chunk.len()]);
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
