//! Multi-threaded stress of the local run queue: one owner pushing and
//! popping, 1 to 3 thieves stealing, and every item must be seen exactly
//! once. Bounded iterations, no sleeps.

// Real threads and std atomics: not under loom (see src/sched/loom_tests.rs).
#![cfg(not(loom))]

use spindle_rt::sched::{local, Inject, Steal};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

const ITEMS: usize = 200_000;

/// Runs one owner and `thieves` thieves; returns how often each item was
/// seen.
fn run(thieves: usize) -> Vec<u32> {
    let inject = Arc::new(Inject::new());
    let (steal, mut owner) = local();
    let done = Arc::new(AtomicBool::new(false));
    // Start together, so the owner does not finish before the thieves run.
    let start = Arc::new(Barrier::new(thieves + 1));

    let handles: Vec<_> = (0..thieves)
        .map(|_| {
            let steal: Steal<usize> = steal.clone();
            let done = done.clone();
            let start = start.clone();
            thread::spawn(move || {
                start.wait();
                let (_s, mut mine) = local();
                let mut got = Vec::new();
                loop {
                    // Read `done` before stealing: if it was set, the owner
                    // had finished, so an empty steal means really empty.
                    let finished = done.load(Ordering::Acquire);
                    match steal.steal_into(&mut mine) {
                        Some(item) => {
                            got.push(item);
                            got.extend(std::iter::from_fn(|| mine.pop()));
                        }
                        None if finished && steal.is_empty() => break,
                        None => std::hint::spin_loop(),
                    }
                }
                got
            })
        })
        .collect();

    start.wait();
    let mut seen = vec![0u32; ITEMS];
    let mut next = 0;
    while next < ITEMS {
        // Bursts of pushes (sometimes overflowing), then some pops.
        let burst = 1 + next % 300;
        for _ in 0..burst.min(ITEMS - next) {
            owner.push_back(next, &inject);
            next += 1;
        }
        for _ in 0..burst / 2 {
            if let Some(item) = owner.pop() {
                seen[item] += 1;
                // "Run" the task a little, giving thieves a window on head.
                for _ in 0..item % 64 {
                    std::hint::spin_loop();
                }
            }
        }
        if next % 7 == 0 {
            if let Some(item) = inject.pop_into(&mut owner, thieves + 1) {
                seen[item] += 1;
            }
        }
    }
    while let Some(item) = owner.pop() {
        seen[item] += 1;
    }
    done.store(true, Ordering::Release);
    for handle in handles {
        for item in handle.join().unwrap() {
            seen[item] += 1;
        }
    }
    while let Some(item) = inject.pop() {
        seen[item] += 1;
    }
    seen
}

fn check(thieves: usize) {
    let seen = run(thieves);
    let bad: Vec<_> = seen.iter().enumerate().filter(|(_, &n)| n != 1).take(10).collect();
    assert!(bad.is_empty(), "items not seen exactly once (item, count): {bad:?}");
}

#[test]
fn one_thief() {
    check(1);
}

#[test]
fn two_thieves() {
    check(2);
}

#[test]
fn three_thieves() {
    check(3);
}
