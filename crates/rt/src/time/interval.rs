//! [`interval`]: a stream of evenly spaced ticks.

use super::driver::deadline_after;
use super::sleep::{sleep_until, Sleep};
use super::Instant;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// What an [`Interval`] does about ticks it missed (because the task was
/// not polled in time, or the runtime was busy).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks at once, back to back, until the schedule is
    /// caught up; the long-run rate stays exactly one tick per period
    /// (ticks stay on `start + n * period`). The default, as in tokio.
    #[default]
    Burst,
    /// Fire one tick now and schedule the next a full period after it: the
    /// schedule shifts, and ticks are never closer than `period`.
    Delay,
}

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
        let on_schedule = Instant::from_std(deadline_after(due.into_std(), self.period));
        let next = match self.missed {
            MissedTickBehavior::Delay if now > on_schedule => {
                Instant::from_std(deadline_after(now.into_std(), self.period))
            }
            _ => on_schedule,
        };
        self.sleep.reset(next);
        Poll::Ready(due)
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
