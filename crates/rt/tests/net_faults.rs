//! TCP faults: the peer closes or resets while a read waits, writes after
//! the peer has gone, and connects that nobody answers. Each ends in a
//! result (`Ok(0)` or an error), never a hang; every test runs on every
//! backend, bounded by a timeout.

mod net_support;

use net_support::run;
use spindle_rt::net::{TcpListener, TcpStream};
use spindle_rt::runtime::Backend;
use spindle_rt::{spawn_local, yield_now};
use std::io;
use std::time::Duration;

on_backends!(
    peer_close_while_a_read_waits_reads_zero,
    peer_reset_while_a_read_waits_is_an_error,
    write_after_the_peer_closed_is_an_error,
    write_after_the_peer_reset_is_an_error,
    connect_with_no_listener_is_refused,
    owned_read_half_sees_the_reset_too,
);

/// A connected pair: (client, server side).
async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// Lets spawned tasks run until they wait.
async fn settle() {
    for _ in 0..4 {
        yield_now().await;
    }
}

fn peer_close_while_a_read_waits_reads_zero(backend: Backend) {
    run(backend, async {
        let (mut client, server) = pair().await;
        let reader = spawn_local(async move { client.read(&mut [0; 16]).await });
        settle().await;
        assert!(!reader.is_finished(), "nothing to read yet");
        drop(server);
        assert_eq!(reader.await.unwrap().unwrap(), 0);
    });
}

fn peer_reset_while_a_read_waits_is_an_error(backend: Backend) {
    run(backend, async {
        let (mut client, server) = pair().await;
        let reader = spawn_local(async move { client.read(&mut [0; 16]).await });
        settle().await;
        server.set_linger(Some(Duration::ZERO)).unwrap();
        drop(server); // RST, not FIN
        let e = reader.await.unwrap().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e}");
    });
}

/// Writes until the kernel reports the peer gone; returns that error.
async fn write_until_error(s: &mut TcpStream) -> io::Error {
    let chunk = vec![1u8; 64 * 1024];
    loop {
        if let Err(e) = s.write(&chunk).await {
            return e;
        }
        // Let the loop see the peer's RST between writes.
        yield_now().await;
    }
}

fn write_after_the_peer_closed_is_an_error(backend: Backend) {
    run(backend, async {
        let (mut client, server) = pair().await;
        drop(server);
        // The first writes may be accepted (the FIN only says the peer
        // will not send); the peer answers them with RST, and then writes
        // fail: BrokenPipe (EPIPE, with MSG_NOSIGNAL rather than SIGPIPE)
        // or ConnectionReset.
        let e = write_until_error(&mut client).await;
        assert!(
            matches!(e.kind(), io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset),
            "unexpected error {e:?}"
        );
        // Later writes keep failing; nothing hangs.
        assert!(client.write(b"x").await.is_err());
    });
}

fn write_after_the_peer_reset_is_an_error(backend: Backend) {
    run(backend, async {
        let (mut client, server) = pair().await;
        server.set_linger(Some(Duration::ZERO)).unwrap();
        drop(server);
        let e = write_until_error(&mut client).await;
        assert!(
            matches!(e.kind(), io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset),
            "unexpected error {e:?}"
        );
        let e = client.write_vectored(&[io::IoSlice::new(b"x")]).await.unwrap_err();
        assert!(matches!(e.kind(), io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset), "{e:?}");
    });
}

fn connect_with_no_listener_is_refused(backend: Backend) {
    run(backend, async {
        // A port that was just free: bind, note it, close.
        let addr = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
        let e = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
        let socket = spindle_rt::net::TcpSocket::new_v4().unwrap();
        let e = socket.connect(addr).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
    });
}

fn owned_read_half_sees_the_reset_too(backend: Backend) {
    run(backend, async {
        let (client, server) = pair().await;
        let (mut rd, wr) = client.into_split();
        let reader = spawn_local(async move { rd.read(&mut [0; 16]).await });
        settle().await;
        server.set_linger(Some(Duration::ZERO)).unwrap();
        drop(server);
        let e = reader.await.unwrap().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e}");
        drop(wr); // shutting down a reset stream is not an error to see
    });
}
