//! `io-threads N`: reads, parsing and writes on IO threads; commands still
//! run one at a time on the main thread.

mod common;
use common::*;
use redis::Commands;

#[test]
fn many_clients_get_correct_replies_with_io_threads() {
    let srv = start_with(|cfg| cfg.io_threads = 4);
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let mut c = conn(&srv);
            std::thread::spawn(move || {
                for round in 0..20 {
                    let mut p = redis::pipe();
                    for i in 0..50 {
                        p.cmd("SET").arg(format!("t{t}:{i}")).arg(format!("{round}:{i}")).ignore();
                        p.cmd("INCR").arg("counter").ignore();
                    }
                    for i in 0..50 {
                        p.cmd("GET").arg(format!("t{t}:{i}"));
                    }
                    let got: Vec<String> = p.query(&mut c).unwrap();
                    let want: Vec<String> = (0..50).map(|i| format!("{round}:{i}")).collect();
                    assert_eq!(got, want);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
    let mut c = conn(&srv);
    // Every INCR ran exactly once: commands are not lost or doubled.
    assert_eq!(c.get::<_, i64>("counter").unwrap(), 16 * 20 * 50);
}

#[test]
fn big_replies_are_written_completely_by_io_threads() {
    let srv = start_with(|cfg| cfg.io_threads = 2);
    let mut c = conn(&srv);
    let big = vec![b'v'; 4 << 20];
    let _: () = c.set("big", &big).unwrap();
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let mut c = conn(&srv);
            std::thread::spawn(move || {
                for _ in 0..3 {
                    let v: Vec<u8> = c.get("big").unwrap();
                    assert_eq!(v.len(), 4 << 20);
                }
            })
        })
        .collect();
    for t in clients {
        t.join().expect("client thread");
    }
}

#[test]
fn a_client_closing_is_noticed_by_io_threads() {
    let srv = start_with(|cfg| cfg.io_threads = 3);
    for _ in 0..50 {
        let mut raw = Raw::connect(&srv);
        raw.roundtrip(b"PING\r\n", b"+PONG\r\n");
    }
    let mut c = conn(&srv);
    let pong: String = redis::cmd("PING").query(&mut c).unwrap();
    assert_eq!(pong, "PONG");
}
