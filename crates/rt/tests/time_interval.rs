//! `Interval` against tokio's documented semantics: the three
//! `MissedTickBehavior`s (a tick is missed when it fires more than 5 ms
//! late) and the `reset` family. On a paused clock, so every instant is
//! exact; `advance` plays the part of a task that stalled.

mod rt_support;

use rt_support::bounded_by;
use spindle_rt::time::{self, interval, Instant, MissedTickBehavior};
use spindle_rt::Builder;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(5);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn paused() -> spindle_rt::Runtime {
    Builder::new_current_thread().start_paused(true).build().expect("runtime")
}

/// The instants (from the interval's start, in ms) at which `n` ticks
/// complete and the instants they report, after the first tick, a stall
/// of `stall` ms, with `behavior`.
fn after_stall(behavior: MissedTickBehavior, period: u64, stall: u64, n: usize) -> Vec<(u64, u64)> {
    bounded_by(LIMIT, move || {
        paused().block_on(async move {
            let start = Instant::now();
            let mut every = interval(ms(period));
            every.set_missed_tick_behavior(behavior);
            assert_eq!(every.tick().await, start);
            time::advance(ms(stall)).await;
            let mut out = Vec::new();
            for _ in 0..n {
                let due = every.tick().await;
                let since = |t: Instant| u64::try_from((t - start).as_millis()).unwrap();
                out.push((since(Instant::now()), since(due)));
            }
            out
        })
    })
}

#[test]
fn burst_fires_the_missed_ticks_at_once_and_keeps_the_grid() {
    let ticks = after_stall(MissedTickBehavior::Burst, 10, 37, 5);
    assert_eq!(ticks, [(37, 10), (37, 20), (37, 30), (40, 40), (50, 50)]);
}

#[test]
fn delay_schedules_a_full_period_after_the_late_tick() {
    let ticks = after_stall(MissedTickBehavior::Delay, 10, 37, 3);
    assert_eq!(ticks, [(37, 10), (47, 47), (57, 57)]);
}

#[test]
fn delay_shifts_the_schedule_for_a_tick_late_by_less_than_a_period() {
    // Late by 20 ms of a 100 ms period: past tokio's 5 ms tolerance, so the
    // next tick is a period after the late one (220), not back on the grid
    // (200) only 80 ms later.
    let ticks = after_stall(MissedTickBehavior::Delay, 100, 120, 2);
    assert_eq!(ticks, [(120, 100), (220, 220)]);
}

#[test]
fn a_tick_within_the_tolerance_is_not_late() {
    // 4 ms late: on time, for every behaviour; the grid holds.
    for behavior in [MissedTickBehavior::Burst, MissedTickBehavior::Delay, MissedTickBehavior::Skip] {
        let ticks = after_stall(behavior, 100, 104, 2);
        assert_eq!(ticks, [(104, 100), (200, 200)], "{behavior:?}");
    }
}

#[test]
fn skip_drops_the_missed_ticks_and_returns_to_the_grid() {
    let ticks = after_stall(MissedTickBehavior::Skip, 10, 37, 3);
    assert_eq!(ticks, [(37, 10), (40, 40), (50, 50)]);
    // Landing exactly on a grid point skips to the next one.
    let ticks = after_stall(MissedTickBehavior::Skip, 10, 40, 2);
    assert_eq!(ticks, [(40, 10), (50, 50)]);
}

#[test]
fn reset_restarts_the_schedule_a_period_from_now() {
    bounded_by(LIMIT, || {
        paused().block_on(async {
            let start = Instant::now();
            let mut every = interval(ms(100));
            every.tick().await;
            time::advance(ms(30)).await;
            every.reset();
            assert_eq!(every.tick().await, start + ms(130));
            assert_eq!(Instant::now(), start + ms(130));
            assert_eq!(every.tick().await, start + ms(230), "the grid follows the reset");
        });
    });
}

#[test]
fn reset_immediately_after_and_at() {
    bounded_by(LIMIT, || {
        paused().block_on(async {
            let start = Instant::now();
            let mut every = interval(ms(100));
            every.tick().await;
            time::advance(ms(10)).await;
            every.reset_immediately();
            assert_eq!(every.tick().await, start + ms(10));
            assert_eq!(Instant::now(), start + ms(10), "no wait");
            assert_eq!(every.tick().await, start + ms(110));

            every.reset_after(ms(5));
            assert_eq!(every.tick().await, start + ms(115));
            assert_eq!(every.tick().await, start + ms(215));

            every.reset_at(start + ms(1000));
            assert_eq!(every.tick().await, start + ms(1000));
            assert_eq!(Instant::now(), start + ms(1000));
            // A deadline in the past fires at once.
            every.reset_at(start);
            assert_eq!(every.tick().await, start);
            assert_eq!(Instant::now(), start + ms(1000));
        });
    });
}
