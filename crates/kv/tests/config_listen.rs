//! CONFIG SET `port` and `bind` at run time: the server listens on the new
//! addresses and stops listening on the old, all or nothing, with Redis's
//! error texts (checked against a live redis-server) when it cannot.
//! Connections already open are never touched.

mod common;

use common::redis_server::RedisServer;
use common::{q, TIMEOUT};
use spindle_kv::server::ServerThread;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};

/// Redis's reply when the new port cannot be listened on.
const PORT_ERROR: &str =
    "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs.";
/// Redis's reply when a new bind address cannot be listened on.
const BIND_ERROR: &str =
    "ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified addresses.";

/// A port nothing listens on now: bound on 0, read back, released.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn at(ip: &str, port: u16) -> SocketAddr {
    SocketAddr::new(ip.parse::<IpAddr>().unwrap(), port)
}

/// A `redis` crate connection to `addr`, with timeouts.
fn connect(addr: SocketAddr) -> redis::Connection {
    let client = redis::Client::open(format!("redis://{addr}/")).unwrap();
    let c = client.get_connection_with_timeout(TIMEOUT).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    c.set_read_timeout(Some(TIMEOUT)).unwrap();
    c
}

fn ping(c: &mut redis::Connection) {
    assert_eq!(q::<String>(c, &["PING"]), "PONG");
}

/// Whether a connection to `addr` is refused (nothing listens there).
fn refused(addr: SocketAddr) -> bool {
    match TcpStream::connect_timeout(&addr, TIMEOUT) {
        Ok(_) => false,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => true,
        Err(e) => panic!("connect {addr}: {e}"),
    }
}

/// The error reply to `args`, as Redis sends it (code and text).
fn error_of(c: &mut redis::Connection, args: &[&str]) -> String {
    let e = redis::cmd(args[0]).arg(&args[1..]).query::<()>(c).expect_err("an error reply");
    format!("{} {}", e.code().unwrap_or("?"), e.detail().unwrap_or(""))
}

fn get(c: &mut redis::Connection, name: &str) -> String {
    let got: Vec<String> = q(c, &["CONFIG", "GET", name]);
    got[1].clone()
}

/// A redis-server listening on TCP on 127.0.0.1 (Redis rebinds only with
/// a port: with port 0 it listens on no TCP socket at all).
fn redis_on_tcp() -> RedisServer {
    RedisServer::start(&["--port", &free_port().to_string(), "--bind", "127.0.0.1"])
}

#[test]
fn config_set_port_listens_on_the_new_port_only() {
    let srv = common::start();
    let old = srv.addr();
    let mut before = common::conn(&srv);
    let port = free_port();
    let () = q(&mut before, &["CONFIG", "SET", "port", &port.to_string()]);
    let mut after = connect(at("127.0.0.1", port));
    ping(&mut after);
    assert!(refused(old), "the old port still accepts");
    ping(&mut before);
    assert_eq!(get(&mut after, "port"), port.to_string());
    let info: String = q(&mut after, &["INFO", "server"]);
    assert!(info.contains(&format!("tcp_port:{port}\r\n")), "{info}");
}

#[test]
fn config_set_port_to_a_port_in_use_fails_as_redis_does_and_changes_nothing() {
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = holder.local_addr().unwrap().port().to_string();
    // Redis's own test of a failed apply: the other values roll back too.
    let args = ["CONFIG", "SET", "maxmemory", "10000001", "port", &taken, "client-query-buffer-limit", "10m"];
    let srv = common::start();
    let mut con = common::conn(&srv);
    assert_eq!(error_of(&mut con, &args), PORT_ERROR);
    let redis = redis_on_tcp();
    assert_eq!(error_of(&mut redis.conn(), &args), PORT_ERROR);
    // Still serving on the old port, a new connection as well as this one.
    ping(&mut common::conn(&srv));
    ping(&mut con);
    assert_eq!(get(&mut con, "port"), srv.addr().port().to_string());
    assert_eq!(get(&mut con, "maxmemory"), "0");
    assert_eq!(get(&mut con, "client-query-buffer-limit"), (1u64 << 30).to_string());
}

#[test]
fn config_set_bind_adds_and_drops_addresses_on_the_same_port() {
    let srv = common::start();
    let port = srv.addr().port();
    let mut before = common::conn(&srv);
    let ipv6 = TcpListener::bind("[::1]:0").is_ok();
    let two = if ipv6 { "127.0.0.1 127.0.0.2 ::1" } else { "127.0.0.1 127.0.0.2" };
    let () = q(&mut before, &["CONFIG", "SET", "bind", two]);
    assert_eq!(get(&mut before, "bind"), two);
    ping(&mut connect(at("127.0.0.2", port)));
    ping(&mut connect(at("127.0.0.1", port)));
    if ipv6 {
        ping(&mut connect(at("::1", port)));
    }
    let () = q(&mut before, &["CONFIG", "SET", "bind", "127.0.0.2"]);
    assert!(refused(at("127.0.0.1", port)), "127.0.0.1 still accepts");
    if ipv6 {
        assert!(refused(at("::1", port)), "::1 still accepts");
    }
    ping(&mut connect(at("127.0.0.2", port)));
    ping(&mut before);
}

/// A host name is resolved, as Redis's `anetTcpServer` resolves it:
/// `localhost` (from /etc/hosts) listens on 127.0.0.1.
#[test]
fn config_set_bind_resolves_a_host_name() {
    let srv = common::start();
    let port = srv.addr().port();
    let mut before = common::conn(&srv);
    let () = q(&mut before, &["CONFIG", "SET", "bind", "127.0.0.2"]);
    assert!(refused(at("127.0.0.1", port)), "127.0.0.1 still accepts");
    let () = q(&mut before, &["CONFIG", "SET", "bind", "localhost"]);
    assert_eq!(get(&mut before, "bind"), "localhost");
    ping(&mut connect(at("127.0.0.1", port)));
    assert!(refused(at("127.0.0.2", port)), "127.0.0.2 still accepts");
}

/// Redis closes the old sockets before it binds the new, so a new address
/// may overlap an old one on the same port: the wildcard for one address,
/// and back.
#[test]
fn config_set_bind_overlapping_the_old_addresses_works() {
    let srv = common::start();
    let port = srv.addr().port();
    let mut before = common::conn(&srv);
    let () = q(&mut before, &["CONFIG", "SET", "bind", "*"]);
    ping(&mut connect(at("127.0.0.1", port)));
    let () = q(&mut before, &["CONFIG", "SET", "bind", "127.0.0.1"]);
    ping(&mut connect(at("127.0.0.1", port)));
    assert!(refused(at("127.0.0.2", port)), "the wildcard still accepts");
    ping(&mut before);
}

#[test]
fn config_set_bind_that_cannot_be_bound_fails_as_redis_does_and_changes_nothing() {
    let srv = common::start();
    let old = srv.addr();
    let mut con = common::conn(&srv);
    let redis = redis_on_tcp();
    let mut rcon = redis.conn();
    // 192.0.2.1 is TEST-NET-1: no interface here has it. The last case
    // stops 127.0.0.1 and binds 127.0.0.2 before the failure, so both
    // must be undone.
    for bad in ["192.0.2.1", "999.999.999.999", "127.0.0.1 192.0.2.1", "127.0.0.2 192.0.2.1"] {
        let args = ["CONFIG", "SET", "bind", bad];
        assert_eq!(error_of(&mut con, &args), BIND_ERROR, "{bad}");
        assert_eq!(error_of(&mut rcon, &args), BIND_ERROR, "redis-server, {bad}");
        ping(&mut common::conn(&srv));
        assert_eq!(get(&mut con, "bind"), "127.0.0.1", "{bad}");
    }
    assert!(refused(at("127.0.0.2", old.port())), "a rolled-back address accepts");
    ping(&mut con);
}

/// Port 0 means no TCP listener, as in Redis.
#[test]
fn config_set_port_0_stops_listening() {
    let srv = common::start();
    let old = srv.addr();
    let mut con = common::conn(&srv);
    let () = q(&mut con, &["CONFIG", "SET", "port", "0"]);
    assert!(refused(old), "port 0 still accepts");
    assert_eq!(get(&mut con, "port"), "0");
    let port = free_port();
    let () = q(&mut con, &["CONFIG", "SET", "port", &port.to_string()]);
    ping(&mut connect(at("127.0.0.1", port)));
    ping(&mut con);
}

/// An empty `bind` means no TCP listener, as in Redis.
#[test]
fn config_set_an_empty_bind_stops_listening() {
    let srv = common::start();
    let old = srv.addr();
    let mut con = common::conn(&srv);
    let () = q(&mut con, &["CONFIG", "SET", "bind", ""]);
    assert!(refused(old), "an empty bind still accepts");
    assert_eq!(get(&mut con, "bind"), "");
    let () = q(&mut con, &["CONFIG", "SET", "bind", "127.0.0.1"]);
    ping(&mut connect(old));
    ping(&mut con);
}

/// A server with nothing to listen on does not start, as Redis exits.
#[test]
fn a_server_with_no_bind_address_does_not_start() {
    let cfg = spindle_kv::server::Config {
        port: 0,
        bind: Vec::new(),
        dir: common::fresh_dir(),
        ..Default::default()
    };
    let Err(e) = ServerThread::start(cfg) else { panic!("started with no bind address") };
    assert!(e.to_string().contains("Configured to not listen anywhere"), "{e}");
}

/// Both in one CONFIG SET: the new addresses on the new port.
#[test]
fn config_set_port_and_bind_together() {
    let srv = common::start();
    let mut con = common::conn(&srv);
    let port = free_port();
    let () = q(&mut con, &["CONFIG", "SET", "bind", "127.0.0.2", "port", &port.to_string()]);
    ping(&mut connect(at("127.0.0.2", port)));
    assert!(refused(at("127.0.0.1", port)), "127.0.0.1 accepts on the new port");
    assert!(refused(srv.addr()), "the old address accepts");
}

#[test]
fn config_rewrite_writes_the_new_port_and_bind() {
    let dir = common::fresh_dir();
    let file = dir.join("redis.conf");
    let dir_line = format!("dir {}\n", dir.display());
    std::fs::write(&file, format!("port 0\nbind 127.0.0.1\n{dir_line}")).unwrap();
    let cfg = spindle_kv::server::Config::from_args(&[file.display().to_string()]).unwrap();
    let srv = ServerThread::start(cfg).unwrap();
    let mut con = common::conn(&srv);
    let port = free_port();
    let () = q(&mut con, &["CONFIG", "SET", "port", &port.to_string(), "bind", "127.0.0.1 127.0.0.2"]);
    let () = q(&mut con, &["CONFIG", "REWRITE"]);
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text, format!("port {port}\nbind 127.0.0.1 127.0.0.2\n{dir_line}"));
    let back = spindle_kv::server::Config::from_args(&[file.display().to_string()]).unwrap();
    assert_eq!((back.port, back.bind), (port, vec!["127.0.0.1".to_string(), "127.0.0.2".to_string()]));
}
