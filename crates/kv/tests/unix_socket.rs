//! `unixsocket`: the server listens on a Unix-domain socket as Redis does
//! (`redis-cli -s`, `redis+unix://` URLs): clients there are named
//! `PATH:0` with the `U` flag (`unix:PATH` in MONITOR), `unixsocketperm`
//! sets the file's mode, a stale file is replaced, `port 0` then means no
//! TCP listener, and the file is removed when the server stops.

mod common;

use common::{fresh_dir, q, start_with, wait_until};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

fn unix_conn(path: &Path) -> redis::Connection {
    let client = redis::Client::open(format!("redis+unix://{}", path.display())).expect("a unix URL");
    client.get_connection_with_timeout(Duration::from_secs(10)).expect("connect over the unix socket")
}

#[test]
fn clients_connect_over_the_unix_socket() {
    let dir = fresh_dir();
    let path = dir.join("kv.sock");
    // A file left behind by a server that did not exit cleanly.
    std::fs::write(&path, b"stale").unwrap();
    let sock = path.to_str().unwrap().to_owned();
    // With a unixsocket, port 0 means no TCP (as in Redis): take a port
    // that was free a moment ago.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let srv = start_with(move |cfg| {
        cfg.port = port;
        cfg.unixsocket = sock;
        cfg.unixsocketperm = 0o700;
    });
    let mut u = unix_conn(&path);
    let _: () = q(&mut u, &["SET", "k", "over unix"]);
    // The same data over TCP: one server, two listeners.
    let mut t = common::conn(&srv);
    assert_eq!(q::<String>(&mut t, &["GET", "k"]), "over unix");
    let me: String = q(&mut u, &["CLIENT", "INFO"]);
    let addr = format!("addr={}:0 laddr={}:0 ", path.display(), path.display());
    assert!(me.contains(&addr), "{me}");
    let flags = me.split(' ').find_map(|f| f.strip_prefix("flags=")).unwrap();
    assert!(flags.contains('U'), "{me}");
    let tcp: String = q(&mut t, &["CLIENT", "INFO"]);
    assert!(tcp.contains("flags=N "), "{tcp}");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    assert_eq!(q::<Vec<String>>(&mut t, &["CONFIG", "GET", "unixsocketperm"]), ["unixsocketperm", "700"]);
    assert!(redis::cmd("CONFIG").arg("SET").arg("unixsocket").arg("/tmp/x").query::<()>(&mut t).is_err());
    // redis-cli -s, the real client.
    let out = std::process::Command::new("timeout")
        .args(["20", "redis-cli", "-s"])
        .arg(&path)
        .args(["GET", "k"])
        .output()
        .expect("redis-cli (Debian's redis-tools) runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "over unix");
    drop(srv);
    wait_until("the socket file to be removed at exit", || !path.exists());
}

#[test]
fn port_0_with_a_unix_socket_listens_on_no_tcp_port() {
    let dir = fresh_dir();
    let path = dir.join("only.sock");
    let sock = path.to_str().unwrap().to_owned();
    let srv = start_with(move |cfg| {
        cfg.port = 0;
        cfg.unixsocket = sock;
    });
    assert!(srv.addrs().is_empty(), "{:?}", srv.addrs());
    let mut u = unix_conn(&path);
    assert_eq!(q::<Vec<String>>(&mut u, &["CONFIG", "GET", "port"]), ["port", "0"]);
    assert_eq!(q::<String>(&mut u, &["PING"]), "PONG");
}

#[test]
fn a_unix_socket_that_cannot_be_made_stops_the_start() {
    let dir = fresh_dir();
    let path = dir.join("no-such-folder").join("kv.sock");
    let cfg = spindle_kv::server::Config {
        port: 0,
        unixsocket: path.to_str().unwrap().to_owned(),
        ..spindle_kv::server::Config::default()
    };
    let err = spindle_kv::server::ServerThread::start(cfg).err().expect("the server must refuse to start");
    assert!(err.to_string().contains("Failed opening Unix socket"), "{err}");
}

/// MONITOR names a client of the unix socket `unix:<path>`, as Redis does
/// (not by its CLIENT LIST address, `<path>:0`).
#[test]
fn monitor_names_unix_socket_clients_as_redis() {
    use std::io::BufRead;
    let dir = fresh_dir();
    let path = dir.join("kv.sock");
    let sock = path.to_str().unwrap().to_owned();
    // With a unixsocket, port 0 means no TCP: a port free a moment ago.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let srv = start_with(move |cfg| {
        cfg.port = port;
        cfg.unixsocket = sock;
    });
    let mut u = unix_conn(&path);
    let mut m = common::Raw::connect(&srv);
    m.roundtrip(b"MONITOR\r\n", b"+OK\r\n");
    let _: () = q(&mut u, &["SET", "k", "v"]);
    let mut lines = std::io::BufReader::new(m.stream.try_clone().unwrap()).lines();
    let line = loop {
        let line = lines.next().expect("a monitor line").expect("read the monitor feed");
        if line.contains("\"SET\"") {
            break line;
        }
    };
    let want = format!("[0 unix:{}] \"SET\" \"k\" \"v\"", path.display());
    assert!(line.ends_with(&want), "{line}");
}
