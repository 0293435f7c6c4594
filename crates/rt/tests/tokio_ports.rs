//! Typical tokio network programs, written as a tokio user writes them,
//! compiled against spindle-rt through `use spindle_rt as tokio;`. Each
//! runs real clients against its server on 127.0.0.1 (port 0), on both
//! runtimes where that makes sense, with every wait bounded.
//!
//! The bodies are tokio code, `use tokio::io::{...}` lines included; where
//! a line differs from what a tokio program has, a `// port:` comment says
//! what and why (the deliberate differences listed under "Porting from
//! tokio" in the crate docs).

mod rt_support;

use rt_support::bounded;
use spindle_rt as tokio;
use std::time::Duration;

/// The bound on each program's whole run (inside the runtime).
const LIMIT: Duration = Duration::from_secs(8);

/// An echo server: accept, spawn a task per connection, copy back what
/// arrives until EOF. The tokio tutorial's first server.
mod echo {
    use super::tokio;
    // port: the streams' own `read`, `read_exact`, `write` and `write_all`
    // are called before the traits' (same signatures), which can leave a
    // trait import unused: a warning, not an error.
    #[allow(unused_imports)]
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    pub async fn serve(listener: TcpListener) -> std::io::Result<()> {
        loop {
            let (mut socket, _) = listener.accept().await?;
            tokio::spawn(async move {
                let mut buf = [0; 1024];
                loop {
                    let n = match socket.read(&mut buf).await {
                        Ok(0) => return,
                        Ok(n) => n,
                        Err(e) => {
                            eprintln!("failed to read from socket; err = {e:?}");
                            return;
                        }
                    };
                    if let Err(e) = socket.write_all(&buf[0..n]).await {
                        eprintln!("failed to write to socket; err = {e:?}");
                        return;
                    }
                }
            });
        }
    }

    /// Sends `msg`, reads the same number of bytes back.
    pub async fn roundtrip(addr: std::net::SocketAddr, msg: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (mut rd, mut wr) = stream.split();
        let mut back = vec![0; msg.len()];
        let ((), n) = tokio::try_join!(wr.write_all(msg), rd.read_exact(&mut back))?;
        assert_eq!(n, msg.len());
        Ok(back)
    }

    #[tokio::main(flavor = "current_thread")]
    pub async fn main_current_thread() -> std::io::Result<()> {
        tokio::time::timeout(super::LIMIT, run()).await?
    }

    #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
    pub async fn main_multi_thread() -> std::io::Result<()> {
        tokio::time::timeout(super::LIMIT, run()).await?
    }

    async fn run() -> std::io::Result<()> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(serve(listener));
        let mut clients = Vec::new();
        for i in 0..8u8 {
            clients.push(tokio::spawn(async move {
                let msg = vec![i; 3000 + usize::from(i)];
                let back = roundtrip(addr, &msg).await?;
                assert_eq!(back, msg);
                Ok::<_, std::io::Error>(())
            }));
        }
        for client in clients {
            client.await??;
        }
        server.abort();
        assert!(server.await.unwrap_err().is_cancelled());
        Ok(())
    }
}

#[test]
fn echo_server_current_thread() {
    bounded(|| echo::main_current_thread().unwrap());
}

#[test]
fn echo_server_multi_thread() {
    bounded(|| echo::main_multi_thread().unwrap());
}

/// A line-based chat server: every line a client sends goes to all the
/// other clients, through a `broadcast` channel; each connection reads
/// lines and forwards broadcasts in one `select!` loop.
mod chat {
    use super::tokio;
    use std::net::SocketAddr;
    use std::time::Duration;
    // port: see `echo` on unused trait imports.
    #[allow(unused_imports)]
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::broadcast;

    pub async fn serve(listener: TcpListener) -> std::io::Result<()> {
        let (tx, _rx) = broadcast::channel::<(SocketAddr, String)>(16);
        loop {
            let (socket, addr) = listener.accept().await?;
            let tx = tx.clone();
            let mut rx = tx.subscribe();
            tokio::spawn(async move {
                let (reader, mut writer) = socket.into_split();
                let mut lines = BufReader::new(reader).lines();
                loop {
                    tokio::select! {
                        line = lines.next_line() => {
                            match line {
                                Ok(Some(line)) => {
                                    let _ = tx.send((addr, line));
                                }
                                Ok(None) | Err(_) => break,
                            }
                        }
                        msg = rx.recv() => {
                            let (from, msg) = match msg {
                                Ok(m) => m,
                                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                                Err(broadcast::error::RecvError::Closed) => break,
                            };
                            if from != addr && writer.write_all(format!("{from}: {msg}\n").as_bytes()).await.is_err() {
                                break;
                            }
                        }
                    }
                }
            });
        }
    }

    /// A client: connects, then reads lines as they come.
    struct Client {
        addr: SocketAddr,
        lines: tokio::io::Lines<BufReader<tokio::net::tcp::OwnedReadHalf>>,
        writer: tokio::net::tcp::OwnedWriteHalf,
    }

    impl Client {
        async fn connect(server: SocketAddr) -> std::io::Result<Client> {
            let stream = TcpStream::connect(server).await?;
            let addr = stream.local_addr()?;
            let (reader, writer) = stream.into_split();
            Ok(Client { addr, lines: BufReader::new(reader).lines(), writer })
        }

        async fn say(&mut self, line: &str) -> std::io::Result<()> {
            self.writer.write_all(format!("{line}\n").as_bytes()).await
        }

        async fn hear(&mut self) -> std::io::Result<Option<String>> {
            self.lines.next_line().await
        }
    }

    async fn run() -> std::io::Result<()> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let server_addr = listener.local_addr()?;
        tokio::spawn(serve(listener));
        let mut alice = Client::connect(server_addr).await?;
        let mut bob = Client::connect(server_addr).await?;
        let mut carol = Client::connect(server_addr).await?;
        // Each client's subscription exists once its connection is
        // accepted; a round of messages that all others hear proves it.
        loop {
            alice.say("ping").await?;
            match tokio::time::timeout(Duration::from_millis(50), bob.hear()).await {
                Ok(line) => {
                    assert_eq!(line?.as_deref(), Some(format!("{}: ping", alice.addr).as_str()));
                    break;
                }
                Err(_) => continue,
            }
        }
        // carol may have heard some pings too: drain them.
        carol.say("carol here").await?;
        let expect = format!("{}: carol here", carol.addr);
        for c in [&mut alice, &mut bob] {
            loop {
                let line = c.hear().await?.expect("a line");
                if line == expect {
                    break;
                }
                assert!(line.ends_with(": ping"), "{line}");
            }
        }
        bob.say("bye").await?;
        let bob_addr = bob.addr;
        drop(bob);
        for c in [&mut alice, &mut carol] {
            loop {
                let line = c.hear().await?.expect("a line");
                if line == format!("{bob_addr}: bye") {
                    break;
                }
                assert!(line.ends_with(": ping"), "{line}");
            }
        }
        Ok(())
    }

    pub fn on(rt: tokio::runtime::Runtime) {
        rt.block_on(async { tokio::time::timeout(super::LIMIT, run()).await.unwrap().unwrap() });
    }
}

#[test]
fn chat_server_current_thread() {
    bounded(|| {
        chat::on(tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap());
    });
}

#[test]
fn chat_server_multi_thread() {
    bounded(|| {
        chat::on(tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap());
    });
}

/// Graceful shutdown, in mini-redis's shape: the accept loop selects over
/// `accept` and a shutdown signal (ctrl-c, or a `watch` the test flips);
/// each connection holds a clone of an mpsc sender, and the server waits
/// for all of them to drop before it returns.
mod shutdown {
    use super::tokio;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    // port: see `echo` on unused trait imports.
    #[allow(unused_imports)]
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::{mpsc, watch};

    pub async fn serve(
        listener: TcpListener,
        mut shutdown: watch::Receiver<bool>,
        served: Arc<AtomicUsize>,
    ) -> std::io::Result<()> {
        let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
        loop {
            let (mut socket, _) = tokio::select! {
                res = listener.accept() => res?,
                _ = shutdown.changed() => break,
                _ = tokio::signal::ctrl_c() => break,
            };
            let done_tx = done_tx.clone();
            let mut shutdown = shutdown.clone();
            let served = served.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 64];
                loop {
                    tokio::select! {
                        n = socket.read(&mut buf) => match n {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                if socket.write_all(&buf[..n]).await.is_err() {
                                    break;
                                }
                            }
                        },
                        _ = shutdown.changed() => {
                            let _ = socket.write_all(b"server shutting down\n").await;
                            break;
                        }
                    }
                }
                served.fetch_add(1, Ordering::SeqCst);
                drop(done_tx);
            });
        }
        drop(listener);
        drop(done_tx);
        // Every connection task has dropped its sender once this is `None`.
        let _ = done_rx.recv().await;
        Ok(())
    }

    async fn run() -> std::io::Result<()> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (notify_shutdown, shutdown) = watch::channel(false);
        let served = Arc::new(AtomicUsize::new(0));
        let server = tokio::spawn(serve(listener, shutdown, served.clone()));
        let mut conns = Vec::new();
        for _ in 0..3 {
            let mut c = TcpStream::connect(addr).await?;
            c.write_all(b"hi").await?;
            let mut buf = [0; 2];
            c.read_exact(&mut buf).await?;
            assert_eq!(&buf, b"hi");
            conns.push(c);
        }
        notify_shutdown.send(true).unwrap();
        for c in &mut conns {
            let mut note = Vec::new();
            let mut buf = [0; 64];
            loop {
                match c.read(&mut buf).await? {
                    0 => break,
                    n => note.extend_from_slice(&buf[..n]),
                }
            }
            assert_eq!(note, b"server shutting down\n");
        }
        server.await??;
        assert_eq!(served.load(Ordering::SeqCst), 3);
        // The listener is closed: a new connection is refused.
        let err = TcpStream::connect(addr).await.expect_err("listener closed");
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
        Ok(())
    }

    pub fn on(rt: tokio::runtime::Runtime) {
        rt.block_on(async { tokio::time::timeout(super::LIMIT, run()).await.unwrap().unwrap() });
    }
}

#[test]
fn graceful_shutdown_current_thread() {
    bounded(|| shutdown::on(tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()));
}

#[test]
fn graceful_shutdown_multi_thread() {
    bounded(|| shutdown::on(tokio::runtime::Runtime::new().unwrap()));
}

/// A client: `timeout` around `connect`, and a `JoinSet` of concurrent
/// requests to a line-per-request server, answered in any order.
mod client {
    use super::tokio;
    use std::net::SocketAddr;
    // port: see `echo` on unused trait imports.
    #[allow(unused_imports)]
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::task::JoinSet;
    use tokio::time::{timeout, Duration};

    /// Answers one request per connection: reads a number, replies with
    /// its square after a short nap (so requests overlap).
    async fn square_server(listener: TcpListener) {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 8];
                socket.read_exact(&mut buf).await?;
                let n = u64::from_be_bytes(buf);
                tokio::time::sleep(Duration::from_millis(n % 5)).await;
                socket.write_all(&(n * n).to_be_bytes()).await?;
                Ok::<_, std::io::Error>(())
            });
        }
    }

    async fn request(addr: SocketAddr, n: u64) -> std::io::Result<(u64, u64)> {
        let mut stream = timeout(Duration::from_secs(2), TcpStream::connect(addr)).await??;
        stream.write_all(&n.to_be_bytes()).await?;
        let mut buf = [0u8; 8];
        timeout(Duration::from_secs(2), stream.read_exact(&mut buf)).await??;
        Ok((n, u64::from_be_bytes(buf)))
    }

    #[tokio::main(flavor = "current_thread")]
    pub async fn main_current_thread() -> Result<(), Box<dyn std::error::Error>> {
        run().await
    }

    #[tokio::main]
    pub async fn main_multi_thread() -> Result<(), Box<dyn std::error::Error>> {
        run().await
    }

    async fn run() -> Result<(), Box<dyn std::error::Error>> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(square_server(listener));

        let mut set = JoinSet::new();
        for n in 0..20u64 {
            set.spawn(request(addr, n));
        }
        let mut seen = Vec::new();
        while let Some(res) = timeout(super::LIMIT, set.join_next()).await? {
            let (n, sq) = res??;
            assert_eq!(sq, n * n);
            seen.push(n);
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..20).collect::<Vec<_>>());

        // A request the server never answers (it waits for 8 bytes) times
        // out, and `Elapsed` turns into an `io::Error` for `?`.
        let mut stream = timeout(Duration::from_secs(2), TcpStream::connect(addr)).await??;
        stream.write_all(b"half").await?;
        let mut buf = [0u8; 8];
        let err: std::io::Error = timeout(Duration::from_millis(20), stream.read_exact(&mut buf))
            .await
            .map_err(std::io::Error::from)
            .expect_err("no answer to half a request");
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
        Ok(())
    }
}

#[test]
fn client_with_timeouts_and_join_set_current_thread() {
    bounded(|| client::main_current_thread().unwrap());
}

#[test]
fn client_with_timeouts_and_join_set_multi_thread() {
    bounded(|| client::main_multi_thread().unwrap());
}

/// A UDP echo server, shared through an `Arc` by two tasks, and a client
/// that connects its socket and talks through `send`/`recv`.
mod udp {
    use super::tokio;
    use std::sync::Arc;
    use tokio::net::UdpSocket;

    async fn echo(sock: Arc<UdpSocket>) -> std::io::Result<()> {
        let mut buf = [0; 1024];
        loop {
            let (len, addr) = sock.recv_from(&mut buf).await?;
            sock.send_to(&buf[..len], addr).await?;
        }
    }

    async fn run() -> std::io::Result<()> {
        let sock = Arc::new(UdpSocket::bind("127.0.0.1:0").await?);
        let server_addr = sock.local_addr()?;
        let a = tokio::spawn(echo(sock.clone()));
        let b = tokio::spawn(echo(sock));

        let client = UdpSocket::bind("127.0.0.1:0").await?;
        client.connect(server_addr).await?;
        let mut buf = [0; 1024];
        for i in 0..10u8 {
            let msg = [i; 32];
            client.send(&msg).await?;
            // Datagrams on loopback are not lost, but bound the wait anyway.
            let len =
                tokio::time::timeout(std::time::Duration::from_secs(2), client.recv(&mut buf)).await??;
            assert_eq!(&buf[..len], &msg);
        }
        // An unconnected socket, addressing the server by a string.
        let other = UdpSocket::bind("127.0.0.1:0").await?;
        other.send_to(b"by name", format!("127.0.0.1:{}", server_addr.port())).await?;
        let (len, from) =
            tokio::time::timeout(std::time::Duration::from_secs(2), other.recv_from(&mut buf)).await??;
        assert_eq!((&buf[..len], from), (&b"by name"[..], server_addr));
        a.abort();
        b.abort();
        Ok(())
    }

    pub fn on(rt: tokio::runtime::Runtime) {
        rt.block_on(async { tokio::time::timeout(super::LIMIT, run()).await.unwrap().unwrap() });
    }
}

#[test]
fn udp_echo_current_thread() {
    bounded(|| udp::on(tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()));
}

#[test]
fn udp_echo_multi_thread() {
    bounded(|| udp::on(tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap()));
}

/// A file server: reads the file with `fs::read`, checksums it on the
/// blocking pool with `spawn_blocking`, and sends length, checksum and
/// bytes.
mod files {
    use super::tokio;
    use std::path::PathBuf;
    // port: see `echo` on unused trait imports.
    #[allow(unused_imports)]
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    fn checksum(data: &[u8]) -> u32 {
        data.iter().fold(0u32, |h, &b| h.rotate_left(5) ^ u32::from(b))
    }

    async fn serve(listener: TcpListener, path: PathBuf) -> std::io::Result<()> {
        loop {
            let (mut socket, _) = listener.accept().await?;
            let path = path.clone();
            tokio::spawn(async move {
                let data = tokio::fs::read(&path).await?;
                let (data, sum) = tokio::task::spawn_blocking(move || {
                    let sum = checksum(&data);
                    (data, sum)
                })
                .await?;
                socket.write_all(&(data.len() as u64).to_be_bytes()).await?;
                socket.write_all(&sum.to_be_bytes()).await?;
                socket.write_all(&data).await?;
                socket.flush().await?;
                // port: a whole stream's inherent `shutdown` is std's
                // `shutdown(how)`, which hides the trait's; tokio's
                // `socket.shutdown().await?` names the trait.
                AsyncWriteExt::shutdown(&mut socket).await?;
                Ok::<_, std::io::Error>(())
            });
        }
    }

    async fn run(dir: PathBuf) -> std::io::Result<()> {
        let path = dir.join("payload.bin");
        let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        tokio::fs::write(&path, &payload).await?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(serve(listener, path));

        let mut stream = TcpStream::connect(addr).await?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await?;
        let len = u64::from_be_bytes(head[..8].try_into().unwrap());
        let sum = u32::from_be_bytes(head[8..].try_into().unwrap());
        let mut body = vec![0; usize::try_from(len).unwrap()];
        stream.read_exact(&mut body).await?;
        assert_eq!(body, payload);
        assert_eq!(stream.read(&mut [0; 1]).await?, 0, "closed after the body");
        assert_eq!(sum, checksum(&payload));
        Ok(())
    }

    pub fn on(rt: tokio::runtime::Runtime, dir: PathBuf) {
        rt.block_on(async { tokio::time::timeout(super::LIMIT, run(dir)).await.unwrap().unwrap() });
    }
}

#[test]
fn file_server_with_spawn_blocking_current_thread() {
    let dir = rt_support::TempDir::new("tokio-ports");
    let path = dir.0.clone();
    bounded(move || {
        files::on(tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap(), path)
    });
}

#[test]
fn file_server_with_spawn_blocking_multi_thread() {
    let dir = rt_support::TempDir::new("tokio-ports");
    let path = dir.0.clone();
    bounded(move || files::on(tokio::runtime::Runtime::new().unwrap(), path));
}

/// A TCP proxy: each accepted connection is joined to an upstream one, the
/// two directions copied with `io::copy` under `try_join!`; a `pin!`ned
/// deadline bounds the whole session in a `select!` loop, and the upstream
/// computes its answers on the blocking pool through a `JoinSet`.
mod proxy {
    use super::tokio;
    use std::net::SocketAddr;
    // port: see `echo` on unused trait imports.
    #[allow(unused_imports)]
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::task::JoinSet;
    use tokio::time::{sleep, Duration};

    async fn proxy(inbound: TcpStream, upstream: SocketAddr) -> std::io::Result<()> {
        let outbound = TcpStream::connect(upstream).await?;
        let (mut ri, mut wi) = inbound.into_split();
        let (mut ro, mut wo) = outbound.into_split();
        let client_to_server = async {
            tokio::io::copy(&mut ri, &mut wo).await?;
            wo.shutdown().await
        };
        let server_to_client = async {
            tokio::io::copy(&mut ro, &mut wi).await?;
            wi.shutdown().await
        };
        tokio::try_join!(client_to_server, server_to_client)?;
        Ok(())
    }

    /// Reads numbers (8 bytes each) until EOF, sums their squares on the
    /// blocking pool, one job per number, and answers with the sum.
    async fn upstream(listener: TcpListener) -> std::io::Result<()> {
        loop {
            let (mut socket, _) = listener.accept().await?;
            tokio::spawn(async move {
                let mut jobs = JoinSet::new();
                let mut buf = [0u8; 8];
                loop {
                    match socket.read_exact(&mut buf).await {
                        Ok(_) => {
                            let n = u64::from_be_bytes(buf);
                            jobs.spawn_blocking(move || n * n);
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                        Err(e) => return Err(e),
                    }
                }
                let sum: u64 = jobs.join_all().await.into_iter().sum();
                socket.write_all(&sum.to_be_bytes()).await
            });
        }
    }

    async fn run() -> std::io::Result<()> {
        let up = TcpListener::bind("127.0.0.1:0").await?;
        let up_addr = up.local_addr()?;
        let front = TcpListener::bind("127.0.0.1:0").await?;
        let front_addr = front.local_addr()?;
        tokio::spawn(upstream(up));
        tokio::spawn(async move {
            while let Ok((inbound, _)) = front.accept().await {
                tokio::spawn(proxy(inbound, up_addr));
            }
        });

        let session = async {
            let mut client = TcpStream::connect(front_addr).await?;
            for n in 1..=10u64 {
                client.write_all(&n.to_be_bytes()).await?;
            }
            // port: as in `files` above, the whole stream's `shutdown` is
            // std's; tokio's `client.shutdown().await?` names the trait.
            AsyncWriteExt::shutdown(&mut client).await?;
            let mut answer = [0u8; 8];
            client.read_exact(&mut answer).await?;
            let mut rest = [0u8; 1];
            assert_eq!(client.read(&mut rest).await?, 0, "EOF passed on through the proxy");
            Ok::<_, std::io::Error>(u64::from_be_bytes(answer))
        };
        let (sum, ()) = tokio::join!(session, async {});
        assert_eq!(sum?, (1..=10u64).map(|n| n * n).sum::<u64>());

        // A deadline kept across iterations of a `select!` loop.
        let deadline = sleep(Duration::from_secs(5));
        tokio::pin!(deadline);
        let mut ticks = tokio::time::interval(Duration::from_millis(1));
        let mut count = 0;
        loop {
            tokio::select! {
                _ = &mut deadline => panic!("five ticks took five seconds"),
                _ = ticks.tick() => {
                    count += 1;
                    if count == 5 {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    pub fn on(rt: tokio::runtime::Runtime) {
        rt.block_on(async { tokio::time::timeout(super::LIMIT, run()).await.unwrap().unwrap() });
    }
}

#[test]
fn proxy_with_try_join_and_io_copy_current_thread() {
    bounded(|| proxy::on(tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()));
}

#[test]
fn proxy_with_try_join_and_io_copy_multi_thread() {
    bounded(|| {
        proxy::on(tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap())
    });
}
