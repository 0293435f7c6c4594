//! A `ScheduledIo` driven by a real edge-triggered spindle-loop watcher on a
//! socketpair: the watcher's callback is the driver (`set_readiness`), and a
//! future reads until `WouldBlock`, clears with its event's tick, and waits
//! again. The future is polled by hand with a counting waker between turns
//! of the loop; a guard timer bounds every test.

#![cfg(not(loom))]

use spindle_loop::{Backend, Interest, IoId, Loop, RunMode};
use spindle_poll::Mode;
use spindle_rt::io::{Direction, Readiness, ScheduledIo};
use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Bytes per read call: small, so one edge needs many reads to drain.
const READ_BUF: usize = 1024;

/// Reads `sock` to end of stream the edge-triggered way: wait for readiness,
/// read until `WouldBlock`, clear with the event's tick, wait again.
async fn read_to_end(io: &ScheduledIo, mut sock: &UnixStream) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; READ_BUF];
    loop {
        let ev = poll_fn(|cx| io.poll_ready(cx, Direction::Read)).await;
        if ev.is_shutdown() {
            return Err(io::Error::other("driver shut down"));
        }
        loop {
            match sock.read(&mut buf) {
                Ok(0) => return Ok(out),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    io.clear_readiness(ev);
                    break;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// The driver: a watcher callback that latches each event into `io`.
fn driver(io: &Arc<ScheduledIo>) -> impl FnMut(&mut Loop, IoId, spindle_loop::Event) + 'static {
    let io = io.clone();
    move |_, _, ev| io.set_readiness(Readiness::from_event(&ev))
}

/// An epoll loop whose edge watcher on `sock` feeds `io`, and a guard timer.
fn driven(sock: &UnixStream, io: &Arc<ScheduledIo>) -> (Loop, IoId, Rc<Cell<bool>>) {
    let mut lp = Loop::with_backend(Backend::Epoll).unwrap();
    let watcher = lp.io_start_with(sock.as_raw_fd(), Interest::READABLE, Mode::Edge, driver(io)).unwrap();
    let expired = guard(&mut lp);
    (lp, watcher, expired)
}

/// An unreferenced timer that stops the loop and raises the returned flag
/// after five seconds.
fn guard(lp: &mut Loop) -> Rc<Cell<bool>> {
    let expired = Rc::new(Cell::new(false));
    let flag = expired.clone();
    let guard = lp
        .timer_once(Duration::from_secs(5), move |lp, _| {
            flag.set(true);
            lp.stop();
        })
        .unwrap();
    lp.unref(guard.handle());
    expired
}

/// Polls `fut` whenever its waker was woken, turning the loop in between,
/// until it completes or the guard expires. Returns the output and how many
/// times it was woken.
fn block_on<F: Future>(lp: &mut Loop, expired: &Cell<bool>, fut: F) -> (F::Output, usize) {
    let count = Arc::new(Count(AtomicUsize::new(0)));
    let waker = Waker::from(count.clone());
    let mut fut = Box::pin(fut);
    let mut polled_at = usize::MAX;
    loop {
        let woken = count.0.load(Ordering::SeqCst);
        if woken != polled_at {
            polled_at = woken;
            if let Poll::Ready(out) = fut.as_mut().poll(&mut Context::from_waker(&waker)) {
                return (out, count.0.load(Ordering::SeqCst));
            }
        }
        assert!(!expired.get(), "the guard timer expired: the reader stalled");
        lp.run(RunMode::Once).unwrap();
    }
}

#[test]
fn edge_watcher_drives_a_reader_through_many_chunks_to_eof() {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    let io = Arc::new(ScheduledIo::new());
    let (mut lp, watcher, expired) = driven(&a, &io);

    // A writer on the loop: one 16 KiB chunk per millisecond, then EOF.
    const CHUNKS: usize = 24;
    const CHUNK: usize = 16 * 1024;
    let expected: Vec<u8> = (0..CHUNKS * CHUNK).map(|i| (i % 251) as u8).collect();
    let mut rest = expected.clone();
    let mut peer = Some(b);
    let writer = lp.timer_new();
    lp.timer_start(writer, Duration::from_millis(1), Some(Duration::from_millis(1)), move |lp, me| {
        let Some(p) = peer.as_mut() else { return };
        let n = CHUNK.min(rest.len());
        p.write_all(&rest[..n]).unwrap();
        rest.drain(..n);
        if rest.is_empty() {
            p.shutdown(Shutdown::Write).unwrap();
            peer = None;
            lp.close(me.handle(), None);
        }
    })
    .unwrap();

    let (got, woken) = block_on(&mut lp, &expired, read_to_end(&io, &a));
    let got = got.unwrap();
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "bytes differ");
    // Parked at least once between chunks, and never woken more often than
    // the watcher saw edges (each wake is one set_readiness on a parked task).
    assert!((1..=CHUNKS + 1).contains(&woken), "woken {woken} times");
    assert!(io.readiness().is_read_closed(), "end of stream is latched for good");

    lp.close(watcher.handle(), None);
    assert!(!lp.run(RunMode::Default).unwrap());
    assert!(!expired.get());
}

#[test]
fn a_stale_clear_keeps_the_edge_that_arrived_after_the_read() {
    let (a, mut b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    let io = Arc::new(ScheduledIo::new());
    let (mut lp, watcher, _expired) = driven(&a, &io);
    let mut cx = Context::from_waker(Waker::noop());
    let mut buf = [0u8; 64];

    b.write_all(b"first").unwrap();
    lp.run(RunMode::NoWait).unwrap();
    let Poll::Ready(ev) = io.poll_ready(&mut cx, Direction::Read) else { panic!("no edge") };
    assert_eq!((&a).read(&mut buf).unwrap(), 5);
    assert_eq!((&a).read(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);

    // New data and its edge land between the failed read and the clear.
    b.write_all(b"second").unwrap();
    lp.run(RunMode::NoWait).unwrap();
    assert!(!io.clear_readiness(ev), "the tick moved: this clear must not erase the new edge");

    // The kernel will not repeat that edge, however long the data waits...
    let tick = io.tick();
    for _ in 0..3 {
        lp.run(RunMode::NoWait).unwrap();
    }
    assert_eq!(io.tick(), tick, "an edge watcher is silent while nothing changes");
    // ...but the latch still says readable, so the reader finds the data.
    let Poll::Ready(ev) = io.poll_ready(&mut cx, Direction::Read) else { panic!("edge lost") };
    assert_eq!((&a).read(&mut buf).unwrap(), 6);
    assert_eq!((&a).read(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    assert!(io.clear_readiness(ev));
    assert!(io.poll_ready(&mut cx, Direction::Read).is_pending());

    lp.close(watcher.handle(), None);
    assert!(!lp.run(RunMode::Default).unwrap());
}

#[test]
fn shutdown_wakes_a_parked_reader_with_an_error() {
    let (a, _b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    let io = Arc::new(ScheduledIo::new());
    let (mut lp, watcher, expired) = driven(&a, &io);

    // The driver goes away on the next turn: the watcher closes and every
    // waiter is told.
    let closer = io.clone();
    lp.timer_once(Duration::ZERO, move |lp, _| {
        lp.close(watcher.handle(), None);
        closer.shutdown();
    })
    .unwrap();

    let (out, woken) = block_on(&mut lp, &expired, read_to_end(&io, &a));
    assert_eq!(out.unwrap_err().to_string(), "driver shut down");
    assert_eq!(woken, 1);
    assert!(!lp.run(RunMode::Default).unwrap());
}

/// Where the backend cannot report edges, the driver falls back to level
/// triggering; the same reader still works (with more wake-ups).
#[test]
fn falls_back_to_level_on_poll() {
    let (a, mut b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    let io = Arc::new(ScheduledIo::new());
    let mut lp = Loop::with_backend(Backend::Poll).unwrap();
    let err = lp.io_start_with(a.as_raw_fd(), Interest::READABLE, Mode::Edge, driver(&io)).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::Unsupported);
    let watcher = lp.io_start(a.as_raw_fd(), Interest::READABLE, driver(&io)).unwrap();
    let expired = guard(&mut lp);

    b.write_all(b"level").unwrap();
    drop(b);
    let (got, _) = block_on(&mut lp, &expired, read_to_end(&io, &a));
    assert_eq!(got.unwrap(), b"level");
    lp.close(watcher.handle(), None);
    assert!(!lp.run(RunMode::Default).unwrap());
}
