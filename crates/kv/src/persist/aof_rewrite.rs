//! AOF rewriting: the dataset written as a new base file, in the
//! background (BGREWRITEAOF, automatic rewrites, turning AOF on at run
//! time) or at start.
//!
//! How a background rewrite goes (Redis 7's):
//!
//! 1. The parent writes out its buffer and starts a new incr file, named
//!    in the manifest at once (see [`super::aof::open_new_incr`]); from
//!    now on commands go there.
//! 2. It forks. The child writes the dataset, as of the fork, to
//!    `dir/temp-rewriteaof-bg-<pid>.aof`: an RDB file with
//!    `aof-use-rdb-preamble yes` (the default; smaller and faster to
//!    load), else commands. It fsyncs and exits.
//! 3. The parent, seeing it exit with success, renames the file into the
//!    folder as the next base file, marks the old base and every incr
//!    file but the last as history, writes the manifest, and deletes the
//!    history files on a background thread.
//!
//! Nothing is kept in memory for the rewrite: the new incr file holds
//! what arrived meanwhile. A crash at any step leaves a manifest that
//! names complete data: the old one (old base, all incr files) until the
//! rename of the new one, which is atomic.
//!
//! Failed rewrites are retried by the automatic trigger with Redis's
//! back-off: after three failures in a row, not before 1, 2, 4 ... 60
//! minutes (BGREWRITEAOF is never held back).

use super::aof::{encode_command, folder, select_cmd};
use super::childinfo::{self, Forking};
use super::manifest;
use super::sys;
use super::{Child, ChildKind};
use crate::db::{Db, Value};
use crate::server::Server;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Writes the dataset as the commands that rebuild it: per database a
/// SELECT, then per key SET / RPUSH / SADD / HSET / ZADD (batches of 64
/// elements, as Redis) and PEXPIREAT for a key with a deadline. Calls
/// `on_key` after each key (a rewrite child counts them for its reports).
///
/// # Errors
/// The writer's.
pub fn write_commands<W: Write>(dbs: &[Db], mut w: W, on_key: &mut dyn FnMut()) -> io::Result<W> {
    let mut cmd = Vec::with_capacity(4096);
    for db in dbs.iter().filter(|db| !db.is_empty()) {
        w.write_all(&select_cmd(db.id))?;
        for (k, e) in db.keys.iter() {
            let out = (&mut w, &mut cmd);
            match &e.value {
                Value::Str(s) => emit(out, b"SET", k, std::iter::once(vec![s.to_vec()]))?,
                Value::Hash(h) => emit(out, b"HSET", k, h.iter().map(|(f, v)| vec![f.to_vec(), v.to_vec()]))?,
                Value::Set(s) => emit(out, b"SADD", k, s.iter().map(|m| vec![m.into_owned()]))?,
                Value::List(l) => {
                    let items = super::convert::listzset::list_items(l);
                    emit(out, b"RPUSH", k, items.into_iter().map(|x| vec![x]))?
                }
                Value::ZSet(z) => {
                    let pairs = super::convert::listzset::zset_pairs(z);
                    let fmt =
                        |(m, s): (Vec<u8>, f64)| vec![crate::util::num::format_double(s).into_bytes(), m];
                    emit(out, b"ZADD", k, pairs.into_iter().map(fmt))?
                }
            }
            if e.has_ttl() {
                cmd.clear();
                let at = db.expire_at(k).to_string();
                encode_command(&mut cmd, [&b"PEXPIREAT"[..], &k[..], at.as_bytes()].into_iter());
                w.write_all(&cmd)?;
            }
            on_key();
        }
    }
    w.flush()?;
    Ok(w)
}

/// Writes `name key elems...` commands, 64 element groups per command.
fn emit<W: Write>(
    (w, cmd): (&mut W, &mut Vec<u8>),
    name: &[u8],
    key: &[u8],
    groups: impl Iterator<Item = Vec<Vec<u8>>>,
) -> io::Result<()> {
    const BATCH: usize = 64;
    let mut batch: Vec<Vec<u8>> = Vec::new();
    let mut n = 0;
    let mut groups = groups.peekable();
    while let Some(g) = groups.next() {
        batch.extend(g);
        n += 1;
        if n == BATCH || groups.peek().is_none() {
            cmd.clear();
            let args = [name, key].into_iter().chain(batch.iter().map(Vec::as_slice));
            encode_command(cmd, ExactLen(args, 2 + batch.len()));
            w.write_all(cmd)?;
            batch.clear();
            n = 0;
        }
    }
    Ok(())
}

/// An iterator with a known length (for [`encode_command`]).
struct ExactLen<I>(I, usize);

impl<I: Iterator> Iterator for ExactLen<I> {
    type Item = I::Item;
    fn next(&mut self) -> Option<I::Item> {
        let x = self.0.next()?;
        self.1 -= 1;
        Some(x)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.1, Some(self.1))
    }
}

impl<I: Iterator> ExactSizeIterator for ExactLen<I> {}

/// Writes the dataset to `w` as a base file holds it: RDB with
/// `aof-use-rdb-preamble`, else commands.
fn write_dataset<W: Write>(srv: &Server, w: W, on_key: &mut dyn FnMut()) -> io::Result<W> {
    if srv.config.aof_use_rdb_preamble {
        let save_lru = srv.config.maxmemory_policy.is_lru();
        super::snapshot::write_rdb(&srv.dbs, w, srv.config.rdbcompression, save_lru, None, on_key)
    } else {
        let mut w = w;
        if srv.config.aof_timestamp_enabled {
            // As Redis's rewrite: the base starts with the time it was
            // taken, for `redis-check-aof --truncate-to-timestamp`.
            let now =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
            w.write_all(format!("#TS:{now}\r\n").as_bytes())?;
        }
        write_commands(&srv.dbs, w, on_key)
    }
}

/// Writes the dataset as the base file `path`, in the foreground (at
/// start, when appendonly is on and the manifest names no file yet).
///
/// # Errors
/// Any I/O failure.
pub fn write_base_now(srv: &Server, path: &Path) -> io::Result<()> {
    let temp = srv.config.dir.join(format!("temp-rewriteaof-{}.aof", sys::getpid()));
    super::snapshot::write_atomically(&temp, path, |w| write_dataset(srv, w, &mut || {}))
}

/// Whether an automatic rewrite is held back after failures (Redis's
/// `aofRewriteLimited`): from the third failure in a row, the next try
/// waits 1 minute, then 2, 4, ... up to 60.
pub fn limited(srv: &mut Server) -> bool {
    let p = &mut srv.persist;
    if srv.stats.aof_rewrite_failures < 3 {
        p.rewrite_delay_min = 0;
        p.next_rewrite_ms = 0;
        return false;
    }
    if p.next_rewrite_ms != 0 {
        if srv.now_ms < p.next_rewrite_ms {
            return true;
        }
        p.next_rewrite_ms = 0;
        return false;
    }
    p.rewrite_delay_min = if p.rewrite_delay_min == 0 { 1 } else { (p.rewrite_delay_min * 2).min(60) };
    p.next_rewrite_ms = srv.now_ms + p.rewrite_delay_min * 60_000;
    tracing::warn!(
        minutes = p.rewrite_delay_min,
        "background AOF rewrite has repeatedly failed and triggered the limit; will retry later"
    );
    true
}

/// Starts a background rewrite (see the module documentation).
///
/// # Errors
/// The folder, the new incr file or the manifest could not be written, or
/// fork failed; the rewrite counts as failed.
pub fn bgrewrite(srv: &mut Server) -> io::Result<()> {
    let prepared = (|| {
        std::fs::create_dir_all(folder(srv))?;
        // Whatever is buffered belongs to the file written so far.
        let policy = srv.config.appendfsync;
        srv.persist.aof.flush(policy);
        super::aof::open_new_incr(srv)
    })();
    if let Err(e) = prepared {
        tracing::warn!(error = %e, "can't start an AOF rewrite: the AOF folder or incr file can't be written");
        rewrite_failed(srv);
        return Err(e);
    }
    srv.stats.aof_rewrites += 1;
    match childinfo::fork(srv) {
        Ok(Forking::Child(mut report)) => {
            let temp = srv.config.dir.join(format!("temp-rewriteaof-bg-{}.aof", sys::getpid()));
            let code = (|| -> io::Result<()> {
                let f = File::create(&temp)?;
                let w = write_dataset(srv, BufWriter::with_capacity(64 * 1024, f), &mut || report.key())?;
                w.into_inner().map_err(|e| e.into_error())?.sync_all()
            })()
            .map_or(1, |()| 0);
            report.finish();
            sys::exit_now(code)
        }
        Ok(Forking::Parent(pid)) => {
            tracing::info!(pid, "background append only file rewriting started");
            srv.aof_rewrite_in_progress = true;
            srv.persist.aof_rewrite_scheduled = false;
            let temp = srv.config.dir.join(format!("temp-rewriteaof-bg-{pid}.aof"));
            srv.persist.child =
                Some(Child { pid, kind: ChildKind::AofRewrite, temp, started_ms: srv.now_ms });
            Ok(())
        }
        Err(e) => {
            tracing::warn!(error = %e, "can't rewrite the append only file in background: fork failed");
            rewrite_failed(srv);
            Err(e)
        }
    }
}

/// The rewrite child ended: on success its file becomes the new base
/// (and, if AOF was being turned on, the temporary incr file its first
/// incr file), the files it replaces become history, and the manifest is
/// written. On failure everything stays as it was, and AOF being turned
/// on tries again.
pub(super) fn rewrite_done(srv: &mut Server, child: &Child, ok: bool) {
    srv.aof_rewrite_in_progress = false;
    let installed = if ok { install(srv, child) } else { Err(io::Error::other("the rewrite child failed")) };
    let _ = std::fs::remove_file(&child.temp);
    match installed {
        Ok(()) => {
            tracing::info!("background AOF rewrite finished successfully");
            srv.persist.aof_last_rewrite_failed = false;
            srv.stats.aof_rewrite_failures = 0;
            srv.persist.aof.waiting_rewrite = false;
            delete_history(srv);
        }
        Err(e) => {
            tracing::warn!(error = %e, "background AOF rewrite failed");
            rewrite_failed(srv);
            let aof = &mut srv.persist.aof;
            if aof.waiting_rewrite {
                // What the temporary incr file holds is in no manifest; the
                // next try starts it again from an empty file.
                aof.log.buf.clear();
                aof.file = None;
                let temp = manifest::temp_incr_name(&srv.config.appendfilename);
                tracing::info!(file = %temp, "Removing the temp incr aof file");
                let _ = std::fs::remove_file(folder(srv).join(temp));
                srv.persist.aof_rewrite_scheduled = true;
            }
        }
    }
}

/// The renames and the manifest of a successful rewrite.
fn install(srv: &mut Server, child: &Child) -> io::Result<()> {
    let folder = folder(srv);
    let name = srv.config.appendfilename.clone();
    let mut m = srv.persist.aof.manifest.clone();
    let base = m.new_base(&name, srv.config.aof_use_rdb_preamble);
    let base_path = folder.join(&base);
    std::fs::rename(&child.temp, &base_path)?;
    let mut new_incr = None;
    if srv.persist.aof.waiting_rewrite {
        let incr = folder.join(m.new_incr(&name));
        if let Err(e) = std::fs::rename(folder.join(manifest::temp_incr_name(&name)), &incr) {
            let _ = std::fs::remove_file(&base_path);
            return Err(e);
        }
        new_incr = Some(incr);
    }
    m.mark_rewritten_incr_as_history(srv.persist.aof.file.is_some());
    if let Err(e) = m.persist(&folder, &name) {
        let _ = std::fs::remove_file(&base_path);
        if let Some(incr) = new_incr {
            let _ = std::fs::rename(incr, folder.join(manifest::temp_incr_name(&name)));
        }
        return Err(e);
    }
    let aof = &mut srv.persist.aof;
    aof.manifest = m;
    if aof.file.is_some() {
        let base_size = std::fs::metadata(&base_path).map_or(0, |md| md.len());
        aof.current_size = base_size + aof.incr_size;
        aof.base_size = aof.current_size;
    }
    Ok(())
}

/// Deletes the history files, on a background thread (a big file's
/// unlink can take a while), and drops them from the manifest, unless
/// `aof-disable-auto-gc` keeps them (Redis's `aofDelHistoryFiles`).
pub fn delete_history(srv: &mut Server) {
    let folder = folder(srv);
    let aof = &mut srv.persist.aof;
    if srv.config.aof_disable_auto_gc || aof.manifest.history.is_empty() {
        return;
    }
    let paths: Vec<_> = aof.manifest.history.drain(..).map(|f| folder.join(f.name)).collect();
    for p in &paths {
        tracing::info!(file = %p.display(), "removing the AOF history file in the background");
    }
    let spawned = std::thread::Builder::new().name("kv-aof-unlink".into()).spawn(move || {
        for p in paths {
            let _ = std::fs::remove_file(p);
        }
    });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "could not start the thread that deletes AOF history files");
    }
    if let Err(e) = aof.manifest.persist(&folder, &srv.config.appendfilename) {
        tracing::warn!(error = %e, "could not write the AOF manifest after dropping history files");
    }
}

/// Records a failed rewrite (`aof_last_bgrewrite_status:err`,
/// `aof_rewrites_consecutive_failures`).
fn rewrite_failed(srv: &mut Server) {
    srv.persist.aof_last_rewrite_failed = true;
    srv.stats.aof_rewrite_failures += 1;
}
