//! oneshot: delivery, both kinds of drop, try_recv, closed(), waker updates.

mod sync_support;
use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc as std_mpsc;
use std::task::Poll;
use sync_support::{bounded, counting_waker, poll, wakes};

use futures::executor::block_on;
use spindle_rt::sync::oneshot::{self, RecvError, TryRecvError};

#[test]
fn send_then_recv() {
    let (tx, rx) = oneshot::channel();
    assert_eq!(tx.send("hi"), Ok(()));
    assert_eq!(block_on(rx), Ok("hi"));
}

#[test]
fn pending_receiver_is_woken_exactly_once_by_send() {
    let (tx, mut rx) = oneshot::channel();
    let (count, waker) = counting_waker();
    assert_eq!(poll(&mut rx, &waker), Poll::Pending);
    assert_eq!(poll(&mut rx, &waker), Poll::Pending);
    assert_eq!(wakes(&count), 0);
    tx.send(7).unwrap();
    assert_eq!(wakes(&count), 1);
    assert_eq!(poll(&mut rx, &waker), Poll::Ready(Ok(7)));
    // Completed: polling again reports the sender as gone.
    assert_eq!(poll(&mut rx, &waker), Poll::Ready(Err(RecvError)));
}

#[test]
fn sender_dropped_wakes_receiver_with_error() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    let (count, waker) = counting_waker();
    assert_eq!(poll(&mut rx, &waker), Poll::Pending);
    drop(tx);
    assert_eq!(wakes(&count), 1);
    assert_eq!(poll(&mut rx, &waker), Poll::Ready(Err(RecvError)));
}

#[test]
fn receiver_dropped_send_returns_value() {
    let (tx, rx) = oneshot::channel();
    assert!(!tx.is_closed());
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(String::from("back")), Err(String::from("back")));
}

#[test]
fn try_recv_reports_empty_value_and_closed() {
    let (tx, mut rx) = oneshot::channel();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send(1).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));

    let (tx, mut rx) = oneshot::channel::<u8>();
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn closed_future_resolves_when_receiver_goes() {
    let (mut tx, rx) = oneshot::channel::<u8>();
    let (count, waker) = counting_waker();
    {
        let mut closed = tx.closed();
        assert_eq!(poll(&mut closed, &waker), Poll::Pending);
        drop(rx);
        assert_eq!(wakes(&count), 1);
        assert_eq!(poll(&mut closed, &waker), Poll::Ready(()));
    }
    assert_eq!(tx.send(1), Err(1));
}

#[test]
fn receiver_close_keeps_a_value_sent_before() {
    let (tx, mut rx) = oneshot::channel();
    tx.send(5).unwrap();
    rx.close();
    assert_eq!(rx.try_recv(), Ok(5));

    let (tx, mut rx) = oneshot::channel();
    rx.close();
    assert_eq!(tx.send(5), Err(5));
    assert_eq!(block_on(rx), Err(RecvError));
}

#[test]
fn repoll_with_new_waker_wakes_only_the_new_one() {
    let (tx, mut rx) = oneshot::channel();
    let (old, old_waker) = counting_waker();
    let (new, new_waker) = counting_waker();
    assert_eq!(poll(&mut rx, &old_waker), Poll::Pending);
    assert_eq!(poll(&mut rx, &new_waker), Poll::Pending);
    tx.send(()).unwrap();
    assert_eq!((wakes(&old), wakes(&new)), (0, 1));
}

#[test]
fn send_across_threads() {
    let got = bounded(|| {
        let (tx, rx) = oneshot::channel();
        let (go_tx, go_rx) = std_mpsc::channel::<()>();
        let sender = std::thread::spawn(move || {
            go_rx.recv().unwrap();
            tx.send(vec![1, 2, 3]).unwrap();
        });
        let got = block_on(async move {
            let mut rx = rx;
            // Make sure the receiver is parked before the value is sent.
            futures::future::poll_fn(|cx| {
                let _ = Pin::new(&mut rx).poll(cx);
                Poll::Ready(())
            })
            .await;
            go_tx.send(()).unwrap();
            rx.await
        });
        sender.join().unwrap();
        got
    });
    assert_eq!(got, Ok(vec![1, 2, 3]));
}

#[test]
fn sender_dropped_on_another_thread_wakes_blocked_receiver() {
    let got = bounded(|| {
        let (tx, rx) = oneshot::channel::<u8>();
        let dropper = std::thread::spawn(move || drop(tx));
        let got = block_on(rx);
        dropper.join().unwrap();
        got
    });
    assert_eq!(got, Err(RecvError));
}

/// tokio's documented `close` semantics: once the receiver closed the
/// channel no value can arrive, so with no value sent before the close
/// `try_recv` says `Closed` (not `Empty`) and awaiting the receiver fails at
/// once, even while the sender is still alive, instead of waiting forever.
#[test]
fn after_close_with_no_value_try_recv_is_closed_and_await_fails_at_once() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    rx.close();
    assert!(tx.is_closed());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    let (_count, waker) = counting_waker();
    assert_eq!(poll(&mut rx, &waker), Poll::Ready(Err(RecvError)));
    assert_eq!(tx.send(1), Err(1));

    // A value sent before the close still arrives, by either route.
    let (tx, mut rx) = oneshot::channel();
    tx.send(5).unwrap();
    rx.close();
    assert_eq!(rx.try_recv(), Ok(5));
    let (tx, mut rx) = oneshot::channel();
    tx.send(6).unwrap();
    rx.close();
    assert_eq!(poll(&mut rx, &waker), Poll::Ready(Ok(6)));
}
