//! Unit tests of the readiness latch, counting wake-ups exactly.

use super::{Direction, Readiness, ReadyEvent, ScheduledIo};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// A waker that counts its wake-ups.
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting() -> (Arc<Count>, Waker) {
    let c = Arc::new(Count(AtomicUsize::new(0)));
    (c.clone(), Waker::from(c))
}

fn wakes(c: &Count) -> usize {
    c.0.load(Ordering::SeqCst)
}

fn poll(io: &ScheduledIo, waker: &Waker, d: Direction) -> Poll<ReadyEvent> {
    io.poll_ready(&mut Context::from_waker(waker), d)
}

fn ready(io: &ScheduledIo, waker: &Waker, d: Direction) -> ReadyEvent {
    match poll(io, waker, d) {
        Poll::Ready(ev) => ev,
        Poll::Pending => panic!("{d:?} not ready: {io:?}"),
    }
}

#[test]
fn set_then_poll_is_ready_without_a_wake() {
    let io = ScheduledIo::new();
    let (c, w) = counting();
    io.set_readiness(Readiness::READABLE);
    let ev = ready(&io, &w, Direction::Read);
    assert_eq!(ev.ready(), Readiness::READABLE);
    assert_eq!(ev.tick(), 1);
    assert!(!ev.is_shutdown());
    assert!(poll(&io, &w, Direction::Write).is_pending(), "readable is not writable");
    assert_eq!(wakes(&c), 0);
}

#[test]
fn poll_then_set_wakes_exactly_once() {
    let io = ScheduledIo::new();
    let (c, w) = counting();
    assert!(poll(&io, &w, Direction::Read).is_pending());
    assert!(poll(&io, &w, Direction::Read).is_pending(), "a re-poll with the same waker");
    io.set_readiness(Readiness::READABLE);
    assert_eq!(wakes(&c), 1);
    io.set_readiness(Readiness::READABLE);
    assert_eq!(wakes(&c), 1, "the waker was taken by the first wake");
    assert!(ready(&io, &w, Direction::Read).ready().is_readable());
}

#[test]
fn clear_with_the_current_tick_clears_and_parks_again() {
    let io = ScheduledIo::new();
    let (c, w) = counting();
    io.set_readiness(Readiness::READABLE | Readiness::WRITABLE);
    let ev = ready(&io, &w, Direction::Read);
    assert!(io.clear_readiness(ev));
    assert_eq!(io.readiness(), Readiness::WRITABLE, "only the read direction's flags go");
    assert!(poll(&io, &w, Direction::Read).is_pending());
    io.set_readiness(Readiness::READABLE);
    assert_eq!(wakes(&c), 1);
}

#[test]
fn clear_with_a_stale_tick_keeps_the_bits() {
    let io = ScheduledIo::new();
    let (c, w) = counting();
    io.set_readiness(Readiness::READABLE);
    let ev = ready(&io, &w, Direction::Read);
    // An edge arrives after the task saw `ev` and before its read failed.
    io.set_readiness(Readiness::READABLE);
    assert!(!io.clear_readiness(ev), "stale tick");
    assert!(io.readiness().is_readable());
    let fresh = ready(&io, &w, Direction::Read);
    assert_eq!(fresh.tick(), ev.tick() + 1);
    assert!(io.clear_readiness(fresh));
    assert!(io.readiness().is_empty());
    assert_eq!(wakes(&c), 0);
}

#[test]
fn closed_flags_are_final_and_error_clears() {
    let io = ScheduledIo::new();
    let (_, w) = counting();
    io.set_readiness(Readiness::READABLE | Readiness::READ_CLOSED | Readiness::ERROR);
    let ev = ready(&io, &w, Direction::Read);
    assert_eq!(ev.ready(), Readiness::READABLE | Readiness::READ_CLOSED | Readiness::ERROR);
    assert!(io.clear_readiness(ev));
    assert_eq!(io.readiness(), Readiness::READ_CLOSED);
    assert!(ready(&io, &w, Direction::Read).ready().is_read_closed(), "end of stream stays ready");
}

#[test]
fn reader_and_writer_wakers_are_independent() {
    let io = ScheduledIo::new();
    let (rc, rw) = counting();
    let (wc, ww) = counting();
    assert!(poll(&io, &rw, Direction::Read).is_pending());
    assert!(poll(&io, &ww, Direction::Write).is_pending());
    io.set_readiness(Readiness::WRITABLE);
    assert_eq!((wakes(&rc), wakes(&wc)), (0, 1));
    io.set_readiness(Readiness::READABLE);
    assert_eq!((wakes(&rc), wakes(&wc)), (1, 1));
}

#[test]
fn error_wakes_both_directions() {
    let io = ScheduledIo::new();
    let (rc, rw) = counting();
    let (wc, ww) = counting();
    assert!(poll(&io, &rw, Direction::Read).is_pending());
    assert!(poll(&io, &ww, Direction::Write).is_pending());
    io.set_readiness(Readiness::ERROR);
    assert_eq!((wakes(&rc), wakes(&wc)), (1, 1));
    assert!(ready(&io, &rw, Direction::Write).ready().is_error());
}

#[test]
fn every_waiting_future_is_woken_and_one_future_is_stored_once() {
    let io = ScheduledIo::new();
    let (first_c, first) = counting();
    let (second_c, second) = counting();
    let mut a = io.waiter();
    let mut b = io.waiter();
    assert!(a.poll_ready(&mut Context::from_waker(&first), Direction::Read).is_pending());
    assert!(b.poll_ready(&mut Context::from_waker(&second), Direction::Read).is_pending());
    // A re-poll by the same future keeps its one place.
    assert!(b.poll_ready(&mut Context::from_waker(&second), Direction::Read).is_pending());
    assert_eq!(io.waiting(Direction::Read), 2);
    io.set_readiness(Readiness::READABLE);
    assert_eq!((wakes(&first_c), wakes(&second_c)), (1, 1));
    assert_eq!(io.waiting(Direction::Read), 0);
    // Woken wakers are consumed: only the test holds them now.
    assert_eq!((Arc::strong_count(&first_c), Arc::strong_count(&second_c)), (2, 2));
}

#[test]
fn poll_ready_keeps_only_the_most_recent_pollers_waker() {
    let io = ScheduledIo::new();
    let (first_c, first) = counting();
    let (second_c, second) = counting();
    assert!(poll(&io, &first, Direction::Read).is_pending());
    assert!(poll(&io, &second, Direction::Read).is_pending());
    assert_eq!(io.waiting(Direction::Read), 1);
    // The displaced waker was dropped, not kept.
    assert_eq!(Arc::strong_count(&first_c), 2);
    io.set_readiness(Readiness::READABLE);
    assert_eq!((wakes(&first_c), wakes(&second_c)), (0, 1));
}

#[test]
fn a_dropped_waiter_takes_its_waker_out_and_leaves_the_others() {
    let io = ScheduledIo::new();
    let all: Vec<_> = (0..100).map(|_| counting()).collect();
    let mut waiters: Vec<_> = all
        .iter()
        .map(|(_, w)| {
            let mut waiter = io.waiter();
            assert!(waiter.poll_ready(&mut Context::from_waker(w), Direction::Read).is_pending());
            waiter
        })
        .collect();
    assert_eq!(io.waiting(Direction::Read), 100);
    // Drop every other one (a select! branch that lost), the first too.
    let mut kept = Vec::new();
    for (i, w) in waiters.drain(..).enumerate() {
        if i % 2 == 1 {
            kept.push((i, w));
        }
    }
    assert_eq!(io.waiting(Direction::Read), 50);
    for (i, (c, _)) in all.iter().enumerate() {
        let expect = if i % 2 == 1 { 3 } else { 2 };
        assert_eq!(Arc::strong_count(c), expect, "waker {i}: dropped with its waiter, kept otherwise");
    }
    // New waiters reuse the freed places; an event wakes exactly the live ones.
    let (late_c, late) = counting();
    let mut late_waiter = io.waiter();
    assert!(late_waiter.poll_ready(&mut Context::from_waker(&late), Direction::Read).is_pending());
    assert_eq!(io.waiting(Direction::Read), 51);
    io.set_readiness(Readiness::READABLE);
    for (i, (c, _)) in all.iter().enumerate() {
        assert_eq!(wakes(c), usize::from(i % 2 == 1), "waker {i}");
    }
    assert_eq!(wakes(&late_c), 1);
    // Keys from before the event are void: dropping their waiters frees
    // nothing that a newer waiter holds.
    let (new_c, new) = counting();
    assert!(io.clear_readiness(ready(&io, &new, Direction::Read)));
    let mut newer = io.waiter();
    assert!(newer.poll_ready(&mut Context::from_waker(&new), Direction::Read).is_pending());
    drop(kept);
    drop(late_waiter);
    assert_eq!(io.waiting(Direction::Read), 1);
    io.set_readiness(Readiness::READABLE);
    assert_eq!(wakes(&new_c), 1);
}

#[test]
fn an_event_where_nobody_waits_leaves_the_other_direction_alone() {
    let io = ScheduledIo::new();
    let (c, w) = counting();
    let mut waiter = io.waiter();
    assert!(waiter.poll_ready(&mut Context::from_waker(&w), Direction::Read).is_pending());
    // Writable, with nobody waiting to write: the reader is not woken and
    // keeps its place (its key stays live: the empty writer slot is not
    // taken, and the reader's is not touched).
    io.set_readiness(Readiness::WRITABLE);
    assert_eq!(wakes(&c), 0);
    assert_eq!(io.waiting(Direction::Read), 1);
    drop(waiter);
    assert_eq!(io.waiting(Direction::Read), 0, "the live key gave its place back");
    assert_eq!(Arc::strong_count(&c), 2, "and its waker was dropped");
    // A place given up, an event on the empty slot, a new waiter: the new
    // waiter's place is its own, and the next event wakes it.
    io.set_readiness(Readiness::READABLE);
    let (c2, w2) = counting();
    assert!(io.clear_readiness(ready(&io, &w2, Direction::Read)));
    let mut again = io.waiter();
    assert!(again.poll_ready(&mut Context::from_waker(&w2), Direction::Read).is_pending());
    assert_eq!(wakes(&c2), 0);
    io.set_readiness(Readiness::READABLE);
    assert_eq!(wakes(&c2), 1);
    drop(again);
    assert_eq!(io.waiting(Direction::Read), 0);
}

#[test]
fn a_waiter_in_both_directions_leaves_both() {
    let io = ScheduledIo::new();
    let (_c, w) = counting();
    let mut waiter = io.waiter();
    assert!(waiter.poll_ready(&mut Context::from_waker(&w), Direction::Read).is_pending());
    assert!(waiter.poll_ready(&mut Context::from_waker(&w), Direction::Write).is_pending());
    assert_eq!((io.waiting(Direction::Read), io.waiting(Direction::Write)), (1, 1));
    drop(waiter);
    assert_eq!((io.waiting(Direction::Read), io.waiting(Direction::Write)), (0, 0));
}

#[test]
fn shutdown_wakes_both_and_every_later_poll_is_ready() {
    let io = ScheduledIo::new();
    let (rc, rw) = counting();
    let (wc, ww) = counting();
    assert!(poll(&io, &rw, Direction::Read).is_pending());
    assert!(poll(&io, &ww, Direction::Write).is_pending());
    io.shutdown();
    assert!(io.is_shutdown());
    assert_eq!((wakes(&rc), wakes(&wc)), (1, 1));
    for d in [Direction::Read, Direction::Write] {
        let ev = ready(&io, &rw, d);
        assert!(ev.is_shutdown());
        assert_eq!(ev.ready(), d.mask());
        io.clear_readiness(ev);
        assert!(ready(&io, &rw, d).is_shutdown(), "a clear does not undo shutdown");
    }
    io.shutdown();
    assert_eq!((wakes(&rc), wakes(&wc)), (1, 1), "idempotent, and no waker is left");
}

#[test]
fn empty_readiness_changes_nothing() {
    let io = ScheduledIo::new();
    let (c, w) = counting();
    assert!(poll(&io, &w, Direction::Read).is_pending());
    io.set_readiness(Readiness::EMPTY);
    assert_eq!((wakes(&c), io.tick()), (0, 0));
}

#[test]
fn readiness_mirrors_poller_event_flags() {
    use spindle_poll::{Event, Token};
    let ev = Event::new(Token(1), Event::READABLE | Event::READ_CLOSED);
    assert_eq!(Readiness::from_event(&ev), Readiness::READABLE | Readiness::READ_CLOSED);
    assert_eq!(format!("{:?}", Readiness::from_event(&ev)), "READABLE | READ_CLOSED");
    assert_eq!(format!("{:?}", Readiness::EMPTY), "EMPTY");
    assert!(Direction::Read.mask().contains(Readiness::READ_CLOSED));
    assert!(!Direction::Read.mask().intersects(Readiness::WRITABLE));
}

#[test]
fn a_waiter_woken_ready_holds_no_place() {
    let io = ScheduledIo::new();
    let (c, w) = counting();
    let mut waiter = io.waiter();
    assert!(waiter.poll_ready(&mut Context::from_waker(&w), Direction::Read).is_pending());
    assert_eq!(io.waiting(Direction::Read), 1);
    io.set_readiness(Readiness::READABLE);
    assert_eq!(wakes(&c), 1);
    let ev = match waiter.poll_ready(&mut Context::from_waker(&w), Direction::Read) {
        std::task::Poll::Ready(ev) => ev,
        std::task::Poll::Pending => panic!("woken by readiness, it is ready"),
    };
    // The event emptied the place: the waiter holds none, so its drop
    // (after a read that used the readiness up) has nothing to give back.
    assert!(!waiter.holds_key());
    // A `WouldBlock` clears the readiness and the same waiter waits again,
    // at a place of its own.
    assert!(io.clear_readiness(ev));
    assert!(waiter.poll_ready(&mut Context::from_waker(&w), Direction::Read).is_pending());
    assert_eq!(io.waiting(Direction::Read), 1);
    drop(waiter);
    assert_eq!(io.waiting(Direction::Read), 0);
    assert_eq!(Arc::strong_count(&c), 2, "the test's and the waker's own");
}
