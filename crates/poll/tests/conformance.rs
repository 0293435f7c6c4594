//! The conformance suite: every case runs unchanged against every backend.
//!
//! `conformance!(poll, Backend::Poll)` expands to a module `poll` with one
//! `#[test]` per case, so `cargo test -p spindle-poll poll::oneshot` runs one
//! case on one backend. A case branches only on what a backend documents it
//! cannot do: see [`tells_hangups`] and [`kernel_keeps_set`].
//!
//! House rules: events may be spurious, so every "this must be reported"
//! goes through [`wait_for`], and every "this must not be reported" through
//! [`assert_quiet`], a short bounded wait; nothing sleeps to synchronise;
//! every wait is bounded, by its timeout or, for a thread blocked in
//! `wait(None)`, by the test thread's `recv_timeout` on a channel.

use spindle_poll::{Backend, Event, Events, Interest, Mode, Poller, Token, WAKER_TOKEN};
use std::collections::BTreeSet;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::thread::JoinHandleExt;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{mpsc, Arc, Once, PoisonError, RwLock, RwLockReadGuard};
use std::thread;
use std::time::{Duration, Instant};

macro_rules! conformance {
    ($module:ident, $backend:expr) => {
        mod $module {
            use spindle_poll::Backend;
            conformance!(@cases $backend;
                readable_when_data_arrives,
                writable_on_fresh_socket,
                hang_up_reads_end_of_stream,
                refused_connect_reports_error,
                level_reports_while_data_remains,
                edge_reports_once_per_arrival,
                oneshot_reports_once_until_rearmed,
                exclusive_on_epoll_only,
                wake_from_another_thread,
                ten_thousand_descriptors,
                signal_interrupts_wait_without_error,
                delete_after_close_succeeds,
                delete_unregistered_is_not_found,
                closed_registered_descriptor_does_not_spin,
                bad_input_is_refused_clearly,
                add_from_another_thread_is_seen,
                modify_while_blocked_reports_new_token,
                delete_while_blocked_reports_nothing,
                small_buffer_takes_turns,
                narrowed_buffer_loses_no_edge,
                timeouts_are_honoured,
            );
        }
    };
    (@cases $backend:expr; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                super::$case($backend)
            }
        )*
    };
}

conformance!(epoll, Backend::Epoll);
conformance!(poll, Backend::Poll);
conformance!(select, Backend::Select);

#[test]
fn every_backend_has_a_module() {
    // A new backend must get a `conformance!` line above.
    assert_eq!(Backend::ALL, [Backend::Epoll, Backend::Poll, Backend::Select]);
}

#[test]
fn poller_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Poller>();
}

// ---------------------------------------------------------------- helpers

/// How long a wanted event may take before the case fails.
const DEADLINE: Duration = Duration::from_secs(5);
/// How long "no event" is watched for.
const QUIET: Duration = Duration::from_millis(50);

/// select cannot tell a hang-up or an error from plain readiness: the kernel
/// folds them into its read and write maps.
fn tells_hangups(b: Backend) -> bool {
    b != Backend::Select
}

/// Edges and exclusive wake-ups need the kernel to keep the interest set
/// between waits; only epoll does. It is also the only backend where closing
/// a descriptor removes it from the set.
fn kernel_keeps_set(b: Backend) -> bool {
    b == Backend::Epoll
}

/// The many-descriptor cases take this for writing, every other case for
/// reading: thousands of open descriptors would push other cases' sockets
/// above select's `FD_SETSIZE` and towards the descriptor limit.
static FD_HEAVY: RwLock<()> = RwLock::new(());

/// A poller on `b`, and the shared side of [`FD_HEAVY`] to hold for the case.
fn setup(b: Backend) -> (Poller, RwLockReadGuard<'static, ()>) {
    raise_nofile();
    let guard = FD_HEAVY.read().unwrap_or_else(PoisonError::into_inner);
    let poller = Poller::new(b).expect("open poller");
    assert_eq!(poller.backend(), b);
    (poller, guard)
}

/// Raises the soft descriptor limit to the hard one, once per process.
fn raise_nofile() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: `lim` is a live rlimit for the kernel to fill.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
        lim.rlim_cur = lim.rlim_max;
        // SAFETY: `lim` is a live, initialised rlimit for the kernel to read.
        let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
        assert_eq!(rc, 0, "setrlimit: {}", io::Error::last_os_error());
    });
}

fn pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().expect("socketpair");
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (a, b)
}

/// Waits until an event for `token` satisfies `want`, passing over spurious
/// wake-ups and other tokens' events; fails the case after [`DEADLINE`].
fn wait_for(poller: &Poller, token: Token, want: impl Fn(&Event) -> bool) -> Event {
    let deadline = Instant::now() + DEADLINE;
    let mut events = Events::with_capacity(64);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no matching event for {token:?} within {DEADLINE:?}");
        poller.wait(&mut events, Some(left)).expect("wait");
        if let Some(ev) = events.iter().find(|e| e.token() == token && want(e)) {
            return *ev;
        }
    }
}

/// Asserts that no event for `token` arrives within [`QUIET`].
fn assert_quiet(poller: &Poller, token: Token) {
    let end = Instant::now() + QUIET;
    let mut events = Events::with_capacity(64);
    loop {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        poller.wait(&mut events, Some(left)).expect("wait");
        if let Some(ev) = events.iter().find(|e| e.token() == token) {
            panic!("unexpected event {ev:?}");
        }
    }
}

/// Moves `fd` to a descriptor number of its own, between 600 and 1000: below
/// `FD_SETSIZE`, and out of reach of lowest-free allocation while the heavy
/// cases are shut out, so that once closed, the number stays closed for the
/// case (no other thread's new socket can take it). The original is closed,
/// so the result is the file's only descriptor.
fn private_fd(fd: impl Into<OwnedFd>) -> OwnedFd {
    static NEXT: AtomicI32 = AtomicI32::new(600);
    let min = NEXT.fetch_add(1, Ordering::Relaxed);
    assert!(min < 1000, "private_fd ran out of numbers");
    let fd = fd.into();
    // SAFETY: F_DUPFD_CLOEXEC takes an integer and returns a new descriptor
    // or -1; it touches no memory.
    let new = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, min) };
    assert!(new >= min, "dup: {}", io::Error::last_os_error());
    // SAFETY: fcntl just returned `new`; nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(new) }
}

/// A non-blocking TCP socket connecting to a port nobody listens on, so
/// the connect is refused once the kernel gets the reset.
fn refused_connect() -> OwnedFd {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    // SAFETY: socket takes no pointers.
    let fd = unsafe {
        libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0)
    };
    assert!(fd >= 0, "socket: {}", io::Error::last_os_error());
    // SAFETY: socket just returned `fd`; nothing else owns it.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    let addr = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr { s_addr: u32::from(Ipv4Addr::LOCALHOST).to_be() },
        sin_zero: [0; 8],
    };
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: `addr` is a live sockaddr_in and `len` is its exact size.
    let rc = unsafe { libc::connect(fd, (&addr as *const libc::sockaddr_in).cast(), len) };
    let err = io::Error::last_os_error();
    assert!(rc == -1 && err.raw_os_error() == Some(libc::EINPROGRESS), "connect: {rc} {err}");
    sock
}

fn so_error(fd: RawFd) -> i32 {
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `v` and `len` are live, and `len` holds `v`'s exact size.
    let rc = unsafe {
        libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_ERROR, (&mut v as *mut i32).cast(), &mut len)
    };
    assert_eq!(rc, 0, "getsockopt: {}", io::Error::last_os_error());
    v
}

extern "C" fn on_sigusr1(_: libc::c_int) {}

/// A no-op SIGUSR1 handler *without* `SA_RESTART`, so the signal makes a
/// blocked system call fail with `EINTR`.
fn install_sigusr1() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: all-zero is a valid sigaction: no flags, empty mask.
        let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
        sa.sa_sigaction = on_sigusr1 as extern "C" fn(libc::c_int) as libc::sighandler_t;
        // SAFETY: `sa`, including its mask, is live and initialised; the
        // handler is a no-op, trivially async-signal-safe; the old action is
        // not asked for.
        let rc = unsafe { libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut()) };
        assert_eq!(rc, 0, "sigaction: {}", io::Error::last_os_error());
    });
}

fn is_readable(e: &Event) -> bool {
    e.is_readable()
}

// ------------------------------------------------------------------ cases

fn readable_when_data_arrives(b: Backend) {
    let (poller, _g) = setup(b);
    let (mut a, mut peer) = pair();
    poller.add(a.as_raw_fd(), Token(1), Interest::READABLE, Mode::Level).unwrap();
    assert_quiet(&poller, Token(1));
    peer.write_all(b"ping").unwrap();
    assert!(wait_for(&poller, Token(1), is_readable).is_readable());
    let mut buf = [0; 8];
    assert_eq!(a.read(&mut buf).unwrap(), 4);
    poller.delete(a.as_raw_fd()).unwrap();
}

fn writable_on_fresh_socket(b: Backend) {
    let (poller, _g) = setup(b);
    let (a, _peer) = pair();
    poller.add(a.as_raw_fd(), Token(2), Interest::WRITABLE, Mode::Level).unwrap();
    wait_for(&poller, Token(2), Event::is_writable);
}

fn hang_up_reads_end_of_stream(b: Backend) {
    let (poller, _g) = setup(b);
    let (mut a, peer) = pair();
    poller.add(a.as_raw_fd(), Token(3), Interest::READABLE, Mode::Level).unwrap();
    drop(peer);
    let ev = wait_for(&poller, Token(3), is_readable);
    if tells_hangups(b) {
        assert!(ev.is_read_closed(), "{ev:?}");
    }
    assert_eq!(a.read(&mut [0; 8]).unwrap(), 0);
}

fn refused_connect_reports_error(b: Backend) {
    let (poller, _g) = setup(b);
    let sock = refused_connect();
    poller.add(sock.as_raw_fd(), Token(4), Interest::WRITABLE, Mode::Level).unwrap();
    if tells_hangups(b) {
        wait_for(&poller, Token(4), |e| e.is_error() || e.is_write_closed());
    } else {
        wait_for(&poller, Token(4), Event::is_writable);
    }
    assert_eq!(so_error(sock.as_raw_fd()), libc::ECONNREFUSED);
    poller.delete(sock.as_raw_fd()).unwrap();
}

fn level_reports_while_data_remains(b: Backend) {
    let (poller, _g) = setup(b);
    let (mut a, mut peer) = pair();
    poller.add(a.as_raw_fd(), Token(5), Interest::READABLE, Mode::Level).unwrap();
    peer.write_all(b"abc").unwrap();
    for _ in 0..3 {
        wait_for(&poller, Token(5), is_readable);
    }
    assert_eq!(a.read(&mut [0; 1]).unwrap(), 1);
    wait_for(&poller, Token(5), is_readable);
    assert_eq!(a.read(&mut [0; 8]).unwrap(), 2);
    assert_quiet(&poller, Token(5));
}

fn edge_reports_once_per_arrival(b: Backend) {
    let (poller, _g) = setup(b);
    let (a, mut peer) = pair();
    let fd = a.as_raw_fd();
    if !kernel_keeps_set(b) {
        let err = poller.add(fd, Token(6), Interest::READABLE, Mode::Edge).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Unsupported);
        assert!(err.to_string().contains("edge") && err.to_string().contains("epoll"), "{err}");
        poller.add(fd, Token(6), Interest::READABLE, Mode::Level).unwrap();
        let err = poller.modify(fd, Token(6), Interest::READABLE, Mode::Edge).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Unsupported, "{err}");
        return;
    }
    poller.add(fd, Token(6), Interest::READABLE, Mode::Edge).unwrap();
    peer.write_all(b"one").unwrap();
    wait_for(&poller, Token(6), is_readable);
    assert_quiet(&poller, Token(6)); // unread data, but no new edge
    peer.write_all(b"two").unwrap();
    wait_for(&poller, Token(6), is_readable);
    assert_quiet(&poller, Token(6));
}

fn oneshot_reports_once_until_rearmed(b: Backend) {
    let (poller, _g) = setup(b);
    let (a, mut peer) = pair();
    let fd = a.as_raw_fd();
    poller.add(fd, Token(7), Interest::READABLE, Mode::Oneshot).unwrap();
    peer.write_all(b"x").unwrap();
    wait_for(&poller, Token(7), is_readable);
    assert_quiet(&poller, Token(7)); // still readable, but disarmed
    peer.write_all(b"y").unwrap();
    assert_quiet(&poller, Token(7)); // even a new arrival does not re-arm
    poller.modify(fd, Token(7), Interest::READABLE, Mode::Oneshot).unwrap();
    wait_for(&poller, Token(7), is_readable);
    assert_quiet(&poller, Token(7));
}

fn exclusive_on_epoll_only(b: Backend) {
    let (poller, _g) = setup(b);
    let (a, mut peer) = pair();
    let fd = a.as_raw_fd();
    if kernel_keeps_set(b) {
        poller.add(fd, Token(8), Interest::READABLE, Mode::Exclusive).unwrap();
        peer.write_all(b"x").unwrap();
        wait_for(&poller, Token(8), is_readable);
    } else {
        let err = poller.add(fd, Token(8), Interest::READABLE, Mode::Exclusive).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Unsupported);
        assert!(err.to_string().contains("epoll"), "{err}");
        // The refused add left nothing behind.
        poller.add(fd, Token(8), Interest::READABLE, Mode::Level).unwrap();
    }
}

fn wake_from_another_thread(b: Backend) {
    let (poller, _g) = setup(b);
    let poller = Arc::new(poller);
    let (ready_tx, ready_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    let p = Arc::clone(&poller);
    let waiter = thread::spawn(move || {
        let mut events = Events::with_capacity(8);
        ready_tx.send(()).unwrap();
        done_tx.send(p.wait(&mut events, None)).unwrap();
    });
    ready_rx.recv_timeout(DEADLINE).unwrap();
    poller.waker().wake();
    let n = done_rx.recv_timeout(DEADLINE).expect("wait(None) did not return after wake").unwrap();
    assert_eq!(n, 0, "the waker's own event is never reported");
    waiter.join().unwrap();
}

fn ten_thousand_descriptors(b: Backend) {
    raise_nofile();
    let _g = FD_HEAVY.write().unwrap_or_else(PoisonError::into_inner);
    let poller = Poller::new(b).unwrap();
    let pairs: Vec<_> = (0..5_000).map(|_| pair()).collect();
    let mut registered = Vec::new();
    for (i, (a, peer)) in pairs.iter().enumerate() {
        for (fd, token) in [(a.as_raw_fd(), 2 * i), (peer.as_raw_fd(), 2 * i + 1)] {
            match poller.add(fd, Token(token), Interest::READABLE, Mode::Level) {
                Ok(()) => registered.push(token),
                Err(e) if b == Backend::Select && fd >= 1024 => {
                    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
                    assert!(
                        e.to_string().contains("FD_SETSIZE") && e.to_string().contains(&fd.to_string()),
                        "{e}"
                    );
                }
                Err(e) => panic!("add of descriptor {fd}: {e}"),
            }
        }
    }
    if b == Backend::Select {
        assert!(registered.len() > 100 && registered.len() < 1024, "{}", registered.len());
    } else {
        assert_eq!(registered.len(), 10_000);
    }
    // Make ten registered `a` ends readable, spread over the registered set.
    let firsts: Vec<usize> = registered.iter().copied().filter(|t| t % 2 == 0).collect();
    let step = firsts.len() / 10;
    let expected: BTreeSet<usize> = (0..10).map(|k| firsts[k * step + step / 2]).collect();
    for &t in &expected {
        (&pairs[t / 2].1).write_all(b"x").unwrap();
    }
    let mut seen = BTreeSet::new();
    let mut events = Events::with_capacity(64);
    let deadline = Instant::now() + DEADLINE;
    while seen != expected {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "saw {seen:?}, wanted {expected:?}");
        poller.wait(&mut events, Some(left)).unwrap();
        for ev in &events {
            assert!(expected.contains(&ev.token().0), "unexpected {ev:?}");
            seen.insert(ev.token().0);
        }
    }
}

fn signal_interrupts_wait_without_error(b: Backend) {
    install_sigusr1();
    let (poller, _g) = setup(b);
    let poller = Arc::new(poller);
    let (done_tx, done_rx) = mpsc::channel();
    let p = Arc::clone(&poller);
    let waiter = thread::spawn(move || {
        let mut events = Events::with_capacity(8);
        done_tx.send(p.wait(&mut events, None).map_err(|e| e.to_string())).unwrap();
    });
    // The signal may land before the thread enters the system call, where it
    // interrupts nothing: repeat it until the wait returns.
    let deadline = Instant::now() + DEADLINE;
    let result = loop {
        // SAFETY: `waiter` is not joined yet, so its pthread_t is valid; the
        // signal's handler is a no-op.
        assert_eq!(unsafe { libc::pthread_kill(waiter.as_pthread_t(), libc::SIGUSR1) }, 0);
        match done_rx.recv_timeout(Duration::from_millis(10)) {
            Ok(r) => break r,
            Err(_) => assert!(Instant::now() < deadline, "wait(None) did not return on a signal"),
        }
    };
    assert_eq!(result, Ok(0), "EINTR is not an error");
    waiter.join().unwrap();
}

fn delete_after_close_succeeds(b: Backend) {
    let (poller, _g) = setup(b);
    let (a, _peer) = pair();
    let a = private_fd(a);
    let fd = a.as_raw_fd();
    poller.add(fd, Token(9), Interest::READABLE, Mode::Level).unwrap();
    drop(a);
    poller.delete(fd).unwrap();
}

fn delete_unregistered_is_not_found(b: Backend) {
    let (poller, _g) = setup(b);
    let (a, _peer) = pair();
    let err = poller.delete(a.as_raw_fd()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
    poller.add(a.as_raw_fd(), Token(10), Interest::READABLE, Mode::Level).unwrap();
    poller.delete(a.as_raw_fd()).unwrap();
    let err = poller.delete(a.as_raw_fd()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
}

/// A descriptor closed while registered must neither fail later waits nor
/// make them return at once forever: epoll forgets it, poll and select
/// report it once as an error and disarm it.
fn closed_registered_descriptor_does_not_spin(b: Backend) {
    let (poller, _g) = setup(b);
    let (a, _peer) = pair();
    let a = private_fd(a);
    let fd = a.as_raw_fd();
    poller.add(fd, Token(11), Interest::READABLE, Mode::Level).unwrap();
    drop(a);
    let (mut reports, mut waits) = (0, 0);
    let mut events = Events::with_capacity(8);
    let end = Instant::now() + 4 * QUIET;
    while let Some(left) = Some(end.saturating_duration_since(Instant::now())).filter(|d| !d.is_zero()) {
        poller.wait(&mut events, Some(left)).expect("a closed descriptor must not fail the wait");
        waits += 1;
        for ev in events.iter().filter(|e| e.token() == Token(11)) {
            assert!(ev.is_error(), "{ev:?}");
            reports += 1;
        }
    }
    assert_eq!(reports, usize::from(!kernel_keeps_set(b)));
    assert!(waits <= 5, "{waits} waits in {:?}: spinning", 4 * QUIET);
    poller.delete(fd).unwrap();
}

fn bad_input_is_refused_clearly(b: Backend) {
    let (poller, _g) = setup(b);
    let ebadf = io::Error::from_raw_os_error(libc::EBADF).kind();
    let closed = private_fd(pair().0);
    let closed_fd = closed.as_raw_fd();
    drop(closed);
    for fd in [-1, closed_fd] {
        let err = poller.add(fd, Token(12), Interest::READABLE, Mode::Level).unwrap_err();
        assert_eq!(err.kind(), ebadf, "{err}");
        assert!(err.to_string().contains(&format!("descriptor {fd} is not open")), "{err}");
    }
    let (a, _peer) = pair();
    let fd = a.as_raw_fd();
    let err = poller.modify(fd, Token(12), Interest::READABLE, Mode::Level).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
    let err = poller.add(fd, WAKER_TOKEN, Interest::READABLE, Mode::Level).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    poller.add(fd, Token(12), Interest::READABLE, Mode::Level).unwrap();
    let err = poller.add(fd, Token(13), Interest::READABLE, Mode::Level).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
    let err = poller.modify(fd, WAKER_TOKEN, Interest::READABLE, Mode::Level).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
}

/// Thread A blocks with no timeout; a registration added meanwhile, for a
/// socket with data waiting, must reach A.
fn add_from_another_thread_is_seen(b: Backend) {
    let (poller, _g) = setup(b);
    let poller = Arc::new(poller);
    let (a, mut peer) = pair();
    peer.write_all(b"x").unwrap();
    let (ready_tx, ready_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    let p = Arc::clone(&poller);
    let waiter = thread::spawn(move || {
        let mut events = Events::with_capacity(8);
        ready_tx.send(()).unwrap();
        // Returns on the poller's wake first (Ok(0)) on poll and select.
        while !events.iter().any(|e| e.token() == Token(14)) {
            p.wait(&mut events, None).unwrap();
        }
        done_tx.send(()).unwrap();
    });
    ready_rx.recv_timeout(DEADLINE).unwrap();
    poller.add(a.as_raw_fd(), Token(14), Interest::READABLE, Mode::Level).unwrap();
    done_rx.recv_timeout(DEADLINE).expect("the blocked wait never saw the new registration");
    waiter.join().unwrap();
}

/// A blocked wait built its set with the old token; after a modify it must
/// report the new one and never the old.
fn modify_while_blocked_reports_new_token(b: Backend) {
    let (poller, _g) = setup(b);
    let poller = Arc::new(poller);
    let (a, mut peer) = pair();
    let fd = a.as_raw_fd();
    poller.add(fd, Token(15), Interest::READABLE, Mode::Level).unwrap();
    let (ready_tx, ready_rx) = mpsc::channel();
    let p = Arc::clone(&poller);
    let waiter = thread::spawn(move || {
        ready_tx.send(()).unwrap();
        let mut events = Events::with_capacity(8);
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "Token(16) never reported");
            p.wait(&mut events, Some(left)).unwrap();
            assert!(events.iter().all(|e| e.token() != Token(15)), "stale token reported");
            if events.iter().any(|e| e.token() == Token(16)) {
                return;
            }
        }
    });
    ready_rx.recv_timeout(DEADLINE).unwrap();
    poller.modify(fd, Token(16), Interest::READABLE, Mode::Level).unwrap();
    peer.write_all(b"x").unwrap();
    waiter.join().unwrap();
}

/// A blocked wait built its set with a registration deleted meanwhile; the
/// descriptor's readiness must not be reported.
fn delete_while_blocked_reports_nothing(b: Backend) {
    let (poller, _g) = setup(b);
    let poller = Arc::new(poller);
    let (a, mut peer) = pair();
    let fd = a.as_raw_fd();
    poller.add(fd, Token(17), Interest::READABLE, Mode::Level).unwrap();
    let (ready_tx, ready_rx) = mpsc::channel();
    let p = Arc::clone(&poller);
    let waiter = thread::spawn(move || {
        ready_tx.send(()).unwrap();
        assert_quiet(&p, Token(17));
        assert_quiet(&p, Token(17));
    });
    ready_rx.recv_timeout(DEADLINE).unwrap();
    poller.delete(fd).unwrap();
    peer.write_all(b"x").unwrap();
    waiter.join().unwrap();
}

/// With more descriptors ready than `Events` holds, successive waits must
/// take turns rather than report the same ones forever.
fn small_buffer_takes_turns(b: Backend) {
    let (poller, _g) = setup(b);
    let pairs: Vec<_> = (0..3).map(|_| pair()).collect();
    for (i, (a, peer)) in pairs.iter().enumerate() {
        poller.add(a.as_raw_fd(), Token(20 + i), Interest::READABLE, Mode::Level).unwrap();
        let mut peer: &UnixStream = peer;
        peer.write_all(b"x").unwrap();
    }
    // Wait until all three are ready, then count.
    for i in 0..3 {
        wait_for(&poller, Token(20 + i), is_readable);
    }
    let mut events = Events::with_capacity(1);
    let mut seen = BTreeSet::new();
    for _ in 0..6 {
        poller.wait(&mut events, Some(DEADLINE)).unwrap();
        assert!(events.len() <= 1);
        seen.extend(events.iter().map(|e| e.token().0));
    }
    assert_eq!(seen, BTreeSet::from([20, 21, 22]));
}

/// A buffer narrowed with `Events::set_capacity` takes only that many
/// events; those left behind are reported by later waits, not lost, even
/// in the modes that report an arrival once (edge on epoll, one-shot on the
/// others). spindle-rt's workers rely on this to take no more events than
/// their run queues hold.
fn narrowed_buffer_loses_no_edge(b: Backend) {
    let (poller, _g) = setup(b);
    let mode = if kernel_keeps_set(b) { Mode::Edge } else { Mode::Oneshot };
    let pairs: Vec<_> = (0..3).map(|_| pair()).collect();
    for (i, (a, _)) in pairs.iter().enumerate() {
        poller.add(a.as_raw_fd(), Token(30 + i), Interest::READABLE, mode).unwrap();
    }
    for (_, peer) in &pairs {
        let mut peer: &UnixStream = peer;
        peer.write_all(b"x").unwrap();
    }
    let mut events = Events::with_capacity(64);
    events.set_capacity(1);
    let mut seen = Vec::new();
    let deadline = Instant::now() + DEADLINE;
    while seen.len() < 3 && Instant::now() < deadline {
        poller.wait(&mut events, Some(DEADLINE)).unwrap();
        assert!(events.len() <= 1, "a narrowed buffer took {} events", events.len());
        seen.extend(events.iter().filter(|e| is_readable(e)).map(|e| e.token().0));
    }
    seen.sort_unstable();
    assert_eq!(seen, [30, 31, 32], "each arrival reported exactly once");
    for i in 0..3 {
        assert_quiet(&poller, Token(30 + i));
    }
}

fn timeouts_are_honoured(b: Backend) {
    let (poller, _g) = setup(b);
    let mut events = Events::with_capacity(8);
    let start = Instant::now();
    assert_eq!(poller.wait(&mut events, Some(QUIET)).unwrap(), 0);
    assert!(start.elapsed() >= QUIET, "returned after {:?}", start.elapsed());
    // Below a millisecond rounds up, not down to a busy zero.
    let start = Instant::now();
    assert_eq!(poller.wait(&mut events, Some(Duration::from_micros(100))).unwrap(), 0);
    assert!(start.elapsed() >= Duration::from_micros(100));
    assert_eq!(poller.wait(&mut events, Some(Duration::ZERO)).unwrap(), 0);
}
