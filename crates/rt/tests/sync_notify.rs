//! Notify: the permit, notify_one vs notify_waiters, passing on cancelled wake-ups.

mod sync_support;
use std::sync::Arc;
use std::task::Poll;
use sync_support::{bounded, counting_waker, poll, wakes};

use futures::executor::block_on;
use spindle_rt::sync::Notify;

#[test]
fn notify_one_without_waiters_stores_a_single_permit() {
    let n = Notify::new();
    n.notify_one();
    n.notify_one(); // does not stack
    let (_c, w) = counting_waker();
    let mut first = n.notified();
    assert_eq!(poll(&mut first, &w), Poll::Ready(()));
    let mut second = n.notified();
    assert_eq!(poll(&mut second, &w), Poll::Pending);
}

#[test]
fn notify_one_wakes_only_the_oldest_waiter() {
    let n = Notify::new();
    let (c1, w1) = counting_waker();
    let (c2, w2) = counting_waker();
    let mut a = n.notified();
    let mut b = n.notified();
    assert!(poll(&mut a, &w1).is_pending());
    assert!(poll(&mut b, &w2).is_pending());
    n.notify_one();
    assert_eq!((wakes(&c1), wakes(&c2)), (1, 0));
    assert!(poll(&mut b, &w2).is_pending());
    assert!(poll(&mut a, &w1).is_ready());
    n.notify_one();
    assert_eq!(wakes(&c2), 1);
    assert!(poll(&mut b, &w2).is_ready());
    // Both consumed: no permit is left over.
    assert!(poll(&mut n.notified(), &w1).is_pending());
}

#[test]
fn notify_waiters_wakes_everyone_and_stores_no_permit() {
    let n = Notify::new();
    let counters: Vec<_> = (0..3).map(|_| counting_waker()).collect();
    let mut futs: Vec<_> = (0..3).map(|_| n.notified()).collect();
    for (f, (_, w)) in futs.iter_mut().zip(&counters) {
        assert!(poll(f, w).is_pending());
    }
    n.notify_waiters();
    for (f, (c, w)) in futs.iter_mut().zip(&counters) {
        assert_eq!(wakes(c), 1);
        assert!(poll(f, w).is_ready());
    }
    let (_c, w) = counting_waker();
    assert!(poll(&mut n.notified(), &w).is_pending(), "no permit stored");
}

#[test]
fn notify_waiters_counts_futures_created_but_not_yet_polled() {
    let n = Notify::new();
    let mut early = n.notified();
    n.notify_waiters();
    let mut late = n.notified();
    let (_c, w) = counting_waker();
    assert!(poll(&mut early, &w).is_ready());
    assert!(poll(&mut late, &w).is_pending());
}

#[test]
fn dropped_notified_passes_a_notify_one_on() {
    let n = Notify::new();
    let (c1, w1) = counting_waker();
    let (c2, w2) = counting_waker();
    let mut a = n.notified();
    let mut b = n.notified();
    assert!(poll(&mut a, &w1).is_pending());
    assert!(poll(&mut b, &w2).is_pending());
    n.notify_one();
    assert_eq!(wakes(&c1), 1);
    drop(a); // picked, never collected
    assert_eq!(wakes(&c2), 1, "the notification moves on");
    assert!(poll(&mut b, &w2).is_ready());
}

#[test]
fn dropped_notified_with_nobody_behind_restores_the_permit() {
    let n = Notify::new();
    let (_c, w) = counting_waker();
    let mut a = n.notified();
    assert!(poll(&mut a, &w).is_pending());
    n.notify_one();
    drop(a);
    assert!(poll(&mut n.notified(), &w).is_ready());
}

#[test]
fn dropped_notified_does_not_pass_on_a_notify_waiters() {
    let n = Notify::new();
    let (_c, w) = counting_waker();
    let mut a = n.notified();
    assert!(poll(&mut a, &w).is_pending());
    n.notify_waiters();
    drop(a);
    assert!(poll(&mut n.notified(), &w).is_pending());
}

#[test]
fn dropped_queued_notified_is_forgotten() {
    let n = Notify::new();
    let (c1, w1) = counting_waker();
    let (c2, w2) = counting_waker();
    let mut a = n.notified();
    let mut b = n.notified();
    assert!(poll(&mut a, &w1).is_pending());
    assert!(poll(&mut b, &w2).is_pending());
    drop(a);
    n.notify_one();
    assert_eq!((wakes(&c1), wakes(&c2)), (0, 1));
}

#[test]
fn repolled_notified_wakes_its_latest_waker() {
    let n = Notify::new();
    let (old, old_waker) = counting_waker();
    let (new, new_waker) = counting_waker();
    let mut a = n.notified();
    assert!(poll(&mut a, &old_waker).is_pending());
    assert!(poll(&mut a, &new_waker).is_pending());
    n.notify_one();
    assert_eq!((wakes(&old), wakes(&new)), (0, 1));
}

#[test]
fn ping_pong_between_threads() {
    const ROUNDS: usize = 1_000;
    bounded(|| {
        let ping = Arc::new(Notify::new());
        let pong = Arc::new(Notify::new());
        let (ping2, pong2) = (ping.clone(), pong.clone());
        let other = std::thread::spawn(move || {
            block_on(async {
                for _ in 0..ROUNDS {
                    ping2.notified().await;
                    pong2.notify_one();
                }
            })
        });
        block_on(async {
            for _ in 0..ROUNDS {
                ping.notify_one();
                pong.notified().await;
            }
        });
        other.join().unwrap();
    });
}
