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
fn broadcast_resubscribed_receivers_are_owed_what_the_original_is() {
    let (tx, mut a) = broadcast::channel(4);
    tx.send(1).unwrap();
    let mut b = a.resubscribe();
    assert_eq!(b.len(), 1);
    assert_eq!(a.try_recv(), Ok(1));
    assert_eq!(tx.len(), 1, "b has yet to get it");
    assert_eq!(b.try_recv(), Ok(1));
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

