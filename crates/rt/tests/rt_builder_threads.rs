//! The runtime builder's thread knobs (names, stack size, start and stop
//! hooks), the per-runtime blocking pool's bound and keep-alive, and how a
//! runtime's drop waits for (or, with a timeout, abandons) running blocking
//! closures.

mod rt_support;

use rt_support::bounded;
use spindle_rt::runtime::Builder;
use std::cell::Cell;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

/// Every wait on a channel in these tests is bounded by this.
const LIMIT: Duration = Duration::from_secs(5);

fn name() -> Option<String> {
    thread::current().name().map(str::to_owned)
}

fn builders() -> Vec<(&'static str, Builder)> {
    let mut mt = Builder::new_multi_thread();
    mt.worker_threads(2);
    vec![("current-thread", Builder::new_current_thread()), ("multi-thread", mt)]
}

#[test]
fn thread_name_is_seen_in_tasks_and_blocking_closures() {
    bounded(|| {
        let rt = Builder::new_multi_thread().worker_threads(2).thread_name("my-worker").build().unwrap();
        let (tasks, blocking) = rt.block_on(async {
            let tasks: Vec<_> = (0..16).map(|_| spindle_rt::spawn(async { name() })).collect();
            let mut names = Vec::new();
            for t in tasks {
                names.push(t.await.unwrap());
            }
            let blocking = spindle_rt::spawn(async { spindle_rt::spawn_blocking(name).await.unwrap() });
            (names, blocking.await.unwrap())
        });
        for n in tasks {
            assert_eq!(n.as_deref(), Some("my-worker"));
        }
        assert_eq!(blocking.as_deref(), Some("my-worker"));

        // The current-thread runtime names its blocking threads; its tasks
        // run on the caller's thread, whose name it leaves alone.
        let rt = Builder::new_current_thread().thread_name("my-blocking").build().unwrap();
        let (task, blocking) = rt.block_on(async {
            (
                spindle_rt::spawn(async { name() }).await.unwrap(),
                spindle_rt::spawn_blocking(name).await.unwrap(),
            )
        });
        assert_eq!(task, name());
        assert_ne!(task.as_deref(), Some("my-blocking"));
        assert_eq!(blocking.as_deref(), Some("my-blocking"));
    });
}

#[test]
fn thread_name_fn_names_each_new_thread() {
    bounded(|| {
        let next = Arc::new(AtomicUsize::new(0));
        let n = next.clone();
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name_fn(move || format!("named-{}", n.fetch_add(1, SeqCst)))
            .build()
            .unwrap();
        let (worker, blocking) =
            rt.block_on(rt.spawn(async { (name(), spindle_rt::spawn_blocking(name).await) })).unwrap();
        let worker = worker.unwrap();
        let blocking = blocking.unwrap().unwrap();
        assert!(worker.starts_with("named-"), "{worker}");
        assert!(blocking.starts_with("named-"), "{blocking}");
        assert_ne!(worker, blocking, "one call per thread");
        assert!(next.load(SeqCst) >= 3, "two workers and a blocking thread");
    });
}

/// Stack-hungry work: fails with a stack overflow on a default 2 MiB stack.
#[inline(never)]
fn deep_stack() -> u8 {
    let mut big = [0u8; 8 << 20];
    big[12345] = 7;
    std::hint::black_box(&mut big)[12345]
}

#[test]
fn thread_stack_size_applies_to_workers_and_blocking_threads() {
    bounded(|| {
        let rt = Builder::new_multi_thread().worker_threads(2).thread_stack_size(32 << 20).build().unwrap();
        let (in_task, in_blocking) = rt
            .block_on(
                rt.spawn(async { (deep_stack(), spindle_rt::spawn_blocking(deep_stack).await.unwrap()) }),
            )
            .unwrap();
        assert_eq!((in_task, in_blocking), (7, 7));
    });
}

thread_local! {
    /// Set by the start hook of the runtime threads in `hooks_run_...`.
    static HOOKED: Cell<bool> = const { Cell::new(false) };
}

#[test]
fn on_thread_start_and_stop_run_once_on_every_runtime_thread() {
    bounded(|| {
        for (flavor, mut builder) in builders() {
            let started = Arc::new(Mutex::new(Vec::<ThreadId>::new()));
            let stopped = Arc::new(Mutex::new(Vec::<ThreadId>::new()));
            let (s1, s2) = (started.clone(), stopped.clone());
            let rt = builder
                .on_thread_start(move || {
                    HOOKED.with(|h| h.set(true));
                    s1.lock().unwrap().push(thread::current().id());
                })
                .on_thread_stop(move || s2.lock().unwrap().push(thread::current().id()))
                .build()
                .unwrap();
            let ran_on = rt.block_on(async {
                let task = spindle_rt::spawn(async { (thread::current().id(), HOOKED.with(Cell::get)) });
                let blocking =
                    spindle_rt::spawn_blocking(|| (thread::current().id(), HOOKED.with(Cell::get)));
                (task.await.unwrap(), blocking.await.unwrap())
            });
            drop(rt);
            let ((task_thread, task_hooked), (blocking_thread, blocking_hooked)) = ran_on;
            assert!(blocking_hooked, "{flavor}: the start hook ran before the closure");
            let started = started.lock().unwrap().clone();
            let stopped = stopped.lock().unwrap().clone();
            let start_set: HashSet<_> = started.iter().copied().collect();
            assert_eq!(start_set.len(), started.len(), "{flavor}: one start per thread");
            assert_eq!(start_set, stopped.iter().copied().collect(), "{flavor}: every start had its stop");
            assert_eq!(stopped.len(), started.len(), "{flavor}: one stop per thread");
            assert!(start_set.contains(&blocking_thread), "{flavor}");
            if flavor == "multi-thread" {
                assert!(task_hooked, "the start hook ran before the worker's first task");
                assert!(start_set.contains(&task_thread));
                assert!(started.len() >= 3, "two workers and a blocking thread: {started:?}");
            } else {
                // The caller's thread runs the tasks: not a runtime thread.
                assert_eq!(task_thread, thread::current().id());
                assert!(!task_hooked && !start_set.contains(&task_thread));
            }
        }
    });
}

#[test]
fn max_blocking_threads_bounds_how_many_closures_run_at_once() {
    const MAX: usize = 3;
    bounded(|| {
        for (flavor, mut builder) in builders() {
            let rt = builder.max_blocking_threads(MAX).build().unwrap();
            let running = Arc::new(AtomicUsize::new(0));
            let peak = Arc::new(AtomicUsize::new(0));
            let threads = Arc::new(Mutex::new(HashSet::new()));
            let handles: Vec<_> = (0..24)
                .map(|_| {
                    let (running, peak, threads) = (running.clone(), peak.clone(), threads.clone());
                    rt.spawn_blocking(move || {
                        threads.lock().unwrap().insert(thread::current().id());
                        let now = running.fetch_add(1, SeqCst) + 1;
                        peak.fetch_max(now, SeqCst);
                        // Stay (bounded) until the bound has been reached,
                        // so the peak is the bound rather than whatever
                        // overlap chance gave; a pool past its bound has
                        // started more threads meanwhile, seen in the peak.
                        let deadline = Instant::now() + LIMIT;
                        while peak.load(SeqCst) < MAX && Instant::now() < deadline {
                            thread::yield_now();
                        }
                        running.fetch_sub(1, SeqCst);
                    })
                })
                .collect();
            rt.block_on(async {
                for h in handles {
                    h.await.unwrap();
                }
            });
            assert_eq!(peak.load(SeqCst), MAX, "{flavor}: the pool grew to its bound and no further");
            assert!(threads.lock().unwrap().len() <= MAX, "{flavor}: at most {MAX} threads");
        }
    });
}

#[test]
fn idle_blocking_threads_retire_after_thread_keep_alive() {
    bounded(|| {
        for (flavor, mut builder) in builders() {
            let (stop_tx, stop_rx) = mpsc::channel::<Option<String>>();
            let stop_tx = Mutex::new(stop_tx);
            let rt = builder
                .thread_name("keep-alive-test")
                .thread_keep_alive(Duration::from_millis(20))
                .on_thread_stop(move || {
                    let _ = stop_tx.lock().unwrap().send(name());
                })
                .build()
                .unwrap();
            let ran_on = rt.block_on(rt.spawn_blocking(|| thread::current().id()));
            // Filled in by the stop hook when the idle thread retires: long
            // before the runtime is dropped, and before the 10 s default.
            let stopped = stop_rx.recv_timeout(LIMIT);
            assert_eq!(stopped, Ok(Some("keep-alive-test".to_owned())), "{flavor}");
            // A new closure gets a new thread.
            let again = rt.block_on(rt.spawn_blocking(|| thread::current().id()));
            assert_ne!(ran_on.unwrap(), again.unwrap(), "{flavor}");
        }
    });
}

/// A closure that waits for `release` (bounded) and then reports on
/// `done`; plus the channel ends the test keeps.
struct Stuck {
    started: mpsc::Receiver<()>,
    release: mpsc::Sender<()>,
    done: mpsc::Receiver<()>,
}

fn spawn_stuck(rt: &spindle_rt::Runtime) -> Stuck {
    let (started_tx, started) = mpsc::channel();
    let (release, release_rx) = mpsc::channel::<()>();
    let (done_tx, done) = mpsc::channel();
    drop(rt.spawn_blocking(move || {
        started_tx.send(()).unwrap();
        // Bounded, so a broken shutdown cannot hang the process for ever.
        let _ = release_rx.recv_timeout(Duration::from_secs(20));
        let _ = done_tx.send(());
    }));
    Stuck { started, release, done }
}

#[test]
fn shutdown_timeout_returns_while_a_blocking_closure_is_stuck() {
    const TIMEOUT: Duration = Duration::from_millis(100);
    bounded(|| {
        for (flavor, mut builder) in builders() {
            let rt = builder.build().unwrap();
            let stuck = spawn_stuck(&rt);
            stuck.started.recv_timeout(LIMIT).unwrap();
            let start = Instant::now();
            rt.shutdown_timeout(TIMEOUT);
            let took = start.elapsed();
            assert!(took >= TIMEOUT, "{flavor}: waited for the closure first ({took:?})");
            assert!(took < LIMIT, "{flavor}: returned without the closure ({took:?})");
            // The closure is still running, detached; let it finish.
            assert_eq!(stuck.done.try_recv(), Err(mpsc::TryRecvError::Empty), "{flavor}");
            stuck.release.send(()).unwrap();
            assert_eq!(stuck.done.recv_timeout(LIMIT), Ok(()), "{flavor}");
        }
    });
}

#[test]
fn shutdown_background_does_not_wait_for_blocking_closures() {
    bounded(|| {
        for (flavor, mut builder) in builders() {
            let rt = builder.build().unwrap();
            let stuck = spawn_stuck(&rt);
            stuck.started.recv_timeout(LIMIT).unwrap();
            let start = Instant::now();
            rt.shutdown_background();
            assert!(start.elapsed() < LIMIT, "{flavor}");
            assert_eq!(stuck.done.try_recv(), Err(mpsc::TryRecvError::Empty), "{flavor}");
            stuck.release.send(()).unwrap();
            assert_eq!(stuck.done.recv_timeout(LIMIT), Ok(()), "{flavor}");
        }
    });
}

#[test]
fn dropping_the_runtime_waits_for_running_closures_and_cancels_queued_ones() {
    bounded(|| {
        for (flavor, mut builder) in builders() {
            let rt = builder.max_blocking_threads(1).build().unwrap();
            let (go_tx, go_rx) = mpsc::channel::<()>();
            let (started_tx, started_rx) = mpsc::channel::<()>();
            let finished = Arc::new(AtomicBool::new(false));
            let f = finished.clone();
            let running = rt.spawn_blocking(move || {
                started_tx.send(()).unwrap();
                go_rx.recv_timeout(LIMIT).unwrap();
                // Work that takes a while after the go: the drop must wait
                // for it (this sleep is the work, not a synchronisation).
                thread::sleep(Duration::from_millis(50));
                f.store(true, SeqCst);
            });
            // Queued behind it: the pool's only thread is busy.
            let queued = rt.spawn_blocking(|| "ran");
            started_rx.recv_timeout(LIMIT).unwrap();
            // A task whose future, dropped when the runtime cancels it at
            // the start of the drop, lets the running closure go on: so the
            // closure is still running when the drop reaches the pool.
            struct GoOnDrop(mpsc::Sender<()>);
            impl Drop for GoOnDrop {
                fn drop(&mut self) {
                    let _ = self.0.send(());
                }
            }
            let go = GoOnDrop(go_tx);
            drop(rt.spawn(async move {
                let _go = go;
                std::future::pending::<()>().await;
            }));
            drop(rt);
            assert!(finished.load(SeqCst), "{flavor}: the drop returned before the running closure did");
            assert!(futures::executor::block_on(running).is_ok(), "{flavor}");
            let queued = futures::executor::block_on(queued);
            assert!(queued.unwrap_err().is_cancelled(), "{flavor}: the queued closure never ran");
        }
    });
}

#[test]
fn handle_spawn_blocking_uses_the_runtime_pool_from_any_thread_until_it_is_dropped() {
    bounded(|| {
        let rt = Builder::new_current_thread().thread_name("handle-pool").build().unwrap();
        let handle = rt.handle();
        let h = handle.clone();
        let job = thread::spawn(move || h.spawn_blocking(name)).join().unwrap();
        assert_eq!(futures::executor::block_on(job).unwrap().as_deref(), Some("handle-pool"));
        // Outside any runtime, the free function uses the global pool.
        let global = futures::executor::block_on(spindle_rt::spawn_blocking(name)).unwrap().unwrap();
        assert!(global.starts_with("spindle-blocking-"), "{global}");
        drop(rt);
        let late = futures::executor::block_on(handle.spawn_blocking(|| 1));
        assert!(late.unwrap_err().is_cancelled());
    });
}

#[test]
#[should_panic(expected = "max_blocking_threads must be at least 1")]
fn zero_max_blocking_threads_is_refused() {
    Builder::new_current_thread().max_blocking_threads(0);
}
