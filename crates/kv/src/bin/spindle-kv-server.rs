//! A minimal server binary for tests that must kill a real process (the
//! crash test): redis-server style arguments (an optional config file, then
//! `--option value...`), parsed by [`Config::from_args`] exactly as
//! `spindle kv` parses them. Prints `port N` once it listens.

use spindle_kv::server::{self, Config};
use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cfg = match Config::from_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bad arguments: {e}");
            std::process::exit(2);
        }
    };
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
