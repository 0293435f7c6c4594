//! What a worker's application sees: its connections ([`Incoming`]), the
//! master's orders ([`Control`]) and the shared counters ([`Stats`]).

use crate::accept::Source;
use crate::stats::{Counter, Stats};
use spindle_rt::net::{TcpListener, TcpStream};
use spindle_rt::sync::Notify;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

/// Where a worker is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Accepting and serving.
    Running,
    /// Graceful stop (nginx's `QUIT`, or the old generation after a
    /// reload): accept nothing more, finish requests in flight, close
    /// keep-alive connections as they fall idle, then return.
    Draining,
    /// Fast stop (`TERM`/`INT`, or the shutdown timeout passed): drop
    /// every connection and return now.
    Stopping,
}

impl Phase {
    fn from_u8(v: u8) -> Phase {
        match v {
            0 => Phase::Running,
            1 => Phase::Draining,
            _ => Phase::Stopping,
        }
    }
}

#[derive(Debug)]
struct ControlState {
    phase: AtomicU8,
    reopens: AtomicU64,
    /// Log files the master handed over for the next reopen.
    log_files: std::sync::Mutex<Vec<(std::path::PathBuf, std::fs::File)>>,
    generation: AtomicU64,
    changed: Notify,
}

/// The worker's view of the master's orders. Cheap to clone; every
/// connection task may hold one.
///
/// Wait for an order with [`changed`](Control::changed), then read
/// [`phase`](Control::phase) and [`reopens`](Control::reopens).
#[derive(Clone, Debug)]
pub struct Control {
    state: Arc<ControlState>,
}

impl Control {
    /// The current phase.
    pub fn phase(&self) -> Phase {
        Phase::from_u8(self.state.phase.load(Ordering::Acquire))
    }

    /// How many times the master asked to reopen log files (`USR1`); a
    /// logger reopens when this moves.
    pub fn reopens(&self) -> u64 {
        self.state.reopens.load(Ordering::Acquire)
    }

    /// Takes the file the master opened for `path` at the last reopen
    /// order, if it handed one over: a logger that reopens when
    /// [`reopens`](Control::reopens) moves writes to it rather than open
    /// the path itself, which its user may not be allowed to (see
    /// [`ErrorLog`](crate::ErrorLog)). `None`: open it by name.
    pub fn take_log_file(&self, path: &std::path::Path) -> Option<std::fs::File> {
        let mut files = self.state.log_files.lock().unwrap_or_else(|p| p.into_inner());
        let i = files.iter().position(|(p, _)| p == path)?;
        Some(files.swap_remove(i).1)
    }

    /// The configuration generation this worker runs: 1 for the workers
    /// started with the master, one more for each successful reload
    /// (`SIGHUP`). 0 standalone.
    pub fn generation(&self) -> u64 {
        self.state.generation.load(Ordering::Acquire)
    }

    /// Completes at the next order (phase change or reopen) given after
    /// this call. To act on a phase without missing an order that comes
    /// between the check and the wait, use [`reached`](Control::reached).
    pub async fn changed(&self) {
        self.state.changed.notified().await;
    }

    /// Completes once the phase is at least `phase`.
    pub async fn reached(&self, phase: Phase) {
        loop {
            let next = self.state.changed.notified();
            if self.phase() >= phase {
                return;
            }
            next.await;
        }
    }
}

/// The sending side of [`Control`]: the worker's channel to the master
/// holds one, as do tests. `Send + Sync`.
#[derive(Clone, Debug)]
pub struct ControlHandle {
    state: Arc<ControlState>,
}

impl ControlHandle {
    /// A fresh pair in [`Phase::Running`].
    pub fn new() -> (ControlHandle, Control) {
        let state = Arc::new(ControlState {
            phase: AtomicU8::new(0),
            reopens: AtomicU64::new(0),
            log_files: std::sync::Mutex::new(Vec::new()),
            generation: AtomicU64::new(0),
            changed: Notify::new(),
        });
        (ControlHandle { state: state.clone() }, Control { state })
    }

    /// Begins a graceful stop (never moves a stopping worker back).
    pub fn drain(&self) {
        self.advance(Phase::Draining);
    }

    /// Begins a fast stop.
    pub fn stop(&self) {
        self.advance(Phase::Stopping);
    }

    /// Asks the application to reopen its log files.
    pub fn reopen(&self) {
        self.state.reopens.fetch_add(1, Ordering::AcqRel);
        self.state.changed.notify_waiters();
    }

    /// Hands over `file`, opened for `path`, for the next reopen (see
    /// [`Control::take_log_file`]); replaces one given before.
    pub(crate) fn give_log_file(&self, path: std::path::PathBuf, file: std::fs::File) {
        let mut files = self.state.log_files.lock().unwrap_or_else(|p| p.into_inner());
        files.retain(|(p, _)| *p != path);
        files.push((path, file));
    }

    pub(crate) fn set_generation(&self, generation: u64) {
        self.state.generation.store(generation, Ordering::Release);
    }

    fn advance(&self, to: Phase) {
        self.state.phase.fetch_max(to as u8, Ordering::AcqRel);
        self.state.changed.notify_waiters();
    }
}

/// A worker's stream of connections. [`accept`](Incoming::accept) returns
/// `None` once the worker is told to stop: a draining worker takes no new
/// connections (the listener stays open in the other workers, or in the
/// next generation, so nothing queued in the kernel is lost).
#[derive(Debug)]
pub struct Incoming {
    source: Option<Source>,
    control: Control,
    stats: Stats,
}

impl Incoming {
    /// The next connection, or `None` once the phase is past `Running`
    /// (with [`AcceptStrategy::Master`](crate::AcceptStrategy::Master), once
    /// the connections the master handed over before the drain are
    /// taken too: see [`accept`](crate::accept)).
    ///
    /// With [`ClusterConfig::worker_connections`](crate::ClusterConfig::worker_connections)
    /// connections handed out and not yet closed (the application takes
    /// [`Counter::Active`] back when it is done with one), it waits for
    /// one to close before accepting (see [`accept`](crate::accept)).
    ///
    /// Errors of one `accept` (`EMFILE`, a connection reset while queued)
    /// are the caller's to log; the next call tries again (after
    /// `EMFILE`/`ENFILE`, once [`EMFILE_PAUSE`](crate::accept::EMFILE_PAUSE)
    /// has passed: see [`accept`](crate::accept) for why).
    ///
    /// # Errors
    /// The system's `accept` error.
    pub async fn accept(&mut self) -> Option<io::Result<(TcpStream, SocketAddr)>> {
        let got = match self.control.phase() {
            Phase::Running => {
                let stop = self.control.reached(Phase::Draining);
                let source = self.source.as_mut()?;
                let next = source.next(&self.stats);
                match select2(next, stop).await {
                    Some(got) => Some(got),
                    None => self.handed_before_drain(),
                }
            }
            Phase::Draining => self.handed_before_drain(),
            _ => None,
        };
        match got {
            Some(Ok(conn)) => {
                self.stats.add(Counter::Accepts, 1);
                self.stats.add(Counter::Handled, 1);
                Some(Ok(conn))
            }
            Some(Err(e)) => Some(Err(e)),
            None => {
                self.source = None;
                None
            }
        }
    }

    /// While draining: a connection still queued from the master, if any.
    fn handed_before_drain(&mut self) -> Option<io::Result<(TcpStream, SocketAddr)>> {
        self.source.as_mut()?.next_queued(&self.stats)
    }
}

/// Polls `a` and `b` together: `Some(a's output)`, or `None` if `b`
/// finished first.
pub(crate) async fn select2<A: std::future::Future, B: std::future::Future>(a: A, b: B) -> Option<A::Output> {
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    std::future::poll_fn(|cx| {
        if let std::task::Poll::Ready(v) = a.as_mut().poll(cx) {
            return std::task::Poll::Ready(Some(v));
        }
        if b.as_mut().poll(cx).is_ready() {
            return std::task::Poll::Ready(None);
        }
        std::task::Poll::Pending
    })
    .await
}

/// Everything a worker's application gets from the cluster.
#[derive(Debug)]
pub struct WorkerCtx {
    /// The worker's connections.
    pub incoming: Incoming,
    /// The master's orders.
    pub control: Control,
    /// Counters shared with every worker.
    pub stats: Stats,
    /// This worker's number, `0..workers`.
    pub id: usize,
    /// The application's log files
    /// ([`ClusterConfig::log_files`](crate::ClusterConfig::log_files)),
    /// each with its path, as the master opened them (appending, as root,
    /// given to the worker user) before the fork: the worker writes them
    /// without opening them by name, so their folders need not be
    /// reachable by an unprivileged worker user, as nginx's workers
    /// inherit theirs. Reopening after a rotation (`USR1`) is by name.
    /// Empty in [`standalone`](Self::standalone).
    pub log_files: Vec<(std::path::PathBuf, std::fs::File)>,
}

impl WorkerCtx {
    /// A context for one process with no master: connections come from
    /// `listener`, orders from the returned handle, counters from the
    /// heap. Call inside a spindle-rt runtime.
    ///
    /// ```
    /// use spindle_cluster::{Phase, WorkerCtx};
    /// use spindle_rt::net::TcpListener;
    ///
    /// let rt = spindle_rt::Builder::new_current_thread().build()?;
    /// rt.block_on(async {
    ///     let (mut ctx, handle) = WorkerCtx::standalone(TcpListener::bind("127.0.0.1:0").await?);
    ///     handle.drain();
    ///     assert_eq!(ctx.control.phase(), Phase::Draining);
    ///     assert!(ctx.incoming.accept().await.is_none());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Panics
    /// If the listener cannot be duplicated or registered again (out of
    /// descriptors), or outside a spindle-rt runtime.
    pub fn standalone(listener: TcpListener) -> (WorkerCtx, ControlHandle) {
        let (handle, control) = ControlHandle::new();
        let stats = Stats::standalone();
        let source = Source::listeners(vec![listener.into_std().expect("into_std cannot fail")], false)
            .expect("re-registering a listener with the runtime it came from");
        (WorkerCtx::new(source, control, stats, 0), handle)
    }

    pub(crate) fn new(source: Source, control: Control, stats: Stats, id: usize) -> WorkerCtx {
        let incoming = Incoming { source: Some(source), control: control.clone(), stats: stats.clone() };
        WorkerCtx { incoming, control, stats, id, log_files: Vec::new() }
    }

    /// Takes the inherited log file opened for `path` (see
    /// [`log_files`](Self::log_files)), if there is one.
    pub fn take_log_file(&mut self, path: &std::path::Path) -> Option<std::fs::File> {
        let i = self.log_files.iter().position(|(p, _)| p == path)?;
        Some(self.log_files.swap_remove(i).1)
    }
}
