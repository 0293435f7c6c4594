//! `spindle echo`: a TCP echo server on spindle-loop.
//!
//! One thread, one loop: the listener's callback accepts, each connection
//! reads into its own buffer and writes straight back. `write` tries the
//! socket at once and queues only what the kernel did not take, so the
//! steady state is exactly one `read` and one `send` per message, the same
//! system calls a bare epoll loop makes.

use anyhow::{Context, Result};
use spindle_loop::{Loop, ReadResult, RunMode, StreamId};
use spindle_poll::Backend;
use std::io::Write;
use std::net::SocketAddr;

/// Each connection's read buffer. Echo messages are small; 16 KiB keeps
/// 10,000 idle connections at 160 MiB while a full buffer is still read
/// again at once (see `spindle_loop::READS_PER_EVENT`).
const READ_BUFFER: usize = 16 * 1024;

/// Runs the echo server until it is interrupted.
pub fn run(listen: SocketAddr, backend: Backend, backlog: u32) -> Result<()> {
    let mut lp = Loop::with_backend(backend).context("creating the event loop")?;
    let listener =
        lp.tcp_listen(listen, backlog, on_connection).with_context(|| format!("listening on {listen}"))?;
    let addr = lp.local_addr(listener)?;
    for sig in [libc::SIGINT, libc::SIGTERM] {
        let s = lp.signal_start(sig, |lp, _, signum| {
            tracing::info!(signum, "stopping");
            lp.stop();
        })?;
        lp.unref(s.handle());
    }
    println!("spindle echo listening on {addr} (poller: {})", lp.backend());
    std::io::stdout().flush()?;
    lp.run(RunMode::Default)?;
    Ok(())
}

fn on_connection(lp: &mut Loop, listener: StreamId, result: std::io::Result<()>) {
    if let Err(e) = result {
        tracing::warn!(error = %e, "accept failed");
        return;
    }
    let conn = match lp.accept(listener) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "accept failed");
            return;
        }
    };
    let _ = lp.set_nodelay(conn, true);
    if let Err(e) = lp.read_start(conn, Vec::with_capacity(READ_BUFFER), echo) {
        tracing::warn!(error = %e, "cannot read from a new connection");
        lp.close(conn.handle(), None);
    }
}

fn echo(lp: &mut Loop, conn: StreamId, result: ReadResult<'_>) {
    match result {
        ReadResult::Data(data) => {
            if lp.write(conn, data, None).is_err() {
                lp.close(conn.handle(), None);
            }
        }
        ReadResult::Eof | ReadResult::Error(_) => lp.close(conn.handle(), None),
    }
}
