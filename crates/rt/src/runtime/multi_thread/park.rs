//! Parking a worker: on the shared netpoller if it is free, else on a
//! condition variable; and unparking it from any thread.
//!
//! Go parks an idle M on a futex (`notesleep`), except that one idle M at a
//! time blocks in the netpoller (`netpoll(delay)`) so that network events
//! and timers wake the scheduler. The same here: a worker with nothing to
//! do tries the driver lock; the winner sleeps in the poller's `wait` with
//! a timeout for the next timer, and the others sleep on their condvars. An
//! unpark knows which kind of sleep to break by the parker's state: it
//! notifies the condvar, or writes the poller's eventfd.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::{Condvar, Mutex};
use std::sync::{Arc, PoisonError};

const EMPTY: usize = 0;
const PARKED_CONDVAR: usize = 1;
const PARKED_DRIVER: usize = 2;
const NOTIFIED: usize = 3;

/// One P's parker: whoever runs the P sleeps here; anyone unparks.
pub(crate) struct Parker {
    state: AtomicUsize,
    lock: Mutex<()>,
    cvar: Condvar,
    /// Breaks a sleep in the driver's poller.
    driver_waker: Arc<spindle_poll::Waker>,
}

impl Parker {
    pub(crate) fn new(driver_waker: Arc<spindle_poll::Waker>) -> Parker {
        Parker { state: AtomicUsize::new(EMPTY), lock: Mutex::new(()), cvar: Condvar::new(), driver_waker }
    }

    /// Sleeps until [`unpark`](Parker::unpark) (returns at once if it came
    /// first). `drive`, if given, is the driver's turn: it is called with
    /// the parker marked as sleeping in the driver, and must block in the
    /// poller until an event, a timer or the poller's waker.
    pub(crate) fn park(&self, drive: Option<&mut dyn FnMut()>) {
        if self.state.compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst).is_ok() {
            return;
        }
        if let Some(drive) = drive {
            if self.state.compare_exchange(EMPTY, PARKED_DRIVER, SeqCst, SeqCst).is_err() {
                // Notified meanwhile.
                self.state.store(EMPTY, SeqCst);
                return;
            }
            drive();
            // Woken by an event, a timer, or an unpark (NOTIFIED): all the
            // same to the caller, which looks for work either way.
            self.state.store(EMPTY, SeqCst);
            return;
        }
        let mut guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        if self.state.compare_exchange(EMPTY, PARKED_CONDVAR, SeqCst, SeqCst).is_err() {
            self.state.store(EMPTY, SeqCst);
            return;
        }
        loop {
            guard = self.cvar.wait(guard).unwrap_or_else(PoisonError::into_inner);
            if self.state.compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst).is_ok() {
                return;
            }
            // Spurious wake-up: sleep again.
        }
    }

    /// Wakes the P's worker if it sleeps, or makes its next `park` return
    /// at once.
    pub(crate) fn unpark(&self) {
        match self.state.swap(NOTIFIED, SeqCst) {
            PARKED_CONDVAR => {
                // Taking the lock orders this notify after the sleeper's
                // `wait` began (it holds the lock until then).
                drop(self.lock.lock().unwrap_or_else(PoisonError::into_inner));
                self.cvar.notify_one();
            }
            PARKED_DRIVER => self.driver_waker.wake(),
            _ => {}
        }
    }
}
