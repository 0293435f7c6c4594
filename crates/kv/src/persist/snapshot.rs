//! RDB snapshots: SAVE (in the server thread), BGSAVE (a forked child
//! writes while the parent keeps serving, sharing memory copy-on-write),
//! save points, and loading the snapshot at start.
//!
//! Every snapshot is written to `temp-<pid>.rdb` in `dir`, flushed,
//! fsync'd, and renamed over `dbfilename`, so a crash mid-save never leaves
//! a half-written `dump.rdb`.

use super::childinfo::{self, Forking};
use super::sys;
use super::{convert, Child, ChildKind};
use crate::db::{Db, Entry};
use crate::rdb::{RdbItem, RdbReader, RdbWriter, WriterOptions};
use crate::server::loading::LoadHost;
use crate::server::Server;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Where the snapshot lives: `dir/dbfilename`.
pub fn rdb_path(srv: &Server) -> PathBuf {
    srv.config.dir.join(&srv.config.dbfilename)
}

/// Writes every database to `w` as an RDB stream, calling `on_key` after
/// each key (a BGSAVE child counts them for its reports). With `save_lru`
/// (an LRU eviction policy) each key's idle time goes along, in seconds;
/// with `repl`, the replication fields (see [`super::rdb_repl`]).
///
/// # Errors
/// The writer's.
pub fn write_rdb<W: Write>(
    dbs: &[Db],
    w: W,
    compress: bool,
    save_lru: bool,
    repl: Option<&super::rdb_repl::ReplInfo>,
    on_key: &mut dyn FnMut(),
) -> io::Result<W> {
    // `used-mem` as Redis writes it: what the server had allocated, which
    // a loader's INFO reports (`loading_rdb_used_mem`).
    let used_mem = crate::alloc::used_memory() as u64;
    let opts = WriterOptions { compress, used_mem, ..WriterOptions::default() };
    let mut rdb = RdbWriter::with_options(w, &opts)?;
    if let Some(r) = repl {
        rdb.aux(b"repl-stream-db", r.stream_db.to_string().as_bytes())?;
        rdb.aux(b"repl-id", r.id.as_bytes())?;
        rdb.aux(b"repl-offset", r.offset.to_string().as_bytes())?;
    }
    let clock = crate::server::lru_clock_of(crate::server::unix_ms());
    let now = crate::lfu::minutes(clock);
    for db in dbs.iter().filter(|db| !db.is_empty()) {
        rdb.select_db(db.id as u64)?;
        rdb.resize_db(db.len() as u64, db.volatile.len() as u64)?;
        // Under an LRU policy each key's idle time goes along, and under an
        // LFU policy its counter, as Redis saves them: a restarted server
        // then evicts the keys that were cold before it stopped.
        let lfu = db.lfu.get();
        for (k, e) in db.keys.iter() {
            if save_lru {
                rdb.write_idle(crate::server::evict::idle_time(clock, e.lru))?;
            }
            if let Some(p) = lfu {
                rdb.write_freq(crate::lfu::decayed(e, p.decay_time, now))?;
            }
            convert::write_entry(&mut rdb, k, e, db.expire_at(k))?;
            on_key();
        }
    }
    rdb.finish()
}

/// Writes a file through a temporary name: `write` fills `temp`, which is
/// then fsync'd and renamed over `path` (and the directory fsync'd).
///
/// # Errors
/// Any I/O failure; the temporary file is removed.
pub fn write_atomically(
    temp: &Path,
    path: &Path,
    write: impl FnOnce(BufWriter<File>) -> io::Result<BufWriter<File>>,
) -> io::Result<()> {
    let result = (|| {
        let f = File::create(temp)?;
        let w = write(BufWriter::with_capacity(64 * 1024, f))?;
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(temp, path)?;
        if let Some(dir) = path.parent() {
            // Make the rename itself durable; failure here is not fatal.
            let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(temp);
    }
    result
}

/// The temporary file process `pid` writes a snapshot to before renaming
/// it over `dbfilename` (Redis's `temp-<pid>.rdb`).
pub fn temp_rdb_path(srv: &Server, pid: u32) -> std::path::PathBuf {
    srv.config.dir.join(format!("temp-{pid}.rdb"))
}

/// Writes the whole dataset to `dir/dbfilename` (through
/// `temp-<pid>.rdb`), calling `on_key` after each key. Runs in the server
/// thread or in a forked child.
///
/// # Errors
/// Any I/O failure.
pub fn save_to_disk(srv: &Server, on_key: &mut dyn FnMut()) -> io::Result<()> {
    let temp = temp_rdb_path(srv, sys::getpid());
    let compress = srv.config.rdbcompression;
    let save_lru = srv.config.maxmemory_policy.is_lru();
    let repl = super::rdb_repl::to_save(srv);
    write_atomically(&temp, &rdb_path(srv), |w| {
        write_rdb(&srv.dbs, w, compress, save_lru, repl.as_ref(), on_key)
    })
}

/// SAVE: writes the snapshot now, in the server thread.
///
/// # Errors
/// Any I/O failure (logged here too).
pub fn save(srv: &mut Server) -> io::Result<()> {
    // `rdb-key-save-delay` (Redis's test hook) slows this save too; and
    // the final save of a shutdown watches for a second SIGINT, Redis's
    // "you insist": exit at once, leaving no temporary file.
    let delay = u64::try_from(srv.config.rdb_key_save_delay).unwrap_or(0);
    let shutting_down = srv.persist.shutting_down;
    let temp = temp_rdb_path(srv, sys::getpid());
    let mut keys = 0u32;
    let mut on_key = || {
        if delay > 0 {
            std::thread::sleep(std::time::Duration::from_micros(delay));
        }
        keys = keys.wrapping_add(1);
        if shutting_down && (delay > 0 || keys % 1024 == 0) && sys::sigint_pending() {
            tracing::warn!("You insist... exiting now.");
            let _ = std::fs::remove_file(&temp);
            std::process::exit(1);
        }
    };
    match save_to_disk(srv, &mut on_key) {
        Ok(()) => {
            tracing::info!("DB saved on disk");
            srv.dirty = 0;
            srv.rdb_last_save_time = srv.now_ms / 1000;
            srv.rdb_last_bgsave_status = "ok";
            Ok(())
        }
        Err(e) => {
            // As Redis's rdbSave: a failed foreground save is the caller's
            // error reply, and leaves `rdb_last_bgsave_status` (and so the
            // stop-writes-on-bgsave-error refusal) as it was.
            tracing::warn!(error = %e, "failed saving the DB");
            Err(e)
        }
    }
}

/// BGSAVE: forks; the child writes the snapshot and exits, the parent
/// records the child and returns at once. [`super::cron`] reaps it.
///
/// # Errors
/// fork failed.
pub fn bgsave(srv: &mut Server) -> io::Result<()> {
    srv.persist.last_bgsave_try_ms = srv.now_ms;
    srv.stats.rdb_saves += 1;
    match childinfo::fork(srv) {
        Ok(Forking::Child(mut report)) => {
            // In the child: write, then leave without running anything of
            // the parent's (see sys's module docs).
            let code = if save_to_disk(srv, &mut || report.key()).is_ok() { 0 } else { 1 };
            report.finish();
            sys::exit_now(code)
        }
        Ok(Forking::Parent(pid)) => {
            tracing::info!(pid, "background saving started");
            srv.rdb_bgsave_in_progress = true;
            srv.persist.dirty_before_bgsave = srv.dirty;
            let temp = temp_rdb_path(srv, pid as u32);
            srv.persist.child = Some(Child { pid, kind: ChildKind::Rdb, temp, started_ms: srv.now_ms });
            Ok(())
        }
        Err(e) => {
            tracing::warn!(error = %e, "can't save in background: fork failed");
            srv.rdb_last_bgsave_status = "err";
            Err(e)
        }
    }
}

/// The BGSAVE child ended: record the outcome.
pub(super) fn bgsave_done(srv: &mut Server, child: &Child, ok: bool) {
    srv.rdb_bgsave_in_progress = false;
    if ok {
        tracing::info!("background saving terminated with success");
        srv.dirty = srv.dirty.saturating_sub(srv.persist.dirty_before_bgsave);
        srv.rdb_last_save_time = srv.now_ms / 1000;
        srv.rdb_last_bgsave_status = "ok";
    } else {
        tracing::warn!("background saving failed");
        let _ = std::fs::remove_file(&child.temp);
        srv.rdb_last_bgsave_status = "err";
    }
}

/// What loading a snapshot found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LoadStats {
    /// Keys loaded.
    pub loaded: u64,
    /// Keys skipped because they had expired.
    pub expired: u64,
    /// Aggregates skipped because they were empty (corrupt, or written by
    /// an old Redis).
    pub empty: u64,
}

/// Loads the RDB file at `path` into the (empty) databases, skipping keys
/// whose deadline has passed and empty aggregates, telling `h` how far it
/// got as it goes (see [`LoadHost`]).
///
/// # Errors
/// An unreadable or corrupt file, or a database number out of range; a
/// shutdown while loading (see [`crate::server::loading::Pump`]).
pub fn load_rdb<H: LoadHost>(h: &mut H, path: &Path) -> Result<LoadStats, String> {
    let f = File::open(path).map_err(|e| format!("can't open {}: {e}", path.display()))?;
    h.begin(f.metadata().map(|m| m.len()).unwrap_or(0));
    load_rdb_from(h, BufReader::with_capacity(64 * 1024, f), false)
}

/// A reader that counts the bytes read through it, for the progress
/// reports: the count is shared, as the RDB reader owns the reader.
struct Counting<R> {
    inner: R,
    count: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Loads an RDB stream from `r` as [`load_rdb`] loads a file. It reads no
/// further than the stream's end (the checksum after the EOF opcode), so
/// what follows in `r` (the commands after an AOF's RDB preamble) is left
/// there. With `keep_expired` (an AOF's base), keys past their deadline
/// load too, as Redis loads an AOF preamble.
///
/// # Errors
/// As [`load_rdb`].
pub fn load_rdb_from<H: LoadHost, R: Read>(h: &mut H, r: R, keep_expired: bool) -> Result<LoadStats, String> {
    let count = std::rc::Rc::new(std::cell::Cell::new(0));
    let mut r = RdbReader::new(Counting { inner: r, count: count.clone() }).map_err(|e| e.to_string())?;
    r.verify_checksum(!h.with(|srv| srv.skip_checksum_validation));
    let mut stats = LoadStats::default();
    let mut db = 0usize;
    let (now, lru) = h.with(|srv| (srv.now_ms, srv.lru_clock));
    let mut reported = 0;
    while let Some(item) = r.next_item().map_err(|e| e.to_string())? {
        match item {
            RdbItem::SelectDb(n) => {
                let dbs = h.with(|srv| srv.dbs.len());
                if n as usize >= dbs {
                    return Err(format!(
                        "FATAL: Data file was created with a Redis server configured to handle more than {dbs} databases",
                    ));
                }
                db = n as usize;
            }
            RdbItem::Entry { key, value, expire_at_ms, freq, idle } => {
                if convert::is_empty_aggregate(&value) {
                    tracing::warn!("rdbLoadObject skipping empty key: {}", String::from_utf8_lossy(&key));
                    stats.empty += 1;
                    continue;
                }
                if !keep_expired && matches!(expire_at_ms, Some(t) if t <= now) {
                    stats.expired += 1;
                    h.with(|srv| {
                        if super::rdb_repl::feeds_expired(srv) {
                            let mut del = Vec::new();
                            super::aof::encode_command(&mut del, [&b"DEL"[..], &key].into_iter());
                            srv.repl.stream.feed(db, &del);
                        }
                    });
                    continue;
                }
                h.with(|srv| {
                    let value = convert::from_rdb(value, &srv.config.encoding)
                        .map_err(|why| format!("Internal error in RDB reading: {why}"))?;
                    let mut e = Entry::new(value, lru);
                    // A saved LFU counter counts under an LFU policy and a
                    // saved idle time under any other, as Redis's
                    // objectSetLRUOrLFU.
                    if srv.config.maxmemory_policy.is_lfu() {
                        if let Some(f) = freq {
                            e.lfu_counter = f;
                        }
                    } else if let Some(secs) = idle {
                        e.lru = crate::server::evict::lru_before(lru, secs);
                    }
                    srv.dbs[db].put(&key, e, expire_at_ms.unwrap_or(crate::db::NO_EXPIRE));
                    Ok::<(), String>(())
                })?;
                stats.loaded += 1;
                h.key_loaded();
            }
            RdbItem::Aux { key, value } => {
                h.with(|srv| srv.persist.rdb_repl.aux(&key, &value));
                if key == b"used-mem" {
                    let used = std::str::from_utf8(&value).ok().and_then(|v| v.parse().ok()).unwrap_or(0);
                    h.with(|srv| {
                        if let Some(state) = srv.load_state.as_mut() {
                            state.rdb_used_mem = used;
                        }
                    });
                }
            }
            RdbItem::ResizeDb { .. } | RdbItem::Eof => {}
        }
        let read = count.get();
        h.progress(read - reported, false).map_err(|_| "loading stopped by a shutdown".to_string())?;
        reported = read;
    }
    h.with(|srv| srv.persist.last_load = stats);
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Str, Value};
    use crate::server::Config;

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("spindle-persist-unit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn save_and_load_round_trip_and_drop_expired() {
        let dir = tmpdir("snap");
        let cfg = Config { dir: dir.clone(), ..Config::default() };
        let mut a = Server::new(cfg.clone());
        a.dbs[0].set(b"s", Value::Str(Str::from_bytes(b"hello")), 0);
        a.dbs[3].set(b"n", Value::Str(Str::from_bytes(b"42")), 0);
        a.dbs[0].set(b"gone", Value::Str(Str::from_bytes(b"x")), 0);
        a.dbs[0].set_expire(b"gone", 1);
        a.dbs[0].set(b"ttl", Value::Str(Str::from_bytes(b"y")), 0);
        a.dbs[0].set_expire(b"ttl", a.now_ms + 100_000);
        a.dirty = 5;
        save(&mut a).unwrap();
        assert_eq!(a.dirty, 0);
        assert!(!dir.join(format!("temp-{}.rdb", std::process::id())).exists());

        let mut b = Server::new(cfg);
        let stats = load_rdb(&mut b, &rdb_path(&a)).unwrap();
        assert_eq!(stats, LoadStats { loaded: 3, expired: 1, empty: 0 });
        let now = b.now_ms;
        assert_eq!(b.dbs[3].get(b"n", now).unwrap().value.encoding(), "int");
        assert_eq!(b.dbs[0].expire_at(b"ttl"), a.dbs[0].expire_at(b"ttl"));
        assert!(b.dbs[0].volatile.contains_key(&b"ttl"[..]));
        assert!(b.dbs[0].get(b"gone", now).is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
