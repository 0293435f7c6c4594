//! broadcast: every receiver gets every value, a slow one learns how many
//! it lost, the last sender's drop ends the stream; on a plain executor
//! and on the multi-thread runtime.

mod sync_support;

use futures::executor::block_on;
use spindle_rt::sync::broadcast::{self, RecvError, SendError, TryRecvError};
use std::pin::pin;
use std::task::Poll;
use sync_support::{bounded, counting_waker, poll, wakes};

#[test]
fn every_receiver_gets_every_value_in_order() {
    let (tx, mut a) = broadcast::channel(8);
    let mut b = tx.subscribe();
    for i in 0..5 {
        assert_eq!(tx.send(i), Ok(2), "two receivers");
    }
    for rx in [&mut a, &mut b] {
        let got: Vec<i32> = (0..5).map(|_| block_on(rx.recv()).unwrap()).collect();
        assert_eq!(got, [0, 1, 2, 3, 4]);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }
}

#[test]
fn a_waiting_receiver_is_woken_by_a_send() {
    let (tx, mut rx) = broadcast::channel(2);
    let (count, waker) = counting_waker();
    let mut recv = pin!(rx.recv());
    assert_eq!(poll(&mut recv, &waker), Poll::Pending);
    tx.send(7).unwrap();
    assert_eq!(wakes(&count), 1);
    assert_eq!(poll(&mut recv, &waker), Poll::Ready(Ok(7)));
}

#[test]
fn a_receiver_that_falls_behind_learns_how_many_it_lost_and_goes_on() {
    let (tx, mut rx) = broadcast::channel(3);
    for i in 0..10 {
        tx.send(i).unwrap();
    }
    // Values 0..7 were overwritten; 7, 8, 9 are kept.
    assert_eq!(block_on(rx.recv()), Err(RecvError::Lagged(7)));
    assert_eq!(block_on(rx.recv()), Ok(7));
    assert_eq!(rx.try_recv(), Ok(8));
    assert_eq!(rx.try_recv(), Ok(9));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn new_subscribers_and_resubscribed_receivers_see_only_later_values() {
    let (tx, mut rx) = broadcast::channel(4);
    tx.send("early").unwrap();
    let mut late = tx.subscribe();
    // As tokio's: from the tail, not from `rx`'s position.
    let mut twin = rx.resubscribe();
    tx.send("later").unwrap();
    assert_eq!(late.try_recv(), Ok("later"));
    assert_eq!(rx.try_recv(), Ok("early"));
    assert_eq!(twin.try_recv(), Ok("later"));
    assert_eq!(twin.try_recv(), Err(broadcast::TryRecvError::Empty));
}

#[test]
fn the_last_senders_drop_ends_the_stream_after_what_is_kept() {
    let (tx, mut rx) = broadcast::channel(4);
    let tx2 = tx.clone();
    tx.send(1).unwrap();
    drop(tx);
    let (count, waker) = counting_waker();
    assert_eq!(block_on(rx.recv()), Ok(1));
    let mut recv = pin!(rx.recv());
    assert_eq!(poll(&mut recv, &waker), Poll::Pending, "one sender is left");
    drop(tx2);
    assert_eq!(wakes(&count), 1);
    assert_eq!(poll(&mut recv, &waker), Poll::Ready(Err(RecvError::Closed)));
}

#[test]
fn send_without_receivers_hands_the_value_back() {
    let (tx, rx) = broadcast::channel::<u8>(1);
    assert_eq!(tx.receiver_count(), 1);
    drop(rx);
    assert_eq!(tx.send(3), Err(SendError(3)));
}

#[test]
fn tasks_on_two_workers_all_receive_the_whole_stream() {
    bounded(|| {
        let rt = spindle_rt::Builder::new_multi_thread().worker_threads(2).build().expect("runtime");
        rt.block_on(async {
            let (tx, rx) = broadcast::channel::<u64>(1024);
            let tasks: Vec<_> = (0..8)
                .map(|_| {
                    let mut rx = rx.resubscribe();
                    spindle_rt::spawn(async move {
                        let mut sum = 0;
                        loop {
                            match rx.recv().await {
                                Ok(v) => sum += v,
                                Err(RecvError::Closed) => return sum,
                                Err(RecvError::Lagged(n)) => panic!("lagged by {n} with room for all"),
                            }
                        }
                    })
                })
                .collect();
            drop(rx);
            for i in 0..1000u64 {
                tx.send(i).expect("receivers");
            }
            drop(tx);
            for task in tasks {
                assert_eq!(task.await.expect("the task ran"), (0..1000u64).sum());
            }
        });
    });
}

/// tokio's `same_channel` on broadcast senders and receivers.
#[test]
fn same_channel_tells_broadcast_channels_apart() {
    let (tx, rx) = broadcast::channel::<u8>(2);
    let (other_tx, other_rx) = broadcast::channel::<u8>(2);
    assert!(tx.same_channel(&tx.clone()) && !tx.same_channel(&other_tx));
    assert!(rx.same_channel(&tx.subscribe()) && !rx.same_channel(&other_rx));
}

/// tokio's `broadcast::Sender::closed`: resolves once every receiver is
/// dropped (at once if none is alive), so a producer can stop; a
/// `subscribe` reopens the channel for the next wait.
#[test]
fn sender_closed_resolves_when_every_receiver_is_gone() {
    let (tx, rx) = broadcast::channel::<u8>(2);
    let rx2 = tx.subscribe();
    let (count, waker) = counting_waker();
    {
        let mut closed = pin!(tx.closed());
        assert_eq!(poll(&mut closed, &waker), Poll::Pending);
        drop(rx);
        assert_eq!(poll(&mut closed, &waker), Poll::Pending, "one receiver is left");
        drop(rx2);
        assert!(wakes(&count) >= 1);
        assert_eq!(poll(&mut closed, &waker), Poll::Ready(()));
    }
    block_on(tx.closed());
    let _rx = tx.subscribe();
    let mut closed = pin!(tx.closed());
    assert_eq!(poll(&mut closed, &waker), Poll::Pending, "open again");
}

/// tokio's `broadcast::Sender::new`: a channel with no receiver yet, for
/// a server that subscribes one per client (a chat room).
#[test]
fn a_sender_made_alone_has_no_receiver_until_one_subscribes() {
    let tx = broadcast::Sender::new(2);
    assert_eq!(tx.receiver_count(), 0);
    assert_eq!(tx.send(1), Err(SendError(1)));
    let mut rx = tx.subscribe();
    assert_eq!(tx.send(2), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));
    drop(rx);
    assert_eq!(tx.send(3), Err(SendError(3)));
}
