//! `spawn_blocking` returns tokio's `JoinHandle<R>`: handles of blocking
//! jobs and of tasks mix in one collection, an abort before the closure
//! starts keeps it from running, an abort once it runs does nothing, and
//! panics come back as `JoinError::is_panic`; on both runtimes, through
//! the free function, `Handle`, `Runtime`, `BlockingPool` and `JoinSet`.

mod rt_support;

use rt_support::{both, bounded};
use spindle_rt as tokio;
use spindle_rt::blocking::BlockingPool;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::time::Duration;
use tokio::task::JoinHandle;

const WAIT: Duration = Duration::from_secs(5);

/// A one-thread runtime pool, held by a closure until `release` is sent:
/// jobs spawned meanwhile queue behind it.
fn occupy(rt: &tokio::Runtime) -> (JoinHandle<&'static str>, mpsc::Sender<()>) {
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let busy = rt.spawn_blocking(move || {
        started_tx.send(()).unwrap();
        release_rx.recv_timeout(WAIT).unwrap();
        "busy"
    });
    started_rx.recv_timeout(WAIT).unwrap();
    (busy, release_tx)
}

fn one_blocking_thread() -> Vec<(&'static str, tokio::Runtime)> {
    vec![
        (
            "current-thread",
            tokio::runtime::Builder::new_current_thread().max_blocking_threads(1).build().unwrap(),
        ),
        (
            "multi-thread",
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .max_blocking_threads(1)
                .build()
                .unwrap(),
        ),
    ]
}

#[test]
fn blocking_and_async_handles_share_one_vec() {
    bounded(|| {
        for (name, rt) in both() {
            let sum = rt.block_on(async {
                // tokio code names the type and mixes the two kinds.
                let mut handles: Vec<JoinHandle<u32>> = Vec::new();
                for i in 0..4u32 {
                    handles.push(tokio::spawn(async move { i }));
                    handles.push(tokio::task::spawn_blocking(move || i * 100));
                }
                handles.push(tokio::runtime::Handle::current().spawn_blocking(|| 10_000));
                let mut sum = 0;
                for h in handles {
                    sum += h.await.unwrap();
                }
                sum
            });
            assert_eq!(sum, 6 + 600 + 10_000, "{name}");
            let h: JoinHandle<u8> = rt.spawn_blocking(|| 7);
            assert_eq!(rt.block_on(h).unwrap(), 7, "{name}");
        }
    });
}

#[test]
fn abort_before_the_closure_starts_keeps_it_from_running() {
    bounded(|| {
        for (name, rt) in one_blocking_thread() {
            let (busy, release) = occupy(&rt);
            let ran = Arc::new(AtomicBool::new(false));
            let r = ran.clone();
            let queued = rt.spawn_blocking(move || r.store(true, SeqCst));
            let abort = queued.abort_handle();
            assert!(!queued.is_finished(), "{name}: queued behind the busy job");
            abort.abort();
            release.send(()).unwrap();
            assert_eq!(rt.block_on(busy).unwrap(), "busy", "{name}");
            let err = rt.block_on(queued).unwrap_err();
            assert!(err.is_cancelled(), "{name}: {err}");
            // The handle resolved only once the pool thread took the job
            // and found it cancelled: the closure can no longer run.
            assert!(!ran.load(SeqCst), "{name}: an aborted job ran");
            assert!(abort.is_finished(), "{name}");
        }
    });
}

#[test]
fn abort_while_the_closure_runs_has_no_effect() {
    bounded(|| {
        for (name, rt) in both() {
            let (busy, release) = occupy(&rt);
            busy.abort();
            release.send(()).unwrap();
            assert_eq!(rt.block_on(busy).unwrap(), "busy", "{name}: the output wins");
        }
    });
}

#[test]
fn a_panic_is_a_join_error_with_its_payload() {
    bounded(|| {
        for (name, rt) in both() {
            let h = rt.spawn_blocking(|| -> u8 { panic!("boom in the pool") });
            let id = h.id();
            let err = rt.block_on(h).unwrap_err();
            assert!(err.is_panic(), "{name}");
            assert_eq!(err.id(), id, "{name}");
            assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "boom in the pool", "{name}");
        }
    });
}

#[test]
fn a_pool_of_ones_own_aborts_queued_jobs_too() {
    bounded(|| {
        let pool = BlockingPool::new(1, WAIT);
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let busy = pool.spawn(move || {
            started_tx.send(()).unwrap();
            release_rx.recv_timeout(WAIT).is_ok()
        });
        started_rx.recv_timeout(WAIT).unwrap();
        let queued = pool.spawn(|| panic!("an aborted job ran"));
        queued.abort();
        release_tx.send(()).unwrap();
        assert!(futures::executor::block_on(busy).unwrap());
        assert!(futures::executor::block_on(queued).unwrap_err().is_cancelled());
        assert!(pool.shutdown(WAIT));
    });
}

#[test]
fn join_set_spawn_blocking_aborts_queued_jobs_and_reports_panics() {
    bounded(|| {
        for (name, rt) in one_blocking_thread() {
            let (busy, release) = occupy(&rt);
            let ran = Arc::new(AtomicBool::new(false));
            rt.block_on(async {
                let mut set = tokio::task::JoinSet::new();
                let r = ran.clone();
                let queued = set.spawn_blocking(move || {
                    r.store(true, SeqCst);
                    1
                });
                queued.abort();
                set.spawn_blocking(|| panic!("set job panicked"));
                release.send(()).unwrap();
                let (mut cancelled, mut panicked) = (0, 0);
                while let Some(res) = set.join_next().await {
                    let err = res.unwrap_err();
                    cancelled += usize::from(err.is_cancelled());
                    panicked += usize::from(err.is_panic());
                }
                assert_eq!((cancelled, panicked), (1, 1), "{name}");
            });
            assert!(!ran.load(SeqCst), "{name}: an aborted job ran");
            assert_eq!(rt.block_on(busy).unwrap(), "busy");
        }
    });
}

#[test]
fn a_job_queued_when_the_runtime_drops_is_cancelled_unrun() {
    bounded(|| {
        for (name, rt) in one_blocking_thread() {
            let (busy, release) = occupy(&rt);
            let ran = Arc::new(AtomicBool::new(false));
            let r = ran.clone();
            let queued = rt.spawn_blocking(move || r.store(true, SeqCst));
            let handle = rt.handle();
            // Another thread waits for the queued job, then lets `busy`
            // end: the drop cancels queued jobs before it waits for
            // running ones, or this would deadlock (bounded: a failure).
            let watcher = std::thread::spawn(move || {
                let queued = futures::executor::block_on(queued);
                release.send(()).unwrap();
                queued
            });
            drop(rt);
            assert!(watcher.join().unwrap().unwrap_err().is_cancelled(), "{name}");
            assert_eq!(futures::executor::block_on(busy).unwrap(), "busy", "{name}");
            assert!(!ran.load(SeqCst), "{name}");
            let late = futures::executor::block_on(handle.spawn_blocking(|| 1));
            assert!(late.unwrap_err().is_cancelled(), "{name}");
        }
    });
}

#[test]
fn task_id_inside_a_blocking_closure_is_its_handles_id() {
    bounded(|| {
        for (name, rt) in both() {
            let h = rt.spawn_blocking(tokio::task::id);
            let expected = h.id();
            assert_eq!(rt.block_on(h).unwrap(), expected, "{name}");
        }
        let global = BlockingPool::global().spawn(tokio::task::try_id);
        let expected = global.id();
        assert_eq!(futures::executor::block_on(global).unwrap(), Some(expected));
    });
}
