//! DEBUG DIGEST and DIGEST-VALUE give redis-server 7's own digests for
//! the same data (every type, both encodings, TTLs, several databases),
//! and DEBUG LOADAOF reloads the dataset from the AOF alone.

mod common;

use common::redis_server::RedisServer;
use common::{conn, fresh_dir, q, start_with};
use redis::Connection;

/// The same writes, sent to a server.
fn fill(c: &mut Connection) {
    let many: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
    let mut cmds: Vec<Vec<String>> = vec![
        vec!["SET".into(), "s".into(), "hello".into()],
        vec!["SET".into(), "n".into(), "12345".into()],
        vec!["SET".into(), "t".into(), "x".into(), "EX".into(), "1000".into()],
        vec!["RPUSH".into(), "l".into(), "a".into(), "b".into(), "7".into()],
        vec!["SADD".into(), "ints".into(), "1".into(), "2".into(), "-30".into()],
        vec!["SADD".into(), "strs".into(), "x".into(), "y".into()],
        vec!["HSET".into(), "h".into(), "f".into(), "1".into(), "g".into(), "two".into()],
        vec![
            "ZADD".into(),
            "z".into(),
            "1.5".into(),
            "a".into(),
            "-inf".into(),
            "b".into(),
            "0.1".into(),
            "12".into(),
        ],
        vec!["SELECT".into(), "3".into()],
        vec!["SET".into(), "s".into(), "in db 3".into()],
    ];
    let mut big_set = vec!["SADD".to_string(), "bigset".into()];
    big_set.extend(many.iter().cloned());
    let mut big_hash = vec!["HSET".to_string(), "bighash".into()];
    big_hash.extend(many.iter().flat_map(|m| [m.clone(), m.clone()]));
    let mut big_zset = vec!["ZADD".to_string(), "bigz".into()];
    big_zset.extend(many.iter().enumerate().flat_map(|(i, m)| [format!("{}", i as f64 / 3.0), m.clone()]));
    let mut big_list = vec!["RPUSH".to_string(), "bigl".into()];
    big_list.extend(many.iter().cloned());
    cmds.splice(0..0, [big_set, big_hash, big_zset, big_list]);
    for cmd in cmds {
        let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        let _: redis::Value = q(c, &args);
    }
    let _: () = q(c, &["SELECT", "0"]);
}

fn digests(c: &mut Connection) -> (String, Vec<String>) {
    let all: String = q(c, &["DEBUG", "DIGEST"]);
    let keys = ["s", "n", "t", "l", "ints", "strs", "h", "z", "bigset", "bighash", "bigz", "bigl", "missing"];
    let mut args = vec!["DEBUG", "DIGEST-VALUE"];
    args.extend(keys);
    (all, q(c, &args))
}

#[test]
fn digests_equal_redis_servers_for_the_same_data() {
    let redis = RedisServer::start(&["--enable-debug-command", "yes"]);
    let mut r = redis.conn();
    let srv = start_with(|_| {});
    let mut s = conn(&srv);
    assert_eq!(q::<String>(&mut s, &["DEBUG", "DIGEST"]), "0".repeat(40), "an empty dataset");
    fill(&mut r);
    fill(&mut s);
    let want = digests(&mut r);
    assert_eq!(want.1.last().unwrap(), &"0".repeat(40));
    assert_eq!(digests(&mut s), want);
    // A change shows.
    let _: () = q(&mut s, &["LSET", "l", "0", "z"]);
    assert_ne!(digests(&mut s).0, want.0);
}

#[test]
fn debug_loadaof_reloads_the_dataset_from_the_aof() {
    let dir = fresh_dir();
    let srv = start_with(|cfg| {
        cfg.dir = dir.clone();
        cfg.save = vec![];
        cfg.appendonly = true;
    });
    let mut c = conn(&srv);
    fill(&mut c);
    let _: String = q(&mut c, &["BGREWRITEAOF"]);
    common::wait_until("the rewrite to end", || {
        let info: String = q(&mut c, &["INFO", "persistence"]);
        info.contains("aof_rewrite_in_progress:0")
    });
    let _: () = q(&mut c, &["SET", "after-rewrite", "1"]);
    let before: String = q(&mut c, &["DEBUG", "DIGEST"]);
    assert_eq!(q::<String>(&mut c, &["DEBUG", "LOADAOF"]), "OK");
    assert_eq!(q::<String>(&mut c, &["DEBUG", "DIGEST"]), before);
    assert_eq!(q::<String>(&mut c, &["GET", "after-rewrite"]), "1");
    // With AOF off, the files still there load.
    let _: () = q(&mut c, &["CONFIG", "SET", "appendonly", "no"]);
    assert_eq!(q::<String>(&mut c, &["DEBUG", "LOADAOF"]), "OK");
    assert_eq!(q::<String>(&mut c, &["DEBUG", "DIGEST"]), before);
    // No AOF at all: refused.
    let srv = start_with(|_| {});
    let mut c = conn(&srv);
    let e = redis::cmd("DEBUG").arg("LOADAOF").query::<String>(&mut c).unwrap_err();
    assert!(e.to_string().contains("no AOF"), "{e}");
}
