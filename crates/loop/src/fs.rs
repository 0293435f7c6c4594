//! File operations through the blocking-work pool (`uv_fs_*` with a
//! callback).
//!
//! A regular file never blocks in the poller's sense: epoll refuses to watch
//! one (`EPERM`), and poll and select call it ready at once, because the
//! kernel has no "data arrived" moment for a disk. A `read` of a file that is
//! not in the page cache still puts the thread to sleep until the disk
//! answers. So, like libuv and Node, Spindle runs file system calls on pool
//! threads ([`Loop::queue_work`]) and hands the result back on the loop
//! thread. Each call is one request: it keeps the loop alive until its
//! callback has run, and can be [cancelled](Loop::cancel_work) while it waits
//! for a pool thread.

use crate::{Loop, WorkId};
use std::fs::Metadata;
use std::io;
use std::path::PathBuf;

impl Loop {
    /// Reads the whole file at `path` on a pool thread, then calls `after`
    /// with its contents on the loop thread.
    ///
    /// `after` gets the error of opening or reading the file, or of the pool
    /// (see [`queue_work`](Loop::queue_work)).
    pub fn fs_read(
        &mut self,
        path: impl Into<PathBuf>,
        after: impl FnOnce(&mut Loop, io::Result<Vec<u8>>) + 'static,
    ) -> WorkId {
        let path = path.into();
        self.queue_work(move || std::fs::read(path), |lp, r| after(lp, r.and_then(|r| r)))
    }

    /// Writes `data` to the file at `path` on a pool thread, creating it or
    /// truncating it first, then calls `after` on the loop thread.
    ///
    /// `after` gets the error of creating or writing the file, or of the
    /// pool.
    pub fn fs_write(
        &mut self,
        path: impl Into<PathBuf>,
        data: Vec<u8>,
        after: impl FnOnce(&mut Loop, io::Result<()>) + 'static,
    ) -> WorkId {
        let path = path.into();
        self.queue_work(move || std::fs::write(path, data), |lp, r| after(lp, r.and_then(|r| r)))
    }

    /// Reads the metadata of `path` (following symbolic links, as `stat`) on
    /// a pool thread, then calls `after` with it on the loop thread.
    ///
    /// `after` gets the error of `stat` (`NotFound` for a missing path), or
    /// of the pool.
    pub fn fs_stat(
        &mut self,
        path: impl Into<PathBuf>,
        after: impl FnOnce(&mut Loop, io::Result<Metadata>) + 'static,
    ) -> WorkId {
        let path = path.into();
        self.queue_work(move || std::fs::metadata(path), |lp, r| after(lp, r.and_then(|r| r)))
    }
}
