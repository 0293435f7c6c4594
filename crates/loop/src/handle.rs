//! The handle table: every timer, watcher, stream and process the loop owns
//! lives in one slot of a generational table, named by a [`HandleId`].
//!
//! Callbacks receive `&mut Loop`, so they may start, stop or close any
//! handle, including the one running. To make that sound without `Rc` and
//! `RefCell`, the loop *takes* a handle's callback out of its slot before
//! calling it and puts it back afterwards only if the slot still holds the
//! same handle (same generation) and the callback was not replaced meanwhile.
//! A closed slot's generation is bumped, so a stale id held by user code, or a
//! stale token in a batch of kernel events, can never reach a new handle.

use crate::io_watch::Watch;
use crate::{async_handle, process, signal, stream, timer};
use std::fmt;

/// Names one handle of one [`Loop`](crate::Loop): a slot index and the slot's
/// generation when the handle was made. Stale ids are detected, never
/// misdirected.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct HandleId {
    pub(crate) index: u32,
    pub(crate) gen: u32,
}

impl HandleId {
    /// The poller token for this handle: generation in the high half, so a
    /// token for a closed handle never matches a newer one in the same slot.
    pub(crate) fn token(self) -> spindle_poll::Token {
        spindle_poll::Token(((self.gen as usize) << 32) | self.index as usize)
    }

    pub(crate) fn from_token(t: spindle_poll::Token) -> HandleId {
        HandleId { index: t.0 as u32, gen: (t.0 >> 32) as u32 }
    }
}

impl fmt::Debug for HandleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HandleId({}v{})", self.index, self.gen)
    }
}

/// A callback run by the idle, prepare and check phases.
pub(crate) type PhaseCb = Box<dyn FnMut(&mut crate::Loop, HandleId)>;

/// What kind of handle a slot holds, with its kind-specific state.
pub(crate) enum Kind {
    Timer(timer::Timer),
    Io(crate::io_watch::IoWatcher),
    Idle(Option<PhaseCb>),
    Prepare(Option<PhaseCb>),
    Check(Option<PhaseCb>),
    Async(async_handle::AsyncState),
    Signal(signal::SignalState),
    Stream(stream::StreamState),
    Process(process::ProcessState),
}

impl Kind {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Kind::Timer(_) => "timer",
            Kind::Io(_) => "io",
            Kind::Idle(_) => "idle",
            Kind::Prepare(_) => "prepare",
            Kind::Check(_) => "check",
            Kind::Async(_) => "async",
            Kind::Signal(_) => "signal",
            Kind::Stream(_) => "stream",
            Kind::Process(_) => "process",
        }
    }

    /// The descriptor watch of handles that own one.
    pub(crate) fn watch_mut(&mut self) -> Option<&mut Watch> {
        match self {
            Kind::Io(w) => Some(&mut w.watch),
            Kind::Stream(s) => Some(s.watch_mut()),
            Kind::Signal(s) => s.watch_mut(),
            Kind::Process(p) => p.watch_mut(),
            _ => None,
        }
    }
}

/// One live handle.
pub(crate) struct Handle {
    pub(crate) kind: Kind,
    /// Started (a timer armed, a watcher watching); only active handles keep
    /// the loop alive.
    pub(crate) active: bool,
    /// Counted towards keeping the loop alive while active (`uv_ref`).
    pub(crate) referenced: bool,
    /// `close` was called; the close callback runs in the close phase.
    pub(crate) closing: bool,
    /// The name the lag monitor reports; the kind's name when unset.
    pub(crate) name: Option<String>,
}

struct Slot {
    gen: u32,
    handle: Option<Handle>,
}

/// The generational table of handles, with a free list.
#[derive(Default)]
pub(crate) struct Handles {
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// Handles that are active and referenced: the loop is alive while this
    /// is non-zero (or requests or close callbacks are outstanding).
    pub(crate) active_refd: usize,
}

impl Handles {
    pub(crate) fn insert(&mut self, kind: Kind) -> HandleId {
        let handle = Handle { kind, active: false, referenced: true, closing: false, name: None };
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.handle = Some(handle);
            HandleId { index, gen: slot.gen }
        } else {
            let index = u32::try_from(self.slots.len()).expect("more than 4 billion handles");
            self.slots.push(Slot { gen: 0, handle: Some(handle) });
            HandleId { index, gen: 0 }
        }
    }

    pub(crate) fn get(&self, id: HandleId) -> Option<&Handle> {
        match self.slots.get(id.index as usize) {
            Some(Slot { gen, handle: Some(h) }) if *gen == id.gen => Some(h),
            _ => None,
        }
    }

    pub(crate) fn get_mut(&mut self, id: HandleId) -> Option<&mut Handle> {
        match self.slots.get_mut(id.index as usize) {
            Some(Slot { gen, handle: Some(h) }) if *gen == id.gen => Some(h),
            _ => None,
        }
    }

    /// Frees a slot; the generation bump invalidates every outstanding id.
    pub(crate) fn remove(&mut self, id: HandleId) -> Option<Handle> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.gen != id.gen {
            return None;
        }
        let h = slot.handle.take()?;
        if h.active && h.referenced {
            self.active_refd -= 1;
        }
        // 31 bits: a token's top bit is left to `FOREIGN_TOKEN_BIT`.
        slot.gen = slot.gen.wrapping_add(1) & 0x7fff_ffff;
        self.free.push(id.index);
        Some(h)
    }

    /// Sets the active flag, keeping `active_refd` in step.
    pub(crate) fn set_active(&mut self, id: HandleId, active: bool) {
        if let Some(h) = self.get_mut(id) {
            let before = h.active && h.referenced;
            h.active = active;
            let after = h.active && h.referenced;
            self.adjust(before, after);
        }
    }

    /// Sets the referenced flag, keeping `active_refd` in step.
    pub(crate) fn set_referenced(&mut self, id: HandleId, referenced: bool) {
        if let Some(h) = self.get_mut(id) {
            let before = h.active && h.referenced;
            h.referenced = referenced;
            let after = h.active && h.referenced;
            self.adjust(before, after);
        }
    }

    fn adjust(&mut self, before: bool, after: bool) {
        match (before, after) {
            (false, true) => self.active_refd += 1,
            (true, false) => self.active_refd -= 1,
            _ => {}
        }
    }

    /// Ids of every live handle (for `walk` and for dropping the loop).
    pub(crate) fn ids(&self) -> Vec<HandleId> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.handle.is_some())
            .map(|(i, s)| HandleId { index: i as u32, gen: s.gen })
            .collect()
    }
}
