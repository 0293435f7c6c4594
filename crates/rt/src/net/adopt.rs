//! Adopting sockets made elsewhere, giving them back, and waiting for
//! readiness around system calls the runtime does not wrap.
//!
//! A process model needs all three. A master process binds listeners and
//! forks workers, which must adopt the inherited descriptors; a worker
//! that takes turns at a shared listener (nginx's accept mutex) registers
//! it while it holds the turn and gives it back afterwards; a descriptor
//! received over a Unix socket (`SCM_RIGHTS`) arrives as a plain `OwnedFd`;
//! and a file server sends bodies with `sendfile(2)` or receives
//! descriptors with `recvmsg(2)`, calls the runtime has no method for.
//! [`TcpStream::async_io`] runs such a call in the runtime's readiness
//! loop: wait for the direction, try the call, and on `WouldBlock` forget
//! the readiness and wait again.

use super::registration::Registration;
use super::{TcpListener, TcpStream, UnixStream};
use crate::io::Direction;
use std::future::poll_fn;
use std::io;
use std::os::fd::AsRawFd;
use std::task::{Context, Poll};

impl TcpListener {
    /// Adopts a listening socket made elsewhere (bound by a parent
    /// process, inherited across `exec`, received over a Unix socket): sets
    /// it non-blocking and registers it with the current runtime.
    ///
    /// # Errors
    /// The system's `fcntl` error, or the poller's.
    ///
    /// # Panics
    /// Outside a spindle-rt runtime.
    #[track_caller]
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        let reg = Registration::new(listener.as_raw_fd())?;
        Ok(TcpListener { reg, socket: listener })
    }

    /// Adopts a listening socket that other processes also wait on, so
    /// that each new connection wakes only one of them: the socket is
    /// registered with `EPOLLEXCLUSIVE`, the kernel's answer (Linux 4.5) to
    /// the thundering herd. Without it every process sleeping in
    /// `epoll_wait` on the listener is woken for each connection, one wins
    /// the `accept`, and the rest find `EAGAIN`. The flag makes the kernel
    /// wake one exclusive waiter (sometimes a few) per event.
    ///
    /// # Errors
    /// `Unsupported` unless the runtime polls with epoll; the system's
    /// error otherwise.
    ///
    /// # Panics
    /// Outside a spindle-rt runtime.
    #[track_caller]
    pub fn from_std_exclusive(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        let reg = Registration::new_exclusive(listener.as_raw_fd())?;
        Ok(TcpListener { reg, socket: listener })
    }

    /// Takes the listener out of the runtime's poller and returns the
    /// socket (still listening, still non-blocking). Connections that
    /// arrive meanwhile wait in the kernel's backlog for whoever registers
    /// it next: this is how a worker gives up its turn at a shared
    /// listener.
    ///
    /// # Errors
    /// None: the `Result` is tokio's signature, kept so that ported code
    /// compiles.
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        let TcpListener { reg, socket } = self;
        drop(reg);
        Ok(socket)
    }

    /// Runs `op`, a non-blocking call on this listener's descriptor, in the
    /// readiness loop: waits until the listener is readable, calls `op`,
    /// and on `WouldBlock` clears the readiness and waits again. `EINTR` is
    /// retried. Each `WouldBlock` `op` returns ends one wake-up, which
    /// makes it the place to count wake-ups (the thundering herd is
    /// wake-ups that end in `WouldBlock` with nothing accepted).
    ///
    /// # Errors
    /// What `op` returns other than `WouldBlock` and `Interrupted`, or an
    /// error if the runtime shut the listener down.
    pub async fn async_io<R>(&self, mut op: impl FnMut() -> io::Result<R>) -> io::Result<R> {
        let mut w = self.reg.waiter();
        poll_fn(|cx| self.reg.poll_io(cx, Some(&mut w), Direction::Read, &mut op)).await
    }

    /// [`async_io`](Self::async_io) as a poll function, for a hand-written
    /// future that waits on several listeners at once. On `Pending` the
    /// listener keeps `cx`'s waker (only the most recent poll's, like
    /// [`poll_accept`](Self::poll_accept)). Polling a fresh `async_io`
    /// future and dropping it instead would not work: a dropped future
    /// takes its waker back out of the listener's waiter list.
    ///
    /// # Errors
    /// As [`async_io`](Self::async_io).
    pub fn poll_io<R>(&self, cx: &mut Context<'_>, op: impl FnMut() -> io::Result<R>) -> Poll<io::Result<R>> {
        self.reg.poll_io(cx, None, Direction::Read, op)
    }
}

impl TcpStream {
    /// Adopts a connected socket made elsewhere (accepted by another
    /// process and passed over a Unix socket, for one): sets it
    /// non-blocking and registers it with the current runtime.
    ///
    /// # Errors
    /// The system's `fcntl` error, or the poller's.
    ///
    /// # Panics
    /// Outside a spindle-rt runtime.
    #[track_caller]
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        let reg = Registration::new(stream.as_raw_fd())?;
        Ok(TcpStream { reg, socket: stream })
    }

    /// Takes the stream out of the runtime's poller and returns it, still
    /// connected and still **non-blocking** (as tokio's `into_std`): call
    /// `set_nonblocking(false)` before blocking calls on it.
    ///
    /// # Errors
    /// None: the `Result` is tokio's signature.
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        let TcpStream { reg, socket } = self;
        drop(reg);
        Ok(socket)
    }

    /// Runs `op`, a non-blocking call on this stream's descriptor that the
    /// runtime has no method for (`sendfile(2)`, `splice(2)`, a `recv`
    /// with flags), in the readiness loop for `direction`: wait until
    /// ready, call `op`, and on `WouldBlock` clear the readiness and wait
    /// again; `EINTR` is retried.
    ///
    /// The descriptor is this stream's ([`AsRawFd`]); `op` must not
    /// block (the socket is non-blocking) and must say `WouldBlock` when
    /// the kernel would have made it wait.
    ///
    ///
    /// # Errors
    /// What `op` returns other than `WouldBlock` and `Interrupted`, or an
    /// error if the runtime shut the stream down.
    pub async fn async_io<R>(
        &self,
        direction: Direction,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        let mut w = self.reg.waiter();
        poll_fn(|cx| self.reg.poll_io(cx, Some(&mut w), direction, &mut op)).await
    }
}

impl UnixStream {
    /// Adopts a connected Unix socket made elsewhere (one end of a
    /// `socketpair` made before `fork`, for one): sets it non-blocking and
    /// registers it with the current runtime.
    ///
    /// # Errors
    /// The system's `fcntl` error, or the poller's.
    ///
    /// # Panics
    /// Outside a spindle-rt runtime.
    #[track_caller]
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        let reg = Registration::new(stream.as_raw_fd())?;
        Ok(UnixStream { reg, socket: stream })
    }

    /// Runs `op`, a non-blocking call on this socket's descriptor (such as
    /// `recvmsg(2)` with `SCM_RIGHTS`, which carries descriptors), in the
    /// readiness loop for `direction`, as [`TcpStream::async_io`] does.
    ///
    /// # Errors
    /// What `op` returns other than `WouldBlock` and `Interrupted`, or an
    /// error if the runtime shut the socket down.
    pub async fn async_io<R>(
        &self,
        direction: Direction,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        let mut w = self.reg.waiter();
        poll_fn(|cx| self.reg.poll_io(cx, Some(&mut w), direction, &mut op)).await
    }
}
