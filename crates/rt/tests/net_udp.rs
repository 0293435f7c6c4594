//! UDP: datagrams with their senders, connected sockets, truncation into a
//! small buffer, a receive that waits, bursts, the ICMP "port unreachable"
//! error, broadcast, and bad input. Every test runs on every backend,
//! bounded by a timeout.

mod net_support;

use net_support::run;
use spindle_rt::net::UdpSocket;
use spindle_rt::runtime::Backend;
use spindle_rt::{spawn_local, yield_now};
use std::io;
use std::net::SocketAddr;

on_backends!(
    send_to_and_recv_from_carry_the_sender,
    connected_sockets_send_and_recv,
    a_small_buffer_truncates_the_datagram,
    a_waiting_recv_wakes_for_a_datagram,
    a_burst_arrives_whole_and_in_datagrams,
    recv_from_a_closed_port_is_refused,
    broadcast_option_round_trips,
    unconnected_send_and_peer_addr_fail,
    empty_datagrams_are_datagrams,
    poll_methods_work_through_poll_fn,
);

async fn bind() -> (UdpSocket, SocketAddr) {
    let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = s.local_addr().unwrap();
    assert_ne!(addr.port(), 0);
    (s, addr)
}

fn send_to_and_recv_from_carry_the_sender(backend: Backend) {
    run(backend, async {
        let (a, a_addr) = bind().await;
        let (b, b_addr) = bind().await;
        let (c, c_addr) = bind().await;
        assert_eq!(a.send_to(b"from a", b_addr).await.unwrap(), 6);
        assert_eq!(c.send_to(b"from c", b_addr).await.unwrap(), 6);
        let mut buf = [0; 64];
        let mut got = Vec::new();
        for _ in 0..2 {
            let (n, from) = b.recv_from(&mut buf).await.unwrap();
            got.push((buf[..n].to_vec(), from));
        }
        got.sort();
        assert_eq!(got, vec![(b"from a".to_vec(), a_addr), (b"from c".to_vec(), c_addr)]);
    });
}

fn connected_sockets_send_and_recv(backend: Backend) {
    run(backend, async {
        let (a, a_addr) = bind().await;
        let (b, b_addr) = bind().await;
        let (stranger, _) = bind().await;
        a.connect(b_addr).await.unwrap();
        b.connect(a_addr).await.unwrap();
        assert_eq!(a.peer_addr().unwrap(), b_addr);
        // A connected socket takes datagrams from its peer only.
        stranger.send_to(b"noise", a_addr).await.unwrap();
        b.send(b"ping").await.unwrap();
        let mut buf = [0; 16];
        let n = a.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"ping");
        a.send(b"pong").await.unwrap();
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"pong");
    });
}

fn a_small_buffer_truncates_the_datagram(backend: Backend) {
    run(backend, async {
        let (a, _) = bind().await;
        let (b, b_addr) = bind().await;
        let long: Vec<u8> = (0..100).collect();
        a.send_to(&long, b_addr).await.unwrap();
        a.send_to(b"second", b_addr).await.unwrap();
        // As documented: the buffer fills, the call says buf.len(), the
        // rest of the datagram is gone.
        let mut small = [0; 10];
        let (n, _) = b.recv_from(&mut small).await.unwrap();
        assert_eq!(n, 10);
        assert_eq!(&small[..], &long[..10]);
        let mut buf = [0; 100];
        let (n, _) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"second", "the cut-off rest was discarded");
        // The same for a connected recv.
        b.connect(a.local_addr().unwrap()).await.unwrap();
        a.send_to(&long, b_addr).await.unwrap();
        assert_eq!(b.recv(&mut small).await.unwrap(), 10);
    });
}

fn a_waiting_recv_wakes_for_a_datagram(backend: Backend) {
    run(backend, async {
        let (a, _) = bind().await;
        let (b, b_addr) = bind().await;
        let receiver = spawn_local(async move {
            let mut buf = [0; 16];
            let (n, _) = b.recv_from(&mut buf).await.unwrap();
            buf[..n].to_vec()
        });
        for _ in 0..4 {
            yield_now().await;
        }
        assert!(!receiver.is_finished(), "no datagram yet");
        a.send_to(b"late", b_addr).await.unwrap();
        assert_eq!(receiver.await.unwrap(), b"late");
    });
}

fn a_burst_arrives_whole_and_in_datagrams(backend: Backend) {
    const COUNT: usize = 64;
    run(backend, async {
        let (a, _) = bind().await;
        let (b, b_addr) = bind().await;
        for i in 0..COUNT {
            let msg = vec![i as u8; 1 + i * 10];
            a.send_to(&msg, b_addr).await.unwrap();
        }
        let mut buf = vec![0; 2048];
        let mut seen = [false; COUNT];
        for _ in 0..COUNT {
            let (n, _) = b.recv_from(&mut buf).await.unwrap();
            let i = buf[0] as usize;
            assert_eq!(n, 1 + i * 10, "datagram {i} arrived whole");
            assert!(buf[..n].iter().all(|&x| x as usize == i));
            seen[i] = true;
        }
        assert!(seen.iter().all(|&s| s));
    });
}

fn recv_from_a_closed_port_is_refused(backend: Backend) {
    run(backend, async {
        let (a, _) = bind().await;
        let closed = bind().await.1; // the socket is dropped: nothing listens there
        a.connect(closed).await.unwrap();
        a.send(b"anyone?").await.unwrap();
        // The ICMP port unreachable comes back as the socket's error.
        let e = a.recv(&mut [0; 16]).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
    });
}

fn broadcast_option_round_trips(backend: Backend) {
    run(backend, async {
        let (a, _) = bind().await;
        assert!(!a.broadcast().unwrap());
        a.set_broadcast(true).unwrap();
        assert!(a.broadcast().unwrap());
    });
}

fn unconnected_send_and_peer_addr_fail(backend: Backend) {
    run(backend, async {
        let (a, _) = bind().await;
        assert_eq!(a.peer_addr().unwrap_err().kind(), io::ErrorKind::NotConnected);
        let e = a.send(b"nowhere").await.unwrap_err();
        // Linux says EDESTADDRREQ; std maps it to an uncategorised kind.
        assert_eq!(e.raw_os_error(), Some(libc::EDESTADDRREQ), "{e}");
        // An IPv6 target from an IPv4 socket.
        let e = a.send_to(b"x", "[::1]:9").await.unwrap_err();
        assert!(e.raw_os_error().is_some(), "{e}");
        // Binding an address already taken.
        let taken = a.local_addr().unwrap();
        let e = UdpSocket::bind(taken).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AddrInUse, "{e}");
    });
}

fn empty_datagrams_are_datagrams(backend: Backend) {
    run(backend, async {
        let (a, a_addr) = bind().await;
        let (b, b_addr) = bind().await;
        assert_eq!(a.send_to(b"", b_addr).await.unwrap(), 0);
        let (n, from) = b.recv_from(&mut [0; 8]).await.unwrap();
        assert_eq!((n, from), (0, a_addr));
    });
}

fn poll_methods_work_through_poll_fn(backend: Backend) {
    run(backend, async {
        let (a, a_addr) = bind().await;
        let (b, b_addr) = bind().await;
        std::future::poll_fn(|cx| a.poll_send_to(cx, b"p", b_addr)).await.unwrap();
        let mut buf = [0; 4];
        let (n, from) = std::future::poll_fn(|cx| b.poll_recv_from(cx, &mut buf)).await.unwrap();
        assert_eq!((n, from), (1, a_addr));
        a.connect(b_addr).await.unwrap();
        b.connect(a_addr).await.unwrap();
        std::future::poll_fn(|cx| a.poll_send(cx, b"q")).await.unwrap();
        let n = std::future::poll_fn(|cx| b.poll_recv(cx, &mut buf)).await.unwrap();
        assert_eq!(&buf[..n], b"q");
    });
}
