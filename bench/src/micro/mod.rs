//! Runtime micro-benchmarks: spindle-rt against tokio, same code on both.
//!
//! The driver binary `rt_micro` runs every measurement in a fresh child
//! process (itself, re-executed with `--one`), so one runtime's heap,
//! threads and page cache never skew the other's. The child builds the
//! runtime, runs one benchmark body inside `block_on`, and prints one
//! [`Sample`] line; the parent collects the lines, takes medians over
//! rounds and prints the comparison table.
//!
//! - [`bodies`]: the benchmark bodies, written once as a macro and
//!   instantiated for each runtime ([`bodies::spindle`], [`bodies::tokio`]),
//!   and the one function per side that builds a runtime of a [`Flavor`];
//! - this module: the names ([`Bench`], [`Rt`], [`Flavor`]), the child's
//!   result line ([`Sample`]), and the meters ([`Meter`], [`rss_bytes`]).

pub mod bodies;

use std::fmt;
use std::time::{Duration, Instant};

use clap::ValueEnum;

/// One benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, ValueEnum)]
pub enum Bench {
    /// Spawn N tasks that each return a small value, then await every
    /// `JoinHandle`; cost per task.
    Spawn,
    /// Two tasks wake each other through two `Notify`s (`notify_one`, then
    /// await `notified()`), N round trips; cost per round trip.
    PingPong,
    /// Two tasks each call `yield_now()` N/2 times; cost per yield.
    Yield,
    /// One producer, one consumer, bounded mpsc of capacity 1024, N `u64`s.
    Mpsc1,
    /// Four producers (N/4 each), one consumer, capacity 1024, N `u64`s.
    Mpsc4,
    /// Spawn N tasks each sleeping a duration spread evenly over 0..1000 ms;
    /// await all.
    Sleeps,
    /// Spawn N tasks that each pend forever (`std::future::pending`), once
    /// every one has been polled, RSS growth per task.
    Memory,
}

impl Bench {
    /// Every benchmark, in table order.
    pub const ALL: [Bench; 7] = [
        Bench::Spawn,
        Bench::PingPong,
        Bench::Yield,
        Bench::Mpsc1,
        Bench::Mpsc4,
        Bench::Sleeps,
        Bench::Memory,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Bench::Spawn => "spawn",
            Bench::PingPong => "ping-pong",
            Bench::Yield => "yield",
            Bench::Mpsc1 => "mpsc1",
            Bench::Mpsc4 => "mpsc4",
            Bench::Sleeps => "sleeps",
            Bench::Memory => "memory",
        }
    }

    /// The operation count at scale 1; `--scale S` divides it by S.
    pub fn default_ops(self) -> u64 {
        match self {
            Bench::Spawn => 1_000_000,
            Bench::PingPong => 1_000_000,
            Bench::Yield => 2_000_000,
            Bench::Mpsc1 | Bench::Mpsc4 => 10_000_000,
            Bench::Sleeps => 1_000_000,
            Bench::Memory => 100_000,
        }
    }

    /// What one operation is, for the table.
    pub fn op(self) -> &'static str {
        match self {
            Bench::Spawn | Bench::Sleeps | Bench::Memory => "task",
            Bench::PingPong => "round trip",
            Bench::Yield => "yield",
            Bench::Mpsc1 | Bench::Mpsc4 => "msg",
        }
    }
}

/// Which runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, ValueEnum)]
pub enum Rt {
    /// spindle-rt.
    Spindle,
    /// tokio.
    Tokio,
}

impl Rt {
    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Rt::Spindle => "spindle",
            Rt::Tokio => "tokio",
        }
    }
}

/// Which scheduler of a runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, ValueEnum)]
pub enum Flavor {
    /// Everything on the thread that calls `block_on`.
    Current,
    /// A pool of worker threads (`--threads`).
    Multi,
}

impl Flavor {
    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Flavor::Current => "current",
            Flavor::Multi => "multi",
        }
    }
}

/// Process CPU time (all threads, user plus system) from
/// `getrusage(RUSAGE_SELF)`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Cpu {
    /// User-mode seconds.
    pub user: f64,
    /// Kernel-mode seconds.
    pub sys: f64,
}

impl Cpu {
    /// The process's CPU time so far.
    pub fn now() -> Cpu {
        // SAFETY: an all-zero rusage is a valid value of a plain C struct.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `usage` is a valid, writable rusage; RUSAGE_SELF is valid.
        let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
        assert_eq!(rc, 0, "getrusage(RUSAGE_SELF) failed");
        let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
        Cpu { user: secs(usage.ru_utime), sys: secs(usage.ru_stime) }
    }
}

/// Wall clock and CPU time from a start point.
#[derive(Clone, Copy, Debug)]
pub struct Meter {
    wall: Instant,
    cpu: Cpu,
}

impl Meter {
    /// Starts measuring now.
    pub fn start() -> Meter {
        Meter { wall: Instant::now(), cpu: Cpu::now() }
    }

    /// Stops: a [`Measured`] for `ops` operations with no extra figures.
    pub fn stop(&self, ops: u64) -> Measured {
        let wall = self.wall.elapsed();
        let cpu = Cpu::now();
        Measured {
            ops,
            wall,
            cpu: Cpu { user: cpu.user - self.cpu.user, sys: cpu.sys - self.cpu.sys },
            extra: Vec::new(),
        }
    }
}

/// What one benchmark body measured.
#[derive(Clone, Debug)]
pub struct Measured {
    /// Operations done.
    pub ops: u64,
    /// Wall-clock time of the measured part.
    pub wall: Duration,
    /// CPU time of the measured part.
    pub cpu: Cpu,
    /// Benchmark-specific figures, `(key, value)`.
    pub extra: Vec<(&'static str, f64)>,
}

/// The process's resident set size in bytes, from `/proc/self/statm`
/// (second field, in pages).
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    // SAFETY: sysconf takes no pointers and has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * u64::try_from(page).unwrap_or(4096)
}

/// The child's result line: `rt_micro_result bench=.. runtime=.. flavor=..
/// ops=.. wall_s=.. user_s=.. sys_s=.. [key=value ...]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The benchmark.
    pub bench: Bench,
    /// The runtime.
    pub rt: Rt,
    /// The scheduler flavor.
    pub flavor: Flavor,
    /// Operations done.
    pub ops: u64,
    /// Wall seconds of the measured part.
    pub wall_s: f64,
    /// User CPU seconds of the measured part.
    pub user_s: f64,
    /// System CPU seconds of the measured part.
    pub sys_s: f64,
    /// Benchmark-specific figures.
    pub extra: Vec<(String, f64)>,
}

/// The first word of a [`Sample`] line.
pub const RESULT_PREFIX: &str = "rt_micro_result";

impl Sample {
    /// A sample from what a body measured.
    pub fn new(bench: Bench, rt: Rt, flavor: Flavor, m: &Measured) -> Sample {
        Sample {
            bench,
            rt,
            flavor,
            ops: m.ops,
            wall_s: m.wall.as_secs_f64(),
            user_s: m.cpu.user,
            sys_s: m.cpu.sys,
            extra: m.extra.iter().map(|&(k, v)| (k.to_owned(), v)).collect(),
        }
    }

    /// CPU seconds, user plus system.
    pub fn cpu_s(&self) -> f64 {
        self.user_s + self.sys_s
    }

    /// An extra figure by key.
    pub fn get(&self, key: &str) -> Option<f64> {
        self.extra.iter().find(|(k, _)| k == key).map(|&(_, v)| v)
    }

    /// Parses a result line; `None` for any other line.
    pub fn parse(line: &str) -> Option<Sample> {
        let mut words = line.split_whitespace();
        if words.next()? != RESULT_PREFIX {
            return None;
        }
        let (mut bench, mut rt, mut flavor, mut ops) = (None, None, None, None);
        let (mut wall_s, mut user_s, mut sys_s) = (None, None, None);
        let mut extra = Vec::new();
        for word in words {
            let (key, value) = word.split_once('=')?;
            match key {
                "bench" => bench = Some(Bench::from_str(value, false).ok()?),
                "runtime" => rt = Some(Rt::from_str(value, false).ok()?),
                "flavor" => flavor = Some(Flavor::from_str(value, false).ok()?),
                "ops" => ops = Some(value.parse().ok()?),
                "wall_s" => wall_s = Some(value.parse().ok()?),
                "user_s" => user_s = Some(value.parse().ok()?),
                "sys_s" => sys_s = Some(value.parse().ok()?),
                _ => extra.push((key.to_owned(), value.parse().ok()?)),
            }
        }
        Some(Sample {
            bench: bench?,
            rt: rt?,
            flavor: flavor?,
            ops: ops?,
            wall_s: wall_s?,
            user_s: user_s?,
            sys_s: sys_s?,
            extra,
        })
    }
}

impl fmt::Display for Sample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{RESULT_PREFIX} bench={} runtime={} flavor={} ops={} wall_s={:.6} user_s={:.6} sys_s={:.6}",
            self.bench.name(),
            self.rt.name(),
            self.flavor.name(),
            self.ops,
            self.wall_s,
            self.user_s,
            self.sys_s
        )?;
        for (key, value) in &self.extra {
            write!(f, " {key}={value}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_line_round_trips() {
        let sample = Sample {
            bench: Bench::PingPong,
            rt: Rt::Tokio,
            flavor: Flavor::Current,
            ops: 1000,
            wall_s: 0.5,
            user_s: 0.25,
            sys_s: 0.125,
            extra: vec![("bytes_per_task".to_owned(), 312.5)],
        };
        let line = sample.to_string();
        assert!(line.starts_with("rt_micro_result bench=ping-pong runtime=tokio"), "{line}");
        assert_eq!(Sample::parse(&line), Some(sample.clone()));
        assert_eq!(sample.get("bytes_per_task"), Some(312.5));
        assert_eq!(Sample::parse("hello"), None);
        assert_eq!(Sample::parse("rt_micro_result bench=nope"), None);
    }

    #[test]
    fn meters_move() {
        let meter = Meter::start();
        let mut x = 0u64;
        for i in 0..100_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        let m = meter.stop(1);
        assert!(m.cpu.user >= 0.0 && m.cpu.sys >= 0.0);
        assert!(rss_bytes() > 0);
    }
}
