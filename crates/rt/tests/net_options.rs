//! Socket options and `TcpSocket`: `SO_REUSEADDR` (the getter, and
//! `TcpListener::bind` rebinding a port that closed connections still
//! hold), `SO_REUSEPORT` (two listeners on one port, both accepting), the
//! listen backlog, binding a client before connecting, `TCP_NODELAY` and
//! `SO_LINGER`, tokio's `SO_KEEPALIVE` and buffer-size setters. Every test runs on every backend, bounded by a timeout.

mod net_support;

use net_support::run;
use spindle_rt::net::{TcpListener, TcpSocket, TcpStream};
use spindle_rt::runtime::Backend;
use spindle_rt::{spawn_local, yield_now};
use std::cell::Cell;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

on_backends!(
    option_getters_follow_the_setters,
    reuseport_lets_two_listeners_share_a_port,
    listener_bind_rebinds_a_port_held_by_closed_connections,
    backlog_holds_unaccepted_connections,
    a_client_bound_before_connect_keeps_its_address,
    ipv6_listen_and_connect_when_available,
    linger_zero_resets_instead_of_closing,
    bad_bind_addresses_fail,
    keepalive_and_buffer_sizes_as_tokio,
);

fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn option_getters_follow_the_setters(backend: Backend) {
    run(backend, async {
        let s = TcpSocket::new_v4().unwrap();
        assert!(!s.reuseaddr().unwrap());
        assert!(!s.reuseport().unwrap());
        assert!(!s.nodelay().unwrap());
        s.set_reuseaddr(true).unwrap();
        s.set_reuseport(true).unwrap();
        s.set_nodelay(true).unwrap();
        assert!(s.reuseaddr().unwrap() && s.reuseport().unwrap() && s.nodelay().unwrap());
        s.set_reuseaddr(false).unwrap();
        s.set_reuseport(false).unwrap();
        s.set_nodelay(false).unwrap();
        assert!(!s.reuseaddr().unwrap() && !s.reuseport().unwrap() && !s.nodelay().unwrap());
    });
}

fn reuseport_listener(addr: SocketAddr) -> io::Result<TcpListener> {
    let s = TcpSocket::new_v4()?;
    s.set_reuseport(true)?;
    s.bind(addr)?;
    s.listen(64)
}

fn reuseport_lets_two_listeners_share_a_port(backend: Backend) {
    const CONNS: usize = 16;
    run(backend, async {
        let first = reuseport_listener(any_port()).unwrap();
        let addr = first.local_addr().unwrap();
        let second = reuseport_listener(addr).unwrap();
        assert_eq!(second.local_addr().unwrap(), addr);
        // Without the option the port is taken.
        let plain = TcpSocket::new_v4().unwrap();
        assert_eq!(plain.bind(addr).unwrap_err().kind(), io::ErrorKind::AddrInUse);
        // Every connection reaches one of the two.
        let accepted = Rc::new(Cell::new(0));
        let mut servers = Vec::new();
        for l in [first, second] {
            let accepted = Rc::clone(&accepted);
            servers.push(spawn_local(async move {
                loop {
                    let (s, _) = l.accept().await.unwrap();
                    drop(s);
                    accepted.set(accepted.get() + 1);
                }
            }));
        }
        let mut clients = Vec::new();
        for _ in 0..CONNS {
            clients.push(TcpStream::connect(addr).await.unwrap());
        }
        while accepted.get() < CONNS {
            yield_now().await;
        }
        for s in servers {
            s.abort();
        }
    });
}

fn listener_bind_rebinds_a_port_held_by_closed_connections(backend: Backend) {
    run(backend, async {
        let listener = TcpListener::bind(any_port()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (conn, _) = listener.accept().await.unwrap();
        // The server side closes first, so its end of the connection (on
        // the listening port) lingers in FIN_WAIT / TIME_WAIT.
        drop(conn);
        assert_eq!(client.read(&mut [0; 4]).await.unwrap(), 0);
        drop(client);
        drop(listener);
        let no_reuse = TcpSocket::new_v4().unwrap();
        let e = no_reuse.bind(addr).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AddrInUse, "without SO_REUSEADDR the port is still held");
        // TcpListener::bind sets SO_REUSEADDR, so a restarted server gets
        // its port back at once.
        let again = TcpListener::bind(addr).await.unwrap();
        assert_eq!(again.local_addr().unwrap(), addr);
    });
}

fn backlog_holds_unaccepted_connections(backend: Backend) {
    const BACKLOG: u32 = 3;
    run(backend, async {
        let s = TcpSocket::new_v4().unwrap();
        s.bind(any_port()).unwrap();
        let listener = s.listen(BACKLOG).unwrap();
        let addr = listener.local_addr().unwrap();
        // The kernel finishes these handshakes with nobody accepting: the
        // backlog holds them.
        let mut clients = Vec::new();
        for _ in 0..BACKLOG {
            clients.push(TcpStream::connect(addr).await.unwrap());
        }
        for c in &clients {
            let (conn, peer) = listener.accept().await.unwrap();
            assert_eq!(peer.ip(), c.local_addr().unwrap().ip());
            drop(conn);
        }
        let mut peers: Vec<_> = clients.iter().map(|c| c.local_addr().unwrap()).collect();
        peers.sort();
        peers.dedup();
        assert_eq!(peers.len(), BACKLOG as usize);
    });
}

fn a_client_bound_before_connect_keeps_its_address(backend: Backend) {
    run(backend, async {
        let listener = TcpListener::bind(any_port()).await.unwrap();
        let client = TcpSocket::new_v4().unwrap();
        client.set_nodelay(true).unwrap();
        client.bind(any_port()).unwrap();
        let local = client.local_addr().unwrap();
        assert_ne!(local.port(), 0);
        let stream = client.connect(listener.local_addr().unwrap()).await.unwrap();
        assert_eq!(stream.local_addr().unwrap(), local);
        assert!(stream.nodelay().unwrap(), "options set before connect stay");
        let (_conn, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, local);
    });
}

fn ipv6_listen_and_connect_when_available(backend: Backend) {
    run(backend, async {
        let Ok(socket) = TcpSocket::new_v6() else { return };
        if socket.bind("[::1]:0".parse().unwrap()).is_err() {
            return; // no IPv6 loopback here
        }
        let listener = socket.listen(16).unwrap();
        let addr = listener.local_addr().unwrap();
        assert!(addr.is_ipv6());
        let mut c = TcpStream::connect(addr).await.unwrap();
        let (mut s, _) = listener.accept().await.unwrap();
        c.write_all(b"v6").await.unwrap();
        let mut buf = [0; 2];
        let mut n = 0;
        while n < 2 {
            n += s.read(&mut buf[n..]).await.unwrap();
        }
        assert_eq!(&buf, b"v6");
    });
}

fn linger_zero_resets_instead_of_closing(backend: Backend) {
    run(backend, async {
        let listener = TcpListener::bind(any_port()).await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (conn, _) = listener.accept().await.unwrap();
        assert_eq!(conn.linger().unwrap(), None);
        conn.set_linger(Some(Duration::ZERO)).unwrap();
        assert_eq!(conn.linger().unwrap(), Some(Duration::ZERO));
        drop(conn);
        let e = client.read(&mut [0; 4]).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionReset);
    });
}

fn bad_bind_addresses_fail(backend: Backend) {
    run(backend, async {
        let v4 = TcpSocket::new_v4().unwrap();
        // An IPv6 address on an IPv4 socket.
        assert!(v4.bind("[::1]:0".parse().unwrap()).is_err());
        // An address this host does not have.
        let e = v4.bind("192.0.2.1:0".parse().unwrap()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AddrNotAvailable, "{e}");
        // A listening port is taken, SO_REUSEADDR or not.
        let listener = TcpListener::bind(any_port()).await.unwrap();
        let e = TcpListener::bind(listener.local_addr().unwrap()).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AddrInUse, "{e}");
    });
}

/// tokio's `TcpSocket::set_keepalive`, `set_send_buffer_size` and
/// `set_recv_buffer_size` (servers size their buffers before `listen` so
/// accepted streams inherit them): the getters follow (Linux reports
/// twice the size asked for, its bookkeeping share), and a stream
/// connected from the socket keeps them.
fn keepalive_and_buffer_sizes_as_tokio(backend: Backend) {
    run(backend, async {
        let s = TcpSocket::new_v4().unwrap();
        assert!(!s.keepalive().unwrap());
        s.set_keepalive(true).unwrap();
        assert!(s.keepalive().unwrap());
        s.set_send_buffer_size(48 * 1024).unwrap();
        s.set_recv_buffer_size(40 * 1024).unwrap();
        assert!(s.send_buffer_size().unwrap() >= 48 * 1024);
        assert!(s.recv_buffer_size().unwrap() >= 40 * 1024);
        let listener = TcpListener::bind(any_port()).await.unwrap();
        let stream = s.connect(listener.local_addr().unwrap()).await.unwrap();
        let sock = stream_options(&stream);
        assert!(sock.0 && sock.1 >= 48 * 1024, "the stream keeps them: {sock:?}");
    });
}

/// `SO_KEEPALIVE` and `SO_SNDBUF` of a connected stream.
fn stream_options(stream: &TcpStream) -> (bool, u32) {
    use rustix::net::sockopt;
    let keepalive = sockopt::socket_keepalive(stream).unwrap();
    let sndbuf = sockopt::socket_send_buffer_size(stream).unwrap();
    (keepalive, u32::try_from(sndbuf).unwrap())
}
