//! Loading the AOF at start: the manifest's base file, then its incr
//! files in order, each replayed through the command table with a fake
//! client (Redis's `loadAppendOnlyFiles`).
//!
//! - A file that starts with `REDIS` is an RDB file (a base written with
//!   `aof-use-rdb-preamble`, or an old-style AOF with an RDB preamble);
//!   its RDB part is loaded as a snapshot, and any commands after it are
//!   replayed.
//! - Lines starting with `#` are annotations (`aof-timestamp-enabled`)
//!   and are skipped.
//! - Only the last file may end in the middle of a command: with
//!   `aof-load-truncated` (the default) it is cut back to its last whole
//!   command and loading goes on; a transaction left open at the end
//!   (MULTI without EXEC) is cut off the same way. Anywhere else it is
//!   fatal.
//! - An old-style single file (`dir/appendonly.aof`, Redis before 7.0 or
//!   spindle before the multi-part AOF) is moved into the folder as the
//!   base file first, as Redis 7's upgrade does.

use super::aof::{folder, old_style_path};
use super::manifest::Manifest;
use crate::server::client::Client;
use crate::server::loading::LoadHost;
use crate::server::Server;
use std::fs::{File, OpenOptions};
use std::path::Path;

/// Why replaying the AOF failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// A file ends in the middle of a command, and aof-load-truncated is
    /// off, or it is not the last file.
    Truncated(String),
    /// Something that is not a command in RESP, at this offset.
    BadFormat(String, u64),
    /// A command the server does not know.
    UnknownCommand(String, String),
    /// A file could not be read, or the manifest is wrong.
    Io(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Truncated(file) => write!(
                f,
                "Unexpected end of file reading the append only file {file}. You can: 1) Make a backup of your \
                 AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the \
                 'aof-load-truncated' configuration option to yes and restart the server."
            ),
            LoadError::BadFormat(file, at) => write!(
                f,
                "Bad file format reading the append only file {file} (at offset {at}): make a backup of your \
                 AOF file, then use ./redis-check-aof --fix <filename.manifest>"
            ),
            LoadError::UnknownCommand(file, c) => {
                write!(f, "Unknown command '{c}' reading the append only file {file}")
            }
            LoadError::Io(e) => write!(f, "Can't read the append only file: {e}"),
        }
    }
}

/// Loads the AOF at start. Returns `Ok(None)` when there is none (no
/// manifest and no old-style file), else the number of commands replayed.
/// The manifest read is left in the server, for
/// [`super::aof::open_on_start`].
///
/// Commands renamed by `rename-command` are found under their new names
/// and their own, as Redis's `lookupCommandOrOriginal` finds them: a file
/// written before a rename still loads.
///
/// # Errors
/// See [`LoadError`]; the server must not start.
pub fn load_at_start<H: LoadHost>(h: &mut H) -> Result<Option<u64>, LoadError> {
    let Some((folder, files)) = h.with(files_to_load)? else { return Ok(None) };
    let mut total_bytes = 0;
    for f in &files {
        // A file the manifest names but the folder lacks is fatal, in
        // Redis's words.
        match std::fs::metadata(folder.join(f)) {
            Ok(m) => total_bytes += m.len(),
            Err(e) => {
                let why = super::aof::strerror(&e);
                return Err(LoadError::Io(format!("Unable to obtain the AOF file {f} length. stat: {why}")));
            }
        }
    }
    h.begin(total_bytes);
    let mut total = 0;
    crate::cmd::rename::with_originals(|| {
        for (i, f) in files.iter().enumerate() {
            total += load_file(h, &folder.join(f), f, i + 1 == files.len())?;
        }
        Ok::<(), LoadError>(())
    })?;
    // Commands replayed are not changes since the last save.
    h.with(|srv| srv.dirty = 0);
    Ok(Some(total))
}

/// Reads the manifest (upgrading an old-style AOF first) and leaves it in
/// the server: the folder and the files to load, in order, or `None`
/// when there are none.
fn files_to_load(srv: &mut Server) -> Result<Option<(std::path::PathBuf, Vec<String>)>, LoadError> {
    let folder = folder(srv);
    let name = srv.config.appendfilename.clone();
    let mut m = Manifest::load(&folder, &name).map_err(LoadError::Io)?.unwrap_or_default();
    let old = old_style_path(srv);
    if old.is_file() {
        let only_old_base = m.incr.is_empty()
            && m.base.as_ref().is_some_and(|b| b.name == name)
            && !folder.join(&name).exists();
        if !folder.is_dir() || m.is_empty() || only_old_base {
            upgrade(srv, &mut m, &old).map_err(LoadError::Io)?;
        }
    }
    let files: Vec<String> = m.base.iter().chain(&m.incr).map(|f| f.name.clone()).collect();
    srv.persist.aof.manifest = m;
    Ok((!files.is_empty()).then_some((folder, files)))
}

/// Moves an old-style AOF into the folder as its base file and writes the
/// manifest (Redis's `aofUpgradePrepare`). The manifest is written first:
/// a crash between the two steps leaves a manifest whose base is still
/// outside, which the next start sees and upgrades again.
fn upgrade(srv: &Server, m: &mut Manifest, old: &Path) -> Result<(), String> {
    let folder = folder(srv);
    let name = &srv.config.appendfilename;
    std::fs::create_dir_all(&folder)
        .map_err(|e| format!("can't open or create append-only dir {}: {e}", folder.display()))?;
    *m = Manifest::default();
    m.base =
        Some(super::manifest::AofFile { name: name.clone(), seq: 1, kind: super::manifest::FileKind::Base });
    m.base_seq = 1;
    m.persist(&folder, name).map_err(|e| format!("can't write the AOF manifest: {e}"))?;
    std::fs::rename(old, folder.join(name)).map_err(|e| {
        format!("error trying to move the old AOF file {} into {}: {e}", old.display(), folder.display())
    })?;
    tracing::info!(
        file = %old.display(),
        folder = %folder.display(),
        "successfully migrated an old-style AOF file into the AOF directory"
    );
    Ok(())
}

/// Replays one file; `last` says whether a truncated end may be cut off.
/// The clients are served every 1024 commands, as Redis serves them.
fn load_file<H: LoadHost>(h: &mut H, path: &Path, name: &str, last: bool) -> Result<u64, LoadError> {
    let io = |e: std::io::Error| LoadError::Io(format!("{name}: {e}"));
    let mut data = std::fs::read(path).map_err(io)?;
    let mut pos = 0;
    if data.starts_with(b"REDIS") {
        let mut rest = &data[..];
        // Keys past their deadline load too: commands after them in the
        // AOF may still touch them (Redis loads a preamble so).
        super::snapshot::load_rdb_from(h, &mut rest, true)
            .map_err(|e| LoadError::Io(format!("error reading the RDB part of {name}: {e}")))?;
        pos = data.len() - rest.len();
    }
    let devnull = File::open("/dev/null").map_err(io)?;
    let now = h.with(|srv| srv.now_ms);
    let mut fake = Client::new(0, devnull.into(), String::new(), String::new(), now);
    fake.authenticated = true;
    fake.must_obey = true;
    let mut parser = crate::resp::parse::RequestParser::default();
    let limits = crate::resp::parse::Limits { max_bulk_len: i64::MAX, authenticated: true };
    let mut count = 0;
    // Where the open transaction began, to cut it off if it never ends.
    let mut before_multi = pos;
    let (mut loops, mut reported) = (0u64, pos);
    h.with(|srv| srv.set_loading(true));
    let result = loop {
        // Every 1024 commands, as Redis's `loops++ % 1024`, but not before
        // the first: a small file loads before anyone sees `-LOADING`.
        loops += 1;
        if loops % 1024 == 0 {
            if h.progress(pos.saturating_sub(reported) as u64, true).is_err() {
                break Err(LoadError::Io(format!("{name}: loading stopped by a shutdown")));
            }
            reported = pos;
        }
        if pos == data.len() {
            if fake.multi.is_some() {
                tracing::warn!(file = name, "revert incomplete MULTI/EXEC transaction in the AOF file");
                pos = before_multi;
                break Err(LoadError::Truncated(name.to_string()));
            }
            break Ok(());
        }
        if data[pos] == b'#' {
            // An annotation, to the end of its line.
            match data[pos..].iter().position(|&b| b == b'\n') {
                Some(n) => {
                    pos += n + 1;
                    continue;
                }
                None => break Err(LoadError::Truncated(name.to_string())),
            }
        }
        if data[pos] != b'*' {
            break Err(LoadError::BadFormat(name.to_string(), pos as u64));
        }
        match parser.parse(&mut data[pos..], &limits) {
            Ok(Some(consumed)) => {
                let args = crate::cmd::Args::new(&data[pos..pos + consumed], parser.args());
                if !args.is_empty() {
                    if crate::cmd::lookup(args.get(0)).is_none() {
                        let cmd = crate::cmd::printable(args.get(0), 64);
                        break Err(LoadError::UnknownCommand(name.to_string(), cmd));
                    }
                    if fake.multi.is_none() && args.get(0).eq_ignore_ascii_case(b"multi") {
                        before_multi = pos;
                    }
                    h.with(|srv| crate::cmd::call(srv, &mut fake, args));
                    fake.out.clear();
                    count += 1;
                    h.key_loaded();
                }
                pos += consumed;
            }
            Ok(None) => {
                if fake.multi.is_some() {
                    // The transaction's queued commands never ran.
                    pos = before_multi;
                }
                break Err(LoadError::Truncated(name.to_string()));
            }
            Err(_) => break Err(LoadError::BadFormat(name.to_string(), pos as u64)),
        }
    };
    h.with(|srv| srv.set_loading(false));
    h.progress(pos.saturating_sub(reported) as u64, false)
        .map_err(|_| LoadError::Io(format!("{name}: loading stopped by a shutdown")))?;
    let truncated_ok = h.with(|srv| srv.config.aof_load_truncated);
    match result {
        Err(LoadError::Truncated(_)) if last && truncated_ok => {
            tracing::warn!(
                "!!! Warning: short read while loading the AOF file {}!!! AOF loaded anyway because \
                 aof-load-truncated is enabled; truncating the file to the last whole command at offset {pos}",
                path.display()
            );
            let f = OpenOptions::new().write(true).open(path).map_err(io)?;
            f.set_len(pos as u64).map_err(io)?;
            f.sync_all().map_err(io)?;
            Ok(count)
        }
        Err(LoadError::Truncated(_)) if !last => {
            tracing::error!(file = name, "fatal error: the truncated file is not the last file");
            Err(LoadError::Truncated(name.to_string()))
        }
        Err(e) => Err(e),
        Ok(()) => Ok(count),
    }
}
