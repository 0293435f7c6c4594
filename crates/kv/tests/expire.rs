//! The EXPIRE family, TTL, PTTL, EXPIRETIME, PEXPIRETIME and PERSIST, with
//! redis-server 7.0's replies and error texts.

mod common;
use common::*;
use redis::Commands;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

#[test]
fn the_four_forms_set_a_deadline() {
    let srv = start();
    let mut c = conn(&srv);
    for k in ["a", "b", "c", "d"] {
        let _: () = c.set(k, "v").unwrap();
    }
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "a", "100"]), 1);
    assert_eq!(q::<i64>(&mut c, &["PEXPIRE", "b", "100000"]), 1);
    let at = now_ms() / 1000 + 100;
    assert_eq!(q::<i64>(&mut c, &["EXPIREAT", "c", &at.to_string()]), 1);
    assert_eq!(q::<i64>(&mut c, &["PEXPIREAT", "d", &(at * 1000).to_string()]), 1);
    for k in ["a", "b", "c", "d"] {
        let ttl: i64 = c.ttl(k).unwrap();
        assert!((98..=100).contains(&ttl), "{k}: {ttl}");
        let pttl: i64 = c.pttl(k).unwrap();
        assert!((97_000..=100_000).contains(&pttl), "{k}: {pttl}");
    }
    assert_eq!(q::<i64>(&mut c, &["EXPIRETIME", "c"]), at);
    assert_eq!(q::<i64>(&mut c, &["PEXPIRETIME", "d"]), at * 1000);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "nokey", "100"]), 0);
    assert_eq!(q::<i64>(&mut c, &["PEXPIREAT", "nokey", "1"]), 0);
}

#[test]
fn ttl_replies_for_missing_persistent_and_rounded() {
    let srv = start();
    let mut raw = Raw::connect(&srv);
    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        check(&mut raw, &[cmd, "nokey"], ":-2\r\n");
    }
    check(&mut raw, &["SET", "k", "v"], "+OK\r\n");
    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        check(&mut raw, &[cmd, "k"], ":-1\r\n");
    }
    // EXPIRETIME rounds to the nearest second, as TTL does.
    check(&mut raw, &["PEXPIREAT", "k", "33177117420999"], ":1\r\n");
    check(&mut raw, &["EXPIRETIME", "k"], ":33177117421\r\n");
    check(&mut raw, &["PEXPIRETIME", "k"], ":33177117420999\r\n");
    check(&mut raw, &["PEXPIREAT", "k", "33177117420499"], ":1\r\n");
    check(&mut raw, &["EXPIRETIME", "k"], ":33177117420\r\n");
    // The largest deadlines are accepted.
    check(&mut raw, &["PEXPIREAT", "k", "9223372036854775807"], ":1\r\n");
    check(&mut raw, &["PEXPIRETIME", "k"], ":9223372036854775807\r\n");
    check(&mut raw, &["EXPIREAT", "k", "9223372036854775"], ":1\r\n");
    check(&mut raw, &["PEXPIRETIME", "k"], ":9223372036854775000\r\n");
}

#[test]
fn errors_match_redis() {
    let srv = start();
    let mut raw = Raw::connect(&srv);
    check(&mut raw, &["SET", "k", "v"], "+OK\r\n");
    let nx = "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n";
    for opts in [&["NX", "XX"][..], &["NX", "GT"], &["lt", "nx"], &["NX", "XX", "GT", "LT"]] {
        let mut args = vec!["EXPIRE", "k", "10"];
        args.extend_from_slice(opts);
        check(&mut raw, &args, nx);
    }
    check(
        &mut raw,
        &["PEXPIRE", "k", "10", "GT", "LT"],
        "-ERR GT and LT options at the same time are not compatible\r\n",
    );
    check(&mut raw, &["EXPIRE", "k", "10", "foo"], "-ERR Unsupported option foo\r\n");
    check(&mut raw, &["EXPIRE", "k", "10", "NX", "bar"], "-ERR Unsupported option bar\r\n");
    // Options are checked before the time.
    check(&mut raw, &["EXPIRE", "k", "abc", "NX", "XX"], nx);
    check(&mut raw, &["EXPIRE", "k", "abc"], "-ERR value is not an integer or out of range\r\n");
    check(&mut raw, &["PEXPIREAT", "k", "1.5"], "-ERR value is not an integer or out of range\r\n");
    check(&mut raw, &["EXPIRE", "k", "9223372036854776"], "-ERR invalid expire time in 'expire' command\r\n");
    check(
        &mut raw,
        &["EXPIRE", "k", "-9223372036854776"],
        "-ERR invalid expire time in 'expire' command\r\n",
    );
    check(
        &mut raw,
        &["PEXPIRE", "k", "9223372036854775807"],
        "-ERR invalid expire time in 'pexpire' command\r\n",
    );
    check(
        &mut raw,
        &["EXPIREAT", "k", "9223372036854776"],
        "-ERR invalid expire time in 'expireat' command\r\n",
    );
    check(&mut raw, &["EXPIRE", "k"], "-ERR wrong number of arguments for 'expire' command\r\n");
    check(&mut raw, &["TTL", "k", "x"], "-ERR wrong number of arguments for 'ttl' command\r\n");
    // Nothing above touched the key.
    check(&mut raw, &["TTL", "k"], ":-1\r\n");
    check(&mut raw, &["GET", "k"], "$1\r\nv\r\n");
}

/// (options, key has a TTL of 100 s, new TTL in s, expected reply) as
/// redis-server 7.0 answers; no TTL counts as an infinite one.
const MATRIX: &[(&[&str], bool, i64, i64)] = &[
    (&[], false, 50, 1),
    (&[], true, 50, 1),
    (&["NX"], false, 50, 1),
    (&["NX"], true, 50, 0),
    (&["XX"], false, 50, 0),
    (&["XX"], true, 50, 1),
    (&["GT"], false, 200, 0),
    (&["GT"], true, 200, 1),
    (&["GT"], true, 50, 0),
    (&["GT"], true, 100, 0),
    (&["LT"], false, 200, 1),
    (&["LT"], true, 50, 1),
    (&["LT"], true, 200, 0),
    (&["LT"], true, 100, 0),
    (&["XX", "GT"], false, 200, 0),
    (&["XX", "GT"], true, 200, 1),
    (&["GT", "XX"], true, 50, 0),
    (&["XX", "LT"], false, 50, 0),
    (&["XX", "LT"], true, 50, 1),
    (&["lt", "xx"], true, 200, 0),
];

#[test]
fn option_matrix() {
    let srv = start();
    let mut c = conn(&srv);
    for (i, &(opts, has_ttl, secs, expected)) in MATRIX.iter().enumerate() {
        let key = format!("m{i}");
        let _: () = c.set(&key, "v").unwrap();
        // A fixed absolute deadline keeps the GT/LT comparisons exact.
        let base = now_ms() / 1000 + 1000;
        if has_ttl {
            assert_eq!(q::<i64>(&mut c, &["EXPIREAT", &key, &(base + 100).to_string()]), 1);
        }
        let when = (base + secs).to_string();
        let mut args = vec!["EXPIREAT", key.as_str(), when.as_str()];
        args.extend_from_slice(opts);
        assert_eq!(q::<i64>(&mut c, &args), expected, "{args:?} with ttl: {has_ttl}");
        let want = match (expected, has_ttl) {
            (1, _) => base + secs,
            (_, true) => base + 100,
            (_, false) => -1,
        };
        assert_eq!(q::<i64>(&mut c, &["EXPIRETIME", &key]), want, "{args:?} with ttl: {has_ttl}");
    }
}

#[test]
fn a_deadline_in_the_past_deletes_the_key() {
    let srv = start();
    let mut c = conn(&srv);
    for (i, args) in [
        &["PEXPIREAT", "{}", "1"][..],
        &["EXPIREAT", "{}", "0"],
        &["EXPIRE", "{}", "-1"],
        &["PEXPIRE", "{}", "0"],
        &["EXPIRE", "{}", "0", "LT"],
        &["PEXPIREAT", "{}", "-9223372036854775808"],
    ]
    .iter()
    .enumerate()
    {
        let key = format!("k{i}");
        let _: () = c.set(&key, "v").unwrap();
        let args: Vec<&str> = args.iter().map(|a| if *a == "{}" { key.as_str() } else { a }).collect();
        assert_eq!(q::<i64>(&mut c, &args), 1, "{args:?}");
        assert_eq!(q::<i64>(&mut c, &["EXISTS", &key]), 0, "{args:?}");
        assert_eq!(q::<i64>(&mut c, &["TTL", &key]), -2, "{args:?}");
    }
    // A condition that fails leaves the key alone even with a past time.
    let _: () = c.set("kept", "v").unwrap();
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "kept", "0", "GT"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "kept", "-5", "XX"]), 0);
    assert_eq!(c.get::<_, String>("kept").unwrap(), "v");
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 1);
}

#[test]
fn keys_expire_on_their_own() {
    let srv = start();
    let mut c = conn(&srv);
    let _: () = c.set("short", "v").unwrap();
    let _: () = c.set("long", "v").unwrap();
    assert_eq!(q::<i64>(&mut c, &["PEXPIRE", "short", "5"]), 1);
    assert_eq!(q::<i64>(&mut c, &["PEXPIRE", "long", "100000"]), 1);
    let deadline = Instant::now() + TIMEOUT;
    while c.get::<_, Option<String>>("short").unwrap().is_some() {
        assert!(Instant::now() < deadline, "the key never expired");
        std::thread::sleep(std::time::Duration::from_millis(1)); // pace the polls
    }
    assert_eq!(q::<i64>(&mut c, &["TTL", "short"]), -2);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "short", "long"]), 1);
    assert_eq!(q::<i64>(&mut c, &["PERSIST", "short"]), 0);
}

#[test]
fn persist_removes_the_deadline() {
    let srv = start();
    let mut c = conn(&srv);
    let mut raw = Raw::connect(&srv);
    check(&mut raw, &["PERSIST", "nokey"], ":0\r\n");
    check(&mut raw, &["SET", "k", "v"], "+OK\r\n");
    check(&mut raw, &["PERSIST", "k"], ":0\r\n");
    check(&mut raw, &["EXPIRE", "k", "100"], ":1\r\n");
    check(&mut raw, &["PERSIST", "k"], ":1\r\n");
    check(&mut raw, &["TTL", "k"], ":-1\r\n");
    check(&mut raw, &["PERSIST", "k"], ":0\r\n");
    // A persisted key no longer expires: a later EXPIRE GT fails as on any
    // key without a TTL, and XX too.
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k", "1000", "GT"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k", "1000", "XX"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k", "1000", "NX"]), 1);
}

#[test]
fn set_and_rename_interplay_with_ttl() {
    let srv = start();
    let mut c = conn(&srv);
    let _: () = c.set("k", "v").unwrap();
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k", "100"]), 1);
    let _: () = c.set("k", "w").unwrap();
    assert_eq!(c.ttl::<_, i64>("k").unwrap(), -1, "SET clears the deadline");
    assert_eq!(q::<i64>(&mut c, &["PEXPIRE", "k", "100000"]), 1);
    assert_eq!(q::<String>(&mut c, &["RENAME", "k", "n"]), "OK");
    assert!(c.pttl::<_, i64>("n").unwrap() > 90_000);
    assert_eq!(q::<i64>(&mut c, &["PERSIST", "n"]), 1);
    let keys: Vec<String> = q(&mut c, &["KEYS", "*"]);
    assert_eq!(keys, ["n"]);
}

/// The server's cached clock never runs behind the wall clock: a deadline
/// set with PXAT to 10 s after the client's own clock reads back as at most
/// 10000 ms away, as Redis's `mstime()` gives. (A cached clock built from
/// whole milliseconds ran up to 1 ms behind, and PTTL answered 10001 for
/// about half of these.)
#[test]
fn pttl_after_pxat_never_exceeds_the_distance_set() {
    let srv = start();
    let mut c = conn(&srv);
    for i in 0..300 {
        let at = now_ms() + 10_000;
        let (_, pttl): ((), i64) = redis::pipe()
            .cmd("SET")
            .arg("k")
            .arg("v")
            .arg("PXAT")
            .arg(at)
            .cmd("PTTL")
            .arg("k")
            .query(&mut c)
            .unwrap();
        assert!((9_000..=10_000).contains(&pttl), "round {i}: PTTL {pttl}");
    }
}

/// A deadline at i64::MAX ms is legal (PEXPIREAT takes it); TTL and
/// EXPIRETIME round it to seconds without overflowing, as Redis 7.0.15
/// answers. spindle panicked in the rounding. Found by
/// bench/kv_diff_fuzz.py.
#[test]
fn deadline_at_the_largest_time_rounds_to_seconds() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    check(&mut r, &["SET", "k", "v"], "+OK\r\n");
    check(&mut r, &["PEXPIREAT", "k", "9223372036854775807"], ":1\r\n");
    check(&mut r, &["EXPIRETIME", "k"], ":9223372036854776\r\n");
    check(&mut r, &["PEXPIRETIME", "k"], ":9223372036854775807\r\n");
    let ttl: i64 = q(&mut conn(&srv), &["TTL", "k"]);
    let left = 9_223_372_036_854_775_807 - now_ms();
    assert!((left / 1000 - 1..=left / 1000 + 1).contains(&ttl), "TTL {ttl}");
    check(&mut r, &["GET", "k"], "$1\r\nv\r\n");
}

/// INFO keyspace's `avg_ttl` is, as in Redis, the running average of the
/// time left on the keys the active expiry cycle samples (monitoring
/// tools chart it), and 0 again once the database has no deadline.
#[test]
fn info_keyspace_reports_the_average_ttl() {
    let srv = start();
    let mut c = conn(&srv);
    let _: () = c.set("plain", "v").unwrap();
    for i in 0..10 {
        let _: () = q(&mut c, &["SET", &format!("t{i}"), "v", "EX", "100"]);
    }
    let avg_ttl = |c: &mut redis::Connection| -> i64 {
        let line = info_field(c, "keyspace", "db0");
        let v = line.split(',').find_map(|f| f.strip_prefix("avg_ttl=")).expect("avg_ttl");
        v.parse().unwrap()
    };
    let deadline = Instant::now() + TIMEOUT;
    let mut avg = 0;
    while avg == 0 {
        assert!(Instant::now() < deadline, "avg_ttl stayed 0");
        std::thread::yield_now();
        avg = avg_ttl(&mut c);
    }
    assert!((90_000..=100_000).contains(&avg), "avg_ttl={avg}");
    for i in 0..10 {
        let _: () = q(&mut c, &["PERSIST", &format!("t{i}")]);
    }
    while avg_ttl(&mut c) != 0 {
        assert!(Instant::now() < deadline, "avg_ttl did not return to 0");
        std::thread::yield_now();
    }
}
