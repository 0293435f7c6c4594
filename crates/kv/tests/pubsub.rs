//! Pub/sub: exact frames over raw RESP, the `redis` crate's PubSub API,
//! introspection, the subscribed context and the slow-subscriber limit.
//!
//! RESP3 push frames are covered by a unit test in `server::pubsub`
//! (HELLO is not in this branch yet).

mod common;
use common::*;
use std::time::Instant;

/// `*3 kind name count` as RESP2 writes a subscription confirmation.
fn confirm(kind: &str, name: &str, n: i64) -> String {
    format!("*3\r\n${}\r\n{kind}\r\n${}\r\n{name}\r\n:{n}\r\n", kind.len(), name.len())
}

fn message(ch: &str, msg: &str) -> String {
    format!("*3\r\n$7\r\nmessage\r\n${}\r\n{ch}\r\n${}\r\n{msg}\r\n", ch.len(), msg.len())
}

fn pmessage(pat: &str, ch: &str, msg: &str) -> String {
    format!(
        "*4\r\n$8\r\npmessage\r\n${}\r\n{pat}\r\n${}\r\n{ch}\r\n${}\r\n{msg}\r\n",
        pat.len(),
        ch.len(),
        msg.len()
    )
}

fn publish(c: &mut redis::Connection, ch: &str, msg: &[u8]) -> i64 {
    redis::cmd("PUBLISH").arg(ch).arg(msg).query(c).unwrap()
}

fn numsub(c: &mut redis::Connection, ch: &str) -> i64 {
    let v: (String, i64) = redis::cmd("PUBSUB").arg("NUMSUB").arg(ch).query(c).unwrap();
    v.1
}

/// Polls `f` until it is true or the timeout passes.
fn eventually(mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < TIMEOUT {
        if f() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(1)); // pace the polls
    }
    false
}

#[test]
fn subscribe_publish_and_pattern_frames_are_redis_frames() {
    let srv = start();
    let mut sub = Raw::connect(&srv);
    let mut p = conn(&srv);
    let want = confirm("subscribe", "c1", 1) + &confirm("subscribe", "c2", 2);
    sub.roundtrip(b"SUBSCRIBE c1 c2\r\n", want.as_bytes());
    sub.roundtrip(b"PSUBSCRIBE h?llo\r\n", confirm("psubscribe", "h?llo", 3).as_bytes());
    // Subscribing twice changes nothing but is confirmed again.
    sub.roundtrip(b"SUBSCRIBE c1\r\n", confirm("subscribe", "c1", 3).as_bytes());
    assert_eq!(publish(&mut p, "c1", b"hi"), 1);
    assert_eq!(sub.read_exact_len(message("c1", "hi").len()), message("c1", "hi").as_bytes());
    assert_eq!(publish(&mut p, "hallo", b"x"), 1);
    let want = pmessage("h?llo", "hallo", "x");
    assert_eq!(sub.read_exact_len(want.len()), want.as_bytes());
    assert_eq!(publish(&mut p, "nobody", b"x"), 0);
    sub.roundtrip(b"UNSUBSCRIBE c1\r\n", confirm("unsubscribe", "c1", 2).as_bytes());
    assert_eq!(publish(&mut p, "c1", b"lost"), 0);
    sub.roundtrip(b"PUNSUBSCRIBE\r\n", confirm("punsubscribe", "h?llo", 1).as_bytes());
    sub.roundtrip(b"UNSUBSCRIBE\r\n", confirm("unsubscribe", "c2", 0).as_bytes());
    // Out of the subscribed state: ordinary commands work again.
    sub.roundtrip(b"UNSUBSCRIBE\r\n", b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
    sub.roundtrip(b"PUNSUBSCRIBE\r\n", b"*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n");
    sub.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn a_subscribed_resp2_client_may_only_run_subscription_commands() {
    let srv = start();
    let mut sub = Raw::connect(&srv);
    sub.roundtrip(b"SUBSCRIBE c\r\n", confirm("subscribe", "c", 1).as_bytes());
    sub.roundtrip(
        b"GET a\r\n",
        b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
    );
    sub.roundtrip(b"PING\r\n", b"*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    sub.roundtrip(b"PING x\r\n", b"*2\r\n$4\r\npong\r\n$1\r\nx\r\n");
    // Unknown commands and arity are checked first, as in Redis.
    sub.roundtrip(b"NOPE\r\n", b"-ERR unknown command 'NOPE', with args beginning with: \r\n");
    // A shard subscription alone keeps the client in the subscribed state.
    sub.roundtrip(b"SSUBSCRIBE s\r\n", confirm("ssubscribe", "s", 1).as_bytes());
    sub.roundtrip(b"UNSUBSCRIBE c\r\n", confirm("unsubscribe", "c", 0).as_bytes());
    sub.send(b"SET a 1\r\n");
    let got = sub.read_exact_len(b"-ERR Can't execute 'set'".len());
    assert_eq!(got, b"-ERR Can't execute 'set'");
    let rest =
        b": only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n";
    assert_eq!(sub.read_exact_len(rest.len()), rest);
    sub.roundtrip(b"SUNSUBSCRIBE\r\n", confirm("sunsubscribe", "s", 0).as_bytes());
    sub.roundtrip(b"SET a 1\r\n", b"+OK\r\n");
    sub.roundtrip(b"QUIT\r\n", b"+OK\r\n");
}

#[test]
fn shard_channels_are_a_separate_namespace() {
    let srv = start();
    let mut sub = Raw::connect(&srv);
    let mut p = conn(&srv);
    sub.roundtrip(b"SSUBSCRIBE s\r\n", confirm("ssubscribe", "s", 1).as_bytes());
    sub.roundtrip(b"PSUBSCRIBE *\r\n", confirm("psubscribe", "*", 1).as_bytes());
    let n: i64 = redis::cmd("SPUBLISH").arg("s").arg("m").query(&mut p).unwrap();
    assert_eq!(n, 1);
    let want = "*3\r\n$8\r\nsmessage\r\n$1\r\ns\r\n$1\r\nm\r\n";
    assert_eq!(sub.read_exact_len(want.len()), want.as_bytes());
    // PUBLISH on the same name reaches the pattern, not the shard subscriber.
    assert_eq!(publish(&mut p, "s", b"n"), 1);
    let want = pmessage("*", "s", "n");
    assert_eq!(sub.read_exact_len(want.len()), want.as_bytes());
    let v: Vec<String> = redis::cmd("PUBSUB").arg("SHARDCHANNELS").query(&mut p).unwrap();
    assert_eq!(v, vec!["s".to_string()]);
    let v: (String, i64) = redis::cmd("PUBSUB").arg("SHARDNUMSUB").arg("s").query(&mut p).unwrap();
    assert_eq!(v.1, 1);
    assert_eq!(numsub(&mut p, "s"), 0);
}

#[test]
fn pubsub_introspection_and_cleanup_on_close() {
    let srv = start();
    let mut a = Raw::connect(&srv);
    let mut b = Raw::connect(&srv);
    let mut p = conn(&srv);
    a.send(b"SUBSCRIBE news.tech news.art\r\n");
    let _ = a.read_exact_len(
        confirm("subscribe", "news.tech", 1).len() + confirm("subscribe", "news.art", 2).len(),
    );
    b.roundtrip(b"SUBSCRIBE news.tech\r\n", confirm("subscribe", "news.tech", 1).as_bytes());
    b.roundtrip(
        b"PSUBSCRIBE news.* x*\r\n",
        (confirm("psubscribe", "news.*", 2) + &confirm("psubscribe", "x*", 3)).as_bytes(),
    );
    a.roundtrip(b"PSUBSCRIBE news.*\r\n", confirm("psubscribe", "news.*", 3).as_bytes());
    let mut ch: Vec<String> = redis::cmd("PUBSUB").arg("CHANNELS").query(&mut p).unwrap();
    ch.sort();
    assert_eq!(ch, vec!["news.art", "news.tech"]);
    let ch: Vec<String> = redis::cmd("PUBSUB").arg("CHANNELS").arg("*tech").query(&mut p).unwrap();
    assert_eq!(ch, vec!["news.tech"]);
    let v: Vec<redis::Value> = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg("news.tech")
        .arg("news.art")
        .arg("none")
        .query(&mut p)
        .unwrap();
    assert_eq!(v.len(), 6);
    let v: Vec<(String, i64)> = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg("news.tech")
        .arg("news.art")
        .arg("none")
        .query::<Vec<(String, i64)>>(&mut p)
        .unwrap();
    assert_eq!(v, vec![("news.tech".into(), 2), ("news.art".into(), 1), ("none".into(), 0)]);
    let n: i64 = redis::cmd("PUBSUB").arg("NUMPAT").query(&mut p).unwrap();
    assert_eq!(n, 2, "distinct patterns");
    // One message per matching subscription: 2 channel + 2 pattern.
    assert_eq!(publish(&mut p, "news.tech", b"m"), 4);
    drop(b);
    assert!(eventually(|| numsub(&mut p, "news.tech") == 1), "a closed client leaves its channels");
    let n: i64 = redis::cmd("PUBSUB").arg("NUMPAT").query(&mut p).unwrap();
    assert_eq!(n, 1);
    assert_eq!(publish(&mut p, "news.tech", b"m"), 2);
    drop(a);
    assert!(eventually(|| numsub(&mut p, "news.tech") == 0));
    let n: i64 = redis::cmd("PUBSUB").arg("NUMPAT").query(&mut p).unwrap();
    assert_eq!(n, 0);
}

#[test]
fn pubsub_subcommand_errors_and_help() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    r.roundtrip(b"PUBSUB FOO\r\n", b"-ERR unknown subcommand 'FOO'. Try PUBSUB HELP.\r\n");
    r.roundtrip(b"PUBSUB\r\n", b"-ERR wrong number of arguments for 'pubsub' command\r\n");
    r.roundtrip(b"PUBSUB NUMPAT x\r\n", b"-ERR wrong number of arguments for 'pubsub|numpat' command\r\n");
    r.roundtrip(
        b"PUBSUB CHANNELS a b\r\n",
        b"-ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.\r\n",
    );
    r.roundtrip(b"PUBLISH\r\n", b"-ERR wrong number of arguments for 'publish' command\r\n");
    r.roundtrip(b"PUBSUB NUMSUB\r\n", b"*0\r\n");
    r.send(b"PUBSUB HELP\r\n");
    let head = b"*14\r\n+PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n";
    assert_eq!(r.read_exact_len(head.len()), head);
}

#[test]
fn the_redis_crate_pubsub_api_receives_messages() {
    let srv = start();
    let mut sub_conn = conn(&srv);
    let mut p = conn(&srv);
    let mut ps = sub_conn.as_pubsub();
    ps.set_read_timeout(Some(TIMEOUT)).unwrap();
    ps.subscribe("orders").unwrap();
    ps.psubscribe("ord*").unwrap();
    assert!(eventually(|| numsub(&mut p, "orders") == 1));
    assert_eq!(publish(&mut p, "orders", b"one"), 2);
    let m = ps.get_message().unwrap();
    assert_eq!(m.get_channel_name(), "orders");
    assert_eq!(m.get_payload::<String>().unwrap(), "one");
    assert!(!m.from_pattern());
    let m = ps.get_message().unwrap();
    assert!(m.from_pattern());
    assert_eq!(m.get_pattern::<String>().unwrap(), "ord*");
    assert_eq!(m.get_payload::<String>().unwrap(), "one");
}

#[test]
fn a_subscriber_that_does_not_read_is_disconnected_past_the_hard_limit() {
    let srv = start();
    let mut sub = Raw::connect(&srv);
    sub.roundtrip(b"SUBSCRIBE flood\r\n", confirm("subscribe", "flood", 1).as_bytes());
    let mut p = conn(&srv);
    let payload = vec![b'x'; 1 << 20];
    let mut dropped = false;
    // The default pub/sub hard limit is 32 MB; kernel buffers take a few
    // MB more. 200 MB is far past both.
    for _ in 0..200 {
        publish(&mut p, "flood", &payload);
        if numsub(&mut p, "flood") == 0 {
            dropped = true;
            break;
        }
    }
    assert!(dropped, "the slow subscriber was never disconnected");
    // The publisher is a normal client (no limit) and is unaffected.
    let pong: String = redis::cmd("PING").query(&mut p).unwrap();
    assert_eq!(pong, "PONG");
}

#[test]
fn a_lower_configured_pubsub_limit_applies() {
    let srv = start_with(|cfg| {
        cfg.client_output_buffer_limit[2] =
            spindle_kv::server::config::OutputLimit { hard: 4 << 20, soft: 0, soft_secs: 0 };
    });
    let mut sub = Raw::connect(&srv);
    sub.roundtrip(b"SUBSCRIBE flood\r\n", confirm("subscribe", "flood", 1).as_bytes());
    let mut p = conn(&srv);
    let payload = vec![b'x'; 1 << 20];
    let mut sent = 0;
    while numsub(&mut p, "flood") == 1 && sent < 100 {
        publish(&mut p, "flood", &payload);
        sent += 1;
    }
    assert!(sent < 100, "disconnected after {sent} MB");
}

/// Redis's obuf-limits test "soft limit is not enforced too early and is
/// enforced when no traffic": a subscriber over the soft limit is closed
/// when the limit's time runs out, though nothing more is published.
#[test]
fn a_soft_limit_runs_out_without_more_output() {
    let srv = start_with(|cfg| {
        cfg.client_output_buffer_limit[2] =
            spindle_kv::server::config::OutputLimit { hard: 0, soft: 100_000, soft_secs: 1 };
    });
    let mut sub = Raw::connect(&srv);
    sub.send(b"CLIENT SETNAME slow\r\n");
    sub.roundtrip(b"SUBSCRIBE flood\r\n", format!("+OK\r\n{}", confirm("subscribe", "flood", 1)).as_bytes());
    let mut p = conn(&srv);
    let payload = vec![b'x'; 64 << 10];
    // Publish until the subscriber, which never reads, holds more than the
    // soft limit unsent (the kernel's buffers take the first megabytes).
    let over = eventually(|| {
        publish(&mut p, "flood", &payload);
        client_line(&mut p, "slow").is_some_and(|l| client_field(&l, "omem") > 100_000)
    });
    assert!(over, "the subscriber's output never passed the soft limit");
    // No more traffic: the cron closes it once the second has run out.
    wait_until("the subscriber over its soft limit to be closed", || numsub(&mut p, "flood") == 0);
}

#[test]
fn a_normal_client_over_a_configured_limit_is_disconnected_after_its_command() {
    use std::io::Read;
    let srv = start_with(|cfg| {
        cfg.client_output_buffer_limit[0] =
            spindle_kv::server::config::OutputLimit { hard: 1 << 20, soft: 0, soft_secs: 0 };
    });
    let mut c = conn(&srv);
    let _: () = redis::cmd("SET").arg("big").arg(vec![b'x'; 300_000]).query(&mut c).unwrap();
    let mut r = Raw::connect(&srv);
    // Ten replies of 300 KB pipelined: the buffer passes 1 MB by the
    // fourth, and the client is closed without the rest.
    r.send(&b"GET big\r\n".repeat(10));
    let mut got = 0usize;
    let mut buf = vec![0; 1 << 16];
    let closed = loop {
        match r.stream.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => break false,
        }
    };
    assert!(closed, "the client was not closed");
    assert!(got < 10 * 300_000, "got every reply ({got} bytes)");
    // Normal clients within the limit carry on.
    let pong: String = redis::cmd("PING").query(&mut c).unwrap();
    assert_eq!(pong, "PONG");
}

#[test]
fn info_stats_counts_channels_patterns_and_shard_channels() {
    let srv = start();
    let mut sub = Raw::connect(&srv);
    sub.roundtrip(
        b"SUBSCRIBE a b\r\n",
        (confirm("subscribe", "a", 1) + &confirm("subscribe", "b", 2)).as_bytes(),
    );
    // Channels and patterns count together; shard channels apart.
    sub.roundtrip(b"PSUBSCRIBE p*\r\n", confirm("psubscribe", "p*", 3).as_bytes());
    sub.roundtrip(b"SSUBSCRIBE s\r\n", confirm("ssubscribe", "s", 1).as_bytes());
    let mut c = conn(&srv);
    let info: String = redis::cmd("INFO").arg("stats").query(&mut c).unwrap();
    for field in
        ["pubsub_channels:2", "pubsub_patterns:1", "pubsubshard_channels:1", "migrate_cached_sockets:0"]
    {
        assert!(info.lines().any(|l| l == field), "no {field} in {info}");
    }
}
