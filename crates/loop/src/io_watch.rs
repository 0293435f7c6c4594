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
}

impl Watch {
    pub(crate) fn new(fd: RawFd) -> Watch {
        Watch { fd, wanted: 0, registered: 0, dirty: false }
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

/// Names an IO watcher; see [`Loop::io_start`].
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
        let mut watch = Watch::new(fd);
        watch.wanted = bits_of(interest);
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
    pub fn io_set_interest(&mut self, id: IoId, interest: Interest) -> io::Result<()> {
        self.watch_set(id.0, bits_of(interest))
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
            self.poller.add(w.fd, id.token(), interest, Mode::Level)?;
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
            if w.wanted == w.registered {
                continue;
            }
            let result = match (to_interest(w.registered), to_interest(w.wanted)) {
                (None, Some(i)) => self.poller.add(w.fd, id.token(), i, Mode::Level),
                (Some(_), Some(i)) => self.poller.modify(w.fd, id.token(), i, Mode::Level),
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
