//! The rest of tokio's sync API beyond mpsc: oneshot's blocking receive
//! and `poll_closed`; watch's `wait_for`, `send_if_modified`,
//! `mark_changed`/`mark_unchanged`, `Sender::closed`/`is_closed`;
//! broadcast's lengths and blocking receive; `Notified::enable`.

mod rt_support;
mod sync_support;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll};

use futures::executor::block_on;
use rt_support::{both, bounded};
use spindle_rt::sync::{broadcast, oneshot, watch, Notify};
use sync_support::{counting_waker, poll, wakes};

// ---- oneshot ----

#[test]
fn oneshot_blocking_recv_bridges_a_task_and_a_plain_thread() {
    bounded(|| {
        for (name, rt) in both() {
            let (tx, rx) = oneshot::channel();
            let reader = std::thread::spawn(move || rx.blocking_recv());
            rt.block_on(rt.spawn(async move { tx.send(42).unwrap() })).unwrap();
            assert_eq!(reader.join().unwrap(), Ok(42), "{name}");

            let (tx, rx) = oneshot::channel::<u8>();
            let reader = std::thread::spawn(move || rx.blocking_recv());
            rt.block_on(rt.spawn(async move { drop(tx) })).unwrap();
            assert_eq!(reader.join().unwrap(), Err(oneshot::RecvError), "{name}");
        }
    });
}

#[test]
fn oneshot_poll_closed_is_pending_until_the_receiver_closes() {
    let (mut tx, mut rx) = oneshot::channel::<u8>();
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert_eq!(tx.poll_closed(&mut cx), Poll::Pending);
    assert!(!tx.is_closed());
    rx.close();
    assert_eq!(wakes(&count), 1);
    assert_eq!(tx.poll_closed(&mut cx), Poll::Ready(()));
    assert!(tx.is_closed());
    assert_eq!(tx.send(1), Err(1));
}

// ---- watch ----

#[test]
fn wait_for_returns_at_once_when_the_current_value_already_matches() {
    let (_tx, mut rx) = watch::channel(5);
    let (count, waker) = counting_waker();
    let mut wait = Box::pin(rx.wait_for(|v| *v > 3));
    match poll(&mut wait, &waker) {
        Poll::Ready(Ok(value)) => {
            assert_eq!(*value, 5);
            assert!(!value.has_changed(), "the initial value counts as seen");
        }
        other => panic!("expected the value at once, got {:?}", other.map(|r| r.map(|v| *v))),
    }
    assert_eq!(wakes(&count), 0);
}

#[test]
fn wait_for_waits_for_a_send_that_matches_and_marks_it_seen() {
    let (tx, mut rx) = watch::channel(0);
    tx.send(1).unwrap();
    let (count, waker) = counting_waker();
    {
        let mut wait = Box::pin(rx.wait_for(|v| *v >= 10));
        assert!(poll(&mut wait, &waker).is_pending(), "1 is new but does not match");
        tx.send(3).unwrap();
        assert_eq!(wakes(&count), 1);
        assert!(poll(&mut wait, &waker).is_pending(), "3 does not match");
        tx.send(12).unwrap();
        assert_eq!(wakes(&count), 2);
        match poll(&mut wait, &waker) {
            Poll::Ready(Ok(value)) => {
                assert_eq!(*value, 12);
                assert!(value.has_changed());
            }
            _ => panic!("12 matches"),
        }
    }
    assert_eq!(rx.has_changed(), Ok(false), "wait_for marks the value seen");
}

#[test]
fn wait_for_after_the_sender_is_gone_tests_the_last_value_once() {
    let (tx, mut rx) = watch::channel(1);
    tx.send(7).unwrap();
    drop(tx);
    assert_eq!(block_on(rx.wait_for(|v| *v == 7)).map(|v| *v), Ok(7), "the unseen last value");
    assert!(block_on(rx.wait_for(|v| *v == 8)).is_err(), "nothing more can come");
    assert_eq!(block_on(rx.wait_for(|v| *v == 7)).map(|v| *v), Ok(7), "it still holds");
}

#[test]
fn wait_for_in_a_task_sees_a_matching_send_on_both_runtimes() {
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                let (tx, mut rx) = watch::channel(0u32);
                let (ready_tx, ready_rx) = oneshot::channel();
                let waiter = spindle_rt::spawn(async move {
                    let _ = ready_tx.send(());
                    let value = *rx.wait_for(|v| *v == 3).await.expect("the sender is alive");
                    value
                });
                ready_rx.await.unwrap();
                for v in 1..=3 {
                    tx.send_replace(v);
                }
                // Only the final value matches; it stays, so it is seen.
                assert_eq!(waiter.await.unwrap(), 3, "{name}");
            });
        }
    });
}

#[test]
fn send_if_modified_notifies_only_when_the_closure_says_it_changed() {
    let (tx, mut rx) = watch::channel(1);
    let (count, waker) = counting_waker();
    {
        let mut changed = pin!(rx.changed());
        assert!(poll(&mut changed, &waker).is_pending());
        assert!(!tx.send_if_modified(|v| {
            *v += 0;
            false
        }));
        assert_eq!(wakes(&count), 0, "no change: nobody woken");
        assert!(poll(&mut changed, &waker).is_pending());
        assert!(tx.send_if_modified(|v| {
            *v = 2;
            true
        }));
        assert_eq!(wakes(&count), 1);
        assert_eq!(poll(&mut changed, &waker), Poll::Ready(Ok(())));
    }
    assert_eq!(*rx.borrow(), 2);
    // Works with no receiver, as send_modify does.
    drop(rx);
    assert!(tx.send_if_modified(|v| {
        *v = 3;
        true
    }));
    assert_eq!(*tx.borrow(), 3);
}

#[test]
fn mark_changed_and_mark_unchanged_set_what_counts_as_seen() {
    let (tx, mut rx) = watch::channel("a");
    assert_eq!(rx.has_changed(), Ok(false));
    rx.mark_changed();
    assert_eq!(rx.has_changed(), Ok(true));
    assert!(rx.borrow().has_changed());
    block_on(rx.changed()).expect("returns at once");
    assert_eq!(rx.has_changed(), Ok(false));

    tx.send("b").unwrap();
    assert_eq!(rx.has_changed(), Ok(true));
    rx.mark_unchanged();
    assert_eq!(rx.has_changed(), Ok(false));
    let (_c, waker) = counting_waker();
    assert!(poll(&mut pin!(rx.changed()), &waker).is_pending(), "b counts as seen");
    assert_eq!(*rx.borrow(), "b");
}

#[test]
fn watch_sender_closed_resolves_when_every_receiver_is_gone() {
    let (tx, rx) = watch::channel(0);
    let rx2 = rx.clone();
    let (count, waker) = counting_waker();
    {
        let mut closed = Box::pin(tx.closed());
        assert!(poll(&mut closed, &waker).is_pending());
        drop(rx);
        assert!(!tx.is_closed());
        assert!(poll(&mut closed, &waker).is_pending(), "one receiver is left");
        drop(rx2);
        assert_eq!(wakes(&count), 1);
        assert_eq!(poll(&mut closed, &waker), Poll::Ready(()));
    }
    assert!(tx.is_closed());
    block_on(tx.closed()); // at once
    let _rx = tx.subscribe();
    assert!(!tx.is_closed(), "subscribe reopens it");

    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                let (tx, rx) = watch::channel(0);
                let producer = spindle_rt::spawn(async move {
                    tx.closed().await;
                    tx.is_closed()
                });
                spindle_rt::yield_now().await;
                drop(rx);
                assert!(producer.await.unwrap(), "{name}");
            });
        }
    });
}

// ---- broadcast ----

#[test]
fn broadcast_sender_len_counts_values_until_every_receiver_has_them() {
    let (tx, mut a) = broadcast::channel(4);
    let mut b = tx.subscribe();
    assert!(tx.is_empty());
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    assert_eq!(tx.len(), 2);
    assert_eq!(a.try_recv(), Ok(1));
    assert_eq!(tx.len(), 2, "b has yet to get 1");
    assert_eq!(b.try_recv(), Ok(1));
    assert_eq!(tx.len(), 1);

    // A receiver subscribed later is not owed earlier values.
    let mut c = tx.subscribe();
    assert_eq!(c.len(), 0);
    tx.send(3).unwrap();
    assert_eq!((tx.len(), a.len(), b.len(), c.len()), (2, 2, 2, 1));

    // A dropped receiver no longer holds values back.
    assert_eq!(a.try_recv(), Ok(2));
    assert_eq!(a.try_recv(), Ok(3));
    assert_eq!(c.try_recv(), Ok(3));
    assert_eq!(tx.len(), 2, "b still owes 2 and 3");
    drop(b);
    assert_eq!(tx.len(), 0);
    assert!(tx.is_empty());
    assert!(a.is_empty() && c.is_empty());
}

#[test]
fn broadcast_resubscribed_receivers_are_owed_only_later_values() {
    let (tx, mut a) = broadcast::channel(4);
    tx.send(1).unwrap();
    let mut b = a.resubscribe();
    assert_eq!(b.len(), 0, "b starts at the tail");
    assert_eq!(a.try_recv(), Ok(1));
    assert_eq!(tx.len(), 0, "nobody else is owed 1");
    tx.send(2).unwrap();
    assert_eq!(tx.len(), 1);
    assert_eq!(b.try_recv(), Ok(2));
    assert_eq!(tx.len(), 1, "a has yet to get 2");
    assert_eq!(a.try_recv(), Ok(2));
    assert_eq!(tx.len(), 0);
}

#[test]
fn broadcast_receiver_len_counts_what_it_lagged_behind_on() {
    let (tx, mut rx) = broadcast::channel(2);
    for i in 0..5 {
        tx.send(i).unwrap();
    }
    assert_eq!(tx.len(), 2, "at most the capacity is kept");
    assert_eq!(rx.len(), 5);
    assert_eq!(rx.try_recv(), Err(broadcast::TryRecvError::Lagged(3)));
    assert_eq!(rx.len(), 2);
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Ok(4));
    assert!(rx.is_empty() && tx.is_empty());
}

#[test]
fn broadcast_values_are_dropped_once_every_receiver_has_them() {
    let value = std::sync::Arc::new(());
    let (tx, mut a) = broadcast::channel(4);
    let mut b = tx.subscribe();
    tx.send(value.clone()).unwrap();
    assert_eq!(std::sync::Arc::strong_count(&value), 2);
    drop(a.try_recv().unwrap());
    assert_eq!(std::sync::Arc::strong_count(&value), 2, "kept for b");
    drop(b.try_recv().unwrap());
    assert_eq!(std::sync::Arc::strong_count(&value), 1, "nobody is owed it");
}

#[test]
fn broadcast_blocking_recv_bridges_a_task_and_a_plain_thread() {
    bounded(|| {
        for (name, rt) in both() {
            let (tx, mut rx) = broadcast::channel(16);
            let reader = std::thread::spawn(move || {
                let mut got = Vec::new();
                while let Ok(v) = rx.blocking_recv() {
                    got.push(v);
                }
                got
            });
            rt.block_on(rt.spawn(async move {
                for i in 0..10 {
                    tx.send(i).unwrap();
                    spindle_rt::yield_now().await;
                }
            }))
            .unwrap();
            // Closed after what was kept; 16 slots never overflow with 10.
            assert_eq!(reader.join().unwrap(), (0..10).collect::<Vec<_>>(), "{name}");
        }
    });
}

// ---- Notify ----

#[test]
fn enable_puts_a_future_in_line_for_notify_one_before_its_first_poll() {
    let notify = Notify::new();
    let mut first = pin!(notify.notified());
    let mut second = pin!(notify.notified());
    assert!(!second.as_mut().enable(), "nothing yet");
    assert!(!first.as_mut().enable());
    notify.notify_one();
    let (_c, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert_eq!(first.as_mut().poll(&mut cx), Poll::Pending, "second was in line first");
    assert_eq!(second.as_mut().poll(&mut cx), Poll::Ready(()));
    // `first` was registered by `enable`; the next notify_one is its.
    notify.notify_one();
    assert_eq!(first.as_mut().poll(&mut cx), Poll::Ready(()));
}

#[test]
fn enable_keeps_the_waker_of_an_earlier_poll() {
    let notify = Notify::new();
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut waiting = pin!(notify.notified());
    assert_eq!(waiting.as_mut().poll(&mut cx), Poll::Pending);
    assert!(!waiting.as_mut().enable());
    notify.notify_one();
    assert_eq!(wakes(&count), 1, "the polled waker is still the one woken");
    assert!(waiting.as_mut().enable());
}

#[test]
fn enable_takes_a_stored_permit_and_sees_notify_waiters() {
    let notify = Notify::new();
    notify.notify_one(); // stored: nobody waits
    let mut first = pin!(notify.notified());
    assert!(first.as_mut().enable(), "takes the permit");
    let mut second = pin!(notify.notified());
    assert!(!second.as_mut().enable(), "only one permit was stored");
    let third = pin!(notify.notified());
    notify.notify_waiters();
    assert!(second.as_mut().enable());
    assert!(third.enable(), "created before notify_waiters, never enabled");
}

#[test]
fn an_enabled_future_dropped_unpolled_passes_its_notify_one_on() {
    let notify = Notify::new();
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut later = pin!(notify.notified());
    {
        let mut enabled = Box::pin(notify.notified());
        assert!(!enabled.as_mut().enable());
        assert_eq!(later.as_mut().poll(&mut cx), Poll::Pending);
        notify.notify_one(); // picks `enabled`
        assert_eq!(wakes(&count), 0);
    }
    assert_eq!(wakes(&count), 1, "the dropped pick went on to the next waiter");
    assert_eq!(later.as_mut().poll(&mut cx), Poll::Ready(()));
}
