//! Connection behaviour that Redis 7.0's own test suite checks
//! (introspection, pubsub, querybuf, pause units): CLIENT KILL's errors,
//! CLIENT REPLY with pub/sub, CLIENT LIST's query-buffer figures and the
//! cron that shrinks query buffers, and what a write pause holds.

mod common;

use common::{client_field as field, conn, q, start, wait_until, Raw};

/// Client `name`'s CLIENT LIST line, as seen by `c`; it must be connected.
fn client_line(c: &mut redis::Connection, name: &str) -> String {
    common::client_line(c, name).unwrap_or_else(|| panic!("no client {name}"))
}

/// `qbuf + qbuf-free`: the size of a client's query buffer.
fn query_buffer(c: &mut redis::Connection, name: &str) -> usize {
    let line = client_line(c, name);
    field(&line, "qbuf") + field(&line, "qbuf-free")
}

#[test]
fn client_kill_user_names_an_existing_user() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    r.roundtrip(b"CLIENT KILL USER wrong_user\r\n", b"-ERR No such user 'wrong_user'\r\n");
    r.roundtrip(b"CLIENT KILL USER default SKIPME yes\r\n", b":0\r\n");
}

#[test]
fn client_reply_on_is_answered_even_after_skip() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    r.send(b"CLIENT REPLY SKIP\r\n");
    r.roundtrip(b"CLIENT REPLY ON\r\n", b"+OK\r\n");
    r.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn pubsub_pushes_reach_a_client_whose_replies_are_off() {
    let srv = start();
    let mut sub = Raw::connect(&srv);
    sub.send(b"CLIENT REPLY OFF\r\n");
    sub.roundtrip(b"SUBSCRIBE ch\r\n", b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
    // Other replies stay silenced: PING's would come before the message.
    sub.send(b"PING\r\n");
    let mut admin = conn(&srv);
    let n: i64 = q(&mut admin, &["PUBLISH", "ch", "hi"]);
    assert_eq!(n, 1);
    sub.roundtrip(b"", b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
    sub.send(b"CLIENT REPLY SKIP\r\n");
    sub.roundtrip(b"UNSUBSCRIBE ch\r\n", b"*3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:0\r\n");
}

#[test]
fn client_list_counts_the_running_command_in_its_own_qbuf() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    // Redis 7.0 trims parsed input only after running it: the line of the
    // client asking shows its own 26-byte command, and the buffer it is in.
    r.send(&common::req(&["CLIENT", "INFO"]));
    let mut head = Vec::new();
    loop {
        let b = r.read_exact_len(1);
        head.extend_from_slice(&b);
        if head.ends_with(b"\r\n") {
            break;
        }
    }
    let len: usize = String::from_utf8_lossy(&head[1..head.len() - 2]).parse().unwrap();
    let body = String::from_utf8(r.read_exact_len(len + 2)).unwrap();
    assert_eq!(field(&body, "qbuf"), 26, "{body}");
    assert!(field(&body, "qbuf-free") >= 16 * 1024 - 26, "{body}");
}

#[test]
fn an_idle_client_gives_its_query_buffer_back() {
    let srv = start();
    let mut idle = conn(&srv);
    let _: () = q(&mut idle, &["CLIENT", "SETNAME", "idle"]);
    let mut admin = conn(&srv);
    let size = query_buffer(&mut admin, "idle");
    assert!((16 * 1024..32 * 1024).contains(&size), "{size}");
    // Released after two seconds without a command.
    wait_until("the idle buffer to be released", || query_buffer(&mut admin, "idle") == 0);
    assert!(field(&client_line(&mut admin, "idle"), "idle") >= 2);
    // And the client still works.
    let pong: String = q(&mut idle, &["PING"]);
    assert_eq!(pong, "PONG");
}

#[test]
fn a_big_query_buffer_shrinks_to_what_recent_reads_need() {
    let srv = start();
    let mut busy = conn(&srv);
    let _: () = q(&mut busy, &["CLIENT", "SETNAME", "busy"]);
    let big = "A".repeat(400_000);
    let _: () = q(&mut busy, &["SET", "x", &big]);
    let mut admin = conn(&srv);
    let orig = query_buffer(&mut admin, "busy");
    assert!(orig > 32 * 1024, "{orig}");
    // Small commands keep it busy, so it is not released but cut down.
    wait_until("the big buffer to shrink", || {
        let _: () = q(&mut busy, &["SET", "x", "small"]);
        let now = query_buffer(&mut admin, "busy");
        now > 0 && now < orig
    });
}

/// INFO's `blocked_clients`.
fn blocked_clients(c: &mut redis::Connection) -> i64 {
    let info: String = q(c, &["INFO", "clients"]);
    info.lines().find_map(|l| l.strip_prefix("blocked_clients:")).unwrap().trim().parse().unwrap()
}

#[test]
fn a_write_pause_holds_pfcount_and_writing_transactions_only() {
    let srv = start();
    let mut admin = conn(&srv);
    let _: i64 = q(&mut admin, &["PFADD", "hll", "a"]);
    // A transaction with a write, queued before the pause.
    let mut writer = Raw::connect(&srv);
    writer.roundtrip(b"MULTI\r\nSET k v\r\n", b"+OK\r\n+QUEUED\r\n");
    let _: () = q(&mut admin, &["CLIENT", "PAUSE", "60000", "WRITE"]);
    // A wrong number of arguments is answered at once.
    let mut r = Raw::connect(&srv);
    r.roundtrip(b"SET k\r\n", b"-ERR wrong number of arguments for 'set' command\r\n");
    // A transaction of reads runs.
    r.roundtrip(b"MULTI\r\nGET k\r\nEXEC\r\n", b"+OK\r\n+QUEUED\r\n*1\r\n$-1\r\n");
    assert_eq!(blocked_clients(&mut admin), 0);
    // PFCOUNT may rewrite its key, so it waits, as does the writing EXEC.
    r.send(b"PFCOUNT hll\r\n");
    writer.send(b"EXEC\r\n");
    wait_until("two postponed clients", || blocked_clients(&mut admin) == 2);
    let _: () = q(&mut admin, &["CLIENT", "UNPAUSE"]);
    r.roundtrip(b"", b":1\r\n");
    writer.roundtrip(b"", b"*1\r\n+OK\r\n");
}

/// INFO's `expired_keys`.
fn expired_keys(c: &mut redis::Connection) -> i64 {
    let info: String = q(c, &["INFO", "stats"]);
    info.lines().find_map(|l| l.strip_prefix("expired_keys:")).unwrap().trim().parse().unwrap()
}

#[test]
fn keys_do_not_expire_while_clients_are_paused() {
    let srv = start();
    let mut c = conn(&srv);
    let _: () = q(&mut c, &["SET", "k", "v", "PX", "20"]);
    let _: () = q(&mut c, &["CLIENT", "PAUSE", "60000", "WRITE"]);
    // Past its deadline the key reads as missing, but stays.
    wait_until("the key to read as expired", || q::<Option<String>>(&mut c, &["GET", "k"]).is_none());
    let ttl: i64 = q(&mut c, &["TTL", "k"]);
    assert_eq!(ttl, -2);
    assert_eq!(expired_keys(&mut c), 0);
    let n: i64 = q(&mut c, &["DBSIZE"]);
    assert_eq!(n, 1);
    let random: Option<String> = q(&mut c, &["RANDOMKEY"]);
    assert_eq!(random.as_deref(), Some("k"));
    // Once the pause ends it expires as usual.
    let _: () = q(&mut c, &["CLIENT", "UNPAUSE"]);
    let v: Option<String> = q(&mut c, &["GET", "k"]);
    assert_eq!(v, None);
    assert_eq!(expired_keys(&mut c), 1);
    let n: i64 = q(&mut c, &["DBSIZE"]);
    assert_eq!(n, 0);
}

#[test]
fn client_list_counts_a_queued_transaction_in_multi_mem() {
    let srv = start();
    let mut tx = Raw::connect(&srv);
    tx.roundtrip(b"CLIENT SETNAME tx\r\n", b"+OK\r\n");
    let mut admin = conn(&srv);
    assert_eq!(field(&client_line(&mut admin, "tx"), "multi-mem"), 0);
    let value = "v".repeat(1000);
    tx.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    tx.roundtrip(&common::req(&["SET", "k", &value]), b"+QUEUED\r\n");
    let line = client_line(&mut admin, "tx");
    assert_eq!(field(&line, "multi"), 1, "{line}");
    assert!(field(&line, "multi-mem") >= 1000, "{line}");
}

/// A field of INFO clients.
fn info_clients(c: &mut redis::Connection, name: &str) -> usize {
    let info: String = q(c, &["INFO", "clients"]);
    let tag = format!("{name}:");
    info.lines().find_map(|l| l.strip_prefix(&tag)).unwrap().trim().parse().unwrap()
}

#[test]
fn info_clients_reports_the_recent_biggest_input_buffer() {
    let srv = start();
    let mut admin = conn(&srv);
    assert!(info_clients(&mut admin, "client_recent_max_input_buffer") < 100_000);
    // A 200 kB request grows one client's query buffer; the cron notes it
    // (and keeps the figure for a few seconds after shrinking the buffer).
    let mut big = conn(&srv);
    let _: () = q(&mut big, &["SET", "k", &"x".repeat(200_000)]);
    wait_until("the input peak", || info_clients(&mut admin, "client_recent_max_input_buffer") >= 200_000);
}

/// `client_recent_max_output_buffer` counts replies waiting to be sent,
/// as Redis counts its reply list: 0 while every client reads its
/// replies (it said 1024, the buffer kept between replies), and the
/// backlog of a client that stops reading.
#[test]
fn info_clients_reports_the_recent_biggest_output_buffer() {
    let srv = start();
    let mut admin = conn(&srv);
    // The cron has looked at the clients once it noted a query buffer.
    wait_until("the cron", || info_clients(&mut admin, "client_recent_max_input_buffer") > 0);
    assert_eq!(info_clients(&mut admin, "client_recent_max_output_buffer"), 0);
    let _: () = q(&mut admin, &["SET", "big", &"x".repeat(1 << 20)]);
    let mut slow = Raw::connect(&srv);
    slow.send(&b"GET big\r\n".repeat(32));
    wait_until("the output peak", || info_clients(&mut admin, "client_recent_max_output_buffer") >= 1 << 20);
}

#[test]
fn client_list_shows_a_client_waiting_to_write() {
    let srv = start();
    let mut admin = conn(&srv);
    let _: () = q(&mut admin, &["SET", "big", &"x".repeat(1 << 20)]);
    let mut slow = Raw::connect(&srv);
    slow.roundtrip(b"CLIENT SETNAME slow\r\n", b"+OK\r\n");
    assert_eq!(
        client_line(&mut admin, "slow").split(' ').find(|f| f.starts_with("events=")),
        Some("events=r")
    );
    // 32 MB of replies it does not read: the kernel takes a few, the rest
    // waits for the socket to be writable.
    slow.send(&b"GET big\r\n".repeat(32));
    wait_until("events=rw", || client_line(&mut admin, "slow").contains(" events=rw "));
}
