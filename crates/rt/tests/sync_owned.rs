//! Owned permits and guards (`Semaphore::acquire_owned`,
//! `Mutex::lock_owned`, `RwLock::read_owned`/`write_owned`): held through an `Arc`, moved into spawned tasks,
//! released on drop; the semaphore caps how many tasks run at once.

mod rt_support;

use rt_support::{both, bounded};
use spindle_rt::sync::{
    Mutex, Notify, OwnedMutexGuard, OwnedRwLockReadGuard, OwnedSemaphorePermit, RwLock, Semaphore,
    TryAcquireError,
};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

fn assert_send<T: Send + 'static>(_: &T) {}

#[test]
fn owned_permits_cap_the_tasks_running_at_once() {
    bounded(|| {
        for (name, rt) in both() {
            let (ran, most) = rt.block_on(async {
                let limit = Arc::new(Semaphore::new(3));
                let running = Arc::new(AtomicUsize::new(0));
                let most = Arc::new(AtomicUsize::new(0));
                let ran = Arc::new(AtomicUsize::new(0));
                // Each task holds its permit until the next one is admitted
                // or all are: overlap is forced, not left to chance.
                let release = Arc::new(Notify::new());
                let mut handles = Vec::new();
                for _ in 0..12 {
                    let permit = match Arc::clone(&limit).try_acquire_owned() {
                        Ok(p) => p,
                        Err(TryAcquireError::NoPermits) => {
                            release.notify_one();
                            Arc::clone(&limit).acquire_owned().await.unwrap()
                        }
                        Err(e) => panic!("{e}"),
                    };
                    assert_send(&permit);
                    let (running, most, ran, release) =
                        (Arc::clone(&running), Arc::clone(&most), Arc::clone(&ran), Arc::clone(&release));
                    handles.push(spindle_rt::spawn(async move {
                        let now = running.fetch_add(1, SeqCst) + 1;
                        most.fetch_max(now, SeqCst);
                        release.notified().await;
                        running.fetch_sub(1, SeqCst);
                        ran.fetch_add(1, SeqCst);
                        drop(permit);
                    }));
                }
                // Release until each task is done: a task spawned but not
                // yet polled can miss a `notify_waiters`, and the one stored
                // `notify_one` permit may go to another late task.
                for h in handles {
                    while !h.is_finished() {
                        release.notify_waiters();
                        release.notify_one();
                        spindle_rt::yield_now().await;
                    }
                    h.await.unwrap();
                }
                assert_eq!(limit.available_permits(), 3, "every permit came back");
                (ran.load(SeqCst), most.load(SeqCst))
            });
            assert_eq!(ran, 12, "{name}");
            assert!(most <= 3, "{name}: {most} tasks held permits at once");
        }
    });
}

#[test]
fn owned_permits_forget_close_and_many() {
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                let sem = Arc::new(Semaphore::new(5));
                let two: OwnedSemaphorePermit = Arc::clone(&sem).acquire_many_owned(2).await.unwrap();
                assert_eq!((two.num_permits(), sem.available_permits()), (2, 3), "{name}");
                assert!(Arc::ptr_eq(two.semaphore(), &sem));
                let three = Arc::clone(&sem).try_acquire_many_owned(3).unwrap();
                assert_eq!(Arc::clone(&sem).try_acquire_owned().unwrap_err(), TryAcquireError::NoPermits);
                drop(two);
                assert_eq!(sem.available_permits(), 2, "{name}: dropped permits return");
                three.forget();
                assert_eq!(sem.available_permits(), 2, "{name}: forgotten permits do not");
                sem.close();
                assert!(Arc::clone(&sem).acquire_owned().await.is_err(), "{name}: closed");
                assert_eq!(Arc::clone(&sem).try_acquire_owned().unwrap_err(), TryAcquireError::Closed);
            });
        }
    });
}

#[test]
fn an_owned_guard_moves_into_a_task_and_unlocks_on_drop() {
    bounded(|| {
        for (name, rt) in both() {
            let value = rt.block_on(async {
                let shared = Arc::new(Mutex::new(Vec::new()));
                let mut guard: OwnedMutexGuard<Vec<u32>> = Arc::clone(&shared).lock_owned().await;
                assert_send(&guard);
                guard.push(1);
                assert!(Arc::clone(&shared).try_lock_owned().is_err(), "{name}: held");
                assert!(Arc::ptr_eq(guard.mutex(), &shared));
                // The guard goes with the task; we wait for the lock behind it.
                let task = spindle_rt::spawn(async move {
                    guard.push(2);
                    spindle_rt::yield_now().await;
                    guard.push(3);
                });
                let mut again = Arc::clone(&shared).lock_owned().await;
                again.push(4);
                task.await.unwrap();
                drop(again);
                let done = Arc::clone(&shared).try_lock_owned().expect("free after both guards dropped");
                done.clone()
            });
            assert_eq!(value, [1, 2, 3, 4], "{name}");
        }
    });
}

#[test]
fn owned_rwlock_guards_share_reads_and_exclude_the_writer() {
    bounded(|| {
        for (name, rt) in both() {
            let value = rt.block_on(async {
                let lock = Arc::new(RwLock::new(1u32));
                let r1: OwnedRwLockReadGuard<u32> = Arc::clone(&lock).read_owned().await;
                let r2 = Arc::clone(&lock).try_read_owned().expect("readers share");
                assert_send(&r1);
                assert!(Arc::clone(&lock).try_write_owned().is_err(), "{name}: readers exclude the writer");
                // A writer queued behind the readers gets in once both
                // read guards, one moved into a task, are gone.
                let reader = spindle_rt::spawn(async move {
                    spindle_rt::yield_now().await;
                    *r2
                });
                let writer = spindle_rt::spawn({
                    let lock = Arc::clone(&lock);
                    async move {
                        let mut w = lock.write_owned().await;
                        *w += 10;
                    }
                });
                assert_eq!(*r1, 1);
                drop(r1);
                assert_eq!(reader.await.unwrap(), 1);
                writer.await.unwrap();
                let r = Arc::clone(&lock).try_read_owned().expect("free again");
                *r
            });
            assert_eq!(value, 11, "{name}");
        }
    });
}
