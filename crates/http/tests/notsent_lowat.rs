//! `notsent_lowat`: every accepted connection carries the configured
//! `TCP_NOTSENT_LOWAT`, 0 leaves the kernel's default, and a large body
//! still reaches a client that reads it in small pieces, byte for byte.
//! One test in its own process, so that no other test's sockets are among
//! the descriptors it looks at.

mod common;
use common::*;
use std::io::{Read, Write};

/// The descriptors of this process whose `TCP_NOTSENT_LOWAT` is `value`.
fn sockets_with_lowat(value: u32) -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&fd| spindle_http::sys::notsent_lowat(fd).ok() == Some(value))
        .count()
}

/// Fetches `/big.bin` reading 1 KiB at a time, and checks every byte.
fn slow_read_of_big_file(s: &Server, want: &[u8]) -> std::net::TcpStream {
    let mut c = s.connect();
    c.write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let body_at = loop {
        let n = c.read(&mut buf).unwrap();
        assert!(n > 0, "closed before the head ended");
        got.extend_from_slice(&buf[..n]);
        if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&got[..body_at]).to_string();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains(&format!("Content-Length: {}", want.len())), "{head}");
    while got.len() - body_at < want.len() {
        let n = c.read(&mut buf).unwrap();
        assert!(n > 0, "closed after {} of {} body bytes", got.len() - body_at, want.len());
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got.len() - body_at, want.len(), "more bytes than the body");
    assert!(got[body_at..] == *want, "the body differs from the file");
    c
}

#[test]
fn connections_carry_notsent_lowat_and_large_bodies_arrive_whole() {
    let big: Vec<u8> = (0..8u32 << 20).map(|i| (i * 7 + i / 4096) as u8).collect();

    let s = Server::start(|c| c.notsent_lowat = 12_345);
    std::fs::write(s.root.join("big.bin"), &big).unwrap();
    let before = sockets_with_lowat(12_345);
    let c = slow_read_of_big_file(&s, &big);
    // The connection is still open (keep-alive): its server side is the
    // one new socket with the mark.
    assert_eq!(sockets_with_lowat(12_345), before + 1);
    drop(c);
    drop(s);
    let closed = wait_until(std::time::Duration::from_secs(5), || sockets_with_lowat(12_345) == before);
    assert!(closed, "the stopped server's socket is still open");

    let s = Server::start(|c| c.notsent_lowat = 0);
    std::fs::write(s.root.join("big.bin"), &big).unwrap();
    let c = slow_read_of_big_file(&s, &big);
    assert_eq!(sockets_with_lowat(12_345), before, "0 must leave the kernel's default");
    drop(c);
}
