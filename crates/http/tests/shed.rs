//! Out of descriptors (EMFILE): the server sheds and recovers. In a test
//! binary of its own, because it lowers this process's descriptor limit.

mod common;
use common::*;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn emfile_sheds_and_recovers() {
    let s = Server::start(|_| {});
    assert_eq!(get(&s, "/a.txt").status, 200);
    // Another process (started before the limit drops, so it keeps the
    // normal one) opens 40 connections on cue and holds them.
    let script = format!(
        "import socket,sys\nsys.stdin.readline()\ncs=[]\nfor i in range(40):\n    cs.append(socket.create_connection(('127.0.0.1',{})))\nprint('held',flush=True)\nsys.stdin.read()\n",
        s.addr.port()
    );
    let mut child = Kill(
        Command::new("python3")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs"),
    );
    // Room for a few more descriptors only.
    let limit = open_fds() + 8;
    let me = std::process::id().to_string();
    let ok = Command::new("prlimit").args(["--pid", &me, &format!("--nofile={limit}:{limit}")]).status();
    if !ok.is_ok_and(|s| s.success()) {
        eprintln!("prlimit unavailable: skipped");
        return;
    }
    child.0.stdin.as_mut().unwrap().write_all(b"go\n").unwrap();
    let mut line = String::new();
    BufReader::new(child.0.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "held");
    // The server has run out: every descriptor is taken, and the rest of
    // the 40 wait in the backlog while accept says EMFILE.
    let out_of_fds = || std::fs::read_dir("/proc/self").is_err_and(|e| e.raw_os_error() == Some(24));
    assert!(wait_until(Duration::from_secs(5), out_of_fds), "the server never ran out");
    // Let the holder go; the server must serve again.
    let _ = child.0.stdin.take().unwrap().write_all(b"");
    drop(child);
    assert!(
        wait_until(Duration::from_secs(5), || {
            std::net::TcpStream::connect(s.addr).is_ok_and(|mut c| {
                c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
                let _ = c.write_all(b"GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                let mut buf = String::new();
                let _ = std::io::Read::read_to_string(&mut c, &mut buf);
                buf.starts_with("HTTP/1.1 200")
            })
        }),
        "served again after the descriptors came back"
    );
}
