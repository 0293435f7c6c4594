//! The sync primitives in `static`s, as tokio code puts them there with
//! `const_new` (no lazy initialisation): they start in the state `new`
//! gives and work across tasks. (`const_new` does not exist under loom.)
#![cfg(not(loom))]

mod sync_support;
use futures::executor::block_on;
use spindle_rt::sync::{Mutex, Notify, OnceCell, RwLock, Semaphore};
use std::task::Poll;
use sync_support::{counting_waker, poll};

static COUNTER: Mutex<u32> = Mutex::const_new(0);
static TABLE: RwLock<Vec<u32>> = RwLock::const_new(Vec::new());
static LIMIT: Semaphore = Semaphore::const_new(2);
static READY: Notify = Notify::const_new();
static CONFIG: OnceCell<String> = OnceCell::const_new();

#[test]
fn const_new_primitives_work_from_statics() {
    block_on(async {
        *COUNTER.lock().await += 2;
        assert_eq!(*COUNTER.try_lock().expect("free"), 2);

        TABLE.write().await.push(7);
        assert_eq!(*TABLE.read().await, [7]);

        let a = LIMIT.acquire().await.expect("open");
        let _b = LIMIT.try_acquire().expect("second permit");
        assert!(LIMIT.try_acquire().is_err(), "two permits only");
        drop(a);
        assert_eq!(LIMIT.available_permits(), 1);

        let (_count, waker) = counting_waker();
        let mut waiting = Box::pin(READY.notified());
        assert_eq!(poll(&mut waiting, &waker), Poll::Pending);
        READY.notify_one();
        assert_eq!(poll(&mut waiting, &waker), Poll::Ready(()));

        assert!(CONFIG.get().is_none());
        let value = CONFIG.get_or_init(|| async { "loaded".to_owned() }).await;
        assert_eq!(value, "loaded");
    });
}
