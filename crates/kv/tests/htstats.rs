//! DEBUG HTSTATS and HTSTATS-KEY: Redis 7.0's text over the real tables,
//! and a table resizing under reads alone (Redis's `dict` takes a rehash
//! step on each lookup, so Redis's own tests wait on SRANDMEMBER for a
//! resize to finish).

mod common;
use common::*;

/// The DEBUG HTSTATS text of a 4-bucket table holding one entry.
const ONE_ENTRY: &str = "Hash table 0 stats (main hash table):\n table size: 4\n number of elements: 1\n \
                         different slots: 1\n max chain length: 1\n avg chain length (counted): 1.00\n \
                         avg chain length (computed): 1.00\n Chain length distribution:\n   0: 3 (75.00%)\n   \
                         1: 1 (25.00%)\n";
const EMPTY: &str = "Hash table 0 stats (main hash table):\nNo stats available for empty dictionaries\n";

#[test]
fn htstats_reports_keyspace_and_expires_in_redis_layout() {
    let srv = start();
    let mut c = conn(&srv);
    let _: () = q(&mut c, &["SET", "k", "v"]);
    let text: String = q(&mut c, &["DEBUG", "HTSTATS", "0"]);
    assert_eq!(text, format!("[Dictionary HT]\n{ONE_ENTRY}[Expires HT]\n{EMPTY}"));
    let _: () = q(&mut c, &["EXPIRE", "k", "100"]);
    let text: String = q(&mut c, &["DEBUG", "HTSTATS", "0", "full"]);
    assert_eq!(text, format!("[Dictionary HT]\n{ONE_ENTRY}[Expires HT]\n{ONE_ENTRY}"));
    let text: String = q(&mut c, &["DEBUG", "HTSTATS", "1"]);
    assert_eq!(text, format!("[Dictionary HT]\n{EMPTY}[Expires HT]\n{EMPTY}"));

    let mut r = Raw::connect(&srv);
    check(&mut r, &["DEBUG", "HTSTATS", "16"], "-ERR Out of range database\r\n");
    check(&mut r, &["DEBUG", "HTSTATS", "-1"], "-ERR Out of range database\r\n");
    check(&mut r, &["DEBUG", "HTSTATS", "x"], "-ERR value is not an integer or out of range\r\n");
    check(&mut r, &["DEBUG", "HTSTATS", "0", "x"], "-ERR syntax error\r\n");
}

#[test]
fn htstats_key_covers_the_table_encodings_only() {
    let srv = start();
    let mut c = conn(&srv);
    let mut r = Raw::connect(&srv);
    check(&mut r, &["DEBUG", "HTSTATS-KEY", "nokey"], "-ERR no such key\r\n");
    const NOT_HT: &str =
        "-ERR The value stored at the specified key is not represented using an hash table\r\n";
    check(&mut r, &["SET", "str", "v"], "+OK\r\n");
    check(&mut r, &["SADD", "small", "a"], ":1\r\n");
    for key in ["str", "small"] {
        check(&mut r, &["DEBUG", "HTSTATS-KEY", key], NOT_HT);
    }
    let members: Vec<String> = (0..600).map(|i| format!("m:{i}")).collect();
    let mut sadd = vec!["SADD", "set"];
    let mut hset = vec!["HSET", "hash"];
    let mut zadd = vec!["ZADD", "zset"];
    for m in &members {
        sadd.push(m);
        hset.extend([m.as_str(), "v"]);
        zadd.extend(["1", m.as_str()]);
    }
    for cmd in [&sadd, &hset, &zadd] {
        let n: usize = q(&mut c, cmd);
        assert_eq!(n, 600);
    }
    for key in ["set", "hash", "zset"] {
        let text: String = q(&mut c, &["DEBUG", "HTSTATS-KEY", key, "full"]);
        assert!(text.starts_with("Hash table 0 stats (main hash table):\n table size: "), "{key}: {text}");
        assert!(
            text.contains(" different slots: ") && text.contains(" Chain length distribution:\n"),
            "{text}"
        );
        // Entries count across both tables while one resizes.
        let total: usize = text
            .lines()
            .filter_map(|l| l.strip_prefix(" number of elements: "))
            .map(|n| n.parse::<usize>().unwrap())
            .sum();
        assert_eq!(total, 600, "{key}: {text}");
    }
}

fn rehashing(c: &mut redis::Connection, key: &str) -> bool {
    let text: String = q(c, &["DEBUG", "HTSTATS-KEY", key]);
    text.contains("rehashing target")
}

/// Fills `key` with 1000 entries by `add` (a 1024-bucket table), then
/// removes with `del` down to 128, the count at which the table starts to
/// shrink, so it is left mid-resize; then reads it with `read` until the
/// resize is done, a bounded number of times.
fn resize_finishes_under(add: &[&str], del: &str, read: &[&str]) {
    let srv = start();
    let mut c = conn(&srv);
    let key = add[1];
    let mut fill: Vec<String> = add.iter().map(|s| s.to_string()).collect();
    let mut rem: Vec<String> = vec![del.into(), key.into()];
    for i in 0..1000 {
        if add[0] == "ZADD" {
            fill.push("1".into());
        }
        fill.push(format!("m:{i}"));
        if add[0] == "HSET" {
            fill.push("v".into());
        }
        if i >= 128 {
            rem.push(format!("m:{i}"));
        }
    }
    let fill: Vec<&str> = fill.iter().map(String::as_str).collect();
    let rem: Vec<&str> = rem.iter().map(String::as_str).collect();
    let _: usize = q(&mut c, &fill);
    // Writes of an entry that is there already finish the growth to 1024
    // buckets.
    let per_entry = if add[0] == "SADD" { 1 } else { 2 };
    let again = &fill[..2 + per_entry];
    for _ in 0..2000 {
        if !rehashing(&mut c, key) {
            break;
        }
        let _: usize = q(&mut c, again);
    }
    assert!(!rehashing(&mut c, key));
    let n: usize = q(&mut c, &rem);
    assert_eq!(n, 872);
    assert!(rehashing(&mut c, key), "the last removal starts a shrink");
    let mut reads = 0;
    while rehashing(&mut c, key) {
        assert!(reads < 2000, "{read:?} x{reads} never finished the resize");
        let _: redis::Value = q(&mut c, read);
        reads += 1;
    }
}

#[test]
fn set_resize_finishes_under_sismember() {
    resize_finishes_under(&["SADD", "s"], "SREM", &["SISMEMBER", "s", "m:1"]);
}

#[test]
fn set_resize_finishes_under_srandmember() {
    resize_finishes_under(&["SADD", "s"], "SREM", &["SRANDMEMBER", "s", "10"]);
}

#[test]
fn hash_resize_finishes_under_hget() {
    resize_finishes_under(&["HSET", "h"], "HDEL", &["HGET", "h", "m:1"]);
}

#[test]
fn zset_resize_finishes_under_zscore() {
    resize_finishes_under(&["ZADD", "z"], "ZREM", &["ZSCORE", "z", "m:1"]);
}

/// A figure of DEBUG HTSTATS-KEY's first table, such as "max chain length".
fn stat(c: &mut redis::Connection, key: &str, name: &str) -> usize {
    let text: String = q(c, &["DEBUG", "HTSTATS-KEY", key]);
    let line =
        text.lines().find_map(|l| l.strip_prefix(&format!(" {name}: "))).unwrap_or_else(|| panic!("{text}"));
    line.parse().unwrap()
}

/// Redis's "SRANDMEMBER with a dict containing long chain", without its
/// fork: removing all but 30 members in SSCAN order leaves the survivors
/// in the buckets the reversed-bit cursor visits last, which share their
/// low bits, so once the table shrinks they share one long chain. A
/// random pick samples a stretch of up to 15 entries; it must read the
/// chain to its tail, or the members past the 15th are seldom returned.
#[test]
fn srandmember_is_fair_over_a_long_chain() {
    let srv = start();
    let mut c = conn(&srv);
    let mut sadd = vec!["SADD".to_string(), "s".into()];
    sadd.extend((0..8000).map(|i| format!("m:{i}")));
    let sadd: Vec<&str> = sadd.iter().map(String::as_str).collect();
    let _: usize = q(&mut c, &sadd);
    let settle = |c: &mut redis::Connection| {
        for _ in 0..20_000 {
            if !rehashing(c, "s") {
                return;
            }
            let _: bool = q(c, &["SISMEMBER", "s", "m:0"]);
        }
        panic!("the set kept resizing");
    };
    settle(&mut c);
    assert_eq!(stat(&mut c, "s", "table size"), 8192);
    // All but 30 go in SSCAN order, in steps that let each shrink finish
    // (8192 buckets, then 1024, then 128).
    let mut doomed: Vec<String> = Vec::new();
    let mut cursor = "0".to_string();
    loop {
        let (next, batch): (String, Vec<String>) = q(&mut c, &["SSCAN", "s", &cursor, "COUNT", "100"]);
        doomed.extend(batch);
        cursor = next;
        if doomed.len() >= 7970 {
            break;
        }
        assert_ne!(cursor, "0", "{}", doomed.len());
    }
    doomed.truncate(7970);
    for chunk in doomed.chunks(100) {
        let mut srem = vec!["SREM", "s"];
        srem.extend(chunk.iter().map(String::as_str));
        let n: usize = q(&mut c, &srem);
        assert_eq!(n, chunk.len());
        settle(&mut c);
    }
    assert_eq!(stat(&mut c, "s", "table size"), 128);
    let longest = stat(&mut c, "s", "max chain length");
    assert!(longest > 20, "the survivors share a chain much longer than a sample: {longest}");
    // 30,000 picks, 1,000 expected for each member; Redis's test bounds
    // the chi-square of SRANDMEMBER's picks the same way.
    let mut hits = std::collections::BTreeMap::<String, u32>::new();
    for _ in 0..10 {
        let picks: Vec<String> = q(&mut c, &["SRANDMEMBER", "s", "-3000"]);
        picks.into_iter().for_each(|m| *hits.entry(m).or_default() += 1);
    }
    assert_eq!(hits.len(), 30);
    assert!(hits.values().all(|&h| (600..1400).contains(&h)), "{hits:?}");
}

/// Redis's "Don't rehash if redis has child process": while a BGSAVE child
/// shares the parent's pages copy-on-write, a full keyspace table does not
/// double (the new array and the moved entries would be copied pages);
/// once the child is gone it does.
#[test]
fn keyspace_does_not_grow_while_a_child_runs() {
    let srv = start();
    let mut c = conn(&srv);
    let _: () = q(&mut c, &["CONFIG", "SET", "save", ""]);
    let _: () = q(&mut c, &["DEBUG", "POPULATE", "4096", "", "1"]);
    let stats = |c: &mut redis::Connection| -> String { q(c, &["DEBUG", "HTSTATS", "0"]) };
    wait_until("the keyspace to finish growing", || !stats(&mut c).contains("rehashing target"));
    assert!(stats(&mut c).contains(" table size: 4096\n number of elements: 4096\n"));
    // 4096 keys at 300 µs each: the child runs for over a second.
    let _: () = q(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "300"]);
    let _: String = q(&mut c, &["BGSAVE"]);
    let _: () = q(&mut c, &["MSET", "k1", "v1", "k2", "v2"]);
    let info: String = q(&mut c, &["INFO", "persistence"]);
    assert!(info.contains("rdb_bgsave_in_progress:1"), "the child is still saving: {info}");
    let text = stats(&mut c);
    assert!(!text.contains("table size: 8192"), "{text}");
    wait_until("the child to finish", || {
        let info: String = q(&mut c, &["INFO", "persistence"]);
        info.contains("rdb_bgsave_in_progress:0")
    });
    // The cron that reaped the child let tables resize again.
    let _: () = q(&mut c, &["SET", "k3", "v3"]);
    let text = stats(&mut c);
    assert!(text.contains("table size: 8192"), "{text}");
}
