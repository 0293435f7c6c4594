//! [`TimerWheel`]: insert, remove, find the next wake-up, and expire.
//!
//! The wheel keeps one clock reading, `now`: the tick it has been advanced
//! to. Every pending timer sits on exactly one list, chosen from its deadline
//! and `now` (see [`level`](super::level)): a slot of the lowest level whose
//! block contains both, or the overflow list when the deadline lies in a
//! later [`WHEEL_SPAN`]-aligned block than `now`.
//!
//! Two facts follow from that placement and keep every operation cheap:
//!
//! * the earliest pending slot is the first occupied slot of the lowest
//!   non-empty level (a level-`L` slot lies after now's whole level-`L`
//!   slot, which holds every lower level), so
//!   [`next_expiration`](TimerWheel::next_expiration) looks at no more than
//!   six bitmaps;
//! * `now` only ever moves to the start of the earliest pending slot, or to a
//!   target before every pending slot, so no timer is ever left in a slot
//!   that lies behind `now`.
//!
//! When a slot of level `L > 0` comes due its timers are *cascaded*: each is
//! relinked by the same rule, which now puts it on a lower level because
//! `now` has reached its slot. A level-0 slot is one tick wide, so its timers
//! are due as a whole and are handed out from its head, which keeps equal
//! deadlines in insertion order.

use super::entry::{List, ListId, Slab, TimerKey, NIL};
use super::level::{level_for, slot_of, Level, LEVELS, WHEEL_SPAN};
use std::fmt;

/// A hierarchical timer wheel: O(1) insert and remove, expiry in deadline
/// order.
///
/// Time is counted in ticks of one millisecond from a start the owner picks
/// (the runtime's time driver counts from when it was created). The wheel
/// never reads a clock: the owner passes the current tick to
/// [`poll_expired`](Self::poll_expired) or [`advance`](Self::advance).
///
/// # The driver's contract
///
/// 1. Insert a timer with [`insert`](Self::insert); its deadline is the first
///    tick at which it may fire. Round a deadline *up* to whole ticks (see
///    [`ms_ceil`](super::ms_ceil)) so a timer never fires early.
/// 2. Sleep until [`next_expiration`](Self::next_expiration), or forever when
///    it is `None`. The tick returned may be the start of a coarse slot that
///    holds no timer due yet: the wheel then only moves timers to finer
///    slots.
/// 3. Call [`advance`](Self::advance) (or [`poll_expired`](Self::poll_expired)
///    until it returns `None`) with the current tick; fire what it yields.
/// 4. Ask [`next_expiration`](Self::next_expiration) again.
///
/// Every timer is yielded exactly once, at the first advance whose tick is at
/// or past its deadline, and none before. Timers are yielded in order of
/// deadline, equal deadlines in the order they were inserted (or
/// [`reset`](Self::reset)). A timer whose deadline had already passed when it
/// was inserted counts as due at the wheel's current tick and fires at the
/// next advance.
///
/// # Range
///
/// Six levels of 64 slots cover [`WHEEL_SPAN`] (`2^36` ms, about 2.2 years).
/// A deadline further ahead is not clamped: it waits on an overflow list and
/// is moved into the wheel when the wheel reaches its span, so it still fires
/// on time. Any `u64` deadline is accepted.
///
/// # Example
///
/// ```
/// use spindle_rt::time::TimerWheel;
///
/// let mut wheel = TimerWheel::new();
/// let a = wheel.insert(100, "a");
/// let b = wheel.insert(5, "b");
/// assert_eq!(wheel.remove(a), Some("a"));
/// assert_eq!(wheel.next_expiration(), Some(5));
///
/// let mut fired = Vec::new();
/// wheel.advance(10, &mut fired);
/// assert_eq!(fired, vec![(b, "b")]);
/// assert!(wheel.is_empty());
/// ```
pub struct TimerWheel<T> {
    slab: Slab<T>,
    levels: [Level; LEVELS],
    /// Timers whose deadline lies in a later `WHEEL_SPAN` block than `now`.
    overflow: List,
    /// When `overflow` is non-empty: the start of a `WHEEL_SPAN` block at or
    /// before the earliest overflow deadline's block. Only a lower bound
    /// (removing the earliest does not raise it), which at worst costs one
    /// early look at the overflow list.
    overflow_wake: u64,
    /// The tick the wheel has been advanced to. Never decreases.
    now: u64,
}

/// What comes due next, and when.
enum Due {
    Slot { level: usize, slot: usize, at: u64 },
    Overflow { at: u64 },
}

impl Due {
    fn at(&self) -> u64 {
        match *self {
            Due::Slot { at, .. } | Due::Overflow { at } => at,
        }
    }
}

impl<T> TimerWheel<T> {
    /// An empty wheel at tick 0.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty wheel at tick 0 with room for `capacity` timers before it
    /// reallocates.
    pub fn with_capacity(capacity: usize) -> Self {
        TimerWheel {
            slab: Slab::with_capacity(capacity),
            levels: [const { Level::new() }; LEVELS],
            overflow: List::EMPTY,
            overflow_wake: 0,
            now: 0,
        }
    }

    /// The number of pending timers.
    pub fn len(&self) -> usize {
        self.slab.len()
    }

    /// Whether no timer is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The tick the wheel has been advanced to: the largest tick passed to
    /// [`advance`](Self::advance) or [`poll_expired`](Self::poll_expired) so
    /// far, or, while a `poll_expired` sweep is part way through, the
    /// deadline of the timers it is handing out.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Adds a timer that fires at the first advance to `deadline` or later,
    /// and returns its key. O(1).
    ///
    /// A deadline at or before [`now`](Self::now) fires at the next advance.
    ///
    /// # Panics
    /// When `u32::MAX - 1` timers are already pending.
    pub fn insert(&mut self, deadline: u64, value: T) -> TimerKey {
        let key = self.slab.alloc(deadline, value);
        self.link(key.index);
        key
    }

    /// Cancels the timer `key` names and returns its value, or `None` when it
    /// has already expired or been removed. O(1).
    pub fn remove(&mut self, key: TimerKey) -> Option<T> {
        let index = self.slab.lookup(key)?;
        self.unlink(index);
        Some(self.slab.free(index))
    }

    /// Moves the pending timer `key` to a new deadline, keeping its key and
    /// value; returns `false` when it is no longer pending. O(1). Among
    /// equal deadlines it now counts as the most recently inserted.
    pub fn reset(&mut self, key: TimerKey, deadline: u64) -> bool {
        let Some(index) = self.slab.lookup(key) else { return false };
        self.unlink(index);
        self.slab.set_deadline(index, deadline);
        self.link(index);
        true
    }

    /// Whether `key` names a pending timer.
    pub fn contains(&self, key: TimerKey) -> bool {
        self.slab.lookup(key).is_some()
    }

    /// The deadline of the pending timer `key`, as given to
    /// [`insert`](Self::insert) or [`reset`](Self::reset).
    pub fn deadline(&self, key: TimerKey) -> Option<u64> {
        self.slab.lookup(key).map(|i| self.slab.deadline(i))
    }

    /// The value of the pending timer `key`.
    pub fn get(&self, key: TimerKey) -> Option<&T> {
        self.slab.lookup(key).map(|i| self.slab.value(i))
    }

    /// The value of the pending timer `key`, mutably.
    pub fn get_mut(&mut self, key: TimerKey) -> Option<&mut T> {
        self.slab.lookup(key).map(|i| self.slab.value_mut(i))
    }

    /// The tick at which the owner must next call [`advance`](Self::advance),
    /// or `None` when no timer is pending.
    ///
    /// Never later than the earliest pending deadline, and never earlier
    /// than [`now`](Self::now) (a value equal to `now` means timers are due
    /// already). It may be earlier than every deadline: it is then the start
    /// of a coarse slot whose timers the next advance moves to finer slots,
    /// after which this returns a later tick. A timer `d` ticks away causes
    /// at most one such early wake-up per level it passes through (at most
    /// six).
    pub fn next_expiration(&self) -> Option<u64> {
        self.next_due().map(|d| d.at())
    }

    /// Advances the wheel to tick `now` and returns one timer whose deadline
    /// is at or before it, or `None` when none is left.
    ///
    /// Call it until it returns `None`; timers come out in deadline order.
    /// Between calls the caller may insert and remove timers: one inserted
    /// with a deadline at or before `now` is still handed out by this sweep.
    /// A `now` below [`now`](Self::now) is treated as equal to it (the wheel's
    /// clock never goes backwards).
    pub fn poll_expired(&mut self, now: u64) -> Option<(TimerKey, T)> {
        let now = now.max(self.now);
        loop {
            let due = match self.next_due() {
                Some(due) if due.at() <= now => due,
                _ => {
                    self.now = now;
                    return None;
                }
            };
            // `at >= self.now` always (see `next_due`), so this only moves
            // forward.
            self.now = due.at();
            match due {
                Due::Slot { level: 0, slot, .. } => return Some(self.pop_due(slot)),
                Due::Slot { level, slot, .. } => self.cascade(level, slot),
                Due::Overflow { .. } => self.cascade_overflow(),
            }
        }
    }

    /// Advances the wheel to tick `now` and moves every timer whose deadline
    /// is at or before it into `out`, in deadline order; returns how many.
    pub fn advance(&mut self, now: u64, out: &mut impl Extend<(TimerKey, T)>) -> usize {
        let mut n = 0;
        while let Some(fired) = self.poll_expired(now) {
            out.extend(Some(fired));
            n += 1;
        }
        n
    }

    /// The earliest slot (or the overflow list) that needs attention.
    fn next_due(&self) -> Option<Due> {
        for (level, l) in self.levels.iter().enumerate() {
            if let Some((slot, at)) = l.next_occupied(level, self.now) {
                return Some(Due::Slot { level, slot, at });
            }
        }
        if self.overflow.is_empty() {
            return None;
        }
        Some(Due::Overflow { at: self.overflow_wake.max(self.now) })
    }

    /// Links the unlinked entry `index` onto the list its deadline and
    /// `self.now` select.
    fn link(&mut self, index: u32) {
        let at = self.slab.deadline(index).max(self.now);
        let level = level_for(self.now, at);
        if level == LEVELS {
            let block = at & !(WHEEL_SPAN - 1);
            if self.overflow.is_empty() || block < self.overflow_wake {
                self.overflow_wake = block;
            }
            self.slab.push_back(&mut self.overflow, ListId::Overflow, index);
            return;
        }
        let slot = slot_of(level, at);
        let l = &mut self.levels[level];
        let id = ListId::Slot { level: level as u8, slot: slot as u8 };
        self.slab.push_back(&mut l.slots[slot], id, index);
        l.set_occupied(slot, true);
    }

    /// Unlinks the linked entry `index` from whichever list holds it.
    fn unlink(&mut self, index: u32) {
        match self.slab.list_of(index) {
            ListId::Overflow => self.slab.unlink(&mut self.overflow, index),
            ListId::Slot { level, slot } => {
                let (level, slot) = (level as usize, slot as usize);
                let l = &mut self.levels[level];
                self.slab.unlink(&mut l.slots[slot], index);
                if l.slots[slot].is_empty() {
                    l.set_occupied(slot, false);
                }
            }
        }
    }

    /// Takes the first timer of the due level-0 slot `slot`.
    fn pop_due(&mut self, slot: usize) -> (TimerKey, T) {
        let l = &mut self.levels[0];
        let index = self.slab.pop_front(&mut l.slots[slot]).expect("occupied bit set on an empty slot");
        if l.slots[slot].is_empty() {
            l.set_occupied(slot, false);
        }
        let key = self.slab.key(index);
        (key, self.slab.free(index))
    }

    /// Relinks every timer of the due slot `slot` of `level`; with `now` at
    /// the slot's start, each lands on a lower level.
    fn cascade(&mut self, level: usize, slot: usize) {
        let l = &mut self.levels[level];
        let list = std::mem::replace(&mut l.slots[slot], List::EMPTY);
        l.set_occupied(slot, false);
        self.relink_all(list);
    }

    /// Relinks every overflow timer; those in the block `now` has reached go
    /// into the wheel, the rest back on the overflow list.
    fn cascade_overflow(&mut self) {
        let list = std::mem::replace(&mut self.overflow, List::EMPTY);
        self.relink_all(list);
    }

    fn relink_all(&mut self, list: List) {
        let mut index = list.head;
        while index != NIL {
            // Read the successor before `link` rewrites this entry's links.
            let next = self.slab.next(index);
            self.link(index);
            index = next;
        }
    }
}

impl<T> Default for TimerWheel<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for TimerWheel<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerWheel")
            .field("now", &self.now)
            .field("len", &self.len())
            .field("next_expiration", &self.next_expiration())
            .finish()
    }
}
