//! A worker: its shared state, the accept loop, and the main future that
//! obeys the master (drain, stop, reopen logs) and returns when every
//! connection is done.

use crate::cache::Cache;
use crate::config::HttpConfig;
use crate::conn;
use crate::log::{AccessLog, Clock};
use spindle_cluster::{Incoming, Phase, Stats, WorkerCtx};
use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::os::fd::AsRawFd;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

/// State shared by a worker's tasks (all on one thread).
pub(crate) struct Worker {
    pub cfg: HttpConfig,
    pub stats: Stats,
    pub cache: RefCell<Cache>,
    pub clock: RefCell<Clock>,
    /// The directory listings being sent; `None` when `autoindex` is off.
    pub listings: Option<crate::autoindex::Listings>,
    /// `gzip`'s compressors; `None` when it is off.
    pub gzip: Option<Rc<crate::compress::Pool>>,
    /// Whether requests' `Accept-Encoding` and `Via` are read (`gzip` or
    /// `gzip_static` on).
    pub reads_encoding: bool,
    /// `Expires` and `Cache-Control` lines; `None` when `expires` is off.
    pub expires: Option<RefCell<crate::expires::Lines>>,
    pub log: RefCell<Option<AccessLog>>,
    /// When a graceful stop began.
    pub drain_started: Cell<Option<spindle_rt::time::Instant>>,
    /// A fast stop: every connection ends at its next wake-up.
    pub stopping: Cell<bool>,
    /// The waker of each live connection's current wait, so that a drain
    /// or a stop reaches connections asleep on a read.
    wakers: RefCell<Vec<Option<Waker>>>,
    /// Each live connection's keep-alive state (by slot, as `wakers`).
    idle: RefCell<Vec<Idle>>,
    /// When the worker last said it was reusing connections.
    last_reuse_log: Cell<Option<Instant>>,
    free: RefCell<Vec<usize>>,
    live: Cell<usize>,
    accepting: Cell<bool>,
    main: RefCell<Option<Waker>>,
    last_shed: Cell<Option<Instant>>,
}

/// A connection's standing for [`Worker::reclaim_idle`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Idle {
    /// Reading or answering a request, or waiting for its first one.
    Busy,
    /// Served a request and waits for the next one, since then.
    Since(Instant),
    /// Chosen to close, to make room: it ends at its next wake-up.
    Reclaimed,
}

/// Most idle connections closed at once to make room (nginx's
/// `ngx_drain_connections`: an eighth of the reusable ones, at least 1,
/// at most 32).
const RECLAIM_MAX: usize = 32;

impl Worker {
    /// How long an idle keep-alive connection may stay once draining:
    /// long enough for a request already on the wire to arrive.
    pub fn drain_grace(&self) -> Duration {
        self.cfg.timeouts.keepalive.min(Duration::from_secs(1))
    }

    /// A new connection's slot.
    pub fn enter(&self) -> usize {
        self.live.set(self.live.get() + 1);
        let idx = match self.free.borrow_mut().pop() {
            Some(i) => i,
            None => {
                let mut w = self.wakers.borrow_mut();
                w.push(None);
                self.idle.borrow_mut().push(Idle::Busy);
                w.len() - 1
            }
        };
        self.idle.borrow_mut()[idx] = Idle::Busy;
        self.reclaim_idle();
        idx
    }

    /// Connection `idx` now waits for its next request (`true`), or is
    /// busy again (`false`). A connection that goes idle in a full worker
    /// makes the worker reclaim (it may be the one chosen).
    pub fn set_idle(&self, idx: usize, idle: bool) {
        {
            let mut marks = self.idle.borrow_mut();
            // A reclaimed connection that got a request instead of its
            // close (the client sent one just then) serves it, and is an
            // ordinary connection again: it no longer counts as a place
            // about to be freed.
            marks[idx] = match (marks[idx], idle) {
                (Idle::Reclaimed, true) => Idle::Reclaimed,
                (Idle::Since(t), true) => Idle::Since(t),
                (_, true) => Idle::Since(Instant::now()),
                (_, false) => Idle::Busy,
            };
        }
        if idle {
            self.reclaim_idle();
        }
    }

    /// Whether connection `idx` was chosen to close to make room.
    pub fn is_reclaimed(&self, idx: usize) -> bool {
        self.idle.borrow()[idx] == Idle::Reclaimed
    }

    /// At `worker_connections`: closes the longest-idle keep-alive
    /// connections (an eighth of them, 1 to 32) so that the worker takes
    /// new clients again, as nginx does. Without it a worker full of idle
    /// keep-alive connections stopped accepting, and a new client waited
    /// in the kernel's queue until a keep-alive timeout (75 s) freed a
    /// place. Only connections that have served a request and wait for
    /// another are chosen, never one waiting for its first request (its
    /// client is sending it), and they end cleanly, as at their
    /// keep-alive timeout.
    fn reclaim_idle(&self) {
        if self.live.get() < self.cfg.worker_connections {
            return;
        }
        let mut marks = self.idle.borrow_mut();
        // Those chosen already still count until their task has run:
        // choosing more for them would close one too many each time.
        let pending = marks.iter().filter(|m| **m == Idle::Reclaimed).count();
        if self.live.get() - pending.min(self.live.get()) < self.cfg.worker_connections {
            return;
        }
        let mut idle: Vec<(Instant, usize)> = marks
            .iter()
            .enumerate()
            .filter_map(|(i, m)| match m {
                Idle::Since(t) => Some((*t, i)),
                _ => None,
            })
            .collect();
        if idle.is_empty() {
            return;
        }
        let n = (idle.len() / 8).clamp(1, RECLAIM_MAX);
        if n < idle.len() {
            idle.select_nth_unstable(n - 1);
        }
        let wakers = self.wakers.borrow();
        for &(_, i) in &idle[..n] {
            marks[i] = Idle::Reclaimed;
            if let Some(w) = &wakers[i] {
                w.wake_by_ref();
            }
        }
        let now = Instant::now();
        if self.last_reuse_log.get().is_none_or(|t| now - t >= Duration::from_secs(1)) {
            self.last_reuse_log.set(Some(now));
            tracing::warn!(
                "{} worker_connections are not enough, reusing connections",
                self.cfg.worker_connections
            );
        }
    }

    /// A connection is done.
    pub fn leave(&self, idx: usize) {
        self.wakers.borrow_mut()[idx] = None;
        self.idle.borrow_mut()[idx] = Idle::Busy;
        self.free.borrow_mut().push(idx);
        self.live.set(self.live.get() - 1);
        if self.live.get() == 0 {
            self.wake_main();
        }
    }

    /// Records the waker of connection `idx`'s current wait.
    pub fn set_waker(&self, idx: usize, waker: &Waker) {
        let mut w = self.wakers.borrow_mut();
        match &w[idx] {
            Some(old) if old.will_wake(waker) => {}
            _ => w[idx] = Some(waker.clone()),
        }
    }

    fn wake_all(&self) {
        let wakers: Vec<Waker> = self.wakers.borrow().iter().flatten().cloned().collect();
        for w in wakers {
            w.wake();
        }
    }

    fn wake_main(&self) {
        if let Some(w) = self.main.borrow_mut().take() {
            w.wake();
        }
    }
}

fn is_fd_exhaustion(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE) | Some(libc::ENFILE) | Some(libc::ENOBUFS) | Some(libc::ENOMEM)
    )
}

async fn accept_loop(w: Rc<Worker>, mut incoming: Incoming) {
    while let Some(got) = incoming.accept().await {
        match got {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                if w.cfg.notsent_lowat > 0 {
                    let _ = crate::sys::set_notsent_lowat(stream.as_raw_fd(), w.cfg.notsent_lowat);
                }
                spindle_rt::spawn_local(conn::serve(w.clone(), stream, peer));
            }
            Err(e) if is_fd_exhaustion(&e) => {
                // Out of descriptors: the connection stays in the backlog
                // (Incoming pauses accepting); log at most once a second.
                let now = Instant::now();
                if w.last_shed.get().is_none_or(|t| now - t >= Duration::from_secs(1)) {
                    w.last_shed.set(Some(now));
                    tracing::warn!(error = %e, "accept failed: shedding connections");
                }
            }
            Err(e) => tracing::debug!(error = %e, "accept failed"),
        }
    }
    w.accepting.set(false);
    w.wake_main();
}

/// The worker's main future (see [`HttpApp`](crate::HttpApp)).
pub(crate) async fn run(cfg: HttpConfig, mut ctx: WorkerCtx) {
    // The file the master opened for it, as root, if any (so that its
    // folder need not be reachable by the worker user, as with nginx);
    // by name otherwise (standalone).
    let inherited = cfg.access_log.as_deref().and_then(|p| ctx.take_log_file(p));
    let WorkerCtx { incoming, control, stats, .. } = ctx;
    let log = cfg.access_log.clone().and_then(|p| {
        match inherited.map_or_else(|| AccessLog::open(p.clone()), |f| Ok(AccessLog::with_file(p.clone(), f)))
        {
            Ok(l) => Some(l),
            Err(e) => {
                tracing::error!(path = %p.display(), error = %e, "cannot open the access log; logging off");
                None
            }
        }
    });
    let w = Rc::new(Worker {
        cache: RefCell::new(
            Cache::new(
                cfg.cache.entries,
                cfg.cache.small_file,
                cfg.cache.inactive,
                cfg.limits.max_ranges > 0,
            )
            .with_racy_window(cfg.cache.racy_window)
            .with_vary(cfg.gzip_static != crate::config::GzipStatic::Off)
            .with_gzip(cfg.gzip.clone()),
        ),
        listings: cfg.autoindex.as_ref().map(|a| crate::autoindex::Listings::new(a.max_memory)),
        gzip: cfg.gzip.as_ref().map(|g| crate::compress::Pool::new(g.comp_level)),
        reads_encoding: cfg.gzip.is_some() || cfg.gzip_static != crate::config::GzipStatic::Off,
        clock: RefCell::new(Clock::new(log.is_some())),
        expires: crate::expires::Lines::new(cfg.expires).map(RefCell::new),
        log: RefCell::new(log),
        cfg,
        stats,
        drain_started: Cell::new(None),
        stopping: Cell::new(false),
        wakers: RefCell::new(Vec::new()),
        idle: RefCell::new(Vec::new()),
        last_reuse_log: Cell::new(None),
        free: RefCell::new(Vec::new()),
        live: Cell::new(0),
        accepting: Cell::new(true),
        main: RefCell::new(None),
        last_shed: Cell::new(None),
    });
    spindle_rt::spawn_local(accept_loop(w.clone(), incoming));
    let mut reopens = control.reopens();
    let mut tick = spindle_rt::time::interval(Duration::from_secs(1));
    loop {
        // Created before the checks, so an order given between the checks
        // and the wait is not missed.
        let mut changed = pin!(control.changed());
        match control.phase() {
            Phase::Running => {}
            Phase::Draining => {
                if w.drain_started.get().is_none() {
                    w.drain_started.set(Some(spindle_rt::time::Instant::now()));
                    w.wake_all();
                }
            }
            Phase::Stopping => {
                if !w.stopping.get() {
                    w.stopping.set(true);
                    w.wake_all();
                }
            }
        }
        if control.reopens() != reopens {
            reopens = control.reopens();
            if let Some(l) = &mut *w.log.borrow_mut() {
                // The file the master opened for us, if it handed one
                // over (its folder may be closed to the worker user); by
                // name otherwise.
                match control.take_log_file(l.path()) {
                    Some(f) => l.reopen_with(f),
                    None => l.reopen(),
                }
            }
        }
        if control.phase() != Phase::Running && !w.accepting.get() && w.live.get() == 0 {
            break;
        }
        let mut tick_fut = pin!(tick.tick());
        poll_fn(|cx| {
            if changed.as_mut().poll(cx).is_ready() || tick_fut.as_mut().poll(cx).is_ready() {
                return Poll::Ready(());
            }
            if control.phase() != Phase::Running && !w.accepting.get() && w.live.get() == 0 {
                return Poll::Ready(());
            }
            *w.main.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        })
        .await;
        if let Some(l) = &mut *w.log.borrow_mut() {
            l.flush();
        }
        // Close the files nobody asked for in `cache.inactive`.
        let now = {
            let mut clock = w.clock.borrow_mut();
            clock.refresh();
            clock.secs()
        };
        w.cache.borrow_mut().expire(now);
    }
    let mut log = w.log.borrow_mut();
    if let Some(l) = &mut *log {
        l.flush();
    }
}
