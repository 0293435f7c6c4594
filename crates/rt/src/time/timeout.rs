//! [`timeout`] and [`timeout_at`]: bound how long a future may take.

use super::sleep::{sleep, sleep_until, Sleep};
use super::Instant;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// The error of a [`timeout`] whose deadline passed first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(_: Elapsed) -> std::io::Error {
        std::io::ErrorKind::TimedOut.into()
    }
}

/// Runs `future` for at most `duration`: `Ok(output)` if it completes
/// first, `Err(Elapsed)` once `duration` has passed (measured from this
/// call). When the deadline wins, `future` is dropped right then, without
/// being polled again.
///
/// The future is polled before the deadline is checked, so one that is
/// ready on the poll where the deadline also passed still returns `Ok`.
/// The deadline follows [`sleep`]'s rules: never early, and
/// `Duration::MAX` means no deadline in practice. While the future wins,
/// the timer costs an O(1) insert and an O(1) removal.
///
/// # Panics
/// As [`sleep`]'s: when polled outside a runtime, if created outside one.
///
/// # Example
///
/// ```
/// use spindle_rt::runtime::Builder;
/// use spindle_rt::time::{sleep, timeout};
/// use std::time::Duration;
///
/// let rt = Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     assert_eq!(timeout(Duration::from_secs(5), async { 7 }).await, Ok(7));
///     let slow = sleep(Duration::from_secs(60));
///     assert!(timeout(Duration::from_millis(5), slow).await.is_err());
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    Timeout { value: future.into_future(), delay: sleep(duration) }
}

/// Like [`timeout`], with an absolute deadline on the runtime's clock.
///
/// ```
/// use spindle_rt::time::{timeout_at, Instant};
/// use std::time::Duration;
///
/// let rt = spindle_rt::Builder::new_current_thread().start_paused(true).build()?;
/// rt.block_on(async {
///     let deadline = Instant::now() + Duration::from_secs(30);
///     let never = std::future::pending::<()>();
///     assert!(timeout_at(deadline, never).await.is_err());
///     assert_eq!(Instant::now(), deadline, "the paused clock jumped to the deadline");
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Panics
/// As [`sleep`]'s.
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    Timeout { value: future.into_future(), delay: sleep_until(deadline) }
}

pin_project_lite::pin_project! {
    /// The future of [`timeout`] and [`timeout_at`]: the wrapped future
    /// and its deadline (tokio's `time::Timeout`, so it can be named in a
    /// struct field or a boxed type).
    #[must_use = "futures do nothing unless polled"]
    pub struct Timeout<F> {
        #[pin]
        value: F,
        delay: Sleep,
    }
}

impl<F> Timeout<F> {
    /// The wrapped future.
    pub fn get_ref(&self) -> &F {
        &self.value
    }

    /// The wrapped future, mutably.
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.value
    }

    /// The wrapped future, without its deadline.
    pub fn into_inner(self) -> F {
        self.value
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let me = self.project();
        let had_budget = crate::coop::has_budget_remaining();
        // The future first: one ready on the poll where the deadline also
        // passed still wins.
        if let Poll::Ready(out) = me.value.poll(cx) {
            return Poll::Ready(Ok(out));
        }
        let delay = me.delay;
        let mut poll_delay = || match Pin::new(&mut *delay).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        };
        if had_budget && !crate::coop::has_budget_remaining() {
            // The future spent the whole budget: the timer (a budgeted
            // resource) would find none left on every poll and never fire
            // while the future stays busy. Look at it unbudgeted, as tokio
            // does.
            crate::coop::with_unconstrained(poll_delay)
        } else {
            poll_delay()
        }
    }
}

impl<F: fmt::Debug> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout").field("value", &self.value).field("delay", &self.delay).finish()
    }
}
