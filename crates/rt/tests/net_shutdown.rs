//! Half-closing a stream as tokio code does it: `stream.shutdown().await`
//! (tokio's `AsyncWriteExt::shutdown`) on a `TcpStream` and a `UnixStream`
//! shuts the write side down, so the peer reads end of stream while the
//! stream can still read; `shutdown_std(how)` is `shutdown(2)` with a
//! `std::net::Shutdown`. Every wait is bounded.

use spindle_rt::io::{AsyncReadExt, AsyncWriteExt};
use spindle_rt::net::{TcpListener, TcpStream, UnixStream};
use spindle_rt::time::timeout;
use spindle_rt::Builder;
use std::future::Future;
use std::net::Shutdown;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(10);

fn run<F: Future>(f: F) -> F::Output {
    let rt = Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async { timeout(LIMIT, f).await.expect("test timed out") })
}

async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let client = spindle_rt::spawn(async move { TcpStream::connect(addr).await.expect("connect") });
    let (server, _) = listener.accept().await.expect("accept");
    (client.await.expect("connect task"), server)
}

/// Checks what `a.shutdown().await` did: the peer `b` reads `sent` then
/// end of stream, and `a` still reads `b`'s reply.
async fn peer_sees_end_and_replies<S>(a: &mut S, b: &mut S, sent: &[u8])
where
    S: AsyncReadExt + AsyncWriteExt + Unpin,
{
    let mut got = Vec::new();
    b.read_to_end(&mut got).await.expect("peer reads to end");
    assert_eq!(got, sent);
    b.write_all(b"reply").await.expect("peer writes back");
    AsyncWriteExt::shutdown(b).await.expect("peer shutdown");
    let mut reply = Vec::new();
    a.read_to_end(&mut reply).await.expect("read side still open");
    assert_eq!(reply, b"reply");
}

// The method call as tokio code writes it, on the concrete types: an
// inherent `shutdown(how)` would shadow the trait's and fail to compile.
#[test]
fn tcp_shutdown_await_half_closes_like_tokio() {
    run(async {
        let (mut client, mut server) = tcp_pair().await;
        client.write_all(b"request").await.expect("write");
        client.shutdown().await.expect("shutdown");
        peer_sees_end_and_replies(&mut client, &mut server, b"request").await;
    });
}

#[test]
fn unix_shutdown_await_half_closes_like_tokio() {
    run(async {
        let (mut a, mut b) = UnixStream::pair().expect("pair");
        a.write_all(b"request").await.expect("write");
        a.shutdown().await.expect("shutdown");
        peer_sees_end_and_replies(&mut a, &mut b, b"request").await;
    });
}

#[test]
fn the_inherent_shutdown_needs_no_trait_and_shutdown_std_takes_a_direction() {
    run(async {
        let (mut client, mut server) = tcp_pair().await;
        // Without any io trait in scope (the inherent method).
        TcpStream::shutdown(&mut client).await.expect("shutdown");
        let mut buf = [0u8; 8];
        assert_eq!(server.read(&mut buf).await.expect("read"), 0, "end of stream");
        server.shutdown_std(Shutdown::Write).expect("shutdown_std");
        assert_eq!(client.read(&mut buf).await.expect("read"), 0);

        let (mut a, mut b) = UnixStream::pair().expect("pair");
        UnixStream::shutdown(&mut a).await.expect("shutdown");
        assert_eq!(b.read(&mut buf).await.expect("read"), 0);
        b.shutdown_std(Shutdown::Both).expect("shutdown_std");
    });
}
