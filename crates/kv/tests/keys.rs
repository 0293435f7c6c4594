//! Keyspace commands through the `redis` crate and raw RESP; error texts
//! and reply bytes as redis-server 7.0 gives them.

mod common;
use common::*;
use redis::{Commands, Connection, Value};
use std::collections::HashSet;
use std::time::Instant;

/// Every key SCAN returns over a full iteration, with `opts` appended.
fn scan_all(c: &mut Connection, opts: &[&str]) -> Vec<String> {
    let mut cursor = "0".to_string();
    let mut out = Vec::new();
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let mut args = vec!["SCAN", cursor.as_str()];
        args.extend_from_slice(opts);
        let (next, keys): (String, Vec<String>) = q(c, &args);
        out.extend(keys);
        if next == "0" {
            return out;
        }
        cursor = next;
        assert!(Instant::now() < deadline, "scan did not finish");
    }
}

#[test]
fn del_unlink_exists_type_touch() {
    let srv = start();
    let mut c = conn(&srv);
    let _: () = c.mset(&[("a", "1"), ("b", "2"), ("c", "3")]).unwrap();
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "a", "a", "b", "nokey"]), 3, "repeats count");
    assert_eq!(q::<String>(&mut c, &["TYPE", "a"]), "string");
    assert_eq!(q::<String>(&mut c, &["TYPE", "nokey"]), "none");
    assert_eq!(q::<i64>(&mut c, &["TOUCH", "a", "nokey", "b"]), 2);
    assert_eq!(q::<i64>(&mut c, &["DEL", "a", "nokey", "a"]), 1);
    assert_eq!(q::<i64>(&mut c, &["UNLINK", "b", "c", "b"]), 2);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "a", "b", "c"]), 0);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0);
    let mut raw = Raw::connect(&srv);
    check(&mut raw, &["TYPE", "nokey"], "+none\r\n");
    check(&mut raw, &["DEL"], "-ERR wrong number of arguments for 'del' command\r\n");
    check(&mut raw, &["WAIT", "0", "0"], ":0\r\n");
    check(&mut raw, &["WAIT", "abc", "0"], "-ERR value is not an integer or out of range\r\n");
    check(&mut raw, &["WAIT", "0", "abc"], "-ERR timeout is not an integer or out of range\r\n");
    check(&mut raw, &["WAIT", "0", "-1"], "-ERR timeout is negative\r\n");
}

#[test]
fn lazy_user_del_still_deletes() {
    let srv = start_with(|cfg| cfg.lazyfree_lazy_user_del = true);
    let mut c = conn(&srv);
    let _: () = c.set("a", "1").unwrap();
    assert_eq!(q::<i64>(&mut c, &["DEL", "a"]), 1);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "a"]), 0);
}

#[test]
fn keys_and_scan_agree_over_a_thousand_keys() {
    let srv = start();
    let mut c = conn(&srv);
    let pairs: Vec<(String, String)> = (0..1000).map(|i| (format!("key:{i}"), i.to_string())).collect();
    let _: () = c.mset(&pairs).unwrap();
    let _: () = c.set("other", "x").unwrap();
    let mut keys: Vec<String> = q(&mut c, &["KEYS", "*"]);
    keys.sort();
    assert_eq!(keys.len(), 1001);
    let scanned = scan_all(&mut c, &["COUNT", "10"]);
    let set: HashSet<&String> = scanned.iter().collect();
    assert_eq!(set.len(), scanned.len(), "no key returned twice on a table that did not change");
    let mut scanned_sorted = scanned.clone();
    scanned_sorted.sort();
    assert_eq!(scanned_sorted, keys);

    // MATCH, in KEYS and in SCAN.
    let mut k1: Vec<String> = q(&mut c, &["KEYS", "key:1?"]);
    k1.sort();
    let expected: Vec<String> = (10..20).map(|i| format!("key:{i}")).collect();
    assert_eq!(k1, expected);
    let mut s1 = scan_all(&mut c, &["MATCH", "key:1?", "COUNT", "10"]);
    s1.sort();
    assert_eq!(s1, expected);
    assert_eq!(scan_all(&mut c, &["MATCH", "oth*"]), vec!["other".to_string()]);

    // TYPE: every key is a string; the name is matched case-insensitively.
    assert_eq!(scan_all(&mut c, &["TYPE", "STRING", "COUNT", "1000"]).len(), 1001);
    assert!(scan_all(&mut c, &["TYPE", "hash"]).is_empty());
    assert!(scan_all(&mut c, &["TYPE", "bogus"]).is_empty());

    // One call with a large COUNT covers the whole table.
    let (cursor, all): (String, Vec<String>) = q(&mut c, &["SCAN", "0", "COUNT", "100000"]);
    assert_eq!((cursor.as_str(), all.len()), ("0", 1001));
}

#[test]
fn scan_errors_and_cursor_forms() {
    let srv = start();
    let mut raw = Raw::connect(&srv);
    check(&mut raw, &["SCAN", "0"], "*2\r\n$1\r\n0\r\n*0\r\n");
    check(&mut raw, &["SET", "k", "v"], "+OK\r\n");
    check(&mut raw, &["SCAN", "0"], "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n");
    check(&mut raw, &["SCAN", "", "COUNT", "5"], "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n");
    for bad in ["abc", "-", " 1", "1a", "18446744073709551616"] {
        check(&mut raw, &["SCAN", bad], "-ERR invalid cursor\r\n");
    }
    check(&mut raw, &["SCAN", "0", "COUNT", "0"], "-ERR syntax error\r\n");
    check(&mut raw, &["SCAN", "0", "COUNT", "-1"], "-ERR syntax error\r\n");
    check(&mut raw, &["SCAN", "0", "COUNT", "abc"], "-ERR value is not an integer or out of range\r\n");
    check(&mut raw, &["SCAN", "0", "MATCH"], "-ERR syntax error\r\n");
    check(&mut raw, &["SCAN", "0", "TYPE"], "-ERR syntax error\r\n");
    check(&mut raw, &["SCAN", "0", "FOO", "bar"], "-ERR syntax error\r\n");
    check(&mut raw, &["KEYS", "*"], "*1\r\n$1\r\nk\r\n");
    check(&mut raw, &["KEYS", "x*"], "*0\r\n");
}

#[test]
fn expired_keys_are_skipped_by_keys_scan_and_randomkey() {
    let srv = start();
    let mut c = conn(&srv);
    let mut raw = Raw::connect(&srv);
    check(&mut raw, &["RANDOMKEY"], "$-1\r\n");
    for i in 0..20 {
        let _: () = c.set(format!("gone{i}"), "x").unwrap();
        assert_eq!(q::<i64>(&mut c, &["PEXPIRE", &format!("gone{i}"), "1"]), 1);
    }
    let _: () = c.set("stays", "x").unwrap();
    // KEYS skips expired keys without deleting them, so it can be polled.
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let keys: Vec<String> = q(&mut c, &["KEYS", "*"]);
        if keys == ["stays"] {
            break;
        }
        assert!(Instant::now() < deadline, "keys never expired: {keys:?}");
        std::thread::sleep(std::time::Duration::from_millis(1)); // pace the polls
    }
    for _ in 0..10 {
        assert_eq!(q::<String>(&mut c, &["RANDOMKEY"]), "stays");
    }
    assert_eq!(scan_all(&mut c, &["COUNT", "3"]), vec!["stays".to_string()]);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 1, "RANDOMKEY and SCAN deleted the expired keys they met");
}

#[test]
fn randomkey_returns_existing_keys() {
    let srv = start();
    let mut c = conn(&srv);
    let names: Vec<String> = (0..50).map(|i| format!("r{i}")).collect();
    for n in &names {
        let _: () = c.set(n, 1).unwrap();
    }
    let mut seen = HashSet::new();
    for _ in 0..200 {
        let k: String = q(&mut c, &["RANDOMKEY"]);
        assert!(names.contains(&k), "{k}");
        seen.insert(k);
    }
    assert!(seen.len() > 10, "RANDOMKEY should spread: {}", seen.len());
}

#[test]
fn rename_and_renamenx() {
    let srv = start();
    let mut c = conn(&srv);
    let _: () = c.set("a", "1").unwrap();
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "a", "100"]), 1);
    assert_eq!(q::<String>(&mut c, &["RENAME", "a", "b"]), "OK");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "a"]), 0);
    assert_eq!(c.get::<_, String>("b").unwrap(), "1");
    let ttl: i64 = c.ttl("b").unwrap();
    assert!((99..=100).contains(&ttl), "RENAME keeps the TTL: {ttl}");

    // Overwriting a key with a TTL by one without.
    let _: () = c.set("x", "2").unwrap();
    assert_eq!(q::<String>(&mut c, &["RENAME", "x", "b"]), "OK");
    assert_eq!(c.ttl::<_, i64>("b").unwrap(), -1);
    assert_eq!(c.get::<_, String>("b").unwrap(), "2");

    let _: () = c.set("y", "3").unwrap();
    assert_eq!(q::<i64>(&mut c, &["RENAMENX", "y", "b"]), 0);
    assert_eq!(c.get::<_, String>("b").unwrap(), "2");
    assert_eq!(q::<i64>(&mut c, &["RENAMENX", "y", "z"]), 1);
    assert_eq!(c.get::<_, String>("z").unwrap(), "3");

    let mut raw = Raw::connect(&srv);
    check(&mut raw, &["RENAME", "nokey", "q"], "-ERR no such key\r\n");
    check(&mut raw, &["RENAMENX", "nokey", "q"], "-ERR no such key\r\n");
    check(&mut raw, &["RENAME", "nokey", "nokey"], "-ERR no such key\r\n");
    check(&mut raw, &["RENAME", "z", "z"], "+OK\r\n");
    check(&mut raw, &["RENAMENX", "z", "z"], ":0\r\n");
    check(&mut raw, &["GET", "z"], "$1\r\n3\r\n");
}

#[test]
fn move_between_databases() {
    let srv = start();
    let mut c = conn(&srv);
    let _: () = c.set("k", "v").unwrap();
    assert_eq!(q::<i64>(&mut c, &["PEXPIRE", "k", "100000"]), 1);
    assert_eq!(q::<i64>(&mut c, &["MOVE", "k", "1"]), 1);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "k"]), 0);
    assert_eq!(q::<i64>(&mut c, &["MOVE", "k", "1"]), 0, "missing here");
    let _: () = c.set("k", "other").unwrap();
    assert_eq!(q::<i64>(&mut c, &["MOVE", "k", "1"]), 0, "present there");
    assert_eq!(c.get::<_, String>("k").unwrap(), "other");
    let _: () = q(&mut c, &["SELECT", "1"]);
    assert_eq!(c.get::<_, String>("k").unwrap(), "v");
    let pttl: i64 = c.pttl("k").unwrap();
    assert!((90_000..=100_000).contains(&pttl), "MOVE keeps the TTL: {pttl}");

    let mut raw = Raw::connect(&srv);
    check(&mut raw, &["MOVE", "k", "0"], "-ERR source and destination objects are the same\r\n");
    check(&mut raw, &["MOVE", "nokey", "0"], "-ERR source and destination objects are the same\r\n");
    check(&mut raw, &["MOVE", "k", "16"], "-ERR DB index is out of range\r\n");
    check(&mut raw, &["MOVE", "k", "-1"], "-ERR DB index is out of range\r\n");
    check(&mut raw, &["MOVE", "k", "abc"], "-ERR value is not an integer or out of range\r\n");
    check(
        &mut raw,
        &["MOVE", "k", "2147483648"],
        "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n",
    );
}

#[test]
fn copy_within_and_across_databases() {
    let srv = start();
    let mut c = conn(&srv);
    let _: () = c.set("s", "hello").unwrap();
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "s", "100"]), 1);
    assert_eq!(q::<i64>(&mut c, &["COPY", "s", "d"]), 1);
    assert_eq!(c.get::<_, String>("d").unwrap(), "hello");
    let ttl: i64 = c.ttl("d").unwrap();
    assert!((99..=100).contains(&ttl), "COPY keeps the TTL: {ttl}");
    let _: i64 = c.append("s", " world").unwrap();
    assert_eq!(c.get::<_, String>("d").unwrap(), "hello", "the copy is independent");
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "d"]), "embstr");

    assert_eq!(q::<i64>(&mut c, &["COPY", "s", "d"]), 0, "destination exists");
    assert_eq!(q::<i64>(&mut c, &["COPY", "s", "d", "REPLACE"]), 1);
    assert_eq!(c.get::<_, String>("d").unwrap(), "hello world");
    assert_eq!(q::<i64>(&mut c, &["COPY", "nokey", "d", "REPLACE"]), 0);
    assert_eq!(q::<i64>(&mut c, &["COPY", "s", "s", "DB", "2"]), 1);
    assert_eq!(q::<i64>(&mut c, &["COPY", "s", "s", "db", "2"]), 0);
    assert_eq!(q::<i64>(&mut c, &["COPY", "s", "s", "REPLACE", "DB", "2", "REPLACE"]), 1);
    let _: () = q(&mut c, &["SELECT", "2"]);
    assert_eq!(c.get::<_, String>("s").unwrap(), "hello world");

    let mut raw = Raw::connect(&srv);
    check(&mut raw, &["SET", "k", "1"], "+OK\r\n");
    check(&mut raw, &["COPY", "k", "k"], "-ERR source and destination objects are the same\r\n");
    check(&mut raw, &["COPY", "k", "k", "DB", "0"], "-ERR source and destination objects are the same\r\n");
    check(&mut raw, &["COPY", "nokey", "nokey"], "-ERR source and destination objects are the same\r\n");
    check(&mut raw, &["COPY", "k", "x", "DB", "16"], "-ERR DB index is out of range\r\n");
    check(&mut raw, &["COPY", "k", "x", "DB", "-1"], "-ERR DB index is out of range\r\n");
    check(&mut raw, &["COPY", "k", "x", "DB", "16", "foo"], "-ERR DB index is out of range\r\n");
    check(&mut raw, &["COPY", "k", "x", "DB", "abc"], "-ERR value is not an integer or out of range\r\n");
    check(
        &mut raw,
        &["COPY", "k", "x", "DB", "99999999999"],
        "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n",
    );
    check(&mut raw, &["COPY", "k", "x", "DB"], "-ERR syntax error\r\n");
    check(&mut raw, &["COPY", "k", "x", "foo"], "-ERR syntax error\r\n");
    check(&mut raw, &["COPY", "k"], "-ERR wrong number of arguments for 'copy' command\r\n");
    check(&mut raw, &["COPY", "k", "x"], ":1\r\n");
    check(&mut raw, &["OBJECT", "ENCODING", "x"], "$3\r\nint\r\n");
    check(&mut raw, &["TTL", "x"], ":-1\r\n");
}

#[test]
fn swapdb_and_its_errors() {
    let srv = start();
    let mut c = conn(&srv);
    let _: () = c.set("zero", "0").unwrap();
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "zero", "100"]), 1);
    let _: () = q(&mut c, &["SELECT", "1"]);
    let _: () = c.set("one", "1").unwrap();
    assert_eq!(q::<String>(&mut c, &["SWAPDB", "0", "1"]), "OK");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "zero", "one"]), 1);
    assert_eq!(c.get::<_, String>("zero").unwrap(), "0");
    assert!(c.ttl::<_, i64>("zero").unwrap() > 0, "the TTL goes with the data");
    let _: () = q(&mut c, &["SELECT", "0"]);
    assert_eq!(c.get::<_, String>("one").unwrap(), "1");
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 1);

    let mut raw = Raw::connect(&srv);
    check(&mut raw, &["SWAPDB", "3", "3"], "+OK\r\n");
    check(&mut raw, &["SWAPDB", "0", "16"], "-ERR DB index is out of range\r\n");
    check(&mut raw, &["SWAPDB", "-1", "0"], "-ERR DB index is out of range\r\n");
    check(&mut raw, &["SWAPDB", "abc", "0"], "-ERR invalid first DB index\r\n");
    check(&mut raw, &["SWAPDB", "99999999999", "0"], "-ERR invalid first DB index\r\n");
    check(&mut raw, &["SWAPDB", "0", "abc"], "-ERR invalid second DB index\r\n");
}

#[test]
fn flushdb_and_flushall() {
    for lazy_user_flush in [false, true] {
        let srv = start_with(|cfg| cfg.lazyfree_lazy_user_flush = lazy_user_flush);
        let mut c = conn(&srv);
        let pairs: Vec<(String, i64)> = (0..300).map(|i| (format!("k{i}"), i)).collect();
        let _: () = c.mset(&pairs).unwrap();
        let _: () = q(&mut c, &["SELECT", "5"]);
        let _: () = c.mset(&pairs).unwrap();
        assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 300);
        assert_eq!(q::<String>(&mut c, &["FLUSHDB"]), "OK");
        assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0);
        let _: () = c.mset(&pairs).unwrap();
        assert_eq!(q::<String>(&mut c, &["FLUSHDB", "async"]), "OK");
        assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0);
        let _: () = q(&mut c, &["SELECT", "0"]);
        assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 300, "FLUSHDB empties only the selected database");
        let _: () = q(&mut c, &["SELECT", "7"]);
        let _: () = c.set("x", 1).unwrap();
        assert_eq!(q::<String>(&mut c, &["FLUSHALL", "SYNC"]), "OK");
        assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0);
        let _: () = q(&mut c, &["SELECT", "0"]);
        assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0);
        let _: () = c.set("x", 1).unwrap();
        assert_eq!(q::<String>(&mut c, &["FLUSHALL", "ASYNC"]), "OK");
        assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0);
    }
    let srv = start();
    let mut raw = Raw::connect(&srv);
    check(&mut raw, &["FLUSHDB", "foo"], "-ERR syntax error\r\n");
    check(&mut raw, &["FLUSHDB", "sync", "async"], "-ERR syntax error\r\n");
    check(&mut raw, &["FLUSHALL", "now"], "-ERR syntax error\r\n");
    check(&mut raw, &["FLUSHDB", "sYnC"], "+OK\r\n");
}

#[test]
fn object_subcommands() {
    let srv = start();
    let mut c = conn(&srv);
    let long = "x".repeat(45);
    let _: () = c
        .mset(&[("int", "123"), ("emb", "hello"), ("raw", long.as_str()), ("big", "12345678901234567890123")])
        .unwrap();
    let _: () = c.mset(&[("zero", "0"), ("top", "9999"), ("past", "10000"), ("neg", "-1")]).unwrap();
    for (k, enc) in [("int", "int"), ("emb", "embstr"), ("raw", "raw"), ("big", "embstr"), ("zero", "int")] {
        assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", k]), enc, "{k}");
    }
    let _: i64 = c.append("emb", "!").unwrap();
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "emb"]), "raw", "APPEND makes a string raw");
    for (k, rc) in
        [("zero", 2147483647), ("top", 2147483647), ("int", 2147483647), ("past", 1), ("neg", 1), ("emb", 1)]
    {
        assert_eq!(q::<i64>(&mut c, &["OBJECT", "REFCOUNT", k]), rc, "{k}");
    }
    assert_eq!(q::<i64>(&mut c, &["OBJECT", "IDLETIME", "int"]), 0);
    let help: Vec<String> = q(&mut c, &["OBJECT", "HELP"]);
    assert_eq!(help.len(), 15);
    assert_eq!(help[0], "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    assert_eq!(help[14], "    Prints this help.");
    assert_eq!(q::<Value>(&mut c, &["OBJECT", "ENCODING", "nokey"]), Value::Nil);

    let mut raw = Raw::connect(&srv);
    check(&mut raw, &["OBJECT", "ENCODING", "nokey"], "$-1\r\n");
    check(&mut raw, &["OBJECT", "FREQ", "nokey"], "$-1\r\n");
    check(&mut raw, &["OBJECT", "FREQ", "int"], "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n");
    check(
        &mut raw,
        &["OBJECT", "HELP"],
        "*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n",
    );
    raw.read_exact_len(
        "+ENCODING <key>\r\n+    Return the kind of internal representation used in order to store the value\r\n"
            .len(),
    );
    let mut raw = Raw::connect(&srv);
    check(&mut raw, &["OBJECT", "foo"], "-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n");
    check(&mut raw, &["oBjEcT", "foo", "bar"], "-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n");
    check(&mut raw, &["OBJECT"], "-ERR wrong number of arguments for 'object' command\r\n");
    check(
        &mut raw,
        &["OBJECT", "ENCODING"],
        "-ERR wrong number of arguments for 'object|encoding' command\r\n",
    );
    check(
        &mut raw,
        &["OBJECT", "Refcount", "a", "b"],
        "-ERR wrong number of arguments for 'object|refcount' command\r\n",
    );
    check(&mut raw, &["OBJECT", "HELP", "x"], "-ERR wrong number of arguments for 'object|help' command\r\n");
}

#[test]
fn object_refcount_without_shared_integers_under_lru() {
    let srv = start_with(|cfg| {
        cfg.maxmemory = 1 << 30;
        cfg.maxmemory_policy = spindle_kv::server::config::EvictionPolicy::AllKeysLru;
    });
    let mut c = conn(&srv);
    let _: () = c.set("n", "5").unwrap();
    assert_eq!(q::<i64>(&mut c, &["OBJECT", "REFCOUNT", "n"]), 1);
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "n"]), "int");
}
