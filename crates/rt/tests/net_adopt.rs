//! Adopting sockets made outside the runtime (`from_std`), giving a
//! listener back (`into_std`) with its queued connections intact, the
//! exclusive listener registration, and `async_io` around system calls
//! the runtime does not wrap. Every wait is bounded.

mod net_support;

use net_support::{on_thread, run, LIMIT};
use spindle_rt::io::Direction;
use spindle_rt::net::{TcpListener, TcpStream, UnixStream};
use spindle_rt::runtime::Backend;
use std::cell::Cell;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream as StdUnix;

fn std_listener() -> std::net::TcpListener {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind")
}

fn adopted_listener_accepts(backend: Backend) {
    let std = std_listener();
    let addr = std.local_addr().unwrap();
    let client = on_thread(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(LIMIT)).unwrap();
        s.write_all(b"ping").unwrap();
        let mut buf = [0; 4];
        s.read_exact(&mut buf).unwrap();
        buf
    });
    run(backend, async move {
        let listener = TcpListener::from_std(std)?;
        let (mut conn, _) = listener.accept().await?;
        let mut buf = [0; 4];
        let mut got = 0;
        while got < 4 {
            got += conn.read(&mut buf[got..]).await?;
        }
        conn.write_all(&buf).await?;
        Ok::<(), io::Error>(())
    })
    .unwrap();
    assert_eq!(&client.recv_timeout(LIMIT).unwrap(), b"ping");
}

/// A worker that gives up its turn at a listener leaves the queued
/// connections for whoever registers it next.
fn into_std_keeps_the_backlog(backend: Backend) {
    let std = std_listener();
    let addr = std.local_addr().unwrap();
    // Two connections complete in the kernel's backlog before anyone accepts.
    let c1 = std::net::TcpStream::connect(addr).unwrap();
    let c2 = std::net::TcpStream::connect(addr).unwrap();
    let std = run(backend, async move {
        let listener = TcpListener::from_std(std)?;
        let (_first, _) = listener.accept().await?;
        listener.into_std()
    })
    .unwrap();
    // Back in std's hands and still non-blocking: the second is there.
    assert!(std.accept().is_ok());
    assert_eq!(std.accept().unwrap_err().kind(), io::ErrorKind::WouldBlock);
    // Registered again on a fresh runtime, it waits for the next one.
    let addr2 = std.local_addr().unwrap();
    let c3 = on_thread(move || std::net::TcpStream::connect(addr2).map(|_| ()));
    run(backend, async move {
        let listener = TcpListener::from_std(std)?;
        listener.accept().await.map(|_| ())
    })
    .unwrap();
    c3.recv_timeout(LIMIT).unwrap().unwrap();
    drop((c1, c2));
}

/// `async_io` counts: a call that says `WouldBlock` ends a wake-up, and
/// the next call comes only after the next connection arrives.
fn async_io_retries_after_would_block(backend: Backend) {
    let std = std_listener();
    let addr = std.local_addr().unwrap();
    let probe = std.try_clone().unwrap();
    run(backend, async move {
        let listener = TcpListener::from_std(std)?;
        let calls = Cell::new(0);
        let would_block = Cell::new(0);
        let connect = on_thread(move || std::net::TcpStream::connect(addr).map(|_| ()));
        let (conn, _) = listener
            .async_io(|| {
                calls.set(calls.get() + 1);
                let r = probe.accept();
                if matches!(&r, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
                    would_block.set(would_block.get() + 1);
                }
                r
            })
            .await?;
        connect.recv_timeout(LIMIT).unwrap()?;
        drop(conn);
        assert_eq!(calls.get(), would_block.get() + 1, "every call but the last said WouldBlock");
        assert!(calls.get() <= 3, "no spinning: {} calls", calls.get());
        Ok::<(), io::Error>(())
    })
    .unwrap();
}

fn adopted_stream_and_custom_call(backend: Backend) {
    let std = std_listener();
    let addr = std.local_addr().unwrap();
    let client = on_thread(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(LIMIT)).unwrap();
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).unwrap();
        buf
    });
    let (accepted, _) = std.accept().unwrap();
    run(backend, async move {
        let stream = TcpStream::from_std(accepted)?;
        let dup = stream_clone(&stream);
        // A "system call the runtime does not wrap": a plain write through
        // another handle on the same descriptor.
        let n = stream.async_io(Direction::Write, || (&dup).write(b"custom")).await?;
        assert_eq!(n, 6);
        stream.shutdown_std(std::net::Shutdown::Both)?;
        Ok::<(), io::Error>(())
    })
    .unwrap();
    assert_eq!(client.recv_timeout(LIMIT).unwrap(), b"custom");
}

fn stream_clone(stream: &TcpStream) -> std::net::TcpStream {
    use std::os::fd::AsFd;
    std::net::TcpStream::from(stream.as_fd().try_clone_to_owned().unwrap())
}

fn adopted_unix_pair(backend: Backend) {
    let (a, b) = StdUnix::pair().unwrap();
    let writer = on_thread(move || {
        let mut b = b;
        b.write_all(b"over the pair")
    });
    run(backend, async move {
        let mut a = UnixStream::from_std(a)?;
        let mut got = Vec::new();
        let mut buf = [0; 64];
        while got.len() < 13 {
            let n = a.read(&mut buf).await?;
            assert!(n > 0);
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"over the pair");
        Ok::<(), io::Error>(())
    })
    .unwrap();
    writer.recv_timeout(LIMIT).unwrap().unwrap();
}

on_backends!(
    adopted_listener_accepts,
    into_std_keeps_the_backlog,
    async_io_retries_after_would_block,
    adopted_stream_and_custom_call,
    adopted_unix_pair,
);

/// Two runtimes on two threads wait on one listener registered
/// exclusively; each connection is accepted exactly once.
#[test]
fn exclusive_listener_shared_by_two_runtimes() {
    let std = std_listener();
    let addr = std.local_addr().unwrap();
    let total = 20;
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let mut workers = Vec::new();
    for _ in 0..2 {
        let l = std.try_clone().unwrap();
        let accepted = accepted.clone();
        let done_tx = done_tx.clone();
        workers.push(on_thread(move || {
            run(Backend::Epoll, async move {
                let listener = TcpListener::from_std_exclusive(l)?;
                loop {
                    let (mut c, _) = listener.accept().await?;
                    c.write_all(b"x").await?;
                    if accepted.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 == total {
                        let _ = done_tx.send(());
                    }
                    if accepted.load(std::sync::atomic::Ordering::SeqCst) >= total {
                        return Ok::<(), io::Error>(());
                    }
                }
            })
        }));
    }
    for _ in 0..total {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(LIMIT)).unwrap();
        let mut b = [0; 1];
        s.read_exact(&mut b).unwrap();
    }
    done_rx.recv_timeout(LIMIT).unwrap();
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), total);
    // One worker returned after the last connection; wake the other.
    let _ = std::net::TcpStream::connect(addr);
    for w in workers {
        let _ = w.recv_timeout(LIMIT).unwrap();
    }
}

#[test]
fn exclusive_needs_epoll() {
    for backend in [Backend::Poll, Backend::Select] {
        let err =
            run(backend, async { TcpListener::from_std_exclusive(std_listener()).map(|_| ()) }).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Unsupported);
    }
}
