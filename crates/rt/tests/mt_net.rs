//! TCP on the multi-thread runtime: sockets are `Send + Sync`, move between
//! workers, and are driven by the shared netpoller, on epoll (edge mode) and
//! on poll and select (the level fallback).

mod rt_support;

use rt_support::bounded;
use spindle_rt::net::{TcpListener, TcpStream};
use spindle_rt::runtime::{Backend, Builder};
use spindle_rt::time::timeout;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(10);

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn sockets_are_send_and_sync() {
    assert_send_sync::<TcpStream>();
    assert_send_sync::<TcpListener>();
}

async fn echo_server(listener: TcpListener, conns: usize) {
    for _ in 0..conns {
        let (mut stream, _) = listener.accept().await.unwrap();
        spindle_rt::spawn(async move {
            let mut buf = vec![0u8; 4096];
            loop {
                let n = stream.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                stream.write_all(&buf[..n]).await.unwrap();
            }
        });
    }
}

async fn client(addr: std::net::SocketAddr, id: usize, rounds: usize) -> usize {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    let mut buf = [0u8; 64];
    for r in 0..rounds {
        let msg = format!("client {id} round {r}");
        s.write_all(msg.as_bytes()).await.unwrap();
        let mut got = 0;
        while got < msg.len() {
            let n = s.read(&mut buf[got..msg.len()]).await.unwrap();
            assert!(n > 0, "echo closed early");
            got += n;
        }
        assert_eq!(&buf[..got], msg.as_bytes());
    }
    rounds
}

fn many_clients_echo(backend: Backend) {
    let clients: usize = std::env::var("MT_NET_CLIENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    clients_echo(backend, clients, 100);
}

fn clients_echo(backend: Backend, clients: usize, rounds: usize) {
    bounded(move || {
        let rt = Builder::new_multi_thread().worker_threads(2).backend(backend).build().unwrap();
        let total = rt.block_on(rt.spawn(async move {
            timeout(LIMIT, async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let server = spindle_rt::spawn(echo_server(listener, clients));
                let handles: Vec<_> =
                    (0..clients).map(|id| spindle_rt::spawn(client(addr, id, rounds))).collect();
                let mut total = 0;
                for h in handles {
                    total += h.await.unwrap();
                }
                server.await.unwrap();
                total
            })
            .await
            .expect("test timed out")
        }));
        assert_eq!(total.unwrap(), clients * rounds);
    });
}

/// 400 clients and their 400 server tasks (800 sockets, under the usual
/// 1024-descriptor limit) keep more sockets ready at once than a worker's
/// run queue (256) holds. A netpoller turn then takes only as many events
/// as the queue has room for and leaves the rest in the kernel for the next
/// turn: every exchange must still complete (a lost readiness event would
/// hang its connection until the test's limit).
fn more_ready_sockets_than_a_run_queue_holds(backend: Backend) {
    clients_echo(backend, 400, 20);
}

#[test]
fn more_ready_sockets_than_a_run_queue_holds_on_epoll() {
    more_ready_sockets_than_a_run_queue_holds(Backend::Epoll);
}

#[test]
fn more_ready_sockets_than_a_run_queue_holds_on_poll() {
    more_ready_sockets_than_a_run_queue_holds(Backend::Poll);
}

#[test]
fn many_clients_echo_on_epoll() {
    many_clients_echo(Backend::Epoll);
}

#[test]
fn many_clients_echo_on_poll() {
    many_clients_echo(Backend::Poll);
}

#[test]
fn many_clients_echo_on_select() {
    many_clients_echo(Backend::Select);
}

#[test]
fn a_stream_moves_to_another_task_through_a_channel() {
    bounded(|| {
        let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
        let out = rt.block_on(rt.spawn(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let (tx, rx) = spindle_rt::sync::oneshot::channel::<TcpStream>();
            // Accepted on one task, served by another (maybe on the other
            // worker): the registration goes with it.
            let acceptor = spindle_rt::spawn(async move {
                let (s, _) = listener.accept().await.unwrap();
                tx.send(s).unwrap();
            });
            let server = spindle_rt::spawn(async move {
                let mut s = rx.await.unwrap();
                s.write_all(b"moved").await.unwrap();
            });
            let mut c = TcpStream::connect(addr).await.unwrap();
            acceptor.await.unwrap();
            server.await.unwrap();
            let mut buf = [0u8; 5];
            let mut got = 0;
            while got < 5 {
                got += c.read(&mut buf[got..]).await.unwrap();
            }
            buf
        }));
        assert_eq!(&out.unwrap(), b"moved");
    });
}

#[test]
fn dropping_the_runtime_fails_a_stream_kept_outside() {
    bounded(|| {
        let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut stream = rt.block_on(async { TcpStream::connect(addr).await.unwrap() });
        drop(rt);
        let mut buf = [0u8; 8];
        let err = futures::executor::block_on(stream.read(&mut buf)).unwrap_err();
        assert!(err.to_string().contains("shut down"), "{err}");
    });
}
