//! # spindle-rt: an async/await runtime
//!
//! Work in progress (issue 3). Spindle's async runtime: tasks, a
//! current-thread scheduler on spindle-loop (done) and a G-M-P
//! work-stealing scheduler (next), with net, time and sync.
//!
//! * [`runtime`]: the current-thread runtime: [`Runtime::block_on`],
//!   [`spawn`], [`spawn_local`] for `!Send` futures, [`yield_now`], and a
//!   [`Handle`] other threads spawn through;
//! * [`time`]: `sleep`, `timeout` and `interval` on a hierarchical timer
//!   wheel driven by one loop timer;
//! * [`task`]: the task cell, its one-word state machine and `JoinHandle`;
//! * [`sched`]: the G-M-P building blocks: a P's lock-free local run queue
//!   (steal half) and the global queue;
//! * [`net`]: async `TcpListener` and `TcpStream` for the current-thread
//!   runtime, registered once, edge-triggered (UDP and Unix sockets next);
//! * [`io`]: the readiness latch (`ScheduledIo`) that IO types wait on;
//! * [`blocking`] and [`fs`]: `spawn_blocking` on an elastic pool whose idle
//!   threads retire, and file operations through it;
//! * [`sync`]: async oneshot, bounded mpsc, Mutex, RwLock, Notify,
//!   Semaphore.
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

#![deny(unsafe_op_in_unsafe_fn)]

pub mod blocking;
pub mod coop;
pub mod fs;
#[cfg(feature = "hyper")]
pub mod hyper;
pub mod io;
pub(crate) mod loom;
pub mod net;
pub mod runtime;
pub mod sched;
pub mod sync;
pub mod task;
pub mod time;

pub use blocking::spawn_blocking;
pub use runtime::{block_in_place, spawn, spawn_local, yield_now, Builder, Handle, Runtime};
