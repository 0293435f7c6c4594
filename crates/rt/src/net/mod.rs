//! Async networking, on either runtime: TCP ([`TcpListener`],
//! [`TcpStream`], and [`TcpSocket`] to set options first), UDP
//! ([`UdpSocket`]), Unix-domain streams ([`UnixListener`],
//! [`UnixStream`]) and Unix-domain datagrams ([`UnixDatagram`]).
//!
//! | type | made by | IO |
//! |---|---|---|
//! | [`TcpListener`] | [`bind`](TcpListener::bind) (`SO_REUSEADDR`, backlog 1024), [`TcpSocket::listen`] | `accept` |
//! | [`TcpStream`] | [`connect`](TcpStream::connect), [`TcpSocket::connect`], `accept` | read, write, `write_vectored`, split |
//! | [`UdpSocket`] | [`bind`](UdpSocket::bind) | `send_to` / `recv_from`, or `connect` then `send` / `recv` |
//! | [`UnixListener`] | [`bind`](UnixListener::bind) | `accept` |
//! | [`UnixStream`] | [`connect`](UnixStream::connect), [`pair`](UnixStream::pair), `accept` | as [`TcpStream`] |
//! | [`UnixDatagram`] | [`bind`](UnixDatagram::bind), [`unbound`](UnixDatagram::unbound), [`pair`](UnixDatagram::pair) | as [`UdpSocket`], with paths |
//!
//! The streams also have tokio's readiness API: [`TcpStream::ready`],
//! [`readable`](TcpStream::readable), [`writable`](TcpStream::writable)
//! and the non-blocking [`try_read`](TcpStream::try_read),
//! [`try_write`](TcpStream::try_write) and [`try_io`](TcpStream::try_io),
//! all through `&self`, and the split halves have it for their own direction
//! ([`OwnedReadHalf::readable`], [`OwnedWriteHalf::writable`], ...); the listeners have
//! [`poll_accept`](TcpListener::poll_accept). Any other descriptor goes on
//! the runtime through [`AsyncFd`](crate::io::unix::AsyncFd).
//!
//! The stream types and their split halves implement the ecosystem's
//! [`futures_io::AsyncRead`] and [`futures_io::AsyncWrite`], so generic
//! code (codecs, `futures::io::copy`, TLS, HTTP) runs on them.
//!
//! # Writes never raise `SIGPIPE`
//!
//! Writing to a stream whose peer has gone raises `SIGPIPE`, whose default
//! action kills the process, unless the write says otherwise. Rust
//! binaries ignore the signal from startup, but a library cannot count on
//! it (a C host, a `#[no_main]` program, a child that restored it). So
//! every write here passes `MSG_NOSIGNAL`: `send` for plain writes,
//! `sendto` for datagrams and `sendmsg` for gathered writes (`writev`
//! itself takes no flags); a write to a closed peer is `BrokenPipe` or
//! `ConnectionReset`, an ordinary error.
//!
//! # Splitting a stream
//!
//! Reads and writes take `&mut self`. To read in one task while another
//! writes, split the stream: [`TcpStream::split`] borrows it as a
//! [`ReadHalf`] and a [`WriteHalf`]; [`TcpStream::into_split`] moves it
//! into an [`Arc`](std::sync::Arc) shared by an [`OwnedReadHalf`] and an
//! [`OwnedWriteHalf`] that can move into tasks of their own. This is safe
//! because the readiness latch keeps its waiters per direction: the reader
//! and the writer never disturb each other's wait.
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
//! A stream moved into [`into_split`](TcpStream::into_split) closes when
//! its last half drops; the halves share it, so neither can pull it away
//! from a waiting peer half.
//!
//! # Threads
//!
//! IO objects are `Send + Sync`. Each is registered, when made, with the IO
//! driver of the runtime current then: on the
//! current-thread runtime that driver shares the loop's poller, on the
//! multi-thread runtime it is the workers' shared netpoller. A socket may
//! be moved between tasks and, on the multi-thread runtime, between
//! workers; it keeps its registration, and may be dropped on any thread
//! (its descriptor leaves the poller before it is closed). Used after its
//! runtime was dropped, it reports an error. The owned split halves share
//! their stream through an `Arc`.
//!
//! Any number of tasks may wait in each direction of an object through
//! `&self` operations ([`TcpListener::accept`], the [`UdpSocket`] and
//! [`UnixDatagram`] calls, the readiness API): tasks sharing an
//! `Arc<UdpSocket>`, each in `recv_from`, are all woken by an event; the
//! one that finds the datagram takes it and the others wait again. Each
//! such future holds its own place among the waiters and gives it back when
//! dropped, so a wait abandoned to a `select!`, a timeout or an abort leaves
//! nothing behind. The `poll_*` methods, which have no future to hold a
//! place, keep only the most recent poll's waker per direction, as tokio's
//! do: two tasks polling one direction that way displace each other.

mod addr;
mod adopt;
mod io_traits;
mod ready_api;
pub(crate) mod registration;
mod split;
mod sys;
mod tcp_socket;
mod tcp_stream;
mod udp;
mod udp_ext;
mod unix_datagram;
mod unix_stream;

pub use addr::{lookup_host, ToSocketAddrs};
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, SplitStream, WriteHalf};
pub use tcp_socket::TcpSocket;
pub use tcp_stream::{TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix_datagram::UnixDatagram;
pub use unix_stream::{UnixListener, UnixStream};

/// [`TcpStream`]'s split halves under tokio's names
/// (`tokio::net::tcp::OwnedReadHalf`, ...): the crate's generic halves
/// for TCP.
pub mod tcp {
    use super::TcpStream;

    /// [`TcpStream::split`]'s read half.
    pub type ReadHalf<'a> = super::ReadHalf<'a, TcpStream>;
    /// [`TcpStream::split`]'s write half.
    pub type WriteHalf<'a> = super::WriteHalf<'a, TcpStream>;
    /// [`TcpStream::into_split`]'s read half.
    pub type OwnedReadHalf = super::OwnedReadHalf<TcpStream>;
    /// [`TcpStream::into_split`]'s write half.
    pub type OwnedWriteHalf = super::OwnedWriteHalf<TcpStream>;
    /// The halves of two different streams, given back by
    /// [`OwnedReadHalf::reunite`](super::OwnedReadHalf::reunite).
    pub type ReuniteError = super::ReuniteError<TcpStream>;
}

/// [`UnixStream`]'s split halves under tokio's names
/// (`tokio::net::unix::OwnedReadHalf`, ...): the crate's generic halves
/// for Unix-domain streams.
pub mod unix {
    use super::UnixStream;

    /// [`UnixStream::split`]'s read half.
    pub type ReadHalf<'a> = super::ReadHalf<'a, UnixStream>;
    /// [`UnixStream::split`]'s write half.
    pub type WriteHalf<'a> = super::WriteHalf<'a, UnixStream>;
    /// [`UnixStream::into_split`]'s read half.
    pub type OwnedReadHalf = super::OwnedReadHalf<UnixStream>;
    /// [`UnixStream::into_split`]'s write half.
    pub type OwnedWriteHalf = super::OwnedWriteHalf<UnixStream>;
    /// The halves of two different streams, given back by
    /// [`OwnedReadHalf::reunite`](super::OwnedReadHalf::reunite).
    pub type ReuniteError = super::ReuniteError<UnixStream>;
}
