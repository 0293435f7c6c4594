//! Shared helpers for the datagram tests (`net_udp_ext.rs`,
//! `net_unix_datagram.rs`): one `#[test]` per runtime flavor and backend,
//! each run as a spawned task (so on the multi-thread runtime it runs on a
//! worker, and the sockets are made and driven there), bounded twice: by a
//! runtime timeout, and by a thread bound that also catches a test stuck in
//! a blocking call.

#![allow(dead_code)]

use spindle_rt::runtime::{Backend, Builder};
use spindle_rt::time::timeout;
use std::future::Future;
use std::time::Duration;

/// The bound on one test's task (the thread bound around it is 10 s).
pub const LIMIT: Duration = Duration::from_secs(8);

/// A runtime to run a test on.
#[derive(Clone, Copy, Debug)]
pub enum Flavor {
    /// The current-thread runtime on this poller backend.
    Current(Backend),
    /// The multi-thread runtime, two workers, on this poller backend.
    Multi(Backend),
}

/// Runs `test()` as a task on a fresh runtime of `flavor`, failing after
/// [`LIMIT`]; a panic in the task fails the test with its own message.
pub fn run<F, Fut>(flavor: Flavor, test: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    crate::rt_support::bounded(move || {
        let rt = match flavor {
            Flavor::Current(b) => Builder::new_current_thread().backend(b).build(),
            Flavor::Multi(b) => Builder::new_multi_thread().worker_threads(2).backend(b).build(),
        }
        .expect("runtime");
        rt.block_on(async move {
            match timeout(LIMIT, spindle_rt::spawn(test())).await {
                Err(_) => panic!("test timed out after {LIMIT:?} on {flavor:?}"),
                Ok(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Ok(Err(e)) => panic!("test task failed on {flavor:?}: {e}"),
                Ok(Ok(())) => {}
            }
        });
    });
}

/// Makes one `#[test]` per runtime flavor from `async fn name()`: the
/// current-thread runtime on epoll (edge mode), poll and select (the level
/// fallback), and the multi-thread runtime on epoll and poll.
#[macro_export]
macro_rules! on_runtimes {
    ($($name:ident),* $(,)?) => {
        mod current_epoll {
            $(#[test] fn $name() {
                $crate::dgram_support::run(
                    $crate::dgram_support::Flavor::Current(spindle_rt::runtime::Backend::Epoll),
                    super::$name,
                )
            })*
        }
        mod current_poll {
            $(#[test] fn $name() {
                $crate::dgram_support::run(
                    $crate::dgram_support::Flavor::Current(spindle_rt::runtime::Backend::Poll),
                    super::$name,
                )
            })*
        }
        mod current_select {
            $(#[test] fn $name() {
                $crate::dgram_support::run(
                    $crate::dgram_support::Flavor::Current(spindle_rt::runtime::Backend::Select),
                    super::$name,
                )
            })*
        }
        mod multi_epoll {
            $(#[test] fn $name() {
                $crate::dgram_support::run(
                    $crate::dgram_support::Flavor::Multi(spindle_rt::runtime::Backend::Epoll),
                    super::$name,
                )
            })*
        }
        mod multi_poll {
            $(#[test] fn $name() {
                $crate::dgram_support::run(
                    $crate::dgram_support::Flavor::Multi(spindle_rt::runtime::Backend::Poll),
                    super::$name,
                )
            })*
        }
    };
}

/// Yields `n` times: lets other tasks run (a waiter park, a sender send)
/// without sleeping; never what a test's correctness waits on.
pub async fn yields(n: usize) {
    for _ in 0..n {
        spindle_rt::yield_now().await;
    }
}
