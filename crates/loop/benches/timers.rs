//! Timer heap throughput at a million pending timers: insert, cancel, expire.
//!
//! An HTTP server keeps a timer per connection, so a million pending timers
//! is normal load (DESIGN.md). Each measurement is one batch of 1,000,000
//! operations on a fresh loop; the loop is built, and dropped, outside the
//! timing. Ten samples (criterion's minimum) keep a run to about a minute.
//!
//! `cargo bench -p spindle-loop --bench timers`

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use spindle_loop::{Loop, RunMode, TimerId};
use std::hint::black_box;
use std::time::Duration;

const N: usize = 1_000_000;

/// A spread of deadlines, so the heap sees inserts everywhere and not only
/// at its end: a multiplicative hash of `i` over about 17 minutes.
fn timeout(i: usize) -> Duration {
    Duration::from_millis((i as u64).wrapping_mul(2_654_435_761) % 1_000_000 + 60_000)
}

/// A loop with `N` stopped timers.
fn with_timers() -> (Loop, Vec<TimerId>) {
    let mut lp = Loop::new().expect("loop");
    let timers = (0..N).map(|_| lp.timer_new()).collect();
    (lp, timers)
}

/// A loop with `N` armed timers, each at `timeout(i)` (or zero).
fn with_armed(zero: bool) -> (Loop, Vec<TimerId>) {
    let (mut lp, timers) = with_timers();
    for (i, &t) in timers.iter().enumerate() {
        let d = if zero { Duration::ZERO } else { timeout(i) };
        lp.timer_start(t, d, None, |_, _| {}).expect("start");
    }
    (lp, timers)
}

fn timers(c: &mut Criterion) {
    let mut g = c.benchmark_group("timers");
    g.sample_size(10).warm_up_time(Duration::from_secs(1));
    g.throughput(Throughput::Elements(N as u64));

    g.bench_function("insert_1M", |b| {
        b.iter_batched(
            with_timers,
            |(mut lp, timers)| {
                for (i, &t) in timers.iter().enumerate() {
                    lp.timer_start(t, timeout(i), None, |_, _| {}).expect("start");
                }
                (lp, timers)
            },
            BatchSize::PerIteration,
        );
    });

    g.bench_function("cancel_1M", |b| {
        b.iter_batched(
            || with_armed(false),
            |(mut lp, timers)| {
                for &t in &timers {
                    lp.timer_stop(t);
                }
                (lp, timers)
            },
            BatchSize::PerIteration,
        );
    });

    g.bench_function("expire_1M", |b| {
        b.iter_batched(
            || with_armed(true),
            |(mut lp, timers)| {
                // One iteration runs every due timer: all of them.
                lp.run(RunMode::NoWait).expect("run");
                assert!(!lp.alive(), "every timer fired");
                black_box((lp, timers))
            },
            BatchSize::PerIteration,
        );
    });
    g.finish();
}

criterion_group!(benches, timers);
criterion_main!(benches);
