//! [`AsyncFdTryNewError`]: a failed registration that hands the object
//! back.

use std::error::Error;
use std::fmt;
use std::io;

/// The error of [`AsyncFd::try_new`](super::AsyncFd::try_new) and
/// [`AsyncFd::try_with_interest`](super::AsyncFd::try_with_interest): the
/// poller refused the descriptor, and here are the object that was to be
/// registered, untouched and still open, and the poller's error.
///
/// Registration is the one step of making an
/// [`AsyncFd`](super::AsyncFd) that can fail after the caller has given up
/// its object: `epoll_ctl` refuses a regular file or a directory
/// (`PermissionDenied`), a descriptor registered already fails with
/// `AlreadyExists`, one that is not open with `EBADF`, and a runtime that
/// has shut down with an error of its own. [`new`](super::AsyncFd::new)
/// drops the object then (closing its descriptor, if it owns it); this
/// keeps it, so the caller can fall back (serve a regular file from the
/// blocking pool) or report something the object knows (its path).
///
/// It displays as the poller's error, which is also its
/// [`source`](Error::source), and converts into that [`io::Error`] (dropping
/// the object) so `?` works in a function returning `io::Result`.
pub struct AsyncFdTryNewError<T> {
    inner: T,
    cause: io::Error,
}

impl<T> AsyncFdTryNewError<T> {
    /// The object `inner`, whose registration failed with `cause`.
    pub(crate) fn new(inner: T, cause: io::Error) -> AsyncFdTryNewError<T> {
        AsyncFdTryNewError { inner, cause }
    }

    /// The object passed to `try_new` or `try_with_interest`, as it was,
    /// and the error its registration failed with.
    pub fn into_parts(self) -> (T, io::Error) {
        (self.inner, self.cause)
    }
}

impl<T> fmt::Debug for AsyncFdTryNewError<T> {
    /// The cause only: `T` need not be `Debug` (tokio's shows the same).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdTryNewError").field("cause", &self.cause).finish_non_exhaustive()
    }
}

impl<T> fmt::Display for AsyncFdTryNewError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.cause, f)
    }
}

impl<T> Error for AsyncFdTryNewError<T> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.cause)
    }
}

impl<T> From<AsyncFdTryNewError<T>> for io::Error {
    /// The poller's error; the object is dropped.
    fn from(e: AsyncFdTryNewError<T>) -> io::Error {
        e.cause
    }
}
