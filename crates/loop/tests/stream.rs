//! Streams: TCP and Unix echo, many connections, queued writes and their
//! callbacks, shutdown, read_stop, close with queued writes, connect
//! failures, pipes, and stale events in one batch.
//!
//! Real sockets on 127.0.0.1 port 0. The loop runs on the test thread; std
//! clients run on other threads (or, where the order of events matters, on
//! the test thread between single loop iterations). Every wait is bounded:
//! a guard timer panics if a loop runs too long, std sockets have read and
//! write timeouts.

mod common;
use common::{guard, localhost, run_until};
use spindle_loop::{is_canceled, Loop, ReadResult, RunMode, StreamId, WriteCb};
use std::cell::{Cell, RefCell};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::thread;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);
const IO_TIMEOUT: Duration = Duration::from_secs(10);

fn tcp_client(addr: SocketAddr) -> TcpStream {
    let c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    c.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    c
}

fn boxed(f: impl FnOnce(&mut Loop, StreamId, io::Result<()>) + 'static) -> Option<WriteCb> {
    Some(Box::new(f))
}

/// An echo connection: writes back what it reads, closes at end of stream
/// and calls `on_done`.
fn echo(lp: &mut Loop, conn: StreamId, on_done: impl Fn(&mut Loop) + 'static) {
    lp.read_start(conn, Vec::with_capacity(4096), move |lp, c, r| match r {
        ReadResult::Data(d) => lp.write(c, d, None).unwrap(),
        ReadResult::Eof => {
            lp.close(c.handle(), None);
            on_done(lp);
        }
        ReadResult::Error(e) => panic!("echo read failed: {e}"),
    })
    .unwrap();
}

/// A TCP echo server that closes its listener after `conns` connections
/// ended, so the loop finishes by itself.
fn tcp_echo_server(lp: &mut Loop, conns: usize) -> SocketAddr {
    let served = Rc::new(Cell::new(0));
    let listener = lp
        .tcp_listen(localhost(), 1024, move |lp, l, res| {
            res.unwrap();
            let c = lp.accept(l).unwrap();
            let served = served.clone();
            echo(lp, c, move |lp| {
                served.set(served.get() + 1);
                if served.get() == conns {
                    lp.close(l.handle(), None);
                }
            });
        })
        .unwrap();
    lp.local_addr(listener).unwrap()
}

#[test]
fn tcp_echo_round_trip() {
    let mut lp = Loop::new().unwrap();
    guard(&mut lp, LIMIT);
    let addr = tcp_echo_server(&mut lp, 1);
    assert_ne!(addr.port(), 0);
    let client = thread::spawn(move || {
        let mut c = tcp_client(addr);
        c.write_all(b"hello, spindle").unwrap();
        let mut back = [0; 14];
        c.read_exact(&mut back).unwrap();
        assert_eq!(&back, b"hello, spindle");
    });
    assert!(!lp.run(RunMode::Default).unwrap(), "the loop ends when every handle is closed");
    client.join().unwrap();
}

#[test]
fn unix_echo_round_trip_on_a_path_and_in_the_abstract_namespace() {
    let dir = std::env::temp_dir().join(format!("spindle-stream-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("echo.sock");
    let _ = std::fs::remove_file(&path);
    let abstract_name = format!("\0spindle-stream-{}", std::process::id());
    for name in [path.as_os_str().to_owned(), abstract_name.into()] {
        let mut lp = Loop::new().unwrap();
        guard(&mut lp, LIMIT);
        lp.unix_listen(&name, 16, move |lp, l, res| {
            res.unwrap();
            let c = lp.accept(l).unwrap();
            assert!(lp.local_addr(c).is_err(), "not a TCP stream");
            echo(lp, c, move |lp| lp.close(l.handle(), None));
        })
        .unwrap();
        let client = {
            let mut c = if name.as_encoded_bytes()[0] == 0 {
                use std::os::linux::net::SocketAddrExt;
                let a = std::os::unix::net::SocketAddr::from_abstract_name(&name.as_encoded_bytes()[1..])
                    .unwrap();
                UnixStream::connect_addr(&a).unwrap()
            } else {
                UnixStream::connect(&name).unwrap()
            };
            c.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
            thread::spawn(move || {
                c.write_all(b"over unix").unwrap();
                let mut back = [0; 9];
                c.read_exact(&mut back).unwrap();
                assert_eq!(&back, b"over unix");
            })
        };
        assert!(!lp.run(RunMode::Default).unwrap());
        client.join().unwrap();
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unix_connect_from_the_loop() {
    let name = format!("\0spindle-unix-connect-{}", std::process::id());
    let mut lp = Loop::new().unwrap();
    guard(&mut lp, LIMIT);
    lp.unix_listen(&name, 16, move |lp, l, res| {
        res.unwrap();
        let c = lp.accept(l).unwrap();
        echo(lp, c, move |lp| lp.close(l.handle(), None));
    })
    .unwrap();
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    let c = lp
        .unix_connect(&name, move |lp, c, res| {
            res.unwrap();
            lp.write(c, b"ping", None).unwrap();
        })
        .unwrap();
    lp.read_start(c, Vec::new(), move |lp, c, r| {
        if let ReadResult::Data(d) = r {
            g.borrow_mut().extend_from_slice(d);
            if g.borrow().len() == 4 {
                lp.close(c.handle(), None);
            }
        }
    })
    .unwrap();
    assert!(!lp.run(RunMode::Default).unwrap());
    assert_eq!(*got.borrow(), b"ping");
}

#[test]
fn two_hundred_connections_each_echo() {
    const CONNS: usize = 200;
    const THREADS: usize = 4;
    let mut lp = Loop::new().unwrap();
    guard(&mut lp, LIMIT);
    let addr = tcp_echo_server(&mut lp, CONNS);
    let clients: Vec<_> = (0..THREADS)
        .map(|t| {
            thread::spawn(move || {
                // All of this thread's connections are open at once.
                let mut conns: Vec<TcpStream> = (0..CONNS / THREADS).map(|_| tcp_client(addr)).collect();
                for round in 0..3 {
                    for (i, c) in conns.iter_mut().enumerate() {
                        c.write_all(format!("t{t}c{i:03}r{round}").as_bytes()).unwrap();
                    }
                    for (i, c) in conns.iter_mut().enumerate() {
                        let want = format!("t{t}c{i:03}r{round}");
                        let mut back = vec![0; want.len()];
                        c.read_exact(&mut back).unwrap();
                        assert_eq!(back, want.as_bytes());
                    }
                }
            })
        })
        .collect();
    assert!(!lp.run(RunMode::Default).unwrap());
    for c in clients {
        c.join().unwrap();
    }
}

/// Writes of 1 MiB, 8 in all, to a client that reads slowly: the kernel
/// takes a fraction at once, the rest is queued, and the callbacks run in
/// write order once each write is out. Then a shutdown: the client reads
/// end of stream after the last byte.
#[test]
fn large_writes_queue_complete_in_order_and_shutdown_follows_the_data() {
    const CHUNK: usize = 1 << 20;
    const CHUNKS: usize = 8;
    let mut lp = Loop::new().unwrap();
    guard(&mut lp, LIMIT);
    let order = Rc::new(RefCell::new(Vec::new()));
    let max_queued = Rc::new(Cell::new(0));
    let (o, mq) = (order.clone(), max_queued.clone());
    // The client starts reading only once every write was made: a slow
    // reader, so the kernel's buffers fill and the rest must queue.
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let listener = lp
        .tcp_listen(localhost(), 16, move |lp, l, res| {
            res.unwrap();
            let c = lp.accept(l).unwrap();
            lp.close(l.handle(), None);
            for i in 0..CHUNKS {
                let data: Vec<u8> = (0..CHUNK).map(|j| ((i * CHUNK + j) % 251) as u8).collect();
                let o = o.clone();
                lp.write(c, &data, boxed(move |_, _, res| o.borrow_mut().push((i, res.is_ok())))).unwrap();
                mq.set(mq.get().max(lp.write_queue_size(c)));
            }
            assert!(o.borrow().is_empty(), "write callbacks never run inside write");
            let o = o.clone();
            lp.shutdown(
                c,
                boxed(move |lp, c, res| {
                    res.unwrap();
                    o.borrow_mut().push((usize::MAX, true));
                    assert_eq!(lp.write_queue_size(c), 0);
                    lp.close(c.handle(), None);
                }),
            )
            .unwrap();
            assert!(lp.write(c, b"late", None).is_err(), "writes after shutdown are refused");
            tx.send(()).unwrap();
        })
        .unwrap();
    let addr = lp.local_addr(listener).unwrap();
    let client = thread::spawn(move || {
        let mut c = tcp_client(addr);
        rx.recv_timeout(IO_TIMEOUT).unwrap();
        let mut all = Vec::with_capacity(CHUNK * CHUNKS);
        let mut buf = vec![0; 7000];
        loop {
            let n = c.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
        }
        assert_eq!(all.len(), CHUNK * CHUNKS);
        assert!(all.iter().enumerate().all(|(k, b)| *b == (k % 251) as u8), "bytes in order");
    });
    assert!(!lp.run(RunMode::Default).unwrap());
    client.join().unwrap();
    assert!(max_queued.get() > CHUNK, "most of 8 MiB had to be queued: {}", max_queued.get());
    let mut want: Vec<_> = (0..CHUNKS).map(|i| (i, true)).collect();
    want.push((usize::MAX, true));
    assert_eq!(*order.borrow(), want);
}

/// After the queue drains, writable interest is dropped: an idle, reading
/// connection must not make the loop iterate (level-triggered writability
/// would wake it on every wait).
#[test]
fn an_idle_connection_after_a_drained_queue_does_not_spin() {
    const TOTAL: usize = 4 << 20;
    let mut lp = Loop::new().unwrap();
    guard(&mut lp, LIMIT);
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let idle_iterations = Rc::new(Cell::new(u64::MAX));
    let idle = idle_iterations.clone();
    let listener = lp
        .tcp_listen(localhost(), 16, move |lp, l, res| {
            res.unwrap();
            let c = lp.accept(l).unwrap();
            lp.close(l.handle(), None);
            lp.read_start(c, Vec::new(), |_, _, r| assert!(matches!(r, ReadResult::Data(_)))).unwrap();
            let idle = idle.clone();
            let tx = tx.clone();
            lp.write_vec(
                c,
                vec![7; TOTAL],
                boxed(move |lp, c, res| {
                    res.unwrap();
                    let start = lp.lag_stats().iterations;
                    lp.timer_once(Duration::from_millis(100), move |lp, t| {
                        idle.set(lp.lag_stats().iterations - start);
                        lp.close(t.handle(), None);
                        lp.close(c.handle(), None);
                        tx.send(()).unwrap();
                    })
                    .unwrap();
                }),
            )
            .unwrap();
        })
        .unwrap();
    let addr = lp.local_addr(listener).unwrap();
    let client = thread::spawn(move || {
        let mut c = tcp_client(addr);
        let mut buf = vec![0; 1 << 16];
        let mut total = 0;
        while total < TOTAL {
            total += c.read(&mut buf).unwrap();
        }
        // Keep the connection open until the loop has measured.
        rx.recv_timeout(IO_TIMEOUT).unwrap();
    });
    assert!(!lp.run(RunMode::Default).unwrap());
    client.join().unwrap();
    assert!(idle_iterations.get() < 10, "{} iterations in 100 ms of idleness", idle_iterations.get());
}

#[test]
fn listen_open_takes_a_bound_listener() {
    let mut lp = Loop::new().unwrap();
    guard(&mut lp, LIMIT);
    let l = std::net::TcpListener::bind(localhost()).unwrap();
    let addr = l.local_addr().unwrap();
    let not_listening = std::net::UdpSocket::bind(localhost()).unwrap();
    assert!(lp.listen_open(not_listening.into(), |_, _, _| {}).is_err());
    lp.listen_open(l.into(), move |lp, l, res| {
        res.unwrap();
        let c = lp.accept(l).unwrap();
        assert_eq!(lp.accept(l).unwrap_err().kind(), io::ErrorKind::WouldBlock, "one connection per call");
        echo(lp, c, move |lp| lp.close(l.handle(), None));
    })
    .unwrap();
    let client = thread::spawn(move || {
        let mut c = tcp_client(addr);
        c.write_all(b"x").unwrap();
        let mut b = [0; 1];
        c.read_exact(&mut b).unwrap();
    });
    assert!(!lp.run(RunMode::Default).unwrap());
    client.join().unwrap();
}

#[test]
fn addresses_and_nodelay() {
    let mut lp = Loop::new().unwrap();
    guard(&mut lp, LIMIT);
    let listener = lp.tcp_listen(localhost(), 16, |_, _, _| {}).unwrap();
    let addr = lp.local_addr(listener).unwrap();
    let seen = Rc::new(RefCell::new(None));
    let s = seen.clone();
    let c = lp
        .tcp_connect(addr, move |lp, c, res| {
            res.unwrap();
            lp.set_nodelay(c, true).unwrap();
            *s.borrow_mut() = Some((lp.local_addr(c).unwrap(), lp.peer_addr(c).unwrap()));
            lp.close(c.handle(), None);
            lp.close(listener.handle(), None);
        })
        .unwrap();
    lp.set_nodelay(c, false).unwrap(); // the socket exists while connecting
    lp.run(RunMode::Default).unwrap();
    let (local, peer) = seen.borrow().unwrap();
    assert_eq!(peer, addr);
    assert_eq!(local.ip(), addr.ip());
}

/// Writing to a peer that closed: the first write may still succeed (the
/// kernel learns of the close from the peer's reset), later ones fail with
/// EPIPE or ECONNRESET, reported to the write callback; no SIGPIPE.
#[test]
fn writing_to_a_closed_peer_fails_in_the_callback() {
    let mut lp = Loop::new().unwrap();
    guard(&mut lp, LIMIT);
    let failure = Rc::new(RefCell::new(None));
    let f = failure.clone();
    let listener = lp
        .tcp_listen(localhost(), 16, move |lp, l, res| {
            res.unwrap();
            let c = lp.accept(l).unwrap();
            lp.close(l.handle(), None);
            let f = f.clone();
            lp.read_start(c, Vec::new(), move |lp, c, r| {
                assert!(matches!(r, ReadResult::Eof), "the client sends nothing");
                write_until_error(lp, c, f.clone());
            })
            .unwrap();
        })
        .unwrap();
    let addr = lp.local_addr(listener).unwrap();
    drop(tcp_client(addr));
    assert!(!lp.run(RunMode::Default).unwrap());
    let e = failure.borrow_mut().take().expect("a write failed");
    assert!(
        matches!(e.kind(), io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset),
        "unexpected error {e}"
    );
}

/// Writes with a callback; each successful completion writes again, the
/// first failure is stored and closes the stream.
fn write_until_error(lp: &mut Loop, c: StreamId, slot: Rc<RefCell<Option<io::Error>>>) {
    lp.write(
        c,
        &[1; 1024],
        boxed(move |lp, c, res| match res {
            Ok(()) => write_until_error(lp, c, slot),
            Err(e) => {
                *slot.borrow_mut() = Some(e);
                lp.close(c.handle(), None);
            }
        }),
    )
    .unwrap();
}

#[test]
fn read_stop_stops_callbacks_until_read_start() {
    let mut lp = Loop::new().unwrap();
    guard(&mut lp, LIMIT);
    let accepted = Rc::new(Cell::new(None));
    let a = accepted.clone();
    let listener = lp
        .tcp_listen(localhost(), 16, move |lp, l, res| {
            res.unwrap();
            a.set(Some(lp.accept(l).unwrap()));
        })
        .unwrap();
    let addr = lp.local_addr(listener).unwrap();
    let mut client = tcp_client(addr);
    run_until(&mut lp, |_| accepted.get().is_some());
    let conn = accepted.get().unwrap();
    lp.close(listener.handle(), None);

    let reads = Rc::new(RefCell::new(Vec::new()));
    let r = reads.clone();
    lp.read_start(conn, Vec::new(), move |lp, c, res| {
        if let ReadResult::Data(d) = res {
            r.borrow_mut().extend_from_slice(d);
            lp.read_stop(c).unwrap();
        }
    })
    .unwrap();
    client.write_all(b"a").unwrap();
    run_until(&mut lp, |_| !reads.borrow().is_empty());
    assert_eq!(*reads.borrow(), b"a");
    assert!(!lp.is_reading(conn));
    assert!(!lp.is_active(conn.handle()), "a stream that is not reading is inactive");

    // Data arrives while stopped: it waits in the socket, no callback runs.
    client.write_all(b"b").unwrap();
    let fd = lp.stream_fd(conn).unwrap();
    wait_for_bytes(&[fd], 1);
    for _ in 0..3 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(*reads.borrow(), b"a", "no callback while stopped");

    let r = reads.clone();
    lp.read_start(conn, Vec::with_capacity(16), move |lp, c, res| {
        if let ReadResult::Data(d) = res {
            r.borrow_mut().extend_from_slice(d);
            lp.close(c.handle(), None);
        }
    })
    .unwrap();
    assert!(!lp.run(RunMode::Default).unwrap());
    assert_eq!(*reads.borrow(), b"ab");
}

/// Bytes waiting in a socket's receive queue.
fn pending_bytes(fd: std::os::fd::RawFd) -> libc::c_int {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int to the pointer, which is live.
    let r = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) };
    assert_eq!(r, 0, "FIONREAD: {}", io::Error::last_os_error());
    n
}

/// Waits (bounded) until each socket has `n` bytes queued for reading.
/// Loopback delivers a write before `write` returns, so this rarely loops.
fn wait_for_bytes(fds: &[std::os::fd::RawFd], n: libc::c_int) {
    let deadline = std::time::Instant::now() + IO_TIMEOUT;
    for &fd in fds {
        while pending_bytes(fd) < n {
            assert!(std::time::Instant::now() < deadline, "data never arrived");
            thread::yield_now();
        }
    }
}

/// Closing a stream with queued writes: the descriptor closes at once and
/// every queued write completes, in order, with ECANCELED, after the close
/// callback (close phase) in the next pending phase.
#[test]
fn close_with_queued_writes_cancels_them_in_order() {
    let mut lp = Loop::new().unwrap();
    guard(&mut lp, LIMIT);
    let log = Rc::new(RefCell::new(Vec::new()));
    let l2 = log.clone();
    let listener = lp
        .tcp_listen(localhost(), 16, move |lp, l, res| {
            res.unwrap();
            let c = lp.accept(l).unwrap();
            lp.close(l.handle(), None);
            for i in 0..3 {
                let log = l2.clone();
                lp.write_vec(
                    c,
                    vec![0; 4 << 20],
                    boxed(move |_, _, res| {
                        log.borrow_mut()
                            .push(format!("write{i}:{}", res.map_err(|e| is_canceled(&e)).unwrap_err()))
                    }),
                )
                .unwrap();
            }
            assert!(lp.write_queue_size(c) > 0);
            let log = l2.clone();
            lp.close(c.handle(), Some(Box::new(move |_, _| log.borrow_mut().push("closed".into()))));
            assert_eq!(lp.write_queue_size(c), 0);
            assert!(lp.write(c, b"x", None).is_err(), "a closing stream refuses writes");
        })
        .unwrap();
    let addr = lp.local_addr(listener).unwrap();
    // A client that never reads.
    let client = tcp_client(addr);
    assert!(!lp.run(RunMode::Default).unwrap());
    assert_eq!(*log.borrow(), ["closed", "write0:true", "write1:true", "write2:true"]);
    drop(client);
}

#[test]
fn connect_to_a_closed_port_fails_in_the_callback() {
    let mut lp = Loop::new().unwrap();
    guard(&mut lp, LIMIT);
    let addr = {
        let l = std::net::TcpListener::bind(localhost()).unwrap();
        l.local_addr().unwrap()
    };
    let result = Rc::new(RefCell::new(None));
    let r = result.clone();
    let c = lp
        .tcp_connect(addr, move |lp, c, res| {
            *r.borrow_mut() = Some(res);
            lp.close(c.handle(), None);
        })
        .unwrap();
    // Queued on a connecting stream; fails with the connect.
    let queued = Rc::new(RefCell::new(None));
    let q = queued.clone();
    lp.write(c, b"never sent", boxed(move |_, _, res| *q.borrow_mut() = Some(res))).unwrap();
    assert!(result.borrow().is_none(), "the connect callback never runs inside connect");
    assert!(!lp.run(RunMode::Default).unwrap());
    let e = result.borrow_mut().take().unwrap().unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
    assert!(queued.borrow_mut().take().unwrap().is_err());

    // Unix: no such socket is reported to the callback too.
    let r = result.clone();
    lp.unix_connect("/nonexistent/spindle.sock", move |lp, c, res| {
        *r.borrow_mut() = Some(res);
        lp.close(c.handle(), None);
    })
    .unwrap();
    assert!(!lp.run(RunMode::Default).unwrap());
    assert_eq!(result.borrow_mut().take().unwrap().unwrap_err().kind(), io::ErrorKind::NotFound);
}

#[test]
fn close_while_connecting_cancels_the_connect() {
    let mut lp = Loop::new().unwrap();
    guard(&mut lp, LIMIT);
    let listener = std::net::TcpListener::bind(localhost()).unwrap();
    let result = Rc::new(RefCell::new(None));
    let r = result.clone();
    let c =
        lp.tcp_connect(listener.local_addr().unwrap(), move |_, _, res| *r.borrow_mut() = Some(res)).unwrap();
    lp.close(c.handle(), None);
    assert!(!lp.run(RunMode::Default).unwrap());
    assert!(is_canceled(&result.borrow_mut().take().unwrap().unwrap_err()));
}

/// A child's stdin and stdout pipes as streams: what goes into `cat` comes
/// back out, and closing stdin ends its output.
#[test]
fn pipe_open_on_a_childs_stdio() {
    let mut lp = Loop::new().unwrap();
    guard(&mut lp, LIMIT);
    let mut child = std::process::Command::new("cat")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = lp.pipe_open(child.stdin.take().unwrap().into()).unwrap();
    let stdout = lp.pipe_open(child.stdout.take().unwrap().into()).unwrap();
    assert!(lp.local_addr(stdout).is_err());
    let got = Rc::new(RefCell::new(Vec::new()));
    let eof = Rc::new(Cell::new(false));
    let (g, e) = (got.clone(), eof.clone());
    lp.read_start(stdout, Vec::with_capacity(1024), move |lp, s, r| match r {
        ReadResult::Data(d) => g.borrow_mut().extend_from_slice(d),
        ReadResult::Eof => {
            e.set(true);
            lp.close(s.handle(), None);
        }
        ReadResult::Error(err) => panic!("{err}"),
    })
    .unwrap();
    let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 256) as u8).collect();
    lp.write(
        stdin,
        &payload,
        boxed(|lp, s, res| {
            res.unwrap();
            lp.close(s.handle(), None);
        }),
    )
    .unwrap();
    assert!(!lp.run(RunMode::Default).unwrap());
    assert!(eof.get());
    assert_eq!(*got.borrow(), payload);
    assert!(child.wait().unwrap().success());
}

/// Two connections readable in the same batch of events: the first one's
/// read callback closes (or stops) the second, whose event is then stale
/// and must not run its callback.
#[test]
fn a_stream_closed_or_stopped_by_an_earlier_callback_in_the_same_batch_never_runs() {
    for stop_only in [false, true] {
        let mut lp = Loop::new().unwrap();
        guard(&mut lp, LIMIT);
        let accepted = Rc::new(RefCell::new(Vec::new()));
        let a = accepted.clone();
        let listener = lp
            .tcp_listen(localhost(), 16, move |lp, l, res| {
                res.unwrap();
                a.borrow_mut().push(lp.accept(l).unwrap());
            })
            .unwrap();
        let addr = lp.local_addr(listener).unwrap();
        let mut clients = [tcp_client(addr), tcp_client(addr)];
        run_until(&mut lp, |_| accepted.borrow().len() == 2);
        lp.close(listener.handle(), None);
        let conns = accepted.borrow().clone();

        let ran = Rc::new(RefCell::new(Vec::new()));
        for (i, &c) in conns.iter().enumerate() {
            let other = conns[1 - i];
            let ran = ran.clone();
            lp.read_start(c, Vec::new(), move |lp, _, r| {
                assert!(matches!(r, ReadResult::Data(_)));
                ran.borrow_mut().push(i);
                if stop_only {
                    lp.read_stop(other).unwrap();
                } else {
                    lp.close(other.handle(), None);
                }
            })
            .unwrap();
        }
        // Both become readable before the loop polls again: one batch.
        for c in &mut clients {
            c.write_all(b"go").unwrap();
        }
        let fds: Vec<_> = conns.iter().map(|&c| lp.stream_fd(c).unwrap()).collect();
        wait_for_bytes(&fds, 2);
        lp.run(RunMode::Once).unwrap();
        assert_eq!(ran.borrow().len(), 1, "only the first callback of the batch runs: {:?}", ran.borrow());
        for c in conns {
            lp.close(c.handle(), None);
        }
        assert!(!lp.run(RunMode::Default).unwrap());
        assert_eq!(ran.borrow().len(), 1);
    }
}

/// `try_write` writes what fits now and refuses to overtake queued data;
/// callbacks of immediate and queued writes run in write order.
#[test]
fn try_write_and_mixed_completions_keep_write_order() {
    const BIG: usize = 8 << 20;
    let mut lp = Loop::new().unwrap();
    guard(&mut lp, LIMIT);
    let accepted = Rc::new(Cell::new(None));
    let a = accepted.clone();
    let listener = lp
        .tcp_listen(localhost(), 16, move |lp, l, res| {
            res.unwrap();
            a.set(Some(lp.accept(l).unwrap()));
            lp.close(l.handle(), None);
        })
        .unwrap();
    let mut client = tcp_client(lp.local_addr(listener).unwrap());
    run_until(&mut lp, |_| accepted.get().is_some());
    let c = accepted.get().unwrap();

    let order = Rc::new(RefCell::new(Vec::new()));
    let note = |i: u32| {
        let o = order.clone();
        boxed(move |_, _, res| {
            res.unwrap();
            o.borrow_mut().push(i);
        })
    };
    assert_eq!(lp.try_write(c, b"abc").unwrap(), 3);
    lp.write(c, b"1", note(1)).unwrap();
    assert_eq!(lp.write_queue_size(c), 0, "a small write goes out at once");
    lp.write_vec(c, vec![b'2'; BIG], note(2)).unwrap();
    assert!(lp.write_queue_size(c) > 0);
    lp.write(c, b"3", note(3)).unwrap();
    lp.write(c, b"", note(4)).unwrap();
    assert_eq!(lp.try_write(c, b"x").unwrap_err().kind(), io::ErrorKind::WouldBlock);
    assert!(order.borrow().is_empty());

    let reader = thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = vec![0; 1 << 16];
        while all.len() < 3 + 1 + BIG + 1 {
            let n = client.read(&mut buf).unwrap();
            assert_ne!(n, 0);
            all.extend_from_slice(&buf[..n]);
        }
        assert_eq!(&all[..4], b"abc1");
        assert!(all[4..4 + BIG].iter().all(|&b| b == b'2'));
        assert_eq!(all[4 + BIG], b'3');
    });
    run_until(&mut lp, |_| order.borrow().len() == 4);
    assert_eq!(*order.borrow(), [1, 2, 3, 4]);
    reader.join().unwrap();
    lp.close(c.handle(), None);
    assert!(!lp.run(RunMode::Default).unwrap());
}

#[test]
fn misuse_is_reported_at_the_call() {
    let mut lp = Loop::new().unwrap();
    guard(&mut lp, LIMIT);
    let listener = lp.tcp_listen(localhost(), 16, |_, _, _| {}).unwrap();
    let kind = |r: io::Result<()>| r.unwrap_err().kind();
    assert_eq!(kind(lp.read_start(listener, Vec::new(), |_, _, _| {})), io::ErrorKind::InvalidInput);
    assert_eq!(kind(lp.write(listener, b"x", None)), io::ErrorKind::InvalidInput);
    assert_eq!(kind(lp.shutdown(listener, None)), io::ErrorKind::InvalidInput);
    assert_eq!(lp.accept(listener).unwrap_err().kind(), io::ErrorKind::WouldBlock, "outside on_connection");
    let long = "/tmp/".to_string() + &"x".repeat(200);
    assert_eq!(lp.unix_listen(&long, 1, |_, _, _| {}).unwrap_err().kind(), io::ErrorKind::InvalidInput);
    let addr = lp.local_addr(listener).unwrap();
    assert_eq!(
        lp.tcp_listen(addr, 16, |_, _, _| {}).unwrap_err().kind(),
        io::ErrorKind::AddrInUse,
        "SO_REUSEADDR does not allow two listeners"
    );

    let c = lp.tcp_connect(addr, |_, _, _| {}).unwrap();
    lp.shutdown(c, None).unwrap();
    assert_eq!(kind(lp.shutdown(c, None)), io::ErrorKind::BrokenPipe);
    assert_eq!(kind(lp.write(c, b"x", None)), io::ErrorKind::BrokenPipe);
    lp.close(c.handle(), None);
    assert!(lp.is_closing(c.handle()));
    assert_eq!(kind(lp.read_stop(c)), io::ErrorKind::NotConnected, "closing");
    lp.close(listener.handle(), None);
    assert!(!lp.run(RunMode::Default).unwrap());
    assert_eq!(kind(lp.write(c, b"x", None)), io::ErrorKind::NotFound, "closed: a stale id");
    assert_eq!(lp.write_queue_size(c), 0);
}
