//! The benchmark bodies, written once and instantiated per runtime.
//!
//! The `bench_bodies!` macro expands to the same async functions in each
//! runtime's module; the names it uses (`spawn`, `yield_now`, `sleep`,
//! `Notify`, `mpsc`) resolve to whatever that module imported, so
//! spindle-rt and tokio run token-for-token the same code.
//! What differs per side is only [`spindle::build`] and [`tokio::build`]:
//! one function each that builds a runtime of a [`Flavor`].
//!
//! Equivalences chosen (documented here because they are judgment calls):
//!
//! - ping-pong uses two `Notify`s: task A does `ping.notify_one()` then
//!   `pong.notified().await`; task B the mirror image. Both runtimes'
//!   `Notify` store a permit when nobody waits, so the shape is identical.
//!   Both tasks are spawned (not the `block_on` future), so this is task to
//!   task on both sides.
//! - `yield_now` is each runtime's own. Note tokio's defers the wake-up
//!   until its run queue is empty and then does a zero-timeout poll of the
//!   IO driver (`park_yield`), while spindle-rt's re-queues at once; the
//!   figure is what a user of each `yield_now` pays.
//! - sleeps are `sleep(d)` created inside the task, so the deadline is
//!   taken at the task's first poll on both sides; each task also reports
//!   its own lateness (elapsed minus `d`).
//! - idle tasks pend on `std::future::pending()`: no waker is stored
//!   anywhere, so the figure is the task cell plus the runtime's own
//!   bookkeeping (owned-task list, queue capacity). `JoinHandle`s are
//!   dropped at once (the tasks are detached) so they do not count.

use anyhow::{bail, Result};

use super::{Bench, Flavor, Measured};

/// Expands to the benchmark bodies and `run` in the calling module, which
/// must have imported `spawn`, `yield_now`, `sleep`, `Notify`, `mpsc` and
/// defined `fn build(Flavor, usize) -> Result<Runtime>`.
macro_rules! bench_bodies {
    () => {
        use std::sync::atomic::{AtomicU64, Ordering};
        use std::sync::Arc;
        use std::time::{Duration, Instant};

        use crate::micro::{rss_bytes, Bench, Flavor, Measured, Meter};

        /// Builds a runtime of `flavor` and runs `bench` for `ops`
        /// operations inside `block_on`.
        ///
        /// # Errors
        /// The runtime cannot be built (or the flavor is not available).
        pub fn run(bench: Bench, flavor: Flavor, ops: u64, threads: usize) -> anyhow::Result<Measured> {
            let rt = build(flavor, threads)?;
            let measured = rt.block_on(async move {
                match bench {
                    Bench::Spawn => spawn_join(ops).await,
                    Bench::PingPong => ping_pong(ops).await,
                    Bench::Yield => yields(ops).await,
                    Bench::Mpsc1 => channel(ops, 1).await,
                    Bench::Mpsc4 => channel(ops, 4).await,
                    Bench::Sleeps => sleeps(ops).await,
                    Bench::Memory => idle_memory(ops).await,
                }
            });
            drop(rt);
            Ok(measured)
        }

        /// Spawns `n` tasks returning a small value, then awaits every
        /// handle in spawn order.
        pub async fn spawn_join(n: u64) -> Measured {
            let meter = Meter::start();
            let mut handles = Vec::with_capacity(n as usize);
            for i in 0..n {
                handles.push(spawn(async move { i ^ 1 }));
            }
            let mut sum = 0u64;
            for handle in handles {
                sum = sum.wrapping_add(handle.await.expect("spawned task failed"));
            }
            std::hint::black_box(sum);
            meter.stop(n)
        }

        /// Two spawned tasks wake each other through two `Notify`s, `n`
        /// round trips.
        pub async fn ping_pong(n: u64) -> Measured {
            let ping = Arc::new(Notify::new());
            let pong = Arc::new(Notify::new());
            let (ping2, pong2) = (Arc::clone(&ping), Arc::clone(&pong));
            let meter = Meter::start();
            let responder = spawn(async move {
                for _ in 0..n {
                    ping2.notified().await;
                    pong2.notify_one();
                }
            });
            let initiator = spawn(async move {
                for _ in 0..n {
                    ping.notify_one();
                    pong.notified().await;
                }
            });
            initiator.await.expect("initiator failed");
            responder.await.expect("responder failed");
            meter.stop(n)
        }

        /// Two spawned tasks each call `yield_now` `n / 2` times.
        pub async fn yields(n: u64) -> Measured {
            let per = n / 2;
            let meter = Meter::start();
            let tasks = [0, 1].map(|_| {
                spawn(async move {
                    for _ in 0..per {
                        yield_now().await;
                    }
                })
            });
            for task in tasks {
                task.await.expect("yielding task failed");
            }
            meter.stop(per * 2)
        }

        /// `producers` tasks send `n / producers` `u64`s each through one
        /// bounded channel of capacity 1024 to one consumer task.
        pub async fn channel(n: u64, producers: u64) -> Measured {
            let per = n / producers;
            let (tx, mut rx) = mpsc::channel::<u64>(1024);
            let meter = Meter::start();
            for _ in 0..producers {
                let tx = tx.clone();
                drop(spawn(async move {
                    for i in 0..per {
                        if tx.send(i).await.is_err() {
                            panic!("mpsc receiver dropped early");
                        }
                    }
                }));
            }
            drop(tx);
            let consumer = spawn(async move {
                let (mut count, mut sum) = (0u64, 0u64);
                while let Some(v) = rx.recv().await {
                    count += 1;
                    sum = sum.wrapping_add(v);
                }
                std::hint::black_box(sum);
                count
            });
            let got = consumer.await.expect("consumer failed");
            assert_eq!(got, per * producers, "messages lost");
            meter.stop(got)
        }

        /// Spawns `n` tasks sleeping `i * 1000 ms / n` each, awaits all.
        pub async fn sleeps(n: u64) -> Measured {
            const SPREAD_NS: u64 = 1_000_000_000;
            let meter = Meter::start();
            let mut handles = Vec::with_capacity(n as usize);
            for i in 0..n {
                let d = Duration::from_nanos(SPREAD_NS * i / n);
                handles.push(spawn(async move {
                    let t0 = Instant::now();
                    sleep(d).await;
                    t0.elapsed().saturating_sub(d).as_nanos() as u64
                }));
            }
            let (mut late_sum, mut late_max) = (0u64, 0u64);
            for handle in handles {
                let late = handle.await.expect("sleeping task failed");
                late_sum += late;
                late_max = late_max.max(late);
            }
            let mut m = meter.stop(n);
            let longest_s = (SPREAD_NS * (n - 1) / n) as f64 * 1e-9;
            m.extra.push(("longest_ms", longest_s * 1e3));
            m.extra.push(("overshoot_ms", (m.wall.as_secs_f64() - longest_s) * 1e3));
            m.extra.push(("late_mean_ms", late_sum as f64 / n as f64 * 1e-6));
            m.extra.push(("late_max_ms", late_max as f64 * 1e-6));
            m
        }

        /// Tasks of [`idle_memory`] that have been polled once.
        static IDLE_STARTED: AtomicU64 = AtomicU64::new(0);

        /// Spawns `n` tasks that pend forever, yields until each has been
        /// polled once, and reports RSS growth per task.
        pub async fn idle_memory(n: u64) -> Measured {
            IDLE_STARTED.store(0, Ordering::Relaxed);
            let before = rss_bytes();
            let meter = Meter::start();
            for _ in 0..n {
                drop(spawn(async {
                    IDLE_STARTED.fetch_add(1, Ordering::Relaxed);
                    std::future::pending::<()>().await
                }));
            }
            while IDLE_STARTED.load(Ordering::Relaxed) < n {
                yield_now().await;
            }
            let mut m = meter.stop(n);
            let after = rss_bytes();
            m.extra.push(("rss_before_mb", before as f64 / 1048576.0));
            m.extra.push(("rss_after_mb", after as f64 / 1048576.0));
            m.extra.push(("bytes_per_task", after.saturating_sub(before) as f64 / n as f64));
            m
        }
    };
}

pub mod spindle {
    //! spindle-rt's side: its builder and the shared bodies.

    use spindle_rt::sync::{mpsc, Notify};
    use spindle_rt::time::sleep;
    use spindle_rt::{spawn, yield_now};

    /// Builds a spindle-rt runtime of `flavor` (`threads` workers for
    /// [`Flavor::Multi`]).
    ///
    /// # Errors
    /// The kernel refusing a poller or a thread.
    pub fn build(flavor: Flavor, threads: usize) -> anyhow::Result<spindle_rt::Runtime> {
        match flavor {
            Flavor::Current => Ok(spindle_rt::Builder::new_current_thread().build()?),
            Flavor::Multi => Ok(spindle_rt::Builder::new_multi_thread().worker_threads(threads).build()?),
        }
    }

    bench_bodies!();
}

pub mod tokio {
    //! tokio's side: its builder and the shared bodies.

    use ::tokio::sync::{mpsc, Notify};
    use ::tokio::task::yield_now;
    use ::tokio::time::sleep;
    use ::tokio::{runtime, spawn};

    /// Builds a tokio runtime of `flavor` (`threads` workers for
    /// [`Flavor::Multi`]), with IO and time enabled.
    ///
    /// # Errors
    /// The runtime cannot be built.
    pub fn build(flavor: Flavor, threads: usize) -> anyhow::Result<runtime::Runtime> {
        let mut builder = match flavor {
            Flavor::Current => runtime::Builder::new_current_thread(),
            Flavor::Multi => {
                let mut b = runtime::Builder::new_multi_thread();
                b.worker_threads(threads.max(1));
                b
            }
        };
        Ok(builder.enable_all().build()?)
    }

    bench_bodies!();
}

/// Runs one benchmark on one runtime: what the child process does.
///
/// # Errors
/// The runtime cannot be built, or the flavor is not available.
pub fn run_one(rt: super::Rt, bench: Bench, flavor: Flavor, ops: u64, threads: usize) -> Result<Measured> {
    if ops < 4 {
        bail!("{}: too few operations ({ops}); lower --scale", bench.name());
    }
    match rt {
        super::Rt::Spindle => spindle::run(bench, flavor, ops, threads),
        super::Rt::Tokio => tokio::run(bench, flavor, ops, threads),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::micro::Rt;

    #[test]
    fn every_bench_runs_small_on_both_runtimes() {
        for bench in Bench::ALL {
            let ops = if bench == Bench::Sleeps { 100 } else { 1000 };
            for rt in [Rt::Spindle, Rt::Tokio] {
                let m = run_one(rt, bench, Flavor::Current, ops, 1).unwrap();
                assert!(m.ops >= ops - 4, "{bench:?} {rt:?}: {m:?}");
            }
        }
        assert!(run_one(Rt::Tokio, Bench::Spawn, Flavor::Multi, 1000, 2).is_ok());
    }
}
