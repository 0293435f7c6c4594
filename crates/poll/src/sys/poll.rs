//! poll(2): the whole set goes in on every call.
//!
//! The kernel keeps nothing between two `poll` calls. Each call copies the
//! caller's `pollfd` array in, asks every descriptor's driver whether it is
//! ready (queueing the thread on each wait queue while it sleeps, and
//! dequeuing it from all of them afterwards), writes `revents` back and
//! copies the array out. That is O(registered) per wait however few
//! descriptors are busy, and the reason epoll exists. Since the kernel
//! writes its answer into the array, each wait hands it a private copy of
//! the set built from the [registry](super::registry), which other threads
//! may change meanwhile.
//!
//! The kernel reports `POLLHUP`, `POLLERR` and `POLLNVAL` without being asked.
//! `POLLNVAL` means a registered descriptor was closed without being
//! deleted; left armed it would make every later wait return at once, so it
//! is reported once as [`Event::ERROR`] and disarmed. Edges and exclusive
//! wake-ups need the kernel to remember state between calls, which poll
//! cannot, so those modes are refused; oneshot is emulated exactly by
//! disarming in the table.

use super::registry::{KernelSet, Ready, Registry, Watch};
use super::{cvt, timeout_ms};
use crate::{Event, Events, Interest, Mode, Token};
use std::io;
use std::os::fd::RawFd;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

#[derive(Debug)]
pub(crate) struct PollSet {
    reg: Registry<PollFds>,
    /// The array the last wait handed the kernel, kept for its allocation.
    /// Taken and put back, never held across the call: a second thread
    /// waiting at the same time finds it empty and allocates its own.
    spare: Mutex<Vec<libc::pollfd>>,
}

/// The kernel set: `fds[i]` was built from a registration of generation
/// `gens[i]`.
#[derive(Debug, Default)]
struct PollFds {
    fds: Vec<libc::pollfd>,
    gens: Vec<u64>,
}

impl KernelSet for PollFds {
    const NAME: &'static str = "poll";

    fn build(armed: impl Iterator<Item = Watch>) -> PollFds {
        let mut set = PollFds::default();
        for w in armed {
            set.fds.push(libc::pollfd { fd: w.fd, events: poll_events(w.interest), revents: 0 });
            set.gens.push(w.gen);
        }
        set
    }
}

impl PollSet {
    pub(crate) fn new() -> io::Result<PollSet> {
        Ok(PollSet { reg: Registry::new(), spare: Mutex::new(Vec::new()) })
    }

    pub(crate) fn add(&self, fd: RawFd, token: Token, interest: Interest, mode: Mode) -> io::Result<()> {
        self.reg.add(fd, token, interest, mode)
    }

    pub(crate) fn modify(&self, fd: RawFd, token: Token, interest: Interest, mode: Mode) -> io::Result<()> {
        self.reg.modify(fd, token, interest, mode)
    }

    pub(crate) fn delete(&self, fd: RawFd) -> io::Result<()> {
        self.reg.delete(fd)
    }

    pub(crate) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        let (set, blocked) = self.reg.snapshot();
        let mut buf = std::mem::take(&mut *self.spare.lock().unwrap_or_else(PoisonError::into_inner));
        buf.clear();
        buf.extend_from_slice(&set.fds);
        // SAFETY: `buf` is a live, initialised array of exactly `buf.len()`
        // pollfds, owned by this call; the kernel writes only their
        // `revents` fields and keeps no pointer after returning.
        let n = unsafe { libc::poll(buf.as_mut_ptr(), buf.len() as libc::nfds_t, timeout_ms(timeout)) };
        drop(blocked);
        let result = match cvt(n) {
            Ok(0) => Ok(()),
            Ok(n) => {
                let ready = buf.iter().enumerate().filter(|(_, p)| p.revents != 0).take(n as usize);
                self.reg.report(
                    events,
                    ready.map(|(pos, p)| Ready {
                        pos,
                        fd: p.fd,
                        gen: set.gens[pos],
                        flags: readiness(p.revents),
                        closed: p.revents & libc::POLLNVAL != 0,
                    }),
                );
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(e) => Err(e),
        };
        *self.spare.lock().unwrap_or_else(PoisonError::into_inner) = buf;
        result
    }

    pub(crate) fn waiting_elsewhere(&self) -> bool {
        self.reg.waiting_elsewhere()
    }
}

/// `POLLRDHUP` with readability, so a peer's shutdown is seen as such and
/// not only as end-of-stream on the next read.
fn poll_events(interest: Interest) -> libc::c_short {
    let mut e = 0;
    if interest.is_readable() {
        e |= libc::POLLIN | libc::POLLRDHUP;
    }
    if interest.is_writable() {
        e |= libc::POLLOUT;
    }
    e
}

fn readiness(re: libc::c_short) -> u8 {
    let has = |flags: libc::c_short| re & flags != 0;
    let mut r = 0;
    if has(libc::POLLIN | libc::POLLPRI | libc::POLLHUP | libc::POLLRDHUP | libc::POLLERR) {
        r |= Event::READABLE;
    }
    if has(libc::POLLOUT) {
        r |= Event::WRITABLE;
    }
    if has(libc::POLLRDHUP | libc::POLLHUP) {
        r |= Event::READ_CLOSED;
    }
    if has(libc::POLLHUP) {
        r |= Event::WRITE_CLOSED;
    }
    if has(libc::POLLERR | libc::POLLNVAL) {
        r |= Event::ERROR;
    }
    r
}
