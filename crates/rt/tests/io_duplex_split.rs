//! `spindle_rt::io::duplex` (the in-memory socket pair: bound,
//! end of stream, broken pipe, across threads), `io::split` (two halves of
//! any stream, working at once) and `AsyncSeekExt` on a file.

mod rt_support;

use rt_support::{bounded, mt, TempDir};
use spindle_rt::io::{self, AsyncReadExt, AsyncSeekExt, AsyncWriteExt, SeekFrom};
use spindle_rt::net::{TcpListener, TcpStream};
use spindle_rt::time::timeout;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(8);

#[test]
fn duplex_carries_bytes_both_ways_and_ends_on_shutdown() {
    bounded(|| {
        rt_support::rt().block_on(async {
            let (mut a, mut b) = io::duplex(16);
            a.write_all(b"ping").await.unwrap();
            b.write_all(b"pong").await.unwrap();
            let mut four = [0; 4];
            b.read_exact(&mut four).await.unwrap();
            assert_eq!(&four, b"ping");
            a.read_exact(&mut four).await.unwrap();
            assert_eq!(&four, b"pong");

            a.write_all(b"bye").await.unwrap();
            a.shutdown().await.unwrap();
            let err = a.write_all(b"more").await.expect_err("written after shutdown");
            assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
            let mut rest = Vec::new();
            b.read_to_end(&mut rest).await.unwrap();
            assert_eq!(rest, b"bye", "the buffered bytes, then the end");
            // The other way is still open.
            b.write_all(b"still").await.unwrap();
            let mut five = [0; 5];
            a.read_exact(&mut five).await.unwrap();
            assert_eq!(&five, b"still");
        });
    });
}

/// A writer more than `max_buf_size` ahead waits for the reader; the
/// reader, run by another task, lets it through in bounded pieces.
#[test]
fn duplex_bounds_what_is_in_flight_and_works_across_threads() {
    bounded(|| {
        mt(2).block_on(async {
            let (mut a, mut b) = io::duplex(100);
            let data: Vec<u8> = (0..50_000u32).map(|i| (i % 241) as u8).collect();
            let send = data.clone();
            let writer = spindle_rt::spawn(async move {
                a.write_all(&send).await.unwrap();
                a
            });
            let mut first = [0; 1000];
            let n = timeout(LIMIT, b.read(&mut first)).await.unwrap().unwrap();
            assert!(n <= 100, "at most max_buf_size bytes in flight, got {n}");
            let mut got = first[..n].to_vec();
            let mut rest = vec![0; data.len() - n];
            timeout(LIMIT, b.read_exact(&mut rest)).await.unwrap().unwrap();
            got.extend_from_slice(&rest);
            assert_eq!(got, data);
            drop(timeout(LIMIT, writer).await.unwrap().unwrap());
            assert_eq!(b.read(&mut first).await.unwrap(), 0, "the writer dropped");
        });
    });
}

#[test]
fn dropping_one_end_breaks_the_others_writes_even_a_waiting_one() {
    bounded(|| {
        rt_support::rt().block_on(async {
            let (mut a, b) = io::duplex(4);
            a.write_all(b"full").await.unwrap();
            let waiting = spindle_rt::spawn_local(async move { a.write_all(b"more").await });
            spindle_rt::task::yield_now().await;
            drop(b);
            let err = timeout(LIMIT, waiting).await.unwrap().unwrap().expect_err("the reader is gone");
            assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        });
    });
}

#[test]
fn seek_rewind_and_stream_position_on_a_file() {
    let dir = TempDir::new("io-seek");
    let path = dir.0.join("f");
    bounded(move || {
        rt_support::rt().block_on(async {
            std::fs::write(&path, b"0123456789").unwrap();
            let mut f = spindle_rt::fs::File::open(&path).await.unwrap();
            let mut two = [0; 2];
            AsyncReadExt::read_exact(&mut f, &mut two).await.unwrap();
            assert_eq!(f.stream_position().await.unwrap(), 2);
            assert_eq!(AsyncSeekExt::seek(&mut f, SeekFrom::End(-3)).await.unwrap(), 7);
            AsyncReadExt::read_exact(&mut f, &mut two).await.unwrap();
            assert_eq!(&two, b"78");
            f.rewind().await.unwrap();
            assert_eq!(f.read_u16().await.unwrap(), u16::from_be_bytes(*b"01"));
            let err = AsyncSeekExt::seek(&mut f, SeekFrom::Current(-10)).await.expect_err("before the start");
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        });
    });
}

/// Sends `data` through `stream` to an echo at the other end and reads
/// the echo back, the two halves of `io::split` in two tasks at once.
async fn echo_through<S>(stream: S, data: Vec<u8>) -> S
where
    S: io::AsyncRead + io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut rd, mut wr) = io::split(stream);
    assert!(rd.is_pair_of(&wr));
    let send = data.clone();
    let writer = spindle_rt::spawn(async move {
        wr.write_all(&send).await.unwrap();
        wr.shutdown().await.unwrap();
        wr
    });
    let mut back = Vec::new();
    timeout(LIMIT, rd.read_to_end(&mut back)).await.expect("echoed in time").unwrap();
    assert!(back == data, "{} bytes back of {}", back.len(), data.len());
    let wr = writer.await.unwrap();
    rd.unsplit(wr)
}

/// Through a 1 KiB duplex pipe, 1 MiB cannot get through unless the
/// reader drains the echo while the writer writes: the halves must work
/// at once (a half that held the lock across its wait would stall this).
#[test]
fn split_halves_of_a_duplex_stream_read_and_write_at_once() {
    bounded(|| {
        mt(2).block_on(async {
            let (client, server) = io::duplex(1024);
            spindle_rt::spawn(async move {
                let (mut r, mut w) = io::split(server);
                io::copy(&mut r, &mut w).await.unwrap();
                w.shutdown().await.unwrap();
            });
            let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
            let _client: io::DuplexStream = echo_through(client, data).await;
        });
    });
}

/// The same over TCP, with an echo server on the other end.
#[test]
fn split_halves_of_a_tcp_stream_read_and_write_at_once() {
    bounded(|| {
        mt(2).block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            spindle_rt::spawn(async move {
                let (s, _) = listener.accept().await.unwrap();
                let (mut r, mut w) = s.into_split();
                io::copy(&mut r, &mut w).await.unwrap();
                w.shutdown().await.unwrap();
            });
            let stream = TcpStream::connect(addr).await.unwrap();
            let data: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
            let _stream: TcpStream = echo_through(stream, data).await;
        });
    });
}

#[test]
fn unsplit_refuses_halves_of_different_streams() {
    let (a, _) = io::duplex(1);
    let (b, _) = io::duplex(1);
    let (ra, _wa) = io::split(a);
    let (_rb, wb) = io::split(b);
    assert!(!ra.is_pair_of(&wb));
    let err =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ra.unsplit(wb))).expect_err("mismatched");
    assert!(rt_support::panic_message(&*err).contains("not from the same stream"));
}
