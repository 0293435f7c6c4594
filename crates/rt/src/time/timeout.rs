//! [`timeout`] and [`timeout_at`]: bound how long a future may take.

use super::sleep::{sleep, sleep_until};
use super::Instant;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::task::Poll;
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
pub fn timeout<F: Future>(duration: Duration, future: F) -> impl Future<Output = Result<F::Output, Elapsed>> {
    race(sleep(duration), future)
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
pub fn timeout_at<F: Future>(
    deadline: Instant,
    future: F,
) -> impl Future<Output = Result<F::Output, Elapsed>> {
    race(sleep_until(deadline), future)
}

async fn race<F: Future>(mut sleep: super::Sleep, future: F) -> Result<F::Output, Elapsed> {
    let mut future = pin!(future);
    poll_fn(|cx| {
        if let Poll::Ready(out) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok(out));
        }
        match Pin::new(&mut sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}
