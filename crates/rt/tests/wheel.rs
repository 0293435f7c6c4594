//! The timer wheel at load: a million timers, half cancelled, the rest
//! expired by a driver loop, with every count checked.

use spindle_rt::time::{TimerKey, TimerWheel};

/// A cheap deterministic spread of deadlines over about 20 minutes, so every
/// level up to 3 is used (xorshift; no dependency needed).
fn deadlines(n: usize) -> Vec<u64> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % 1_200_000
        })
        .collect()
}

#[test]
fn a_million_timers_half_cancelled_rest_expire_once() {
    const N: usize = 1_000_000;
    let ds = deadlines(N);
    let mut w = TimerWheel::with_capacity(N);
    let keys: Vec<TimerKey> = ds.iter().enumerate().map(|(i, &d)| w.insert(d, i as u32)).collect();
    assert_eq!(w.len(), N);

    // Cancel every other timer.
    for (i, &k) in keys.iter().enumerate().step_by(2) {
        assert_eq!(w.remove(k), Some(i as u32));
    }
    assert_eq!(w.len(), N / 2);

    // Drive it as the runtime will: wake at next_expiration, advance, repeat.
    let mut seen = vec![false; N];
    let mut fired = Vec::new();
    let mut count = 0usize;
    let mut wakes = 0usize;
    while let Some(t) = w.next_expiration() {
        wakes += 1;
        fired.clear();
        w.advance(t, &mut fired);
        for &(key, i) in &fired {
            let i = i as usize;
            assert_eq!(i % 2, 1, "a cancelled timer fired");
            assert!(!seen[i], "timer {i} fired twice");
            seen[i] = true;
            assert_eq!(ds[i], t, "timer {i} fired at {t}, deadline {}", ds[i]);
            assert_eq!(keys[i], key);
            count += 1;
        }
    }
    assert_eq!(count, N / 2);
    assert!(w.is_empty());
    // Roughly one wake per distinct deadline, plus the coarse-slot wakes.
    assert!(wakes < 1_200_000 + 20_000, "{wakes} wakes");

    // The storage is reused: a second million fits without growing keys.
    let k = w.insert(0, 0);
    assert!(w.remove(k).is_some());
}

#[test]
fn a_million_timers_expire_in_one_big_advance_in_order() {
    const N: usize = 1_000_000;
    let ds = deadlines(N);
    let mut w = TimerWheel::with_capacity(N);
    for (i, &d) in ds.iter().enumerate() {
        w.insert(d, i as u32);
    }
    let mut fired = Vec::with_capacity(N);
    assert_eq!(w.advance(u64::MAX, &mut fired), N);
    assert!(w.is_empty());
    // Deadline order, and insertion order among equal deadlines.
    for pair in fired.windows(2) {
        let (a, b) = (pair[0].1 as usize, pair[1].1 as usize);
        assert!((ds[a], a) < (ds[b], b), "{a} (deadline {}) before {b} (deadline {})", ds[a], ds[b]);
    }
}
