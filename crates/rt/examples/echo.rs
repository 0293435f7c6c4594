//! An echo server on spindle-rt: one task per connection, 16 KiB buffer.
//!
//! ```text
//! cargo run --release -p spindle-rt --example echo -- 127.0.0.1:7879
//! ```
//!
//! Prints `listening on ADDR` once bound (port 0 picks a free port), then
//! serves until killed.

use spindle_rt::net::{TcpListener, TcpStream};
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
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:7879".to_owned());
    let rt = spindle_rt::Builder::new_current_thread().build()?;
    rt.block_on(async {
        let listener = TcpListener::bind(addr.as_str())?;
        println!("listening on {}", listener.local_addr()?);
        loop {
            let (stream, _peer) = match listener.accept().await {
                Ok(conn) => conn,
                // A connection reset before accept, out of descriptors, ...:
                // keep serving the others.
                Err(e) => {
                    eprintln!("accept: {e}");
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            spindle_rt::spawn_local(async move {
                let _ = serve(stream).await;
            });
        }
    })
}
