//! An open file: async methods, and the `futures-io` traits, on the pool.
//!
//! # How a poll-based file works
//!
//! `AsyncRead::poll_read` lends a buffer only for the length of one call,
//! but a pool thread needs a buffer it owns until the `read` returns. So
//! the file owns one: a read sends it to the pool, and the bytes that come
//! back are handed out from it. A read asks for at least
//! [`READ_AHEAD`] bytes, so small reads do not each cost a hop; what was
//! read ahead and not yet handed out has moved the kernel's cursor past
//! the caller's, so before a write or a seek the file seeks back by that
//! much.
//!
//! Writes are *write-behind*, as in tokio: `poll_write` copies the bytes,
//! sends them to the pool and returns at once. The next operation waits
//! for that write first, and reports its error if it failed, so call
//! `flush` (or [`File::sync_all`]) to learn the fate of the last write.
//! One operation is in flight at a time, so the order of operations on the
//! file is the order of the calls.

use super::{joined, run};
use crate::blocking::spawn_blocking;
use crate::task::JoinHandle;
use std::fs::{Metadata, Permissions};
use std::future::{poll_fn, Future};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// The least a pool read asks for, whatever the caller's buffer (16 KiB).
pub(crate) const READ_AHEAD: usize = 16 * 1024;

/// The most one pool read or write moves (2 MiB, tokio's figure): a bigger
/// caller buffer is served in several hops, so one call cannot pin a huge
/// copy.
pub(crate) const MAX_HOP: usize = 2 * 1024 * 1024;

/// An open file whose operations each run on the blocking pool: the
/// asynchronous face of [`std::fs::File`].
///
/// It has async methods ([`read`](File::read), [`write_all`](File::write_all),
/// [`seek`](File::seek), ...) and implements `futures-io`'s `AsyncRead`,
/// `AsyncWrite` and `AsyncSeek`, so the extension traits of
/// [`spindle_rt::io`](crate::io) (tokio's `read_to_end`, `read_u32`,
/// `flush`, `rewind`, `BufReader`, `lines`, ...) and of `futures` work on
/// it. Both
/// kinds of call share one cursor and run one at a time, in call order (see
/// the module docs of `fs` for the read-ahead and the write-behind).
///
/// Two inherent methods shadow the extension methods of the same name
/// with other signatures, [`read`](File::read) and
/// [`read_to_end`](File::read_to_end); call those as
/// `AsyncReadExt::read(&mut file, &mut buf)`.
///
/// A dropped operation future does not stop its call on the pool (nothing
/// can interrupt a thread in `read`). For the trait methods the file keeps
/// track of it and the next call waits for it; an async method's call
/// whose future was dropped is not tracked, so await those to completion
/// where the order matters.
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
    /// `&std::fs::File` implements `Read`, `Write` and `Seek`, so the
    /// closure needs only a reference count, and a dropped operation
    /// cannot lose the file.
    std: Arc<std::fs::File>,
    state: State,
    /// The file's buffer (when no hop holds it): bytes read ahead, of which
    /// `buf[pos..]` are not handed out yet.
    buf: Vec<u8>,
    pos: usize,
}

#[derive(Debug)]
enum State {
    Idle,
    /// A trait operation is running on the pool, with the buffer.
    Busy(JoinHandle<(Op, Vec<u8>)>),
}

/// A finished pool operation.
#[derive(Debug)]
enum Op {
    /// The buffer now holds the bytes read (`Ok(0)`: end of file).
    Read(io::Result<usize>),
    Write(io::Result<()>),
    /// `asked`: a caller's `poll_seek`, whose result is its answer; else
    /// the file's own seek back over read-ahead bytes.
    Seek {
        result: io::Result<u64>,
        asked: bool,
    },
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

    /// A new [`OpenOptions`], for any other way of opening.
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wraps an open `std` file.
    pub fn from_std(file: std::fs::File) -> File {
        File { std: Arc::new(file), state: State::Idle, buf: Vec::new(), pos: 0 }
    }

    /// Reads up to `max` bytes from the cursor; an empty vector means end
    /// of file (or `max == 0`). One `read` call, which may return fewer
    /// bytes than are left. (With an `AsyncReadExt` in scope, call
    /// its `read` as `AsyncReadExt::read(&mut file, &mut buf)`.)
    ///
    /// # Errors
    ///
    /// Those of [`std::io::Read::read`], a failed earlier write, and
    /// `Other` if the blocking pool could not run the call.
    pub async fn read(&mut self, max: usize) -> io::Result<Vec<u8>> {
        self.after_settling(move |mut file| {
            let mut buf = vec![0; max];
            let n = file.read(&mut buf)?;
            buf.truncate(n);
            Ok(buf)
        })
        .await
    }

    /// Reads from the cursor to the end of the file.
    ///
    /// # Errors
    ///
    /// Those of [`std::io::Read::read_to_end`], a failed earlier write, and
    /// `Other` if the blocking pool could not run the call.
    pub async fn read_to_end(&mut self) -> io::Result<Vec<u8>> {
        self.after_settling(|mut file| {
            let mut buf = Vec::new();
            file.read_to_end(&mut buf)?;
            Ok(buf)
        })
        .await
    }

    /// Writes all of `data` at the cursor. The bytes are copied once, to be
    /// owned by the pool thread.
    ///
    /// # Errors
    ///
    /// Those of [`std::io::Write::write_all`], a failed earlier write, and
    /// `Other` if the blocking pool could not run the call.
    pub async fn write_all(&mut self, data: impl AsRef<[u8]>) -> io::Result<()> {
        let data = data.as_ref().to_owned();
        self.after_settling(move |mut file| file.write_all(&data)).await
    }

    /// Moves the cursor, like [`std::io::Seek::seek`]; returns the new
    /// position from the start of the file.
    ///
    /// # Errors
    ///
    /// Those of [`std::io::Seek::seek`] (`InvalidInput` before the start),
    /// a failed earlier write, and `Other` if the blocking pool could not
    /// run the call.
    pub async fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.after_settling(move |mut file| file.seek(pos)).await
    }

    /// Truncates or extends the file to `size` bytes, like
    /// [`std::fs::File::set_len`]; the cursor does not move.
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::File::set_len`], a failed earlier write, and
    /// `Other` if the blocking pool could not run the call.
    pub async fn set_len(&mut self, size: u64) -> io::Result<()> {
        self.after_settling(move |file| file.set_len(size)).await
    }

    /// A second handle to the same open file (`dup`), sharing its cursor,
    /// like [`std::fs::File::try_clone`]. As tokio's, it does not wait for
    /// this handle's operation in flight.
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::File::try_clone`] (`EMFILE`, ...), and `Other`
    /// if the blocking pool could not run the call.
    pub async fn try_clone(&self) -> io::Result<File> {
        let file = Arc::clone(&self.std);
        run(move || file.try_clone()).await.map(File::from_std)
    }

    /// The `std` file, after the operation in flight (a write-behind
    /// write's error is dropped: [`flush`](futures_io::AsyncWrite::poll_flush)
    /// first to see it) and with read-ahead bytes given back, so its cursor
    /// is where this file's reads left off. As tokio's `into_std`.
    pub async fn into_std(mut self) -> std::fs::File {
        // An error here concerned an earlier write; the file stays usable.
        let _ = self.settle().await;
        // An async method's call whose future was dropped may still hold
        // the file on the pool: hand out a `dup` of it then.
        Arc::try_unwrap(self.std).unwrap_or_else(|shared| shared.try_clone().expect("dup of an open file"))
    }

    /// The `std` file, if no operation is in flight and nothing was read
    /// ahead (so its cursor is this file's); else the file back. As
    /// tokio's `try_into_std`.
    ///
    /// # Errors
    ///
    /// The file itself, when it cannot be converted now.
    pub fn try_into_std(self) -> Result<std::fs::File, File> {
        if !matches!(self.state, State::Idle) || self.pos < self.buf.len() {
            return Err(self);
        }
        let File { std, state, buf, pos } = self;
        Arc::try_unwrap(std).map_err(|std| File { std, state, buf, pos })
    }

    /// Flushes data and metadata to the device, like
    /// [`std::fs::File::sync_all`] (`fsync`), after any write in flight.
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::File::sync_all`], a failed earlier write, and
    /// `Other` if the blocking pool could not run the call.
    pub async fn sync_all(&mut self) -> io::Result<()> {
        self.after_settling(|file| file.sync_all()).await
    }

    /// Flushes data (and only the metadata needed to read it back) to the
    /// device, like [`std::fs::File::sync_data`] (`fdatasync`).
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::File::sync_data`], a failed earlier write, and
    /// `Other` if the blocking pool could not run the call.
    pub async fn sync_data(&mut self) -> io::Result<()> {
        self.after_settling(|file| file.sync_data()).await
    }

    /// The open file's metadata, like [`std::fs::File::metadata`]. A write
    /// still in flight may not show in it yet; flush first where it must.
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::File::metadata`], and `Other` if the blocking
    /// pool could not run the call.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let file = Arc::clone(&self.std);
        run(move || file.metadata()).await
    }

    /// Changes the open file's permissions, like
    /// [`std::fs::File::set_permissions`].
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::File::set_permissions`], and `Other` if the
    /// blocking pool could not run the call.
    pub async fn set_permissions(&self, perm: Permissions) -> io::Result<()> {
        let file = Arc::clone(&self.std);
        run(move || file.set_permissions(perm)).await
    }

    /// Settles (see below), then runs `op` on the file on the blocking pool:
    /// the body of every cursor-dependent async method.
    async fn after_settling<T: Send + 'static>(
        &mut self,
        op: impl FnOnce(&std::fs::File) -> io::Result<T> + Send + 'static,
    ) -> io::Result<T> {
        self.settle().await?;
        let file = Arc::clone(&self.std);
        run(move || op(&file)).await
    }

    /// Waits for the operation in flight, reporting a failed write or seek,
    /// and gives back read-ahead bytes: afterwards the kernel's cursor is
    /// the caller's.
    async fn settle(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_settle(cx)).await
    }

    fn poll_settle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            if let State::Busy(_) = self.state {
                match self.poll_complete(cx)? {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(op) => op.error_for_writer()?,
                }
            }
            if !self.seek_back() {
                return Poll::Ready(Ok(()));
            }
        }
    }

    /// Waits for the operation in flight and takes the buffer back.
    fn poll_complete(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Op>> {
        let State::Busy(handle) = &mut self.state else {
            unreachable!("poll_complete is called only while Busy");
        };
        let result = match Pin::new(handle).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result,
        };
        self.state = State::Idle;
        self.pos = 0;
        let (op, buf) = joined(result)?;
        self.buf = buf;
        if !matches!(op, Op::Read(Ok(_))) {
            self.buf.clear();
        }
        Poll::Ready(Ok(op))
    }

    /// If bytes were read ahead and not handed out, starts the seek back
    /// over them and drops them; returns whether it did.
    fn seek_back(&mut self) -> bool {
        let unread = self.buf.len() - self.pos;
        if unread == 0 {
            return false;
        }
        // A buffer is at most MAX_HOP bytes long, far below i64::MAX.
        let back = -(unread as i64);
        self.start(move |mut file, buf| {
            buf.clear();
            Op::Seek { result: file.seek(SeekFrom::Current(back)), asked: false }
        });
        true
    }

    /// Sends `op` and the buffer to the pool; the file is Busy until it is
    /// back.
    fn start(&mut self, op: impl FnOnce(&std::fs::File, &mut Vec<u8>) -> Op + Send + 'static) {
        debug_assert!(matches!(self.state, State::Idle));
        let file = Arc::clone(&self.std);
        let mut buf = std::mem::take(&mut self.buf);
        self.pos = 0;
        self.state = State::Busy(spawn_blocking(move || {
            let op = op(&file, &mut buf);
            (op, buf)
        }));
    }
}

impl Op {
    /// What a finished operation means to a caller about to write, seek or
    /// flush: a failed write or seek is its error; a read's result (its
    /// bytes stay as read-ahead, its error concerned a reader) is not.
    fn error_for_writer(self) -> io::Result<()> {
        match self {
            Op::Write(Err(e)) | Op::Seek { result: Err(e), .. } => Err(e),
            Op::Read(_) | Op::Write(Ok(())) | Op::Seek { result: Ok(_), .. } => Ok(()),
        }
    }
}

impl futures_io::AsyncRead for File {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, dst: &mut [u8]) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        loop {
            if let State::Busy(_) = me.state {
                match me.poll_complete(cx)? {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Op::Read(Ok(0))) => return Poll::Ready(Ok(0)),
                    Poll::Ready(Op::Read(Ok(_))) => {}
                    Poll::Ready(Op::Read(Err(e))) => return Poll::Ready(Err(e)),
                    Poll::Ready(op) => op.error_for_writer()?,
                }
            }
            let unread = &me.buf[me.pos..];
            if !unread.is_empty() {
                let n = unread.len().min(dst.len());
                dst[..n].copy_from_slice(&unread[..n]);
                me.pos += n;
                return Poll::Ready(Ok(n));
            }
            if dst.is_empty() {
                return Poll::Ready(Ok(0));
            }
            let want = dst.len().clamp(READ_AHEAD, MAX_HOP);
            me.start(move |mut file, buf| {
                buf.resize(want, 0);
                let result = file.read(buf);
                buf.truncate(*result.as_ref().unwrap_or(&0));
                Op::Read(result)
            });
        }
    }
}

impl futures_io::AsyncWrite for File {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, src: &[u8]) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        // The write before this one, and any read-ahead, first.
        match me.poll_settle(cx)? {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(()) => {}
        }
        if src.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let n = src.len().min(MAX_HOP);
        me.buf.clear();
        me.buf.extend_from_slice(&src[..n]);
        me.start(|mut file, buf| {
            let result = file.write_all(buf);
            Op::Write(result)
        });
        Poll::Ready(Ok(n))
    }

    /// Waits for the write in flight and reports its error. Like
    /// `std::fs::File::flush` it does not reach the device; for that,
    /// [`File::sync_all`].
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        if let State::Busy(_) = me.state {
            match me.poll_complete(cx)? {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(op) => op.error_for_writer()?,
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Flushes; the file itself closes when the `File` is dropped.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl futures_io::AsyncSeek for File {
    /// Seeks from the caller's position: bytes read ahead and not handed
    /// out are counted back for `SeekFrom::Current`. A caller that gets
    /// `Pending` must poll again with the same `pos`, as the `futures`
    /// `seek` future does.
    fn poll_seek(self: Pin<&mut Self>, cx: &mut Context<'_>, pos: SeekFrom) -> Poll<io::Result<u64>> {
        let me = self.get_mut();
        loop {
            if let State::Busy(_) = me.state {
                match me.poll_complete(cx)? {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Op::Seek { result, asked: true }) => return Poll::Ready(result),
                    Poll::Ready(op) => op.error_for_writer()?,
                }
            }
            let unread = (me.buf.len() - me.pos) as i64;
            let pos = match pos {
                SeekFrom::Current(n) => match n.checked_sub(unread) {
                    Some(n) => SeekFrom::Current(n),
                    None => return Poll::Ready(Err(io::Error::from(io::ErrorKind::InvalidInput))),
                },
                other => other,
            };
            me.start(move |mut file, buf| {
                buf.clear();
                Op::Seek { result: file.seek(pos), asked: true }
            });
        }
    }
}

/// How to open a file: the asynchronous face of [`std::fs::OpenOptions`],
/// with the same builder methods.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use spindle_rt::fs::OpenOptions;
///
/// let path = std::env::temp_dir().join(format!("spindle-open-doc-{}", std::process::id()));
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let mut log = OpenOptions::new().append(true).create(true).open(&path).await?;
///     log.write_all("one\n").await?;
///     let mut log = OpenOptions::new().append(true).open(&path).await?;
///     log.write_all("two\n").await?;
///     assert_eq!(spindle_rt::fs::read_to_string(&path).await?, "one\ntwo\n");
///     spindle_rt::fs::remove_file(&path).await
/// })?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct OpenOptions(std::fs::OpenOptions);

impl OpenOptions {
    /// Options with every flag off, like [`std::fs::OpenOptions::new`].
    pub fn new() -> OpenOptions {
        OpenOptions(std::fs::OpenOptions::new())
    }

    /// Open for reading.
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.0.read(read);
        self
    }

    /// Open for writing.
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.0.write(write);
        self
    }

    /// Every write goes to the end of the file (`O_APPEND`); implies write.
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.0.append(append);
        self
    }

    /// Cut the file to length 0 on opening (needs write).
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.0.truncate(truncate);
        self
    }

    /// Create the file if it does not exist (needs write or append).
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.0.create(create);
        self
    }

    /// Create the file, failing with `AlreadyExists` if it exists
    /// (`O_CREAT | O_EXCL`, atomic: the way to claim a lock file).
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.0.create_new(create_new);
        self
    }

    /// The permission bits of a created file, before the umask.
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        self.0.mode(mode);
        self
    }

    /// Extra `open(2)` flags, such as `libc::O_NOFOLLOW`.
    pub fn custom_flags(&mut self, flags: i32) -> &mut OpenOptions {
        self.0.custom_flags(flags);
        self
    }

    /// Opens `path` with these options, on the blocking pool.
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::OpenOptions::open`] (`NotFound`,
    /// `AlreadyExists` with `create_new`, `InvalidInput` for contradictory
    /// flags, ...), and `Other` if the blocking pool could not run the
    /// call.
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        let options = self.0.clone();
        run(move || options.open(path)).await.map(File::from_std)
    }
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}

impl From<std::fs::OpenOptions> for OpenOptions {
    fn from(options: std::fs::OpenOptions) -> OpenOptions {
        OpenOptions(options)
    }
}
