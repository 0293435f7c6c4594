//! Code written against tokio's module paths compiles against these: the
//! task functions under `task`, the Unix signal API under `signal::unix`,
//! the channels' errors under `<channel>::error`, and `time::Duration`.
//! Each path was missing, and the first line of a port failed on it.

mod rt_support;

use rt_support::{bounded, mt};
use spindle_rt::signal::unix::{signal, Signal, SignalKind};
use spindle_rt::sync::{broadcast, oneshot, watch};
use spindle_rt::task;
use spindle_rt::time::{timeout, Duration};

#[test]
fn tokio_paths_resolve_and_work() {
    bounded(|| {
        mt(2).block_on(async {
            let spawned = task::spawn(async { 1 });
            let blocking = task::spawn_blocking(|| 2);
            task::yield_now().await;
            let placed = task::block_in_place(|| 3);
            assert_eq!(spawned.await.unwrap() + blocking.await.unwrap() + placed, 6);

            let usr1 = SignalKind::user_defined1();
            assert_eq!(SignalKind::from_raw(usr1.as_raw_value()), usr1);
            let mut hup: Signal = signal(SignalKind::user_defined1()).unwrap();
            assert!(timeout(Duration::from_millis(1), hup.recv()).await.is_err());

            let (tx, mut rx) = broadcast::channel::<u8>(1);
            drop(tx);
            assert_eq!(rx.recv().await, Err(broadcast::error::RecvError::Closed));
            let (tx, rx) = watch::channel(0u8);
            drop(rx);
            let _: watch::error::SendError<u8> = tx.send(1).unwrap_err();
            let (tx, rx) = oneshot::channel::<u8>();
            drop(tx);
            let _: oneshot::error::RecvError = rx.await.unwrap_err();
        });
    });
}

/// `Handle::try_current`: a library that works with or without a runtime
/// asks without panicking.
#[test]
fn handle_try_current_inside_and_outside() {
    use spindle_rt::runtime::Handle;
    let err = Handle::try_current().expect_err("no runtime on the test thread");
    assert!(err.to_string().contains("spindle-rt runtime"), "{err}");
    bounded(|| {
        mt(2).block_on(async {
            let handle = Handle::try_current().expect("inside block_on");
            let on_worker = task::spawn(async { Handle::try_current().is_ok() });
            assert!(on_worker.await.unwrap());
            assert_eq!(handle.spawn(async { 5 }).await.unwrap(), 5);
        });
    });
}

/// `Mutex::blocking_lock`, `RwLock::blocking_read` and `blocking_write`:
/// a plain thread shares state with tasks, and waits its turn; inside the
/// runtime they refuse with a clear panic rather than park a thread that
/// runs tasks.
#[test]
fn blocking_lock_read_and_write_from_a_plain_thread() {
    use spindle_rt::sync::{Mutex, RwLock};
    use std::sync::Arc;
    bounded(|| {
        let rt = mt(2);
        let m = Arc::new(Mutex::new(0u32));
        let rw = Arc::new(RwLock::new(0u32));
        // A task holds both until the plain thread has asked for them.
        let (asked_tx, asked_rx) = oneshot::channel::<()>();
        let (m2, rw2) = (Arc::clone(&m), Arc::clone(&rw));
        let (held_tx, held_rx) = std::sync::mpsc::channel();
        let holder = rt.spawn(async move {
            let mut g = m2.lock().await;
            let mut w = rw2.write().await;
            held_tx.send(()).unwrap();
            asked_rx.await.unwrap();
            *g += 1;
            *w += 1;
        });
        held_rx.recv_timeout(Duration::from_secs(5)).unwrap();
        let (m3, rw3) = (Arc::clone(&m), Arc::clone(&rw));
        let plain = std::thread::spawn(move || {
            asked_tx.send(()).unwrap();
            let mut g = m3.blocking_lock();
            *g += 10;
            drop(g);
            *rw3.blocking_write() += 10;
            *rw3.blocking_read()
        });
        assert_eq!(plain.join().unwrap(), 11);
        rt.block_on(async {
            holder.await.unwrap();
            assert_eq!(*m.lock().await, 11);
            let caught = task::spawn(async move {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(m.blocking_lock())))
            });
            let msg = caught.await.unwrap().expect_err("refused on a worker");
            let msg = msg.downcast_ref::<String>().cloned().unwrap_or_default();
            assert!(msg.contains("cannot block the current thread"), "{msg}");
        });
    });
}

/// tokio's signatures for the escape hatches: `into_std` returns an
/// `io::Result` (the std socket, still non-blocking), `TcpStream` has
/// `into_std` and `ttl` (the listener too), `Runtime::enter` makes the runtime current, and
/// `time::error::Elapsed` is the timeout error's path.
#[test]
fn into_std_ttl_enter_and_elapsed_have_tokio_signatures() {
    use spindle_rt::net::{TcpListener, TcpStream, UdpSocket};
    bounded(|| {
        let rt = spindle_rt::Runtime::new().unwrap();
        let (listener, udp) = {
            let _guard = rt.enter();
            let l = TcpListener::from_std(std::net::TcpListener::bind("127.0.0.1:0").unwrap()).unwrap();
            let u = UdpSocket::from_std(std::net::UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
            (l, u)
        };
        let addr = listener.local_addr().unwrap();
        let std_listener: std::net::TcpListener = listener.into_std().unwrap();
        let std_udp: std::net::UdpSocket = udp.into_std().unwrap();
        assert!(std_udp.local_addr().unwrap().ip().is_loopback());
        rt.block_on(async move {
            let listener = TcpListener::from_std(std_listener).unwrap();
            listener.set_ttl(21).unwrap();
            assert_eq!(listener.ttl().unwrap(), 21);
            let accept = task::spawn(async move { listener.accept().await });
            let stream = TcpStream::connect(addr).await.unwrap();
            stream.set_ttl(33).unwrap();
            assert_eq!(stream.ttl().unwrap(), 33);
            let (accepted, _) = accept.await.unwrap().unwrap();
            let std_stream: std::net::TcpStream = stream.into_std().unwrap();
            let mut buf = [0; 1];
            let err = std::io::Read::read(&mut &std_stream, &mut buf).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock, "still non-blocking");
            drop(accepted);
            let elapsed: spindle_rt::time::error::Elapsed =
                timeout(Duration::from_millis(1), std::future::pending::<()>()).await.unwrap_err();
            assert_eq!(std::io::Error::from(elapsed).kind(), std::io::ErrorKind::TimedOut);
        });
    });
}

/// `Handle::runtime_flavor`, as in tokio: a library asks before it calls
/// `block_in_place`.
#[test]
fn runtime_flavor_tells_the_scheduler() {
    use spindle_rt::runtime::{Handle, RuntimeFlavor};
    bounded(|| {
        let current = rt_support::rt().block_on(async { Handle::current().runtime_flavor() });
        assert_eq!(current, RuntimeFlavor::CurrentThread);
        let multi = mt(2).block_on(async { task::spawn(async { Handle::current().runtime_flavor() }).await });
        assert_eq!(multi.unwrap(), RuntimeFlavor::MultiThread);
    });
}

/// `join!` with three futures of different types, finishing in reverse
/// order: all are polled together and the outputs come back in argument
/// order; `try_join!` stops at the first error without waiting for the
/// rest; `pin!` pins several futures in one statement.
#[test]
fn join_try_join_and_pin_with_several_futures() {
    use spindle_rt::sync::oneshot;
    bounded(|| {
        rt_support::rt().block_on(async {
            let (tx1, rx1) = oneshot::channel::<u8>();
            let (tx2, rx2) = oneshot::channel::<&str>();
            let (tx3, rx3) = oneshot::channel::<u64>();
            task::spawn_local(async move {
                tx3.send(3).unwrap();
                task::yield_now().await;
                tx2.send("two").unwrap();
                task::yield_now().await;
                tx1.send(1).unwrap();
            });
            let (a, b, c) = spindle_rt::join!(rx1, rx2, rx3);
            assert_eq!((a.unwrap(), b.unwrap(), c.unwrap()), (1, "two", 3));
            assert_eq!(spindle_rt::join!(), ());

            let never = std::future::pending::<Result<u8, &str>>();
            let (tx, rx) = oneshot::channel::<()>();
            let failing = async move {
                rx.await.unwrap();
                Err::<u8, &str>("failed")
            };
            task::spawn_local(async move { tx.send(()).unwrap() });
            let out = timeout(Duration::from_secs(5), async {
                spindle_rt::try_join!(never, failing, async { Ok(9) })
            })
            .await
            .expect("the error ends the join");
            assert_eq!(out, Err("failed"));

            let x = async { 1 };
            let y = async { 2 };
            spindle_rt::pin!(x, y);
            assert_eq!((&mut x).await + y.as_mut().await, 3);
        });
    });
}

/// The cooperative-scheduling helpers under tokio's paths:
/// `tokio::task::{consume_budget, unconstrained}` and
/// `tokio::task::coop::{consume_budget, has_budget_remaining, unconstrained}`.
#[test]
fn coop_helpers_under_tokio_task_paths() {
    bounded(|| {
        mt(2).block_on(async {
            task::consume_budget().await;
            assert_eq!(task::unconstrained(async { 4 }).await, 4);
            task::coop::consume_budget().await;
            let _: bool = task::coop::has_budget_remaining();
            assert_eq!(task::coop::unconstrained(async { 5 }).await, 5);
        });
    });
}
