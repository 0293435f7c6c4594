//! mpsc: order, backpressure, FIFO senders, close, cancellation, many producers.

mod sync_support;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use sync_support::{bounded, counting_waker, poll, wakes};

use futures::executor::block_on;
use spindle_rt::sync::mpsc::{self, SendError, TryRecvError, TrySendError};

#[test]
fn values_arrive_in_order() {
    let (tx, mut rx) = mpsc::channel(4);
    block_on(async {
        for i in 0..4 {
            tx.send(i).await.unwrap();
        }
        drop(tx);
        let mut got = Vec::new();
        while let Some(v) = rx.recv().await {
            got.push(v);
        }
        assert_eq!(got, [0, 1, 2, 3]);
    });
}

#[test]
fn each_recv_frees_exactly_one_slot_even_from_a_batch() {
    // The receiver takes both buffered values in one batch; handing out
    // the first must free one slot at once (not when the batch ends), and
    // only one.
    let (tx, mut rx) = mpsc::channel(2);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    assert!(matches!(tx.try_send(3), Err(TrySendError::Full(3))));
    assert_eq!(rx.try_recv(), Ok(1));
    tx.try_send(3).unwrap();
    assert!(matches!(tx.try_send(4), Err(TrySendError::Full(4))));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn full_channel_makes_send_wait_until_a_recv() {
    let (tx, mut rx) = mpsc::channel(2);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    assert_eq!(tx.try_send(3), Err(TrySendError::Full(3)));

    let (count, waker) = counting_waker();
    let mut send = tx.send(3);
    assert!(poll(&mut send, &waker).is_pending());
    assert!(poll(&mut send, &waker).is_pending());
    assert_eq!(wakes(&count), 0);

    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(wakes(&count), 1, "a freed slot wakes the waiting sender once");
    assert_eq!(poll(&mut send, &waker), Poll::Ready(Ok(())));
    drop(send);
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn waiting_senders_are_served_in_order_and_try_send_cannot_barge() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let (c1, w1) = counting_waker();
    let (c2, w2) = counting_waker();
    let mut s1 = tx.send(1);
    let mut s2 = tx.send(2);
    assert!(poll(&mut s1, &w1).is_pending());
    assert!(poll(&mut s2, &w2).is_pending());

    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!((wakes(&c1), wakes(&c2)), (1, 0));
    // The freed slot is reserved for s1.
    assert_eq!(tx.try_send(9), Err(TrySendError::Full(9)));
    assert!(poll(&mut s2, &w2).is_pending());
    assert_eq!(poll(&mut s1, &w1), Poll::Ready(Ok(())));

    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(wakes(&c2), 1);
    assert_eq!(poll(&mut s2, &w2), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn dropped_sender_future_passes_its_reserved_slot_on() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let (_c1, w1) = counting_waker();
    let (c2, w2) = counting_waker();
    let mut s1 = tx.send(1);
    let mut s2 = tx.send(2);
    assert!(poll(&mut s1, &w1).is_pending());
    assert!(poll(&mut s2, &w2).is_pending());
    assert_eq!(rx.try_recv(), Ok(0)); // slot granted to s1
    assert_eq!(wakes(&c2), 0);
    drop(s1);
    assert_eq!(wakes(&c2), 1, "s1's slot goes to s2");
    assert_eq!(poll(&mut s2, &w2), Poll::Ready(Ok(())));
    drop(s2);
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn dropped_queued_sender_future_leaves_no_trace() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let (_c, w) = counting_waker();
    let mut s1 = tx.send(1);
    assert!(poll(&mut s1, &w).is_pending());
    drop(s1);
    assert_eq!(rx.try_recv(), Ok(0));
    tx.try_send(5).unwrap();
    assert_eq!(rx.try_recv(), Ok(5));
}

#[test]
fn close_fails_sends_but_keeps_buffered_values() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(1).unwrap();
    let (count, waker) = counting_waker();
    let mut waiting = tx.send(2);
    assert!(poll(&mut waiting, &waker).is_pending());

    rx.close();
    assert!(tx.is_closed());
    assert_eq!(wakes(&count), 1, "close wakes waiting senders");
    match poll(&mut waiting, &waker) {
        Poll::Ready(Err(SendError(v))) => assert_eq!(v, 2),
        other => panic!("expected SendError, got {other:?}"),
    }
    assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
    assert!(matches!(block_on(tx.send(4)), Err(SendError(4))));

    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(block_on(rx.recv()), None);
}

#[test]
fn dropped_receiver_fails_sends() {
    let (tx, rx) = mpsc::channel(3);
    drop(rx);
    assert_eq!(tx.try_send(1).map_err(TrySendError::into_inner), Err(1));
    assert!(matches!(block_on(tx.send(2)), Err(SendError(2))));
}

#[test]
fn last_sender_drop_ends_the_stream_and_wakes_the_receiver() {
    let (tx, mut rx) = mpsc::channel::<u8>(3);
    let tx2 = tx.clone();
    let (count, waker) = counting_waker();
    let mut recv = rx.recv();
    assert!(poll(&mut recv, &waker).is_pending());
    drop(tx);
    assert_eq!(wakes(&count), 0, "one sender is still alive");
    drop(tx2);
    assert_eq!(wakes(&count), 1);
    assert_eq!(poll(&mut recv, &waker), Poll::Ready(None));
}

#[test]
fn recv_wakes_on_send_and_only_the_latest_waker() {
    let (tx, mut rx) = mpsc::channel(3);
    let (old, old_waker) = counting_waker();
    let (new, new_waker) = counting_waker();
    let mut recv = rx.recv();
    assert!(poll(&mut recv, &old_waker).is_pending());
    assert!(poll(&mut recv, &new_waker).is_pending());
    tx.try_send(8).unwrap();
    assert_eq!((wakes(&old), wakes(&new)), (0, 1));
    assert_eq!(poll(&mut recv, &new_waker), Poll::Ready(Some(8)));
}

#[test]
#[should_panic(expected = "capacity must be at least 1")]
fn zero_capacity_is_refused() {
    let _ = mpsc::channel::<u8>(0);
}

#[test]
fn many_producers_on_threads_deliver_everything_exactly_once() {
    const PRODUCERS: usize = 4;
    const EACH: usize = 2_000;
    let got = bounded(|| {
        let (tx, mut rx) = mpsc::channel(8);
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    block_on(async {
                        for i in 0..EACH {
                            tx.send((p, i)).await.unwrap();
                        }
                    })
                })
            })
            .collect();
        drop(tx);
        let mut got = Vec::new();
        block_on(async {
            while let Some(v) = rx.recv().await {
                got.push(v);
            }
        });
        for p in producers {
            p.join().unwrap();
        }
        got
    });
    assert_eq!(got.len(), PRODUCERS * EACH);
    let mut next = [0; PRODUCERS];
    for (p, i) in got {
        assert_eq!(i, next[p], "producer {p}'s values arrive in its order");
        next[p] += 1;
    }
    assert_eq!(next, [EACH; PRODUCERS]);
}

/// Counts how often the inner future is polled.
struct CountPolls<'a, F> {
    inner: F,
    polls: &'a std::cell::Cell<usize>,
}

impl<F: Future + Unpin> Future for CountPolls<'_, F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.set(self.polls.get() + 1);
        Pin::new(&mut self.inner).poll(cx)
    }
}

#[test]
fn backpressured_producer_is_polled_only_when_woken() {
    const N: usize = 50;
    let (tx, mut rx) = mpsc::channel(1);
    let producer_polls = std::cell::Cell::new(0);
    let consumer_polls = std::cell::Cell::new(0);
    let producer = CountPolls {
        inner: Box::pin(async {
            for i in 0..N {
                tx.send(i).await.unwrap();
            }
            drop(tx);
        }),
        polls: &producer_polls,
    };
    let consumer = CountPolls {
        inner: Box::pin(async {
            let mut got = Vec::new();
            while let Some(v) = rx.recv().await {
                got.push(v);
            }
            got
        }),
        polls: &consumer_polls,
    };
    let ((), got) = block_on(futures::future::join(producer, consumer));
    assert_eq!(got, (0..N).collect::<Vec<_>>());
    // Each side waits at most once per value: no busy polling.
    assert!(producer_polls.get() <= N + 2, "{} producer polls", producer_polls.get());
    assert!(consumer_polls.get() <= N + 2, "{} consumer polls", consumer_polls.get());
}
