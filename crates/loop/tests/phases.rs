//! The iteration order, run modes, handle liveness and close callbacks.

use spindle_loop::{Interest, Loop, RunMode};
use std::cell::RefCell;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::Duration;

type Log = Rc<RefCell<Vec<&'static str>>>;

fn push(l: &Log, s: &'static str) {
    l.borrow_mut().push(s);
}

#[test]
fn one_iteration_runs_phases_in_libuv_order() {
    let mut lp = Loop::new().unwrap();
    let seen: Log = Rc::default();
    let (a, mut b) = UnixStream::pair().unwrap();
    b.write_all(b"x").unwrap();

    let s = seen.clone();
    lp.timer_once(Duration::ZERO, move |_, _| push(&s, "timer")).unwrap();
    let idle = lp.idle_new();
    let s = seen.clone();
    lp.phase_start(idle, move |lp, id| {
        push(&s, "idle");
        lp.close(id, None);
    })
    .unwrap();
    let prep = lp.prepare_new();
    let s = seen.clone();
    lp.phase_start(prep, move |lp, id| {
        push(&s, "prepare");
        lp.close(id, None);
    })
    .unwrap();
    let s = seen.clone();
    lp.io_start(a.as_raw_fd(), Interest::READABLE, move |lp, id, _| {
        push(&s, "poll");
        lp.close(id.handle(), None);
    })
    .unwrap();
    let check = lp.check_new();
    let s = seen.clone();
    lp.phase_start(check, move |lp, id| {
        push(&s, "check");
        let s2 = s.clone();
        lp.close(id, Some(Box::new(move |_, _| push(&s2, "close"))));
    })
    .unwrap();

    lp.update_time();
    lp.run(RunMode::Once).unwrap();
    assert_eq!(*seen.borrow(), vec!["timer", "idle", "prepare", "poll", "check", "close"]);
    assert!(!lp.alive());
}

#[test]
fn nowait_does_not_block_and_reports_liveness() {
    let mut lp = Loop::new().unwrap();
    let t = lp.timer_once(Duration::from_secs(3600), |_, _| {}).unwrap();
    // NoWait must return at once although a timer is pending.
    assert!(lp.run(RunMode::NoWait).unwrap());
    lp.unref(t.handle());
    assert!(!lp.alive());
    assert!(!lp.run(RunMode::Default).unwrap(), "an unref'd timer does not keep the loop alive");
    lp.ref_handle(t.handle());
    assert!(lp.alive());
    lp.close(t.handle(), None);
    assert!(!lp.run(RunMode::Default).unwrap());
}

#[test]
fn stop_returns_after_the_current_iteration() {
    let mut lp = Loop::new().unwrap();
    let n = Rc::new(RefCell::new(0));
    let c = n.clone();
    let idle = lp.idle_new();
    lp.phase_start(idle, move |lp, _| {
        *c.borrow_mut() += 1;
        if *c.borrow() == 3 {
            lp.stop();
        }
    })
    .unwrap();
    assert!(lp.run(RunMode::Default).unwrap(), "still alive: the idle handle is active");
    assert_eq!(*n.borrow(), 3);
}

#[test]
fn a_callback_that_stops_another_watcher_suppresses_its_stale_event() {
    let mut lp = Loop::new().unwrap();
    let seen: Log = Rc::default();
    let (a1, mut b1) = UnixStream::pair().unwrap();
    let (a2, mut b2) = UnixStream::pair().unwrap();
    b1.write_all(b"1").unwrap();
    b2.write_all(b"2").unwrap();

    // Whichever of the two runs first stops the other; both are ready in the
    // same batch, so the second event is stale and must be dropped.
    let ids = Rc::new(RefCell::new(Vec::new()));
    for (fd, name) in [(a1.as_raw_fd(), "one"), (a2.as_raw_fd(), "two")] {
        let s = seen.clone();
        let ids2 = ids.clone();
        let id = lp
            .io_start(fd, Interest::READABLE, move |lp, me, _| {
                push(&s, name);
                for other in ids2.borrow().iter().copied() {
                    lp.close(other, None);
                }
                let _ = me;
            })
            .unwrap();
        ids.borrow_mut().push(id.handle());
    }
    lp.run(RunMode::Default).unwrap();
    assert_eq!(seen.borrow().len(), 1, "only one watcher ran: {:?}", seen.borrow());
}

#[test]
fn interest_changes_are_masked_at_dispatch() {
    let mut lp = Loop::new().unwrap();
    let (a, _b) = UnixStream::pair().unwrap();
    let writable = Rc::new(RefCell::new(0));
    let w = writable.clone();
    let id = lp
        .io_start(a.as_raw_fd(), Interest::WRITABLE, move |lp, id, ev| {
            assert!(ev.is_writable());
            *w.borrow_mut() += 1;
            // Switch to read interest: no further writable events may arrive.
            lp.io_set_interest(id, Interest::READABLE).unwrap();
        })
        .unwrap();
    for _ in 0..5 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(*writable.borrow(), 1);
    lp.close(id.handle(), None);
    lp.run(RunMode::Default).unwrap();
}

#[test]
fn io_watcher_bad_input_gives_clear_errors() {
    let mut lp = Loop::new().unwrap();
    let err = lp.io_start(-1, Interest::READABLE, |_, _, _| {}).unwrap_err();
    assert!(err.to_string().contains("not open"), "{err}");
    let (a, _b) = UnixStream::pair().unwrap();
    let id = lp.io_start(a.as_raw_fd(), Interest::READABLE, |_, _, _| {}).unwrap();
    let err = lp.io_start(a.as_raw_fd(), Interest::READABLE, |_, _, _| {}).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
    lp.close(id.handle(), None);
    // The failed starts left no live handle behind.
    assert!(!lp.run(RunMode::Default).unwrap());
    assert!(lp.handles().is_empty());
}

#[test]
fn close_callbacks_run_once_and_closing_twice_is_harmless() {
    let mut lp = Loop::new().unwrap();
    let n = Rc::new(RefCell::new(0));
    let t = lp.timer_once(Duration::from_secs(3600), |_, _| {}).unwrap();
    let c = n.clone();
    lp.close(t.handle(), Some(Box::new(move |_, _| *c.borrow_mut() += 1)));
    let c = n.clone();
    lp.close(t.handle(), Some(Box::new(move |_, _| *c.borrow_mut() += 10)));
    assert!(lp.is_closing(t.handle()));
    lp.run(RunMode::Default).unwrap();
    assert_eq!(*n.borrow(), 1);
}

#[test]
fn lag_monitor_names_the_callback_that_blocked() {
    let mut lp = Loop::new().unwrap();
    let reports = Rc::new(RefCell::new(Vec::new()));
    let r = reports.clone();
    lp.set_lag_monitor(Duration::from_millis(20), move |rep| r.borrow_mut().push(rep.clone()));
    let t = lp.timer_new();
    lp.set_name(t.handle(), "slow-report");
    lp.timer_start(t, Duration::ZERO, None, |_, _| {
        // Busy-wait (not sleep): this test is about a callback hogging the loop.
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_millis(40) {
            std::hint::spin_loop();
        }
    })
    .unwrap();
    lp.timer_once(Duration::ZERO, |_, _| {}).unwrap();
    lp.run(RunMode::Default).unwrap();
    let reports = reports.borrow();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].name, "slow-report");
    assert!(reports[0].held >= Duration::from_millis(40));
    assert_eq!(lp.lag_stats().slow_callbacks, 1);
}

#[test]
fn async_sends_from_many_threads_coalesce_and_wake_the_loop() {
    let mut lp = Loop::new().unwrap();
    let runs = Rc::new(RefCell::new(0));
    let r = runs.clone();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let d = done.clone();
    let h = lp
        .async_new(move |lp, id| {
            *r.borrow_mut() += 1;
            if d.load(std::sync::atomic::Ordering::Acquire) == 4 {
                lp.close(id, None);
            }
        })
        .unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let h = h.clone();
            let d = done.clone();
            std::thread::spawn(move || {
                for _ in 0..1000 {
                    h.send();
                }
                d.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                h.send();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let guard = lp.timer_once(Duration::from_secs(10), |_, _| panic!("async never ran")).unwrap();
    lp.unref(guard.handle());
    lp.run(RunMode::Default).unwrap();
    assert!(*runs.borrow() >= 1 && *runs.borrow() <= 4001, "ran {} times", runs.borrow());
}
