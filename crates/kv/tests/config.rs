//! Config: redis.conf parsing, command-line options, CONFIG GET/SET/REWRITE.

mod common;

use spindle_kv::server::config::{AppendFsync, Config, EvictionPolicy, OutputLimit};
use spindle_kv::server::config_table::{all as all_options, HIDDEN, IMMUTABLE, LISTENER, OPTIONS, PROTECTED};
use std::path::PathBuf;

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = common::named_dir(&format!("config-{name}"));
    let p = dir.join("redis.conf");
    std::fs::write(&p, text).unwrap();
    p
}

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_redis_conf_file_parses_fully() {
    let text = r#"
# a comment
port 7001
bind 127.0.0.1 -::1
requirepass "p a\x41ss"
save 3600 1 300 100
save 60 10000
maxmemory 1gb
maxmemory-policy allkeys-lru
client-output-buffer-limit normal 0 0 0 pubsub 32mb 8mb 60
hash-max-ziplist-entries 64
list-max-ziplist-size -3
zset-max-ziplist-value 32
appendonly yes
appendfsync always
notify-keyspace-events KEA
proto-max-bulk-len 10mb
slowlog-log-slower-than -1
dbfilename 'my dump.rdb'
"#;
    let p = temp_file("full", text);
    let cfg = Config::from_args(&args(&[p.to_str().unwrap()])).expect("parses");
    assert_eq!(cfg.port, 7001);
    assert_eq!(cfg.bind, args(&["127.0.0.1", "-::1"]));
    assert_eq!(cfg.requirepass, b"p aAss");
    assert_eq!(cfg.save, vec![(3600, 1), (300, 100), (60, 10000)]);
    assert_eq!(cfg.maxmemory, 1 << 30);
    assert_eq!(cfg.maxmemory_policy, EvictionPolicy::AllKeysLru);
    assert_eq!(cfg.client_output_buffer_limit[0], OutputLimit { hard: 0, soft: 0, soft_secs: 0 });
    assert_eq!(cfg.client_output_buffer_limit[1], Config::default().client_output_buffer_limit[1]);
    assert_eq!(
        cfg.client_output_buffer_limit[2],
        OutputLimit { hard: 32 << 20, soft: 8 << 20, soft_secs: 60 }
    );
    assert_eq!(cfg.encoding.hash_max_listpack_entries, 64);
    assert_eq!(cfg.encoding.list_max_listpack_size, -3);
    assert_eq!(cfg.encoding.zset_max_listpack_value, 32);
    assert!(cfg.appendonly);
    assert_eq!(cfg.appendfsync, AppendFsync::Always);
    assert_eq!(cfg.notify_keyspace_events, "AKE");
    assert_eq!(cfg.proto_max_bulk_len, 10 << 20);
    assert_eq!(cfg.slowlog_log_slower_than, -1);
    assert_eq!(cfg.dbfilename, "my dump.rdb");
    assert_eq!(cfg.config_file.as_deref(), Some(std::fs::canonicalize(&p).unwrap().as_path()));
}

#[test]
fn save_empty_string_disables_snapshots() {
    let p = temp_file("save", "save \"\"\n");
    assert!(Config::from_args(&args(&[p.to_str().unwrap()])).unwrap().save.is_empty());
    let cfg = Config::from_args(&args(&["--save", "", "--port", "0"])).unwrap();
    assert!(cfg.save.is_empty());
    let cfg = Config::from_args(&args(&["--save", "10 1 20 2"])).unwrap();
    assert_eq!(cfg.save, vec![(10, 1), (20, 2)]);
}

/// The file's `save` lines and `--save` arguments are one list, as in
/// Redis (which appends the command line to the file's text): the first
/// replaces the defaults, later ones add, `save ""` empties.
#[test]
fn save_directives_accumulate_across_the_file_and_the_command_line() {
    let p = temp_file("save-acc", "save 900 1\n");
    let file = p.to_str().unwrap();
    assert_eq!(Config::from_args(&args(&[file])).unwrap().save, vec![(900, 1)]);
    assert_eq!(
        Config::from_args(&args(&[file, "--save", "100 100"])).unwrap().save,
        vec![(900, 1), (100, 100)]
    );
    assert!(Config::from_args(&args(&[file, "--save", ""])).unwrap().save.is_empty());
    let cfg = Config::from_args(&args(&["--save", "1 2", "--save", "3 4"])).unwrap();
    assert_eq!(cfg.save, vec![(1, 2), (3, 4)]);
}

#[test]
fn command_line_options_follow_the_file() {
    let p = temp_file("cmdline", "hz 20\nport 7002\n");
    let cfg =
        Config::from_args(&args(&[p.to_str().unwrap(), "--port", "7003", "--maxmemory", "100mb"])).unwrap();
    assert_eq!((cfg.hz, cfg.port, cfg.maxmemory), (20, 7003, 100 << 20));
}

#[test]
fn bad_lines_give_redis_errors() {
    let cases = [
        ("port 0\nfoo bar\n", "at line 2\n>>> 'foo bar'\nBad directive or wrong number of arguments"),
        ("hz \"abc\n", "Unbalanced quotes in configuration line"),
        ("hz abc\n", "argument couldn't be parsed into an integer"),
        ("maxmemory 1.5gb\n", "argument must be a memory value"),
        ("appendfsync sometimes\n", "argument(s) must be one of the following: everysec, always, no"),
        ("protected-mode maybe\n", "argument must be 'yes' or 'no'"),
        ("hz 1 2\n", "wrong number of arguments"),
        ("include /nonexistent/other.conf\n", "can't open config file '/nonexistent/other.conf'"),
        ("rename-command nosuch x\n", "No such command in rename-command"),
        ("active-expire-effort 11\n", "argument must be between 1 and 10 inclusive"),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let p = temp_file(&format!("bad{i}"), text);
        let err = Config::from_args(&args(&[p.to_str().unwrap()])).unwrap_err();
        assert!(err.0.contains(want), "{text:?}: {}", err.0);
    }
    assert!(Config::from_args(&args(&["/nonexistent/redis.conf"]))
        .unwrap_err()
        .0
        .contains("can't open config file"));
}

/// A new valid value for every mutable option, and what CONFIG GET shows.
fn sample(name: &str) -> (&'static str, &'static str) {
    match name {
        "requirepass" => ("", ""),
        "protected-mode"
        | "rdbcompression"
        | "aof-load-truncated"
        | "stop-writes-on-bgsave-error"
        | "aof-use-rdb-preamble" => ("no", "no"),
        "aof-disable-auto-gc" | "aof-timestamp-enabled" => ("yes", "yes"),
        "appendonly" | "lazyfree-lazy-eviction" | "lazyfree-lazy-expire" | "lazyfree-lazy-server-del" => {
            ("yes", "yes")
        }
        "lazyfree-lazy-user-del" | "lazyfree-lazy-user-flush" => ("yes", "yes"),
        "maxclients" => ("5000", "5000"),
        "loading-process-events-interval-bytes" => ("4096", "4096"),
        "proto-max-bulk-len" => ("2mb", "2097152"),
        "client-query-buffer-limit" => ("2gb", "2147483648"),
        "timeout" => ("300", "300"),
        "hz" => ("25", "25"),
        "list-max-listpack-size" => ("-4", "-4"),
        "save" => ("100 5 200 6", "100 5 200 6"),
        "appendfsync" => ("ALWAYS", "always"),
        "auto-aof-rewrite-percentage" => ("50", "50"),
        "auto-aof-rewrite-min-size" => ("10k", "10000"),
        "maxmemory" => ("1gb", "1073741824"),
        "maxmemory-policy" => ("volatile-ttl", "volatile-ttl"),
        "maxmemory-samples" => ("10", "10"),
        "notify-keyspace-events" => ("Ex$", "$xE"),
        "client-output-buffer-limit" => (
            "normal 1mb 2mb 3",
            "normal 1048576 2097152 3 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        ),
        "slowlog-log-slower-than" => ("-1", "-1"),
        "slowlog-max-len" => ("7", "7"),
        "latency-monitor-threshold" => ("100", "100"),
        "latency-tracking" => ("no", "no"),
        "latency-tracking-info-percentiles" => ("99.90 5e1 0.001", "99.9 50 0.001"),
        "active-expire-effort" => ("3", "3"),
        "loglevel" => ("warning", "warning"),
        "shutdown-on-sigint" | "shutdown-on-sigterm" => ("now SAVE", "save now"),
        // Left off here: turned on, it would change this test process's own
        // oom_score_adj (tests/oom_score_adj.rs runs a server process).
        "oom-score-adj" => ("NO", "no"),
        "oom-score-adj-values" => ("1 -2   3", "1 -2 3"),
        _ => ("33", "33"), // the encoding thresholds
    }
}

#[test]
fn config_set_then_get_round_trips_every_option() {
    let srv = common::start();
    let mut con = common::conn(&srv);
    for opt in OPTIONS {
        let names: Vec<&str> = std::iter::once(opt.name).chain(opt.alias).collect();
        if opt.flags & (IMMUTABLE | PROTECTED) != 0 {
            let err =
                redis::cmd("CONFIG").arg("SET").arg(opt.name).arg("1").query::<()>(&mut con).unwrap_err();
            let why = if opt.flags & PROTECTED != 0 { "protected" } else { "immutable" };
            assert!(err.to_string().contains(&format!("can't set {why} config")), "{}: {err}", opt.name);
            continue;
        }
        if opt.flags & LISTENER != 0 {
            // The value in force is set again, rebinding nothing; changing
            // it is for tests/config_listen.rs.
            let now: Vec<String> = redis::cmd("CONFIG").arg("GET").arg(opt.name).query(&mut con).unwrap();
            let () = redis::cmd("CONFIG")
                .arg("SET")
                .arg(opt.name)
                .arg(&now[1])
                .query(&mut con)
                .unwrap_or_else(|e| panic!("{}: {e}", opt.name));
            let got: Vec<String> = redis::cmd("CONFIG").arg("GET").arg(opt.name).query(&mut con).unwrap();
            assert_eq!(got, now);
            continue;
        }
        for name in &names {
            let (set, shown) = sample(opt.name);
            let () = redis::cmd("CONFIG")
                .arg("SET")
                .arg(*name)
                .arg(set)
                .query(&mut con)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let got: Vec<String> = redis::cmd("CONFIG").arg("GET").arg(*name).query(&mut con).unwrap();
            assert_eq!(got, vec![name.to_string(), shown.to_string()], "{name}");
            // The other name of the option reads the same value.
            for other in &names {
                let got: Vec<String> = redis::cmd("CONFIG").arg("GET").arg(*other).query(&mut con).unwrap();
                assert_eq!(got[1], shown, "{other} after setting {name}");
            }
        }
    }
}

#[test]
fn config_get_takes_globs_and_several_patterns() {
    let srv = common::start();
    let mut con = common::conn(&srv);
    let got: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("list-max*").query(&mut con).unwrap();
    assert_eq!(got, ["list-max-listpack-size", "-2", "list-max-ziplist-size", "-2"]);
    let got: Vec<String> =
        redis::cmd("CONFIG").arg("GET").arg("HZ").arg("maxmemory").arg("hz").query(&mut con).unwrap();
    assert_eq!(got, ["hz", "10", "maxmemory", "0"]);
    let all: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("*").query(&mut con).unwrap();
    // Every option but the hidden ones, which only their exact name lists.
    let listed: Vec<_> = all_options().filter(|o| o.flags & HIDDEN == 0).collect();
    let aliases = listed.iter().filter(|o| o.alias.is_some()).count();
    assert_eq!(all.len(), 2 * (listed.len() + aliases));
    let none: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("nosuch*").query(&mut con).unwrap();
    assert!(none.is_empty());
}

#[test]
fn config_set_errors_match_redis_and_change_nothing() {
    let srv = common::start();
    let mut con = common::conn(&srv);
    let mut err = |args: &[&str]| {
        redis::cmd("CONFIG").arg("SET").arg(args).query::<()>(&mut con).unwrap_err().to_string()
    };
    let e = err(&["dir", "/tmp"]);
    assert!(
        e.contains("CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"),
        "{e}"
    );
    let e = err(&["databases", "3"]);
    assert!(e.contains("(possibly related to argument 'databases') - can't set immutable config"), "{e}");
    let e = err(&["foo", "bar"]);
    assert!(e.contains("Unknown option or number of arguments for CONFIG SET - 'foo'"), "{e}");
    let e = err(&["hz", "20", "maxmemory", "abc"]);
    assert!(e.contains("'maxmemory') - argument must be a memory value"), "{e}");
    let e = err(&["hz", "20", "hz", "30"]);
    assert!(e.contains("'hz') - duplicate parameter"), "{e}");
    let e = err(&["maxclients", "0"]);
    assert!(e.contains("argument must be between 1 and 4294967295 inclusive"), "{e}");
    // A multi-argument value is split at each space, without quoting, as
    // Redis 7.0 splits it: a doubled space is an empty argument.
    for bad in ["3600  1", " 3600 1", "'3600' 1", "\"3600\" 1"] {
        let e = err(&["save", bad]);
        assert!(e.contains("'save') - Invalid save parameters"), "{bad:?}: {e}");
    }
    // The failed multi-set changed nothing.
    let got: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("hz").query(&mut con).unwrap();
    assert_eq!(got[1], "10");
    // A good multi-set applies every pair.
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("hz")
        .arg("20")
        .arg("maxmemory")
        .arg("1mb")
        .query(&mut con)
        .unwrap();
    let got: Vec<String> =
        redis::cmd("CONFIG").arg("GET").arg("hz").arg("maxmemory").query(&mut con).unwrap();
    assert_eq!(got, ["hz", "20", "maxmemory", "1048576"]);
}

#[test]
fn config_rewrite_needs_a_file_and_writes_it_back() {
    let srv = common::start();
    let mut con = common::conn(&srv);
    let e = redis::cmd("CONFIG").arg("REWRITE").query::<()>(&mut con).unwrap_err().to_string();
    assert!(e.contains("The server is running without a config file"), "{e}");

    let p = temp_file("rewrite", "# keep me\nhz 15\nport 0\nhz 16\n");
    let cfg = Config::from_args(&args(&[p.to_str().unwrap()])).unwrap();
    let srv = spindle_kv::server::ServerThread::start(cfg).unwrap();
    let mut con = common::conn(&srv);
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("hz")
        .arg("42")
        .arg("maxmemory")
        .arg("2mb")
        .query(&mut con)
        .unwrap();
    let () = redis::cmd("CONFIG").arg("REWRITE").query(&mut con).unwrap();
    let text = std::fs::read_to_string(&p).unwrap();
    // Port 0 took a free port, which the config now records.
    let head = format!("# keep me\nhz 42\nport {}\n", srv.addr().port());
    assert!(text.starts_with(&head), "{text}");
    assert!(text.contains("maxmemory 2097152\n"), "{text}");
    let back = Config::from_args(&args(&[p.to_str().unwrap()])).unwrap();
    assert_eq!((back.hz, back.maxmemory), (42, 2 << 20));
}

#[test]
fn config_resetstat_zeroes_the_counters() {
    let srv = common::start();
    let mut con = common::conn(&srv);
    for _ in 0..5 {
        let _: String = redis::cmd("PING").query(&mut con).unwrap();
    }
    let () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut con).unwrap();
    let info: String = redis::cmd("INFO").arg("stats").query(&mut con).unwrap();
    // The RESETSTAT counts once it has run, after its reset; the INFO not yet.
    assert!(info.contains("total_commands_processed:1\r\n"), "{info}");
}

/// `list-compress-depth` only tunes Redis's quicklist memory layout: a
/// redis.conf or a test suite that sets it must not be refused. Spindle
/// stores and reports it (Redis's range, 0..=INT_MAX) with no effect.
#[test]
fn list_compress_depth_is_accepted_and_reported() {
    let p = temp_file("compress", "list-compress-depth 2\n");
    let cfg = Config::from_args(&args(&[p.to_str().unwrap()])).expect("parses");
    assert_eq!(cfg.inert.get("list-compress-depth").map(String::as_str), Some("2"));

    let srv = common::start();
    let mut con = common::conn(&srv);
    let got: Vec<String> =
        redis::cmd("CONFIG").arg("GET").arg("list-compress-depth").query(&mut con).unwrap();
    assert_eq!(got, ["list-compress-depth", "0"]);
    let () = redis::cmd("CONFIG").arg("SET").arg("list-compress-depth").arg("1").query(&mut con).unwrap();
    let got: Vec<String> =
        redis::cmd("CONFIG").arg("GET").arg("list-compress-depth").query(&mut con).unwrap();
    assert_eq!(got, ["list-compress-depth", "1"]);
    let e = redis::cmd("CONFIG")
        .arg("SET")
        .arg("list-compress-depth")
        .arg("-1")
        .query::<()>(&mut con)
        .unwrap_err()
        .to_string();
    assert!(e.contains("argument must be between 0 and 2147483647 inclusive"), "{e}");
    // Lists work the same whatever the depth.
    let n: i64 = redis::cmd("RPUSH").arg("l").arg(&["a", "b", "c"]).query(&mut con).unwrap();
    assert_eq!(n, 3);
    let all: Vec<String> = redis::cmd("LRANGE").arg("l").arg(0).arg(-1).query(&mut con).unwrap();
    assert_eq!(all, ["a", "b", "c"]);
}
