//! Compatibility with a real redis-server (Debian's 7.0.x): it loads an RDB
//! file written by [`RdbWriter`], RESTOREs our DUMP payloads, and we parse
//! the payloads its DUMP produces.
//!
//! redis-server runs as a child process on a unix socket in a private temp
//! dir ([`common::redis_server`]), killed on every exit path. If
//! redis-server is missing the test fails (CI installs it), rather than
//! passing without checking.

mod common;

use common::redis_server::RedisServer;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use spindle_kv::rdb::consts::TYPE_HASH;
use spindle_kv::rdb::{dump_payload, parse_dump_payload, RdbValue, RdbWriter, WriterOptions};

const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "spindle-rdb-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
}

impl Reply {
    fn bytes(self) -> Vec<u8> {
        match self {
            Reply::Bulk(Some(b)) => b,
            other => panic!("expected a bulk string, got {other:?}"),
        }
    }

    fn array(self) -> Vec<Vec<u8>> {
        match self {
            Reply::Array(items) => items.into_iter().map(Reply::bytes).collect(),
            other => panic!("expected an array, got {other:?}"),
        }
    }

    fn int(self) -> i64 {
        match self {
            Reply::Int(n) => n,
            other => panic!("expected an integer, got {other:?}"),
        }
    }
}

/// A minimal RESP2 client.
struct Conn {
    r: BufReader<UnixStream>,
}

impl Conn {
    fn connect(path: &Path) -> std::io::Result<Conn> {
        let s = UnixStream::connect(path)?;
        s.set_read_timeout(Some(IO_TIMEOUT))?;
        s.set_write_timeout(Some(IO_TIMEOUT))?;
        Ok(Conn { r: BufReader::new(s) })
    }

    fn cmd(&mut self, args: &[&[u8]]) -> Reply {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.r.get_mut().write_all(&out).expect("send command");
        self.read_reply()
    }

    fn read_reply(&mut self) -> Reply {
        let mut line = String::new();
        self.r.read_line(&mut line).expect("read reply line");
        let line = line.trim_end_matches("\r\n");
        let (t, rest) = line.split_at(1);
        match t {
            "+" => Reply::Simple(rest.to_string()),
            "-" => Reply::Error(rest.to_string()),
            ":" => Reply::Int(rest.parse().expect("integer reply")),
            "$" => {
                let n: i64 = rest.parse().expect("bulk length");
                if n < 0 {
                    return Reply::Bulk(None);
                }
                let mut b = vec![0u8; n as usize + 2];
                self.r.read_exact(&mut b).expect("read bulk");
                b.truncate(n as usize);
                Reply::Bulk(Some(b))
            }
            "*" => {
                let n: i64 = rest.parse().expect("array length");
                Reply::Array((0..n.max(0)).map(|_| self.read_reply()).collect())
            }
            _ => panic!("bad reply line {line:?}"),
        }
    }

    fn ok(&mut self, args: &[&[u8]]) {
        assert_eq!(
            self.cmd(args),
            Reply::Simple("OK".into()),
            "{:?}",
            args.first().map(|a| String::from_utf8_lossy(a))
        );
    }

    /// Reads `key` back into the neutral model, by its type.
    fn fetch(&mut self, key: &[u8]) -> Option<RdbValue> {
        let ty = match self.cmd(&[b"TYPE", key]) {
            Reply::Simple(t) => t,
            other => panic!("TYPE reply {other:?}"),
        };
        let v = match ty.as_str() {
            "none" => return None,
            "string" => RdbValue::String(self.cmd(&[b"GET", key]).bytes()),
            "list" => RdbValue::List(self.cmd(&[b"LRANGE", key, b"0", b"-1"]).array()),
            "set" => RdbValue::Set(self.cmd(&[b"SMEMBERS", key]).array()),
            "hash" => {
                let flat = self.cmd(&[b"HGETALL", key]).array();
                RdbValue::Hash(flat.chunks(2).map(|c| (c[0].clone(), c[1].clone())).collect())
            }
            "zset" => {
                let flat = self.cmd(&[b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"]).array();
                RdbValue::ZSet(
                    flat.chunks(2)
                        .map(|c| {
                            (c[0].clone(), String::from_utf8_lossy(&c[1]).parse::<f64>().expect("score"))
                        })
                        .collect(),
                )
            }
            other => panic!("unexpected type {other}"),
        };
        Some(normalized(v))
    }
}

fn normalized(v: RdbValue) -> RdbValue {
    match v {
        RdbValue::Set(mut m) => {
            m.sort();
            RdbValue::Set(m)
        }
        RdbValue::Hash(mut p) => {
            p.sort();
            RdbValue::Hash(p)
        }
        RdbValue::ZSet(mut p) => {
            p.sort_by(|a, b| a.0.cmp(&b.0));
            RdbValue::ZSet(p)
        }
        other => other,
    }
}

fn b(s: impl AsRef<str>) -> Vec<u8> {
    s.as_ref().as_bytes().to_vec()
}

/// One value of every kind, small (Redis converts to its compact encodings)
/// and large (it keeps tables), with integers, binary data and long
/// compressible strings.
fn sample_values() -> Vec<(Vec<u8>, RdbValue)> {
    vec![
        (b("str"), RdbValue::String(b("hello"))),
        (b("str_int8"), RdbValue::String(b("-5"))),
        (b("str_int32"), RdbValue::String(b("2147483647"))),
        (b("str_int64"), RdbValue::String(b("4294967296"))),
        (b("str_not_canonical"), RdbValue::String(b("007"))),
        (b("str_empty"), RdbValue::String(Vec::new())),
        (b("str_binary"), RdbValue::String(vec![0, 255, 13, 10, 0xc3, 0x80])),
        (b("str_long"), RdbValue::String(b("spindle-rdb ".repeat(100)))),
        (b("list_small"), RdbValue::List(vec![b("a"), b("1"), b("-70000"), b("")])),
        (
            b("list_large"),
            RdbValue::List((0..300).map(|i| b(format!("item-{i}-{}", "z".repeat(i % 40)))).collect()),
        ),
        (b("set_small"), RdbValue::Set(vec![b("x"), b("y")])),
        (b("set_ints"), RdbValue::Set(vec![b("1"), b("-2"), b("300000")])),
        (b("set_large"), RdbValue::Set((0..300).map(|i| b(format!("member-{i}"))).collect())),
        (b("hash_small"), RdbValue::Hash(vec![(b("f"), b("v")), (b("n"), b("12"))])),
        (
            b("hash_large"),
            RdbValue::Hash(
                (0..300)
                    .map(|i| (b(format!("field-{i}")), b(format!("value-{}", "w".repeat(i % 70)))))
                    .collect(),
            ),
        ),
        (
            b("zset_small"),
            RdbValue::ZSet(vec![
                (b("a"), 1.0),
                (b("b"), -2.5),
                (b("c"), f64::INFINITY),
                (b("d"), f64::NEG_INFINITY),
                (b("e"), 0.1),
            ]),
        ),
        (
            b("zset_large"),
            RdbValue::ZSet((0..300).map(|i| (b(format!("zm-{i}")), f64::from(i) / 3.0 - 50.0)).collect()),
        ),
    ]
}

const FAR_FUTURE_MS: i64 = 4_102_444_800_000; // 2100-01-01

#[test]
fn redis_server_loads_our_rdb_file() {
    let dir = TempDir::new();
    let values = sample_values();
    {
        let file = std::fs::File::create(dir.0.join("ours.rdb")).unwrap();
        let opts = WriterOptions { compress: true, ..Default::default() };
        let mut w = RdbWriter::with_options(BufWriter::new(file), &opts).unwrap();
        w.select_db(0).unwrap();
        w.resize_db(values.len() as u64 + 3, 2).unwrap();
        for (i, (k, v)) in values.iter().enumerate() {
            let exp = (i == 0).then_some(FAR_FUTURE_MS);
            w.write_entry(k, v, exp).unwrap();
        }
        // Already expired: Redis drops it while loading.
        w.write_entry(b"expired", &RdbValue::String(b("gone")), Some(1_000)).unwrap();
        // The streaming form, element by element.
        let e = w.begin_entry(b"streamed_hash", TYPE_HASH, Some(FAR_FUTURE_MS + 5)).unwrap();
        e.write_len(2).unwrap();
        for s in [&b"a"[..], b"1", b"b", b"2"] {
            e.write_string(s).unwrap();
        }
        w.select_db(1).unwrap();
        w.resize_db(1, 0).unwrap();
        w.write_entry(b"db1_key", &RdbValue::List(vec![b("only"), b("here")]), None).unwrap();
        w.finish().unwrap().into_inner().unwrap().sync_all().unwrap();
    }

    let redis = RedisServer::start_in(&dir.0, &["--dbfilename", "ours.rdb"]);
    let mut c = Conn::connect(&redis.sock).expect("connect to redis-server");
    for (k, v) in &values {
        assert_eq!(c.fetch(k), Some(normalized(v.clone())), "key {}", String::from_utf8_lossy(k));
    }
    assert_eq!(c.fetch(b"expired"), None);
    assert_eq!(c.fetch(b"streamed_hash"), Some(RdbValue::Hash(vec![(b("a"), b("1")), (b("b"), b("2"))])));
    assert_eq!(c.cmd(&[b"PEXPIRETIME", b"str"]).int(), FAR_FUTURE_MS);
    assert_eq!(c.cmd(&[b"PEXPIRETIME", b"streamed_hash"]).int(), FAR_FUTURE_MS + 5);
    assert_eq!(c.cmd(&[b"PEXPIRETIME", b"list_small"]).int(), -1);
    assert_eq!(c.cmd(&[b"DBSIZE"]).int(), values.len() as i64 + 1);
    c.ok(&[b"SELECT", b"1"]);
    assert_eq!(c.cmd(&[b"DBSIZE"]).int(), 1);
    assert_eq!(c.fetch(b"db1_key"), Some(RdbValue::List(vec![b("only"), b("here")])));
}

#[test]
fn restore_our_payloads_and_parse_redis_dumps() {
    let dir = TempDir::new();
    let redis = RedisServer::start_in(&dir.0, &["--dbfilename", "none.rdb"]);
    let mut c = Conn::connect(&redis.sock).expect("connect to redis-server");
    for (k, v) in sample_values() {
        let name = String::from_utf8_lossy(&k).into_owned();
        let payload = dump_payload(&v);
        assert_eq!(c.cmd(&[b"RESTORE", &k, b"0", &payload]), Reply::Simple("OK".into()), "RESTORE {name}");
        assert_eq!(c.fetch(&k), Some(normalized(v.clone())), "{name} after RESTORE");

        // Redis re-encodes the value in its own way (listpack, intset,
        // quicklist, LZF); parse what its DUMP gives back.
        let theirs = c.cmd(&[b"DUMP", &k]).bytes();
        let parsed =
            parse_dump_payload(&theirs, true).unwrap_or_else(|e| panic!("parse DUMP of {name}: {e}"));
        assert_eq!(normalized(parsed), normalized(v), "{name} from redis DUMP");
    }
    // Redis rejects a payload of ours with a broken checksum, as we do theirs.
    let mut bad = dump_payload(&RdbValue::String(b("x")));
    let n = bad.len();
    bad[n - 1] ^= 1;
    match c.cmd(&[b"RESTORE", b"bad", b"0", &bad]) {
        Reply::Error(e) => assert!(e.contains("checksum"), "{e}"),
        other => panic!("RESTORE of a bad payload: {other:?}"),
    }
}

#[test]
fn corrupt_payloads_are_refused_and_the_old_value_kept() {
    // From Redis's integration/corrupt-dump: a ziplist hash with a valid
    // header and checksum whose field "a" appears twice.
    const DUP_FIELDS: &[u8] = b"\x0D\x1B\x1B\x00\x00\x00\x16\x00\x00\x00\x04\x00\x00\x02\x61\x00\x04\x02\x62\x00\x04\x02\x61\x00\x04\x02\x64\x00\xFF\x09\x00\xA1\x98\x36\x78\xCC\x8E\x93\x2E";
    let srv = common::start();
    let mut c = common::conn(&srv);
    let _: () = common::q(&mut c, &["SET", "key", "old"]);
    let restore = |c: &mut redis::Connection, key: &str, payload: &[u8]| {
        redis::cmd("RESTORE").arg(key).arg(0).arg(payload).arg("REPLACE").query::<()>(c)
    };
    let e = restore(&mut c, "key", DUP_FIELDS).unwrap_err().to_string();
    assert!(e.contains("Bad data format"), "{e}");
    assert_eq!(common::q::<String>(&mut c, &["GET", "key"]), "old");
    // A good payload with its checksum broken is refused for that, unless
    // the check is off (Redis's test hook).
    let mut good: Vec<u8> = redis::cmd("DUMP").arg("key").query(&mut c).unwrap();
    *good.last_mut().unwrap() ^= 1;
    let e = restore(&mut c, "copy", &good).unwrap_err().to_string();
    assert!(e.contains("payload version or checksum are wrong"), "{e}");
    let _: () = common::q(&mut c, &["DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "1"]);
    restore(&mut c, "copy", &good).unwrap();
    assert_eq!(common::q::<String>(&mut c, &["GET", "copy"]), "old");
}
