//! Replication, the master's side: a replica gets the snapshot and then
//! every write as a command stream. Checked with a real redis-server
//! replica and with a raw SYNC client (what `redis-cli --replica` is).

mod common;

use common::redis_server::RedisServer;
use common::wire::read_command;
use common::{conn, q, start, start_with, wait_until, Raw};
use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;

/// Reads the stream after SYNC: the bulk header and snapshot, then returns
/// a reader positioned at the command stream.
fn skip_snapshot(raw: &Raw) -> BufReader<TcpStream> {
    let mut rd = BufReader::new(raw.stream.try_clone().unwrap());
    let mut line = String::new();
    while !line.starts_with('$') {
        line.clear();
        rd.read_line(&mut line).expect("the bulk header");
    }
    let len: usize = line.trim()[1..].parse().expect("a bulk length");
    let mut rdb = vec![0; len];
    rd.read_exact(&mut rdb).expect("the snapshot");
    assert!(rdb.starts_with(b"REDIS"), "an RDB file");
    rd
}

/// Reads exactly `want.len()` bytes of stream and compares them.
fn expect_stream(rd: &mut BufReader<TcpStream>, want: &str) {
    let mut got = vec![0; want.len()];
    rd.read_exact(&mut got).expect("the stream");
    assert_eq!(String::from_utf8_lossy(&got), want);
}

#[test]
fn a_sync_client_gets_the_snapshot_then_every_write_in_order() {
    let srv = start();
    let mut c = conn(&srv);
    let _: () = q(&mut c, &["SET", "before", "1"]);
    let mut replica = Raw::connect(&srv);
    replica.send(b"SYNC\r\n");
    let mut rd = skip_snapshot(&replica);
    let _: () = q(&mut c, &["SET", "k", "v"]);
    let _: () = q(&mut c, &["SELECT", "2"]);
    let _: i64 = q(&mut c, &["RPUSH", "l", "a"]);
    let _: () = q(&mut c, &["MULTI"]);
    let _: () = q(&mut c, &["INCR", "n"]);
    let _: () = q(&mut c, &["INCR", "n"]);
    let _: Vec<i64> = q(&mut c, &["EXEC"]);
    // Reads and writes that change nothing are not streamed.
    let _: Option<String> = q(&mut c, &["GET", "k"]);
    let _: i64 = q(&mut c, &["DEL", "nosuch"]);
    let _: i64 = q(&mut c, &["EXPIRE", "l", "100"]);
    let at: i64 = q(&mut c, &["PEXPIRETIME", "l"]);
    expect_stream(
        &mut rd,
        &format!(
            "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n\
             *2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n*3\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$1\r\na\r\n\
             *1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n*1\r\n$4\r\nEXEC\r\n\
             *3\r\n$9\r\nPEXPIREAT\r\n$1\r\nl\r\n${}\r\n{at}\r\n",
            at.to_string().len()
        ),
    );
    let list: String = q(&mut c, &["CLIENT", "LIST"]);
    assert!(list.lines().any(|l| l.contains("flags=S") && l.contains("cmd=sync")), "{list}");
    let info: String = redis::cmd("INFO").arg("replication").query(&mut c).unwrap();
    assert!(info.contains("connected_slaves:1"), "{info}");
    assert!(info.contains("slave0:ip=127.0.0.1,port=0,state=online"), "{info}");
}

#[test]
fn writes_made_while_the_snapshot_is_written_follow_it() {
    let srv = start();
    let mut c = conn(&srv);
    for i in 0..5 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), "old"]);
    }
    // The child sleeps 20 ms per key: the snapshot takes 100 ms.
    let _: () = q(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "20000"]);
    let mut replica = Raw::connect(&srv);
    replica.roundtrip(b"REPLCONF listening-port 7777\r\n", b"+OK\r\n");
    replica.send(b"PSYNC ? -1\r\n");
    let mut rd = BufReader::new(replica.stream.try_clone().unwrap());
    let mut line = String::new();
    rd.read_line(&mut line).unwrap();
    assert!(line.starts_with("+FULLRESYNC ") && line.trim_end().ends_with(" 0"), "{line:?}");
    // The snapshot is being written now: this write is not in it.
    let _: () = q(&mut c, &["SET", "k0", "new"]);
    let info: String = redis::cmd("INFO").arg("replication").query(&mut c).unwrap();
    assert!(info.contains("port=7777,state=wait_bgsave"), "{info}");
    let mut line = String::new();
    rd.read_line(&mut line).unwrap();
    let len: usize = line.trim()[1..].parse().unwrap();
    let mut rdb = vec![0; len];
    rd.read_exact(&mut rdb).unwrap();
    expect_stream(&mut rd, "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$2\r\nk0\r\n$3\r\nnew\r\n");
    // ACKs get no reply (it would land in the replica's stream).
    replica.send(b"REPLCONF ACK 42\r\n");
    let _: () = q(&mut c, &["SET", "after", "1"]);
    expect_stream(&mut rd, "*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$1\r\n1\r\n");
    wait_until("the ACK is shown", || {
        let info: String = redis::cmd("INFO").arg("replication").query(&mut c).unwrap();
        info.contains("offset=42")
    });
}

#[test]
fn a_redis_server_replica_follows_a_spindle_master() {
    let master = start_with(|cfg| cfg.hz = 100);
    let mut m = conn(&master);
    let _: () = q(&mut m, &["SET", "before", "1"]);
    let _: i64 = q(&mut m, &["HSET", "h", "f", "v"]);
    let port = master.addr().port().to_string();
    let replica = RedisServer::start(&["--replicaof", "127.0.0.1", &port]);
    let mut r = replica.conn();
    wait_until("the replica's link is up", || {
        let info: String = redis::cmd("INFO").arg("replication").query(&mut r).unwrap();
        info.contains("master_link_status:up")
    });
    let _: () = q(&mut m, &["SET", "after", "2", "EX", "1000"]);
    let _: () = q(&mut m, &["SELECT", "4"]);
    let _: i64 = q(&mut m, &["SADD", "s", "x", "y"]);
    let _: f64 = q(&mut m, &["INCRBYFLOAT", "f", "1.5"]);
    let _: () = q(&mut m, &["FLUSHDB"]);
    let _: i64 = q(&mut m, &["ZADD", "z", "1", "a"]);
    let _: () = q(&mut m, &["SELECT", "0"]);
    let _: i64 = q(&mut m, &["DEL", "before"]);
    // The DEL is the last write: once it is there, all are.
    wait_until("the writes reach the replica", || q::<Option<String>>(&mut r, &["GET", "before"]).is_none());
    assert_eq!(q::<String>(&mut r, &["GET", "after"]), "2");
    assert!(q::<i64>(&mut r, &["TTL", "after"]) > 990);
    assert_eq!(q::<String>(&mut r, &["HGET", "h", "f"]), "v");
    let _: () = q(&mut r, &["SELECT", "4"]);
    assert_eq!(q::<i64>(&mut r, &["DBSIZE"]), 1, "FLUSHDB and the set before it replicated");
    let info: String = redis::cmd("INFO").arg("replication").query(&mut m).unwrap();
    assert!(info.contains("connected_slaves:1") && info.contains("state=online"), "{info}");
}

fn info(c: &mut redis::Connection) -> String {
    redis::cmd("INFO").arg("replication").query(c).unwrap()
}

#[test]
fn a_spindle_replica_follows_its_master_until_replicaof_no_one() {
    let master = start();
    let mut m = conn(&master);
    let _: () = q(&mut m, &["SET", "before", "1"]);
    let replica = start();
    let mut r = conn(&replica);
    let _: () = q(&mut r, &["SET", "stale", "gone after the sync"]);
    let port = master.addr().port().to_string();
    let _: () = q(&mut r, &["REPLICAOF", "127.0.0.1", &port]);
    let again: String = q(&mut r, &["REPLICAOF", "127.0.0.1", &port]);
    assert_eq!(again, "OK Already connected to specified master");
    wait_until("the link is up", || info(&mut r).contains("master_link_status:up"));
    assert_eq!(q::<Option<String>>(&mut r, &["GET", "stale"]), None, "the master's data replaced it");
    assert_eq!(q::<String>(&mut r, &["GET", "before"]), "1");
    let _: () = q(&mut m, &["SELECT", "3"]);
    let _: i64 = q(&mut m, &["RPUSH", "l", "a", "b"]);
    let _: () = q(&mut m, &["MULTI"]);
    let _: () = q(&mut m, &["INCR", "n"]);
    let _: () = q(&mut m, &["INCR", "n"]);
    let _: Vec<i64> = q(&mut m, &["EXEC"]);
    let _: () = q(&mut r, &["SELECT", "3"]);
    wait_until("the writes arrive", || q::<Option<i64>>(&mut r, &["GET", "n"]) == Some(2));
    assert_eq!(q::<Vec<String>>(&mut r, &["LRANGE", "l", "0", "-1"]), ["a", "b"]);
    // Only the master writes to a replica.
    let err = redis::cmd("SET").arg("x").arg("1").query::<()>(&mut r).unwrap_err();
    assert_eq!(err.code(), Some("READONLY"), "{err}");
    let text = info(&mut r);
    assert!(text.contains("role:slave") && text.contains(&format!("master_port:{port}")), "{text}");
    let list: String = q(&mut r, &["CLIENT", "LIST"]);
    assert!(list.lines().any(|l| l.contains("flags=M")), "{list}");
    // The replica's ACKs reach the master: the offsets agree.
    wait_until("the master sees the replica's offset", || {
        let mt = info(&mut m);
        let off = mt.lines().find_map(|l| l.strip_prefix("master_repl_offset:")).unwrap().to_string();
        mt.contains(&format!("state=online,offset={off},"))
    });
    let _: () = q(&mut r, &["REPLICAOF", "NO", "ONE"]);
    let _: () = q(&mut r, &["SET", "x", "1"]);
    assert!(info(&mut r).contains("role:master"));
    wait_until("the master drops the replica", || info(&mut m).contains("connected_slaves:0"));
}

#[test]
fn a_broken_link_resyncs_and_a_configured_master_is_followed_at_start() {
    let master = start();
    let mut m = conn(&master);
    let port = master.addr().port();
    let replica = start_with(|cfg| {
        cfg.inert.insert("replicaof", format!("127.0.0.1 {port}"));
    });
    let mut r = conn(&replica);
    wait_until("the link is up", || info(&mut r).contains("master_link_status:up"));
    // The master drops the replica's connection.
    let list: String = q(&mut m, &["CLIENT", "LIST"]);
    let id = list.lines().find(|l| l.contains("flags=S")).and_then(|l| l.split(' ').next()).unwrap();
    let _: () = q(&mut m, &["CLIENT", "KILL", "ID", id.trim_start_matches("id=")]);
    let _: () = q(&mut m, &["SET", "while-down", "1"]);
    wait_until("the replica resyncs", || q::<Option<String>>(&mut r, &["GET", "while-down"]).is_some());
    assert!(info(&mut r).contains("master_link_status:up"));
}

#[test]
fn a_stalled_replica_s_buffer_does_not_make_the_master_evict() {
    // Redis's unit/maxmemory "replica buffer don't induce eviction": the
    // stream waiting for a replica that stopped reading is left out of
    // maxmemory, or every write would evict keys to make room for its
    // own copy in that buffer.
    let srv = start();
    let mut c = conn(&srv);
    for j in 0..100 {
        let _: () = q(&mut c, &["SETRANGE", &format!("key:{j}"), "10000", "asdf"]);
    }
    let mut replica = Raw::connect(&srv);
    replica.send(b"SYNC\r\n");
    let _stalled = skip_snapshot(&replica); // and reads no more
    let used = common::info_u64(&mut c, "memory", "used_memory");
    let not_counted = common::info_u64(&mut c, "memory", "mem_not_counted_for_evict");
    let limit = (used - not_counted + (1 << 20)).to_string();
    let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory-policy", "allkeys-random", "maxmemory", &limit]);
    // About 24 MB of stream, more than the sockets' buffers hold, in
    // small batches so that this client's own buffers stay small.
    let payload = "A".repeat(1000);
    for _ in 0..480 {
        let mut p = redis::pipe();
        for _ in 0..50 {
            p.cmd("SETRANGE").arg("key:0").arg(0).arg(&payload).ignore();
        }
        let _: () = p.query(&mut c).unwrap();
    }
    assert!(common::info_u64(&mut c, "memory", "mem_clients_slaves") > 4 << 20);
    assert!(common::info_u64(&mut c, "memory", "mem_not_counted_for_evict") > 4 << 20);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 100, "nothing was evicted");
    assert_eq!(common::info_u64(&mut c, "stats", "evicted_keys"), 0);
}

#[test]
fn evicted_keys_are_deleted_on_replicas_and_client_kill_type_replica_drops_them() {
    let srv = start();
    let mut c = conn(&srv);
    let _: () = q(&mut c, &["SET", "k", "v"]);
    let mut replica = Raw::connect(&srv);
    replica.send(b"SYNC\r\n");
    let mut rd = skip_snapshot(&replica);
    let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory-policy", "allkeys-random", "maxmemory", "1"]);
    expect_stream(&mut rd, "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n");
    let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory", "0"]);
    let list: String = q(&mut c, &["CLIENT", "LIST", "TYPE", "replica"]);
    assert_eq!(list.lines().count(), 1, "{list}");
    let killed: i64 = q(&mut c, &["CLIENT", "KILL", "TYPE", "slave"]);
    assert_eq!(killed, 1);
    let mut rest = Vec::new();
    rd.read_to_end(&mut rest).expect("closed");
}

#[test]
fn a_replica_speaks_the_handshake_and_answers_getack() {
    use std::io::Write;
    // A snapshot to serve: a spindle server's own dump.rdb with one key.
    let dir = common::fresh_dir();
    let donor = start_with(|cfg| cfg.dir = dir.clone());
    let mut d = conn(&donor);
    let _: () = q(&mut d, &["SET", "from-master", "1"]);
    let _: () = q(&mut d, &["SAVE"]);
    let rdb = std::fs::read(dir.join("dump.rdb")).unwrap();
    // This test is the master.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let replica = start_with(|cfg| {
        cfg.inert.insert("masterauth", "pw".into());
    });
    let mut r = conn(&replica);
    let _: () = q(&mut r, &["REPLICAOF", "127.0.0.1", &port]);
    let (sock, _) = listener.accept().unwrap();
    sock.set_read_timeout(Some(common::TIMEOUT)).unwrap();
    let mut w = sock.try_clone().unwrap();
    let mut rd = BufReader::new(sock);
    assert_eq!(read_command(&mut rd), ["PING"]);
    w.write_all(b"+PONG\r\n").unwrap();
    assert_eq!(read_command(&mut rd), ["AUTH", "pw"]);
    w.write_all(b"+OK\r\n").unwrap();
    let listening = read_command(&mut rd);
    assert_eq!(listening[..2], ["REPLCONF", "listening-port"]);
    assert_eq!(listening[2], replica.addr().port().to_string());
    w.write_all(b"+OK\r\n").unwrap();
    assert_eq!(read_command(&mut rd), ["REPLCONF", "capa", "psync2"]);
    w.write_all(b"+OK\r\n").unwrap();
    // A master turning replica offers its own history first.
    let own: String = info(&mut r).lines().find_map(|l| l.strip_prefix("master_replid:")).unwrap().into();
    assert_eq!(read_command(&mut rd), ["PSYNC", own.as_str(), "1"]);
    let replid = "a".repeat(40);
    w.write_all(format!("+FULLRESYNC {replid} 100\r\n\n\n${}\r\n", rdb.len()).as_bytes()).unwrap();
    w.write_all(&rdb).unwrap();
    // The stream: a write, then the master asks where the replica is.
    let set = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
    w.write_all(set.as_bytes()).unwrap();
    let getack = "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n";
    w.write_all(getack.as_bytes()).unwrap();
    let ack = loop {
        let cmd = read_command(&mut rd);
        // Periodic ACKs may come first; the one after the SET counts it.
        if cmd[..2] == ["REPLCONF", "ACK"] && cmd[2] != "100" {
            break cmd;
        }
    };
    // As Redis's, the ACK counts the stream up to the GETACK; the offset
    // then moves past it.
    assert_eq!(ack[2], (100 + set.len()).to_string(), "the offset counts the stream's bytes");
    assert_eq!(q::<String>(&mut r, &["GET", "from-master"]), "1");
    assert_eq!(q::<String>(&mut r, &["GET", "k"]), "v");
    let text = info(&mut r);
    assert!(
        text.contains("master_link_status:up")
            && text.contains(&format!("slave_repl_offset:{}", 100 + set.len() + getack.len())),
        "{text}"
    );
}
