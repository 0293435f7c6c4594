//! Model checks of the readiness latch under loom (`--cfg loom`): a driver
//! thread racing a task thread never loses a wake-up or a readiness edge.
//! Two threads and a handful of atomic steps each, so every interleaving is
//! explored without a preemption bound.

use super::{Direction, Readiness, ReadyEvent, ScheduledIo};
use loom::sync::Arc;
use loom::thread;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

/// A waker that counts its wake-ups. A plain `std` atomic: it is a test
/// probe read after `join`, which orders it for loom.
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting() -> (std::sync::Arc<Count>, Waker) {
    let c = std::sync::Arc::new(Count(AtomicUsize::new(0)));
    (c.clone(), Waker::from(c))
}

fn poll(io: &ScheduledIo, waker: &Waker, d: Direction) -> Poll<ReadyEvent> {
    io.poll_ready(&mut Context::from_waker(waker), d)
}

#[test]
fn loom_set_readiness_vs_poll_ready_never_loses_a_wake() {
    loom::model(|| {
        let io = Arc::new(ScheduledIo::new());
        let driver = {
            let io = io.clone();
            thread::spawn(move || io.set_readiness(Readiness::READABLE))
        };
        let (c, w) = counting();
        let first = poll(&io, &w, Direction::Read);
        driver.join().unwrap();
        let woken = c.0.load(Ordering::SeqCst);
        match first {
            // Saw the flag: nobody had to wake it (a stale stored waker may
            // never be woken twice).
            Poll::Ready(ev) => assert!(ev.ready().is_readable() && woken <= 1),
            Poll::Pending => assert_eq!(woken, 1, "parked, and the edge did not wake it"),
        }
    });
}

#[test]
fn loom_reader_and_writer_both_woken_by_one_event() {
    loom::model(|| {
        let io = Arc::new(ScheduledIo::new());
        let writer = {
            let io = io.clone();
            thread::spawn(move || {
                let (c, w) = counting();
                (poll(&io, &w, Direction::Write).is_ready(), c)
            })
        };
        let (rc, rw) = counting();
        let read_ready = poll(&io, &rw, Direction::Read).is_ready();
        io.set_readiness(Readiness::READABLE | Readiness::WRITABLE);
        let (write_ready, wc) = writer.join().unwrap();
        assert!(read_ready || rc.0.load(Ordering::SeqCst) == 1);
        assert!(write_ready || wc.0.load(Ordering::SeqCst) == 1);
    });
}

#[test]
fn loom_two_readers_on_two_threads_are_both_woken() {
    loom::model(|| {
        let io = Arc::new(ScheduledIo::new());
        let other = {
            let io = io.clone();
            thread::spawn(move || {
                let (c, w) = counting();
                let mut waiter = io.waiter();
                let ready = waiter.poll_ready(&mut Context::from_waker(&w), Direction::Read).is_ready();
                // Kept past the event: dropped first, it would leave.
                std::mem::forget(waiter);
                (ready, c)
            })
        };
        let (c, w) = counting();
        let mut waiter = io.waiter();
        let mine_ready = waiter.poll_ready(&mut Context::from_waker(&w), Direction::Read).is_ready();
        io.set_readiness(Readiness::READABLE);
        let (other_ready, oc) = other.join().unwrap();
        assert!(mine_ready || c.0.load(Ordering::SeqCst) == 1, "this reader parked and was not woken");
        assert!(other_ready || oc.0.load(Ordering::SeqCst) == 1, "the other reader parked and was not woken");
    });
}

#[test]
fn loom_set_readiness_vs_clear_readiness_keeps_the_new_edge() {
    loom::model(|| {
        let io = Arc::new(ScheduledIo::new());
        io.set_readiness(Readiness::READABLE);
        let driver = {
            let io = io.clone();
            thread::spawn(move || io.set_readiness(Readiness::READABLE))
        };
        // The task: sees readiness, its read hits WouldBlock, it clears and
        // parks.
        let (c, w) = counting();
        let Poll::Ready(ev) = poll(&io, &w, Direction::Read) else {
            panic!("the first edge was latched before the race");
        };
        io.clear_readiness(ev);
        let parked = poll(&io, &w, Direction::Read).is_pending();
        driver.join().unwrap();

        // Cleared only what the task had seen: either the flag survives, or
        // the task's event was the latest one.
        assert!(io.readiness().is_readable() || ev.tick() == io.tick());
        // And a task that parked after clearing is woken by the new edge.
        if parked {
            assert_eq!(c.0.load(Ordering::SeqCst), 1);
        }
    });
}

#[test]
fn loom_shutdown_vs_poll_ready_never_strands_a_waiter() {
    loom::model(|| {
        let io = Arc::new(ScheduledIo::new());
        let driver = {
            let io = io.clone();
            thread::spawn(move || io.shutdown())
        };
        let (c, w) = counting();
        let first = poll(&io, &w, Direction::Write);
        driver.join().unwrap();
        match first {
            Poll::Ready(ev) => assert!(ev.is_shutdown()),
            Poll::Pending => assert_eq!(c.0.load(Ordering::SeqCst), 1),
        }
        let Poll::Ready(ev) = poll(&io, &w, Direction::Read) else { panic!("shut down") };
        assert!(ev.is_shutdown());
    });
}

#[test]
fn loom_a_dropped_waiter_racing_an_event_leaves_nothing_and_takes_no_other_wake() {
    loom::model(|| {
        let io = Arc::new(ScheduledIo::new());
        // A waiter that stays, parked before the race.
        let (stay_c, stay_w) = counting();
        let mut stay = io.waiter();
        assert!(stay.poll_ready(&mut Context::from_waker(&stay_w), Direction::Read).is_pending());
        let (gone_c, gone_w) = counting();
        let canceller = {
            let io = io.clone();
            thread::spawn(move || {
                let mut waiter = io.waiter();
                let _ = waiter.poll_ready(&mut Context::from_waker(&gone_w), Direction::Read);
                drop(waiter);
            })
        };
        io.set_readiness(Readiness::READABLE);
        canceller.join().unwrap();
        assert_eq!(stay_c.0.load(Ordering::SeqCst), 1, "the staying waiter lost its wake-up");
        assert_eq!(io.waiting(Direction::Read), 0, "a waker left behind");
        // The departed waiter's waker is gone from the lists (woken or not).
        assert_eq!(std::sync::Arc::strong_count(&gone_c), 1);
        drop(stay);
    });
}
