//! The accept strategies, worker side: how a worker gets its next
//! connection.
//!
//! * Plain listeners (`reuseport`, `exclusive`, `shared`, standalone): the
//!   worker's poller watches the listeners and the worker accepts until
//!   `EAGAIN`. spindle-rt registers edge-triggered, and an edge is
//!   delivered to *every* epoll instance watching a listener, so with
//!   `shared` every worker wakes for each connection and all but one
//!   accept nothing: the thundering herd. `exclusive` registers with
//!   `EPOLLEXCLUSIVE` (one waiter woken per event); `reuseport` gives each
//!   worker listeners of its own, so there is nobody to share a wake-up
//!   with.
//! * `mutex` (nginx's `accept_mutex`): only the worker holding a lock in
//!   shared memory has the listeners in its poller. It accepts what is
//!   queued, takes them out again and unlocks; a worker that fails to
//!   lock tries again after `accept_mutex_delay`. The holder usually wins
//!   the next round too, which is why nginx turned the mutex off by
//!   default (1.11.3) once `EPOLLEXCLUSIVE` and `SO_REUSEPORT` existed.
//! * `master`: the master accepts and passes each descriptor over the
//!   worker's channel; the worker only adopts it.
//!
//! Every wake-up for a listener ends in exactly one `accept` that says
//! `EAGAIN`, so counting those (inside [`TcpListener::async_io`]) counts
//! wake-ups, and one with nothing accepted before it is futile.
//!
//! Out of descriptors (`EMFILE`, `ENFILE`), `accept` fails while the
//! connection stays queued and the listener stays readable: retrying at
//! once would spin. The error is returned to the caller once, then this
//! worker stops accepting for [`EMFILE_PAUSE`] (a timer, as nginx's
//! `accept` disable for `ngx_accept_mutex_delay`), with its listeners out
//! of its poller and the accept mutex given back; connections closing
//! meanwhile free descriptors. (The alternative, keeping a reserve
//! descriptor to close, accept and drop the connection, sheds load more
//! politely but costs a descriptor per worker.)
//!
//! At `worker_connections` open connections a worker stops accepting
//! until one closes. nginx accepts the connection anyway, finds no free
//! connection structure, logs "worker_connections are not enough" and
//! closes it; Spindle leaves it queued in the kernel instead, and takes
//! the full worker's listeners out of its poller, so that with a shared
//! listener (`exclusive`, `shared`, `mutex`) the kernel wakes a worker
//! with room rather than one that will not accept (with `EPOLLEXCLUSIVE`
//! a wake-up given to a full worker would otherwise leave the connection
//! waiting for the next one). With `reuseport` the connections hashed to
//! the full worker's socket wait in its backlog; with `master` the master
//! skips full workers, reckoning each one's load as the connections it
//! has handed it less those the worker is done with
//! ([`Counter::Closed`]), so that a burst handed out in one batch cannot
//! overfill a worker before its Active gauge catches up. The warning is
//! logged once each time a worker fills up. (nginx first closes idle
//! keep-alive connections to make room, "reusing connections"; that is
//! the application's to do, which knows which connections are idle:
//! spindle-http does it as the worker fills up.)
//!
//! With `mutex`, nginx's `ngx_accept_disabled` also applies: after each
//! accept a worker computes `worker_connections / 8 - free`, and while
//! that is positive it skips its turn at the mutex, counting it down once
//! per turn skipped (a turn lasts `accept_mutex_delay`, or ends early when
//! one of its connections closes). A worker over 7/8 full thus leaves new
//! connections to the others well before it is full, instead of winning
//! the mutex again and again because it is the busiest, hence the
//! most awake.

use crate::stats::{Counter, Stats};
use crate::sys;
use spindle_rt::net::{TcpListener, TcpStream};
use spindle_rt::sync::Notify;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
// The runtime's clock, which `sleep_until` measures on.
use spindle_rt::time::Instant;
use std::time::Duration;

/// A connection the master passed over: the socket and its peer. One
/// reset while it waited is gone, and the master, which counts what this
/// worker still holds, hears so through [`Counter::Closed`].
fn from_master(fd: OwnedFd, stats: &Stats) -> io::Result<(std::net::TcpStream, SocketAddr)> {
    let s = std::net::TcpStream::from(fd);
    s.peer_addr().map(|peer| (s, peer)).inspect_err(|_| stats.add(Counter::Closed, 1))
}

/// Registers an accepted socket with the runtime and counts it open; one
/// that cannot be registered is dropped and counted as done with.
fn adopt(s: std::net::TcpStream, stats: &Stats) -> io::Result<TcpStream> {
    let s = TcpStream::from_std(s).inspect_err(|_| stats.add(Counter::Closed, 1))?;
    stats.opened_one();
    Ok(s)
}

/// How long a worker stops accepting after `EMFILE`/`ENFILE`.
pub const EMFILE_PAUSE: Duration = Duration::from_millis(100);

/// One listening socket as a worker holds it.
#[derive(Debug)]
struct Port {
    /// A duplicate of the listener's descriptor that `accept` is called on
    /// (the same open file, so the same queue).
    acc: std::net::TcpListener,
    /// The listener while registered with this worker's runtime.
    reg: Option<TcpListener>,
    /// The listener while not registered (the mutex strategy between turns).
    idle: Option<std::net::TcpListener>,
    /// Connections accepted since the last `EAGAIN`.
    got: u64,
}

impl Port {
    fn new(l: std::net::TcpListener, register: Option<bool>) -> io::Result<Port> {
        l.set_nonblocking(true)?;
        let acc = l.try_clone()?;
        let (reg, idle) = match register {
            Some(true) => (Some(TcpListener::from_std_exclusive(l)?), None),
            Some(false) => (Some(TcpListener::from_std(l)?), None),
            None => (None, Some(l)),
        };
        Ok(Port { acc, reg, idle, got: 0 })
    }
}

/// Descriptors the master passed, waiting for [`Source::next`].
#[derive(Debug, Default)]
pub(crate) struct FdQueue {
    fds: Mutex<VecDeque<OwnedFd>>,
    ready: Notify,
}

impl FdQueue {
    pub(crate) fn push(&self, fd: OwnedFd) {
        self.fds.lock().unwrap_or_else(|p| p.into_inner()).push_back(fd);
        self.ready.notify_one();
    }

    fn try_pop(&self) -> Option<OwnedFd> {
        self.fds.lock().unwrap_or_else(|p| p.into_inner()).pop_front()
    }

    async fn pop(&self) -> OwnedFd {
        loop {
            let next = self.ready.notified();
            if let Some(fd) = self.fds.lock().unwrap_or_else(|p| p.into_inner()).pop_front() {
                return fd;
            }
            next.await;
        }
    }
}

#[derive(Debug)]
enum Kind {
    Plain {
        exclusive: bool,
    },
    Mutex {
        lock: &'static AtomicI32,
        delay: Duration,
        holding: bool,
        /// nginx's `ngx_accept_disabled`: turns still to skip.
        disabled: i64,
    },
    Master(Arc<FdQueue>),
}

/// Where a worker's connections come from.
#[derive(Debug)]
pub(crate) struct Source {
    kind: Kind,
    ports: Vec<Port>,
    paused_until: Option<Instant>,
    /// `worker_connections`.
    limit: u64,
    /// The listeners are out of the poller because the worker is full
    /// (plain listeners only).
    parked: bool,
}

/// nginx's `ngx_accept_disabled`: how many mutex turns a worker with
/// `open` of `limit` connections skips; positive above 7/8 full.
pub(crate) fn accept_disabled(limit: u64, open: u64) -> i64 {
    let free = limit.saturating_sub(open);
    (limit / 8).min(i64::MAX as u64) as i64 - free.min(i64::MAX as u64) as i64
}

impl Source {
    /// Listeners registered plainly (`exclusive == false`) or with
    /// `EPOLLEXCLUSIVE`. Call inside a runtime.
    pub(crate) fn listeners(ls: Vec<std::net::TcpListener>, exclusive: bool) -> io::Result<Source> {
        let ports = ls.into_iter().map(|l| Port::new(l, Some(exclusive))).collect::<io::Result<_>>()?;
        Ok(Source::new(Kind::Plain { exclusive }, ports))
    }

    fn new(kind: Kind, ports: Vec<Port>) -> Source {
        Source { kind, ports, paused_until: None, limit: u64::MAX, parked: false }
    }

    /// Sets `worker_connections`.
    pub(crate) fn with_limit(mut self, limit: usize) -> Source {
        self.limit = limit.max(1) as u64;
        self
    }

    /// Listeners taken in turns under the accept mutex `lock` (which holds
    /// the owner's pid, 0 when free).
    pub(crate) fn mutex(
        ls: Vec<std::net::TcpListener>,
        lock: &'static AtomicI32,
        delay: Duration,
    ) -> io::Result<Source> {
        let ports = ls.into_iter().map(|l| Port::new(l, None)).collect::<io::Result<_>>()?;
        Ok(Source::new(Kind::Mutex { lock, delay, holding: false, disabled: 0 }, ports))
    }

    /// Connections passed by the master into `queue`.
    pub(crate) fn master(queue: Arc<FdQueue>) -> Source {
        Source::new(Kind::Master(queue), Vec::new())
    }

    /// A connection the master handed over before telling this worker to
    /// drain, still in the queue; `None` when there is none (and always for
    /// the other strategies, whose unaccepted connections stay in the
    /// kernel's backlog for the other workers or the next generation).
    ///
    /// The master sends the drain order on the same channel after the
    /// connections, so by the time the worker drains every connection
    /// handed to it is in the queue. It was accepted from the kernel
    /// already, so dropping it would reset a client that did nothing wrong:
    /// a draining worker serves these too.
    pub(crate) fn next_queued(&mut self, stats: &Stats) -> Option<io::Result<(TcpStream, SocketAddr)>> {
        let Kind::Master(queue) = &self.kind else { return None };
        let got = from_master(queue.try_pop()?, stats);
        Some(got.and_then(|(s, peer)| Ok((adopt(s, stats)?, peer))))
    }

    /// The next connection.
    pub(crate) async fn next(&mut self, stats: &Stats) -> io::Result<(TcpStream, SocketAddr)> {
        if let Some(until) = self.paused_until.take() {
            spindle_rt::time::sleep_until(until).await;
        }
        if stats.open_connections() >= self.limit {
            tracing::warn!(
                limit = self.limit,
                "worker_connections are not enough: not accepting until a connection closes"
            );
            self.release();
            self.park();
            stats.room_below(self.limit).await;
        }
        self.unpark()?;
        let got = match &mut self.kind {
            Kind::Master(queue) => from_master(queue.pop().await, stats),
            Kind::Plain { .. } => {
                accept_ready(&mut self.ports, stats, false).await.map(|c| c.expect("no batch end"))
            }
            Kind::Mutex { .. } => self.next_mutex(stats).await,
        };
        match got {
            Ok((s, peer)) => {
                let s = adopt(s, stats)?;
                if let Kind::Mutex { disabled, .. } = &mut self.kind {
                    *disabled = accept_disabled(self.limit, stats.open_connections());
                }
                Ok((s, peer))
            }
            Err(e) => {
                if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) {
                    self.paused_until = Some(Instant::now() + EMFILE_PAUSE);
                    // As nginx's `ngx_disable_accept_events`: out of the
                    // poller for the pause, and the accept mutex given up.
                    // An `EPOLLEXCLUSIVE` listener is level-triggered, so
                    // left registered with connections queued it made
                    // every wait return at once, spinning the worker for
                    // the whole pause; and a worker holding the mutex kept
                    // it, so workers with descriptors to spare could not
                    // accept.
                    self.release();
                    self.park();
                }
                Err(e)
            }
        }
    }

    async fn next_mutex(&mut self, stats: &Stats) -> io::Result<(std::net::TcpStream, SocketAddr)> {
        loop {
            if matches!(self.kind, Kind::Mutex { disabled: 1.., holding: true, .. }) {
                // Over 7/8 full in the middle of a turn: end it now, as
                // nginx re-checks after every accept. The wake-up ends
                // here rather than at an `EAGAIN`; count it.
                for p in &mut self.ports {
                    if std::mem::take(&mut p.got) > 0 {
                        stats.add(Counter::Wakeups, 1);
                    }
                }
                self.release();
            }
            let Kind::Mutex { lock, delay, holding, disabled } = &mut self.kind else { unreachable!() };
            if !*holding && *disabled > 0 {
                // Busy: sit this turn out (nginx counts down once per
                // event-loop pass; here a pass is a delay or a close).
                *disabled -= 1;
                let _ = crate::worker::select2(spindle_rt::time::sleep(*delay), stats.closed_one()).await;
                continue;
            }
            if !*holding {
                stats.add(Counter::MutexTries, 1);
                let me = sys::getpid();
                if lock.compare_exchange(0, me, Ordering::AcqRel, Ordering::Acquire).is_err() {
                    spindle_rt::time::sleep(*delay).await;
                    continue;
                }
                stats.add(Counter::MutexHeld, 1);
                *holding = true;
                for p in &mut self.ports {
                    if let Some(l) = p.idle.take() {
                        p.reg = Some(TcpListener::from_std(l)?);
                    }
                }
            }
            match accept_ready(&mut self.ports, stats, true).await? {
                Some(conn) => return Ok(conn),
                None => {
                    // What was queued is accepted: give the turn back.
                    self.release();
                    spindle_rt::yield_now().await;
                }
            }
        }
    }

    /// Takes plain listeners out of the poller while the worker is full,
    /// so that the kernel no longer counts this worker among the waiters.
    fn park(&mut self) {
        if matches!(self.kind, Kind::Plain { .. }) && !self.parked {
            for p in &mut self.ports {
                if let Some(l) = p.reg.take() {
                    p.idle = Some(l.into_std().expect("into_std cannot fail"));
                }
            }
            self.parked = true;
        }
    }

    /// Puts parked listeners back. Registering a listener that has
    /// connections queued reports it ready at once (`epoll_ctl` checks),
    /// so none is missed while parked.
    fn unpark(&mut self) -> io::Result<()> {
        if !self.parked {
            return Ok(());
        }
        let Kind::Plain { exclusive } = self.kind else { return Ok(()) };
        for p in &mut self.ports {
            if let Some(l) = p.idle.take() {
                p.reg = Some(if exclusive {
                    TcpListener::from_std_exclusive(l)?
                } else {
                    TcpListener::from_std(l)?
                });
            }
        }
        self.parked = false;
        Ok(())
    }

    /// Takes the listeners out of the poller and unlocks (mutex strategy).
    fn release(&mut self) {
        if let Kind::Mutex { lock, holding, .. } = &mut self.kind {
            if *holding {
                for p in &mut self.ports {
                    if let Some(l) = p.reg.take() {
                        p.idle = Some(l.into_std().expect("into_std cannot fail"));
                    }
                }
                *holding = false;
                let _ = lock.compare_exchange(sys::getpid(), 0, Ordering::AcqRel, Ordering::Acquire);
            }
        }
    }
}

impl Drop for Source {
    fn drop(&mut self) {
        self.release();
    }
}

/// Accepts from whichever registered port is ready. With `batch_end`, the
/// `EAGAIN` that ends a wake-up in which something was accepted returns
/// `Ok(None)` instead of waiting for the next wake-up.
async fn accept_ready(
    ports: &mut [Port],
    stats: &Stats,
    batch_end: bool,
) -> io::Result<Option<(std::net::TcpStream, SocketAddr)>> {
    poll_fn(|cx| {
        for port in ports.iter_mut() {
            let Port { acc, reg: Some(reg), got, .. } = port else { continue };
            let op = || match acc.accept() {
                Ok(conn) => {
                    *got += 1;
                    Ok(Some(conn))
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    stats.add(Counter::Wakeups, 1);
                    if *got == 0 {
                        stats.add(Counter::FutileWakeups, 1);
                    }
                    let had = std::mem::take(got);
                    if batch_end && had > 0 {
                        Ok(None)
                    } else {
                        Err(e)
                    }
                }
                Err(e) => Err(e),
            };
            // The listener keeps this poll's waker (a fresh async_io
            // future dropped here would take it back out).
            if let Poll::Ready(r) = reg.poll_io(cx, op) {
                return Poll::Ready(r);
            }
        }
        Poll::Pending
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::accept_disabled;

    #[test]
    fn accept_disabled_turns_positive_above_seven_eighths() {
        assert_eq!(accept_disabled(1024, 0), 128 - 1024);
        assert_eq!(accept_disabled(1024, 896), 0);
        assert_eq!(accept_disabled(1024, 900), 4);
        assert_eq!(accept_disabled(16, 15), 1);
        assert_eq!(accept_disabled(16, 20), 2);
        assert!(accept_disabled(u64::MAX, 3) < 0);
    }
}
