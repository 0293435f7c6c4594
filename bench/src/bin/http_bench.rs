//! `http_bench`: HTTP keep-alive "hello" requests from `wrk` against
//! `http_hello` on spindle-rt and on tokio, side by side; prints requests
//! per second, p99 latency, server CPU per request and spindle/tokio ratios.
//!
//! For each round, each connection count (default 100 and 1000) and each
//! server in turn (the server order rotates every round, so slow drift in
//! the machine hits every server alike):
//!
//! 1. start `http_hello --runtime R --flavor F --listen 127.0.0.1:0` and
//!    read its `listening on HOST:PORT` line (at most 10 s);
//! 2. warm up: `wrk -t1 -cC -d1s` (wrk itself has no warm-up phase);
//! 3. sample the server's CPU time (`/proc/PID/stat`: user and system, all
//!    threads), run the measured `wrk -t1 -cC -dD --latency`, sample again
//!    once wrk has exited; CPU per request = CPU delta / wrk's request count;
//! 4. stop the server (SIGTERM, SIGKILL after 2 s) and reap it. Every child
//!    is killed on drop, so errors leave nothing behind.
//!
//! Then per (connections, server) the median over rounds, and spindle/tokio
//! ratios per connection count and flavor.
//!
//! Pinning, on the 2-CPU machines this is meant for: wrk always runs on
//! CPU 1. A current-thread server runs on CPU 0, so server and client
//! never share a core. A multi-thread server (2 workers by default) is not
//! pinned: pinning it to CPU 0 would make its second worker pointless, and
//! the only other core is wrk's. So in multi rows the server's workers
//! share CPU 1 with wrk and req/s mostly shows how they fight over it;
//! server CPU per request (summed over all threads) is the figure to
//! compare. wrk stays pinned in both cases so the load side is the same in
//! every row.
//!
//! Children inherit a raised `RLIMIT_NOFILE` (soft limit set to the hard
//! one), which 1000 connections on each side need.

use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use clap::{Parser, ValueEnum};
use spindle_bench::process::{beside_this_binary, command_on_cpu, pinning, ChildProcess};
use spindle_bench::procstat::proc_cpu_ticks;
use spindle_bench::report::{machine_line, median, noisy_warning, utc_now};
use spindle_bench::table::{fmt_latency_us as fmt_latency, fmt_opt as fmt, ratio, render};
use spindle_bench::wrk::{raise_nofile_limit, run_wrk, run_wrk_measured, wrk_version, WrkReport, WrkTiming};

/// HTTP hello benchmark driver: spindle-rt against tokio under wrk.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Servers to run, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "spindle-current,tokio-current,spindle-multi,tokio-multi"
    )]
    servers: Vec<ServerKind>,
    /// wrk connection counts, comma-separated; each is a separate set of runs.
    #[arg(long, value_delimiter = ',', default_value = "100,1000")]
    connections: Vec<usize>,
    #[command(flatten)]
    timing: WrkTiming,
    /// Worker threads of the multi-thread servers.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Directory holding http_hello (default: this binary's directory).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// The wrk program.
    #[arg(long, default_value = "wrk")]
    wrk: PathBuf,
    /// Also print the summary as Markdown (for bench/RESULTS.md).
    #[arg(long)]
    markdown: bool,
    /// Do not pin server and wrk to CPUs.
    #[arg(long)]
    no_pin: bool,
    /// Extra arguments for the spindle servers' `http_hello`,
    /// whitespace-separated (for example `--io-coalesce-us 40`).
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    spindle_args: String,
}

/// A server configuration the driver knows how to start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ServerKind {
    /// spindle-rt, current-thread runtime.
    SpindleCurrent,
    /// tokio, current-thread runtime.
    TokioCurrent,
    /// spindle-rt, multi-thread runtime (`--workers`).
    SpindleMulti,
    /// tokio, multi-thread runtime (`--workers`).
    TokioMulti,
}

impl ServerKind {
    fn name(self) -> &'static str {
        match self {
            Self::SpindleCurrent => "spindle-current",
            Self::TokioCurrent => "tokio-current",
            Self::SpindleMulti => "spindle-multi",
            Self::TokioMulti => "tokio-multi",
        }
    }

    /// `spindle` or `tokio`, for `http_hello --runtime`.
    fn runtime(self) -> &'static str {
        self.name().split_once('-').map_or("", |(runtime, _)| runtime)
    }

    /// `current` or `multi`, for `http_hello --flavor`.
    fn flavor(self) -> &'static str {
        self.name().split_once('-').map_or("", |(_, flavor)| flavor)
    }

    fn is_multi(self) -> bool {
        matches!(self, Self::SpindleMulti | Self::TokioMulti)
    }
}

/// The CPU of current-thread servers, and wrk's.
const SERVER_CPU: usize = 0;
const WRK_CPU: usize = 1;
/// Bound on a server printing its address.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a server gets to exit on SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// Paths and settings shared by every run.
struct Setup {
    args: Args,
    server: PathBuf,
    pin: bool,
    nofile: u64,
}

/// One measured run of one server.
#[derive(Debug, Clone)]
struct Sample {
    round: usize,
    connections: usize,
    server: ServerKind,
    wrk: WrkReport,
    /// Server CPU (user + system, all threads) over the measured run.
    server_cpu_s: f64,
    /// The user-mode part of `server_cpu_s`: the runtime's and the
    /// server's own work, as opposed to the kernel's TCP work.
    server_user_s: f64,
    /// CPU everything else on the machine used in the window.
    other_cpu_s: f64,
    /// Wall time of the CPU window.
    window_s: f64,
}

impl Sample {
    /// Server CPU (user + system) per request, µs.
    fn cpu_us_per_req(&self) -> f64 {
        self.server_cpu_s * 1e6 / self.wrk.requests as f64
    }

    /// Server user-mode CPU per request, µs.
    fn user_us_per_req(&self) -> f64 {
        self.server_user_s * 1e6 / self.wrk.requests as f64
    }

    fn raw_row(&self) -> String {
        format!(
            "round={} conns={} server={} {} server_cpu_s={:.2} cpu_us_per_req={:.3} user_us_per_req={:.3} other_cpu_s={:.2}{}",
            self.round,
            self.connections,
            self.server.name(),
            self.wrk,
            self.server_cpu_s,
            self.cpu_us_per_req(),
            self.user_us_per_req(),
            self.other_cpu_s,
            if self.wrk.has_errors() { " FLAGGED: wrk saw errors" } else { "" }
        )
    }
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("http_bench: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs everything; `Ok(false)` if some run failed.
fn run(args: Args) -> Result<bool> {
    let setup = prepare(args)?;
    let args = &setup.args;
    print_header(&setup)?;

    let mut samples = Vec::new();
    let mut failures = Vec::new();
    for round in 1..=args.timing.rounds {
        for &connections in &args.connections {
            let n = args.servers.len();
            for server in (0..n).map(|i| args.servers[(i + round - 1) % n]) {
                match run_once(&setup, round, connections, server) {
                    Ok(sample) => {
                        println!("{}", sample.raw_row());
                        samples.push(sample);
                    }
                    Err(e) => {
                        println!("round={round} conns={connections} server={} FAILED: {e:#}", server.name());
                        failures.push(format!("round {round} conns {connections} {}: {e:#}", server.name()));
                    }
                }
                io::stdout().flush()?;
            }
        }
    }

    println!();
    for failure in &failures {
        println!("FAILED {failure}");
    }
    print!("{}", summary(args, &samples, false));
    if args.markdown {
        println!();
        print!("{}", summary(args, &samples, true));
    }
    Ok(failures.is_empty())
}

/// Checks the binaries and wrk, raises the descriptor limit, decides on
/// pinning.
fn prepare(args: Args) -> Result<Setup> {
    args.timing.check()?;
    ensure!(args.workers > 0, "--workers must be at least 1");
    ensure!(!args.servers.is_empty(), "--servers is empty");
    ensure!(!args.connections.is_empty() && !args.connections.contains(&0), "--connections must be >= 1");
    let server = match &args.bin_dir {
        Some(dir) => dir.join("http_hello"),
        None => beside_this_binary("http_hello").context("locating this binary")?,
    };
    ensure!(
        server.is_file(),
        "{} not found (build with `cargo build --release -p spindle-bench --bins`, or pass --bin-dir)",
        server.display()
    );

    let nofile = raise_nofile_limit().context("raising RLIMIT_NOFILE")?;
    let most = args.connections.iter().copied().max().unwrap_or(0) as u64;
    if nofile < most + 64 {
        println!("warning: RLIMIT_NOFILE is {nofile}: too few descriptors for {most} connections");
    }

    let pin = match pinning(args.no_pin) {
        Ok(()) => true,
        Err(why) => {
            println!("note: {why}");
            false
        }
    };
    Ok(Setup { args, server, pin, nofile })
}

/// Starts one server, warms it up, measures one wrk run, stops it.
fn run_once(setup: &Setup, round: usize, connections: usize, kind: ServerKind) -> Result<Sample> {
    let args = &setup.args;
    let server_cpu = (setup.pin && !kind.is_multi()).then_some(SERVER_CPU);
    let mut cmd = command_on_cpu(&setup.server, server_cpu);
    cmd.args(["--runtime", kind.runtime(), "--flavor", kind.flavor(), "--listen", "127.0.0.1:0"]);
    if kind.is_multi() {
        cmd.arg("--workers").arg(args.workers.to_string());
    }
    if kind.runtime() == "spindle" {
        cmd.args(args.spindle_args.split_whitespace());
    }
    let mut server = ChildProcess::spawn(kind.name(), cmd)?;
    let addr = server.wait_listening(STARTUP_TIMEOUT).context("waiting for `listening on HOST:PORT`")?;
    let url = format!("http://{addr}/");

    if !args.timing.warmup.is_zero() {
        let (warm, _) =
            run_wrk(&args.wrk, setup.pin.then_some(WRK_CPU), connections, args.timing.warmup, None, &url)
                .context("warm-up run")?;
        ensure!(warm.requests > 0, "no requests served in the warm-up ({warm})");
    }

    let pid = server.pid();
    let run = run_wrk_measured(
        &args.wrk,
        setup.pin.then_some(WRK_CPU),
        connections,
        args.timing.duration,
        None,
        &url,
        || proc_cpu_ticks(pid),
    )?;
    server.stop(STOP_GRACE).context("stopping the server")?;

    ensure!(run.report.requests > 0, "no requests served ({})", run.report);
    Ok(Sample {
        round,
        connections,
        server: kind,
        wrk: run.report,
        server_cpu_s: run.server_cpu_s,
        server_user_s: run.server_user_s,
        other_cpu_s: run.other_cpu_s,
        window_s: run.window_s,
    })
}

fn print_header(setup: &Setup) -> Result<()> {
    let args = &setup.args;
    let version = wrk_version(&args.wrk)?;
    println!("{}", machine_line("http_bench", &utc_now()));
    println!("{version}");
    let pinning = if setup.pin {
        format!("current-thread server cpu {SERVER_CPU}, multi-thread server unpinned, wrk cpu {WRK_CPU}")
    } else {
        "off".to_owned()
    };
    println!(
        "connections={:?} duration={:?} warmup={:?} rounds={} workers(multi)={} servers={} nofile={} pinning: {pinning}",
        args.connections,
        args.timing.duration,
        args.timing.warmup,
        args.timing.rounds,
        args.workers,
        args.servers.iter().map(|s| s.name()).collect::<Vec<_>>().join(","),
        setup.nofile,
    );
    if !args.spindle_args.trim().is_empty() {
        println!("spindle http_hello args: {}", args.spindle_args.trim());
    }
    Ok(())
}

/// Medians of one (connections, server) cell.
struct Cell {
    runs: usize,
    rps: Option<f64>,
    p99_us: Option<f64>,
    cpu: Option<f64>,
    user: Option<f64>,
    flagged: usize,
}

fn cell(samples: &[Sample], connections: usize, server: ServerKind) -> Cell {
    let mine: Vec<&Sample> =
        samples.iter().filter(|s| s.connections == connections && s.server == server).collect();
    let med = |f: &dyn Fn(&Sample) -> f64| median(&mine.iter().map(|s| f(s)).collect::<Vec<_>>());
    Cell {
        runs: mine.len(),
        rps: med(&|s| s.wrk.requests_per_sec),
        p99_us: med(&|s| s.wrk.p99_us),
        cpu: med(&|s| s.cpu_us_per_req()),
        user: med(&|s| s.user_us_per_req()),
        flagged: mine.iter().filter(|s| s.wrk.has_errors()).count(),
    }
}

/// (connections, flavor, spindle cell, tokio cell) for every pair that ran.
fn pairs<'a>(
    args: &'a Args,
    samples: &'a [Sample],
) -> impl Iterator<Item = (usize, &'static str, Cell, Cell)> + 'a {
    let flavors = [
        (ServerKind::SpindleCurrent, ServerKind::TokioCurrent),
        (ServerKind::SpindleMulti, ServerKind::TokioMulti),
    ];
    args.connections.iter().flat_map(move |&c| {
        flavors
            .into_iter()
            .filter(|(s, t)| args.servers.contains(s) && args.servers.contains(t))
            .map(move |(s, t)| (c, s.flavor(), cell(samples, c, s), cell(samples, c, t)))
    })
}

/// The per-cell medians and the spindle/tokio ratios, as aligned text or
/// as Markdown tables (for bench/RESULTS.md), plus any warnings.
fn summary(args: &Args, samples: &[Sample], markdown: bool) -> String {
    let head = |cells: &[&str]| cells.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>();
    let mut medians = vec![head(&["conns", "server", "runs", "req/s", "p99", "CPU µs/req", "user µs/req"])];
    for &c in &args.connections {
        for &server in &args.servers {
            let m = cell(samples, c, server);
            let flag =
                if m.flagged > 0 { format!(" ({} with wrk errors)", m.flagged) } else { String::new() };
            medians.push(vec![
                c.to_string(),
                format!("{}{flag}", server.name()),
                m.runs.to_string(),
                fmt(m.rps, 0),
                fmt_latency(m.p99_us),
                fmt(m.cpu, 3),
                fmt(m.user, 3),
            ]);
        }
    }
    let mut ratios = vec![head(&["flavor", "conns", "CPU/req", "user/req", "req/s", "p99"])];
    let shown = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.2}x"));
    for (c, flavor, s, t) in pairs(args, samples) {
        ratios.push(vec![
            flavor.to_owned(),
            c.to_string(),
            shown(ratio(s.cpu, t.cpu)),
            shown(ratio(s.user, t.user)),
            shown(ratio(s.rps, t.rps)),
            shown(ratio(s.p99_us, t.p99_us)),
        ]);
    }

    let legend = "ratios spindle/tokio (CPU/req, user/req and p99: < 1 means spindle is better; \
                  req/s: > 1 means spindle is better):";
    let mut out = String::new();
    if markdown {
        out += &render(&medians, true);
        let _ = writeln!(out, "\n{legend}\n");
    } else {
        let _ = writeln!(out, "median over rounds:");
        out += &render(&medians, false);
        let _ = writeln!(out, "{legend}");
    }
    out += &render(&ratios, markdown);
    if let Some(warning) = noisy_warning(samples.iter().map(|s| (s.other_cpu_s, s.window_s))) {
        let _ = writeln!(out, "{warning}");
    }
    let flagged = samples.iter().filter(|s| s.wrk.has_errors()).count();
    if flagged > 0 {
        let _ =
            writeln!(out, "warning: {flagged} run(s) had non-2xx responses or socket errors (FLAGGED rows)");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(connections: usize, server: ServerKind, requests: u64, cpu_s: f64) -> Sample {
        Sample {
            round: 1,
            connections,
            server,
            wrk: WrkReport {
                requests,
                seconds: 10.0,
                requests_per_sec: requests as f64 / 10.0,
                p50_us: 100.0,
                p99_us: 2500.0,
                non_2xx: 0,
                socket_errors: 0,
            },
            server_cpu_s: cpu_s,
            server_user_s: cpu_s / 2.0,
            other_cpu_s: 0.0,
            window_s: 10.0,
        }
    }

    #[test]
    fn summary_has_medians_and_ratios() {
        let args = Args::parse_from(["http_bench", "--connections", "100"]);
        let samples = [
            sample(100, ServerKind::SpindleCurrent, 1_000_000, 12.0),
            sample(100, ServerKind::TokioCurrent, 1_000_000, 10.0),
        ];
        let text = summary(&args, &samples, false);
        assert!(text.contains("12.000") && text.contains("2.50ms"), "{text}");
        assert!(text.contains("current |   100 |   1.20x |    1.20x | 1.00x | 1.00x"), "{text}");
        let md = summary(&args, &samples, true);
        assert!(md.contains("| current |   100 |   1.20x |    1.20x | 1.00x | 1.00x |"), "{md}");
        assert!(md.contains("|---:|---:|"), "{md}");
    }

    #[test]
    fn dates() {
        let now = utc_now();
        assert_eq!(now.len(), 19, "{now}");
    }
}
