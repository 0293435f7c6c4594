//! The load client's result line, and the small statistics the driver needs.
//!
//! `echo_load` prints exactly one line of `key=value` pairs, e.g.
//!
//! ```text
//! messages=1234567 seconds=10.00 msgs_per_sec=123456 p50_us=61.2 p99_us=140.3 p999_us=410.0 errors=0
//! ```
//!
//! so that scripts, the driver and people all read the same thing. Unknown
//! keys are ignored when parsing, so the line may grow.

use std::fmt;

/// The line `echo_load` prints once warm-up is over and the measured window
/// starts; the driver samples server CPU time when it reads it.
pub const MEASURE_MARKER: &str = "phase=measure";

/// What one load-client run measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadReport {
    /// Round trips completed inside the measured window.
    pub messages: u64,
    /// Length of the measured window.
    pub seconds: f64,
    /// Median round-trip latency, microseconds.
    pub p50_us: f64,
    /// 99th-percentile round-trip latency, microseconds.
    pub p99_us: f64,
    /// 99.9th-percentile round-trip latency, microseconds.
    pub p999_us: f64,
    /// Connections that failed (reset, closed by the server, wrong bytes).
    pub errors: u64,
}

impl LoadReport {
    /// Round trips per second over the measured window.
    pub fn msgs_per_sec(&self) -> f64 {
        if self.seconds > 0.0 {
            self.messages as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// Parses a result line; `None` unless every field is present and
    /// numeric. Lines that are not result lines (such as
    /// [`MEASURE_MARKER`]) give `None` too.
    pub fn parse(line: &str) -> Option<Self> {
        let mut messages = None;
        let mut seconds = None;
        let mut p50_us = None;
        let mut p99_us = None;
        let mut p999_us = None;
        let mut errors = None;
        for pair in line.split_whitespace() {
            let (key, value) = pair.split_once('=')?;
            match key {
                "messages" => messages = Some(value.parse().ok()?),
                "seconds" => seconds = Some(value.parse().ok()?),
                "p50_us" => p50_us = Some(value.parse().ok()?),
                "p99_us" => p99_us = Some(value.parse().ok()?),
                "p999_us" => p999_us = Some(value.parse().ok()?),
                "errors" => errors = Some(value.parse().ok()?),
                _ => {}
            }
        }
        Some(Self {
            messages: messages?,
            seconds: seconds?,
            p50_us: p50_us?,
            p99_us: p99_us?,
            p999_us: p999_us?,
            errors: errors?,
        })
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "messages={} seconds={:.2} msgs_per_sec={:.0} p50_us={:.1} p99_us={:.1} p999_us={:.1} errors={}",
            self.messages,
            self.seconds,
            self.msgs_per_sec(),
            self.p50_us,
            self.p99_us,
            self.p999_us,
            self.errors
        )
    }
}

/// The median of `values` (the mean of the middle two for an even count),
/// or `None` when empty. NaNs sort last.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 { sorted[mid] } else { (sorted[mid - 1] + sorted[mid]) / 2.0 })
}

/// Other processes' CPU use (in CPUs) above which a run is flagged noisy.
pub const NOISY_FRACTION: f64 = 0.1;

/// The warning for runs during which other processes were busy, from each
/// run's (CPU seconds other processes used, wall seconds of the window);
/// `None` when every run stayed under [`NOISY_FRACTION`] of a CPU.
pub fn noisy_warning(runs: impl IntoIterator<Item = (f64, f64)>) -> Option<String> {
    let runs: Vec<(f64, f64)> = runs.into_iter().collect();
    let noisy: Vec<f64> =
        runs.iter().filter(|(other, window)| *other > NOISY_FRACTION * window).map(|(o, w)| o / w).collect();
    if noisy.is_empty() {
        return None;
    }
    Some(format!(
        "warning: in {} of {} runs other processes used more than {:.0}% of a CPU (worst {:.0}%); \
         figures are noisy, rerun on a quiet machine",
        noisy.len(),
        runs.len(),
        NOISY_FRACTION * 100.0,
        noisy.iter().fold(0.0, |a: f64, &b| a.max(b)) * 100.0
    ))
}

/// Server CPU below which a run's CPU figure rests on too few clock ticks
/// (10 ms each at the usual 100 Hz) to trust to better than ~1%.
pub const FEW_TICKS_CPU_S: f64 = 1.0;

/// The warning for runs whose server used under [`FEW_TICKS_CPU_S`] of
/// CPU, from each run's server CPU seconds; `hint` says how to lengthen
/// a run (`use more --requests`).
pub fn few_ticks_warning(server_cpu_s: impl IntoIterator<Item = f64>, hint: &str) -> Option<String> {
    let cpu: Vec<f64> = server_cpu_s.into_iter().collect();
    let few = cpu.iter().filter(|&&s| s < FEW_TICKS_CPU_S).count();
    (few > 0).then(|| {
        format!(
            "warning: in {few} of {} runs the server used under {FEW_TICKS_CPU_S:.0} s of CPU: \
             CPU/req rests on few 10 ms ticks; {hint}",
            cpu.len()
        )
    })
}

/// A Markdown section for `bench/RESULTS.md`: `## TITLE — DATE UTC`, then
/// the run's header lines (date, machine, versions, settings) in a text
/// block.
pub fn markdown_header(title: &str, date: &str, header: &str) -> String {
    format!("## {title} — {date} UTC\n\n```text\n{}\n```\n", header.trim_end())
}

/// The first line of a driver's header: `TOOL DATE UTC | Linux RELEASE |
/// CPU MODEL | nproc N`.
pub fn machine_line(tool: &str, date: &str) -> String {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{tool} {date} UTC | Linux {} | {} | nproc {cpus}", release.trim(), cpu_model())
}

/// Now as `YYYY-MM-DD HH:MM:SS`, UTC (days-to-civil after Howard Hinnant's
/// `civil_from_days`), to date the figures without a date crate.
pub fn utc_now() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// The CPU model named in `/proc/cpuinfo`, for a result header.
pub fn cpu_model() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or_else(|| "unknown CPU".to_owned(), |(_, m)| m.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_round_trips_through_its_line() {
        let report = LoadReport {
            messages: 1_234_567,
            seconds: 10.0,
            p50_us: 61.2,
            p99_us: 140.3,
            p999_us: 410.0,
            errors: 0,
        };
        let line = report.to_string();
        assert_eq!(
            line,
            "messages=1234567 seconds=10.00 msgs_per_sec=123457 p50_us=61.2 \
             p99_us=140.3 p999_us=410.0 errors=0"
        );
        assert_eq!(LoadReport::parse(&line), Some(report));
        assert_eq!(LoadReport::parse(&format!("{line} extra=1")), Some(report), "unknown keys are ignored");
    }

    #[test]
    fn other_lines_are_not_reports() {
        assert_eq!(LoadReport::parse(MEASURE_MARKER), None);
        assert_eq!(LoadReport::parse("listening on 127.0.0.1:1"), None);
        assert_eq!(LoadReport::parse("messages=x seconds=1"), None);
    }

    #[test]
    fn noisy_runs() {
        assert_eq!(noisy_warning([(0.5, 10.0), (0.0, 10.0)]), None);
        let warning = noisy_warning([(0.5, 10.0), (3.0, 10.0)]).unwrap();
        assert!(warning.contains("in 1 of 2 runs") && warning.contains("worst 30%"), "{warning}");
        assert_eq!(few_ticks_warning([2.0, 3.0], "longer"), None);
        let few = few_ticks_warning([0.5, 3.0], "use more --requests").unwrap();
        assert!(few.contains("in 1 of 2 runs") && few.ends_with("use more --requests"), "{few}");
        assert!(markdown_header("a vs b", "D", "h1\nh2\n")
            .starts_with("## a vs b — D UTC\n\n```text\nh1\nh2\n```"));
        assert!(machine_line("x_bench", "2026-01-01 00:00:00").starts_with("x_bench 2026-01-01 00:00:00 UTC"));
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }
}
