//! LFU: how often a key is used, for the `allkeys-lfu` and `volatile-lfu`
//! eviction policies and OBJECT FREQ, as Redis 4+ keeps it.
//!
//! Each key has an 8-bit *logarithmic* access counter and the time (in
//! minutes, 16 bits, wrapping) it was last decremented. A new key starts at
//! [`LFU_INIT_VAL`] so it can collect a few accesses before it looks
//! colder than everything else. An access first decays the counter by one
//! per `lfu-decay-time` minutes elapsed, then increments it with a
//! probability of `1 / ((counter - LFU_INIT_VAL) * lfu-log-factor + 1)`,
//! so with the default factor of 10 a counter of 255 takes about a million
//! accesses. Eviction samples keys and evicts the one with the lowest
//! decayed counter. Unlike Redis, the counter has fields of its own beside
//! the LRU clock (in the entry's padding), so switching policy at run time
//! needs no adjustment period.

use crate::db::Entry;

/// A new key's counter (Redis's LFU_INIT_VAL).
pub const LFU_INIT_VAL: u8 = 5;

/// `lfu-log-factor` and `lfu-decay-time`, while an LFU policy is in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LfuParams {
    /// `lfu-log-factor`: how much harder each increment gets.
    pub log_factor: u32,
    /// `lfu-decay-time`: minutes per decrement of an idle key's counter;
    /// 0 never decays.
    pub decay_time: u32,
}

/// The LFU clock: minutes, 16 bits, from the 24-bit LRU clock (seconds).
pub fn minutes(lru_clock: u32) -> u16 {
    (lru_clock / 60) as u16
}

/// Minutes from `then` to `now`, the 16-bit clock wrapping at most once
/// (Redis's `LFUTimeElapsed`).
fn elapsed(now: u16, then: u16) -> u32 {
    if now >= then {
        u32::from(now - then)
    } else {
        65535 - u32::from(then) + u32::from(now)
    }
}

/// The counter after decay, without recording it (Redis's
/// `LFUDecrAndReturn`): what OBJECT FREQ shows and eviction compares.
pub fn decayed(e: &Entry, decay_time: u32, now: u16) -> u8 {
    let periods = elapsed(now, e.lfu_time).checked_div(decay_time).unwrap_or(0);
    e.lfu_counter.saturating_sub(periods.min(255) as u8)
}

/// The counter after one more access: +1 with a probability that falls as
/// it grows (Redis's `LFULogIncr`). `r` is uniform in `[0, 1)`.
pub fn log_incr(counter: u8, log_factor: u32, r: f64) -> u8 {
    if counter == 255 {
        return 255;
    }
    let base = f64::from(counter.saturating_sub(LFU_INIT_VAL));
    let p = 1.0 / (base * f64::from(log_factor) + 1.0);
    if r < p {
        counter + 1
    } else {
        counter
    }
}

/// Records an access to `e` at `now` (Redis's `updateLFU`).
pub fn touch(e: &mut Entry, p: LfuParams, now: u16, r: f64) {
    let c = decayed(e, p.decay_time, now);
    e.lfu_counter = log_incr(c, p.log_factor, r);
    e.lfu_time = now;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Str, Value};

    fn entry(counter: u8, time: u16) -> Entry {
        let mut e = Entry::new(Value::Str(Str::Int(1)), 0);
        e.lfu_counter = counter;
        e.lfu_time = time;
        e
    }

    #[test]
    fn the_counter_decays_one_per_period_and_the_clock_wraps_once() {
        assert_eq!(decayed(&entry(10, 100), 1, 103), 7);
        assert_eq!(decayed(&entry(10, 100), 2, 103), 9);
        assert_eq!(decayed(&entry(10, 100), 0, 60_000), 10);
        assert_eq!(decayed(&entry(3, 100), 1, 200), 0);
        // 65530 -> 4 is 9 minutes across the wrap.
        assert_eq!(decayed(&entry(20, 65530), 1, 4), 11);
    }

    #[test]
    fn increments_get_rarer_as_the_counter_grows() {
        // At or below the initial value an access always counts.
        assert_eq!(log_incr(LFU_INIT_VAL, 10, 0.999), LFU_INIT_VAL + 1);
        // Above it, with factor 10 and counter 15: p = 1/101.
        assert_eq!(log_incr(15, 10, 0.009), 16);
        assert_eq!(log_incr(15, 10, 0.011), 15);
        assert_eq!(log_incr(255, 0, 0.0), 255);
    }

    #[test]
    fn an_access_decays_then_increments_and_restamps() {
        let mut e = entry(8, 10);
        touch(&mut e, LfuParams { log_factor: 10, decay_time: 1 }, 13, 0.0);
        assert_eq!((e.lfu_counter, e.lfu_time), (6, 13));
    }
}
