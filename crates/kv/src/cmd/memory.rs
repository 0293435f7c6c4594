//! MEMORY (USAGE, STATS, DOCTOR, ...), and the one reading of the
//! server's memory that both MEMORY STATS and INFO memory report.
//!
//! MEMORY STATS follows Redis 7.0's `getMemoryOverheadData` and
//! `memoryCommand` (object.c): the same fields in the same order, each
//! part of the overhead what this server has of it (0 for what it lacks:
//! cluster links, Lua, functions), and the dataset what is
//! left of `used_memory` after the overhead.

use super::server::{help, unknown_subcommand};
use super::Ctx;
use crate::resp::reply::Reply;
use crate::server::Server;

/// One reading of the process's memory: Redis's `cron_malloc_stats`, read
/// when asked rather than in the cron.
///
/// The allocator's figures are jemalloc's own (`stats.allocated`,
/// `stats.active`, `stats.resident`, see [`crate::alloc::allocator_info`]).
/// Without jemalloc they are filled in as Redis fills them for an
/// allocator without statistics (`cronUpdateMemoryStats`): resident is the
/// RSS (there is no Lua heap to take off), active is resident, and
/// allocated is `used_memory`.
#[derive(Debug, Clone, Copy)]
pub struct MemorySample {
    /// Live bytes allocated (`used_memory`, `total.allocated`).
    pub used: usize,
    /// The resident set size (`used_memory_rss`).
    pub rss: usize,
    /// The most `used` has been (`used_memory_peak`, `peak.allocated`).
    pub peak: usize,
    /// The allocator's figures (`allocator_allocated`, `_active`,
    /// `_resident`), each replaced as Redis does when it is 0.
    pub alloc: crate::alloc::AllocatorInfo,
}

impl MemorySample {
    /// Reads the counters now.
    pub fn take(srv: &Server) -> MemorySample {
        let used = crate::alloc::used_memory();
        let rss = crate::alloc::rss_bytes();
        let mut alloc = crate::alloc::allocator_info();
        if alloc.resident == 0 {
            alloc.resident = rss;
        }
        if alloc.active == 0 {
            alloc.active = alloc.resident;
        }
        if alloc.allocated == 0 {
            alloc.allocated = used;
        }
        MemorySample { used, rss, peak: srv.peak_memory.max(used), alloc }
    }

    /// `allocator_frag_ratio` (`allocator-fragmentation.ratio`): active
    /// over allocated.
    pub fn allocator_frag(&self) -> f32 {
        ratio(self.alloc.active, self.alloc.allocated)
    }

    /// `allocator_rss_ratio` (`allocator-rss.ratio`): resident over active.
    pub fn allocator_rss(&self) -> f32 {
        ratio(self.alloc.resident, self.alloc.active)
    }

    /// `rss_overhead_ratio` (`rss-overhead.ratio`): the RSS over what the
    /// allocator holds resident.
    pub fn rss_overhead(&self) -> f32 {
        ratio(self.rss, self.alloc.resident)
    }

    /// `mem_fragmentation_ratio` (MEMORY STATS `fragmentation`): RSS over
    /// `used`, a C `float` as in Redis.
    pub fn fragmentation(&self) -> f32 {
        ratio(self.rss, self.used)
    }
}

/// `a / b` as Redis's `(float)a / b` (0 when `b` is 0, where C gives inf
/// or nan).
fn ratio(a: usize, b: usize) -> f32 {
    if b == 0 {
        0.0
    } else {
        a as f32 / b as f32
    }
}

/// `a - b` as a signed count of bytes.
pub fn diff(a: usize, b: usize) -> i64 {
    a as i64 - b as i64
}

/// One database's hash table overhead (the `db.N` entries of MEMORY STATS).
#[derive(Debug, Clone, Copy)]
pub struct DbOverhead {
    /// The database number.
    pub id: usize,
    /// The keys' table: its buckets and one node per key, holding the
    /// key's and the value's headers (Redis: dictEntry, bucket, robj).
    pub main: usize,
    /// The TTL table: its buckets and one node per volatile key.
    pub expires: usize,
}

/// What MEMORY STATS reports as overhead: memory that is not the dataset.
#[derive(Debug, Clone)]
pub struct Overhead {
    /// `startup.allocated`: in use when the server was ready, without
    /// the dataset loaded at start.
    pub startup: usize,
    /// `clients.normal`: the clients' buffers and fixed overhead, as
    /// CLIENT LIST's `tot-mem` counts them (replicas aside).
    pub clients_normal: usize,
    /// `clients.slaves`: the same for replicas.
    pub clients_slaves: usize,
    /// `replication.backlog`: the backlog's buffer, once a replica (or
    /// `redis-cli --replica`) made one.
    pub repl_backlog: usize,
    /// `aof.buffer`: the AOF's pending writes, when AOF is on.
    pub aof_buffer: usize,
    /// The databases holding keys, in order.
    pub dbs: Vec<DbOverhead>,
    /// Keys in all databases.
    pub keys: usize,
}

impl Overhead {
    /// Measures `srv`; `me` is the running client, out of the client slab
    /// while its command runs.
    pub fn measure(srv: &Server, me: &crate::server::client::Client) -> Overhead {
        let (replicas, normal): (Vec<_>, Vec<_>) =
            srv.clients.iter().flatten().map(|c| c.as_ref()).chain([me]).partition(|c| c.replica);
        let clients_normal = normal.iter().map(|c| super::client::client_memory(c)).sum::<usize>();
        let clients_slaves = replicas.iter().map(|c| super::client::client_memory(c)).sum::<usize>();
        let repl_backlog = srv.repl.backlog.as_ref().map_or(0, crate::persist::backlog::Backlog::memory);
        let aof_buffer = if srv.aof_enabled { srv.persist.aof.log.buf.capacity() } else { 0 };
        // A dict's header lives in its `Db`, allocated at start: only the
        // tables and nodes count, which are 0 for an empty dict as in Redis.
        let tables = |usage: usize, header: usize| usage.saturating_sub(header);
        let dbs: Vec<DbOverhead> = srv
            .dbs
            .iter()
            .filter(|db| !db.is_empty())
            .map(|db| DbOverhead {
                id: db.id,
                main: tables(db.keys.memory_usage(), std::mem::size_of_val(&db.keys)),
                expires: tables(db.volatile.memory_usage(), std::mem::size_of_val(&db.volatile)),
            })
            .collect();
        let keys = srv.dbs.iter().map(|db| db.len()).sum();
        Overhead {
            startup: srv.startup_memory,
            clients_normal,
            clients_slaves,
            repl_backlog,
            aof_buffer,
            dbs,
            keys,
        }
    }

    /// `overhead.total`: the startup memory and every part after it.
    pub fn total(&self) -> usize {
        self.startup
            + self.clients_normal
            + self.clients_slaves
            + self.repl_backlog
            + self.aof_buffer
            + self.dbs.iter().map(|d| d.main + d.expires).sum::<usize>()
    }
}

const MEMORY_HELP: &[&str] = &[
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
];

/// MEMORY `<subcommand>`.
pub fn memory(ctx: &mut Ctx<'_>) {
    let sub = ctx.arg(1).to_ascii_lowercase();
    match (sub.as_slice(), ctx.argc()) {
        (b"help", 2) => help(ctx, MEMORY_HELP),
        (b"usage", 3..) => {
            // Any number of `SAMPLES n` pairs; anything else is a syntax
            // error (memoryCommand's loop).
            let mut j = 3;
            while j < ctx.argc() {
                if !(ctx.arg(j).eq_ignore_ascii_case(b"samples") && j + 1 < ctx.argc()) {
                    return ctx.error(super::SYNTAX);
                }
                let Some(n) = ctx.int_arg(j + 1) else { return };
                if n < 0 {
                    return ctx.error(super::SYNTAX);
                }
                j += 2;
            }
            let key = ctx.arg(2);
            let now = ctx.srv.now_ms;
            match ctx.srv.dbs[ctx.c.db].peek_mut(key, now) {
                // The dict entry and the key's own allocation, as Redis counts them.
                Some(e) => {
                    let n = e.value.memory_usage() + key.len() + 1 + 24;
                    ctx.reply().int(n as i64)
                }
                None => ctx.reply().null(),
            }
        }
        (b"stats", 2) => memory_stats(ctx),
        (b"doctor", 2) => {
            // Redis's `getMemoryDoctorReport` first sets apart an
            // instance using under 5 MB; none of its other checks
            // (fragmentation, peak, buffers) is made here.
            let text = if crate::alloc::used_memory() < 5 << 20 { DOCTOR_EMPTY } else { DOCTOR_FINE };
            ctx.reply().verbatim(text)
        }
        (b"malloc-stats", 2) => match crate::alloc::malloc_stats_text() {
            Some(text) => ctx.reply().verbatim(text.as_bytes()),
            None => ctx.reply().bulk(b"Stats not supported for the current allocator"),
        },
        (b"purge", 2) => {
            if crate::alloc::purge() {
                ctx.ok()
            } else {
                ctx.error("ERR Error purging dirty pages")
            }
        }
        _ => {
            unknown_subcommand(ctx, "MEMORY", &["usage", "stats", "doctor", "malloc-stats", "purge", "help"])
        }
    }
}

/// MEMORY DOCTOR's report for an instance using under 5 MB.
const DOCTOR_EMPTY: &[u8] = b"Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n";

/// MEMORY DOCTOR's report when it finds nothing.
const DOCTOR_FINE: &[u8] =
    b"Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n";

fn int(r: &mut Reply<'_>, name: &str, v: i64) {
    r.bulk(name.as_bytes());
    r.int(v);
}

/// A ratio or percentage, computed as a C `float` as Redis does.
fn double(r: &mut Reply<'_>, name: &str, v: f32) {
    r.bulk(name.as_bytes());
    r.double(f64::from(v));
}

/// MEMORY STATS: `memoryCommand`'s 27 fields and a `db.N` map per
/// database holding keys, in its order.
fn memory_stats(ctx: &mut Ctx<'_>) {
    let m = MemorySample::take(ctx.srv);
    let o = Overhead::measure(ctx.srv, ctx.c);
    let overhead = o.total();
    let dataset = diff(m.used, overhead);
    // Figures net of the startup memory (1 byte at least, as Redis).
    let net = if m.used > o.startup { m.used - o.startup } else { 1 };
    let crate::alloc::AllocatorInfo { allocated, active, resident } = m.alloc;
    let mut r = ctx.reply();
    r.map_len(27 + o.dbs.len());
    int(&mut r, "peak.allocated", m.peak as i64);
    int(&mut r, "total.allocated", m.used as i64);
    int(&mut r, "startup.allocated", o.startup as i64);
    int(&mut r, "replication.backlog", o.repl_backlog as i64);
    int(&mut r, "clients.slaves", o.clients_slaves as i64);
    int(&mut r, "clients.normal", o.clients_normal as i64);
    int(&mut r, "cluster.links", 0);
    int(&mut r, "aof.buffer", o.aof_buffer as i64);
    int(&mut r, "lua.caches", 0);
    int(&mut r, "functions.caches", 0);
    for db in &o.dbs {
        r.bulk(format!("db.{}", db.id).as_bytes());
        r.map_len(3);
        int(&mut r, "overhead.hashtable.main", db.main as i64);
        int(&mut r, "overhead.hashtable.expires", db.expires as i64);
        int(&mut r, "overhead.hashtable.slot-to-keys", 0);
    }
    int(&mut r, "overhead.total", overhead as i64);
    int(&mut r, "keys.count", o.keys as i64);
    int(&mut r, "keys.bytes-per-key", net.checked_div(o.keys).unwrap_or(0) as i64);
    int(&mut r, "dataset.bytes", dataset);
    double(&mut r, "dataset.percentage", dataset as f32 * 100.0 / net as f32);
    double(&mut r, "peak.percentage", m.used as f32 * 100.0 / m.peak.max(1) as f32);
    int(&mut r, "allocator.allocated", allocated as i64);
    int(&mut r, "allocator.active", active as i64);
    int(&mut r, "allocator.resident", resident as i64);
    double(&mut r, "allocator-fragmentation.ratio", m.allocator_frag());
    int(&mut r, "allocator-fragmentation.bytes", diff(active, allocated));
    double(&mut r, "allocator-rss.ratio", m.allocator_rss());
    int(&mut r, "allocator-rss.bytes", diff(resident, active));
    double(&mut r, "rss-overhead.ratio", m.rss_overhead());
    int(&mut r, "rss-overhead.bytes", diff(m.rss, resident));
    double(&mut r, "fragmentation", m.fragmentation());
    int(&mut r, "fragmentation.bytes", diff(m.rss, m.used));
}
