//! RwLock: shared readers, exclusive writer, writer preference, FIFO batches, cancellation.

mod sync_support;
use std::sync::Arc;
use std::task::Poll;
use sync_support::{bounded, counting_waker, poll, wakes};

use futures::executor::block_on;
use spindle_rt::sync::RwLock;

#[test]
fn readers_share_and_a_writer_excludes() {
    let mut lock = RwLock::new(5);
    *lock.get_mut() += 1;
    block_on(async {
        let r1 = lock.read().await;
        let r2 = lock.read().await;
        assert_eq!(*r1 + *r2, 12);
        assert!(lock.try_write().is_err());
        drop((r1, r2));
        let mut w = lock.write().await;
        *w += 1;
        assert!(lock.try_read().is_err());
        assert!(lock.try_write().is_err());
    });
    assert_eq!(*lock.try_read().unwrap(), 7);
    assert_eq!(lock.into_inner(), 7);
}

#[test]
fn a_waiting_writer_stops_later_readers() {
    let lock = RwLock::new(());
    let r1 = lock.try_read().unwrap();
    let (cw, ww) = counting_waker();
    let (cr, wr) = counting_waker();
    let mut write = lock.write();
    assert!(poll(&mut write, &ww).is_pending());
    assert!(lock.try_read().is_err(), "a queued writer blocks new readers");
    let mut read = lock.read();
    assert!(poll(&mut read, &wr).is_pending());

    drop(r1);
    assert_eq!((wakes(&cw), wakes(&cr)), (1, 0));
    assert!(poll(&mut read, &wr).is_pending());
    let Poll::Ready(w) = poll(&mut write, &ww) else { panic!("writer should hold the lock") };
    drop(w);
    assert_eq!(wakes(&cr), 1);
    assert!(poll(&mut read, &wr).is_ready());
}

#[test]
fn queued_readers_before_a_writer_go_in_together() {
    let lock = RwLock::new(());
    let w0 = lock.try_write().unwrap();
    let counters: Vec<_> = (0..4).map(|_| counting_waker()).collect();
    let mut r1 = lock.read();
    let mut r2 = lock.read();
    let mut w1 = lock.write();
    let mut r3 = lock.read();
    assert!(poll(&mut r1, &counters[0].1).is_pending());
    assert!(poll(&mut r2, &counters[1].1).is_pending());
    assert!(poll(&mut w1, &counters[2].1).is_pending());
    assert!(poll(&mut r3, &counters[3].1).is_pending());
    let woken = || counters.iter().map(|(c, _)| wakes(c)).collect::<Vec<_>>();

    drop(w0);
    assert_eq!(woken(), [1, 1, 0, 0]);
    let Poll::Ready(g1) = poll(&mut r1, &counters[0].1) else { panic!("r1 should be admitted") };
    let Poll::Ready(g2) = poll(&mut r2, &counters[1].1) else { panic!("r2 should be admitted") };
    drop(g1);
    assert_eq!(woken(), [1, 1, 0, 0], "the writer waits for the last reader");
    drop(g2);
    assert_eq!(woken(), [1, 1, 1, 0]);
    let Poll::Ready(gw) = poll(&mut w1, &counters[2].1) else { panic!("w1 should hold the lock") };
    assert!(poll(&mut r3, &counters[3].1).is_pending());
    drop(gw);
    assert_eq!(woken(), [1, 1, 1, 1]);
    assert!(poll(&mut r3, &counters[3].1).is_ready());
}

#[test]
fn cancelling_a_queued_writer_admits_the_readers_behind_it() {
    let lock = RwLock::new(());
    let r0 = lock.try_read().unwrap();
    let (_cw, ww) = counting_waker();
    let (cr, wr) = counting_waker();
    let mut write = lock.write();
    let mut read = lock.read();
    assert!(poll(&mut write, &ww).is_pending());
    assert!(poll(&mut read, &wr).is_pending());
    drop(write);
    assert_eq!(wakes(&cr), 1);
    assert!(poll(&mut read, &wr).is_ready());
    drop(r0);
}

#[test]
fn cancelled_granted_writer_passes_the_lock_on() {
    let lock = RwLock::new(());
    let r0 = lock.try_read().unwrap();
    let (cw, ww) = counting_waker();
    let (cr, wr) = counting_waker();
    let mut write = lock.write();
    let mut read = lock.read();
    assert!(poll(&mut write, &ww).is_pending());
    assert!(poll(&mut read, &wr).is_pending());
    drop(r0);
    assert_eq!((wakes(&cw), wakes(&cr)), (1, 0));
    drop(write); // granted, never collected
    assert_eq!(wakes(&cr), 1);
    assert!(poll(&mut read, &wr).is_ready());
}

#[test]
fn readers_and_writers_on_threads_never_overlap() {
    bounded(|| {
        let lock = Arc::new(RwLock::new((0usize, 0usize)));
        let threads: Vec<_> = (0..4)
            .map(|i| {
                let lock = lock.clone();
                std::thread::spawn(move || {
                    block_on(async {
                        for _ in 0..1_000 {
                            if i % 2 == 0 {
                                let mut w = lock.write().await;
                                w.0 += 1;
                                std::hint::spin_loop();
                                w.1 += 1;
                            } else {
                                let r = lock.read().await;
                                assert_eq!(r.0, r.1, "a reader saw a half-done write");
                            }
                        }
                    })
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*lock.try_read().unwrap(), (2_000, 2_000));
    });
}

/// tokio's `RwLockWriteGuard::downgrade` (and the owned guard's): the
/// writer becomes a reader without letting anyone in between, and readers
/// queued at the head come in with it; a writer queued behind them still
/// waits for every reader.
#[test]
fn downgrade_keeps_the_lock_and_admits_the_queued_readers() {
    use spindle_rt::sync::{OwnedRwLockWriteGuard, RwLockWriteGuard};
    let lock = RwLock::new(1);
    let mut w = lock.try_write().unwrap();
    *w = 2;
    let (cr, wr) = counting_waker();
    let (cw, ww) = counting_waker();
    let mut read = lock.read();
    let mut write = lock.write();
    assert!(poll(&mut read, &wr).is_pending());
    assert!(poll(&mut write, &ww).is_pending());

    let r = RwLockWriteGuard::downgrade(w);
    assert_eq!(*r, 2, "the written value, nobody wrote in between");
    assert_eq!((wakes(&cr), wakes(&cw)), (1, 0), "the queued reader comes in");
    let Poll::Ready(r2) = poll(&mut read, &wr) else { panic!("reader admitted") };
    assert_eq!(*r2, 2);
    assert!(lock.try_read().is_err(), "the queued writer still holds back newcomers");
    drop((r, r2));
    assert_eq!(wakes(&cw), 1);
    drop(poll(&mut write, &ww));

    let lock = Arc::new(RwLock::new(5));
    let w = Arc::clone(&lock).try_write_owned().unwrap();
    let r = OwnedRwLockWriteGuard::downgrade(w);
    assert_eq!(*r, 5);
    assert!(lock.try_write().is_err(), "still held for reading");
    assert_eq!(*lock.try_read().expect("readers share"), 5);
    drop(r);
    assert!(lock.try_write().is_ok());
}
