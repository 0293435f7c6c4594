//! `echo_bench`: runs the echo load against Spindle and its peers, side by
//! side, and prints throughput, server CPU per message and their ratios.
//!
//! For each round, and within it each server in turn (interleaved, so slow
//! drift in the machine hits every server alike):
//!
//! 1. start the server on `127.0.0.1:0`, pinned to CPU 0 with `taskset`,
//!    and read its `listening on HOST:PORT` line (at most 10 s);
//! 2. start `echo_load` pinned to CPU 1 against it;
//! 3. sample the server's CPU time (`/proc/PID/stat`, all threads) when the
//!    client announces the measured window (after its warm-up) and when it
//!    prints its result, so the CPU window and the counted messages are the
//!    same window; CPU per message = CPU delta / messages;
//! 4. stop the server (SIGTERM, SIGKILL after 2 s) and reap it.
//!
//! Then per server the median over rounds, and Spindle's ratios against the
//! bare epoll loop (the overhead limit) and tokio's current-thread runtime.
//! Every wait is bounded; a failed run is reported and skipped, and makes
//! the exit status non-zero.

use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use clap::{Parser, ValueEnum};
use spindle_bench::parse_duration;
use spindle_bench::process::{command_on_cpu, pinning, ChildProcess};
use spindle_bench::procstat::{
    clock_ticks_per_second, proc_cpu_seconds, proc_cpu_ticks, system_busy_seconds,
};
use spindle_bench::report::{median, noisy_warning, LoadReport, MEASURE_MARKER};

/// Echo benchmark driver: Spindle against a bare epoll loop and tokio.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Path to the `spindle` binary (needed for the spindle-* servers).
    #[arg(long)]
    spindle: Option<PathBuf>,
    /// Path to spindle-rt's `echo` example (needed for the rt-current server).
    #[arg(long)]
    rt_echo: Option<PathBuf>,
    /// Servers to run, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "spindle-epoll,bare,tokio-current,tokio-multi"
    )]
    servers: Vec<ServerKind>,
    /// Client connections.
    #[arg(long, default_value_t = 100)]
    connections: usize,
    /// Message size in bytes.
    #[arg(long, default_value_t = 64)]
    size: usize,
    /// Measured duration of each run.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Client warm-up before each measured window.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    warmup: Duration,
    /// Rounds; each round runs every server once.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Directory holding echo_load, bare_epoll_echo and tokio_echo
    /// (default: this binary's directory).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Also write the raw per-run rows to this CSV file.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Do not pin server and client to CPUs.
    #[arg(long)]
    no_pin: bool,
}

/// A server the driver knows how to start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ServerKind {
    /// `spindle echo --poller epoll`.
    SpindleEpoll,
    /// `spindle echo --poller poll`.
    SpindlePoll,
    /// `spindle echo --poller select`.
    SpindleSelect,
    /// `bare_epoll_echo`, the overhead limit.
    Bare,
    /// `tokio_echo --flavor current`.
    TokioCurrent,
    /// `tokio_echo --flavor multi`.
    TokioMulti,
    /// spindle-rt's `echo` example: the current-thread async runtime.
    RtCurrent,
    /// spindle-rt's `echo` example with `--multi`: the multi-thread
    /// runtime with default workers (one per CPU it may run on).
    RtMulti,
}

impl ServerKind {
    fn name(self) -> &'static str {
        match self {
            Self::SpindleEpoll => "spindle-epoll",
            Self::SpindlePoll => "spindle-poll",
            Self::SpindleSelect => "spindle-select",
            Self::Bare => "bare",
            Self::TokioCurrent => "tokio-current",
            Self::TokioMulti => "tokio-multi",
            Self::RtCurrent => "rt-current",
            Self::RtMulti => "rt-multi",
        }
    }

    fn is_spindle(self) -> bool {
        matches!(self, Self::SpindleEpoll | Self::SpindlePoll | Self::SpindleSelect)
    }
}

/// CPU the server runs on, and the one the load client runs on.
const SERVER_CPU: usize = 0;
const CLIENT_CPU: usize = 1;
/// Bound on a server printing its address.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// Slack on top of the client's own deadlines (connects, exit).
const CLIENT_SLACK: Duration = Duration::from_secs(15);
/// How long a server gets to exit on SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// Paths and settings shared by every run.
struct Setup {
    args: Args,
    load: PathBuf,
    bare: PathBuf,
    tokio: PathBuf,
    pin: bool,
}

/// One measured run of one server.
#[derive(Debug, Clone)]
struct Sample {
    round: usize,
    server: ServerKind,
    report: LoadReport,
    server_cpu_s: f64,
    /// The user-mode part of `server_cpu_s`: the framework's own work, as
    /// opposed to the kernel's TCP and system-call work.
    server_user_s: f64,
    client_cpu_s: f64,
    /// CPU time everything else on the machine used in the window.
    other_cpu_s: f64,
}

impl Sample {
    fn cpu_us_per_msg(&self) -> f64 {
        if self.report.messages == 0 {
            f64::NAN
        } else {
            self.server_cpu_s * 1e6 / self.report.messages as f64
        }
    }

    fn user_us_per_msg(&self) -> f64 {
        if self.report.messages == 0 {
            f64::NAN
        } else {
            self.server_user_s * 1e6 / self.report.messages as f64
        }
    }

    fn raw_row(&self) -> String {
        format!(
            "run={} server={} {} server_cpu_s={:.2} cpu_us_per_msg={:.3} user_us_per_msg={:.3} client_cpu_s={:.2} other_cpu_s={:.2}",
            self.round,
            self.server.name(),
            self.report,
            self.server_cpu_s,
            self.cpu_us_per_msg(),
            self.user_us_per_msg(),
            self.client_cpu_s,
            self.other_cpu_s
        )
    }

    fn csv_row(&self) -> String {
        let r = &self.report;
        format!(
            "{},{},{},{:.3},{:.0},{:.4},{:.4},{:.1},{:.1},{:.1},{},{:.4},{:.4}",
            self.round,
            self.server.name(),
            r.messages,
            r.seconds,
            r.msgs_per_sec(),
            self.server_cpu_s,
            self.cpu_us_per_msg(),
            r.p50_us,
            r.p99_us,
            r.p999_us,
            r.errors,
            self.client_cpu_s,
            self.other_cpu_s
        )
    }
}

const CSV_HEADER: &str = "run,server,messages,seconds,msgs_per_sec,server_cpu_s,\
                          cpu_us_per_msg,p50_us,p99_us,p999_us,errors,client_cpu_s,other_cpu_s";

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("echo_bench: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs everything; `Ok(false)` if some run failed.
fn run(args: Args) -> Result<bool> {
    let setup = prepare(args)?;
    let args = &setup.args;
    print_header(&setup);

    let mut samples = Vec::new();
    let mut failures = Vec::new();
    for round in 1..=args.runs {
        // Rotate the order each round, so no server always runs first (right
        // after a build, or after the previous server's sockets closed).
        let n = args.servers.len();
        let order = (0..n).map(|i| args.servers[(i + round - 1) % n]);
        for server in order {
            match run_once(&setup, round, server) {
                Ok(sample) => {
                    println!("{}", sample.raw_row());
                    samples.push(sample);
                }
                Err(e) => {
                    println!("run={round} server={} FAILED: {e:#}", server.name());
                    failures.push(format!("run {round} {}: {e:#}", server.name()));
                }
            }
            io::stdout().flush()?;
        }
    }

    println!();
    println!("raw runs:");
    for sample in &samples {
        println!("  {}", sample.raw_row());
    }
    for failure in &failures {
        println!("  FAILED {failure}");
    }
    if let Some(path) = &args.csv {
        let mut csv = format!("{CSV_HEADER}\n");
        for sample in &samples {
            writeln!(csv, "{}", sample.csv_row())?;
        }
        std::fs::write(path, csv).with_context(|| format!("writing {}", path.display()))?;
        println!("  (also written to {})", path.display());
    }
    println!();
    print!("{}", summary(&args.servers, &samples));
    Ok(failures.is_empty())
}

/// Checks the binaries and decides on pinning.
fn prepare(args: Args) -> Result<Setup> {
    ensure!(args.runs > 0, "--runs must be at least 1");
    ensure!(!args.servers.is_empty(), "--servers is empty");
    let bin_dir = match &args.bin_dir {
        Some(dir) => dir.clone(),
        None => std::env::current_exe()
            .context("locating this binary")?
            .parent()
            .context("this binary has no directory")?
            .to_path_buf(),
    };
    let find = |name: &str| -> Result<PathBuf> {
        let path = bin_dir.join(name);
        ensure!(
            path.is_file(),
            "{} not found (build with `cargo build --release -p spindle-bench`, or pass --bin-dir)",
            path.display()
        );
        Ok(path)
    };
    let load = find("echo_load")?;
    let bare = find("bare_epoll_echo")?;
    let tokio = find("tokio_echo")?;
    if args.servers.iter().any(|s| s.is_spindle()) {
        match &args.spindle {
            Some(path) if path.is_file() => {}
            Some(path) => bail!("--spindle {}: no such file", path.display()),
            None => bail!("spindle-* servers need --spindle PATH (or drop them from --servers)"),
        }
    }
    if args.servers.contains(&ServerKind::RtCurrent) || args.servers.contains(&ServerKind::RtMulti) {
        match &args.rt_echo {
            Some(path) if path.is_file() => {}
            Some(path) => bail!("--rt-echo {}: no such file", path.display()),
            None => bail!("the rt-* servers need --rt-echo PATH (or drop them from --servers)"),
        }
    }

    let pin = match pinning(args.no_pin) {
        Ok(()) => true,
        Err(why) => {
            println!("note: {why}");
            false
        }
    };
    Ok(Setup { args, load, bare, tokio, pin })
}

/// Starts one server, loads it, samples its CPU, stops it.
fn run_once(setup: &Setup, round: usize, kind: ServerKind) -> Result<Sample> {
    let args = &setup.args;
    let (server_cpu, client_cpu) =
        if setup.pin { (Some(SERVER_CPU), Some(CLIENT_CPU)) } else { (None, None) };

    let mut server = ChildProcess::spawn(kind.name(), server_command(setup, kind, server_cpu))?;
    let addr = server.wait_listening(STARTUP_TIMEOUT).context("waiting for `listening on HOST:PORT`")?;

    let mut load_cmd = command_on_cpu(&setup.load, client_cpu);
    load_cmd
        .arg("--addr")
        .arg(addr.to_string())
        .arg("--connections")
        .arg(args.connections.to_string())
        .arg("--size")
        .arg(args.size.to_string())
        .arg("--duration")
        .arg(format!("{}ms", args.duration.as_millis()))
        .arg("--warmup")
        .arg(format!("{}ms", args.warmup.as_millis()));
    let mut client = ChildProcess::spawn("echo_load", load_cmd)?;

    client
        .wait_line(args.warmup + CLIENT_SLACK, |line| (line == MEASURE_MARKER).then_some(()))
        .context("waiting for echo_load to finish warming up")?;
    let server_before = proc_cpu_ticks(server.pid()).context("server CPU (start)")?;
    let client_before = proc_cpu_seconds(client.pid()).context("client CPU (start)")?;
    let system_before = system_busy_seconds().context("/proc/stat (start)")?;
    let report = client
        .wait_line(args.duration + CLIENT_SLACK, LoadReport::parse)
        .context("waiting for echo_load's result")?;
    let server_after = proc_cpu_ticks(server.pid()).context("server CPU (end; did it die?)")?;
    let client_after = proc_cpu_seconds(client.pid()).unwrap_or(client_before);
    let system_after = system_busy_seconds().context("/proc/stat (end)")?;

    let status = client.wait_exit(CLIENT_SLACK)?;
    ensure!(status.success(), "echo_load exited with {status}");
    server.stop(STOP_GRACE).context("stopping the server")?;

    ensure!(report.messages > 0, "no messages echoed ({report})");
    ensure!(report.errors == 0, "{} connection errors ({report})", report.errors);
    let hz = clock_ticks_per_second() as f64;
    let server_cpu_s = server_after.total().saturating_sub(server_before.total()) as f64 / hz;
    let server_user_s = server_after.utime.saturating_sub(server_before.utime) as f64 / hz;
    let client_cpu_s = client_after - client_before;
    Ok(Sample {
        round,
        server: kind,
        report,
        server_cpu_s,
        server_user_s,
        client_cpu_s,
        // Tick rounding can make this slightly negative on an idle machine.
        other_cpu_s: (system_after - system_before - server_cpu_s - client_cpu_s).max(0.0),
    })
}

fn server_command(setup: &Setup, kind: ServerKind, cpu: Option<usize>) -> Command {
    let spindle_poller = match kind {
        ServerKind::SpindleEpoll => Some("epoll"),
        ServerKind::SpindlePoll => Some("poll"),
        ServerKind::SpindleSelect => Some("select"),
        _ => None,
    };
    let listen = ["--listen", "127.0.0.1:0"];
    if matches!(kind, ServerKind::RtCurrent | ServerKind::RtMulti) {
        let rt_echo = setup.args.rt_echo.as_deref().expect("checked in prepare");
        let mut cmd = command_on_cpu(rt_echo, cpu);
        cmd.arg("127.0.0.1:0");
        if kind == ServerKind::RtMulti {
            cmd.arg("--multi");
        }
        return cmd;
    }
    if let Some(poller) = spindle_poller {
        let spindle = setup.args.spindle.as_deref().expect("checked in prepare");
        let mut cmd = command_on_cpu(spindle, cpu);
        cmd.arg("echo").args(listen).args(["--poller", poller]);
        return cmd;
    }
    let (program, flavor): (&Path, _) = match kind {
        ServerKind::Bare => (&setup.bare, None),
        ServerKind::TokioCurrent => (&setup.tokio, Some("current")),
        _ => (&setup.tokio, Some("multi")),
    };
    let mut cmd = command_on_cpu(program, cpu);
    cmd.args(listen);
    if let Some(flavor) = flavor {
        cmd.args(["--flavor", flavor]);
    }
    cmd
}

fn print_header(setup: &Setup) {
    let args = &setup.args;
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let model = spindle_bench::report::cpu_model();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "echo_bench {} UTC | Linux {} | {model} x{cpus}",
        spindle_bench::report::utc_now(),
        read("/proc/sys/kernel/osrelease").trim()
    );
    println!(
        "connections={} size={}B duration={:?} warmup={:?} runs={} servers={} pinning={}",
        args.connections,
        args.size,
        args.duration,
        args.warmup,
        args.runs,
        args.servers.iter().map(|s| s.name()).collect::<Vec<_>>().join(","),
        if setup.pin {
            format!("server cpu {SERVER_CPU}, client cpu {CLIENT_CPU}")
        } else {
            "off".to_owned()
        }
    );
}

/// The per-server medians and Spindle's ratios, as printed at the end.
fn summary(servers: &[ServerKind], samples: &[Sample]) -> String {
    let stat = |server: ServerKind, f: &dyn Fn(&Sample) -> f64| -> Option<f64> {
        let values: Vec<f64> = samples.iter().filter(|s| s.server == server).map(f).collect();
        median(&values)
    };
    let rate = |s: &Sample| s.report.msgs_per_sec();
    let cpu = |s: &Sample| s.cpu_us_per_msg();
    let fmt =
        |v: Option<f64>, decimals: usize| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.decimals$}"));

    let mut out = String::new();
    let _ = writeln!(out, "median over runs:");
    let _ = writeln!(
        out,
        "  {:<15} {:>5} {:>12} {:>14} {:>12} {:>10} {:>13}",
        "server", "runs", "msgs/s", "server µs/msg", "user µs/msg", "p99 µs", "client cpu %"
    );
    for &server in servers {
        let n = samples.iter().filter(|s| s.server == server).count();
        let client = stat(server, &|s| 100.0 * s.client_cpu_s / s.report.seconds);
        let _ = writeln!(
            out,
            "  {:<15} {:>5} {:>12} {:>14} {:>12} {:>10} {:>13}",
            server.name(),
            n,
            fmt(stat(server, &rate), 0),
            fmt(stat(server, &cpu), 3),
            fmt(stat(server, &|s| s.user_us_per_msg()), 3),
            fmt(stat(server, &|s| s.report.p99_us), 1),
            fmt(client, 0),
        );
    }

    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    };
    let spindle = ServerKind::SpindleEpoll;
    let user = |s: &Sample| s.user_us_per_msg();
    let lines = [
        (
            "spindle/bare cpu-per-msg",
            ratio(stat(spindle, &cpu), stat(ServerKind::Bare, &cpu)),
            "(target <= 1.05)",
        ),
        (
            "spindle/bare user-cpu-per-msg",
            ratio(stat(spindle, &user), stat(ServerKind::Bare, &user)),
            "(user mode only: the framework's own work)",
        ),
        (
            "spindle/tokio-current cpu-per-msg",
            ratio(stat(spindle, &cpu), stat(ServerKind::TokioCurrent, &cpu)),
            "(target <= 1.0)",
        ),
        (
            "spindle/tokio-current msgs/s",
            ratio(stat(spindle, &rate), stat(ServerKind::TokioCurrent, &rate)),
            "(target >= 1.0; mostly measures the client on 2 cores)",
        ),
        (
            "rt-current/tokio-current cpu-per-msg",
            ratio(stat(ServerKind::RtCurrent, &cpu), stat(ServerKind::TokioCurrent, &cpu)),
            "(target <= 1.0)",
        ),
        (
            "rt-current/tokio-current user-cpu-per-msg",
            ratio(stat(ServerKind::RtCurrent, &user), stat(ServerKind::TokioCurrent, &user)),
            "(user mode only: the runtime's own work)",
        ),
        (
            "rt-current/tokio-current msgs/s",
            ratio(stat(ServerKind::RtCurrent, &rate), stat(ServerKind::TokioCurrent, &rate)),
            "(target >= 1.0)",
        ),
        (
            "rt-multi/tokio-multi cpu-per-msg",
            ratio(stat(ServerKind::RtMulti, &cpu), stat(ServerKind::TokioMulti, &cpu)),
            "(target <= 1.0)",
        ),
        (
            "rt-multi/tokio-multi user-cpu-per-msg",
            ratio(stat(ServerKind::RtMulti, &user), stat(ServerKind::TokioMulti, &user)),
            "(user mode only: the runtime's own work)",
        ),
        (
            "rt-multi/tokio-multi msgs/s",
            ratio(stat(ServerKind::RtMulti, &rate), stat(ServerKind::TokioMulti, &rate)),
            "(target >= 1.0)",
        ),
    ];
    let _ = writeln!(out, "ratios (spindle = spindle-epoll):");
    for (label, value, note) in lines {
        let shown = value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.2}x"));
        let _ = writeln!(out, "  {label:<40} {shown:>6} {note}");
    }
    if let Some(warning) = noisy_warning(samples.iter().map(|s| (s.other_cpu_s, s.report.seconds))) {
        let _ = writeln!(out, "{warning}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(round: usize, server: ServerKind, messages: u64, cpu_s: f64) -> Sample {
        Sample {
            round,
            server,
            report: LoadReport {
                messages,
                seconds: 1.0,
                p50_us: 10.0,
                p99_us: 20.0,
                p999_us: 30.0,
                errors: 0,
            },
            server_cpu_s: cpu_s,
            server_user_s: cpu_s / 10.0,
            client_cpu_s: 1.0,
            other_cpu_s: 0.0,
        }
    }

    #[test]
    fn summary_has_medians_and_labelled_ratios() {
        let samples = [
            sample(1, ServerKind::Bare, 100_000, 1.0),
            sample(2, ServerKind::Bare, 100_000, 0.9),
            sample(3, ServerKind::Bare, 100_000, 5.0),
            sample(1, ServerKind::SpindleEpoll, 100_000, 1.03),
        ];
        let text = summary(&[ServerKind::SpindleEpoll, ServerKind::Bare], &samples);
        assert!(text.contains("bare"), "{text}");
        assert!(text.contains("10.000"), "median of 9, 10, 50 µs/msg: {text}");
        assert!(
            text.contains("spindle/bare cpu-per-msg") && text.contains("1.03x (target <= 1.05)"),
            "{text}"
        );
        assert!(text.contains("n/a"), "no tokio runs: {text}");
    }

    #[test]
    fn dates() {
        let now = spindle_bench::report::utc_now();
        assert_eq!(now.len(), 19, "{now}");
        assert!(now.starts_with("20"), "{now}");
    }
}
