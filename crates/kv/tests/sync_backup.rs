//! SYNC for backups: `redis-cli --rdb` takes a snapshot of a running
//! server, and redis-server loads it with the same digest.

mod common;

use common::redis_server::RedisServer;
use common::{conn, fresh_dir, q, start_with};

/// Runs `redis-cli --rdb` (or `--functions-rdb`, as `flag` says) against
/// `srv` into `path`, bounded, and checks that it reports success.
fn redis_cli_backup(srv: &spindle_kv::server::ServerThread, flag: &str, path: &std::path::Path) {
    let out = std::process::Command::new("timeout")
        .args(["20", "redis-cli", "-p", &srv.addr().port().to_string(), flag])
        .arg(path)
        .output()
        .expect("redis-cli (Debian's redis-tools) runs");
    let text = String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("Transfer finished with success"), "{text}");
}

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
    redis_cli_backup(&srv, "--rdb", &backup);
    let restored = fresh_dir();
    std::fs::copy(&backup, restored.join("dump.rdb")).unwrap();
    let redis = RedisServer::start_in(&restored, &["--enable-debug-command", "yes"]);
    let mut r = redis.conn();
    assert_eq!(q::<String>(&mut r, &["DEBUG", "DIGEST"]), digest);
    assert_eq!(q::<String>(&mut r, &["GET", "after-bgsave"]), "1");
    // The server goes on serving.
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
    assert_eq!(q::<String>(&mut c, &["REPLCONF", "rdb-only", "1"]), "OK");
    assert!(redis::cmd("REPLCONF").arg("rdb-only").query::<String>(&mut c).is_err());
}

/// A snapshot is streamed from the file as the client reads, not copied
/// into its reply buffer: a SYNC client that stops reading holds no
/// output memory (CLIENT LIST `obl=0`, small `omem`), and when it reads
/// on it gets the file byte for byte and, having asked for the snapshot
/// only (`REPLCONF rdb-only 1`, as `redis-cli --rdb` does), is closed.
#[test]
fn sync_streams_the_snapshot_instead_of_buffering_it() {
    use std::io::{BufRead, BufReader, Read};
    let dir = fresh_dir();
    let srv = start_with(|cfg| cfg.dir = dir.clone());
    let mut c = conn(&srv);
    // 24 MiB that LZF cannot shrink (xorshift bytes).
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for k in 0..6 {
        let value: Vec<u8> = (0..4 << 20)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let _: () = redis::cmd("SET").arg(format!("big{k}")).arg(value).query(&mut c).unwrap();
    }
    let mut raw = common::Raw::connect(&srv);
    raw.roundtrip(b"REPLCONF rdb-only 1\r\n", b"+OK\r\n");
    raw.send(b"SYNC\r\n");
    let mut rd = BufReader::with_capacity(64 << 10, raw.stream.try_clone().unwrap());
    let mut line = String::new();
    // Redis may send bare newlines while the snapshot is being made.
    while line.trim().is_empty() {
        line.clear();
        rd.read_line(&mut line).expect("the bulk header");
    }
    let len: usize = line.trim().strip_prefix('$').and_then(|n| n.parse().ok()).expect("a bulk header");
    assert!(len > 24 << 20, "{line}");
    let mut first = vec![0; 64 << 10];
    rd.read_exact(&mut first).unwrap();
    // The client reads no more: the rest waits in the file, not in memory.
    let list: String = q(&mut c, &["CLIENT", "LIST"]);
    let sync_line = list.lines().find(|l| l.contains("cmd=sync")).unwrap_or_else(|| panic!("{list}"));
    let field = |name: &str| -> u64 {
        let f = sync_line.split(' ').find_map(|kv| kv.strip_prefix(name)).unwrap();
        f.parse().unwrap()
    };
    assert_eq!(field("obl="), 0, "{sync_line}");
    assert!(field("omem=") < 1 << 20, "{sync_line}");
    // Other clients are served meanwhile.
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
    let mut rest = Vec::new();
    rd.read_to_end(&mut rest).expect("the rest, then the close");
    let mut got = first;
    got.extend_from_slice(&rest);
    assert_eq!(got.len(), len);
    assert!(got == std::fs::read(dir.join("dump.rdb")).unwrap(), "the bytes are the snapshot's");
}

/// `redis-cli --functions-rdb file` asks for the functions only
/// (`REPLCONF rdb-filter-only functions`): redis-server sends an RDB
/// without keys, and so does this server, which has no functions. An
/// unknown filter is refused with Redis's error.
#[test]
fn redis_cli_functions_rdb_gets_a_keyless_snapshot() {
    let dir = fresh_dir();
    let srv = start_with(|cfg| cfg.dir = dir.clone());
    let mut c = conn(&srv);
    let _: () = q(&mut c, &["SET", "k", "v"]);
    let backup = dir.join("functions.rdb");
    redis_cli_backup(&srv, "--functions-rdb", &backup);
    let restored = fresh_dir();
    std::fs::copy(&backup, restored.join("dump.rdb")).unwrap();
    let redis = RedisServer::start_in(&restored, &[]);
    assert_eq!(q::<i64>(&mut redis.conn(), &["DBSIZE"]), 0);
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "v");
    let err = redis::cmd("REPLCONF").arg("rdb-filter-only").arg("functions keys").query::<String>(&mut c);
    assert!(err.unwrap_err().to_string().ends_with(": Unsupported rdb-filter-only option: keys"));
}

/// `redis-cli --replica` asks for no data (`REPLCONF rdb-filter-only ""`)
/// and then prints the command stream: it gets a keyless snapshot and
/// stays attached as a replica, seeing the writes made after it.
#[test]
fn redis_cli_replica_prints_the_stream_after_a_keyless_snapshot() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let srv = common::start();
    let mut c = conn(&srv);
    let _: () = q(&mut c, &["SET", "before", "1"]);
    let mut child = Command::new("redis-cli")
        .args(["-p", &srv.addr().port().to_string(), "--replica"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("redis-cli (Debian's redis-tools) runs");
    let (tx, rx) = std::sync::mpsc::channel();
    for pipe in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    let mut seen = Vec::new();
    let wait_for = |want: &str, seen: &mut Vec<String>| {
        while !seen.iter().any(|l| l.contains(want)) {
            match rx.recv_timeout(common::TIMEOUT) {
                Ok(line) => seen.push(line),
                Err(_) => panic!("no {want:?} from redis-cli --replica: {seen:?}"),
            }
        }
    };
    wait_for("SYNC done", &mut seen);
    let _: () = q(&mut c, &["SET", "after", "2"]);
    wait_for(r#""SET","after","2""#, &mut seen);
    let _ = child.kill();
    let _ = child.wait();
    assert!(!seen.iter().any(|l| l.contains("before")), "{seen:?}");
}
