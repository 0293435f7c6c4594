//! The timer wheel against a model: random inserts, removes, resets and
//! advances, checked step by step against a `BTreeMap` that knows what must
//! fire when.
//!
//! Checked at every advance: exactly the timers whose deadline is at or
//! before the new tick fire, each once, never early, none left behind, in
//! order of (effective deadline, insertion sequence), where the effective
//! deadline of a timer inserted with a past deadline is the tick it was
//! inserted at. Checked after every step: `len`, and that
//! `next_expiration` lies between the wheel's now and the earliest
//! deadline.

use proptest::prelude::*;
use spindle_rt::time::{TimerKey, TimerWheel, WHEEL_SPAN};
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
enum Op {
    /// Insert a timer `ahead` ticks from now (or `behind` it when negative).
    Insert(i64),
    /// Remove the `n % live`-th live timer (or a stale key when none).
    Remove(usize),
    /// Move the `n % live`-th live timer to `ahead` ticks from now.
    Reset(usize, i64),
    /// Advance by this many ticks.
    Advance(u64),
    /// Advance straight to `next_expiration`, as the driver does.
    Wake,
}

/// Offsets that hit every level, the overflow list, and the past.
fn offset() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => 0i64..70,
        3 => 0i64..5_000,
        2 => 0i64..300_000,
        1 => 0i64..(1 << 31),
        1 => 0i64..(WHEEL_SPAN as i64 * 3),
        1 => -100i64..0,
    ]
}

fn step() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => 0u64..70,
        3 => 0u64..5_000,
        2 => 0u64..300_000,
        1 => 0u64..(1 << 31),
        1 => 0u64..(WHEEL_SPAN * 2),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => offset().prop_map(Op::Insert),
        2 => any::<usize>().prop_map(Op::Remove),
        1 => (any::<usize>(), offset()).prop_map(|(n, o)| Op::Reset(n, o)),
        3 => step().prop_map(Op::Advance),
        2 => Just(Op::Wake),
    ]
}

/// What the model remembers of a live timer.
#[derive(Clone, Copy, Debug)]
struct Live {
    deadline: u64,
    /// Sort key: (max(deadline, now at insert), insertion sequence).
    order: (u64, u64),
    value: u64,
}

struct Model {
    wheel: TimerWheel<u64>,
    live: BTreeMap<TimerKey, Live>,
    dead: Vec<TimerKey>,
    now: u64,
    seq: u64,
}

impl Model {
    fn target(&self, ahead: i64) -> u64 {
        if ahead >= 0 {
            self.now.saturating_add(ahead as u64)
        } else {
            self.now.saturating_sub(ahead.unsigned_abs())
        }
    }

    fn nth_live(&self, n: usize) -> Option<TimerKey> {
        let len = self.live.len();
        (len > 0).then(|| *self.live.keys().nth(n % len).unwrap())
    }

    fn apply(&mut self, op: Op) -> Result<(), TestCaseError> {
        match op {
            Op::Insert(ahead) => {
                let deadline = self.target(ahead);
                self.seq += 1;
                let key = self.wheel.insert(deadline, self.seq);
                let order = (deadline.max(self.now), self.seq);
                let live = Live { deadline, order, value: self.seq };
                prop_assert!(self.live.insert(key, live).is_none());
            }
            Op::Remove(n) => match self.nth_live(n) {
                Some(key) => {
                    let want = self.live.remove(&key).unwrap();
                    prop_assert_eq!(self.wheel.remove(key), Some(want.value));
                    self.dead.push(key);
                }
                None => {
                    if let Some(&key) = self.dead.get(n % self.dead.len().max(1)) {
                        prop_assert_eq!(self.wheel.remove(key), None);
                    }
                }
            },
            Op::Reset(n, ahead) => {
                if let Some(key) = self.nth_live(n) {
                    let deadline = self.target(ahead);
                    self.seq += 1;
                    prop_assert!(self.wheel.reset(key, deadline));
                    let live = self.live.get_mut(&key).unwrap();
                    live.deadline = deadline;
                    live.order = (deadline.max(self.now), self.seq);
                }
            }
            Op::Advance(by) => self.advance(self.now.saturating_add(by))?,
            Op::Wake => {
                if let Some(t) = self.wheel.next_expiration() {
                    self.advance(t)?;
                }
            }
        }
        self.check_invariants()
    }

    fn advance(&mut self, to: u64) -> Result<(), TestCaseError> {
        let mut fired = Vec::new();
        let n = self.wheel.advance(to, &mut fired);
        prop_assert_eq!(n, fired.len());
        self.now = self.now.max(to);
        prop_assert_eq!(self.wheel.now(), self.now);

        let mut want: Vec<(TimerKey, Live)> =
            self.live.iter().filter(|(_, l)| l.deadline <= self.now).map(|(&k, &l)| (k, l)).collect();
        want.sort_by_key(|(_, l)| l.order);
        let want: Vec<(TimerKey, u64)> = want.into_iter().map(|(k, l)| (k, l.value)).collect();
        prop_assert_eq!(&fired, &want, "advance to {}", to);
        for (key, _) in fired {
            self.live.remove(&key);
            self.dead.push(key);
        }
        Ok(())
    }

    fn check_invariants(&self) -> Result<(), TestCaseError> {
        prop_assert_eq!(self.wheel.len(), self.live.len());
        prop_assert_eq!(self.wheel.is_empty(), self.live.is_empty());
        let earliest = self.live.values().map(|l| l.order.0).min();
        match (self.wheel.next_expiration(), earliest) {
            (None, None) => {}
            (Some(t), Some(e)) => {
                prop_assert!(t >= self.now, "next_expiration {} before now {}", t, self.now);
                prop_assert!(t <= e, "next_expiration {} after earliest deadline {}", t, e);
            }
            (got, want) => prop_assert!(false, "next_expiration {:?} but earliest {:?}", got, want),
        }
        for (&key, live) in &self.live {
            prop_assert_eq!(self.wheel.deadline(key), Some(live.deadline));
        }
        for &key in &self.dead {
            prop_assert!(!self.wheel.contains(key));
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn wheel_matches_model(start in step(), ops in proptest::collection::vec(op(), 1..200)) {
        run(start, ops)?;
    }

    /// Near the end of time: deadlines saturate at `u64::MAX`, and the top
    /// `WHEEL_SPAN` block is reached through the overflow list.
    #[test]
    fn wheel_matches_model_near_u64_max(
        start in (u64::MAX - 3 * WHEEL_SPAN)..=u64::MAX,
        ops in proptest::collection::vec(op(), 1..200),
    ) {
        run(start, ops)?;
    }
}

fn run(start: u64, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut m = Model { wheel: TimerWheel::new(), live: BTreeMap::new(), dead: Vec::new(), now: 0, seq: 0 };
    m.advance(start)?;
    for op in ops {
        m.apply(op)?;
    }
    // Drain by the driver's contract: every timer fires exactly once.
    let mut wakes = 0;
    while let Some(t) = m.wheel.next_expiration() {
        m.advance(t)?;
        wakes += 1;
        // At most one wake per level per timer, plus one per deadline.
        prop_assert!(wakes < 10_000, "driver loop does not converge");
    }
    prop_assert!(m.live.is_empty());
    prop_assert!(m.wheel.is_empty());
    Ok(())
}
