//! mpsc permits: `reserve`, `try_reserve`, their owned forms, and
//! `send_timeout`. A permit holds a slot (capacity goes down, `try_send`
//! fails), gives it back when dropped (to the oldest waiting sender),
//! waits in the same first-come queue as `send`, and survives the
//! receiver's close.

mod rt_support;
mod sync_support;

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use futures::executor::block_on;
use rt_support::{both, bounded};
use spindle_rt::sync::mpsc::{self, error::SendTimeoutError, SendError, TryRecvError, TrySendError};
use sync_support::{counting_waker, poll, wakes};

#[test]
fn a_permit_holds_the_last_slot_and_dropping_it_wakes_a_waiting_sender() {
    let (tx, mut rx) = mpsc::channel(2);
    tx.try_send(0).unwrap();
    assert_eq!(tx.capacity(), 1);
    let permit = tx.try_reserve().expect("one slot is free");
    assert_eq!((tx.capacity(), tx.max_capacity()), (0, 2));
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)), "the permit holds the last slot");

    let (count, waker) = counting_waker();
    let mut waiting = tx.send(2);
    assert!(poll(&mut waiting, &waker).is_pending());
    drop(permit);
    assert_eq!(wakes(&count), 1, "the freed slot wakes the waiting sender");
    assert_eq!(tx.try_send(3), Err(TrySendError::Full(3)), "and is reserved for it");
    assert_eq!(poll(&mut waiting, &waker), Poll::Ready(Ok(())));
    drop(waiting);
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(tx.capacity(), 2);
}

#[test]
fn permit_send_fills_the_reserved_slot_and_the_receive_frees_it() {
    let (tx, mut rx) = mpsc::channel(1);
    let permit = block_on(tx.reserve()).expect("the receiver is alive");
    assert_eq!(tx.capacity(), 0);
    permit.send("v");
    assert_eq!(tx.capacity(), 0, "the value holds the slot now");
    assert_eq!(rx.try_recv(), Ok("v"));
    assert_eq!(tx.capacity(), 1);
}

#[test]
fn reserve_and_send_wait_in_one_first_come_queue() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let (c1, w1) = counting_waker();
    let (c2, w2) = counting_waker();
    let (c3, w3) = counting_waker();
    let mut first = tx.send(1);
    let mut second = Box::pin(tx.reserve());
    let mut third = tx.send(3);
    assert!(poll(&mut first, &w1).is_pending());
    assert!(poll(&mut second, &w2).is_pending());
    assert!(poll(&mut third, &w3).is_pending());

    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!((wakes(&c1), wakes(&c2), wakes(&c3)), (1, 0, 0));
    assert_eq!(poll(&mut first, &w1), Poll::Ready(Ok(())));
    assert!(poll(&mut second, &w2).is_pending(), "not its turn yet");

    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!((wakes(&c2), wakes(&c3)), (1, 0), "the reserve is next");
    let Poll::Ready(Ok(permit)) = poll(&mut second, &w2) else { panic!("the reserve was granted") };
    assert!(poll(&mut third, &w3).is_pending());
    assert!(matches!(tx.try_reserve(), Err(TrySendError::Full(()))), "the permit holds the slot");
    permit.send(2);

    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(wakes(&c3), 1);
    assert_eq!(poll(&mut third, &w3), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(3));
}

#[test]
fn a_dropped_permit_goes_to_the_oldest_waiter_not_to_a_newcomer() {
    let (tx, mut rx) = mpsc::channel(1);
    let permit = tx.try_reserve().unwrap();
    let (c1, w1) = counting_waker();
    let (c2, w2) = counting_waker();
    let mut older = Box::pin(tx.reserve());
    let mut newer = tx.send(2);
    assert!(poll(&mut older, &w1).is_pending());
    assert!(poll(&mut newer, &w2).is_pending());
    drop(permit);
    assert_eq!((wakes(&c1), wakes(&c2)), (1, 0));
    assert!(tx.try_reserve().is_err(), "a newcomer cannot take the slot");

    // The older waiter gives up after it was granted: the slot moves on.
    drop(older);
    assert_eq!(wakes(&c2), 1, "a granted, dropped reserve passes its slot on");
    assert_eq!(poll(&mut newer, &w2), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn try_reserve_reports_full_and_closed_and_the_owned_form_hands_the_sender_back() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    let owned = tx.clone().try_reserve_owned().expect("a slot is free");
    assert!(matches!(tx.try_reserve(), Err(TrySendError::Full(()))));
    let back = match tx.clone().try_reserve_owned() {
        Err(TrySendError::Full(sender)) => sender,
        other => panic!("expected Full with the sender, got {other:?}"),
    };
    assert!(back.same_channel(&tx));
    let released = owned.release();
    assert!(released.same_channel(&tx));
    assert_eq!(tx.capacity(), 1, "release gave the slot back");

    rx.close();
    assert!(matches!(tx.try_reserve(), Err(TrySendError::Closed(()))));
    assert!(matches!(tx.clone().try_reserve_owned(), Err(TrySendError::Closed(_))));
    assert_eq!(block_on(tx.reserve()).err(), Some(SendError(())));
    assert!(block_on(tx.clone().reserve_owned()).is_err());
}

#[test]
fn closing_wakes_a_waiting_reserve_with_an_error() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    tx.try_send(0).unwrap();
    let (count, waker) = counting_waker();
    let mut waiting = Box::pin(tx.reserve());
    assert!(poll(&mut waiting, &waker).is_pending());
    rx.close();
    assert_eq!(wakes(&count), 1);
    assert!(matches!(poll(&mut waiting, &waker), Poll::Ready(Err(SendError(())))));
}

#[test]
fn a_permit_reserved_before_the_close_still_delivers_and_the_receiver_waits_for_it() {
    let (tx, mut rx) = mpsc::channel(2);
    let permit = tx.try_reserve().unwrap();
    rx.close();
    assert!(tx.is_closed());
    assert_eq!(tx.try_send(1), Err(TrySendError::Closed(1)));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "a permit is still out");

    let (count, waker) = counting_waker();
    let mut recv = rx.recv();
    assert!(poll(&mut recv, &waker).is_pending());
    permit.send(7);
    assert_eq!(wakes(&count), 1);
    assert_eq!(poll(&mut recv, &waker), Poll::Ready(Some(7)));
    drop(recv);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(block_on(rx.recv()), None);
}

#[test]
fn a_permit_dropped_unused_after_the_close_ends_the_stream() {
    let (tx, mut rx) = mpsc::channel::<u8>(2);
    let permit = tx.try_reserve().unwrap();
    let owned = tx.clone().try_reserve_owned().unwrap();
    rx.close();
    let (count, waker) = counting_waker();
    let mut recv = rx.recv();
    assert!(poll(&mut recv, &waker).is_pending());
    drop(permit);
    assert_eq!(wakes(&count), 0, "the owned permit is still out");
    assert!(poll(&mut recv, &waker).is_pending());
    drop(owned);
    assert_eq!(wakes(&count), 1, "the last permit home wakes the receiver");
    assert_eq!(poll(&mut recv, &waker), Poll::Ready(None));
}

#[test]
fn a_sender_still_queued_at_the_close_does_not_hold_back_the_end() {
    // The waiting send has not polled since the close: the slot the
    // receive frees must not be granted to it (it is leaving), or the
    // stream could not end until it runs.
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(1).unwrap();
    let (_count, waker) = counting_waker();
    let mut waiting = tx.send(2);
    assert!(poll(&mut waiting, &waker).is_pending());
    rx.close();
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    assert!(matches!(poll(&mut waiting, &waker), Poll::Ready(Err(SendError(2)))));
}

#[test]
fn permits_keep_first_come_order_on_both_runtimes() {
    const WAITERS: usize = 6;
    bounded(|| {
        for (name, rt) in both() {
            let got = rt.block_on(async {
                let (tx, mut rx) = mpsc::channel(1);
                tx.send(0).await.unwrap();
                // Every other one reserves, the rest send: one queue.
                let mut waiting: Vec<Pin<Box<dyn Future<Output = ()> + Send + '_>>> = (1..=WAITERS)
                    .map(|i| -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
                        let tx = &tx;
                        if i % 2 == 1 {
                            Box::pin(async move { tx.reserve().await.unwrap().send(i) })
                        } else {
                            Box::pin(async move { tx.send(i).await.unwrap() })
                        }
                    })
                    .collect();
                // Queue them in order: one poll each.
                std::future::poll_fn(|cx| {
                    for w in &mut waiting {
                        assert!(w.as_mut().poll(cx).is_pending(), "the channel is full");
                    }
                    Poll::Ready(())
                })
                .await;
                // The consumer runs on its own task (a worker of its own on
                // the multi-thread runtime).
                let consumer = spindle_rt::spawn(async move {
                    let mut got = Vec::new();
                    while let Some(v) = rx.recv().await {
                        got.push(v);
                    }
                    got
                });
                futures::future::join_all(waiting).await;
                drop(tx);
                consumer.await.unwrap()
            });
            assert_eq!(got, (0..=WAITERS).collect::<Vec<_>>(), "{name}");
        }
    });
}

#[test]
fn an_owned_permit_moves_into_a_task_and_gives_the_sender_back() {
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                let (tx, mut rx) = mpsc::channel(1);
                let permit = tx.clone().reserve_owned().await.unwrap();
                assert_eq!(tx.strong_count(), 2, "{name}: the permit holds a sender");
                let task = spindle_rt::spawn(async move { permit.send("from the task") });
                let sender = task.await.unwrap();
                assert!(sender.same_channel(&tx));
                assert_eq!(rx.recv().await, Some("from the task"), "{name}");
            });
        }
    });
}

#[test]
fn send_timeout_returns_the_value_on_timeout_and_sends_when_room_comes() {
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                let (tx, mut rx) = mpsc::channel(1);
                tx.send(String::from("fills it")).await.unwrap();
                let err = tx.send_timeout(String::from("late"), Duration::from_millis(20)).await;
                match err {
                    Err(SendTimeoutError::Timeout(v)) => assert_eq!(v, "late", "{name}"),
                    other => panic!("{name}: expected Timeout, got {other:?}"),
                }
                // The timed-out wait left the queue: the next slot is free
                // for anyone.
                assert_eq!(rx.recv().await.as_deref(), Some("fills it"));
                tx.try_send(String::from("free")).expect("no stale waiter holds the slot");
                assert_eq!(rx.recv().await.as_deref(), Some("free"));

                // Room comes from another task while it waits.
                tx.try_send(String::from("again full")).unwrap();
                let consumer = spindle_rt::spawn(async move {
                    let mut got = Vec::new();
                    while let Some(v) = rx.recv().await {
                        got.push(v);
                    }
                    got
                });
                tx.send_timeout(String::from("in time"), Duration::from_secs(5))
                    .await
                    .expect("the consumer frees a slot well before 5 s");
                drop(tx);
                assert_eq!(consumer.await.unwrap(), ["again full", "in time"], "{name}");

                let (tx, rx) = mpsc::channel(1);
                drop(rx);
                match tx.send_timeout(1, Duration::from_secs(5)).await {
                    Err(SendTimeoutError::Closed(1)) => {}
                    other => panic!("{name}: expected Closed(1), got {other:?}"),
                }
            });
        }
    });
}
