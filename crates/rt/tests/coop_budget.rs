//! The per-poll budget: a task whose resources are always ready still
//! yields, so timers and other tasks run (on both schedulers).

mod rt_support;

use rt_support::{both, bounded};
use spindle_rt::sync::mpsc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn an_always_ready_channel_loop_lets_a_timer_fire() {
    bounded(|| {
        for (name, rt) in both() {
            let stop = Arc::new(AtomicBool::new(false));
            let s = Arc::clone(&stop);
            let rounds = rt.block_on(async move {
                // Never returns Pending on its own: it sends to and receives
                // from its own channel, which is always ready.
                let busy = spindle_rt::spawn(async move {
                    let (tx, mut rx) = mpsc::channel::<u32>(1);
                    let mut rounds = 0u64;
                    while !s.load(SeqCst) {
                        tx.send(1).await.unwrap();
                        rx.recv().await.unwrap();
                        rounds += 1;
                    }
                    rounds
                });
                // On one thread, only the budget lets this timer's task run.
                spindle_rt::time::sleep(Duration::from_millis(2)).await;
                stop.store(true, SeqCst);
                busy.await.unwrap()
            });
            assert!(rounds > 0, "{name}");
        }
    });
}

#[test]
fn outside_a_task_the_budget_is_unlimited() {
    assert!(spindle_rt::coop::has_budget_remaining());
}

/// On the current-thread runtime `block_on`'s main future shares the thread
/// with the tasks: looping on an always-ready resource until a task says
/// stop must let that task run. With an unlimited budget for the main
/// future (tokio budgets it) this loop never ended.
#[test]
fn a_main_future_looping_on_a_ready_resource_lets_tasks_run() {
    bounded(|| {
        let rt = rt_support::rt();
        let rounds = rt.block_on(async {
            let stop = Arc::new(AtomicBool::new(false));
            let s = Arc::clone(&stop);
            spindle_rt::spawn(async move { s.store(true, SeqCst) });
            let (tx, mut rx) = mpsc::channel::<u32>(1);
            let mut rounds = 0u64;
            while !stop.load(SeqCst) {
                tx.send(1).await.unwrap();
                rx.recv().await.unwrap();
                rounds += 1;
            }
            rounds
        });
        assert!(rounds > 0);
    });
}
