//! The blocking-work pool: where work and after run, many requests,
//! cancellation, panics, and the pool size from `SPINDLE_THREADPOOL_SIZE`.

mod common;
use common::run_bounded;
use spindle_loop::Loop;
use std::cell::{Cell, RefCell};
use std::io::ErrorKind;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// A one-shot gate a pool thread can wait on, with a bound.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    cv: Condvar,
}

impl Gate {
    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.cv.notify_all();
    }
    /// Waits until opened; false after 10 s.
    fn wait(&self) -> bool {
        let g = self.open.lock().unwrap();
        let (g, _) = self.cv.wait_timeout_while(g, Duration::from_secs(10), |open| !*open).unwrap();
        *g
    }
}

#[test]
fn work_runs_off_thread_and_after_on_the_loop_thread() {
    let mut lp = Loop::new().unwrap();
    let loop_thread = std::thread::current().id();
    let seen = Rc::new(Cell::new(false));
    let s = seen.clone();
    lp.queue_work(
        || (std::thread::current().id(), std::thread::current().name().map(str::to_owned)),
        move |lp, r| {
            let (work_thread, name) = r.unwrap();
            assert_ne!(work_thread, loop_thread);
            assert!(name.unwrap().starts_with("spindle-pool-"));
            assert_eq!(std::thread::current().id(), loop_thread);
            // `after` may use the loop: start (and close) a handle.
            let t = lp.timer_new();
            lp.close(t.handle(), None);
            s.set(true);
        },
    );
    assert!(lp.alive(), "an outstanding request keeps the loop alive");
    run_bounded(&mut lp);
    assert!(seen.get());
}

#[test]
fn a_hundred_requests_all_complete() {
    let mut lp = Loop::new().unwrap();
    let results = Rc::new(RefCell::new(Vec::new()));
    for i in 0..100u64 {
        let r = results.clone();
        lp.queue_work(move || i * i, move |_, v| r.borrow_mut().push(v.unwrap()));
    }
    run_bounded(&mut lp);
    let mut got = results.borrow().clone();
    got.sort_unstable();
    assert_eq!(got, (0..100u64).map(|i| i * i).collect::<Vec<_>>());
}

#[test]
fn cancel_before_start_reports_interrupted() {
    let mut lp = Loop::new().unwrap();
    let size = lp.threadpool_size();
    // Occupy every pool thread so the next request cannot start.
    let gate = Arc::new(Gate::default());
    let started = Arc::new(AtomicUsize::new(0));
    let blockers_done = Rc::new(Cell::new(0));
    for _ in 0..size {
        let (g, s) = (gate.clone(), started.clone());
        let d = blockers_done.clone();
        lp.queue_work(
            move || {
                s.fetch_add(1, Ordering::SeqCst);
                g.wait()
            },
            move |_, r| {
                assert!(r.unwrap(), "gate timed out");
                d.set(d.get() + 1);
            },
        );
    }
    let ran = Arc::new(AtomicBool::new(false));
    let r = ran.clone();
    let outcome = Rc::new(RefCell::new(None));
    let o = outcome.clone();
    let id =
        lp.queue_work(move || r.store(true, Ordering::SeqCst), move |_, res| *o.borrow_mut() = Some(res));
    lp.cancel_work(id).unwrap();
    let again = lp.cancel_work(id).unwrap_err();
    assert_eq!(again.raw_os_error(), Some(libc::EBUSY), "{again}");
    gate.open();
    run_bounded(&mut lp);
    let err = outcome.borrow_mut().take().unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Interrupted);
    assert!(err.to_string().contains("cancelled"), "{err}");
    assert!(!ran.load(Ordering::SeqCst), "cancelled work must not run");
    assert_eq!(blockers_done.get(), size);
    let e = lp.cancel_work(id).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}

#[test]
fn cancel_fails_once_work_is_running() {
    let mut lp = Loop::new().unwrap();
    let gate = Arc::new(Gate::default());
    let running = Arc::new(Gate::default());
    let (g, r) = (gate.clone(), running.clone());
    let done = Rc::new(Cell::new(false));
    let d = done.clone();
    let id = lp.queue_work(
        move || {
            r.open();
            g.wait()
        },
        move |_, res| {
            assert!(res.unwrap());
            d.set(true);
        },
    );
    assert!(running.wait(), "work never started");
    let e = lp.cancel_work(id).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EBUSY));
    gate.open();
    run_bounded(&mut lp);
    assert!(done.get());
}

#[test]
fn a_panic_in_work_is_an_error_and_the_pool_survives() {
    let mut lp = Loop::new().unwrap();
    let errors = Rc::new(RefCell::new(Vec::new()));
    let oks = Rc::new(Cell::new(0));
    // More panics than threads: if a panic killed its thread, later work
    // would never run and the guard timer would fail the test.
    let n = lp.threadpool_size() * 2;
    for i in 0..n {
        let e = errors.clone();
        lp.queue_work(
            move || -> u32 { panic!("deliberate panic {i}") },
            move |_, r| e.borrow_mut().push(r.unwrap_err()),
        );
    }
    for _ in 0..n {
        let o = oks.clone();
        lp.queue_work(
            || 7,
            move |_, r| {
                assert_eq!(r.unwrap(), 7);
                o.set(o.get() + 1);
            },
        );
    }
    run_bounded(&mut lp);
    assert_eq!(oks.get(), n);
    let errors = errors.borrow();
    assert_eq!(errors.len(), n);
    for e in errors.iter() {
        assert_eq!(e.kind(), ErrorKind::Other);
        assert!(e.to_string().contains("deliberate panic"), "{e}");
    }
}

#[test]
fn after_may_queue_more_work() {
    let mut lp = Loop::new().unwrap();
    let total = Rc::new(Cell::new(0u32));
    fn step(lp: &mut Loop, left: u32, total: Rc<Cell<u32>>) {
        lp.queue_work(
            move || left,
            move |lp, r| {
                let left = r.unwrap();
                total.set(total.get() + 1);
                if left > 0 {
                    step(lp, left - 1, total);
                }
            },
        );
    }
    step(&mut lp, 9, total.clone());
    run_bounded(&mut lp);
    assert_eq!(total.get(), 10);
}

#[test]
fn dropping_the_loop_waits_for_running_work_and_drops_queued_work() {
    let mut lp = Loop::new().unwrap();
    let size = lp.threadpool_size();
    let gate = Arc::new(Gate::default());
    let finished = Arc::new(AtomicUsize::new(0));
    let started = Arc::new(Gate::default());
    let started_count = Arc::new(AtomicUsize::new(0));
    for _ in 0..size {
        let (g, f, s, c) = (gate.clone(), finished.clone(), started.clone(), started_count.clone());
        lp.queue_work(
            move || {
                if c.fetch_add(1, Ordering::SeqCst) + 1 == size {
                    s.open();
                }
                g.wait();
                f.fetch_add(1, Ordering::SeqCst);
            },
            |_, _| {},
        );
    }
    let queued_ran = Arc::new(AtomicBool::new(false));
    let q = queued_ran.clone();
    lp.queue_work(move || q.store(true, Ordering::SeqCst), |_, _| {});
    assert!(started.wait(), "pool threads never all started");
    // Open the gate from another thread a little later; drop must wait.
    let g = gate.clone();
    let opener = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        g.open();
    });
    let t = Instant::now();
    drop(lp);
    assert_eq!(finished.load(Ordering::SeqCst), size, "running work was waited for");
    assert!(!queued_ran.load(Ordering::SeqCst), "queued work was dropped");
    assert!(t.elapsed() < Duration::from_secs(10));
    opener.join().unwrap();
}

/// `SPINDLE_THREADPOOL_SIZE` is read from the environment, so this test runs
/// `pool_size_child` in a fresh process of this test binary with the variable
/// set; the child reports through its exit status.
#[test]
fn threadpool_size_comes_from_the_environment() {
    for (value, expect) in [("2", 2), ("1", 1), ("nonsense", 4), ("0", 1)] {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "pool_size_child", "--ignored", "--nocapture", "--test-threads=1"])
            .env("SPINDLE_THREADPOOL_SIZE", value)
            .env("SPINDLE_TEST_EXPECT_POOL", expect.to_string())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "SPINDLE_THREADPOOL_SIZE={value}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Run by `threadpool_size_comes_from_the_environment` only. Each work item
/// waits (bounded) until as many items run at once as the pool should allow,
/// so if the pool allowed more the maximum would exceed `expect`.
#[test]
#[ignore = "run in a child process by threadpool_size_comes_from_the_environment"]
fn pool_size_child() {
    let Some(expect) = std::env::var("SPINDLE_TEST_EXPECT_POOL").ok().map(|v| v.parse::<usize>().unwrap())
    else {
        return;
    };
    let mut lp = Loop::new().unwrap();
    assert_eq!(lp.threadpool_size(), expect);
    let running = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    let done = Rc::new(Cell::new(0));
    let items = expect * 3 + 1;
    for _ in 0..items {
        let (r, m, d) = (running.clone(), max.clone(), done.clone());
        lp.queue_work(
            move || {
                let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(now, Ordering::SeqCst);
                // Wait for company (bounded): overlap is then certain when
                // the pool allows it, and the last items wait out the bound
                // alone only if fewer threads exist than expected.
                let until = Instant::now() + Duration::from_millis(200);
                while r.load(Ordering::SeqCst) < expect && Instant::now() < until {
                    std::thread::yield_now();
                }
                std::thread::sleep(Duration::from_millis(5));
                r.fetch_sub(1, Ordering::SeqCst);
            },
            move |_, res| {
                res.unwrap();
                d.set(d.get() + 1);
            },
        );
    }
    run_bounded(&mut lp);
    assert_eq!(done.get(), items);
    assert_eq!(max.load(Ordering::SeqCst), expect, "most work items running at once");
    assert_eq!(lp.threadpool_size(), expect);
}
