//! The cross-thread waker: an `eventfd` the poller watches.

use crate::sys::{cvt, cvt_retry};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

/// Makes a blocked [`Poller::wait`](crate::Poller::wait) return, from any
/// thread. Obtained from [`Poller::waker`](crate::Poller::waker).
///
/// Wakes coalesce: the first [`wake`](Waker::wake) after the poller last woke
/// writes to the eventfd; the ones after it only see the `pending` flag set
/// and return. The poller drains the eventfd *before* clearing the flag, so a
/// wake that races with the drain is never lost: either it saw the flag
/// still set (and the poller, which is awake, will look at the caller's queue
/// after `wait` returns), or it writes again.
#[derive(Debug)]
pub struct Waker {
    fd: OwnedFd,
    pending: AtomicBool,
}

impl Waker {
    pub(crate) fn new() -> io::Result<Waker> {
        // SAFETY: eventfd takes no pointers; a negative return is handled by cvt.
        let fd = cvt(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) })?;
        // SAFETY: eventfd just returned this descriptor and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Waker { fd, pending: AtomicBool::new(false) })
    }

    /// Wakes the poller (or makes its next wait return at once).
    pub fn wake(&self) {
        if self.pending.swap(true, Ordering::AcqRel) {
            return;
        }
        let one: u64 = 1;
        // SAFETY: `one` is a live u64 and we pass its exact size; the fd is
        // our open eventfd. EAGAIN (counter saturated) still leaves it readable,
        // so the result can be ignored.
        let _ = cvt_retry(|| unsafe {
            libc::write(self.fd.as_raw_fd(), (&one as *const u64).cast(), 8) as libc::c_int
        });
    }

    /// Drains the eventfd, then clears the coalescing flag (in that order,
    /// see the type's docs). Called by the poller when it sees the wake event.
    pub(crate) fn reset(&self) {
        let mut buf: u64 = 0;
        // SAFETY: `buf` is a live, writable u64 and we pass its exact size.
        let _ = cvt_retry(|| unsafe {
            libc::read(self.fd.as_raw_fd(), (&mut buf as *mut u64).cast(), 8) as libc::c_int
        });
        self.pending.store(false, Ordering::Release);
    }

    pub(crate) fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
