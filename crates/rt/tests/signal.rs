//! `spindle_rt::signal`: real signals sent to this process with `kill`.
//!
//! Dispositions are per process and the tests of this file run in
//! parallel in one process, so each test listens for a signal no other
//! test sends.

mod rt_support;

use rt_support::{both, bounded, mt, rt};
use spindle_rt::signal::{ctrl_c, signal, Signal, SignalKind};
use spindle_rt::time::timeout;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(5);

/// Sends `signum` to this process (any thread may take it).
fn kill_self(signum: libc::c_int) {
    let pid = libc::pid_t::try_from(std::process::id()).expect("pid fits");
    // SAFETY: kill has no memory-safety preconditions; every test that
    // sends a signal has a listener (so a handler) installed first.
    let ret = unsafe { libc::kill(pid, signum) };
    assert_eq!(ret, 0, "kill: {}", io::Error::last_os_error());
}

/// Polls `future` once with a waker that does nothing.
fn poll_once<F: Future + ?Sized>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn a_signal_sent_to_the_process_wakes_a_listener_on_both_runtimes() {
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                let mut usr1 = signal(SignalKind::user_defined1()).expect("listen");
                kill_self(libc::SIGUSR1);
                let got = timeout(WAIT, usr1.recv()).await;
                assert_eq!(got, Ok(Some(())), "{name}: SIGUSR1 was not reported");
            });
        }
    });
}

/// A waker that records that it was called.
#[derive(Default)]
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn a_delivery_wakes_a_parked_listener_through_the_pipe() {
    let signum = libc::SIGRTMIN() + 6;
    bounded(move || {
        for (name, rt) in both() {
            rt.block_on(async {
                let mut sig = Signal::new(SignalKind::from_raw(signum)).expect("listen");
                let flag = Arc::new(Flag::default());
                let waker = Waker::from(flag.clone());
                let mut cx = Context::from_waker(&waker);
                assert_eq!(sig.poll_recv(&mut cx), Poll::Pending, "{name}: nothing delivered yet");
                // The handler runs now (or on another thread) and can only
                // reach the parked listener through the pipe and the driver.
                kill_self(signum);
                let woken = timeout(WAIT, async {
                    while !flag.0.load(Ordering::SeqCst) {
                        spindle_rt::yield_now().await;
                    }
                });
                assert!(woken.await.is_ok(), "{name}: the parked listener was never woken");
                assert_eq!(sig.poll_recv(&mut cx), Poll::Ready(Some(())), "{name}");
                assert_eq!(sig.poll_recv(&mut cx), Poll::Pending, "{name}: reported once");
            });
        }
    });
}

#[test]
fn a_signal_sent_from_another_thread_wakes_a_task_on_a_worker() {
    bounded(|| {
        let rt = mt(2);
        rt.block_on(async {
            let mut usr2 = Signal::new(SignalKind::user_defined2()).expect("listen");
            let waiter = spindle_rt::spawn(async move { timeout(WAIT, usr2.recv()).await });
            let sender = std::thread::spawn(|| kill_self(libc::SIGUSR2));
            assert_eq!(waiter.await.expect("the task ran"), Ok(Some(())));
            sender.join().expect("sender");
        });
    });
}

#[test]
fn every_listener_hears_one_delivery_even_on_two_runtimes() {
    let signum = libc::SIGRTMIN() + 1;
    bounded(move || {
        let kind = SignalKind::from_raw(signum);
        let other = mt(1);
        let mut far = other.block_on(async { Signal::new(kind) }).expect("listen on the other runtime");
        let rt = rt();
        rt.block_on(async {
            let mut a = Signal::new(kind).expect("listen");
            let mut b = Signal::new(kind).expect("listen");
            kill_self(signum);
            assert_eq!(timeout(WAIT, a.recv()).await, Ok(Some(())), "first listener");
            assert_eq!(timeout(WAIT, b.recv()).await, Ok(Some(())), "second listener");
        });
        let far_got = other.block_on(async move { timeout(WAIT, far.recv()).await });
        assert_eq!(far_got, Ok(Some(())), "listener on the other runtime");
    });
}

#[test]
fn deliveries_before_recv_are_kept_and_coalesce_into_one_report() {
    let signum = libc::SIGRTMIN() + 2;
    bounded(move || {
        rt().block_on(async {
            let mut sig = Signal::new(SignalKind::from_raw(signum)).expect("listen");
            assert_eq!(sig.kind().as_raw(), signum);
            for _ in 0..3 {
                kill_self(signum);
            }
            assert_eq!(timeout(WAIT, sig.recv()).await, Ok(Some(())));
            // Each later delivery is reported again.
            kill_self(signum);
            assert_eq!(timeout(WAIT, sig.recv()).await, Ok(Some(())));
        });
    });
}

#[test]
fn a_signal_before_the_listener_existed_is_not_reported() {
    let signum = libc::SIGRTMIN() + 3;
    bounded(move || {
        rt().block_on(async {
            let kind = SignalKind::from_raw(signum);
            let mut early = Signal::new(kind).expect("listen");
            kill_self(signum);
            assert_eq!(timeout(WAIT, early.recv()).await, Ok(Some(())));
            // Created after that delivery: nothing to report yet.
            let mut late = Signal::new(kind).expect("listen");
            let mut recv = pin!(late.recv());
            assert_eq!(poll_once(recv.as_mut()), Poll::Pending);
            kill_self(signum);
            assert_eq!(timeout(WAIT, recv).await, Ok(Some(())));
        });
    });
}

#[test]
fn ctrl_c_completes_on_sigint() {
    bounded(|| {
        rt().block_on(async {
            let mut stop = pin!(ctrl_c());
            // The first poll installs the handler; only then is SIGINT safe
            // to send to the test process.
            assert!(poll_once(stop.as_mut()).is_pending());
            kill_self(libc::SIGINT);
            let got = timeout(WAIT, stop).await.expect("ctrl_c completed in time");
            assert!(got.is_ok(), "ctrl_c: {got:?}");
        });
    });
}

#[test]
fn signals_that_cannot_be_taken_over_are_refused() {
    rt().block_on(async {
        for signum in
            [libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, 0, -1, 65, 1000]
        {
            let err = Signal::new(SignalKind::from_raw(signum)).expect_err("refused");
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "signal {signum}: {err}");
        }
    });
}

#[test]
fn a_listener_outliving_its_runtime_reports_none() {
    let signum = libc::SIGRTMIN() + 4;
    let runtime = rt();
    let mut sig = runtime.block_on(async { Signal::new(SignalKind::from_raw(signum)) }).expect("listen");
    drop(runtime);
    let mut recv = pin!(sig.recv());
    assert_eq!(poll_once(recv.as_mut()), Poll::Ready(None));
}

/// Whether this process catches `signum` (`SigCgt` in /proc/self/status).
fn caught(signum: libc::c_int) -> bool {
    let status = std::fs::read_to_string("/proc/self/status").expect("status");
    let mask = status.lines().find_map(|l| l.strip_prefix("SigCgt:")).expect("SigCgt line");
    let mask = u64::from_str_radix(mask.trim(), 16).expect("hex mask");
    mask & (1 << (signum - 1)) != 0
}

#[test]
fn a_listener_outside_a_runtime_panics_before_taking_the_signal_over() {
    let signum = libc::SIGRTMIN() + 5;
    let panic = std::panic::catch_unwind(|| Signal::new(SignalKind::from_raw(signum))).expect_err("panics");
    let msg = panic.downcast_ref::<String>().map(String::as_str).unwrap_or_default();
    assert!(msg.contains("runtime"), "{msg}");
    assert!(!caught(signum), "the handler was installed by a listener that never existed");
    // Inside a runtime the handler goes in, as the mask shows.
    rt().block_on(async { Signal::new(SignalKind::from_raw(signum)) }).expect("listen");
    assert!(caught(signum));
}
