//! # spindle-rt: an async/await runtime
//!
//! Spindle's async runtime, two schedulers behind one API: a
//! current-thread scheduler on a spindle-loop `Loop` (the Node, Redis and
//! asyncio model) and a multi-thread G-M-P work-stealing scheduler (Go's
//! model), with net, time, sync, blocking work and hyper support.
//!
//! * [`runtime`]: [`Builder::new_current_thread`] and
//!   [`Builder::new_multi_thread`], [`Runtime::block_on`], [`spawn`],
//!   [`spawn_local`] for `!Send` futures (on the current-thread runtime,
//!   or in a [`task::LocalSet`] on either), [`yield_now`],
//!   [`block_in_place`] (multi-thread: hands the worker's P to another
//!   thread), a [`Handle`] other threads spawn through, and the sysmon
//!   thread's [`BlockedTask`](runtime::BlockedTask) reports;
//! * [`time`]: `sleep`, `timeout` and `interval` on a hierarchical timer
//!   wheel, and tokio's paused time for tests (`time::Instant`, `pause`,
//!   `advance`, `Builder::start_paused`);
//! * [`task`]: the task cell, its one-word state machine, `JoinHandle`,
//!   `AbortHandle`, `JoinSet`, `LocalSet`, `task::id()`, and task-local
//!   storage ([`task_local!`]);
//! * [`sched`]: the G-M-P building blocks: a P's lock-free local run queue
//!   (steal half) and the global queue;
//! * [`coop`]: the per-poll budget that makes an always-ready task yield
//!   (`consume_budget`, `unconstrained`);
//! * [`net`]: TCP (with [`net::TcpSocket`] for options), UDP and Unix
//!   sockets, `Send + Sync` on both runtimes, registered once,
//!   edge-triggered; split halves, vectored writes, futures-io traits,
//!   and tokio's readiness API (`ready`, `try_read`, `try_write`, `try_io`);
//! * [`io`]: tokio's `AsyncReadExt`, `AsyncWriteExt`, `AsyncBufReadExt`,
//!   `AsyncSeekExt`, `BufReader`, `BufWriter`, `copy`, `duplex`, `split`,
//!   `empty`, `sink` and `repeat` over the futures-io traits; the readiness latch (`ScheduledIo`) that IO
//!   types wait on; and [`io::unix::AsyncFd`], which puts any non-blocking descriptor
//!   (an eventfd, a timerfd, inotify, a pipe, a pty) on the runtime;
//! * [`blocking`] and [`fs`]: `spawn_blocking` (returning a `JoinHandle`,
//!   as `spawn` does) on the runtime's elastic pool whose idle threads
//!   retire, and `std::fs` through it (files with
//!   the futures-io traits, directories listed in batches, paths, links,
//!   permissions);
//! * [`process`]: child processes with their stdio pipes on the netpoller
//!   and their exits learned from a pidfd (`SIGCHLD` where there is none);
//! * [`signal`]: Unix signals as futures ([`signal::ctrl_c`] for a graceful
//!   shutdown, [`signal::Signal`] for `SIGTERM`, `SIGHUP` and the rest),
//!   through a self-pipe on the netpoller;
//! * [`sync`]: async oneshot, bounded mpsc, Mutex, RwLock, Notify,
//!   Semaphore;
//! * `hyper` (feature `hyper`): the IO, executor and timer adapters hyper
//!   1.x needs to serve HTTP on spindle-rt;
//! * [`main`](macro@main) and [`test`](macro@test) (feature `macros`, on by
//!   default): `#[spindle_rt::main]` and `#[spindle_rt::test]`, which run
//!   an `async fn` on a runtime they build, as tokio's attributes do, and
//!   [`select!`](macro@select); [`join!`], [`try_join!`] and [`pin!`]
//!   always.
//!
//! ```
//! let rt = spindle_rt::Builder::new_current_thread().build()?;
//! let answer = rt.block_on(async {
//!     let task = spindle_rt::spawn(async { 6 * 7 });
//!     spindle_rt::time::sleep(std::time::Duration::from_millis(1)).await;
//!     task.await.expect("the task ran")
//! });
//! assert_eq!(answer, 42);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! The same with the attribute macro:
//!
//! ```
//! #[spindle_rt::main]
//! async fn main() {
//!     let task = spindle_rt::spawn(async { 6 * 7 });
//!     spindle_rt::time::sleep(std::time::Duration::from_millis(1)).await;
//!     assert_eq!(task.await.expect("the task ran"), 42);
//! }
//! ```

//! # Porting from tokio
//!
//! The module layout and names follow tokio's, so a port is mostly
//! `use spindle_rt as tokio;` (or renaming the paths); `tests/tokio_ports.rs`
//! compiles typical tokio servers and clients that way. What differs, on
//! purpose:
//!
//! * **IO traits.** Sockets, files and pipes implement the ecosystem's
//!   [`futures_io::AsyncRead`] and [`futures_io::AsyncWrite`] (re-exported
//!   as `io::AsyncRead`, ...), not tokio's own traits, so a hand-written
//!   `poll_read` takes `&mut [u8]`, not a `ReadBuf`. The extension traits
//!   and buffers have tokio's names and signatures:
//!   `use tokio::io::{AsyncReadExt, AsyncWriteExt, AsyncBufReadExt,
//!   BufReader}`, `lines.next_line()`, `wr.shutdown().await` port
//!   unchanged (see [`io`]). The buffers and adapters (`BufReader`,
//!   `take`, `io::split`, ...) need an `Unpin` inner stream, which every
//!   spindle-rt IO type is (`Box::pin` anything else).
//! * **Inherent methods come first.** Streams have their own `read`,
//!   `read_exact`, `write`, `write_all` and `write_vectored` (same
//!   signatures as the traits'), so a tokio trait import can go unused (a
//!   warning). A stream's `shutdown().await` is tokio's (the write side);
//!   `std`'s `shutdown(how)` is there as `shutdown_std(how)`.
//!   `fs::File`'s inherent `read(max)`
//!   and `read_to_end()` differ from the traits': call those as
//!   `AsyncReadExt::read_to_end(&mut file, &mut buf)`.
//! * **`Runtime` is `!Send` and `!Sync`** (one type for both flavors, and
//!   a current-thread runtime's loop and `spawn_local` tasks belong to the
//!   thread that built it, like tokio's `LocalRuntime`): build it on the
//!   thread that runs it (a `thread_local!` is a fine home for one per
//!   thread). Where tokio code keeps a runtime in a `static`
//!   (`static RT: OnceLock<Runtime>`) or moves one into another thread to
//!   `block_on` there, keep the runtime where it was built and share its
//!   [`Handle`] instead: it is `Send + Sync`, and [`Handle::block_on`]
//!   runs a future from any thread (on the multi-thread runtime, with its
//!   IO and timers driven by the workers however the runtime is used).
//! * **`!Send` tasks.** [`spawn_local`] runs `!Send` futures on a
//!   current-thread runtime directly; tokio's way, a [`task::LocalSet`]
//!   (`run_until`, `block_on`, awaiting it, `task::spawn_local` inside
//!   it), works as in tokio on both flavors.
//! * **`Builder::enable_all`**, `enable_io` and `enable_time` exist but do
//!   nothing: IO and timers are always on.
//! * Not there (yet): `UnixStream::peer_cred`, `read_buf`/`write_buf`
//!   (no `bytes` dependency), `map` on the owned and `RwLock` guards,
//!   `mpsc::Sender::reserve_many`, `Notify::notify_last`, and
//!   `broadcast`'s `WeakSender`.
//!
//! As in tokio, `#[main]` defaults to the multi-thread runtime and
//! `#[test]` to the current-thread one; `TcpListener::bind`,
//! `UdpSocket::bind` and `UdpSocket::connect` are async and resolve host
//! names off the runtime thread (outside a runtime, bind a `std` socket
//! and adopt it with `from_std`).

#![deny(unsafe_op_in_unsafe_fn)]

// The macros' expansion names the crate `::spindle_rt`; this makes that
// path resolve inside the crate too (its unit tests, its doctests' helpers).
extern crate self as spindle_rt;

pub mod blocking;
pub mod coop;
pub mod fs;
#[cfg(feature = "hyper")]
pub mod hyper;
pub mod io;
pub(crate) mod loom;
mod macros;
pub mod net;
pub mod process;
pub mod runtime;
pub mod sched;
pub mod signal;
pub mod sync;
pub mod task;
pub mod time;

pub use blocking::spawn_blocking;
#[cfg(feature = "macros")]
pub use spindle_rt_macros::{main, select, test};

/// Support for the macros' expansions; not a public API.
#[doc(hidden)]
pub mod macros_support {
    use std::cell::Cell;

    thread_local! {
        static STATE: Cell<u32> = const { Cell::new(0x9E37_79B9) };
    }

    /// The branch `select!` polls first: spread over `0..n` (a xorshift
    /// per thread), so no branch always wins a tie, as in tokio.
    pub fn select_start(n: usize) -> usize {
        STATE.with(|s| {
            let mut x = s.get();
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            s.set(x);
            usize::try_from(x).unwrap_or(0) % n.max(1)
        })
    }
}

/// Locks a runtime-internal `std` mutex, ignoring poison: every critical
/// section in the runtime leaves its data consistent before it can panic
/// (they push, pop, swap and count), so a poisoned lock still guards
/// consistent state. (The sync primitives have their own, loom-aware
/// `lock`.)
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A value on cache lines of its own: 128 bytes, two lines, because the
/// adjacent-line prefetcher moves lines in pairs. For data that threads
/// write while others read their neighbours: a hot counter, a lock that
/// idle workers poll beside. Unpadded, every write by one thread pulls
/// the line from the others (false sharing), and their next access waits
/// for it to come back across cores.
#[repr(align(128))]
pub(crate) struct CachePadded<T>(pub(crate) T);

impl<T> std::ops::Deref for CachePadded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}
pub use runtime::{block_in_place, spawn, spawn_local, yield_now, Builder, Handle, Runtime};
