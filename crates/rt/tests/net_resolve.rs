//! Host names in `TcpStream::connect` and `lookup_host`, resolved on the
//! blocking pool, on both runtimes. `localhost` is in `/etc/hosts` on any
//! machine that runs these tests, so no DNS server is asked.

mod rt_support;

use rt_support::{both, bounded};
use spindle_rt::net::{lookup_host, TcpListener, TcpStream};
use spindle_rt::time::timeout;
use std::io;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

#[test]
fn connect_resolves_a_host_name_on_both_runtimes() {
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
                let port = listener.local_addr().expect("addr").port();
                let accept = spindle_rt::spawn(async move { listener.accept().await.map(|(_, peer)| peer) });
                let by_name = format!("localhost:{port}");
                let stream = timeout(WAIT, TcpStream::connect(by_name.as_str())).await.expect("in time");
                let stream = stream.unwrap_or_else(|e| panic!("{name}: connect to {by_name}: {e}"));
                let peer = accept.await.expect("accept task").expect("accepted");
                assert_eq!(stream.local_addr().expect("local"), peer, "{name}");
                // The other forms: (name, port) and an owned String.
                let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
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
                let found = lookup_host("localhost:6379").await.expect("lookup");
                assert!(!found.is_empty(), "{name}: no address for localhost");
                assert!(found.iter().all(|a| a.ip().is_loopback() && a.port() == 6379), "{name}: {found:?}");
                let literal = lookup_host("[::1]:80").await.expect("literal");
                assert_eq!(literal, vec!["[::1]:80".parse().unwrap()], "{name}");
            });
        }
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
