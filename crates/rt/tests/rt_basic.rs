//! The current-thread runtime: block_on, spawn, join, panics, abort,
//! remote spawns and wakes, yield ordering, spawn_local, shutdown.

mod rt_support;

use rt_support::{bounded, panic_message, rt};
use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

#[test]
fn block_on_returns_the_value() {
    bounded(|| {
        let rt = rt();
        assert_eq!(rt.block_on(async { 6 * 7 }), 42);
        // Twice on the same runtime.
        assert_eq!(rt.block_on(async { "again" }), "again");
    });
}

#[test]
fn spawn_ten_thousand_and_join_all() {
    bounded(|| {
        let rt = rt();
        let handle = rt.handle();
        let sum = rt.block_on(async {
            let joins: Vec<_> = (0..10_000u64).map(|i| spindle_rt::spawn(async move { i })).collect();
            let mut sum = 0;
            for j in joins {
                sum += j.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, (0..10_000u64).sum::<u64>());
        assert_eq!(handle.live_tasks(), 0, "completed tasks leave the owned list");
    });
}

#[test]
fn panicking_task_surfaces_in_join_handle_and_runtime_continues() {
    bounded(|| {
        let rt = rt();
        let (err, after) = rt.block_on(async {
            let bad = spindle_rt::spawn(async {
                if true {
                    panic!("boom in a task");
                }
            });
            let err = bad.await.unwrap_err();
            let after = spindle_rt::spawn(async { 5 }).await.unwrap();
            (err, after)
        });
        assert!(err.is_panic());
        assert_eq!(panic_message(&*err.into_panic()), "boom in a task");
        assert_eq!(after, 5);
        assert_eq!(rt.block_on(async { 1 }), 1);
    });
}

/// A future that never completes and counts its drops.
struct Forever(Arc<AtomicUsize>);

impl Future for Forever {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

impl Drop for Forever {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn abort_cancels_a_pending_task() {
    bounded(|| {
        let rt = rt();
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        let err = rt.block_on(async move {
            let task = spindle_rt::spawn(Forever(d));
            spindle_rt::yield_now().await; // let it be polled once
            task.abort();
            task.await.unwrap_err()
        });
        assert!(err.is_cancelled());
        assert_eq!(drops.load(SeqCst), 1);
    });
}

#[test]
fn spawn_from_another_thread_runs_on_the_runtime_thread() {
    bounded(|| {
        let rt = rt();
        let handle = rt.handle();
        let out = rt.block_on(async move {
            // The main future waits on a task that only another thread
            // spawns, after the loop has gone to sleep in epoll.
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let join = handle.spawn(async { std::thread::current().name().map(str::to_owned) });
                tx.send(join).unwrap();
            });
            // The JoinHandle crosses back through a blocking channel only
            // after the spawn; poll for it without blocking the runtime.
            let join = poll_fn(|cx| match rx.try_recv() {
                Ok(j) => Poll::Ready(j),
                Err(_) => {
                    // Not there yet: re-check on the next tick (a yield),
                    // which keeps the loop turning with NoWait polls.
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
            })
            .await;
            join.await.unwrap()
        });
        // The task ran on the runtime's thread (the bounded() thread is
        // unnamed), not on the spawning thread.
        assert_eq!(out, None);
    });
}

#[test]
fn spawn_from_another_thread_while_the_loop_sleeps() {
    bounded(|| {
        let rt = rt();
        let handle = rt.handle();
        let ran = Arc::new(AtomicBool::new(false));
        let r = ran.clone();
        // The main future waits for a flag set by a task spawned remotely;
        // nothing on the runtime thread is ready, so it sleeps in epoll.
        let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
        let s = slot.clone();
        let spawner = std::thread::spawn(move || {
            // Wait until the main future has parked its waker.
            while s.lock().unwrap().is_none() {
                std::thread::yield_now();
            }
            let s2 = s.clone();
            handle.spawn(async move {
                r.store(true, SeqCst);
                if let Some(w) = s2.lock().unwrap().take() {
                    w.wake();
                }
            });
        });
        let ran2 = ran.clone();
        rt.block_on(poll_fn(move |cx| {
            if ran2.load(SeqCst) {
                return Poll::Ready(());
            }
            *slot.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        }));
        spawner.join().unwrap();
        assert!(ran.load(SeqCst));
    });
}

/// Pending until `flag` is set; stores its waker in `slot` for whoever
/// sets it.
fn wait_flag(flag: Arc<AtomicBool>, slot: Arc<Mutex<Option<Waker>>>) -> impl Future<Output = ()> {
    poll_fn(move |cx| {
        *slot.lock().unwrap() = Some(cx.waker().clone());
        if flag.load(SeqCst) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
}

#[test]
fn remote_wake_of_a_task_waker_schedules_it() {
    bounded(|| {
        let rt = rt();
        let flag = Arc::new(AtomicBool::new(false));
        let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
        let (f, s) = (flag.clone(), slot.clone());
        let out = rt.block_on(async move {
            let task = spindle_rt::spawn(async move {
                wait_flag(f, s).await;
                "woken"
            });
            // Hand the task's waker to another thread once it has one.
            let (f2, s2) = (flag.clone(), slot.clone());
            let waker_thread = std::thread::spawn(move || loop {
                let w = s2.lock().unwrap().take();
                if let Some(w) = w {
                    f2.store(true, SeqCst);
                    w.wake(); // on this thread: the remote queue + async handle
                    return;
                }
                std::thread::yield_now();
            });
            let out = task.await.unwrap();
            waker_thread.join().unwrap();
            out
        });
        assert_eq!(out, "woken");
    });
}

#[test]
fn yield_now_lets_other_tasks_run() {
    bounded(|| {
        let rt = rt();
        let log = rt.block_on(async {
            let log = Arc::new(Mutex::new(Vec::new()));
            let mut joins = Vec::new();
            for name in ["a", "b"] {
                let log = log.clone();
                joins.push(spindle_rt::spawn(async move {
                    log.lock().unwrap().push(format!("{name}1"));
                    spindle_rt::yield_now().await;
                    log.lock().unwrap().push(format!("{name}2"));
                }));
            }
            for j in joins {
                j.await.unwrap();
            }
            let log = log.lock().unwrap().clone();
            log
        });
        assert_eq!(log, ["a1", "b1", "a2", "b2"]);
    });
}

#[test]
fn spawn_local_runs_a_future_holding_an_rc() {
    bounded(|| {
        let rt = rt();
        let shared = Rc::new(RefCell::new(Vec::new()));
        let s = shared.clone();
        let out = rt.block_on(async move {
            let s2 = s.clone();
            let task = spindle_rt::spawn_local(async move {
                s2.borrow_mut().push(1);
                spindle_rt::yield_now().await; // an Rc held across .await
                s2.borrow_mut().push(2);
                Rc::new(s2.borrow().len()) // a !Send output
            });
            s.borrow_mut().push(0);
            *task.await.unwrap()
        });
        assert_eq!(out, 3);
        assert_eq!(*shared.borrow(), [0, 1, 2], "the spawner runs on until it awaits");
    });
}

#[test]
fn spawn_local_outside_a_runtime_panics_with_a_clear_message() {
    let err = std::panic::catch_unwind(|| {
        drop(spindle_rt::spawn_local(async {}));
    })
    .unwrap_err();
    assert!(panic_message(&*err).contains("must be called from within a spindle-rt runtime"));
    // Also on the runtime's thread, outside block_on.
    let _rt = rt();
    let err = std::panic::catch_unwind(|| drop(spindle_rt::spawn_local(async {}))).unwrap_err();
    assert!(panic_message(&*err).contains("must be called from within a spindle-rt runtime"));
}

#[test]
fn spawn_outside_a_runtime_panics_with_a_clear_message() {
    let err = std::panic::catch_unwind(|| drop(spindle_rt::spawn(async {}))).unwrap_err();
    assert!(panic_message(&*err).contains("must be called from within a spindle-rt runtime"));
    let err = std::panic::catch_unwind(spindle_rt::Handle::current).unwrap_err();
    assert!(panic_message(&*err).contains("must be called from within a spindle-rt runtime"));
}

#[test]
fn dropping_the_runtime_drops_pending_futures() {
    bounded(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let local_drops = Rc::new(AtomicUsize::new(0));
        let rt = rt();
        let handle = rt.handle();
        let joins = rt.block_on({
            let drops = drops.clone();
            let local_drops = local_drops.clone();
            async move {
                let mut joins = Vec::new();
                for _ in 0..100 {
                    joins.push(spindle_rt::spawn(Forever(drops.clone())));
                }
                // A !Send future too: dropped on this thread.
                struct LocalForever(Rc<AtomicUsize>);
                impl Future for LocalForever {
                    type Output = ();
                    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
                        Poll::Pending
                    }
                }
                impl Drop for LocalForever {
                    fn drop(&mut self) {
                        self.0.fetch_add(1, SeqCst);
                    }
                }
                let local = spindle_rt::spawn_local(LocalForever(local_drops));
                spindle_rt::yield_now().await; // every task polled once
                (joins, local)
            }
        });
        // Some never polled at all: spawned from outside block_on.
        for _ in 0..10 {
            drop(rt.spawn(Forever(drops.clone())));
        }
        assert_eq!(handle.live_tasks(), 111);
        assert_eq!(drops.load(SeqCst), 0);
        drop(rt);
        assert_eq!(drops.load(SeqCst), 110);
        assert_eq!(local_drops.load(SeqCst), 1);
        assert_eq!(handle.live_tasks(), 0);
        let (joins, local) = joins;
        for j in joins {
            assert!(futures::executor::block_on(j).unwrap_err().is_cancelled());
        }
        assert!(futures::executor::block_on(local).unwrap_err().is_cancelled());
        // A spawn after the runtime is gone is cancelled at once.
        let late_drops = Arc::new(AtomicUsize::new(0));
        let late = handle.spawn(Forever(late_drops.clone()));
        assert!(futures::executor::block_on(late).unwrap_err().is_cancelled());
        assert_eq!(late_drops.load(SeqCst), 1);
    });
}

#[test]
fn nested_block_on_panics_with_the_documented_message() {
    bounded(|| {
        let rt = rt();
        let inner = rt.handle();
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async {
                let other = spindle_rt::Builder::new_current_thread().build().unwrap();
                other.block_on(async {});
            })
        }))
        .unwrap_err();
        assert!(
            panic_message(&*err).starts_with("cannot call `block_on` from within a spindle-rt runtime"),
            "{}",
            panic_message(&*err)
        );
        // The runtime is still usable after the panic unwound out of it.
        assert_eq!(rt.block_on(async { 3 }), 3);
        drop(inner);
    });
}

#[test]
fn a_panicking_main_future_leaves_the_runtime_usable() {
    bounded(|| {
        let rt = rt();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async { panic!("main boom") })
        }));
        assert!(r.is_err());
        assert_eq!(rt.block_on(async { spindle_rt::spawn(async { 9 }).await.unwrap() }), 9);
    });
}

#[test]
fn handle_is_send_sync_and_current_works() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<spindle_rt::Handle>();
    bounded(|| {
        let rt = rt();
        let h = rt.block_on(async { spindle_rt::Handle::current() });
        let j = h.spawn(async { 4 });
        assert_eq!(rt.block_on(j).unwrap(), 4);
    });
}

#[test]
fn many_remote_spawns_from_several_threads() {
    bounded(|| {
        let rt = rt();
        let handle = rt.handle();
        let counter = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let handle = handle.clone();
                let counter = counter.clone();
                std::thread::spawn(move || {
                    (0..1000)
                        .map(|_| {
                            let c = counter.clone();
                            handle.spawn(async move {
                                c.fetch_add(1, SeqCst);
                            })
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let joins: Vec<_> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
        rt.block_on(async move {
            for j in joins {
                j.await.unwrap();
            }
        });
        assert_eq!(counter.load(SeqCst), 4000);
    });
}

/// What a task's destructor saw when the runtime's drop cancelled it.
struct SpawnsOnDrop(std::sync::mpsc::Sender<(bool, spindle_rt::task::JoinHandle<()>)>);

impl Drop for SpawnsOnDrop {
    fn drop(&mut self) {
        // A fire-and-forget cleanup task, as a connection's `Drop` spawns.
        let current = std::panic::catch_unwind(spindle_rt::Handle::current).is_ok();
        let cleanup = spindle_rt::spawn(async {});
        let _ = self.0.send((current, cleanup));
    }
}

/// The runtime's drop cancels its tasks inside its own context, as
/// tokio's does: a destructor that calls `spawn` or `Handle::current`
/// works (the spawned task is cancelled at once, the runtime being shut
/// down). It used to panic ("must be called from within a spindle-rt
/// runtime"), cutting the destructor short.
#[test]
fn task_destructors_run_at_shutdown_inside_the_runtime_context() {
    bounded(|| {
        for (name, rt) in rt_support::both() {
            let (tx, rx) = std::sync::mpsc::channel();
            let guard = SpawnsOnDrop(tx);
            rt.block_on(async move {
                let (started_tx, started_rx) = spindle_rt::sync::oneshot::channel();
                drop(spindle_rt::spawn(async move {
                    let _guard = guard;
                    let _ = started_tx.send(());
                    std::future::pending::<()>().await;
                }));
                started_rx.await.unwrap();
            });
            drop(rt);
            let (current, cleanup) =
                rx.recv().unwrap_or_else(|_| panic!("{name}: the destructor did not finish"));
            assert!(current, "{name}: Handle::current() in a destructor at shutdown");
            let joined = futures::executor::block_on(cleanup);
            assert!(joined.unwrap_err().is_cancelled(), "{name}");
        }
    });
}

/// A runtime kept in a `thread_local!` is dropped by the thread-local's
/// destructor at thread exit, possibly after the runtime's own
/// thread-locals are gone. Its drop used to reach for the (destroyed)
/// "current runtime" slot and panic there, which aborts the process.
#[test]
fn a_runtime_of_either_flavor_in_a_thread_local_drops_at_thread_exit() {
    bounded(|| {
        for multi in [false, true] {
            let (tx, rx) = std::sync::mpsc::channel::<bool>();
            std::thread::spawn(move || {
                struct Report(std::sync::mpsc::Sender<bool>, bool);
                impl Drop for Report {
                    fn drop(&mut self) {
                        let _ = self.0.send(self.1);
                    }
                }
                thread_local! {
                    static RT: RefCell<Option<spindle_rt::Runtime>> = const { RefCell::new(None) };
                }
                // Registered first, so destroyed last: after the
                // runtime's own thread-locals (destructors run in reverse).
                RT.with(|_| ());
                let rt = if multi {
                    spindle_rt::Builder::new_multi_thread().worker_threads(1).build().unwrap()
                } else {
                    rt()
                };
                let report = Report(tx, multi);
                rt.block_on(async move {
                    // Pending when the thread exits: cancelled by the drop.
                    spindle_rt::spawn(async move {
                        let _report = report;
                        spindle_rt::time::sleep(std::time::Duration::from_secs(3600)).await
                    });
                    spindle_rt::task::yield_now().await;
                });
                RT.with(|slot| *slot.borrow_mut() = Some(rt));
            })
            .join()
            .unwrap();
            assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(5)), Ok(multi));
        }
    });
}
