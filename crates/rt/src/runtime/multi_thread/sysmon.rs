//! The monitor thread, after Go's `sysmon`: notices a task that has held a
//! worker longer than a threshold, and reports it with where it was spawned.
//!
//! A future cannot be preempted, so a task that computes for a second, or
//! calls a blocking function, holds its worker for that second: the tasks
//! queued behind it wait, and on a two-worker runtime half the capacity is
//! gone. Go's sysmon wakes every 20 µs to 10 ms, and for each P compares its
//! `schedtick` (bumped at every goroutine switch) with what it saw last
//! time: unchanged for 10 ms means one goroutine has run that long, and Go
//! preempts it. Spindle cannot preempt, so it reports instead: each worker
//! publishes a poll counter and the id of the task it is polling (plain
//! relaxed stores, no read-modify-write and no clock read on the hot path); the monitor
//! samples them every [`sample_period`] (half the threshold), and when one worker's counter has
//! not moved for the threshold while a task is running, it calls the
//! report callback once for that poll (by default, a line on stderr naming
//! the task, its spawn location and how long it has held the worker). The
//! fix is the user's: `spawn_blocking`, `block_in_place`, or a `yield_now`
//! in the loop.

use super::Shared;
use crate::task::TaskId;
use crate::CachePadded;
use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// How often the monitor samples the workers, for a report `threshold`:
/// half of it (50 ms for the default 100 ms), within 1 ms and 1 s.
///
/// Half the threshold is often enough: a poll that holds a worker for the
/// threshold spans at least one whole period, so it is reported by the
/// time it has held the worker for twice the threshold. Sampling more
/// often buys no report that matters earlier, and wakes an idle process
/// for nothing (a fixed 10 ms, the earlier period, was 100 wake-ups a
/// second on a runtime with no work).
pub fn sample_period(threshold: Duration) -> Duration {
    (threshold / 2).clamp(Duration::from_millis(1), Duration::from_secs(1))
}

/// The default threshold for reporting a task that holds a worker.
pub const DEFAULT_BLOCKED_THRESHOLD: Duration = Duration::from_millis(100);

/// The callback that receives [`BlockedTask`] reports.
pub(crate) type BlockedTaskCb = Arc<dyn Fn(&BlockedTask) + Send + Sync>;

/// A task that has held a worker thread longer than the runtime's
/// threshold (see [`Builder::blocked_threshold`](crate::Builder::blocked_threshold)).
#[derive(Debug, Clone)]
pub struct BlockedTask {
    /// The worker (P) index.
    pub worker: usize,
    /// The task.
    pub task: TaskId,
    /// Where it was spawned, if it is still alive when reported.
    pub spawned_at: Option<&'static Location<'static>>,
    /// How long it has been in one poll so far (at least the threshold,
    /// give or take one sampling period).
    pub held_for: Duration,
}

impl fmt::Display for BlockedTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "spindle-rt: task {} ", self.task)?;
        if let Some(at) = self.spawned_at {
            write!(f, "(spawned at {at}) ")?;
        }
        write!(
            f,
            "has held worker {} for {} ms without yielding; move blocking work to \
             `spawn_blocking` or `block_in_place`",
            self.worker,
            self.held_for.as_millis()
        )
    }
}

/// What a worker publishes about its current poll.
#[derive(Default)]
struct Slot {
    /// Bumped at the start and end of every poll.
    polls: AtomicU64,
    /// The id of the task being polled, 0 when none.
    task: AtomicU64,
}

/// The per-worker slots and the monitor's settings.
pub(crate) struct Monitor {
    /// One slot per worker, each on cache lines of its own: a worker writes
    /// its slot twice per poll, and slots sharing a line would make every
    /// poll on one worker steal that line from the other (false sharing).
    slots: Box<[CachePadded<Slot>]>,
    threshold: Duration,
    on_blocked: Option<BlockedTaskCb>,
    stop: Mutex<bool>,
    stopped: Condvar,
    active: AtomicBool,
}

impl Monitor {
    pub(crate) fn new(workers: usize, threshold: Duration, on_blocked: Option<BlockedTaskCb>) -> Monitor {
        Monitor {
            slots: (0..workers).map(|_| CachePadded(Slot::default())).collect(),
            threshold,
            on_blocked,
            stop: Mutex::new(false),
            stopped: Condvar::new(),
            active: AtomicBool::new(true),
        }
    }

    /// Worker `index` starts polling `task`. Only the thread holding P
    /// `index` writes its slot, so plain loads and stores do: no
    /// read-modify-write on the hot path.
    pub(crate) fn running(&self, index: usize, task: TaskId) {
        let slot = &self.slots[index];
        slot.task.store(task.as_u64(), Relaxed);
        slot.polls.store(slot.polls.load(Relaxed).wrapping_add(1), Relaxed);
    }

    /// Worker `index` finished a poll (called only by the thread still
    /// holding P `index`).
    pub(crate) fn idle(&self, index: usize) {
        let slot = &self.slots[index];
        slot.task.store(0, Relaxed);
        slot.polls.store(slot.polls.load(Relaxed).wrapping_add(1), Relaxed);
    }

    /// Makes the monitor thread exit.
    pub(crate) fn stop(&self) {
        *self.stop.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.active.store(false, Relaxed);
        self.stopped.notify_all();
    }

    fn report(&self, report: &BlockedTask) {
        match &self.on_blocked {
            Some(cb) => cb(report),
            None => eprintln!("{report}"),
        }
    }
}

/// What the monitor remembers of one worker between samples.
#[derive(Clone, Copy)]
struct Seen {
    polls: u64,
    since: Instant,
    reported: bool,
}

/// Starts the monitor thread of `shared`.
pub(crate) fn start(shared: Arc<Shared>) -> std::io::Result<thread::JoinHandle<()>> {
    thread::Builder::new().name("spindle-rt-sysmon".into()).spawn(move || run(&shared))
}

fn run(shared: &Shared) {
    let monitor = &shared.monitor;
    let now = Instant::now();
    let mut seen: Vec<Seen> = monitor
        .slots
        .iter()
        .map(|s| Seen { polls: s.polls.load(Relaxed), since: now, reported: false })
        .collect();
    let mut stop = monitor.stop.lock().unwrap_or_else(PoisonError::into_inner);
    while !*stop {
        // A timed wait: the period of the sampling, and the way `stop`
        // reaches this thread at once.
        let period = sample_period(monitor.threshold);
        stop = monitor.stopped.wait_timeout(stop, period).unwrap_or_else(PoisonError::into_inner).0;
        if *stop {
            break;
        }
        let now = Instant::now();
        for (index, (slot, seen)) in monitor.slots.iter().zip(seen.iter_mut()).enumerate() {
            let polls = slot.polls.load(Relaxed);
            let task = slot.task.load(Relaxed);
            if polls != seen.polls || task == 0 {
                *seen = Seen { polls, since: now, reported: false };
                continue;
            }
            let held_for = now - seen.since;
            if held_for >= monitor.threshold && !seen.reported {
                seen.reported = true;
                let task = TaskId::from_u64(task);
                let spawned_at = shared.spawned_at(task);
                let report = BlockedTask { worker: index, task, spawned_at, held_for };
                drop(stop);
                monitor.report(&report);
                stop = monitor.stop.lock().unwrap_or_else(PoisonError::into_inner);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sample_period;
    use std::time::Duration;

    #[test]
    fn the_sampling_period_is_half_the_threshold_within_bounds() {
        let ms = Duration::from_millis;
        assert_eq!(sample_period(ms(100)), ms(50));
        assert_eq!(sample_period(ms(30)), ms(15));
        assert_eq!(sample_period(ms(1)), ms(1), "never below 1 ms");
        assert_eq!(sample_period(Duration::ZERO), ms(1));
        assert_eq!(sample_period(Duration::from_secs(60)), Duration::from_secs(1), "never above 1 s");
    }
}
