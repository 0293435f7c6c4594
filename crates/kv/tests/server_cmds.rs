//! Server and connection commands: HELLO, CLIENT, INFO, SLOWLOG, DEBUG,
//! MEMORY, SHUTDOWN and friends (COMMAND and its subcommands are in
//! command_cmd.rs).

mod common;

use common::wire::Conn;
use common::{conn, start, Raw, TIMEOUT};
use std::io::Read;
use std::time::Instant;

#[test]
fn hello_3_switches_to_resp3() {
    let srv = common::start();
    let mut c = Conn::new(&srv);
    let r = c.call(&["HELLO", "3"]);
    assert!(r.starts_with("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:"), "{r}");
    assert!(
        r.ends_with(
            "$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
        ),
        "{r}"
    );
    // Null is now `_`, and CONFIG GET is a map.
    assert_eq!(c.call(&["GET", "nokey"]), "_\r\n");
    assert_eq!(c.call(&["CONFIG", "GET", "hz"]), "%1\r\n$2\r\nhz\r\n$2\r\n10\r\n");
    let r = c.call(&["HELLO", "2"]);
    assert!(r.starts_with("*14\r\n"), "{r}");
    assert_eq!(c.call(&["GET", "nokey"]), "$-1\r\n");
}

#[test]
fn hello_errors_and_options() {
    let srv = common::start_with(|cfg| cfg.requirepass = b"secret".to_vec());
    let mut c = Conn::new(&srv);
    assert_eq!(c.call(&["HELLO", "4"]), "-NOPROTO unsupported protocol version\r\n");
    // The version is checked before the options, as in Redis.
    assert_eq!(c.call(&["HELLO", "4", "FOO"]), "-NOPROTO unsupported protocol version\r\n");
    assert_eq!(c.call(&["HELLO", "abc"]), "-ERR Protocol version is not an integer or out of range\r\n");
    assert_eq!(c.call(&["HELLO", "3", "foo"]), "-ERR Syntax error in HELLO option 'foo'\r\n");
    assert!(c
        .call(&["HELLO", "3"])
        .starts_with("-NOAUTH HELLO must be called with the client already authenticated"));
    assert_eq!(
        c.call(&["HELLO", "3", "AUTH", "default", "wrong"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    let r = c.call(&["HELLO", "3", "AUTH", "default", "secret", "SETNAME", "me"]);
    assert!(r.starts_with("%7\r\n"), "{r}");
    assert_eq!(c.call(&["CLIENT", "GETNAME"]), "$2\r\nme\r\n");
}

#[test]
fn reset_restores_the_connection_state() {
    let srv = common::start();
    let mut c = Conn::new(&srv);
    c.call(&["HELLO", "3", "SETNAME", "x"]);
    c.call(&["SELECT", "3"]);
    assert_eq!(c.call(&["RESET"]), "+RESET\r\n");
    assert_eq!(c.call(&["CLIENT", "GETNAME"]), "$-1\r\n");
    assert!(c.call(&["CLIENT", "INFO"]).contains(" db=0 "));

    // RESET runs at once inside MULTI and ends the transaction and its
    // watches: a later EXEC has no MULTI, and a WATCHed key touched by
    // another client no longer aborts a new transaction.
    let mut other = Conn::new(&srv);
    assert_eq!(c.call(&["WATCH", "w"]), "+OK\r\n");
    assert_eq!(c.call(&["MULTI"]), "+OK\r\n");
    assert_eq!(c.call(&["SET", "k", "1"]), "+QUEUED\r\n");
    assert_eq!(c.call(&["RESET"]), "+RESET\r\n");
    assert_eq!(c.call(&["EXEC"]), "-ERR EXEC without MULTI\r\n");
    assert_eq!(c.call(&["GET", "k"]), "$-1\r\n", "the queued SET never ran");
    assert_eq!(other.call(&["SET", "w", "changed"]), "+OK\r\n");
    assert_eq!(c.call(&["MULTI"]), "+OK\r\n");
    assert_eq!(c.call(&["SET", "k", "2"]), "+QUEUED\r\n");
    assert_eq!(c.call(&["EXEC"]), "*1\r\n+OK\r\n", "the watch went with the RESET");

    // RESET leaves every channel and pattern: publishes no longer reach it,
    // and ordinary commands work again.
    c.call(&["SUBSCRIBE", "ch"]);
    c.call(&["PSUBSCRIBE", "p*"]);
    assert_eq!(c.call(&["RESET"]), "+RESET\r\n");
    assert_eq!(other.call(&["PUBLISH", "ch", "x"]), ":0\r\n");
    assert_eq!(other.call(&["PUBLISH", "pq", "x"]), ":0\r\n");
    assert_eq!(c.call(&["GET", "k"]), "$1\r\n2\r\n");
}

#[test]
fn client_setname_getname_id() {
    let srv = common::start();
    let mut c = Conn::new(&srv);
    assert_eq!(c.call(&["CLIENT", "GETNAME"]), "$-1\r\n");
    assert_eq!(
        c.call(&["CLIENT", "SETNAME", "a b"]),
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(c.call(&["CLIENT", "SETNAME", "worker-1"]), "+OK\r\n");
    assert_eq!(c.call(&["CLIENT", "GETNAME"]), "$8\r\nworker-1\r\n");
    let id = c.call(&["CLIENT", "ID"]);
    assert!(id.starts_with(':'));
    assert_eq!(c.call(&["CLIENT", "SETNAME", ""]), "+OK\r\n");
    assert_eq!(c.call(&["CLIENT", "GETNAME"]), "$-1\r\n");
    assert_eq!(c.call(&["CLIENT", "FOO"]), "-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n");
    assert_eq!(
        c.call(&["CLIENT", "SETNAME"]),
        "-ERR wrong number of arguments for 'client|setname' command\r\n"
    );
}

fn field<'a>(line: &'a str, name: &str) -> &'a str {
    line.split(' ')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("{name} in {line}"))
}

#[test]
fn client_list_shows_every_client_in_redis_format() {
    let srv = common::start();
    let mut a = Conn::new(&srv);
    let mut b = Conn::new(&srv);
    b.call(&["CLIENT", "SETNAME", "bee"]);
    b.call(&["SELECT", "2"]);
    let r = a.call(&["CLIENT", "LIST"]);
    let body = r.split_once("\r\n").unwrap().1;
    let lines: Vec<&str> = body.trim_end().lines().collect();
    assert_eq!(lines.len(), 2, "{r}");
    let names = [
        "id",
        "addr",
        "laddr",
        "fd",
        "name",
        "age",
        "idle",
        "flags",
        "db",
        "sub",
        "psub",
        "ssub",
        "multi",
        "qbuf",
        "qbuf-free",
        "argv-mem",
        "multi-mem",
        "rbs",
        "rbp",
        "obl",
        "oll",
        "omem",
        "tot-mem",
        "events",
        "cmd",
        "user",
        "redir",
        "resp",
    ];
    for l in &lines {
        let keys: Vec<&str> = l.split(' ').map(|kv| kv.split('=').next().unwrap()).collect();
        assert_eq!(keys, names, "{l}");
    }
    assert_eq!(field(lines[0], "cmd"), "client|list");
    assert_eq!(field(lines[0], "flags"), "N");
    assert_eq!(field(lines[1], "name"), "bee");
    assert_eq!(field(lines[1], "db"), "2");
    assert_eq!(field(lines[1], "cmd"), "select");
    let bid = field(lines[1], "id").to_string();
    let only = a.call(&["CLIENT", "LIST", "ID", &bid]);
    assert_eq!(only.matches("id=").count(), 1);
    assert!(only.contains("name=bee"));
    assert_eq!(a.call(&["CLIENT", "LIST", "TYPE", "pubsub"]), "$0\r\n\r\n");
    assert_eq!(a.call(&["CLIENT", "LIST", "TYPE", "bogus"]), "-ERR Unknown client type 'bogus'\r\n");
}

#[test]
fn client_kill_closes_the_target_promptly() {
    let srv = common::start();
    let mut a = Conn::new(&srv);
    let mut b = Conn::new(&srv);
    let bid = b.call(&["CLIENT", "ID"]);
    let bid = bid.trim().trim_start_matches(':').to_string();
    let baddr = field(&b.call(&["CLIENT", "INFO"]), "addr").to_string();
    assert_eq!(a.call(&["CLIENT", "KILL", "1.2.3.4:5"]), "-ERR No such client\r\n");
    assert_eq!(a.call(&["CLIENT", "KILL", "ID", "abc"]), "-ERR client-id should be greater than 0\r\n");
    assert_eq!(a.call(&["CLIENT", "KILL", "ID", "99999"]), ":0\r\n");
    // SKIPME yes (the default) spares the caller.
    let aaddr = field(&a.call(&["CLIENT", "INFO"]), "addr").to_string();
    assert_eq!(a.call(&["CLIENT", "KILL", "ADDR", &aaddr]), ":0\r\n");
    assert_eq!(a.call(&["CLIENT", "KILL", "ID", &bid]), ":1\r\n");
    // b had no command pending: it is closed without sending anything.
    let mut rest = Vec::new();
    b.r.read_to_end(&mut rest).expect("the server closes the connection");
    assert!(rest.is_empty());
    assert!(!a.call(&["CLIENT", "LIST"]).contains(&format!("addr={baddr} ")));
    // The old form by address, and killing oneself.
    let mut c = Conn::new(&srv);
    let caddr = field(&c.call(&["CLIENT", "INFO"]), "addr").to_string();
    assert_eq!(a.call(&["CLIENT", "KILL", &caddr]), "+OK\r\n");
    let mut rest = Vec::new();
    c.r.read_to_end(&mut rest).expect("the server closes the connection");
    assert!(rest.is_empty());
    assert_eq!(a.call(&["CLIENT", "KILL", "ADDR", &aaddr, "SKIPME", "no"]), ":1\r\n");
    let mut rest = Vec::new();
    a.r.read_to_end(&mut rest).expect("the server closes the connection");
    assert!(rest.is_empty());
}

#[test]
fn client_reply_off_and_skip_discard_replies() {
    let srv = common::start();
    let mut c = Conn::new(&srv);
    c.send(&["CLIENT", "REPLY", "OFF"]);
    c.send(&["SET", "k", "1"]);
    c.send(&["GET", "k"]);
    assert_eq!(c.call(&["CLIENT", "REPLY", "ON"]), "+OK\r\n");
    c.send(&["CLIENT", "REPLY", "SKIP"]);
    c.send(&["SET", "k", "2"]);
    assert_eq!(c.call(&["GET", "k"]), "$1\r\n2\r\n");
    assert_eq!(c.call(&["CLIENT", "REPLY", "MAYBE"]), "-ERR syntax error\r\n");
}

#[test]
fn client_misc_subcommands() {
    let srv = common::start();
    let mut c = Conn::new(&srv);
    assert_eq!(c.call(&["CLIENT", "NO-EVICT", "on"]), "+OK\r\n");
    assert_eq!(c.call(&["CLIENT", "NO-EVICT", "maybe"]), "-ERR syntax error\r\n");
    assert_eq!(field(&c.call(&["CLIENT", "INFO"]), "flags"), "e");
    assert_eq!(c.call(&["CLIENT", "NO-TOUCH", "on"]), "+OK\r\n");
    assert_eq!(c.call(&["CLIENT", "PAUSE", "10", "WRITE"]), "+OK\r\n");
    assert_eq!(c.call(&["CLIENT", "PAUSE", "-1"]), "-ERR timeout is negative\r\n");
    assert_eq!(c.call(&["CLIENT", "UNPAUSE"]), "+OK\r\n");
    assert_eq!(c.call(&["CLIENT", "UNBLOCK", "12345"]), ":0\r\n");
    assert!(c.call(&["CLIENT", "HELP"]).starts_with("*"));
}

#[test]
fn info_sections_have_redis_fields() {
    let srv = common::start();
    let mut con = common::conn(&srv);
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut con).unwrap();
    let info: String = redis::cmd("INFO").query(&mut con).unwrap();
    let hard = spindle_poll::limits::nofile().unwrap().hard;
    let maxclients = format!("maxclients:{}\r\n", 10_000.min(hard.saturating_sub(32)));
    for f in [
        "# Server\r\n",
        "redis_version:7.0.15\r\n",
        "redis_mode:standalone\r\n",
        "os:",
        "arch_bits:",
        "multiplexing_api:epoll\r\n",
        "process_id:",
        "tcp_port:",
        "uptime_in_seconds:",
        "uptime_in_days:",
        "hz:10\r\n",
        "executable:",
        "config_file:",
        "io_threads_active:0",
        "# Clients\r\n",
        "connected_clients:1\r\n",
        "blocked_clients:0\r\n",
        // 10000, unless this machine's hard descriptor limit is too low
        // for it (the server then lowers it, as Redis does).
        maxclients.as_str(),
        "# Memory\r\n",
        "used_memory:",
        "used_memory_human:",
        "used_memory_rss:",
        "mem_allocator:jemalloc-5.3.0\r\n",
        "maxmemory:0\r\n",
        "maxmemory_policy:noeviction\r\n",
        "lazyfree_pending_objects:0\r\n",
        "# Persistence\r\n",
        "loading:0\r\n",
        "rdb_changes_since_last_save:1\r\n",
        "rdb_bgsave_in_progress:0\r\n",
        "rdb_last_save_time:",
        "aof_enabled:0\r\n",
        "# Stats\r\n",
        "total_connections_received:",
        "total_commands_processed:",
        "instantaneous_ops_per_sec:",
        "total_net_input_bytes:",
        "total_net_output_bytes:",
        "rejected_connections:0\r\n",
        "expired_keys:",
        "evicted_keys:",
        "keyspace_hits:",
        "keyspace_misses:",
        "pubsub_channels:0\r\n",
        "pubsub_patterns:0\r\n",
        "total_forks:0\r\n",
        "# Replication\r\n",
        "role:master\r\n",
        "connected_slaves:0\r\n",
        "# CPU\r\n",
        "used_cpu_sys:",
        "used_cpu_user:",
        "# Keyspace\r\n",
        "db0:keys=1,expires=0,avg_ttl=0\r\n",
    ] {
        assert!(info.contains(f), "INFO lacks {f:?}:\n{info}");
    }
    let server: String = redis::cmd("INFO").arg("server").query(&mut con).unwrap();
    assert!(server.starts_with("# Server\r\n") && !server.contains("# Clients"));
    let two: String = redis::cmd("INFO").arg("cpu").arg("KEYSPACE").query(&mut con).unwrap();
    assert!(
        two.starts_with("# CPU\r\n") && two.contains("\r\n\r\n# Keyspace\r\n") && !two.contains("# Server")
    );
    let all: String = redis::cmd("INFO").arg("everything").query(&mut con).unwrap();
    assert!(all.contains("# Commandstats") && all.contains("# Server"));
    let none: String = redis::cmd("INFO").arg("nosuchsection").query(&mut con).unwrap();
    assert!(none.is_empty());
}

#[test]
fn slowlog_records_commands_over_the_threshold() {
    let srv = common::start();
    let mut c = Conn::new(&srv);
    assert_eq!(c.call(&["SLOWLOG", "LEN"]), ":0\r\n");
    assert_eq!(c.call(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]), "+OK\r\n");
    c.call(&["SET", "foo", "bar"]);
    let long = "x".repeat(200);
    c.call(&["ECHO", &long]);
    let got = c.call(&["SLOWLOG", "GET", "2"]);
    assert!(got.starts_with("*2\r\n*6\r\n:2\r\n"), "{got}");
    assert!(got.contains("*2\r\n$4\r\nECHO\r\n$147\r\n"), "long arguments are shortened: {got}");
    assert!(got.contains("... (72 more bytes)"), "{got}");
    assert!(got.contains("*3\r\n$3\r\nSET\r\n$3\r\nfoo\r\n$3\r\nbar\r\n"), "{got}");
    assert_eq!(c.call(&["SLOWLOG", "RESET"]), "+OK\r\n");
    // SLOWLOG RESET itself is logged once it has run.
    assert_eq!(c.call(&["SLOWLOG", "LEN"]), ":1\r\n");
    c.call(&["CONFIG", "SET", "slowlog-max-len", "3"]);
    for _ in 0..10 {
        c.call(&["PING"]);
    }
    assert_eq!(c.call(&["SLOWLOG", "LEN"]), ":3\r\n");
    c.call(&["CONFIG", "SET", "slowlog-log-slower-than", "-1"]);
    c.call(&["SLOWLOG", "RESET"]);
    c.call(&["PING"]);
    assert_eq!(c.call(&["SLOWLOG", "LEN"]), ":0\r\n");
    assert_eq!(c.call(&["SLOWLOG", "GET", "-2"]), "-ERR count should be greater than or equal to -1\r\n");
}

#[test]
fn time_debug_memory_lastsave() {
    let srv = common::start();
    let mut c = Conn::new(&srv);
    let t = c.call(&["TIME"]);
    assert!(t.starts_with("*2\r\n$10\r\n"), "{t}");
    c.call(&["SET", "foo", "bar"]);
    let o = c.call(&["DEBUG", "OBJECT", "foo"]);
    assert!(
        o.starts_with("+Value at:0x") && o.contains(" refcount:1 encoding:embstr serializedlength:4 lru:"),
        "{o}"
    );
    assert_eq!(c.call(&["DEBUG", "OBJECT", "nokey"]), "-ERR no such key\r\n");
    assert_eq!(c.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), "+OK\r\n");
    // Redis's tests mark the server log with it.
    assert_eq!(c.call(&["DEBUG", "LOG", "a marker"]), "+OK\r\n");
    assert_eq!(
        c.call(&["DEBUG", "JMAP"]),
        "-ERR unknown subcommand or wrong number of arguments for 'JMAP'. Try DEBUG HELP.\r\n"
    );
    let start = Instant::now();
    assert_eq!(c.call(&["DEBUG", "SLEEP", "0.05"]), "+OK\r\n");
    assert!(start.elapsed().as_millis() >= 50);
    let m: i64 = c.call(&["MEMORY", "USAGE", "foo"]).trim().trim_start_matches(':').parse().unwrap();
    assert!((20..200).contains(&m), "{m}");
    assert_eq!(c.call(&["MEMORY", "USAGE", "nokey"]), "$-1\r\n");
    assert!(c.call(&["MEMORY", "STATS"]).contains("keys.count"));
    assert!(c.call(&["MEMORY", "DOCTOR"]).starts_with('$'));
    assert!(c.call(&["LASTSAVE"]).starts_with(':'));
    assert_eq!(c.call(&["LATENCY", "LATEST"]), "*0\r\n");
    assert_eq!(c.call(&["FUNCTION", "LIST"]), "*0\r\n");
    assert_eq!(c.call(&["FUNCTION", "FLUSH"]), "+OK\r\n");
    assert_eq!(c.call(&["EVAL", "return 1", "0"]), "-ERR scripting is not supported by this server\r\n");
    assert_eq!(c.call(&["SCRIPT", "LOAD", "return 1"]), "-ERR scripting is not supported by this server\r\n");
    // Every scripting subcommand Redis has says so, not "unknown subcommand".
    for sub in [
        &["FUNCTION", "LOAD", "x"][..],
        &["FUNCTION", "HELP"],
        &["SCRIPT", "KILL"],
        &["SCRIPT", "DEBUG", "no"],
    ] {
        assert_eq!(c.call(sub), "-ERR scripting is not supported by this server\r\n", "{sub:?}");
    }
    assert_eq!(c.call(&["SCRIPT", "NOSUCH"]), "-ERR unknown subcommand 'NOSUCH'. Try SCRIPT HELP.\r\n");
}

/// Redis 7.0's LOLWUT is its version line, a verbatim string in RESP3;
/// only VERSION's argument is checked.
#[test]
fn lolwut_prints_the_redis_version() {
    let srv = common::start();
    let mut c = Conn::new(&srv);
    assert_eq!(c.call(&["LOLWUT"]), "$18\r\nRedis ver. 7.0.15\n\r\n");
    assert_eq!(c.call(&["LOLWUT", "5", "6", "7", "8"]), "$18\r\nRedis ver. 7.0.15\n\r\n");
    assert_eq!(c.call(&["LOLWUT", "VERSION", "x"]), "-ERR value is not an integer or out of range\r\n");
    c.call(&["HELLO", "3"]);
    assert_eq!(c.call(&["LOLWUT", "VERSION", "7"]), "=22\r\ntxt:Redis ver. 7.0.15\n\r\n");
}

/// The cluster commands answer as a redis-server without cluster mode:
/// known commands (arity and subcommand errors as Redis's), each refused
/// with "cluster support disabled", which is how clients tell a
/// standalone server from a cluster.
#[test]
fn cluster_commands_answer_that_cluster_support_is_disabled() {
    let srv = common::start();
    let mut c = Conn::new(&srv);
    let disabled = "-ERR This instance has cluster support disabled\r\n";
    for cmd in [
        &["CLUSTER", "INFO"][..],
        &["CLUSTER", "help"],
        &["CLUSTER", "KEYSLOT", "a"],
        &["READONLY"],
        &["READWRITE"],
        &["ASKING"],
    ] {
        assert_eq!(c.call(cmd), disabled, "{cmd:?}");
    }
    assert_eq!(c.call(&["CLUSTER", "FOO"]), "-ERR unknown subcommand 'FOO'. Try CLUSTER HELP.\r\n");
    assert_eq!(
        c.call(&["CLUSTER", "INFO", "x"]),
        "-ERR wrong number of arguments for 'cluster|info' command\r\n"
    );
    assert_eq!(c.call(&["READONLY", "x"]), "-ERR wrong number of arguments for 'readonly' command\r\n");
    assert_eq!(c.call(&["PING"]), "+PONG\r\n", "the connection carries on");
}

/// redis-py's suite fakes LOADING, READONLY and OOM replies with DEBUG
/// ERROR; the text comes back as the error itself, with no `ERR` prefix.
#[test]
fn debug_error_replies_with_its_argument() {
    let srv = common::start();
    let mut c = Conn::new(&srv);
    assert_eq!(c.call(&["DEBUG", "ERROR", "LOADING fake message"]), "-LOADING fake message\r\n");
    assert_eq!(c.call(&["DEBUG", "ERROR", "two\r\nlines"]), "-two  lines\r\n");
    // Queued in MULTI, it is one error among EXEC's replies.
    assert_eq!(c.call(&["MULTI"]), "+OK\r\n");
    assert_eq!(c.call(&["DEBUG", "ERROR", "READONLY You can't write"]), "+QUEUED\r\n");
    assert_eq!(c.call(&["EXEC"]), "*1\r\n-READONLY You can't write\r\n");
    assert!(c.call(&["DEBUG", "HELP"]).contains("ERROR <string>"));
}

#[test]
fn shutdown_closes_the_connection_and_stops_the_server() {
    let srv = common::start();
    let mut c = Conn::new(&srv);
    assert_eq!(c.call(&["SHUTDOWN", "BOGUS"]), "-ERR syntax error\r\n");
    c.send(&["SHUTDOWN", "NOSAVE"]);
    let mut rest = Vec::new();
    c.r.read_to_end(&mut rest).expect("the server closes the connection");
    assert!(rest.is_empty(), "{rest:?}");
    // It stopped listening before it closed the connection, as Redis.
    let refused = std::net::TcpStream::connect(srv.addr()).unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    let deadline = Instant::now() + TIMEOUT;
    while !srv.is_finished() {
        assert!(Instant::now() < deadline, "server did not stop");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn setting_a_password_keeps_existing_connections_logged_in() {
    let srv = common::start();
    let mut a = Conn::new(&srv);
    let mut b = Conn::new(&srv);
    assert_eq!(a.call(&["CONFIG", "SET", "requirepass", "pw"]), "+OK\r\n");
    assert_eq!(a.call(&["PING"]), "+PONG\r\n");
    assert_eq!(b.call(&["PING"]), "+PONG\r\n");
    let mut c = Conn::new(&srv);
    assert_eq!(c.call(&["PING"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(c.call(&["AUTH", "pw"]), "+OK\r\n");
    assert_eq!(c.call(&["PING"]), "+PONG\r\n");
}

fn blocked_clients(c: &mut redis::Connection) -> i64 {
    let info: String = redis::cmd("INFO").arg("clients").query(c).unwrap();
    info.lines().find_map(|l| l.strip_prefix("blocked_clients:")).unwrap().trim().parse().unwrap()
}

fn wait_blocked(c: &mut redis::Connection, n: i64) {
    let deadline = std::time::Instant::now() + TIMEOUT;
    while blocked_clients(c) != n {
        assert!(std::time::Instant::now() < deadline, "blocked_clients never reached {n}");
        std::thread::sleep(std::time::Duration::from_millis(1)); // pace the polls
    }
}

#[test]
fn client_pause_write_holds_writes_until_unpause() {
    let srv = start();
    let mut admin = conn(&srv);
    let ok: String = redis::cmd("CLIENT").arg("PAUSE").arg(60_000).arg("WRITE").query(&mut admin).unwrap();
    assert_eq!(ok, "OK");
    let mut writer = Raw::connect(&srv);
    writer.send(b"SET held 1\r\nGET held\r\n");
    wait_blocked(&mut admin, 1);
    // Reads from others go on; the held write has not happened.
    let v: Option<String> = redis::cmd("GET").arg("held").query(&mut admin).unwrap();
    assert_eq!(v, None);
    let ok: String = redis::cmd("CLIENT").arg("UNPAUSE").query(&mut admin).unwrap();
    assert_eq!(ok, "OK");
    // The held SET runs, then the GET pipelined behind it.
    assert_eq!(writer.read_exact_len(b"+OK\r\n$1\r\n1\r\n".len()), b"+OK\r\n$1\r\n1\r\n");
    wait_blocked(&mut admin, 0);
}

#[test]
fn client_pause_all_ends_by_itself() {
    let srv = start();
    let mut admin = conn(&srv);
    let _: String = redis::cmd("CLIENT").arg("PAUSE").arg(200).query(&mut admin).unwrap();
    let mut other = Raw::connect(&srv);
    // Even a read waits for the deadline, then runs.
    other.send(b"PING\r\n");
    assert_eq!(other.read_exact_len(7), b"+PONG\r\n");
}

#[test]
fn latency_monitor_records_slow_commands() {
    let srv = start();
    let mut c = conn(&srv);
    let latest: Vec<redis::Value> = redis::cmd("LATENCY").arg("LATEST").query(&mut c).unwrap();
    assert!(latest.is_empty());
    let _: () =
        redis::cmd("CONFIG").arg("SET").arg("latency-monitor-threshold").arg(10).query(&mut c).unwrap();
    let _: () = redis::cmd("DEBUG").arg("SLEEP").arg("0.05").query(&mut c).unwrap();
    let latest: Vec<(String, i64, i64, i64)> = redis::cmd("LATENCY").arg("LATEST").query(&mut c).unwrap();
    assert_eq!(latest.len(), 1, "{latest:?}");
    let (event, _, ms, max) = &latest[0];
    assert_eq!(event, "command");
    assert!(*ms >= 50 && max >= ms, "{latest:?}");
    let history: Vec<(i64, i64)> = redis::cmd("LATENCY").arg("HISTORY").arg("command").query(&mut c).unwrap();
    assert_eq!(history.len(), 1);
    // GRAPH draws the series as Redis does: a title, an 80-column rule,
    // 4 rows of one column per sample (the only sample is the lowest
    // value too, so it sits at the bottom), a blank line and its label
    // (how many seconds ago, "0s" or "1s", written downwards).
    let graph: String = redis::cmd("LATENCY").arg("GRAPH").arg("command").query(&mut c).unwrap();
    let lines: Vec<&str> = graph.lines().collect();
    assert_eq!(lines[0], format!("command - high {ms} ms, low {ms} ms (all time high {max} ms)"));
    assert_eq!(lines[1], "-".repeat(80));
    assert_eq!(lines[2..7], [" ", " ", " ", "_", " "], "{graph}");
    assert!(["0", "1"].contains(&lines[7]) && lines[8] == "s" && lines.len() == 9, "{graph}");
    let err = redis::cmd("LATENCY").arg("GRAPH").arg("nosuch").query::<String>(&mut c).unwrap_err();
    assert!(err.to_string().contains("No samples available for event 'nosuch'"), "{err}");
    let n: i64 = redis::cmd("LATENCY").arg("RESET").query(&mut c).unwrap();
    assert_eq!(n, 1);
    let latest: Vec<redis::Value> = redis::cmd("LATENCY").arg("LATEST").query(&mut c).unwrap();
    assert!(latest.is_empty());
}

/// Redis counts a lookup that finds a key of the wrong type as a keyspace
/// hit (it looks the key up, then checks the type).
#[test]
fn a_wrong_type_lookup_counts_as_a_keyspace_hit() {
    let srv = common::start();
    let mut c = Conn::new(&srv);
    c.call(&["RPUSH", "l", "a"]);
    c.call(&["CONFIG", "RESETSTAT"]);
    for cmd in [&["GET", "l"][..], &["STRLEN", "l"], &["GETRANGE", "l", "0", "1"]] {
        assert!(c.call(cmd).starts_with("-WRONGTYPE"), "{cmd:?}");
    }
    let info = c.call(&["INFO", "stats"]);
    assert!(info.contains("keyspace_hits:3\r\n") && info.contains("keyspace_misses:0\r\n"), "{info}");
}

/// CLIENT LIST shows Redis 7.0's state letters and counts: `P` with the
/// subscription counts, `x` and `multi=` for a queued transaction, `d` once
/// a watched key changed, `b` while blocked; TYPE pubsub selects the
/// subscribers, for LIST and for KILL. Compared with redis-server 7.0.15.
#[test]
fn client_list_shows_pubsub_multi_and_blocked_state() {
    let srv = common::start();
    let mut sub = Conn::new(&srv);
    sub.call(&["SUBSCRIBE", "a", "b"]);
    sub.send(&["PSUBSCRIBE", "x*"]);
    let mut tx = Conn::new(&srv);
    let tx_id = tx.call(&["CLIENT", "ID"]).trim().trim_start_matches(':').to_string();
    tx.call(&["WATCH", "w"]);
    tx.call(&["MULTI"]);
    tx.call(&["SET", "k", "1"]);
    tx.call(&["GET", "k"]);
    let mut me = Conn::new(&srv);
    me.call(&["SET", "w", "changed"]);
    let mut blocked = Conn::new(&srv);
    blocked.send(&["BLPOP", "zz", "0"]);
    let line_of = |list: &str, id: &str| {
        list.lines().find(|l| l.contains(&format!("id={id} "))).map(str::to_owned).unwrap_or_default()
    };
    // The blocked client shows up once its BLPOP has been read.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let list = loop {
        let list = me.call(&["CLIENT", "LIST"]);
        if list.contains(" flags=b ") {
            break list;
        }
        assert!(std::time::Instant::now() < deadline, "never saw the blocked client: {list}");
    };
    let sub_line = list.lines().find(|l| l.contains(" flags=P ")).expect("the subscriber").to_string();
    assert!(sub_line.contains(" sub=2 psub=1 ssub=0 multi=-1 "), "{sub_line}");
    let tx_line = line_of(&list, &tx_id);
    assert!(tx_line.contains(" flags=xd ") && tx_line.contains(" multi=2 "), "{tx_line}");
    let only = me.call(&["CLIENT", "LIST", "TYPE", "pubsub"]);
    assert_eq!(only.matches("id=").count(), 1, "{only}");
    assert!(only.contains(" flags=P "), "{only}");
    assert!(!me.call(&["CLIENT", "LIST", "TYPE", "normal"]).contains(" flags=P "));
    assert_eq!(me.call(&["CLIENT", "KILL", "TYPE", "pubsub"]), ":1\r\n");
    assert!(!me.call(&["CLIENT", "LIST"]).contains(" flags=P "));
}

/// DEBUG POPULATE fills a database as Redis's does (checked side by side
/// with redis-server 7.0.15): `prefix:N` keys holding `value:N`, cut or
/// padded with zero bytes to a size; existing keys kept; watchers see the
/// new keys; no change counted for the save points.
#[test]
fn debug_populate_creates_keys_as_redis_does() {
    let srv = common::start();
    let mut c = common::conn(&srv);
    let mut watcher = common::conn(&srv);
    let _: () = redis::cmd("WATCH").arg("key:0").query(&mut watcher).unwrap();
    let _: () = redis::cmd("SET").arg("key:5").arg("mine").query(&mut c).unwrap();
    let changes = |c: &mut redis::Connection| {
        let info: String = common::q(c, &["INFO", "persistence"]);
        info.lines().find(|l| l.starts_with("rdb_changes_since_last_save:")).unwrap().to_string()
    };
    let before = changes(&mut c);
    let ok: String = redis::cmd("DEBUG").arg("POPULATE").arg(1000).query(&mut c).unwrap();
    assert_eq!(ok, "OK");
    let _: () = redis::cmd("DEBUG").arg("POPULATE").arg(10).arg("p").arg(3).query(&mut c).unwrap();
    let _: () = redis::cmd("DEBUG").arg("POPULATE").arg(5).arg("q").arg(12).query(&mut c).unwrap();
    let get = |c: &mut redis::Connection, k: &str| -> Vec<u8> { redis::cmd("GET").arg(k).query(c).unwrap() };
    assert_eq!(get(&mut c, "key:999"), b"value:999");
    assert_eq!(get(&mut c, "key:5"), b"mine");
    assert_eq!(get(&mut c, "p:7"), b"val");
    assert_eq!(get(&mut c, "q:3"), b"value:3\0\0\0\0\0");
    assert_eq!(common::q::<i64>(&mut c, &["DBSIZE"]), 1015);
    assert_eq!(changes(&mut c), before);
    for bad in [&["-1"][..], &["abc"], &["1", "a", "-5"]] {
        let err = redis::cmd("DEBUG").arg("POPULATE").arg(bad).query::<String>(&mut c).unwrap_err();
        assert!(err.to_string().contains("value is out of range, must be positive"), "{bad:?}: {err}");
    }
    let _: () = redis::cmd("MULTI").query(&mut watcher).unwrap();
    let _: () = redis::cmd("GET").arg("key:0").query(&mut watcher).unwrap();
    let exec: redis::Value = redis::cmd("EXEC").query(&mut watcher).unwrap();
    assert_eq!(exec, redis::Value::Nil, "EXEC ran although a watched key was created");
}

/// DEBUG is a protected command, as in Redis 7: refused by default with
/// Redis's words, allowed with `enable-debug-command yes`, and with
/// `local` only to clients connected from 127.0.0.1 (a client whose
/// address is 127.0.0.2 is not local, as Redis's `islocalClient` sees it).
/// The option cannot change at run time.
#[test]
fn debug_runs_only_where_enable_debug_command_allows_it() {
    use spindle_kv::server::config::ProtectedAction;
    const REFUSED: &str = "DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";
    let sleep = |c: &mut redis::Connection| redis::cmd("DEBUG").arg("SLEEP").arg(0).query::<String>(c);

    let srv = common::start_with(|cfg| cfg.enable_debug_command = ProtectedAction::No);
    let mut c = common::conn(&srv);
    let err = sleep(&mut c).unwrap_err();
    assert!(err.to_string().contains(REFUSED), "{err}");
    let err = redis::cmd("CONFIG")
        .arg("SET")
        .arg("enable-debug-command")
        .arg("yes")
        .query::<()>(&mut c)
        .unwrap_err();
    assert!(err.to_string().contains("can't set immutable config"), "{err}");
    assert_eq!(
        common::q::<Vec<String>>(&mut c, &["CONFIG", "GET", "enable-debug-command"]),
        ["enable-debug-command", "no"]
    );

    let srv = common::start_with(|cfg| cfg.enable_debug_command = ProtectedAction::Yes);
    assert_eq!(sleep(&mut common::conn(&srv)).unwrap(), "OK");

    let srv = common::start_with(|cfg| {
        cfg.enable_debug_command = ProtectedAction::Local;
        cfg.protected_mode = false;
    });
    assert_eq!(sleep(&mut common::conn(&srv)).unwrap(), "OK");
    // A client whose socket is bound to 127.0.0.2 before it connects.
    use spindle_poll::socket;
    use std::os::fd::AsRawFd;
    let fd = socket::socket(libc::AF_INET).unwrap();
    socket::bind(fd.as_raw_fd(), &socket::SockAddr::inet("127.0.0.2:0".parse().unwrap())).unwrap();
    socket::connect(fd.as_raw_fd(), &socket::SockAddr::inet(srv.addr())).unwrap();
    let stream = std::net::TcpStream::from(fd);
    // Blocking: a write waits for the connect to finish.
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(common::TIMEOUT)).unwrap();
    let mut far = common::Raw { stream };
    far.roundtrip(&common::req(&["DEBUG", "SLEEP", "0"]), format!("-ERR {REFUSED}\r\n").as_bytes());
}

/// Reads from `r` until what arrived ends with `marker`; returns it.
fn read_until_suffix(r: &mut Raw, marker: &[u8]) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with(marker) {
        let n = r.stream.read(&mut buf).expect("read");
        assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    got
}

#[test]
fn debug_protocol_sends_each_reply_type_as_redis_does() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    // RESP2: the nearest RESP2 shape of each.
    for (ty, want) in [
        ("string", &b"$11\r\nHello World\r\n"[..]),
        ("integer", b":12345\r\n"),
        ("double", b"$5\r\n3.141\r\n"),
        ("bignum", b"$37\r\n1234567999999999999999999999999999999\r\n"),
        ("null", b"$-1\r\n"),
        ("array", b"*3\r\n:0\r\n:1\r\n:2\r\n"),
        ("set", b"*3\r\n:0\r\n:1\r\n:2\r\n"),
        ("map", b"*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n"),
        ("attrib", b"$39\r\nSome real reply following the attribute\r\n"),
        ("push", b"-ERR RESP2 is not supported by this command\r\n"),
        ("true", b":1\r\n"),
        ("false", b":0\r\n"),
        ("verbatim", b"$25\r\nThis is a verbatim\nstring\r\n"),
    ] {
        r.roundtrip(format!("DEBUG PROTOCOL {ty}\r\n").as_bytes(), want);
    }
    r.send(b"HELLO 3\r\nPING\r\n");
    read_until_suffix(&mut r, b"+PONG\r\n");
    for (ty, want) in [
        ("string", &b"$11\r\nHello World\r\n"[..]),
        ("double", b",3.141\r\n"),
        ("bignum", b"(1234567999999999999999999999999999999\r\n"),
        ("null", b"_\r\n"),
        ("set", b"~3\r\n:0\r\n:1\r\n:2\r\n"),
        ("map", b"%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n"),
        (
            "attrib",
            b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n\
              $39\r\nSome real reply following the attribute\r\n",
        ),
        (
            "push",
            b">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n$40\r\nSome real reply following the push reply\r\n",
        ),
        ("true", b"#t\r\n"),
        ("verbatim", b"=29\r\ntxt:This is a verbatim\nstring\r\n"),
    ] {
        r.roundtrip(format!("DEBUG PROTOCOL {ty}\r\n").as_bytes(), want);
    }
    r.roundtrip(
        b"DEBUG PROTOCOL nosuch\r\n",
        b"-ERR Wrong protocol type name. Please use one of the following: \
          string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false\r\n",
    );
}
