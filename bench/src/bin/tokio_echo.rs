//! `tokio_echo`: the idiomatic tokio echo server, Spindle's runtime peer.
//!
//! An accept loop that spawns one task per connection; each task reads into
//! a 64 KiB buffer and `write_all`s what it read. `--flavor current` runs
//! tokio's current-thread runtime (compare with Spindle's single loop);
//! `--flavor multi` its multi-thread runtime with the default number of
//! workers (one per CPU the process may run on, so one when pinned with
//! `taskset -c 0`).
//!
//! Prints `listening on HOST:PORT` on stdout once bound, then serves until
//! killed.

use std::io::Write;
use std::net::SocketAddr;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Which tokio runtime to run the server on.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Flavor {
    /// `Builder::new_current_thread`: everything on the main thread.
    Current,
    /// `Builder::new_multi_thread` with default workers.
    Multi,
}

/// Idiomatic tokio echo server (task per connection).
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Address to listen on, HOST:PORT (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Runtime flavor.
    #[arg(long, value_enum, default_value_t = Flavor::Current)]
    flavor: Flavor,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let runtime = match args.flavor {
        Flavor::Current => tokio::runtime::Builder::new_current_thread(),
        Flavor::Multi => tokio::runtime::Builder::new_multi_thread(),
    }
    .enable_io()
    .build()
    .context("building the tokio runtime")?;
    runtime.block_on(serve(args.listen))
}

async fn serve(addr: SocketAddr) -> Result<()> {
    let listener = TcpListener::bind(addr).await.with_context(|| format!("bind {addr}"))?;
    let local = listener.local_addr().context("local_addr")?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {local}")?;
    out.flush()?;
    drop(out);

    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                tokio::spawn(echo(stream));
            }
            // Per-connection accept errors (e.g. the peer already left);
            // the listener itself stays usable.
            Err(e) => eprintln!("tokio_echo: accept: {e}"),
        }
    }
}

async fn echo(mut stream: TcpStream) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
