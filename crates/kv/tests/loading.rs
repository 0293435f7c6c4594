//! Serving clients while the dataset loads at start-up, as Redis does:
//! every `loading-process-events-interval-bytes` of an RDB file (and every
//! 1024 commands of an AOF) the loader runs the event loop once without
//! blocking. A client gets `-LOADING` for commands Redis does not flag
//! `loading`, INFO says how far the load got, clients that leave are
//! freed, and a stop signal stops the server without saving.
//!
//! Each test makes a load slow with `key-load-delay` (microseconds per
//! key), then, once it has checked what it wanted, sets it back to 0 over
//! the same connection (the option may change while loading), so the load
//! ends by itself without any test waiting on a clock.

mod common;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Bounds every wait.
const TIMEOUT: Duration = Duration::from_secs(20);

/// The server binary on a free port, data in a test directory.
type Server = common::process::ServerProcess;

/// Starts the binary in `dir` with `args`; returns once it has said which
/// port it listens on, which it does before it loads.
fn start(dir: &Path, args: &[&str]) -> Server {
    let dir = dir.to_str().unwrap();
    let all = [&["--port", "0", "--enable-debug-command", "local"][..], args, &["--dir", dir]].concat();
    Server::start(&all)
}

/// A connection to `srv`.
fn raw(srv: &Server) -> Raw {
    let s = TcpStream::connect(("127.0.0.1", srv.port)).expect("connect");
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    Raw { r: BufReader::new(s.try_clone().unwrap()), w: s }
}

/// A RESP connection read line by line, every read bounded.
struct Raw {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Raw {
    /// Sends one command and reads its reply (see [`Raw::reply`]).
    fn cmd(&mut self, args: &[&str]) -> String {
        self.w.write_all(&common::req(args)).unwrap();
        self.reply()
    }

    /// Reads a reply: a status or error line as is, a bulk string's
    /// contents, an integer's digits, an array's elements one a line.
    fn reply(&mut self) -> String {
        let mut line = String::new();
        self.r.read_line(&mut line).expect("a reply in time");
        let line = line.trim_end().to_string();
        match line.as_bytes().first() {
            Some(b'$') => {
                let n: i64 = line[1..].parse().unwrap();
                if n < 0 {
                    return String::new();
                }
                let mut buf = vec![0; n as usize + 2];
                self.r.read_exact(&mut buf).expect("the bulk in time");
                String::from_utf8_lossy(&buf[..n as usize]).into_owned()
            }
            Some(b'*') => {
                let n: usize = line[1..].parse().unwrap_or(0);
                (0..n).map(|_| self.reply()).collect::<Vec<_>>().join("\n")
            }
            Some(b':') => line[1..].to_string(),
            _ => line,
        }
    }

    /// An INFO field.
    fn info(&mut self, field: &str) -> Option<String> {
        let info = self.cmd(&["INFO"]);
        let tag = format!("{field}:");
        info.lines().find_map(|l| l.strip_prefix(&tag)).map(str::to_string)
    }
}

/// Writes `dir/dump.rdb` with `keys` keys of 1000 bytes (uncompressed, so
/// the file is about `keys` KB).
fn make_rdb(dir: &Path, keys: usize) {
    let srv = common::start_with(|c| {
        c.dir = dir.to_path_buf();
        c.rdbcompression = false;
    });
    let mut c = common::conn(&srv);
    let _: () = common::q(&mut c, &["DEBUG", "POPULATE", &keys.to_string(), "key", "1000"]);
    let _: () = common::q(&mut c, &["SAVE"]);
    srv.stop().unwrap();
}

/// A server loading `keys` keys from `dir/dump.rdb` at `delay` µs a key,
/// serving clients after every KB read.
fn slow_rdb_load(dir: &Path, keys: usize, delay: u32) -> Server {
    make_rdb(dir, keys);
    let delay = delay.to_string();
    start(dir, &["--key-load-delay", &delay, "--loading-process-events-interval-bytes", "1024", "--save", ""])
}

/// Lets a slowed load finish, bounded.
fn finish_load(c: &mut Raw) {
    assert_eq!(c.cmd(&["CONFIG", "SET", "key-load-delay", "0"]), "+OK");
    let deadline = Instant::now() + TIMEOUT;
    while c.info("loading").as_deref() != Some("0") {
        assert!(Instant::now() < deadline, "the load did not finish");
        std::thread::sleep(std::time::Duration::from_millis(1)); // pace the polls
    }
}

#[test]
fn a_client_is_served_while_the_rdb_loads() {
    let dir = common::fresh_dir();
    // 2000 keys at 10 ms: 20 s unless the test speeds it up.
    let srv = slow_rdb_load(&dir, 2000, 10_000);
    let mut c = raw(&srv);
    assert_eq!(c.cmd(&["GET", "key:1"]), "-LOADING Redis is loading the dataset in memory");
    assert_eq!(c.cmd(&["PING"]), "-LOADING Redis is loading the dataset in memory");
    assert_eq!(c.cmd(&["SELECT", "0"]), "+OK");
    let info = c.cmd(&["INFO", "persistence"]);
    let field = |name: &str| -> u64 {
        let tag = format!("{name}:");
        let v = info.lines().find_map(|l| l.strip_prefix(&tag)).unwrap_or_else(|| panic!("{name} in {info}"));
        v.split('.').next().unwrap().parse().unwrap()
    };
    assert_eq!(field("loading"), 1);
    assert_eq!(field("async_loading"), 0);
    let total = std::fs::metadata(dir.join("dump.rdb")).unwrap().len();
    assert_eq!(field("loading_total_bytes"), total);
    assert!(field("loading_loaded_bytes") < total);
    assert!(field("loading_loaded_perc") < 100);
    assert!(field("loading_rdb_used_mem") > 0);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(field("loading_start_time").abs_diff(now) < 60);
    field("loading_eta_seconds");
    // A transaction of a refused command is refused as a whole.
    assert_eq!(c.cmd(&["MULTI"]), "+OK");
    assert_eq!(c.cmd(&["GET", "key:1"]), "-LOADING Redis is loading the dataset in memory");
    assert!(c.cmd(&["EXEC"]).starts_with("-EXECABORT"));

    finish_load(&mut c);
    assert_eq!(c.cmd(&["DBSIZE"]), "2000");
    assert!(c.cmd(&["GET", "key:1999"]).starts_with("value:1999"));
    assert_eq!(c.info("rdb_last_load_keys_loaded").as_deref(), Some("2000"));
    assert_eq!(c.info("loading_total_bytes"), None);
}

#[test]
fn clients_that_leave_during_loading_are_freed() {
    let dir = common::fresh_dir();
    let srv = slow_rdb_load(&dir, 2000, 10_000);
    let mut c = raw(&srv);
    assert_eq!(c.info("loading").as_deref(), Some("1"));
    let mut others: Vec<Raw> = (0..5).map(|_| raw(&srv)).collect();
    for o in &mut others {
        assert_eq!(o.cmd(&["DEBUG", "LOG", "bla"]), "+OK");
    }
    assert_eq!(c.info("connected_clients").as_deref(), Some("6"));
    drop(others);
    let deadline = Instant::now() + TIMEOUT;
    while c.info("connected_clients").as_deref() != Some("1") {
        assert!(Instant::now() < deadline, "the clients were not freed");
        std::thread::sleep(std::time::Duration::from_millis(1)); // pace the polls
    }
    assert_eq!(c.info("loading").as_deref(), Some("1"));
    finish_load(&mut c);
}

#[test]
fn config_set_during_loading_refuses_only_deny_loading_options() {
    let dir = common::fresh_dir();
    let srv = slow_rdb_load(&dir, 2000, 10_000);
    let mut c = raw(&srv);
    assert_eq!(c.cmd(&["CONFIG", "SET", "loglevel", "debug"]), "+OK");
    assert_eq!(c.cmd(&["CONFIG", "GET", "loglevel"]), "loglevel\ndebug");
    let loading = "-LOADING Redis is loading the dataset in memory";
    // Ahead of any other error in the same call, as in Redis.
    assert_eq!(c.cmd(&["CONFIG", "SET", "appendonly", "yes"]), loading);
    assert_eq!(c.cmd(&["CONFIG", "SET", "no-such-option", "1", "appendonly", "yes"]), loading);
    assert_eq!(c.info("loading").as_deref(), Some("1"));
    finish_load(&mut c);
    assert_eq!(c.info("aof_enabled").as_deref(), Some("0"));
}

#[test]
fn sigterm_during_loading_stops_without_saving() {
    let dir = common::fresh_dir();
    make_rdb(&dir, 2000);
    let saved = std::fs::read(dir.join("dump.rdb")).unwrap();
    // 2000 keys at 100 ms: minutes, unless the signal is handled at once.
    // With a save point, which a shutdown would otherwise honour.
    let mut srv = start(
        &dir,
        &["--key-load-delay", "100000", "--loading-process-events-interval-bytes", "1024", "--save", "1 1"],
    );
    let mut c = raw(&srv);
    assert_eq!(c.info("loading").as_deref(), Some("1"));
    let started = Instant::now();
    let killed = Command::new("kill").args(["-TERM", &srv.child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    assert_eq!(srv.exit_code(), Some(0));
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    // The half-loaded data was not saved over the snapshot.
    assert_eq!(std::fs::read(dir.join("dump.rdb")).unwrap(), saved);
}

#[test]
fn clients_are_served_while_the_aof_loads() {
    let dir = common::fresh_dir();
    {
        let srv = common::start_with(|c| {
            c.dir = dir.clone();
            c.appendonly = true;
        });
        let mut c = common::conn(&srv);
        let mut pipe = redis::pipe();
        for i in 0..5000 {
            pipe.cmd("SET").arg(format!("k{i}")).arg(i).ignore();
        }
        let _: () = pipe.query(&mut c).unwrap();
        srv.stop().unwrap();
    }
    // 5000 commands at 2 ms, served every 1024 commands.
    let srv = start(&dir, &["--appendonly", "yes", "--key-load-delay", "2000", "--save", ""]);
    let mut c = raw(&srv);
    assert_eq!(c.cmd(&["GET", "k1"]), "-LOADING Redis is loading the dataset in memory");
    assert_eq!(c.info("loading").as_deref(), Some("1"));
    assert!(c.info("loading_total_bytes").is_some_and(|n| n.parse::<u64>().unwrap() > 0));
    finish_load(&mut c);
    assert_eq!(c.cmd(&["DBSIZE"]), "5000");
    assert_eq!(c.cmd(&["GET", "k4999"]), "4999");
}

#[test]
fn a_failed_load_is_the_last_line_of_the_log() {
    // Redis's suite reads the reason with `tail -1`; the listeners (here
    // the unix socket, whose removal is logged) close before it is logged.
    let dir = common::fresh_dir();
    let aof = dir.join("appendonlydir");
    std::fs::create_dir_all(&aof).unwrap();
    std::fs::write(aof.join("appendonly.aof.manifest"), "file appendonly.aof.1.base.aof seq 1 type b\n")
        .unwrap();
    std::fs::write(aof.join("appendonly.aof.1.base.aof"), "*1\r\n$4\r\nPING\r\n!!!").unwrap();
    let log = dir.join("log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_spindle-kv-server"))
        .args(["--port", "0", "--appendonly", "yes", "--unixsocket"])
        .arg(dir.join("s.sock"))
        .arg("--logfile")
        .arg(&log)
        .arg("--dir")
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the server");
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(std::time::Duration::from_millis(1)); // pace the polls
    };
    assert_eq!(status.code(), Some(1));
    let text = std::fs::read_to_string(&log).unwrap();
    let last = text.lines().last().unwrap_or_default();
    assert!(last.contains("Bad file format reading the append only file"), "{text}");
}
