//! A failing disk (here a file-size limit, `ulimit -f`, whose EFBIG stands
//! in for a full disk's ENOSPC).
//!
//! The AOF cannot be written: nothing acknowledged may be lost. With
//! `appendfsync everysec` writes (and PING) are refused with Redis's
//! MISCONF error until the file can be written again; with `always` the
//! server exits rather than acknowledge a write it could not log, as Redis
//! does. Either way every acknowledged write is there after a restart.
//!
//! A snapshot cannot be written: with save points configured, writes are
//! refused until a save succeeds (`stop-writes-on-bgsave-error`), so that
//! RDB-only users notice, as in Redis.

mod common;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(20);

/// The server binary, as a process of its own.
type Server = common::process::ServerProcess;

/// With the AOF on, fsynced as `fsync` says.
fn start_aof(dir: &Path, fsync: &str, limit_blocks: u32) -> Server {
    start_limited(dir, &["--save", "", "--appendonly", "yes", "--appendfsync", fsync], limit_blocks)
}

/// The server binary on a free port, data in `dir`, under a soft
/// file-size limit of `limit_blocks` 512-byte blocks (none if 0), with
/// SIGXFSZ ignored so that a write past it fails with EFBIG.
fn start_limited(dir: &Path, args: &[&str], limit_blocks: u32) -> Server {
    let limit = if limit_blocks > 0 { format!("ulimit -S -f {limit_blocks} && ") } else { String::new() };
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("trap '' XFSZ; {limit}exec \"$0\" \"$@\""))
        .arg(Server::BIN)
        .args(["--port", "0"])
        .args(args)
        .arg("--dir")
        .arg(dir);
    Server::spawn(cmd)
}

/// What these tests do with a server process.
trait DiskTest {
    fn conn(&self) -> redis::Connection;
    fn lift_file_limit(&self);
}

impl DiskTest for Server {
    fn conn(&self) -> redis::Connection {
        let c = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).unwrap();
        let c = c.get_connection_with_timeout(TIMEOUT).expect("connect");
        c.set_read_timeout(Some(TIMEOUT)).unwrap();
        c
    }

    /// Room again on the "disk": the file-size limit lifted (`prlimit`,
    /// from util-linux, which .ci/run installs).
    fn lift_file_limit(&self) {
        let lifted = Command::new("prlimit")
            .args(["--pid", &self.pid().to_string(), "--fsize=unlimited"])
            .status()
            .expect("run prlimit (util-linux)");
        assert!(lifted.success());
    }
}

fn value() -> String {
    "v".repeat(100)
}

/// SETs keys until one is not acknowledged; returns the acknowledged ones
/// and the first refusal (None if the connection broke instead).
fn set_until_refused(c: &mut redis::Connection) -> (Vec<String>, Option<redis::RedisError>) {
    let mut acked = Vec::new();
    for i in 0..5000 {
        let key = format!("key{i}");
        match redis::cmd("SET").arg(&key).arg(value()).query::<String>(c) {
            Ok(_) => acked.push(key),
            Err(e) if e.is_io_error() || e.is_connection_dropped() => return (acked, None),
            Err(e) => return (acked, Some(e)),
        }
    }
    panic!("5000 writes of 100 bytes went into a 32 KB file");
}

fn assert_all_there(srv: &Server, acked: &[String]) {
    let mut c = srv.conn();
    for key in acked {
        let got: Option<String> = redis::cmd("GET").arg(key).query(&mut c).unwrap();
        assert_eq!(got.as_deref(), Some(value().as_str()), "acknowledged {key} is lost");
    }
}

#[test]
fn everysec_refuses_writes_while_the_aof_cannot_be_written() {
    let dir = common::named_dir("aof-everysec");
    let mut srv = start_aof(&dir, "everysec", 64);
    let mut c = srv.conn();
    let (acked, refusal) = set_until_refused(&mut c);
    let refusal = refusal.expect("a refusal, not a broken connection").to_string();
    assert!(
        refusal.contains("MISCONF") && refusal.contains("Errors writing to the AOF file: File too large"),
        "{refusal}"
    );
    // PING too, so health checks notice; reads go on.
    let ping = redis::cmd("PING").query::<String>(&mut c).unwrap_err().to_string();
    assert!(ping.contains("Errors writing to the AOF file"), "{ping}");
    let got: Option<String> = redis::cmd("GET").arg(&acked[0]).query(&mut c).unwrap();
    assert!(got.is_some());
    let info: String = redis::cmd("INFO").arg("persistence").query(&mut c).unwrap();
    assert!(info.contains("aof_last_write_status:err"), "{info}");
    // Room again (the limit lifted): the buffered commands are written and
    // writes are accepted. (The restart below loads the file: the short
    // write was cut off, so it ends with a whole command.)
    srv.lift_file_limit();
    let deadline = Instant::now() + TIMEOUT;
    while redis::cmd("SET").arg("after").arg(value()).query::<String>(&mut c).is_err() {
        assert!(Instant::now() < deadline, "writes are still refused");
    }
    let info: String = redis::cmd("INFO").arg("persistence").query(&mut c).unwrap();
    assert!(info.contains("aof_last_write_status:ok"), "{info}");
    let _: redis::RedisResult<()> = redis::cmd("SHUTDOWN").query(&mut c);
    assert_eq!(srv.exit_code(), Some(0));
    let restarted = start_aof(&dir, "everysec", 0);
    let mut all = acked;
    all.push("after".into());
    assert_all_there(&restarted, &all);
}

#[test]
fn always_exits_rather_than_acknowledge_a_write_it_could_not_log() {
    let dir = common::named_dir("aof-always");
    let mut srv = start_aof(&dir, "always", 64);
    let mut c = srv.conn();
    let (acked, refusal) = set_until_refused(&mut c);
    assert!(refusal.is_none(), "a reply instead of the exit: {refusal:?}");
    assert!(!acked.is_empty());
    assert_eq!(srv.exit_code(), Some(1));
    let restarted = start_aof(&dir, "always", 0);
    assert_all_there(&restarted, &acked);
}

#[test]
fn a_failed_snapshot_stops_writes_until_a_save_succeeds() {
    const REFUSED: &str =
        "Redis is configured to save RDB snapshots, but it's currently unable to persist to disk.";
    let dir = common::named_dir("rdb-failing");
    let srv = start_limited(&dir, &["--save", "3600 1"], 16);
    let mut c = srv.conn();
    // 40 KB that do not compress (the RDB's LZF would shrink `value()`).
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..400 {
        let noise: String = (0..13)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                format!("{x:016x}")
            })
            .collect();
        let _: String = redis::cmd("SET").arg(format!("key{i}")).arg(&noise[..100]).query(&mut c).unwrap();
    }
    let status = |c: &mut redis::Connection| {
        let info: String = redis::cmd("INFO").arg("persistence").query(c).unwrap();
        info.lines().find_map(|l| l.strip_prefix("rdb_last_bgsave_status:")).unwrap().trim().to_string()
    };
    let bgsave = |c: &mut redis::Connection| {
        let deadline = Instant::now() + TIMEOUT;
        while redis::cmd("BGSAVE").query::<String>(c).is_err() {
            // One already running (a save point's): wait for it.
            assert!(Instant::now() < deadline, "BGSAVE never started");
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let info: String = redis::cmd("INFO").arg("persistence").query(c).unwrap();
            if info.contains("rdb_bgsave_in_progress:0") {
                break;
            }
            assert!(Instant::now() < deadline, "BGSAVE never ended");
        }
    };
    // A foreground SAVE that fails is that command's error; it leaves the
    // status alone and writes go on (Redis's rdbSave).
    assert!(redis::cmd("SAVE").query::<String>(&mut c).is_err());
    assert_eq!(status(&mut c), "ok");
    let _: String = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    // 40 KB of data into an 8 KB file: the child fails.
    bgsave(&mut c);
    assert_eq!(status(&mut c), "err");
    let err = redis::cmd("SET").arg("k").arg("v").query::<String>(&mut c).unwrap_err().to_string();
    assert!(err.contains("MISCONF") && err.contains(REFUSED), "{err}");
    let ping = redis::cmd("PING").query::<String>(&mut c).unwrap_err().to_string();
    assert!(ping.contains(REFUSED), "{ping}");
    let got: Option<String> = redis::cmd("GET").arg("key0").query(&mut c).unwrap();
    assert!(got.is_some(), "reads go on");
    // The option turns it off; on again, writes are refused again.
    let () =
        redis::cmd("CONFIG").arg("SET").arg("stop-writes-on-bgsave-error").arg("no").query(&mut c).unwrap();
    let _: String = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    let () =
        redis::cmd("CONFIG").arg("SET").arg("stop-writes-on-bgsave-error").arg("yes").query(&mut c).unwrap();
    assert!(redis::cmd("SET").arg("k").arg("v").query::<String>(&mut c).is_err());
    // Room again: a save succeeds, and writes are accepted.
    srv.lift_file_limit();
    bgsave(&mut c);
    assert_eq!(status(&mut c), "ok");
    let _: String = redis::cmd("SET").arg("k").arg("v2").query(&mut c).unwrap();
}
