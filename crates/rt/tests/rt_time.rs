//! The time driver: sleep, timeout, interval, cancellation, saturation and
//! scale. Sleeping is the feature under test here, so assertions are lower
//! bounds (a sleep may be late, never early), with generous upper bounds
//! only where a hang would otherwise go unnoticed.

mod rt_support;

use rt_support::{bounded, rt};
use spindle_rt::time::Instant;
use spindle_rt::time::{interval, sleep, sleep_until, timeout, Elapsed, MissedTickBehavior};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

#[test]
fn sleep_takes_at_least_its_duration() {
    bounded(|| {
        let rt = rt();
        let start = Instant::now();
        rt.block_on(sleep(Duration::from_millis(20)));
        assert!(start.elapsed() >= Duration::from_millis(20), "{:?}", start.elapsed());
    });
}

#[test]
fn sleep_in_a_spawned_task() {
    bounded(|| {
        let rt = rt();
        let start = Instant::now();
        let took = rt.block_on(async {
            spindle_rt::spawn(async move {
                sleep(Duration::from_millis(15)).await;
                start.elapsed()
            })
            .await
            .unwrap()
        });
        assert!(took >= Duration::from_millis(15), "{took:?}");
    });
}

#[test]
fn sub_millisecond_sleeps_round_up_and_zero_is_immediate() {
    bounded(|| {
        let rt = rt();
        rt.block_on(async {
            for us in [1, 300, 999, 1001, 1500] {
                let d = Duration::from_micros(us);
                let start = Instant::now();
                sleep(d).await;
                assert!(start.elapsed() >= d, "{us} us slept {:?}", start.elapsed());
            }
            // Zero and past deadlines complete on the first poll.
            let mut s = sleep(Duration::ZERO);
            assert!(poll_fn(|cx| Poll::Ready(Pin::new(&mut s).poll(cx).is_ready())).await);
            let mut s = sleep_until(Instant::now() - Duration::from_millis(5));
            assert!(poll_fn(|cx| Poll::Ready(Pin::new(&mut s).poll(cx).is_ready())).await);
            assert!(s.is_elapsed());
        });
    });
}

#[test]
fn a_deadline_passed_before_the_first_poll_completes_at_the_next_turn() {
    bounded(|| {
        let rt = rt();
        rt.block_on(async {
            // Made, then its deadline passes before it is first polled (the
            // task is busy): the first poll takes a timer instead of reading
            // the clock, and the next turn of the loop fires it.
            let s = sleep(Duration::from_millis(2));
            while Instant::now() < s.deadline() {
                std::hint::spin_loop();
            }
            s.await;

            // Reset to a past deadline while registered: completes on the
            // next poll, and its old wheel entry is gone.
            let mut s = Box::pin(sleep(Duration::from_secs(60)));
            assert!(poll_fn(|cx| Poll::Ready(s.as_mut().poll(cx).is_pending())).await);
            s.as_mut().reset(Instant::now() - Duration::from_millis(1));
            assert!(poll_fn(|cx| Poll::Ready(s.as_mut().poll(cx).is_ready())).await);
            assert!(s.is_elapsed());
        });
    });
}

/// Counts its drops; completes after `polls` polls (never if `usize::MAX`).
struct Counted {
    drops: Arc<AtomicUsize>,
}

impl Future for Counted {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

#[test]
fn timeout_fires_and_drops_the_inner_future() {
    bounded(|| {
        let rt = rt();
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        let handle = rt.handle();
        let start = Instant::now();
        let (res, drops_seen) = rt.block_on(async move {
            let res = timeout(Duration::from_millis(10), Counted { drops: d.clone() }).await;
            (res, d.load(SeqCst))
        });
        assert_eq!(res, Err::<(), _>(Elapsed::try_from_test()));
        assert!(start.elapsed() >= Duration::from_millis(10));
        assert_eq!(drops_seen, 1, "dropped when the deadline won, before timeout returned");
        assert_eq!(drops.load(SeqCst), 1);
        assert_eq!(handle.pending_timers(), 0);
    });
}

/// Builds an `Elapsed` the only way a user can: by timing out.
trait ElapsedExt {
    fn try_from_test() -> Elapsed;
}

impl ElapsedExt for Elapsed {
    fn try_from_test() -> Elapsed {
        rt().block_on(timeout(Duration::ZERO, std::future::pending::<()>())).unwrap_err()
    }
}

#[test]
fn timeout_not_firing_returns_ok_and_frees_its_timer() {
    bounded(|| {
        let rt = rt();
        let handle = rt.handle();
        let out = rt.block_on(async {
            let fast = async {
                sleep(Duration::from_millis(2)).await;
                "fast"
            };
            timeout(Duration::from_secs(5), fast).await
        });
        assert_eq!(out, Ok("fast"));
        assert_eq!(handle.pending_timers(), 0, "the losing deadline is removed from the wheel");
        assert_eq!(rt.block_on(timeout(Duration::from_secs(5), async { 1 })), Ok(1));
    });
}

#[test]
fn sleep_duration_max_inside_timeout_elapses_quickly() {
    bounded(|| {
        let rt = rt();
        let start = Instant::now();
        let res = rt.block_on(timeout(Duration::from_millis(10), sleep(Duration::MAX)));
        assert!(res.is_err());
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(10) && took < Duration::from_secs(5), "{took:?}");
        // And a forever sleep's deadline saturates rather than overflowing.
        rt.block_on(async {
            let s = sleep(Duration::MAX);
            assert!(s.deadline() > Instant::now() + Duration::from_secs(86_400 * 365 * 20));
            let res = timeout(Duration::MAX, async { 5 }).await;
            assert_eq!(res, Ok(5));
        });
        assert_eq!(rt.handle().pending_timers(), 0);
    });
}

#[test]
fn interval_ticks_on_schedule() {
    bounded(|| {
        let rt = rt();
        rt.block_on(async {
            let start = Instant::now();
            let mut every = interval(Duration::from_millis(10));
            assert_eq!(every.missed_tick_behavior(), MissedTickBehavior::Burst);
            let first = every.tick().await;
            assert!(start.elapsed() < Duration::from_millis(10), "the first tick is immediate");
            let mut last = first;
            for n in 1..=4u32 {
                let at = every.tick().await;
                assert_eq!(at, first + Duration::from_millis(10) * n, "ticks stay on schedule");
                assert!(Instant::now() >= at);
                last = at;
            }
            assert!(start.elapsed() >= Duration::from_millis(40));
            assert!(last >= first + Duration::from_millis(40));
        });
        assert_eq!(rt.handle().pending_timers(), 0, "a dropped interval frees its timer");
    });
}

#[test]
fn interval_missed_ticks_burst_or_delay() {
    bounded(|| {
        let rt = rt();
        rt.block_on(async {
            // Burst: after a stall of ~3 periods the missed ticks come at once.
            let mut every = interval(Duration::from_millis(10));
            let first = every.tick().await;
            std::thread::sleep(Duration::from_millis(35)); // stall the runtime on purpose
            let t0 = Instant::now();
            for n in 1..=3u32 {
                assert_eq!(every.tick().await, first + Duration::from_millis(10) * n);
            }
            assert!(t0.elapsed() < Duration::from_millis(20), "missed ticks burst: {:?}", t0.elapsed());

            // Delay: one late tick, then a full period after it.
            let mut every = interval(Duration::from_millis(10));
            every.set_missed_tick_behavior(MissedTickBehavior::Delay);
            every.tick().await;
            std::thread::sleep(Duration::from_millis(35));
            every.tick().await; // late, fires at once
            let after_late = Instant::now();
            every.tick().await;
            assert!(after_late.elapsed() >= Duration::from_millis(9), "{:?}", after_late.elapsed());
        });
    });
}

#[test]
fn dropping_a_sleep_before_it_fires_removes_it() {
    bounded(|| {
        let rt = rt();
        let handle = rt.handle();
        rt.block_on(async {
            let mut sleeps: Vec<_> = (0..1000).map(|i| sleep(Duration::from_secs(60 + i))).collect();
            // Register them all (first poll), then drop them unfired.
            poll_fn(|cx| {
                for s in &mut sleeps {
                    assert!(Pin::new(s).poll(cx).is_pending());
                }
                Poll::Ready(())
            })
            .await;
            assert_eq!(handle.pending_timers(), 1000);
            drop(sleeps);
            assert_eq!(handle.pending_timers(), 0);
        });
        // Abort a task sleeping: its Sleep goes with its future.
        rt.block_on(async {
            let t = spindle_rt::spawn(sleep(Duration::from_secs(60)));
            spindle_rt::yield_now().await;
            assert_eq!(handle.pending_timers(), 1);
            t.abort();
            assert!(t.await.unwrap_err().is_cancelled());
            assert_eq!(handle.pending_timers(), 0);
        });
    });
}

#[test]
fn hundred_thousand_concurrent_sleeps_all_complete() {
    bounded(|| {
        let rt = rt();
        let handle = rt.handle();
        let done = Arc::new(AtomicUsize::new(0));
        let start = Instant::now();
        rt.block_on({
            let done = done.clone();
            async move {
                // A deterministic pseudo-random 0..50 ms per sleep (xorshift).
                let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
                let joins: Vec<_> = (0..100_000)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        let d = Duration::from_millis(x % 50);
                        let done = done.clone();
                        spindle_rt::spawn(async move {
                            let t = Instant::now();
                            sleep(d).await;
                            assert!(t.elapsed() >= d);
                            done.fetch_add(1, SeqCst);
                        })
                    })
                    .collect();
                for j in joins {
                    j.await.unwrap();
                }
            }
        });
        assert_eq!(done.load(SeqCst), 100_000);
        assert_eq!(handle.pending_timers(), 0);
        assert_eq!(handle.live_tasks(), 0);
        eprintln!("100k sleeps took {:?}", start.elapsed());
    });
}

#[test]
fn dropping_the_runtime_with_sleeping_tasks_does_not_wait() {
    bounded(|| {
        let rt = rt();
        let handle = rt.handle();
        let h = handle.clone();
        rt.block_on(async move {
            let handle = h;
            for _ in 0..100 {
                drop(spindle_rt::spawn(sleep(Duration::from_secs(3600))));
            }
            // Yield until every task has been polled (and registered).
            while handle.pending_timers() < 100 {
                spindle_rt::yield_now().await;
            }
        });
        assert_eq!(handle.pending_timers(), 100);
        drop(rt);
        assert_eq!(handle.pending_timers(), 0);
        assert_eq!(handle.live_tasks(), 0);
    });
}

#[test]
fn sleep_polled_outside_a_runtime_panics() {
    // Creating one outside is fine (it binds at first poll)...
    let s = sleep(Duration::from_millis(1));
    // ...polling it outside any runtime is not.
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| futures::executor::block_on(s)))
        .unwrap_err();
    assert!(rt_support::panic_message(&*err).contains("must be called from within a spindle-rt runtime"));
}

#[test]
fn a_sleep_woken_by_a_later_shorter_sleep_rearms_the_loop_timer() {
    bounded(|| {
        let rt = rt();
        let start = Instant::now();
        rt.block_on(async {
            // A long sleep arms the loop timer first; a shorter one must
            // re-arm it earlier, or this would take the long one's time.
            let long = spindle_rt::spawn(sleep(Duration::from_secs(30)));
            spindle_rt::yield_now().await;
            sleep(Duration::from_millis(5)).await;
            long.abort();
        });
        assert!(start.elapsed() < Duration::from_secs(5));
    });
}

/// CPU time this thread has used, from `/proc/thread-self/schedstat`.
fn thread_cpu_time() -> Duration {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").expect("schedstat");
    Duration::from_nanos(s.split_whitespace().next().unwrap().parse().unwrap())
}

#[test]
fn a_sleeping_runtime_does_not_spin() {
    bounded(|| {
        let rt = rt();
        let cpu = thread_cpu_time();
        let start = Instant::now();
        rt.block_on(async {
            // Several levels of the wheel: each costs at most a few early
            // wake-ups, never a busy loop.
            let a = spindle_rt::spawn(sleep(Duration::from_millis(150)));
            let b = spindle_rt::spawn(sleep(Duration::from_millis(300)));
            sleep(Duration::from_millis(200)).await;
            a.await.unwrap();
            b.await.unwrap();
        });
        let (wall, used) = (start.elapsed(), thread_cpu_time() - cpu);
        assert!(wall >= Duration::from_millis(300));
        assert!(used < Duration::from_millis(100), "slept {wall:?} but used {used:?} of CPU");
    });
}

#[test]
fn a_sleep_polled_on_another_thread_wakes_the_loop_to_rearm() {
    bounded(|| {
        let rt = rt();
        let handle = rt.handle();
        let start = Instant::now();
        rt.block_on(async move {
            // Created here (bound to this runtime), polled by another
            // executor on another thread: its registration must wake this
            // loop, which is asleep with no timer armed, to arm one.
            let s = sleep(Duration::from_millis(20));
            let (tx, rx) = spindle_rt::sync::oneshot::channel();
            std::thread::spawn(move || {
                futures::executor::block_on(s);
                let _ = tx.send(Instant::now());
            });
            let woke = rx.await.expect("the sleeping thread finished");
            assert!(woke - start >= Duration::from_millis(20));
            assert_eq!(handle.pending_timers(), 0);
        });
    });
}

#[test]
fn every_poller_backend_drives_timers_and_remote_wakes() {
    use spindle_rt::runtime::{Backend, Builder};
    for backend in [Backend::Epoll, Backend::Poll, Backend::Select] {
        bounded(move || {
            let rt = Builder::new_current_thread().backend(backend).build().unwrap();
            let handle = rt.handle();
            let start = Instant::now();
            let out = rt.block_on(async move {
                sleep(Duration::from_millis(5)).await;
                let remote = std::thread::spawn(move || handle.spawn(async { 7 })).join().unwrap();
                remote.await.unwrap()
            });
            assert_eq!(out, 7);
            assert!(start.elapsed() >= Duration::from_millis(5), "{backend:?}");
        });
    }
}

#[test]
fn time_types_are_send_sync_unpin() {
    fn send_sync_unpin<T: Send + Sync + Unpin>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    bounded(|| {
        let rt = rt();
        rt.block_on(async {
            send_sync_unpin(&sleep(Duration::from_millis(1)));
            send_sync_unpin(&interval(Duration::from_millis(1)));
            send_sync_unpin(&rt_support::rt().handle());
            // A timeout around a Send future is Send, so it can be spawned.
            let t = timeout(Duration::from_millis(1), async { 1 });
            send(&t);
            assert_eq!(spindle_rt::spawn(t).await.unwrap(), Ok(1));
        });
    });
}

#[test]
fn a_sleep_polled_after_its_runtime_was_dropped_panics() {
    bounded(|| {
        let rt = rt();
        let handle = rt.handle();
        // Registered in the wheel (polled once), then handed out.
        let (s,) = rt.block_on(async {
            let mut s = sleep(Duration::from_secs(60));
            let pending = poll_fn(|cx| Poll::Ready(Pin::new(&mut s).poll(cx).is_pending())).await;
            assert!(pending);
            (s,)
        });
        assert_eq!(handle.pending_timers(), 1);
        drop(rt);
        assert_eq!(handle.pending_timers(), 0);
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| futures::executor::block_on(s)))
            .unwrap_err();
        assert!(rt_support::panic_message(&*err).contains("has shut down"));
    });
}

/// A sleep waited on outside the runtime's tasks (here `Handle::block_on`
/// on a thread of its own) when the runtime is dropped: shutting the time
/// driver down must wake it, so that its next poll panics with the
/// shutdown message, as tokio's does. It used to drop the wheel's wakers
/// unwoken, and the thread slept for ever.
#[test]
fn a_sleep_waited_on_elsewhere_is_woken_by_its_runtime_shutting_down() {
    bounded(|| {
        for (name, rt) in rt_support::both() {
            let handle = rt.handle();
            let h = handle.clone();
            let waiter = std::thread::spawn(move || h.block_on(sleep(Duration::from_secs(3600))));
            while handle.pending_timers() == 0 {
                std::thread::yield_now();
            }
            drop(rt);
            let err = waiter.join().expect_err(name);
            let message = rt_support::panic_message(&*err);
            assert!(message.contains("has shut down"), "{name}: {message}");
        }
    });
}

/// tokio's `time::Timeout<F>`: a nameable future (kept in a struct field,
/// boxed, or pinned and polled by hand), with `get_ref`, `get_mut` and
/// `into_inner` to reach the wrapped future; `timeout` takes any
/// `IntoFuture`.
#[test]
fn timeout_is_a_nameable_future_with_accessors() {
    use spindle_rt::time::Timeout;
    use std::future::{ready, IntoFuture, Ready};
    struct Later(u8);
    impl IntoFuture for Later {
        type Output = u8;
        type IntoFuture = Ready<u8>;
        fn into_future(self) -> Ready<u8> {
            ready(self.0)
        }
    }
    struct Held {
        pending: Timeout<Ready<u8>>,
    }
    bounded(|| {
        let elapsed = Elapsed::try_from_test();
        rt().block_on(async {
            let mut held = Held { pending: timeout(Duration::from_secs(5), ready(3)) };
            let inner: &Ready<u8> = held.pending.get_ref();
            assert!(format!("{inner:?}").contains("Ready"));
            *held.pending.get_mut() = ready(3);
            assert_eq!(held.pending.await, Ok(3));
            assert_eq!(timeout(Duration::from_secs(5), Later(4)).await, Ok(4));
            let boxed: Pin<Box<Timeout<_>>> =
                Box::pin(timeout(Duration::from_millis(1), sleep(Duration::from_secs(60))));
            assert_eq!(boxed.await, Err(elapsed));
            let inner = timeout(Duration::from_secs(5), ready(9)).into_inner();
            assert_eq!(inner.await, 9);
        });
    });
}
