//! INFO's fields: every section lists the fields a live redis-server 7.0
//! lists, in its order (CI installs redis-server), and the fields this
//! server measures move when what they count happens: forks and saves,
//! socket reads and writes, the instantaneous rates, the expire cycle,
//! time over maxmemory, the allocator's figures, the event loop's CPU.

mod common;

use common::redis_server::RedisServer;
use common::{q, wait_until};

/// The sections INFO prints by default, each compared on its own.
const SECTIONS: [&str; 11] = [
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];

fn info(c: &mut redis::Connection, section: &str) -> String {
    redis::cmd("INFO").arg(section).query(c).unwrap_or_else(|e| panic!("INFO {section}: {e}"))
}

/// Each line's name: a section header whole, a field up to its colon.
/// Per-command lines (commandstats, errorstats, latencystats) are left
/// out: which commands ran differs between the two servers.
fn names(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.is_empty())
        .filter(|l| !["cmdstat_", "errorstat_", "latency_percentiles_usec_"].iter().any(|p| l.starts_with(p)))
        .map(|l| l.split(':').next().unwrap_or(l).to_string())
        .collect()
}

/// One field of INFO `section`, parsed.
fn field<T: std::str::FromStr>(c: &mut redis::Connection, section: &str, name: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    let text = info(c, section);
    let prefix = format!("{name}:");
    let value = text
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {name} in INFO {section}:\n{text}"));
    value.trim_end_matches('%').parse().unwrap_or_else(|e| panic!("{name}:{value}: {e:?}"))
}

/// Gives both servers the same keyspace (a key in db 0, one with a TTL),
/// then asserts they list the same names for every section, for the
/// default set, and for `everything`.
fn same_names(ours: &mut redis::Connection, theirs: &mut redis::Connection) {
    for c in [&mut *ours, &mut *theirs] {
        let _: () = q(c, &["SET", "k", "v"]);
        let _: () = q(c, &["SET", "t", "v", "EX", "100"]);
    }
    for s in SECTIONS.iter().chain(&["default", "everything"]) {
        let want = names(&info(theirs, s));
        assert!(want.len() > 1 || *s == "modules" || *s == "errorstats", "redis-server's INFO {s}: {want:?}");
        assert_eq!(names(&info(ours, s)), want, "INFO {s}");
    }
}

#[test]
fn every_section_lists_redis_fields_in_redis_order() {
    let redis = RedisServer::start(&[]);
    let srv = common::start();
    let (mut ours, mut theirs) = (common::conn(&srv), redis.conn());
    same_names(&mut ours, &mut theirs);
}

#[test]
fn aof_fields_follow_when_appendonly_is_on() {
    let redis = RedisServer::start(&["--appendonly", "yes"]);
    let srv = common::start_with(|c| c.appendonly = true);
    let (mut ours, mut theirs) = (common::conn(&srv), redis.conn());
    let persistence = names(&info(&mut theirs, "persistence"));
    assert!(persistence.iter().any(|n| n == "aof_delayed_fsync"), "{persistence:?}");
    same_names(&mut ours, &mut theirs);
}

#[test]
fn bgsave_and_save_count_forks_saves_and_copy_on_write() {
    let srv = common::start();
    let mut c = common::conn(&srv);
    for i in 0..100 {
        let pairs: Vec<String> = (0..100).flat_map(|j| [format!("k{i}:{j}"), "v".repeat(100)]).collect();
        let _: () = redis::cmd("MSET").arg(&pairs).query(&mut c).expect("MSET");
    }
    assert_eq!(field::<u64>(&mut c, "persistence", "rdb_saves"), 0);
    assert_eq!(field::<i64>(&mut c, "persistence", "rdb_last_bgsave_time_sec"), -1);
    assert_eq!(field::<u64>(&mut c, "stats", "latest_fork_usec"), 0);

    let _: String = q(&mut c, &["BGSAVE"]);
    let text = info(&mut c, "persistence");
    if text.contains("rdb_bgsave_in_progress:1") {
        // Until it is reaped, the child's keys are the keyspace's.
        assert!(text.contains("current_save_keys_total:10000\r\n"), "{text}");
    }
    assert_eq!(field::<u64>(&mut c, "persistence", "rdb_saves"), 1);
    assert_eq!(field::<u64>(&mut c, "stats", "total_forks"), 1);
    assert!(field::<u64>(&mut c, "stats", "latest_fork_usec") > 0);
    wait_until("the BGSAVE child to be reaped", || {
        field::<u8>(&mut c, "persistence", "rdb_bgsave_in_progress") == 0
    });
    assert_eq!(field::<String>(&mut c, "persistence", "rdb_last_bgsave_status"), "ok");
    assert!(field::<i64>(&mut c, "persistence", "rdb_last_bgsave_time_sec") >= 0);
    assert_eq!(field::<i64>(&mut c, "persistence", "rdb_current_bgsave_time_sec"), -1);
    // The child wrote buffers and its stack: pages it had to copy.
    assert!(field::<u64>(&mut c, "persistence", "rdb_last_cow_size") > 0);
    // No child runs: nothing current.
    for name in
        ["current_cow_peak", "current_cow_size", "current_save_keys_processed", "current_save_keys_total"]
    {
        assert_eq!(field::<u64>(&mut c, "persistence", name), 0, "{name}");
    }

    let _: () = q(&mut c, &["SAVE"]);
    assert_eq!(field::<u64>(&mut c, "persistence", "rdb_saves"), 2);
    assert_eq!(field::<u64>(&mut c, "stats", "total_forks"), 1, "SAVE does not fork");

    // CONFIG RESETSTAT resets them, as Redis's resetServerStats.
    let _: () = q(&mut c, &["CONFIG", "RESETSTAT"]);
    assert_eq!(field::<u64>(&mut c, "persistence", "rdb_saves"), 0);
    assert_eq!(field::<u64>(&mut c, "stats", "total_forks"), 0);
    assert_eq!(field::<u64>(&mut c, "stats", "latest_fork_usec"), 0);
}

#[test]
fn bgrewriteaof_counts_the_rewrite_and_its_copy_on_write() {
    let srv = common::start_with(|c| c.appendonly = true);
    let mut c = common::conn(&srv);
    let _: () = q(&mut c, &["SET", "k", "v"]);
    assert_eq!(field::<u64>(&mut c, "persistence", "aof_rewrites"), 0);
    assert_eq!(field::<i64>(&mut c, "persistence", "aof_last_rewrite_time_sec"), -1);
    let _: String = q(&mut c, &["BGREWRITEAOF"]);
    assert_eq!(field::<u64>(&mut c, "persistence", "aof_rewrites"), 1);
    assert_eq!(field::<u64>(&mut c, "stats", "total_forks"), 1);
    wait_until("the rewrite child to be reaped", || {
        field::<u8>(&mut c, "persistence", "aof_rewrite_in_progress") == 0
    });
    assert_eq!(field::<String>(&mut c, "persistence", "aof_last_bgrewrite_status"), "ok");
    assert_eq!(field::<u64>(&mut c, "persistence", "aof_rewrites_consecutive_failures"), 0);
    assert!(field::<i64>(&mut c, "persistence", "aof_last_rewrite_time_sec") >= 0);
    assert!(field::<u64>(&mut c, "persistence", "aof_last_cow_size") > 0);
    assert_eq!(field::<u64>(&mut c, "persistence", "rdb_last_cow_size"), 0);
}

#[test]
fn reads_writes_and_rates_follow_the_traffic() {
    let srv = common::start();
    let mut c = common::conn(&srv);
    let reads: u64 = field(&mut c, "stats", "total_reads_processed");
    let writes: u64 = field(&mut c, "stats", "total_writes_processed");
    for _ in 0..10 {
        let _: String = q(&mut c, &["PING"]);
    }
    // Ten PINGs and this INFO: a read and a reply each at least.
    assert!(field::<u64>(&mut c, "stats", "total_reads_processed") >= reads + 11);
    assert!(field::<u64>(&mut c, "stats", "total_writes_processed") >= writes + 10);
    assert_eq!(field::<u64>(&mut c, "stats", "io_threaded_reads_processed"), 0);

    // The cron samples the byte counters as it samples the command count.
    wait_until("instantaneous kbps above 0", || {
        field::<f64>(&mut c, "stats", "instantaneous_input_kbps") > 0.0
            && field::<f64>(&mut c, "stats", "instantaneous_output_kbps") > 0.0
    });

    // The event loop's own CPU time is part of the process's.
    wait_until("the event loop's CPU time", || {
        let main: f64 = field(&mut c, "cpu", "used_cpu_user_main_thread");
        let sys: f64 = field(&mut c, "cpu", "used_cpu_sys_main_thread");
        main + sys > 0.0
    });
    let main: f64 = field(&mut c, "cpu", "used_cpu_user_main_thread");
    assert!(main <= field::<f64>(&mut c, "cpu", "used_cpu_user"));
}

#[test]
fn io_threads_count_their_reads_and_writes() {
    let srv = common::start_with(|c| c.io_threads = 2);
    let mut c = common::conn(&srv);
    for _ in 0..10 {
        let _: String = q(&mut c, &["PING"]);
    }
    assert!(field::<u64>(&mut c, "stats", "io_threaded_reads_processed") >= 10);
    assert!(field::<u64>(&mut c, "stats", "total_reads_processed") >= 10);
}

#[test]
fn the_expire_cycle_reports_the_share_it_finds_expired() {
    let srv = common::start();
    let mut c = common::conn(&srv);
    assert_eq!(field::<f64>(&mut c, "stats", "expired_stale_perc"), 0.0);
    for i in 0..200 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), "v", "PX", "1"]);
    }
    // Every key the cycle samples has expired: the moving average rises.
    wait_until("expired_stale_perc above 0", || field::<f64>(&mut c, "stats", "expired_stale_perc") > 0.0);
    assert!(field::<u64>(&mut c, "stats", "expired_keys") > 0);
}

#[test]
fn time_over_maxmemory_is_counted_until_memory_is_under() {
    let srv = common::start();
    let mut c = common::conn(&srv);
    let _: () = q(&mut c, &["SET", "big", &"x".repeat(1 << 20)]);
    assert_eq!(field::<u64>(&mut c, "stats", "total_eviction_exceeded_time"), 0);
    // noeviction: nothing can be evicted, so memory stays over.
    let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory", "1mb"]);
    let refused = redis::cmd("SET").arg("more").arg("x").query::<()>(&mut c);
    assert!(refused.is_err_and(|e| e.to_string().contains("OOM")));
    wait_until("current_eviction_exceeded_time above 0", || {
        field::<u64>(&mut c, "stats", "current_eviction_exceeded_time") > 0
    });
    let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory", "0"]);
    assert_eq!(field::<u64>(&mut c, "stats", "current_eviction_exceeded_time"), 0);
    assert!(field::<u64>(&mut c, "stats", "total_eviction_exceeded_time") > 0);
}

#[test]
fn allocator_figures_are_jemallocs_and_grow_with_the_data() {
    let srv = common::start();
    let mut c = common::conn(&srv);
    let before: u64 = field(&mut c, "memory", "allocator_allocated");
    let _: () = q(&mut c, &["SET", "big", &"x".repeat(10 << 20)]);
    let after: u64 = field(&mut c, "memory", "allocator_allocated");
    // Other tests in this process allocate and free meanwhile: a margin.
    assert!(after >= before + (8 << 20), "{before} -> {after}");
    let active: u64 = field(&mut c, "memory", "allocator_active");
    let resident: u64 = field(&mut c, "memory", "allocator_resident");
    assert!(active > 0 && resident >= active, "active {active}, resident {resident}");
    // jemalloc's own figure, not the RSS standing in for it (as Redis does
    // for an allocator without statistics): the two are read together, so
    // only a stand-in would equal the RSS to the byte.
    let text = info(&mut c, "memory");
    let get = |name: &str| text.lines().find_map(|l| l.strip_prefix(&format!("{name}:"))).map(str::to_owned);
    assert_ne!(get("allocator_resident"), get("used_memory_rss"), "{text}");
    assert!(field::<u64>(&mut c, "memory", "total_system_memory") > 0);
    assert!(field::<u64>(&mut c, "memory", "mem_clients_normal") > 0);
}

#[test]
fn run_id_and_replid_are_random_per_start() {
    let field = |srv: &spindle_kv::server::ServerThread, name: &str| {
        let info: String = redis::cmd("INFO").arg("everything").query(&mut common::conn(srv)).unwrap();
        info.lines().find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_string)).unwrap()
    };
    let (a, b) = (common::start(), common::start());
    for name in ["run_id", "master_replid"] {
        let (x, y) = (field(&a, name), field(&b, name));
        assert!(x.len() == 40 && x.bytes().all(|c| c.is_ascii_hexdigit()), "{name}: {x}");
        assert_ne!(x, y, "{name} differs between two servers");
        assert_ne!(x, "0".repeat(40));
    }
    assert_ne!(field(&a, "run_id"), field(&a, "master_replid"));
}

/// `total_commands_processed` counts a command once it has run, as Redis
/// 7.0's `call` does: the INFO reporting it is not in it yet. On a fresh
/// redis-server 7.0, a first connection (no handshake) reads 0, then 2
/// after a SET and that INFO.
#[test]
fn total_commands_processed_does_not_count_the_info_itself() {
    let srv = common::start();
    let mut raw = common::Raw::connect(&srv);
    let mut total = || {
        raw.send(b"INFO stats\r\n");
        let mut text = Vec::new();
        while !text.ends_with(b"\r\n\r\n") {
            text.extend(raw.read_exact_len(1));
        }
        let text = String::from_utf8(text).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("total_commands_processed:"))
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    assert_eq!(total(), 0);
    assert_eq!(total(), 1);
}
