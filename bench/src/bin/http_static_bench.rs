//! `http_static_bench`: `spindle http` against Debian's nginx serving the
//! same static files, side by side in one run, loaded by `wrk`; prints
//! requests/s, p99 latency, server CPU (and user CPU) per request, the
//! spindle/nginx ratios, and whether each line meets the targets.
//!
//! A line is (file, connections, workers): by default 1k.bin and 1m.bin,
//! 100 and 1000 keep-alive connections, 1 and 2 workers, 8 lines. For each
//! round, each line and each server in turn (the order rotates every
//! round, so slow drift in the machine hits both alike):
//!
//! 1. start the server on a free port of 127.0.0.1 with that many
//!    workers; neither prints a line we could rely on, so poll the port
//!    until it accepts (at most 10 s, failing early if the master exits),
//!    then GET the file once and compare it byte for byte;
//! 2. warm up: `wrk -t1 -cC -d1s URL` (wrk itself has no warm-up);
//! 3. sample the CPU ticks of the master and every worker (each one's
//!    `/proc/PID/stat`, the workers found through
//!    `/proc/PID/task/*/children`), run the measured `wrk -t1 -cC -dD
//!    --latency URL`, sample again: CPU per request = the tree's CPU delta
//!    / wrk's request count; user µs/req likewise from user time alone
//!    (the server's own code, as opposed to the kernel's TCP and sendfile
//!    work both servers ask for); and wrk's own CPU per request, because
//!    on loopback the TCP work of sending lands on whichever side's CPU
//!    runs it, and a server that leaves it to the client looks cheaper
//!    while the client, the bottleneck here, pays;
//! 4. stop the server (SIGTERM, SIGKILL after 5 s, then SIGKILL to any
//!    worker left). Every child, workers included, is killed on drop, so
//!    an error leaves nothing behind.
//!
//! Then per line the medians over rounds and the ratios, checked against
//! the targets: CPU/req <= 0.8x nginx's for 1k.bin and <= 0.9x for 1m.bin,
//! req/s >= 1.0x, p99 <= 1.0x, and zero wrk socket errors and non-2xx
//! responses. The default run is 48 runs of about 11.5 s: about 9 minutes.
//!
//! Choices, so that both servers do the same work:
//!
//! - nginx runs the configuration (see `http_static/nginx.rs`):
//!   `daemon off; master_process on; worker_processes N`, 4096
//!   `worker_connections`, `sendfile on; tcp_nopush on`, keep-alive
//!   requests unbounded in practice (1,000,000) and a 65 s keep-alive
//!   timeout, so wrk's connections are never closed under it;
//!   `listen 127.0.0.1:PORT reuseport`, a listening socket per worker.
//!   spindle gets `--accept reuseport` for the same reason. With
//!   `--spindle-accept exclusive` (or any strategy but `reuseport`) nginx
//!   listens without `reuseport`: its workers then share one socket,
//!   registered with `EPOLLEXCLUSIVE`, which is nginx's own default.
//! - Access logs are off on both sides (`access_log off`; spindle logs
//!   only when given a log path): the benchmark measures serving, not
//!   formatting log lines. nginx's error log and pid file go to the run's
//!   temporary directory, as does its client-body temp path.
//! - nginx includes Debian's `/etc/nginx/mime.types` with `default_type
//!   application/octet-stream`, so both answer `.bin` with the same
//!   Content-Type from a MIME table, as a real site would.
//! - nginx keeps its default of opening, stat-ing and closing the file on
//!   every request (no `open_file_cache`): that is Debian's stock
//!   behaviour, and the issue allows spindle to cache as long as a change
//!   on disk is served at once.
//! - wrk runs with `--timeout 10s` (`--wrk-timeout`) instead of its 2 s
//!   default: with 1000 connections on the 1 MiB file the client moves
//!   about a gigabyte a second, so each connection waits about a second
//!   for its next response and the slow tail passes 2 s for either server;
//!   wrk would count those slow but correct responses as socket errors.
//!   With 10 s the errors column counts failures (resets, closes).
//! - When started as root, nginx's workers switch to `nobody` (its
//!   default `user`); spindle's stay root. The site is world-readable.
//!
//! Pinning, on the 2-CPU machines this is meant for: wrk always runs on
//! CPU 1. With 1 worker the server (master and worker: `taskset` pins the
//! master, the workers it forks inherit that) runs on CPU 0, so server and
//! client never share a core. With 2 workers the server is not pinned:
//! pinning both workers to CPU 0 would make the second pointless, and the
//! only other core is wrk's. So in 2-worker rows the workers share CPU 1
//! with wrk and req/s mostly shows how they fight over it; server CPU per
//! request (summed over all processes) is the figure to compare.
//!
//! Children inherit a raised `RLIMIT_NOFILE` (soft limit set to the hard
//! one), which 1000 connections on each side need.

#[path = "http_static/nginx.rs"]
mod nginx;
#[path = "http_static/server.rs"]
mod server;
#[path = "http_static/site.rs"]
mod site;
#[path = "http_static/summary.rs"]
mod summary;

use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use clap::Parser;
use spindle_bench::parse_duration;
use spindle_bench::process::{beside_this_binary, command_on_cpu, pinning, wait_timeout};
use spindle_bench::redis::free_port;
use spindle_bench::report::{machine_line, utc_now};
use spindle_bench::wrk::{raise_nofile_limit, run_wrk, run_wrk_measured, wrk_version, WrkTiming};

use nginx::{nginx_version, NginxConfig, MIME_TYPES};
use server::ServerTree;
use site::{Site, SiteFile};
use summary::{Line, Sample, ServerKind};

/// Static files: spindle http against nginx under wrk.
#[derive(Parser, Debug)]
#[command(version, args_override_self = true)]
struct Args {
    /// Files to load, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "1k,1m")]
    files: Vec<SiteFile>,
    /// wrk connection counts, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "100,1000")]
    connections: Vec<usize>,
    /// Worker process counts (the same for both servers), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    workers: Vec<usize>,
    /// Servers to run, comma-separated (one alone gives its figures only).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "spindle,nginx")]
    servers: Vec<ServerKind>,
    #[command(flatten)]
    timing: WrkTiming,
    /// The spindle binary (default: `spindle` next to this binary).
    #[arg(long)]
    spindle: Option<PathBuf>,
    /// spindle's `--accept` strategy; `default` passes none.
    #[arg(long, default_value = "reuseport")]
    spindle_accept: String,
    /// A config file for spindle (`--config FILE`).
    #[arg(long)]
    spindle_config: Option<PathBuf>,
    /// Extra arguments for `spindle http`, whitespace-separated.
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    spindle_args: String,
    /// Replace the spindle side's whole command: whitespace-separated, with
    /// `{listen}`, `{port}`, `{root}`, `{workers}` and `{dir}` (a private
    /// directory) substituted; or `nginx` to run nginx as a stand-in (to
    /// check the harness before `spindle http` exists).
    #[arg(long, allow_hyphen_values = true)]
    spindle_cmd: Option<String>,
    /// The nginx program.
    #[arg(long, default_value = "/usr/sbin/nginx")]
    nginx: PathBuf,
    /// The wrk program.
    #[arg(long, default_value = "wrk")]
    wrk: PathBuf,
    /// wrk's `--timeout`: a response slower than this counts as a socket
    /// error (whole seconds).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    wrk_timeout: Duration,
    /// Also print the summary as Markdown (for bench/RESULTS.md).
    #[arg(long)]
    markdown: bool,
    /// Do not pin servers and wrk to CPUs.
    #[arg(long)]
    no_pin: bool,
}

/// The CPU of 1-worker servers, and wrk's.
const SERVER_CPU: usize = 0;
const WRK_CPU: usize = 1;
/// How long a server gets to exit on SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// A run's overhead on top of warm-up and measurement (start, check,
/// wrk's connects, stop), for the time estimate.
const RUN_OVERHEAD: Duration = Duration::from_millis(500);

/// How the spindle side is started.
#[derive(Debug, Clone)]
enum SpindleCommand {
    /// `SPINDLE http --listen ... --root ... --workers N [ARGS]`.
    Binary { path: PathBuf, args: Vec<String> },
    /// A `--spindle-cmd` template.
    Template(Vec<String>),
    /// nginx standing in for spindle.
    NginxStandIn,
}

/// Paths and settings shared by every run.
struct Setup {
    args: Args,
    site: Site,
    spindle: SpindleCommand,
    mime_types: Option<PathBuf>,
    pin: bool,
    nofile: u64,
    notes: Vec<String>,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("http_static_bench: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs everything; `Ok(false)` if some run failed.
fn run(args: Args) -> Result<bool> {
    let command_line = std::env::args().collect::<Vec<_>>().join(" ");
    let date = utc_now();
    let setup = prepare(args)?;
    let header = header(&setup, &date, &command_line)?;
    print!("{header}");
    io::stdout().flush()?;

    let args = &setup.args;
    let lines = lines(args);
    let mut samples = Vec::new();
    let mut failures = Vec::new();
    for round in 1..=args.timing.rounds {
        for &line in &lines {
            let n = args.servers.len();
            for kind in (0..n).map(|i| args.servers[(i + round - 1) % n]) {
                match run_once(&setup, round, line, kind) {
                    Ok(sample) => {
                        println!("{}", sample.raw_row());
                        samples.push(sample);
                    }
                    Err(e) => {
                        let what = format!(
                            "round={round} file={} conns={} workers={} server={}",
                            line.file.name(),
                            line.connections,
                            line.workers,
                            kind.name()
                        );
                        println!("{what} FAILED: {e:#}");
                        failures.push(format!("{what}: {e:#}"));
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
    print!("{}", summary::render_all(&lines, &samples, &setup.notes, false));
    if args.markdown {
        println!();
        print!("{}", summary::markdown_header(&date, &header));
        print!("{}", summary::render_all(&lines, &samples, &setup.notes, true));
    }
    Ok(failures.is_empty())
}

/// Every (file, connections, workers) line, in the order they run.
fn lines(args: &Args) -> Vec<Line> {
    let mut lines = Vec::new();
    for &file in &args.files {
        for &connections in &args.connections {
            for &workers in &args.workers {
                lines.push(Line { file, connections, workers });
            }
        }
    }
    lines
}

/// Checks the arguments and programs, creates the site, raises the
/// descriptor limit, decides on pinning and on spindle's command.
fn prepare(args: Args) -> Result<Setup> {
    args.timing.check()?;
    ensure!(!args.servers.is_empty(), "--servers is empty");
    ensure!(!args.files.is_empty(), "--files is empty");
    ensure!(!args.connections.is_empty() && !args.connections.contains(&0), "--connections must be >= 1");
    ensure!(!args.workers.is_empty() && !args.workers.contains(&0), "--workers must be >= 1");
    ensure!(
        args.wrk_timeout >= Duration::from_secs(1) && args.wrk_timeout.subsec_nanos() == 0,
        "--wrk-timeout must be whole seconds, at least 1s"
    );
    let mut notes = Vec::new();

    let spindle = spindle_command(&args)?;
    if let SpindleCommand::NginxStandIn = spindle {
        notes
            .push("STAND-IN: the spindle column is nginx (--spindle-cmd nginx), not spindle http".to_owned());
    }
    if let SpindleCommand::Binary { path, .. } = &spindle {
        if args.servers.contains(&ServerKind::Spindle) {
            probe_spindle(path)?;
        }
    }
    let mime_types = Some(PathBuf::from(MIME_TYPES)).filter(|p| p.is_file());
    if mime_types.is_none() {
        notes.push(format!("{MIME_TYPES} not found: nginx answers with default_type only"));
    }

    let nofile = raise_nofile_limit().context("raising RLIMIT_NOFILE")?;
    let most = args.connections.iter().copied().max().unwrap_or(0) as u64;
    if nofile < most + 64 {
        let note = format!("RLIMIT_NOFILE is {nofile}: too few descriptors for {most} connections");
        println!("warning: {note}");
        notes.push(note);
    }
    let pin = pinning(args.no_pin).map_err(|why| notes.push(why)).is_ok();
    let site = Site::create().context("creating the site")?;
    Ok(Setup { args, site, spindle, mime_types, pin, nofile, notes })
}

/// How to start the spindle side, from `--spindle-cmd` or the binary.
fn spindle_command(args: &Args) -> Result<SpindleCommand> {
    if let Some(template) = &args.spindle_cmd {
        let words: Vec<String> = template.split_whitespace().map(str::to_owned).collect();
        return match words.as_slice() {
            [] => bail!("--spindle-cmd is empty"),
            [one] if one == "nginx" => Ok(SpindleCommand::NginxStandIn),
            _ => Ok(SpindleCommand::Template(words)),
        };
    }
    let path = match &args.spindle {
        Some(path) => path.clone(),
        None => beside_this_binary("spindle").context("locating this binary")?,
    };
    let mut extra = Vec::new();
    if args.spindle_accept != "default" {
        extra.extend(["--accept".to_owned(), args.spindle_accept.clone()]);
    }
    if let Some(config) = &args.spindle_config {
        extra.extend(["--config".to_owned(), config.display().to_string()]);
    }
    extra.extend(args.spindle_args.split_whitespace().map(str::to_owned));
    Ok(SpindleCommand::Binary { path, args: extra })
}

/// Checks that `SPINDLE http --help` runs, so a spindle without the
/// `http` command fails the run at once with a hint, not 24 runs later.
fn probe_spindle(spindle: &Path) -> Result<()> {
    ensure!(
        spindle.is_file(),
        "{} not found (build with `cargo build --release -p spindle`, pass --spindle, or use \
         --spindle-cmd nginx for a stand-in)",
        spindle.display()
    );
    let mut child = Command::new(spindle)
        .args(["http", "--help"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .with_context(|| format!("cannot run {}", spindle.display()))?;
    match wait_timeout(&mut child, Duration::from_secs(10))? {
        Some(status) if status.success() => Ok(()),
        Some(status) => bail!(
            "`{} http --help` exited with {status}: this spindle has no `http` command yet \
             (use --spindle-cmd nginx for a stand-in)",
            spindle.display()
        ),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            bail!("`{} http --help` did not exit within 10 s", spindle.display())
        }
    }
}

/// The command that starts `kind` for one run, and the log to quote if it
/// fails to start.
fn server_command(
    setup: &Setup,
    kind: ServerKind,
    line: Line,
    addr: SocketAddr,
    cpu: Option<usize>,
) -> Result<(Command, Option<PathBuf>)> {
    let dir = setup.site.private_dir(kind.name()).context("creating the server's directory")?;
    let nginx = |dir: PathBuf| -> Result<(Command, Option<PathBuf>)> {
        let config = NginxConfig {
            workers: line.workers,
            port: addr.port(),
            root: setup.site.root(),
            dir,
            mime_types: setup.mime_types.clone(),
            reuseport: setup.args.nginx_reuseport(),
        };
        Ok((config.command(&setup.args.nginx, cpu)?, Some(config.error_log())))
    };
    match (kind, &setup.spindle) {
        (ServerKind::Nginx, _) | (ServerKind::Spindle, SpindleCommand::NginxStandIn) => nginx(dir),
        (ServerKind::Spindle, SpindleCommand::Binary { path, args }) => {
            let mut cmd = command_on_cpu(path, cpu);
            cmd.arg("http").arg("--listen").arg(addr.to_string()).arg("--root").arg(setup.site.root());
            cmd.arg("--workers").arg(line.workers.to_string()).args(args);
            Ok((cmd, None))
        }
        (ServerKind::Spindle, SpindleCommand::Template(words)) => {
            let root = setup.site.root();
            let fill = |w: &String| {
                w.replace("{listen}", &addr.to_string())
                    .replace("{port}", &addr.port().to_string())
                    .replace("{root}", &root.display().to_string())
                    .replace("{workers}", &line.workers.to_string())
                    .replace("{dir}", &dir.display().to_string())
            };
            let mut cmd = command_on_cpu(Path::new(&fill(&words[0])), cpu);
            cmd.args(words[1..].iter().map(fill));
            Ok((cmd, None))
        }
    }
}

/// Starts one server, checks it serves the file, warms it up, measures
/// one wrk run, stops it.
fn run_once(setup: &Setup, round: usize, line: Line, kind: ServerKind) -> Result<Sample> {
    let args = &setup.args;
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port().context("finding a free port")?));
    let cpu = (setup.pin && line.workers == 1).then_some(SERVER_CPU);
    let (cmd, error_log) = server_command(setup, kind, line, addr, cpu)?;
    let mut server = ServerTree::start(kind.name(), cmd, addr, error_log)?;
    server.check_file(line.file.name(), &line.file.contents())?;
    let url = format!("http://{}/{}", server.addr(), line.file.name());
    let wrk_cpu = setup.pin.then_some(WRK_CPU);

    if !args.timing.warmup.is_zero() {
        let (warm, _) =
            run_wrk(&args.wrk, wrk_cpu, line.connections, args.timing.warmup, Some(args.wrk_timeout), &url)
                .context("warm-up run")?;
        ensure!(warm.requests > 0, "no requests served in the warm-up ({warm})");
    }

    let run = run_wrk_measured(
        &args.wrk,
        wrk_cpu,
        line.connections,
        args.timing.duration,
        Some(args.wrk_timeout),
        &url,
        || server.ticks(),
    )?;
    server.stop(STOP_GRACE)?;

    ensure!(run.report.requests > 0, "no requests served ({})", run.report);
    Ok(Sample {
        round,
        line,
        kind,
        wrk: run.report,
        server_cpu_s: run.server_cpu_s,
        server_user_s: run.server_user_s,
        other_cpu_s: run.other_cpu_s,
        wrk_cpu_s: run.wrk_cpu_s,
        window_s: run.window_s,
        processes: run.server_after.processes.len(),
        tree_changed: !run.server_after.same_processes(&run.server_before),
    })
}

/// The run's header: date, machine, versions, commands, settings.
fn header(setup: &Setup, date: &str, command_line: &str) -> Result<String> {
    let args = &setup.args;
    let mut out = String::new();
    let _ = writeln!(out, "{}", machine_line("http_static_bench", date));
    let _ = writeln!(out, "command: {command_line}");
    let _ = writeln!(out, "{}", wrk_version(&args.wrk)?);
    let _ = writeln!(out, "{} ({})", nginx_version(&args.nginx)?, args.nginx.display());
    let spindle = match &setup.spindle {
        SpindleCommand::Binary { path, args } => format!(
            "{} http --listen 127.0.0.1:PORT --root ROOT --workers N {}",
            path.display(),
            args.join(" ")
        ),
        SpindleCommand::Template(words) => words.join(" "),
        SpindleCommand::NginxStandIn => "nginx (STAND-IN), same configuration as the nginx side".to_owned(),
    };
    if args.servers.contains(&ServerKind::Spindle) {
        let _ = writeln!(out, "spindle side: {}", spindle.trim_end());
    }
    let listen = if args.nginx_reuseport() { "listen reuseport" } else { "listen (shared, EPOLLEXCLUSIVE)" };
    let _ = writeln!(
        out,
        "nginx side: worker_processes N, access_log off, sendfile on, tcp_nopush on, \
         keepalive_requests 1000000, {listen}"
    );
    let pinning = if setup.pin {
        format!("1-worker servers cpu {SERVER_CPU}, 2+-worker servers unpinned, wrk cpu {WRK_CPU}")
    } else {
        "off".to_owned()
    };
    let files: Vec<&str> = args.files.iter().map(|f| f.name()).collect();
    let _ = writeln!(
        out,
        "files={} connections={:?} workers={:?} duration={:?} warmup={:?} wrk_timeout={:?} rounds={} \
         servers={} nofile={} pinning: {pinning}",
        files.join(","),
        args.connections,
        args.workers,
        args.timing.duration,
        args.timing.warmup,
        args.wrk_timeout,
        args.timing.rounds,
        args.servers.iter().map(|s| s.name()).collect::<Vec<_>>().join(","),
        setup.nofile,
    );
    let (runs, estimate) = time_budget(args);
    let _ = writeln!(out, "{runs} runs, about {:.1} minutes", estimate.as_secs_f64() / 60.0);
    Ok(out)
}

/// How many wrk runs the arguments ask for, and about how long they take.
fn time_budget(args: &Args) -> (usize, Duration) {
    let runs = lines(args).len() * args.servers.len() * args.timing.rounds;
    (runs, (args.timing.warmup + args.timing.duration + RUN_OVERHEAD) * runs as u32)
}

impl Args {
    /// Whether nginx listens with `reuseport`: only beside spindle's
    /// `reuseport`; with any other strategy its workers share one socket
    /// (`EPOLLEXCLUSIVE`, nginx's default), the closest like for like.
    fn nginx_reuseport(&self) -> bool {
        self.spindle_accept == "reuseport"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_lines_and_time_budget() {
        let args = Args::parse_from(["http_static_bench"]);
        let lines = lines(&args);
        assert_eq!(lines.len(), 8);
        assert_eq!(lines[0], Line { file: SiteFile::OneKiB, connections: 100, workers: 1 });
        let (_, estimate) = time_budget(&args);
        assert!(estimate < Duration::from_secs(12 * 60), "{estimate:?}");
    }

    #[test]
    fn spindle_commands() {
        let args = Args::parse_from(["x", "--spindle", "/bin/spindle", "--spindle-args", "--foo 1"]);
        match spindle_command(&args).unwrap() {
            SpindleCommand::Binary { path, args } => {
                assert_eq!(path, Path::new("/bin/spindle"));
                assert_eq!(args, ["--accept", "reuseport", "--foo", "1"]);
            }
            other => panic!("{other:?}"),
        }
        let args = Args::parse_from(["x", "--spindle-cmd", "nginx"]);
        assert!(matches!(spindle_command(&args).unwrap(), SpindleCommand::NginxStandIn));
        let args = Args::parse_from(["x", "--spindle-cmd", "srv --port {port} --root {root}"]);
        assert!(matches!(spindle_command(&args).unwrap(), SpindleCommand::Template(w) if w.len() == 5));
    }
}
