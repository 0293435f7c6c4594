//! A master with replicas shuts down only once they have every write, or
//! after `shutdown-timeout` (Redis 7's `prepareForShutdown`). The replica
//! here is played by hand, so the test decides when it acknowledges.

mod common;

use common::{conn, info_field as field, info_u64, q, start, wait_until, TIMEOUT};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

/// A replica that syncs and then acknowledges only when told to.
struct FakeReplica {
    w: TcpStream,
    _r: BufReader<TcpStream>,
}

impl FakeReplica {
    fn attach(master: &spindle_kv::server::ServerThread, m: &mut redis::Connection) -> FakeReplica {
        FakeReplica::attach_to(master.addr(), m)
    }

    fn attach_to(addr: std::net::SocketAddr, m: &mut redis::Connection) -> FakeReplica {
        let sock = TcpStream::connect(addr).unwrap();
        sock.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut w = sock.try_clone().unwrap();
        let mut r = BufReader::new(sock);
        w.write_all(&common::req(&["REPLCONF", "listening-port", "1"])).unwrap();
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        assert_eq!(line, "+OK\r\n");
        w.write_all(&common::req(&["PSYNC", "?", "-1"])).unwrap();
        wait_until("the replica is online", || {
            let text: String = redis::cmd("INFO").arg("replication").query(m).unwrap();
            text.contains("state=online")
        });
        FakeReplica { w, _r: r }
    }

    fn ack(&mut self, offset: u64) {
        let _ = self.w.write_all(&common::req(&["REPLCONF", "ACK", &offset.to_string()]));
    }
}

/// Sends SHUTDOWN on a new connection from a thread; the thread returns
/// what the connection got before it closed.
fn shutdown_in_background(
    master: &spindle_kv::server::ServerThread,
    args: &'static [&'static str],
) -> std::thread::JoinHandle<String> {
    let mut s = TcpStream::connect(master.addr()).unwrap();
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    std::thread::spawn(move || {
        s.write_all(&common::req(args)).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    got.extend_from_slice(&buf[..n]);
                    if got.ends_with(b"\r\n") {
                        break;
                    }
                }
            }
        }
        String::from_utf8_lossy(&got).into_owned()
    })
}

fn wait_stopped(master: &spindle_kv::server::ServerThread) {
    wait_until("the server stops", || master.is_finished());
}

#[test]
fn shutdown_waits_for_a_lagging_replica_to_acknowledge_every_write() {
    let master = start();
    let mut m = conn(&master);
    let mut replica = FakeReplica::attach(&master, &mut m);
    // A replica is not counted among the clients, as in Redis.
    assert_eq!(info_u64(&mut m, "clients", "connected_clients"), 1);
    let _: () = q(&mut m, &["SET", "k", "1"]);
    let shutdown = shutdown_in_background(&master, &["SHUTDOWN", "NOSAVE"]);
    wait_until("the shutdown waits", || info_u64(&mut m, "clients", "blocked_clients") == 1);
    let left: i64 = field(&mut m, "server", "shutdown_in_milliseconds").parse().unwrap();
    assert!((1..=10_000).contains(&left), "{left}");
    assert!(!master.is_finished());
    // Writes wait (the offset must stand still); reads do not.
    let mut writer = conn(&master);
    let write = std::thread::spawn(move || redis::cmd("SET").arg("k").arg("2").query::<String>(&mut writer));
    wait_until("the write waits", || info_u64(&mut m, "clients", "blocked_clients") == 2);
    assert_eq!(q::<String>(&mut m, &["GET", "k"]), "1");
    // CLIENT UNPAUSE ends CLIENT PAUSE's pause only, not the shutdown's.
    let _: () = q(&mut m, &["CLIENT", "UNPAUSE"]);
    let _: () = q(&mut m, &["PING"]);
    assert_eq!(info_u64(&mut m, "clients", "blocked_clients"), 2);
    // Once the replica has it all, the server stops; SHUTDOWN gets no reply.
    let offset = info_u64(&mut m, "replication", "master_repl_offset");
    replica.ack(offset);
    assert_eq!(shutdown.join().unwrap(), "");
    wait_stopped(&master);
    assert!(write.join().unwrap().is_err(), "the paused write never ran");
}

#[test]
fn shutdown_abort_cancels_the_wait_and_writes_resume() {
    let master = start();
    let mut m = conn(&master);
    let _replica = FakeReplica::attach(&master, &mut m);
    let _: () = q(&mut m, &["SET", "k", "1"]);
    let shutdown = shutdown_in_background(&master, &["SHUTDOWN"]);
    wait_until("the shutdown waits", || info_u64(&mut m, "clients", "blocked_clients") == 1);
    // A second SHUTDOWN joins the first.
    let second = shutdown_in_background(&master, &["SHUTDOWN", "SAVE"]);
    wait_until("both wait", || info_u64(&mut m, "clients", "blocked_clients") == 2);
    let _: () = q(&mut m, &["SHUTDOWN", "ABORT"]);
    assert_eq!(shutdown.join().unwrap(), "-ERR Errors trying to SHUTDOWN. Check logs.\r\n");
    assert_eq!(second.join().unwrap(), "-ERR Errors trying to SHUTDOWN. Check logs.\r\n");
    let text: String = redis::cmd("INFO").arg("server").query(&mut m).unwrap();
    assert!(!text.contains("shutdown_in_milliseconds"), "{text}");
    let _: () = q(&mut m, &["SET", "k", "2"]);
    let e = redis::cmd("SHUTDOWN").arg("ABORT").query::<String>(&mut m).unwrap_err().to_string();
    assert!(e.contains("No shutdown in progress"), "{e}");
    assert!(!master.is_finished());
}

#[test]
fn shutdown_gives_up_waiting_after_shutdown_timeout() {
    let master = start();
    let mut m = conn(&master);
    let _replica = FakeReplica::attach(&master, &mut m);
    let _: () = q(&mut m, &["CONFIG", "SET", "shutdown-timeout", "1"]);
    let _: () = q(&mut m, &["SET", "k", "1"]);
    let started = Instant::now();
    let shutdown = shutdown_in_background(&master, &["SHUTDOWN", "NOSAVE"]);
    assert_eq!(shutdown.join().unwrap(), "");
    wait_stopped(&master);
    assert!(started.elapsed().as_millis() >= 900, "stopped after {:?}", started.elapsed());
}

#[test]
fn shutdown_now_and_a_zero_timeout_do_not_wait() {
    for (args, timeout) in [(&["SHUTDOWN", "NOW", "NOSAVE"][..], "10"), (&["SHUTDOWN", "NOSAVE"][..], "0")] {
        let master = start();
        let mut m = conn(&master);
        let _replica = FakeReplica::attach(&master, &mut m);
        let _: () = q(&mut m, &["CONFIG", "SET", "shutdown-timeout", timeout]);
        let _: () = q(&mut m, &["SET", "k", "1"]);
        let mut c = TcpStream::connect(master.addr()).unwrap();
        c.set_read_timeout(Some(TIMEOUT)).unwrap();
        c.write_all(&common::req(args)).unwrap();
        let mut rest = Vec::new();
        c.read_to_end(&mut rest).expect("the server closes the connection");
        assert!(rest.is_empty(), "{args:?}: {rest:?}");
        wait_stopped(&master);
    }
}

#[test]
fn reads_held_by_an_all_pause_run_when_it_ends_inside_a_shutdown_wait() {
    let master = start();
    let mut m = conn(&master);
    let _replica = FakeReplica::attach(&master, &mut m);
    let _: () = q(&mut m, &["SET", "k", "1"]);
    let shutdown = shutdown_in_background(&master, &["SHUTDOWN", "NOSAVE"]);
    wait_until("the shutdown waits", || info_u64(&mut m, "clients", "blocked_clients") == 1);
    let _: () = q(&mut m, &["CLIENT", "PAUSE", "300", "ALL"]);
    let started = Instant::now();
    // Held by the ALL pause (the client's set-up commands too), then run
    // once it ends, though the shutdown's write pause goes on.
    let mut reader = conn(&master);
    assert_eq!(q::<String>(&mut reader, &["GET", "k"]), "1");
    assert!(started.elapsed().as_millis() >= 250, "answered after {:?}", started.elapsed());
    let _: () = q(&mut reader, &["SHUTDOWN", "ABORT"]);
    assert!(shutdown.join().unwrap().starts_with("-ERR Errors trying to SHUTDOWN"));
}

#[test]
fn a_stop_signal_waits_for_the_replicas_too() {
    let dir = common::fresh_dir();
    let mut srv =
        common::process::ServerProcess::start(&["--port", "0", "--save", "", "--dir", dir.to_str().unwrap()]);
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], srv.port).into();
    let mut m =
        redis::Client::open(format!("redis://{addr}")).unwrap().get_connection_with_timeout(TIMEOUT).unwrap();
    let mut replica = FakeReplica::attach_to(addr, &mut m);
    let _: () = q(&mut m, &["SET", "k", "1"]);
    let killed = std::process::Command::new("kill").args(["-TERM", &srv.pid().to_string()]).status().unwrap();
    assert!(killed.success());
    wait_until("the shutdown waits", || {
        let text: String = redis::cmd("INFO").arg("server").query(&mut m).unwrap();
        text.contains("shutdown_in_milliseconds:")
    });
    replica.ack(info_u64(&mut m, "replication", "master_repl_offset"));
    assert_eq!(srv.exit_code(), Some(0));
}
