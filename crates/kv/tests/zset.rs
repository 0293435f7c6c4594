//! Sorted set commands: replies and errors byte for byte (as Redis 7.0
//! gives them, in RESP2 and RESP3), encodings, the ZRANGE family against a
//! model, ZSCAN, the algebra, ZRANDMEMBER counts and keyspace events.
//!
//! Scores in these tests are chosen so that Redis 7.0's `%.17g` and the
//! shortest round-trip formatting (Redis 7.2's) print them the same.

mod common;
use common::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A request in RESP.
fn req(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

/// Sends `args` and asserts the raw reply.
fn check(raw: &mut Raw, args: &[&str], reply: &str) {
    raw.roundtrip(&req(args), reply.as_bytes());
}

/// Runs a command through the `redis` crate.
fn q<T: redis::FromRedisValue>(c: &mut redis::Connection, args: &[&str]) -> T {
    redis::cmd(args[0]).arg(&args[1..]).query(c).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// Switches a raw connection to RESP3, skipping HELLO's reply.
fn resp3(raw: &mut Raw) {
    raw.send(&req(&["HELLO", "3"]));
    let mut got = Vec::new();
    while !got.ends_with(b"$7\r\nmodules\r\n*0\r\n") {
        got.extend(raw.read_exact_len(1));
    }
}

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

/// `*n` then `$len member` for each.
fn bulks(items: &[&str]) -> String {
    let mut s = format!("*{}\r\n", items.len());
    for i in items {
        s += &format!("${}\r\n{i}\r\n", i.len());
    }
    s
}

#[test]
fn zadd_options_and_errors() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    check(&mut r, &["ZADD", "k", "1", "a", "2", "b"], ":2\r\n");
    check(
        &mut r,
        &["ZADD", "k", "NX", "XX", "1", "a"],
        "-ERR XX and NX options at the same time are not compatible\r\n",
    );
    for opts in [["GT", "NX"], ["gt", "lt"], ["LT", "nx"]] {
        check(
            &mut r,
            &["ZADD", "k", opts[0], opts[1], "1", "a"],
            "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n",
        );
    }
    check(
        &mut r,
        &["ZADD", "k", "INCR", "1", "a", "2", "b"],
        "-ERR INCR option supports a single increment-element pair\r\n",
    );
    check(&mut r, &["ZADD", "k", "1", "a", "2"], "-ERR syntax error\r\n");
    check(&mut r, &["ZADD", "k", "INCR", "1"], "-ERR syntax error\r\n");
    check(&mut r, &["ZADD", "k"], "-ERR wrong number of arguments for 'zadd' command\r\n");
    check(&mut r, &["ZADD", "k", "NX"], "-ERR wrong number of arguments for 'zadd' command\r\n");
    check(&mut r, &["ZADD", "k", "x", "a"], "-ERR value is not a valid float\r\n");
    check(&mut r, &["ZADD", "k", "nan", "a"], "-ERR value is not a valid float\r\n");
    check(&mut r, &["ZADD", "k", "1e400", "x"], "-ERR value is not a valid float\r\n");
    // All scores parse before anything is added.
    check(&mut r, &["ZADD", "k", "5", "new", "x", "a"], "-ERR value is not a valid float\r\n");
    check(&mut r, &["ZSCORE", "k", "new"], "$-1\r\n");
    check(&mut r, &["ZADD", "k", "INCR", "NX", "5", "a"], "$-1\r\n");
    check(&mut r, &["ZADD", "k", "INCR", "5", "a"], "$1\r\n6\r\n");
    check(&mut r, &["ZADD", "k", "INCR", "XX", "5", "zz"], "$-1\r\n");
    check(&mut r, &["ZADD", "k", "INCR", "GT", "-1", "a"], "$-1\r\n");
    check(&mut r, &["ZADD", "k", "INCR", "0", "a"], "$1\r\n6\r\n");
    check(&mut r, &["ZADD", "nokey", "XX", "1", "a"], ":0\r\n");
    check(&mut r, &["ZADD", "nokey", "XX", "INCR", "1", "a"], "$-1\r\n");
    check(&mut r, &["EXISTS", "nokey"], ":0\r\n");
    check(&mut r, &["ZADD", "k", "CH", "1", "a", "10", "b", "3", "c"], ":3\r\n");
    check(&mut r, &["ZADD", "k", "1", "a", "10", "b"], ":0\r\n");
    // GT/LT gate updates, not additions; CH counts the changes.
    check(&mut r, &["ZADD", "k", "GT", "CH", "0", "a", "11", "b", "7", "d"], ":2\r\n");
    check(&mut r, &["ZADD", "k", "LT", "CH", "5", "b", "5", "a"], ":1\r\n");
    check(&mut r, &["ZADD", "k", "XX", "CH", "2", "a", "9", "nope"], ":1\r\n");
    check(
        &mut r,
        &["ZMSCORE", "k", "a", "b", "c", "d", "nope"],
        "*5\r\n$1\r\n2\r\n$1\r\n5\r\n$1\r\n3\r\n$1\r\n7\r\n$-1\r\n",
    );
    check(&mut r, &["ZADD", "k", "INCR", "inf", "a"], "$3\r\ninf\r\n");
    check(&mut r, &["ZADD", "k", "INCR", "-inf", "a"], "-ERR resulting score is not a number (NaN)\r\n");
    check(&mut r, &["ZSCORE", "k", "a"], "$3\r\ninf\r\n");
    check(&mut r, &["ZINCRBY", "k", "1", "b"], "$1\r\n6\r\n");
    check(&mut r, &["ZINCRBY", "k", "x", "b"], "-ERR value is not a valid float\r\n");
    check(&mut r, &["ZINCRBY", "k", "1"], "-ERR wrong number of arguments for 'zincrby' command\r\n");
    check(&mut r, &["ZINCRBY", "nk", "1.5", "m"], "$3\r\n1.5\r\n");
    check(&mut r, &["ZINCRBY", "k", "-inf", "a"], "-ERR resulting score is not a number (NaN)\r\n");
    check(&mut r, &["ZCARD", "k"], ":4\r\n");
}

#[test]
fn point_queries() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    check(&mut r, &["ZADD", "k", "1", "a", "2", "b", "3", "c", "4", "d"], ":4\r\n");
    check(&mut r, &["ZMSCORE", "nokey", "a", "b"], "*2\r\n$-1\r\n$-1\r\n");
    check(&mut r, &["ZMSCORE", "k"], "-ERR wrong number of arguments for 'zmscore' command\r\n");
    check(&mut r, &["ZSCORE", "nokey", "a"], "$-1\r\n");
    check(&mut r, &["ZSCORE", "k"], "-ERR wrong number of arguments for 'zscore' command\r\n");
    check(&mut r, &["ZCARD", "nokey"], ":0\r\n");
    check(&mut r, &["ZCOUNT", "k", "-inf", "+inf"], ":4\r\n");
    check(&mut r, &["ZCOUNT", "k", "(1", "3"], ":2\r\n");
    check(&mut r, &["ZCOUNT", "k", "(1", "(3"], ":1\r\n");
    check(&mut r, &["ZCOUNT", "k", "x", "3"], "-ERR min or max is not a float\r\n");
    check(&mut r, &["ZCOUNT", "nokey", "1", "2"], ":0\r\n");
    check(&mut r, &["ZLEXCOUNT", "k", "-", "+"], ":4\r\n");
    check(&mut r, &["ZLEXCOUNT", "k", "[b", "(d"], ":2\r\n");
    check(&mut r, &["ZLEXCOUNT", "k", "a", "+"], "-ERR min or max not valid string range item\r\n");
    check(&mut r, &["ZLEXCOUNT", "nokey", "-", "+"], ":0\r\n");
    check(&mut r, &["ZRANK", "k", "c"], ":2\r\n");
    check(&mut r, &["ZRANK", "k", "zz"], "$-1\r\n");
    check(&mut r, &["ZRANK", "nokey", "a"], "$-1\r\n");
    check(&mut r, &["ZREVRANK", "k", "c"], ":1\r\n");
    check(&mut r, &["ZRANK", "k"], "-ERR wrong number of arguments for 'zrank' command\r\n");
    // Redis 7.2's WITHSCORE.
    check(&mut r, &["ZRANK", "k", "c", "WITHSCORE"], "*2\r\n:2\r\n$1\r\n3\r\n");
    check(&mut r, &["ZREVRANK", "k", "a", "withscore"], "*2\r\n:3\r\n$1\r\n1\r\n");
    check(&mut r, &["ZRANK", "k", "zz", "WITHSCORE"], "*-1\r\n");
    check(&mut r, &["ZRANK", "nokey", "zz", "WITHSCORE"], "*-1\r\n");
    check(&mut r, &["ZRANK", "k", "c", "foo"], "-ERR syntax error\r\n");
    check(
        &mut r,
        &["ZRANK", "k", "c", "WITHSCORE", "x"],
        "-ERR wrong number of arguments for 'zrank' command\r\n",
    );
    check(&mut r, &["ZREM", "k"], "-ERR wrong number of arguments for 'zrem' command\r\n");
    check(&mut r, &["ZREM", "k", "a", "zz", "a"], ":1\r\n");
    check(&mut r, &["ZREM", "nokey", "a"], ":0\r\n");
    check(&mut r, &["ZREM", "k", "b", "c", "d"], ":3\r\n");
    check(&mut r, &["EXISTS", "k"], ":0\r\n");
}

#[test]
fn resp3_shapes() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    resp3(&mut r);
    check(&mut r, &["ZADD", "k", "1", "a", "2", "b", "3", "c", "4", "d"], ":4\r\n");
    check(&mut r, &["ZSCORE", "k", "a"], ",1\r\n");
    check(&mut r, &["ZSCORE", "k", "zz"], "_\r\n");
    check(&mut r, &["ZMSCORE", "k", "a", "zz"], "*2\r\n,1\r\n_\r\n");
    check(&mut r, &["ZINCRBY", "k", "0.5", "d"], ",4.5\r\n");
    check(&mut r, &["ZADD", "k", "INCR", "XX", "5", "zz"], "_\r\n");
    check(
        &mut r,
        &["ZRANGE", "k", "0", "1", "WITHSCORES"],
        "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n",
    );
    check(&mut r, &["ZRANGE", "k", "0", "1"], "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    check(
        &mut r,
        &["ZRANGEBYSCORE", "k", "1", "2", "WITHSCORES", "LIMIT", "0", "1"],
        "*1\r\n*2\r\n$1\r\na\r\n,1\r\n",
    );
    check(&mut r, &["ZRANK", "k", "c"], ":2\r\n");
    check(&mut r, &["ZRANK", "k", "zz"], "_\r\n");
    check(&mut r, &["ZRANK", "k", "c", "WITHSCORE"], "*2\r\n:2\r\n,3\r\n");
    check(&mut r, &["ZRANK", "k", "zz", "WITHSCORE"], "_\r\n");
    check(&mut r, &["ZPOPMIN", "k"], "*2\r\n$1\r\na\r\n,1\r\n");
    check(&mut r, &["ZPOPMIN", "k", "1"], "*1\r\n*2\r\n$1\r\nb\r\n,2\r\n");
    check(&mut r, &["ZPOPMAX", "k", "5"], "*2\r\n*2\r\n$1\r\nd\r\n,4.5\r\n*2\r\n$1\r\nc\r\n,3\r\n");
    check(&mut r, &["ZPOPMIN", "nokey"], "*0\r\n");
    check(&mut r, &["ZADD", "k", "1", "a", "2", "b", "3", "c", "4", "d"], ":4\r\n");
    check(&mut r, &["ZMPOP", "1", "k", "MIN"], "*2\r\n$1\r\nk\r\n*1\r\n*2\r\n$1\r\na\r\n,1\r\n");
    check(&mut r, &["ZMPOP", "1", "nokey", "MIN"], "_\r\n");
    let all = "*3\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nd\r\n,4\r\n";
    check(&mut r, &["ZUNION", "1", "k", "WITHSCORES"], all);
    check(&mut r, &["ZINTER", "1", "k", "WITHSCORES"], all);
    check(&mut r, &["ZDIFF", "1", "k", "WITHSCORES"], all);
    check(&mut r, &["ZRANDMEMBER", "k", "10", "WITHSCORES"], all);
    check(&mut r, &["ZRANDMEMBER", "nokey"], "_\r\n");
    check(&mut r, &["ZRANDMEMBER", "nokey", "2"], "*0\r\n");
    check(&mut r, &["ZADD", "one", "1.5", "x"], ":1\r\n");
    check(
        &mut r,
        &["ZRANDMEMBER", "one", "-2", "WITHSCORES"],
        "*2\r\n*2\r\n$1\r\nx\r\n,1.5\r\n*2\r\n$1\r\nx\r\n,1.5\r\n",
    );
    // ZSCAN's scores are bulk strings in both protocols.
    check(&mut r, &["ZSCAN", "one", "0"], "*2\r\n$1\r\n0\r\n*2\r\n$1\r\nx\r\n$3\r\n1.5\r\n");
}

#[test]
fn zrange_family_replies_and_errors() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    check(&mut r, &["ZADD", "k", "1", "a", "2", "b", "3", "c", "4", "d"], ":4\r\n");
    check(&mut r, &["ZRANGE", "k", "0", "-1"], &bulks(&["a", "b", "c", "d"]));
    check(
        &mut r,
        &["ZRANGE", "k", "0", "-1", "WITHSCORES"],
        &bulks(&["a", "1", "b", "2", "c", "3", "d", "4"]),
    );
    check(&mut r, &["ZRANGE", "k", "0", "1", "REV", "WITHSCORES"], &bulks(&["d", "4", "c", "3"]));
    check(&mut r, &["ZRANGE", "k", "5", "10"], "*0\r\n");
    check(&mut r, &["ZRANGE", "k", "x", "1"], "-ERR value is not an integer or out of range\r\n");
    let limit_err =
        "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n";
    let lex_err = "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n";
    check(&mut r, &["ZRANGE", "k", "0", "1", "LIMIT", "0", "1"], limit_err);
    check(&mut r, &["ZRANGE", "nokey", "0", "1", "LIMIT", "0", "1"], limit_err);
    check(&mut r, &["ZRANGE", "k", "0", "1", "BYLEX", "WITHSCORES"], lex_err);
    check(&mut r, &["ZRANGE", "k", "-", "+", "BYLEX", "LIMIT", "1", "2"], &bulks(&["b", "c"]));
    check(
        &mut r,
        &["ZRANGE", "k", "(1", "3", "BYSCORE", "WITHSCORES", "LIMIT", "0", "-1"],
        &bulks(&["b", "2", "c", "3"]),
    );
    check(&mut r, &["ZRANGE", "k", "3", "(1", "BYSCORE", "REV", "WITHSCORES"], &bulks(&["c", "3", "b", "2"]));
    for bad in [&["LIMIT", "1"][..], &["BYSCORE", "BYLEX"], &["REV", "REV"], &["foo"]] {
        let mut args = vec!["ZRANGE", "k", "1", "3"];
        if bad[0] == "LIMIT" {
            args.push("BYSCORE");
        }
        args.extend_from_slice(bad);
        check(&mut r, &args, "-ERR syntax error\r\n");
    }
    check(&mut r, &["ZRANGE", "k", "x", "3", "BYSCORE"], "-ERR min or max is not a float\r\n");
    check(&mut r, &["ZRANGE", "k", "x", "3", "BYLEX"], "-ERR min or max not valid string range item\r\n");
    check(
        &mut r,
        &["ZRANGE", "k", "1", "3", "BYSCORE", "LIMIT", "x", "1"],
        "-ERR value is not an integer or out of range\r\n",
    );
    check(&mut r, &["ZRANGE", "k", "1", "3", "BYSCORE", "LIMIT", "-1", "2"], "*0\r\n");
    check(&mut r, &["ZRANGE", "k", "1", "3", "BYSCORE", "LIMIT", "1", "-5"], &bulks(&["b", "c"]));
    check(&mut r, &["ZRANGE", "k", "1", "3", "BYSCORE", "LIMIT", "1", "0"], "*0\r\n");
    check(&mut r, &["ZRANGE", "nokey", "0", "-1"], "*0\r\n");
    check(&mut r, &["ZRANGE", "nokey", "x", "1"], "-ERR value is not an integer or out of range\r\n");
    check(
        &mut r,
        &["ZRANGEBYSCORE", "k", "-inf", "+inf", "WITHSCORES", "LIMIT", "1", "2"],
        &bulks(&["b", "2", "c", "3"]),
    );
    check(&mut r, &["ZRANGEBYSCORE", "k", "-inf", "+inf", "REV"], "-ERR syntax error\r\n");
    check(&mut r, &["ZRANGEBYSCORE", "k", "-inf", "+inf", "BYSCORE"], "-ERR syntax error\r\n");
    check(
        &mut r,
        &["ZREVRANGEBYSCORE", "k", "+inf", "-inf", "WITHSCORES"],
        &bulks(&["d", "4", "c", "3", "b", "2", "a", "1"]),
    );
    check(&mut r, &["ZREVRANGEBYSCORE", "k", "2", "3"], "*0\r\n");
    check(&mut r, &["ZRANGEBYLEX", "k", "-", "+", "WITHSCORES"], lex_err);
    check(&mut r, &["ZRANGEBYLEX", "k", "-", "(c"], &bulks(&["a", "b"]));
    check(&mut r, &["ZREVRANGEBYLEX", "k", "+", "-", "LIMIT", "0", "2"], &bulks(&["d", "c"]));
    check(&mut r, &["ZREVRANGEBYLEX", "k", "-", "+"], "*0\r\n");
    check(&mut r, &["ZREVRANGE", "k", "0", "1", "WITHSCORES"], &bulks(&["d", "4", "c", "3"]));
    check(&mut r, &["ZREVRANGE", "k", "0", "1", "LIMIT", "0", "1"], limit_err);
    check(&mut r, &["ZREVRANGE", "k", "0", "1", "REV"], "-ERR syntax error\r\n");
    // ZRANGESTORE.
    check(&mut r, &["ZRANGESTORE", "dst", "k", "0", "-1", "WITHSCORES"], "-ERR syntax error\r\n");
    check(&mut r, &["ZRANGESTORE", "dst", "k", "0", "1"], ":2\r\n");
    check(&mut r, &["ZRANGESTORE", "dst", "k", "1", "3", "BYSCORE", "REV"], ":0\r\n");
    check(&mut r, &["EXISTS", "dst"], ":0\r\n");
    check(&mut r, &["ZRANGESTORE", "dst", "k", "3", "1", "BYSCORE", "REV"], ":3\r\n");
    check(&mut r, &["ZRANGE", "dst", "0", "-1", "WITHSCORES"], &bulks(&["a", "1", "b", "2", "c", "3"]));
    check(&mut r, &["ZRANGESTORE", "dst", "k", "10", "20"], ":0\r\n");
    check(&mut r, &["EXISTS", "dst"], ":0\r\n");
    check(&mut r, &["ZRANGESTORE", "dst", "k", "-", "+", "BYLEX", "LIMIT", "1", "1"], ":1\r\n");
    check(&mut r, &["ZRANGE", "dst", "0", "-1"], &bulks(&["b"]));
    check(&mut r, &["ZRANGESTORE", "dst", "nokey", "0", "1"], ":0\r\n");
    check(&mut r, &["EXISTS", "dst"], ":0\r\n");
    // The destination is replaced whatever it held, and loses its TTL.
    check(&mut r, &["SET", "dst", "v", "EX", "100"], "+OK\r\n");
    check(&mut r, &["ZRANGESTORE", "dst", "k", "0", "0"], ":1\r\n");
    check(&mut r, &["TTL", "dst"], ":-1\r\n");
    check(&mut r, &["TYPE", "dst"], "+zset\r\n");
}

#[test]
fn pops() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    check(&mut r, &["ZADD", "k", "1", "a", "2", "b", "3", "c", "4", "d"], ":4\r\n");
    check(&mut r, &["ZPOPMIN", "k", "0"], "*0\r\n");
    check(&mut r, &["ZPOPMIN", "k", "-1"], "-ERR value is out of range, must be positive\r\n");
    check(&mut r, &["ZPOPMIN", "k", "x"], "-ERR value is out of range, must be positive\r\n");
    check(&mut r, &["ZPOPMIN", "k", "1", "2"], "-ERR syntax error\r\n");
    check(&mut r, &["ZPOPMIN", "nokey"], "*0\r\n");
    check(&mut r, &["ZPOPMIN", "nokey", "3"], "*0\r\n");
    check(&mut r, &["ZPOPMIN", "k"], &bulks(&["a", "1"]));
    check(&mut r, &["ZPOPMAX", "k", "2"], &bulks(&["d", "4", "c", "3"]));
    check(&mut r, &["ZPOPMAX", "k", "10"], &bulks(&["b", "2"]));
    check(&mut r, &["EXISTS", "k"], ":0\r\n");
    check(&mut r, &["ZADD", "k", "1", "a", "2", "b", "3", "c", "4", "d"], ":4\r\n");
    let nested = "*2\r\n$1\r\nk\r\n*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n";
    check(&mut r, &["ZMPOP", "1", "k", "MIN"], nested);
    check(
        &mut r,
        &["ZMPOP", "1", "k", "max", "COUNT", "2"],
        "*2\r\n$1\r\nk\r\n*2\r\n*2\r\n$1\r\nd\r\n$1\r\n4\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n",
    );
    check(&mut r, &["ZMPOP", "0", "k", "MIN"], "-ERR numkeys should be greater than 0\r\n");
    check(&mut r, &["ZMPOP", "x", "k", "MIN"], "-ERR numkeys should be greater than 0\r\n");
    check(&mut r, &["ZMPOP", "2", "k", "MIN"], "-ERR syntax error\r\n");
    check(&mut r, &["ZMPOP", "9223372036854775807", "k", "MIN"], "-ERR syntax error\r\n");
    check(&mut r, &["ZMPOP", "1", "k", "foo"], "-ERR syntax error\r\n");
    check(&mut r, &["ZMPOP", "1", "k", "MIN", "COUNT", "0"], "-ERR count should be greater than 0\r\n");
    check(&mut r, &["ZMPOP", "1", "k", "MIN", "COUNT", "x"], "-ERR count should be greater than 0\r\n");
    check(&mut r, &["ZMPOP", "1", "k", "MIN", "COUNT", "1", "COUNT", "1"], "-ERR syntax error\r\n");
    check(&mut r, &["ZMPOP", "1", "k", "MIN", "COUNT"], "-ERR syntax error\r\n");
    check(
        &mut r,
        &["ZMPOP", "2", "nokey", "k", "MIN", "COUNT", "10"],
        "*2\r\n$1\r\nk\r\n*1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n",
    );
    check(&mut r, &["ZMPOP", "1", "k", "MIN"], "*-1\r\n");
    check(&mut r, &["EXISTS", "k"], ":0\r\n");
    check(&mut r, &["SET", "str", "v"], "+OK\r\n");
    check(&mut r, &["ZMPOP", "2", "nokey", "str", "MIN"], WRONGTYPE);
    check(&mut r, &["ZPOPMIN", "str", "0"], WRONGTYPE);
    check(&mut r, &["ZPOPMIN", "str"], WRONGTYPE);
}

#[test]
fn remrange_commands() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    check(&mut r, &["ZADD", "k", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"], ":5\r\n");
    check(&mut r, &["ZREMRANGEBYRANK", "k", "0", "1"], ":2\r\n");
    check(&mut r, &["ZREMRANGEBYRANK", "k", "x", "1"], "-ERR value is not an integer or out of range\r\n");
    check(&mut r, &["ZREMRANGEBYRANK", "k", "5", "10"], ":0\r\n");
    check(&mut r, &["ZREMRANGEBYRANK", "nokey", "0", "1"], ":0\r\n");
    check(&mut r, &["ZREMRANGEBYSCORE", "k", "(3", "4"], ":1\r\n");
    check(&mut r, &["ZREMRANGEBYSCORE", "k", "x", "4"], "-ERR min or max is not a float\r\n");
    check(&mut r, &["ZREMRANGEBYLEX", "k", "-", "(d"], ":1\r\n");
    check(&mut r, &["ZREMRANGEBYLEX", "k", "x", "+"], "-ERR min or max not valid string range item\r\n");
    check(&mut r, &["ZREMRANGEBYLEX", "nokey", "-", "+"], ":0\r\n");
    check(&mut r, &["ZRANGE", "k", "0", "-1"], &bulks(&["e"]));
    check(&mut r, &["ZREMRANGEBYSCORE", "k", "-inf", "+inf"], ":1\r\n");
    check(&mut r, &["EXISTS", "k"], ":0\r\n");
    check(&mut r, &["SET", "str", "v"], "+OK\r\n");
    check(&mut r, &["ZREMRANGEBYRANK", "str", "0", "1"], WRONGTYPE);
    // The range is parsed before the key is looked at.
    check(&mut r, &["ZREMRANGEBYRANK", "str", "x", "1"], "-ERR value is not an integer or out of range\r\n");
}

#[test]
fn every_zset_command_refuses_other_types() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    check(&mut r, &["SET", "str", "v"], "+OK\r\n");
    check(&mut r, &["ZADD", "z", "1", "a"], ":1\r\n");
    for args in [
        &["ZADD", "str", "1", "a"][..],
        &["ZINCRBY", "str", "1", "a"],
        &["ZREM", "str", "a"],
        &["ZSCORE", "str", "a"],
        &["ZMSCORE", "str", "a"],
        &["ZCARD", "str"],
        &["ZCOUNT", "str", "0", "1"],
        &["ZLEXCOUNT", "str", "-", "+"],
        &["ZRANK", "str", "a"],
        &["ZREVRANK", "str", "a"],
        &["ZRANGE", "str", "0", "1"],
        &["ZRANGEBYSCORE", "str", "0", "1"],
        &["ZREVRANGEBYLEX", "str", "+", "-"],
        &["ZRANGESTORE", "d", "str", "0", "1"],
        &["ZREMRANGEBYSCORE", "str", "0", "1"],
        &["ZREMRANGEBYLEX", "str", "-", "+"],
        &["ZSCAN", "str", "0"],
        &["ZRANDMEMBER", "str"],
        &["ZRANDMEMBER", "str", "2"],
        &["ZUNION", "2", "z", "str"],
        &["ZUNIONSTORE", "d", "2", "z", "str"],
        &["ZINTER", "2", "nokey", "str"],
        &["ZINTERCARD", "2", "nokey", "str"],
        &["ZDIFF", "2", "z", "str"],
        &["ZUNIONSTORE", "d", "2", "str", "nokey", "WEIGHTS", "x"],
    ] {
        check(&mut r, args, WRONGTYPE);
    }
    check(&mut r, &["ZADD", "str", "x", "a"], "-ERR value is not a valid float\r\n");
    check(&mut r, &["ZRANDMEMBER", "str", "x"], "-ERR value is not an integer or out of range\r\n");
    check(&mut r, &["ZCOUNT", "str", "x", "1"], "-ERR min or max is not a float\r\n");
    check(&mut r, &["GET", "str"], "$1\r\nv\r\n");
}

#[test]
fn encoding_converts_to_skiplist_through_zadd() {
    let srv = start_with(|cfg| {
        cfg.encoding.zset_max_listpack_entries = 4;
        cfg.encoding.zset_max_listpack_value = 16;
    });
    let mut r = Raw::connect(&srv);
    let lp = "$8\r\nlistpack\r\n";
    let sl = "$8\r\nskiplist\r\n";
    check(&mut r, &["ZADD", "e", "1", "a", "2", "b", "3", "c", "4", "d"], ":4\r\n");
    check(&mut r, &["OBJECT", "ENCODING", "e"], lp);
    check(&mut r, &["ZADD", "e", "5", "e"], ":1\r\n");
    check(&mut r, &["OBJECT", "ENCODING", "e"], sl);
    // Shrinking never converts back...
    check(&mut r, &["ZREM", "e", "a", "b", "c", "d"], ":4\r\n");
    check(&mut r, &["OBJECT", "ENCODING", "e"], sl);
    // ...but a stored result that fits is a listpack again.
    check(&mut r, &["ZUNIONSTORE", "u", "1", "e"], ":1\r\n");
    check(&mut r, &["OBJECT", "ENCODING", "u"], lp);
    check(&mut r, &["ZRANGESTORE", "r", "e", "0", "-1"], ":1\r\n");
    check(&mut r, &["OBJECT", "ENCODING", "r"], lp);
    check(&mut r, &["ZADD", "e5", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"], ":5\r\n");
    check(&mut r, &["OBJECT", "ENCODING", "e5"], sl);
    check(&mut r, &["ZRANGESTORE", "r", "e5", "0", "-1"], ":5\r\n");
    check(&mut r, &["OBJECT", "ENCODING", "r"], sl);
    check(&mut r, &["ZRANGESTORE", "r", "e5", "0", "1"], ":2\r\n");
    check(&mut r, &["OBJECT", "ENCODING", "r"], lp);
    // Redis 7.0 sizes a new set by its first member: repeats stay small.
    check(&mut r, &["ZADD", "dup", "1", "a", "1", "a", "1", "a", "1", "a", "1", "a"], ":1\r\n");
    check(&mut r, &["OBJECT", "ENCODING", "dup"], lp);
    // A long member converts at once, whether new or added later.
    check(&mut r, &["ZADD", "long", "1", "aaaaaaaaaaaaaaaaaaaaaaaa"], ":1\r\n");
    check(&mut r, &["OBJECT", "ENCODING", "long"], sl);
    check(&mut r, &["ZADD", "later", "1", "a"], ":1\r\n");
    check(&mut r, &["ZADD", "later", "2", "bbbbbbbbbbbbbbbbbbbbbbbbbbb"], ":1\r\n");
    check(&mut r, &["OBJECT", "ENCODING", "later"], sl);
    // Converted sets answer every query the same way.
    check(&mut r, &["ZRANGE", "e5", "1", "3", "WITHSCORES"], &bulks(&["b", "2", "c", "3", "d", "4"]));
    check(&mut r, &["ZRANK", "e5", "d"], ":3\r\n");
    check(&mut r, &["ZCOUNT", "e5", "(1", "4"], ":3\r\n");
}

#[test]
fn zset_algebra_replies_and_errors() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    check(&mut r, &["ZADD", "a", "1", "x", "2", "y", "3", "z"], ":3\r\n");
    check(&mut r, &["ZADD", "b", "10", "y", "20", "z", "30", "w"], ":3\r\n");
    check(&mut r, &["SADD", "s", "y", "w", "q"], ":3\r\n");
    check(&mut r, &["ZUNIONSTORE", "d", "2", "a", "b"], ":4\r\n");
    check(
        &mut r,
        &["ZRANGE", "d", "0", "-1", "WITHSCORES"],
        &bulks(&["x", "1", "y", "12", "z", "23", "w", "30"]),
    );
    check(&mut r, &["ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "2", "0.5", "AGGREGATE", "MAX"], ":4\r\n");
    check(
        &mut r,
        &["ZRANGE", "d", "0", "-1", "WITHSCORES"],
        &bulks(&["x", "2", "y", "5", "z", "10", "w", "15"]),
    );
    check(&mut r, &["ZINTERSTORE", "d", "3", "a", "b", "s", "AGGREGATE", "MIN"], ":1\r\n");
    check(&mut r, &["ZRANGE", "d", "0", "-1", "WITHSCORES"], &bulks(&["y", "1"]));
    check(&mut r, &["ZINTERSTORE", "d", "2", "a", "s", "WEIGHTS", "2", "3"], ":1\r\n");
    check(&mut r, &["ZRANGE", "d", "0", "-1", "WITHSCORES"], &bulks(&["y", "7"]));
    check(
        &mut r,
        &["ZINTERSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "x"],
        "-ERR weight value is not a float\r\n",
    );
    for bad in [
        &["WEIGHTS", "1"][..],
        &["AGGREGATE", "foo"],
        &["AGGREGATE"],
        &["WEIGHTS", "1", "2", "3"],
        &["WITHSCORES"],
    ] {
        let mut args = vec!["ZINTERSTORE", "d", "2", "a", "b"];
        args.extend_from_slice(bad);
        check(&mut r, &args, "-ERR syntax error\r\n");
    }
    check(
        &mut r,
        &["ZINTERSTORE", "d", "0", "a"],
        "-ERR at least 1 input key is needed for 'zinterstore' command\r\n",
    );
    check(
        &mut r,
        &["ZINTERSTORE", "d", "-1", "a"],
        "-ERR at least 1 input key is needed for 'zinterstore' command\r\n",
    );
    check(&mut r, &["ZINTERSTORE", "d", "x", "a"], "-ERR value is not an integer or out of range\r\n");
    check(&mut r, &["ZINTERSTORE", "d", "3", "a", "b"], "-ERR syntax error\r\n");
    for name in ["zunion", "zinter", "zdiff", "zintercard"] {
        let msg = format!("-ERR at least 1 input key is needed for '{name}' command\r\n");
        check(&mut r, &[name, "0", "a"], &msg);
    }
    check(
        &mut r,
        &["ZDIFFSTORE", "d", "0", "a"],
        "-ERR at least 1 input key is needed for 'zdiffstore' command\r\n",
    );
    check(&mut r, &["ZUNIONSTORE", "d", "1", "a", "WITHSCORES"], "-ERR syntax error\r\n");
    check(
        &mut r,
        &["ZUNION", "2", "a", "b", "WITHSCORES", "WEIGHTS", "1", "2"],
        &bulks(&["x", "1", "y", "22", "z", "43", "w", "60"]),
    );
    check(
        &mut r,
        &["ZINTER", "2", "a", "b", "AGGREGATE", "SUM", "WITHSCORES"],
        &bulks(&["y", "12", "z", "23"]),
    );
    check(&mut r, &["ZINTER", "2", "a", "b"], &bulks(&["y", "z"]));
    check(&mut r, &["ZDIFF", "2", "a", "b", "WITHSCORES"], &bulks(&["x", "1"]));
    check(&mut r, &["ZDIFF", "2", "a", "b", "WEIGHTS", "1", "1"], "-ERR syntax error\r\n");
    check(&mut r, &["ZDIFF", "2", "a", "b", "AGGREGATE", "SUM"], "-ERR syntax error\r\n");
    check(&mut r, &["ZDIFFSTORE", "d", "2", "a", "b"], ":1\r\n");
    check(&mut r, &["ZRANGE", "d", "0", "-1", "WITHSCORES"], &bulks(&["x", "1"]));
    check(&mut r, &["ZDIFFSTORE", "d", "2", "a", "a"], ":0\r\n");
    check(&mut r, &["EXISTS", "d"], ":0\r\n");
    check(&mut r, &["ZINTERCARD", "2", "a", "b"], ":2\r\n");
    check(&mut r, &["ZINTERCARD", "2", "a", "b", "LIMIT", "1"], ":1\r\n");
    check(&mut r, &["ZINTERCARD", "2", "a", "b", "LIMIT", "0"], ":2\r\n");
    check(&mut r, &["ZINTERCARD", "2", "a", "b", "LIMIT", "-1"], "-ERR LIMIT can't be negative\r\n");
    check(&mut r, &["ZINTERCARD", "2", "a", "b", "LIMIT", "x"], "-ERR LIMIT can't be negative\r\n");
    check(&mut r, &["ZINTERCARD", "3", "a", "b"], "-ERR syntax error\r\n");
    check(&mut r, &["ZINTERCARD", "x", "a"], "-ERR value is not an integer or out of range\r\n");
    check(&mut r, &["ZINTERCARD", "2", "a", "b", "WITHSCORES"], "-ERR syntax error\r\n");
    check(&mut r, &["ZINTERCARD", "2", "a", "b", "WEIGHTS", "1", "2"], "-ERR syntax error\r\n");
    check(&mut r, &["ZUNIONSTORE", "d", "1", "nokey"], ":0\r\n");
    // Infinities: NaN products and sums count as 0.
    check(&mut r, &["ZADD", "ninf", "-inf", "x"], ":1\r\n");
    check(&mut r, &["ZADD", "pinf", "inf", "x"], ":1\r\n");
    check(&mut r, &["ZUNION", "2", "pinf", "ninf", "WITHSCORES"], &bulks(&["x", "0"]));
    check(
        &mut r,
        &["ZUNION", "2", "pinf", "a", "WEIGHTS", "0", "1", "WITHSCORES"],
        &bulks(&["x", "1", "y", "2", "z", "3"]),
    );
    check(&mut r, &["ZINTER", "2", "pinf", "ninf", "WITHSCORES"], &bulks(&["x", "0"]));
    check(
        &mut r,
        &["ZINTER", "2", "pinf", "a", "WEIGHTS", "0", "1", "AGGREGATE", "MAX", "WITHSCORES"],
        &bulks(&["x", "1"]),
    );
    // The destination is replaced, loses its TTL, or is deleted when empty.
    check(&mut r, &["SET", "d", "v"], "+OK\r\n");
    check(&mut r, &["EXPIRE", "d", "100"], ":1\r\n");
    check(&mut r, &["ZUNIONSTORE", "d", "1", "a"], ":3\r\n");
    check(&mut r, &["TTL", "d"], ":-1\r\n");
    check(&mut r, &["TYPE", "d"], "+zset\r\n");
    check(&mut r, &["ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2", "WEIGHTS", "1", "2"], ":4\r\n");
    check(&mut r, &["ZUNIONSTORE", "d", "1", "a", "AGGREGATE", "SUM", "AGGREGATE", "MAX"], ":3\r\n");
    check(&mut r, &["ZINTERSTORE", "d", "2", "a", "nokey"], ":0\r\n");
    check(&mut r, &["EXISTS", "d"], ":0\r\n");
}

#[test]
fn randmember_counts_and_errors() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    let mut c = conn(&srv);
    check(&mut r, &["ZADD", "k", "1", "a", "2", "b", "3", "c", "4", "d"], ":4\r\n");
    check(&mut r, &["ZRANDMEMBER", "k", "0"], "*0\r\n");
    check(&mut r, &["ZRANDMEMBER", "k", "x"], "-ERR value is not an integer or out of range\r\n");
    check(&mut r, &["ZRANDMEMBER", "k", "1", "WITHSCORES", "x"], "-ERR syntax error\r\n");
    check(&mut r, &["ZRANDMEMBER", "k", "1", "foo"], "-ERR syntax error\r\n");
    check(
        &mut r,
        &["ZRANDMEMBER", "k", "-9223372036854775808"],
        "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n",
    );
    check(
        &mut r,
        &["ZRANDMEMBER", "k", "9223372036854775807", "WITHSCORES"],
        "-ERR value is out of range\r\n",
    );
    check(
        &mut r,
        &["ZRANDMEMBER", "k", "4611686018427387904", "WITHSCORES"],
        "-ERR value is out of range\r\n",
    );
    check(
        &mut r,
        &["ZRANDMEMBER", "k", "-4611686018427387904", "WITHSCORES"],
        "-ERR value is out of range\r\n",
    );
    check(&mut r, &["ZRANDMEMBER", "nokey", "5", "WITHSCORES"], "*0\r\n");
    check(&mut r, &["ZRANDMEMBER", "nokey"], "$-1\r\n");
    let scores: HashMap<String, String> = [("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")]
        .iter()
        .map(|(m, s)| (m.to_string(), s.to_string()))
        .collect();
    // A count past the size: the whole set, once each.
    let all: Vec<String> = q(&mut c, &["ZRANDMEMBER", "k", "4611686018427387903", "WITHSCORES"]);
    assert_eq!(all.len(), 8);
    let got: BTreeMap<String, String> = all.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect();
    assert_eq!(got.len(), 4);
    for (m, s) in &got {
        assert_eq!(scores[m], *s);
    }
    let mut seen = BTreeSet::new();
    for _ in 0..200 {
        let one: String = q(&mut c, &["ZRANDMEMBER", "k"]);
        assert!(scores.contains_key(&one));
        seen.insert(one);
        // Positive: distinct members.
        let two: Vec<String> = q(&mut c, &["ZRANDMEMBER", "k", "3"]);
        assert_eq!(two.len(), 3);
        assert_eq!(two.iter().collect::<BTreeSet<_>>().len(), 3);
        // Negative: exactly that many, repeats allowed.
        let many: Vec<String> = q(&mut c, &["ZRANDMEMBER", "k", "-10", "WITHSCORES"]);
        assert_eq!(many.len(), 20);
        for p in many.chunks(2) {
            assert_eq!(scores[&p[0]], p[1]);
        }
    }
    assert_eq!(seen.len(), 4, "every member comes up");
    // A big negative count streams in batches.
    let big: Vec<String> = q(&mut c, &["ZRANDMEMBER", "k", "-5000"]);
    assert_eq!(big.len(), 5000);
    assert!(big.iter().all(|m| scores.contains_key(m)));
    // A skiplist set picks distinct members too.
    let args: Vec<String> = (0..300).flat_map(|i| [i.to_string(), format!("m{i}")]).collect();
    let mut zadd = vec!["ZADD".to_string(), "big".into()];
    zadd.extend(args);
    let n: i64 = redis::cmd("ZADD").arg(&zadd[1..]).query(&mut c).unwrap();
    assert_eq!(n, 300);
    for count in [1, 50, 150, 299, 300] {
        let got: Vec<String> = q(&mut c, &["ZRANDMEMBER", "big", &count.to_string()]);
        assert_eq!(got.iter().collect::<BTreeSet<_>>().len(), count, "count {count}");
    }
}

/// A small xorshift generator for the model tests.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The model: members sorted by (score, member).
fn model_sorted(m: &HashMap<String, i64>) -> Vec<(String, i64)> {
    let mut v: Vec<(String, i64)> = m.iter().map(|(k, s)| (k.clone(), *s)).collect();
    v.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// Flattens `(member, score)` pairs as RESP2 WITHSCORES does.
fn flat(v: &[(String, i64)]) -> Vec<String> {
    v.iter().flat_map(|(m, s)| [m.clone(), s.to_string()]).collect()
}

#[test]
fn zrange_family_matches_a_model() {
    for (entries, size) in [(128usize, 40u64), (4, 200)] {
        let srv = start_with(|cfg| cfg.encoding.zset_max_listpack_entries = entries);
        let mut c = conn(&srv);
        let mut rng = Rng(0x9e3779b97f4a7c15 ^ size);
        let mut model: HashMap<String, i64> = HashMap::new();
        for _ in 0..size {
            let m = format!("m{:03}", rng.next(size * 2));
            let s = rng.next(20) as i64 - 10;
            let _: i64 = q(&mut c, &["ZADD", "z", &s.to_string(), &m]);
            model.insert(m, s);
        }
        let sorted = model_sorted(&model);
        let n = sorted.len() as i64;
        for _ in 0..150 {
            // By rank, with negative and out-of-range indices.
            let (a, b) =
                (rng.next(2 * n as u64 + 10) as i64 - n - 5, rng.next(2 * n as u64 + 10) as i64 - n - 5);
            let s = if a < 0 { (a + n).max(0) } else { a };
            let e = (if b < 0 { b + n } else { b }).min(n - 1);
            let want: Vec<(String, i64)> =
                if s > e || s >= n { vec![] } else { sorted[s as usize..=e as usize].to_vec() };
            let got: Vec<String> = q(&mut c, &["ZRANGE", "z", &a.to_string(), &b.to_string(), "WITHSCORES"]);
            assert_eq!(got, flat(&want), "ZRANGE {a} {b}");
            let rev: Vec<(String, i64)> = sorted.iter().rev().cloned().collect();
            let want_rev: Vec<(String, i64)> =
                if s > e || s >= n { vec![] } else { rev[s as usize..=e as usize].to_vec() };
            let got: Vec<String> =
                q(&mut c, &["ZREVRANGE", "z", &a.to_string(), &b.to_string(), "WITHSCORES"]);
            assert_eq!(got, flat(&want_rev), "ZREVRANGE {a} {b}");
            // By score, with exclusive bounds and LIMIT.
            let (lo, hi) = (rng.next(24) as i64 - 12, rng.next(24) as i64 - 12);
            let (lo_ex, hi_ex) = (rng.next(2) == 0, rng.next(2) == 0);
            let inside =
                |s: i64| (if lo_ex { s > lo } else { s >= lo }) && (if hi_ex { s < hi } else { s <= hi });
            let (off, cnt) = (rng.next(6) as usize, rng.next(8) as i64 - 1);
            let page = |v: Vec<(String, i64)>| -> Vec<(String, i64)> {
                let it = v.into_iter().skip(off);
                if cnt < 0 {
                    it.collect()
                } else {
                    it.take(cnt as usize).collect()
                }
            };
            let lo_s = format!("{}{lo}", if lo_ex { "(" } else { "" });
            let hi_s = format!("{}{hi}", if hi_ex { "(" } else { "" });
            let fwd: Vec<(String, i64)> = sorted.iter().filter(|(_, s)| inside(*s)).cloned().collect();
            let (o, l) = (off.to_string(), cnt.to_string());
            let got: Vec<String> =
                q(&mut c, &["ZRANGEBYSCORE", "z", &lo_s, &hi_s, "WITHSCORES", "LIMIT", &o, &l]);
            assert_eq!(got, flat(&page(fwd.clone())), "ZRANGEBYSCORE {lo_s} {hi_s} LIMIT {off} {cnt}");
            let got: i64 = q(&mut c, &["ZCOUNT", "z", &lo_s, &hi_s]);
            assert_eq!(got, fwd.len() as i64);
            let back: Vec<(String, i64)> = fwd.iter().rev().cloned().collect();
            let got: Vec<String> =
                q(&mut c, &["ZRANGE", "z", &hi_s, &lo_s, "BYSCORE", "REV", "WITHSCORES", "LIMIT", &o, &l]);
            assert_eq!(got, flat(&page(back)), "ZRANGE {hi_s} {lo_s} BYSCORE REV LIMIT {off} {cnt}");
            // Rank of a random member.
            if let Some((m, sc)) = sorted.get(rng.next(n as u64) as usize) {
                let pos = sorted.iter().position(|(x, _)| x == m).unwrap() as i64;
                let got: i64 = q(&mut c, &["ZRANK", "z", m]);
                assert_eq!(got, pos);
                let got: i64 = q(&mut c, &["ZREVRANK", "z", m]);
                assert_eq!(got, n - 1 - pos);
                let got: String = q(&mut c, &["ZSCORE", "z", m]);
                assert_eq!(got, sc.to_string());
            }
        }
        // By lex: every member at one score.
        let members: BTreeSet<String> = model.keys().cloned().collect();
        let mut zadd = vec!["ZADD".to_string(), "lex".into()];
        for m in &members {
            zadd.push("0".into());
            zadd.push(m.clone());
        }
        let _: i64 = redis::cmd("ZADD").arg(&zadd[1..]).query(&mut c).unwrap();
        let all: Vec<&String> = members.iter().collect();
        for _ in 0..100 {
            let pick = |rng: &mut Rng| -> (String, Option<(String, bool)>) {
                match rng.next(6) {
                    0 => ("-".into(), None),
                    1 => ("+".into(), None),
                    _ => {
                        let m = format!("m{:03}", rng.next(size * 2));
                        let ex = rng.next(2) == 0;
                        (format!("{}{m}", if ex { "(" } else { "[" }), Some((m, ex)))
                    }
                }
            };
            let (min_s, min) = pick(&mut rng);
            let (max_s, max) = pick(&mut rng);
            let ge = |v: &str| match (&min, min_s.as_str()) {
                (None, "-") => true,
                (None, _) => false,
                (Some((m, ex)), _) => {
                    if *ex {
                        v > m.as_str()
                    } else {
                        v >= m.as_str()
                    }
                }
            };
            let le = |v: &str| match (&max, max_s.as_str()) {
                (None, "+") => true,
                (None, _) => false,
                (Some((m, ex)), _) => {
                    if *ex {
                        v < m.as_str()
                    } else {
                        v <= m.as_str()
                    }
                }
            };
            let want: Vec<String> = all.iter().filter(|m| ge(m) && le(m)).map(|m| m.to_string()).collect();
            let got: Vec<String> = q(&mut c, &["ZRANGEBYLEX", "lex", &min_s, &max_s]);
            assert_eq!(got, want, "ZRANGEBYLEX {min_s} {max_s}");
            let got: i64 = q(&mut c, &["ZLEXCOUNT", "lex", &min_s, &max_s]);
            assert_eq!(got, want.len() as i64);
            let rev: Vec<String> = want.iter().rev().take(3).cloned().collect();
            let got: Vec<String> = q(&mut c, &["ZREVRANGEBYLEX", "lex", &max_s, &min_s, "LIMIT", "0", "3"]);
            assert_eq!(got, rev, "ZREVRANGEBYLEX {max_s} {min_s}");
        }
        // Range deletions against the model.
        let removed: i64 = q(&mut c, &["ZREMRANGEBYSCORE", "z", "(-3", "3"]);
        model.retain(|_, s| !(*s > -3 && *s <= 3));
        assert_eq!(removed as usize, sorted.len() - model.len());
        let removed: i64 = q(&mut c, &["ZREMRANGEBYRANK", "z", "1", "-2"]);
        let left = model_sorted(&model);
        assert_eq!(removed as usize, left.len().saturating_sub(2));
        let got: Vec<String> = q(&mut c, &["ZRANGE", "z", "0", "-1", "WITHSCORES"]);
        let want: Vec<(String, i64)> =
            if left.len() <= 2 { left } else { vec![left[0].clone(), left[left.len() - 1].clone()] };
        assert_eq!(got, flat(&want));
    }
}

/// Every `(member, score)` of a full ZSCAN of `key`, and the calls it took.
fn zscan_all(c: &mut redis::Connection, key: &str, extra: &[&str]) -> (Vec<(String, String)>, usize) {
    let mut cursor = "0".to_string();
    let mut out = Vec::new();
    let mut calls = 0;
    loop {
        let mut args = vec!["ZSCAN", key, &cursor];
        args.extend_from_slice(extra);
        let (next, items): (String, Vec<String>) = q(c, &args);
        calls += 1;
        out.extend(items.chunks(2).map(|p| (p[0].clone(), p[1].clone())));
        cursor = next;
        if cursor == "0" {
            return (out, calls);
        }
        assert!(calls < 10_000, "ZSCAN does not terminate");
    }
}

#[test]
fn zscan_iterates_every_encoding() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    let mut c = conn(&srv);
    check(&mut r, &["ZADD", "small", "1", "a", "2.5", "b", "-3", "c"], ":3\r\n");
    check(
        &mut r,
        &["ZSCAN", "small", "0"],
        &("*2\r\n$1\r\n0\r\n".to_string() + &bulks(&["c", "-3", "a", "1", "b", "2.5"])),
    );
    check(
        &mut r,
        &["ZSCAN", "small", "0", "MATCH", "a*", "COUNT", "1"],
        "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n",
    );
    check(&mut r, &["ZSCAN", "nokey", "0"], "*2\r\n$1\r\n0\r\n*0\r\n");
    check(&mut r, &["ZSCAN", "small", "x"], "-ERR invalid cursor\r\n");
    check(&mut r, &["ZSCAN", "small", "0", "COUNT", "0"], "-ERR syntax error\r\n");
    check(&mut r, &["ZSCAN", "small", "0", "foo"], "-ERR syntax error\r\n");
    let mut want = BTreeMap::new();
    let mut zadd = vec!["big".to_string()];
    for i in 0..1000 {
        zadd.push(format!("{}.5", i % 97));
        zadd.push(format!("member:{i}"));
        want.insert(format!("member:{i}"), format!("{}.5", i % 97));
    }
    let n: i64 = redis::cmd("ZADD").arg(&zadd).query(&mut c).unwrap();
    assert_eq!(n, 1000);
    let (got, calls) = zscan_all(&mut c, "big", &[]);
    assert!(calls > 1, "a skiplist set is scanned in steps");
    let got_map: BTreeMap<String, String> = got.iter().cloned().collect();
    assert_eq!(got_map, want, "every member once with its score");
    assert_eq!(got.len(), 1000, "no repeats without rehashing");
    let (got, _) = zscan_all(&mut c, "big", &["MATCH", "member:1?", "COUNT", "50"]);
    let names: BTreeSet<String> = got.into_iter().map(|(m, _)| m).collect();
    let expect: BTreeSet<String> = (10..20).map(|i| format!("member:{i}")).collect();
    assert_eq!(names, expect);
}

#[test]
fn algebra_matches_a_model() {
    let srv = start_with(|cfg| cfg.encoding.zset_max_listpack_entries = 8);
    let mut c = conn(&srv);
    let mut rng = Rng(12345);
    let mut models: Vec<HashMap<String, i64>> = Vec::new();
    for k in 0..4 {
        let mut m = HashMap::new();
        for _ in 0..rng.next(20) {
            let member = format!("e{}", rng.next(25));
            // No zero scores and no zero weights: `-0` prints as such.
            let s = rng.next(9) as i64 - 3;
            let s = if s >= 0 { s + 1 } else { s };
            m.insert(member.clone(), s);
            let _: i64 = q(&mut c, &["ZADD", &format!("z{k}"), &s.to_string(), &member]);
        }
        models.push(m);
    }
    let _: i64 = q(&mut c, &["SADD", "set", "e1", "e2", "e3", "e4", "e5"]);
    let set_model: HashMap<String, i64> = (1..=5).map(|i| (format!("e{i}"), 1)).collect();
    let src = |name: &str| -> HashMap<String, i64> {
        match name {
            "set" => set_model.clone(),
            "nokey" => HashMap::new(),
            n => models[n[1..].parse::<usize>().unwrap()].clone(),
        }
    };
    let names = ["z0", "z1", "z2", "z3", "set", "nokey"];
    for round in 0..120 {
        let nk = 1 + rng.next(3) as usize;
        let keys: Vec<&str> = (0..nk).map(|_| names[rng.next(names.len() as u64) as usize]).collect();
        let weights: Vec<i64> = (0..nk).map(|_| [-2, -1, 1, 2][rng.next(4) as usize]).collect();
        let agg = ["SUM", "MIN", "MAX"][rng.next(3) as usize];
        let inputs: Vec<HashMap<String, i64>> = keys.iter().map(|k| src(k)).collect();
        let combine = |a: i64, b: i64| match agg {
            "SUM" => a + b,
            "MIN" => a.min(b),
            _ => a.max(b),
        };
        let mut union: HashMap<String, i64> = HashMap::new();
        for (i, m) in inputs.iter().enumerate() {
            for (k, s) in m {
                let v = s * weights[i];
                union.entry(k.clone()).and_modify(|cur| *cur = combine(*cur, v)).or_insert(v);
            }
        }
        let inter: HashMap<String, i64> = union
            .iter()
            .filter(|(k, _)| inputs.iter().all(|m| m.contains_key(*k)))
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        let diff: HashMap<String, i64> = inputs[0]
            .iter()
            .filter(|(k, _)| inputs[1..].iter().all(|m| !m.contains_key(*k)))
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        let w: Vec<String> = weights.iter().map(|w| w.to_string()).collect();
        let nk_s = nk.to_string();
        let mut opts: Vec<&str> = vec!["WEIGHTS"];
        opts.extend(w.iter().map(String::as_str));
        opts.extend(["AGGREGATE", agg]);
        for (cmd, want) in [("ZUNION", &union), ("ZINTER", &inter)] {
            let mut args = vec![cmd, &nk_s];
            args.extend(&keys);
            args.extend(&opts);
            args.push("WITHSCORES");
            let got: Vec<String> = q(&mut c, &args);
            assert_eq!(got, flat(&model_sorted(want)), "round {round}: {args:?}");
            let store = format!("{cmd}STORE");
            let mut args = vec![store.as_str(), "dst", &nk_s];
            args.extend(&keys);
            args.extend(&opts);
            let n: i64 = q(&mut c, &args);
            assert_eq!(n as usize, want.len(), "{args:?}");
            let got: Vec<String> = q(&mut c, &["ZRANGE", "dst", "0", "-1", "WITHSCORES"]);
            assert_eq!(got, flat(&model_sorted(want)), "{args:?}");
        }
        let mut args = vec!["ZDIFF", &nk_s];
        args.extend(&keys);
        args.push("WITHSCORES");
        let got: Vec<String> = q(&mut c, &args);
        assert_eq!(got, flat(&model_sorted(&diff)), "{args:?}");
        let mut args = vec!["ZINTERCARD", &nk_s];
        args.extend(&keys);
        let n: i64 = q(&mut c, &args);
        assert_eq!(n as usize, inter.len(), "{args:?}");
    }
}

#[test]
fn keyspace_events_follow_t_zset() {
    let srv = start_with(|cfg| cfg.notify_keyspace_events = "KEA".into());
    let mut sub = Raw::connect(&srv);
    sub.roundtrip(
        b"PSUBSCRIBE __keyspace@0__:*\r\n",
        b"*3\r\n$10\r\npsubscribe\r\n$16\r\n__keyspace@0__:*\r\n:1\r\n",
    );
    let mut c = conn(&srv);
    for cmd in [
        "ZADD k 1 a 2 b",
        "ZADD k 1 a",
        "ZADD k INCR 1 a",
        "ZINCRBY k 1 a",
        "ZADD k NX 5 a",
        "ZPOPMIN k",
        "ZPOPMAX k",
        "ZADD k 1 a 2 b",
        "ZREM k a b",
        "ZADD k 1 a",
        "ZREMRANGEBYSCORE k -inf +inf",
        "ZADD k 1 a",
        "ZREMRANGEBYRANK k 0 -1",
        "ZADD k 1 a",
        "ZREMRANGEBYLEX k - +",
        "ZADD k 1 a",
        "ZUNIONSTORE d 1 k",
        "ZINTERSTORE d 1 k",
        "ZDIFFSTORE d 1 k",
        "ZRANGESTORE d k 0 -1",
        "ZINTERSTORE d 2 k nokey",
        "ZMPOP 1 k MAX",
        "ZREM k zz",
        "ZADD k 1 last",
    ] {
        let parts: Vec<&str> = cmd.split(' ').collect();
        let _: redis::Value = q(&mut c, &parts);
    }
    let want = [
        ("k", "zadd"),
        ("k", "zincr"),
        ("k", "zincr"),
        ("k", "zpopmin"),
        ("k", "zpopmax"),
        ("k", "del"),
        ("k", "zadd"),
        ("k", "zrem"),
        ("k", "del"),
        ("k", "zadd"),
        ("k", "zremrangebyscore"),
        ("k", "del"),
        ("k", "zadd"),
        ("k", "zremrangebyrank"),
        ("k", "del"),
        ("k", "zadd"),
        ("k", "zremrangebylex"),
        ("k", "del"),
        ("k", "zadd"),
        ("d", "zunionstore"),
        ("d", "zinterstore"),
        ("d", "zdiffstore"),
        ("d", "zrangestore"),
        ("d", "del"),
        ("k", "zpopmax"),
        ("k", "del"),
        ("k", "zadd"),
    ];
    let mut expect = String::new();
    for (key, ev) in want {
        let ch = format!("__keyspace@0__:{key}");
        expect += &format!(
            "*4\r\n$8\r\npmessage\r\n$16\r\n__keyspace@0__:*\r\n${}\r\n{ch}\r\n${}\r\n{ev}\r\n",
            ch.len(),
            ev.len()
        );
    }
    let got = sub.read_exact_len(expect.len());
    assert_eq!(String::from_utf8_lossy(&got), expect);
}
