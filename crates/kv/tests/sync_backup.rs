//! SYNC for backups: `redis-cli --rdb` takes a snapshot of a running
//! server, and redis-server loads it with the same digest.

mod common;

use common::redis_server::RedisServer;
use common::{conn, fresh_dir, q, start_with};

#[test]
fn redis_cli_rdb_takes_a_backup_that_redis_server_loads() {
    let dir = fresh_dir();
    let srv = start_with(|cfg| cfg.dir = dir.clone());
    let mut c = conn(&srv);
    for i in 0..500 {
        let _: () = q(&mut c, &["RPUSH", &format!("list{}", i % 7), &i.to_string()]);
        let _: () = q(&mut c, &["SET", &format!("k{i}"), &"v".repeat(i)]);
    }
    let _: () = q(&mut c, &["SET", "ttl", "x", "EX", "1000"]);
    // A BGSAVE in flight began before the SYNC: the SYNC waits for a new one.
    let _: () = q(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "2000"]);
    let _: String = q(&mut c, &["BGSAVE"]);
    let _: () = q(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "0"]);
    let _: () = q(&mut c, &["SET", "after-bgsave", "1"]);
    let digest: String = q(&mut c, &["DEBUG", "DIGEST"]);
    let backup = dir.join("backup.rdb");
    let out = std::process::Command::new("timeout")
        .args(["20", "redis-cli", "-p", &srv.addr().port().to_string(), "--rdb"])
        .arg(&backup)
        .output()
        .expect("redis-cli (Debian's redis-tools) runs");
    let text = String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("Transfer finished with success"), "{text}");
    let restored = fresh_dir();
    std::fs::copy(&backup, restored.join("dump.rdb")).unwrap();
    let redis = RedisServer::start_in(&restored, &["--enable-debug-command", "yes"]);
    let mut r = redis.conn();
    assert_eq!(q::<String>(&mut r, &["DEBUG", "DIGEST"]), digest);
    assert_eq!(q::<String>(&mut r, &["GET", "after-bgsave"]), "1");
    // The server goes on serving.
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
    let e = redis::cmd("PSYNC").arg("?").arg("-1").query::<String>(&mut c).unwrap_err();
    assert!(e.to_string().contains("no replication"), "{e}");
    assert_eq!(q::<String>(&mut c, &["REPLCONF", "rdb-only", "1"]), "OK");
    assert!(redis::cmd("REPLCONF").arg("rdb-only").query::<String>(&mut c).is_err());
}
