//! Timers: ordering, repeat, stop/again, overflow, and a million of them.

mod common;
use common::guard;
use spindle_loop::{Loop, RunMode};
use std::cell::RefCell;
use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};

type Log = Rc<RefCell<Vec<u32>>>;

fn log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

#[test]
fn equal_deadlines_fire_in_start_order_and_earlier_first() {
    let mut lp = Loop::new().unwrap();
    let seen = log();
    for (i, ms) in [(1, 5), (2, 1), (3, 5), (4, 1), (5, 3)] {
        let s = seen.clone();
        lp.timer_once(Duration::from_millis(ms), move |_, _| s.borrow_mut().push(i)).unwrap();
    }
    guard(&mut lp, Duration::from_secs(10));
    assert!(!lp.run(RunMode::Default).unwrap());
    assert_eq!(*seen.borrow(), vec![2, 4, 5, 1, 3]);
}

#[test]
fn timer_does_not_fire_early() {
    let mut lp = Loop::new().unwrap();
    let start = Instant::now();
    let fired = Rc::new(RefCell::new(None));
    let f = fired.clone();
    lp.timer_once(Duration::from_millis(20), move |_, _| *f.borrow_mut() = Some(Instant::now())).unwrap();
    lp.run(RunMode::Default).unwrap();
    let at = fired.borrow().expect("timer fired");
    assert!(at - start >= Duration::from_millis(20), "fired after {:?}", at - start);
}

#[test]
fn repeating_timer_stops_itself_and_the_loop_ends() {
    let mut lp = Loop::new().unwrap();
    let count = Rc::new(RefCell::new(0));
    let c = count.clone();
    let t = lp.timer_new();
    lp.timer_start(t, Duration::ZERO, Some(Duration::from_millis(1)), move |lp, t| {
        *c.borrow_mut() += 1;
        if *c.borrow() == 5 {
            lp.timer_stop(t);
        }
    })
    .unwrap();
    guard(&mut lp, Duration::from_secs(10));
    lp.run(RunMode::Default).unwrap();
    assert_eq!(*count.borrow(), 5);
    assert!(!lp.is_active(t.handle()));
}

#[test]
fn a_zero_timer_started_by_a_timer_waits_for_the_next_iteration() {
    let mut lp = Loop::new().unwrap();
    let seen = log();
    let s = seen.clone();
    lp.timer_once(Duration::ZERO, move |lp, _| {
        s.borrow_mut().push(1);
        let s2 = s.clone();
        lp.timer_once(Duration::ZERO, move |_, _| s2.borrow_mut().push(2)).unwrap();
    })
    .unwrap();
    lp.run(RunMode::NoWait).unwrap();
    assert_eq!(*seen.borrow(), vec![1], "the new timer must not run in the same timers phase");
    lp.run(RunMode::Default).unwrap();
    assert_eq!(*seen.borrow(), vec![1, 2]);
}

#[test]
fn stopping_a_later_timer_from_an_earlier_one_in_the_same_batch() {
    let mut lp = Loop::new().unwrap();
    let seen = log();
    let second = lp.timer_new();
    let s = seen.clone();
    lp.timer_once(Duration::ZERO, move |lp, _| {
        s.borrow_mut().push(1);
        lp.timer_stop(second);
    })
    .unwrap();
    let s = seen.clone();
    lp.timer_start(second, Duration::ZERO, None, move |_, _| s.borrow_mut().push(2)).unwrap();
    lp.run(RunMode::Default).unwrap();
    assert_eq!(*seen.borrow(), vec![1]);
}

#[test]
fn restart_moves_the_deadline_and_again_uses_repeat() {
    let mut lp = Loop::new().unwrap();
    let t = lp.timer_new();
    lp.timer_start(t, Duration::from_secs(3600), Some(Duration::from_secs(7200)), |_, _| {}).unwrap();
    assert!(lp.timer_due_in(t).unwrap() > Duration::from_secs(3500));
    lp.timer_again(t).unwrap();
    assert!(lp.timer_due_in(t).unwrap() > Duration::from_secs(7100));
    lp.timer_stop(t);
    assert_eq!(lp.timer_due_in(t), None);
    lp.close(t.handle(), None);
    lp.run(RunMode::Default).unwrap();
}

#[test]
fn overflowing_durations_are_refused_and_the_loop_keeps_working() {
    let mut lp = Loop::new().unwrap();
    let t = lp.timer_new();
    let err = lp.timer_start(t, Duration::MAX, None, |_, _| {}).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("overflows"), "{err}");
    let err = lp.timer_start(t, Duration::ZERO, Some(Duration::MAX), |_, _| {}).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert!(!lp.is_active(t.handle()));
    assert!(lp.timer_once(Duration::from_secs(u64::MAX), |_, _| {}).is_err());
    let fired = Rc::new(RefCell::new(false));
    let f = fired.clone();
    lp.timer_start(t, Duration::ZERO, None, move |_, _| *f.borrow_mut() = true).unwrap();
    lp.run(RunMode::Default).unwrap();
    assert!(*fired.borrow());
}

#[test]
fn closed_timer_ids_are_stale() {
    let mut lp = Loop::new().unwrap();
    let t = lp.timer_new();
    lp.close(t.handle(), None);
    lp.run(RunMode::Default).unwrap();
    let err = lp.timer_start(t, Duration::ZERO, None, |_, _| {}).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
    // The slot is reused by a new timer; the old id must not reach it.
    let t2 = lp.timer_new();
    assert_ne!(t, t2);
    lp.timer_stop(t);
    lp.close(t2.handle(), None);
    lp.run(RunMode::Default).unwrap();
}

#[test]
fn a_million_timers_insert_cancel_and_expire() {
    const N: usize = 1_000_000;
    let mut lp = Loop::new().unwrap();
    let fired = Rc::new(RefCell::new(0usize));
    let mut ids = Vec::with_capacity(N);
    for i in 0..N {
        let f = fired.clone();
        let t = lp.timer_new();
        lp.timer_start(t, Duration::from_micros((i % 1000) as u64), None, move |_, _| *f.borrow_mut() += 1)
            .unwrap();
        ids.push(t);
    }
    // Cancel every other one, then let the rest expire.
    for t in ids.iter().step_by(2) {
        lp.timer_stop(*t);
    }
    guard(&mut lp, Duration::from_secs(60));
    lp.run(RunMode::Default).unwrap();
    assert_eq!(*fired.borrow(), N / 2);
}

#[test]
fn restarting_one_timer_many_times_does_not_fire_it_more_than_once() {
    let mut lp = Loop::new().unwrap();
    let fired = Rc::new(RefCell::new(0));
    let t = lp.timer_new();
    for _ in 0..100_000 {
        let f = fired.clone();
        lp.timer_start(t, Duration::from_millis(1), None, move |_, _| *f.borrow_mut() += 1).unwrap();
    }
    lp.run(RunMode::Default).unwrap();
    assert_eq!(*fired.borrow(), 1);
}
