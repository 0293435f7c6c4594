//! epoll(7): the interest set lives in the kernel; `epoll_wait` copies out
//! only the ready list.

use super::{cvt, cvt_retry, timeout_ms};
use crate::{Event, Events, Interest, Mode, Token};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug)]
pub(crate) struct Epoll {
    ep: OwnedFd,
    /// The kernel's output array, reused by every wait. A mutex rather than
    /// a per-call allocation: several threads may wait on one epoll, and
    /// each needs its own buffer; contention only happens in that case.
    buf: Mutex<Vec<libc::epoll_event>>,
}

impl Epoll {
    pub(crate) fn new() -> io::Result<Epoll> {
        // SAFETY: epoll_create1 takes no pointers.
        let fd = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: the kernel just returned this descriptor; we are its only owner.
        let ep = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Epoll { ep, buf: Mutex::new(Vec::new()) })
    }

    fn ctl(
        &self,
        op: libc::c_int,
        fd: RawFd,
        token: Token,
        interest: Interest,
        mode: Mode,
    ) -> io::Result<()> {
        let mut ev = libc::epoll_event { events: epoll_flags(interest, mode), u64: token.0 as u64 };
        // SAFETY: `ev` is a live epoll_event for the duration of the call; the
        // kernel copies it and keeps no pointer.
        cvt_retry(|| unsafe { libc::epoll_ctl(self.ep.as_raw_fd(), op, fd, &mut ev) })
            .map(|_| ())
            .map_err(|e| explain(e, fd, mode))
    }

    pub(crate) fn add(&self, fd: RawFd, token: Token, interest: Interest, mode: Mode) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, token, interest, mode)
    }

    pub(crate) fn modify(&self, fd: RawFd, token: Token, interest: Interest, mode: Mode) -> io::Result<()> {
        if mode == Mode::Exclusive {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "epoll cannot modify an exclusive registration (EPOLLEXCLUSIVE): delete and add it again",
            ));
        }
        self.ctl(libc::EPOLL_CTL_MOD, fd, token, interest, mode)
    }

    pub(crate) fn delete(&self, fd: RawFd) -> io::Result<()> {
        let mut ev = libc::epoll_event { events: 0, u64: 0 };
        // SAFETY: as in `ctl`; kernels before 2.6.9 required a non-null event.
        match cvt_retry(|| unsafe { libc::epoll_ctl(self.ep.as_raw_fd(), libc::EPOLL_CTL_DEL, fd, &mut ev) })
        {
            Ok(_) => Ok(()),
            // Closing the last reference to a file removes it from every epoll
            // set, so a closed descriptor is already deleted.
            Err(e) if e.raw_os_error() == Some(libc::EBADF) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("descriptor {fd} is not registered with this poller"),
            )),
            Err(e) => Err(e),
        }
    }

    pub(crate) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        let mut buf = self.buf.lock().unwrap_or_else(|p| p.into_inner());
        let cap = events.capacity();
        if buf.len() < cap {
            buf.resize(cap, libc::epoll_event { events: 0, u64: 0 });
        }
        // SAFETY: `buf` holds at least `cap` initialised epoll_events, and the
        // kernel writes at most `cap` of them.
        let n = unsafe {
            libc::epoll_wait(self.ep.as_raw_fd(), buf.as_mut_ptr(), cap as libc::c_int, timeout_ms(timeout))
        };
        let n = match cvt(n) {
            Ok(n) => n as usize,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
            Err(e) => return Err(e),
        };
        for ev in &buf[..n] {
            events.push(Event::new(Token(ev.u64 as usize), readiness(ev.events)));
        }
        Ok(())
    }

    pub(crate) fn waiting_elsewhere(&self) -> bool {
        false
    }
}

fn epoll_flags(interest: Interest, mode: Mode) -> u32 {
    let mut f = 0u32;
    if interest.is_readable() {
        f |= libc::EPOLLIN as u32;
        // The kernel refuses EPOLLRDHUP beside EPOLLEXCLUSIVE (EINVAL: only
        // IN, OUT, ERR, HUP, WAKEUP and ET may go with it), so an exclusive
        // registration learns of a half-close from the read returning 0.
        if mode != Mode::Exclusive {
            f |= libc::EPOLLRDHUP as u32;
        }
    }
    if interest.is_writable() {
        f |= libc::EPOLLOUT as u32;
    }
    f | match mode {
        Mode::Level => 0,
        Mode::Edge => libc::EPOLLET as u32,
        Mode::Oneshot => libc::EPOLLONESHOT as u32,
        Mode::Exclusive => libc::EPOLLEXCLUSIVE as u32,
    }
}

fn readiness(e: u32) -> u8 {
    let has = |flag: libc::c_int| e & flag as u32 != 0;
    let mut r = 0;
    if has(libc::EPOLLIN) || has(libc::EPOLLPRI) || has(libc::EPOLLRDHUP) || has(libc::EPOLLHUP) {
        r |= Event::READABLE;
    }
    if has(libc::EPOLLOUT) {
        r |= Event::WRITABLE;
    }
    if has(libc::EPOLLRDHUP) || has(libc::EPOLLHUP) {
        r |= Event::READ_CLOSED;
    }
    if has(libc::EPOLLHUP) {
        r |= Event::WRITE_CLOSED;
    }
    if has(libc::EPOLLERR) {
        r |= Event::ERROR | Event::READABLE;
    }
    r
}

/// Adds the descriptor and mode to kernel errors that would otherwise read
/// as a bare "Bad file descriptor".
fn explain(e: io::Error, fd: RawFd, mode: Mode) -> io::Error {
    let msg = match e.raw_os_error() {
        Some(libc::EBADF) => format!("descriptor {fd} is not open"),
        Some(libc::EEXIST) => format!("descriptor {fd} is already registered with this poller"),
        Some(libc::ENOENT) => format!("descriptor {fd} is not registered with this poller"),
        Some(libc::EPERM) => {
            format!("descriptor {fd} does not support polling (a regular file or directory?)")
        }
        Some(libc::EINVAL) if mode == Mode::Exclusive => {
            format!("descriptor {fd}: the kernel refused EPOLLEXCLUSIVE (needs Linux 4.5+, not with oneshot)")
        }
        _ => return e,
    };
    let kind = match e.raw_os_error() {
        Some(libc::EEXIST) => io::ErrorKind::AlreadyExists,
        Some(libc::ENOENT) => io::ErrorKind::NotFound,
        _ => e.kind(),
    };
    io::Error::new(kind, format!("{msg} ({e})"))
}
