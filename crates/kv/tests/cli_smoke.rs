//! The real `redis-cli` (Debian's redis-tools) against this server.

mod common;

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Every redis-cli run is killed if it takes longer than this.
const RUN_LIMIT: Duration = Duration::from_secs(20);

fn have(prog: &str) -> bool {
    Command::new(prog).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
}

/// Runs `prog args`, feeding `stdin`; returns (success, stdout, stderr).
/// The child is killed if it outlives [`RUN_LIMIT`].
fn run(prog: &str, args: &[&str], stdin: &[u8]) -> (bool, String, String) {
    let mut child = Command::new(prog)
        .args(args)
        // linenoise on a "dumb" terminal reads plain lines instead of
        // querying the cursor position (which nobody would answer).
        .env("TERM", "dumb")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {prog} ({e}): install Debian's redis-tools package"));
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let ereader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let deadline = Instant::now() + RUN_LIMIT;
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{prog} {args:?} did not finish within {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    writer.join().unwrap();
    let out = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    let err = String::from_utf8_lossy(&ereader.join().unwrap()).into_owned();
    (status.success(), out, err)
}

fn cli(port: &str, args: &[&str], stdin: &[u8]) -> String {
    assert!(have("redis-cli"), "redis-cli is not installed: install Debian's redis-tools package (CI does)");
    let mut all = vec!["-h", "127.0.0.1", "-p", port];
    all.extend_from_slice(args);
    let (ok, out, err) = run("redis-cli", &all, stdin);
    assert!(ok, "redis-cli {args:?} failed: {out}{err}");
    out
}

#[test]
fn ping_set_get() {
    let srv = common::start();
    let port = srv.addr().port().to_string();
    assert_eq!(cli(&port, &["PING"], b""), "PONG\n");
    assert_eq!(cli(&port, &["SET", "greeting", "hello world"], b""), "OK\n");
    assert_eq!(cli(&port, &["GET", "greeting"], b""), "hello world\n");
    assert_eq!(cli(&port, &["--raw", "GET", "nokey"], b""), "\n");
}

#[test]
fn raw_info_server() {
    let srv = common::start();
    let port = srv.addr().port().to_string();
    let out = cli(&port, &["--raw", "INFO", "server"], b"");
    assert!(out.starts_with("# Server\r\n"), "{out}");
    assert!(out.contains("redis_version:7.0.15\r\n"), "{out}");
    assert!(out.contains(&format!("tcp_port:{port}\r\n")), "{out}");
}

#[test]
fn pipe_mode() {
    let srv = common::start();
    let port = srv.addr().port().to_string();
    let mut input = Vec::new();
    for i in 0..50 {
        let (k, v) = (format!("key:{i}"), format!("value-{i}"));
        input.extend_from_slice(
            format!("*3\r\n$3\r\nSET\r\n${}\r\n{k}\r\n${}\r\n{v}\r\n", k.len(), v.len()).as_bytes(),
        );
    }
    let out = cli(&port, &["--pipe"], &input);
    assert!(out.contains("errors: 0, replies: 50"), "{out}");
    assert_eq!(cli(&port, &["DBSIZE"], b""), "50\n");
    assert_eq!(cli(&port, &["GET", "key:49"], b""), "value-49\n");
}

#[test]
fn commands_from_stdin() {
    let srv = common::start();
    let port = srv.addr().port().to_string();
    let out = cli(
        &port,
        &[],
        b"SET a 1\nINCR a\nGET a\nCLIENT SETNAME cli\nCLIENT GETNAME\nCONFIG GET hz\nNOSUCH x\n",
    );
    assert_eq!(
        out,
        "OK\n2\n2\nOK\ncli\nhz\n10\nERR unknown command 'NOSUCH', with args beginning with: 'x' \n\n"
    );
}

/// redis-cli in its interactive mode (on a pseudo-terminal, through
/// util-linux's `script`) asks for COMMAND DOCS at start-up; it must start,
/// run commands and exit cleanly.
#[test]
fn interactive_session_on_a_terminal() {
    let srv = common::start();
    let port = srv.addr().port().to_string();
    if !have("script") {
        eprintln!("skipping the pseudo-terminal run: util-linux's `script` is not installed");
        return;
    }
    let inner = format!("redis-cli -h 127.0.0.1 -p {port}");
    let (ok, out, err) = run("script", &["-qec", &inner, "/dev/null"], b"SET k v\nGET k\nHELP GET\nQUIT\n");
    assert!(ok, "interactive redis-cli failed: {out}{err}");
    assert!(out.contains("OK") && out.contains("\"v\""), "{out}");
    // HELP GET shows what COMMAND DOCS told redis-cli at start-up.
    assert!(out.contains("summary:"), "{out}");
    let mut con = common::conn(&srv);
    let v: String = redis::cmd("GET").arg("k").query(&mut con).unwrap();
    assert_eq!(v, "v");
}
