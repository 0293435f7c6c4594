//! mpsc, bounded and unbounded: the blocking bridge (and its refusal
//! inside a runtime), `recv_many`, `closed()`, weak senders,
//! `same_channel`, `len`.

mod rt_support;
mod sync_support;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::Poll;

use futures::executor::block_on;
use rt_support::{both, bounded, panic_message};
use spindle_rt::sync::{broadcast, mpsc, oneshot};
use sync_support::{counting_waker, poll, wakes};

const BLOCKING_PANIC: &str = "cannot block the current thread from within a spindle-rt runtime";

#[test]
fn blocking_send_and_blocking_recv_bridge_a_plain_thread_and_a_task() {
    const N: u32 = 50;
    bounded(|| {
        for (name, rt) in both() {
            // A thread feeds a task through a channel that fills up.
            let (tx, mut rx) = mpsc::channel(2);
            let feeder = std::thread::spawn(move || {
                for i in 0..N {
                    tx.blocking_send(i).expect("the task receives");
                }
            });
            let got = rt.block_on(rt.spawn(async move {
                let mut got = Vec::new();
                while let Some(v) = rx.recv().await {
                    got.push(v);
                }
                got
            }));
            feeder.join().unwrap();
            assert_eq!(got.unwrap(), (0..N).collect::<Vec<_>>(), "{name}");

            // A task feeds a thread, bounded and unbounded.
            let (tx, mut rx) = mpsc::channel(2);
            let (utx, mut urx) = mpsc::unbounded_channel();
            let reader = std::thread::spawn(move || {
                let mut got = Vec::new();
                while let Some(v) = rx.blocking_recv() {
                    got.push(v);
                }
                let mut ugot = Vec::new();
                while let Some(v) = urx.blocking_recv() {
                    ugot.push(v);
                }
                (got, ugot)
            });
            rt.block_on(rt.spawn(async move {
                for i in 0..N {
                    tx.send(i).await.unwrap();
                    utx.send(i).unwrap();
                }
            }))
            .unwrap();
            let (got, ugot) = reader.join().unwrap();
            assert_eq!(got, (0..N).collect::<Vec<_>>(), "{name}");
            assert_eq!(ugot, (0..N).collect::<Vec<_>>(), "{name}");

            // A `spawn_blocking` closure only entered the runtime: it may block.
            let (tx, mut rx) = mpsc::channel(1);
            let blocking = rt.spawn_blocking(move || rx.blocking_recv());
            rt.block_on(async move { tx.send(9).await.unwrap() });
            assert_eq!(rt.block_on(blocking).unwrap(), Some(9), "{name}");
        }
    });
}

/// Runs `f` inside `rt.block_on` and in a task of `rt`; both must panic
/// with the blocking message naming `what`.
fn assert_panics_inside(rt: &spindle_rt::Runtime, name: &str, what: &str, f: fn()) {
    let in_block_on = catch_unwind(AssertUnwindSafe(|| rt.block_on(async { f() })));
    let msg = panic_message(&*in_block_on.expect_err("blocking inside block_on must panic"));
    assert!(msg.contains(BLOCKING_PANIC) && msg.contains(what), "{name}: {msg}");
    let in_task = rt.block_on(rt.spawn(async move { f() }));
    let panic = in_task.expect_err("blocking inside a task must panic").into_panic();
    let msg = panic_message(&*panic);
    assert!(msg.contains(BLOCKING_PANIC) && msg.contains(what), "{name}: {msg}");
}

#[test]
fn the_blocking_methods_panic_inside_a_runtime_with_a_clear_message() {
    bounded(|| {
        for (name, rt) in both() {
            assert_panics_inside(&rt, name, "mpsc::Sender::blocking_send", || {
                let (tx, _rx) = mpsc::channel(1);
                let _ = tx.blocking_send(1);
            });
            assert_panics_inside(&rt, name, "mpsc::Receiver::blocking_recv", || {
                let (_tx, mut rx) = mpsc::channel::<u8>(1);
                let _ = rx.blocking_recv();
            });
            assert_panics_inside(&rt, name, "mpsc::UnboundedReceiver::blocking_recv", || {
                let (_tx, mut rx) = mpsc::unbounded_channel::<u8>();
                let _ = rx.blocking_recv();
            });
            assert_panics_inside(&rt, name, "oneshot::Receiver::blocking_recv", || {
                let (_tx, rx) = oneshot::channel::<u8>();
                let _ = rx.blocking_recv();
            });
            assert_panics_inside(&rt, name, "broadcast::Receiver::blocking_recv", || {
                let (_tx, mut rx) = broadcast::channel::<u8>(1);
                let _ = rx.blocking_recv();
            });
            // Even with a value ready: the refusal does not depend on luck.
            assert_panics_inside(&rt, name, "mpsc::Receiver::blocking_recv", || {
                let (tx, mut rx) = mpsc::channel(1);
                tx.try_send(1).unwrap();
                let _ = rx.blocking_recv();
            });
        }
    });
}

#[test]
fn recv_many_takes_up_to_the_limit_and_waits_only_when_empty() {
    let (tx, mut rx) = mpsc::channel(8);
    for i in 0..5 {
        tx.try_send(i).unwrap();
    }
    let mut buf = vec![-1];
    assert_eq!(block_on(rx.recv_many(&mut buf, 0)), 0, "limit 0 returns at once");
    assert_eq!(block_on(rx.recv_many(&mut buf, 3)), 3);
    assert_eq!(buf, [-1, 0, 1, 2], "appended");
    assert_eq!(block_on(rx.recv_many(&mut buf, 10)), 2, "takes what is there, no more");
    assert_eq!(buf, [-1, 0, 1, 2, 3, 4]);
    assert!(rx.is_empty());

    let (count, waker) = counting_waker();
    let mut buf = Vec::new();
    {
        let mut many = Box::pin(rx.recv_many(&mut buf, 4));
        assert!(poll(&mut many, &waker).is_pending(), "empty: waits");
        tx.try_send(5).unwrap();
        assert_eq!(wakes(&count), 1);
        assert_eq!(poll(&mut many, &waker), Poll::Ready(1));
    }
    assert_eq!(buf, [5]);
    drop(tx);
    assert_eq!(block_on(rx.recv_many(&mut buf, 4)), 0, "closed and empty");
}

#[test]
fn recv_many_frees_each_slot_for_waiting_senders() {
    let (tx, mut rx) = mpsc::channel(2);
    tx.try_send(0).unwrap();
    tx.try_send(1).unwrap();
    let (count, waker) = counting_waker();
    let mut waiting = tx.send(2);
    assert!(poll(&mut waiting, &waker).is_pending());
    let mut buf = Vec::new();
    assert_eq!(block_on(rx.recv_many(&mut buf, 8)), 2);
    assert_eq!(wakes(&count), 1);
    assert_eq!(poll(&mut waiting, &waker), Poll::Ready(Ok(())));
    assert_eq!(tx.capacity(), 1);
}

#[test]
fn unbounded_recv_many_takes_up_to_the_limit_and_waits_only_when_empty() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    for i in 0..5 {
        tx.send(i).unwrap();
    }
    let mut buf = Vec::new();
    assert_eq!(block_on(rx.recv_many(&mut buf, 0)), 0);
    assert_eq!(block_on(rx.recv_many(&mut buf, 3)), 3);
    assert_eq!(block_on(rx.recv_many(&mut buf, 10)), 2);
    assert_eq!(buf, [0, 1, 2, 3, 4]);
    let (count, waker) = counting_waker();
    {
        let mut many = Box::pin(rx.recv_many(&mut buf, 4));
        assert!(poll(&mut many, &waker).is_pending());
        tx.send(5).unwrap();
        tx.send(6).unwrap();
        assert!(wakes(&count) >= 1);
        assert_eq!(poll(&mut many, &waker), Poll::Ready(2));
    }
    drop(tx);
    assert_eq!(block_on(rx.recv_many(&mut buf, 4)), 0);
    assert_eq!(buf, [0, 1, 2, 3, 4, 5, 6]);
}

#[test]
fn closed_resolves_when_the_receiver_drops_or_closes() {
    // On a plain executor: pending until the drop, then woken.
    let (tx, rx) = mpsc::channel::<u8>(1);
    let (utx, urx) = mpsc::unbounded_channel::<u8>();
    let (count, waker) = counting_waker();
    let mut closed = Box::pin(tx.closed());
    let mut uclosed = Box::pin(utx.closed());
    assert!(poll(&mut closed, &waker).is_pending());
    assert!(poll(&mut uclosed, &waker).is_pending());
    drop(rx);
    assert_eq!(wakes(&count), 1);
    assert_eq!(poll(&mut closed, &waker), Poll::Ready(()));
    assert!(poll(&mut uclosed, &waker).is_pending());
    drop(urx);
    assert_eq!(wakes(&count), 2);
    assert_eq!(poll(&mut uclosed, &waker), Poll::Ready(()));
    block_on(tx.closed()); // already closed: at once

    // On the runtimes: a task waits, the receiver closes from another.
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                let (tx, mut rx) = mpsc::channel::<u8>(1);
                let (utx, mut urx) = mpsc::unbounded_channel::<u8>();
                let waiter = spindle_rt::spawn(async move {
                    tx.closed().await;
                    utx.closed().await;
                    (tx.is_closed(), utx.is_closed())
                });
                spindle_rt::yield_now().await;
                rx.close();
                urx.close();
                assert_eq!(waiter.await.unwrap(), (true, true), "{name}");
            });
        }
    });
}

#[test]
fn a_weak_sender_does_not_keep_the_channel_open_and_cannot_upgrade_after_the_last_sender() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    let weak = tx.downgrade();
    let weak2 = weak.clone();
    assert_eq!((tx.strong_count(), tx.weak_count()), (1, 2));
    let upgraded = weak.upgrade().expect("a sender is alive");
    assert!(upgraded.same_channel(&tx));
    assert_eq!((rx.sender_strong_count(), rx.sender_weak_count()), (2, 2));
    upgraded.try_send(1).unwrap();
    drop(upgraded);
    drop(tx);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(block_on(rx.recv()), None, "weak senders do not keep it open");
    assert!(weak.upgrade().is_none());
    assert!(weak2.upgrade().is_none());
    assert_eq!(weak.strong_count(), 0);
    drop(weak2);
    assert_eq!(weak.weak_count(), 1);

    let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
    let weak = tx.downgrade();
    let up = weak.upgrade().expect("a sender is alive");
    assert!(up.same_channel(&tx));
    assert_eq!((tx.strong_count(), tx.weak_count()), (2, 1));
    drop((tx, up));
    assert_eq!(block_on(rx.recv()), None);
    assert!(weak.upgrade().is_none());
}

#[test]
fn a_waiting_receiver_is_woken_when_the_last_strong_sender_goes_though_weak_ones_remain() {
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                let (tx, mut rx) = mpsc::channel::<u8>(1);
                let (utx, mut urx) = mpsc::unbounded_channel::<u8>();
                let (weak, uweak) = (tx.downgrade(), utx.downgrade());
                let receiver = spindle_rt::spawn(async move { (rx.recv().await, urx.recv().await) });
                spindle_rt::yield_now().await;
                drop((tx, utx));
                assert_eq!(receiver.await.unwrap(), (None, None), "{name}");
                assert!(weak.upgrade().is_none() && uweak.upgrade().is_none());
            });
        }
    });
}

#[test]
fn same_channel_tells_channels_apart() {
    let (a, _ra) = mpsc::channel::<u8>(1);
    let (b, _rb) = mpsc::channel::<u8>(1);
    assert!(a.same_channel(&a.clone()));
    assert!(!a.same_channel(&b));
    let (ua, _ura) = mpsc::unbounded_channel::<u8>();
    let (ub, _urb) = mpsc::unbounded_channel::<u8>();
    assert!(ua.same_channel(&ua.clone()));
    assert!(!ua.same_channel(&ub));
}

#[test]
fn len_is_empty_and_is_closed_on_the_receiver() {
    let (tx, mut rx) = mpsc::channel(4);
    assert!(rx.is_empty());
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    assert_eq!((rx.len(), rx.capacity(), rx.max_capacity()), (2, 2, 4));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.len(), 1);
    assert!(!rx.is_closed());
    drop(tx);
    assert!(rx.is_closed(), "every sender is gone");
    assert_eq!(rx.len(), 1, "the value is still there");

    let (tx, mut rx) = mpsc::unbounded_channel();
    tx.send(1).unwrap();
    assert_eq!(rx.len(), 1);
    rx.close();
    assert!(rx.is_closed());
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(rx.is_empty());
}
