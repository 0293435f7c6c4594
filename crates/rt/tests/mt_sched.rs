//! The multi-thread (G-M-P) scheduler: tasks run in parallel, work spreads
//! by stealing, wakes from any thread arrive, and nothing is lost.

mod rt_support;

use rt_support::{bounded, mt};
use spindle_rt::sync::{mpsc, oneshot};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::Duration;

#[test]
fn spawned_tasks_complete_with_their_outputs() {
    bounded(|| {
        let rt = mt(2);
        let sum = rt.block_on(async {
            let handles: Vec<_> = (0..10_000u64).map(|i| spindle_rt::spawn(async move { i * 2 })).collect();
            let mut sum = 0;
            for h in handles {
                sum += h.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, 2 * (0..10_000u64).sum::<u64>());
        // A worker hands a task's output to its JoinHandle before it takes
        // the task off the owned list, so the count may trail the last
        // join by a moment; it must reach zero (`bounded` limits the wait).
        while rt.handle().live_tasks() != 0 {
            thread::yield_now();
        }
    });
}

#[test]
fn two_workers_run_two_tasks_at_the_same_time() {
    bounded(|| {
        let rt = mt(2);
        // Each task blocks its worker until the other arrives: only true
        // parallelism lets both pass (a one-thread scheduler would hang and
        // `bounded` would fail the test).
        let barrier = Arc::new(Barrier::new(2));
        let (a, b) = (Arc::clone(&barrier), Arc::clone(&barrier));
        rt.block_on(async move {
            let t1 = spindle_rt::spawn(async move { a.wait().is_leader() });
            let t2 = spindle_rt::spawn(async move { b.wait().is_leader() });
            let (l1, l2) = (t1.await.unwrap(), t2.await.unwrap());
            assert!(l1 ^ l2, "exactly one leader");
        });
    });
}

#[test]
fn work_spawned_on_one_worker_is_stolen_by_the_other() {
    bounded(|| {
        let rt = mt(2);
        let threads = Arc::new(Mutex::new(HashSet::new()));
        let seen = Arc::clone(&threads);
        rt.block_on(rt.spawn(async move {
            // Spawned from a worker: every task starts on this worker's
            // queue. Each blocks its thread briefly, so the other worker
            // has time to steal.
            let handles: Vec<_> = (0..64)
                .map(|_| {
                    let seen = Arc::clone(&seen);
                    spindle_rt::spawn(async move {
                        seen.lock().unwrap().insert(thread::current().id());
                        let start = std::time::Instant::now();
                        while start.elapsed() < Duration::from_millis(2) {
                            std::hint::spin_loop();
                        }
                    })
                })
                .collect();
            for h in handles {
                h.await.unwrap();
            }
        }))
        .unwrap();
        assert_eq!(threads.lock().unwrap().len(), 2, "both workers ran tasks");
    });
}

#[test]
fn wakes_from_plain_threads_reach_sleeping_workers() {
    bounded(|| {
        let rt = mt(2);
        let (tx, rx) = mpsc::channel::<u32>(16);
        let consumer = rt.spawn(async move {
            let mut rx = rx;
            let mut total = 0;
            while let Some(v) = rx.recv().await {
                total += v;
            }
            total
        });
        let producers: Vec<_> = (0..4)
            .map(|_| {
                let tx = tx.clone();
                thread::spawn(move || {
                    for i in 0..1000 {
                        futures::executor::block_on(tx.send(i)).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        for p in producers {
            p.join().unwrap();
        }
        assert_eq!(rt.block_on(consumer).unwrap(), 4 * (0..1000).sum::<u32>());
    });
}

#[test]
fn ping_pong_between_tasks_keeps_every_message() {
    bounded(|| {
        let rt = mt(2);
        let rounds = rt.block_on(async {
            let (to_b, mut b_rx) = mpsc::channel::<u32>(1);
            let (to_a, mut a_rx) = mpsc::channel::<u32>(1);
            let b = spindle_rt::spawn(async move {
                while let Some(v) = b_rx.recv().await {
                    if to_a.send(v + 1).await.is_err() {
                        break;
                    }
                }
            });
            let mut v = 0;
            for _ in 0..20_000 {
                to_b.send(v).await.unwrap();
                v = a_rx.recv().await.unwrap();
            }
            drop(to_b);
            b.await.unwrap();
            v
        });
        assert_eq!(rounds, 20_000);
    });
}

#[test]
fn a_task_that_always_yields_does_not_starve_the_others() {
    bounded(|| {
        let rt = mt(1);
        let done = Arc::new(AtomicUsize::new(0));
        let d = Arc::clone(&done);
        rt.block_on(async move {
            let spinner = spindle_rt::spawn(async move {
                while d.load(SeqCst) == 0 {
                    spindle_rt::yield_now().await;
                }
            });
            let (tx, rx) = oneshot::channel();
            spindle_rt::spawn(async move {
                spindle_rt::time::sleep(Duration::from_millis(5)).await;
                let _ = tx.send(());
            });
            rx.await.unwrap();
            done.store(1, SeqCst);
            spinner.await.unwrap();
        });
    });
}

#[test]
fn a_handle_spawns_from_other_threads_and_join_handles_are_send() {
    bounded(|| {
        let rt = mt(2);
        let handle = rt.handle();
        let joins: Vec<_> = (0..8)
            .map(|i| {
                let handle = handle.clone();
                thread::spawn(move || handle.spawn(async move { i }))
            })
            .map(|t| t.join().unwrap())
            .collect();
        let outs: Vec<_> = joins.into_iter().map(|j| futures::executor::block_on(j).unwrap()).collect();
        assert_eq!(outs, (0..8).collect::<Vec<_>>());
    });
}

#[test]
fn sleeps_and_timeouts_fire_on_workers() {
    bounded(|| {
        let rt = mt(2);
        rt.block_on(async {
            let start = std::time::Instant::now();
            let handles: Vec<_> = (0..10_000u64)
                .map(|i| spindle_rt::spawn(spindle_rt::time::sleep(Duration::from_millis(i % 20))))
                .collect();
            for h in handles {
                h.await.unwrap();
            }
            assert!(start.elapsed() >= Duration::from_millis(19));
            let never = std::future::pending::<()>();
            let r = spindle_rt::time::timeout(Duration::from_millis(10), never).await;
            assert!(r.is_err(), "the timeout fired");
        });
        assert_eq!(rt.handle().pending_timers(), 0);
    });
}

#[test]
fn worker_threads_zero_means_one_and_the_env_default_is_read() {
    bounded(|| {
        let rt = spindle_rt::Builder::new_multi_thread().worker_threads(0).build().unwrap();
        assert_eq!(rt.block_on(rt.spawn(async { 5 })).unwrap(), 5);
    });
}
