//! Signal handles: several handlers per signal, blocking and unblocking,
//! bad input, keeping the loop alive.
//!
//! Signals are sent with `raise`, which in a threaded program targets the
//! calling thread only (`tgkill`), so tests running in parallel threads of
//! this binary never receive each other's signals. The tests still take one
//! lock, because blocking a signal is per-thread state the assertions read.

mod common;
use common::run_bounded;
use spindle_loop::{HandleId, Loop, RunMode};
use std::cell::RefCell;
use std::io::ErrorKind;
use std::rc::Rc;
use std::sync::Mutex;
use std::time::Duration;

static SERIAL: Mutex<()> = Mutex::new(());

fn raise(signum: i32) {
    // SAFETY: raise only sends a signal to the calling thread; the tests
    // block it first by starting a handle.
    assert_eq!(unsafe { libc::raise(signum) }, 0);
}

/// Whether the calling thread blocks `signum`.
fn is_blocked(signum: i32) -> bool {
    // SAFETY: an all-zero sigset_t is valid storage for pthread_sigmask's
    // output; a null new set only queries.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        assert_eq!(libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut set), 0);
        libc::sigismember(&set, signum) == 1
    }
}

fn set_blocked(signum: i32, block: bool) {
    // SAFETY: as in is_blocked; the set is initialised by sigemptyset.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signum);
        let how = if block { libc::SIG_BLOCK } else { libc::SIG_UNBLOCK };
        assert_eq!(libc::pthread_sigmask(how, &set, std::ptr::null_mut()), 0);
    }
}

type Log = Rc<RefCell<Vec<(&'static str, i32)>>>;

fn logger(log: &Log, name: &'static str) -> impl FnMut(&mut Loop, spindle_loop::SignalId, i32) + 'static {
    let log = log.clone();
    move |lp, id, signum| {
        log.borrow_mut().push((name, signum));
        lp.close(id.handle(), None);
    }
}

#[test]
fn two_handlers_for_one_signal_both_run_in_start_order() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut lp = Loop::new().unwrap();
    let log: Log = Rc::default();
    lp.signal_start(libc::SIGUSR1, logger(&log, "a")).unwrap();
    lp.signal_start(libc::SIGUSR1, logger(&log, "b")).unwrap();
    assert!(is_blocked(libc::SIGUSR1));
    raise(libc::SIGUSR1);
    run_bounded(&mut lp);
    assert_eq!(*log.borrow(), [("a", libc::SIGUSR1), ("b", libc::SIGUSR1)]);
    assert!(!is_blocked(libc::SIGUSR1), "the last handle restores the thread's mask");
}

#[test]
fn signal_raised_from_a_callback_is_delivered() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut lp = Loop::new().unwrap();
    let log: Log = Rc::default();
    lp.signal_start(libc::SIGUSR2, logger(&log, "usr2")).unwrap();
    lp.timer_once(Duration::from_millis(1), |_, _| raise(libc::SIGUSR2)).unwrap();
    run_bounded(&mut lp);
    assert_eq!(*log.borrow(), [("usr2", libc::SIGUSR2)]);
}

#[test]
fn handlers_of_different_signals_get_their_own() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut lp = Loop::new().unwrap();
    let log: Log = Rc::default();
    lp.signal_start(libc::SIGUSR1, logger(&log, "usr1")).unwrap();
    lp.signal_start(libc::SIGUSR2, logger(&log, "usr2")).unwrap();
    raise(libc::SIGUSR2);
    lp.run(RunMode::Once).unwrap();
    assert_eq!(*log.borrow(), [("usr2", libc::SIGUSR2)]);
    raise(libc::SIGUSR1);
    run_bounded(&mut lp);
    assert_eq!(*log.borrow(), [("usr2", libc::SIGUSR2), ("usr1", libc::SIGUSR1)]);
}

/// The handle holding the signalfd's registration is closed first; the
/// remaining handle must still hear its signal.
#[test]
fn closing_the_first_handle_keeps_delivery_for_the_rest() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut lp = Loop::new().unwrap();
    let log: Log = Rc::default();
    let first = lp.signal_start(libc::SIGUSR1, logger(&log, "first")).unwrap();
    lp.signal_start(libc::SIGUSR2, logger(&log, "second")).unwrap();
    lp.close(first.handle(), None);
    assert!(!is_blocked(libc::SIGUSR1));
    assert!(is_blocked(libc::SIGUSR2));
    raise(libc::SIGUSR2);
    run_bounded(&mut lp);
    assert_eq!(*log.borrow(), [("second", libc::SIGUSR2)]);
}

/// A callback that stops a later handler of the same signal stops it for
/// this delivery too.
#[test]
fn a_handler_stopped_by_an_earlier_one_does_not_run() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut lp = Loop::new().unwrap();
    let log: Log = Rc::default();
    let victim: Rc<RefCell<Option<spindle_loop::SignalId>>> = Rc::default();
    let (l, v) = (log.clone(), victim.clone());
    lp.signal_start(libc::SIGUSR1, move |lp, id, s| {
        l.borrow_mut().push(("killer", s));
        let v = v.borrow_mut().take().unwrap();
        lp.signal_stop(v);
        lp.close(v.handle(), None);
        lp.close(id.handle(), None);
    })
    .unwrap();
    *victim.borrow_mut() = Some(lp.signal_start(libc::SIGUSR1, logger(&log, "victim")).unwrap());
    raise(libc::SIGUSR1);
    run_bounded(&mut lp);
    assert_eq!(*log.borrow(), [("killer", libc::SIGUSR1)]);
}

#[test]
fn real_time_signals_queue() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut lp = Loop::new().unwrap();
    let rt = libc::SIGRTMIN() + 1;
    let count = Rc::new(RefCell::new(0));
    let c = count.clone();
    lp.signal_start(rt, move |lp, id, _| {
        *c.borrow_mut() += 1;
        if *c.borrow() == 3 {
            lp.close(id.handle(), None);
        }
    })
    .unwrap();
    raise(rt);
    raise(rt);
    raise(rt);
    run_bounded(&mut lp);
    assert_eq!(*count.borrow(), 3);
}

#[test]
fn a_signal_blocked_before_stays_blocked_after() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    set_blocked(libc::SIGUSR2, true);
    let mut lp = Loop::new().unwrap();
    let h = lp.signal_start(libc::SIGUSR2, |_, _, _| {}).unwrap();
    lp.signal_stop(h);
    assert!(!lp.is_active(h.handle()));
    assert!(is_blocked(libc::SIGUSR2));
    lp.close(h.handle(), None);
    run_bounded(&mut lp);
    set_blocked(libc::SIGUSR2, false);
}

/// A signal that arrives after the handle's last read but before it stops
/// must not reach the default disposition (which would end this process).
#[test]
fn unread_signals_are_discarded_when_the_last_handle_stops() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut lp = Loop::new().unwrap();
    let h = lp.signal_start(libc::SIGUSR1, |_, _, _| panic!("never read")).unwrap();
    raise(libc::SIGUSR1);
    lp.close(h.handle(), None);
    assert!(!is_blocked(libc::SIGUSR1));
    run_bounded(&mut lp);
}

#[test]
fn bad_signal_numbers_are_rejected() {
    let mut lp = Loop::new().unwrap();
    for bad in [0, -1, 65, 1000, libc::SIGKILL, libc::SIGSTOP, 32] {
        let e = lp.signal_start(bad, |_, _, _| {}).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "signal {bad}: {e}");
    }
    let e = lp.signal_start(libc::SIGKILL, |_, _, _| {}).unwrap_err();
    assert!(e.to_string().contains("SIGKILL"), "{e}");
    let e = lp.signal_start(99, |_, _, _| {}).unwrap_err();
    assert!(e.to_string().contains("out of range"), "{e}");
    assert!(lp.handles().is_empty(), "a refused start leaves no handle behind");
    assert!(!lp.alive());
}

#[test]
fn signal_handles_keep_the_loop_alive_unless_unrefd() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut lp = Loop::new().unwrap();
    let h = lp.signal_start(libc::SIGUSR1, |_, _, _| {}).unwrap();
    assert!(lp.alive());
    lp.unref(h.handle());
    assert!(!lp.alive());
    // Returns at once: nothing keeps it running.
    assert!(!lp.run(RunMode::Default).unwrap());
    let closed: Rc<RefCell<Option<HandleId>>> = Rc::default();
    let c = closed.clone();
    lp.close(h.handle(), Some(Box::new(move |_, id| *c.borrow_mut() = Some(id))));
    run_bounded(&mut lp);
    assert_eq!(*closed.borrow(), Some(h.handle()));
}

#[test]
fn dropping_the_loop_restores_the_mask() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut lp = Loop::new().unwrap();
    lp.signal_start(libc::SIGUSR1, |_, _, _| {}).unwrap();
    assert!(is_blocked(libc::SIGUSR1));
    drop(lp);
    assert!(!is_blocked(libc::SIGUSR1));
}
