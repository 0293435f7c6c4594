//! Paused time: `Builder::start_paused`, `time::pause`, `resume` and
//! `advance`, and auto-advance. The clock under test is virtual, so the
//! assertions on it are exact; each test's real duration is bounded by
//! `bounded_by`, which is what catches a runtime that waits for a virtual
//! deadline in real time.

mod rt_support;

use rt_support::{bounded_by, mt, panic_message, rt};
use spindle_rt::net::{TcpListener, TcpStream, UnixStream};
use spindle_rt::time::{
    self, interval, sleep, sleep_until, timeout, timeout_at, Elapsed, Instant, MissedTickBehavior,
};
use spindle_rt::Builder;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

/// The real-time limit of every test here: generous for a loaded machine,
/// and far below any of the virtual durations they sleep.
const LIMIT: Duration = Duration::from_secs(5);

const HOUR: Duration = Duration::from_secs(3600);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn paused() -> spindle_rt::Runtime {
    Builder::new_current_thread().start_paused(true).build().expect("runtime")
}

#[test]
fn a_paused_runtime_sleeps_an_hour_at_once() {
    bounded_by(LIMIT, || {
        let real = std::time::Instant::now();
        let elapsed = paused().block_on(async {
            let start = Instant::now();
            sleep(HOUR).await;
            start.elapsed()
        });
        assert_eq!(elapsed, HOUR, "virtual time moved by exactly the sleep");
        assert!(real.elapsed() < LIMIT, "real time: {:?}", real.elapsed());
    });
}

#[test]
fn pause_inside_a_running_runtime_then_resume() {
    bounded_by(LIMIT, || {
        rt().block_on(async {
            // Some real time first, so the clock is off the wheel's grid.
            sleep(ms(2)).await;
            time::pause();
            let frozen = Instant::now();
            assert_eq!(Instant::now(), frozen, "stands still");
            sleep(HOUR).await;
            assert_eq!(frozen.elapsed(), HOUR, "exact even when paused off a whole millisecond");
            // A spawned task's sleep, and `sleep_until`, the same.
            let at = frozen + HOUR * 2;
            spindle_rt::spawn(sleep_until(at)).await.unwrap();
            assert_eq!(Instant::now(), at);

            time::resume();
            let resumed = Instant::now();
            assert!(resumed >= at, "never back: {resumed:?} < {at:?}");
            assert!(std::time::Instant::now() + HOUR < resumed.into_std(), "runs two hours ahead");
            // A running clock that is ahead of the system's still sleeps in
            // real time, and the loop timer is armed on its scale.
            sleep(ms(5)).await;
            assert!(resumed.elapsed() >= ms(5));
        });
    });
}

#[test]
fn advance_fires_exactly_the_timers_due() {
    bounded_by(LIMIT, || {
        paused().block_on(async {
            let start = Instant::now();
            let done = |d: u64| {
                let flag = Arc::new(AtomicBool::new(false));
                let f = flag.clone();
                spindle_rt::spawn(async move {
                    sleep(ms(d)).await;
                    f.store(true, SeqCst);
                });
                flag
            };
            let (ten, twenty) = (done(10), done(20));
            // Both register their timers; yielding moves no clock.
            spindle_rt::yield_now().await;
            assert_eq!(Instant::now(), start);
            assert!(!ten.load(SeqCst) && !twenty.load(SeqCst));

            time::advance(ms(15)).await;
            assert_eq!(start.elapsed(), ms(15));
            assert!(ten.load(SeqCst), "the 10 ms timer was due");
            assert!(!twenty.load(SeqCst), "the 20 ms timer was not");

            time::advance(ms(5)).await;
            assert_eq!(start.elapsed(), ms(20));
            assert!(twenty.load(SeqCst), "due at exactly 20 ms");
        });
    });
}

#[test]
fn timeout_of_a_never_ready_future_elapses_in_virtual_time() {
    bounded_by(LIMIT, || {
        paused().block_on(async {
            let start = Instant::now();
            let out: Result<(), Elapsed> = timeout(Duration::from_secs(30), std::future::pending()).await;
            assert!(out.is_err(), "elapsed");
            assert_eq!(start.elapsed(), Duration::from_secs(30));

            let deadline = Instant::now() + ms(250);
            let out = timeout_at(deadline, std::future::pending::<()>()).await;
            assert!(out.is_err());
            assert_eq!(Instant::now(), deadline);
        });
    });
}

#[test]
fn interval_ticks_at_the_virtual_period() {
    bounded_by(LIMIT, || {
        paused().block_on(async {
            let start = Instant::now();
            let mut every = interval(ms(100));
            for n in 0..5 {
                let at = every.tick().await;
                assert_eq!(at, start + ms(100) * n, "tick {n}");
                assert_eq!(Instant::now(), at, "tick {n} came exactly on schedule");
            }
            // Missed ticks burst (the default), then the schedule resumes.
            assert_eq!(every.missed_tick_behavior(), MissedTickBehavior::Burst);
            time::advance(ms(350)).await; // now: 750; ticks due at 500, 600, 700
            for due in [500, 600, 700] {
                assert_eq!(every.tick().await, start + ms(due));
                assert_eq!(Instant::now(), start + ms(750), "a burst takes no time");
            }
            assert_eq!(every.tick().await, start + ms(800));
            assert_eq!(Instant::now(), start + ms(800));
        });
    });
}

#[test]
fn auto_advance_jumps_over_a_tcp_read_waiting_for_a_silent_peer() {
    // As tokio: registered IO does not hold the clock, since nothing says
    // the peer will ever send.
    bounded_by(LIMIT, || {
        paused().block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let mut client = TcpStream::connect(addr).await.unwrap();
            let (_server, _) = listener.accept().await.unwrap();
            let start = Instant::now();
            let mut buf = [0; 8];
            let out = timeout(Duration::from_secs(10), client.read(&mut buf)).await;
            assert!(out.is_err(), "the silent peer's read timed out: {out:?}");
            assert_eq!(start.elapsed(), Duration::from_secs(10));
        });
    });
}

#[test]
fn io_already_delivered_is_handled_before_the_clock_moves() {
    bounded_by(LIMIT, || {
        paused().block_on(async {
            let (mut a, mut b) = UnixStream::pair().unwrap();
            let start = Instant::now();
            let reader = spindle_rt::spawn(async move {
                let mut buf = [0; 8];
                timeout(Duration::from_secs(10), a.read(&mut buf)).await
            });
            // The reader polls once, registering its read and its timer.
            spindle_rt::yield_now().await;
            assert!(!reader.is_finished());
            // A socketpair write lands in the peer's buffer before it
            // returns: the event is there when the runtime next looks.
            b.write_all(b"x").await.unwrap();
            let out = reader.await.unwrap();
            let n = out.expect("the data beat the timeout").expect("read");
            assert_eq!(n, 1);
            assert_eq!(Instant::now(), start, "the clock did not move");
        });
    });
}

#[test]
fn a_blocking_closure_holds_the_clock_until_it_is_done() {
    bounded_by(LIMIT, || {
        paused().block_on(async {
            let start = Instant::now();
            // The closure takes real time (it waits on a channel nobody
            // sends to). Auto-advance would fire the timeout meanwhile.
            // Passing does not depend on how long it takes; failing (with
            // the hold broken) does, and 100 ms is ample for that.
            let work = spindle_rt::spawn_blocking(|| {
                let (_tx, rx) = std::sync::mpsc::channel::<()>();
                let _ = rx.recv_timeout(ms(100));
                7
            });
            let out = timeout(Duration::from_secs(1), work).await;
            assert_eq!(out.map(|r| r.ok()), Ok(Some(7)), "the closure finished first");
            assert_eq!(start.elapsed(), Duration::ZERO, "the clock stood still meanwhile");

            // A detached closure holds it too, and lets go when it ends:
            // the runtime, asleep with a timer it may not jump to, is woken.
            drop(spindle_rt::spawn_blocking(|| {
                let (_tx, rx) = std::sync::mpsc::channel::<()>();
                let _ = rx.recv_timeout(ms(20));
            }));
            sleep(HOUR).await;
            assert_eq!(start.elapsed(), HOUR);
        });
    });
}

#[test]
fn start_paused_false_is_the_real_clock() {
    bounded_by(LIMIT, || {
        let rt = Builder::new_current_thread().start_paused(false).build().unwrap();
        rt.block_on(async {
            let real = std::time::Instant::now();
            let start = Instant::now();
            assert!(start.into_std() >= real);
            sleep(ms(5)).await;
            assert!(real.elapsed() >= ms(5), "slept in real time");
            let err = catch_unwind(time::resume).unwrap_err();
            assert_eq!(panic_message(&*err), "time is not frozen");
        });
    });
}

#[test]
fn misuse_panics_with_a_clear_message() {
    bounded_by(LIMIT, || {
        let err = catch_unwind(time::pause).unwrap_err();
        assert!(
            panic_message(&*err).contains("from outside the spindle-rt runtime"),
            "{}",
            panic_message(&*err)
        );

        paused().block_on(async {
            let err = catch_unwind(time::pause).unwrap_err();
            assert_eq!(panic_message(&*err), "time is already frozen");
        });
        rt().block_on(async {
            let advance = spindle_rt::spawn(time::advance(ms(1)));
            let err = advance.await.unwrap_err().into_panic();
            assert_eq!(panic_message(&*err), "time is not frozen");
        });
    });
}

#[test]
fn the_multi_thread_runtime_cannot_pause() {
    bounded_by(LIMIT, || {
        let rt = mt(1);
        let err = catch_unwind(AssertUnwindSafe(|| rt.block_on(async { time::pause() }))).unwrap_err();
        let msg = panic_message(&*err);
        assert!(msg.contains("`time::pause()` requires the `current_thread` spindle-rt runtime"), "{msg}");
        // Its tasks too, and its clock keeps running.
        let on_worker = rt.block_on(rt.spawn(async { time::pause() })).unwrap_err();
        assert!(on_worker.is_panic());
        let real = std::time::Instant::now();
        rt.block_on(async { sleep(ms(5)).await });
        assert!(real.elapsed() >= ms(5));

        let err = catch_unwind(|| Builder::new_multi_thread().worker_threads(1).start_paused(true).build())
            .expect_err("building a paused multi-thread runtime panics");
        assert!(panic_message(&*err).contains("requires the `current_thread`"), "{}", panic_message(&*err));
    });
}
