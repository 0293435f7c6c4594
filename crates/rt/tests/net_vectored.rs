//! Gathered writes (`write_vectored`, `sendmsg` with `MSG_NOSIGNAL`):
//! order across buffers, empty buffers, partial writes that end inside a
//! buffer, more buffers than one call passes, and the split write halves.
//! Every test runs on every backend, bounded by a timeout.

mod net_support;

use futures::future::join;
use net_support::run;
use spindle_rt::net::{TcpListener, TcpStream};
use spindle_rt::runtime::Backend;
use spindle_rt::spawn_local;
use std::io::IoSlice;

on_backends!(
    a_small_gather_goes_whole_and_in_order,
    empty_buffers_are_skipped,
    large_gathers_write_partially_and_resume,
    more_buffers_than_one_call_takes,
    write_halves_gather_too,
);

/// A connected pair: (client, server side).
async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

async fn read_exact(s: &mut TcpStream, len: usize) -> Vec<u8> {
    let mut out = vec![0; len];
    let mut got = 0;
    while got < len {
        match s.read(&mut out[got..]).await.unwrap() {
            0 => panic!("end of stream after {got} of {len} bytes"),
            n => got += n,
        }
    }
    out
}

async fn read_to_end(mut s: TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        match s.read(&mut buf).await.unwrap() {
            0 => return out,
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Writes all of `bufs` with gathered writes, advancing past what each
/// call took; returns how many calls stopped inside the data.
async fn write_all_vectored(s: &mut TcpStream, bufs: &mut [IoSlice<'_>]) -> usize {
    let mut partial = 0;
    let mut bufs = bufs;
    let mut left: usize = bufs.iter().map(|b| b.len()).sum();
    while left > 0 {
        let n = s.write_vectored(bufs).await.unwrap();
        assert!(n > 0);
        partial += usize::from(n < left);
        left -= n;
        IoSlice::advance_slices(&mut bufs, n);
    }
    partial
}

fn a_small_gather_goes_whole_and_in_order(backend: Backend) {
    run(backend, async {
        let (mut client, mut server) = pair().await;
        let head = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n";
        let bufs = [IoSlice::new(head), IoSlice::new(b"hello")];
        let n = client.write_vectored(&bufs).await.unwrap();
        assert_eq!(n, head.len() + 5);
        let got = read_exact(&mut server, n).await;
        assert_eq!(&got[..head.len()], head);
        assert_eq!(&got[head.len()..], b"hello");
    });
}

fn empty_buffers_are_skipped(backend: Backend) {
    run(backend, async {
        let (mut client, mut server) = pair().await;
        assert_eq!(client.write_vectored(&[]).await.unwrap(), 0);
        assert_eq!(client.write_vectored(&[IoSlice::new(b""), IoSlice::new(b"")]).await.unwrap(), 0);
        let bufs = [IoSlice::new(b""), IoSlice::new(b"a"), IoSlice::new(b""), IoSlice::new(b"bc")];
        assert_eq!(client.write_vectored(&bufs).await.unwrap(), 3);
        assert_eq!(read_exact(&mut server, 3).await, b"abc");
    });
}

fn large_gathers_write_partially_and_resume(backend: Backend) {
    // 16 buffers of 512 KiB: far more than the socket buffer, so calls
    // stop part-way (inside a buffer, mostly) while the peer drains.
    const PART: usize = 512 * 1024;
    let parts: Vec<Vec<u8>> = (0..16u8).map(|i| vec![i; PART]).collect();
    let expected: Vec<u8> = parts.concat();
    run(backend, async move {
        let (mut client, server) = pair().await;
        let reader = spawn_local(read_to_end(server));
        let mut bufs: Vec<IoSlice<'_>> = parts.iter().map(|p| IoSlice::new(p)).collect();
        let partial = write_all_vectored(&mut client, &mut bufs).await;
        assert!(partial > 0, "a 8 MiB gather went out in one call");
        drop(client);
        let got = reader.await.unwrap();
        assert!(got == expected, "the peer received other bytes");
    });
}

fn more_buffers_than_one_call_takes(backend: Backend) {
    // 3000 buffers: one sendmsg passes at most 1024 of them.
    let parts: Vec<[u8; 3]> = (0..3000u32).map(|i| [(i >> 8) as u8, i as u8, 0xAA]).collect();
    let expected: Vec<u8> = parts.concat();
    run(backend, async move {
        let (mut client, server) = pair().await;
        let reader = spawn_local(read_to_end(server));
        let mut bufs: Vec<IoSlice<'_>> = parts.iter().map(|p| IoSlice::new(p)).collect();
        let mut slices = &mut bufs[..];
        let first = client.write_vectored(slices).await.unwrap();
        assert!(first > 0 && first <= 1024 * 3, "one call took {first} bytes");
        IoSlice::advance_slices(&mut slices, first);
        write_all_vectored(&mut client, slices).await;
        drop(client);
        assert!(reader.await.unwrap() == expected);
    });
}

fn write_halves_gather_too(backend: Backend) {
    run(backend, async {
        let (mut client, server) = pair().await;
        let (mut rd, mut wr) = client.split();
        let n = wr.write_vectored(&[IoSlice::new(b"x"), IoSlice::new(b"yz")]).await.unwrap();
        assert_eq!(n, 3);
        wr.shutdown().await.unwrap();
        let (echoed, ()) = join(
            async {
                let mut buf = [0; 8];
                rd.read(&mut buf).await.unwrap()
            },
            async {
                let (mut srd, mut swr) = server.into_split();
                let mut buf = [0; 3];
                let mut got = 0;
                while got < 3 {
                    got += srd.read(&mut buf[got..]).await.unwrap();
                }
                assert_eq!(&buf, b"xyz");
                swr.write_vectored(&[IoSlice::new(b"ok")]).await.unwrap();
            },
        )
        .await;
        assert_eq!(echoed, 2);
    });
}
