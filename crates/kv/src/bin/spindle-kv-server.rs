//! A minimal server binary for tests that must run a real process (the
//! crash test, daemonize): redis-server style arguments (an optional config
//! file, then `--option value...`), parsed by [`Config::from_args`] and run
//! by [`process::serve`] exactly as `spindle kv` does. Prints `port N` once
//! it listens, before it loads its data (commands get `-LOADING` until
//! then, as from Redis).

use spindle_kv::server::{process, Config};
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
    // Written without panicking: a reader that went away (closed the
    // pipe) must not take the server down.
    let announce = |addrs: &[std::net::SocketAddr]| {
        let mut out = std::io::stdout().lock();
        for a in addrs {
            let _ = writeln!(out, "port {}", a.port());
        }
        let _ = out.flush();
    };
    if let Err(e) = process::serve(cfg, announce) {
        eprintln!("server error: {e}");
        std::process::exit(1);
    }
}
