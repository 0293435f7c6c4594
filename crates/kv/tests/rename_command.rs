//! `rename-command` and `include`, the config-file directives Redis reads
//! outside its option table: a renamed command answers to its new name
//! only, a removed one to none, through every path that finds a command
//! by name (a call, MULTI/EXEC, COMMAND INFO, the AOF at start-up); an
//! included file applies where its line stands.

mod common;
use common::*;
use spindle_kv::server::config::{AppendFsync, Config};

fn renames(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

fn err_of(c: &mut redis::Connection, args: &[&str]) -> String {
    let r: redis::RedisResult<redis::Value> = redis::cmd(args[0]).arg(&args[1..]).query(c);
    r.expect_err("an error reply").to_string()
}

#[test]
fn renamed_and_removed_commands_answer_only_to_their_new_names() {
    let srv = start_with(|cfg| {
        cfg.renames = renames(&[("FLUSHALL", ""), ("config", "b840fc02"), ("get", "fetch")])
    });
    let mut c = conn(&srv);
    assert!(err_of(&mut c, &["FLUSHALL"]).contains("unknown command 'FLUSHALL'"));
    assert!(err_of(&mut c, &["CONFIG", "GET", "port"]).contains("unknown command 'CONFIG'"));
    assert!(err_of(&mut c, &["GET", "k"]).contains("unknown command 'GET'"));
    // Subcommands keep their names under the container's new one.
    let got: Vec<String> = q(&mut c, &["B840FC02", "GET", "maxmemory"]);
    assert_eq!(got, ["maxmemory", "0"]);
    let _: () = q(&mut c, &["SET", "k", "v"]);
    assert_eq!(q::<String>(&mut c, &["fetch", "k"]), "v");
    // Queued and run by EXEC under the new name.
    let (v,): (String,) = redis::pipe().atomic().cmd("FETCH").arg("k").query(&mut c).unwrap();
    assert_eq!(v, "v");
    // COMMAND INFO finds it by the new name and describes the command.
    let info: redis::Value = q(&mut c, &["COMMAND", "INFO", "fetch", "get", "flushall"]);
    let redis::Value::Array(items) = info else { panic!("COMMAND INFO: {info:?}") };
    assert!(matches!(&items[0], redis::Value::Array(e) if e[0] == redis::Value::BulkString(b"get".to_vec())));
    assert_eq!(items[1], redis::Value::Nil);
    assert_eq!(items[2], redis::Value::Nil);
    // The removed command leaves the table, as in Redis; the renamed ones
    // stay, listed under their own names.
    let plain = start();
    let count = |c: &mut redis::Connection| q::<i64>(c, &["COMMAND", "COUNT"]);
    assert_eq!(count(&mut c), count(&mut conn(&plain)) - 1);
    let list: Vec<String> = q(&mut c, &["COMMAND", "LIST"]);
    assert!(!list.iter().any(|n| n == "flushall") && list.iter().any(|n| n == "get"), "{list:?}");
}

#[test]
fn bad_renames_are_refused_with_redis_errors() {
    let text = |body: &str| {
        let mut cfg = Config::default();
        cfg.apply_text(body).expect_err("refused").0
    };
    assert!(text("rename-command nosuch x\n").ends_with("No such command in rename-command"));
    assert!(text("rename-command get set\n").ends_with("Target command name already exists"));
    assert!(
        text("rename-command set a\nrename-command set b\n").ends_with("No such command in rename-command")
    );
    let mut cfg = Config::default();
    cfg.apply_text("rename-command get fetch\nrename-command set get\n").expect("a freed name may be taken");
    // Not an option: CONFIG SET and CONFIG GET do not know it.
    let srv = start();
    let mut c = conn(&srv);
    assert!(err_of(&mut c, &["CONFIG", "SET", "rename-command", "get"]).contains("Unknown option"));
    let none: Vec<String> = q(&mut c, &["CONFIG", "GET", "rename-command"]);
    assert!(none.is_empty());
}

#[test]
fn an_aof_loads_under_renames_whichever_name_wrote_it() {
    let dir = fresh_dir();
    let aof = |cfg: &mut Config| {
        cfg.dir = dir.clone();
        cfg.appendonly = true;
        cfg.appendfsync = AppendFsync::Always;
    };
    {
        // Written before the rename, under SET's own name.
        let srv = start_with(aof);
        let mut c = conn(&srv);
        let _: () = q(&mut c, &["SET", "before", "1"]);
        srv.stop().unwrap();
    }
    // The same AOF, with SET renamed PUT.
    let renamed = || {
        start_with(|cfg| {
            aof(cfg);
            cfg.renames = renames(&[("set", "put")]);
        })
    };
    {
        let srv = renamed();
        let mut c = conn(&srv);
        assert_eq!(q::<String>(&mut c, &["GET", "before"]), "1");
        let _: () = q(&mut c, &["PUT", "after", "2"]);
        srv.stop().unwrap();
    }
    let srv = renamed();
    let mut c = conn(&srv);
    assert_eq!(q::<String>(&mut c, &["GET", "before"]), "1");
    assert_eq!(q::<String>(&mut c, &["GET", "after"]), "2");
}

#[test]
fn include_applies_files_and_patterns_where_the_line_stands() {
    let dir = named_dir("include");
    std::fs::create_dir_all(dir.join("conf.d")).unwrap();
    std::fs::write(dir.join("conf.d/a.conf"), "maxmemory 1mb\nhz 20\n").unwrap();
    std::fs::write(dir.join("conf.d/b.conf"), "maxmemory 2mb\n").unwrap();
    std::fs::write(dir.join("conf.d/skip.txt"), "maxmemory 3mb\n").unwrap();
    std::fs::write(dir.join("one.conf"), "timeout 7\n").unwrap();
    let main = dir.join("main.conf");
    let body = format!(
        "hz 5\ninclude {d}/conf.d/*.conf\ninclude {d}/one.conf\ninclude {d}/empty.d/*.conf\ntimeout 9\n",
        d = dir.display()
    );
    std::fs::write(&main, body).unwrap();
    let cfg = Config::from_args(&[main.display().to_string()]).expect("loads");
    // Files in name order, each where its line stands; later lines win.
    assert_eq!(cfg.maxmemory, 2 << 20);
    assert_eq!(cfg.hz, 20);
    assert_eq!(cfg.timeout, 9);

    std::fs::write(&main, format!("include {}/missing.conf\n", dir.display())).unwrap();
    let e = Config::from_args(&[main.display().to_string()]).expect_err("a missing file").0;
    assert!(e.contains("Fatal error, can't open config file"), "{e}");
    // A file that includes itself is an error, not a stack overflow.
    std::fs::write(&main, format!("include {}\n", main.display())).unwrap();
    let e = Config::from_args(&[main.display().to_string()]).expect_err("a loop").0;
    assert!(e.contains("nested more than"), "{e}");
    // An error inside an included file names that file's line.
    std::fs::write(dir.join("one.conf"), "no-such-option 1\n").unwrap();
    std::fs::write(&main, format!("include {}/one.conf\n", dir.display())).unwrap();
    let e = Config::from_args(&[main.display().to_string()]).expect_err("a bad line").0;
    assert!(e.contains(">>> 'no-such-option 1'"), "{e}");
    // The command line takes them too, as Redis appends it to the file.
    let cfg = Config::from_args(&["--rename-command".into(), "flushall".into(), "".into()]).expect("loads");
    assert_eq!(cfg.renames, renames(&[("flushall", "")]));
}
