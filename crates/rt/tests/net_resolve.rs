//! Host names in `TcpStream::connect`, `TcpListener::bind`,
//! `UdpSocket::bind` and `UdpSocket::connect` (all async, as in tokio) and
//! `lookup_host`, resolved on the blocking pool, on both runtimes. `localhost` is in `/etc/hosts` on any
//! machine that runs these tests, so no DNS server is asked.

mod rt_support;

use rt_support::{both, bounded};
use spindle_rt::net::{lookup_host, TcpListener, TcpStream, UdpSocket};
use spindle_rt::time::timeout;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

#[test]
fn connect_resolves_a_host_name_on_both_runtimes() {
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                let port = listener.local_addr().expect("addr").port();
                let accept = spindle_rt::spawn(async move { listener.accept().await.map(|(_, peer)| peer) });
                let by_name = format!("localhost:{port}");
                let stream = timeout(WAIT, TcpStream::connect(by_name.as_str())).await.expect("in time");
                let stream = stream.unwrap_or_else(|e| panic!("{name}: connect to {by_name}: {e}"));
                let peer = accept.await.expect("accept task").expect("accepted");
                assert_eq!(stream.local_addr().expect("local"), peer, "{name}");
                // The other forms: (name, port) and an owned String.
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                let port = listener.local_addr().expect("addr").port();
                let accept = spindle_rt::spawn(async move {
                    for _ in 0..2 {
                        listener.accept().await?;
                    }
                    Ok::<(), io::Error>(())
                });
                TcpStream::connect(("localhost", port)).await.expect("(name, port)");
                TcpStream::connect(format!("localhost:{port}")).await.expect("String");
                accept.await.expect("accept task").expect("accepted both");
            });
        }
    });
}

#[test]
fn lookup_host_finds_loopback_for_localhost_and_passes_literals_through() {
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                let found: Vec<_> = lookup_host("localhost:6379").await.expect("lookup").collect();
                assert!(!found.is_empty(), "{name}: no address for localhost");
                assert!(found.iter().all(|a| a.ip().is_loopback() && a.port() == 6379), "{name}: {found:?}");
                let literal: Vec<_> = lookup_host("[::1]:80").await.expect("literal").collect();
                assert_eq!(literal, vec!["[::1]:80".parse().unwrap()], "{name}");
            });
        }
    });
}

/// tokio's `lookup_host` gives an iterator, and code written for it takes
/// the first address with `.next()` (it returned a `Vec`, which has no
/// `next`, so that code did not compile).
#[test]
fn lookup_host_gives_an_iterator_as_tokio_does() {
    bounded(|| {
        rt_support::rt().block_on(async {
            let first = lookup_host("127.0.0.1:7").await.expect("literal").next();
            assert_eq!(first, Some("127.0.0.1:7".parse().unwrap()));
            let mut names = lookup_host(("localhost", 7)).await.expect("lookup");
            assert!(names.next().is_some_and(|a| a.ip().is_loopback() && a.port() == 7));
        });
    });
}

#[test]
fn a_malformed_address_is_refused_without_a_lookup() {
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                for bad in ["localhost", "localhost:port", "localhost:70000"] {
                    let err = TcpStream::connect(bad).await.expect_err(bad);
                    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{name}: {bad}: {err}");
                }
            });
        }
    });
}

/// `bind` is async and takes the runtime's `ToSocketAddrs`, as tokio's
/// does: a host name is looked up off the runtime thread, and the socket
/// comes up on one of its loopback addresses. `UdpSocket::connect` too.
#[test]
fn bind_and_udp_connect_resolve_a_host_name() {
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                let listener = timeout(WAIT, TcpListener::bind("localhost:0")).await.expect("in time");
                let listener = listener.unwrap_or_else(|e| panic!("{name}: bind localhost:0: {e}"));
                let addr = listener.local_addr().expect("addr");
                assert!(addr.ip().is_loopback() && addr.port() != 0, "{name}: {addr}");
                let accept = spindle_rt::spawn(async move { listener.accept().await.map(|(_, peer)| peer) });
                let stream = TcpStream::connect(addr).await.expect("connect");
                assert_eq!(accept.await.expect("task").expect("accepted"), stream.local_addr().unwrap());

                let a = UdpSocket::bind(("localhost", 0)).await.expect("udp bind by name");
                let a_addr = a.local_addr().expect("addr");
                assert!(a_addr.ip().is_loopback(), "{name}: {a_addr}");
                let b = UdpSocket::bind(String::from("127.0.0.1:0")).await.expect("udp bind String");
                if a_addr.is_ipv4() {
                    b.connect(format!("localhost:{}", a_addr.port())).await.expect("udp connect by name");
                    b.send(b"hi").await.expect("send");
                    let mut buf = [0; 8];
                    let (n, from) =
                        timeout(WAIT, a.recv_from(&mut buf)).await.expect("in time").expect("recv");
                    assert_eq!((&buf[..n], from), (&b"hi"[..], b.local_addr().unwrap()), "{name}");
                }
            });
        }
    });
}

/// As tokio: each resolved address is tried in turn; the first that binds
/// wins, and when none does the last one's error comes back.
#[test]
fn bind_tries_each_address_and_returns_the_last_error() {
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                let held = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                let taken = held.local_addr().unwrap();
                let free: SocketAddr = "127.0.0.1:0".parse().unwrap();
                let second = TcpListener::bind([taken, free]).await.expect("falls through to the free one");
                assert_ne!(second.local_addr().unwrap(), taken, "{name}");
                // `SO_REUSEADDR` does not let two sockets listen on one
                // port, so `taken` fails with `AddrInUse`.
                let unbindable: SocketAddr = "192.0.2.1:0".parse().unwrap(); // TEST-NET-1: not local
                let err = TcpListener::bind(vec![unbindable, taken]).await.expect_err("both fail");
                assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{name}: the last error: {err}");
                let err = TcpListener::bind(vec![taken, unbindable]).await.expect_err("both fail");
                assert_eq!(err.kind(), io::ErrorKind::AddrNotAvailable, "{name}: the last error: {err}");
                let err = TcpListener::bind(Vec::<SocketAddr>::new()).await.expect_err("nothing to bind");
                assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{name}");

                let u = UdpSocket::bind("127.0.0.1:0").await.expect("udp");
                let u_taken = u.local_addr().unwrap();
                let err = UdpSocket::bind([unbindable, u_taken]).await.expect_err("both fail");
                assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{name}: {err}");
                let ok = UdpSocket::bind([u_taken, free]).await.expect("falls through");
                assert_ne!(ok.local_addr().unwrap(), u_taken, "{name}");
            });
        }
    });
}
