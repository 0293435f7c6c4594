//! What `wrk --latency` prints, parsed.
//!
//! A run of `wrk -t1 -c100 -d10s --latency URL` ends like this:
//!
//! ```text
//!   Latency Distribution
//!      50%  581.00us
//!      75%    1.03ms
//!      90%    4.15ms
//!      99%   42.60ms
//!   1593560 requests in 10.04s, 118.50MB read
//!   Socket errors: connect 0, read 12, write 0, timeout 3
//!   Non-2xx or 3xx responses: 7
//! Requests/sec: 158725.47
//! Transfer/sec:     11.82MB
//! ```
//!
//! The `Socket errors` and `Non-2xx` lines appear only when non-zero.
//! Latencies carry wrk's units (`us`, `ms`, `s`, `m`, `h`), which
//! [`parse_wrk_time_us`] turns into microseconds. [`run_wrk`] runs wrk
//! with every wait bounded and returns the parsed report.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use std::{fmt, io};

use anyhow::{ensure, Context, Result};

use crate::process::{command_on_cpu, ChildProcess};
use crate::procstat::{clock_ticks_per_second, proc_cpu_seconds, system_busy_seconds, CpuReading};

/// Slack on top of a run's duration for wrk to connect, print and exit.
pub const WRK_SLACK: Duration = Duration::from_secs(15);

/// The last line wrk prints; once it is read the output is complete.
pub const LAST_LINE_PREFIX: &str = "Transfer/sec:";

/// One wrk run's result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WrkReport {
    /// Requests completed (`N requests in ...`).
    pub requests: u64,
    /// The run's length as wrk measured it, seconds.
    pub seconds: f64,
    /// `Requests/sec:` as wrk printed it.
    pub requests_per_sec: f64,
    /// Median latency, microseconds.
    pub p50_us: f64,
    /// 99th-percentile latency, microseconds.
    pub p99_us: f64,
    /// Responses with a status other than 2xx or 3xx.
    pub non_2xx: u64,
    /// Socket errors of every kind: connect, read, write and timeout.
    pub socket_errors: u64,
}

impl WrkReport {
    /// Parses wrk's whole output. `None` unless the request count,
    /// `Requests/sec:` and the 50% and 99% latency lines are all there
    /// (the latter need `--latency`).
    pub fn parse(output: &str) -> Option<Self> {
        let mut requests = None;
        let mut seconds = None;
        let mut requests_per_sec = None;
        let mut p50_us = None;
        let mut p99_us = None;
        let mut non_2xx = 0;
        let mut socket_errors = 0;
        for line in output.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("Requests/sec:") {
                requests_per_sec = rest.trim().parse().ok();
            } else if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
                non_2xx = rest.trim().parse().ok()?;
            } else if let Some(rest) = line.strip_prefix("Socket errors:") {
                // "connect 0, read 12, write 0, timeout 3"
                for part in rest.split(',') {
                    let count: u64 = part.split_whitespace().nth(1)?.parse().ok()?;
                    socket_errors += count;
                }
            } else if let Some(rest) = line.strip_prefix("50%") {
                p50_us = parse_wrk_time_us(rest.trim());
            } else if let Some(rest) = line.strip_prefix("99%") {
                p99_us = parse_wrk_time_us(rest.trim());
            } else if let Some((count, rest)) = line.split_once(" requests in ") {
                requests = count.trim().parse().ok();
                let time = rest.split(',').next().unwrap_or_default();
                seconds = parse_wrk_time_us(time.trim()).map(|us| us / 1e6);
            }
        }
        Some(Self {
            requests: requests?,
            seconds: seconds?,
            requests_per_sec: requests_per_sec?,
            p50_us: p50_us?,
            p99_us: p99_us?,
            non_2xx,
            socket_errors,
        })
    }

    /// Whether wrk saw anything other than clean 2xx responses.
    pub fn has_errors(&self) -> bool {
        self.non_2xx > 0 || self.socket_errors > 0
    }
}

impl fmt::Display for WrkReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "requests={} seconds={:.2} req_per_sec={:.0} p50_us={:.1} p99_us={:.1} non_2xx={} socket_errors={}",
            self.requests,
            self.seconds,
            self.requests_per_sec,
            self.p50_us,
            self.p99_us,
            self.non_2xx,
            self.socket_errors
        )
    }
}

/// Runs `wrk -t1 -cC -dD [--timeout T] --latency URL` to completion,
/// pinned to `cpu` if given (see [`command_on_cpu`]); returns its report
/// and the CPU seconds wrk used. `duration` and `timeout` are rounded down
/// to whole seconds, wrk's resolution; without `timeout` wrk counts a
/// response slower than 2 s as a timeout socket error. Every wait is
/// bounded by `duration` plus [`WRK_SLACK`].
pub fn run_wrk(
    wrk: &Path,
    cpu: Option<usize>,
    connections: usize,
    duration: Duration,
    timeout: Option<Duration>,
    url: &str,
) -> Result<(WrkReport, f64)> {
    let mut cmd = command_on_cpu(wrk, cpu);
    cmd.args(["-t1", &format!("-c{connections}"), &format!("-d{}s", duration.as_secs())]);
    if let Some(timeout) = timeout {
        cmd.arg(format!("--timeout={}s", timeout.as_secs().max(1)));
    }
    cmd.args(["--latency", url]);
    let mut child = ChildProcess::spawn("wrk", cmd)?;
    let deadline = Instant::now() + duration + WRK_SLACK;
    let mut output = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = child.wait_line(left, |l| Some(l.to_owned())).context("reading wrk's output")?;
        output.push_str(&line);
        output.push('\n');
        if line.starts_with(LAST_LINE_PREFIX) {
            break;
        }
    }
    // Read before reaping: a zombie's /proc/PID/stat still has its times.
    let cpu_s = proc_cpu_seconds(child.pid()).unwrap_or(0.0);
    let status = child.wait_exit(WRK_SLACK)?;
    ensure!(status.success(), "wrk exited with {status}:\n{output}");
    let report = WrkReport::parse(&output).with_context(|| format!("unexpected wrk output:\n{output}"))?;
    Ok((report, cpu_s))
}

/// A measured wrk run and the CPU the server and everything else used
/// meanwhile.
#[derive(Debug, Clone)]
pub struct MeasuredRun<R> {
    /// What wrk reported.
    pub report: WrkReport,
    /// The server's reading just before wrk started.
    pub server_before: R,
    /// The server's reading just after wrk exited.
    pub server_after: R,
    /// Server CPU (user + system) in between, seconds.
    pub server_cpu_s: f64,
    /// The user-mode part of `server_cpu_s`.
    pub server_user_s: f64,
    /// CPU every other process (not the server, not wrk) used, seconds:
    /// when it is high, the figures are noisy.
    pub other_cpu_s: f64,
    /// CPU wrk used (user + system, its whole life), seconds. On loopback
    /// part of the TCP work of either side lands on whichever CPU runs
    /// the softirq, so a server can look cheaper by leaving work to the
    /// client: this shows the client's share.
    pub wrk_cpu_s: f64,
    /// Wall time between the readings, seconds.
    pub window_s: f64,
}

/// [`run_wrk`] with the server's CPU read (by `read_server`: one process
/// or a tree of them) and the machine's busy time sampled around it.
pub fn run_wrk_measured<R: CpuReading>(
    wrk: &Path,
    cpu: Option<usize>,
    connections: usize,
    duration: Duration,
    timeout: Option<Duration>,
    url: &str,
    mut read_server: impl FnMut() -> io::Result<R>,
) -> Result<MeasuredRun<R>> {
    let server_before = read_server().context("server CPU (start)")?;
    let system_before = system_busy_seconds().context("/proc/stat (start)")?;
    let started = Instant::now();
    let (report, wrk_cpu_s) =
        run_wrk(wrk, cpu, connections, duration, timeout, url).context("measured run")?;
    let server_after = read_server().context("server CPU (end; did it die?)")?;
    let system_after = system_busy_seconds().context("/proc/stat (end)")?;
    let window_s = started.elapsed().as_secs_f64();
    let hz = clock_ticks_per_second() as f64;
    let used = server_after.since(&server_before);
    let server_cpu_s = used.total() as f64 / hz;
    Ok(MeasuredRun {
        report,
        server_before,
        server_after,
        server_cpu_s,
        server_user_s: used.utime as f64 / hz,
        // Tick rounding can make this slightly negative on an idle machine.
        other_cpu_s: (system_after - system_before - server_cpu_s - wrk_cpu_s).max(0.0),
        wrk_cpu_s,
        window_s,
    })
}

/// wrk's version line (`wrk 4.1.0 [epoll]`), which also checks that wrk
/// can be run at all.
pub fn wrk_version(wrk: &Path) -> Result<String> {
    let mut cmd = Command::new(wrk);
    cmd.arg("-v");
    let mut child = ChildProcess::spawn("wrk", cmd)
        .with_context(|| format!("{} not runnable (install wrk)", wrk.display()))?;
    let line = child
        .wait_line(Duration::from_secs(5), |l| l.starts_with("wrk ").then(|| l.to_owned()))
        .with_context(|| format!("{} -v", wrk.display()))?;
    // `wrk -v` exits by itself; dropping `child` reaps it either way.
    Ok(line.split(" Copyright").next().unwrap_or(&line).to_owned())
}

/// Raises this process's soft `RLIMIT_NOFILE` to the hard limit, so that
/// children started afterwards (wrk and the server, with a descriptor per
/// connection each) inherit it; returns the new soft limit.
pub fn raise_nofile_limit() -> io::Result<u64> {
    let mut limit = crate::sys::nofile_limit()?;
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max;
        crate::sys::set_nofile_limit(&limit)?;
    }
    Ok(limit.rlim_cur)
}

/// Parses a time as wrk prints it (`581.00us`, `1.03ms`, `2.04s`, `1.50m`,
/// `1.00h`) into microseconds; `None` for anything else.
pub fn parse_wrk_time_us(text: &str) -> Option<f64> {
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let us_per_unit = match unit {
        "us" => 1.0,
        "ms" => 1e3,
        "s" => 1e6,
        "m" => 60e6,
        "h" => 3600e6,
        _ => return None,
    };
    Some(value * us_per_unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLEAN: &str = "Running 2s test @ http://127.0.0.1:18080/
  1 threads and 100 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.40ms    6.79ms  65.89ms   94.08%
    Req/Sec    79.26k    24.32k  123.23k    60.00%
  Latency Distribution
     50%  581.00us
     75%    1.03ms
     90%    4.15ms
     99%   42.60ms
  159356 requests in 2.04s, 11.85MB read
Requests/sec:  78252.47
Transfer/sec:      5.82MB
";

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn clean_run() {
        let report = WrkReport::parse(CLEAN).unwrap();
        assert_eq!(report.requests, 159_356);
        assert!(close(report.seconds, 2.04), "{report}");
        assert!(close(report.requests_per_sec, 78_252.47), "{report}");
        assert!(close(report.p50_us, 581.0), "{report}");
        assert!(close(report.p99_us, 42_600.0), "{report}");
        assert_eq!((report.non_2xx, report.socket_errors), (0, 0));
        assert!(!report.has_errors());
    }

    #[test]
    fn errors_are_counted() {
        let text = CLEAN.replace(
            "Requests/sec:",
            "  Socket errors: connect 1, read 12, write 0, timeout 3\n  \
             Non-2xx or 3xx responses: 7\nRequests/sec:",
        );
        let report = WrkReport::parse(&text).unwrap();
        assert_eq!(report.socket_errors, 16);
        assert_eq!(report.non_2xx, 7);
        assert!(report.has_errors());
    }

    #[test]
    fn incomplete_output_is_none() {
        assert_eq!(WrkReport::parse(""), None);
        let no_latency = CLEAN.replace("     99%   42.60ms\n", "");
        assert_eq!(WrkReport::parse(&no_latency), None);
        let no_rate = CLEAN.replace("Requests/sec:  78252.47\n", "");
        assert_eq!(WrkReport::parse(&no_rate), None);
    }

    #[test]
    fn descriptor_limit() {
        assert!(raise_nofile_limit().unwrap() > 0);
    }

    #[test]
    fn wrk_time_units() {
        for (text, us) in
            [("581.00us", 581.0), ("1.50ms", 1500.0), ("2.00s", 2e6), ("1.00m", 60e6), ("1.00h", 3600e6)]
        {
            assert!(close(parse_wrk_time_us(text).unwrap(), us), "{text}");
        }
        assert_eq!(parse_wrk_time_us("12"), None);
        assert_eq!(parse_wrk_time_us("1.0parsecs"), None);
        assert_eq!(parse_wrk_time_us("ms"), None);
    }
}

/// The timing flags every wrk-driven benchmark takes (`--duration`,
/// `--warmup`, `--rounds`); flattened into each binary's arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct WrkTiming {
    /// Measured duration of each wrk run (whole seconds).
    #[arg(long, default_value = "10s", value_parser = crate::parse_duration)]
    pub duration: Duration,
    /// Warm-up wrk run before each measured one (whole seconds; 0s: none).
    #[arg(long, default_value = "1s", value_parser = crate::parse_duration)]
    pub warmup: Duration,
    /// Rounds; medians are taken over them.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
}

impl WrkTiming {
    /// At least one round, and whole seconds (wrk's resolution) with a
    /// measured run of at least one.
    ///
    /// # Errors
    /// The first flag that breaks a rule, by name.
    pub fn check(&self) -> Result<()> {
        anyhow::ensure!(self.rounds > 0, "--rounds must be at least 1");
        for (name, d) in [("--duration", self.duration), ("--warmup", self.warmup)] {
            anyhow::ensure!(
                d.subsec_nanos() == 0,
                "{name} must be whole seconds (wrk's resolution), not {d:?}"
            );
        }
        anyhow::ensure!(!self.duration.is_zero(), "--duration must be at least 1s");
        Ok(())
    }
}
