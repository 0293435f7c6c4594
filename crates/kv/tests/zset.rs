//! Sorted set commands: replies and errors byte for byte (as Redis 7.0
//! gives them, in RESP2 and RESP3), encodings, the ZRANGE family against a
//! model, ZSCAN, the algebra, ZRANDMEMBER counts and keyspace events.
//!
//! Scores in these tests are chosen so that Redis 7.0's `%.17g` and the
//! shortest round-trip formatting (Redis 7.2's) print them the same.

mod common;
#[path = "zset/model.rs"]
mod model;
use common::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};

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

/// Cases the differential test (tests/differential.rs) found, as
/// redis-server 7.0.15 answers them.
#[test]
fn negative_zero_hex_scores_and_rank_limit_as_redis_7_0() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    let long = "z".repeat(70);
    // A listpack stores an integral score as an integer: -0 reads back 0.
    // The reply to the write itself still shows -0.
    check(&mut r, &["ZADD", "lp", "INCR", "-0", "a"], "$2\r\n-0\r\n");
    check(&mut r, &["ZSCORE", "lp", "a"], "$1\r\n0\r\n");
    // A skiplist keeps the sign; ZRANGESTORE starts its result as a
    // listpack (by count) and converts it at the long member.
    check(&mut r, &["ZADD", "sl", "1", &long, "-0", "a"], ":2\r\n");
    check(&mut r, &["ZSCORE", "sl", "a"], "$2\r\n-0\r\n");
    check(&mut r, &["ZRANGESTORE", "dst", "sl", "0", "-1"], ":2\r\n");
    check(&mut r, &["OBJECT", "ENCODING", "dst"], "$8\r\nskiplist\r\n");
    check(&mut r, &["ZSCORE", "dst", "a"], "$1\r\n0\r\n");
    check(&mut r, &["ZUNIONSTORE", "u", "1", "sl"], ":2\r\n");
    check(&mut r, &["ZSCORE", "u", "a"], "$2\r\n-0\r\n");
    // strtod reads hex floats.
    check(&mut r, &["ZADD", "h", "0x10", "m"], ":1\r\n");
    check(&mut r, &["ZINCRBY", "h", "0x1p1", "m"], "$2\r\n18\r\n");
    // A by-rank range accepts LIMIT with count -1 and ignores it.
    check(&mut r, &["ZRANGE", "h", "0", "-1", "REV", "LIMIT", "-1", "-1"], &bulks(&["m"]));
    check(
        &mut r,
        &["ZRANGE", "h", "0", "-1", "LIMIT", "0", "1"],
        "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n",
    );
}

/// A score bound is read by C's `strtod` with only "all read, not NaN"
/// checked (`zslParseRange`), so Redis takes bounds that ZADD would refuse:
/// `(` alone and `""` are 0, leading spaces are skipped, hex is read, and
/// out-of-range literals become infinities. Found by bench/kv_diff_fuzz.py.
#[test]
fn score_bounds_read_as_strtod_reads_them() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    check(&mut r, &["ZADD", "z", "-1", "neg", "0", "zero", "16", "hex", "1e300", "big"], ":4\r\n");
    check(&mut r, &["ZCOUNT", "z", "(", "+inf"], ":2\r\n");
    check(&mut r, &["ZCOUNT", "z", "", ""], ":1\r\n");
    check(&mut r, &["ZRANGEBYSCORE", "z", "-inf", "("], &bulks(&["neg"]));
    check(&mut r, &["ZRANGE", "z", "", "-2", "BYSCORE", "REV"], &bulks(&["zero", "neg"]));
    check(&mut r, &["ZCOUNT", "z", " 16", "0x10"], ":1\r\n");
    check(&mut r, &["ZCOUNT", "z", "(1e400", "+inf"], ":0\r\n");
    check(&mut r, &["ZCOUNT", "z", "-1e400", "1e-400"], ":2\r\n");
    // What strtod leaves unread, and NaN, are still refused.
    for (min, max) in [("1 ", "2"), (" ", "2"), ("0", "(x"), ("nan", "1"), ("0", "(nan")] {
        check(&mut r, &["ZCOUNT", "z", min, max], "-ERR min or max is not a float\r\n");
    }
    check(&mut r, &["ZREMRANGEBYSCORE", "z", "(", "0x10"], ":1\r\n");
    check(&mut r, &["ZCARD", "z"], ":3\r\n");
    // ZADD still refuses what getDoubleFromObject refuses.
    check(&mut r, &["ZADD", "z", "", "m"], "-ERR value is not a valid float\r\n");
    check(&mut r, &["ZADD", "z", " 1", "m"], "-ERR value is not a valid float\r\n");
}

/// ZINCRBY runs ZADD's parser with INCR set, so a flag word where the
/// increment goes is taken as a flag and leaves one argument: a syntax
/// error in Redis 7.0.15, where spindle said "not a valid float". Found
/// by bench/kv_diff_fuzz.py.
#[test]
fn zincrby_reads_zadd_flags_first() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    for flag in ["XX", "nx", "GT", "lt", "CH", "incr"] {
        check(&mut r, &["ZINCRBY", "z", flag, "m"], "-ERR syntax error\r\n");
    }
    check(&mut r, &["ZINCRBY", "z", "1", "XX"], "$1\r\n1\r\n");
    check(&mut r, &["EXISTS", "z"], ":1\r\n");
}
