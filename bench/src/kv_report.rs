//! What `kv_bench` measured, and its summary: medians over rounds of
//! requests/s and server CPU per request for spindle and redis-server side
//! by side, their ratios against the targets, and the memory
//! figures, as aligned text or as Markdown for `bench/RESULTS.md`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use crate::redis::Load;
use crate::report::{few_ticks_warning, median, noisy_warning};
pub use crate::report::{FEW_TICKS_CPU_S, NOISY_FRACTION};
use crate::table::{fmt_opt as fmt, fmt_ratio, render_remarks};
pub use crate::table::{ratio, render};

/// The servers measured: the two compared, and (with `--floor`) the floor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `spindle kv`.
    #[default]
    Spindle = 0,
    /// `redis-server`.
    Redis = 1,
    /// The floor: `bare_epoll_echo --resp-ok --edge --coalesce-us 40`, a
    /// bare epoll loop that answers `+OK` to every command and stores
    /// nothing. It makes the same system calls as spindle kv (at `-P 1`,
    /// one `recv` and one `send` per request and a share of an
    /// `epoll_wait`, batched under load as kv batches) and does no other
    /// work, so its CPU per request is the kernel's share, which no server
    /// built on `recv`/`send`/`epoll` can go below.
    Floor = 2,
}

impl Kind {
    /// `spindle`, `redis` or `floor`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Spindle => "spindle",
            Self::Redis => "redis",
            Self::Floor => "floor",
        }
    }
}

/// Target: spindle's server CPU per request at most this times redis's.
pub const CPU_TARGET: f64 = 0.9;
/// Target: spindle's requests/s at least this times redis's.
pub const RPS_TARGET: f64 = 1.0;
/// Target: spindle's memory at most this times redis's.
pub const MEMORY_TARGET: f64 = 1.0;

/// One measured redis-benchmark run against one server.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Round number, from 1.
    pub round: usize,
    /// Clients and pipeline depth.
    pub load: Load,
    /// The redis-benchmark test (`-t` name).
    pub test: String,
    /// Which server.
    pub kind: Kind,
    /// Requests sent (`-n`).
    pub requests: u64,
    /// Requests/s as redis-benchmark reported them.
    pub rps: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th-percentile latency, ms.
    pub p99_ms: f64,
    /// Server CPU (user + system, all threads) over the run, seconds.
    pub server_cpu_s: f64,
    /// The user-mode part of `server_cpu_s`.
    pub server_user_s: f64,
    /// CPU everything but the server and redis-benchmark used meanwhile.
    pub other_cpu_s: f64,
    /// Wall time of the run, seconds.
    pub window_s: f64,
}

impl Sample {
    /// Server CPU per request, µs.
    pub fn cpu_us_per_req(&self) -> f64 {
        self.server_cpu_s * 1e6 / self.requests.max(1) as f64
    }

    /// Server user-mode CPU per request, µs.
    pub fn user_us_per_req(&self) -> f64 {
        self.server_user_s * 1e6 / self.requests.max(1) as f64
    }

    /// The `key=value` line printed as each run ends.
    pub fn raw_row(&self) -> String {
        format!(
            "rps={:.0} p50_ms={:.3} p99_ms={:.3} server_cpu_s={:.2} cpu_us_per_req={:.3} \
             user_us_per_req={:.3} other_cpu_s={:.2} window_s={:.2}",
            self.rps,
            self.p50_ms,
            self.p99_ms,
            self.server_cpu_s,
            self.cpu_us_per_req(),
            self.user_us_per_req(),
            self.other_cpu_s,
            self.window_s
        )
    }
}

/// The memory figures of one server in one round.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemSample {
    /// Round number, from 1.
    pub round: usize,
    /// Which server.
    pub kind: Kind,
    /// VmRSS after loading the keys, bytes.
    pub rss_loaded: Option<u64>,
    /// VmRSS growth over the load, bytes.
    pub rss_growth: Option<u64>,
    /// `INFO memory` used_memory after loading, bytes.
    pub used_memory: Option<u64>,
    /// `INFO memory` used_memory_rss after loading, bytes.
    pub used_memory_rss: Option<u64>,
    /// VmRSS growth per idle client, bytes.
    pub per_client: Option<f64>,
    /// Seconds the load took.
    pub load_s: f64,
    /// What the server could not answer.
    pub notes: Vec<String>,
}

impl MemSample {
    /// The `key=value` line printed as each measurement ends.
    pub fn raw_row(&self) -> String {
        let opt = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
        format!(
            "round={} memory server={} vm_rss={} vm_rss_growth={} used_memory={} used_memory_rss={} \
             rss_per_idle_client={} load_s={:.2}{}",
            self.round,
            self.kind.name(),
            opt(self.rss_loaded),
            opt(self.rss_growth),
            opt(self.used_memory),
            opt(self.used_memory_rss),
            self.per_client.map_or_else(|| "-".to_owned(), |v| format!("{v:.0}")),
            self.load_s,
            if self.notes.is_empty() { String::new() } else { format!(" notes: {}", self.notes.join("; ")) }
        )
    }
}

/// Everything a run gathered.
#[derive(Debug, Default)]
pub struct Results {
    /// Every successful redis-benchmark run.
    pub samples: Vec<Sample>,
    /// Runs the server answered with an error: the error text.
    pub unsupported: HashMap<(Load, String, Kind), String>,
    /// Memory figures, per round and server.
    pub memory: Vec<MemSample>,
    /// Runs that failed otherwise.
    pub failures: Vec<String>,
}

/// The medians of one (load, test, server) cell: requests/s and CPU µs
/// per request.
pub fn cell(samples: &[Sample], load: Load, test: &str, kind: Kind) -> (Option<f64>, Option<f64>) {
    let mine: Vec<&Sample> =
        samples.iter().filter(|s| s.load == load && s.test == test && s.kind == kind).collect();
    let rps = median(&mine.iter().map(|s| s.rps).collect::<Vec<_>>());
    let cpu = median(&mine.iter().map(|s| s.cpu_us_per_req()).collect::<Vec<_>>());
    (rps, cpu)
}

/// Whether a line meets the targets: `ok`, or what it misses.
pub fn verdict(rps_ratio: Option<f64>, cpu_ratio: Option<f64>) -> &'static str {
    match (rps_ratio, cpu_ratio) {
        (Some(r), Some(c)) => match (r >= RPS_TARGET, c <= CPU_TARGET) {
            (true, true) => "ok",
            (false, true) => "miss: req/s",
            (true, false) => "miss: CPU",
            (false, false) => "miss: both",
        },
        _ => "-",
    }
}

/// The overhead ratio: the CPU per request each server spends above the
/// floor, spindle's over redis's. Where the kernel's share is most of the
/// cost (`-P 1`), this says how the servers' own work compares, which the
/// plain ratio hides.
pub fn overhead_ratio(spindle: Option<f64>, redis: Option<f64>, floor: Option<f64>) -> Option<f64> {
    let (s, r, f) = (spindle?, redis?, floor?);
    ratio(Some((s - f).max(0.0)), Some(r - f))
}

/// The room the CPU target leaves for a server's own work: how many µs per
/// request spindle may spend above the floor and still meet it, `0.9 r -
/// f` for redis's CPU per request `r` and the floor's `f` (negative when
/// even the floor misses the target).
pub fn cpu_room(redis: Option<f64>, floor: Option<f64>) -> Option<f64> {
    Some(CPU_TARGET * redis? - floor?)
}

/// The throughput table: one line per (load, test). With floor samples it
/// has three more columns: the floor's CPU per request, the overhead
/// ratio ([`overhead_ratio`]), and the room the target leaves above the
/// floor ([`cpu_room`]).
pub fn load_table(results: &Results, loads: &[Load], tests: &[String]) -> Vec<Vec<String>> {
    let with_floor = results.samples.iter().any(|s| s.kind == Kind::Floor);
    let mut rows = vec![[
        "test",
        "-P",
        "clients",
        "req/s spindle",
        "req/s redis",
        "ratio",
        "CPU µs/req spindle",
        "CPU µs/req redis",
        "ratio",
        "target",
    ]
    .map(str::to_owned)
    .to_vec()];
    if with_floor {
        rows[0].extend(["CPU µs/req floor", "overhead ratio", "room µs/req"].map(str::to_owned));
    }
    for &load in loads {
        for test in tests {
            let (s_rps, s_cpu) = cell(&results.samples, load, test, Kind::Spindle);
            let (r_rps, r_cpu) = cell(&results.samples, load, test, Kind::Redis);
            let unsupported = |kind| results.unsupported.contains_key(&(load, test.clone(), kind));
            let shown = |v: Option<f64>, d: usize, kind| {
                if v.is_none() && unsupported(kind) {
                    "unsupported".to_owned()
                } else {
                    fmt(v, d)
                }
            };
            let (rps_ratio, cpu_ratio) = (ratio(s_rps, r_rps), ratio(s_cpu, r_cpu));
            let mut row = vec![
                test.to_ascii_uppercase(),
                load.pipeline.to_string(),
                load.clients.to_string(),
                shown(s_rps, 0, Kind::Spindle),
                shown(r_rps, 0, Kind::Redis),
                fmt_ratio(rps_ratio),
                shown(s_cpu, 3, Kind::Spindle),
                shown(r_cpu, 3, Kind::Redis),
                fmt_ratio(cpu_ratio),
                verdict(rps_ratio, cpu_ratio).to_owned(),
            ];
            if with_floor {
                let (_, f_cpu) = cell(&results.samples, load, test, Kind::Floor);
                row.push(fmt(f_cpu, 3));
                row.push(fmt_ratio(overhead_ratio(s_cpu, r_cpu, f_cpu)));
                row.push(fmt(cpu_room(r_cpu, f_cpu), 3));
            }
            rows.push(row);
        }
    }
    rows
}

/// Picks one figure out of a memory sample.
type MemFigure<'a> = &'a dyn Fn(&MemSample) -> Option<f64>;

/// The memory table.
pub fn memory_table(memory: &[MemSample]) -> Vec<Vec<String>> {
    let med = |kind: Kind, f: MemFigure| {
        median(&memory.iter().filter(|m| m.kind == kind).filter_map(f).collect::<Vec<_>>())
    };
    let mib = |v: Option<u64>| v.map(|b| b as f64 / (1024.0 * 1024.0));
    // (name, figure, decimals, whether the memory target applies)
    let lines: [(&str, MemFigure, usize, bool); 5] = [
        ("VmRSS after loading (MiB)", &|m| mib(m.rss_loaded), 1, true),
        ("INFO used_memory_rss after loading (MiB)", &|m| mib(m.used_memory_rss), 1, true),
        ("INFO used_memory after loading (MiB)", &|m| mib(m.used_memory), 1, false),
        ("VmRSS growth over the load (MiB)", &|m| mib(m.rss_growth), 1, false),
        ("VmRSS per idle client (bytes)", &|m| m.per_client, 0, true),
    ];
    let mut rows = vec![["memory", "spindle", "redis", "ratio", "target"].map(str::to_owned).to_vec()];
    for (name, f, decimals, targeted) in lines {
        let (s, r) = (med(Kind::Spindle, f), med(Kind::Redis, f));
        let q = ratio(s, r);
        let target = match q {
            Some(q) if targeted => if q <= MEMORY_TARGET { "ok" } else { "miss" }.to_owned(),
            _ => "-".to_owned(),
        };
        rows.push(vec![name.to_owned(), fmt(s, decimals), fmt(r, decimals), fmt_ratio(q), target]);
    }
    rows
}

/// The whole summary: both tables, then a list of remarks: the
/// unsupported lines with the server's error, memory notes, the run's
/// notes, and warnings about noisy or too short runs.
pub fn render_all(
    results: &Results,
    loads: &[Load],
    tests: &[String],
    notes: &[String],
    markdown: bool,
) -> String {
    let mut out = String::new();
    let table = |out: &mut String, title: String, rows: Vec<Vec<String>>| {
        if markdown {
            let _ = writeln!(out, "\n{title}\n");
        } else {
            let _ = writeln!(out, "{}{title}", if out.is_empty() { "" } else { "\n" });
        }
        *out += &render(&rows, markdown);
    };
    if !results.samples.is_empty() || !results.unsupported.is_empty() {
        let mut title = format!(
            "median over rounds; ratios spindle/redis (targets: req/s >= {RPS_TARGET:.1}x, \
             CPU/req <= {CPU_TARGET:.1}x)"
        );
        if results.samples.iter().any(|s| s.kind == Kind::Floor) {
            title += &format!(
                "; floor = bare epoll loop answering +OK; overhead ratio = (spindle - floor) / \
                 (redis - floor); room = {CPU_TARGET:.1} x redis - floor"
            );
        }
        title += ":";
        table(&mut out, title, load_table(results, loads, tests));
    }
    if !results.memory.is_empty() {
        let title = format!("memory, median over rounds (target: <= {MEMORY_TARGET:.1}x):");
        table(&mut out, title, memory_table(&results.memory));
    }

    let mut remarks = Vec::new();
    // One remark per server and test, naming every load it failed under.
    let mut unsupported: BTreeMap<(Kind, usize), (Vec<String>, &str)> = BTreeMap::new();
    for ((load, test, kind), error) in &results.unsupported {
        let index = tests.iter().position(|t| t == test).unwrap_or(usize::MAX);
        let entry = unsupported.entry((*kind, index)).or_insert_with(|| (Vec::new(), error));
        entry.0.push(format!("{}x{}", load.clients, load.pipeline));
    }
    for ((kind, index), (mut shapes, error)) in unsupported {
        shapes.sort_by_key(|shape| {
            loads.iter().position(|l| format!("{}x{}", l.clients, l.pipeline) == *shape)
        });
        let test = tests.get(index).map_or("?", String::as_str).to_ascii_uppercase();
        remarks.push(format!(
            "unsupported: {} answers {test} ({}) with: {error}",
            kind.name(),
            shapes.join(", ")
        ));
    }
    let mut mem_notes: Vec<String> = results
        .memory
        .iter()
        .flat_map(|m| m.notes.iter().map(move |n| format!("note: {}: {n}", m.kind.name())))
        .collect();
    mem_notes.sort();
    mem_notes.dedup();
    remarks.extend(mem_notes);
    remarks.extend(notes.iter().map(|n| format!("note: {n}")));
    let samples = &results.samples;
    remarks.extend(noisy_warning(samples.iter().map(|s| (s.other_cpu_s, s.window_s))));
    remarks.extend(few_ticks_warning(samples.iter().map(|s| s.server_cpu_s), "use more --requests"));
    out += &render_remarks(&remarks, markdown);
    out
}

/// A Markdown section heading for the run, with its header lines (date,
/// machine, versions, settings) in a text block.
pub fn markdown_header(date: &str, header: &str) -> String {
    crate::report::markdown_header("spindle kv vs redis-server", date, header)
}
