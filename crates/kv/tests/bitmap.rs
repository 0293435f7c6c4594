//! Bitmap commands (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD,
//! BITFIELD_RO) through the `redis` crate and raw RESP: Redis's documented
//! examples, its error texts, the offset limit, OBJECT ENCODING, what
//! counts as a change (events, WATCH, the AOF) and replay after a restart.
//! The differential test compares many more argument combinations with a
//! real redis-server.

mod common;

use common::*;
use redis::{Connection, Value};
use spindle_kv::server::config::AppendFsync;

/// The error text of a command that must fail.
fn err(c: &mut Connection, args: &[&str]) -> String {
    let e = redis::cmd(args[0]).arg(&args[1..]).query::<Value>(c).expect_err("an error reply");
    format!("{} {}", e.code().unwrap_or(""), e.detail().unwrap_or("")).trim().to_string()
}

fn bytes(c: &mut Connection, key: &str) -> Vec<u8> {
    q(c, &["GET", key])
}

fn set_bytes(c: &mut Connection, key: &str, value: &[u8]) {
    let _: () = redis::cmd("SET").arg(key).arg(value).query(c).unwrap();
}

fn encoding(c: &mut Connection, key: &str) -> String {
    q(c, &["OBJECT", "ENCODING", key])
}

#[test]
fn setbit_and_getbit_as_documented() {
    let srv = start();
    let mut c = conn(&srv);
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "mykey", "7", "1"]), 0);
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "mykey", "7", "0"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "mykey", "7", "1"]), 0);
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "mykey", "0"]), 0);
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "mykey", "7"]), 1);
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "mykey", "100"]), 0);
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "nokey", "100"]), 0);
    assert_eq!(bytes(&mut c, "mykey"), b"\x01");
    // Bit 0 is the top bit of the first byte; growing pads with zeros.
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "mykey", "8", "1"]), 0);
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "mykey", "23", "1"]), 0);
    assert_eq!(bytes(&mut c, "mykey"), b"\x01\x80\x01");
    // An integer is read as its digits: "1" is 0x31.
    let _: () = q(&mut c, &["SET", "n", "1"]);
    let bits: Vec<i64> = (0..8).map(|i| q(&mut c, &["GETBIT", "n", &i.to_string()])).collect();
    assert_eq!(bits, [0, 0, 1, 1, 0, 0, 0, 1]);
}

#[test]
fn offsets_stop_at_two_to_the_32_bits() {
    let srv = start();
    let mut c = conn(&srv);
    // Whole-string passes over 512 MB in a debug build, beside the rest of
    // the suite, can take longer than the usual bound.
    c.set_read_timeout(Some(std::time::Duration::from_secs(120))).unwrap();
    let last = (u64::from(u32::MAX)).to_string();
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "big", &last, "1"]), 0);
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "big"]), 512 << 20);
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "big", &last]), 1);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "big"]), 1);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "big", "1"]), u32::MAX as i64);
    let past = (u64::from(u32::MAX) + 1).to_string();
    let offset_err = "ERR bit offset is not an integer or out of range";
    assert_eq!(err(&mut c, &["SETBIT", "big", &past, "1"]), offset_err);
    assert_eq!(err(&mut c, &["GETBIT", "big", &past]), offset_err);
    assert_eq!(err(&mut c, &["BITFIELD", "big", "GET", "u8", &past]), offset_err);
    assert_eq!(err(&mut c, &["BITFIELD", "big", "GET", "u8", "#536870912"]), offset_err);
    assert_eq!(q::<Vec<i64>>(&mut c, &["BITFIELD", "big", "GET", "i8", "#536870911"]), [1]);
    assert_eq!(q::<i64>(&mut c, &["DEL", "big"]), 1);
    // A smaller proto-max-bulk-len lowers the limit with it.
    let _: () = q(&mut c, &["CONFIG", "SET", "proto-max-bulk-len", "1mb"]);
    assert_eq!(err(&mut c, &["SETBIT", "k", &(8 << 20).to_string(), "1"]), offset_err);
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "k", &((8 << 20) - 1).to_string(), "1"]), 0);
}

#[test]
fn argument_errors_are_redis_texts() {
    let srv = start();
    let mut c = conn(&srv);
    let _: () = q(&mut c, &["SET", "s", "foobar"]);
    let _: () = q(&mut c, &["RPUSH", "l", "a"]);
    let offset = "ERR bit offset is not an integer or out of range";
    for bad in ["-1", "x", "1.5", "", "#1", "4294967296"] {
        assert_eq!(err(&mut c, &["SETBIT", "s", bad, "1"]), offset, "offset {bad:?}");
        assert_eq!(err(&mut c, &["GETBIT", "s", bad]), offset, "offset {bad:?}");
    }
    for bad in ["2", "-1", "x", "01", ""] {
        assert_eq!(err(&mut c, &["SETBIT", "s", "1", bad]), "ERR bit is not an integer or out of range");
    }
    let wrongtype = "WRONGTYPE Operation against a key holding the wrong kind of value";
    assert_eq!(err(&mut c, &["SETBIT", "l", "1", "1"]), wrongtype);
    assert_eq!(err(&mut c, &["GETBIT", "l", "1"]), wrongtype);
    assert_eq!(err(&mut c, &["BITCOUNT", "l"]), wrongtype);
    assert_eq!(err(&mut c, &["BITPOS", "l", "1"]), wrongtype);
    assert_eq!(err(&mut c, &["BITOP", "AND", "d", "s", "l"]), wrongtype);
    assert_eq!(err(&mut c, &["BITFIELD", "l", "GET", "u8", "0"]), wrongtype);
    assert_eq!(err(&mut c, &["BITFIELD", "l", "SET", "u8", "0", "1"]), wrongtype);
    assert_eq!(err(&mut c, &["BITFIELD_RO", "l", "GET", "u8", "0"]), wrongtype);
    // An argument error comes before the type check.
    assert_eq!(err(&mut c, &["SETBIT", "l", "1", "2"]), "ERR bit is not an integer or out of range");

    assert_eq!(err(&mut c, &["BITCOUNT", "s", "1"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["BITCOUNT", "s", "1", "2", "BITS"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["BITCOUNT", "s", "x", "2"]), "ERR value is not an integer or out of range");
    assert_eq!(err(&mut c, &["BITPOS", "s", "2"]), "ERR The bit argument must be 1 or 0.");
    assert_eq!(err(&mut c, &["BITPOS", "s", "x"]), "ERR value is not an integer or out of range");
    assert_eq!(err(&mut c, &["BITPOS", "s", "1", "0", "x", "BOGUS"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["BITPOS", "s", "1", "0", "1", "BIT", "x"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["BITOP", "NAND", "d", "s"]), "ERR syntax error");
    assert_eq!(
        err(&mut c, &["BITOP", "NOT", "d", "s", "s"]),
        "ERR BITOP NOT must be called with a single source key."
    );

    let bad_type =
        "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
    for t in ["u64", "i65", "i0", "I8", "x", ""] {
        assert_eq!(err(&mut c, &["BITFIELD", "s", "GET", t, "0"]), bad_type, "type {t:?}");
    }
    assert_eq!(err(&mut c, &["BITFIELD", "s", "GET", "i8", "#x"]), offset);
    assert_eq!(
        err(&mut c, &["BITFIELD", "s", "SET", "i8", "0", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(err(&mut c, &["BITFIELD", "s", "OVERFLOW", "LOUD"]), "ERR Invalid OVERFLOW type specified");
    assert_eq!(err(&mut c, &["BITFIELD", "s", "GET", "i8"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["BITFIELD", "s", "FETCH", "i8", "0"]), "ERR syntax error");
    let ro = "ERR BITFIELD_RO only supports the GET subcommand";
    assert_eq!(err(&mut c, &["BITFIELD_RO", "s", "SET", "u8", "0", "1"]), ro);
    assert_eq!(err(&mut c, &["BITFIELD_RO", "l", "GET", "u8", "0", "INCRBY", "u8", "0", "1"]), ro);
    // Nothing was written by the failed commands.
    assert_eq!(bytes(&mut c, "s"), b"foobar");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "d"]), 0);

    let mut raw = Raw::connect(&srv);
    check(&mut raw, &["SETBIT", "s", "1"], "-ERR wrong number of arguments for 'setbit' command\r\n");
    check(&mut raw, &["GETBIT", "s"], "-ERR wrong number of arguments for 'getbit' command\r\n");
    check(&mut raw, &["BITCOUNT"], "-ERR wrong number of arguments for 'bitcount' command\r\n");
    check(&mut raw, &["BITPOS", "s"], "-ERR wrong number of arguments for 'bitpos' command\r\n");
    check(&mut raw, &["BITOP", "AND", "d"], "-ERR wrong number of arguments for 'bitop' command\r\n");
    check(&mut raw, &["BITFIELD"], "-ERR wrong number of arguments for 'bitfield' command\r\n");
    check(&mut raw, &["BITFIELD_RO"], "-ERR wrong number of arguments for 'bitfield_ro' command\r\n");
}

#[test]
fn bitcount_as_documented_with_redis_70_edge_cases() {
    let srv = start();
    let mut c = conn(&srv);
    let _: () = q(&mut c, &["SET", "mykey", "foobar"]);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "mykey"]), 26);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "mykey", "0", "0"]), 4);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "mykey", "1", "1"]), 6);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "mykey", "1", "1", "BYTE"]), 6);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "mykey", "5", "30", "BIT"]), 17);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "mykey", "-2", "-1"]), 7);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "mykey", "-3", "-1", "bit"]), 1);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "mykey", "0", "1000"]), 26);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "mykey", "3", "2"]), 0);
    // Redis 7.0 answers a reversed negative range before reading the unit,
    // and a missing key before reading anything.
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "mykey", "-1", "-2", "nonsense"]), 0);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "nokey", "x", "y"]), 0);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "nokey", "1"]), 0);
    let _: () = q(&mut c, &["SET", "empty", ""]);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "empty", "0", "-1", "BIT"]), 0);
}

#[test]
fn bitpos_as_documented_with_missing_keys_and_all_ones() {
    let srv = start();
    let mut c = conn(&srv);
    set_bytes(&mut c, "mykey", b"\xff\xf0\x00");
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "mykey", "0"]), 12);
    set_bytes(&mut c, "mykey", b"\x00\xff\xf0");
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "mykey", "1", "0"]), 8);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "mykey", "1", "2"]), 16);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "mykey", "1", "2", "-1", "BYTE"]), 16);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "mykey", "1", "7", "15", "BIT"]), 8);
    set_bytes(&mut c, "mykey", b"\x00\x00\x00");
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "mykey", "1"]), -1);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "mykey", "1", "7", "-3", "BIT"]), -1);
    // A missing key is endless zeros.
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "nokey", "1"]), -1);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "nokey", "0", "x"]), 0);
    // All ones: without an end the first 0 is just past the string; with
    // an end there is none in range.
    set_bytes(&mut c, "ones", b"\xff\xff\xff");
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "ones", "0"]), 24);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "ones", "0", "1"]), 24);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "ones", "0", "0", "-1"]), -1);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "ones", "0", "3", "12", "BIT"]), -1);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "ones", "1", "3", "12", "BIT"]), 3);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "ones", "1", "5", "2"]), -1);
    let _: () = q(&mut c, &["SET", "empty", ""]);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "empty", "0"]), -1);
}

#[test]
fn bitop_combines_pads_and_deletes_an_empty_result() {
    let srv = start();
    let mut c = conn(&srv);
    let _: () = q(&mut c, &["SET", "key1", "foobar"]);
    let _: () = q(&mut c, &["SET", "key2", "abcdef"]);
    assert_eq!(q::<i64>(&mut c, &["BITOP", "AND", "dest", "key1", "key2"]), 6);
    assert_eq!(bytes(&mut c, "dest"), b"`bc`ab");
    assert_eq!(encoding(&mut c, "dest"), "raw");
    assert_eq!(q::<i64>(&mut c, &["BITOP", "or", "dest", "key1", "key2"]), 6);
    assert_eq!(bytes(&mut c, "dest"), b"goofev");
    set_bytes(&mut c, "short", b"\xff");
    assert_eq!(q::<i64>(&mut c, &["BITOP", "XOR", "dest", "short", "key1", "nokey"]), 6);
    assert_eq!(bytes(&mut c, "dest"), b"\x99oobar");
    assert_eq!(q::<i64>(&mut c, &["BITOP", "AND", "dest", "short", "key1"]), 6);
    assert_eq!(bytes(&mut c, "dest"), b"f\0\0\0\0\0");
    assert_eq!(q::<i64>(&mut c, &["BITOP", "NOT", "dest", "short"]), 1);
    assert_eq!(bytes(&mut c, "dest"), b"\x00");
    // The result replaces the destination and its deadline.
    let _: () = q(&mut c, &["EXPIRE", "dest", "100"]);
    assert_eq!(q::<i64>(&mut c, &["BITOP", "OR", "dest", "dest", "short"]), 1);
    assert_eq!(q::<i64>(&mut c, &["TTL", "dest"]), -1);
    // An integer source is its digits.
    let _: () = q(&mut c, &["SET", "n", "12"]);
    assert_eq!(q::<i64>(&mut c, &["BITOP", "AND", "dest", "n", "n"]), 2);
    assert_eq!(bytes(&mut c, "dest"), b"12");
    // Only missing or empty sources: the destination is deleted.
    let _: () = q(&mut c, &["SET", "empty", ""]);
    assert_eq!(q::<i64>(&mut c, &["BITOP", "OR", "dest", "nokey", "empty"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "dest"]), 0);
    assert_eq!(q::<i64>(&mut c, &["BITOP", "NOT", "dest", "nokey"]), 0);
    // The destination may be any type; it is replaced.
    let _: () = q(&mut c, &["RPUSH", "list", "a"]);
    assert_eq!(q::<i64>(&mut c, &["BITOP", "OR", "list", "key1"]), 6);
    assert_eq!(bytes(&mut c, "list"), b"foobar");
}

#[test]
fn bitfield_as_documented_with_each_overflow_mode() {
    let srv = start();
    let mut c = conn(&srv);
    assert_eq!(
        q::<Vec<i64>>(&mut c, &["BITFIELD", "mykey", "INCRBY", "i5", "100", "1", "GET", "u4", "0"]),
        [1, 0]
    );
    let sat =
        ["BITFIELD", "mykey", "incrby", "u2", "100", "1", "OVERFLOW", "SAT", "incrby", "u2", "102", "1"];
    let runs: Vec<Vec<i64>> = (0..4).map(|_| q(&mut c, &sat)).collect();
    assert_eq!(runs, [[1, 1], [2, 2], [3, 3], [0, 3]]);
    let fail: Vec<Option<i64>> =
        q(&mut c, &["BITFIELD", "mykey", "OVERFLOW", "FAIL", "incrby", "u2", "102", "1"]);
    assert_eq!(fail, [None]);
    // SET replies with the old value; `#n` offsets count in fields.
    let r: Vec<i64> =
        q(&mut c, &["BITFIELD", "f", "SET", "i8", "#0", "100", "SET", "i8", "#1", "-2", "GET", "i16", "0"]);
    assert_eq!(r, [0, 0, 0x64fe]);
    assert_eq!(bytes(&mut c, "f"), b"\x64\xfe");
    let r: Vec<i64> = q(&mut c, &["BITFIELD", "f", "GET", "i8", "#1", "GET", "u8", "#1", "GET", "u4", "12"]);
    assert_eq!(r, [-2, 254, 0xe]);
    // WRAP is the default: signed fields wrap to the most negative value.
    let r: Vec<i64> = q(&mut c, &["BITFIELD", "f", "INCRBY", "i8", "0", "100", "INCRBY", "u8", "8", "3"]);
    assert_eq!(r, [-56, 1]);
    let r: Vec<Option<i64>> = q(
        &mut c,
        &[
            "BITFIELD", "f", "OVERFLOW", "SAT", "SET", "i8", "0", "1000", "OVERFLOW", "FAIL", "SET", "u8",
            "8", "256", "GET", "u8", "8",
        ],
    );
    assert_eq!(r, [Some(-56), None, Some(1)]);
    assert_eq!(q::<Vec<i64>>(&mut c, &["BITFIELD", "f", "GET", "i8", "0"]), [127]);
    // The 64-bit extremes.
    let max = i64::MAX.to_string();
    let r: Vec<Option<i64>> = q(
        &mut c,
        &[
            "BITFIELD", "w", "SET", "i64", "0", &max, "INCRBY", "i64", "0", "1", "OVERFLOW", "FAIL",
            "INCRBY", "i64", "0", "-1",
        ],
    );
    assert_eq!(r, [Some(0), Some(i64::MIN), None]);
    let r: Vec<Option<i64>> = q(
        &mut c,
        &[
            "BITFIELD", "w", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-1", "SET", "u63", "64", &max,
            "INCRBY", "u63", "64", "5",
        ],
    );
    assert_eq!(r, [Some(i64::MIN), Some(0), Some(i64::MAX)]);
    // Reads past the end are zeros; BITFIELD_RO reads like GET.
    assert_eq!(
        q::<Vec<i64>>(&mut c, &["BITFIELD_RO", "w", "GET", "u8", "1000", "GET", "i64", "0"]),
        [0, i64::MIN]
    );
    assert_eq!(q::<Vec<i64>>(&mut c, &["BITFIELD_RO", "nokey", "GET", "u8", "0"]), [0]);
    assert_eq!(q::<Vec<i64>>(&mut c, &["BITFIELD", "nokey"]), Vec::<i64>::new());
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "nokey"]), 0);
    // A FAIL that writes nothing still creates the key, zero-padded, as
    // Redis 7.0 does.
    let r: Vec<Option<i64>> = q(&mut c, &["BITFIELD", "z", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "7"]);
    assert_eq!(r, [None]);
    assert_eq!(bytes(&mut c, "z"), b"\x00");
}

#[test]
fn writes_make_strings_raw_and_reads_leave_them() {
    let srv = start();
    let mut c = conn(&srv);
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "new", "3", "1"]), 0);
    assert_eq!(encoding(&mut c, "new"), "raw");
    let _: () = q(&mut c, &["SET", "emb", "abc"]);
    let _: () = q(&mut c, &["SET", "int", "123"]);
    let _: Vec<i64> = q(&mut c, &["BITFIELD", "emb", "GET", "u8", "0"]);
    let _: i64 = q(&mut c, &["BITCOUNT", "int"]);
    let _: i64 = q(&mut c, &["GETBIT", "int", "1"]);
    assert_eq!((encoding(&mut c, "emb"), encoding(&mut c, "int")), ("embstr".into(), "int".into()));
    // Even a SETBIT that changes nothing converts, as Redis's does.
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "emb", "0", "0"]), 0);
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "int", "2", "1"]), 1);
    assert_eq!((encoding(&mut c, "emb"), encoding(&mut c, "int")), ("raw".into(), "raw".into()));
    assert_eq!(bytes(&mut c, "int"), b"123");
    let _: Vec<i64> = q(&mut c, &["BITFIELD", "f", "SET", "u8", "0", "49"]);
    assert_eq!((encoding(&mut c, "f"), bytes(&mut c, "f")), ("raw".into(), b"1".to_vec()));
}

/// A short string is held inside the value, a longer one on the heap:
/// the bit commands read both, and BITOP mixes them.
#[test]
fn bit_reads_see_short_and_long_strings_alike() {
    let srv = start();
    let mut c = conn(&srv);
    let short = [0xf0u8, 0, 0x0f];
    let long: Vec<u8> = (0..40u8).map(|i| if i == 39 { 1 } else { 0 }).collect();
    set_bytes(&mut c, "s", &short);
    set_bytes(&mut c, "l", &long);
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "s", "0"]), 1);
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "s", "4"]), 0);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "s"]), 8);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "s", "1", "1"]), 20);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "l", "1"]), 39 * 8 + 7);
    assert_eq!(q::<i64>(&mut c, &["BITOP", "OR", "d", "s", "l"]), 40);
    let mut want = long.clone();
    want[..3].copy_from_slice(&short);
    assert_eq!(bytes(&mut c, "d"), want);
    assert_eq!(q::<i64>(&mut c, &["BITOP", "NOT", "n", "s"]), 3);
    assert_eq!(bytes(&mut c, "n"), [0x0f, 0xff, 0xf0]);
    assert_eq!(q::<Vec<i64>>(&mut c, &["BITFIELD_RO", "s", "GET", "u4", "0", "GET", "u8", "16"]), [15, 15]);
    // A write past the end of a short string grows it on the heap.
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "s", "200", "1"]), 0);
    assert_eq!((encoding(&mut c, "s"), bytes(&mut c, "s").len()), ("raw".into(), 26));
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "s"]), 9);
}

fn pmessage(ch: &str, msg: &str) -> String {
    let pat = "__key*__:*";
    format!(
        "*4\r\n$8\r\npmessage\r\n${}\r\n{pat}\r\n${}\r\n{ch}\r\n${}\r\n{msg}\r\n",
        pat.len(),
        ch.len(),
        msg.len()
    )
}

fn event(key: &str, ev: &str) -> String {
    pmessage(&format!("__keyspace@0__:{key}"), ev) + &pmessage(&format!("__keyevent@0__:{ev}"), key)
}

#[test]
fn events_and_watch_follow_what_changed() {
    let srv = start_with(|cfg| cfg.notify_keyspace_events = "KEA".into());
    let mut s = Raw::connect(&srv);
    s.roundtrip(b"PSUBSCRIBE __key*__:*\r\n", b"*3\r\n$10\r\npsubscribe\r\n$10\r\n__key*__:*\r\n:1\r\n");
    let mut c = conn(&srv);
    let mut expect = |want: String| {
        let got = s.read_exact_len(want.len());
        assert_eq!(String::from_utf8_lossy(&got), want);
    };
    let run = |c: &mut Connection, args: &[&str]| {
        let _: Value = q(c, args);
    };
    run(&mut c, &["SETBIT", "b", "7", "1"]);
    // No change, no event: the next one is SETBIT's clearing the bit.
    run(&mut c, &["SETBIT", "b", "7", "1"]);
    run(&mut c, &["SETBIT", "b", "7", "0"]);
    // Growing is a change even if the bit was already 0.
    run(&mut c, &["SETBIT", "b", "20", "0"]);
    expect(event("b", "setbit") + &event("b", "setbit") + &event("b", "setbit"));
    run(&mut c, &["BITFIELD", "b", "SET", "u8", "0", "0", "GET", "u8", "0"]);
    run(&mut c, &["BITFIELD", "b", "OVERFLOW", "FAIL", "INCRBY", "u1", "0", "2"]);
    run(&mut c, &["BITFIELD_RO", "b", "GET", "u8", "0"]);
    run(&mut c, &["BITFIELD", "b", "SET", "u8", "0", "1", "INCRBY", "u8", "8", "1"]);
    expect(event("b", "setbit"));
    run(&mut c, &["BITOP", "NOT", "d", "b"]);
    expect(event("d", "set"));
    run(&mut c, &["BITOP", "AND", "d", "nokey"]);
    run(&mut c, &["BITOP", "AND", "d", "nokey"]);
    run(&mut c, &["SET", "marker", "1"]);
    expect(event("d", "del") + &event("marker", "set"));

    // WATCH: a SETBIT that changes nothing does not abort a transaction,
    // one that flips the bit does.
    let mut w = Raw::connect(&srv);
    w.roundtrip(b"WATCH b\r\n", b"+OK\r\n");
    run(&mut c, &["SETBIT", "b", "7", "1"]);
    run(&mut c, &["BITFIELD", "b", "SET", "u8", "0", "1"]);
    w.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    w.roundtrip(b"EXEC\r\n", b"*0\r\n");
    w.roundtrip(b"WATCH b\r\n", b"+OK\r\n");
    run(&mut c, &["SETBIT", "b", "7", "0"]);
    w.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    w.roundtrip(b"EXEC\r\n", b"*-1\r\n");
}

fn start_in(dir: &std::path::Path) -> spindle_kv::server::ServerThread {
    let dir = dir.to_path_buf();
    start_with(move |cfg| {
        cfg.dir = dir;
        cfg.save = vec![];
        cfg.appendonly = true;
        cfg.appendfsync = AppendFsync::Always;
    })
}

#[test]
fn aof_replays_setbit_bitop_and_bitfield_after_a_restart() {
    let dir = fresh_dir();
    {
        let srv = start_in(&dir);
        let mut c = conn(&srv);
        assert_eq!(q::<i64>(&mut c, &["SETBIT", "b", "100", "1"]), 0);
        assert_eq!(q::<i64>(&mut c, &["SETBIT", "b", "3", "1"]), 0);
        let _: () = q(&mut c, &["SET", "s", "foobar"]);
        assert_eq!(q::<i64>(&mut c, &["BITOP", "XOR", "x", "b", "s"]), 13);
        assert_eq!(q::<i64>(&mut c, &["BITOP", "NOT", "n", "s"]), 6);
        let r: Vec<Option<i64>> = q(
            &mut c,
            &[
                "BITFIELD", "f", "SET", "i16", "#2", "-300", "INCRBY", "u4", "3", "9", "OVERFLOW", "FAIL",
                "INCRBY", "u4", "3", "9",
            ],
        );
        assert_eq!(r, [Some(0), Some(9), None]);
        // Writes that change nothing reach no file, as in Redis.
        let size = aof_size(&dir);
        assert_eq!(q::<i64>(&mut c, &["SETBIT", "b", "3", "1"]), 1);
        let _: Vec<i64> = q(&mut c, &["BITFIELD", "f", "SET", "u4", "3", "9"]);
        let _: Vec<i64> = q(&mut c, &["BITFIELD_RO", "f", "GET", "u4", "3"]);
        assert_eq!(aof_size(&dir), size);
        let text = aof_text(&dir);
        assert!(text.contains("SETBIT") && text.contains("BITOP") && text.contains("BITFIELD"), "{text}");
    }
    let after: Vec<Vec<u8>> = {
        let srv = start_in(&dir);
        let mut c = conn(&srv);
        ["b", "x", "n", "f"].iter().map(|k| bytes(&mut c, k)).collect()
    };
    let mut want_b = vec![0u8; 13];
    want_b[0] = 0x10;
    want_b[12] = 0x08;
    let want_x: Vec<u8> =
        want_b.iter().zip(b"foobar".iter().chain([0u8; 7].iter())).map(|(a, b)| a ^ b).collect();
    let want_n: Vec<u8> = b"foobar".iter().map(|b| !b).collect();
    let mut want_f = vec![0u8; 6];
    want_f[0] = 0x12;
    want_f[4..6].copy_from_slice(&(-300i16).to_be_bytes());
    assert_eq!(after, [want_b, want_x, want_n, want_f]);
}

/// `proto-max-bulk-len` bounds the strings APPEND, SETRANGE and SETBIT may
/// make; the AOF replay obeys what was accepted before the limit was lowered,
/// so lowering it cannot lose acknowledged writes at the next start.
#[test]
fn lowered_bulk_limit_refuses_growth_but_not_the_aof_replay() {
    const MB: usize = 1 << 20;
    let dir = fresh_dir();
    {
        let srv = start_in(&dir);
        let mut c = conn(&srv);
        let _: () = q(&mut c, &["SET", "a", "x"]);
        let big = "y".repeat(MB);
        assert_eq!(q::<i64>(&mut c, &["APPEND", "a", &big]), (MB + 1) as i64);
        assert_eq!(q::<i64>(&mut c, &["SETRANGE", "r", &(2 * MB).to_string(), "z"]), (2 * MB + 1) as i64);
        assert_eq!(q::<i64>(&mut c, &["SETBIT", "b", &(8 * 3 * MB).to_string(), "1"]), 0);
        let _: () = q(&mut c, &["CONFIG", "SET", "proto-max-bulk-len", "1mb"]);
        let too_big = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
        assert_eq!(err(&mut c, &["APPEND", "a", "more"]), too_big);
        assert_eq!(err(&mut c, &["SETRANGE", "r2", &MB.to_string(), "z"]), too_big);
        assert_eq!(
            err(&mut c, &["SETBIT", "b2", &(8 * MB).to_string(), "1"]),
            "ERR bit offset is not an integer or out of range"
        );
    }
    let srv = start_with({
        let dir = dir.clone();
        move |cfg| {
            cfg.dir = dir;
            cfg.save = vec![];
            cfg.appendonly = true;
            cfg.appendfsync = AppendFsync::Always;
            cfg.proto_max_bulk_len = 1 << 20;
        }
    });
    let mut c = conn(&srv);
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "a"]), (MB + 1) as i64, "APPEND replayed");
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "r"]), (2 * MB + 1) as i64, "SETRANGE replayed");
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "b"]), (3 * MB + 1) as i64, "SETBIT replayed");
    assert_eq!(bytes(&mut c, "b")[3 * MB], 0x80);
}
