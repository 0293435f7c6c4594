//! List commands: replies and errors byte for byte (as redis-server 7.0.15
//! gives them), deletion of emptied lists, keyspace events, and the
//! listpack → quicklist conversion through the commands.

mod common;
use common::*;
use std::io::Read;

/// The elements of a list, through the `redis` crate.
fn range(c: &mut redis::Connection, key: &str) -> Vec<String> {
    redis::cmd("LRANGE").arg(key).arg(0).arg(-1).query(c).unwrap()
}

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

#[test]
fn push_pop_len_and_range() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    check(&mut r, &["RPUSH", "l", "a", "b", "c"], ":3\r\n");
    check(&mut r, &["LPUSH", "l", "x", "y"], ":5\r\n");
    check(
        &mut r,
        &["LRANGE", "l", "0", "-1"],
        "*5\r\n$1\r\ny\r\n$1\r\nx\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
    );
    check(&mut r, &["LRANGE", "l", "-2", "100"], "*2\r\n$1\r\nb\r\n$1\r\nc\r\n");
    check(&mut r, &["LRANGE", "l", "3", "1"], "*0\r\n");
    check(&mut r, &["LRANGE", "nokey", "0", "1"], "*0\r\n");
    check(&mut r, &["LRANGE", "l", "a", "1"], "-ERR value is not an integer or out of range\r\n");
    check(&mut r, &["LLEN", "l"], ":5\r\n");
    check(&mut r, &["LLEN", "nokey"], ":0\r\n");
    check(&mut r, &["LPUSHX", "nokey", "a"], ":0\r\n");
    check(&mut r, &["RPUSHX", "l", "z"], ":6\r\n");
    check(&mut r, &["LPOP", "l"], "$1\r\ny\r\n");
    check(&mut r, &["RPOP", "l"], "$1\r\nz\r\n");
    check(&mut r, &["LPOP", "nokey"], "$-1\r\n");
    check(&mut r, &["EXISTS", "nokey"], ":0\r\n");
    check(&mut r, &["LPUSH", "l"], "-ERR wrong number of arguments for 'lpush' command\r\n");
    check(&mut r, &["SET", "s", "v"], "+OK\r\n");
    check(&mut r, &["LPUSH", "s", "a"], WRONGTYPE);
    check(&mut r, &["LPUSHX", "s", "a"], WRONGTYPE);
    check(&mut r, &["LLEN", "s"], WRONGTYPE);
    check(&mut r, &["LRANGE", "s", "0", "1"], WRONGTYPE);
    check(&mut r, &["LPOP", "s"], WRONGTYPE);
}

#[test]
fn pop_with_a_count() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    check(&mut r, &["RPUSH", "l", "a", "b", "c", "d"], ":4\r\n");
    check(&mut r, &["LPOP", "l", "0"], "*0\r\n");
    check(&mut r, &["LPOP", "nokey", "0"], "*-1\r\n");
    check(&mut r, &["LPOP", "nokey", "2"], "*-1\r\n");
    check(&mut r, &["LPOP", "l", "-1"], "-ERR value is out of range, must be positive\r\n");
    check(&mut r, &["LPOP", "l", "a"], "-ERR value is out of range, must be positive\r\n");
    check(&mut r, &["LPOP", "l", "1", "2"], "-ERR wrong number of arguments for 'lpop' command\r\n");
    check(&mut r, &["LPOP", "l", "2"], "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    check(&mut r, &["RPOP", "l", "5"], "*2\r\n$1\r\nd\r\n$1\r\nc\r\n");
    // The emptied list is gone.
    check(&mut r, &["EXISTS", "l"], ":0\r\n");
    check(&mut r, &["RPOP", "l", "1"], "*-1\r\n");
}

#[test]
fn index_set_rem_trim() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    check(&mut r, &["RPUSH", "l", "a", "b", "a", "c", "a"], ":5\r\n");
    check(&mut r, &["LINDEX", "l", "1"], "$1\r\nb\r\n");
    check(&mut r, &["LINDEX", "l", "-1"], "$1\r\na\r\n");
    check(&mut r, &["LINDEX", "l", "10"], "$-1\r\n");
    check(&mut r, &["LINDEX", "nokey", "x"], "$-1\r\n");
    check(&mut r, &["LINDEX", "l", "x"], "-ERR value is not an integer or out of range\r\n");
    check(&mut r, &["LSET", "nokey", "0", "a"], "-ERR no such key\r\n");
    check(&mut r, &["LSET", "l", "5", "a"], "-ERR index out of range\r\n");
    check(&mut r, &["LSET", "l", "x", "a"], "-ERR value is not an integer or out of range\r\n");
    check(&mut r, &["LSET", "l", "-4", "B"], "+OK\r\n");
    check(&mut r, &["LREM", "l", "-1", "a"], ":1\r\n");
    check(&mut r, &["LRANGE", "l", "0", "-1"], "*4\r\n$1\r\na\r\n$1\r\nB\r\n$1\r\na\r\n$1\r\nc\r\n");
    check(&mut r, &["LREM", "l", "0", "a"], ":2\r\n");
    check(&mut r, &["LREM", "l", "1", "zz"], ":0\r\n");
    check(&mut r, &["LREM", "nokey", "1", "zz"], ":0\r\n");
    check(&mut r, &["LREM", "l", "x", "a"], "-ERR value is not an integer or out of range\r\n");
    check(&mut r, &["RPUSH", "l", "d", "e"], ":4\r\n");
    check(&mut r, &["LTRIM", "l", "1", "-2"], "+OK\r\n");
    check(&mut r, &["LRANGE", "l", "0", "-1"], "*2\r\n$1\r\nc\r\n$1\r\nd\r\n");
    check(&mut r, &["LTRIM", "nokey", "0", "1"], "+OK\r\n");
    check(&mut r, &["LTRIM", "l", "5", "6"], "+OK\r\n");
    check(&mut r, &["EXISTS", "l"], ":0\r\n");
    check(&mut r, &["RPUSH", "m", "a"], ":1\r\n");
    check(&mut r, &["LREM", "m", "0", "a"], ":1\r\n");
    check(&mut r, &["EXISTS", "m"], ":0\r\n");
    check(&mut r, &["SET", "s", "v"], "+OK\r\n");
    check(&mut r, &["LSET", "s", "0", "a"], WRONGTYPE);
    check(&mut r, &["LINDEX", "s", "0"], WRONGTYPE);
    check(&mut r, &["LREM", "s", "0", "a"], WRONGTYPE);
    check(&mut r, &["LTRIM", "s", "0", "1"], WRONGTYPE);
}

#[test]
fn insert_and_pos() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    check(&mut r, &["RPUSH", "l", "a", "b", "c", "b"], ":4\r\n");
    check(&mut r, &["LINSERT", "l", "BEFORE", "b", "x"], ":5\r\n");
    check(&mut r, &["LINSERT", "l", "after", "c", "y"], ":6\r\n");
    check(&mut r, &["LINSERT", "l", "before", "zz", "y"], ":-1\r\n");
    check(&mut r, &["LINSERT", "nokey", "before", "a", "y"], ":0\r\n");
    check(&mut r, &["LINSERT", "l", "middle", "a", "b"], "-ERR syntax error\r\n");
    // a x b c y b
    check(&mut r, &["LPOS", "l", "b"], ":2\r\n");
    check(&mut r, &["LPOS", "l", "b", "RANK", "2"], ":5\r\n");
    check(&mut r, &["LPOS", "l", "b", "RANK", "-1"], ":5\r\n");
    check(&mut r, &["LPOS", "l", "b", "COUNT", "0"], "*2\r\n:2\r\n:5\r\n");
    check(&mut r, &["LPOS", "l", "b", "RANK", "-1", "COUNT", "0"], "*2\r\n:5\r\n:2\r\n");
    check(&mut r, &["LPOS", "l", "b", "MAXLEN", "3"], ":2\r\n");
    check(&mut r, &["LPOS", "l", "b", "RANK", "2", "MAXLEN", "3"], "$-1\r\n");
    check(&mut r, &["LPOS", "l", "zz"], "$-1\r\n");
    check(&mut r, &["LPOS", "l", "zz", "COUNT", "0"], "*0\r\n");
    check(&mut r, &["LPOS", "nokey", "b"], "$-1\r\n");
    check(&mut r, &["LPOS", "nokey", "b", "COUNT", "1"], "*0\r\n");
    check(
        &mut r,
        &["LPOS", "l", "b", "RANK", "0"],
        "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n",
    );
    check(&mut r, &["LPOS", "l", "b", "COUNT", "-1"], "-ERR COUNT can't be negative\r\n");
    check(&mut r, &["LPOS", "l", "b", "COUNT", "x"], "-ERR COUNT can't be negative\r\n");
    check(&mut r, &["LPOS", "l", "b", "MAXLEN", "-1"], "-ERR MAXLEN can't be negative\r\n");
    check(&mut r, &["LPOS", "l", "b", "RANK", "x"], "-ERR value is not an integer or out of range\r\n");
    check(&mut r, &["LPOS", "l", "b", "foo"], "-ERR syntax error\r\n");
    check(&mut r, &["LPOS", "l", "b", "RANK"], "-ERR syntax error\r\n");
}

#[test]
fn lmove_rpoplpush_and_lmpop() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    let mut c = conn(&srv);
    check(&mut r, &["RPUSH", "src", "a", "b", "c"], ":3\r\n");
    check(&mut r, &["LMOVE", "src", "dst", "LEFT", "RIGHT"], "$1\r\na\r\n");
    check(&mut r, &["LMOVE", "src", "dst", "right", "left"], "$1\r\nc\r\n");
    assert_eq!(range(&mut c, "dst"), ["c", "a"]);
    check(&mut r, &["RPOPLPUSH", "src", "dst"], "$1\r\nb\r\n");
    assert_eq!(range(&mut c, "dst"), ["b", "c", "a"]);
    check(&mut r, &["EXISTS", "src"], ":0\r\n");
    check(&mut r, &["RPOPLPUSH", "src", "dst"], "$-1\r\n");
    check(&mut r, &["LMOVE", "src", "dst", "LEFT", "LEFT"], "$-1\r\n");
    check(&mut r, &["LMOVE", "dst", "dst", "up", "LEFT"], "-ERR syntax error\r\n");
    // Rotation within one list.
    check(&mut r, &["LMOVE", "dst", "dst", "LEFT", "RIGHT"], "$1\r\nb\r\n");
    assert_eq!(range(&mut c, "dst"), ["c", "a", "b"]);
    check(&mut r, &["SET", "s", "v"], "+OK\r\n");
    check(&mut r, &["LMOVE", "dst", "s", "LEFT", "RIGHT"], WRONGTYPE);
    check(&mut r, &["LMOVE", "s", "dst", "LEFT", "RIGHT"], WRONGTYPE);
    assert_eq!(range(&mut c, "dst"), ["c", "a", "b"], "a failed move changes nothing");

    check(&mut r, &["LMPOP", "2", "nokey", "dst", "LEFT"], "*2\r\n$3\r\ndst\r\n*1\r\n$1\r\nc\r\n");
    check(
        &mut r,
        &["LMPOP", "1", "dst", "RIGHT", "COUNT", "5"],
        "*2\r\n$3\r\ndst\r\n*2\r\n$1\r\nb\r\n$1\r\na\r\n",
    );
    check(&mut r, &["LMPOP", "1", "dst", "RIGHT"], "*-1\r\n");
    check(&mut r, &["LMPOP", "2", "s", "dst", "RIGHT"], WRONGTYPE);
    check(&mut r, &["LMPOP", "0", "l", "left"], "-ERR numkeys should be greater than 0\r\n");
    check(&mut r, &["LMPOP", "x", "l", "left"], "-ERR numkeys should be greater than 0\r\n");
    check(&mut r, &["LMPOP", "1", "l", "middle"], "-ERR syntax error\r\n");
    check(&mut r, &["LMPOP", "2", "l", "left"], "-ERR syntax error\r\n");
    check(&mut r, &["LMPOP", "1", "l", "left", "count", "0"], "-ERR count should be greater than 0\r\n");
    check(&mut r, &["LMPOP", "1", "l", "left", "count", "x"], "-ERR count should be greater than 0\r\n");
    check(&mut r, &["LMPOP", "1", "l", "left", "count"], "-ERR syntax error\r\n");
    check(&mut r, &["LMPOP", "1", "l", "left", "count", "1", "count", "2"], "-ERR syntax error\r\n");
}

#[test]
fn encoding_converts_to_quicklist_and_back() {
    let srv = start_with(|cfg| cfg.encoding.list_max_listpack_size = 4);
    let mut r = Raw::connect(&srv);
    check(&mut r, &["RPUSH", "l", "1", "2", "3", "4"], ":4\r\n");
    check(&mut r, &["OBJECT", "ENCODING", "l"], "$8\r\nlistpack\r\n");
    check(&mut r, &["RPUSH", "l", "5"], ":5\r\n");
    check(&mut r, &["OBJECT", "ENCODING", "l"], "$9\r\nquicklist\r\n");
    check(&mut r, &["LRANGE", "l", "3", "-1"], "*2\r\n$1\r\n4\r\n$1\r\n5\r\n");
    check(&mut r, &["LINSERT", "l", "BEFORE", "3", "x"], ":6\r\n");
    check(&mut r, &["LSET", "l", "0", "y"], "+OK\r\n");
    check(
        &mut r,
        &["LRANGE", "l", "0", "-1"],
        "*6\r\n$1\r\ny\r\n$1\r\n2\r\n$1\r\nx\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n",
    );
    check(&mut r, &["LPOP", "l", "3"], "*3\r\n$1\r\ny\r\n$1\r\n2\r\n$1\r\nx\r\n");
    check(&mut r, &["OBJECT", "ENCODING", "l"], "$9\r\nquicklist\r\n");
    // Back to one node of at most half the cap: a listpack again.
    check(&mut r, &["RPOP", "l"], "$1\r\n5\r\n");
    check(&mut r, &["OBJECT", "ENCODING", "l"], "$8\r\nlistpack\r\n");
    // A push of many at once converts too.
    check(&mut r, &["LPUSH", "big", "a", "b", "c", "d", "e", "f", "g"], ":7\r\n");
    check(&mut r, &["OBJECT", "ENCODING", "big"], "$9\r\nquicklist\r\n");
    check(&mut r, &["LINDEX", "big", "-1"], "$1\r\na\r\n");
}

/// Reads pub/sub messages from `r` until `n` arrived; returns `event key`.
fn events(r: &mut Raw, n: usize) -> Vec<String> {
    let mut buf = Vec::new();
    let mut out = Vec::new();
    while out.len() < n {
        let mut chunk = [0u8; 4096];
        let got = r.stream.read(&mut chunk).expect("read events");
        assert!(got > 0, "closed");
        buf.extend_from_slice(&chunk[..got]);
        let text = String::from_utf8_lossy(&buf).into_owned();
        out = text
            .split("pmessage\r\n")
            .skip(1)
            .filter_map(|m| {
                let f: Vec<&str> = m.split("\r\n").collect();
                (f.len() > 5).then(|| format!("{} {}", f[3].trim_start_matches("__keyevent@0__:"), f[5]))
            })
            .collect();
    }
    out
}

#[test]
fn keyspace_events_in_redis_order() {
    let srv = start_with(|cfg| cfg.notify_keyspace_events = "Elg".into());
    let mut sub = Raw::connect(&srv);
    sub.send(&req(&["PSUBSCRIBE", "__keyevent@0__:*"]));
    let _ = sub.read_exact_len(b"*3\r\n$10\r\npsubscribe\r\n$16\r\n__keyevent@0__:*\r\n:1\r\n".len());
    let mut c = conn(&srv);
    for cmd in [
        &["RPUSH", "a", "x"][..],
        &["LMOVE", "a", "b", "LEFT", "RIGHT"],
        &["LINSERT", "b", "BEFORE", "x", "y"],
        &["LSET", "b", "0", "z"],
        &["LREM", "b", "0", "z"],
        &["LTRIM", "b", "5", "6"],
        &["RPUSH", "b", "1", "2"],
        &["LPOP", "b", "5"],
        &["RPUSH", "b", "1"],
        &["LMPOP", "1", "b", "RIGHT"],
    ] {
        let _: redis::Value = redis::cmd(cmd[0]).arg(&cmd[1..]).query(&mut c).unwrap();
    }
    // Exactly what redis-server 7.0.15 publishes for the same commands.
    let want = [
        "rpush a",
        "rpush b",
        "lpop a",
        "del a",
        "linsert b",
        "lset b",
        "lrem b",
        "ltrim b",
        "del b",
        "rpush b",
        "lpop b",
        "del b",
        "rpush b",
        "rpop b",
        "del b",
    ];
    assert_eq!(events(&mut sub, want.len()), want);
}

#[test]
fn plain_nodes_forced_by_debug_quicklist_packed_threshold_keep_every_value() {
    // Redis's unit/type/list "plain node" tests: with the threshold at 1
    // byte, every element longer than that lives in a node of its own.
    let srv = start();
    let mut r = Raw::connect(&srv);
    r.roundtrip(
        b"DEBUG QUICKLIST-PACKED-THRESHOLD 5gb\r\n",
        b"-ERR argument must be a memory value bigger than 1 and smaller than 4gb\r\n",
    );
    r.roundtrip(b"DEBUG QUICKLIST-PACKED-THRESHOLD 1b\r\n", b"+OK\r\n");
    let mut c = conn(&srv);
    let big = |ch: char| ch.to_string().repeat(500);
    for ch in ['a', 'b', 'c', 'd'] {
        let _: i64 = q(&mut c, &["LPUSH", "l", &big(ch)]);
    }
    for ch in ['e', 'f', 'g', 'j'] {
        let _: i64 = q(&mut c, &["LINSERT", "l", "AFTER", &big('d'), &big(ch)]);
    }
    let _: () = q(&mut c, &["RPUSH", "l", "9", "xxxxxxxxxx"]);
    let _: () = q(&mut c, &["LSET", "l", "1", &big('z')]);
    let _: () = q(&mut c, &["DEBUG", "RELOAD"]);
    let got: Vec<String> = q(&mut c, &["LRANGE", "l", "0", "-1"]);
    let want: Vec<String> = ['d', 'z', 'g', 'f', 'e', 'c', 'b', 'a']
        .iter()
        .map(|&ch| big(ch))
        .chain(["9".into(), "xxxxxxxxxx".into()])
        .collect();
    assert_eq!(got, want);
    let _: () = q(&mut c, &["LTRIM", "l", "1", "-2"]);
    assert_eq!(q::<i64>(&mut c, &["LLEN", "l"]), 8);
    assert_eq!(q::<String>(&mut c, &["LINDEX", "l", "0"]), big('z'));
    r.roundtrip(b"DEBUG QUICKLIST-PACKED-THRESHOLD 0\r\n", b"+OK\r\n");
}
