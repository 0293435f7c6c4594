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
//! The module offers whole-file calls ([`read`], [`read_to_string`],
//! [`write()`], [`metadata`], [`remove_file`]) and an open [`File`] whose
//! reads and writes each make one such hop.
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

use crate::blocking::spawn_blocking;
use std::fs::Metadata;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::Arc;

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

/// An open file whose operations each run on the blocking pool: the
/// asynchronous face of [`std::fs::File`].
///
/// Reads and writes use and move the file's cursor, as `std`'s do. Methods
/// take `&mut self`, so one `File` runs one operation at a time; but a
/// dropped operation future does not stop its call on the pool (nothing
/// can interrupt a thread in `read`), so an operation started after
/// dropping another may run while the first is still moving the cursor.
/// Await operations to completion where the order matters.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use spindle_rt::fs::File;
///
/// let path = std::env::temp_dir().join(format!("spindle-file-doc-{}", std::process::id()));
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// let back = rt.block_on(async {
///     let mut file = File::create(&path).await?;
///     file.write_all("line one\n").await?;
///     file.sync_all().await?;
///     File::open(&path).await?.read_to_end().await
/// })?;
/// assert_eq!(back, b"line one\n");
/// # std::fs::remove_file(&path)?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct File {
    /// Shared with the pool thread running the current operation, if any:
    /// `&std::fs::File` implements `Read` and `Write`, so the closure needs
    /// only a reference count, and a dropped operation cannot lose the file.
    std: Arc<std::fs::File>,
}

impl File {
    /// Opens a file for reading, like [`std::fs::File::open`].
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::File::open`], and `Other` if the blocking pool
    /// could not run the call.
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        run(move || std::fs::File::open(path)).await.map(File::from_std)
    }

    /// Opens a file for writing, creating it or truncating it, like
    /// [`std::fs::File::create`].
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::File::create`], and `Other` if the blocking pool
    /// could not run the call.
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        run(move || std::fs::File::create(path)).await.map(File::from_std)
    }

    /// Wraps an open `std` file (from `OpenOptions`, say).
    pub fn from_std(file: std::fs::File) -> File {
        File { std: Arc::new(file) }
    }

    /// Reads up to `max` bytes from the cursor; an empty vector means end
    /// of file (or `max == 0`). One `read` call, which may return fewer
    /// bytes than are left.
    ///
    /// # Errors
    ///
    /// Those of [`std::io::Read::read`], and `Other` if the blocking pool
    /// could not run the call.
    pub async fn read(&mut self, max: usize) -> io::Result<Vec<u8>> {
        let file = Arc::clone(&self.std);
        run(move || {
            let mut buf = vec![0; max];
            let n = (&*file).read(&mut buf)?;
            buf.truncate(n);
            Ok(buf)
        })
        .await
    }

    /// Reads from the cursor to the end of the file.
    ///
    /// # Errors
    ///
    /// Those of [`std::io::Read::read_to_end`], and `Other` if the blocking
    /// pool could not run the call.
    pub async fn read_to_end(&mut self) -> io::Result<Vec<u8>> {
        let file = Arc::clone(&self.std);
        run(move || {
            let mut buf = Vec::new();
            (&*file).read_to_end(&mut buf)?;
            Ok(buf)
        })
        .await
    }

    /// Writes all of `data` at the cursor. The bytes are copied once, to be
    /// owned by the pool thread.
    ///
    /// # Errors
    ///
    /// Those of [`std::io::Write::write_all`], and `Other` if the blocking
    /// pool could not run the call.
    pub async fn write_all(&mut self, data: impl AsRef<[u8]>) -> io::Result<()> {
        let file = Arc::clone(&self.std);
        let data = data.as_ref().to_owned();
        run(move || (&*file).write_all(&data)).await
    }

    /// Flushes data and metadata to the device, like
    /// [`std::fs::File::sync_all`] (`fsync`).
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::File::sync_all`], and `Other` if the blocking
    /// pool could not run the call.
    pub async fn sync_all(&mut self) -> io::Result<()> {
        let file = Arc::clone(&self.std);
        run(move || file.sync_all()).await
    }

    /// The open file's metadata, like [`std::fs::File::metadata`].
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::File::metadata`], and `Other` if the blocking
    /// pool could not run the call.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let file = Arc::clone(&self.std);
        run(move || file.metadata()).await
    }
}

/// Runs one blocking file call on the pool. A panic in it (a bug, not an
/// IO error) is re-raised in the awaiting task; a job the pool could not
/// run becomes an `Other` error.
async fn run<T, F>(f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    match spawn_blocking(f).await {
        Ok(result) => result,
        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        Err(err) => Err(err.into()),
    }
}
