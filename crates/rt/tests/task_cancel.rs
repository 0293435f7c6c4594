//! Abort, runtime shutdown and panics.

mod task_support;

use std::sync::{Arc, Mutex};
use std::task::Poll;
use task_support::{probe, CountWaker, Counters, Sched, WakerSlot};

#[test]
fn abort_before_run_drops_future_unpolled() {
    static C: Counters = Counters::new();
    let sched = Sched::new();
    let join = sched.spawn(probe(&C, |_, _| Poll::Ready(1)));
    join.abort();
    assert_eq!(sched.schedules(), 0, "already queued: no second push");
    sched.run_all();
    assert_eq!((C.polls(), C.future_drops()), (0, 1));
    let err = futures::executor::block_on(join).unwrap_err();
    assert!(err.is_cancelled() && !err.is_panic());
    assert!(err.to_string().contains("cancelled"));
    assert_eq!(sched.live_cells(), 0);
}

#[test]
fn abort_idle_task_schedules_it_once() {
    static C: Counters = Counters::new();
    let sched = Sched::new();
    let join = sched.spawn(probe(&C, |_, _| Poll::Pending));
    sched.run_all();
    join.abort();
    join.abort();
    assert_eq!((sched.schedules(), sched.queued(), C.future_drops()), (1, 1, 0), "dropped by the runner");
    sched.run_all();
    assert_eq!((C.polls(), C.future_drops()), (1, 1));
    assert!(futures::executor::block_on(join).unwrap_err().is_cancelled());
    assert_eq!(sched.live_cells(), 0);
}

#[test]
fn abort_from_inside_the_poll_cancels_after_it() {
    static C: Counters = Counters::new();
    let sched = Sched::new();
    let handle = Arc::new(Mutex::new(None));
    let h2 = handle.clone();
    let join = sched.spawn(probe(&C, move |_, _| {
        let guard = h2.lock().unwrap();
        let join: &spindle_rt::task::JoinHandle<task_support::Output> = guard.as_ref().unwrap();
        join.abort();
        assert_eq!(C.future_drops(), 0, "not dropped during its own poll");
        Poll::Pending
    }));
    *handle.lock().unwrap() = Some(join);
    sched.run_all();
    assert_eq!((C.polls(), C.future_drops(), sched.queued()), (1, 1, 0));
    let join = handle.lock().unwrap().take().unwrap();
    assert!(join.is_finished());
    assert!(futures::executor::block_on(join).unwrap_err().is_cancelled());
    assert_eq!(sched.live_cells(), 0);
}

#[test]
fn abort_after_completion_keeps_the_output() {
    static C: Counters = Counters::new();
    let sched = Sched::new();
    let join = sched.spawn(probe(&C, |_, _| Poll::Ready(4)));
    sched.run_all();
    join.abort();
    assert_eq!(sched.schedules(), 0);
    assert_eq!(futures::executor::block_on(join).unwrap().value, 4);
}

#[test]
fn abort_wakes_the_joiner() {
    static C: Counters = Counters::new();
    let sched = Sched::new();
    let mut join = sched.spawn(probe(&C, |_, _| Poll::Pending));
    sched.run_all();
    let (count, waker) = CountWaker::new();
    assert!(task_support::poll_once(&mut join, &waker).is_pending());
    join.abort();
    sched.run_all();
    assert_eq!(count.wakes(), 1);
    match task_support::poll_once(&mut join, &waker) {
        Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn panic_surfaces_through_join_handle() {
    static C: Counters = Counters::new();
    let sched = Sched::new();
    let join = sched.spawn(probe(&C, |_, _| panic!("boom")));
    let other = sched.spawn(async { 5 });
    assert_eq!(sched.run_all(), 2, "the scheduler keeps running");
    assert_eq!((C.polls(), C.future_drops(), C.output_drops()), (1, 1, 0));
    let err = futures::executor::block_on(join).unwrap_err();
    assert!(err.is_panic() && !err.is_cancelled());
    assert!(err.to_string().contains("boom"), "{err}");
    let payload = err.into_panic();
    assert_eq!(*payload.downcast_ref::<&str>().unwrap(), "boom");
    assert_eq!(futures::executor::block_on(other).unwrap(), 5);
    assert_eq!(sched.live_cells(), 0);
}

#[test]
fn panic_with_join_handle_dropped() {
    static C: Counters = Counters::new();
    let sched = Sched::new();
    drop(sched.spawn(probe(&C, |_, _| panic!("{}", String::from("formatted")))));
    sched.run_all();
    assert_eq!(C.future_drops(), 1);
    assert_eq!(sched.live_cells(), 0);
}

struct PanicOnDrop;
impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("drop panicked");
    }
}

#[test]
fn panicking_destructor_on_cancel_is_a_panic_error() {
    let sched = Sched::new();
    let guard = PanicOnDrop;
    let join = sched.spawn(async move {
        let _g = guard;
        std::future::pending::<()>().await;
    });
    join.abort();
    sched.run_all();
    let err = futures::executor::block_on(join).unwrap_err();
    assert!(err.is_panic());
    assert!(err.try_into_panic().is_ok());
    assert_eq!(sched.live_cells(), 0);
}

#[test]
fn shutdown_cancels_idle_tasks_and_drops_futures() {
    static C: Counters = Counters::new();
    let sched = Sched::with_owned(true);
    let slot: WakerSlot = Arc::new(Mutex::new(None));
    let s2 = slot.clone();
    let idle = sched.spawn(probe(&C, move |_, cx| {
        *s2.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    }));
    sched.run_all();
    static Q: Counters = Counters::new();
    let queued = sched.spawn(probe(&Q, |_, _| Poll::Ready(1)));
    sched.shutdown();
    assert_eq!((C.polls(), C.future_drops()), (1, 1));
    assert_eq!((Q.polls(), Q.future_drops()), (0, 1));
    assert_eq!(sched.releases(), 2);
    assert!(futures::executor::block_on(idle).unwrap_err().is_cancelled());
    assert!(futures::executor::block_on(queued).unwrap_err().is_cancelled());
    // The future's waker still wakes nothing.
    slot.lock().unwrap().take().unwrap().wake();
    assert_eq!((sched.schedules(), sched.queued()), (0, 0));
    assert_eq!(sched.live_cells(), 0);
}

#[test]
fn shutdown_then_stale_notified_run_is_a_no_op() {
    static C: Counters = Counters::new();
    let sched = Sched::with_owned(true);
    let join = sched.spawn(probe(&C, |_, _| Poll::Ready(1)));
    let owned: Vec<_> = std::mem::take(&mut *sched.0.owned.lock().unwrap());
    for task in owned {
        task.shutdown();
    }
    assert_eq!(C.future_drops(), 1);
    assert_eq!(sched.run_all(), 1, "the queued Notified runs and finds COMPLETE");
    assert_eq!(C.polls(), 0);
    assert!(futures::executor::block_on(join).unwrap_err().is_cancelled());
    assert_eq!(sched.live_cells(), 0);
}

#[test]
fn shutdown_of_completed_task_keeps_output() {
    static C: Counters = Counters::new();
    let sched = Sched::new();
    let (task, notified, join) = spindle_rt::task::new_task(
        probe(&C, |_, _| Poll::Ready(8)),
        sched.clone(),
        spindle_rt::task::TaskId::next(),
    );
    notified.run();
    task.shutdown();
    assert_eq!(futures::executor::block_on(join).unwrap().value, 8);
    assert_eq!(C.output_drops(), 1);
    assert_eq!(sched.live_cells(), 0);
}

#[test]
fn dropping_notified_unrun_then_shutdown() {
    static C: Counters = Counters::new();
    let sched = Sched::new();
    let (task, notified, join) = spindle_rt::task::new_task(
        probe(&C, |_, _| Poll::Ready(8)),
        sched.clone(),
        spindle_rt::task::TaskId::next(),
    );
    drop(notified);
    assert_eq!(C.future_drops(), 0);
    task.shutdown();
    assert_eq!((C.polls(), C.future_drops()), (0, 1));
    drop(join);
    assert_eq!(sched.live_cells(), 0);
}
