//! `examples/proxy.rs` driven by real TCP clients and upstreams: 64 MiB
//! each way through it, half-closes passed on both ways, an upstream that
//! refuses (then comes up) or never answers, and the connection limit, on
//! both runtime flavors where scheduling matters.
//!
//! Every wait is bounded by [`WAIT`]; nothing sleeps to synchronise (the
//! one negative check, "not served while over the limit", waits a short
//! bounded time for what must not happen).

#[path = "../examples/proxy.rs"]
#[allow(dead_code)]
mod proxy;
mod rt_support;

use proxy::{Config, Stats};
use rt_support::{both, bounded, rt};
use spindle_rt::io::AsyncReadExt;
use spindle_rt::net::{TcpListener, TcpSocket, TcpStream};
use spindle_rt::sync::oneshot;
use spindle_rt::task::JoinHandle;
use spindle_rt::time::timeout;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

/// The bound on every wait.
const WAIT: Duration = Duration::from_secs(5);

/// An echo upstream on `127.0.0.1:0`: echoes each connection until its
/// end of stream, then closes its write side.
async fn echo_upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    spindle_rt::spawn(echo_on(listener));
    addr
}

/// Serves echo on `listener` forever.
async fn echo_on(listener: TcpListener) {
    loop {
        let (mut stream, _) = listener.accept().await.expect("accept");
        spindle_rt::spawn(async move {
            let (mut rd, mut wr) = stream.split();
            let _ = spindle_rt::io::copy(&mut rd, &mut wr).await;
            let _ = wr.shutdown().await;
        });
    }
}

/// A running proxy: its address, counters, stop switch and task.
struct Proxy {
    addr: SocketAddr,
    stats: Arc<Stats>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<io::Result<()>>,
}

impl Proxy {
    /// A proxy on `127.0.0.1:0` in front of `upstream`.
    async fn start(upstream: SocketAddr, max_connections: usize) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let config =
            Config { upstream, connect_timeout: Duration::from_millis(300), max_connections, grace: WAIT };
        let stats = Arc::new(Stats::default());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = spindle_rt::spawn(proxy::serve(listener, config, Arc::clone(&stats), async {
            let _ = stopped.await;
        }));
        Proxy { addr, stats, stop, task }
    }

    /// Stops the proxy and waits for it (open connections get the grace
    /// period).
    async fn stop(self) -> Arc<Stats> {
        let _ = self.stop.send(());
        timeout(WAIT, self.task).await.expect("shutdown within the limit").expect("task").expect("serve");
        self.stats
    }
}

/// The test pattern's period: a prime, so it lines up with no buffer.
const PERIOD: usize = 1_048_573;

/// One period of the test pattern: the stream's byte `i` is
/// `block[i % PERIOD]`. (Slices of it are written and compared whole, so
/// a debug build checks 64 MiB quickly.)
fn pattern_block() -> Vec<u8> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..PERIOD)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[0]
        })
        .collect()
}

/// Writes `len` pattern bytes from offset 0, then closes the write side.
async fn send_pattern(wr: &mut spindle_rt::net::tcp::OwnedWriteHalf, len: usize) {
    let block = pattern_block();
    let mut sent = 0;
    while sent < len {
        let at = sent % PERIOD;
        let n = (PERIOD - at).min(len - sent).min(256 * 1024);
        wr.write_all(&block[at..at + n]).await.expect("write");
        sent += n;
    }
    wr.shutdown().await.expect("shutdown");
}

/// Reads to end of stream, checking every byte against the pattern;
/// returns how many came.
async fn check_pattern(rd: &mut spindle_rt::net::tcp::OwnedReadHalf) -> usize {
    let block = pattern_block();
    let mut buf = vec![0u8; 256 * 1024];
    let mut got = 0;
    loop {
        let n = rd.read(&mut buf).await.expect("read");
        if n == 0 {
            return got;
        }
        let mut checked = 0;
        while checked < n {
            let at = (got + checked) % PERIOD;
            let m = (PERIOD - at).min(n - checked);
            assert!(
                buf[checked..checked + m] == block[at..at + m],
                "bytes differ near offset {}",
                got + checked
            );
            checked += m;
        }
        got += n;
    }
}

#[test]
fn sixty_four_mib_each_way_arrive_intact() {
    const LEN: usize = 64 << 20;
    bounded_by_30(|| {
        for (flavor, rt) in both() {
            rt.block_on(async {
                let proxy = Proxy::start(echo_upstream().await, 16).await;
                let (mut rd, mut wr) = TcpStream::connect(proxy.addr).await.expect("connect").into_split();
                // Writing and reading at once: the echo sends back while
                // the rest is still on its way up.
                let writer = spindle_rt::spawn(async move { send_pattern(&mut wr, LEN).await });
                let got = timeout(Duration::from_secs(20), check_pattern(&mut rd)).await.expect("in time");
                writer.await.expect("writer");
                assert_eq!(got, LEN, "{flavor}");
                let stats = proxy.stop().await;
                let len = LEN as u64;
                assert_eq!(
                    (stats.bytes_up.load(Relaxed), stats.bytes_down.load(Relaxed)),
                    (len, len),
                    "{flavor}"
                );
            });
        }
    });
}

/// [`bounded`] with room for the 64 MiB test in a debug build.
fn bounded_by_30<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    rt_support::bounded_by(Duration::from_secs(30), f)
}

#[test]
fn a_half_close_travels_through_both_ways() {
    bounded(|| {
        for (flavor, rt) in both() {
            rt.block_on(async {
                // Client first: the upstream counts what came before the
                // client's end of stream, and answers after it.
                let upstream = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                let proxy = Proxy::start(upstream.local_addr().expect("addr"), 16).await;
                let counter = spindle_rt::spawn(async move {
                    let (mut s, _) = upstream.accept().await.expect("accept");
                    let mut all = Vec::new();
                    s.read_to_end(&mut all).await.expect("read to the client's end of stream");
                    s.write_all(format!("got {} bytes", all.len()).as_bytes()).await.expect("answer");
                    upstream
                });
                let mut client = TcpStream::connect(proxy.addr).await.expect("connect");
                client.write_all(&vec![7u8; 300_000]).await.expect("write");
                client.shutdown().await.expect("shut the write side");
                let mut answer = String::new();
                let read = timeout(WAIT, client.read_to_string(&mut answer)).await.expect("in time");
                read.expect("read after the half-close");
                assert_eq!(answer, "got 300000 bytes", "{flavor}");
                let upstream = counter.await.expect("upstream");

                // Upstream first: it says hello and closes its write side;
                // the client sees the end of stream, and still talks.
                let (done_tx, done) = oneshot::channel();
                spindle_rt::spawn(async move {
                    let (mut s, _) = upstream.accept().await.expect("accept");
                    s.write_all(b"hello").await.expect("write");
                    s.shutdown().await.expect("shut the write side");
                    let mut all = Vec::new();
                    s.read_to_end(&mut all).await.expect("read after its own half-close");
                    let _ = done_tx.send(all);
                });
                let mut client = TcpStream::connect(proxy.addr).await.expect("connect");
                let mut hello = Vec::new();
                timeout(WAIT, client.read_to_end(&mut hello)).await.expect("in time").expect("read");
                assert_eq!(hello, b"hello", "{flavor}");
                client.write_all(b"still here").await.expect("write after the upstream's half-close");
                client.shutdown().await.expect("shutdown");
                let heard = timeout(WAIT, done).await.expect("in time").expect("upstream");
                assert_eq!(heard, b"still here", "{flavor}");
                let stats = proxy.stop().await;
                assert_eq!(stats.copy_failed.load(Relaxed), 0, "{flavor}");
            });
        }
    });
}

/// Reads until end of stream or a reset; fails after [`WAIT`].
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    match timeout(WAIT, stream.read_to_end(&mut all)).await.expect("closed within the limit") {
        Ok(_) => {}
        Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e}"),
    }
    all
}

#[test]
fn a_refusing_upstream_closes_the_client_and_the_proxy_serves_on() {
    bounded(|| {
        for (flavor, rt) in both() {
            rt.block_on(async {
                // A port nothing listens on (until later).
                let port_holder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
                let upstream = port_holder.local_addr().expect("addr");
                drop(port_holder);
                let proxy = Proxy::start(upstream, 16).await;
                for _ in 0..3 {
                    let mut client = TcpStream::connect(proxy.addr).await.expect("connect");
                    let _ = client.write_all(b"anyone?").await;
                    assert_eq!(read_until_closed(&mut client).await, b"", "{flavor}");
                }
                assert_eq!(proxy.stats.upstream_failed.load(Relaxed), 3, "{flavor}");

                // The upstream comes up on that port: the next client is
                // served.
                let listener = TcpListener::bind(upstream).await.expect("rebind the upstream's port");
                spindle_rt::spawn(echo_on(listener));
                let mut client = TcpStream::connect(proxy.addr).await.expect("connect");
                client.write_all(b"now?").await.expect("write");
                client.shutdown().await.expect("shutdown");
                assert_eq!(read_until_closed(&mut client).await, b"now?", "{flavor}");
                let stats = proxy.stop().await;
                assert_eq!(stats.accepted.load(Relaxed), 4, "{flavor}");
            });
        }
    });
}

#[test]
fn an_upstream_that_never_answers_hits_the_connect_timeout() {
    bounded(|| {
        rt().block_on(async {
            // A listener with a full backlog: Linux drops further SYNs, so
            // a connect to it hangs.
            let socket = TcpSocket::new_v4().expect("socket");
            socket.bind("127.0.0.1:0".parse().expect("addr")).expect("bind");
            let full = socket.listen(0).expect("listen");
            let upstream = full.local_addr().expect("addr");
            let mut fillers = Vec::new();
            let mut hung = None;
            for _ in 0..8 {
                match timeout(Duration::from_millis(200), TcpStream::connect(upstream)).await {
                    Ok(conn) => fillers.push(conn.expect("connect")),
                    Err(_) => {
                        hung = Some(());
                        break;
                    }
                }
            }
            assert!(hung.is_some(), "the backlog never filled: {} connections queued", fillers.len());
            let proxy = Proxy::start(upstream, 16).await;
            let started = std::time::Instant::now();
            let mut client = TcpStream::connect(proxy.addr).await.expect("connect");
            assert_eq!(read_until_closed(&mut client).await, b"");
            assert!(started.elapsed() >= Duration::from_millis(300), "closed before the connect timeout");
            assert_eq!(proxy.stats.upstream_failed.load(Relaxed), 1);
            proxy.stop().await;
            drop(full);
        });
    });
}

/// Writes `msg` and reads its echo back.
async fn round_trip(stream: &mut TcpStream, msg: &[u8]) {
    stream.write_all(msg).await.expect("write");
    let mut back = vec![0; msg.len()];
    timeout(WAIT, stream.read_exact(&mut back)).await.expect("echo within the limit").expect("read");
    assert_eq!(back, msg);
}

#[test]
fn no_more_than_max_connections_are_served_at_once() {
    bounded(|| {
        for (flavor, rt) in both() {
            rt.block_on(async {
                let proxy = Proxy::start(echo_upstream().await, 2).await;
                let mut a = TcpStream::connect(proxy.addr).await.expect("connect");
                round_trip(&mut a, b"a").await;
                let mut b = TcpStream::connect(proxy.addr).await.expect("connect");
                round_trip(&mut b, b"b").await;
                // The third connects (the kernel's backlog takes it) but
                // is not served while two are open.
                let mut c = TcpStream::connect(proxy.addr).await.expect("connect");
                c.write_all(b"c").await.expect("write");
                let mut byte = [0; 1];
                let early = timeout(Duration::from_millis(150), c.read(&mut byte)).await;
                assert!(early.is_err(), "{flavor}: a third connection was served over the limit");
                assert_eq!(proxy.stats.accepted.load(Relaxed), 2, "{flavor}");
                // One closes: the third is served, and still over its
                // first bytes.
                drop(a);
                timeout(WAIT, c.read_exact(&mut byte))
                    .await
                    .expect("served after a slot freed")
                    .expect("read");
                assert_eq!(&byte, b"c", "{flavor}");
                round_trip(&mut c, b"more").await;
                round_trip(&mut b, b"b again").await;
                drop((b, c));
                let stats = proxy.stop().await;
                assert_eq!(stats.accepted.load(Relaxed), 3, "{flavor}");
            });
        }
    });
}
