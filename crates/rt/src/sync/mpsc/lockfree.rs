//! The lock-free core of the bounded channel: a ring of slots for the
//! values ([`Ring`]) and a counter of free slots ([`Permits`]).
//!
//! # The ring (Vyukov's bounded queue, one consumer)
//!
//! `len` slots (a power of two), each with a sequence number. Position `p`
//! (a counter that only grows) lives in slot `p & mask`. The slot's `seq`
//! says whose turn it is: `p` means "free for the producer of position
//! `p`", `p + 1` means "holds the value of position `p`, for the
//! consumer". A producer claims a position with one `fetch_add` on `tail`,
//! writes the value and publishes it by storing `p + 1`; the consumer reads
//! the value at `head` once it sees `head + 1`, and frees the slot for
//! position `head + len` by storing that. So each slot's value is touched
//! by exactly one side at a time, handed over by a `Release` store and an
//! `Acquire` load of `seq`.
//!
//! The channel's capacity is enforced by [`Permits`], not by the ring: a
//! sender takes a permit before it pushes, the receiver returns one after
//! each pop, and there are `capacity <= len` permits. So a producer never
//! finds its slot still occupied by the value of position `p - len` (it
//! would wait for the consumer if it did; see [`Ring::push`]).
//!
//! # The permits
//!
//! One word: the free slots (`state >> 2`), [`CLOSED`] and [`WAITERS`].
//! The fast paths are single compare-and-swaps: a sender takes a permit if
//! one is free and the channel is open; the receiver gives one back if no
//! sender waits. [`WAITERS`] is set and cleared only under the channel's
//! lock, together with its waiter list (set while the list is non-empty),
//! and while it is set the free count stays 0: a returned permit then goes
//! (under the lock) straight to the oldest waiting sender instead of the
//! counter, so nobody can barge past the waiters. Because the count and
//! the flag share one word, a sender setting the flag (it succeeds only if
//! the count is still 0) and the receiver returning a permit (it adds only
//! if the flag is still clear) cannot both miss each other: the lost
//! wake-up is ruled out by the compare-and-swap itself.
//!
//! Once [`CLOSED`] is set nobody takes a permit any more, so that rule is
//! dropped: every permit given back goes to the free count, waiters or
//! not (they are leaving: each polls, sees the flag, and removes itself).
//! The count then only grows, and when it is back at the capacity every
//! permit is home: no value is buffered and none is on its way, because a
//! sent value's permit comes back only when the receiver pops it. That is
//! the receiver's test for "closed and drained"
//! ([`Permits::is_closed_and_idle`]): a permit reserved before the close
//! may still send, and the receiver must wait for it.

use std::mem::MaybeUninit;

use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::UnsafeCell;

/// Set once the receiver closed the channel: no permit is handed out.
const CLOSED: usize = 0b01;
/// Set while senders wait (under the channel lock, with its waiter list).
const WAITERS: usize = 0b10;
/// One free slot in the permit word.
const ONE: usize = 0b100;

// Hot counters sit in `CachePadded`, so producers bumping `tail` do not
// slow the consumer's `head` (or the permit word).
use crate::CachePadded as Padded;

/// The free-slot counter; see the module docs.
pub(super) struct Permits {
    state: Padded<AtomicUsize>,
}

/// Why [`Permits::try_acquire`] found no permit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NoPermit {
    /// None free (or the free ones are promised to waiting senders).
    Full,
    /// The channel is closed.
    Closed,
}

/// What [`Permits::acquire_or_wait`] did, under the channel lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Locked {
    /// Took a free permit.
    Acquired,
    /// None free: [`WAITERS`] is set; the caller queues itself.
    MustWait,
    /// The channel is closed.
    Closed,
}

impl Permits {
    pub(super) fn new(capacity: usize) -> Permits {
        let state = capacity.checked_mul(ONE).expect("mpsc::channel: capacity too large");
        Permits { state: Padded(AtomicUsize::new(state)) }
    }

    /// The lock-free path of a send: takes a free permit if there is one.
    pub(super) fn try_acquire(&self) -> Result<(), NoPermit> {
        let state = &self.state.0;
        let mut cur = state.load(Ordering::Relaxed);
        loop {
            if cur & CLOSED != 0 {
                return Err(NoPermit::Closed);
            }
            if cur < ONE {
                return Err(NoPermit::Full);
            }
            match state.compare_exchange_weak(cur, cur - ONE, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return Ok(()),
                Err(actual) => cur = actual,
            }
        }
    }

    /// With the channel lock held: takes a free permit, or (none free)
    /// sets [`WAITERS`] so that the next returned permit comes to the lock.
    pub(super) fn acquire_or_wait(&self) -> Locked {
        let state = &self.state.0;
        let mut cur = state.load(Ordering::Relaxed);
        loop {
            if cur & CLOSED != 0 {
                return Locked::Closed;
            }
            let (next, outcome) =
                if cur >= ONE { (cur - ONE, Locked::Acquired) } else { (cur | WAITERS, Locked::MustWait) };
            match state.compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return outcome,
                Err(actual) => cur = actual,
            }
        }
    }

    /// The lock-free path of a receive giving a permit back: adds it to
    /// the free count and returns true, or returns false when senders wait
    /// (the caller then hands it over under the lock, [`Self::release_locked`]).
    pub(super) fn try_release(&self) -> bool {
        let state = &self.state.0;
        let mut cur = state.load(Ordering::Relaxed);
        loop {
            if cur & WAITERS != 0 {
                return false;
            }
            match state.compare_exchange_weak(cur, cur + ONE, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return true,
                Err(actual) => cur = actual,
            }
        }
    }

    /// With the channel lock held and no sender left waiting: clears
    /// [`WAITERS`], and gives back `permits` (a permit nobody waits for
    /// any more) to the free count.
    pub(super) fn no_more_waiters(&self, permits: usize) {
        // While WAITERS is set nobody else changes the word except to set
        // CLOSED (under the same lock) or to take a permit (none is free):
        // but `fetch_*` keeps even that safe.
        self.state.0.fetch_and(!WAITERS, Ordering::AcqRel);
        if permits > 0 {
            self.state.0.fetch_add(permits * ONE, Ordering::AcqRel);
        }
    }

    /// With the channel lock held and the channel closed: gives a permit
    /// back to the free count even though [`WAITERS`] may still be set
    /// (the waiters are leaving, and nobody takes a permit any more).
    pub(super) fn release_closed(&self) {
        self.state.0.fetch_add(ONE, Ordering::AcqRel);
    }

    /// How many permits are free now (0 while senders wait for them).
    pub(super) fn free(&self) -> usize {
        self.state.0.load(Ordering::Acquire) >> 2
    }

    /// Whether the channel is closed and all `capacity` permits are back
    /// in the free count: nothing is buffered and nothing more can come.
    /// One load, so the two facts are of the same moment.
    pub(super) fn is_closed_and_idle(&self, capacity: usize) -> bool {
        let state = self.state.0.load(Ordering::Acquire);
        state & CLOSED != 0 && state >> 2 == capacity
    }

    /// Marks the channel closed (under the lock): no more permits.
    pub(super) fn close(&self) {
        self.state.0.fetch_or(CLOSED, Ordering::AcqRel);
    }

    /// Whether the channel is closed.
    pub(super) fn is_closed(&self) -> bool {
        self.state.0.load(Ordering::Acquire) & CLOSED != 0
    }
}

/// One slot of the ring.
struct Slot<T> {
    /// `p`: free for position `p`; `p + 1`: holds position `p`'s value.
    seq: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// The value ring; see the module docs.
pub(super) struct Ring<T> {
    slots: Box<[Slot<T>]>,
    mask: usize,
    /// The next position a producer claims.
    tail: Padded<AtomicUsize>,
    /// The next position the consumer reads; only the consumer touches it
    /// (an atomic only so that the ring stays `Sync` without more unsafe).
    head: Padded<AtomicUsize>,
}

// SAFETY: a slot's value is written only by the producer that claimed its
// position (unique: `tail.fetch_add`) while `seq == p`, and read only by
// the single consumer while `seq == p + 1`; the `seq` Release/Acquire
// hand-over orders the two. So sharing the ring shares only moves of `T`
// between threads: `T: Send` suffices, as for any channel.
unsafe impl<T: Send> Send for Ring<T> {}
// SAFETY: as above; no `&T` is ever handed out.
unsafe impl<T: Send> Sync for Ring<T> {}

impl<T> Ring<T> {
    /// A ring of at least `capacity` slots, and at least 2: with one slot,
    /// "free for position `p + 1`" and "holds position `p`" would both be
    /// `seq == p + 1`.
    pub(super) fn new(capacity: usize) -> Ring<T> {
        let len = capacity.max(2).checked_next_power_of_two().expect("mpsc::channel: capacity too large");
        let slots = (0..len)
            .map(|i| Slot { seq: AtomicUsize::new(i), value: UnsafeCell::new(MaybeUninit::uninit()) });
        Ring {
            slots: slots.collect(),
            mask: len - 1,
            tail: Padded(AtomicUsize::new(0)),
            head: Padded(AtomicUsize::new(0)),
        }
    }

    /// Appends `value`. With a permit held (fewer than `len` values
    /// claimed and not yet popped) the slot is always free at once; the
    /// wait below only keeps the ring correct without that assumption.
    pub(super) fn push(&self, value: T) {
        let pos = self.tail.0.fetch_add(1, Ordering::Relaxed);
        let slot = &self.slots[pos & self.mask];
        let mut spins = 0u32;
        while slot.seq.load(Ordering::Acquire) != pos {
            spins += 1;
            if spins < 64 {
                crate::loom::hint::spin_loop();
            } else {
                crate::loom::thread::yield_now();
            }
        }
        // SAFETY: `seq == pos` (Acquire): the consumer is done with the
        // slot's previous value, and position `pos` is ours alone (claimed
        // by the `fetch_add`), so nothing else touches the value until we
        // publish it below.
        slot.value.with_mut(|v| unsafe { (*v).write(value) });
        slot.seq.store(pos.wrapping_add(1), Ordering::Release);
    }

    /// Takes the value at the head, if it has been published. Returns
    /// `None` both when the ring is empty and when the head's producer
    /// has claimed its position but not yet written it (it will wake the
    /// consumer when it has).
    ///
    /// # Safety
    ///
    /// No two calls may run at the same time: the ring has one consumer
    /// (the `Receiver`, through `&mut self`, or the channel's drop).
    pub(super) unsafe fn pop(&self) -> Option<T> {
        let pos = self.head.0.load(Ordering::Relaxed);
        let slot = &self.slots[pos & self.mask];
        if slot.seq.load(Ordering::Acquire) != pos.wrapping_add(1) {
            return None;
        }
        // SAFETY: `seq == pos + 1` (Acquire): the producer of `pos` wrote
        // the value and will not touch the slot again; the caller
        // guarantees no other consumer reads it. Reading moves it out; the
        // store below marks the slot free, so it is never read twice.
        let value = slot.value.with(|v| unsafe { (*v).assume_init_read() });
        slot.seq.store(pos.wrapping_add(self.mask + 1), Ordering::Release);
        self.head.0.store(pos.wrapping_add(1), Ordering::Relaxed);
        Some(value)
    }

    /// Whether a value is published at the head (the consumer's re-check
    /// after it registered its waker; the caller issues the `SeqCst`
    /// fence that pairs with the producer's).
    pub(super) fn head_ready(&self) -> bool {
        let pos = self.head.0.load(Ordering::Relaxed);
        self.slots[pos & self.mask].seq.load(Ordering::Acquire) == pos.wrapping_add(1)
    }
}

impl<T> Ring<T> {
    /// How many positions were claimed and not yet popped: the values
    /// buffered, counting one whose producer is still writing it. For the
    /// consumer only (so that `head` holds still): every position below
    /// `head` was claimed before the consumer popped it, and the seq
    /// hand-over makes that claim visible here, so `tail >= head`.
    pub(super) fn len(&self) -> usize {
        let head = self.head.0.load(Ordering::Relaxed);
        self.tail.0.load(Ordering::Acquire).wrapping_sub(head)
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        // SAFETY: `&mut self`: no other consumer (nor producer) exists.
        while unsafe { self.pop() }.is_some() {}
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn ring_wraps_and_keeps_order() {
        assert_eq!(Ring::<u8>::new(1).mask, 1, "never fewer than 2 slots");
        let ring = Ring::new(3);
        assert_eq!(ring.mask, 3);
        for round in 0..10 {
            for i in 0..4 {
                ring.push(round * 10 + i);
            }
            for i in 0..4 {
                // SAFETY: one consumer (this thread).
                assert_eq!(unsafe { ring.pop() }, Some(round * 10 + i));
            }
            // SAFETY: as above.
            assert_eq!(unsafe { ring.pop() }, None);
        }
    }

    #[test]
    fn ring_drop_drops_unread_values() {
        let value = std::sync::Arc::new(());
        let ring = Ring::new(4);
        ring.push(value.clone());
        ring.push(value.clone());
        drop(ring);
        assert_eq!(std::sync::Arc::strong_count(&value), 1);
    }

    #[test]
    fn permits_count_and_waiters_flag() {
        let p = Permits::new(2);
        assert_eq!(p.try_acquire(), Ok(()));
        assert_eq!(p.acquire_or_wait(), Locked::Acquired);
        assert_eq!(p.try_acquire(), Err(NoPermit::Full));
        assert_eq!(p.acquire_or_wait(), Locked::MustWait);
        assert!(!p.try_release(), "a waiter is flagged: the permit goes through the lock");
        p.no_more_waiters(1);
        assert_eq!(p.try_acquire(), Ok(()));
        assert!(p.try_release());
        assert_eq!(p.free(), 1, "the first permit is still out");
        p.close();
        assert!(p.is_closed());
        assert!(!p.is_closed_and_idle(2), "one permit is still out");
        assert_eq!(p.try_acquire(), Err(NoPermit::Closed));
        assert_eq!(p.acquire_or_wait(), Locked::Closed);
        p.release_closed();
        assert!(p.is_closed_and_idle(2));
    }
}

/// Model-checked (`RUSTFLAGS="--cfg loom" cargo test -p spindle-rt --lib
/// loom`): the ring's slot hand-over and the permit word's waiters flag.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    /// Pops until `n` values came, yielding while the ring is empty.
    fn pop_n(ring: &Ring<u32>, n: usize) -> Vec<u32> {
        let mut got = Vec::new();
        while got.len() < n {
            // SAFETY: this thread is the ring's only consumer.
            match unsafe { ring.pop() } {
                Some(v) => got.push(v),
                None => thread::yield_now(),
            }
        }
        got
    }

    #[test]
    fn ring_two_producers_each_value_once_in_producer_order() {
        loom::model(|| {
            let ring = Arc::new(Ring::new(3)); // 4 slots: no producer waits
            let r2 = ring.clone();
            let t = thread::spawn(move || {
                r2.push(10);
                r2.push(11);
            });
            ring.push(20);
            let mut got = pop_n(&ring, 3);
            t.join().unwrap();
            let tens: Vec<u32> = got.iter().copied().filter(|v| *v < 20).collect();
            assert_eq!(tens, [10, 11]);
            got.sort_unstable();
            assert_eq!(got, [10, 11, 20]);
        });
    }

    #[test]
    fn ring_producer_waits_for_the_consumer_to_free_its_slot() {
        loom::model(|| {
            let ring = Arc::new(Ring::new(2));
            let r2 = ring.clone();
            let t = thread::spawn(move || {
                r2.push(1);
                r2.push(2);
                r2.push(3); // the first one's slot: waits for its pop
            });
            assert_eq!(pop_n(&ring, 3), [1, 2, 3]);
            t.join().unwrap();
        });
    }

    #[test]
    fn permits_after_the_close_the_last_release_sees_the_channel_idle() {
        // Two permits come home at once after the close: whichever is last
        // must see "closed and idle" (it wakes the receiver).
        loom::model(|| {
            let permits = Arc::new(Permits::new(2));
            assert_eq!(permits.try_acquire(), Ok(()));
            assert_eq!(permits.try_acquire(), Ok(()));
            permits.close();
            let p2 = permits.clone();
            let t = thread::spawn(move || {
                assert!(p2.try_release());
                p2.is_closed_and_idle(2)
            });
            assert!(permits.try_release());
            let here = permits.is_closed_and_idle(2);
            let there = t.join().unwrap();
            assert!(here || there, "nobody saw the last permit come home");
        });
    }

    #[test]
    fn permits_waiters_flag_and_release_never_both_miss() {
        // A sender that finds no permit sets the flag (under the lock in
        // the channel); a concurrent release either adds to the count
        // before (the sender then takes it) or sees the flag (and would
        // hand the permit over under the lock). Never both "no permit" and
        // "added to the count while flagged".
        loom::model(|| {
            let permits = Arc::new(Permits::new(1));
            assert_eq!(permits.try_acquire(), Ok(()));
            let p2 = permits.clone();
            let t = thread::spawn(move || p2.try_release());
            let outcome = permits.acquire_or_wait();
            let released = t.join().unwrap();
            match outcome {
                Locked::Acquired => assert!(released, "took a permit that was added"),
                Locked::MustWait => {
                    // The release must not have gone to the count unseen.
                    assert!(!released, "a permit was added while a sender was left waiting");
                }
                Locked::Closed => unreachable!(),
            }
        });
    }
}
