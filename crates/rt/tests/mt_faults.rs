//! The multi-thread runtime under faults and misuse: panics, aborts,
//! dropping with tasks pending, `block_on` and `spawn_local` in the wrong
//! place, `block_in_place` hand-off, and the monitor's reports.

mod rt_support;

use rt_support::{bounded, mt, panic_message};
use spindle_rt::runtime::BlockedTask;
use spindle_rt::Builder;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::time::Duration;

#[test]
fn a_panicking_task_is_an_error_and_the_runtime_keeps_running() {
    bounded(|| {
        let rt = mt(2);
        let err = rt.block_on(rt.spawn(async { panic!("task on fire") })).unwrap_err();
        assert!(err.is_panic());
        assert_eq!(panic_message(&*err.into_panic()), "task on fire");
        assert_eq!(rt.block_on(rt.spawn(async { 7 })).unwrap(), 7);
    });
}

#[test]
fn abort_cancels_a_pending_task_and_drops_its_future() {
    bounded(|| {
        let rt = mt(2);
        struct Flag(Arc<AtomicBool>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.store(true, SeqCst);
            }
        }
        let dropped = Arc::new(AtomicBool::new(false));
        let flag = Flag(Arc::clone(&dropped));
        let task = rt.spawn(async move {
            let _flag = flag;
            std::future::pending::<()>().await;
        });
        task.abort();
        let err = rt.block_on(task).unwrap_err();
        assert!(err.is_cancelled());
        assert!(dropped.load(SeqCst));
    });
}

#[test]
fn dropping_the_runtime_cancels_pending_tasks_and_drops_their_futures() {
    bounded(|| {
        let rt = mt(2);
        let drops = Arc::new(AtomicUsize::new(0));
        struct Count(Arc<AtomicUsize>);
        impl Drop for Count {
            fn drop(&mut self) {
                self.0.fetch_add(1, SeqCst);
            }
        }
        let joins: Vec<_> = (0..100)
            .map(|_| {
                let c = Count(Arc::clone(&drops));
                rt.spawn(async move {
                    let _c = c;
                    spindle_rt::time::sleep(Duration::from_secs(3600)).await;
                })
            })
            .collect();
        // Every task has started sleeping once the early JoinHandle drop
        // below does not matter: detached tasks are cancelled too.
        drop(rt);
        assert_eq!(drops.load(SeqCst), 100);
        for j in joins {
            assert!(futures::executor::block_on(j).unwrap_err().is_cancelled());
        }
    });
}

#[test]
fn block_on_inside_a_task_is_a_clear_panic() {
    bounded(|| {
        let rt = mt(2);
        let err = rt
            .block_on(rt.spawn(async {
                let inner = Builder::new_current_thread().build().unwrap();
                inner.block_on(async {});
            }))
            .unwrap_err();
        let msg = panic_message(&*err.into_panic());
        assert!(msg.starts_with("cannot call `block_on` from within a spindle-rt runtime"), "{msg}");
    });
}

#[test]
fn spawn_local_on_a_worker_is_a_clear_panic() {
    bounded(|| {
        let rt = mt(1);
        let err = rt.block_on(rt.spawn(async { drop(spindle_rt::spawn_local(async {})) })).unwrap_err();
        let msg = panic_message(&*err.into_panic());
        assert!(msg.contains("`spawn_local` outside a `LocalSet` needs the current-thread runtime"), "{msg}");
    });
}

#[test]
fn block_in_place_hands_the_worker_to_another_thread() {
    bounded(|| {
        // One worker: without the hand-off, the task blocked below would
        // hold the only worker and the task that unblocks it could never
        // run.
        let rt = mt(1);
        let (tx, rx) = mpsc::channel::<&str>();
        let got = rt.block_on(async move {
            let blocker = spindle_rt::spawn(async move {
                spindle_rt::block_in_place(|| rx.recv_timeout(Duration::from_secs(5)))
            });
            // Let the blocker start before the helper is spawned.
            spindle_rt::yield_now().await;
            let helper = spindle_rt::spawn(async move { tx.send("unblocked").unwrap() });
            helper.await.unwrap();
            blocker.await.unwrap()
        });
        assert_eq!(got, Ok("unblocked"));
        // The runtime goes on with its new worker thread.
        assert_eq!(rt.block_on(rt.spawn(async { 3 })).unwrap(), 3);
    });
}

#[test]
fn block_in_place_on_the_current_thread_runtime_is_a_clear_panic() {
    bounded(|| {
        let rt = rt_support::rt();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async { spindle_rt::block_in_place(|| 1) })
        }));
        let msg = panic_message(&*caught.unwrap_err());
        assert!(msg.contains("`block_in_place` needs the multi-thread runtime"), "{msg}");
        // Outside any runtime it just runs.
        assert_eq!(spindle_rt::block_in_place(|| 2), 2);
    });
}

#[test]
fn the_monitor_reports_a_task_that_holds_its_worker_with_its_spawn_location() {
    bounded(|| {
        let (tx, rx) = mpsc::channel::<BlockedTask>();
        let tx = std::sync::Mutex::new(tx);
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .blocked_threshold(Duration::from_millis(30))
            .on_blocked_task(move |report| {
                let _ = tx.lock().unwrap().send(report.clone());
            })
            .build()
            .unwrap();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let line = line!() + 1;
        let hog = rt.spawn(async move {
            // Blocks its worker until the report has arrived: the blocking
            // is what is under test.
            release_rx.recv_timeout(Duration::from_secs(5)).unwrap();
        });
        let report = rx.recv_timeout(Duration::from_secs(5)).expect("a report");
        release_tx.send(()).unwrap();
        rt.block_on(hog).unwrap();
        let at = report.spawned_at.expect("the task was alive");
        assert!(at.file().ends_with("mt_faults.rs"), "{at}");
        assert_eq!(at.line(), line);
        assert!(report.held_for >= Duration::from_millis(30));
        assert!(report.to_string().contains("has held worker"), "{report}");
    });
}

#[test]
fn a_join_handle_dropped_early_detaches_and_the_task_still_runs() {
    bounded(|| {
        let rt = mt(2);
        let (tx, rx) = mpsc::channel::<u32>();
        drop(rt.spawn(async move {
            spindle_rt::yield_now().await;
            tx.send(9).unwrap();
        }));
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok(9));
    });
}

#[test]
fn a_sleep_of_duration_max_neither_panics_nor_fires_and_dropping_the_runtime_ends_it() {
    bounded(|| {
        let rt = mt(2);
        let forever = rt.spawn(spindle_rt::time::sleep(Duration::MAX));
        let r = rt.block_on(async {
            spindle_rt::time::timeout(Duration::from_millis(20), spindle_rt::time::sleep(Duration::MAX)).await
        });
        assert!(r.is_err(), "the timeout fired first");
        assert!(!forever.is_finished());
        drop(rt);
        assert!(futures::executor::block_on(forever).unwrap_err().is_cancelled());
    });
}

/// A task that parks its thread in `block_in_place` (reading stdin, a
/// blocking client call) must not hold `shutdown_timeout` or
/// `shutdown_background` up: the thread gave its worker role away, so, as
/// in tokio, it is waited for like a blocking-pool thread and left to
/// finish detached past the timeout. It held the drop for as long as the
/// closure ran.
#[test]
fn shutdown_timeout_does_not_wait_out_a_task_in_block_in_place() {
    bounded(|| {
        let rt = mt(2);
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let (finished_tx, finished_rx) = std::sync::mpsc::channel();
        rt.spawn(async move {
            spindle_rt::block_in_place(|| {
                started_tx.send(()).unwrap();
                // Until the test lets go (after the shutdown returned).
                let _ = release_rx.recv_timeout(Duration::from_secs(8));
            });
            finished_tx.send(()).unwrap();
        });
        started_rx.recv_timeout(Duration::from_secs(5)).expect("the task entered block_in_place");
        let start = std::time::Instant::now();
        rt.shutdown_timeout(Duration::from_millis(50));
        let took = start.elapsed();
        let _ = release_tx.send(());
        assert!(took < Duration::from_secs(4), "shutdown_timeout(50 ms) took {took:?}");
        // The detached thread still finishes its task's poll.
        finished_rx.recv_timeout(Duration::from_secs(5)).expect("the detached task went on");
    });
}

#[test]
fn dropping_the_runtime_still_waits_for_a_task_in_block_in_place() {
    bounded(|| {
        let rt = mt(2);
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let done = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&done);
        rt.spawn(async move {
            spindle_rt::block_in_place(|| {
                started_tx.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(50));
                flag.store(true, SeqCst);
            });
        });
        started_rx.recv_timeout(Duration::from_secs(5)).expect("the task entered block_in_place");
        drop(rt);
        assert!(done.load(SeqCst), "a plain drop has no timeout: it waits for the closure");
    });
}
