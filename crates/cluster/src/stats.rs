//! Counters every worker adds to and anyone can sum: nginx's
//! `stub_status` figures plus the accept-path figures the herd
//! measurement needs.
//!
//! Each worker owns one cache-line-sized [`Slot`] and is the only writer
//! of it, so adding is one uncontended relaxed atomic add; a reader sums
//! the slots and may see a figure a few increments old, which is all a
//! status page needs. Under a master the slots live in memory shared by
//! every worker (mapped before the fork); standalone they are on the heap.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// One counter of a worker's [`Slot`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum Counter {
    /// Connections accepted (nginx `accepts`).
    Accepts,
    /// Connections handed to the application (nginx `handled`; lower than
    /// accepts when connections are shed, for lack of descriptors say).
    Handled,
    /// Requests served (nginx `requests`).
    Requests,
    /// Open client connections (nginx `Active connections`).
    Active,
    /// Connections reading a request (nginx `Reading`).
    Reading,
    /// Connections writing a response (nginx `Writing`).
    Writing,
    /// Idle keep-alive connections (nginx `Waiting`).
    Waiting,
    /// Times the worker was woken for a listener (each wake-up ends in one
    /// `accept` that says `EAGAIN`).
    Wakeups,
    /// Wake-ups that accepted nothing: the herd's wasted work.
    FutileWakeups,
    /// Attempts to take the accept mutex.
    MutexTries,
    /// Attempts that got it.
    MutexHeld,
}

/// How many counters a slot has.
pub const COUNTERS: usize = 11;

/// One worker's counters, on a cache line of their own.
#[repr(C, align(128))]
#[derive(Debug, Default)]
pub struct Slot {
    values: [AtomicI64; COUNTERS],
}

impl Slot {
    /// The current value of `c`.
    pub fn get(&self, c: Counter) -> i64 {
        self.values[c as usize].load(Ordering::Relaxed)
    }

    /// Sets the gauges ([`Counter::Active`], [`Counter::Reading`],
    /// [`Counter::Writing`], [`Counter::Waiting`]) to zero and keeps the
    /// cumulative counters: the master does this when a worker dies, since
    /// a dead worker can no longer take back what it added.
    pub fn zero_gauges(&self) {
        for g in [Counter::Active, Counter::Reading, Counter::Writing, Counter::Waiting] {
            self.values[g as usize].store(0, Ordering::Relaxed);
        }
    }

    /// Sets every counter to zero.
    pub fn reset(&self) {
        for v in &self.values {
            v.store(0, Ordering::Relaxed);
        }
    }
}

/// The sums over every worker's slot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    values: [i64; COUNTERS],
}

impl Totals {
    /// The sum of `c` over every worker.
    pub fn get(&self, c: Counter) -> i64 {
        self.values[c as usize]
    }
}

/// Where the slots live.
#[derive(Clone, Debug)]
enum Backing {
    Heap(Arc<[Slot]>),
    /// Slots in a shared mapping that stays mapped for the life of the
    /// process (the master maps it before forking and never unmaps it).
    Shared(&'static [Slot]),
}

/// A worker's handle on the shared counters: adds to its own slot, sums
/// everyone's.
///
/// ```
/// use spindle_cluster::{Counter, Stats};
///
/// let stats = Stats::standalone();
/// stats.add(Counter::Requests, 2);
/// assert_eq!(stats.totals().get(Counter::Requests), 2);
/// ```
#[derive(Clone, Debug)]
pub struct Stats {
    backing: Backing,
    me: usize,
}

impl Stats {
    /// Counters for one process with no master: a single heap slot.
    pub fn standalone() -> Stats {
        Stats { backing: Backing::Heap(Arc::from(vec![Slot::default()])), me: 0 }
    }

    /// The handle of worker slot `me` over `slots`, which stay mapped for
    /// the rest of the process's life.
    ///
    /// # Panics
    /// If `me` is out of range.
    pub fn shared(slots: &'static [Slot], me: usize) -> Stats {
        assert!(me < slots.len(), "stats slot {me} out of {}", slots.len());
        Stats { backing: Backing::Shared(slots), me }
    }

    fn slots(&self) -> &[Slot] {
        match &self.backing {
            Backing::Heap(s) => s,
            Backing::Shared(s) => s,
        }
    }

    /// This worker's slot.
    pub fn mine(&self) -> &Slot {
        &self.slots()[self.me]
    }

    /// Adds `n` (which may be negative, for gauges) to this worker's `c`.
    pub fn add(&self, c: Counter, n: i64) {
        self.mine().values[c as usize].fetch_add(n, Ordering::Relaxed);
    }

    /// Sums every worker's slot.
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for slot in self.slots() {
            for (sum, v) in t.values.iter_mut().zip(&slot.values) {
                *sum += v.load(Ordering::Relaxed);
            }
        }
        t
    }

    /// Every worker's slot, for per-worker tables (the herd measurement).
    pub fn per_worker(&self) -> Vec<Totals> {
        self.slots()
            .iter()
            .map(|slot| {
                let mut t = Totals::default();
                for (out, v) in t.values.iter_mut().zip(&slot.values) {
                    *out = v.load(Ordering::Relaxed);
                }
                t
            })
            .collect()
    }
}
