//! `spindle herd`: measures the thundering herd. For each accept strategy
//! it starts the cluster demo (this binary, `spindle herd --serve`) as a
//! child process, opens many short connections from client threads, reads
//! the workers' counters and CPU time, stops it, and prints a table:
//! wake-ups and futile wake-ups per accepted connection, the spread of
//! connections over workers, and server CPU per connection.
//!
//! `wakeups/conn` counts what user space sees (an `accept` that ends in
//! `EAGAIN`; for the `master` strategy also each worker's `recvmsg` on
//! its channel that ends in `EAGAIN`, since a passed connection wakes the
//! worker too: its row sums the master's wake-ups and the workers'). The kernel hides part of the herd from it: `epoll_wait`
//! re-polls a ready item before reporting it, so a worker woken for a
//! connection another worker already accepted usually goes back to sleep
//! inside the kernel, never returning. That wake-up still costs a context
//! switch, so the table also shows context switches per connection
//! (`voluntary_ctxt_switches` + `nonvoluntary_ctxt_switches` of
//! `/proc/PID/status`).
//!
//! CPU time comes from `/proc/PID/stat` (user + system, in the kernel's
//! `USER_HZ` ticks of 10 ms) of the master and every worker, sampled once
//! the workers are up and again after the last connection.

use anyhow::{bail, Context, Result};
use spindle_cluster::AcceptStrategy;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Options of `spindle herd`.
#[derive(clap::Args, Debug)]
pub struct HerdArgs {
    /// Worker processes per strategy.
    #[arg(long, default_value_t = 8)]
    pub workers: usize,
    /// Connections to open per strategy.
    #[arg(long, default_value_t = 20000)]
    pub connections: usize,
    /// Client threads, each with one connection open at a time.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Strategies to measure, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    pub strategies: Vec<AcceptStrategy>,
    /// Also print the table as markdown.
    #[arg(long)]
    pub markdown: bool,
    /// Internal: run the cluster demo master with the given demo flags
    /// (what each measurement starts).
    #[arg(long, hide = true, num_args = 0.., allow_hyphen_values = true)]
    pub serve: Option<Vec<String>>,
}

/// One strategy's figures.
#[derive(Debug)]
struct Row {
    strategy: AcceptStrategy,
    accepted: i64,
    wakeups: i64,
    futile: i64,
    per_worker: Vec<i64>,
    cpu_us: f64,
    switched: i64,
    failed: usize,
    secs: f64,
}

/// Runs `spindle herd`.
///
/// # Errors
/// A server that does not start, or a measurement that fails.
pub fn run(args: HerdArgs) -> Result<()> {
    if let Some(demo_args) = args.serve {
        let demo = spindle_cluster::demo::Demo::from_args(demo_args).map_err(anyhow::Error::msg)?;
        spindle_cluster::run(demo)?;
        return Ok(());
    }
    if args.workers == 0 || args.concurrency == 0 || args.connections == 0 {
        bail!("--workers, --connections and --concurrency must be at least 1");
    }
    let strategies =
        if args.strategies.is_empty() { AcceptStrategy::ALL.to_vec() } else { args.strategies.clone() };
    let mut rows = Vec::new();
    for s in strategies {
        eprintln!("herd: measuring {s} ({} workers, {} connections)...", args.workers, args.connections);
        rows.push(measure(s, &args).with_context(|| format!("measuring {s}"))?);
    }
    print_table(&rows, &args);
    if args.markdown {
        println!();
        print_markdown(&rows, &args);
    }
    Ok(())
}

/// The demo master as a child process, killed (with its workers) on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        for pid in children_of(self.child.id()) {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).stderr(Stdio::null()).status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(strategy: AcceptStrategy, workers: usize) -> Result<Server> {
    let exe = std::env::current_exe()?;
    let mut child = Command::new(exe)
        .args(["herd", "--serve", "--listen", "127.0.0.1:0", "--accept", strategy.name()])
        .args(["--workers", &workers.to_string()])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let out = child.stdout.take().context("no stdout")?;
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line)?;
    let addr =
        line.trim().strip_prefix("listening ").context("no listening line from the server")?.parse()?;
    let server = Server { child, addr };
    let end = Instant::now() + Duration::from_secs(10);
    while children_of(server.child.id()).len() < workers {
        if Instant::now() > end {
            bail!("the workers did not start");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(server)
}

/// Pids whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            stat_fields(*p).is_some_and(|f| f.get(1).and_then(|s| s.parse::<u32>().ok()) == Some(pid))
        })
        .collect()
}

/// The fields of `/proc/PID/stat` after the command name (state first).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(s.rsplit_once(')')?.1.split_whitespace().map(str::to_string).collect())
}

/// User + system CPU of the master and its workers, in microseconds.
fn cpu_us(master: u32) -> f64 {
    let mut ticks = 0u64;
    for p in std::iter::once(master).chain(children_of(master)) {
        if let Some(f) = stat_fields(p) {
            // utime and stime are fields 14 and 15 of stat; 12 and 13 here.
            ticks += f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            ticks += f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        }
    }
    // /proc reports USER_HZ ticks, 100 per second on Linux.
    ticks as f64 * 10_000.0
}

/// Context switches (voluntary + involuntary) of the master and its
/// workers: every time the kernel woke one of them, whether or not user
/// space saw an event.
fn switches(master: u32) -> i64 {
    let mut n = 0;
    for p in std::iter::once(master).chain(children_of(master)) {
        let Ok(s) = std::fs::read_to_string(format!("/proc/{p}/status")) else { continue };
        for line in s.lines() {
            if let Some(v) = line
                .strip_prefix("voluntary_ctxt_switches:")
                .or_else(|| line.strip_prefix("nonvoluntary_ctxt_switches:"))
            {
                n += v.trim().parse::<i64>().unwrap_or(0);
            }
        }
    }
    n
}

/// The demo's per-slot counters: slot -> (accepts, wakeups, futile).
fn counters(addr: SocketAddr) -> Result<HashMap<usize, [i64; 3]>> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(b"stats\n")?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    let mut out = HashMap::new();
    for line in text.lines().filter(|l| l.starts_with("slot=")) {
        let get = |k: &str| -> i64 {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(k)?.strip_prefix('=')?.parse().ok())
                .unwrap_or(0)
        };
        out.insert(get("slot") as usize, [get("accepts"), get("wakeups"), get("futile")]);
    }
    Ok(out)
}

fn measure(strategy: AcceptStrategy, args: &HerdArgs) -> Result<Row> {
    let server = start(strategy, args.workers)?;
    let before = counters(server.addr)?;
    let cpu0 = cpu_us(server.child.id());
    let sw0 = switches(server.child.id());
    let t0 = Instant::now();
    let addr = server.addr;
    let per_thread = args.connections.div_ceil(args.concurrency);
    let threads: Vec<_> = (0..args.concurrency)
        .map(|i| {
            let n = per_thread.min(args.connections.saturating_sub(i * per_thread));
            std::thread::spawn(move || {
                let mut failed = 0;
                for _ in 0..n {
                    if one_request(addr).is_err() {
                        failed += 1;
                    }
                }
                failed
            })
        })
        .collect();
    let failed = threads.into_iter().map(|t| t.join().unwrap_or(usize::MAX)).sum();
    let secs = t0.elapsed().as_secs_f64();
    let cpu = cpu_us(server.child.id()) - cpu0;
    let switched = switches(server.child.id()) - sw0;
    let after = counters(server.addr)?;
    let _ = Command::new("kill").args(["-QUIT", &server.child.id().to_string()]).status();
    let master_slot = spindle_cluster::master::MASTER_SLOT;
    let (mut accepted, mut wakeups, mut futile) = (0, 0, 0);
    let mut per_worker = Vec::new();
    for (slot, v) in &after {
        let b = before.get(slot).copied().unwrap_or_default();
        let d = [v[0] - b[0], v[1] - b[1], v[2] - b[2]];
        wakeups += d[1];
        futile += d[2];
        if *slot != master_slot {
            accepted += d[0];
            per_worker.push(d[0]);
        }
    }
    // The `stats` request itself was one accepted connection.
    accepted -= 1;
    per_worker.resize(per_worker.len().max(args.workers), 0);
    Ok(Row { strategy, accepted, wakeups, futile, per_worker, cpu_us: cpu, switched, failed, secs })
}

fn one_request(addr: SocketAddr) -> std::io::Result<()> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(b"hi\n")?;
    let mut buf = Vec::with_capacity(128);
    s.read_to_end(&mut buf)?;
    if !buf.starts_with(b"pid=") {
        return Err(std::io::Error::other("bad reply"));
    }
    Ok(())
}

/// min, max and coefficient of variation (stddev / mean).
fn spread(v: &[i64]) -> (i64, i64, f64) {
    let n = v.len().max(1) as f64;
    let mean = v.iter().sum::<i64>() as f64 / n;
    let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
    let cv = if mean > 0.0 { var.sqrt() / mean } else { 0.0 };
    (v.iter().copied().min().unwrap_or(0), v.iter().copied().max().unwrap_or(0), cv)
}

fn cells(r: &Row) -> [String; COLS] {
    let per = |x: i64| if r.accepted > 0 { x as f64 / r.accepted as f64 } else { 0.0 };
    let (min, max, cv) = spread(&r.per_worker);
    let cpu = if r.accepted > 0 { r.cpu_us / r.accepted as f64 } else { 0.0 };
    [
        r.strategy.to_string(),
        r.accepted.to_string(),
        format!("{:.3}", per(r.wakeups)),
        format!("{:.3}", per(r.futile)),
        format!("{:.2}", per(r.switched)),
        min.to_string(),
        max.to_string(),
        format!("{cv:.2}"),
        format!("{cpu:.1}"),
        format!("{:.0}", r.accepted as f64 / r.secs.max(1e-9)),
    ]
}

const COLS: usize = 10;
const HEADERS: [&str; COLS] = [
    "strategy",
    "accepted",
    "wakeups/conn",
    "futile/conn",
    "cswitch/conn",
    "min/worker",
    "max/worker",
    "CV",
    "CPU us/conn",
    "conn/s",
];

fn print_table(rows: &[Row], args: &HerdArgs) {
    println!(
        "spindle herd: {} workers, {} connections, {} client threads",
        args.workers, args.connections, args.concurrency
    );
    let all: Vec<[String; COLS]> = rows.iter().map(cells).collect();
    let width: Vec<usize> = (0..COLS)
        .map(|i| all.iter().map(|r| r[i].len()).chain([HEADERS[i].len()]).max().unwrap_or(0))
        .collect();
    let line =
        |c: &[String]| c.iter().zip(&width).map(|(s, w)| format!("{s:>w$}")).collect::<Vec<_>>().join("  ");
    println!("{}", line(&HEADERS.map(String::from)));
    for r in &all {
        println!("{}", line(r));
    }
    for r in rows.iter().filter(|r| r.failed > 0) {
        println!("warning: {}: {} connections failed", r.strategy, r.failed);
    }
}

fn print_markdown(rows: &[Row], _args: &HerdArgs) {
    println!("| {} |", HEADERS.join(" | "));
    println!("|{}|", ["---"; COLS].join("|"));
    for r in rows {
        println!("| {} |", cells(r).join(" | "));
    }
}
