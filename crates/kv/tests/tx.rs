//! Transactions: MULTI/EXEC/DISCARD/WATCH/UNWATCH with Redis 7's replies.

mod common;
use common::*;
use redis::Commands;
use std::time::{Duration, Instant};

#[test]
fn queued_commands_run_at_exec_and_runtime_errors_are_per_command() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    r.roundtrip(b"SET s str\r\n", b"+OK\r\n");
    r.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    r.roundtrip(b"INCR n\r\n", b"+QUEUED\r\n");
    r.roundtrip(b"INCR s\r\n", b"+QUEUED\r\n");
    r.roundtrip(b"GET n\r\n", b"+QUEUED\r\n");
    r.roundtrip(b"EXEC\r\n", b"*3\r\n:1\r\n-ERR value is not an integer or out of range\r\n$1\r\n1\r\n");
    r.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    r.roundtrip(b"EXEC\r\n", b"*0\r\n");
}

#[test]
fn misuse_errors_are_redis_texts() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    r.roundtrip(b"EXEC\r\n", b"-ERR EXEC without MULTI\r\n");
    r.roundtrip(b"DISCARD\r\n", b"-ERR DISCARD without MULTI\r\n");
    r.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    r.roundtrip(b"MULTI\r\n", b"-ERR MULTI calls can not be nested\r\n");
    r.roundtrip(b"WATCH a\r\n", b"-ERR WATCH inside MULTI is not allowed\r\n");
    r.roundtrip(b"SET a 2\r\n", b"+QUEUED\r\n");
    // Neither error above aborts the transaction.
    r.roundtrip(b"EXEC\r\n", b"*1\r\n+OK\r\n");
    r.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    r.roundtrip(b"SET a 3\r\n", b"+QUEUED\r\n");
    r.roundtrip(b"DISCARD\r\n", b"+OK\r\n");
    r.roundtrip(b"GET a\r\n", b"$1\r\n2\r\n");
    r.roundtrip(b"WATCH\r\n", b"-ERR wrong number of arguments for 'watch' command\r\n");
}

#[test]
fn a_refused_command_aborts_the_transaction() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    r.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    r.roundtrip(b"SET a 1\r\n", b"+QUEUED\r\n");
    r.roundtrip(b"FOO\r\n", b"-ERR unknown command 'FOO', with args beginning with: \r\n");
    r.roundtrip(b"GET\r\n", b"-ERR wrong number of arguments for 'get' command\r\n");
    r.roundtrip(b"SET b 1\r\n", b"+QUEUED\r\n");
    r.roundtrip(b"EXEC\r\n", b"-EXECABORT Transaction discarded because of previous errors.\r\n");
    r.roundtrip(b"EXISTS a b\r\n", b":0\r\n");
    // The client left MULTI: commands run at once again.
    r.roundtrip(b"SET a 1\r\n", b"+OK\r\n");
}

#[test]
fn quit_inside_multi_is_not_queued() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    r.roundtrip(b"MULTI\r\nQUIT\r\n", b"+OK\r\n+OK\r\n");
    assert!(r.read_to_close().is_empty());
}

#[test]
fn a_watched_key_modified_by_another_client_fails_exec() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    let mut other = conn(&srv);
    r.roundtrip(b"SET k 1\r\n", b"+OK\r\n");
    r.roundtrip(b"WATCH k\r\n", b"+OK\r\n");
    let _: () = other.set("k", "2").unwrap();
    r.roundtrip(b"MULTI\r\nSET k 3\r\nEXEC\r\n", b"+OK\r\n+QUEUED\r\n*-1\r\n");
    assert_eq!(other.get::<_, String>("k").unwrap(), "2");
    // EXEC cleared the watch: the next transaction succeeds.
    let _: () = other.set("k", "4").unwrap();
    r.roundtrip(b"MULTI\r\nSET k 3\r\nEXEC\r\n", b"+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n");
}

#[test]
fn watches_that_nothing_touched_let_exec_run() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    let mut other = conn(&srv);
    r.roundtrip(b"WATCH a b\r\n", b"+OK\r\n");
    let _: () = other.set("c", "x").unwrap();
    // The same key in another database is another key.
    let _: () =
        redis::pipe().cmd("SELECT").arg(1).ignore().cmd("SET").arg("a").arg("x").query(&mut other).unwrap();
    r.roundtrip(b"MULTI\r\nGET c\r\nEXEC\r\n", b"+OK\r\n+QUEUED\r\n*1\r\n$1\r\nx\r\n");
    // UNWATCH forgets the keys.
    r.roundtrip(b"WATCH c\r\nUNWATCH\r\n", b"+OK\r\n+OK\r\n");
    let _: () =
        redis::pipe().cmd("SELECT").arg(0).ignore().cmd("SET").arg("c").arg("y").query(&mut other).unwrap();
    r.roundtrip(b"MULTI\r\nGET c\r\nEXEC\r\n", b"+OK\r\n+QUEUED\r\n*1\r\n$1\r\ny\r\n");
    // A client's own write to its watched key fails its EXEC too.
    r.roundtrip(b"WATCH c\r\nSET c z\r\n", b"+OK\r\n+OK\r\n");
    r.roundtrip(b"MULTI\r\nGET c\r\nEXEC\r\n", b"+OK\r\n+QUEUED\r\n*-1\r\n");
    // DISCARD clears watches.
    r.roundtrip(b"WATCH c\r\nMULTI\r\nDISCARD\r\n", b"+OK\r\n+OK\r\n+OK\r\n");
    let _: () = other.set("c", "w").unwrap();
    r.roundtrip(b"MULTI\r\nGET c\r\nEXEC\r\n", b"+OK\r\n+QUEUED\r\n*1\r\n$1\r\nw\r\n");
}

#[test]
fn flushes_touch_watched_keys_that_exist() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    let mut other = conn(&srv);
    r.roundtrip(b"WATCH missing\r\n", b"+OK\r\n");
    let _: () = redis::cmd("FLUSHDB").query(&mut other).unwrap();
    r.roundtrip(b"MULTI\r\nPING\r\nEXEC\r\n", b"+OK\r\n+QUEUED\r\n*1\r\n+PONG\r\n");
    r.roundtrip(b"SET k 1\r\nWATCH k\r\n", b"+OK\r\n+OK\r\n");
    let _: () = redis::cmd("FLUSHDB").query(&mut other).unwrap();
    r.roundtrip(b"MULTI\r\nPING\r\nEXEC\r\n", b"+OK\r\n+QUEUED\r\n*-1\r\n");
    r.roundtrip(b"SET k 1\r\nWATCH k\r\n", b"+OK\r\n+OK\r\n");
    let _: () = redis::cmd("FLUSHALL").query(&mut other).unwrap();
    r.roundtrip(b"MULTI\r\nPING\r\nEXEC\r\n", b"+OK\r\n+QUEUED\r\n*-1\r\n");
}

#[test]
fn a_watched_key_deleted_by_expiry_fails_exec() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    let mut other = conn(&srv);
    r.roundtrip(b"SET k v PX 100\r\nWATCH k\r\n", b"+OK\r\n+OK\r\n");
    // Another client's lookup deletes the key once it has expired.
    let start = Instant::now();
    while other.exists::<_, bool>("k").unwrap() {
        assert!(start.elapsed() < TIMEOUT, "the key never expired");
        std::thread::sleep(Duration::from_millis(5));
    }
    r.roundtrip(b"MULTI\r\nPING\r\nEXEC\r\n", b"+OK\r\n+QUEUED\r\n*-1\r\n");
}

#[test]
fn a_watched_key_that_expires_unnoticed_fails_exec() {
    let srv = start_with(|cfg| cfg.hz = 1);
    let mut r = Raw::connect(&srv);
    let t0 = Instant::now();
    r.roundtrip(b"SET k v PX 300\r\nWATCH k\r\n", b"+OK\r\n+OK\r\n");
    assert!(t0.elapsed() < Duration::from_millis(300), "the key must be live when watched");
    // Wait out the TTL on the clock; nothing looks the key up meanwhile.
    while t0.elapsed() < Duration::from_millis(350) {
        std::thread::sleep(Duration::from_millis(10));
    }
    r.roundtrip(b"MULTI\r\nPING\r\nEXEC\r\n", b"+OK\r\n+QUEUED\r\n*-1\r\n");
}

#[test]
fn a_key_already_expired_when_watched_does_not_fail_exec_when_deleted() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    let mut other = conn(&srv);
    let past = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()
        - 1000) as i64;
    let set = format!("SET k v PXAT {past}\r\nWATCH k\r\n");
    r.roundtrip(set.as_bytes(), b"+OK\r\n+OK\r\n");
    assert!(!other.exists::<_, bool>("k").unwrap());
    r.roundtrip(b"MULTI\r\nPING\r\nEXEC\r\n", b"+OK\r\n+QUEUED\r\n*1\r\n+PONG\r\n");
}

#[test]
fn queued_arguments_survive_later_reads() {
    let srv = start();
    let mut c = conn(&srv);
    let big = "v".repeat(200_000);
    let _: () = redis::cmd("MULTI").query(&mut c).unwrap();
    for i in 0..5 {
        let q: String = redis::cmd("SET").arg(format!("k{i}")).arg(&big).query(&mut c).unwrap();
        assert_eq!(q, "QUEUED");
    }
    let v: Vec<String> = redis::cmd("EXEC").query(&mut c).unwrap();
    assert_eq!(v, vec!["OK"; 5]);
    for i in 0..5 {
        assert_eq!(c.get::<_, String>(format!("k{i}")).unwrap(), big);
    }
    // The redis crate's own transaction helper works end to end.
    let (a, b): (i64, i64) = redis::pipe().atomic().incr("n", 1).incr("n", 2).query(&mut c).unwrap();
    assert_eq!((a, b), (1, 3));
}

/// EXEC refused for its arity discards the transaction with EXECABORT and
/// the reason, in MULTI or not (Redis 7's `rejectCommand`).
#[test]
fn exec_with_arguments_aborts_the_transaction() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    check(&mut r, &["MULTI"], "+OK\r\n");
    check(&mut r, &["SET", "k", "v"], "+QUEUED\r\n");
    check(
        &mut r,
        &["EXEC", "x"],
        "-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n",
    );
    check(&mut r, &["EXEC"], "-ERR EXEC without MULTI\r\n");
    check(&mut r, &["EXISTS", "k"], ":0\r\n");
    check(
        &mut r,
        &["EXEC", "x"],
        "-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n",
    );
}

#[test]
fn sort_store_touches_its_destination_for_watch_but_a_plain_sort_does_not() {
    let srv = start();
    let mut w = Raw::connect(&srv);
    let mut other = Raw::connect(&srv);
    other.roundtrip(b"RPUSH src 2 1\r\n", b":2\r\n");
    w.roundtrip(b"WATCH src dst\r\n", b"+OK\r\n");
    // Reading the watched source changes nothing.
    other.roundtrip(b"SORT src\r\n", b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    w.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    w.roundtrip(b"EXEC\r\n", b"*0\r\n");
    w.roundtrip(b"WATCH dst\r\n", b"+OK\r\n");
    other.roundtrip(b"SORT src STORE dst\r\n", b":2\r\n");
    w.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    w.roundtrip(b"EXEC\r\n", b"*-1\r\n");
    // Deleting it through an empty result touches it too.
    w.roundtrip(b"WATCH dst\r\n", b"+OK\r\n");
    other.roundtrip(b"SORT nokey STORE dst\r\n", b":0\r\n");
    w.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    w.roundtrip(b"EXEC\r\n", b"*-1\r\n");
}

#[test]
fn save_and_shutdown_are_refused_inside_multi() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    r.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    for cmd in ["SAVE", "SHUTDOWN"] {
        r.roundtrip(format!("{cmd}\r\n").as_bytes(), b"-ERR Command not allowed inside a transaction\r\n");
    }
    // The refusals abort the transaction, and the server is still up.
    r.roundtrip(b"EXEC\r\n", b"-EXECABORT Transaction discarded because of previous errors.\r\n");
    r.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

/// A SET whose deadline passed a second ago: with active expiry off
/// (`DEBUG SET-ACTIVE-EXPIRE 0`) the key stays in the database, stale,
/// until a lookup deletes it.
fn set_stale(r: &mut Raw, key: &str) {
    let past = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()
        - 1000) as i64;
    r.roundtrip(format!("SET {key} v PXAT {past}\r\n").as_bytes(), b"+OK\r\n");
}

#[test]
fn flushes_and_swapdb_leave_watches_on_stale_keys_alone() {
    // Redis 7's touchAllWatchedKeysInDb (unit/multi's "FLUSHDB while
    // watching stale keys" and "SWAPDB does not touch ... stale key"
    // tests): a key that had already expired when watched is logically
    // absent, so emptying its database, or swapping in another database
    // where it is absent or stale too, changes nothing.
    let srv = start();
    let mut r = Raw::connect(&srv);
    r.roundtrip(b"DEBUG SET-ACTIVE-EXPIRE 0\r\n", b"+OK\r\n");
    let exec_runs = b"+OK\r\n+QUEUED\r\n*1\r\n+PONG\r\n";

    // FLUSHDB of a database holding the stale watched key.
    set_stale(&mut r, "x");
    r.roundtrip(b"WATCH x\r\nFLUSHDB\r\n", b"+OK\r\n+OK\r\n");
    r.roundtrip(b"MULTI\r\nPING\r\nEXEC\r\n", exec_runs);

    // SWAPDB with a database where the key is absent.
    set_stale(&mut r, "x");
    r.roundtrip(b"WATCH x\r\nSWAPDB 0 1\r\n", b"+OK\r\n+OK\r\n");
    r.roundtrip(b"MULTI\r\nPING\r\nEXEC\r\n", exec_runs);
    r.roundtrip(b"FLUSHALL\r\n", b"+OK\r\n");

    // A missing watched key replaced by a stale one.
    r.roundtrip(b"SELECT 1\r\n", b"+OK\r\n");
    set_stale(&mut r, "x");
    r.roundtrip(b"SELECT 0\r\nWATCH x\r\nSWAPDB 0 1\r\n", b"+OK\r\n+OK\r\n+OK\r\n");
    r.roundtrip(b"MULTI\r\nPING\r\nEXEC\r\n", exec_runs);
    r.roundtrip(b"FLUSHALL\r\n", b"+OK\r\n");

    // A stale watched key replaced by another stale one.
    set_stale(&mut r, "x");
    r.roundtrip(b"SELECT 1\r\n", b"+OK\r\n");
    set_stale(&mut r, "x");
    r.roundtrip(b"SELECT 0\r\nWATCH x\r\nSWAPDB 0 1\r\n", b"+OK\r\n+OK\r\n+OK\r\n");
    r.roundtrip(b"MULTI\r\nPING\r\nEXEC\r\n", exec_runs);

    // But a live key swapped in for a stale watched one is a change.
    r.roundtrip(b"FLUSHALL\r\n", b"+OK\r\n");
    set_stale(&mut r, "x");
    r.roundtrip(b"SELECT 1\r\nSET x live\r\nSELECT 0\r\n", b"+OK\r\n+OK\r\n+OK\r\n");
    r.roundtrip(b"WATCH x\r\nSWAPDB 0 1\r\n", b"+OK\r\n+OK\r\n");
    r.roundtrip(b"MULTI\r\nPING\r\nEXEC\r\n", b"+OK\r\n+QUEUED\r\n*-1\r\n");
}
