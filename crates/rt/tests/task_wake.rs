//! Waking: exactly one schedule per notification.

// Waking a clone by value is deliberate here: it exercises the by-value path.
#![allow(clippy::waker_clone_wake)]

mod task_support;

use std::sync::{Arc, Mutex};
use std::task::Poll;
use task_support::{probe, Counters, Sched, WakerSlot};

#[test]
fn wake_during_poll_reschedules_once() {
    static C: Counters = Counters::new();
    let sched = Sched::new();
    let join = sched.spawn(probe(&C, |n, cx| {
        if n == 1 {
            // Woken three times during its own poll, twice by clones.
            cx.waker().wake_by_ref();
            cx.waker().clone().wake();
            cx.waker().clone().wake();
            Poll::Pending
        } else {
            Poll::Ready(2)
        }
    }));
    let first = sched.0.queue.lock().unwrap().pop_front().unwrap();
    first.run();
    assert_eq!(C.polls(), 1);
    assert_eq!((sched.queued(), sched.yields(), sched.schedules()), (1, 1, 0), "pushed once, by the runner");
    sched.run_all();
    assert_eq!(C.polls(), 2);
    assert_eq!(futures::executor::block_on(join).unwrap().value, 2);
    assert_eq!(sched.live_cells(), 0);
}

#[test]
fn many_wakes_coalesce_into_one_schedule() {
    static C: Counters = Counters::new();
    let sched = Sched::new();
    let slot: WakerSlot = Arc::new(Mutex::new(None));
    let s2 = slot.clone();
    let join = sched.spawn(probe(&C, move |n, cx| {
        if n == 1 {
            *s2.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        } else {
            Poll::Ready(9)
        }
    }));
    sched.run_all();
    assert_eq!((C.polls(), sched.queued()), (1, 0));
    let waker = slot.lock().unwrap().take().unwrap();
    for _ in 0..10 {
        waker.wake_by_ref();
        waker.clone().wake();
    }
    assert_eq!((sched.schedules(), sched.queued()), (1, 1));
    sched.run_all();
    assert_eq!(C.polls(), 2);
    // A wake after completion does nothing.
    waker.wake_by_ref();
    assert_eq!((sched.schedules(), sched.queued()), (1, 0));
    assert_eq!(sched.live_cells(), 1, "the waker keeps the cell alive");
    drop(join);
    assert_eq!(C.output_drops(), 1);
    waker.wake();
    assert_eq!(sched.live_cells(), 0, "the last waker freed the cell");
}

#[test]
fn waker_outlives_every_other_handle() {
    static C: Counters = Counters::new();
    let sched = Sched::new();
    let slot: WakerSlot = Arc::new(Mutex::new(None));
    let s2 = slot.clone();
    drop(sched.spawn(probe(&C, move |_, cx| {
        *s2.lock().unwrap() = Some(cx.waker().clone());
        Poll::Ready(0)
    })));
    sched.run_all();
    assert_eq!((C.future_drops(), C.output_drops()), (1, 1));
    let waker = slot.lock().unwrap().take().unwrap();
    assert_eq!(sched.live_cells(), 1);
    let w2 = waker.clone();
    assert!(w2.will_wake(&waker));
    drop(waker);
    w2.wake_by_ref();
    assert_eq!(sched.schedules(), 0);
    drop(w2);
    assert_eq!(sched.live_cells(), 0);
}

#[test]
fn wake_from_another_thread() {
    static C: Counters = Counters::new();
    let sched = Sched::new();
    let slot: WakerSlot = Arc::new(Mutex::new(None));
    let s2 = slot.clone();
    let join = sched.spawn(probe(&C, move |n, cx| {
        if n < 100 {
            *s2.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        } else {
            Poll::Ready(n as u32)
        }
    }));
    sched.run_all();
    // Another thread wakes; this thread runs whatever gets queued.
    let waker = slot.lock().unwrap().take().unwrap();
    let t = std::thread::spawn({
        let slot = slot.clone();
        move || {
            waker.wake();
            for _ in 0..98 {
                loop {
                    if let Some(w) = slot.lock().unwrap().take() {
                        w.wake();
                        break;
                    }
                    std::thread::yield_now();
                }
            }
        }
    });
    while !join.is_finished() {
        if sched.run_all() == 0 {
            std::thread::yield_now();
        }
    }
    t.join().unwrap();
    assert_eq!(C.polls(), 100);
    assert_eq!(futures::executor::block_on(join).unwrap().value, 100);
    assert_eq!(sched.live_cells(), 0);
}
