//! Time: [`sleep`], [`sleep_until`], [`timeout`], [`interval`], the
//! hierarchical timer wheel they run on, and the runtime's clock
//! ([`Instant`]), which tests can [`pause`] and [`advance`].
//!
//! Every runtime has one time driver: one [`TimerWheel`] of wakers and one
//! spindle-loop timer. A [`Sleep`] takes a wheel entry on its first poll
//! (deadline rounded *up* to whole milliseconds, so it never ends early),
//! keeps the newest waker in it, and removes it when dropped, in O(1). The
//! loop timer is armed for the wheel's next expiration whenever that
//! changes, just before the runtime lets the loop sleep in `epoll_wait`;
//! when it fires, the driver advances the wheel to now, wakes every expired
//! sleep and re-arms. So a million pending sleeps cost a million wheel
//! entries and *one* loop timer, and a runtime whose sleeps all get
//! cancelled never touches the loop at all. The wheel itself is a plain
//! data structure that never reads a clock; the driver converts `Instant`s
//! to ticks and decides when to advance it.
//!
//! These functions need a spindle-rt runtime (they panic outside one): the
//! timer goes into the current runtime's wheel.
//!
//! # Paused time
//!
//! Deadlines are [`Instant`]s of the runtime's clock (tokio's
//! `tokio::time::Instant`), and everything that reads the time for timer
//! purposes reads that clock: [`Instant::now`], [`sleep`]'s start,
//! [`interval`]'s schedule, the driver deciding which timers are due. A
//! clock that was never paused *is* the system's monotonic clock
//! (`std::time::Instant::now()`, read without a lock). A current-thread
//! runtime's clock can be [`pause`]d, or built paused with
//! [`Builder::start_paused`](crate::runtime::Builder::start_paused) (or
//! `#[spindle_rt::test(start_paused = true)]`). Paused, it stands still
//! until [`advance`] moves it or the runtime auto-advances it (below);
//! after [`resume`] it runs again at real speed from where it stood, so it
//! never goes backwards.
//!
//! Only the current-thread runtime can pause its clock, as with tokio: a
//! multi-thread runtime's workers park and wake independently, so no one
//! thread can tell that the whole runtime is idle.
//!
//! ```
//! use spindle_rt::time::{self, Instant};
//! use std::time::Duration;
//!
//! let rt = spindle_rt::Builder::new_current_thread().start_paused(true).build()?;
//! rt.block_on(async {
//!     let start = Instant::now();
//!     let never = std::future::pending::<()>();
//!     let out = time::timeout(Duration::from_secs(3600), never).await;
//!     assert!(out.is_err());
//!     assert_eq!(start.elapsed(), Duration::from_secs(3600));
//! });
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! ## Auto-advance, and why it needs an idle runtime
//!
//! A paused runtime with nothing to do but wait for a timer would wait for
//! ever: its clock does not move by itself. So, as tokio does, when the
//! runtime is about to sleep, it first takes one *non-blocking* turn of its
//! event loop (IO events already delivered, wake-ups from other threads);
//! if that woke nothing, no task is ready, no other thread has queued one,
//! and no [`spawn_blocking`](crate::spawn_blocking) closure of the runtime
//! is still running, it sets the clock to the earliest timer's deadline and
//! fires the timers due there. A test's `sleep(Duration::from_secs(3600))`
//! completes at once, and `Instant::now()` afterwards reads exactly an
//! hour later.
//!
//! Jumping is safe only then. Any work still able to run might finish, in
//! real time, "before" the timer, and would see its timeout fire first if
//! the clock jumped under it. That is why ready tasks, events already
//! delivered and closures on the blocking pool (which also run `fs` and
//! DNS work) hold the clock. What does *not* hold it, in tokio either, is
//! IO that is merely registered: a socket read waiting for a peer that has
//! not sent anything. The runtime cannot know whether the peer ever will,
//! so a paused `timeout(d, socket.read(..))` with a silent peer fires as
//! soon as the runtime has nothing else to do, whatever `d` is. Data already
//! in the socket's buffer is seen by the non-blocking turn and wins. A peer
//! on another thread or in another process that is *about* to send is a
//! race the runtime cannot see: give such peers real time.
//!
//! ## Whole milliseconds
//!
//! The driver counts whole milliseconds from the runtime's start. A clock
//! built paused stands on one of them; [`pause`] rounds the frozen reading
//! *up* to the next one (the clock moves forward by under a millisecond,
//! never back); auto-advance moves the clock to the earliest timer's tick,
//! its deadline rounded up to a whole millisecond. So while every duration
//! involved is whole milliseconds, a paused `sleep(d)` reads exactly `d`
//! of elapsed time; after an [`advance`] by a fraction of a millisecond, a
//! sleep may read up to a millisecond long, never short.
//!
//! # Why a wheel and not a heap
//!
//! spindle-loop keeps its timers in a binary heap, as libuv does: insert is
//! O(log n), cancel is a lazy O(1) mark, and the earliest deadline is at the
//! top. For a callback loop with one timer per connection that is fine.
//! An async runtime's timers churn far harder: every `timeout(fut)` inserts
//! a timer and, in the common case where the future finishes first, cancels
//! it; a server under load does this a million times a second with a million
//! sleeps pending. Each heap operation then costs about twenty cache-missing
//! comparisons and swaps, and lazily cancelled entries pile up until a
//! rebuild.
//!
//! A timing wheel (Varghese and Lauck, 1987; Linux's timer wheel, Kafka's
//! purgatory, tokio's driver) trades exact ordering of far-off timers for
//! O(1) everything: a timer goes into the slot of an array indexed by its
//! deadline, and cancelling unlinks it from that slot's list. Here a slot is
//! an index-linked doubly linked list through one slab of entries, so
//! cancelling needs no search and no allocation, and a
//! [`TimerKey`] carries a generation so a key kept after its timer is gone
//! is rejected rather than cancelling a stranger.
//!
//! # Levels and cascading
//!
//! One flat array fine enough for milliseconds and long enough for hours
//! would be huge, so the wheel has six levels of 64 slots, like a clock's
//! hands: level 0's slots are 1 ms wide, level 1's 64 ms, level 2's
//! 4.096 s, then 4.4 min, 4.7 h and 12.4 days, together about 2.2 years
//! ([`WHEEL_SPAN`]). A timer goes on the lowest level whose block holds both
//! now and its deadline. When the wheel reaches a coarse slot, its timers are
//! *cascaded*: re-filed, each onto a finer level, now that their slot has
//! come. A timer is touched at most once per level on its way down, and most
//! timers (timeouts that get cancelled) never cascade at all. Each level
//! keeps a `u64` bitmap of its non-empty slots, so the next slot to visit is
//! a `trailing_zeros`, not a scan. Deadlines beyond the last level wait on an
//! overflow list and are filed into the wheel when it gets there; nothing is
//! clamped.
//!
//! # Why whole milliseconds, and why round up
//!
//! Millisecond ticks match what the kernel offers the driver anyway
//! (`epoll_wait` takes a timeout in milliseconds), and they make a slot hold
//! every timer due in the same millisecond, so one wake-up serves them all.
//! Timers that need finer precision are not what an IO runtime sleeps on.
//!
//! A deadline that falls inside a millisecond is rounded *up* to the next
//! tick ([`ms_ceil`]): a `sleep(1.2 ms)` must never end after 1 ms, because
//! callers rely on "at least this long" (retries, rate limits, timeouts
//! that must not fire early). Late by under a millisecond is the price;
//! early would be a bug.

pub(crate) mod clock;
pub(crate) mod driver;
mod entry;
mod instant;
mod interval;
mod level;
mod sleep;
mod timeout;
mod wheel;

pub use clock::{advance, pause, resume};
pub use entry::TimerKey;
pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use level::{LEVELS, SLOTS, WHEEL_SPAN};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};

/// The time errors under tokio's path (`tokio::time::error::Elapsed`).
pub mod error {
    pub use super::timeout::Elapsed;
}
pub use wheel::TimerWheel;

/// `std`'s `Duration`, under tokio's path (`tokio::time::Duration`).
pub use std::time::Duration;

/// `d` in whole milliseconds, rounded up, saturating at `u64::MAX`: the
/// number of ticks a timer must wait so it never fires early.
///
/// ```
/// use spindle_rt::time::ms_ceil;
/// use std::time::Duration;
///
/// assert_eq!(ms_ceil(Duration::ZERO), 0);
/// assert_eq!(ms_ceil(Duration::from_micros(1)), 1);
/// assert_eq!(ms_ceil(Duration::from_micros(1_200)), 2);
/// assert_eq!(ms_ceil(Duration::from_millis(7)), 7);
/// assert_eq!(ms_ceil(Duration::MAX), u64::MAX);
/// ```
pub fn ms_ceil(d: Duration) -> u64 {
    let ms = d.as_nanos().div_ceil(1_000_000);
    u64::try_from(ms).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests;
