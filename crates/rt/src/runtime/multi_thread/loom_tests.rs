//! Model checks of the two cross-thread protocols of the multi-thread
//! scheduler: a parker never loses an unpark, and a task queued while the
//! last awake worker goes to sleep is never stranded.

use super::idle::Idle;
use super::park::Parker;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

fn parker() -> Parker {
    let poller = spindle_poll::Poller::new(spindle_poll::Backend::Epoll).expect("poller");
    Parker::new(poller.waker())
}

#[test]
fn an_unpark_before_or_during_park_is_never_lost() {
    loom::model(|| {
        let p = Arc::new(parker());
        let p2 = Arc::clone(&p);
        let t = thread::spawn(move || p2.unpark());
        // Returns whether the unpark came first or while sleeping; a lost
        // unpark would leave this thread asleep, which loom reports as a
        // deadlock.
        p.park(None);
        t.join().unwrap();
    });
}

#[test]
fn two_unparks_wake_two_parks_or_coalesce() {
    loom::model(|| {
        let p = Arc::new(parker());
        let p2 = Arc::clone(&p);
        let t = thread::spawn(move || {
            p2.unpark();
        });
        p.park(None);
        t.join().unwrap();
        // The next park must block again until a new unpark.
        let p3 = Arc::clone(&p);
        let t = thread::spawn(move || p3.unpark());
        p.park(None);
        t.join().unwrap();
    });
}

#[test]
fn a_task_queued_as_the_last_worker_parks_is_never_stranded() {
    loom::model(|| {
        let idle = Arc::new(Idle::new(1));
        // Stands for the run queues: a task count published with Release,
        // as a queue's tail is.
        let queued = Arc::new(AtomicUsize::new(0));
        let (idle2, queued2) = (Arc::clone(&idle), Arc::clone(&queued));
        let worker = thread::spawn(move || {
            // The worker found no work and goes to sleep...
            idle2.transition_worker_to_parked(0, false);
            // ...after one last look at the queues.
            if queued2.load(Ordering::Acquire) > 0 {
                idle2.unpark_worker_by_id(0);
                true
            } else {
                false
            }
        });
        // A producer queues a task, then looks for a sleeper to wake.
        queued.store(1, Ordering::Release);
        let notified = idle.worker_to_notify().is_some();
        let saw_it = worker.join().unwrap();
        assert!(saw_it || notified, "the task was queued with every worker asleep and none woken");
    });
}
