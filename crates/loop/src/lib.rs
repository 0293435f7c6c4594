//! # spindle-loop: a libuv-style callback event loop
//!
//! One [`Loop`] per thread. It owns handles (timers, IO watchers, idle,
//! prepare and check callbacks, signals, async wake-ups, streams, child
//! processes) and runs their callbacks from one place, in libuv's order:
//!
//! ```text
//!   update time -> due timers -> pending callbacks -> idle -> prepare
//!       -> poll for IO (sleeps: until the next timer, or not at all when
//!          work is pending) -> check -> close callbacks
//! ```
//!
//! Every callback gets `&mut Loop`, so it can start, stop and close handles,
//! including its own. Nothing runs concurrently with a callback: the loop is a
//! single thread, and the one documented way in from other threads is an
//! [`AsyncHandle`] (a coalescing wake-up) or the blocking-work pool's
//! completions, which both come back through the poller's waker.
//!
//! ## Keep callbacks short
//!
//! The loop is one thread. A callback that computes for 50 ms delays every
//! other timer and connection by 50 ms (the Node guide's "don't block the
//! event loop"). Blocking work goes to [`Loop::queue_work`], whose `work`
//! runs on a pool thread and whose `after` runs back on the loop. The
//! [lag monitor](Loop::set_lag_monitor) names callbacks that hold the loop too
//! long.
//!
//! ## Example
//!
//! ```
//! use spindle_loop::{Loop, RunMode};
//! use std::time::Duration;
//! use std::rc::Rc;
//! use std::cell::Cell;
//!
//! let mut lp = Loop::new()?;
//! let fired = Rc::new(Cell::new(0));
//! let f = fired.clone();
//! let t = lp.timer_new();
//! lp.timer_start(t, Duration::from_millis(1), Some(Duration::from_millis(1)), move |lp, t| {
//!     f.set(f.get() + 1);
//!     if f.get() == 3 {
//!         lp.close(t.handle(), None);
//!     }
//! })?;
//! lp.run(RunMode::Default)?; // returns when no live handle is left
//! assert_eq!(fired.get(), 3);
//! # Ok::<(), std::io::Error>(())
//! ```

#![deny(unsafe_op_in_unsafe_fn)]

mod async_handle;
pub mod buffered;
mod coalesce;
mod dns;
mod fs;
mod handle;
mod io_watch;
mod lag;
mod phase;
mod pool;
mod process;
mod run;
mod signal;
pub mod stream;
mod timer;

pub use async_handle::AsyncHandle;
pub use buffered::{BufferedCb, BufferedConn, BufferedEvent, BufferedEventCb, Watermarks};
pub use coalesce::{Coalesce, CoalesceStats};
pub use handle::HandleId;
pub use io_watch::{IoCb, IoId};
pub use lag::{LagReport, LagStats};
pub use phase::PhaseId;
pub use pool::{WorkId, DEFAULT_THREADPOOL_SIZE, MAX_THREADPOOL_SIZE};
pub use process::{ExitCb, Pipes, ProcessId, ProcessOptions, Stdio};
pub use run::RunMode;
pub use signal::sys::with_async_signals_blocked;
pub use signal::{SignalCb, SignalId};
pub use spindle_poll::{Backend, Event, Interest};
pub use stream::{
    is_canceled, ConnectionCb, ListenOptions, ReadCb, ReadResult, StreamId, WriteCb, ACCEPTS_PER_EVENT,
    ACCEPT_PAUSE, READS_PER_EVENT,
};
pub use timer::{TimerCb, TimerId};

pub(crate) use handle::Kind;

use spindle_poll::{Events, Poller};
use std::collections::VecDeque;
use std::io;
use std::time::Instant;

/// A callback run once on the loop thread.
pub(crate) type Deferred = Box<dyn FnOnce(&mut Loop)>;

/// The callback of [`Loop::close`].
pub type CloseCb = Box<dyn FnOnce(&mut Loop, HandleId)>;

/// How many events one poll phase takes from the kernel; more stay queued
/// for the next iteration (libuv takes 1024).
const EVENTS_PER_POLL: usize = 1024;

/// The poller-token bit reserved for registrations made directly on the
/// loop's shared poller ([`Loop::poller`]) by code outside the loop, such as
/// an async runtime's IO driver. The loop's own tokens never have it set
/// (handle generations are 31 bits); events whose token has it go to the
/// [`Loop::set_foreign_events`] callback instead of the handle table.
pub const FOREIGN_TOKEN_BIT: usize = 1 << (usize::BITS - 1);

/// The callback of [`Loop::set_foreign_events`].
pub type ForeignEventsCb = Box<dyn FnMut(&spindle_poll::Event)>;

/// A single-threaded event loop; see the [crate docs](crate).
pub struct Loop {
    poller: std::sync::Arc<Poller>,
    /// Receives events for tokens with [`FOREIGN_TOKEN_BIT`].
    foreign: Option<ForeignEventsCb>,
    events: Events,
    /// The loop clock's zero.
    origin: Instant,
    /// Nanoseconds since `origin`, read once per iteration (libuv caches the
    /// time the same way: callbacks in one iteration agree on "now").
    now: u64,
    handles: handle::Handles,
    timers: timer::Timers,
    dirty_watches: Vec<HandleId>,
    /// Callbacks deferred to the next pending phase (write completions).
    pending: VecDeque<Deferred>,
    phases: phase::Phases,
    closing: Vec<(HandleId, Option<CloseCb>)>,
    /// Outstanding requests (queued writes, pool work) that keep the loop
    /// alive even without active handles, as libuv's `active_reqs`.
    active_reqs: usize,
    stop_flag: bool,
    lag: lag::LagMonitor,
    remote: std::sync::Arc<async_handle::Remote>,
    /// Live async handles, scanned when any was sent.
    asyncs: Vec<HandleId>,
    pool: pool::PoolState,
    signals: signal::Signals,
    coalesce: coalesce::CoalesceState,
}

impl Loop {
    /// A loop on the poller backend named by `SPINDLE_POLLER` (epoll by
    /// default).
    ///
    /// # Errors
    /// An unknown backend name, or the kernel refusing a poller.
    pub fn new() -> io::Result<Loop> {
        Loop::with_backend(spindle_poll::Backend::from_env()?)
    }

    /// A loop on the given poller backend.
    ///
    /// # Errors
    /// The kernel refusing a poller or its waker.
    pub fn with_backend(backend: Backend) -> io::Result<Loop> {
        let poller = std::sync::Arc::new(Poller::new(backend)?);
        let remote = std::sync::Arc::new(async_handle::Remote::new(poller.waker()));
        Ok(Loop {
            poller,
            foreign: None,
            events: Events::with_capacity(EVENTS_PER_POLL),
            origin: Instant::now(),
            now: 0,
            handles: handle::Handles::default(),
            timers: timer::Timers::default(),
            dirty_watches: Vec::new(),
            pending: VecDeque::new(),
            phases: phase::Phases::default(),
            closing: Vec::new(),
            active_reqs: 0,
            stop_flag: false,
            lag: lag::LagMonitor::default(),
            remote,
            asyncs: Vec::new(),
            pool: pool::PoolState::default(),
            signals: signal::Signals::default(),
            coalesce: coalesce::CoalesceState::default(),
        })
    }

    /// Turns on (or, with `None` or a zero wait, off) coalescing: while at
    /// least `min_active` distinct descriptors are ready per millisecond,
    /// the loop sleeps `wait` before each poll so that the poll takes a
    /// batch (see [`Coalesce`] and the module notes in `coalesce.rs` for
    /// why a busy server and its clients both gain). Off by default.
    ///
    /// ```
    /// use spindle_loop::{Coalesce, Loop};
    /// use std::time::Duration;
    ///
    /// let mut lp = Loop::new()?;
    /// lp.set_coalesce(Some(Coalesce { wait: Duration::from_micros(40), min_active: 32 }));
    /// assert_eq!(lp.coalesce_stats().waits, 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_coalesce(&mut self, coalesce: Option<Coalesce>) {
        self.coalesce.set(coalesce);
    }

    /// What the coalescing has done so far.
    pub fn coalesce_stats(&self) -> CoalesceStats {
        self.coalesce.stats()
    }

    /// The loop's poller, shared so that other code can register its own
    /// descriptors on it (with tokens carrying [`FOREIGN_TOKEN_BIT`]) and
    /// have them waited on in the loop's poll phase, at no extra system call.
    /// The poller is `Send + Sync`: such registrations may be added, changed
    /// and deleted from any thread.
    pub fn poller(&self) -> &std::sync::Arc<Poller> {
        &self.poller
    }

    /// Sets the callback that receives, during the poll phase, every event
    /// whose token carries [`FOREIGN_TOKEN_BIT`]. It runs on the loop thread
    /// without access to the loop (it should only record readiness and
    /// wake whoever waits for it). Events for such tokens are dropped while
    /// no callback is set.
    pub fn set_foreign_events(&mut self, cb: impl FnMut(&spindle_poll::Event) + 'static) {
        self.foreign = Some(Box::new(cb));
    }

    /// The poller backend this loop runs on.
    pub fn backend(&self) -> Backend {
        self.poller.backend()
    }

    /// The loop's cached time (updated once per iteration and after polling).
    pub fn now(&self) -> Instant {
        self.origin + std::time::Duration::from_nanos(self.now)
    }

    /// Re-reads the clock (`uv_update_time`).
    pub fn update_time(&mut self) {
        self.now = u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX);
    }

    /// Makes [`run`](Loop::run) return after the current iteration.
    pub fn stop(&mut self) {
        self.stop_flag = true;
    }

    /// Whether the loop has anything that keeps it running: active referenced
    /// handles, outstanding requests, or close callbacks to run.
    pub fn alive(&self) -> bool {
        self.handles.active_refd > 0 || self.active_reqs > 0 || !self.closing.is_empty()
    }

    /// Stops a handle from keeping the loop alive (`uv_unref`); it still runs.
    pub fn unref(&mut self, h: HandleId) {
        self.handles.set_referenced(h, false);
    }

    /// Undoes [`unref`](Loop::unref) (`uv_ref`).
    pub fn ref_handle(&mut self, h: HandleId) {
        self.handles.set_referenced(h, true);
    }

    /// Whether `h` is started (a timer armed, a watcher watching, ...).
    pub fn is_active(&self, h: HandleId) -> bool {
        self.handles.get(h).is_some_and(|h| h.active)
    }

    /// Whether `h` is closing or closed.
    pub fn is_closing(&self, h: HandleId) -> bool {
        self.handles.get(h).is_none_or(|h| h.closing)
    }

    /// Names a handle for the lag monitor's reports.
    pub fn set_name(&mut self, h: HandleId, name: impl Into<String>) {
        if let Some(h) = self.handles.get_mut(h) {
            h.name = Some(name.into());
        }
    }

    /// Every live handle's id (`uv_walk`), e.g. to close them all at shutdown.
    pub fn handles(&self) -> Vec<HandleId> {
        self.handles.ids()
    }

    /// Closes `h`: stops it at once (a stream's descriptor is closed now) and
    /// runs `cb` in this iteration's close phase, after which the id is dead.
    /// Closing a closing or dead handle does nothing.
    pub fn close(&mut self, h: HandleId, cb: Option<CloseCb>) {
        let Some(handle) = self.handles.get(h) else { return };
        if handle.closing {
            return;
        }
        // Each kind stops in its own way; the match names every kind so a new
        // one cannot be forgotten here.
        match &handle.kind {
            Kind::Timer(_) => self.timer_stop(timer::TimerId(h)),
            Kind::Io(_) => self.watch_unregister(h),
            Kind::Idle(_) | Kind::Prepare(_) | Kind::Check(_) => self.phase_stop(PhaseId(h)),
            Kind::Async(_) => self.async_on_close(h),
            Kind::Signal(_) => self.signal_on_close(h),
            Kind::Stream(_) => self.stream_on_close(h),
            Kind::Process(_) => self.process_on_close(h),
        }
        self.handles.set_active(h, false);
        if let Some(handle) = self.handles.get_mut(h) {
            handle.closing = true;
        }
        self.closing.push((h, cb));
    }

    /// Queues `f` for the next pending phase.
    pub(crate) fn defer(&mut self, f: Deferred) {
        self.pending.push_back(f);
    }

    /// The name the lag monitor reports for `h`.
    pub(crate) fn handle_name(&self, h: HandleId) -> String {
        match self.handles.get(h) {
            Some(x) => x.name.clone().unwrap_or_else(|| format!("{}#{}", x.kind.name(), h.index)),
            None => format!("closed#{}", h.index),
        }
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        self.pool_shutdown();
        self.signal_shutdown();
    }
}
