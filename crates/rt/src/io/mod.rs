//! tokio's `io` module for the `futures-io` traits, and the readiness core
//! under the runtime's IO types.
//!
//! ## Reading and writing
//!
//! Every spindle-rt socket, pipe and file implements the ecosystem's
//! [`AsyncRead`] and [`AsyncWrite`] (`futures-io`'s, re-exported here).
//! The extension traits give them tokio's methods, with tokio's names and
//! signatures: [`AsyncReadExt`] (`read_exact`, `read_to_end`, `read_u32`,
//! `take`, ...), [`AsyncWriteExt`] (`write_all`, `write_u32`, `flush`,
//! `shutdown`) and, on buffered readers, [`AsyncBufReadExt`] (`read_line`,
//! `lines`, `split`) and [`AsyncSeekExt`]. [`BufReader`], [`BufWriter`]
//! and [`BufStream`] add the buffers, and implement the same traits, so
//! they stack; [`duplex`] is an in-memory socket pair for tests, and
//! [`split`] halves any stream. So a
//! tokio program's `use tokio::io::{AsyncBufReadExt, AsyncWriteExt,
//! BufReader};` stays as it is.
//!
//! ```
//! use spindle_rt::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
//! use spindle_rt::net::UnixStream;
//!
//! let rt = spindle_rt::Builder::new_current_thread().build()?;
//! rt.block_on(async {
//!     let (client, server) = UnixStream::pair()?;
//!     let (rd, mut wr) = server.into_split();
//!     spindle_rt::spawn_local(async move {
//!         let mut lines = BufReader::new(rd).lines();
//!         while let Some(line) = lines.next_line().await.unwrap() {
//!             wr.write_all(line.to_uppercase().as_bytes()).await.unwrap();
//!             wr.write_u8(b'\n').await.unwrap();
//!         }
//!     });
//!     let (rd, mut wr) = client.into_split();
//!     wr.write_all(b"hello\nworld\n").await?;
//!     wr.shutdown().await?;
//!     let mut replies = BufReader::new(rd).lines();
//!     assert_eq!(replies.next_line().await?.as_deref(), Some("HELLO"));
//!     assert_eq!(replies.next_line().await?.as_deref(), Some("WORLD"));
//!     assert_eq!(replies.next_line().await?, None);
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! ## The readiness core
//!
//! Under the IO types sits [`ScheduledIo`], one per registered descriptor
//! (tokio has a type of the same name and job; this one is ours). Also
//! here: [`copy`], [`copy_buf`], [`copy_bidirectional`] and
//! [`copy_bidirectional_with_sizes`], a proxy's copies over any
//! `futures-io` streams; [`empty`], [`sink`] and [`repeat`]; [`Interest`], what a wait asks for; and
//! [`unix::AsyncFd`], which puts any non-blocking descriptor on the
//! runtime's driver and hands this module's protocol to the caller.
//!
//! ## Three parties
//!
//! * The **driver** owns the poller. For each event it looks up the
//!   descriptor's `ScheduledIo` by token and calls
//!   [`set_readiness`](ScheduledIo::set_readiness) with
//!   [`Readiness::from_event`]. It never does IO and never runs user code.
//! * A **task** doing IO (a socket's `read` future) calls
//!   [`poll_ready`](ScheduledIo::poll_ready) for its [`Direction`], tries the
//!   non-blocking system call, and on `WouldBlock` hands the [`ReadyEvent`]
//!   it got back to [`clear_readiness`](ScheduledIo::clear_readiness) and
//!   polls again, which parks it until the next event.
//! * **Shutdown** ([`ScheduledIo::shutdown`]) wakes everyone for good, so no
//!   task waits forever on a driver that is gone.
//!
//! ## Readiness is a latch the task clears
//!
//! The descriptor is registered edge-triggered ([`spindle_poll::Mode::Edge`]):
//! the kernel reports a change once (new data, freed buffer space) and then
//! stays silent however long the condition lasts. So the driver cannot
//! forward "ready now" and forget it; it *latches* the flags, and only the
//! task, which sees the system call return `WouldBlock`, knows that the
//! condition is over and may clear them. Until then every `poll_ready`
//! returns at once, and the task keeps reading. This is the "drain until
//! `WouldBlock`" rule of edge triggering, moved into a data structure. One
//! registration per descriptor for its whole life, and no `epoll_ctl` per
//! wait, is what edge triggering buys; level triggering would report the
//! same unread data on every turn of the driver, waking the task again and
//! again while it is busy elsewhere.
//!
//! ## The tick closes the clear-after-new-event race
//!
//! Clearing is a read-modify-write on state another thread changes:
//!
//! ```text
//!   task                                 driver
//!   poll_ready -> READABLE (tick 7)
//!   read() -> 4096 bytes
//!   read() -> WouldBlock
//!                                        new data arrives: edge event
//!                                        set_readiness(READABLE): tick 8
//!   clear_readiness(READABLE @ tick 7)
//! ```
//!
//! A plain clear would erase the flag set by the event of tick 8, whose data
//! the failed `read` did not see; the kernel will not report it again (it was
//! an edge), and the task would sleep on unread data for ever. Every
//! `set_readiness` therefore bumps a tick kept in the same atomic word as
//! the flags; a `ReadyEvent` carries the tick it was seen at, and
//! `clear_readiness` clears only if the tick is unchanged (one
//! compare-and-swap on the word). A stale clear does nothing, the next
//! `poll_ready` returns at once, and the task reads the new data. Tokio's
//! `ScheduledIo` keeps its tick in its readiness word for the same reason.
//!
//! ## No lost wake-up: store the waker, then look again
//!
//! `poll_ready` first reads the flags without the lock (the fast path of a
//! busy socket). Finding nothing, it locks the waker slots, stores the
//! task's waker, and reads the flags again before unlocking.
//! `set_readiness` updates the flags first and then takes the lock to take
//! the waker. Whichever of the two takes the lock second sees what the first
//! did: either the setter finds the waker, or the task's second look finds
//! the flags. Without the second look, an event landing between the first
//! look and the store would be latched with nobody to wake.
//!
//! ## Wake outside the lock
//!
//! `set_readiness` and `shutdown` take the wakers out of their slots under
//! the lock and call them after releasing it, and wakers that a sweep of a
//! slot's list asks to register again (or drops) are woken after the
//! release too. Waking runs the scheduler's code (it may
//! push the task on a run queue, unpark a worker thread, or on a
//! current-thread runtime even poll the task), and dropping a waker may drop
//! the last reference to a task and with it the IO object that owns this
//! very `ScheduledIo`. Any of those could re-enter `poll_ready` and try to
//! take the lock this thread holds (a deadlock), and all of them would make
//! every other waker on the descriptor wait behind code the lock does not
//! protect. The lock guards a few `Option<Waker>` moves; nothing more runs
//! under it.
//!
//! ## Abandoned waits leave nothing behind
//!
//! A future that waits (`read().await`, `accept().await`) holds a
//! [`Waiter`]: its own place in the direction's waiter list, given back
//! when the future is dropped, so a `select!` branch that lost, a read
//! under a timeout that fired or an aborted task takes its waker (and the
//! task memory the waker keeps) out with it. A poll method (`poll_read`)
//! has no future to hold a place and gets the direction's one poll slot,
//! the most recent poll's waker, as in tokio.
//!
//! ## Example
//!
//! ```
//! use spindle_rt::io::{Direction, Readiness, ScheduledIo};
//! use std::task::{Context, Poll, Waker};
//!
//! let io = ScheduledIo::new();
//! let mut cx = Context::from_waker(Waker::noop());
//! assert!(io.poll_ready(&mut cx, Direction::Read).is_pending());
//!
//! io.set_readiness(Readiness::READABLE); // the driver saw an edge
//! let Poll::Ready(ev) = io.poll_ready(&mut cx, Direction::Read) else { panic!() };
//! assert!(ev.ready().is_readable());
//!
//! // ... read until WouldBlock, then:
//! assert!(io.clear_readiness(ev));
//! assert!(io.poll_ready(&mut cx, Direction::Read).is_pending());
//! ```

mod async_fd;
mod buf_read_ext;
mod buf_reader;
mod buf_writer;
mod copy;
pub(crate) mod driver;
mod duplex;
mod interest;
mod read_ext;
mod readiness;
mod scheduled_io;
mod seek_ext;
mod split;
mod stdio;
mod take_chain;
mod util;
mod write_ext;

pub use buf_read_ext::{AsyncBufReadExt, FillBuf, Lines, NextLine, NextSegment, ReadLine, ReadUntil, Split};
pub use buf_reader::BufReader;
pub use buf_writer::{BufStream, BufWriter};
pub use copy::{copy, copy_bidirectional, copy_bidirectional_with_sizes, copy_buf};
pub use duplex::{duplex, DuplexStream};
/// The ecosystem's IO traits, which every spindle-rt socket, pipe and
/// file implements, under the names tokio uses, so bounds such as
/// `R: AsyncRead + Unpin` port unchanged. These are `futures-io`'s
/// traits (a hand-written `poll_read` takes `&mut [u8]`, not tokio's
/// `ReadBuf`).
pub use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
pub use interest::Interest;
pub use read_ext::{AsyncReadExt, Read, ReadExact, ReadInt, ReadToEnd, ReadToString};
pub use readiness::{Direction, Readiness, Ready, ReadyEvent};
pub use scheduled_io::{ScheduledIo, Waiter};
pub use seek_ext::{AsyncSeekExt, Seek};
pub use split::{split, ReadHalf, WriteHalf};
/// `std`'s error, result and seek types, re-exported as tokio does, so
/// `use tokio::io::{self, ...}` then `io::Result<()>` ports unchanged.
pub use std::io::{Error, ErrorKind, Result, SeekFrom};
pub use stdio::{stderr, stdin, stdout, Stderr, Stdin, Stdout};
pub use take_chain::{Chain, Take};
pub use util::{empty, repeat, sink, Empty, Repeat, Sink};
pub use write_ext::{AsyncWriteExt, Flush, Shutdown, Write, WriteAll, WriteInt, WriteVectored};

/// Unix descriptors of any kind on the runtime: [`AsyncFd`](unix::AsyncFd)
/// registers a non-blocking descriptor (an eventfd, a timerfd, inotify, a
/// pipe, a pty) with the current runtime's IO driver, and its guards carry
/// the readiness protocol described above to code that does its own
/// system calls. tokio's `tokio::io::unix`, same names.
pub mod unix {
    pub use super::async_fd::{
        AsyncFd, AsyncFdReadyGuard, AsyncFdReadyMutGuard, AsyncFdTryNewError, TryIoError,
    };
}

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, loom))]
mod loom_tests;
