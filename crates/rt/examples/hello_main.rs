//! `#[spindle_rt::main]`: a TCP round trip on the multi-thread runtime (the
//! attribute's default, as with `#[tokio::main]`).
//!
//! ```text
//! cargo run -p spindle-rt --example hello_main
//! ```
//!
//! Binds 127.0.0.1 on a free port, prints the address, connects to itself,
//! sends one line, reads it back from the echoing task, and exits.

use spindle_rt::net::{TcpListener, TcpStream};
use std::io;

#[spindle_rt::main]
async fn main() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    println!("listening on {addr}");

    // The server: echo one connection's bytes until it closes.
    let server = spindle_rt::spawn(async move {
        let (mut stream, _peer) = listener.accept().await?;
        let mut buf = [0; 1024];
        loop {
            match stream.read(&mut buf).await? {
                0 => return Ok::<(), io::Error>(()),
                n => stream.write_all(&buf[..n]).await?,
            }
        }
    });

    let mut client = TcpStream::connect(addr).await?;
    client.write_all(b"hello from #[spindle_rt::main]\n").await?;
    let mut line = Vec::new();
    let mut buf = [0; 1024];
    while !line.ends_with(b"\n") {
        match client.read(&mut buf).await? {
            0 => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed early")),
            n => line.extend_from_slice(&buf[..n]),
        }
    }
    print!("echoed: {}", String::from_utf8_lossy(&line));

    drop(client); // the server sees EOF and returns
    server.await.expect("the server task ran")
}
