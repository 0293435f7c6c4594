//! Lazy free: big values are freed on a background thread.
//!
//! Deleting a key holding a million-element set means a million `free`
//! calls. On the one thread that runs every command, that is a pause every
//! client sees. Redis 4 added UNLINK and `FLUSHALL ASYNC`: the key leaves
//! the keyspace at once (so the command is still atomic) and the value is
//! handed to a background thread that frees it. Small values are cheaper to
//! free in place than to hand over, so only values with more than
//! [`LAZYFREE_THRESHOLD`] elements take the trip, as in Redis.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

/// Values with more elements than this are freed in the background.
pub const LAZYFREE_THRESHOLD: usize = 64;

type Garbage = Box<dyn Send>;

#[derive(Default)]
struct Counters {
    pending: AtomicUsize,
    freed: AtomicU64,
}

/// The lazy-free thread and its queue.
pub struct LazyFree {
    tx: Option<mpsc::Sender<Garbage>>,
    counters: Arc<Counters>,
    thread: Option<JoinHandle<()>>,
}

impl LazyFree {
    /// Starts the background thread.
    pub fn new() -> LazyFree {
        let (tx, rx) = mpsc::channel::<Garbage>();
        let counters = Arc::new(Counters::default());
        let c = counters.clone();
        // Blocking signals in the thread keeps a SIGTERM for the loop from
        // landing here, where its default action would kill the process.
        let thread = spindle_loop::with_async_signals_blocked(|| {
            std::thread::Builder::new().name("spindle-lazyfree".into()).spawn(move || {
                for garbage in rx {
                    drop(garbage);
                    c.pending.fetch_sub(1, Ordering::Relaxed);
                    c.freed.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .ok();
        LazyFree { tx: thread.as_ref().map(|_| tx), counters, thread }
    }

    /// Frees `v` on the background thread (or here, if the thread could
    /// not be started).
    pub fn free<T: Send + 'static>(&self, v: T) {
        match &self.tx {
            Some(tx) => {
                self.counters.pending.fetch_add(1, Ordering::Relaxed);
                if let Err(mpsc::SendError(g)) = tx.send(Box::new(v)) {
                    self.counters.pending.fetch_sub(1, Ordering::Relaxed);
                    drop(g);
                }
            }
            None => drop(v),
        }
    }

    /// Objects queued and not yet freed (INFO's `lazyfree_pending_objects`).
    pub fn pending(&self) -> usize {
        self.counters.pending.load(Ordering::Relaxed)
    }

    /// Objects freed in the background so far (INFO's `lazyfreed_objects`).
    pub fn freed(&self) -> u64 {
        self.counters.freed.load(Ordering::Relaxed)
    }
}

impl Default for LazyFree {
    fn default() -> LazyFree {
        LazyFree::new()
    }
}

impl Drop for LazyFree {
    fn drop(&mut self) {
        // Closing the channel ends the thread once the queue is drained.
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    struct Flag(Arc<std::sync::atomic::AtomicBool>);
    impl Drop for Flag {
        fn drop(&mut self) {
            assert_eq!(std::thread::current().name(), Some("spindle-lazyfree"));
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn values_are_dropped_on_the_background_thread() {
        let lf = LazyFree::new();
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        lf.free(Flag(done.clone()));
        let deadline = Instant::now() + Duration::from_secs(10);
        while lf.freed() < 1 {
            assert!(Instant::now() < deadline, "the lazy-free thread did not free the value");
            std::thread::yield_now();
        }
        assert!(done.load(Ordering::SeqCst));
        assert_eq!(lf.pending(), 0);
    }
}
