//! MIGRATE: keys move to another server as RESTOREs over a cached
//! connection, and leave this one only once the target acknowledged them.

mod common;

use common::redis_server::RedisServer;
use common::{aof_text, conn, fresh_dir, q, start, start_with};
use redis::Value;

fn port_of(srv: &spindle_kv::server::ServerThread) -> String {
    srv.addr().port().to_string()
}

fn migrate(c: &mut redis::Connection, args: &[&str]) -> redis::RedisResult<Value> {
    let mut cmd = redis::cmd("MIGRATE");
    cmd.arg(args);
    cmd.query(c)
}

fn info_field(c: &mut redis::Connection, name: &str) -> String {
    let info: String = redis::cmd("INFO").query(c).unwrap();
    let line = info.lines().find(|l| l.starts_with(&format!("{name}:"))).expect("the INFO field");
    line.split_once(':').unwrap().1.to_string()
}

#[test]
fn keys_move_with_their_ttl_and_leave_the_source() {
    let (a, b) = (start(), start());
    let (mut ca, mut cb) = (conn(&a), conn(&b));
    let port = port_of(&b);
    assert_eq!(info_field(&mut ca, "migrate_cached_sockets"), "0");
    let _: () = q(&mut ca, &["SET", "k", "v", "EX", "1000"]);
    let _: () = q(&mut ca, &["RPUSH", "l", "1", "2", "3"]);
    let ok = migrate(&mut ca, &["127.0.0.1", &port, "k", "0", "5000"]).unwrap();
    assert_eq!(ok, Value::Okay);
    assert_eq!(q::<i64>(&mut ca, &["EXISTS", "k"]), 0);
    assert_eq!(q::<String>(&mut cb, &["GET", "k"]), "v");
    assert_eq!(info_field(&mut ca, "migrate_cached_sockets"), "1");
    let ttl: i64 = q(&mut cb, &["TTL", "k"]);
    assert!((990..=1000).contains(&ttl), "the TTL moves with the key: {ttl}");
    // A missing key is not an error.
    let nokey = migrate(&mut ca, &["127.0.0.1", &port, "nosuch", "0", "5000"]).unwrap();
    assert_eq!(nokey, Value::SimpleString("NOKEY".into()));
    // COPY keeps the source; the target's key needs REPLACE.
    let _: () = q(&mut ca, &["SET", "k", "again"]);
    let err = migrate(&mut ca, &["127.0.0.1", &port, "k", "0", "5000", "COPY"]).unwrap_err();
    assert_eq!(err.code(), Some("ERR"));
    assert!(
        err.to_string()
            .contains("Target instance replied with error: BUSYKEY Target key name already exists."),
        "{err}"
    );
    let ok = migrate(&mut ca, &["127.0.0.1", &port, "k", "0", "5000", "COPY", "REPLACE"]).unwrap();
    assert_eq!(ok, Value::Okay);
    assert_eq!(q::<String>(&mut ca, &["GET", "k"]), "again");
    assert_eq!(q::<String>(&mut cb, &["GET", "k"]), "again");
    assert_eq!(q::<i64>(&mut cb, &["TTL", "k"]), -1);
    // KEYS moves several at once, into another database of the target.
    let _: () = q(&mut ca, &["SET", "x", "1"]);
    let ok =
        migrate(&mut ca, &["127.0.0.1", &port, "", "3", "5000", "REPLACE", "KEYS", "k", "l", "x", "gone"]);
    assert_eq!(ok.unwrap(), Value::Okay);
    assert_eq!(q::<i64>(&mut ca, &["DBSIZE"]), 0);
    let _: () = q(&mut cb, &["SELECT", "3"]);
    assert_eq!(q::<Vec<String>>(&mut cb, &["LRANGE", "l", "0", "-1"]), ["1", "2", "3"]);
    assert_eq!(q::<i64>(&mut cb, &["DBSIZE"]), 3);
    // One connection served every MIGRATE above (and this test's client).
    let _: () = q(&mut cb, &["SELECT", "0"]);
    assert_eq!(info_field(&mut cb, "total_connections_received"), "2");
}

#[test]
fn the_target_s_refusals_and_unreachable_targets_are_reported() {
    let a = start();
    let b = start_with(|cfg| cfg.requirepass = b"secret".to_vec());
    let mut ca = conn(&a);
    let port = port_of(&b);
    let _: () = q(&mut ca, &["SET", "k", "v"]);
    let err = migrate(&mut ca, &["127.0.0.1", &port, "k", "0", "5000"]).unwrap_err();
    assert!(err.to_string().contains("Target instance replied with error: NOAUTH"), "{err}");
    let err = migrate(&mut ca, &["127.0.0.1", &port, "k", "0", "5000", "AUTH", "wrong"]).unwrap_err();
    assert!(err.to_string().contains("Target instance replied with error: WRONGPASS"), "{err}");
    assert_eq!(q::<String>(&mut ca, &["GET", "k"]), "v", "nothing moved, nothing deleted");
    let ok = migrate(&mut ca, &["127.0.0.1", &port, "k", "0", "5000", "AUTH2", "default", "secret"]).unwrap();
    assert_eq!(ok, Value::Okay);
    // Nobody listens on a port just released.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let _: () = q(&mut ca, &["SET", "k", "v"]);
    let err = migrate(&mut ca, &["127.0.0.1", &closed, "k", "0", "1000"]).unwrap_err();
    assert_eq!(err.code(), Some("IOERR"), "{err}");
    assert!(err.to_string().contains("error or timeout connecting to the client"), "{err}");
    // Syntax, as Redis words it.
    let err = migrate(&mut ca, &["127.0.0.1", &port, "k", "0", "5000", "KEYS", "k"]).unwrap_err();
    assert!(err.to_string().contains("the key argument must be set to the empty string"), "{err}");
    let err = migrate(&mut ca, &["127.0.0.1", &port, "k", "0", "5000", "BOGUS"]).unwrap_err();
    assert!(err.to_string().contains("syntax error"), "{err}");
    assert_eq!(q::<String>(&mut ca, &["GET", "k"]), "v");
}

#[test]
fn a_cached_connection_the_target_closed_is_replaced_transparently() {
    let (a, b) = (start(), start());
    let (mut ca, mut cb) = (conn(&a), conn(&b));
    let port = port_of(&b);
    let _: () = q(&mut ca, &["SET", "k1", "v"]);
    assert_eq!(migrate(&mut ca, &["127.0.0.1", &port, "k1", "0", "5000"]).unwrap(), Value::Okay);
    // The target drops every other client: the cached connection is dead.
    let killed: i64 = q(&mut cb, &["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"]);
    assert_eq!(killed, 1);
    let _: () = q(&mut ca, &["SET", "k2", "v"]);
    assert_eq!(migrate(&mut ca, &["127.0.0.1", &port, "k2", "0", "5000"]).unwrap(), Value::Okay);
    assert_eq!(q::<i64>(&mut cb, &["EXISTS", "k1", "k2"]), 2);
}

#[test]
fn the_aof_logs_the_keys_that_moved_as_del() {
    let dir = fresh_dir();
    let a = start_with(|cfg| {
        cfg.dir = dir.clone();
        cfg.appendonly = true;
    });
    let b = start();
    let mut ca = conn(&a);
    let port = port_of(&b);
    let _: () = q(&mut ca, &["MSET", "a", "1", "b", "2"]);
    assert_eq!(
        migrate(&mut ca, &["127.0.0.1", &port, "", "0", "5000", "KEYS", "a", "b"]).unwrap(),
        Value::Okay
    );
    let text = aof_text(&dir);
    assert!(text.contains("*3\r\n$3\r\nDEL\r\n$1\r\na\r\n$1\r\nb\r\n"), "{text:?}");
    assert!(!text.contains("MIGRATE"), "{text:?}");
}

#[test]
fn redis_server_migrates_keys_into_spindle() {
    let redis = RedisServer::start(&[]);
    let target = start();
    let mut r = redis.conn();
    let _: () = q(&mut r, &["SET", "k", "v"]);
    let _: () = q(&mut r, &["ZADD", "z", "1", "a", "2", "b"]);
    let ok = migrate(&mut r, &["127.0.0.1", &port_of(&target), "", "0", "5000", "KEYS", "k", "z"]).unwrap();
    assert_eq!(ok, Value::Okay);
    let mut t = conn(&target);
    assert_eq!(q::<String>(&mut t, &["GET", "k"]), "v");
    assert_eq!(q::<Vec<String>>(&mut t, &["ZRANGE", "z", "0", "-1"]), ["a", "b"]);
    assert_eq!(q::<i64>(&mut r, &["DBSIZE"]), 0);
}
