//! MONITOR: the feed's line format and contents against a real
//! redis-server 7.0 (everything after the timestamp and the client's
//! address), what a monitoring client may still do, and the output-buffer
//! limit that drops a monitor that stops reading.

mod common;
#[allow(dead_code)]
#[path = "differential/redis.rs"]
mod reference;
#[allow(dead_code)]
#[path = "differential/resp.rs"]
mod resp;

use common::*;
use resp::{Client, Frame};
use std::net::TcpStream;
use std::time::{SystemTime, UNIX_EPOCH};

fn args(a: &[&[u8]]) -> Vec<Vec<u8>> {
    a.iter().map(|x| x.to_vec()).collect()
}

fn tcp(srv: &spindle_kv::server::ServerThread) -> (Client, String) {
    let s = TcpStream::connect_timeout(&srv.addr(), TIMEOUT).expect("connect");
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    s.set_write_timeout(Some(TIMEOUT)).unwrap();
    let me = s.local_addr().unwrap().to_string();
    (Client::new(Box::new(s)), me)
}

fn ok(s: &str) -> Frame {
    Frame::Line(b'+', s.as_bytes().to_vec())
}

/// One monitor line, taken apart: database, client address, arguments.
#[derive(Debug, PartialEq)]
struct Line {
    db: String,
    addr: String,
    args: String,
}

/// Parses `+<secs>.<usecs> [<db> <addr>] <args>`, checking the time is
/// now-ish with six digits of microseconds.
fn parse(f: Frame) -> Line {
    let Frame::Line(b'+', raw) = f else { panic!("not a monitor line: {f:?}") };
    let s = String::from_utf8(raw).expect("monitor lines are ASCII");
    let (ts, rest) = s.split_once(' ').unwrap_or_else(|| panic!("no timestamp in {s:?}"));
    let (secs, micros) = ts.split_once('.').unwrap_or_else(|| panic!("bad timestamp in {s:?}"));
    assert!(micros.len() == 6 && micros.bytes().all(|b| b.is_ascii_digit()), "{s:?}");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let secs: u64 = secs.parse().unwrap_or_else(|_| panic!("bad seconds in {s:?}"));
    assert!(secs.abs_diff(now) < 300, "timestamp {secs} is not now ({now})");
    let rest = rest.strip_prefix('[').unwrap_or_else(|| panic!("no [db addr] in {s:?}"));
    let (who, args) = rest.split_once("] ").unwrap_or_else(|| panic!("no [db addr] in {s:?}"));
    let (db, addr) = who.split_once(' ').unwrap();
    Line { db: db.into(), addr: addr.into(), args: args.into() }
}

/// Reads monitor lines up to the one for `ECHO <marker>`, which is left out.
fn lines_until(m: &mut Client, marker: &str) -> Vec<Line> {
    let mut out = Vec::new();
    let end = format!("\"ECHO\" \"{marker}\"");
    loop {
        let l = parse(m.read());
        if l.args == end {
            return out;
        }
        out.push(l);
    }
}

/// What one client runs while another monitors: shown, hidden, redacted
/// and escaped commands.
fn scenario() -> Vec<Vec<Vec<u8>>> {
    let mut v: Vec<Vec<Vec<u8>>> = [
        &[&b"SET"[..], b"k", b"v"][..],
        &[b"set", b"n", b"12345"],
        &[b"SELECT", b"3"],
        &[b"get", b"k"],
        &[b"select", b"0"],
        &[b"SET", b"bin", b"a\"b\\c\n\r\t\x07\x08\x00\x7f\xff \xc3\xa9~"],
        &[b"SET", b"", b"two words"],
        &[b"AUTH", b"pw"],
        &[b"AUTH", b"user", b"pw"],
        &[b"AUTH", b"a", b"b", b"c"],
        &[b"HELLO", b"2", b"AUTH", b"default", b"secret"],
        &[b"HELLO", b"2", b"SETNAME", b"n", b"AUTH", b"u", b"p"],
        &[b"HELLO", b"4", b"AUTH", b"u", b"p"],
        &[b"HELLO", b"2", b"FOO", b"AUTH", b"u", b"p"],
        &[b"MULTI"],
        &[b"SET", b"m", b"1"],
        &[b"INCR", b"m"],
        &[b"EXEC"],
        &[b"MULTI"],
        &[b"SET", b"m"],
        &[b"EXEC"],
        &[b"MULTI"],
        &[b"PING"],
        &[b"DISCARD"],
        &[b"nosuchcommand", b"x"],
        &[b"get"],
        &[b"LPUSH", b"k", b"x"],
        &[b"CONFIG", b"GET", b"maxmemory"],
        &[b"CONFIG", b"NOSUCH"],
        &[b"CLIENT", b"ID"],
        &[b"CLIENT", b"ID", b"extra"],
        &[b"CLIENT", b"LIST"],
        &[b"CLIENT", b"SETNAME", b"worker"],
        &[b"DEBUG", b"SLEEP", b"0"],
        &[b"SLOWLOG", b"LEN"],
        &[b"OBJECT", b"ENCODING", b"k"],
        &[b"PUBLISH", b"ch", b"msg"],
        &[b"RPUSH", b"l", b"3", b"1", b"2"],
        &[b"SORT", b"l", b"STORE", b"dst"],
        &[b"LCS", b"k", b"bin"],
        &[b"ROLE"],
        // Port 1 refuses the connection: the command fails fast.
        &[b"MIGRATE", b"127.0.0.1", b"1", b"k", b"0", b"10", b"AUTH", b"secret"],
        &[b"MIGRATE", b"127.0.0.1", b"1", b"k", b"0", b"10", b"COPY", b"AUTH2", b"u", b"secret"],
    ]
    .iter()
    .map(|a| args(a))
    .collect();
    v.push(args(&[b"MONITOR"]));
    v
}

#[test]
fn monitor_lines_match_redis_server_after_the_timestamp() {
    let srv = start();
    let redis = reference::Redis::start();
    let run = |m: &mut Client, w: &mut Client| {
        assert_eq!(m.call(&args(&[b"MONITOR"])), ok("OK"));
        for c in scenario() {
            w.call(&c);
        }
        w.call(&args(&[b"ECHO", b"end"]));
        lines_until(m, "end")
    };
    let (mut m, _) = tcp(&srv);
    let (mut w, me) = tcp(&srv);
    let ours = run(&mut m, &mut w);
    assert!(ours.iter().all(|l| l.addr == me), "lines name the client's address: {ours:?}");
    let theirs = run(&mut redis.client(), &mut redis.client());
    let show = |v: &[Line]| v.iter().map(|l| format!("[{}] {}", l.db, l.args)).collect::<Vec<_>>();
    assert_eq!(show(&ours), show(&theirs));
    // Spot checks, so the comparison cannot pass on two empty feeds.
    let ours = show(&ours);
    for want in [
        r#"[3] "SELECT" "3""#,
        r#"[0] "SET" "bin" "a\"b\\c\n\r\t\a\b\x00\x7f\xff \xc3\xa9~""#,
        r#"[0] "AUTH" "(redacted)" "(redacted)""#,
        r#"[0] "HELLO" "2" "AUTH" "(redacted)" "(redacted)""#,
        r#"[0] "AUTH" "a" "b" "c""#,
        r#"[0] "MIGRATE" "127.0.0.1" "1" "k" "0" "10" "AUTH" "(redacted)""#,
    ] {
        assert!(ours.iter().any(|l| l == want), "no line {want} in {ours:#?}");
    }
    let exec = ours.iter().position(|l| l == r#"[0] "EXEC""#).unwrap();
    assert_eq!(ours[exec - 3..exec], [r#"[0] "MULTI""#, r#"[0] "SET" "m" "1""#, r#"[0] "INCR" "m""#]);
    assert!(!ours.iter().any(|l| l.contains("CONFIG") || l.contains("DEBUG") || l.contains("nosuch")));
}

/// Reads one CRLF-terminated line from a raw connection, as a frame.
fn raw_line(r: &mut Raw) -> Frame {
    let mut line = Vec::new();
    while !line.ends_with(b"\r\n") {
        line.extend(r.read_exact_len(1));
    }
    line.truncate(line.len() - 2);
    Frame::Line(line[0], line[1..].to_vec())
}

#[test]
fn a_monitor_may_only_run_commands_that_do_not_touch_the_keyspace() {
    let srv = start();
    let mut m = Raw::connect(&srv);
    let me = m.stream.local_addr().unwrap().to_string();
    let (mut w, _) = tcp(&srv);
    m.roundtrip(&req(&["MONITOR"]), b"+OK\r\n");
    let refused = "-ERR Replica can't interact with the keyspace\r\n";
    for c in [&["GET", "k"][..], &["SET", "k", "v"], &["DBSIZE"], &["PUBLISH", "c", "m"]] {
        check(&mut m, c, refused);
    }
    // Its own commands reach it too, after their replies.
    check(&mut m, &["PING"], "+PONG\r\n");
    let l = parse(raw_line(&mut m));
    assert_eq!((l.args.as_str(), l.addr.as_str()), ("\"PING\"", me.as_str()));
    // CLIENT LIST flags it 'O'.
    let Frame::Bulk(_, Some(list)) = w.call(&args(&[b"CLIENT", b"LIST"])) else { panic!("CLIENT LIST") };
    let list = String::from_utf8(list).unwrap();
    assert_eq!(list.matches(" flags=O ").count(), 1, "{list}");
    // A second MONITOR is ignored without a reply: the next reply is PING's.
    m.send(&req(&["MONITOR"]));
    check(&mut m, &["PING"], "+PONG\r\n");
    assert_eq!(parse(raw_line(&mut m)).args, "\"PING\"");
    // RESET leaves monitor mode.
    check(&mut m, &["RESET"], "+RESET\r\n");
    w.call(&args(&[b"SET", b"after", b"reset"]));
    check(&mut m, &["GET", "after"], "$5\r\nreset\r\n");
    // MONITOR inside a transaction is refused, as Redis refuses it.
    assert_eq!(w.call(&args(&[b"MULTI"])), ok("OK"));
    assert_eq!(w.call(&args(&[b"MONITOR"])), ok("QUEUED"));
    let err = Frame::Line(b'-', b"ERR MONITOR isn't allowed for DENY BLOCKING client".to_vec());
    assert_eq!(w.call(&args(&[b"EXEC"])), Frame::Agg(b'*', Some(vec![err])));
}

#[test]
fn quit_closes_a_monitor_and_a_blocked_command_is_shown_once() {
    let srv = start();
    let (mut m, _) = tcp(&srv);
    let (mut w, _) = tcp(&srv);
    assert_eq!(m.call(&args(&[b"MONITOR"])), ok("OK"));
    let mut b = Raw::connect(&srv);
    b.send(&req(&["BLPOP", "bl", "0"]));
    // Wait (on the feed itself) until BLPOP has run and blocked.
    assert_eq!(parse(m.read()).args, r#""BLPOP" "bl" "0""#);
    w.call(&args(&[b"LPUSH", b"bl", b"x"]));
    assert_eq!(b.read_exact_len(b"*2\r\n$2\r\nbl\r\n$1\r\nx\r\n".len()), b"*2\r\n$2\r\nbl\r\n$1\r\nx\r\n");
    w.call(&args(&[b"ECHO", b"end"]));
    let lines: Vec<String> = lines_until(&mut m, "end").into_iter().map(|l| l.args).collect();
    assert_eq!(lines, [r#""LPUSH" "bl" "x""#]);
    // QUIT from a monitor: +OK, then the connection closes.
    let mut q = Raw::connect(&srv);
    q.roundtrip(&req(&["MONITOR"]), b"+OK\r\n");
    q.send(&req(&["QUIT"]));
    assert_eq!(q.read_to_close(), b"+OK\r\n");
    // The other monitor is shown that QUIT, as Redis shows it.
    w.call(&args(&[b"ECHO", b"end2"]));
    let lines: Vec<String> = lines_until(&mut m, "end2").into_iter().map(|l| l.args).collect();
    assert_eq!(lines, [r#""QUIT""#]);
}

#[test]
fn a_monitor_that_stops_reading_is_dropped_at_the_normal_client_limit() {
    // A monitor is a normal client to the output-buffer limits, as in Redis.
    let srv = start_with(|cfg| {
        cfg.client_output_buffer_limit[0] =
            spindle_kv::server::config::OutputLimit { hard: 1 << 20, soft: 0, soft_secs: 0 };
    });
    let mut slow = Raw::connect(&srv);
    slow.roundtrip(&req(&["MONITOR"]), b"+OK\r\n");
    let (mut reader, _) = tcp(&srv);
    let mut w = conn(&srv);
    let monitors = |w: &mut redis::Connection| -> usize {
        let list: String = redis::cmd("CLIENT").arg("LIST").query(w).unwrap();
        list.matches(" flags=O").count()
    };
    assert_eq!(monitors(&mut w), 1);
    let value = vec![b'x'; 100_000];
    let mut sent = 0;
    // Each SET puts a 100 KB line in the monitor's buffer; kernel buffers
    // take a few MB first. 100 MB is far past both.
    while monitors(&mut w) == 1 && sent < 1000 {
        let _: () = redis::cmd("SET").arg("big").arg(&value).query(&mut w).unwrap();
        sent += 1;
    }
    assert!(sent < 1000, "the slow monitor was never disconnected");
    // Everyone else carries on, a second monitor that reads included.
    let pong: String = redis::cmd("PING").query(&mut w).unwrap();
    assert_eq!(pong, "PONG");
    assert_eq!(reader.call(&args(&[b"MONITOR"])), ok("OK"));
    let _: () = redis::cmd("SET").arg("small").arg("1").query(&mut w).unwrap();
    assert_eq!(parse(reader.read()).args, r#""SET" "small" "1""#);
}

/// The slow log hides what MONITOR hides, as redis-server 7.0 does: AUTH,
/// HELLO, MIGRATE and CONFIG SET (`requirepass`, `masterauth`,
/// `masteruser`) are logged with their passwords as `(redacted)`.
#[test]
fn the_slow_log_redacts_passwords_as_redis_server() {
    let srv = start();
    let redis = reference::Redis::start();
    let run = |c: &mut Client| -> Vec<String> {
        c.call(&args(&[b"CONFIG", b"SET", b"slowlog-log-slower-than", b"0"]));
        c.call(&args(&[b"SLOWLOG", b"RESET"]));
        for cmd in [
            &[&b"AUTH"[..], b"pw"][..],
            &[b"HELLO", b"2", b"AUTH", b"default", b"pw"],
            &[b"MIGRATE", b"127.0.0.1", b"1", b"", b"0", b"10", b"AUTH", b"secret", b"KEYS", b"k"],
            &[b"MIGRATE", b"127.0.0.1", b"1", b"", b"0", b"10", b"AUTH2", b"u", b"secret", b"KEYS", b"k"],
            &[b"CONFIG", b"SET", b"masterauth", b"secret", b"maxmemory", b"0", b"masteruser", b"u"],
            &[b"CONFIG", b"SET", b"requirepass", b""],
        ] {
            c.call(&args(cmd));
        }
        let Frame::Agg(_, Some(entries)) = c.call(&args(&[b"SLOWLOG", b"GET", b"-1"])) else {
            panic!("SLOWLOG GET")
        };
        entries
            .into_iter()
            .map(|e| {
                let Frame::Agg(_, Some(fields)) = e else { panic!("an entry") };
                let Frame::Agg(_, Some(argv)) = &fields[3] else { panic!("its arguments") };
                let argv: Vec<String> = argv
                    .iter()
                    .map(|a| match a {
                        Frame::Bulk(_, Some(b)) => String::from_utf8_lossy(b).into_owned(),
                        other => panic!("an argument: {other:?}"),
                    })
                    .collect();
                argv.join(" ")
            })
            .collect()
    };
    let (mut ours, _) = tcp(&srv);
    let ours = run(&mut ours);
    assert_eq!(ours, run(&mut redis.client()));
    assert!(ours.contains(&"AUTH (redacted)".to_string()), "{ours:#?}");
    assert!(!ours.iter().any(|l| l.contains("secret")), "{ours:#?}");
}
