//! A stock redis.conf starts the server: Debian's /etc/redis/redis.conf
//! (a copy in fixtures/), every Redis 7.0 option name in CONFIG GET, and
//! the options that act: tcp-keepalive, timeout, pidfile, logfile,
//! daemonize.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::mem::ManuallyDrop;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{FromRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::TIMEOUT;

const REDIS_7_0_NAMES: &[&str] = &[
    "acl-pubsub-default",
    "aclfile",
    "acllog-max-len",
    "active-defrag-cycle-max",
    "active-defrag-cycle-min",
    "active-defrag-ignore-bytes",
    "active-defrag-max-scan-fields",
    "active-defrag-threshold-lower",
    "active-defrag-threshold-upper",
    "active-expire-effort",
    "activedefrag",
    "activerehashing",
    "always-show-logo",
    "aof-disable-auto-gc",
    "aof-load-truncated",
    "aof-rewrite-incremental-fsync",
    "aof-timestamp-enabled",
    "aof-use-rdb-preamble",
    "aof_rewrite_cpulist",
    "appenddirname",
    "appendfilename",
    "appendfsync",
    "appendonly",
    "auto-aof-rewrite-min-size",
    "auto-aof-rewrite-percentage",
    "bgsave_cpulist",
    "bind",
    "bind-source-addr",
    "bio_cpulist",
    "busy-reply-threshold",
    "client-output-buffer-limit",
    "client-query-buffer-limit",
    "cluster-allow-pubsubshard-when-down",
    "cluster-allow-reads-when-down",
    "cluster-allow-replica-migration",
    "cluster-announce-bus-port",
    "cluster-announce-hostname",
    "cluster-announce-ip",
    "cluster-announce-port",
    "cluster-announce-tls-port",
    "cluster-config-file",
    "cluster-enabled",
    "cluster-link-sendbuf-limit",
    "cluster-migration-barrier",
    "cluster-node-timeout",
    "cluster-port",
    "cluster-preferred-endpoint-type",
    "cluster-replica-no-failover",
    "cluster-replica-validity-factor",
    "cluster-require-full-coverage",
    "cluster-slave-no-failover",
    "cluster-slave-validity-factor",
    "crash-log-enabled",
    "crash-memcheck-enabled",
    "daemonize",
    "databases",
    "dbfilename",
    "dir",
    "disable-thp",
    "dynamic-hz",
    "enable-debug-command",
    "enable-module-command",
    "enable-protected-configs",
    "hash-max-listpack-entries",
    "hash-max-listpack-value",
    "hash-max-ziplist-entries",
    "hash-max-ziplist-value",
    "hll-sparse-max-bytes",
    "hz",
    "ignore-warnings",
    "io-threads",
    "io-threads-do-reads",
    "jemalloc-bg-thread",
    "latency-monitor-threshold",
    "latency-tracking",
    "latency-tracking-info-percentiles",
    "lazyfree-lazy-eviction",
    "lazyfree-lazy-expire",
    "lazyfree-lazy-server-del",
    "lazyfree-lazy-user-del",
    "lazyfree-lazy-user-flush",
    "lfu-decay-time",
    "lfu-log-factor",
    "list-compress-depth",
    "list-max-listpack-size",
    "list-max-ziplist-size",
    "logfile",
    "loglevel",
    "lua-time-limit",
    "masterauth",
    "masteruser",
    "maxclients",
    "maxmemory",
    "maxmemory-clients",
    "maxmemory-eviction-tenacity",
    "maxmemory-policy",
    "maxmemory-samples",
    "min-replicas-max-lag",
    "min-replicas-to-write",
    "min-slaves-max-lag",
    "min-slaves-to-write",
    "no-appendfsync-on-rewrite",
    "notify-keyspace-events",
    "oom-score-adj",
    "oom-score-adj-values",
    "pidfile",
    "port",
    "proc-title-template",
    "propagation-error-behavior",
    "protected-mode",
    "proto-max-bulk-len",
    "rdb-del-sync-files",
    "rdb-save-incremental-fsync",
    "rdbchecksum",
    "rdbcompression",
    "repl-backlog-size",
    "repl-backlog-ttl",
    "repl-disable-tcp-nodelay",
    "repl-diskless-load",
    "repl-diskless-sync",
    "repl-diskless-sync-delay",
    "repl-diskless-sync-max-replicas",
    "repl-ping-replica-period",
    "repl-ping-slave-period",
    "repl-timeout",
    "replica-announce-ip",
    "replica-announce-port",
    "replica-announced",
    "replica-ignore-disk-write-errors",
    "replica-ignore-maxmemory",
    "replica-lazy-flush",
    "replica-priority",
    "replica-read-only",
    "replica-serve-stale-data",
    "replicaof",
    "requirepass",
    "sanitize-dump-payload",
    "save",
    "server_cpulist",
    "set-max-intset-entries",
    "set-proc-title",
    "shutdown-on-sigint",
    "shutdown-on-sigterm",
    "shutdown-timeout",
    "slave-announce-ip",
    "slave-announce-port",
    "slave-ignore-maxmemory",
    "slave-lazy-flush",
    "slave-priority",
    "slave-read-only",
    "slave-serve-stale-data",
    "slaveof",
    "slowlog-log-slower-than",
    "slowlog-max-len",
    "socket-mark-id",
    "stop-writes-on-bgsave-error",
    "stream-node-max-bytes",
    "stream-node-max-entries",
    "supervised",
    "syslog-enabled",
    "syslog-facility",
    "syslog-ident",
    "tcp-backlog",
    "tcp-keepalive",
    "timeout",
    "tls-auth-clients",
    "tls-ca-cert-dir",
    "tls-ca-cert-file",
    "tls-cert-file",
    "tls-ciphers",
    "tls-ciphersuites",
    "tls-client-cert-file",
    "tls-client-key-file",
    "tls-client-key-file-pass",
    "tls-cluster",
    "tls-dh-params-file",
    "tls-key-file",
    "tls-key-file-pass",
    "tls-port",
    "tls-prefer-server-ciphers",
    "tls-protocols",
    "tls-replication",
    "tls-session-cache-size",
    "tls-session-cache-timeout",
    "tls-session-caching",
    "tracking-table-max-keys",
    "unixsocket",
    "unixsocketperm",
    "zset-max-listpack-entries",
    "zset-max-listpack-value",
    "zset-max-ziplist-entries",
    "zset-max-ziplist-value",
];

/// Debian's redis.conf with the machine-specific lines pointed at `dir`.
fn debian_conf(dir: &Path) -> PathBuf {
    let text = include_str!("fixtures/debian-redis.conf");
    let mut out = String::new();
    for line in text.lines() {
        let word = line.split_whitespace().next().unwrap_or("");
        let replaced = match word {
            "dir" => format!("dir {}", dir.display()),
            "pidfile" => format!("pidfile {}", dir.join("redis.pid").display()),
            "logfile" => format!("logfile {}", dir.join("redis.log").display()),
            "port" => "port 0".to_string(),
            "daemonize" => "daemonize no".to_string(),
            _ => line.to_string(),
        };
        out.push_str(&replaced);
        out.push('\n');
    }
    let p = dir.join("redis.conf");
    std::fs::write(&p, out).unwrap();
    p
}

/// Runs `spindle-kv-server args`; returns it and the first port it prints.
fn spawn(args: &[&str]) -> (Child, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_spindle-kv-server"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn spindle-kv-server");
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // The first line, then the rest drained, so the server never
        // writes to a closed pipe.
        let mut r = BufReader::new(out);
        let mut line = String::new();
        let _ = r.read_line(&mut line);
        let _ = tx.send(line);
        let _ = std::io::copy(&mut r, &mut std::io::sink());
    });
    let line = rx.recv_timeout(TIMEOUT).unwrap_or_default();
    let Some(port) = line.trim().strip_prefix("port ").and_then(|p| p.parse().ok()) else {
        let _ = child.kill();
        let mut err = String::new();
        let _ = child.stderr.take().unwrap().read_to_string(&mut err);
        panic!("the server did not start: {line:?} {err}");
    };
    (child, port)
}

/// Waits (bounded) for `child` to exit; returns its exit code.
fn wait_exit(mut child: Child) -> Option<i32> {
    let (tx, rx) = mpsc::channel();
    let pid = child.id();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait().ok().and_then(|s| s.code()));
    });
    rx.recv_timeout(TIMEOUT).unwrap_or_else(|_| panic!("process {pid} did not exit in {TIMEOUT:?}"))
}

fn conn(port: u16) -> redis::Connection {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
    let c = client.get_connection_with_timeout(TIMEOUT).expect("connect");
    c.set_read_timeout(Some(TIMEOUT)).unwrap();
    c
}

/// SHUTDOWN NOSAVE, and the server's end of the connection closing.
fn shutdown(con: &mut redis::Connection) {
    let r: redis::RedisResult<()> = redis::cmd("SHUTDOWN").arg("NOSAVE").query(con);
    assert!(r.is_err(), "SHUTDOWN replies by closing the connection");
}

#[test]
fn debians_redis_conf_starts_the_server() {
    let dir = common::fresh_dir();
    let conf = debian_conf(&dir);
    let (child, port) = spawn(&[conf.to_str().unwrap()]);
    let mut con = conn(port);
    let pong: String = redis::cmd("PING").query(&mut con).unwrap();
    assert_eq!(pong, "PONG");
    let got: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("tcp-keepalive").query(&mut con).unwrap();
    assert_eq!(got, ["tcp-keepalive", "300"]);
    let got: Vec<String> =
        redis::cmd("CONFIG").arg("GET").arg("oom-score-adj-values").query(&mut con).unwrap();
    assert_eq!(got, ["oom-score-adj-values", "0 200 800"]);
    // The pid file names the server; the log says which options do nothing.
    let pid = std::fs::read_to_string(dir.join("redis.pid")).expect("the pid file");
    assert_eq!(pid.trim(), child.id().to_string());
    let log = std::fs::read_to_string(dir.join("redis.log")).expect("the log file");
    let line = log.lines().find(|l| l.contains("options accepted with no effect")).expect("the notice");
    for name in ["repl-diskless-sync", "jemalloc-bg-thread", "always-show-logo"] {
        assert!(line.contains(name), "{name} missing from {line}");
    }
    for acting in ["tcp-keepalive", "oom-score-adj"] {
        assert!(!line.contains(acting), "{acting} acts: {line}");
    }
    shutdown(&mut con);
    assert_eq!(wait_exit(child), Some(0));
    assert!(!dir.join("redis.pid").exists(), "a clean shutdown removes the pid file");
}

#[test]
fn config_get_lists_every_redis_7_0_option() {
    let srv = common::start();
    let mut con = common::conn(&srv);
    let all: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("*").query(&mut con).unwrap();
    let names: std::collections::HashSet<&str> = all.iter().step_by(2).map(String::as_str).collect();
    let missing: Vec<&&str> = REDIS_7_0_NAMES.iter().filter(|n| !names.contains(**n)).collect();
    assert!(missing.is_empty(), "CONFIG GET * lacks {missing:?}");
    // A hidden option answers to its exact name only, as in Redis.
    assert!(!names.contains("key-load-delay"));
    let got: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("key-load-delay").query(&mut con).unwrap();
    assert_eq!(got, ["key-load-delay", "0"]);
    // Inert options validate as Redis does and keep what they are given.
    let mut set = |k: &str, v: &str| redis::cmd("CONFIG").arg("SET").arg(k).arg(v).query::<()>(&mut con);
    set("repl-backlog-size", "2mb").unwrap();
    set("slave-priority", "7").unwrap();
    set("shutdown-on-sigterm", "now save").unwrap();
    let e = set("repl-timeout", "0").unwrap_err().to_string();
    assert!(e.contains("argument must be between 1 and 2147483647 inclusive"), "{e}");
    let e = set("jemalloc-bg-thread", "maybe").unwrap_err().to_string();
    assert!(e.contains("argument must be 'yes' or 'no'"), "{e}");
    let e = set("daemonize", "yes").unwrap_err().to_string();
    assert!(e.contains("can't set immutable config"), "{e}");
    let got: std::collections::HashMap<String, String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("repl-backlog-size")
        .arg("replica-priority")
        .arg("shutdown-on-sigterm")
        .query(&mut con)
        .unwrap();
    assert_eq!(got["repl-backlog-size"], "2097152");
    assert_eq!(got["replica-priority"], "7");
    assert_eq!(got["shutdown-on-sigterm"], "save now");
}

#[test]
fn config_rewrite_keeps_the_inert_options() {
    let dir = common::fresh_dir();
    let p = dir.join("redis.conf");
    std::fs::write(&p, format!("port 0\ndir {}\nrepl-backlog-size 2mb\nappenddirname aofs\n", dir.display()))
        .unwrap();
    let cfg = spindle_kv::server::Config::from_args(&[p.to_str().unwrap().to_string()]).unwrap();
    let srv = spindle_kv::server::ServerThread::start(cfg).unwrap();
    let mut con = common::conn(&srv);
    let () = redis::cmd("CONFIG").arg("SET").arg("repl-timeout").arg("99").query(&mut con).unwrap();
    let () = redis::cmd("CONFIG").arg("REWRITE").query(&mut con).unwrap();
    let text = std::fs::read_to_string(&p).unwrap();
    for line in ["repl-backlog-size 2097152\n", "appenddirname aofs\n", "repl-timeout 99\n"] {
        assert!(text.contains(line), "{line:?} not in {text}");
    }
}

/// The server's end of `client` (the test runs the server in-process):
/// the socket whose peer is the client's local address.
fn server_side_fd(client: &TcpStream) -> RawFd {
    let want: SocketAddr = client.local_addr().unwrap();
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let Some(fd) = entry.file_name().to_str().and_then(|s| s.parse::<RawFd>().ok()) else { continue };
        // SAFETY: ManuallyDrop never closes the descriptor, which stays
        // the server's; a non-socket only makes peer_addr fail.
        let s = ManuallyDrop::new(unsafe { TcpStream::from_raw_fd(fd) });
        if s.peer_addr().ok() == Some(want) {
            return fd;
        }
    }
    panic!("no server-side socket for {want}");
}

fn sockopt(fd: RawFd, level: i32, name: i32) -> i32 {
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: v and len are live locals of the sizes passed.
    let r = unsafe { libc::getsockopt(fd, level, name, (&mut v as *mut libc::c_int).cast(), &mut len) };
    assert_eq!(r, 0, "getsockopt: {}", std::io::Error::last_os_error());
    v
}

#[test]
fn tcp_keepalive_is_set_on_accepted_clients() {
    for (keepalive, want) in [(1000, Some((1000, 333, 3))), (0, None)] {
        let srv = common::start_with(|c| c.tcp_keepalive = keepalive);
        let mut raw = common::Raw::connect(&srv);
        // Accepted once it answers.
        common::check(&mut raw, &["PING"], "+PONG\r\n");
        let fd = server_side_fd(&raw.stream);
        let on = sockopt(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE);
        match want {
            Some((idle, intvl, cnt)) => {
                assert_eq!(on, 1, "SO_KEEPALIVE");
                assert_eq!(sockopt(fd, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE), idle);
                assert_eq!(sockopt(fd, libc::IPPROTO_TCP, libc::TCP_KEEPINTVL), intvl);
                assert_eq!(sockopt(fd, libc::IPPROTO_TCP, libc::TCP_KEEPCNT), cnt);
            }
            None => assert_eq!(on, 0, "tcp-keepalive 0 leaves keepalive off"),
        }
        drop(raw);
    }
}

#[test]
fn timeout_closes_idle_clients_but_not_active_ones_or_subscribers() {
    let srv = common::start_with(|c| c.timeout = 1);
    let mut sub = common::Raw::connect(&srv);
    sub.send(&common::req(&["SUBSCRIBE", "ch"]));
    let _ = sub.read_exact_len(b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n".len());
    let mut idle = common::Raw::connect(&srv);
    common::check(&mut idle, &["PING"], "+PONG\r\n");
    let mut active = common::Raw::connect(&srv);
    // The idle client's EOF, on a thread (bounded by its read timeout).
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(idle.read_to_close());
    });
    let closed = loop {
        // Keep the active client busy until the idle one is closed.
        common::check(&mut active, &["PING"], "+PONG\r\n");
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(rest) => break rest,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(e) => panic!("{e}"),
        }
    };
    assert!(closed.is_empty(), "nothing more was sent: {closed:?}");
    common::check(&mut active, &["PING"], "+PONG\r\n");
    // The subscriber, idle longer than the closed client, is still there.
    common::check(&mut sub, &["PING"], "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
}

#[test]
fn timeout_spares_a_client_slowly_reading_a_long_reply() {
    // Redis counts a write to the client as activity too: a client that
    // takes longer than `timeout` to drain a big reply is not idle.
    let srv = common::start_with(|c| c.timeout = 1);
    let mut con = common::conn(&srv);
    // Far more than loopback's socket buffers hold (about 4 MiB sent and
    // 6 MiB received at most), so most of it goes out on writable events
    // while the reader drains.
    const LEN: usize = 64 << 20;
    let () = redis::cmd("SET").arg("big").arg(vec![b'x'; LEN]).query(&mut con).unwrap();
    let mut s = TcpStream::connect(srv.addr()).unwrap();
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    std::io::Write::write_all(&mut s, &common::req(&["GET", "big"])).unwrap();
    let want = format!("${LEN}\r\n").len() + LEN + 2;
    let started = std::time::Instant::now();
    let (mut got, mut buf) = (0, vec![0; 1 << 20]);
    while got < want {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "closed after {got} of {want} bytes, {:?} in", started.elapsed());
        got += n;
        // Pacing, not synchronisation: a reader of about 20 MB/s takes
        // over two seconds for the reply, twice the timeout. The last
        // 16 MiB (more than the socket buffers hold, so the server's last
        // write is in it) are read at full speed: the PING below must come
        // well within `timeout` of that write even on a loaded machine.
        if got + (16 << 20) < want {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    assert!(started.elapsed() > Duration::from_secs(2), "the read was not slower than the timeout");
    std::io::Write::write_all(&mut s, &common::req(&["PING"])).unwrap();
    let mut pong = [0; 7];
    s.read_exact(&mut pong).unwrap();
    assert_eq!(&pong, b"+PONG\r\n");
}

/// A port free a moment ago.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits (bounded) for process `pid`, not a child of ours, to exit.
fn wait_gone(pid: i32) {
    // SAFETY: pidfd_open takes two integers and returns a new descriptor.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as RawFd;
    if fd < 0 {
        return; // Already gone.
    }
    let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    // SAFETY: p is a live pollfd; fd is ours and closed below.
    let n = unsafe { libc::poll(&mut p, 1, TIMEOUT.as_millis() as i32) };
    // SAFETY: closing the descriptor pidfd_open gave us.
    unsafe { libc::close(fd) };
    assert_eq!(n, 1, "process {pid} did not exit within {TIMEOUT:?}");
}

#[test]
fn daemonize_detaches_writes_the_pid_file_and_removes_it_at_shutdown() {
    let dir = common::fresh_dir();
    let pidfile = dir.join("p");
    let port = free_port().to_string();
    let child = Command::new(env!("CARGO_BIN_EXE_spindle-kv-server"))
        .args(["--daemonize", "yes", "--port", &port, "--pidfile"])
        .arg(&pidfile)
        .arg("--dir")
        .arg(&dir)
        .arg("--logfile")
        .arg(dir.join("log"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let launcher = child.id();
    assert_eq!(wait_exit(child), Some(0), "the launching process exits 0");
    let pid: i32 = std::fs::read_to_string(&pidfile).expect("pid file").trim().parse().unwrap();
    assert_ne!(pid as u32, launcher, "the daemon is a new process");
    // SAFETY: getsid takes a pid.
    assert_eq!(unsafe { libc::getsid(pid) }, pid, "the daemon leads its own session");
    let mut con = conn(port.parse().unwrap());
    let pong: String = redis::cmd("PING").query(&mut con).unwrap();
    assert_eq!(pong, "PONG");
    let got: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("daemonize").query(&mut con).unwrap();
    assert_eq!(got, ["daemonize", "yes"]);
    shutdown(&mut con);
    wait_gone(pid);
    assert!(!pidfile.exists(), "a clean shutdown removes the pid file");

    // A daemon that cannot start makes the launcher fail, with the reason.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_spindle-kv-server"))
        .args(["--daemonize", "yes", "--port", &port, "--pidfile"])
        .arg(dir.join("p2"))
        .arg("--dir")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("could not bind"), "{err}");
    drop(busy);
}

#[test]
fn supervised_systemd_notifies_ready_and_stopping() {
    let dir = common::fresh_dir();
    let sock_path = dir.join("notify");
    let sock = std::os::unix::net::UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_spindle-kv-server"))
        .args(["--supervised", "systemd", "--port", "0", "--dir"])
        .arg(&dir)
        .env("NOTIFY_SOCKET", &sock_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let port: u16 = line.trim().strip_prefix("port ").unwrap().parse().unwrap();
    let mut buf = [0u8; 256];
    let n = sock.recv(&mut buf).expect("READY from the server");
    assert!(String::from_utf8_lossy(&buf[..n]).contains("READY=1\n"));
    shutdown(&mut conn(port));
    let n = sock.recv(&mut buf).expect("STOPPING from the server");
    assert_eq!(&buf[..n], b"STOPPING=1\n");
    assert_eq!(wait_exit(child), Some(0));
}

#[test]
fn timeout_spares_a_client_still_sending_its_command() {
    let srv = common::start_with(|c| c.timeout = 1);
    let mut slow = common::Raw::connect(&srv);
    let mut idle = common::Raw::connect(&srv);
    common::check(&mut idle, &["PING"], "+PONG\r\n");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(idle.read_to_close());
    });
    // One byte of a command at a time until the idle client is closed:
    // the slow client never completes a command, but it is not idle.
    let cmd = common::req(&["ECHO", &"x".repeat(64)]);
    let mut sent = 0;
    loop {
        assert!(sent < cmd.len(), "the idle client outlived the slow command");
        slow.send(&cmd[sent..sent + 1]);
        sent += 1;
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(_) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(e) => panic!("{e}"),
        }
    }
    slow.send(&cmd[sent..]);
    let want = format!("$64\r\n{}\r\n", "x".repeat(64));
    common::check(&mut slow, &["PING"], &format!("{want}+PONG\r\n"));
}

#[test]
fn loglevel_filters_the_log_file_and_config_set_changes_it() {
    let dir = common::fresh_dir();
    let log = dir.join("log");
    let d = dir.to_str().unwrap();
    let l = log.to_str().unwrap();
    let (child, port) = spawn(&[
        "--port",
        "0",
        "--dir",
        d,
        "--logfile",
        l,
        "--loglevel",
        "warning",
        "--activerehashing",
        "no",
    ]);
    let mut con = conn(port);
    let () = redis::cmd("CONFIG").arg("SET").arg("loglevel").arg("notice").query(&mut con).unwrap();
    shutdown(&mut con);
    assert_eq!(wait_exit(child), Some(0));
    let text = std::fs::read_to_string(&log).unwrap();
    // The start-up notice was below `warning`; SHUTDOWN's came after the
    // level went down to `notice`.
    assert!(!text.contains("options accepted with no effect"), "{text}");
    assert!(text.contains("SHUTDOWN requested"), "{text}");
}

#[test]
fn replicaof_in_the_config_is_followed_and_not_listed_as_inert() {
    let dir = common::fresh_dir();
    let conf = dir.join("replica.conf");
    let text = format!(
        "dir {}\nlogfile {}\nsave \"\"\nreplicaof 127.0.0.1 1\nmasterauth secret\nactiverehashing yes\n",
        dir.display(),
        dir.join("replica.log").display()
    );
    std::fs::write(&conf, text).unwrap();
    let (child, port) = spawn(&[conf.to_str().unwrap(), "--port", "0"]);
    let mut con = conn(port);
    let info: String = redis::cmd("INFO").arg("replication").query(&mut con).unwrap();
    assert!(info.contains("role:slave") && info.contains("master_port:1"), "{info}");
    let log = std::fs::read_to_string(dir.join("replica.log")).expect("the log file");
    let line = log.lines().find(|l| l.contains("options accepted with no effect")).expect("the notice");
    assert!(line.contains("activerehashing"), "{line}");
    for acting in ["replicaof", "masterauth"] {
        assert!(!line.contains(acting), "{acting} acts: {line}");
    }
    shutdown(&mut con);
    assert_eq!(wait_exit(child), Some(0));
}
