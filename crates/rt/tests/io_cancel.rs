//! A wait on a socket that is abandoned before its event (the losing
//! branch of a `select!`, a read under a `timeout` that fired, an aborted
//! task) must leave nothing behind in the socket's waiter list.
//!
//! The latch used to keep the waker of every task that had waited, with no
//! way for a dropped future to take it out; only a sweep past 33 wakers
//! bounded the list, and each kept waker held its task's memory. A service
//! whose connections each wait under a timeout on one shared socket (a UDP
//! socket, a listener) kept tens of them, and a burst tens of MiB. Here each
//! wait is polled once with a probe waker of its own and dropped: the probe
//! must then be held by nobody but the test.

mod rt_support;

use rt_support::{bounded, mt, rt};
use spindle_rt::io::unix::AsyncFd;
use spindle_rt::net::{TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixStream};
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Wake, Waker};
use std::time::Duration;

/// Abandoned waits per kind: far past the old sweep bound (33).
const WAITS: usize = 500;

const FLAVORS: [&str; 2] = ["current-thread", "multi-thread"];

fn runtime(flavor: &str) -> spindle_rt::Runtime {
    if flavor == "current-thread" {
        rt()
    } else {
        mt(2)
    }
}

/// A waker that only exists to be counted.
struct Probe;

impl Wake for Probe {
    fn wake(self: Arc<Self>) {}
}

/// Makes `WAITS` waits by evaluating `$make` afresh for each, polls each
/// once with a waker of its own (it must be pending: nothing was sent),
/// drops it, and returns how many of those wakers something other than
/// the test still holds.
macro_rules! abandoned {
    ($make:expr) => {{
        let probes: Vec<Arc<Probe>> = (0..WAITS).map(|_| Arc::new(Probe)).collect();
        for probe in &probes {
            let waker = Waker::from(Arc::clone(probe));
            let mut fut = pin!($make);
            assert!(fut.as_mut().poll(&mut Context::from_waker(&waker)).is_pending(), "nothing was sent");
        }
        probes.iter().filter(|p| Arc::strong_count(p) > 1).count()
    }};
}

#[test]
fn abandoned_waits_leave_no_waker_behind_on_any_socket() {
    for name in FLAVORS {
        bounded(move || {
            runtime(name).block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                assert_eq!(abandoned!(listener.accept()), 0, "{name}: accept");

                let client = TcpStream::connect(addr).await.unwrap();
                let (mut conn, _) = listener.accept().await.unwrap();
                assert_eq!(abandoned!(client.readable()), 0, "{name}: readable");
                assert_eq!(abandoned!(client.ready(spindle_rt::io::Interest::READABLE)), 0, "{name}: ready");
                let mut buf = [0u8; 16];
                let leaked = abandoned!(conn.read(&mut buf));
                assert_eq!(leaked, 0, "{name}: read");
                assert_eq!(abandoned!(client.peek(&mut buf)), 0, "{name}: peek");

                let (mut rd, _wr) = conn.into_split();
                let leaked = abandoned!(rd.read(&mut buf));
                assert_eq!(leaked, 0, "{name}: split read half");

                let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                assert_eq!(abandoned!(udp.recv_from(&mut buf)), 0, "{name}: recv_from");
                assert_eq!(abandoned!(udp.readable()), 0, "{name}: udp readable");
                udp.connect(udp.local_addr().unwrap()).await.unwrap();
                assert_eq!(abandoned!(udp.recv(&mut buf)), 0, "{name}: recv");

                let (unix, _peer) = UnixStream::pair().unwrap();
                assert_eq!(abandoned!(unix.readable()), 0, "{name}: unix readable");
                let dir =
                    std::env::temp_dir().join(format!("spindle-rt-io-cancel-{}-{name}", std::process::id()));
                let _ = std::fs::remove_dir_all(&dir);
                std::fs::create_dir_all(&dir).unwrap();
                let unix_listener = UnixListener::bind(dir.join("l.sock")).unwrap();
                assert_eq!(abandoned!(unix_listener.accept()), 0, "{name}: unix accept");
                let dgram = UnixDatagram::bind(dir.join("d.sock")).unwrap();
                assert_eq!(abandoned!(dgram.recv(&mut buf)), 0, "{name}: unix datagram recv");
                std::fs::remove_dir_all(&dir).unwrap();

                // The write direction: a full send buffer.
                let (full, _idle) = UnixStream::pair().unwrap();
                while full.try_write(&[0u8; 65536]).is_ok() {}
                assert_eq!(abandoned!(full.writable()), 0, "{name}: writable on a full socket");

                let (pipe_rd, _pipe_wr) = rustix::pipe::pipe().unwrap();
                rustix::io::ioctl_fionbio(&pipe_rd, true).unwrap();
                let fd = AsyncFd::new(pipe_rd).unwrap();
                assert_eq!(abandoned!(fd.readable()), 0, "{name}: AsyncFd readable");
            });
        });
    }
}

/// The tokio pattern: many tasks each wait on one shared socket under a
/// timeout, most time out, the rest are aborted; the ones still waiting
/// are still woken, one datagram each.
#[test]
fn timed_out_and_aborted_receivers_do_not_cost_the_live_ones_their_wake_up() {
    for name in FLAVORS {
        bounded(move || {
            runtime(name).block_on(async {
                let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
                let addr = socket.local_addr().unwrap();
                // Timed out: each leaves its wait behind as the timer fires.
                let mut timed_out = Vec::new();
                for _ in 0..200 {
                    let socket = Arc::clone(&socket);
                    timed_out.push(spindle_rt::spawn(async move {
                        let mut buf = [0; 8];
                        spindle_rt::time::timeout(Duration::from_millis(5), socket.recv_from(&mut buf)).await
                    }));
                }
                for t in timed_out {
                    assert!(t.await.unwrap().is_err(), "{name}: nothing was sent");
                }
                // Live receivers and aborted ones, interleaved.
                let received = Arc::new(AtomicUsize::new(0));
                let mut live = Vec::new();
                let mut doomed = Vec::new();
                for i in 0..100 {
                    let (socket, received) = (Arc::clone(&socket), Arc::clone(&received));
                    let task = spindle_rt::spawn(async move {
                        let mut buf = [0; 8];
                        socket.recv_from(&mut buf).await.unwrap();
                        received.fetch_add(1, SeqCst);
                    });
                    if i % 2 == 0 {
                        live.push(task)
                    } else {
                        doomed.push(task)
                    }
                }
                spindle_rt::time::sleep(Duration::from_millis(20)).await;
                for t in &doomed {
                    t.abort();
                }
                for t in doomed {
                    assert!(t.await.unwrap_err().is_cancelled());
                }
                let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                for k in 0..live.len() {
                    client.send_to(&[k as u8], addr).await.unwrap();
                    while received.load(SeqCst) <= k {
                        spindle_rt::time::sleep(Duration::from_millis(1)).await;
                    }
                }
                for t in live {
                    t.await.unwrap();
                }
            });
        });
    }
}
