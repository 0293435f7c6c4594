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
//! This is a single-file AOF (`dir/appendfilename`), as Redis had before
//! 7.0; Redis 7's multi-part AOF (appendonlydir and a manifest) is not
//! implemented.

use super::childinfo::{self, Forking};
use super::sys;
use super::{Child, ChildKind};
use crate::db::{Db, Value};
use crate::server::client::Client;
use crate::server::config::AppendFsync;
use crate::server::Server;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::thread::JoinHandle;

/// The AOF's state.
#[derive(Debug, Default)]
pub struct Aof {
    /// The open file (append mode), when appendonly is on.
    pub file: Option<File>,
    /// Commands not yet written to the file.
    pub buf: Vec<u8>,
    /// The database the file's stream has selected (`None`: unknown, the
    /// next command writes a SELECT).
    pub db: Option<usize>,
    /// While a rewrite runs: every command fed since it started.
    pub rewrite_buf: Option<Vec<u8>>,
    /// The database `rewrite_buf` has selected.
    pub rewrite_db: Option<usize>,
    /// Bytes written since the last fdatasync (everysec).
    pub fsync_pending: bool,
    /// When the last everysec fdatasync started (Unix ms).
    pub last_fsync_ms: i64,
    /// The running everysec fdatasync.
    pub fsync_thread: Option<JoinHandle<io::Result<()>>>,
    /// The file's size.
    pub current_size: u64,
    /// The size after the last rewrite (auto-aof-rewrite-percentage).
    pub base_size: u64,
    /// The last write to the file failed (`ENOSPC`, `EFBIG`, `EIO`), and
    /// no write has succeeded since: the system's text, for the MISCONF
    /// refusal of writes and INFO's `aof_last_write_status`.
    pub write_error: Option<String>,
    /// The last everysec fdatasync failed, and none has succeeded since.
    pub fsync_error: Option<String>,
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
fn strerror(e: &io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// `dir/appendfilename`.
pub fn aof_path(srv: &Server) -> PathBuf {
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

fn select_cmd(db: usize) -> Vec<u8> {
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

    /// Appends a command (already in RESP) that ran against `db`.
    pub fn feed(&mut self, db: usize, cmd: &[u8]) {
        if self.db != Some(db) {
            self.buf.extend_from_slice(&select_cmd(db));
            self.db = Some(db);
        }
        self.buf.extend_from_slice(cmd);
        if let Some(rb) = &mut self.rewrite_buf {
            if self.rewrite_db != Some(db) {
                rb.extend_from_slice(&select_cmd(db));
                self.rewrite_db = Some(db);
            }
            rb.extend_from_slice(cmd);
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
        if self.buf.is_empty() {
            return true;
        }
        let Some(f) = &mut self.file else {
            self.buf.clear();
            return true;
        };
        if let Err(e) = f.write_all(&self.buf) {
            if let Err(t) = f.set_len(self.current_size) {
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
        self.current_size += self.buf.len() as u64;
        self.buf.clear();
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

/// Opens (creating if needed) the AOF for appending.
///
/// # Errors
/// The open's.
pub fn open(srv: &mut Server) -> io::Result<()> {
    let f = OpenOptions::new().create(true).append(true).open(aof_path(srv))?;
    let size = f.metadata()?.len();
    srv.persist.aof.current_size = size;
    srv.persist.aof.base_size = size;
    srv.persist.aof.file = Some(f);
    srv.persist.aof.db = None;
    Ok(())
}

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

/// Rewrites the AOF from the dataset in the foreground (when appendonly is
/// turned on at start without a file: the file starts with the dataset).
///
/// # Errors
/// Any I/O failure.
pub fn rewrite_now(srv: &mut Server) -> io::Result<()> {
    let temp = srv.config.dir.join(format!("temp-rewriteaof-{}.aof", sys::getpid()));
    super::snapshot::write_atomically(&temp, &aof_path(srv), |w| write_commands(&srv.dbs, w, &mut || {}))
}

/// BGREWRITEAOF: forks a child that writes the dataset as commands to a
/// temporary file; meanwhile new commands also go to the rewrite buffer,
/// which is appended to the file before it replaces the AOF (in the cron).
///
/// # Errors
/// fork failed.
pub fn bgrewrite(srv: &mut Server) -> io::Result<()> {
    // Whatever is buffered belongs to the old file; write it first so the
    // rewrite buffer starts clean.
    let policy = srv.config.appendfsync;
    srv.persist.aof.flush(policy);
    srv.stats.aof_rewrites += 1;
    match childinfo::fork(srv) {
        Ok(Forking::Child(mut report)) => {
            let temp = srv.config.dir.join(format!("temp-rewriteaof-bg-{}.aof", sys::getpid()));
            let code = (|| -> io::Result<()> {
                let f = File::create(&temp)?;
                let w =
                    write_commands(&srv.dbs, BufWriter::with_capacity(64 * 1024, f), &mut || report.key())?;
                w.into_inner().map_err(|e| e.into_error())?.sync_all()
            })()
            .map_or(1, |()| 0);
            report.finish();
            sys::exit_now(code)
        }
        Ok(Forking::Parent(pid)) => {
            tracing::info!(pid, "background append only file rewriting started");
            srv.aof_rewrite_in_progress = true;
            srv.persist.aof.rewrite_buf = Some(Vec::new());
            srv.persist.aof.rewrite_db = None;
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

/// The rewrite child ended: on success append the rewrite buffer to its
/// file, fsync, and rename it over the AOF, which it becomes.
pub(super) fn rewrite_done(srv: &mut Server, child: &Child, ok: bool) {
    srv.aof_rewrite_in_progress = false;
    let rb = srv.persist.aof.rewrite_buf.take().unwrap_or_default();
    let rewrite_db = srv.persist.aof.rewrite_db.take();
    if !ok {
        tracing::warn!("background AOF rewrite failed");
        let _ = std::fs::remove_file(&child.temp);
        rewrite_failed(srv);
        return;
    }
    let path = aof_path(srv);
    let swap = || -> io::Result<File> {
        let mut f = OpenOptions::new().append(true).open(&child.temp)?;
        f.write_all(&rb)?;
        f.sync_all()?;
        std::fs::rename(&child.temp, &path)?;
        Ok(f)
    };
    match swap() {
        Ok(f) => {
            let aof = &mut srv.persist.aof;
            if aof.is_on() {
                // The pending buffer is in the rewrite buffer already.
                aof.buf.clear();
                aof.db = rewrite_db;
                if let Some(t) = aof.fsync_thread.take() {
                    let _ = t.join();
                }
                aof.current_size = f.metadata().map(|m| m.len()).unwrap_or(0);
                aof.base_size = aof.current_size;
                aof.fsync_pending = false;
                aof.file = Some(f);
            }
            tracing::info!("background AOF rewrite finished successfully");
            srv.persist.aof_last_rewrite_failed = false;
            srv.stats.aof_rewrite_failures = 0;
        }
        Err(e) => {
            tracing::warn!(error = %e, "background AOF rewrite: can't install the new file");
            let _ = std::fs::remove_file(&child.temp);
            rewrite_failed(srv);
        }
    }
}

/// Records a failed rewrite (`aof_last_bgrewrite_status:err`,
/// `aof_rewrites_consecutive_failures`).
fn rewrite_failed(srv: &mut Server) {
    srv.persist.aof_last_rewrite_failed = true;
    srv.stats.aof_rewrite_failures += 1;
}

/// Why replaying the AOF failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// The file ends in the middle of a command, and aof-load-truncated is off.
    Truncated,
    /// Something that is not a command in RESP.
    BadFormat(u64),
    /// A command the server does not know.
    UnknownCommand(String),
    /// The file could not be read.
    Io(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Truncated => f.write_str(
                "Unexpected end of file reading the append only file. You can: 1) Make a backup of your AOF file, \
                 then use ./redis-check-aof --fix <filename>. 2) Alternatively you can set the \
                 'aof-load-truncated' configuration option to yes and restart the server.",
            ),
            LoadError::BadFormat(at) => write!(f, "Bad file format reading the append only file (at offset {at})"),
            LoadError::UnknownCommand(c) => write!(f, "Unknown command '{c}' reading the append only file"),
            LoadError::Io(e) => write!(f, "Can't read the append only file: {e}"),
        }
    }
}

/// Replays the AOF through the command table with a fake client. A last
/// command cut short is dropped (and the file truncated to the last whole
/// command) when aof-load-truncated is on, and fatal otherwise. Returns
/// the number of commands run. Commands renamed by `rename-command` are
/// found under their new names and their own, as Redis's
/// `lookupCommandOrOriginal` finds them: a file written before a rename
/// still loads.
///
/// # Errors
/// See [`LoadError`].
pub fn load(srv: &mut Server) -> Result<u64, LoadError> {
    crate::cmd::rename::with_originals(|| load_file(srv))
}

fn load_file(srv: &mut Server) -> Result<u64, LoadError> {
    let path = aof_path(srv);
    let mut data = std::fs::read(&path).map_err(|e| LoadError::Io(e.to_string()))?;
    let devnull = File::open("/dev/null").map_err(|e| LoadError::Io(e.to_string()))?;
    let mut fake = Client::new(0, devnull.into(), String::new(), String::new(), srv.now_ms);
    fake.authenticated = true;
    fake.must_obey = true;
    let mut parser = crate::resp::parse::RequestParser::default();
    let limits = crate::resp::parse::Limits { max_bulk_len: i64::MAX, authenticated: true };
    let mut pos = 0;
    let mut count = 0;
    srv.persist.loading = true;
    let result = loop {
        if pos == data.len() {
            break Ok(());
        }
        if data[pos] != b'*' {
            break Err(LoadError::BadFormat(pos as u64));
        }
        match parser.parse(&mut data[pos..], &limits) {
            Ok(Some(consumed)) => {
                let args = crate::cmd::Args::new(&data[pos..pos + consumed], parser.args());
                if !args.is_empty() {
                    if crate::cmd::lookup(args.get(0)).is_none() {
                        break Err(LoadError::UnknownCommand(crate::cmd::printable(args.get(0), 64)));
                    }
                    crate::cmd::call(srv, &mut fake, args);
                    fake.out.clear();
                    count += 1;
                }
                pos += consumed;
            }
            Ok(None) => break Err(LoadError::Truncated),
            Err(_) => break Err(LoadError::BadFormat(pos as u64)),
        }
    };
    srv.persist.loading = false;
    // Commands replayed are not changes since the last save.
    srv.dirty = 0;
    match result {
        Err(LoadError::Truncated) if srv.config.aof_load_truncated => {
            tracing::warn!(
                "!!! Warning: short read while loading the AOF file {}!!! AOF loaded anyway because \
                 aof-load-truncated is enabled; truncating the file to the last whole command at offset {pos}",
                path.display()
            );
            let f = OpenOptions::new().write(true).open(&path).map_err(|e| LoadError::Io(e.to_string()))?;
            f.set_len(pos as u64).map_err(|e| LoadError::Io(e.to_string()))?;
            f.sync_all().map_err(|e| LoadError::Io(e.to_string()))?;
            Ok(count)
        }
        Err(e) => Err(e),
        Ok(()) => Ok(count),
    }
}
