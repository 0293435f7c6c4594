//! COMMAND and its subcommands as a client sees them: COUNT, INFO, DOCS,
//! LIST and its filters, GETKEYS and GETKEYSANDFLAGS, byte for byte in
//! RESP2 and RESP3; and the HELP replies and subcommand argument errors of
//! the container commands. (command_meta.rs compares every COMMAND INFO and
//! COMMAND LIST entry with a live redis-server's.)

mod common;

use common::wire::Conn;

#[test]
fn command_count_info_docs_getkeys() {
    let srv = common::start();
    let mut c = Conn::new(&srv);
    let n: i64 = c.call(&["COMMAND", "COUNT"]).trim().trim_start_matches(':').parse().unwrap();
    assert!(n > 20);
    let all = c.call(&["COMMAND"]);
    assert!(all.starts_with(&format!("*{n}\r\n")), "{}", &all[..40]);
    // Every field is compared with redis-server's in tests/command_meta.rs.
    let info = c.call(&["COMMAND", "INFO", "get", "nosuch"]);
    assert!(
        info.starts_with("*2\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n"),
        "{info}"
    );
    assert!(info.ends_with("*0\r\n$-1\r\n"), "{info}");
    let cfg = c.call(&["COMMAND", "INFO", "config"]);
    assert!(cfg.contains("$10\r\nconfig|get\r\n:-3\r\n"), "{cfg}");
    let docs = c.call(&["COMMAND", "DOCS", "get"]);
    assert!(
        docs.starts_with("*2\r\n$3\r\nget\r\n*10\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n"),
        "{docs}"
    );
    assert!(docs.contains("$5\r\ngroup\r\n$6\r\nstring\r\n"), "{docs}");
    let docs = c.call(&["COMMAND", "DOCS"]);
    assert!(docs.starts_with(&format!("*{}\r\n", 2 * n)), "{}", &docs[..20]);
    assert_eq!(c.call(&["COMMAND", "GETKEYS", "SET", "a", "b"]), "*1\r\n$1\r\na\r\n");
    assert_eq!(
        c.call(&["COMMAND", "GETKEYS", "DEL", "a", "b", "c"]),
        "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"
    );
    assert_eq!(c.call(&["COMMAND", "GETKEYS", "PING", "x"]), "-ERR The command has no key arguments\r\n");
    assert_eq!(c.call(&["COMMAND", "GETKEYS", "foo", "x"]), "-ERR Invalid command specified\r\n");
    assert_eq!(
        c.call(&["COMMAND", "GETKEYS", "GET", "a", "b"]),
        "-ERR Invalid number of arguments specified for command\r\n"
    );
    assert_eq!(
        c.call(&["COMMAND", "GETKEYS", "GET"]),
        "-ERR wrong number of arguments for 'command|getkeys' command\r\n"
    );
    let list = c.call(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "conf*"]);
    assert!(list.starts_with("*6\r\n$6\r\nconfig\r\n$10\r\nconfig|get\r\n"), "{list}");
    let list = c.call(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "string"]);
    assert!(list.contains("$3\r\nget\r\n") && !list.contains("$6\r\nconfig\r\n"), "{list}");
}

/// COMMAND GETKEYS and COMMAND INFO for commands whose keys follow a key
/// count (ZUNIONSTORE, LMPOP, EVAL, ...) and for subcommands that take a
/// key (MEMORY USAGE, OBJECT ENCODING), as redis-server 7.0.15 answers
/// (redis-py's test_command_getkeys and its cluster key finder use these).
#[test]
fn command_getkeys_follows_key_counts_and_subcommands() {
    let srv = common::start();
    let mut c = Conn::new(&srv);
    let keys = |c: &mut Conn, args: &[&str]| {
        let mut all = vec!["COMMAND", "GETKEYS"];
        all.extend_from_slice(args);
        c.call(&all)
    };
    let arr = |ks: &[&str]| {
        let mut out = format!("*{}\r\n", ks.len());
        for k in ks {
            out.push_str(&format!("${}\r\n{k}\r\n", k.len()));
        }
        out
    };
    let invalid_args = "-ERR Invalid arguments specified for command\r\n";
    assert_eq!(
        keys(&mut c, &["ZUNIONSTORE", "out", "2", "z1", "z2", "WEIGHTS", "2", "3"]),
        arr(&["out", "z1", "z2"])
    );
    assert_eq!(keys(&mut c, &["ZDIFFSTORE", "out", "+2", "a", "b"]), arr(&["a", "b", "out"]));
    assert_eq!(keys(&mut c, &["ZINTERSTORE", "out", "2", "a"]), invalid_args);
    assert_eq!(keys(&mut c, &["ZUNION", "0", "a"]), invalid_args);
    assert_eq!(keys(&mut c, &["ZINTERCARD", "2", "a", "b", "LIMIT", "1"]), arr(&["a", "b"]));
    assert_eq!(keys(&mut c, &["SINTERCARD", "1", "a"]), arr(&["a"]));
    assert_eq!(keys(&mut c, &["LMPOP", "2", "a", "LEFT"]), arr(&["a", "LEFT"]));
    assert_eq!(keys(&mut c, &["BLMPOP", "0", "2", "a", "b", "LEFT"]), arr(&["a", "b"]));
    assert_eq!(keys(&mut c, &["BZMPOP", "1.5", "1", "z", "MIN"]), arr(&["z"]));
    assert_eq!(keys(&mut c, &["ZMPOP", "1", "z", "MAX"]), arr(&["z"]));
    assert_eq!(keys(&mut c, &["EVAL", "return 1", "2", "k1", "k2", "a"]), arr(&["k1", "k2"]));
    assert_eq!(keys(&mut c, &["EVAL", "return 1", "0", "k1"]), "*0\r\n");
    assert_eq!(keys(&mut c, &["FCALL", "f", "1", "k", "a"]), arr(&["k"]));
    assert_eq!(
        keys(&mut c, &["LMPOP", "9", "a"]),
        "-ERR Invalid number of arguments specified for command\r\n"
    );
    assert_eq!(keys(&mut c, &["MEMORY", "USAGE", "k", "SAMPLES", "5"]), arr(&["k"]));
    assert_eq!(keys(&mut c, &["object", "encoding", "k"]), arr(&["k"]));
    assert_eq!(keys(&mut c, &["OBJECT", "HELP"]), "-ERR The command has no key arguments\r\n");
    assert_eq!(keys(&mut c, &["MEMORY", "DOCTOR"]), "-ERR The command has no key arguments\r\n");
    assert_eq!(keys(&mut c, &["OBJECT", "NOPE", "k"]), "-ERR Invalid command specified\r\n");
    assert_eq!(keys(&mut c, &["CLIENT", "NOPE"]), "-ERR Invalid command specified\r\n");
    assert_eq!(
        keys(&mut c, &["MEMORY", "USAGE"]),
        "-ERR Invalid number of arguments specified for command\r\n"
    );
    // COMMAND INFO flags the movable keys, with Redis's 0 0 0 key range.
    let info = c.call(&["COMMAND", "INFO", "lmpop"]);
    assert!(
        info.starts_with(
            "*1\r\n*10\r\n$5\r\nlmpop\r\n:-4\r\n*2\r\n+write\r\n+movablekeys\r\n:0\r\n:0\r\n:0\r\n"
        ),
        "{info}"
    );
    let info = c.call(&["COMMAND", "INFO", "zunionstore"]);
    assert!(info.contains("+movablekeys\r\n:1\r\n:1\r\n:1\r\n"), "{info}");
    let info = c.call(&["COMMAND", "INFO", "memory"]);
    assert!(info.contains("$12\r\nmemory|usage\r\n:-3\r\n*1\r\n+readonly\r\n:2\r\n:2\r\n:1\r\n"), "{info}");
}

#[test]
fn command_list_with_bad_options_is_a_syntax_error() {
    let srv = common::start();
    let mut c = Conn::new(&srv);
    for args in [&["COMMAND", "LIST", "bad_arg"][..], &["COMMAND", "LIST", "FILTERBY", "bad_arg"]] {
        assert_eq!(c.call(args), "-ERR syntax error\r\n", "{args:?}");
    }
    assert_eq!(c.call(&["COMMAND", "LIST", "FILTERBY", "bad_arg", "x"]), "-ERR syntax error\r\n");
}

#[test]
fn command_getkeysandflags_gives_each_key_its_access_flags() {
    let srv = common::start();
    let mut c = common::conn(&srv);
    let mut ask = |line: &str| -> Vec<(String, Vec<String>)> {
        let args: Vec<&str> = line.split(' ').collect();
        common::q(&mut c, &[&["COMMAND", "GETKEYSANDFLAGS"][..], &args].concat())
    };
    let kf = |k: &str, f: &[&str]| (k.to_string(), f.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(ask("set k1 v1"), [kf("k1", &["OW", "update"])]);
    assert_eq!(ask("set k1 v1 GET"), [kf("k1", &["RW", "access", "update"])]);
    assert_eq!(ask("mset k1 v1 k2 v2"), [kf("k1", &["OW", "update"]), kf("k2", &["OW", "update"])]);
    assert_eq!(
        ask("LMOVE k1 k2 left right"),
        [kf("k1", &["RW", "access", "delete"]), kf("k2", &["RW", "insert"])]
    );
    assert_eq!(ask("sort k1 store k2"), [kf("k1", &["RO", "access"]), kf("k2", &["OW", "update"])]);
    assert_eq!(
        ask("zunionstore d 2 a b"),
        [kf("d", &["OW", "update"]), kf("a", &["RO", "access"]), kf("b", &["RO", "access"])]
    );
}

/// In RESP3 each key's flags are a set (`~`), as Redis writes them;
/// redis-py 5 compares them to a Python set.
#[test]
fn command_getkeysandflags_flags_are_a_set_in_resp3() {
    let srv = common::start();
    let mut c = Conn::new(&srv);
    c.call(&["HELLO", "3"]);
    assert_eq!(
        c.call(&["COMMAND", "GETKEYSANDFLAGS", "LMOVE", "a", "b", "left", "left"]),
        "*2\r\n*2\r\n$1\r\na\r\n~3\r\n+RW\r\n+access\r\n+delete\r\n*2\r\n$1\r\nb\r\n~2\r\n+RW\r\n+insert\r\n"
    );
}

/// Every HELP reply ends with the line Redis's addReplyHelp adds itself,
/// "Prints this help."; spindle wrote "Print this help." for six commands.
/// Those whose subcommands spindle has in full match redis-server's
/// reply line for line. Found by bench/kv_diff_fuzz.py.
#[test]
fn help_replies_end_as_redis_writes_them() {
    let srv = common::start();
    let redis = common::redis_server::RedisServer::start(&[]);
    let (mut ours, mut theirs) = (common::conn(&srv), redis.conn());
    for cmd in ["COMMAND", "CONFIG", "MEMORY", "SLOWLOG", "LATENCY", "OBJECT", "PUBSUB"] {
        let a: Vec<String> = common::q(&mut ours, &[cmd, "HELP"]);
        let b: Vec<String> = common::q(&mut theirs, &[cmd, "HELP"]);
        assert_eq!(a, b, "{cmd} HELP");
    }
    for cmd in ["CLIENT", "DEBUG"] {
        let a: Vec<String> = common::q(&mut ours, &[cmd, "HELP"]);
        assert_eq!(a[a.len() - 2..], ["HELP", "    Prints this help."], "{cmd} HELP");
    }
}

/// A known subcommand with an argument count its table arity allows but
/// the command does not gets `addReplySubcommandSyntaxError`'s reply, not
/// an arity error; MEMORY USAGE takes only SAMPLES pairs; CLIENT UNBLOCK
/// checks its reason before its id. As redis-server 7.0.15 answers; found
/// by bench/kv_diff_fuzz.py.
#[test]
fn subcommand_argument_errors_as_redis_gives_them() {
    let srv = common::start();
    let mut r = common::Raw::connect(&srv);
    use common::check;
    check(
        &mut r,
        &["SLOWLOG", "get", "1", "2"],
        "-ERR unknown subcommand or wrong number of arguments for 'get'. Try SLOWLOG HELP.\r\n",
    );
    check(
        &mut r,
        &["CLIENT", "UNBLOCK", "1", "ERROR", "x"],
        "-ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT HELP.\r\n",
    );
    check(
        &mut r,
        &["CLIENT", "UNBLOCK", "x", "1"],
        "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n",
    );
    check(&mut r, &["CLIENT", "UNBLOCK", "x", "timeout"], "-ERR value is not an integer or out of range\r\n");
    check(&mut r, &["MEMORY", "USAGE", "k", "1"], "-ERR syntax error\r\n");
    check(&mut r, &["MEMORY", "USAGE", "k", "SAMPLES", "1", "x"], "-ERR syntax error\r\n");
    check(&mut r, &["MEMORY", "USAGE", "k", "SAMPLES", "1", "SAMPLES", "0"], "$-1\r\n");
    check(&mut r, &["MEMORY", "USAGE", "k", "SAMPLES", "-1"], "-ERR syntax error\r\n");
}
