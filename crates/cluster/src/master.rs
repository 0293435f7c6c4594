//! The master process: a spindle-loop [`Loop`] that owns the listeners,
//! forks the workers, reaps and respawns them, and turns signals into
//! orders on the workers' channels, as nginx's master does.
//!
//! | signal      | master does                                                   |
//! |-------------|---------------------------------------------------------------|
//! | `HUP`       | [`App::load`] again; on success bind new addresses, start a new generation, drain the old one; on error log it and keep the old workers |
//! | `QUIT`      | drain every worker, exit once all are gone                    |
//! | `TERM`/`INT`| stop every worker fast, exit once all are gone                |
//! | `USR1`      | create the log files and give them to the worker user, reopen its own error log, tell every worker to reopen its logs |
//! | `USR2`      | binary upgrade: rename the pid file to `.oldbin`, start the executable found at this master's start path (the new one once installed there) with the listeners inherited (refused while an upgrade is under way, in the old master or the new) |
//! | `CHLD`      | reap; respawn a worker that died unexpectedly, with back-off  |

use crate::app::{App, Loaded};
use crate::child::{self, Spawn};
use crate::config::{AcceptStrategy, ClusterConfig};
use crate::errlog::{self, ErrorLog};
use crate::listen::{Listeners, INHERIT_ENV};
use crate::stats::{Counter, Slot};
use crate::worker::Phase;
use crate::{channel, sys, user, ClusterError};
use spindle_loop::{IoId, Loop, RunMode};
use spindle_poll::Interest;
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// Stats slots in the shared mapping: enough for two generations of
/// [`MAX_WORKERS`](crate::config::MAX_WORKERS) during a reload (96 bytes
/// each). The last is the master's.
pub const STATS_SLOTS: usize = 1024;
/// The slot the master counts its own accept wake-ups in
/// ([`AcceptStrategy::Master`]).
pub const MASTER_SLOT: usize = STATS_SLOTS - 1;
/// A worker that ran at least this long before dying is respawned at once.
const STABLE: Duration = Duration::from_secs(1);
const FIRST_DELAY: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_secs(10);
/// How long a worker told to stop may take before `SIGKILL`.
const KILL_GRACE: Duration = Duration::from_secs(3);

#[derive(Debug)]
struct Worker {
    pid: libc::pid_t,
    id: usize,
    generation: u64,
    slot: usize,
    chan: UnixStream,
    phase: Phase,
    started: Instant,
    /// Connections the master has sent it (the `master` strategy).
    handed: i64,
    /// Its slot's [`Counter::Closed`] when it started: the slot's count
    /// goes on across the workers that use it.
    closed_base: i64,
}

impl Worker {
    /// Its connections by the master's reckoning: those sent to it that
    /// it is not done with, whether it serves them or they still wait in
    /// its queue for room. Its Active gauge would lag: a connection is in
    /// it only once the worker has adopted it and its task has run, so a
    /// burst handed out in one batch would all look like room.
    fn load(&self, slot: &Slot) -> i64 {
        self.handed - (slot.get(Counter::Closed) - self.closed_base)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Running,
    Quitting,
    Terminating,
}

struct Master<A: App> {
    app: A,
    loaded: Loaded<A::Config>,
    generation: u64,
    listeners: Listeners,
    workers: Vec<Worker>,
    slots: &'static [Slot],
    used: Vec<bool>,
    lock: &'static AtomicI32,
    backoff: HashMap<usize, Duration>,
    state: State,
    rr: usize,
    accepting: Vec<IoId>,
    new_binary: Option<libc::pid_t>,
    /// Workers of the current generation that found no free stats slot:
    /// started as soon as an exiting worker gives one back.
    starved: Vec<usize>,
    pid_file: Option<PathBuf>,
    /// The application's log files as last prepared (at start, reload,
    /// `USR1`), open: each worker forked inherits them.
    log_files: Vec<(PathBuf, std::fs::File)>,
    oldbin: bool,
    /// Started by a binary upgrade: the old master's pid (our parent, as
    /// long as it runs).
    upgraded_from: Option<libc::pid_t>,
    /// The executable's path at start: what `USR2` runs, the new binary
    /// once installed there.
    exe: std::io::Result<PathBuf>,
}

type Shared<A> = Rc<RefCell<Master<A>>>;

/// Runs the master: loads the configuration, binds (or, after a binary
/// upgrade, inherits) the listeners, forks the workers and serves signals
/// until `QUIT`, `TERM` or `INT` and the last worker's exit.
///
/// **Call it while the process has a single thread** (first thing in
/// `main`, before anything spawns threads): it forks, and a forked child
/// gets a copy of the calling thread alone, so a lock held by another
/// thread at that moment (the allocator's, a logger's) would stay locked
/// in every worker forever. Signals are read from a `signalfd`, so they
/// must also be blocked in every thread, which only holds if there is one.
///
/// ```no_run
/// use spindle_cluster::demo::Demo;
///
/// spindle_cluster::run(Demo::from_args(["--listen", "127.0.0.1:8080"])?)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// A configuration error at start-up, a listener that cannot be bound,
/// or a failure of the master's loop.
pub fn run<A: App>(app: A) -> Result<(), ClusterError> {
    let mut loaded = app.load().map_err(ClusterError::Config)?;
    user::warn_if_ignored(loaded.cluster.user.as_ref());
    let default_user = user::apply_default(&mut loaded.cluster).map_err(ClusterError::Config)?;
    let log_files = prepare_logs(&loaded.cluster);
    ErrorLog::set(loaded.cluster.error_log.as_deref())
        .map_err(|error| ClusterError::Io { what: "opening the error log", error })?;
    // Once, at start, where the rest of the log goes.
    if let Some(u) = &default_user {
        user::announce_default(u);
    }
    user::warn_unreachable(&loaded.cluster);
    let result = serve(app, loaded, log_files);
    // The caller prints the error on standard error; with an error log
    // file it goes there too, as nginx writes its `[emerg]` lines to both,
    // so that whoever reads only the log learns why the server stopped.
    if let (Err(e), Some(_)) = (&result, ErrorLog::path()) {
        tracing::error!("{e}");
    }
    result
}

/// [`run`] once the error log is open: binds, starts the workers, and
/// runs the master's loop until it stops.
fn serve<A: App>(
    app: A,
    loaded: Loaded<A::Config>,
    log_files: Vec<(PathBuf, std::fs::File)>,
) -> Result<(), ClusterError> {
    let upgraded_from = std::env::var_os(INHERIT_ENV).map(|_| sys::getppid());
    let mut listeners = Listeners::inherited()?;
    listeners.ensure(&loaded.cluster)?;
    let io = |what: &'static str| move |error| ClusterError::Io { what, error };
    let slots = sys::shared_array::<Slot>(STATS_SLOTS).map_err(io("mapping the stats slots"))?;
    let lock = &sys::shared_array::<AtomicI32>(1).map_err(io("mapping the accept mutex"))?[0];
    let pid_file = loaded.cluster.pid_file.clone();
    if let Some(p) = &pid_file {
        std::fs::write(p, format!("{}\n", sys::getpid())).map_err(io("writing the pid file"))?;
    }
    app.on_listening(&listeners.local_addrs(&loaded.cluster));
    let mut lp = Loop::new().map_err(io("creating the master's loop"))?;
    let m: Shared<A> = Rc::new(RefCell::new(Master {
        app,
        loaded,
        generation: 1,
        listeners,
        workers: Vec::new(),
        slots,
        used: vec![false; MASTER_SLOT],
        lock,
        backoff: HashMap::new(),
        state: State::Running,
        rr: 0,
        accepting: Vec::new(),
        new_binary: None,
        starved: Vec::new(),
        pid_file,
        log_files,
        oldbin: false,
        upgraded_from,
        exe: std::env::current_exe(),
    }));
    for sig in [
        libc::SIGCHLD,
        libc::SIGHUP,
        libc::SIGQUIT,
        libc::SIGTERM,
        libc::SIGINT,
        libc::SIGUSR1,
        libc::SIGUSR2,
    ] {
        let m = m.clone();
        lp.signal_start(sig, move |lp, _, signum| on_signal(&m, lp, signum))
            .map_err(io("watching signals"))?;
    }
    start_generation(&m, &mut lp);
    tracing::info!(pid = sys::getpid(), "master started");
    lp.run(RunMode::Default).map_err(io("running the master's loop"))?;
    let m = m.borrow();
    if let Some(p) = &m.pid_file {
        let _ = std::fs::remove_file(if m.oldbin { oldbin_path(p) } else { p.clone() });
    }
    tracing::info!("master exiting");
    Ok(())
}

fn oldbin_path(p: &std::path::Path) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".oldbin");
    PathBuf::from(s)
}

fn on_signal<A: App>(m: &Shared<A>, lp: &mut Loop, signum: i32) {
    match signum {
        libc::SIGCHLD => reap(m, lp),
        libc::SIGHUP => reload(m, lp),
        libc::SIGQUIT => shut_down(m, lp, State::Quitting),
        libc::SIGTERM | libc::SIGINT => shut_down(m, lp, State::Terminating),
        libc::SIGUSR1 => reopen_logs(m),
        libc::SIGUSR2 => upgrade(m),
        _ => {}
    }
}

/// Creates the log files the workers will open and gives them to the
/// worker user, when there is one in effect (see [`errlog`]). Returns the
/// application's log files, open, for the workers to inherit.
fn prepare_logs(cluster: &ClusterConfig) -> Vec<(PathBuf, std::fs::File)> {
    let u = user::in_effect(cluster.user.as_ref());
    if u.is_some() {
        errlog::prepare(&cluster.error_log.iter().map(PathBuf::as_path).collect::<Vec<_>>(), u);
    }
    errlog::prepare(&cluster.log_files.iter().map(PathBuf::as_path).collect::<Vec<_>>(), u)
}

/// `SIGUSR1`: prepare the files as root, reopen the master's error log,
/// then tell the workers, in that order (see [`errlog`]).
fn reopen_logs<A: App>(m: &Shared<A>) {
    let mut ms = m.borrow_mut();
    ms.log_files = prepare_logs(&ms.loaded.cluster);
    if let Err(e) = ErrorLog::reopen() {
        tracing::error!(error = %e, "cannot reopen the error log; still writing to the old file");
    }
    tracing::info!("reopening logs");
    let ms = &*ms;
    let error_log = ErrorLog::file();
    for w in &ms.workers {
        // The files just opened, to the workers of this configuration
        // (an older generation may have other paths: it reopens by name).
        if w.generation == ms.generation {
            hand_over_logs(ms, w, error_log.as_deref());
        }
        let _ = channel::send(&w.chan, channel::REOPEN);
    }
}

/// Sends worker `w` the log files the master has just opened (see
/// [`errlog`]): the error log and each of the application's. One that
/// cannot be sent is reopened by name.
fn hand_over_logs<A: App>(ms: &Master<A>, w: &Worker, error_log: Option<&std::fs::File>) {
    let mut failed = None;
    if let Some(f) = error_log {
        failed = channel::send_fd(&w.chan, channel::ERROR_LOG, f).err();
    }
    for (path, f) in &ms.log_files {
        let index = ms.loaded.cluster.log_files.iter().position(|p| p == path);
        if let Some(i) = index.filter(|&i| i < channel::MAX_LOG_FILES) {
            failed = failed.or(channel::send_fd(&w.chan, channel::LOG_FILE + i as u8, f).err());
        }
    }
    if let Some(e) = failed {
        tracing::warn!(pid = w.pid, error = %e, "cannot hand the reopened logs to a worker; it reopens them by name");
    }
}

/// Starts every worker of the current generation and, for the master
/// strategy, the master's own accepting.
fn start_generation<A: App>(m: &Shared<A>, lp: &mut Loop) {
    raise_nofile(&m.borrow().loaded.cluster);
    // Those of an older generation are not wanted any more.
    m.borrow_mut().starved.clear();
    let n = m.borrow().loaded.cluster.workers.max(1);
    for id in 0..n {
        spawn(m, lp, id);
    }
    restart_accepting(m, lp);
}

/// Forks worker `id` of the current generation.
fn spawn<A: App>(m: &Shared<A>, lp: &mut Loop, id: usize) {
    let mut guard = m.borrow_mut();
    let ms = &mut *guard;
    if ms.state != State::Running {
        return;
    }
    let usable = ms.loaded.cluster.worker_slots.min(ms.used.len());
    let Some(slot) = ms.used[..usable].iter().position(|u| !u) else {
        // Every slot is held, by workers of older generations still
        // draining: this one starts when one of them exits (see `reap`),
        // rather than never, which left a reload's generation short of
        // workers for good.
        tracing::warn!(worker = id, "no free stats slot; the worker starts when a draining one exits");
        if !ms.starved.contains(&id) {
            ms.starved.push(id);
        }
        return;
    };
    let (ours, theirs) = match UnixStream::pair() {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(worker = id, error = %e, "socketpair failed");
            drop(guard);
            schedule_respawn(m, lp, id, Instant::now());
            return;
        }
    };
    let _ = std::io::stdout().flush();
    match sys::fork() {
        Ok(None) => {
            let spawn = Spawn {
                cluster: &ms.loaded.cluster,
                chan: &theirs,
                listeners: ms.listeners.for_worker(&ms.loaded.cluster, id),
                log_files: &ms.log_files,
                lock: ms.lock,
                slots: ms.slots,
                slot,
                id,
                generation: ms.generation,
            };
            child::worker_main(&ms.app, ms.loaded.app.clone(), spawn)
        }
        Ok(Some(pid)) => {
            drop(theirs);
            ms.used[slot] = true;
            tracing::info!(pid, worker = id, generation = ms.generation, "worker started");
            ms.workers.push(Worker {
                pid,
                id,
                generation: ms.generation,
                slot,
                chan: ours,
                phase: Phase::Running,
                started: Instant::now(),
                handed: 0,
                closed_base: ms.slots[slot].get(Counter::Closed),
            });
        }
        Err(e) => {
            tracing::error!(worker = id, error = %e, "fork failed");
            drop(guard);
            schedule_respawn(m, lp, id, Instant::now());
        }
    }
}

/// Raises the soft descriptor limit to what the workers need before they
/// are forked (they inherit it), and warns when the hard limit will not
/// allow `worker_connections` (nginx warns at start in the same case).
fn raise_nofile(cluster: &ClusterConfig) {
    let want = cluster.worker_nofile();
    match spindle_poll::limits::raise_nofile(want) {
        Ok(l) if l.soft < cluster.worker_connections as u64 + 64 => tracing::warn!(
            worker_connections = cluster.worker_connections,
            open_files = l.soft,
            hard_limit = l.hard,
            "worker_connections exceed the open file limit; raise `ulimit -Hn` or lower worker_connections"
        ),
        Ok(l) if l.soft < want => {
            tracing::info!(
                wanted = want,
                open_files = l.soft,
                "open file limit raised only to the hard limit"
            )
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, wanted = want, "cannot raise the open file limit"),
    }
}

/// Reaps every exited child; replaces workers that died unexpectedly.
fn reap<A: App>(m: &Shared<A>, lp: &mut Loop) {
    while let Some((pid, status)) = sys::reap() {
        let mut ms = m.borrow_mut();
        if ms.new_binary == Some(pid) {
            tracing::error!(pid, status = %sys::describe_status(status), "the new binary exited; keeping this one");
            ms.new_binary = None;
            if let (Some(p), true) = (ms.pid_file.clone(), ms.oldbin) {
                let _ = std::fs::rename(oldbin_path(&p), &p);
                ms.oldbin = false;
            }
            continue;
        }
        let Some(i) = ms.workers.iter().position(|w| w.pid == pid) else { continue };
        let w = ms.workers.swap_remove(i);
        // nginx's ngx_shmtx_force_unlock: a worker that died holding the
        // accept mutex must not keep it.
        let _ = ms.lock.compare_exchange(pid, 0, Ordering::AcqRel, Ordering::Relaxed);
        ms.slots[w.slot].zero_gauges();
        ms.used[w.slot] = false;
        let status = sys::describe_status(status);
        let unexpected =
            ms.state == State::Running && w.phase == Phase::Running && w.generation == ms.generation;
        if unexpected {
            tracing::warn!(pid, worker = w.id, %status, "worker exited unexpectedly");
            drop(ms);
            schedule_respawn(m, lp, w.id, w.started);
        } else {
            tracing::info!(pid, worker = w.id, generation = w.generation, %status, "worker exited");
        }
    }
    start_starved(m, lp);
    let ms = m.borrow();
    if ms.state != State::Running && ms.workers.is_empty() {
        lp.stop();
    }
}

/// Starts the workers that found no free stats slot, now that exits may
/// have given some back (those that still find none stay waiting).
fn start_starved<A: App>(m: &Shared<A>, lp: &mut Loop) {
    let waiting = std::mem::take(&mut m.borrow_mut().starved);
    if waiting.is_empty() {
        return;
    }
    for id in waiting {
        spawn(m, lp, id);
    }
    restart_accepting(m, lp);
}

/// Respawns worker `id`, at once if the dead one lived long enough,
/// otherwise after a delay that doubles with each quick death.
fn schedule_respawn<A: App>(m: &Shared<A>, lp: &mut Loop, id: usize, started: Instant) {
    let (delay, generation) = {
        let mut ms = m.borrow_mut();
        let prev = ms.backoff.get(&id).copied().unwrap_or_default();
        let delay = if started.elapsed() >= STABLE {
            Duration::ZERO
        } else if prev.is_zero() {
            FIRST_DELAY
        } else {
            (prev * 2).min(MAX_DELAY)
        };
        ms.backoff.insert(id, delay);
        (delay, ms.generation)
    };
    if delay.is_zero() {
        tracing::info!(worker = id, "respawning worker");
        spawn(m, lp, id);
        restart_accepting(m, lp);
        return;
    }
    tracing::warn!(
        worker = id,
        delay_ms = delay.as_millis() as u64,
        "worker died quickly; respawning after a delay"
    );
    let m2 = m.clone();
    let armed = lp.timer_once(delay, move |lp, t| {
        lp.close(t.handle(), None);
        let current = {
            let ms = m2.borrow();
            ms.generation == generation
                && !ms.workers.iter().any(|w| w.generation == generation && w.id == id)
        };
        if current {
            spawn(&m2, lp, id);
            restart_accepting(&m2, lp);
        }
    });
    if let Err(e) = armed {
        tracing::error!(error = %e, "cannot arm the respawn timer");
    }
}

/// `SIGHUP`: reload.
fn reload<A: App>(m: &Shared<A>, lp: &mut Loop) {
    {
        let mut ms = m.borrow_mut();
        if ms.state != State::Running {
            return;
        }
        let loaded = ms.app.load().and_then(|mut l| Ok((user::apply_default(&mut l.cluster)?, l)));
        let (default_user, loaded) = match loaded {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, "reload refused: configuration error; keeping the running workers");
                return;
            }
        };
        user::warn_if_ignored(loaded.cluster.user.as_ref());
        // Nothing changes until every step has succeeded: the new
        // addresses are bound but not adopted (dropped, so closed, on a
        // refusal), and the error log stays where it was.
        let staged = match ms.listeners.bind_missing(&loaded.cluster) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "reload refused; keeping the running workers");
                return;
            }
        };
        let log_files = prepare_logs(&loaded.cluster);
        if let Err(e) = ErrorLog::set(loaded.cluster.error_log.as_deref()) {
            tracing::error!(error = %e, "reload refused: cannot open the error log; keeping the running workers");
            return;
        }
        // Said again when a reload is what brings the default in (the
        // `user` setting removed), not on every reload.
        if let Some(u) = default_user.filter(|u| ms.loaded.cluster.user.as_ref() != Some(u)) {
            user::announce_default(&u);
        }
        user::warn_unreachable(&loaded.cluster);
        ms.listeners.commit(staged, &loaded.cluster);
        tracing::info!(generation = ms.generation + 1, "reloading");
        ms.loaded = loaded;
        ms.log_files = log_files;
        ms.generation += 1;
        ms.backoff.clear();
    }
    // New generation first, then drain the old: someone accepts throughout.
    let old: Vec<libc::pid_t> = m.borrow().workers.iter().map(|w| w.pid).collect();
    start_generation(m, lp);
    for pid in old {
        order(m, lp, pid, Phase::Draining);
    }
}

/// `QUIT` (drain) or `TERM`/`INT` (stop).
fn shut_down<A: App>(m: &Shared<A>, lp: &mut Loop, to: State) {
    let pids: Vec<libc::pid_t> = {
        let mut ms = m.borrow_mut();
        if ms.state == State::Terminating || ms.state == to {
            return;
        }
        tracing::info!(fast = to == State::Terminating, "shutting down");
        ms.state = to;
        ms.workers.iter().map(|w| w.pid).collect()
    };
    stop_accepting(m, lp);
    let phase = if to == State::Terminating { Phase::Stopping } else { Phase::Draining };
    for pid in pids {
        order(m, lp, pid, phase);
    }
    if m.borrow().workers.is_empty() {
        lp.stop();
    }
}

/// Tells worker `pid` to drain or stop, and arms the timer that escalates:
/// a draining worker is stopped after `shutdown_timeout`, a stopping one
/// killed after [`KILL_GRACE`].
fn order<A: App>(m: &Shared<A>, lp: &mut Loop, pid: libc::pid_t, phase: Phase) {
    let timeout = {
        let mut ms = m.borrow_mut();
        let shutdown_timeout = ms.loaded.cluster.shutdown_timeout;
        let Some(w) = ms.workers.iter_mut().find(|w| w.pid == pid) else { return };
        if w.phase >= phase {
            return;
        }
        w.phase = phase;
        let byte = if phase == Phase::Stopping { channel::STOP } else { channel::DRAIN };
        if let Err(e) = channel::send(&w.chan, byte) {
            tracing::warn!(pid, error = %e, "cannot send an order to the worker");
        }
        if phase == Phase::Stopping {
            KILL_GRACE
        } else {
            shutdown_timeout
        }
    };
    let m2 = m.clone();
    let armed = lp.timer_once(timeout, move |lp, t| {
        lp.close(t.handle(), None);
        let alive = m2.borrow().workers.iter().any(|w| w.pid == pid);
        if !alive {
            return;
        }
        if phase == Phase::Draining {
            tracing::warn!(pid, "worker still draining after shutdown_timeout; stopping it");
            order(&m2, lp, pid, Phase::Stopping);
        } else {
            tracing::warn!(pid, "worker did not stop; killing it");
            let _ = sys::kill(pid, libc::SIGKILL);
        }
    });
    if let Err(e) = armed {
        tracing::error!(error = %e, "cannot arm the shutdown timer");
    }
}

/// `SIGUSR2`: start the new binary with the listeners inherited.
fn upgrade<A: App>(m: &Shared<A>) {
    let mut ms = m.borrow_mut();
    if ms.state != State::Running || ms.new_binary.is_some() || ms.oldbin {
        tracing::warn!("binary upgrade refused: one is already in progress or the master is stopping");
        return;
    }
    // A new master whose old one still runs is half of an upgrade, as
    // nginx has it: another would rename the pid file over the old
    // master's `.oldbin` (losing its pid) and chain a third master.
    if let Some(old) = ms.upgraded_from.filter(|&p| p == sys::getppid()) {
        tracing::warn!(
            old_master = old,
            "binary upgrade refused: the old master still runs; QUIT (or TERM) it or this one first"
        );
        return;
    }
    // The path this master was started from, read at start: asked now,
    // the kernel would name the old binary's inode, which an install
    // (a new file renamed over the old) has deleted, "spindle (deleted)".
    let exe = match &ms.exe {
        Ok(e) => e.clone(),
        Err(e) => {
            tracing::error!(error = %e, "binary upgrade: cannot find the executable");
            return;
        }
    };
    if let Some(p) = ms.pid_file.clone() {
        if let Err(e) = std::fs::rename(&p, oldbin_path(&p)) {
            tracing::error!(error = %e, "binary upgrade: cannot rename the pid file");
            return;
        }
        ms.oldbin = true;
    }
    let (spec, fds) = ms.listeners.inherit_spec();
    let mut cmd = std::process::Command::new(&exe);
    cmd.args(std::env::args_os().skip(1)).env(INHERIT_ENV, spec);
    sys::inherit_fds(&mut cmd, fds);
    let _ = std::io::stdout().flush();
    match cmd.spawn() {
        Ok(child) => {
            let pid = child.id() as libc::pid_t;
            tracing::info!(pid, exe = %exe.display(), "binary upgrade: new master started");
            ms.new_binary = Some(pid);
        }
        Err(e) => {
            tracing::error!(error = %e, "binary upgrade: cannot start the new binary");
            if let (Some(p), true) = (ms.pid_file.clone(), ms.oldbin) {
                let _ = std::fs::rename(oldbin_path(&p), &p);
                ms.oldbin = false;
            }
        }
    }
}

/// The master strategy: watch every listener (level-triggered) while some
/// worker of the current generation runs.
fn restart_accepting<A: App>(m: &Shared<A>, lp: &mut Loop) {
    let fds: Vec<i32> = {
        let ms = m.borrow();
        let serving = ms.workers.iter().any(|w| w.phase == Phase::Running && w.generation == ms.generation);
        if ms.loaded.cluster.accept != AcceptStrategy::Master
            || ms.state != State::Running
            || !ms.accepting.is_empty()
            || !serving
        {
            if ms.loaded.cluster.accept != AcceptStrategy::Master {
                drop(ms);
                stop_accepting(m, lp);
            }
            return;
        }
        ms.listeners.all().map(|l| l.as_raw_fd()).collect()
    };
    let mut ids = Vec::new();
    for fd in fds {
        let m2 = m.clone();
        match lp.io_start(fd, Interest::READABLE, move |lp, _, _| master_accept(&m2, lp, fd)) {
            Ok(id) => ids.push(id),
            Err(e) => tracing::error!(error = %e, "cannot watch a listener"),
        }
    }
    m.borrow_mut().accepting = ids;
}

fn stop_accepting<A: App>(m: &Shared<A>, lp: &mut Loop) {
    let ids = std::mem::take(&mut m.borrow_mut().accepting);
    for id in ids {
        let _ = lp.io_stop(id);
        lp.close(id.handle(), None);
    }
}

/// Accepts what is queued on `fd` and hands each connection to the next
/// running worker, round-robin.
fn master_accept<A: App>(m: &Shared<A>, lp: &mut Loop, fd: i32) {
    let mut got = 0u64;
    let mut pause = false;
    {
        let mut ms = m.borrow_mut();
        let ms = &mut *ms;
        let me = crate::Stats::shared(ms.slots, MASTER_SLOT);
        let Some(l) = ms.listeners.all().find(|l| l.as_raw_fd() == fd) else { return };
        let _ = l.set_nonblocking(true);
        // Workers neither start nor stop inside this callback, so the
        // round-robin targets are fixed for the whole batch; each one's
        // room (worker_connections less its load) is counted down as
        // connections go to it, and a worker without room gets nothing.
        let limit = ms.loaded.cluster.worker_connections as i64;
        let targets: Vec<usize> = (0..ms.workers.len())
            .filter(|&i| ms.workers[i].phase == Phase::Running && ms.workers[i].generation == ms.generation)
            .collect();
        let mut room: Vec<i64> =
            targets.iter().map(|&i| limit - ms.workers[i].load(&ms.slots[ms.workers[i].slot])).collect();
        while !pause {
            if room.iter().all(|&r| r <= 0) {
                if !targets.is_empty() {
                    tracing::warn!(limit, "worker_connections are not enough: every worker is full");
                }
                pause = true;
                break;
            }
            match l.accept() {
                Ok((s, _)) => {
                    got += 1;
                    // Not counted as an accept here: the worker that adopts
                    // it counts it, so stub_status's total counts it once.
                    // Round-robin over the workers with room, skipping one
                    // whose channel is full.
                    let mut sent = false;
                    for k in 0..targets.len() {
                        let t = (ms.rr + k) % targets.len();
                        if room[t] <= 0 {
                            continue;
                        }
                        let w = &mut ms.workers[targets[t]];
                        if sys::send_msg(w.chan.as_raw_fd(), channel::CONN, Some(s.as_raw_fd())).is_ok() {
                            w.handed += 1;
                            room[t] -= 1;
                            ms.rr = (t + 1) % targets.len();
                            sent = true;
                            break;
                        }
                    }
                    if !sent {
                        tracing::warn!("no worker took the connection; closing it");
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    me.add(Counter::Wakeups, 1);
                    if got == 0 {
                        me.add(Counter::FutileWakeups, 1);
                    }
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    tracing::error!(error = %e, "accept failed in the master");
                    pause = matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE));
                    break;
                }
            }
        }
    }
    if pause {
        // Level-triggered: leaving the connection queued with the watcher
        // on would spin. Resume on the next spawn, or after a pause.
        stop_accepting(m, lp);
        let m2 = m.clone();
        let _ = lp.timer_once(crate::accept::EMFILE_PAUSE, move |lp, t| {
            lp.close(t.handle(), None);
            restart_accepting(&m2, lp);
        });
    }
}
