//! The AOF cannot be written (a full disk; here a file-size limit, `ulimit
//! -f`, whose EFBIG stands in for ENOSPC): nothing acknowledged may be
//! lost. With `appendfsync everysec` writes (and PING) are refused with
//! Redis's MISCONF error until the file can be written again; with
//! `always` the server exits rather than acknowledge a write it could not
//! log, as Redis does. Either way every acknowledged write is there after
//! a restart.

mod common;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(20);

/// The server binary on a free port with the AOF on in `dir`, under a
/// soft file-size limit of `limit_blocks` 512-byte blocks (none if 0),
/// with SIGXFSZ ignored so that a write past it fails with EFBIG.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(dir: &Path, fsync: &str, limit_blocks: u32) -> Server {
        let limit = if limit_blocks > 0 { format!("ulimit -S -f {limit_blocks} && ") } else { String::new() };
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!("trap '' XFSZ; {limit}exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_spindle-kv-server"))
            .args(["--port", "0", "--save", "", "--appendonly", "yes", "--appendfsync", fsync, "--dir"])
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("read the port");
        let port = line.trim().strip_prefix("port ").and_then(|p| p.parse().ok()).expect("the port line");
        Server { child, port }
    }

    fn conn(&self) -> redis::Connection {
        let c = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).unwrap();
        let c = c.get_connection_with_timeout(TIMEOUT).expect("connect");
        c.set_read_timeout(Some(TIMEOUT)).unwrap();
        c
    }

    /// Waits, bounded, for the process to exit; its exit code.
    fn exit_code(&mut self) -> Option<i32> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::yield_now();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
    let mut srv = Server::start(&dir, "everysec", 64);
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
    let lifted = Command::new("prlimit")
        .args(["--pid", &srv.child.id().to_string(), "--fsize=unlimited"])
        .status()
        .expect("run prlimit (util-linux)");
    assert!(lifted.success());
    let deadline = Instant::now() + TIMEOUT;
    while redis::cmd("SET").arg("after").arg(value()).query::<String>(&mut c).is_err() {
        assert!(Instant::now() < deadline, "writes are still refused");
    }
    let info: String = redis::cmd("INFO").arg("persistence").query(&mut c).unwrap();
    assert!(info.contains("aof_last_write_status:ok"), "{info}");
    let _: redis::RedisResult<()> = redis::cmd("SHUTDOWN").query(&mut c);
    assert_eq!(srv.exit_code(), Some(0));
    let restarted = Server::start(&dir, "everysec", 0);
    let mut all = acked;
    all.push("after".into());
    assert_all_there(&restarted, &all);
}

#[test]
fn always_exits_rather_than_acknowledge_a_write_it_could_not_log() {
    let dir = common::named_dir("aof-always");
    let mut srv = Server::start(&dir, "always", 64);
    let mut c = srv.conn();
    let (acked, refusal) = set_until_refused(&mut c);
    assert!(refusal.is_none(), "a reply instead of the exit: {refusal:?}");
    assert!(!acked.is_empty());
    assert_eq!(srv.exit_code(), Some(1));
    let restarted = Server::start(&dir, "always", 0);
    assert_all_there(&restarted, &acked);
}
