//! How a connection the server decides to close ends: after the whole
//! answer, with a FIN the client reads as the end, never with a reset.
//!
//! Closing a socket with bytes from the client still unread makes the
//! kernel send RST instead of FIN and drop what of the response has not
//! left yet, and the client's next write fails; so when the client may
//! still be sending, the server closes by lingering as nginx does.

mod common;
use common::*;
use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::time::Duration;

/// Reads to the end of the stream: `Ok(bytes)` on a FIN, `Err` (with what
/// arrived) on a reset or a timeout.
fn read_to_end(s: &mut std::net::TcpStream) -> Result<Vec<u8>, (Vec<u8>, ErrorKind)> {
    let mut got = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => return Ok(got),
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e) => return Err((got, e.kind())),
        }
    }
}

/// A client such as Python's `http.client` writes the whole body before
/// it reads: a GET with `Connection: close` and a body gets its 200 at
/// once, and the body must still be taken (and dropped), not answered
/// with a reset that fails the client's writes (it did: broken pipe after
/// the first 64 KiB; nginx reads the body).
#[test]
fn a_body_still_arriving_after_a_closing_response_is_read_not_reset() {
    let s = Server::start(|c| c.timeouts.lingering = Duration::from_secs(2));
    let body = vec![b'b'; 512 << 10];
    let mut c = Reader::new(s.connect());
    c.send(
        format!(
            "GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    let r = c.response(false).unwrap();
    assert_eq!((r.status, r.header("connection")), (200, Some("close")));
    // The server has answered (and, before the fix, closed): the body
    // goes now, a piece at a time, each write waiting for the server.
    for (i, piece) in body.chunks(16 << 10).enumerate() {
        if let Err(e) = c.stream.write_all(piece) {
            panic!("write {i} of the body failed: {e}");
        }
    }
    c.stream.shutdown(Shutdown::Write).unwrap();
    let rest = read_to_end(&mut c.stream);
    assert_eq!(rest, Ok(Vec::new()), "a FIN after the response, nothing else");
    assert_eq!(get(&s, "/a.txt").status, 200);
}

/// The server's own close (the last request `keepalive_requests` allows)
/// while the client, as pipelining allows, has sent its next request:
/// that request is unread when the response ends, and closing then reset
/// the connection, losing the end of a large response still in the
/// kernel's send queue (nginx lingers when the read side has data).
#[test]
fn a_request_pipelined_past_the_last_allowed_one_does_not_reset_the_response() {
    let s = Server::start(|c| {
        c.limits.keepalive_requests = 1;
        c.timeouts.lingering = Duration::from_secs(2);
    });
    let big: Vec<u8> = (0..(2u32 << 20)).map(|i| (i % 251) as u8).collect();
    std::fs::write(s.root.join("big.bin"), &big).unwrap();
    let mut c = s.connect();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    // The head arrives first; the body cannot all be sent until we read,
    // so the next request reaches the server while it is still sending.
    let mut first = [0u8; 1];
    c.read_exact(&mut first).unwrap();
    c.write_all(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut got = first.to_vec();
    match read_to_end(&mut c) {
        Ok(rest) => got.extend_from_slice(&rest),
        Err((rest, kind)) => {
            panic!("{kind:?} after {} bytes of the response", got.len() + rest.len())
        }
    }
    let end = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = String::from_utf8_lossy(&got[..end]);
    assert!(head.starts_with("HTTP/1.1 200") && head.contains("Connection: close"), "{head}");
    assert!(got[end..] == big[..], "the body arrived whole ({} of {} bytes)", got.len() - end, big.len());
}
