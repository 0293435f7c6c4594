//! `AsyncFd` on real descriptors: an eventfd written from another thread,
//! a timerfd, both ends of a pipe. Each test asserts what a wait does
//! (returns, or stays pending, checked by polling it once: no timing) and
//! what the guards do to the readiness latch: `clear_ready` and a
//! `WouldBlock` in `try_io` make the next wait sleep until new data, a
//! dropped guard keeps the readiness, and a clear by a stale tick keeps an
//! edge that arrived meanwhile. `try_new` and `try_with_interest` give the
//! object back, undropped, when the poller refuses it; `AsyncFd::try_io`
//! makes one attempt and clears on `WouldBlock`. Every test runs on the
//! current-thread runtime on each backend and on the multi-thread runtime,
//! every wait bounded by a timeout.

mod ready_support;

use ready_support::{poll_once, Flavor, LIMIT};
use rustix::event::{eventfd, EventfdFlags};
use rustix::pipe::{pipe_with, PipeFlags};
use rustix::time::{
    timerfd_create, timerfd_settime, Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags,
};
use spindle_rt::io::unix::{AsyncFd, AsyncFdTryNewError};
use spindle_rt::io::Interest;
use spindle_rt::time::timeout;
use std::error::Error;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::thread;

on_flavors!(
    readable_wakes_on_a_write_from_another_thread_and_waits_again_after_clear_ready,
    try_io_would_block_clears_readiness_and_the_next_wait_sleeps,
    a_dropped_guard_keeps_the_readiness,
    a_clear_by_a_stale_tick_keeps_the_edge_that_arrived_meanwhile,
    timerfd_is_readable_when_it_fires_and_not_before_it_is_rearmed,
    writable_waits_until_a_full_pipe_is_drained,
    ready_for_both_directions_reports_each,
    async_io_and_the_mut_guards_run_the_whole_loop,
    poll_read_ready_is_the_poll_form_of_readable,
    into_inner_takes_the_descriptor_off_the_poller,
    drop_deregisters_before_the_inner_is_dropped,
    a_wait_outside_the_registered_interest_is_invalid_input,
    try_new_gives_back_an_object_whose_descriptor_is_registered_already,
    try_new_gives_back_a_regular_file_that_epoll_refuses,
    try_new_and_try_with_interest_register_like_new,
    async_fd_try_io_calls_f_and_clears_the_readiness_on_would_block,
);

fn nonblocking_eventfd() -> OwnedFd {
    eventfd(0, EventfdFlags::NONBLOCK | EventfdFlags::CLOEXEC).expect("eventfd")
}

/// Adds `n` to an eventfd's counter.
fn bump(fd: impl AsFd, n: u64) {
    assert_eq!(rustix::io::write(fd, &n.to_ne_bytes()).expect("eventfd write"), 8);
}

/// Reads (and so zeroes) an eventfd's counter; `WouldBlock` when it is 0.
fn take_counter(fd: impl AsFd) -> io::Result<u64> {
    let mut buf = [0; 8];
    rustix::io::read(fd, &mut buf)?;
    Ok(u64::from_ne_bytes(buf))
}

/// A thread that adds each number it is sent to the eventfd `fd`, so the
/// edge comes from another thread than the waiting task; it ends when the
/// sender is dropped.
fn writer(fd: OwnedFd) -> mpsc::Sender<u64> {
    let (tx, rx) = mpsc::channel::<u64>();
    thread::spawn(move || {
        while let Ok(n) = rx.recv_timeout(LIMIT) {
            bump(&fd, n);
        }
    });
    tx
}

async fn readable_wakes_on_a_write_from_another_thread_and_waits_again_after_clear_ready(_: Flavor) {
    let fd = nonblocking_eventfd();
    let tx = writer(fd.try_clone().expect("dup"));
    let efd = AsyncFd::with_interest(fd, Interest::READABLE).expect("register");

    let mut wait = pin!(efd.readable());
    assert!(poll_once(wait.as_mut()).await.is_pending(), "readable before anything was written");
    tx.send(3).unwrap();
    let mut guard = timeout(LIMIT, wait).await.expect("the write woke readable()").expect("readable");
    assert!(guard.ready().is_readable(), "{:?}", guard.ready());
    assert_eq!(guard.try_io(|fd| take_counter(fd.get_ref())).expect("not WouldBlock").unwrap(), 3);
    // An eventfd read takes the whole counter: it is drained, so the
    // readiness is spent.
    guard.clear_ready();
    assert!(guard.ready().is_empty());

    let mut wait = pin!(efd.readable());
    assert!(
        poll_once(wait.as_mut()).await.is_pending(),
        "readable() returned after clear_ready with nothing new"
    );
    tx.send(4).unwrap();
    let mut guard = timeout(LIMIT, wait).await.expect("the second write woke readable()").expect("readable");
    assert_eq!(guard.try_io(|fd| take_counter(fd.get_ref())).expect("not WouldBlock").unwrap(), 4);
    guard.clear_ready();
}

async fn try_io_would_block_clears_readiness_and_the_next_wait_sleeps(_: Flavor) {
    let (r, w) = pipe_with(PipeFlags::NONBLOCK | PipeFlags::CLOEXEC).expect("pipe");
    let r = AsyncFd::with_interest(r, Interest::READABLE).expect("register");
    assert_eq!(rustix::io::write(&w, b"hello").unwrap(), 5);

    let mut guard = r.readable().await.expect("readable");
    let mut buf = [0; 64];
    let n = guard.try_io(|fd| Ok(rustix::io::read(fd.get_ref(), &mut buf)?)).expect("data").unwrap();
    assert_eq!(&buf[..n], b"hello");
    assert!(!guard.ready().is_empty(), "a successful call keeps the readiness");
    // The pipe is empty now: the next call is WouldBlock, and try_io turns
    // that into TryIoError after clearing the readiness.
    assert!(guard.try_io(|fd| Ok(rustix::io::read(fd.get_ref(), &mut buf)?)).is_err());
    assert!(guard.ready().is_empty(), "WouldBlock cleared the guard");

    let mut wait = pin!(r.readable());
    assert!(
        poll_once(wait.as_mut()).await.is_pending(),
        "readable() returned on an empty pipe after WouldBlock"
    );
    assert_eq!(rustix::io::write(&w, b"more").unwrap(), 4);
    let mut guard = timeout(LIMIT, wait).await.expect("the write woke readable()").expect("readable");
    let n = guard.try_io(|fd| Ok(rustix::io::read(fd.get_ref(), &mut buf)?)).expect("data").unwrap();
    assert_eq!(&buf[..n], b"more");
    guard.retain_ready();
}

async fn a_dropped_guard_keeps_the_readiness(_: Flavor) {
    let (r, w) = pipe_with(PipeFlags::NONBLOCK | PipeFlags::CLOEXEC).expect("pipe");
    let r = AsyncFd::with_interest(r, Interest::READABLE).expect("register");
    assert_eq!(rustix::io::write(&w, b"0123456789").unwrap(), 10);

    let mut buf = [0; 4];
    let mut guard = r.readable().await.expect("readable");
    guard.try_io(|fd| Ok(rustix::io::read(fd.get_ref(), &mut buf)?)).expect("data").unwrap();
    drop(guard); // six bytes left: keep the readiness

    for _ in 0..2 {
        let mut wait = pin!(r.readable());
        let Poll::Ready(guard) = poll_once(wait.as_mut()).await else {
            panic!("readable() waited although data is left and no guard cleared");
        };
        let mut guard = guard.expect("readable");
        guard.retain_ready();
    }
    let mut rest = [0; 16];
    let mut guard = r.readable().await.expect("readable");
    let n = guard.try_io(|fd| Ok(rustix::io::read(fd.get_ref(), &mut rest)?)).expect("data").unwrap();
    assert_eq!(&rest[..n], b"456789");
    guard.retain_ready();
}

async fn a_clear_by_a_stale_tick_keeps_the_edge_that_arrived_meanwhile(flavor: Flavor) {
    if !flavor.edge() {
        // In the level fallback the poller is not asked for reads while
        // nobody waits, so no event can arrive "meanwhile"; a clear there
        // is always followed by a fresh poll that finds the data.
        return;
    }
    let fd = nonblocking_eventfd();
    let ours = fd.try_clone().expect("dup");
    let efd = AsyncFd::with_interest(fd, Interest::READABLE).expect("register");
    // A second descriptor, to know when the driver has dispatched: both
    // are written before waiting on it, and one poller wait returns the
    // first one's event no later than the second's.
    let marker = AsyncFd::with_interest(nonblocking_eventfd(), Interest::READABLE).expect("register");

    bump(&ours, 1);
    let mut guard = efd.readable().await.expect("readable");
    assert_eq!(guard.try_io(|fd| take_counter(fd.get_ref())).expect("not WouldBlock").unwrap(), 1);

    // New data lands after the guard was made and before it is cleared.
    bump(&ours, 2);
    bump(marker.get_ref(), 1);
    let mut m = timeout(LIMIT, marker.readable()).await.expect("marker woke").expect("readable");
    m.clear_ready();

    guard.clear_ready(); // stale: the latch's tick moved on
    let mut wait = pin!(efd.readable());
    let Poll::Ready(guard) = poll_once(wait.as_mut()).await else {
        panic!("the clear erased an edge that arrived after the guard was made: the data would sit unread");
    };
    let mut guard = guard.expect("readable");
    assert_eq!(guard.try_io(|fd| take_counter(fd.get_ref())).expect("not WouldBlock").unwrap(), 2);
    guard.clear_ready();
}

fn arm(fd: impl AsFd, nanos: i64) {
    let at = Itimerspec {
        it_interval: rustix::time::Timespec { tv_sec: 0, tv_nsec: 0 },
        it_value: rustix::time::Timespec { tv_sec: 0, tv_nsec: nanos },
    };
    timerfd_settime(fd, TimerfdTimerFlags::empty(), &at).expect("timerfd_settime");
}

async fn timerfd_is_readable_when_it_fires_and_not_before_it_is_rearmed(_: Flavor) {
    let tfd =
        timerfd_create(TimerfdClockId::Monotonic, TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC).unwrap();
    let tfd = AsyncFd::with_interest(tfd, Interest::READABLE).expect("register");

    let mut wait = pin!(tfd.readable());
    assert!(poll_once(wait.as_mut()).await.is_pending(), "an unarmed timer is not readable");
    arm(tfd.get_ref(), 5_000_000);
    let mut guard = timeout(LIMIT, wait).await.expect("the timer fired").expect("readable");
    // The read returns how many times it expired: once, for a one-shot.
    assert_eq!(guard.try_io(|fd| take_counter(fd.get_ref())).expect("expired").unwrap(), 1);
    assert!(guard.try_io(|fd| take_counter(fd.get_ref())).is_err(), "read again: WouldBlock");

    let mut wait = pin!(tfd.readable());
    assert!(poll_once(wait.as_mut()).await.is_pending(), "a one-shot timer fired twice");
    arm(tfd.get_ref(), 1_000_000);
    let mut guard = timeout(LIMIT, wait).await.expect("the rearmed timer fired").expect("readable");
    assert_eq!(guard.try_io(|fd| take_counter(fd.get_ref())).expect("expired").unwrap(), 1);
    guard.clear_ready();
}

async fn writable_waits_until_a_full_pipe_is_drained(_: Flavor) {
    // The write end non-blocking, the read end blocking (for the drainer
    // thread).
    let (r, w) = pipe_with(PipeFlags::CLOEXEC).expect("pipe");
    spindle_poll::socket::set_nonblocking(w.as_raw_fd()).expect("O_NONBLOCK");
    let w = AsyncFd::with_interest(w, Interest::WRITABLE).expect("register");

    let chunk = [7u8; 16 * 1024];
    let mut total = 0;
    for round in 0.. {
        assert!(round < 10_000, "the pipe never filled");
        let mut guard = w.writable().await.expect("writable");
        match guard.try_io(|fd| Ok(rustix::io::write(fd.get_ref(), &chunk)?)) {
            Ok(n) => total += n.expect("write"),
            Err(_would_block) => break,
        }
    }
    assert!(total > 0);

    let (go, start) = mpsc::channel::<()>();
    let drainer = thread::spawn(move || {
        start.recv_timeout(LIMIT).expect("told to drain");
        let mut buf = vec![0; 64 * 1024];
        let mut left = total;
        while left > 0 {
            left -= rustix::io::read(&r, &mut buf[..left.min(64 * 1024)]).expect("read");
        }
        r // keep the read end open until joined
    });

    let mut wait = pin!(w.writable());
    assert!(
        poll_once(wait.as_mut()).await.is_pending(),
        "writable() returned on a full pipe after WouldBlock"
    );
    go.send(()).unwrap();
    let mut guard = timeout(LIMIT, wait).await.expect("draining woke writable()").expect("writable");
    let n = guard.try_io(|fd| Ok(rustix::io::write(fd.get_ref(), b"x")?)).expect("room").unwrap();
    assert_eq!(n, 1);
    guard.retain_ready();
    drop(drainer.join().expect("drainer"));
}

async fn ready_for_both_directions_reports_each(flavor: Flavor) {
    let fd = nonblocking_eventfd();
    let ours = fd.try_clone().expect("dup");
    let efd = AsyncFd::new(fd).expect("register");
    let both = Interest::READABLE | Interest::WRITABLE;

    // An empty eventfd is writable, not readable.
    let mut guard = efd.ready(both).await.expect("ready");
    assert!(guard.ready().is_writable() && !guard.ready().is_readable(), "{:?}", guard.ready());
    guard.retain_ready();

    bump(&ours, 9);
    let mut guard = loop {
        let guard = efd.ready(both).await.expect("ready");
        if guard.ready().is_readable() {
            break guard;
        }
        // Writable only: the read edge is not in yet. Waiting for reads
        // alone now sleeps until it is.
        drop(guard);
        let mut guard = efd.readable().await.expect("readable");
        guard.retain_ready();
    };
    // Clearing the read flag alone leaves the write flag in the guard.
    assert_eq!(guard.try_io(|fd| take_counter(fd.get_ref())).map(|r| r.unwrap()).ok(), Some(9));
    guard.clear_ready_matching(spindle_rt::io::Ready::READABLE);
    assert!(!guard.ready().is_readable() && guard.ready().is_writable(), "{:?}", guard.ready());
    guard.retain_ready();
    if flavor != Flavor::Multi {
        // Reading the counter also made it writable again, an event for
        // this registration (it asks for both directions). On the
        // multi-thread runtime a worker may latch that event before the
        // clear, whose tick is then stale and clears nothing (rightly);
        // here no event is dispatched until this task waits.
        let mut wait = pin!(efd.readable());
        assert!(poll_once(wait.as_mut()).await.is_pending(), "the read readiness was cleared");
    }
}

async fn async_io_and_the_mut_guards_run_the_whole_loop(_: Flavor) {
    let fd = nonblocking_eventfd();
    let tx = writer(fd.try_clone().expect("dup"));
    let mut efd = AsyncFd::with_interest(fd, Interest::READABLE).expect("register");

    // async_io: the readiness loop around the call, woken from a thread.
    tx.send(5).unwrap();
    let n = timeout(LIMIT, efd.async_io(Interest::READABLE, |fd| take_counter(fd))).await.expect("async_io");
    assert_eq!(n.unwrap(), 5);

    tx.send(6).unwrap();
    let n = timeout(LIMIT, efd.async_io_mut(Interest::READABLE, |fd| take_counter(&*fd))).await;
    assert_eq!(n.expect("async_io_mut").unwrap(), 6);

    // The &mut guard: the same protocol with mutable access. The last
    // successful call kept the readiness, so the first wait may return
    // before the thread's write: WouldBlock then, and wait again.
    tx.send(7).unwrap();
    let got = loop {
        let mut guard = timeout(LIMIT, efd.readable_mut()).await.expect("woke").expect("readable");
        if let Ok(n) = guard.try_io(|fd| take_counter(fd.get_mut())) {
            break n.unwrap();
        }
    };
    assert_eq!(got, 7);
    let mut guard = efd.readable_mut().await.expect("a success kept the readiness");
    assert!(guard.try_io(|fd| take_counter(fd.get_mut())).is_err(), "drained: WouldBlock");
    assert!(guard.get_inner_mut().as_raw_fd() >= 0);
    drop(guard);
    let mut wait = pin!(efd.readable_mut());
    assert!(poll_once(wait.as_mut()).await.is_pending(), "the mut guard's WouldBlock cleared readiness");
}

async fn poll_read_ready_is_the_poll_form_of_readable(_: Flavor) {
    let fd = nonblocking_eventfd();
    let tx = writer(fd.try_clone().expect("dup"));
    let efd = AsyncFd::with_interest(fd, Interest::READABLE).expect("register");

    let mut first = true;
    let got = timeout(
        LIMIT,
        std::future::poll_fn(|cx| {
            let mut guard = match efd.poll_read_ready(cx) {
                Poll::Pending => {
                    if std::mem::take(&mut first) {
                        tx.send(8).unwrap();
                    }
                    return Poll::Pending;
                }
                Poll::Ready(guard) => guard.expect("readable"),
            };
            match guard.try_io(|fd| take_counter(fd.get_ref())) {
                Ok(n) => Poll::Ready(n),
                Err(_would_block) => {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
            }
        }),
    )
    .await
    .expect("poll_read_ready woke");
    assert!(!first, "the first poll found nothing ready and stored the waker");
    assert_eq!(got.unwrap(), 8);
}

async fn into_inner_takes_the_descriptor_off_the_poller(_: Flavor) {
    let fd = nonblocking_eventfd();
    let raw = fd.as_raw_fd();
    let efd = AsyncFd::new(fd).expect("register");
    let err = AsyncFd::new(Raw(raw)).expect_err("a descriptor registered twice");
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");

    let fd = efd.into_inner();
    assert_eq!(fd.as_raw_fd(), raw, "the same descriptor, still open");
    bump(&fd, 1);
    assert_eq!(take_counter(&fd).unwrap(), 1);
    // Off the poller: it registers again, and works there.
    let efd = AsyncFd::new(fd).expect("registered again after into_inner");
    bump(efd.get_ref(), 2);
    let mut guard = timeout(LIMIT, efd.readable()).await.expect("readable again").expect("readable");
    assert_eq!(guard.try_io(|fd| take_counter(fd.get_ref())).expect("not WouldBlock").unwrap(), 2);
    guard.clear_ready();
}

/// A bare descriptor number, owned elsewhere.
#[derive(Debug)]
struct Raw(RawFd);

impl AsRawFd for Raw {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

/// An inner object that, as it is dropped (before it closes its
/// descriptor), checks whether the descriptor is still in the poller by
/// registering it once more.
struct Probe {
    fd: OwnedFd,
    seen: Arc<Mutex<Option<io::Result<()>>>>,
}

impl AsRawFd for Probe {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        let again = AsyncFd::new(Raw(self.fd.as_raw_fd())).map(drop);
        *self.seen.lock().unwrap() = Some(again);
    }
}

async fn drop_deregisters_before_the_inner_is_dropped(_: Flavor) {
    let seen = Arc::new(Mutex::new(None));
    let efd = AsyncFd::new(Probe { fd: nonblocking_eventfd(), seen: seen.clone() }).expect("register");
    {
        // A waiter parked on it, too.
        let mut wait = pin!(efd.readable());
        assert!(poll_once(wait.as_mut()).await.is_pending());
    }
    drop(efd);
    let again = seen.lock().unwrap().take().expect("the inner was dropped");
    again.expect("the descriptor was off the poller when its owner was dropped");
}

async fn a_wait_outside_the_registered_interest_is_invalid_input(_: Flavor) {
    let efd = AsyncFd::with_interest(nonblocking_eventfd(), Interest::READABLE).expect("register");
    assert_eq!(efd.interest(), Interest::READABLE);
    let err = efd.writable().await.expect_err("registered for reads only");
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    let err = efd.ready(Interest::READABLE | Interest::WRITABLE).await.expect_err("both");
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
}

#[test]
fn async_fd_its_guards_and_its_futures_are_send() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    ready_support::run(Flavor::Multi, |_| async {
        let mut efd = AsyncFd::new(nonblocking_eventfd()).expect("register");
        send_sync(&efd);
        send(&efd.readable());
        send(&efd.writable());
        send(&efd.async_io(Interest::READABLE, |fd| take_counter(fd)));
        let guard = efd.writable().await.expect("an empty eventfd is writable");
        send(&guard);
        drop(guard);
        send(&efd.readable_mut());
        // And so a task on another worker can wait on it.
        let efd = Arc::new(efd);
        let waiter = {
            let efd = efd.clone();
            spindle_rt::spawn(async move { efd.async_io(Interest::READABLE, |fd| take_counter(fd)).await })
        };
        bump(efd.get_ref(), 11);
        let got = timeout(LIMIT, waiter).await.expect("the task woke").expect("joined");
        assert_eq!(got.unwrap(), 11);
    });
}

/// An object that is not its descriptor's owner, with something of its own
/// to lose, and a count of its drops.
struct Tagged {
    fd: RawFd,
    tag: String,
    drops: Arc<AtomicUsize>,
}

impl AsRawFd for Tagged {
    fn as_raw_fd(&self) -> RawFd {
        self.fd
    }
}

impl Drop for Tagged {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

/// The object and the cause from a refused `try_new`, checking the error's
/// `Display` and `source` on the way.
fn refused<T>(result: Result<AsyncFd<T>, AsyncFdTryNewError<T>>) -> (T, io::Error)
where
    T: AsRawFd,
{
    let Err(err) = result else { panic!("the poller took the descriptor") };
    let shown = err.to_string();
    let source = err.source().expect("the poller's error is the source").to_string();
    let (inner, cause) = err.into_parts();
    assert_eq!((shown, source), (cause.to_string(), cause.to_string()));
    (inner, cause)
}

async fn try_new_gives_back_an_object_whose_descriptor_is_registered_already(_: Flavor) {
    let efd = AsyncFd::new(nonblocking_eventfd()).expect("register");
    let drops = Arc::new(AtomicUsize::new(0));
    let tagged = |tag: &str| Tagged { fd: efd.as_raw_fd(), tag: tag.into(), drops: drops.clone() };

    let (back, cause) = refused(AsyncFd::try_new(tagged("first")));
    assert_eq!(cause.kind(), io::ErrorKind::AlreadyExists, "{cause}");
    assert_eq!((back.fd, back.tag.as_str()), (efd.as_raw_fd(), "first"));
    assert_eq!(drops.load(SeqCst), 0, "given back, not dropped");
    drop(back);
    assert_eq!(drops.load(SeqCst), 1);

    let (back, cause) = refused(AsyncFd::try_with_interest(tagged("second"), Interest::READABLE));
    assert_eq!(cause.kind(), io::ErrorKind::AlreadyExists, "{cause}");
    assert_eq!(back.tag, "second");
    assert_eq!(drops.load(SeqCst), 1, "given back, not dropped");
    drop(back);

    // `new` reports the same error and drops the object; the conversion to
    // io::Error keeps the kind.
    let err = AsyncFd::new(tagged("third")).map(drop).expect_err("registered already");
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
    assert_eq!(drops.load(SeqCst), 3, "new dropped it");
    let err: io::Error = AsyncFd::try_new(tagged("fourth")).map(drop).expect_err("refused").into();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");

    // The refusals left the first registration working.
    bump(efd.get_ref(), 9);
    let mut guard = timeout(LIMIT, efd.readable()).await.expect("readable in time").expect("readable");
    assert_eq!(guard.try_io(|fd| take_counter(fd.get_ref())).expect("not WouldBlock").unwrap(), 9);
}

async fn try_new_gives_back_a_regular_file_that_epoll_refuses(flavor: Flavor) {
    let open = || std::fs::File::open(std::env::current_exe().expect("current_exe")).expect("open");
    if !flavor.edge() {
        // poll and select take any descriptor (a regular file is always
        // ready): the registration succeeds and into_inner gives it back.
        let mut file = AsyncFd::try_new(open()).expect("poll and select take a regular file").into_inner();
        let mut magic = [0; 4];
        file.read_exact(&mut magic).expect("read");
        assert_eq!(&magic, b"\x7fELF");
        return;
    }
    for interest in [Interest::READABLE | Interest::WRITABLE, Interest::READABLE] {
        let (mut file, cause) = refused(AsyncFd::try_with_interest(open(), interest));
        assert_eq!(cause.kind(), io::ErrorKind::PermissionDenied, "epoll_ctl's EPERM: {cause}");
        // The same file, still open.
        let mut magic = [0; 4];
        file.read_exact(&mut magic).expect("the file is still open");
        assert_eq!(&magic, b"\x7fELF");
    }
    let (file, cause) = refused(AsyncFd::try_new(open()));
    assert_eq!(cause.kind(), io::ErrorKind::PermissionDenied, "{cause}");
    assert!(file.metadata().expect("still open").is_file());
}

async fn try_new_and_try_with_interest_register_like_new(_: Flavor) {
    let fd = nonblocking_eventfd();
    let tx = writer(fd.try_clone().expect("dup"));
    let efd = AsyncFd::try_new(fd).expect("an eventfd registers");
    assert_eq!(efd.interest(), Interest::READABLE | Interest::WRITABLE);
    {
        let mut wait = pin!(efd.readable());
        assert!(poll_once(wait.as_mut()).await.is_pending(), "nothing written yet");
        tx.send(2).unwrap();
        let mut guard = timeout(LIMIT, wait).await.expect("the write woke it").expect("readable");
        assert_eq!(guard.try_io(|fd| take_counter(fd.get_ref())).expect("not WouldBlock").unwrap(), 2);
    }

    let fd = efd.into_inner();
    let efd = AsyncFd::try_with_interest(fd, Interest::READABLE).expect("registers again");
    assert_eq!(efd.interest(), Interest::READABLE);
    assert_eq!(efd.writable().await.expect_err("registered for reads").kind(), io::ErrorKind::InvalidInput);
}

async fn async_fd_try_io_calls_f_and_clears_the_readiness_on_would_block(_: Flavor) {
    let fd = nonblocking_eventfd();
    let tx = writer(fd.try_clone().expect("dup"));
    let mut efd = AsyncFd::with_interest(fd, Interest::READABLE).expect("register");

    // Nothing latched: f is still called, and the kernel says WouldBlock.
    let mut called = false;
    let r = efd.try_io(Interest::READABLE, |fd| {
        called = true;
        take_counter(fd)
    });
    assert!(called, "try_io makes the call whatever the latch holds");
    assert_eq!(r.expect_err("empty").kind(), io::ErrorKind::WouldBlock);

    tx.send(3).unwrap();
    drop(timeout(LIMIT, efd.readable()).await.expect("the write woke it").expect("readable"));
    assert_eq!(efd.try_io(Interest::READABLE, |fd| take_counter(fd)).expect("a success"), 3);
    // A success keeps the readiness; the WouldBlock after it clears it.
    assert!(poll_once(pin!(efd.readable())).await.is_ready(), "a success kept the readiness");
    let r = efd.try_io(Interest::READABLE, |fd| take_counter(fd));
    assert_eq!(r.expect_err("drained").kind(), io::ErrorKind::WouldBlock);
    {
        let mut wait = pin!(efd.readable());
        assert!(poll_once(wait.as_mut()).await.is_pending(), "try_io's WouldBlock cleared the readiness");
        tx.send(4).unwrap();
        drop(timeout(LIMIT, wait).await.expect("the next write woke it").expect("readable"));
    }

    // The &mut form: the same, with mutable access.
    assert_eq!(efd.try_io_mut(Interest::READABLE, |fd| take_counter(&*fd)).expect("a success"), 4);
    let r = efd.try_io_mut(Interest::READABLE, |fd| take_counter(&*fd));
    assert_eq!(r.expect_err("drained").kind(), io::ErrorKind::WouldBlock);
    assert!(
        poll_once(pin!(efd.readable())).await.is_pending(),
        "try_io_mut's WouldBlock cleared the readiness"
    );
}
