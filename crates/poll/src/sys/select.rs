//! select(2): three bitmaps, indexed by descriptor number.
//!
//! An `fd_set` is a fixed array of `FD_SETSIZE` (1024) bits, bit `fd % 64` of
//! word `fd / 64`; the caller sets the bits it wants watched and passes
//! `nfds`, the highest descriptor plus one. The kernel walks every bit below
//! `nfds`, polls each descriptor whose bit is set, and overwrites the maps
//! with the ready ones. So the cost of a wait is O(highest descriptor), not
//! O(watched): one connection on descriptor 1000 costs a walk over 1000 bits,
//! and the maps are copied in and out every call, like poll's array. And
//! since the maps have a fixed size, a descriptor at or above `FD_SETSIZE`
//! cannot be watched at all (setting its bit would write past the map):
//! such registrations are refused with `InvalidInput`.
//!
//! select also says less than poll. The kernel folds errors and hang-ups into
//! the read map (and errors into the write map; the third, "exceptional" map
//! only reports urgent TCP data), so this backend reports readable or
//! writable, and the next read or write returns the end-of-stream or the
//! error. A registered descriptor that was closed without being deleted
//! fails the whole call with `EBADF`: the bad ones are then found with
//! `fcntl(F_GETFD)`, reported once as [`Event::ERROR`] and disarmed, so they
//! neither fail nor spin later waits. Edge and exclusive modes are refused,
//! as on poll; oneshot is emulated by disarming in the table.

use super::registry::{KernelSet, Ready, Registry, Watch};
use super::{cvt, timeout_ms};
use crate::{Event, Events, Interest, Mode, Token};
use std::io;
use std::mem::{align_of, size_of};
use std::os::fd::RawFd;
use std::ptr;
use std::time::{Duration, Instant};

/// The size of select's bitmaps; from `<sys/select.h>`, fixed in the ABI.
const FD_SETSIZE: usize = libc::FD_SETSIZE;
const WORD_BITS: usize = libc::c_ulong::BITS as usize;

/// An `fd_set` we can read and write without `unsafe`: the same words, in
/// the same layout as `libc::fd_set` (checked below), so the kernel can be
/// handed a pointer to it.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
struct FdSet([libc::c_ulong; FD_SETSIZE / WORD_BITS]);

const _: () = assert!(size_of::<FdSet>() == size_of::<libc::fd_set>());
const _: () = assert!(align_of::<FdSet>() == align_of::<libc::fd_set>());

impl FdSet {
    /// Panics on a descriptor outside the map; registration refuses those.
    fn insert(&mut self, fd: RawFd) {
        let fd = fd as usize;
        self.0[fd / WORD_BITS] |= 1 << (fd % WORD_BITS);
    }

    fn contains(&self, fd: RawFd) -> bool {
        let fd = fd as usize;
        self.0[fd / WORD_BITS] & (1 << (fd % WORD_BITS)) != 0
    }

    fn as_mut_ptr(&mut self) -> *mut libc::fd_set {
        (self as *mut FdSet).cast()
    }
}

#[derive(Debug)]
pub(crate) struct SelectSet {
    reg: Registry<SelectFds>,
}

/// The kernel set: the two maps, `nfds`, and the watched descriptors (in
/// ascending order, with their registrations' generations) to read the
/// answer back by.
#[derive(Debug, Default)]
struct SelectFds {
    read: FdSet,
    write: FdSet,
    nfds: libc::c_int,
    watched: Vec<(RawFd, u64)>,
}

impl KernelSet for SelectFds {
    const NAME: &'static str = "select";

    fn build(armed: impl Iterator<Item = Watch>) -> SelectFds {
        let mut set = SelectFds::default();
        for w in armed {
            if w.interest.is_readable() {
                set.read.insert(w.fd);
            }
            if w.interest.is_writable() {
                set.write.insert(w.fd);
            }
            set.nfds = set.nfds.max(w.fd + 1);
            set.watched.push((w.fd, w.gen));
        }
        set.watched.sort_unstable();
        set
    }

    fn check_fd(fd: RawFd) -> io::Result<()> {
        if fd as usize >= FD_SETSIZE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "select cannot watch descriptor {fd}: select's bitmaps hold descriptors below \
                     FD_SETSIZE ({FD_SETSIZE}); use the poll or epoll backend"
                ),
            ));
        }
        Ok(())
    }
}

impl SelectSet {
    pub(crate) fn new() -> io::Result<SelectSet> {
        Ok(SelectSet { reg: Registry::new() })
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

    pub(crate) fn wait(&self, events: &mut Events, mut timeout: Option<Duration>) -> io::Result<()> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            let (set, blocked) = self.reg.snapshot();
            let (mut read, mut write) = (set.read, set.write);
            let mut tv = timeval(timeout);
            let tvp = tv.as_mut().map_or(ptr::null_mut(), |tv| tv as *mut libc::timeval);
            // SAFETY: `read` and `write` are live maps owned by this call,
            // laid out as `fd_set` (asserted at compile time), and `nfds` is
            // at most FD_SETSIZE because registration refuses larger
            // descriptors, so the kernel stays within them; the exceptional
            // map is null, which select allows; `tvp` is null or points to
            // the live `tv`. The kernel keeps no pointer after returning.
            let n = unsafe {
                libc::select(set.nfds, read.as_mut_ptr(), write.as_mut_ptr(), ptr::null_mut(), tvp)
            };
            drop(blocked);
            match cvt(n) {
                Ok(0) => return Ok(()),
                Ok(_) => {
                    let ready = set.watched.iter().enumerate().filter_map(|(pos, &(fd, gen))| {
                        let flags = if read.contains(fd) { Event::READABLE } else { 0 }
                            | if write.contains(fd) { Event::WRITABLE } else { 0 };
                        (flags != 0).then_some(Ready { pos, fd, gen, flags, closed: false })
                    });
                    self.reg.report(events, ready);
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
                // Some watched descriptor was closed without being deleted.
                // `events` is empty here, so finding one always reports it;
                // finding none means the table has changed since the
                // snapshot (deleted, or closed and reopened) and a retry
                // sees a different set, within what is left of the timeout.
                Err(e) if e.raw_os_error() == Some(libc::EBADF) => {
                    if self.reg.report_closed(events) > 0 {
                        return Ok(());
                    }
                    if let Some(d) = deadline {
                        let left = d.saturating_duration_since(Instant::now());
                        if left.is_zero() {
                            return Ok(());
                        }
                        timeout = Some(left);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub(crate) fn waiting_elsewhere(&self) -> bool {
        self.reg.waiting_elsewhere()
    }
}

/// The shared millisecond rounding, as a `timeval`; `None` waits forever.
fn timeval(timeout: Option<Duration>) -> Option<libc::timeval> {
    let ms = timeout_ms(timeout);
    (ms >= 0).then(|| libc::timeval {
        tv_sec: (ms / 1000) as libc::time_t,
        tv_usec: (ms % 1000 * 1000) as libc::suseconds_t,
    })
}
