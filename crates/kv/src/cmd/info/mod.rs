//! INFO: the server's state in Redis's sections and field names.
//!
//! Every section prints the fields redis-server 7.0.15 prints, in its
//! order (server.c `genRedisInfoString`). A field for something this
//! server does is measured; a field for a feature it does not have
//! (active defrag, client tracking, modules, scripting) prints what Redis
//! prints while that feature is idle. Each section
//! lives in its own file:
//!
//! - `server`: the server, clients and CPU sections.
//! - `memory`: the memory section, from one
//!   [`super::memory::MemorySample`] and [`super::memory::Overhead`],
//!   which MEMORY STATS reads too.
//! - `persistence`: RDB and AOF state and the persistence children.
//! - `stats`: the stats and replication sections.

mod memory;
mod persistence;
mod server;
mod stats;

use super::Ctx;
use crate::server::client::Client;
use crate::server::Server;

/// The Redis version this server reports (HELLO, INFO): the release whose
/// behaviour it follows.
pub const REDIS_VERSION: &str = "7.0.15";

/// Writes one `name:value` line: `field!(out, "name:{}", value)`.
macro_rules! field {
    ($out:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = write!($out, $($arg)*);
        $out.push_str("\r\n");
    }};
}
pub(crate) use field;

/// Bytes in Redis's human form (`1.50M`), as its `bytesToHuman`.
pub fn human_bytes(n: u64) -> String {
    let n = n as f64;
    let units = [(1u64 << 50, 'P'), (1 << 40, 'T'), (1 << 30, 'G'), (1 << 20, 'M'), (1 << 10, 'K')];
    for (size, u) in units {
        if n >= size as f64 {
            return format!("{:.2}{}", n / size as f64, u);
        }
    }
    format!("{}B", n as u64)
}

/// Every section, in INFO's order; the flag says whether it is in the
/// default set.
const SECTIONS: &[(&str, bool)] = &[
    ("server", true),
    ("clients", true),
    ("memory", true),
    ("persistence", true),
    ("stats", true),
    ("replication", true),
    ("cpu", true),
    ("modules", true),
    ("commandstats", false),
    ("errorstats", true),
    ("latencystats", false),
    ("cluster", true),
    ("keyspace", true),
];

/// Appends section `name`; `me` is the client running INFO (out of the
/// client slab while its command runs, so counted apart).
fn section(srv: &Server, me: &Client, name: &str, out: &mut String) {
    match name {
        "server" => server::server(srv, out),
        "clients" => server::clients(srv, out),
        "memory" => memory::memory(srv, me, out),
        "persistence" => persistence::persistence(srv, out),
        "stats" => stats::stats(srv, out),
        "replication" => stats::replication(srv, out),
        "cpu" => server::cpu(out),
        "modules" => field!(out, "# Modules"),
        "commandstats" => {
            field!(out, "# Commandstats");
            for line in srv.stats.cmd.command_lines() {
                field!(out, "{line}");
            }
        }
        "errorstats" => {
            field!(out, "# Errorstats");
            for line in srv.stats.cmd.error_lines() {
                field!(out, "{line}");
            }
        }
        "latencystats" => {
            field!(out, "# Latencystats");
            if srv.config.latency_tracking {
                for line in srv.stats.cmd.latency_lines(&srv.config.latency_tracking_info_percentiles) {
                    field!(out, "{line}");
                }
            }
        }
        "cluster" => {
            field!(out, "# Cluster");
            field!(out, "cluster_enabled:0");
        }
        "keyspace" => {
            field!(out, "# Keyspace");
            for db in srv.dbs.iter().filter(|d| !d.is_empty()) {
                field!(
                    out,
                    "db{}:keys={},expires={},avg_ttl={}",
                    db.id,
                    db.len(),
                    db.volatile.len(),
                    db.avg_ttl
                );
            }
        }
        _ => {}
    }
}

/// The INFO text for `args` (section names; none means `default`), as
/// client `me` asks for it.
pub fn info_text(srv: &Server, me: &Client, args: &[Vec<u8>]) -> String {
    let mut wanted: Vec<&str> = Vec::new();
    let mut add = |s: &'static str| {
        if !wanted.contains(&s) {
            wanted.push(s);
        }
    };
    if args.is_empty() {
        SECTIONS.iter().filter(|s| s.1).for_each(|s| add(s.0));
    }
    for a in args {
        let a = String::from_utf8_lossy(a).to_ascii_lowercase();
        match a.as_str() {
            "default" => SECTIONS.iter().filter(|s| s.1).for_each(|s| add(s.0)),
            "all" | "everything" => SECTIONS.iter().for_each(|s| add(s.0)),
            other => {
                if let Some(s) = SECTIONS.iter().find(|s| s.0 == other) {
                    add(s.0);
                }
            }
        }
    }
    let mut out = String::new();
    for (name, _) in SECTIONS {
        if wanted.contains(name) {
            if !out.is_empty() {
                out.push_str("\r\n");
            }
            section(srv, me, name, &mut out);
        }
    }
    out
}

/// INFO [section ...].
pub fn info(ctx: &mut Ctx<'_>) {
    let args: Vec<Vec<u8>> = ctx.args.iter().skip(1).map(<[u8]>::to_vec).collect();
    let text = info_text(ctx.srv, ctx.c, &args);
    ctx.reply().verbatim(text.as_bytes());
}
