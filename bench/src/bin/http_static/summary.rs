//! What `http_static_bench` measured, and its summary: one row per line
//! (file, connections, workers) with the medians over rounds of req/s, p99
//! latency, server CPU and user CPU per request for spindle and nginx,
//! their ratios, and whether the targets are met.

use std::fmt::Write as _;

use spindle_bench::report::{few_ticks_warning, median, noisy_warning};
use spindle_bench::table::{fmt_latency_us, fmt_opt, fmt_ratio, ratio, render, render_remarks};
use spindle_bench::wrk::WrkReport;

use crate::site::SiteFile;

/// The two servers compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum ServerKind {
    /// `spindle http` (or the stand-in given by `--spindle-cmd`).
    Spindle,
    /// Debian's nginx.
    Nginx,
}

impl ServerKind {
    /// `spindle` or `nginx`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Spindle => "spindle",
            Self::Nginx => "nginx",
        }
    }
}

/// One line of the benchmark: which file, how many wrk connections, how
/// many server workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Line {
    /// The file every request asks for.
    pub file: SiteFile,
    /// wrk's keep-alive connections.
    pub connections: usize,
    /// Worker processes of both servers.
    pub workers: usize,
}

/// Target: spindle's req/s at least this times nginx's.
pub const RPS_TARGET: f64 = 1.0;
/// Target: spindle's p99 latency at most this times nginx's.
pub const P99_TARGET: f64 = 1.0;

impl Line {
    /// Target: spindle's server CPU per request at most this times
    /// nginx's: 0.8x for the 1 KiB file (per-request overhead is all there
    /// is to win), 0.9x for the 1 MiB file (the kernel's copy dominates).
    pub fn cpu_target(self) -> f64 {
        match self.file {
            SiteFile::OneKiB => 0.8,
            SiteFile::OneMiB => 0.9,
        }
    }
}

/// One measured wrk run against one server.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Round number, from 1.
    pub round: usize,
    /// The line measured.
    pub line: Line,
    /// Which server.
    pub kind: ServerKind,
    /// What wrk reported.
    pub wrk: WrkReport,
    /// Server CPU (user + system, master and all workers) over the run.
    pub server_cpu_s: f64,
    /// The user-mode part of `server_cpu_s`: the server's own code, as
    /// opposed to the kernel's TCP and file work it asked for.
    pub server_user_s: f64,
    /// CPU everything but the server and wrk used meanwhile.
    pub other_cpu_s: f64,
    /// CPU wrk used, seconds.
    pub wrk_cpu_s: f64,
    /// Wall time of the CPU window, seconds.
    pub window_s: f64,
    /// Processes in the server's tree at the end of the run.
    pub processes: usize,
    /// Whether the tree's processes changed during the run (a worker
    /// exited or started), so that CPU may be missing.
    pub tree_changed: bool,
}

impl Sample {
    /// Server CPU per request, µs.
    pub fn cpu_us_per_req(&self) -> f64 {
        self.server_cpu_s * 1e6 / self.wrk.requests.max(1) as f64
    }

    /// Server user-mode CPU per request, µs.
    pub fn user_us_per_req(&self) -> f64 {
        self.server_user_s * 1e6 / self.wrk.requests.max(1) as f64
    }

    /// wrk's CPU per request, µs: the client's share of the work.
    pub fn wrk_us_per_req(&self) -> f64 {
        self.wrk_cpu_s * 1e6 / self.wrk.requests.max(1) as f64
    }

    /// The `key=value` line printed as each run ends.
    pub fn raw_row(&self) -> String {
        format!(
            "round={} file={} conns={} workers={} server={} {} server_cpu_s={:.2} cpu_us_per_req={:.3} \
             user_us_per_req={:.3} wrk_us_per_req={:.3} other_cpu_s={:.2} processes={}{}{}",
            self.round,
            self.line.file.name(),
            self.line.connections,
            self.line.workers,
            self.kind.name(),
            self.wrk,
            self.server_cpu_s,
            self.cpu_us_per_req(),
            self.user_us_per_req(),
            self.wrk_us_per_req(),
            self.other_cpu_s,
            self.processes,
            if self.tree_changed { " TREE CHANGED" } else { "" },
            if self.wrk.has_errors() { " FLAGGED: wrk saw errors" } else { "" }
        )
    }
}

/// Medians of one (line, server) cell over its rounds, and error totals.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cell {
    /// Runs that completed.
    pub runs: usize,
    /// Requests/s.
    pub rps: Option<f64>,
    /// p99 latency, µs.
    pub p99_us: Option<f64>,
    /// Server CPU per request, µs.
    pub cpu: Option<f64>,
    /// Server user CPU per request, µs.
    pub user: Option<f64>,
    /// wrk's CPU per request, µs.
    pub client: Option<f64>,
    /// wrk socket errors, summed over the runs.
    pub socket_errors: u64,
    /// Non-2xx/3xx responses, summed over the runs.
    pub non_2xx: u64,
}

/// The medians of `kind` on `line`.
pub fn cell(samples: &[Sample], line: Line, kind: ServerKind) -> Cell {
    let mine: Vec<&Sample> = samples.iter().filter(|s| s.line == line && s.kind == kind).collect();
    let med = |f: fn(&Sample) -> f64| median(&mine.iter().map(|s| f(s)).collect::<Vec<_>>());
    Cell {
        runs: mine.len(),
        rps: med(|s| s.wrk.requests_per_sec),
        p99_us: med(|s| s.wrk.p99_us),
        cpu: med(Sample::cpu_us_per_req),
        user: med(Sample::user_us_per_req),
        client: med(Sample::wrk_us_per_req),
        socket_errors: mine.iter().map(|s| s.wrk.socket_errors).sum(),
        non_2xx: mine.iter().map(|s| s.wrk.non_2xx).sum(),
    }
}

/// Whether a line meets the targets: `met`, `not met: ...` naming what it
/// misses, or `-` when a figure is missing.
pub fn verdict(line: Line, spindle: &Cell, nginx: &Cell) -> String {
    let (Some(cpu), Some(rps), Some(p99)) =
        (ratio(spindle.cpu, nginx.cpu), ratio(spindle.rps, nginx.rps), ratio(spindle.p99_us, nginx.p99_us))
    else {
        return "-".to_owned();
    };
    let mut missed = Vec::new();
    if cpu > line.cpu_target() {
        missed.push("CPU");
    }
    if rps < RPS_TARGET {
        missed.push("req/s");
    }
    if p99 > P99_TARGET {
        missed.push("p99");
    }
    if spindle.socket_errors + spindle.non_2xx > 0 {
        missed.push("errors");
    }
    if missed.is_empty() {
        "met".to_owned()
    } else {
        format!("not met: {}", missed.join(", "))
    }
}

/// The table: a header row, then one row per line.
pub fn table(lines: &[Line], samples: &[Sample]) -> Vec<Vec<String>> {
    let mut rows = vec![[
        "file",
        "conns",
        "workers",
        "req/s spindle",
        "req/s nginx",
        "ratio",
        "p99 spindle",
        "p99 nginx",
        "ratio",
        "CPU µs/req spindle",
        "CPU µs/req nginx",
        "ratio",
        "user µs/req spindle",
        "user µs/req nginx",
        "ratio",
        "wrk µs/req spindle",
        "wrk µs/req nginx",
        "targets",
    ]
    .map(str::to_owned)
    .to_vec()];
    for &line in lines {
        let s = cell(samples, line, ServerKind::Spindle);
        let n = cell(samples, line, ServerKind::Nginx);
        rows.push(vec![
            line.file.name().to_owned(),
            line.connections.to_string(),
            line.workers.to_string(),
            fmt_opt(s.rps, 0),
            fmt_opt(n.rps, 0),
            fmt_ratio(ratio(s.rps, n.rps)),
            fmt_latency_us(s.p99_us),
            fmt_latency_us(n.p99_us),
            fmt_ratio(ratio(s.p99_us, n.p99_us)),
            fmt_opt(s.cpu, 3),
            fmt_opt(n.cpu, 3),
            fmt_ratio(ratio(s.cpu, n.cpu)),
            fmt_opt(s.user, 3),
            fmt_opt(n.user, 3),
            fmt_ratio(ratio(s.user, n.user)),
            fmt_opt(s.client, 3),
            fmt_opt(n.client, 3),
            verdict(line, &s, &n),
        ]);
    }
    rows
}

/// The whole summary: the table, then remarks: wrk errors per cell (they
/// must be zero), runs whose process tree changed, the run's notes, and
/// warnings about noisy or too short runs.
pub fn render_all(lines: &[Line], samples: &[Sample], notes: &[String], markdown: bool) -> String {
    let mut out = String::new();
    let title = format!(
        "median over rounds; ratios spindle/nginx (targets: CPU/req <= 0.8x for 1k.bin and <= 0.9x \
         for 1m.bin, req/s >= {RPS_TARGET:.1}x, p99 <= {P99_TARGET:.1}x, no wrk errors):"
    );
    if markdown {
        let _ = writeln!(out, "{title}\n");
    } else {
        let _ = writeln!(out, "{title}");
    }
    out += &render(&table(lines, samples), markdown);

    let mut remarks = Vec::new();
    for &line in lines {
        for kind in [ServerKind::Spindle, ServerKind::Nginx] {
            let c = cell(samples, line, kind);
            if c.socket_errors + c.non_2xx > 0 {
                remarks.push(format!(
                    "errors: {} on {} x{} conns, {} workers: {} socket errors, {} non-2xx responses \
                     over {} runs (must be 0)",
                    kind.name(),
                    line.file.name(),
                    line.connections,
                    line.workers,
                    c.socket_errors,
                    c.non_2xx,
                    c.runs
                ));
            }
        }
    }
    let changed = samples.iter().filter(|s| s.tree_changed).count();
    if changed > 0 {
        remarks.push(format!(
            "warning: in {changed} runs a server's processes changed during the run (a worker exited \
             or was started): its CPU figure may miss the ticks of the process that left"
        ));
    }
    remarks.extend(notes.iter().map(|n| format!("note: {n}")));
    remarks.extend(noisy_warning(samples.iter().map(|s| (s.other_cpu_s, s.window_s))));
    remarks.extend(few_ticks_warning(samples.iter().map(|s| s.server_cpu_s), "use a longer --duration"));
    out += &render_remarks(&remarks, markdown);
    out
}

/// A Markdown section heading for the run, with its header lines (date,
/// machine, versions, settings) in a text block.
pub fn markdown_header(date: &str, header: &str) -> String {
    spindle_bench::report::markdown_header("spindle http vs nginx", date, header) + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: Line = Line { file: SiteFile::OneKiB, connections: 100, workers: 1 };

    fn sample(kind: ServerKind, requests: u64, cpu_s: f64, p99_us: f64) -> Sample {
        Sample {
            round: 1,
            line: LINE,
            kind,
            wrk: WrkReport {
                requests,
                seconds: 10.0,
                requests_per_sec: requests as f64 / 10.0,
                p50_us: 100.0,
                p99_us,
                non_2xx: 0,
                socket_errors: 0,
            },
            server_cpu_s: cpu_s,
            server_user_s: cpu_s / 2.0,
            other_cpu_s: 0.0,
            wrk_cpu_s: 10.0,
            window_s: 10.0,
            processes: 2,
            tree_changed: false,
        }
    }

    #[test]
    fn a_line_that_meets_every_target() {
        let samples = [
            sample(ServerKind::Spindle, 1_000_000, 7.0, 900.0),
            sample(ServerKind::Nginx, 1_000_000, 9.0, 1000.0),
        ];
        let text = render_all(&[LINE], &samples, &[], false);
        assert!(text.contains("7.000") && text.contains("9.000") && text.contains("0.78x"), "{text}");
        assert!(text.contains("900us") && text.contains("1.00ms") && text.contains("0.90x"), "{text}");
        // wrk's 10 s over a million requests, for both servers.
        assert_eq!(text.matches("10.000").count(), 2, "{text}");
        assert!(text.trim_end().ends_with("met"), "{text}");
        let md = render_all(&[LINE], &samples, &[], true);
        assert!(md.contains("| 1k.bin |   100 |       1 |") && md.contains("|---|---:|"), "{md}");
    }

    #[test]
    fn misses_are_named() {
        let line_1m = Line { file: SiteFile::OneMiB, ..LINE };
        let s = cell(&[sample(ServerKind::Spindle, 900_000, 8.5, 1100.0)], LINE, ServerKind::Spindle);
        let n = cell(&[sample(ServerKind::Nginx, 1_000_000, 10.0, 1000.0)], LINE, ServerKind::Nginx);
        // 9.44 µs against 10 µs per request: 0.94x, above both CPU targets.
        assert_eq!(verdict(LINE, &s, &n), "not met: CPU, req/s, p99");
        assert_eq!(verdict(line_1m, &s, &n), "not met: CPU, req/s, p99");
        let s = cell(&[sample(ServerKind::Spindle, 1_000_000, 8.5, 900.0)], LINE, ServerKind::Spindle);
        assert_eq!(verdict(LINE, &s, &n), "not met: CPU");
        assert_eq!(verdict(line_1m, &s, &n), "met", "0.85x is within 0.9x for 1 MiB");
        assert_eq!(verdict(LINE, &Cell::default(), &n), "-");
    }

    #[test]
    fn errors_fail_the_line_and_are_listed() {
        let mut bad = sample(ServerKind::Spindle, 1_000_000, 5.0, 500.0);
        bad.wrk.socket_errors = 3;
        let samples = [bad, sample(ServerKind::Nginx, 1_000_000, 9.0, 1000.0)];
        let text = render_all(&[LINE], &samples, &["a note".to_owned()], false);
        assert!(text.contains("not met: errors"), "{text}");
        assert!(text.contains("errors: spindle on 1k.bin x100 conns, 1 workers: 3 socket errors"), "{text}");
        assert!(text.contains("note: a note"), "{text}");
    }
}
