//! FAILOVER: a master hands its role to a caught-up replica without
//! losing a write, and the old master follows the new one.

mod common;

use common::{conn, info_field as field, q, replica_of, start, wait_until};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

fn err(c: &mut redis::Connection, args: &[&str]) -> String {
    redis::cmd(args[0]).arg(&args[1..]).query::<String>(c).unwrap_err().to_string()
}

/// A replica played by hand that says it listens on `port`, syncs, and
/// never acknowledges anything; online once this returns.
fn silent_replica(
    master: &spindle_kv::server::ServerThread,
    m: &mut redis::Connection,
    port: &str,
) -> BufReader<TcpStream> {
    let sock = TcpStream::connect(master.addr()).unwrap();
    sock.set_read_timeout(Some(common::TIMEOUT)).unwrap();
    let mut w = sock.try_clone().unwrap();
    let mut rd = BufReader::new(sock);
    w.write_all(&common::req(&["REPLCONF", "listening-port", port])).unwrap();
    let mut line = String::new();
    rd.read_line(&mut line).unwrap();
    w.write_all(&common::req(&["PSYNC", "?", "-1"])).unwrap();
    wait_until("the replica is online", || {
        let text: String = redis::cmd("INFO").arg("replication").query(m).unwrap();
        text.contains("state=online")
    });
    rd
}

#[test]
fn failover_to_a_replica_swaps_the_roles_without_a_full_resync() {
    let master = start();
    let mut m = conn(&master);
    let (replica, mut r) = replica_of(&master);
    let _: () = q(&mut m, &["SELECT", "4"]);
    let _: () = q(&mut m, &["SET", "before", "1"]);
    let rport = replica.addr().port().to_string();
    let _: () = q(&mut m, &["FAILOVER", "TO", "127.0.0.1", &rport, "TIMEOUT", "10000"]);
    wait_until("the roles swap", || {
        field(&mut m, "replication", "master_failover_state") == "no-failover"
            && field(&mut m, "replication", "role") == "slave"
            && field(&mut r, "replication", "role") == "master"
    });
    wait_until("the old master follows", || field(&mut m, "replication", "master_link_status") == "up");
    assert_eq!(field(&mut r, "stats", "sync_partial_ok"), "1", "the old master continued");
    assert_eq!(field(&mut r, "stats", "sync_full"), "0");
    // The new master's writes reach the old one, in the same database.
    let _: () = q(&mut r, &["SELECT", "4"]);
    assert_eq!(q::<String>(&mut r, &["GET", "before"]), "1");
    let _: () = q(&mut r, &["SET", "after", "2"]);
    wait_until("the write arrives", || q::<Option<String>>(&mut m, &["GET", "after"]).is_some());
    let e = err(&mut m, &["SET", "x", "1"]);
    assert!(e.contains("read only replica"), "{e}");
}

#[test]
fn failover_checks_its_arguments_pauses_writes_and_can_be_aborted() {
    let master = start();
    let mut m = conn(&master);
    assert!(err(&mut m, &["FAILOVER"]).contains("FAILOVER requires connected replicas"));
    assert!(err(&mut m, &["FAILOVER", "ABORT"]).contains("No failover in progress"));
    assert!(err(&mut m, &["FAILOVER", "TIMEOUT", "0"]).contains("timeout must be greater than 0"));
    assert!(err(&mut m, &["FAILOVER", "BOGUS"]).contains("syntax error"));
    // A replica that never acknowledges anything: it never catches up.
    let _replica = silent_replica(&master, &mut m, "1");
    let _: () = q(&mut m, &["SET", "k", "1"]);
    assert!(err(&mut m, &["FAILOVER", "TO", "127.0.0.1", "2"]).contains("is not a replica"));
    assert!(err(&mut m, &["FAILOVER", "TO", "127.0.0.1", "1", "FORCE"]).contains("requires both a timeout"));
    let _: () = q(&mut m, &["FAILOVER", "TO", "127.0.0.1", "1"]);
    assert_eq!(field(&mut m, "replication", "master_failover_state"), "waiting-for-sync");
    assert!(err(&mut m, &["FAILOVER"]).contains("already in progress"));
    assert!(err(&mut m, &["REPLICAOF", "127.0.0.1", "1"]).contains("not allowed while failing over"));
    // Writes wait meanwhile; reads do not.
    let mut writer = conn(&master);
    let handle = std::thread::spawn(move || q::<String>(&mut writer, &["SET", "k", "2"]));
    assert_eq!(q::<String>(&mut m, &["GET", "k"]), "1");
    common::wait_until("the write waits", || common::info_u64(&mut m, "clients", "blocked_clients") == 1);
    // CLIENT UNPAUSE ends CLIENT PAUSE's pause, not the failover's.
    let _: () = q(&mut m, &["CLIENT", "UNPAUSE"]);
    let _: () = q(&mut m, &["PING"]);
    assert_eq!(q::<String>(&mut m, &["GET", "k"]), "1");
    assert_eq!(common::info_u64(&mut m, "clients", "blocked_clients"), 1);
    let _: () = q(&mut m, &["FAILOVER", "ABORT"]);
    assert_eq!(handle.join().unwrap(), "OK", "the write ran once the failover was aborted");
    assert_eq!(field(&mut m, "replication", "master_failover_state"), "no-failover");
    assert_eq!(field(&mut m, "replication", "role"), "master");
    // A timeout without FORCE gives up by itself.
    let _: () = q(&mut m, &["FAILOVER", "TIMEOUT", "50"]);
    wait_until("the failover times out", || {
        field(&mut m, "replication", "master_failover_state") == "no-failover"
    });
    let _: () = q(&mut m, &["SET", "k", "3"]);
}

#[test]
fn a_failover_target_that_cannot_be_reached_is_tried_again_until_aborted() {
    let master = start();
    let mut m = conn(&master);
    // The "replica" says it listens on a port where a test listener
    // accepts and hangs up at once: the handshake fails before any PSYNC.
    let target = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = target.local_addr().unwrap().port().to_string();
    let _replica = silent_replica(&master, &mut m, &port);
    // It never acknowledges: FORCE fails over to it when the time is up.
    let _: () = q(&mut m, &["FAILOVER", "TO", "127.0.0.1", &port, "TIMEOUT", "100", "FORCE"]);
    // The first attempt fails; the master tries again a second later.
    target.set_nonblocking(true).unwrap();
    for attempt in 0..2 {
        wait_until("the master connects to the target", || target.accept().is_ok());
        assert_eq!(
            field(&mut m, "replication", "master_failover_state"),
            "failover-in-progress",
            "{attempt}"
        );
    }
    let _: () = q(&mut m, &["FAILOVER", "ABORT"]);
    assert_eq!(field(&mut m, "replication", "master_failover_state"), "no-failover");
    assert_eq!(field(&mut m, "replication", "role"), "master");
    let _: () = q(&mut m, &["SET", "k", "1"]);
}
