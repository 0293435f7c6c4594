//! Input larger than one read: the server reads 16 KiB (Redis's
//! `PROTO_IOBUF_LEN`) per client per turn, and watches clients
//! edge-triggered, so the bytes a read leaves behind must be read without
//! a new readiness event (`server::edge`). Each case sends more than one
//! read's worth in one write and waits, bounded, for the last reply.

mod common;
use common::*;
use std::io::{Read, Write};
use std::thread;

/// `n` INCRs of one key in one buffer, and the replies they must get.
fn incr_pipeline(n: usize) -> (Vec<u8>, Vec<u8>) {
    let one = req(&["INCR", "counter"]);
    let mut sent = Vec::with_capacity(one.len() * n);
    let mut expected = Vec::new();
    for i in 1..=n {
        sent.extend_from_slice(&one);
        expected.extend_from_slice(format!(":{i}\r\n").as_bytes());
    }
    (sent, expected)
}

/// Writes `bytes` on a second handle of the socket (so a reply that fills
/// the socket buffers cannot deadlock the test) and reads `reply_len`
/// bytes back, each read bounded by the common timeout.
fn send_and_read(raw: &Raw, bytes: Vec<u8>, reply_len: usize) -> Vec<u8> {
    let mut writer = raw.stream.try_clone().expect("clone the socket");
    let w = thread::spawn(move || writer.write_all(&bytes).expect("write the pipeline"));
    let mut got = vec![0; reply_len];
    let mut reader = &raw.stream;
    reader.read_exact(&mut got).expect("every reply arrives before the timeout");
    w.join().expect("writer");
    got
}

#[test]
fn a_pipeline_many_reads_long_sent_in_one_write_is_answered_to_the_end() {
    let srv = start();
    let raw = Raw::connect(&srv);
    // About 110 KiB of commands: loopback delivers them in one or two
    // segments, far fewer readiness events than 16 KiB reads.
    let (sent, expected) = incr_pipeline(5_000);
    let got = send_and_read(&raw, sent, expected.len());
    assert!(got == expected, "replies differ from the first INCR's on");
    let mut raw = raw;
    check(&mut raw, &["GET", "counter"], "$4\r\n5000\r\n");
}

#[test]
fn a_long_pipeline_streamed_while_the_server_replies_is_answered_to_the_end() {
    let srv = start();
    let raw = Raw::connect(&srv);
    // About 1.1 MiB of commands and 390 KiB of replies: the socket
    // buffers fill both ways while it runs.
    let (sent, expected) = incr_pipeline(50_000);
    let got = send_and_read(&raw, sent, expected.len());
    assert!(got == expected, "replies differ from the first INCR's on");
}

#[test]
fn a_value_of_several_mebibytes_in_one_write_is_stored_whole() {
    let srv = start();
    let mut raw = Raw::connect(&srv);
    let value: String = (0..3 * 1024 * 1024 + 17).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    let got = send_and_read(&raw, req(&["SET", "big", &value]), 5);
    assert_eq!(got, b"+OK\r\n");
    check(&mut raw, &["STRLEN", "big"], &format!(":{}\r\n", value.len()));
    // Other clients were served meanwhile and after.
    let mut other = Raw::connect(&srv);
    check(&mut other, &["PING"], "+PONG\r\n");
}

#[test]
fn several_clients_sending_long_pipelines_at_once_are_each_answered() {
    let srv = start();
    let clients: Vec<Raw> = (0..4).map(|_| Raw::connect(&srv)).collect();
    let handles: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(k, raw)| {
            thread::spawn(move || {
                let key = format!("counter{k}");
                let one = req(&["INCR", &key]);
                let n = 20_000;
                let mut sent = Vec::with_capacity(one.len() * n);
                let mut expected = Vec::new();
                for i in 1..=n {
                    sent.extend_from_slice(&one);
                    expected.extend_from_slice(format!(":{i}\r\n").as_bytes());
                }
                let got = send_and_read(&raw, sent, expected.len());
                assert!(got == expected, "client {k}: replies differ");
            })
        })
        .collect();
    for h in handles {
        h.join().expect("a client thread failed");
    }
}
