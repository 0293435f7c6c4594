//! A peer that shuts down: its last bytes and its FIN arrive together, and
//! on an edge-triggered socket the event that reports the bytes is the
//! only one the server gets (`server::edge`). The server must still see
//! the end of the stream: answer what was complete, then close, and never
//! keep a half-closed connection, and its client slot, forever.

mod common;
use common::*;
use std::net::Shutdown;

/// `connected_clients` from INFO, as `c` sees it (itself included).
fn connected_clients(c: &mut redis::Connection) -> usize {
    let info: String = q(c, &["INFO", "clients"]);
    let line = info.lines().find_map(|l| l.strip_prefix("connected_clients:")).expect("connected_clients");
    line.trim().parse().expect("a number")
}

#[test]
fn a_command_then_shutdown_gets_its_reply_and_then_the_end() {
    let srv = start();
    let mut raw = Raw::connect(&srv);
    raw.send(b"PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n");
    raw.stream.shutdown(Shutdown::Write).expect("shutdown");
    // Times out (and fails) if the server never closes its side.
    assert_eq!(raw.read_to_close(), b"+PONG\r\n$2\r\nhi\r\n");
}

#[test]
fn a_pipeline_longer_than_one_read_then_shutdown_is_answered_in_full() {
    let srv = start();
    let mut raw = Raw::connect(&srv);
    let n = 3000; // about 90 KB of requests: several 16 KiB reads
    let mut sent = Vec::new();
    let mut expected = Vec::new();
    for i in 1..=n {
        sent.extend_from_slice(&req(&["INCR", "counter"]));
        expected.extend_from_slice(format!(":{i}\r\n").as_bytes());
    }
    raw.send(&sent);
    raw.stream.shutdown(Shutdown::Write).expect("shutdown");
    assert_eq!(String::from_utf8_lossy(&raw.read_to_close()), String::from_utf8_lossy(&expected));
    let mut c = conn(&srv);
    assert_eq!(q::<i64>(&mut c, &["GET", "counter"]), n);
}

/// Clients that leave in the middle of a command (half a request, or bytes
/// that are not a request at all) must be closed, whatever the poller mode.
fn clients_gone_mid_command_are_closed(io_threads: usize) {
    let srv = start_with(|cfg| cfg.io_threads = io_threads);
    let mut c = conn(&srv);
    let partial: [&[u8]; 4] = [
        b"*2\r\n$3\r\nGET\r\n$10\r\nabc",
        b"*3\r\n$3\r\nSET\r\n",
        b"SET key val", // an inline command without its newline
        b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPI",
    ];
    for round in 0..10 {
        for bytes in partial {
            let mut raw = Raw::connect(&srv);
            raw.send(bytes);
            if round % 2 == 0 {
                raw.stream.shutdown(Shutdown::Write).expect("shutdown");
            }
            drop(raw);
        }
    }
    wait_until("every half-sent client to be closed", || connected_clients(&mut c) == 1);
}

#[test]
fn clients_gone_mid_command_are_closed_edge_triggered() {
    clients_gone_mid_command_are_closed(1);
}

#[test]
fn clients_gone_mid_command_are_closed_with_io_threads() {
    clients_gone_mid_command_are_closed(2);
}
