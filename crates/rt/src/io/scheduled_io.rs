//! [`ScheduledIo`]: one descriptor's readiness latch and its waiters, per
//! direction.
//! The protocol is in the [module docs](super).

use super::readiness::{Direction, Readiness, ReadyEvent};
use crate::loom::sync::atomic::{AtomicUsize, Ordering::AcqRel, Ordering::Acquire};
use crate::loom::sync::{Mutex, MutexGuard};
use std::fmt;
use std::task::{Context, Poll, Waker};

// The state word, from the low bits up:
//
// * bits 0..5, READINESS: the latched `Readiness` flags. Set by
//   `set_readiness`, cleared per direction by `clear_readiness` (except the
//   two CLOSED flags, which are final).
// * bit 5, SHUTDOWN: the driver is gone. Final; coexists with any readiness,
//   and once set every `poll_ready` returns at once.
// * bits 8.., the tick: bumped by every `set_readiness` and by `shutdown`,
//   never by a clear. It wraps (after 2^56 events on 64-bit targets, 2^24 on
//   32-bit ones); only equality is ever asked of it.
const READINESS_MASK: usize = Readiness::ALL.bits() as usize;
const SHUTDOWN: usize = 1 << 5;
const TICK_SHIFT: u32 = 8;
const TICK_ONE: usize = 1 << TICK_SHIFT;

fn tick_of(state: usize) -> usize {
    state >> TICK_SHIFT
}

fn readiness_of(state: usize) -> Readiness {
    // The mask keeps the value within the five flag bits, so it fits a u8.
    Readiness::from_bits_truncate((state & READINESS_MASK) as u8)
}

/// The readiness of one registered descriptor, shared by the driver that
/// learns of events and the tasks that wait for them.
///
/// See the [module docs](super) for the protocol: the driver calls
/// [`set_readiness`](ScheduledIo::set_readiness); a task calls
/// [`poll_ready`](ScheduledIo::poll_ready), tries its IO, and on
/// `WouldBlock` calls [`clear_readiness`](ScheduledIo::clear_readiness) with
/// the event it got, then polls again.
///
/// Any number of futures may wait in each direction through their
/// [`Waiter`]s (tasks sharing an `Arc<UdpSocket>`, each in `recv_from`): an
/// event wakes them all, the one that finds data takes it, and the others
/// get `WouldBlock`, clear the readiness by its tick and wait again. A
/// dropped `Waiter` takes its waker out. Poll methods, which have no future
/// to hold a place, share one waker per direction (the most recent).
// `repr(C)`: the state word first, then the lock and the slots, so that
// in a line-aligned `IoEntry` the state, the lock and the reader's slot
// share the first cache line (std's `Mutex` keeps its futex word before
// the data today: offsets 0, 8 and 16, the writer's slot at 64).
#[repr(C)]
pub struct ScheduledIo {
    /// Readiness flags, the shutdown flag and the tick; layout above.
    state: AtomicUsize,
    /// The waiting readers and writers. Lock rule: held only to store,
    /// take or swap wakers and to re-read `state`; no waker is woken or
    /// dropped while it is held.
    waiters: Mutex<Waiters>,
}

/// The reader's slot first (`repr(C)`), in the state word's cache line;
/// see [`ScheduledIo`].
#[derive(Default)]
#[repr(C)]
struct Waiters {
    reader: Slot,
    writer: Slot,
}

/// The wakers waiting in one direction.
///
/// Two kinds of wait, as in tokio:
///
/// * A **poll method** (`poll_read`, `poll_accept`, [`ScheduledIo::poll_ready`])
///   has no future of its own to hold a place, so it gets the direction's
///   one `poll` slot, and only the most recent poll's waker is kept (a
///   second task polling the same direction displaces the first). Bounded
///   by construction: one waker per direction.
/// * A **future** (`read().await`, `readable().await`, `accept().await`,
///   through a [`Waiter`]) owns a place in the `keyed` list, freed when the
///   future completes or is dropped. Any number of futures may wait, and an
///   event wakes them all; a future dropped before its event (a `select!`
///   branch that lost, a timed-out read, an aborted task) takes its waker
///   out with it, so the list never holds more than the futures alive.
///
/// A place is named by a [`Key`]: its index, and the slot's epoch when it
/// was given. Every [`take`](Slot::take) (an event, shutdown) of a slot
/// that holds anything empties the list and moves the epoch on, so a key
/// from before it is void and its owner registers afresh; a void key is
/// never mistaken for the place a later waiter got at the same index. (A
/// slot that holds nothing has no key of its epoch to void.)
///
/// Small on purpose (48 bytes): every event and every wait touches a
/// slot, and at a thousand connections each touch is likely a cache miss,
/// so what the usual case needs (the poll waker, the first place, the
/// epoch) shares a cache line with the state word and the lock, and the
/// places past the first, which only several futures waiting in one
/// direction at once need, live behind a pointer.
#[derive(Default)]
struct Slot {
    /// The most recent poll method's waker.
    poll: Option<Waker>,
    /// Place 0 of the list, inline: the usual single waiting future needs
    /// no allocation.
    first: Option<Waker>,
    /// Moved on by every `take`; a key of another epoch is void.
    epoch: usize,
    /// Places 1.., allocated while any is held (`None` otherwise).
    more: Option<Box<More>>,
}

/// The places past a [`Slot`]'s first.
#[derive(Default)]
struct More {
    /// Places 1.. (index `i` is place `i + 1`); `None` where a waiter left.
    rest: Vec<Option<Waker>>,
    /// Places in `rest` freed by departed waiters, for reuse.
    free: Vec<usize>,
    /// How many of `rest` are `Some`; never 0 while the `More` exists.
    live: usize,
}

/// A waiter's place in a [`Slot`]'s list: (epoch, place).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Key {
    epoch: usize,
    place: usize,
}

impl Slot {
    /// Stores `waker` as the poll methods' one waker; returns the one it
    /// displaced (to drop once the lock is released) unless it is the same
    /// task's.
    fn register_poll(&mut self, waker: &Waker) -> Option<Waker> {
        match &mut self.poll {
            Some(w) if w.will_wake(waker) => None,
            slot => slot.replace(waker.clone()),
        }
    }

    /// Stores `waker` at `key`'s place if the key is live, else at a new
    /// place written into `key`. Returns a replaced waker (the future moved
    /// to another task) to drop once the lock is released.
    fn register_keyed(&mut self, key: &mut Option<Key>, waker: &Waker) -> Option<Waker> {
        if let Some(k) = key.filter(|k| k.epoch == self.epoch) {
            // A live key's place holds its waker: only `take` (which moves
            // the epoch on) and the key's own `cancel` empty a place.
            let stored = match k.place {
                0 => Some(&mut self.first),
                place => self.more.as_mut().and_then(|m| m.rest.get_mut(place - 1)),
            };
            if let Some(Some(w)) = stored {
                return if w.will_wake(waker) { None } else { Some(std::mem::replace(w, waker.clone())) };
            }
            debug_assert!(false, "a live key {k:?} names an empty place");
        }
        let place = if self.first.is_none() {
            self.first = Some(waker.clone());
            0
        } else {
            let more = self.more.get_or_insert_with(Box::default);
            more.live += 1;
            match more.free.pop() {
                Some(i) => {
                    more.rest[i] = Some(waker.clone());
                    i + 1
                }
                None => {
                    more.rest.push(Some(waker.clone()));
                    more.rest.len()
                }
            }
        };
        *key = Some(Key { epoch: self.epoch, place });
        None
    }

    /// Frees `key`'s place if the key is live; returns its waker, to drop
    /// once the lock is released. A void key (its place was emptied by an
    /// event since) frees nothing: that waker was taken and woken already.
    fn cancel(&mut self, key: Key) -> Option<Waker> {
        if key.epoch != self.epoch {
            return None;
        }
        if key.place == 0 {
            return self.first.take();
        }
        let more = self.more.as_mut()?;
        let waker = more.rest.get_mut(key.place - 1)?.take();
        if waker.is_some() {
            more.live -= 1;
            if more.live == 0 {
                // Nobody left past place 0: start the list afresh rather
                // than keep a free list as long as the last burst.
                self.more = None;
            } else {
                more.free.push(key.place - 1);
            }
        }
        waker
    }

    /// Takes every waker, leaving the slot empty, and voids every key.
    ///
    /// An empty slot is left as it is, epoch and all: it has no live
    /// place, so no key of its epoch is held (a key is given up by
    /// `cancel` or voided by an earlier `take`), and there is nothing to
    /// void. This is the usual case for the direction an event touches
    /// that nobody waits in (a write-ready edge while the task waits to
    /// read), and it saves the moves below.
    fn take(&mut self) -> Taken {
        if self.is_empty() {
            return Taken::default();
        }
        self.epoch = self.epoch.wrapping_add(1);
        let rest = self.more.take().map(|m| m.rest);
        Taken { poll: self.poll.take(), first: self.first.take(), rest }
    }

    /// Whether no waker waits here and no place is held.
    fn is_empty(&self) -> bool {
        self.poll.is_none() && self.first.is_none() && self.more.is_none()
    }

    /// How many wakers wait here (the poll slot and every live place).
    fn len(&self) -> usize {
        usize::from(self.poll.is_some())
            + usize::from(self.first.is_some())
            + self.more.as_ref().map_or(0, |m| m.live)
    }
}

/// Wakers taken out of a [`Slot`] (or displaced from it), to wake or drop
/// once the lock is released.
#[derive(Default)]
struct Taken {
    poll: Option<Waker>,
    first: Option<Waker>,
    /// `None` unless places past the first were held: nothing to free in
    /// the usual case.
    rest: Option<Vec<Option<Waker>>>,
}

impl Taken {
    /// Wakes every taken waker. Written out rather than as one chained,
    /// flattened iterator: this runs for every event, and the iterator's
    /// state machine and drop cost about twice the wakes themselves.
    #[inline]
    fn wake(self) {
        if self.poll.is_some() || self.first.is_some() || self.rest.is_some() {
            self.wake_all();
        }
    }

    /// The out-of-line half of [`wake`](Taken::wake).
    #[inline(never)]
    fn wake_all(self) {
        if let Some(w) = self.poll {
            w.wake();
        }
        if let Some(w) = self.first {
            w.wake();
        }
        if let Some(rest) = self.rest {
            for w in rest.into_iter().flatten() {
                w.wake();
            }
        }
    }
}

impl Waiters {
    fn slot(&mut self, direction: Direction) -> &mut Slot {
        match direction {
            Direction::Read => &mut self.reader,
            Direction::Write => &mut self.writer,
        }
    }
}

impl Default for ScheduledIo {
    fn default() -> ScheduledIo {
        ScheduledIo::new()
    }
}

impl ScheduledIo {
    /// Nothing ready, nobody waiting, tick 0.
    pub fn new() -> ScheduledIo {
        ScheduledIo { state: AtomicUsize::new(0), waiters: Mutex::new(Waiters::default()) }
    }

    /// Latches `ready` (ORs it into the flags), bumps the tick, and wakes
    /// the reader if `ready` touches [`Direction::Read`]'s mask and the
    /// writer if it touches [`Direction::Write`]'s. Called by the driver for
    /// each poller event. Empty readiness is ignored.
    pub fn set_readiness(&self, ready: Readiness) {
        if ready.is_empty() {
            return;
        }
        self.update(|state| state | ready.bits() as usize);
        let (reader, writer) = {
            let mut w = self.lock();
            let reader =
                if ready.intersects(Direction::Read.mask()) { w.reader.take() } else { Taken::default() };
            let writer =
                if ready.intersects(Direction::Write.mask()) { w.writer.take() } else { Taken::default() };
            (reader, writer)
        };
        reader.wake();
        writer.wake();
    }

    /// Returns the readiness of `direction` if any of its flags is latched;
    /// otherwise stores `cx`'s waker as the direction's poll waker and
    /// returns `Pending`. The next
    /// [`set_readiness`](ScheduledIo::set_readiness) for the direction, or
    /// [`shutdown`](ScheduledIo::shutdown), wakes it.
    ///
    /// This is the wait of a poll method (`poll_read`, `poll_accept`):
    /// only the most recent call's waker is kept per direction, as tokio
    /// keeps it, so two tasks polling the same direction this way displace
    /// each other. A future of which several may wait at once, and which
    /// must leave nothing behind when dropped, waits through a
    /// [`Waiter`] instead.
    ///
    /// After shutdown it returns `Ready` at once with
    /// [`ReadyEvent::is_shutdown`] set and the direction's whole mask as
    /// readiness.
    pub fn poll_ready(&self, cx: &mut Context<'_>, direction: Direction) -> Poll<ReadyEvent> {
        self.poll_ready_by(cx, direction, None)
    }

    /// A [`Waiter`] on this descriptor: a future's own place among each
    /// direction's waiters, freed when it is dropped.
    pub fn waiter(&self) -> Waiter<'_> {
        Waiter { io: self, keys: [None, None] }
    }

    /// [`poll_ready`](ScheduledIo::poll_ready) as the poll waker (`key`
    /// `None`) or at a waiter's place (`key` `Some`, written on first use).
    ///
    /// The latched case, one atomic load, is inlined into the caller; only
    /// a wait goes to [`park`](Self::park). Half or more of the calls on a
    /// busy connection are the latched case (the write after a read, the
    /// read the wake-up was for), and a call of the whole function cost
    /// about as much as the work in it.
    #[inline]
    fn poll_ready_by(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        key: Option<&mut Option<Key>>,
    ) -> Poll<ReadyEvent> {
        match event(self.state.load(Acquire), direction.mask()) {
            Some(ev) => Poll::Ready(ev),
            None => self.park(cx, direction, key),
        }
    }

    /// The waiting half of [`poll_ready_by`](Self::poll_ready_by): stores
    /// the waker, then looks at the latch again.
    #[inline(never)]
    fn park(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        key: Option<&mut Option<Key>>,
    ) -> Poll<ReadyEvent> {
        let mut w = self.lock();
        let slot = w.slot(direction);
        let (displaced, key) = match key {
            None => (slot.register_poll(cx.waker()), None),
            Some(key) => (slot.register_keyed(key, cx.waker()), Some(key)),
        };
        // Re-check with the waker stored: a `set_readiness` whose update we
        // did not see above takes this lock after us and finds the waker;
        // one that took it before us made its update visible to us through
        // the lock. Either way the wake-up is not lost.
        let ready = event(self.state.load(Acquire), direction.mask());
        // Ready after all: a waiter gives its new place back at once, so
        // that a waiter which returned `Ready` holds no place (see
        // `Waiter::poll_ready`).
        let unneeded = match (ready.is_some(), key) {
            (true, Some(key)) => key.take().and_then(|k| slot.cancel(k)),
            _ => None,
        };
        drop(w);
        drop(displaced);
        drop(unneeded);
        match ready {
            Some(ev) => Poll::Ready(ev),
            None => Poll::Pending,
        }
    }

    /// How many wakers wait in `direction` now: the poll waker, if any,
    /// and every [`Waiter`]'s place. A snapshot, for diagnostics and tests:
    /// it never exceeds one plus the number of waiters alive.
    pub fn waiting(&self, direction: Direction) -> usize {
        self.lock().slot(direction).len()
    }

    /// The flags of `mask` latched now, with the tick they were seen at,
    /// without waiting: no waker is stored, and `None` means none is set.
    /// After [`shutdown`](ScheduledIo::shutdown) it is `mask` with
    /// [`ReadyEvent::is_shutdown`] set, as from `poll_ready`.
    ///
    /// For an attempt that must not wait (a `try_read`): take the event,
    /// try the call, and on `WouldBlock` hand the event to
    /// [`clear_readiness`](ScheduledIo::clear_readiness). Flags and tick
    /// come from one load, so the clear names exactly what was seen.
    pub fn ready_event(&self, mask: Readiness) -> Option<ReadyEvent> {
        event(self.state.load(Acquire), mask)
    }

    /// Clears the flags of `event` (but never [`Readiness::READ_CLOSED`] or
    /// [`Readiness::WRITE_CLOSED`], which are final) if the tick is still
    /// the one `event` was seen at; returns whether it cleared.
    ///
    /// Call it when the IO that `event` allowed returned `WouldBlock`. If an
    /// event arrived since `event` was returned, the tick moved and the flags
    /// stay set: that event may announce data the failed IO call did not see.
    pub fn clear_readiness(&self, event: ReadyEvent) -> bool {
        let clear = event.ready.difference(Readiness::READ_CLOSED | Readiness::WRITE_CLOSED).bits() as usize;
        let mut state = self.state.load(Acquire);
        loop {
            if tick_of(state) != event.tick {
                return false;
            }
            match self.state.compare_exchange_weak(state, state & !clear, AcqRel, Acquire) {
                Ok(_) => return true,
                Err(actual) => state = actual,
            }
        }
    }

    /// Marks the driver gone and wakes both waiters; every later
    /// [`poll_ready`](ScheduledIo::poll_ready) returns `Ready` with
    /// [`ReadyEvent::is_shutdown`] set. Idempotent.
    pub fn shutdown(&self) {
        self.update(|state| state | SHUTDOWN);
        let (reader, writer) = {
            let mut w = self.lock();
            (w.reader.take(), w.writer.take())
        };
        reader.wake();
        writer.wake();
    }

    /// Whether [`shutdown`](ScheduledIo::shutdown) was called.
    pub fn is_shutdown(&self) -> bool {
        self.state.load(Acquire) & SHUTDOWN != 0
    }

    /// The latched flags now (a snapshot, for diagnostics and tests).
    pub fn readiness(&self) -> Readiness {
        readiness_of(self.state.load(Acquire))
    }

    /// The tick now (a snapshot): it moves on every
    /// [`set_readiness`](ScheduledIo::set_readiness) and on shutdown.
    pub fn tick(&self) -> usize {
        tick_of(self.state.load(Acquire))
    }

    /// Applies `f` to the state and bumps the tick, atomically.
    fn update(&self, f: impl Fn(usize) -> usize) {
        let mut state = self.state.load(Acquire);
        loop {
            let next = f(state).wrapping_add(TICK_ONE);
            match self.state.compare_exchange_weak(state, next, AcqRel, Acquire) {
                Ok(_) => return,
                Err(actual) => state = actual,
            }
        }
    }

    /// Locks the waker slots, ignoring poisoning: nothing panics while the
    /// lock is held (wakers run and drop after it is released), so the
    /// slots are consistent even then.
    fn lock(&self) -> MutexGuard<'_, Waiters> {
        self.waiters.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The event `poll_ready` returns for `state`, if a flag of `mask` (a
/// direction's, or two directions') is set or the driver is shut down.
fn event(state: usize, mask: Readiness) -> Option<ReadyEvent> {
    let tick = tick_of(state);
    if state & SHUTDOWN != 0 {
        return Some(ReadyEvent { ready: mask, tick, shutdown: true });
    }
    let ready = readiness_of(state).intersection(mask);
    (!ready.is_empty()).then_some(ReadyEvent { ready, tick, shutdown: false })
}

impl fmt::Debug for ScheduledIo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Acquire);
        f.debug_struct("ScheduledIo")
            .field("readiness", &readiness_of(state))
            .field("shutdown", &(state & SHUTDOWN != 0))
            .field("tick", &tick_of(state))
            .finish_non_exhaustive()
    }
}

/// A future's place among a [`ScheduledIo`]'s waiters, one per direction,
/// taken on the first `Pending` and given back when the `Waiter` is
/// dropped: a wait that is abandoned (the losing branch of a `select!`, a
/// read under a timeout that fired, a task aborted mid-`accept`) leaves no
/// waker behind. Tokio's readiness futures hold a node of an intrusive
/// list for the same reason.
///
/// Keep one `Waiter` for the whole of one wait (across its polls), in the
/// future that waits; a new `Waiter` per poll would take a new place each
/// time. An event in a direction empties that direction's places and wakes
/// them all; the next `Pending` takes a place again.
///
/// ```
/// use spindle_rt::io::{Direction, Readiness, ScheduledIo};
/// use std::task::{Context, Waker};
///
/// let io = ScheduledIo::new();
/// let mut cx = Context::from_waker(Waker::noop());
/// let mut waiter = io.waiter();
/// assert!(waiter.poll_ready(&mut cx, Direction::Read).is_pending());
/// assert_eq!(io.waiting(Direction::Read), 1);
/// drop(waiter); // the wait was abandoned
/// assert_eq!(io.waiting(Direction::Read), 0);
/// ```
pub struct Waiter<'a> {
    io: &'a ScheduledIo,
    /// The place held in each direction (read, write), if any.
    keys: [Option<Key>; 2],
}

impl Waiter<'_> {
    /// As [`ScheduledIo::poll_ready`], but on `Pending` the waker is kept at
    /// this waiter's place for `direction` (taken now if it holds none),
    /// beside any number of other waiters' wakers, until the next event in
    /// `direction`, shutdown, or this waiter's drop.
    pub fn poll_ready(&mut self, cx: &mut Context<'_>, direction: Direction) -> Poll<ReadyEvent> {
        let key = &mut self.keys[direction_index(direction)];
        let ready = self.io.poll_ready_by(cx, direction, Some(&mut *key));
        if ready.is_ready() {
            // Readiness is latched only by `set_readiness` (or shutdown),
            // which then empties the direction's places and voids their
            // keys: if the event that woke us has not done so yet, it is
            // about to. Either way the key names nothing this waiter must
            // give back, so its drop, the usual end of a wait that was
            // woken, takes no lock.
            *key = None;
        }
        ready
    }
}

impl Waiter<'_> {
    /// Whether it holds a key in either direction (its drop then takes
    /// the lock to give the place back).
    #[cfg(test)]
    pub(crate) fn holds_key(&self) -> bool {
        self.keys != [None, None]
    }
}

fn direction_index(direction: Direction) -> usize {
    match direction {
        Direction::Read => 0,
        Direction::Write => 1,
    }
}

impl Drop for Waiter<'_> {
    /// Inlined for the usual end of a wait, a woken waiter holding no
    /// place; `give_back` otherwise.
    #[inline]
    fn drop(&mut self) {
        if self.keys != [None, None] {
            self.give_back();
        }
    }
}

impl Waiter<'_> {
    /// Gives back the places this waiter holds.
    #[inline(never)]
    fn give_back(&mut self) {
        let freed = {
            let mut w = self.io.lock();
            let read = self.keys[0].and_then(|k| w.reader.cancel(k));
            let write = self.keys[1].and_then(|k| w.writer.cancel(k));
            (read, write)
        };
        // Dropped here, with the lock released: a waker's drop may run a
        // task's destructor.
        drop(freed);
    }
}

impl fmt::Debug for Waiter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waiter").field("io", self.io).finish_non_exhaustive()
    }
}
