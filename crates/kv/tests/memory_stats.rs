//! MEMORY STATS: Redis 7.0's field names in Redis 7.0's order (from
//! `memoryCommand` in object.c), a `db.N` map for each database holding
//! keys, a map in RESP3, and values that add up as `getMemoryOverheadData`
//! defines them. The names are also compared with a live redis-server's
//! reply for the same keyspace (CI installs redis-server).

mod common;

use common::redis_server::RedisServer;
use common::{q, TIMEOUT};
use redis::Value;

/// The fields before the per-database entries (object.c, 7.0.15).
const HEAD: [&str; 10] = [
    "peak.allocated",
    "total.allocated",
    "startup.allocated",
    "replication.backlog",
    "clients.slaves",
    "clients.normal",
    "cluster.links",
    "aof.buffer",
    "lua.caches",
    "functions.caches",
];

/// The fields of each `db.N` entry.
const DB_FIELDS: [&str; 3] =
    ["overhead.hashtable.main", "overhead.hashtable.expires", "overhead.hashtable.slot-to-keys"];

/// The fields after the per-database entries.
const TAIL: [&str; 17] = [
    "overhead.total",
    "keys.count",
    "keys.bytes-per-key",
    "dataset.bytes",
    "dataset.percentage",
    "peak.percentage",
    "allocator.allocated",
    "allocator.active",
    "allocator.resident",
    "allocator-fragmentation.ratio",
    "allocator-fragmentation.bytes",
    "allocator-rss.ratio",
    "allocator-rss.bytes",
    "rss-overhead.ratio",
    "rss-overhead.bytes",
    "fragmentation",
    "fragmentation.bytes",
];

/// The keyspace both servers get: keys in db 0, and in db 3 with a TTL.
fn fill(c: &mut redis::Connection) {
    let _: () = q(c, &["SELECT", "0"]);
    let _: () = q(c, &["MSET", "a", "1", "b", "two", "c", "three"]);
    let _: () = q(c, &["SELECT", "3"]);
    let _: () = q(c, &["SET", "v", "x", "EX", "1000"]);
    let _: () = q(c, &["SELECT", "0"]);
}

/// The reply as (name, value) pairs: a map in RESP3, a flat array of
/// alternating names and values in RESP2.
fn pairs(v: Value, resp3: bool) -> Vec<(String, Value)> {
    let name = |v: Value| match v {
        Value::BulkString(b) => String::from_utf8(b).expect("utf-8 name"),
        other => panic!("a field name that is not a bulk string: {other:?}"),
    };
    match v {
        Value::Map(m) => {
            assert!(resp3, "a map in RESP2");
            m.into_iter().map(|(k, v)| (name(k), v)).collect()
        }
        Value::Array(a) => {
            assert!(!resp3, "not a map in RESP3");
            assert_eq!(a.len() % 2, 0, "odd-length reply");
            let mut it = a.into_iter();
            let mut out = Vec::new();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                out.push((name(k), v));
            }
            out
        }
        other => panic!("MEMORY STATS replied {other:?}"),
    }
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(n) => *n,
        other => panic!("not an integer: {other:?}"),
    }
}

fn float(v: &Value) -> f64 {
    match v {
        Value::Double(d) => *d,
        Value::BulkString(b) => std::str::from_utf8(b).unwrap().parse().expect("a double"),
        other => panic!("not a double: {other:?}"),
    }
}

/// MEMORY STATS as (name, value) pairs.
fn memory_stats(c: &mut redis::Connection, resp3: bool) -> Vec<(String, Value)> {
    pairs(redis::cmd("MEMORY").arg("STATS").query(c).expect("MEMORY STATS"), resp3)
}

/// The names, with each `db.N` entry's own names checked and dropped.
fn names(stats: &[(String, Value)], resp3: bool) -> Vec<String> {
    for (k, v) in stats.iter().filter(|(k, _)| k.starts_with("db.")) {
        let inner: Vec<String> = pairs(v.clone(), resp3).into_iter().map(|p| p.0).collect();
        assert_eq!(inner, DB_FIELDS, "{k}");
    }
    stats.iter().map(|p| p.0.clone()).collect()
}

/// Redis 7.0's list for a keyspace with keys in `dbs`.
fn expected(dbs: &[usize]) -> Vec<String> {
    let mut v: Vec<String> = HEAD.iter().map(|s| s.to_string()).collect();
    v.extend(dbs.iter().map(|d| format!("db.{d}")));
    v.extend(TAIL.iter().map(|s| s.to_string()));
    v
}

fn connect(url: &str) -> redis::Connection {
    let client = redis::Client::open(url).expect("client");
    let c = client.get_connection_with_timeout(TIMEOUT).expect("connect");
    c.set_read_timeout(Some(TIMEOUT)).unwrap();
    c.set_write_timeout(Some(TIMEOUT)).unwrap();
    c
}

#[test]
fn field_names_and_order_are_redis_7_0s() {
    let srv = common::start();
    for resp3 in [false, true] {
        let proto = if resp3 { "?protocol=resp3" } else { "" };
        let mut c = connect(&format!("redis://{}/{proto}", srv.addr()));
        let _: () = q(&mut c, &["FLUSHALL"]);
        assert_eq!(names(&memory_stats(&mut c, resp3), resp3), expected(&[]), "empty, resp3={resp3}");
        fill(&mut c);
        assert_eq!(names(&memory_stats(&mut c, resp3), resp3), expected(&[0, 3]), "filled, resp3={resp3}");
    }
}

#[test]
fn values_add_up() {
    let srv = common::start();
    let mut c = common::conn(&srv);
    fill(&mut c);
    let stats = memory_stats(&mut c, false);
    let get = |name: &str| &stats.iter().find(|p| p.0 == name).unwrap_or_else(|| panic!("no {name}")).1;

    // overhead.total is the startup memory plus every overhead part.
    let parts = HEAD[2..].iter().map(|n| int(get(n))).sum::<i64>();
    let dbs = stats
        .iter()
        .filter(|p| p.0.starts_with("db."))
        .flat_map(|p| pairs(p.1.clone(), false))
        .map(|p| int(&p.1))
        .sum::<i64>();
    assert_eq!(int(get("overhead.total")), parts + dbs);
    let total = int(get("total.allocated"));
    assert_eq!(int(get("dataset.bytes")), total - int(get("overhead.total")));

    let startup = int(get("startup.allocated"));
    assert!(startup > 0, "startup.allocated is recorded");
    assert!(int(get("peak.allocated")) >= total);
    for zero in ["replication.backlog", "clients.slaves", "cluster.links", "aof.buffer", "lua.caches"] {
        assert_eq!(int(get(zero)), 0, "{zero}");
    }
    assert!(int(get("clients.normal")) > 0, "this client's buffers");
    // db.0 has keys and no TTLs, db.3 one key with a TTL.
    let db = |n: &str| pairs(get(n).clone(), false).into_iter().map(|p| int(&p.1)).collect::<Vec<_>>();
    assert!(db("db.0")[0] > 0 && db("db.0")[1] == 0, "{:?}", db("db.0"));
    assert!(db("db.3")[0] > 0 && db("db.3")[1] > 0, "{:?}", db("db.3"));

    // keys.count is DBSIZE summed over the databases.
    let mut keys = 0;
    for n in 0..16 {
        let _: () = q(&mut c, &["SELECT", &n.to_string()]);
        keys += q::<i64>(&mut c, &["DBSIZE"]);
    }
    assert_eq!(keys, 4);
    assert_eq!(int(get("keys.count")), keys);
    let net = if total > startup { total - startup } else { 1 };
    assert_eq!(int(get("keys.bytes-per-key")), net / keys);

    // The allocator figures relate as Redis computes them.
    let (allocated, active, resident) =
        (int(get("allocator.allocated")), int(get("allocator.active")), int(get("allocator.resident")));
    assert!(resident > 0);
    assert_eq!(int(get("allocator-fragmentation.bytes")), active - allocated);
    assert_eq!(int(get("allocator-rss.bytes")), resident - active);
    let ratio = float(get("allocator-fragmentation.ratio"));
    assert!((ratio - active as f64 / allocated as f64).abs() < 1e-3, "{ratio}");
    let frag = float(get("fragmentation"));
    let rss = int(get("fragmentation.bytes")) + total;
    assert!((frag - rss as f64 / total as f64).abs() < 1e-3, "{frag}");
    assert_eq!(int(get("rss-overhead.bytes")), rss - resident);
    // Computed in single precision, as Redis does: used == peak can come
    // out one float step above 100 (100.0000076).
    let peak = float(get("peak.percentage"));
    assert!(peak > 0.0 && peak <= 100.0001, "{peak}");

    // Recorded once: it does not move.
    let again = memory_stats(&mut c, false);
    let startup_again = int(&again.iter().find(|p| p.0 == "startup.allocated").unwrap().1);
    assert_eq!(startup_again, startup);
}

#[test]
fn field_names_match_a_live_redis_server() {
    let redis = RedisServer::start(&[]);
    let srv = common::start();
    for resp3 in [false, true] {
        let proto = if resp3 { "?protocol=resp3" } else { "" };
        let mut ours = connect(&format!("redis://{}/{proto}", srv.addr()));
        let mut theirs = connect(&format!("redis+unix://{}{proto}", redis.sock.display()));
        for c in [&mut ours, &mut theirs] {
            let _: () = q(c, &["FLUSHALL"]);
            fill(c);
        }
        let want = names(&memory_stats(&mut theirs, resp3), resp3);
        assert_eq!(want, expected(&[0, 3]), "redis-server's own list, resp3={resp3}");
        assert_eq!(names(&memory_stats(&mut ours, resp3), resp3), want, "resp3={resp3}");
    }
}

#[test]
fn malloc_stats_is_jemallocs_report_and_purge_purges() {
    let srv = common::start();
    let mut c = common::conn(&srv);
    let text: String = q(&mut c, &["MEMORY", "MALLOC-STATS"]);
    assert!(text.starts_with("___ Begin jemalloc statistics ___"), "{}", &text[..text.len().min(200)]);
    assert!(text.contains("--- End jemalloc statistics ---"));
    let ok: String = q(&mut c, &["MEMORY", "PURGE"]);
    assert_eq!(ok, "OK");
}

#[test]
fn allocator_figures_are_jemallocs_not_the_rss() {
    let srv = common::start();
    let mut c = common::conn(&srv);
    let stats = memory_stats(&mut c, false);
    let get = |name: &str| int(&stats.iter().find(|p| p.0 == name).unwrap_or_else(|| panic!("no {name}")).1);
    let (allocated, active, resident) =
        (get("allocator.allocated"), get("allocator.active"), get("allocator.resident"));
    assert!(allocated > 0 && active >= allocated && resident >= active, "{allocated} {active} {resident}");
    // jemalloc's own figure, not the RSS standing in for it (as Redis does
    // for an allocator without statistics): the two are read together, so
    // only a stand-in would equal the RSS to the byte.
    let rss = get("fragmentation.bytes") + get("total.allocated");
    assert_ne!(resident, rss);
    assert_eq!(get("rss-overhead.bytes"), rss - resident);
}

#[test]
fn debug_mallctl_reads_jemallocs_controls_and_activedefrag_is_refused() {
    let srv = common::start();
    let mut c = common::conn(&srv);
    let page: i64 = q(&mut c, &["DEBUG", "MALLCTL", "arenas.page"]);
    assert_eq!(page, 4096);
    let err = |c: &mut redis::Connection, args: &[&str]| {
        redis::cmd(args[0]).arg(&args[1..]).query::<redis::Value>(c).unwrap_err().to_string()
    };
    assert!(err(&mut c, &["DEBUG", "MALLCTL", "no.such.control"]).contains("No such file or directory"));
    assert!(err(&mut c, &["DEBUG", "MALLCTL", "arenas.page", "5"]).contains("Operation not permitted"));
    // No active defragmentation here: refused with the words of a Redis
    // built without it (Debian's is one), not accepted and ignored.
    let e = err(&mut c, &["CONFIG", "SET", "activedefrag", "yes"]);
    assert!(e.contains("Active defragmentation cannot be enabled"), "{e}");
    let _: () = q(&mut c, &["CONFIG", "SET", "activedefrag", "no"]);
}

/// MEMORY DOCTOR answers as redis-server 7.0 does: an instance using
/// under 5 MB gets the "empty" report, a bigger one the "no issue"
/// report, each ending in a newline (redis-cli prints them as lines). The
/// server is a process of its own, so that other tests' allocations do
/// not count in its memory.
#[test]
fn memory_doctor_reports_as_redis() {
    let dir = common::fresh_dir();
    let srv =
        common::process::ServerProcess::start(&["--port", "0", "--save", "", "--dir", dir.to_str().unwrap()]);
    let mut c = connect(&format!("redis://127.0.0.1:{}/", srv.port));
    let doctor =
        |c: &mut redis::Connection| -> String { redis::cmd("MEMORY").arg("DOCTOR").query(c).unwrap() };
    let used = |c: &mut redis::Connection| -> i64 {
        common::info_field(c, "memory", "used_memory").parse().unwrap()
    };
    assert!(used(&mut c) < 5 << 20);
    assert_eq!(
        doctor(&mut c),
        "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these \
         conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be \
         back to our programming as soon as I finished rebooting.\n"
    );
    for i in 0..8 {
        let _: () = redis::cmd("SET").arg(format!("big{i}")).arg(vec![b'x'; 1 << 20]).query(&mut c).unwrap();
    }
    assert!(used(&mut c) >= 5 << 20);
    assert_eq!(
        doctor(&mut c),
        "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
    );
}

/// Once written, a large AOF buffer is freed, as Redis's
/// `flushAppendOnlyFile` frees any buffer of 4000 bytes or more: a burst
/// of writes does not hold its size in `aof.buffer` (and `used_memory`)
/// for good.
#[test]
fn the_aof_buffer_is_freed_after_a_large_write() {
    let srv = common::start_with(|cfg| cfg.appendonly = true);
    let mut c = common::conn(&srv);
    let _: () = redis::cmd("SET").arg("big").arg(vec![b'x'; 4 << 20]).query(&mut c).unwrap();
    let aof = |c: &mut redis::Connection| -> i64 {
        let stats = memory_stats(c, false);
        int(&stats.iter().find(|(n, _)| n == "aof.buffer").expect("aof.buffer").1)
    };
    assert!(aof(&mut c) < 4000, "aof.buffer {}", aof(&mut c));
}

/// A replica that wants no keys in its snapshot, as `redis-cli --replica`
/// asks: it gets the stream after an empty snapshot.
fn keyless_replica(srv: &spindle_kv::server::ServerThread) -> common::Raw {
    let mut replica = common::Raw::connect(srv);
    replica.roundtrip(b"REPLCONF rdb-filter-only \"\"\r\n", b"+OK\r\n");
    replica.send(b"SYNC\r\n");
    replica
}

/// Once a replica made the replication backlog, MEMORY STATS counts it
/// in `replication.backlog` and the overhead, the figure INFO reports as
/// `mem_replication_backlog` (it said 0 while INFO said 1 MB).
#[test]
fn the_replication_backlog_is_in_the_overhead() {
    use std::io::Read;
    let srv = common::start();
    let mut c = common::conn(&srv);
    // The backlog starts with the first replica.
    let mut replica = keyless_replica(&srv);
    let mut first = [0u8; 1];
    replica.stream.read_exact(&mut first).expect("the snapshot");
    // The backlog's buffer grows as the stream is fed.
    let _: () = q(&mut c, &["SET", "k", "v"]);
    let info_backlog: i64 = common::info_field(&mut c, "memory", "mem_replication_backlog").parse().unwrap();
    assert!(info_backlog > 0);
    let stats = memory_stats(&mut c, false);
    let get = |name: &str| int(&stats.iter().find(|p| p.0 == name).unwrap_or_else(|| panic!("no {name}")).1);
    assert_eq!(get("replication.backlog"), info_backlog);
    let parts = HEAD[2..].iter().map(|n| get(n)).sum::<i64>();
    let dbs = stats
        .iter()
        .filter(|p| p.0.starts_with("db."))
        .flat_map(|p| pairs(p.1.clone(), false))
        .map(|p| int(&p.1))
        .sum::<i64>();
    assert_eq!(get("overhead.total"), parts + dbs);
}

/// The replication stream's buffer does not keep the size of the largest
/// write it carried: after a 4 MB value went to a replica that read it,
/// the replication buffers (`mem_total_replication_buffers`: the 1 MB
/// backlog, the replica's output, the unsent stream) are back under 2 MB
/// (they held 4 MB more, for good).
#[test]
fn the_replication_stream_buffer_is_freed_after_a_large_write() {
    use std::io::Read;
    let srv = common::start();
    let mut c = common::conn(&srv);
    let replica = keyless_replica(&srv);
    let mut reader = replica.stream.try_clone().unwrap();
    let drain = std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        let mut total = 0usize;
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            total += n;
            if total > 4 << 20 {
                break;
            }
        }
        total
    });
    let _: () = redis::cmd("SET").arg("big").arg(vec![b'x'; 4 << 20]).query(&mut c).unwrap();
    assert!(drain.join().unwrap() > 4 << 20, "the replica got the value");
    let buffers = |c: &mut redis::Connection| -> i64 {
        common::info_field(c, "memory", "mem_total_replication_buffers").parse().unwrap()
    };
    common::wait_until("the replication buffers to shrink", || buffers(&mut c) < 2 << 20);
}
