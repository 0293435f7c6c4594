//! Unix-domain streams: listen, connect and echo by path, pairs, the
//! abstract namespace, split halves and the futures-io traits, and bad
//! input (an existing path, a missing one, one with no listener, one too
//! long). Every test runs on every backend, bounded by a timeout.

mod net_support;
mod rt_support;

use futures::future::join;
use futures::io::{AsyncReadExt, AsyncWriteExt};
use net_support::run;
use rt_support::TempDir;
use spindle_rt::net::{UnixListener, UnixStream};
use spindle_rt::runtime::Backend;
use spindle_rt::{spawn_local, yield_now};
use std::ffi::OsStr;
use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

on_backends!(
    echo_over_a_path,
    pair_talks_both_ways,
    abstract_names_need_no_file,
    bind_on_an_existing_path_is_addr_in_use,
    connect_to_a_missing_path_or_no_listener_fails,
    too_long_a_path_is_invalid_input,
    peer_close_while_a_read_waits_reads_zero,
    write_after_the_peer_closed_is_broken_pipe,
    split_halves_and_futures_io,
    owned_halves_in_two_tasks_and_reunite,
    vectored_writes_gather,
);

async fn read_all(s: &mut UnixStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0; 4096];
    loop {
        match s.read(&mut buf).await.unwrap() {
            0 => return got,
            n => got.extend_from_slice(&buf[..n]),
        }
    }
}

fn echo_over_a_path(backend: Backend) {
    let dir = TempDir::new("unix-echo");
    let path = dir.0.join("echo.sock");
    run(backend, async {
        let listener = UnixListener::bind(&path).unwrap();
        assert_eq!(listener.local_addr().unwrap().as_pathname(), Some(path.as_path()));
        let server = spawn_local(async move {
            for _ in 0..3 {
                let (mut s, peer) = listener.accept().await.unwrap();
                assert!(peer.is_unnamed(), "the client did not bind");
                let data = read_all(&mut s).await;
                s.write_all(&data).await.unwrap();
            }
        });
        for i in 0..3u8 {
            let mut c = UnixStream::connect(&path).await.unwrap();
            assert_eq!(c.peer_addr().unwrap().as_pathname(), Some(path.as_path()));
            let msg = vec![i; 50_000];
            c.write_all(&msg).await.unwrap();
            c.shutdown_std(Shutdown::Write).unwrap();
            assert!(read_all(&mut c).await == msg);
        }
        server.await.unwrap();
    });
}

fn pair_talks_both_ways(backend: Backend) {
    run(backend, async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        assert!(a.local_addr().unwrap().is_unnamed());
        a.write_all(b"to b").await.unwrap();
        b.write_all(b"to a").await.unwrap();
        let mut buf = [0; 4];
        let mut n = 0;
        while n < 4 {
            n += b.read(&mut buf[n..]).await.unwrap();
        }
        assert_eq!(&buf, b"to b");
        let mut n = 0;
        while n < 4 {
            n += a.read(&mut buf[n..]).await.unwrap();
        }
        assert_eq!(&buf, b"to a");
    });
}

fn abstract_names_need_no_file(backend: Backend) {
    let name = format!("\0spindle-net-test-{}-{backend:?}", std::process::id());
    let path = Path::new(OsStr::from_bytes(name.as_bytes()));
    run(backend, async {
        let listener = UnixListener::bind(path).unwrap();
        let mut c = UnixStream::connect(path).await.unwrap();
        let (mut s, _) = listener.accept().await.unwrap();
        c.write_all(b"abstract").await.unwrap();
        drop(c);
        assert_eq!(read_all(&mut s).await, b"abstract");
    });
}

fn bind_on_an_existing_path_is_addr_in_use(backend: Backend) {
    let dir = TempDir::new("unix-inuse");
    let path = dir.0.join("taken.sock");
    run(backend, async {
        let first = UnixListener::bind(&path).unwrap();
        let e = UnixListener::bind(&path).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AddrInUse, "{e}");
        // The file outlives its listener, and still blocks the path.
        drop(first);
        let e = UnixListener::bind(&path).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AddrInUse, "{e}");
        // So does any file.
        let plain = dir.0.join("plain");
        std::fs::write(&plain, b"").unwrap();
        assert_eq!(UnixListener::bind(&plain).unwrap_err().kind(), io::ErrorKind::AddrInUse);
    });
}

fn connect_to_a_missing_path_or_no_listener_fails(backend: Backend) {
    let dir = TempDir::new("unix-refused");
    run(backend, async {
        let e = UnixStream::connect(dir.0.join("missing.sock")).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound, "{e}");
        let stale = dir.0.join("stale.sock");
        drop(UnixListener::bind(&stale).unwrap());
        let e = UnixStream::connect(&stale).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
    });
}

fn too_long_a_path_is_invalid_input(backend: Backend) {
    run(backend, async {
        let long = "x".repeat(200);
        assert_eq!(UnixListener::bind(&long).unwrap_err().kind(), io::ErrorKind::InvalidInput);
        assert_eq!(UnixStream::connect(&long).await.unwrap_err().kind(), io::ErrorKind::InvalidInput);
        assert_eq!(UnixListener::bind("").unwrap_err().kind(), io::ErrorKind::InvalidInput);
    });
}

fn peer_close_while_a_read_waits_reads_zero(backend: Backend) {
    run(backend, async {
        let (mut a, b) = UnixStream::pair().unwrap();
        let reader = spawn_local(async move { a.read(&mut [0; 8]).await });
        for _ in 0..4 {
            yield_now().await;
        }
        assert!(!reader.is_finished());
        drop(b);
        assert_eq!(reader.await.unwrap().unwrap(), 0);
    });
}

fn write_after_the_peer_closed_is_broken_pipe(backend: Backend) {
    run(backend, async {
        let (mut a, b) = UnixStream::pair().unwrap();
        drop(b);
        // MSG_NOSIGNAL: an error, not a SIGPIPE.
        assert_eq!(a.write(b"x").await.unwrap_err().kind(), io::ErrorKind::BrokenPipe);
        let e = a.write_vectored(&[IoSlice::new(b"y")]).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
    });
}

fn split_halves_and_futures_io(backend: Backend) {
    const SIZE: usize = 1 << 20;
    run(backend, async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let data = vec![5u8; SIZE];
        // Spelled out: with `AsyncReadExt` in scope, `a.split()` is its by-value `split`.
        let (mut ar, mut aw) = UnixStream::split(&mut a);
        let (mut br, mut bw) = UnixStream::split(&mut b);
        // Both write a lot before reading: needs reader and writer at once.
        let side_a = join(
            async {
                aw.write_all(&data).await.unwrap();
                AsyncWriteExt::close(&mut aw).await.unwrap();
            },
            async {
                let mut got = Vec::new();
                AsyncReadExt::read_to_end(&mut ar, &mut got).await.unwrap();
                got
            },
        );
        let side_b = join(
            async {
                AsyncWriteExt::write_all(&mut bw, &data).await.unwrap();
                bw.shutdown().await.unwrap();
            },
            async {
                let mut got = Vec::new();
                AsyncReadExt::read_to_end(&mut br, &mut got).await.unwrap();
                got
            },
        );
        let ((_, got_a), (_, got_b)) = join(side_a, side_b).await;
        assert!(got_a == data && got_b == data);
        // The whole stream implements the traits too.
        let (mut c, mut d) = UnixStream::pair().unwrap();
        AsyncWriteExt::write_all(&mut c, b"trait").await.unwrap();
        AsyncWriteExt::close(&mut c).await.unwrap();
        let mut got = Vec::new();
        AsyncReadExt::read_to_end(&mut d, &mut got).await.unwrap();
        assert_eq!(got, b"trait");
    });
}

fn owned_halves_in_two_tasks_and_reunite(backend: Backend) {
    run(backend, async {
        let (a, mut b) = UnixStream::pair().unwrap();
        let (mut rd, mut wr) = a.into_split();
        let reader = spawn_local(async move {
            let mut buf = [0; 5];
            let mut n = 0;
            while n < 5 {
                n += rd.read(&mut buf[n..]).await.unwrap();
            }
            assert_eq!(&buf, b"hello");
            rd
        });
        let writer = spawn_local(async move {
            wr.write_all(b"world").await.unwrap();
            wr
        });
        b.write_all(b"hello").await.unwrap();
        let mut buf = [0; 5];
        let mut n = 0;
        while n < 5 {
            n += b.read(&mut buf[n..]).await.unwrap();
        }
        assert_eq!(&buf, b"world");
        let (rd, wr) = (reader.await.unwrap(), writer.await.unwrap());
        let mut a = rd.reunite(wr).unwrap();
        a.write_all(b"!").await.unwrap();
        drop(a);
        assert_eq!(read_all(&mut b).await, b"!");
    });
}

fn vectored_writes_gather(backend: Backend) {
    run(backend, async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let n = a.write_vectored(&[IoSlice::new(b"one "), IoSlice::new(b"two")]).await.unwrap();
        assert_eq!(n, 7);
        drop(a);
        assert_eq!(read_all(&mut b).await, b"one two");
    });
}
