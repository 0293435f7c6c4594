//! Hash commands: replies and errors byte for byte (as Redis 7.0 gives
//! them), conversion to a hash table through the commands, HSCAN and
//! HRANDFIELD.

mod common;
use common::*;
use std::collections::{BTreeMap, BTreeSet};

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

#[test]
fn set_get_and_their_errors() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    check(&mut r, &["HSET", "h", "a", "1", "b", "2"], ":2\r\n");
    check(&mut r, &["HSET", "h", "a", "x", "c", "3"], ":1\r\n");
    check(&mut r, &["HGET", "h", "a"], "$1\r\nx\r\n");
    check(&mut r, &["HGET", "h", "zz"], "$-1\r\n");
    check(&mut r, &["HGET", "nokey", "a"], "$-1\r\n");
    check(&mut r, &["HSET", "h", "a"], "-ERR wrong number of arguments for 'hset' command\r\n");
    check(&mut r, &["HSET", "h", "a", "1", "b"], "-ERR wrong number of arguments for 'hset' command\r\n");
    check(&mut r, &["HMSET", "h", "a"], "-ERR wrong number of arguments for 'hmset' command\r\n");
    check(&mut r, &["HMSET", "h", "a", "1", "d", "4"], "+OK\r\n");
    check(&mut r, &["HSETNX", "h", "a", "nope"], ":0\r\n");
    check(&mut r, &["HSETNX", "h", "e", "5"], ":1\r\n");
    check(&mut r, &["HMGET", "h", "a", "zz", "e"], "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n5\r\n");
    check(&mut r, &["HMGET", "nokey", "a", "b"], "*2\r\n$-1\r\n$-1\r\n");
    check(&mut r, &["HEXISTS", "h", "a"], ":1\r\n");
    check(&mut r, &["HEXISTS", "h", "zz"], ":0\r\n");
    check(&mut r, &["HEXISTS", "nokey", "a"], ":0\r\n");
    check(&mut r, &["HLEN", "h"], ":5\r\n");
    check(&mut r, &["HLEN", "nokey"], ":0\r\n");
    check(&mut r, &["HSTRLEN", "h", "b"], ":1\r\n");
    check(&mut r, &["HSTRLEN", "h", "zz"], ":0\r\n");
    check(&mut r, &["HSTRLEN", "nokey", "zz"], ":0\r\n");
    // A listpack keeps insertion order.
    check(&mut r, &["HKEYS", "h"], "*5\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n");
    check(&mut r, &["HVALS", "h"], "*5\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n");
    check(&mut r, &["HKEYS", "nokey"], "*0\r\n");
    check(&mut r, &["HVALS", "nokey"], "*0\r\n");
    check(&mut r, &["HGETALL", "nokey"], "*0\r\n");
    check(&mut r, &["HDEL", "h", "a", "b", "zz"], ":2\r\n");
    check(
        &mut r,
        &["HGETALL", "h"],
        "*6\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n",
    );
    check(&mut r, &["HDEL", "nokey", "a"], ":0\r\n");
    check(&mut r, &["HGET", "h"], "-ERR wrong number of arguments for 'hget' command\r\n");
}

#[test]
fn empty_hashes_are_deleted() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    check(&mut r, &["HSET", "h", "a", "1", "b", "2"], ":2\r\n");
    check(&mut r, &["HDEL", "h", "a", "b", "a"], ":2\r\n");
    check(&mut r, &["EXISTS", "h"], ":0\r\n");
    check(&mut r, &["TYPE", "h"], "+none\r\n");
    // The key can become a string now.
    check(&mut r, &["SET", "h", "v"], "+OK\r\n");
}

#[test]
fn every_hash_command_refuses_other_types() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    check(&mut r, &["SET", "s", "v"], "+OK\r\n");
    for args in [
        &["HSET", "s", "a", "1"][..],
        &["HMSET", "s", "a", "1"],
        &["HSETNX", "s", "a", "1"],
        &["HGET", "s", "a"],
        &["HMGET", "s", "a"],
        &["HDEL", "s", "a"],
        &["HEXISTS", "s", "a"],
        &["HLEN", "s"],
        &["HSTRLEN", "s", "a"],
        &["HKEYS", "s"],
        &["HVALS", "s"],
        &["HGETALL", "s"],
        &["HINCRBY", "s", "a", "1"],
        &["HINCRBYFLOAT", "s", "a", "1"],
        &["HRANDFIELD", "s"],
        &["HRANDFIELD", "s", "2"],
        &["HSCAN", "s", "0"],
    ] {
        check(&mut r, args, WRONGTYPE);
    }
    check(&mut r, &["GET", "s"], "$1\r\nv\r\n");
}

#[test]
fn integer_and_float_counters() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    check(&mut r, &["HINCRBY", "h", "n", "5"], ":5\r\n");
    check(&mut r, &["HINCRBY", "h", "n", "-7"], ":-2\r\n");
    check(&mut r, &["HGET", "h", "n"], "$2\r\n-2\r\n");
    check(&mut r, &["HINCRBY", "h", "n", "x"], "-ERR value is not an integer or out of range\r\n");
    check(&mut r, &["HSET", "h", "s", "abc", "z", "007"], ":2\r\n");
    check(&mut r, &["HINCRBY", "h", "s", "1"], "-ERR hash value is not an integer\r\n");
    check(&mut r, &["HINCRBY", "h", "z", "1"], "-ERR hash value is not an integer\r\n");
    check(&mut r, &["HSET", "h", "big", "9223372036854775807"], ":1\r\n");
    check(&mut r, &["HINCRBY", "h", "big", "1"], "-ERR increment or decrement would overflow\r\n");
    check(&mut r, &["HGET", "h", "big"], "$19\r\n9223372036854775807\r\n");
    check(&mut r, &["HINCRBY", "nokey", "f", "x"], "-ERR value is not an integer or out of range\r\n");
    check(&mut r, &["EXISTS", "nokey"], ":0\r\n");

    check(&mut r, &["HINCRBYFLOAT", "h", "f", "10.5"], "$4\r\n10.5\r\n");
    check(&mut r, &["HINCRBYFLOAT", "h", "f", "0.1"], "$4\r\n10.6\r\n");
    check(&mut r, &["HINCRBYFLOAT", "h", "n", "1.5"], "$4\r\n-0.5\r\n");
    check(&mut r, &["HINCRBYFLOAT", "h", "s", "1"], "-ERR hash value is not a float\r\n");
    check(&mut r, &["HINCRBYFLOAT", "h", "f", "x"], "-ERR value is not a valid float\r\n");
    check(&mut r, &["HINCRBYFLOAT", "h", "f", "inf"], "-ERR value is NaN or Infinity\r\n");
    check(&mut r, &["HINCRBYFLOAT", "h", "f", "nan"], "-ERR value is not a valid float\r\n");
    check(&mut r, &["HSET", "h", "huge", "1e308"], ":1\r\n");
    // Long double arithmetic: no overflow where a double would have one.
    let expected = "199999999999999999993371759311691291321120199694831134415594095989843469737676123744200253843777078640893494450108026446304269499187921167194841628860392837535918200039206381557326219209014213335878306791577877829121087126122536729803237260434173178506889763247582601711514636284849020905456510092687857156096";
    check(&mut r, &["HINCRBYFLOAT", "h", "huge", "1e308"], &format!("${}\r\n{expected}\r\n", expected.len()));
    check(&mut r, &["HSET", "h", "inf", "inf"], ":1\r\n");
    check(&mut r, &["HINCRBYFLOAT", "h", "inf", "1"], "-ERR increment would produce NaN or Infinity\r\n");
    check(&mut r, &["HINCRBYFLOAT", "nokey", "f", "x"], "-ERR value is not a valid float\r\n");
    check(&mut r, &["EXISTS", "nokey"], ":0\r\n");
}

/// Fields seen by a full HSCAN iteration, and the number of calls it took.
fn hscan_all(c: &mut redis::Connection, key: &str, extra: &[&str]) -> (BTreeMap<String, String>, usize) {
    let mut cursor = "0".to_string();
    let mut seen = BTreeMap::new();
    let mut calls = 0;
    loop {
        let mut args = vec!["HSCAN", key, &cursor];
        args.extend_from_slice(extra);
        let (next, items): (String, Vec<String>) = q(c, &args);
        calls += 1;
        assert_eq!(items.len() % 2, 0);
        for pair in items.chunks(2) {
            seen.insert(pair[0].clone(), pair[1].clone());
        }
        cursor = next;
        if cursor == "0" {
            return (seen, calls);
        }
        assert!(calls < 100_000, "HSCAN does not terminate");
    }
}

#[test]
fn listpack_converts_to_a_table_through_the_commands() {
    let srv = start_with(|cfg| {
        cfg.encoding.hash_max_listpack_entries = 4;
        cfg.encoding.hash_max_listpack_value = 8;
    });
    let mut c = conn(&srv);
    let _: i64 = q(&mut c, &["HSET", "h", "f1", "v1", "f2", "v2", "f3", "v3", "f4", "v4"]);
    // Still a listpack: HSCAN returns it whole, in insertion order, even
    // with COUNT 1.
    let (next, items): (String, Vec<String>) = q(&mut c, &["HSCAN", "h", "0", "COUNT", "1"]);
    assert_eq!(next, "0");
    assert_eq!(items, ["f1", "v1", "f2", "v2", "f3", "v3", "f4", "v4"]);
    // A fifth field converts it; everything survives.
    let _: i64 = q(&mut c, &["HSET", "h", "f5", "v5"]);
    let all: BTreeMap<String, String> = q(&mut c, &["HGETALL", "h"]);
    let want: BTreeMap<String, String> = (1..=5).map(|i| (format!("f{i}"), format!("v{i}"))).collect();
    assert_eq!(all, want);
    for i in 6..=200 {
        let _: i64 = q(&mut c, &["HSET", "h", &format!("f{i}"), &format!("v{i}")]);
    }
    let want: BTreeMap<String, String> = (1..=200).map(|i| (format!("f{i}"), format!("v{i}"))).collect();
    // A table is scanned in steps.
    let (seen, calls) = hscan_all(&mut c, "h", &["COUNT", "5"]);
    assert_eq!(seen, want);
    assert!(calls > 1, "a hash table is scanned incrementally");
    let (seen, _) = hscan_all(&mut c, "h", &[]);
    assert_eq!(seen, want);
    // A long value converts a small hash at once.
    let _: i64 = q(&mut c, &["HSET", "g", "a", "1"]);
    let _: i64 = q(&mut c, &["HSET", "g", "b", "a-long-value"]);
    let (seen, _) = hscan_all(&mut c, "g", &["COUNT", "1"]);
    assert_eq!(seen.len(), 2);
    assert_eq!(q::<String>(&mut c, &["HGET", "g", "b"]), "a-long-value");
    // Deleting down to nothing deletes the key, table or not.
    let fields: Vec<String> = (1..=200).map(|i| format!("f{i}")).collect();
    let mut args = vec!["HDEL", "h"];
    args.extend(fields.iter().map(String::as_str));
    assert_eq!(q::<i64>(&mut c, &args), 200);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "h"]), 0);
}

#[test]
fn hscan_options_and_errors() {
    let srv = start_with(|cfg| cfg.encoding.hash_max_listpack_entries = 4);
    let mut c = conn(&srv);
    for i in 0..50 {
        let _: i64 = q(&mut c, &["HSET", "h", &format!("key:{i}"), &i.to_string()]);
        let _: i64 = q(&mut c, &["HSET", "h", &format!("other:{i}"), &i.to_string()]);
    }
    let (seen, _) = hscan_all(&mut c, "h", &["MATCH", "key:*", "COUNT", "7"]);
    let want: BTreeMap<String, String> = (0..50).map(|i| (format!("key:{i}"), i.to_string())).collect();
    assert_eq!(seen, want);
    let (seen, _) = hscan_all(&mut c, "h", &["match", "*", "count", "1000"]);
    assert_eq!(seen.len(), 100);

    let mut r = Raw::connect(&srv);
    check(&mut r, &["HSCAN", "h", "x"], "-ERR invalid cursor\r\n");
    check(&mut r, &["HSCAN", "h", " 0"], "-ERR invalid cursor\r\n");
    check(&mut r, &["HSCAN", "h", "18446744073709551616"], "-ERR invalid cursor\r\n");
    check(&mut r, &["HSCAN", "h", "0", "COUNT", "0"], "-ERR syntax error\r\n");
    check(&mut r, &["HSCAN", "h", "0", "COUNT", "-1"], "-ERR syntax error\r\n");
    check(&mut r, &["HSCAN", "h", "0", "COUNT", "x"], "-ERR value is not an integer or out of range\r\n");
    check(&mut r, &["HSCAN", "h", "0", "MATCH"], "-ERR syntax error\r\n");
    check(&mut r, &["HSCAN", "h", "0", "TYPE", "string"], "-ERR syntax error\r\n");
    check(&mut r, &["HSCAN", "h", "0", "foo"], "-ERR syntax error\r\n");
    // A missing key is an empty scan, options unchecked, as Redis.
    check(&mut r, &["HSCAN", "nokey", "0"], "*2\r\n$1\r\n0\r\n*0\r\n");
    check(&mut r, &["HSCAN", "nokey", "0", "foo"], "*2\r\n$1\r\n0\r\n*0\r\n");
    check(&mut r, &["HSCAN", "nokey", "x"], "-ERR invalid cursor\r\n");
    check(&mut r, &["HSET", "small", "a", "1"], ":1\r\n");
    check(&mut r, &["HSCAN", "small", "0", "MATCH", "b*"], "*2\r\n$1\r\n0\r\n*0\r\n");
    check(&mut r, &["HSCAN", "small", "0", "MATCH", "a*"], "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n");
}

#[test]
fn hrandfield_counts() {
    for entries in [128, 4] {
        let srv = start_with(|cfg| cfg.encoding.hash_max_listpack_entries = entries);
        let mut c = conn(&srv);
        let want: BTreeMap<String, String> = (0..20).map(|i| (format!("f{i}"), format!("v{i}"))).collect();
        for (f, v) in &want {
            let _: i64 = q(&mut c, &["HSET", "h", f, v]);
        }
        let one: String = q(&mut c, &["HRANDFIELD", "h"]);
        assert!(want.contains_key(&one));
        for n in [1, 5, 19, 20] {
            let got: Vec<String> = q(&mut c, &["HRANDFIELD", "h", &n.to_string()]);
            let distinct: BTreeSet<&String> = got.iter().collect();
            assert_eq!(got.len(), n);
            assert_eq!(distinct.len(), n, "a positive count gives distinct fields");
            assert!(got.iter().all(|f| want.contains_key(f)));
        }
        let got: Vec<String> = q(&mut c, &["HRANDFIELD", "h", "100"]);
        assert_eq!(got.iter().collect::<BTreeSet<_>>(), want.keys().collect::<BTreeSet<_>>());
        let got: Vec<String> = q(&mut c, &["HRANDFIELD", "h", "-3000"]);
        assert_eq!(got.len(), 3000, "a negative count gives exactly |count| fields");
        let distinct: BTreeSet<&String> = got.iter().collect();
        assert_eq!(distinct.len(), 20, "3000 draws with repetition reach every field");
        let got: Vec<String> = q(&mut c, &["HRANDFIELD", "h", "-5", "WITHVALUES"]);
        assert_eq!(got.len(), 10);
        for pair in got.chunks(2) {
            assert_eq!(want[&pair[0]], pair[1]);
        }
        let got: Vec<String> = q(&mut c, &["HRANDFIELD", "h", "7", "withvalues"]);
        assert_eq!(got.len(), 14);
        let fields: BTreeSet<&String> = got.chunks(2).map(|p| &p[0]).collect();
        assert_eq!(fields.len(), 7);
        assert!(got.chunks(2).all(|p| want[&p[0]] == p[1]));
        assert_eq!(q::<Vec<String>>(&mut c, &["HRANDFIELD", "h", "0"]).len(), 0);
    }
    let srv = start();
    let mut r = Raw::connect(&srv);
    check(&mut r, &["HSET", "h", "a", "1"], ":1\r\n");
    check(&mut r, &["HRANDFIELD", "nokey"], "$-1\r\n");
    check(&mut r, &["HRANDFIELD", "nokey", "3"], "*0\r\n");
    check(&mut r, &["HRANDFIELD", "nokey", "-3", "WITHVALUES"], "*0\r\n");
    check(&mut r, &["HRANDFIELD", "h", "-2"], "*2\r\n$1\r\na\r\n$1\r\na\r\n");
    check(&mut r, &["HRANDFIELD", "h", "x"], "-ERR value is not an integer or out of range\r\n");
    check(&mut r, &["HRANDFIELD", "h", "1", "WITHVALUE"], "-ERR syntax error\r\n");
    check(&mut r, &["HRANDFIELD", "h", "1", "WITHVALUES", "x"], "-ERR syntax error\r\n");
    check(
        &mut r,
        &["HRANDFIELD", "h", "-9223372036854775808"],
        "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n",
    );
    check(
        &mut r,
        &["HRANDFIELD", "h", "9223372036854775807", "WITHVALUES"],
        "-ERR value is out of range\r\n",
    );
    check(
        &mut r,
        &["HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"],
        "-ERR value is out of range\r\n",
    );
    check(&mut r, &["HRANDFIELD", "h", "4611686018427387903", "WITHVALUES"], "*2\r\n$1\r\na\r\n$1\r\n1\r\n");
}

/// redis-server 7.0.15 (and 7.2) default hash-max-listpack-entries to 512,
/// not 128 as zsets and small sets do.
#[test]
fn hashes_stay_listpacks_up_to_512_fields_by_default() {
    let srv = start();
    let mut c = conn(&srv);
    let got: Vec<String> = q(&mut c, &["CONFIG", "GET", "hash-max-listpack-entries"]);
    assert_eq!(got, ["hash-max-listpack-entries", "512"]);
    let fields: Vec<String> = (0..512).flat_map(|i| [format!("f{i}"), "v".to_string()]).collect();
    let mut args = vec!["HSET", "h"];
    args.extend(fields.iter().map(String::as_str));
    assert_eq!(q::<i64>(&mut c, &args), 512);
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "h"]), "listpack");
    let _: i64 = q(&mut c, &["HSET", "h", "one-more", "v"]);
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "h"]), "hashtable");
}
