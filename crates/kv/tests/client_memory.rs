//! A client's memory fields in CLIENT LIST, held against a live
//! redis-server 7.0 (CI installs it) doing the same thing: `qbuf` and
//! `argv-mem` while a command is half sent, `tot-mem` counting a big bulk
//! from its first bytes and growing with WATCHed keys and with
//! subscriptions (Redis's `getClientMemoryUsage` counts both), and `oll` /
//! `omem` while a reply waits for the client to read it.

mod common;

use common::redis_server::RedisServer;
use common::{client_field as field, client_line, conn, q, start, wait_until};
use std::io::{Read, Write};

/// A raw connection to either server: TCP to spindle, the unix socket to
/// redis-server.
trait Wire: Read + Write {}
impl<T: Read + Write> Wire for T {}

/// One server under test: a control connection and a way to open raw ones.
struct Side {
    name: &'static str,
    ctl: redis::Connection,
    open: Box<dyn Fn() -> Box<dyn Wire>>,
    // Kept alive for the test's length.
    _spindle: Option<spindle_kv::server::ServerThread>,
    _redis: Option<RedisServer>,
}

impl Side {
    fn spindle() -> Side {
        let srv = start();
        let addr = srv.addr();
        Side {
            name: "spindle",
            ctl: conn(&srv),
            open: Box::new(move || {
                let s = std::net::TcpStream::connect_timeout(&addr, common::TIMEOUT).expect("connect");
                s.set_read_timeout(Some(common::TIMEOUT)).unwrap();
                Box::new(s)
            }),
            _spindle: Some(srv),
            _redis: None,
        }
    }

    fn redis() -> Side {
        let redis = RedisServer::start(&[]);
        let sock = redis.sock.clone();
        Side {
            name: "redis-server",
            ctl: redis.conn(),
            open: Box::new(move || {
                let s = std::os::unix::net::UnixStream::connect(&sock).expect("connect");
                s.set_read_timeout(Some(common::TIMEOUT)).unwrap();
                Box::new(s)
            }),
            _spindle: None,
            _redis: Some(redis),
        }
    }

    /// Both servers, spindle first.
    fn both() -> [Side; 2] {
        [Side::spindle(), Side::redis()]
    }

    /// A raw client named `name`.
    fn client(&self, name: &str) -> Box<dyn Wire> {
        let mut w = (self.open)();
        w.write_all(&common::req(&["CLIENT", "SETNAME", name])).unwrap();
        expect(&mut w, b"+OK\r\n");
        w
    }

    /// The numeric field `f` of `name`'s CLIENT LIST line.
    fn field(&mut self, name: &str, f: &str) -> usize {
        let line =
            client_line(&mut self.ctl, name).unwrap_or_else(|| panic!("{}: no client {name}", self.name));
        field(&line, f)
    }

    /// Waits until `name`'s field `f` is `want`.
    fn wait_field(&mut self, name: &str, f: &str, want: usize) {
        let side = self.name;
        wait_until(&format!("{side}: {f}={want} for {name}"), || {
            let line = client_line(&mut self.ctl, name).unwrap_or_else(|| panic!("{side}: no client {name}"));
            field(&line, f) == want
        });
    }
}

/// Reads exactly `want.len()` bytes and checks them.
fn expect(w: &mut Box<dyn Wire>, want: &[u8]) {
    let mut got = vec![0; want.len()];
    w.read_exact(&mut got).expect("read a reply");
    assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(want));
}

/// Redis trims its query buffer to the element being read: a big bulk has
/// the buffer to itself (`*1\r\n$N\r\n` is gone), so `qbuf` is the bulk's
/// bytes received so far, which Redis's client-eviction test waits for
/// exactly; a small command's parsed arguments are in `argv-mem`.
#[test]
fn qbuf_is_the_element_being_read_as_in_redis() {
    for mut side in Side::both() {
        let mut big = side.client("big");
        let mut head = b"*1\r\n$65536\r\n".to_vec();
        head.resize(head.len() + 40_000, b'v');
        big.write_all(&head).unwrap();
        side.wait_field("big", "qbuf", 40_000);
        assert_eq!(side.field("big", "argv-mem"), 0, "{}", side.name);

        let mut small = side.client("small");
        small.write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nabc").unwrap();
        side.wait_field("small", "qbuf", 3);
        assert_eq!(side.field("small", "argv-mem"), 4, "{}: SET and k", side.name);
        // The rest of the bulk: the command completes and runs.
        small.write_all(b"defghij\r\n").unwrap();
        expect(&mut small, b"+OK\r\n");
        side.wait_field("small", "qbuf", 0);
        assert_eq!(side.field("small", "argv-mem"), 0, "{}", side.name);
    }
}

/// Redis makes room for a big bulk as soon as it reads its length, so the
/// client's `tot-mem` (and client eviction) counts the whole bulk while
/// only its first bytes are in, and reads the rest exactly into that room.
#[test]
fn tot_mem_counts_a_big_bulk_from_its_first_bytes() {
    const BULK: usize = 2 << 20;
    for mut side in Side::both() {
        let mut big = side.client("big");
        let mut head = format!("*1\r\n${BULK}\r\n").into_bytes();
        head.resize(head.len() + 1000, b'v');
        big.write_all(&head).unwrap();
        side.wait_field("big", "qbuf", 1000);
        let tot = side.field("big", "tot-mem");
        assert!(tot > BULK, "{}: tot-mem {tot} with a {BULK}-byte bulk announced", side.name);
        // The rest but a few bytes, then those a few at a time: the last
        // reads stay within the room made, never growing the buffer (which
        // would double it). Redis's allocator rounds 2 MiB up to 2.5.
        big.write_all(&vec![b'v'; BULK - 1000 - 5]).unwrap();
        side.wait_field("big", "qbuf", BULK - 5);
        big.write_all(b"vvv").unwrap();
        side.wait_field("big", "qbuf", BULK - 2);
        let tot = side.field("big", "tot-mem");
        assert!(tot < BULK / 2 * 3, "{}: tot-mem {tot} for a {BULK}-byte bulk", side.name);
        big.write_all(b"vv\r\n").unwrap();
        expect(&mut big, b"-ERR unknown command '");
    }
}

/// The cron gives back the room made for a big bulk once its client has
/// idled for 2 s (Redis's `clientsCronResizeQueryBuffer` too); the next
/// read makes it again, exactly, not by letting the buffer double.
#[test]
fn room_for_a_big_bulk_comes_back_exactly_after_an_idle_shrink() {
    const BULK: usize = 2 << 20;
    const FIRST: usize = BULK - (300 << 10);
    let mut side = Side::spindle();
    let mut big = side.client("big");
    let mut head = format!("*1\r\n${BULK}\r\n").into_bytes();
    head.resize(head.len() + FIRST, b'v');
    big.write_all(&head).unwrap();
    side.wait_field("big", "qbuf", FIRST);
    wait_until("the cron to shrink the idle client's buffer", || side.field("big", "qbuf-free") == 0);
    big.write_all(&[b'v'; 1000]).unwrap();
    side.wait_field("big", "qbuf", FIRST + 1000);
    let tot = side.field("big", "tot-mem");
    assert!((BULK..BULK / 2 * 3).contains(&tot), "tot-mem {tot} for a {BULK}-byte bulk");
}

/// Sends `cmd` with arguments `{prefix}0` to `{prefix}{n - 1}`, 100 to a
/// command (so the query buffer stays small), and reads the replies: one
/// per command for WATCH, one per argument for a subscription of a client
/// that had none.
fn many(w: &mut Box<dyn Wire>, cmd: &str, prefix: &str, n: usize) {
    let kind = cmd.to_ascii_lowercase();
    for from in (0..n).step_by(100) {
        let names: Vec<String> = (from..n.min(from + 100)).map(|i| format!("{prefix}{i}")).collect();
        let mut args = vec![cmd];
        args.extend(names.iter().map(String::as_str));
        w.write_all(&common::req(&args)).unwrap();
        if cmd == "WATCH" {
            expect(w, b"+OK\r\n");
            continue;
        }
        for (i, name) in (from..).zip(&names) {
            let want =
                format!("*3\r\n${}\r\n{kind}\r\n${}\r\n{name}\r\n:{}\r\n", kind.len(), name.len(), i + 1);
            expect(w, want.as_bytes());
        }
    }
}

/// Redis 7.0 counts a watched key (a list node and a `watchedKey`, 56
/// bytes) and a subscription (a list node or dict entry, 24 bytes and
/// more) in `tot-mem`. Spindle counts what its own structures hold for the
/// client; per item both land in the same range, and both give it back.
#[test]
fn tot_mem_grows_with_watched_keys_and_subscriptions() {
    const N: usize = 2000;
    for mut side in Side::both() {
        let mut w = side.client("watcher");
        let before = side.field("watcher", "tot-mem");
        many(&mut w, "WATCH", "key:", N);
        let watching = side.field("watcher", "tot-mem");
        let per_key = watching.saturating_sub(before) / N;
        assert!((32..=128).contains(&per_key), "{}: {per_key} bytes per watched key", side.name);
        w.write_all(&common::req(&["UNWATCH"])).unwrap();
        expect(&mut w, b"+OK\r\n");
        let after = side.field("watcher", "tot-mem");
        assert!(after + N * 32 <= watching, "{}: UNWATCH gives it back ({watching} -> {after})", side.name);

        for cmd in ["SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE"] {
            let name = format!("sub-{}", cmd.to_ascii_lowercase());
            let mut s = side.client(&name);
            let before = side.field(&name, "tot-mem");
            many(&mut s, cmd, "ch:", N);
            let grown = side.field(&name, "tot-mem").saturating_sub(before) / N;
            assert!((16..=128).contains(&grown), "{}: {grown} bytes per {cmd}", side.name);
        }
    }
}

/// Redis's `oll` and `omem` show a reply the client does not read; here
/// the one reply buffer holding it counts as one block (`oll=1`) and its
/// unwritten bytes are `omem`, the figure the output-buffer limit checks.
/// Once the client has read everything, both are 0 again.
#[test]
fn oll_and_omem_show_a_pending_reply() {
    const GETS: usize = 20;
    const LEN: usize = 1 << 20;
    for mut side in Side::both() {
        let _: () = q(&mut side.ctl, &["SETRANGE", "k", &(LEN - 1).to_string(), "x"]);
        let mut slow = side.client("slow");
        let gets: Vec<u8> = (0..GETS).flat_map(|_| common::req(&["GET", "k"])).collect();
        slow.write_all(&gets).unwrap();
        let what = format!("{}: a reply pending", side.name);
        let mut line = String::new();
        // More than the kernel's socket buffers take, so output waits.
        wait_until(&what, || {
            line = client_line(&mut side.ctl, "slow").unwrap();
            field(&line, "omem") > 0
        });
        assert!(field(&line, "oll") >= 1, "{}: {line}", side.name);
        assert!(field(&line, "tot-mem") >= field(&line, "omem"), "{}: {line}", side.name);
        if side.name == "spindle" {
            assert_eq!(field(&line, "oll"), 1, "{line}");
            assert_eq!(field(&line, "omem"), field(&line, "obl"), "{line}");
        }
        let reply = format!("${LEN}\r\n").len() + LEN + 2;
        let mut sink = vec![0; reply * GETS];
        slow.read_exact(&mut sink).expect("read the replies");
        side.wait_field("slow", "omem", 0);
        let line = client_line(&mut side.ctl, "slow").unwrap();
        assert_eq!((field(&line, "oll"), field(&line, "obl")), (0, 0), "{}: {line}", side.name);
    }
}

/// The client running CLIENT INFO or CLIENT LIST holds that command's
/// arguments, and Redis counts them in its `argv-mem` (and `tot-mem`),
/// as Redis's client-eviction tests rely on when they set
/// `maxmemory-clients` from a measured `tot-mem`.
#[test]
fn argv_mem_counts_the_running_command_as_in_redis() {
    for mut side in Side::both() {
        let info: String = q(&mut side.ctl, &["CLIENT", "INFO"]);
        assert_eq!(field(info.trim(), "argv-mem"), 10, "{}: CLIENT and INFO", side.name);
        let _: () = q(&mut side.ctl, &["CLIENT", "SETNAME", "ctl"]);
        let line = client_line(&mut side.ctl, "ctl").expect("listed");
        assert_eq!(field(&line, "argv-mem"), 10, "{}: CLIENT and LIST", side.name);
    }
}
