//! String commands through the `redis` crate and raw RESP.

mod common;
use common::*;
use redis::{Commands, RedisResult, Value};

#[test]
fn set_get_and_options() {
    let srv = start();
    let mut c = conn(&srv);
    let _: () = c.set("k", "v").unwrap();
    assert_eq!(c.get::<_, String>("k").unwrap(), "v");
    let r: Option<String> = redis::cmd("SET").arg("k").arg("w").arg("NX").query(&mut c).unwrap();
    assert_eq!(r, None);
    let r: Option<String> = redis::cmd("SET").arg("k").arg("w").arg("XX").arg("GET").query(&mut c).unwrap();
    assert_eq!(r.as_deref(), Some("v"));
    let r: Option<String> = redis::cmd("SET").arg("n").arg("w").arg("XX").query(&mut c).unwrap();
    assert_eq!(r, None);
    let _: () = redis::cmd("SET").arg("t").arg("1").arg("EX").arg(100).query(&mut c).unwrap();
    let ttl: i64 = c.ttl("t").unwrap();
    assert!((99..=100).contains(&ttl), "{ttl}");
    let e: RedisResult<()> = redis::cmd("SET").arg("t").arg("1").arg("EX").arg(0).query(&mut c);
    assert_eq!(
        e.unwrap_err().to_string(),
        "An error was signalled by the server - ResponseError: invalid expire time in 'set' command"
    );
    let e: RedisResult<()> = redis::cmd("SET").arg("t").arg("1").arg("NX").arg("XX").query(&mut c);
    assert!(e.unwrap_err().to_string().contains("syntax error"));
}

#[test]
fn counters_and_their_errors() {
    let srv = start();
    let mut c = conn(&srv);
    assert_eq!(c.incr::<_, _, i64>("n", 1).unwrap(), 1);
    assert_eq!(c.incr::<_, _, i64>("n", 10).unwrap(), 11);
    assert_eq!(c.decr::<_, _, i64>("n", 12).unwrap(), -1);
    let _: () = c.set("s", "abc").unwrap();
    let e = c.incr::<_, _, i64>("s", 1).unwrap_err();
    assert!(e.to_string().contains("value is not an integer or out of range"), "{e}");
    let _: () = c.set("m", i64::MAX).unwrap();
    let e = c.incr::<_, _, i64>("m", 1).unwrap_err();
    assert!(e.to_string().contains("increment or decrement would overflow"), "{e}");
    assert_eq!(c.get::<_, i64>("m").unwrap(), i64::MAX, "a failed INCR leaves the value alone");
}

#[test]
fn ranges_append_and_multi_key() {
    let srv = start();
    let mut c = conn(&srv);
    assert_eq!(c.append::<_, _, i64>("a", "Hello").unwrap(), 5);
    assert_eq!(c.append::<_, _, i64>("a", " World").unwrap(), 11);
    assert_eq!(c.getrange::<_, String>("a", 0, 4).unwrap(), "Hello");
    assert_eq!(c.getrange::<_, String>("a", -5, -1).unwrap(), "World");
    assert_eq!(c.getrange::<_, String>("a", 5, 3).unwrap(), "");
    assert_eq!(c.setrange::<_, _, i64>("z", 3, "x").unwrap(), 4);
    assert_eq!(c.get::<_, Vec<u8>>("z").unwrap(), b"\0\0\0x");
    assert_eq!(c.strlen::<_, i64>("a").unwrap(), 11);
    let _: () = c.mset(&[("x", "1"), ("y", "2")]).unwrap();
    let v: Vec<Option<String>> = c.mget(&["x", "nope", "y"]).unwrap();
    assert_eq!(v, vec![Some("1".into()), None, Some("2".into())]);
    let ok: bool = c.mset_nx(&[("x", "9"), ("w", "9")]).unwrap();
    assert!(!ok);
    assert!(!c.exists::<_, bool>("w").unwrap());
}

#[test]
fn wrong_type_and_arity_errors_are_redis_texts() {
    let srv = start();
    let mut raw = Raw::connect(&srv);
    raw.roundtrip(b"GET\r\n", b"-ERR wrong number of arguments for 'get' command\r\n");
    raw.roundtrip(
        b"*2\r\n$3\r\nFOO\r\n$3\r\nbar\r\n",
        b"-ERR unknown command 'FOO', with args beginning with: 'bar' \r\n",
    );
    raw.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn pipelined_commands_are_answered_in_order() {
    let srv = start();
    let mut c = conn(&srv);
    let mut p = redis::pipe();
    for i in 0..1000 {
        p.cmd("SET").arg(format!("k{i}")).arg(i).ignore();
    }
    for i in 0..1000 {
        p.cmd("GET").arg(format!("k{i}"));
    }
    let v: Vec<i64> = p.query(&mut c).unwrap();
    assert_eq!(v, (0..1000).collect::<Vec<_>>());
    let v: Value = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(v, Value::Int(1000));
}

/// Cases the differential test (tests/differential.rs) found, as
/// redis-server 7.0.15 answers them.
#[test]
fn option_order_and_number_edges_as_redis_7_0() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    // GETRANGE answers a bad range with one error, not one per argument.
    check(&mut r, &["SET", "s", "abc"], "+OK\r\n");
    check(&mut r, &["GETRANGE", "s", "x", "y"], "-ERR value is not an integer or out of range\r\n");
    check(&mut r, &["PING"], "+PONG\r\n");
    // SET checks every option's syntax before reading the TTL; a TTL
    // option may repeat (the last wins) but not mix with another.
    check(&mut r, &["SET", "s", "v", "EX", "x", "KEEPTTL"], "-ERR syntax error\r\n");
    check(&mut r, &["SET", "s", "v", "KEEPTTL", "KEEPTTL", "NX", "NX"], "$-1\r\n");
    check(&mut r, &["SET", "s", "v", "EX", "0", "EX", "100"], "+OK\r\n");
    check(&mut r, &["TTL", "s"], ":100\r\n");
    check(
        &mut r,
        &["SET", "s", "v", "EX", "100", "EX", "0"],
        "-ERR invalid expire time in 'set' command\r\n",
    );
    // GETEX reads its TTL only once the key is known to be a string.
    check(&mut r, &["GETEX", "nokey", "PX", "0"], "$-1\r\n");
    check(&mut r, &["RPUSH", "l", "a"], ":1\r\n");
    check(
        &mut r,
        &["GETEX", "l", "EX", "x"],
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    );
    check(&mut r, &["GETEX", "s", "PX", "0"], "-ERR invalid expire time in 'getex' command\r\n");
    check(&mut r, &["GETEX", "s", "PERSIST", "PERSIST"], "$1\r\nv\r\n");
    check(&mut r, &["GETEX", "s", "EX", "5", "PX", "5"], "-ERR syntax error\r\n");
    // INCRBYFLOAT reads hex floats as strtold does, refuses a NUL byte and
    // stores its sum as a plain string.
    check(&mut r, &["SET", "f", "0x10"], "+OK\r\n");
    check(&mut r, &["INCRBYFLOAT", "f", "0x1p1"], "$2\r\n18\r\n");
    check(&mut r, &["OBJECT", "ENCODING", "f"], "$6\r\nembstr\r\n");
    check(&mut r, &["SET", "z", "1\0"], "+OK\r\n");
    check(&mut r, &["INCRBYFLOAT", "z", "1"], "-ERR value is not a valid float\r\n");
    check(&mut r, &["INCRBYFLOAT", "f", "inf"], "-ERR increment would produce NaN or Infinity\r\n");
}

/// Strings of up to 22 bytes are held inside the value, longer ones on
/// the heap: neither shows. Encodings are redis-server 7.0.15's (a short
/// string APPENDed or SETRANGEd to is `raw`, INCRBYFLOAT's sum `embstr`);
/// MEMORY USAGE counts both holdings as Redis's one `embstr` block.
#[test]
fn short_strings_at_the_inline_boundary_look_like_redis() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    let (v22, v23) = ("a".repeat(22), "b".repeat(23));
    let bulk = |v: &str| format!("${}\r\n{v}\r\n", v.len());
    for (k, v, enc, mem) in
        [("k", &v22, "embstr", 16 + 3 + 22 + 1 + 26), ("k", &v23, "embstr", 16 + 3 + 23 + 1 + 26)]
    {
        check(&mut r, &["SET", k, v], "+OK\r\n");
        check(&mut r, &["GET", k], &bulk(v));
        check(&mut r, &["STRLEN", k], &format!(":{}\r\n", v.len()));
        check(&mut r, &["OBJECT", "ENCODING", k], &bulk(enc));
        check(&mut r, &["MEMORY", "USAGE", k], &format!(":{mem}\r\n"));
        check(&mut r, &["GETRANGE", k, "-3", "-1"], &bulk(&v[v.len() - 3..]));
    }
    // Overwriting: inline by inline, by an integer, by a longer string.
    check(&mut r, &["SET", "o", "xyz"], "+OK\r\n");
    check(&mut r, &["SET", "o", "pq"], "+OK\r\n");
    check(&mut r, &["GET", "o"], &bulk("pq"));
    check(&mut r, &["SET", "o", "12"], "+OK\r\n");
    check(&mut r, &["OBJECT", "ENCODING", "o"], &bulk("int"));
    check(&mut r, &["SET", "o", &v23, "GET"], &bulk("12"));
    check(&mut r, &["GETSET", "o", "x"], &bulk(&v23));
    check(&mut r, &["MGET", "o", "k"], &format!("*2\r\n{}{}", bulk("x"), bulk(&v23)));
    check(&mut r, &["SET", "e", ""], "+OK\r\n");
    check(&mut r, &["GET", "e"], "$0\r\n\r\n");
    check(&mut r, &["OBJECT", "ENCODING", "e"], &bulk("embstr"));
    // APPEND makes even a short string raw, and can take it past 22 bytes.
    check(&mut r, &["SET", "a", "ab"], "+OK\r\n");
    check(&mut r, &["APPEND", "a", "c"], ":3\r\n");
    check(&mut r, &["OBJECT", "ENCODING", "a"], &bulk("raw"));
    check(&mut r, &["GET", "a"], &bulk("abc"));
    check(&mut r, &["SET", "a", &v22], "+OK\r\n");
    check(&mut r, &["APPEND", "a", "z"], ":23\r\n");
    check(&mut r, &["GET", "a"], &bulk(&format!("{v22}z")));
    check(&mut r, &["OBJECT", "ENCODING", "a"], &bulk("raw"));
    // SETRANGE, in place and growing past the inline size.
    check(&mut r, &["SET", "s", "hello"], "+OK\r\n");
    check(&mut r, &["SETRANGE", "s", "1", "E"], ":5\r\n");
    check(&mut r, &["GET", "s"], &bulk("hEllo"));
    check(&mut r, &["OBJECT", "ENCODING", "s"], &bulk("raw"));
    check(&mut r, &["SET", "s", &v22], "+OK\r\n");
    check(&mut r, &["SETRANGE", "s", "30", "!"], ":31\r\n");
    check(&mut r, &["GET", "s"], &bulk(&format!("{v22}{}!", "\0".repeat(8))));
    // INCRBYFLOAT on an inline string; its sum stays a plain string.
    check(&mut r, &["SET", "f", "1.5"], "+OK\r\n");
    check(&mut r, &["INCRBYFLOAT", "f", "1.5"], &bulk("3"));
    check(&mut r, &["OBJECT", "ENCODING", "f"], &bulk("embstr"));
    check(&mut r, &["INCR", "f"], ":4\r\n");
    check(&mut r, &["GETDEL", "k"], &bulk(&v23));
}
