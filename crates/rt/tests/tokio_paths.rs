//! Code written against tokio's module paths compiles against these: the
//! task functions under `task`, the Unix signal API under `signal::unix`,
//! the channels' errors under `<channel>::error`, and `time::Duration`.
//! Each path was missing, and the first line of a port failed on it.

mod rt_support;

use rt_support::{bounded, mt};
use spindle_rt::signal::unix::{signal, Signal, SignalKind};
use spindle_rt::sync::{broadcast, oneshot, watch};
use spindle_rt::task;
use spindle_rt::time::{timeout, Duration};

#[test]
fn tokio_paths_resolve_and_work() {
    bounded(|| {
        mt(2).block_on(async {
            let spawned = task::spawn(async { 1 });
            let blocking = task::spawn_blocking(|| 2);
            task::yield_now().await;
            let placed = task::block_in_place(|| 3);
            assert_eq!(spawned.await.unwrap() + blocking.await.unwrap() + placed, 6);

            let mut hup: Signal = signal(SignalKind::user_defined1()).unwrap();
            assert!(timeout(Duration::from_millis(1), hup.recv()).await.is_err());

            let (tx, mut rx) = broadcast::channel::<u8>(1);
            drop(tx);
            assert_eq!(rx.recv().await, Err(broadcast::error::RecvError::Closed));
            let (tx, rx) = watch::channel(0u8);
            drop(rx);
            let _: watch::error::SendError<u8> = tx.send(1).unwrap_err();
            let (tx, rx) = oneshot::channel::<u8>();
            drop(tx);
            let _: oneshot::error::RecvError = rx.await.unwrap_err();
        });
    });
}

/// `Handle::try_current`: a library that works with or without a runtime
/// asks without panicking.
#[test]
fn handle_try_current_inside_and_outside() {
    use spindle_rt::runtime::Handle;
    let err = Handle::try_current().expect_err("no runtime on the test thread");
    assert!(err.to_string().contains("spindle-rt runtime"), "{err}");
    bounded(|| {
        mt(2).block_on(async {
            let handle = Handle::try_current().expect("inside block_on");
            let on_worker = task::spawn(async { Handle::try_current().is_ok() });
            assert!(on_worker.await.unwrap());
            assert_eq!(handle.spawn(async { 5 }).await.unwrap(), 5);
        });
    });
}
