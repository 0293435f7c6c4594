//! The IO driver: the runtime's half of the netpoller. It registers
//! descriptors on a [`Poller`], turns the poller's events into readiness on
//! each descriptor's [`ScheduledIo`], and is shared (`Send + Sync`) by every
//! thread of a runtime, so an IO object can be created, used and dropped on
//! any of them.
//!
//! # One poller, two owners
//!
//! * On the **current-thread** runtime the poller is the spindle-loop
//!   `Loop`'s own ([`Loop::poller`](spindle_loop::Loop::poller)): the
//!   driver registers with tokens that carry
//!   [`FOREIGN_TOKEN_BIT`](spindle_loop::FOREIGN_TOKEN_BIT), and the loop
//!   hands their events to [`IoDriver::dispatch`] during its poll phase. One
//!   `epoll_wait` serves the loop's handles and the runtime's sockets.
//! * On the **multi-thread** runtime the driver has a poller of its own, and
//!   whichever idle worker holds the driver lock sleeps in its `wait` (Go's
//!   netpoller: the parked M that polls the network for everyone).
//!
//! # Tokens are addresses
//!
//! An event's token is the address of the descriptor's [`IoEntry`], so
//! dispatch is a pointer dereference: no table, no lock. That is sound only
//! if no entry is freed while an event naming it can still be dispatched.
//! An event can outlive the registration in one way: a thread collects it
//! in `wait`, and meanwhile another thread drops the IO object. So a
//! dropped registration is first deleted from the poller (no later `wait`
//! returns it) and its entry is then *parked* in a release list, not freed;
//! the driver's owner frees the list only at the start of its next turn
//! ([`IoDriver::release_deferred`]), when every event of the previous
//! `wait` has been dispatched. Tokio retires its `ScheduledIo`s the same way.
//!
//! # Edge mode and the level fallback
//!
//! On epoll a descriptor is registered once, edge-triggered, for both
//! directions; [`ScheduledIo`]'s latch does the rest. poll and select
//! cannot report edges ([`Mode::Edge`] is refused), so there the entry keeps
//! the directions some task is waiting for and registers level-triggered
//! interest in exactly those: dispatch drops the directions that fired, a
//! wait that finds the latch empty adds its direction back. Without this a
//! writable socket (nearly always) would make every `wait` return at once
//! and the runtime would spin.

use super::{Direction, Readiness, ScheduledIo};
use crate::lock;
use spindle_poll::{Event, Interest, Mode, Poller, Token};
use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Directions a level-triggered registration asks the poller for.
const READ: u8 = 1;
const WRITE: u8 = 2;

fn bit(direction: Direction) -> u8 {
    match direction {
        Direction::Read => READ,
        Direction::Write => WRITE,
    }
}

/// One registered descriptor: its readiness latch and, in the level
/// fallback, what the poller is asked for.
///
/// Aligned to a cache line, with the latch first: every event and every
/// wait touches the latch's state word, its lock and the reader's slot,
/// which then share one line (the writer's slot is in the next). At a
/// thousand connections each entry is cold when its event comes, so the
/// lines an event touches are its cost; unaligned, the same fields
/// straddled two or three.
#[repr(C, align(64))]
pub(crate) struct IoEntry {
    pub(crate) io: ScheduledIo,
    fd: RawFd,
    /// The entry's slot in the driver's table of live entries.
    slot: usize,
    /// `Some` in the level fallback. Lock rule: held across the poller call
    /// that applies the change, so the kernel's interest follows the order
    /// of the changes.
    level: Option<Mutex<Level>>,
}

#[derive(Default)]
struct Level {
    /// Directions some task waits for.
    wanted: u8,
    /// Whether the descriptor is in the poller now.
    registered: bool,
    /// Set (under the lock) by `deregister`: no poller call may follow, or
    /// a dispatch racing with the drop could re-add a descriptor that is
    /// about to be closed, and its number reused.
    closed: bool,
}

impl IoEntry {
    fn token(&self, tag: usize) -> Token {
        Token(self as *const IoEntry as usize | tag)
    }
}

/// The table of live entries: kept for shutdown (which must wake every
/// waiter) and so the driver, not only the IO objects, holds each entry.
#[derive(Default)]
struct Table {
    slots: Vec<Option<Arc<IoEntry>>>,
    free: Vec<usize>,
    shut_down: bool,
}

/// A runtime's IO driver; see the [module docs](self).
pub(crate) struct IoDriver {
    poller: Arc<Poller>,
    /// Or-ed into every token (the loop's foreign bit, or 0).
    tag: usize,
    /// Whether the backend takes edge-triggered registrations.
    edge: bool,
    table: Mutex<Table>,
    /// Deregistered entries an undispatched event may still name.
    deferred: Mutex<Vec<Arc<IoEntry>>>,
    /// Set (under `deferred`'s lock) when an entry is parked there, so a
    /// turn with nothing to free takes no lock.
    has_deferred: AtomicBool,
}

impl IoDriver {
    /// A driver registering on `poller` with tokens tagged by `tag` (whose
    /// bits no address has: the top bit, or 0).
    pub(crate) fn new(poller: Arc<Poller>, tag: usize) -> IoDriver {
        let edge = poller.backend() == spindle_poll::Backend::Epoll;
        IoDriver {
            poller,
            tag,
            edge,
            table: Mutex::new(Table::default()),
            deferred: Mutex::new(Vec::new()),
            has_deferred: AtomicBool::new(false),
        }
    }

    /// The poller (the multi-thread runtime waits on it).
    pub(crate) fn poller(&self) -> &Arc<Poller> {
        &self.poller
    }

    /// Registers `fd`; the caller keeps it open until [`deregister`].
    ///
    /// [`deregister`]: IoDriver::deregister
    pub(crate) fn register(&self, fd: RawFd) -> io::Result<Arc<IoEntry>> {
        self.register_as(fd, Interest::BOTH, false)
    }

    /// Registers `fd` for `interest` only: in edge mode the poller reports
    /// no other direction (an eventfd read by this process need not wake
    /// the driver each time its counter drains); in the level fallback the
    /// first wanted direction is `interest`'s (reads, if it has both). The
    /// caller waits in no direction outside `interest`, which would never
    /// be reported.
    pub(crate) fn register_interest(&self, fd: RawFd, interest: Interest) -> io::Result<Arc<IoEntry>> {
        self.register_as(fd, interest, false)
    }

    /// Registers a listening socket `fd` that other processes (or other
    /// runtimes) also watch, so that a new connection wakes only one of
    /// them (`EPOLLEXCLUSIVE`, level-triggered: the latch is set again on
    /// every `wait` while connections are queued, so no edge can be lost
    /// between two exclusive waiters). epoll only.
    ///
    /// # Errors
    /// `Unsupported` on the poll and select backends, which cannot wake
    /// one waiter of several.
    pub(crate) fn register_exclusive(&self, fd: RawFd) -> io::Result<Arc<IoEntry>> {
        if !self.edge {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "an exclusive listener needs the epoll backend (EPOLLEXCLUSIVE)",
            ));
        }
        self.register_as(fd, Interest::READABLE, true)
    }

    fn register_as(&self, fd: RawFd, interest: Interest, exclusive: bool) -> io::Result<Arc<IoEntry>> {
        let mut table = lock(&self.table);
        if table.shut_down {
            return Err(gone());
        }
        let slot = table.free.pop().unwrap_or(table.slots.len());
        // Level fallback: start wanting reads (the first wait of a listener
        // or an accepted stream is almost always a read), or writes for a
        // descriptor registered for nothing else.
        let (first, first_interest) =
            if interest.is_readable() { (READ, Interest::READABLE) } else { (WRITE, Interest::WRITABLE) };
        let level =
            (!self.edge).then(|| Mutex::new(Level { wanted: first, registered: true, closed: false }));
        let entry = Arc::new(IoEntry { io: ScheduledIo::new(), fd, slot, level });
        let token = entry.token(self.tag);
        let added = if exclusive {
            self.poller.add(fd, token, Interest::READABLE, Mode::Exclusive)
        } else if self.edge {
            self.poller.add(fd, token, interest, Mode::Edge)
        } else {
            self.poller.add(fd, token, first_interest, Mode::Level)
        };
        if let Err(e) = added {
            if slot < table.slots.len() {
                table.free.push(slot);
            }
            return Err(e);
        }
        if slot == table.slots.len() {
            table.slots.push(Some(Arc::clone(&entry)));
        } else {
            table.slots[slot] = Some(Arc::clone(&entry));
        }
        Ok(entry)
    }

    /// Takes `entry` out of the poller and wakes its waiters (they see a
    /// shut-down registration). Its memory is kept until the next
    /// [`release_deferred`](IoDriver::release_deferred). Callable from any
    /// thread; the caller closes the descriptor afterwards.
    pub(crate) fn deregister(&self, entry: &Arc<IoEntry>) {
        self.close(entry);
        let kept = {
            let mut table = lock(&self.table);
            let kept = table.slots.get_mut(entry.slot).and_then(|s| s.take_if(|e| Arc::ptr_eq(e, entry)));
            if kept.is_some() {
                table.free.push(entry.slot);
            }
            kept
        };
        if let Some(kept) = kept {
            self.defer(kept);
        }
    }

    /// Parks a deregistered entry until the next `release_deferred`.
    fn defer(&self, entry: Arc<IoEntry>) {
        let mut deferred = lock(&self.deferred);
        deferred.push(entry);
        self.has_deferred.store(true, Ordering::Release);
    }

    /// Wakes `entry`'s waiters for good and takes its descriptor out of the
    /// poller; in the level fallback, under the entry's lock and marked
    /// closed, so that no racing dispatch or wait re-adds it.
    fn close(&self, entry: &IoEntry) {
        entry.io.shutdown();
        match &entry.level {
            Some(level) => {
                let mut level = lock(level);
                level.closed = true;
                if level.registered {
                    let _ = self.poller.delete(entry.fd);
                    level.registered = false;
                }
            }
            None => {
                let _ = self.poller.delete(entry.fd);
            }
        }
    }

    /// Frees the entries deregistered before the last `wait` began. Called
    /// only by the driver's owner, between turns: after every event of the
    /// previous `wait` was dispatched and before the next `wait`.
    pub(crate) fn release_deferred(&self) {
        // Skipping is always safe (an entry freed a turn later is still
        // freed after its events); only a set flag leads to the lock.
        if !self.has_deferred.swap(false, Ordering::Acquire) {
            return;
        }
        let freed = {
            let mut deferred = lock(&self.deferred);
            if deferred.is_empty() {
                return;
            }
            std::mem::take(&mut *deferred)
        };
        drop(freed);
    }

    /// Latches an event's readiness on its entry.
    ///
    /// # Safety
    ///
    /// Called only by the driver's owner, for an event returned by a `wait`
    /// of this driver's poller that began after the last
    /// [`release_deferred`](IoDriver::release_deferred), and before the
    /// next `release_deferred`.
    pub(crate) unsafe fn dispatch(&self, ev: &Event) {
        let addr = ev.token().0 & !self.tag;
        // SAFETY: the token was made by `register` from the address of an
        // `IoEntry` held in `table` (or, once deregistered, in `deferred`).
        // The caller's contract puts this call between the `wait` that
        // returned the event and the next `release_deferred`, and `wait`
        // began after the previous one; an entry deregistered before that
        // `wait` began was deleted from the poller first and cannot appear
        // in its events, and one deregistered since sits in `deferred`
        // until the next `release_deferred`. So the entry is alive.
        let entry = unsafe { &*(addr as *const IoEntry) };
        let ready = Readiness::from_event(ev);
        // Level fallback: drop the fired directions from the interest
        // *before* publishing the readiness. A task that sees the
        // readiness, drains the socket and waits again must find its
        // direction gone, so that its `want` adds it back; in the other
        // order its `want` could land first, see the direction still
        // there, and then this dispatch would remove it with the task
        // waiting: a lost wake-up.
        if let Some(level) = self.level(entry) {
            let mut level = lock(level);
            let mut left = level.wanted;
            if ready.intersects(Direction::Read.mask()) {
                left &= !READ;
            }
            if ready.intersects(Direction::Write.mask()) {
                left &= !WRITE;
            }
            if left != level.wanted {
                level.wanted = left;
                self.apply(entry, &mut level);
            }
        }
        entry.io.set_readiness(ready);
    }

    /// In the level fallback, makes sure the poller reports `direction` for
    /// `entry` (a task found its latch empty and is about to wait).
    pub(crate) fn want(&self, entry: &IoEntry, direction: Direction) {
        let Some(level) = self.level(entry) else { return };
        let mut level = lock(level);
        if level.wanted & bit(direction) == 0 {
            level.wanted |= bit(direction);
            self.apply(entry, &mut level);
        }
    }

    /// `entry`'s level-fallback state, `None` in edge mode. The driver's
    /// flag is looked at first: in edge mode no entry has a `level`, and
    /// the flag is in cache where the entry's field, a line past the
    /// latch, is not.
    #[inline]
    fn level<'e>(&self, entry: &'e IoEntry) -> Option<&'e Mutex<Level>> {
        if self.edge {
            None
        } else {
            entry.level.as_ref()
        }
    }

    /// Brings the poller in line with `level.wanted`.
    fn apply(&self, entry: &IoEntry, level: &mut Level) {
        if level.closed {
            return;
        }
        let interest = match level.wanted {
            0 => {
                if level.registered {
                    let _ = self.poller.delete(entry.fd);
                    level.registered = false;
                }
                return;
            }
            READ => Interest::READABLE,
            WRITE => Interest::WRITABLE,
            _ => Interest::BOTH,
        };
        let token = entry.token(self.tag);
        let done = if level.registered {
            self.poller.modify(entry.fd, token, interest, Mode::Level)
        } else {
            self.poller.add(entry.fd, token, interest, Mode::Level)
        };
        // Fails only for a descriptor closed under us, which nobody can
        // wait on any more.
        level.registered = done.is_ok();
    }

    /// Shuts every registration down: its waiters wake and see an error,
    /// and later registrations fail. Called when the runtime is dropped.
    pub(crate) fn shutdown(&self) {
        let entries = {
            let mut table = lock(&self.table);
            table.shut_down = true;
            table.free.clear();
            std::mem::take(&mut table.slots)
        };
        for entry in entries.into_iter().flatten() {
            self.close(&entry);
            self.defer(entry);
        }
    }
}

/// The error of registering or using IO after the runtime shut down.
pub(crate) fn gone() -> io::Error {
    io::Error::other("the spindle-rt runtime driving this socket has shut down")
}
