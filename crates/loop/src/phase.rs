//! Idle, prepare and check handles: callbacks run once per iteration in
//! their phase. Idle handles also make the poll phase not sleep (libuv's
//! rule), prepare runs just before the loop sleeps, check just after it
//! wakes.

use crate::handle::{HandleId, Kind, PhaseCb};
use crate::Loop;
use std::io;

/// Names an idle, prepare or check handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PhaseId(pub(crate) HandleId);

impl PhaseId {
    /// The untyped handle, for [`Loop::close`] and friends.
    pub fn handle(self) -> HandleId {
        self.0
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    Idle,
    Prepare,
    Check,
}

/// The active handles of each phase, in start order.
#[derive(Default)]
pub(crate) struct Phases {
    idle: Vec<HandleId>,
    prepare: Vec<HandleId>,
    check: Vec<HandleId>,
    scratch: Vec<HandleId>,
}

impl Phases {
    pub(crate) fn idle_active(&self) -> bool {
        !self.idle.is_empty()
    }

    fn list(&mut self, w: Which) -> &mut Vec<HandleId> {
        match w {
            Which::Idle => &mut self.idle,
            Which::Prepare => &mut self.prepare,
            Which::Check => &mut self.check,
        }
    }
}

fn which(kind: &Kind) -> Option<Which> {
    match kind {
        Kind::Idle(_) => Some(Which::Idle),
        Kind::Prepare(_) => Some(Which::Prepare),
        Kind::Check(_) => Some(Which::Check),
        _ => None,
    }
}

fn cb_slot(kind: &mut Kind) -> Option<&mut Option<PhaseCb>> {
    match kind {
        Kind::Idle(c) | Kind::Prepare(c) | Kind::Check(c) => Some(c),
        _ => None,
    }
}

impl Loop {
    /// A stopped idle handle.
    pub fn idle_new(&mut self) -> PhaseId {
        PhaseId(self.handles.insert(Kind::Idle(None)))
    }
    /// A stopped prepare handle.
    pub fn prepare_new(&mut self) -> PhaseId {
        PhaseId(self.handles.insert(Kind::Prepare(None)))
    }
    /// A stopped check handle.
    pub fn check_new(&mut self) -> PhaseId {
        PhaseId(self.handles.insert(Kind::Check(None)))
    }

    /// Starts an idle, prepare or check handle with `cb`; restarting replaces
    /// the callback.
    pub fn phase_start(
        &mut self,
        id: PhaseId,
        cb: impl FnMut(&mut Loop, HandleId) + 'static,
    ) -> io::Result<()> {
        let h = self.handles.get_mut(id.0).ok_or_else(|| crate::io_watch::stale(id.0))?;
        let w = which(&h.kind).ok_or_else(|| crate::io_watch::stale(id.0))?;
        if h.closing {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "cannot start a closing handle"));
        }
        let was_active = h.active;
        if let Some(slot) = cb_slot(&mut h.kind) {
            *slot = Some(Box::new(cb));
        }
        if !was_active {
            self.phases.list(w).push(id.0);
            self.handles.set_active(id.0, true);
        }
        Ok(())
    }

    /// Stops an idle, prepare or check handle.
    pub fn phase_stop(&mut self, id: PhaseId) {
        let Some(h) = self.handles.get(id.0) else { return };
        let Some(w) = which(&h.kind) else { return };
        if h.active {
            self.phases.list(w).retain(|x| *x != id.0);
            self.handles.set_active(id.0, false);
        }
    }

    pub(crate) fn run_idle(&mut self) {
        self.run_phase(Which::Idle);
    }
    pub(crate) fn run_prepare(&mut self) {
        self.run_phase(Which::Prepare);
    }
    pub(crate) fn run_check(&mut self) {
        self.run_phase(Which::Check);
    }

    fn run_phase(&mut self, w: Which) {
        if self.phases.list(w).is_empty() {
            return;
        }
        let mut batch = std::mem::take(&mut self.phases.scratch);
        batch.extend_from_slice(self.phases.list(w));
        for &id in &batch {
            let Some(h) = self.handles.get_mut(id) else { continue };
            if !h.active {
                continue;
            }
            let Some(mut cb) = cb_slot(&mut h.kind).and_then(|c| c.take()) else { continue };
            self.timed(id, |lp| cb(lp, id));
            if let Some(slot) = self.handles.get_mut(id).and_then(|h| cb_slot(&mut h.kind)) {
                slot.get_or_insert(cb);
            }
        }
        batch.clear();
        self.phases.scratch = batch;
    }
}
