//! The message-style socket calls: gathered sends, datagrams, receives
//! with flags, socket pairs, shutdown and `SO_LINGER`. Real sockets on
//! loopback; nothing here waits (the sockets are non-blocking, and every
//! receive follows a completed send).

use spindle_poll::socket::{
    bind, datagram_socket, linger, local, recv, recv_from, recv_into_spare, recv_stream, send, send_to,
    send_vectored, set_linger, shutdown, socketpair, SockAddr, MAX_IOV,
};
use std::io::{self, IoSlice};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

fn udp() -> (OwnedFd, SocketAddr) {
    let fd = datagram_socket(libc::AF_INET).unwrap();
    bind(fd.as_raw_fd(), &SockAddr::inet("127.0.0.1:0".parse().unwrap())).unwrap();
    let addr = local(fd.as_raw_fd()).unwrap().to_inet().unwrap();
    (fd, addr)
}

#[test]
fn send_vectored_gathers_in_order() {
    let (a, b) = socketpair().unwrap();
    let n = send_vectored(a.as_raw_fd(), &[IoSlice::new(b"ab"), IoSlice::new(b""), IoSlice::new(b"cde")])
        .unwrap();
    assert_eq!(n, 5);
    let mut buf = [0; 8];
    assert_eq!(recv(b.as_raw_fd(), &mut buf, 0).unwrap(), 5);
    assert_eq!(&buf[..5], b"abcde");
}

#[test]
fn send_vectored_passes_at_most_max_iov_buffers() {
    let (a, b) = socketpair().unwrap();
    let byte = [7u8];
    let bufs: Vec<IoSlice<'_>> = (0..MAX_IOV + 500).map(|_| IoSlice::new(&byte)).collect();
    let n = send_vectored(a.as_raw_fd(), &bufs).unwrap();
    assert!(n > 0 && n <= MAX_IOV, "took {n}");
    let mut buf = vec![0; 4096];
    assert_eq!(recv(b.as_raw_fd(), &mut buf, 0).unwrap(), n);
}

#[test]
fn empty_and_blocked_sends() {
    let (a, _b) = socketpair().unwrap();
    assert_eq!(send_vectored(a.as_raw_fd(), &[]).unwrap(), 0);
    // Fill the buffer: a non-blocking send then says WouldBlock.
    let chunk = vec![0u8; 64 * 1024];
    let e = loop {
        match send(a.as_raw_fd(), &chunk) {
            Ok(_) => {}
            Err(e) => break e,
        }
    };
    assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
    let e = send_vectored(a.as_raw_fd(), &[IoSlice::new(&chunk)]).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
}

#[test]
fn datagrams_carry_their_sender_and_are_cut_to_the_buffer() {
    let (a, a_addr) = udp();
    let (b, b_addr) = udp();
    assert_eq!(send_to(a.as_raw_fd(), b"0123456789", &SockAddr::inet(b_addr)).unwrap(), 10);
    assert_eq!(send_to(a.as_raw_fd(), b"next", &SockAddr::inet(b_addr)).unwrap(), 4);
    let mut small = [0; 4];
    // Peeking leaves the datagram queued.
    assert_eq!(recv(b.as_raw_fd(), &mut small, libc::MSG_PEEK).unwrap(), 4);
    let (n, from) = recv_from(b.as_raw_fd(), &mut small, 0).unwrap();
    assert_eq!((n, &small, from.to_inet().unwrap()), (4, b"0123", a_addr));
    // The cut-off rest is gone: the next receive is the next datagram.
    let mut buf = [0; 16];
    let (n, _) = recv_from(b.as_raw_fd(), &mut buf, 0).unwrap();
    assert_eq!(&buf[..n], b"next");
    let e = recv(b.as_raw_fd(), &mut buf, 0).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
}

#[test]
fn shutdown_each_way() {
    let (a, b) = socketpair().unwrap();
    shutdown(a.as_raw_fd(), Shutdown::Write).unwrap();
    let mut buf = [0; 4];
    assert_eq!(recv(b.as_raw_fd(), &mut buf, 0).unwrap(), 0, "end of stream");
    shutdown(b.as_raw_fd(), Shutdown::Read).unwrap();
    shutdown(b.as_raw_fd(), Shutdown::Both).unwrap();
    let e = send(b.as_raw_fd(), b"x").unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
}

#[test]
fn linger_round_trips() {
    let fd = spindle_poll::socket::socket(libc::AF_INET).unwrap();
    assert_eq!(linger(fd.as_raw_fd()).unwrap(), None);
    set_linger(fd.as_raw_fd(), Some(Duration::ZERO)).unwrap();
    assert_eq!(linger(fd.as_raw_fd()).unwrap(), Some(Duration::ZERO));
    set_linger(fd.as_raw_fd(), Some(Duration::from_millis(1500))).unwrap();
    assert_eq!(linger(fd.as_raw_fd()).unwrap(), Some(Duration::from_secs(1)));
    set_linger(fd.as_raw_fd(), Some(Duration::from_millis(200))).unwrap();
    assert_eq!(
        linger(fd.as_raw_fd()).unwrap(),
        Some(Duration::from_secs(1)),
        "rounded up from under a second"
    );
    set_linger(fd.as_raw_fd(), None).unwrap();
    assert_eq!(linger(fd.as_raw_fd()).unwrap(), None);
}

#[test]
fn recv_stream_reads_a_stream_socket_and_refuses_a_pipe() {
    let (a, b) = socketpair().unwrap();
    let mut buf = [0; 8];
    let e = recv_stream(b.as_raw_fd(), &mut buf).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::WouldBlock, "{e}");
    send(a.as_raw_fd(), b"hello").unwrap();
    assert_eq!(recv_stream(b.as_raw_fd(), &mut buf[..3]).unwrap(), 3);
    assert_eq!(recv_stream(b.as_raw_fd(), &mut buf[3..]).unwrap(), 2);
    assert_eq!(&buf[..5], b"hello");
    drop(a);
    assert_eq!(recv_stream(b.as_raw_fd(), &mut buf).unwrap(), 0, "end of stream");

    // A pipe is not a socket: recv(2) refuses it, so pipes keep `read`.
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors pipe2 writes.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) }, 0);
    // SAFETY: pipe2 succeeded, so both descriptors are open and ours alone.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    spindle_poll::socket::write(w.as_raw_fd(), b"x").unwrap();
    let e = recv_stream(r.as_raw_fd(), &mut buf).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::ENOTSOCK), "{e}");
    assert_eq!(spindle_poll::socket::read(r.as_raw_fd(), &mut buf).unwrap(), 1);
}

#[test]
fn recv_into_spare_appends_at_most_max_and_at_most_the_spare_room() {
    let (a, b) = socketpair().unwrap();
    let mut buf = Vec::with_capacity(4);
    buf.extend_from_slice(b"ab");
    let e = recv_into_spare(b.as_raw_fd(), &mut buf, 100).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::WouldBlock, "{e}");
    assert_eq!(buf, b"ab", "an error leaves the buffer as it was");
    send(a.as_raw_fd(), b"0123456789").unwrap();
    // Two bytes of room, whatever `max` says.
    assert_eq!(recv_into_spare(b.as_raw_fd(), &mut buf, 100).unwrap(), 2);
    assert_eq!(buf, b"ab01");
    buf.reserve(100);
    assert_eq!(recv_into_spare(b.as_raw_fd(), &mut buf, 3).unwrap(), 3, "at most max");
    assert_eq!(recv_into_spare(b.as_raw_fd(), &mut buf, 100).unwrap(), 5, "what is left");
    assert_eq!(buf, b"ab0123456789");
    drop(a);
    assert_eq!(recv_into_spare(b.as_raw_fd(), &mut buf, 100).unwrap(), 0, "end of stream");
    assert_eq!(buf.len(), 12);
}
