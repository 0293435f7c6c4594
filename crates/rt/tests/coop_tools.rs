//! `coop::unconstrained` and `coop::consume_budget`: opting out of and into
//! the per-poll budget.

mod rt_support;

use rt_support::{both, bounded, rt};
use spindle_rt::coop::{consume_budget, has_budget_remaining, unconstrained, BUDGET};
use spindle_rt::sync::mpsc;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};

/// Ready operations per test loop: several budgets' worth.
const OPS: u32 = 8 * BUDGET as u32;

/// Counts how often the future it wraps is polled.
struct Polls<F> {
    inner: Pin<Box<F>>,
    count: Arc<AtomicUsize>,
}

impl<F: Future> Future for Polls<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.count.fetch_add(1, SeqCst);
        self.inner.as_mut().poll(cx)
    }
}

fn counted<F: Future>(inner: F) -> (Polls<F>, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    (Polls { inner: Box::pin(inner), count: count.clone() }, count)
}

/// A loop over an always-ready channel: `OPS` sends and receives. Returns
/// whether the budget was left when it finished.
async fn channel_loop() -> bool {
    let (tx, mut rx) = mpsc::channel(1);
    for i in 0..OPS {
        tx.send(i).await.unwrap();
        assert_eq!(rx.recv().await, Some(i));
    }
    has_budget_remaining()
}

#[test]
fn unconstrained_runs_an_always_ready_loop_in_one_poll_while_constrained_yields() {
    bounded(|| {
        for (name, rt) in both() {
            let (free, free_polls) = counted(unconstrained(channel_loop()));
            assert!(rt.block_on(rt.spawn(free)).unwrap(), "{name}: budget left inside");
            assert_eq!(free_polls.load(SeqCst), 1, "{name}: never yielded");

            let (rationed, rationed_polls) = counted(channel_loop());
            rt.block_on(rt.spawn(rationed)).unwrap();
            // Each round receives once, spending a unit: OPS receives take
            // at least OPS / BUDGET polls (and one would do unconstrained).
            assert!(
                rationed_polls.load(SeqCst) >= (OPS / BUDGET as u32) as usize,
                "{name}: polled {} times",
                rationed_polls.load(SeqCst)
            );
        }
    });
}

#[test]
fn on_one_thread_another_task_progresses_only_when_the_loop_is_constrained() {
    bounded(|| {
        for constrained in [false, true] {
            let rt = rt();
            let ticks = Arc::new(AtomicUsize::new(0));
            let t = ticks.clone();
            let during = rt.block_on(async move {
                let ticker = spindle_rt::spawn(async move {
                    loop {
                        t.fetch_add(1, SeqCst);
                        spindle_rt::yield_now().await;
                    }
                });
                spindle_rt::yield_now().await; // the ticker has started
                let t = ticks.clone();
                let busy = async move {
                    let start = t.load(SeqCst);
                    channel_loop().await;
                    t.load(SeqCst) - start
                };
                let during = if constrained {
                    spindle_rt::spawn(busy).await.unwrap()
                } else {
                    spindle_rt::spawn(unconstrained(busy)).await.unwrap()
                };
                ticker.abort();
                during
            });
            if constrained {
                assert!(during > 0, "the budget let the ticker run");
            } else {
                assert_eq!(during, 0, "unconstrained: the ticker never ran");
            }
        }
    });
}

#[test]
fn consume_budget_yields_once_per_budget_and_never_outside_a_runtime() {
    bounded(|| {
        for (name, rt) in both() {
            let (spender, polls) = counted(async {
                for _ in 0..OPS {
                    consume_budget().await;
                }
            });
            rt.block_on(rt.spawn(spender)).unwrap();
            // BUDGET units per poll (the call that finds none left yields,
            // and spends on the next poll): OPS units take OPS / BUDGET.
            assert_eq!(polls.load(SeqCst), (OPS / BUDGET as u32) as usize, "{name}");

            let (free, polls) = counted(unconstrained(async {
                for _ in 0..OPS {
                    consume_budget().await;
                }
            }));
            rt.block_on(rt.spawn(free)).unwrap();
            assert_eq!(polls.load(SeqCst), 1, "{name}");
        }
        // Outside a runtime the budget is unlimited.
        let (outside, polls) = counted(async {
            for _ in 0..OPS {
                consume_budget().await;
            }
        });
        futures::executor::block_on(outside);
        assert_eq!(polls.load(SeqCst), 1);
    });
}

#[test]
fn unconstrained_leaves_the_enclosing_budget_as_it_was() {
    bounded(|| {
        let rt = rt();
        let (outer, polls) = counted(async {
            // Half a budget here, a lot inside unconstrained, half here
            // again: together still within one budget, so one poll.
            for _ in 0..BUDGET / 2 {
                consume_budget().await;
            }
            unconstrained(async {
                for _ in 0..OPS {
                    consume_budget().await;
                }
            })
            .await;
            for _ in 0..BUDGET / 2 - 1 {
                consume_budget().await;
            }
            has_budget_remaining()
        });
        assert!(rt.block_on(rt.spawn(outer)).unwrap());
        assert_eq!(polls.load(SeqCst), 1);
    });
}
