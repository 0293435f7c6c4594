//! UnixDatagram: pairs, bound sockets in a temporary directory and the
//! sender's path in `recv_from`, message boundaries, truncation into a
//! small buffer, a send that waits for room in the peer's queue, the
//! `try_*` calls and the readiness latch, shutdown of either side, the abstract namespace,
//! `from_std` / `into_std`, and bad input. Every test runs on the
//! current-thread runtime (epoll, poll, select) and the multi-thread
//! runtime (epoll, poll), bounded by a timeout.

mod dgram_support;
mod rt_support;

use dgram_support::yields;
use rt_support::TempDir;
use spindle_rt::net::UnixDatagram;
use std::future::poll_fn;
use std::io;
use std::net::Shutdown;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

on_runtimes!(
    pair_exchanges_messages_both_ways,
    bound_sockets_and_recv_from_names_the_sender,
    message_boundaries_are_kept,
    a_message_larger_than_the_buffer_is_truncated,
    try_recv_would_block_and_a_waiting_recv_still_wakes,
    readable_then_try_recv_sleeps_after_would_block,
    a_send_waits_for_room_and_wakes_when_the_peer_receives,
    connect_sets_the_peer,
    bad_paths_and_unconnected_sends_fail,
    shutdown_write_fails_sends_and_is_not_seen_by_the_peer,
    shutdown_read_ends_input_after_the_queue,
    a_closed_peer_refuses_sends,
    abstract_names_need_no_file,
    from_std_and_into_std_keep_the_socket,
    poll_methods_work_through_poll_fn,
);

#[test]
fn unix_datagram_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<UnixDatagram>();
}

fn would_block<T: std::fmt::Debug>(r: io::Result<T>) {
    match r {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        other => panic!("expected WouldBlock, got {other:?}"),
    }
}

/// A fresh directory (removed when the result drops) and paths in it.
fn dir(tag: &str) -> (TempDir, impl Fn(&str) -> PathBuf) {
    let dir = TempDir::new(tag);
    let base = dir.0.clone();
    (dir, move |name: &str| base.join(name))
}

async fn pair_exchanges_messages_both_ways() {
    let (a, b) = UnixDatagram::pair().unwrap();
    assert!(a.local_addr().unwrap().is_unnamed());
    assert!(b.peer_addr().unwrap().is_unnamed());
    let (a, b) = (Arc::new(a), Arc::new(b));
    // A receiver waiting in another task is woken by each message.
    let echo = spindle_rt::spawn({
        let b = b.clone();
        async move {
            let mut buf = [0; 64];
            for _ in 0..3 {
                let n = b.recv(&mut buf).await.unwrap();
                buf[..n].reverse();
                b.send(&buf[..n]).await.unwrap();
            }
        }
    });
    let mut buf = [0; 64];
    for msg in [&b"abc"[..], b"hello", b"x"] {
        assert_eq!(a.send(msg).await.unwrap(), msg.len());
        let n = a.recv(&mut buf).await.unwrap();
        let mut want = msg.to_vec();
        want.reverse();
        assert_eq!(&buf[..n], &want[..]);
    }
    echo.await.unwrap();
}

async fn bound_sockets_and_recv_from_names_the_sender() {
    let (_dir, path) = dir("dgram-bind");
    let (server_path, client_path) = (path("server.sock"), path("client.sock"));
    let server = UnixDatagram::bind(&server_path).unwrap();
    assert_eq!(server.local_addr().unwrap().as_pathname(), Some(server_path.as_path()));
    assert!(server_path.exists(), "bind made the socket file");
    let client = UnixDatagram::bind(&client_path).unwrap();
    client.send_to(b"who am I", &server_path).await.unwrap();
    let mut buf = [0; 64];
    let (n, from) = server.recv_from(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"who am I");
    assert_eq!(from.as_pathname(), Some(client_path.as_path()));
    // The sender's path is an address to answer to.
    server.send_to(b"you are client.sock", from.as_pathname().unwrap()).await.unwrap();
    let (n, from) = client.recv_from(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"you are client.sock");
    assert_eq!(from.as_pathname(), Some(server_path.as_path()));
    // An unbound sender is unnamed.
    let anon = UnixDatagram::unbound().unwrap();
    anon.send_to(b"anon", &server_path).await.unwrap();
    let (n, from) = server.recv_from(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"anon");
    assert!(from.is_unnamed(), "{from:?}");
    drop(server);
    assert!(server_path.exists(), "the socket file outlives the socket");
}

async fn message_boundaries_are_kept() {
    let (a, b) = UnixDatagram::pair().unwrap();
    a.send(&[1; 3]).await.unwrap();
    a.send(&[2; 5]).await.unwrap();
    a.send(b"").await.unwrap();
    a.send(&[3; 4096]).await.unwrap();
    let mut buf = vec![0; 8192];
    let n = b.recv(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], &[1; 3], "the first send alone, not merged with the second");
    let n = b.recv(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], &[2; 5]);
    assert_eq!(b.recv(&mut buf).await.unwrap(), 0, "an empty message is a message");
    let n = b.recv(&mut buf).await.unwrap();
    assert_eq!((n, buf[..n].iter().all(|&x| x == 3)), (4096, true), "a large one arrives whole");
    would_block(b.try_recv(&mut buf));
}

async fn a_message_larger_than_the_buffer_is_truncated() {
    let (_dir, path) = dir("dgram-trunc");
    let server_path = path("server.sock");
    let server = UnixDatagram::bind(&server_path).unwrap();
    let client = UnixDatagram::bind(path("client.sock")).unwrap();
    let long: Vec<u8> = (0..100).collect();
    for _ in 0..3 {
        client.send_to(&long, &server_path).await.unwrap();
    }
    client.send_to(b"next", &server_path).await.unwrap();
    // As the kernel does: the buffer fills, the call says buf.len(), and
    // the rest of that message is gone, whichever receive takes it.
    let mut small = [0; 10];
    assert_eq!(server.recv(&mut small).await.unwrap(), 10);
    assert_eq!(&small[..], &long[..10]);
    let (n, from) = server.recv_from(&mut small).await.unwrap();
    assert_eq!((n, &small[..]), (10, &long[..10]));
    assert_eq!(from.as_pathname(), Some(path("client.sock").as_path()));
    assert_eq!(server.try_recv(&mut small).unwrap(), 10);
    let mut buf = [0; 100];
    let n = server.recv(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"next", "the cut-off rests were discarded");
}

async fn try_recv_would_block_and_a_waiting_recv_still_wakes() {
    let (a, b) = UnixDatagram::pair().unwrap();
    let b = Arc::new(b);
    let mut buf = [0; 16];
    would_block(b.try_recv(&mut buf));
    would_block(b.try_recv_from(&mut buf));
    // Latch readiness, then take the message without a wait: the latch
    // holds readiness for a queue that is empty again.
    a.send(b"warm").await.unwrap();
    b.readable().await.unwrap();
    assert_eq!(b.try_recv(&mut buf).unwrap(), 4);
    would_block(b.try_recv(&mut buf));
    let waiter = spindle_rt::spawn({
        let b = b.clone();
        async move {
            let mut buf = [0; 16];
            let n = b.recv(&mut buf).await.unwrap();
            buf[..n].to_vec()
        }
    });
    yields(4).await;
    assert!(!waiter.is_finished(), "nothing was sent yet");
    // A try_* call while a task waits must not take that task's place.
    would_block(b.try_recv(&mut buf));
    would_block(b.try_recv_from(&mut buf));
    a.send(b"late").await.unwrap();
    assert_eq!(waiter.await.unwrap(), b"late");
}

async fn readable_then_try_recv_sleeps_after_would_block() {
    let (a, b) = UnixDatagram::pair().unwrap();
    let b = Arc::new(b);
    a.send(b"warm").await.unwrap();
    b.readable().await.unwrap();
    assert_eq!(b.try_recv(&mut [0; 16]).unwrap(), 4);
    // Stale readiness is latched now: the loop's first WouldBlock must
    // clear it, or readable returns at once forever and the loop spins.
    let receiver = spindle_rt::spawn({
        let b = b.clone();
        async move {
            let mut would_blocks = 0;
            let mut buf = [0; 16];
            loop {
                b.readable().await.unwrap();
                match b.try_recv(&mut buf) {
                    Ok(n) => return (buf[..n].to_vec(), would_blocks),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => would_blocks += 1,
                    Err(e) => panic!("{e}"),
                }
            }
        }
    });
    yields(20).await;
    a.send(b"late").await.unwrap();
    let (got, would_blocks) = receiver.await.unwrap();
    assert_eq!(got, b"late");
    assert!(would_blocks <= 2, "the loop spun: {would_blocks} WouldBlocks before the message");
}

async fn a_send_waits_for_room_and_wakes_when_the_peer_receives() {
    const SIZE: usize = 1024;
    let (a, b) = UnixDatagram::pair().unwrap();
    let a = Arc::new(a);
    // Fill the queue without waiting; each message carries its number.
    let mut sent = 0u32;
    loop {
        let mut msg = vec![0; SIZE];
        msg[..4].copy_from_slice(&sent.to_be_bytes());
        match a.try_send(&msg) {
            Ok(n) => assert_eq!(n, SIZE),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("{e}"),
        }
        sent += 1;
        assert!(sent < 1_000_000, "the queue never filled");
    }
    assert!(sent > 0);
    let done = Arc::new(AtomicUsize::new(0));
    let sender = spindle_rt::spawn({
        let (a, done) = (a.clone(), done.clone());
        async move {
            let mut msg = vec![0; SIZE];
            msg[..4].copy_from_slice(&sent.to_be_bytes());
            a.send(&msg).await.unwrap();
            done.store(1, Ordering::SeqCst);
        }
    });
    yields(4).await;
    assert_eq!(done.load(Ordering::SeqCst), 0, "the send waits while the queue is full");
    // Each message taken makes room; the waiting send wakes and lands
    // last, in order, none lost.
    let mut buf = vec![0; SIZE * 2];
    for i in 0..=sent {
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(n, SIZE);
        assert_eq!(u32::from_be_bytes(buf[..4].try_into().unwrap()), i, "in order");
    }
    sender.await.unwrap();
    would_block(b.try_recv(&mut buf));
}

async fn connect_sets_the_peer() {
    let (_dir, path) = dir("dgram-connect");
    let server_path = path("server.sock");
    let server = UnixDatagram::bind(&server_path).unwrap();
    let other = UnixDatagram::bind(path("other.sock")).unwrap();
    let client = UnixDatagram::bind(path("client.sock")).unwrap();
    client.connect(&server_path).unwrap();
    assert_eq!(client.peer_addr().unwrap().as_pathname(), Some(server_path.as_path()));
    client.send(b"via connect").await.unwrap();
    let mut buf = [0; 32];
    let (n, from) = server.recv_from(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"via connect");
    assert_eq!(from.as_pathname(), Some(path("client.sock").as_path()));
    // A connected socket takes messages from its peer only.
    assert!(other.send_to(b"stranger", path("client.sock")).await.is_err(), "refused by the kernel");
    server.send_to(b"peer", path("client.sock")).await.unwrap();
    let n = client.recv(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"peer");
    // An unbound socket can connect and send too.
    let anon = UnixDatagram::unbound().unwrap();
    anon.connect(&server_path).unwrap();
    assert_eq!(anon.try_send(b"anon").unwrap(), 4);
    let (n, from) = server.recv_from(&mut buf).await.unwrap();
    assert_eq!((&buf[..n], from.is_unnamed()), (&b"anon"[..], true));
}

async fn bad_paths_and_unconnected_sends_fail() {
    let (_dir, path) = dir("dgram-bad");
    let taken = path("taken.sock");
    let s = UnixDatagram::bind(&taken).unwrap();
    let e = UnixDatagram::bind(&taken).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::AddrInUse, "{e}");
    let e = s.send(b"no peer").await.unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::NotConnected, "{e}");
    assert_eq!(s.try_send(b"no peer").unwrap_err().kind(), io::ErrorKind::NotConnected);
    assert_eq!(s.peer_addr().unwrap_err().kind(), io::ErrorKind::NotConnected);
    let e = s.send_to(b"x", path("missing.sock")).await.unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::NotFound, "{e}");
    let e = s.connect(path("missing.sock")).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::NotFound, "{e}");
    // A file that is not a socket.
    std::fs::write(path("plain"), b"").unwrap();
    let e = s.send_to(b"x", path("plain")).await.unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
    let e = s.connect(path("plain")).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
    // A path longer than sun_path.
    let long = path(&"x".repeat(200));
    assert_eq!(UnixDatagram::bind(&long).unwrap_err().kind(), io::ErrorKind::InvalidInput);
    let e = s.send_to(b"x", &long).await.unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{e}");
    assert_eq!(s.try_send_to(b"x", &long).unwrap_err().kind(), io::ErrorKind::InvalidInput);
    // A stream listener's path is not a datagram peer.
    let listener = spindle_rt::net::UnixListener::bind(path("stream.sock")).unwrap();
    let e = s.connect(path("stream.sock")).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EPROTOTYPE), "{e}");
    drop(listener);
}

async fn shutdown_write_fails_sends_and_is_not_seen_by_the_peer() {
    let (a, b) = UnixDatagram::pair().unwrap();
    a.shutdown(Shutdown::Write).unwrap();
    let e = a.send(b"after").await.unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::BrokenPipe, "{e}");
    assert_eq!(a.try_send(b"after").unwrap_err().kind(), io::ErrorKind::BrokenPipe);
    // Unlike a stream's, the shutdown sends the peer no end-of-file, and
    // the peer can still send to this side.
    would_block(b.try_recv(&mut [0; 8]));
    b.send(b"still").await.unwrap();
    let mut buf = [0; 8];
    assert_eq!(a.recv(&mut buf).await.unwrap(), 5);
}

async fn shutdown_read_ends_input_after_the_queue() {
    let (a, b) = UnixDatagram::pair().unwrap();
    let a = Arc::new(a);
    b.send(b"queued").await.unwrap();
    a.shutdown(Shutdown::Read).unwrap();
    // Messages already queued are still taken, then every receive ends at
    // once with Ok(0), and sends to this side are refused.
    let mut buf = [0; 8];
    assert_eq!(a.recv(&mut buf).await.unwrap(), 6);
    assert_eq!(a.recv(&mut buf).await.unwrap(), 0);
    assert_eq!(a.try_recv(&mut buf).unwrap(), 0);
    let (n, from) = a.recv_from(&mut buf).await.unwrap();
    assert_eq!((n, from.is_unnamed()), (0, true));
    let (n, from) = a.try_recv_from(&mut buf).unwrap();
    assert_eq!((n, from.is_unnamed()), (0, true));
    let e = b.send(b"refused").await.unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::BrokenPipe, "{e}");
    // A receive already waiting when the read side is shut ends too.
    let (c, _d) = UnixDatagram::pair().unwrap();
    let c = Arc::new(c);
    let waiter = spindle_rt::spawn({
        let c = c.clone();
        async move { c.recv(&mut [0; 8]).await.unwrap() }
    });
    yields(4).await;
    assert!(!waiter.is_finished(), "nothing to receive yet");
    c.shutdown(Shutdown::Read).unwrap();
    assert_eq!(waiter.await.unwrap(), 0);
}

async fn a_closed_peer_refuses_sends() {
    let (a, b) = UnixDatagram::pair().unwrap();
    drop(b);
    let e = a.send(b"anyone?").await.unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
}

async fn abstract_names_need_no_file() {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let unique = format!("spindle-rt-dgram-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
    let name = |side: &str| {
        let mut bytes = vec![0u8];
        bytes.extend_from_slice(format!("{unique}-{side}").as_bytes());
        PathBuf::from(std::ffi::OsStr::from_bytes(&bytes))
    };
    let server = UnixDatagram::bind(name("server")).unwrap();
    let client = UnixDatagram::bind(name("client")).unwrap();
    let local = server.local_addr().unwrap();
    assert_eq!(local.as_abstract_name(), Some(format!("{unique}-server").as_bytes()));
    client.send_to(b"abstract", name("server")).await.unwrap();
    let mut buf = [0; 16];
    let (n, from) = server.recv_from(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"abstract");
    assert_eq!(from.as_abstract_name(), Some(format!("{unique}-client").as_bytes()));
}

async fn from_std_and_into_std_keep_the_socket() {
    let (std_a, std_b) = std::os::unix::net::UnixDatagram::pair().unwrap();
    let a = UnixDatagram::from_std(std_a).unwrap();
    std_b.send(b"to adopted").unwrap();
    let mut buf = [0; 16];
    let n = a.recv(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"to adopted");
    a.send(b"back").await.unwrap();
    let n = std_b.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"back");
    // Out again: still connected, still non-blocking, and a message sent
    // meanwhile waits in the kernel's queue.
    let std_a = a.into_std().unwrap();
    assert_eq!(std_a.recv(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    std_b.send(b"queued").unwrap();
    let n = std_a.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"queued");
}

async fn poll_methods_work_through_poll_fn() {
    let (_dir, path) = dir("dgram-poll");
    let (a_path, b_path) = (path("a.sock"), path("b.sock"));
    let a = UnixDatagram::bind(&a_path).unwrap();
    let b = UnixDatagram::bind(&b_path).unwrap();
    poll_fn(|cx| a.poll_send_ready(cx)).await.unwrap();
    assert_eq!(poll_fn(|cx| a.poll_send_to(cx, b"p", &b_path)).await.unwrap(), 1);
    poll_fn(|cx| b.poll_recv_ready(cx)).await.unwrap();
    let mut buf = [0; 4];
    let (n, from) = poll_fn(|cx| b.poll_recv_from(cx, &mut buf)).await.unwrap();
    assert_eq!((n, from.as_pathname()), (1, Some(a_path.as_path())));
    a.connect(&b_path).unwrap();
    assert_eq!(poll_fn(|cx| a.poll_send(cx, b"q")).await.unwrap(), 1);
    let n = poll_fn(|cx| b.poll_recv(cx, &mut buf)).await.unwrap();
    assert_eq!(&buf[..n], b"q");
    b.writable().await.unwrap();
    b.try_send_to(b"r", &a_path).unwrap();
    let (n, from) = a.try_recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from.as_pathname()), (&b"r"[..], Some(b_path.as_path())));
    assert!(poll_fn(|cx| a.poll_send_to(cx, b"x", "")).await.is_err(), "an empty path");
}
