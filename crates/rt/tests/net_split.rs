//! Split streams: borrowed halves waiting at once in one task, owned
//! halves in two tasks moving data both ways, shutdown on dropping the
//! write half, `forget`, `reunite`, and the futures-io traits on the
//! halves. Every test runs on every backend, bounded by a timeout.

mod net_support;

use futures::future::join;
use futures::io::AsyncWriteExt;
use net_support::{run, LIMIT};
use spindle_rt::net::{OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpStream};
use spindle_rt::runtime::Backend;
use spindle_rt::spawn_local;
use spindle_rt::time::timeout;
use std::io;
use std::time::Duration;

on_backends!(
    borrowed_halves_read_and_write_at_once,
    owned_halves_move_data_both_ways_in_two_tasks,
    dropping_the_owned_write_half_shuts_down_writing,
    forget_keeps_the_write_side_open,
    reunite_gives_the_stream_back,
    reunite_refuses_halves_of_two_streams,
    reunite_from_the_write_half_gives_the_stream_back_without_shutting_down,
    owned_halves_echo_through_futures_io_copy,
    aborting_the_reader_task_leaves_the_writer_working,
);

/// A connected pair: (client, server side).
async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

async fn read_to_end(rd: &mut OwnedReadHalf) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0; 32 * 1024];
    loop {
        match rd.read(&mut buf).await? {
            0 => return Ok(out),
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Writes `SIZE` bytes of `pattern(_, seed)` through one borrowed half
/// while reading to end of stream through the other; returns what it read.
async fn both_ways(s: &mut TcpStream, size: usize, seed: u8) -> Vec<u8> {
    let data = pattern(size, seed);
    let (mut rd, mut wr) = s.split();
    let write = async {
        wr.write_all(&data).await.unwrap();
        wr.shutdown().await.unwrap();
    };
    let read = async {
        let mut got = Vec::new();
        let mut buf = vec![0; 64 * 1024];
        loop {
            match rd.read(&mut buf).await.unwrap() {
                0 => break got,
                n => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    join(write, read).await.1
}

fn borrowed_halves_read_and_write_at_once(backend: Backend) {
    // Both sides write far more than the socket buffers hold before
    // reading anything: only a reader and a writer waiting at the same
    // time on each stream can finish this.
    const SIZE: usize = 2 << 20;
    run(backend, async {
        let (mut a, mut b) = pair().await;
        let (from_b, from_a) = join(both_ways(&mut a, SIZE, 1), both_ways(&mut b, SIZE, 2)).await;
        assert!(from_b == pattern(SIZE, 2), "a received other bytes");
        assert!(from_a == pattern(SIZE, 1), "b received other bytes");
    });
}

fn owned_halves_move_data_both_ways_in_two_tasks(backend: Backend) {
    const SIZE: usize = 2 << 20;
    run(backend, async {
        let (a, b) = pair().await;
        let mut tasks = Vec::new();
        for (s, seed) in [(a, 1u8), (b, 2u8)] {
            let (mut rd, mut wr) = s.into_split();
            tasks.push(spawn_local(async move {
                wr.write_all(&pattern(SIZE, seed)).await.unwrap();
                // Dropping `wr` shuts down the write side: the peer's
                // reader sees end of stream.
                Vec::new()
            }));
            tasks.push(spawn_local(async move { read_to_end(&mut rd).await.unwrap() }));
        }
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.unwrap());
        }
        assert!(results[1] == pattern(SIZE, 2), "a's reader received other bytes");
        assert!(results[3] == pattern(SIZE, 1), "b's reader received other bytes");
    });
}

fn dropping_the_owned_write_half_shuts_down_writing(backend: Backend) {
    run(backend, async {
        let (client, mut server) = pair().await;
        let (mut rd, mut wr) = client.into_split();
        wr.write_all(b"last words").await.unwrap();
        drop(wr);
        let mut got = Vec::new();
        let mut buf = [0; 64];
        loop {
            match server.read(&mut buf).await.unwrap() {
                0 => break,
                n => got.extend_from_slice(&buf[..n]),
            }
        }
        assert_eq!(got, b"last words");
        // Only writing ended: the read half still receives.
        server.write_all(b"reply").await.unwrap();
        drop(server);
        assert_eq!(read_to_end(&mut rd).await.unwrap(), b"reply");
    });
}

fn forget_keeps_the_write_side_open(backend: Backend) {
    run(backend, async {
        let (client, mut server) = pair().await;
        let (rd, wr) = client.into_split();
        wr.forget();
        // No end of stream arrives while the read half lives (a bounded
        // wait for something that must not happen).
        let quiet = timeout(Duration::from_millis(100), server.read(&mut [0; 8])).await;
        assert!(quiet.is_err(), "the peer saw {quiet:?} after forget");
        drop(rd);
        assert_eq!(timeout(LIMIT, server.read(&mut [0; 8])).await.unwrap().unwrap(), 0);
    });
}

fn reunite_gives_the_stream_back(backend: Backend) {
    run(backend, async {
        let (client, mut server) = pair().await;
        let (rd, wr) = client.into_split();
        let peer = rd.as_ref().peer_addr().unwrap();
        assert_eq!(wr.as_ref().peer_addr().unwrap(), peer);
        let mut client = rd.reunite(wr).unwrap();
        assert_eq!(client.peer_addr().unwrap(), peer);
        // Reuniting did not shut anything down.
        client.write_all(b"whole").await.unwrap();
        let mut buf = [0; 5];
        let mut n = 0;
        while n < 5 {
            n += server.read(&mut buf[n..]).await.unwrap();
        }
        assert_eq!(&buf, b"whole");
        server.write_all(b"again").await.unwrap();
        let mut n = 0;
        while n < 5 {
            n += client.read(&mut buf[n..]).await.unwrap();
        }
        assert_eq!(&buf, b"again");
    });
}

fn reunite_refuses_halves_of_two_streams(backend: Backend) {
    run(backend, async {
        let (a, _a_peer) = pair().await;
        let (b, _b_peer) = pair().await;
        let (a_rd, a_wr) = a.into_split();
        let (b_rd, b_wr) = b.into_split();
        let err = a_rd.reunite(b_wr).unwrap_err();
        assert_eq!(err.to_string(), "tried to reunite halves that are not from the same stream");
        let (a_rd, b_wr): (OwnedReadHalf, OwnedWriteHalf) = (err.0, err.1);
        // Both came back intact, and pair up with their own.
        a_rd.reunite(a_wr).unwrap();
        b_rd.reunite(b_wr).unwrap();
    });
}

fn reunite_from_the_write_half_gives_the_stream_back_without_shutting_down(backend: Backend) {
    run(backend, async {
        let (client, mut server) = pair().await;
        let (other, _other_peer) = pair().await;
        let (rd, wr) = client.into_split();
        let (other_rd, other_wr) = other.into_split();
        // Mismatched halves come back, read half first, as from the read
        // half's reunite.
        let err = wr.reunite(other_rd).unwrap_err();
        let (other_rd, wr): (OwnedReadHalf, OwnedWriteHalf) = (err.0, err.1);
        other_wr.reunite(other_rd).unwrap();
        let mut client = wr.reunite(rd).unwrap();
        // The write side is still open: the server reads the bytes and no
        // end of stream before them.
        client.write_all(b"still").await.unwrap();
        let mut buf = [0; 5];
        let mut n = 0;
        while n < 5 {
            let got = timeout(LIMIT, server.read(&mut buf[n..])).await.expect("read in time").unwrap();
            assert_ne!(got, 0, "reunite shut the write side down");
            n += got;
        }
        assert_eq!(&buf, b"still");
    });
}

fn owned_halves_echo_through_futures_io_copy(backend: Backend) {
    run(backend, async {
        let (mut client, server) = pair().await;
        let echo = spawn_local(async move {
            let (mut rd, mut wr) = server.into_split();
            let n = futures::io::copy(&mut rd, &mut wr).await.unwrap();
            wr.close().await.unwrap();
            n
        });
        let data = pattern(300_000, 9);
        let (mut rd, mut wr) = client.split();
        let write = async {
            AsyncWriteExt::write_all(&mut wr, &data).await.unwrap();
            AsyncWriteExt::close(&mut wr).await.unwrap();
        };
        let read = async {
            let mut back = Vec::new();
            futures::io::AsyncReadExt::read_to_end(&mut rd, &mut back).await.unwrap();
            back
        };
        let ((), back) = join(write, read).await;
        assert!(back == data);
        assert_eq!(echo.await.unwrap(), data.len() as u64);
    });
}

fn aborting_the_reader_task_leaves_the_writer_working(backend: Backend) {
    run(backend, async {
        let (client, mut server) = pair().await;
        let (mut rd, mut wr) = client.into_split();
        let reader = spawn_local(async move { rd.read(&mut [0; 8]).await });
        spindle_rt::yield_now().await;
        reader.abort();
        assert!(reader.await.is_err(), "the reader was cancelled");
        // The stream lives on in the write half.
        wr.write_all(b"still here").await.unwrap();
        drop(wr);
        let mut got = Vec::new();
        let mut buf = [0; 32];
        loop {
            match server.read(&mut buf).await.unwrap() {
                0 => break,
                n => got.extend_from_slice(&buf[..n]),
            }
        }
        assert_eq!(got, b"still here");
    });
}
