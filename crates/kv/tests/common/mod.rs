//! Shared test harness: a server on an ephemeral port and clients for it.
#![allow(dead_code)]

pub mod process;
pub mod redis_server;
pub mod wire;

use spindle_kv::server::{Config, ServerThread};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Every wait in these tests is bounded by this.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A server on 127.0.0.1, port 0.
pub fn start() -> ServerThread {
    start_with(|_| {})
}

/// A server on 127.0.0.1, port 0, with `tweak` applied to its config.
pub fn start_with(tweak: impl FnOnce(&mut Config)) -> ServerThread {
    // Each server gets its own empty directory, so no test loads or
    // overwrites another's dump.rdb or AOF.
    // DEBUG is refused by default, as in Redis 7; the tests use it from
    // 127.0.0.1, which `local` allows.
    let mut cfg = Config {
        port: 0,
        dir: fresh_dir(),
        enable_debug_command: spindle_kv::server::config::ProtectedAction::Local,
        ..Config::default()
    };
    tweak(&mut cfg);
    ServerThread::start(cfg).expect("server starts")
}

/// The folder every test directory goes in, `spindle-kv-tests` under the
/// system temp dir. The first call in a test process removes what earlier
/// processes left there (entries named after a pid that is no longer
/// running), so test runs do not pile up directories in /tmp.
fn test_root() -> &'static std::path::Path {
    static ROOT: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        let root = std::env::temp_dir().join("spindle-kv-tests");
        for entry in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            let name = entry.file_name();
            let pid = name.to_str().and_then(|n| n.split('-').next()).and_then(|p| p.parse::<u32>().ok());
            if pid.is_some_and(|pid| {
                pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists()
            }) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        root
    })
}

/// A new empty directory for this test process, named by `tag`.
pub fn named_dir(tag: &str) -> std::path::PathBuf {
    let d = test_root().join(format!("{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create a test dir");
    d
}

/// A new empty directory, unique in this test process.
pub fn fresh_dir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    named_dir(&N.fetch_add(1, Ordering::Relaxed).to_string())
}

/// A `redis` crate connection with timeouts.
pub fn conn(srv: &ServerThread) -> redis::Connection {
    let client = redis::Client::open(format!("redis://{}/", srv.addr())).expect("client");
    let c = client.get_connection_with_timeout(TIMEOUT).expect("connect");
    c.set_read_timeout(Some(TIMEOUT)).unwrap();
    c.set_write_timeout(Some(TIMEOUT)).unwrap();
    c
}

/// A raw TCP client for protocol-level tests.
pub struct Raw {
    pub stream: TcpStream,
}

impl Raw {
    pub fn connect(srv: &ServerThread) -> Raw {
        let stream = TcpStream::connect_timeout(&srv.addr(), TIMEOUT).expect("connect");
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(TIMEOUT)).unwrap();
        Raw { stream }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Reads until `expected.len()` bytes arrived and returns them.
    pub fn read_exact_len(&mut self, n: usize) -> Vec<u8> {
        let mut buf = vec![0; n];
        self.stream.read_exact(&mut buf).expect("read reply");
        buf
    }

    /// Sends `req` and asserts the reply is exactly `reply`.
    pub fn roundtrip(&mut self, req: &[u8], reply: &[u8]) {
        self.send(req);
        let got = self.read_exact_len(reply.len());
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(reply),
            "reply to {:?}",
            String::from_utf8_lossy(req)
        );
    }

    /// Reads until the peer closes; returns everything read.
    pub fn read_to_close(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.stream.read_to_end(&mut out).expect("read until close");
        out
    }
}

/// A request in RESP for `args`.
pub fn req(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

/// Sends `args` and asserts the raw reply.
pub fn check(raw: &mut Raw, args: &[&str], reply: &str) {
    raw.roundtrip(&req(args), reply.as_bytes());
}

/// Runs a command through the `redis` crate, panicking with the command
/// on error.
pub fn q<T: redis::FromRedisValue>(c: &mut redis::Connection, args: &[&str]) -> T {
    redis::cmd(args[0]).arg(&args[1..]).query(c).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// A spindle replica of `master` (`replicaof` in its config), once its
/// link is up, and a connection to it.
pub fn replica_of(master: &ServerThread) -> (ServerThread, redis::Connection) {
    let port = master.addr().port();
    let replica = start_with(|cfg| {
        cfg.inert.insert("replicaof", format!("127.0.0.1 {port}"));
    });
    let mut r = conn(&replica);
    wait_until("the link is up", || info_field(&mut r, "replication", "master_link_status") == "up");
    (replica, r)
}

/// One numeric field of an INFO section.
pub fn info_u64(c: &mut redis::Connection, section: &str, name: &str) -> u64 {
    info_field(c, section, name).parse().unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// One field of an INFO section, as text (panics if it is missing).
pub fn info_field(c: &mut redis::Connection, section: &str, name: &str) -> String {
    let text: String = redis::cmd("INFO").arg(section).query(c).unwrap();
    let prefix = format!("{name}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("{name} in {text}"))
        .trim()
        .to_string()
}

/// How long [`wait_until`] waits for a state before failing: longer than
/// [`TIMEOUT`], because replication and cron steps run on 100 ms and 1 s
/// timers that slip far when the machine is overloaded (a parallel test
/// run beside a build).
pub const WAIT_LIMIT: Duration = Duration::from_secs(30);

/// Polls `cond` until it holds, failing after [`WAIT_LIMIT`]: for state
/// the server changes on its own (a cron, an eviction), which no reply
/// marks. The condition is what the test waits on; the short pause
/// between polls only keeps a test from spending the CPU the server needs
/// on asking (each poll is a round trip, often an INFO).
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + WAIT_LIMIT;
    while !cond() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The CLIENT LIST line of the client named `name`, as `c` sees it, if
/// that client is connected.
pub fn client_line(c: &mut redis::Connection, name: &str) -> Option<String> {
    let list: String = q(c, &["CLIENT", "LIST"]);
    let tag = format!(" name={name} ");
    list.lines().find(|l| l.contains(&tag)).map(str::to_string)
}

/// A numeric field of a CLIENT LIST line.
pub fn client_field(line: &str, name: &str) -> usize {
    let tag = format!("{name}=");
    let v =
        line.split(' ').find_map(|f| f.strip_prefix(&tag)).unwrap_or_else(|| panic!("no {name} in {line}"));
    v.parse().unwrap()
}

/// The AOF's files under `dir` (Redis 7's layout: `appendonlydir/` and
/// its manifest, default names), in the order they load: the base, then
/// the incr files. History files are left out.
pub fn aof_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let folder = dir.join("appendonlydir");
    let manifest = std::fs::read_to_string(folder.join("appendonly.aof.manifest")).unwrap_or_default();
    let mut base = Vec::new();
    let mut incr = Vec::new();
    for line in manifest.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.as_slice() {
            ["file", name, "seq", _, "type", "b"] => base.push(folder.join(name)),
            ["file", name, "seq", _, "type", "i"] => incr.push(folder.join(name)),
            _ => {}
        }
    }
    base.extend(incr);
    base
}

/// The AOF's files' contents one after another, lossily as text (an RDB
/// base file comes out as its bytes).
pub fn aof_text(dir: &std::path::Path) -> String {
    let files = aof_files(dir);
    assert!(!files.is_empty(), "no AOF manifest under {}", dir.display());
    let bytes: Vec<u8> = files.iter().flat_map(|f| std::fs::read(f).expect("an AOF file")).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The AOF's size: its base and incr files together.
pub fn aof_size(dir: &std::path::Path) -> u64 {
    aof_files(dir).iter().map(|f| std::fs::metadata(f).expect("an AOF file").len()).sum()
}
