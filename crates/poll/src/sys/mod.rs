//! The system-call layer: one module per backend, each turning kernel events
//! into (token, readiness) and nothing else. All of the crate's `unsafe`
//! lives here, in `waker.rs` and in `socket.rs` (the socket calls the
//! loop's streams and the runtime's net types share).
//!
//! epoll keeps its interest set in the kernel. poll and select have none: the
//! set lives in user space, in a [`registry::Registry`] the two share, and is
//! handed to the kernel on every wait.

mod epoll;
mod poll;
mod registry;
mod select;

use crate::{Backend, Events, Interest, Mode, Token};
use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

/// Turns a `-1` return into the thread's `errno`.
pub(crate) fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Like [`cvt`], retrying while the call is interrupted by a signal. The one
/// place `EINTR` is retried for calls that do not block; `wait` instead
/// returns to its caller on `EINTR`.
pub(crate) fn cvt_retry(mut f: impl FnMut() -> libc::c_int) -> io::Result<libc::c_int> {
    loop {
        match cvt(f()) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Milliseconds for a kernel timeout: `-1` for none, sub-millisecond rounded
/// up (so a 100 µs timer does not become a busy 0 ms poll), saturating at
/// `i32::MAX` (about 24 days) instead of overflowing.
pub(crate) fn timeout_ms(timeout: Option<Duration>) -> libc::c_int {
    match timeout {
        None => -1,
        Some(d) => {
            let ms = d.as_millis() + u128::from(d.subsec_nanos() % 1_000_000 != 0);
            ms.min(libc::c_int::MAX as u128) as libc::c_int
        }
    }
}

/// Checks that `fd` is an open descriptor (the user-space backends have no
/// kernel call at registration time that would say so). The error keeps the
/// kind of `EBADF` and says which descriptor, as epoll's does.
pub(crate) fn check_open(fd: RawFd) -> io::Result<()> {
    // SAFETY: F_GETFD reads the descriptor flags of any integer; an invalid
    // one yields EBADF and touches no memory.
    match cvt(unsafe { libc::fcntl(fd, libc::F_GETFD) }) {
        Ok(_) => Ok(()),
        Err(e) => Err(io::Error::new(e.kind(), format!("descriptor {fd} is not open ({e})"))),
    }
}

/// The backend behind a [`Poller`](crate::Poller).
#[derive(Debug)]
pub(crate) enum Selector {
    Epoll(epoll::Epoll),
    Poll(poll::PollSet),
    Select(select::SelectSet),
}

macro_rules! each {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            Selector::Epoll($s) => $e,
            Selector::Poll($s) => $e,
            Selector::Select($s) => $e,
        }
    };
}

impl Selector {
    pub(crate) fn new(backend: Backend) -> io::Result<Selector> {
        Ok(match backend {
            Backend::Epoll => Selector::Epoll(epoll::Epoll::new()?),
            Backend::Poll => Selector::Poll(poll::PollSet::new()?),
            Backend::Select => Selector::Select(select::SelectSet::new()?),
        })
    }

    pub(crate) fn backend(&self) -> Backend {
        match self {
            Selector::Epoll(_) => Backend::Epoll,
            Selector::Poll(_) => Backend::Poll,
            Selector::Select(_) => Backend::Select,
        }
    }

    pub(crate) fn add(&self, fd: RawFd, token: Token, interest: Interest, mode: Mode) -> io::Result<()> {
        each!(self, s => s.add(fd, token, interest, mode))
    }

    pub(crate) fn modify(&self, fd: RawFd, token: Token, interest: Interest, mode: Mode) -> io::Result<()> {
        each!(self, s => s.modify(fd, token, interest, mode))
    }

    pub(crate) fn delete(&self, fd: RawFd) -> io::Result<()> {
        each!(self, s => s.delete(fd))
    }

    pub(crate) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        each!(self, s => s.wait(events, timeout))
    }

    pub(crate) fn waiting_elsewhere(&self) -> bool {
        each!(self, s => s.waiting_elsewhere())
    }
}

#[cfg(test)]
mod tests {
    use super::timeout_ms;
    use std::time::Duration;

    #[test]
    fn timeouts_round_up_and_saturate() {
        assert_eq!(timeout_ms(None), -1);
        assert_eq!(timeout_ms(Some(Duration::ZERO)), 0);
        assert_eq!(timeout_ms(Some(Duration::from_micros(100))), 1);
        assert_eq!(timeout_ms(Some(Duration::from_millis(5))), 5);
        assert_eq!(timeout_ms(Some(Duration::from_micros(5_001))), 6);
        assert_eq!(timeout_ms(Some(Duration::MAX)), i32::MAX);
    }
}
