//! Set commands: replies and errors byte for byte (as Redis 7.0 gives
//! them), SPOP/SRANDMEMBER counts, SSCAN, and the algebra against a model.

mod common;
use common::*;
use std::collections::BTreeSet;

/// The members of `key`, sorted.
fn members(c: &mut redis::Connection, key: &str) -> BTreeSet<String> {
    q(c, &["SMEMBERS", key])
}

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

#[test]
fn membership_commands() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    check(&mut r, &["SADD", "s", "3", "1", "2", "1"], ":3\r\n");
    check(&mut r, &["SADD", "s", "2", "4"], ":1\r\n");
    // An intset replies in ascending order.
    check(&mut r, &["SMEMBERS", "s"], "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n");
    check(&mut r, &["SCARD", "s"], ":4\r\n");
    check(&mut r, &["SCARD", "nokey"], ":0\r\n");
    check(&mut r, &["SISMEMBER", "s", "3"], ":1\r\n");
    check(&mut r, &["SISMEMBER", "s", "03"], ":0\r\n");
    check(&mut r, &["SISMEMBER", "nokey", "3"], ":0\r\n");
    check(&mut r, &["SMISMEMBER", "s", "1", "x", "4"], "*3\r\n:1\r\n:0\r\n:1\r\n");
    check(&mut r, &["SMISMEMBER", "nokey", "1", "x"], "*2\r\n:0\r\n:0\r\n");
    check(&mut r, &["SMEMBERS", "nokey"], "*0\r\n");
    // A string joins: listpack, insertion order.
    check(&mut r, &["SADD", "t", "b", "a", "c"], ":3\r\n");
    check(&mut r, &["SMEMBERS", "t"], "*3\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nc\r\n");
    check(&mut r, &["SREM", "t", "a", "zz"], ":1\r\n");
    check(&mut r, &["SREM", "nokey", "a"], ":0\r\n");
    check(&mut r, &["SREM", "t", "b", "c"], ":2\r\n");
    check(&mut r, &["EXISTS", "t"], ":0\r\n");
    check(&mut r, &["SADD", "s"], "-ERR wrong number of arguments for 'sadd' command\r\n");
    check(&mut r, &["SMISMEMBER", "s"], "-ERR wrong number of arguments for 'smismember' command\r\n");
}

#[test]
fn every_set_command_refuses_other_types() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    check(&mut r, &["SET", "str", "v"], "+OK\r\n");
    check(&mut r, &["SADD", "s", "1"], ":1\r\n");
    for args in [
        &["SADD", "str", "a"][..],
        &["SREM", "str", "a"],
        &["SISMEMBER", "str", "a"],
        &["SMISMEMBER", "str", "a"],
        &["SMEMBERS", "str"],
        &["SCARD", "str"],
        &["SPOP", "str"],
        &["SPOP", "str", "0"],
        &["SRANDMEMBER", "str"],
        &["SRANDMEMBER", "str", "0"],
        &["SSCAN", "str", "0"],
        &["SINTER", "s", "str"],
        &["SINTER", "nokey", "str"],
        &["SINTERCARD", "2", "nokey", "str"],
        &["SINTERSTORE", "d", "nokey", "str"],
        &["SUNION", "nokey", "str"],
        &["SUNIONSTORE", "d", "s", "str"],
        &["SDIFF", "nokey", "str"],
        &["SDIFFSTORE", "d", "s", "str"],
        &["SMOVE", "s", "str", "1"],
        &["SMOVE", "str", "s", "1"],
    ] {
        check(&mut r, args, WRONGTYPE);
    }
    check(&mut r, &["EXISTS", "d"], ":0\r\n");
    check(&mut r, &["SMEMBERS", "s"], "*1\r\n$1\r\n1\r\n");
    // A missing source replies 0 before the destination's type is checked.
    check(&mut r, &["SMOVE", "nokey", "str", "x"], ":0\r\n");
}

#[test]
fn spop_counts_and_errors() {
    for (intset, listpack) in [(512, 128), (4, 4)] {
        let srv = start_with(|cfg| {
            cfg.encoding.set_max_intset_entries = intset;
            cfg.encoding.set_max_listpack_entries = listpack;
        });
        let mut c = conn(&srv);
        for prefix in ["", "m"] {
            let key = format!("s{prefix}");
            let all: BTreeSet<String> = (0..30).map(|i| format!("{prefix}{i}")).collect();
            for m in &all {
                let _: i64 = q(&mut c, &["SADD", &key, m]);
            }
            let one: String = q(&mut c, &["SPOP", &key]);
            assert!(all.contains(&one));
            let mut popped: BTreeSet<String> = [one].into();
            let some: Vec<String> = q(&mut c, &["SPOP", &key, "10"]);
            assert_eq!(some.len(), 10);
            popped.extend(some);
            assert_eq!(popped.len(), 11, "popped members are distinct");
            let left = members(&mut c, &key);
            assert_eq!(left.len(), 19);
            assert!(left.is_disjoint(&popped));
            assert_eq!(left.union(&popped).cloned().collect::<BTreeSet<_>>(), all);
            let none: Vec<String> = q(&mut c, &["SPOP", &key, "0"]);
            assert!(none.is_empty());
            let rest: Vec<String> = q(&mut c, &["SPOP", &key, "100"]);
            assert_eq!(rest.into_iter().collect::<BTreeSet<_>>(), left);
            assert_eq!(q::<i64>(&mut c, &["EXISTS", &key]), 0);
        }
    }
    let srv = start();
    let mut r = Raw::connect(&srv);
    check(&mut r, &["SADD", "s", "a"], ":1\r\n");
    check(&mut r, &["SPOP", "nokey"], "$-1\r\n");
    check(&mut r, &["SPOP", "nokey", "0"], "*0\r\n");
    check(&mut r, &["SPOP", "nokey", "3"], "*0\r\n");
    check(&mut r, &["SPOP", "s", "-1"], "-ERR value is out of range, must be positive\r\n");
    check(&mut r, &["SPOP", "s", "x"], "-ERR value is out of range, must be positive\r\n");
    check(&mut r, &["SPOP", "nokey", "-1"], "-ERR value is out of range, must be positive\r\n");
    check(&mut r, &["SPOP", "s", "1", "2"], "-ERR syntax error\r\n");
    check(&mut r, &["SPOP", "s"], "$1\r\na\r\n");
    check(&mut r, &["EXISTS", "s"], ":0\r\n");
}

#[test]
fn srandmember_counts_and_errors() {
    for (intset, listpack) in [(512, 128), (4, 4)] {
        let srv = start_with(|cfg| {
            cfg.encoding.set_max_intset_entries = intset;
            cfg.encoding.set_max_listpack_entries = listpack;
        });
        let mut c = conn(&srv);
        for prefix in ["", "m"] {
            let key = format!("s{prefix}");
            let all: BTreeSet<String> = (0..20).map(|i| format!("{prefix}{i}")).collect();
            for m in &all {
                let _: i64 = q(&mut c, &["SADD", &key, m]);
            }
            let one: String = q(&mut c, &["SRANDMEMBER", &key]);
            assert!(all.contains(&one));
            for n in [1, 6, 19, 20] {
                let got: Vec<String> = q(&mut c, &["SRANDMEMBER", &key, &n.to_string()]);
                assert_eq!(got.len(), n);
                let distinct: BTreeSet<String> = got.into_iter().collect();
                assert_eq!(distinct.len(), n, "a positive count gives distinct members");
                assert!(distinct.is_subset(&all));
            }
            let got: Vec<String> = q(&mut c, &["SRANDMEMBER", &key, "50"]);
            assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), all);
            let got: Vec<String> = q(&mut c, &["SRANDMEMBER", &key, "-2500"]);
            assert_eq!(got.len(), 2500, "a negative count gives exactly |count| members");
            assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), all, "2500 draws reach every member");
            assert!(q::<Vec<String>>(&mut c, &["SRANDMEMBER", &key, "0"]).is_empty());
            assert_eq!(members(&mut c, &key), all, "SRANDMEMBER does not modify the set");
        }
    }
    let srv = start();
    let mut r = Raw::connect(&srv);
    check(&mut r, &["SADD", "s", "a"], ":1\r\n");
    check(&mut r, &["SRANDMEMBER", "nokey"], "$-1\r\n");
    check(&mut r, &["SRANDMEMBER", "nokey", "5"], "*0\r\n");
    check(&mut r, &["SRANDMEMBER", "s", "-3"], "*3\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n");
    check(&mut r, &["SRANDMEMBER", "s", "x"], "-ERR value is not an integer or out of range\r\n");
    check(&mut r, &["SRANDMEMBER", "s", "1", "2"], "-ERR syntax error\r\n");
    check(
        &mut r,
        &["SRANDMEMBER", "s", "-9223372036854775808"],
        "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n",
    );
}

#[test]
fn smove_semantics() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    check(&mut r, &["SADD", "a", "1", "2"], ":2\r\n");
    check(&mut r, &["SADD", "b", "x"], ":1\r\n");
    check(&mut r, &["SMOVE", "a", "b", "1"], ":1\r\n");
    check(&mut r, &["SMOVE", "a", "b", "nope"], ":0\r\n");
    check(&mut r, &["SMEMBERS", "b"], "*2\r\n$1\r\nx\r\n$1\r\n1\r\n");
    // Moving to a set that has the member only removes it from the source.
    check(&mut r, &["SADD", "a", "x"], ":1\r\n");
    check(&mut r, &["SMOVE", "a", "b", "x"], ":1\r\n");
    check(&mut r, &["SMEMBERS", "a"], "*1\r\n$1\r\n2\r\n");
    // Same key: membership only.
    check(&mut r, &["SMOVE", "a", "a", "2"], ":1\r\n");
    check(&mut r, &["SMOVE", "a", "a", "9"], ":0\r\n");
    // The last member moves: the source goes, the destination is created.
    check(&mut r, &["SMOVE", "a", "c", "2"], ":1\r\n");
    check(&mut r, &["EXISTS", "a"], ":0\r\n");
    check(&mut r, &["SMEMBERS", "c"], "*1\r\n$1\r\n2\r\n");
}

/// Members seen by a full SSCAN iteration, and the number of calls.
fn sscan_all(c: &mut redis::Connection, key: &str, extra: &[&str]) -> (Vec<String>, usize) {
    let mut cursor = "0".to_string();
    let mut seen = Vec::new();
    let mut calls = 0;
    loop {
        let mut args = vec!["SSCAN", key, &cursor];
        args.extend_from_slice(extra);
        let (next, items): (String, Vec<String>) = q(c, &args);
        calls += 1;
        seen.extend(items);
        cursor = next;
        if cursor == "0" {
            return (seen, calls);
        }
        assert!(calls < 100_000, "SSCAN does not terminate");
    }
}

#[test]
fn sscan_iterates_every_encoding() {
    let srv = start_with(|cfg| {
        cfg.encoding.set_max_intset_entries = 8;
        cfg.encoding.set_max_listpack_entries = 8;
    });
    let mut c = conn(&srv);
    let ints: Vec<String> = (0..5).map(|i| i.to_string()).collect();
    let strs: Vec<String> = (0..5).map(|i| format!("m{i}")).collect();
    let big: Vec<String> = (0..300).map(|i| format!("k{i}")).collect();
    for (key, ms) in [("ints", &ints), ("strs", &strs), ("big", &big)] {
        let mut args = vec!["SADD", key];
        args.extend(ms.iter().map(String::as_str));
        assert_eq!(q::<usize>(&mut c, &args), ms.len());
        let (seen, calls) = sscan_all(&mut c, key, &["COUNT", "3"]);
        let uniq: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(uniq, ms.iter().collect::<BTreeSet<_>>(), "{key}");
        if key == "big" {
            assert!(calls > 1, "a hash table is scanned incrementally");
        } else {
            assert_eq!(calls, 1, "a compact set is returned at once");
            assert_eq!(seen.len(), ms.len());
        }
    }
    let (seen, _) = sscan_all(&mut c, "big", &["MATCH", "k1*"]);
    let uniq: BTreeSet<String> = seen.into_iter().collect();
    let want: BTreeSet<String> = big.iter().filter(|m| m.starts_with("k1")).cloned().collect();
    assert_eq!(uniq, want);

    let mut r = Raw::connect(&srv);
    check(&mut r, &["SSCAN", "ints", "x"], "-ERR invalid cursor\r\n");
    check(&mut r, &["SSCAN", "ints", "0", "COUNT", "0"], "-ERR syntax error\r\n");
    check(&mut r, &["SSCAN", "ints", "0", "MATCH"], "-ERR syntax error\r\n");
    check(&mut r, &["SSCAN", "nokey", "0"], "*2\r\n$1\r\n0\r\n*0\r\n");
    check(&mut r, &["SSCAN", "ints", "0", "MATCH", "[23]"], "*2\r\n$1\r\n0\r\n*2\r\n$1\r\n2\r\n$1\r\n3\r\n");
}

#[test]
fn sintercard_and_store_errors() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    check(&mut r, &["SADD", "a", "1", "2", "3"], ":3\r\n");
    check(&mut r, &["SADD", "b", "2", "3", "4"], ":3\r\n");
    check(&mut r, &["SINTERCARD", "2", "a", "b"], ":2\r\n");
    check(&mut r, &["SINTERCARD", "2", "a", "b", "LIMIT", "1"], ":1\r\n");
    check(&mut r, &["SINTERCARD", "2", "a", "b", "limit", "0"], ":2\r\n");
    check(&mut r, &["SINTERCARD", "2", "a", "nokey"], ":0\r\n");
    check(&mut r, &["SINTERCARD", "0", "a"], "-ERR numkeys should be greater than 0\r\n");
    check(&mut r, &["SINTERCARD", "x", "a"], "-ERR numkeys should be greater than 0\r\n");
    check(&mut r, &["SINTERCARD", "-1", "a"], "-ERR numkeys should be greater than 0\r\n");
    check(
        &mut r,
        &["SINTERCARD", "3", "a", "b"],
        "-ERR Number of keys can't be greater than number of args\r\n",
    );
    check(&mut r, &["SINTERCARD", "1", "a", "LIMIT", "-1"], "-ERR LIMIT can't be negative\r\n");
    check(&mut r, &["SINTERCARD", "1", "a", "LIMIT", "x"], "-ERR LIMIT can't be negative\r\n");
    check(&mut r, &["SINTERCARD", "1", "a", "LIMIT"], "-ERR syntax error\r\n");
    check(&mut r, &["SINTERCARD", "1", "a", "foo"], "-ERR syntax error\r\n");
    // STORE replaces any value and deletes the destination when empty.
    check(&mut r, &["SET", "d", "string"], "+OK\r\n");
    check(&mut r, &["SINTERSTORE", "d", "a", "b"], ":2\r\n");
    check(&mut r, &["SMEMBERS", "d"], "*2\r\n$1\r\n2\r\n$1\r\n3\r\n");
    check(&mut r, &["SINTERSTORE", "d", "a", "nokey"], ":0\r\n");
    check(&mut r, &["EXISTS", "d"], ":0\r\n");
    check(&mut r, &["SUNIONSTORE", "d", "a", "b"], ":4\r\n");
    check(&mut r, &["SDIFFSTORE", "d", "a", "a"], ":0\r\n");
    check(&mut r, &["EXISTS", "d"], ":0\r\n");
    check(&mut r, &["SDIFFSTORE", "d", "nokey", "a"], ":0\r\n");
    check(&mut r, &["SDIFFSTORE", "a", "a", "b"], ":1\r\n");
    check(&mut r, &["SMEMBERS", "a"], "*1\r\n$1\r\n1\r\n");
    check(&mut r, &["SINTERSTORE", "d"], "-ERR wrong number of arguments for 'sinterstore' command\r\n");
}

/// `cmd pre... keys...`.
fn build<'a>(cmd: &'a str, pre: &[&'a str], keys: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![cmd];
    v.extend_from_slice(pre);
    v.extend_from_slice(keys);
    v
}

/// A small deterministic generator for the model test.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[test]
fn algebra_matches_a_model() {
    let srv = start_with(|cfg| {
        cfg.encoding.set_max_intset_entries = 16;
        cfg.encoding.set_max_listpack_entries = 16;
    });
    let mut c = conn(&srv);
    let mut rng = Lcg(7);
    for round in 0..40 {
        let nkeys = 1 + rng.next(4) as usize;
        let mut model: Vec<BTreeSet<String>> = Vec::new();
        let keys: Vec<String> = (0..nkeys).map(|i| format!("r{round}:{i}")).collect();
        for key in &keys {
            // Sizes across the three encodings; some keys stay missing.
            let size = [0, 3, 12, 40][rng.next(4) as usize];
            let ints = rng.next(2) == 0;
            let set: BTreeSet<String> = (0..size)
                .map(|_| {
                    let v = rng.next(60);
                    if ints {
                        v.to_string()
                    } else {
                        format!("e{v}")
                    }
                })
                .collect();
            if !set.is_empty() {
                let mut args = vec!["SADD", key];
                args.extend(set.iter().map(String::as_str));
                let _: i64 = q(&mut c, &args);
            }
            model.push(set);
        }
        let inter =
            model.iter().skip(1).fold(model[0].clone(), |acc, s| acc.intersection(s).cloned().collect());
        let union: BTreeSet<String> = model.iter().flatten().cloned().collect();
        let diff: BTreeSet<String> =
            model[0].iter().filter(|m| !model[1..].iter().any(|s| s.contains(*m))).cloned().collect();
        let key_args: Vec<&str> = keys.iter().map(String::as_str).collect();
        let got: Vec<String> = q(&mut c, &build("SINTER", &[], &key_args));
        assert_eq!(got.len(), inter.len(), "SINTER repeats nothing");
        assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), inter, "SINTER {keys:?}");
        let got: Vec<String> = q(&mut c, &build("SUNION", &[], &key_args));
        assert_eq!(got.len(), union.len());
        assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), union, "SUNION {keys:?}");
        let got: Vec<String> = q(&mut c, &build("SDIFF", &[], &key_args));
        assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), diff, "SDIFF {keys:?}");
        let n = nkeys.to_string();
        let mut card = vec!["SINTERCARD", &n];
        card.extend(key_args.iter().copied());
        assert_eq!(q::<usize>(&mut c, &card), inter.len());
        card.extend(["LIMIT", "2"]);
        assert_eq!(q::<usize>(&mut c, &card), inter.len().min(2));
        for (cmd, want) in [("SINTERSTORE", &inter), ("SUNIONSTORE", &union), ("SDIFFSTORE", &diff)] {
            let dst = format!("dst{round}");
            assert_eq!(q::<usize>(&mut c, &build(cmd, &[&dst], &key_args)), want.len());
            assert_eq!(&members(&mut c, &dst), want, "{cmd} {keys:?}");
            assert_eq!(q::<i64>(&mut c, &["EXISTS", &dst]), i64::from(!want.is_empty()));
        }
    }
}
