//! Files, through the blocking pool.
//!
//! # Why files go to a thread
//!
//! Sockets are the readiness model's home ground: `epoll` says "readable"
//! when bytes are waiting, the task reads them without blocking, and when
//! there are none it parks until the next event. Regular files do not fit
//! that model. To `select`, `poll` and `epoll` a regular file is *always*
//! ready (`epoll_ctl` even refuses one with `EPERM`), yet a `read` of a
//! page not in the page cache still sleeps in the kernel until the disk
//! answers, and `O_NONBLOCK` is ignored for regular files. There is no
//! readiness to wait for, only a call that may block.
//!
//! So every runtime built on readiness does what libuv does for Node: it
//! runs the ordinary blocking call on another thread and hands back the
//! result. Each function here is [`spawn_blocking`] around the matching
//! `std::fs` call; the task that awaits it parks like any other, and the
//! runtime's thread keeps serving sockets and timers meanwhile. The price
//! is a thread hop (a queue push, a wake-up, a result sent back) per call,
//! so read and write whole buffers, not bytes.
//!
//! The module mirrors `std::fs` (and tokio's `fs`, so code moves across
//! unchanged):
//!
//! - whole-file calls: [`read`], [`read_to_string`], [`write()`];
//! - paths: [`metadata`], [`symlink_metadata`], [`try_exists`],
//!   [`canonicalize`], [`rename`], [`copy`], [`remove_file`],
//!   [`hard_link`], [`symlink`], [`read_link`], [`set_permissions`];
//! - directories: [`create_dir`], [`create_dir_all`], [`remove_dir`],
//!   [`remove_dir_all`], and [`read_dir`], whose [`ReadDir`] fetches
//!   entries in batches so that a large directory does not cost a hop per
//!   entry;
//! - an open [`File`] (from [`File::open`], [`File::create`] or
//!   [`OpenOptions`]), with async methods and the `futures-io`
//!   `AsyncRead`, `AsyncWrite` and `AsyncSeek` traits.
//!
//! The real answer is completion IO: with io_uring (as with Windows'
//! IOCP) the kernel itself takes the read, runs it asynchronously and posts
//! a completion, with no thread of ours blocked; that backend is the later
//! step of spindle-poll's plan.
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! let dir = std::env::temp_dir().join(format!("spindle-fs-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("hello.txt");
//!
//! let rt = spindle_rt::Builder::new_current_thread().build()?;
//! let text = rt.block_on(async {
//!     spindle_rt::fs::write(&path, "hello, pool").await?;
//!     spindle_rt::fs::read_to_string(&path).await
//! })?;
//! assert_eq!(text, "hello, pool");
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```

mod dir;
mod file;
mod paths;

pub use dir::{create_dir, create_dir_all, read_dir, remove_dir, remove_dir_all, DirEntry, ReadDir};
pub use file::{File, OpenOptions};
pub use paths::{
    canonicalize, copy, hard_link, read_link, rename, set_permissions, symlink, symlink_metadata, try_exists,
};

use crate::blocking::spawn_blocking;
use crate::task::JoinError;
use std::fs::Metadata;
use std::io;
use std::path::Path;

/// Reads a whole file into a byte vector, like [`std::fs::read`].
///
/// # Errors
///
/// Those of [`std::fs::read`] (`NotFound`, `PermissionDenied`, ...), and an
/// error of kind `Other` if the blocking pool could not run the call.
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref().to_owned();
    run(move || std::fs::read(path)).await
}

/// Reads a whole file into a string, like [`std::fs::read_to_string`].
///
/// # Errors
///
/// Those of [`std::fs::read_to_string`] (including `InvalidData` if the
/// file is not UTF-8), and `Other` if the blocking pool could not run the
/// call.
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let path = path.as_ref().to_owned();
    run(move || std::fs::read_to_string(path)).await
}

/// Writes `contents` to a file, creating it or truncating it first, like
/// [`std::fs::write`]. The bytes are copied once, to be owned by the pool
/// thread.
///
/// # Errors
///
/// Those of [`std::fs::write`], and `Other` if the blocking pool could not
/// run the call.
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    let contents = contents.as_ref().to_owned();
    run(move || std::fs::write(path, contents)).await
}

/// A path's metadata (following symbolic links), like
/// [`std::fs::metadata`].
///
/// # Errors
///
/// Those of [`std::fs::metadata`], and `Other` if the blocking pool could
/// not run the call.
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref().to_owned();
    run(move || std::fs::metadata(path)).await
}

/// Removes a file, like [`std::fs::remove_file`].
///
/// # Errors
///
/// Those of [`std::fs::remove_file`], and `Other` if the blocking pool
/// could not run the call.
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    run(move || std::fs::remove_file(path)).await
}

/// Runs one blocking file call on the pool; see [`joined`].
pub(crate) async fn run<T, F>(f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    joined(spawn_blocking(f).await)?
}

/// The value of a finished pool job. A panic in it (a bug, not an IO
/// error) is re-raised in the awaiting task; a job the pool could not run
/// becomes an `Other` error.
pub(crate) fn joined<T>(result: Result<T, JoinError>) -> io::Result<T> {
    match result {
        Ok(value) => Ok(value),
        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        Err(err) => Err(err.into()),
    }
}
