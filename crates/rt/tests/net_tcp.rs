//! Async TCP: echo, many connections in one runtime, large transfers with
//! partial writes, end of stream, refused connects, cancellation and
//! listener drop. Every test runs on epoll (edge-triggered) and on poll
//! and select (the level-triggered fallback). Every wait is bounded: the runtime's
//! `timeout(10s)` inside, a thread with `recv_timeout` around std clients.

use spindle_rt::net::{TcpListener, TcpStream};
use spindle_rt::runtime::{Backend, Builder};
use spindle_rt::time::timeout;
use spindle_rt::{spawn_local, Runtime};
use std::future::Future;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(10);

fn rt(backend: Backend) -> Runtime {
    Builder::new_current_thread().backend(backend).build().expect("runtime")
}

/// Runs `f` to completion on a fresh runtime, failing after [`LIMIT`].
fn run<F: Future>(backend: Backend, f: F) -> F::Output {
    rt(backend).block_on(async { timeout(LIMIT, f).await.expect("test timed out") })
}

/// Runs `f` on a thread, failing the test if it does not finish in time.
fn on_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> mpsc::Receiver<T> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx
}

fn std_connect(addr: SocketAddr) -> std::net::TcpStream {
    let s = std::net::TcpStream::connect(addr).expect("std connect");
    s.set_read_timeout(Some(LIMIT)).unwrap();
    s.set_write_timeout(Some(LIMIT)).unwrap();
    s
}

async fn read_exact(s: &mut TcpStream, mut buf: &mut [u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match s.read(buf).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => buf = &mut buf[n..],
        }
    }
    Ok(())
}

/// Echoes until end of stream.
async fn echo(mut s: TcpStream) -> io::Result<()> {
    let mut buf = vec![0; 16 * 1024];
    loop {
        match s.read(&mut buf).await? {
            0 => return Ok(()),
            n => s.write_all(&buf[..n]).await?,
        }
    }
}

/// Makes one `#[test]` per backend from `fn name(backend: Backend)`.
macro_rules! on_backends {
    ($($name:ident),* $(,)?) => {
        mod epoll {
            $(#[test] fn $name() { super::$name(super::Backend::Epoll) })*
        }
        mod poll {
            $(#[test] fn $name() { super::$name(super::Backend::Poll) })*
        }
        mod select {
            $(#[test] fn $name() { super::$name(super::Backend::Select) })*
        }
    };
}

on_backends!(
    echo_round_trip_with_a_std_client,
    many_connections_echo_in_one_runtime,
    large_transfer_both_ways,
    peer_close_reads_zero,
    connect_to_a_closed_port_is_refused,
    aborting_a_task_waiting_on_a_stream_closes_it,
    dropping_the_runtime_closes_waiting_streams,
    accept_many_then_drop_the_listener,
);

fn echo_round_trip_with_a_std_client(backend: Backend) {
    run(backend, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = on_thread(move || {
            let mut s = std_connect(addr);
            let mut out = Vec::new();
            for msg in [&b"hello"[..], b"world", &[7u8; 3000]] {
                s.write_all(msg).unwrap();
                let mut buf = vec![0; msg.len()];
                s.read_exact(&mut buf).unwrap();
                out.push(buf);
            }
            out
        });
        let (stream, peer) = listener.accept().await.unwrap();
        assert_eq!(stream.peer_addr().unwrap(), peer);
        assert_eq!(stream.local_addr().unwrap(), addr);
        echo(stream).await.unwrap();
        let out = client.recv_timeout(LIMIT).expect("client finished");
        assert_eq!(out, vec![b"hello".to_vec(), b"world".to_vec(), vec![7u8; 3000]]);
    });
}

fn many_connections_echo_in_one_runtime(backend: Backend) {
    const CONNS: usize = 200;
    const MESSAGES: usize = 5;
    run(backend, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn_local(async move {
            let mut conns = Vec::new();
            for _ in 0..CONNS {
                let (s, _) = listener.accept().await.unwrap();
                conns.push(spawn_local(echo(s)));
            }
            for c in conns {
                c.await.unwrap().unwrap();
            }
        });
        let clients: Vec<_> = (0..CONNS)
            .map(|i| {
                spawn_local(async move {
                    let mut s = TcpStream::connect(addr).await.unwrap();
                    s.set_nodelay(true).unwrap();
                    assert!(s.nodelay().unwrap());
                    for m in 0..MESSAGES {
                        let msg = format!("client {i} message {m}");
                        s.write_all(msg.as_bytes()).await.unwrap();
                        let mut buf = vec![0; msg.len()];
                        read_exact(&mut s, &mut buf).await.unwrap();
                        assert_eq!(buf, msg.as_bytes());
                    }
                    s.shutdown_std(Shutdown::Write).unwrap();
                    assert_eq!(s.read(&mut [0; 8]).await.unwrap(), 0);
                })
            })
            .collect();
        for c in clients {
            c.await.unwrap();
        }
        server.await.unwrap();
    });
}

fn large_transfer_both_ways(backend: Backend) {
    const SIZE: usize = 8 << 20;
    let data: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8).collect();
    run(backend, async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let expected = data.clone();
        // The server takes everything, then sends it all back.
        let server = spawn_local(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut got = Vec::with_capacity(SIZE);
            let mut buf = vec![0; 64 * 1024];
            loop {
                match s.read(&mut buf).await.unwrap() {
                    0 => break,
                    n => got.extend_from_slice(&buf[..n]),
                }
            }
            assert!(got == expected, "server received other bytes");
            let mut partial = 0;
            let mut rest = &got[..];
            while !rest.is_empty() {
                let n = s.write(rest).await.unwrap();
                partial += usize::from(n < rest.len());
                rest = &rest[n..];
            }
            partial
        });
        let mut s = TcpStream::connect(addr).await.unwrap();
        let mut partial = 0;
        let mut rest = &data[..];
        while !rest.is_empty() {
            let n = s.write(rest).await.unwrap();
            assert!(n > 0);
            partial += usize::from(n < rest.len());
            rest = &rest[n..];
        }
        s.shutdown_std(Shutdown::Write).unwrap();
        let mut back = Vec::with_capacity(SIZE);
        let mut buf = vec![0; 64 * 1024];
        loop {
            match s.read(&mut buf).await.unwrap() {
                0 => break,
                n => back.extend_from_slice(&buf[..n]),
            }
        }
        assert!(back == data, "client received other bytes");
        let server_partial = server.await.unwrap();
        // 8 MiB does not fit a loopback socket's buffers: both sides must
        // have seen short writes (and waited for writability after them).
        assert!(partial > 0 && server_partial > 0, "partial writes: {partial}, {server_partial}");
    });
}

fn peer_close_reads_zero(backend: Backend) {
    run(backend, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = on_thread(move || {
            let mut s = std_connect(addr);
            s.write_all(b"bye").unwrap();
        });
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = [0; 3];
        read_exact(&mut s, &mut buf).await.unwrap();
        assert_eq!(&buf, b"bye");
        client.recv_timeout(LIMIT).expect("client finished");
        assert_eq!(s.read(&mut [0; 16]).await.unwrap(), 0);
        // End of stream stays: the closed bit is never cleared.
        assert_eq!(s.read(&mut [0; 16]).await.unwrap(), 0);
    });
}

fn connect_to_a_closed_port_is_refused(backend: Backend) {
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    run(backend, async move {
        let err = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
    });
}

fn aborting_a_task_waiting_on_a_stream_closes_it(backend: Backend) {
    run(backend, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = spindle_rt::sync::oneshot::channel();
        let waiter = spawn_local(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            tx.send(()).unwrap();
            // Nobody writes: this waits until the task is cancelled.
            s.read(&mut [0; 16]).await
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        rx.await.unwrap();
        waiter.abort();
        let err = waiter.await.unwrap_err();
        assert!(err.is_cancelled());
        // The stream was dropped with the task's future: closed, so the
        // peer reads end of stream.
        assert_eq!(client.read(&mut [0; 16]).await.unwrap(), 0);
    });
}

fn dropping_the_runtime_closes_waiting_streams(backend: Backend) {
    let rt = rt(backend);
    let listener = rt.block_on(async { TcpListener::bind("127.0.0.1:0").await }).unwrap();
    let addr = listener.local_addr().unwrap();
    let client = on_thread(move || {
        let mut s = std_connect(addr);
        s.read(&mut [0; 16]).map_err(|e| e.kind())
    });
    rt.block_on(async move {
        let (mut s, _) = timeout(LIMIT, listener.accept()).await.expect("accepted").unwrap();
        let (tx, rx) = spindle_rt::sync::oneshot::channel();
        spawn_local(async move {
            let _ = tx.send(());
            // Nobody writes: waits until the runtime is dropped under it.
            let _ = s.read(&mut [0; 16]).await;
        });
        timeout(LIMIT, rx).await.expect("the reader started").unwrap();
    });
    // Cancels the reading task; its stream closes with its future.
    drop(rt);
    assert_eq!(client.recv_timeout(LIMIT).expect("client finished"), Ok(0));
}

fn accept_many_then_drop_the_listener(backend: Backend) {
    const N: usize = 64;
    run(backend, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let clients: Vec<_> = (0..N).map(|_| spawn_local(TcpStream::connect(addr))).collect();
        let mut accepted = Vec::new();
        for _ in 0..N {
            accepted.push(listener.accept().await.unwrap().0);
        }
        drop(listener);
        let err = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
        // The accepted streams outlive the listener.
        let mut clients: Vec<TcpStream> = {
            let mut v = Vec::new();
            for c in clients {
                v.push(c.await.unwrap().unwrap());
            }
            v
        };
        for (i, s) in accepted.iter_mut().enumerate() {
            s.write_all(&[i as u8]).await.unwrap();
        }
        let mut seen: Vec<u8> = Vec::new();
        for c in &mut clients {
            let mut b = [0; 1];
            read_exact(c, &mut b).await.unwrap();
            seen.push(b[0]);
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..N as u8).collect::<Vec<_>>());
    });
}

#[test]
fn peek_leaves_the_bytes_for_read_exact_on_every_backend() {
    for backend in [Backend::Epoll, Backend::Poll, Backend::Select] {
        run(backend, async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let client = on_thread(move || {
                let mut s = std_connect(addr);
                s.write_all(b"GET ").unwrap();
                // The rest only after the server has peeked and asked for
                // more than is there: read_exact must wait across writes.
                let mut go = [0u8; 1];
                s.read_exact(&mut go).unwrap();
                s.write_all(b"/ HTTP/1.1\r\n").unwrap();
                s.shutdown(Shutdown::Write).unwrap();
            });
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut sniff = [0u8; 16];
            let n = conn.peek(&mut sniff).await.unwrap();
            assert_eq!(&sniff[..n], b"GET ", "{backend:?}");
            // A short peek left readiness set: a second peek does not hang.
            let again = conn.peek(&mut sniff).await.unwrap();
            assert_eq!(again, n, "{backend:?}");
            conn.write_all(b"!").await.unwrap();
            let mut line = [0u8; 16];
            conn.read_exact(&mut line).await.unwrap();
            assert_eq!(&line, b"GET / HTTP/1.1\r\n", "{backend:?}");
            let err = conn.read_exact(&mut line).await.expect_err("end of stream");
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "{backend:?}");
            client.recv_timeout(LIMIT).expect("client finished");
        });
    }
}
