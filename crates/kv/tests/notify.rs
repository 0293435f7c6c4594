//! Keyspace notifications, enabled through the config (`notify-keyspace-events`).

mod common;
use common::*;
use redis::Commands;
use std::time::{Duration, Instant};

fn pmessage(pat: &str, ch: &str, msg: &str) -> String {
    format!(
        "*4\r\n$8\r\npmessage\r\n${}\r\n{pat}\r\n${}\r\n{ch}\r\n${}\r\n{msg}\r\n",
        pat.len(),
        ch.len(),
        msg.len()
    )
}

/// The two messages a `K` + `E` event produces, as seen through `__key*__:*`.
fn event(db: usize, key: &str, ev: &str) -> String {
    pmessage("__key*__:*", &format!("__keyspace@{db}__:{key}"), ev)
        + &pmessage("__key*__:*", &format!("__keyevent@{db}__:{ev}"), key)
}

fn subscriber(srv: &spindle_kv::server::ServerThread) -> Raw {
    let mut s = Raw::connect(srv);
    s.roundtrip(b"PSUBSCRIBE __key*__:*\r\n", b"*3\r\n$10\r\npsubscribe\r\n$10\r\n__key*__:*\r\n:1\r\n");
    s
}

fn expect(s: &mut Raw, want: &str) {
    let got = s.read_exact_len(want.len());
    assert_eq!(String::from_utf8_lossy(&got), want);
}

#[test]
fn string_commands_publish_redis_event_names() {
    let srv = start_with(|cfg| cfg.notify_keyspace_events = "KEA".into());
    let mut s = subscriber(&srv);
    let mut c = conn(&srv);
    let _: () = c.set("foo", "bar").unwrap();
    expect(&mut s, &event(0, "foo", "set"));
    let _: () = redis::cmd("SET").arg("t").arg("1").arg("EX").arg(100).query(&mut c).unwrap();
    expect(&mut s, &(event(0, "t", "set") + &event(0, "t", "expire")));
    let _: i64 = c.incr("n", 5).unwrap();
    expect(&mut s, &event(0, "n", "incrby"));
    let _: f64 = c.incr("n", 1.5).unwrap();
    expect(&mut s, &event(0, "n", "incrbyfloat"));
    let _: i64 = c.append("foo", "!").unwrap();
    expect(&mut s, &event(0, "foo", "append"));
    let _: i64 = c.setrange("foo", 0, "B").unwrap();
    expect(&mut s, &event(0, "foo", "setrange"));
    let _: () = c.mset(&[("a", "1"), ("b", "2")]).unwrap();
    expect(&mut s, &(event(0, "a", "set") + &event(0, "b", "set")));
    let _: String = redis::cmd("GETDEL").arg("a").query(&mut c).unwrap();
    expect(&mut s, &event(0, "a", "del"));
    let _: String = redis::cmd("GETEX").arg("t").arg("PERSIST").query(&mut c).unwrap();
    expect(&mut s, &event(0, "t", "persist"));
    // Nothing for failed or read-only commands: the next event is SET's.
    let _: Option<String> = c.get("foo").unwrap();
    let _: redis::RedisResult<i64> = c.incr("foo", 1);
    let _: Option<String> = redis::cmd("GETDEL").arg("nope").query(&mut c).unwrap();
    let _: () =
        redis::pipe().cmd("SELECT").arg(3).ignore().cmd("SET").arg("z").arg("1").query(&mut c).unwrap();
    expect(&mut s, &event(3, "z", "set"));
}

#[test]
fn expired_keys_publish_expired_events() {
    let srv = start_with(|cfg| cfg.notify_keyspace_events = "KEA".into());
    let mut s = subscriber(&srv);
    let mut c = conn(&srv);
    let _: () = redis::cmd("SET").arg("gone").arg("v").arg("PX").arg(50).query(&mut c).unwrap();
    expect(&mut s, &(event(0, "gone", "set") + &event(0, "gone", "expire")));
    let start = Instant::now();
    while c.exists::<_, bool>("gone").unwrap() {
        assert!(start.elapsed() < TIMEOUT, "the key never expired");
        std::thread::sleep(Duration::from_millis(5));
    }
    expect(&mut s, &event(0, "gone", "expired"));
}

#[test]
fn a_plain_set_over_an_expired_key_expires_it_first() {
    // A plain SET skips the lookup of the old value; the expired key must
    // still be deleted first, as Redis's lookupKeyWrite does: `expired`
    // before `set`, counted in expired_keys, and no deadline carried over.
    let srv = start_with(|cfg| cfg.notify_keyspace_events = "KEA".into());
    let mut s = subscriber(&srv);
    let mut c = conn(&srv);
    let _: () = redis::cmd("DEBUG").arg("SET-ACTIVE-EXPIRE").arg(0).query(&mut c).unwrap();
    let _: () = redis::cmd("SET").arg("k").arg("old").arg("PX").arg(1).query(&mut c).unwrap();
    expect(&mut s, &(event(0, "k", "set") + &event(0, "k", "expire")));
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(5) {
        std::hint::spin_loop();
    }
    let _: () = c.set("k", "new").unwrap();
    expect(&mut s, &(event(0, "k", "expired") + &event(0, "k", "set")));
    let info: String = redis::cmd("INFO").arg("stats").query(&mut c).unwrap();
    assert!(info.contains("expired_keys:1\r\n"), "{info}");
    assert_eq!(c.ttl::<_, i64>("k").unwrap(), -1);
    assert_eq!(c.get::<_, String>("k").unwrap(), "new");
}

#[test]
fn only_enabled_classes_and_channels_publish() {
    // Keyspace channel only, string class only: no keyevent messages and
    // no generic ("expire") events.
    let srv = start_with(|cfg| cfg.notify_keyspace_events = "K$".into());
    let mut s = subscriber(&srv);
    let mut c = conn(&srv);
    let _: () = redis::cmd("SET").arg("k").arg("1").arg("EX").arg(10).query(&mut c).unwrap();
    let _: String = redis::cmd("GETDEL").arg("k").query(&mut c).unwrap();
    let _: i64 = c.incr("k", 1).unwrap();
    expect(&mut s, &pmessage("__key*__:*", "__keyspace@0__:k", "set"));
    expect(&mut s, &pmessage("__key*__:*", "__keyspace@0__:k", "incrby"));

    // Keyevent channel for expired events only.
    let srv = start_with(|cfg| cfg.notify_keyspace_events = "Ex".into());
    let mut s = subscriber(&srv);
    let mut c = conn(&srv);
    let _: () = redis::cmd("SET").arg("e").arg("1").arg("PX").arg(30).query(&mut c).unwrap();
    let start = Instant::now();
    while c.exists::<_, bool>("e").unwrap() {
        assert!(start.elapsed() < TIMEOUT, "the key never expired");
        std::thread::sleep(Duration::from_millis(5));
    }
    let _: () = c.set("after", "1").unwrap();
    let _: i64 = redis::cmd("PUBLISH").arg("__keyevent@0__:marker").arg("end").query(&mut c).unwrap();
    expect(&mut s, &pmessage("__key*__:*", "__keyevent@0__:expired", "e"));
    expect(&mut s, &pmessage("__key*__:*", "__keyevent@0__:marker", "end"));
}

#[test]
fn no_events_without_the_option() {
    let srv = start();
    let mut s = subscriber(&srv);
    let mut c = conn(&srv);
    let _: () = c.set("foo", "bar").unwrap();
    let n: i64 = redis::cmd("PUBLISH").arg("__keyspace@0__:x").arg("mine").query(&mut c).unwrap();
    assert_eq!(n, 1);
    expect(&mut s, &pmessage("__key*__:*", "__keyspace@0__:x", "mine"));
}

#[test]
fn keyspace_hash_and_set_commands_publish_redis_event_names() {
    let srv = start_with(|cfg| cfg.notify_keyspace_events = "KEA".into());
    let mut s = subscriber(&srv);
    let mut c = conn(&srv);
    let run = |c: &mut redis::Connection, args: &[&str]| {
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        let _: redis::Value = cmd.query(c).unwrap();
    };
    run(&mut c, &["HSET", "h", "f", "1", "g", "2"]);
    expect(&mut s, &event(0, "h", "hset"));
    run(&mut c, &["HINCRBY", "h", "f", "2"]);
    expect(&mut s, &event(0, "h", "hincrby"));
    run(&mut c, &["HDEL", "h", "f", "g"]);
    expect(&mut s, &(event(0, "h", "hdel") + &event(0, "h", "del")));
    run(&mut c, &["SADD", "s", "a", "b"]);
    expect(&mut s, &event(0, "s", "sadd"));
    run(&mut c, &["SMOVE", "s", "t", "a"]);
    expect(&mut s, &(event(0, "s", "srem") + &event(0, "t", "sadd")));
    run(&mut c, &["SUNIONSTORE", "u", "s", "t"]);
    expect(&mut s, &event(0, "u", "sunionstore"));
    run(&mut c, &["SPOP", "s", "5"]);
    expect(&mut s, &(event(0, "s", "spop") + &event(0, "s", "del")));
    run(&mut c, &["EXPIRE", "u", "100"]);
    expect(&mut s, &event(0, "u", "expire"));
    run(&mut c, &["PERSIST", "u"]);
    expect(&mut s, &event(0, "u", "persist"));
    run(&mut c, &["RENAME", "u", "v"]);
    expect(&mut s, &(event(0, "u", "rename_from") + &event(0, "v", "rename_to")));
    run(&mut c, &["COPY", "v", "w"]);
    expect(&mut s, &event(0, "w", "copy_to"));
    run(&mut c, &["MOVE", "w", "2"]);
    expect(&mut s, &(event(0, "w", "move_from") + &event(2, "w", "move_to")));
    run(&mut c, &["DEL", "v", "t", "nope"]);
    expect(&mut s, &(event(0, "v", "del") + &event(0, "t", "del")));
    run(&mut c, &["SET", "last", "1"]);
    expect(&mut s, &event(0, "last", "set"));
}

#[test]
fn new_keys_and_key_misses_are_announced_when_enabled() {
    // `A` does not include `n` and `m`; they must be asked for.
    let srv = start_with(|cfg| cfg.notify_keyspace_events = "KEAnm".into());
    let mut s = subscriber(&srv);
    let mut c = conn(&srv);
    let _: () = c.set("fresh", "1").unwrap();
    // `new` comes when the key is added, before the command's own event.
    expect(&mut s, &(event(0, "fresh", "new") + &event(0, "fresh", "set")));
    let _: () = c.set("fresh", "2").unwrap();
    expect(&mut s, &event(0, "fresh", "set"));
    let _: Option<String> = c.get("absent").unwrap();
    expect(&mut s, &event(0, "absent", "keymiss"));
    let _: i64 = redis::cmd("HSET").arg("h").arg("f").arg("v").query(&mut c).unwrap();
    expect(&mut s, &(event(0, "h", "new") + &event(0, "h", "hset")));
    // Switched off at run time, neither is sent any more.
    let _: () =
        redis::cmd("CONFIG").arg("SET").arg("notify-keyspace-events").arg("KEA").query(&mut c).unwrap();
    let _: Option<String> = c.get("absent").unwrap();
    let _: () = c.set("other", "1").unwrap();
    expect(&mut s, &event(0, "other", "set"));
}

#[test]
fn sort_store_publishes_sortstore_or_del_and_a_plain_sort_nothing() {
    let srv = start_with(|cfg| cfg.notify_keyspace_events = "KEA".into());
    let mut c = conn(&srv);
    let _: () = redis::cmd("RPUSH").arg("src").arg(&["2", "1"]).query(&mut c).unwrap();
    let mut s = subscriber(&srv);
    let _: Vec<String> = redis::cmd("SORT").arg("src").query(&mut c).unwrap();
    let _: i64 = redis::cmd("SORT").arg("src").arg("STORE").arg("dst").query(&mut c).unwrap();
    expect(&mut s, &event(0, "dst", "sortstore"));
    // An empty result deletes the destination; no event when there was none.
    let _: i64 = redis::cmd("SORT").arg("nokey").arg("STORE").arg("dst").query(&mut c).unwrap();
    let _: i64 = redis::cmd("SORT").arg("nokey").arg("STORE").arg("dst").query(&mut c).unwrap();
    let _: () = c.set("last", "1").unwrap();
    expect(&mut s, &(event(0, "dst", "del") + &event(0, "last", "set")));
}
