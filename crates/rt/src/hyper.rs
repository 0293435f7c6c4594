//! hyper 1.x on spindle-rt (feature `hyper`): the IO, executor and timer
//! adapters hyper's runtime traits need.
//!
//! # How hyper stays runtime-agnostic
//!
//! hyper 1.x implements HTTP/1 and HTTP/2 as plain state machines that are
//! driven by polling; it owns no reactor, no task scheduler and no clock.
//! Everything it needs from a runtime goes through four small traits in
//! `hyper::rt`, and the caller hands in implementations of them:
//!
//! * **`hyper::rt::Read` and `hyper::rt::Write`**: the byte stream a
//!   connection runs over. `serve_connection` (server) and `handshake`
//!   (client) take any `I: Read + Write + Unpin`. They are hyper's own
//!   traits, not `futures_io`'s or tokio's, so that hyper depends on
//!   neither; `Read` fills a `ReadBufCursor` (a cursor over a possibly
//!   uninitialized buffer) instead of a `&mut [u8]`. [`HyperIo`] adapts any
//!   `futures_io::AsyncRead + AsyncWrite` stream, such as
//!   [`TcpStream`](crate::net::TcpStream), to them (and back: it also turns
//!   a hyper stream, such as an upgraded connection, into a `futures_io`
//!   one).
//! * **`hyper::rt::Executor<F>`**: how hyper spawns the background futures
//!   it makes itself. HTTP/1 needs none; HTTP/2 spawns one future per
//!   stream (server) or a connection task (client), and the
//!   hyper-util pooled client spawns connection tasks. [`HyperExecutor`]
//!   spawns `Send` futures with [`spawn`](crate::spawn); [`LocalExecutor`]
//!   spawns `!Send` ones with [`spawn_local`](crate::spawn_local).
//! * **`hyper::rt::Timer`** (with its boxed `hyper::rt::Sleep` futures): the
//!   clock behind every timeout hyper enforces, such as the HTTP/1 server's
//!   `header_read_timeout` (a client that starts a request head and stalls
//!   gets its connection closed) and HTTP/2 keep-alive pings. Without a
//!   timer those timeouts are simply off. [`HyperTimer`] runs them on
//!   spindle-rt's timer wheel, and resets a pending sleep in place.
//!
//! The connection future itself (`serve_connection`'s `Connection`) is an
//! ordinary future: the caller runs it however it likes, typically one
//! spawned task per accepted connection. hyper never spawns it.
//!
//! # Threads
//!
//! spindle-rt's sockets are `Send + Sync`, so a connection over a
//! [`TcpStream`](crate::net::TcpStream) is a `Send` future: on the
//! multi-thread runtime, [`spawn`](crate::spawn) it and it runs on any
//! worker; on the current-thread runtime `spawn` and
//! [`spawn_local`](crate::spawn_local) both work (the latter also for
//! services that hold `Rc`s). [`HyperTimer`]'s sleeps are `Send` and `Sync`,
//! as hyper requires.
//!
//! # Example
//!
//! A hello-world server, and a client on the same runtime that sends it one
//! request over a keep-alive connection:
//!
//! ```
//! use bytes::Bytes;
//! use http_body_util::{BodyExt, Empty, Full};
//! use hyper::body::Incoming;
//! use hyper::service::service_fn;
//! use hyper::{Request, Response};
//! use spindle_rt::hyper::{HyperIo, HyperTimer};
//! use spindle_rt::net::{TcpListener, TcpStream};
//! use std::convert::Infallible;
//! use std::time::Duration;
//!
//! async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
//!     Ok(Response::new(Full::new(Bytes::from_static(b"Hello, world!"))))
//! }
//!
//! let rt = spindle_rt::Builder::new_current_thread().build()?;
//! rt.block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!
//!     // The server: accept connections, one task each.
//!     spindle_rt::spawn_local(async move {
//!         while let Ok((stream, _peer)) = listener.accept().await {
//!             let conn = hyper::server::conn::http1::Builder::new()
//!                 .timer(HyperTimer::new())
//!                 .header_read_timeout(Duration::from_secs(10))
//!                 .serve_connection(HyperIo::new(stream), service_fn(hello));
//!             spindle_rt::spawn_local(async move {
//!                 if let Err(e) = conn.await {
//!                     eprintln!("connection error: {e}");
//!                 }
//!             });
//!         }
//!     });
//!
//!     // A client: hyper's low-level HTTP/1 client; its connection future
//!     // runs as a task of its own.
//!     let stream = TcpStream::connect(addr).await?;
//!     let (mut sender, conn) = hyper::client::conn::http1::handshake(HyperIo::new(stream)).await?;
//!     spindle_rt::spawn_local(conn);
//!
//!     let req = Request::get("/").header("host", "localhost").body(Empty::<Bytes>::new())?;
//!     let resp = sender.send_request(req).await?;
//!     assert_eq!(resp.status(), 200);
//!     let body = resp.into_body().collect().await?.to_bytes();
//!     assert_eq!(&body[..], b"Hello, world!");
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `crates/rt/examples/hyper.rs` is a complete server (`cargo run -p
//! spindle-rt --features hyper --example hyper`).

use crate::runtime::Handle;
use crate::time::Sleep;
use hyper::rt::{Executor, ReadBuf, ReadBufCursor, Timer};
use std::fmt;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

/// The most [`HyperIo`] reads per `poll_read` when serving hyper: the size
/// of the stack buffer it reads into (hyper's own initial read buffer size).
const READ_CHUNK: usize = 8 * 1024;

/// Adapts an IO stream to hyper's IO traits, and a hyper stream to
/// `futures_io`'s; the spindle-rt counterpart of hyper-util's `TokioIo`.
///
/// * For `T: futures_io::AsyncRead`/`AsyncWrite` (such as
///   [`TcpStream`](crate::net::TcpStream)), `HyperIo<T>` implements
///   `hyper::rt::Read`/`Write`: wrap a stream to give it to
///   `serve_connection` or `handshake`.
/// * For `T: hyper::rt::Read`/`Write` (such as hyper's `Upgraded`),
///   `HyperIo<T>` implements `futures_io::AsyncRead`/`AsyncWrite`: wrap an
///   upgraded connection to use it as an ordinary stream.
///
/// # Reads without `unsafe`
///
/// hyper reads into a cursor over a possibly uninitialized buffer, which
/// only `unsafe` code can hand to a reader as `&mut [u8]` without
/// initializing it first. `HyperIo` stays safe: it reads into a stack
/// buffer of up to 8 KiB and copies what arrived into the cursor
/// (`put_slice`). The copy is a `memcpy` of bytes that are hot in cache,
/// small beside the system call; a read returns at most 8 KiB, hyper's
/// initial read buffer size.
///
/// # Vectored writes
///
/// `futures_io::AsyncWrite` cannot tell whether its `poll_write_vectored`
/// really gathers (it has no `is_write_vectored`), so `HyperIo` reports
/// vectored writes as unsupported by default: hyper then flattens headers
/// and body into one buffer, one `write` per flush. If `T`'s
/// `poll_write_vectored` is a real `writev`, say so with
/// [`with_write_vectored`](Self::with_write_vectored) and hyper queues the
/// buffers instead of copying them. `poll_write_vectored` is forwarded to
/// `T` either way.
///
/// ```
/// use spindle_rt::hyper::HyperIo;
///
/// let io = HyperIo::new(futures::io::Cursor::new(Vec::<u8>::new()));
/// assert!(io.inner().get_ref().is_empty());
/// let cursor = io.into_inner();
/// assert_eq!(cursor.position(), 0);
/// ```
pub struct HyperIo<T> {
    inner: T,
    vectored: bool,
}

impl<T> HyperIo<T> {
    /// Wraps `inner`; vectored writes are reported as unsupported (see the
    /// type's docs).
    pub fn new(inner: T) -> HyperIo<T> {
        HyperIo { inner, vectored: false }
    }

    /// Sets whether hyper should treat `T`'s `poll_write_vectored` as an
    /// efficient gathering write (what `hyper::rt::Write::is_write_vectored`
    /// returns). Set it only if `T` implements `poll_write_vectored`
    /// itself, rather than inheriting `futures_io`'s default, which writes
    /// just the first non-empty buffer.
    #[must_use]
    pub fn with_write_vectored(mut self, vectored: bool) -> HyperIo<T> {
        self.vectored = vectored;
        self
    }

    /// The wrapped stream.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably (to set socket options, say).
    pub fn inner_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: fmt::Debug> fmt::Debug for HyperIo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperIo").field("inner", &self.inner).field("vectored", &self.vectored).finish()
    }
}

/// `T` reported reading more than it was given.
fn overlong_read() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "the reader returned more bytes than the buffer holds")
}

impl<T: futures_io::AsyncRead + Unpin> hyper::rt::Read for HyperIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let mut chunk = [0u8; READ_CHUNK];
        let len = buf.remaining().min(READ_CHUNK);
        let n = ready!(Pin::new(&mut self.get_mut().inner).poll_read(cx, &mut chunk[..len]))?;
        if n > len {
            return Poll::Ready(Err(overlong_read()));
        }
        buf.put_slice(&chunk[..n]);
        Poll::Ready(Ok(()))
    }
}

impl<T: futures_io::AsyncWrite + Unpin> hyper::rt::Write for HyperIo<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.vectored
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}

impl<T: hyper::rt::Read + Unpin> futures_io::AsyncRead for HyperIo<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        // An initialized buffer: `ReadBuf::new` is safe, and what was
        // filled is read back through `filled`.
        let mut read_buf = ReadBuf::new(buf);
        ready!(Pin::new(&mut self.get_mut().inner).poll_read(cx, read_buf.unfilled()))?;
        Poll::Ready(Ok(read_buf.filled().len()))
    }
}

impl<T: hyper::rt::Write + Unpin> futures_io::AsyncWrite for HyperIo<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// A `hyper::rt::Executor` that spawns hyper's background futures as
/// spindle-rt tasks; they must be `Send` (see [`LocalExecutor`] for
/// `!Send` ones).
///
/// [`new`](Self::new) (or `default`) spawns onto the runtime current when
/// hyper calls `execute`, which is the runtime polling the connection:
/// calling `execute` outside a runtime panics. [`with_handle`](Self::with_handle)
/// spawns through a [`Handle`] instead, from any thread.
///
/// Give it to builders that spawn, e.g. HTTP/2's
/// `hyper::server::conn::http2::Builder::new(HyperExecutor::new())`.
///
/// ```
/// use hyper::rt::Executor;
/// use spindle_rt::hyper::HyperExecutor;
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// let (tx, rx) = spindle_rt::sync::oneshot::channel();
/// HyperExecutor::with_handle(rt.handle()).execute(async move {
///     let _ = tx.send(42);
/// });
/// assert_eq!(rt.block_on(rx).ok(), Some(42));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct HyperExecutor {
    handle: Option<Handle>,
}

impl HyperExecutor {
    /// An executor that spawns onto the current runtime (the one running
    /// the task that calls `execute`).
    pub fn new() -> HyperExecutor {
        HyperExecutor { handle: None }
    }

    /// An executor that spawns onto `handle`'s runtime, from any thread.
    pub fn with_handle(handle: Handle) -> HyperExecutor {
        HyperExecutor { handle: Some(handle) }
    }
}

impl<F> Executor<F> for HyperExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    /// Spawns `fut` as a detached task.
    ///
    /// # Panics
    /// For an executor made by [`new`](HyperExecutor::new), when called
    /// outside a spindle-rt runtime.
    #[track_caller]
    fn execute(&self, fut: F) {
        // Dropping the JoinHandle detaches the task.
        drop(match &self.handle {
            Some(handle) => handle.spawn(fut),
            None => crate::spawn(fut),
        });
    }
}

/// A `hyper::rt::Executor` for futures that need not be `Send`: spawns them
/// with [`spawn_local`](crate::spawn_local) onto the current runtime.
///
/// hyper's HTTP/2 stream futures and client connection tasks are `!Send`
/// when the IO they run over is, as spindle-rt's
/// [`TcpStream`](crate::net::TcpStream) is today.
///
/// ```
/// use hyper::rt::Executor;
/// use spindle_rt::hyper::LocalExecutor;
/// use std::rc::Rc;
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// let got = rt.block_on(async {
///     let (tx, rx) = spindle_rt::sync::oneshot::channel();
///     let not_send = Rc::new(7);
///     LocalExecutor::new().execute(async move {
///         let _ = tx.send(*not_send * 6);
///     });
///     rx.await.ok()
/// });
/// assert_eq!(got, Some(42));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct LocalExecutor {
    _private: (),
}

impl LocalExecutor {
    /// An executor that spawns onto the current runtime's thread.
    pub fn new() -> LocalExecutor {
        LocalExecutor { _private: () }
    }
}

impl<F> Executor<F> for LocalExecutor
where
    F: Future + 'static,
    F::Output: 'static,
{
    /// Spawns `fut` as a detached task on this thread.
    ///
    /// # Panics
    /// When called outside a spindle-rt runtime.
    #[track_caller]
    fn execute(&self, fut: F) {
        drop(crate::spawn_local(fut));
    }
}

/// A `hyper::rt::Timer` on spindle-rt's timer wheel: the clock behind
/// hyper's timeouts, such as the HTTP/1 server's `header_read_timeout`.
///
/// hyper's deadlines are `std::time::Instant`s; they are taken as
/// [`time::Instant`](crate::time::Instant)s, the runtime's clock, which is
/// the system's unless the runtime's time is paused (as with tokio's timer
/// for hyper).
///
/// Its sleeps are [`time::Sleep`](crate::time::Sleep)s, boxed; they belong
/// to the runtime current when hyper makes them, or else to the one where
/// they are first polled (see [`sleep`](crate::time::sleep)). `reset`
/// moves a pending sleep's deadline in place, without a new allocation or
/// wheel entry.
///
/// ```
/// use hyper::rt::Timer;
/// use spindle_rt::hyper::HyperTimer;
/// use std::time::{Duration, Instant};
///
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// let start = Instant::now();
/// rt.block_on(async {
///     let timer = HyperTimer::new();
///     let mut sleep = timer.sleep(Duration::from_secs(60));
///     timer.reset(&mut sleep, Instant::now() + Duration::from_millis(5));
///     sleep.await;
/// });
/// assert!(start.elapsed() >= Duration::from_millis(5));
/// assert!(start.elapsed() < Duration::from_secs(60));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct HyperTimer {
    _private: (),
}

impl HyperTimer {
    /// The timer; it holds no state (the runtime's wheel is found when a
    /// sleep is made or first polled).
    pub fn new() -> HyperTimer {
        HyperTimer { _private: () }
    }
}

impl Timer for HyperTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(crate::time::sleep(duration))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(crate::time::sleep_until(deadline.into()))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<Sleep>() {
            Some(mut ours) => ours.reset(new_deadline.into()),
            // Someone else's sleep: replace it.
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// spindle-rt's `Sleep` is `Send + Sync`, as hyper's timers require.
impl hyper::rt::Sleep for Sleep {}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::io::{AsyncReadExt, AsyncWriteExt, Cursor};
    use std::mem::MaybeUninit;

    /// Polls a hyper read into a fresh uninitialized buffer of `cap` bytes.
    fn hyper_read<T: hyper::rt::Read + Unpin>(io: &mut T, cap: usize) -> Vec<u8> {
        let mut storage = vec![MaybeUninit::<u8>::uninit(); cap];
        let mut buf = ReadBuf::uninit(&mut storage);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match Pin::new(io).poll_read(&mut cx, buf.unfilled()) {
            Poll::Ready(Ok(())) => buf.filled().to_vec(),
            other => panic!("in-memory read: {other:?}"),
        }
    }

    #[test]
    fn adapters_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<HyperTimer>();
        assert_send_sync::<HyperExecutor>();
        assert_send_sync::<LocalExecutor>();
        assert_send_sync::<Sleep>();
        // `HyperIo` is as `Send` as what it wraps.
        assert_send_sync::<HyperIo<Cursor<Vec<u8>>>>();
    }

    #[test]
    fn reads_into_uninitialized_cursor() {
        let data: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        let mut io = HyperIo::new(Cursor::new(data.clone()));
        let mut got = Vec::new();
        loop {
            let chunk = hyper_read(&mut io, 10_000);
            assert!(chunk.len() <= READ_CHUNK);
            if chunk.is_empty() {
                break;
            }
            got.extend_from_slice(&chunk);
        }
        assert_eq!(got, data);
        // A small cursor gets at most what it holds.
        let mut io = HyperIo::new(Cursor::new(b"hello".to_vec()));
        assert_eq!(hyper_read(&mut io, 3), b"hel");
        assert_eq!(hyper_read(&mut io, 3), b"lo");
    }

    #[test]
    fn writes_forward_and_round_trip_back_to_futures_io() {
        // futures_io -> hyper -> futures_io again.
        let mut io = HyperIo::new(HyperIo::new(Cursor::new(Vec::new())).with_write_vectored(true));
        assert!(hyper::rt::Write::is_write_vectored(io.inner()));
        futures::executor::block_on(async {
            io.write_all(b"abc").await.unwrap();
            let bufs = [IoSlice::new(b"de"), IoSlice::new(b"f")];
            let n = io.write_vectored(&bufs).await.unwrap();
            assert!(n >= 2);
            io.flush().await.unwrap();
            io.close().await.unwrap();
        });
        let mut cursor = io.into_inner().into_inner();
        assert!(cursor.get_ref().starts_with(b"abcde"));
        cursor.set_position(0);
        let mut io = HyperIo::new(HyperIo::new(cursor));
        let mut back = String::new();
        futures::executor::block_on(io.read_to_string(&mut back)).unwrap();
        assert!(back.starts_with("abcde"));
    }

    #[test]
    fn timer_resets_in_place_and_replaces_foreign_sleeps() {
        struct Foreign;
        impl Future for Foreign {
            type Output = ();
            fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
                Poll::Pending
            }
        }
        impl hyper::rt::Sleep for Foreign {}

        let rt = crate::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let timer = HyperTimer::new();
            let mut foreign: Pin<Box<dyn hyper::rt::Sleep>> = Box::pin(Foreign);
            timer.reset(&mut foreign, Instant::now() + Duration::from_millis(2));
            assert!(foreign.as_mut().downcast_mut_pin::<Sleep>().is_some());
            crate::time::timeout(Duration::from_secs(10), foreign).await.expect("the replaced sleep fires");

            let mut sleep = timer.sleep_until(Instant::now() + Duration::from_secs(3600));
            let deadline = Instant::now() + Duration::from_millis(2);
            timer.reset(&mut sleep, deadline);
            let ours = sleep.as_mut().downcast_mut_pin::<Sleep>().expect("ours");
            assert_eq!(ours.deadline().into_std(), deadline);
            crate::time::timeout(Duration::from_secs(10), sleep).await.expect("the reset sleep fires");
        });
    }
}
