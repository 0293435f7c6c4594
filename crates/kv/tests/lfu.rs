//! The LFU eviction policies (`allkeys-lfu`, `volatile-lfu`), OBJECT FREQ
//! and RESTORE ... FREQ, as Redis 7.0 has them (its dump, maxmemory and
//! introspection-2 units use them).

mod common;

use common::{conn, q, start};

/// OBJECT FREQ of `key`.
fn freq(c: &mut redis::Connection, key: &str) -> i64 {
    q(c, &["OBJECT", "FREQ", key])
}

/// A connection to a server under `allkeys-lfu` whose counters grow by one
/// per access (`lfu-log-factor 0`), so counts are exact.
fn lfu_server() -> (spindle_kv::server::ServerThread, redis::Connection) {
    let srv = start();
    let mut c = conn(&srv);
    let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu", "lfu-log-factor", "0"]);
    (srv, c)
}

#[test]
fn the_policies_are_known_and_freq_needs_one() {
    let srv = start();
    let mut c = conn(&srv);
    let _: () = q(&mut c, &["SET", "foo", "bar"]);
    let err = redis::cmd("OBJECT").arg("FREQ").arg("foo").query::<i64>(&mut c).unwrap_err();
    assert!(err.to_string().contains("An LFU maxmemory policy is not selected"), "{err}");
    for policy in ["volatile-lfu", "allkeys-lfu"] {
        let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory-policy", policy]);
        let got: Vec<String> = q(&mut c, &["CONFIG", "GET", "maxmemory-policy"]);
        assert_eq!(got[1], policy);
        let info: String = q(&mut c, &["INFO", "memory"]);
        assert!(info.contains(&format!("maxmemory_policy:{policy}\r\n")), "{info}");
    }
    // Under LFU, idle time is what is not tracked.
    let err = redis::cmd("OBJECT").arg("IDLETIME").arg("foo").query::<i64>(&mut c).unwrap_err();
    assert!(err.to_string().contains("An LFU maxmemory policy is selected"), "{err}");
    let got: Vec<String> = q(&mut c, &["CONFIG", "GET", "lfu-*"]);
    assert_eq!(got, ["lfu-log-factor", "10", "lfu-decay-time", "1"]);
}

#[test]
fn accesses_count_and_introspection_does_not() {
    let (_srv, mut c) = lfu_server();
    let _: () = q(&mut c, &["SET", "foo", "bar"]);
    // A new key starts at 5 (LFU_INIT_VAL).
    assert_eq!(freq(&mut c, "foo"), 5);
    for _ in 0..10 {
        let _: String = q(&mut c, &["GET", "foo"]);
    }
    assert_eq!(freq(&mut c, "foo"), 15);
    // TYPE, EXISTS, TTL and OBJECT look without touching.
    let _: String = q(&mut c, &["TYPE", "foo"]);
    let _: i64 = q(&mut c, &["EXISTS", "foo"]);
    let _: i64 = q(&mut c, &["TTL", "foo"]);
    let _: String = q(&mut c, &["OBJECT", "ENCODING", "foo"]);
    assert_eq!(freq(&mut c, "foo"), 15);
    // TOUCH and writes do count.
    let _: i64 = q(&mut c, &["TOUCH", "foo"]);
    let _: i64 = q(&mut c, &["APPEND", "foo", "x"]);
    assert_eq!(freq(&mut c, "foo"), 17);
}

#[test]
fn restore_sets_the_frequency() {
    let (_srv, mut c) = lfu_server();
    let _: () = q(&mut c, &["SET", "foo", "bar"]);
    let dump: Vec<u8> = q(&mut c, &["DUMP", "foo"]);
    let _: i64 = q(&mut c, &["DEL", "foo"]);
    let () = redis::cmd("RESTORE").arg("foo").arg(0).arg(&dump).arg("FREQ").arg(100).query(&mut c).unwrap();
    assert_eq!(freq(&mut c, "foo"), 100);
}

#[test]
fn allkeys_lfu_evicts_the_least_used_key() {
    let (_srv, mut c) = lfu_server();
    // Sample every key, so the coldest is found for sure.
    let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory-samples", "64"]);
    let big = "x".repeat(200_000);
    for i in 0..10 {
        let _: () = q(&mut c, &["SET", &format!("cold{i}"), &big]);
    }
    let _: () = q(&mut c, &["SET", "hot", &big]);
    for _ in 0..50 {
        let _: String = q(&mut c, &["GET", "hot"]);
    }
    let info: String = q(&mut c, &["INFO", "memory"]);
    let used: u64 =
        info.lines().find_map(|l| l.strip_prefix("used_memory:")).unwrap().trim().parse().unwrap();
    // Room for all but about five values: cold keys must go, and the hot
    // one stays. `used_memory` is process-wide and this binary's other
    // tests allocate and free beside this one, so the margin is a megabyte
    // either way: eviction has 1 MB to free, and would have to free over
    // 2 MB to reach the hot key.
    let limit = (used - 1_000_000).to_string();
    let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory", &limit]);
    let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory", "0"]);
    let left: i64 = q(&mut c, &["DBSIZE"]);
    assert!(left < 11, "nothing was evicted");
    let hot: i64 = q(&mut c, &["EXISTS", "hot"]);
    assert_eq!(hot, 1, "the hot key was evicted");
}

#[test]
fn counters_survive_a_reload() {
    let (_srv, mut c) = lfu_server();
    // No decay, so the count cannot change as a minute turns.
    let _: () = q(&mut c, &["CONFIG", "SET", "lfu-decay-time", "0"]);
    let _: () = q(&mut c, &["SET", "foo", "bar"]);
    for _ in 0..20 {
        let _: String = q(&mut c, &["GET", "foo"]);
    }
    assert_eq!(freq(&mut c, "foo"), 25);
    let _: () = q(&mut c, &["DEBUG", "RELOAD"]);
    assert_eq!(freq(&mut c, "foo"), 25);
}
