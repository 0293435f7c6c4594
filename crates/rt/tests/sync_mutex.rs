//! Mutex: mutual exclusion under contention, FIFO hand-off, cancellation.

mod sync_support;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use sync_support::{bounded, counting_waker, poll, wakes};

use futures::executor::block_on;
use futures::executor::LocalPool;
use futures::task::LocalSpawnExt;
use spindle_rt::sync::Mutex;

/// Returns `Pending` once (waking itself), then `Ready`: a yield point.
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[test]
fn lock_try_lock_into_inner_get_mut() {
    let mut m = Mutex::new(1);
    *m.get_mut() += 1;
    block_on(async {
        let mut g = m.lock().await;
        *g += 1;
        assert!(m.try_lock().is_err());
    });
    *m.try_lock().unwrap() += 1;
    assert_eq!(m.into_inner(), 4);
}

#[test]
fn guards_held_across_awaits_exclude_each_other_on_one_thread() {
    let m = Rc::new(Mutex::new(Vec::new()));
    let mut pool = LocalPool::new();
    for task in 0..5 {
        let m = m.clone();
        pool.spawner()
            .spawn_local(async move {
                for step in 0..3 {
                    let mut g = m.lock().await;
                    g.push((task, step, "in"));
                    YieldNow(false).await; // others run while we hold it
                    g.push((task, step, "out"));
                }
            })
            .unwrap();
    }
    pool.run();
    let log = Rc::try_unwrap(m).unwrap().into_inner();
    assert_eq!(log.len(), 30);
    for pair in log.chunks(2) {
        assert_eq!((pair[0].0, pair[0].1), (pair[1].0, pair[1].1));
        assert_eq!((pair[0].2, pair[1].2), ("in", "out"));
    }
}

#[test]
fn mutual_exclusion_under_contention_from_threads() {
    const THREADS: usize = 4;
    const EACH: usize = 2_000;
    let total = bounded(|| {
        let m = Arc::new(Mutex::new(0usize));
        let inside = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let (m, inside) = (m.clone(), inside.clone());
                std::thread::spawn(move || {
                    block_on(async {
                        for _ in 0..EACH {
                            let mut g = m.lock().await;
                            assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                            // A non-atomic read-modify-write, spread out.
                            let v = *g;
                            std::hint::spin_loop();
                            *g = v + 1;
                            inside.fetch_sub(1, Ordering::SeqCst);
                        }
                    })
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        Arc::try_unwrap(m).unwrap().into_inner()
    });
    assert_eq!(total, THREADS * EACH);
}

#[test]
fn waiters_get_the_lock_in_fifo_order_and_newcomers_do_not_barge() {
    let m = Mutex::new(());
    let guard = m.try_lock().unwrap();
    let counters: Vec<_> = (0..3).map(|_| counting_waker()).collect();
    let mut locks: Vec<_> = (0..3).map(|_| m.lock()).collect();
    for (lock, (_, w)) in locks.iter_mut().zip(&counters) {
        assert!(poll(lock, w).is_pending());
    }
    let woken = || counters.iter().map(|(c, _)| wakes(c)).collect::<Vec<_>>();

    drop(guard);
    assert_eq!(woken(), [1, 0, 0], "only the oldest waiter is woken");
    // The lock was handed over, not freed: no barging.
    assert!(m.try_lock().is_err());
    let (late_count, late_waker) = counting_waker();
    let mut late = m.lock();
    assert!(poll(&mut late, &late_waker).is_pending());
    // A later waiter polled early does not get it either.
    assert!(poll(&mut locks[2], &counters[2].1).is_pending());

    let g0 = match poll(&mut locks[0], &counters[0].1) {
        Poll::Ready(g) => g,
        Poll::Pending => panic!("oldest waiter should hold the lock"),
    };
    drop(g0);
    assert_eq!(woken(), [1, 1, 0]);
    let Poll::Ready(g1) = poll(&mut locks[1], &counters[1].1) else {
        panic!("second waiter should hold the lock")
    };
    drop(g1);
    assert_eq!(woken(), [1, 1, 1]);
    let Poll::Ready(g2) = poll(&mut locks[2], &counters[2].1) else {
        panic!("third waiter should hold the lock")
    };
    assert_eq!(wakes(&late_count), 0);
    drop(g2);
    assert_eq!(wakes(&late_count), 1);
    assert!(poll(&mut late, &late_waker).is_ready());
}

#[test]
fn cancelled_lock_future_that_was_handed_the_lock_passes_it_on() {
    let m = Mutex::new(0);
    let guard = m.try_lock().unwrap();
    let (c1, w1) = counting_waker();
    let (c2, w2) = counting_waker();
    let mut l1 = m.lock();
    let mut l2 = m.lock();
    assert!(poll(&mut l1, &w1).is_pending());
    assert!(poll(&mut l2, &w2).is_pending());
    drop(guard);
    assert_eq!((wakes(&c1), wakes(&c2)), (1, 0));
    drop(l1); // handed the lock, never collected it
    assert_eq!(wakes(&c2), 1, "the lock moves on to the next waiter");
    let Poll::Ready(mut g) = poll(&mut l2, &w2) else { panic!("second waiter should hold the lock") };
    *g += 1;
    drop(g);
    drop(l2);
    assert_eq!(*m.try_lock().unwrap(), 1);
}

#[test]
fn cancelled_queued_lock_future_leaves_the_queue() {
    let m = Mutex::new(());
    let guard = m.try_lock().unwrap();
    let (c1, w1) = counting_waker();
    let mut l1 = m.lock();
    assert!(poll(&mut l1, &w1).is_pending());
    drop(l1);
    drop(guard);
    assert_eq!(wakes(&c1), 0);
    assert!(m.try_lock().is_ok(), "nobody waits, so the lock is free");
}

#[test]
fn repolled_lock_future_wakes_its_latest_waker() {
    let m = Mutex::new(());
    let guard = m.try_lock().unwrap();
    let (old, old_waker) = counting_waker();
    let (new, new_waker) = counting_waker();
    let mut l = m.lock();
    assert!(poll(&mut l, &old_waker).is_pending());
    assert!(poll(&mut l, &new_waker).is_pending());
    drop(guard);
    assert_eq!((wakes(&old), wakes(&new)), (0, 1));
}

/// tokio's `MutexGuard::map` / `try_map` and `MappedMutexGuard`: a guard
/// narrowed to part of the value keeps the lock until it drops (then it
/// goes to the waiter queued meanwhile); `try_map` hands the whole guard
/// back when the closure finds nothing; a panicking closure unlocks.
#[test]
fn mapped_guards_hold_the_lock_until_dropped() {
    use spindle_rt::sync::{MappedMutexGuard, MutexGuard};
    let m = Mutex::new((1u32, String::from("a")));
    let guard = m.try_lock().unwrap();
    assert!(std::ptr::eq(MutexGuard::mutex(&guard), &m));
    let mut name: MappedMutexGuard<'_, String> = MutexGuard::map(guard, |v| &mut v.1);
    name.push('b');
    let (count, waker) = counting_waker();
    let mut waiting = m.lock();
    assert!(poll(&mut waiting, &waker).is_pending(), "the mapped guard holds the lock");
    let mut first = MappedMutexGuard::map(name, |s| s.as_mut_str());
    first.make_ascii_uppercase();
    drop(first);
    assert_eq!(wakes(&count), 1, "the lock went to the waiter");
    let Poll::Ready(whole) = poll(&mut waiting, &waker) else { panic!("handed over") };
    assert_eq!(whole.1, "AB");
    let whole = match MutexGuard::try_map(whole, |v| (v.0 > 5).then_some(&mut v.0)) {
        Ok(_) => panic!("0 is not > 5"),
        Err(back) => back,
    };
    let mut n = MutexGuard::try_map(whole, |v| Some(&mut v.0)).expect("some");
    *n += 1;
    drop(n);
    assert_eq!(m.try_lock().unwrap().0, 2);

    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let guard = m.try_lock().unwrap();
        let _mapped = MutexGuard::map(guard, |_| -> &mut u32 { panic!("in the closure") });
    }));
    assert!(panicked.is_err());
    assert!(m.try_lock().is_ok(), "the panic released the lock");
}
