//! Serving clients while the dataset loads at start-up.
//!
//! Redis binds its sockets before it loads the RDB or AOF, and while it
//! loads it runs its event loop now and then without blocking
//! (`processEventsWhileBlocked`): every `loading-process-events-interval-bytes`
//! bytes of an RDB file (2 MB by default) and every 1024 commands of an
//! AOF. Clients connect, get `-LOADING` for every command not flagged
//! `loading` (INFO, CONFIG, CLIENT, PING are, GET is not), and are freed
//! when they leave; a stop signal, or SHUTDOWN, stops the server without
//! saving the half-loaded data.
//!
//! The loaders ([`crate::persist::snapshot::load_rdb_from`],
//! [`crate::persist::aof_load`]) work through a [`LoadHost`]: they borrow
//! the server for each key or command and report their progress between
//! borrows. At start-up the host is a [`Pump`], which on those reports
//! runs a few turns of the loop: the loop's callbacks borrow the server
//! themselves, which they can since the loader holds no borrow then.
//! DEBUG RELOAD and DEBUG LOADAOF, which run inside a command (the server
//! already borrowed), load through the [`Server`] itself: in the
//! foreground, serving nobody, as spindle has no nested loop.
//!
//! The cron does not run meanwhile (its timer starts once the data is
//! in): no expiry, no save point would save half a dataset, as Redis's
//! `whileBlockedCron` runs none of that either.

use super::{Server, Shared};
use spindle_loop::{Loop, RunMode};

/// The reply to a command refused while the dataset loads.
pub const LOADING_ERROR: &str = "LOADING Redis is loading the dataset in memory";

/// Loop iterations per turn, as Redis's `processEventsWhileBlocked`: a
/// command read in one iteration is answered by the before-sleep write of
/// the next.
const ITERATIONS_PER_TURN: usize = 4;

/// What INFO reports while the dataset loads (Redis's `loading_*` fields).
#[derive(Debug, Clone, Default)]
pub struct LoadState {
    /// When loading started, Unix seconds.
    pub start_time: i64,
    /// The size of the files being loaded.
    pub total_bytes: u64,
    /// The RDB's `used-mem` aux field, if it had one.
    pub rdb_used_mem: u64,
    /// Bytes read so far.
    pub loaded_bytes: u64,
}

impl LoadState {
    /// INFO's `loading_loaded_perc` and `loading_eta_seconds` at Unix
    /// second `now`, computed as Redis computes them.
    pub fn perc_and_eta(&self, now: i64) -> (f64, i64) {
        let loaded = self.loaded_bytes as f64;
        let (mut perc, mut remaining) = (0.0, 1i64);
        if self.total_bytes > 0 {
            perc = loaded / self.total_bytes as f64 * 100.0;
            remaining = self.total_bytes as i64 - self.loaded_bytes as i64;
        } else if self.rdb_used_mem > 0 {
            // The memory used is a poor guess at the file's size.
            perc = (loaded / self.rdb_used_mem as f64 * 100.0).min(99.99);
            remaining = (self.rdb_used_mem as i64 - self.loaded_bytes as i64).max(1);
        }
        let elapsed = now - self.start_time;
        let eta = if elapsed == 0 { 1 } else { elapsed * remaining / (self.loaded_bytes as i64 + 1) };
        (perc, eta)
    }
}

/// Loading was cut short: the server is stopping (a stop signal or
/// SHUTDOWN arrived while it loaded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

/// What a loader loads into, and tells of its progress.
pub trait LoadHost {
    /// Runs `f` with the server borrowed.
    fn with<T>(&mut self, f: impl FnOnce(&mut Server) -> T) -> T;
    /// Loading a dataset of `total_bytes` starts.
    fn begin(&mut self, total_bytes: u64);
    /// `n` more bytes were read. Serves the clients if that crossed a
    /// multiple of the interval, or at once with `serve_now`.
    ///
    /// # Errors
    /// [`Stopped`]: the loader must give up.
    fn progress(&mut self, n: u64, serve_now: bool) -> Result<(), Stopped>;
    /// A key (or an AOF command) was loaded: sleeps as `key-load-delay`
    /// says (a test hook that makes a load slow).
    fn key_loaded(&mut self);
}

/// `key-load-delay`, microseconds per key; negative `-n` sleeps 1 µs for
/// one key in `n` (Redis's `debugDelay`).
fn key_load_delay(srv: &Server) -> i64 {
    srv.config.key_load_delay
}

/// `loading-process-events-interval-bytes`.
fn interval_bytes(srv: &Server) -> u64 {
    srv.config.loading_process_events_interval_bytes.max(1) as u64
}

/// Sleeps for one key as `delay` says (see [`key_load_delay`]).
fn delay_key(srv: &mut Server, delay: i64) {
    let us = if delay < 0 { u64::from(srv.random() % delay.unsigned_abs() == 0) } else { delay as u64 };
    if us > 0 {
        std::thread::sleep(std::time::Duration::from_micros(us));
    }
}

/// Loading in the foreground (DEBUG RELOAD, DEBUG LOADAOF): nobody is
/// served until it is done.
impl LoadHost for Server {
    fn with<T>(&mut self, f: impl FnOnce(&mut Server) -> T) -> T {
        f(self)
    }

    fn begin(&mut self, _total_bytes: u64) {}

    fn progress(&mut self, _n: u64, _serve_now: bool) -> Result<(), Stopped> {
        Ok(())
    }

    fn key_loaded(&mut self) {
        let delay = key_load_delay(self);
        if delay != 0 {
            delay_key(self, delay);
        }
    }
}

/// Loading at start-up, serving clients as it goes.
pub struct Pump<'a> {
    lp: &'a mut Loop,
    shared: &'a Shared,
    /// `loading-process-events-interval-bytes`, read at each turn.
    interval: u64,
    /// `key-load-delay`, read at each turn (a client may change it).
    delay: i64,
    /// Bytes read since loading began.
    loaded: u64,
    /// The byte count at which the next turn is due.
    next_turn: u64,
    /// A shutdown cut loading short.
    pub stopped: bool,
}

impl<'a> Pump<'a> {
    /// A pump that runs `lp`, whose callbacks serve `shared`.
    pub fn new(lp: &'a mut Loop, shared: &'a Shared) -> Pump<'a> {
        let (interval, delay) = {
            let srv = shared.borrow();
            (interval_bytes(&srv), key_load_delay(&srv))
        };
        Pump { lp, shared, interval, delay, loaded: 0, next_turn: interval, stopped: false }
    }

    /// Runs a few loop iterations without blocking, then carries out a
    /// shutdown asked for meanwhile.
    fn turn(&mut self) -> Result<(), Stopped> {
        {
            let mut srv = self.shared.borrow_mut();
            let used = crate::alloc::used_memory();
            srv.peak_memory = srv.peak_memory.max(used);
            if let Some(state) = srv.load_state.as_mut() {
                state.loaded_bytes = self.loaded;
            }
        }
        for _ in 0..ITERATIONS_PER_TURN {
            if let Err(e) = self.lp.run(RunMode::NoWait) {
                tracing::warn!(error = %e, "the event loop failed while loading");
                break;
            }
        }
        let mut guard = self.shared.borrow_mut();
        let srv = &mut *guard;
        self.interval = interval_bytes(srv);
        self.delay = key_load_delay(srv);
        if srv.shutdown {
            // SHUTDOWN ran (without saving: see `persist::prepare_shutdown`).
            self.stopped = true;
            return Err(Stopped);
        }
        if srv.shutdown_asap.is_some() {
            // Redis's `whileBlockedCron`: a stop signal during loading
            // stops the server at once, never saving.
            let mode = crate::persist::ShutdownSave::NoSave;
            if crate::persist::prepare_shutdown(srv, mode).is_ok() {
                srv.persist.shutdown_save = mode;
                srv.shutdown = true;
                self.stopped = true;
                return Err(Stopped);
            }
            tracing::warn!(
                "SIGTERM received but errors trying to shut down the server, check the logs for more information"
            );
            srv.shutdown_asap = None;
        }
        Ok(())
    }
}

impl LoadHost for Pump<'_> {
    fn with<T>(&mut self, f: impl FnOnce(&mut Server) -> T) -> T {
        f(&mut self.shared.borrow_mut())
    }

    fn begin(&mut self, total_bytes: u64) {
        let mut srv = self.shared.borrow_mut();
        let start_time = srv.now_ms / 1000;
        srv.load_state = Some(LoadState { start_time, total_bytes, rdb_used_mem: 0, loaded_bytes: 0 });
        self.loaded = 0;
        self.next_turn = self.interval;
    }

    fn progress(&mut self, n: u64, serve_now: bool) -> Result<(), Stopped> {
        self.loaded += n;
        if !serve_now && self.loaded < self.next_turn {
            return Ok(());
        }
        self.next_turn = (self.loaded / self.interval + 1) * self.interval;
        self.turn()
    }

    fn key_loaded(&mut self) {
        if self.delay != 0 {
            let delay = self.delay;
            delay_key(&mut self.shared.borrow_mut(), delay);
        }
    }
}

/// Whether loading refuses `name` (a command, or `container|sub`): every
/// command Redis does not flag `loading`.
pub fn refused_while_loading(name: &str) -> bool {
    !crate::cmd::meta::lookup(name).is_some_and(|m| m.flags.contains(&"loading"))
}
