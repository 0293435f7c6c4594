//! The AOF manifest: which files, in which order, make up the append-only
//! file. This is Redis 7's multi-part AOF, kept so that a data directory
//! moves between redis-server 7 and spindle in both directions.
//!
//! The AOF is a folder (`dir/appenddirname`, `appendonlydir` by default)
//! holding:
//!
//! - one **base** file, the dataset as it was at the last rewrite, as an
//!   RDB file (`appendonly.aof.2.base.rdb`, with `aof-use-rdb-preamble
//!   yes`) or as commands (`appendonly.aof.2.base.aof`);
//! - one or more **incr** files, the write commands since then
//!   (`appendonly.aof.2.incr.aof`); only the last is written to;
//! - **history** files, the base and incr files a finished rewrite
//!   replaced, deleted soon after unless `aof-disable-auto-gc` is on;
//! - the **manifest** (`appendonly.aof.manifest`), one line per file:
//!
//! ```text
//! file appendonly.aof.2.base.rdb seq 2 type b
//! file appendonly.aof.2.incr.aof seq 2 type i
//! ```
//!
//! Why the split: a rewrite used to need the commands that arrived while
//! its child wrote, kept in a buffer in memory and appended at the end.
//! With incr files the parent just starts a new incr file when the child
//! forks; the child's snapshot plus that file is the whole dataset, and
//! the manifest, replaced atomically (written to a temporary name,
//! fsync'd, renamed), says which files count. A crash at any moment leaves
//! either the old or the new manifest, and both name complete data.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

/// The longest manifest line Redis reads, with its newline.
const MAX_LINE: usize = 1024;

/// What a file in the manifest holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// The dataset at the last rewrite (`type b`).
    Base,
    /// Replaced by a rewrite, waiting to be deleted (`type h`).
    History,
    /// Commands since the base (`type i`).
    Incr,
}

impl FileKind {
    fn letter(self) -> char {
        match self {
            FileKind::Base => 'b',
            FileKind::History => 'h',
            FileKind::Incr => 'i',
        }
    }
}

/// One line of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AofFile {
    /// The file's name inside the AOF folder (never a path).
    pub name: String,
    /// Its sequence number.
    pub seq: i64,
    /// What it holds.
    pub kind: FileKind,
}

/// The manifest, as Redis's `aofManifest`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The base file, if there is one.
    pub base: Option<AofFile>,
    /// Files a rewrite replaced, to be deleted.
    pub history: Vec<AofFile>,
    /// The incr files, oldest first; the last is the one written to.
    pub incr: Vec<AofFile>,
    /// The highest base sequence number used so far.
    pub base_seq: i64,
    /// The highest incr sequence number used so far.
    pub incr_seq: i64,
}

/// `<appendfilename>.manifest`.
pub fn manifest_name(appendfilename: &str) -> String {
    format!("{appendfilename}.manifest")
}

/// The temporary incr file written while AOF is being turned on at run
/// time (`temp-<appendfilename>.incr`), renamed into the manifest when
/// the first rewrite ends.
pub fn temp_incr_name(appendfilename: &str) -> String {
    format!("temp-{appendfilename}.incr")
}

impl Manifest {
    /// Whether the manifest names any file to load.
    pub fn is_empty(&self) -> bool {
        self.base.is_none() && self.incr.is_empty()
    }

    /// Parses a manifest as Redis's `aofLoadManifestFromFile`: lines of
    /// `key value` pairs (`file`, `seq`, `type`; unknown keys ignored for
    /// forward compatibility), comment lines starting with `#`.
    ///
    /// # Errors
    /// Redis's message for the first malformed line.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut m = Manifest::default();
        let mut lines = 0;
        for (n, raw) in text.split_inclusive('\n').enumerate() {
            lines += 1;
            if raw.starts_with('#') {
                continue;
            }
            let at = |why: &str| format!("{why} (manifest line {}: '{}')", n + 1, raw.trim_end());
            // Redis reads lines of at most 1024 bytes with `fgets`: one
            // longer, or a last line with no newline, is refused alike.
            if !raw.ends_with('\n') || raw.len() > MAX_LINE {
                return Err(at("The AOF manifest file contains too long line"));
            }
            let words = crate::server::config::split_args(raw.trim_matches([' ', '\t', '\r', '\n']))
                .map_err(|_| at("Invalid AOF manifest file format"))?;
            if words.len() < 6 || words.len() % 2 != 0 {
                return Err(at("Invalid AOF manifest file format"));
            }
            let (mut name, mut seq, mut kind) = (None, 0i64, None);
            for pair in words.chunks(2) {
                match pair[0].to_ascii_lowercase().as_str() {
                    "file" => {
                        if pair[1].contains('/') {
                            return Err(at("File can't be a path, just a filename"));
                        }
                        name = Some(pair[1].clone());
                    }
                    // atoll: leading digits, 0 when there are none.
                    "seq" => seq = crate::util::num::atoi(pair[1].as_bytes()),
                    "type" => kind = pair[1].chars().next(),
                    _ => {}
                }
            }
            let (Some(name), Some(kind)) = (name, kind) else {
                return Err(at("Invalid AOF manifest file format"));
            };
            if seq == 0 || name.is_empty() {
                return Err(at("Invalid AOF manifest file format"));
            }
            match kind {
                'b' => {
                    if m.base.is_some() {
                        return Err(at("Found duplicate base file information"));
                    }
                    m.base = Some(AofFile { name, seq, kind: FileKind::Base });
                    m.base_seq = seq;
                }
                'h' => m.history.push(AofFile { name, seq, kind: FileKind::History }),
                'i' => {
                    if seq <= m.incr_seq {
                        return Err(at("Found a non-monotonic sequence number"));
                    }
                    m.incr.push(AofFile { name, seq, kind: FileKind::Incr });
                    m.incr_seq = seq;
                }
                _ => return Err(at("Unknown AOF file type")),
            }
        }
        if lines == 0 {
            return Err("Found an empty AOF manifest".into());
        }
        Ok(m)
    }

    /// The manifest's text: the base first, then history, then incr
    /// files, as Redis's `getAofManifestAsString` orders them.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for f in self.base.iter().chain(&self.history).chain(&self.incr) {
            let mut name = String::new();
            if needs_quoting(&f.name) {
                crate::server::monitor::push_repr(&mut name, f.name.as_bytes());
            } else {
                name.push_str(&f.name);
            }
            out.push_str(&format!("file {name} seq {} type {}\n", f.seq, f.kind.letter()));
        }
        out
    }

    /// Names a new base file (`.rdb` or `.aof` by `rdb_preamble`) with the
    /// next base sequence number, and moves the current base to history
    /// (Redis's `getNewBaseFileNameAndMarkPreAsHistory`).
    pub fn new_base(&mut self, appendfilename: &str, rdb_preamble: bool) -> String {
        if let Some(mut old) = self.base.take() {
            old.kind = FileKind::History;
            self.history.insert(0, old);
        }
        self.base_seq += 1;
        let ext = if rdb_preamble { "rdb" } else { "aof" };
        let name = format!("{appendfilename}.{}.base.{ext}", self.base_seq);
        self.base = Some(AofFile { name: name.clone(), seq: self.base_seq, kind: FileKind::Base });
        name
    }

    /// Adds a new incr file with the next sequence number and returns its
    /// name.
    pub fn new_incr(&mut self, appendfilename: &str) -> String {
        self.incr_seq += 1;
        let name = format!("{appendfilename}.{}.incr.aof", self.incr_seq);
        self.incr.push(AofFile { name: name.clone(), seq: self.incr_seq, kind: FileKind::Incr });
        name
    }

    /// The incr file written to: the last one, or a new one if there is
    /// none.
    pub fn last_incr(&mut self, appendfilename: &str) -> String {
        match self.incr.last() {
            Some(f) => f.name.clone(),
            None => self.new_incr(appendfilename),
        }
    }

    /// After a rewrite: the incr files its base now contains become
    /// history. With `keep_last` (AOF on) the last incr file, the one
    /// written since the fork, stays.
    pub fn mark_rewritten_incr_as_history(&mut self, keep_last: bool) {
        let keep = if keep_last { self.incr.pop() } else { None };
        for mut f in self.incr.drain(..).rev() {
            f.kind = FileKind::History;
            self.history.insert(0, f);
        }
        self.incr.extend(keep);
    }

    /// Writes the manifest into `folder` atomically: to a temporary file,
    /// fsync'd, renamed over the manifest, and the folder fsync'd (it may
    /// also have new files in it).
    ///
    /// # Errors
    /// Any I/O failure; the old manifest is then still in place.
    pub fn persist(&self, folder: &Path, appendfilename: &str) -> io::Result<()> {
        let path = folder.join(manifest_name(appendfilename));
        let temp = folder.join(format!("temp-{}", manifest_name(appendfilename)));
        let mut f = File::create(&temp)?;
        f.write_all(self.render().as_bytes())?;
        f.sync_all()?;
        drop(f);
        fs::rename(&temp, &path)?;
        File::open(folder)?.sync_all()
    }

    /// Reads the manifest in `folder`; `Ok(None)` when the folder or the
    /// manifest does not exist (an old-style AOF, or none yet).
    ///
    /// # Errors
    /// The manifest is unreadable or malformed (the server must not start).
    pub fn load(folder: &Path, appendfilename: &str) -> Result<Option<Manifest>, String> {
        let path = folder.join(manifest_name(appendfilename));
        match fs::read(&path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                Manifest::parse(&text)
                    .map(Some)
                    .map_err(|e| format!("bad AOF manifest {}: {e}", path.display()))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("can't open the AOF manifest file {}: {e}", path.display())),
        }
    }
}

/// Whether a file name must be quoted in the manifest (Redis's
/// `sdsneedsrepr`): spaces, quotes, backslashes, control bytes.
fn needs_quoting(s: &str) -> bool {
    s.bytes()
        .any(|b| b.is_ascii_whitespace() || b == b'"' || b == b'\'' || b == b'\\' || !(32..127).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REDIS: &str = "file appendonly.aof.2.base.rdb seq 2 type b\n\
                         file appendonly.aof.1.incr.aof seq 1 type h\n\
                         file appendonly.aof.4.incr.aof seq 4 type i\n\
                         file appendonly.aof.5.incr.aof seq 5 type i\n";

    #[test]
    fn parses_and_renders_redis_manifests_unchanged() {
        let m = Manifest::parse(REDIS).unwrap();
        assert_eq!(m.base.as_ref().unwrap().name, "appendonly.aof.2.base.rdb");
        assert_eq!(m.history.len(), 1);
        assert_eq!(m.incr.iter().map(|f| f.seq).collect::<Vec<_>>(), [4, 5]);
        assert_eq!((m.base_seq, m.incr_seq), (2, 5));
        assert_eq!(m.render(), REDIS);
    }

    #[test]
    fn refuses_what_redis_refuses() {
        for (text, why) in [
            ("", "empty"),
            ("file a seq 1 type b\nfile b seq 2 type b\n", "duplicate base"),
            ("file a seq 2 type i\nfile b seq 2 type i\n", "non-monotonic"),
            ("file a seq 1 type x\n", "Unknown AOF file type"),
            ("file ../a seq 1 type b\n", "path"),
            ("file a seq 1\n", "format"),
            ("file a seq 0 type b\n", "format"),
            ("file a seq 1 type b", "too long line"),
            ("file \"a seq 1 type b\n", "format"),
        ] {
            let e = Manifest::parse(text).unwrap_err().to_lowercase();
            assert!(e.contains(&why.to_lowercase()), "{text:?}: {e}");
        }
    }

    #[test]
    fn comments_unknown_keys_and_quoted_names() {
        let m = Manifest::parse("# made by hand\nfile \"my file\" seq 3 type b extra 1\n").unwrap();
        assert_eq!(m.base.as_ref().unwrap().name, "my file");
        assert_eq!(m.render(), "file \"my file\" seq 3 type b\n");
    }

    #[test]
    fn a_rewrite_moves_the_old_files_to_history() {
        let mut m = Manifest::default();
        assert_eq!(m.new_base("appendonly.aof", true), "appendonly.aof.1.base.rdb");
        assert_eq!(m.last_incr("appendonly.aof"), "appendonly.aof.1.incr.aof");
        // A rewrite starts: a new incr file; it ends: a new base.
        assert_eq!(m.new_incr("appendonly.aof"), "appendonly.aof.2.incr.aof");
        assert_eq!(m.new_base("appendonly.aof", false), "appendonly.aof.2.base.aof");
        m.mark_rewritten_incr_as_history(true);
        assert_eq!(
            m.render(),
            "file appendonly.aof.2.base.aof seq 2 type b\n\
             file appendonly.aof.1.incr.aof seq 1 type h\n\
             file appendonly.aof.1.base.rdb seq 1 type h\n\
             file appendonly.aof.2.incr.aof seq 2 type i\n"
        );
        assert_eq!(Manifest::parse(&m.render()).unwrap(), m);
    }
}
