//! A client's memory fields in CLIENT LIST, held against a live
//! redis-server 7.0 (CI installs it) doing the same thing: `qbuf` and
//! `argv-mem` while a command is half sent.

mod common;

use common::redis_server::RedisServer;
use common::{client_field as field, client_line, conn, start, wait_until};
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
