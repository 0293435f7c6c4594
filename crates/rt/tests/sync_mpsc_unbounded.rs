//! The unbounded mpsc channel: order, waking, closing and disconnection,
//! on a plain executor and on the multi-thread runtime.

mod sync_support;

use futures::executor::block_on;
use spindle_rt::sync::mpsc::{self, SendError, TryRecvError};
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use sync_support::{bounded, counting_waker, poll, wakes};

#[test]
fn values_arrive_in_order_and_recv_ends_with_the_last_sender() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let tx2 = tx.clone();
    for i in 0..1000 {
        tx.send(i).unwrap();
    }
    drop(tx);
    tx2.send(1000).unwrap();
    assert_eq!(rx.len(), 1001);
    drop(tx2);
    let got: Vec<i32> = block_on(async {
        let mut got = Vec::new();
        while let Some(v) = rx.recv().await {
            got.push(v);
        }
        got
    });
    assert_eq!(got, (0..=1000).collect::<Vec<_>>());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn a_waiting_receiver_is_woken_by_a_send_and_by_the_last_drop() {
    let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
    let (count, waker) = counting_waker();
    {
        let mut recv = pin!(rx.recv());
        assert_eq!(poll(&mut recv, &waker), Poll::Pending);
        tx.send(1).unwrap();
        assert_eq!(wakes(&count), 1);
        assert_eq!(poll(&mut recv, &waker), Poll::Ready(Some(1)));
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    let mut recv = pin!(rx.recv());
    assert_eq!(poll(&mut recv, &waker), Poll::Pending);
    drop(tx);
    assert_eq!(wakes(&count), 2, "the last sender's drop wakes the receiver");
    assert_eq!(poll(&mut recv, &waker), Poll::Ready(None));
}

#[test]
fn close_and_drop_hand_values_back_and_free_what_was_queued() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let value = Arc::new(());
    tx.send(Arc::clone(&value)).unwrap();
    rx.close();
    assert!(tx.is_closed());
    let refused = tx.send(Arc::clone(&value)).expect_err("closed");
    drop(refused);
    assert!(rx.try_recv().is_ok(), "a value queued before close is still there");
    assert_eq!(rx.try_recv().map(drop), Err(TryRecvError::Disconnected));

    let (tx, rx) = mpsc::unbounded_channel();
    tx.send(Arc::clone(&value)).unwrap();
    drop(rx);
    assert_eq!(Arc::strong_count(&value), 1, "the receiver's drop freed the queued value");
    assert!(matches!(tx.send(value), Err(SendError(_))));
}

#[test]
fn many_producers_on_threads_feed_a_task_on_the_multi_thread_runtime() {
    bounded(|| {
        let rt = spindle_rt::Builder::new_multi_thread().worker_threads(2).build().expect("runtime");
        let (tx, mut rx) = mpsc::unbounded_channel::<u64>();
        let producers: Vec<_> = (0..4)
            .map(|p| {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    for i in 0..10_000u64 {
                        tx.send(p * 10_000 + i).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let sum = rt.block_on(async move {
            let mut sum = 0;
            while let Some(v) = rx.recv().await {
                sum += v;
            }
            sum
        });
        for p in producers {
            p.join().unwrap();
        }
        assert_eq!(sum, (0..40_000u64).sum());
    });
}
