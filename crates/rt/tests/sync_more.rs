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

