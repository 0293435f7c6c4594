//! Model-checked interleavings of the sync primitives: run with
//! `RUSTFLAGS="--cfg loom" cargo test -p spindle-rt --test sync_loom --release`.
//!
//! Under `--cfg loom` every primitive's internal state lock comes from loom
//! (through the crate's shim), so loom explores the orders in which two
//! threads can reach it; [`block_on`] below parks on loom's own `Notify`,
//! so a lost wake-up shows up as a deadlock that loom reports.

#![cfg(loom)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Wake, Waker};

use loom::sync::Arc;
use loom::thread;
use spindle_rt::sync::{broadcast, mpsc, oneshot, watch, Mutex, Notify, RwLock, Semaphore};

/// A waker that unparks the `block_on` thread through loom.
struct Unpark(loom::sync::Notify);

impl Wake for Unpark {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.notify();
    }
}

/// Drives `fut` to completion, parking in loom between polls. (loom's own
/// `block_on` sits behind a cargo feature this crate does not enable.)
fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let unpark = std::sync::Arc::new(Unpark(loom::sync::Notify::new()));
    let waker = Waker::from(unpark.clone());
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        unpark.0.wait();
    }
}

#[test]
fn oneshot_value_or_error_always_arrives() {
    loom::model(|| {
        let (tx, rx) = oneshot::channel();
        let t = thread::spawn(move || tx.send(1));
        assert_eq!(block_on(rx), Ok(1));
        assert_eq!(t.join().unwrap(), Ok(()));
    });
    loom::model(|| {
        let (tx, rx) = oneshot::channel::<u8>();
        let t = thread::spawn(move || drop(tx));
        assert!(block_on(rx).is_err());
        t.join().unwrap();
    });
}

#[test]
fn mutex_two_lockers_both_get_in() {
    loom::model(|| {
        let m = Arc::new(Mutex::new(0));
        let m2 = m.clone();
        let t = thread::spawn(move || block_on(async { *m2.lock().await += 1 }));
        block_on(async { *m.lock().await += 1 });
        t.join().unwrap();
        assert_eq!(*m.try_lock().unwrap(), 2);
    });
}

#[test]
fn notify_one_is_never_lost() {
    loom::model(|| {
        let n = Arc::new(Notify::new());
        let n2 = n.clone();
        let t = thread::spawn(move || n2.notify_one());
        block_on(n.notified());
        t.join().unwrap();
    });
}

#[test]
fn mpsc_backpressure_delivers_in_order() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        let t = thread::spawn(move || {
            block_on(async {
                tx.send(1).await.unwrap();
                tx.send(2).await.unwrap();
            })
        });
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(block_on(rx.recv()), Some(2));
        assert_eq!(block_on(rx.recv()), None);
        t.join().unwrap();
    });
}

#[test]
fn mpsc_a_slot_freed_from_the_receivers_batch_reaches_a_waiting_sender() {
    // The receiver takes values in batches and frees each slot without the
    // lock unless a sender waits; here it frees the slot and then waits on
    // something else entirely (the sender's "sent both" signal), so only
    // that lock-free hand-off can let the second send through.
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        let (done_tx, done_rx) = oneshot::channel();
        let t = thread::spawn(move || {
            block_on(async {
                tx.send(1).await.unwrap();
                tx.send(2).await.unwrap();
            });
            done_tx.send(()).unwrap();
        });
        assert_eq!(block_on(rx.recv()), Some(1));
        block_on(done_rx).unwrap();
        assert_eq!(block_on(rx.recv()), Some(2));
        t.join().unwrap();
    });
}

#[test]
fn mpsc_two_producers_on_a_full_channel_deliver_both() {
    // Two senders race for one slot: one takes the lock-free path, the
    // other waits (or not), and the receiver's frees hand it over.
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        let tx2 = tx.clone();
        let t = thread::spawn(move || block_on(tx2.send(2)).unwrap());
        // This thread is also the receiver, so it may not block on a full
        // channel: a pending send stays queued while it receives.
        let mut send = tx.send(1);
        let first = poll_once(&mut send);
        let a = block_on(rx.recv());
        if first.is_pending() {
            block_on(&mut send).unwrap();
        }
        drop(send);
        drop(tx);
        let mut got = [a, block_on(rx.recv())];
        got.sort_unstable();
        assert_eq!(got, [Some(1), Some(2)]);
        t.join().unwrap();
        assert_eq!(block_on(rx.recv()), None);
    });
}

#[test]
fn mpsc_receiver_waiting_is_woken_by_a_send_or_the_last_drop() {
    // The receiver parks (waker, flag, second look) while the sender
    // publishes a value and then drops: neither wake-up may be lost.
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(2);
        let t = thread::spawn(move || {
            tx.try_send(7).unwrap();
            drop(tx);
        });
        assert_eq!(block_on(rx.recv()), Some(7));
        assert_eq!(block_on(rx.recv()), None);
        t.join().unwrap();
    });
}

#[test]
fn mpsc_close_racing_a_send_loses_no_value() {
    // A send that reports success must deliver; one that fails hands the
    // value back. Whatever the order of close and send.
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        let t = thread::spawn(move || block_on(tx.send(5)));
        rx.close();
        let early = rx.try_recv();
        let sent = t.join().unwrap();
        let late = rx.try_recv();
        match sent {
            Ok(()) => assert!(early == Ok(5) || late == Ok(5), "a sent value vanished"),
            Err(e) => {
                assert_eq!(e.0, 5);
                assert!(early.is_err() && late.is_err());
            }
        }
        assert!(rx.try_recv().is_err());
    });
}

#[test]
fn mpsc_a_dropped_permit_reaches_a_sender_that_is_starting_to_wait() {
    // The permit's slot comes back while the other sender is between its
    // lock-free attempt and joining the queue: it must get the slot.
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        let tx2 = tx.clone();
        let permit = tx.try_reserve_owned().unwrap();
        let t = thread::spawn(move || drop(permit));
        block_on(tx2.send(2)).unwrap();
        t.join().unwrap();
        assert_eq!(rx.try_recv(), Ok(2));
    });
}

#[test]
fn mpsc_a_permit_sent_after_the_close_reaches_the_receiver() {
    // The receiver closes and waits while the permit's holder sends: the
    // value arrives, and only then does the stream end.
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        let keep_open = tx.clone();
        let permit = tx.try_reserve_owned().unwrap();
        let t = thread::spawn(move || drop(permit.send(5)));
        rx.close();
        assert_eq!(block_on(rx.recv()), Some(5));
        assert_eq!(block_on(rx.recv()), None);
        t.join().unwrap();
        drop(keep_open);
    });
}

#[test]
fn mpsc_a_permit_dropped_after_the_close_ends_a_waiting_receive() {
    // The last permit coming home unused is the only wake-up the closed
    // receiver gets (a sender stays alive): it must not be lost.
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel::<u8>(1);
        let keep_open = tx.clone();
        let permit = tx.try_reserve_owned().unwrap();
        let t = thread::spawn(move || drop(permit));
        rx.close();
        assert_eq!(block_on(rx.recv()), None);
        t.join().unwrap();
        drop(keep_open);
    });
}

#[test]
fn semaphore_permit_handoff() {
    loom::model(|| {
        let s = Arc::new(Semaphore::new(1));
        let s2 = s.clone();
        let t = thread::spawn(move || {
            block_on(async {
                drop(s2.acquire().await.unwrap());
            })
        });
        block_on(async {
            drop(s.acquire().await.unwrap());
        });
        t.join().unwrap();
        assert_eq!(s.available_permits(), 1);
    });
}

/// Polls `fut` once with a waker that does nothing.
fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    std::pin::Pin::new(fut).poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn semaphore_cancel_racing_a_grant_loses_no_permit() {
    loom::model(|| {
        let s = Arc::new(Semaphore::new(0));
        let s2 = s.clone();
        let mut waiting = s.acquire();
        assert!(poll_once(&mut waiting).is_pending());
        let t = thread::spawn(move || s2.add_permits(1));
        drop(waiting); // before, during or after the grant
        t.join().unwrap();
        assert_eq!(s.available_permits(), 1);
    });
}

#[test]
fn notify_cancel_racing_a_notify_one_loses_nothing() {
    loom::model(|| {
        let n = Arc::new(Notify::new());
        let n2 = n.clone();
        let mut first = n.notified();
        assert!(poll_once(&mut first).is_pending());
        let t = thread::spawn(move || n2.notify_one());
        drop(first);
        block_on(n.notified()); // gets the passed-on notification
        t.join().unwrap();
    });
}

/// Two waiters and two `notify_one`s from two threads: one grant takes the
/// fast slot, the other (made while the slot is taken) the locked list, in
/// whichever order; both waiters complete.
#[test]
fn notify_two_grants_reach_two_waiters() {
    loom::model(|| {
        let n = Arc::new(Notify::new());
        let mut a = n.notified();
        let mut b = n.notified();
        assert!(poll_once(&mut a).is_pending());
        assert!(poll_once(&mut b).is_pending());
        let (n2, n3) = (n.clone(), n.clone());
        let t1 = thread::spawn(move || n2.notify_one());
        let t2 = thread::spawn(move || n3.notify_one());
        block_on(a);
        block_on(b);
        t1.join().unwrap();
        t2.join().unwrap();
    });
}

/// A waiter picked through the fast slot and then cancelled passes its
/// grant to the next waiter, which a second thread is already waiting as.
#[test]
fn notify_fast_grant_cancelled_reaches_the_next_waiter() {
    loom::model(|| {
        let n = Arc::new(Notify::new());
        let mut first = n.notified();
        assert!(poll_once(&mut first).is_pending());
        let n2 = n.clone();
        let waiter = thread::spawn(move || block_on(n2.notified()));
        n.notify_one();
        drop(first);
        waiter.join().unwrap();
    });
}

#[test]
fn rwlock_reader_never_sees_a_half_write() {
    loom::model(|| {
        let lock = Arc::new(RwLock::new((0, 0)));
        let lock2 = lock.clone();
        let t = thread::spawn(move || {
            block_on(async {
                let mut w = lock2.write().await;
                w.0 += 1;
                w.1 += 1;
            })
        });
        let seen = block_on(async { *lock.read().await });
        assert!(seen == (0, 0) || seen == (1, 1));
        t.join().unwrap();
    });
}

#[test]
fn watch_a_send_racing_changed_is_never_lost() {
    loom::model(|| {
        let (tx, mut rx) = watch::channel(0);
        let t = thread::spawn(move || tx.send(1).is_ok());
        block_on(rx.changed()).expect("the send comes before the sender's drop");
        assert_eq!(*rx.borrow(), 1);
        t.join().unwrap();
    });
    loom::model(|| {
        let (tx, mut rx) = watch::channel(0);
        let t = thread::spawn(move || drop(tx));
        assert!(block_on(rx.changed()).is_err());
        t.join().unwrap();
    });
}

#[test]
fn watch_cloned_senders_close_the_channel_only_with_the_last_drop() {
    loom::model(|| {
        let (tx1, mut rx) = watch::channel(0);
        let tx2 = tx1.clone();
        let t = thread::spawn(move || drop(tx2));
        drop(tx1);
        assert!(block_on(rx.changed()).is_err(), "both senders are gone");
        t.join().unwrap();
    });
    loom::model(|| {
        let (tx1, mut rx) = watch::channel(0);
        let tx2 = tx1.clone();
        let t = thread::spawn(move || tx2.send(1).is_ok());
        drop(tx1);
        block_on(rx.changed()).expect("the send comes before the last sender's drop");
        assert_eq!(*rx.borrow(), 1);
        assert!(block_on(rx.changed()).is_err());
        t.join().unwrap();
    });
}

#[test]
fn unbounded_a_send_or_the_last_drop_always_reaches_a_waiting_receiver() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let t = thread::spawn(move || tx.send(1).unwrap());
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(block_on(rx.recv()), None);
        t.join().unwrap();
    });
}

#[test]
fn broadcast_the_last_receivers_drop_always_reaches_a_closed_wait() {
    loom::model(|| {
        let (tx, rx) = broadcast::channel::<u8>(1);
        let t = thread::spawn(move || drop(rx));
        block_on(tx.closed());
        assert_eq!(tx.receiver_count(), 0);
        t.join().unwrap();
    });
}

#[test]
fn broadcast_a_send_or_the_last_drop_always_reaches_a_waiting_receiver() {
    loom::model(|| {
        let (tx, mut rx) = broadcast::channel(1);
        let t = thread::spawn(move || tx.send(1).is_ok());
        assert_eq!(block_on(rx.recv()), Ok(1));
        assert_eq!(block_on(rx.recv()), Err(broadcast::RecvError::Closed));
        assert!(t.join().unwrap(), "the receiver was alive");
    });
}
