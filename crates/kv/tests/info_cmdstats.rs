//! INFO commandstats and errorstats against a real redis-server 7.0: the
//! same commands (runs, refusals, error replies, a transaction) give the
//! same calls, rejected_calls and failed_calls per command, the same error
//! counts per prefix, and the same total_error_replies. Only usec differs.
//! CONFIG is left out: Redis counts a container's calls under the
//! subcommand (`cmdstat_config|resetstat`), spindle under the command.

mod common;
#[path = "differential/redis.rs"]
mod reference;
// Shared with the differential test, which uses more of it.
#[allow(dead_code)]
#[path = "differential/resp.rs"]
mod resp;

use resp::{args, Client, Frame};
use std::collections::BTreeMap;

fn spindle_client(srv: &spindle_kv::server::ServerThread) -> Client {
    Client::connect(srv.addr(), common::TIMEOUT)
}

const SCRIPT: &[&[&str]] = &[
    &["SET", "a", "1"],
    &["GET", "a"],
    &["GET"],
    &["LPUSH", "a", "x"],
    &["INCR", "a"],
    &["INCRBY", "a", "x"],
    &["NOSUCH", "cmd"],
    &["RPUSH", "l", "x"],
    &["GET", "l"],
    &["MULTI"],
    &["SET", "b", "2"],
    &["LPOP", "b"],
    &["EXEC"],
    &["EXEC"],
    &["DEL", "a", "b", "l"],
];

/// `name -> "calls=..,rejected_calls=..,failed_calls=.."` for every
/// commandstats line, and the errorstats lines and the total.
fn stats(c: &mut Client) -> (BTreeMap<String, String>, Vec<String>, String) {
    let info = |c: &mut Client, section: &str| match c.call(&args(&["INFO", section])) {
        Frame::Bulk(_, Some(b)) => String::from_utf8(b).unwrap(),
        other => panic!("INFO {section}: {}", other.show()),
    };
    let mut cmds = BTreeMap::new();
    for line in info(c, "commandstats").lines() {
        let Some((name, fields)) = line.strip_prefix("cmdstat_").and_then(|l| l.split_once(':')) else {
            continue;
        };
        let kept: Vec<&str> = fields.split(',').filter(|f| !f.starts_with("usec")).collect();
        cmds.insert(name.to_string(), kept.join(","));
    }
    let errors =
        info(c, "errorstats").lines().filter(|l| l.starts_with("errorstat_")).map(str::to_owned).collect();
    let total = info(c, "stats")
        .lines()
        .find(|l| l.starts_with("total_error_replies:"))
        .map(str::to_owned)
        .expect("total_error_replies in INFO stats");
    (cmds, errors, total)
}

#[test]
fn command_and_error_stats_match_redis() {
    let redis = reference::Redis::start();
    let srv = common::start();
    let mut theirs = redis.client();
    let mut ours = spindle_client(&srv);
    for c in [&mut theirs, &mut ours] {
        c.call(&args(&["CONFIG", "RESETSTAT"]));
        for cmd in SCRIPT {
            c.call(&args(cmd));
        }
    }
    let (mine, reference) = (stats(&mut ours), stats(&mut theirs));
    assert!(
        mine.0.contains_key("get") && mine.1.iter().any(|l| l.starts_with("errorstat_WRONGTYPE")),
        "{mine:?}"
    );
    assert_eq!(mine.0, reference.0, "commandstats");
    assert_eq!(mine.1, reference.1, "errorstats");
    assert_eq!(mine.2, reference.2, "total_error_replies");
}

/// Containers: run, called alone, with an unknown subcommand, with the
/// wrong arity for a subcommand, inside MULTI (queued and refused).
const CONTAINERS: &[&[&str]] = &[
    &["SET", "k", "v"],
    &["CONFIG", "GET", "maxmemory"],
    &["config", "get", "hz", "port"],
    &["CONFIG"],
    &["CONFIG", "GET"],
    &["CONFIG", "NOSUCH"],
    &["CONFIG", "SET", "nosuch-option", "1"],
    &["OBJECT", "ENCODING", "k"],
    &["OBJECT", "ENCODING", "nokey"],
    &["OBJECT", "ENCODING"],
    &["OBJECT"],
    &["object", "help"],
    &["CLIENT", "ID"],
    &["CLIENT", "GETNAME"],
    &["CLIENT", "NOSUCH", "x"],
    &["COMMAND", "COUNT"],
    &["SLOWLOG", "LEN"],
    &["MEMORY", "USAGE", "k"],
    &["PUBSUB", "NUMPAT"],
    &["MULTI"],
    &["CONFIG", "GET", "hz"],
    &["CLIENT", "ID"],
    &["EXEC"],
    &["MULTI"],
    &["OBJECT", "ENCODING", "k"],
    &["CONFIG", "NOSUCH"],
    &["EXEC"],
    &["MULTI"],
    &["CONFIG", "GET"],
    &["EXEC"],
];

#[test]
fn container_commands_count_under_their_subcommand_as_redis() {
    let redis = reference::Redis::start();
    let srv = common::start();
    let mut theirs = redis.client();
    let mut ours = spindle_client(&srv);
    let mut replies = Vec::new();
    for c in [&mut theirs, &mut ours] {
        c.call(&args(&["CONFIG", "RESETSTAT"]));
        let errors: Vec<bool> = CONTAINERS.iter().map(|cmd| c.call(&args(cmd)).is_error()).collect();
        replies.push(errors);
    }
    assert_eq!(replies[1], replies[0], "which commands were refused or failed");
    let (mine, reference) = (stats(&mut ours), stats(&mut theirs));
    for name in ["config|get", "config", "object|encoding", "client|id", "exec", "config|resetstat"] {
        assert!(mine.0.contains_key(name), "no cmdstat_{name}: {:?}", mine.0);
    }
    assert!(!mine.0.contains_key("client|nosuch") && !mine.0.contains_key("config|nosuch"), "{:?}", mine.0);
    assert_eq!(mine.0, reference.0, "commandstats");
    assert_eq!(mine.1, reference.1, "errorstats");
    assert_eq!(mine.2, reference.2, "total_error_replies");
}

/// The `cmd=` field of client `id` in CLIENT LIST, read by `watcher`.
fn cmd_field(watcher: &mut Client, id: i64) -> String {
    let list = match watcher.call(&args(&["CLIENT", "LIST", "ID", &id.to_string()])) {
        Frame::Bulk(_, Some(b)) => String::from_utf8(b).unwrap(),
        other => panic!("CLIENT LIST: {}", other.show()),
    };
    let field = list.split_whitespace().find(|f| f.starts_with("cmd=")).map(str::to_owned);
    field.unwrap_or_else(|| panic!("no cmd= in {list:?}"))
}

#[test]
fn client_list_cmd_names_the_subcommand_as_redis() {
    let redis = reference::Redis::start();
    let srv = common::start();
    let steps: &[&[&str]] = &[
        &["CONFIG", "GET", "maxmemory"],
        &["CONFIG"],
        &["CONFIG", "GET"],
        &["CONFIG", "NOSUCH"],
        &["NOSUCHCMD"],
        &["GET", "k"],
        &["GET"],
        &["object", "HELP"],
        &["CLIENT", "NO-EVICT", "off"],
        &["MULTI"],
        &["CONFIG", "GET", "hz"],
        &["EXEC"],
    ];
    let mut seen = Vec::new();
    for (mut watched, mut watcher) in
        [(redis.client(), redis.client()), (spindle_client(&srv), spindle_client(&srv))]
    {
        let Frame::Line(b':', id) = watched.call(&args(&["CLIENT", "ID"])) else { panic!("CLIENT ID") };
        let id: i64 = String::from_utf8(id).unwrap().parse().unwrap();
        let mut fields = vec![cmd_field(&mut watcher, id)];
        for step in steps {
            watched.call(&args(step));
            fields.push(cmd_field(&mut watcher, id));
        }
        let own = match watched.call(&args(&["CLIENT", "INFO"])) {
            Frame::Bulk(_, Some(b)) => String::from_utf8(b).unwrap(),
            other => panic!("CLIENT INFO: {}", other.show()),
        };
        fields.extend(own.split_whitespace().filter(|f| f.starts_with("cmd=")).map(str::to_owned));
        seen.push(fields);
    }
    assert!(seen[1].iter().any(|f| f == "cmd=config|get"), "{:?}", seen[1]);
    assert_eq!(seen[1], seen[0], "cmd= after each of {steps:?}");
}

#[test]
fn refusals_before_auth_count_as_redis() {
    let redis = reference::Redis::start();
    let srv = common::start();
    let steps: &[&[&str]] = &[
        &["GET"],
        &["GET", "k"],
        &["CONFIG", "NOSUCH"],
        &["CONFIG", "GET"],
        &["CONFIG", "GET", "hz"],
        &["NOSUCHCMD"],
        &["AUTH", "pw"],
        &["GET", "k"],
    ];
    let mut seen = Vec::new();
    for (mut admin, connect) in [
        (redis.client(), Box::new(|| redis.client()) as Box<dyn Fn() -> Client>),
        (spindle_client(&srv), Box::new(|| spindle_client(&srv))),
    ] {
        admin.call(&args(&["CONFIG", "SET", "requirepass", "pw"]));
        admin.call(&args(&["CONFIG", "RESETSTAT"]));
        let mut c = connect();
        let replies: Vec<String> = steps.iter().map(|s| c.call(&args(s)).show()).collect();
        seen.push((replies, stats(&mut admin)));
    }
    assert!(seen[1].0[0].contains("wrong number of arguments for 'get'"), "{:?}", seen[1].0);
    assert_eq!(seen[1].0, seen[0].0, "replies to {steps:?}");
    assert_eq!(seen[1].1, seen[0].1, "commandstats, errorstats, total_error_replies");
}

/// DEBUG ERROR sends its text as a raw error line (Redis's `addReplySds`),
/// which Redis 7.0 does not count as an error reply: no errorstat, no
/// total_error_replies, no failed call, alone or inside a transaction.
/// (The reference server refuses DEBUG unless `enable-debug-command` is
/// set, so the expected figures are redis-server 7.0.15's, written out.)
#[test]
fn debug_error_replies_are_not_counted_as_errors() {
    let srv = common::start();
    let mut c = spindle_client(&srv);
    c.call(&args(&["CONFIG", "RESETSTAT"]));
    let reply = c.call(&args(&["DEBUG", "ERROR", "LOADING fake"]));
    assert_eq!(reply, Frame::Line(b'-', b"LOADING fake".to_vec()));
    for cmd in [&["MULTI"][..], &["DEBUG", "ERROR", "ERR in a transaction"], &["EXEC"]] {
        c.call(&args(cmd));
    }
    let (cmds, errors, total) = stats(&mut c);
    assert_eq!(cmds["debug"], "calls=2,rejected_calls=0,failed_calls=0");
    assert_eq!(cmds["exec"], "calls=1,rejected_calls=0,failed_calls=0");
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(total, "total_error_replies:0");
}
