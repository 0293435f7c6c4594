//! `io::copy_bidirectional` as a real TCP proxy: client -> proxy ->
//! upstream on loopback, on both runtimes. A megabyte each way at once
//! through an echo upstream, and a half-close passed through.

mod rt_support;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use rt_support::{both, bounded};
use spindle_rt::net::{TcpListener, TcpStream};
use std::net::{Shutdown, SocketAddr};

/// A proxy that serves one connection to `upstream`; its handle gives the
/// byte counts.
async fn proxy_once(upstream: SocketAddr) -> (SocketAddr, spindle_rt::task::JoinHandle<(u64, u64)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = spindle_rt::spawn(async move {
        let (mut client, _) = listener.accept().await.unwrap();
        let mut server = TcpStream::connect(upstream).await.unwrap();
        spindle_rt::io::copy_bidirectional(&mut client, &mut server).await.unwrap()
    });
    (addr, handle)
}

#[test]
fn a_megabyte_each_way_through_a_proxy_to_an_echo_server() {
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let echo_addr = echo.local_addr().unwrap();
                spindle_rt::spawn(async move {
                    let (s, _) = echo.accept().await.unwrap();
                    let (mut r, mut w) = s.into_split();
                    futures::io::copy(&mut r, &mut w).await.unwrap();
                    w.close().await.unwrap();
                });
                let (proxy, counts) = proxy_once(echo_addr).await;
                let data: Vec<u8> = (0..1_048_576u32).map(|i| (i % 253) as u8).collect();
                let client = TcpStream::connect(proxy).await.unwrap();
                let (mut r, mut w) = client.into_split();
                let sent = data.clone();
                // Writing all before reading would fill every buffer on the
                // way and stall: the two directions must run at once.
                let writer = spindle_rt::spawn(async move {
                    w.write_all(&sent).await.unwrap();
                    w.close().await.unwrap();
                });
                let mut back = Vec::new();
                r.read_to_end(&mut back).await.unwrap();
                writer.await.unwrap();
                assert!(back == data, "{name}: the echo came back changed ({} bytes)", back.len());
                assert_eq!(counts.await.unwrap(), (1_048_576, 1_048_576), "{name}");
            });
        }
    });
}

#[test]
fn a_half_close_passes_through() {
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                // Upstream answers only after it reads end of stream: it
                // sees one only if the proxy passes the client's half-close.
                let upstream = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let up_addr = upstream.local_addr().unwrap();
                spindle_rt::spawn(async move {
                    let (mut s, _) = upstream.accept().await.unwrap();
                    let mut request = Vec::new();
                    s.read_to_end(&mut request).await.unwrap();
                    assert_eq!(request, b"request");
                    s.write_all(b"response").await.unwrap();
                });
                let (proxy, counts) = proxy_once(up_addr).await;
                let mut c = TcpStream::connect(proxy).await.unwrap();
                c.write_all(b"request").await.unwrap();
                c.shutdown_std(Shutdown::Write).unwrap();
                let mut reply = Vec::new();
                c.read_to_end(&mut reply).await.unwrap();
                assert_eq!(reply, b"response", "{name}");
                assert_eq!(counts.await.unwrap(), (7, 8), "{name}");
            });
        }
    });
}

/// tokio's `copy_bidirectional_with_sizes`, for a proxy that wants bigger
/// (or smaller) buffers: with a 1-byte buffer one way and 1 MiB the other,
/// everything arrives in order, and the end of stream passes on.
#[test]
fn copy_bidirectional_with_sizes_moves_everything_with_any_buffer_size() {
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                let (mut client, mut proxy_a) = spindle_rt::net::UnixStream::pair().unwrap();
                let (mut proxy_b, mut server) = spindle_rt::net::UnixStream::pair().unwrap();
                let proxy = spindle_rt::spawn(async move {
                    spindle_rt::io::copy_bidirectional_with_sizes(&mut proxy_a, &mut proxy_b, 1, 1 << 20)
                        .await
                });
                let up: Vec<u8> = (0..5_000u32).map(|i| (i % 251) as u8).collect();
                let down: Vec<u8> = (0..300_000u32).map(|i| (i % 241) as u8).collect();
                let (up2, down2) = (up.clone(), down.clone());
                let server_side = spindle_rt::spawn(async move {
                    server.write_all(&down2).await.unwrap();
                    server.shutdown().await.unwrap();
                    let mut got = Vec::new();
                    server.read_to_end(&mut got).await.unwrap();
                    assert_eq!(got, up2);
                });
                client.write_all(&up).await.unwrap();
                client.shutdown().await.unwrap();
                let mut got = Vec::new();
                client.read_to_end(&mut got).await.unwrap();
                assert!(got == down, "{name}: the downstream bytes differ");
                server_side.await.unwrap();
                assert_eq!(proxy.await.unwrap().unwrap(), (5_000, 300_000), "{name}");
            });
        }
    });
}

/// tokio's `copy_buf`: straight from a `BufReader`'s buffer to a writer,
/// across many refills.
#[test]
fn copy_buf_copies_a_buffered_reader_to_its_end() {
    bounded(|| {
        rt_support::rt().block_on(async {
            let data: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
            let mut reader = spindle_rt::io::BufReader::with_capacity(1000, &data[..]);
            let mut out = Vec::new();
            assert_eq!(spindle_rt::io::copy_buf(&mut reader, &mut out).await.unwrap(), 100_000);
            assert!(out == data);
        });
    });
}
