//! Async TCP on the current-thread runtime: [`TcpListener`] and
//! [`TcpStream`].
//!
//! # Readiness-based async IO
//!
//! The kernel says when a socket is *ready* (there is data, there is buffer
//! space); the operation itself stays an ordinary non-blocking `recv`,
//! `send` or `accept4`. Each IO object works like this:
//!
//! 1. **Register once.** Making the object registers its descriptor with
//!    the runtime's loop, for both directions, edge-triggered (on epoll),
//!    with a callback that only records the event in a
//!    [`ScheduledIo`](crate::io::ScheduledIo) — the readiness latch — and
//!    wakes the task waiting for that direction. No `epoll_ctl` happens
//!    again until the object is dropped.
//! 2. **Try, then wait.** An operation asks the latch (`poll_ready`): if it
//!    holds readiness for the direction, the syscall is tried at once; if
//!    not, the task's waker is stored and the task returns `Pending`.
//! 3. **Clear on `WouldBlock`, by tick.** An edge-triggered descriptor
//!    announces readiness only when it changes, so the latch keeps it until
//!    a syscall proves it stale. On `WouldBlock` the operation clears the
//!    readiness *it acted on*, named by the latch's tick: if an event
//!    arrived between the attempt and the clear, the tick has moved on and
//!    the clear does nothing, so that event is not lost. Then it waits
//!    again. The closed bits (`READ_CLOSED`, `WRITE_CLOSED`) are never
//!    cleared: after the peer's FIN every read returns at once (0).
//!
//! The hot path, when data is there, is one atomic load and the syscall; a
//! wait is one lock of the latch's waker slot, no allocation.
//!
//! # Poll and select
//!
//! Those backends refuse edge mode. There the registration falls back to
//! level mode with interest toggling: the watcher asks only for the
//! directions a task waits for, and drops a direction from its interest as
//! soon as it fires (the latch keeps the readiness). So a socket that is
//! merely writable does not wake the loop on every turn; the price is an
//! interest change (made before the loop sleeps, in one batch) per wait.
//!
//! # Dropping
//!
//! Dropping an IO object shuts its latch down (a waiter sees an error),
//! closes its loop watcher (the descriptor leaves the poller at once) and
//! then closes the descriptor. Since reads and writes take `&mut self`, a
//! task waiting on an object owns it; "dropped while waiting" can only mean
//! that task was cancelled ([`JoinHandle::abort`](crate::task::JoinHandle::abort),
//! or its runtime dropped), and then the object closes with its future.
//!
//! # Threads
//!
//! IO objects are `!Send`: each is tied to the loop of the runtime thread
//! that made it (and its latch is shared with that loop's callback through
//! an `Rc`). Make them inside `block_on` or a [`spawn_local`](crate::spawn_local)ed
//! task; [`spawn`](crate::spawn) needs `Send` futures, so tasks that hold
//! sockets are spawned with `spawn_local`.

mod registration;
mod sys;
mod tcp;

pub use tcp::{TcpListener, TcpStream};
