//! The append-only file: every write command, in RESP, as it ran.
//!
//! Commands are appended to an in-memory buffer while they run (see
//! [`super::propagate`]), with a `SELECT` whenever the database differs
//! from the previous command's. Before the loop sleeps, and so before any
//! reply of this iteration reaches a client, the buffer is written to the
//! file; then, by `appendfsync`:
//!
//! - `always`: `fdatasync` at once, still before the replies go out, so an
//!   acknowledged write is on disk;
//! - `everysec`: the cron starts an `fdatasync` on a short-lived background
//!   thread (through a duplicated descriptor) at most once a second, and not
//!   while the previous one still runs; a crash loses about a second;
//! - `no`: the kernel decides.
//!
//! The file is Redis 7's multi-part AOF: a folder (`appenddirname`) with
//! a base file, incr files and a manifest (see [`super::manifest`]).
//! Commands go to the last incr file. Loading is in [`super::aof_load`],
//! rewriting in [`super::aof_rewrite`].

use super::manifest::{self, Manifest};
use crate::server::config::AppendFsync;
use crate::server::Server;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::PathBuf;
use std::thread::JoinHandle;

/// The AOF's state.
#[derive(Debug, Default)]
pub struct Aof {
    /// The file commands are written to (append mode): the last incr
    /// file, or while AOF is being turned on, the temporary incr file
    /// (`waiting_rewrite`). `None` when no command is logged.
    pub file: Option<File>,
    /// Which files make up the AOF.
    pub manifest: Manifest,
    /// AOF was turned on at run time and waits for its first rewrite
    /// (Redis's `AOF_WAIT_REWRITE`): commands go to the temporary incr
    /// file while the rewrite runs, and the AOF is on once it is done.
    pub waiting_rewrite: bool,
    /// Commands not yet written to the file.
    pub log: super::stream::CommandStream,
    /// Bytes written since the last fdatasync (everysec).
    pub fsync_pending: bool,
    /// When the last everysec fdatasync started (Unix ms).
    pub last_fsync_ms: i64,
    /// The running everysec fdatasync.
    pub fsync_thread: Option<JoinHandle<io::Result<()>>>,
    /// The AOF's size: the base and incr files together
    /// (`aof_current_size`).
    pub current_size: u64,
    /// The size of the file written to (a failed write is cut back to it).
    pub incr_size: u64,
    /// The size after the last rewrite (auto-aof-rewrite-percentage).
    pub base_size: u64,
    /// The last write to the file failed (`ENOSPC`, `EFBIG`, `EIO`), and
    /// no write has succeeded since: the system's text, for the MISCONF
    /// refusal of writes and INFO's `aof_last_write_status`.
    pub write_error: Option<String>,
    /// The last everysec fdatasync failed, and none has succeeded since.
    pub fsync_error: Option<String>,
    /// Microseconds to sleep before each write of a non-empty buffer
    /// (DEBUG AOF-FLUSH-SLEEP, Redis's `aof_flush_sleep`): a test hook
    /// that widens the window between the write of the AOF and the
    /// replies it must precede.
    pub flush_sleep_us: u64,
    /// The time (Unix seconds) of the last `#TS:` annotation written
    /// (Redis's `aof_cur_timestamp`).
    pub annotated_at: u64,
}

impl Aof {
    /// Why writes are refused, if they are: the AOF cannot be written (or
    /// synced), so a write acknowledged now might not survive a crash.
    /// Redis's `writeCommandsDeniedByDiskError` for the AOF.
    pub fn disk_error(&self) -> Option<&str> {
        self.write_error.as_deref().or(self.fsync_error.as_deref())
    }
}

/// An IO error as C's `strerror` words it ("No space left on device"),
/// without Rust's " (os error 28)".
pub(super) fn strerror(e: &io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// The AOF folder: `dir/appenddirname`.
pub fn folder(srv: &Server) -> PathBuf {
    srv.config.dir.join(&srv.config.appenddirname)
}

/// Where an old-style, single-file AOF lives: `dir/appendfilename`. One
/// found there at start is moved into the folder as its base file.
pub fn old_style_path(srv: &Server) -> PathBuf {
    srv.config.dir.join(&srv.config.appendfilename)
}

/// Appends one command in RESP to `out`.
pub fn encode_command<'a>(out: &mut Vec<u8>, argv: impl ExactSizeIterator<Item = &'a [u8]>) {
    out.extend_from_slice(format!("*{}\r\n", argv.len()).as_bytes());
    for a in argv {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

pub(super) fn select_cmd(db: usize) -> Vec<u8> {
    let n = db.to_string();
    let mut out = Vec::new();
    encode_command(&mut out, [&b"SELECT"[..], n.as_bytes()].into_iter());
    out
}

impl Aof {
    /// Whether commands are being logged.
    pub fn is_on(&self) -> bool {
        self.file.is_some()
    }

    /// With `aof-timestamp-enabled`: a `#TS:<now>` annotation line before
    /// the next command, if none was written this second (Redis's
    /// `genAofTimestampAnnotationIfNeeded`). Loading skips it.
    pub fn annotate(&mut self, now_s: u64) {
        if now_s > self.annotated_at {
            self.annotated_at = now_s;
            self.log.buf.extend_from_slice(format!("#TS:{now_s}\r\n").as_bytes());
        }
    }

    /// Writes the buffer to the file, and with `always` fdatasyncs it.
    /// Called before replies are sent, so that no write is acknowledged
    /// before it is in the file.
    ///
    /// A failed write (a full disk, `ENOSPC`; a file-size limit, `EFBIG`)
    /// is handled as Redis's `flushAppendOnlyFile` handles it. What part
    /// of the buffer did reach the file is cut off again, so the file
    /// still ends with a whole command, and the buffer is kept for the
    /// next flush to retry. With `appendfsync always` the process exits:
    /// the replies about to go out would acknowledge writes that are not
    /// on disk, and Redis exits there too rather than break that promise.
    /// Otherwise [`Aof::write_error`] is set, and write commands (and
    /// PING) are refused with MISCONF until a write succeeds. A failed
    /// fdatasync with `always` exits as well.
    pub fn flush(&mut self, policy: AppendFsync) {
        let always = policy == AppendFsync::Always;
        if !self.write_buffer(always) {
            return;
        }
        match policy {
            AppendFsync::Always => {
                if let Some(Err(e)) = self.file.as_ref().map(File::sync_data) {
                    tracing::error!(
                        error = %e,
                        "can't persist the AOF for an fsync error when the AOF fsync policy is 'always'; exiting"
                    );
                    std::process::exit(1);
                }
            }
            AppendFsync::EverySec => self.fsync_pending = true,
            AppendFsync::No => {}
        }
    }

    /// Writes the buffer to the file; returns whether it is all there now
    /// (false after a failed write, handled as [`flush`](Aof::flush) says;
    /// `exit_on_error` is the `always` policy's exit).
    fn write_buffer(&mut self, exit_on_error: bool) -> bool {
        if self.log.buf.is_empty() {
            return true;
        }
        if self.flush_sleep_us > 0 {
            std::thread::sleep(std::time::Duration::from_micros(self.flush_sleep_us));
        }
        let Some(f) = &mut self.file else {
            self.log.buf.clear();
            return true;
        };
        if let Err(e) = f.write_all(&self.log.buf) {
            if let Err(t) = f.set_len(self.incr_size) {
                tracing::error!(error = %t, "could not remove a short write from the AOF; it may not load");
            }
            if exit_on_error {
                tracing::error!(
                    error = %e,
                    "can't recover from an AOF write error when the AOF fsync policy is 'always'; exiting"
                );
                std::process::exit(1);
            }
            if self.write_error.is_none() {
                tracing::error!(error = %e, "error writing to the AOF; refusing writes until it can be written");
            }
            self.write_error = Some(strerror(&e));
            return false;
        }
        if self.write_error.take().is_some() {
            tracing::warn!("AOF write error looks solved, writes are accepted again");
        }
        self.current_size += self.log.buf.len() as u64;
        self.incr_size += self.log.buf.len() as u64;
        // As Redis's `flushAppendOnlyFile`: a small buffer is reused, a
        // big one (a burst of writes, a large value) is freed rather than
        // held for good.
        if self.log.buf.capacity() < 4000 {
            self.log.buf.clear();
        } else {
            self.log.buf = Vec::new();
        }
        true
    }

    /// The everysec fsync: starts a background fdatasync when a second has
    /// passed and data is waiting. Called from the cron.
    pub fn cron_fsync(&mut self, now_ms: i64) {
        if self.fsync_thread.as_ref().is_some_and(|t| t.is_finished()) {
            match self.fsync_thread.take().map(JoinHandle::join) {
                Some(Ok(Err(e))) => {
                    tracing::error!(error = %e, "background AOF fdatasync failed; refusing writes until one succeeds");
                    self.fsync_error = Some(strerror(&e));
                    // Synced again at the next chance.
                    self.fsync_pending = true;
                }
                Some(Ok(Ok(()))) => self.fsync_error = None,
                _ => {}
            }
        }
        if !self.fsync_pending || self.fsync_thread.is_some() || now_ms - self.last_fsync_ms < 1000 {
            return;
        }
        let Some(f) = self.file.as_ref().and_then(|f| f.try_clone().ok()) else { return };
        self.fsync_pending = false;
        self.last_fsync_ms = now_ms;
        self.fsync_thread =
            std::thread::Builder::new().name("kv-aof-fsync".into()).spawn(move || f.sync_data()).ok();
    }

    /// Writes what is buffered and fsyncs (shutdown).
    pub fn flush_and_sync(&mut self) {
        // On the way out a failed write or sync is logged, and the shutdown
        // goes on (to its snapshot, if one is due), as Redis's does.
        self.write_buffer(false);
        if let Some(Err(e)) = self.file.as_ref().map(File::sync_data) {
            tracing::error!(error = %e, "failed to fsync the AOF");
        }
        if let Some(t) = self.fsync_thread.take() {
            let _ = t.join();
        }
    }
}

/// fdatasyncs and closes a file on a short-lived thread, so that the
/// loop does not wait for the disk (Redis's `aof_background_fsync_and_close`).
fn sync_and_close_in_background(f: File) {
    let spawned = std::thread::Builder::new().name("kv-aof-close".into()).spawn(move || {
        if let Err(e) = f.sync_data() {
            tracing::warn!(error = %e, "fdatasync of a finished AOF incr file failed");
        }
    });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "could not start the thread that syncs a finished AOF file");
    }
}

/// Opens `folder/name` for appending (creating it; with `truncate`,
/// emptying it).
fn open_append(path: &std::path::Path, truncate: bool) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.create(true).append(true);
    if truncate {
        // `append` and `truncate` cannot be asked together; empty it first.
        File::create(path)?;
    }
    o.open(path)
}

/// At start, after the data is loaded, with appendonly on (Redis's
/// `aofOpenIfNeededOnServerStart`): creates the folder; when the manifest
/// names no file, writes a base file from the loaded data (so the AOF
/// alone holds the dataset); opens the last incr file for appending, or a
/// new one; and persists the manifest.
///
/// # Errors
/// Any I/O failure (the server must not start).
pub fn open_on_start(srv: &mut Server) -> io::Result<()> {
    let folder = folder(srv);
    std::fs::create_dir_all(&folder)?;
    let name = srv.config.appendfilename.clone();
    let mut m = std::mem::take(&mut srv.persist.aof.manifest);
    if m.is_empty() {
        let base = m.new_base(&name, srv.config.aof_use_rdb_preamble);
        super::aof_rewrite::write_base_now(srv, &folder.join(&base))?;
        tracing::info!(file = %base, "creating AOF base file on server start");
    }
    let had_incr = !m.incr.is_empty();
    let incr = m.last_incr(&name);
    let f = open_append(&folder.join(&incr), false)?;
    m.persist(&folder, &name)?;
    let size = |n: &str| std::fs::metadata(folder.join(n)).map_or(0, |md| md.len());
    let aof = &mut srv.persist.aof;
    aof.base_size = m.base.as_ref().map_or(0, |b| size(&b.name));
    aof.incr_size = f.metadata()?.len();
    aof.current_size = aof.base_size + m.incr.iter().map(|i| size(&i.name)).sum::<u64>();
    aof.manifest = m;
    aof.file = Some(f);
    aof.log.db = None;
    aof.waiting_rewrite = false;
    if had_incr {
        tracing::info!(file = %incr, "opening AOF incr file on server start");
    } else {
        tracing::info!(file = %incr, "creating AOF incr file on server start");
    }
    Ok(())
}

/// When a rewrite starts (Redis's `openNewIncrAofForAppend`): commands
/// from now on go to a new incr file, which the manifest names before the
/// child forks, so that the child's snapshot plus that file is the whole
/// dataset. While AOF is being turned on, the new file is the temporary
/// incr file instead, named in the manifest only when the rewrite ends.
/// Nothing changes when no command is being logged.
///
/// # Errors
/// The file could not be created or the manifest written; nothing
/// changed then.
pub fn open_new_incr(srv: &mut Server) -> io::Result<()> {
    if !srv.aof_enabled {
        return Ok(());
    }
    let folder = folder(srv);
    let name = srv.config.appendfilename.clone();
    let aof = &mut srv.persist.aof;
    let (file, manifest) = if aof.waiting_rewrite {
        (open_append(&folder.join(manifest::temp_incr_name(&name)), true)?, None)
    } else {
        let mut m = aof.manifest.clone();
        let incr = m.new_incr(&name);
        let f = open_append(&folder.join(&incr), true)?;
        if let Err(e) = m.persist(&folder, &name) {
            let _ = std::fs::remove_file(folder.join(&incr));
            return Err(e);
        }
        tracing::info!(file = %incr, "creating AOF incr file on background rewrite");
        (f, Some(m))
    };
    if let Some(old) = aof.file.replace(file) {
        sync_and_close_in_background(old);
    }
    if let Some(m) = manifest {
        aof.manifest = m;
    }
    aof.incr_size = 0;
    aof.log.db = None;
    aof.fsync_pending = false;
    Ok(())
}

/// CONFIG SET appendonly yes (Redis's `startAppendOnly`): AOF waits for a
/// rewrite, which writes the dataset as a new base file while the
/// commands that arrive meanwhile go to a temporary incr file; when it
/// ends both join the manifest and AOF is on. If another child runs, the
/// rewrite is scheduled for when it is done.
///
/// # Errors
/// The rewrite could not start; AOF stays off.
pub fn start(srv: &mut Server) -> io::Result<()> {
    srv.aof_enabled = true;
    srv.persist.aof.waiting_rewrite = true;
    match srv.persist.child.as_ref().map(|c| c.kind) {
        Some(super::ChildKind::Rdb) => {
            tracing::warn!(
                "AOF was enabled but there is already another background operation. \
                 An AOF background was scheduled to start when possible."
            );
            srv.persist.aof_rewrite_scheduled = true;
        }
        _ if srv.persist.in_exec => {
            tracing::warn!(
                "AOF was enabled during a transaction. \
                 An AOF background was scheduled to start when possible."
            );
            srv.persist.aof_rewrite_scheduled = true;
        }
        kind => {
            if kind == Some(super::ChildKind::AofRewrite) {
                tracing::warn!(
                    "AOF was enabled but there is already an AOF rewriting in background. \
                     Stopping background AOF and starting a rewrite now."
                );
                super::kill_child(srv);
            }
            if let Err(e) = super::aof_rewrite::bgrewrite(srv) {
                tracing::warn!(
                    "Redis needs to enable the AOF but can't trigger a background AOF rewrite \
                     operation. Check the above logs for more info about the error."
                );
                srv.aof_enabled = false;
                srv.persist.aof.waiting_rewrite = false;
                return Err(e);
            }
        }
    }
    let aof = &mut srv.persist.aof;
    if aof.write_error.take().is_some() || aof.fsync_error.take().is_some() {
        tracing::warn!("AOF reopened; the last write error is forgotten");
    }
    Ok(())
}

/// CONFIG SET appendonly no (Redis's `stopAppendOnly`): writes and syncs
/// what is buffered, closes the file, and stops a running rewrite.
pub fn stop(srv: &mut Server) {
    srv.persist.aof.flush_and_sync();
    if let Some(c) = srv.persist.child.as_ref().filter(|c| c.kind == super::ChildKind::AofRewrite) {
        tracing::info!(pid = c.pid, "Killing running AOF rewrite child");
        super::kill_child(srv);
    }
    let aof = &mut srv.persist.aof;
    aof.file = None;
    aof.log.buf.clear();
    aof.log.db = None;
    aof.waiting_rewrite = false;
    aof.incr_size = 0;
    aof.write_error = None;
    aof.fsync_error = None;
    srv.persist.aof_rewrite_scheduled = false;
    srv.aof_enabled = false;
}
