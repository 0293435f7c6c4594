//! Unit tests of the wheel: level boundaries, cascading, cancellation,
//! stale keys and the next-expiration contract.

use super::*;

/// Every boundary between levels, and either side of it.
fn boundaries() -> Vec<u64> {
    let mut v = vec![0, 1, 62, 63];
    for level in 1..=LEVELS as u32 {
        let b = 1u64 << (6 * level);
        v.extend([b - 1, b, b + 1]);
    }
    v.extend([WHEEL_SPAN * 3 + 17, u64::MAX - 1, u64::MAX]);
    v
}

/// Follows the driver's contract: wake at each `next_expiration`, advance,
/// repeat. Returns the ticks at which each value fired, in firing order.
fn run_driver(w: &mut TimerWheel<u64>) -> Vec<(u64, u64)> {
    let mut fired = Vec::new();
    while let Some(t) = w.next_expiration() {
        assert!(t >= w.now(), "next_expiration {t} behind now {}", w.now());
        let mut out = Vec::new();
        w.advance(t, &mut out);
        fired.extend(out.into_iter().map(|(_, v)| (t, v)));
    }
    fired
}

#[test]
fn each_boundary_fires_exactly_at_its_deadline() {
    for start in [0u64, 1, 63, 64, 1000, 4095, WHEEL_SPAN - 1] {
        for d in boundaries() {
            let deadline = start.saturating_add(d);
            let mut w = TimerWheel::new();
            w.advance(start, &mut Vec::new());
            w.insert(deadline, deadline);
            // next_expiration is never later than the deadline.
            assert!(w.next_expiration().unwrap() <= deadline);
            let fired = run_driver(&mut w);
            assert_eq!(fired, vec![(deadline, deadline)], "start {start} deadline {deadline}");
            assert!(w.is_empty());
        }
    }
}

#[test]
fn one_tick_early_is_too_early() {
    for d in boundaries().into_iter().filter(|&d| d > 0) {
        let mut w = TimerWheel::new();
        w.insert(d, d);
        let mut out = Vec::new();
        assert_eq!(w.advance(d - 1, &mut out), 0, "deadline {d}");
        assert_eq!(w.len(), 1);
        assert_eq!(w.advance(d, &mut out), 1, "deadline {d}");
        assert_eq!(out[0].1, d);
    }
}

#[test]
fn a_big_jump_fires_everything_in_deadline_order() {
    let mut w = TimerWheel::new();
    let mut ds = boundaries();
    ds.retain(|&d| d < u64::MAX);
    // Insert in reverse so order comes from the wheel, not from insertion.
    for &d in ds.iter().rev() {
        w.insert(d, d);
    }
    let mut out = Vec::new();
    w.advance(u64::MAX - 1, &mut out);
    let got: Vec<u64> = out.iter().map(|&(_, v)| v).collect();
    assert_eq!(got, ds);
}

#[test]
fn cascade_moves_timers_down_without_firing_them_early() {
    let mut w = TimerWheel::new();
    // All in level 1 slot 1 (64..128) from tick 0.
    for d in [64u64, 100, 127, 90] {
        w.insert(d, d);
    }
    assert_eq!(w.next_expiration(), Some(64));
    let mut out = Vec::new();
    w.advance(64, &mut out);
    assert_eq!(out.iter().map(|e| e.1).collect::<Vec<_>>(), vec![64]);
    // After the cascade the remaining ones are exact on level 0.
    assert_eq!(w.next_expiration(), Some(90));
    out.clear();
    w.advance(126, &mut out);
    assert_eq!(out.iter().map(|e| e.1).collect::<Vec<_>>(), vec![90, 100]);
    assert_eq!(w.next_expiration(), Some(127));
}

#[test]
fn next_expiration_walks_down_the_levels() {
    let mut w = TimerWheel::new();
    let d = 5 * 4096 + 3 * 64 + 7;
    w.insert(d, d);
    // Level 2 slot 5, then level 1 slot 3, then level 0 exact.
    let mut wakes = Vec::new();
    while let Some(t) = w.next_expiration() {
        wakes.push(t);
        w.advance(t, &mut Vec::new());
    }
    assert_eq!(wakes, vec![5 * 4096, 5 * 4096 + 3 * 64, d]);
}

#[test]
fn next_expiration_reports_due_and_empty() {
    let mut w = TimerWheel::new();
    assert_eq!(w.next_expiration(), None);
    w.advance(50, &mut Vec::new());
    assert_eq!(w.now(), 50);
    let k = w.insert(10, 10); // in the past
    assert_eq!(w.next_expiration(), Some(50));
    assert_eq!(w.remove(k), Some(10));
    assert_eq!(w.next_expiration(), None);
    w.insert(51, 51);
    assert_eq!(w.next_expiration(), Some(51));
    w.insert(50, 50);
    assert_eq!(w.next_expiration(), Some(50));
}

#[test]
fn past_deadlines_fire_at_the_next_advance() {
    let mut w = TimerWheel::new();
    w.advance(10_000, &mut Vec::new());
    let k = w.insert(3, 3);
    assert_eq!(w.deadline(k), Some(3));
    let mut out = Vec::new();
    // Even an advance that does not move time fires it.
    assert_eq!(w.advance(10_000, &mut out), 1);
    assert_eq!(out, vec![(k, 3)]);
    // A backwards `now` is clamped, and fires past timers too.
    w.insert(0, 0);
    assert_eq!(w.advance(5, &mut out), 1);
    assert_eq!(w.now(), 10_000);
}

#[test]
fn equal_deadlines_fire_in_insertion_order_across_a_cascade() {
    let mut w = TimerWheel::new();
    let first = w.insert(200, 1); // level 1, slot 192..256, from tick 0
    w.advance(150, &mut Vec::new());
    let second = w.insert(200, 2); // still level 1: 150 and 200 differ in bit 6
    w.advance(199, &mut Vec::new()); // the slot cascades at 192
    let third = w.insert(200, 3); // level 0 directly
    let mut out = Vec::new();
    w.advance(200, &mut out);
    assert_eq!(out, vec![(first, 1), (second, 2), (third, 3)]);
}

#[test]
fn remove_before_and_after_cascade() {
    let mut w = TimerWheel::new();
    let a = w.insert(5000, 1); // level 2
    let b = w.insert(5001, 2);
    let c = w.insert(5002, 3);
    assert_eq!(w.remove(a), Some(1)); // before any cascade
    w.advance(4096, &mut Vec::new()); // level 2 slot 1 cascades into level 1
    assert_eq!(w.len(), 2);
    assert_eq!(w.remove(b), Some(2)); // after a cascade
    let mut out = Vec::new();
    w.advance(5001, &mut out);
    assert!(out.is_empty());
    w.advance(5002, &mut out);
    assert_eq!(out, vec![(c, 3)]);
    assert!(w.is_empty());
    assert_eq!(w.next_expiration(), None);
}

#[test]
fn removing_the_last_timer_of_a_slot_clears_its_bit() {
    let mut w = TimerWheel::new();
    let a = w.insert(100, 1);
    let b = w.insert(3000, 2);
    assert_eq!(w.next_expiration(), Some(64));
    w.remove(a);
    assert_eq!(w.next_expiration(), Some(2944)); // 46 * 64
    w.remove(b);
    assert_eq!(w.next_expiration(), None);
}

#[test]
fn stale_keys_are_rejected() {
    let mut w = TimerWheel::new();
    let a = w.insert(10, 'a');
    assert_eq!(w.remove(a), Some('a'));
    assert_eq!(w.remove(a), None);
    // The slot is reused; the old key must not reach the new timer.
    let b = w.insert(10, 'b');
    assert_eq!(b.index, a.index);
    assert_ne!(a, b);
    assert_eq!(w.remove(a), None);
    assert!(!w.contains(a));
    assert_eq!(w.get(a), None);
    assert!(!w.reset(a, 5));
    assert_eq!(w.get(b), Some(&'b'));
    // A fired timer's key is stale too.
    let mut out = Vec::new();
    w.advance(10, &mut out);
    assert_eq!(out, vec![(b, 'b')]);
    assert_eq!(w.remove(b), None);
    // A key from a bigger wheel is rejected, not a panic.
    assert_eq!(w.remove(TimerKey { index: 999, gen: 0 }), None);
}

#[test]
fn reset_moves_a_timer_both_ways() {
    let mut w = TimerWheel::new();
    let k = w.insert(10_000, 7);
    assert!(w.reset(k, 20));
    assert_eq!(w.next_expiration(), Some(20));
    assert!(w.reset(k, 300));
    let mut out = Vec::new();
    w.advance(299, &mut out);
    assert!(out.is_empty());
    *w.get_mut(k).unwrap() = 8;
    w.advance(300, &mut out);
    assert_eq!(out, vec![(k, 8)]);
}

#[test]
fn overflow_timers_fire_on_time() {
    let mut w = TimerWheel::new();
    let far = WHEEL_SPAN * 5 + 12_345;
    let k = w.insert(far, far);
    let near = w.insert(WHEEL_SPAN + 1, 1);
    // The overflow wakes no later than the start of its block.
    assert_eq!(w.next_expiration(), Some(WHEEL_SPAN));
    let fired = run_driver(&mut w);
    assert_eq!(fired, vec![(WHEEL_SPAN + 1, 1), (far, far)]);
    assert!(!w.contains(k) && !w.contains(near));
}

#[test]
fn removing_from_overflow() {
    let mut w = TimerWheel::new();
    let k = w.insert(u64::MAX, 1);
    assert_eq!(w.remove(k), Some(1));
    assert_eq!(w.next_expiration(), None);
    let k = w.insert(WHEEL_SPAN * 2, 2);
    let mut out = Vec::new();
    w.advance(WHEEL_SPAN, &mut out); // filed into the wheel now
    assert_eq!(w.remove(k), Some(2));
    assert!(w.is_empty());
}

#[test]
fn poll_expired_sees_timers_inserted_mid_sweep() {
    let mut w = TimerWheel::new();
    w.insert(5, 5);
    w.insert(9, 9);
    let (_, v) = w.poll_expired(10).unwrap();
    assert_eq!(v, 5);
    assert_eq!(w.now(), 5);
    w.insert(7, 7); // inserted while the sweep is at tick 5
    w.insert(2, 2); // already past: due at 5
    let rest: Vec<u64> = std::iter::from_fn(|| w.poll_expired(10)).map(|e| e.1).collect();
    assert_eq!(rest, vec![2, 7, 9]);
    assert_eq!(w.now(), 10);
}

#[test]
fn ms_ceil_rounds_up() {
    use std::time::Duration;
    assert_eq!(ms_ceil(Duration::from_nanos(999_999)), 1);
    assert_eq!(ms_ceil(Duration::from_nanos(1_000_001)), 2);
    assert_eq!(ms_ceil(Duration::from_secs(u64::MAX)), u64::MAX);
}

#[test]
fn debug_shows_state() {
    let mut w = TimerWheel::new();
    w.insert(3, ());
    let s = format!("{w:?}");
    assert!(s.contains("len: 1") && s.contains("Some(3)"), "{s}");
}
