//! Client eviction (`maxmemory-clients`), as Redis 7.0's
//! tests/unit/client-eviction.tcl checks it: a client whose query or reply
//! buffer, watched keys or subscriptions take the clients over the limit
//! is closed and counted in INFO's `evicted_clients`, while small clients
//! go on working; a CLIENT NO-EVICT
//! client is spared; with the limit at 0 nothing is evicted, and setting a
//! limit evicts at once.

mod common;

use common::{client_field as field, client_line, conn, q, start, wait_until, Raw};
use std::io::{ErrorKind, Read};

/// The limit these tests set: 1 MiB (Redis's floor is 128 KiB).
const LIMIT: &str = "1mb";

/// A query buffer this big takes a client over [`LIMIT`] on its own.
const BIG: usize = 2 << 20;

/// INFO stats `evicted_clients`.
fn evicted(c: &mut redis::Connection) -> u64 {
    let info: String = q(c, &["INFO", "stats"]);
    let v = info.lines().find_map(|l| l.strip_prefix("evicted_clients:"));
    v.unwrap_or_else(|| panic!("no evicted_clients in {info}")).trim().parse().unwrap()
}

/// A raw client named `name`, with CLIENT NO-EVICT `no_evict`.
fn raw_client(srv: &spindle_kv::server::ServerThread, name: &str, no_evict: bool) -> Raw {
    let mut r = Raw::connect(srv);
    common::check(&mut r, &["CLIENT", "SETNAME", name], "+OK\r\n");
    if no_evict {
        common::check(&mut r, &["CLIENT", "NO-EVICT", "on"], "+OK\r\n");
    }
    r
}

/// Sends the start of a bulk longer than what follows, so [`BIG`] bytes
/// sit in the query buffer unparsed. The server may close the socket
/// while this writes (that is the eviction), so write errors are fine.
fn fill_query_buffer(r: &mut Raw) {
    use std::io::Write;
    let mut bytes = format!("*1\r\n${}\r\n", BIG * 2).into_bytes();
    bytes.resize(bytes.len() + BIG, b'v');
    let _ = r.stream.write_all(&bytes);
}

/// Reads until the server closes `r`, discarding what arrives; fails if
/// it is still open after [`TIMEOUT`].
fn wait_closed(r: &mut Raw) {
    let mut buf = vec![0; 64 * 1024];
    loop {
        match r.stream.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return,
            Err(e) => panic!("the client was not closed: {e}"),
        }
    }
}

/// Waits until `name`'s unparsed input is all in: its `qbuf` holds the
/// whole of [`fill_query_buffer`]'s bytes.
fn wait_filled(c: &mut redis::Connection, name: &str) {
    wait_until("the query buffer to fill", || {
        client_line(c, name).is_some_and(|l| field(&l, "qbuf") >= BIG && field(&l, "tot-mem") > (1 << 20))
    });
}

/// A client that fills its query buffer past [`LIMIT`] on `srv` is
/// closed and counted; the small control client carries on.
fn big_query_buffer_is_evicted(srv: &spindle_kv::server::ServerThread) {
    let mut ctl = conn(srv);
    q::<()>(&mut ctl, &["CONFIG", "SET", "maxmemory-clients", LIMIT]);
    let mut big = raw_client(srv, "big", false);
    fill_query_buffer(&mut big);
    wait_closed(&mut big);
    assert_eq!(evicted(&mut ctl), 1);
    assert!(client_line(&mut ctl, "big").is_none());
    assert_eq!(q::<String>(&mut ctl, &["PING"]), "PONG", "the small client is not evicted");
}

#[test]
fn a_big_query_buffer_gets_its_client_evicted() {
    big_query_buffer_is_evicted(&start());
}

#[test]
fn a_big_unread_reply_gets_its_client_evicted() {
    let srv = start();
    let mut ctl = conn(&srv);
    q::<()>(&mut ctl, &["SETRANGE", "k", "3000000", "x"]);
    q::<()>(&mut ctl, &["CONFIG", "SET", "maxmemory-clients", LIMIT]);
    let mut big = raw_client(&srv, "big", false);
    // More than the kernel's socket buffers take, whenever the check runs.
    let gets: Vec<u8> = (0..10).flat_map(|_| common::req(&["GET", "k"])).collect();
    big.send(&gets);
    wait_closed(&mut big);
    assert_eq!(evicted(&mut ctl), 1);
    assert_eq!(q::<String>(&mut ctl, &["PING"]), "PONG", "the small client is not evicted");
}

#[test]
fn a_percentage_of_maxmemory_is_the_limit() {
    let srv = start();
    let mut ctl = conn(&srv);
    q::<()>(&mut ctl, &["CONFIG", "SET", "maxmemory", "100mb", "maxmemory-clients", "1%"]);
    let got: Vec<String> = q(&mut ctl, &["CONFIG", "GET", "maxmemory-clients"]);
    assert_eq!(got, ["maxmemory-clients", "1%"]);
    let mut big = raw_client(&srv, "big", false);
    fill_query_buffer(&mut big);
    wait_closed(&mut big);
    assert_eq!(evicted(&mut ctl), 1);
}

#[test]
fn a_no_evict_client_is_spared() {
    let srv = start();
    let mut ctl = conn(&srv);
    // The spared client alone keeps the total over the limit, so the
    // control connection, the only other client, must be spared too (as
    // Redis's own test does): every evictable client goes while the
    // total is over.
    q::<()>(&mut ctl, &["CLIENT", "NO-EVICT", "on"]);
    q::<()>(&mut ctl, &["CONFIG", "SET", "maxmemory-clients", LIMIT]);
    // The load evicts a client without NO-EVICT: the limit is in force.
    let mut other = raw_client(&srv, "other", false);
    fill_query_buffer(&mut other);
    wait_closed(&mut other);
    assert_eq!(evicted(&mut ctl), 1);
    // The same load on a NO-EVICT client stays.
    let mut spared = raw_client(&srv, "spared", true);
    fill_query_buffer(&mut spared);
    wait_filled(&mut ctl, "spared");
    let line = client_line(&mut ctl, "spared").unwrap();
    assert!(field_flags(&line).contains('e'), "{line}");
    assert_eq!(evicted(&mut ctl), 1, "the NO-EVICT client is not evicted");
}

/// The `flags=` of a CLIENT LIST line.
fn field_flags(line: &str) -> &str {
    line.split(' ').find_map(|f| f.strip_prefix("flags=")).unwrap()
}

#[test]
fn with_the_limit_at_0_nothing_is_evicted_until_one_is_set() {
    let srv = start();
    let mut ctl = conn(&srv);
    let mut big = raw_client(&srv, "big", false);
    fill_query_buffer(&mut big);
    wait_filled(&mut ctl, "big");
    assert_eq!(evicted(&mut ctl), 0);
    // Setting a limit the clients are already over evicts at once, the
    // largest client first, as Redis does.
    q::<()>(&mut ctl, &["CONFIG", "SET", "maxmemory-clients", LIMIT]);
    wait_closed(&mut big);
    assert_eq!(evicted(&mut ctl), 1);
    assert_eq!(q::<String>(&mut ctl, &["PING"]), "PONG", "the small client is not evicted");
}

#[test]
fn with_io_threads_a_big_query_buffer_gets_its_client_evicted() {
    big_query_buffer_is_evicted(&common::start_with(|c| c.io_threads = 2));
}

/// Redis's "client evicted due to watched key list" and "client evicted
/// due to pubsub subscriptions": under a small limit (200000 bytes, as
/// there), a client adding one watched key or subscription per command is
/// evicted once they take it over, its last command unanswered.
fn piling_up_gets_its_client_evicted(cmd: &str) {
    use std::io::Write;
    let srv = start();
    let mut ctl = conn(&srv);
    q::<()>(&mut ctl, &["CONFIG", "SET", "maxmemory-clients", "200000"]);
    let mut r = Raw::connect(&srv);
    let kind = cmd.to_ascii_lowercase();
    let deadline = std::time::Instant::now() + common::TIMEOUT;
    for j in 1.. {
        assert!(j < 200_000 && std::time::Instant::now() < deadline, "{cmd}: {j} and not evicted");
        let name = j.to_string();
        if r.stream.write_all(&common::req(&[cmd, &name])).is_err() {
            break;
        }
        let want = match cmd {
            "WATCH" => "+OK\r\n".to_string(),
            _ => format!("*3\r\n${}\r\n{kind}\r\n${}\r\n{name}\r\n:{j}\r\n", kind.len(), name.len()),
        };
        let mut got = vec![0; want.len()];
        match r.stream.read_exact(&mut got) {
            Ok(()) => assert_eq!(String::from_utf8_lossy(&got), want),
            Err(e) if matches!(e.kind(), ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset) => break,
            Err(e) => panic!("{cmd} {j}: {e}"),
        }
    }
    assert_eq!(evicted(&mut ctl), 1);
    assert_eq!(q::<String>(&mut ctl, &["PING"]), "PONG", "the small client is not evicted");
}

#[test]
fn a_client_watching_many_keys_gets_evicted() {
    piling_up_gets_its_client_evicted("WATCH");
}

#[test]
fn a_client_with_many_channels_gets_evicted() {
    piling_up_gets_its_client_evicted("SUBSCRIBE");
}

#[test]
fn a_client_with_many_patterns_gets_evicted() {
    piling_up_gets_its_client_evicted("PSUBSCRIBE");
}

#[test]
fn a_client_with_many_shard_channels_gets_evicted() {
    piling_up_gets_its_client_evicted("SSUBSCRIBE");
}
