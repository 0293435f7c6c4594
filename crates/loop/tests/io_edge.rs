//! IO watchers in the poller's other modes: edge, oneshot and exclusive
//! through `Loop::io_start_with`, and their refusal on poll and select.

use spindle_loop::{Backend, Event, Interest, IoId, Loop, RunMode};
use spindle_poll::Mode;
use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;

type Seen = Rc<RefCell<Vec<Event>>>;

fn pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    (a, b)
}

/// Starts a watcher that records every event it gets.
fn watch(lp: &mut Loop, fd: &UnixStream, interest: Interest, mode: Mode) -> io::Result<(IoId, Seen)> {
    let seen: Seen = Rc::default();
    let s = seen.clone();
    let id = lp.io_start_with(fd.as_raw_fd(), interest, mode, move |_, _, ev| s.borrow_mut().push(ev))?;
    Ok((id, seen))
}

fn spin(lp: &mut Loop, times: usize) {
    for _ in 0..times {
        lp.run(RunMode::NoWait).unwrap();
    }
}

/// Closes `id` and checks that the loop then winds down with nothing left.
fn close_cleanly(mut lp: Loop, id: IoId) {
    lp.close(id.handle(), None);
    assert!(!lp.run(RunMode::Default).unwrap());
    assert!(lp.handles().is_empty());
}

#[test]
fn edge_watcher_fires_once_per_change_not_while_data_stays() {
    let mut lp = Loop::with_backend(Backend::Epoll).unwrap();
    let (a, mut b) = pair();
    let (id, seen) = watch(&mut lp, &a, Interest::READABLE, Mode::Edge).unwrap();

    b.write_all(b"one").unwrap();
    spin(&mut lp, 1);
    assert_eq!(seen.borrow().len(), 1);
    assert!(seen.borrow()[0].is_readable());

    // The data stays unread: a level watcher would fire on every iteration.
    spin(&mut lp, 4);
    assert_eq!(seen.borrow().len(), 1, "no new edge while nothing changed");

    b.write_all(b"two").unwrap();
    spin(&mut lp, 1);
    assert_eq!(seen.borrow().len(), 2, "new data is a new edge");
    spin(&mut lp, 3);
    assert_eq!(seen.borrow().len(), 2);

    // Drain to WouldBlock, as an edge user must.
    let mut buf = [0u8; 64];
    let mut got = Vec::new();
    loop {
        match (&a).read(&mut buf) {
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(got, b"onetwo");
    close_cleanly(lp, id);
}

#[test]
fn level_watcher_still_fires_on_every_iteration() {
    let mut lp = Loop::with_backend(Backend::Epoll).unwrap();
    let (a, mut b) = pair();
    let seen: Seen = Rc::default();
    let s = seen.clone();
    let id = lp.io_start(a.as_raw_fd(), Interest::READABLE, move |_, _, ev| s.borrow_mut().push(ev)).unwrap();
    b.write_all(b"x").unwrap();
    spin(&mut lp, 3);
    assert_eq!(seen.borrow().len(), 3);
    close_cleanly(lp, id);
}

fn oneshot_rearms_with_set_interest(backend: Backend) {
    let mut lp = Loop::with_backend(backend).unwrap();
    let (a, mut b) = pair();
    let (id, seen) = watch(&mut lp, &a, Interest::READABLE, Mode::Oneshot).unwrap();

    b.write_all(b"x").unwrap();
    spin(&mut lp, 3);
    assert_eq!(seen.borrow().len(), 1, "one event, then disarmed although data stays");

    // Same interest: nothing to reconcile, yet the registration is re-armed.
    lp.io_set_interest(id, Interest::READABLE).unwrap();
    spin(&mut lp, 3);
    assert_eq!(seen.borrow().len(), 2, "re-armed once, fired once");

    // A new interest re-arms too.
    lp.io_set_interest(id, Interest::BOTH).unwrap();
    spin(&mut lp, 2);
    assert_eq!(seen.borrow().len(), 3);
    let last = seen.borrow()[2];
    assert!(last.is_readable() && last.is_writable(), "{last:?}");
    close_cleanly(lp, id);
}

#[test]
fn oneshot_rearms_with_set_interest_on_epoll() {
    oneshot_rearms_with_set_interest(Backend::Epoll);
}

#[test]
fn oneshot_rearms_with_set_interest_on_poll() {
    oneshot_rearms_with_set_interest(Backend::Poll);
}

#[test]
fn oneshot_rearms_with_set_interest_on_select() {
    oneshot_rearms_with_set_interest(Backend::Select);
}

#[test]
fn oneshot_stop_then_set_interest_does_not_rearm() {
    let mut lp = Loop::with_backend(Backend::Epoll).unwrap();
    let (a, mut b) = pair();
    let (id, seen) = watch(&mut lp, &a, Interest::READABLE, Mode::Oneshot).unwrap();
    b.write_all(b"x").unwrap();
    lp.io_stop(id).unwrap();
    spin(&mut lp, 2);
    assert!(seen.borrow().is_empty());
    close_cleanly(lp, id);
}

#[test]
fn exclusive_watcher_changes_interest_by_delete_and_add() {
    let mut lp = Loop::with_backend(Backend::Epoll).unwrap();
    let (a, _b) = pair();
    let (id, seen) = watch(&mut lp, &a, Interest::READABLE, Mode::Exclusive).unwrap();
    spin(&mut lp, 1);
    assert!(seen.borrow().is_empty(), "nothing to read yet");
    lp.io_set_interest(id, Interest::WRITABLE).unwrap();
    spin(&mut lp, 1);
    assert_eq!(seen.borrow().len(), 1);
    assert!(seen.borrow()[0].is_writable());
    close_cleanly(lp, id);
}

#[test]
fn edge_and_exclusive_are_refused_on_poll_and_select_without_a_trace() {
    for backend in [Backend::Poll, Backend::Select] {
        for mode in [Mode::Edge, Mode::Exclusive] {
            let mut lp = Loop::with_backend(backend).unwrap();
            let (a, _b) = pair();
            let err = watch(&mut lp, &a, Interest::READABLE, mode).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::Unsupported, "{backend:?} {mode:?}: {err}");
            assert!(err.to_string().contains("Mode::Level"), "the message names the fallback: {err}");
            assert!(lp.handles().is_empty(), "{backend:?} {mode:?}: a handle was left behind");
            assert!(!lp.alive());

            // The caller falls back to level on the same descriptor.
            let (id, _) = watch(&mut lp, &a, Interest::READABLE, Mode::Level).unwrap();
            close_cleanly(lp, id);
        }
    }
}
