//! An idle keep-alive connection holds little memory, whatever its last
//! requests needed. (Its own file: the test measures the process's
//! resident memory, which tests running beside it would change.)

mod common;
use common::*;
use std::io::{Read, Write};

/// Resident memory of this process, in KiB.
fn rss_kib() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Reads exactly `n` bytes off `s` into a small buffer, keeping none.
fn drain(s: &mut std::net::TcpStream, mut n: usize) {
    let mut chunk = [0u8; 16384];
    while n > 0 {
        let got = s.read(&mut chunk[..n.min(16384)]).unwrap();
        assert!(got > 0, "closed with {n} bytes to go");
        n -= got;
    }
}

/// Each of 100 connections sends a 20 kB head and 300 pipelined HEADs,
/// then stays open and idle. A connection used to keep the input buffer
/// its largest head grew, and the output buffer its largest batch of
/// answers grew, for as long as it lived: about 100 KiB per idle
/// connection (10,240 of them: 1 GB), where nginx keeps under 1 KiB. Now
/// both go back to their small starting size when the connection goes
/// idle, so the next connection reuses the same memory.
#[test]
fn idle_keepalive_connections_give_back_their_large_buffers() {
    let s = Server::start(|_| {});
    let mut head = b"GET /a.txt HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..3 {
        head.extend_from_slice(format!("X-Pad-{i}: {}\r\n", "p".repeat(6000)).as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    let one_head = b"HEAD /1k.bin HTTP/1.1\r\nHost: x\r\n\r\n";
    // The length of one GET /a.txt answer and of one HEAD answer (the Date
    // has a fixed width, so every answer to the same request is as long).
    let mut probe = Reader::new(s.connect());
    probe.send(&head);
    let get_len = answer_len(&mut probe, false);
    probe.send(one_head);
    let head_len = answer_len(&mut probe, true);
    let mut wire = head.clone();
    for _ in 0..300 {
        wire.extend_from_slice(one_head);
    }
    let mut burst = |c: &mut std::net::TcpStream| {
        c.write_all(&wire).unwrap();
        drain(c, get_len + 300 * head_len);
    };
    // Warm up the allocator with a few, then measure 100 more.
    let mut open: Vec<std::net::TcpStream> = (0..5).map(|_| s.connect()).collect();
    open.iter_mut().for_each(&mut burst);
    let before = rss_kib();
    for _ in 0..100 {
        let mut c = s.connect();
        burst(&mut c);
        open.push(c);
    }
    let grown = rss_kib().saturating_sub(before);
    assert!(grown < 4096, "100 idle connections grew the process by {grown} KiB");
    // Still usable afterwards.
    let c = open.last_mut().unwrap();
    burst(c);
}

/// Reads one answer off `r` and returns its length on the wire.
fn answer_len(r: &mut Reader, head: bool) -> usize {
    let resp = r.response(head).unwrap();
    assert_eq!(resp.status, 200);
    let head_bytes: usize = resp.headers.iter().map(|(n, v)| n.len() + 2 + v.len() + 2).sum::<usize>()
        + "HTTP/1.1 200 OK\r\n\r\n".len();
    head_bytes + resp.body.len()
}
