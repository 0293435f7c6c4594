//! The per-poll budget on the resources tokio makes cooperative besides
//! sockets and mpsc: `io::repeat`, `sink`, `empty`, `copy`, `duplex`, the
//! broadcast, oneshot, watch, `Mutex`, `RwLock` and `Semaphore` waits,
//! and `time::sleep`. A task looping on one that is always ready must still yield:
//! each test races such a loop (polled first) against `yield_now`, which
//! completes only once the loop has returned `Pending`. Without a budget
//! the loop never yields and the test hangs until its bound.

mod rt_support;

use rt_support::{bounded_by, rt};
use spindle_rt::io::{copy, duplex, empty, repeat, sink, AsyncReadExt, AsyncWriteExt};
use spindle_rt::sync::{broadcast, oneshot, watch, Mutex, RwLock, Semaphore};
use std::future::Future;
use std::time::Duration;

/// Runs `busy` (a loop that never ends by itself) against `yield_now` on
/// a current-thread runtime, `busy` polled first; fails if `busy` never
/// yields within two seconds.
fn yields<F: Future<Output = ()> + 'static>(busy: impl FnOnce() -> F + Send + 'static) {
    bounded_by(Duration::from_secs(2), move || {
        rt().block_on(async move {
            spindle_rt::select! {
                biased;
                () = busy() => unreachable!("the loop never ends"),
                () = spindle_rt::yield_now() => {}
            }
        });
    });
}

#[test]
fn reading_repeat_yields() {
    yields(|| async {
        let (mut r, mut buf) = (repeat(7), [0u8; 16]);
        loop {
            r.read_exact(&mut buf).await.expect("repeat never fails");
        }
    });
}

#[test]
fn writing_to_sink_yields() {
    yields(|| async {
        let mut w = sink();
        loop {
            w.write_all(b"hello").await.expect("sink never fails");
        }
    });
}

#[test]
fn reading_empty_yields() {
    yields(|| async {
        let (mut r, mut buf) = (empty(), [0u8; 16]);
        loop {
            assert_eq!(r.read(&mut buf).await.expect("empty never fails"), 0);
        }
    });
}

/// tokio's `copy` spends budget itself, so copies between in-memory
/// readers and writers (which know nothing of the budget) still yield.
#[test]
fn copying_between_plain_buffers_yields() {
    yields(|| async {
        loop {
            let mut from: &[u8] = b"hello";
            let mut to = Vec::new();
            copy(&mut from, &mut to).await.expect("in memory");
        }
    });
}

#[test]
fn a_duplex_round_trip_yields() {
    yields(|| async {
        let (mut a, mut b) = duplex(64);
        let mut byte = [0u8; 1];
        loop {
            a.write_all(b"x").await.expect("write");
            b.read_exact(&mut byte).await.expect("read");
        }
    });
}

#[test]
fn a_broadcast_receiver_yields() {
    yields(|| async {
        let (tx, mut rx) = broadcast::channel(8);
        loop {
            tx.send(1u8).expect("a receiver");
            rx.recv().await.expect("sent");
        }
    });
}

#[test]
fn a_oneshot_receiver_yields() {
    yields(|| async {
        loop {
            let (tx, rx) = oneshot::channel();
            tx.send(1u8).expect("a receiver");
            rx.await.expect("sent");
        }
    });
}

#[test]
fn a_watch_receiver_yields() {
    yields(|| async {
        let (tx, mut rx) = watch::channel(0u8);
        loop {
            tx.send_modify(|v| *v = v.wrapping_add(1));
            rx.changed().await.expect("a sender");
        }
    });
}

#[test]
fn locking_a_free_mutex_yields() {
    yields(|| async {
        let m = Mutex::new(0u64);
        loop {
            *m.lock().await += 1;
        }
    });
}

#[test]
fn locking_a_free_rwlock_yields() {
    yields(|| async {
        let l = RwLock::new(0u64);
        loop {
            *l.write().await += 1;
            let _ = *l.read().await;
        }
    });
}

#[test]
fn acquiring_a_free_semaphore_yields() {
    yields(|| async {
        let s = Semaphore::new(1);
        loop {
            drop(s.acquire().await.expect("open"));
        }
    });
}

#[test]
fn a_loop_of_elapsed_sleeps_yields() {
    yields(|| async {
        loop {
            spindle_rt::time::sleep(Duration::ZERO).await;
        }
    });
}

/// A future that counts its polls.
struct CountPolls<F> {
    inner: std::pin::Pin<Box<F>>,
    polls: std::rc::Rc<std::cell::Cell<u32>>,
}

impl<F: Future> Future for CountPolls<F> {
    type Output = F::Output;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        self.polls.set(self.polls.get() + 1);
        self.inner.as_mut().poll(cx)
    }
}

/// Waiting on more resources than one budget in one poll (a `join_all`
/// of idle receivers) must not spend the budget: tokio gives a unit back
/// when the resource was not ready. Spending it made the 129th receiver
/// answer `Pending` with a wake-up, so the idle task was polled again at
/// once, for ever: a busy loop at 100% CPU while nothing happened.
#[test]
fn waiting_on_many_idle_receivers_does_not_spin() {
    bounded_by(Duration::from_secs(5), || {
        rt().block_on(async {
            let polls = std::rc::Rc::new(std::cell::Cell::new(0));
            let mut senders = Vec::new();
            let mut receivers = Vec::new();
            for _ in 0..300 {
                let (tx, rx) = spindle_rt::sync::mpsc::channel::<u8>(1);
                senders.push(tx);
                receivers.push(rx);
            }
            // Polls every receiver each time, as a hand-written "wait for
            // all of these" does.
            let mut done = vec![false; receivers.len()];
            let wait_all = std::future::poll_fn(move |cx| {
                for (rx, done) in receivers.iter_mut().zip(done.iter_mut()) {
                    *done = *done || rx.poll_recv(cx).is_ready();
                }
                let ready = done.iter().filter(|d| **d).count();
                if ready == done.len() {
                    std::task::Poll::Ready(ready)
                } else {
                    std::task::Poll::Pending
                }
            });
            let all = CountPolls { inner: Box::pin(wait_all), polls: polls.clone() };
            let waiter = spindle_rt::spawn_local(all);
            spindle_rt::time::sleep(Duration::from_millis(30)).await;
            assert!(polls.get() <= 3, "an idle task was polled {} times in 30 ms", polls.get());
            drop(senders);
            let got = waiter.await.expect("the waiter");
            assert_eq!(got, 300);
        });
    });
}

/// A `timeout` around a future that always spends the whole budget must
/// still fire: tokio polls the timer without a budget when the future
/// used it up. (With sleeps budgeted and without that, the timer found
/// the budget empty on every poll and the timeout never fired.)
#[test]
fn a_timeout_fires_around_a_future_that_spends_the_whole_budget() {
    bounded_by(Duration::from_secs(5), || {
        rt().block_on(async {
            let busy = async {
                let (tx, mut rx) = spindle_rt::sync::mpsc::channel(1);
                loop {
                    tx.send(1u8).await.expect("open");
                    rx.recv().await.expect("sent");
                }
            };
            let out: Result<(), _> = spindle_rt::time::timeout(Duration::from_millis(20), busy).await;
            assert!(out.is_err(), "the endless future cannot finish");
        });
    });
}
