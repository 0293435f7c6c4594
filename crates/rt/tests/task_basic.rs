//! Task lifecycle: spawn, run, join; output and future drops counted exactly.

mod task_support;

use spindle_rt::task::{new_task, TaskId};
use std::task::Poll;
use task_support::{poll_once, probe, CountWaker, Counters, Sched};

#[test]
fn spawn_and_run_to_completion() {
    static C: Counters = Counters::new();
    let sched = Sched::new();
    let join = sched.spawn(probe(&C, |_, _| Poll::Ready(7)));
    assert!(!join.is_finished());
    assert_eq!(sched.run_all(), 1);
    assert!(join.is_finished());
    assert_eq!((C.polls(), C.future_drops(), C.output_drops()), (1, 1, 0));
    let out = futures::executor::block_on(join).unwrap();
    assert_eq!(out.value, 7);
    drop(out);
    assert_eq!(C.output_drops(), 1);
    assert_eq!((sched.schedules(), sched.yields(), sched.releases()), (0, 0, 1));
    assert_eq!(sched.live_cells(), 0, "the cell was freed");
}

#[test]
fn join_handle_waits_and_is_woken_once() {
    static C: Counters = Counters::new();
    let sched = Sched::new();
    let mut join = sched.spawn(probe(&C, |_, _| Poll::Ready(1)));
    let (count, waker) = CountWaker::new();
    assert!(poll_once(&mut join, &waker).is_pending());
    assert!(poll_once(&mut join, &waker).is_pending(), "same waker again: kept");
    assert_eq!(count.wakes(), 0);
    sched.run_all();
    assert_eq!(count.wakes(), 1);
    match poll_once(&mut join, &waker) {
        Poll::Ready(Ok(out)) => assert_eq!(out.value, 1),
        other => panic!("unexpected {other:?}"),
    }
    drop(join);
    assert_eq!(C.output_drops(), 1);
    drop(waker);
    assert_eq!(sched.live_cells(), 0);
    assert_eq!(std::sync::Arc::strong_count(&count), 1, "the join waker was dropped");
}

#[test]
fn join_handle_swaps_its_waker() {
    static C: Counters = Counters::new();
    let sched = Sched::new();
    let mut join = sched.spawn(probe(&C, |_, _| Poll::Ready(1)));
    let (first, w1) = CountWaker::new();
    let (second, w2) = CountWaker::new();
    assert!(poll_once(&mut join, &w1).is_pending());
    assert!(poll_once(&mut join, &w2).is_pending());
    assert_eq!(std::sync::Arc::strong_count(&first), 2, "the old waker was dropped");
    sched.run_all();
    assert_eq!((first.wakes(), second.wakes()), (0, 1));
    assert!(poll_once(&mut join, &w2).is_ready());
}

#[test]
#[should_panic(expected = "JoinHandle polled after completion")]
fn polling_join_handle_after_ready_panics() {
    static C: Counters = Counters::new();
    let sched = Sched::new();
    let mut join = sched.spawn(probe(&C, |_, _| Poll::Ready(1)));
    sched.run_all();
    let (_count, waker) = CountWaker::new();
    assert!(poll_once(&mut join, &waker).is_ready());
    let _ = poll_once(&mut join, &waker);
}

#[test]
fn join_handle_dropped_early_detaches() {
    static C: Counters = Counters::new();
    let sched = Sched::new();
    drop(sched.spawn(probe(&C, |n, cx| {
        if n == 1 {
            cx.waker().wake_by_ref();
            Poll::Pending
        } else {
            Poll::Ready(3)
        }
    })));
    assert_eq!(sched.run_all(), 2, "the task still runs to completion");
    assert_eq!((C.polls(), C.future_drops(), C.output_drops()), (2, 1, 1), "runner dropped the output");
    assert_eq!(sched.live_cells(), 0);
}

#[test]
fn join_handle_dropped_after_completion_drops_output() {
    static C: Counters = Counters::new();
    let sched = Sched::new();
    let join = sched.spawn(probe(&C, |_, _| Poll::Ready(3)));
    sched.run_all();
    assert_eq!(C.output_drops(), 0, "kept for the JoinHandle");
    drop(join);
    assert_eq!(C.output_drops(), 1);
    assert_eq!(sched.live_cells(), 0);
}

#[test]
fn release_hands_back_the_owned_task() {
    static C: Counters = Counters::new();
    let sched = Sched::with_owned(true);
    let join = sched.spawn(probe(&C, |_, _| Poll::Ready(5)));
    assert_eq!(sched.0.owned.lock().unwrap().len(), 1);
    sched.run_all();
    assert_eq!(sched.0.owned.lock().unwrap().len(), 0, "released");
    assert_eq!(sched.releases(), 1);
    assert_eq!(futures::executor::block_on(join).unwrap().value, 5);
    assert_eq!(sched.live_cells(), 0);
}

#[test]
fn handles_report_id_and_spawn_location() {
    let sched = Sched::new();
    let id = TaskId::next();
    let line = line!() + 1;
    let (task, notified, join) = new_task(async { 1 }, sched.clone(), id);
    assert_eq!((task.id(), notified.id(), join.id()), (id, id, id));
    assert_eq!(task.spawned_at().line(), line);
    assert!(task.spawned_at().file().ends_with("task_basic.rs"));
    assert!(TaskId::next().as_u64() > id.as_u64());
    assert!(!task.is_finished());
    notified.run();
    assert!(task.is_finished() && join.is_finished());
    assert_eq!(futures::executor::block_on(join).unwrap(), 1);
    drop(task);
    assert_eq!(sched.live_cells(), 0);
}

#[test]
fn spawn_location_follows_track_caller() {
    static C: Counters = Counters::new();
    let sched = Sched::with_owned(true);
    let line = line!() + 1;
    let _join = sched.spawn(probe(&C, |_, _| Poll::Ready(0)));
    assert_eq!(sched.0.owned.lock().unwrap()[0].spawned_at().line(), line);
    sched.shutdown();
}

#[test]
fn async_blocks_and_many_tasks() {
    let sched = Sched::with_owned(true);
    let joins: Vec<_> = (0..100u64)
        .map(|i| {
            sched.spawn(async move {
                futures::future::ready(()).await;
                i * 2
            })
        })
        .collect();
    assert_eq!(sched.run_all(), 100);
    for (i, join) in joins.into_iter().enumerate() {
        assert_eq!(futures::executor::block_on(join).unwrap(), i as u64 * 2);
    }
    assert_eq!(sched.releases(), 100);
    assert_eq!(sched.live_cells(), 0);
}

#[test]
fn join_handle_awaited_from_another_task() {
    let sched = Sched::new();
    let inner = sched.spawn(async { 20 });
    let outer = sched.spawn(async move { inner.await.unwrap() + 1 });
    sched.run_all();
    assert_eq!(futures::executor::block_on(outer).unwrap(), 21);
    assert_eq!(sched.live_cells(), 0);
}

#[test]
fn handles_are_send_where_they_should_be() {
    fn send<T: Send>() {}
    fn send_sync<T: Send + Sync>() {}
    send_sync::<spindle_rt::task::JoinHandle<u32>>();
    send_sync::<spindle_rt::task::Task<Sched>>();
    send::<spindle_rt::task::Notified<Sched>>();
    send_sync::<spindle_rt::task::JoinError>();
    send_sync::<TaskId>();
}
