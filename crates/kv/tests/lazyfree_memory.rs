//! Redis 7.0's lazyfree unit: after UNLINK of a big set sent as one
//! command, `used_memory` falls back near where it was, while the client
//! that sent it stays connected and busy. One test in its own binary: the
//! memory counter is process-wide.

mod common;

use common::{req, start, Raw, TIMEOUT};
use std::time::Instant;

/// INFO's `used_memory`, asked over `r`.
fn used_memory(r: &mut Raw) -> usize {
    r.send(b"INFO memory\r\n");
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n") {
        head.extend(r.read_exact_len(1));
    }
    let len: usize = String::from_utf8_lossy(&head[1..head.len() - 2]).parse().unwrap();
    let body = String::from_utf8(r.read_exact_len(len + 2)).unwrap();
    body.lines().find_map(|l| l.strip_prefix("used_memory:")).unwrap().trim().parse().unwrap()
}

#[test]
fn unlink_gives_back_the_memory_of_a_big_command() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    let before = used_memory(&mut r);
    let members: Vec<String> = (0..100_000).map(|i| i.to_string()).collect();
    let mut args = vec!["SADD", "myset"];
    args.extend(members.iter().map(String::as_str));
    let request = req(&args);
    drop(args);
    drop(members);
    r.send(&request);
    drop(request);
    assert_eq!(r.read_exact_len(9), b":100000\r\n");
    r.roundtrip(b"UNLINK myset\r\n", b":1\r\n");
    // The set goes on the lazy-free thread; the client's query buffer and
    // the parser's list of 100000 argument positions go in the cron.
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let now = used_memory(&mut r);
        if now < before + 512 * 1024 {
            break;
        }
        assert!(Instant::now() < deadline, "used_memory stayed at {now} (was {before})");
        std::thread::sleep(std::time::Duration::from_millis(1)); // pace the polls
    }
}
