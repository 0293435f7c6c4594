//! `spindle kv`: the Redis-compatible server.

use anyhow::{Context, Result};
use spindle_kv::server::{process, Config};
use std::io::Write;

/// Runs the server with redis-server style arguments: `[config-file]
/// [--option value...]`. Sets up its own log (`logfile`, `loglevel`), so
/// `main` installs no subscriber for this command.
pub fn run(args: &[String]) -> Result<()> {
    let config = Config::from_args(args).map_err(|e| anyhow::anyhow!("{e}"))?;
    // The server logs why it could not start; with no logfile that log is
    // standard error already, and the reason is not printed twice (scripts
    // that count a message's lines, as Redis's test suite does, see one).
    let logs_to_stderr = config.logfile.is_empty();
    let served = process::serve(config, |addrs| {
        // Without panicking if nobody reads standard output any more.
        let mut out = std::io::stdout().lock();
        for a in addrs {
            let _ = writeln!(out, "spindle kv listening on {a}");
        }
        let _ = out.flush();
    });
    match served {
        Err(e) if logs_to_stderr && e.get_ref().is_some_and(|inner| inner.is::<process::Logged>()) => {
            std::process::exit(1)
        }
        r => r.context("running the server"),
    }
}
