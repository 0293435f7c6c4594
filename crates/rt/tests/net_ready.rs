//! The readiness API of `TcpStream` and `UnixStream` (`ready`, `readable`,
//! `writable`, `try_read`, `try_write`, their vectored forms, `try_io`,
//! `poll_read_ready`, `poll_write_ready`) and the listeners' `poll_accept`,
//! on real loopback connections and socket pairs. Asserted: a `try_*` call
//! with nothing to do is `WouldBlock` and clears the readiness, so the next
//! wait sleeps until the peer acts (checked by polling the wait once, not by
//! timing it); a wait for both directions parks in both and wakes on
//! either; a peer's shutdown shows as read-closed. Every test runs on the
//! current-thread runtime on each backend and on the multi-thread runtime,
//! every wait bounded by a timeout.

mod ready_support;

use ready_support::rt_support::TempDir;
use ready_support::{poll_once, Flavor, LIMIT};
use spindle_rt::io::Interest;
use spindle_rt::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use spindle_rt::time::timeout;
use std::future::poll_fn;
use std::io::{self, IoSlice, IoSliceMut};
use std::net::Shutdown;
use std::pin::pin;

on_flavors!(
    tcp_try_read_is_would_block_until_data_and_then_the_wait_sleeps_again,
    tcp_try_write_is_would_block_on_a_full_buffer_until_the_peer_reads,
    tcp_ready_reports_read_closed_after_the_peer_shuts_down,
    tcp_ready_for_both_parks_in_both_and_wakes_on_either,
    tcp_vectored_try_read_and_try_write,
    tcp_try_io_calls_even_unlatched_and_clears_on_would_block,
    tcp_poll_read_ready_and_poll_write_ready,
    tcp_poll_accept_yields_a_working_stream,
    unix_try_read_try_write_and_readiness,
    unix_ready_reports_read_closed_and_poll_accept_works,
);

/// A connected pair over loopback: (client, accepted).
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let client = TcpStream::connect(listener.local_addr().unwrap()).await.expect("connect");
    let (conn, _) = listener.accept().await.expect("accept");
    (client, conn)
}

fn is_would_block<T: std::fmt::Debug>(r: &io::Result<T>) -> bool {
    matches!(r, Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

/// Writes all of `buf` through `writable` + `try_write`.
async fn send_all(s: &TcpStream, mut buf: &[u8]) {
    while !buf.is_empty() {
        timeout(LIMIT, s.writable()).await.expect("writable in time").expect("writable");
        match s.try_write(buf) {
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("try_write: {e}"),
        }
    }
}

/// Reads exactly `len` bytes through `readable` + `try_read`.
async fn recv_exact(s: &TcpStream, len: usize) -> Vec<u8> {
    let mut got = Vec::with_capacity(len);
    let mut buf = vec![0; 64 * 1024];
    while got.len() < len {
        timeout(LIMIT, s.readable()).await.expect("readable in time").expect("readable");
        let want = (len - got.len()).min(buf.len());
        match s.try_read(&mut buf[..want]) {
            Ok(0) => panic!("end of stream after {} of {len} bytes", got.len()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("try_read: {e}"),
        }
    }
    got
}

async fn tcp_try_read_is_would_block_until_data_and_then_the_wait_sleeps_again(_: Flavor) {
    let (client, conn) = tcp_pair().await;
    let mut buf = [0; 64];
    assert!(is_would_block(&conn.try_read(&mut buf)), "nothing was sent");

    send_all(&client, b"hello").await;
    assert_eq!(recv_exact(&conn, 5).await, b"hello");
    // Drained: the next attempt is WouldBlock, and it clears the readiness.
    assert!(is_would_block(&conn.try_read(&mut buf)));
    let mut wait = pin!(conn.readable());
    assert!(
        poll_once(wait.as_mut()).await.is_pending(),
        "readable() returned on a drained socket after WouldBlock"
    );

    send_all(&client, b"again").await;
    timeout(LIMIT, wait).await.expect("the peer's write woke readable()").expect("readable");
    assert_eq!(recv_exact(&conn, 5).await, b"again");
}

async fn tcp_try_write_is_would_block_on_a_full_buffer_until_the_peer_reads(_: Flavor) {
    let (client, conn) = tcp_pair().await;
    let chunk = vec![1u8; 256 * 1024];
    let mut total = 0;
    for round in 0.. {
        assert!(round < 10_000, "the socket never filled");
        timeout(LIMIT, client.writable()).await.expect("writable in time").expect("writable");
        match client.try_write(&chunk) {
            Ok(n) => total += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("try_write: {e}"),
        }
    }
    assert!(total > 0);

    let mut wait = pin!(client.writable());
    assert!(
        poll_once(wait.as_mut()).await.is_pending(),
        "writable() returned on a full socket after WouldBlock"
    );
    assert_eq!(recv_exact(&conn, total).await.len(), total);
    timeout(LIMIT, wait).await.expect("the peer's reads woke writable()").expect("writable");
    assert_eq!(client.try_write(b"x").expect("room again"), 1);
}

async fn tcp_ready_reports_read_closed_after_the_peer_shuts_down(flavor: Flavor) {
    let (client, conn) = tcp_pair().await;
    let mut wait = pin!(conn.ready(Interest::READABLE));
    assert!(poll_once(wait.as_mut()).await.is_pending(), "nothing sent, nothing closed");

    client.shutdown_std(Shutdown::Write).unwrap();
    let ready = timeout(LIMIT, wait).await.expect("the shutdown woke ready()").expect("ready");
    if flavor.sees_read_closed() {
        assert!(ready.is_read_closed(), "{ready:?}");
    } else {
        assert!(ready.is_readable(), "{ready:?}");
    }
    assert!(!ready.is_writable(), "asked for reads only: {ready:?}");
    assert_eq!(conn.try_read(&mut [0; 8]).expect("end of stream"), 0);
    // Read-closed is final: the wait returns at once from now on.
    let mut wait = pin!(conn.ready(Interest::READABLE));
    assert!(poll_once(wait.as_mut()).await.is_ready());
}

async fn tcp_ready_for_both_parks_in_both_and_wakes_on_either(_: Flavor) {
    let (client, conn) = tcp_pair().await;
    let both = Interest::READABLE | Interest::WRITABLE;
    let ready = timeout(LIMIT, conn.ready(both)).await.expect("ready in time").expect("ready");
    assert!(ready.is_writable() && !ready.is_readable(), "{ready:?}");

    // Neither direction ready: fill conn's buffers, and have nothing to read.
    let chunk = vec![2u8; 256 * 1024];
    let mut total = 0;
    for round in 0.. {
        assert!(round < 10_000, "the socket never filled");
        match conn.try_write(&chunk) {
            Ok(n) => total += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                // Stale or spent: confirm with a wait that returns at once
                // only if space came back.
                if poll_once(pin!(conn.writable()).as_mut()).await.is_pending() {
                    break;
                }
            }
            Err(e) => panic!("try_write: {e}"),
        }
    }
    let mut wait = pin!(conn.ready(both));
    assert!(poll_once(wait.as_mut()).await.is_pending(), "neither readable nor writable");

    // A byte from the peer ends the wait through the read direction.
    send_all(&client, b"!").await;
    let ready = timeout(LIMIT, wait).await.expect("the read woke ready(both)").expect("ready");
    assert!(ready.is_readable(), "{ready:?}");
    assert_eq!(recv_exact(&conn, 1).await, b"!");

    // And the peer's reads end it through the write direction.
    let mut wait = pin!(conn.ready(Interest::WRITABLE));
    assert!(poll_once(wait.as_mut()).await.is_pending(), "still full");
    assert_eq!(recv_exact(&client, total).await.len(), total);
    let ready = timeout(LIMIT, wait).await.expect("the drain woke ready()").expect("ready");
    assert!(ready.is_writable(), "{ready:?}");
}

async fn tcp_vectored_try_read_and_try_write(_: Flavor) {
    let (client, conn) = tcp_pair().await;
    timeout(LIMIT, client.writable()).await.expect("writable in time").expect("writable");
    let n =
        client.try_write_vectored(&[IoSlice::new(b"head "), IoSlice::new(b"body")]).expect("gathered write");
    assert_eq!(n, 9);

    let (mut a, mut b) = ([0; 5], [0; 16]);
    let mut got = 0;
    while got < 9 {
        timeout(LIMIT, conn.readable()).await.expect("readable in time").expect("readable");
        // Fill from where the last read stopped.
        let (a_rest, b_rest): (&mut [u8], &mut [u8]) =
            if got < 5 { (&mut a[got..], &mut b[..]) } else { (&mut [], &mut b[got - 5..]) };
        match conn.try_read_vectored(&mut [IoSliceMut::new(a_rest), IoSliceMut::new(b_rest)]) {
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("try_read_vectored: {e}"),
        }
    }
    assert_eq!(&a, b"head ");
    assert_eq!(&b[..4], b"body");
    assert!(is_would_block(&conn.try_read_vectored(&mut [IoSliceMut::new(&mut b)])));
}

async fn tcp_try_io_calls_even_unlatched_and_clears_on_would_block(_: Flavor) {
    let (client, conn) = tcp_pair().await;
    // Nothing latched yet: the closure still runs, and the kernel answers.
    let mut called = false;
    let r = conn.try_io(Interest::READABLE, || {
        called = true;
        Ok(rustix::net::recv(&conn, &mut [0; 4], rustix::net::RecvFlags::PEEK).map(|(n, _)| n)?)
    });
    assert!(is_would_block(&r) && called, "the kernel's WouldBlock, from a real attempt");

    // A call of our own (a peek), once ready.
    send_all(&client, b"peek me").await;
    let mut buf = [0; 16];
    let n = loop {
        timeout(LIMIT, conn.readable()).await.expect("readable in time").expect("readable");
        let r = conn.try_io(Interest::READABLE, || {
            Ok(rustix::net::recv(&conn, &mut buf, rustix::net::RecvFlags::PEEK).map(|(n, _)| n)?)
        });
        match r {
            Ok(n) if n >= 7 => break n,
            Ok(_) => {} // part of it: peek again
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("peek: {e}"),
        }
    };
    assert_eq!(&buf[..n], b"peek me");

    // The call's WouldBlock clears the readiness, though the bytes are
    // still there: the next wait sleeps until the peer sends more.
    let r: io::Result<()> = conn.try_io(Interest::READABLE, || Err(io::ErrorKind::WouldBlock.into()));
    assert!(is_would_block(&r));
    let mut wait = pin!(conn.readable());
    assert!(poll_once(wait.as_mut()).await.is_pending(), "try_io's WouldBlock cleared the readiness");
    send_all(&client, b"!").await;
    timeout(LIMIT, wait).await.expect("new data woke readable()").expect("readable");
    assert_eq!(recv_exact(&conn, 8).await, b"peek me!");
}

async fn tcp_poll_read_ready_and_poll_write_ready(_: Flavor) {
    let (client, conn) = tcp_pair().await;
    timeout(LIMIT, poll_fn(|cx| client.poll_write_ready(cx)))
        .await
        .expect("writable in time")
        .expect("writable");
    assert!(poll_fn(|cx| std::task::Poll::Ready(conn.poll_read_ready(cx))).await.is_pending());
    assert_eq!(client.try_write(b"poll").expect("write"), 4);
    timeout(LIMIT, poll_fn(|cx| conn.poll_read_ready(cx)))
        .await
        .expect("the write woke it")
        .expect("readable");
    assert_eq!(recv_exact(&conn, 4).await, b"poll");
}

async fn tcp_poll_accept_yields_a_working_stream(_: Flavor) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().unwrap();
    assert!(poll_fn(|cx| std::task::Poll::Ready(listener.poll_accept(cx))).await.is_pending());
    let client = TcpStream::connect(addr).await.expect("connect");
    let (conn, peer) =
        timeout(LIMIT, poll_fn(|cx| listener.poll_accept(cx))).await.expect("accepted").unwrap();
    assert_eq!(peer, client.local_addr().unwrap());
    send_all(&conn, b"hi").await;
    assert_eq!(recv_exact(&client, 2).await, b"hi");
}

async fn unix_recv(s: &UnixStream, len: usize) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0; 64];
    while got.len() < len {
        timeout(LIMIT, s.readable()).await.expect("readable in time").expect("readable");
        match s.try_read(&mut buf[..len - got.len()]) {
            Ok(0) => panic!("end of stream"),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("try_read: {e}"),
        }
    }
    got
}

async fn unix_try_read_try_write_and_readiness(_: Flavor) {
    let (a, b) = UnixStream::pair().expect("pair");
    assert!(is_would_block(&b.try_read(&mut [0; 8])), "nothing was sent");

    timeout(LIMIT, poll_fn(|cx| a.poll_write_ready(cx))).await.expect("writable in time").expect("writable");
    assert_eq!(a.try_write(b"one").expect("write"), 3);
    assert_eq!(unix_recv(&b, 3).await, b"one");
    assert!(is_would_block(&b.try_read(&mut [0; 8])));
    let mut wait = pin!(b.readable());
    assert!(poll_once(wait.as_mut()).await.is_pending(), "readable() returned after WouldBlock");

    timeout(LIMIT, a.writable()).await.expect("writable in time").expect("writable");
    let n = a.try_write_vectored(&[IoSlice::new(b"tw"), IoSlice::new(b"o")]).expect("gathered write");
    assert_eq!(n, 3);
    timeout(LIMIT, wait).await.expect("the write woke readable()").expect("readable");
    let mut x = [0; 3];
    let n = loop {
        match b.try_read_vectored(&mut [IoSliceMut::new(&mut x)]) {
            Ok(n) => break n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                timeout(LIMIT, poll_fn(|cx| b.poll_read_ready(cx))).await.expect("readable in time").unwrap();
            }
            Err(e) => panic!("try_read_vectored: {e}"),
        }
    };
    assert_eq!(&x[..n], &b"two"[..n]);

    let r: io::Result<()> = b.try_io(Interest::READABLE, || Err(io::ErrorKind::WouldBlock.into()));
    assert!(is_would_block(&r));
}

async fn unix_ready_reports_read_closed_and_poll_accept_works(flavor: Flavor) {
    let dir = TempDir::new("net-ready");
    let path = dir.0.join("sock");
    let listener = UnixListener::bind(&path).expect("bind");
    assert!(poll_fn(|cx| std::task::Poll::Ready(listener.poll_accept(cx))).await.is_pending());
    let client = UnixStream::connect(&path).await.expect("connect");
    let (conn, _peer) =
        timeout(LIMIT, poll_fn(|cx| listener.poll_accept(cx))).await.expect("accepted").unwrap();

    let mut wait = pin!(conn.ready(Interest::READABLE));
    assert!(poll_once(wait.as_mut()).await.is_pending());
    client.shutdown_std(Shutdown::Write).unwrap();
    let ready = timeout(LIMIT, wait).await.expect("the shutdown woke ready()").expect("ready");
    if flavor.sees_read_closed() {
        assert!(ready.is_read_closed(), "{ready:?}");
    } else {
        assert!(ready.is_readable(), "{ready:?}");
    }
    assert_eq!(conn.try_read(&mut [0; 8]).expect("end of stream"), 0);
}

#[test]
fn the_readiness_futures_are_send() {
    fn send<T: Send>(_: &T) {}
    ready_support::run(Flavor::Multi, |_| async {
        let (client, conn) = tcp_pair().await;
        send(&conn.ready(Interest::READABLE | Interest::WRITABLE));
        send(&conn.readable());
        send(&conn.writable());
        let (a, _b) = UnixStream::pair().expect("pair");
        send(&a.ready(Interest::READABLE));
        // A task on a worker waits while this one writes.
        let reader = spindle_rt::spawn(async move {
            let got = recv_exact(&conn, 3).await;
            drop(conn);
            got
        });
        send_all(&client, b"abc").await;
        assert_eq!(timeout(LIMIT, reader).await.expect("the reader woke").expect("joined"), b"abc");
    });
}
