//! Random interleavings of one task's operations (run, wakes, abort,
//! joining, detaching, shutdown) on the test scheduler. After every step a
//! task is queued at most once; at the end the future and the output have
//! each been dropped exactly once (if made) and the cell is freed.

mod task_support;

use proptest::prelude::*;
use spindle_rt::task::{new_task, TaskId};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use task_support::{poll_once, probe, CountWaker, Counters, Sched, WakerSlot};

#[derive(Debug, Clone, Copy)]
enum Op {
    RunOne,
    WakeByRef,
    WakeByVal,
    MakeReady,
    Abort,
    PollJoin,
    DropJoin,
    Shutdown,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::RunOne),
        2 => Just(Op::WakeByRef),
        2 => Just(Op::WakeByVal),
        2 => Just(Op::MakeReady),
        1 => Just(Op::Abort),
        2 => Just(Op::PollJoin),
        1 => Just(Op::DropJoin),
        1 => Just(Op::Shutdown),
    ]
}

static C: Counters = Counters::new();

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn any_sequence_keeps_the_invariants(ops in proptest::collection::vec(op(), 0..24)) {
        C.polls.store(0, SeqCst);
        C.future_drops.store(0, SeqCst);
        C.output_drops.store(0, SeqCst);
        let sched = Sched::new();
        let ready = Arc::new(AtomicBool::new(false));
        let slot: WakerSlot = Arc::new(Mutex::new(None));
        let (r2, s2) = (ready.clone(), slot.clone());
        let (task, notified, join) = new_task(
            probe(&C, move |_, cx| {
                *s2.lock().unwrap() = Some(cx.waker().clone());
                if r2.load(SeqCst) { Poll::Ready(1) } else { Poll::Pending }
            }),
            sched.clone(),
            TaskId::next(),
        );
        sched.0.queue.lock().unwrap().push_back(notified);
        let mut task = Some(task);
        let mut join = Some(join);
        let mut joined = false;
        let (_count, join_waker) = CountWaker::new();

        for op in ops {
            match op {
                Op::RunOne => {
                    let next = sched.0.queue.lock().unwrap().pop_front();
                    if let Some(n) = next { n.run() }
                }
                Op::WakeByRef => {
                    let w = slot.lock().unwrap().clone();
                    if let Some(w) = w { w.wake_by_ref() }
                }
                Op::WakeByVal => {
                    let w = slot.lock().unwrap().clone();
                    if let Some(w) = w { w.wake() }
                }
                Op::MakeReady => ready.store(true, SeqCst),
                Op::Abort => if let Some(j) = &join { j.abort() },
                Op::PollJoin => {
                    if let Some(j) = join.as_mut().filter(|_| !joined) {
                        if let Poll::Ready(res) = poll_once(j, &join_waker) {
                            joined = true;
                            drop(res);
                        }
                    }
                }
                Op::DropJoin => join = None,
                Op::Shutdown => if let Some(t) = task.take() { t.shutdown() },
            }
            prop_assert!(sched.queued() <= 1, "queued twice");
            prop_assert!(C.future_drops() <= 1);
            prop_assert!(C.output_drops() <= 1);
        }
        // Wind down as a runtime would: shut down, drain, drop everything.
        if let Some(t) = task.take() { t.shutdown() }
        sched.run_all();
        prop_assert_eq!(C.future_drops(), 1);
        if let Some(j) = join.take() {
            if !joined { drop(futures::executor::block_on(j)) }
        }
        drop(slot.lock().unwrap().take());
        prop_assert!(C.output_drops() <= 1);
        prop_assert_eq!(sched.live_cells(), 0, "the cell was freed");
        prop_assert!(sched.schedules() <= C.polls() + 2, "a schedule per notification at most");
    }
}
