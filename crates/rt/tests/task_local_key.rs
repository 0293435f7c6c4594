//! `task_local!`: a value that belongs to a scope future, visible in each
//! of its polls wherever they run, never in other tasks, nested scopes
//! restoring the outer value.

mod rt_support;

use rt_support::{both, bounded, mt, panic_message, rt};
use spindle_rt::task::AccessError;
use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::thread;

spindle_rt::task_local! {
    static NUM: u32;
    static NAME: String;
}

spindle_rt::task_local! {
    /// A key declared alone, with a doc comment and no trailing semicolon.
    pub static SOLO: u8
}

#[test]
fn the_value_is_visible_across_yields_on_both_runtimes() {
    bounded(|| {
        for (name, rt) in both() {
            let seen = rt.block_on(rt.spawn(NUM.scope(7, async {
                let mut seen = vec![NUM.get()];
                for _ in 0..5 {
                    spindle_rt::yield_now().await;
                    seen.push(NUM.get());
                }
                seen
            })));
            assert_eq!(seen.unwrap(), [7; 6], "{name}");
            assert!(NUM.try_get().is_err(), "{name}: not set outside the scope");
        }
        // In block_on's own future too.
        assert_eq!(rt().block_on(SOLO.scope(3, async { SOLO.get() })), 3);
    });
}

#[test]
fn each_task_sees_its_own_value_after_moving_between_workers() {
    bounded(|| {
        let rt = mt(2);
        let moved = rt.block_on(async {
            let tasks: Vec<_> = (0..32u32)
                .map(|i| {
                    spindle_rt::spawn(NUM.scope(
                        i,
                        NAME.scope(format!("task-{i}"), async move {
                            let mut threads = HashSet::new();
                            let mut forced_moves = 0;
                            for round in 0..12 {
                                let before = thread::current().id();
                                threads.insert(before);
                                if round % 4 == 0 {
                                    // Hands this worker's queue to a new thread;
                                    // this one exits after our next yield, so
                                    // the next poll is on another thread.
                                    spindle_rt::runtime::block_in_place(|| ());
                                }
                                spindle_rt::yield_now().await;
                                let after = thread::current().id();
                                if round % 4 == 0 {
                                    assert_ne!(before, after, "block_in_place then yield moves the task");
                                    forced_moves += 1;
                                }
                                threads.insert(after);
                                assert_eq!(NUM.get(), i, "task {i}, round {round}");
                                NAME.with(|n| assert_eq!(*n, format!("task-{i}")));
                            }
                            (forced_moves, threads.len())
                        }),
                    ))
                })
                .collect();
            let mut moved = 0;
            for task in tasks {
                let (forced, threads) = task.await.unwrap();
                assert_eq!(forced, 3);
                assert!(threads >= 2, "the task ran on {threads} thread(s)");
                moved += 1;
            }
            moved
        });
        assert_eq!(moved, 32);
    });
}

#[test]
fn a_value_never_leaks_into_another_task_on_the_same_thread() {
    bounded(|| {
        let rt = rt();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (l1, l2) = (log.clone(), log.clone());
        rt.block_on(async move {
            let scoped = spindle_rt::spawn(NUM.scope(1, async move {
                for _ in 0..3 {
                    l1.lock().unwrap().push(("scoped", NUM.try_get().ok()));
                    spindle_rt::yield_now().await;
                }
            }));
            let plain = spindle_rt::spawn(async move {
                for _ in 0..3 {
                    l2.lock().unwrap().push(("plain", NUM.try_get().ok()));
                    spindle_rt::yield_now().await;
                }
            });
            scoped.await.unwrap();
            plain.await.unwrap();
        });
        let log = log.lock().unwrap();
        // One thread, the two tasks interleaved poll by poll.
        assert_eq!(log.len(), 6);
        assert!(log.windows(2).any(|w| w[0].0 != w[1].0), "interleaved: {log:?}");
        for (who, value) in log.iter() {
            match *who {
                "scoped" => assert_eq!(*value, Some(1)),
                _ => assert_eq!(*value, None, "the other task's value leaked: {log:?}"),
            }
        }
    });
}

#[test]
fn nested_scopes_shadow_and_restore_the_outer_value() {
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(rt.spawn(NUM.scope(1, async move {
                assert_eq!(NUM.get(), 1);
                let inner = NUM
                    .scope(2, async {
                        assert_eq!(NUM.get(), 2);
                        spindle_rt::yield_now().await;
                        // A sync scope inside the async one.
                        let three = NUM.sync_scope(3, || NUM.get());
                        assert_eq!(NUM.get(), 2);
                        three
                    })
                    .await;
                assert_eq!(inner, 3);
                assert_eq!(NUM.get(), 1, "restored after the inner scope");
                spindle_rt::yield_now().await;
                assert_eq!(NUM.get(), 1);
            })))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    });
}

#[test]
fn outside_any_scope_access_fails_with_a_clear_message() {
    let err: AccessError = NUM.try_with(|_| ()).unwrap_err();
    assert!(err.to_string().contains("task-local value not set"), "{err}");
    let panic = catch_unwind(|| NAME.with(|n| n.len())).unwrap_err();
    let msg = panic_message(&*panic);
    assert!(msg.contains("task-local value not set"), "{msg}");
    let panic = catch_unwind(|| NUM.get()).unwrap_err();
    assert!(panic_message(&*panic).contains("task-local value not set"));
}

#[test]
fn a_spawned_task_does_not_inherit_the_scope() {
    bounded(|| {
        for (name, rt) in both() {
            let inner = rt.block_on(
                NUM.scope(5, async { spindle_rt::spawn(async { NUM.try_get().is_err() }).await.unwrap() }),
            );
            assert!(inner, "{name}");
        }
    });
}

#[test]
fn the_wrapped_future_is_dropped_inside_its_scope() {
    bounded(|| {
        struct Witness(Arc<Mutex<Option<Result<u32, AccessError>>>>);
        impl Drop for Witness {
            fn drop(&mut self) {
                *self.0.lock().unwrap() = Some(NUM.try_get());
            }
        }
        for (name, rt) in both() {
            let seen = Arc::new(Mutex::new(None));
            let s = seen.clone();
            rt.block_on(async move {
                let (started_tx, started_rx) = spindle_rt::sync::oneshot::channel();
                let task = spindle_rt::spawn(NUM.scope(9, async move {
                    let _w = Witness(s);
                    started_tx.send(()).unwrap();
                    std::future::pending::<()>().await;
                }));
                started_rx.await.unwrap();
                task.abort();
                assert!(task.await.unwrap_err().is_cancelled());
            });
            assert_eq!(*seen.lock().unwrap(), Some(Ok(9)), "{name}");
        }
    });
}

#[test]
fn a_panic_inside_a_scope_restores_the_previous_value() {
    NUM.sync_scope(1, || {
        let caught = catch_unwind(AssertUnwindSafe(|| NUM.sync_scope(2, || panic!("inner"))));
        assert!(caught.is_err());
        assert_eq!(NUM.get(), 1);
    });
    assert!(NUM.try_get().is_err());

    // The same through a scope future whose poll panics.
    let rt = rt();
    let err = rt
        .block_on(NUM.scope(4, async {
            spindle_rt::spawn(NUM.scope(5, async { panic!("in the poll") })).await.unwrap_err()
        }))
        .into_panic();
    assert_eq!(panic_message(&*err), "in the poll");
    assert!(NUM.try_get().is_err());
}

#[test]
fn entering_a_scope_inside_with_of_the_same_key_panics_clearly() {
    let panic = catch_unwind(|| NUM.sync_scope(1, || NUM.with(|_| NUM.sync_scope(2, || ())))).unwrap_err();
    let msg = panic_message(&*panic);
    assert!(msg.contains("borrowed"), "{msg}");
    // Unwinding restored everything.
    assert!(NUM.try_get().is_err());
}
