//! The blocking pool: spawn_blocking on a runtime and off it, the thread
//! bound, idle retirement, panics, detached handles and shutdown.

mod rt_support;

use rt_support::{bounded, panic_message, rt};
use spindle_rt::blocking::{BlockingPool, DEFAULT_KEEP_ALIVE, DEFAULT_MAX_THREADS};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

/// Waits, bounded by `limit`, until `cond` holds; returns whether it did.
/// Only for timeout-driven features (keep-alive): it polls, it does not
/// synchronise.
fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        thread::park_timeout(Duration::from_millis(5));
    }
    cond()
}

#[test]
fn spawn_blocking_returns_the_value_on_a_runtime() {
    bounded(|| {
        let rt = rt();
        let out = rt.block_on(async {
            let a = spindle_rt::spawn_blocking(|| 6 * 7);
            // From inside a spawned task too.
            let b = spindle_rt::spawn(async { spindle_rt::spawn_blocking(|| "in a task").await });
            (a.await.unwrap(), b.await.unwrap().unwrap())
        });
        assert_eq!(out, (42, "in a task"));
    });
}

#[test]
fn spawn_blocking_runs_off_the_runtime_thread() {
    bounded(|| {
        let rt = rt();
        let here = thread::current().id();
        let (there, name) = rt
            .block_on(spindle_rt::spawn_blocking(|| {
                (thread::current().id(), thread::current().name().map(str::to_owned))
            }))
            .unwrap();
        assert_ne!(there, here);
        assert!(name.unwrap().starts_with("spindle-blocking-"));
    });
}

#[test]
fn the_handle_works_under_another_executor() {
    bounded(|| {
        let out = futures::executor::block_on(spindle_rt::spawn_blocking(|| vec![1, 2, 3]));
        assert_eq!(out.unwrap(), [1, 2, 3]);
    });
}

#[test]
fn the_global_pool_has_the_documented_defaults() {
    let pool = BlockingPool::global();
    assert_eq!(pool.max_threads(), DEFAULT_MAX_THREADS);
    assert_eq!(pool.keep_alive(), DEFAULT_KEEP_ALIVE);
    assert_eq!((DEFAULT_MAX_THREADS, DEFAULT_KEEP_ALIVE), (512, Duration::from_secs(10)));
}

#[test]
fn a_hundred_jobs_on_four_threads_never_run_more_than_four_at_once() {
    bounded(|| {
        let pool = BlockingPool::new(4, Duration::from_secs(5));
        let running = Arc::new(AtomicUsize::new(0));
        let max_seen = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..100)
            .map(|i| {
                let (running, max_seen) = (running.clone(), max_seen.clone());
                pool.spawn(move || {
                    let now = running.fetch_add(1, SeqCst) + 1;
                    max_seen.fetch_max(now, SeqCst);
                    // Linger (bounded) until four have been seen at once, so
                    // the bound is reached rather than merely not exceeded.
                    let deadline = Instant::now() + Duration::from_millis(200);
                    while max_seen.load(SeqCst) < 4 && Instant::now() < deadline {
                        thread::yield_now();
                    }
                    running.fetch_sub(1, SeqCst);
                    i
                })
            })
            .collect();
        assert!(pool.live_threads() <= 4);
        let rt = rt();
        let sum = rt.block_on(async {
            let mut sum = 0;
            for h in handles {
                sum += h.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, (0..100).sum::<i32>());
        assert_eq!(max_seen.load(SeqCst), 4, "the pool grew to its bound and not past it");
        assert!(pool.live_threads() <= 4);
        assert!(pool.shutdown(Duration::from_secs(5)));
    });
}

#[test]
fn idle_threads_retire_after_keep_alive() {
    bounded(|| {
        let pool = BlockingPool::new(4, Duration::from_millis(50));
        assert_eq!(pool.live_threads(), 0, "no thread before the first job");
        let (tx, rx) = mpsc::channel::<()>();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        // Four jobs that each wait for a go signal (bounded) force four
        // threads to exist at once.
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let rx = rx.clone();
                pool.spawn(move || rx.lock().unwrap().recv_timeout(Duration::from_secs(5)).is_ok())
            })
            .collect();
        assert_eq!(pool.live_threads(), 4);
        for _ in 0..4 {
            tx.send(()).unwrap();
        }
        let all_ok = futures::executor::block_on(async {
            let mut ok = true;
            for h in handles {
                ok &= h.await.unwrap();
            }
            ok
        });
        assert!(all_ok);
        assert!(
            eventually(Duration::from_secs(5), || pool.live_threads() == 0),
            "threads still alive: {:?}",
            pool
        );
        assert_eq!(pool.idle_threads(), 0);
        // The pool grows again after shrinking to nothing.
        assert_eq!(futures::executor::block_on(pool.spawn(|| 7)).unwrap(), 7);
        assert!(pool.shutdown(Duration::from_secs(5)));
        assert_eq!(pool.live_threads(), 0);
    });
}

#[test]
fn an_idle_thread_is_reused_rather_than_a_new_one_started() {
    bounded(|| {
        let pool = BlockingPool::new(8, Duration::from_secs(5));
        for i in 0..20 {
            assert_eq!(futures::executor::block_on(pool.spawn(move || i)).unwrap(), i);
            // The result is sent just before the thread goes idle; wait for
            // it to get there, so the next job finds it idle.
            assert!(eventually(Duration::from_secs(5), || pool.idle_threads() == 1), "{pool:?}");
        }
        assert_eq!(pool.live_threads(), 1, "one job at a time needs one thread");
        assert!(pool.shutdown(Duration::from_secs(5)));
    });
}

#[test]
fn a_panic_becomes_an_error_with_its_payload_and_the_pool_keeps_working() {
    bounded(|| {
        let pool = BlockingPool::new(1, Duration::from_secs(5));
        let err = futures::executor::block_on(pool.spawn(|| -> u32 { panic!("boom {}", 7) })).unwrap_err();
        assert!(err.is_panic());
        assert!(!err.is_cancelled());
        assert!(err.to_string().contains("boom 7"), "{err}");
        assert_eq!(panic_message(&*err.into_panic()), "boom 7");
        // The same (only) thread runs the next job.
        assert_eq!(pool.live_threads(), 1);
        assert_eq!(futures::executor::block_on(pool.spawn(|| 5)).unwrap(), 5);
        assert_eq!(pool.live_threads(), 1);
        assert!(pool.shutdown(Duration::from_secs(5)));
    });
}

#[test]
fn a_dropped_handle_still_runs_the_closure() {
    bounded(|| {
        let (tx, rx) = mpsc::channel();
        let handle = spindle_rt::spawn_blocking(move || tx.send("ran").unwrap());
        drop(handle);
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok("ran"));
    });
}

#[test]
fn shutdown_cancels_queued_jobs_and_waits_for_running_ones() {
    bounded(|| {
        let pool = BlockingPool::new(1, Duration::from_secs(5));
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let running = pool.spawn(move || {
            started_tx.send(()).unwrap();
            go_rx.recv_timeout(Duration::from_secs(5)).is_ok()
        });
        started_rx.recv_timeout(Duration::from_secs(5)).unwrap();
        let queued = pool.spawn(|| "never");
        assert_eq!(pool.queued_jobs(), 1);

        // The running job holds the only thread: shutdown times out...
        assert!(!pool.shutdown(Duration::from_millis(20)));
        // ...but has already dropped the queued job, and refuses new ones.
        let err = futures::executor::block_on(queued).unwrap_err();
        assert!(err.is_cancelled());
        let late = futures::executor::block_on(pool.spawn(|| "late")).unwrap_err();
        assert!(late.is_cancelled());

        // Let the running job finish: it completes, then its thread exits.
        go_tx.send(()).unwrap();
        assert!(futures::executor::block_on(running).unwrap());
        assert!(pool.shutdown(Duration::from_secs(5)));
        assert_eq!(pool.live_threads(), 0);
    });
}

#[test]
fn pool_threads_block_async_signals() {
    bounded(|| {
        let pool = BlockingPool::new(1, Duration::from_secs(5));
        let blocked = futures::executor::block_on(pool.spawn(|| {
            let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
            // SAFETY: `set` is valid for writes; with a null new set,
            // pthread_sigmask only reports the current mask into it.
            let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), set.as_mut_ptr()) };
            assert_eq!(rc, 0);
            // SAFETY: pthread_sigmask succeeded, so `set` is initialised.
            let set = unsafe { set.assume_init() };
            let is_member = |s| {
                // SAFETY: `set` is an initialised sigset and `s` a valid signal.
                unsafe { libc::sigismember(&set, s) == 1 }
            };
            (
                [libc::SIGINT, libc::SIGTERM, libc::SIGCHLD, libc::SIGUSR1].map(is_member),
                [libc::SIGSEGV, libc::SIGBUS].map(is_member),
            )
        }))
        .unwrap();
        assert_eq!(blocked, ([true; 4], [false; 2]));
        assert!(pool.shutdown(Duration::from_secs(5)));
    });
}

#[test]
fn durations_too_long_for_an_instant_mean_forever() {
    bounded(|| {
        // Instant + Duration::MAX overflows: the pool must not panic on it
        // (a worker panicking there would die with its counters wrong).
        let pool = BlockingPool::new(1, Duration::MAX);
        assert_eq!(futures::executor::block_on(pool.spawn(|| 3)).unwrap(), 3);
        assert!(eventually(Duration::from_secs(5), || pool.idle_threads() == 1));
        assert!(pool.shutdown(Duration::MAX));
        assert_eq!(pool.live_threads(), 0);
    });
}

#[test]
fn dropping_a_pool_cancels_its_queued_jobs() {
    bounded(|| {
        let pool = BlockingPool::new(1, Duration::from_secs(5));
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let running = pool.spawn(move || {
            started_tx.send(()).unwrap();
            go_rx.recv_timeout(Duration::from_secs(5)).is_ok()
        });
        started_rx.recv_timeout(Duration::from_secs(5)).unwrap();
        let queued = pool.spawn(|| ());
        drop(pool);
        assert!(futures::executor::block_on(queued).unwrap_err().is_cancelled());
        // The running job finishes on its now detached thread.
        go_tx.send(()).unwrap();
        assert!(futures::executor::block_on(running).unwrap());
    });
}
