//! Entering a runtime without running it: `Handle::enter` from a thread of
//! one's own, `Handle::block_on` from a blocking closure, and closures on a
//! runtime's blocking pool, which run with their runtime entered (so
//! `Handle::current`, `spawn`, sockets and timers work there, as in tokio).

mod rt_support;

use rt_support::{both, bounded, panic_message};
use spindle_rt::net::{TcpListener, TcpStream};
use spindle_rt::time::{sleep, timeout};
use spindle_rt::{Builder, Handle};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(8);

#[test]
fn a_blocking_closure_can_spawn_and_block_on_async_work() {
    bounded(|| {
        for (name, rt) in both() {
            let got = rt.block_on(async {
                let blocking = spindle_rt::spawn_blocking(|| {
                    let handle = Handle::current();
                    // A task spawned from the closure runs on the runtime.
                    let task = spindle_rt::spawn(async { 20 });
                    // Waiting for async work: a timer and a TCP round trip
                    // driven by the runtime while this thread parks.
                    handle.block_on(async move {
                        sleep(Duration::from_millis(5)).await;
                        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                        let addr = listener.local_addr().unwrap();
                        let accept = spindle_rt::spawn(async move {
                            let (mut s, _) = listener.accept().await.unwrap();
                            let mut b = [0; 1];
                            s.read_exact(&mut b).await.unwrap();
                            b[0]
                        });
                        let mut c = TcpStream::connect(addr).await.unwrap();
                        c.write_all(&[22]).await.unwrap();
                        task.await.unwrap() + accept.await.unwrap()
                    })
                });
                timeout(LIMIT, blocking).await.expect("in time").expect("closure ran")
            });
            assert_eq!(got, 42, "{name}");
        }
    });
}

#[test]
fn enter_makes_the_runtime_current_on_a_plain_thread_until_the_guard_drops() {
    bounded(|| {
        for (name, rt) in both() {
            let handle = rt.handle();
            let (task, listener) = std::thread::spawn(move || {
                let guard = handle.enter();
                let task = spindle_rt::spawn(async { 7 });
                let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                let listener = TcpListener::from_std(std_listener).expect("a socket on the entered runtime");
                drop(guard);
                let outside = catch_unwind(|| Handle::current()).expect_err("no runtime after the guard");
                assert!(panic_message(&*outside).contains("within a spindle-rt runtime"), "{name}");
                (task, listener)
            })
            .join()
            .unwrap();
            let addr = listener.local_addr().unwrap();
            let got = rt.block_on(async move {
                let accept = spindle_rt::spawn(async move { listener.accept().await.is_ok() });
                let _c = TcpStream::connect(addr).await.unwrap();
                (timeout(LIMIT, task).await.unwrap().unwrap(), timeout(LIMIT, accept).await.unwrap().unwrap())
            });
            assert_eq!(got, (7, true), "{name}");
        }
    });
}

#[test]
fn enter_and_handle_block_on_refuse_a_thread_that_runs_a_runtime() {
    bounded(|| {
        for (name, rt) in both() {
            let handle = rt.handle();
            let (enter, block_on) = rt.block_on(async move {
                let enter =
                    catch_unwind(AssertUnwindSafe(|| drop(handle.enter()))).expect_err("enter inside");
                let block_on = catch_unwind(AssertUnwindSafe(|| handle.block_on(async {})))
                    .expect_err("block_on inside");
                (panic_message(&*enter), panic_message(&*block_on))
            });
            assert!(enter.contains("cannot call `block_on`"), "{name}: {enter}");
            assert!(block_on.contains("cannot call `block_on`"), "{name}: {block_on}");
        }
    });
}

/// A closure of one runtime's pool may run another runtime's `block_on`;
/// after it returns, the closure's own runtime is current again.
#[test]
fn block_on_inside_a_blocking_closure_restores_the_closures_runtime() {
    bounded(|| {
        let outer = Builder::new_multi_thread().worker_threads(1).thread_name("outer").build().unwrap();
        let got = outer.block_on(async {
            spindle_rt::spawn_blocking(|| {
                let inner = Builder::new_current_thread().build().unwrap();
                let inner_value = inner.block_on(async { spindle_rt::spawn(async { 1 }).await.unwrap() });
                drop(inner);
                let worker = Handle::current()
                    .block_on(spindle_rt::spawn(async { std::thread::current().name().map(str::to_owned) }))
                    .unwrap();
                (inner_value, worker)
            })
            .await
            .unwrap()
        });
        assert_eq!(got, (1, Some("outer".to_string())));
    });
}

/// Inside `block_in_place` the thread has handed its worker slot away, so
/// it may wait for async work the way tokio allows there.
#[test]
fn block_in_place_may_block_on_async_work() {
    bounded(|| {
        let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
        let got = rt.block_on(async {
            spindle_rt::spawn(async {
                let (tx, mut rx) = spindle_rt::sync::mpsc::channel(1);
                spindle_rt::spawn(async move { tx.send(40).await.unwrap() });
                spindle_rt::block_in_place(|| {
                    let v = rx.blocking_recv().expect("a value");
                    v + Handle::current().block_on(async { spindle_rt::spawn(async { 2 }).await.unwrap() })
                })
            })
            .await
            .unwrap()
        });
        assert_eq!(got, 42);
    });
}
