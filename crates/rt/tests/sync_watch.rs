//! watch: the latest value, changes seen once, every receiver woken, the
//! sender's drop, on a plain executor and on both runtimes.

mod sync_support;

use futures::executor::block_on;
use spindle_rt::sync::watch;
use std::pin::pin;
use std::task::Poll;
use sync_support::{bounded, counting_waker, poll, wakes};

#[test]
fn a_waiting_receiver_is_woken_by_a_send_and_sees_the_value() {
    let (tx, mut rx) = watch::channel(1);
    let (count, waker) = counting_waker();
    {
        let mut changed = pin!(rx.changed());
        assert_eq!(poll(&mut changed, &waker), Poll::Pending);
        tx.send(2).expect("a receiver");
        assert_eq!(wakes(&count), 1);
        assert_eq!(poll(&mut changed, &waker), Poll::Ready(Ok(())));
    }
    assert_eq!(*rx.borrow(), 2);
}

#[test]
fn two_sends_before_the_receiver_looks_are_one_change_to_the_latest() {
    let (tx, mut rx) = watch::channel("a");
    tx.send("b").unwrap();
    tx.send("c").unwrap();
    assert_eq!(rx.has_changed(), Ok(true));
    block_on(rx.changed()).expect("changed");
    assert_eq!(*rx.borrow(), "c");
    assert_eq!(rx.has_changed(), Ok(false));
    let (_c, waker) = counting_waker();
    assert_eq!(poll(&mut pin!(rx.changed()), &waker), Poll::Pending, "nothing newer");
}

#[test]
fn borrow_and_update_marks_the_value_seen() {
    let (tx, mut rx) = watch::channel(0);
    tx.send_modify(|v| *v += 5);
    assert_eq!(*rx.borrow(), 5);
    assert_eq!(rx.has_changed(), Ok(true), "borrow does not mark seen");
    assert_eq!(*rx.borrow_and_update(), 5);
    assert_eq!(rx.has_changed(), Ok(false));
}

#[test]
fn the_senders_drop_ends_changed_after_the_last_value_is_seen() {
    let (tx, mut rx) = watch::channel(String::from("old"));
    let (count, waker) = counting_waker();
    let mut waiting = rx.clone();
    {
        let mut pending = pin!(waiting.changed());
        assert_eq!(poll(&mut pending, &waker), Poll::Pending);
        tx.send("last".into()).unwrap();
        drop(tx);
        assert!(wakes(&count) >= 1);
        assert_eq!(poll(&mut pending, &waker), Poll::Ready(Ok(())), "the unseen value first");
    }
    assert_eq!(block_on(rx.changed()), Ok(()));
    assert_eq!(*rx.borrow(), "last", "the value outlives the sender");
    assert!(block_on(rx.changed()).is_err(), "then the channel is closed");
    assert!(rx.has_changed().is_err());
}

#[test]
fn send_without_receivers_hands_the_value_back_and_send_replace_keeps_it() {
    let (tx, rx) = watch::channel(1);
    assert_eq!(tx.receiver_count(), 1);
    drop(rx);
    assert_eq!(tx.receiver_count(), 0);
    assert_eq!(tx.send(2), Err(watch::SendError(2)));
    assert_eq!(*tx.borrow(), 1);
    assert_eq!(tx.send_replace(3), 1);
    let mut late = tx.subscribe();
    assert_eq!(*late.borrow(), 3);
    assert_eq!(late.has_changed(), Ok(false), "a new receiver has seen the current value");
    tx.send(4).expect("a receiver again");
    assert_eq!(block_on(late.changed()), Ok(()));
    assert_eq!(*late.borrow(), 4);
}

#[test]
fn every_receiver_on_every_worker_sees_the_shutdown_flag() {
    bounded(|| {
        let rt = spindle_rt::Builder::new_multi_thread().worker_threads(2).build().expect("runtime");
        rt.block_on(async {
            let (tx, rx) = watch::channel(false);
            let mut tasks = Vec::new();
            for _ in 0..50 {
                let mut rx = rx.clone();
                tasks.push(spindle_rt::spawn(async move {
                    while !*rx.borrow_and_update() {
                        rx.changed().await.expect("the sender is alive");
                    }
                }));
            }
            drop(rx);
            tx.send(true).expect("receivers");
            for task in tasks {
                task.await.expect("the task saw the flag");
            }
        });
    });
}

/// tokio documents `has_changed` as failing once the sender is dropped,
/// even if the last value it sent was never seen (its own example: send,
/// drop, `has_changed().is_err()`); `changed` still returns `Ok` for that
/// value first, and `borrow` still reads it.
#[test]
fn has_changed_fails_once_the_sender_is_gone_even_with_an_unseen_value() {
    let (tx, mut rx) = watch::channel("hello");
    tx.send("goodbye").unwrap();
    assert_eq!(rx.has_changed(), Ok(true));
    drop(tx);
    assert!(rx.has_changed().is_err(), "the channel is closed");
    assert!(rx.borrow().has_changed(), "the last value is still unseen");
    assert_eq!(block_on(rx.changed()), Ok(()));
    assert_eq!(*rx.borrow(), "goodbye");
    assert!(block_on(rx.changed()).is_err());
}

/// tokio's `watch::Sender` is `Clone` (several publishers of one value):
/// the channel closes for receivers only when the last sender is dropped;
/// `sender_count` and `same_channel` tell the senders apart, and
/// `Sender::new` makes a channel with no receiver yet.
#[test]
fn cloned_senders_keep_the_channel_open_until_the_last_is_dropped() {
    let (tx, mut rx) = watch::channel(0);
    let tx2 = tx.clone();
    assert_eq!((tx.sender_count(), tx2.sender_count()), (2, 2));
    assert!(tx.same_channel(&tx2) && rx.same_channel(&rx.clone()));
    assert!(!tx.same_channel(&watch::channel(0).0));
    drop(tx);
    assert_eq!(rx.has_changed(), Ok(false), "one sender is still there");
    tx2.send(5).unwrap();
    assert_eq!(block_on(rx.changed()), Ok(()));
    assert_eq!(*rx.borrow(), 5);
    let (count, waker) = counting_waker();
    {
        let mut pending = pin!(rx.changed());
        assert_eq!(poll(&mut pending, &waker), Poll::Pending);
        drop(tx2);
        assert!(wakes(&count) >= 1);
        assert!(poll(&mut pending, &waker).is_ready());
    }
    assert!(rx.has_changed().is_err(), "the last sender is gone");

    let tx = watch::Sender::new("first");
    assert!(tx.is_closed(), "no receiver yet");
    let rx = tx.subscribe();
    tx.send("second").unwrap();
    assert_eq!(*rx.borrow(), "second");
}
