//! [`interval`]: a stream of evenly spaced ticks.

use super::driver::deadline_after;
use super::sleep::{sleep_until, Sleep};
use super::Instant;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// What an [`Interval`] does about ticks it missed (because the task was
/// not polled in time, or the runtime was busy), as tokio's enum of the same
/// name.
///
/// A tick counts as missed when [`tick`](Interval::tick) completes more
/// than 5 ms after the tick's scheduled instant (tokio's tolerance: a
/// timer is never exact, and a tick that fires a little late is still on
/// time). The late tick itself always fires at once; the variants differ
/// in when the *next* one is due. With a period of 10 ms, ticks due at 0,
/// 10, 20, 30, ..., and a task that stalls from 5 ms to 37 ms:
///
/// ```text
/// Burst: 0 | 37 37 37 (the ticks of 10, 20, 30) | 40 50 60 ...
/// Delay: 0 | 37 (the tick of 10)                | 47 57 67 ...
/// Skip:  0 | 37 (the tick of 10)                | 40 50 60 ...
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks at once, back to back, until the schedule is
    /// caught up; the long-run rate stays exactly one tick per period
    /// (ticks stay on `start + n * period`). The default, as in tokio.
    ///
    /// For work that must happen a fixed number of times per hour, say;
    /// wrong for anything that must not run twice in quick succession.
    #[default]
    Burst,
    /// Fire the late tick now and schedule the next a full period after
    /// it: the schedule shifts by the delay, and ticks are never closer
    /// than `period`. For a heartbeat or a poll that only needs "every
    /// `period` at most".
    Delay,
    /// Fire the late tick now and drop the others that were missed: the
    /// next tick is the next one of the original schedule
    /// (`start + n * period`) after now. Ticks stay on the grid, but the
    /// one after a late tick may come sooner than `period` after it.
    Skip,
}

impl MissedTickBehavior {
    /// The deadline of the tick after one due at `due` that fired at `now`,
    /// late by more than the tolerance.
    fn next_after_late(self, due: Instant, now: Instant, period: Duration) -> Instant {
        let next = match self {
            MissedTickBehavior::Burst => deadline_after(due.into_std(), period),
            MissedTickBehavior::Delay => deadline_after(now.into_std(), period),
            MissedTickBehavior::Skip => {
                // How far `now` is into its period of the grid; the period
                // fits a u128 of nanoseconds, and the remainder is below it.
                let into =
                    now.into_std().saturating_duration_since(due.into_std()).as_nanos() % period.as_nanos();
                let into = Duration::from_nanos(u64::try_from(into).unwrap_or(u64::MAX));
                deadline_after(now.into_std(), period.saturating_sub(into))
            }
        };
        Instant::from_std(next)
    }
}

/// How late a tick may fire and still count as on time; tokio's figure.
const LATE: Duration = Duration::from_millis(5);

/// Ticks every `period`, the first tick at once; see [`Interval`]. The
/// schedule follows the runtime's clock, so a paused runtime ticks at the
/// virtual period without waiting in real time.
///
/// # Panics
/// If `period` is zero. Ticking it panics as a [`Sleep`] does: outside a
/// runtime, if created outside one.
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, the first tick at `start` (on the runtime's
/// clock: see [`Instant`]).
///
/// # Panics
/// If `period` is zero. Ticking it panics as a [`Sleep`] does.
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(!period.is_zero(), "`interval` period must be non-zero");
    Interval { sleep: sleep_until(start), period, missed: MissedTickBehavior::default() }
}

/// Evenly spaced ticks: [`tick`](Interval::tick) completes at `start`, then
/// `start + period`, `start + 2 * period`, and so on, never early. Missed
/// ticks follow [`MissedTickBehavior`] ([`Burst`](MissedTickBehavior::Burst)
/// unless set). One wheel timer serves the whole interval (it is reset, in
/// O(1), after each tick).
///
/// ```
/// use spindle_rt::runtime::Builder;
/// use spindle_rt::time::interval;
/// use std::time::{Duration, Instant};
///
/// let rt = Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let start = Instant::now();
///     let mut every = interval(Duration::from_millis(2));
///     for _ in 0..3 {
///         every.tick().await; // at 0, 2 and 4 ms
///     }
///     assert!(start.elapsed() >= Duration::from_millis(4));
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Interval {
    sleep: Sleep,
    period: Duration,
    missed: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns its scheduled instant.
    pub fn tick(&mut self) -> impl Future<Output = Instant> + '_ {
        poll_fn(move |cx| self.poll_tick(cx))
    }

    /// Polls for the next tick; returns its scheduled instant when it has
    /// come, and schedules the one after.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let due = self.sleep.deadline();
        let now = self.sleep.now();
        let next = if now.into_std() > deadline_after(due.into_std(), LATE) {
            self.missed.next_after_late(due, now, self.period)
        } else {
            Instant::from_std(deadline_after(due.into_std(), self.period))
        };
        self.sleep.reset(next);
        Poll::Ready(due)
    }

    /// Restarts the schedule one period from now: the next tick is due at
    /// `now + period`, and the ones after follow from it. As tokio's
    /// `Interval::reset`.
    ///
    /// ```
    /// use spindle_rt::time::{self, interval, Instant};
    /// use std::time::Duration;
    ///
    /// let rt = spindle_rt::Builder::new_current_thread().start_paused(true).build()?;
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     let mut every = interval(Duration::from_millis(100));
    ///     every.tick().await; // the first tick is at once
    ///     time::advance(Duration::from_millis(30)).await;
    ///     every.reset(); // e.g. a message arrived: postpone the heartbeat
    ///     assert_eq!(every.tick().await, start + Duration::from_millis(130));
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reset(&mut self) {
        let now = self.sleep.now();
        self.reset_at(Instant::from_std(deadline_after(now.into_std(), self.period)));
    }

    /// Makes the next tick due at once; the ones after follow a period
    /// apart from it. As tokio's `Interval::reset_immediately`.
    pub fn reset_immediately(&mut self) {
        let now = self.sleep.now();
        self.reset_at(now);
    }

    /// Makes the next tick due `after` from now; the ones after follow a
    /// period apart from it. As tokio's `Interval::reset_after`.
    pub fn reset_after(&mut self, after: Duration) {
        let now = self.sleep.now();
        self.reset_at(Instant::from_std(deadline_after(now.into_std(), after)));
    }

    /// Makes the next tick due at `deadline` (at once if it has passed);
    /// the ones after follow a period apart from it. As tokio's
    /// `Interval::reset_at`.
    pub fn reset_at(&mut self, deadline: Instant) {
        self.sleep.reset(deadline);
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The current missed-tick behaviour.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    /// Sets how missed ticks are handled from now on.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }
}
