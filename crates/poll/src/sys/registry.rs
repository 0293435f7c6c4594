//! The registration table poll and select share.
//!
//! Neither poll(2) nor select(2) remembers anything between calls: the whole
//! interest set goes in with every wait. So the set lives here, in two forms
//! kept apart (wanted interest apart from what the kernel is given):
//!
//! * the *table*: one [`Reg`] per descriptor, what the caller asked for,
//!   changed by add, modify and delete, and by a oneshot registration
//!   disarming itself;
//! * the *kernel set* (a [`KernelSet`]: poll's `pollfd` array or select's
//!   bitmaps), built from the armed entries of the table. It is rebuilt only
//!   when the table changed (`dirty`) and then shared read-only behind an
//!   `Arc`, so a wait takes it in O(1) under the lock and copies it (the
//!   kernel writes its answer into the copy) with the lock released.
//!
//! ## One wait, three steps
//!
//! 1. [`Registry::snapshot`], under the lock: rebuild the set if dirty, take
//!    it, count this thread as blocked.
//! 2. The system call, with the lock released, so other threads can change
//!    the table meanwhile.
//! 3. [`Registry::report`], under the lock: map each ready descriptor back to
//!    its token. The table may have changed during step 2. Every
//!    registration carries a generation number, renewed by add and modify,
//!    and a result is dropped unless its descriptor is still registered with
//!    the generation the set was built from, and still armed. So no event is
//!    reported for a deleted registration, under an old token, for old
//!    interest, or twice for a oneshot one; readiness that still holds is
//!    simply seen again by the next wait.
//!
//! ## Changes while a thread is blocked
//!
//! The blocked thread's system call watches the set it took in step 1.
//! `waiting` counts threads between step 1 and the return of step 2, and is
//! incremented *under the lock*: a change made before the snapshot is in the
//! set; a change made after it sees `waiting > 0`, and
//! [`Poller`](crate::Poller) then wakes the thread through its waker, so that
//! its next wait takes the new set. No change falls between the two.

use super::check_open;
use crate::{Event, Events, Interest, Mode, Token};
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// What a backend hands the kernel: built from the armed registrations, then
/// never changed (a wait copies it).
pub(super) trait KernelSet: Default {
    /// The backend's name, for error messages.
    const NAME: &'static str;
    /// Builds the set from every armed registration.
    fn build(armed: impl Iterator<Item = Watch>) -> Self;
    /// Refuses a descriptor the set cannot hold, saying why.
    fn check_fd(_fd: RawFd) -> io::Result<()> {
        Ok(())
    }
}

/// One armed registration, as a [`KernelSet`] sees it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Watch {
    pub(super) fd: RawFd,
    pub(super) interest: Interest,
    /// To be handed back in [`Ready::gen`].
    pub(super) gen: u64,
}

/// One descriptor the kernel said is ready, as the backend read it back.
#[derive(Clone, Copy, Debug)]
pub(super) struct Ready {
    /// Where it sat in the kernel set; reports resume from here when a full
    /// [`Events`] cut the last one short.
    pub(super) pos: usize,
    pub(super) fd: RawFd,
    /// The [`Watch::gen`] the set was built with.
    pub(super) gen: u64,
    /// [`Event`] flags.
    pub(super) flags: u8,
    /// The descriptor was closed behind the poller's back: reported once,
    /// then disarmed, or every later wait would return at once for it.
    pub(super) closed: bool,
}

/// One registration: what the caller asked for.
#[derive(Debug)]
struct Reg {
    token: Token,
    interest: Interest,
    mode: Mode,
    /// Renewed by add and modify; a result built from another generation is
    /// stale.
    gen: u64,
    /// In the kernel set. Cleared after a oneshot report and after a
    /// closed descriptor's one error report; set again by modify.
    armed: bool,
}

struct Table<K> {
    regs: HashMap<RawFd, Reg>,
    /// Built from the armed entries of `regs`; out of date while `dirty`.
    set: Arc<K>,
    dirty: bool,
    next_gen: u64,
    /// The kernel-set position where the next report starts, so that when
    /// more descriptors are ready than `Events` holds, the ones at the end
    /// of the set are not starved by busy ones at the front.
    cursor: usize,
}

impl<K> Table<K> {
    /// A fresh generation for a changed registration; marks the set stale.
    fn renew(&mut self) -> u64 {
        self.dirty = true;
        self.next_gen += 1;
        self.next_gen
    }
}

/// The registration table and its kernel set; see the module docs.
pub(super) struct Registry<K> {
    table: Mutex<Table<K>>,
    /// Threads between [`Registry::snapshot`] and the return of their system
    /// call. Incremented under `table`'s lock (see the module docs).
    waiting: AtomicUsize,
}

/// Counts its thread as blocked in the kernel until dropped.
pub(super) struct Blocked<'a>(&'a AtomicUsize);

impl Drop for Blocked<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl<K: KernelSet> Registry<K> {
    pub(super) fn new() -> Registry<K> {
        let table =
            Table { regs: HashMap::new(), set: Arc::new(K::default()), dirty: true, next_gen: 0, cursor: 0 };
        Registry { table: Mutex::new(table), waiting: AtomicUsize::new(0) }
    }

    fn lock(&self) -> MutexGuard<'_, Table<K>> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn add(&self, fd: RawFd, token: Token, interest: Interest, mode: Mode) -> io::Result<()> {
        check_open(fd)?;
        K::check_fd(fd)?;
        check_mode(K::NAME, mode)?;
        let mut t = self.lock();
        if t.regs.contains_key(&fd) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("descriptor {fd} is already registered with this poller"),
            ));
        }
        let gen = t.renew();
        t.regs.insert(fd, Reg { token, interest, mode, gen, armed: true });
        Ok(())
    }

    pub(super) fn modify(&self, fd: RawFd, token: Token, interest: Interest, mode: Mode) -> io::Result<()> {
        check_open(fd)?;
        check_mode(K::NAME, mode)?;
        let mut t = self.lock();
        if !t.regs.contains_key(&fd) {
            return Err(not_registered(fd));
        }
        let gen = t.renew();
        t.regs.insert(fd, Reg { token, interest, mode, gen, armed: true });
        Ok(())
    }

    pub(super) fn delete(&self, fd: RawFd) -> io::Result<()> {
        {
            let mut t = self.lock();
            if t.regs.remove(&fd).is_some() {
                t.dirty = true;
                return Ok(());
            }
        }
        // As on epoll, where closing a descriptor deletes it: a closed,
        // unknown descriptor is already deleted; an open one is a mistake.
        match check_open(fd) {
            Ok(()) => Err(not_registered(fd)),
            Err(_) => Ok(()),
        }
    }

    /// Step 1 of a wait: the current kernel set, and a guard that counts
    /// this thread as blocked until the caller drops it after its system
    /// call returns.
    pub(super) fn snapshot(&self) -> (Arc<K>, Blocked<'_>) {
        let mut guard = self.lock();
        let t = &mut *guard;
        if t.dirty {
            let armed = t.regs.iter().filter(|(_, r)| r.armed);
            t.set = Arc::new(K::build(armed.map(|(&fd, r)| Watch { fd, interest: r.interest, gen: r.gen })));
            t.dirty = false;
        }
        // Under the lock: see the module docs.
        self.waiting.fetch_add(1, Ordering::SeqCst);
        (Arc::clone(&t.set), Blocked(&self.waiting))
    }

    /// Step 3 of a wait: turns the kernel's answer (in kernel-set order) into
    /// events for registrations that are unchanged and armed, disarming
    /// oneshot and closed ones. Stops when `events` is full; the rest stay
    /// ready for the next wait, which starts with them.
    pub(super) fn report<I>(&self, events: &mut Events, ready: I)
    where
        I: Iterator<Item = Ready> + Clone,
    {
        let mut guard = self.lock();
        let t = &mut *guard;
        let start = t.cursor;
        for r in ready.clone().filter(|r| r.pos >= start).chain(ready.filter(|r| r.pos < start)) {
            if events.is_full() {
                t.cursor = r.pos;
                return;
            }
            let Some(reg) = t.regs.get_mut(&r.fd) else { continue };
            if reg.gen != r.gen || !reg.armed {
                continue;
            }
            events.push(Event::new(reg.token, r.flags));
            if reg.mode == Mode::Oneshot || r.closed {
                reg.armed = false;
                t.dirty = true;
            }
        }
    }

    /// Reports each armed registration whose descriptor is no longer open as
    /// an [`Event::ERROR`], once, and disarms it (select learns only that
    /// *some* descriptor is bad). Returns how many it reported.
    pub(super) fn report_closed(&self, events: &mut Events) -> usize {
        let mut guard = self.lock();
        let t = &mut *guard;
        let mut n = 0;
        for (&fd, reg) in t.regs.iter_mut().filter(|(_, r)| r.armed) {
            if events.is_full() {
                break;
            }
            if check_open(fd).is_err() {
                events.push(Event::new(reg.token, Event::ERROR));
                reg.armed = false;
                t.dirty = true;
                n += 1;
            }
        }
        n
    }

    /// Whether some thread is blocked on a set that may now be stale.
    pub(super) fn waiting_elsewhere(&self) -> bool {
        self.waiting.load(Ordering::SeqCst) > 0
    }
}

impl<K: KernelSet> fmt::Debug for Registry<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Registry");
        d.field("backend", &K::NAME);
        if let Ok(t) = self.table.try_lock() {
            d.field("registered", &t.regs.len());
        }
        d.field("waiting", &self.waiting.load(Ordering::Relaxed)).finish_non_exhaustive()
    }
}

/// Refuses the modes only epoll can honour, saying why and what to use.
fn check_mode(backend: &str, mode: Mode) -> io::Result<()> {
    let why = match mode {
        Mode::Level | Mode::Oneshot => return Ok(()),
        Mode::Edge => "cannot report edges (edge-triggered mode needs epoll)",
        Mode::Exclusive => {
            "cannot wake just one of several waiters (exclusive mode needs EPOLLEXCLUSIVE, \
             which only epoll has)"
        }
    };
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        format!("the {backend} backend {why}; use Mode::Level or Backend::Epoll"),
    ))
}

fn not_registered(fd: RawFd) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("descriptor {fd} is not registered with this poller"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    /// A kernel set that only remembers what it was built from.
    #[derive(Default)]
    struct Fake(Vec<Watch>);

    impl KernelSet for Fake {
        const NAME: &'static str = "fake";
        fn build(armed: impl Iterator<Item = Watch>) -> Fake {
            Fake(armed.collect())
        }
    }

    /// The kernel's answer if every descriptor in `set` were readable.
    fn all_ready(set: &Fake) -> impl Iterator<Item = Ready> + Clone + '_ {
        let ready = |(pos, w): (usize, &Watch)| Ready {
            pos,
            fd: w.fd,
            gen: w.gen,
            flags: Event::READABLE,
            closed: false,
        };
        set.0.iter().enumerate().map(ready)
    }

    fn tokens(reg: &Registry<Fake>, set: &Fake) -> Vec<Token> {
        let mut events = Events::with_capacity(8);
        reg.report(&mut events, all_ready(set));
        events.iter().map(Event::token).collect()
    }

    #[test]
    fn a_result_for_a_modified_registration_is_dropped() {
        let (a, _b) = UnixStream::pair().unwrap();
        let reg = Registry::<Fake>::new();
        reg.add(a.as_raw_fd(), Token(1), Interest::READABLE, Mode::Level).unwrap();
        let (old, blocked) = reg.snapshot();
        drop(blocked);
        reg.modify(a.as_raw_fd(), Token(2), Interest::READABLE, Mode::Level).unwrap();
        assert_eq!(tokens(&reg, &old), []);
        assert_eq!(tokens(&reg, &reg.snapshot().0), [Token(2)]);
    }

    #[test]
    fn a_result_for_a_deleted_and_readded_registration_is_dropped() {
        let (a, _b) = UnixStream::pair().unwrap();
        let reg = Registry::<Fake>::new();
        reg.add(a.as_raw_fd(), Token(1), Interest::READABLE, Mode::Level).unwrap();
        let old = reg.snapshot().0;
        reg.delete(a.as_raw_fd()).unwrap();
        assert_eq!(tokens(&reg, &old), []);
        reg.add(a.as_raw_fd(), Token(1), Interest::READABLE, Mode::Level).unwrap();
        assert_eq!(tokens(&reg, &old), []);
    }

    #[test]
    fn two_waiters_report_a_oneshot_once() {
        let (a, _b) = UnixStream::pair().unwrap();
        let reg = Registry::<Fake>::new();
        reg.add(a.as_raw_fd(), Token(1), Interest::READABLE, Mode::Oneshot).unwrap();
        let (first, second) = (reg.snapshot().0, reg.snapshot().0);
        assert_eq!(tokens(&reg, &first), [Token(1)]);
        assert_eq!(tokens(&reg, &second), []);
        assert!(reg.snapshot().0 .0.is_empty(), "disarmed, so out of the kernel set");
    }

    #[test]
    fn waiting_counts_only_between_snapshot_and_return() {
        let reg = Registry::<Fake>::new();
        assert!(!reg.waiting_elsewhere());
        let (_, blocked) = reg.snapshot();
        assert!(reg.waiting_elsewhere());
        drop(blocked);
        assert!(!reg.waiting_elsewhere());
    }

    #[test]
    fn the_kernel_set_is_rebuilt_only_after_a_change() {
        let (a, _b) = UnixStream::pair().unwrap();
        let reg = Registry::<Fake>::new();
        let first = reg.snapshot().0;
        assert!(Arc::ptr_eq(&first, &reg.snapshot().0));
        reg.add(a.as_raw_fd(), Token(1), Interest::READABLE, Mode::Level).unwrap();
        assert!(!Arc::ptr_eq(&first, &reg.snapshot().0));
    }
}
