//! Differences from redis-server 7.0 that bench/kv_diff_multi.py (the
//! several-clients differential fuzzer) found: each test pins Redis's
//! reply.

mod common;

use common::wire::{read_reply, Conn};
use common::{start, Raw};
use std::time::{Duration, Instant};

#[test]
fn client_pause_checks_its_mode_before_its_timeout() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    r.roundtrip(b"CLIENT PAUSE 100 BOGUS\r\n", b"-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n");
    r.roundtrip(b"CLIENT PAUSE x BOGUS\r\n", b"-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n");
    r.roundtrip(b"CLIENT PAUSE x WRITE\r\n", b"-ERR timeout is not an integer or out of range\r\n");
}

#[test]
fn client_kill_has_no_maxage_filter_in_7_0() {
    // MAXAGE came with Redis 7.4; 7.0 calls it a syntax error.
    let srv = start();
    let mut r = Raw::connect(&srv);
    r.roundtrip(b"CLIENT KILL MAXAGE 10\r\n", b"-ERR syntax error\r\n");
    r.roundtrip(b"CLIENT KILL MAXAGE 10 SKIPME no\r\n", b"-ERR syntax error\r\n");
}

#[test]
fn a_paused_subscribers_refused_command_is_answered_at_once() {
    // Redis refuses a RESP2 subscriber's GET before it looks at the
    // pause; spindle used to hold it until the pause ended.
    let srv = start();
    let mut sub = Raw::connect(&srv);
    sub.roundtrip(b"SUBSCRIBE x\r\n", b"*3\r\n$9\r\nsubscribe\r\n$1\r\nx\r\n:1\r\n");
    let mut admin = Raw::connect(&srv);
    admin.roundtrip(b"CLIENT PAUSE 60000 ALL\r\n", b"+OK\r\n");
    let err = b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n";
    sub.roundtrip(b"GET a\r\n", err);
    // Unknown commands and arity errors too, as before.
    let mut other = Raw::connect(&srv);
    other.roundtrip(b"GET\r\n", b"-ERR wrong number of arguments for 'get' command\r\n");
}

#[test]
fn client_unpause_waits_out_an_all_pause() {
    // An ALL pause holds every command, CLIENT UNPAUSE included (Redis
    // 7.0's processCommand exempts nothing but replicas); spindle used to
    // let CLIENT commands through.
    let srv = start();
    let mut admin = Raw::connect(&srv);
    admin.roundtrip(b"CLIENT PAUSE 400 ALL\r\n", b"+OK\r\n");
    let start = Instant::now();
    let mut other = Raw::connect(&srv);
    other.roundtrip(b"CLIENT UNPAUSE\r\n", b"+OK\r\n");
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(300),
        "CLIENT UNPAUSE answered after {waited:?}, inside the pause"
    );
    // CLIENT calls refused before running are answered at once.
    admin.roundtrip(b"CLIENT PAUSE 60000 ALL\r\n", b"+OK\r\n");
    other.roundtrip(b"CLIENT BOGUS\r\n", b"-ERR unknown subcommand 'BOGUS'. Try CLIENT HELP.\r\n");
}

/// A RESP3 pmessage push for keyevent `event` on `key` through `pattern`.
fn pmessage(pattern: &str, event: &str, key: &str) -> String {
    let channel = format!("__keyevent@0__:{event}");
    format!(
        ">4\r\n$8\r\npmessage\r\n${}\r\n{pattern}\r\n${}\r\n{channel}\r\n${}\r\n{key}\r\n",
        pattern.len(),
        channel.len(),
        key.len()
    )
}

#[test]
fn lmove_replies_between_its_push_and_pop_events() {
    // Redis's lmoveHandlePush publishes the push event, then replies, then
    // lmoveGenericCommand publishes the pop event; spindle replied first.
    let srv = start();
    let mut c = Conn::new(&srv);
    c.call(&["HELLO", "3"]);
    assert_eq!(c.call(&["CONFIG", "SET", "notify-keyspace-events", "El"]), "+OK\r\n");
    assert_eq!(c.call(&["RPUSH", "b", "x", "y"]), ":2\r\n");
    c.call(&["PSUBSCRIBE", "__keyevent@0__:*"]);
    for cmd in [
        &["LMOVE", "b", "b", "RIGHT", "LEFT"][..],
        &["RPOPLPUSH", "b", "b"],
        &["BLMOVE", "b", "b", "RIGHT", "LEFT", "0"],
    ] {
        c.send(cmd);
        let frames: Vec<String> =
            (0..3).map(|_| String::from_utf8_lossy(&read_reply(&mut c.r)).into_owned()).collect();
        let moved = if cmd[0] == "RPOPLPUSH" { "x" } else { "y" };
        assert_eq!(
            frames,
            [
                pmessage("__keyevent@0__:*", "lpush", "b"),
                format!("$1\r\n{moved}\r\n"),
                pmessage("__keyevent@0__:*", "rpop", "b")
            ],
            "{cmd:?}"
        );
    }
}

/// A RESP3 pmessage push for keyspace event `event` on `key` (pattern
/// `__keyspace@0__:*`).
fn keyspace(event: &str, key: &str) -> String {
    let channel = format!("__keyspace@0__:{key}");
    format!(
        ">4\r\n$8\r\npmessage\r\n$16\r\n__keyspace@0__:*\r\n${}\r\n{channel}\r\n${}\r\n{event}\r\n",
        channel.len(),
        event.len()
    )
}

/// Sends `cmd` and reads `n` frames.
fn frames(c: &mut Conn, cmd: &[&str], n: usize) -> Vec<String> {
    c.send(cmd);
    (0..n).map(|_| String::from_utf8_lossy(&read_reply(&mut c.r)).into_owned()).collect()
}

#[test]
fn a_new_key_is_announced_before_the_reply() {
    // Redis publishes `new` when the key is added, before the command
    // replies; spindle published it after the reply (or, with only `n`
    // enabled, after everything), which a RESP3 client subscribed to its
    // own events sees.
    let srv = start();
    let mut c = Conn::new(&srv);
    c.call(&["HELLO", "3"]);
    assert_eq!(c.call(&["CONFIG", "SET", "notify-keyspace-events", "Kzln"]), "+OK\r\n");
    c.call(&["PSUBSCRIBE", "__keyspace@0__:*"]);
    assert_eq!(
        frames(&mut c, &["ZADD", "z", "1", "m"], 3),
        [keyspace("new", "z"), ":1\r\n".into(), keyspace("zadd", "z")]
    );
    assert_eq!(
        frames(&mut c, &["LPUSH", "l", "m"], 3),
        [keyspace("new", "l"), ":1\r\n".into(), keyspace("lpush", "l")]
    );
    assert_eq!(c.call(&["CONFIG", "SET", "notify-keyspace-events", "Kn"]), "+OK\r\n");
    assert_eq!(frames(&mut c, &["SET", "s", "v"], 2), [keyspace("new", "s"), "+OK\r\n".into()]);
    // In a transaction the push goes inside EXEC's array, before the
    // command's own reply, as Redis writes it.
    assert_eq!(c.call(&["MULTI"]), "+OK\r\n");
    assert_eq!(c.call(&["RPUSH", "m", "x"]), "+QUEUED\r\n");
    c.send(&["EXEC"]);
    let mut head = String::new();
    std::io::BufRead::read_line(&mut c.r, &mut head).unwrap();
    assert_eq!(head, "*1\r\n");
    assert_eq!(String::from_utf8_lossy(&read_reply(&mut c.r)), keyspace("new", "m"));
    assert_eq!(String::from_utf8_lossy(&read_reply(&mut c.r)), ":1\r\n");
}

#[test]
fn set_get_replies_before_it_sets() {
    // SET ... GET runs GET first, so the old value comes before the `new`
    // and `set` events; spindle replied after them.
    let srv = start();
    let mut c = Conn::new(&srv);
    c.call(&["HELLO", "3"]);
    assert_eq!(c.call(&["CONFIG", "SET", "notify-keyspace-events", "K$n"]), "+OK\r\n");
    c.call(&["PSUBSCRIBE", "__keyspace@0__:*"]);
    assert_eq!(
        frames(&mut c, &["SET", "k", "v", "GET"], 3),
        ["_\r\n".to_string(), keyspace("new", "k"), keyspace("set", "k")]
    );
    assert_eq!(frames(&mut c, &["GETSET", "k", "w"], 2), ["$1\r\nv\r\n".to_string(), keyspace("set", "k")]);
    assert_eq!(frames(&mut c, &["SET", "k", "x", "NX", "GET"], 1), ["$1\r\nw\r\n".to_string()]);
}

/// The (event, key) pairs `sub` (PSUBSCRIBEd to `__keyevent@0__:*` in
/// RESP2) receives up to the message `end`, published by `pubc`.
fn events_until_end(sub: &mut Conn, pubc: &mut Conn) -> Vec<(String, String)> {
    assert_eq!(pubc.call(&["PUBLISH", "__keyevent@0__:end", "x"]), ":1\r\n");
    let mut out = Vec::new();
    loop {
        let f = String::from_utf8_lossy(&read_reply(&mut sub.r)).into_owned();
        let parts: Vec<&str> = f.split("\r\n").collect();
        // *4, $8, pmessage, $n, pattern, $n, channel, $n, payload
        let event = parts[6].trim_start_matches("__keyevent@0__:").to_string();
        if event == "end" {
            return out;
        }
        out.push((event, parts[8].to_string()));
    }
}

#[test]
fn keymiss_events_follow_redis_lookups() {
    // Redis announces a miss where it reads with lookupKeyRead (MGET per
    // key, DUMP, SET ... GET, GETSET), not where it reads to write
    // (INCRBYFLOAT) or looks without notifying (OBJECT), and before the
    // command's other events. spindle had all five wrong, and sent a
    // SUNIONSTORE's misses after its `del`.
    let srv = start();
    let mut sub = Conn::new(&srv);
    let mut c = Conn::new(&srv);
    assert_eq!(c.call(&["CONFIG", "SET", "notify-keyspace-events", "Egm"]), "+OK\r\n");
    sub.call(&["PSUBSCRIBE", "__keyevent@0__:*"]);
    c.call(&["OBJECT", "ENCODING", "o"]);
    c.call(&["INCRBYFLOAT", "f", "1"]);
    assert_eq!(events_until_end(&mut sub, &mut c), []);
    c.call(&["MGET", "m1", "f", "m2"]);
    c.call(&["DUMP", "d"]);
    c.call(&["SET", "s", "v", "GET"]);
    c.call(&["GETSET", "g", "v"]);
    let miss = |k: &str| ("keymiss".to_string(), k.to_string());
    assert_eq!(events_until_end(&mut sub, &mut c), [miss("m1"), miss("m2"), miss("d"), miss("s"), miss("g")]);
    c.call(&["SUNIONSTORE", "s", "nosuch"]);
    assert_eq!(events_until_end(&mut sub, &mut c), [miss("nosuch"), ("del".to_string(), "s".to_string())]);
}

#[test]
fn client_reply_off_and_skip_cover_a_blocked_commands_late_reply() {
    // A blocked command's reply, coming at its timeout or when another
    // client pushes, is discarded under CLIENT REPLY OFF, and under SKIP
    // given before it blocked; spindle sent it. (A blocked client's next
    // commands wait for it, so the order below is fixed.)
    let srv = start();
    let mut a = Raw::connect(&srv);
    let mut b = common::conn(&srv);
    a.roundtrip(b"CLIENT REPLY OFF\r\nBLPOP k 0.01\r\nCLIENT REPLY ON\r\n", b"+OK\r\n");
    a.send(b"CLIENT REPLY SKIP\r\nBLPOP k 0\r\nPING\r\n");
    wait_blocked(&mut b);
    assert_eq!(common::q::<i64>(&mut b, &["RPUSH", "k", "x"]), 1);
    a.roundtrip(b"", b"+PONG\r\n");
    a.send(b"CLIENT REPLY OFF\r\nBLPOP k 0\r\n");
    wait_blocked(&mut b);
    assert_eq!(common::q::<i64>(&mut b, &["RPUSH", "k", "y"]), 1);
    a.roundtrip(b"CLIENT REPLY ON\r\n", b"+OK\r\n");
}

/// Waits (bounded) until INFO says one client is blocked.
fn wait_blocked(c: &mut redis::Connection) {
    common::wait_until("a blocked client", || {
        common::q::<String>(c, &["INFO", "clients"]).contains("blocked_clients:1\r\n")
    });
}

#[test]
fn the_waker_gets_the_events_of_the_client_it_serves() {
    // A RESP3 client subscribed to keyspace events pushes to a key another
    // client waits on: serving that client publishes `lpop`, which Redis
    // sends to the pusher too; spindle lost it (the pusher was out of the
    // client table while the other was served).
    let srv = start();
    let mut waiter = Raw::connect(&srv);
    let mut b = common::conn(&srv);
    let mut c = Conn::new(&srv);
    c.call(&["HELLO", "3"]);
    assert_eq!(c.call(&["CONFIG", "SET", "notify-keyspace-events", "Kl"]), "+OK\r\n");
    c.call(&["PSUBSCRIBE", "__keyspace@0__:*"]);
    waiter.send(b"BLPOP a 0\r\n");
    wait_blocked(&mut b);
    assert_eq!(
        frames(&mut c, &["LPUSH", "a", "x"], 3),
        [":1\r\n".to_string(), keyspace("lpush", "a"), keyspace("lpop", "a")]
    );
    waiter.roundtrip(b"", b"*2\r\n$1\r\na\r\n$1\r\nx\r\n");
}

#[test]
fn a_blocked_client_is_served_from_the_key_that_became_ready() {
    // Redis 7.0 serves a blocked client from the key a push made ready,
    // whatever its other keys hold by then; spindle ran the command again
    // over all its keys, so it answered WRONGTYPE when an earlier key had
    // become a sorted set, or popped an earlier key filled in the same
    // transaction.
    let srv = start();
    let mut waiter = Raw::connect(&srv);
    let mut b = common::conn(&srv);
    waiter.send(b"BRPOP a b 100\r\n");
    wait_blocked(&mut b);
    assert_eq!(common::q::<i64>(&mut b, &["ZADD", "a", "1", "m"]), 1);
    assert_eq!(common::q::<i64>(&mut b, &["RPUSH", "b", "x"]), 1);
    waiter.roundtrip(b"", b"*2\r\n$1\r\nb\r\n$1\r\nx\r\n");
    waiter.send(b"BLMPOP 0 2 c d LEFT COUNT 2\r\n");
    wait_blocked(&mut b);
    let mut raw = Raw::connect(&srv);
    raw.roundtrip(
        b"MULTI\r\nRPUSH d x z\r\nRPUSH c y\r\nEXEC\r\n",
        b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:2\r\n:1\r\n",
    );
    waiter.roundtrip(b"", b"*2\r\n$1\r\nd\r\n*2\r\n$1\r\nx\r\n$1\r\nz\r\n");
}

#[test]
fn replies_and_own_events_interleave_as_in_redis() {
    // Redis replies to HSET, HMSET and EXPIRE before publishing their
    // event, and to SADD, HDEL and an EXPIRE that deletes after; spindle
    // had each the other way round, which a RESP3 client subscribed to its
    // own keyspace events sees.
    let srv = start();
    let mut c = Conn::new(&srv);
    c.call(&["HELLO", "3"]);
    assert_eq!(c.call(&["CONFIG", "SET", "notify-keyspace-events", "Kghs"]), "+OK\r\n");
    c.call(&["PSUBSCRIBE", "__keyspace@0__:*"]);
    let ev = keyspace;
    assert_eq!(frames(&mut c, &["HSET", "h", "f", "v"], 2), [":1\r\n".to_string(), ev("hset", "h")]);
    assert_eq!(frames(&mut c, &["HMSET", "h", "g", "v"], 2), ["+OK\r\n".to_string(), ev("hset", "h")]);
    assert_eq!(frames(&mut c, &["SADD", "s", "m"], 2), [ev("sadd", "s"), ":1\r\n".to_string()]);
    assert_eq!(
        frames(&mut c, &["HDEL", "h", "f", "g"], 3),
        [ev("hdel", "h"), ev("del", "h"), ":2\r\n".to_string()]
    );
    assert_eq!(frames(&mut c, &["EXPIRE", "s", "100"], 2), [":1\r\n".to_string(), ev("expire", "s")]);
    assert_eq!(frames(&mut c, &["PEXPIREAT", "s", "1"], 2), [ev("del", "s"), ":1\r\n".to_string()]);
}
