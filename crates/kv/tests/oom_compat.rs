//! What Redis 7.0 refuses or evicts when memory is over `maxmemory`
//! (its multi and pubsub units): a lower limit evicts at once, and
//! transactions are refused by what they queue.

mod common;

use common::{conn, q, start, Raw};

#[test]
fn lowering_maxmemory_evicts_at_once() {
    let srv = start();
    let mut admin = conn(&srv);
    let _: () = q(&mut admin, &["CONFIG", "SET", "notify-keyspace-events", "Ee"]);
    let _: () = q(&mut admin, &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
    let mut sub = Raw::connect(&srv);
    sub.roundtrip(b"PSUBSCRIBE *\r\n", b"*3\r\n$10\r\npsubscribe\r\n$1\r\n*\r\n:1\r\n");
    let _: () = q(&mut admin, &["SET", "foo", "bar"]);
    let _: () = q(&mut admin, &["CONFIG", "SET", "maxmemory", "1"]);
    // No further command is needed for the eviction to happen.
    sub.roundtrip(b"", b"*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$22\r\n__keyevent@0__:evicted\r\n$3\r\nfoo\r\n");
    let _: () = q(&mut admin, &["CONFIG", "SET", "maxmemory", "0"]);
}

#[test]
fn transactions_are_refused_by_what_they_queue_when_out_of_memory() {
    let srv = start();
    let mut admin = conn(&srv);
    let mut r = Raw::connect(&srv);
    r.roundtrip(b"MULTI\r\nSET x 1\r\nGET x\r\n", b"+OK\r\n+QUEUED\r\n+QUEUED\r\n");
    let _: () = q(&mut admin, &["CONFIG", "SET", "maxmemory", "1"]);
    // The queued SET may grow memory: EXEC is refused and the
    // transaction discarded.
    let oom = "OOM command not allowed when used memory > 'maxmemory'.";
    r.roundtrip(b"EXEC\r\n", format!("-EXECABORT Transaction discarded because of: {oom}\r\n").as_bytes());
    // Queueing takes memory too, so even a read is refused inside MULTI;
    // DISCARD still runs.
    r.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    r.roundtrip(b"GET x\r\n", format!("-{oom}\r\n").as_bytes());
    r.roundtrip(b"DISCARD\r\n", b"+OK\r\n");
    r.roundtrip(b"GET x\r\n", b"$-1\r\n");
    let _: () = q(&mut admin, &["CONFIG", "SET", "maxmemory", "0"]);
}

#[test]
fn maxmemory_lowered_inside_exec_evicts_after_it() {
    // Redis's unit/maxmemory "propagation with eviction in MULTI": CONFIG
    // SET maxmemory starts the eviction for after the command (an event of
    // the loop), so the transaction runs whole and the key goes after.
    let srv = start();
    let mut c = conn(&srv);
    let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
    let _: () = q(&mut c, &["MULTI"]);
    let _: () = q(&mut c, &["INCR", "x"]);
    let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory", "1"]);
    let _: () = q(&mut c, &["INCR", "x"]);
    let got: Vec<redis::Value> = q(&mut c, &["EXEC"]);
    assert_eq!(got, vec![redis::Value::Int(1), redis::Value::Okay, redis::Value::Int(2)]);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0, "evicted before the next command");
    let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory", "0"]);
}
