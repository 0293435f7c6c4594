//! INFO: the server's state in Redis's sections and field names.
//!
//! `used_memory` is the allocator's count of live bytes (see
//! [`crate::alloc`], as Redis's zmalloc counts them); `used_memory_rss` is
//! the process's resident set size; both come from one
//! [`super::memory::MemorySample`], which MEMORY STATS reads too.

use super::Ctx;
use crate::server::Server;
use std::fmt::Write as _;

/// The Redis version this server reports (HELLO, INFO): the release whose
/// behaviour it follows.
pub const REDIS_VERSION: &str = "7.0.15";

/// Samples of the command counter, for `instantaneous_ops_per_sec`.
#[derive(Debug, Default, Clone)]
pub struct OpsSampler {
    last_ms: i64,
    last_commands: u64,
    samples: [u64; 16],
    next: usize,
}

impl OpsSampler {
    /// Records the command count at `now_ms` (called from the cron; one
    /// sample per 100 ms at most, as Redis's `trackInstantaneousMetric`).
    pub fn sample(&mut self, now_ms: i64, commands: u64) {
        if self.last_ms == 0 {
            self.last_ms = now_ms;
            self.last_commands = commands;
            return;
        }
        let dt = now_ms - self.last_ms;
        if dt < 100 {
            return;
        }
        let ops = commands.saturating_sub(self.last_commands) * 1000 / dt as u64;
        self.samples[self.next] = ops;
        self.next = (self.next + 1) % self.samples.len();
        self.last_ms = now_ms;
        self.last_commands = commands;
    }

    /// The average over the recent samples.
    pub fn per_sec(&self) -> u64 {
        self.samples.iter().sum::<u64>() / self.samples.len() as u64
    }
}

/// CPU time used (system, user) by this process and by its children, in
/// seconds.
fn cpu_times() -> ((f64, f64), (f64, f64)) {
    fn get(who: libc::c_int) -> (f64, f64) {
        // SAFETY: `rusage` is plain data for which all-zero is valid, and
        // getrusage only writes into the struct we pass it.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: a valid `who` and a valid pointer to an owned rusage.
        if unsafe { libc::getrusage(who, &mut ru) } != 0 {
            return (0.0, 0.0);
        }
        let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        (secs(ru.ru_stime), secs(ru.ru_utime))
    }
    (get(libc::RUSAGE_SELF), get(libc::RUSAGE_CHILDREN))
}

/// Bytes in Redis's human form (`1.50M`).
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

fn section(srv: &Server, name: &str, out: &mut String) {
    macro_rules! f {
        ($($arg:tt)*) => {{
            let _ = write!(out, $($arg)*);
            out.push_str("\r\n");
        }};
    }
    let now = srv.now_ms;
    let uptime = ((now - srv.started_ms) / 1000).max(0);
    match name {
        "server" => {
            f!("# Server");
            f!("redis_version:{REDIS_VERSION}");
            f!("redis_git_sha1:00000000");
            f!("redis_git_dirty:0");
            f!("redis_build_id:0");
            f!("redis_mode:standalone");
            f!("os:{} {}", std::env::consts::OS, std::env::consts::ARCH);
            f!("arch_bits:{}", usize::BITS);
            f!("monotonic_clock:POSIX clock_gettime");
            f!("multiplexing_api:epoll");
            f!("atomicvar_api:c11-builtin");
            f!("gcc_version:0.0.0");
            f!("process_id:{}", std::process::id());
            f!("process_supervised:no");
            f!("run_id:{:040x}", srv.started_ms as u128 * 0x9e37_79b9_7f4a_7c15);
            f!("tcp_port:{}", srv.config.port);
            f!("server_time_usec:{}", now * 1000);
            f!("uptime_in_seconds:{uptime}");
            f!("uptime_in_days:{}", uptime / 86400);
            f!("hz:{}", srv.config.hz);
            f!("configured_hz:{}", srv.config.hz);
            f!("lru_clock:{}", srv.lru_clock);
            let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default();
            f!("executable:{exe}");
            let cf = srv.config.config_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
            f!("config_file:{cf}");
            f!("io_threads_active:0");
        }
        "clients" => {
            f!("# Clients");
            f!("connected_clients:{}", srv.client_count());
            f!("cluster_connections:0");
            f!("maxclients:{}", srv.config.maxclients);
            f!("client_recent_max_input_buffer:{}", srv.clients_peak.recent_max_input());
            f!("client_recent_max_output_buffer:{}", srv.clients_peak.recent_max_output());
            f!("blocked_clients:{}", srv.blocked_clients + srv.postponed.len());
            f!("tracking_clients:0");
            f!("clients_in_timeout_table:0");
        }
        "memory" => {
            let m = super::memory::MemorySample::take(srv);
            let (used, rss, peak) = (m.used as u64, m.rss as u64, m.peak as u64);
            f!("# Memory");
            f!("used_memory:{used}");
            f!("used_memory_human:{}", human_bytes(used));
            f!("used_memory_rss:{rss}");
            f!("used_memory_rss_human:{}", human_bytes(rss));
            f!("used_memory_peak:{peak}");
            f!("used_memory_peak_human:{}", human_bytes(peak));
            f!("used_memory_lua:0");
            f!("used_memory_scripts:0");
            f!("maxmemory:{}", srv.config.maxmemory);
            f!("maxmemory_human:{}", human_bytes(srv.config.maxmemory));
            let policy =
                (crate::server::config_table::find("maxmemory-policy").expect("option").get)(&srv.config);
            f!("maxmemory_policy:{policy}");
            f!("mem_fragmentation_ratio:{:.2}", m.fragmentation());
            f!("mem_allocator:{}", crate::alloc::allocator_name());
            f!("lazyfree_pending_objects:{}", srv.lazyfree.pending());
            f!("lazyfreed_objects:{}", srv.lazyfree.freed());
        }
        "persistence" => {
            f!("# Persistence");
            f!("loading:{}", srv.persist.loading as u8);
            f!("async_loading:0");
            f!("rdb_changes_since_last_save:{}", srv.dirty);
            f!("rdb_bgsave_in_progress:{}", srv.rdb_bgsave_in_progress as u8);
            f!("rdb_last_save_time:{}", srv.rdb_last_save_time);
            f!("rdb_last_bgsave_status:{}", srv.rdb_last_bgsave_status);
            f!("aof_enabled:{}", srv.aof_enabled as u8);
            f!("aof_rewrite_in_progress:{}", srv.aof_rewrite_in_progress as u8);
            f!("aof_last_bgrewrite_status:ok");
            f!("aof_last_write_status:ok");
        }
        "stats" => {
            let s = &srv.stats;
            f!("# Stats");
            f!("total_connections_received:{}", s.connections);
            f!("total_commands_processed:{}", s.commands);
            f!("instantaneous_ops_per_sec:{}", srv.ops.per_sec());
            f!("total_net_input_bytes:{}", s.net_input);
            f!("total_net_output_bytes:{}", s.net_output);
            f!("rejected_connections:{}", s.rejected);
            f!("expired_keys:{}", s.expired_keys);
            f!("evicted_keys:{}", s.evicted_keys);
            f!("evicted_clients:{}", s.evicted_clients);
            f!("keyspace_hits:{}", s.keyspace_hits);
            f!("keyspace_misses:{}", s.keyspace_misses);
            f!("pubsub_channels:{}", srv.pubsub.channel_count());
            f!("pubsub_patterns:{}", srv.pubsub.pattern_count());
            f!("pubsubshard_channels:{}", srv.pubsub.shard_count());
            f!("total_forks:{}", srv.total_forks);
            // MIGRATE is not implemented, so it caches no connection.
            f!("migrate_cached_sockets:0");
            f!("unexpected_error_replies:0");
            f!("total_error_replies:{}", s.cmd.total_error_replies);
        }
        "replication" => {
            f!("# Replication");
            f!("role:master");
            f!("connected_slaves:0");
            f!("master_failover_state:no-failover");
            f!("master_replid:{:040x}", 0);
            f!("master_repl_offset:0");
            f!("repl_backlog_active:0");
        }
        "cpu" => {
            let ((sys, user), (csys, cuser)) = cpu_times();
            f!("# CPU");
            f!("used_cpu_sys:{sys:.6}");
            f!("used_cpu_user:{user:.6}");
            f!("used_cpu_sys_children:{csys:.6}");
            f!("used_cpu_user_children:{cuser:.6}");
        }
        "modules" => f!("# Modules"),
        "commandstats" => {
            f!("# Commandstats");
            for line in srv.stats.cmd.command_lines() {
                f!("{line}");
            }
        }
        "errorstats" => {
            f!("# Errorstats");
            for line in srv.stats.cmd.error_lines() {
                f!("{line}");
            }
        }
        "latencystats" => {
            f!("# Latencystats");
            if srv.config.latency_tracking {
                for line in srv.stats.cmd.latency_lines(&srv.config.latency_tracking_info_percentiles) {
                    f!("{line}");
                }
            }
        }
        "cluster" => {
            f!("# Cluster");
            f!("cluster_enabled:0");
        }
        "keyspace" => {
            f!("# Keyspace");
            for db in srv.dbs.iter().filter(|d| !d.is_empty()) {
                f!("db{}:keys={},expires={},avg_ttl=0", db.id, db.len(), db.volatile.len());
            }
        }
        _ => {}
    }
}

/// The INFO text for `args` (section names; none means `default`).
pub fn info_text(srv: &Server, args: &[Vec<u8>]) -> String {
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
            section(srv, name, &mut out);
        }
    }
    out
}

/// INFO [section ...].
pub fn info(ctx: &mut Ctx<'_>) {
    let args: Vec<Vec<u8>> = ctx.args.iter().skip(1).map(<[u8]>::to_vec).collect();
    let text = info_text(ctx.srv, &args);
    ctx.reply().verbatim(text.as_bytes());
}
