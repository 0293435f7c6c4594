//! Loom models of the races the state machine exists for. Each is small
//! (two threads, a handful of atomic operations) so that every interleaving
//! is explored in seconds. Loom also reports any leaked `loom::sync::Arc`:
//! the scheduler clone in each cell is one, so a cell never freed fails the
//! model.

use super::{new_task, JoinHandle, Notified, Schedule, TaskId};
use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::{Arc, Mutex};
use crate::loom::thread;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Wake, Waker};

#[derive(Clone)]
struct Sched(Arc<Mutex<VecDeque<Notified<Sched>>>>);

impl Schedule for Sched {
    fn schedule(&self, task: Notified<Self>) {
        let mut queue = self.0.lock().unwrap();
        queue.push_back(task);
        assert!(queue.len() <= 1, "a task was queued twice");
    }
}

impl Sched {
    fn new() -> Sched {
        Sched(Arc::new(Mutex::new(VecDeque::new())))
    }

    fn run_all(&self) {
        loop {
            let next = self.0.lock().unwrap().pop_front();
            match next {
                Some(task) => task.run(),
                None => return,
            }
        }
    }
}

/// Counts drops of whatever holds it.
#[derive(Debug)]
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Ready once `flag` is set; registers its waker before checking the flag,
/// so a concurrent setter never loses the wake-up.
struct WaitFlag {
    flag: Arc<AtomicBool>,
    slot: Arc<Mutex<Option<Waker>>>,
    polls: Arc<AtomicUsize>,
    _drops: DropCount,
}

impl Future for WaitFlag {
    type Output = DropCount;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<DropCount> {
        self.polls.fetch_add(1, SeqCst);
        *self.slot.lock().unwrap() = Some(cx.waker().clone());
        if self.flag.load(SeqCst) {
            Poll::Ready(DropCount(self.polls.clone()))
        } else {
            Poll::Pending
        }
    }
}

/// A join waker that counts wakes.
struct CountWake(Arc<AtomicUsize>);

impl Wake for CountWake {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn poll_join<T>(join: &mut JoinHandle<T>, waker: &Waker) -> Poll<Result<T, super::JoinError>> {
    Pin::new(join).poll(&mut Context::from_waker(waker))
}

/// The output of a finished task.
fn join_now<T>(mut join: JoinHandle<T>) -> Result<T, super::JoinError> {
    match poll_join(&mut join, Waker::noop()) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the task has not finished"),
    }
}

#[test]
fn wake_from_another_thread_vs_poll_and_completion() {
    loom::model(|| {
        let sched = Sched::new();
        let flag = Arc::new(AtomicBool::new(false));
        let slot = Arc::new(Mutex::new(None::<Waker>));
        let polls = Arc::new(AtomicUsize::new(0));
        let drops = Arc::new(AtomicUsize::new(0));
        let future = WaitFlag {
            flag: flag.clone(),
            slot: slot.clone(),
            polls: polls.clone(),
            _drops: DropCount(drops.clone()),
        };
        let (task, notified, join) = new_task(future, sched.clone(), TaskId::next());
        drop(task);

        let waker_thread = thread::spawn(move || {
            flag.store(true, SeqCst);
            let waker = slot.lock().unwrap().take();
            if let Some(waker) = waker {
                waker.wake();
            }
        });
        notified.run();
        waker_thread.join().unwrap();
        sched.run_all();

        assert!(join.is_finished(), "the wake-up was lost");
        assert_eq!(drops.load(SeqCst), 1);
        let joined = join_now(join);
        assert!(joined.is_ok());
    });
}

#[test]
fn join_handle_drop_vs_completion() {
    loom::model(|| {
        let sched = Sched::new();
        let out_drops = Arc::new(AtomicUsize::new(0));
        let fut_drops = Arc::new(AtomicUsize::new(0));
        let (out, guard) = (DropCount(out_drops.clone()), DropCount(fut_drops.clone()));
        let future = async move {
            let _guard = guard;
            out
        };
        let (task, notified, join) = new_task(future, sched.clone(), TaskId::next());
        let runner = thread::spawn(move || {
            notified.run();
            drop(task);
        });
        drop(join);
        runner.join().unwrap();
        assert_eq!(out_drops.load(SeqCst), 1, "output dropped exactly once");
        assert_eq!(fut_drops.load(SeqCst), 1);
    });
}

#[test]
fn join_handle_poll_vs_completion() {
    loom::model(|| {
        let sched = Sched::new();
        let (task, notified, mut join) = new_task(async { 3 }, sched.clone(), TaskId::next());
        let runner = thread::spawn(move || {
            notified.run();
            drop(task);
        });
        let wakes = Arc::new(AtomicUsize::new(0));
        let waker = Waker::from(std::sync::Arc::new(CountWake(wakes.clone())));
        let first = poll_join(&mut join, &waker);
        runner.join().unwrap();
        match first {
            Poll::Ready(out) => assert_eq!(out.unwrap(), 3),
            Poll::Pending => {
                assert_eq!(wakes.load(SeqCst), 1, "the joiner was not woken");
                match poll_join(&mut join, &waker) {
                    Poll::Ready(out) => assert_eq!(out.unwrap(), 3),
                    Poll::Pending => panic!("woken but not ready"),
                }
            }
        }
    });
}

#[test]
fn abort_vs_run() {
    loom::model(|| {
        let sched = Sched::new();
        let fut_drops = Arc::new(AtomicUsize::new(0));
        let polls = Arc::new(AtomicUsize::new(0));
        let guard = DropCount(fut_drops.clone());
        let p2 = polls.clone();
        let future = async move {
            let _guard = guard;
            p2.fetch_add(1, SeqCst);
            std::future::pending::<()>().await;
        };
        let (task, notified, join) = new_task(future, sched.clone(), TaskId::next());
        let s2 = sched.clone();
        let runner = thread::spawn(move || {
            notified.run();
            s2.run_all();
        });
        join.abort();
        runner.join().unwrap();
        sched.run_all();
        assert_eq!(fut_drops.load(SeqCst), 1, "the future was dropped exactly once");
        assert!(polls.load(SeqCst) <= 1);
        assert!(task.is_finished());
        drop(task);
        assert!(join_now(join).unwrap_err().is_cancelled());
    });
}

/// An `AbortHandle` on another thread aborts while the task runs: the
/// future is dropped once, by a runner, and the join sees "cancelled".
#[test]
fn abort_handle_from_another_thread_vs_run() {
    loom::model(|| {
        let sched = Sched::new();
        let fut_drops = Arc::new(AtomicUsize::new(0));
        let guard = DropCount(fut_drops.clone());
        let future = async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        };
        let (task, notified, join) = new_task(future, sched.clone(), TaskId::next());
        drop(task);
        let abort = join.abort_handle();
        let aborter = thread::spawn(move || abort.abort());
        notified.run();
        aborter.join().unwrap();
        sched.run_all();
        assert_eq!(fut_drops.load(SeqCst), 1, "the future was dropped exactly once");
        assert!(join_now(join).unwrap_err().is_cancelled());
    });
}

/// The `AbortHandle` may hold the last reference: dropped on its own
/// thread while the runner and the `JoinHandle` let go of theirs, the cell
/// is freed exactly once (loom reports the scheduler `Arc` inside a cell
/// never freed).
#[test]
fn abort_handle_drop_vs_run_and_join_handle_drop() {
    loom::model(|| {
        let sched = Sched::new();
        let fut_drops = Arc::new(AtomicUsize::new(0));
        let guard = DropCount(fut_drops.clone());
        let future = async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        };
        let (task, notified, join) = new_task(future, sched.clone(), TaskId::next());
        drop(task);
        let abort = join.abort_handle();
        let aborter = thread::spawn(move || {
            abort.abort();
            drop(abort);
        });
        notified.run();
        drop(join);
        aborter.join().unwrap();
        sched.run_all();
        assert_eq!(fut_drops.load(SeqCst), 1, "the future was dropped exactly once");
    });
}

#[test]
fn shutdown_vs_wake() {
    loom::model(|| {
        let sched = Sched::new();
        let flag = Arc::new(AtomicBool::new(false));
        let slot = Arc::new(Mutex::new(None::<Waker>));
        let polls = Arc::new(AtomicUsize::new(0));
        let drops = Arc::new(AtomicUsize::new(0));
        let future = WaitFlag {
            flag: flag.clone(),
            slot: slot.clone(),
            polls: polls.clone(),
            _drops: DropCount(drops.clone()),
        };
        let (task, notified, join) = new_task(future, sched.clone(), TaskId::next());
        notified.run();
        let waker = slot.lock().unwrap().take().unwrap();
        let waker_thread = thread::spawn(move || waker.wake());
        task.shutdown();
        waker_thread.join().unwrap();
        // A Notified queued by the wake finds the task complete.
        sched.run_all();
        assert_eq!(drops.load(SeqCst), 1);
        assert_eq!(polls.load(SeqCst), 1);
        assert!(join_now(join).unwrap_err().is_cancelled());
    });
}

#[test]
fn concurrent_wakes_push_once() {
    loom::model(|| {
        let sched = Sched::new();
        let flag = Arc::new(AtomicBool::new(false));
        let slot = Arc::new(Mutex::new(None::<Waker>));
        let polls = Arc::new(AtomicUsize::new(0));
        let drops = Arc::new(AtomicUsize::new(0));
        let future = WaitFlag {
            flag: flag.clone(),
            slot: slot.clone(),
            polls: polls.clone(),
            _drops: DropCount(drops.clone()),
        };
        let (task, notified, join) = new_task(future, sched.clone(), TaskId::next());
        notified.run();
        let waker = slot.lock().unwrap().take().unwrap();
        let w2 = waker.clone();
        // Two wakes race, by value and by reference; the queue asserts that
        // it never holds the task twice.
        let other = thread::spawn(move || waker.wake());
        w2.wake_by_ref();
        other.join().unwrap();
        assert_eq!(sched.0.lock().unwrap().len(), 1, "pushed exactly once");
        drop(w2);
        sched.run_all();
        assert_eq!(polls.load(SeqCst), 2);
        drop(slot.lock().unwrap().take());
        task.shutdown();
        assert_eq!(drops.load(SeqCst), 1);
        assert!(join_now(join).unwrap_err().is_cancelled());
        drop(flag);
    });
}
