//! Shared helpers for the readiness tests (`io_async_fd.rs`,
//! `net_ready.rs`): one `#[test]` per runtime flavor and backend, each
//! bounded twice (the runtime's timeout inside, a watchdog thread around),
//! and a single poll of a future, to tell "waits" from "returns at once"
//! without timing anything.

#![allow(dead_code)]

use spindle_rt::runtime::{Backend, Builder};
use spindle_rt::time::timeout;
use spindle_rt::Runtime;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

/// The runtime tests' helpers (`bounded`, `TempDir`), loaded once here.
#[path = "../rt_support/mod.rs"]
pub mod rt_support;

/// The bound on every wait that is expected to end.
pub const LIMIT: Duration = Duration::from_secs(10);

/// A runtime to test on: current-thread on one poller backend (epoll is
/// edge-triggered, poll and select are the level fallback), or the
/// multi-thread runtime, whose driver runs on another thread than the test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// The current-thread runtime on this backend.
    Current(Backend),
    /// The multi-thread runtime with two workers (epoll).
    Multi,
}

impl Flavor {
    /// Whether the driver registers edge-triggered: a new event reaches
    /// the latch even while nobody waits. (The level fallback asks the
    /// poller only for directions some task waits for.)
    pub fn edge(self) -> bool {
        matches!(self, Flavor::Current(Backend::Epoll) | Flavor::Multi)
    }

    /// Whether the poller reports a peer's half-close as such (`EPOLLRDHUP`,
    /// `POLLRDHUP`); select sees only a readable socket.
    pub fn sees_read_closed(self) -> bool {
        self != Flavor::Current(Backend::Select)
    }

    fn runtime(self) -> Runtime {
        match self {
            Flavor::Current(backend) => Builder::new_current_thread().backend(backend).build(),
            Flavor::Multi => Builder::new_multi_thread().worker_threads(2).backend(Backend::Epoll).build(),
        }
        .expect("runtime")
    }
}

/// Runs `test` on a fresh runtime of `flavor`, failing after [`LIMIT`]
/// (and, should the runtime itself hang, after the watchdog's ten seconds).
pub fn run<F, Fut>(flavor: Flavor, test: F)
where
    F: FnOnce(Flavor) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    rt_support::bounded(move || {
        flavor.runtime().block_on(async move { timeout(LIMIT, test(flavor)).await.expect("test timed out") })
    });
}

/// Polls `fut` exactly once: `Pending` means it waits, `Ready` that it
/// returned at once.
pub async fn poll_once<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
    let mut fut = Some(fut);
    poll_fn(|cx| Poll::Ready(fut.take().expect("polled once").poll(cx))).await
}

/// Makes one `#[test]` per flavor from `async fn name(flavor: Flavor)`.
#[macro_export]
macro_rules! on_flavors {
    ($($name:ident),* $(,)?) => {
        mod current_epoll {
            use spindle_rt::runtime::Backend;
            $(#[test] fn $name() { super::ready_support::run(super::Flavor::Current(Backend::Epoll), super::$name) })*
        }
        mod current_poll {
            use spindle_rt::runtime::Backend;
            $(#[test] fn $name() { super::ready_support::run(super::Flavor::Current(Backend::Poll), super::$name) })*
        }
        mod current_select {
            use spindle_rt::runtime::Backend;
            $(#[test] fn $name() { super::ready_support::run(super::Flavor::Current(Backend::Select), super::$name) })*
        }
        mod multi_thread {
            $(#[test] fn $name() { super::ready_support::run(super::Flavor::Multi, super::$name) })*
        }
    };
}
