//! `OnceCell` (one initializer among many concurrent callers; a failed or
//! cancelled one leaves the cell to the next) and `Barrier` (rounds of n
//! tasks, one leader each).

mod rt_support;

use rt_support::{both, bounded};
use spindle_rt::sync::{Barrier, OnceCell};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

#[test]
fn one_initializer_runs_among_many_callers() {
    bounded(|| {
        for (name, rt) in both() {
            let (runs, values) = rt.block_on(async {
                let cell = Arc::new(OnceCell::new());
                let runs = Arc::new(AtomicUsize::new(0));
                let tasks: Vec<_> = (0..16)
                    .map(|i| {
                        let (cell, runs) = (Arc::clone(&cell), Arc::clone(&runs));
                        spindle_rt::spawn(async move {
                            *cell
                                .get_or_init(|| async move {
                                    runs.fetch_add(1, SeqCst);
                                    // Awaits inside: the others must queue.
                                    spindle_rt::yield_now().await;
                                    i
                                })
                                .await
                        })
                    })
                    .collect();
                let mut values = Vec::new();
                for t in tasks {
                    values.push(t.await.unwrap());
                }
                (runs.load(SeqCst), values)
            });
            assert_eq!(runs, 1, "{name}: initializer runs");
            assert!(values.windows(2).all(|w| w[0] == w[1]), "{name}: everyone sees one value: {values:?}");
        }
    });
}

#[test]
fn a_failed_or_cancelled_initializer_leaves_the_cell_empty() {
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                let cell: OnceCell<u32> = OnceCell::new();
                let failed: Result<&u32, &str> = cell.get_or_try_init(|| async { Err("no") }).await;
                assert_eq!(failed, Err("no"), "{name}");
                assert!(!cell.initialized());
                // Cancelled mid-way: dropped at its first Pending.
                let mut slow = Box::pin(cell.get_or_init(|| async {
                    std::future::pending::<()>().await;
                    unreachable!()
                }));
                let polled = std::future::poll_fn(|cx| std::task::Poll::Ready(slow.as_mut().poll(cx))).await;
                assert!(polled.is_pending());
                drop(slow);
                assert_eq!(*cell.get_or_init(|| async { 7 }).await, 7, "{name}: the next caller initializes");
                assert_eq!(
                    cell.set(8),
                    Err(spindle_rt::sync::SetError::AlreadyInitializedError(8)),
                    "{name}: set once"
                );
                assert_eq!(cell.get(), Some(&7));
            });
        }
    });
}

#[test]
fn barrier_releases_rounds_of_n_with_one_leader_each() {
    bounded(|| {
        for (name, rt) in both() {
            let leaders = rt.block_on(async {
                let barrier = Arc::new(Barrier::new(4));
                let passed = Arc::new(AtomicUsize::new(0));
                let tasks: Vec<_> = (0..4)
                    .map(|_| {
                        let (barrier, passed) = (Arc::clone(&barrier), Arc::clone(&passed));
                        spindle_rt::spawn(async move {
                            let mut leaders = 0;
                            for round in 0..3 {
                                let r = barrier.wait().await;
                                leaders += usize::from(r.is_leader());
                                // Nobody is released before all 4 arrived.
                                assert!(passed.fetch_add(1, SeqCst) >= round * 4);
                            }
                            leaders
                        })
                    })
                    .collect();
                let mut leaders = 0;
                for t in tasks {
                    leaders += t.await.unwrap();
                }
                leaders
            });
            assert_eq!(leaders, 3, "{name}: one leader per round");
        }
    });
}

/// tokio's `OnceCell::set`: refused with `InitializingError` while an
/// initializer runs (whose value then stands), and with
/// `AlreadyInitializedError` once the cell is set; either way the value
/// comes back.
#[test]
fn set_is_refused_while_an_initializer_runs_and_once_the_cell_is_set() {
    use spindle_rt::sync::{oneshot, Notify, SetError};
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                let cell = Arc::new(OnceCell::new());
                let (go, wait) = oneshot::channel::<()>();
                let started = Arc::new(Notify::new());
                let init = {
                    let (cell, started) = (Arc::clone(&cell), Arc::clone(&started));
                    spindle_rt::spawn(async move {
                        *cell
                            .get_or_init(|| async move {
                                started.notify_one();
                                wait.await.expect("go");
                                1
                            })
                            .await
                    })
                };
                started.notified().await;
                match cell.set(2) {
                    Err(SetError::InitializingError(2)) => {}
                    other => panic!("{name}: set during init gave {other:?}"),
                }
                go.send(()).expect("initializer alive");
                assert_eq!(init.await.expect("no panic"), 1, "{name}: the initializer's value stands");
                assert_eq!(cell.get(), Some(&1));
                let err = cell.set(3).expect_err("already set");
                assert!(err.is_already_init_err() && !err.is_initializing_err(), "{name}");
                assert!(matches!(err, SetError::AlreadyInitializedError(3)));

                let fresh = OnceCell::new();
                assert_eq!(fresh.set(4), Ok(()));
                assert_eq!(fresh.get(), Some(&4));
            });
        }
    });
}

#[test]
fn new_with_starts_set_or_empty() {
    assert_eq!(OnceCell::new_with(Some(3)).get(), Some(&3));
    assert!(!OnceCell::<u8>::new_with(None).initialized());
}
