//! The descriptor limit and `maxclients`, as Redis arranges them: a real
//! server process started under a low `ulimit -n` raises the soft limit
//! when the hard one allows, lowers `maxclients` to fit when it does not
//! (so the client over the limit gets Redis's error rather than hanging in
//! the kernel's queue), and refuses to start when no descriptor would be
//! left for a client.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(10);

/// Runs the server binary under `ulimit` settings (`sh` syntax, e.g.
/// `-S -n 64`), on a free port; returns it and its port, or its stderr if
/// it exited instead.
fn spawn_limited(limits: &[&str]) -> Result<(Child, u16), String> {
    let dir = common::named_dir(&format!("fdlimit-{}", limits.len()));
    let script = limits.iter().map(|l| format!("ulimit {l} && ")).collect::<String>() + "exec \"$0\" \"$@\"";
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_spindle-kv-server"))
        .args(["--port", "0", "--save", "", "--dir"])
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sh");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("read the port");
    match line.trim().strip_prefix("port ").and_then(|p| p.parse().ok()) {
        Some(port) => Ok((child, port)),
        None => {
            let mut err = String::new();
            child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            let _ = child.wait();
            Err(err)
        }
    }
}

/// Sends one inline command and returns the first reply line (and, for a
/// bulk reply, its body).
fn ask(s: &mut TcpStream, cmd: &str) -> String {
    s.write_all(format!("{cmd}\r\n").as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some(len) = text.strip_prefix('$').and_then(|t| t.split("\r\n").next()?.parse::<usize>().ok())
        {
            let head = text.find("\r\n").unwrap() + 2;
            if got.len() >= head + len + 2 {
                return text;
            }
        } else if text.ends_with("\r\n") {
            return text;
        }
    }
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    s
}

fn maxclients(s: &mut TcpStream) -> usize {
    let info = ask(s, "INFO clients");
    let line = info.lines().find_map(|l| l.strip_prefix("maxclients:")).expect("maxclients in INFO");
    line.trim().parse().unwrap()
}

#[test]
fn a_low_hard_limit_lowers_maxclients_and_the_extra_client_hears_why() {
    // 64 descriptors, 32 kept back: room for 32 clients.
    let (mut child, port) = spawn_limited(&["-S -n 64", "-H -n 64"]).expect("the server starts");
    let mut first = connect(port);
    assert_eq!(maxclients(&mut first), 32);
    let mut clients = vec![first];
    for _ in 1..32 {
        let mut c = connect(port);
        assert_eq!(ask(&mut c, "PING"), "+PONG\r\n");
        clients.push(c);
    }
    let mut extra = connect(port);
    let refused = ask(&mut extra, "PING");
    assert_eq!(refused, "-ERR max number of clients reached\r\n");
    // Everyone else carries on, and CONFIG SET cannot go past the limit.
    let reply = ask(&mut clients[0], "CONFIG SET maxclients 100");
    assert!(
        reply.contains(
            "The operating system is not able to handle the specified number of clients, try with 32"
        ),
        "{reply}"
    );
    assert_eq!(ask(&mut clients[31], "PING"), "+PONG\r\n");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_low_soft_limit_is_raised_for_maxclients() {
    let hard = spindle_poll::limits::nofile().unwrap().hard;
    if hard < 10_032 {
        eprintln!(
            "skipped: the hard descriptor limit here is {hard}, below the 10032 the default maxclients needs"
        );
        return;
    }
    let (mut child, port) = spawn_limited(&["-S -n 64"]).expect("the server starts");
    let mut c = connect(port);
    assert_eq!(maxclients(&mut c), 10_000);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    let open = limits.lines().find(|l| l.starts_with("Max open files")).unwrap();
    let soft: u64 = open.split_whitespace().nth(3).unwrap().parse().unwrap();
    assert_eq!(soft, 10_032, "{open}");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn no_descriptor_left_for_a_client_refuses_to_start() {
    let err = spawn_limited(&["-S -n 32", "-H -n 32"]).map(|_| ()).expect_err("it must not start");
    assert!(err.contains("Your current 'ulimit -n' of 32 is not enough"), "{err}");
}
