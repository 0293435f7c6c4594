//! Coalescing the poll phase of a busy loop: interrupt moderation in user
//! space.
//!
//! A loop that is faster than its clients goes back to sleep in the poller
//! after every one or two ready sockets. Each sleep costs twice: the loop
//! pays a context switch to wake up, and the *client* pays too, because
//! its `write` to a socket the loop sleeps on has to wake the loop's
//! thread (on a virtual machine, an inter-processor interrupt and a VM
//! exit). A client that is itself the bottleneck (one `redis-benchmark`
//! process against a server pinned to the other core) then runs slower
//! against a fast server than against a slow one, which answers in bigger
//! batches because work piles up while it computes.
//!
//! Network cards solved the same problem with interrupt moderation: under
//! load they raise one interrupt per batch of packets instead of one per
//! packet. [`Loop::set_coalesce`] does it for the loop: while many distinct
//! descriptors are active, the loop sleeps a short, fixed time before each
//! poll (off the poller's wait queue, so writes to its sockets wake
//! nobody), and the poll then takes a batch. Measured on `spindle kv` with
//! 50 `redis-benchmark` clients, a 40 µs wait raised requests/s by 10-15%
//! and lowered server CPU per request by 10-20%, with and without
//! pipelining; see `bench/RESULTS.md`.
//!
//! The cost is latency, so the wait is only taken under load:
//!
//! * at least [`Coalesce::min_active`] distinct descriptors were ready
//!   within the last complete millisecond (with five clients in
//!   lock-step, each request waiting 40 µs cost 30-50% of the
//!   throughput; with fifty it gained), and
//! * the previous poll returned events (a loop that just woke from an idle
//!   sleep polls at once).
//!
//! The wait never outlasts the poll's own timeout, so timers stay on time.
//!
//! Descriptors registered on the loop's poller by other code (an async
//! runtime's IO driver, with [`FOREIGN_TOKEN_BIT`](crate::FOREIGN_TOKEN_BIT)
//! tokens) have no watch to carry a stamp, so they are counted in a small
//! table of stamps indexed by a hash of the token. Two tokens that share a
//! slot count once: the count can only come out low, which delays
//! coalescing and never starts it early.

use std::time::Duration;

/// How [`Loop::set_coalesce`](crate::Loop::set_coalesce) batches a busy
/// loop's polls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Coalesce {
    /// How long the loop sleeps before a poll that it coalesces.
    pub wait: Duration,
    /// Coalesce only while at least this many distinct descriptors were
    /// ready within the last complete millisecond.
    pub min_active: usize,
}

/// What the coalescing did, from
/// [`Loop::coalesce_stats`](crate::Loop::coalesce_stats).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CoalesceStats {
    /// Polls the loop slept before.
    pub waits: u64,
    /// Distinct descriptors ready within the last complete millisecond (0
    /// while coalescing is off).
    pub active: usize,
}

/// Length of one counting epoch, in loop-clock nanoseconds.
const EPOCH_NS: u64 = 1_000_000;

/// Slots in the stamp table for foreign tokens (a power of two). With a
/// thousand busy descriptors about 885 land in distinct slots, far above
/// any useful threshold.
const FOREIGN_SLOTS: usize = 4096;

/// The loop's coalescing state.
#[derive(Debug)]
pub(crate) struct CoalesceState {
    cfg: Option<Coalesce>,
    /// The current epoch's number; each watch stamps the epoch it was last
    /// counted in, so a descriptor ready many times counts once.
    epoch: u32,
    /// When the current epoch ends (loop clock, ns).
    epoch_end: u64,
    /// Distinct descriptors ready so far in this epoch.
    distinct: usize,
    /// Distinct descriptors ready in the last complete epoch.
    active: usize,
    /// Events the last poll returned.
    last_events: usize,
    waits: u64,
    slack_lowered: bool,
    /// Epoch stamps of foreign tokens, by hashed token; allocated when
    /// coalescing is first turned on.
    foreign: Vec<u32>,
}

impl Default for CoalesceState {
    fn default() -> CoalesceState {
        // Epoch 0 is what a new watch's stamp holds: start at 1 so that a
        // new watch counts.
        CoalesceState {
            cfg: None,
            epoch: 1,
            epoch_end: 0,
            distinct: 0,
            active: 0,
            last_events: 0,
            waits: 0,
            slack_lowered: false,
            foreign: Vec::new(),
        }
    }
}

impl CoalesceState {
    pub(crate) fn set(&mut self, cfg: Option<Coalesce>) {
        self.cfg = cfg.filter(|c| !c.wait.is_zero());
        if self.cfg.is_some() && self.foreign.is_empty() {
            self.foreign = vec![0; FOREIGN_SLOTS];
        }
        if self.cfg.is_none() {
            self.active = 0;
            self.distinct = 0;
        }
    }

    pub(crate) fn stats(&self) -> CoalesceStats {
        CoalesceStats { waits: self.waits, active: self.active }
    }

    /// Counts a ready watch whose epoch stamp is `seen`, once per epoch.
    #[inline]
    pub(crate) fn note(&mut self, seen: &mut u32) {
        if self.cfg.is_some() && *seen != self.epoch {
            *seen = self.epoch;
            self.distinct += 1;
        }
    }

    /// Counts a ready foreign descriptor by its token, once per epoch (or
    /// not at all, if another token shares its slot and came first).
    #[inline]
    pub(crate) fn note_foreign(&mut self, token: usize) {
        if self.cfg.is_none() {
            return;
        }
        // Fibonacci hashing: tokens are addresses, so their low bits are
        // alignment zeros and their high bits alike; the product's top
        // bits mix all of them.
        let slot =
            (token as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - FOREIGN_SLOTS.trailing_zeros());
        let seen = &mut self.foreign[slot as usize];
        if *seen != self.epoch {
            *seen = self.epoch;
            self.distinct += 1;
        }
    }

    /// How long to sleep before a poll whose timeout is `timeout`, if this
    /// poll is coalesced. Lowers the thread's timer slack the first time,
    /// so that the sleep is the wait asked for and not 50 µs more.
    pub(crate) fn pause(&mut self, timeout: Option<Duration>) -> Option<Duration> {
        let cfg = self.cfg?;
        if self.last_events == 0 || self.active < cfg.min_active {
            return None;
        }
        let wait = timeout.map_or(cfg.wait, |t| t.min(cfg.wait));
        if wait.is_zero() {
            return None;
        }
        if !self.slack_lowered {
            self.slack_lowered = true;
            if let Err(e) = spindle_poll::thread::set_timer_slack(1_000) {
                tracing::warn!(error = %e, "could not lower the loop thread's timer slack");
            }
        }
        self.waits += 1;
        Some(wait)
    }

    /// Records a poll that returned `events` events, at loop time `now`
    /// (after they were dispatched), and closes the epoch if it is over.
    pub(crate) fn after_poll(&mut self, events: usize, now: u64) {
        self.last_events = events;
        if self.cfg.is_none() || now < self.epoch_end {
            return;
        }
        // More than a whole epoch without a poll: the loop slept, so
        // nothing was busy, whatever the last epoch saw.
        self.active = if now - self.epoch_end < EPOCH_NS { self.distinct } else { 0 };
        self.distinct = 0;
        self.epoch = self.epoch.wrapping_add(1).max(1);
        self.epoch_end = now + EPOCH_NS;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(min_active: usize) -> CoalesceState {
        let mut s = CoalesceState::default();
        s.set(Some(Coalesce { wait: Duration::from_micros(40), min_active }));
        s
    }

    #[test]
    fn a_descriptor_counts_once_per_epoch() {
        let mut s = on(2);
        s.after_poll(0, 0); // opens the first epoch
        let (mut a, mut b) = (0, 0);
        for _ in 0..10 {
            s.note(&mut a);
        }
        s.after_poll(10, 500_000);
        assert_eq!(s.stats().active, 0, "the epoch is not over");
        s.note(&mut b);
        s.after_poll(1, EPOCH_NS + 1);
        assert_eq!(s.stats().active, 2);
        assert_eq!(s.pause(None), Some(Duration::from_micros(40)));
    }

    #[test]
    fn it_waits_only_under_load_and_never_past_the_timeout() {
        let mut s = on(3);
        s.after_poll(0, 0);
        let mut seen = [0u32; 3];
        s.note(&mut seen[0]);
        s.note(&mut seen[1]);
        s.after_poll(2, EPOCH_NS);
        assert_eq!(s.pause(None), None, "two active, three needed");
        for w in &mut seen {
            s.note(w);
        }
        s.after_poll(3, 2 * EPOCH_NS);
        assert_eq!(s.stats().active, 3);
        assert_eq!(s.pause(Some(Duration::from_micros(5))), Some(Duration::from_micros(5)));
        assert_eq!(s.pause(Some(Duration::ZERO)), None);
        s.after_poll(0, 2 * EPOCH_NS + 1);
        assert_eq!(s.pause(None), None, "the last poll found nothing: the loop is idle");
        assert_eq!(s.stats().waits, 1);
    }

    #[test]
    fn a_long_sleep_forgets_the_load() {
        let mut s = on(1);
        s.after_poll(0, 0);
        let mut a = 0;
        s.note(&mut a);
        // The next poll comes 5 ms later: the loop slept in between.
        s.after_poll(1, 5 * EPOCH_NS);
        assert_eq!(s.stats().active, 0);
        assert_eq!(s.pause(None), None);
    }

    #[test]
    fn foreign_tokens_count_once_per_epoch() {
        let mut s = on(100);
        s.after_poll(0, 0);
        // Addresses of 16-byte-aligned entries, as a runtime's tokens are.
        let tokens: Vec<usize> =
            (0..200).map(|i| crate::FOREIGN_TOKEN_BIT | (0x5555_0000 + i * 48)).collect();
        for _ in 0..3 {
            for &t in &tokens {
                s.note_foreign(t);
            }
        }
        s.after_poll(600, EPOCH_NS);
        let active = s.stats().active;
        assert!((190..=200).contains(&active), "200 tokens counted as {active}");
        assert!(s.pause(None).is_some());
    }

    #[test]
    fn off_counts_nothing() {
        let mut s = CoalesceState::default();
        let mut a = 0;
        s.note(&mut a);
        s.note_foreign(crate::FOREIGN_TOKEN_BIT | 64);
        s.after_poll(5, EPOCH_NS * 3);
        assert_eq!(s.pause(None), None);
        assert_eq!(s.stats(), CoalesceStats::default());
        s.set(Some(Coalesce { wait: Duration::ZERO, min_active: 0 }));
        assert_eq!(s.pause(None), None, "a zero wait is off");
    }
}
