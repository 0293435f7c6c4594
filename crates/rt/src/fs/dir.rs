//! Directories: create, remove, and list them in batches.
//!
//! Listing is the one directory call that is a sequence, not a single
//! call: `readdir(3)` hands out one entry at a time from a buffer the
//! kernel fills with `getdents64`. A hop to the blocking pool per entry
//! would cost more than the entry, so [`ReadDir`] fetches
//! [`ENTRIES_PER_HOP`] entries per hop and hands them out from memory.

use super::{joined, run};
use crate::blocking::spawn_blocking;
use crate::task::JoinHandle;
use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{FileType, Metadata};
use std::future::{poll_fn, Future};
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Entries [`ReadDir`] reads per hop to the blocking pool (tokio's figure).
pub(crate) const ENTRIES_PER_HOP: usize = 32;

/// Creates a directory, like [`std::fs::create_dir`]; its parent must
/// exist.
///
/// # Errors
///
/// Those of [`std::fs::create_dir`] (`AlreadyExists`, `NotFound` for a
/// missing parent, ...), and `Other` if the blocking pool could not run the
/// call.
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    run(move || std::fs::create_dir(path)).await
}

/// Creates a directory and any missing parents, like
/// [`std::fs::create_dir_all`]; a directory that already exists is fine.
///
/// # Errors
///
/// Those of [`std::fs::create_dir_all`], and `Other` if the blocking pool
/// could not run the call.
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    run(move || std::fs::create_dir_all(path)).await
}

/// Removes an empty directory, like [`std::fs::remove_dir`].
///
/// # Errors
///
/// Those of [`std::fs::remove_dir`] (`DirectoryNotEmpty`, `NotFound`,
/// ...), and `Other` if the blocking pool could not run the call.
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    run(move || std::fs::remove_dir(path)).await
}

/// Removes a directory and everything in it, like
/// [`std::fs::remove_dir_all`] (which does not follow symbolic links out
/// of the tree). The whole walk is one hop: it runs on one pool thread.
///
/// # Errors
///
/// Those of [`std::fs::remove_dir_all`], and `Other` if the blocking pool
/// could not run the call.
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    run(move || std::fs::remove_dir_all(path)).await
}

/// Opens a directory for listing, like [`std::fs::read_dir`]. The entries
/// come from [`ReadDir::next_entry`], in the order the file system keeps
/// them, without `.` and `..`.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use spindle_rt::fs;
///
/// let dir = std::env::temp_dir().join(format!("spindle-read-dir-doc-{}", std::process::id()));
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// let mut names = rt.block_on(async {
///     fs::create_dir_all(dir.join("sub")).await?;
///     fs::write(dir.join("a.txt"), "a").await?;
///     let mut names = Vec::new();
///     let mut entries = fs::read_dir(&dir).await?;
///     while let Some(entry) = entries.next_entry().await? {
///         names.push(entry.file_name().into_string().unwrap());
///     }
///     fs::remove_dir_all(&dir).await?;
///     Ok::<_, std::io::Error>(names)
/// })?;
/// names.sort();
/// assert_eq!(names, ["a.txt", "sub"]);
/// # Ok(())
/// # }
/// ```
///
/// # Errors
///
/// Those of [`std::fs::read_dir`] (`NotFound`, `NotADirectory`, ...), and
/// `Other` if the blocking pool could not run the call.
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path = path.as_ref().to_owned();
    let std = run(move || std::fs::read_dir(path)).await?;
    Ok(ReadDir { state: State::Idle(Some(Batch { std, entries: VecDeque::new(), done: false })) })
}

/// A directory being listed, from [`read_dir`].
#[derive(Debug)]
pub struct ReadDir {
    state: State,
}

#[derive(Debug)]
enum State {
    /// The reader and the entries fetched but not yet handed out; `None`
    /// only after a panic on the pool took the reader with it.
    Idle(Option<Batch>),
    /// A hop to the pool is fetching the next batch.
    Busy(JoinHandle<Batch>),
}

#[derive(Debug)]
struct Batch {
    std: std::fs::ReadDir,
    entries: VecDeque<io::Result<DirEntry>>,
    /// The reader has returned its last entry.
    done: bool,
}

impl Batch {
    /// Reads up to [`ENTRIES_PER_HOP`] entries (on a pool thread). An error
    /// is queued like an entry, as `std`'s iterator yields it.
    fn fill(mut self) -> Batch {
        for _ in 0..ENTRIES_PER_HOP {
            match self.std.next() {
                Some(entry) => self.entries.push_back(entry.map(|e| DirEntry { std: Arc::new(e) })),
                None => {
                    self.done = true;
                    break;
                }
            }
        }
        self
    }
}

impl ReadDir {
    /// The next entry, or `None` once the listing is complete.
    ///
    /// # Errors
    ///
    /// An error reading the directory (as [`std::fs::ReadDir`] yields it;
    /// the listing may go on after one), and `Other` if the blocking pool
    /// could not run the call, which also ends the listing.
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        poll_fn(|cx| self.poll_next_entry(cx)).await
    }

    /// The polling form of [`next_entry`](ReadDir::next_entry), for
    /// hand-written futures and streams.
    ///
    /// # Errors
    ///
    /// As [`next_entry`](ReadDir::next_entry).
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<DirEntry>>> {
        loop {
            match &mut self.state {
                State::Idle(None) => return Poll::Ready(Ok(None)),
                State::Idle(Some(batch)) => {
                    if let Some(entry) = batch.entries.pop_front() {
                        return Poll::Ready(entry.map(Some));
                    }
                    if batch.done {
                        return Poll::Ready(Ok(None));
                    }
                    let batch = match std::mem::replace(&mut self.state, State::Idle(None)) {
                        State::Idle(Some(batch)) => batch,
                        _ => unreachable!("matched Idle(Some) above"),
                    };
                    self.state = State::Busy(spawn_blocking(move || batch.fill()));
                }
                State::Busy(handle) => {
                    let result = match Pin::new(handle).poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(result) => result,
                    };
                    self.state = State::Idle(None);
                    self.state = State::Idle(Some(joined(result)?));
                }
            }
        }
    }
}

/// One entry of a directory listing, from [`ReadDir`].
///
/// The name and path come from the listing itself; [`metadata`] and
/// [`file_type`] ask the file system (on the pool), as `std`'s do.
///
/// [`metadata`]: DirEntry::metadata
/// [`file_type`]: DirEntry::file_type
#[derive(Debug, Clone)]
pub struct DirEntry {
    std: Arc<std::fs::DirEntry>,
}

impl DirEntry {
    /// The entry's full path: the directory given to [`read_dir`] joined
    /// with [`file_name`](DirEntry::file_name).
    pub fn path(&self) -> PathBuf {
        self.std.path()
    }

    /// The entry's name within its directory.
    pub fn file_name(&self) -> OsString {
        self.std.file_name()
    }

    /// The entry's inode number, from the listing (no system call).
    pub fn ino(&self) -> u64 {
        std::os::unix::fs::DirEntryExt::ino(&*self.std)
    }

    /// The entry's metadata, not following a symbolic link, like
    /// [`std::fs::DirEntry::metadata`].
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::DirEntry::metadata`] (the entry may be gone by
    /// now), and `Other` if the blocking pool could not run the call.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = Arc::clone(&self.std);
        run(move || std.metadata()).await
    }

    /// The entry's type, not following a symbolic link, like
    /// [`std::fs::DirEntry::file_type`]: usually from the listing, else a
    /// `lstat`.
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::DirEntry::file_type`], and `Other` if the
    /// blocking pool could not run the call.
    pub async fn file_type(&self) -> io::Result<FileType> {
        let std = Arc::clone(&self.std);
        run(move || std.file_type()).await
    }
}
