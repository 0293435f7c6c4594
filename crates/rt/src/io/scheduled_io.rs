//! [`ScheduledIo`]: one descriptor's readiness latch and its waiters, per
//! direction.
//! The protocol is in the [module docs](super).

use super::readiness::{Direction, Readiness, ReadyEvent};
use crate::loom::sync::atomic::{AtomicUsize, Ordering::AcqRel, Ordering::Acquire};
use crate::loom::sync::{Mutex, MutexGuard};
use std::collections::HashMap;
use std::fmt;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

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
/// Any number of tasks may wait in each direction (tasks sharing an
/// `Arc<UdpSocket>`, each in `recv_from`): an event wakes them all, the one
/// that finds data takes it, and the others get `WouldBlock`, clear the
/// readiness by its tick and wait again.
pub struct ScheduledIo {
    /// Readiness flags, the shutdown flag and the tick; layout above.
    state: AtomicUsize,
    /// The waiting readers and writers. Lock rule: held only to store,
    /// take or swap wakers and to re-read `state`; no waker is woken or
    /// dropped while it is held.
    waiters: Mutex<Waiters>,
}

/// The fewest extra wakers (past the inline first one) a direction keeps
/// before it sweeps its list; see [`Slot`] for how the bound adapts.
pub(crate) const MAX_EXTRA_WAITERS: usize = 32;

/// Sweeps closer together than this are a burst of tasks that all still
/// wait (each sweep wakes them and they register again), so the next one
/// doubles the bound; a sweep after a longer quiet resets it to what came
/// back.
const SWEEP_BURST: Duration = Duration::from_secs(1);

#[derive(Default)]
struct Waiters {
    reader: Slot,
    writer: Slot,
}

/// The wakers waiting in one direction: the first in a field of its own,
/// so the usual case (one task per direction) never allocates, the others
/// in a list.
///
/// A future dropped without an event leaves its waker here (nothing
/// deregisters it), so the list is swept when it outgrows its bound: each
/// extra waker is asked whether it still waits by being woken (a task that
/// still waits polls again and registers again, which marks it back), and
/// a waker asked at the previous sweep that has not come back is dropped.
/// Dropping a waker is safe only once it was woken after its last
/// registration, and an asked waker was.
///
/// The bound adapts. A sweep after a quiet spell sets it to what the list
/// keeps plus [`MAX_EXTRA_WAITERS`], so wakers of dropped futures cost at
/// most about twice that. Sweeps in a burst (within [`SWEEP_BURST`] of each
/// other) mean that the tasks woken to prove themselves are still coming
/// back: the bound doubles, so however many tasks really wait, a few sweeps
/// make room for them all and they sleep. (A fixed bound that woke what it
/// displaced had more than 33 waiting tasks displace each other for ever:
/// a busy loop on an idle socket.) The price: a burst of short-lived tasks
/// that each wait on the socket and go away looks the same, so their
/// wakers (and the task cells they keep) can stay until the next event in
/// this direction, or the next sweep after a quiet second.
struct Slot {
    first: Option<Waker>,
    /// Keyed by [`identity`]: finding a task's waker is O(1) however many
    /// wait (a churn of short-lived waiters made a list scan quadratic).
    more: HashMap<WakerId, Extra>,
    /// The list's length at which the next new waker sweeps it.
    limit: usize,
    /// When the list was last swept.
    last_sweep: Option<Instant>,
}

/// One extra waker, and whether the last sweep asked it to register again.
struct Extra {
    waker: Waker,
    asked: bool,
}

impl Default for Slot {
    fn default() -> Slot {
        Slot { first: None, more: HashMap::new(), limit: MAX_EXTRA_WAITERS, last_sweep: None }
    }
}

impl Slot {
    /// Adds `waker` unless an equal one (the same task) is already here.
    /// Returns wakers to wake once the lock is released: those a sweep
    /// asks to register again, and those it drops.
    fn register(&mut self, waker: &Waker) -> Vec<Waker> {
        self.register_at(waker, Instant::now)
    }

    /// [`register`](Slot::register) with the clock a sweep reads.
    fn register_at(&mut self, waker: &Waker, now: impl FnOnce() -> Instant) -> Vec<Waker> {
        match &self.first {
            None => {
                self.first = Some(waker.clone());
                return Vec::new();
            }
            Some(w) if w.will_wake(waker) => return Vec::new(),
            Some(_) => {}
        }
        if let Some(extra) = self.more.get_mut(&identity(waker)) {
            extra.asked = false;
            return Vec::new();
        }
        if self.more.len() < self.limit {
            self.more.insert(identity(waker), Extra { waker: waker.clone(), asked: false });
            return Vec::new();
        }
        self.sweep(waker, now())
    }

    /// Drops the wakers the last sweep asked that have not come back, asks
    /// the rest, moves the bound, and adds `waker` (polling right now, so
    /// not asked).
    fn sweep(&mut self, waker: &Waker, now: Instant) -> Vec<Waker> {
        // Moved out, not dropped here: a waker's drop may run a task's
        // destructor, which must not happen under the lock.
        let mut wake = Vec::with_capacity(self.more.len());
        for (id, mut extra) in std::mem::take(&mut self.more) {
            if extra.asked {
                wake.push(extra.waker);
            } else {
                extra.asked = true;
                wake.push(extra.waker.clone());
                self.more.insert(id, extra);
            }
        }
        let burst = self.last_sweep.is_some_and(|at| now.saturating_duration_since(at) < SWEEP_BURST);
        self.limit = if burst { self.limit.saturating_mul(2) } else { self.more.len() + MAX_EXTRA_WAITERS };
        self.more.insert(identity(waker), Extra { waker: waker.clone(), asked: false });
        self.last_sweep = Some(now);
        wake
    }

    /// Takes every waker, leaving the slot empty (the bound stays).
    fn take(&mut self) -> (Option<Waker>, Vec<Waker>) {
        let more = std::mem::take(&mut self.more).into_values().map(|e| e.waker).collect();
        (self.first.take(), more)
    }
}

/// A waker's identity, as [`Waker::will_wake`] compares them: its data
/// pointer and its vtable.
type WakerId = (usize, usize);

fn identity(waker: &Waker) -> WakerId {
    (waker.data() as usize, std::ptr::from_ref(waker.vtable()) as usize)
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
                if ready.intersects(Direction::Read.mask()) { w.reader.take() } else { Default::default() };
            let writer =
                if ready.intersects(Direction::Write.mask()) { w.writer.take() } else { Default::default() };
            (reader, writer)
        };
        wake(reader);
        wake(writer);
    }

    /// Returns the readiness of `direction` if any of its flags is latched;
    /// otherwise adds `cx`'s waker to that direction's waiters (once per
    /// task: an equal waker is not stored twice) and returns `Pending`. The next
    /// [`set_readiness`](ScheduledIo::set_readiness) for the direction, or
    /// [`shutdown`](ScheduledIo::shutdown), wakes it.
    ///
    /// After shutdown it returns `Ready` at once with
    /// [`ReadyEvent::is_shutdown`] set and the direction's whole mask as
    /// readiness.
    pub fn poll_ready(&self, cx: &mut Context<'_>, direction: Direction) -> Poll<ReadyEvent> {
        if let Some(ev) = event(self.state.load(Acquire), direction.mask()) {
            return Poll::Ready(ev);
        }
        let mut w = self.lock();
        let swept = w.slot(direction).register(cx.waker());
        // Re-check with the waker stored: a `set_readiness` whose update we
        // did not see above takes this lock after us and finds the waker;
        // one that took it before us made its update visible to us through
        // the lock. Either way the wake-up is not lost.
        let ready = event(self.state.load(Acquire), direction.mask());
        drop(w);
        wake((None, swept));
        match ready {
            Some(ev) => Poll::Ready(ev),
            None => Poll::Pending,
        }
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
        wake(reader);
        wake(writer);
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

/// Wakes what a [`Slot`] held (called with the lock released).
fn wake((first, more): (Option<Waker>, Vec<Waker>)) {
    if let Some(w) = first {
        w.wake();
    }
    for w in more {
        w.wake();
    }
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

#[cfg(all(test, not(loom)))]
mod slot_tests {
    use super::{Slot, MAX_EXTRA_WAITERS, SWEEP_BURST};
    use std::collections::VecDeque;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::Arc;
    use std::task::{Wake, Waker};
    use std::time::{Duration, Instant};

    /// A task's waker, counting its wake-ups; `id` names the task.
    struct Task {
        id: usize,
        wakes: AtomicUsize,
    }

    impl Wake for Task {
        fn wake(self: Arc<Self>) {
            self.wakes.fetch_add(1, SeqCst);
        }
    }

    fn tasks(n: usize) -> Vec<Arc<Task>> {
        (0..n).map(|id| Arc::new(Task { id, wakes: AtomicUsize::new(0) })).collect()
    }

    fn waker(task: &Arc<Task>) -> Waker {
        Waker::from(Arc::clone(task))
    }

    /// Waker identity to task id (the slot hands back `Waker`s).
    fn id_of(w: &Waker, all: &[Arc<Task>]) -> usize {
        all.iter().position(|t| waker(t).will_wake(w)).expect("one of ours")
    }

    #[test]
    fn a_hundred_waiting_tasks_settle_in_a_few_sweeps() {
        let all = tasks(100);
        let mut slot = Slot::default();
        // A run queue: each task registers when it runs; a woken task runs
        // again (once, however often woken), as on a scheduler.
        let mut queue: VecDeque<usize> = (0..all.len()).collect();
        let mut queued = vec![true; all.len()];
        let mut polls = 0;
        while let Some(id) = queue.pop_front() {
            queued[id] = false;
            polls += 1;
            assert!(polls < 1000, "still cycling after {polls} polls");
            for w in slot.register(&waker(&all[id])) {
                let id = id_of(&w, &all);
                if !std::mem::replace(&mut queued[id], true) {
                    queue.push_back(id);
                }
            }
        }
        // Every task is still registered, so an event reaches them all.
        let (first, more) = slot.take();
        let mut ids: Vec<usize> = first.iter().chain(&more).map(|w| id_of(w, &all)).collect();
        ids.sort();
        assert_eq!(ids, (0..all.len()).collect::<Vec<_>>());
    }

    #[test]
    fn wakers_of_dropped_futures_stay_bounded_and_are_woken_before_dropped() {
        let all = tasks(5000);
        let mut slot = Slot::default();
        let mut clock = Instant::now();
        // Each task registers once and never again (its future was dropped
        // without an event), one every 100 ms: sweeps are far apart.
        let step = Duration::from_millis(100);
        assert!(step * MAX_EXTRA_WAITERS as u32 > SWEEP_BURST);
        for task in &all {
            clock += step;
            for w in slot.register_at(&waker(task), || clock) {
                w.wake();
            }
            assert!(slot.more.len() <= 2 * MAX_EXTRA_WAITERS + 1, "{} extra wakers kept", slot.more.len());
        }
        // A waker the slot let go of was woken first: had its future still
        // waited, it would have registered again.
        let (first, more) = slot.take();
        let held: Vec<usize> = first.iter().chain(&more).map(|w| id_of(w, &all)).collect();
        for task in &all {
            assert!(
                held.contains(&task.id) || task.wakes.load(SeqCst) > 0,
                "task {} dropped unwoken",
                task.id
            );
        }
    }
}
