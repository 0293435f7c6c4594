//! Persistence: RDB snapshots (SAVE, BGSAVE, save points, loading at
//! start), the append-only file (logging, fsync policies, replay,
//! BGREWRITEAOF), and the value conversions DUMP and RESTORE use.
//!
//! - [`convert`]: server values to and from the RDB model, and streaming.
//! - [`snapshot`]: writing and loading RDB files; BGSAVE's child.
//! - [`aof`]: the AOF buffer, its fsync policies, its files.
//! - [`manifest`]: which base and incr files make up the AOF (Redis 7's
//!   multi-part AOF).
//! - [`aof_load`]: replaying the AOF at start.
//! - [`aof_rewrite`]: BGREWRITEAOF and the base files.
//! - [`propagate`]: which commands reach the AOF and in what form.
//! - [`childinfo`]: forking a child, timed and counted, and its report.
//! - [`sync`]: SYNC clients waiting for a snapshot (`redis-cli --rdb`).
//! - [`sys`]: fork, waitpid, `_exit`, pipe: the only `unsafe` here.
//!
//! The server calls in at five points: [`load_at_startup`] (at start,
//! serving clients between chunks: see [`crate::server::loading`]),
//! [`propagate::after_command`] (after every command), [`before_sleep`]
//! (before replies are written), [`cron`], and [`shutdown`] (when the
//! loop has stopped).

pub mod aof;
pub mod aof_load;
pub mod aof_rewrite;
pub mod backlog;
pub mod childinfo;
pub mod convert;
pub mod failover;
pub mod manifest;
pub mod propagate;
pub mod rdb_repl;
pub mod repl;
pub mod replica;
pub mod replica_expiry;
pub mod snapshot;
pub mod stream;
pub mod sync;
pub mod sys;

use crate::server::loading::LoadHost;
use crate::server::Server;
use std::io;
use std::path::PathBuf;

/// What a forked child is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildKind {
    /// BGSAVE.
    Rdb,
    /// BGREWRITEAOF.
    AofRewrite,
}

/// The one child process the server may have.
#[derive(Debug, Clone)]
pub struct Child {
    /// Its pid.
    pub pid: i32,
    /// What it does.
    pub kind: ChildKind,
    /// The temporary file it writes.
    pub temp: PathBuf,
    /// When it started (Unix ms).
    pub started_ms: i64,
}

/// Whether the server saves a snapshot when it shuts down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShutdownSave {
    /// Save if save points are configured (plain SHUTDOWN, SIGTERM).
    #[default]
    Default,
    /// SHUTDOWN SAVE.
    Save,
    /// SHUTDOWN NOSAVE, and stopping an embedded [`crate::server::ServerThread`].
    NoSave,
}

impl ShutdownSave {
    /// The save choice and FORCE of a flag list as `shutdown-on-sigint`
    /// and `shutdown-on-sigterm` hold it (`default`, or words among
    /// `save`/`nosave`, `now`, `force`).
    pub fn from_flags(words: &str) -> (ShutdownSave, bool) {
        let has = |w: &str| words.split_whitespace().any(|x| x.eq_ignore_ascii_case(w));
        let save = if has("save") {
            ShutdownSave::Save
        } else if has("nosave") {
            ShutdownSave::NoSave
        } else {
            ShutdownSave::Default
        };
        (save, has("force"))
    }
}

/// Persistence state kept in the server.
#[derive(Debug, Default)]
pub struct Persist {
    /// The running BGSAVE or BGREWRITEAOF child.
    pub child: Option<Child>,
    /// BGSAVE SCHEDULE: start a BGSAVE once no child runs.
    pub bgsave_scheduled: bool,
    /// BGREWRITEAOF during a BGSAVE: start the rewrite once it ends.
    pub aof_rewrite_scheduled: bool,
    /// `dirty` when the running BGSAVE started.
    pub dirty_before_bgsave: u64,
    /// When the last BGSAVE was attempted (Unix ms): a failed one is
    /// retried from save points only after 5 seconds.
    pub last_bgsave_try_ms: i64,
    /// Replaying the AOF: commands are not logged again.
    pub loading: bool,
    /// The append-only file.
    pub aof: aof::Aof,
    /// What to do at shutdown.
    pub shutdown_save: ShutdownSave,
    /// What the running child has reported (see [`childinfo`]).
    pub progress: childinfo::Progress,
    /// How long the last BGSAVE took, in seconds (`rdb_last_bgsave_time_sec`).
    pub rdb_last_bgsave_secs: Option<i64>,
    /// How long the last AOF rewrite took, in seconds
    /// (`aof_last_rewrite_time_sec`).
    pub aof_last_rewrite_secs: Option<i64>,
    /// The last BGSAVE child's copy-on-write size (`rdb_last_cow_size`).
    pub rdb_last_cow: usize,
    /// The last AOF rewrite child's copy-on-write size (`aof_last_cow_size`).
    pub aof_last_cow: usize,
    /// The last AOF rewrite failed (`aof_last_bgrewrite_status:err`).
    pub aof_last_rewrite_failed: bool,
    /// What the last snapshot load found (`rdb_last_load_keys_*`).
    pub last_load: snapshot::LoadStats,
    /// The replication fields of the snapshot loading (or loaded) at
    /// start-up (see [`rdb_repl`]).
    pub rdb_repl: rdb_repl::Loaded,
    /// The final snapshot of a shutdown is being written: a second SIGINT
    /// meanwhile exits at once (see [`snapshot::save`]).
    pub shutting_down: bool,
    /// Clients that sent SYNC, waiting for a snapshot.
    pub sync_waiters: Vec<sync::Waiter>,
    /// Log the command now running to the AOF even though the change
    /// counter did not grow across it: FLUSHDB and FLUSHALL, which Redis
    /// always propagates (an empty database, or FLUSHALL's save that
    /// reset the counter).
    pub force_log: bool,
    /// EXEC is running a transaction's commands: a rewrite asked for
    /// meanwhile waits for the cron (it would write out the buffer between
    /// the transaction's MULTI and EXEC).
    pub in_exec: bool,
    /// The automatic-rewrite back-off after failures, in minutes (see
    /// [`aof_rewrite::limited`]).
    pub rewrite_delay_min: i64,
    /// No automatic rewrite before this time (Unix ms; 0: none due).
    pub next_rewrite_ms: i64,
}

impl Server {
    /// INFO's `rdb_changes_since_last_save`: the dirty counter.
    pub fn rdb_changes_since_last_save(&self) -> u64 {
        self.dirty
    }

    /// Starts or ends replaying the AOF: commands are not logged again,
    /// and no key expires meanwhile (see [`crate::db::Db::expire_off`]).
    pub fn set_loading(&mut self, on: bool) {
        self.persist.loading = on;
        if let Some(db) = self.dbs.first() {
            db.expire_off.set(on);
        }
    }

    /// Redis's `checkAlreadyExpired`: whether a deadline given to EXPIRE,
    /// GETEX or RESTORE has passed, so that the key is deleted rather than
    /// given it. Never while the AOF loads: the key keeps the deadline,
    /// later commands in the file see it as they did when they ran, and it
    /// expires once loading is done. Never on a replica either.
    pub fn already_expired(&self, at: i64) -> bool {
        // A replica keeps the key: its master decides (and sends a DEL).
        at <= self.now_ms && !self.persist.loading && self.master.is_none()
    }

    /// Whether a BGSAVE or BGREWRITEAOF child runs.
    pub fn has_active_child(&self) -> bool {
        self.persist.child.is_some()
    }
}

/// Loads the data at start, serving clients as it goes when `h` is a
/// [`crate::server::loading::Pump`]: with appendonly on, the AOF (see
/// [`aof_load`]), else the RDB snapshot if there is one. With appendonly
/// on and no AOF yet, the snapshot is loaded if there is one, and the
/// AOF's first base file is written from it. Returns `false` if a
/// shutdown cut loading short (the server must stop, saving nothing).
///
/// Redis 7.0 starts empty in that last case, and its first save then
/// overwrites the snapshot with the empty dataset; a user who turned
/// appendonly on in the config file of a server with data would lose it,
/// so spindle loads the snapshot.
///
/// # Errors
/// A corrupt or unreadable file (the server must not start on it).
pub fn load_at_startup<H: LoadHost>(h: &mut H) -> io::Result<bool> {
    let started = std::time::Instant::now();
    let (rdb_path, appendonly) = h.with(|srv| {
        srv.aof_enabled = srv.config.appendonly;
        (snapshot::rdb_path(srv), srv.config.appendonly)
    });
    let invalid = |e: String| io::Error::new(io::ErrorKind::InvalidData, e);
    let mut loaded_aof = false;
    if appendonly {
        match aof_load::load_at_start(h) {
            Ok(Some(n)) => {
                tracing::info!(commands = n, elapsed = ?started.elapsed(), "DB loaded from append only file");
                loaded_aof = true;
            }
            Ok(None) => {}
            Err(_) if h.with(|srv| srv.shutdown) => return Ok(false),
            Err(e) => return Err(invalid(e.to_string())),
        }
    }
    if !loaded_aof && rdb_path.exists() {
        match snapshot::load_rdb(h, &rdb_path) {
            Ok(stats) => {
                tracing::info!(
                    "Done loading RDB, keys loaded: {}, keys expired: {}, empty keys skipped: {}.",
                    stats.loaded,
                    stats.expired,
                    stats.empty
                );
                tracing::info!(elapsed = ?started.elapsed(), "DB loaded from disk");
            }
            Err(_) if h.with(|srv| srv.shutdown) => return Ok(false),
            Err(e) => {
                tracing::warn!("Internal error in RDB reading -> {e}");
                tracing::warn!("Terminating server after rdb file reading failure.");
                return Err(invalid(format!("error loading {}: {e}", rdb_path.display())));
            }
        }
    }
    h.with(|srv| {
        if srv.config.appendonly {
            aof::open_on_start(srv)?;
            aof_rewrite::delete_history(srv);
        }
        srv.dirty = 0;
        Ok(true)
    })
}

/// After FLUSHALL (Redis's `flushAllDataAndResetRDB`): a running BGSAVE
/// is stopped, since it would later replace the snapshot with the data
/// just flushed; and with save points configured the empty dataset is
/// saved at once, so that a crash before the next save point does not
/// bring the flushed data back from the old snapshot. The save resets the
/// change counter (`rdb_changes_since_last_save` is 0 after it, as in
/// Redis 7.0); FLUSHALL is still logged to the AOF (`force_log`, set by
/// the command).
pub fn after_flushall(srv: &mut Server) {
    if srv.persist.child.as_ref().is_some_and(|c| c.kind == ChildKind::Rdb) {
        tracing::info!("FLUSHALL: stopping the running BGSAVE");
        kill_child(srv);
    }
    if !srv.config.save.is_empty() {
        // A failed save is logged by `save`; FLUSHALL still succeeds.
        let _ = snapshot::save(srv);
    }
}

/// Before the loop sleeps, before any reply is written: logs the
/// commands of this iteration to the AOF (and fsyncs with `always`).
pub fn before_sleep(srv: &mut Server) {
    srv.drain_expired(None);
    let policy = srv.config.appendfsync;
    srv.persist.aof.flush(policy);
    // A blocked WAIT asks the replicas where they are, in the stream.
    repl::request_acks(srv);
    // Replicas get this iteration's writes with its replies.
    repl::flush(srv);
}

/// The persistence part of the cron: reaps a finished child, starts a
/// scheduled or save-point BGSAVE or AOF rewrite, and runs the everysec
/// fsync.
pub fn cron(srv: &mut Server) {
    repl::cron(srv);
    let now = srv.now_ms;
    srv.persist.aof.cron_fsync(now);
    if let Some(child) = srv.persist.child.clone() {
        childinfo::receive(srv);
        match sys::try_wait(child.pid) {
            Ok(None) => return,
            Ok(Some(exit)) => child_done(srv, &child, exit.success()),
            Err(e) => {
                tracing::warn!(error = %e, pid = child.pid, "waitpid failed for the persistence child");
                child_done(srv, &child, false);
            }
        }
    }
    if !srv.persist.sync_waiters.is_empty() {
        sync::start_if_idle(srv);
        return;
    }
    if srv.persist.aof_rewrite_scheduled && !aof_rewrite::limited(srv) {
        srv.persist.aof_rewrite_scheduled = false;
        let _ = aof_rewrite::bgrewrite(srv);
        return;
    }
    if srv.persist.bgsave_scheduled {
        srv.persist.bgsave_scheduled = false;
        let _ = snapshot::bgsave(srv);
        return;
    }
    let elapsed_s = now / 1000 - srv.rdb_last_save_time;
    let retry_ok = srv.rdb_last_bgsave_status == "ok" || now - srv.persist.last_bgsave_try_ms > 5000;
    let due = srv.config.save.iter().any(|&(secs, changes)| srv.dirty >= changes && elapsed_s >= secs as i64);
    if due && retry_ok {
        tracing::info!(changes = srv.dirty, "save point reached, saving");
        let _ = snapshot::bgsave(srv);
        return;
    }
    let aof = &srv.persist.aof;
    let pct = srv.config.auto_aof_rewrite_percentage;
    if aof.is_on()
        && !aof.waiting_rewrite
        && pct > 0
        && aof.current_size > srv.config.auto_aof_rewrite_min_size
    {
        let base = aof.base_size.max(1);
        let grown = (aof.current_size - base.min(aof.current_size)) * 100 / base >= pct;
        if grown && !aof_rewrite::limited(srv) {
            tracing::info!(size = srv.persist.aof.current_size, "starting automatic rewriting of AOF");
            let _ = aof_rewrite::bgrewrite(srv);
        }
    }
}

fn child_done(srv: &mut Server, child: &Child, ok: bool) {
    srv.persist.child = None;
    let cow = childinfo::finish(srv);
    let secs = Some((srv.now_ms - child.started_ms) / 1000);
    match child.kind {
        ChildKind::Rdb => {
            (srv.persist.rdb_last_cow, srv.persist.rdb_last_bgsave_secs) = (cow, secs);
            snapshot::bgsave_done(srv, child, ok);
            // SYNC clients waiting for this snapshot get it.
            sync::snapshot_done(srv, child.pid, ok);
        }
        ChildKind::AofRewrite => {
            (srv.persist.aof_last_cow, srv.persist.aof_last_rewrite_secs) = (cow, secs);
            aof_rewrite::rewrite_done(srv, child, ok)
        }
    }
    // SYNC clients waiting for a snapshot that has not started start it.
    sync::start_if_idle(srv);
}

/// Stops a running child and removes its temporary file.
pub fn kill_child(srv: &mut Server) {
    if let Some(child) = srv.persist.child.take() {
        sys::kill_child(child.pid);
        let _ = sys::wait_blocking(child.pid);
        let _ = std::fs::remove_file(&child.temp);
        srv.rdb_bgsave_in_progress = false;
        srv.aof_rewrite_in_progress = false;
        srv.persist.progress = Default::default();
        // SYNC clients waiting for it wait for the next snapshot.
        for w in srv.persist.sync_waiters.iter_mut().filter(|w| w.pid == Some(child.pid)) {
            w.pid = None;
        }
    }
}

/// What SHUTDOWN and a stop signal run before the process exits: stops a
/// child, flushes and fsyncs the AOF, and saves a snapshot when asked to
/// (SHUTDOWN SAVE) or by default when save points are configured.
///
/// # Errors
/// The save failed (SHUTDOWN then refuses to stop).
pub fn prepare_shutdown(srv: &mut Server, mode: ShutdownSave) -> io::Result<()> {
    // Never while the dataset loads: the snapshot would hold half of it
    // (Redis's `prepareForShutdown` forces NOSAVE then).
    let mode = if srv.load_state.is_some() { ShutdownSave::NoSave } else { mode };
    kill_child(srv);
    srv.persist.aof.flush_and_sync();
    let save = match mode {
        ShutdownSave::Save => true,
        ShutdownSave::NoSave => false,
        ShutdownSave::Default => !srv.config.save.is_empty(),
    };
    if save {
        tracing::info!("saving the final RDB snapshot before exiting");
        srv.persist.shutting_down = true;
        let saved = snapshot::save(srv);
        srv.persist.shutting_down = false;
        saved?;
    }
    Ok(())
}

/// [`finish_shutdown`] refused: the server must keep running (why is in
/// the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownRefused;

/// Redis's `finishShutdown`, for SHUTDOWN and for a stop signal: refuses
/// while AOF, turned on at run time, is writing its first file (the
/// dataset is in no file yet), then stops any child, flushes the AOF and
/// saves the final snapshot as `mode` says. With `force`, neither the
/// first AOF nor a failed save stops the exit. `Err` means the server
/// must keep running (the reason is logged).
pub fn finish_shutdown(srv: &mut Server, mode: ShutdownSave, force: bool) -> Result<(), ShutdownRefused> {
    let writing_initial_aof = srv.persist.aof.waiting_rewrite
        && srv.persist.child.as_ref().is_some_and(|c| c.kind == ChildKind::AofRewrite);
    if writing_initial_aof {
        if !force {
            tracing::warn!("Writing initial AOF, can't exit.");
            return Err(ShutdownRefused);
        }
        tracing::warn!("Writing initial AOF. Exit anyway.");
    }
    if let Err(e) = prepare_shutdown(srv, mode) {
        if !force {
            tracing::warn!(error = %e, "Error trying to save the DB, can't exit.");
            return Err(ShutdownRefused);
        }
        tracing::warn!(error = %e, "Error trying to save the DB. Exit anyway.");
    }
    Ok(())
}

/// Called when the loop has stopped: [`prepare_shutdown`] with the mode
/// recorded in [`Persist::shutdown_save`] (once).
pub fn shutdown(srv: &mut Server) {
    let mode = std::mem::replace(&mut srv.persist.shutdown_save, ShutdownSave::NoSave);
    if srv.persist.child.is_none() && mode == ShutdownSave::NoSave && !srv.persist.aof.is_on() {
        return;
    }
    if let Err(e) = prepare_shutdown(srv, mode) {
        tracing::error!(error = %e, "error trying to save the DB at shutdown");
    }
}
