//! `#[spindle_rt::test(start_paused = true)]`: the test's runtime starts
//! with its clock paused. A macro test runs on the test's own thread, so
//! each bounds its real duration with `within`.

use futures::future::{select, Either};
use spindle_rt::time::{self, sleep, Instant};
use std::future::Future;
use std::pin::pin;
use std::sync::mpsc;
use std::time::Duration;

/// Runs `fut`, failing the test if it takes more than `limit` of real
/// time: a watchdog thread waits that long for the test to finish, and if
/// it does not, wakes the runtime through a oneshot, whatever its clock.
async fn within<F: Future>(limit: Duration, fut: F) -> F::Output {
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let (late_tx, late_rx) = spindle_rt::sync::oneshot::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = done_rx.recv_timeout(limit) {
            let _ = late_tx.send(());
        }
    });
    match select(pin!(fut), pin!(late_rx)).await {
        Either::Left((out, _)) => {
            drop(done_tx);
            watchdog.join().expect("the watchdog exits");
            out
        }
        Either::Right(_) => panic!("took more than {limit:?} of real time"),
    }
}

const LIMIT: Duration = Duration::from_secs(5);
const HOUR: Duration = Duration::from_secs(3600);

#[spindle_rt::test(start_paused = true)]
async fn start_paused_runs_an_hour_long_sleep_at_once() {
    let real = std::time::Instant::now();
    let start = Instant::now();
    within(LIMIT, sleep(HOUR)).await;
    assert_eq!(start.elapsed(), HOUR);
    assert!(real.elapsed() < LIMIT);
}

#[spindle_rt::test(start_paused = true)]
async fn start_paused_allows_advance() {
    let start = Instant::now();
    time::advance(Duration::from_millis(250)).await;
    assert_eq!(start.elapsed(), Duration::from_millis(250));
    // Already paused: pausing again is an error, as with tokio.
    let err = std::panic::catch_unwind(time::pause).unwrap_err();
    assert_eq!(err.downcast_ref::<String>().map(String::as_str), Some("time is already frozen"));
}

#[spindle_rt::test(flavor = "current_thread", start_paused = false)]
async fn start_paused_false_keeps_the_real_clock() {
    let real = std::time::Instant::now();
    within(LIMIT, sleep(Duration::from_millis(5))).await;
    assert!(real.elapsed() >= Duration::from_millis(5), "slept in real time");
    // Not paused, so `advance` refuses.
    let err = spindle_rt::spawn(time::advance(Duration::from_secs(1))).await.unwrap_err();
    assert!(err.is_panic());
}
