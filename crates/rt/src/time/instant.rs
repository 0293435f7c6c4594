//! [`Instant`]: `std::time::Instant` read from the runtime's clock.

use crate::runtime::context;
use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

/// A measurement of the current runtime's clock: a
/// [`std::time::Instant`] that [`now`](Instant::now) reads from the
/// runtime's time driver instead of the system, so that it stands still
/// while the runtime's time is [paused](super::pause) and jumps when the
/// clock is advanced. It is tokio's `tokio::time::Instant`, and what
/// [`sleep_until`](super::sleep_until), [`timeout_at`](super::timeout_at),
/// [`interval_at`](super::interval_at) and
/// [`Sleep::deadline`](super::Sleep::deadline) take and return.
///
/// While the clock has never been paused, `Instant::now()` is
/// `std::time::Instant::now()`, and so it is outside any runtime:
/// converting with [`from_std`](Instant::from_std) and
/// [`into_std`](Instant::into_std) (or `From`) is free and exact. After a
/// paused clock is advanced and resumed, the runtime's instants run ahead
/// of the system's by however far it was advanced.
///
/// Arithmetic is `std`'s: adding or subtracting a `Duration` panics on
/// overflow (the `checked_*` methods return `None` instead), and the
/// difference of two instants saturates at zero.
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
///     assert_eq!(Instant::now(), start, "a paused clock stands still");
///     time::advance(Duration::from_millis(1500)).await;
///     assert_eq!(start.elapsed(), Duration::from_millis(1500));
///     assert_eq!(Instant::now() - start, Duration::from_millis(1500));
///     assert_eq!(start - Instant::now(), Duration::ZERO, "saturates");
///     let std: std::time::Instant = start.into_std();
///     assert_eq!(Instant::from_std(std), start);
///     assert_eq!(start.checked_add(Duration::from_secs(2)), Some(start + Duration::from_secs(2)));
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    std: std::time::Instant,
}

impl Instant {
    /// The current runtime's clock reading; outside a runtime, the
    /// system's (`std::time::Instant::now()`).
    pub fn now() -> Instant {
        let now = context::with_time_driver(|driver| driver.map(|d| d.now()));
        Instant { std: now.unwrap_or_else(std::time::Instant::now) }
    }

    /// The `Instant` that is the same point as `std`.
    pub fn from_std(std: std::time::Instant) -> Instant {
        Instant { std }
    }

    /// The same point as a `std::time::Instant`.
    pub fn into_std(self) -> std::time::Instant {
        self.std
    }

    /// The time from `earlier` to `self`; zero if `earlier` is later.
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.std.saturating_duration_since(earlier.std)
    }

    /// The time from `earlier` to `self`; `None` if `earlier` is later.
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.std.checked_duration_since(earlier.std)
    }

    /// The time from `earlier` to `self`; zero if `earlier` is later.
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.std.saturating_duration_since(earlier.std)
    }

    /// The time from `self` to [`Instant::now()`](Instant::now) (the
    /// current runtime's clock); zero if `self` is later.
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    /// `self + duration`, or `None` if that cannot be represented.
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        self.std.checked_add(duration).map(Instant::from_std)
    }

    /// `self - duration`, or `None` if that cannot be represented.
    pub fn checked_sub(&self, duration: Duration) -> Option<Instant> {
        self.std.checked_sub(duration).map(Instant::from_std)
    }
}

impl From<std::time::Instant> for Instant {
    fn from(std: std::time::Instant) -> Instant {
        Instant::from_std(std)
    }
}

impl From<Instant> for std::time::Instant {
    fn from(instant: Instant) -> std::time::Instant {
        instant.into_std()
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// # Panics
    /// If the result cannot be represented.
    fn add(self, rhs: Duration) -> Instant {
        Instant::from_std(self.std + rhs)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;

    /// # Panics
    /// If the result cannot be represented.
    fn sub(self, rhs: Duration) -> Instant {
        Instant::from_std(self.std - rhs)
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, rhs: Duration) {
        *self = *self - rhs;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    /// The time from `rhs` to `self`; zero if `rhs` is later.
    fn sub(self, rhs: Instant) -> Duration {
        self.duration_since(rhs)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.std.fmt(f)
    }
}
