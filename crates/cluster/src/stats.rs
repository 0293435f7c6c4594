//! Counters every worker adds to and anyone can sum: nginx's
//! `stub_status` figures plus the accept-path figures the herd
//! measurement needs.
//!
//! Each worker owns one cache-line-sized [`Slot`] and is the only writer
//! of it, so adding is one uncontended relaxed atomic add; a reader sums
//! the slots and may see a figure a few increments old, which is all a
//! status page needs. Under a master the slots live in memory shared by
//! every worker (mapped before the fork); standalone they are on the heap.

use spindle_rt::sync::Notify;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
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
    /// Open client connections (nginx `Active connections`). The
    /// application adds 1 when it starts serving a connection and takes
    /// 1 back when it is done; `worker_connections` is enforced from the
    /// taking back.
    Active,
    /// Connections reading a request (nginx `Reading`).
    Reading,
    /// Connections writing a response (nginx `Writing`).
    Writing,
    /// Idle keep-alive connections (nginx `Waiting`).
    Waiting,
    /// Times the worker was woken for a listener (each wake-up ends in one
    /// `accept` that says `EAGAIN`) or for its channel from the master
    /// (each ends in one `recvmsg` that says `EAGAIN`; with
    /// [`AcceptStrategy::Master`](crate::AcceptStrategy::Master) that is
    /// how connections arrive).
    Wakeups,
    /// Wake-ups that accepted (or received) no connection: the herd's
    /// wasted work.
    FutileWakeups,
    /// Attempts to take the accept mutex.
    MutexTries,
    /// Attempts that got it.
    MutexHeld,
    /// Connections the worker is done with: closed by the application
    /// (counted where [`Counter::Active`] is taken back), or lost on the
    /// way from the master (a descriptor the kernel could not install).
    /// With [`AcceptStrategy::Master`](crate::AcceptStrategy::Master) the
    /// master subtracts it from what it has handed the worker, which
    /// gives the worker's load without waiting for the gauge.
    Closed,
}

/// How many counters a slot has.
pub const COUNTERS: usize = 12;

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
    conns: Option<Arc<Conns>>,
}

/// A worker's own count of its open connections, for
/// `worker_connections`: connections handed out by its `Incoming` minus
/// those the application has closed ([`Counter::Active`] taken back).
/// Counting the hand-outs rather than reading the gauge matters: a
/// connection's task may not have run (and added to the gauge) before
/// the next accept.
#[derive(Debug, Default)]
struct Conns {
    opened: AtomicU64,
    closed: AtomicU64,
    /// Someone waits in [`Stats::closed_one`].
    waiting: AtomicBool,
    room: Notify,
}

impl Stats {
    /// Counters for one process with no master: a single heap slot.
    pub fn standalone() -> Stats {
        Stats { backing: Backing::Heap(Arc::from(vec![Slot::default()])), me: 0, conns: Some(Arc::default()) }
    }

    /// The handle of worker slot `me` over `slots`, which stay mapped for
    /// the rest of the process's life. (It does not count this process's
    /// open connections: the cluster's workers get a handle that does,
    /// for `worker_connections`.)
    ///
    /// # Panics
    /// If `me` is out of range.
    pub fn shared(slots: &'static [Slot], me: usize) -> Stats {
        assert!(me < slots.len(), "stats slot {me} out of {}", slots.len());
        Stats { backing: Backing::Shared(slots), me, conns: None }
    }

    /// [`shared`](Stats::shared), also counting this process's open
    /// connections (a worker's).
    pub(crate) fn for_worker(slots: &'static [Slot], me: usize) -> Stats {
        Stats { conns: Some(Arc::default()), ..Stats::shared(slots, me) }
    }

    /// Connections handed out and not yet closed, in this process.
    pub(crate) fn open_connections(&self) -> u64 {
        self.conns.as_ref().map_or(0, |c| {
            let closed = c.closed.load(Ordering::SeqCst);
            c.opened.load(Ordering::Relaxed).saturating_sub(closed)
        })
    }

    /// Counts a connection handed to the application.
    pub(crate) fn opened_one(&self) {
        if let Some(c) = &self.conns {
            c.opened.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Completes at the next connection closed after this call (with no
    /// connection counting, never).
    pub(crate) async fn closed_one(&self) {
        let Some(c) = &self.conns else { return std::future::pending().await };
        let next = c.room.notified();
        c.waiting.store(true, Ordering::SeqCst);
        next.await;
    }

    /// Completes once fewer than `limit` connections are open.
    pub(crate) async fn room_below(&self, limit: u64) {
        let Some(c) = &self.conns else { return };
        loop {
            let next = c.room.notified();
            c.waiting.store(true, Ordering::SeqCst);
            if self.open_connections() < limit {
                return;
            }
            next.await;
        }
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
        if c == Counter::Active && n < 0 {
            self.mine().values[Counter::Closed as usize].fetch_add(-n, Ordering::Relaxed);
            if let Some(conns) = &self.conns {
                conns.closed.fetch_add(n.unsigned_abs(), Ordering::SeqCst);
                // A plain load first: the waiter is rare, the close is not.
                if conns.waiting.load(Ordering::SeqCst) && conns.waiting.swap(false, Ordering::SeqCst) {
                    conns.room.notify_waiters();
                }
            }
        }
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
