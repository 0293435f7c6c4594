//! The runtime's clock, which tests can pause: [`pause`], [`resume`],
//! [`advance`], and the [`Clock`] inside each runtime's time driver.
//!
//! The mechanism is described in the [`time`](super) module's docs,
//! under *Paused time*.

use super::driver::deadline_after;
use super::ms_ceil;
use crate::runtime::context;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// The panic of pausing a multi-thread runtime's clock.
pub(crate) const NEEDS_CURRENT_THREAD: &str =
    "`time::pause()` requires the `current_thread` spindle-rt runtime \
     (`Builder::new_current_thread()`, the default of `#[spindle_rt::test]`): a multi-thread runtime's clock \
     cannot be paused";
/// The panic of the clock functions outside a runtime.
const NO_RUNTIME: &str = "time cannot be frozen from outside the spindle-rt runtime";
/// The panic of [`pause`] on a paused clock.
const ALREADY_FROZEN: &str = "time is already frozen";
/// The panic of [`resume`] and [`advance`] on a running clock.
const NOT_FROZEN: &str = "time is not frozen";

/// A runtime's clock: the system's, or one that stands still while paused.
pub(crate) struct Clock {
    /// The driver's tick 0: [`pause`] rounds the frozen reading up to a
    /// whole number of milliseconds after it.
    origin: std::time::Instant,
    /// Whether this clock may be paused (current-thread runtime only).
    pausable: bool,
    /// Set when first paused, never cleared: until then the clock is the
    /// system's and `now` takes no lock.
    touched: AtomicBool,
    /// Kept equal to `inner.unfrozen.is_none()` once touched: a lock-free
    /// answer for the scheduler, which asks on every park.
    paused: AtomicBool,
    inner: Mutex<Inner>,
    /// [`spawn_blocking`](crate::spawn_blocking) closures in flight: while
    /// any is, the clock does not auto-advance.
    inhibit: AtomicUsize,
}

struct Inner {
    /// The clock's reading at `unfrozen`, or its frozen reading.
    base: std::time::Instant,
    /// When (system time) the clock last started running; `None` while it
    /// is paused.
    unfrozen: Option<std::time::Instant>,
}

impl Clock {
    /// A clock whose tick 0 is `origin`; paused there if `start_paused`.
    ///
    /// # Panics
    /// With [`NEEDS_CURRENT_THREAD`] if `start_paused` but not `pausable`.
    pub(crate) fn new(origin: std::time::Instant, pausable: bool, start_paused: bool) -> Clock {
        assert!(pausable || !start_paused, "{NEEDS_CURRENT_THREAD}");
        Clock {
            origin,
            pausable,
            touched: AtomicBool::new(start_paused),
            paused: AtomicBool::new(start_paused),
            inner: Mutex::new(Inner { base: origin, unfrozen: (!start_paused).then_some(origin) }),
            inhibit: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        crate::lock(&self.inner)
    }

    /// The clock's reading.
    pub(crate) fn now(&self) -> std::time::Instant {
        if !self.touched.load(Ordering::Acquire) {
            return std::time::Instant::now();
        }
        self.lock().now()
    }

    /// The clock's reading at the moment the system clock read `real`
    /// (for a paused clock, its frozen reading).
    pub(crate) fn at(&self, real: std::time::Instant) -> std::time::Instant {
        if !self.touched.load(Ordering::Acquire) {
            return real;
        }
        let inner = self.lock();
        match inner.unfrozen {
            Some(unfrozen) => inner.base + real.saturating_duration_since(unfrozen),
            None => inner.base,
        }
    }

    /// Whether the clock has ever been paused: from then on it is the
    /// runtime's own (read under a lock, with no system call), and a test
    /// steps it deliberately.
    pub(crate) fn is_virtual(&self) -> bool {
        self.touched.load(Ordering::Acquire)
    }

    /// Whether the clock stands still.
    pub(crate) fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Acquire)
    }

    /// Freezes the clock, at its reading rounded up to a whole millisecond
    /// after `origin`.
    pub(crate) fn pause(&self) -> Result<(), &'static str> {
        if !self.pausable {
            return Err(NEEDS_CURRENT_THREAD);
        }
        let mut inner = self.lock();
        if inner.unfrozen.is_none() {
            return Err(ALREADY_FROZEN);
        }
        let since = inner.now().saturating_duration_since(self.origin);
        inner.base = deadline_after(self.origin, Duration::from_millis(ms_ceil(since)));
        inner.unfrozen = None;
        self.touched.store(true, Ordering::Release);
        self.paused.store(true, Ordering::Release);
        Ok(())
    }

    /// Lets the clock run again from its frozen reading.
    pub(crate) fn resume(&self) -> Result<(), &'static str> {
        if !self.pausable {
            return Err(NEEDS_CURRENT_THREAD);
        }
        let mut inner = self.lock();
        if inner.unfrozen.is_some() {
            return Err(NOT_FROZEN);
        }
        inner.unfrozen = Some(std::time::Instant::now());
        self.paused.store(false, Ordering::Release);
        Ok(())
    }

    /// Moves the paused clock forward by `d` (saturating about 30 years
    /// ahead, as deadlines do).
    pub(crate) fn advance(&self, d: Duration) -> Result<(), &'static str> {
        if !self.pausable {
            return Err(NEEDS_CURRENT_THREAD);
        }
        let mut inner = self.lock();
        if inner.unfrozen.is_some() {
            return Err(NOT_FROZEN);
        }
        inner.base = deadline_after(inner.base, d);
        Ok(())
    }

    /// Moves the paused clock forward to `to` (no-op if it reads later, or
    /// if it is running); whether it moved.
    pub(crate) fn advance_to(&self, to: std::time::Instant) -> bool {
        let mut inner = self.lock();
        if inner.unfrozen.is_some() || to <= inner.base {
            return false;
        }
        inner.base = to;
        true
    }

    /// Whether the clock may auto-advance now: paused, and no blocking
    /// closure in flight.
    pub(crate) fn can_auto_advance(&self) -> bool {
        // SeqCst pairs with `allow_auto_advance`: a closure's result is
        // published (its wake-up queued) before its count is given back, so
        // a scheduler that reads the count as zero then sees the wake-up.
        self.is_paused() && self.inhibit.load(Ordering::SeqCst) == 0
    }

    /// A blocking closure started: hold auto-advance until it is done.
    pub(crate) fn inhibit_auto_advance(&self) {
        self.inhibit.fetch_add(1, Ordering::SeqCst);
    }

    /// A blocking closure is done (and its result published): it no longer
    /// holds auto-advance. Returns whether the clock is paused (the caller
    /// then wakes the runtime, which may be sleeping only because of it).
    pub(crate) fn allow_auto_advance(&self) -> bool {
        self.inhibit.fetch_sub(1, Ordering::SeqCst);
        self.is_paused()
    }
}

impl Inner {
    fn now(&self) -> std::time::Instant {
        match self.unfrozen {
            Some(unfrozen) => self.base + unfrozen.elapsed(),
            None => self.base,
        }
    }
}

/// The current runtime's time driver.
///
/// # Panics
/// Outside a runtime, with tokio's message for it.
#[track_caller]
fn driver() -> std::sync::Arc<super::driver::TimeDriver> {
    match context::time_driver() {
        Some(driver) => driver,
        None => panic!("{NO_RUNTIME}"),
    }
}

/// Pauses the current runtime's clock: from now on
/// [`Instant::now`](super::Instant::now) stands still, and time moves only
/// by [`advance`] or by auto-advance (when the runtime has nothing to do
/// but wait for a timer, the clock jumps to that timer's deadline).
/// Sleeps, timeouts and intervals then complete as soon as nothing else
/// can run, in the order of their deadlines: a test of an hour-long
/// timeout takes no real time at all.
///
/// The clock freezes at its current reading rounded up to a whole
/// millisecond of the runtime's timer wheel (less than a millisecond
/// forward), so that sleeps of whole milliseconds end exactly on their
/// deadline; see [Paused time](super#paused-time) for how auto-advance
/// decides the runtime is idle, and what it does about pending IO.
///
/// Usually a test starts paused instead, with
/// [`Builder::start_paused`](crate::runtime::Builder::start_paused) or
/// `#[spindle_rt::test(start_paused = true)]`.
///
/// # Panics
/// Outside a spindle-rt runtime; on a multi-thread runtime (only the
/// current-thread runtime can pause, as with tokio); if the clock is
/// already paused.
///
/// # Example
///
/// ```
/// use spindle_rt::time::{self, Instant};
/// use std::time::Duration;
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// let real = std::time::Instant::now();
/// rt.block_on(async {
///     time::pause();
///     let start = Instant::now();
///     time::sleep(Duration::from_secs(3600)).await; // auto-advances
///     assert_eq!(start.elapsed(), Duration::from_secs(3600));
/// });
/// assert!(real.elapsed() < Duration::from_secs(60));
/// # Ok::<(), std::io::Error>(())
/// ```
#[track_caller]
pub fn pause() {
    if let Err(msg) = driver().pause() {
        panic!("{msg}");
    }
}

/// Lets the current runtime's paused clock run again, at real speed, from
/// where it stands: [`Instant::now`](super::Instant::now) keeps whatever
/// lead [`advance`] gave it, and never goes back.
///
/// # Panics
/// Outside a spindle-rt runtime; on a multi-thread runtime; if the clock
/// is not paused.
#[track_caller]
pub fn resume() {
    if let Err(msg) = driver().resume() {
        panic!("{msg}");
    }
}

/// Moves the current runtime's paused clock forward by `duration`, wakes
/// every timer due by then (in deadline order), and yields once, so that
/// the woken tasks are queued ahead of the caller and run before it
/// resumes (up to the scheduler's 61 tasks per tick).
///
/// Unlike auto-advance, this moves the clock even while other work is
/// ready: a test uses it to step through a schedule, checking what has and
/// has not happened at each point.
///
/// # Panics
/// Outside a spindle-rt runtime; on a multi-thread runtime; if the clock
/// is not paused (the panic happens on the first poll).
///
/// # Example
///
/// ```
/// use spindle_rt::time::{self, Instant};
/// use std::time::Duration;
///
/// let rt = spindle_rt::Builder::new_current_thread().start_paused(true).build()?;
/// rt.block_on(async {
///     let start = Instant::now();
///     let short = spindle_rt::spawn(time::sleep(Duration::from_millis(10)));
///     let long = spindle_rt::spawn(time::sleep(Duration::from_millis(20)));
///     time::advance(Duration::from_millis(15)).await;
///     assert_eq!(start.elapsed(), Duration::from_millis(15));
///     assert!(short.is_finished());
///     assert!(!long.is_finished());
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn advance(duration: Duration) {
    let driver = driver();
    if let Err(msg) = driver.advance(duration) {
        panic!("{msg}");
    }
    crate::runtime::yield_now().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_running_clock_is_the_system_clock() {
        let clock = Clock::new(Instant::now(), true, false);
        let before = Instant::now();
        let now = clock.now();
        assert!(now >= before && now <= Instant::now());
        assert!(!clock.is_paused());
        assert_eq!(clock.at(before), before);
    }

    #[test]
    fn pause_freezes_on_a_whole_millisecond_and_resume_keeps_the_lead() {
        let origin = Instant::now() - Duration::from_micros(2_500);
        let clock = Clock::new(origin, true, false);
        clock.pause().unwrap();
        let frozen = clock.now();
        let since = frozen - origin;
        assert_eq!(since.subsec_nanos() % 1_000_000, 0, "on a tick: {since:?}");
        assert!(since >= Duration::from_micros(2_500));
        assert_eq!(clock.now(), frozen);
        assert_eq!(clock.pause(), Err(ALREADY_FROZEN));
        clock.advance(Duration::from_secs(60)).unwrap();
        assert_eq!(clock.now(), frozen + Duration::from_secs(60));
        assert!(!clock.advance_to(frozen), "never backwards");
        assert!(clock.advance_to(frozen + Duration::from_secs(61)));
        clock.resume().unwrap();
        assert_eq!(clock.resume(), Err(NOT_FROZEN));
        assert_eq!(clock.advance(Duration::from_secs(1)), Err(NOT_FROZEN));
        assert!(clock.now() >= frozen + Duration::from_secs(61), "resumed from where it stood");
    }

    #[test]
    fn a_start_paused_clock_stands_on_its_origin() {
        let origin = Instant::now();
        let clock = Clock::new(origin, true, true);
        assert!(clock.is_paused());
        assert_eq!(clock.now(), origin);
        assert!(clock.can_auto_advance());
        clock.inhibit_auto_advance();
        assert!(!clock.can_auto_advance());
        assert!(clock.allow_auto_advance());
        assert!(clock.can_auto_advance());
    }

    #[test]
    fn a_multi_thread_clock_cannot_pause() {
        let clock = Clock::new(Instant::now(), false, false);
        assert_eq!(clock.pause(), Err(NEEDS_CURRENT_THREAD));
        assert_eq!(clock.resume(), Err(NEEDS_CURRENT_THREAD));
        assert_eq!(clock.advance(Duration::from_secs(1)), Err(NEEDS_CURRENT_THREAD));
    }
}
