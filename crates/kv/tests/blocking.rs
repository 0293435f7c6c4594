//! Blocking pops: BLPOP and friends served at once, blocked and served by
//! another client's write (in FIFO order), timeouts, CLIENT UNBLOCK,
//! disconnection, MULTI, pipelining behind a blocked command, and the AOF
//! form of a served pop. Every wait is bounded; a client is known to be
//! blocked by polling INFO's `blocked_clients`.

mod common;
use common::*;
use std::time::{Duration, Instant};

/// Reads exactly `reply` from `raw` (the reply to a blocked command).
fn expect(raw: &mut Raw, reply: &str) {
    let got = raw.read_exact_len(reply.len());
    assert_eq!(String::from_utf8_lossy(&got), reply);
}

/// INFO's `blocked_clients`.
fn blocked(c: &mut redis::Connection) -> usize {
    let info: String = q(c, &["INFO", "clients"]);
    let line =
        info.lines().find_map(|l| l.strip_prefix("blocked_clients:")).expect("blocked_clients in INFO");
    line.trim().parse().unwrap()
}

/// Polls until exactly `n` clients are blocked.
fn wait_blocked(c: &mut redis::Connection, n: usize) {
    let deadline = Instant::now() + TIMEOUT;
    while blocked(c) != n {
        assert!(Instant::now() < deadline, "never saw {n} blocked clients");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A raw client that sent `args` (a blocking command) and is now blocked.
fn block(srv: &spindle_kv::server::ServerThread, c: &mut redis::Connection, args: &[&str]) -> Raw {
    let before = blocked(c);
    let mut r = Raw::connect(srv);
    r.send(&req(args));
    wait_blocked(c, before + 1);
    r
}

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

/// DUMP of the sorted set {a: 1, b: 2, c: 3} from redis-server 7.0.15.
const ZSET_ABC: &[u8] = &[
    17, 22, 22, 0, 0, 0, 6, 0, 129, 97, 2, 1, 1, 129, 98, 2, 2, 1, 129, 99, 2, 3, 1, 255, 10, 0, 46, 27, 124,
    197, 0, 170, 53, 150,
];

fn restore_zset(c: &mut redis::Connection, key: &str) {
    let _: () = redis::cmd("RESTORE").arg(key).arg(0).arg(ZSET_ABC).query(c).unwrap();
}

#[test]
fn served_at_once_when_a_key_has_elements() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    check(&mut r, &["RPUSH", "l", "a", "b", "c"], ":3\r\n");
    check(&mut r, &["BLPOP", "nokey", "l", "0"], "*2\r\n$1\r\nl\r\n$1\r\na\r\n");
    check(&mut r, &["BRPOP", "l", "0"], "*2\r\n$1\r\nl\r\n$1\r\nc\r\n");
    check(
        &mut r,
        &["BLMPOP", "0", "2", "nokey", "l", "LEFT", "COUNT", "3"],
        "*2\r\n$1\r\nl\r\n*1\r\n$1\r\nb\r\n",
    );
    check(&mut r, &["EXISTS", "l"], ":0\r\n");
    check(&mut r, &["RPUSH", "l", "x"], ":1\r\n");
    check(&mut r, &["BLMOVE", "l", "m", "LEFT", "RIGHT", "0"], "$1\r\nx\r\n");
    check(&mut r, &["BRPOPLPUSH", "m", "l", "0"], "$1\r\nx\r\n");
    check(&mut r, &["SET", "s", "v"], "+OK\r\n");
    check(&mut r, &["BLPOP", "nokey", "s", "l", "0"], WRONGTYPE);
    check(&mut r, &["BLMOVE", "l", "s", "LEFT", "RIGHT", "0"], WRONGTYPE);
    check(&mut r, &["BLPOP", "l", "abc"], "-ERR timeout is not a float or out of range\r\n");
    check(&mut r, &["BLPOP", "l", "-1"], "-ERR timeout is negative\r\n");
    check(&mut r, &["BLPOP", "l", "inf"], "-ERR timeout is negative\r\n");
    check(&mut r, &["BLPOP", "l", "9223372036854775807"], "-ERR timeout is negative\r\n");
    check(&mut r, &["BLPOP", "l"], "-ERR wrong number of arguments for 'blpop' command\r\n");
    check(&mut r, &["BLMPOP", "x", "1", "l", "LEFT"], "-ERR timeout is not a float or out of range\r\n");
    check(&mut r, &["BLMPOP", "0", "0", "l", "LEFT"], "-ERR numkeys should be greater than 0\r\n");
    check(
        &mut r,
        &["BLMPOP", "0", "1", "l", "LEFT", "COUNT", "x"],
        "-ERR count should be greater than 0\r\n",
    );
    check(&mut r, &["BLMOVE", "l", "m", "UP", "RIGHT", "0"], "-ERR syntax error\r\n");
}

#[test]
fn blocked_client_is_served_by_a_push_from_another_connection() {
    let srv = start();
    let mut c = conn(&srv);
    let mut r = block(&srv, &mut c, &["BLPOP", "k1", "k2", "0"]);
    assert_eq!(q::<i64>(&mut c, &["RPUSH", "k2", "v", "w"]), 2);
    expect(&mut r, "*2\r\n$2\r\nk2\r\n$1\r\nv\r\n");
    assert_eq!(blocked(&mut c), 0);
    assert_eq!(q::<Vec<String>>(&mut c, &["LRANGE", "k2", "0", "-1"]), ["w"]);
    // The client works normally afterwards.
    check(&mut r, &["PING"], "+PONG\r\n");
}

#[test]
fn several_blocked_clients_are_served_in_fifo_order() {
    let srv = start();
    let mut c = conn(&srv);
    let mut a = block(&srv, &mut c, &["BLPOP", "k", "0"]);
    let mut b = block(&srv, &mut c, &["BRPOP", "k", "0"]);
    let mut d = block(&srv, &mut c, &["BLPOP", "other", "k", "0"]);
    // One element: only the first is served.
    assert_eq!(q::<i64>(&mut c, &["RPUSH", "k", "x"]), 1);
    expect(&mut a, "*2\r\n$1\r\nk\r\n$1\r\nx\r\n");
    assert_eq!(blocked(&mut c), 2);
    assert_eq!(q::<i64>(&mut c, &["RPUSH", "k", "y", "z"]), 2);
    expect(&mut b, "*2\r\n$1\r\nk\r\n$1\r\nz\r\n");
    expect(&mut d, "*2\r\n$1\r\nk\r\n$1\r\ny\r\n");
    assert_eq!(blocked(&mut c), 0);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "k"]), 0);
}

#[test]
fn timeouts_reply_with_the_null_array() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    let t = Instant::now();
    check(&mut r, &["BLPOP", "k", "0.1"], "*-1\r\n");
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(90) && took < TIMEOUT, "{took:?}");
    check(&mut r, &["BLMOVE", "k", "d", "LEFT", "LEFT", "0.05"], "*-1\r\n");
    check(&mut r, &["BRPOPLPUSH", "k", "d", "0.05"], "*-1\r\n");
    check(&mut r, &["BLMPOP", "0.05", "1", "k", "LEFT"], "*-1\r\n");
    check(&mut r, &["BZPOPMIN", "k", "0.05"], "*-1\r\n");
    check(&mut r, &["BZMPOP", "0.05", "1", "k", "MIN"], "*-1\r\n");
    // RESP3: the null.
    let mut c = conn(&srv);
    let mut r4 = Raw::connect(&srv);
    r4.send(b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n");
    // HELLO's map is skipped: the replies are read up to a marker.
    r4.send(&req(&["BLPOP", "k", "0.05"]));
    r4.send(&req(&["ECHO", "end-of-test"]));
    let deadline = Instant::now() + TIMEOUT;
    let mut all = Vec::new();
    while !String::from_utf8_lossy(&all).contains("end-of-test") {
        assert!(Instant::now() < deadline);
        let mut buf = [0u8; 4096];
        let n = std::io::Read::read(&mut r4.stream, &mut buf).unwrap();
        all.extend_from_slice(&buf[..n]);
    }
    assert!(String::from_utf8_lossy(&all).ends_with("_\r\n$11\r\nend-of-test\r\n"));
    assert_eq!(blocked(&mut c), 0);
}

#[test]
fn blmove_and_linked_moves() {
    let srv = start();
    let mut c = conn(&srv);
    let mut a = block(&srv, &mut c, &["BLMOVE", "l1", "l2", "RIGHT", "LEFT", "0"]);
    let mut b = block(&srv, &mut c, &["BRPOPLPUSH", "l2", "l3", "0"]);
    assert_eq!(q::<i64>(&mut c, &["RPUSH", "l1", "foo"]), 1);
    expect(&mut a, "$3\r\nfoo\r\n");
    expect(&mut b, "$3\r\nfoo\r\n");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "l1", "l2"]), 0);
    assert_eq!(q::<Vec<String>>(&mut c, &["LRANGE", "l3", "0", "-1"]), ["foo"]);
    // A wrong-type destination: the client gets the error, the element stays.
    let _: () = q(&mut c, &["SET", "str", "v"]);
    let mut d = block(&srv, &mut c, &["BLMOVE", "src", "str", "LEFT", "LEFT", "0"]);
    assert_eq!(q::<i64>(&mut c, &["RPUSH", "src", "e"]), 1);
    expect(&mut d, WRONGTYPE);
    assert_eq!(q::<i64>(&mut c, &["LLEN", "src"]), 1);
    assert_eq!(blocked(&mut c), 0);
}

#[test]
fn blmpop_is_served_with_its_count() {
    let srv = start();
    let mut c = conn(&srv);
    let mut a = block(&srv, &mut c, &["BLMPOP", "0", "2", "a", "b", "RIGHT", "COUNT", "2"]);
    assert_eq!(q::<i64>(&mut c, &["RPUSH", "b", "1", "2", "3"]), 3);
    expect(&mut a, "*2\r\n$1\r\nb\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n");
    assert_eq!(q::<Vec<String>>(&mut c, &["LRANGE", "b", "0", "-1"]), ["1"]);
}

#[test]
fn bzpopmin_bzpopmax_and_bzmpop() {
    let srv = start();
    let mut c = conn(&srv);
    let mut r = Raw::connect(&srv);
    restore_zset(&mut c, "z");
    check(&mut r, &["BZPOPMIN", "nokey", "z", "0"], "*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n");
    check(&mut r, &["BZPOPMAX", "z", "0"], "*3\r\n$1\r\nz\r\n$1\r\nc\r\n$1\r\n3\r\n");
    check(
        &mut r,
        &["BZMPOP", "0", "1", "z", "MAX", "COUNT", "5"],
        "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n",
    );
    check(&mut r, &["EXISTS", "z"], ":0\r\n");
    check(&mut r, &["BZMPOP", "0", "x", "z", "MAX"], "-ERR numkeys should be greater than 0\r\n");
    check(&mut r, &["BZMPOP", "0", "1", "z", "LEFT"], "-ERR syntax error\r\n");
    check(&mut r, &["RPUSH", "l", "x"], ":1\r\n");
    check(&mut r, &["BZPOPMIN", "l", "0"], WRONGTYPE);

    // Blocked, then served when the key appears.
    let mut a = block(&srv, &mut c, &["BZPOPMAX", "z2", "0"]);
    let mut b = block(&srv, &mut c, &["BZMPOP", "0", "1", "z2", "MIN", "COUNT", "2"]);
    restore_zset(&mut c, "z2");
    expect(&mut a, "*3\r\n$2\r\nz2\r\n$1\r\nc\r\n$1\r\n3\r\n");
    expect(&mut b, "*2\r\n$2\r\nz2\r\n*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "z2"]), 0);

    // A list pushed to a key a zset waiter waits on does not serve it.
    let mut d = block(&srv, &mut c, &["BZPOPMIN", "k", "0"]);
    assert_eq!(q::<i64>(&mut c, &["RPUSH", "k", "x"]), 1);
    assert_eq!(blocked(&mut c), 1);
    let _: i64 = q(&mut c, &["DEL", "k"]);
    restore_zset(&mut c, "k");
    expect(&mut d, "*3\r\n$1\r\nk\r\n$1\r\na\r\n$1\r\n1\r\n");
}

#[test]
fn client_unblock_with_timeout_or_error() {
    let srv = start();
    let mut c = conn(&srv);
    let mut r = Raw::connect(&srv);
    r.send(&req(&["CLIENT", "ID"]));
    let mut id_reply = Vec::new();
    while !id_reply.ends_with(b"\r\n") {
        id_reply.extend(r.read_exact_len(1));
    }
    let id_reply = String::from_utf8(id_reply).unwrap();
    let id = id_reply.trim_start_matches(':').trim().to_string();
    assert!(id.parse::<u64>().is_ok(), "{id_reply}");
    r.send(&req(&["BLPOP", "k", "0"]));
    wait_blocked(&mut c, 1);
    assert_eq!(q::<i64>(&mut c, &["CLIENT", "UNBLOCK", &id]), 1);
    expect(&mut r, "*-1\r\n");
    assert_eq!(q::<i64>(&mut c, &["CLIENT", "UNBLOCK", &id]), 0);
    r.send(&req(&["BLMOVE", "k", "d", "LEFT", "LEFT", "0"]));
    wait_blocked(&mut c, 1);
    assert_eq!(q::<i64>(&mut c, &["CLIENT", "UNBLOCK", &id, "ERROR"]), 1);
    expect(&mut r, "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
    assert_eq!(blocked(&mut c), 0);
    check(&mut r, &["PING"], "+PONG\r\n");
    // The error counts as Redis counts it: a failed BLMOVE call, an
    // UNBLOCKED error reply.
    let errors: String = q(&mut c, &["INFO", "errorstats"]);
    assert!(errors.contains("errorstat_UNBLOCKED:count=1"), "{errors}");
    let cmds: String = q(&mut c, &["INFO", "commandstats"]);
    let blmove = cmds.lines().find(|l| l.starts_with("cmdstat_blmove:")).unwrap_or_else(|| panic!("{cmds}"));
    assert!(blmove.contains("calls=1,") && blmove.ends_with("rejected_calls=0,failed_calls=1"), "{blmove}");
}

#[test]
fn a_blocked_client_that_disconnects_is_forgotten() {
    let srv = start();
    let mut c = conn(&srv);
    let r = block(&srv, &mut c, &["BLPOP", "k", "0"]);
    drop(r);
    wait_blocked(&mut c, 0);
    assert_eq!(q::<i64>(&mut c, &["RPUSH", "k", "v"]), 1);
    assert_eq!(q::<i64>(&mut c, &["LLEN", "k"]), 1);
}

#[test]
fn blocking_commands_inside_multi_do_not_block() {
    let srv = start();
    let mut c = conn(&srv);
    let mut r = Raw::connect(&srv);
    check(&mut r, &["MULTI"], "+OK\r\n");
    check(&mut r, &["BLPOP", "k", "0"], "+QUEUED\r\n");
    check(&mut r, &["BLMOVE", "k", "d", "LEFT", "LEFT", "0"], "+QUEUED\r\n");
    check(&mut r, &["BZPOPMIN", "k", "0"], "+QUEUED\r\n");
    check(&mut r, &["EXEC"], "*3\r\n*-1\r\n$-1\r\n*-1\r\n");

    // A transaction's pushes serve a blocked client after EXEC, with the
    // transaction's final state.
    let mut b = block(&srv, &mut c, &["BLPOP", "k", "0"]);
    check(&mut r, &["MULTI"], "+OK\r\n");
    check(&mut r, &["LPUSH", "k", "a"], "+QUEUED\r\n");
    check(&mut r, &["LPUSH", "k", "b"], "+QUEUED\r\n");
    check(&mut r, &["LPUSH", "k", "c"], "+QUEUED\r\n");
    check(&mut r, &["EXEC"], "*3\r\n:1\r\n:2\r\n:3\r\n");
    expect(&mut b, "*2\r\n$1\r\nk\r\n$1\r\nc\r\n");

    // LPUSH then DEL in one transaction wakes nobody.
    let mut d = block(&srv, &mut c, &["BLPOP", "j", "0"]);
    check(&mut r, &["MULTI"], "+OK\r\n");
    check(&mut r, &["LPUSH", "j", "a"], "+QUEUED\r\n");
    check(&mut r, &["DEL", "j"], "+QUEUED\r\n");
    check(&mut r, &["EXEC"], "*2\r\n:1\r\n:1\r\n");
    assert_eq!(blocked(&mut c), 1);
    // Nor does the key becoming a string (Redis 7 keeps the client blocked).
    check(&mut r, &["SET", "j", "str"], "+OK\r\n");
    assert_eq!(blocked(&mut c), 1);
    check(&mut r, &["DEL", "j"], ":1\r\n");
    check(&mut r, &["RPUSH", "j", "z"], ":1\r\n");
    expect(&mut d, "*2\r\n$1\r\nj\r\n$1\r\nz\r\n");
}

#[test]
fn pipelined_commands_behind_a_blocked_one_run_after_it_is_served() {
    let srv = start();
    let mut c = conn(&srv);
    let mut r = Raw::connect(&srv);
    let mut batch = req(&["BLPOP", "k", "0"]);
    batch.extend(req(&["PING"]));
    batch.extend(req(&["LLEN", "k"]));
    r.send(&batch);
    wait_blocked(&mut c, 1);
    assert_eq!(q::<i64>(&mut c, &["RPUSH", "k", "a", "b"]), 2);
    expect(&mut r, "*2\r\n$1\r\nk\r\n$1\r\na\r\n+PONG\r\n:1\r\n");
    // Also after a timeout.
    let mut batch = req(&["BLPOP", "none", "0.05"]);
    batch.extend(req(&["ECHO", "after"]));
    r.send(&batch);
    expect(&mut r, "*-1\r\n$5\r\nafter\r\n");
}

#[test]
fn a_served_pop_is_logged_to_the_aof_as_its_plain_form() {
    let dir = fresh_dir();
    let srv = start_with(|cfg| {
        cfg.dir = dir.clone();
        cfg.appendonly = true;
    });
    let mut c = conn(&srv);
    let mut a = block(&srv, &mut c, &["BLPOP", "k", "0"]);
    assert_eq!(q::<i64>(&mut c, &["RPUSH", "k", "x", "y"]), 2);
    expect(&mut a, "*2\r\n$1\r\nk\r\n$1\r\nx\r\n");
    let mut b = block(&srv, &mut c, &["BLMOVE", "m", "n", "LEFT", "RIGHT", "0"]);
    assert_eq!(q::<i64>(&mut c, &["RPUSH", "m", "v"]), 1);
    expect(&mut b, "$1\r\nv\r\n");
    // Served at once: logged the same way.
    check(&mut a, &["BRPOP", "k", "0"], "*2\r\n$1\r\nk\r\n$1\r\ny\r\n");
    check(&mut a, &["RPUSH", "p", "1", "2"], ":2\r\n");
    check(
        &mut a,
        &["LMPOP", "1", "p", "LEFT", "COUNT", "5"],
        "*2\r\n$1\r\np\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n",
    );
    let text = common::aof_text(&dir);
    assert!(text.contains("*2\r\n$4\r\nLPOP\r\n$1\r\nk\r\n"), "{text}");
    assert!(text.contains("*2\r\n$4\r\nRPOP\r\n$1\r\nk\r\n"), "{text}");
    assert!(
        text.contains("*5\r\n$5\r\nLMOVE\r\n$1\r\nm\r\n$1\r\nn\r\n$4\r\nLEFT\r\n$5\r\nRIGHT\r\n"),
        "{text}"
    );
    assert!(text.contains("*3\r\n$4\r\nLPOP\r\n$1\r\np\r\n$1\r\n2\r\n"), "{text}");
    assert!(!text.contains("BLPOP") && !text.contains("BLMOVE") && !text.contains("LMPOP"), "{text}");
    drop((a, b, c));
    srv.stop().unwrap();
    // And it replays to the same data.
    let srv = start_with(|cfg| {
        cfg.dir = dir.clone();
        cfg.appendonly = true;
    });
    let mut c = conn(&srv);
    assert_eq!(q::<Vec<String>>(&mut c, &["LRANGE", "n", "0", "-1"]), ["v"]);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "k", "m", "p"]), 0);
}

#[test]
fn blocking_works_with_io_threads() {
    let srv = start_with(|cfg| cfg.io_threads = 2);
    let mut c = conn(&srv);
    let mut a = block(&srv, &mut c, &["BLPOP", "k", "0"]);
    let mut b = block(&srv, &mut c, &["BLPOP", "k", "0"]);
    // Two pushers at once: their commands may run in one IO-thread batch
    // with the blocked clients' slots taken.
    let mut p1 = Raw::connect(&srv);
    let mut p2 = Raw::connect(&srv);
    p1.send(&req(&["RPUSH", "k", "x"]));
    p2.send(&req(&["RPUSH", "k", "y"]));
    expect(&mut p1, ":1\r\n");
    let _ = p2.read_exact_len(4);
    let mut got = vec![
        String::from_utf8(a.read_exact_len(18)).unwrap(),
        String::from_utf8(b.read_exact_len(18)).unwrap(),
    ];
    got.sort();
    assert_eq!(got, ["*2\r\n$1\r\nk\r\n$1\r\nx\r\n", "*2\r\n$1\r\nk\r\n$1\r\ny\r\n"]);
    assert_eq!(blocked(&mut c), 0);
    let mut d = block(&srv, &mut c, &["BLPOP", "k", "0.05"]);
    expect(&mut d, "*-1\r\n");
}

/// A blocked command counts once in `total_commands_processed`, when it is
/// called, not again when a push serves it (Redis 7.0 serves it without a
/// second call).
#[test]
fn a_served_blocked_command_counts_once() {
    let srv = start();
    let mut c = conn(&srv);
    let count = |c: &mut redis::Connection| {
        let info: String = q(c, &["INFO", "stats"]);
        info.lines()
            .find_map(|l| l.strip_prefix("total_commands_processed:"))
            .expect("the counter in INFO")
            .trim()
            .parse::<u64>()
            .unwrap()
    };
    let mut r = block(&srv, &mut c, &["BLPOP", "k", "0"]);
    // Between the two counts: the first INFO, the RPUSH, and nothing for
    // the BLPOP it serves.
    let before = count(&mut c);
    assert_eq!(q::<i64>(&mut c, &["RPUSH", "k", "v"]), 1);
    expect(&mut r, "*2\r\n$1\r\nk\r\n$1\r\nv\r\n");
    assert_eq!(count(&mut c), before + 2);
}

/// The timeout is read as a `long double` and rounded up to whole ms
/// (`getTimeoutFromObjectOrReply`): a positive timeout under 1 ms waits
/// 1 ms, where spindle truncated it to 0 and blocked forever; a value
/// past a double's range (`1e400`) is "negative" as in Redis, not "not a
/// float". BLMPOP and BZMPOP check their other arguments before the
/// timeout. Replies as redis-server 7.0.15 gives them; found by
/// bench/kv_diff_fuzz.py.
#[test]
fn timeouts_round_up_to_a_millisecond_and_parse_as_redis() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    for t in ["0.0001", "1e-400", "0x10p-20"] {
        check(&mut r, &["BLPOP", "k", t], "*-1\r\n");
        check(&mut r, &["BZPOPMIN", "k", t], "*-1\r\n");
        check(&mut r, &["BLMPOP", t, "1", "k", "LEFT"], "*-1\r\n");
    }
    for t in ["1e400", "-1e400", "-1"] {
        check(&mut r, &["BLPOP", "k", t], "-ERR timeout is negative\r\n");
    }
    check(&mut r, &["BLPOP", "k", " 1"], "-ERR timeout is not a float or out of range\r\n");
    check(&mut r, &["BZMPOP", "x", "0", "k", "MIN"], "-ERR numkeys should be greater than 0\r\n");
    check(&mut r, &["BZMPOP", "x", "1", "k", "MID"], "-ERR syntax error\r\n");
    check(
        &mut r,
        &["BLMPOP", "x", "1", "k", "LEFT", "COUNT", "0"],
        "-ERR count should be greater than 0\r\n",
    );
    check(&mut r, &["BLMPOP", "x", "1", "k", "LEFT"], "-ERR timeout is not a float or out of range\r\n");
}

#[test]
fn a_key_that_expired_during_a_slow_exec_does_not_serve_a_blocked_pop() {
    // Redis's unit/type/list "MULTI + LPUSH + EXPIRE + DEBUG SLEEP on
    // blocked client": by the time EXEC ends, the pushed key's TTL has run
    // out, so the blocked client must stay blocked (not pop an expired
    // value), and the key is deleted.
    let srv = start();
    let mut c = conn(&srv);
    let _: () = q(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    let mut popper = block(&srv, &mut c, &["BRPOP", "k", "0"]);
    let _: () = q(&mut c, &["MULTI"]);
    let _: () = q(&mut c, &["RPUSH", "k", "hello"]);
    let _: () = q(&mut c, &["PEXPIRE", "k", "100"]);
    let _: () = q(&mut c, &["DEBUG", "SLEEP", "0.2"]);
    let _: Vec<redis::Value> = q(&mut c, &["EXEC"]);
    assert_eq!(blocked(&mut c), 1, "still blocked");
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0, "the expired key is gone");
    let list: String = q(&mut c, &["CLIENT", "LIST"]);
    let id = list.lines().find(|l| l.contains("cmd=brpop")).and_then(|l| l.split(' ').next()).unwrap();
    let _: i64 = q(&mut c, &["CLIENT", "UNBLOCK", id.trim_start_matches("id=")]);
    expect(&mut popper, "*-1\r\n");
}
