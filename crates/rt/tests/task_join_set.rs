//! `JoinSet`: outputs in finishing order, panics and aborts as errors, the
//! set's drop aborting its tasks, on both runtimes.

mod rt_support;

use rt_support::{both, bounded, rt};
use spindle_rt::sync::oneshot;
use spindle_rt::task::JoinSet;
use spindle_rt::time::timeout;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn outputs_come_in_the_order_the_tasks_finish() {
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                let mut set = JoinSet::new();
                let mut gates = Vec::new();
                for n in 0..3u32 {
                    let (tx, rx) = oneshot::channel::<()>();
                    gates.push(tx);
                    set.spawn(async move {
                        rx.await.expect("gate");
                        n
                    });
                }
                assert_eq!(set.len(), 3);
                // Open the gates in the order 2, 0, 1.
                for n in [2, 0, 1] {
                    let gate = std::mem::replace(&mut gates[n], oneshot::channel().0);
                    gate.send(()).expect("task waits");
                    let out = set.join_next().await.expect("a task").expect("no panic");
                    assert_eq!(out, n as u32, "{name}");
                }
                assert!(set.is_empty());
                assert!(set.join_next().await.is_none(), "{name}: empty set");
            });
        }
    });
}

#[test]
fn many_tasks_on_the_multi_thread_runtime_all_arrive() {
    bounded(|| {
        let rt = rt_support::mt(2);
        let sum = rt.block_on(async {
            let mut set = JoinSet::new();
            for n in 0..10_000u64 {
                set.spawn(async move {
                    spindle_rt::yield_now().await;
                    n
                });
            }
            let mut sum = 0;
            while let Some(out) = set.join_next().await {
                sum += out.expect("no panic");
            }
            sum
        });
        assert_eq!(sum, (0..10_000u64).sum());
    });
}

#[test]
fn a_panic_and_an_abort_come_back_as_join_errors() {
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                let mut set: JoinSet<u32> = JoinSet::new();
                set.spawn(async { panic!("task failed") });
                let err = set.join_next().await.expect("a task").expect_err("panicked");
                assert!(err.is_panic(), "{name}: {err:?}");
                let (_tx, rx) = oneshot::channel::<()>();
                set.spawn(async move {
                    let _ = rx.await;
                    7
                });
                set.abort_all();
                let err = set.join_next().await.expect("a task").expect_err("aborted");
                assert!(err.is_cancelled(), "{name}: {err:?}");
                assert!(set.is_empty());
            });
        }
    });
}

/// Counts its drops: shows that a task's future was dropped.
struct Dropped(Arc<AtomicUsize>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn dropping_the_set_aborts_its_tasks_and_shutdown_waits_for_them() {
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                let dropped = Arc::new(AtomicUsize::new(0));
                let (tx, rx) = oneshot::channel::<()>();
                let mut set = JoinSet::new();
                let marker = Dropped(dropped.clone());
                set.spawn(async move {
                    let _marker = marker;
                    let _ = rx.await;
                });
                drop(set);
                // The abort drops the future (the scheduler does it when it
                // next runs the task); the receiver goes with it.
                let gone = timeout(Duration::from_secs(5), async {
                    while !tx.is_closed() {
                        spindle_rt::yield_now().await;
                    }
                });
                assert!(gone.await.is_ok(), "{name}: the task outlived its set");
                assert_eq!(dropped.load(Ordering::SeqCst), 1, "{name}");

                let mut set = JoinSet::new();
                for _ in 0..5 {
                    let marker = Dropped(dropped.clone());
                    set.spawn(async move {
                        let _marker = marker;
                        std::future::pending::<()>().await;
                    });
                }
                set.shutdown().await;
                assert!(set.is_empty(), "{name}");
                assert_eq!(dropped.load(Ordering::SeqCst), 6, "{name}");
            });
        }
    });
}

#[test]
fn spawn_local_takes_futures_that_are_not_send() {
    bounded(|| {
        rt().block_on(async {
            let mut set = JoinSet::new();
            let shared = std::rc::Rc::new(5);
            let mine = shared.clone();
            set.spawn_local(async move { *mine * 2 });
            assert_eq!(set.join_next().await.expect("a task").expect("no panic"), 10);
            assert_eq!(std::rc::Rc::strong_count(&shared), 1);
        });
    });
}

#[test]
fn a_spawn_that_panicked_outside_a_runtime_leaves_the_set_usable() {
    bounded(|| {
        let mut set = JoinSet::new();
        let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| set.spawn(async { 0u8 })));
        assert!(panic.is_err(), "spawn outside a runtime panics");
        assert!(set.is_empty());
        rt().block_on(async {
            assert!(set.join_next().await.is_none(), "nothing to join");
            set.spawn(async { 7u8 });
            assert_eq!(set.len(), 1);
            assert_eq!(set.join_next().await.expect("a task").expect("no panic"), 7);
            assert!(set.join_next().await.is_none());
        });
    });
}

/// tokio's `try_join_next`, `join_all` and `detach_all`, which a port
/// reached for and did not find.
#[test]
fn try_join_next_join_all_and_detach_all() {
    bounded(|| {
        rt().block_on(async {
            let mut set = JoinSet::new();
            assert!(set.try_join_next().is_none(), "empty");
            let (tx, rx) = oneshot::channel::<()>();
            set.spawn(async move {
                let _ = rx.await;
                1
            });
            set.spawn(async { 2 });
            spindle_rt::yield_now().await;
            assert_eq!(set.try_join_next().map(Result::unwrap), Some(2), "the finished one, at once");
            assert!(set.try_join_next().is_none(), "the other has not finished");
            tx.send(()).unwrap();
            assert_eq!(set.join_next().await.map(Result::unwrap), Some(1));

            let mut set = JoinSet::new();
            for n in 0..10u32 {
                set.spawn(async move {
                    spindle_rt::time::sleep(Duration::from_millis(u64::from(10 - n))).await;
                    n
                });
            }
            let mut all = set.join_all().await;
            all.sort_unstable();
            assert_eq!(all, (0..10).collect::<Vec<_>>());

            // Detached tasks run on; later tasks of the set are unaffected
            // by their finishing.
            let ran = Arc::new(AtomicUsize::new(0));
            let mut set = JoinSet::new();
            let (go_tx, go_rx) = spindle_rt::sync::watch::channel(false);
            for _ in 0..5 {
                let (ran, mut go) = (Arc::clone(&ran), go_rx.clone());
                set.spawn(async move {
                    let _ = go.wait_for(|go| *go).await;
                    ran.fetch_add(1, Ordering::SeqCst);
                    0
                });
            }
            set.detach_all();
            assert!(set.is_empty());
            set.spawn(std::future::pending::<u32>());
            set.spawn(async { 7 });
            go_tx.send(true).unwrap();
            assert_eq!(set.join_next().await.map(Result::unwrap), Some(7));
            while ran.load(Ordering::SeqCst) < 5 {
                spindle_rt::yield_now().await;
            }
            assert!(set.try_join_next().is_none(), "only the pending task is left");
            assert_eq!(set.len(), 1);
        });
    });
}

#[test]
fn join_all_resumes_a_tasks_panic() {
    bounded(|| {
        let rt = rt();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async {
                let mut set = JoinSet::new();
                set.spawn(async { 1 });
                set.spawn(async { panic!("task failed") });
                set.join_all().await
            })
        }));
        let payload = caught.expect_err("join_all panics");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"task failed"));
    });
}

/// tokio's `join_next_with_id` / `try_join_next_with_id`: each output comes
/// with the id of the task that made it (the id `spawn`'s abort handle
/// reports), and a failure carries it in the `JoinError`.
#[test]
fn join_next_with_id_pairs_each_output_with_its_tasks_id() {
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                let mut set = JoinSet::new();
                assert!(set.try_join_next_with_id().is_none(), "{name}: empty");
                let (tx, rx) = oneshot::channel::<()>();
                let first = set.spawn(async move {
                    rx.await.expect("gate");
                    1u32
                });
                let pending = set.spawn(std::future::pending::<u32>());
                assert!(set.try_join_next_with_id().is_none(), "{name}: nothing finished");
                tx.send(()).expect("task alive");
                let (id, out) = timeout(Duration::from_secs(10), set.join_next_with_id())
                    .await
                    .expect("in time")
                    .expect("a task")
                    .expect("no panic");
                assert_eq!((id, out), (first.id(), 1), "{name}");
                pending.abort();
                let err = timeout(Duration::from_secs(10), set.join_next_with_id())
                    .await
                    .expect("in time")
                    .expect("a task")
                    .expect_err("aborted");
                assert!(err.is_cancelled());
                assert_eq!(err.id(), pending.id(), "{name}");
                assert!(set.join_next_with_id().await.is_none());
            });
        }
    });
}

/// tokio's `FromIterator` and `Extend` for `JoinSet`: `collect` spawns each
/// future into a new set, `extend` into an existing one.
#[test]
fn collect_and_extend_spawn_each_future() {
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                let mut set: JoinSet<u32> = (1..=3u32).map(|n| async move { n * 10 }).collect();
                assert_eq!(set.len(), 3, "{name}");
                set.extend((4..=5u32).map(|n| async move { n * 10 }));
                assert_eq!(set.len(), 5);
                let mut outs = set.join_all().await;
                outs.sort_unstable();
                assert_eq!(outs, [10, 20, 30, 40, 50], "{name}");
            });
        }
    });
}
