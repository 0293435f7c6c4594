//! The AOF as Redis 7 keeps it: a folder with a manifest, a base file and
//! incr files. A data directory moves between redis-server 7 and spindle
//! in both directions; an old-style single file is upgraded; a rewrite
//! replaces the base and drops the files it made obsolete; CONFIG SET
//! appendonly turns logging on and off at run time.

mod common;

use common::redis_server::RedisServer;
use common::{aof_files, aof_text, conn, fresh_dir, q, start_with, wait_until};
use spindle_kv::server::config::AppendFsync;
use spindle_kv::server::{Config, ServerThread};
use std::path::Path;

fn aof_on(dir: &Path) -> impl FnOnce(&mut Config) {
    let dir = dir.to_path_buf();
    move |cfg| {
        cfg.dir = dir;
        cfg.save = vec![];
        cfg.appendonly = true;
        cfg.appendfsync = AppendFsync::Always;
    }
}

fn manifest(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("appendonlydir/appendonly.aof.manifest")).expect("a manifest")
}

fn info_field(c: &mut redis::Connection, field: &str) -> String {
    let info: String = q(c, &["INFO", "persistence"]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")).map(str::to_string))
        .unwrap_or_else(|| panic!("no {field} in {info}"))
}

/// Waits until no rewrite runs and none is scheduled.
fn wait_rewrite_done(c: &mut redis::Connection) {
    wait_until("the AOF rewrite to finish", || {
        info_field(c, "aof_rewrite_in_progress") == "0" && info_field(c, "aof_rewrite_scheduled") == "0"
    });
}

/// Keys of every type, some with a TTL.
fn fill(c: &mut redis::Connection, tag: &str) {
    let k = |s: &str| format!("{tag}:{s}");
    let _: () = q(c, &["SET", &k("s"), "v"]);
    let _: () = q(c, &["RPUSH", &k("l"), "a", "b", "c"]);
    let _: () = q(c, &["HSET", &k("h"), "f", "1", "g", "2"]);
    let _: () = q(c, &["SADD", &k("set"), "x", "y"]);
    let _: () = q(c, &["ZADD", &k("z"), "1.5", "m"]);
    let _: () = q(c, &["SET", &k("ttl"), "t", "EX", "100000"]);
    let _: () = q(c, &["INCR", &k("n")]);
    let _: () = q(c, &["MULTI"]);
    let _: () = q(c, &["INCR", &k("n")]);
    let _: () = q(c, &["INCR", &k("n")]);
    let _: Vec<i64> = q(c, &["EXEC"]);
}

fn check(c: &mut redis::Connection, tag: &str) {
    let k = |s: &str| format!("{tag}:{s}");
    assert_eq!(q::<String>(c, &["GET", &k("s")]), "v", "{tag}");
    assert_eq!(q::<Vec<String>>(c, &["LRANGE", &k("l"), "0", "-1"]), ["a", "b", "c"]);
    assert_eq!(q::<String>(c, &["HGET", &k("h"), "g"]), "2");
    assert_eq!(q::<i64>(c, &["SCARD", &k("set")]), 2);
    assert_eq!(q::<String>(c, &["ZSCORE", &k("z"), "m"]), "1.5");
    assert!(q::<i64>(c, &["TTL", &k("ttl")]) > 99_000);
    assert_eq!(q::<i64>(c, &["GET", &k("n")]), 3);
}

#[test]
fn a_data_directory_moves_between_redis_7_and_spindle_both_ways() {
    let dir = fresh_dir();
    {
        // redis-server writes a base (RDB), then an incr file.
        let redis = RedisServer::start_in(&dir, &["--appendonly", "yes", "--appendfsync", "always"]);
        let mut c = redis.conn();
        fill(&mut c, "redis-base");
        let _: String = q(&mut c, &["BGREWRITEAOF"]);
        wait_rewrite_done(&mut c);
        fill(&mut c, "redis-incr");
    }
    assert!(manifest(&dir).contains("type b") && manifest(&dir).contains("type i"), "{}", manifest(&dir));
    {
        let srv = start_with(aof_on(&dir));
        let mut c = conn(&srv);
        check(&mut c, "redis-base");
        check(&mut c, "redis-incr");
        fill(&mut c, "spindle-incr");
        let _: String = q(&mut c, &["BGREWRITEAOF"]);
        wait_rewrite_done(&mut c);
        fill(&mut c, "spindle-after-rewrite");
        srv.stop().unwrap();
    }
    let redis = RedisServer::start_in(&dir, &["--appendonly", "yes"]);
    let mut c = redis.conn();
    for tag in ["redis-base", "redis-incr", "spindle-incr", "spindle-after-rewrite"] {
        check(&mut c, tag);
    }
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 4 * 7);
}

#[test]
fn an_old_style_aof_with_an_rdb_preamble_is_moved_into_the_folder() {
    let dir = fresh_dir();
    {
        // A snapshot, then commands after it: what Redis 4 to 6 wrote as
        // appendonly.aof after a rewrite with aof-use-rdb-preamble.
        let srv = start_with(|cfg| cfg.dir = dir.clone());
        let mut c = conn(&srv);
        fill(&mut c, "preamble");
        let _: String = q(&mut c, &["SAVE"]);
        srv.stop().unwrap();
    }
    let mut old = std::fs::read(dir.join("dump.rdb")).unwrap();
    std::fs::remove_file(dir.join("dump.rdb")).unwrap();
    old.extend_from_slice(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$4\r\ntail\r\n$1\r\n1\r\n");
    std::fs::write(dir.join("appendonly.aof"), &old).unwrap();
    {
        let srv = start_with(aof_on(&dir));
        let mut c = conn(&srv);
        check(&mut c, "preamble");
        assert_eq!(q::<String>(&mut c, &["GET", "tail"]), "1");
        let _: () = q(&mut c, &["SET", "new", "2"]);
        srv.stop().unwrap();
    }
    assert!(!dir.join("appendonly.aof").exists(), "the old file was moved");
    assert_eq!(
        manifest(&dir),
        "file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    );
    let srv = start_with(aof_on(&dir));
    let mut c = conn(&srv);
    check(&mut c, "preamble");
    assert_eq!(q::<String>(&mut c, &["GET", "new"]), "2");
}

#[test]
fn a_rewrite_replaces_the_base_and_deletes_what_it_made_obsolete() {
    let dir = fresh_dir();
    let srv = start_with(aof_on(&dir));
    let mut c = conn(&srv);
    // At start the folder holds an (empty) base and the first incr file.
    assert_eq!(
        manifest(&dir),
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    );
    for i in 0..200 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), "v"]);
    }
    let _: String = q(&mut c, &["BGREWRITEAOF"]);
    wait_rewrite_done(&mut c);
    assert_eq!(
        manifest(&dir),
        "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
    );
    wait_until("the history files to be deleted", || {
        !dir.join("appendonlydir/appendonly.aof.1.base.rdb").exists()
            && !dir.join("appendonlydir/appendonly.aof.1.incr.aof").exists()
    });
    let mut names: Vec<String> = std::fs::read_dir(dir.join("appendonlydir"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["appendonly.aof.2.base.rdb", "appendonly.aof.2.incr.aof", "appendonly.aof.manifest"]);
    assert!(aof_text(&dir).starts_with("REDIS"), "the base is an RDB file");
    // aof-disable-auto-gc keeps them, as history.
    let _: () = q(&mut c, &["CONFIG", "SET", "aof-disable-auto-gc", "yes"]);
    let _: String = q(&mut c, &["BGREWRITEAOF"]);
    wait_rewrite_done(&mut c);
    assert!(manifest(&dir).contains("appendonly.aof.2.base.rdb seq 2 type h"), "{}", manifest(&dir));
    assert!(dir.join("appendonlydir/appendonly.aof.2.base.rdb").exists());
    // Turning collection back on deletes them.
    let _: () = q(&mut c, &["CONFIG", "SET", "aof-disable-auto-gc", "no"]);
    assert!(!manifest(&dir).contains("type h"), "{}", manifest(&dir));
    assert_eq!(aof_files(&dir).len(), 2);
    drop(c);
    srv.stop().unwrap();
    let srv = start_with(aof_on(&dir));
    let mut c = conn(&srv);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 200);
}

#[test]
fn config_set_appendonly_turns_logging_on_and_off_at_run_time() {
    let dir = fresh_dir();
    let srv = start_with(|cfg| {
        cfg.dir = dir.clone();
        cfg.save = vec![];
    });
    let mut c = conn(&srv);
    fill(&mut c, "before");
    let _: () = q(&mut c, &["CONFIG", "SET", "appendonly", "yes"]);
    assert_eq!(info_field(&mut c, "aof_enabled"), "1");
    fill(&mut c, "while-rewriting");
    wait_rewrite_done(&mut c);
    fill(&mut c, "after");
    assert_eq!(aof_files(&dir).len(), 2, "{}", manifest(&dir));
    // Off: nothing more is logged.
    let _: () = q(&mut c, &["CONFIG", "SET", "appendonly", "no"]);
    assert_eq!(info_field(&mut c, "aof_enabled"), "0");
    let _: () = q(&mut c, &["SET", "unlogged", "x"]);
    drop(c);
    srv.stop().unwrap();
    let srv = start_with(aof_on(&dir));
    let mut c = conn(&srv);
    for tag in ["before", "while-rewriting", "after"] {
        check(&mut c, tag);
    }
    assert_eq!(q::<Option<String>>(&mut c, &["GET", "unlogged"]), None);
}

/// Starts a server on `dir` expecting it to refuse; returns its error.
fn refused(dir: &Path) -> String {
    let cfg = Config { port: 0, dir: dir.to_path_buf(), appendonly: true, save: vec![], ..Config::default() };
    ServerThread::start(cfg).err().expect("the server must refuse to start").to_string()
}

fn write_folder(dir: &Path, manifest: &str, files: &[(&str, &[u8])]) {
    let folder = dir.join("appendonlydir");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("appendonly.aof.manifest"), manifest).unwrap();
    for (name, data) in files {
        std::fs::write(folder.join(name), data).unwrap();
    }
}

const SET_A: &[u8] = b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n";

#[test]
fn annotations_are_skipped_and_an_open_transaction_at_the_end_is_cut_off() {
    let dir = fresh_dir();
    let mut incr = b"#TS:1700000000\r\n".to_vec();
    incr.extend_from_slice(SET_A);
    incr.extend_from_slice(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n");
    write_folder(
        &dir,
        "file appendonly.aof.1.incr.aof seq 1 type i\n",
        &[("appendonly.aof.1.incr.aof", &incr)],
    );
    let srv = start_with(aof_on(&dir));
    let mut c = conn(&srv);
    assert_eq!(q::<String>(&mut c, &["GET", "a"]), "1");
    assert_eq!(q::<Option<String>>(&mut c, &["GET", "b"]), None, "the transaction never ended");
    let kept = std::fs::read(dir.join("appendonlydir/appendonly.aof.1.incr.aof")).unwrap();
    assert!(
        kept.starts_with(b"#TS:") && kept.ends_with(SET_A),
        "cut before MULTI: {:?}",
        String::from_utf8_lossy(&kept)
    );
}

#[test]
fn a_truncated_file_that_is_not_the_last_and_bad_manifests_stop_the_server() {
    let dir = fresh_dir();
    write_folder(
        &dir,
        "file appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n",
        &[("appendonly.aof.1.incr.aof", b"*3\r\n$3\r\nSET\r\n$1\r\na"), ("appendonly.aof.2.incr.aof", SET_A)],
    );
    assert!(refused(&dir)
        .contains("Unexpected end of file reading the append only file appendonly.aof.1.incr.aof"));
    let dir = fresh_dir();
    write_folder(&dir, "file appendonly.aof.1.incr.aof seq 1 type i\n", &[]);
    assert!(refused(&dir).contains("No such file or directory"), "{}", refused(&dir));
    let dir = fresh_dir();
    write_folder(&dir, "file appendonly.aof.1.incr.aof seq 1 type q\n", &[]);
    assert!(refused(&dir).contains("Unknown AOF file type"), "{}", refused(&dir));
}

#[test]
fn a_transaction_is_logged_once_between_multi_and_exec() {
    let dir = fresh_dir();
    let srv = start_with(aof_on(&dir));
    let mut c = conn(&srv);
    let _: () = q(&mut c, &["MULTI"]);
    let _: () = q(&mut c, &["SET", "a", "1"]);
    let _: () = q(&mut c, &["GET", "a"]);
    let _: () = q(&mut c, &["SET", "b", "2"]);
    let _: Vec<redis::Value> = q(&mut c, &["EXEC"]);
    // One write: atomic by itself, logged bare (as Redis 7.0 does).
    let _: () = q(&mut c, &["MULTI"]);
    let _: () = q(&mut c, &["INCR", "n"]);
    let _: Vec<i64> = q(&mut c, &["EXEC"]);
    // The first command's SELECT goes before MULTI, as Redis propagates
    // MULTI with that command's database.
    let text = aof_text(&dir);
    let incr = &text[text.find("*2\r\n$6\r\nSELECT").expect("SELECT logged")..];
    assert_eq!(
        incr,
        "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n\
         *3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n*1\r\n$4\r\nEXEC\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n"
    );
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// RESP for one command.
fn resp(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

/// Which of `keys` exist, on a server.
fn existing(c: &mut redis::Connection, keys: &[&str]) -> Vec<String> {
    keys.iter().filter(|k| q::<i64>(c, &["EXISTS", k]) == 1).map(|k| k.to_string()).collect()
}

#[test]
fn keys_past_their_deadline_do_not_expire_while_the_aof_loads() {
    // A base snapshot holding a counter whose deadline passes before the
    // next start, then commands that touched keys before their deadlines:
    // a rate limiter's INCR + PEXPIREAT, a SET PXAT then APPEND, a GETEX
    // with a deadline. Replayed after the deadlines, each must come out
    // expired, as redis-server loads it, not as a new key without one.
    let dir = fresh_dir();
    let soon = now_ms() + 30;
    {
        let srv = start_with(|cfg| cfg.dir = dir.clone());
        let mut c = conn(&srv);
        let _: () = q(&mut c, &["SET", "base", "5", "PXAT", &soon.to_string()]);
        let _: String = q(&mut c, &["SAVE"]);
        srv.stop().unwrap();
    }
    let base = std::fs::read(dir.join("dump.rdb")).unwrap();
    std::fs::remove_file(dir.join("dump.rdb")).unwrap();
    let past = (now_ms() - 1000).to_string();
    let mut incr = resp(&["SELECT", "0"]);
    for cmd in [
        &["INCR", "base"][..],
        &["INCR", "rl"],
        &["PEXPIREAT", "rl", &past],
        &["INCR", "rl"],
        &["SET", "s", "v", "PXAT", &past],
        &["APPEND", "s", "x"],
        &["SET", "g", "v"],
        &["GETEX", "g", "PXAT", &past],
        &["RPUSH", "g2", "a"],
        &["PEXPIREAT", "g2", &past],
        &["RPUSH", "g2", "b"],
        &["SET", "kept", "1"],
    ] {
        incr.extend(resp(cmd));
    }
    write_folder(
        &dir,
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
        &[("appendonly.aof.1.base.rdb", &base), ("appendonly.aof.1.incr.aof", &incr)],
    );
    while now_ms() <= soon {
        std::thread::yield_now();
    }
    let keys = ["base", "rl", "s", "g", "g2", "kept"];
    let copy = fresh_dir();
    std::fs::create_dir_all(copy.join("appendonlydir")).unwrap();
    for f in std::fs::read_dir(dir.join("appendonlydir")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), copy.join("appendonlydir").join(f.file_name())).unwrap();
    }
    let redis = RedisServer::start_in(&copy, &["--appendonly", "yes"]);
    assert_eq!(existing(&mut redis.conn(), &keys), ["kept"], "redis-server");
    let srv = start_with(aof_on(&dir));
    let mut c = conn(&srv);
    assert_eq!(existing(&mut c, &keys), ["kept"]);
}

#[test]
fn redis_check_aof_finds_spindles_files_valid() {
    let dir = fresh_dir();
    {
        let srv = start_with(aof_on(&dir));
        let mut c = conn(&srv);
        fill(&mut c, "first");
        let _: String = q(&mut c, &["BGREWRITEAOF"]);
        wait_rewrite_done(&mut c);
        fill(&mut c, "second");
        srv.stop().unwrap();
    }
    assert_redis_check_aof_passes(&dir);
}

/// FLUSHDB and FLUSHALL are logged even when there was nothing to remove,
/// as Redis 7 propagates them: the AOF shows every flush asked for.
#[test]
fn every_flush_is_logged_even_of_an_empty_database() {
    let dir = fresh_dir();
    let srv = start_with(aof_on(&dir));
    let mut c = conn(&srv);
    let _: () = q(&mut c, &["SET", "k", "v"]);
    for cmd in ["FLUSHDB", "FLUSHDB", "FLUSHALL", "FLUSHALL"] {
        let _: () = q(&mut c, &[cmd]);
    }
    let text = aof_text(&dir);
    assert_eq!(text.matches("FLUSHDB").count(), 2, "{text:?}");
    assert_eq!(text.matches("FLUSHALL").count(), 2, "{text:?}");
}

/// `aof-timestamp-enabled yes` writes `#TS:<unix time>` lines (at most one
/// a second) before logged commands and at the top of a command-format
/// base, as Redis does; redis-check-aof accepts the files, and they load.
#[test]
fn timestamp_annotations_are_written_when_enabled() {
    let dir = fresh_dir();
    let srv = start_with(aof_on(&dir));
    let mut c = conn(&srv);
    let _: () = q(&mut c, &["CONFIG", "SET", "aof-timestamp-enabled", "yes"]);
    let _: () = q(&mut c, &["CONFIG", "SET", "aof-use-rdb-preamble", "no"]);
    let before = (now_ms() / 1000) as u64;
    let _: () = q(&mut c, &["SET", "a", "1"]);
    let _: () = q(&mut c, &["SET", "b", "2"]);
    let after = (now_ms() / 1000) as u64;
    let incr = std::fs::read_to_string(aof_files(&dir).last().unwrap()).unwrap();
    let ts: u64 = incr
        .strip_prefix("#TS:")
        .and_then(|r| r.split("\r\n").next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("{incr:?}"));
    assert!((before..=after).contains(&ts), "{ts} not in {before}..={after}");
    assert!(incr.matches("#TS:").count() <= 2, "{incr:?}");
    let _: String = q(&mut c, &["BGREWRITEAOF"]);
    wait_rewrite_done(&mut c);
    let base = std::fs::read_to_string(&aof_files(&dir)[0]).unwrap();
    assert!(base.starts_with("#TS:"), "{base:?}");
    drop(srv);
    assert_redis_check_aof_passes(&dir);
    let srv = start_with(aof_on(&dir));
    let mut c = conn(&srv);
    assert_eq!(q::<Vec<String>>(&mut c, &["MGET", "a", "b"]), ["1", "2"]);
}

/// DEBUG AOF-FLUSH-SLEEP (Redis's test hook) is accepted, and the AOF is
/// still written before the reply goes out.
#[test]
fn debug_aof_flush_sleep_delays_but_keeps_the_write_before_the_reply() {
    let dir = fresh_dir();
    let on = aof_on(&dir);
    let srv = start_with(move |cfg| {
        on(cfg);
        cfg.enable_debug_command = spindle_kv::server::config::ProtectedAction::Yes;
    });
    let mut c = conn(&srv);
    let _: () = q(&mut c, &["DEBUG", "AOF-FLUSH-SLEEP", "1000"]);
    let _: () = q(&mut c, &["SET", "slow", "1"]);
    let _: () = q(&mut c, &["DEBUG", "AOF-FLUSH-SLEEP", "0"]);
    assert!(aof_text(&dir).contains("slow"));
}

/// The listeners are bound before the data loads, as in Redis: with
/// `always-show-logo yes` the banner with `PID: N` (what Redis's own test
/// harness waits for) is logged first, and a server whose AOF cannot load
/// then logs why and exits.
#[test]
fn the_banner_is_logged_before_the_data_loads() {
    use std::io::Read;
    let dir = fresh_dir();
    write_folder(
        &dir,
        "file appendonly.aof.1.incr.aof seq 1 type i\n",
        &[("appendonly.aof.1.incr.aof", b"*1\r\n$3\r\nBAD")],
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_spindle-kv-server"))
        .args([
            "--port",
            "0",
            "--appendonly",
            "yes",
            "--aof-load-truncated",
            "no",
            "--always-show-logo",
            "yes",
            "--dir",
        ])
        .arg(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn spindle-kv-server");
    let pid = child.id();
    let mut stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut log = String::new();
        let _ = stderr.read_to_string(&mut log);
        let _ = tx.send(log);
    });
    let log = rx.recv_timeout(std::time::Duration::from_secs(20)).unwrap_or_else(|_| {
        let _ = child.kill();
        panic!("the server did not exit")
    });
    assert!(!child.wait().unwrap().success(), "{log}");
    let banner = log.find(&format!(" PID: {pid}")).unwrap_or_else(|| panic!("no banner: {log}"));
    let error = log.find("ERROR").unwrap_or_else(|| panic!("no error: {log}"));
    assert!(banner < error, "{log}");
}

/// Debian's redis-check-aof finds the AOF under `dir` valid.
fn assert_redis_check_aof_passes(dir: &Path) {
    let out = std::process::Command::new("redis-check-aof")
        .arg(dir.join("appendonlydir/appendonly.aof.manifest"))
        .output()
        .expect("redis-check-aof (Debian's redis-server package) runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("All AOF files and manifest are valid"), "{text}");
}
