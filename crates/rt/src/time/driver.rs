//! The time driver: one [`TimerWheel`] of wakers per runtime, and one
//! spindle-loop timer armed for the wheel's next expiration.
//!
//! The wheel counts milliseconds from the driver's `origin`. A sleep's
//! deadline becomes the tick `ms_ceil(deadline - origin)` (rounded up), and
//! the wheel is advanced to `floor(now - origin)`; so a timer fires only
//! once `now >= origin + tick ms >= deadline`: never early, late by under a
//! millisecond plus the loop's own latency.
//!
//! Cooperation with the loop:
//!
//! * before the runtime lets the loop run (and maybe sleep),
//!   [`sync_loop_timer`](TimeDriver::sync_loop_timer) compares the wheel's
//!   next expiration with the tick the loop timer is armed for, and re-arms
//!   or stops it if they differ (so inserting and cancelling sleeps costs no
//!   loop call at all unless the earliest deadline moves);
//! * when the loop timer fires, its callback advances the wheel to now,
//!   wakes every expired waker (after releasing the lock), marks the timer
//!   unarmed and stops the loop's iteration, so that the scheduler runs the
//!   woken tasks and re-arms for the next expiration;
//! * a sleep registered on another thread (a `Sleep` polled by some other
//!   executor) that moves the earliest deadline forward wakes the loop
//!   through its async handle, so the runtime re-arms.
//!
//! Far deadlines are fine: the wheel takes any `u64` tick, and the loop
//! timer is armed for at most [`MAX_ARM`] at a time (it fires, finds nothing
//! due, and is armed again).
//!
//! "Now" is the driver's [`Clock`]: the system's, until a current-thread
//! runtime's is paused (see "Paused time" in [`crate::time`]). While it is
//! paused the loop timer stays stopped, since a frozen deadline never comes
//! in real time; instead the scheduler, each time it parks, fires what is
//! due at the frozen reading ([`fire_due`](TimeDriver::fire_due)) and, when
//! it is otherwise idle, jumps the clock to the earliest tick
//! ([`auto_advance`](TimeDriver::auto_advance)). After a resume the clock
//! may run ahead of the system's, so the loop timer's delay is measured on
//! the clock's scale ([`Clock::at`]).

use super::clock::Clock;
use super::{ms_ceil, TimerKey, TimerWheel};
use spindle_loop::{AsyncHandle, Loop, TimerId};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Waker;
use std::time::{Duration, Instant};

/// The longest the loop timer is armed for in one go. The loop clock
/// overflows after about 584 years; a day is far from that and costs one
/// spurious wake-up a day for a runtime that sleeps that long.
const MAX_ARM: Duration = Duration::from_secs(24 * 60 * 60);

/// How far ahead "forever" is: a deadline the clock cannot represent
/// (`Instant::now() + Duration::MAX`) saturates to this far from now, as
/// tokio does (about 30 years).
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// `now + d`, saturating at about [`FAR_FUTURE`] from now.
pub(crate) fn deadline_after(now: Instant, d: Duration) -> Instant {
    now.checked_add(d.min(FAR_FUTURE)).or_else(|| now.checked_add(Duration::from_secs(86_400))).unwrap_or(now)
}

/// The per-runtime timer state; shared (`Send + Sync`) so a `Sleep` can be
/// dropped, and even polled, on any thread.
pub(crate) struct TimeDriver {
    origin: Instant,
    /// What "now" is for this driver's timers: the system clock, or a
    /// paused one (see [`super::clock`]).
    clock: Clock,
    /// Lock rule: held only for wheel operations, never while a waker is
    /// woken or dropped.
    state: Mutex<State>,
    unpark: Unpark,
    /// Set (with the lock held) by every change to the wheel, so that
    /// `sync_loop_timer`, which runs before every loop turn, takes the lock
    /// only when the earliest deadline may have moved.
    dirty: AtomicBool,
}

/// How a registration that moves the earliest deadline forward reaches the
/// thread that sleeps on the driver.
pub(crate) enum Unpark {
    /// Current-thread runtime: the loop's async handle. `armed` is the tick
    /// the loop timer is armed for; `None` means not armed, and a
    /// registration from another thread must wake the loop to arm it.
    Loop(AsyncHandle),
    /// Multi-thread runtime: the shared poller's waker. `armed` is the tick
    /// the worker parked on the poller will wake at (`u64::MAX`: never),
    /// `None` while nobody is parked there (the next worker to park reads
    /// the wheel anyway).
    Poller(Arc<spindle_poll::Waker>),
}

struct State {
    wheel: TimerWheel<Waker>,
    /// Expired timers (already out of the wheel) not yet woken: a
    /// multi-thread worker wakes only as many as its run queue has room
    /// for (see [`TimeDriver::process`]), oldest deadline first.
    due: VecDeque<Waker>,
    /// The tick the loop timer is armed for, `None` when it is not armed.
    armed: Option<u64>,
    shut_down: bool,
}

/// The panic of a `Sleep` polled after its runtime was dropped.
const SHUT_DOWN: &str = "the spindle-rt runtime this timer belongs to has shut down";

impl TimeDriver {
    /// A driver whose clock may be paused only if `pausable` (the
    /// current-thread runtime's), and is paused from the start if
    /// `start_paused`.
    ///
    /// # Panics
    /// If `start_paused` but not `pausable`.
    pub(crate) fn new(unpark: Unpark, pausable: bool, start_paused: bool) -> TimeDriver {
        let origin = Instant::now();
        TimeDriver {
            origin,
            clock: Clock::new(origin, pausable, start_paused),
            state: Mutex::new(State {
                wheel: TimerWheel::new(),
                due: VecDeque::new(),
                armed: None,
                shut_down: false,
            }),
            unpark,
            dirty: AtomicBool::new(true),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Locks to change the wheel (and marks it changed).
    fn lock_mut(&self) -> MutexGuard<'_, State> {
        let st = self.lock();
        self.dirty.store(true, Ordering::Release);
        st
    }

    /// The driver's clock's reading: what `Instant::now()` is to this
    /// runtime.
    pub(crate) fn now(&self) -> Instant {
        self.clock.now()
    }

    /// Whether the driver's clock is paused.
    pub(crate) fn is_paused(&self) -> bool {
        self.clock.is_paused()
    }

    /// The driver's clock.
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The first tick at or after `deadline` (rounded up).
    pub(crate) fn deadline_tick(&self, deadline: Instant) -> u64 {
        ms_ceil(deadline.saturating_duration_since(self.origin))
    }

    /// The last tick at or before `now` (rounded down).
    pub(crate) fn now_tick(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.origin).as_millis()).unwrap_or(u64::MAX)
    }

    fn tick_instant(&self, tick: u64) -> Instant {
        deadline_after(self.origin, Duration::from_millis(tick))
    }

    /// Registers `waker` to be woken at `tick`; `None`, with nothing
    /// registered, when the wheel has already been advanced to `tick`: the
    /// deadline has passed, and the caller completes at once.
    ///
    /// # Panics
    /// If the runtime has shut down.
    pub(crate) fn register(&self, tick: u64, waker: &Waker, on_runtime_thread: bool) -> Option<TimerKey> {
        let (key, unpark) = {
            let mut st = self.lock_mut();
            assert!(!st.shut_down, "{SHUT_DOWN}");
            if tick <= st.wheel.now() {
                return None;
            }
            let key = st.wheel.insert(tick, waker.clone());
            (key, self.needs_unpark(st.armed, tick))
        };
        if unpark && !on_runtime_thread {
            self.unpark();
        }
        Some(key)
    }

    /// Stores `waker` for the pending timer `key`; `false` when it has fired.
    pub(crate) fn update_waker(&self, key: TimerKey, waker: &Waker) -> bool {
        let old = {
            let mut st = self.lock();
            assert!(!st.shut_down, "{SHUT_DOWN}");
            match st.wheel.get_mut(key) {
                Some(w) if w.will_wake(waker) => return true,
                Some(w) => std::mem::replace(w, waker.clone()),
                None => return false,
            }
        };
        drop(old);
        true
    }

    /// Moves the pending timer `key` to `tick`; `false` when it has fired.
    pub(crate) fn reset(&self, key: TimerKey, tick: u64, on_runtime_thread: bool) -> bool {
        let (moved, unpark) = {
            let mut st = self.lock_mut();
            let moved = st.wheel.reset(key, tick);
            (moved, moved && self.needs_unpark(st.armed, tick))
        };
        if unpark && !on_runtime_thread {
            self.unpark();
        }
        moved
    }

    /// Whether a timer at `tick` must wake the sleeper, given what it is
    /// armed for (see [`Unpark`]).
    fn needs_unpark(&self, armed: Option<u64>, tick: u64) -> bool {
        match self.unpark {
            Unpark::Loop(_) => armed.is_none_or(|armed| tick < armed),
            Unpark::Poller(_) => armed.is_some_and(|armed| tick < armed),
        }
    }

    fn unpark(&self) {
        match &self.unpark {
            Unpark::Loop(h) => h.send(),
            Unpark::Poller(w) => w.wake(),
        }
    }

    /// Multi-thread runtime: the worker about to sleep on the poller asks
    /// how long it may (until the wheel's next expiration; `None`: no timer)
    /// and is recorded as armed for it.
    pub(crate) fn park_timeout(&self) -> Option<Duration> {
        let mut st = self.lock();
        if !st.due.is_empty() {
            st.armed = Some(0);
            return Some(Duration::ZERO);
        }
        let next = st.wheel.next_expiration();
        st.armed = Some(next.unwrap_or(u64::MAX));
        let tick = next?;
        Some(self.tick_instant(tick).saturating_duration_since(self.now()).min(MAX_ARM))
    }

    /// Multi-thread runtime: wakes expired timers, at most `budget` of
    /// them (the room left in the calling worker's run queue); the rest
    /// stay due, oldest first, for the next call on any worker. Cheap when
    /// nothing is due.
    ///
    /// Why a budget: a worker's run queue that overflows moves tasks to the
    /// global queue, behind everything queued there. While a flood of new
    /// tasks is being spawned that backlog is long, and a timer's task sent
    /// there waited tens of milliseconds past its deadline. Kept here
    /// instead, it is woken at the next check (every
    /// `EVENT_INTERVAL` ticks of a busy worker, or at once by a parking one).
    pub(crate) fn process(&self, expired: &mut Vec<(TimerKey, Waker)>, budget: usize) {
        let now = self.now_tick(self.now());
        let overflow: Vec<Waker> = {
            let mut st = self.lock();
            let ripe = st.wheel.next_expiration().is_some_and(|next| next <= now);
            if !ripe && st.due.is_empty() {
                return;
            }
            if ripe {
                st.wheel.advance(now, expired);
            }
            if st.due.is_empty() && expired.len() <= budget {
                Vec::new()
            } else {
                let State { due, .. } = &mut *st;
                due.extend(expired.drain(..).map(|(_, waker)| waker));
                let n = budget.min(due.len());
                due.drain(..n).collect()
            }
        };
        for (_, waker) in expired.drain(..) {
            waker.wake();
        }
        for waker in overflow {
            waker.wake();
        }
    }

    /// Multi-thread runtime: the worker that slept on the poller is back
    /// (still holding the poller): nobody waits on the wheel's next
    /// expiration any more.
    pub(crate) fn unarm(&self) {
        self.lock().armed = None;
    }

    /// Removes the timer `key` if still pending. O(1).
    pub(crate) fn cancel(&self, key: TimerKey) {
        let waker = self.lock_mut().wheel.remove(key);
        drop(waker);
    }

    /// Timers pending in the wheel.
    pub(crate) fn len(&self) -> usize {
        self.lock().wheel.len()
    }

    /// Arms (or stops) the loop timer for the wheel's next expiration, if
    /// that changed since it was last armed.
    pub(crate) fn sync_loop_timer(self: &std::sync::Arc<Self>, lp: &mut Loop, timer: TimerId) {
        // A change after this swap leaves the flag set for the next turn
        // (or is seen under the lock below): never missed.
        if !self.dirty.swap(false, Ordering::Acquire) {
            return;
        }
        let paused = self.clock.is_paused();
        let next = {
            let mut st = self.lock();
            // A paused clock's deadlines never come in real time: the
            // scheduler fires them itself (auto-advance), so the loop timer
            // stays stopped. `resume` marks the wheel dirty to re-arm.
            let next = if paused { None } else { st.wheel.next_expiration() };
            if next == st.armed {
                return;
            }
            st.armed = next;
            next
        };
        let Some(tick) = next else {
            lp.timer_stop(timer);
            return;
        };
        // Measure from the loop's own clock, which the timer's deadline is
        // computed from (mapped onto the driver's clock, which runs ahead
        // of it after a pause), so the timer fires at the tick's instant
        // exactly.
        lp.update_time();
        let after = self.tick_instant(tick).saturating_duration_since(self.clock.at(lp.now())).min(MAX_ARM);
        let driver = std::sync::Arc::clone(self);
        let mut expired = Vec::new();
        let armed = lp.timer_start(timer, after, None, move |lp, _| {
            driver.fire(&mut expired);
            // Back to the scheduler: it runs what woke and re-arms.
            lp.stop();
        });
        if let Err(e) = armed {
            // At most `MAX_ARM` ahead, so only a loop clock near its end
            // of range could refuse.
            panic!("spindle-rt: cannot arm the time driver's loop timer: {e}");
        }
    }

    /// Advances the wheel to now and wakes every expired timer: the loop
    /// timer's callback, and a multi-thread worker back from the poller.
    pub(crate) fn fire(&self, expired: &mut Vec<(TimerKey, Waker)>) {
        let now = self.now_tick(self.now());
        {
            let mut st = self.lock_mut();
            st.wheel.advance(now, expired);
            st.armed = None;
        }
        for (_, waker) in expired.drain(..) {
            waker.wake();
        }
    }

    /// Wakes the timers due at the clock's reading, if any; cheap when none
    /// is (the paused current-thread runtime calls it on every park, and
    /// [`advance`](Self::advance) after moving the clock).
    ///
    /// Unlike [`fire`](Self::fire) it leaves `armed` alone: the loop timer
    /// is not the one firing, and may still be armed.
    pub(crate) fn fire_due(&self, expired: &mut Vec<(TimerKey, Waker)>) {
        let now = self.now_tick(self.now());
        {
            let mut st = self.lock();
            if st.wheel.next_expiration().is_none_or(|next| next > now) {
                return;
            }
            self.dirty.store(true, Ordering::Release);
            st.wheel.advance(now, expired);
        }
        for (_, waker) in expired.drain(..) {
            waker.wake();
        }
    }

    /// Auto-advance: if the clock is paused and no blocking closure holds
    /// it, moves it to the earliest timer's tick and wakes what is due
    /// there. The caller has made sure the runtime is otherwise idle (see
    /// [`super::clock`]). Whether it fired anything.
    pub(crate) fn auto_advance(&self, expired: &mut Vec<(TimerKey, Waker)>) -> bool {
        if !self.clock.can_auto_advance() {
            return false;
        }
        let Some(next) = self.lock().wheel.next_expiration() else { return false };
        self.clock.advance_to(self.tick_instant(next));
        self.fire_due(expired);
        true
    }

    /// [`time::pause`](super::pause): freezes the clock.
    pub(crate) fn pause(&self) -> Result<(), &'static str> {
        self.clock.pause()?;
        // The loop timer armed for real time is stopped at the next park;
        // a runtime asleep on it (paused from another thread) is woken to
        // take the paused path.
        self.dirty.store(true, Ordering::Release);
        self.unpark();
        Ok(())
    }

    /// [`time::resume`](super::resume): lets the clock run, and has the
    /// loop timer armed again (waking the runtime in case it sleeps with
    /// none armed).
    pub(crate) fn resume(&self) -> Result<(), &'static str> {
        self.clock.resume()?;
        self.dirty.store(true, Ordering::Release);
        self.unpark();
        Ok(())
    }

    /// [`time::advance`](super::advance): moves the paused clock forward
    /// and wakes the timers due by then.
    pub(crate) fn advance(&self, d: Duration) -> Result<(), &'static str> {
        self.clock.advance(d)?;
        self.fire_due(&mut Vec::new());
        Ok(())
    }

    /// A [`spawn_blocking`](crate::spawn_blocking) closure of this
    /// runtime is done and its result published: it no longer holds
    /// auto-advance, and a paused runtime that slept only because of it
    /// must look again.
    pub(crate) fn allow_auto_advance(&self) {
        if self.clock.allow_auto_advance() {
            self.unpark();
        }
    }

    /// Removes every pending timer and wakes its waker; later
    /// registrations and polls panic.
    ///
    /// The runtime's own tasks are gone by now, so what is still here
    /// waits elsewhere: `Handle::block_on` on another thread, another
    /// executor. Woken, such a sleep is polled again and panics with the
    /// shutdown message (as tokio's does) instead of sleeping for ever.
    /// Wakers run, and drop, after the lock is released.
    pub(crate) fn shutdown(&self) {
        let (mut wheel, due) = {
            let mut st = self.lock_mut();
            st.shut_down = true;
            st.armed = None;
            (std::mem::take(&mut st.wheel), std::mem::take(&mut st.due))
        };
        let mut pending = Vec::with_capacity(wheel.len());
        wheel.advance(u64::MAX, &mut pending);
        for waker in due.into_iter().chain(pending.into_iter().map(|(_, waker)| waker)) {
            waker.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn process_wakes_at_most_its_budget_and_keeps_the_rest_due() {
        let poller = spindle_poll::Poller::from_env().expect("poller");
        let driver = TimeDriver::new(Unpark::Poller(poller.waker()), false, false);
        let count = Arc::new(Count(AtomicUsize::new(0)));
        for _ in 0..5 {
            // Straight into the wheel: `register` refuses a tick it has
            // already reached (the sleep completes at once instead).
            driver.lock_mut().wheel.insert(0, Waker::from(count.clone()));
        }
        let mut expired = Vec::new();
        driver.process(&mut expired, 2);
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
        assert_eq!(driver.len(), 0, "all five left the wheel");
        // Due timers make a parking worker come straight back.
        assert_eq!(driver.park_timeout(), Some(Duration::ZERO));
        driver.unarm();
        driver.process(&mut expired, 2);
        assert_eq!(count.0.load(Ordering::SeqCst), 4);
        driver.process(&mut expired, 10);
        assert_eq!(count.0.load(Ordering::SeqCst), 5);
        assert_eq!(driver.park_timeout(), None, "nothing left");
    }
}
