//! An echo server on spindle-rt: one task per connection, 16 KiB buffer.
//!
//! ```text
//! cargo run --release -p spindle-rt --example echo -- 127.0.0.1:7879
//! cargo run --release -p spindle-rt --example echo -- 127.0.0.1:7879 --multi 2
//! ```
//!
//! The first runs on the current-thread runtime, the second on the
//! multi-thread runtime with two workers (`--multi` alone: one per CPU).
//! Prints `listening on ADDR` once bound (port 0 picks a free port), then
//! serves until Ctrl-C (`SIGINT`), which it catches with
//! `spindle_rt::signal` to stop cleanly.

use spindle_rt::net::{TcpListener, TcpStream};
use spindle_rt::signal::{Signal, SignalKind};
use std::io;

/// Echoes until the peer closes (or errs).
async fn serve(mut stream: TcpStream) -> io::Result<()> {
    let mut buf = vec![0; 16 * 1024];
    loop {
        match stream.read(&mut buf).await? {
            0 => return Ok(()),
            n => stream.write_all(&buf[..n]).await?,
        }
    }
}

fn main() -> io::Result<()> {
    let mut addr = "127.0.0.1:7879".to_owned();
    let mut multi: Option<Option<usize>> = None;
    for arg in std::env::args().skip(1) {
        if arg == "--multi" {
            multi = Some(None);
        } else if let (Some(_), Ok(n)) = (multi, arg.parse::<usize>()) {
            multi = Some(Some(n));
        } else {
            addr = arg;
        }
    }
    let rt = match multi {
        None => spindle_rt::Builder::new_current_thread().build()?,
        Some(workers) => {
            let mut builder = spindle_rt::Builder::new_multi_thread();
            if let Some(n) = workers {
                builder.worker_threads(n);
            }
            builder.build()?
        }
    };
    rt.block_on(async {
        // Listen for Ctrl-C before serving, so that from here on it stops
        // the server instead of killing the process mid-write.
        let mut interrupt = Signal::new(SignalKind::interrupt())?;
        let listener = TcpListener::bind(addr.as_str()).await?;
        println!("listening on {}", listener.local_addr()?);
        spindle_rt::spawn(async move {
            loop {
                let (stream, _peer) = match listener.accept().await {
                    Ok(conn) => conn,
                    // A connection reset before accept, out of descriptors,
                    // ...: keep serving the others.
                    Err(e) => {
                        eprintln!("accept: {e}");
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                // `spawn`, not `spawn_local`: streams are `Send`, and on the
                // multi-thread runtime the task may run on any worker.
                spindle_rt::spawn(async move {
                    let _ = serve(stream).await;
                });
            }
        });
        interrupt.recv().await;
        // Returning drops the runtime, which cancels the accept loop and
        // every connection's task and closes their sockets.
        println!("Ctrl-C: stopping");
        Ok(())
    })
}
