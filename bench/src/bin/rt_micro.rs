//! `rt_micro`: runtime micro-benchmarks, spindle-rt against tokio, side by
//! side in one run.
//!
//! Benchmarks (`--only` takes these names): `spawn` (spawn 1M tasks, await
//! every handle), `ping-pong` (two tasks, two `Notify`s, 1M round trips),
//! `yield` (two tasks, 2M `yield_now`s), `mpsc1` / `mpsc4` (10M `u64`s
//! through a bounded channel of 1024, from 1 or 4 producers), `sleeps`
//! (1M tasks sleeping 0..1000 ms), `memory` (RSS per idle task, 100k
//! tasks). See `spindle_bench::micro` for exactly what each body does.
//!
//! Every measurement runs in a fresh child process (this binary with
//! `--one BENCH --runtime RT --flavor F`), which times only the body, wall
//! clock and process CPU (`getrusage(RUSAGE_SELF)`: user + system, all
//! threads), and prints one `rt_micro_result ...` line. The parent runs
//! `--rounds` rounds, alternating which runtime goes first, and prints the
//! medians with the ratio spindle/tokio as a *cost* ratio: below 1 means
//! spindle-rt is better (for a rate, tokio's rate over spindle's).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::process::{Command, ExitCode};
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use clap::{Parser, ValueEnum};
use spindle_bench::micro::bodies::run_one;
use spindle_bench::micro::{Bench, Flavor, Rt, Sample};
use spindle_bench::process::ChildProcess;
use spindle_bench::report::median;

/// Runtime micro-benchmarks: spindle-rt against tokio.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Rounds; each runs every benchmark once per runtime; medians reported.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Only these benchmarks (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Bench>,
    /// Scheduler flavor(s). Default: both once spindle-rt has a
    /// multi-thread scheduler, current until then.
    #[arg(long, value_enum)]
    flavor: Option<FlavorArg>,
    /// Divide every operation count by this (e.g. 10 for a quick run).
    #[arg(long, default_value_t = 1)]
    scale: u64,
    /// Worker threads for the multi flavor (default: available CPUs).
    #[arg(long)]
    threads: Option<usize>,
    /// Also print the table as Markdown (for bench/RESULTS.md).
    #[arg(long)]
    markdown: bool,
    /// Bound on one child run.
    #[arg(long, default_value = "120s", value_parser = spindle_bench::parse_duration)]
    child_timeout: Duration,
    /// Child mode: run this one benchmark and print its result line.
    #[arg(long, value_enum, requires = "runtime")]
    one: Option<Bench>,
    /// Child mode: the runtime to run `--one` on.
    #[arg(long, value_enum)]
    runtime: Option<Rt>,
}

/// `--flavor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum FlavorArg {
    Current,
    Multi,
    Both,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match (args.one, args.runtime) {
        (Some(bench), Some(rt)) => child(&args, bench, rt).map(|()| true),
        _ => parent(&args),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("rt_micro: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn threads(args: &Args) -> usize {
    args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

fn ops(args: &Args, bench: Bench) -> u64 {
    bench.default_ops() / args.scale.max(1)
}

/// Child mode: one benchmark, one runtime, one result line.
fn child(args: &Args, bench: Bench, rt: Rt) -> Result<()> {
    let flavor = match args.flavor {
        Some(FlavorArg::Multi) => Flavor::Multi,
        Some(FlavorArg::Both) => bail!("--one needs --flavor current or multi"),
        _ => Flavor::Current,
    };
    let measured = run_one(rt, bench, flavor, ops(args, bench), threads(args))?;
    println!("{}", Sample::new(bench, rt, flavor, &measured));
    Ok(())
}

/// Parent mode: every round, flavor, benchmark and runtime in a child;
/// then the table. `Ok(false)` if some run failed.
fn parent(args: &Args) -> Result<bool> {
    ensure!(args.rounds > 0, "--rounds must be at least 1");
    ensure!(args.scale > 0, "--scale must be at least 1");
    let benches: Vec<Bench> = if args.only.is_empty() { Bench::ALL.to_vec() } else { args.only.clone() };
    let flavors = match args.flavor {
        Some(FlavorArg::Current) => vec![Flavor::Current],
        Some(FlavorArg::Multi) => vec![Flavor::Multi],
        Some(FlavorArg::Both) | None => vec![Flavor::Current, Flavor::Multi],
    };
    let exe = std::env::current_exe().context("locating this binary")?;
    print!("{}", header(args, &benches, &flavors));

    let mut samples = Vec::new();
    let mut failures = Vec::new();
    for round in 1..=args.rounds {
        for &flavor in &flavors {
            for &bench in &benches {
                // Alternate who goes first, so neither always runs on a
                // machine just warmed (or disturbed) by the other.
                let order = if round % 2 == 1 { [Rt::Spindle, Rt::Tokio] } else { [Rt::Tokio, Rt::Spindle] };
                for rt in order {
                    match run_child(args, &exe, bench, rt, flavor) {
                        Ok(sample) => {
                            eprintln!("round {round}: {sample}");
                            samples.push(sample);
                        }
                        Err(e) => {
                            let what =
                                format!("round {round} {} {} {}", flavor.name(), bench.name(), rt.name());
                            eprintln!("{what}: FAILED: {e:#}");
                            failures.push(format!("{what}: {e:#}"));
                        }
                    }
                }
            }
        }
    }

    let rows = table_rows(&flavors, &benches, &samples);
    println!();
    print!("{}", plain_table(&rows));
    if args.markdown {
        println!();
        print!("{}", markdown_table(&rows));
    }
    for failure in &failures {
        println!("FAILED {failure}");
    }
    Ok(failures.is_empty())
}

fn run_child(args: &Args, exe: &std::path::Path, bench: Bench, rt: Rt, flavor: Flavor) -> Result<Sample> {
    let mut cmd = Command::new(exe);
    cmd.args(["--one", bench.name(), "--runtime", rt.name(), "--flavor", flavor.name()]).args([
        "--scale",
        &args.scale.to_string(),
        "--threads",
        &threads(args).to_string(),
    ]);
    let mut child = ChildProcess::spawn(&format!("{}-{}", rt.name(), bench.name()), cmd)?;
    let sample = child.wait_line(args.child_timeout, Sample::parse)?;
    let status = child.wait_exit(Duration::from_secs(30))?;
    ensure!(status.success(), "child exited with {status}");
    Ok(sample)
}

/// Whether a larger value of a metric is better.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Better {
    Lower,
    Higher,
}

/// One metric of a benchmark: its label, how it reads off a sample, and
/// which way is better.
type Metric = (String, fn(&Sample) -> f64, Better);

fn metrics(bench: Bench) -> Vec<Metric> {
    let op = bench.op();
    let wall_per_op: fn(&Sample) -> f64 = |s| s.wall_s * 1e9 / s.ops as f64;
    let cpu_per_op: fn(&Sample) -> f64 = |s| s.cpu_s() * 1e9 / s.ops as f64;
    let extra = |key: &'static str| -> fn(&Sample) -> f64 {
        match key {
            "overshoot_ms" => |s| s.get("overshoot_ms").unwrap_or(f64::NAN),
            "late_mean_ms" => |s| s.get("late_mean_ms").unwrap_or(f64::NAN),
            "late_max_ms" => |s| s.get("late_max_ms").unwrap_or(f64::NAN),
            _ => |s| s.get("bytes_per_task").unwrap_or(f64::NAN),
        }
    };
    match bench {
        Bench::Mpsc1 | Bench::Mpsc4 => vec![
            ("Mmsg/s (wall)".to_owned(), |s| s.ops as f64 / s.wall_s / 1e6, Better::Higher),
            (format!("cpu ns/{op}"), cpu_per_op, Better::Lower),
        ],
        Bench::Sleeps => vec![
            ("wall s".to_owned(), |s| s.wall_s, Better::Lower),
            ("overshoot ms".to_owned(), extra("overshoot_ms"), Better::Lower),
            ("late mean ms".to_owned(), extra("late_mean_ms"), Better::Lower),
            ("late max ms".to_owned(), extra("late_max_ms"), Better::Lower),
            ("cpu s".to_owned(), |s| s.cpu_s(), Better::Lower),
            (format!("cpu ns/{op}"), cpu_per_op, Better::Lower),
        ],
        Bench::Memory => vec![
            ("RSS bytes/task".to_owned(), extra("bytes_per_task"), Better::Lower),
            (format!("wall ns/{op}"), wall_per_op, Better::Lower),
            (format!("cpu ns/{op}"), cpu_per_op, Better::Lower),
        ],
        _ => vec![
            (format!("wall ns/{op}"), wall_per_op, Better::Lower),
            (format!("cpu ns/{op}"), cpu_per_op, Better::Lower),
        ],
    }
}

/// One table row: bench (with flavor), metric, medians, cost ratio.
struct Row {
    bench: String,
    metric: String,
    spindle: Option<f64>,
    tokio: Option<f64>,
    ratio: Option<f64>,
}

fn table_rows(flavors: &[Flavor], benches: &[Bench], samples: &[Sample]) -> Vec<Row> {
    let mut by_key: HashMap<(Flavor, Bench, Rt), Vec<&Sample>> = HashMap::new();
    for s in samples {
        by_key.entry((s.flavor, s.bench, s.rt)).or_default().push(s);
    }
    let mut rows = Vec::new();
    for &flavor in flavors {
        for &bench in benches {
            for (label, read, better) in metrics(bench) {
                let med = |rt: Rt| {
                    let values: Vec<f64> = by_key
                        .get(&(flavor, bench, rt))
                        .map_or(Vec::new(), |v| v.iter().map(|s| read(s)).collect());
                    median(&values)
                };
                let (spindle, tokio) = (med(Rt::Spindle), med(Rt::Tokio));
                let ratio = match (spindle, tokio, better) {
                    (Some(s), Some(t), Better::Lower) if t > 0.0 => Some(s / t),
                    (Some(s), Some(t), Better::Higher) if s > 0.0 => Some(t / s),
                    _ => None,
                };
                let bench = format!("{} ({})", bench.name(), flavor.name());
                rows.push(Row { bench, metric: label, spindle, tokio, ratio });
            }
        }
    }
    rows
}

/// A value with about three significant digits.
fn num(v: Option<f64>) -> String {
    match v {
        None => "-".to_owned(),
        Some(v) if !v.is_finite() => "-".to_owned(),
        Some(v) if v.abs() >= 100.0 => format!("{v:.0}"),
        Some(v) if v.abs() >= 10.0 => format!("{v:.1}"),
        Some(v) if v.abs() >= 1.0 => format!("{v:.2}"),
        Some(v) => format!("{v:.3}"),
    }
}

fn ratio(v: Option<f64>) -> String {
    v.filter(|v| v.is_finite()).map_or_else(|| "n/a".to_owned(), |v| format!("{v:.2}x"))
}

const RATIO_NOTE: &str = "ratio = spindle cost / tokio cost, median of rounds: < 1.00x means \
                          spindle-rt better (for Mmsg/s: tokio rate / spindle rate)";

fn plain_table(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{RATIO_NOTE}");
    let _ =
        writeln!(out, "{:<20} {:<18} {:>10} {:>10} {:>8}", "bench", "metric", "spindle", "tokio", "ratio");
    let mut last = "";
    for row in rows {
        let bench = if row.bench == last { "" } else { &row.bench };
        last = &row.bench;
        let _ = writeln!(
            out,
            "{:<20} {:<18} {:>10} {:>10} {:>8}",
            bench,
            row.metric,
            num(row.spindle),
            num(row.tokio),
            ratio(row.ratio)
        );
    }
    out
}

fn markdown_table(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "| bench | metric | spindle-rt | tokio | ratio |");
    let _ = writeln!(out, "|---|---|---:|---:|---:|");
    for row in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            row.bench,
            row.metric,
            num(row.spindle),
            num(row.tokio),
            ratio(row.ratio)
        );
    }
    let _ = writeln!(out, "\n{RATIO_NOTE}.");
    out
}

fn header(args: &Args, benches: &[Bench], flavors: &[Flavor]) -> String {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let model = spindle_bench::report::cpu_model();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let counts: Vec<String> = benches.iter().map(|&b| format!("{}={}", b.name(), ops(args, b))).collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "rt_micro {} UTC | Linux {} | {model} | nproc {cpus}",
        spindle_bench::report::utc_now(),
        read("/proc/sys/kernel/osrelease").trim()
    );
    let _ = writeln!(
        out,
        "rounds={} flavors={} threads(multi)={} scale=1/{} ops: {}",
        args.rounds,
        flavors.iter().map(|f| f.name()).collect::<Vec<_>>().join(","),
        threads(args),
        args.scale,
        counts.join(" ")
    );
    let loadavg = read("/proc/loadavg");
    let load = loadavg.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    let _ = writeln!(
        out,
        "each run in a fresh child process; times are of the measured body only; \
         load average at start: {load} (wall times are noisy when it exceeds nproc; cpu times less so)"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(rt: Rt, bench: Bench, wall_s: f64) -> Sample {
        Sample {
            bench,
            rt,
            flavor: Flavor::Current,
            ops: 1000,
            wall_s,
            user_s: wall_s,
            sys_s: 0.0,
            extra: vec![("bytes_per_task".to_owned(), 100.0)],
        }
    }

    #[test]
    fn ratios_are_costs() {
        let samples = [
            sample(Rt::Spindle, Bench::Spawn, 2e-3),
            sample(Rt::Tokio, Bench::Spawn, 1e-3),
            sample(Rt::Spindle, Bench::Mpsc1, 2e-3),
            sample(Rt::Tokio, Bench::Mpsc1, 1e-3),
        ];
        let rows = table_rows(&[Flavor::Current], &[Bench::Spawn, Bench::Mpsc1, Bench::Memory], &samples);
        assert_eq!(rows[0].metric, "wall ns/task");
        assert_eq!(rows[0].spindle, Some(2000.0));
        assert_eq!(rows[0].ratio, Some(2.0));
        assert_eq!(rows[2].metric, "Mmsg/s (wall)");
        assert_eq!(rows[2].ratio, Some(2.0), "half the rate costs twice as much");
        let text = plain_table(&rows);
        assert!(text.contains("2.00x") && text.contains("n/a"), "{text}");
        assert!(markdown_table(&rows).starts_with("| bench |"));
        assert_eq!(spindle_bench::report::utc_now().len(), 19);
    }
}
