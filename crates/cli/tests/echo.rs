//! `spindle echo` end to end: the real binary on an ephemeral port, real
//! clients, every backend.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(10);

struct Server {
    child: Child,
    addr: String,
    banner: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        // After `wait_exit` reaped it, `try_wait` fails (ECHILD) and nothing
        // is killed: a reaped pid may already belong to another process.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn start(poller: &str) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(["echo", "--listen", "127.0.0.1:0", "--poller", poller])
        .env_remove("SPINDLE_POLLER")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn spindle");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let banner = rx.recv_timeout(LIMIT).expect("server printed its address in time");
    let addr = banner
        .split("listening on ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected banner {banner:?}"))
        .to_string();
    Server { child, addr, banner }
}

/// Waits for the server to exit, bounded: the wait happens on a helper
/// thread and the answer comes back over a channel with a timeout.
fn wait_exit(server: &mut Server) -> std::process::ExitStatus {
    let pid = server.child.id() as i32;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut status = 0;
        // SAFETY: waitpid writes one int through a pointer to a live local.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        let _ = tx.send((r, status));
    });
    let (r, status) = rx.recv_timeout(LIMIT).expect("server exited in time");
    assert_eq!(r, pid, "waitpid reaped the server");
    std::os::unix::process::ExitStatusExt::from_raw(status)
}

fn round_trips(addr: &str, conns: usize, rounds: usize) {
    let mut streams: Vec<TcpStream> = (0..conns)
        .map(|_| {
            let s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(LIMIT)).unwrap();
            s
        })
        .collect();
    for round in 0..rounds {
        for (i, s) in streams.iter_mut().enumerate() {
            let msg = format!("conn {i} round {round}\n");
            s.write_all(msg.as_bytes()).unwrap();
            let mut back = vec![0; msg.len()];
            s.read_exact(&mut back).unwrap();
            assert_eq!(back, msg.as_bytes());
        }
    }
}

#[test]
fn echoes_on_every_backend_and_names_it() {
    for poller in ["epoll", "poll", "select"] {
        let mut server = start(poller);
        assert!(server.banner.contains(&format!("(poller: {poller})")), "{}", server.banner);
        round_trips(&server.addr, 20, 5);
        // SIGTERM stops it cleanly.
        // SAFETY: kill takes a pid and a signal number; no memory is involved.
        unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };
        assert!(wait_exit(&mut server).success(), "{poller}: clean exit on SIGTERM");
    }
}

#[test]
fn large_messages_come_back_whole() {
    let server = start("epoll");
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    let data: Vec<u8> = (0..4 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let mut reader = s.try_clone().unwrap();
    let expect = data.clone();
    let t = std::thread::spawn(move || {
        let mut back = vec![0; expect.len()];
        reader.read_exact(&mut back).unwrap();
        back == expect
    });
    s.write_all(&data).unwrap();
    assert!(t.join().unwrap(), "4 MiB echoed intact");
}

#[test]
fn a_client_that_vanishes_does_not_disturb_others() {
    let server = start("epoll");
    let mut rude = TcpStream::connect(&server.addr).unwrap();
    rude.write_all(&[7u8; 100_000]).unwrap();
    drop(rude); // closes with unread echo data: the server sees a reset
    round_trips(&server.addr, 5, 3);
}

#[test]
fn unknown_poller_is_a_clear_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(["echo", "--poller", "kqueue"])
        .output()
        .expect("run spindle");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("kqueue") && err.contains("epoll, poll or select"), "{err}");
}
