//! A minimal server binary for tests that must kill a real process (the
//! crash test): redis-server style `--option value` arguments, plus the
//! persistence options `--dir`, `--dbfilename`, `--appendonly`,
//! `--appendfsync`, `--appendfilename`, `--aof-load-truncated` and `--save`.
//! Prints `port N` once it listens.

use spindle_kv::server::config::AppendFsync;
use spindle_kv::server::{self, Config};
use std::io::Write;

fn yes(v: &str) -> bool {
    v.eq_ignore_ascii_case("yes")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut rest = Vec::new();
    let mut own = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let name = args[i].trim_start_matches("--").to_ascii_lowercase();
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match name.as_str() {
            "dir" | "dbfilename" | "appendonly" | "appendfsync" | "appendfilename" | "aof-load-truncated"
            | "save" => {
                own.push((name, value));
                i += 2;
            }
            _ => {
                rest.push(args[i].clone());
                i += 1;
            }
        }
    }
    let mut cfg = match Config::from_args(&rest) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bad arguments: {e}");
            std::process::exit(2);
        }
    };
    for (name, v) in own {
        match name.as_str() {
            "dir" => cfg.dir = v.into(),
            "dbfilename" => cfg.dbfilename = v,
            "appendfilename" => cfg.appendfilename = v,
            "appendonly" => cfg.appendonly = yes(&v),
            "aof-load-truncated" => cfg.aof_load_truncated = yes(&v),
            "appendfsync" => {
                cfg.appendfsync = match v.as_str() {
                    "always" => AppendFsync::Always,
                    "no" => AppendFsync::No,
                    _ => AppendFsync::EverySec,
                }
            }
            "save" => {
                let nums: Vec<u64> = v.split_whitespace().filter_map(|n| n.parse().ok()).collect();
                cfg.save = nums.chunks(2).filter(|c| c.len() == 2).map(|c| (c[0], c[1])).collect();
            }
            _ => {}
        }
    }
    let prepared = match server::prepare(cfg) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("can't start: {e}");
            std::process::exit(1);
        }
    };
    for a in prepared.local_addrs() {
        println!("port {}", a.port());
    }
    let _ = std::io::stdout().flush();
    if let Err(e) = prepared.run() {
        eprintln!("server error: {e}");
        std::process::exit(1);
    }
}
