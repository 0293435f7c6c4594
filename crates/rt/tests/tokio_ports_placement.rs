//! More tokio programs ported through `use spindle_rt as tokio;` (see
//! `tokio_ports.rs`): those about where the runtime and the tasks live.
//! `!Send` state served from a `LocalSet` on either runtime, and a
//! runtime shared by many threads, as tokio code does with a
//! `static RT: OnceLock<Runtime>`. Real clients on 127.0.0.1 (port 0),
//! every wait bounded.

mod rt_support;

use rt_support::bounded;
use spindle_rt as tokio;
use std::time::Duration;

/// The bound on each program's whole run (inside the runtime).
const LIMIT: Duration = Duration::from_secs(8);

/// A server whose state is `!Send` (per-key counters in an
/// `Rc<RefCell<HashMap>>`), run as tokio runs `!Send` code: each
/// connection task is `spawn_local`ed inside a `LocalSet`, which
/// `run_until` (current-thread) or `LocalSet::block_on` (multi-thread)
/// drives. Its clients, async tasks and a blocking one with a `std`
/// socket, keep their handles in one `Vec<JoinHandle<_>>`.
mod local_counter {
    use super::tokio;
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::io::{BufRead, Write};
    use std::net::SocketAddr;
    use std::rc::Rc;
    use std::time::Duration;
    // port: see `tokio_ports.rs` on unused trait imports.
    #[allow(unused_imports)]
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::task::{JoinHandle, LocalSet};

    type Counts = Rc<RefCell<HashMap<String, u64>>>;

    async fn serve(listener: TcpListener, counts: Counts) -> std::io::Result<()> {
        loop {
            let (socket, _) = listener.accept().await?;
            let counts = counts.clone();
            tokio::task::spawn_local(async move {
                let (rd, mut wr) = socket.into_split();
                let mut lines = BufReader::new(rd).lines();
                while let Some(key) = lines.next_line().await? {
                    // A timer inside a local task, on either runtime.
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    let n = {
                        let mut counts = counts.borrow_mut();
                        let n = counts.entry(key).or_insert(0);
                        *n += 1;
                        *n
                    };
                    wr.write_all(format!("{n}\n").as_bytes()).await?;
                }
                Ok::<_, std::io::Error>(())
            });
        }
    }

    async fn client(addr: SocketAddr, keys: &[&str]) -> std::io::Result<Vec<u64>> {
        let stream = TcpStream::connect(addr).await?;
        let (rd, mut wr) = stream.into_split();
        let mut lines = BufReader::new(rd).lines();
        let mut seen = Vec::new();
        for key in keys {
            wr.write_all(format!("{key}\n").as_bytes()).await?;
            let line = lines.next_line().await?.expect("an answer per key");
            seen.push(line.parse().expect("a number"));
        }
        Ok(seen)
    }

    async fn run() -> std::io::Result<()> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let counts = Counts::default();
        let server = tokio::task::spawn_local(serve(listener, counts.clone()));

        let mut clients: Vec<JoinHandle<std::io::Result<Vec<u64>>>> = Vec::new();
        for _ in 0..3 {
            clients.push(tokio::spawn(async move { client(addr, &["a", "b", "a"]).await }));
        }
        clients.push(tokio::task::spawn_blocking(move || {
            let mut stream = std::net::TcpStream::connect(addr)?;
            stream.set_read_timeout(Some(super::LIMIT))?;
            stream.write_all(b"c\n")?;
            let mut line = String::new();
            std::io::BufReader::new(stream).read_line(&mut line)?;
            Ok(vec![line.trim().parse().expect("a number")])
        }));
        for client in clients {
            match client.await??[..] {
                // The same client's second "a" is counted after its first.
                [a1, b, a2] => assert!(a2 > a1 && b >= 1, "{a1} {b} {a2}"),
                [c] => assert_eq!(c, 1),
                ref other => panic!("unexpected answers {other:?}"),
            }
        }
        server.abort();
        assert!(server.await.unwrap_err().is_cancelled());
        let counts = counts.borrow();
        assert_eq!((counts["a"], counts["b"], counts["c"]), (6, 3, 1));
        Ok(())
    }

    #[tokio::main(flavor = "current_thread")]
    pub async fn main_current_thread() -> std::io::Result<()> {
        let local = LocalSet::new();
        local.run_until(tokio::time::timeout(super::LIMIT, run())).await?
    }

    pub fn main_multi_thread() -> std::io::Result<()> {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        let local = LocalSet::new();
        local.block_on(&rt, async { tokio::time::timeout(super::LIMIT, run()).await })?
    }
}

#[test]
fn local_set_server_with_rc_state_current_thread() {
    bounded(|| local_counter::main_current_thread().unwrap());
}

#[test]
fn local_set_server_with_rc_state_multi_thread() {
    bounded(|| local_counter::main_multi_thread().unwrap());
}

/// A library that keeps one runtime for the whole process and lets any
/// thread run async code on it: in tokio, `static RT: OnceLock<Runtime>`
/// and `RT.get().unwrap().block_on(..)` from every thread. Here each
/// thread fetches a page from a real server through the shared runtime.
mod shared_runtime {
    use super::tokio;
    use std::sync::OnceLock;
    // port: see `tokio_ports.rs` on unused trait imports.
    #[allow(unused_imports)]
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::runtime::{Builder, Handle, Runtime};

    // port: `Runtime` is `!Sync` (see the crate docs), so the static holds
    // its `Handle`, which is `Send + Sync` and has `block_on` too; the
    // runtime itself stays with the thread that built it (`main` here).
    static RT: OnceLock<Handle> = OnceLock::new();

    fn runtime() -> &'static Handle {
        RT.get().expect("init called first")
    }

    pub fn init() -> Runtime {
        let rt = Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        RT.set(rt.handle()).expect("init once");
        rt
    }

    async fn serve(listener: TcpListener) {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut name = [0u8; 1];
                socket.read_exact(&mut name).await.unwrap();
                tokio::time::sleep(tokio::time::Duration::from_millis(1)).await;
                socket.write_all(&[name[0], b'!']).await.unwrap();
            });
        }
    }

    /// What a plain thread of the program calls.
    pub fn fetch(addr: std::net::SocketAddr, name: u8) -> [u8; 2] {
        runtime().block_on(async move {
            let fetch = async {
                let mut stream = TcpStream::connect(addr).await?;
                stream.write_all(&[name]).await?;
                let mut reply = [0u8; 2];
                stream.read_exact(&mut reply).await?;
                Ok::<_, std::io::Error>(reply)
            };
            tokio::time::timeout(super::LIMIT, fetch).await.unwrap().unwrap()
        })
    }

    pub fn main() {
        let rt = init();
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = rt.spawn(serve(listener));
        let threads: Vec<_> =
            (b'a'..=b'h').map(|name| std::thread::spawn(move || fetch(addr, name))).collect();
        for (name, thread) in (b'a'..=b'h').zip(threads) {
            assert_eq!(thread.join().unwrap(), [name, b'!']);
        }
        server.abort();
        assert!(rt.block_on(server).unwrap_err().is_cancelled());
    }
}

#[test]
fn a_runtime_shared_by_threads_through_a_static_handle() {
    bounded(shared_runtime::main);
}

/// A sync library with one current-thread runtime per thread, in a
/// `thread_local!` (a tokio pattern, and the natural home of a `!Send`
/// runtime): each call `block_on`s on the calling thread's runtime, and a
/// background task (a server on a socket, with a timer) stays in it
/// between calls. The runtime is dropped by the thread-local's destructor
/// at thread exit, its tasks with it.
mod per_thread_runtime {
    use super::tokio;
    // port: see `tokio_ports.rs` on unused trait imports.
    #[allow(unused_imports)]
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::runtime::{Builder, Runtime};

    thread_local! {
        static RT: Runtime = Builder::new_current_thread().enable_all().build().unwrap();
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        RT.with(|rt| rt.block_on(f))
    }

    /// Starts this thread's echo server; it runs whenever the thread is
    /// inside `block_on`.
    fn start_server() -> std::net::SocketAddr {
        block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move {
                loop {
                    let (mut socket, _) = listener.accept().await.unwrap();
                    tokio::spawn(async move {
                        let mut byte = [0u8; 1];
                        socket.read_exact(&mut byte).await.unwrap();
                        tokio::time::sleep(tokio::time::Duration::from_millis(1)).await;
                        socket.write_all(&byte).await.unwrap();
                    });
                }
            });
            // A task still sleeping when the thread exits.
            tokio::spawn(tokio::time::sleep(tokio::time::Duration::from_secs(3600)));
            addr
        })
    }

    fn echo(addr: std::net::SocketAddr, byte: u8) -> u8 {
        block_on(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream.write_all(&[byte]).await.unwrap();
            let mut back = [0u8; 1];
            tokio::time::timeout(super::LIMIT, stream.read_exact(&mut back)).await.unwrap().unwrap();
            back[0]
        })
    }

    pub fn main() {
        let threads: Vec<_> = (0..4u8)
            .map(|t| {
                std::thread::spawn(move || {
                    let addr = start_server();
                    (0..3u8).map(|i| echo(addr, t * 10 + i)).collect::<Vec<_>>()
                })
            })
            .collect();
        for (t, thread) in (0..4u8).zip(threads) {
            // The thread exited: its runtime was dropped at thread exit,
            // after the thread-locals it uses itself were gone.
            assert_eq!(thread.join().unwrap(), [t * 10, t * 10 + 1, t * 10 + 2]);
        }
    }
}

#[test]
fn a_runtime_per_thread_in_a_thread_local() {
    bounded(per_thread_runtime::main);
}
