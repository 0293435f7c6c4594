//! nginx's timeouts: header (slowloris), keep-alive, send.

mod common;
use common::*;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

fn active(s: &Server) -> i64 {
    let t = get(s, "/nginx_status").text();
    t.split_whitespace().nth(2).unwrap().parse().unwrap()
}

#[test]
fn header_timeout_closes_a_trickling_client_while_others_are_served() {
    let s = Server::start(|c| {
        c.timeouts.header = Duration::from_millis(300);
        c.status = Some("/nginx_status".into());
    });
    let mut slow = s.connect();
    slow.write_all(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n").unwrap();
    let started = Instant::now();
    let mut writer = slow.try_clone().unwrap();
    // The slowloris: one header byte every 20 ms, for up to 3 s.
    let trickler = std::thread::spawn(move || {
        let end = Instant::now() + Duration::from_secs(3);
        while Instant::now() < end {
            if writer.write_all(b"X").is_err() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    });
    for _ in 0..20 {
        assert_eq!(get(&s, "/a.txt").status, 200);
    }
    let mut buf = [0u8; 64];
    let n = match slow.read(&mut buf) {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => 0,
        Err(e) => panic!("the trickling client was not closed: {e}"),
    };
    let took = started.elapsed();
    assert_eq!(n, 0, "closed without a response");
    assert!(took >= Duration::from_millis(250) && took < Duration::from_secs(2), "closed after {took:?}");
    assert!(trickler.join().unwrap(), "writes fail once closed");
    assert!(wait_until(Duration::from_secs(3), || active(&s) == 1));
}

#[test]
fn keepalive_timeout_closes_idle_connections() {
    let s = Server::start(|c| c.timeouts.keepalive = Duration::from_millis(200));
    let mut c = Reader::new(s.connect());
    c.send(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(c.response(false).unwrap().status, 200);
    let t = Instant::now();
    assert!(c.closed());
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(150) && took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn send_timeout_closes_a_client_that_stops_reading() {
    let s = Server::start(|c| {
        c.timeouts.send = Duration::from_millis(200);
        c.status = Some("/nginx_status".into());
    });
    let size = 32 << 20;
    std::fs::write(s.root.join("huge.bin"), vec![7u8; size]).unwrap();
    let mut stalled = s.connect();
    stalled.write_all(b"GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    // The server fills the socket buffers, then waits for us; we never
    // read, and it must give up after the send timeout.
    assert!(wait_until(Duration::from_secs(5), || active(&s) == 1), "the stalled connection was not closed");
    let mut got = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match stalled.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(got < size, "the whole body was sent ({got} bytes)");
    // A reading client gets the whole file.
    let r = get(&s, "/huge.bin");
    assert_eq!(r.body.len(), size);
}

#[test]
fn a_fresh_connection_that_sends_nothing_gets_the_header_timeout() {
    let s = Server::start(|c| {
        c.timeouts.header = Duration::from_millis(200);
        c.timeouts.keepalive = Duration::from_secs(30);
    });
    let mut c = Reader::new(s.connect());
    let t = Instant::now();
    assert!(c.closed());
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}

/// On a fresh connection the header timeout runs from the accept, as in
/// nginx, not again from the first byte: a client that waits until just
/// before it expires and then trickles its head used to get a second full
/// header timeout, holding the connection twice as long.
#[test]
fn a_late_first_byte_does_not_restart_the_header_timeout() {
    let s = Server::start(|c| {
        c.timeouts.header = Duration::from_secs(2);
        c.timeouts.keepalive = Duration::from_secs(30);
    });
    let mut c = s.connect();
    let t = Instant::now();
    let mut writer = c.try_clone().unwrap();
    // Quiet for 1.5 s (the client's behaviour under test, not a wait for
    // the server), then a byte every 20 ms until the server closes.
    let trickler = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        let end = Instant::now() + Duration::from_secs(5);
        for &b in b"GET /a.txt HTTP/1.1\r\nX-Slow: ".iter().chain(std::iter::repeat(&b'x')) {
            if Instant::now() > end || writer.write_all(&[b]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let mut buf = [0u8; 64];
    let n = match c.read(&mut buf) {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => 0,
        Err(e) => panic!("the client was not closed: {e}"),
    };
    let took = t.elapsed();
    assert_eq!(n, 0, "closed without a response");
    assert!(took >= Duration::from_millis(1900) && took < Duration::from_secs(3), "closed after {took:?}");
    trickler.join().unwrap();
}
