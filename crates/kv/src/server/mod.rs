//! The server: one thread, one event loop, every client and every command.
//!
//! This is Redis's architecture. The loop (spindle-loop) watches the
//! listening sockets and every client socket. A readable client is read,
//! and each complete command in its buffer runs at once, on this thread,
//! against data only this thread touches: no locks, no races, and a
//! command is atomic simply because nothing else runs while it does.
//! Replies collect in each client's buffer and are written in one go by the
//! prepare hook just before the loop sleeps (Redis's `beforeSleep`). A
//! timer runs the cron (`serverCron`): the LRU clock, the active expiry
//! cycle, idle-client timeouts.

pub mod blocking;
pub mod client;
pub mod client_evict;
pub mod clients_cron;
mod clock;
pub mod cmdstats;
pub mod config;
pub mod config_args;
mod config_include;
pub mod config_inert;
mod config_syntax;
pub mod config_table;
pub mod crash;
pub mod edge;
pub mod evict;
pub mod expire;
pub mod fdlimit;
mod input;
pub mod iothreads;
pub mod latencystats;
pub mod lazyfree;
pub mod listen;
pub mod loading;
pub mod logging;
pub mod monitor;
pub mod notify;
pub mod oom;
pub mod pause;
pub mod process;
pub mod pubsub;
pub mod reply_buffer;
pub mod shutdown;
mod spawn;
mod start;
pub mod stats;

use clock::unix_us;
pub use clock::{lru_clock_of, unix_ms};
pub(crate) use clock::{next_random, random_hex40};
pub use config::Config;
pub use spawn::ServerThread;
pub use start::{bind, prepare, Prepared};
pub use stats::Stats;

use input::process_input;

use crate::cmd;
use crate::db::Db;
use client::{write_to_client, Client, ReadOutcome, WriteOutcome};
use spindle_loop::Loop;
use spindle_poll::{Event, Interest};
use std::cell::RefCell;
use std::rc::Rc;

/// The server's state. Lives in an `Rc<RefCell<..>>` shared by the loop's
/// callbacks; only the loop thread ever touches it.
pub struct Server {
    /// The options.
    pub config: Config,
    /// The databases (SELECT n).
    pub dbs: Vec<Db>,
    /// Connected clients by slot; the slot of a client whose command is
    /// running is empty for the duration (the command holds it).
    pub clients: Vec<Option<Box<Client>>>,
    pub(crate) free_slots: Vec<usize>,
    /// Slots of clients whose replies wait for the before-sleep flush.
    pending_writes: Vec<usize>,
    /// Messages published while their subscriber was out of the slab but
    /// not the client passed as running (the client whose command woke a
    /// blocked one, while that one is served): its id and the message's
    /// parts, delivered when it is reachable again.
    pub(crate) detached_pushes: Vec<(u64, Vec<Vec<u8>>)>,
    /// The next CLIENT ID.
    pub(crate) next_client_id: u64,
    /// Counters for INFO.
    pub stats: Stats,
    /// Unix time in ms, refreshed at every event (Redis's cached mstime).
    pub now_ms: i64,
    /// The wall clock, in microseconds, at a monotonic instant: `now_ms`
    /// is derived from it. Microseconds, not milliseconds: truncating both
    /// the base and the time since it to whole ms would put `now_ms` up to
    /// 1 ms behind the wall clock, so a PXAT deadline read back at once
    /// would show a PTTL 1 ms longer than it can be.
    clock_base: (i64, std::time::Instant),
    /// When the running command started (the end of the previous one, or
    /// the event that read it): one clock read per command times it.
    pub(crate) command_timer: clock::CommandTimer,
    /// The LRU clock: seconds, wrapping at 24 bits as Redis's.
    pub lru_clock: u32,
    /// Changes since the last save.
    pub dirty: u64,
    /// The sockets the server listens on (CONFIG SET port/bind rebinds).
    pub listening: listen::Listeners,
    /// Set by SHUTDOWN: the loop stops after this iteration.
    pub shutdown: bool,
    /// The dataset is loading at start-up (see [`loading`]): commands not
    /// flagged `loading` are refused, and INFO tells the progress.
    pub load_state: Option<loading::LoadState>,
    /// Whether the cron runs the active expiry cycle (DEBUG SET-ACTIVE-EXPIRE).
    pub active_expire_enabled: bool,
    /// The cron does nothing (DEBUG PAUSE-CRON, Redis's test hook): no
    /// expiry cycle, no child reaped, no save point, no rewrite, and a
    /// stop signal waits.
    pub pause_cron: bool,
    /// DEBUG SET-SKIP-CHECKSUM-VALIDATION: RESTORE and loading do not
    /// compare CRC64s (for tests that corrupt data on purpose).
    pub skip_checksum_validation: bool,
    /// How the cron sizes the clients' reply buffers (DEBUG REPLYBUFFER).
    pub reply_buffer: reply_buffer::Policy,
    /// A stop signal (its number) asked for a shutdown, which the next
    /// cron carries out (Redis's `shutdown_asap`); SHUTDOWN ABORT cancels
    /// it before then.
    pub shutdown_asap: Option<i32>,
    /// A shutdown waiting for replicas to catch up (see [`shutdown`]).
    pub shutdown_wait: Option<shutdown::Waiting>,
    /// Reads that found no key, while `keymiss` events are enabled.
    pub miss_log: Option<Vec<(usize, crate::db::Key)>>,
    /// The databases log the keys they create (`new` events are enabled,
    /// or were until the logs are drained).
    pub tracking_new: bool,
    /// Where the running command's logged events (`new`, `keymiss`)
    /// belong in its client's output: the output as it stood when the
    /// command began or last got a push. Redis publishes those events at
    /// once, so a RESP3 client subscribed to its own events gets them
    /// ahead of a reply written before the log is flushed. `None` between
    /// commands.
    pub events_at: Option<usize>,
    /// The background thread that frees big values.
    pub lazyfree: lazyfree::LazyFree,
    /// The IO threads, when `io-threads` is above 1.
    pub io_threads: Option<iothreads::IoThreads>,
    /// Slots of readable clients left for the IO threads.
    pending_reads: Vec<usize>,
    /// Clients owed another read (edge-triggered; see `edge`).
    pub read_again: edge::ReadAgain,
    /// Persistence state: the child process, the AOF, schedules.
    pub persist: crate::persist::Persist,
    /// INFO `rdb_bgsave_in_progress`.
    pub rdb_bgsave_in_progress: bool,
    /// INFO `rdb_last_save_time` (and LASTSAVE): Unix seconds.
    pub rdb_last_save_time: i64,
    /// INFO `rdb_last_bgsave_status`: "ok" or "err".
    pub rdb_last_bgsave_status: &'static str,
    /// INFO `aof_enabled`.
    pub aof_enabled: bool,
    /// INFO `aof_rewrite_in_progress`.
    pub aof_rewrite_in_progress: bool,
    /// Clients blocked in BLPOP and friends (the blocking module keeps it).
    pub blocked_clients: usize,
    /// The blocked clients and the keys they wait on.
    pub blocking: blocking::Blocking,
    /// Unix time (ms) the server started.
    pub started_ms: i64,
    /// INFO's `run_id`: 40 random hex digits, new at every start, as
    /// Redis makes it (Sentinel and monitoring tell restarts apart by it).
    pub run_id: String,
    /// INFO's `master_replid`: the name of this server's replication
    /// history, 40 random hex digits made at start (and when the history
    /// forks), or its master's once it replicates (see `persist::repl`).
    pub replid: String,
    /// Bytes allocated when the server was ready, less what loading the
    /// dataset took (Redis's `initial_memory_usage`, recorded before it
    /// loads): MEMORY STATS `startup.allocated`. Set once, by [`prepare`].
    pub startup_memory: usize,
    /// The most `used_memory` has been, as the cron saw it (Redis's
    /// `stat_peak_memory`); readers take the larger of it and the current
    /// figure.
    pub peak_memory: usize,
    /// The latency monitor's samples (LATENCY).
    pub latency: crate::cmd::latency::LatencyMonitor,
    /// The slow log (SLOWLOG).
    pub slowlog: crate::cmd::slowlog::SlowLog,
    /// Samples for INFO's instantaneous rates.
    pub ops: stats::InstantMetrics,
    /// Some client was marked `close_asap` (CLIENT KILL): before-sleep
    /// closes it.
    pub kill_pending: bool,
    /// The coalescing settings last handed to the loop.
    coalesce_applied: Option<(u32, u32)>,
    /// `maxmemory` was lowered: before-sleep evicts (Redis's eviction
    /// time event).
    pub evict_soon: bool,
    /// The pause in force, of all [`pause::Purpose`]s: until when (Unix
    /// ms) and whether only writes pause.
    pub pause: Option<(i64, bool)>,
    /// Each purpose's own pause (see [`pause::pause`]).
    pub pauses: pause::Pauses,
    /// Clients whose next command the pause holds, in the order they
    /// stopped: (slot, id).
    pub postponed: Vec<(usize, u64)>,
    /// On a writable replica, keys its own clients gave a deadline, which
    /// it expires itself (see `persist::replica_expiry`).
    pub replica_own_ttls: std::collections::HashSet<(usize, crate::db::Key)>,
    rng: u64,
    /// Pub/sub channels and patterns and their subscribers.
    pub pubsub: pubsub::PubSub,
    /// WATCHed keys and their watchers.
    pub watches: cmd::tx::Watches,
    /// What the server did to its `oom_score_adj` (see [`oom`]).
    pub oom: oom::OomScore,
    /// The master this server replicates, if it is a replica (see
    /// [`crate::persist::replica`]).
    pub master: Option<crate::persist::replica::MasterLink>,
    /// Replicas and the stream they get (see [`crate::persist::repl`]).
    pub repl: crate::persist::repl::Replication,
    /// MIGRATE's connections, kept for reuse.
    pub migrate_sockets: crate::cmd::migrate::Sockets,
    /// The clients in MONITOR mode.
    pub monitors: monitor::Monitors,
    notify_cache: notify::NotifyCache,
    /// Where the cron's walk over the client slab goes on next.
    clients_cron_cursor: usize,
    /// Recent peaks of client buffer memory (INFO clients).
    pub clients_peak: clients_cron::PeakMem,
    /// The clients' memory for `maxmemory-clients`: always the sum of
    /// every live client's `tracked_mem` (see `client_evict`).
    pub clients_mem: usize,
}

impl Server {
    /// A server with `config` and empty databases.
    pub fn new(config: Config) -> Server {
        // The Unix time and the instant the cached clock counts from, read
        // together: work done between the two reads (building the tables
        // below) would set the cached clock back by as long, and a key
        // would outlive its expiry by that much.
        let (now_us, start) = (unix_us(), std::time::Instant::now());
        let now = now_us.div_euclid(1000);
        let flag = std::rc::Rc::new(std::cell::Cell::new(false));
        let lfu = std::rc::Rc::new(std::cell::Cell::new(config.lfu()));
        let paused = std::rc::Rc::new(std::cell::Cell::new(false));
        let expire_off = std::rc::Rc::new(std::cell::Cell::new(false));
        let track_ttl = std::rc::Rc::new(std::cell::Cell::new(false));
        let dbs = (0..config.databases)
            .map(|i| {
                let mut db = Db::new(i);
                db.expired_flag = flag.clone();
                db.lfu = lfu.clone();
                db.expire_paused = paused.clone();
                db.expire_off = expire_off.clone();
                db.track_ttl = track_ttl.clone();
                db
            })
            .collect();
        Server {
            config,
            dbs,
            clients: Vec::new(),
            free_slots: Vec::new(),
            pending_writes: Vec::new(),
            detached_pushes: Vec::new(),
            next_client_id: 1,
            stats: Stats::default(),
            now_ms: now,
            clock_base: (now_us, start),
            command_timer: clock::CommandTimer::new(start),
            lru_clock: lru_clock_of(now),
            dirty: 0,
            listening: listen::Listeners::default(),
            shutdown: false,
            load_state: None,
            active_expire_enabled: true,
            pause_cron: false,
            skip_checksum_validation: false,
            reply_buffer: reply_buffer::Policy::default(),
            shutdown_asap: None,
            shutdown_wait: None,
            miss_log: None,
            tracking_new: false,
            events_at: None,
            lazyfree: lazyfree::LazyFree::new(),
            io_threads: None,
            pending_reads: Vec::new(),
            read_again: edge::ReadAgain::default(),
            persist: crate::persist::Persist::default(),
            rdb_bgsave_in_progress: false,
            rdb_last_save_time: now / 1000,
            rdb_last_bgsave_status: "ok",
            aof_enabled: false,
            aof_rewrite_in_progress: false,
            blocked_clients: 0,
            blocking: blocking::Blocking::default(),
            started_ms: now,
            run_id: random_hex40(),
            replid: random_hex40(),
            startup_memory: 0,
            peak_memory: 0,
            latency: Default::default(),
            slowlog: Default::default(),
            ops: Default::default(),
            kill_pending: false,
            coalesce_applied: None,
            evict_soon: false,
            pause: None,
            pauses: [None; 3],
            postponed: Vec::new(),
            replica_own_ttls: Default::default(),
            rng: (now as u64) ^ 0x9e37_79b9_7f4a_7c15,
            pubsub: pubsub::PubSub::default(),
            watches: cmd::tx::Watches::default(),
            oom: oom::OomScore::default(),
            migrate_sockets: Default::default(),
            repl: Default::default(),
            master: None,
            monitors: monitor::Monitors::default(),
            notify_cache: notify::NotifyCache::default(),
            clients_cron_cursor: 0,
            clients_peak: Default::default(),
            clients_mem: 0,
        }
    }

    /// Tells the databases whether to count accesses for LFU, after the
    /// policy or its parameters changed.
    pub fn sync_lfu(&mut self) {
        if let Some(db) = self.dbs.first() {
            db.lfu.set(self.config.lfu());
        }
    }

    /// A fast pseudo-random number (xorshift64*): sampling, not security.
    pub fn random(&mut self) -> u64 {
        next_random(&mut self.rng)
    }

    /// Number of connected clients.
    pub fn client_count(&self) -> usize {
        self.clients.len() - self.free_slots.len()
    }

    /// Frees `v` (a large value, or the dicts of a flushed database) off
    /// the command path: UNLINK, FLUSHDB ASYNC and the `lazyfree-lazy-*`
    /// options hand their garbage to the lazy-free thread.
    pub fn lazy_free<T: Send + 'static>(&mut self, v: T) {
        self.lazyfree.free(v);
    }

    pub(crate) fn add_client(&mut self, c: Client) -> usize {
        let mut c = Box::new(c);
        match self.free_slots.pop() {
            Some(i) => {
                c.slot = i;
                self.clients[i] = Some(c);
                i
            }
            None => {
                c.slot = self.clients.len();
                self.clients.push(Some(c));
                self.clients.len() - 1
            }
        }
    }

    /// Closes client (`slot`, `id`), if it is there, in the write pass
    /// before the loop sleeps, without writing more to it.
    pub(crate) fn close_client_asap(&mut self, slot: usize, id: u64) {
        if let Some(c) = self.clients.get_mut(slot).and_then(Option::as_mut).filter(|c| c.id == id) {
            c.close_asap = true;
            if !c.pending_write {
                c.pending_write = true;
                self.pending_writes.push(slot);
            }
        }
    }

    /// Queues client `c` (taken out of `slot`) for writing before the loop
    /// sleeps, if it has output.
    pub(crate) fn queue_write(&mut self, slot: usize, c: &mut Client) {
        if !c.pending_write && c.pending_output() > 0 {
            c.pending_write = true;
            self.pending_writes.push(slot);
        }
    }
}

/// The shared handle the loop's callbacks hold.
pub type Shared = Rc<RefCell<Server>>;

/// Writes as much of `c`'s pending reply as its socket takes, counting the
/// bytes (INFO's total_net_output_bytes). Bytes going out are activity
/// (`timeout`), as in Redis: a client slowly draining a long reply is not
/// idle.
fn send_reply(srv: &mut Server, c: &mut Client) -> WriteOutcome {
    let before = c.pending_output();
    srv.stats.writes_processed += 1;
    let outcome = write_to_client(c);
    let sent = before - c.pending_output();
    srv.stats.net_output += sent as u64;
    if sent > 0 {
        c.last_interaction = srv.now_ms;
    }
    outcome
}

/// A client's socket is readable (or writable, or hung up).
fn client_event(lp: &mut Loop, shared: &Shared, slot: usize, id: u64, ev: Event) {
    let mut guard = shared.borrow_mut();
    let srv = &mut *guard;
    let Some(mut c) = srv.clients.get_mut(slot).and_then(Option::take) else { return };
    if c.id != id {
        srv.clients[slot] = Some(c);
        return;
    }
    let mut dead = false;
    if ev.is_writable() && c.pending_output() > 0 {
        dead |= send_reply(srv, &mut c) == WriteOutcome::Failed;
    }
    let readable = ev.is_readable() || ev.is_read_closed() || ev.is_error();
    if readable && srv.io_threads.is_some() && !dead {
        // Leave the read to the IO threads, after the poll phase.
        if !c.pending_read {
            c.pending_read = true;
            srv.pending_reads.push(slot);
        }
    } else if readable {
        c.peer_closed |= ev.is_read_closed();
        dead = !edge::read_and_process(srv, &mut c);
    }
    if dead || c.close_asap || (c.close_after_reply && c.pending_output() == 0) {
        free_client(lp, srv, slot, c);
        return;
    }
    if c.wants_write && c.pending_output() == 0 {
        c.wants_write = false;
        if let Some(io) = c.io {
            let _ = lp.io_set_interest(io, Interest::READABLE);
        }
    }
    srv.queue_write(slot, &mut c);
    client_evict::track(srv, &mut c);
    srv.clients[slot] = Some(c);
    client_evict::check(lp, srv);
}

/// Runs after the poll phase: with IO threads, reads every client that
/// became readable in parallel, then runs their commands here, in order.
fn after_poll(lp: &mut Loop, shared: &Shared) {
    let mut guard = shared.borrow_mut();
    let srv = &mut *guard;
    if srv.pending_reads.is_empty() {
        return;
    }
    let Some(threads) = srv.io_threads.take() else { return };
    let slots = std::mem::take(&mut srv.pending_reads);
    let mut tasks = Vec::with_capacity(slots.len());
    for &slot in &slots {
        if let Some(mut c) = srv.clients.get_mut(slot).and_then(Option::take) {
            c.pending_read = false;
            tasks.push(iothreads::Task { slot, client: c, read: None, write: None });
        }
    }
    let limits = crate::resp::parse::Limits {
        max_bulk_len: srv.config.proto_max_bulk_len,
        authenticated: srv.config.requirepass.is_empty(),
    };
    srv.stats.reads_processed += tasks.len() as u64;
    srv.stats.io_threaded_reads += tasks.len() as u64;
    let mut tasks = threads.read_all(tasks, &limits);
    srv.io_threads = Some(threads);
    srv.refresh_clock();
    // Commands run in the order the clients became readable.
    let order: std::collections::HashMap<usize, usize> =
        slots.iter().enumerate().map(|(i, s)| (*s, i)).collect();
    tasks.sort_by_key(|t| order.get(&t.slot).copied().unwrap_or(usize::MAX));
    for t in tasks {
        let (slot, mut c) = (t.slot, t.client);
        match t.read {
            Some(ReadOutcome::Data { n, .. }) => {
                srv.stats.net_input += n as u64;
                c.last_interaction = srv.now_ms;
                if over_query_limit(srv, &c) {
                    free_client(lp, srv, slot, c);
                    continue;
                }
                process_input(srv, &mut c);
            }
            Some(ReadOutcome::Closed) => {
                free_client(lp, srv, slot, c);
                continue;
            }
            _ => {}
        }
        if c.close_asap || (c.close_after_reply && c.pending_output() == 0) {
            free_client(lp, srv, slot, c);
            continue;
        }
        srv.queue_write(slot, &mut c);
        client_evict::track(srv, &mut c);
        srv.clients[slot] = Some(c);
    }
    srv.pending_reads = slots;
    srv.pending_reads.clear();
}

/// Whether a client's unprocessed input has passed
/// `client-query-buffer-limit`. Checked after every read, so a client that
/// is blocked or paused (and so not parsing) cannot grow it without bound.
fn over_query_limit(srv: &Server, c: &Client) -> bool {
    let over = c.pending_query() > srv.config.client_query_buffer_limit;
    if over {
        tracing::warn!(client = c.id, "closing client that exceeded the query buffer limit");
    }
    over
}

/// Closes a client and frees its slot.
fn free_client(lp: &mut Loop, srv: &mut Server, slot: usize, mut c: Box<Client>) {
    client_evict::forget(srv, &c);
    srv.pubsub.remove_client(&mut c);
    srv.monitors.remove(&mut c);
    blocking::remove_client(srv, &mut c);
    cmd::tx::unwatch_all(srv, &mut c);
    if c.master {
        crate::persist::replica::master_client_closed(srv, &c);
    }
    if let Some(io) = c.io {
        lp.close(io.handle(), None);
    }
    srv.free_slots.push(slot);
    drop(c);
}

/// The before-sleep hook: writes every pending reply.
fn before_sleep(lp: &mut Loop, shared: &Shared) {
    let mut guard = shared.borrow_mut();
    let srv = &mut *guard;
    apply_coalesce(lp, srv);
    pause::check_deadline(srv);
    edge::read_again(lp, srv);
    blocking::before_sleep(lp, shared, srv);
    if std::mem::take(&mut srv.evict_soon) {
        evict::perform_evictions(srv);
    }
    // The AOF is written (and with appendfsync always, synced) before any
    // reply of this iteration goes out.
    crate::persist::before_sleep(srv);
    crate::dict::set_resize_avoided(srv.has_active_child());
    if srv.pending_writes.len() > 1 && srv.io_threads.is_some() {
        write_with_threads(lp, srv);
    }
    let pending = std::mem::take(&mut srv.pending_writes);
    for &slot in &pending {
        let Some(mut c) = srv.clients.get_mut(slot).and_then(Option::take) else { continue };
        c.pending_write = false;
        if c.close_asap {
            // Over its output-buffer limit (a slow subscriber): close it
            // without writing more.
            free_client(lp, srv, slot, c);
            continue;
        }
        match send_reply(srv, &mut c) {
            WriteOutcome::Failed => {
                free_client(lp, srv, slot, c);
                continue;
            }
            WriteOutcome::Done if c.close_after_reply => {
                free_client(lp, srv, slot, c);
                continue;
            }
            WriteOutcome::Done => {}
            WriteOutcome::Partial => {
                if !c.wants_write {
                    c.wants_write = true;
                    if let Some(io) = c.io {
                        let _ = lp.io_set_interest(io, Interest::BOTH);
                    }
                }
            }
        }
        client_evict::track(srv, &mut c);
        srv.clients[slot] = Some(c);
    }
    let mut pending = pending;
    pending.clear();
    if srv.pending_writes.is_empty() {
        srv.pending_writes = pending;
    }
    if srv.kill_pending {
        srv.kill_pending = false;
        close_killed(lp, srv);
    }
    client_evict::check(lp, srv);
    if srv.shutdown {
        lp.stop();
    }
}

/// Hands `io-coalesce-us` and `io-coalesce-min-clients` to the loop when
/// they changed (at start, or by CONFIG SET).
fn apply_coalesce(lp: &mut Loop, srv: &mut Server) {
    let want = (srv.config.io_coalesce_us, srv.config.io_coalesce_min_clients);
    if srv.coalesce_applied == Some(want) {
        return;
    }
    srv.coalesce_applied = Some(want);
    lp.set_coalesce((want.0 > 0).then(|| spindle_loop::Coalesce {
        wait: std::time::Duration::from_micros(u64::from(want.0)),
        min_active: want.1 as usize,
    }));
}

/// Writes the pending replies on the IO threads; clients the kernel did
/// not take everything from stay on the list for the plain path, which
/// arms writable interest.
fn write_with_threads(lp: &mut Loop, srv: &mut Server) {
    let Some(threads) = srv.io_threads.take() else { return };
    let slots = std::mem::take(&mut srv.pending_writes);
    let mut tasks = Vec::with_capacity(slots.len());
    for &slot in &slots {
        if let Some(c) = srv.clients.get_mut(slot).and_then(Option::take) {
            tasks.push(iothreads::Task { slot, client: c, read: None, write: None });
        }
    }
    let before: usize = tasks.iter().map(|t| t.client.pending_output()).sum();
    srv.stats.writes_processed += tasks.len() as u64;
    srv.stats.io_threaded_writes += tasks.len() as u64;
    let tasks = threads.write_all(tasks);
    srv.io_threads = Some(threads);
    let after: usize = tasks.iter().map(|t| t.client.pending_output()).sum();
    srv.stats.net_output += (before - after) as u64;
    let mut rest = slots;
    rest.clear();
    for t in tasks {
        let (slot, mut c) = (t.slot, t.client);
        match t.write {
            Some(WriteOutcome::Failed) => free_client(lp, srv, slot, c),
            Some(WriteOutcome::Done) if c.close_after_reply => free_client(lp, srv, slot, c),
            Some(WriteOutcome::Done) => {
                c.pending_write = false;
                client_evict::track(srv, &mut c);
                srv.clients[slot] = Some(c);
            }
            _ => {
                rest.push(slot);
                srv.clients[slot] = Some(c);
            }
        }
    }
    srv.pending_writes = rest;
}

/// Closes every client CLIENT KILL marked `close_asap`.
fn close_killed(lp: &mut Loop, srv: &mut Server) {
    for slot in 0..srv.clients.len() {
        if srv.clients[slot].as_ref().is_some_and(|c| c.close_asap) {
            if let Some(c) = srv.clients[slot].take() {
                free_client(lp, srv, slot, c);
            }
        }
    }
}

/// The cron (`serverCron`), `hz` times a second.
fn cron(lp: &mut Loop, shared: &Shared) {
    let mut guard = shared.borrow_mut();
    let srv = &mut *guard;
    if srv.pause_cron || shutdown::cron(lp, srv) {
        return;
    }
    // A replica loading its master's snapshot serves clients, but runs no
    // cron: no expiry or save point on half the data.
    if srv.load_state.is_some() {
        return;
    }
    srv.rebase_clock();
    srv.peak_memory = srv.peak_memory.max(crate::alloc::used_memory());
    if srv.master.is_some() {
        // A replica leaves expiry to its master, whose DELs it gets; only
        // keys its own clients wrote (a writable replica) expire here.
        crate::persist::replica_expiry::expire_own_keys(srv);
    } else if srv.active_expire_enabled && srv.pause.is_none() {
        // A quarter of the cron period, as Redis's slow cycle.
        let budget = std::time::Duration::from_micros(250_000 / srv.config.hz.clamp(1, 500) as u64);
        let started = std::time::Instant::now();
        expire::active_expire_cycle(srv, budget);
        let ms = started.elapsed().as_millis() as u64;
        let threshold = srv.config.latency_monitor_threshold;
        srv.latency.record(threshold, "expire-cycle", srv.now_ms / 1000, ms);
    }
    for db in &mut srv.dbs {
        // Incremental rehashing: a millisecond per database at most.
        db.keys.rehash_for(std::time::Duration::from_micros(100));
        db.volatile.rehash_for(std::time::Duration::from_micros(100));
    }
    srv.drain_expired(None);
    evict::sync_expand_limit(srv);
    clients_cron::run(srv);
    srv.migrate_sockets.close_idle();
    crate::persist::replica::cron(srv, &mut |srv, stream, rest| {
        listen::adopt_master(lp, shared, srv, stream, rest)
    });
    crate::persist::failover::cron(srv);
    if crate::persist::replica::load_due(srv) {
        // The master's snapshot is loaded by `Prepared::run`, outside the
        // loop's callbacks, so that clients are served meanwhile.
        lp.stop();
    }
    crate::persist::cron(srv);
    crate::dict::set_resize_avoided(srv.has_active_child());
    srv.ops.sample(srv.now_ms, &srv.stats);
}
