//! Async handles (`uv_async_t`): the way into the loop from other threads.
//!
//! [`AsyncHandle::send`] may be called from any thread, any number of times;
//! the loop runs the handle's callback once for all sends since it last ran
//! (sends coalesce, as `uv_async_send`'s do). Two flags make that cheap: the
//! handle's own `pending`, and the loop-wide `any_async` that tells the loop
//! it has handles to look at; only the first send after a run writes to the
//! poller's eventfd.

use crate::handle::{HandleId, Kind};
use crate::Loop;
use spindle_poll::Waker;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// What other threads share with the loop.
pub(crate) struct Remote {
    pub(crate) waker: Arc<Waker>,
    any_async: AtomicBool,
    /// Completions posted by other threads (pool work), run on the loop.
    pub(crate) posted: Mutex<Vec<crate::pool::Completion>>,
    pub(crate) any_posted: AtomicBool,
}

impl Remote {
    pub(crate) fn new(waker: Arc<Waker>) -> Remote {
        Remote {
            waker,
            any_async: AtomicBool::new(false),
            posted: Mutex::new(Vec::new()),
            any_posted: AtomicBool::new(false),
        }
    }

    /// Hands a completion to the loop thread and wakes it.
    pub(crate) fn post(&self, c: crate::pool::Completion) {
        self.posted.lock().unwrap_or_else(|p| p.into_inner()).push(c);
        if !self.any_posted.swap(true, Ordering::AcqRel) {
            self.waker.wake();
        }
    }
}

struct Shared {
    pending: AtomicBool,
    remote: Arc<Remote>,
}

/// A cross-thread wake-up for one loop callback. `Send + Sync + Clone`.
///
/// ```
/// use spindle_loop::{Loop, RunMode};
/// let mut lp = Loop::new()?;
/// let h = lp.async_new(|lp, id| lp.close(id, None))?;
/// let sender = h.clone();
/// std::thread::spawn(move || sender.send()).join().unwrap();
/// lp.run(RunMode::Default)?; // runs the callback, which closes the handle
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct AsyncHandle {
    id: HandleId,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for AsyncHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncHandle").field("id", &self.id).finish()
    }
}

impl AsyncHandle {
    /// Wakes the loop to run the callback (coalesced with other sends).
    pub fn send(&self) {
        if self.shared.pending.swap(true, Ordering::AcqRel) {
            return;
        }
        if !self.shared.remote.any_async.swap(true, Ordering::AcqRel) {
            self.shared.remote.waker.wake();
        }
    }

    /// The loop-side handle, for [`Loop::close`], [`Loop::unref`] and friends.
    pub fn handle(&self) -> HandleId {
        self.id
    }
}

type AsyncCb = Box<dyn FnMut(&mut Loop, HandleId)>;

pub(crate) struct AsyncState {
    shared: Arc<Shared>,
    cb: Option<AsyncCb>,
}

impl Loop {
    /// Makes an active async handle that runs `cb` on the loop thread after
    /// [`AsyncHandle::send`]. It keeps the loop alive until closed or
    /// [unref'd](Loop::unref).
    ///
    /// # Errors
    /// None today; the signature leaves room for a backend that needs one.
    pub fn async_new(
        &mut self,
        cb: impl FnMut(&mut Loop, HandleId) + 'static,
    ) -> std::io::Result<AsyncHandle> {
        let shared = Arc::new(Shared { pending: AtomicBool::new(false), remote: Arc::clone(&self.remote) });
        let id = self
            .handles
            .insert(Kind::Async(AsyncState { shared: Arc::clone(&shared), cb: Some(Box::new(cb)) }));
        self.handles.set_active(id, true);
        self.asyncs.push(id);
        Ok(AsyncHandle { id, shared })
    }

    pub(crate) fn async_on_close(&mut self, id: HandleId) {
        self.asyncs.retain(|x| *x != id);
    }

    /// After every poll: run async callbacks that were sent, then posted
    /// completions. Clearing each flag before reading what it guards means a
    /// send that races with this run is either seen now or wakes us again.
    pub(crate) fn run_remote(&mut self) {
        // A plain load first: the common case (nothing sent) then costs no
        // locked read-modify-write.
        if self.remote.any_async.load(Ordering::Acquire)
            && self.remote.any_async.swap(false, Ordering::AcqRel)
        {
            let ids = self.asyncs.clone();
            for id in ids {
                let Some(h) = self.handles.get_mut(id) else { continue };
                let Kind::Async(a) = &mut h.kind else { continue };
                if !a.shared.pending.swap(false, Ordering::AcqRel) {
                    continue;
                }
                let Some(mut cb) = a.cb.take() else { continue };
                self.timed(id, |lp| cb(lp, id));
                if let Some(h) = self.handles.get_mut(id) {
                    if let Kind::Async(a) = &mut h.kind {
                        a.cb.get_or_insert(cb);
                    }
                }
            }
        }
        if self.remote.any_posted.load(Ordering::Acquire)
            && self.remote.any_posted.swap(false, Ordering::AcqRel)
        {
            let done = std::mem::take(&mut *self.remote.posted.lock().unwrap_or_else(|p| p.into_inner()));
            for c in done {
                self.pool_complete(c);
            }
        }
    }
}
