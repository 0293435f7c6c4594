//! `io-coalesce-us` and `io-coalesce-min-clients`: spindle's batching of a
//! busy event loop (see spindle-loop's `Coalesce`). The options are read
//! and checked like Redis's own, and with coalescing forced on for every
//! load, many clients pipelining at once get every reply, in order.

mod common;

use common::q;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

#[test]
fn the_options_have_defaults_and_are_checked() {
    let srv = common::start();
    let mut c = common::conn(&srv);
    let get = |c: &mut redis::Connection, name: &str| q::<Vec<String>>(c, &["CONFIG", "GET", name]);
    assert_eq!(get(&mut c, "io-coalesce-us"), ["io-coalesce-us", "40"]);
    assert_eq!(get(&mut c, "io-coalesce-min-clients"), ["io-coalesce-min-clients", "16"]);
    let _: () = q(&mut c, &["CONFIG", "SET", "io-coalesce-us", "0"]);
    assert_eq!(get(&mut c, "io-coalesce-us"), ["io-coalesce-us", "0"]);
    for (name, bad) in
        [("io-coalesce-us", "1001"), ("io-coalesce-us", "-1"), ("io-coalesce-min-clients", "0")]
    {
        let e = redis::cmd("CONFIG").arg("SET").arg(name).arg(bad).query::<()>(&mut c).unwrap_err();
        assert!(e.to_string().contains("argument must be between"), "{name} {bad}: {e}");
    }
    // Still serving after the change.
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
}

#[test]
fn pipelining_clients_get_every_reply_with_coalescing_on() {
    let srv = common::start_with(|c| {
        c.io_coalesce_us = 200;
        c.io_coalesce_min_clients = 1;
    });
    let addr = srv.addr();
    let clients: Vec<_> = (0..24)
        .map(|i| {
            std::thread::spawn(move || {
                let s = TcpStream::connect(addr).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let mut w = s.try_clone().unwrap();
                let mut r = BufReader::new(s);
                for round in 0..50 {
                    let mut batch = Vec::new();
                    for _ in 0..16 {
                        batch.extend_from_slice(&common::req(&["INCR", &format!("c{i}")]));
                    }
                    w.write_all(&batch).unwrap();
                    for k in 0..16 {
                        let mut line = String::new();
                        r.read_line(&mut line).unwrap();
                        assert_eq!(line, format!(":{}\r\n", round * 16 + k + 1), "client {i}");
                    }
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    let mut c = common::conn(&srv);
    for i in 0..24 {
        assert_eq!(q::<i64>(&mut c, &["GET", &format!("c{i}")]), 800);
    }
}
