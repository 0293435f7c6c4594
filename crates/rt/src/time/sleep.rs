//! [`sleep`], [`sleep_until`] and the [`Sleep`] future.

use super::driver::{deadline_after, TimeDriver};
use super::{Instant, TimerKey};
use crate::runtime::context;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// Waits until `duration` has elapsed: a [`Sleep`] whose deadline is now
/// plus `duration`, measured when `sleep` is called (not when first
/// polled), on the runtime's clock ([`Instant::now`]). While the runtime's
/// time is [paused](super::pause), the sleep completes when the clock is
/// advanced to its deadline, by [`advance`](super::advance) or by
/// auto-advance, and takes no real time.
///
/// The wait is never shorter than `duration`: deadlines are rounded up to
/// the time driver's millisecond ticks, so it may be up to about a
/// millisecond longer (plus however late the runtime gets to it). A
/// zero duration completes on first poll. A duration too large for the
/// clock, such as [`Duration::MAX`], saturates to about 30 years from now:
/// effectively forever, with no overflow and no panic.
///
/// The sleep belongs to the runtime current where it is created, or, if
/// created outside any (say, as the argument of `block_on`), to the one
/// current where it is first polled.
///
/// # Panics
/// The returned `Sleep` panics when polled outside a spindle-rt runtime
/// without having been created inside one ("must be called from within a
/// spindle-rt runtime").
///
/// # Example
///
/// ```
/// use spindle_rt::runtime::Builder;
/// use spindle_rt::time::sleep;
/// use std::time::{Duration, Instant};
///
/// let rt = Builder::new_current_thread().build()?;
/// let start = Instant::now();
/// rt.block_on(sleep(Duration::from_millis(5)));
/// assert!(start.elapsed() >= Duration::from_millis(5));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    let driver = context::time_driver();
    let now = match &driver {
        Some(driver) => driver.now(),
        None => std::time::Instant::now(),
    };
    let mut sleep = Sleep::new(driver, Instant::from_std(deadline_after(now, duration)));
    // The deadline is the reading just taken: due already. Any other
    // duration is decided on first poll, without reading the clock again.
    sleep.passed = duration.is_zero() && sleep.driver.is_some();
    sleep
}

/// Waits until `deadline`; see [`sleep`] (also for which runtime it
/// belongs to). A deadline already past when `sleep_until` is called
/// completes on first poll; one that passes between then and the first
/// poll completes at the runtime's next turn (the system clock is read
/// once, here, not again on the first poll; a [paused](super::pause)
/// clock is read on the first poll too, so a test that
/// [advances](super::advance) it past the deadline sees it done at once).
///
/// # Panics
/// As [`sleep`]'s: when polled outside a runtime, if created outside one.
pub fn sleep_until(deadline: Instant) -> Sleep {
    let mut sleep = Sleep::new(context::time_driver(), deadline);
    sleep.passed = sleep.driver.is_some() && sleep.now() >= deadline;
    sleep
}

/// A future that completes at a deadline; made by [`sleep`] and
/// [`sleep_until`].
///
/// It takes a timer in its runtime's wheel on its first `Pending` poll,
/// stores the newest waker on every later poll, and gives the timer back
/// when dropped, in O(1): a cancelled sleep (a `timeout` whose future won)
/// leaves nothing behind. It is `Send`, `Sync` and `Unpin`, and may be
/// dropped on any thread; it should be polled on its runtime's thread
/// (elsewhere it still works, waking the loop to re-arm, but only while the
/// runtime is running).
///
/// # Panics
/// Polling it outside a runtime when it was created outside one, or after
/// its runtime was dropped, panics.
pub struct Sleep {
    /// The runtime's driver; `None` until first polled if created outside
    /// a runtime.
    driver: Option<Arc<TimeDriver>>,
    deadline: Instant,
    /// `deadline` in the driver's ticks, rounded up; meaningful once
    /// `state` is `Registered`.
    tick: u64,
    /// The runtime's clock had reached `deadline` when the sleep was made
    /// or reset: the first poll completes without a timer.
    passed: bool,
    state: State,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Not in the wheel: not polled yet, or reset.
    Idle,
    /// In the wheel under this key until it fires or is cancelled.
    Registered(TimerKey),
    /// Completed.
    Elapsed,
}

impl Sleep {
    fn new(driver: Option<Arc<TimeDriver>>, deadline: Instant) -> Sleep {
        Sleep { driver, deadline, tick: 0, passed: false, state: State::Idle }
    }

    /// The instant this sleep completes at (or after).
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Its runtime's clock reading (the current runtime's, or the system's,
    /// if it has not found one yet).
    pub(crate) fn now(&self) -> Instant {
        match &self.driver {
            Some(driver) => Instant::from_std(driver.now()),
            None => Instant::now(),
        }
    }

    /// Whether it has completed (been polled to `Ready`).
    pub fn is_elapsed(&self) -> bool {
        self.state == State::Elapsed
    }

    /// Moves the deadline, even after the sleep completed (it then waits
    /// again). Keeps its wheel entry if it has one: O(1).
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
        self.passed = self.driver.is_some() && self.now() >= deadline;
        self.state = match (self.state, &self.driver) {
            (State::Registered(key), Some(driver)) if self.passed => {
                driver.cancel(key);
                State::Idle
            }
            (State::Registered(key), Some(driver)) => {
                self.tick = driver.deadline_tick(deadline.into_std());
                if driver.reset(key, self.tick, on_runtime_thread(driver)) {
                    State::Registered(key)
                } else {
                    State::Idle
                }
            }
            _ => State::Idle,
        };
    }
}

fn on_runtime_thread(driver: &Arc<TimeDriver>) -> bool {
    context::arms_timer_of(driver)
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        crate::coop::poll_budgeted(cx, |cx| {
            let this = self.get_mut();
            match this.state {
                State::Elapsed => Poll::Ready(()),
                State::Idle => {
                    if this.driver.is_none() {
                        // Made outside a runtime: its clock is read now.
                        this.driver = context::time_driver();
                        let Some(driver) = &this.driver else { panic!("{}", context::NO_RUNTIME) };
                        this.passed = driver.now() >= this.deadline.into_std();
                    }
                    let Some(driver) = &this.driver else { panic!("{}", context::NO_RUNTIME) };
                    // On the system clock, no reading here (one per sleep is
                    // enough, and the first poll usually follows its making at
                    // once): due when made, or when the wheel has already passed
                    // its tick; a deadline that passed in between fires at the
                    // next turn. A virtual clock costs nothing to read, and a
                    // test that moved it past the deadline sees it done at once.
                    if !this.passed && driver.clock().is_virtual() {
                        this.passed = driver.now() >= this.deadline.into_std();
                    }
                    if !this.passed {
                        this.tick = driver.deadline_tick(this.deadline.into_std());
                        if let Some(key) = driver.register(this.tick, cx.waker(), on_runtime_thread(driver)) {
                            this.state = State::Registered(key);
                            return Poll::Pending;
                        }
                    }
                    this.state = State::Elapsed;
                    Poll::Ready(())
                }
                State::Registered(key) => {
                    let driver = this.driver.as_ref().expect("a registered sleep has a driver");
                    if driver.update_waker(key, cx.waker()) {
                        Poll::Pending
                    } else {
                        // The driver removed it: it fired.
                        this.state = State::Elapsed;
                        Poll::Ready(())
                    }
                }
            }
        })
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let (State::Registered(key), Some(driver)) = (self.state, &self.driver) {
            driver.cancel(key);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep").field("deadline", &self.deadline).field("state", &self.state).finish()
    }
}
