//! Partial resynchronization (a broken link continues from the master's
//! backlog instead of a new snapshot) and WAIT, both ways and against
//! redis-server.

mod common;

use common::redis_server::RedisServer;
use common::wire::read_command;
use common::{conn, info_field as field, q, replica_of, start, start_with, wait_until};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

fn info(c: &mut redis::Connection, section: &str) -> String {
    redis::cmd("INFO").arg(section).query(c).unwrap()
}

/// Kills the master's replica connections (CLIENT KILL TYPE replica).
fn kill_replicas(m: &mut redis::Connection) {
    let killed: i64 = q(m, &["CLIENT", "KILL", "TYPE", "replica"]);
    assert!(killed >= 1, "a replica was connected");
}

#[test]
fn a_broken_link_continues_from_the_backlog_in_the_database_it_had() {
    let master = start();
    let mut m = conn(&master);
    let (replica, mut r) = replica_of(&master);
    assert_eq!(field(&mut m, "replication", "repl_backlog_active"), "1");
    assert_eq!(field(&mut m, "replication", "repl_backlog_size"), "1048576");
    let _: () = q(&mut m, &["SELECT", "3"]);
    let _: () = q(&mut m, &["SET", "a", "1"]);
    let _: () = q(&mut r, &["SELECT", "3"]);
    wait_until("the first write arrives", || q::<Option<String>>(&mut r, &["GET", "a"]).is_some());
    kill_replicas(&mut m);
    // Written while the link is down: only the backlog has it, and the
    // stream does not repeat its SELECT 3.
    let _: () = q(&mut m, &["SET", "b", "2"]);
    let _: i64 = q(&mut m, &["RPUSH", "l", "x"]);
    wait_until("the missed writes arrive", || q::<Option<i64>>(&mut r, &["LLEN", "l"]) == Some(1));
    assert_eq!(q::<String>(&mut r, &["GET", "b"]), "2");
    let _: () = q(&mut r, &["SELECT", "0"]);
    assert_eq!(q::<i64>(&mut r, &["DBSIZE"]), 0, "nothing landed in database 0");
    assert_eq!(field(&mut m, "stats", "sync_full"), "1");
    assert_eq!(field(&mut m, "stats", "sync_partial_ok"), "1", "{}", info(&mut m, "all"));
    // And the offsets agree again, in INFO and in ROLE on both sides.
    wait_until("the replica acknowledges the whole stream", || {
        let off = field(&mut m, "replication", "master_repl_offset");
        info(&mut m, "replication").contains(&format!("state=online,offset={off},"))
    });
    let off: i64 = field(&mut m, "replication", "master_repl_offset").parse().unwrap();
    let role: (String, i64, Vec<Vec<String>>) = q(&mut m, &["ROLE"]);
    let entry = vec!["127.0.0.1".to_string(), replica.addr().port().to_string(), off.to_string()];
    assert_eq!(role, ("master".to_string(), off, vec![entry]));
    let role: (String, String, i64, String, i64) = q(&mut r, &["ROLE"]);
    assert_eq!(
        role,
        ("slave".into(), "127.0.0.1".into(), i64::from(master.addr().port()), "connected".into(), off)
    );
}

#[test]
fn a_psync_the_backlog_cannot_serve_gets_a_full_resync() {
    let master = start();
    let mut m = conn(&master);
    let (_replica, _r) = replica_of(&master);
    let replid = field(&mut m, "replication", "master_replid");
    // The replica's own first PSYNC offered its own history: one already.
    let errors_before: u64 = field(&mut m, "stats", "sync_partial_err").parse().unwrap();
    let ahead =
        (field(&mut m, "replication", "master_repl_offset").parse::<u64>().unwrap() + 1000).to_string();
    for (id, offset) in [(replid.as_str(), ahead.as_str()), (&"b".repeat(40), "1")] {
        let sock = TcpStream::connect(master.addr()).unwrap();
        sock.set_read_timeout(Some(common::TIMEOUT)).unwrap();
        let mut w = sock.try_clone().unwrap();
        let mut rd = BufReader::new(sock);
        w.write_all(common::req(&["PSYNC", id, offset]).as_slice()).unwrap();
        let mut line = String::new();
        rd.read_line(&mut line).unwrap();
        assert!(line.starts_with("+FULLRESYNC "), "{line}");
    }
    assert_eq!(field(&mut m, "stats", "sync_partial_err"), (errors_before + 2).to_string());
    let _: () = q(&mut m, &["CONFIG", "RESETSTAT"]);
    assert_eq!(field(&mut m, "stats", "sync_partial_err"), "0");
    assert_eq!(field(&mut m, "stats", "sync_full"), "0");
}

#[test]
fn wait_counts_the_replicas_that_acknowledged_the_client_s_writes() {
    let master = start();
    let mut m = conn(&master);
    // Without replicas: nothing to wait for but the timeout.
    assert_eq!(q::<i64>(&mut m, &["WAIT", "1", "10"]), 0);
    let (_replica, mut r) = replica_of(&master);
    let _: () = q(&mut m, &["SET", "k", "v"]);
    assert_eq!(q::<i64>(&mut m, &["WAIT", "1", "0"]), 1, "blocks until the replica has the write");
    assert_eq!(q::<String>(&mut r, &["GET", "k"]), "v");
    // More replicas than there are: the timeout, then how many did.
    assert_eq!(q::<i64>(&mut m, &["WAIT", "2", "50"]), 1);
    // In a transaction it does not block.
    let _: () = q(&mut m, &["MULTI"]);
    let _: () = q(&mut m, &["WAIT", "5", "0"]);
    assert_eq!(q::<Vec<i64>>(&mut m, &["EXEC"]), [1]);
    // CLIENT UNBLOCK ends a WAIT with the count so far.
    let mut waiter = conn(&master);
    let id: i64 = q(&mut waiter, &["CLIENT", "ID"]);
    let handle = std::thread::spawn(move || q::<i64>(&mut waiter, &["WAIT", "3", "0"]));
    wait_until("the WAIT blocks", || field(&mut m, "clients", "blocked_clients") == "1");
    assert_eq!(q::<i64>(&mut m, &["CLIENT", "UNBLOCK", &id.to_string()]), 1);
    assert_eq!(handle.join().unwrap(), 1);
    // Bad arguments, and a replica, get Redis's errors.
    let err = |c: &mut redis::Connection, args: &[&str]| {
        redis::cmd(args[0]).arg(&args[1..]).query::<i64>(c).unwrap_err().to_string()
    };
    assert!(err(&mut m, &["WAIT", "x", "0"]).contains("value is not an integer"));
    assert!(err(&mut m, &["WAIT", "1", "-1"]).contains("timeout is negative"));
    assert!(err(&mut r, &["WAIT", "1", "0"]).contains("WAIT cannot be used with replica instances"));
}

#[test]
fn a_redis_server_replica_continues_from_a_spindle_master_s_backlog() {
    let master = start_with(|cfg| cfg.hz = 100);
    let mut m = conn(&master);
    let port = master.addr().port().to_string();
    let replica = RedisServer::start(&["--replicaof", "127.0.0.1", &port]);
    let mut r = replica.conn();
    wait_until("the replica's link is up", || info(&mut r, "replication").contains("master_link_status:up"));
    let _: () = q(&mut m, &["SELECT", "2"]);
    let _: () = q(&mut m, &["SET", "before", "1"]);
    let _: () = q(&mut r, &["SELECT", "2"]);
    wait_until("the first write arrives", || q::<Option<String>>(&mut r, &["GET", "before"]).is_some());
    kill_replicas(&mut m);
    let _: () = q(&mut m, &["SET", "while-down", "2"]);
    wait_until("the missed write arrives", || q::<Option<String>>(&mut r, &["GET", "while-down"]).is_some());
    assert_eq!(field(&mut m, "stats", "sync_partial_ok"), "1");
    assert_eq!(field(&mut m, "stats", "sync_full"), "1");
    assert_eq!(q::<i64>(&mut m, &["WAIT", "1", "0"]), 1, "redis-server answers GETACK");
}

#[test]
fn a_spindle_replica_continues_from_a_redis_server_master_s_backlog() {
    // redis-server cannot be told to pick a port and has to listen on TCP
    // for a replica: a port the kernel just handed out and that is free.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let master = RedisServer::start(&["--port", &port.to_string(), "--bind", "127.0.0.1"]);
    let mut m = master.conn();
    let replica = start_with(|cfg| {
        cfg.inert.insert("replicaof", format!("127.0.0.1 {port}"));
    });
    let mut r = conn(&replica);
    wait_until("the link is up", || info(&mut r, "replication").contains("master_link_status:up"));
    let _: () = q(&mut m, &["SELECT", "5"]);
    let _: () = q(&mut m, &["SET", "before", "1"]);
    let _: () = q(&mut r, &["SELECT", "5"]);
    wait_until("the first write arrives", || q::<Option<String>>(&mut r, &["GET", "before"]).is_some());
    kill_replicas(&mut m);
    let _: () = q(&mut m, &["SET", "while-down", "2"]);
    wait_until("the missed write arrives", || q::<Option<String>>(&mut r, &["GET", "while-down"]).is_some());
    assert_eq!(field(&mut m, "stats", "sync_partial_ok"), "1");
    assert_eq!(q::<i64>(&mut m, &["WAIT", "1", "0"]), 1, "spindle answers GETACK");
}

/// This test playing a master: a listener, and a snapshot to send.
struct FakeMaster {
    listener: std::net::TcpListener,
    rdb: Vec<u8>,
    /// Keeps the snapshot's directory's server alive no longer than needed.
    _dir: std::path::PathBuf,
}

impl FakeMaster {
    /// Binds on an ephemeral port, with an empty spindle snapshot to send.
    fn new() -> FakeMaster {
        let dir = common::fresh_dir();
        let donor = start_with(|cfg| cfg.dir = dir.clone());
        let _: () = q(&mut conn(&donor), &["SAVE"]);
        let rdb = std::fs::read(dir.join("dump.rdb")).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        FakeMaster { listener, rdb, _dir: dir }
    }

    fn port(&self) -> String {
        self.listener.local_addr().unwrap().port().to_string()
    }

    /// Accepts the replica's link and answers its handshake up to the
    /// PSYNC, which it returns.
    fn accept(&self) -> (TcpStream, BufReader<TcpStream>, Vec<String>) {
        let (sock, _) = self.listener.accept().unwrap();
        sock.set_read_timeout(Some(common::TIMEOUT)).unwrap();
        let mut w = sock.try_clone().unwrap();
        let mut rd = BufReader::new(sock);
        loop {
            let cmd = read_command(&mut rd);
            if cmd[0] == "PSYNC" {
                return (w, rd, cmd);
            }
            w.write_all(if cmd[0] == "PING" { b"+PONG\r\n" } else { b"+OK\r\n" }).unwrap();
        }
    }

    /// Answers the PSYNC with a full resync at `offset` and the snapshot.
    fn full_resync(&self, w: &mut TcpStream, replid: &str, offset: u64) {
        w.write_all(format!("+FULLRESYNC {replid} {offset}\r\n${}\r\n", self.rdb.len()).as_bytes()).unwrap();
        w.write_all(&self.rdb).unwrap();
    }
}

#[test]
fn a_link_lost_inside_a_transaction_resumes_at_its_multi() {
    let cmd = |args: &[&str]| String::from_utf8(common::req(args)).unwrap();
    let master = FakeMaster::new();
    let replica = start();
    let mut r = conn(&replica);
    let own = field(&mut r, "replication", "master_replid");
    let _: () = q(&mut r, &["REPLICAOF", "127.0.0.1", &master.port()]);
    let (mut w, _rd, psync) = master.accept();
    // A master turning replica offers its own history first (Redis's
    // `replicationCacheMasterUsingMyself`).
    assert_eq!(psync, ["PSYNC", &own, "1"]);
    let replid = "c".repeat(40);
    master.full_resync(&mut w, &replid, 100);
    let before = cmd(&["SELECT", "3"]) + &cmd(&["SET", "k", "v"]);
    let open_tx = cmd(&["MULTI"]) + &cmd(&["INCR", "n"]);
    w.write_all((before.clone() + &open_tx).as_bytes()).unwrap();
    let _: () = q(&mut r, &["SELECT", "3"]);
    wait_until("the write before the transaction arrives", || {
        q::<Option<String>>(&mut r, &["GET", "k"]).is_some()
    });
    drop(w);
    drop(_rd);
    // The replica comes back asking for the byte after the last complete
    // command outside a transaction: the MULTI.
    let (mut w, _rd, psync) = master.accept();
    assert_eq!(psync, ["PSYNC", &replid, &(100 + before.len() + 1).to_string()]);
    let rest = open_tx + &cmd(&["EXEC"]) + &cmd(&["INCR", "m"]);
    w.write_all(format!("+CONTINUE {replid}\r\n{rest}").as_bytes()).unwrap();
    wait_until("the continued stream is applied", || q::<Option<i64>>(&mut r, &["GET", "m"]) == Some(1));
    assert_eq!(q::<i64>(&mut r, &["GET", "n"]), 1, "the transaction ran once, in database 3");
    let text = info(&mut r, "replication");
    let offset = 100 + before.len() + rest.len();
    assert!(text.contains(&format!("slave_repl_offset:{offset}")), "{text}");
    let _: () = q(&mut r, &["SELECT", "0"]);
    assert_eq!(q::<i64>(&mut r, &["DBSIZE"]), 0);
}

#[test]
fn a_replica_s_aof_starts_over_from_its_master_s_data() {
    let master = start();
    let mut m = conn(&master);
    let _: () = q(&mut m, &["SET", "from-master", "1"]);
    let dir = common::fresh_dir();
    let aof_on = |cfg: &mut spindle_kv::server::Config| {
        cfg.dir = dir.clone();
        cfg.appendonly = true;
    };
    {
        let replica = start_with(aof_on);
        let mut r = conn(&replica);
        let _: () = q(&mut r, &["SET", "stale", "the replica's own, replaced by the sync"]);
        let rewrites_before: u64 = field(&mut r, "persistence", "aof_rewrites").parse().unwrap();
        let _: () = q(&mut r, &["REPLICAOF", "127.0.0.1", &master.addr().port().to_string()]);
        wait_until("the link is up", || info(&mut r, "replication").contains("master_link_status:up"));
        let _: () = q(&mut m, &["SET", "after", "2"]);
        wait_until("the stream arrives", || q::<Option<String>>(&mut r, &["GET", "after"]).is_some());
        wait_until("the AOF is rewritten from the new data", || {
            let p = info(&mut r, "persistence");
            let rewrites: u64 = field(&mut r, "persistence", "aof_rewrites").parse().unwrap();
            rewrites > rewrites_before
                && p.contains("aof_rewrite_in_progress:0")
                && p.contains("aof_rewrite_scheduled:0")
        });
    }
    // Restarted alone on the same files: the master's data, not the old.
    let again = start_with(aof_on);
    let mut a = conn(&again);
    assert_eq!(q::<Option<String>>(&mut a, &["GET", "stale"]), None);
    assert_eq!(q::<String>(&mut a, &["GET", "from-master"]), "1");
    assert_eq!(q::<String>(&mut a, &["GET", "after"]), "2");
}

#[test]
fn a_chained_replica_has_its_master_s_history_and_offsets() {
    let master = start();
    let mut m = conn(&master);
    let (middle, mut mid) = replica_of(&master);
    let (_leaf, mut leaf) = replica_of(&middle);
    let _: () = q(&mut m, &["SELECT", "1"]);
    let _: i64 = q(&mut m, &["INCR", "n"]);
    let _: () = q(&mut m, &["MULTI"]);
    let _: () = q(&mut m, &["INCR", "n"]);
    let _: () = q(&mut m, &["INCR", "n"]);
    let _: Vec<i64> = q(&mut m, &["EXEC"]);
    let _: () = q(&mut leaf, &["SELECT", "1"]);
    wait_until("the writes reach the end of the chain", || {
        q::<Option<i64>>(&mut leaf, &["GET", "n"]) == Some(3)
    });
    // One history: the same ID and the same offset on all three.
    let replid = field(&mut m, "replication", "master_replid");
    wait_until("the offsets agree", || {
        let off = field(&mut m, "replication", "master_repl_offset");
        field(&mut mid, "replication", "master_repl_offset") == off
            && field(&mut leaf, "replication", "master_repl_offset") == off
    });
    assert_eq!(field(&mut mid, "replication", "master_replid"), replid);
    assert_eq!(field(&mut leaf, "replication", "master_replid"), replid);
}

#[test]
fn a_promoted_replica_lets_its_sibling_continue_from_the_old_master_s_history() {
    let master = start();
    let mut m = conn(&master);
    let (a, mut ra) = replica_of(&master);
    let (_b, mut rb) = replica_of(&master);
    let _: () = q(&mut m, &["SET", "k", "1"]);
    wait_until("both replicas have the write", || {
        q::<Option<String>>(&mut ra, &["GET", "k"]).is_some()
            && q::<Option<String>>(&mut rb, &["GET", "k"]).is_some()
    });
    let off = field(&mut m, "replication", "master_repl_offset");
    wait_until("both replicas are at the master's offset", || {
        field(&mut ra, "replication", "master_repl_offset") == off
            && field(&mut rb, "replication", "master_repl_offset") == off
    });
    let old_id = field(&mut m, "replication", "master_replid");
    drop(m);
    drop(master);
    // Failover: A becomes the master, B follows it.
    let _: () = q(&mut ra, &["REPLICAOF", "NO", "ONE"]);
    assert_eq!(field(&mut ra, "replication", "master_replid2"), old_id);
    assert_eq!(
        field(&mut ra, "replication", "second_repl_offset"),
        (off.parse::<u64>().unwrap() + 1).to_string()
    );
    let _: () = q(&mut ra, &["SET", "after", "2"]);
    let _: () = q(&mut rb, &["REPLICAOF", "127.0.0.1", &a.addr().port().to_string()]);
    wait_until("B continues from A", || q::<Option<String>>(&mut rb, &["GET", "after"]).is_some());
    assert_eq!(field(&mut ra, "stats", "sync_partial_ok"), "1", "no full resync");
    assert_eq!(field(&mut ra, "stats", "sync_full"), "0");
    assert_eq!(
        field(&mut rb, "replication", "master_replid"),
        field(&mut ra, "replication", "master_replid")
    );
}

#[test]
fn min_replicas_to_write_refuses_writes_without_enough_good_replicas() {
    let master = start();
    let mut m = conn(&master);
    let (_replica, mut r) = replica_of(&master);
    let _: () = q(&mut m, &["CONFIG", "SET", "min-replicas-to-write", "1", "min-replicas-max-lag", "10"]);
    let _: () = q(&mut m, &["SET", "k", "1"]);
    assert_eq!(field(&mut m, "replication", "min_slaves_good_slaves"), "1");
    // The old names work too.
    let _: () = q(&mut m, &["CONFIG", "SET", "min-slaves-to-write", "2"]);
    let err = redis::cmd("SET").arg("k").arg("2").query::<()>(&mut m).unwrap_err();
    assert_eq!(err.code(), Some("NOREPLICAS"), "{err}");
    assert_eq!(err.detail(), Some("Not enough good replicas to write."));
    assert_eq!(q::<String>(&mut m, &["GET", "k"]), "1", "reads still work");
    let _: () = q(&mut m, &["CONFIG", "SET", "min-replicas-to-write", "0"]);
    let _: () = q(&mut m, &["SET", "k", "3"]);
    // A writable replica keeps its own writes; a read-only one refuses.
    wait_until("the write arrives", || q::<Option<String>>(&mut r, &["GET", "k"]).as_deref() == Some("3"));
    let _: () = q(&mut r, &["CONFIG", "SET", "replica-read-only", "no"]);
    let _: () = q(&mut r, &["SET", "local", "1"]);
    assert_eq!(q::<String>(&mut r, &["GET", "local"]), "1");
    assert_eq!(q::<Option<String>>(&mut m, &["GET", "local"]), None);
    let _: () = q(&mut r, &["CONFIG", "SET", "slave-read-only", "yes"]);
    let err = redis::cmd("SET").arg("x").arg("1").query::<()>(&mut r).unwrap_err();
    assert_eq!(err.code(), Some("READONLY"), "{err}");
}

#[test]
fn a_replica_answers_loading_while_it_loads_its_master_s_snapshot() {
    let master = start();
    let mut m = conn(&master);
    for i in 0..200 {
        let _: () = q(&mut m, &["SET", &format!("key:{i}"), "x"]);
    }
    let port = master.addr().port();
    // A slow load (5 ms a key, 1 s in all) that serves clients every KB.
    let replica = start_with(|cfg| {
        cfg.key_load_delay = 5000;
        cfg.loading_process_events_interval_bytes = 1024;
    });
    let mut r = conn(&replica);
    let _: () = q(&mut r, &["SET", "old", "1"]);
    let _: () = q(&mut r, &["REPLICAOF", "127.0.0.1", &port.to_string()]);
    wait_until("the replica loads", || field(&mut r, "persistence", "loading") == "1");
    let err = redis::cmd("GET").arg("key:1").query::<Option<String>>(&mut r).unwrap_err();
    assert_eq!(err.code(), Some("LOADING"), "{err}");
    // Commands flagged `loading` still run.
    assert_eq!(q::<Vec<String>>(&mut r, &["CONFIG", "GET", "maxclients"])[0], "maxclients");
    wait_until("the link is up", || info(&mut r, "replication").contains("master_link_status:up"));
    assert_eq!(q::<String>(&mut r, &["GET", "key:199"]), "x");
    assert_eq!(q::<Option<String>>(&mut r, &["GET", "old"]), None);
    assert_eq!(field(&mut r, "persistence", "loading"), "0");
}

#[test]
fn a_replica_hides_expired_keys_but_leaves_their_deletion_to_its_master() {
    let master = start();
    let mut m = conn(&master);
    let (_replica, mut r) = replica_of(&master);
    let _: () = q(&mut m, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    let _: () = q(&mut m, &["SET", "key1", "5", "PX", "10"]);
    let _: () = q(&mut m, &["SET", "key2", "5", "PX", "10"]);
    // Both arrived, and read as missing once expired, but stay.
    wait_until("the keys arrive and expire", || {
        q::<i64>(&mut r, &["DBSIZE"]) == 2 && q::<i64>(&mut r, &["EXISTS", "key1", "key2"]) == 0
    });
    assert_eq!(q::<Option<String>>(&mut r, &["GET", "key2"]), None);
    assert_eq!(q::<i64>(&mut r, &["DBSIZE"]), 2);
    // A writable replica's write replaces an expired key.
    let _: () = q(&mut r, &["CONFIG", "SET", "replica-read-only", "no"]);
    assert_eq!(q::<i64>(&mut r, &["INCR", "key1"]), 1);
    assert_eq!(q::<i64>(&mut r, &["TTL", "key1"]), -1);
    assert_eq!(q::<i64>(&mut r, &["DBSIZE"]), 2);
    // The master's DEL (its lazy expiry) removes it.
    assert_eq!(q::<Option<String>>(&mut m, &["GET", "key2"]), None);
    wait_until("the master's DEL arrives", || q::<i64>(&mut r, &["DBSIZE"]) == 1);
    // Keys a writable replica's own clients gave a deadline, it expires
    // itself: its master does not know them.
    let _: () = q(&mut r, &["SET", "own", "1", "PX", "50"]);
    wait_until("the replica expires its own key", || q::<i64>(&mut r, &["DBSIZE"]) == 1);
}

#[test]
fn the_master_s_commands_see_keys_its_replica_thinks_expired() {
    let cmd = |args: &[&str]| String::from_utf8(common::req(args)).unwrap();
    let master = FakeMaster::new();
    let replica = start();
    let mut r = conn(&replica);
    let _: () = q(&mut r, &["REPLICAOF", "127.0.0.1", &master.port()]);
    let (mut w, _rd, _) = master.accept();
    master.full_resync(&mut w, &"d".repeat(40), 0);
    // By the replica's clock the key is long expired; by the master's,
    // these commands ran before its deadline (the replica lags).
    let stream = cmd(&["SET", "k", "v", "PXAT", "1000"]) + &cmd(&["APPEND", "k", "x"]);
    w.write_all(stream.as_bytes()).unwrap();
    wait_until("the key arrives", || q::<i64>(&mut r, &["DBSIZE"]) == 1);
    assert_eq!(q::<Option<String>>(&mut r, &["GET", "k"]), None, "expired for the replica's clients");
    w.write_all(cmd(&["PERSIST", "k"]).as_bytes()).unwrap();
    wait_until("PERSIST makes it live", || q::<Option<String>>(&mut r, &["GET", "k"]).is_some());
    assert_eq!(q::<String>(&mut r, &["GET", "k"]), "vx", "APPEND found the value, as on the master");
}

#[test]
fn a_replica_restarted_from_its_snapshot_continues_where_it_stopped() {
    let master = start();
    let mut m = conn(&master);
    let port = master.addr().port();
    let dir = common::fresh_dir();
    let as_replica = |cfg: &mut spindle_kv::server::Config| {
        cfg.dir = dir.clone();
        cfg.inert.insert("replicaof", format!("127.0.0.1 {port}"));
    };
    let _: () = q(&mut m, &["SELECT", "2"]);
    {
        let replica = start_with(as_replica);
        let mut r = conn(&replica);
        wait_until("the link is up", || info(&mut r, "replication").contains("master_link_status:up"));
        let _: () = q(&mut m, &["SET", "a", "1"]);
        let _: () = q(&mut r, &["SELECT", "2"]);
        wait_until("the write arrives", || q::<Option<String>>(&mut r, &["GET", "a"]).is_some());
        let _: () = q(&mut r, &["SAVE"]);
    }
    // Written while the replica is down, in the database the stream had
    // selected (no SELECT follows).
    let _: () = q(&mut m, &["SET", "b", "2"]);
    let replica = start_with(as_replica);
    let mut r = conn(&replica);
    let _: () = q(&mut r, &["SELECT", "2"]);
    wait_until("the missed write arrives", || q::<Option<String>>(&mut r, &["GET", "b"]).is_some());
    assert_eq!(field(&mut m, "stats", "sync_full"), "1", "the restart did not need a full resync");
    assert_eq!(field(&mut m, "stats", "sync_partial_ok"), "1");
}

#[test]
fn replicas_continue_from_a_master_restarted_from_its_snapshot() {
    let dir = common::fresh_dir();
    let in_dir = |cfg: &mut spindle_kv::server::Config| cfg.dir = dir.clone();
    let master = start_with(in_dir);
    let mut m = conn(&master);
    let (_replica, mut r) = replica_of(&master);
    let _: () = q(&mut m, &["SET", "kept", "1"]);
    let _: () = q(&mut m, &["SET", "short", "1", "PX", "300"]);
    let off = field(&mut m, "replication", "master_repl_offset");
    wait_until("the replica has everything", || field(&mut r, "replication", "master_repl_offset") == off);
    let old_id = field(&mut m, "replication", "master_replid");
    let _: () = q(&mut m, &["SAVE"]);
    drop(m);
    drop(master);
    // The short key expires while the master is down; the replica hides
    // it but keeps it, waiting for its master's DEL.
    wait_until("the short key expires", || q::<i64>(&mut r, &["EXISTS", "short"]) == 0);
    assert_eq!(q::<i64>(&mut r, &["DBSIZE"]), 2);
    let master = start_with(in_dir);
    let mut m = conn(&master);
    assert_eq!(field(&mut m, "replication", "master_replid2"), old_id);
    assert_eq!(
        field(&mut m, "replication", "second_repl_offset"),
        (off.parse::<u64>().unwrap() + 1).to_string()
    );
    let _: () = q(&mut r, &["REPLICAOF", "127.0.0.1", &master.addr().port().to_string()]);
    wait_until("the replica gets the DEL of the expired key", || q::<i64>(&mut r, &["DBSIZE"]) == 1);
    assert_eq!(field(&mut m, "stats", "sync_partial_ok"), "1");
    assert_eq!(field(&mut m, "stats", "sync_full"), "0");
    assert_eq!(q::<String>(&mut r, &["GET", "kept"]), "1");
}

#[test]
fn a_replica_s_output_limit_is_at_least_the_backlog_size() {
    let master = start();
    let mut m = conn(&master);
    let (_replica, mut r) = replica_of(&master);
    // A replica limit far below the backlog (1 MB): the continuation
    // below is sent at once and must not get the replica closed.
    let _: () = q(&mut m, &["CONFIG", "SET", "client-output-buffer-limit", "replica 65536 0 0"]);
    kill_replicas(&mut m);
    let big = "A".repeat(600_000);
    let _: () = q(&mut m, &["SET", "big", &big]);
    wait_until("the big value arrives", || q::<i64>(&mut r, &["STRLEN", "big"]) == 600_000);
    assert_eq!(field(&mut m, "stats", "sync_partial_ok"), "1");
    assert_eq!(field(&mut m, "stats", "sync_full"), "1");
}

#[test]
fn a_replica_told_not_to_serve_stale_data_refuses_while_its_link_is_down() {
    // A master that is not there: the link stays down.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let replica = start();
    let mut r = conn(&replica);
    let _: () = q(&mut r, &["SET", "k", "1"]);
    let _: () = q(&mut r, &["REPLICAOF", "127.0.0.1", &port.to_string()]);
    assert_eq!(q::<String>(&mut r, &["GET", "k"]), "1", "stale data is served by default");
    let _: () = q(&mut r, &["CONFIG", "SET", "replica-serve-stale-data", "no"]);
    let err = redis::cmd("GET").arg("k").query::<Option<String>>(&mut r).unwrap_err();
    assert_eq!(err.code(), Some("MASTERDOWN"), "{err}");
    assert!(info(&mut r, "replication").contains("master_link_status:down"), "INFO is flagged stale");
    let _: () = q(&mut r, &["REPLICAOF", "NO", "ONE"]);
    assert_eq!(q::<String>(&mut r, &["GET", "k"]), "1");
}

#[test]
fn clients_blocked_on_a_master_that_becomes_a_replica_are_told_and_closed() {
    let master = start();
    let replica = start();
    let mut waiter = conn(&replica);
    let handle = std::thread::spawn(move || {
        redis::cmd("BLPOP")
            .arg("foo")
            .arg(0)
            .query::<Option<Vec<String>>>(&mut waiter)
            .unwrap_err()
            .to_string()
    });
    let mut r = conn(&replica);
    wait_until("the BLPOP blocks", || field(&mut r, "clients", "blocked_clients") == "1");
    let _: () = q(&mut r, &["REPLICAOF", "127.0.0.1", &master.addr().port().to_string()]);
    let err = handle.join().unwrap();
    assert!(
        err.starts_with("UNBLOCKED")
            && err.contains("force unblock from blocking operation, instance state changed"),
        "{err}"
    );
    assert_eq!(field(&mut r, "clients", "blocked_clients"), "0");
    // A push on the new master does not reach a client that waited on
    // the replica's old data.
    let mut m = conn(&master);
    let _: i64 = q(&mut m, &["RPUSH", "foo", "a", "b", "c"]);
    wait_until("the push arrives", || q::<i64>(&mut r, &["LLEN", "foo"]) == 3);
}

#[test]
fn a_replica_that_sends_a_command_with_a_reply_is_disconnected() {
    let master = start();
    let mut m = conn(&master);
    for cmd in [vec!["PING"], vec!["GET", "foo"], vec!["SLOWLOG", "GET"]] {
        let sock = TcpStream::connect(master.addr()).unwrap();
        sock.set_read_timeout(Some(common::TIMEOUT)).unwrap();
        let mut w = sock.try_clone().unwrap();
        let mut rd = BufReader::new(sock);
        w.write_all(&common::req(&["PSYNC", "?", "-1"])).unwrap();
        let mut line = String::new();
        rd.read_line(&mut line).unwrap();
        assert!(line.starts_with("+FULLRESYNC "), "{line}");
        wait_until("the replica is online", || info(&mut m, "replication").contains("state=online"));
        w.write_all(&common::req(&cmd)).unwrap();
        // The snapshot, then the end of the stream: no reply in it.
        let mut rest = Vec::new();
        std::io::Read::read_to_end(&mut rd, &mut rest).expect("the master closes the link");
        assert!(!rest.windows(6).any(|w| w == b"+PONG\r"), "{cmd:?}");
        assert!(!String::from_utf8_lossy(&rest).contains("keyspace"), "{cmd:?}");
        wait_until("the replica is gone", || info(&mut m, "replication").contains("connected_slaves:0"));
    }
    assert_eq!(q::<String>(&mut m, &["PING"]), "PONG");
    // A PSYNC offset that is not a number is an error, not a full resync.
    let err = redis::cmd("PSYNC").arg("replicationid").arg("offset_str").query::<String>(&mut m).unwrap_err();
    assert!(err.to_string().contains("value is not an integer or out of range"), "{err}");
    assert_eq!(field(&mut m, "stats", "sync_full"), "3");
}

#[test]
fn a_replica_of_a_replica_starts_in_the_database_the_stream_had_selected() {
    let master = start();
    let mut m = conn(&master);
    let (middle, _mid) = replica_of(&master);
    let _: () = q(&mut m, &["SELECT", "5"]);
    let _: () = q(&mut m, &["SET", "a", "1"]);
    let off = field(&mut m, "replication", "master_repl_offset");
    let mut mid = conn(&middle);
    wait_until("the middle has it", || field(&mut mid, "replication", "master_repl_offset") == off);
    // The leaf syncs in full from the middle, whose stream (its master's,
    // passed on as it came) selected database 5 before the snapshot; the
    // next write comes without a SELECT.
    let (_leaf, mut leaf) = replica_of(&middle);
    let _: () = q(&mut m, &["SET", "b", "2"]);
    let _: () = q(&mut leaf, &["SELECT", "5"]);
    wait_until("the write reaches the leaf", || q::<Option<String>>(&mut leaf, &["GET", "b"]).is_some());
    let _: () = q(&mut leaf, &["SELECT", "0"]);
    assert_eq!(q::<i64>(&mut leaf, &["DBSIZE"]), 0);
}
