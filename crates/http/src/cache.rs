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
//!
//! Exact, that is, once the file is older than its file system's timestamp
//! granularity. Timestamps come from a coarse clock: a jiffy (1 to 10 ms)
//! on ext4 and XFS before Linux 6.13 and on ramfs, one second on ext2/ext3
//! with small inodes and on many NFS servers, two on FAT. A file rewritten
//! in place with the same size within one tick of the read that filled its
//! entry keeps size, mtime and ctime, and its entry would go on serving
//! the old body for as long as it is asked for (git calls this the racy
//! index problem). So a file changed (by its change time, which the
//! kernel sets) less than [`RACY_WINDOW`] before it was opened is served
//! but not cached: it is opened again on each request
//! until it has been left alone that long, after which a change can no
//! longer carry the timestamps of the one the entry saw.
//!
//! The cache holds at most `cache.entries` files, as nginx's
//! `open_file_cache max=N inactive=T`: when full, the least recently used
//! entry makes room, and an entry unused for `cache.inactive` is dropped
//! (a lookup drops up to two such entries from the cold end, and the
//! worker sweeps them once a second), so the descriptors of files nobody
//! asks for any more, or that were deleted, do not stay open. The
//! bookkeeping is an intrusive list over a slab (`lru.rs`): a hit is one
//! hash lookup and a few index writes, without allocation.

use crate::lru::Lru;
use crate::path::{self, CleanPath, Resolved};
use crate::sys;
use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
    /// Whether the inode changed less than `window` before `now` (or, by a
    /// clock that is ahead, after it). The change time alone: the kernel
    /// sets it on every write, from its own clock, whereas the
    /// modification time is whatever `touch -d` or an unpacked archive
    /// said, possibly years ahead, which would keep the file out of the
    /// cache until then.
    fn changed_within(&self, window: Duration, now: SystemTime) -> bool {
        let (secs, nsecs) = self.ctime;
        let Ok(secs) = u64::try_from(secs) else { return false };
        let at = UNIX_EPOCH + Duration::new(secs, nsecs.clamp(0, 999_999_999) as u32);
        at + window > now
    }

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
    /// `Content-Type`, `Last-Modified`, `ETag`, for a gzip twin
    /// `Content-Encoding`, with `gzip_static` on (or `gzip_vary`, for a
    /// file `gzip` compresses) `Vary`, and (unless ranges are off)
    /// `Accept-Ranges` header lines, ready to copy into a response head.
    pub head: Box<[u8]>,
    /// Whether [`Entry::head`] says `Vary: Accept-Encoding` (which a 304
    /// must repeat).
    pub vary: bool,
    /// Whether `gzip` compresses this file for a client that takes it
    /// (on, and the file's type and size match; never a gzip twin). Off,
    /// always `false`: the answer path tests this and nothing else.
    pub gzip: bool,
    /// The gzip of [`Entry::body`], made by the first answer that needs
    /// it and kept as long as the entry, so a hot file is compressed once
    /// (a change on disk makes a new entry, and so a new gzip).
    pub gzipped: std::cell::OnceCell<Box<[u8]>>,
}

impl Entry {
    /// The path the file was requested by, under the root.
    pub fn path(&self) -> &Path {
        &self.stat_path
    }

    /// The header lines of [`Entry::head`] after `Content-Type` (for a
    /// response that has its own type, as a multipart one does).
    pub fn head_without_type(&self) -> &[u8] {
        &self.head[b"Content-Type: \r\n".len() + self.content_type.len()..]
    }

    /// [`Entry::head`] without `Accept-Ranges` (for a 206, which nginx
    /// sends without it).
    pub fn head_without_ranges(&self) -> &[u8] {
        self.head.strip_suffix(ACCEPT_RANGES).unwrap_or(&self.head)
    }

    /// [`Entry::head_without_type`] without `Accept-Ranges` (for a
    /// multipart 206).
    pub fn head_without_type_or_ranges(&self) -> &[u8] {
        let h = self.head_without_type();
        h.strip_suffix(ACCEPT_RANGES).unwrap_or(h)
    }
}

/// How long after its last change a file is opened afresh on every
/// request instead of being cached (see the module's documentation): the
/// coarsest timestamp granularity of the file systems in common use (FAT's
/// two seconds).
pub const RACY_WINDOW: Duration = Duration::from_secs(2);

/// The last line of [`Entry::head`] when ranges are on.
const ACCEPT_RANGES: &[u8] = b"Accept-Ranges: bytes\r\n";

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
    /// The worker may not read it (`EACCES`, `EPERM`): 403, with the
    /// path and the error for the log (see [`path::Resolved::Denied`]).
    Denied(PathBuf, std::io::Error),
    /// The system failed (out of descriptors, an I/O error: see
    /// [`path::classify`]): 500, with the path for the log.
    Failed(PathBuf, std::io::Error),
}

/// The per-worker cache.
///
/// ```
/// use spindle_http::cache::{Cache, Lookup};
/// use std::time::Duration;
/// let root = std::env::temp_dir().join(format!("spindle-cache-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&root)?;
/// std::fs::write(root.join("a.txt"), "hello")?;
/// let root = root.canonicalize()?;
/// // Two files at most, dropped after a minute unused, ranges on; cached
/// // although just written (see `with_racy_window`).
/// let mut cache = Cache::new(2, 65536, Duration::from_secs(60), true).with_racy_window(Duration::ZERO);
/// let clean = spindle_http::path::clean(b"/a.txt").unwrap();
/// let Lookup::File(e) = cache.lookup(&root, &clean, "index.html", 0) else { panic!() };
/// assert_eq!(e.body.as_deref(), Some(&b"hello"[..]));
/// assert!(cache.is_cached(b"/a.txt"));
/// // Unused for more than a minute: swept.
/// assert_eq!(cache.expire(61), 1);
/// assert!(cache.is_empty());
/// # std::fs::remove_dir_all(&root)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Cache {
    lru: Lru<Rc<Entry>>,
    small_file: u64,
    /// Seconds an entry may stay unused.
    inactive: u64,
    accept_ranges: bool,
    /// Files changed less than this before their open are not cached.
    racy_window: Duration,
    /// Every head says `Vary: Accept-Encoding` (`gzip_static` on).
    vary: bool,
    /// `gzip`'s settings, when on: which entries it compresses.
    gzip: Option<crate::config::Gzip>,
    /// The key and the path of the last gzip twin looked up, kept for
    /// their allocations.
    gz_key: Vec<u8>,
    gz_path: Vec<u8>,
}

/// The prefix of a gzip twin's key: no request path starts with it
/// (they start with `/`), so `/a.css.gz` asked for by name and served as
/// itself keeps its own entry.
const GZIP_KEY: &[u8] = b"gz:";

impl Cache {
    /// A cache of up to `max_entries` open files (0: open every time), with
    /// the contents of files up to `small_file` bytes, each dropped once
    /// unused for `inactive` (counted in whole seconds, rounded up). With
    /// `accept_ranges` the prepared head says `Accept-Ranges: bytes`.
    pub fn new(max_entries: usize, small_file: u64, inactive: Duration, accept_ranges: bool) -> Cache {
        let inactive = inactive.as_secs() + u64::from(inactive.subsec_nanos() > 0);
        Cache {
            lru: Lru::new(max_entries),
            small_file,
            inactive,
            accept_ranges,
            racy_window: RACY_WINDOW,
            vary: false,
            gzip: None,
            gz_key: Vec::new(),
            gz_path: Vec::new(),
        }
    }

    /// Makes every head say `Vary: Accept-Encoding` (for `gzip_static`:
    /// the answer for a name depends on the client's `Accept-Encoding`).
    pub fn with_vary(mut self, vary: bool) -> Cache {
        self.vary = vary;
        self
    }

    /// Marks the entries `gzip` compresses ([`Entry::gzip`]), and with
    /// its `vary` makes their heads say `Vary: Accept-Encoding`.
    pub fn with_gzip(mut self, gzip: Option<crate::config::Gzip>) -> Cache {
        self.gzip = gzip;
        self
    }

    /// Sets how recently changed a file may be and still be cached
    /// (default [`RACY_WINDOW`]). Only a test that writes its files and
    /// wants them cached at once has a reason to lower it: below the file
    /// system's timestamp granularity, a rewrite can go unnoticed.
    pub fn with_racy_window(mut self, window: Duration) -> Cache {
        self.racy_window = window;
        self
    }

    /// How many files are cached.
    pub fn len(&self) -> usize {
        self.lru.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.lru.len() == 0
    }

    /// Whether the file requested as `path` (decoded and normalised, as
    /// [`CleanPath::path`]) is cached.
    pub fn is_cached(&self, path: &[u8]) -> bool {
        self.lru.contains(path)
    }

    /// Drops every entry unused for longer than the inactivity limit at
    /// `now` (seconds, the clock [`lookup`](Cache::lookup) is given);
    /// returns how many.
    pub fn expire(&mut self, now: u64) -> usize {
        self.lru.expire(now, self.inactive, usize::MAX)
    }

    /// Finds what `clean` names under `root` (absolute; a link in it is
    /// followed, on a hit by the `stat`, on a miss by [`path::resolve`],
    /// so a switched link is a miss), from the cache
    /// if the disk still agrees. `index` is the names tried for a
    /// directory, separated by spaces ([`path::resolve_index`]). `now` is
    /// the time in seconds (any monotonic count: it only orders uses and
    /// measures inactivity).
    pub fn lookup(&mut self, root: &Path, clean: &CleanPath, index: &str, now: u64) -> Lookup {
        self.find(root, clean, None, index, now)
    }

    /// The gzip twin of the file requested as `path` (a file's clean path,
    /// not a directory's): `path.gz` under `root`, described with the
    /// media type of `path` and `Content-Encoding: gzip`, cached apart
    /// from `path.gz` asked for by name. Checked against the disk as
    /// [`lookup`](Cache::lookup) checks.
    pub fn lookup_gzip(&mut self, root: &Path, path: &[u8], now: u64) -> Lookup {
        let mut key = std::mem::take(&mut self.gz_key);
        key.clear();
        key.extend_from_slice(GZIP_KEY);
        key.extend_from_slice(path);
        key.extend_from_slice(b".gz");
        let mut clean = CleanPath { path: std::mem::take(&mut self.gz_path) };
        clean.path.clear();
        clean.path.extend_from_slice(&key[GZIP_KEY.len()..]);
        let found = self.find(root, &clean, Some(&key), "", now);
        (self.gz_key, self.gz_path) = (key, clean.path);
        found
    }

    /// [`lookup`](Cache::lookup), under `gzip_key` for a gzip twin.
    #[inline]
    fn find(
        &mut self,
        root: &Path,
        clean: &CleanPath,
        gzip_key: Option<&[u8]>,
        index: &str,
        now: u64,
    ) -> Lookup {
        // As nginx does on every lookup: drop up to two inactive entries
        // from the cold end (usually none: one comparison).
        self.lru.expire(now, self.inactive, 2);
        let key = gzip_key.unwrap_or(clean.path.as_slice());
        if let Some(e) = self.lru.get(key, now) {
            let e = e.clone();
            match std::fs::metadata(&e.stat_path) {
                Ok(m) if Stamp::of(&m) == e.stamp => return Lookup::File(e),
                _ => {
                    self.lru.remove(key);
                }
            }
        }
        let (found, chosen) = path::resolve_index(root, clean, index);
        let real = match found {
            Resolved::File(p) => p,
            Resolved::Redirect => return Lookup::Redirect,
            Resolved::NotFound => return Lookup::NotFound,
            Resolved::Forbidden => return Lookup::Forbidden,
            Resolved::Denied(e) => return Lookup::Denied(root.join(clean.relative()), e),
            Resolved::Failed(e) => return Lookup::Failed(root.join(clean.relative()), e),
        };
        let mut stat_path = root.join(clean.relative());
        if let Some(name) = chosen {
            stat_path.push(name);
        }
        // A twin's type is its original's: `/a.css.gz` served as `/a.css`.
        let type_of = gzip_key.map(|k| &k[GZIP_KEY.len()..k.len() - 3]);
        let entry = match self.open(&real, stat_path, type_of) {
            Ok(e) => Rc::new(e),
            // ELOOP: a link met on the way (the names changed since the
            // check): 403; out of descriptors: 500.
            Err(e) => {
                return match path::classify(e) {
                    Resolved::Forbidden => Lookup::Forbidden,
                    Resolved::Denied(e) => Lookup::Denied(real, e),
                    Resolved::Failed(e) => Lookup::Failed(real, e),
                    _ => Lookup::NotFound,
                }
            }
        };
        // A directory served by a later index name is not kept: a hit
        // checks only the file it found, and would go on serving it after
        // an earlier name (an `index.html` beside the `index.htm`) appears.
        let first = chosen.is_none() || chosen == index.split_whitespace().next();
        if first && !entry.stamp.changed_within(self.racy_window, SystemTime::now()) {
            self.lru.insert(key, entry.clone(), now);
        }
        Lookup::File(entry)
    }

    /// Opens `real` and describes it. [`path::resolve`] found a regular
    /// file beneath the root there, but by name, and the names may have
    /// changed since: a link renamed over a component would lead out of
    /// the root, a FIFO renamed over the file would block a plain
    /// `open(2)`, and the worker with it, until a writer came. So the open
    /// follows no link (`real` is canonical: it has none) and does not
    /// block ([`sys::open_no_symlinks`]), and what decides is the `fstat`
    /// of the descriptor it gave, as in nginx's `ngx_open_and_stat_file`.
    fn open(&self, real: &Path, stat_path: PathBuf, type_of: Option<&[u8]>) -> std::io::Result<Entry> {
        let mut file = sys::open_no_symlinks(real)?;
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
        let (etag, last_modified) = validators(stamp.mtime.0, stamp.size);
        // By the name requested, as nginx does (a link's name, not its target's).
        let mime = crate::mime::by_path(type_of.unwrap_or(stat_path.as_os_str().as_bytes()));
        let ranges = if self.accept_ranges { "Accept-Ranges: bytes\r\n" } else { "" };
        let encoding = if type_of.is_some() { "Content-Encoding: gzip\r\n" } else { "" };
        // A twin is gzip already: `gzip` leaves it alone, as nginx leaves
        // an answer that has a `Content-Encoding`.
        let gz = self.gzip.as_ref().filter(|g| type_of.is_none() && g.compresses(mime, stamp.size));
        let vary = self.vary || gz.is_some_and(|g| g.vary);
        let vary_line = if vary { "Vary: Accept-Encoding\r\n" } else { "" };
        let head = format!(
            "Content-Type: {mime}\r\nLast-Modified: {last_modified}\r\nETag: {etag}\r\n{encoding}{vary_line}{ranges}"
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
            vary,
            gzip: gz.is_some(),
            gzipped: std::cell::OnceCell::new(),
        })
    }
}
/// The latest time an HTTP date can say: Fri, 31 Dec 9999 23:59:59 GMT.
const LAST_HTTP_DATE: i64 = 253_402_300_799;

/// A file's `ETag` and `Last-Modified` from its modification time `secs`
/// (since 1970, negative before) and `size`, as nginx makes them: the tag
/// is both in hex, a time before 1970 with a minus sign (`"-12cff780-4"`);
/// the date is held between 1970 and 9999, as nginx's `ngx_gmtime` holds
/// it. Such times are rare but real (a `touch -d`, an archive unpacked
/// with odd dates, a tmpfs takes any 64-bit time), and formatting them
/// as they are panicked inside `httpdate`, which ended the request with
/// no answer at all.
fn validators(secs: i64, size: u64) -> (String, String) {
    let sign = if secs < 0 { "-" } else { "" };
    let etag = format!("\"{sign}{:x}-{size:x}\"", secs.unsigned_abs());
    let held = secs.clamp(0, LAST_HTTP_DATE) as u64;
    (etag, httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(held)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(c: &mut Cache, root: &Path, name: &str, now: u64) -> Rc<Entry> {
        let clean = path::clean(format!("/{name}").as_bytes()).unwrap();
        match c.lookup(root, &clean, "index.html", now) {
            Lookup::File(e) => e,
            other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn validators_of_times_outside_http_dates_are_nginx_s() {
        let v = validators;
        assert_eq!(v(1_700_000_000, 100), ("\"6553f100-64\"".into(), "Tue, 14 Nov 2023 22:13:20 GMT".into()));
        let epoch = "Thu, 01 Jan 1970 00:00:00 GMT".to_string();
        assert_eq!(v(-315_619_200, 4), ("\"-12cff780-4\"".into(), epoch.clone()));
        assert_eq!(v(-86_401, 4), ("\"-15181-4\"".into(), epoch.clone()));
        assert_eq!(v(0, 3), ("\"0-3\"".into(), epoch));
        let last = "Fri, 31 Dec 9999 23:59:59 GMT".to_string();
        assert_eq!(v(253_402_300_800, 4), ("\"3afff44180-4\"".into(), last.clone()));
        assert_eq!(v(i64::MAX, 0), ("\"7fffffffffffffff-0\"".into(), last));
        assert_eq!(v(i64::MIN, 0).0, "\"-8000000000000000-0\"");
    }

    #[test]
    fn keeps_the_recently_used_and_drops_the_inactive() {
        let root = std::env::temp_dir().join(format!("spindle-http-cache-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        for n in ["a", "b", "c"] {
            std::fs::write(root.join(n), n).unwrap();
        }
        let root = root.canonicalize().unwrap();
        let mut c = Cache::new(2, 1024, Duration::from_secs(10), true).with_racy_window(Duration::ZERO);
        let a = file(&mut c, &root, "a", 0);
        file(&mut c, &root, "b", 0);
        // A hit on `a` is the same entry, and makes `b` the least recently
        // used: `c` takes `b`'s place.
        assert!(Rc::ptr_eq(&a, &file(&mut c, &root, "a", 1)));
        file(&mut c, &root, "c", 1);
        assert!(c.is_cached(b"/a") && c.is_cached(b"/c") && !c.is_cached(b"/b"));
        assert_eq!(c.len(), 2);
        // The head says Accept-Ranges (ranges on).
        assert!(a.head.ends_with(b"Accept-Ranges: bytes\r\n"));
        // `a` used at 5, `c` last at 1: at 12 (10 s allowed) a lookup drops
        // `c` on its way, and `a` stays.
        file(&mut c, &root, "a", 5);
        file(&mut c, &root, "b", 12);
        assert!(c.is_cached(b"/a") && c.is_cached(b"/b") && !c.is_cached(b"/c"));
        // The sweep drops whatever is inactive.
        assert_eq!(c.expire(16), 1);
        assert!(!c.is_cached(b"/a") && c.is_cached(b"/b"));
        // Without ranges, no Accept-Ranges.
        let mut off = Cache::new(2, 1024, Duration::from_secs(10), false).with_racy_window(Duration::ZERO);
        let e = file(&mut off, &root, "a", 0);
        assert!(!e.head.windows(13).any(|w| w == b"Accept-Ranges"));
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// A file rewritten in place with the same size within one tick of a
    /// coarse timestamp clock keeps size, mtime and ctime: an entry filled
    /// just before the rewrite would serve the old body for good (seen on
    /// ramfs: 891 of 900 requests stale, and the last one indefinitely).
    /// So a file changed within the racy window is served but not kept.
    #[test]
    fn a_file_changed_within_the_racy_window_is_not_cached() {
        let root = std::env::temp_dir().join(format!("spindle-http-racy-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("r"), "aaaa").unwrap();
        let root = root.canonicalize().unwrap();
        let mut c = Cache::new(8, 1024, Duration::from_secs(10), true);
        assert_eq!(file(&mut c, &root, "r", 0).body.as_deref(), Some(&b"aaaa"[..]));
        assert!(!c.is_cached(b"/r"), "a file written just now must not be trusted to its timestamps");
        std::fs::write(root.join("r"), "bbbb").unwrap();
        assert_eq!(file(&mut c, &root, "r", 0).body.as_deref(), Some(&b"bbbb"[..]));
        std::fs::remove_dir_all(&root).unwrap();

        // The rule itself, on stamps: old is trusted; recent, or ahead of
        // the clock, is not.
        let now = SystemTime::now();
        let secs = |ago: i64| {
            let t = now.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64 - ago;
            (t, 0)
        };
        let stamp = |m, c| Stamp { dev: 1, ino: 1, size: 4, mtime: m, ctime: c };
        let w = RACY_WINDOW;
        assert!(!stamp(secs(10), secs(10)).changed_within(w, now));
        assert!(stamp(secs(10), secs(1)).changed_within(w, now));
        assert!(stamp(secs(10), secs(-5)).changed_within(w, now));
        assert!(!stamp((-1, 0), (-1, 0)).changed_within(w, now));
        // A modification time set ahead (touch -d, an archive) is not a
        // recent change: the kernel's change time says when it was made.
        assert!(!stamp(secs(-86_400 * 365), secs(10)).changed_within(w, now));
    }
}
