//! IO watchers, and the descriptor watch every fd-owning handle shares.
//!
//! Wanted interest (what handles ask for now) is kept apart from registered
//! interest (what the kernel has), as libuv keeps `pevents` apart from
//! `events`. Starting and stopping a watcher talks to the poller at once, so
//! a bad descriptor is an error at the call; *changing* interest only marks
//! the watch dirty, and all dirty watches are reconciled in one batch right
//! before the loop sleeps. A handle that toggles write interest on and off
//! within one iteration therefore costs no system call.
//!
//! Fired events are masked by the *wanted* interest at dispatch time, so a
//! callback that stops another watcher in the same batch of events cannot
//! make that watcher's (now stale) event run.
//!
//! Every watch remembers its [`Mode`]. Streams, signals and processes are
//! level-triggered; a raw IO watcher may ask for edge, oneshot or exclusive
//! through [`Loop::io_start_with`]. A oneshot registration is disarmed by the
//! kernel after one event while wanted and registered interest still agree,
//! so setting interest on it always marks the watch dirty (`rearm`): the
//! batch then issues a `modify`, which is what re-arms it.

use crate::{HandleId, Kind, Loop};
use spindle_poll::{Event, Interest, Mode};
use std::io;
use std::os::fd::RawFd;

/// Readiness bits a handle wants: a union of [`READ`] and [`WRITE`], possibly
/// none (the watch is then deleted from the poller).
pub(crate) type Bits = u8;
/// Wants readability.
pub(crate) const READ: Bits = 1;
/// Wants writability.
pub(crate) const WRITE: Bits = 2;

fn to_interest(bits: Bits) -> Option<Interest> {
    match bits & (READ | WRITE) {
        READ => Some(Interest::READABLE),
        WRITE => Some(Interest::WRITABLE),
        0 => None,
        _ => Some(Interest::BOTH),
    }
}

/// What a handle watching a descriptor wants and what the poller has.
#[derive(Debug)]
pub(crate) struct Watch {
    pub(crate) fd: RawFd,
    pub(crate) wanted: Bits,
    pub(crate) registered: Bits,
    /// On the dirty list already.
    pub(crate) dirty: bool,
    /// How the descriptor is registered; [`Mode::Level`] unless an IO
    /// watcher was started with [`Loop::io_start_with`].
    pub(crate) mode: Mode,
    /// A oneshot registration must be modified at the next flush even if
    /// `wanted == registered`: the kernel disarmed it after its event.
    pub(crate) rearm: bool,
    /// The coalescing epoch this watch was last counted in.
    pub(crate) seen: u32,
}

impl Watch {
    pub(crate) fn new(fd: RawFd) -> Watch {
        Watch { fd, wanted: 0, registered: 0, dirty: false, mode: Mode::Level, rearm: false, seen: 0 }
    }

    /// The flags of `ev` that this watch still wants, or 0. Hang-ups and
    /// errors pass whenever anything is wanted: the handle must learn of them.
    pub(crate) fn mask(&self, ev: &Event) -> u8 {
        if self.wanted == 0 {
            return 0;
        }
        let mut f = ev.flags();
        if self.wanted & READ == 0 {
            f &= !Event::READABLE;
        }
        if self.wanted & WRITE == 0 {
            f &= !Event::WRITABLE;
        }
        f
    }
}

/// A raw descriptor watcher (`uv_poll_t`): calls back with readiness.
pub struct IoWatcher {
    pub(crate) watch: Watch,
    pub(crate) cb: Option<IoCb>,
}

/// The callback of an IO watcher: the loop, the watcher, and the readiness.
pub type IoCb = Box<dyn FnMut(&mut Loop, IoId, Event)>;

/// Names an IO watcher; see [`Loop::io_start`] and [`Loop::io_start_with`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IoId(pub(crate) HandleId);

impl IoId {
    /// The untyped handle, for [`Loop::close`] and friends.
    pub fn handle(self) -> HandleId {
        self.0
    }
}

impl Loop {
    /// Watches `fd` (which the caller owns and keeps open) for `interest`,
    /// level-triggered, calling `cb` with each readiness event.
    ///
    /// # Errors
    /// The poller's error for a closed or invalid descriptor, one that is
    /// already watched by this loop, or one the backend cannot hold.
    pub fn io_start(
        &mut self,
        fd: RawFd,
        interest: Interest,
        cb: impl FnMut(&mut Loop, IoId, Event) + 'static,
    ) -> io::Result<IoId> {
        self.io_start_with(fd, interest, Mode::Level, cb)
    }

    /// Watches `fd` for `interest` in the given poller [`Mode`], calling `cb`
    /// with each readiness event. [`io_start`](Loop::io_start) is this with
    /// [`Mode::Level`].
    ///
    /// * [`Mode::Edge`]: `cb` runs when readiness *changes* (new data arrived,
    ///   buffer space was freed, the peer hung up), not while it lasts. After
    ///   an event the callback (or whoever it hands the work to) must
    ///   **drain**: read, or write, until the call returns `WouldBlock`. Data
    ///   left unread is announced by no further event, and the connection
    ///   stalls. Changing the interest with
    ///   [`io_set_interest`](Loop::io_set_interest) re-registers the
    ///   descriptor, after which the kernel reports what is ready at that
    ///   moment once more.
    /// * [`Mode::Oneshot`]: `cb` runs once, then the watcher stays silent
    ///   (though still active, so it keeps the loop alive) until
    ///   [`io_set_interest`](Loop::io_set_interest) re-arms it, with the same
    ///   interest or a new one.
    /// * [`Mode::Exclusive`]: level-triggered, and of several loops watching
    ///   one listening socket only one is woken per connection. Changing its
    ///   interest deletes and re-adds the registration (epoll cannot modify
    ///   an exclusive one).
    ///
    /// # Errors
    /// As [`io_start`](Loop::io_start); in addition `Unsupported` when the
    /// loop's backend cannot honour `mode` (poll and select refuse
    /// [`Mode::Edge`] and [`Mode::Exclusive`]), so a caller can fall back to
    /// [`Mode::Level`]. Nothing is left behind on error: no handle, no
    /// registration.
    pub fn io_start_with(
        &mut self,
        fd: RawFd,
        interest: Interest,
        mode: Mode,
        cb: impl FnMut(&mut Loop, IoId, Event) + 'static,
    ) -> io::Result<IoId> {
        let mut watch = Watch::new(fd);
        watch.wanted = bits_of(interest);
        watch.mode = mode;
        let id = self.handles.insert(Kind::Io(IoWatcher { watch, cb: Some(Box::new(cb)) }));
        if let Err(e) = self.watch_register(id) {
            self.handles.remove(id);
            return Err(e);
        }
        self.handles.set_active(id, true);
        Ok(IoId(id))
    }

    /// Changes what the watcher waits for. Takes effect before the loop next
    /// sleeps; events already fired are masked by the new interest.
    ///
    /// On a [`Mode::Oneshot`] watcher this also re-arms the registration,
    /// even when `interest` is unchanged.
    ///
    /// # Errors
    /// `NotFound` when `id` names a closed watcher.
    pub fn io_set_interest(&mut self, id: IoId, interest: Interest) -> io::Result<()> {
        self.watch_set(id.0, bits_of(interest))?;
        self.watch_rearm(id.0);
        Ok(())
    }

    /// Marks a oneshot watch for a `modify` at the next flush, which re-arms
    /// it even when its interest did not change.
    fn watch_rearm(&mut self, id: HandleId) {
        let Some(w) = self.handles.get_mut(id).and_then(|h| h.kind.watch_mut()) else { return };
        if w.mode != Mode::Oneshot || w.wanted == 0 {
            return;
        }
        w.rearm = true;
        if !w.dirty {
            w.dirty = true;
            self.dirty_watches.push(id);
        }
    }

    /// Stops the watcher and removes its descriptor from the poller; the
    /// handle stays usable for [`io_set_interest`](Loop::io_set_interest)
    /// only after a new `io_start`. Close it with [`Loop::close`].
    pub fn io_stop(&mut self, id: IoId) -> io::Result<()> {
        self.watch_set(id.0, 0)?;
        self.watch_unregister(id.0);
        self.handles.set_active(id.0, false);
        Ok(())
    }

    /// Registers a watch's wanted interest with the poller now.
    pub(crate) fn watch_register(&mut self, id: HandleId) -> io::Result<()> {
        let Some(w) = self.handles.get_mut(id).and_then(|h| h.kind.watch_mut()) else {
            return Err(stale(id));
        };
        if let Some(interest) = to_interest(w.wanted) {
            self.poller.add(w.fd, id.token(), interest, w.mode)?;
            w.registered = w.wanted;
        }
        Ok(())
    }

    /// Removes a watch from the poller now (before its descriptor closes).
    pub(crate) fn watch_unregister(&mut self, id: HandleId) {
        if let Some(w) = self.handles.get_mut(id).and_then(|h| h.kind.watch_mut()) {
            w.wanted = 0;
            if w.registered != 0 {
                let _ = self.poller.delete(w.fd);
                w.registered = 0;
            }
        }
    }

    /// Sets the wanted bits; reconciled with the kernel before the next wait.
    pub(crate) fn watch_set(&mut self, id: HandleId, bits: Bits) -> io::Result<()> {
        let Some(w) = self.handles.get_mut(id).and_then(|h| h.kind.watch_mut()) else {
            return Err(stale(id));
        };
        w.wanted = bits;
        if w.wanted != w.registered && !w.dirty {
            w.dirty = true;
            self.dirty_watches.push(id);
        }
        Ok(())
    }

    /// Brings the poller in line with every dirty watch, in one batch.
    pub(crate) fn flush_watches(&mut self) {
        let mut dirty = std::mem::take(&mut self.dirty_watches);
        for id in dirty.drain(..) {
            let Some(w) = self.handles.get_mut(id).and_then(|h| h.kind.watch_mut()) else {
                continue;
            };
            w.dirty = false;
            if w.wanted == w.registered && !w.rearm {
                continue;
            }
            w.rearm = false;
            let result = match (to_interest(w.registered), to_interest(w.wanted)) {
                (None, Some(i)) => self.poller.add(w.fd, id.token(), i, w.mode),
                // epoll refuses to modify an exclusive registration.
                (Some(_), Some(i)) if w.mode == Mode::Exclusive => self.poller.delete(w.fd).and_then(|()| {
                    w.registered = 0;
                    self.poller.add(w.fd, id.token(), i, w.mode)
                }),
                (Some(_), Some(i)) => self.poller.modify(w.fd, id.token(), i, w.mode),
                (Some(_), None) => self.poller.delete(w.fd),
                (None, None) => Ok(()),
            };
            match result {
                Ok(()) => w.registered = w.wanted,
                // The descriptor was closed under the watch: a user bug, but
                // not one that may stop the loop for every other handle.
                Err(e) => tracing::warn!(fd = w.fd, error = %e, "could not update a descriptor's interest"),
            }
        }
        self.dirty_watches = dirty;
    }

    /// Routes one kernel event to the handle named by its token.
    pub(crate) fn dispatch_event(&mut self, ev: &Event) {
        let id = HandleId::from_token(ev.token());
        let Some(h) = self.handles.get_mut(id) else { return };
        let Some(w) = h.kind.watch_mut() else { return };
        let flags = w.mask(ev);
        if flags == 0 {
            return;
        }
        self.coalesce.note(&mut w.seen);
        let ev = Event::new(ev.token(), flags);
        match &mut h.kind {
            Kind::Io(io) => {
                let Some(mut cb) = io.cb.take() else { return };
                self.timed(id, |lp| cb(lp, IoId(id), ev));
                if let Some(Handle { kind: Kind::Io(io), .. }) = self.handles.get_mut(id) {
                    io.cb.get_or_insert(cb);
                }
            }
            Kind::Stream(_) => self.stream_ready(id, ev),
            Kind::Signal(_) => self.signal_ready(id),
            Kind::Process(_) => self.process_ready(id),
            _ => {}
        }
    }
}

use crate::handle::Handle;

fn bits_of(interest: Interest) -> Bits {
    (if interest.is_readable() { READ } else { 0 }) | (if interest.is_writable() { WRITE } else { 0 })
}

pub(crate) fn stale(id: HandleId) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("{id:?} is closed or belongs to another handle kind"))
}
