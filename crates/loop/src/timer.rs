//! Timers: a binary min-heap keyed by (deadline, start sequence), as libuv's.
//!
//! Equal deadlines fire in the order they were started. Insert is O(log n);
//! cancel is O(1): a stopped or restarted timer leaves its old heap entry
//! behind, recognised as stale because the entry's sequence no longer matches
//! the timer's, and skipped when it reaches the top. When stale entries
//! outnumber live ones the heap is rebuilt, so a connection timer restarted
//! on every request cannot grow the heap without bound. Expired timers are
//! collected before any callback runs, so a timer a callback starts with a
//! zero timeout waits for the next iteration instead of looping forever.

use crate::handle::{HandleId, Kind};
use crate::Loop;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::time::Duration;

/// The callback of a timer.
pub type TimerCb = Box<dyn FnMut(&mut Loop, TimerId)>;

/// Names a timer; see [`Loop::timer_start`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimerId(pub(crate) HandleId);

impl TimerId {
    /// The untyped handle, for [`Loop::close`] and friends.
    pub fn handle(self) -> HandleId {
        self.0
    }
}

pub(crate) struct Timer {
    cb: Option<TimerCb>,
    /// Absolute deadline, nanoseconds on the loop clock.
    deadline: u64,
    /// The sequence of the live heap entry; 0 when stopped.
    seq: u64,
    repeat: Option<Duration>,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    deadline: u64,
    seq: u64,
    id: HandleId,
}

impl PartialOrd for HandleId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for HandleId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.index, self.gen).cmp(&(other.index, other.gen))
    }
}

/// The heap and its bookkeeping.
#[derive(Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<Entry>>,
    next_seq: u64,
    stale: usize,
    expired: Vec<(HandleId, u64)>,
}

/// The rebuild threshold: below this many stale entries a rebuild costs more
/// than it saves.
const MIN_STALE_FOR_REBUILD: usize = 1024;

impl Timers {
    /// The earliest live deadline.
    pub(crate) fn next_deadline(&mut self, handles: &crate::handle::Handles) -> Option<u64> {
        while let Some(Reverse(top)) = self.heap.peek() {
            if is_live(handles, top) {
                return Some(top.deadline);
            }
            self.heap.pop();
            self.stale = self.stale.saturating_sub(1);
        }
        None
    }
}

fn is_live(handles: &crate::handle::Handles, e: &Entry) -> bool {
    matches!(handles.get(e.id), Some(h) if matches!(&h.kind, Kind::Timer(t) if t.seq == e.seq))
}

impl Loop {
    /// Makes a stopped timer. Start it with [`timer_start`](Loop::timer_start).
    pub fn timer_new(&mut self) -> TimerId {
        TimerId(self.handles.insert(Kind::Timer(Timer { cb: None, deadline: 0, seq: 0, repeat: None })))
    }

    /// Arms `timer` to call `cb` after `timeout`, then every `repeat` if
    /// given. Restarting a running timer moves it. A zero `repeat` is the same
    /// as none (libuv's rule).
    ///
    /// # Errors
    /// `InvalidInput` when `timeout` (or `repeat`) is so large the deadline
    /// would overflow the loop clock (about 584 years), and `NotFound` for a
    /// closed timer.
    pub fn timer_start(
        &mut self,
        timer: TimerId,
        timeout: Duration,
        repeat: Option<Duration>,
        cb: impl FnMut(&mut Loop, TimerId) + 'static,
    ) -> io::Result<()> {
        let deadline = self.deadline_after(timeout)?;
        let repeat = repeat.filter(|r| !r.is_zero());
        if let Some(r) = repeat {
            deadline_checked(deadline, r)?;
        }
        self.arm(timer.0, deadline, repeat, Some(Box::new(cb)))
    }

    /// Convenience: a new timer started once; see [`timer_start`](Loop::timer_start).
    pub fn timer_once(
        &mut self,
        timeout: Duration,
        cb: impl FnMut(&mut Loop, TimerId) + 'static,
    ) -> io::Result<TimerId> {
        let t = self.timer_new();
        if let Err(e) = self.timer_start(t, timeout, None, cb) {
            self.handles.remove(t.0);
            return Err(e);
        }
        Ok(t)
    }

    /// Disarms `timer`; its callback is kept for [`timer_again`](Loop::timer_again).
    pub fn timer_stop(&mut self, timer: TimerId) {
        if let Some(h) = self.handles.get_mut(timer.0) {
            if let Kind::Timer(t) = &mut h.kind {
                if t.seq != 0 {
                    t.seq = 0;
                    self.timers.stale += 1;
                }
            }
        }
        self.handles.set_active(timer.0, false);
        self.maybe_rebuild_timers();
    }

    /// Restarts a repeating timer from now with its repeat interval
    /// (`uv_timer_again`); does nothing to a timer without one.
    pub fn timer_again(&mut self, timer: TimerId) -> io::Result<()> {
        let repeat = match self.handles.get(timer.0).map(|h| &h.kind) {
            Some(Kind::Timer(t)) => t.repeat,
            _ => return Err(crate::io_watch::stale(timer.0)),
        };
        if let Some(r) = repeat {
            let deadline = self.deadline_after(r)?;
            self.arm(timer.0, deadline, Some(r), None)?;
        }
        Ok(())
    }

    /// Time left until `timer` fires, zero if due, `None` if stopped.
    pub fn timer_due_in(&self, timer: TimerId) -> Option<Duration> {
        match self.handles.get(timer.0).map(|h| &h.kind) {
            Some(Kind::Timer(t)) if t.seq != 0 => {
                Some(Duration::from_nanos(t.deadline.saturating_sub(self.now)))
            }
            _ => None,
        }
    }

    fn deadline_after(&self, timeout: Duration) -> io::Result<u64> {
        deadline_checked(self.now, timeout)
    }

    fn arm(
        &mut self,
        id: HandleId,
        deadline: u64,
        repeat: Option<Duration>,
        cb: Option<TimerCb>,
    ) -> io::Result<()> {
        let seq = {
            self.timers.next_seq += 1;
            self.timers.next_seq
        };
        let Some(h) = self.handles.get_mut(id) else { return Err(crate::io_watch::stale(id)) };
        if h.closing {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "cannot start a closing timer"));
        }
        let Kind::Timer(t) = &mut h.kind else { return Err(crate::io_watch::stale(id)) };
        if t.seq != 0 {
            self.timers.stale += 1;
        }
        t.deadline = deadline;
        t.seq = seq;
        t.repeat = repeat;
        if cb.is_some() {
            t.cb = cb;
        }
        self.timers.heap.push(Reverse(Entry { deadline, seq, id }));
        self.handles.set_active(id, true);
        Ok(())
    }

    fn maybe_rebuild_timers(&mut self) {
        let t = &mut self.timers;
        if t.stale >= MIN_STALE_FOR_REBUILD && t.stale * 2 > t.heap.len() {
            let handles = &self.handles;
            let live: Vec<_> = t.heap.drain().filter(|Reverse(e)| is_live(handles, e)).collect();
            t.heap = live.into();
            t.stale = 0;
        }
    }

    /// The timers phase: collect every timer due by the cached clock, then run
    /// them in (deadline, start order).
    pub(crate) fn run_timers(&mut self) {
        let mut expired = std::mem::take(&mut self.timers.expired);
        while let Some(Reverse(top)) = self.timers.heap.peek() {
            if top.deadline > self.now {
                break;
            }
            let e = *top;
            self.timers.heap.pop();
            if is_live(&self.handles, &e) {
                expired.push((e.id, e.seq));
            } else {
                self.timers.stale = self.timers.stale.saturating_sub(1);
            }
        }
        for &(id, seq) in &expired {
            self.fire_timer(id, seq);
        }
        expired.clear();
        self.timers.expired = expired;
    }

    fn fire_timer(&mut self, id: HandleId, seq: u64) {
        let Some(h) = self.handles.get_mut(id) else { return };
        let Kind::Timer(t) = &mut h.kind else { return };
        // A callback earlier in this batch may have stopped or restarted it.
        if t.seq != seq {
            return;
        }
        let Some(mut cb) = t.cb.take() else { return };
        let late = self.now.saturating_sub(t.deadline);
        // Re-arm repeating timers before the callback, so the callback may
        // stop them; one-shot timers become inactive.
        match t.repeat {
            Some(r) => {
                let deadline = deadline_checked(self.now, r).unwrap_or(u64::MAX);
                let _ = self.arm(id, deadline, Some(r), None);
            }
            None => {
                t.seq = 0;
                self.handles.set_active(id, false);
            }
        }
        self.lag_note_timer(late);
        self.timed(id, |lp| cb(lp, TimerId(id)));
        if let Some(h) = self.handles.get_mut(id) {
            if let Kind::Timer(t) = &mut h.kind {
                t.cb.get_or_insert(cb);
            }
        }
    }
}

fn deadline_checked(now: u64, timeout: Duration) -> io::Result<u64> {
    u64::try_from(timeout.as_nanos()).ok().and_then(|ns| now.checked_add(ns)).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("a timer of {timeout:?} overflows the loop clock (at most about 584 years)"),
        )
    })
}
