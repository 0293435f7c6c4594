//! Semaphore: permits, acquire_many ordering, cancellation, close, concurrency limit.

mod sync_support;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use sync_support::{bounded, counting_waker, poll, wakes};

use futures::executor::block_on;
use spindle_rt::sync::{Semaphore, TryAcquireError};

#[test]
fn permits_are_taken_and_returned_on_drop() {
    let s = Semaphore::new(3);
    block_on(async {
        let a = s.acquire().await.unwrap();
        let b = s.acquire_many(2).await.unwrap();
        assert_eq!((a.num_permits(), b.num_permits()), (1, 2));
        assert_eq!(s.available_permits(), 0);
        assert_eq!(s.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
        drop(b);
        assert_eq!(s.available_permits(), 2);
        drop(a);
    });
    assert_eq!(s.available_permits(), 3);
    s.add_permits(2);
    assert_eq!(s.try_acquire_many(5).unwrap().num_permits(), 5);
    s.try_acquire().unwrap().forget();
    assert_eq!(s.available_permits(), 4);
}

#[test]
fn a_large_request_at_the_head_blocks_smaller_ones_behind_it() {
    let s = Semaphore::new(3);
    let held = s.try_acquire_many(3).unwrap();
    let (cb, wb) = counting_waker();
    let (cs, ws) = counting_waker();
    let mut big = s.acquire_many(3);
    let mut small = s.acquire();
    assert!(poll(&mut big, &wb).is_pending());
    assert!(poll(&mut small, &ws).is_pending());

    s.add_permits(1);
    assert_eq!((wakes(&cb), wakes(&cs)), (0, 0), "the head wants 3, only 1 free");
    assert!(poll(&mut small, &ws).is_pending());
    assert_eq!(s.try_acquire().unwrap_err(), TryAcquireError::NoPermits);

    drop(held); // 4 free: big takes 3, then small fits in the 1 left
    assert_eq!((wakes(&cb), wakes(&cs)), (1, 1));
    let Poll::Ready(Ok(big_permit)) = poll(&mut big, &wb) else { panic!("big request should be granted") };
    let Poll::Ready(Ok(small_permit)) = poll(&mut small, &ws) else {
        panic!("small request should be granted")
    };
    assert_eq!((big_permit.num_permits(), small_permit.num_permits()), (3, 1));
    assert_eq!(s.available_permits(), 0);
}

#[test]
fn cancelling_the_blocking_head_lets_smaller_requests_in() {
    let s = Semaphore::new(1);
    let (_cb, wb) = counting_waker();
    let (cs, ws) = counting_waker();
    let mut big = s.acquire_many(2);
    let mut small = s.acquire();
    assert!(poll(&mut big, &wb).is_pending());
    assert!(poll(&mut small, &ws).is_pending());
    drop(big);
    assert_eq!(wakes(&cs), 1);
    assert!(matches!(poll(&mut small, &ws), Poll::Ready(Ok(_))));
}

#[test]
fn cancelled_granted_acquire_passes_its_permits_on() {
    let s = Semaphore::new(2);
    let held = s.try_acquire_many(2).unwrap();
    let (c1, w1) = counting_waker();
    let (c2, w2) = counting_waker();
    let mut a = s.acquire_many(2);
    let mut b = s.acquire_many(2);
    assert!(poll(&mut a, &w1).is_pending());
    assert!(poll(&mut b, &w2).is_pending());
    drop(held);
    assert_eq!((wakes(&c1), wakes(&c2)), (1, 0));
    assert_eq!(s.available_permits(), 0, "granted to a already");
    drop(a);
    assert_eq!(wakes(&c2), 1);
    assert!(matches!(poll(&mut b, &w2), Poll::Ready(Ok(_))));
}

#[test]
fn close_fails_waiters_and_later_acquires_but_not_held_permits() {
    let s = Semaphore::new(1);
    let held = s.try_acquire().unwrap();
    let (c, w) = counting_waker();
    let mut waiting = s.acquire();
    assert!(poll(&mut waiting, &w).is_pending());
    s.close();
    assert!(s.is_closed());
    assert_eq!(wakes(&c), 1);
    assert!(matches!(poll(&mut waiting, &w), Poll::Ready(Err(_))));
    assert!(block_on(s.acquire()).is_err());
    assert_eq!(s.try_acquire().unwrap_err(), TryAcquireError::Closed);
    drop(held);
    assert_eq!(s.available_permits(), 1);
    assert!(s.try_acquire().is_err());
}

#[test]
fn repolled_acquire_wakes_its_latest_waker() {
    let s = Semaphore::new(0);
    let (old, old_waker) = counting_waker();
    let (new, new_waker) = counting_waker();
    let mut a = s.acquire();
    assert!(poll(&mut a, &old_waker).is_pending());
    assert!(poll(&mut a, &new_waker).is_pending());
    s.add_permits(1);
    assert_eq!((wakes(&old), wakes(&new)), (0, 1));
}

#[test]
fn limits_concurrency_across_threads() {
    const LIMIT: usize = 2;
    let max_seen = bounded(|| {
        let s = Arc::new(Semaphore::new(LIMIT));
        let inside = Arc::new(AtomicUsize::new(0));
        let max_seen = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (s, inside, max_seen) = (s.clone(), inside.clone(), max_seen.clone());
                std::thread::spawn(move || {
                    block_on(async {
                        for _ in 0..1_000 {
                            let _permit = s.acquire().await.unwrap();
                            let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                            max_seen.fetch_max(now, Ordering::SeqCst);
                            inside.fetch_sub(1, Ordering::SeqCst);
                        }
                    })
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(s.available_permits(), LIMIT);
        max_seen.load(Ordering::SeqCst)
    });
    assert!((1..=LIMIT).contains(&max_seen), "max inside was {max_seen}");
}

/// tokio's `acquire_many` family takes the count as a `u32`; ported code
/// passing a `u32` variable (not just a literal) must compile and work.
#[test]
fn acquire_many_takes_a_u32_count_as_tokio() {
    let s = Arc::new(Semaphore::new(10));
    let n: u32 = 3;
    let a = block_on(s.acquire_many(n)).unwrap();
    let b = s.try_acquire_many(n).unwrap();
    let c = block_on(Arc::clone(&s).acquire_many_owned(n)).unwrap();
    assert!(Arc::clone(&s).try_acquire_many_owned(n).is_err(), "one permit left");
    assert_eq!((a.num_permits(), b.num_permits(), c.num_permits()), (3, 3, 3));
    assert_eq!(s.available_permits(), 1);
    drop((a, b, c));
    assert_eq!(s.available_permits(), 10);
}

/// tokio's `forget_permits` (shrink by up to n of the free permits) and
/// the permits' `split` / `merge` (hand part of a grant to another holder,
/// or join two grants of one semaphore).
#[test]
fn forget_permits_split_and_merge_as_tokio() {
    let s = Semaphore::new(5);
    let held = s.try_acquire_many(2).unwrap();
    assert_eq!(s.forget_permits(2), 2);
    assert_eq!(s.forget_permits(9), 1, "only what is free");
    assert_eq!(s.available_permits(), 0);
    drop(held);
    assert_eq!(s.available_permits(), 2);

    let mut a = s.try_acquire_many(2).unwrap();
    assert!(a.split(3).is_none(), "cannot split off more than held");
    let b = a.split(1).expect("one of two");
    assert_eq!((a.num_permits(), b.num_permits()), (1, 1));
    drop(b);
    assert_eq!(s.available_permits(), 1, "the split-off permit went back alone");
    let c = s.try_acquire().unwrap();
    a.merge(c);
    assert_eq!(a.num_permits(), 2);
    drop(a);
    assert_eq!(s.available_permits(), 2);

    let s = Arc::new(Semaphore::new(4));
    let mut o = Arc::clone(&s).try_acquire_many_owned(3).unwrap();
    let p = o.split(2).expect("two of three");
    assert_eq!((o.num_permits(), p.num_permits(), s.available_permits()), (1, 2, 1));
    o.merge(p);
    assert_eq!(o.num_permits(), 3);
    drop(o);
    assert_eq!(s.available_permits(), 4);
}

#[test]
#[should_panic(expected = "different semaphores")]
fn merging_permits_of_two_semaphores_panics() {
    let (s1, s2) = (Semaphore::new(1), Semaphore::new(1));
    let mut a = s1.try_acquire().unwrap();
    a.merge(s2.try_acquire().unwrap());
}
