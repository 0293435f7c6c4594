//! `kv_bench`: Spindle's Redis-compatible server (`spindle kv`) against
//! Debian's `redis-server` 7, in one run, on loopback, loaded by
//! `redis-benchmark`; prints requests/s, server CPU per request and the
//! spindle/redis ratios, plus memory figures.
//!
//! Throughput: each round starts both servers (`spindle kv --port 0
//! --maxclients 10100`, plus `--save '' --appendonly no` if this spindle
//! accepts them; `redis-server --port FREE --save '' --appendonly no
//! --daemonize no --maxclients 10100`). Then for every load
//! (`CLIENTSxPIPELINE`, default 50x1, 50x16 and 1000x1), every test
//! (redis-benchmark's `-t` names; ZADD is one in 7.0) and each server in
//! turn (the order alternates every round, so drift hits both alike):
//!
//! 1. sample the server's CPU ticks (`/proc/PID/stat`, user and system,
//!    all threads) and the machine's busy time (`/proc/stat`);
//! 2. run `redis-benchmark -h 127.0.0.1 -p PORT -n N -c C -P P -t TEST
//!    --csv` to completion (bounded: 60 s + 200 µs per request);
//! 3. sample again: CPU per request = CPU delta / N.
//!
//! Tests run in redis-benchmark's own order on one server instance per
//! round, so LPOP pops what LPUSH pushed. A server that answers a test
//! with an error (redis-benchmark prints `Error from server:` and exits)
//! gets an "unsupported" line with that error, not a crash of the run; a
//! server that died is restarted for the next test.
//!
//! With `--floor`, a third server runs in every round between the two:
//! `bare_epoll_echo --resp-ok --edge --coalesce-us 40`, an edge-triggered
//! epoll loop that batches its wake-ups under load as spindle kv does and
//! answers `+OK` to each command and does nothing else. Its CPU per request is what the kernel
//! charges for the same `read`, `write` and `epoll_wait` calls, the part
//! no server can save; the summary adds it, the *overhead ratio* (each
//! server's CPU above the floor, spindle's over redis's) and the room the
//! CPU target leaves above the floor.
//!
//! Memory, on fresh servers each time: (a) VmRSS (`/proc/PID/status`) and
//! `INFO memory` used_memory / used_memory_rss after `SET key:I <V bytes>`
//! for I in 0..K (default one million keys of 100 bytes, our own pipelined
//! loader, so DBSIZE is exactly K), read [`SETTLE`] after the last key;
//! (b) VmRSS growth per idle client,
//! over 10,000 connections that connect and send nothing (counted as
//! accepted once the server's `/proc/PID/fd` has them all).
//!
//! Pinning (current-thread servers, a 2-CPU machine): each server on
//! CPU 0, redis-benchmark on CPU 1, with `taskset`, when available. This
//! driver raises its `RLIMIT_NOFILE` soft limit to the hard one; children
//! inherit it (1000 clients and 10,000 idle connections need it).

use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Read, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use clap::Parser;
use spindle_bench::parse_listening_addr;
use spindle_bench::process::{beside_this_binary, command_on_cpu, pinning, wait_timeout, ChildProcess};
use spindle_bench::procstat::{clock_ticks_per_second, proc_cpu_ticks, system_busy_seconds};
use spindle_bench::redis::{
    free_port, open_idle_connections, parse_info_field, parse_load, proc_alive, proc_fd_count, proc_vm_rss,
    program_version, wait_fd_count, BenchOutcome, BenchRun, Load, Reply, RespConn, BENCHMARK_TESTS,
};
use spindle_bench::report::{machine_line, utc_now};
use spindle_bench::wrk::raise_nofile_limit;

use spindle_bench::kv_report::{self as summary, Kind, MemSample, Results, Sample};

/// Spindle kv against redis-server under redis-benchmark.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Requests per redis-benchmark run (`-n`).
    #[arg(long, default_value_t = 1_000_000)]
    requests: u64,
    /// Rounds; medians are taken over them.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// redis-benchmark tests (`-t` names), comma-separated, run in this order.
    #[arg(long, value_delimiter = ',', default_value = "set,get,incr,lpush,lpop,sadd,hset,zadd,mset")]
    tests: Vec<String>,
    /// Loads as CLIENTSxPIPELINE (`-c` and `-P`), comma-separated.
    #[arg(long, value_delimiter = ',', value_parser = parse_load, default_value = "50x1,50x16,1000x1")]
    loads: Vec<Load>,
    /// redis-benchmark `-r`: random keys out of this many (default: none,
    /// redis-benchmark's fixed keys).
    #[arg(long)]
    keyspace: Option<u64>,
    /// Keys stored for the memory figure.
    #[arg(long, default_value_t = 1_000_000)]
    memory_keys: u64,
    /// Value size of those keys, bytes.
    #[arg(long, default_value_t = 100)]
    value_size: usize,
    /// Idle connections for the per-client memory figure.
    #[arg(long, default_value_t = 10_000)]
    idle_clients: usize,
    /// Skip the redis-benchmark runs.
    #[arg(long)]
    skip_load: bool,
    /// Skip the memory figures.
    #[arg(long)]
    skip_memory: bool,
    /// The spindle binary (default: `spindle` next to this binary).
    #[arg(long)]
    spindle: Option<PathBuf>,
    /// Extra arguments for `spindle kv`, whitespace-separated
    /// (e.g. "--io-threads 2").
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    spindle_args: String,
    /// Extra arguments for redis-server, whitespace-separated.
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    redis_args: String,
    /// The redis-server program.
    #[arg(long, default_value = "redis-server")]
    redis_server: PathBuf,
    /// The redis-benchmark program.
    #[arg(long, default_value = "redis-benchmark")]
    redis_benchmark: PathBuf,
    /// Also print the summary as Markdown (for bench/RESULTS.md).
    #[arg(long)]
    markdown: bool,
    /// Do not pin servers and redis-benchmark to CPUs.
    #[arg(long)]
    no_pin: bool,
    /// Also measure the floor: `bare_epoll_echo --resp-ok --edge --coalesce-us 40` (next to this
    /// binary), a bare epoll loop answering `+OK` to every command, in the
    /// same rounds; the table then shows its CPU per request, the overhead
    /// ratio over it and the room the target leaves (load runs only).
    #[arg(long)]
    floor: bool,
}

/// The CPU of both servers, and redis-benchmark's.
const SERVER_CPU: usize = 0;
const CLIENT_CPU: usize = 1;
/// Bound on a server starting.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a server gets to exit on SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(2);
/// Bound on every read and write of the driver's own connections.
const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause between the last loaded key and the memory readings. redis-server
/// does not read its RSS for `INFO`: it reports the figure its cron took
/// last (every 100 ms at the default `hz 10`), which lags a running load by
/// up to a tenth of a second of inserts (about 4 MiB here), while spindle
/// reads `/proc` when asked. Three cron periods later both report the same
/// moment.
const SETTLE: Duration = Duration::from_millis(300);
/// Both servers' maxclients: the idle clients plus room for the driver.
const MAXCLIENTS: usize = 10_100;
/// What both servers get to stay off the disk, if spindle accepts it.
const NO_PERSISTENCE: [&str; 4] = ["--save", "", "--appendonly", "no"];

/// Paths and settings shared by every run.
struct Setup {
    args: Args,
    spindle: PathBuf,
    /// `bare_epoll_echo`, with `--floor`.
    floor: Option<PathBuf>,
    /// Everything after `spindle kv`.
    spindle_args: Vec<String>,
    pin: bool,
    nofile: u64,
    notes: Vec<String>,
    /// Both servers' `--dir`.
    data_dir: DataDir,
}

/// An empty directory of this run's own, for both servers' `--dir`. With
/// persistence off a server still loads a `dump.rdb` it finds there at
/// start, so one left in the temporary folder by anything else would put
/// its keys into the memory figures (redis-server once held 1,005 of
/// them). Removed when the run ends.
struct DataDir(PathBuf);

impl DataDir {
    fn new() -> Result<DataDir> {
        let p = std::env::temp_dir().join(format!("spindle-kv-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).with_context(|| format!("creating {}", p.display()))?;
        Ok(DataDir(p))
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running server.
struct Server {
    kind: Kind,
    child: ChildProcess,
    addr: SocketAddr,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("kv_bench: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs everything; `Ok(false)` if some run failed.
fn run(args: Args) -> Result<bool> {
    let command_line = std::env::args().collect::<Vec<_>>().join(" ");
    let date = utc_now();
    let mut setup = prepare(args)?;
    let header = header(&setup, &date, &command_line)?;
    print!("{header}");
    io::stdout().flush()?;

    let mut results = Results::default();
    for round in 1..=setup.args.rounds {
        let order = if round % 2 == 1 { [Kind::Spindle, Kind::Redis] } else { [Kind::Redis, Kind::Spindle] };
        if !setup.args.skip_load {
            // The floor goes between the two, so drift over a test's runs
            // reaches it as much as either server.
            let mut load_order = order.to_vec();
            if setup.floor.is_some() {
                load_order.insert(1, Kind::Floor);
            }
            if let Err(e) = load_round(&mut setup, round, &load_order, &mut results) {
                println!("round={round} FAILED: {e:#}");
                results.failures.push(format!("round {round}: {e:#}"));
            }
        }
        if !setup.args.skip_memory {
            for kind in order {
                match memory_once(&setup, round, kind) {
                    Ok(m) => {
                        println!("{}", m.raw_row());
                        results.memory.push(m);
                    }
                    Err(e) => {
                        println!("round={round} memory server={} FAILED: {e:#}", kind.name());
                        results.failures.push(format!("round {round} memory {}: {e:#}", kind.name()));
                    }
                }
                io::stdout().flush()?;
            }
        }
    }

    println!();
    for failure in &results.failures {
        println!("FAILED {failure}");
    }
    let loads = &setup.args.loads;
    let tests = &setup.args.tests;
    print!("{}", summary::render_all(&results, loads, tests, &setup.notes, false));
    if setup.args.markdown {
        println!();
        print!("{}", summary::markdown_header(&date, &header));
        print!("{}", summary::render_all(&results, loads, tests, &setup.notes, true));
    }
    Ok(results.failures.is_empty())
}

/// Checks the programs, raises the descriptor limit, decides on pinning
/// and on spindle's arguments.
fn prepare(args: Args) -> Result<Setup> {
    ensure!(args.rounds > 0, "--rounds must be at least 1");
    ensure!(args.requests > 0, "--requests must be at least 1");
    ensure!(!args.loads.is_empty(), "--loads is empty");
    for test in &args.tests {
        ensure!(
            BENCHMARK_TESTS.contains(&test.as_str()),
            "unknown test {test:?}: redis-benchmark -t knows {}",
            BENCHMARK_TESTS.join(",")
        );
    }
    let spindle = match &args.spindle {
        Some(path) => path.clone(),
        None => beside_this_binary("spindle").context("locating this binary")?,
    };
    ensure!(
        spindle.is_file(),
        "{} not found (build with `cargo build --release -p spindle -p spindle-bench`, or pass --spindle)",
        spindle.display()
    );
    let mut notes = Vec::new();

    let nofile = raise_nofile_limit().context("raising RLIMIT_NOFILE")?;
    let most = args.loads.iter().map(|l| l.clients).max().unwrap_or(0);
    let need = (args.idle_clients.max(most) + 200) as u64;
    if nofile < need {
        let note = format!("RLIMIT_NOFILE is {nofile}: too few descriptors for {} connections", need - 200);
        println!("warning: {note}");
        notes.push(note);
    }

    let pin = pinning(args.no_pin).map_err(|why| notes.push(why)).is_ok();

    let floor = if args.floor {
        let path = beside_this_binary("bare_epoll_echo").context("locating this binary")?;
        ensure!(
            path.is_file(),
            "{} not found (build with `cargo build --release -p spindle-bench`)",
            path.display()
        );
        Some(path)
    } else {
        None
    };

    let data_dir = DataDir::new()?;
    let dir = data_dir.0.to_string_lossy().into_owned();
    let mut setup = Setup { args, spindle, floor, spindle_args: Vec::new(), pin, nofile, notes, data_dir };
    // Probe whether this spindle takes the persistence options: an
    // unknown option makes it exit before it listens.
    let base: Vec<String> = ["kv", "--port", "0", "--maxclients", &MAXCLIENTS.to_string()]
        .into_iter()
        .map(str::to_owned)
        .chain(setup.args.spindle_args.split_whitespace().map(str::to_owned))
        .collect();
    let with_options: Vec<String> = base
        .iter()
        .cloned()
        .chain(NO_PERSISTENCE.map(str::to_owned))
        .chain(["--dir".to_owned(), dir])
        .collect();
    match probe_spindle(&setup.spindle, &with_options)? {
        None => setup.spindle_args = with_options,
        Some(complaint) => {
            setup.spindle_args = base;
            if let Some(complaint) = probe_spindle(&setup.spindle, &setup.spindle_args)? {
                bail!("spindle {} does not start: {complaint}", setup.spindle_args.join(" "));
            }
            setup.notes.push(format!(
                "this spindle rejects `--save '' --appendonly no` ({complaint}); started without them"
            ));
        }
    }
    Ok(setup)
}

/// Starts `spindle ARGS` (unpinned, stderr captured) to see whether it
/// gets to listening: `None` if it does, else the first line of its
/// complaint. Bounded by [`STARTUP_TIMEOUT`]; the probe is killed either
/// way.
fn probe_spindle(spindle: &Path, args: &[String]) -> Result<Option<String>> {
    let mut child = Command::new(spindle)
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {}", spindle.display()))?;
    let stdout = child.stdout.take().context("stdout was piped")?;
    let mut stderr = child.stderr.take().context("stderr was piped")?;
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let listening = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|line| parse_listening_addr(&line).is_some());
        let _ = tx.send(listening);
    });
    let listening = rx.recv_timeout(STARTUP_TIMEOUT).unwrap_or(false);
    let _ = child.kill();
    let _ = wait_timeout(&mut child, STOP_GRACE);
    if listening {
        return Ok(None);
    }
    let mut complaint = String::new();
    let _ = stderr.read_to_string(&mut complaint);
    let first = complaint.lines().find(|l| !l.trim().is_empty()).unwrap_or("no output");
    Ok(Some(first.trim().to_owned()))
}

/// Starts one server and waits until it accepts connections.
fn start_server(setup: &Setup, kind: Kind) -> Result<Server> {
    let cpu = setup.pin.then_some(SERVER_CPU);
    match kind {
        Kind::Spindle => {
            let mut cmd = command_on_cpu(&setup.spindle, cpu);
            cmd.args(&setup.spindle_args);
            let mut child = ChildProcess::spawn("spindle", cmd)?;
            let addr = child.wait_listening(STARTUP_TIMEOUT).context("waiting for `listening on`")?;
            Ok(Server { kind, child, addr })
        }
        Kind::Redis => {
            let port = free_port()?;
            let mut cmd = command_on_cpu(&setup.args.redis_server, cpu);
            cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"]);
            cmd.args(["--daemonize", "no", "--maxclients", &MAXCLIENTS.to_string()]);
            cmd.args(NO_PERSISTENCE);
            cmd.arg("--dir").arg(&setup.data_dir.0);
            cmd.args(setup.args.redis_args.split_whitespace());
            let mut child = ChildProcess::spawn("redis-server", cmd)?;
            // Redis logs to stdout; keep its lines quiet unless it fails.
            let deadline = Instant::now() + STARTUP_TIMEOUT;
            let mut said = Vec::new();
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match child.wait_line(left, |line| Some(line.to_owned())) {
                    Ok(line) if line.contains("Ready to accept connections") => break,
                    Ok(line) => said.push(line),
                    Err(e) => bail!("redis-server did not start: {e}; it said:\n{}", said.join("\n")),
                }
            }
            Ok(Server { kind, child, addr: SocketAddr::from(([127, 0, 0, 1], port)) })
        }
        Kind::Floor => {
            let path = setup.floor.as_ref().context("the floor runs only with --floor")?;
            let mut cmd = command_on_cpu(path, cpu);
            // Edge-triggered, as spindle kv watches its clients, and
            // batching its wake-ups under load as kv does by default
            // (io-coalesce-us 40, io-coalesce-min-clients 16).
            cmd.args(["--listen", "127.0.0.1:0", "--resp-ok", "--edge", "--coalesce-us", "40"]);
            let mut child = ChildProcess::spawn("bare_epoll_echo", cmd)?;
            let addr = child.wait_listening(STARTUP_TIMEOUT).context("waiting for `listening on`")?;
            Ok(Server { kind, child, addr })
        }
    }
}

/// One round of redis-benchmark runs: every server in `order` up for the
/// whole round, each test run against them in that order.
fn load_round(setup: &mut Setup, round: usize, order: &[Kind], results: &mut Results) -> Result<()> {
    let mut servers = order.iter().map(|&kind| start_server(setup, kind)).collect::<Result<Vec<_>>>()?;
    let timeout = Duration::from_secs(60) + Duration::from_micros(200 * setup.args.requests);
    for &load in &setup.args.loads {
        for test in &setup.args.tests {
            for (slot, &kind) in order.iter().enumerate() {
                let server = &servers[slot];
                let line = format!(
                    "round={round} test={test} clients={} pipeline={} server={}",
                    load.clients,
                    load.pipeline,
                    kind.name()
                );
                match bench_once(setup, server, load, test, timeout) {
                    Ok(Ok(mut sample)) => {
                        sample.round = round;
                        println!("{line} {}", sample.raw_row());
                        results.samples.push(sample);
                    }
                    Ok(Err(error)) => {
                        println!("{line} UNSUPPORTED: {error}");
                        results.unsupported.insert((load, test.clone(), kind), error);
                    }
                    Err(e) => {
                        println!("{line} FAILED: {e:#}");
                        results.failures.push(format!("{line}: {e:#}"));
                        if !proc_alive(servers[slot].child.pid()) {
                            println!("  {} died; restarting it for the next test", kind.name());
                            results.failures.push(format!("{line}: the server died"));
                            servers[slot] = start_server(setup, kind)?;
                        }
                    }
                }
                io::stdout().flush()?;
            }
        }
    }
    for server in &mut servers {
        server.child.stop(STOP_GRACE).with_context(|| format!("stopping {}", server.kind.name()))?;
    }
    Ok(())
}

/// One measured redis-benchmark run against `server`; the inner `Err` is
/// the error the server answered with.
fn bench_once(
    setup: &Setup,
    server: &Server,
    load: Load,
    test: &str,
    timeout: Duration,
) -> Result<Result<Sample, String>> {
    let args = &setup.args;
    let pid = server.child.pid();
    let before = proc_cpu_ticks(pid).context("server CPU (start)")?;
    let system_before = system_busy_seconds()?;
    let started = Instant::now();
    let outcome = BenchRun {
        program: &args.redis_benchmark,
        cpu: setup.pin.then_some(CLIENT_CPU),
        addr: server.addr,
        requests: args.requests,
        load,
        keyspace: args.keyspace,
        test,
        timeout,
    }
    .run()?;
    let after = proc_cpu_ticks(pid).context("server CPU (end; did it die?)")?;
    let system_after = system_busy_seconds()?;
    let window_s = started.elapsed().as_secs_f64();
    let (row, client_cpu_s) = match outcome {
        BenchOutcome::Done { row, client_cpu_s } => (row, client_cpu_s),
        BenchOutcome::Unsupported(error) => return Ok(Err(error)),
    };
    let hz = clock_ticks_per_second() as f64;
    let server_cpu_s = after.total().saturating_sub(before.total()) as f64 / hz;
    let server_user_s = after.utime.saturating_sub(before.utime) as f64 / hz;
    Ok(Ok(Sample {
        round: 0,
        load,
        test: test.to_owned(),
        kind: server.kind,
        requests: args.requests,
        rps: row.rps,
        p50_ms: row.p50_ms,
        p99_ms: row.p99_ms,
        server_cpu_s,
        server_user_s,
        other_cpu_s: (system_after - system_before - server_cpu_s - client_cpu_s).max(0.0),
        window_s,
    }))
}

/// The memory figures of one server: keys on one fresh instance, idle
/// clients on another.
fn memory_once(setup: &Setup, round: usize, kind: Kind) -> Result<MemSample> {
    let args = &setup.args;
    let mut m = MemSample { round, kind, ..MemSample::default() };

    let mut server = start_server(setup, kind)?;
    let pid = server.child.pid();
    let mut conn = RespConn::connect(server.addr, IO_TIMEOUT)?;
    ensure!(conn.command(&[b"PING"])? == Reply::Simple("PONG".into()), "PING not answered with PONG");
    let rss_before = proc_vm_rss(pid)?;
    let started = Instant::now();
    conn.load_keys(args.memory_keys, args.value_size, 1000).context("loading keys")?;
    m.load_s = started.elapsed().as_secs_f64();
    match conn.command(&[b"DBSIZE"])? {
        Reply::Integer(n) => {
            ensure!(n as u64 == args.memory_keys, "DBSIZE is {n} after loading {} keys", args.memory_keys)
        }
        other => m.notes.push(format!("DBSIZE answered {other:?}")),
    }
    std::thread::sleep(SETTLE);
    match conn.info("memory")? {
        Some(info) => {
            m.used_memory = parse_info_field(&info, "used_memory");
            m.used_memory_rss = parse_info_field(&info, "used_memory_rss");
        }
        None => m.notes.push("no INFO memory".to_owned()),
    }
    let rss_after = proc_vm_rss(pid)?;
    m.rss_loaded = Some(rss_after);
    m.rss_growth = Some(rss_after.saturating_sub(rss_before));
    drop(conn);
    server.child.stop(STOP_GRACE)?;

    let mut server = start_server(setup, kind)?;
    let pid = server.child.pid();
    let mut conn = RespConn::connect(server.addr, IO_TIMEOUT)?;
    ensure!(conn.command(&[b"PING"])? == Reply::Simple("PONG".into()), "PING not answered with PONG");
    let fds_before = proc_fd_count(pid)?;
    let rss_before = proc_vm_rss(pid)?;
    let idle = open_idle_connections(server.addr, args.idle_clients, Duration::from_secs(120))?;
    wait_fd_count(pid, fds_before + args.idle_clients, Duration::from_secs(60))
        .context("waiting for the server to accept every idle connection")?;
    // A round trip after the last accept: its handling is over.
    ensure!(conn.command(&[b"PING"])? == Reply::Simple("PONG".into()), "PING after connecting");
    let rss_after = proc_vm_rss(pid)?;
    m.per_client = Some((rss_after.saturating_sub(rss_before)) as f64 / args.idle_clients.max(1) as f64);
    drop(idle);
    drop(conn);
    server.child.stop(STOP_GRACE)?;
    Ok(m)
}

/// The run's header: date, machine, versions, settings.
fn header(setup: &Setup, date: &str, command_line: &str) -> Result<String> {
    let args = &setup.args;
    let mut out = String::new();
    let _ = writeln!(out, "{}", machine_line("kv_bench", date));
    let _ = writeln!(out, "command: {command_line}");
    let _ = writeln!(out, "{}", program_version(&args.redis_server)?);
    let _ = writeln!(out, "{}", program_version(&args.redis_benchmark)?);
    let pinning = if setup.pin {
        format!("servers cpu {SERVER_CPU}, redis-benchmark cpu {CLIENT_CPU}")
    } else {
        "off".into()
    };
    let loads: Vec<String> = args.loads.iter().map(|l| format!("{}x{}", l.clients, l.pipeline)).collect();
    let _ = writeln!(
        out,
        "requests={} rounds={} loads(clientsxpipeline)={} tests={} keyspace={} nofile={} pinning: {pinning}",
        args.requests,
        args.rounds,
        loads.join(","),
        args.tests.join(","),
        args.keyspace.map_or_else(|| "fixed keys".to_owned(), |r| r.to_string()),
        setup.nofile,
    );
    let _ = writeln!(out, "spindle {}", setup.spindle_args.join(" "));
    let _ = writeln!(
        out,
        "memory: {} keys x {} B values; {} idle clients",
        args.memory_keys, args.value_size, args.idle_clients
    );
    Ok(out)
}
