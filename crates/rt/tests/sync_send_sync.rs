//! Compile-time checks: the primitives, their futures and their guards can
//! cross threads, as a multi-thread scheduler needs.

use spindle_rt::sync::{self, mpsc, oneshot};

fn assert_send<T: Send>() {}
fn assert_sync<T: Sync>() {}

#[test]
fn primitives_and_futures_are_send_and_sync() {
    assert_send::<sync::Mutex<Vec<u8>>>();
    assert_sync::<sync::Mutex<Vec<u8>>>();
    assert_sync::<sync::Mutex<std::cell::Cell<u8>>>(); // only needs Send
    assert_send::<sync::Lock<'static, Vec<u8>>>();
    assert_send::<sync::MutexGuard<'static, Vec<u8>>>();

    assert_send::<sync::RwLock<Vec<u8>>>();
    assert_sync::<sync::RwLock<Vec<u8>>>();
    assert_send::<sync::Read<'static, Vec<u8>>>();
    assert_send::<sync::Write<'static, Vec<u8>>>();
    assert_send::<sync::RwLockReadGuard<'static, Vec<u8>>>();
    assert_send::<sync::RwLockWriteGuard<'static, Vec<u8>>>();

    assert_sync::<sync::Notify>();
    assert_send::<sync::Notified<'static>>();
    assert_sync::<sync::Semaphore>();
    assert_send::<sync::Acquire<'static>>();
    assert_send::<sync::SemaphorePermit<'static>>();

    assert_send::<oneshot::Sender<Vec<u8>>>();
    assert_send::<oneshot::Receiver<Vec<u8>>>();
    assert_send::<mpsc::Sender<Vec<u8>>>();
    assert_sync::<mpsc::Sender<Vec<u8>>>();
    assert_send::<mpsc::Receiver<Vec<u8>>>();
    assert_send::<mpsc::Send<'static, Vec<u8>>>();
    assert_send::<mpsc::Recv<'static, Vec<u8>>>();
    assert_send::<mpsc::Permit<'static, Vec<u8>>>();
    assert_sync::<mpsc::Permit<'static, Vec<u8>>>();
    assert_send::<mpsc::OwnedPermit<Vec<u8>>>();
    assert_sync::<mpsc::OwnedPermit<Vec<u8>>>();
    assert_send::<mpsc::WeakSender<Vec<u8>>>();
    assert_sync::<mpsc::WeakSender<Vec<u8>>>();
    assert_send::<mpsc::WeakUnboundedSender<Vec<u8>>>();
    assert_sync::<mpsc::WeakUnboundedSender<Vec<u8>>>();
}
