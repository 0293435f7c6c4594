//! `spindle`: the one binary. Each subcommand runs one server or tool built
//! on Spindle's layers; `echo`, `kv`, `http` and `herd`.

mod echo;
mod herd;
mod http;
mod kv;

use anyhow::Result;
use clap::{Parser, Subcommand};
use spindle_poll::Backend;
use std::net::SocketAddr;
use std::process::ExitCode;

/// Spindle: a high-concurrency server stack built from the system call up.
#[derive(Parser, Debug)]
#[command(name = "spindle", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serves static files as nginx does: a master and worker processes
    /// (`spindle http` alone serves the current folder on 127.0.0.1:8080).
    Http(Box<http::HttpArgs>),
    /// Measures the thundering herd of each accept strategy.
    Herd(herd::HerdArgs),
    /// Runs a TCP echo server on spindle-loop (one thread, one event loop).
    Echo(EchoArgs),
    /// Runs the Redis-compatible server (spindle-kv). Takes redis-server's
    /// arguments: an optional redis.conf path, then `--option value...`
    /// (for example `--port 6380 --requirepass secret`). Every Redis 7.0
    /// directive is accepted; those of features spindle lacks (cluster,
    /// TLS, scripting, ...) have no effect, and the start-up log lists them.
    Kv {
        /// An optional config file, then options as `--name value`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// Options of `spindle echo`.
#[derive(clap::Args, Debug)]
struct EchoArgs {
    /// Address to listen on (port 0 picks a free port and prints it).
    #[arg(long, default_value = "127.0.0.1:7878")]
    listen: SocketAddr,
    /// Readiness backend: epoll, poll or select.
    #[arg(long, env = "SPINDLE_POLLER", default_value = "epoll", value_parser = parse_backend)]
    poller: Backend,
    /// Listen backlog.
    #[arg(long, default_value_t = 1024)]
    backlog: u32,
}

fn parse_backend(s: &str) -> Result<Backend, String> {
    s.parse().map_err(|e: std::io::Error| e.to_string())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, the cause chain joined by colons. Not `main() ->
            // Result`: its `Debug` print adds a stack backtrace whenever
            // RUST_BACKTRACE is set, which many Rust developers keep set,
            // and "address in use" is not a crash.
            eprintln!("spindle: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    if let Command::Kv { args } = &cli.command {
        // The kv server sets up its log from its own options.
        return kv::run(args);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        // Standard error until `spindle http` loads an `error_log`.
        .with_writer(spindle_cluster::ErrorLog)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match cli.command {
        Command::Echo(args) => echo::run(args.listen, args.poller, args.backlog),
        Command::Kv { .. } => unreachable!("handled above"),
        Command::Herd(args) => herd::run(args),
        Command::Http(args) => http::run(*args),
    }
}
