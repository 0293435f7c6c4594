//! `spindle kv`: the Redis-compatible server.

use anyhow::{Context, Result};
use spindle_kv::server::{self, Config};
use std::io::Write;

/// Runs the server with redis-server style arguments: `[config-file]
/// [--option value...]`.
pub fn run(args: &[String]) -> Result<()> {
    let config = Config::from_args(args).map_err(|e| anyhow::anyhow!("{e}"))?;
    let prepared = server::prepare(config).context("starting the server")?;
    for a in prepared.local_addrs() {
        println!("spindle kv listening on {a}");
    }
    std::io::stdout().flush()?;
    prepared.run().context("running the event loop")?;
    Ok(())
}
