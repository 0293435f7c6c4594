//! `spindle kv`: the Redis-compatible server.

use anyhow::{Context, Result};
use spindle_kv::server::{process, Config};
use std::io::Write;

/// Runs the server with redis-server style arguments: `[config-file]
/// [--option value...]`. Sets up its own log (`logfile`, `loglevel`), so
/// `main` installs no subscriber for this command.
pub fn run(args: &[String]) -> Result<()> {
    let config = Config::from_args(args).map_err(|e| anyhow::anyhow!("{e}"))?;
    process::serve(config, |addrs| {
        // Without panicking if nobody reads standard output any more.
        let mut out = std::io::stdout().lock();
        for a in addrs {
            let _ = writeln!(out, "spindle kv listening on {a}");
        }
        let _ = out.flush();
    })
    .context("running the server")?;
    Ok(())
}
