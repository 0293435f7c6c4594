//! `http_hello`: a minimal keep-alive HTTP/1.1 "hello" server, on spindle-rt
//! or on tokio, written the same way on both so that `http_bench` compares
//! the runtimes and nothing else.
//!
//! ```text
//! http_hello --runtime spindle|tokio --flavor current|multi [--workers N] --listen 127.0.0.1:0
//! ```
//!
//! Prints `listening on HOST:PORT` on stdout (flushed) once bound, then
//! serves until killed.
//!
//! Per connection, one task owns a 4 KiB read buffer and an output buffer.
//! After each read it finds every complete request head (up to
//! `\r\n\r\n`; bodies are not supported, the benchmark sends none), appends
//! one fixed response per head ([`RESPONSE`]) to the output buffer, and
//! sends all responses of that read with one `write_all`: pipelined
//! requests cost one write. A partial head is kept for the next read; a
//! head that does not fit in the 4 KiB buffer, EOF, or any I/O error closes
//! the connection. Sockets have `TCP_NODELAY` set.
//!
//! The connection and accept code is one macro (`http_server!`) expanded
//! once per runtime (twice for spindle-rt: `spawn_local` on the
//! current-thread runtime, `spawn` on the multi-thread one), so the servers
//! differ only in the runtime types (`TcpListener`, `TcpStream`) and the
//! spawn function. The runtime itself is built
//! in one function per runtime
//! ([`run_spindle`], [`run_tokio`]) that takes the flavor.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};

/// The one response, sent for every request head.
pub const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, world!";

/// Size of each connection's read buffer; a request head must fit in it.
pub const READ_BUFFER: usize = 4096;

/// Which runtime serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum RuntimeKind {
    /// spindle-rt.
    Spindle,
    /// tokio.
    Tokio,
}

/// Which flavor of the runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Flavor {
    /// Everything on the main thread.
    Current,
    /// A pool of worker threads (`--workers`).
    Multi,
}

/// Minimal keep-alive HTTP/1.1 hello server on spindle-rt or tokio.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// The async runtime.
    #[arg(long, value_enum)]
    runtime: RuntimeKind,
    /// Runtime flavor.
    #[arg(long, value_enum, default_value_t = Flavor::Current)]
    flavor: Flavor,
    /// Worker threads of the multi-thread flavor (default: one per CPU
    /// this process may run on). Ignored by the current-thread flavor.
    #[arg(long)]
    workers: Option<usize>,
    /// Address to listen on, HOST:PORT (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// spindle-rt's current-thread runtime only: sleep this many
    /// microseconds before each poll while at least 16 connections are
    /// active (`Builder::io_coalesce`); 0 is off.
    #[arg(long, default_value_t = 0)]
    io_coalesce_us: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match args.runtime {
        _ if args.workers == Some(0) => Err(anyhow::anyhow!("--workers must be at least 1")),
        RuntimeKind::Spindle => run_spindle(args.flavor, args.workers, args.listen, args.io_coalesce_us),
        RuntimeKind::Tokio => run_tokio(args.flavor, args.workers, args.listen),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Not `main() -> Result`: that would print a backtrace when
            // RUST_BACKTRACE is set; one line is what the driver shows.
            eprintln!("http_hello: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Serves on spindle-rt until killed. The multi-thread flavor gets
/// `workers` worker threads (spindle-rt's default, one per CPU, if `None`).
///
/// Connection tasks are spawned with `spawn_local` on the current-thread
/// runtime (its idiom: nothing needs to be `Send`) and with `spawn` on the
/// multi-thread one, where they may run on any worker.
fn run_spindle(flavor: Flavor, workers: Option<usize>, listen: SocketAddr, coalesce_us: u64) -> Result<()> {
    match flavor {
        Flavor::Current => {
            let rt = spindle_rt::Builder::new_current_thread()
                .io_coalesce(std::time::Duration::from_micros(coalesce_us), 16)
                .build()
                .context("building the spindle-rt runtime")?;
            rt.block_on(spindle_local::serve(listen))
        }
        Flavor::Multi => {
            let mut builder = spindle_rt::Builder::new_multi_thread();
            if let Some(n) = workers {
                builder.worker_threads(n);
            }
            let rt = builder.build().context("building the spindle-rt runtime")?;
            rt.block_on(spindle_shared::serve(listen))
        }
    }
}

/// Serves on tokio until killed. The multi-thread flavor gets `workers`
/// worker threads (tokio's default, one per CPU, if `None`).
fn run_tokio(flavor: Flavor, workers: Option<usize>, listen: SocketAddr) -> Result<()> {
    let mut builder = match flavor {
        Flavor::Current => tokio::runtime::Builder::new_current_thread(),
        Flavor::Multi => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            if let Some(n) = workers {
                builder.worker_threads(n);
            }
            builder
        }
    };
    let rt = builder.enable_io().build().context("building the tokio runtime")?;
    rt.block_on(tokio_server::serve(listen))
}

/// Prints the `listening on HOST:PORT` line the driver and tests wait for.
fn announce(local: SocketAddr) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {local}")?;
    out.flush()?;
    Ok(())
}

/// Answers every complete request head at the start of `input`: appends one
/// [`RESPONSE`] per head to `out` and returns how many bytes of `input`
/// those heads took (the rest is an incomplete head, kept for the next
/// read).
///
/// Never inlined, so that `bench/hello_instr.sh` can count requests as
/// callgrind's count of its calls: one call per read, which under
/// http_load (one request in flight per connection) is one per request.
#[inline(never)]
pub fn respond(input: &[u8], out: &mut Vec<u8>) -> usize {
    let mut consumed = 0;
    while let Some(end) = head_end(&input[consumed..]) {
        out.extend_from_slice(RESPONSE);
        consumed += end;
    }
    consumed
}

/// The length of the request head at the start of `input`, through its
/// terminating `\r\n\r\n`, or `None` if it is not complete yet.
fn head_end(input: &[u8]) -> Option<usize> {
    input.windows(4).position(|w| w == b"\r\n\r\n").map(|at| at + 4)
}

/// Expands to the accept loop `serve` and the per-connection task `conn`,
/// given the runtime's spawn function. `TcpListener` and
/// `TcpStream` (and for tokio the I/O extension traits) must be in scope
/// where it is expanded: they are the only other differences.
macro_rules! http_server {
    (spawn: $spawn:path $(,)?) => {
        /// Binds `addr`, announces it, and spawns one [`conn`] task per
        /// accepted connection, forever.
        pub async fn serve(addr: SocketAddr) -> Result<()> {
            let listener = TcpListener::bind(addr).await.with_context(|| format!("bind {addr}"))?;
            $crate::announce(listener.local_addr().context("local_addr")?)?;
            loop {
                match listener.accept().await {
                    Ok((stream, _peer)) => {
                        let _ = stream.set_nodelay(true);
                        $spawn(conn(stream));
                    }
                    // A peer that left before accept, out of descriptors...:
                    // the listener itself stays usable.
                    Err(e) => eprintln!("http_hello: accept: {e}"),
                }
            }
        }

        /// Serves keep-alive requests on one connection until EOF, an
        /// error, or a request head larger than the read buffer.
        async fn conn(mut stream: TcpStream) {
            let mut buf = vec![0u8; $crate::READ_BUFFER];
            let mut out = Vec::with_capacity($crate::READ_BUFFER);
            let mut filled = 0;
            loop {
                let n = match stream.read(&mut buf[filled..]).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                filled += n;
                let consumed = $crate::respond(&buf[..filled], &mut out);
                if !out.is_empty() {
                    if stream.write_all(&out).await.is_err() {
                        return;
                    }
                    out.clear();
                }
                buf.copy_within(consumed..filled, 0);
                filled -= consumed;
                if filled == buf.len() {
                    return; // A head larger than the buffer: not ours to serve.
                }
            }
        }
    };
}

/// The server on spindle-rt's current-thread runtime: tasks spawned with
/// `spawn_local`.
mod spindle_local {
    use std::net::SocketAddr;

    use anyhow::{Context, Result};
    use spindle_rt::net::{TcpListener, TcpStream};

    http_server!(spawn: spindle_rt::spawn_local);
}

/// The server on spindle-rt's multi-thread runtime: tasks spawned with
/// `spawn`.
mod spindle_shared {
    use std::net::SocketAddr;

    use anyhow::{Context, Result};
    use spindle_rt::net::{TcpListener, TcpStream};

    http_server!(spawn: spindle_rt::spawn);
}

/// The server on tokio, either flavor.
mod tokio_server {
    use std::net::SocketAddr;

    use anyhow::{Context, Result};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    http_server!(spawn: tokio::spawn);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_head_one_response() {
        let mut out = Vec::new();
        let req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        assert_eq!(respond(req, &mut out), req.len());
        assert_eq!(out, RESPONSE);
    }

    #[test]
    fn pipelined_heads_and_a_partial_one() {
        let mut out = Vec::new();
        let one = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let mut input = one.repeat(3);
        input.extend_from_slice(b"GET / HTTP/1.1\r\nHo");
        assert_eq!(respond(&input, &mut out), 3 * one.len());
        assert_eq!(out, RESPONSE.repeat(3));
    }

    #[test]
    fn incomplete_head_is_kept() {
        let mut out = Vec::new();
        assert_eq!(respond(b"GET / HTTP/1.1\r\n\r", &mut out), 0);
        assert_eq!(respond(b"", &mut out), 0);
        assert!(out.is_empty());
    }
}
