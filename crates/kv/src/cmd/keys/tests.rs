//! Unit tests that run keyspace commands against a server in memory, for
//! values no registered command can build yet (hashes, sets).

use crate::cmd::{call, Args};
use crate::db::{Str, Value};
use crate::server::client::Client;
use crate::server::{Config, Server};
use crate::types::hash::HashValue;
use crate::types::set::SetValue;
use crate::types::EncodingConfig;

fn client() -> Client {
    let fd = std::fs::File::open("/dev/null").expect("open /dev/null").into();
    Client::new(1, fd, "test".into(), "test".into(), 0)
}

/// Runs one command and returns its raw reply.
fn run(srv: &mut Server, c: &mut Client, args: &[&[u8]]) -> String {
    let mut buf = Vec::new();
    let mut ranges = Vec::new();
    for a in args {
        let s = buf.len();
        buf.extend_from_slice(a);
        ranges.push(s..buf.len());
    }
    c.out.clear();
    call(srv, c, Args::new(&buf, &ranges));
    String::from_utf8_lossy(&c.out).into_owned()
}

fn server_with_aggregates() -> Server {
    let mut srv = Server::new(Config { save: vec![], ..Config::default() });
    let cfg = EncodingConfig::default();
    let small = HashValue::from_pairs([(&b"f"[..], &b"v"[..])], &cfg);
    let big = HashValue::from_pairs((0..600).map(|i| (format!("f{i}").into_bytes(), b"v".to_vec())), &cfg);
    let ints = SetValue::from_members([&b"1"[..], b"2"], &cfg);
    let words = SetValue::from_members((0..300).map(|i| format!("m{i}").into_bytes()), &cfg);
    let lru = srv.lru_clock;
    let db = &mut srv.dbs[0];
    db.set(b"hsmall", Value::Hash(Box::new(small)), lru);
    db.set(b"hbig", Value::Hash(Box::new(big)), lru);
    db.set(b"sints", Value::Set(Box::new(ints)), lru);
    db.set(b"swords", Value::Set(Box::new(words)), lru);
    db.set(b"str", Value::Str(Str::from_bytes(b"x")), lru);
    srv
}

#[test]
fn object_encoding_and_type_of_aggregates() {
    let mut srv = server_with_aggregates();
    let mut c = client();
    let enc = |srv: &mut Server, c: &mut Client, k: &[u8]| run(srv, c, &[b"OBJECT", b"ENCODING", k]);
    assert_eq!(enc(&mut srv, &mut c, b"hsmall"), "$8\r\nlistpack\r\n");
    assert_eq!(enc(&mut srv, &mut c, b"hbig"), "$9\r\nhashtable\r\n");
    assert_eq!(enc(&mut srv, &mut c, b"sints"), "$6\r\nintset\r\n");
    assert_eq!(enc(&mut srv, &mut c, b"swords"), "$9\r\nhashtable\r\n");
    assert_eq!(run(&mut srv, &mut c, &[b"TYPE", b"hbig"]), "+hash\r\n");
    assert_eq!(run(&mut srv, &mut c, &[b"TYPE", b"sints"]), "+set\r\n");
    assert_eq!(run(&mut srv, &mut c, &[b"OBJECT", b"REFCOUNT", b"hbig"]), ":1\r\n");
}

#[test]
fn scan_type_filter_and_copy_of_aggregates() {
    let mut srv = server_with_aggregates();
    let mut c = client();
    let r = run(&mut srv, &mut c, &[b"SCAN", b"0", b"COUNT", b"100", b"TYPE", b"HASH"]);
    assert!(r.starts_with("*2\r\n$1\r\n0\r\n*2\r\n"), "{r:?}");
    assert!(r.contains("hsmall") && r.contains("hbig") && !r.contains("str"), "{r:?}");
    assert_eq!(run(&mut srv, &mut c, &[b"COPY", b"hbig", b"h2", b"DB", b"3"]), ":1\r\n");
    // The copy is independent of the original.
    let now = srv.now_ms;
    let cfg = EncodingConfig::default();
    match &mut srv.dbs[0].get_mut(b"hbig", now).unwrap().value {
        Value::Hash(h) => assert!(h.set(b"new", b"x", &cfg)),
        v => panic!("{v:?}"),
    }
    match &srv.dbs[3].get_mut(b"h2", now).unwrap().value {
        Value::Hash(h) => {
            assert_eq!(h.len(), 600);
            assert!(!h.contains(b"new"));
            assert_eq!(h.encoding(), "hashtable");
        }
        v => panic!("{v:?}"),
    }
    assert_eq!(run(&mut srv, &mut c, &[b"SELECT", b"3"]), "+OK\r\n");
    assert_eq!(run(&mut srv, &mut c, &[b"TYPE", b"h2"]), "+hash\r\n");
}

#[test]
fn writes_count_as_dirty() {
    let mut srv = server_with_aggregates();
    let mut c = client();
    let before = srv.dirty;
    run(&mut srv, &mut c, &[b"DEL", b"hsmall", b"nokey", b"hbig"]);
    assert_eq!(srv.dirty, before + 2);
    run(&mut srv, &mut c, &[b"RENAME", b"str", b"s2"]);
    run(&mut srv, &mut c, &[b"EXPIRE", b"s2", b"100"]);
    run(&mut srv, &mut c, &[b"PERSIST", b"s2"]);
    assert_eq!(srv.dirty, before + 5);
    // FLUSHALL counts the keys it removed, nothing more (Redis 7.0).
    run(&mut srv, &mut c, &[b"FLUSHALL"]);
    assert_eq!(srv.dirty, before + 5 + 3);
}
