//! A worker's cache of open files and small bodies, checked against the
//! disk on every hit.
//!
//! nginx, by default, opens, `fstat`s and closes the file on every
//! request; that is three system calls, and for a small file a `read` or
//! `sendfile` besides. Here a worker keeps each file it served open (and,
//! up to `cache.small_file` bytes, its contents in memory, so that head and
//! body leave in one `write`), together with the response headers that
//! depend only on the file.
//!
//! A change on disk must be served at once, so every hit costs one
//! `stat(2)` of the requested path (following symbolic links, as the open
//! did): the entry stands only if device, inode, size, modification time
//! and change time (both to the nanosecond) are what the open descriptor
//! had. A file rewritten in place changes its mtime/ctime, a file replaced
//! by `rename` changes its inode, a symbolic link pointed elsewhere
//! changes the inode, and a file deleted fails the `stat`: each is a miss,
//! which resolves the path again (with the symbolic link check of
//! [`path`]). inotify would save the `stat`, but it has limits
//! on watches, misses changes made through other mounts, and reports
//! asynchronously: a request right after a write could still be served the
//! old body. One `stat` is simpler and exact.

use crate::path::{self, CleanPath, Resolved};
use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::SystemTime;

/// The identity of a file's current contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stamp {
    fn of(m: &Metadata) -> Stamp {
        Stamp {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        }
    }
}

/// A file ready to be served: open, described, perhaps in memory.
#[derive(Debug)]
pub struct Entry {
    /// The path as requested under the root (not resolved): what a hit
    /// `stat`s.
    stat_path: PathBuf,
    stamp: Stamp,
    /// The open file, for `sendfile`.
    pub file: File,
    /// The contents, if the file is small.
    pub body: Option<Box<[u8]>>,
    /// Size in bytes.
    pub size: u64,
    /// Modification time.
    pub mtime: SystemTime,
    /// `"<mtime hex>-<size hex>"`, as nginx makes it.
    pub etag: Box<str>,
    /// `Last-Modified` value (an HTTP date).
    pub last_modified: Box<str>,
    /// The file's media type (`Content-Type` value).
    pub content_type: &'static str,
    /// `Content-Type`, `Last-Modified`, `ETag` and `Accept-Ranges` header
    /// lines, ready to copy into a response head.
    pub head: Box<[u8]>,
}

impl Entry {
    /// The header lines of [`Entry::head`] after `Content-Type` (for a
    /// response that has its own type, as a multipart one does).
    pub fn head_without_type(&self) -> &[u8] {
        &self.head[b"Content-Type: \r\n".len() + self.content_type.len()..]
    }
}

/// What a lookup found.
#[derive(Debug)]
pub enum Lookup {
    /// A file to serve.
    File(Rc<Entry>),
    /// A directory named without its trailing slash (301).
    Redirect,
    /// Nothing there (404).
    NotFound,
    /// Not to be served (403).
    Forbidden,
}

/// The per-worker cache.
#[derive(Debug)]
pub struct Cache {
    map: HashMap<Box<[u8]>, Rc<Entry>>,
    max_entries: usize,
    small_file: u64,
}

impl Cache {
    /// A cache of up to `max_entries` open files (0: open every time), with
    /// the contents of files up to `small_file` bytes.
    pub fn new(max_entries: usize, small_file: u64) -> Cache {
        Cache { map: HashMap::new(), max_entries, small_file }
    }

    /// How many files are cached.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Finds what `clean` names under `root` (canonical), from the cache
    /// if the disk still agrees.
    pub fn lookup(&mut self, root: &Path, clean: &CleanPath, index: &str) -> Lookup {
        if let Some(e) = self.map.get(clean.path.as_slice()) {
            match std::fs::metadata(&e.stat_path) {
                Ok(m) if Stamp::of(&m) == e.stamp => return Lookup::File(e.clone()),
                _ => {
                    self.map.remove(clean.path.as_slice());
                }
            }
        }
        let real = match path::resolve(root, clean, index) {
            Resolved::File(p) => p,
            Resolved::Redirect => return Lookup::Redirect,
            Resolved::NotFound => return Lookup::NotFound,
            Resolved::Forbidden => return Lookup::Forbidden,
        };
        let mut stat_path = root.join(clean.relative());
        if clean.is_dir() {
            stat_path.push(index);
        }
        let entry = match self.open(&real, stat_path) {
            Ok(e) => Rc::new(e),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => return Lookup::Forbidden,
            Err(_) => return Lookup::NotFound,
        };
        if self.max_entries > 0 {
            if self.map.len() >= self.max_entries {
                // Evict an arbitrary entry: cheap, and fair enough for a
                // cache whose misses cost a few system calls.
                if let Some(k) = self.map.keys().next().cloned() {
                    self.map.remove(&k);
                }
            }
            self.map.insert(clean.path.clone().into_boxed_slice(), entry.clone());
        }
        Lookup::File(entry)
    }

    fn open(&self, real: &Path, stat_path: PathBuf) -> std::io::Result<Entry> {
        let mut file = File::open(real)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(std::io::ErrorKind::PermissionDenied.into());
        }
        let stamp = Stamp::of(&meta);
        let body = if stamp.size <= self.small_file {
            let mut buf = Vec::with_capacity(stamp.size as usize);
            (&mut file).take(stamp.size).read_to_end(&mut buf)?;
            if buf.len() as u64 != stamp.size {
                // Truncated while we read: do not cache a torn body.
                return Err(std::io::ErrorKind::NotFound.into());
            }
            Some(buf.into_boxed_slice())
        } else {
            None
        };
        let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        let etag = format!("\"{:x}-{:x}\"", stamp.mtime.0, stamp.size);
        let last_modified = httpdate::fmt_http_date(mtime);
        let mime = mime_guess::from_path(real).first_raw().unwrap_or("application/octet-stream");
        let head = format!(
            "Content-Type: {mime}\r\nLast-Modified: {last_modified}\r\nETag: {etag}\r\nAccept-Ranges: bytes\r\n"
        );
        Ok(Entry {
            stat_path,
            stamp,
            file,
            body,
            size: stamp.size,
            mtime,
            etag: etag.into(),
            content_type: mime,
            last_modified: last_modified.into(),
            head: head.into_bytes().into_boxed_slice(),
        })
    }
}
