//! `spindle_rt::time::Instant`: tokio's `Instant`, std's arithmetic, and
//! `now()` read from the current runtime's clock.

mod rt_support;

use rt_support::{bounded_by, rt};
use spindle_rt::time::{self, sleep_until, Instant};
use spindle_rt::Builder;
use std::collections::HashSet;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(5);

#[test]
fn converts_to_and_from_std_exactly() {
    let std_now = std::time::Instant::now();
    let ours = Instant::from_std(std_now);
    assert_eq!(ours.into_std(), std_now);
    assert_eq!(Instant::from(std_now), ours);
    assert_eq!(std::time::Instant::from(ours), std_now);
    assert_eq!(format!("{ours:?}"), format!("{std_now:?}"), "Debug is std's");
}

#[test]
fn arithmetic_is_std_s() {
    let t = Instant::from_std(std::time::Instant::now());
    let d = Duration::from_millis(1500);
    let later = t + d;
    assert_eq!(later.into_std(), t.into_std() + d);
    assert_eq!(later - d, t);
    assert_eq!(later - t, d);
    assert_eq!(t - later, Duration::ZERO, "an instant minus a later one saturates");
    assert_eq!(later.duration_since(t), d);
    assert_eq!(t.duration_since(later), Duration::ZERO);
    assert_eq!(later.checked_duration_since(t), Some(d));
    assert_eq!(t.checked_duration_since(later), None);
    assert_eq!(later.saturating_duration_since(t), d);
    assert_eq!(t.saturating_duration_since(later), Duration::ZERO);
    assert_eq!(t.checked_add(d), Some(later));
    assert_eq!(later.checked_sub(d), Some(t));
    assert_eq!(t.checked_add(Duration::MAX), None, "overflow is None, not a panic");
    assert_eq!(t.checked_sub(Duration::MAX), None);

    let mut m = t;
    m += d;
    assert_eq!(m, later);
    m -= d;
    assert_eq!(m, t);

    assert!(t < later);
    assert_eq!(later.cmp(&t), std::cmp::Ordering::Greater);
    assert_eq!(t.max(later), later);
    let set: HashSet<Instant> = [t, later, t + Duration::ZERO].into_iter().collect();
    assert_eq!(set.len(), 2, "equal instants hash alike");
}

#[test]
#[should_panic]
fn adding_past_the_clock_s_range_panics_as_std_does() {
    let _ = Instant::now() + Duration::MAX;
}

#[test]
fn now_outside_a_runtime_is_the_system_clock() {
    let before = std::time::Instant::now();
    let now = Instant::now();
    let after = std::time::Instant::now();
    assert!(before <= now.into_std() && now.into_std() <= after);
}

#[test]
fn now_reads_the_runtime_s_clock() {
    bounded_by(LIMIT, || {
        // A running runtime's clock is the system's.
        rt().block_on(async {
            let before = std::time::Instant::now();
            let now = Instant::now();
            assert!(before <= now.into_std() && now.into_std() <= std::time::Instant::now());
        });

        let rt = Builder::new_current_thread().start_paused(true).build().unwrap();
        rt.block_on(async {
            let frozen = Instant::now();
            // Real time passes (a round trip through the blocking pool,
            // which also holds auto-advance) but the paused clock does not.
            spindle_rt::spawn_blocking(|| ()).await.unwrap();
            assert_eq!(Instant::now(), frozen);
            assert!(std::time::Instant::now() > frozen.into_std(), "the system clock moved on");
            assert_eq!(frozen.elapsed(), Duration::ZERO);

            time::advance(Duration::from_secs(5)).await;
            assert_eq!(frozen.elapsed(), Duration::from_secs(5), "`elapsed` reads the runtime's clock");

            // Deadlines are this clock's instants.
            let deadline = Instant::now() + Duration::from_secs(60);
            let sleep = sleep_until(deadline);
            assert_eq!(sleep.deadline(), deadline);
            sleep.await;
            assert_eq!(Instant::now(), deadline);
        });
        // A thread that merely entered the runtime reads its clock too.
        let handle = rt.handle();
        let _guard = handle.enter();
        let t = Instant::now();
        assert_eq!(Instant::now(), t, "still paused");
    });
}
