//! UdpSocket beyond send and receive: an echo through `send_to` /
//! `recv_from`, `peek_from`, the non-blocking `try_*` calls and how they
//! leave the readiness latch (a `WouldBlock` must neither steal a waiting
//! task's wake-up nor leave stale readiness behind), the IP and multicast
//! options, `take_error`, and `from_std` / `into_std`. Every test runs on
//! the current-thread runtime (epoll, poll, select) and the multi-thread
//! runtime (epoll, poll), bounded by a timeout. Several tasks may wait on
//! one socket shared through an `Arc`: each event wakes them all.

mod dgram_support;
mod rt_support;

use dgram_support::yields;
use spindle_rt::net::UdpSocket;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

on_runtimes!(
    echo_through_send_to_and_recv_from,
    peek_from_leaves_the_datagram_in_place,
    try_recv_would_block_and_a_waiting_recv_still_wakes,
    readable_then_try_recv_sleeps_after_would_block,
    try_send_and_try_send_to_deliver,
    ttl_and_multicast_options_round_trip,
    multicast_v4_join_and_leave,
    multicast_v6_join_and_leave,
    take_error_takes_the_icmp_error,
    from_std_and_into_std_keep_the_socket,
    tasks_sharing_a_socket_each_receive,
);

async fn bind() -> (UdpSocket, SocketAddr) {
    let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = s.local_addr().unwrap();
    (s, addr)
}

fn would_block<T: std::fmt::Debug>(r: io::Result<T>) {
    match r {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        other => panic!("expected WouldBlock, got {other:?}"),
    }
}

async fn echo_through_send_to_and_recv_from() {
    let (server, server_addr) = bind().await;
    let (client, client_addr) = bind().await;
    let sizes = [1, 7, 512, 1400, 9000];
    let echo = spindle_rt::spawn(async move {
        let mut buf = vec![0; 65_536];
        for _ in 0..sizes.len() {
            let (n, from) = server.recv_from(&mut buf).await.unwrap();
            assert_eq!(server.send_to(&buf[..n], from).await.unwrap(), n);
        }
    });
    let mut buf = vec![0; 65_536];
    for (i, size) in sizes.into_iter().enumerate() {
        let msg: Vec<u8> = (0..size).map(|j| (i + j) as u8).collect();
        assert_eq!(client.send_to(&msg, server_addr).await.unwrap(), size);
        let (n, from) = client.recv_from(&mut buf).await.unwrap();
        assert_eq!(from, server_addr);
        assert_eq!(&buf[..n], &msg[..], "datagram {i} echoed whole");
    }
    echo.await.unwrap();
    assert_ne!(client_addr, server_addr);
}

async fn peek_from_leaves_the_datagram_in_place() {
    let (a, a_addr) = bind().await;
    let (b, b_addr) = bind().await;
    let b = Arc::new(b);
    // A peek on an empty socket waits, and wakes for the datagram.
    let peeker = spindle_rt::spawn({
        let b = b.clone();
        async move {
            let mut small = [0; 3];
            let got = b.peek_from(&mut small).await.unwrap();
            (got, small)
        }
    });
    yields(4).await;
    a.send_to(b"first", b_addr).await.unwrap();
    a.send_to(b"second", b_addr).await.unwrap();
    let ((n, from), small) = peeker.await.unwrap();
    // Cut to the buffer, as a receive would be, but the datagram stays.
    assert_eq!((n, from, &small), (3, a_addr, b"fir"));
    let mut buf = [0; 16];
    let (n, from) = b.peek_from(&mut buf).await.unwrap();
    assert_eq!((&buf[..n], from), (&b"first"[..], a_addr), "a second peek sees it whole");
    let (n, _) = b.recv_from(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"first", "the receive takes the datagram that was peeked");
    let (n, _) = b.recv_from(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"second");
    would_block(b.try_recv_from(&mut buf));
}

async fn try_recv_would_block_and_a_waiting_recv_still_wakes() {
    let (a, _) = bind().await;
    let (b, b_addr) = bind().await;
    let b = Arc::new(b);
    let mut buf = [0; 16];
    would_block(b.try_recv_from(&mut buf));
    would_block(b.try_recv(&mut buf));
    // Latch readiness, then take the datagram without a wait: the latch
    // now holds readiness for a queue that is empty again.
    a.send_to(b"warm", b_addr).await.unwrap();
    b.readable().await.unwrap();
    assert_eq!(b.try_recv(&mut buf).unwrap(), 4);
    would_block(b.try_recv_from(&mut buf));
    let waiter = spindle_rt::spawn({
        let b = b.clone();
        async move {
            let mut buf = [0; 16];
            let (n, _) = b.recv_from(&mut buf).await.unwrap();
            buf[..n].to_vec()
        }
    });
    yields(4).await;
    assert!(!waiter.is_finished(), "nothing was sent yet");
    // A try_* call while a task waits must not take that task's place.
    would_block(b.try_recv_from(&mut buf));
    would_block(b.try_recv(&mut buf));
    a.send_to(b"late", b_addr).await.unwrap();
    assert_eq!(waiter.await.unwrap(), b"late");
}

async fn readable_then_try_recv_sleeps_after_would_block() {
    let (a, _) = bind().await;
    let (b, b_addr) = bind().await;
    let b = Arc::new(b);
    a.send_to(b"warm", b_addr).await.unwrap();
    b.readable().await.unwrap();
    assert_eq!(b.try_recv_from(&mut [0; 16]).unwrap().0, 4);
    // The latch holds stale readiness now. The loop's first try_recv_from
    // says WouldBlock and must clear it; if it did not, readable would
    // return at once every time and the loop would spin until "late".
    let receiver = spindle_rt::spawn({
        let b = b.clone();
        async move {
            let mut would_blocks = 0;
            let mut buf = [0; 16];
            loop {
                b.readable().await.unwrap();
                match b.try_recv_from(&mut buf) {
                    Ok((n, _)) => return (buf[..n].to_vec(), would_blocks),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => would_blocks += 1,
                    Err(e) => panic!("{e}"),
                }
            }
        }
    });
    yields(20).await;
    a.send_to(b"late", b_addr).await.unwrap();
    let (got, would_blocks) = receiver.await.unwrap();
    assert_eq!(got, b"late");
    assert!(would_blocks <= 2, "the loop spun: {would_blocks} WouldBlocks before the datagram");
}

async fn try_send_and_try_send_to_deliver() {
    let (a, a_addr) = bind().await;
    let (b, b_addr) = bind().await;
    // A fresh socket's buffer has room: no wait is needed first.
    assert_eq!(a.try_send_to(b"to", b_addr).unwrap(), 2);
    // An error that is not WouldBlock comes through as it is.
    let e = a.try_send(b"nowhere").unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EDESTADDRREQ), "{e}");
    a.connect(b_addr).await.unwrap();
    a.writable().await.unwrap();
    assert_eq!(a.try_send(b"connected").unwrap(), 9);
    let mut buf = [0; 16];
    let (n, from) = b.recv_from(&mut buf).await.unwrap();
    assert_eq!((&buf[..n], from), (&b"to"[..], a_addr));
    let (n, from) = b.recv_from(&mut buf).await.unwrap();
    assert_eq!((&buf[..n], from), (&b"connected"[..], a_addr));
}

async fn ttl_and_multicast_options_round_trip() {
    let (a, _) = bind().await;
    assert_eq!(a.ttl().unwrap(), 64, "Linux's default");
    a.set_ttl(42).unwrap();
    assert_eq!(a.ttl().unwrap(), 42);
    let e = a.set_ttl(0).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{e}");
    assert_eq!(a.ttl().unwrap(), 42, "a refused value changes nothing");
    assert_eq!(a.multicast_ttl_v4().unwrap(), 1);
    a.set_multicast_ttl_v4(5).unwrap();
    assert_eq!(a.multicast_ttl_v4().unwrap(), 5);
    assert!(a.multicast_loop_v4().unwrap());
    a.set_multicast_loop_v4(false).unwrap();
    assert!(!a.multicast_loop_v4().unwrap());
    let v6 = UdpSocket::bind("[::1]:0").await.unwrap();
    assert!(v6.multicast_loop_v6().unwrap());
    v6.set_multicast_loop_v6(false).unwrap();
    assert!(!v6.multicast_loop_v6().unwrap());
}

/// An admin-scoped group (239/8), not used by anything on the host.
const GROUP_V4: Ipv4Addr = Ipv4Addr::new(239, 255, 77, 1);

async fn multicast_v4_join_and_leave() {
    let (a, _) = bind().await;
    // Not a group: the kernel's EINVAL, as InvalidInput.
    let e = a.join_multicast_v4(Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{e}");
    match a.join_multicast_v4(GROUP_V4, Ipv4Addr::LOCALHOST) {
        Ok(()) => {
            // The membership is the kernel's: a second join and a second
            // leave are refused by it.
            let e = a.join_multicast_v4(GROUP_V4, Ipv4Addr::LOCALHOST).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::AddrInUse, "{e}");
            a.leave_multicast_v4(GROUP_V4, Ipv4Addr::LOCALHOST).unwrap();
            let e = a.leave_multicast_v4(GROUP_V4, Ipv4Addr::LOCALHOST).unwrap_err();
            assert_eq!(e.raw_os_error(), Some(libc::EADDRNOTAVAIL), "{e}");
        }
        Err(e) => {
            // A sandbox may refuse multicast on loopback; the refusal must
            // come through as the kernel's own error.
            eprintln!("join_multicast_v4 on loopback refused: {e}");
            let code = e.raw_os_error().unwrap_or_else(|| panic!("not an OS error: {e:?}"));
            assert!([libc::ENODEV, libc::EADDRNOTAVAIL, libc::ENOBUFS, libc::EPERM].contains(&code), "{e}");
        }
    }
}

async fn multicast_v6_join_and_leave() {
    let group: Ipv6Addr = "ff12::7a:1".parse().unwrap();
    // Loopback's interface index, read without unsafe code.
    let lo: u32 = std::fs::read_to_string("/sys/class/net/lo/ifindex")
        .map_or(1, |s| s.trim().parse().expect("an interface index"));
    let v6 = UdpSocket::bind("[::1]:0").await.unwrap();
    let e = v6.join_multicast_v6(&Ipv6Addr::LOCALHOST, lo).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "not a group: {e}");
    match v6.join_multicast_v6(&group, lo) {
        Ok(()) => {
            v6.leave_multicast_v6(&group, lo).unwrap();
            let e = v6.leave_multicast_v6(&group, lo).unwrap_err();
            assert_eq!(e.raw_os_error(), Some(libc::EADDRNOTAVAIL), "{e}");
        }
        Err(e) => {
            eprintln!("join_multicast_v6 on loopback refused: {e}");
            let code = e.raw_os_error().unwrap_or_else(|| panic!("not an OS error: {e:?}"));
            assert!([libc::ENODEV, libc::EADDRNOTAVAIL, libc::ENOBUFS, libc::EPERM].contains(&code), "{e}");
        }
    }
    // An IPv6 option on an IPv4 socket is the kernel's error, passed on.
    let (v4, _) = bind().await;
    let e = v4.join_multicast_v6(&group, lo).unwrap_err();
    assert!(e.raw_os_error().is_some(), "{e:?}");
}

async fn take_error_takes_the_icmp_error() {
    let (a, _) = bind().await;
    let closed = bind().await.1; // dropped: nothing listens there
    a.connect(closed).await.unwrap();
    a.send(b"anyone?").await.unwrap();
    // The ICMP "port unreachable" wakes a reader; take it without a read.
    a.readable().await.unwrap();
    let e = a.take_error().unwrap().expect("a pending error");
    assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
    assert!(a.take_error().unwrap().is_none(), "taking it cleared it");
    would_block(a.try_recv(&mut [0; 8]));
}

async fn from_std_and_into_std_keep_the_socket() {
    let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = std_socket.local_addr().unwrap();
    let a = UdpSocket::from_std(std_socket).unwrap();
    assert_eq!(a.local_addr().unwrap(), addr);
    let (b, b_addr) = bind().await;
    b.send_to(b"adopted", addr).await.unwrap();
    let mut buf = [0; 16];
    let (n, from) = a.recv_from(&mut buf).await.unwrap();
    assert_eq!((&buf[..n], from), (&b"adopted"[..], b_addr));
    // Out again: still bound, still non-blocking, and a datagram sent
    // meanwhile waits in the kernel's queue for the std socket.
    let std_socket = a.into_std().unwrap();
    assert_eq!(std_socket.local_addr().unwrap(), addr);
    assert_eq!(std_socket.recv_from(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    b.send_to(b"queued", addr).await.unwrap();
    std_socket.set_nonblocking(false).unwrap();
    std_socket.set_read_timeout(Some(dgram_support::LIMIT)).unwrap();
    let (n, from) = std_socket.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&b"queued"[..], b_addr));
}

/// Four tasks wait in `recv_from` on one `Arc<UdpSocket>`; datagrams sent
/// one at a time must reach all four. With one waker slot per direction
/// only the last task to park would be stored, and the second datagram
/// would wake nobody.
async fn tasks_sharing_a_socket_each_receive() {
    const TASKS: usize = 4;
    let (server, server_addr) = bind().await;
    let server = Arc::new(server);
    let (client, _) = bind().await;
    let parked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (done_tx, mut done_rx) = spindle_rt::sync::mpsc::channel(TASKS);
    for i in 0..TASKS {
        let (server, parked, done_tx) = (Arc::clone(&server), Arc::clone(&parked), done_tx.clone());
        spindle_rt::spawn(async move {
            let mut buf = [0; 16];
            parked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let (n, _) = server.recv_from(&mut buf).await.unwrap();
            done_tx.send((i, buf[..n].to_vec())).await.unwrap();
        });
    }
    // Let every receiver reach its wait before the first datagram.
    while parked.load(std::sync::atomic::Ordering::SeqCst) < TASKS {
        yields(1).await;
    }
    yields(50).await;
    let mut got = Vec::new();
    for k in 0..TASKS {
        client.send_to(&[k as u8], server_addr).await.unwrap();
        got.push(done_rx.recv().await.expect("a receiver got the datagram"));
    }
    let mut tasks: Vec<usize> = got.iter().map(|(i, _)| *i).collect();
    tasks.sort();
    assert_eq!(tasks, (0..TASKS).collect::<Vec<_>>(), "each task received one");
    let mut payloads: Vec<u8> = got.iter().map(|(_, p)| p[0]).collect();
    payloads.sort();
    assert_eq!(payloads, (0..TASKS as u8).collect::<Vec<_>>());
}
