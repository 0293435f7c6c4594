//! `AbortHandle`: cancelling a task from elsewhere, without its output, on
//! both runtimes, and through `JoinSet::spawn`.

mod rt_support;

use rt_support::{both, bounded};
use spindle_rt::task::{AbortHandle, JoinSet};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// Sets its flag when dropped: proves a task's future was dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

#[test]
fn abort_handle_is_clone_send_sync() {
    fn assert_traits<T: Clone + Send + Sync + 'static>() {}
    assert_traits::<AbortHandle>();
}

#[test]
fn abort_from_another_task_cancels_and_the_join_handle_reports_it() {
    bounded(|| {
        for (name, rt) in both() {
            let dropped = Arc::new(AtomicBool::new(false));
            // Made here and moved into the future, so that dropping the
            // future sets it even if the abort lands before the task's
            // first poll (the multi-thread runtime may run the aborter
            // first: both wait in its queues).
            let flag = DropFlag(dropped.clone());
            rt.block_on(async move {
                // Busy on its worker (always ready again), never finishing.
                let task = spindle_rt::spawn(async move {
                    let _flag = flag;
                    loop {
                        spindle_rt::yield_now().await;
                    }
                });
                let abort = task.abort_handle();
                assert_eq!(abort.id(), task.id(), "{name}");
                assert!(!abort.is_finished(), "{name}");
                let aborter = abort.clone();
                spindle_rt::spawn(async move { aborter.abort() }).await.unwrap();
                let err = task.await.unwrap_err();
                assert!(err.is_cancelled(), "{name}: {err}");
                assert!(!err.is_panic(), "{name}");
                assert!(abort.is_finished(), "{name}: the handle sees the task finished");
                // Aborting a finished task does nothing.
                abort.abort();
            });
            assert!(dropped.load(SeqCst), "{name}: the future was dropped");
        }
    });
}

#[test]
fn the_output_wins_over_an_abort_after_completion() {
    bounded(|| {
        for (name, rt) in both() {
            let out = rt.block_on(async {
                let task = spindle_rt::spawn(async { 42 });
                let abort = task.abort_handle();
                // Wait for the task to finish without taking its output.
                while !abort.is_finished() {
                    spindle_rt::yield_now().await;
                }
                abort.abort();
                task.await
            });
            assert_eq!(out.unwrap(), 42, "{name}");
        }
    });
}

#[test]
fn an_abort_handle_outlives_the_join_handle_and_works_from_a_plain_thread() {
    bounded(|| {
        for (name, rt) in both() {
            let (dropped_tx, dropped_rx) = mpsc::channel::<()>();
            struct Notify(mpsc::Sender<()>);
            impl Drop for Notify {
                fn drop(&mut self) {
                    let _ = self.0.send(());
                }
            }
            let abort = rt.block_on(async move {
                // Made outside the async block: dropped with the future
                // whether or not it was ever polled.
                let notify = Notify(dropped_tx);
                let task = spindle_rt::spawn(async move {
                    let _notify = notify;
                    std::future::pending::<()>().await;
                });
                let abort = task.abort_handle();
                drop(task); // detached: only the AbortHandle can stop it now
                abort
            });
            let remote = abort.clone();
            std::thread::spawn(move || remote.abort()).join().unwrap();
            // The current-thread runtime runs the cancellation in block_on.
            rt.block_on(async {
                while !abort.is_finished() {
                    spindle_rt::yield_now().await;
                }
            });
            assert_eq!(dropped_rx.recv_timeout(Duration::from_secs(5)), Ok(()), "{name}: future dropped");
            drop(abort);
        }
    });
}

#[test]
fn join_set_spawn_returns_a_handle_that_aborts_that_task_only() {
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                let mut set = JoinSet::new();
                let (go_tx, go_rx) = spindle_rt::sync::oneshot::channel::<()>();
                let victim = set.spawn(std::future::pending::<u32>());
                let survivor = set.spawn(async move {
                    go_rx.await.unwrap();
                    7
                });
                victim.abort();
                let first = set.join_next().await.unwrap();
                let err = first.unwrap_err();
                assert!(err.is_cancelled(), "{name}");
                assert_eq!(err.id(), victim.id(), "{name}: the aborted one finished first");
                assert!(!survivor.is_finished(), "{name}: the other task still runs");
                go_tx.send(()).unwrap();
                assert_eq!(set.join_next().await.unwrap().unwrap(), 7, "{name}");
                assert!(set.join_next().await.is_none(), "{name}");
            });
        }
    });
}
